"""deploy/vva-crl-ophalen (vva-crl.service): CRLs are put in place only when they verify and are fresh."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from broker.pki.demo import make_demo_pki
from tests.deploy.nginx import DEPLOY

SCRIPT = DEPLOY / "vva-crl-ophalen"


@pytest.fixture
def pki(tmp_path):
    if not (shutil.which("curl") and shutil.which("openssl")):
        pytest.skip("curl and openssl are needed by vva-crl-ophalen")
    demo = make_demo_pki(tmp_path / "pki", [])
    ca = tmp_path / "ca.pem"
    ca.write_bytes(demo.root.read_bytes() + demo.issuing.read_bytes())
    doel = tmp_path / "crl"
    doel.mkdir()
    return demo, ca, doel


def _run(bronnen, doel, ca) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(SCRIPT), str(bronnen), str(doel), str(ca)], capture_output=True, text=True, timeout=60
    )


def test_verse_crls_komen_op_hun_plaats(pki, tmp_path):
    demo, ca, doel = pki
    bronnen = tmp_path / "bronnen"
    bronnen.write_text(f"# demo\nfile://{demo.root_crl} root\nfile://{demo.issuing_crl} issuing\n")
    verdict = _run(bronnen, doel, ca)
    assert verdict.returncode == 0, verdict.stderr
    assert sorted(p.name for p in doel.iterdir()) == [
        "issuing.crl.pem",
        "pkioverheid-crl.pem",
        "root.crl.pem",
    ]
    samen = (doel / "pkioverheid-crl.pem").read_text()
    assert samen.count("BEGIN X509 CRL") == 2


def test_een_crl_van_een_andere_ca_vervangt_niets(pki, tmp_path):
    demo, ca, doel = pki
    (doel / "root.crl.pem").write_bytes(demo.root_crl.read_bytes())
    foreign = make_demo_pki(tmp_path / "vreemd", [])
    bronnen = tmp_path / "bronnen"
    bronnen.write_text(f"file://{foreign.root_crl} root\n")
    verdict = _run(bronnen, doel, ca)
    assert verdict.returncode == 1
    assert "root: signature does not verify" in verdict.stderr
    assert (doel / "root.crl.pem").read_bytes() == demo.root_crl.read_bytes()


def test_een_mislukte_download_houdt_de_crl_die_geldt(pki, tmp_path):
    demo, ca, doel = pki
    (doel / "root.crl.pem").write_bytes(demo.root_crl.read_bytes())
    bronnen = tmp_path / "bronnen"
    bronnen.write_text(f"file://{tmp_path / 'bestaat-niet.crl'} root\n")
    verdict = _run(bronnen, doel, ca)
    assert verdict.returncode == 1 and "root: download failed" in verdict.stderr
    assert (doel / "root.crl.pem").read_bytes() == demo.root_crl.read_bytes()
