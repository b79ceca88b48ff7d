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

    sequence_number: int
    recorded_at: str
    cyclus_jaar: int | None
    source: str
    partij_oin: str | None
    certificate: str | None
    operation: str
    message_id: str | None
    record_count: int
    outcome: str
    leerlingen: int | None
    hash: str


FIELDS = list(ExportedRecord.__dataclass_fields__)


def records(session: Session, since: str | None = None, until: str | None = None) -> Iterator[ExportedRecord]:
    """Records with ``van`` <= recorded_at < ``tot`` (ISO 8601 UTC text prefixes, e.g. "2027-03-01"), oldest
    first, read in pieces of 5,000."""
    R = models.AuditRecord
    after = 0
    while True:
        query = select(R).where(R.sequence_number > after).order_by(R.sequence_number).limit(_BATCH)
        if since:
            query = query.where(R.recorded_at >= since)
        if until:
            query = query.where(R.recorded_at < until)
        chunk = session.scalars(query).all()
        if not chunk:
            return
        yield from _as_lines(session, chunk)
        after = chunk[-1].sequence_number


def _as_lines(session: Session, chunk: list[models.AuditRecord]) -> list[ExportedRecord]:
    L = models.AuditLeerling
    counts = dict(
        session.execute(
            select(L.sequence_number, func.count())
            .where(L.sequence_number.in_([r.sequence_number for r in chunk]))
            .group_by(L.sequence_number)
        ).all()
    )
    return [
        ExportedRecord(
            r.sequence_number,
            r.recorded_at,
            r.cyclus_jaar,
            r.source,
            r.partij_oin,
            r.certificate,
            r.operation,
            r.message_id,
            r.record_count,
            r.outcome,
            counts.get(r.sequence_number, None if r.subjects_digest else 0),
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
    R, L = models.AuditRecord, models.AuditLeerling
    chunk = session.scalars(
        select(R)
        .join(L, L.sequence_number == R.sequence_number)
        .where(L.sleutel_hash == pseudonym, L.cyclus_jaar == cyclus_jaar)
        .order_by(R.sequence_number)
    ).all()
    return _as_lines(session, list(chunk))
