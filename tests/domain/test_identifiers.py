"""Identifiers and the melding catalogue (broker.domain.identifiers, broker.domain.meldingen)."""

import pickle
import re

import pytest

from broker.domain import meldingen
from broker.domain.identifiers import (
    OIN_PATTERN,
    InvalidOin,
    Leerlingnummer,
    brin_from_oin,
    is_test_oin,
    is_valid_oin,
    oin_for_brin,
    parse_brin,
    parse_bsn,
    parse_crebo,
    parse_gemeentecode,
    parse_leerlingnummer,
    parse_oin,
    parse_onderwijsnummer,
    parse_postcode,
    parse_vestigingscode,
)
from broker.domain.meldingen import Melding, Rejection

# ---------------------------------------------------------------------------------------------------------
# Melding catalogue
# ---------------------------------------------------------------------------------------------------------


def test_catalogue_holds_all_codes_101_through_127():
    assert sorted(meldingen.ALL) == [f"VVA{n}" for n in range(101, 128)]
    for code, melding in meldingen.ALL.items():
        assert melding.code == code
        assert melding.tekst_nl and melding.tekst_en


def test_catalogue_names_belong_to_the_right_code():
    assert meldingen.BSN_ONGELDIG.code == "VVA101"
    assert meldingen.BRIN_NIET_VAN_AFZENDER.code == "VVA106"
    assert meldingen.OVERGANG_NIET_TOEGESTAAN.code == "VVA111"
    assert meldingen.LEERLING_AL_AANGELEVERD.code == "VVA116"
    assert meldingen.STATUS_ONGELDIG.code == "VVA118"


def test_leerling_already_delivered_refers_to_wijzigen():
    assert "wijzigen" in meldingen.LEERLING_AL_AANGELEVERD.tekst_nl
    assert "wijzigen" in meldingen.LEERLING_AL_AANGELEVERD.tekst_en


def test_catalogue_texts_hold_no_digit_runs_that_look_like_a_number():
    for melding in meldingen.ALL.values():
        assert not re.search(r"[0-9]{8,}", melding.tekst_nl + melding.tekst_en)


def test_melding_code_must_be_vva_plus_three_digits():
    with pytest.raises(ValueError):
        Melding("VVA1011", "x", "x")
    with pytest.raises(ValueError):
        Melding("XYZ101", "x", "x")


def test_afwijzing_str_is_code_and_english_text():
    error = Rejection(meldingen.CREBO_ONGELDIG)
    assert str(error) == "VVA115: The crebo code is invalid: use exactly 5 digits."
    assert error.melding is meldingen.CREBO_ONGELDIG
    assert isinstance(error, ValueError)


def test_afwijzing_is_picklable():
    error = pickle.loads(pickle.dumps(Rejection(meldingen.BSN_ONGELDIG)))
    assert error.melding == meldingen.BSN_ONGELDIG
    assert str(error).startswith("VVA101: ")


# ---------------------------------------------------------------------------------------------------------
# BSN and onderwijsnummer
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("111222333", "111222333"),
        ("  111222333\n", "111222333"),
        ("1112.22.333", "111222333"),
        ("1112-22-333", "111222333"),
        ("12345611", "012345611"),  # leading zero dropped, as LAS exports often do
        ("100252333", "100252333"),  # a valid BSN, though not a valid onderwijsnummer
    ],
)
def test_parse_bsn_valid(given, expected):
    assert parse_bsn(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "111222334",  # elfproef fails
        "101222331",  # valid onderwijsnummer, not a BSN
        "1112223334",  # 10 digits
        "000000000",
        "12",  # stdnum pads this to a number that passes the elfproef; no real BSN is that short
        "1234561",  # 7 digits
        "１１１２２２３３３",  # full-width digits
        "11122233a",
        "",
        "   ",
        None,
        111222333,
    ],
)
def test_parse_bsn_invalid(given):
    with pytest.raises(Rejection) as info:
        parse_bsn(given)
    assert info.value.melding is meldingen.BSN_ONGELDIG


def test_parse_onderwijsnummer():
    assert parse_onderwijsnummer("101222331") == "101222331"
    assert parse_onderwijsnummer("1012.22.331") == "101222331"


