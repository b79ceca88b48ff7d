"""The outbox's decisions against a real database: who gets a notice, and what is sent at delivery."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from broker.db import models
from broker.outbound.rendering import render
from broker.registry.repository import PartijRegistry
from broker.service.leerlingen import aanleveren_leerlingen
from broker.service.opvragen import opvragen_overzicht
from broker.service.pushes import plan_pushes
from tests.service.test_use_cases import AMSTERDAM, P1, P2, SCHOOL_A, SCHOOL_C, leerling

REGIO = "00000099000000000042"


def _geef_endpoint(session, oin: str, endpoint: str = "https://ontvanger.example/vva") -> None:
    register = PartijRegistry(session)
    current = next(p for p in register.list_() if p.oin == oin)
    register.add(replace(current, endpoint=endpoint), replace=True)
    session.flush()


def test_een_notitie_per_ontvanger_die_de_leerling_mag_zien(processing, call):
    _geef_endpoint(processing.session, AMSTERDAM)
    _geef_endpoint(processing.session, REGIO)
    aanleveren_leerlingen(
        processing, call(SCHOOL_A), [leerling(1, P1), leerling(2, P2, gemeente="0599", postcode="3011AA")]
    )
    assert plan_pushes(processing) == 3  # P1 → Amsterdam and region 21; P2 (Rotterdam) → region 21 (school)
    processing.session.commit()  # notices are written at commit, in commit order (broker.db.commit_order)
    ontvangers = sorted(processing.session.execute(select(models.UitgaandBericht.ontvanger_oin)).scalars())
    assert ontvangers == sorted([AMSTERDAM, REGIO, REGIO])
    # A second change before any attempt adds nothing: the waiting notice will carry the newest state.
    processing.changed.clear()
    aanleveren_leerlingen(
        processing, call(SCHOOL_A), [leerling(1, P1, mutatie="wijzigen", postcode="1012AB")]
    )
    assert plan_pushes(processing) == 0


def test_bij_aflevering_telt_het_register_van_dat_moment(processing, call):
    _geef_endpoint(processing.session, AMSTERDAM)
    aanleveren_leerlingen(processing, call(SCHOOL_A), [leerling(1, P1)])
    plan_pushes(processing)
    processing.session.commit()
    sleutel = processing.session.scalar(select(models.UitgaandBericht.volgorde_sleutel))
    rendering = render(processing, AMSTERDAM, sleutel)
    assert rendering is not None and P1.encode() in rendering.xml and b"<ns0:woongemeente>0363" in rendering.xml
    # The gemeente's scope changes before delivery: the queued push lapses, nothing leaves.
    register = PartijRegistry(processing.session)
    current = next(p for p in register.list_() if p.oin == AMSTERDAM)
    register.add(replace(current, gemeentecodes=("0384",)), replace=True)
    processing.session.flush()
    assert render(processing, AMSTERDAM, sleutel) is None


def test_verhuisde_leerling_is_niet_meer_van_de_oude_gemeente(processing, call):
    aanleveren_leerlingen(processing, call(SCHOOL_A), [leerling(1, P1)])
    aanleveren_leerlingen(
        processing, call(SCHOOL_A), [leerling(1, P1, mutatie="afmelden", reden="verhuisd")]
    )
    aanleveren_leerlingen(
        processing, call(SCHOOL_C), [leerling(1, P1, brin="99XC", gemeente="0599", postcode="3011AA")]
    )
    assert opvragen_overzicht(processing, call(AMSTERDAM), []) == []
