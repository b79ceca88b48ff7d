"""What the reference receiver received: ``vva receiver list`` and ``vva receiver show ID``.

The receiver keeps every request in its own message log, encrypted under its own key file
(``broker.db.message_log``). These read it back, so a vendor sees exactly what the broker sends: the
pushes (``ontvangenWijziging``, ``ontvangenSignaal``) and pings, how each ended (``verwerkt``, a
redelivery answered from memory, a faultcode), and one message decrypted. Pupil numbers (``bsn``,
``onderwijsnummer``) are masked unless asked for: the output goes to a terminal, and a terminal's
scroll-back is no place for them by default.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.db.message_log import read_content
from broker.db.models import Bericht
from broker.edukoppeling.ns import SOAP11, q
from broker.edukoppeling.parsing import safe_xml_parser
from broker.privacy.keys import Keyring
from broker.privacy.logfilter import MASK

#: The elements of the contract that hold a pupil number (xsd/vva-aanmelden-v1.xsd).
_NUMBERS = {"{urn:nl:vva:aanmelden:v1}bsn", "{urn:nl:vva:aanmelden:v1}onderwijsnummer"}
_PARSER = safe_xml_parser(remove_blank_text=True)


@dataclass(frozen=True)
class Received:
    """One request the receiver got, as listed: no payload."""

    id: int
    tijdstip: datetime
    afzender_oin: str | None
    operatie: str
    message_id: str | None
    uitkomst: str


def list_(session: Session, limit: int) -> list[Received]:
    """The latest ``limit`` requests the receiver got, newest first."""
    rows = session.scalars(
        select(Bericht).where(Bericht.richting == "in").order_by(Bericht.id.desc()).limit(limit)
    )
    return [
        Received(r.id, r.tijdstip, r.afzender_oin, _operation(r.action), r.message_id, r.uitkomst)
        for r in rows
    ]


def show(session: Session, bericht_id: int, keyring: Keyring, numbers: bool) -> str | None:
    """Request ``bericht_id`` decrypted with the receiver's key: a few lines on its addressing and
    outcome, then the SOAP Body as received, indented for reading. Pupil numbers masked unless
    ``numbers``. None when the log holds no request with that id."""
    row = session.get(Bericht, bericht_id)
    if row is None or row.richting != "in":
        return None
    header = [
        f"id          {row.id}",
        f"received    {row.tijdstip:%Y-%m-%d %H:%M:%S} UTC",
        f"from        {row.afzender_oin or '(unreadable)'} (certificate {row.certificaat_oin or '-'})",
        f"action      {row.action or '(unreadable)'}",
        f"MessageID   {row.message_id or '(unreadable)'}",
        f"outcome     {row.uitkomst}" + (f" ({row.reden})" if row.reden else ""),
    ]
    return "\n".join(header) + "\n\n" + _body(read_content(row, keyring), numbers)


def _body(raw: bytes, numbers: bool) -> str:
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError:
        return f"(not well-formed XML, {len(raw)} bytes)"
    body = root.find(q(SOAP11, "Body"))
    if body is None:
        return "(no SOAP 1.1 Body)"
    if not numbers:
        for element in body.iter():
            if element.tag in _NUMBERS and element.text:
                element.text = MASK
    chunks = []
    for kind in body:
        element_copy = copy.deepcopy(kind)
        etree.cleanup_namespaces(element_copy)  # without the Envelope's and wsu's declarations it inherited
        chunks.append(etree.tostring(element_copy, pretty_print=True, encoding="unicode"))
    return "".join(chunks).rstrip("\n") or "(empty Body)"


def _operation(action: str | None) -> str:
    return action.rsplit("/", 1)[-1] if action else "(unreadable)"
