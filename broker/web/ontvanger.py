"""The reference receiver: ``vva receiver serve`` implements ``wsdl/vva-ontvanger-v1.wsdl`` with the
broker's full inbound gate, so a regional system or LAS vendor sees exactly what it will be sent.

It accepts pushes only from the facility's OINs (``ontvanger_afzenders``), keeps every one in its
message log and answers a redelivery (same MessageID, same Body) from its MessageID memory, so a
retried push is never processed twice. ``storingen`` makes it misbehave on purpose for the first
requests — "503", "timeout" (no answer within the sender's timeout) or "DK0051" (a signed fault,
raised by the pipeline once the request passed the gate; ``broker.web.storingen``) — to show and
test how the broker retries. ``vva receiver list`` and ``vva receiver show`` (``broker.web.ontvangen``)
read that message log back.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from broker.bootstrap import Omgeving
from broker.edukoppeling.contract import ONTVANGER_DIENSTEN, Contract
from broker.edukoppeling.faults import EdukoppelingFout, FaultCode
from broker.web.storingen import FAULT_HOOK, FaultInjection

if TYPE_CHECKING:
    from broker.web.app import Broker

STORINGEN = ("503", "timeout", "DK0051")


class _Storingen:
    """WSGI middleware: the first POSTs fail in the given ways, then everything passes through."""

    def __init__(self, app: Broker | FaultInjection, storingen: list[str], timeout_s: float) -> None:
        self.app, self.storingen, self.timeout_s = app, list(storingen), timeout_s
        self._slot = threading.Lock()

    def __call__(self, environ, start_response):
        with self._slot:
            storing = (
                self.storingen.pop(0) if environ.get("REQUEST_METHOD") == "POST" and self.storingen else None
            )
        if storing == "503":
            environ["wsgi.input"].read()
            start_response(
                "503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", "12")]
            )
            return [b"even niet.\r\n"]
        if storing == "timeout":
            time.sleep(self.timeout_s)
        if storing == "DK0051":
            environ[FAULT_HOOK] = _niet_beschikbaar
        return self.app(environ, start_response)


def _niet_beschikbaar(*_) -> EdukoppelingFout:
    return EdukoppelingFout(FaultCode.SERVER_DK0051, "deliberate failure (storingen)")


def maak_ontvanger(omgeving: Omgeving, storingen: list[str] = (), timeout_s: float = 15.0):
    """The receiver WSGI app for ``omgeving`` (its own database, keys and OIN in ``broker_oins``)."""
    # Imported here, in the worker: broker.web.app creates the Prometheus metrics, which must not
    # happen before ``serveer`` has prepared PROMETHEUS_MULTIPROC_DIR (a missing folder crashes).
    from broker.web.app import Broker

    app = Broker(omgeving, Contract(sleutels=ONTVANGER_DIENSTEN))
    if omgeving.settings.conformance_storingen:
        app = FaultInjection(app)
    return _Storingen(app, list(storingen), timeout_s) if storingen else app
