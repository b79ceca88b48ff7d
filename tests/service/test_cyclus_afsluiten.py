"""``vva cycle close``: the yearly figures are kept, then no personal data of the cycle remain — checked
table by table against the SQLAlchemy metadata — and the audit chain still verifies (issue 5)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from broker.audit.trail import SOAP, AuditEvent, record_event
from broker.audit.verify import verify_chain
from broker.cli import main
from broker.db import models
from broker.db.engine import make_engine, make_session_factory
from broker.db.message_log import log_received
from broker.domain.cycle import Calendar
from broker.jaarcyclus.close import NO_PERSONAL_DATA, PERSOONSGEGEVENS, CyclusError, close_cyclus
from broker.rapportage.jaarcijfers import compute_jaarcijfers
from broker.service.aanmeldingen import aanleveren_aanmeldingen
from broker.service.context import Processing
from broker.service.leerlingen import aanleveren_leerlingen
from broker.service.pushes import plan_pushes
from broker.service.signalen import raise_signalen
from tests.helpers import bsn, bsns
from tests.service.test_outbox import _set_endpoint
from tests.service.test_use_cases import AMSTERDAM, MBO_X, SCHOOL_A, aanmelding, leerling

AFTER_END = date(2027, 10, 6)
LATER = bsn("77700001")  # a pupil of the next cycle, who must survive


def _processing_at(session, keyring, moment: datetime) -> Processing:
    return Processing(session, keyring, Calendar(), now=moment)


def _cyclus_2027(session, keyring, call) -> None:
    """60 pupils of school A, 40 of them registered at X (some accepted), signals, pushes, audit."""
    _set_endpoint(session, AMSTERDAM)
    pupils = bsns(60, 50_000_000)
    v = _processing_at(session, keyring, datetime(2027, 2, 1, 9, tzinfo=UTC))
    aanleveren_leerlingen(v, call(SCHOOL_A), [leerling(i + 1, p) for i, p in enumerate(pupils)])
    plan_pushes(v)
    record_event(
        session,
        AuditEvent(
            SOAP,
            "aanleverenLeerlingen",
            "verwerkt",
            SCHOOL_A,
            None,
            "urn:uuid:a",
            2027,
            v.involved,
            v.aantal,
        ),
        v.now,
    )
    v = _processing_at(session, keyring, datetime(2027, 3, 20, 9, tzinfo=UTC))
    aanleveren_aanmeldingen(
        v,
        call(MBO_X),
        [aanmelding(i + 1, p, "99XB", "aangemeld", date(2027, 3, 20)) for i, p in enumerate(pupils[:40])],
    )
    v = _processing_at(session, keyring, datetime(2027, 4, 20, 9, tzinfo=UTC))
    aanleveren_aanmeldingen(
        v,
        call(MBO_X),
        [aanmelding(i + 1, p, "99XB", "geaccepteerd", date(2027, 4, 20)) for i, p in enumerate(pupils[:25])],
    )
    # Issue 16: 10 intakes, 3 of them enrolled with an onderwijsovereenkomst: 13 rows of aanmelding_feit.
    v = _processing_at(session, keyring, datetime(2027, 5, 20, 9, tzinfo=UTC))
    aanleveren_aanmeldingen(
        v,
        call(MBO_X),
        [
            replace(
                aanmelding(i + 1, p, "99XB", "ingeschreven" if i < 3 else "geaccepteerd", date(2027, 5, 20)),
                intake_datum=date(2027, 4, 1),
                intake_uitkomst="positiefAdvies",
                overeenkomst_datum=date(2027, 5, 20) if i < 3 else None,
            )
            for i, p in enumerate(pupils[:10])
        ],
    )
    raise_signalen(_processing_at(session, keyring, datetime(2027, 4, 2, 6, tzinfo=UTC)), 14)
    session.commit()


def _cyclus_2028(session, keyring, call) -> None:
    v = _processing_at(session, keyring, datetime(2027, 10, 5, 9, tzinfo=UTC))
    aanleveren_leerlingen(v, call(SCHOOL_A), [leerling(1, LATER)])
    record_event(
        session,
        AuditEvent(
            SOAP,
            "aanleverenLeerlingen",
            "verwerkt",
            SCHOOL_A,
            None,
            "urn:uuid:b",
            2028,
            v.involved,
            v.aantal,
        ),
        v.now,
    )
    session.commit()


#: Per table with personal data: rows belonging to cycle 2027 (must be 0 after closing it).
def _from_2027(session, table: str) -> int:
    L, A, B = models.Leerling, models.Aanmelding, models.Bericht
    limit = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 10, 1, tzinfo=UTC))
    queries = {
        "leerling": select(func.count()).where(L.cyclus_jaar == 2027),
        "leerling_mutatie": select(func.count())
        .select_from(models.LeerlingMutatie)
        .where(~models.LeerlingMutatie.leerling_id.in_(select(L.id).where(L.cyclus_jaar == 2028))),
        "aanmelding": select(func.count()).where(A.cyclus_jaar == 2027),
        "aanmelding_overgang": select(func.count()).select_from(models.AanmeldingOvergang),
        "aanmelding_feit": select(func.count()).select_from(models.AanmeldingFeit),
        "wijziging": select(func.count()).where(models.Wijziging.cyclus_jaar == 2027),
        "signaal": select(func.count()).where(models.Signaal.cyclus_jaar == 2027),
        "outbox_message": select(func.count()).where(models.OutboxMessage.created_at < limit[1]),
        "bericht": select(func.count()).where(B.tijdstip >= limit[0], B.tijdstip < limit[1]),
        "ontvangen_message_id": select(func.count()).select_from(models.OntvangenMessageId),
        "audit_leerling": select(func.count()).where(models.AuditLeerling.cyclus_jaar == 2027),
    }
    assert set(queries) == set(PERSOONSGEGEVENS), "every table with personal data needs a check here"
    return session.scalar(queries[table])


def test_every_table_is_classified():
    all_tables = set(models.Base.metadata.tables)
    assert set(PERSOONSGEGEVENS) | NO_PERSONAL_DATA == all_tables
    assert not set(PERSOONSGEGEVENS) & NO_PERSONAL_DATA


def test_closing_keeps_jaarcijfers_and_erases_all_personal_data(demo_session, keyring, call):
    session = demo_session
    _cyclus_2027(session, keyring, call)
    log_received(
        make_session_factory(session.get_bind()), b"<ander-bericht/>", "vo", keyring
    )  # today: not 2027
    _cyclus_2028(session, keyring, call)
    assert {
        t: _from_2027(session, t) > 0
        for t in (
            "leerling",
            "aanmelding",
            "aanmelding_feit",
            "signaal",
            "outbox_message",
            "audit_leerling",
        )
    } == dict.fromkeys(
        ("leerling", "aanmelding", "aanmelding_feit", "signaal", "outbox_message", "audit_leerling"), True
    )
    before = compute_jaarcijfers(session, 2027, Calendar())
    status = {(c.niveau, c.eenheid, c.cijfer, c.dimensie): c.waarde for c in before}
    assert status[("landelijk", "", "leerlingen", "")] == 60

    with pytest.raises(CyclusError, match="runs until 2027-09-30"):
        close_cyclus(session, Calendar(), 2027, date(2027, 9, 30), datetime(2027, 9, 30, tzinfo=UTC))
    closing = close_cyclus(session, Calendar(), 2027, AFTER_END, datetime(2027, 10, 6, 12, tzinfo=UTC))
    session.commit()

    assert closing.jaarcijfers == len(before)
    assert closing.removed["leerling"] == 60 and closing.removed["aanmelding"] == 40
    assert closing.removed["aanmelding_feit"] == 13
    for table in PERSOONSGEGEVENS:
        assert _from_2027(session, table) == 0, table
    # The next cycle's pupil and its audit record are untouched.
    assert session.scalar(select(func.count()).where(models.Leerling.cyclus_jaar == 2028)) == 1
    assert session.scalar(select(func.count()).where(models.AuditLeerling.cyclus_jaar == 2028)) == 1
    stored = session.execute(
        select(
            models.Jaarcijfer.niveau,
            models.Jaarcijfer.eenheid,
            models.Jaarcijfer.cijfer,
            models.Jaarcijfer.dimensie,
            models.Jaarcijfer.waarde,
        ).where(models.Jaarcijfer.jaar == 2027)
    ).all()
    assert {(n, e, c, d): w for n, e, c, d, w in stored} == status
    assert verify_chain(session).intact
    with pytest.raises(CyclusError, match="was closed on 2027-10-06"):
        close_cyclus(session, Calendar(), 2027, AFTER_END, datetime(2027, 10, 6, 12, tzinfo=UTC))


def test_cycle_commands(tmp_path, database_url):
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "init"]).exit_code == 0
    cyclus = lambda *args: runner.invoke(main, ["--config", str(config), "cycle", *args])  # noqa: E731
    never = cyclus("close", "--year", "2020", "--date", "2021-01-01")
    assert never.exit_code == 1 and "cycle 2020 never held any data" in never.output
    opened = cyclus("open", "--year", "2031", "--demo-refdata")
    assert opened.exit_code == 0, opened.output
    assert "cycle 2031 opened (deadline 2031-04-01)" in opened.output
    second = cyclus("open", "--year", "2031", "--demo-refdata")
    assert second.exit_code == 1 and "was opened on" in second.output
    too_early = cyclus("close", "--year", "2031", "--date", "2031-09-30")
    assert too_early.exit_code == 1 and "runs until 2031-09-30" in too_early.output
    closed = cyclus("close", "--year", "2031", "--date", "2031-10-01")
    assert closed.exit_code == 0, closed.output
    assert "cycle 2031 closed: no personal data of it remain" in closed.output
    again = cyclus("close", "--year", "2031", "--date", "2031-10-02")
    assert again.exit_code == 1 and "was closed on" in again.output
    verify = runner.invoke(main, ["--config", str(config), "audit", "verify"])
    assert verify.exit_code == 0 and verify.output.startswith("audit trail intact: 2 records")


def test_audit_of_a_closed_cyclus_leaves_no_pseudonym_behind(tmp_path, database_url):
    """``vva audit pupil --year`` of a closed cycle is audited, but must not store the pupil's
    pseudonym again after the purge removed them all (nothing would ever delete it)."""
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    vva = lambda *args: runner.invoke(main, ["--config", str(config), *args])  # noqa: E731
    assert vva("init").exit_code == 0
    assert vva("cycle", "open", "--year", "2031", "--demo-refdata").exit_code == 0
    assert vva("cycle", "close", "--year", "2031", "--date", "2031-10-01").exit_code == 0
    audit_result = vva("audit", "pupil", bsn("12300001"), "--year", "2031")
    assert audit_result.exit_code == 0, audit_result.output
    assert "cycle 2031: 0 operations touched this pupil" in audit_result.output
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(models.AuditLeerling)) == 0
            R = models.AuditRecord
            last_row = session.scalars(select(R).order_by(R.sequence_number.desc())).first()
            last = (last_row.operation, last_row.cyclus_jaar, last_row.record_count)
            assert last == ("vva audit pupil", 2031, 0)
    finally:
        engine.dispose()
    verify = vva("audit", "verify")
    assert verify.exit_code == 0, verify.output


@dataclass
class _PushFrom2026:
    """A broker set up by ``vva init`` with one signal push of cycle 2026 waiting, to an endpoint that
    refuses the connection."""

    vva: object
    sessions: object
    delivery_worker: object


@pytest.fixture
def push_from_2026(tmp_path, database_url):
    from broker.bootstrap import Runtime
    from broker.config import load_settings
    from broker.outbound.delivery_worker import DeliveryWorker
    from broker.privacy.keys import load_keyring
    from broker.registry.repository import PartijRegistry
    from broker.service.context import Caller
    from tests.helpers import free_port, write_config

    config = write_config(tmp_path, database_url, extra="outbox_timeout_s = 2.0\n")
    runner = CliRunner()
    vva = lambda *args: runner.invoke(main, ["--config", str(config), *args])  # noqa: E731
    assert vva("init").exit_code == 0
    keyring = load_keyring(tmp_path / "keys.json")
    engine = make_engine(database_url)
    runtime = Runtime(load_settings(config))
    try:
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            _set_endpoint(session, SCHOOL_A, f"http://127.0.0.1:{free_port()}/dicht")
            school = Caller(PartijRegistry(session).find(SCHOOL_A), message_id="urn:uuid:c")
            aanleveren_leerlingen(
                _processing_at(session, keyring, datetime(2026, 3, 2, 9, tzinfo=UTC)),
                school,
                [leerling(1, bsn("26600001"))],
            )
            run_round = raise_signalen(_processing_at(session, keyring, datetime(2026, 9, 30, 23, 50, tzinfo=UTC)), 14)
            assert run_round.pushes == 1
        yield _PushFrom2026(vva, sessions, DeliveryWorker(runtime))
    finally:
        runtime.close()
        engine.dispose()


def test_a_push_of_the_cyclus_delivered_after_its_end_is_erased_too(push_from_2026):
    """A signal of the last day of cycle 2026 whose push leaves the broker in the next cycle (a retry, a
    worker that was down): its message-log rows and its audit pseudonym belong to cycle 2026 and must go
    with it, not survive until the next cycle is closed. Runs on the real clock (any day after
    2026-09-30): the push is delivered today, to an endpoint that refuses the connection."""
    vva, sessions = push_from_2026.vva, push_from_2026.sessions
    assert push_from_2026.delivery_worker.run_round() == 1  # today: cycle 2027 or later
    with sessions() as session:
        push = session.scalar(select(models.OutboxMessage.message_id))
        B = models.Bericht
        assert session.scalar(select(func.count()).where(B.message_id == push)) == 1

    closed = vva("cycle", "close", "--year", "2026")
    assert closed.exit_code == 0, closed.output
    with sessions() as session:
        assert session.scalar(select(func.count()).where(B.message_id == push)) == 0
        assert session.scalar(select(func.count()).select_from(models.AuditLeerling)) == 0
    assert vva("audit", "verify").exit_code == 0


def test_closing_during_a_delivery_lets_the_worker_continue(push_from_2026):
    """``vva cycle close`` deletes a push a worker has just claimed: the worker must not die on the
    vanished row (it delivers the rest of its batch and the queue after it), and sends nothing."""
    vva, sessions, delivery_worker = push_from_2026.vva, push_from_2026.sessions, push_from_2026.delivery_worker
    (task,) = delivery_worker.claim()
    closed = vva("cycle", "close", "--year", "2026")
    assert closed.exit_code == 0, closed.output
    delivery_worker.deliver(task)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.OutboxMessage)) == 0
        messages = session.scalar(select(func.count()).where(models.Bericht.dienst == "ontvanger"))
        assert messages == 0
    assert vva("audit", "verify").exit_code == 0


def test_a_push_that_never_left_the_broker_is_no_disclosure_in_the_audit(push_from_2026):
    """A delivery that fails before anything is sent (here: its kept Body no longer decrypts) disclosed
    nothing: the audit trail must not tell an inzageverzoek that the receiver got the pupil's data."""
    sessions, delivery_worker = push_from_2026.sessions, push_from_2026.delivery_worker
    with sessions.begin() as session:
        row = session.scalars(select(models.OutboxMessage)).one()
        row.content = bytes([99]) + b"\0" * 40  # under a key id this installation does not have
    assert delivery_worker.run_round() == 1
    with sessions() as session:
        R = models.AuditRecord
        assert session.scalar(select(func.count()).where(R.source == "push")) == 0
        assert session.scalar(select(models.OutboxMessage.last_error)) == "internal KeyringError"


