"""xmlsec1 (Debian ``xmlsec1``, the command-line tool of the XML Security Library) verifies the broker's
signed answer against the demo CA, and refuses it once a signed part is changed."""

from __future__ import annotations

import subprocess

import pytest

from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU
from broker.edukoppeling.wss.constants import WSSE11
from tests.interop.conftest import VERSIONS, program, require_debian, signed_answer

#: The elements the broker signs in an answer, each found by its wsu:Id.
SIGNED = [
    (SOAP11, "Body"),
    (WSU, "Timestamp"),
    (WSSE11, "SignatureConfirmation"),
    (WSSE, "BinarySecurityToken"),
]
SIGNED += [(WSA, naam) for naam in ("Action", "MessageID", "RelatesTo", "From", "To")]


@pytest.fixture(scope="module")
def xmlsec1():
    require_debian("xmlsec1", program("xmlsec1"))
    VERSIONS["xmlsec1"] = subprocess.run(
        ["xmlsec1", "--version"], capture_output=True, text=True
    ).stdout.strip()

    def verify_envelope(file_exists, pki) -> subprocess.CompletedProcess:
        ids = [argument for ns, naam in SIGNED for argument in ("--id-attr:Id", f"{ns}:{naam}")]
        return subprocess.run(
            [
                "xmlsec1", "--verify", *ids,
                "--pubkey-cert-pem", str(pki / f"{TEST_BROKER_OIN}.cert.pem"),
                "--trusted-pem", str(pki / "ca" / "root.pem"), "--untrusted-pem", str(pki / "ca" / "issuing.pem"),
                str(file_exists),
            ],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    return verify_envelope


def test_xmlsec1_verifies_the_answer(signed_broker, xmlsec1, tmp_path):
    file_exists = tmp_path / "antwoord.xml"
    file_exists.write_bytes(signed_answer(signed_broker))
    outcome = xmlsec1(file_exists, signed_broker.pki)
    assert outcome.returncode == 0, outcome.stderr
    assert "OK" in outcome.stderr and "SignedInfo References (ok/all): 9/9" in outcome.stderr


def test_xmlsec1_rejects_a_changed_answer(signed_broker, xmlsec1, tmp_path):
    file_exists = tmp_path / "antwoord.xml"
    file_exists.write_bytes(signed_answer(signed_broker).replace(b">x</tns:echo>", b">y</tns:echo>"))
    outcome = xmlsec1(file_exists, signed_broker.pki)
    assert outcome.returncode != 0 and "FAIL" in outcome.stderr
