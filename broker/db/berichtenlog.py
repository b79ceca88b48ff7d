"""The message log: every inbound and outbound message, raw, with its addressing and outcome.

The inbound row is written and committed in its own transaction *before* the message can have any
business effect, so a message is never lost, whatever happens next (design.md **must**).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from broker.db.models import Bericht


@dataclass(frozen=True)
class Kop:
    """The addressing of one message, as far as it could be read."""

    dienst: str | None = None
    action: str | None = None
    afzender_oin: str | None = None
    ontvanger_oin: str | None = None
    certificaat_oin: str | None = None
    message_id: str | None = None
    relates_to: str | None = None


def _past(waarde: str | None, kolom) -> str | None:
    # Values come from the sender: never let one overflow its column (PostgreSQL refuses, SQLite
    # would not), so that the same input gets the same answer on every database.
    lengte = kolom.type.length
    return waarde if waarde is None or len(waarde) <= lengte else waarde[: lengte - 1] + "…"


def _vul(bericht: Bericht, kop: Kop) -> None:
    for veld, waarde in vars(kop).items():
        setattr(bericht, veld, _past(waarde, getattr(Bericht, veld)))


def log_ontvangen(sessions: sessionmaker[Session], raw: bytes, dienst: str | None) -> int:
    """Persist the raw request (uitkomst ``ontvangen``) and return its id; commits at once."""
    with sessions.begin() as session:
        bericht = Bericht(
            richting="in",
            dienst=dienst,
            tijdstip=datetime.now(UTC),
            uitkomst="ontvangen",
            inhoud=raw,
        )
        session.add(bericht)
        session.flush()
        return bericht.id


def leg_uitkomst_vast(
    session: Session, bericht_id: int, kop: Kop, uitkomst: str, reden: str | None, http_status: int
) -> None:
    """Record on inbound message ``bericht_id`` what was read of it and how it ended
    (``verwerkt`` or the faultcode; ``reden`` the audit class, never payload values)."""
    bericht = session.get(Bericht, bericht_id)
    _vul(bericht, kop)
    bericht.uitkomst, bericht.http_status = uitkomst, http_status
    bericht.reden = _past(reden, Bericht.reden)


def log_verzonden(session: Session, raw: bytes, kop: Kop, uitkomst: str, http_status: int) -> int:
    """Persist an outbound message (a response, a fault, later a push) in ``session``'s transaction."""
    bericht = Bericht(
        richting="uit",
        tijdstip=datetime.now(UTC),
        uitkomst=uitkomst,
        http_status=http_status,
        inhoud=raw,
    )
    _vul(bericht, kop)
    session.add(bericht)
    session.flush()
    return bericht.id
