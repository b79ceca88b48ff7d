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
from tests.service.conftest import NOW
from tests.service.test_outbox import _set_endpoint
from tests.service.test_use_cases import AMSTERDAM, REGIO_21, SCHOOL_A, leerling


def _call(session, oin: str) -> Caller:
    partij = PartijRegistry(session).find(oin)
    assert partij is not None
    return Caller(partij=partij, message_id="urn:uuid:00000000-0000-4000-8000-000000000001")


def _deliver_task(factory, keyring, records, now: datetime = NOW) -> None:
    """One committed delivery by school A, as the request path does it (change, pushes, audit)."""
    with factory.begin() as session:
        processing = Processing(session, keyring, Calendar(), now=now)
        aanleveren_leerlingen(processing, _call(session, SCHOOL_A), records)
        plan_pushes(processing)


def _follow(factory, keyring, cursor: int, maximum: int = 50, now: datetime = NOW) -> WijzigingenPage:
    """One page of the feed for the regional system of region 21, in its own transaction."""
    with factory.begin() as session:
        processing = Processing(session, keyring, Calendar(), now=now)
        return opvragen_wijzigingen(processing, _call(session, REGIO_21), cursor, maximum)


def _seen(page: WijzigingenPage) -> set[str]:
    return {o.nummer.waarde for _, o in page.wijzigingen}


def test_a_change_committed_later_comes_after_the_followers_cursor(db_engine, demo_session, keyring):
    """Two deliveries in flight; the one that started first commits last. The follower reads in
    between and moves its cursor; the late change must still come after that cursor."""
    if db_engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: the second delivery waits for the first, they cannot interleave")
    factory = make_session_factory(db_engine)
    early, late, earlier = bsn("61000001"), bsn("61000002"), bsn("61000003")
    _deliver_task(factory, keyring, [leerling(1, earlier)])  # the cycle row exists, committed
    cursor = _follow(factory, keyring, 0).volgende_cursor

    slow = factory()
    try:
        processing = Processing(slow, keyring, Calendar(), now=NOW)
        aanleveren_leerlingen(processing, _call(slow, SCHOOL_A), [leerling(1, early)])
        slow.flush()  # written, not committed: the request still signs and logs its answer
        _deliver_task(factory, keyring, [leerling(1, late)])
        first = _follow(factory, keyring, cursor)
        assert _seen(first) == {late}
        slow.commit()
    finally:
        slow.close()
    second = _follow(factory, keyring, first.volgende_cursor)
    assert _seen(second) == {early}
    assert second.volgende_cursor > first.volgende_cursor > cursor


def test_a_cursor_stays_valid_after_the_cyclus_is_closed(db_engine, demo_session, keyring):
    """The purge empties the feed; the next cycle's changes still come after a cursor a partner holds
    (SQLite's rowid started again at 1 in the emptied table, below that cursor)."""
    factory = make_session_factory(db_engine)
    _deliver_task(factory, keyring, [leerling(i + 1, p) for i, p in enumerate(bsns(3, 62_000_000))])
    page = _follow(factory, keyring, 0)
    assert len(page.wijzigingen) == 3
    with factory.begin() as session:
        close_cyclus(session, Calendar(), 2027, date(2027, 10, 6), datetime(2027, 10, 6, 12, tzinfo=UTC))
    next_year = datetime(2027, 10, 12, 9, tzinfo=UTC)
    new = bsns(2, 63_000_000)
    _deliver_task(factory, keyring, [leerling(i + 1, p) for i, p in enumerate(new)], now=next_year)
    assert _seen(_follow(factory, keyring, page.volgende_cursor, now=next_year)) == set(new)


# --- the soak: concurrent writers and one follower -------------------------------------------------


@dataclass
class _Page:
    since: int
    until: int
    seen: dict[str, int]  # pupil number → the cursor it was shown at


@dataclass
class _Timeline:
    """What the writers committed and what the follower saw."""

    positions: list[tuple[int, str]] = field(default_factory=list)  # (feed position, pupil number)
    pushes: list[tuple[int, int]] = field(default_factory=list)  # (outbox id, feed position of its change)
    pages: list[_Page] = field(default_factory=list)
    last_seen: dict[str, object] = field(default_factory=dict)  # pupil number → LeerlingBeeld
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _writer(factory, keyring, numbers: list[str], end: float, timeline: _Timeline, seed: int) -> None:
    rng = random.Random(seed)
    active: set[str] = set()
    volgnummer = 0
    try:
        while time.monotonic() < end:
            records = []
            for nummer in rng.sample(numbers, rng.randint(1, 3)):
                volgnummer += 1
                if nummer in active:
                    records.append(
                        leerling(volgnummer, nummer, mutatie="afmelden", reden="andereVervolgkeuze")
                    )
                else:
                    records.append(leerling(volgnummer, nummer))
            written: list = []
            with factory.begin() as session:
                event.listen(session, "pending_to_persistent", lambda _, row, g=written: g.append(row))
                processing = Processing(session, keyring, Calendar(), now=NOW)
                outcome = aanleveren_leerlingen(processing, _call(session, SCHOOL_A), records)
                assert all(u.melding is None for u in outcome.outcomes)
                plan_pushes(processing)
                time.sleep(rng.uniform(0, 0.004))  # the request path signs and logs its answer here
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
                    NOW,
                )
            for record in records:
                if record.mutatie == "afmelden":
                    active.discard(record.bsn)
                else:
                    active.add(record.bsn)
            number_of = {
                processing.keyring.pseudonym(parse_leerlingnummer(r.bsn, None)): r.bsn for r in records
            }
            positions = [(w.volgnummer, number_of[h]) for h, w in processing.changed.items()]
            pushes = [
                (o.id, min(p for p, _ in positions))
                for o in written
                if isinstance(o, models.OutboxMessage)
            ]
            with timeline.lock:
                timeline.positions.extend(positions)
                timeline.pushes.extend(pushes)
    except BaseException as error:  # noqa: BLE001 — reported by the test
        timeline.errors.append(error)


