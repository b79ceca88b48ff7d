"""Where one signed request's time goes: the broker in-process on PostgreSQL, no HTTP, one thread.

For each kind of request (a signed ping to the VO service; a signed status message of one pupil from an
MBO institution, the peak day's message) it prints the CPU and wall milliseconds per request, the SQL
statements, commits and connection checkouts per request, and the functions that take the most time
(cProfile, process time, cumulative), so a change to the request path can be weighed before and after
on the same machine. The requests are signed in advance (fresh Timestamps: run well within 5 minutes).

Run: .venv/bin/python -m bench.request_profile [--n 300] [--top 25]
Needs PostgreSQL on 127.0.0.1:5432 (VVA_BENCH_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import event

from bench._opstelling import (
    NS,
    bsns,
    envelop,
    install,
    leerlingen_xml,
    machine,
    postgres_schema,
    signer,
    wsgi_post,
)
from broker.bootstrap import Runtime
from broker.config import load_settings
from broker.web.app import Broker

SCHOOL, INSTELLING = "0000000700099XA00000", "0000000700099XB00000"


def statusbericht(bsn: str) -> str:
    return (
        f'<v:aanleverenAanmeldingen xmlns:v="{NS}"><v:aanmelding><v:volgnummer>1</v:volgnummer>'
        f"<v:bsn>{bsn}</v:bsn><v:brinMbo>99XB</v:brinMbo><v:status>aangemeld</v:status>"
        f"<v:datum>{date.today().isoformat()}</v:datum>"
        f"<v:crebo>25180</v:crebo></v:aanmelding></v:aanleverenAanmeldingen>"
    )


class StatementCounter:
    """Counts the statements, commits and connection checkouts of an engine."""

    def __init__(self, engine) -> None:
        self.counts: Counter[str] = Counter()
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", lambda *_: self.counts.update(["commits"]))
        event.listen(engine.pool, "checkout", lambda *_: self.counts.update(["checkouts"]))

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.counts["statements"] += 1
        self.counts[statement.split(None, 1)[0].upper()] += 1


def measure(
    name: str, app: Broker, path: str, messages: list[bytes], counter: StatementCounter, top: int, sort_order: str
) -> None:
    for data in messages[:5]:  # warm up: imports, caches, the first connections
        wsgi_post(app, path, data)
    # First without the profiler (its own cost is of the order of the request's), then with it.
    half = (len(messages) - 5) // 2
    without, profiled = messages[5 : 5 + half], messages[5 + half :]
    counter.counts.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    for data in without:
        wsgi_post(app, path, data)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = len(without)
    print(f"\n{name}: {n} requests, {cpu * 1000 / n:.2f} ms CPU and {wall * 1000 / n:.2f} ms wall each")
    print("  per request: " + ", ".join(f"{k} {v / n:.1f}" for k, v in sorted(counter.counts.items())))
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for data in profiled:
        wsgi_post(app, path, data)
    profile.disable()
    print(f"  profile of {len(profiled)} more (cumulative process time, with the profiler's own cost):")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(sort_order).print_stats(
        r"broker|sqlalchemy/orm/session|xmlsec|spyne/server" if sort_order == "cumulative" else "", top
    )
    print(
        "\n".join("  " + r for r in out.getvalue().splitlines() if r.strip()[:1].isdigit() or "ncalls" in r)
    )


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative or tottime")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as temporary, postgres_schema() as database_url:
        folder = Path(temporary)
        config = install(folder, database_url)
        app = Broker(Runtime(load_settings(config)))
        counter = StatementCounter(app.runtime.engine)
        school, instelling = signer(folder / "pki", SCHOOL), signer(folder / "pki", INSTELLING)
        numbers = bsns(args.n + 5)
        wsgi_post(
            app,
            "/vva/vo/v1",
            envelop(school, SCHOOL, "vo", "aanleverenLeerlingen", leerlingen_xml(numbers, "99XA")),
        )
        pings = [
            envelop(school, SCHOOL, "vo", "ping", f'<v:ping xmlns:v="{NS}"/>') for _ in range(args.n + 5)
        ]
        statuses = [
            envelop(instelling, INSTELLING, "mbo", "aanleverenAanmeldingen", statusbericht(n))
            for n in numbers
        ]
        measure("signed ping (VO service)", app, "/vva/vo/v1", pings, counter, args.top, args.sort)
        measure(
            "signed status message, one pupil (MBO service)",
            app,
            "/vva/mbo/v1",
            statuses,
            counter,
            args.top,
            args.sort,
        )


if __name__ == "__main__":
    main_()
