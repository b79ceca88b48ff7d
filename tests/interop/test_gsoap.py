"""gSOAP 2.8 (Debian ``gsoap`` and ``libgsoap-dev``) with its WS-Security plugin verifies the broker's
signed answer, fault and push (issue 14, item 10).

tests/interop/gsoap/verify.c is built once with soapcpp2 and gcc from the plugin sources Debian
ships (wsseapi.c, wsaapi.c, smdevp.c, mecevp.c, threads.c) and cached under ~/.cache/vva-interop.
It verifies the way a gSOAP client does: ``soap_wsse_verify_auto`` checks the signature with the key
of the X.509 BinarySecurityToken, whose chain gSOAP checks against the demo PKI's issuing and root
CA (its ``cafile``); then ``soap_wsse_verify_Timestamp`` and ``soap_wsse_verify_body``, which
answers "Message body not signed" unless it counts exactly one signed Body. Its count goes wrong
when the last child of the Header is a signed block: walking on from that block it counts the Body
as nested in it, and then once more as itself. So wsse:Security goes last (DUO does the same).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree

from broker.edukoppeling.ns import SOAP11, WSSE, q
from tests.e2e.test_pushes import SCHOOL_A, _delivery_worker, leerlingen, running_chain
from tests.e2e.zeepclient import client
from tests.interop.conftest import (
    CACHE,
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

PLUGIN = Path("/usr/share/gsoap/plugin")
SOURCES = [HERE / "gsoap" / "verifier.h", HERE / "gsoap" / "verify.c"]


def _build(folder: Path) -> None:
    import_path = ["-I/usr/share/gsoap/import", "-I/usr/share/gsoap"]
    steps = [
        ["soapcpp2", "-c", "-C", "-L", "-x", *import_path, str(SOURCES[0])],
        # The library's own flags (WITH_DOM, WITH_OPENSSL, ...): struct soap must have its layout.
        ["sh", "-c", "gcc -O1 -w $(pkg-config --cflags gsoapssl) \"$@\" $(pkg-config --libs gsoapssl) "
         "-lssl -lcrypto -lz -lpthread", "gcc",
         "-I.", f"-I{PLUGIN}", "-I/usr/share/gsoap", "-o", "verify", str(SOURCES[1]), "soapC.c",
         *(str(PLUGIN / f) for f in ("wsseapi.c", "wsaapi.c", "smdevp.c", "mecevp.c", "threads.c")),
         "/usr/share/gsoap/custom/struct_timeval.c"],
    ]  # fmt: skip
    for step in steps:
        outcome = subprocess.run(step, cwd=folder, capture_output=True, text=True, timeout=300)
        assert outcome.returncode == 0, f"{step[0]} failed:\n{outcome.stdout}\n{outcome.stderr}"


@pytest.fixture(scope="module")
def gsoap():
    """Builds verify.c (once per source and gSOAP version) and returns a runner:
    ``gsoap(message, pki, map)`` → the program's output ("OK ..." or "FAIL <step>: <gSOAP's
    error>") for message bytes ``message`` checked against the demo PKI in ``pki``."""
    require_debian("gcc", program("gcc"))
    require_debian("pkg-config", program("pkg-config"))
    require_debian("gsoap", program("soapcpp2"))
    require_debian("libgsoap-dev", file_exists(str(PLUGIN / "wsseapi.c")))
    require_debian("libssl-dev", file_exists("/usr/include/openssl/evp.h"))
    require_debian("zlib1g-dev", file_exists("/usr/include/zlib.h"))
    version = debian_version("libgsoap-dev")
    VERSIONS["gSOAP (libgsoap-dev, wsse plugin)"] = version
    VERSIONS["OpenSSL (libssl-dev)"] = debian_version("libssl-dev")
    sleutel = hashlib.sha256(version.encode() + b"".join(b.read_bytes() for b in SOURCES)).hexdigest()[:16]
    program_path = CACHE / "gsoap" / sleutel / "verify"
    if not program_path.exists():
        work_dir = CACHE / "gsoap" / f"{sleutel}.{os.getpid()}"
        shutil.rmtree(work_dir, ignore_errors=True)
        work_dir.mkdir(parents=True)
        _build(work_dir)
        try:
            work_dir.rename(program_path.parent)  # atomic: a parallel run uses its own or ours
        except OSError:
            shutil.rmtree(work_dir, ignore_errors=True)

    def verify_envelope(message: bytes, pki: Path, folder: Path) -> str:
        ca = pki / "ca"
        # gSOAP's trust store: the demo PKI's issuing and root CA (the BST holds the leaf only).
        (folder / "ca.pem").write_bytes((ca / "issuing.pem").read_bytes() + (ca / "root.pem").read_bytes())
        (folder / "bericht.xml").write_bytes(message)
        outcome = subprocess.run(
            [str(program_path), str(folder / "bericht.xml"), str(folder / "ca.pem")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        out = outcome.stdout.strip()
        assert outcome.returncode == (0 if out.startswith("OK") else 1), outcome.stdout + outcome.stderr
        return out

    return verify_envelope


def _security_first(message: bytes) -> bytes:
    """The message as the old signer laid it out: wsse:Security the first header block. Moving it
    breaks no digest (each signed part is canonicalised on its own), so the signature stays valid."""
    root = etree.fromstring(message)
    header = root.find(q(SOAP11, "Header"))
    header.insert(0, header.find(q(WSSE, "Security")))
    return etree.tostring(root)


def test_gsoap_verifies_the_signed_answer(signed_broker, gsoap, tmp_path):
    response = signed_answer(signed_broker)
    assert b"<tns:echo>x</tns:echo>" in response, response
    assert gsoap(response, signed_broker.pki, tmp_path) == "OK body=1 timestamp=1"
    assert header_blocks(response)[-1] == "Security"


def test_gsoap_verifies_the_signed_fault(signed_broker, gsoap, tmp_path):
    error = signed_fault(signed_broker)
    assert gsoap(error, signed_broker.pki, tmp_path) == "OK body=1 timestamp=1"
    assert header_blocks(error)[-1] == "Security"


def test_gsoap_verifies_a_signed_push(gsoap, tmp_path):
    """A push as the delivery worker sends it, taken from the reference receiver's message log."""
    with running_chain(f"sqlite:///{tmp_path / 'broker.sqlite3'}", tmp_path) as chain:
        demo = type("Demo", (), {"url": chain.broker_url, "pki": chain.pki})
        school = client(demo, "vo", SCHOOL_A)
        assert school.service.aanleverenLeerlingen(leerling=leerlingen(1)).aantalVerwerkt == 1
        assert _delivery_worker(chain).run_round() == 1
        (push,) = chain.pushes()
        outcome = gsoap(push, chain.pki, tmp_path)
    assert outcome == "OK body=1 timestamp=1"
    assert header_blocks(push)[-1] == "Security"


def test_gsoap_refuses_security_as_first_header_block(signed_broker, gsoap, tmp_path):
    """The test can fail: the same signed answer with wsse:Security moved to the front, as the signer
    made it before, is refused by gSOAP although every digest and the signature still hold."""
    response = signed_answer(signed_broker)
    again = etree.tostring(etree.fromstring(response))
    # Re-serialising alone changes nothing: the refusal below is the move's.
    assert gsoap(again, signed_broker.pki, tmp_path) == "OK body=1 timestamp=1"
    first = _security_first(response)
    assert header_blocks(first)[0] == "Security" and header_blocks(first)[-1] == "To"
    assert gsoap(first, signed_broker.pki, tmp_path) == (
        "FAIL body signed: Message body not signed [gSOAP error 12]\nsigned Body elements counted: 2"
    )


def test_gsoap_refuses_a_changed_answer(signed_broker, gsoap, tmp_path):
    response = signed_answer(signed_broker)
    outcome = gsoap(response.replace(b">x</tns:echo>", b">y</tns:echo>"), signed_broker.pki, tmp_path)
    assert outcome.startswith("FAIL signature:"), outcome


def test_gsoap_refuses_a_signer_outside_the_trusted_ca(signed_broker, gsoap, tmp_path):
    """gSOAP checks the BST's chain, not only the signature: with another CA as its trust store the
    same answer is refused."""
    response = signed_answer(signed_broker)
    foreign = tmp_path / "vreemd" / "ca"
    foreign.mkdir(parents=True)
    sleutel = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    naam = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Andere CA (FICTIEF)")])
    now = datetime.now(UTC)
    ca = (
        x509.CertificateBuilder().subject_name(naam).issuer_name(naam).public_key(sleutel.public_key())
        .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(sleutel, hashes.SHA256())
    )  # fmt: skip
    for file_name in ("issuing.pem", "root.pem"):
        (foreign / file_name).write_bytes(ca.public_bytes(Encoding.PEM))
    outcome = gsoap(response, tmp_path / "vreemd", tmp_path)
    assert outcome.startswith("FAIL signature:") and "Invalid certificate" in outcome, outcome
