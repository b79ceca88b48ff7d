"""xmlsec1 (Debian ``xmlsec1``, the command-line tool of the XML Security Library) verifies the broker's
signed answer against the demo CA, and refuses it once a signed part is changed."""

from __future__ import annotations

import subprocess

import pytest

from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU
from broker.edukoppeling.wss.constants import WSSE11
from tests.interop.conftest import VERSIES, ondertekend_antwoord, programma, vereis_debian

#: The elements the broker signs in an answer, each found by its wsu:Id.
ONDERTEKEND = [
    (SOAP11, "Body"),
    (WSU, "Timestamp"),
    (WSSE11, "SignatureConfirmation"),
    (WSSE, "BinarySecurityToken"),
]
ONDERTEKEND += [(WSA, naam) for naam in ("Action", "MessageID", "RelatesTo", "From", "To")]


@pytest.fixture(scope="module")
def xmlsec1():
    vereis_debian("xmlsec1", programma("xmlsec1"))
    VERSIES["xmlsec1"] = subprocess.run(
        ["xmlsec1", "--version"], capture_output=True, text=True
    ).stdout.strip()

    def verify_envelope(bestand, pki) -> subprocess.CompletedProcess:
        ids = [argument for ns, naam in ONDERTEKEND for argument in ("--id-attr:Id", f"{ns}:{naam}")]
        return subprocess.run(
            [
                "xmlsec1", "--verify", *ids,
                "--pubkey-cert-pem", str(pki / f"{TEST_BROKER_OIN}.cert.pem"),
                "--trusted-pem", str(pki / "ca" / "root.pem"), "--untrusted-pem", str(pki / "ca" / "issuing.pem"),
                str(bestand),
            ],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    return verify_envelope


def test_xmlsec1_verifieert_het_antwoord(ondertekende_broker, xmlsec1, tmp_path):
    bestand = tmp_path / "antwoord.xml"
    bestand.write_bytes(ondertekend_antwoord(ondertekende_broker))
    uitkomst = xmlsec1(bestand, ondertekende_broker.pki)
    assert uitkomst.returncode == 0, uitkomst.stderr
    assert "OK" in uitkomst.stderr and "SignedInfo References (ok/all): 9/9" in uitkomst.stderr


def test_xmlsec1_verwerpt_een_gewijzigd_antwoord(ondertekende_broker, xmlsec1, tmp_path):
    bestand = tmp_path / "antwoord.xml"
    bestand.write_bytes(ondertekend_antwoord(ondertekende_broker).replace(b">x</tns:echo>", b">y</tns:echo>"))
    uitkomst = xmlsec1(bestand, ondertekende_broker.pki)
    assert uitkomst.returncode != 0 and "FAIL" in uitkomst.stderr
