"""Issue 16's figures from intakes, onderwijsovereenkomsten and exam results (``procesfeiten``), at
school, region and country level, on SQLite and PostgreSQL, before and after ``vva cycle close``.

Worked out by hand from the scenario table (peildatum 1 July 2027):

* exam results per school: 99XA geslaagd 8 (A1-A8), gezakt 1 (A9), doorstroomVo 1 (A10); 99XG
  geslaagd 5; 99XC geslaagd 3 (C1, C4 after the re-sit, C5), gezakt 1 (C3), doorstroomVo 1 (C2).
  Region 21 = 99XA + 99XG: 13 / 1 / 1; region 29 = 99XC; landelijk 16 / 2 / 2.
* diploma_nergens_aangemeld (geslaagd, actief, registered nowhere): 99XA 2 (A6 refused, A8), 99XG 3
  (G1-G3), 99XC 1 (C4); region 21: 5, 29: 1, landelijk 6. geleverd_nergens_aangemeld adds the
  gezakt pupils still actief: 99XA 3 (+A9), 99XG 3, 99XC 2 (+C3); 21: 6, 29: 2, landelijk 8.
* intakes per institution: 99XB 7 = positief 5 (A1-A5), negatief 1 (A6), nietVerschenen 1 (A7);
  99XE 5 = positief 3 (G4, C1, C5's second), negatief 1 (G5, corrected: counted once), nietVerschenen
  1 (C5's first). Regions 21 = 99XB, 29 = 99XE; landelijk 12 = 8 / 2 / 2.
* lead times in days per registration, (aangemeld>intake, intake>ingeschreven,
  ingeschreven>overeenkomst, aangemeld>overeenkomst), "-" = no such moment:
  A1 (10, 20, 5, 35), A2 (14, 30, 7, 51), A3 (7, 40, 0, 47), A4 (21, 15, 10, 46), A5 (3, 25, 14, 42),
  A6 (14, -, -, -) — a negative intake is an intake held; A7 none (nietVerschenen is no intake held),
  G4 (4, 24, 28, 56), G5 at 99XE (4, -, -, -), C1 (10, 16, 2, 28),
  C5 (14, 28, -, -) — the first intake held is the second, 15 March.
  aangemeld>ingeschreven: A1 30, A2 44, A3 47, A4 36, A5 28, G4 28, C1 26, C5 42.
  geaccepteerd falls on the positive intake's date, so aangemeld>geaccepteerd = aangemeld>intake and
  geaccepteerd>ingeschreven = intake>ingeschreven for the pupils that were accepted.
  School 99XA (= institution 99XB = region 21): aangemeld>intake 3 7 10 14 14 21 → median (3rd of 6)
  10, p90 (6th) 21; intake>ingeschreven 15 20 25 30 40 → 25, 40; ingeschreven>overeenkomst
  0 5 7 10 14 → 7, 14; aangemeld>overeenkomst 35 42 46 47 51 → 46, 51.
  Landelijk: aangemeld>intake 3 4 4 7 10 10 14 14 14 21 → median (5th of 10) 10, p90 (9th) 14;
  intake>ingeschreven 15 16 20 24 25 28 30 40 → 24 (4th of 8), 40 (8th); ingeschreven>overeenkomst
  0 2 5 7 10 14 28 → 7 (4th of 7), 28 (7th); aangemeld>overeenkomst 28 35 42 46 47 51 56 → 46, 56.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from broker.db import models
from broker.domain.cycle import Calendar
from broker.jaarcyclus.close import close_cyclus
from broker.rapportage.cijfers import Level, Peil, compute_cijfers
from broker.rapportage.jaarcijfers import compute_jaarcijfers, read_jaarcijfers, regio_indeling
from broker.rapportage.output import html
from broker.rapportage.rapport import make_rapport
from broker.rapportage.trends import trend
from broker.registry.repository import PartijRegistry
from broker.service.context import Caller, Processing
from broker.service.procescijfers import opvragen_procescijfers
from tests.rapportage.disclosure_checker import (
    assert_procescijfers_safe,
    assert_rapport_safe,
    assert_table_safe,
)
from tests.rapportage.procesfeiten import PEILDATUM, build_procesfeiten
from tests.rapportage.scenario import OIN
from tests.rapportage.test_cijfers import _lead_times

AG, GI, AI = "aangemeld>geaccepteerd", "geaccepteerd>ingeschreven", "aangemeld>ingeschreven"
AK, KI, IO, AO = (
    "aangemeld>intake",
    "intake>ingeschreven",
    "ingeschreven>overeenkomst",
    "aangemeld>overeenkomst",
)
#: The figures this test checks in full; the others are the subject of test_cijfers.
NEW_FIGURES = {
    "diploma_nergens_aangemeld",
    "geleverd_nergens_aangemeld",
    "examenresultaat_per_uitkomst",
    "intakes",
    "intakes_per_uitkomst",
    "doorlooptijd_n",
    "doorlooptijd_mediaan",
    "doorlooptijd_p90",
    "doorlooptijd_verdeling",
}


@pytest.fixture
def facts_session(demo_session, keyring):
    build_procesfeiten(demo_session, keyring)
    return demo_session


def _leerlingen(diploma, delivered, examens):
    return {("diploma_nergens_aangemeld", ""): diploma, ("geleverd_nergens_aangemeld", ""): delivered} | {
        ("examenresultaat_per_uitkomst", u): n for u, n in examens.items()
    }


def _intakes(positief, negatief, niet_verschenen):
    return {
        ("intakes", ""): positief + negatief + niet_verschenen,
        ("intakes_per_uitkomst", "positiefAdvies"): positief,
        ("intakes_per_uitkomst", "negatiefAdvies"): negatief,
        ("intakes_per_uitkomst", "nietVerschenen"): niet_verschenen,
    }


LEAD_TIMES_99XA = _lead_times(
    {
        AG: [10, 14, 7, 21, 3],
        GI: [20, 30, 40, 15, 25],
        AI: [30, 44, 47, 36, 28],
        AK: [10, 14, 7, 21, 3, 14],
        KI: [20, 30, 40, 15, 25],
        IO: [5, 7, 0, 10, 14],
        AO: [35, 51, 47, 46, 42],
    }
)
LEAD_TIMES_99XE = _lead_times(
    {
        AG: [4, 10, 14],
        GI: [24, 16, 28],
        AI: [28, 26, 42],
        AK: [4, 4, 10, 14],
        KI: [24, 16, 28],
        IO: [28, 2],
        AO: [56, 28],
    }
)
EXPECTED = {
    ("school", "99XA"): _leerlingen(2, 3, {"geslaagd": 8, "gezakt": 1, "doorstroomVo": 1}) | LEAD_TIMES_99XA,
    ("school", "99XG"): _leerlingen(3, 3, {"geslaagd": 5})
    | _lead_times({AG: [4], GI: [24], AI: [28], AK: [4, 4], KI: [24], IO: [28], AO: [56]}),
    ("school", "99XC"): _leerlingen(1, 2, {"geslaagd": 3, "gezakt": 1, "doorstroomVo": 1})
    | _lead_times({AG: [10, 14], GI: [16, 28], AI: [26, 42], AK: [10, 14], KI: [16, 28], IO: [2], AO: [28]}),
    ("instelling", "99XB"): _intakes(5, 1, 1) | LEAD_TIMES_99XA,
    ("instelling", "99XE"): _intakes(3, 1, 1) | LEAD_TIMES_99XE,
    # A region: its schools' pupils, its institutions' registrations and lead times.
    ("regio", "21"): _leerlingen(5, 6, {"geslaagd": 13, "gezakt": 1, "doorstroomVo": 1})
    | _intakes(5, 1, 1)
    | LEAD_TIMES_99XA,
    ("regio", "29"): _leerlingen(1, 2, {"geslaagd": 3, "gezakt": 1, "doorstroomVo": 1})
    | _intakes(3, 1, 1)
    | LEAD_TIMES_99XE,
    ("landelijk", ""): _leerlingen(6, 8, {"geslaagd": 16, "gezakt": 2, "doorstroomVo": 2})
    | _intakes(8, 2, 2)
    | _lead_times(
        {
            AG: [10, 14, 7, 21, 3, 4, 10, 14],
            GI: [20, 30, 40, 15, 25, 24, 16, 28],
            AI: [30, 44, 47, 36, 28, 28, 26, 42],
            AK: [10, 14, 7, 21, 3, 14, 4, 4, 10, 14],
            KI: [20, 30, 40, 15, 25, 24, 16, 28],
            IO: [5, 7, 0, 10, 14, 28, 2],
            AO: [35, 51, 47, 46, 42, 56, 28],
        }
    ),
}


def _new_figures(cijfers) -> dict[tuple[str, str], dict[tuple[str, str], int | None]]:
    """The checked figures per (level, unit)."""
    result: dict = {}
    for c in cijfers:
        if c.cijfer in NEW_FIGURES:
            niveau = getattr(c.niveau, "value", c.niveau)
            result.setdefault((niveau, c.eenheid), {})[(c.cijfer, c.dimensie)] = c.waarde
    return result


def test_the_hand_computed_figures_at_every_level(facts_session):
    figures = _new_figures(compute_cijfers(facts_session, Peil.of(Calendar(), 2027, PEILDATUM)))
    assert figures == EXPECTED
    # The hand-computed medians and percentiles named in the docstring, spelled out once more.
    landelijk = figures[("landelijk", "")]
    assert [landelijk[("doorlooptijd_mediaan", t)] for t in (AK, KI, IO, AO)] == [10, 24, 7, 46]
    assert [landelijk[("doorlooptijd_p90", t)] for t in (AK, KI, IO, AO)] == [14, 40, 28, 56]
    school = figures[("school", "99XA")]
    assert [school[("doorlooptijd_mediaan", t)] for t in (AK, KI, IO, AO)] == [10, 25, 7, 46]
    assert [school[("doorlooptijd_p90", t)] for t in (AK, KI, IO, AO)] == [21, 40, 14, 51]


def test_the_facts_count_as_known_on_the_peildatum(facts_session):
    def on(day):
        return _new_figures(
            compute_cijfers(
                facts_session, Peil.of(Calendar(), 2027, day), niveaus=[Level.LANDELIJK, Level.INSTELLING]
            )
        )

    # 5 March: G5's intake was recorded as a no-show at noon; the correction came the next day.
    # 99XE knows G4 (5 Feb, positief), C1 (25 Jan, positief) and G5 (nietVerschenen).
    march_5 = on(date(2027, 3, 5))[("instelling", "99XE")]
    assert {k: v for k, v in march_5.items() if k[0].startswith("intakes")} == {
        ("intakes", ""): 3,
        ("intakes_per_uitkomst", "positiefAdvies"): 2,
        ("intakes_per_uitkomst", "nietVerschenen"): 1,
    }
    # So G5 has no intake held yet: 99XE's aangemeld>intake are G4's 4 and C1's 10 days only.
    assert march_5[("doorlooptijd_n", AK)] == 2
    # 1 June: no exam result yet, so nobody has a diploma; 15 June: C4 has failed (the re-sit result
    # comes on 20 June), so only A6, A8, G1-G3 count.
    assert on(date(2027, 6, 1))[("landelijk", "")][("diploma_nergens_aangemeld", "")] == 0
    on_15_june = on(date(2027, 6, 15))[("landelijk", "")]
    assert on_15_june[("diploma_nergens_aangemeld", "")] == 5
    assert on_15_june[("examenresultaat_per_uitkomst", "gezakt")] == 3
    assert on_15_june[("examenresultaat_per_uitkomst", "geslaagd")] == 15


def test_the_closed_cycle_keeps_the_figures_and_the_report_shows_them(facts_session):
    calendar = Calendar()
    # Nothing happens after 25 June: the cycle's last day gives the figures of 1 July.
    assert _new_figures(compute_cijfers(facts_session, Peil.of(calendar, 2027))) == EXPECTED
    published = compute_jaarcijfers(facts_session, 2027, calendar)
    true_figures = compute_cijfers(facts_session, Peil.of(calendar, 2027))
    indeling = regio_indeling(facts_session, 2027)
    reports_before = [
        make_rapport(facts_session, calendar, niveau, 2027, eenheid, calendar.cyclus(2027).end)
        for niveau, eenheid in [
            (Level.LANDELIJK, ""),
            (Level.REGIO, "21"),
            (Level.REGIO, "29"),
            (Level.SCHOOL, "99XA"),
        ]
    ]
    for rapport in reports_before:
        assert_rapport_safe(rapport, true_figures, indeling)
    trends_before = {
        sleutel: trend(facts_session, calendar, *sleutel, 2027)
        for sleutel in [
            (Level.LANDELIJK, ""),
            (Level.SCHOOL, "99XA"),
            (Level.REGIO, "21"),
            (Level.INSTELLING, "99XB"),
        ]
    }

    closing = close_cyclus(
        facts_session, calendar, 2027, date(2027, 10, 1), datetime(2027, 10, 1, 12, tzinfo=UTC)
    )
    facts_session.commit()
    assert closing.removed["leerling"] == 20
    assert facts_session.scalar(select(func.count()).select_from(models.AanmeldingFeit)) == 0

    stored = read_jaarcijfers(facts_session, 2027)
    assert stored == published
    after = _new_figures(stored)
    # Every published value is the hand-computed one; what is withheld is withheld, not changed.
    for sleutel, expected in EXPECTED.items():
        assert set(after[sleutel]) == set(expected), sleutel
        assert all(w is None or w == expected[k] for k, w in after[sleutel].items()), sleutel
    # Published where nothing small can be computed back from them; what is withheld is the
    # complement the disclosure control needs (docs/disclosure.md), checked by the LP attacker below.
    # 6 = region 21's 5 + region 29's 1: the national 6 goes, or region 21 would subtract its own 5
    # (an insider); and the 5 goes too, or everyone would.
    assert after[("landelijk", "")][("diploma_nergens_aangemeld", "")] is None
    assert after[("regio", "21")][("diploma_nergens_aangemeld", "")] is None
    assert after[("school", "99XA")][("diploma_nergens_aangemeld", "")] is None  # 2
    assert after[("school", "99XA")][("examenresultaat_per_uitkomst", "geslaagd")] == 8
    # 99XB: 7 intakes = 5 positive + 1 negative + 1 no-show; with the total published one of the 1s
    # would follow from the other, so the smallest other part (5) is withheld with them.
    # The intakes per institution are all small or would give a small one away next to the
    # country's (99XE's 3 positive = 8 - 99XB's 5): only the national total is left.
    assert [after[("instelling", b)][("intakes", "")] for b in ("99XB", "99XE")] == [None, None]
    assert after[("landelijk", "")][("intakes", "")] == 12
    assert [after[("school", "99XA")][("doorlooptijd_mediaan", t)] for t in (AK, KI, IO, AO)] == [10, 25, 7, 46]
    assert [after[("landelijk", "")][("doorlooptijd_p90", t)] for t in (AK, KI, IO, AO)] == [14, 40, 28, 56]
    assert after[("regio", "29")][("doorlooptijd_mediaan", AK)] is None  # 4 registrations
    # No withheld figure can be computed back from the stored ones (the LP attacker of the tests).
    assert_table_safe(stored, true_figures, indeling)

    # The trend of the closed year is the same as before the purge, and holds the new key figures.
    after_trends = {sleutel: trend(facts_session, calendar, *sleutel, 2027) for sleutel in trends_before}
    assert after_trends == trends_before
    assert after_trends[(Level.LANDELIJK, "")][2027][("intakes", "")] == 12
    assert after_trends[(Level.LANDELIJK, "")][2027][("doorlooptijd_mediaan", AO)] == 46
    rapport = make_rapport(facts_session, calendar, Level.LANDELIJK, 2027)
    assert rapport.from_jaarcijfers
    for before in reports_before:  # the same figures before and after the purge, and just as safe
        after_report = make_rapport(facts_session, calendar, before.niveau, 2027, before.eenheid)
        assert sorted(after_report.cijfers, key=repr) == sorted(before.cijfers, key=repr)
        assert_rapport_safe(after_report, true_figures, indeling)
    page = html(rapport)
    assert "Intakes per uitkomst" in page and "Examenresultaten" in page


def test_opvragen_procescijfers_gives_a_school_and_an_institution_their_new_figures(facts_session, keyring):

    def query(oin):
        processing = Processing(facts_session, keyring, Calendar(), now=datetime(2027, 7, 1, 12, tzinfo=UTC))
        call = Caller(PartijRegistry(facts_session).find(oin), "urn:uuid:procescijfers")
        response = opvragen_procescijfers(processing, call, None, None)
        niveau = Level.SCHOOL if oin == OIN["99XA"] else Level.INSTELLING
        brins = sorted(call.partij.brins)
        true_figures = compute_cijfers(facts_session, response.peil, niveaus=[niveau], eenheden={niveau: brins})
        assert_procescijfers_safe(response, true_figures)
        return {(r.cijfer, r.dimensie): r.aantal for r in response.cijfers}

    school = query(OIN["99XA"])
    assert school[("diploma_nergens_aangemeld", "")] is None  # 2: withheld
    assert school[("examenresultaat_per_uitkomst", "geslaagd")] == 8
    assert school[("examenresultaat_per_uitkomst", "gezakt")] is None
    # Lead times of the school's pupils in days (n, median, p90), as in the report.
    assert [school[(n, AK)] for n in ("doorlooptijd_n", "doorlooptijd_mediaan", "doorlooptijd_p90")] == [
        6,
        10,
        21,
    ]
    assert [school[(n, AO)] for n in ("doorlooptijd_n", "doorlooptijd_mediaan", "doorlooptijd_p90")] == [
        5,
        46,
        51,
    ]
    assert not any(naam.startswith("intakes") or naam == "doorlooptijd_verdeling" for naam, _ in school)
    instelling = query(OIN["99XB"])
    assert instelling[("intakes", "")] == 7
    assert instelling[("intakes_per_uitkomst", "positiefAdvies")] is None  # the complement of the two 1s
    assert instelling[("intakes_per_uitkomst", "negatiefAdvies")] is None
    assert [instelling[(n, KI)] for n in ("doorlooptijd_n", "doorlooptijd_mediaan", "doorlooptijd_p90")] == [
        5,
        25,
        40,
    ]
    assert not any(naam.startswith(("examen", "diploma")) for naam, _ in instelling)
