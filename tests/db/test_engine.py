"""The PostgreSQL connection pool (broker.db.engine): a pooled connection that died while idle — a
restarted server, a dropped TCP session — is replaced before a request uses it, without a liveness
ping on every checkout (issue 8: the ping was a round trip per transaction)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from broker.db import engine as engine_module
from broker.db.engine import make_engine
from tests.conftest import POSTGRES_URL, postgres_schema, require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def pool(postgres_reachable):
    """A broker engine on a fresh schema, with one pooled connection that was used and given back;
    yields (engine, that connection's backend pid, a function that terminates a backend)."""
    require_postgres(postgres_reachable)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def terminate(pid: int) -> None:
        with admin.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()

    with postgres_schema() as url:
        engine = make_engine(url)
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        try:
            yield engine, pid, terminate
        finally:
            engine.dispose()
            admin.dispose()


def test_an_idle_connection_that_died_is_replaced_before_use(pool, monkeypatch) -> None:
    engine, pid, terminate = pool
    terminate(pid)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)  # as if it sat idle for longer than that

    with engine.connect() as connection:
        new_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()

    assert new_pid != pid


def test_a_recently_used_connection_is_not_pinged(pool) -> None:
    engine, pid, terminate = pool
    pings: list[object] = []
    monkey = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: (
        pings.append(dbapi_connection) or monkey(dbapi_connection)
    )

    for _ in range(3):
        with engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() == pid

    assert pings == []
    # The control: the same death of a busy connection is only noticed when it is used — the request
    # in flight fails retryably (the pipeline answers DK0051) and the pool starts afresh.
    terminate(pid)
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid
