"""Flows b and d: an MBO institution (or a regional system on its behalf) delivers registrations.

A record may also report the intake and the signing of the onderwijsovereenkomst (issue 16). They are
facts of the registration, checked against it (VVA123-VVA126, VVA112), stored on it and in its history
(``aanmelding_feit``), and announced like a status change: through the change feed and the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from broker.db import models
from broker.domain.identifiers import parse_crebo, parse_leerlingnummer, parse_vestigingscode
from broker.domain.meldingen import (
    AANMELDING_NIET_EENDUIDIG,
    DATUM_ONGELDIG,
    INTAKE_ONGELDIG,
    INTAKE_VOOR_AANMELDING,
    OVEREENKOMST_VOOR_AANMELDING,
    OVEREENKOMST_ZONDER_INSCHRIJVING,
    Melding,
    Rejection,
)
from broker.domain.status import (
    AanmeldStatus,
    IntakeUitkomst,
    check_overgang,
    parse_aanmeldstatus,
    parse_intake_uitkomst,
)
from broker.service.batch import BatchOutcome
from broker.service.context import Caller, Processing
from broker.service.scope import brins_of_sender
from broker.service.wijzigingen import record_wijziging


@dataclass(frozen=True)
class AanmeldingInput:
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
    rejected: Melding | None = None
    #: The intake held (issue 16): both or neither; ``intake_uitkomst`` unvalidated.
    intake_datum: date | None = None
    intake_uitkomst: str | None = None
    #: The date the onderwijsovereenkomst was signed (issue 16).
    overeenkomst_datum: date | None = None


@dataclass(frozen=True)
class _Procesfeiten:
    """The checked intake and onderwijsovereenkomst of one record (each None when not reported)."""

    intake: tuple[date, IntakeUitkomst] | None
    overeenkomst_datum: date | None


def aanleveren_aanmeldingen(
    processing: Processing, call: Caller, records: list[AanmeldingInput]
) -> BatchOutcome:
    """Apply registrations and status changes (flow b, or flow d for a regional system; WEB art. 8.0.3).

    Records are applied in order, so one batch may carry aangemeld and then geaccepteerd for the same
    registration. A registration is keyed by pupil, BRIN and crebo; a record without crebo updates
    the pupil's only registration at that institution (VVA119 when there are several). A transition the status model
    forbids is rejected (VVA111); repeating the current status is accepted and records nothing.
    An intake or onderwijsovereenkomst in the record (issue 16) is applied with the status, also with a
    repeated one; a repeat of the current intake or overeenkomst records nothing either. Rejected:
    a date in the future (VVA112), an intake before the pupil registered (VVA123), an overeenkomst
    while the registration is not ingeschreven after the record (VVA124) or dated before the pupil
    registered (VVA125), an incomplete or unknown intake (VVA126). The registration date is that of the
    first reported aanmeldingOntvangen or aangemeld; without one (first reported later) it is not checked.
    Raises ``NotAuthorised`` (DK0002) before applying anything when a record names a known BRIN the
    caller does not act for.
    """
    brins = brins_of_sender(processing, call.partij, [(r.volgnummer, r.brin_mbo) for r in records])
    cyclus = processing.cyclus.jaar
    uitkomst = BatchOutcome()
    for record in records:
        try:
            _process(processing, call, cyclus, record, brins[record.volgnummer])
        except Rejection as rejection:
            uitkomst.rejected(record.volgnummer, rejection.melding)
        else:
            uitkomst.verwerkt(record.volgnummer)
    return uitkomst


def _existing(
    processing: Processing, cyclus: int, sleutel_hash: str, brin: str, crebo: str
) -> models.Aanmelding | None:
    """The registration a record refers to: the one with its crebo, else the one without a crebo;
    a record without crebo also matches the pupil's only registration at that institution.
    Raises ``Rejection`` VVA119 when a record without crebo could mean several registrations."""
    rows = processing.session.scalars(
        select(models.Aanmelding).where(
            models.Aanmelding.cyclus_jaar == cyclus,
            models.Aanmelding.sleutel_hash == sleutel_hash,
            models.Aanmelding.brin_mbo == brin,
        )
    ).all()
    exact = [r for r in rows if r.crebo == crebo]
    without = [r for r in rows if r.crebo == ""]
    if exact or without:
        return (exact or without)[0]
    if not crebo and len(rows) > 1:
        raise Rejection(AANMELDING_NIET_EENDUIDIG)
    return rows[0] if not crebo and rows else None


def _process(
    processing: Processing, call: Caller, cyclus: int, record: AanmeldingInput, brin: Rejection | str
) -> None:
    if isinstance(brin, Rejection):
        raise brin
    if record.rejected is not None:
        raise Rejection(record.rejected)
    nummer = parse_leerlingnummer(record.bsn, record.onderwijsnummer)
    status = parse_aanmeldstatus(record.status or "")
    if record.datum is None or record.datum > processing.today:
        raise Rejection(DATUM_ONGELDIG)
    feiten = _read_procesfeiten(processing, record)
    crebo = parse_crebo(record.crebo) if record.crebo else ""
    locatie = parse_vestigingscode(brin, record.locatie) if record.locatie else None
    sleutel_hash = processing.keyring.pseudonym(nummer)
    row = _existing(processing, cyclus, sleutel_hash, brin, crebo)
    van = parse_aanmeldstatus(row.status) if row is not None else None
    is_repeat = not check_overgang(van, status)
    _check_procesfeiten(processing, row, status, is_repeat, record.datum, feiten)
    processing.touch(sleutel_hash)
    if is_repeat:
        # rij is set: a first record is never a repeat
        if _record_procesfeiten(processing, call, row, feiten):
            row.gewijzigd_op = processing.now
            record_wijziging(processing, cyclus, sleutel_hash)
        return
    if row is not None and crebo:
        row.crebo = crebo  # a registration without programme learns it
    if row is None:
        row = models.Aanmelding(
            cyclus_jaar=cyclus,
            sleutel_hash=sleutel_hash,
            nummer_versleuteld=processing.keyring.encrypt(nummer),
            brin_mbo=brin,
            crebo=crebo,
            aangemaakt_op=processing.now,
        )
        processing.session.add(row)
    row.status, row.status_datum, row.gewijzigd_op = status, record.datum, processing.now
    if locatie:
        row.locatie = locatie
    processing.session.flush()
    processing.session.add(
        models.AanmeldingOvergang(
            aanmelding_id=row.id,
            van=van,
            naar=status,
            datum=record.datum,
            vastgelegd_op=processing.now,
            bericht_id=call.bericht_id,
        )
    )
    _record_procesfeiten(processing, call, row, feiten)
    record_wijziging(processing, cyclus, sleutel_hash)


def _read_procesfeiten(processing: Processing, record: AanmeldingInput) -> _Procesfeiten:
    """The record's intake and overeenkomst, checked on their own: both intake values or neither
    (VVA126), known outcome (VVA126), no date in the future (VVA112)."""
    intake = None
    if record.intake_datum is not None or record.intake_uitkomst is not None:
        if record.intake_datum is None or record.intake_uitkomst is None:
            raise Rejection(INTAKE_ONGELDIG)
        intake = (record.intake_datum, parse_intake_uitkomst(record.intake_uitkomst))
    for day in (intake[0] if intake else None, record.overeenkomst_datum):
        if day is not None and day > processing.today:
            raise Rejection(DATUM_ONGELDIG)
    return _Procesfeiten(intake, record.overeenkomst_datum)


def _check_procesfeiten(
    processing: Processing,
    row: models.Aanmelding | None,
    status: AanmeldStatus,
    is_repeat: bool,
    day: date,
    feiten: _Procesfeiten,
) -> None:
    """Reject a combination that cannot have happened, before anything of the record is applied.

    Only what is impossible is refused: an intake or an overeenkomst before the pupil registered, an
    overeenkomst without enrolment. An overeenkomst signed before the enrolment's date is normal (the
    enrolment starts with the school year), and a registration first reported with a later status
    (institutions report late) has no known registration date to check against."""
    if feiten.overeenkomst_datum is not None and status is not AanmeldStatus.INGESCHREVEN:
        # ``status`` is the registration's status after this record, whether it changes it or repeats it.
        raise Rejection(OVEREENKOMST_ZONDER_INSCHRIJVING)
    if feiten.intake is None and feiten.overeenkomst_datum is None:
        return  # nothing to date-check: no query for the records that carry no facts (most of them)
    aangemeld_op = _aanmelddatum(processing, row, None if is_repeat else status, day)
    if aangemeld_op is None:
        return
    if feiten.intake is not None and feiten.intake[0] < aangemeld_op:
        raise Rejection(INTAKE_VOOR_AANMELDING)
    if feiten.overeenkomst_datum is not None and feiten.overeenkomst_datum < aangemeld_op:
        raise Rejection(OVEREENKOMST_VOOR_AANMELDING)


#: The statuses that say when the pupil registered (a later first status says only that it did).
_AANMELDMOMENTEN = (AanmeldStatus.AANMELDING_ONTVANGEN, AanmeldStatus.AANGEMELD)


def _aanmelddatum(
    processing: Processing, row: models.Aanmelding | None, new_status: AanmeldStatus | None, datum: date
) -> date | None:
    """The date the pupil registered: the earliest reported aanmeldingOntvangen or aangemeld of the
    registration, including the one this record reports (``new_status`` on ``datum``); None when
    neither was ever reported."""
    candidates = [datum] if new_status in _AANMELDMOMENTEN else []
    if row is not None:
        overgang = models.AanmeldingOvergang
        first = processing.session.scalar(
            select(func.min(overgang.datum)).where(
                overgang.aanmelding_id == row.id, overgang.naar.in_(_AANMELDMOMENTEN)
            )
        )
        if first is not None:
            candidates.append(first)
    return min(candidates, default=None)


def _record_procesfeiten(
    processing: Processing, call: Caller, row: models.Aanmelding, feiten: _Procesfeiten
) -> bool:
    """Store the record's intake and overeenkomst on the registration and in its history; a value
    equal to the stored one records nothing. True when anything changed."""
    changed = False
    if feiten.intake is not None and (row.intake_datum, row.intake_uitkomst) != feiten.intake:
        row.intake_datum, row.intake_uitkomst = feiten.intake
        _feit(processing, call, row, "intake", feiten.intake[0], feiten.intake[1])
        changed = True
    if feiten.overeenkomst_datum is not None and row.overeenkomst_datum != feiten.overeenkomst_datum:
        row.overeenkomst_datum = feiten.overeenkomst_datum
        _feit(processing, call, row, "onderwijsovereenkomst", feiten.overeenkomst_datum, None)
        changed = True
    return changed


def _feit(
    processing: Processing,
    call: Caller,
    row: models.Aanmelding,
    soort: str,
    datum: date,
    uitkomst: IntakeUitkomst | None,
) -> None:
    processing.session.flush()  # a registration created by this record needs its id
    processing.session.add(
        models.AanmeldingFeit(
            aanmelding_id=row.id,
            soort=soort,
            datum=datum,
            uitkomst=str(uitkomst) if uitkomst is not None else None,
            vastgelegd_op=processing.now,
            bericht_id=call.bericht_id,
        )
    )
