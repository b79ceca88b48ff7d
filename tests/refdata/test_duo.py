"""Parsing DUO open-data CSV files (broker.refdata.duo), on the real VO file and on variants built from it.

The variants imitate what DUO and re-exports have published: the older header generation, windows-1252
with CRLF, UTF-8 with BOM, ``,`` as delimiter, the 2-digit vestigingscode, gemeentecodes without padding.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from broker.refdata.duo import (
    MBO,
    VO,
    DuoFile,
    Gemeente,
    Instelling,
    RejectedRow,
    RmcRegio,
    UnknownFile,
    Vestiging,
    read_duo_csv,
)

DEMO = Path(__file__).resolve().parents[2] / "broker" / "refdata" / "demo"

# RMC regions in the real file: 1-41 without 14 (Arnhem/Nijmegen, split into 40 and 41).
REAL_RMC_CODES = {str(n) for n in range(1, 42)} - {"14"}

ASSEN_00 = Vestiging(
    code="18BR00",
    brin="18BR",
    naam="School voor Praktijkonderwijs Assen",
    postcode="9406NN",
    plaats="ASSEN",
    gemeentecode="0106",
    gemeentenaam="ASSEN",
    rmc_regio="7",
    rmc_naam="Noord- en Midden Drenthe",
    onderwijsstructuur="PRO",
    telefoon="0592340973",
    internetadres="www.pro-assen.nl",
)


# --- helpers that rewrite a file -----------------------------------------------------------


def rijen(text: str, delimiter: str = ";") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def write(rows_: list[list[str]], delimiter: str = ";", end: str = "\n") -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator=end).writerows(rows_)
    return buffer.getvalue()


def rename_header(table: list[list[str]], names: dict[str, str]) -> list[list[str]]:
    return [[names.get(naam, naam) for naam in table[0]], *table[1:]]


def set_(table: list[list[str]], row: int, column: str, waarde: str) -> None:
    """Set a cell of data row ``row`` (1 = first data row = line 2) by header name."""
    table[row][table[0].index(column)] = waarde


def inhoud(bestand: DuoFile) -> tuple:
    return bestand.vestigingen, bestand.instellingen, bestand.gemeenten, bestand.rmc_regios, bestand.rejected


@pytest.fixture
def real_text(vo_file: Path) -> str:
    return vo_file.read_text(encoding="utf-8")


@pytest.fixture
def real(vo_file: Path) -> DuoFile:
    return read_duo_csv(vo_file.read_bytes(), "alle-vestigingen-vo.csv")


@pytest.fixture
def small(real_text: str) -> list[list[str]]:
    """The header and the first 10 data rows of the real file (18BR00 … ), to modify in a test."""
    return rijen(real_text)[:11]


def read(table: list[list[str]], source: str = "test.csv") -> DuoFile:
    return read_duo_csv(write(table).encode("utf-8"), source)


# --- the real file -------------------------------------------------------------------------


def test_real_vo_file_newer_generation(real: DuoFile) -> None:
    assert (real.soort, real.generation, real.encoding, real.delimiter) == (VO, "nieuw", "utf-8", ";")
    assert real.row_count == 1630
    assert real.rejected == []
    assert real.warnings == []
    assert len(real.vestigingen) == 1630
    assert len({v.code for v in real.vestigingen}) == 1630
    assert len(real.instellingen) == 650
    assert len(real.gemeenten) == 288
    assert {r.code for r in real.rmc_regios} == REAL_RMC_CODES
    assert real.vestigingen[0] == ASSEN_00
    assert all(i.sector == "vo" for i in real.instellingen)


def test_real_file_quoted_name_and_non_ascii(real: DuoFile) -> None:
    names = {v.code: v.naam for v in real.vestigingen}
    assert names["14DC06"] == 'VMBO "De Jutter" Vlieland'
    assert names["19QA00"] == "hét KWC voor Lyc Havo Mavo Vbo Pro en Lwoo"
    assert names["31HN00"] == "Stanislascollege Pijnacker – Rijswijk voor bijzonder pro vbo mavo havo vwo"


def test_real_file_institution_follows_lowest_vestigingscode(real: DuoFile) -> None:
    instellingen = {i.brin: i for i in real.instellingen}
    # zone.college has no "00" vestiging; 31JC01 (Almelo) is its lowest code.
    zone = instellingen["31JC"]
    assert (zone.naam, zone.gemeentecode, zone.rmc_regio) == ("Zone.college vmboAlmelo", "0141", "12")
    assert instellingen["18BR"] == Instelling(
        "18BR",
        "vo",
        "School voor Praktijkonderwijs Assen",
        "0106",
        "7",
        "vo",
        "0592340973",
        "www.pro-assen.nl",
    )


def test_real_file_regions_and_gemeenten(real: DuoFile, duo_dir: Path) -> None:
    assert RmcRegio("21", "Agglomeratie Amsterdam") in real.rmc_regios
    assert RmcRegio("40", "Rijk van Nijmegen") in real.rmc_regios
    assert Gemeente("0363", "AMSTERDAM", "21") in real.gemeenten
    # Cross-check with the gemeente -> RMC list derived independently from the same file (the data set's source notes).
    derived = rijen((duo_dir / "gemeente-rmc-regio-DERIVED.csv").read_text(encoding="utf-8"))[1:]
    assert {g.code: (g.naam, g.rmc_regio) for g in real.gemeenten} == {
        code: (naam, str(int(regio))) for code, naam, regio, _ in derived
    }
    assert {r.code: r.naam for r in real.rmc_regios} == {
        str(int(regio)): naam for _, _, regio, naam in derived
    }


# --- other encodings, delimiters and header generations ------------------------------------


def test_older_generation_windows_1252_crlf(real_text: str, real: DuoFile) -> None:
    old = rename_header(
        rijen(real_text), {"INSTELLINGSCODE": "BRIN NUMMER", "VESTIGINGSCODE": "VESTIGINGSNUMMER"}
    )
    data = write(old, end="\r\n").encode("cp1252")
    assert b"\r\n" in data and "é".encode("cp1252") in data

    bestand = read_duo_csv(data, "02.-alle-vestigingen-vo.csv")

    assert (bestand.generation, bestand.encoding) == ("oud", "cp1252")
    assert inhoud(bestand) == inhoud(real)


def test_utf8_bom_with_comma_delimiter(real_text: str, real: DuoFile) -> None:
    data = write(rijen(real_text), delimiter=",").encode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")

    bestand = read_duo_csv(data, "vestigingenvo.csv")

    assert (bestand.encoding, bestand.delimiter) == ("utf-8-sig", ",")
    assert inhoud(bestand) == inhoud(real)
    # Names with a comma are CSV-quoted in this variant and must come through whole.
    assert any(v.naam == "SVOK H-B Vmbo-Havo-Ath-Gym, loc. Dalí College" for v in bestand.vestigingen)


def test_header_matching_ignores_case_whitespace_and_underscores(small: list[list[str]]) -> None:
    mangled = [[f"  {naam.lower().replace(' ', '_')} " for naam in small[0]], *small[1:]]
    assert inhoud(read(mangled)) == inhoud(read(small))


def test_two_digit_vestigingscode_becomes_brin6(small: list[list[str]]) -> None:
    complete = read(small).vestigingen
    column = small[0].index("VESTIGINGSCODE")
    for row in small[1:]:
        row[column] = row[column][-2:]
    assert small[1][column] == "00"
    assert read(small).vestigingen == complete


def test_gemeentecode_without_padding_is_padded(real_text: str, real: DuoFile) -> None:
    table = rijen(real_text)
    column = table[0].index("GEMEENTENUMMER")
    for row in table[1:]:
        row[column] = str(int(row[column]))  # what a spreadsheet does: 0106 -> 106, 0014 -> 14
    assert table[1][column] == "106"
    assert inhoud(read(table)) == inhoud(real)


# --- values --------------------------------------------------------------------------------


def test_single_space_is_empty(small: list[list[str]]) -> None:
    for column in (
        "POSTCODE",
        "PLAATSNAAM",
        "ONDERWIJSSTRUCTUUR",
        "RMC-REGIO CODE",
        "RMC-REGIO NAAM",
        "TELEFOONNUMMER",
        "INTERNETADRES",
    ):
        set_(small, 1, column, " ")
    bestand = read(small[:2])
    assert bestand.vestigingen == [
        Vestiging(
            "18BR00",
            "18BR",
            "School voor Praktijkonderwijs Assen",
            None,
            None,
            "0106",
            "ASSEN",
            None,
            None,
            None,
        )
    ]
    assert bestand.gemeenten == [Gemeente("0106", "ASSEN", None)]
    assert bestand.rmc_regios == []
    assert bestand.rejected == []


def test_invalid_postcode_is_dropped_with_warning(small: list[list[str]]) -> None:
    set_(small, 1, "POSTCODE", "0406 NN")
    bestand = read(small[:2], "v.csv")
    assert bestand.vestigingen[0].postcode is None
    assert bestand.warnings == ["v.csv:2: POSTCODE: '0406 NN' invalid, left empty"]


def test_overlong_contact_details_are_dropped_with_warning_not_the_school(small: list[list[str]]) -> None:
    # A phone or internet address is only shown to partners; one too long for its column must not make
    # the school (and so its pupils, VVA105, and its party) unknown to the exchange.
    long_url = "https://www.pro-assen.nl/" + "a" * 200
    set_(small, 1, "INTERNETADRES", long_url)
    set_(small, 2, "TELEFOONNUMMER", "0592-340973 of 06-12345678 (administratie, alleen op werkdagen)")
    bestand = read(small[:3], "v.csv")
    assert bestand.rejected == []
    assert [v.code for v in bestand.vestigingen] == ["18BR00", "18BR01"]
    assert bestand.vestigingen[0].internetadres is None
    assert bestand.vestigingen[1].telefoon is None
    assert bestand.vestigingen[0].telefoon == "0592340973"
    assert bestand.warnings == [
        "v.csv:2: INTERNETADRES: longer than 200 characters, left empty",
        "v.csv:3: TELEFOONNUMMER: longer than 50 characters, left empty",
    ]


def test_gemeente_in_two_regions_keeps_first_and_warns(small: list[list[str]]) -> None:
    set_(small, 2, "RMC-REGIO CODE", "08")
    set_(small, 2, "RMC-REGIO NAAM", "Zuid-Oost Drenthe")
    bestand = read(small[:3], "v.csv")
    assert bestand.rejected == []
    assert bestand.gemeenten == [Gemeente("0106", "ASSEN", "7")]
    assert [v.rmc_regio for v in bestand.vestigingen] == ["7", "8"]
    assert bestand.rmc_regios == [
        RmcRegio("7", "Noord- en Midden Drenthe"),
        RmcRegio("8", "Zuid-Oost Drenthe"),
    ]
    assert bestand.warnings == ["v.csv:3: RMC-regio of gemeente 0106: '8' ignored, earlier '7'"]


def test_blank_lines_and_trailing_delimiter_are_tolerated(small: list[list[str]]) -> None:
    text = write(small[:1]) + write(small[1:2]).rstrip("\n") + ";\n\n" + ";" * 31 + "\n"
    bestand = read_duo_csv(text.encode(), "v.csv")
    assert [v.code for v in bestand.vestigingen] == ["18BR00"]
    assert (bestand.row_count, bestand.rejected) == (1, [])


# --- refused rows --------------------------------------------------------------------------


def test_unusable_rows_are_refused_with_line_and_column(small: list[list[str]]) -> None:
    set_(small, 2, "INSTELLINGSCODE", "18B")  # line 3
    set_(small, 3, "VESTIGINGSCODE", "18BR0A")  # line 4
    set_(small, 4, "VESTIGINGSCODE", "14DC06")  # line 5: a vestiging of another BRIN
    set_(small, 5, "GEMEENTENUMMER", "ABC")  # line 6
    set_(small, 6, "GEMEENTENUMMER", " ")  # line 7
    del small[7][-1]  # line 8: one column short
    small[8] = list(small[1])  # line 9: 18BR00 again
    set_(small, 9, "RMC-REGIO CODE", "x7")  # line 10
    set_(small, 10, "VESTIGINGSNAAM", " ")  # line 11

    bestand = read(small, "v.csv")

    assert [(a.line_number, a.reason.split(":")[0]) for a in bestand.rejected] == [
        (3, "INSTELLINGSCODE"),
        (4, "VESTIGINGSCODE"),
        (5, "VESTIGINGSCODE"),
        (6, "GEMEENTENUMMER"),
        (7, "GEMEENTENUMMER"),
        (8, "expected 32 columns, found 31"),
        (9, "VESTIGINGSCODE"),
        (10, "RMC-REGIO CODE"),
        (11, "VESTIGINGSNAAM"),
    ]
    reasons = {a.line_number: a.reason for a in bestand.rejected}
    assert reasons[3].startswith("INSTELLINGSCODE: '18B' invalid (The BRIN code is invalid")
    assert reasons[7] == "GEMEENTENUMMER: empty"
    assert reasons[9] == "VESTIGINGSCODE: 18BR00 is already on line 2"
    assert reasons[10] == "RMC-REGIO CODE: 'x7' is no RMC-regio code (1 to 3 digits)"
    assert [v.code for v in bestand.vestigingen] == ["18BR00"]
    assert bestand.row_count == 10 == len(bestand.vestigingen) + len(bestand.rejected)


def test_reason_uses_the_column_name_of_the_files_generation(small: list[list[str]]) -> None:
    old = rename_header(small[:3], {"INSTELLINGSCODE": "BRIN NUMMER", "VESTIGINGSCODE": "VESTIGINGSNUMMER"})
    set_(old, 2, "BRIN NUMMER", "18br")  # lower case is not silently corrected
    bestand = read(old)
    assert [a.line_number for a in bestand.rejected] == [3]
    assert bestand.rejected[0].reason.startswith("BRIN NUMMER: '18br' invalid")


def test_line_numbers_count_physical_lines(small: list[list[str]]) -> None:
    set_(small, 1, "VESTIGINGSNAAM", "Naam over\ntwee regels")  # a quoted value spanning lines 2-3
    set_(small, 2, "INSTELLINGSCODE", "XX")  # so this row starts on line 4
    bestand = read(small[:3])
    assert bestand.vestigingen[0].naam == "Naam over\ntwee regels"
    assert [a.line_number for a in bestand.rejected] == [4]


# --- whole-file problems -------------------------------------------------------------------


def test_other_csv_is_unknown_file_listing_missing_columns(duo_dir: Path) -> None:
    path = duo_dir / "gemeente-rmc-regio-DERIVED.csv"
    with pytest.raises(UnknownFile) as error:
        read_duo_csv(path.read_bytes(), "gemeente-rmc-regio-DERIVED.csv")
    assert str(error.value).startswith("gemeente-rmc-regio-DERIVED.csv: not a known DUO file")
    assert error.value.missing == {
        VO: ["INSTELLINGSCODE or BRIN NUMMER", "VESTIGINGSCODE or VESTIGINGSNUMMER", "VESTIGINGSNAAM"],
        MBO: ["INSTELLINGSCODE or BRIN NUMMER", "INSTELLINGSNAAM"],
    }


@pytest.mark.parametrize(
    ("data", "begin"),
    [
        (b"", "x.csv: empty file"),
        (b"alleen een kop\n", "x.csv: header line without ; or ,"),
        (b"A;B\n\x81\x8d\x8f\n", "x.csv: not readable as UTF-8 or windows-1252"),
    ],
)
def test_unreadable_files(data: bytes, begin: str) -> None:
    with pytest.raises(UnknownFile, match=f"^{begin}"):
        read_duo_csv(data, "x.csv")


# --- MBO institutions and the demo set -----------------------------------------------------


def test_demo_mbo_file_newer_generation_utf8_bom() -> None:
    bestand = read_duo_csv((DEMO / "mbo-instellingen-FICTIEF.csv").read_bytes(), "mbo.csv")
    assert (bestand.soort, bestand.generation, bestand.encoding) == (MBO, "nieuw", "utf-8-sig")
    assert bestand.instellingen == [
        Instelling(
            "99XB",
            "mbo",
            "ROC Amstelstroom (FICTIEF)",
            "0363",
            "21",
            "mbo",
            "0200000020",
            "www.amstelstroom.example",
        ),
        Instelling("99XE", "mbo", "Maascollege voor Vakmanschap (FICTIEF)", "0599", "29"),
        Instelling("99XF", "mbo", "Vakschool Domstad (FICTIEF)", "0344", "19"),
    ]
    assert bestand.vestigingen == []
    assert Gemeente("0344", "UTRECHT", "19") in bestand.gemeenten
    assert RmcRegio("19", "Utrecht") in bestand.rmc_regios


def test_mbo_file_older_generation_cp1252() -> None:
    table = rijen((DEMO / "mbo-instellingen-FICTIEF.csv").read_text(encoding="utf-8-sig"))
    old = rename_header(table, {"INSTELLINGSCODE": "BRIN NUMMER"})
    set_(old, 1, "INSTELLINGSNAAM", "ROC Één (FICTIEF)")
    bestand = read_duo_csv(write(old, end="\r\n").encode("cp1252"), "01-adressen-instellingen.csv")
    assert (bestand.soort, bestand.generation, bestand.encoding) == (MBO, "oud", "cp1252")
    assert bestand.instellingen[0] == Instelling(
        "99XB", "mbo", "ROC Één (FICTIEF)", "0363", "21", "mbo", "0200000020", "www.amstelstroom.example"
    )


def test_mbo_duplicate_brin_is_refused() -> None:
    table = rijen((DEMO / "mbo-instellingen-FICTIEF.csv").read_text(encoding="utf-8-sig"))
    table.append(list(table[1]))
    bestand = read(table, "mbo.csv")
    assert bestand.rejected == [RejectedRow(5, "INSTELLINGSCODE: 99XB is already on line 2")]


def test_demo_vo_file_older_generation_windows_1252() -> None:
    data = (DEMO / "vestigingen-vo-FICTIEF.csv").read_bytes()
    assert b"\r\n" in data and "Één".encode("cp1252") in data
    bestand = read_duo_csv(data, "vo.csv")
    assert (bestand.soort, bestand.generation, bestand.encoding) == (VO, "oud", "cp1252")
    assert [v.code for v in bestand.vestigingen] == [
        "99XA00",
        "99XA01",
        "99XA02",
        "99XA03",
        "99XC00",
        "99XD00",
    ]
    assert bestand.instellingen[0] == Instelling(
        "99XA",
        "vo",
        "Scholengemeenschap Één (FICTIEF)",
        "0363",
        "21",
        "vo",
        "0200000010",
        "www.een-fictief.example",
    )
    assert bestand.vestigingen[4].naam == 'Praktijkschool "De Haven" (FICTIEF)'
    assert [g.code for g in bestand.gemeenten] == ["0014", "0363", "0384", "0437", "0599"]
    assert RmcRegio("3", "Centraal en Westelijk Groningen") in bestand.rmc_regios


def test_every_demo_name_is_marked_fictional() -> None:
    vo = read_duo_csv((DEMO / "vestigingen-vo-FICTIEF.csv").read_bytes(), "vo.csv")
    mbo = read_duo_csv((DEMO / "mbo-instellingen-FICTIEF.csv").read_bytes(), "mbo.csv")
    names = [v.naam for v in vo.vestigingen] + [i.naam for i in vo.instellingen + mbo.instellingen]
    assert len(names) == 12
    assert all("(FICTIEF)" in naam for naam in names)
