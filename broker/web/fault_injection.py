"""Deliberate failures ("storingen") in a test environment, so a partner sees how its client handles
the faults a correct request cannot otherwise get from a healthy broker (docs/conformance.md).

A WSGI middleware, installed only in a test environment that enables it, puts a hook in the request's
environ (``FAULT_HOOK``); the pipeline (``broker.web.pipeline``) calls it once the gate has accepted the
message (XSD passed) and before the MessageID memory or the use case is reached, and raises the fault
it returns, so the answer takes the real fault path: message log, signed, HTTP 500, nothing applied.
A production broker never has the middleware, so its requests carry no hook and the step does nothing.

Two middlewares install a hook. ``FaultInjection``, with the setting ``conformance_fault_injection`` on
(never allowed in production, ``broker.config``; ``broker.web.app.make_app``), asks
``requested_fault`` for a ``ping`` whose echo names a fault; the reference receiver's ``--fail``
(``broker.web.receiver``) fails its first requests:

- ``vva-storing:DK0050`` → Server.DK0050: processing failed; the client must not retry it.
- ``vva-storing:DK0051`` → Server.DK0051: not available; the client retries with the same MessageID
  and Body (F7). Every retry of this ping gets DK0051 again.
- ``vva-storing:DK0008`` → the ping stands for a message that refers to an earlier one (the business
  pattern A9 and DK0008 are about): without wsa:RelatesTo it gets Client.DK0008,
  with one it is answered as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode
from broker.edukoppeling.ns import q

#: The WSGI environ key of the hook: called with the operation's name, its Body element (made readable)
#: and its wsa:RelatesTo (or None), it returns the fault to answer with, or None.
FAULT_HOOK = "vva.fault_hook"
FaultHook = Callable[[str, etree._Element, str | None], EdukoppelingFault | None]
#: A ping echo that asks for a storing starts with this; the rest is the code.
ECHO = "vva-storing:"
_REASON = "deliberate failure (conformance_storingen)"


def requested_fault(
    operatie: str, content: etree._Element, relates_to: str | None
) -> EdukoppelingFault | None:
    """The fault a verified request asks for: ``operatie`` is the operation's name, ``content`` its
    Body element (made readable), ``relates_to`` its wsa:RelatesTo or None. None for anything but a
    ``ping`` whose echo is exactly one of the three ``vva-storing:`` texts (any other echo, including
    an unknown code, is simply echoed)."""
    if operatie != "ping":
        return None
    echo = content.findtext(q(etree.QName(content).namespace, "echo"))  # the operation's own namespace
    if echo == f"{ECHO}DK0050":
        return EdukoppelingFault(
            FaultCode.SERVER_DK0050, _REASON, "opzettelijke storing op verzoek (echo vva-storing:DK0050)"
        )
    if echo == f"{ECHO}DK0051":
        return EdukoppelingFault(FaultCode.SERVER_DK0051, _REASON)
    if echo == f"{ECHO}DK0008" and relates_to is None:
        return EdukoppelingFault(FaultCode.CLIENT_DK0008, "no wsa:RelatesTo (conformance_storingen)")
    return None


class FaultInjection:
    """WSGI middleware of a test environment with ``conformance_fault_injection``: every request gets the hook
    ``requested_fault``, unless an outer middleware (the receiver's ``--fail``) has put one there."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        environ.setdefault(FAULT_HOOK, requested_fault)
        return self.app(environ, start_response)
