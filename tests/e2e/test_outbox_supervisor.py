"""``vva outbox run --workers N`` supervises its workers: a killed worker is reaped and replaced, and
workers dying in a tight loop end the parent non-zero (for systemd to restart it). Several workers
need PostgreSQL (SKIP LOCKED), so these tests run there only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.cli import main
from tests.conftest import _postgres_bereikbaar, postgres_schema, vereis_postgres
from tests.helpers import schrijf_config


@pytest.fixture
def postgres_url():
    vereis_postgres(_postgres_bereikbaar())
    with postgres_schema() as url:
        yield url


def _config(tmp_path: Path, database_url: str, extra: str = "") -> Path:
    config = schrijf_config(tmp_path, database_url, profile="2W-be-S", extra=extra)
    resultaat = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert resultaat.exit_code == 0, resultaat.output
    return config


def _toestand(pid: int) -> str | None:
    """The process state letter from /proc (``Z`` for a zombie), None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _children(ouder: int) -> dict[int, str]:
    """The child processes of ``ouder`` with their state letter."""
    children = {}
    for path in Path("/proc").iterdir():
        if not path.name.isdigit():
            continue
        try:
            fields = (path / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == ouder:
            children[int(path.name)] = fields[0]
    return children


def _levend(ouder: int) -> set[int]:
    return {pid for pid, toestand in _children(ouder).items() if toestand != "Z"}


def _wacht(condition, seconds: float = 30.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.postgres
def test_sigkill_van_een_werker_wordt_vervangen_zonder_zombie(postgres_url, tmp_path):
    config = _config(tmp_path, postgres_url)
    env = {**os.environ, "VVA_CONFIG": str(config)}
    log = tmp_path / "outbox.log"
    with log.open("wb") as output:
        ouder = subprocess.Popen(
            [sys.executable, "-m", "broker", "outbox", "run", "--workers", "3"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            assert _wacht(lambda: len(_levend(ouder.pid)) == 3), log.read_text()
            eerst = _levend(ouder.pid)
            slachtoffer = max(eerst)  # the last started: the old parent joined its workers in order
            os.kill(slachtoffer, signal.SIGKILL)
            assert _wacht(lambda: _toestand(slachtoffer) is None and len(_levend(ouder.pid) - eerst) == 1), (
                f"children {_children(ouder.pid)}, killed {slachtoffer}: {_toestand(slachtoffer)}"
            )
            now = _levend(ouder.pid)
            assert len(now) == 3 and now & eerst == eerst - {slachtoffer}
            assert ouder.poll() is None
            ouder.send_signal(signal.SIGTERM)
            assert ouder.wait(timeout=30) == 0
        finally:
            if ouder.poll() is None:
                ouder.kill()
                ouder.wait()
    text = log.read_text()
    assert f"outbox worker {slachtoffer} died (signal SIGKILL); starting a replacement" in text
    assert all(_toestand(pid) is None for pid in now)


@pytest.mark.postgres
def test_werkers_die_steeds_sterven_stoppen_de_ouder_met_een_foutcode(postgres_url, tmp_path):
    # Every worker is killed as soon as it is there (kill -9, as the OOM killer or a crash would):
    # the parent replaces them a few times, then gives up with exit code 1 for systemd to restart it.
    config = _config(tmp_path, postgres_url)
    env = {**os.environ, "VVA_CONFIG": str(config)}
    log = tmp_path / "outbox.log"
    gedood: set[int] = set()
    with log.open("wb") as output:
        ouder = subprocess.Popen(
            [sys.executable, "-m", "broker", "outbox", "run", "--workers", "2"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            end = time.monotonic() + 60
            while ouder.poll() is None and time.monotonic() < end:
                for pid in _levend(ouder.pid) - gedood:
                    os.kill(pid, signal.SIGKILL)
                    gedood.add(pid)
                time.sleep(0.05)
            assert ouder.wait(timeout=30) == 1
        finally:
            if ouder.poll() is None:
                ouder.kill()
                ouder.wait()
    text = log.read_text()
    # Replaced a few times (more deaths than workers), then given up.
    assert text.count("starting a replacement") == 5, text
    assert "workers died 6 times within 60 s: stopping, for the supervisor to restart" in text
    assert all(_toestand(pid) is None for pid in gedood)
