"""Gathers what the broker knows about pupils (``LeerlingFeiten``) in a few set-based queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import or_, select

from broker.db import models
from broker.domain.status import AanmeldStatus, ExamenUitkomst, IntakeUitkomst, MboGangerStatus
from broker.domain.visibility import (
    AanmeldingFeit,
    Examenresultaat,
    Intake,
    LeerlingFeiten,
    Partij,
    PartijSoort,
    may_see,
)
from broker.service.context import Processing
from broker.service.gemeenteregio import gemeenten_in_regios, rmc_regios_of_gemeenten

_PARTIJ = 500  # bound the IN-list size (SQLite allows 32766 parameters; stay far below)


@dataclass(frozen=True)
class Dossier:
    """One pupil: its pseudonym, a ciphertext of its number, and its facts as seen for one caller."""

    sleutel_hash: str
    nummer_versleuteld: bytes
    feiten: LeerlingFeiten


@dataclass(frozen=True)
class _Regio:
    vestiging: dict[str, str | None]
    instelling: dict[str, str | None]
    gemeente: dict[str, str | None]

    @classmethod
    def load(cls, processing: Processing, leerlingen: Iterable[models.Leerling]) -> _Regio:
        """The RMC regions of just the vestigingen, schools and gemeenten of ``leerlingen`` (not whole
        reference tables: this runs for every query and every push)."""
        rows = list(leerlingen)
        return cls(
            vestiging=_rmc_of(
                processing, models.Vestiging, models.Vestiging.code, {r.vestiging for r in rows}
            ),
            instelling=_rmc_of(
                processing, models.Instelling, models.Instelling.brin, {r.brin_vo for r in rows}
            ),
            gemeente=rmc_regios_of_gemeenten(processing, {r.gemeentecode for r in rows if r.gemeentecode}),
        )


def _rmc_of(processing: Processing, model, key_column, codes: set[str | None]) -> dict[str, str | None]:
    """Code -> RMC region in the reference data of the current cycle."""
    uitkomst: dict[str, str | None] = {}
    codes = {c for c in codes if c}
    if not codes:
        return uitkomst
    jaar = processing.refdata_year
    for chunk in _in_chunks(codes):
        query = select(key_column, model.rmc_regio).where(model.cyclus_jaar == jaar, key_column.in_(chunk))
        uitkomst.update(processing.session.execute(query).tuples().all())
    return uitkomst


def _in_chunks(values: Collection[str]) -> Iterator[list[str]]:
    list_ = sorted(values)
    for i in range(0, len(list_), _PARTIJ):
        yield list_[i : i + _PARTIJ]


@dataclass(frozen=True)
class Rows:
    """The stored rows of a set of pupils in the current cycle, loaded once; facts per party follow."""

    leerlingen: dict[str, list[models.Leerling]]
    aanmeldingen: dict[str, list[models.Aanmelding]]
    regio: _Regio

    @classmethod
    def load(cls, processing: Processing, hashes: Collection[str]) -> Rows:
        cyclus = processing.cyclus.jaar
        leerlingen: dict[str, list[models.Leerling]] = defaultdict(list)
        aanmeldingen: dict[str, list[models.Aanmelding]] = defaultdict(list)
        for chunk in _in_chunks(hashes):
            for row in processing.session.scalars(
                select(models.Leerling).where(
                    models.Leerling.cyclus_jaar == cyclus, models.Leerling.sleutel_hash.in_(chunk)
                )
            ):
                leerlingen[row.sleutel_hash].append(row)
            for row in processing.session.scalars(
                select(models.Aanmelding)
                .where(models.Aanmelding.cyclus_jaar == cyclus, models.Aanmelding.sleutel_hash.in_(chunk))
                .order_by(models.Aanmelding.id)
            ):
                aanmeldingen[row.sleutel_hash].append(row)
        all_leerlingen = [row for rows in leerlingen.values() for row in rows]
        return cls(dict(leerlingen), dict(aanmeldingen), _Regio.load(processing, all_leerlingen))

    def dossiers(self, partij: Partij, hashes: Iterable[str] | None = None) -> dict[str, Dossier]:
        """The loaded pupils (or only ``hashes``) as ``partij`` would see them (see ``_choose_delivery``)."""
        uitkomst = {}
        known = set(self.leerlingen) | set(self.aanmeldingen)
        for sleutel_hash in known if hashes is None else known.intersection(hashes):
            own = self.aanmeldingen.get(sleutel_hash, [])
            leerling, feiten = _choose_delivery(
                self.leerlingen.get(sleutel_hash, []), own, self.regio, partij
            )
            encrypted_nummer = leerling.nummer_versleuteld if leerling else own[0].nummer_versleuteld
            uitkomst[sleutel_hash] = Dossier(sleutel_hash, encrypted_nummer, feiten)
        return uitkomst


def dossiers(processing: Processing, partij: Partij, hashes: Collection[str]) -> dict[str, Dossier]:
    """The facts of the pupils ``hashes`` in the current cycle, keyed by pseudonym.

    When a pupil was delivered by several VO schools, a VO caller sees its own school's delivery and
    everyone else the most recent active one it may see. Pupils the broker does not know are absent.
    """
    return Rows.load(processing, hashes).dossiers(partij)


def _choose_delivery(
    rows: list[models.Leerling], aanmeldingen: list[models.Aanmelding], regio: _Regio, partij: Partij
) -> tuple[models.Leerling | None, LeerlingFeiten]:
    """The delivery of the pupil that ``partij`` sees: the newest active one it may see.

    A pupil delivered by several VO schools stays visible to each school, and to the gemeente and
    region of every delivery: a later delivery by another school never hides the pupil from the
    gemeente responsible for it. When none is visible, the newest delivery (``may_see`` then says no).
    """
    if not rows:
        return None, _feiten(None, aanmeldingen, regio)
    # A withdrawn delivery (e.g. "verhuisd") counts only while the pupil has no active one: a pupil who
    # moved and was delivered again elsewhere is no longer the old gemeente's or region's.
    actief = [r for r in rows if r.status == MboGangerStatus.ACTIEF]
    order = sorted(actief or rows, key=lambda r: (r.gewijzigd_op, r.id), reverse=True)
    candidates = [(r, _feiten(r, aanmeldingen, regio)) for r in order]
    return next(((r, f) for r, f in candidates if may_see(partij, f)), candidates[0])


def _feiten(
    leerling: models.Leerling | None, aanmeldingen: list[models.Aanmelding], regio: _Regio
) -> LeerlingFeiten:
    feiten = tuple(
        AanmeldingFeit(
            brin_mbo=a.brin_mbo,
            status=AanmeldStatus(a.status),
            datum=a.status_datum,
            crebo=a.crebo or None,
            intake=_intake(a),
            overeenkomst_datum=a.overeenkomst_datum,
        )
        for a in aanmeldingen
    )
    if leerling is None:
        return LeerlingFeiten(None, None, None, None, None, feiten)
    vo_regio = regio.vestiging.get(leerling.vestiging or "") or regio.instelling.get(leerling.brin_vo)
    return LeerlingFeiten(
        brin_vo=leerling.brin_vo,
        vo_rmc_regio=vo_regio,
        gemeentecode=leerling.gemeentecode,
        woon_rmc_regio=regio.gemeente.get(leerling.gemeentecode or ""),
        mbo_ganger_status=MboGangerStatus(leerling.status),
        aanmeldingen=feiten,
        examenresultaat=_examenresultaat(leerling),
    )


def _intake(row: models.Aanmelding) -> Intake | None:
    if row.intake_datum is None or row.intake_uitkomst is None:
        return None
    return Intake(row.intake_datum, IntakeUitkomst(row.intake_uitkomst))


def _examenresultaat(row: models.Leerling) -> Examenresultaat | None:
    if row.examen_uitkomst is None or row.examen_datum is None:
        return None
    return Examenresultaat(ExamenUitkomst(row.examen_uitkomst), row.examen_datum)


def hashes_in_range(processing: Processing, partij: Partij) -> set[str]:
    """Pseudonyms of every pupil that might be in ``partij``'s scope (a superset; ``may_see`` decides)."""
    cyclus = processing.cyclus.jaar
    L, A = models.Leerling, models.Aanmelding
    queries = []
    if partij.brins:
        queries.append(select(A.sleutel_hash).where(A.cyclus_jaar == cyclus, A.brin_mbo.in_(partij.brins)))
        queries.append(select(L.sleutel_hash).where(L.cyclus_jaar == cyclus, L.brin_vo.in_(partij.brins)))
    gemeenten = set(partij.gemeentecodes)
    if partij.soort is PartijSoort.GEMEENTE and partij.rmc_regios:
        # the RMC function: the residents of every gemeente of its region(s)
        gemeenten |= gemeenten_in_regios(processing, partij.rmc_regios)
    if partij.soort is PartijSoort.REGIONAAL_SYSTEEM and partij.rmc_regios:
        gemeenten |= gemeenten_in_regios(processing, partij.rmc_regios)
        brins = _codes_in_regios(processing, partij, models.Instelling.brin)
        vestigingen = _codes_in_regios(processing, partij, models.Vestiging.code)
        queries.append(
            select(L.sleutel_hash).where(
                L.cyclus_jaar == cyclus, or_(L.brin_vo.in_(brins), L.vestiging.in_(vestigingen))
            )
        )
    if gemeenten:
        queries.append(select(L.sleutel_hash).where(L.cyclus_jaar == cyclus, L.gemeentecode.in_(gemeenten)))
    hashes: set[str] = set()
    for query in queries:
        hashes.update(processing.session.scalars(query))
    return hashes


def _regios(partij: Partij) -> set[str]:
    from broker.domain.visibility import normalise_rmc

    return {normalise_rmc(r) for r in partij.rmc_regios}


def _codes_in_regios(processing: Processing, partij: Partij, code) -> set[str]:
    """The values of ``code`` (``models.Instelling.brin`` or ``models.Vestiging.code``) of the institutions
    or locations of this year's reference data in the partij's RMC regions."""
    model = code.class_
    return set(
        processing.session.scalars(
            select(code).where(
                model.cyclus_jaar == processing.refdata_year,
                model.rmc_regio.in_(_regios(partij)),
            )
        )
    )
