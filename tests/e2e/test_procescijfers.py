"""opvragenProcescijfers end to end: a VO school and an MBO institution ask their own process
figures over real HTTP, signed, answers verified and validated against the XSD; the request and
the answer are in the message log like every other operation."""

from __future__ import annotations

import datetime as dt

import pytest
import zeep.exceptions
from lxml import etree
from sqlalchemy import create_engine, text

from tests.e2e.zeepclient import client
from tests.helpers import bsn

SCHOOL_A = "0000000700099XA00000"
MBO_X = "0000000700099XB00000"
NUMBERS = [bsn(p) for p in ("11122233", "12345678", "20000001", "30000001", "40000001", "50000001")]


def _cijfers(response):
    return {(r.brin, r.cijfer, r.dimensie or ""): (r.aantal, r.onderdrukt) for r in response.procescijfer}


def test_a_school_and_an_institution_get_their_own_counts_suppressed_below_5(demo_broker):
    # Today as the test starts, not as the module was collected: a run may cross midnight.
    today = dt.date.today()
    vo, mbo = client(demo_broker, "vo", SCHOOL_A), client(demo_broker, "mbo", MBO_X)
    vo.service.aanleverenLeerlingen(
        leerling=[
            {
                "volgnummer": i,
                "bsn": n,
                "brinVo": "99XA",
                "postcode": "1011AB",
                "woongemeente": "0363",
                "mutatie": "toevoegen",
            }
            for i, n in enumerate(NUMBERS, start=1)
        ]
    )
    # Five of the six register with 99XB today (before the deadline of 1 April); one is accepted.
    mbo.service.aanleverenAanmeldingen(
        aanmelding=[
            {"volgnummer": i, "bsn": n, "brinMbo": "99XB", "status": "aangemeld", "datum": today}
            for i, n in enumerate(NUMBERS[:5], start=1)
        ]
        + [
            {
                "volgnummer": 6,
                "bsn": NUMBERS[0],
                "brinMbo": "99XB",
                "status": "geaccepteerd",
                "datum": today,
            }
        ]
    )

    school = vo.service.opvragenProcescijfers()
    cyclus = today.year + 1 if today.month >= 10 else today.year
    assert (school.cyclus, school.deadline) == (cyclus, dt.date(cyclus, 4, 1))
    assert today <= school.peildatum <= dt.date.today()  # the broker's today
    assert _cijfers(school) == {
        ("99XA", "leerlingen", ""): (6, False),
        ("99XA", "aangemeld_voor_deadline", ""): (5, False),
        ("99XA", "aangemeld_na_deadline", ""): (0, False),
        ("99XA", "teruggevallen_na_deadline", ""): (0, False),
        ("99XA", "geleverd_nergens_aangemeld", ""): (None, True),  # 1
        ("99XA", "diploma_nergens_aangemeld", ""): (0, False),  # no exam result reported
        # One registration accepted today: a lead time of 0 days on 1 registration, withheld.
        ("99XA", "doorlooptijd_n", "aangemeld>geaccepteerd"): (None, True),
        ("99XA", "doorlooptijd_mediaan", "aangemeld>geaccepteerd"): (None, True),
        ("99XA", "doorlooptijd_p90", "aangemeld>geaccepteerd"): (None, True),
        ("99XA", "leerlingen_per_status", "aangemeld"): (None, True),  # 4
        ("99XA", "leerlingen_per_status", "geaccepteerd"): (None, True),  # 1
        ("99XA", "leerlingen_per_status", "geenAanmelding"): (None, True),  # 1
    }
    instelling = mbo.service.opvragenProcescijfers(brin="99XB", peildatum=today)
    assert _cijfers(instelling) == {
        ("99XB", "aanmeldingen", ""): (5, False),
        ("99XB", "aanmeldingen_voor_deadline", ""): (5, False),
        ("99XB", "aanmeldingen_na_deadline", ""): (0, False),
        ("99XB", "aanmeldingen_per_status", "aangemeld"): (None, True),
        ("99XB", "aanmeldingen_per_status", "geaccepteerd"): (None, True),
        ("99XB", "intakes", ""): (0, False),  # no intake reported
        ("99XB", "doorlooptijd_n", "aangemeld>geaccepteerd"): (None, True),
        ("99XB", "doorlooptijd_mediaan", "aangemeld>geaccepteerd"): (None, True),
        ("99XB", "doorlooptijd_p90", "aangemeld>geaccepteerd"): (None, True),
    }
    # Like every operation, request and signed answer are in the message log (the audit trail's
    # hook, issue 5, sits in the same pipeline).
    engine = create_engine(demo_broker.database_url)
    with engine.connect() as connection:
        outcomes = connection.execute(
            text(
                "SELECT richting, uitkomst FROM bericht WHERE action LIKE '%/opvragenProcescijfers' ORDER BY id"
            )
        ).all()
    engine.dispose()
    assert [tuple(r) for r in outcomes] == [("in", "verwerkt"), ("uit", "verwerkt")] * 2


def test_another_brin_or_a_date_outside_the_cycle_is_refused(demo_broker):
    vo = client(demo_broker, "vo", SCHOOL_A)
    with pytest.raises(zeep.exceptions.Fault) as error:
        vo.service.opvragenProcescijfers(brin="99XC")
    assert error.value.code.endswith("DK0002")
    with pytest.raises(zeep.exceptions.Fault) as error:
        vo.service.opvragenProcescijfers(peildatum=dt.date.today() + dt.timedelta(days=1))
    assert error.value.code.endswith("DK0004")
    assert "peildatum" in etree.tostring(error.value.detail, encoding="unicode")