@pytest.mark.parametrize("given", ["100252333", "111222333", "2112.22.337", "1012223310", "", None])
def test_parse_onderwijsnummer_invalid(given):
    with pytest.raises(Rejection) as info:
        parse_onderwijsnummer(given)
    assert info.value.melding is meldingen.ONDERWIJSNUMMER_ONGELDIG


@pytest.mark.parametrize(
    ("parse", "value"),
    [
        (parse_bsn, "111222334"),
        (parse_bsn, "101222331"),
        (parse_onderwijsnummer, "100252333"),
        (parse_onderwijsnummer, "111222333"),
    ],
)
def test_afwijzing_never_holds_the_number(parse, value):
    with pytest.raises(Rejection) as info:
        parse(value)
    error = info.value
    for text in (str(error), repr(error), repr(error.args), str(error.__cause__), repr(error.__cause__)):
        assert value not in text


# ---------------------------------------------------------------------------------------------------------
# Leerlingnummer
# ---------------------------------------------------------------------------------------------------------


def test_parse_leerlingnummer_bsn():
    nummer = parse_leerlingnummer("1112.22.333", None)
    assert nummer == Leerlingnummer("bsn", "111222333")
    assert nummer.sleutel == "bsn:111222333"


def test_parse_leerlingnummer_onderwijsnummer_with_empty_bsn_field():
    nummer = parse_leerlingnummer("  ", "101222331")
    assert nummer.soort == "onderwijsnummer"
    assert nummer.sleutel == "onderwijsnummer:101222331"


def test_bsn_and_onderwijsnummer_give_different_keys():
    # Same digits under a different kind must not collide in the keyed hash.
    assert Leerlingnummer("bsn", "100252333").sleutel != "onderwijsnummer:100252333"


@pytest.mark.parametrize(("bsn", "onderwijsnummer"), [(None, None), ("", ""), ("111222333", "101222331")])
def test_parse_leerlingnummer_exactly_one(bsn, onderwijsnummer):
    with pytest.raises(Rejection) as info:
        parse_leerlingnummer(bsn, onderwijsnummer)
    assert info.value.melding is meldingen.LEERLINGNUMMER_ONTBREEKT_OF_DUBBEL


def test_parse_leerlingnummer_invalid_given_number():
    with pytest.raises(Rejection) as info:
        parse_leerlingnummer(None, "111222333")
    assert info.value.melding is meldingen.ONDERWIJSNUMMER_ONGELDIG


def test_leerlingnummer_masks_its_value():
    nummer = Leerlingnummer("bsn", "111222333")
    assert repr(nummer) == "Leerlingnummer(bsn, *********)"
    assert str(nummer) == "Leerlingnummer(bsn, *********)"
    assert "111222333" not in f"{nummer} {nummer!r} {[nummer]} { ({'n': nummer}) }"


@pytest.mark.parametrize(("bsn", "onderwijsnummer"), [("1112.22.333", None), (None, "101222331")])
def test_a_parsed_leerlingnummer_is_the_same_value_as_one_checked_on_construction(bsn, onderwijsnummer):
    # parse_leerlingnummer skips the second elfproef (issue 18): its result must be indistinguishable.
    parsed = parse_leerlingnummer(bsn, onderwijsnummer)
    constructed = Leerlingnummer(parsed.soort, parsed.waarde)
    assert (parsed, hash(parsed), parsed.sleutel) == (constructed, hash(constructed), constructed.sleutel)
    assert type(parsed) is Leerlingnummer
    with pytest.raises(AttributeError):
        parsed.waarde = "000000000"  # frozen like any other


def test_leerlingnummer_requires_a_compact_valid_value():
    with pytest.raises(Rejection):
        Leerlingnummer("bsn", "1112.22.333")
    with pytest.raises(Rejection):
        Leerlingnummer("onderwijsnummer", "111222333")
    with pytest.raises(ValueError):
        Leerlingnummer("sofinummer", "111222333")


# ---------------------------------------------------------------------------------------------------------
# BRIN, vestiging, crebo
# ---------------------------------------------------------------------------------------------------------


def test_parse_brin():
    assert parse_brin("25BE") == "25BE"
    assert parse_brin(" 05KO ") == "05KO"


@pytest.mark.parametrize("given", ["25be", "25 BE", "25BE00", "5BE", "AB12", "25B3", "", None, "25BE\n00"])
def test_parse_brin_invalid(given):
    with pytest.raises(Rejection) as info:
        parse_brin(given)
    assert info.value.melding is meldingen.BRIN_ONGELDIG


