"""Faults that say what to fix (issue 20, item 1), through a real broker process with real signatures.

The faultstring stays the table text (F1); the detail says which header or which part of the
authorisation failed, never anything about a party the caller has no mandate for (F3)."""

from __future__ import annotations

from lxml import etree

from tests.edukoppeling.conftest import BROKER, SCHOOL_A, SOAP, VO, build_envelope
from tests.edukoppeling.test_signed import signed

SCHOOL_C = "0000000700099XC00000"  # a demo school with no mandate for 99XA
REGIO = "00000099000000000042"  # demo mandate for 99XA: vo/opvragenStatus only
UNKNOWN = "0000000700099ZZ00000"  # no party at all


def _detail(response) -> str:
    return etree.fromstring(response.body).findtext(f".//{{{SOAP}}}Fault/detail/melding")


def test_dk0011_to_oin_names_the_header_and_the_expected_value(signed_broker):
    response = signed_broker.post(build_envelope(to="https://vva.example/vva/vo/v1?oin=00000099000000000002"))
    assert (response.faultcode, response.faultstring) == (
        "soap:Client.DK0011",
        "Onjuiste waarde in wsa header",
    )
    assert _detail(response) == (
        f"wsa:To noemt OIN 00000099000000000002, maar deze broker heeft OIN {BROKER}: "
        f"zet wsa:To op <adres>?oin={BROKER} (het adres zelf mag elke absolute URI zijn)"
    )


def test_dk0002_no_mandaat_says_nothing_about_the_other_partij(signed_broker):
    known = signed_broker.post(signed(signed_broker, build_envelope(van=SCHOOL_A), oin=SCHOOL_C))
    unknown = signed_broker.post(signed(signed_broker, build_envelope(van=UNKNOWN), oin=SCHOOL_C))
    assert known.faultcode == unknown.faultcode == "soap:Client.DK0002"
    assert known.faultstring == "Niet geautoriseerd"
    assert _detail(known) == (
        f"het certificaat (OIN {SCHOOL_C}) heeft geen mandaat voor wsa:From (OIN {SCHOOL_A}); de partij in "
        "wsa:From laat het mandaat registreren bij de beheerder van de broker, of u stuurt wsa:From met het "
        "OIN van uw eigen certificaat"
    )
    # A registered school and an OIN nobody registered get the same words: only the OIN sent differs.
    assert _detail(unknown) == _detail(known).replace(SCHOOL_A, UNKNOWN)


def test_dk0002_mandaat_does_not_cover_the_operation(signed_broker):
    delivery = build_envelope(
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:volgnummer>1'
        "</vva:volgnummer><vva:bsn>111222333</vva:bsn><vva:brinVo>99XA</vva:brinVo><vva:postcode>1011AB"
        "</vva:postcode><vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie>"
        "</vva:leerling></vva:aanleverenLeerlingen>",
        action=VO + "aanleverenLeerlingen",
    )
    response = signed_broker.post(signed(signed_broker, delivery, oin=REGIO))
    assert response.faultcode == "soap:Client.DK0002"
    detail = _detail(response)
    assert detail.startswith(
        f"het mandaat van het certificaat (OIN {REGIO}) voor wsa:From (OIN {SCHOOL_A}) dekt deze operatie "
        "(vo/aanleverenLeerlingen) of deze datum ("
    )
    assert detail.endswith(") niet; de partij in wsa:From kan het mandaat laten uitbreiden of verlengen")


def test_dk0002_from_not_registered_for_the_service(signed_broker):
    # School 99XA signs for itself, but calls the MBO institutions' service.
    ping = build_envelope(
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>x</vva:echo></vva:ping>',
        action="urn:nl:vva:aanmelden:v1/mbo/ping",
        to=f"https://vva.example/vva/mbo/v1?oin={BROKER}",
    )
    response = signed_broker.post(
        signed(signed_broker, ping),
        path="/vva/mbo/v1",
        soapaction='"urn:nl:vva:aanmelden:v1/mbo/ping"',
    )
    assert response.faultcode == "soap:Client.DK0002"
    assert _detail(response) == (
        f"wsa:From (OIN {SCHOOL_A}) is niet aangemeld voor deze dienst (mbo); de beheerder van de broker "
        "registreert partijen per dienst"
    )


def test_ek0031_neutral_with_a_pointer_to_the_offline_check(signed_broker):
    response = signed_broker.post(build_envelope())  # unsigned, on a signed service
    assert (response.faultcode, response.faultstring) == (
        "soap:Client.EK0031",
        "Berichtondertekening niet aanwezig of onjuist",
    )
    detail = _detail(response)
    assert "vva envelope verify <bericht.xml>" in detail and "vva conformance run" in detail
    # Neutral: the same detail for another cause (a changed Body after signing).
    changed = signed(signed_broker).replace(b"<vva:echo>x<", b"<vva:echo>y<")
    second = signed_broker.post(changed)
    assert second.faultcode == "soap:Client.EK0031" and _detail(second) == detail
