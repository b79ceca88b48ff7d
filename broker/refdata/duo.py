"""Parse DUO open-data CSV files into plain records; no database access.

Sources (DUO open onderwijsdata, https://duo.nl/open_onderwijsdata/), the complete
yearly set:
- ``02.-alle-vestigingen-vo.csv`` (older name ``02-alle-vestigingen-vo.csv``): one row per VO vestiging;
- ``02.-alle-schoolvestigingen-basisonderwijs.csv`` (older ``alle-vestigingen-bo.csv``): one row per
  primary-school vestiging. Only its gemeenten and RMC regions are used (it is the one file that covers
  every gemeente); primary schools are no party of this exchange and never become institutions;
- ``09.-alle-vestigingen-sbo-so-en-vso.csv``: special education. VSO and (V)SO rows are schools of the
  VO side (institutions with vestigingen); SBO ("SBAO") and SO rows are primary level and, like the
  primary-school file, give only gemeenten and regions;
- ``01.-adressen-mbo-instellingen.csv`` (older name ``01-adressen-instellingen.csv``): one row per MBO
  institution (BRIN4).

The kind is told by the header: ``SOORT PRIMAIR ONDERWIJS`` is the special-education file, a vestiging
file with ``ONDERWIJSSTRUCTUUR`` is VO, one without it is the primary-school file.

What varies between DUO releases, and is therefore sniffed rather than assumed:
- encoding: the legacy downloads are windows-1252 with CRLF, re-exports and the CKAN portal give UTF-8,
  with or without BOM;
- delimiter: ``;`` for the legacy files, ``,`` for some CKAN files;
- header generation: ``BRIN NUMMER`` / ``VESTIGINGSNUMMER`` (older) or ``INSTELLINGSCODE`` /
  ``VESTIGINGSCODE`` (newer); ``VESTIGINGSCODE`` holds either the 2-digit suffix or the full BRIN6.
DUO writes an empty value as a single space (``; ;``); it is read as empty.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, TypeVar

from broker.domain.identifiers import (
    parse_brin,
    parse_gemeentecode,
    parse_postcode,
    parse_vestigingscode,
)
from broker.domain.meldingen import Rejection
from broker.errors import BrokerError

Soort = Literal["vo-vestigingen", "bo-vestigingen", "sbo-so-vso-vestigingen", "mbo-instellingen"]
VO: Soort = "vo-vestigingen"
BO: Soort = "bo-vestigingen"
SO: Soort = "sbo-so-vso-vestigingen"
MBO: Soort = "mbo-instellingen"
SOORTEN: tuple[Soort, ...] = (VO, BO, SO, MBO)

#: Values of ``SOORT PRIMAIR ONDERWIJS`` that are schools of the VO side; SBAO and SO are primary level.
VSO_SOORTEN = frozenset({"VSO", "(V)SO"})

# Each role the importer reads, with the header names DUO has used for it (normalised: upper case,
# single spaces, "_" read as a space), newest first.
_HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "brin": ("INSTELLINGSCODE", "BRIN NUMMER"),
    "vestigingscode": ("VESTIGINGSCODE", "VESTIGINGSNUMMER"),
    "vestigingsnaam": ("VESTIGINGSNAAM",),
    "instellingsnaam": ("INSTELLINGSNAAM",),
    "postcode": ("POSTCODE",),
    "plaats": ("PLAATSNAAM",),
    # DUO's own SQL loader calls the MBO column "gemeentecode".
    "gemeentecode": ("GEMEENTENUMMER", "GEMEENTECODE"),
    "gemeentenaam": ("GEMEENTENAAM",),
    "onderwijsstructuur": ("ONDERWIJSSTRUCTUUR",),
    "soort_po": ("SOORT PRIMAIR ONDERWIJS",),
    "telefoon": ("TELEFOONNUMMER",),
    "internetadres": ("INTERNETADRES",),
    "rmc_code": ("RMC-REGIO CODE",),
    "rmc_naam": ("RMC-REGIO NAAM",),
}
_OLD_BRIN_HEADER = "BRIN NUMMER"

# The columns without which a file of that kind is useless. Everything else is optional, so a release
# that drops e.g. the RMC columns still loads (and then never erases known regions, see laden.py).
_REQUIRED: dict[Soort, tuple[str, ...]] = {
    VO: ("brin", "vestigingscode", "vestigingsnaam", "gemeentecode"),
    BO: ("brin", "vestigingscode", "vestigingsnaam", "gemeentecode"),
    SO: ("brin", "vestigingscode", "vestigingsnaam", "gemeentecode", "soort_po"),
    MBO: ("brin", "instellingsnaam", "gemeentecode"),
}

# Column widths of broker/db/models.py: a longer value would fail on PostgreSQL, so the row is refused
# here with a readable reason instead of aborting the whole load.
_MAX_LENGTH = {
    "vestigingsnaam": 200,
    "instellingsnaam": 200,
    "plaats": 100,
    "gemeentenaam": 200,
    "onderwijsstructuur": 50,
    "rmc_naam": 200,
    "telefoon": 50,
    "internetadres": 200,
}

# Contact details only go into answers to partners: one too long is left empty with a warning, so the
# school itself (its BRIN, gemeente and region: what pupils are checked and routed on) is still loaded.
_CONTACT_ROLES = frozenset({"telefoon", "internetadres"})

_RMC_CODE = re.compile(r"\A[0-9]{1,3}\Z")
_LINE_END = re.compile(r"\r\n|\r|\n")


class UnknownFile(BrokerError, ValueError):
    """The file as a whole cannot be used: not decodable, no delimiter, or not a DUO file this importer knows.

    ``bron`` names the file; ``missing`` maps each known kind to the required columns it lacks
    (empty when the problem is not the header).
    """

    def __init__(self, bron: str, reason: str, missing: dict[str, list[str]] | None = None) -> None:
        super().__init__(f"{bron}: {reason}")
        self.bron = bron
        self.missing = missing or {}


@dataclass(frozen=True)
class Vestiging:
    """One VO location (BRIN6) as DUO publishes it; codes normalised, empty values None."""

    code: str
    brin: str
    naam: str
    postcode: str | None
    plaats: str | None
    gemeentecode: str
    gemeentenaam: str | None
    rmc_regio: str | None
    rmc_naam: str | None
    onderwijsstructuur: str | None  # for (V)SO vestigingen: DUO's SOORT PRIMAIR ONDERWIJS ("VSO", "(V)SO")
    telefoon: str | None = None
    internetadres: str | None = None


@dataclass(frozen=True)
class Instelling:
    """One institution (BRIN4); ``sector`` is "vo" or "mbo", ``onderwijssoort`` "vo", "vso" or "mbo"."""

    brin: str
    sector: str
    naam: str
    gemeentecode: str
    rmc_regio: str | None
    onderwijssoort: str = ""
    telefoon: str | None = None
    internetadres: str | None = None

    def __post_init__(self) -> None:
        if not self.onderwijssoort:
            object.__setattr__(self, "onderwijssoort", self.sector)


@dataclass(frozen=True)
class Gemeente:
    """A gemeente (4-digit CBS code) with the RMC region its schools in this file belong to."""

    code: str
    naam: str
    rmc_regio: str | None


@dataclass(frozen=True)
class RmcRegio:
    """An RMC region: code without leading zero ("7"), name as DUO writes it."""

    code: str
    naam: str


@dataclass(frozen=True)
class RejectedRow:
    """A data row that was not used. ``regel`` is the 1-based line in the file (the header is line 1)."""

    line_number: int
    reason: str


@dataclass
class DuoFile:
    """The usable content of one DUO file, plus what was refused and what looked odd.

    ``row_count`` counts the non-blank data rows read, so ``row_count == used rows + len(rejected)``;
    ``encoding`` is "utf-8", "utf-8-sig" or "cp1252"; ``generation`` is "oud" (``BRIN NUMMER``) or "nieuw".
    """

    bron: str
    soort: Soort
    encoding: str = "utf-8"
    delimiter: str = ";"
    generation: str = "nieuw"
    row_count: int = 0
    vestigingen: list[Vestiging] = field(default_factory=list)
    instellingen: list[Instelling] = field(default_factory=list)
    gemeenten: list[Gemeente] = field(default_factory=list)
    rmc_regios: list[RmcRegio] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, line: int, text: str) -> None:
        """Record a warning about line ``line`` (the row itself is still used)."""
        self.warnings.append(f"{self.bron}:{line}: {text}")


def read_duo_csv(data: bytes, bron: str) -> DuoFile:
    """Parse one DUO open-data CSV file.

    Input: the raw bytes of ``02.-alle-vestigingen-vo.csv`` or ``01.-adressen-mbo-instellingen.csv`` (either
    header generation, UTF-8 with or without BOM or windows-1252, ``;`` or ``,``); ``bron`` names the file
    in messages. Output: a ``DuoFile``. For a VO file the institutions, gemeenten and RMC regions are
    derived from the vestiging rows; for an MBO file the gemeenten and regions from the institution rows.
    Rows that cannot be used go to ``rejected`` with a reason naming the column, and are left out.
    Raises ``UnknownFile`` when the file cannot be decoded, has no ``;``/``,`` header, is empty, has
    unreadable CSV, or lacks the required columns of both known kinds (the message lists them).
    """
    text, encoding = _decode(data, bron)
    if not text.strip():
        raise UnknownFile(bron, "empty file, no header line")
    delimiter = _delimiter(text, bron)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader)
    columns = _columns(header)
    duo_file = DuoFile(
        bron=bron,
        soort=_recognise_kind(columns, bron),
        encoding=encoding,
        delimiter=delimiter,
        generation="oud" if columns["brin"].header == _OLD_BRIN_HEADER else "nieuw",
    )
    rows = _data_rows(reader, len(header), columns, duo_file)
    if duo_file.soort == MBO:
        _process_mbo(rows, duo_file)
    else:
        _process_vestigingen(rows, duo_file)
    return duo_file


# --- reading the file ----------------------------------------------------------------------


def _decode(data: bytes, bron: str) -> tuple[str, str]:
    """Decode as strict UTF-8 (BOM optional), else windows-1252.

    UTF-8 goes first because windows-1252 text with accented letters is practically never valid UTF-8,
    while every byte string decodes "successfully" (and wrongly) as windows-1252.
    """
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        raise UnknownFile(bron, f"not readable as UTF-8 or windows-1252 (byte {error.start})") from error


def _delimiter(text: str, bron: str) -> str:
    """``;`` or ``,``, whichever occurs more in the header line (DUO headers contain neither in a name)."""
    header_line = _LINE_END.split(text, maxsplit=1)[0]
    semicolon, comma = header_line.count(";"), header_line.count(",")
    if semicolon == comma == 0:
        raise UnknownFile(bron, "header line without ; or , as delimiter")
    return ";" if semicolon >= comma else ","


class _Column(NamedTuple):
    index: int
    header: str  # the DUO name found in this file (normalised), e.g. "BRIN NUMMER"; used in reasons


def _normalise_header(name: str) -> str:
    # Re-exports change case, use "_" for spaces or leave a stray BOM on the first name.
    return " ".join(name.replace("\ufeff", "").replace("_", " ").split()).upper()


def _columns(header: Sequence[str]) -> dict[str, _Column]:
    """Map each role in ``_HEADER_NAMES`` to the first matching column of ``header``."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(_normalise_header(name), index)
    columns: dict[str, _Column] = {}
    for rol, names in _HEADER_NAMES.items():
        for name in names:
            if name in positions:
                columns[rol] = _Column(positions[name], name)
                break
    return columns


