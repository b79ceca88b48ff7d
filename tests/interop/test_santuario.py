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

from tests.edukoppeling.conftest import envelop
from tests.helpers import post_soap
from tests.interop.conftest import (
    HIER,
    PING,
    SCHOOL_A,
    VERSIES,
    bestand,
    debian_versie,
    ondertekend_antwoord,
    programma,
    vereis_debian,
)

JARS = [f"/usr/share/java/{jar}.jar" for jar in ("xmlsec", "slf4j-api", "slf4j-nop")]


@pytest.fixture(scope="module")
def santuario():
    """Runs tests/interop/java/Santuario.java with the Debian Santuario jar; returns a runner."""
    vereis_debian("openjdk-17-jre-headless", programma("java"))
    vereis_debian("libxml-security-java", bestand(JARS[0]))
    vereis_debian("libslf4j-java", bestand(JARS[2]))
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    VERSIES["Apache Santuario (libxml-security-java)"] = debian_versie("libxml-security-java")
    VERSIES["Java"] = java

    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["java", "-cp", ":".join(JARS), str(HIER / "java" / "Santuario.java"), *arguments],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    return run


def test_santuario_verifieert_het_ondertekende_antwoord(ondertekende_broker, santuario, tmp_path):
    response = tmp_path / "antwoord.xml"
    response.write_bytes(ondertekend_antwoord(ondertekende_broker))
    ca = ondertekende_broker.pki / "ca"
    uitkomst = santuario("verify", str(response), str(ca / "issuing.pem"), str(ca / "root.pem"))
    assert uitkomst.returncode == 0, uitkomst.stderr
    regels = dict(regel.split("=", 1) for regel in uitkomst.stdout.splitlines())
    assert regels["signed"].split(",") == sorted(
        ["Action", "BinarySecurityToken", "Body", "From", "MessageID", "RelatesTo", "SignatureConfirmation",
         "Timestamp", "To"]
    )  # fmt: skip
    assert "CN=VVA broker (FICTIEF)" in regels["signer"]


def test_santuario_verwerpt_een_gewijzigd_antwoord(ondertekende_broker, santuario, tmp_path):
    response = tmp_path / "antwoord.xml"
    response.write_bytes(
        ondertekend_antwoord(ondertekende_broker).replace(b">x</tns:echo>", b">y</tns:echo>")
    )
    ca = ondertekende_broker.pki / "ca"
    uitkomst = santuario("verify", str(response), str(ca / "issuing.pem"), str(ca / "root.pem"))
    assert uitkomst.returncode != 0 and "Body" in uitkomst.stderr + uitkomst.stdout


def test_verzoek_ondertekend_door_santuario_wordt_geaccepteerd(ondertekende_broker, santuario, tmp_path):
    pki = ondertekende_broker.pki
    sleutel = load_pem_private_key((pki / f"{SCHOOL_A}.key.pem").read_bytes(), None)
    (tmp_path / "sleutel.der").write_bytes(
        sleutel.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    )
    (tmp_path / "verzoek.xml").write_bytes(envelop(action=PING))
    uitkomst = santuario(
        "sign", str(tmp_path / "verzoek.xml"), str(tmp_path / "sleutel.der"),
        str(pki / f"{SCHOOL_A}.cert.pem"), str(tmp_path / "ondertekend.xml"),
    )  # fmt: skip
    assert uitkomst.returncode == 0, uitkomst.stderr
    signed = (tmp_path / "ondertekend.xml").read_bytes()
    status, response = post_soap(ondertekende_broker.url, signed, headers={"SOAPAction": f'"{PING}"'})
    assert status == 200, response
    assert b"<tns:echo>x</tns:echo>" in response
    # Santuario's signature, not ours: one reference each for the Body, the Timestamp and the four
    # wsa headers, and the answer confirms exactly that SignatureValue (S8).
    root = etree.fromstring(signed)
    ds = "{http://www.w3.org/2000/09/xmldsig#}"
    assert len(root.findall(f".//{ds}Reference")) == 6
    waarde = "".join(root.find(f".//{ds}SignatureValue").text.split())
    assert f'Value="{waarde}"'.encode() in response
