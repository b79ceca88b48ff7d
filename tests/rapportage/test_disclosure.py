"""Suppression that holds (issue 16 item 4): the case of the acceptance run, a region with its
schools, and the LP checker over every report and opvragenProcescijfers answer of the scenario."""

from __future__ import annotations

from collections import defaultdict

import pytest

from broker.domain.cycle import Calendar
from broker.rapportage.cijfers import Cijfer, Level, Peil, compute_cijfers
from broker.rapportage.disclosure import Cell, Relation, holds, protect
from broker.rapportage.jaarcijfers import (
    THRESHOLD,
    Jaarcijfer,
    compute_jaarcijfers,
    regio_indeling,
    relations,
    suppress,
)
from broker.rapportage.output import html, rijen
from broker.rapportage.rapport import make_rapport
from broker.service.procescijfers import opvragen_procescijfers
from tests.rapportage.disclosure_checker import (
    assert_no_disclosure,
    assert_procescijfers_safe,
    assert_rapport_safe,
    assert_table_safe,
    disclosed,
)
from tests.rapportage.scenario import JAAR, OIN, PEILDATUM, _processing_for
from tests.service.conftest import keyring  # noqa: F401 — fixture

OLD_DISTRIBUTIONS = frozenset(
    {
        "leerlingen_per_status",
        "aanmeldingen_per_status",
        "aanmeldingen_per_opleiding",
        "eerste_aanmelding_per_week",
        "aanmeldingen_per_week",
        "doorlooptijd_verdeling",
    }
)


def _old_suppress(jaar, cijfers):
    """The suppression before issue 16 (a second cell only within a distribution), to show the
    attack it let through."""
    cijfers = list(cijfers)
    removed = {i for i, f in enumerate(cijfers) if 0 < f.base < THRESHOLD}
    groups = defaultdict(list)
    for i, f in enumerate(cijfers):
        if f.cijfer in OLD_DISTRIBUTIONS:
            traject = f.dimensie.split(" ")[0] if f.cijfer == "doorlooptijd_verdeling" else ""
            groups[(f.niveau, f.eenheid, f.cijfer, traject)].append(i)
    for members in groups.values():
        visible = [i for i in members if i not in removed and cijfers[i].waarde > 0]
        if len([i for i in members if i in removed]) == 1 and visible:
            removed.add(min(visible, key=lambda i: (cijfers[i].waarde, cijfers[i].dimensie)))
    return [
        Jaarcijfer(jaar, f.niveau.value, f.eenheid, f.cijfer, f.dimensie, None if i in removed else f.waarde)
        for i, f in enumerate(cijfers)
    ]


def _school(cijfer, dimensie, n, eenheid="99XA", niveau=Level.SCHOOL):
    return Cijfer(niveau, eenheid, cijfer, dimensie, n, n)


#: The acceptance run's school: 7 pupils, 5 delivered and registered nowhere, 2 registered.
SEVEN_FIVE = [
    _school("leerlingen", "", 7),
    _school("geleverd_nergens_aangemeld", "", 5),
    _school("leerlingen_per_status", "geenAanmelding", 5),
    _school("leerlingen_per_status", "aangemeld", 2),
]


def _values(cijfers):
    return {(f.niveau.value, f.eenheid, f.cijfer, f.dimensie): f.waarde for f in cijfers}


def _units(cijfers):
    """Per key the unit that knows it (the insiders); the country is nobody's."""
    return {k: k[:2] for k in _values(cijfers) if k[0] != Level.LANDELIJK.value}


def _published_values(rijen):
    return {(r.niveau, r.eenheid, r.cijfer, r.dimensie): r.waarde for r in rijen}


def _sums(cijfers, indeling_=None):
    return [(r.left, r.right) for r in relations(cijfers, indeling_)]


def test_the_7_5_case_was_recoverable_and_is_no_longer():
    primary = {("school", "99XA", "leerlingen_per_status", "aangemeld")}
    old = _published_values(_old_suppress(JAAR, SEVEN_FIVE))
    assert old[("school", "99XA", "leerlingen", "")] == 7
    assert old[("school", "99XA", "geleverd_nergens_aangemeld", "")] == 5
    # 7 pupils, 5 registered nowhere: the "<5" registered were 2.
    assert disclosed(old, _sums(SEVEN_FIVE), primary) == {
        ("school", "99XA", "leerlingen_per_status", "aangemeld"): 2,
        ("school", "99XA", "leerlingen_per_status", "geenAanmelding"): 5,
    }

    new = _published_values(suppress(JAAR, SEVEN_FIVE))
    assert new[("school", "99XA", "leerlingen_per_status", "aangemeld")] is None
    assert_no_disclosure(new, _sums(SEVEN_FIVE), primary)
    # The fewest, smallest complements: the two 5s, the total 7 stays.
    assert new == {
        ("school", "99XA", "leerlingen", ""): 7,
        ("school", "99XA", "geleverd_nergens_aangemeld", ""): None,
        ("school", "99XA", "leerlingen_per_status", "geenAanmelding"): None,
        ("school", "99XA", "leerlingen_per_status", "aangemeld"): None,
    }


