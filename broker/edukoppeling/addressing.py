"""WS-Addressing checks (WUS WA001; A1–A9, check order step 3, O1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from broker.domain.identifiers import is_valid_oin
from broker.edukoppeling.envelope import Envelope, must_understand
from broker.edukoppeling.faults import EdukoppelingFault, FaultCode
from broker.edukoppeling.ns import WSA, WSA_ANONYMOUS, WSA_NONE, q

#: Bound on every wsa value, checked before anything is stored (H75).
MAX_VALUE = 2048
# re.ASCII: with IGNORECASE alone Python also lets "ı" (dotless i) and "İ" match "i", so "urn:uuıd:<uuid>"
# would pass as a MessageID and be remembered under another key than its ASCII twin.
_URN_UUID = re.compile(r"\Aurn:uuid:(.+)\Z", re.IGNORECASE | re.ASCII)
_UUID = re.compile(
    r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.IGNORECASE | re.ASCII
)
_WHITESPACE = re.compile(r"\s")  # the same characters as str.isspace()
_KNOWN = {"To", "Action", "MessageID", "From", "RelatesTo", "ReplyTo", "FaultTo"}


@dataclass(frozen=True)
class Addressing:
    """The checked WS-Addressing headers of a request.

    ``to`` and ``message_id`` are kept exactly as sent (they are signed; never normalise them);
    ``to_oin``/``from_oin`` are the validated OINs from the ``oin`` query parameter.
    """

    to: str
    to_oin: str
    action: str
    message_id: str
    from_address: str
    from_oin: str
    relates_to: str | None


def text(element: etree._Element) -> str:
    """The whole text of a simple-content element, comments skipped (never only the first text node; H114)."""
    return "".join(element.itertext()).strip()


def read_addressing(
    soap_envelope: Envelope, soapaction: str, broker_oins: tuple[str, ...] | None, actions: set[str] | None
) -> Addressing:
    """Check the wsa headers of ``soap_envelope`` in the order of check order step 3 (docs/rules.md).

    ``soapaction``: the HTTP SOAPAction header as received (its presence is checked by the HTTP step);
    ``acties``: the wsa:Action values of the addressed service. ``broker_oins``/``acties`` None accept
    any receiver/action (``vva envelope verify --any-recipient``, for messages to other parties). Raises ``EdukoppelingFault`` with
    Client.DK0011 (duplicate, unknown or non-anonymous headers, To OIN not ours, unknown Action,
    EPR extras), DK0005/DK0006/DK0007/EK0020 (missing To/Action/MessageID/From), DK0003 (SOAPAction ≠
    wsa:Action), EK0022/EK0021 (no valid OIN in To/From), EK0023 (MessageID not a UUID).
    """
    blocks = _per_name(soap_envelope.wsa)
    for name, mandatory in (
        ("To", FaultCode.CLIENT_DK0005),
        ("Action", FaultCode.CLIENT_DK0006),
        ("MessageID", FaultCode.CLIENT_DK0007),
        ("From", FaultCode.CLIENT_EK0020),
    ):
        if name not in blocks:
            raise EdukoppelingFault(mandatory, f"wsa:MessageAddressingHeaderRequired {name}")
    _check_rest(blocks, soap_envelope)
    to, action = _simple(blocks["To"]), _simple(blocks["Action"])
    message_id = _simple(blocks["MessageID"], error=FaultCode.CLIENT_EK0023)
    from_address = _address(blocks["From"])
    _check_soapaction(soapaction, action)
    to_oin = _oin(to, FaultCode.CLIENT_EK0022)
    from_oin = _oin(from_address, FaultCode.CLIENT_EK0021)
    if not is_uuid(message_id):
        raise EdukoppelingFault(FaultCode.CLIENT_EK0023, "wsa:MessageID not a UUID")
    if broker_oins is not None and to_oin not in broker_oins:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0011, "wsa:DestinationUnreachable To OIN", _expected_to(to_oin, broker_oins)
        )
    if actions is not None and action not in actions:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0011,
            "wsa:ActionNotSupported",
            "wsa:Action is geen operatie van deze dienst: gebruik de soapAction uit de WSDL van het "
            "endpoint waarnaar u stuurt",
        )
    _epr_address(blocks["From"])
    for name in ("ReplyTo", "FaultTo"):
        if name in blocks and _epr_address(blocks[name]) not in (WSA_ANONYMOUS, WSA_NONE):
            raise EdukoppelingFault(
                FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader {name} not anonymous"
            )
    relates_to = _relates_to(blocks["RelatesTo"]) if "RelatesTo" in blocks else None
    return Addressing(to, to_oin, action, message_id, from_address, from_oin, relates_to)


def _expected_to(to_oin: str, broker_oins: tuple[str, ...]) -> str:
    """The DK0011 detail for a wsa:To OIN that is not the broker's: which header, what it said and
    what is expected (A3). Both OINs are public: the sender's own value and the broker's."""
    expected = " of ".join(f"?oin={oin}" for oin in broker_oins)
    return (
        f"wsa:To noemt OIN {to_oin}, maar deze broker heeft OIN {' of '.join(broker_oins)}: "
        f"zet wsa:To op <adres>{expected} (het adres zelf mag elke absolute URI zijn)"
    )


def _relates_to(block: etree._Element) -> str:
    # A9: a MessageID, without RelationshipType or with the reply relationship.
    kind = block.get("RelationshipType")
    value = _simple(block)
    if kind not in (None, f"{WSA}/reply") or not is_uuid(value):
        raise EdukoppelingFault(FaultCode.CLIENT_DK0011, "wsa:InvalidAddressingHeader RelatesTo")
    return value


def _per_name(blocks: tuple[etree._Element, ...]) -> dict[str, etree._Element]:
    per_name: dict[str, etree._Element] = {}
    for block in blocks:
        name = etree.QName(block).localname
        if name in per_name:
            raise EdukoppelingFault(FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader duplicate {name}")
        per_name[name] = block
    return per_name


def _check_rest(blocks: dict[str, etree._Element], soap_envelope: Envelope) -> None:
    """After the presence checks: other wsa headers only as anonymous/none and never with
    mustUnderstand (we do not process them; A6, H104); WS-Addressing 2004 headers beside a complete
    2005/08 set are unknown headers (T7)."""
    for name, block in blocks.items():
        if name in _KNOWN:
            continue
        if must_understand(block):
            raise EdukoppelingFault(FaultCode.MUST_UNDERSTAND, f"wsa:{name} with mustUnderstand")
        if text(block) not in (WSA_ANONYMOUS, WSA_NONE):
            raise EdukoppelingFault(FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader {name}")
    if soap_envelope.old_wsa:
        raise EdukoppelingFault(FaultCode.CLIENT_DK0010, "header in an old WS-Addressing namespace")


def _simple(block: etree._Element, error: FaultCode = FaultCode.CLIENT_DK0011) -> str:
    if any(isinstance(kind.tag, str) for kind in block):
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader {etree.QName(block).localname} has elements"
        )
    value = text(block)
    if len(value) > MAX_VALUE:
        raise EdukoppelingFault(error, f"xml:Limit {etree.QName(block).localname} too long")
    return value


def _address(block: etree._Element) -> str:
    addresses = [kind for kind in block if kind.tag == q(WSA, "Address")]
    return _simple(addresses[0]) if len(addresses) == 1 else ""


def _epr_address(block: etree._Element) -> str:
    children = [kind for kind in block if isinstance(kind.tag, str)]
    if len(children) != 1 or children[0].tag != q(WSA, "Address"):
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader {etree.QName(block).localname} EPR"
        )
    return _simple(children[0])


def _check_soapaction(soapaction: str, action: str) -> None:
    value = soapaction.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    else:
        # WS-I BP R2744: the SOAPAction header is a quoted string.
        raise EdukoppelingFault(FaultCode.CLIENT_DK0003, "SOAPAction not quoted")
    if value not in ("", action):
        raise EdukoppelingFault(FaultCode.CLIENT_DK0003, "SOAPAction differs from wsa:Action")


def _oin(address: str, error: FaultCode) -> str:
    if _WHITESPACE.search(address):
        raise EdukoppelingFault(error, "whitespace in address")
    try:
        url = urlsplit(address)
        pairs = parse_qsl(url.query, keep_blank_values=True, strict_parsing=False)
    except ValueError:
        raise EdukoppelingFault(error, "address not a URI") from None
    oins = [value for key, value in pairs if key.lower() == "oin"]
    if len(oins) != 1 or not is_valid_oin(oins[0]):
        raise EdukoppelingFault(error, "no single valid oin parameter")
    if not url.scheme:
        # A3: an absolute URI (or the anonymous URI) with the oin parameter.
        raise EdukoppelingFault(FaultCode.CLIENT_DK0011, "wsa:InvalidAddressingHeader address not absolute")
    return oins[0]


def is_uuid(value: str) -> bool:
    """True for ``urn:uuid:<uuid>`` or a bare UUID in the 8-4-4-4-12 hex form, any case, ASCII only
    (A7, O8)."""
    core = m.group(1) if (m := _URN_UUID.match(value)) else value
    return _UUID.match(core) is not None


def message_id_key(value: str) -> str:
    """The key a MessageID is remembered and compared by: the UUID without an ASCII ``urn:uuid:``
    prefix (any case), lower-cased, so "urn:uuid:X" and a bare "X" name the same message (A7).

    The one normalisation of a MessageID: the MessageID memory (O5) and the outbox's check of an
    answer's RelatesTo both compare by it.
    Input: any str (callers check ``is_uuid`` first where it matters). Output: str. Never raises.
    """
    core = m.group(1) if (m := _URN_UUID.match(value)) else value
    # A UUID is ASCII, so lower() cannot turn another character into one of its hex letters.
    return core.lower()


def read_before_fault(soap_envelope: Envelope) -> tuple[str | None, str | None]:
    """(MessageID, From OIN) as far as they are valid, for the headers of a fault raised before the
    addressing checks completed (F5: RelatesTo and To when readable). Never raises."""
    message_id = from_oin = None
    for block in soap_envelope.wsa:
        name = etree.QName(block).localname
        try:
            if name == "MessageID" and is_uuid(value := _simple(block)):
                message_id = value
            elif name == "From":
                from_oin = _oin(_address(block), FaultCode.CLIENT_EK0021)
        except EdukoppelingFault:
            continue
    return message_id, from_oin
