"""Load parsed DUO open data into the reference tables, per registration cycle.

Reference data belong to a cycle: every table is keyed by (``cyclus_jaar``, code), so a load for one
cycle never changes another cycle's rows (RMC regions change between years; a closed cycle keeps its
gemeente→region mapping). Within a cycle, loads upsert by code with the plain SQLAlchemy ORM (same on
SQLite and PostgreSQL), so the yearly set may be loaded one file at a time and loading the same files
again changes nothing. ``geldig_vanaf_cyclus`` is the first cycle since which a row's content is the same.

An institution or vestiging of the previous cycle that is not (yet) in this cycle's files is carried
over as ``beeindigd`` (ended), never deleted; a later load for the cycle that has it again revives it.
Every file loaded is recorded in ``refdata_file`` for ``vva refdata check`` (``controle.py``).
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
from broker.refdata.lookup import CACHE_KEY

#: The demo set in broker/refdata/demo, in load order.
DEMO_FILES = (
    "vestigingen-vo-FICTIEF.csv",
    "basisonderwijs-FICTIEF.csv",
    "sbo-so-vso-FICTIEF.csv",
    "mbo-instellingen-FICTIEF.csv",
)

#: Report keys, in the order the tables are loaded and printed.
TABLES = ("rmc_regio", "gemeente", "instelling", "vestiging")

# A file without RMC data (an older release, or a row with an empty region) says nothing about the region,
# so None never erases a region that is already known.
_NONE_DOES_NOT_ERASE = frozenset({"rmc_regio"})


@dataclass
class TableCount:
    """How many keys of one table were new, changed or unchanged in one load."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    beeindigd: int = 0  # of the previous cycle, missing from this cycle's files: carried over as ended

    @property
    def total(self) -> int:
        return self.new + self.changed + self.unchanged


@dataclass(frozen=True)
class RejectedLine:
    """A row of a file that was not loaded; ``str()`` gives "file:line: reason"."""

    duo_file: str
    line_number: int
    reason: str

    def __str__(self) -> str:
        return f"{self.duo_file}:{self.line_number}: {self.reason}"