def test_a_total_and_its_two_parts_take_the_smaller_published_part_and_never_a_0_first():
    cijfers = [
        _school("aanmeldingen", "", 7, "99XB", Level.INSTELLING),
        _school("aanmeldingen_voor_deadline", "", 5, "99XB", Level.INSTELLING),
        _school("aanmeldingen_na_deadline", "", 2, "99XB", Level.INSTELLING),
        _school("aanmeldingen_per_status", "aangemeld", 7, "99XB", Level.INSTELLING),
        _school("aanmeldingen_per_status", "geweigerd", 0, "99XB", Level.INSTELLING),
    ]
    old = _published_values(_old_suppress(JAAR, cijfers))
    primary = {("instelling", "99XB", "aanmeldingen_na_deadline", "")}
    assert disclosed(old, _sums(cijfers), primary)  # 7 - 5
    new = _published_values(suppress(JAAR, cijfers))
    assert_no_disclosure(new, _sums(cijfers), primary)
    assert new[("instelling", "99XB", "aanmeldingen_voor_deadline", "")] is None
    assert new[("instelling", "99XB", "aanmeldingen_per_status", "geweigerd")] == 0


def test_a_region_and_its_schools_are_protected_together():
    # Region 21 = schools 99XA + 99XC for every figure; 99XC has 3 registered nowhere.
    cijfers = [
        _school("leerlingen", "", 20, "21", Level.REGIO),
        _school("geleverd_nergens_aangemeld", "", 9, "21", Level.REGIO),
        _school("leerlingen", "", 12, "99XA"),
        _school("geleverd_nergens_aangemeld", "", 6, "99XA"),
        _school("leerlingen", "", 8, "99XC"),
        _school("geleverd_nergens_aangemeld", "", 3, "99XC"),
    ]
    regio = {"21": ["99XA", "99XC"]}
    primary = {("school", "99XC", "geleverd_nergens_aangemeld", "")}
    old = _published_values(_old_suppress(JAAR, cijfers))
    assert disclosed(old, _sums(cijfers, regio), primary) == {
        ("school", "99XC", "geleverd_nergens_aangemeld", ""): 3
    }
    new = _published_values(suppress(JAAR, cijfers, regio))
    assert_no_disclosure(new, _sums(cijfers, regio), primary, _units(cijfers), _values(cijfers))
    # Not enough: school 99XA knows its own 6 and the region knows its own 9 (H: an insider
    # subtracts), so with only two schools in the region all three counts must go.
    assert new[("school", "99XA", "geleverd_nergens_aangemeld", "")] is None
    assert new[("regio", "21", "geleverd_nergens_aangemeld", "")] is None
    assert new[("regio", "21", "leerlingen", "")] == 20  # nothing small in it


def test_an_insider_cannot_subtract_its_own_counts_from_the_region():
    # The review's attack: region 21 has three schools; 99XC's 3 registered nowhere is withheld with
    # 99XB's 7 as its complement. School 99XB knows its own 7 and subtracts it: 3 again.
    cijfers = [
        _school("geleverd_nergens_aangemeld", "", 30, "21", Level.REGIO),
        _school("geleverd_nergens_aangemeld", "", 20, "99XA"),
        _school("geleverd_nergens_aangemeld", "", 7, "99XB"),
        _school("geleverd_nergens_aangemeld", "", 3, "99XC"),
    ]
    regio = {"21": ["99XA", "99XB", "99XC"]}
    primary = {("school", "99XC", "geleverd_nergens_aangemeld", "")}
    only_outsider = {k: v for k, v in _values(cijfers).items()}
    only_outsider[("school", "99XB", "geleverd_nergens_aangemeld", "")] = None
    only_outsider[("school", "99XC", "geleverd_nergens_aangemeld", "")] = None
    assert_no_disclosure(only_outsider, _sums(cijfers, regio), primary)  # the outsider: x + y = 10
    with pytest.raises(AssertionError, match="99XB"):
        assert_no_disclosure(
            only_outsider, _sums(cijfers, regio), primary, _units(cijfers), _values(cijfers)
        )
    new = _published_values(suppress(JAAR, cijfers, regio))
    assert_no_disclosure(new, _sums(cijfers, regio), primary, _units(cijfers), _values(cijfers))
    assert sum(v is None for v in new.values()) == 3  # a third cell: 99XA's 20 or the region's 30


