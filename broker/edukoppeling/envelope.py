"""SOAP 1.1 envelope checks (WUS WW001–WW003, WS007; check order step 2)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode
from broker.edukoppeling.ns import SOAP11, SOAP12, SOAP_ENC, WSA, WSA_OLD, WSSE, XINCLUDE, q


@dataclass(frozen=True)
class Envelope:
    """The parts of a checked envelope, all nodes of the one parsed tree.

    ``inhoud`` is the single Body child; ``wsa`` the WS-Addressing 1.0 header blocks in document
    order; ``security`` the wsse:Security blocks (0 or more; the security step decides).
    """

    root: etree._Element
    body: etree._Element
    inhoud: etree._Element
    wsa: tuple[etree._Element, ...]
    security: tuple[etree._Element, ...]
    old_wsa: tuple[etree._Element, ...] = ()  # WS-Addressing 2004 headers: refused after the presence checks


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [kind for kind in parent if isinstance(kind.tag, str)]


def read_envelope(root: etree._Element, wss_allowed: bool) -> Envelope:
    """Check the envelope of ``root`` and return its parts.

    ``wss_allowed`` is False on a 2W-be service, where a wsse:Security header is refused (S0).
    Raises ``EdukoppelingFault``: VersionMismatch.DK0001 for a SOAP 1.2 or unknown envelope, a missing,
    repeated or misplaced Header/Body, or text/elements outside them; Client.DK0004 when the Body does
    not hold exactly one element or uses SOAP encoding, multi-refs or XInclude (H22, H85, H90);
    MustUnderstand for an unknown header with mustUnderstand 1/true (H104, H106); Client.DK0010 for any
    other header outside WS-Addressing and WS-Security (T7, O7).
    """
    if root.tag != q(SOAP11, "Envelope"):
        reason = (
            "soap:VersionMismatch SOAP 1.2" if root.tag == q(SOAP12, "Envelope") else "no SOAP 1.1 Envelope"
        )
        raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, reason)
    children = _elements(root)
    names = [kind.tag for kind in children]
    if names not in ([q(SOAP11, "Body")], [q(SOAP11, "Header"), q(SOAP11, "Body")]):
        raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Malformed Header/Body structure")
    if (root.text or "").strip() or any((kind.tail or "").strip() for kind in root):
        raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Malformed text in Envelope")
    body = children[-1]
    content = _body_content(body)
    header = children[0] if len(children) == 2 else None
    for part in (body, header):
        if part is not None and q(SOAP11, "encodingStyle") in part.attrib:
            raise EdukoppelingFault(
                FaultCode.CLIENT_DK0004, "xml:Forbidden SOAP encoding", "SOAP-encoding is niet toegestaan."
            )
        if part is not None and ((part.text or "").strip() or any((k.tail or "").strip() for k in part)):
            raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Malformed text in Header or Body")
    if q(SOAP11, "encodingStyle") in root.attrib:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0004, "xml:Forbidden SOAP encoding", "SOAP-encoding is niet toegestaan."
        )
    wsa, security, old = _headers(header, wss_allowed)
    return Envelope(root, body, content, wsa, security, old)


def _body_content(body: etree._Element) -> etree._Element:
    elements = _elements(body)
    if len(elements) != 1:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0004, "Body child count", "De Body moet precies één element bevatten."
        )
    content = elements[0]
    for element in content.iter(etree.Element):
        if element.tag.startswith(f"{{{XINCLUDE}}}"):
            raise EdukoppelingFault(
                FaultCode.CLIENT_DK0004, "xml:Forbidden XInclude", "XInclude is niet toegestaan."
            )
        if "href" in element.attrib or any(
            a.startswith(f"{{{SOAP_ENC}}}") or a == q(SOAP11, "encodingStyle") for a in element.attrib
        ):
            raise EdukoppelingFault(
                FaultCode.CLIENT_DK0004,
                "xml:Forbidden SOAP encoding",
                "SOAP-encoding en href-verwijzingen zijn niet toegestaan.",
            )
    if q(SOAP11, "encodingStyle") in content.attrib:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0004, "xml:Forbidden SOAP encoding", "SOAP-encoding is niet toegestaan."
        )
    return content


def must_understand(block: etree._Element) -> bool:
    """True when ``block`` carries soap:mustUnderstand 1 or true (xsd:boolean, whitespace collapsed; H106)."""
    return (block.get(q(SOAP11, "mustUnderstand")) or "").strip() in ("1", "true")


def _headers(header: etree._Element | None, wss_allowed: bool) -> tuple[tuple, tuple, tuple]:
    if header is None:
        return (), (), ()
    wsa, security, old = [], [], []
    for block in _elements(header):
        namespace = etree.QName(block).namespace
        if namespace == WSA:
            wsa.append(block)
        elif block.tag == q(WSSE, "Security"):
            if not wss_allowed:
                raise EdukoppelingFault(FaultCode.CLIENT_DK0010, "wsse:Security on a 2W-be service")  # S0
            security.append(block)
        elif must_understand(block):
            raise EdukoppelingFault(
                FaultCode.MUST_UNDERSTAND, f"header {etree.QName(block).localname} with mustUnderstand"
            )
        elif namespace in WSA_OLD:
            old.append(block)  # reported as the missing 2005/08 header when that is what is wrong (H69)
        else:
            raise EdukoppelingFault(
                FaultCode.CLIENT_DK0010, f"header {etree.QName(block).localname} not allowed"
            )
    return tuple(wsa), tuple(security), tuple(old)
