"""Load parsed DUO open data into the reference tables, per registration cycle.

Reference data belong to a cycle: every table is keyed by (``cyclus_jaar``, code), so a load for one
cycle never changes another cycle's rows (RMC regions change between years; a closed cycle keeps its
gemeente→region mapping). Within a cycle, loads upsert by code with the plain SQLAlchemy ORM (same on
SQLite and PostgreSQL), so the yearly set may be loaded one file at a time and loading the same files
again changes nothing. ``geldig_vanaf_cyclus`` is the first cycle since which a row's content is the same.

An institution or vestiging of the previous cycle that is not (yet) in this cycle's files is carried
over as ``beeindigd`` (ended), never deleted; a later load for the cycle that has it again revives it.
Every file loaded is recorded in ``refdata_bestand`` for ``vva refdata check`` (``controle.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.db import models
from broker.refdata import duo
from broker.refdata.lookup import CACHE_SLEUTEL

#: The demo set in broker/refdata/demo, in load order.
DEMO_BESTANDEN = (
    "vestigingen-vo-FICTIEF.csv",
    "basisonderwijs-FICTIEF.csv",
    "sbo-so-vso-FICTIEF.csv",
    "mbo-instellingen-FICTIEF.csv",
)

#: Report keys, in the order the tables are loaded and printed.
TABELLEN = ("rmc_regio", "gemeente", "instelling", "vestiging")

# A file without RMC data (an older release, or a row with an empty region) says nothing about the region,
# so None never erases a region that is already known.
_NONE_WIST_NIET = frozenset({"rmc_regio"})


@dataclass
class TableCount:
    """How many keys of one table were new, changed or unchanged in one load."""

    nieuw: int = 0
    gewijzigd: int = 0
    ongewijzigd: int = 0
    beeindigd: int = 0  # of the previous cycle, missing from this cycle's files: carried over as ended

    @property
    def totaal(self) -> int:
        return self.nieuw + self.gewijzigd + self.ongewijzigd


@dataclass(frozen=True)
class RejectedLine:
    """A row of a file that was not loaded; ``str()`` gives "file:line: reason"."""

    bestand: str
    regel: int
    reden: str

    def __str__(self) -> str:
        return f"{self.bestand}:{self.regel}: {self.reden}"


@dataclass
class LoadReport:
    """The outcome of one ``load_files`` call.

    ``tellingen`` per table (keys: ``TABELLEN``), refused rows with file and line, warnings, rows read.
    """

    cyclus_jaar: int
    bestanden: list[str] = field(default_factory=list)
    tellingen: dict[str, TableCount] = field(default_factory=lambda: {t: TableCount() for t in TABELLEN})
    afgewezen: list[RejectedLine] = field(default_factory=list)
    waarschuwingen: list[str] = field(default_factory=list)
    rijen: int = 0  # non-blank data rows read over all files


def load_files(
    session: Session,
    paden_of_bestanden: Iterable[str | os.PathLike[str] | duo.DuoBestand],
    cyclus_jaar: int,
) -> LoadReport:
    """Upsert the reference data of one or more DUO files; flushes, does not commit.

    Input: an open session; file paths (read and parsed with ``duo.read_duo_csv``) or already parsed
    ``DuoBestand`` objects of the yearly set (VO, primary-school, SBO/SO/VSO and MBO files, see
    ``duo``); the cycle year they belong to. All files are parsed before anything is written, so one
    unusable file loads nothing.
    Output: a ``LoadReport``. Rows are keyed by (cycle, code) (BRIN for institutions); only rows of
    ``cyclus_jaar`` are written. New and changed rows (compared with this cycle's row, else the previous
    cycle's) get ``geldig_vanaf_cyclus = cyclus_jaar``, unchanged rows keep theirs. When files disagree the first file
    wins, except that an institution from the MBO file wins over the same BRIN derived from VO vestigingen
    (an AOC has both; the MBO file carries the institution's own name).
    Raises ``duo.UnknownFile`` for a file that is not a known DUO file and ``OSError`` when a path
    cannot be read.
    """
    bestanden = [_as_file(item) for item in paden_of_bestanden]
    rapport = LoadReport(cyclus_jaar=cyclus_jaar, bestanden=[b.bron for b in bestanden])
    for bestand in bestanden:
        rapport.rijen += bestand.rijen
        rapport.afgewezen += [RejectedLine(bestand.bron, a.regel, a.reden) for a in bestand.afgewezen]
        rapport.waarschuwingen += bestand.waarschuwingen
    gegevens = _merge(bestanden, rapport.waarschuwingen)

    vorig_jaar = _previous_year(session, cyclus_jaar)
    for tabel, model, sleutel in _TABELLEN:
        bestaand = _rijen(session, model, sleutel, cyclus_jaar)
        vorige = _rijen(session, model, sleutel, vorig_jaar) if vorig_jaar is not None else {}
        telling = rapport.tellingen[tabel]
        for code, velden in gegevens[tabel].items():
            rij = bestaand.get(code)
            basis = rij if rij is not None else vorige.get(code)
            _upsert(session, model, sleutel, code, velden, rij, basis, cyclus_jaar, telling)
        if "beeindigd" in model.__table__.columns:
            for code, oud in vorige.items():
                if code not in bestaand and code not in gegevens[tabel]:
                    session.add(
                        _copy(model, oud, cyclus_jaar, beeindigd=True, geldig_vanaf_cyclus=cyclus_jaar)
                    )
                    telling.beeindigd += 1
    now = datetime.now(UTC)
    for bestand in bestanden:
        session.add(
            models.RefdataBestand(
                cyclus_jaar=cyclus_jaar,
                soort=bestand.soort,
                naam=Path(bestand.bron).name[:300],
                rijen=bestand.rijen,
                geladen_op=now,
            )
        )
    session.flush()
    session.info.pop(CACHE_SLEUTEL, None)
    return rapport


def load_demo(session: Session, cyclus_jaar: int) -> LoadReport:
    """Load the fictional demo set of ``broker/refdata/demo`` (see its README); flushes, does not commit.

    Output: the ``LoadReport`` of ``load_files``. Raises nothing for the shipped files.
    """
    demo = resources.files("broker.refdata") / "demo"
    bestanden = [duo.read_duo_csv(demo.joinpath(naam).read_bytes(), naam) for naam in DEMO_BESTANDEN]
    return load_files(session, bestanden, cyclus_jaar)


# --- helpers -------------------------------------------------------------------------------

_TABELLEN: tuple[tuple[str, type[models.Base], str], ...] = (
    ("rmc_regio", models.RmcRegio, "code"),
    ("gemeente", models.Gemeente, "code"),
    ("instelling", models.Instelling, "brin"),
    ("vestiging", models.Vestiging, "code"),
)


def _as_file(item: str | os.PathLike[str] | duo.DuoBestand) -> duo.DuoBestand:
    if isinstance(item, duo.DuoBestand):
        return item
    pad = Path(item)
    return duo.read_duo_csv(pad.read_bytes(), str(item))


def _merge(
    bestanden: list[duo.DuoBestand], waarschuwingen: list[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per table: code -> column values, merged over the files (first file wins, MBO institutions win)."""
    gegevens: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TABELLEN}

    def neem(tabel: str, code: str, velden: dict[str, Any], bron: str) -> None:
        eerder = gegevens[tabel].setdefault(code, velden)
        if eerder != velden:
            waarschuwingen.append(f"{bron}: {tabel} {code} staat ook in een eerder bestand; dat gaat voor")

    for bestand in bestanden:
        for regio in bestand.rmc_regios:
            neem("rmc_regio", regio.code, {"naam": regio.naam}, bestand.bron)
        for gemeente in bestand.gemeenten:
            _neem_gemeente(gegevens["gemeente"], gemeente, bestand.bron, waarschuwingen)
        for vestiging in bestand.vestigingen:
            velden = _fields(vestiging, models.Vestiging, "code")
            neem("vestiging", vestiging.code, velden, bestand.bron)
    _neem_instellingen(gegevens["instelling"], bestanden, waarschuwingen)
    return gegevens


def _neem_gemeente(
    gemeenten: dict[str, dict[str, Any]], gemeente: duo.Gemeente, bron: str, waarschuwingen: list[str]
) -> None:
    """Merge one gemeente: the first name wins; the region comes from the first file that has one."""
    eerder = gemeenten.get(gemeente.code)
    if eerder is None:
        gemeenten[gemeente.code] = {"naam": gemeente.naam, "rmc_regio": gemeente.rmc_regio}
        return
    if eerder["rmc_regio"] is None:
        eerder["rmc_regio"] = gemeente.rmc_regio
    elif gemeente.rmc_regio not in (None, eerder["rmc_regio"]):
        waarschuwingen.append(
            f"{bron}: gemeente {gemeente.code} in RMC-regio {gemeente.rmc_regio} genegeerd, "
            f"eerder bestand zegt {eerder['rmc_regio']}"
        )


def _neem_instellingen(
    instellingen: dict[str, dict[str, Any]], bestanden: list[duo.DuoBestand], waarschuwingen: list[str]
) -> None:
    """MBO files first, so a BRIN with both VO vestigingen and an MBO row keeps its MBO record.

    That overlap is expected (an AOC has vmbo vestigingen under its MBO BRIN), so it is not warned about.
    """
    volgorde = sorted(bestanden, key=lambda b: b.soort != duo.MBO)  # stable: file order within a kind
    for bestand in volgorde:
        for instelling in bestand.instellingen:
            velden = _fields(instelling, models.Instelling, "brin")
            eerder = instellingen.setdefault(instelling.brin, velden)
            if eerder != velden and eerder["sector"] == instelling.sector:
                waarschuwingen.append(
                    f"{bestand.bron}: instelling {instelling.brin} staat ook in een eerder bestand; "
                    "dat gaat voor"
                )


def _fields(record: Any, model: type[models.Base], sleutel: str) -> dict[str, Any]:
    """The fields of a parsed record that are columns of ``model`` (minus key and validity)."""
    kolommen = set(model.__table__.columns.keys()) - {
        sleutel,
        "geldig_vanaf_cyclus",
        "cyclus_jaar",
        "beeindigd",
    }
    return {naam: getattr(record, naam) for naam in kolommen if hasattr(record, naam)}


def _previous_year(session: Session, cyclus_jaar: int) -> int | None:
    """The newest earlier cycle with reference data: the one whose institutions carry over."""
    return session.scalar(
        select(func.max(models.Gemeente.cyclus_jaar)).where(models.Gemeente.cyclus_jaar < cyclus_jaar)
    )


def _rijen(session: Session, model: type[models.Base], sleutel: str, jaar: int) -> dict[str, Any]:
    return {
        getattr(rij, sleutel): rij
        for rij in session.scalars(select(model).where(model.cyclus_jaar == jaar))  # type: ignore[attr-defined]
    }


def _copy(model: type[models.Base], rij: Any, cyclus_jaar: int, **anders: Any) -> Any:
    """A copy of ``rij`` for ``cyclus_jaar``, with the columns in ``anders`` replaced."""
    velden = {naam: getattr(rij, naam) for naam in model.__table__.columns.keys()}
    return model(**(velden | {"cyclus_jaar": cyclus_jaar} | anders))


def _upsert(
    session: Session,
    model: type[models.Base],
    sleutel: str,
    code: str,
    velden: dict[str, Any],
    rij: Any,
    basis: Any,
    cyclus_jaar: int,
    telling: TableCount,
) -> None:
    """Insert ``code`` into this cycle or update its changed columns; count the outcome in ``telling``.

    ``rij`` is this cycle's row, ``basis`` the row it continues (this cycle's, else the previous
    cycle's): "new", "changed" and "unchanged" are relative to it, so loading the same files for the
    next cycle counts as unchanged and keeps ``geldig_vanaf_cyclus``.
    """
    if basis is not None and _vo_over_mbo(model, basis, velden):
        velden = {naam: getattr(basis, naam) for naam in velden}
    if basis is not None:
        velden = {
            naam: getattr(basis, naam) if waarde is None and naam in _NONE_WIST_NIET else waarde
            for naam, waarde in velden.items()
        }
    if "beeindigd" in model.__table__.columns:
        velden = velden | {"beeindigd": False}
    wijzigingen = {} if basis is None else {n: w for n, w in velden.items() if getattr(basis, n) != w}
    if basis is None:
        telling.nieuw += 1
    elif wijzigingen:
        telling.gewijzigd += 1
    else:
        telling.ongewijzigd += 1
    geldig = cyclus_jaar if basis is None or wijzigingen else basis.geldig_vanaf_cyclus
    if rij is None:
        session.add(model(**{sleutel: code}, **velden, cyclus_jaar=cyclus_jaar, geldig_vanaf_cyclus=geldig))
        return
    for naam, waarde in wijzigingen.items():
        setattr(rij, naam, waarde)
    rij.geldig_vanaf_cyclus = geldig


def _vo_over_mbo(model: type[models.Base], rij: Any, velden: dict[str, Any]) -> bool:
    # Same rule as within one load, across loads and cycles: a VO-only load must not turn an AOC back
    # into "vo".
    return model is models.Instelling and rij.sector == "mbo" and velden["sector"] == "vo"
