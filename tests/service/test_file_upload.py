"""The file upload's use cases: a CSV file read into the batch records and applied by the batch code."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.db import models
from broker.domain.status import AfmeldReden, MboGangerStatus
from broker.service.context import NotAuthorised
from broker.service.file_upload import (
    LEERLINGEN,
    MAX_ROWS,
    InvalidFile,
    aanleveren_aanmeldingen_bestand,
    aanleveren_leerlingen_bestand,
    read_rows,
)
from tests.helpers import bsn

SCHOOL_A, MBO_X = "0000000700099XA00000", "0000000700099XB00000"
P1, P2, P3 = bsn("11122233"), bsn("12345678"), bsn("20000001")
HEADER = "bsn;brinVo;postcode;woongemeente;mutatie;naam\n"


def codes(outcome):
    return [(u.volgnummer, u.melding.code if u.melding else None) for u in outcome.outcomes]


def leerlingen(processing):
    return processing.session.scalars(select(models.Leerling).order_by(models.Leerling.id)).all()


# --- reading a file ------------------------------------------------------------------------------------


def test_row_numbers_are_the_file_lines_with_comments_empty_lines_and_multiline_values():
    text = (
        HEADER
        + f'{P1};99XA;1011AB;0363;toevoegen;"Jansen;\nPiet"\n\n# voorbeeld;;;;;\n{P2};99XA;1011AB;0363;toevoegen;\n'
    )

    rows = read_rows(text.encode(), LEERLINGEN)

    assert [(r.nummer, r["bsn"], r["naam"]) for r in rows] == [(2, P1, "Jansen;\nPiet"), (6, P2, None)]


def test_column_names_count_without_case_spaces_and_underscores():
    rows = read_rows(
        f"BSN, Brin_VO ,POSTCODE,woon-gemeente,Mutatie\n{P1},99XA,1011AB,0363,toevoegen\n".encode(),
        LEERLINGEN,
    )

    assert rows[0].values == {
        "bsn": P1,
        "brinVo": "99XA",
        "postcode": "1011AB",
        "woongemeente": "0363",
        "mutatie": "toevoegen",
    }


@pytest.mark.parametrize(
    ("content", "explanation"),
    [
        (b"", "leeg"),
        (b"bsn brinVo postcode\n", "geen scheidingsteken"),
        (b"bsn;brinVo;postcode;woongemeente;mutatie;geboortedatum\n", "Onbekende kolom"),
        (b"bsn;brinVo;postcode;woongemeente\n1;2;3;4\n", "mist de kolom(men): mutatie"),
        (b"brinVo;postcode;woongemeente;mutatie\n", "mist de kolom(men): bsn of onderwijsnummer"),
        (b"bsn;bsn;brinVo;postcode;woongemeente;mutatie\n", "De kolom bsn staat twee keer"),
        (HEADER.encode(), "geen regels onder de kopregel"),
        (HEADER.encode() + b"# only a comment\n", "geen regels onder de kopregel"),
        (b"%PDF-1.7\n\x00\x01binary", "geen scheidingsteken"),
        (HEADER.encode() + b'1;2;3;4;5;"open\n6;7;8;9;10;x\n', "Regel 2 is geen geldige CSV"),
        (HEADER.encode() + b'1;2;3;4;5;"x"y\n', "Regel 2 is geen geldige CSV"),
        (HEADER.encode() + b"1;2;3;4;5;" + b"x" * 200_000 + b"\n", "Regel 2 is geen geldige CSV"),
    ],
)
def test_an_unusable_file_is_refused_as_a_whole(content, explanation):
    with pytest.raises(InvalidFile) as error:
        read_rows(content, LEERLINGEN)
    assert explanation in error.value.reason


def test_too_many_rows_or_bytes_is_refused_as_a_whole():
    row = f"{P1};99XA;1011AB;0363;toevoegen;\n"
    with pytest.raises(InvalidFile, match="meer dan 5000 regels"):
        read_rows((HEADER + row * (MAX_ROWS + 1)).encode(), LEERLINGEN)
    assert len(read_rows((HEADER + row * MAX_ROWS).encode(), LEERLINGEN)) == MAX_ROWS
    with pytest.raises(InvalidFile, match="groter dan 2097152 bytes"):
        read_rows(HEADER.encode() + b"x" * (2 * 1024 * 1024), LEERLINGEN)


def test_encoding_utf8_with_and_without_bom_and_windows1252_give_the_same_values():
    text = HEADER + f"{P1};99XA;1011AB;0363;toevoegen;Één Çelik\n"
    for inhoud in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("cp1252")):
        (row,) = read_rows(inhoud, LEERLINGEN)
        assert (row["bsn"], row["naam"], row.rejected) == (P1, "Één Çelik", None)


def test_a_line_in_the_other_encoding_is_rejected_and_the_rest_not():
    good = [f"{P1};99XA;1011AB;0363;toevoegen;Müller\n", f"{P3};99XA;1011AB;0363;toevoegen;Öztürk\n"]
    error = f"{P2};99XA;1011AB;0363;toevoegen;Ëlif\n"
    for encoding, other in (("utf-8", "cp1252"), ("cp1252", "utf-8")):
        inhoud = HEADER.encode() + good[0].encode(encoding) + error.encode(other) + good[1].encode(encoding)
        assert [r.rejected.code if r.rejected else None for r in read_rows(inhoud, LEERLINGEN)] == [
            None,
            "VVA120",
            None,
        ]


def test_a_line_with_too_many_or_too_few_columns_is_rejected():
    text = HEADER + f"{P1};99XA;1011AB;0363;toevoegen;Jansen; P.\n{P2};99XA\n{P3};99XA;1011AB;0363;toevoegen\n"

    rows = read_rows(text.encode(), LEERLINGEN)

    assert [r.rejected.code if r.rejected else None for r in rows] == ["VVA121", "VVA121", "VVA121"]


# --- applying a file -------------------------------------------------------------------------------------


def test_a_vo_file_is_processed_as_the_same_batch(processing, call):
    inhoud = (
        HEADER
        + f"{P1};99XA;1011AB;0363;toevoegen;\n"
        + f"{P1};99XA;1011AB;0363;toevoegen;\n"  # twice in one delivery
        + f"{P2};99ZZ;1011AB;0363;toevoegen;\n"  # unknown BRIN
        + f"{P3};99XA;1011 SA;0363;toevoegen;\n"  # SA is never issued
    ).encode()

    outcome = aanleveren_leerlingen_bestand(processing, call(SCHOOL_A), inhoud)

    assert codes(outcome) == [(2, None), (3, "VVA113"), (4, "VVA105"), (5, "VVA107")]
    assert [r.postcode for r in leerlingen(processing)] == ["1011AB"]


def test_replace_withdraws_only_missing_leerlingen(processing, call):
    school = call(SCHOOL_A)
    first_batch = HEADER + "".join(f"{p};99XA;1011AB;0363;toevoegen;\n" for p in (P1, P2, P3))
    aanleveren_leerlingen_bestand(processing, school, first_batch.encode())
    # P2 is in the new file but its row is in another encoding: rejected, yet present, so it stays
    afterwards = (
        HEADER.encode()
        + f"{P1};99XA;1011AB;0363;wijzigen;Müller\n".encode()
        + f"{P2};99XA;1011AB;0363;wijzigen;Ëlif\n".encode("cp1252")
    )

    outcome = aanleveren_leerlingen_bestand(processing, school, afterwards, replace=True)

    assert codes(outcome) == [(2, None), (3, "VVA120")]
    states = [(r.status, r.afmeldreden) for r in leerlingen(processing)]
    assert states == [
        (MboGangerStatus.ACTIEF, None),
        (MboGangerStatus.ACTIEF, None),
        (MboGangerStatus.AFGEMELD, AfmeldReden.NIET_MEER_AANGELEVERD),
    ]


def test_without_replace_missing_leerlingen_stay_active(processing, call):
    school = call(SCHOOL_A)
    aanleveren_leerlingen_bestand(processing, school, (HEADER + f"{P1};99XA;1011AB;0363;toevoegen;\n").encode())
    aanleveren_leerlingen_bestand(processing, school, (HEADER + f"{P2};99XA;1011AB;0363;toevoegen;\n").encode())

    assert [r.status for r in leerlingen(processing)] == [MboGangerStatus.ACTIEF, MboGangerStatus.ACTIEF]


def test_a_known_brin_of_another_refuses_the_whole_file(processing, call):
    inhoud = HEADER + f"{P1};99XA;1011AB;0363;toevoegen;\n{P2};99XC;1011AB;0363;toevoegen;\n"

    with pytest.raises(NotAuthorised, match="record 3"):
        aanleveren_leerlingen_bestand(processing, call(SCHOOL_A), inhoud.encode())


def test_an_mbo_file_with_both_date_formats_and_an_unreadable_date(processing, call):
    inhoud = (
        "bsn,brinMbo,status,datum,crebo\n"
        f"{P1},99XB,aangemeld,2027-03-01,25180\n"
        f"{P2},99XB,aangemeld,01-03-2027,\n"
        f"{P3},99XB,aangemeld,1 maart 2027,25180\n"
        f"{P3},99XB,aangemeld,,25180\n"
    ).encode()

    outcome = aanleveren_aanmeldingen_bestand(processing, call(MBO_X), inhoud)

    assert codes(outcome) == [(2, None), (3, None), (4, "VVA122"), (5, "VVA112")]
    dates = processing.session.scalars(select(models.Aanmelding.status_datum).order_by(models.Aanmelding.id))
    assert [d.isoformat() for d in dates] == ["2027-03-01", "2027-03-01"]


def test_replace_with_an_unreadable_line_is_refused_as_a_whole(processing, call):
    school = call(SCHOOL_A)
    first_batch = HEADER + "".join(f"{p};99XA;1011AB;0363;toevoegen;\n" for p in (P1, P2))
    aanleveren_leerlingen_bestand(processing, school, first_batch.encode())
    afterwards = HEADER + f"{P1};99XA;1011AB;0363;wijzigen;\n{P2};99XA;1011AB;0363;wijzigen;Jansen; P.\n"

    with pytest.raises(InvalidFile, match="Regel 3 heeft een ander aantal kolommen"):
        aanleveren_leerlingen_bestand(processing, school, afterwards.encode(), replace=True)

    assert [r.status for r in leerlingen(processing)] == [MboGangerStatus.ACTIEF, MboGangerStatus.ACTIEF]
    # the same file without --replace: that row is rejected, the other applied
    outcome = aanleveren_leerlingen_bestand(processing, school, afterwards.encode())
    assert codes(outcome) == [(2, None), (3, "VVA121")]


# --- ASCII only (issue 14 item 7; the H rules have no Unicode-digit row yet) --------------------------

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_ascii_fullwidth_digits_in_a_vo_file_give_the_code_of_the_field(processing, call):
    inhoud = (
        HEADER
        + f"{P1[:-1]}{P1[-1].translate(_FULLWIDTH)};99XA;1011AB;0363;toevoegen;\n"  # one full-width digit
        + f"{P2};{'99'.translate(_FULLWIDTH)}XA;1011AB;0363;toevoegen;\n"
        + f"{P2};99XA;{'1011'.translate(_FULLWIDTH)}AB;0363;toevoegen;\n"
        + f"{P2};99XA;1011AB;{'0363'.translate(_FULLWIDTH)};toevoegen;\n"
        + f"{P3};99XA;1011AB;0363;toevoegen;\n"
    ).encode()

    outcome = aanleveren_leerlingen_bestand(processing, call(SCHOOL_A), inhoud)

    assert codes(outcome) == [(2, "VVA101"), (3, "VVA104"), (4, "VVA107"), (5, "VVA108"), (6, None)]
    assert len(leerlingen(processing)) == 1


def test_ascii_fullwidth_onderwijsnummer_in_a_file_is_vva102(processing, call):
    inhoud = (
        "onderwijsnummer;brinVo;postcode;woongemeente;mutatie\n"
        + f"{'101222331'.translate(_FULLWIDTH)};99XA;1011AB;0363;toevoegen\n"
    ).encode()

    outcome = aanleveren_leerlingen_bestand(processing, call(SCHOOL_A), inhoud)

    assert codes(outcome) == [(2, "VVA102")]
    assert leerlingen(processing) == []


def test_ascii_fullwidth_digits_in_an_mbo_date_or_bsn(processing, call):
    inhoud = (
        "bsn,brinMbo,status,datum,crebo\n"
        f"{P1},99XB,aangemeld,{'2027'.translate(_FULLWIDTH)}-03-01,25180\n"
        f"{P2},99XB,aangemeld,01-03-{'2027'.translate(_FULLWIDTH)},25180\n"
        f"{P3.translate(_FULLWIDTH)},99XB,aangemeld,2027-03-01,25180\n"
        f"{P3},99XB,aangemeld,2027-03-01,2518{'0'.translate(_FULLWIDTH)}\n"
    ).encode()

    outcome = aanleveren_aanmeldingen_bestand(processing, call(MBO_X), inhoud)

    assert codes(outcome) == [(2, "VVA122"), (3, "VVA122"), (4, "VVA101"), (5, "VVA115")]
    assert processing.session.scalars(select(models.Aanmelding)).all() == []


# --- what a rejected row says (issue 20, item 4) ---------------------------------------------------


def test_a_rejected_line_names_the_column_and_the_allowed_values(processing, call):
    school = call(SCHOOL_A)
    aanleveren_leerlingen_bestand(processing, school, (HEADER + f"{P1};99XA;1011AB;0363;toevoegen;\n").encode())
    inhoud = (
        "bsn;brinVo;postcode;woongemeente;mutatie;afmeldReden\n"
        f"{P1};99XA;1011AB;0363;afmelden;naarHetBuitenland\n"
        f"{P2};99XA;1011AB;0363;verwijderen;\n"
    ).encode()

    outcome = aanleveren_leerlingen_bestand(processing, school, inhoud)

    reden, mutatie = (u.melding for u in outcome.outcomes)
    assert (reden.code, mutatie.code) == ("VVA110", "VVA117")
    assert reden.tekst_nl.startswith("Kolom afmeldReden: De reden klopt niet")
    assert reden.tekst_en.startswith("Column afmeldReden: The reason is wrong")
    assert all(r.value in reden.tekst_nl and r.value in reden.tekst_en for r in AfmeldReden)
    assert (
        mutatie.tekst_nl
        == "Kolom mutatie: De mutatiesoort is ongeldig: gebruik toevoegen, wijzigen of afmelden."
    )
    assert "naarHetBuitenland" not in reden.tekst_nl + reden.tekst_en  # never a value from the file


def test_a_rejected_mbo_line_names_the_columns_of_its_code(processing, call):
    inhoud = (
        "bsn,brinMbo,status,datum,intakeDatum,intakeUitkomst\n"
        f"{P1},99XB,aangenomen,2027-03-01,,\n"
        f"{P2},99XB,aangemeld,2027-03-01,2027-03-05,goed\n"
        f"{P3},99XB,aangemeld,1 maart 2027,,\n"
    ).encode()

    outcome = aanleveren_aanmeldingen_bestand(processing, call(MBO_X), inhoud)

    assert [(u.melding.code, u.melding.tekst_nl.split(":")[0]) for u in outcome.outcomes] == [
        ("VVA118", "Kolom status"),
        ("VVA126", "Kolommen intakeDatum, intakeUitkomst"),
        ("VVA122", "Kolommen datum, intakeDatum, onderwijsovereenkomstDatum"),
    ]
    assert "positiefAdvies, negatiefAdvies" in outcome.outcomes[1].melding.tekst_nl.replace(" of ", ", ")
