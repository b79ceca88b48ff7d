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


def _set_endpoint(session, oin: str, endpoint: str = "https://ontvanger.example/vva") -> None:
    partij_registry = PartijRegistry(session)
    current = next(p for p in partij_registry.list_() if p.oin == oin)
    partij_registry.add(replace(current, endpoint=endpoint), replace=True)
    session.flush()


def test_one_note_per_recipient_that_may_see_the_leerling(processing, call):
    _set_endpoint(processing.session, AMSTERDAM)
    _set_endpoint(processing.session, REGIO)
    aanleveren_leerlingen(
        processing, call(SCHOOL_A), [leerling(1, P1), leerling(2, P2, gemeente="0599", postcode="3011AA")]
    )
    assert plan_pushes(processing) == 3  # P1 → Amsterdam and region 21; P2 (Rotterdam) → region 21 (school)
    processing.session.commit()  # notices are written at commit, in commit order (broker.db.commit_order)
    receivers = sorted(processing.session.execute(select(models.OutboxMessage.receiver_oin)).scalars())
    assert receivers == sorted([AMSTERDAM, REGIO, REGIO])
    # A second change before any attempt adds nothing: the waiting notice will carry the newest state.
    processing.changed.clear()
    aanleveren_leerlingen(
        processing, call(SCHOOL_A), [leerling(1, P1, mutatie="wijzigen", postcode="1012AB")]
    )
    assert plan_pushes(processing) == 0


def test_on_delivery_the_registry_of_that_moment_counts(processing, call):
    _set_endpoint(processing.session, AMSTERDAM)
    aanleveren_leerlingen(processing, call(SCHOOL_A), [leerling(1, P1)])
    plan_pushes(processing)
    processing.session.commit()
    sleutel = processing.session.scalar(select(models.OutboxMessage.ordering_key))
    rendering = render(processing, AMSTERDAM, sleutel)
    assert rendering is not None and P1.encode() in rendering.xml and b"<ns0:woongemeente>0363" in rendering.xml
    # The gemeente's scope changes before delivery: the queued push lapses, nothing leaves.
    partij_registry = PartijRegistry(processing.session)
    current = next(p for p in partij_registry.list_() if p.oin == AMSTERDAM)
    partij_registry.add(replace(current, gemeentecodes=("0384",)), replace=True)
    processing.session.flush()
    assert render(processing, AMSTERDAM, sleutel) is None


def test_a_moved_leerling_no_longer_belongs_to_the_old_gemeente(processing, call):
    aanleveren_leerlingen(processing, call(SCHOOL_A), [leerling(1, P1)])
    aanleveren_leerlingen(
        processing, call(SCHOOL_A), [leerling(1, P1, mutatie="afmelden", reden="verhuisd")]
    )
    aanleveren_leerlingen(
        processing, call(SCHOOL_C), [leerling(1, P1, brin="99XC", gemeente="0599", postcode="3011AA")]
    )
    assert opvragen_overzicht(processing, call(AMSTERDAM), []) == []
