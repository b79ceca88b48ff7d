"""Reading the audit trail: an export for a period, and every operation about one pupil (inzageverzoek).

AVG art. 15 (right of access: to whom were the data disclosed) and art. 30; the export is what a
privacy officer or the Autoriteit Persoonsgegevens asks for. Neither output holds a pupil number: the
export gives per record how many pupils it touched, the per-pupil listing is asked by number and
answered with the operations only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.db import models

_BATCH = 5_000


@dataclass(frozen=True)
class ExportedRecord:
    """One audit record as exported: the stored fields and ``leerlingen``, the number of pupils
    touched (None once the cycle's pseudonyms were purged)."""

    volgnummer: int
    tijdstip: str
    cyclus_jaar: int | None
    bron: str
    partij_oin: str | None
    certificaat: str | None
    operatie: str
    message_id: str | None
    aantal: int
    uitkomst: str
    leerlingen: int | None
    hash: str


FIELDS = list(ExportedRecord.__dataclass_fields__)


def records(session: Session, since: str | None = None, until: str | None = None) -> Iterator[ExportedRecord]:
    """Records with ``van`` <= tijdstip < ``tot`` (ISO 8601 UTC text prefixes, e.g. "2027-03-01"), oldest
    first, read in pieces of 5,000."""
    R = models.AuditRegel
    after = 0
    while True:
        query = select(R).where(R.volgnummer > after).order_by(R.volgnummer).limit(_BATCH)
        if since:
            query = query.where(R.tijdstip >= since)
        if until:
            query = query.where(R.tijdstip < until)
        chunk = session.scalars(query).all()
        if not chunk:
            return
        yield from _as_lines(session, chunk)
        after = chunk[-1].volgnummer


def _as_lines(session: Session, chunk: list[models.AuditRegel]) -> list[ExportedRecord]:
    L = models.AuditLeerling
    counts = dict(
        session.execute(
            select(L.volgnummer, func.count())
            .where(L.volgnummer.in_([r.volgnummer for r in chunk]))
            .group_by(L.volgnummer)
        ).all()
    )
    return [
        ExportedRecord(
            r.volgnummer,
            r.tijdstip,
            r.cyclus_jaar,
            r.bron,
            r.partij_oin,
            r.certificaat,
            r.operatie,
            r.message_id,
            r.aantal,
            r.uitkomst,
            counts.get(r.volgnummer, None if r.betrokkenen_digest else 0),
            r.hash,
        )
        for r in chunk
    ]


def write(records: Iterator[ExportedRecord], output_format: str, out: io.TextIOBase) -> int:
    """Write ``records`` to ``out`` as "csv" (a header row, then one row per record, comma-separated)
    or "jsonl" (one JSON object a line); returns how many were written. ``ValueError`` for another format."""
    if output_format not in ("csv", "jsonl"):
        raise ValueError(f"format must be csv or jsonl, not {output_format!r}")
    writer = csv.DictWriter(out, fieldnames=FIELDS) if output_format == "csv" else None
    if writer:
        writer.writeheader()
    count = 0
    for record in records:
        if writer:
            writer.writerow(asdict(record))
        else:
            out.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
        count += 1
    return count


def over_leerling(session: Session, pseudonym: str, cyclus_jaar: int) -> list[ExportedRecord]:
    """Every record of cycle ``cyclus_jaar`` that touched the pupil with ``pseudonym``, oldest first."""
    R, L = models.AuditRegel, models.AuditLeerling
    chunk = session.scalars(
        select(R)
        .join(L, L.volgnummer == R.volgnummer)
        .where(L.sleutel_hash == pseudonym, L.cyclus_jaar == cyclus_jaar)
        .order_by(R.volgnummer)
    ).all()
    return _as_lines(session, list(chunk))