def _recognise_kind(columns: dict[str, _Column], bron: str) -> Soort:
    """The kind whose required columns are all present; VO first (its key column is the more specific)."""
    missing = {
        kind: [" or ".join(_HEADER_NAMES[rol]) for rol in roles if rol not in columns]
        for kind, roles in _REQUIRED.items()
    }
    if not missing[SO]:
        return SO
    if not missing[VO]:
        return VO if "onderwijsstructuur" in columns else BO
    if not missing[MBO]:
        return MBO
    missing = {kind: names for kind, names in missing.items() if kind in (VO, MBO)}
    explanation = "; ".join(f"as {kind} it lacks: {', '.join(names)}" for kind, names in missing.items())
    raise UnknownFile(bron, f"not a known DUO file ({explanation})", missing)


def _data_rows(
    reader: Iterator[list[str]], width: int, columns: dict[str, _Column], duo_file: DuoFile
) -> Iterator[_Row]:
    """Yield each non-blank data row with its starting line; refuse rows with the wrong column count."""
    previous = reader.line_num  # type: ignore[attr-defined]
    try:
        for cells in reader:
            # A quoted value may span lines: the row starts on the line after the previous row ended.
            line, previous = previous + 1, reader.line_num  # type: ignore[attr-defined]
            if not any(cell.strip() for cell in cells):
                continue  # empty line, or the ";;;;" lines spreadsheets leave at the end
            duo_file.row_count += 1
            if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
                cells = cells[:width]  # a trailing ";" on data lines only
            if len(cells) != width:
                reason = f"expected {width} columns, found {len(cells)}"
                duo_file.rejected.append(RejectedRow(line, reason))
                continue
            yield _Row(line, cells, columns)
    except csv.Error as error:
        raise UnknownFile(duo_file.bron, f"line {previous + 1}: unreadable CSV ({error})") from error


