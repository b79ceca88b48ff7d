"""Bulk delivery: a VO school delivers its whole start population (5,000 pupils) in one signed batch to
the broker under gunicorn on PostgreSQL; the time until the signed answer and the memory it took.

The same school then delivers the same 5,000 again as changes (``wijzigen``), the other heavy case.
Reported per batch: wall time seen by the client, pupils/s, accepted records, and the peak RSS
(VmHWM) of the worker process that handled it, next to its RSS before the batch.

Run: .venv/bin/python bench/bulk_delivery.py [--pupils 5000]
Needs PostgreSQL on 127.0.0.1:5432 (VVA_BENCH_POSTGRES_URL) and the bench extra (psutil).
"""

from __future__ import annotations

import argparse
import http.client
import re
import tempfile
import time
from pathlib import Path

from bench._opstelling import (
    SCHOOL_A,
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


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=5000)
    count = parser.parse_args().pupils
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as temporary, postgres_schema() as database_url:
        folder = Path(temporary)
        config = install(folder, database_url)
        request_signer = signer(folder / "pki", SCHOOL_A)
        numbers = bsns(count)
        # One worker: the figures are those of the process that handles the batch.
        with gunicorn_broker(config, "--workers", "1") as broker:
            for mutatie in ("toevoegen", "wijzigen"):
                body = leerlingen_xml(numbers, "99XA").replace("toevoegen", mutatie)
                data = envelop(request_signer, SCHOOL_A, "vo", "aanleverenLeerlingen", body)
                rss_before = {
                    name: p.memory_info().rss / 2**20
                    for name, p in zip(("master", "worker"), broker.processes(), strict=False)
                }
                connection = http.client.HTTPConnection(
                    *broker.url.removeprefix("http://").split(":"), timeout=300
                )
                begin = time.perf_counter()
                status, response = post(connection, "/vva/vo/v1", data)
                duration = time.perf_counter() - begin
                assert status == 200, response[:2000]
                processed = int(re.search(rb"aantalVerwerkt>(\d+)<", response).group(1))
                peak = broker.peak_rss_mb()
                worker_peak = next(v for k, v in peak.items() if k.startswith("worker"))
                print(
                    f"{count} pupils ({mutatie}, {len(data) / 2**20:.1f} MiB signed request): {duration:.2f} s, "
                    f"{count / duration:.0f} pupils/s, {processed} accepted; worker RSS {rss_before['worker']:.0f} MiB "
                    f"before, peak {worker_peak:.0f} MiB"
                )


if __name__ == "__main__":
    main_()
