"""The yearly aggregates: suppressed, anonymous, stored once, and the source of the trend after the purge."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from broker.db import models
from broker.domain.cycle import Calendar
from broker.rapportage.cijfers import Level
from broker.rapportage.jaarcijfers import (
    JaarcijfersExist,
    compute_jaarcijfers,
    read_jaarcijfers,
    store_jaarcijfers,
)
from broker.rapportage.trends import trend

#: What ``vva cycle close`` deletes of a cycle (issue 5 part 4), children first.
PERSONAL_DATA = (
    models.LeerlingMutatie,
    models.AanmeldingOvergang,
    models.Leerling,
    models.Aanmelding,
    models.Wijziging,
    models.Signaal,
)


def _purge(session, jaar):
    leerlingen = select(models.Leerling.id).where(models.Leerling.cyclus_jaar == jaar)
    aanmeldingen = select(models.Aanmelding.id).where(models.Aanmelding.cyclus_jaar == jaar)
    session.execute(delete(models.LeerlingMutatie).where(models.LeerlingMutatie.leerling_id.in_(leerlingen)))
    session.execute(
        delete(models.AanmeldingOvergang).where(models.AanmeldingOvergang.aanmelding_id.in_(aanmeldingen))
    )
    for table in (models.Leerling, models.Aanmelding, models.Wijziging, models.Signaal):
        session.execute(delete(table).where(table.cyclus_jaar == jaar))
    session.commit()


def _per_key(rows):
    return {(r.niveau, r.eenheid, r.cijfer, r.dimensie): r.waarde for r in rows}


def test_counts_of_one_to_four_are_suppressed_and_no_row_names_a_pupil(cyclus_session):
    rows = _per_key(compute_jaarcijfers(cyclus_session, 2027, Calendar()))
    # On 30 September the scenario's state is that of 15 June (nothing happened after 1 June).
    assert rows[("school", "99XA", "leerlingen", "")] == 7
    # 5 on time + 1 late = the sum of its weeks (all 1-4): with the 5 shown, the late 1 would follow.
    assert rows[("school", "99XA", "aangemeld_voor_deadline", "")] is None
    assert rows[("school", "99XA", "teruggevallen_na_deadline", "")] is None  # 2: suppressed
    assert rows[("school", "99XA", "leerlingen_per_status", "ingeschreven")] is None
    assert rows[("school", "99XC", "teruggevallen_na_deadline", "")] == 0  # 0 identifies nobody
    # 10 = 8 on time + 2 late: one of the two goes with the 2. Not the 10: the 8 goes too, as
    # institution 99XB has 5 of them and would learn that the others have 3 (an insider).
    assert rows[("landelijk", "", "aanmeldingen", "")] is None
    assert rows[("landelijk", "", "aanmeldingen_voor_deadline", "")] is None
    # 5 = 3 at 99XB + 2 at 99XE: 99XB would learn the other's 2, so the 5 goes; the median and p90
    # on 5 observations stay (they are in no sum).
    assert rows[("landelijk", "", "doorlooptijd_n", "aangemeld>geaccepteerd")] is None
    assert rows[("landelijk", "", "doorlooptijd_mediaan", "aangemeld>geaccepteerd")] == 14
    assert rows[("landelijk", "", "doorlooptijd_p90", "aangemeld>geaccepteerd")] == 30
    # A median of 3 observations is as telling as the observations: suppressed with them.
    assert rows[("landelijk", "", "doorlooptijd_mediaan", "geaccepteerd>ingeschreven")] is None
    assert all(
        w is None or w == 0 or w >= 5
        for (_, _, naam, _), w in rows.items()
        if "mediaan" not in naam and "p90" not in naam
    )
    assert {k[1] for k in rows} <= {"", "99XA", "99XC", "99XB", "99XE", "99XF", "21", "29", "19"}


def test_storing_twice_is_refused(cyclus_session):
    aantal = store_jaarcijfers(cyclus_session, 2027, Calendar())
    cyclus_session.commit()
    assert aantal == cyclus_session.scalar(select(func.count()).select_from(models.Jaarcijfer)) > 100
    with pytest.raises(JaarcijfersExist, match="2027"):
        store_jaarcijfers(cyclus_session, 2027, Calendar())


def test_after_the_purge_the_trend_of_the_closed_year_is_identical(cyclus_session):
    calendar = Calendar()
    before = {
        (niveau, eenheid): trend(cyclus_session, calendar, niveau, eenheid, 2027)
        for niveau, eenheid in [
            (Level.LANDELIJK, ""),
            (Level.SCHOOL, "99XA"),
            (Level.INSTELLING, "99XB"),
            (Level.REGIO, "21"),
        ]
    }
    computed = compute_jaarcijfers(cyclus_session, 2027, calendar)
    # 10 = 7 at 99XA + 3 at 99XC: published, 99XA would subtract its own 7 (an insider).
    assert before[(Level.LANDELIJK, "")][2027][("leerlingen", "")] is None
    assert before[(Level.SCHOOL, "99XA")][2027][("leerlingen", "")] == 7
    assert before[(Level.SCHOOL, "99XA")][2027][("aangemeld_voor_deadline", "")] is None

    store_jaarcijfers(cyclus_session, 2027, calendar)
    cyclus_session.commit()
    _purge(cyclus_session, 2027)
    for table in PERSONAL_DATA:
        assert cyclus_session.scalar(select(func.count()).select_from(table)) == 0, table.__tablename__

    after = {sleutel: trend(cyclus_session, calendar, *sleutel, 2027) for sleutel in before}
    assert after == before
    assert read_jaarcijfers(cyclus_session, 2027) == computed
    # Recomputing from the (now empty) history would say something else: the table is the source.
    assert _per_key(compute_jaarcijfers(cyclus_session, 2027, calendar)) != _per_key(computed)


def test_a_lone_suppressed_cell_in_a_distribution_takes_the_smallest_other_with_it():
    from broker.rapportage.cijfers import Cijfer
    from broker.rapportage.jaarcijfers import suppress

    def cell(cijfer, dimensie, n):
        return Cijfer(Level.SCHOOL, "99XA", cijfer, dimensie, n, n)

    rows = suppress(
        2027,
        [
            cell("leerlingen", "", 23),
            cell("leerlingen_per_status", "ingeschreven", 12),
            cell("leerlingen_per_status", "aangemeld", 8),
            cell("leerlingen_per_status", "geweigerd", 3),  # 23 - 12 - 8 would give it away
            cell("aanmeldingen_per_week", "2027-W01", 6),  # a lone week of 6: nothing to hide
            cell("doorlooptijd_n", "aangemeld>geaccepteerd", 18),
            cell("doorlooptijd_verdeling", "aangemeld>geaccepteerd 0-7", 9),
            cell("doorlooptijd_verdeling", "aangemeld>geaccepteerd 8-14", 2),
            cell("doorlooptijd_verdeling", "aangemeld>geaccepteerd 15-28", 7),
            cell("doorlooptijd_n", "geaccepteerd>ingeschreven", 6),
            cell("doorlooptijd_verdeling", "geaccepteerd>ingeschreven 0-7", 6),  # another traject
        ],
    )
    assert [r.waarde for r in rows] == [23, 12, None, None, 6, 18, 9, None, None, 6, 6]
