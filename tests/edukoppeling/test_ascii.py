"""ASCII where the standards say digits or UUIDs (issue 14 item 7), through the signed HTTP pipeline.

python-stdnum's compact() maps full-width and mathematical digits to ASCII, and Python's re with
IGNORECASE lets "ı"/"İ" match "i": a MessageID "urn:uuıd:<uuid>" passed and was remembered under another
key than its ASCII twin, and a BSN with one full-width digit was stored as its ASCII twin. The H rules
have no row for Unicode digits or look-alike letters yet; the MessageID tests carry H66 (the MessageID
memory that the look-alike slipped past).
"""

from __future__ import annotations

import base64
import io
import uuid
from types import SimpleNamespace

import pytest
from lxml import etree

from broker.edukoppeling.addressing import is_uuid, message_id_key
from broker.edukoppeling.contract import Contract, _explanation
from broker.edukoppeling.faults import EdukoppelingFault, HttpError
from broker.privacy.logfilter import MASK, mask
from broker.web.http import read_body
from tests.edukoppeling.conftest import VO, build_envelope
from tests.edukoppeling.test_signed import signed
from tests.helpers import bsn

NS = "urn:nl:vva:aanmelden:v1"
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
UUID = "6f1c2a4e-0b7d-4c55-9a3e-2f4b8c1d9e70"


def _fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


# --- the MessageID check, as a function ----------------------------------------------------------------


@pytest.mark.parametrize(
    "waarde",
    [
        f"urn:uu\u0131d:{UUID}",  # LATIN SMALL LETTER DOTLESS I
        f"urn:uu\u0130d:{UUID}",  # LATIN CAPITAL LETTER I WITH DOT ABOVE
        f"urn:uuid:{UUID[:-1]}{_fullwidth('0')}",  # a full-width digit in the UUID
        _fullwidth("6") + UUID[1:],
        f"urn:uuid:{UUID.replace('-', chr(0x2010))}",  # typographic hyphens
    ],
)
def test_h66_is_uuid_only_ascii(waarde):
    assert not is_uuid(waarde)


def test_h66_message_id_key_is_the_same_for_urn_and_bare_uuid_but_not_for_a_lookalike():
    assert message_id_key(f"urn:uuid:{UUID}") == message_id_key(f"URN:UUID:{UUID.upper()}") == UUID
    assert message_id_key(UUID.upper()) == UUID
    assert message_id_key(f"urn:uu\u0131d:{UUID}") != UUID


# --- end to end: signed requests to a real broker -------------------------------------------------------


def _leerling(
    volgnummer: int, *, bsn: str | None = None, onderwijsnummer: str | None = None, postcode="1011AB"
):
    number = (
        f"<vva:bsn>{bsn}</vva:bsn>"
        if bsn
        else f"<vva:onderwijsnummer>{onderwijsnummer}</vva:onderwijsnummer>"
    )
    return (
        f"<vva:leerling><vva:volgnummer>{volgnummer}</vva:volgnummer>{number}<vva:brinVo>99XA</vva:brinVo>"
        f"<vva:postcode>{postcode}</vva:postcode><vva:woongemeente>0363</vva:woongemeente>"
        "<vva:mutatie>toevoegen</vva:mutatie></vva:leerling>"
    )


def _aanleveren(*leerlingen: str, message_id: str | None = None) -> bytes:
    body = f'<vva:aanleverenLeerlingen xmlns:vva="{NS}">{"".join(leerlingen)}</vva:aanleverenLeerlingen>'
    return build_envelope(body, action=VO + "aanleverenLeerlingen", message_id=message_id)


def _results(response) -> list[tuple[int, bool, str | None]]:
    assert (response.status, response.faultcode) == (200, None)
    root = etree.fromstring(response.body)
    return [
        (
            int(r.findtext(f"{{{NS}}}volgnummer")),
            r.findtext(f"{{{NS}}}verwerkt") == "true",
            r.findtext(f"{{{NS}}}code"),
        )
        for r in root.iter(f"{{{NS}}}resultaat")
    ]


def _leerlingen(broker) -> int:
    return broker.scalar("SELECT count(*) FROM leerling")


def _no_number_in_the_log(broker, *numbers: str) -> None:
    log = broker.log.read_text(encoding="utf-8", errors="replace")
    for number in numbers:
        assert number not in log and _fullwidth(number) not in log


def test_h66_lookalike_urn_uuid_is_ek0023_and_nothing_is_stored(signed_broker):
    broker, leerling = signed_broker, _leerling(1, bsn=bsn("30000001"))
    twin = f"urn:uuid:{uuid.uuid4()}"
    lookalike = twin.replace("uuid", "uu\u0131d")
    before = _leerlingen(broker)

    response = broker.post(signed(broker, _aanleveren(leerling, message_id=lookalike)))

    assert (response.status, response.faultcode) == (500, "soap:Client.EK0023")
    assert _leerlingen(broker) == before
    assert broker.scalar("SELECT count(*) FROM ontvangen_message_id WHERE message_id LIKE '%uu_d:%'") == 0
    # The ASCII twin is a new, valid MessageID and is applied once.
    assert _results(broker.post(signed(broker, _aanleveren(leerling, message_id=twin)))) == [
        (1, True, None)
    ]
    assert _leerlingen(broker) == before + 1


