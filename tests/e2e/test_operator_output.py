"""What operators see from ``vva`` and ``./scripts/demo`` (issue 20): one clear line instead of a
traceback or a guess."""

from __future__ import annotations

import fcntl
import os
import pty
import socket
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.cli import main
from broker.config import TEST_BROKER_OIN
from tests.e2e.test_pushes import OUTBOX, SCHOOL_A, _receiver, leerlingen, register_endpoint
from tests.e2e.zeepclient import client
from tests.helpers import broker_process, write_config

REPO = Path(__file__).resolve().parents[2]


def _init(tmp_path: Path, database_url: str, extra: str = "") -> Path:
    config = write_config(tmp_path, database_url, extra=extra)
    result = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert result.exit_code == 0, result.output
    return config


@pytest.fixture
def busy_port():
    """A port on 127.0.0.1 with a listener on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_serve_on_a_port_in_use_says_so_in_one_line(database_url, tmp_path, busy_port):
    config = _init(tmp_path, database_url)
    result = CliRunner().invoke(main, ["--config", str(config), "serve", "--port", str(busy_port)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: port {busy_port} on 127.0.0.1 is already in use (another vva serve?); "
        "choose another with --port, e.g. --port 8081\n"
    )


def test_demo_on_a_port_in_use_says_so_before_any_address(database_url, tmp_path, busy_port):
    config = _init(tmp_path, database_url)
    env = {**os.environ, "VVA_CONFIG": str(config)}
    result = subprocess.run(
        [str(REPO / "scripts" / "demo"), "--port", str(busy_port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "WSDL" not in result.stdout and "http" not in result.stdout
    assert result.stderr.splitlines() == [
        f"Error: port {busy_port} on 127.0.0.1 is already in use (another vva serve?); "
        "choose another with --port, e.g. --port 8081"
    ]


def test_serve_prints_https_wsdl_addresses_when_it_terminates_tls(database_url, tmp_path):
    pki = tmp_path / "pki"
    config = _init(
        tmp_path,
        database_url,
        extra=(
            f'tls_key = "{pki / (TEST_BROKER_OIN + ".key.pem")}"\n'
            f'tls_certificate = "{pki / (TEST_BROKER_OIN + ".cert.pem")}"\n'
        ),
    )
    with broker_process(config, scheme="https") as url:
        pass
    lines = [r for r in (tmp_path / "broker.log").read_text().splitlines() if r.startswith("WSDL")]
    assert len(lines) == 4, lines
    assert all(f" {url}/vva/" in r and r.endswith("?wsdl") for r in lines), lines


def test_serve_help_describes_tls():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "with tls_key and tls_certificate in the settings" in text
    assert "two-way TLS itself on HOST:PORT (https;" in text
    assert "Without them it serves plain HTTP" in text


def test_outbox_until_empty_ends_with_a_summary(database_url, tmp_path):
    """Two pushes through three 503s with at most two attempts each: one push fails twice and is
    dead-lettered, the other fails once and is delivered — whichever order the workers take them in
    (two workers on PostgreSQL, whose outcomes the supervisor adds up; one on SQLite)."""
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    extra = OUTBOX.replace("outbox_max_attempts = 12", "outbox_max_attempts = 2")
    config = write_config(broker_dir, database_url, profile="2W-be-S", extra=extra)
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = broker_dir / "pki"
    with _receiver(tmp_path / "ontvanger", pki, "503,503,503") as (endpoint, _):
        register_endpoint(config, endpoint)
        with broker_process(config) as url:
            school = client(type("Demo", (), {"url": url, "pki": pki}), "vo", SCHOOL_A)
            assert school.service.aanleverenLeerlingen(leerling=leerlingen(2)).aantalVerwerkt == 2
        result = subprocess.run(
            [sys.executable, "-m", "broker", "outbox", "run", "--until-empty", "--workers", "2"],
            env={**os.environ, "VVA_CONFIG": str(config)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "outbox empty: 1 delivered, 2 retried, 1 dead "
        "(see vva outbox list --status dood; vva outbox retry --all-dead)"
    )


def test_receiver_timeout_help_relates_it_to_the_push_timeout():
    result = CliRunner().invoke(main, ["receiver", "serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Longer than the broker's push timeout (outbox_timeout_s, default 10)" in text


def test_outbox_until_empty_shows_progress_on_a_terminal(database_url, tmp_path):
    """On a terminal (stderr a pty) a progress bar counts the pushes delivered of those waiting;
    the summary stays the last line of stdout. Piped (the test above), nothing but the summary."""
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    config = write_config(broker_dir, database_url, profile="2W-be-S", extra=OUTBOX)
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = broker_dir / "pki"
    with _receiver(tmp_path / "ontvanger", pki, "") as (endpoint, _):
        register_endpoint(config, endpoint)
        with broker_process(config) as url:
            school = client(type("Demo", (), {"url": url, "pki": pki}), "vo", SCHOOL_A)
            assert school.service.aanleverenLeerlingen(leerling=leerlingen(3)).aantalVerwerkt == 3
        head, terminal = pty.openpty()
        # A new pty is 0 columns wide, and tqdm draws nothing in no width: give it a terminal's size.
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        process = subprocess.Popen(
            [sys.executable, "-m", "broker", "outbox", "run", "--until-empty"],
            env={**os.environ, "VVA_CONFIG": str(config)},
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
        )
        os.close(terminal)
        # Read while it runs: Linux drops what is left in a pty once its last writer is gone.
        screen = []
        reader = threading.Thread(target=lambda: screen.append(_read_to_end(head)))
        reader.start()
        output = process.stdout.read()
        assert process.wait(timeout=60) == 0
        reader.join(timeout=10)
        screen = screen[0]
    assert output.splitlines()[-1] == "outbox empty: 3 delivered, 0 retried, 0 dead"
    assert "delivering:" in screen and "/3 [" in screen and "push" in screen, screen


def _read_to_end(fd: int) -> str:
    read_ = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        read_ += chunk
    os.close(fd)
    return read_.decode(errors="replace")