# --- reading one row -----------------------------------------------------------------------


class _Unusable(BrokerError):
    """This row cannot be used; the message is the reason, naming the column."""


@dataclass
class _Row:
    line_number: int
    cells: list[str]
    columns: dict[str, _Column]
    # Kept on the row and only passed on when the row is used, so a refused row leaves no warnings.
    warnings: list[str] = field(default_factory=list)

    def header(self, rol: str) -> str:
        return self.columns[rol].header if rol in self.columns else _HEADER_NAMES[rol][0]

    def value(self, rol: str) -> str | None:
        """The stripped value, or None when the column is absent or empty (DUO writes " " for empty)."""
        column = self.columns.get(rol)
        if column is None:
            return None
        return self.cells[column.index].strip() or None

    def mandatory(self, rol: str) -> str:
        value = self.value(rol)
        if value is None:
            raise _Unusable(f"{self.header(rol)}: empty")
        return value

    def text(self, rol: str, mandatory: bool = False) -> str | None:
        """A free-text value, refused when longer than its database column."""
        value = self.mandatory(rol) if mandatory else self.value(rol)
        limit = _MAX_LENGTH.get(rol)
        if value is not None and limit is not None and len(value) > limit:
            if rol in _CONTACT_ROLES:
                self.warnings.append(f"{self.header(rol)}: longer than {limit} characters, left empty")
                return None
            raise _Unusable(f"{self.header(rol)}: longer than {limit} characters")
        return value

    def rejection(self, rol: str, value: str, error: Rejection) -> _Unusable:
        # Reference data are public, so unlike message meldingen the reason may quote the value.
        return _Unusable(f"{self.header(rol)}: {value!r} invalid ({error.melding.tekst_en})")

    def brin(self) -> str:
        value = self.mandatory("brin")
        try:
            return parse_brin(value)
        except Rejection as error:
            raise self.rejection("brin", value, error) from None

    def vestigingscode(self, brin: str) -> str:
        value = self.mandatory("vestigingscode")
        try:
            return parse_vestigingscode(brin, value)
        except Rejection as error:
            raise self.rejection("vestigingscode", value, error) from None

    def gemeentecode(self) -> str:
        """4 digits; "756" (padding lost by a spreadsheet) becomes "0756"."""
        value = self.mandatory("gemeentecode")
        try:
            return parse_gemeentecode(value)
        except Rejection as error:
            raise self.rejection("gemeentecode", value, error) from None

    def rmc(self) -> tuple[str | None, str | None]:
        """(code, name); the code without leading zeros ("07" -> "7"), both None when the code is empty."""
        code = self.value("rmc_code")
        if code is None:
            return None, None
        if not _RMC_CODE.match(code) or int(code) == 0:
            raise _Unusable(f"{self.header('rmc_code')}: {code!r} is no RMC-regio code (1 to 3 digits)")
        return str(int(code)), self.text("rmc_naam")

    def postcode(self) -> str | None:
        """ "5831 CR" -> "5831CR". An invalid postcode is dropped with a warning: nothing routes on it."""
        value = self.value("postcode")
        if value is None:
            return None
        try:
            return parse_postcode(value)
        except Rejection:
            self.warnings.append(f"{self.header('postcode')}: {value!r} invalid, left empty")
            return None