@dataclass
class LoadReport:
    """The outcome of one ``load_files`` call.

    ``counts`` per table (keys: ``TABLES``), refused rows with file and line, warnings, rows read.
    """

    cyclus_jaar: int
    files: list[str] = field(default_factory=list)
    counts: dict[str, TableCount] = field(default_factory=lambda: {t: TableCount() for t in TABLES})
    rejected: list[RejectedLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    row_count: int = 0  # non-blank data rows read over all files


def load_files(
    session: Session,
    paths_or_files: Iterable[str | os.PathLike[str] | duo.DuoFile],
    cyclus_jaar: int,
) -> LoadReport:
    """Upsert the reference data of one or more DUO files; flushes, does not commit.

    Input: an open session; file paths (read and parsed with ``duo.read_duo_csv``) or already parsed
    ``DuoFile`` objects of the yearly set (VO, primary-school, SBO/SO/VSO and MBO files, see
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
    files = [_as_file(item) for item in paths_or_files]
    report = LoadReport(cyclus_jaar=cyclus_jaar, files=[b.bron for b in files])
    for duo_file in files:
        report.row_count += duo_file.row_count
        report.rejected += [RejectedLine(duo_file.bron, a.line_number, a.reason) for a in duo_file.rejected]
        report.warnings += duo_file.warnings
    details = _merge(files, report.warnings)

    previous_year = _previous_year(session, cyclus_jaar)
    for table, model, key_column in _TABLES:
        existing = _rows(session, model, key_column, cyclus_jaar)
        previous = _rows(session, model, key_column, previous_year) if previous_year is not None else {}
        count = report.counts[table]
        for code, fields in details[table].items():
            row = existing.get(code)
            base = row if row is not None else previous.get(code)
            _upsert(session, model, key_column, code, fields, row, base, cyclus_jaar, count)
        if "beeindigd" in model.__table__.columns:
            for code, old in previous.items():
                if code not in existing and code not in details[table]:
                    session.add(
                        _copy(model, old, cyclus_jaar, beeindigd=True, geldig_vanaf_cyclus=cyclus_jaar)
                    )
                    count.beeindigd += 1
    now = datetime.now(UTC)
    for duo_file in files:
        session.add(
            models.RefdataFile(
                cyclus_jaar=cyclus_jaar,
                kind=duo_file.soort,
                name=Path(duo_file.bron).name[:300],
                row_count=duo_file.row_count,
                loaded_at=now,
            )
        )
    session.flush()
    session.info.pop(CACHE_KEY, None)
    return report


def load_demo(session: Session, cyclus_jaar: int) -> LoadReport:
    """Load the fictional demo set of ``broker/refdata/demo`` (see its README); flushes, does not commit.

    Output: the ``LoadReport`` of ``load_files``. Raises nothing for the shipped files.
    """
    demo = resources.files("broker.refdata") / "demo"
    files = [duo.read_duo_csv(demo.joinpath(name).read_bytes(), name) for name in DEMO_FILES]
    return load_files(session, files, cyclus_jaar)


# --- helpers -------------------------------------------------------------------------------

_TABLES: tuple[tuple[str, type[models.Base], str], ...] = (
    ("rmc_regio", models.RmcRegio, "code"),
    ("gemeente", models.Gemeente, "code"),
    ("instelling", models.Instelling, "brin"),
    ("vestiging", models.Vestiging, "code"),
)


def _as_file(item: str | os.PathLike[str] | duo.DuoFile) -> duo.DuoFile:
    if isinstance(item, duo.DuoFile):
        return item
    path = Path(item)
    return duo.read_duo_csv(path.read_bytes(), str(item))


def _merge(
    files: list[duo.DuoFile], warnings: list[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per table: code -> column values, merged over the files (first file wins, MBO institutions win)."""
    details: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TABLES}

    def take(table: str, code: str, fields: dict[str, Any], bron: str) -> None:
        earlier = details[table].setdefault(code, fields)
        if earlier != fields:
            warnings.append(f"{bron}: {table} {code} is also in an earlier file; that one wins")

    for duo_file in files:
        for regio in duo_file.rmc_regios:
            take("rmc_regio", regio.code, {"naam": regio.naam}, duo_file.bron)
        for gemeente in duo_file.gemeenten:
            _take_gemeente(details["gemeente"], gemeente, duo_file.bron, warnings)
        for vestiging in duo_file.vestigingen:
            fields = _fields(vestiging, models.Vestiging, "code")
            take("vestiging", vestiging.code, fields, duo_file.bron)
    _take_instellingen(details["instelling"], files, warnings)
    return details


def _take_gemeente(
    gemeenten: dict[str, dict[str, Any]], gemeente: duo.Gemeente, bron: str, warnings: list[str]
) -> None:
    """Merge one gemeente: the first name wins; the region comes from the first file that has one."""
    earlier = gemeenten.get(gemeente.code)
    if earlier is None:
        gemeenten[gemeente.code] = {"naam": gemeente.naam, "rmc_regio": gemeente.rmc_regio}
        return
    if earlier["rmc_regio"] is None:
        earlier["rmc_regio"] = gemeente.rmc_regio
    elif gemeente.rmc_regio not in (None, earlier["rmc_regio"]):
        warnings.append(
            f"{bron}: gemeente {gemeente.code} in RMC-regio {gemeente.rmc_regio} ignored, "
            f"an earlier file says {earlier['rmc_regio']}"
        )


