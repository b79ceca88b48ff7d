"""Use cases per role: what is applied, what is refused, and what each party gets to see."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from broker.db import models
from broker.service.aanmeldingen import AanmeldingInput, aanleveren_aanmeldingen
from broker.service.context import NotAuthorised
from broker.service.leerlingen import LeerlingInput, aanleveren_leerlingen
from broker.service.opvragen import (
    opvragen_niet_aangemeld,
    opvragen_overzicht,
    opvragen_status,
    opvragen_wijzigingen,
)
from tests.helpers import bsn

SCHOOL_A, SCHOOL_C = "0000000700099XA00000", "0000000700099XC00000"
MBO_X, MBO_Y = "0000000700099XB00000", "0000000700099XE00000"
AMSTERDAM, REGIO_21 = "00000099000000000363", "00000099000000000042"
P1, P2, P3 = bsn("11122233"), bsn("12345678"), bsn("20000001")


def leerling(
    volgnummer, nummer, brin="99XA", gemeente="0363", mutatie="toevoegen", reden=None, postcode="1011AB"
):
    return LeerlingInput(volgnummer, nummer, None, brin, None, postcode, gemeente, mutatie, reden)


def aanmelding(volgnummer, nummer, brin, status, datum=date(2027, 3, 1), crebo=None):
    return AanmeldingInput(volgnummer, nummer, None, brin, status, datum, crebo, None)


def codes(outcome):
    return [(u.volgnummer, u.melding.code if u.melding else None) for u in outcome.outcomes]


def test_vo_batch_with_every_kind_of_error(processing, call):
    school = call(SCHOOL_A)
    aanleveren_leerlingen(processing, school, [leerling(1, P3)])
    outcome = aanleveren_leerlingen(
        processing,
        school,
        [
            leerling(1, P1),
            leerling(2, P1),  # the same pupil twice
            leerling(3, P2, brin="99ZZ"),  # unknown BRIN
            leerling(4, P2, brin="99xa"),  # lowercase: format
            leerling(5, P2, gemeente="9999"),  # unknown gemeente
            leerling(6, P2, postcode="1011 SA"),  # SA is never issued
            leerling(7, P2, mutatie="wijzigen"),  # never delivered
            leerling(8, P2, mutatie="afmelden"),  # no reason
            leerling(9, P3),  # already active
            leerling(10, P2),
        ],
    )
    assert codes(outcome) == [
        (1, None),
        (2, "VVA113"),
        (3, "VVA105"),
        (4, "VVA104"),
        (5, "VVA108"),
        (6, "VVA107"),
        (7, "VVA114"),
        (8, "VVA110"),
        (9, "VVA116"),
        (10, None),
    ]
    assert (
        processing.session.scalar(select(models.Leerling).where(models.Leerling.postcode == "1011 SA"))
        is None
    )


def test_vo_with_a_known_brin_of_another_applies_nothing(processing, call):
    with pytest.raises(NotAuthorised, match="99XC"):
        aanleveren_leerlingen(processing, call(SCHOOL_A), [leerling(1, P1), leerling(2, P2, brin="99XC")])
    assert processing.session.scalars(select(models.Leerling)).all() == []


def test_replace_start_population_withdraws_the_missing(processing, call):
    school = call(SCHOOL_A)
    aanleveren_leerlingen(processing, school, [leerling(1, P1), leerling(2, P2), leerling(3, P3)])
    aanleveren_leerlingen(processing, school, [leerling(1, P1, mutatie="wijzigen")], replace=True)
    rows = {
        r.status: r.afmeldreden
        for r in processing.session.scalars(select(models.Leerling))
        if r.status == "afgemeld"
    }
    assert rows == {"afgemeld": "nietMeerAangeleverd"}
    assert {o.nummer.waarde for o in opvragen_niet_aangemeld(processing, school, None)} == {P1}


def test_status_transitions_are_stored_with_their_time(processing, call):
    mbo = call(MBO_X)
    outcome = aanleveren_aanmeldingen(
        processing,
        mbo,
        [
            aanmelding(1, P1, "99XB", "aangemeld", date(2027, 3, 1)),
            aanmelding(2, P1, "99XB", "aangemeld", date(2027, 3, 2)),  # repeat: nothing recorded
            aanmelding(3, P1, "99XB", "geaccepteerd", date(2027, 4, 15)),
            aanmelding(4, P1, "99XB", "aanmeldingOntvangen"),  # backwards: refused
            aanmelding(5, P1, "99XB", "ingeschreven", date(2030, 1, 1)),  # in the future
        ],
    )
    assert codes(outcome) == [(1, None), (2, None), (3, None), (4, "VVA111"), (5, "VVA112")]
    transitions = processing.session.execute(
        select(
            models.AanmeldingOvergang.van, models.AanmeldingOvergang.naar, models.AanmeldingOvergang.datum
        ).order_by(models.AanmeldingOvergang.id)
    ).all()
    assert transitions == [
        (None, "aangemeld", date(2027, 3, 1)),
        ("aangemeld", "geaccepteerd", date(2027, 4, 15)),
    ]


def test_mbo_with_brin_of_another_instelling_is_dk0002(processing, call):
    with pytest.raises(NotAuthorised):
        aanleveren_aanmeldingen(processing, call(MBO_X), [aanmelding(1, P1, "99XE", "aangemeld")])


def test_regionaal_systeem_delivers_only_for_its_own_instellingen(processing, call):
    regio = call(REGIO_21)
    assert codes(aanleveren_aanmeldingen(processing, regio, [aanmelding(1, P1, "99XB", "aangemeld")])) == [
        (1, None)
    ]
    with pytest.raises(NotAuthorised):
        aanleveren_aanmeldingen(processing, regio, [aanmelding(1, P1, "99XE", "aangemeld")])


def test_mbo_sees_only_yes_or_no_elsewhere(processing, call):
    aanleveren_leerlingen(processing, call(SCHOOL_A), [leerling(1, P1)])
    aanleveren_aanmeldingen(processing, call(MBO_X), [aanmelding(1, P1, "99XB", "aangemeld")])
    aanleveren_aanmeldingen(processing, call(MBO_Y), [aanmelding(1, P1, "99XE", "geweigerd")])
    (x,) = opvragen_status(processing, call(MBO_X), [])
    # Y refused the pupil: that is not an active registration elsewhere.
    assert (x.beeld.elders_aangemeld, [a.brin_mbo for a in x.beeld.aanmeldingen], x.beeld.brin_vo) == (
        False,
        ["99XB"],
        None,
    )
    aanleveren_aanmeldingen(processing, call(MBO_Y), [aanmelding(1, P1, "99XE", "aangemeld")])
    assert opvragen_status(processing, call(MBO_X), [(P1, None)])[0].beeld.elders_aangemeld is True


def test_gemeente_sees_residents_not_ingeschreven_and_only_its_own_gemeenten(processing, call):
    aanleveren_leerlingen(
        processing, call(SCHOOL_A), [leerling(1, P1), leerling(2, P2), leerling(3, P3, gemeente="0384")]
    )
    aanleveren_aanmeldingen(processing, call(MBO_X), [aanmelding(1, P1, "99XB", "ingeschreven")])
    gemeente = call(AMSTERDAM)
    assert [o.nummer.waarde for o in opvragen_overzicht(processing, gemeente, [])] == [P2]
    assert [o.nummer.waarde for o in opvragen_overzicht(processing, gemeente, ["GM0363"])] == [P2]
    with pytest.raises(NotAuthorised):
        opvragen_overzicht(processing, gemeente, ["0599"])


def test_unknown_and_foreign_leerling_give_the_same_answer(processing, call):
    aanleveren_leerlingen(processing, call(SCHOOL_C), [leerling(1, P1, brin="99XC", gemeente="0599")])
    errors = []
    for requested in [(P1, None), (P2, None), ("123", None)]:
        with pytest.raises(NotAuthorised) as error:
            opvragen_status(processing, call(SCHOOL_A), [requested])
        errors.append(error.value.reason)
    assert len(set(errors)) == 1 and P1 not in errors[0]


def test_changes_paginate_with_a_cursor(processing, call):
    school = call(SCHOOL_A)
    aanleveren_leerlingen(processing, school, [leerling(1, P1), leerling(2, P2), leerling(3, P3)])
    aanleveren_leerlingen(
        processing, call(SCHOOL_C), [leerling(1, bsn("40000001"), brin="99XC", gemeente="0599")]
    )
    processing.session.commit()  # feed rows are written at commit (broker.db.commit_order)
    first = opvragen_wijzigingen(processing, school, 0, 2)
    assert (len(first.wijzigingen), first.meer) == (2, True)
    second = opvragen_wijzigingen(processing, school, first.volgende_cursor, 2)
    # The other school's pupil is skipped, and the cursor moves past it.
    assert (len(second.wijzigingen), second.meer) == (1, False)
    seen = {o.nummer.waarde for _, o in first.wijzigingen + second.wijzigingen}
    assert seen == {P1, P2, P3}
    assert opvragen_wijzigingen(processing, school, second.volgende_cursor, 2).wijzigingen == []


def test_aanmelding_without_crebo_updates_the_only_aanmelding_at_that_instelling(processing, call):
    mbo, school = call(MBO_X), call(SCHOOL_A)
    aanleveren_leerlingen(processing, school, [leerling(1, P1)])
    steps = [
        aanmelding(1, P1, "99XB", "aanmeldingOntvangen", crebo="25180"),
        aanmelding(2, P1, "99XB", "geaccepteerd"),  # no crebo: the only registration at 99XB
        aanmelding(3, P1, "99XB", "aangemeld", crebo="25181"),  # a second programme
        aanmelding(4, P1, "99XB", "ingeschreven"),  # now ambiguous
    ]
    assert codes(aanleveren_aanmeldingen(processing, mbo, steps)) == [
        (1, None),
        (2, None),
        (3, None),
        (4, "VVA119"),
    ]
    (own,) = opvragen_status(processing, mbo, [])
    assert sorted((a.crebo, a.status) for a in own.beeld.aanmeldingen) == [
        ("25180", "geaccepteerd"),
        ("25181", "aangemeld"),
    ]
    # The school sees both registrations, but not the programmes.
    (from_school,) = opvragen_status(processing, school, [])
    assert {a.crebo for a in from_school.beeld.aanmeldingen} == {None}


def test_delivery_by_another_school_does_not_hide_the_leerling_from_the_woongemeente(processing, call):
    aanleveren_leerlingen(processing, call(SCHOOL_A), [leerling(1, P1, gemeente="0363")])
    aanleveren_leerlingen(
        processing, call(SCHOOL_C), [leerling(1, P1, brin="99XC", gemeente="0599", postcode="3011AA")]
    )
    amsterdam = [o.nummer.waarde for o in opvragen_overzicht(processing, call(AMSTERDAM), [])]
    regio = {o.nummer.waarde: o.beeld.brin_vo for o in opvragen_status(processing, call(REGIO_21), [])}
    assert amsterdam == [P1] and regio == {P1: "99XA"}
    # Each school still sees its own delivery.
    assert opvragen_status(processing, call(SCHOOL_C), [])[0].beeld.brin_vo == "99XC"


def test_regio_sees_via_its_own_instelling_only_what_that_instelling_sees(processing, call):
    aanleveren_leerlingen(
        processing, call(SCHOOL_C), [leerling(1, P1, brin="99XC", gemeente="0599", postcode="3011AA")]
    )
    aanleveren_aanmeldingen(processing, call(MBO_Y), [aanmelding(1, P1, "99XE", "aangemeld")])
    regio = call(REGIO_21)
    with pytest.raises(NotAuthorised):
        opvragen_status(processing, regio, [(P1, None)])
    aanleveren_aanmeldingen(processing, regio, [aanmelding(1, P1, "99XB", "aanmeldingOntvangen")])
    (beeld,) = [o.beeld for o in opvragen_status(processing, regio, [(P1, None)])]
    assert (beeld.brin_vo, [a.brin_mbo for a in beeld.aanmeldingen], beeld.elders_aangemeld) == (
        None,
        ["99XB"],
        True,
    )