class _Location(NamedTuple):
    """Where an accepted row lies: the input for the gemeente and RMC lists."""

    line_number: int
    gemeentecode: str
    gemeentenaam: str | None
    rmc_regio: str | None
    rmc_naam: str | None


# --- per file kind -------------------------------------------------------------------------

T = TypeVar("T")


def _usable(
    rows: Iterator[_Row],
    duo_file: DuoFile,
    make: Callable[[_Row], tuple[T, _Location]],
    key_of: Callable[[T], str],
    key_role: str,
) -> Iterator[tuple[T, _Location]]:
    """Apply ``make`` to each row; refuse unusable rows and repeats of a key seen on an earlier line."""
    first_line: dict[str, int] = {}
    for row in rows:
        try:
            record, location = make(row)
        except _Unusable as error:
            duo_file.rejected.append(RejectedRow(row.line_number, str(error)))
            continue
        code = key_of(record)
        if code in first_line:
            reason = f"{row.header(key_role)}: {code} is already on line {first_line[code]}"
            duo_file.rejected.append(RejectedRow(row.line_number, reason))
            continue
        first_line[code] = row.line_number
        for text in row.warnings:
            duo_file.warn(row.line_number, text)
        yield record, location


def _vo_vestiging(row: _Row) -> tuple[Vestiging, _Location]:
    brin = row.brin()
    code = row.vestigingscode(brin)
    naam = row.text("vestigingsnaam", mandatory=True)
    gemeentecode = row.gemeentecode()
    gemeentenaam = row.text("gemeentenaam")
    rmc_regio, rmc_naam = row.rmc()
    vestiging = Vestiging(
        code=code,
        brin=brin,
        naam=naam,  # type: ignore[arg-type]  # verplicht=True never gives None
        postcode=row.postcode(),
        plaats=row.text("plaats"),
        gemeentecode=gemeentecode,
        gemeentenaam=gemeentenaam,
        rmc_regio=rmc_regio,
        rmc_naam=rmc_naam,
        onderwijsstructuur=row.text("soort_po")
        if "soort_po" in row.columns
        else row.text("onderwijsstructuur"),
        telefoon=row.text("telefoon"),
        internetadres=row.text("internetadres"),
    )
    return vestiging, _Location(row.line_number, gemeentecode, gemeentenaam, rmc_regio, rmc_naam)


