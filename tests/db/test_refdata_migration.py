"""Upgrading a database that already holds reference data and parties to reference data per cycle
(migrations 0014 and 0015, issue 15): every row is carried over to one cycle, the one whose reference
data then hold, so no gemeente, school or party is lost by the upgrade."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from broker.db.engine import make_engine, make_session_factory
from broker.db.migrate import upgrade
from broker.refdata.lookup import active_brins, refdata_year
from broker.registry.repository import contact_overrides


def _database_at_0013(database_url: str, cycli: list[tuple[int, bool]]):
    """A database at revision 0013 with reference data loaded over two years (rows changed in 2026
    have geldig_vanaf_cyclus 2026, unchanged ones keep 2025), two parties and the given cycles
    (year, closed)."""
    engine = make_engine(database_url)
    upgrade(engine, "0013")
    with engine.begin() as connection:
        for year, closed in cycli:
            connection.execute(
                text("INSERT INTO cyclus (jaar, deadline, gesloten_op) VALUES (:j, :d, :g)"),
                {"j": year, "d": date(year, 4, 1), "g": "2026-10-01 00:00:00+00:00" if closed else None},
            )
        connection.execute(
            text(
                "INSERT INTO rmc_regio (code, naam, geldig_vanaf_cyclus) VALUES "
                "('21', 'Agglomeratie Amsterdam', 2025), ('3', 'Groningen', 2026)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO gemeente (code, naam, rmc_regio, geldig_vanaf_cyclus) VALUES "
                "('0363', 'AMSTERDAM', '21', 2025), ('0384', 'DIEMEN', '21', 2025), "
                "('0014', 'GRONINGEN', '3', 2026)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO instelling (brin, sector, naam, gemeentecode, rmc_regio, geldig_vanaf_cyclus) "
                "VALUES ('99XA', 'vo', 'School A', '0363', '21', 2025), "
                "('99XB', 'mbo', 'ROC B', '0363', '21', 2026)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO vestiging (code, brin, naam, gemeentecode, rmc_regio, geldig_vanaf_cyclus) "
                "VALUES ('99XA00', '99XA', 'School A', '0363', '21', 2025)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO partij (oin, soort, naam, actief) VALUES "
                "('00000099000000000001', 'vo-school', 'School A', true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO partij_scope (partij_oin, soort, waarde) VALUES "
                "('00000099000000000001', 'brin', '99XA')"
            )
        )
    return engine


@pytest.mark.parametrize(
    "cycli",
    [
        pytest.param([(2025, True), (2026, False)], id="current-cycle-open"),
        pytest.param([(2025, True)], id="no-open-cycle"),
        pytest.param([], id="no-cycle-at-all"),
    ],
)
def test_upgrade_from_0013_carries_every_reference_row_into_one_cycle(database_url, cycli):
    engine = _database_at_0013(database_url, cycli)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            years = {
                table: set(connection.scalars(text(f"SELECT DISTINCT cyclus_jaar FROM {table}")))
                for table in ("rmc_regio", "gemeente", "instelling", "vestiging")
            }
            assert years == {table: {2026} for table in years}, years
            assert set(connection.scalars(text("SELECT code FROM gemeente"))) == {"0363", "0384", "0014"}
            kinds = dict(connection.execute(text("SELECT brin, onderwijssoort FROM instelling")).all())
            assert kinds == {"99XA": "vo", "99XB": "mbo"}
            assert connection.scalar(text("SELECT contact_email FROM partij")) is None
        session = make_session_factory(engine)()
        try:
            # what a request in cycle 2026 sees: every gemeente and institution of before the upgrade
            assert refdata_year(session, 2026) == 2026
            assert active_brins(session, 2026, {"99XA", "99XB"}) == {"99XA", "99XB"}
            assert contact_overrides(session, {"99XA"}) == {}
        finally:
            session.close()
    finally:
        engine.dispose()
