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
    _wacht_op,
    bsns,
    envelop,
    gunicorn_broker,
    installatie,
    leerlingen_xml,
    machine,
    post,
    postgres_schema,
    signer,
    vrije_poort,
)
from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import TEST_BROKER_OIN, load_settings
from broker.db import models

REGIO = "00000099000000000042"


def ontvanger(map: Path, pki: Path):
    """The reference receiver as the demo regional system (its own SQLite and key file)."""
    map.mkdir()
    config = map / "vva.toml"
    config.write_text(
        f'database_url = "sqlite:///{map / "o.sqlite3"}"\nkey_file = "{map / "k.json"}"\npki_dir = "{pki}"\n'
        f'broker_oins = ["{REGIO}"]\nsigning_key = "{pki / (REGIO + ".key.pem")}"\n'
        f'signing_certificate = "{pki / (REGIO + ".cert.pem")}"\nreceiver_senders = ["{TEST_BROKER_OIN}"]\n'
    )
    port = vrije_poort()
    proces = subprocess.Popen(
        [sys.executable, "-m", "broker", "--config", str(config), "receiver", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wacht_op(f"http://127.0.0.1:{port}/health", proces)
    return proces, f"http://127.0.0.1:{port}/vva/ontvanger/v1"


def meet(aantal: int, workers: int) -> tuple[float, float, int]:
    """(wall seconds, worker CPU seconds, deliveries) of one run with ``workers`` workers."""
    with tempfile.TemporaryDirectory() as temporary, postgres_schema() as database_url:
        map = Path(temporary)
        config = installatie(map, database_url)
        pki = map / "pki"
        proces, endpoint = ontvanger(map / "ontvanger", pki)
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
                leerlingen_xml(bsns(aantal, 200_000_000), "99XA"),
            )
            with gunicorn_broker(config, "--workers", "1") as broker:
                connection = http.client.HTTPConnection(
                    *broker.url.removeprefix("http://").split(":"), timeout=300
                )
                status, response = post(connection, "/vva/vo/v1", data)
                assert status == 200, response[:2000]
            runtime = Runtime(load_settings(config))
            with runtime.sessions() as session:
                wachtend = session.scalar(select(func.count()).select_from(models.UitgaandBericht))
            assert wachtend == aantal, wachtend
            voor = resource.getrusage(resource.RUSAGE_CHILDREN)
            begin = time.perf_counter()
            werker = subprocess.run(
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
            duur = time.perf_counter() - begin
            na = resource.getrusage(resource.RUSAGE_CHILDREN)
            assert werker.returncode == 0, werker.stderr[-2000:]
            # The worker command and the worker processes it waited for (the receiver is still running).
            cpu = (na.ru_utime - voor.ru_utime) + (na.ru_stime - voor.ru_stime)
            with runtime.sessions() as session:
                afgeleverd = session.scalar(
                    select(func.count())
                    .select_from(models.UitgaandBericht)
                    .where(models.UitgaandBericht.status == "afgeleverd")
                )
            runtime.close()
            return duur, cpu, afgeleverd
        finally:
            proces.terminate()
            proces.wait()


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for workers in args.workers:
        duur, cpu, afgeleverd = meet(args.n, workers)
        print(
            f"{workers} worker(s): {afgeleverd} of {args.n} pushes delivered in {duur:.1f} s = {afgeleverd / duur:.0f} "
            f"deliveries/s (worker CPU {cpu * 1000 / max(afgeleverd, 1):.1f} ms per delivery, incl. start-up; "
            "receiver on the same 2 cores)"
        )


if __name__ == "__main__":
    main_()
