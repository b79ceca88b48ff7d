"""Every figure of the hand-computable cycle (``scenario``), at each level, on SQLite and PostgreSQL.

The expected values below are worked out from the scenario table by hand, not copied from output:
e.g. school 99XA has 7 pupils in the process (P1–P7; P8 withdrew without registering), 5 first
registered on or before 1 April (P1 10-01, P2 01-02, P3 01-03, P4 15-03, P6 20-03) and P5 after it;
P4 and P6 were registered on 1 April and are registered nowhere on 15 June. Lead time
aangemeld → geaccepteerd nationally: 3, 10, 14, 20, 30 days → median (3rd of 5) 14, p90 (5th) 30.
"""

from __future__ import annotations

from datetime import date

from broker.domain.cycle import Calendar
from broker.rapportage.cijfers import Level, Peil, compute_cijfers, percentile

AG, GI, AI = "aangemeld>geaccepteerd", "geaccepteerd>ingeschreven", "aangemeld>ingeschreven"


def _figures(session, peildatum=date(2027, 6, 15), **kw):
    return {
        (c.niveau.value, c.eenheid, c.cijfer, c.dimensie): c.waarde
        for c in compute_cijfers(session, Peil.of(Calendar(), 2027, peildatum), **kw)
    }


def _select(figures, niveau, eenheid):
    return {(k[2], k[3]): v for k, v in figures.items() if k[0] == niveau and k[1] == eenheid}


def _leerlingen(total, before_deadline, after_deadline, give_back, geleverd_nergens, diploma_nergens, statuses, weeks):
    result = {
        ("leerlingen", ""): total,
        ("aangemeld_voor_deadline", ""): before_deadline,
        ("aangemeld_na_deadline", ""): after_deadline,
        ("teruggevallen_na_deadline", ""): give_back,
        ("geleverd_nergens_aangemeld", ""): geleverd_nergens,
        ("diploma_nergens_aangemeld", ""): diploma_nergens,
    }
    result |= {("leerlingen_per_status", s): n for s, n in statuses.items()}
    result |= {("eerste_aanmelding_per_week", w): n for w, n in weeks.items()}
    return result


def _aanmeldingen(total, before_deadline, after_deadline, statuses, weeks, opleidingen=None):
    result = {("aanmeldingen", ""): total, ("aanmeldingen_voor_deadline", ""): before_deadline}
    result[("intakes", "")] = 0  # this scenario reports no intake (see test_procesfeiten)
    result[("aanmeldingen_na_deadline", "")] = after_deadline
    result |= {("aanmeldingen_per_status", s): n for s, n in statuses.items()}
    result |= {("aanmeldingen_per_week", w): n for w, n in weeks.items()}
    result |= {("aanmeldingen_per_opleiding", o): n for o, n in (opleidingen or {}).items()}
    return result


