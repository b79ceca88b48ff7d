"""One cycle end to end: zeep clients generated from the served WSDLs, over real HTTP on 127.0.0.1,
every request signed (2W-be-S) with the party's own certificate and every answer verified.

Flows a–d as in issue 2's "Done when": school A delivers 3 pupils; institution X registers pupil 1,
institution Y pupils 1 and 2; every party sees exactly what docs/architecture.md ("Parties and what they may see") allows, and no more.
"""

from __future__ import annotations

import datetime as dt

import pytest
import zeep.exceptions

from tests.e2e.zeepclient import client
from tests.helpers import bsn, invalid_bsn

SCHOOL_A = "0000000700099XA00000"  # VO 99XA, Amsterdam (RMC 21)
SCHOOL_C = "0000000700099XC00000"  # VO 99XC, Rotterdam (RMC 29)
MBO_X = "0000000700099XB00000"  # 99XB
MBO_Y = "0000000700099XE00000"  # 99XE
AMSTERDAM = "00000099000000000363"
REGIO_21 = "00000099000000000042"

P1, P2, P3, P4, P5 = bsn("11122233"), bsn("12345678"), bsn("20000001"), bsn("30000001"), bsn("40000001")
TODAY = dt.date.today()


def leerling(volgnummer, number, gemeente, brin="99XA", postcode="1011AB", mutatie="toevoegen"):
    return {
        "volgnummer": volgnummer,
        "bsn": number,
        "brinVo": brin,
        "postcode": postcode,
        "woongemeente": gemeente,
        "mutatie": mutatie,
    }


def aanmelding(volgnummer, number, brin, status="aangemeld"):
    return {"volgnummer": volgnummer, "bsn": number, "brinMbo": brin, "status": status, "datum": TODAY}


def bsns(list_) -> set[str]:
    return {item.bsn for item in list_}