def test_fullwidth_digit_in_bsn_via_soap_is_vva101_and_nothing_stored(signed_broker):
    broker = signed_broker
    one, other = bsn("30000002"), bsn("30000003")
    before = _leerlingen(broker)

    response = broker.post(
        signed(
            broker, _aanleveren(_leerling(1, bsn=one[:-1] + _fullwidth(one[-1])), _leerling(2, bsn=other))
        )
    )

    assert _results(response) == [(1, False, "VVA101"), (2, True, None)]
    assert _leerlingen(broker) == before + 1
    # The twin was not stored under the ASCII number: delivering it now is a first delivery, not VVA116.
    assert _results(broker.post(signed(broker, _aanleveren(_leerling(1, bsn=one))))) == [
        (1, True, None)
    ]
    _no_number_in_the_log(broker, one, other)


def test_fullwidth_onderwijsnummer_and_postcode_via_soap(signed_broker):
    broker = signed_broker
    before = _leerlingen(broker)

    response = broker.post(
        signed(
            broker,
            _aanleveren(
                _leerling(1, onderwijsnummer=_fullwidth("101222331")),
                _leerling(2, bsn=bsn("30000004"), postcode=_fullwidth("1011") + "AB"),
            ),
        )
    )

    assert _results(response) == [(1, False, "VVA102"), (2, False, "VVA107")]
    assert _leerlingen(broker) == before


def test_fullwidth_digit_in_bsn_in_an_uploaded_file_is_vva101(signed_broker):
    broker = signed_broker
    one, other = bsn("30000005"), bsn("30000006")
    csv = (
        "bsn;brinVo;postcode;woongemeente;mutatie\n"
        f"{one[:-1]}{_fullwidth(one[-1])};99XA;1011AB;0363;toevoegen\n"
        f"{other};99XA;1011AB;0363;toevoegen\n"
    ).encode()
    body = (
        f'<vva:aanleverenLeerlingenBestand xmlns:vva="{NS}"><vva:bestand>{base64.b64encode(csv).decode()}'
        "</vva:bestand></vva:aanleverenLeerlingenBestand>"
    )
    before = _leerlingen(broker)

    response = broker.post(signed(broker, build_envelope(body, action=VO + "aanleverenLeerlingenBestand")))

    assert _results(response) == [(2, False, "VVA101"), (3, True, None)]
    assert _leerlingen(broker) == before + 1
    _no_number_in_the_log(broker, one, other)


# --- HTTP framing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", ["1\u00b2", "\u00b9\u00b2", _fullwidth("12")])
def test_h92_content_length_with_non_ascii_digits_is_400(length):
    # gunicorn refuses these itself; the broker's own check must not rely on it (another WSGI server).
    environ = {"CONTENT_LENGTH": length, "wsgi.input": io.BytesIO(b"x" * 20)}
    with pytest.raises(HttpError) as error:
        read_body(environ, 1000)
    assert (error.value.status, error.value.reason) == (400, "Content-Length is not a number")


# --- the XSD types the schema checks itself, and masking ------------------------------------------------


@pytest.mark.parametrize(
    "aanmelding",
    [
        f"<vva:volgnummer>{_fullwidth('1')}</vva:volgnummer><vva:bsn>111222333</vva:bsn>"
        "<vva:brinMbo>99XB</vva:brinMbo><vva:status>aangemeld</vva:status><vva:datum>2027-03-01</vva:datum>",
        "<vva:volgnummer>1</vva:volgnummer><vva:bsn>111222333</vva:bsn><vva:brinMbo>99XB</vva:brinMbo>"
        f"<vva:status>aangemeld</vva:status><vva:datum>{_fullwidth('2027')}-03-01</vva:datum>",
    ],
)
def test_xsd_int_and_date_take_only_ascii_digits(aanmelding):
    # libxml2's xs:int and xs:date read only 0-9 (only a pattern's \d would take any digit; the schema
    # has no patterns), so a full-width volgnummer or datum is DK0004 before spyne parses anything.
    element = etree.fromstring(
        f'<vva:aanleverenAanmeldingen xmlns:vva="{NS}"><vva:aanmelding>{aanmelding}</vva:aanmelding>'
        "</vva:aanleverenAanmeldingen>"
    )
    with pytest.raises(EdukoppelingFault) as error:
        Contract().validate_element(element)
    assert error.value.code == "Client.DK0004"
    assert _fullwidth("2027") not in str(error.value.detail) and _fullwidth("1") not in str(error.value.detail)


def test_the_log_filter_also_masks_a_bsn_in_fullwidth_digits():
    number = bsn("30000007")
    assert (
        mask(f"bsn {_fullwidth(number)} en {number[:-1]}{_fullwidth(number[-1])}.")
        == f"bsn {MASK} en {MASK}."
    )


def test_an_xsd_error_message_also_masks_fullwidth_digit_runs():
    error = SimpleNamespace(path="/x/bsn", message=f"Element 'bsn': iets met {_fullwidth('111222333')} erin")
    assert _explanation(error) == "/x/bsn: Element 'bsn': iets met … erin"
