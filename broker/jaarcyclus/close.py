"""Closing a cycle: keep the anonymous yearly figures, then delete all personal data of that cycle.

The brief: "all personal data are deleted every year at the end of the cycle; trends over the years
stay available" (AVG art. 5 lid 1 sub e, storage limitation). ``close`` does both in one transaction,
so either the figures are kept and the data are gone, or nothing happened. Every table of the schema
is classified below as holding personal data of a cycle or not; a test checks the classification
covers the whole SQLAlchemy metadata, so a new table cannot be forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from broker.audit.trail import CYCLUS_CLOSE, OPERATOR, AuditEvent, record_event
from broker.db import models
from broker.domain.cycle import Calendar
from broker.errors import BrokerError

#: Tables holding personal data of a cycle: deleted by ``close``, in this order (foreign keys first).
PERSOONSGEGEVENS = (
    "leerling_mutatie",
    "aanmelding_overgang",
    # The intake and onderwijsovereenkomst history (issue 16): deleted before ``aanmelding`` it refers to.
    "aanmelding_feit",
    "leerling",
    "aanmelding",
    "wijziging",
    "ontvangen_message_id",
    "bericht",
    "outbox_message",
    "signaal",
    "audit_leerling",
)
#: Tables without personal data of pupils: the registry, reference data, the cycle calendar, the
#: audit chain (OINs and counts only) and the anonymous yearly figures. They stay.
NO_PERSONAL_DATA = frozenset(
    {
        "partij",
        "partij_scope",
        "mandaat",
        "registry_version",
        "rmc_regio",
        "gemeente",
        "instelling",
        "vestiging",
        "refdata_file",
        "cyclus",
        "audit_record",
        "audit_head",
        "jaarcijfer",
        "wijziging_counter",
    }
)


class CyclusError(BrokerError):
    """The cycle cannot be opened or closed now; the text says why and what to do."""


@dataclass
class Closing:
    """What ``close`` did: yearly figure rows kept, rows deleted per table."""

    jaar: int
    jaarcijfers: int
    removed: dict[str, int] = field(default_factory=dict)


def close_cyclus(session: Session, calendar: Calendar, jaar: int, today: date, now: datetime) -> Closing:
    """Close cycle ``jaar`` in ``session``'s transaction: store its yearly figures, delete its personal data.

    Raises ``CyclusError`` when the cycle has not ended on ``today`` (its last day is 30 September),
    when it was closed before, or when it never held any data. The audit chain stays verifiable: only
    the pupils' pseudonyms and salts are removed from it (``broker.audit``).
    """
    from broker.rapportage.jaarcijfers import store_jaarcijfers

    cyclus = calendar.cyclus(jaar)
    C = models.Cyclus
    row = lock_cyclus(session, jaar)
    if row is not None and row.gesloten_op is not None:
        raise CyclusError(
            f"cycle {jaar} was closed on {row.gesloten_op:%Y-%m-%d}; it holds no personal data any more"
        )
    if today <= cyclus.end:
        raise CyclusError(
            f"cycle {jaar} runs until {cyclus.end}; close it after that day (its data are still in use)"
        )
    limit = (
        datetime.combine(cyclus.begin, time(0), UTC),
        datetime.combine(cyclus.end + timedelta(days=1), time(0), UTC),
    )
    if row is None:
        # No request of this cycle reached the service layer, but refused ones are in the message log.
        B = models.Bericht
        if session.scalar(select(B.id).where(B.tijdstip >= limit[0], B.tijdstip < limit[1]).limit(1)) is None:
            raise CyclusError(f"cycle {jaar} never held any data; nothing to close")
        row = C(jaar=jaar, deadline=cyclus.deadline)
        session.add(row)
    closing = Closing(jaar, store_jaarcijfers(session, jaar, calendar))
    for table in (t for t in PERSOONSGEGEVENS if t != "audit_leerling"):
        closing.removed[table] = session.execute(_remove(table, jaar, limit)).rowcount
    row.gesloten_op = now
    leerlingen = closing.removed["leerling"]
    # The audit record says when the purge really ran (``now`` may be the day it acts as of).
    record_event(
        session, AuditEvent(OPERATOR, CYCLUS_CLOSE, "verwerkt", cyclus_jaar=jaar, record_count=leerlingen)
    )
    # The audit pseudonyms last, under the chain head's lock taken just now: an audit record about this
    # cycle committed meanwhile is deleted too, and one appended later finds the cycle closed.
    closing.removed["audit_leerling"] = session.execute(_remove("audit_leerling", jaar, limit)).rowcount
    return closing


def lock_cyclus(session: Session, jaar: int) -> models.Cyclus | None:
    """The row of cycle ``jaar`` (None when it has none), locked until ``session``'s transaction ends.

    Write first, read second (as the audit chain's head does): whatever writes a cycle's data outside
    a request (``close``, ``vva signals run``) waits here for a close in progress, then reads the cycle
    as closed."""
    C = models.Cyclus
    session.execute(update(C).where(C.jaar == jaar).values(jaar=C.jaar))
    return session.get(C, jaar, populate_existing=True)


def _remove(table: str, jaar: int, limit: tuple[datetime, datetime]):
    L, A, S, B = models.Leerling, models.Aanmelding, models.Signaal, models.Bericht
    leerlingen = select(L.id).where(L.cyclus_jaar == jaar)
    aanmeldingen = select(A.id).where(A.cyclus_jaar == jaar)
    messages = select(B.id).where(B.tijdstip >= limit[0], B.tijdstip < limit[1])
    U = models.OutboxMessage
    pushes = or_(
        U.signaal_id.in_(select(S.id).where(S.cyclus_jaar == jaar)),
        and_(U.created_at >= limit[0], U.created_at < limit[1]),
    )
    # A push of this cycle may leave the broker after its last day (a retry): its attempts and the
    # receivers' answers are in the message log under the push's MessageID, whenever they happened.
    push_ids = select(U.message_id).where(pushes)
    commands = {
        "leerling_mutatie": delete(models.LeerlingMutatie).where(
            models.LeerlingMutatie.leerling_id.in_(leerlingen)
        ),
        "aanmelding_overgang": delete(models.AanmeldingOvergang).where(
            models.AanmeldingOvergang.aanmelding_id.in_(aanmeldingen)
        ),
        "aanmelding_feit": delete(models.AanmeldingFeit).where(
            models.AanmeldingFeit.aanmelding_id.in_(aanmeldingen)
        ),
        "leerling": delete(L).where(L.cyclus_jaar == jaar),
        "aanmelding": delete(A).where(A.cyclus_jaar == jaar),
        "wijziging": delete(models.Wijziging).where(models.Wijziging.cyclus_jaar == jaar),
        "outbox_message": delete(U).where(pushes),
        "signaal": delete(S).where(S.cyclus_jaar == jaar),
        "ontvangen_message_id": delete(models.OntvangenMessageId).where(
            models.OntvangenMessageId.antwoord_id.in_(messages)
        ),
        "bericht": delete(B).where(
            or_(
                and_(B.tijdstip >= limit[0], B.tijdstip < limit[1]),
                and_(B.dienst == "ontvanger", or_(B.message_id.in_(push_ids), B.relates_to.in_(push_ids))),
            )
        ),
        "audit_leerling": delete(models.AuditLeerling).where(models.AuditLeerling.cyclus_jaar == jaar),
    }
    return commands[table].execution_options(synchronize_session=False)


def open_cyclus(session: Session, calendar: Calendar, jaar: int, now: datetime) -> models.Cyclus:
    """Mark cycle ``jaar`` as opened (the caller loads its reference data in the same transaction).

    Raises ``CyclusError`` when it was opened or closed before.
    """
    cyclus = calendar.cyclus(jaar)
    row = session.get(models.Cyclus, jaar)
    if row is not None and row.gesloten_op is not None:
        raise CyclusError(f"cycle {jaar} was closed on {row.gesloten_op:%Y-%m-%d}; it cannot be opened again")
    if row is not None and row.geopend_op is not None:
        raise CyclusError(f"cycle {jaar} was opened on {row.geopend_op:%Y-%m-%d} already")
    if row is None:
        row = models.Cyclus(jaar=jaar, deadline=cyclus.deadline)
        session.add(row)
    row.geopend_op = now
    record_event(session, AuditEvent(OPERATOR, "vva cycle open", "verwerkt", cyclus_jaar=jaar), now)
    return row