def test_a_cyclus_for_all_roles(demo_broker):
    vo_a, vo_c = client(demo_broker, "vo", SCHOOL_A), client(demo_broker, "vo", SCHOOL_C)
    mbo_x, mbo_y = client(demo_broker, "mbo", MBO_X), client(demo_broker, "mbo", MBO_Y)

    # Flow a: three pupils and one with a BSN failing the elfproef, in one batch.
    response = vo_a.service.aanleverenLeerlingen(
        leerling=[
            leerling(1, P1, "0384"),  # Diemen
            leerling(2, P2, "0363"),  # Amsterdam
            leerling(3, invalid_bsn("55555555"), "0363"),
            leerling(4, P3, "0599"),  # Rotterdam
        ]
    )
    assert (response.aantalVerwerkt, response.aantalAfgewezen) == (3, 1)
    rejected = [r for r in response.resultaat if not r.verwerkt]
    assert [(r.volgnummer, r.code) for r in rejected] == [(3, "VVA101")]
    assert "elfproef" in rejected[0].tekstNl
    assert (
        vo_c.service.aanleverenLeerlingen(
            leerling=[leerling(1, P5, "0599", brin="99XC", postcode="3011AA")]
        ).aantalVerwerkt
        == 1
    )

    # Flow b: X registers pupil 1 (and pupil 4, whom no school delivered); Y registers pupils 1 and 2.
    assert (
        mbo_x.service.aanleverenAanmeldingen(
            aanmelding=[aanmelding(1, P1, "99XB"), aanmelding(2, P4, "99XB")]
        ).aantalVerwerkt
        == 2
    )
    assert (
        mbo_y.service.aanleverenAanmeldingen(
            aanmelding=[aanmelding(1, P1, "99XE"), aanmelding(2, P2, "99XE")]
        ).aantalVerwerkt
        == 2
    )

    # School A: not registered anywhere = exactly pupil 3; status of its pupils shows both institutions.
    assert bsns(vo_a.service.opvragenNietAangemeld()) == {P3}
    status = {s.bsn: s for s in vo_a.service.opvragenStatus()}
    assert set(status) == {P1, P2, P3}
    assert sorted((a.brinMbo, a.status) for a in status[P1].aanmelding) == [
        ("99XB", "aangemeld"),
        ("99XE", "aangemeld"),
    ]
    assert status[P3].aanmelding == [] and status[P3].mboGangerStatus == "actief"

    # Institution X: yes for pupil 1 (also at Y), no for pupil 4; never where, never the school.
    x = {s.bsn: s for s in mbo_x.service.opvragenStatus()}
    assert {b: s.eldersAangemeld for b, s in x.items()} == {P1: True, P4: False}
    assert all(a.brinMbo == "99XB" for s in x.values() for a in s.aanmelding)
    assert all(s.brinVo is None and s.woongemeente is None for s in x.values())

    # Flow c: gemeente Amsterdam sees only its resident (pupil 2), with BRIN VO and BRIN MBO.
    overzicht = client(demo_broker, "gemeente", AMSTERDAM).service.opvragenOverzicht()
    assert [(o.bsn, o.brinVo, o.woongemeente) for o in overzicht] == [(P2, "99XA", "0363")]
    assert [(a.brinMbo, a.status) for a in overzicht[0].aanmelding] == [("99XE", "aangemeld")]

    # Flow d: the region-21 system sees the pupils of school A (in its region) and of its institution X,
    # not pupil 5 (school and residence in Rotterdam), and is refused when it asks for pupil 5.
    regio = client(demo_broker, "regio", REGIO_21)
    assert bsns(regio.service.opvragenStatus()) == {P1, P2, P3, P4}
    with pytest.raises(zeep.exceptions.Fault) as error:
        regio.service.opvragenStatus(leerling=[{"bsn": P1}, {"bsn": P5}])
    assert (error.value.code, error.value.message) == ("soap:Client.DK0002", "Niet geautoriseerd")

    # A school asking about another school's pupil: Client.DK0002, and nothing about the pupil.
    with pytest.raises(zeep.exceptions.Fault) as error:
        vo_a.service.opvragenStatus(leerling=[{"bsn": P5}])
    assert error.value.code == "soap:Client.DK0002"
    assert P5 not in error.value.message and P5 not in str(error.value.detail)


def test_changes_since_cursor(demo_broker):
    vo_a = client(demo_broker, "vo", SCHOOL_A)
    vo_a.service.aanleverenLeerlingen(leerling=[leerling(1, P1, "0363"), leerling(2, P2, "0363")])
    first = vo_a.service.opvragenWijzigingen(vanafCursor=0)
    assert bsns(w.leerling for w in first.wijziging) == {P1, P2} and first.meer is False
    client(demo_broker, "mbo", MBO_X).service.aanleverenAanmeldingen(
        aanmelding=[aanmelding(1, P2, "99XB", "aangemeld")]
    )
    second = vo_a.service.opvragenWijzigingen(vanafCursor=first.volgendeCursor)
    assert [(w.leerling.bsn, [a.status for a in w.leerling.aanmelding]) for w in second.wijziging] == [
        (P2, ["aangemeld"])
    ]
    assert vo_a.service.opvragenWijzigingen(vanafCursor=second.volgendeCursor).wijziging == []


def test_status_transitions_and_ping(demo_broker):
    mbo_x = client(demo_broker, "mbo", MBO_X)
    assert mbo_x.service.ping(echo="hallo").echo == "hallo"
    response = mbo_x.service.aanleverenAanmeldingen(
        aanmelding=[
            aanmelding(1, P1, "99XB", "aangemeld"),
            aanmelding(2, P1, "99XB", "geaccepteerd"),
            aanmelding(3, P1, "99XB", "aangemeld"),  # back from geaccepteerd: not allowed
            aanmelding(4, P1, "99XB", "ingeschreven"),
        ]
    )
    assert [(r.volgnummer, r.verwerkt, r.code) for r in response.resultaat] == [
        (1, True, None),
        (2, True, None),
        (3, False, "VVA111"),
        (4, True, None),
    ]
