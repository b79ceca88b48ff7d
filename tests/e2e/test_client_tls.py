"""``vva client`` over real two-way TLS on 127.0.0.1 with the demo PKI (issue 20, item 5): a failed
connection says which side failed and which setting to check, never a bare ``SSLError``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.cli import main
from broker.config import TEST_BROKER_OIN
from tests.helpers import broker_process, free_port, write_config

SCHOOL = "0000000700099XA00000"


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory):
    """A broker terminating two-way TLS whose client certificates must chain to the demo root alone,
    so a client certificate without its issuing CA is refused in the handshake. It sends its own
    chain, so a client trusting the root alone (``tls_ca``) verifies it and cannot complete a leaf
    from that store either — as with a real broker, whose TLS CA is not the partner's PKI."""
    folder = tmp_path_factory.mktemp("tls")
    pki = folder / "pki"
    extra = (
        f'tls_key = "{pki / (TEST_BROKER_OIN + ".key.pem")}"\n'
        f'tls_certificate = "{pki / (TEST_BROKER_OIN + ".chain.pem")}"\n'
        "tls_required = true\n"
    )
    config = write_config(folder, f"sqlite:///{folder / 'vva.sqlite3'}", profile="2W-be-S", extra=extra)
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    config.write_text(config.read_text() + f'tls_client_ca = "{pki / "ca" / "root.pem"}"\n')
    bundle = pki / "ca" / "root.pem"
    with broker_process(config, scheme="https") as url:
        yield url, pki, bundle, config


def _ping(folder: Path, endpoint: str, pki: Path, certificate: str, tls_ca: Path | None):
    settings = folder / "vva-client.toml"
    settings.write_text(
        f'endpoint = "{endpoint}"\noin = "{SCHOOL}"\nservice = "vo"\n'
        f'key = "{pki / (SCHOOL + ".key.pem")}"\ncertificate = "{pki / certificate}"\n'
        f'ca = ["{pki / "ca" / "root.pem"}", "{pki / "ca" / "issuing.pem"}"]\n'
        f'crl = ["{pki / "ca" / "root.crl.pem"}", "{pki / "ca" / "issuing.crl.pem"}"]\n'
        + (f'tls_ca = "{tls_ca}"\n' if tls_ca else "")
    )
    return subprocess.run(
        [sys.executable, "-m", "broker", "client", "--config", str(settings), "ping"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_the_chain_as_certificate_it_works(tls_broker, tmp_path):
    url, pki, bundle, _ = tls_broker
    outcome = _ping(tmp_path, url, pki, f"{SCHOOL}.chain.pem", bundle)
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.startswith("ok: vo answered at ")


def test_only_the_own_certificate_without_chain(tls_broker, tmp_path):
    url, pki, bundle, _ = tls_broker
    outcome = _ping(tmp_path, url, pki, f"{SCHOOL}.cert.pem", bundle)
    assert outcome.returncode == 1
    error = outcome.stderr.strip()
    assert "SSLError" not in error and "\n" not in error
    assert error.startswith(
        f"error: the broker at {url.removeprefix('https://')} refused your TLS client certificate (your side)"
    )
    assert (
        f"certificate in {tmp_path / 'vva-client.toml'} must be the whole chain in PEM — your certificate first, "
        "then the issuing CA certificate(s) — issued under a CA the broker trusts, valid and not revoked; "
        f"{pki / (SCHOOL + '.cert.pem')} holds only 1 certificate, not the chain"
    ) in error


def test_without_tls_ca(tls_broker, tmp_path):
    url, pki, _, _ = tls_broker
    outcome = _ping(tmp_path, url, pki, f"{SCHOOL}.chain.pem", None)
    assert outcome.returncode == 1
    assert outcome.stderr.strip() == (
        "error: the broker's TLS certificate is not issued by a CA this client trusts (server side, checked "
        f"here): set tls_ca in {tmp_path / 'vva-client.toml'} to the CA file of the broker's TLS certificate "
        "(tls_ca is not set, so the system's CA store was used)"
    )


def test_nobody_listens(tls_broker, tmp_path):
    _, pki, bundle, _ = tls_broker
    port = free_port()
    outcome = _ping(tmp_path, f"https://127.0.0.1:{port}", pki, f"{SCHOOL}.chain.pem", bundle)
    assert outcome.returncode == 1
    assert outcome.stderr.strip() == (
        f"error: nothing answers at 127.0.0.1:{port} (connection refused): check endpoint in "
        f"{tmp_path / 'vva-client.toml'} and that the broker is running"
    )


def test_hostname_does_not_match_the_certificate(tls_broker, tmp_path):
    """The same broker set-up on 127.0.0.2: its certificate names localhost and 127.0.0.1 only."""
    _, pki, bundle, config = tls_broker
    port = free_port()
    log = (tmp_path / "broker.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "broker",
            "serve",
            "--host",
            "127.0.0.2",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env={**os.environ, "VVA_CONFIG": str(config)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.2", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        outcome = _ping(tmp_path, f"https://127.0.0.2:{port}", pki, f"{SCHOOL}.chain.pem", bundle)
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
    assert outcome.returncode == 1
    assert outcome.stderr.strip() == (
        "error: the broker's TLS certificate is not valid for host '127.0.0.2' (server side): use in endpoint "
        f"({tmp_path / 'vva-client.toml'}) the host name the broker's certificate names (ask the broker's "
        "operators), not an IP address or another alias"
    )
