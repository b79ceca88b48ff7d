"""Rendering a queued push for delivery: the content of an outbox row is made at its first delivery
attempt, not when it is queued (``broker.service.pushes`` queues it).

It is rendered from the committed state and the registry as they are then: a push never carries a
stale or half-seen state, never goes to a party whose scope, endpoint or registration has changed
meanwhile, and is skipped when it would tell the receiver nothing new. From then on the rendered
bytes are kept, encrypted, so every retry under the same MessageID carries the same Body (O5).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC

from lxml import etree
from spyne.util.xml import get_object_as_xml
from sqlalchemy import func, select

from broker.db import models
from broker.db.models import AFGELEVERD
from broker.domain.routing import receivers
from broker.registry.snapshot import registry_snapshot
from broker.service.contacten import ContactBook
from broker.service.context import Processing
from broker.service.feiten import Rows
from broker.service.opvragen import Overzicht, signaal_row
from broker.soap import mapping
from broker.soap import models as m


@dataclass(frozen=True)
class Rendering:
    """A push rendered for sending: the Body content, and a digest of what it tells the receiver."""

    xml: bytes
    digest: str


def render(processing: Processing, ontvanger_oin: str, sleutel_hash: str) -> Rendering | None:
    """The ``ontvangenWijziging`` for pupil ``sleutel_hash`` as receiver ``ontvanger_oin`` may see it
    now, or None when the receiver is no longer an active party or may not see the pupil any more."""
    partij = registry_snapshot(processing.session).find(ontvanger_oin)
    if partij is None:
        return None
    dossier = Rows.load(processing, [sleutel_hash]).dossiers(partij).get(sleutel_hash)
    if dossier is None:
        return None
    pushes = receivers(dossier.feiten, [partij])
    if not pushes:
        return None
    nummer = processing.keyring.decrypt(dossier.nummer_versleuteld)
    # A push shows the pupil exactly as an answer would, contact details included (issue 15, item 5).
    beeld = pushes[0].beeld
    contacten = ContactBook(processing.session, processing.cyclus.jaar).contacten(beeld)
    leerling = mapping.overzicht_out(Overzicht(nummer, beeld, contacten))
    W = models.Wijziging
    last, tijdstip = processing.session.execute(
        select(func.max(W.volgnummer), func.max(W.vastgelegd_op)).where(W.sleutel_hash == sleutel_hash)
    ).one()
    if tijdstip is not None and tijdstip.tzinfo is None:  # SQLite gives naive UTC
        tijdstip = tijdstip.replace(tzinfo=UTC)
    message = m.OntvangenWijziging(
        wijzigingId=last or 0, tijdstip=tijdstip or processing.now, leerling=leerling
    )
    xml = etree.tostring(get_object_as_xml(message, m.OntvangenWijziging))
    content = etree.tostring(get_object_as_xml(leerling, m.LeerlingOverzicht))
    return Rendering(xml, hashlib.sha256(content).hexdigest())


def render_signaal(processing: Processing, ontvanger_oin: str, signaal_id: int | None) -> Rendering | None:
    """The ``ontvangenSignaal`` for a stored signal, or None when the signal is gone (purged) or the
    receiver is no longer the active party it was meant for."""
    row = processing.session.get(models.Signaal, signaal_id) if signaal_id is not None else None
    if row is None or row.partij_oin != ontvanger_oin:
        return None
    if registry_snapshot(processing.session).find(ontvanger_oin) is None:
        return None
    signaal = mapping.signaal_out(signaal_row(processing, row))
    xml = etree.tostring(get_object_as_xml(m.OntvangenSignaal(signaal=signaal), m.OntvangenSignaal))
    return Rendering(xml, hashlib.sha256(xml).hexdigest())


def last_delivered(session, ontvanger_oin: str, sleutel_hash: str) -> str | None:
    """Digest of the last push of this pupil delivered to this receiver (to skip one that says the same)."""
    U = models.OutboxMessage
    return session.scalar(
        select(U.content_digest)
        .where(U.receiver_oin == ontvanger_oin, U.ordering_key == sleutel_hash, U.status == AFGELEVERD)
        .order_by(U.id.desc())
        .limit(1)
    )
