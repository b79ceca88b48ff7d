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
MAX_WAARDE = 2048
# re.ASCII: with IGNORECASE alone Python also lets "ı" (dotless i) and "İ" match "i", so "urn:uuıd:<uuid>"
# would pass as a MessageID and be remembered under another key than its ASCII twin.
_URN_UUID = re.compile(r"\Aurn:uuid:(.+)\Z", re.IGNORECASE | re.ASCII)
_UUID = re.compile(
    r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.IGNORECASE | re.ASCII
)
_WITRUIMTE = re.compile(r"\s")  # the same characters as str.isspace()
_BEKEND = {"To", "Action", "MessageID", "From", "RelatesTo", "ReplyTo", "FaultTo"}


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
    from_adres: str
    from_oin: str
    relates_to: str | None


def tekst(element: etree._Element) -> str:
    """The whole text of a simple-content element, comments skipped (never only the first text node; H114)."""
    return "".join(element.itertext()).strip()


def read_addressing(
    envelop: Envelope, soapaction: str, broker_oins: tuple[str, ...] | None, acties: set[str] | None
) -> Addressing:
    """Check the wsa headers of ``envelop`` in the order of check order step 3 (docs/rules.md).

    ``soapaction``: the HTTP SOAPAction header as received (its presence is checked by the HTTP step);
    ``acties``: the wsa:Action values of the addressed service. ``broker_oins``/``acties`` None accept
    any receiver/action (``vva envelope verify --any-recipient``, for messages to other parties). Raises ``EdukoppelingFault`` with
    Client.DK0011 (duplicate, unknown or non-anonymous headers, To OIN not ours, unknown Action,
    EPR extras), DK0005/DK0006/DK0007/EK0020 (missing To/Action/MessageID/From), DK0003 (SOAPAction ≠
    wsa:Action), EK0022/EK0021 (no valid OIN in To/From), EK0023 (MessageID not a UUID).
    """
    blokken = _per_naam(envelop.wsa)
    for naam, verplicht in (
        ("To", FaultCode.CLIENT_DK0005),
        ("Action", FaultCode.CLIENT_DK0006),
        ("MessageID", FaultCode.CLIENT_DK0007),
        ("From", FaultCode.CLIENT_EK0020),
    ):
        if naam not in blokken:
            raise EdukoppelingFault(verplicht, f"wsa:MessageAddressingHeaderRequired {naam}")
    _check_rest(blokken, envelop)
    to, action = _simple(blokken["To"]), _simple(blokken["Action"])
    message_id = _simple(blokken["MessageID"], fout=FaultCode.CLIENT_EK0023)
    from_adres = _adres(blokken["From"])
    _check_soapaction(soapaction, action)
    to_oin = _oin(to, FaultCode.CLIENT_EK0022)
    from_oin = _oin(from_adres, FaultCode.CLIENT_EK0021)
    if not is_uuid(message_id):
        raise EdukoppelingFault(FaultCode.CLIENT_EK0023, "wsa:MessageID not a UUID")
    if broker_oins is not None and to_oin not in broker_oins:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0011, "wsa:DestinationUnreachable To OIN", _expected_to(to_oin, broker_oins)
        )
    if acties is not None and action not in acties:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0011,
            "wsa:ActionNotSupported",
            "wsa:Action is geen operatie van deze dienst: gebruik de soapAction uit de WSDL van het "
            "endpoint waarnaar u stuurt",
        )
    _epr_address(blokken["From"])
    for naam in ("ReplyTo", "FaultTo"):
        if naam in blokken and _epr_address(blokken[naam]) not in (WSA_ANONYMOUS, WSA_NONE):
            raise EdukoppelingFault(
                FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader {naam} not anonymous"
            )
    relates_to = _relates_to(blokken["RelatesTo"]) if "RelatesTo" in blokken else None
    return Addressing(to, to_oin, action, message_id, from_adres, from_oin, relates_to)


def _expected_to(to_oin: str, broker_oins: tuple[str, ...]) -> str:
    """The DK0011 detail for a wsa:To OIN that is not the broker's: which header, what it said and
    what is expected (A3). Both OINs are public: the sender's own value and the broker's."""
    verwacht = " of ".join(f"?oin={oin}" for oin in broker_oins)
    return (
        f"wsa:To noemt OIN {to_oin}, maar deze broker heeft OIN {' of '.join(broker_oins)}: "
        f"zet wsa:To op <adres>{verwacht} (het adres zelf mag elke absolute URI zijn)"
    )


def _relates_to(blok: etree._Element) -> str:
    # A9: a MessageID, without RelationshipType or with the reply relationship.
    soort = blok.get("RelationshipType")
    waarde = _simple(blok)
    if soort not in (None, f"{WSA}/reply") or not is_uuid(waarde):
        raise EdukoppelingFault(FaultCode.CLIENT_DK0011, "wsa:InvalidAddressingHeader RelatesTo")
    return waarde


