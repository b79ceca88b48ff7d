"""Builds the broker's response and fault envelopes (R1–R6, F1–F5).

Every header block and the Body carry a wsu:Id so the signer (the WS-Security layer) can reference
each one separately (WB004).
"""

from __future__ import annotations

from lxml import etree

from broker.domain.identifiers import new_message_id
from broker.edukoppeling.faults import EdukoppelingFault
from broker.edukoppeling.ns import SOAP11, WSA, WSA_ANONYMOUS, WSA_FAULT_ACTION, WSU, q

_NSMAP = {"soap": SOAP11, "wsa": WSA, "wsu": WSU}


def anonymous(oin: str) -> str:
    """The anonymous address with a lowercase ``oin`` parameter and nothing else (A2)."""
    return f"{WSA_ANONYMOUS}?oin={oin}"


def _envelope(action: str, relates_to: str | None, broker_oin: str, ontvanger_oin: str | None) -> tuple:
    soap_envelope = etree.Element(q(SOAP11, "Envelope"), nsmap=_NSMAP)
    header = etree.SubElement(soap_envelope, q(SOAP11, "Header"))
    message_id = new_message_id()

    def block(name: str, value: str | None = None) -> etree._Element:
        element = etree.SubElement(header, q(WSA, name), {q(WSU, "Id"): f"wsa-{name}"})
        element.text = value
        return element

    block("Action", action)
    block("MessageID", message_id)
    if relates_to is not None:
        block("RelatesTo", relates_to)
    etree.SubElement(block("From"), q(WSA, "Address")).text = anonymous(broker_oin)
    if ontvanger_oin is not None:
        block("To", anonymous(ontvanger_oin))
    body = etree.SubElement(soap_envelope, q(SOAP11, "Body"), {q(WSU, "Id"): "body"})
    return soap_envelope, body, message_id


def build_response(
    content: etree._Element, action: str, relates_to: str, broker_oin: str, ontvanger_oin: str
) -> tuple[etree._Element, str]:
    """A response envelope around ``content`` (the ``<op>Response`` element).

    Output: (the Envelope element, ready to be signed; the response's own MessageID). wsa:Action
    repeats the request action (R2), RelatesTo is the request MessageID verbatim (R4), From/To
    anonymous with OINs (R5, R6).
    """
    soap_envelope, body, message_id = _envelope(action, relates_to, broker_oin, ontvanger_oin)
    body.append(content)
    return soap_envelope, message_id


def to_bytes(soap_envelope: etree._Element) -> bytes:
    """The envelope as sent: UTF-8 with an XML declaration, serialised once (after signing)."""
    return etree.tostring(soap_envelope, xml_declaration=True, encoding="UTF-8")


def build_fault(
    error: EdukoppelingFault, relates_to: str | None, broker_oin: str, ontvanger_oin: str | None
) -> tuple[etree._Element, str]:
    """A SOAP 1.1 Fault envelope for ``error`` (F1: faultcode prefixed with the envelope prefix;
    unqualified faultcode/faultstring/detail; F5 headers). Output as for ``build_response``."""
    soap_envelope, body, message_id = _envelope(WSA_FAULT_ACTION, relates_to, broker_oin, ontvanger_oin)
    fault = etree.SubElement(body, q(SOAP11, "Fault"))
    etree.SubElement(fault, "faultcode").text = f"soap:{error.code}"
    etree.SubElement(fault, "faultstring").text = error.faultstring
    if error.detail_on_the_wire:
        etree.SubElement(etree.SubElement(fault, "detail"), "melding").text = error.detail_on_the_wire
    return soap_envelope, message_id