def _lead_times(trajecten: dict[str, list[int]]):
    """n, median, p90 and buckets of each traject, from the day counts worked out by hand."""
    result = {}
    for traject, days in trajecten.items():
        result[("doorlooptijd_n", traject)] = len(days)
        result[("doorlooptijd_mediaan", traject)] = sorted(days)[(len(days) + 1) // 2 - 1]
        result[("doorlooptijd_p90", traject)] = sorted(days)[-(-9 * len(days) // 10) - 1]
        for d in days:
            bucket = next(
                b
                for b, high in (("0-7", 7), ("8-14", 14), ("15-28", 28), ("29-56", 56), ("57+", 10**6))
                if d <= high
            )
            result[("doorlooptijd_verdeling", f"{traject} {bucket}")] = (
                result.get(("doorlooptijd_verdeling", f"{traject} {bucket}"), 0) + 1
            )
    return result


# Lead times in days (scenario dates): P1 10 / 132 / 142, P2 14 / 75 / 89, P3 3, P5 30, Q1 20 / 30 / 50.
LEERLINGEN_99XA = _leerlingen(
    7,
    5,
    1,
    2,
    3,
    0,  # no exam result reported: nobody has a diploma yet
    {"ingeschreven": 2, "geaccepteerd": 2, "ingetrokken": 1, "geweigerd": 1, "geenAanmelding": 1},
    {"2027-W01": 1, "2027-W05": 1, "2027-W09": 1, "2027-W11": 2, "2027-W15": 1},
)
SCHOOL_99XA = LEERLINGEN_99XA | _lead_times({AG: [10, 14, 3, 30], GI: [132, 75], AI: [142, 89]})
LEERLINGEN_99XC = _leerlingen(
    2, 1, 1, 0, 0, 0, {"ingeschreven": 1, "aangemeld": 1}, {"2027-W01": 1, "2027-W13": 1}
)
SCHOOL_99XC = LEERLINGEN_99XC | _lead_times({AG: [20], GI: [30], AI: [50]})
INSTELLING_99XB = _aanmeldingen(
    5,
    5,
    0,
    {"ingeschreven": 2, "geaccepteerd": 1, "ingetrokken": 1, "geweigerd": 1},
    {"2027-W01": 1, "2027-W05": 1, "2027-W09": 1, "2027-W11": 2},
    {"25180/99XB01": 2, "25181/-": 2, "-/-": 1},
) | _lead_times({AG: [10, 14, 3], GI: [132, 75], AI: [142, 89]})
INSTELLING_99XE = _aanmeldingen(
    4,
    2,
    2,
    {"ingetrokken": 1, "geaccepteerd": 1, "ingeschreven": 1, "aangemeld": 1},
    {"2027-W01": 1, "2027-W09": 1, "2027-W13": 1, "2027-W15": 1},
    {"25190/-": 1, "25180/-": 1, "25182/-": 1, "-/-": 1},
) | _lead_times({AG: [30, 20], GI: [30], AI: [50]})
INSTELLING_99XF = _aanmeldingen(1, 1, 0, {"aangemeld": 1}, {"2027-W06": 1}, {"-/-": 1})
LANDELIJK = (
    _leerlingen(
        10,
        7,
        2,
        2,
        3,
        0,
        {
            "ingeschreven": 3,
            "geaccepteerd": 2,
            "aangemeld": 2,
            "ingetrokken": 1,
            "geweigerd": 1,
            "geenAanmelding": 1,
        },
        {
            "2027-W01": 2,
            "2027-W05": 1,
            "2027-W06": 1,
            "2027-W09": 1,
            "2027-W11": 2,
            "2027-W13": 1,
            "2027-W15": 1,
        },
    )
    | {("aangemeld_zonder_levering", ""): 1}
    | _aanmeldingen(
        10,
        8,
        2,
        {"ingeschreven": 3, "geaccepteerd": 2, "aangemeld": 2, "ingetrokken": 2, "geweigerd": 1},
        {
            "2027-W01": 2,
            "2027-W05": 1,
            "2027-W06": 1,
            "2027-W09": 2,
            "2027-W11": 2,
            "2027-W13": 1,
            "2027-W15": 1,
        },
    )
    | _lead_times({AG: [10, 14, 3, 30, 20], GI: [132, 75, 30], AI: [142, 89, 50]})
)


def _without_programmes(figures):
    return {k: v for k, v in figures.items() if k[0] != "aanmeldingen_per_opleiding"}


def test_every_figure_at_each_level_on_15_june(cyclus_session):
    figures = _figures(cyclus_session)
    assert _select(figures, "landelijk", "") == LANDELIJK
    assert _select(figures, "school", "99XA") == SCHOOL_99XA
    assert _select(figures, "school", "99XC") == SCHOOL_99XC
    assert _select(figures, "instelling", "99XB") == INSTELLING_99XB
    assert _select(figures, "instelling", "99XE") == INSTELLING_99XE
    assert _select(figures, "instelling", "99XF") == INSTELLING_99XF
    # A region holds its VO schools' pupils (99XA and 99XC by their vestiging or school) and its MBO
    # institutions' registrations and lead times (99XB in 21, 99XE in 29, 99XF in 19); the
    # registrations per programme and location are an institution's figure only.
    assert _select(figures, "regio", "21") == LEERLINGEN_99XA | _without_programmes(INSTELLING_99XB)
    assert _select(figures, "regio", "29") == LEERLINGEN_99XC | _without_programmes(INSTELLING_99XE)
    assert _select(figures, "regio", "19") == _without_programmes(INSTELLING_99XF)
    assert {k[:2] for k in figures} == {
        ("landelijk", ""),
        ("school", "99XA"),
        ("school", "99XC"),
        ("instelling", "99XB"),
        ("instelling", "99XE"),
        ("instelling", "99XF"),
        ("regio", "21"),
        ("regio", "29"),
        ("regio", "19"),
    }


def test_figures_on_a_date_before_the_deadline_see_only_the_history_up_to_it(cyclus_session):
    # 20 March: Q1, P1, P2, R1, P3 (twice) and P4 registered, P6 received; nobody fell back yet.
    figures = _select(_figures(cyclus_session, date(2027, 3, 20), niveaus=[Level.LANDELIJK]), "landelijk", "")
    assert figures[("leerlingen", "")] == 10  # P1–P7, Q1, Q3 still actief (P8, Q2 withdrew 1 Feb), R1
    assert figures[("aangemeld_voor_deadline", "")] == 7
    assert figures[("aangemeld_na_deadline", "")] == 0
    assert figures[("teruggevallen_na_deadline", "")] == 0
    assert figures[("geleverd_nergens_aangemeld", "")] == 3  # P5, P7, Q3 (P8 and Q2 withdrew on 1 Feb)
    assert figures[("aanmeldingen_per_status", "aangemeld")] == 3  # P3 at 99XE, P4, R1
    assert figures[("aanmeldingen_per_status", "aanmeldingOntvangen")] == 1  # P6
    assert figures[("aanmeldingen_per_status", "geaccepteerd")] == 3  # P1, P2, P3 at 99XB
    assert figures[("aanmeldingen_per_status", "ingeschreven")] == 1  # Q1
    assert figures[("doorlooptijd_n", GI)] == 1  # only Q1 was enrolled by 20 March


def test_a_unit_filter_computes_only_that_unit(cyclus_session):
    figures = _figures(cyclus_session, niveaus=[Level.SCHOOL], eenheden={Level.SCHOOL: ["99XC"]})
    assert _select(figures, "school", "99XC") == SCHOOL_99XC
    assert {k[:2] for k in figures} == {("school", "99XC")}


def test_percentiles_are_nearest_rank():
    assert percentile({3: 1, 10: 1, 14: 1, 20: 1, 30: 1}, 0.5) == 14
    assert percentile({3: 1, 10: 1, 14: 1, 20: 1, 30: 1}, 0.9) == 30
    assert percentile({10: 2, 40: 2}, 0.5) == 10
    assert percentile({7: 1}, 0.9) == 7
