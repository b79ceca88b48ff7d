"""Recorded DUO traffic (shared/data/edukoppeling-captures) through the inbound WS-Security pipeline.

These are real 2W-be-S responses signed by DUO's stack: 4096-bit keys, a bare-UUID RelatesTo, and
two prefixes (SOAP-ENV, SOAP) for the one envelope namespace. The bytes are used exactly as recorded.
``signature_valid: true`` files must verify with the clock at their Created (+1 s), and every signed
part must be reported; ``false`` files (Body edited after recording) must give Client.EK0031.
Certificate trust is not checked here (their issuing CA is not part of the data set).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID
from lxml import etree

from broker.edukoppeling.envelope import read_envelope
from broker.edukoppeling.faults import EdukoppelingFault, FaultCode, WsSecurityFault
from broker.edukoppeling.ns import WSA, WSSE, WSU
from broker.edukoppeling.parsing import parse_message
from broker.edukoppeling.wss.constants import DS
from broker.edukoppeling.wss.verification import verify_envelope

SHARED = Path(os.environ.get("VVA_SHARED") or Path(__file__).resolve().parents[3] / "shared")
CAPTURES = SHARED / "data" / "edukoppeling-captures"


def _manifest() -> list[dict]:
    path = CAPTURES / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


MANIFEST = _manifest()
pytestmark = pytest.mark.skipif(
    not MANIFEST,
    reason=f"recorded Edukoppeling traffic not found at {CAPTURES} (set VVA_SHARED=<shared dir>)",
)


def _now(snapshot: dict) -> datetime:
    return datetime.fromisoformat(snapshot["created"].replace("Z", "+00:00")) + timedelta(seconds=1)


def _bst_references(root: etree._Element) -> int:
    bst_ids = {f"#{bst.get(f'{{{WSU}}}Id')}" for bst in root.iter(f"{{{WSSE}}}BinarySecurityToken")}
    return sum(1 for ref in root.iter(f"{{{DS}}}Reference") if ref.get("URI") in bst_ids)


@pytest.mark.parametrize("capture", MANIFEST or [{}], ids=lambda c: c.get("file", "geen-captures"))
def test_capture_matches_manifest(capture):
    raw = (CAPTURES / capture["file"]).read_bytes()  # untouched: any reformatting breaks the digests
    root = parse_message(raw)
    envelope = read_envelope(root, wss_allowed=True)
    if not capture["signature_valid"]:
        with pytest.raises(EdukoppelingFault) as info:
            verify_envelope(envelope, _now(capture))
        assert info.value.code is FaultCode.CLIENT_EK0031
        assert info.value.wss is WsSecurityFault.FAILED_CHECK, info.value.reason
        return
    result = verify_envelope(envelope, _now(capture))
    assert len(result.signed) == capture["references"] - _bst_references(root)
    signed = {block.get(f"{{{WSU}}}Id") for block in envelope.wsa} | {envelope.body.get(f"{{{WSU}}}Id")}
    assert signed <= result.signed
    assert result.created.strftime("%Y-%m-%dT%H:%M:%SZ") == capture["created"]
    oin = result.certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
    assert oin == capture["certificate_oin"]
    assert result.certificate.public_key().key_size >= 2048


def test_captures_cover_the_real_world_quirks():
    """Pin what makes these files worth having: responses with RelatesTo, mixed envelope prefixes."""
    valid = [snapshot for snapshot in MANIFEST if snapshot["signature_valid"]]
    assert valid and len(valid) < len(MANIFEST)
    root = parse_message((CAPTURES / valid[0]["file"]).read_bytes())
    assert root.prefix != root[0].prefix and root.nsmap[root.prefix] == root[0].nsmap[root[0].prefix]
    assert root[0].find(f"{{{WSA}}}RelatesTo") is not None
    assert (
        verify_envelope(read_envelope(root, True), _now(valid[0])).certificate.public_key().key_size == 4096
    )


def test_a_valid_capture_outside_its_time_window_is_refused():
    snapshot = next(snapshot for snapshot in MANIFEST if snapshot["signature_valid"])
    envelope = read_envelope(parse_message((CAPTURES / snapshot["file"]).read_bytes()), True)
    with pytest.raises(EdukoppelingFault) as info:
        verify_envelope(envelope, _now(snapshot) + timedelta(minutes=10))
    assert info.value.wss is WsSecurityFault.MESSAGE_EXPIRED, info.value.reason


@pytest.mark.parametrize("capture", _manifest(), ids=lambda o: o["file"])
def test_vva_envelope_verify_agrees_on_every_capture(capture):
    """The offline tool a LAS vendor uses says what the manifest says, for every recorded message."""
    from click.testing import CliRunner

    from broker.cli import main

    moment = capture["created"].replace("Z", "").split(".")[0]
    result = CliRunner().invoke(
        main,
        [
            "envelope",
            "verify",
            str(CAPTURES / capture["file"]),
            "--at",
            moment,
            "--trust-embedded",
            "--any-recipient",
        ],
    )
    if capture["signature_valid"]:
        assert (result.exit_code, result.output.split()[0]) == (0, "valid"), result.output
        assert f"OIN {capture['certificate_oin']}" in result.output
    else:
        assert result.exit_code == 1 and result.output.startswith("Client.EK0031:"), result.output
