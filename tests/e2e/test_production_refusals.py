"""Production refusals through the real ``vva serve`` / ``vva receiver serve`` commands (issue 20,
item 7): one line on stderr, a non-zero exit status, no traceback, and no address printed first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.cli import main
from tests.helpers import free_port, write_config


@pytest.fixture
def production(tmp_path) -> Path:
    """A broker set up as the demo is (``vva init``: demo PKI, keys), then switched to production."""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}", profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    return config


def _start(config: Path, *command: str, extra: str = "") -> subprocess.CompletedProcess:
    config.write_text(config.read_text() + 'environment = "production"\n' + extra)
    return subprocess.run(
        [sys.executable, "-m", "broker", *command, "--port", str(free_port())],
        env={**os.environ, "VVA_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(outcome: subprocess.CompletedProcess) -> str:
    assert outcome.returncode != 0
    assert "Traceback" not in outcome.stderr and "Worker failed to boot" not in outcome.stderr
    assert outcome.stdout == ""  # no WSDL address before the refusal
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    return lines[0]


def test_demo_ca_in_production(production):
    line = _one_line(_start(production, "serve", "--workers", "1"))
    assert line == (
        "Error: refusing to serve: demo CA CN=VVA Demo Root CA (FICTIEF),O=VVA Demo PKI (FICTIEF),C=NL "
        "configured in production; set trust_ca (and trust_crl) to the PKIoverheid CA files "
        "(deploy/README.md)"
    )


def test_unsigned_services_in_production(production):
    line = _one_line(_start(production, "serve", extra='profiles = { vo = "2W-be" }\n'))
    assert line == (
        'Error: refusing to serve in production: service(s) vo are not signed (profile "2W-be"); '
        'production needs profile = "2W-be-S" for every service (check profile and profiles)'
    )


def test_without_client_certificates_in_production(production):
    line = _one_line(_start(production, "serve", extra="tls_required = false\n"))
    assert line == (
        "Error: refusing to serve in production without TLS client certificates (tls_required = false); "
        "remove tls_required or set it to true"
    )


def test_reference_receiver_with_demo_ca_in_production(production):
    line = _one_line(_start(production, "receiver", "serve"))
    assert line.startswith("Error: refusing to serve: demo CA CN=VVA Demo Root CA (FICTIEF)")


def test_conformance_fault_injection_in_production(production):
    line = _one_line(_start(production, "serve", extra="conformance_fault_injection = true\n"))
    assert line == (
        f"Error: {production}: conformance_fault_injection = true is for test environments only: "
        'refusing it with environment = "production"'
    )


def test_demo_init_in_production(production):
    # ./scripts/demo runs `vva init` (with the demo data) before `vva serve`.
    production.write_text(production.read_text() + 'environment = "production"\n')
    outcome = subprocess.run(
        [sys.executable, "-m", "broker", "init"],
        env={**os.environ, "VVA_CONFIG": str(production)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert outcome.returncode != 0 and "Traceback" not in outcome.stderr
    assert outcome.stderr.splitlines() == [
        "Error: the demo data use test OINs: run 'vva init --no-demo' in production"
    ]