@pytest.mark.parametrize(("brin", "code"), [("16SW", "03"), ("16SW", "16SW03"), ("16SW", " 03 ")])
def test_parse_vestigingscode(brin, code):
    assert parse_vestigingscode(brin, code) == "16SW03"


def test_parse_vestigingscode_hoofdvestiging_00():
    assert parse_vestigingscode("07NU", "00") == "07NU00"


@pytest.mark.parametrize(
    ("brin", "code"),
    [
        ("30AJ", "0A"),
        ("30AJ", "30AJ0A"),
        ("16SW", "25BE03"),
        ("16SW", "3"),
        ("16SW", "003"),
        ("16SW", "16sw03"),
    ],
)
def test_parse_vestigingscode_invalid(brin, code):
    with pytest.raises(Rejection) as info:
        parse_vestigingscode(brin, code)
    assert info.value.melding is meldingen.VESTIGING_ONGELDIG


def test_parse_vestigingscode_invalid_brin():
    with pytest.raises(Rejection) as info:
        parse_vestigingscode("16sw", "03")
    assert info.value.melding is meldingen.BRIN_ONGELDIG


def test_parse_crebo():
    assert parse_crebo("25180") == "25180"
    for invalid in ("2518", "251800", "2518a", "25180\n1", "２５１８０", None):
        with pytest.raises(Rejection) as info:
            parse_crebo(invalid)
        assert info.value.melding is meldingen.CREBO_ONGELDIG


# ---------------------------------------------------------------------------------------------------------
# Postcode and gemeente
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["2601 DC", "2601DC", "2601dc", "NL-2601DC"])
def test_parse_postcode(given):
    assert parse_postcode(given) == "2601DC"


@pytest.mark.parametrize("given", ["0601DC", "26012DC", "2601 SS", "2601SA", "2601SD", "2601D", "", None])
def test_parse_postcode_invalid(given):
    with pytest.raises(Rejection) as info:
        parse_postcode(given)
    assert info.value.melding is meldingen.POSTCODE_ONGELDIG


@pytest.mark.parametrize(
    ("given", "expected"),
    [("0363", "0363"), ("363", "0363"), ("GM0363", "0363"), ("14", "0014"), (" 0363\n", "0363")],
)
def test_parse_gemeentecode(given, expected):
    assert parse_gemeentecode(given) == expected


@pytest.mark.parametrize(
    "given", ["0", "0000", "GM0000", "03630", "GM363", "gm0363", "36a", "03 63", "", "٣٦٣", None]
)
def test_parse_gemeentecode_invalid(given):
    with pytest.raises(Rejection) as info:
        parse_gemeentecode(given)
    assert info.value.melding is meldingen.GEMEENTECODE_ONGELDIG


# ---------------------------------------------------------------------------------------------------------
# OIN
# ---------------------------------------------------------------------------------------------------------


def test_oin_for_brin():
    assert oin_for_brin("99XA") == "0000000700099XA00000"
    assert oin_for_brin("25BE") == "0000000700025BE00000"


def test_oin_for_invalid_brin():
    with pytest.raises(Rejection):
        oin_for_brin("99xa")


def test_brin_from_oin():
    assert brin_from_oin("0000000700025BE00000") == "25BE"
    assert brin_from_oin("00000001800866472000") is None  # DUO: RSIN-based
    assert brin_from_oin("0000000700000YY00931") is None  # OSO routing sub-address
    assert brin_from_oin("00000007000ABCD00000") is None  # right frame, no BRIN inside
    assert brin_from_oin("0000000700025be00000") is None


@pytest.mark.parametrize(
    ("oin", "valid"),
    [
        ("00000001800866472000", True),
        ("0000000700025BE00000", True),
        ("0000000700025be00000", False),
        ("0000000700025BE0000", False),
        ("0000000700025BE000000", False),
        ("0000000700025BE00000\n", False),
        (" 0000000700025BE00000", False),
        ("0000000700025BE0000-", False),
        (None, False),
    ],
)
def test_is_valid_oin(oin, valid):
    assert is_valid_oin(oin) is valid


def test_oin_pattern_accepts_no_trailing_newline():
    assert OIN_PATTERN.match("0000000700025BE00000\n") is None


