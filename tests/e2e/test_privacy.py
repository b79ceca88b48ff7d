"""Privacy by construction, end to end (issue 5 "Done when"): after a scenario with hundreds of pupils,
all flows and some faults, through a real broker with signed requests,

* no BSN or onderwijsnummer of the scenario is in clear text in any table (read back through SQL, and
  the database files as stored on disk), in the message log, or in the broker's log;
* ``vva audit pupil`` lists exactly the operations that touched a given pupil, and the chain verifies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zeep.exceptions
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select, text
from stdnum.nl import onderwijsnummer

from broker.cli import main
from broker.db import models
from tests.e2e.test_cyclus import (
    AMSTERDAM,
    MBO_X,
    MBO_Y,
    REGIO_21,
    SCHOOL_A,
    SCHOOL_C,
    aanmelding,
    leerling,
)
from tests.e2e.zeepclient import client
from tests.helpers import bsns, invalid_bsn


def _onderwijsnummers(aantal: int) -> list[str]:
    uitkomst, candidate = [], 100_000_000
    while len(uitkomst) < aantal:
        if onderwijsnummer.is_valid(str(candidate)):
            uitkomst.append(str(candidate))
        candidate += 1
    return uitkomst


A_BSNS = bsns(200, 31_000_000)  # school A, Amsterdam
C_BSNS = bsns(100, 32_000_000)  # school C, Rotterdam
ONDERWIJSNUMMERS = _onderwijsnummers(5)  # school A, pupils without a BSN
INVALID = [invalid_bsn(f"3300000{i}") for i in range(3)]
P, Q = A_BSNS[0], C_BSNS[0]


def _scenario(demo) -> None:
    vo_a, vo_c = client(demo, "vo", SCHOOL_A), client(demo, "vo", SCHOOL_C)
    mbo_x, mbo_y = client(demo, "mbo", MBO_X), client(demo, "mbo", MBO_Y)
    gemeente, regio = client(demo, "gemeente", AMSTERDAM), client(demo, "regio", REGIO_21)

    # Flow a, with three records failing the elfproef.
    records = [leerling(i + 1, n, "0363") for i, n in enumerate(A_BSNS + INVALID)]
    records += [
        {**leerling(len(records) + i + 1, None, "0363"), "onderwijsnummer": o}
        for i, o in enumerate(ONDERWIJSNUMMERS)
    ]
    for r in records:
        if r["bsn"] is None:
            del r["bsn"]
    response = vo_a.service.aanleverenLeerlingen(leerling=records)
    assert (response.aantalVerwerkt, response.aantalAfgewezen) == (205, 3)
    response = vo_c.service.aanleverenLeerlingen(
        leerling=[leerling(i + 1, n, "0599", brin="99XC", postcode="3011AA") for i, n in enumerate(C_BSNS)]
    )
    assert response.aantalVerwerkt == 100

    # Flow b: X registers 150 of A's pupils (P among them) and accepts 50; Y registers 40 of C's (not Q).
    assert (
        mbo_x.service.aanleverenAanmeldingen(
            aanmelding=[aanmelding(i + 1, n, "99XB") for i, n in enumerate(A_BSNS[:150])]
        ).aantalVerwerkt
        == 150
    )
    assert (
        mbo_x.service.aanleverenAanmeldingen(
            aanmelding=[aanmelding(i + 1, n, "99XB", "geaccepteerd") for i, n in enumerate(A_BSNS[100:150])]
        ).aantalVerwerkt
        == 50
    )
    assert (
        mbo_y.service.aanleverenAanmeldingen(
            aanmelding=[aanmelding(i + 1, n, "99XE") for i, n in enumerate(C_BSNS[50:90])]
        ).aantalVerwerkt
        == 40
    )

    # Queries of every role.
    assert [o.bsn for o in vo_a.service.opvragenStatus(leerling=[{"bsn": P}])] == [P]
    assert len(vo_a.service.opvragenNietAangemeld(brinVo="99XA")) == 55  # 50 BSNs + 5 onderwijsnummers
    assert len(gemeente.service.opvragenOverzicht()) == 205
    assert regio.service.opvragenWijzigingen(vanafCursor=0, maximum=1000).meer is False

    # Faults: a pupil outside the caller's scope; a signature by a party without a mandate.
    with pytest.raises(zeep.exceptions.Fault) as error:
        vo_a.service.opvragenStatus(leerling=[{"bsn": Q}])
    assert error.value.code.endswith("DK0002")
    with pytest.raises(zeep.exceptions.Fault) as error:
        client(demo, "vo", SCHOOL_A, certificaat_oin=SCHOOL_C).service.opvragenStatus(leerling=[{"bsn": P}])
    assert error.value.code.endswith("DK0002")


def _database_url(config: Path) -> str:
    line = next(r for r in config.read_text().splitlines() if r.startswith("database_url"))
    return line.split("=", 1)[1].strip().strip('"')


def _in_sql(url: str, numbers: list[str]) -> list[str]:
    """Every column of every table, read back through SQL, bytes as bytes."""
    engine = create_engine(url)
    found = []
    try:
        with engine.connect() as connection:
            for table in models.Base.metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    for column, waarde in zip(table.columns, row, strict=True):
                        inhoud = waarde if isinstance(waarde, bytes) else str(waarde).encode()
                        found += [f"{table.name}.{column.name}" for n in numbers if n.encode() in inhoud]
            assert set(inspect(connection).get_table_names()) - {"alembic_version"} == set(
                models.Base.metadata.tables
            )
    finally:
        engine.dispose()
    return found


def _files_on_disk(url: str, tmp_path: Path) -> list[Path]:
    """The files the database keeps its data in: the SQLite file (and WAL), or PostgreSQL's relation
    files (tables, TOAST, indexes) of the test schema after a CHECKPOINT."""
    if url.startswith("sqlite"):
        return [p for p in tmp_path.glob("vva.sqlite3*")]
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("CHECKPOINT"))
            data = Path(connection.execute(text("SHOW data_directory")).scalar_one())
            paths = connection.execute(
                text(
                    "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() OR c.oid IN (SELECT reltoastrelid FROM pg_class k "
                    "JOIN pg_namespace m ON m.oid = k.relnamespace WHERE m.nspname = current_schema())"
                )
            ).scalars()
            return [data / p for p in paths if p and (data / p).exists()]
    finally:
        engine.dispose()


def test_no_pupil_number_in_clear_text_and_a_complete_audit_trail(demo_broker, tmp_path):
    _scenario(demo_broker)
    config = tmp_path / "vva.toml"
    runner = CliRunner()
    cli = lambda *args: runner.invoke(main, ["--config", str(config), *args])  # noqa: E731
    assert cli("signals", "run").exit_code == 0

    # vva audit pupil: exactly the operations of the scenario that touched P, and Q.
    output = cli("audit", "pupil", P, "--format", "jsonl")
    assert output.exit_code == 0, output.output
    records = [json.loads(r) for r in output.output.splitlines() if r.startswith("{")]
    assert [(r["operation"], r["partij_oin"], r["outcome"]) for r in records] == [
        ("aanleverenLeerlingen", SCHOOL_A, "verwerkt"),
        ("aanleverenAanmeldingen", MBO_X, "verwerkt"),
        ("opvragenStatus", SCHOOL_A, "verwerkt"),
        ("opvragenOverzicht", AMSTERDAM, "verwerkt"),
        ("opvragenWijzigingen", REGIO_21, "verwerkt"),
    ]
    assert all(
        r["message_id"].startswith("urn:uuid:") and r["certificate"].startswith(r["partij_oin"])
        for r in records
    )
    # Q (school C, Rotterdam) was only delivered; the refused query about Q disclosed nothing.
    output = cli("audit", "pupil", Q, "--format", "jsonl")
    records = [json.loads(r) for r in output.output.splitlines() if r.startswith("{")]
    assert [(r["operation"], r["partij_oin"]) for r in records] == [("aanleverenLeerlingen", SCHOOL_C)]
    assert cli("audit", "verify").output.startswith("audit trail intact:")
    export = cli("audit", "export", "--format", "csv")
    assert export.exit_code == 0

    numbers = A_BSNS + C_BSNS + ONDERWIJSNUMMERS + INVALID
    url = _database_url(config)
    assert _in_sql(url, numbers) == []
    files = _files_on_disk(url, tmp_path)
    assert files
    for file in files:
        inhoud = file.read_bytes()
        assert [n for n in numbers if n.encode() in inhoud] == [], file
    # Positive control: a number written in clear text is found by both scans.
    check = bsns(1, 39_000_000)[0]
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE partij SET naam = :n WHERE oin = :oin"), {"n": f"x {check}", "oin": SCHOOL_A}
        )
    engine.dispose()
    assert _in_sql(url, [check]) == ["partij.naam"]
    assert any(check.encode() in b.read_bytes() for b in _files_on_disk(url, tmp_path))

    log = (tmp_path / "broker.log").read_bytes()
    assert log  # the broker's own log as written
    assert [n for n in numbers if n.encode() in log] == []
    assert [n for n in numbers if n in export.output] == []


def test_a_request_and_its_answer_fall_in_the_cyclus_of_their_processing(demo_broker, database_url):
    """``vva cycle close`` deletes the message log by the cycle's time window, and the business rows by
    the cycle they were written in. A request logged at 23:59:59.999 on 30 September but processed on
    1 October (a second clock reading) would hold the next cycle's mutations to a message the purge
    deletes (a foreign-key error: the close could never run), and an answer logged after midnight would
    keep the closing cycle's BSNs for another year. So every message-log row of one request carries the
    one moment the request was processed at."""
    vo_a = client(demo_broker, "vo", SCHOOL_A)
    vo_a.service.aanleverenLeerlingen(leerling=[leerling(1, A_BSNS[0], "0363")])
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            messages = connection.execute(
                select(models.Bericht.tijdstip).where(models.Bericht.dienst == "vo")
            ).scalars()
            changes = connection.execute(select(models.LeerlingMutatie.vastgelegd_op)).scalars()
            moments = {_utc(t) for t in messages} | {_utc(t) for t in changes}
    finally:
        engine.dispose()
    assert len(moments) == 1, sorted(moments)


def _utc(moment):
    from datetime import UTC

    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
