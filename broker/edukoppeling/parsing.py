"""The one hardened parse of an inbound message (docs/architecture.md, "Fixed requirements": parse once; H77–H95).

Checks run on the bytes first (UTF-8, no DOCTYPE) so that nothing dangerous ever reaches libxml2's
DTD machinery, then one lxml parse with entities, DTDs and network access switched off, then one
walk that enforces the structural limits of docs/rules.md ("Limits", H86–H89).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from lxml import etree

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode

_BOM = b"\xef\xbb\xbf"
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Limits:
    """Structural caps (CXF defaults as adopted in docs/rules.md, Limits)."""

    depth: int = 100
    attributes: int = 500  # attributes and namespace declarations per element
    attribute_value: int = 64 * 1024
    children: int = 50_000
    # Lower than the 5,000,000 CXF allows: a full batch of 5,000 records has about
    # 60,000 elements, and libxml2 needs roughly 300 bytes per element in memory.
    elements: int = 250_000


#: What makes an lxml parser safe for XML from outside: no entity expanded, no DTD loaded, nothing
#: fetched from the network, libxml2's size limits kept (H77–H85). ``safe_xml_parser`` and the one
#: ``iterparse`` below take these; a caller cannot switch them off.
SAFE_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


def safe_xml_parser(**options) -> etree.XMLParser:
    """A new lxml parser with ``SAFE_PARSER_OPTIONS`` and the other XMLParser ``options`` given (e.g.
    ``remove_blank_text=True``). Every parser of the broker is made here. A new one per use where
    threads may share it: lxml parser objects must not be shared between threads.
    Raises TypeError when ``options`` names one of the safe options."""
    return etree.XMLParser(**SAFE_PARSER_OPTIONS, **options)


def _parser() -> etree.XMLParser:
    # One explicitly configured parser for inbound data (lxml >= 6.1.3; CVE-2026-41066/49825).
    return safe_xml_parser(
        dtd_validation=False,
        remove_comments=False,
        remove_pis=False,
        strip_cdata=True,
        collect_ids=False,
    )


def parse_message(raw: bytes, limits: Limits = Limits()) -> etree._Element:
    """Parse the request bytes into the one tree every later step reads.

    Input: the HTTP body. Output: the root element. Raises ``EdukoppelingFault``:
    Client.DK0009 when the bytes are not strict UTF-8, declare another encoding or hold forbidden
    control characters (WUS WS006); VersionMismatch.DK0001 for a DOCTYPE or entity declaration
    (xml:Forbidden, before parsing), malformed XML (xml:Malformed), a processing instruction
    (xml:Forbidden) or a structural limit exceeded (xml:Limit) — H77–H89, H99–H102.
    """
    text = _check_utf8(raw)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Forbidden DOCTYPE or ENTITY")
    if raw.count(b"<") > 2 * limits.elements + 100:
        # Every element costs at least one '<': refuse before libxml2 builds a tree of them (H89).
        raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Limit element count")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError:
        raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Malformed") from None
    _check_structure(root, limits, raw)
    return root


def _check_utf8(raw: bytes) -> str:
    content = raw[len(_BOM) :] if raw.startswith(_BOM) else raw
    try:
        text = content.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise EdukoppelingFault(FaultCode.CLIENT_DK0009, "xml:Encoding not UTF-8") from None
    declaration = _DECLARATION.match(content)
    if declaration and declaration.group(1).lower() not in (b"utf-8", b"utf8"):
        raise EdukoppelingFault(FaultCode.CLIENT_DK0009, "xml:Encoding declaration not UTF-8")
    if _FORBIDDEN_CHARACTERS.search(text):
        raise EdukoppelingFault(FaultCode.CLIENT_DK0009, "xml:Encoding forbidden control character")
    return text


def _check_structure(root: etree._Element, limits: Limits, raw: bytes) -> None:
    if limits.depth == Limits.depth and _bounded_by_counts(raw, limits) and not _TOO_DEEP_OR_PI(root):
        return
    _walk_structure(root, limits, raw)


def _bounded_by_counts(raw: bytes, limits: Limits) -> bool:
    """Whether counts on the bytes alone keep every limit but depth and PIs: every element and child
    starts with a '<', every attribute and namespace declaration has a '=' (no entities, no DTD
    defaults), no attribute value is longer than the message. Most messages are this small: the
    tree walk in Python is then left to the (rare) message that needs it (issue 18)."""
    tags = raw.count(b"<")
    return (
        tags <= min(limits.elements, limits.children)
        and len(raw) <= limits.attribute_value
        and raw.count(b"=") + raw.count(b"xmlns") <= limits.attributes
    )


#: An element deeper than the default depth limit, or a processing instruction anywhere in the
#: document, found in C. Either sends the message through the walk, which gives the exact fault.
_TOO_DEEP_OR_PI = etree.XPath(
    "boolean(/*" + "/*" * Limits.depth + ") or boolean(//processing-instruction())"
)


def _walk_structure(root: etree._Element, limits: Limits, raw: bytes) -> None:
    elements_seen = most_attributes = 0
    values_maybe_too_long = len(raw) > limits.attribute_value  # no entities: references only shrink
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if isinstance(element, etree._ProcessingInstruction):
            raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Forbidden processing instruction")
        if not isinstance(element.tag, str):
            continue  # comments: harmless here, handled where text is read
        elements_seen += 1
        if depth > limits.depth:
            raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Limit element depth")
        attributes = element.attrib
        most_attributes = max(most_attributes, len(attributes))
        if values_maybe_too_long and any(len(w) > limits.attribute_value for w in attributes.values()):
            raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Limit attribute size")
        if len(element) > limits.children or elements_seen > limits.elements:
            raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Limit element count")
        stack.extend((kind, depth + 1) for kind in element)
    # A PI before or after the root element is a sibling of the root, not a descendant.
    for neighbour in (*root.itersiblings(preceding=True), *root.itersiblings()):
        if isinstance(neighbour, etree._ProcessingInstruction):
            raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Forbidden processing instruction")
    # No element declares more namespaces than the message spells "xmlns" (strict UTF-8, no entities),
    # so only a message where that bound could break the limit is counted declaration by declaration.
    if most_attributes + raw.count(b"xmlns") > limits.attributes:
        _check_declarations(raw, limits)


def _check_declarations(raw: bytes, limits: Limits) -> None:
    """Attributes plus namespace declarations per element, counted from the parser's events: the tree
    shows a re-declared prefix (same or other URI) not at all, so ``nsmap`` cannot count them (H87)."""
    declarations = 0
    events = etree.iterparse(
        io.BytesIO(raw),
        events=("start-ns", "start"),
        **SAFE_PARSER_OPTIONS,
    )
    for event, value in events:
        if event == "start-ns":
            declarations += 1  # the declarations of the element whose "start" comes next
            continue
        if len(value.attrib) + declarations > limits.attributes:
            raise EdukoppelingFault(FaultCode.VERSION_MISMATCH_DK0001, "xml:Limit attribute count")
        declarations = 0
