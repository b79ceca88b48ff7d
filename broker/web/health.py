"""The health endpoint: ``GET /health`` on a web process, for load balancers, compose and monitoring.

Answers JSON ``{"status": "ok"|"warning"|"failing", "checks": {...}}`` with HTTP 200, or 503 on
``failing``. A node is in ``failing`` only when it cannot serve: the database does not answer, or the
trust store's CRLs are past nextUpdate + grace (every signed request would then get Server.DK0051, O6).
The outbox is a shared queue worked by separate processes: a backlog older than
``health_outbox_max_s`` or dead letters make a ``warning`` (for monitoring), never a 503 —
pulling every web node out of the load balancer would not deliver a single push.

Nothing in the answer identifies a pupil: counts, ages and times, and per receiver (by the OIN of the
party's registration, the endpoint's id — an organisation, never a pupil) its backlog and the age of its
oldest undelivered push, so one receiver that is down is seen at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from broker.db import models
from broker.db.models import BEZIG, DOOD, WACHTEND
from broker.edukoppeling.trust_store import TrustStore

OK, WARNING, FAILING = "ok", "warning", "failing"


def outbox_state(sessions: sessionmaker[Session], now: datetime | None = None) -> dict:
    """The outbox queue: ``{"per_status": {status: count}, "oldest_s": float}`` for the statuses
    wachtend, bezig and dood (delivered pushes are history, not backlog); ``oldest_s`` is the age in
    seconds of the oldest push still waiting or being delivered, 0 when there is none.
    Raises SQLAlchemy's ``OperationalError`` when the database does not answer."""
    now = now or datetime.now(UTC)
    table = models.OutboxMessage
    with sessions() as session:
        per_status = dict(
            session.execute(
                select(table.status, func.count())
                .where(table.status.in_((WACHTEND, BEZIG, DOOD)))
                .group_by(table.status)
            ).all()
        )
        oldest = session.scalar(select(func.min(table.created_at)).where(table.status.in_((WACHTEND, BEZIG))))
    return {
        "per_status": {s: per_status.get(s, 0) for s in (WACHTEND, BEZIG, DOOD)},
        "oldest_s": _age(now, oldest),
    }


def outbox_per_receiver(sessions: sessionmaker[Session], now: datetime | None = None) -> dict[str, dict]:
    """Per receiver (its OIN) with undelivered pushes: ``{"backlog": count of pushes waiting or being
    delivered, "oldest_s": age in seconds of the oldest of them}``. Receivers without backlog are left
    out. Raises SQLAlchemy's ``OperationalError`` when the database does not answer."""
    now = now or datetime.now(UTC)
    table = models.OutboxMessage
    with sessions() as session:
        rows = session.execute(
            select(table.receiver_oin, func.count(), func.min(table.created_at))
            .where(table.status.in_((WACHTEND, BEZIG)))
            .group_by(table.receiver_oin)
            .order_by(table.receiver_oin)
        ).all()
    return {oin: {"backlog": total, "oldest_s": _age(now, oldest)} for oin, total, oldest in rows}


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:  # SQLite gives naive UTC
        since = since.replace(tzinfo=UTC)
    return max((now - since).total_seconds(), 0.0)


def health(
    sessions: sessionmaker[Session],
    trust: Callable[[], TrustStore | None],
    outbox_max_s: float,
    now: datetime | None = None,
) -> tuple[int, bytes]:
    """Run the checks; return (HTTP status, JSON body). ``trust`` gives the trust store in use,
    or None when no service checks certificates (then there is nothing to be stale)."""
    now = now or datetime.now(UTC)
    checks = {
        "database": _database(sessions),
        "trust": _trust(trust, now),
        "outbox": _outbox(sessions, outbox_max_s, now),
    }
    states = {c["status"] for c in checks.values()}
    status = FAILING if FAILING in states else WARNING if WARNING in states else OK
    body = json.dumps({"status": status, "checks": checks}, indent=2, sort_keys=True) + "\n"
    return (503 if status == FAILING else 200), body.encode()


def _database(sessions: sessionmaker[Session]) -> dict:
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 — the type says enough; the text may quote the URL
        return {"status": FAILING, "detail": f"unreachable ({type(exc).__name__})"}
    return {"status": OK}


def _trust(trust: Callable[[], TrustStore | None], now: datetime) -> dict:
    try:
        store = trust()
        valid_until = store.crls_valid_until() if store is not None else None
    except Exception as exc:  # noqa: BLE001
        return {"status": FAILING, "detail": f"trust store unusable ({type(exc).__name__})"}
    if store is None:
        return {"status": OK, "detail": "no service checks certificates"}
    if valid_until is None:
        return {"status": FAILING, "detail": "no CRLs configured"}
    remaining = (valid_until - now).total_seconds()
    if remaining <= 0:
        return {
            "status": FAILING,
            "detail": "a CRL is past nextUpdate + grace",
            "crls_valid_until": valid_until.isoformat(),
        }
    return {"status": OK, "crls_valid_until": valid_until.isoformat(), "remaining_s": int(remaining)}


def _outbox(sessions: sessionmaker[Session], max_s: float, now: datetime) -> dict:
    try:
        state = outbox_state(sessions, now)
        per_receiver = outbox_per_receiver(sessions, now)
    except Exception as exc:  # noqa: BLE001 — the database check reports the cause
        return {"status": FAILING, "detail": f"outbox unreadable ({type(exc).__name__})"}
    too_old = state["oldest_s"] > max_s
    dead = state["per_status"][DOOD]
    status = WARNING if too_old or dead else OK
    detail = [
        *(["oldest waiting push older than the limit"] if too_old else []),
        *(["dead letters"] if dead else []),
    ]
    return {
        "status": status,
        **state,
        "per_receiver": per_receiver,
        **({"detail": ", ".join(detail)} if detail else {}),
    }
