"""Apache Santuario (xml-security-java, Debian ``libxml-security-java``, on the machine's Java 17):
verifies the broker's signed answer with secure validation on, and signs a request (Body, Timestamp,
every wsa header) that the broker accepts."""

from __future__ import annotations

import subprocess

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from lxml import etree

from tests.edukoppeling.conftest import build_envelope
from tests.helpers import post_soap
from tests.interop.conftest import (
    HERE,
    PING,
    SCHOOL_A,
    VERSIONS,
    debian_version,
    file_exists,
    program,
    require_debian,
    signed_answer,
)

JARS = [f"/usr/share/java/{jar}.jar" for jar in ("xmlsec", "slf4j-api", "slf4j-nop")]


@pytest.fixture(scope="module")
def santuario():
    """Runs tests/interop/java/Santuario.java with the Debian Santuario jar; returns a runner."""
    require_debian("openjdk-17-jre-headless", program("java"))
    require_debian("libxml-security-java", file_exists(JARS[0]))
    require_debian("libslf4j-java", file_exists(JARS[2]))
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    VERSIONS["Apache Santuario (libxml-security-java)"] = debian_version("libxml-security-java")
    VERSIONS["Java"] = java

    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["java", "-cp", ":".join(JARS), str(HERE / "java" / "Santuario.java"), *arguments],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    return run


def test_santuario_verifies_the_signed_answer(signed_broker, santuario, tmp_path):
    response = tmp_path / "antwoord.xml"
    response.write_bytes(signed_answer(signed_broker))
    ca = signed_broker.pki / "ca"
    outcome = santuario("verify", str(response), str(ca / "issuing.pem"), str(ca / "root.pem"))
    assert outcome.returncode == 0, outcome.stderr
    fields = dict(line.split("=", 1) for line in outcome.stdout.splitlines())
    assert fields["signed"].split(",") == sorted(
        ["Action", "BinarySecurityToken", "Body", "From", "MessageID", "RelatesTo", "SignatureConfirmation",
         "Timestamp", "To"]
    )  # fmt: skip
    assert "CN=VVA broker (FICTIEF)" in fields["signer"]


def test_santuario_rejects_a_changed_answer(signed_broker, santuario, tmp_path):
    response = tmp_path / "antwoord.xml"
    response.write_bytes(
        signed_answer(signed_broker).replace(b">x</tns:echo>", b">y</tns:echo>")
    )
    ca = signed_broker.pki / "ca"
    outcome = santuario("verify", str(response), str(ca / "issuing.pem"), str(ca / "root.pem"))
    assert outcome.returncode != 0 and "Body" in outcome.stderr + outcome.stdout


def test_request_signed_by_santuario_is_accepted(signed_broker, santuario, tmp_path):
    pki = signed_broker.pki
    sleutel = load_pem_private_key((pki / f"{SCHOOL_A}.key.pem").read_bytes(), None)
    (tmp_path / "sleutel.der").write_bytes(
        sleutel.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    )
    (tmp_path / "verzoek.xml").write_bytes(build_envelope(action=PING))
    outcome = santuario(
        "sign", str(tmp_path / "verzoek.xml"), str(tmp_path / "sleutel.der"),
        str(pki / f"{SCHOOL_A}.cert.pem"), str(tmp_path / "ondertekend.xml"),
    )  # fmt: skip
    assert outcome.returncode == 0, outcome.stderr
    signed = (tmp_path / "ondertekend.xml").read_bytes()
    status, response = post_soap(signed_broker.url, signed, headers={"SOAPAction": f'"{PING}"'})
    assert status == 200, response
    assert b"<tns:echo>x</tns:echo>" in response
    # Santuario's signature, not ours: one reference each for the Body, the Timestamp and the four
    # wsa headers, and the answer confirms exactly that SignatureValue (S8).
    root = etree.fromstring(signed)
    ds = "{http://www.w3.org/2000/09/xmldsig#}"
    assert len(root.findall(f".//{ds}Reference")) == 6
    waarde = "".join(root.find(f".//{ds}SignatureValue").text.split())
    assert f'Value="{waarde}"'.encode() in response