def test_a_second_concurrent_close_refuses_with_a_reason(db_engine):
    """Two ``vva cycle close`` at once (a timer and an operator): the second must wait for the first and
    then refuse with the reason, not close the cycle a second time or fail on a database error."""
    sessions = make_session_factory(db_engine)
    with sessions.begin() as session:
        session.add(models.Cyclus(jaar=2031, deadline=date(2031, 4, 1)))
    second: list[BaseException | None] = []

    def also_close():
        try:
            with sessions.begin() as session:
                close_cyclus(session, Calendar(), 2031, date(2031, 10, 2), datetime(2031, 10, 2, tzinfo=UTC))
            second.append(None)
        except BaseException as error:  # noqa: BLE001 — the test reports what it was
            second.append(error)

    with sessions.begin() as session:
        close_cyclus(session, Calendar(), 2031, date(2031, 10, 1), datetime(2031, 10, 1, tzinfo=UTC))
        thread = threading.Thread(target=also_close)
        thread.start()
        thread.join(timeout=1.5)  # it must be waiting for this transaction now
    thread.join(timeout=30)
    (error,) = second
    assert isinstance(error, CyclusError) and "was closed on 2031-10-01" in str(error), repr(error)
    with sessions() as session:
        closings = select(func.count()).where(models.AuditRecord.operation == "vva cycle close")
        assert session.scalar(closings) == 1


