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
    Melding,
    Rejection,
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
from broker.service.scope import brins_of_sender
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
    rejected: Melding | None = None
    #: The exam result (issue 16): both or neither; ``examen_uitkomst`` unvalidated.
    examen_uitkomst: str | None = None
    examen_datum: date | None = None


@dataclass(frozen=True)
class _ValidLeerling:
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
    examen_error: Rejection | None = None


def aanleveren_leerlingen(
    processing: Processing,
    call: Caller,
    records: list[LeerlingInput],
    replace: bool = False,
    on_behalf_of_schools: bool = False,
) -> BatchOutcome:
    """Apply a batch of potential mbo-gangers from a VO school (flow a; WEB art. 8.0.3, WVO art. 27d).

    Every valid record is applied, every invalid one is rejected with a code (VVA1xx) and changes
    nothing. An exam result in a record (issue 16) is stored with any mutation; an incomplete or unknown
    one is VVA127, a date in the future VVA112. With ``replace`` the batch is the whole start population of the BRINs in it: active
    pupils of those BRINs that are not in the batch are withdrawn with reason nietMeerAangeleverd.
    Raises ``NotAuthorised`` (DK0002) before applying anything when a record names a known BRIN
    the caller does not act for.

    ``on_behalf_of_schools``: the caller is a regional system passing on what the VO schools it serves
    delivered (flow d, the regio service). A record for a known BRIN it does not serve is then
    rejected alone with ``DK0002`` and the rest applies; such a BRIN is never part of a replacement.
    """
    brins = brins_of_sender(
        processing,
        call.partij,
        [(r.volgnummer, r.brin_vo) for r in records],
        foreign_per_record=on_behalf_of_schools,
    )
    cyclus = processing.cyclus.jaar
    gemeenten = processing.known_gemeenten()
    uitkomst = BatchOutcome()
    applied: set[tuple[str, str]] = set()
    # For a replacement every identifiable pupil counts as present, also when its record was
    # rejected for another value: a typo in a postcode must not withdraw the pupil.
    present: set[tuple[str, str]] = set()
    validated: list[tuple[LeerlingInput, _ValidLeerling | Rejection]] = []
    for record in records:
        try:
            validated.append((record, _validate(processing, record, brins[record.volgnummer], gemeenten)))
        except Rejection as rejection:
            validated.append((record, rejection))
    # The stored rows of the whole batch in one query, not one per record (bench/bulk_delivery.py).
    existing = _existing(processing, cyclus, [g for _, g in validated if not isinstance(g, Rejection)])
    for record, valid in validated:
        try:
            if isinstance(valid, Rejection):
                raise valid
            record_key = (valid.sleutel_hash, valid.brin_vo)
            present.add(record_key)
            if record.rejected is not None:
                raise Rejection(record.rejected)
            if valid.examen_error is not None:
                raise valid.examen_error
            if record_key in applied:
                raise Rejection(DUBBEL_IN_BATCH)
            existing[record_key] = _apply(processing, call, cyclus, valid, existing.get(record_key))
            applied.add(record_key)
            processing.touch(valid.sleutel_hash)
        except Rejection as rejection:
            uitkomst.rejected(record.volgnummer, rejection.melding)
        else:
            uitkomst.verwerkt(record.volgnummer)
    if replace:
        _mark_missing_afgemeld(processing, call, cyclus, present, _brins_in_batch(brins))
    return uitkomst


def _brins_in_batch(brins: dict[int, Rejection | str]) -> set[str]:
    """The valid BRINs named in a batch: the scope of a replacement."""
    return {brin for brin in brins.values() if isinstance(brin, str)}


def _validate(
    processing: Processing, record: LeerlingInput, brin: Rejection | str, gemeenten: set[str] | None
) -> _ValidLeerling:
    if isinstance(brin, Rejection):
        raise brin
    nummer = parse_leerlingnummer(record.bsn, record.onderwijsnummer)
    mutatie = parse_mutatie(record.mutatie or "")
    reden = parse_afmeldreden(record.afmeldreden) if record.afmeldreden else None
    check_mutatie(mutatie, reden)
    gemeentecode = parse_gemeentecode(record.woongemeente or "")
    if gemeenten is not None and gemeentecode not in gemeenten:
        raise Rejection(GEMEENTECODE_ONGELDIG)
    return _ValidLeerling(
        volgnummer=record.volgnummer,
        nummer=nummer,
        sleutel_hash=processing.keyring.pseudonym(nummer),
        brin_vo=brin,
        vestiging=parse_vestigingscode(brin, record.vestiging) if record.vestiging else None,
        postcode=parse_postcode(record.postcode or ""),
        gemeentecode=gemeentecode,
        mutatie=mutatie,
        reden=reden,
        **_examen(processing, record),
    )


