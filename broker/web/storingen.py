"""Deliberate failures ("storingen") in a test environment, so a partner sees how its client handles
the faults a correct request cannot otherwise get from a healthy broker (docs/conformance.md).

One mechanism with two triggers. A fault in ``environ["vva.storing"]`` is raised by the pipeline
(``broker.web.pijplijn``) once the gate has accepted the message (XSD passed) and before the MessageID
memory or the use case is reached, so the answer takes the real fault path: message log, signed,
HTTP 500, nothing applied. The reference receiver's ``--fail`` puts one there for its first requests
(``broker.web.ontvanger``); with the setting ``conformance_storingen`` on (never allowed in
production, ``broker.config``), ``gevraagde_storing`` names one for a ``ping`` whose echo asks for it:

- ``vva-storing:DK0050`` → Server.DK0050: processing failed; the client must not retry it.
- ``vva-storing:DK0051`` → Server.DK0051: not available; the client retries with the same MessageID
  and Body (F7). Every retry of this ping gets DK0051 again.
- ``vva-storing:DK0008`` → the ping stands for a message that refers to an earlier one (the business
  pattern A9 and DK0008 are about): without wsa:RelatesTo it gets Client.DK0008,
  with one it is answered as usual.
"""

from __future__ import annotations

from lxml import etree

from broker.edukoppeling.faults import EdukoppelingFout
from broker.edukoppeling.ns import q

#: The WSGI environ key that carries a deliberate fault into the pipeline.
STORING = "vva.storing"
#: A ping echo that asks for a storing starts with this; the rest is the code.
ECHO = "vva-storing:"
_REDEN = "deliberate failure (conformance_storingen)"


def gevraagde_storing(
    operatie: str, inhoud: etree._Element, relates_to: str | None
) -> EdukoppelingFout | None:
    """The fault a verified request asks for: ``operatie`` is the operation's name, ``inhoud`` its
    Body element (made readable), ``relates_to`` its wsa:RelatesTo or None. None for anything but a
    ``ping`` whose echo is exactly one of the three ``vva-storing:`` texts (any other echo, including
    an unknown code, is simply echoed)."""
    if operatie != "ping":
        return None
    echo = inhoud.findtext(q(etree.QName(inhoud).namespace, "echo"))  # the operation's own namespace
    if echo == f"{ECHO}DK0050":
        return EdukoppelingFout(
            "Server.DK0050", _REDEN, "opzettelijke storing op verzoek (echo vva-storing:DK0050)"
        )
    if echo == f"{ECHO}DK0051":
        return EdukoppelingFout("Server.DK0051", _REDEN)
    if echo == f"{ECHO}DK0008" and relates_to is None:
        return EdukoppelingFout("Client.DK0008", "no wsa:RelatesTo (conformance_storingen)")
    return None