def test_a_cyclus_with_only_refused_messages_can_be_closed(db_engine, keyring):
    """A cycle in which every request was refused before the service layer (say the first weeks of a
    pilot with a broken certificate set-up) never got its ``cyclus`` row, but its message log holds the
    raw requests, BSNs and all: closing it must delete them instead of saying there is nothing."""
    sessions = make_session_factory(db_engine)
    bericht_id = log_received(
        sessions,
        f"<aanleverenLeerlingen><bsn>{LATER}</bsn></aanleverenLeerlingen>".encode(),
        "vo",
        keyring,
        tijdstip=datetime(2025, 3, 1, 9, tzinfo=UTC),
    )
    with sessions.begin() as session:
        closing = close_cyclus(
            session, Calendar(), 2025, date(2025, 10, 1), datetime(2025, 10, 1, tzinfo=UTC)
        )
    assert closing.removed["bericht"] == 1
    with sessions() as session:
        assert session.get(models.Bericht, bericht_id) is None
        assert session.get(models.Cyclus, 2025).gesloten_op is not None


def test_a_push_from_the_first_moment_of_the_next_cyclus_stays(db_engine, keyring):
    """The cycle's window is [1 October, next 1 October): a push queued at 00:00:00 on 1 October
    belongs to the next cycle and must survive this one's purge (as messages and everything else do)."""
    sessions = make_session_factory(db_engine)
    first = datetime(2026, 10, 1, tzinfo=UTC)
    with sessions.begin() as session:
        session.add(models.Cyclus(jaar=2026, deadline=date(2026, 4, 1)))
        session.add(
            models.OutboxMessage(
                receiver_oin=SCHOOL_A,
                endpoint="https://ontvanger.example/vva",
                operation="ontvangenWijziging",
                ordering_key="a" * 64,
                message_id="urn:uuid:00000000-0000-4000-8000-000000000001",
                content=b"",
                status="wachtend",
                attempts=0,
                next_attempt_at=first,
                created_at=first,
            )
        )
    with sessions.begin() as session:
        closing = close_cyclus(
            session, Calendar(), 2026, date(2026, 10, 2), datetime(2026, 10, 2, tzinfo=UTC)
        )
    assert closing.removed["outbox_message"] == 0
