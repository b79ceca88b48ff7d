"""The skip reason of the PostgreSQL test variants says which of two fixes a developer needs: start a
server, or create database ``test`` on the one that runs (issue 20, item 11)."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from tests.conftest import POSTGRES_URL, postgres_problem, require_postgres
from tests.helpers import free_port


@pytest.mark.postgres
def test_a_missing_database_is_told_apart_from_a_missing_server(postgres_reachable, monkeypatch):
    require_postgres(postgres_reachable)
    monkeypatch.delenv("VVA_REQUIRE_POSTGRES", raising=False)
    address = make_url(POSTGRES_URL)
    no_database = address.set(database="vva_bestaat_niet").render_as_string(hide_password=False)
    with pytest.raises(pytest.skip.Exception) as skip:
        require_postgres(False, no_database)
    assert str(skip.value.msg) == (
        f"PostgreSQL at {address.host}:{address.port} is up, but database `vva_bestaat_niet` does not exist "
        f"(create it: createdb -h {address.host} -p {address.port} -U {address.username} vva_bestaat_niet)"
    )

    port = free_port()  # nothing listens there
    no_server = address.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    with pytest.raises(pytest.skip.Exception) as skip:
        require_postgres(False, no_server)
    assert skip.value.msg.startswith(f"PostgreSQL server not reachable at 127.0.0.1:{port} (")
    assert "does not exist" not in skip.value.msg
    assert postgres_problem(POSTGRES_URL) is None
