"""Peak day: a national peak day replayed against the broker under gunicorn on PostgreSQL, from a generated
population — by default 150,000 pupils of 60 VO schools, then 60,000 status messages from 30 MBO
institutions (each its own signed SOAP message: half the pupils' registration, then their acceptance).

Set-up (timed and reported too): generated reference data (DUO file format) and party registry, a demo
certificate per party, then every school delivers its pupils in batches of at most 5,000. The replay:
--clients threads send the status messages, each signed just before it is sent (fresh Timestamp and
MessageID; the signing CPU is the client's, on the same machine). Reported: wall time, messages/s,
p50/p99 latency, the broker's CPU per message, and the peak RSS of every broker process.

Run: .venv/bin/python bench/peak_day.py [--pupils 150000] [--messages 60000] [--clients 16]
Needs PostgreSQL on 127.0.0.1:5432 (VVA_BENCH_POSTGRES_URL) and the bench extra (psutil).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import re
import string
import tempfile
import threading
import time
from datetime import date
from importlib import resources
from pathlib import Path

from click.testing import CliRunner

from bench._opstelling import (
    NS,
    LoadRun,
    bsns,
    envelop,
    gunicorn_broker,
    install,
    leerlingen_xml,
    machine,
    post,
    postgres_schema,
    signer,
)
from broker.cli import main
from broker.pki.demo import make_demo_pki


def brins(count: int, prefix: str) -> list[str]:
    """``aantal`` BRIN4 codes ``<2 digits><2 letters>`` outside the demo range (99X*)."""
    letters = ("".join(p) for p in itertools.product(string.ascii_uppercase, repeat=2))
    return [f"{prefix}{next(letters)}" for _ in range(count)]


def oin(brin: str) -> str:
    return f"00000007000{brin}00000"


def write_refdata(folder: Path, vo: list[str], mbo: list[str]) -> list[Path]:
    """DUO-format files (the demo files' first row, once per generated BRIN)."""
    demo = resources.files("broker.refdata") / "demo"
    out = []
    for file_name, codes, example in (
        ("vestigingen-vo-FICTIEF.csv", vo, b"99XA"),
        ("mbo-instellingen-FICTIEF.csv", mbo, b"99XB"),
    ):
        lines = demo.joinpath(file_name).read_bytes().splitlines()
        row = lines[1]
        path = folder / file_name
        path.write_bytes(
            b"\r\n".join([lines[0], *(row.replace(example, c.encode()) for c in codes)]) + b"\r\n"
        )
        out.append(path)
    return out


def write_partijen(folder: Path, vo: list[str], mbo: list[str]) -> Path:
    path = folder / "partijen.toml"
    path.write_text(
        "".join(
            f'[[partij]]\noin = "{oin(b)}"\nsoort = "{soort}"\nnaam = "{soort} {b} (FICTIEF)"\nbrins = ["{b}"]\n\n'
            for soort, codes in (("vo-school", vo), ("mbo-instelling", mbo))
            for b in codes
        )
    )
    return path


def statusbericht(volgnummer: int, bsn: str, brin: str, status: str) -> str:
    return (
        f'<v:aanleverenAanmeldingen xmlns:v="{NS}"><v:aanmelding><v:volgnummer>{volgnummer}</v:volgnummer>'
        f"<v:bsn>{bsn}</v:bsn><v:brinMbo>{brin}</v:brinMbo><v:status>{status}</v:status>"
        f"<v:datum>{date.today().isoformat()}</v:datum><v:crebo>25180</v:crebo></v:aanmelding></v:aanleverenAanmeldingen>"
    )


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=150_000)
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--schools", type=int, default=60)
    parser.add_argument("--institutions", type=int, default=30)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    vo, mbo = brins(args.schools, "97"), brins(args.institutions, "96")
    with tempfile.TemporaryDirectory() as temporary, postgres_schema() as database_url:
        folder = Path(temporary)
        begin = time.perf_counter()
        config = install(folder, database_url)
        cli = CliRunner()
        for command in (
            ["refdata", "load", *[str(p) for p in write_refdata(folder, vo, mbo)]],
            ["party", "load", str(write_partijen(folder, vo, mbo))],
        ):
            verdict = cli.invoke(main, ["--config", str(config), *command])
            assert verdict.exit_code == 0, verdict.output
        pki = folder / "pki"
        make_demo_pki(pki, [(oin(b), b) for b in vo + mbo])
        signers = {b: signer(pki, oin(b)) for b in vo + mbo}
        print(
            f"set-up: {len(vo)} schools, {len(mbo)} institutions, certificates in {time.perf_counter() - begin:.0f} s",
            flush=True,
        )
        numbers = bsns(args.pupils)
        with gunicorn_broker(config) as broker:
            host, port = broker.url.removeprefix("http://").split(":")
            # The population: each school's pupils in batches of at most 5,000, two schools at a time.
            begin = time.perf_counter()
            per_school = -(-len(numbers) // len(vo))
            batches = []
            for i, brin in enumerate(vo):
                own = numbers[i * per_school : (i + 1) * per_school]
                batches += [(brin, own[j : j + 5000]) for j in range(0, len(own), 5000)]
            row = iter(batches)
            lock = threading.Lock()

            def school() -> None:
                connection = http.client.HTTPConnection(host, int(port), timeout=600)
                while True:
                    with lock:
                        item = next(row, None)
                    if item is None:
                        return
                    brin, part = item
                    data = envelop(
                        signers[brin], oin(brin), "vo", "aanleverenLeerlingen", leerlingen_xml(part, brin)
                    )
                    status, response = post(connection, "/vva/vo/v1", data)
                    assert status == 200 and re.search(rb"aantalAfgewezen>0<", response), response[:1500]

            threads = [threading.Thread(target=school) for _ in range(2)]
            for d in threads:
                d.start()
            for d in threads:
                d.join()
            print(
                f"population: {len(numbers)} pupils in {len(batches)} batches, {time.perf_counter() - begin:.0f} s",
                flush=True,
            )

            # The peak: registrations, then acceptances, each its own signed message.
            half = args.messages // 2
            messages = [(i, "aangemeld") for i in range(half)] + [
                (i, "geaccepteerd") for i in range(args.messages - half)
            ]
            verdict, counter = LoadRun(), itertools.count()
            step = max(len(numbers) // max(half, 1), 1)  # registered pupils spread over all schools
            row2 = iter(messages)
            cpu_before = broker.cpu_s()
            begin = time.perf_counter()

            def instelling() -> None:
                connection = http.client.HTTPConnection(host, int(port), timeout=120)
                while True:
                    with lock:
                        item = next(row2, None)
                    if item is None:
                        return
                    i, status_ = item
                    brin = mbo[i % len(mbo)]
                    leerling = numbers[(i * step) % len(numbers)]
                    message = statusbericht(1, leerling, brin, status_)
                    data = envelop(signers[brin], oin(brin), "mbo", "aanleverenAanmeldingen", message)
                    start = time.perf_counter()
                    status, response = post(connection, "/vva/mbo/v1", data)
                    duration = time.perf_counter() - start
                    with lock:
                        verdict.latencies.append(duration)
                        verdict.statuses[status] = verdict.statuses.get(status, 0) + 1
                        if (status != 200 or b"aantalAfgewezen>0<" not in response) and len(
                            verdict.errors
                        ) < 3:
                            verdict.errors.append(response[:1500])
                        n = next(counter) + 1
                    if n % 5000 == 0:
                        elapsed = time.perf_counter() - begin
                        print(f"  {n} messages, {elapsed:.0f} s, {n / elapsed:.1f}/s", flush=True)

            threads = [threading.Thread(target=instelling) for _ in range(args.clients)]
            for d in threads:
                d.start()
            for d in threads:
                d.join()
            verdict.wall_s = time.perf_counter() - begin
            cpu = broker.cpu_s() - cpu_before
            rss = broker.peak_rss_mb()
    n = len(verdict.latencies)
    print(f"peak day: {n} status messages from {len(mbo)} institutions, {args.clients} clients")
    print(f"  wall time        {verdict.wall_s:8.0f} s ({verdict.wall_s / 60:.1f} min)")
    print(f"  messages/s       {n / verdict.wall_s:8.1f}")
    print(f"  latency p50/p99  {verdict.percentile(50) * 1000:8.0f} / {verdict.percentile(99) * 1000:.0f} ms")
    print(f"  broker CPU/msg   {cpu * 1000 / n:8.1f} ms")
    print(f"  statuses         {verdict.statuses}; first problems: {[f[:300] for f in verdict.errors]}")
    print(f"  peak RSS         {', '.join(f'{k} {v:.0f} MiB' for k, v in rss.items())}")


if __name__ == "__main__":
    main_()
