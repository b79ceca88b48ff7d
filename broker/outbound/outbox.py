"""The transactional outbox: pushes are written in the transaction that makes the change.

``plan_pushes`` runs at the end of a business transaction: for every pupil changed in it and every
party with a push endpoint that may see that pupil (``broker.domain.routering``), one
``ontvangenWijziging`` is queued, holding the pupil exactly as that party may see it, encrypted at
rest. If the transaction rolls back, so do its pushes; if it commits, they will be delivered.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from lxml import etree
from spyne.util.xml import get_object_as_xml
from sqlalchemy import select

from broker.db import models
from broker.domain.routering import ontvangers
from broker.domain.visibility import Partij
from broker.registry.repository import PartijRegister
from broker.service.context import Verwerking
from broker.service.feiten import Rijen
from broker.service.opvragen import Overzicht
from broker.soap import mapping
from broker.soap import models as m

WACHTEND, BEZIG, AFGELEVERD, DOOD = "wachtend", "bezig", "afgeleverd", "dood"


def plan_pushes(verwerking: Verwerking) -> int:
    """Queue the pushes for every pupil changed in ``verwerking``'s transaction; returns how many.

    Source: the brief ("the facility informs the other parties of every change immediately"); who
    receives what: ``broker.domain.routering`` (WEB art. 8.0.3; AVG art. 5 lid 1 sub c).
    """
    if not verwerking.gewijzigd:
        return 0
    partijen = _partijen_met_endpoint(verwerking)
    if not partijen:
        return 0
    verwerking.session.flush()  # the change-feed rows get their sequence numbers
    rijen = Rijen.laad(verwerking, verwerking.gewijzigd.keys())
    aantal = 0
    for partij, endpoint in partijen:
        dossiers = rijen.dossiers(partij)
        for sleutel_hash, wijziging in sorted(verwerking.gewijzigd.items(), key=lambda kv: kv[1].volgnummer):
            dossier = dossiers.get(sleutel_hash)
            if dossier is None:
                continue
            for push in ontvangers(dossier.feiten, [partij]):
                nummer = verwerking.sleutelbos.ontsleutel(dossier.nummer_versleuteld)
                inhoud = _wijziging_xml(wijziging.volgnummer, verwerking.nu, Overzicht(nummer, push.beeld))
                _in_wachtrij(verwerking, partij.oin, endpoint, sleutel_hash, inhoud)
                aantal += 1
    return aantal


def _partijen_met_endpoint(verwerking: Verwerking) -> list[tuple[Partij, str]]:
    register = PartijRegister(verwerking.session)
    rijen = verwerking.session.scalars(
        select(models.Partij).where(models.Partij.endpoint.is_not(None), models.Partij.actief.is_(True))
    )
    uitkomst = []
    for rij in rijen:
        partij = register.zoek(rij.oin)
        if partij is not None:
            uitkomst.append((partij, rij.endpoint))
    return uitkomst


def _wijziging_xml(wijziging_id: int, tijdstip: datetime, overzicht: Overzicht) -> bytes:
    bericht = m.OntvangenWijziging(
        wijzigingId=wijziging_id, tijdstip=tijdstip, leerling=mapping.overzicht_uit(overzicht)
    )
    return etree.tostring(get_object_as_xml(bericht, m.OntvangenWijziging))


def _in_wachtrij(verwerking: Verwerking, oin: str, endpoint: str, volgorde: str, inhoud: bytes) -> None:
    verwerking.session.add(
        models.UitgaandBericht(
            ontvanger_oin=oin,
            endpoint=endpoint,
            operatie="ontvangenWijziging",
            volgorde_sleutel=volgorde,
            message_id=f"urn:uuid:{uuid.uuid4()}",
            inhoud=verwerking.sleutelbos.versleutel_data(inhoud),
            status=WACHTEND,
            pogingen=0,
            volgende_poging_op=verwerking.nu,
            aangemaakt_op=verwerking.nu,
        )
    )
