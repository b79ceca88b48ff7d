"""A process's copy of the party registry (broker.registry.snapshot), on SQLite and PostgreSQL: it gives
the answers the database gives, and any committed change — by the register or by plain SQL from another
connection — is seen by the next use, while a rolled-back change is never."""

from __future__ import annotations

import traceback
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from broker.db import models
from broker.db.engine import make_engine, make_session_factory
from broker.db.migrate import upgrade
from broker.registry.repository import PartijRegistry
from broker.registry.snapshot import registry_snapshot
from broker.registry.validation import MandaatInput, PartijInput

SCHOOL = "0000000700099XA00000"
MBO = "0000000700099XB00000"
GEMEENTE = "00000099000000000363"
REGIO = "00000099000000000042"
SUPPLIER = "00000099000000000077"


def fill(engine: Engine) -> None:
    """A school with two mandates (one limited in time and to one service), a supplier, an MBO
    institution with an endpoint, a gemeente without one; committed."""
    with make_session_factory(engine).begin() as session:
        partij_registry = PartijRegistry(session)
        partij_registry.add(PartijInput(oin=SUPPLIER, soort="leverancier", naam="LAS (FICTIEF)"))
        partij_registry.add(
            PartijInput(
                oin=SCHOOL,
                soort="vo-school",
                naam="School (FICTIEF)",
                brins=("99XA", "99XC"),
                mandaten=(
                    MandaatInput(
                        SUPPLIER, geldig_van=date(2026, 8, 1), geldig_tot=date(2027, 7, 31), acties=("vo",)
                    ),
                    MandaatInput(REGIO),
                ),
            )
        )
        partij_registry.add(
            PartijInput(
                oin=MBO,
                soort="mbo-instelling",
                naam="MBO (FICTIEF)",
                endpoint="https://mbo.example/vva",
                contactgegevens=True,
                procesfeiten=True,
            )
        )
        partij_registry.add(
            PartijInput(oin=GEMEENTE, soort="gemeente", naam="Gemeente (FICTIEF)", gemeentecodes=("0363",))
        )


def read(engine: Engine):
    with make_session_factory(engine)() as session:
        return registry_snapshot(session)


@pytest.fixture
def engine(registry_db) -> Engine:
    fill(registry_db.engine)
    return registry_db.engine


def test_the_copy_answers_as_the_database_does(engine: Engine) -> None:
    snapshot = read(engine)
    with make_session_factory(engine)() as session:
        partij_registry = PartijRegistry(session)
        for oin in (SCHOOL, MBO, GEMEENTE, SUPPLIER, REGIO, "00000099000000000999", SCHOOL.lower()):
            assert snapshot.find(oin) == partij_registry.find(oin), oin
            assert snapshot.endpoint(oin) == partij_registry.endpoint(oin), oin
        cases = [
            (certificate, partij, at, action)
            for certificate in (SUPPLIER, REGIO, SCHOOL, MBO, "00000099000000000999")
            for partij in (SCHOOL, MBO, SUPPLIER)
            for at in (date(2026, 7, 31), date(2026, 8, 1), date(2027, 7, 31), date(2027, 8, 1))
            for action in (None, "vo", "vo/opvragenStatus", "mbo/ping")
        ]
        outcomes = [snapshot.mandaat_valid(*case) for case in cases]
        assert outcomes == [partij_registry.mandaat_valid(*case) for case in cases]
    # Not trivially equal: both outcomes occur, and the supplier's limits are applied.
    assert True in outcomes and False in outcomes
    assert snapshot.mandaat_valid(SUPPLIER, SCHOOL, date(2027, 1, 1), "vo/opvragenStatus")
    assert not snapshot.mandaat_valid(SUPPLIER, SCHOOL, date(2027, 1, 1), "mbo/ping")
    assert not snapshot.mandaat_valid(SUPPLIER, SCHOOL, date(2027, 8, 1), "vo")
    assert snapshot.find(SCHOOL).brins == frozenset({"99XA", "99XC"})
    # The contact-details opt-in travels with the party, into pushes too.
    assert (snapshot.find(MBO).contactgegevens, snapshot.find(SCHOOL).contactgegevens) == (True, False)
    assert [p.contactgegevens for p, _ in snapshot.receivers()] == [True]
    # So does the process-facts opt-in (issue 16).
    assert (snapshot.find(MBO).procesfeiten, snapshot.find(SCHOOL).procesfeiten) == (True, False)
    assert [p.procesfeiten for p, _ in snapshot.receivers()] == [True]
    assert [(p.oin, e) for p, e in snapshot.receivers()] == [(MBO, "https://mbo.example/vva")]
    with pytest.raises(TypeError):
        snapshot.mandaat_valid(REGIO, SCHOOL, datetime(2027, 1, 1))


