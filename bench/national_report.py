"""Time to produce the national report of a synthetic national cycle on PostgreSQL (issue 7).

Builds, in a fresh PostgreSQL schema (dropped afterwards), a cycle of 2027 with --leerlingen pupils
delivered by 600 VO schools in 40 RMC regions and registered at 70 MBO institutions, with
--overgangen status changes in total (aanmelding_overgang rows), loaded with COPY; then times

- the national report (``make_rapport`` landelijk with every region, and the HTML with its charts),
- the yearly aggregates of every level (``compute_jaarcijfers``, what ``vva cycle close`` stores).

Run: .venv/bin/python bench/national_report.py [--leerlingen 150000] [--overgangen 400000]
     [--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--html landelijk.html]
Prints the row counts and wall-clock seconds per step.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import string
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from broker.db.engine import make_engine, make_session_factory
from broker.db.migrate import upgrade
from broker.domain.cycle import Calendar
from broker.rapportage.cijfers import Level
from broker.rapportage.jaarcijfers import compute_jaarcijfers
from broker.rapportage.output import write
from broker.rapportage.rapport import make_rapport

YEAR = 2027
BEGIN = date(2026, 10, 1)
END = date(2027, 9, 30)


def brins(count: int, first: int) -> list[str]:
    letters = [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase]
    return [f"{(first + i // len(letters)) % 100:02d}{letters[i % len(letters)]}" for i in range(count)]


def day(low: date, high: date, rnd: random.Random) -> date:
    return low + timedelta(days=rnd.randint(0, (high - low).days))


def generate(leerlingen: int, overgangen: int, seed: int = 7):
    """Rows for instelling, leerling, leerling_mutatie, aanmelding, aanmelding_overgang."""
    rnd = random.Random(seed)
    vo, mbo = brins(600, 10), brins(70, 60)
    instellingen = [
        (YEAR, b, "vo", "vo", f"VO-school {b} (FICTIEF)", str(1 + i % 40), YEAR) for i, b in enumerate(vo)
    ]
    instellingen += [
        (YEAR, b, "mbo", "mbo", f"MBO-instelling {b} (FICTIEF)", str(1 + i % 40), YEAR)
        for i, b in enumerate(mbo)
    ]
    leerling_rows, mutaties, aanmeldingen, statuses = [], [], [], []
    # Transitions per registration are drawn so that the total lands on ``overgangen``.
    per_aanmelding = overgangen / (leerlingen * 1.035)
    for leerling_id in range(1, leerlingen + 1):
        sleutel = hashlib.sha256(f"{seed}-{leerling_id}".encode()).hexdigest()
        delivered = datetime.combine(day(BEGIN, date(2027, 1, 31), rnd), datetime.min.time(), UTC)
        leerling_rows.append((leerling_id, YEAR, sleutel, b"x", rnd.choice(vo), "actief", delivered, delivered))
        mutaties.append((leerling_id, "toevoegen", "actief", None, delivered))
        if rnd.random() < 0.04:
            leerling_rows[-1] = leerling_rows[-1][:5] + ("afgemeld",) + leerling_rows[-1][6:]
            mutaties.append((leerling_id, "afmelden", "afgemeld", "gaatNaarHavoVwo", delivered + timedelta(days=30)))
        if rnd.random() < 0.04:
            continue  # registers nowhere
        for instelling in rnd.sample(mbo, 2 if rnd.random() < 0.08 else 1):
            aid = len(aanmeldingen) + 1
            begin = (
                day(date(2026, 11, 1), date(2027, 3, 31), rnd)
                if rnd.random() < 0.85
                else day(date(2027, 4, 2), date(2027, 6, 30), rnd)
            )
            sequence = ["aangemeld"]
            length = max(1, min(4, round(rnd.gauss(per_aanmelding, 0.8))))
            for next_status in ("geaccepteerd", "ingeschreven"):
                if len(sequence) < length:
                    sequence.append(next_status)
            if len(sequence) < length:
                sequence.append("ingetrokken")
            datum, van = begin, None
            for naar in sequence:
                statuses.append((aid, van, naar, datum, datetime.combine(datum, datetime.min.time(), UTC)))
                van, datum = naar, min(datum + timedelta(days=rnd.randint(3, 60)), END)
            aanmeldingen.append(
                (
                    aid,
                    YEAR,
                    sleutel,
                    b"x",
                    instelling,
                    f"{25000 + rnd.randint(0, 300)}",
                    van,
                    datum,
                    datetime.now(UTC),
                    datetime.now(UTC),
                )
            )
    return instellingen, leerling_rows, mutaties, aanmeldingen, statuses


def load(url: str, rows) -> None:
    instellingen, leerlingen, mutaties, aanmeldingen, statuses = rows
    engine = create_engine(url)
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        for table, columns, data in (
            (
                "instelling",
                "cyclus_jaar, brin, sector, onderwijssoort, naam, rmc_regio, geldig_vanaf_cyclus",
                instellingen,
            ),
            (
                "leerling",
                "id, cyclus_jaar, sleutel_hash, nummer_versleuteld, brin_vo, status, aangeleverd_op, gewijzigd_op",
                leerlingen,
            ),
            ("leerling_mutatie", "leerling_id, mutatie, status, afmeldreden, vastgelegd_op", mutaties),
            (
                "aanmelding",
                "id, cyclus_jaar, sleutel_hash, nummer_versleuteld, brin_mbo, crebo, status, status_datum, aangemaakt_op, gewijzigd_op",
                aanmeldingen,
            ),
            ("aanmelding_overgang", "aanmelding_id, van, naar, datum, vastgelegd_op", statuses),
        ):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        connection.execute(
            text("INSERT INTO cyclus (jaar, deadline) VALUES (:j, :d)"), {"j": YEAR, "d": date(YEAR, 4, 1)}
        )
        connection.execute(text("ANALYZE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leerlingen", type=int, default=150_000)
    parser.add_argument("--overgangen", type=int, default=400_000)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--html", type=Path, help="Keep the national report here (to look at it).")
    args = parser.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.url}?options=-csearch_path%3D{schema}"
    try:
        engine = make_engine(url)
        upgrade(engine)
        begin = time.perf_counter()
        rows = generate(args.leerlingen, args.overgangen)
        load(url, rows)
        print(
            f"data: {len(rows[1]):,} pupils, {len(rows[2]):,} pupil mutations, {len(rows[3]):,} registrations, "
            f"{len(rows[4]):,} status changes; generated and loaded in {time.perf_counter() - begin:.1f} s"
        )
        sessions = make_session_factory(engine)
        with sessions() as session, tempfile.TemporaryDirectory() as folder:
            begin = time.perf_counter()
            rapport = make_rapport(session, Calendar(), Level.LANDELIJK, YEAR, "", date(2027, 6, 15))
            figures = time.perf_counter() - begin
            write(rapport, "html", args.html or Path(folder) / "landelijk.html")
            total = time.perf_counter() - begin
            print(
                f"national report (landelijk + 40 regions + trend): figures {figures:.1f} s, "
                f"with HTML and charts {total:.1f} s; {len(rapport.cijfers):,} figures"
            )
            begin = time.perf_counter()
            jaarcijfers = compute_jaarcijfers(session, YEAR, Calendar())
            print(
                f"yearly aggregates, every level: {len(jaarcijfers):,} rows in {time.perf_counter() - begin:.1f} s"
            )
        engine.dispose()
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin_engine.dispose()


if __name__ == "__main__":
    main()
