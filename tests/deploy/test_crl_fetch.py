"""deploy/vva-crl-fetch (vva-crl.service): CRLs are put in place only when they verify and are fresh."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from broker.pki.demo import make_demo_pki
from tests.deploy.nginx import DEPLOY

SCRIPT = DEPLOY / "vva-crl-fetch"


@pytest.fixture
def pki(tmp_path):
    if not (shutil.which("curl") and shutil.which("openssl")):
        pytest.skip("curl and openssl are needed by vva-crl-fetch")
    demo = make_demo_pki(tmp_path / "pki", [])
    ca = tmp_path / "ca.pem"
    ca.write_bytes(demo.root.read_bytes() + demo.issuing.read_bytes())
    target = tmp_path / "crl"
    target.mkdir()
    return demo, ca, target


def _run(sources, target, ca) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(SCRIPT), str(sources), str(target), str(ca)], capture_output=True, text=True, timeout=60
    )


def test_fresh_crls_land_in_their_place(pki, tmp_path):
    demo, ca, target = pki
    sources = tmp_path / "sources"
    sources.write_text(f"# demo\nfile://{demo.root_crl} root\nfile://{demo.issuing_crl} issuing\n")
    verdict = _run(sources, target, ca)
    assert verdict.returncode == 0, verdict.stderr
    assert sorted(p.name for p in target.iterdir()) == [
        "issuing.crl.pem",
        "pkioverheid-crl.pem",
        "root.crl.pem",
    ]
    together = (target / "pkioverheid-crl.pem").read_text()
    assert together.count("BEGIN X509 CRL") == 2


def test_a_crl_of_another_ca_replaces_nothing(pki, tmp_path):
    demo, ca, target = pki
    (target / "root.crl.pem").write_bytes(demo.root_crl.read_bytes())
    foreign = make_demo_pki(tmp_path / "vreemd", [])
    sources = tmp_path / "sources"
    sources.write_text(f"file://{foreign.root_crl} root\n")
    verdict = _run(sources, target, ca)
    assert verdict.returncode == 1
    assert "root: signature does not verify" in verdict.stderr
    assert (target / "root.crl.pem").read_bytes() == demo.root_crl.read_bytes()


def test_a_failed_download_keeps_the_crl_in_force(pki, tmp_path):
    demo, ca, target = pki
    (target / "root.crl.pem").write_bytes(demo.root_crl.read_bytes())
    sources = tmp_path / "sources"
    sources.write_text(f"file://{tmp_path / 'bestaat-niet.crl'} root\n")
    verdict = _run(sources, target, ca)
    assert verdict.returncode == 1 and "root: download failed" in verdict.stderr
    assert (target / "root.crl.pem").read_bytes() == demo.root_crl.read_bytes()