def _per_naam(blokken: tuple[etree._Element, ...]) -> dict[str, etree._Element]:
    per_naam: dict[str, etree._Element] = {}
    for blok in blokken:
        naam = etree.QName(blok).localname
        if naam in per_naam:
            raise EdukoppelingFault(FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader duplicate {naam}")
        per_naam[naam] = blok
    return per_naam


def _check_rest(blokken: dict[str, etree._Element], envelop: Envelope) -> None:
    """After the presence checks: other wsa headers only as anonymous/none and never with
    mustUnderstand (we do not process them; A6, H104); WS-Addressing 2004 headers beside a complete
    2005/08 set are unknown headers (T7)."""
    for naam, blok in blokken.items():
        if naam in _BEKEND:
            continue
        if must_understand(blok):
            raise EdukoppelingFault(FaultCode.MUST_UNDERSTAND, f"wsa:{naam} with mustUnderstand")
        if tekst(blok) not in (WSA_ANONYMOUS, WSA_NONE):
            raise EdukoppelingFault(FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader {naam}")
    if envelop.oude_wsa:
        raise EdukoppelingFault(FaultCode.CLIENT_DK0010, "header in an old WS-Addressing namespace")


def _simple(blok: etree._Element, fout: FaultCode = FaultCode.CLIENT_DK0011) -> str:
    if any(isinstance(kind.tag, str) for kind in blok):
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader {etree.QName(blok).localname} has elements"
        )
    waarde = tekst(blok)
    if len(waarde) > MAX_WAARDE:
        raise EdukoppelingFault(fout, f"xml:Limit {etree.QName(blok).localname} too long")
    return waarde


def _adres(blok: etree._Element) -> str:
    adressen = [kind for kind in blok if kind.tag == q(WSA, "Address")]
    return _simple(adressen[0]) if len(adressen) == 1 else ""


def _epr_address(blok: etree._Element) -> str:
    kinderen = [kind for kind in blok if isinstance(kind.tag, str)]
    if len(kinderen) != 1 or kinderen[0].tag != q(WSA, "Address"):
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0011, f"wsa:InvalidAddressingHeader {etree.QName(blok).localname} EPR"
        )
    return _simple(kinderen[0])


def _check_soapaction(soapaction: str, action: str) -> None:
    waarde = soapaction.strip()
    if len(waarde) >= 2 and waarde[0] == waarde[-1] == '"':
        waarde = waarde[1:-1]
    else:
        # WS-I BP R2744: the SOAPAction header is a quoted string.
        raise EdukoppelingFault(FaultCode.CLIENT_DK0003, "SOAPAction not quoted")
    if waarde not in ("", action):
        raise EdukoppelingFault(FaultCode.CLIENT_DK0003, "SOAPAction differs from wsa:Action")


def _oin(adres: str, fout: FaultCode) -> str:
    if _WITRUIMTE.search(adres):
        raise EdukoppelingFault(fout, "whitespace in address")
    try:
        delen = urlsplit(adres)
        paren = parse_qsl(delen.query, keep_blank_values=True, strict_parsing=False)
    except ValueError:
        raise EdukoppelingFault(fout, "address not a URI") from None
    oins = [waarde for sleutel, waarde in paren if sleutel.lower() == "oin"]
    if len(oins) != 1 or not is_valid_oin(oins[0]):
        raise EdukoppelingFault(fout, "no single valid oin parameter")
    if not delen.scheme:
        # A3: an absolute URI (or the anonymous URI) with the oin parameter.
        raise EdukoppelingFault(FaultCode.CLIENT_DK0011, "wsa:InvalidAddressingHeader address not absolute")
    return oins[0]


def is_uuid(waarde: str) -> bool:
    """True for ``urn:uuid:<uuid>`` or a bare UUID in the 8-4-4-4-12 hex form, any case, ASCII only
    (A7, O8)."""
    kern = m.group(1) if (m := _URN_UUID.match(waarde)) else waarde
    return _UUID.match(kern) is not None


def message_id_key(waarde: str) -> str:
    """The key a MessageID is remembered and compared by: the UUID without an ASCII ``urn:uuid:``
    prefix (any case), lower-cased, so "urn:uuid:X" and a bare "X" name the same message (A7).

    The one normalisation of a MessageID: the MessageID memory (O5) and the outbox's check of an
    answer's RelatesTo both compare by it.
    Input: any str (callers check ``is_uuid`` first where it matters). Output: str. Never raises.
    """
    kern = m.group(1) if (m := _URN_UUID.match(waarde)) else waarde
    # A UUID is ASCII, so lower() cannot turn another character into one of its hex letters.
    return kern.lower()


def read_before_fault(envelop: Envelope) -> tuple[str | None, str | None]:
    """(MessageID, From OIN) as far as they are valid, for the headers of a fault raised before the
    addressing checks completed (F5: RelatesTo and To when readable). Never raises."""
    message_id = from_oin = None
    for blok in envelop.wsa:
        naam = etree.QName(blok).localname
        try:
            if naam == "MessageID" and is_uuid(waarde := _simple(blok)):
                message_id = waarde
            elif naam == "From":
                from_oin = _oin(_adres(blok), FaultCode.CLIENT_EK0021)
        except EdukoppelingFault:
            continue
    return message_id, from_oin