def _take_instellingen(
    instellingen: dict[str, dict[str, Any]], files: list[duo.DuoFile], warnings: list[str]
) -> None:
    """MBO files first, so a BRIN with both VO vestigingen and an MBO row keeps its MBO record.

    That overlap is expected (an AOC has vmbo vestigingen under its MBO BRIN), so it is not warned about.
    """
    order = sorted(files, key=lambda b: b.soort != duo.MBO)  # stable: file order within a kind
    for duo_file in order:
        for instelling in duo_file.instellingen:
            fields = _fields(instelling, models.Instelling, "brin")
            earlier = instellingen.setdefault(instelling.brin, fields)
            if earlier != fields and earlier["sector"] == instelling.sector:
                warnings.append(
                    f"{duo_file.bron}: instelling {instelling.brin} is also in an earlier file; that one wins"
                )


def _fields(record: Any, model: type[models.Base], key_column: str) -> dict[str, Any]:
    """The fields of a parsed record that are columns of ``model`` (minus key and validity)."""
    columns = set(model.__table__.columns.keys()) - {
        key_column,
        "geldig_vanaf_cyclus",
        "cyclus_jaar",
        "beeindigd",
    }
    return {name: getattr(record, name) for name in columns if hasattr(record, name)}


def _previous_year(session: Session, cyclus_jaar: int) -> int | None:
    """The newest earlier cycle with reference data: the one whose institutions carry over."""
    return session.scalar(
        select(func.max(models.Gemeente.cyclus_jaar)).where(models.Gemeente.cyclus_jaar < cyclus_jaar)
    )


def _rows(session: Session, model: type[models.Base], key_column: str, jaar: int) -> dict[str, Any]:
    return {
        getattr(row, key_column): row
        for row in session.scalars(select(model).where(model.cyclus_jaar == jaar))  # type: ignore[attr-defined]
    }


def _copy(model: type[models.Base], row: Any, cyclus_jaar: int, **otherwise: Any) -> Any:
    """A copy of ``row`` for ``cyclus_jaar``, with the columns in ``otherwise`` replaced."""
    fields = {name: getattr(row, name) for name in model.__table__.columns.keys()}
    return model(**(fields | {"cyclus_jaar": cyclus_jaar} | otherwise))


def _upsert(
    session: Session,
    model: type[models.Base],
    key_column: str,
    code: str,
    fields: dict[str, Any],
    row: Any,
    base: Any,
    cyclus_jaar: int,
    count: TableCount,
) -> None:
    """Insert ``code`` into this cycle or update its changed columns; count the outcome in ``count``.

    ``row`` is this cycle's row, ``base`` the row it continues (this cycle's, else the previous
    cycle's): "new", "changed" and "unchanged" are relative to it, so loading the same files for the
    next cycle counts as unchanged and keeps ``geldig_vanaf_cyclus``.
    """
    if base is not None and _vo_over_mbo(model, base, fields):
        fields = {name: getattr(base, name) for name in fields}
    if base is not None:
        fields = {
            name: getattr(base, name) if value is None and name in _NONE_DOES_NOT_ERASE else value
            for name, value in fields.items()
        }
    if "beeindigd" in model.__table__.columns:
        fields = fields | {"beeindigd": False}
    changes = {} if base is None else {n: w for n, w in fields.items() if getattr(base, n) != w}
    if base is None:
        count.new += 1
    elif changes:
        count.changed += 1
    else:
        count.unchanged += 1
    valid = cyclus_jaar if base is None or changes else base.geldig_vanaf_cyclus
    if row is None:
        session.add(model(**{key_column: code}, **fields, cyclus_jaar=cyclus_jaar, geldig_vanaf_cyclus=valid))
        return
    for name, value in changes.items():
        setattr(row, name, value)
    row.geldig_vanaf_cyclus = valid


def _vo_over_mbo(model: type[models.Base], row: Any, fields: dict[str, Any]) -> bool:
    # Same rule as within one load, across loads and cycles: a VO-only load must not turn an AOC back
    # into "vo".
    return model is models.Instelling and row.sector == "mbo" and fields["sector"] == "vo"