def test_cells_the_flags_alone_pin_are_still_hidden_from_plain_subtraction():
    # The review's second attack: a unit whose 4 registrations fall in 4 weeks is "1 each" for an
    # attacker who knows which cells are small, so the old suppressor spent no complement on them;
    # yet the region's week and a neighbour's published week gave each back by subtraction.
    cijfers = [_school("aanmeldingen", "", 4, "99XB", Level.INSTELLING)]
    cijfers += [
        _school("aanmeldingen_per_week", f"2027-W{w:02d}", 1, "99XB", Level.INSTELLING) for w in (1, 2, 3, 4)
    ]
    cijfers += [_school("aanmeldingen", "", 46, "99XD", Level.INSTELLING)]
    cijfers += [
        _school("aanmeldingen_per_week", f"2027-W{w:02d}", n, "99XD", Level.INSTELLING)
        for w, n in ((1, 10), (2, 11), (3, 12), (4, 13))
    ]
    cijfers += [_school("aanmeldingen", "", 50, "21", Level.REGIO)]
    cijfers += [
        _school("aanmeldingen_per_week", f"2027-W{w:02d}", n, "21", Level.REGIO)
        for w, n in ((1, 11), (2, 12), (3, 13), (4, 14))
    ]
    regio = {"21": ["99XB", "99XD"]}
    primary = {k for k, v in _values(cijfers).items() if 0 < v < 5}
    new = _published_values(suppress(JAAR, cijfers, regio))
    assert all(new[k] is None for k in primary)
    assert_no_disclosure(new, _sums(cijfers, regio), primary, _units(cijfers), _values(cijfers))
    assert disclosed(new, _sums(cijfers, regio)) == {}  # the outsider, who does not know which are small


def test_two_primary_cells_summing_to_2_or_8_are_each_pinned_so_a_third_goes():
    for a, b in ((1, 1), (4, 4)):
        cells = [Cell("T", a + b + 9, False), Cell("a", a, True), Cell("b", b, True), Cell("c", 9, False)]
        relation = Relation(("T",), ("a", "b", "c"))
        removed = protect(cells, [relation])
        assert removed == {"a", "b", "c"}
        assert_no_disclosure(
            {k.key: None if k.key in removed else k.value for k in cells},
            [(("T",), ("a", "b", "c"))],
            {"a", "b"},
        )


def test_protect_is_deterministic_whatever_the_order():
    cells = [Cell(k, v, 0 < v < 5) for k, v in [("T", 30), ("a", 2), ("b", 9), ("c", 9), ("d", 10)]]
    relation = [Relation(("T",), ("a", "b", "c", "d"))]
    assert protect(cells, relation) == protect(list(reversed(cells)), relation) == {"a", "b"}


# --- the scenario: every report, the stored figures and opvragenProcescijfers ------------------------


def test_the_declared_within_unit_relations_hold_on_the_scenario(cyclus_session):
    cijfers = compute_cijfers(cyclus_session, Peil.of(Calendar(), JAAR, PEILDATUM))
    values = {(f.niveau.value, f.eenheid, f.cijfer, f.dimensie): f.waarde for f in cijfers}
    exact = [r for r in relations(cijfers) if " = som " not in r.name and "geleverd nergens" not in r.name]
    assert exact and all(holds(r, values) for r in exact), [r for r in exact if not holds(r, values)]


@pytest.mark.parametrize(
    "niveau,eenheid",
    [
        (Level.SCHOOL, "99XA"),
        (Level.SCHOOL, "99XC"),
        (Level.REGIO, "21"),
        (Level.REGIO, "29"),
        (Level.LANDELIJK, ""),
    ],
)
def test_no_report_of_the_scenario_discloses_a_suppressed_count(cyclus_session, niveau, eenheid):
    rapport = make_rapport(cyclus_session, Calendar(), niveau, JAAR, eenheid, PEILDATUM)
    true_figures = compute_cijfers(cyclus_session, Peil(JAAR, rapport.deadline, PEILDATUM))
    assert_rapport_safe(rapport, true_figures, regio_indeling(cyclus_session, JAAR))
    # The CSV/xlsx rows on the peildatum are exactly the report's figures; the HTML marks every
    # suppressed cell with the one marker, never "<5".
    assert [(r[3], r[4], r[6], r[7], r[8]) for r in rijen(rapport) if r[0] == "peildatum"] == [
        (r.niveau, r.eenheid, r.cijfer, r.dimensie, r.waarde) for r in rapport.cijfers
    ]
    assert "&lt;5" not in html(rapport) and "<5" not in html(rapport)


def test_the_stored_yearly_figures_disclose_nothing_across_all_levels(cyclus_session):
    calendar = Calendar()
    true_figures = compute_cijfers(cyclus_session, Peil.of(calendar, JAAR))
    stored = compute_jaarcijfers(cyclus_session, JAAR, calendar)
    assert_table_safe(stored, true_figures, regio_indeling(cyclus_session, JAAR))


@pytest.mark.parametrize(
    "oin,brin", [(OIN["99XA"], "99XA"), (OIN["99XC"], "99XC"), (OIN["99XB"], "99XB"), (OIN["99XE"], "99XE")]
)
def test_opvragen_procescijfers_discloses_nothing_and_suppresses_only_what_it_carries(
    cyclus_session,
    keyring,  # noqa: F811 — the fixture imported above
    oin,
    brin,
):
    processing, call = _processing_for(cyclus_session, keyring, PEILDATUM, oin)
    response = opvragen_procescijfers(processing, call, brin, PEILDATUM)
    niveau = Level.SCHOOL if brin in ("99XA", "99XC") else Level.INSTELLING
    true_figures = compute_cijfers(cyclus_session, response.peil, niveaus=[niveau], eenheden={niveau: [brin]})
    assert response.cijfers
    assert_procescijfers_safe(response, true_figures)
