"""Sends one signed push over two-way TLS and reads the answer (the delivery worker's transport;
``broker/outbound/delivery_worker.py`` runs the loop, ``broker/outbound/delivery_queue.py`` the queue).

A zeep client generated from ``wsdl/vva-ontvanger-v1.wsdl`` per endpoint, built once: signed by the
broker's signer (Body, Timestamp, each wsa header, SHA-256), the partner's signed answer verified by
the broker's own verifier and trust store, ``forbid_dtd``/``forbid_entities``/``forbid_external`` on,
timeouts set, the answer read up to ``MAX_ANTWOORD`` bytes and the whole attempt bounded by a total
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
from broker.edukoppeling.contract import ONTVANGER_DIENSTEN, Contract
from broker.edukoppeling.trust_store import TrustStore
from broker.edukoppeling.wss.signer import Signer
from broker.errors import BrokerError
from broker.outbound.addressing import EdukoppelingAddressing
from broker.outbound.signing import EdukoppelingWsse, UntrustedResponse
from broker.registry.repository import PartijRegistry

NS = "urn:nl:vva:aanmelden:v1"
MAX_ANTWOORD = 1024 * 1024  # an answer to a push is a few kB
BINDING = "{urn:nl:vva:aanmelden:v1:ontvanger}OntvangerBinding"


class VastleggendeTransport(Transport):
    """zeep's transport, keeping the bytes of the last request and answer for the message log."""

    laatste_verzoek: bytes = b""
    laatste_antwoord: tuple[int, bytes] | None = None

    def post_xml(self, address, envelope, headers):
        self.laatste_verzoek = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        self.laatste_antwoord = None
        antwoord = super().post_xml(address, envelope, headers)
        self.laatste_antwoord = (antwoord.status_code, antwoord.content)
        return antwoord

    def post(self, address, message, headers):
        """POST and read at most ``MAX_ANTWOORD`` bytes of the answer (a receiver cannot exhaust the
        worker's memory or the message log)."""
        antwoord = self.session.post(
            address, data=message, headers=headers, timeout=self.operation_timeout, stream=True
        )
        data = antwoord.raw.read(MAX_ANTWOORD + 1, decode_content=True)
        antwoord.close()
        if len(data) > MAX_ANTWOORD:
            raise zeep.exceptions.TransportError(
                "answer larger than the limit", status_code=antwoord.status_code
            )
        antwoord._content, antwoord._content_consumed = data, True
        return antwoord


class PushTransport:
    """A worker's transport: keys, trust store and a zeep client per endpoint are built once."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.wsdl = Contract(sleutels=ONTVANGER_DIENSTEN).dienst("ontvanger").wsdl
        # The signer and trust store come from the composition root: the same objects, under the same
        # production rules (no demo CA, no test OIN in a receiver's answer), as the inbound pipeline's.
        self.signer: Signer = runtime.signer
        self.trust: TrustStore = runtime.trust_store
        self._ca_bundel = _bundle(settings.ca_files)
        # Removed by ``close`` (a worker's normal end), else when this object is collected or the
        # interpreter exits: a start must not leave a file behind in /tmp.
        self._bundel_weg = weakref.finalize(self, _remove, self._ca_bundel)
        self._clients: dict[tuple[str, str], tuple] = {}

    def close(self) -> None:
        """Release what this transport holds outside the database: the CA bundle file."""
        self._bundel_weg()

    def send(
        self, endpoint: str, ontvanger_oin: str, operatie: str, message_id: str, inhoud: bytes
    ) -> tuple[VastleggendeTransport, str | None, bool]:
        """Send ``inhoud`` (the Body) once; returns the transport with the bytes that went and came,
        the failure (None when delivered) and whether that failure is final."""
        service, adressering, transport = self._client(endpoint, ontvanger_oin)
        # The transport is shared per endpoint: forget the previous push's bytes, so an attempt that
        # fails before sending is not logged or audited with another pupil's message.
        transport.laatste_verzoek, transport.laatste_antwoord = b"", None
        adressering.message_id = message_id
        element = service._binding.wsdl.types.get_element(f"{{{NS}}}{operatie}")
        waarde = element.parse(etree.fromstring(inhoud), service._binding.wsdl.types)
        fout, blijvend = None, False
        try:
            with _at_the_latest(self.runtime.settings.outbox_timeout_s * 3):
                getattr(service, operatie)(**{naam: waarde[naam] for naam in waarde})
            if transport.laatste_antwoord is None or transport.laatste_antwoord[0] != 200:
                fout = "transport no SOAP answer"  # e.g. an empty 202: nothing signed was received
        except zeep.exceptions.Fault as f:
            fout, blijvend = f"fault {f.code}", not (f.code or "").endswith("Server.DK0051")
        except (
            UntrustedResponse,
            zeep.exceptions.TransportError,
            requests.RequestException,
            _TooLate,
        ) as f:
            fout = f"transport {type(f).__name__}"
        except zeep.exceptions.Error as f:
            fout = f"answer {type(f).__name__}"
        return transport, fout, blijvend

    def _mandaatcontrole(self, oin: str):
        def gemachtigd(certificaat_oin: str) -> bool:
            with self.runtime.sessions() as session:
                return PartijRegistry(session).mandaat_geldig(certificaat_oin, oin, date.today())

        return gemachtigd

    def _client(self, endpoint: str, oin: str):
        sleutel = (endpoint, oin)
        if sleutel not in self._clients:
            settings = self.runtime.settings
            sessie = hardened_session(self._ca_bundel, (settings.broker_certificate, settings.broker_key))
            transport = VastleggendeTransport(
                session=sessie,
                timeout=settings.outbox_timeout_s,
                operation_timeout=settings.outbox_timeout_s,
            )
            adressering = EdukoppelingAddressing(settings.broker_oin, oin, adres=endpoint)
            client = hardened_zeep_client(
                self.wsdl,
                transport=transport,
                wsse=EdukoppelingWsse(
                    self.signer,
                    self.trust,
                    verwacht_oin=oin,
                    gemachtigd=self._mandaatcontrole(oin),
                ),
                plugins=[adressering],
            )
            self._clients[sleutel] = (client.create_service(BINDING, endpoint), adressering, transport)
        return self._clients[sleutel]


class _TooLate(BrokerError):
    """One delivery attempt took longer than its total deadline (a receiver dripping bytes)."""


@contextmanager
def _at_the_latest(seconden: float):
    """A total deadline for one attempt: requests' timeouts are per read, so a receiver that sends a byte
    a second would hold a worker forever. Uses SIGALRM, so only in a worker's main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def too_late(*_):
        raise _TooLate()

    vorige = signal.signal(signal.SIGALRM, too_late)
    signal.setitimer(signal.ITIMER_REAL, seconden)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, vorige)


def _bundle(bestanden) -> Path:
    """requests wants one CA file: the trust store's certificates in one temporary PEM file."""
    bundel = tempfile.NamedTemporaryFile(prefix="vva-ca-", suffix=".pem", delete=False)
    with bundel:
        for pad in bestanden:
            bundel.write(Path(pad).read_bytes())
    return Path(bundel.name)


def _remove(pad: Path) -> None:
    try:
        os.unlink(pad)
    except FileNotFoundError:
        pass
