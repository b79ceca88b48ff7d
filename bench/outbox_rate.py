"""Outbox rate: deliveries per second from the outbox to the reference receiver on 127.0.0.1, with 1 and
with 4 workers (``vva outbox run --workers N --until-empty``), the broker on PostgreSQL.

For each worker count: a fresh broker schema with the demo data, the demo regional system (RMC region 21)
registered with the reference receiver's endpoint, N pupils of school 99XA delivered in one signed batch
(so N pushes are queued in that transaction), then the worker command is timed until the queue is
empty. Every delivery is a signed request through the receiver's full inbound gate and message log, and
a signed answer that the worker verifies before it marks the push delivered.

Run: .venv/bin/python bench/outbox_rate.py [--n 400] [--workers 1 4]
Needs PostgreSQL on 127.0.0.1:5432 (VVA_BENCH_POSTGRES_URL) and the bench extra (psutil).
"""

from __future__ import annotations

import argparse
import http.client
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from bench._opstelling import (
    SCHOOL_A,
    _wait_for,
    bsns,
    envelop,
    gunicorn_broker,
    install,
    leerlingen_xml,
    machine,
    post,
    postgres_schema,
    signer,
    unused_port,
)
from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import TEST_BROKER_OIN, load_settings
from broker.db import models

REGIO = "00000099000000000042"


def receiver(folder: Path, pki: Path):
    """The reference receiver as the demo regional system (its own SQLite and key file)."""
    folder.mkdir()
    config = folder / "vva.toml"
    config.write_text(
        f'database_url = "sqlite:///{folder / "o.sqlite3"}"\nkey_file = "{folder / "k.json"}"\npki_dir = "{pki}"\n'
        f'broker_oins = ["{REGIO}"]\nsigning_key = "{pki / (REGIO + ".key.pem")}"\n'
        f'signing_certificate = "{pki / (REGIO + ".cert.pem")}"\nreceiver_senders = ["{TEST_BROKER_OIN}"]\n'
    )
    port = unused_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "broker", "--config", str(config), "receiver", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(f"http://127.0.0.1:{port}/health", process)
    return process, f"http://127.0.0.1:{port}/vva/ontvanger/v1"


def measure(count: int, workers: int) -> tuple[float, float, int]:
    """(wall seconds, worker CPU seconds, deliveries) of one run with ``workers`` workers."""
    with tempfile.TemporaryDirectory() as temporary, postgres_schema() as database_url:
        folder = Path(temporary)
        config = install(folder, database_url)
        pki = folder / "pki"
        process, endpoint = receiver(folder / "ontvanger", pki)
        try:
            verdict = CliRunner().invoke(
                main,
                [
                    "--config",
                    str(config),
                    "party",
                    "add",
                    "--oin",
                    REGIO,
                    "--kind",
                    "regionaal-systeem",
                    "--name",
                    "R",
                    "--rmc",
                    "21",
                    "--brin",
                    "99XB",
                    "--endpoint",
                    endpoint,
                    "--replace",
                ],
            )
            assert verdict.exit_code == 0, verdict.output
            request_signer = signer(pki, SCHOOL_A)
            data = envelop(
                request_signer,
                SCHOOL_A,
                "vo",
                "aanleverenLeerlingen",
                leerlingen_xml(bsns(count, 200_000_000), "99XA"),
            )
            with gunicorn_broker(config, "--workers", "1") as broker:
                connection = http.client.HTTPConnection(
                    *broker.url.removeprefix("http://").split(":"), timeout=300
                )
                status, response = post(connection, "/vva/vo/v1", data)
                assert status == 200, response[:2000]
            runtime = Runtime(load_settings(config))
            with runtime.sessions() as session:
                pending = session.scalar(select(func.count()).select_from(models.OutboxMessage))
            assert pending == count, pending
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            begin = time.perf_counter()
            worker = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "broker",
                    "--config",
                    str(config),
                    "outbox",
                    "run",
                    "--workers",
                    str(workers),
                    "--until-empty",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                check=False,
            )
            duration = time.perf_counter() - begin
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            assert worker.returncode == 0, worker.stderr[-2000:]
            # The worker command and the worker processes it waited for (the receiver is still running).
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            with runtime.sessions() as session:
                delivered = session.scalar(
                    select(func.count())
                    .select_from(models.OutboxMessage)
                    .where(models.OutboxMessage.status == "afgeleverd")
                )
            runtime.close()
            return duration, cpu, delivered
        finally:
            process.terminate()
            process.wait()


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for workers in args.workers:
        duration, cpu, delivered = measure(args.n, workers)
        print(
            f"{workers} worker(s): {delivered} of {args.n} pushes delivered in {duration:.1f} s = {delivered / duration:.0f} "
            f"deliveries/s (worker CPU {cpu * 1000 / max(delivered, 1):.1f} ms per delivery, incl. start-up; "
            "receiver on the same 2 cores)"
        )


if __name__ == "__main__":
    main_()