def test_an_unchanged_registry_costs_one_select_and_no_reload(engine: Engine) -> None:
    first = read(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda c, cu, s, *a: statements.append(s))

    second = read(engine)

    assert second is first
    assert len(statements) == 1 and "registry_version" in statements[0]


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE partij SET actief = false WHERE oin = '{SCHOOL}'",
        "DELETE FROM mandaat WHERE certificaat_oin = '{REGIO}'",
        "DELETE FROM partij_scope WHERE waarde = '99XC'",
        "INSERT INTO partij_scope (partij_oin, soort, waarde) VALUES ('{SCHOOL}', 'brin', '99XD')",
        "UPDATE partij SET endpoint = NULL WHERE oin = '{MBO}'",
    ],
)
def test_a_change_by_plain_sql_is_seen_by_the_next_use(engine: Engine, change: str) -> None:
    before = read(engine)
    with engine.begin() as connection:  # around the register, as an operator's psql would
        connection.execute(text(change.format(SCHOOL=SCHOOL, REGIO=REGIO, MBO=MBO)))

    after = read(engine)

    assert after.versie != before.versie
    if "actief" in change:
        assert before.find(SCHOOL) is not None and after.find(SCHOOL) is None
    elif "mandaat" in change:
        assert after.mandaat_valid(REGIO, SCHOOL, date(2027, 1, 1)) is False
    elif "DELETE FROM partij_scope" in change:
        assert after.find(SCHOOL).brins == frozenset({"99XA"})
    elif "INSERT" in change:
        assert after.find(SCHOOL).brins == frozenset({"99XA", "99XC", "99XD"})
    else:
        assert before.receivers() and after.receivers() == []


def test_a_removed_party_is_refused_at_once(engine: Engine) -> None:
    assert read(engine).find(MBO) is not None
    with make_session_factory(engine).begin() as session:
        PartijRegistry(session).remove(MBO)

    assert read(engine).find(MBO) is None


def test_a_rolled_back_change_never_reaches_another_session(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    before = read(engine)
    writer: Session = sessions()
    try:
        writer.get(models.Partij, SCHOOL).actief = False
        writer.flush()
        # The writer sees its own change in its own transaction…
        assert registry_snapshot(writer).find(SCHOOL) is None
        writer.rollback()
    finally:
        writer.close()

    # …and nobody else ever does, although the writer's copy was the process's latest — not even
    # after the next committed change (a counter would give that change the writer's number again).
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE partij SET endpoint = NULL WHERE oin = '{MBO}'"))
    after = read(engine)
    assert after.versie != before.versie
    assert after.find(SCHOOL) is not None and after.receivers() == []


def test_a_party_with_non_canonical_codes_fails_alone(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO partij_scope (partij_oin, soort, waarde) VALUES ('{SCHOOL}', 'brin', 'xx')")
        )

    snapshot = read(engine)

    with pytest.raises(ValueError):
        snapshot.find(SCHOOL)
    assert snapshot.find(MBO) is not None
    with make_session_factory(engine)() as session, pytest.raises(ValueError):
        PartijRegistry(session).find(SCHOOL)


def test_an_unflushed_rolled_back_change_never_reaches_another_session(engine: Engine) -> None:
    # The process's copy is stale (a committed change), so the writer's call reads the registry anew.
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE partij SET endpoint = NULL WHERE oin = '{MBO}'"))
    writer: Session = make_session_factory(engine)()
    try:
        writer.get(models.Partij, SCHOOL).actief = False  # pending in the unit of work, not flushed
        assert registry_snapshot(writer).find(SCHOOL) is None
        writer.rollback()
    finally:
        writer.close()

    after = read(engine)

    assert after.find(SCHOOL) is not None
    assert after.find(SCHOOL).brins == frozenset({"99XA", "99XC"})


def test_a_non_canonical_party_raises_a_fresh_error_each_time(engine: Engine) -> None:
    # One shared exception object raised for every request would grow its traceback with each raise,
    # keeping every request's frames (and their raw messages) alive for the life of the process.
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO partij_scope (partij_oin, soort, waarde) VALUES ('{SCHOOL}', 'brin', 'xx')")
        )
    snapshot = read(engine)

    depths, texts = [], []
    for _ in range(3):
        with pytest.raises(ValueError) as error:
            snapshot.find(SCHOOL)
        depths.append(len(traceback.extract_tb(error.value.__traceback__)))
        texts.append(str(error.value))

    assert depths == [depths[0]] * 3
    assert texts == ["brins is geen geldige code in canonieke vorm"] * 3


def test_every_database_starts_at_its_own_version(registry_db, tmp_path) -> None:
    # A database re-created under a running process must never match that process's copy of the old one.
    second = make_engine(f"sqlite:///{tmp_path / 'tweede.sqlite3'}")
    upgrade(second)
    try:
        versions = []
        for engine in (registry_db.engine, second):
            with engine.connect() as connection:
                versions.append(connection.execute(text("SELECT version FROM registry_version")).scalar())
    finally:
        second.dispose()
    assert versions[0] != versions[1] and len(versions[0]) == 32
