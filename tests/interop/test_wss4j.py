"""Apache WSS4J 1.6 (Debian ``libwss4j-java``, the WS-Security engine of CXF 2.7, on Santuario and the
machine's Java 17) verifies the broker's signed answer and fault with wsse:Security last in the
Header (issue 14, item 10): the signature with the BinarySecurityToken's key, its chain to the demo
root CA with both CRLs, the Timestamp strictly, BSP compliance on; and refuses a changed answer."""

from __future__ import annotations

import subprocess

import pytest

from tests.interop.conftest import (
    HERE,
    VERSIONS,
    debian_version,
    file_exists,
    header_blocks,
    program,
    require_debian,
    signed_answer,
    signed_fault,
)

JARS = [
    f"/usr/share/java/{jar}.jar" for jar in ("wss4j", "xmlsec", "commons-logging", "slf4j-api", "slf4j-nop")
]
SIGNED = [
    "Action", "BinarySecurityToken", "Body", "From", "MessageID", "RelatesTo", "SignatureConfirmation",
    "Timestamp", "To",
]  # fmt: skip


@pytest.fixture(scope="module")
def wss4j(signed_broker):
    """Runs tests/interop/java/Wss4j.java with Debian's WSS4J against the demo PKI; returns a runner."""
    require_debian("openjdk-17-jre-headless", program("java"))
    require_debian("libwss4j-java", file_exists(JARS[0]))
    require_debian("libslf4j-java", file_exists(JARS[4]))
    VERSIONS["Apache WSS4J (libwss4j-java)"] = debian_version("libwss4j-java")
    ca = signed_broker.pki / "ca"
    pki = [str(ca / naam) for naam in ("issuing.pem", "root.pem", "issuing.crl.pem", "root.crl.pem")]

    def run(message: bytes, folder) -> subprocess.CompletedProcess:
        (folder / "bericht.xml").write_bytes(message)
        return subprocess.run(
            ["java", "-cp", ":".join(JARS), str(HERE / "java" / "Wss4j.java"), str(folder / "bericht.xml"), *pki],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    return run


def _output(outcome: subprocess.CompletedProcess) -> dict[str, str]:
    assert outcome.returncode == 0, outcome.stderr + outcome.stdout
    return dict(line.split("=", 1) for line in outcome.stdout.splitlines())


def test_wss4j_verifies_the_signed_answer(signed_broker, wss4j, tmp_path):
    response = signed_answer(signed_broker)
    assert header_blocks(response)[-1] == "Security"
    fields = _output(wss4j(response, tmp_path))
    assert fields["signed"].split(",") == SIGNED
    assert "CN=VVA broker (FICTIEF)" in fields["signer"]


def test_wss4j_verifies_the_signed_fault(signed_broker, wss4j, tmp_path):
    error = signed_fault(signed_broker)
    assert header_blocks(error)[-1] == "Security"
    assert _output(wss4j(error, tmp_path))["signed"].split(",") == SIGNED


def test_wss4j_rejects_a_changed_answer(signed_broker, wss4j, tmp_path):
    response = signed_answer(signed_broker).replace(b">x</tns:echo>", b">y</tns:echo>")
    outcome = wss4j(response, tmp_path)
    assert outcome.returncode == 1 and "WSS4J: The signature or decryption was invalid" in outcome.stderr, (
        outcome.stderr + outcome.stdout
    )
