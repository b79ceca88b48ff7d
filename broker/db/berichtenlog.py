"""The message log: every inbound and outbound message, raw, with its addressing and outcome.

The inbound row is written and committed in its own transaction *before* the message can have any
business effect, so a message is never lost, whatever happens next (design.md **must**).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from broker.db.models import Bericht
from broker.privacy.sleutels import Sleutelbos


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


def lees_inhoud(bericht: Bericht, sleutelbos: Sleutelbos) -> bytes:
    """The raw bytes of a logged message (decrypted; rows from before encryption are as stored)."""
    return sleutelbos.ontsleutel_data(bericht.inhoud) if bericht.versleuteld else bericht.inhoud


def log_ontvangen(
    sessions: sessionmaker[Session],
    raw: bytes,
    dienst: str | None,
    sleutelbos: Sleutelbos,
    tijdstip: datetime | None = None,
) -> int:
    """Persist the raw request (uitkomst ``ontvangen``), encrypted, and return its id; commits at once.

    Messages carry BSNs: the bytes are kept whole (they are the evidence) but only as AES-GCM
    ciphertext under the installation's key (AVG art. 32). ``tijdstip`` (default now): the moment the
    request is processed at, so that the message and its effect fall in the same cycle."""
    with sessions.begin() as session:
        bericht = Bericht(
            richting="in",
            dienst=dienst,
            tijdstip=tijdstip or datetime.now(UTC),
            uitkomst="ontvangen",
            inhoud=sleutelbos.versleutel_data(raw),
            versleuteld=True,
        )
        session.add(bericht)
        session.flush()
        return bericht.id


def leg_uitkomst_vast(
    session: Session, bericht_id: int, kop: Kop, uitkomst: str, reden: str | None, http_status: int
) -> None:
    """Record on inbound message ``bericht_id`` what was read of it and how it ended
    (``verwerkt`` or the faultcode; ``reden`` the audit class, never payload values)."""
    # One UPDATE, without loading the row first (a round trip and an ORM object less per request).
    waarden = {veld: _past(waarde, getattr(Bericht, veld)) for veld, waarde in vars(kop).items()}
    session.execute(
        update(Bericht)
        .where(Bericht.id == bericht_id)
        .values(**waarden, uitkomst=uitkomst, http_status=http_status, reden=_past(reden, Bericht.reden))
        .execution_options(synchronize_session=False)
    )


def log_verzonden(
    session: Session,
    raw: bytes,
    kop: Kop,
    uitkomst: str,
    http_status: int | None,
    sleutelbos: Sleutelbos,
    richting: str = "uit",
    tijdstip: datetime | None = None,
) -> int:
    """Persist a message the broker sent (a response, a fault, a push) — or, with ``richting="in"``, a
    partner's answer to a push — encrypted, in ``session``'s transaction. ``tijdstip`` (default now):
    for an answer, the moment its request was processed at (the yearly purge goes by that time)."""
    bericht = Bericht(
        richting=richting,
        tijdstip=tijdstip or datetime.now(UTC),
        uitkomst=uitkomst,
        http_status=http_status,
        inhoud=sleutelbos.versleutel_data(raw),
        versleuteld=True,
    )
    _vul(bericht, kop)
    session.add(bericht)
    session.flush()
    return bericht.id
