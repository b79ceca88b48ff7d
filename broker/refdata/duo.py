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
from broker.domain.meldingen import Afwijzing
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
_KOPNAMEN: dict[str, tuple[str, ...]] = {
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
_OUDE_BRIN_KOP = "BRIN NUMMER"

# The columns without which a file of that kind is useless. Everything else is optional, so a release
# that drops e.g. the RMC columns still loads (and then never erases known regions, see laden.py).
_VERPLICHT: dict[Soort, tuple[str, ...]] = {
    VO: ("brin", "vestigingscode", "vestigingsnaam", "gemeentecode"),
    BO: ("brin", "vestigingscode", "vestigingsnaam", "gemeentecode"),
    SO: ("brin", "vestigingscode", "vestigingsnaam", "gemeentecode", "soort_po"),
    MBO: ("brin", "instellingsnaam", "gemeentecode"),
}

# Column widths of broker/db/models.py: a longer value would fail on PostgreSQL, so the row is refused
# here with a readable reason instead of aborting the whole load.
_MAX_LENGTE = {
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
_CONTACT_ROLLEN = frozenset({"telefoon", "internetadres"})

_RMC_CODE = re.compile(r"\A[0-9]{1,3}\Z")
_REGELEINDE = re.compile(r"\r\n|\r|\n")


class UnknownFile(BrokerError, ValueError):
    """The file as a whole cannot be used: not decodable, no delimiter, or not a DUO file this importer knows.

    ``bron`` names the file; ``ontbrekend`` maps each known kind to the required columns it lacks
    (empty when the problem is not the header).
    """

    def __init__(self, bron: str, reden: str, ontbrekend: dict[str, list[str]] | None = None) -> None:
        super().__init__(f"{bron}: {reden}")
        self.bron = bron
        self.ontbrekend = ontbrekend or {}


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

    regel: int
    reden: str


@dataclass
class DuoBestand:
    """The usable content of one DUO file, plus what was refused and what looked odd.

    ``rijen`` counts the non-blank data rows read, so ``rijen == used rows + len(afgewezen)``;
    ``codering`` is "utf-8", "utf-8-sig" or "cp1252"; ``generatie`` is "oud" (``BRIN NUMMER``) or "nieuw".
    """

    bron: str
    soort: Soort
    codering: str = "utf-8"
    scheidingsteken: str = ";"
    generatie: str = "nieuw"
    rijen: int = 0
    vestigingen: list[Vestiging] = field(default_factory=list)
    instellingen: list[Instelling] = field(default_factory=list)
    gemeenten: list[Gemeente] = field(default_factory=list)
    rmc_regios: list[RmcRegio] = field(default_factory=list)
    afgewezen: list[RejectedRow] = field(default_factory=list)
    waarschuwingen: list[str] = field(default_factory=list)

    def warn(self, regel: int, tekst: str) -> None:
        """Record a warning about line ``regel`` (the row itself is still used)."""
        self.waarschuwingen.append(f"{self.bron}:{regel}: {tekst}")


def read_duo_csv(data: bytes, bron: str) -> DuoBestand:
    """Parse one DUO open-data CSV file.

    Input: the raw bytes of ``02.-alle-vestigingen-vo.csv`` or ``01.-adressen-mbo-instellingen.csv`` (either
    header generation, UTF-8 with or without BOM or windows-1252, ``;`` or ``,``); ``bron`` names the file
    in messages. Output: a ``DuoBestand``. For a VO file the institutions, gemeenten and RMC regions are
    derived from the vestiging rows; for an MBO file the gemeenten and regions from the institution rows.
    Rows that cannot be used go to ``afgewezen`` with a reason naming the column, and are left out.
    Raises ``UnknownFile`` when the file cannot be decoded, has no ``;``/``,`` header, is empty, has
    unreadable CSV, or lacks the required columns of both known kinds (the message lists them).
    """
    tekst, codering = _decode(data, bron)
    if not tekst.strip():
        raise UnknownFile(bron, "leeg bestand, geen kopregel")
    scheidingsteken = _delimiter(tekst, bron)
    lezer = csv.reader(io.StringIO(tekst, newline=""), delimiter=scheidingsteken)
    kop = next(lezer)
    kolommen = _columns(kop)
    bestand = DuoBestand(
        bron=bron,
        soort=_recognise_kind(kolommen, bron),
        codering=codering,
        scheidingsteken=scheidingsteken,
        generatie="oud" if kolommen["brin"].kop == _OUDE_BRIN_KOP else "nieuw",
    )
    rijen = _data_rows(lezer, len(kop), kolommen, bestand)
    if bestand.soort == MBO:
        _process_mbo(rijen, bestand)
    else:
        _process_vestigingen(rijen, bestand)
    return bestand


# --- reading the file ----------------------------------------------------------------------


def _decode(data: bytes, bron: str) -> tuple[str, str]:
    """Decode as strict UTF-8 (BOM optional), else windows-1252.

    UTF-8 goes first because windows-1252 text with accented letters is practically never valid UTF-8,
    while every byte string decodes "successfully" (and wrongly) as windows-1252.
    """
    try:
        tekst = data.decode("utf-8-sig")
        return tekst, "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as fout:
        raise UnknownFile(bron, f"niet te lezen als UTF-8 of windows-1252 (byte {fout.start})") from fout


def _delimiter(tekst: str, bron: str) -> str:
    """``;`` or ``,``, whichever occurs more in the header line (DUO headers contain neither in a name)."""
    kopregel = _REGELEINDE.split(tekst, maxsplit=1)[0]
    puntkomma, komma = kopregel.count(";"), kopregel.count(",")
    if puntkomma == komma == 0:
        raise UnknownFile(bron, "kopregel zonder ; of , als scheidingsteken")
    return ";" if puntkomma >= komma else ","


class _Column(NamedTuple):
    index: int
    kop: str  # the DUO name found in this file (normalised), e.g. "BRIN NUMMER"; used in reasons


def _normalise_header(naam: str) -> str:
    # Re-exports change case, use "_" for spaces or leave a stray BOM on the first name.
    return " ".join(naam.replace("\ufeff", "").replace("_", " ").split()).upper()


def _columns(kop: Sequence[str]) -> dict[str, _Column]:
    """Map each role in ``_KOPNAMEN`` to the first matching column of ``kop``."""
    posities: dict[str, int] = {}
    for index, naam in enumerate(kop):
        posities.setdefault(_normalise_header(naam), index)
    kolommen: dict[str, _Column] = {}
    for rol, namen in _KOPNAMEN.items():
        for naam in namen:
            if naam in posities:
                kolommen[rol] = _Column(posities[naam], naam)
                break
    return kolommen


def _recognise_kind(kolommen: dict[str, _Column], bron: str) -> Soort:
    """The kind whose required columns are all present; VO first (its key column is the more specific)."""
    ontbrekend = {
        soort: [" of ".join(_KOPNAMEN[rol]) for rol in rollen if rol not in kolommen]
        for soort, rollen in _VERPLICHT.items()
    }
    if not ontbrekend[SO]:
        return SO
    if not ontbrekend[VO]:
        return VO if "onderwijsstructuur" in kolommen else BO
    if not ontbrekend[MBO]:
        return MBO
    ontbrekend = {soort: namen for soort, namen in ontbrekend.items() if soort in (VO, MBO)}
    uitleg = "; ".join(f"als {soort} ontbreekt: {', '.join(namen)}" for soort, namen in ontbrekend.items())
    raise UnknownFile(bron, f"geen bekend DUO-bestand ({uitleg})", ontbrekend)


def _data_rows(
    lezer: Iterator[list[str]], breedte: int, kolommen: dict[str, _Column], bestand: DuoBestand
) -> Iterator[_Row]:
    """Yield each non-blank data row with its starting line; refuse rows with the wrong column count."""
    vorige = lezer.line_num  # type: ignore[attr-defined]
    try:
        for cellen in lezer:
            # A quoted value may span lines: the row starts on the line after the previous row ended.
            regel, vorige = vorige + 1, lezer.line_num  # type: ignore[attr-defined]
            if not any(cel.strip() for cel in cellen):
                continue  # empty line, or the ";;;;" lines spreadsheets leave at the end
            bestand.rijen += 1
            if len(cellen) > breedte and not any(cel.strip() for cel in cellen[breedte:]):
                cellen = cellen[:breedte]  # a trailing ";" on data lines only
            if len(cellen) != breedte:
                reden = f"verwacht {breedte} kolommen, gevonden {len(cellen)}"
                bestand.afgewezen.append(RejectedRow(regel, reden))
                continue
            yield _Row(regel, cellen, kolommen)
    except csv.Error as fout:
        raise UnknownFile(bestand.bron, f"regel {vorige + 1}: onleesbare CSV ({fout})") from fout


# --- reading one row -----------------------------------------------------------------------


class _Unusable(BrokerError):
    """This row cannot be used; the message is the reason, naming the column."""


@dataclass
class _Row:
    regel: int
    cellen: list[str]
    kolommen: dict[str, _Column]
    # Kept on the row and only passed on when the row is used, so a refused row leaves no warnings.
    waarschuwingen: list[str] = field(default_factory=list)

    def kop(self, rol: str) -> str:
        return self.kolommen[rol].kop if rol in self.kolommen else _KOPNAMEN[rol][0]

    def waarde(self, rol: str) -> str | None:
        """The stripped value, or None when the column is absent or empty (DUO writes " " for empty)."""
        kolom = self.kolommen.get(rol)
        if kolom is None:
            return None
        return self.cellen[kolom.index].strip() or None

    def verplicht(self, rol: str) -> str:
        waarde = self.waarde(rol)
        if waarde is None:
            raise _Unusable(f"{self.kop(rol)}: leeg")
        return waarde

    def tekst(self, rol: str, verplicht: bool = False) -> str | None:
        """A free-text value, refused when longer than its database column."""
        waarde = self.verplicht(rol) if verplicht else self.waarde(rol)
        grens = _MAX_LENGTE.get(rol)
        if waarde is not None and grens is not None and len(waarde) > grens:
            if rol in _CONTACT_ROLLEN:
                self.waarschuwingen.append(f"{self.kop(rol)}: langer dan {grens} tekens, leeg gelaten")
                return None
            raise _Unusable(f"{self.kop(rol)}: langer dan {grens} tekens")
        return waarde

    def afwijzing(self, rol: str, waarde: str, fout: Afwijzing) -> _Unusable:
        # Reference data are public, so unlike message meldingen the reason may quote the value.
        return _Unusable(f"{self.kop(rol)}: {waarde!r} ongeldig ({fout.melding.tekst_nl})")

    def brin(self) -> str:
        waarde = self.verplicht("brin")
        try:
            return parse_brin(waarde)
        except Afwijzing as fout:
            raise self.afwijzing("brin", waarde, fout) from None

    def vestigingscode(self, brin: str) -> str:
        waarde = self.verplicht("vestigingscode")
        try:
            return parse_vestigingscode(brin, waarde)
        except Afwijzing as fout:
            raise self.afwijzing("vestigingscode", waarde, fout) from None

    def gemeentecode(self) -> str:
        """4 digits; "756" (padding lost by a spreadsheet) becomes "0756"."""
        waarde = self.verplicht("gemeentecode")
        try:
            return parse_gemeentecode(waarde)
        except Afwijzing as fout:
            raise self.afwijzing("gemeentecode", waarde, fout) from None

    def rmc(self) -> tuple[str | None, str | None]:
        """(code, name); the code without leading zeros ("07" -> "7"), both None when the code is empty."""
        code = self.waarde("rmc_code")
        if code is None:
            return None, None
        if not _RMC_CODE.match(code) or int(code) == 0:
            raise _Unusable(f"{self.kop('rmc_code')}: {code!r} is geen RMC-regiocode (1 tot 3 cijfers)")
        return str(int(code)), self.tekst("rmc_naam")

    def postcode(self) -> str | None:
        """ "5831 CR" -> "5831CR". An invalid postcode is dropped with a warning: nothing routes on it."""
        waarde = self.waarde("postcode")
        if waarde is None:
            return None
        try:
            return parse_postcode(waarde)
        except Afwijzing:
            self.waarschuwingen.append(f"{self.kop('postcode')}: {waarde!r} ongeldig, leeg gelaten")
            return None


class _Location(NamedTuple):
    """Where an accepted row lies: the input for the gemeente and RMC lists."""

    regel: int
    gemeentecode: str
    gemeentenaam: str | None
    rmc_regio: str | None
    rmc_naam: str | None


# --- per file kind -------------------------------------------------------------------------

T = TypeVar("T")


def _usable(
    rijen: Iterator[_Row],
    bestand: DuoBestand,
    maak: Callable[[_Row], tuple[T, _Location]],
    sleutel: Callable[[T], str],
    sleutelrol: str,
) -> Iterator[tuple[T, _Location]]:
    """Apply ``maak`` to each row; refuse unusable rows and repeats of a key seen on an earlier line."""
    eerste_regel: dict[str, int] = {}
    for rij in rijen:
        try:
            record, ligging = maak(rij)
        except _Unusable as fout:
            bestand.afgewezen.append(RejectedRow(rij.regel, str(fout)))
            continue
        code = sleutel(record)
        if code in eerste_regel:
            reden = f"{rij.kop(sleutelrol)}: {code} staat al op regel {eerste_regel[code]}"
            bestand.afgewezen.append(RejectedRow(rij.regel, reden))
            continue
        eerste_regel[code] = rij.regel
        for tekst in rij.waarschuwingen:
            bestand.warn(rij.regel, tekst)
        yield record, ligging


def _vo_vestiging(rij: _Row) -> tuple[Vestiging, _Location]:
    brin = rij.brin()
    code = rij.vestigingscode(brin)
    naam = rij.tekst("vestigingsnaam", verplicht=True)
    gemeentecode = rij.gemeentecode()
    gemeentenaam = rij.tekst("gemeentenaam")
    rmc_regio, rmc_naam = rij.rmc()
    vestiging = Vestiging(
        code=code,
        brin=brin,
        naam=naam,  # type: ignore[arg-type]  # verplicht=True never gives None
        postcode=rij.postcode(),
        plaats=rij.tekst("plaats"),
        gemeentecode=gemeentecode,
        gemeentenaam=gemeentenaam,
        rmc_regio=rmc_regio,
        rmc_naam=rmc_naam,
        onderwijsstructuur=rij.tekst("soort_po")
        if "soort_po" in rij.kolommen
        else rij.tekst("onderwijsstructuur"),
        telefoon=rij.tekst("telefoon"),
        internetadres=rij.tekst("internetadres"),
    )
    return vestiging, _Location(rij.regel, gemeentecode, gemeentenaam, rmc_regio, rmc_naam)


def _process_vestigingen(rijen: Iterator[_Row], bestand: DuoBestand) -> None:
    """A vestiging file (VO, primary, special education): gemeenten and regions from every row;
    vestigingen and their institutions only for schools of the VO side (all of a VO file, the VSO and
    (V)SO rows of the special-education file, nothing of the primary-school file)."""
    liggingen = []
    for vestiging, ligging in _usable(rijen, bestand, _vo_vestiging, lambda v: v.code, "vestigingscode"):
        liggingen.append(ligging)
        if bestand.soort == VO or (bestand.soort == SO and vestiging.onderwijsstructuur in VSO_SOORTEN):
            bestand.vestigingen.append(vestiging)
    soort = "vso" if bestand.soort == SO else "vo"
    bestand.instellingen = _vo_instellingen(bestand.vestigingen, soort)
    _gemeenten_en_regios(liggingen, bestand)


def _vo_instellingen(vestigingen: list[Vestiging], onderwijssoort: str = "vo") -> list[Instelling]:
    """One institution per BRIN, named, placed and reached after its lowest vestigingscode (usually "00",
    the main one)."""
    hoofd: dict[str, Vestiging] = {}
    for vestiging in vestigingen:
        huidige = hoofd.get(vestiging.brin)
        if huidige is None or vestiging.code < huidige.code:
            hoofd[vestiging.brin] = vestiging
    return [
        Instelling(
            brin, "vo", v.naam, v.gemeentecode, v.rmc_regio, onderwijssoort, v.telefoon, v.internetadres
        )
        for brin, v in sorted(hoofd.items())
    ]


def _mbo_instelling(rij: _Row) -> tuple[Instelling, _Location]:
    brin = rij.brin()
    naam = rij.tekst("instellingsnaam", verplicht=True)
    gemeentecode = rij.gemeentecode()
    gemeentenaam = rij.tekst("gemeentenaam")
    rmc_regio, rmc_naam = rij.rmc()
    instelling = Instelling(
        brin,
        "mbo",
        naam,  # type: ignore[arg-type]
        gemeentecode,
        rmc_regio,
        "mbo",
        rij.tekst("telefoon"),
        rij.tekst("internetadres"),
    )
    return instelling, _Location(rij.regel, gemeentecode, gemeentenaam, rmc_regio, rmc_naam)


def _process_mbo(rijen: Iterator[_Row], bestand: DuoBestand) -> None:
    """Institutions from the rows; gemeenten and regions derived from them."""
    liggingen = []
    for instelling, ligging in _usable(rijen, bestand, _mbo_instelling, lambda i: i.brin, "brin"):
        bestand.instellingen.append(instelling)
        liggingen.append(ligging)
    bestand.instellingen.sort(key=lambda i: i.brin)
    _gemeenten_en_regios(liggingen, bestand)


def _gemeenten_en_regios(liggingen: list[_Location], bestand: DuoBestand) -> None:
    """Build the gemeente and RMC lists; on conflicting rows keep the first value and warn once."""
    gemeentenamen: dict[str, str] = {}
    gemeenteregios: dict[str, str] = {}
    regionamen: dict[str, str] = {}
    gemeld: set[tuple[str, str, str]] = set()

    def keep_first(tabel: dict[str, str], sleutel: str, waarde: str | None, regel: int, wat: str) -> None:
        if waarde is None:
            return
        eerder = tabel.setdefault(sleutel, waarde)
        if eerder != waarde and (wat, sleutel, waarde) not in gemeld:
            gemeld.add((wat, sleutel, waarde))
            bestand.warn(regel, f"{wat} {sleutel}: {waarde!r} genegeerd, eerder {eerder!r}")

    for ligging in liggingen:
        code = ligging.gemeentecode
        keep_first(gemeentenamen, code, ligging.gemeentenaam, ligging.regel, "naam van gemeente")
        keep_first(gemeenteregios, code, ligging.rmc_regio, ligging.regel, "RMC-regio van gemeente")
        if ligging.rmc_regio is not None:
            keep_first(regionamen, ligging.rmc_regio, ligging.rmc_naam, ligging.regel, "naam van RMC-regio")

    for code in sorted({ligging.gemeentecode for ligging in liggingen}):
        if code not in gemeentenamen:
            # Gemeente.naam is required; without a name the code stays on the schools only.
            bestand.waarschuwingen.append(
                f"{bestand.bron}: gemeente {code} zonder GEMEENTENAAM, niet opgenomen"
            )
            continue
        bestand.gemeenten.append(Gemeente(code, gemeentenamen[code], gemeenteregios.get(code)))
    for code in sorted({ligging.rmc_regio for ligging in liggingen if ligging.rmc_regio}, key=int):
        if code not in regionamen:
            bestand.waarschuwingen.append(f"{bestand.bron}: RMC-regio {code} zonder naam, niet opgenomen")
            continue
        bestand.rmc_regios.append(RmcRegio(code, regionamen[code]))
