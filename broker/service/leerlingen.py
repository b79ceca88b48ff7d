"""Flow a: a VO school delivers its potential mbo-gangers and every change to them.

A record may carry the pupil's exam result (issue 16) with any mutation. It is stored on the pupil and
in its mutation history and announced like any other change; it never changes the mbo-ganger status:
whether the pupil stays a potential mbo-ganger remains the school's afmelden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from broker.db import models
from broker.domain.identifiers import (
    Leerlingnummer,
    parse_gemeentecode,
    parse_leerlingnummer,
    parse_postcode,
    parse_vestigingscode,
)
from broker.domain.meldingen import (
    DATUM_ONGELDIG,
    DUBBEL_IN_BATCH,
    EXAMENRESULTAAT_ONGELDIG,
    GEMEENTECODE_ONGELDIG,
    LEERLING_AL_AANGELEVERD,
    LEERLING_ONBEKEND,
    Afwijzing,
    Melding,
)
from broker.domain.status import (
    AfmeldReden,
    ExamenUitkomst,
    MboGangerStatus,
    Mutatie,
    check_mutatie,
    parse_afmeldreden,
    parse_examen_uitkomst,
    parse_mutatie,
)
from broker.service.batch import BatchOutcome
from broker.service.context import Caller, Processing
from broker.service.scope import brins_van_afzender
from broker.service.wijzigingen import record_wijziging


@dataclass(frozen=True)
class LeerlingInput:
    """One record of ``aanleverenLeerlingen`` as received (strings, unvalidated)."""

    volgnummer: int
    bsn: str | None
    onderwijsnummer: str | None
    brin_vo: str | None
    vestiging: str | None
    postcode: str | None
    woongemeente: str | None
    mutatie: str | None
    afmeldreden: str | None
    #: Set when the carrier already rejected the record (a file row in another text encoding, or
    #: with a wrong number of columns): it is identified for a replacement but never applied.
    afgewezen: Melding | None = None
    #: The exam result (issue 16): both or neither; ``examen_uitkomst`` unvalidated.
    examen_uitkomst: str | None = None
    examen_datum: date | None = None


@dataclass(frozen=True)
class _GeldigeLeerling:
    volgnummer: int
    nummer: Leerlingnummer
    sleutel_hash: str
    brin_vo: str
    vestiging: str | None
    postcode: str
    gemeentecode: str
    mutatie: Mutatie
    reden: AfmeldReden | None
    examen: tuple[ExamenUitkomst, date] | None = None
    #: Why the exam result cannot be applied; raised after the pupil counts as present, so that a
    #: typo in it never withdraws the pupil from a replaced start population.
    examen_fout: Afwijzing | None = None


def aanleveren_leerlingen(
    verwerking: Processing,
    aanroep: Caller,
    records: list[LeerlingInput],
    vervang: bool = False,
    namens_scholen: bool = False,
) -> BatchOutcome:
    """Apply a batch of potential mbo-gangers from a VO school (flow a; WEB art. 8.0.3, WVO art. 27d).

    Every valid record is applied, every invalid one is rejected with a code (VVA1xx) and changes
    nothing. An exam result in a record (issue 16) is stored with any mutation; an incomplete or unknown
    one is VVA127, a date in the future VVA112. With ``vervang`` the batch is the whole start population of the BRINs in it: active
    pupils of those BRINs that are not in the batch are withdrawn with reason nietMeerAangeleverd.
    Raises ``NotAuthorised`` (DK0002) before applying anything when a record names a known BRIN
    the caller does not act for.

    ``namens_scholen``: the caller is a regional system passing on what the VO schools it serves
    delivered (flow d, the regio service). A record for a known BRIN it does not serve is then
    rejected alone with ``DK0002`` and the rest applies; such a BRIN is never part of a replacement.
    """
    brins = brins_van_afzender(
        verwerking,
        aanroep.partij,
        [(r.volgnummer, r.brin_vo) for r in records],
        vreemd_per_record=namens_scholen,
    )
    cyclus = verwerking.cyclus.jaar
    gemeenten = verwerking.bekende_gemeenten()
    uitkomst = BatchOutcome()
    toegepast: set[tuple[str, str]] = set()
    # For a replacement every identifiable pupil counts as present, also when its record was
    # rejected for another value: a typo in a postcode must not withdraw the pupil.
    aanwezig: set[tuple[str, str]] = set()
    gevalideerd: list[tuple[LeerlingInput, _GeldigeLeerling | Afwijzing]] = []
    for record in records:
        try:
            gevalideerd.append((record, _validate(verwerking, record, brins[record.volgnummer], gemeenten)))
        except Afwijzing as afwijzing:
            gevalideerd.append((record, afwijzing))
    # The stored rows of the whole batch in one query, not one per record (bench/bulk_delivery.py).
    bestaand = _existing(verwerking, cyclus, [g for _, g in gevalideerd if not isinstance(g, Afwijzing)])
    for record, geldig in gevalideerd:
        try:
            if isinstance(geldig, Afwijzing):
                raise geldig
            sleutel = (geldig.sleutel_hash, geldig.brin_vo)
            aanwezig.add(sleutel)
            if record.afgewezen is not None:
                raise Afwijzing(record.afgewezen)
            if geldig.examen_fout is not None:
                raise geldig.examen_fout
            if sleutel in toegepast:
                raise Afwijzing(DUBBEL_IN_BATCH)
            bestaand[sleutel] = _apply(verwerking, aanroep, cyclus, geldig, bestaand.get(sleutel))
            toegepast.add(sleutel)
            verwerking.touch(geldig.sleutel_hash)
        except Afwijzing as afwijzing:
            uitkomst.afgewezen(record.volgnummer, afwijzing.melding)
        else:
            uitkomst.verwerkt(record.volgnummer)
    if vervang:
        _meld_ontbrekenden_af(verwerking, aanroep, cyclus, aanwezig, _brins_in_batch(brins))
    return uitkomst


def _brins_in_batch(brins: dict[int, Afwijzing | str]) -> set[str]:
    """The valid BRINs named in a batch: the scope of a replacement."""
    return {brin for brin in brins.values() if isinstance(brin, str)}


def _validate(
    verwerking: Processing, record: LeerlingInput, brin: Afwijzing | str, gemeenten: set[str] | None
) -> _GeldigeLeerling:
    if isinstance(brin, Afwijzing):
        raise brin
    nummer = parse_leerlingnummer(record.bsn, record.onderwijsnummer)
    mutatie = parse_mutatie(record.mutatie or "")
    reden = parse_afmeldreden(record.afmeldreden) if record.afmeldreden else None
    check_mutatie(mutatie, reden)
    gemeentecode = parse_gemeentecode(record.woongemeente or "")
    if gemeenten is not None and gemeentecode not in gemeenten:
        raise Afwijzing(GEMEENTECODE_ONGELDIG)
    return _GeldigeLeerling(
        volgnummer=record.volgnummer,
        nummer=nummer,
        sleutel_hash=verwerking.keyring.pseudoniem(nummer),
        brin_vo=brin,
        vestiging=parse_vestigingscode(brin, record.vestiging) if record.vestiging else None,
        postcode=parse_postcode(record.postcode or ""),
        gemeentecode=gemeentecode,
        mutatie=mutatie,
        reden=reden,
        **_examen(verwerking, record),
    )


def _examen(verwerking: Processing, record: LeerlingInput) -> dict:
    """The record's exam result (``examen``) or why it is refused (``examen_fout``): both values or
    neither and a known outcome (VVA127), not in the future (VVA112)."""
    if record.examen_uitkomst is None and record.examen_datum is None:
        return {}
    try:
        if record.examen_uitkomst is None or record.examen_datum is None:
            raise Afwijzing(EXAMENRESULTAAT_ONGELDIG)
        uitkomst = parse_examen_uitkomst(record.examen_uitkomst)
        if record.examen_datum > verwerking.today:
            raise Afwijzing(DATUM_ONGELDIG)
    except Afwijzing as fout:
        return {"examen_fout": fout}
    return {"examen": (uitkomst, record.examen_datum)}


def _existing(
    verwerking: Processing, cyclus: int, geldigen: list[_GeldigeLeerling]
) -> dict[tuple[str, str], models.Leerling]:
    """The stored rows of the pupils in ``geldigen`` by (pseudonym, BRIN VO), in chunks of 1,000."""
    hashes = sorted({g.sleutel_hash for g in geldigen})
    brins = {g.brin_vo for g in geldigen}
    rijen: dict[tuple[str, str], models.Leerling] = {}
    for begin in range(0, len(hashes), 1000):
        for rij in verwerking.session.scalars(
            select(models.Leerling).where(
                models.Leerling.cyclus_jaar == cyclus,
                models.Leerling.sleutel_hash.in_(hashes[begin : begin + 1000]),
                models.Leerling.brin_vo.in_(brins),
            )
        ):
            rijen[(rij.sleutel_hash, rij.brin_vo)] = rij
    return rijen


def _apply(
    verwerking: Processing,
    aanroep: Caller,
    cyclus: int,
    geldig: _GeldigeLeerling,
    rij: models.Leerling | None,
) -> models.Leerling:
    """Apply one valid record to its stored row ``rij`` (None: not delivered before); return the row."""
    if geldig.mutatie is Mutatie.TOEVOEGEN:
        if rij is not None and rij.status == MboGangerStatus.ACTIEF:
            raise Afwijzing(LEERLING_AL_AANGELEVERD)
        if rij is None:
            rij = models.Leerling(
                cyclus_jaar=cyclus,
                sleutel_hash=geldig.sleutel_hash,
                nummer_versleuteld=verwerking.keyring.encrypt(geldig.nummer),
                brin_vo=geldig.brin_vo,
                aangeleverd_op=verwerking.nu,
            )
            verwerking.session.add(rij)
    elif rij is None:
        raise Afwijzing(LEERLING_ONBEKEND)
    rij.vestiging = geldig.vestiging
    rij.postcode = geldig.postcode
    rij.gemeentecode = geldig.gemeentecode
    if geldig.mutatie is Mutatie.AFMELDEN:
        rij.status, rij.afmeldreden = MboGangerStatus.AFGEMELD, geldig.reden
    elif geldig.mutatie is Mutatie.TOEVOEGEN:
        rij.status, rij.afmeldreden = MboGangerStatus.ACTIEF, None
    if geldig.examen is not None:
        # Only the reported result: the mbo-ganger status above stays the school's decision.
        rij.examen_uitkomst, rij.examen_datum = geldig.examen
    _record_attempt(verwerking, aanroep, cyclus, rij, geldig.mutatie, geldig.examen)
    return rij


def _record_attempt(
    verwerking: Processing,
    aanroep: Caller,
    cyclus: int,
    rij: models.Leerling,
    mutatie: Mutatie,
    examen: tuple[ExamenUitkomst, date] | None = None,
) -> None:
    rij.gewijzigd_op = verwerking.nu
    verwerking.session.add(
        models.LeerlingMutatie(
            leerling=rij,
            mutatie=mutatie,
            status=rij.status,
            afmeldreden=rij.afmeldreden,
            # the history of the exam result: what this mutation reported, if anything
            examen_uitkomst=str(examen[0]) if examen else None,
            examen_datum=examen[1] if examen else None,
            vastgelegd_op=verwerking.nu,
            bericht_id=aanroep.bericht_id,
        )
    )
    record_wijziging(verwerking, cyclus, rij.sleutel_hash)


def _meld_ontbrekenden_af(
    verwerking: Processing, aanroep: Caller, cyclus: int, aanwezig: set[tuple[str, str]], brins: set[str]
) -> None:
    if not brins:
        return
    actieven = verwerking.session.scalars(
        select(models.Leerling).where(
            models.Leerling.cyclus_jaar == cyclus,
            models.Leerling.brin_vo.in_(brins),
            models.Leerling.status == MboGangerStatus.ACTIEF,
        )
    )
    for rij in list(actieven):
        if (rij.sleutel_hash, rij.brin_vo) not in aanwezig:
            rij.status, rij.afmeldreden = MboGangerStatus.AFGEMELD, AfmeldReden.NIET_MEER_AANGELEVERD
            _record_attempt(verwerking, aanroep, cyclus, rij, Mutatie.AFMELDEN)
            verwerking.touch(rij.sleutel_hash)
