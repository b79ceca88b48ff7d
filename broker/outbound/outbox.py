"""The transactional outbox: pushes are written in the transaction that makes the change.

``plan_pushes`` runs at the end of a business transaction: for every pupil changed in it and every
party with a push endpoint that may see that pupil (``broker.domain.routering``), one notice
"pupil X changed, tell receiver R" is queued — unless one for the same pupil and receiver is still
waiting untried, which will carry the newest state anyway. If the transaction rolls back, so do its
pushes; if it commits, they will be delivered.

The content is rendered at the first delivery attempt (``render``), from the committed state and the
registry as they are then: a push never carries a stale or half-seen state, never goes to a party
whose scope, endpoint or registration has changed meanwhile, and is skipped when it would tell the
receiver nothing new. From then on the rendered bytes are kept, encrypted, so every retry under the
same MessageID carries the same Body (O5).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from lxml import etree
from spyne.util.xml import get_object_as_xml
from sqlalchemy import func, select

from broker.db import models
from broker.db.commit_order import add_in_commit_order
from broker.domain.routering import ontvangers
from broker.domain.visibility import Partij, normaliseer_rmc
from broker.registry.opname import registeropname
from broker.service.contacten import Contactboek
from broker.service.context import Verwerking
from broker.service.feiten import Rijen
from broker.service.opvragen import Overzicht, signaal_regel
from broker.soap import mapping
from broker.soap import models as m

WACHTEND, BEZIG, AFGELEVERD, DOOD, VERVALLEN = "wachtend", "bezig", "afgeleverd", "dood", "vervallen"


def plan_pushes(verwerking: Verwerking) -> int:
    """Queue a push notice for every pupil changed in ``verwerking``'s transaction and every party with
    an endpoint that may see it; returns how many were queued.

    Source: the brief ("the facility informs the other parties of every change immediately"); who
    receives what: ``broker.domain.routering`` (WEB art. 8.0.3; AVG art. 5 lid 1 sub c).
    """
    if not verwerking.gewijzigd:
        return 0
    partijen = _Ontvangers.laad(verwerking)
    if not partijen.alle:
        return 0
    rijen = Rijen.laad(verwerking, verwerking.gewijzigd.keys())
    al_wachtend = _wachtende_notities(verwerking, verwerking.gewijzigd.keys())
    aantal = 0
    for sleutel_hash in verwerking.gewijzigd:
        for partij, endpoint in partijen.kandidaten(rijen, sleutel_hash):
            if (partij.oin, sleutel_hash) in al_wachtend:
                continue
            dossier = rijen.dossiers(partij, [sleutel_hash]).get(sleutel_hash)
            if dossier is not None and ontvangers(dossier.feiten, [partij]):
                _in_wachtrij(verwerking, partij.oin, endpoint, sleutel_hash)
                al_wachtend.add((partij.oin, sleutel_hash))
                aantal += 1
    return aantal


@dataclass(frozen=True)
class _Ontvangers:
    """Parties with an endpoint, indexed by the codes their scope is made of, so that a change is only
    checked against the parties that could possibly see it (thousands of parties, batches of 5,000)."""

    alle: list[tuple[Partij, str]]
    per_brin: dict[str, list[int]]
    per_gemeente: dict[str, list[int]]
    per_rmc: dict[str, list[int]]

    @classmethod
    def laad(cls, verwerking: Verwerking) -> _Ontvangers:
        alle = actieve_ontvangers(verwerking.session)
        per_brin: dict[str, list[int]] = {}
        per_gemeente: dict[str, list[int]] = {}
        per_rmc: dict[str, list[int]] = {}
        for i, (partij, _) in enumerate(alle):
            for brin in partij.brins:
                per_brin.setdefault(brin, []).append(i)
            for code in partij.gemeentecodes:
                per_gemeente.setdefault(code, []).append(i)
            for rmc in partij.rmc_regios:
                per_rmc.setdefault(normaliseer_rmc(rmc), []).append(i)
        return cls(alle, per_brin, per_gemeente, per_rmc)

    def kandidaten(self, rijen: Rijen, sleutel_hash: str) -> list[tuple[Partij, str]]:
        leveringen = rijen.leerlingen.get(sleutel_hash, [])
        brins = {r.brin_vo for r in leveringen} | {
            a.brin_mbo for a in rijen.aanmeldingen.get(sleutel_hash, [])
        }
        gemeenten = {r.gemeentecode for r in leveringen if r.gemeentecode}
        rmcs = {rijen.regio.gemeente.get(g) for g in gemeenten}
        rmcs |= {
            rijen.regio.vestiging.get(r.vestiging or "") or rijen.regio.instelling.get(r.brin_vo)
            for r in leveringen
        }
        indices: set[int] = set()
        for brin in brins:
            indices.update(self.per_brin.get(brin, []))
        for code in gemeenten:
            indices.update(self.per_gemeente.get(code, []))
        for rmc in rmcs - {None}:
            indices.update(self.per_rmc.get(normaliseer_rmc(rmc), []))
        return [self.alle[i] for i in sorted(indices)]


def actieve_ontvangers(session) -> list[tuple[Partij, str]]:
    """Every active party with a push endpoint, as (registry view, endpoint), in OIN order."""
    return registeropname(session).ontvangers()


def _wachtende_notities(verwerking: Verwerking, hashes: Iterable[str]) -> set[tuple[str, str]]:
    U = models.UitgaandBericht
    lijst = list(hashes)
    uitkomst: set[tuple[str, str]] = set()
    for i in range(0, len(lijst), 500):
        uitkomst.update(
            verwerking.session.execute(
                select(U.ontvanger_oin, U.volgorde_sleutel).where(
                    U.status == WACHTEND, U.pogingen == 0, U.volgorde_sleutel.in_(lijst[i : i + 500])
                )
            ).tuples()
        )
    return uitkomst


def _in_wachtrij(verwerking: Verwerking, oin: str, endpoint: str, volgorde: str) -> None:
    # Written at commit, its id drawn in commit order: a pupil's pushes leave in the order of the
    # commits they announce (broker.db.commit_order).
    add_in_commit_order(
        verwerking.session,
        models.UitgaandBericht(
            ontvanger_oin=oin,
            endpoint=endpoint,
            operatie="ontvangenWijziging",
            volgorde_sleutel=volgorde,
            message_id=f"urn:uuid:{uuid.uuid4()}",
            inhoud=b"",  # rendered at the first attempt
            status=WACHTEND,
            pogingen=0,
            volgende_poging_op=verwerking.nu,
            aangemaakt_op=verwerking.nu,
        ),
    )


@dataclass(frozen=True)
class Weergave:
    """A push rendered for sending: the Body content, and a digest of what it tells the receiver."""

    xml: bytes
    digest: str


def render(verwerking: Verwerking, ontvanger_oin: str, sleutel_hash: str) -> Weergave | None:
    """The ``ontvangenWijziging`` for pupil ``sleutel_hash`` as receiver ``ontvanger_oin`` may see it
    now, or None when the receiver is no longer an active party or may not see the pupil any more."""
    partij = registeropname(verwerking.session).zoek(ontvanger_oin)
    if partij is None:
        return None
    dossier = Rijen.laad(verwerking, [sleutel_hash]).dossiers(partij).get(sleutel_hash)
    if dossier is None:
        return None
    pushes = ontvangers(dossier.feiten, [partij])
    if not pushes:
        return None
    nummer = verwerking.sleutelbos.ontsleutel(dossier.nummer_versleuteld)
    # A push shows the pupil exactly as an answer would, contact details included (issue 15, item 5).
    beeld = pushes[0].beeld
    contacten = Contactboek(verwerking.session, verwerking.cyclus.jaar).contacten(beeld)
    leerling = mapping.overzicht_uit(Overzicht(nummer, beeld, contacten))
    W = models.Wijziging
    laatste, tijdstip = verwerking.session.execute(
        select(func.max(W.volgnummer), func.max(W.vastgelegd_op)).where(W.sleutel_hash == sleutel_hash)
    ).one()
    if tijdstip is not None and tijdstip.tzinfo is None:  # SQLite gives naive UTC
        tijdstip = tijdstip.replace(tzinfo=UTC)
    bericht = m.OntvangenWijziging(
        wijzigingId=laatste or 0, tijdstip=tijdstip or verwerking.nu, leerling=leerling
    )
    xml = etree.tostring(get_object_as_xml(bericht, m.OntvangenWijziging))
    inhoud = etree.tostring(get_object_as_xml(leerling, m.LeerlingOverzicht))
    return Weergave(xml, hashlib.sha256(inhoud).hexdigest())


def render_signaal(verwerking: Verwerking, ontvanger_oin: str, signaal_id: int | None) -> Weergave | None:
    """The ``ontvangenSignaal`` for a stored signal, or None when the signal is gone (purged) or the
    receiver is no longer the active party it was meant for."""
    rij = verwerking.session.get(models.Signaal, signaal_id) if signaal_id is not None else None
    if rij is None or rij.partij_oin != ontvanger_oin:
        return None
    if registeropname(verwerking.session).zoek(ontvanger_oin) is None:
        return None
    signaal = mapping.signaal_uit(signaal_regel(verwerking, rij))
    xml = etree.tostring(get_object_as_xml(m.OntvangenSignaal(signaal=signaal), m.OntvangenSignaal))
    return Weergave(xml, hashlib.sha256(xml).hexdigest())


def laatst_afgeleverd(session, ontvanger_oin: str, sleutel_hash: str) -> str | None:
    """Digest of the last push of this pupil delivered to this receiver (to skip one that says the same)."""
    U = models.UitgaandBericht
    return session.scalar(
        select(U.inhoud_digest)
        .where(U.ontvanger_oin == ontvanger_oin, U.volgorde_sleutel == sleutel_hash, U.status == AFGELEVERD)
        .order_by(U.id.desc())
        .limit(1)
    )
