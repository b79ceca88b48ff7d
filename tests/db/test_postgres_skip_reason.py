"""The skip reason of the PostgreSQL test variants says which of two fixes a developer needs: start a
server, or create database ``test`` on the one that runs (issue 20, item 11)."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from tests.conftest import POSTGRES_URL, postgres_problem, vereis_postgres
from tests.helpers import vrije_poort


@pytest.mark.postgres
def test_a_missing_database_is_told_apart_from_a_missing_server(postgres_bereikbaar, monkeypatch):
    vereis_postgres(postgres_bereikbaar)
    monkeypatch.delenv("VVA_REQUIRE_POSTGRES", raising=False)
    adres = make_url(POSTGRES_URL)
    geen_database = adres.set(database="vva_bestaat_niet").render_as_string(hide_password=False)
    with pytest.raises(pytest.skip.Exception) as skip:
        vereis_postgres(False, geen_database)
    assert str(skip.value.msg) == (
        f"PostgreSQL at {adres.host}:{adres.port} is up, but database `vva_bestaat_niet` does not exist "
        f"(create it: createdb -h {adres.host} -p {adres.port} -U {adres.username} vva_bestaat_niet)"
    )

    poort = vrije_poort()  # nothing listens there
    geen_server = adres.set(host="127.0.0.1", port=poort).render_as_string(hide_password=False)
    with pytest.raises(pytest.skip.Exception) as skip:
        vereis_postgres(False, geen_server)
    assert skip.value.msg.startswith(f"PostgreSQL server not reachable at 127.0.0.1:{poort} (")
    assert "does not exist" not in skip.value.msg
    assert postgres_problem(POSTGRES_URL) is None
