"""The secure file upload: a batch delivery from a CSV file, for parties without a coupled LAS.

A file is read into the records of the equivalent batch operation (``aanleverenLeerlingen`` or
``aanleverenAanmeldingen``) and handed to that same use case, so a row is checked, applied or
rejected exactly like a record of a SOAP batch. What only a file can get wrong is decided here: the
whole file (size, row count, header: ``InvalidFile``, nothing applied) or one row (text encoding
VVA120, column count VVA121, an unreadable date VVA122: that row is rejected, the rest goes on).

The process facts of issue 16 are optional columns: ``intakeDatum``, ``intakeUitkomst`` and
``onderwijsovereenkomstDatum`` for an MBO institution, ``examenUitkomst`` and ``examenDatum`` for a VO
school; an unknown outcome gets the record's code (VVA126/VVA127), whose text lists the allowed values.

A row's ``volgnummer`` in the answer is the line of the file it starts on (the header is line 1), the
row number a spreadsheet shows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime

from broker.domain.meldingen import DATUM_ONLEESBAAR, KOLOMMEN_ONGELIJK, TEKENCODERING_ONGELDIG, Melding
from broker.errors import BrokerError
from broker.service.aanmeldingen import AanmeldingInput, aanleveren_aanmeldingen
from broker.service.batch import BatchOutcome
from broker.service.context import Caller, Processing
from broker.service.leerlingen import LeerlingInput, aanleveren_leerlingen

#: The largest file accepted (bytes, after base64 decoding): 5,000 rows of any sensible width.
MAX_BESTAND_BYTES = 2 * 1024 * 1024
#: The most data rows in one file: the batch limit of the XSD (maxOccurs 5000).
MAX_RIJEN = 5000


class InvalidFile(BrokerError):
    """The file as a whole cannot be processed (Client.DK0004 for the whole message, nothing applied).

    ``reden`` says what to fix, in Dutch and English; it never quotes a value from the file.
    """

    def __init__(self, reden: str) -> None:
        super().__init__(reden)
        self.reden = reden


@dataclass(frozen=True)
class FileFormat:
    """The columns of one flow's file: header names as in the XSD, matched case-insensitively and
    ignoring spaces, '-' and '_'. ``verplicht`` must be in the header; ``een_van`` needs one of its
    columns; ``naam`` is the party's own label for a pupil: checked for its encoding, never used.
    ``kolommen_per_code``: the columns a result code is about, named in a row's result text so the
    sender of a file knows where to look (a SOAP record has its element path in the code's text)."""

    verplicht: tuple[str, ...]
    optioneel: tuple[str, ...]
    een_van: tuple[str, ...] = ("bsn", "onderwijsnummer")
    voorbeeld: tuple[str, ...] = ()
    kolommen_per_code: tuple[tuple[str, str], ...] = ()

    @property
    def kolommen(self) -> tuple[str, ...]:
        """All columns in the order of the template."""
        return (*self.een_van, *self.verplicht, *self.optioneel)


_LEERLINGNUMMER_KOLOMMEN = (
    ("VVA101", "bsn"),
    ("VVA102", "onderwijsnummer"),
    ("VVA103", "bsn, onderwijsnummer"),
)

LEERLINGEN = FileFormat(
    verplicht=("brinVo", "postcode", "woongemeente", "mutatie"),
    optioneel=("vestiging", "afmeldReden", "naam", "examenUitkomst", "examenDatum"),
    voorbeeld=("111222333", "", "99XA", "1011AB", "0363", "toevoegen", "00", "", "Voorbeeld, A.", "", ""),
    kolommen_per_code=(
        *_LEERLINGNUMMER_KOLOMMEN,
        ("VVA104", "brinVo"),
        ("VVA105", "brinVo"),
        ("VVA107", "postcode"),
        ("VVA108", "woongemeente"),
        ("VVA109", "vestiging"),
        ("VVA110", "afmeldReden"),
        ("VVA112", "examenDatum"),
        ("VVA117", "mutatie"),
        ("VVA122", "examenDatum"),
        ("VVA127", "examenUitkomst, examenDatum"),
    ),
)
AANMELDINGEN = FileFormat(
    verplicht=("brinMbo", "status", "datum"),
    optioneel=("crebo", "locatie", "naam", "intakeDatum", "intakeUitkomst", "onderwijsovereenkomstDatum"),
    voorbeeld=(
        *("111222333", "", "99XB", "aangemeld", "2027-03-01", "25180", "", "Voorbeeld, A."),
        *("2027-03-15", "positiefAdvies", ""),
    ),
    kolommen_per_code=(
        *_LEERLINGNUMMER_KOLOMMEN,
        ("VVA104", "brinMbo"),
        ("VVA105", "brinMbo"),
        ("VVA109", "locatie"),
        ("VVA111", "status"),
        ("VVA112", "datum, intakeDatum, onderwijsovereenkomstDatum"),
        ("VVA115", "crebo"),
        ("VVA118", "status"),
        ("VVA119", "crebo"),
        ("VVA122", "datum, intakeDatum, onderwijsovereenkomstDatum"),
        ("VVA123", "intakeDatum"),
        ("VVA124", "onderwijsovereenkomstDatum, status"),
        ("VVA125", "onderwijsovereenkomstDatum"),
        ("VVA126", "intakeDatum, intakeUitkomst"),
    ),
)
FORMATEN = {"vo": LEERLINGEN, "mbo": AANMELDINGEN}


def aanleveren_leerlingen_bestand(
    verwerking: Processing, aanroep: Caller, inhoud: bytes, vervang: bool = False
) -> BatchOutcome:
    """Apply a VO school's CSV file (``LEERLINGEN`` columns) as ``aanleveren_leerlingen`` would the
    same records; with ``vervang`` the file is the whole start population (pupils of its BRINs missing
    from it are withdrawn with reason nietMeerAangeleverd). Raises ``InvalidFile`` for the file
    as a whole (also for a replacement with a row whose columns do not match the header: its pupil
    might be withdrawn by mistake) and ``NotAuthorised`` as the batch does; either way nothing is
    applied."""
    rijen = read_rows(inhoud, LEERLINGEN)
    if vervang and (kapot := next((r for r in rijen if r.afgewezen is KOLOMMEN_ONGELIJK), None)):
        # Who is in the start population must be certain before anyone is withdrawn.
        raise InvalidFile(
            f"Regel {kapot.nummer} heeft een ander aantal kolommen dan de kopregel; een vervangende "
            "aanlevering moet elke regel kunnen lezen, dus er is niets verwerkt. "
            f"/ Line {kapot.nummer} has another number of columns than the header; a replacement must "
            "read every row, so nothing was applied."
        )
    records = []
    for rij in rijen:
        examen_datum, afgewezen = _date_column(rij, "examenDatum", rij.afgewezen)
        records.append(
            LeerlingInput(
                volgnummer=rij.nummer,
                bsn=rij["bsn"],
                onderwijsnummer=rij["onderwijsnummer"],
                brin_vo=rij["brinVo"],
                vestiging=rij["vestiging"],
                postcode=rij["postcode"],
                woongemeente=rij["woongemeente"],
                mutatie=rij["mutatie"],
                afmeldreden=rij["afmeldReden"],
                afgewezen=afgewezen,
                examen_uitkomst=rij["examenUitkomst"],
                examen_datum=examen_datum,
            )
        )
    return _with_columns(aanleveren_leerlingen(verwerking, aanroep, records, vervang), LEERLINGEN)


def aanleveren_aanmeldingen_bestand(verwerking: Processing, aanroep: Caller, inhoud: bytes) -> BatchOutcome:
    """Apply an MBO institution's CSV file (``AANMELDINGEN`` columns) as ``aanleveren_aanmeldingen``
    would the same records. ``datum`` is YYYY-MM-DD or DD-MM-YYYY (VVA122 otherwise). Raises as
    ``aanleveren_leerlingen_bestand``."""
    records = []
    for rij in read_rows(inhoud, AANMELDINGEN):
        datum, afgewezen = _date_column(rij, "datum", rij.afgewezen)
        intake_datum, afgewezen = _date_column(rij, "intakeDatum", afgewezen)
        overeenkomst_datum, afgewezen = _date_column(rij, "onderwijsovereenkomstDatum", afgewezen)
        records.append(
            AanmeldingInput(
                volgnummer=rij.nummer,
                bsn=rij["bsn"],
                onderwijsnummer=rij["onderwijsnummer"],
                brin_mbo=rij["brinMbo"],
                status=rij["status"],
                datum=datum,
                crebo=rij["crebo"],
                locatie=rij["locatie"],
                afgewezen=afgewezen,
                intake_datum=intake_datum,
                intake_uitkomst=rij["intakeUitkomst"],
                overeenkomst_datum=overeenkomst_datum,
            )
        )
    return _with_columns(aanleveren_aanmeldingen(verwerking, aanroep, records), AANMELDINGEN)


def _with_columns(uitkomst: BatchOutcome, formaat: FileFormat) -> BatchOutcome:
    """The outcome with each rejected row's text starting with the columns its code is about
    (``EncryptedColumn afmeldReden: …``). Column names only: like every result text, never a value."""
    kolommen = dict(formaat.kolommen_per_code)
    for i, rij in enumerate(uitkomst.uitkomsten):
        if rij.melding is not None and rij.melding.code in kolommen:
            namen = kolommen[rij.melding.code]
            melding = Melding(
                rij.melding.code,
                f"{'Kolommen' if ',' in namen else 'Kolom'} {namen}: {rij.melding.tekst_nl}",
                f"{'Columns' if ',' in namen else 'Column'} {namen}: {rij.melding.tekst_en}",
            )
            uitkomst.uitkomsten[i] = replace(rij, melding=melding)
    return uitkomst


# --- reading the file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One data row: its line number, its values by column (None when empty) and, when the file
    already decides it, why it is rejected."""

    nummer: int
    waarden: dict[str, str | None]
    afgewezen: Melding | None = None

    def __getitem__(self, kolom: str) -> str | None:
        return self.waarden.get(kolom)


def read_rows(inhoud: bytes, formaat: FileFormat) -> list[Row]:
    """The data rows of a CSV file in ``formaat``.

    Input: the file's bytes: a header row, then one row per record; ``;`` or ``,`` as separator (the
    one in the header); UTF-8 with or without BOM, or windows-1252 (see ``_read_text``). Empty
    rows and rows starting with ``#`` are skipped. Raises ``InvalidFile`` when the file is too
    large, has no or too many rows, or a header that is not ``formaat``'s.
    """
    if len(inhoud) > MAX_BESTAND_BYTES:
        raise InvalidFile(
            f"Het bestand is groter dan {MAX_BESTAND_BYTES} bytes (2 MiB); lever hoogstens {MAX_RIJEN} "
            f"regels per bestand aan. / The file is larger than {MAX_BESTAND_BYTES} bytes (2 MiB)."
        )
    tekst, codering = _read_text(inhoud)
    eerste = next((regel for regel in tekst.split("\n") if regel.strip()), None)
    if eerste is None:
        raise InvalidFile("Het bestand is leeg. / The file is empty.")
    # strict: an unclosed quote must refuse the file, not swallow the rows after it unnoticed
    lezer = csv.reader(io.StringIO(tekst, newline=""), delimiter=_delimiter(eerste), strict=True)
    kolommen: list[str] | None = None
    rijen: list[Row] = []
    vorige = 0
    for velden in _records(lezer):
        nummer, vorige = vorige + 1, lezer.line_num  # the line the row starts on
        if not any(v.strip() for v in velden):
            continue
        if kolommen is None:
            kolommen = _kop(velden, formaat)
        elif not velden[0].lstrip().startswith("#"):
            rijen.append(_rij(nummer, velden, kolommen, codering))
        if len(rijen) > MAX_RIJEN:
            raise InvalidFile(
                f"Het bestand heeft meer dan {MAX_RIJEN} regels. / The file has more than {MAX_RIJEN} rows."
            )
    if not rijen:
        raise InvalidFile("Het bestand heeft geen regels onder de kopregel. / The file has no data rows.")
    return rijen


def _records(lezer) -> Iterator[list[str]]:
    """The reader's records; ``InvalidFile`` naming the line where the record that breaks the
    CSV syntax starts (an unclosed or stray quote, a value over the csv module's 128 KiB limit)."""
    begin = 1
    try:
        for velden in lezer:
            yield velden
            begin = lezer.line_num + 1
    except csv.Error:
        raise InvalidFile(
            f"Regel {begin} is geen geldige CSV: controleer de aanhalingstekens. "
            f"/ Line {begin} is not valid CSV: check the double quotes."
        ) from None


_UTF8_BOM = codecs.BOM_UTF8


def _read_text(inhoud: bytes) -> tuple[str, str]:
    """The file as text and the encoding it was read in.

    UTF-8 when the file starts with a BOM, is valid UTF-8 throughout, or when at least half its lines with
    non-ASCII bytes are valid UTF-8 (one mis-encoded name must not turn a whole file into garbage);
    windows-1252 otherwise. Bytes that do not fit are kept as surrogates (``surrogateescape``) so
    that only their row is rejected (VVA120).
    """
    if inhoud.startswith(_UTF8_BOM):
        return inhoud[len(_UTF8_BOM) :].decode("utf-8", "surrogateescape"), "utf-8"
    try:
        return inhoud.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    goed = fout = 0
    for regel in inhoud.splitlines():
        if regel.isascii():
            continue
        try:
            regel.decode("utf-8")
            goed += 1
        except UnicodeDecodeError:
            fout += 1
    codering = "utf-8" if goed >= fout else "cp1252"  # a tie: UTF-8, the encoding we ask for
    return inhoud.decode(codering, "surrogateescape"), codering


def _delimiter(kopregel: str) -> str:
    aantallen = {teken: kopregel.count(teken) for teken in ";,"}
    teken = max(aantallen, key=aantallen.get)
    if aantallen[teken] == 0:
        raise InvalidFile(
            "De kopregel heeft geen scheidingsteken: gebruik ; of , tussen de kolomnamen. "
            "/ The header row has no separator: use ; or , between the column names."
        )
    return teken


def _key(naam: str) -> str:
    return re.sub(r"[\s_\-]", "", naam).lower()


def _kop(namen: list[str], formaat: FileFormat) -> list[str]:
    """The canonical column names of a header row; ``InvalidFile`` for an unknown, repeated or
    missing column (the detail names the columns, which are never personal data)."""
    bekend = {_key(k): k for k in formaat.kolommen}
    kolommen: list[str] = []
    for naam in namen:
        kolom = bekend.get(_key(naam))
        if kolom is None:
            raise InvalidFile(
                f"Onbekende kolom in de kopregel; toegestaan zijn: {', '.join(formaat.kolommen)}. "
                f"/ Unknown column in the header row; allowed: {', '.join(formaat.kolommen)}."
            )
        if kolom in kolommen:
            raise InvalidFile(
                f"De kolom {kolom} staat twee keer in de kopregel. / Column {kolom} is repeated."
            )
        kolommen.append(kolom)
    ontbreekt = [k for k in formaat.verplicht if k not in kolommen]
    if not any(k in kolommen for k in formaat.een_van):
        ontbreekt.insert(0, " of ".join(formaat.een_van))
    if ontbreekt:
        raise InvalidFile(
            f"De kopregel mist de kolom(men): {', '.join(ontbreekt)}. "
            f"/ The header row lacks the column(s): {', '.join(ontbreekt)}."
        )
    return kolommen


def _rij(nummer: int, velden: list[str], kolommen: list[str], codering: str) -> Row:
    waarden = {
        kolom: (velden[i].strip() or None) if i < len(velden) else None for i, kolom in enumerate(kolommen)
    }
    afgewezen = None
    if any(_wrongly_encoded(veld, codering) for veld in velden):
        afgewezen = TEKENCODERING_ONGELDIG
    elif len(velden) != len(kolommen):
        afgewezen = KOLOMMEN_ONGELIJK
    return Row(nummer, waarden, afgewezen)


_SURROGAAT = re.compile("[\udc80-\udcff]")


def _wrongly_encoded(veld: str, codering: str) -> bool:
    """True when ``veld`` holds bytes that do not fit the file's encoding: undecodable bytes, or in a
    windows-1252 file UTF-8 sequences (``Ã©`` for ``é``, the mark of a name saved in the other one)."""
    if _SURROGAAT.search(veld):
        return True
    if codering != "cp1252" or veld.isascii():
        return False
    try:
        veld.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return False
    return True


_DATUMNOTATIES = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


def _date_column(rij: Row, kolom: str, afgewezen: Melding | None) -> tuple[date | None, Melding | None]:
    """The date in ``kolom`` of ``rij`` (None when empty), and the row's rejection: ``afgewezen`` as
    it was, or VVA122 when the date cannot be read."""
    waarde = _datum(rij[kolom])
    if afgewezen is None and rij[kolom] is not None and waarde is None:
        afgewezen = DATUM_ONLEESBAAR
    return waarde, afgewezen


def _datum(waarde: str | None) -> date | None:
    # strptime's %Y/%m/%d read any Unicode digit ("２０２７-03-01" is 1 March 2027): dates are ASCII only.
    if waarde is None or not waarde.isascii():
        return None
    for notatie in _DATUMNOTATIES:
        try:
            return datetime.strptime(waarde, notatie).date()
        except ValueError:
            continue
    return None
