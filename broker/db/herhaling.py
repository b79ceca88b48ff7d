"""MessageID memory: idempotent redelivery and replay refusal (O5; H64–H67).

A request is remembered by (From OIN, MessageID) together with a digest of its signed Body, a
digest of its SignatureValue and the certificate OIN, in the transaction that applied it. A later
request with the same key is then
- the same bytes again (same SignatureValue): a replay → Client.EK0031 (H64, H67);
- the same Body, re-signed by the same certificate (a client retrying): the stored answer is sent
  again, nothing is executed twice (O5, H66);
- anything else: Client.DK0011 "MessageID al gebruikt" (O5).
Two identical requests in flight at once meet at the primary key: the second gets Server.DK0051.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from broker.db.berichtenlog import lees_inhoud
from broker.db.models import Bericht, OntvangenMessageId
from broker.edukoppeling.addressing import message_id_key
from broker.edukoppeling.faults import EdukoppelingFout
from broker.privacy.sleutels import Sleutelbos

# Built once (they run for every request); Core on the table, on the session's connection.
_M = OntvangenMessageId.__table__
_EERDER = select(_M.c.handtekening_digest, _M.c.body_digest, _M.c.certificaat_oin, _M.c.antwoord_id).where(
    _M.c.afzender_oin == bindparam("afzender_oin"), _M.c.message_id == bindparam("message_id")
)
_ONTHOUD = _M.insert()


@dataclass(frozen=True)
class Vingerafdruk:
    """What identifies one request for O5: who, which MessageID, what Body, which signature."""

    afzender_oin: str
    message_id: str
    body_digest: str
    handtekening_digest: str | None
    certificaat_oin: str | None

    @classmethod
    def van(
        cls,
        afzender_oin: str,
        message_id: str,
        body: etree._Element,
        signature_value: str | None,
        certificaat_oin: str | None,
    ) -> Vingerafdruk:
        """Build it from the verified request: the Body content (its one child: the Body element carries
        a wsu:Id that differs per signing) is digested as exclusive c14n."""
        canoniek = etree.tostring(body, method="c14n", exclusive=True, with_comments=False)
        return cls(
            afzender_oin=afzender_oin,
            message_id=_sleutel(message_id),
            body_digest=hashlib.sha256(canoniek).hexdigest(),
            handtekening_digest=_handtekening_digest(signature_value),
            certificaat_oin=certificaat_oin,
        )


def _handtekening_digest(signature_value: str | None) -> str | None:
    # Of the decoded bytes: base64 text has spare bits in its last character, so the same signature
    # can be written in more than one way (a replay must not pass as a new message).
    if not signature_value:
        return None
    return hashlib.sha256(base64.b64decode(signature_value)).hexdigest()


def _sleutel(message_id: str) -> str:
    # "urn:uuid:X" and a bare "X" name the same message (A7); the one rule, shared with addressing.
    return message_id_key(message_id)


def eerder_antwoord(session: Session, afdruk: Vingerafdruk, sleutelbos: Sleutelbos) -> bytes | None:
    """The stored answer (raw envelope) when ``afdruk`` is a retry of an applied request, else None.

    Raises ``EdukoppelingFout`` Client.EK0031 for a byte-identical replay and Client.DK0011 for a
    reused MessageID with another Body or certificate.
    """
    eerder = (
        session.connection()
        .execute(_EERDER, {"afzender_oin": afdruk.afzender_oin, "message_id": afdruk.message_id})
        .first()
    )
    if eerder is None:
        return None
    if afdruk.handtekening_digest is not None and eerder.handtekening_digest == afdruk.handtekening_digest:
        raise EdukoppelingFout(
            "Client.EK0031",
            "wsse:InvalidSecurity replay of an applied message",
            "Dit ondertekende bericht is al ontvangen en verwerkt. Wie het antwoord opnieuw nodig heeft, "
            "ondertekent hetzelfde bericht (zelfde wsa:MessageID) opnieuw met een nieuwe Timestamp.",
        )
    if (eerder.body_digest, eerder.certificaat_oin) != (afdruk.body_digest, afdruk.certificaat_oin):
        raise EdukoppelingFout("Client.DK0011", "wsa:InvalidAddressingHeader duplicate MessageID")
    return lees_inhoud(session.get(Bericht, eerder.antwoord_id), sleutelbos)


def onthoud(session: Session, afdruk: Vingerafdruk, antwoord_id: int, moment: datetime) -> None:
    """Remember an applied request in ``session``'s (the business) transaction."""
    session.connection().execute(
        _ONTHOUD,
        {
            "afzender_oin": afdruk.afzender_oin,
            "message_id": afdruk.message_id,
            "body_digest": afdruk.body_digest,
            "handtekening_digest": afdruk.handtekening_digest,
            "certificaat_oin": afdruk.certificaat_oin,
            "antwoord_id": antwoord_id,
            "ontvangen_op": moment,
        },
    )
