"""The change feed follows commit order: a follower paging ``opvragenWijzigingen`` misses nothing.

Issue 14: positions were drawn at insert and transactions committed later in another order, so a
follower's cursor moved past changes not yet visible and never saw them (``broker.db.commit_order``).
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from broker.audit.trail import SOAP, AuditEvent, record_event
from broker.db import models
from broker.db.engine import make_session_factory
from broker.domain.cycle import Calendar
from broker.domain.identifiers import parse_leerlingnummer
from broker.jaarcyclus.close import close_cyclus
from broker.registry.repository import PartijRegistry
from broker.service.context import Caller, Processing
from broker.service.leerlingen import aanleveren_leerlingen
from broker.service.opvragen import WijzigingenPage, opvragen_status, opvragen_wijzigingen
from broker.service.pushes import plan_pushes
from tests.helpers import bsn, bsns
from tests.service.conftest import NU
from tests.service.test_outbox import _geef_endpoint
from tests.service.test_use_cases import AMSTERDAM, REGIO_21, SCHOOL_A, leerling


def _aanroep(session, oin: str) -> Caller:
    partij = PartijRegistry(session).find(oin)
    assert partij is not None
    return Caller(partij=partij, message_id="urn:uuid:00000000-0000-4000-8000-000000000001")


def _deliver_task(factory, keyring, records, now: datetime = NU) -> None:
    """One committed delivery by school A, as the request path does it (change, pushes, audit)."""
    with factory.begin() as session:
        processing = Processing(session, keyring, Calendar(), now=now)
        aanleveren_leerlingen(processing, _aanroep(session, SCHOOL_A), records)
        plan_pushes(processing)


def _volg(factory, keyring, cursor: int, maximum: int = 50, now: datetime = NU) -> WijzigingenPage:
    """One page of the feed for the regional system of region 21, in its own transaction."""
    with factory.begin() as session:
        processing = Processing(session, keyring, Calendar(), now=now)
        return opvragen_wijzigingen(processing, _aanroep(session, REGIO_21), cursor, maximum)


def _gezien(page: WijzigingenPage) -> set[str]:
    return {o.nummer.waarde for _, o in page.wijzigingen}


def test_een_wijziging_die_later_commit_komt_na_de_cursor_van_de_volger(db_engine, demo_session, keyring):
    """Two deliveries in flight; the one that started first commits last. The follower reads in
    between and moves its cursor; the late change must still come after that cursor."""
    if db_engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: the second delivery waits for the first, they cannot interleave")
    factory = make_session_factory(db_engine)
    vroeg, laat, earlier = bsn("61000001"), bsn("61000002"), bsn("61000003")
    _deliver_task(factory, keyring, [leerling(1, earlier)])  # the cycle row exists, committed
    cursor = _volg(factory, keyring, 0).volgende_cursor

    traag = factory()
    try:
        processing = Processing(traag, keyring, Calendar(), now=NU)
        aanleveren_leerlingen(processing, _aanroep(traag, SCHOOL_A), [leerling(1, vroeg)])
        traag.flush()  # written, not committed: the request still signs and logs its answer
        _deliver_task(factory, keyring, [leerling(1, laat)])
        first = _volg(factory, keyring, cursor)
        assert _gezien(first) == {laat}
        traag.commit()
    finally:
        traag.close()
    second = _volg(factory, keyring, first.volgende_cursor)
    assert _gezien(second) == {vroeg}
    assert second.volgende_cursor > first.volgende_cursor > cursor


def test_een_cursor_blijft_geldig_nadat_de_cyclus_is_gesloten(db_engine, demo_session, keyring):
    """The purge empties the feed; the next cycle's changes still come after a cursor a partner holds
    (SQLite's rowid started again at 1 in the emptied table, below that cursor)."""
    factory = make_session_factory(db_engine)
    _deliver_task(factory, keyring, [leerling(i + 1, p) for i, p in enumerate(bsns(3, 62_000_000))])
    page = _volg(factory, keyring, 0)
    assert len(page.wijzigingen) == 3
    with factory.begin() as session:
        close_cyclus(session, Calendar(), 2027, date(2027, 10, 6), datetime(2027, 10, 6, 12, tzinfo=UTC))
    volgend_jaar = datetime(2027, 10, 12, 9, tzinfo=UTC)
    new = bsns(2, 63_000_000)
    _deliver_task(factory, keyring, [leerling(i + 1, p) for i, p in enumerate(new)], now=volgend_jaar)
    assert _gezien(_volg(factory, keyring, page.volgende_cursor, now=volgend_jaar)) == set(new)


# --- the soak: concurrent writers and one follower -------------------------------------------------


@dataclass
class _Pagina:
    vanaf: int
    tot: int
    gezien: dict[str, int]  # pupil number → the cursor it was shown at


@dataclass
class _Verloop:
    """What the writers committed and what the follower saw."""

    positions: list[tuple[int, str]] = field(default_factory=list)  # (feed position, pupil number)
    pushes: list[tuple[int, int]] = field(default_factory=list)  # (outbox id, feed position of its change)
    paginas: list[_Pagina] = field(default_factory=list)
    laatst_gezien: dict[str, object] = field(default_factory=dict)  # pupil number → LeerlingBeeld
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _schrijver(factory, keyring, numbers: list[str], end: float, verloop: _Verloop, zaad: int) -> None:
    kans = random.Random(zaad)
    actief: set[str] = set()
    volgnummer = 0
    try:
        while time.monotonic() < end:
            records = []
            for nummer in kans.sample(numbers, kans.randint(1, 3)):
                volgnummer += 1
                if nummer in actief:
                    records.append(
                        leerling(volgnummer, nummer, mutatie="afmelden", reden="andereVervolgkeuze")
                    )
                else:
                    records.append(leerling(volgnummer, nummer))
            written: list = []
            with factory.begin() as session:
                event.listen(session, "pending_to_persistent", lambda _, row, g=written: g.append(row))
                processing = Processing(session, keyring, Calendar(), now=NU)
                uitkomst = aanleveren_leerlingen(processing, _aanroep(session, SCHOOL_A), records)
                assert all(u.melding is None for u in uitkomst.outcomes)
                plan_pushes(processing)
                time.sleep(kans.uniform(0, 0.004))  # the request path signs and logs its answer here
                record_event(
                    session,
                    AuditEvent(
                        SOAP,
                        "aanleverenLeerlingen",
                        "verwerkt",
                        SCHOOL_A,
                        None,
                        None,
                        2027,
                        processing.involved,
                        processing.aantal,
                    ),
                    NU,
                )
            for record in records:
                if record.mutatie == "afmelden":
                    actief.discard(record.bsn)
                else:
                    actief.add(record.bsn)
            nummer_van = {
                processing.keyring.pseudoniem(parse_leerlingnummer(r.bsn, None)): r.bsn for r in records
            }
            positions = [(w.volgnummer, nummer_van[h]) for h, w in processing.changed.items()]
            pushes = [
                (o.id, min(p for p, _ in positions))
                for o in written
                if isinstance(o, models.UitgaandBericht)
            ]
            with verloop.lock:
                verloop.positions.extend(positions)
                verloop.pushes.extend(pushes)
    except BaseException as error:  # noqa: BLE001 — reported by the test
        verloop.errors.append(error)


def _volger(factory, keyring, done: threading.Event, verloop: _Verloop) -> None:
    cursor, quiet = 0, 0
    try:
        while quiet < 2:  # after the writers stop: until two pages in a row bring nothing new
            na_afloop = done.is_set()
            page = _volg(factory, keyring, cursor, 50)
            verloop.paginas.append(
                _Pagina(cursor, page.volgende_cursor, {o.nummer.waarde: c for c, o in page.wijzigingen})
            )
            for _, overzicht in page.wijzigingen:
                verloop.laatst_gezien[overzicht.nummer.waarde] = overzicht.beeld
            empty = not page.wijzigingen and not page.meer
            quiet = quiet + 1 if (empty and na_afloop) else 0
            cursor = page.volgende_cursor
            if empty:
                time.sleep(0.005)
    except BaseException as error:  # noqa: BLE001 — reported by the test
        verloop.errors.append(error)


def test_een_volger_ziet_elke_wijziging_precies_een_keer_terwijl_tien_partijen_schrijven(
    db_engine, demo_session, keyring
):
    """10 concurrent writers (SQLite: 4, one writing at a time) for 60 s (SQLite: 10 s) while a
    regional system pages the feed 50 at a time: every committed change falls in exactly one page,
    which shows that pupil once; cursors only grow; the last state seen of every pupil is its
    committed state; and the outbox ids follow the commit order of the changes they announce."""
    postgres = db_engine.dialect.name == "postgresql"
    schrijvers, duur = (10, 60.0) if postgres else (4, 10.0)
    _geef_endpoint(demo_session, AMSTERDAM)
    _geef_endpoint(demo_session, REGIO_21)
    demo_session.commit()
    factory = make_session_factory(db_engine)
    _deliver_task(factory, keyring, [leerling(1, bsn("64000001"))])  # the cycle row exists, committed

    verloop, done = _Verloop(), threading.Event()
    end = time.monotonic() + duur
    pools = [bsns(20, 65_000_000 + 1000 * i) for i in range(schrijvers)]
    draden = [
        threading.Thread(target=_schrijver, args=(factory, keyring, pools[i], end, verloop, i))
        for i in range(schrijvers)
    ]
    follower = threading.Thread(target=_volger, args=(factory, keyring, done, verloop))
    follower.start()
    for draad in draden:
        draad.start()
    for draad in draden:
        draad.join()
    done.set()
    follower.join(timeout=120)
    assert not follower.is_alive()
    assert verloop.errors == []

    positions = sorted(verloop.positions)
    assert len(positions) > 100 * schrijvers  # the writers really wrote
    assert len({p for p, _ in positions}) == len(positions)
    # The pages tile the feed: each starts where the previous ended, cursors only grow.
    paginas = verloop.paginas
    assert paginas[0].vanaf == 0
    for previous, page in zip(paginas, paginas[1:], strict=False):
        assert page.vanaf == previous.tot
        assert previous.tot <= page.tot
    getoond = [c for p in paginas for c in sorted(p.gezien.values())]
    assert getoond == sorted(set(getoond))  # never a change twice, never one out of order
    # Every committed change falls in exactly one page, and that page shows its pupil.
    grenzen = [p.tot for p in paginas]
    gemist = []
    for position, nummer in positions:
        i = bisect.bisect_left(grenzen, position)
        assert i < len(paginas), "a committed change after the follower's last cursor"
        if nummer not in paginas[i].gezien or paginas[i].gezien[nummer] > position:
            gemist.append(position)
    assert gemist == [], f"{len(gemist)} of {len(positions)} changes never shown"
    # The follower's last view of every pupil is the committed state.
    with factory.begin() as session:
        processing = Processing(session, keyring, Calendar(), now=NU)
        nu_vastgelegd = {
            o.nummer.waarde: o.beeld for o in opvragen_status(processing, _aanroep(session, REGIO_21), [])
        }
        teller = session.scalar(select(models.WijzigingTeller.laatste))
    assert verloop.laatst_gezien == nu_vastgelegd
    assert teller == positions[-1][0]
    # The outbox: a later id never announces an earlier commit (broker.outbound.delivery_queue orders by id).
    order = [position for _, position in sorted(verloop.pushes)]
    assert verloop.pushes and order == sorted(order)
