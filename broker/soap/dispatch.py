"""Hands the verified tree to spyne without a second parse (docs/architecture.md, "Fixed requirements": the bytes verified
are the bytes the business layer reads).

spyne's own Soap11 protocol would parse ``ctx.in_string`` again, with comments and PIs stripped and
href multi-refs resolved. Here ``create_in_document`` is a no-op and the dispatcher puts the gate's
tree in place; the gate has already made the Body readable (``broker.edukoppeling.reading``) and
validated it against ``xsd/``.
"""

from __future__ import annotations

import logging

from lxml import etree
from spyne import Application, MethodContext
from spyne.protocol.soap import Soap11
from spyne.server import ServerBase

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode
from broker.edukoppeling.ns import SOAP11, q
from broker.soap.models import NS
from broker.soap.services import Work, make_service

# spyne logs exceptions with their text; ours never reach it, and nothing else should be logged by it.
logging.getLogger("spyne").setLevel(logging.CRITICAL)


class _VerifiedSoap11(Soap11):
    def create_in_document(self, ctx, charset=None):
        """The document is already in ``ctx.in_document``: never parse again."""


class _Application(Application):
    def call_wrapper(self, ctx):
        # Keep the service layer's exception for the gate, which maps it to an Edukoppeling fault.
        try:
            return super().call_wrapper(ctx)
        except Exception as exc:  # noqa: BLE001 — handed over, not swallowed
            ctx.udc.error = exc
            return None


class Dispatcher:
    """One spyne application per service, called with the verified envelope."""

    def __init__(self, name: str, operations: list[str]) -> None:
        app = _Application(
            [make_service(name, operations)], tns=NS, in_protocol=_VerifiedSoap11(), out_protocol=Soap11()
        )
        self._server = ServerBase(app)

    def process(self, soap_envelope: etree._Element, work: Work) -> etree._Element:
        """Run the operation of ``soap_envelope``'s Body and return the ``<op>Response`` element.

        Raises whatever the service layer raised (via ``work.error``), or ``EdukoppelingFault``
        Client.DK0004 / Server.DK0050 when spyne itself cannot map the message.
        """
        ctx = MethodContext(self._server, MethodContext.SERVER)
        ctx.in_document = (soap_envelope, {})
        ctx.udc = work
        (ctx,) = self._server.generate_contexts(ctx)
        if ctx.in_error is None:
            self._server.get_in_object(ctx)
        if ctx.in_error is not None:
            raise EdukoppelingFault(FaultCode.CLIENT_DK0004, f"spyne: {type(ctx.in_error).__name__}")
        self._server.get_out_object(ctx)
        if work.error is not None:
            raise work.error
        if ctx.out_error is not None:
            raise EdukoppelingFault(FaultCode.SERVER_DK0050, f"spyne: {type(ctx.out_error).__name__}")
        self._server.app.out_protocol.serialize(ctx, message=self._server.app.out_protocol.RESPONSE)
        body = ctx.out_document.find(q(SOAP11, "Body"))
        return body[0]