def test_parse_oin():
    assert parse_oin("0000000700025BE00000") == "0000000700025BE00000"
    with pytest.raises(InvalidOin):
        parse_oin("0000000700025be00000")


def test_is_test_oin():
    assert is_test_oin("00000099123456780000") is True
    assert is_test_oin("0000000700025BE00000") is False
    assert is_test_oin("00000099") is False


# ---------------------------------------------------------------------------------------------------------
# ASCII only (issue 14 item 7): python-stdnum's compact() maps full-width and mathematical digits to ASCII
# and str.isdigit()/int()/re \d accept them, so one "３" in a BSN used to pass while nine were refused.
# The H rules have no row for Unicode digits or look-alikes yet; these tests are named after it.
# ---------------------------------------------------------------------------------------------------------

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


@pytest.mark.parametrize(
    ("parse", "given", "melding"),
    [
        (parse_bsn, "11122233" + _fullwidth("3"), meldingen.BSN_ONGELDIG),  # one full-width digit
        (parse_bsn, "1" + _fullwidth("1") + "1222333", meldingen.BSN_ONGELDIG),
        (parse_bsn, "11122233\U0001d7d1", meldingen.BSN_ONGELDIG),  # MATHEMATICAL BOLD DIGIT THREE
        (parse_bsn, "1112\u201022\u2010333", meldingen.BSN_ONGELDIG),  # typographic hyphens
        (parse_onderwijsnummer, _fullwidth("101222331"), meldingen.ONDERWIJSNUMMER_ONGELDIG),
        (parse_onderwijsnummer, "10122233" + _fullwidth("1"), meldingen.ONDERWIJSNUMMER_ONGELDIG),
        (parse_brin, _fullwidth("25") + "BE", meldingen.BRIN_ONGELDIG),
        (parse_brin, "25\uff22\uff25", meldingen.BRIN_ONGELDIG),  # full-width B and E
        (parse_postcode, "260" + _fullwidth("1") + "DC", meldingen.POSTCODE_ONGELDIG),
        (parse_postcode, _fullwidth("2601") + " DC", meldingen.POSTCODE_ONGELDIG),
        (parse_postcode, "2601 \uff24\uff23", meldingen.POSTCODE_ONGELDIG),
        (parse_gemeentecode, _fullwidth("0363"), meldingen.GEMEENTECODE_ONGELDIG),
        (parse_gemeentecode, "GM036" + _fullwidth("3"), meldingen.GEMEENTECODE_ONGELDIG),
        (parse_crebo, "2518" + _fullwidth("0"), meldingen.CREBO_ONGELDIG),
    ],
)
def test_ascii_unicode_digits_are_refused(parse, given, melding):
    with pytest.raises(Rejection) as info:
        parse(given)
    assert info.value.melding is melding


def test_ascii_vestigingscode_with_a_fullwidth_digit_is_refused():
    with pytest.raises(Rejection) as info:
        parse_vestigingscode("16SW", "0" + _fullwidth("3"))
    assert info.value.melding is meldingen.VESTIGING_ONGELDIG


def test_ascii_leerlingnummer_with_a_fullwidth_digit_is_refused():
    # The bug as reported: a BSN with one full-width digit became a Leerlingnummer equal to its ASCII twin.
    with pytest.raises(Rejection) as info:
        parse_leerlingnummer("11122233" + _fullwidth("3"), None)
    assert info.value.melding is meldingen.BSN_ONGELDIG
    with pytest.raises(Rejection) as info:
        parse_leerlingnummer(None, _fullwidth("101222331"))
    assert info.value.melding is meldingen.ONDERWIJSNUMMER_ONGELDIG


def test_ascii_oin_with_a_fullwidth_digit_is_invalid():
    oin = "0000000700025BE0000" + _fullwidth("0")
    assert not is_valid_oin(oin)
    assert brin_from_oin(oin) is None
    with pytest.raises(InvalidOin):
        parse_oin(oin)


def test_ascii_surrounding_unicode_whitespace_stays_allowed():
    # Only the value itself must be ASCII: a no-break space around it is trimmed, as before.
    assert parse_bsn("\u00a0111222333\u00a0") == "111222333"
    assert parse_brin("\u00a025BE") == "25BE"
    assert parse_postcode("2601 DC\u00a0") == "2601DC"
