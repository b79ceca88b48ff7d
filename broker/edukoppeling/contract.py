"""The published contract (``wsdl/`` + ``xsd/``), read once at start-up.

The WSDL files are the source of truth for which services exist, their paths, their operations
and their wsa:Action values; the XSD validates every request Body before spyne sees it (check order step 6)
and, in the tests, every response the broker produces.
"""

from __future__ import annotations

import re
import sysconfig
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode
from broker.edukoppeling.parsing import safe_xml_parser

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
WSAM_NS = "http://www.w3.org/2007/05/addressing/metadata"
XSD_FILE = "vva-aanmelden-v1.xsd"
#: The services the broker offers, and the one a push receiver offers (``wsdl/vva-ontvanger-v1.wsdl``).
BROKER_SERVICES = frozenset({"vo", "mbo", "gemeente", "regio"})
RECEIVER_SERVICES = frozenset({"ontvanger"})


def contract_map() -> Path:
    """The folder holding ``wsdl/`` and ``xsd/``: the checkout this code runs from (editable install,
    tests), else ``<prefix>/share/vva-broker`` where a wheel installs them (pyproject data-files)."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "wsdl").is_dir():
        return checkout
    return Path(sysconfig.get_path("data")) / "share" / "vva-broker"


@dataclass(frozen=True)
class Operation:
    name: str
    action: str
    input_: str  # Clark name of the request element
    output: str  # Clark name of the response element


@dataclass(frozen=True)
class Service:
    """One service = one WSDL = one port type (WUS WS003)."""

    service_id: str  # vo | mbo | gemeente | regio
    path: str  # e.g. /vva/vo/v1
    wsdl: Path
    operations: dict[str, Operation]  # by wsa:Action

    @property
    def actions(self) -> set[str]:
        return set(self.operations)


class Contract:
    """The services of ``wsdl/`` and the compiled schema of ``xsd/`` under ``map``."""

    def __init__(self, map: Path | None = None, keys: frozenset[str] | None = None) -> None:
        """The services of ``map``/wsdl; ``keys`` keeps only those services (the broker serves
        ``BROKER_SERVICES``, the reference receiver ``RECEIVER_SERVICES``; None = all files)."""
        self.map = map or contract_map()
        self.services: dict[str, Service] = {}
        for wsdl in sorted((self.map / "wsdl").glob("vva-*-v1.wsdl")):
            service = _read_wsdl(wsdl)
            if keys is None or service.service_id in keys:
                self.services[service.path] = service

    @cached_property
    def schema(self) -> etree.XMLSchema:
        return etree.XMLSchema(etree.parse(str(self.map / "xsd" / XSD_FILE), safe_xml_parser()))

    def service(self, wanted: str) -> Service:
        return next(d for d in self.services.values() if d.service_id == wanted)

    def validate(self, operation: Operation, content: etree._Element) -> None:
        """Check that ``content`` (the Body child) is a valid ``operatie`` request.

        Raises ``EdukoppelingFault`` Client.DK0004 with the first violation (element path and reason,
        no values) as detail (F3; Action/Body mismatch per A8).
        """
        if content.tag != operation.input_:
            raise EdukoppelingFault(
                FaultCode.CLIENT_DK0004,
                "Body element does not match wsa:Action",
                f"De Body moet het element {etree.QName(operation.input_).localname} bevatten voor deze wsa:Action.",
            )
        self.validate_element(content)

    def validate_element(self, element: etree._Element) -> None:
        """Validate ``element`` against the XSD; ``EdukoppelingFault`` DK0004 on the first violation."""
        if self.schema.validate(element):
            return
        error = self.schema.error_log[0]
        raise EdukoppelingFault(FaultCode.CLIENT_DK0004, "xsd violation", _explanation(error))


# libxml2 quotes the offending value: "The value '…' is not …" or "…: '…' is not a valid value …".
# Greedy up to the last "' is not", so a value containing quotes is still removed whole.
_VALUE = re.compile(r"(The value |: )'.*' is not")
_DIGIT_RUN = re.compile(r"\d{5,}")  # any Unicode digit: a full-width BSN is still a BSN


def _explanation(error) -> str:
    """The first schema violation as "<element path>: <libxml2 message>" without the offending value:
    it may be a BSN (F3). Allowed values, lengths and names stay: they help the sender fix it. Any run
    of 5+ digits left after that is masked as well, whatever libxml2 put it in."""
    message = _VALUE.sub(lambda m: f"{m.group(1)}… is not", error.message)
    return f"{error.path}: {_DIGIT_RUN.sub('…', message)}"


def _read_wsdl(path: Path) -> Service:
    doc = etree.parse(str(path), safe_xml_parser()).getroot()
    ns = {"w": WSDL_NS, "s": WSDL_SOAP_NS}
    target_ns = doc.get("targetNamespace")
    schema_ns = doc.nsmap["vva"]
    location = doc.find("w:service/w:port/s:address", ns).get("location")
    operations = {}
    for op in doc.findall("w:portType/w:operation", ns):
        name = op.get("name")
        input_ = op.find("w:input", ns)
        output = op.find("w:output", ns)
        action = input_.get(f"{{{WSAM_NS}}}Action")
        operations[action] = Operation(
            name=name,
            action=action,
            input_=_element_of(doc, input_.get("message"), schema_ns),
            output=_element_of(doc, output.get("message"), schema_ns),
        )
    service_id = target_ns.rsplit(":", 1)[-1]
    return Service(service_id=service_id, path=urlsplit(location).path, wsdl=path, operations=operations)


def _element_of(doc: etree._Element, message: str, schema_ns: str) -> str:
    name = message.split(":", 1)[-1]
    part = doc.find(f"{{{WSDL_NS}}}message[@name='{name}']/{{{WSDL_NS}}}part")
    return f"{{{schema_ns}}}{part.get('element').split(':', 1)[-1]}"
