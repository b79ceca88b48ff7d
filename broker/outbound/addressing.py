"""A zeep plugin that makes zeep's WS-Addressing headers Edukoppeling-conform (docs/rules.md, "The broker as client").

zeep adds wsa:Action, wsa:MessageID and wsa:To by itself when the WSDL declares wsam:Action; this
plugin completes those headers instead of adding a second set (zeep issue #953: duplicates):
wsa:To becomes ``<logical address>?oin=<receiver OIN>`` and wsa:From ``…/anonymous?oin=<sender OIN>``.
"""

from __future__ import annotations

from lxml import etree
from zeep import Plugin
from zeep.wsdl.utils import get_or_create_header

from broker.domain.identifiers import new_message_id
from broker.edukoppeling.ns import WSA, q
from broker.edukoppeling.response import anonymous


class EdukoppelingAddressing(Plugin):
    """Egress: set wsa:To/From with OINs and the quoted SOAPAction = wsa:Action (T6).

    ``afzender_oin``: the OIN in wsa:From (the principal). ``ontvanger_oin``: the OIN of the service
    called. ``address``: the logical address for wsa:To (default: the binding's endpoint URL).
    """

    def __init__(self, afzender_oin: str, ontvanger_oin: str, address: str | None = None) -> None:
        self.afzender_oin = afzender_oin
        self.ontvanger_oin = ontvanger_oin
        self.address = address
        #: Set before a call to send that exact MessageID (a retry of a queued push, O5).
        self.message_id: str | None = None

    def egress(self, envelope, http_headers, operation, binding_options):
        header = get_or_create_header(envelope)
        action = operation.abstract.wsa_action or operation.soapaction
        self._set(header, "Action", action)
        if self.message_id is not None or header.find(q(WSA, "MessageID")) is None:
            self._set(header, "MessageID", self.message_id or new_message_id())
        base = (self.address or binding_options["address"]).split("?", 1)[0]
        self._set(header, "To", f"{base}?oin={self.ontvanger_oin}")
        sender = header.find(q(WSA, "From"))
        if sender is None:
            sender = etree.SubElement(header, q(WSA, "From"))
            etree.SubElement(sender, q(WSA, "Address"))
        sender.find(q(WSA, "Address")).text = anonymous(self.afzender_oin)
        http_headers["SOAPAction"] = f'"{action}"'
        return envelope, http_headers

    @staticmethod
    def _set(header: etree._Element, name: str, value: str) -> None:
        element = header.find(q(WSA, name))
        if element is None:
            element = etree.SubElement(header, q(WSA, name))
        element.text = value