def _follower(factory, keyring, done: threading.Event, timeline: _Timeline) -> None:
    cursor, quiet = 0, 0
    try:
        while quiet < 2:  # after the writers stop: until two pages in a row bring nothing new
            after_end = done.is_set()
            page = _follow(factory, keyring, cursor, 50)
            timeline.pages.append(
                _Page(cursor, page.volgende_cursor, {o.nummer.waarde: c for c, o in page.wijzigingen})
            )
            for _, overview in page.wijzigingen:
                timeline.last_seen[overview.nummer.waarde] = overview.beeld
            empty = not page.wijzigingen and not page.meer
            quiet = quiet + 1 if (empty and after_end) else 0
            cursor = page.volgende_cursor
            if empty:
                time.sleep(0.005)
    except BaseException as error:  # noqa: BLE001 — reported by the test
        timeline.errors.append(error)


def test_a_follower_sees_every_change_exactly_once_while_ten_partijen_write(
    db_engine, demo_session, keyring
):
    """10 concurrent writers (SQLite: 4, one writing at a time) for 60 s (SQLite: 10 s) while a
    regional system pages the feed 50 at a time: every committed change falls in exactly one page,
    which shows that pupil once; cursors only grow; the last state seen of every pupil is its
    committed state; and the outbox ids follow the commit order of the changes they announce."""
    postgres = db_engine.dialect.name == "postgresql"
    writers, duration = (10, 60.0) if postgres else (4, 10.0)
    _set_endpoint(demo_session, AMSTERDAM)
    _set_endpoint(demo_session, REGIO_21)
    demo_session.commit()
    factory = make_session_factory(db_engine)
    _deliver_task(factory, keyring, [leerling(1, bsn("64000001"))])  # the cycle row exists, committed

    timeline, done = _Timeline(), threading.Event()
    end = time.monotonic() + duration
    pools = [bsns(20, 65_000_000 + 1000 * i) for i in range(writers)]
    threads = [
        threading.Thread(target=_writer, args=(factory, keyring, pools[i], end, timeline, i))
        for i in range(writers)
    ]
    follower = threading.Thread(target=_follower, args=(factory, keyring, done, timeline))
    follower.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    follower.join(timeout=120)
    assert not follower.is_alive()
    assert timeline.errors == []

    positions = sorted(timeline.positions)
    assert len(positions) > 100 * writers  # the writers really wrote
    assert len({p for p, _ in positions}) == len(positions)
    # The pages tile the feed: each starts where the previous ended, cursors only grow.
    pages = timeline.pages
    assert pages[0].since == 0
    for previous, page in zip(pages, pages[1:], strict=False):
        assert page.since == previous.until
        assert previous.until <= page.until
    shown = [c for p in pages for c in sorted(p.seen.values())]
    assert shown == sorted(set(shown))  # never a change twice, never one out of order
    # Every committed change falls in exactly one page, and that page shows its pupil.
    bounds = [p.until for p in pages]
    missed = []
    for position, nummer in positions:
        i = bisect.bisect_left(bounds, position)
        assert i < len(pages), "a committed change after the follower's last cursor"
        if nummer not in pages[i].seen or pages[i].seen[nummer] > position:
            missed.append(position)
    assert missed == [], f"{len(missed)} of {len(positions)} changes never shown"
    # The follower's last view of every pupil is the committed state.
    with factory.begin() as session:
        processing = Processing(session, keyring, Calendar(), now=NOW)
        now_recorded = {
            o.nummer.waarde: o.beeld for o in opvragen_status(processing, _call(session, REGIO_21), [])
        }
        counter = session.scalar(select(models.WijzigingCounter.last))
    assert timeline.last_seen == now_recorded
    assert counter == positions[-1][0]
    # The outbox: a later id never announces an earlier commit (broker.outbound.delivery_queue orders by id).
    order = [position for _, position in sorted(timeline.pushes)]
    assert timeline.pushes and order == sorted(order)
