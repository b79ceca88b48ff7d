"""Flows b and d: an MBO institution (or a regional system on its behalf) delivers registrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from broker.db import models
from broker.domain.identifiers import parse_crebo, parse_leerlingnummer, parse_vestigingscode
from broker.domain.meldingen import AANMELDING_NIET_EENDUIDIG, DATUM_ONGELDIG, Afwijzing, Melding
from broker.domain.status import controleer_overgang, parse_aanmeldstatus
from broker.service.batch import BatchUitkomst
from broker.service.context import Aanroep, Verwerking
from broker.service.scope import brins_van_afzender
from broker.service.wijzigingen import registreer_wijziging


@dataclass(frozen=True)
class AanmeldingInvoer:
    """One record of ``aanleverenAanmeldingen`` as received (strings, unvalidated)."""

    volgnummer: int
    bsn: str | None
    onderwijsnummer: str | None
    brin_mbo: str | None
    status: str | None
    datum: date | None
    crebo: str | None
    locatie: str | None
    #: Set when the carrier already rejected the record (e.g. a file row with an unreadable date).
    afgewezen: Melding | None = None


def aanleveren_aanmeldingen(
    verwerking: Verwerking, aanroep: Aanroep, records: list[AanmeldingInvoer]
) -> BatchUitkomst:
    """Apply registrations and status changes (flow b, or flow d for a regional system; WEB art. 8.0.3).

    Records are applied in order, so one batch may carry aangemeld and then geaccepteerd for the same
    registration. A registration is keyed by pupil, BRIN and crebo; a record without crebo updates
    the pupil's only registration at that institution (VVA119 when there are several). A transition the status model
    forbids is rejected (VVA111); repeating the current status is accepted and records nothing.
    Raises ``NietGeautoriseerd`` (DK0002) before applying anything when a record names a known BRIN the
    caller does not act for.
    """
    brins = brins_van_afzender(verwerking, aanroep.partij, [(r.volgnummer, r.brin_mbo) for r in records])
    cyclus = verwerking.cyclus.jaar
    uitkomst = BatchUitkomst()
    for record in records:
        try:
            _verwerk(verwerking, aanroep, cyclus, record, brins[record.volgnummer])
        except Afwijzing as afwijzing:
            uitkomst.afgewezen(record.volgnummer, afwijzing.melding)
        else:
            uitkomst.verwerkt(record.volgnummer)
    return uitkomst


def _bestaande(
    verwerking: Verwerking, cyclus: int, sleutel_hash: str, brin: str, crebo: str
) -> models.Aanmelding | None:
    """The registration a record refers to: the one with its crebo, else the one without a crebo;
    a record without crebo also matches the pupil's only registration at that institution.
    Raises ``Afwijzing`` VVA119 when a record without crebo could mean several registrations."""
    rijen = verwerking.session.scalars(
        select(models.Aanmelding).where(
            models.Aanmelding.cyclus_jaar == cyclus,
            models.Aanmelding.sleutel_hash == sleutel_hash,
            models.Aanmelding.brin_mbo == brin,
        )
    ).all()
    exact = [r for r in rijen if r.crebo == crebo]
    zonder = [r for r in rijen if r.crebo == ""]
    if exact or zonder:
        return (exact or zonder)[0]
    if not crebo and len(rijen) > 1:
        raise Afwijzing(AANMELDING_NIET_EENDUIDIG)
    return rijen[0] if not crebo and rijen else None


def _verwerk(
    verwerking: Verwerking, aanroep: Aanroep, cyclus: int, record: AanmeldingInvoer, brin: Afwijzing | str
) -> None:
    if isinstance(brin, Afwijzing):
        raise brin
    if record.afgewezen is not None:
        raise Afwijzing(record.afgewezen)
    nummer = parse_leerlingnummer(record.bsn, record.onderwijsnummer)
    status = parse_aanmeldstatus(record.status or "")
    if record.datum is None or record.datum > verwerking.vandaag:
        raise Afwijzing(DATUM_ONGELDIG)
    crebo = parse_crebo(record.crebo) if record.crebo else ""
    locatie = parse_vestigingscode(brin, record.locatie) if record.locatie else None
    sleutel_hash = verwerking.sleutelbos.pseudoniem(nummer)
    rij = _bestaande(verwerking, cyclus, sleutel_hash, brin, crebo)
    van = parse_aanmeldstatus(rij.status) if rij is not None else None
    herhaling = not controleer_overgang(van, status)
    verwerking.raak_aan(sleutel_hash)
    if herhaling:
        return
    if rij is not None and crebo:
        rij.crebo = crebo  # a registration without programme learns it
    if rij is None:
        rij = models.Aanmelding(
            cyclus_jaar=cyclus,
            sleutel_hash=sleutel_hash,
            nummer_versleuteld=verwerking.sleutelbos.versleutel(nummer),
            brin_mbo=brin,
            crebo=crebo,
            aangemaakt_op=verwerking.nu,
        )
        verwerking.session.add(rij)
    rij.status, rij.status_datum, rij.gewijzigd_op = status, record.datum, verwerking.nu
    if locatie:
        rij.locatie = locatie
    verwerking.session.flush()
    verwerking.session.add(
        models.AanmeldingOvergang(
            aanmelding_id=rij.id,
            van=van,
            naar=status,
            datum=record.datum,
            vastgelegd_op=verwerking.nu,
            bericht_id=aanroep.bericht_id,
        )
    )
    registreer_wijziging(verwerking, cyclus, sleutel_hash)
