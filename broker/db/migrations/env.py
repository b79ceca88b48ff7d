"""Alembic environment: runs online against the engine handed over in ``config.attributes``.

Every migration of one run goes in one transaction, on SQLite too: a run that fails or is killed
part-way leaves the database exactly as it was, and the next run starts from there (hostile review
of migrations 0017/0018, ``tests/db/test_migration_is_one_transaction.py``).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy import Connection, create_engine

from broker.db.models import Base

config = context.config


@contextmanager
def _one_transaction(connection: Connection) -> Iterator[None]:
    """The run's transaction; on SQLite with CREATE, DROP and ALTER in it too.

    Python's sqlite3 opens a transaction only before an INSERT, UPDATE or DELETE, so a CREATE TABLE or
    DROP TRIGGER before the first of those is committed on its own and stays when the run fails. With
    the driver's own transaction handling off (``isolation_level = None``) and BEGIN sent here, the
    whole run is one SQLite transaction that SQLAlchemy's commit or rollback ends (SQLAlchemy's
    documented recipe for pysqlite). The connection goes back to the pool as it came.
    """
    if connection.dialect.name != "sqlite":
        with connection.begin():
            yield
        return
    driver_connection = connection.connection.driver_connection
    before = driver_connection.isolation_level
    driver_connection.isolation_level = None
    try:
        with connection.begin():
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now, not at the first write
            yield
    finally:
        driver_connection.isolation_level = before


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        # Plain `alembic` command line use: the URL comes from alembic.ini / -x url=...
        url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
            "sqlalchemy.url"
        )
        engine = create_engine(url)
    with engine.connect() as connection, _one_transaction(connection):
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
