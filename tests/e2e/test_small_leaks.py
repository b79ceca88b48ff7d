"""Small leaks of a running installation: temporary files, a metrics folder that is not there yet,
message-log rows of requests that were killed mid-flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import load_settings
from broker.db import models
from broker.db.message_log import log_received
from tests.helpers import broker_process, free_port, write_config


def _init(tmp_path, database_url):
    config = write_config(tmp_path, database_url, profile="2W-be-S")
    result = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert result.exit_code == 0, result.output
    return config


def test_outbox_leaves_no_ca_bundle_in_tmp(database_url, tmp_path):
    config = _init(tmp_path, database_url)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "VVA_CONFIG": str(config), "TMPDIR": str(tmp)}
    command = [sys.executable, "-m", "broker", "outbox", "run", "--workers", "2"]
    # Until empty: the workers end by themselves.
    subprocess.run([*command, "--until-empty"], env=env, check=True, timeout=60)
    assert list(tmp.glob("vva-ca-*.pem")) == []
    # Stopped by systemd (SIGTERM) while running.
    process = subprocess.Popen(command, env=env)
    for _ in range(200):
        if list(tmp.glob("vva-ca-*.pem")):
            break
        time.sleep(0.05)
    assert list(tmp.glob("vva-ca-*.pem")), "the workers did not start"
    time.sleep(0.5)  # every worker has its bundle
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert list(tmp.glob("vva-ca-*.pem")) == []


def test_receiver_serve_creates_a_missing_metrics_dir(database_url, tmp_path):
    config = _init(tmp_path, database_url)
    metrics = tmp_path / "bestaat-niet" / "metriek"
    port = free_port()
    env = {**os.environ, "VVA_CONFIG": str(config), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    log = (tmp_path / "ontvanger.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "broker", "receiver", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(150):
            assert process.poll() is None, (tmp_path / "ontvanger.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as response:
                    assert response.status == 200 and b"vva_verification_seconds" in response.read()
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the receiver did not serve /metrics")
        assert metrics.is_dir()
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_requests_that_died_halfway_are_marked_aborted(database_url, tmp_path):
    config = _init(tmp_path, database_url)
    runtime = Runtime(load_settings(config))
    now = datetime.now(UTC)
    # Rows written before the business effect, whose process was killed before the outcome: one of a
    # request long gone, one of a request another node may still be running.
    old = log_received(runtime.sessions, b"<oud/>", "vo", runtime.keyring, now - timedelta(hours=1))
    fresh = log_received(runtime.sessions, b"<vers/>", "vo", runtime.keyring, now)
    runtime.close()
    with broker_process(config):
        pass
    with runtime.sessions() as session:
        uitkomst = dict(
            session.execute(
                select(models.Bericht.id, models.Bericht.uitkomst).where(models.Bericht.id.in_((old, fresh)))
            ).all()
        )
    runtime.close()
    assert uitkomst == {old: "afgebroken", fresh: "ontvangen"}
