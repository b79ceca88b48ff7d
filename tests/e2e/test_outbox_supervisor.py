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
from tests.conftest import _postgres_reachable, postgres_schema, require_postgres
from tests.helpers import write_config


@pytest.fixture
def postgres_url():
    require_postgres(_postgres_reachable())
    with postgres_schema() as url:
        yield url


def _config(tmp_path: Path, database_url: str, extra: str = "") -> Path:
    config = write_config(tmp_path, database_url, profile="2W-be-S", extra=extra)
    result = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert result.exit_code == 0, result.output
    return config


def _state(pid: int) -> str | None:
    """The process state letter from /proc (``Z`` for a zombie), None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _children(parent: int) -> dict[int, str]:
    """The child processes of ``ouder`` with their state letter."""
    children = {}
    for path in Path("/proc").iterdir():
        if not path.name.isdigit():
            continue
        try:
            fields = (path / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == parent:
            children[int(path.name)] = fields[0]
    return children


def _alive(parent: int) -> set[int]:
    return {pid for pid, state in _children(parent).items() if state != "Z"}


def _wait(condition, seconds: float = 30.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.postgres
def test_sigkill_of_a_worker_is_replaced_without_zombie(postgres_url, tmp_path):
    config = _config(tmp_path, postgres_url)
    env = {**os.environ, "VVA_CONFIG": str(config)}
    log = tmp_path / "outbox.log"
    with log.open("wb") as output:
        parent = subprocess.Popen(
            [sys.executable, "-m", "broker", "outbox", "run", "--workers", "3"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            assert _wait(lambda: len(_alive(parent.pid)) == 3), log.read_text()
            first = _alive(parent.pid)
            victim = max(first)  # the last started: the old parent joined its workers in order
            os.kill(victim, signal.SIGKILL)
            assert _wait(lambda: _state(victim) is None and len(_alive(parent.pid) - first) == 1), (
                f"children {_children(parent.pid)}, killed {victim}: {_state(victim)}"
            )
            now = _alive(parent.pid)
            assert len(now) == 3 and now & first == first - {victim}
            assert parent.poll() is None
            parent.send_signal(signal.SIGTERM)
            assert parent.wait(timeout=30) == 0
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()
    text = log.read_text()
    assert f"outbox worker {victim} died (signal SIGKILL); starting a replacement" in text
    assert all(_state(pid) is None for pid in now)


@pytest.mark.postgres
def test_workers_that_keep_dying_stop_the_parent_with_an_error_code(postgres_url, tmp_path):
    # Every worker is killed as soon as it is there (kill -9, as the OOM killer or a crash would):
    # the parent replaces them a few times, then gives up with exit code 1 for systemd to restart it.
    config = _config(tmp_path, postgres_url)
    env = {**os.environ, "VVA_CONFIG": str(config)}
    log = tmp_path / "outbox.log"
    killed: set[int] = set()
    with log.open("wb") as output:
        parent = subprocess.Popen(
            [sys.executable, "-m", "broker", "outbox", "run", "--workers", "2"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            end = time.monotonic() + 60
            while parent.poll() is None and time.monotonic() < end:
                for pid in _alive(parent.pid) - killed:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                time.sleep(0.05)
            assert parent.wait(timeout=30) == 1
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()
    text = log.read_text()
    # Replaced a few times (more deaths than workers), then given up.
    assert text.count("starting a replacement") == 5, text
    assert "workers died 6 times within 60 s: stopping, for the supervisor to restart" in text
    assert all(_state(pid) is None for pid in killed)
