"""``vva signals run`` across the deadline with a fixed clock: exactly which party gets which signal,
and a second run on the same day creates nothing new (issue 5, "Signals")."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lxml import etree
from sqlalchemy import select

from broker.db import models
from broker.domain.cycle import Calendar
from broker.edukoppeling.contract import Contract
from broker.outbound.rendering import render_signaal
from broker.service.aanmeldingen import aanleveren_aanmeldingen
from broker.service.context import Processing
from broker.service.leerlingen import aanleveren_leerlingen
from broker.service.opvragen import opvragen_signalen
from broker.service.signalen import GEEN_UITWISSELING, NIET_AANGEMELD, raise_signalen
from tests.helpers import bsn
from tests.service.test_outbox import _set_endpoint
from tests.service.test_use_cases import MBO_X, MBO_Y, P1, P2, P3, SCHOOL_A, SCHOOL_C, aanmelding, leerling

MBO_F = "0000000700099XF00000"
P5 = bsn("40000001")


def _processing_at(session, keyring, day: date) -> Processing:
    return Processing(
        session, keyring, Calendar(), now=datetime.combine(day, datetime.min.time(), UTC).replace(hour=6)
    )


def _round(session, keyring, day: date):
    run_round = raise_signalen(_processing_at(session, keyring, day), lead_days=14)
    session.flush()
    return run_round


def _signalen(session) -> list[tuple[str, str, str | None]]:
    rows = session.execute(select(models.Signaal.partij_oin, models.Signaal.soort, models.Signaal.brin))
    return sorted(rows.tuples().all())


def test_signalen_across_the_deadline(demo_session, keyring, call):
    session = demo_session
    _set_endpoint(session, SCHOOL_A)
    aanleveren_leerlingen(
        _processing_at(session, keyring, date(2027, 3, 1)),
        call(SCHOOL_A),
        [leerling(1, P1), leerling(2, P2), leerling(3, P3)],
    )
    aanleveren_aanmeldingen(
        _processing_at(session, keyring, date(2027, 3, 2)),
        call(MBO_X),
        [aanmelding(1, P1, "99XB", "aangemeld", date(2027, 3, 2))],
    )

    # Before the 14 days of lead time: nothing.
    assert (_round(session, keyring, date(2027, 3, 17)).phase, _signalen(session)) == ("voor-voorloop", [])

    # In the lead time: every VO school and MBO institution that exchanged nothing, once.
    run_round = _round(session, keyring, date(2027, 3, 18))
    assert run_round.phase == "voorloop"
    assert sorted(s.oin for s in run_round.quiet) == [SCHOOL_C, MBO_Y, MBO_F]
    expected = [
        (SCHOOL_C, GEEN_UITWISSELING, None),
        (MBO_Y, GEEN_UITWISSELING, None),
        (MBO_F, GEEN_UITWISSELING, None),
    ]
    assert _signalen(session) == sorted(expected)
    assert _round(session, keyring, date(2027, 3, 18)).total == 0  # the same day again: nothing new

    aanleveren_leerlingen(
        _processing_at(session, keyring, date(2027, 3, 25)),
        call(SCHOOL_C),
        [leerling(1, P5, brin="99XC", gemeente="0599", postcode="3011AA")],
    )
    assert _round(session, keyring, date(2027, 3, 26)).total == 0  # C was signalled already
    assert _round(session, keyring, date(2027, 4, 1)).phase == "voorloop"  # the deadline day itself

    # After the deadline: each VO school, one signal per pupil of theirs registered nowhere.
    run_round = _round(session, keyring, date(2027, 4, 2))
    assert run_round.phase == "na-deadline"
    assert run_round.new == {(SCHOOL_A, NIET_AANGEMELD): 2, (SCHOOL_C, NIET_AANGEMELD): 1}
    assert run_round.pushes == 2  # only school A has an endpoint
    assert _round(session, keyring, date(2027, 4, 2)).total == 0

    aanleveren_aanmeldingen(
        _processing_at(session, keyring, date(2027, 4, 3)),
        call(MBO_Y),
        [aanmelding(1, P2, "99XE", "aangemeld", date(2027, 4, 3))],
    )
    assert _round(session, keyring, date(2027, 4, 4)).total == 0

    assert _signalen(session) == sorted(
        expected + [(SCHOOL_A, NIET_AANGEMELD, "99XA")] * 2 + [(SCHOOL_C, NIET_AANGEMELD, "99XC")]
    )
    # School A can fetch exactly its two signals, about P2 and P3.
    signalen = opvragen_signalen(_processing_at(session, keyring, date(2027, 4, 4)), call(SCHOOL_A), None)
    assert sorted(r.nummer.waarde for r in signalen) == sorted([P2, P3])
    assert {r.soort for r in signalen} == {NIET_AANGEMELD}


def test_a_signaal_push_is_valid_by_the_contract(demo_session, keyring, call):
    session = demo_session
    _set_endpoint(session, SCHOOL_A)
    aanleveren_leerlingen(_processing_at(session, keyring, date(2027, 3, 1)), call(SCHOOL_A), [leerling(1, P2)])
    _round(session, keyring, date(2027, 4, 2))
    session.commit()  # the push is written at commit (broker.db.commit_order)
    push = session.scalars(
        select(models.OutboxMessage).where(models.OutboxMessage.operation == "ontvangenSignaal")
    ).one()
    assert push.receiver_oin == SCHOOL_A and push.signaal_id is not None
    rendering = render_signaal(_processing_at(session, keyring, date(2027, 4, 2)), SCHOOL_A, push.signaal_id)
    element = etree.fromstring(rendering.xml)
    Contract().validate_element(element)
    assert element.findtext(".//{*}bsn") == P2
    assert element.findtext(".//{*}soort") == NIET_AANGEMELD
    # Not for another party, and gone with its signal.
    assert render_signaal(_processing_at(session, keyring, date(2027, 4, 2)), SCHOOL_C, push.signaal_id) is None


def test_operator_commands_with_a_date_write_the_real_time_into_the_audit(tmp_path, database_url):
    """``--date`` says which day a command acts as of; the audit trail says when it really ran. A record
    stamped with the chosen day would backdate (or postdate) an operation on personal data, and put it
    outside the period a ``vva audit export --from --to`` asks for."""
    from click.testing import CliRunner

    from broker.cli import main
    from broker.db.engine import make_engine, make_session_factory
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    vva = lambda *args: runner.invoke(main, ["--config", str(config), *args])  # noqa: E731
    assert vva("init").exit_code == 0
    before = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert vva("signals", "run", "--date", "2027-04-02").exit_code == 0
    assert vva("cycle", "open", "--year", "2031", "--demo-refdata").exit_code == 0
    assert vva("cycle", "close", "--year", "2031", "--date", "2031-10-01").exit_code == 0
    after = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            R = models.AuditRecord
            times = dict(session.execute(select(R.operation, R.recorded_at)).all())
    finally:
        engine.dispose()
    assert set(times) == {"vva signals run", "vva cycle open", "vva cycle close"}
    assert all(before <= t <= after for t in times.values()), times


def test_signalen_for_a_closed_cyclus_are_refused(tmp_path, database_url):
    """A mistyped ``--date`` in a cycle that was closed would find every party silent (its data are
    gone) and signal and push "no data exchanged yet" to all of them: refused, with the reason."""
    from click.testing import CliRunner

    from broker.cli import main
    from broker.db.engine import make_engine, make_session_factory
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    vva = lambda *args: runner.invoke(main, ["--config", str(config), *args])  # noqa: E731
    assert vva("init").exit_code == 0
    assert vva("cycle", "open", "--year", "2031", "--demo-refdata").exit_code == 0
    assert vva("cycle", "close", "--year", "2031", "--date", "2031-10-01").exit_code == 0
    output = vva("signals", "run", "--date", "2031-03-25")
    assert output.exit_code == 1
    assert "cycle 2031 was closed on 2031-10-01" in output.output
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            assert session.scalars(select(models.Signaal)).all() == []
    finally:
        engine.dispose()


def test_signalen_of_an_ended_cyclus_do_not_carry_into_the_next(demo_session, keyring, call):
    """After 30 September the cycle's signals are moot, and fetching them in the next cycle would
    disclose last cycle's pupils and file their pseudonyms in the audit trail under the new cycle, where
    closing the old one does not delete them."""
    session = demo_session
    aanleveren_leerlingen(_processing_at(session, keyring, date(2027, 3, 1)), call(SCHOOL_A), [leerling(1, P1)])
    assert _round(session, keyring, date(2027, 4, 2)).new == {(SCHOOL_A, NIET_AANGEMELD): 1}
    on_30_september = _processing_at(session, keyring, date(2027, 9, 30))
    assert [r.nummer.waarde for r in opvragen_signalen(on_30_september, call(SCHOOL_A), None)] == [P1]

    on_1_october = _processing_at(session, keyring, date(2027, 10, 1))
    assert opvragen_signalen(on_1_october, call(SCHOOL_A), None) == []
    assert on_1_october.involved == set()


def test_signalen_during_the_close_of_their_cyclus_are_not_left_behind(tmp_path, database_url):
    """``vva signals run --date`` in a cycle while ``vva cycle close`` purges it: a run that read the
    pupils before the purge committed would write signals, BSN ciphertext and all, after it, and
    nothing would ever delete them. The run waits for the close and then refuses."""
    import threading

    from click.testing import CliRunner

    from broker.cli import main
    from broker.db.engine import make_engine, make_session_factory
    from broker.jaarcyclus.close import close_cyclus
    from broker.privacy.keys import load_keyring
    from broker.registry.repository import PartijRegistry
    from broker.service.context import Caller
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "init"]).exit_code == 0
    engine = make_engine(database_url)
    try:
        sessions = make_session_factory(engine)
        keyring = load_keyring(tmp_path / "keys.json")
        with sessions.begin() as session:
            school = Caller(PartijRegistry(session).find(SCHOOL_A), message_id="urn:uuid:s")
            aanleveren_leerlingen(_processing_at(session, keyring, date(2031, 3, 3)), school, [leerling(1, P1)])
        output = []
        thread = threading.Thread(
            target=lambda: output.append(
                runner.invoke(main, ["--config", str(config), "signals", "run", "--date", "2031-04-02"])
            )
        )
        with sessions.begin() as session:
            close_cyclus(session, Calendar(), 2031, date(2031, 10, 1), datetime(2031, 10, 1, tzinfo=UTC))
            thread.start()
            thread.join(timeout=2)  # the run is under way now, and must wait for this close
        thread.join(timeout=60)
        with sessions() as session:
            assert session.scalars(select(models.Signaal)).all() == []
        assert output[0].exit_code == 1, output[0].output
        assert "cycle 2031 was closed on 2031-10-01" in output[0].output
    finally:
        engine.dispose()


def test_a_date_in_the_future_is_refused_in_production(tmp_path, database_url):
    """A mistyped year in ``--date`` would signal (and push to) parties as if the deadline had passed:
    in production a future day needs ``--allow-future``; a test environment accepts it as it is."""
    from datetime import timedelta

    from click.testing import CliRunner

    from broker.cli import main
    from broker.db.engine import make_engine, make_session_factory
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    vva = lambda *args: runner.invoke(main, ["--config", str(config), *args])  # noqa: E731
    assert vva("init").exit_code == 0
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    test = vva("signals", "run", "--date", tomorrow)
    assert test.exit_code == 0, test.output

    config.write_text(config.read_text() + 'environment = "production"\n')
    geweigerd = vva("signals", "run", "--date", tomorrow)
    assert geweigerd.exit_code == 1
    assert geweigerd.output == (
        f"Error: --date {tomorrow} is in the future; signals for it would reach parties now. "
        "Refused in production; add --allow-future if that is what you mean\n"
    )
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            runs = session.scalars(
                select(models.AuditRecord).where(models.AuditRecord.operation == "vva signals run")
            )
            assert len(runs.all()) == 1  # the test-environment run only: the refusal did nothing
    finally:
        engine.dispose()
    today = vva("signals", "run", "--date", date.today().isoformat())
    assert today.exit_code == 0, today.output
    allowed = vva("signals", "run", "--date", tomorrow, "--allow-future")
    assert allowed.exit_code == 0, allowed.output
    assert f", {tomorrow}: " in allowed.output