def _examen(processing: Processing, record: LeerlingInput) -> dict:
    """The record's exam result (``examen``) or why it is refused (``examen_error``): both values or
    neither and a known outcome (VVA127), not in the future (VVA112)."""
    if record.examen_uitkomst is None and record.examen_datum is None:
        return {}
    try:
        if record.examen_uitkomst is None or record.examen_datum is None:
            raise Rejection(EXAMENRESULTAAT_ONGELDIG)
        uitkomst = parse_examen_uitkomst(record.examen_uitkomst)
        if record.examen_datum > processing.today:
            raise Rejection(DATUM_ONGELDIG)
    except Rejection as error:
        return {"examen_error": error}
    return {"examen": (uitkomst, record.examen_datum)}


def _existing(
    processing: Processing, cyclus: int, valid_ones: list[_ValidLeerling]
) -> dict[tuple[str, str], models.Leerling]:
    """The stored rows of the pupils in ``valid_ones`` by (pseudonym, BRIN VO), in chunks of 1,000."""
    hashes = sorted({g.sleutel_hash for g in valid_ones})
    brins = {g.brin_vo for g in valid_ones}
    rows: dict[tuple[str, str], models.Leerling] = {}
    for start in range(0, len(hashes), 1000):
        for row in processing.session.scalars(
            select(models.Leerling).where(
                models.Leerling.cyclus_jaar == cyclus,
                models.Leerling.sleutel_hash.in_(hashes[start : start + 1000]),
                models.Leerling.brin_vo.in_(brins),
            )
        ):
            rows[(row.sleutel_hash, row.brin_vo)] = row
    return rows


def _apply(
    processing: Processing,
    call: Caller,
    cyclus: int,
    valid: _ValidLeerling,
    row: models.Leerling | None,
) -> models.Leerling:
    """Apply one valid record to its stored row ``row`` (None: not delivered before); return the row."""
    if valid.mutatie is Mutatie.TOEVOEGEN:
        if row is not None and row.status == MboGangerStatus.ACTIEF:
            raise Rejection(LEERLING_AL_AANGELEVERD)
        if row is None:
            row = models.Leerling(
                cyclus_jaar=cyclus,
                sleutel_hash=valid.sleutel_hash,
                nummer_versleuteld=processing.keyring.encrypt(valid.nummer),
                brin_vo=valid.brin_vo,
                aangeleverd_op=processing.now,
            )
            processing.session.add(row)
    elif row is None:
        raise Rejection(LEERLING_ONBEKEND)
    row.vestiging = valid.vestiging
    row.postcode = valid.postcode
    row.gemeentecode = valid.gemeentecode
    if valid.mutatie is Mutatie.AFMELDEN:
        row.status, row.afmeldreden = MboGangerStatus.AFGEMELD, valid.reden
    elif valid.mutatie is Mutatie.TOEVOEGEN:
        row.status, row.afmeldreden = MboGangerStatus.ACTIEF, None
    if valid.examen is not None:
        # Only the reported result: the mbo-ganger status above stays the school's decision.
        row.examen_uitkomst, row.examen_datum = valid.examen
    _record_attempt(processing, call, cyclus, row, valid.mutatie, valid.examen)
    return row


def _record_attempt(
    processing: Processing,
    call: Caller,
    cyclus: int,
    row: models.Leerling,
    mutatie: Mutatie,
    examen: tuple[ExamenUitkomst, date] | None = None,
) -> None:
    row.gewijzigd_op = processing.now
    processing.session.add(
        models.LeerlingMutatie(
            leerling=row,
            mutatie=mutatie,
            status=row.status,
            afmeldreden=row.afmeldreden,
            # the history of the exam result: what this mutation reported, if anything
            examen_uitkomst=str(examen[0]) if examen else None,
            examen_datum=examen[1] if examen else None,
            vastgelegd_op=processing.now,
            bericht_id=call.bericht_id,
        )
    )
    record_wijziging(processing, cyclus, row.sleutel_hash)


def _mark_missing_afgemeld(
    processing: Processing, call: Caller, cyclus: int, present: set[tuple[str, str]], brins: set[str]
) -> None:
    if not brins:
        return
    active_rows = processing.session.scalars(
        select(models.Leerling).where(
            models.Leerling.cyclus_jaar == cyclus,
            models.Leerling.brin_vo.in_(brins),
            models.Leerling.status == MboGangerStatus.ACTIEF,
        )
    )
    for row in list(active_rows):
        if (row.sleutel_hash, row.brin_vo) not in present:
            row.status, row.afmeldreden = MboGangerStatus.AFGEMELD, AfmeldReden.NIET_MEER_AANGELEVERD
            _record_attempt(processing, call, cyclus, row, Mutatie.AFMELDEN)
            processing.touch(row.sleutel_hash)
