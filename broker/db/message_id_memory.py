"""MessageID memory: idempotent redelivery and replay refusal (O5; H64–H67).

A request is remembered by (From OIN, MessageID) together with a digest of its signed Body, a
digest of its SignatureValue and the certificate OIN, in the transaction that applied it. ``recall``
says what a request is against that memory (an ``Outcome``); the inbound pipeline
(``broker.web.pipeline``) decides what to answer:
- ``NEW``: never applied; the pipeline applies it and ``remember`` remembers it;
- ``REPLAY``: the same bytes again (same SignatureValue) → Client.EK0031 (H64, H67);
- ``RETRY``: the same Body, re-signed by the same certificate (a client retrying): the stored answer
  is sent again, nothing is executed twice (O5, H66);
- ``REUSED``: the MessageID with another Body or certificate → Client.DK0011 (O5).
Two identical requests in flight at once meet at the primary key: the second gets Server.DK0051.
Storage knows no wire fault: it reports the outcome, the pipeline chooses the fault.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from lxml import etree
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from broker.db.message_log import Cipher, read_content
from broker.db.models import Bericht, OntvangenMessageId

# Built once (they run for every request); Core on the table, on the session's connection.
_M = OntvangenMessageId.__table__
_EARLIER = select(_M.c.handtekening_digest, _M.c.body_digest, _M.c.certificaat_oin, _M.c.antwoord_id).where(
    _M.c.afzender_oin == bindparam("afzender_oin"), _M.c.message_id == bindparam("message_id")
)
_REMEMBER = _M.insert()


@dataclass(frozen=True)
class Fingerprint:
    """What identifies one request for O5: who, which MessageID (its key: ``message_id_key`` of
    ``broker.edukoppeling.addressing``, so "urn:uuid:X" and a bare "X" name the same message, A7),
    what Body, which signature."""

    afzender_oin: str
    message_id: str
    body_digest: str
    handtekening_digest: str | None
    certificaat_oin: str | None

    @classmethod
    def of(
        cls,
        afzender_oin: str,
        message_id_key: str,
        body: etree._Element,
        signature_value: str | None,
        certificaat_oin: str | None,
    ) -> Fingerprint:
        """Build it from the verified request: the Body content (its one child: the Body element carries
        a wsu:Id that differs per signing) is digested as exclusive c14n."""
        canonical = etree.tostring(body, method="c14n", exclusive=True, with_comments=False)
        return cls(
            afzender_oin=afzender_oin,
            message_id=message_id_key,
            body_digest=hashlib.sha256(canonical).hexdigest(),
            handtekening_digest=_signature_digest(signature_value),
            certificaat_oin=certificaat_oin,
        )


def _signature_digest(signature_value: str | None) -> str | None:
    # Of the decoded bytes: base64 text has spare bits in its last character, so the same signature
    # can be written in more than one way (a replay must not pass as a new message).
    if not signature_value:
        return None
    return hashlib.sha256(base64.b64decode(signature_value)).hexdigest()


class Outcome(Enum):
    """What a request is against the MessageID memory."""

    NEW = "new"  # not applied before
    RETRY = "retry"  # the same Body re-signed by the same certificate: send the stored answer again
    REPLAY = "replay"  # the same signed bytes again
    REUSED = "reused"  # the MessageID used before with another Body or certificate


@dataclass(frozen=True)
class Recall:
    """The outcome, and for a ``RETRY`` the stored answer (the raw envelope that was sent)."""

    outcome: Outcome
    answer: bytes | None = None


def recall(session: Session, fingerprint: Fingerprint, keyring: Cipher) -> Recall:
    """What ``fingerprint`` is against the requests applied before (see the module docstring). Reads only;
    never raises for any outcome."""
    earlier = (
        session.connection()
        .execute(_EARLIER, {"afzender_oin": fingerprint.afzender_oin, "message_id": fingerprint.message_id})
        .first()
    )
    if earlier is None:
        return Recall(Outcome.NEW)
    if fingerprint.handtekening_digest is not None and earlier.handtekening_digest == fingerprint.handtekening_digest:
        return Recall(Outcome.REPLAY)
    if (earlier.body_digest, earlier.certificaat_oin) != (fingerprint.body_digest, fingerprint.certificaat_oin):
        return Recall(Outcome.REUSED)
    return Recall(Outcome.RETRY, read_content(session.get(Bericht, earlier.antwoord_id), keyring))


def remember(session: Session, fingerprint: Fingerprint, antwoord_id: int, moment: datetime) -> None:
    """Remember an applied request in ``session``'s (the business) transaction."""
    session.connection().execute(
        _REMEMBER,
        {
            "afzender_oin": fingerprint.afzender_oin,
            "message_id": fingerprint.message_id,
            "body_digest": fingerprint.body_digest,
            "handtekening_digest": fingerprint.handtekening_digest,
            "certificaat_oin": fingerprint.certificaat_oin,
            "antwoord_id": antwoord_id,
            "ontvangen_op": moment,
        },
    )
