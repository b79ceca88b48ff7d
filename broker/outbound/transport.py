"""Sends one signed push over two-way TLS and reads the answer (the delivery worker's transport;
``broker/outbound/delivery_worker.py`` runs the loop, ``broker/outbound/delivery_queue.py`` the queue).

A zeep client generated from ``wsdl/vva-ontvanger-v1.wsdl`` per endpoint, built once: signed by the
broker's signer (Body, Timestamp, each wsa header, SHA-256), the partner's signed answer verified by
the broker's own verifier and trust store, ``forbid_dtd``/``forbid_entities``/``forbid_external`` on,
timeouts set, the answer read up to ``MAX_RESPONSE`` bytes and the whole attempt bounded by a total
deadline. A message keeps its MessageID on every attempt, so a receiver that got it but whose answer
was lost recognises the retry (O5). The outcome of one attempt is classified here: delivered, a fault
(final unless DK0051), or a transport error or unverifiable answer (retried).
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import weakref
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import requests
import zeep
from lxml import etree
from zeep.transports import Transport

from broker.bootstrap import Runtime, hardened_session, hardened_zeep_client
from broker.edukoppeling.contract import RECEIVER_SERVICES, Contract
from broker.edukoppeling.trust_store import TrustStore
from broker.edukoppeling.wss.signer import Signer
from broker.errors import BrokerError
from broker.outbound.addressing import EdukoppelingAddressing
from broker.outbound.signing import EdukoppelingWsse, UntrustedResponse
from broker.registry.repository import PartijRegistry

NS = "urn:nl:vva:aanmelden:v1"
MAX_RESPONSE = 1024 * 1024  # an answer to a push is a few kB
BINDING = "{urn:nl:vva:aanmelden:v1:ontvanger}OntvangerBinding"


class RecordingTransport(Transport):
    """zeep's transport, keeping the bytes of the last request and answer for the message log."""

    last_request: bytes = b""
    last_response: tuple[int, bytes] | None = None

    def post_xml(self, address, envelope, headers):
        self.last_request = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        self.last_response = None
        response = super().post_xml(address, envelope, headers)
        self.last_response = (response.status_code, response.content)
        return response

    def post(self, address, message, headers):
        """POST and read at most ``MAX_RESPONSE`` bytes of the answer (a receiver cannot exhaust the
        worker's memory or the message log)."""
        response = self.session.post(
            address, data=message, headers=headers, timeout=self.operation_timeout, stream=True
        )
        data = response.raw.read(MAX_RESPONSE + 1, decode_content=True)
        response.close()
        if len(data) > MAX_RESPONSE:
            raise zeep.exceptions.TransportError(
                "answer larger than the limit", status_code=response.status_code
            )
        response._content, response._content_consumed = data, True
        return response


class PushTransport:
    """A worker's transport: keys, trust store and a zeep client per endpoint are built once."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.wsdl = Contract(keys=RECEIVER_SERVICES).service("ontvanger").wsdl
        # The signer and trust store come from the composition root: the same objects, under the same
        # production rules (no demo CA, no test OIN in a receiver's answer), as the inbound pipeline's.
        self.signer: Signer = runtime.signer
        self.trust: TrustStore = runtime.trust_store
        self._ca_bundle = _bundle(settings.ca_files)
        # Removed by ``close`` (a worker's normal end), else when this object is collected or the
        # interpreter exits: a start must not leave a file behind in /tmp.
        self._bundle_gone = weakref.finalize(self, _remove, self._ca_bundle)
        self._clients: dict[tuple[str, str], tuple] = {}

    def close(self) -> None:
        """Release what this transport holds outside the database: the CA bundle file."""
        self._bundle_gone()

    def send(
        self, endpoint: str, ontvanger_oin: str, operatie: str, message_id: str, content: bytes
    ) -> tuple[RecordingTransport, str | None, bool]:
        """Send ``content`` (the Body) once; returns the transport with the bytes that went and came,
        the failure (None when delivered) and whether that failure is final."""
        service, addressing, transport = self._client(endpoint, ontvanger_oin)
        # The transport is shared per endpoint: forget the previous push's bytes, so an attempt that
        # fails before sending is not logged or audited with another pupil's message.
        transport.last_request, transport.last_response = b"", None
        addressing.message_id = message_id
        element = service._binding.wsdl.types.get_element(f"{{{NS}}}{operatie}")
        value = element.parse(etree.fromstring(content), service._binding.wsdl.types)
        error, permanent = None, False
        try:
            with _at_the_latest(self.runtime.settings.outbox_timeout_s * 3):
                getattr(service, operatie)(**{name: value[name] for name in value})
            if transport.last_response is None or transport.last_response[0] != 200:
                error = "transport no SOAP answer"  # e.g. an empty 202: nothing signed was received
        except zeep.exceptions.Fault as f:
            error, permanent = f"fault {f.code}", not (f.code or "").endswith("Server.DK0051")
        except (
            UntrustedResponse,
            zeep.exceptions.TransportError,
            requests.RequestException,
            _TooLate,
        ) as f:
            error = f"transport {type(f).__name__}"
        except zeep.exceptions.Error as f:
            error = f"answer {type(f).__name__}"
        return transport, error, permanent

    def _mandaat_check(self, oin: str):
        def authorised(certificaat_oin: str) -> bool:
            with self.runtime.sessions() as session:
                return PartijRegistry(session).mandaat_valid(certificaat_oin, oin, date.today())

        return authorised

    def _client(self, endpoint: str, oin: str):
        cache_key = (endpoint, oin)
        if cache_key not in self._clients:
            settings = self.runtime.settings
            session = hardened_session(self._ca_bundle, (settings.broker_certificate, settings.broker_key))
            transport = RecordingTransport(
                session=session,
                timeout=settings.outbox_timeout_s,
                operation_timeout=settings.outbox_timeout_s,
            )
            addressing = EdukoppelingAddressing(settings.broker_oin, oin, address=endpoint)
            client = hardened_zeep_client(
                self.wsdl,
                transport=transport,
                wsse=EdukoppelingWsse(
                    self.signer,
                    self.trust,
                    expected_oin=oin,
                    authorised=self._mandaat_check(oin),
                ),
                plugins=[addressing],
            )
            self._clients[cache_key] = (client.create_service(BINDING, endpoint), addressing, transport)
        return self._clients[cache_key]


class _TooLate(BrokerError):
    """One delivery attempt took longer than its total deadline (a receiver dripping bytes)."""


@contextmanager
def _at_the_latest(seconds: float):
    """A total deadline for one attempt: requests' timeouts are per read, so a receiver that sends a byte
    a second would hold a worker forever. Uses SIGALRM, so only in a worker's main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def too_late(*_):
        raise _TooLate()

    previous = signal.signal(signal.SIGALRM, too_late)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _bundle(files) -> Path:
    """requests wants one CA file: the trust store's certificates in one temporary PEM file."""
    bundle = tempfile.NamedTemporaryFile(prefix="vva-ca-", suffix=".pem", delete=False)
    with bundle:
        for path in files:
            bundle.write(Path(path).read_bytes())
    return Path(bundle.name)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
