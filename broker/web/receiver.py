"""The reference receiver: ``vva receiver serve`` implements ``wsdl/vva-ontvanger-v1.wsdl`` with the
broker's full inbound gate, so a regional system or LAS vendor sees exactly what it will be sent.

It accepts pushes only from the facility's OINs (``receiver_senders``), keeps every one in its
message log and answers a redelivery (same MessageID, same Body) from its MessageID memory, so a
retried push is never processed twice. ``faults`` makes it misbehave on purpose for the first
requests — "503", "timeout" (no answer within the sender's timeout) or "DK0051" (a signed fault,
raised by the pipeline once the request passed the gate; ``broker.web.fault_injection``) — to show and
test how the broker retries. ``vva receiver list`` and ``vva receiver show`` (``broker.web.received``)
read that message log back.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from broker.bootstrap import Runtime
from broker.edukoppeling.contract import RECEIVER_SERVICES, Contract
from broker.edukoppeling.faults import EdukoppelingFault, FaultCode
from broker.web.fault_injection import FAULT_HOOK, FaultInjection

if TYPE_CHECKING:
    from broker.web.app import Broker

FAULTS = ("503", "timeout", "DK0051")


class _FaultInjection:
    """WSGI middleware: the first POSTs fail in the given ways, then everything passes through."""

    def __init__(self, app: Broker | FaultInjection, faults: list[str], timeout_s: float) -> None:
        self.app, self.faults, self.timeout_s = app, list(faults), timeout_s
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            fault = (
                self.faults.pop(0) if environ.get("REQUEST_METHOD") == "POST" and self.faults else None
            )
        if fault == "503":
            environ["wsgi.input"].read()
            start_response(
                "503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", "12")]
            )
            return [b"even niet.\r\n"]
        if fault == "timeout":
            time.sleep(self.timeout_s)
        if fault == "DK0051":
            environ[FAULT_HOOK] = _unavailable
        return self.app(environ, start_response)


def _unavailable(*_) -> EdukoppelingFault:
    return EdukoppelingFault(FaultCode.SERVER_DK0051, "deliberate failure (storingen)")


def make_receiver(runtime: Runtime, faults: list[str] = (), timeout_s: float = 15.0):
    """The receiver WSGI app for ``runtime`` (its own database, keys and OIN in ``broker_oins``)."""
    # Imported here, in the worker: broker.web.app creates the Prometheus metrics, which must not
    # happen before ``serve_forever`` has prepared PROMETHEUS_MULTIPROC_DIR (a missing folder crashes).
    from broker.web.app import Broker

    app = Broker(runtime, Contract(keys=RECEIVER_SERVICES))
    if runtime.settings.conformance_fault_injection:
        app = FaultInjection(app)
    return _FaultInjection(app, list(faults), timeout_s) if faults else app
