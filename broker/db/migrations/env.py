"""Alembic environment: runs online against the engine handed over in ``config.attributes``."""

from alembic import context
from sqlalchemy import create_engine

from broker.db.models import Base

config = context.config


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        # Plain `alembic` command line use: the URL comes from alembic.ini / -x url=...
        url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
            "sqlalchemy.url"
        )
        engine = create_engine(url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