def _process_vestigingen(rows: Iterator[_Row], duo_file: DuoFile) -> None:
    """A vestiging file (VO, primary, special education): gemeenten and regions from every row;
    vestigingen and their institutions only for schools of the VO side (all of a VO file, the VSO and
    (V)SO rows of the special-education file, nothing of the primary-school file)."""
    locations = []
    for vestiging, location in _usable(rows, duo_file, _vo_vestiging, lambda v: v.code, "vestigingscode"):
        locations.append(location)
        if duo_file.soort == VO or (duo_file.soort == SO and vestiging.onderwijsstructuur in VSO_SOORTEN):
            duo_file.vestigingen.append(vestiging)
    soort = "vso" if duo_file.soort == SO else "vo"
    duo_file.instellingen = _vo_instellingen(duo_file.vestigingen, soort)
    _gemeenten_and_regios(locations, duo_file)


def _vo_instellingen(vestigingen: list[Vestiging], onderwijssoort: str = "vo") -> list[Instelling]:
    """One institution per BRIN, named, placed and reached after its lowest vestigingscode (usually "00",
    the main one)."""
    head: dict[str, Vestiging] = {}
    for vestiging in vestigingen:
        current = head.get(vestiging.brin)
        if current is None or vestiging.code < current.code:
            head[vestiging.brin] = vestiging
    return [
        Instelling(
            brin, "vo", v.naam, v.gemeentecode, v.rmc_regio, onderwijssoort, v.telefoon, v.internetadres
        )
        for brin, v in sorted(head.items())
    ]


