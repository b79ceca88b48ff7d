"""Queries of flows a–d: every answer is filtered through the visibility rules of the domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from broker.db import models
from broker.domain.identifiers import Leerlingnummer, parse_gemeentecode, parse_leerlingnummer
from broker.domain.meldingen import Rejection
from broker.domain.status import MboGangerStatus
from broker.domain.visibility import LeerlingBeeld, beeld_for, is_aangemeld, is_ingeschreven, may_see
from broker.service.contacten import Contact, ContactBook
from broker.service.context import Caller, NotAuthorised, Processing
from broker.service.feiten import Dossier, dossiers, hashes_in_range
from broker.service.gemeenteregio import gemeenten_in_regios
from broker.service.scope import own_brin

#: Rows of the change feed one request may scan, so a caller with few visible pupils cannot make
#: one request walk the whole national feed.
MAX_SCAN = 20_000
DEFAULT_MAXIMUM = 500


@dataclass(frozen=True)
class Overzicht:
    """One pupil as shown to the caller: its number, what the caller may see, and the contact details of
    the institutions its view refers to (``broker.service.contacten``)."""

    nummer: Leerlingnummer
    beeld: LeerlingBeeld
    contacten: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class WijzigingenPage:
    wijzigingen: list[tuple[int, Overzicht]]
    volgende_cursor: int
    meer: bool


@dataclass(frozen=True)
class SignaalRow:
    signaal_id: int
    soort: str
    aangemaakt_op: datetime
    brin: str | None
    nummer: Leerlingnummer | None
    omschrijving: str


def _show_all(processing: Processing, call: Caller, chosen: list[Dossier]) -> list[Overzicht]:
    """The pupils as shown to the caller; the contact details of all of them are fetched at once."""
    beelden = [beeld_for(call.partij, d.feiten) for d in chosen]
    contact_book = ContactBook(processing.session, processing.cyclus.jaar)
    contact_book.load(beelden)
    uitkomst = []
    for dossier, beeld in zip(chosen, beelden, strict=True):
        nummer = processing.keyring.decrypt(dossier.nummer_versleuteld)
        processing.touch(dossier.sleutel_hash)
        uitkomst.append(Overzicht(nummer, beeld, contact_book.contacten(beeld)))
    return uitkomst


def _visible(processing: Processing, call: Caller) -> list[Dossier]:
    all_ = dossiers(processing, call.partij, hashes_in_range(processing, call.partij))
    return [d for d in all_.values() if may_see(call.partij, d.feiten)]


def _list(processing: Processing, call: Caller, chosen: list[Dossier]) -> list[Overzicht]:
    """The chosen pupils as shown to the caller, in a stable order: by school, then number."""
    overzichten = _show_all(processing, call, chosen)
    return sorted(overzichten, key=lambda o: (o.beeld.brin_vo or "", o.nummer.soort, o.nummer.waarde))


def opvragen_status(
    processing: Processing, call: Caller, requested: list[tuple[str | None, str | None]]
) -> list[Overzicht]:
    """The status of the pupils ``requested`` ((bsn, onderwijsnummer) pairs), or of all in scope if empty.

    Raises ``NotAuthorised`` (DK0002) when any asked pupil is invalid, unknown or outside the
    caller's scope; the three are not told apart, so an answer never reveals whether a pupil is known
    (F3).
    """
    if not requested:
        return _list(processing, call, _visible(processing, call))
    hashes = []
    for position, (bsn, onderwijsnummer) in enumerate(requested, start=1):
        try:
            hashes.append(processing.keyring.pseudonym(parse_leerlingnummer(bsn, onderwijsnummer)))
        except Rejection:
            raise NotAuthorised(f"leerling {position} in het verzoek valt niet binnen uw bereik") from None
    found = dossiers(processing, call.partij, hashes)
    chosen = []
    for position, sleutel_hash in enumerate(hashes, start=1):
        dossier = found.get(sleutel_hash)
        if dossier is None or not may_see(call.partij, dossier.feiten):
            raise NotAuthorised(f"leerling {position} in het verzoek valt niet binnen uw bereik")
        chosen.append(dossier)
    return _show_all(processing, call, chosen)


def opvragen_niet_aangemeld(processing: Processing, call: Caller, brin_vo: str | None) -> list[Overzicht]:
    """Active potential mbo-gangers in scope with no active registration anywhere (flow a, signal basis).

    ``brin_vo`` narrows the answer to one of the caller's BRINs; another BRIN raises
    ``NotAuthorised`` (DK0002).
    """
    if brin_vo is not None:
        brin = own_brin(call.partij, brin_vo)
    chosen = [
        d
        for d in _visible(processing, call)
        if d.feiten.mbo_ganger_status is MboGangerStatus.ACTIEF
        and not is_aangemeld(d.feiten)
        and (brin_vo is None or d.feiten.brin_vo == brin)
    ]
    return _list(processing, call, chosen)


def opvragen_overzicht(processing: Processing, call: Caller, gemeenten: list[str]) -> list[Overzicht]:
    """Flow c: resident pupils of the caller's gemeenten who are active and not enrolled anywhere.

    A gemeente registered with an RMC region is that region's RMC function: its gemeenten are its own
    plus every gemeente of the region (``broker.domain.visibility.may_see``). ``gemeenten`` narrows
    the answer; a gemeentecode outside those raises ``NotAuthorised`` (DK0002). Pupils with no
    registration and pupils registered but not (yet) enrolled are both listed, each with its
    woongemeente and registrations.
    """
    chosen = set()
    own: set[str] | None = None
    for raw in gemeenten:
        try:
            code = parse_gemeentecode(raw)
        except Rejection:
            code = None
        if own is None:
            own = set(call.partij.gemeentecodes)
            if call.partij.rmc_regios:
                own |= gemeenten_in_regios(processing, call.partij.rmc_regios)
        if code is None or code not in own:
            raise NotAuthorised("woongemeente hoort niet bij de afzender")
        chosen.add(code)
    return _list(
        processing,
        call,
        [
            d
            for d in _visible(processing, call)
            if d.feiten.mbo_ganger_status is MboGangerStatus.ACTIEF
            and not is_ingeschreven(d.feiten)
            and (not chosen or d.feiten.gemeentecode in chosen)
        ],
    )


def opvragen_wijzigingen(
    processing: Processing, call: Caller, after: int, maximum: int | None
) -> WijzigingenPage:
    """Pupils in scope changed after cursor ``after``, oldest first, each once with its current state.

    At most ``maximum`` (default 500) pupils and ``MAX_SCAN`` feed rows per call; ``meer`` tells the
    caller to poll again at once from ``volgende_cursor``.
    """
    maximum = maximum or DEFAULT_MAXIMUM
    rows = processing.session.execute(
        select(models.Wijziging.volgnummer, models.Wijziging.sleutel_hash)
        .where(models.Wijziging.cyclus_jaar == processing.cyclus.jaar, models.Wijziging.volgnummer > after)
        .order_by(models.Wijziging.volgnummer)
        .limit(MAX_SCAN + 1)
    ).all()
    scanned, meer = rows[:MAX_SCAN], len(rows) > MAX_SCAN
    found = dossiers(processing, call.partij, {h for _, h in scanned})
    chosen: list[tuple[int, Dossier]] = []
    shown: set[str] = set()
    cursor = after
    for volgnummer, sleutel_hash in scanned:
        dossier = found.get(sleutel_hash)
        if sleutel_hash not in shown and dossier and may_see(call.partij, dossier.feiten):
            if len(chosen) == maximum:
                meer = True
                break
            shown.add(sleutel_hash)
            chosen.append((volgnummer, dossier))
        cursor = volgnummer
    overzichten = _show_all(processing, call, [d for _, d in chosen])
    return WijzigingenPage([(v, o) for (v, _), o in zip(chosen, overzichten, strict=True)], cursor, meer)


def opvragen_signalen(processing: Processing, call: Caller, after: int | None) -> list[SignaalRow]:
    """The caller's signals of the current cycle with an id above ``after`` (all when None), oldest
    first. A finished cycle's signals are not given out any more (its purpose ended; AVG art. 5 lid 1
    sub b and e), even before ``vva cycle close`` deleted them."""
    S = models.Signaal
    rows = processing.session.scalars(
        select(S)
        .where(
            S.partij_oin == call.partij.oin, S.id > (after or 0), S.cyclus_jaar == processing.cyclus.jaar
        )
        .order_by(S.id)
    )
    return [signaal_row(processing, r) for r in rows]


def signaal_row(processing: Processing, row: models.Signaal) -> SignaalRow:
    """One stored signal as shown to its party, with the pupil number decrypted when it has one."""
    nummer = None
    if row.nummer_versleuteld and row.sleutel_hash:
        nummer = processing.keyring.decrypt(row.nummer_versleuteld)
        processing.touch(row.sleutel_hash)
    return SignaalRow(
        signaal_id=row.id,
        soort=row.soort,
        aangemaakt_op=row.aangemaakt_op,
        brin=row.brin,
        nummer=nummer,
        omschrijving=row.omschrijving,
    )
