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
MAX_FILE_BYTES = 2 * 1024 * 1024
#: The most data rows in one file: the batch limit of the XSD (maxOccurs 5000).
MAX_ROWS = 5000


class InvalidFile(BrokerError):
    """The file as a whole cannot be processed (Client.DK0004 for the whole message, nothing applied).

    ``reason`` says what to fix, in Dutch and English; it never quotes a value from the file.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FileFormat:
    """The columns of one flow's file: header names as in the XSD, matched case-insensitively and
    ignoring spaces, '-' and '_'. ``mandatory`` must be in the header; ``one_of`` needs one of its
    columns; ``naam`` is the party's own label for a pupil: checked for its encoding, never used.
    ``columns_per_code``: the columns a result code is about, named in a row's result text so the
    sender of a file knows where to look (a SOAP record has its element path in the code's text)."""

    mandatory: tuple[str, ...]
    optional: tuple[str, ...]
    one_of: tuple[str, ...] = ("bsn", "onderwijsnummer")
    example: tuple[str, ...] = ()
    columns_per_code: tuple[tuple[str, str], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """All columns in the order of the template."""
        return (*self.one_of, *self.mandatory, *self.optional)


_LEERLINGNUMMER_COLUMNS = (
    ("VVA101", "bsn"),
    ("VVA102", "onderwijsnummer"),
    ("VVA103", "bsn, onderwijsnummer"),
)

LEERLINGEN = FileFormat(
    mandatory=("brinVo", "postcode", "woongemeente", "mutatie"),
    optional=("vestiging", "afmeldReden", "naam", "examenUitkomst", "examenDatum"),
    example=("111222333", "", "99XA", "1011AB", "0363", "toevoegen", "00", "", "Voorbeeld, A.", "", ""),
    columns_per_code=(
        *_LEERLINGNUMMER_COLUMNS,
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
    mandatory=("brinMbo", "status", "datum"),
    optional=("crebo", "locatie", "naam", "intakeDatum", "intakeUitkomst", "onderwijsovereenkomstDatum"),
    example=(
        *("111222333", "", "99XB", "aangemeld", "2027-03-01", "25180", "", "Voorbeeld, A."),
        *("2027-03-15", "positiefAdvies", ""),
    ),
    columns_per_code=(
        *_LEERLINGNUMMER_COLUMNS,
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
FORMATS = {"vo": LEERLINGEN, "mbo": AANMELDINGEN}


def aanleveren_leerlingen_bestand(
    processing: Processing, call: Caller, content: bytes, replace: bool = False
) -> BatchOutcome:
    """Apply a VO school's CSV file (``LEERLINGEN`` columns) as ``aanleveren_leerlingen`` would the
    same records; with ``replace`` the file is the whole start population (pupils of its BRINs missing
    from it are withdrawn with reason nietMeerAangeleverd). Raises ``InvalidFile`` for the file
    as a whole (also for a replacement with a row whose columns do not match the header: its pupil
    might be withdrawn by mistake) and ``NotAuthorised`` as the batch does; either way nothing is
    applied."""
    rows = read_rows(content, LEERLINGEN)
    if replace and (broken := next((r for r in rows if r.rejected is KOLOMMEN_ONGELIJK), None)):
        # Who is in the start population must be certain before anyone is withdrawn.
        raise InvalidFile(
            f"Regel {broken.nummer} heeft een ander aantal kolommen dan de kopregel; een vervangende "
            "aanlevering moet elke regel kunnen lezen, dus er is niets verwerkt. "
            f"/ Line {broken.nummer} has another number of columns than the header; a replacement must "
            "read every row, so nothing was applied."
        )
    records = []
    for row in rows:
        examen_datum, rejected = _date_column(row, "examenDatum", row.rejected)
        records.append(
            LeerlingInput(
                volgnummer=row.nummer,
                bsn=row["bsn"],
                onderwijsnummer=row["onderwijsnummer"],
                brin_vo=row["brinVo"],
                vestiging=row["vestiging"],
                postcode=row["postcode"],
                woongemeente=row["woongemeente"],
                mutatie=row["mutatie"],
                afmeldreden=row["afmeldReden"],
                rejected=rejected,
                examen_uitkomst=row["examenUitkomst"],
                examen_datum=examen_datum,
            )
        )
    return _with_columns(aanleveren_leerlingen(processing, call, records, replace), LEERLINGEN)


def aanleveren_aanmeldingen_bestand(processing: Processing, call: Caller, content: bytes) -> BatchOutcome:
    """Apply an MBO institution's CSV file (``AANMELDINGEN`` columns) as ``aanleveren_aanmeldingen``
    would the same records. ``datum`` is YYYY-MM-DD or DD-MM-YYYY (VVA122 otherwise). Raises as
    ``aanleveren_leerlingen_bestand``."""
    records = []
    for row in read_rows(content, AANMELDINGEN):
        datum, rejected = _date_column(row, "datum", row.rejected)
        intake_datum, rejected = _date_column(row, "intakeDatum", rejected)
        overeenkomst_datum, rejected = _date_column(row, "onderwijsovereenkomstDatum", rejected)
        records.append(
            AanmeldingInput(
                volgnummer=row.nummer,
                bsn=row["bsn"],
                onderwijsnummer=row["onderwijsnummer"],
                brin_mbo=row["brinMbo"],
                status=row["status"],
                datum=datum,
                crebo=row["crebo"],
                locatie=row["locatie"],
                rejected=rejected,
                intake_datum=intake_datum,
                intake_uitkomst=row["intakeUitkomst"],
                overeenkomst_datum=overeenkomst_datum,
            )
        )
    return _with_columns(aanleveren_aanmeldingen(processing, call, records), AANMELDINGEN)


def _with_columns(uitkomst: BatchOutcome, file_format: FileFormat) -> BatchOutcome:
    """The outcome with each rejected row's text starting with the columns its code is about
    (``EncryptedColumn afmeldReden: …``). Column names only: like every result text, never a value."""
    columns = dict(file_format.columns_per_code)
    for i, row in enumerate(uitkomst.outcomes):
        if row.melding is not None and row.melding.code in columns:
            names = columns[row.melding.code]
            melding = Melding(
                row.melding.code,
                f"{'Kolommen' if ',' in names else 'Kolom'} {names}: {row.melding.tekst_nl}",
                f"{'Columns' if ',' in names else 'Column'} {names}: {row.melding.tekst_en}",
            )
            uitkomst.outcomes[i] = replace(row, melding=melding)
    return uitkomst


# --- reading the file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One data row: its line number, its values by column (None when empty) and, when the file
    already decides it, why it is rejected."""

    nummer: int
    values: dict[str, str | None]
    rejected: Melding | None = None

    def __getitem__(self, column: str) -> str | None:
        return self.values.get(column)


def read_rows(content: bytes, file_format: FileFormat) -> list[Row]:
    """The data rows of a CSV file in ``file_format``.

    Input: the file's bytes: a header row, then one row per record; ``;`` or ``,`` as separator (the
    one in the header); UTF-8 with or without BOM, or windows-1252 (see ``_read_text``). Empty
    rows and rows starting with ``#`` are skipped. Raises ``InvalidFile`` when the file is too
    large, has no or too many rows, or a header that is not ``file_format``'s.
    """
    if len(content) > MAX_FILE_BYTES:
        raise InvalidFile(
            f"Het bestand is groter dan {MAX_FILE_BYTES} bytes (2 MiB); lever hoogstens {MAX_ROWS} "
            f"regels per bestand aan. / The file is larger than {MAX_FILE_BYTES} bytes (2 MiB)."
        )
    text, encoding = _read_text(content)
    first = next((line for line in text.split("\n") if line.strip()), None)
    if first is None:
        raise InvalidFile("Het bestand is leeg. / The file is empty.")
    # strict: an unclosed quote must refuse the file, not swallow the rows after it unnoticed
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    columns: list[str] | None = None
    rows: list[Row] = []
    previous = 0
    for fields in _records(reader):
        line_no, previous = previous + 1, reader.line_num  # the line the row starts on
        if not any(v.strip() for v in fields):
            continue
        if columns is None:
            columns = _header(fields, file_format)
        elif not fields[0].lstrip().startswith("#"):
            rows.append(_row(line_no, fields, columns, encoding))
        if len(rows) > MAX_ROWS:
            raise InvalidFile(
                f"Het bestand heeft meer dan {MAX_ROWS} regels. / The file has more than {MAX_ROWS} rows."
            )
    if not rows:
        raise InvalidFile("Het bestand heeft geen regels onder de kopregel. / The file has no data rows.")
    return rows


def _records(reader) -> Iterator[list[str]]:
    """The reader's records; ``InvalidFile`` naming the line where the record that breaks the
    CSV syntax starts (an unclosed or stray quote, a value over the csv module's 128 KiB limit)."""
    start = 1
    try:
        for fields in reader:
            yield fields
            start = reader.line_num + 1
    except csv.Error:
        raise InvalidFile(
            f"Regel {start} is geen geldige CSV: controleer de aanhalingstekens. "
            f"/ Line {start} is not valid CSV: check the double quotes."
        ) from None


_UTF8_BOM = codecs.BOM_UTF8


def _read_text(content: bytes) -> tuple[str, str]:
    """The file as text and the encoding it was read in.

    UTF-8 when the file starts with a BOM, is valid UTF-8 throughout, or when at least half its lines with
    non-ASCII bytes are valid UTF-8 (one mis-encoded name must not turn a whole file into garbage);
    windows-1252 otherwise. Bytes that do not fit are kept as surrogates (``surrogateescape``) so
    that only their row is rejected (VVA120).
    """
    if content.startswith(_UTF8_BOM):
        return content[len(_UTF8_BOM) :].decode("utf-8", "surrogateescape"), "utf-8"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    good = error = 0
    for line in content.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            error += 1
    encoding = "utf-8" if good >= error else "cp1252"  # a tie: UTF-8, the encoding we ask for
    return content.decode(encoding, "surrogateescape"), encoding


def _delimiter(header_line: str) -> str:
    counts = {char: header_line.count(char) for char in ";,"}
    char = max(counts, key=counts.get)
    if counts[char] == 0:
        raise InvalidFile(
            "De kopregel heeft geen scheidingsteken: gebruik ; of , tussen de kolomnamen. "
            "/ The header row has no separator: use ; or , between the column names."
        )
    return char


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def _header(names: list[str], file_format: FileFormat) -> list[str]:
    """The canonical column names of a header row; ``InvalidFile`` for an unknown, repeated or
    missing column (the detail names the columns, which are never personal data)."""
    known = {_key(k): k for k in file_format.columns}
    columns: list[str] = []
    for name in names:
        column = known.get(_key(name))
        if column is None:
            raise InvalidFile(
                f"Onbekende kolom in de kopregel; toegestaan zijn: {', '.join(file_format.columns)}. "
                f"/ Unknown column in the header row; allowed: {', '.join(file_format.columns)}."
            )
        if column in columns:
            raise InvalidFile(
                f"De kolom {column} staat twee keer in de kopregel. / Column {column} is repeated."
            )
        columns.append(column)
    missing = [k for k in file_format.mandatory if k not in columns]
    if not any(k in columns for k in file_format.one_of):
        missing.insert(0, " of ".join(file_format.one_of))
    if missing:
        raise InvalidFile(
            f"De kopregel mist de kolom(men): {', '.join(missing)}. "
            f"/ The header row lacks the column(s): {', '.join(missing)}."
        )
    return columns


def _row(line_no: int, fields: list[str], columns: list[str], encoding: str) -> Row:
    values = {
        column: (fields[i].strip() or None) if i < len(fields) else None for i, column in enumerate(columns)
    }
    rejection = None
    if any(_wrongly_encoded(field, encoding) for field in fields):
        rejection = TEKENCODERING_ONGELDIG
    elif len(fields) != len(columns):
        rejection = KOLOMMEN_ONGELIJK
    return Row(line_no, values, rejection)


_SURROGATE = re.compile("[\udc80-\udcff]")


def _wrongly_encoded(field: str, encoding: str) -> bool:
    """True when ``field`` holds bytes that do not fit the file's encoding: undecodable bytes, or in a
    windows-1252 file UTF-8 sequences (``Ã©`` for ``é``, the mark of a name saved in the other one)."""
    if _SURROGATE.search(field):
        return True
    if encoding != "cp1252" or field.isascii():
        return False
    try:
        field.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return False
    return True


_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


def _date_column(row: Row, column: str, rejection: Melding | None) -> tuple[date | None, Melding | None]:
    """The date in ``column`` of ``row`` (None when empty), and the row's rejection: ``rejection`` as
    it was, or VVA122 when the date cannot be read."""
    value = _parse_date(row[column])
    if rejection is None and row[column] is not None and value is None:
        rejection = DATUM_ONLEESBAAR
    return value, rejection


def _parse_date(value: str | None) -> date | None:
    # strptime's %Y/%m/%d read any Unicode digit ("２０２７-03-01" is 1 March 2027): dates are ASCII only.
    if value is None or not value.isascii():
        return None
    for notation in _DATE_FORMATS:
        try:
            return datetime.strptime(value, notation).date()
        except ValueError:
            continue
    return None