def _mbo_instelling(row: _Row) -> tuple[Instelling, _Location]:
    brin = row.brin()
    name = row.text("instellingsnaam", mandatory=True)
    gemeentecode = row.gemeentecode()
    gemeentenaam = row.text("gemeentenaam")
    rmc_regio, rmc_naam = row.rmc()
    instelling = Instelling(
        brin,
        "mbo",
        name,  # type: ignore[arg-type]
        gemeentecode,
        rmc_regio,
        "mbo",
        row.text("telefoon"),
        row.text("internetadres"),
    )
    return instelling, _Location(row.line_number, gemeentecode, gemeentenaam, rmc_regio, rmc_naam)


def _process_mbo(rows: Iterator[_Row], duo_file: DuoFile) -> None:
    """Institutions from the rows; gemeenten and regions derived from them."""
    locations = []
    for instelling, location in _usable(rows, duo_file, _mbo_instelling, lambda i: i.brin, "brin"):
        duo_file.instellingen.append(instelling)
        locations.append(location)
    duo_file.instellingen.sort(key=lambda i: i.brin)
    _gemeenten_and_regios(locations, duo_file)


def _gemeenten_and_regios(locations: list[_Location], duo_file: DuoFile) -> None:
    """Build the gemeente and RMC lists; on conflicting rows keep the first value and warn once."""
    gemeente_names: dict[str, str] = {}
    gemeente_regios: dict[str, str] = {}
    regio_names: dict[str, str] = {}
    reported: set[tuple[str, str, str]] = set()

    def keep_first(table: dict[str, str], key: str, value: str | None, line: int, what: str) -> None:
        if value is None:
            return
        earlier = table.setdefault(key, value)
        if earlier != value and (what, key, value) not in reported:
            reported.add((what, key, value))
            duo_file.warn(line, f"{what} {key}: {value!r} ignored, earlier {earlier!r}")

    for location in locations:
        code = location.gemeentecode
        keep_first(gemeente_names, code, location.gemeentenaam, location.line_number, "name of gemeente")
        keep_first(gemeente_regios, code, location.rmc_regio, location.line_number, "RMC-regio of gemeente")
        if location.rmc_regio is not None:
            keep_first(
                regio_names, location.rmc_regio, location.rmc_naam, location.line_number, "name of RMC-regio"
            )

    for code in sorted({location.gemeentecode for location in locations}):
        if code not in gemeente_names:
            # Gemeente.naam is required; without a name the code stays on the schools only.
            duo_file.warnings.append(f"{duo_file.bron}: gemeente {code} without GEMEENTENAAM, not included")
            continue
        duo_file.gemeenten.append(Gemeente(code, gemeente_names[code], gemeente_regios.get(code)))
    for code in sorted({location.rmc_regio for location in locations if location.rmc_regio}, key=int):
        if code not in regio_names:
            duo_file.warnings.append(f"{duo_file.bron}: RMC-regio {code} without a name, not included")
            continue
        duo_file.rmc_regios.append(RmcRegio(code, regio_names[code]))
