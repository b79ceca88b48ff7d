"""Apache WSS4J 1.6 (Debian ``libwss4j-java``, the WS-Security engine of CXF 2.7, on Santuario and the
machine's Java 17) verifies the broker's signed answer and fault with wsse:Security last in the
Header (issue 14, item 10): the signature with the BinarySecurityToken's key, its chain to the demo
root CA with both CRLs, the Timestamp strictly, BSP compliance on; and refuses a changed answer."""

from __future__ import annotations

import subprocess

import pytest

from tests.interop.conftest import (
    HIER,
    VERSIES,
    bestand,
    debian_versie,
    kopblokken,
    ondertekend_antwoord,
    ondertekende_fout,
    programma,
    vereis_debian,
)

JARS = [
    f"/usr/share/java/{jar}.jar" for jar in ("wss4j", "xmlsec", "commons-logging", "slf4j-api", "slf4j-nop")
]
ONDERTEKEND = [
    "Action", "BinarySecurityToken", "Body", "From", "MessageID", "RelatesTo", "SignatureConfirmation",
    "Timestamp", "To",
]  # fmt: skip


@pytest.fixture(scope="module")
def wss4j(ondertekende_broker):
    """Runs tests/interop/java/Wss4j.java with Debian's WSS4J against the demo PKI; returns a runner."""
    vereis_debian("openjdk-17-jre-headless", programma("java"))
    vereis_debian("libwss4j-java", bestand(JARS[0]))
    vereis_debian("libslf4j-java", bestand(JARS[4]))
    VERSIES["Apache WSS4J (libwss4j-java)"] = debian_versie("libwss4j-java")
    ca = ondertekende_broker.pki / "ca"
    pki = [str(ca / naam) for naam in ("issuing.pem", "root.pem", "issuing.crl.pem", "root.crl.pem")]

    def run(message: bytes, map) -> subprocess.CompletedProcess:
        (map / "bericht.xml").write_bytes(message)
        return subprocess.run(
            ["java", "-cp", ":".join(JARS), str(HIER / "java" / "Wss4j.java"), str(map / "bericht.xml"), *pki],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    return run


def _uitvoer(uitkomst: subprocess.CompletedProcess) -> dict[str, str]:
    assert uitkomst.returncode == 0, uitkomst.stderr + uitkomst.stdout
    return dict(regel.split("=", 1) for regel in uitkomst.stdout.splitlines())


def test_wss4j_verifieert_het_ondertekende_antwoord(ondertekende_broker, wss4j, tmp_path):
    response = ondertekend_antwoord(ondertekende_broker)
    assert kopblokken(response)[-1] == "Security"
    regels = _uitvoer(wss4j(response, tmp_path))
    assert regels["signed"].split(",") == ONDERTEKEND
    assert "CN=VVA broker (FICTIEF)" in regels["signer"]


def test_wss4j_verifieert_de_ondertekende_fout(ondertekende_broker, wss4j, tmp_path):
    error = ondertekende_fout(ondertekende_broker)
    assert kopblokken(error)[-1] == "Security"
    assert _uitvoer(wss4j(error, tmp_path))["signed"].split(",") == ONDERTEKEND


def test_wss4j_verwerpt_een_gewijzigd_antwoord(ondertekende_broker, wss4j, tmp_path):
    response = ondertekend_antwoord(ondertekende_broker).replace(b">x</tns:echo>", b">y</tns:echo>")
    uitkomst = wss4j(response, tmp_path)
    assert uitkomst.returncode == 1 and "WSS4J: The signature or decryption was invalid" in uitkomst.stderr, (
        uitkomst.stderr + uitkomst.stdout
    )
