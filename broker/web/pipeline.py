"""The one inbound SOAP pipeline, in the check order of docs/rules.md (docs/architecture.md, "The
pipeline", lists the steps as this module runs them).

body read under its size cap → TLS client certificate →
Content-Type and SOAPAction → one hardened parse → envelope → WS-Addressing → WS-Security per the
service's profile (signature, coverage, Timestamp, certificate trust) → authorisation → Body made
readable → XSD → a test environment's deliberate failure, when its middleware asks for one
(``broker.web.fault_injection``) →
MessageID memory (O5) → the raw request into the message log → spyne on the verified tree → service
layer, all business writes in one transaction with the logged request and the logged, signed answer.
Any refusal is an Edukoppeling fault, HTTP 500, logged with the raw request, signed on a -S service,
with nothing applied, no stack trace and no pupil number in it.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from broker.audit.trail import SOAP, AuditEvent, record_event
from broker.bootstrap import Runtime
from broker.db.message_id_memory import Fingerprint, Outcome, Recall, recall, remember
from broker.db.message_log import Header, log_request, log_sent
from broker.domain.visibility import Partij
from broker.edukoppeling.addressing import Addressing, message_id_key, read_addressing, read_before_fault
from broker.edukoppeling.contract import Contract, Service
from broker.edukoppeling.envelope import read_envelope
from broker.edukoppeling.faults import EdukoppelingFault, FaultCode, HttpError, WsSecurityFault
from broker.edukoppeling.ns import SOAP11, q
from broker.edukoppeling.parsing import parse_message, safe_xml_parser
from broker.edukoppeling.reading import make_readable
from broker.edukoppeling.response import build_fault, build_response, to_bytes
from broker.edukoppeling.trust_store import TrustStore
from broker.edukoppeling.wss.signer import Signer
from broker.edukoppeling.wss.verification import VerifierSettings, verify_envelope
from broker.service.authorisation import authorise
from broker.service.context import Caller, NotAuthorised
from broker.service.unit_of_work import unit_of_work
from broker.soap.dispatch import Dispatcher
from broker.soap.services import Work
from broker.web import http, metrics
from broker.web.fault_injection import FAULT_HOOK
from broker.web.tls import client_certificate

log = logging.getLogger("vva.web")

XML = "text/xml; charset=UTF-8"
SIGNED = "2W-be-S"

_SERVICE_NAMES = {
    "vo": "VoSchool",
    "mbo": "MboInstelling",
    "gemeente": "Gemeente",
    "regio": "RegionaalSysteem",
    "ontvanger": "Ontvanger",
}


@dataclass
class _Request:
    """What is known about one request so far; the fault path uses whatever was read."""

    service: Service
    bericht_id: int | None  # the request's row in the message log, once it is written
    now: datetime
    signed: bool
    header: Header = field(default_factory=Header)
    confirm: str | None = None  # the verified request SignatureValue, for SignatureConfirmation (S8)
    raw: bytes = b""
    certificate: str | None = None  # the authenticating certificate, "OIN serial <hex>", for the audit
    executed: bool = False  # the request reached the service layer (audited from there on)
    outcome: str = metrics.OK  # the metrics label: ok, or the fault code of the answer
    deliberate: bool = False  # the fault was asked for by a test environment's middleware

    @property
    def operation(self) -> str:
        """The operation's contract name, for the metrics; never the client's own text."""
        operation = self.service.operations.get(self.header.action or "")
        return operation.name if operation is not None else metrics.UNKNOWN


class SoapPipeline:
    """Processes one SOAP request for one service; built once per process, no per-request state."""

    def __init__(self, runtime: Runtime, contract: Contract) -> None:
        self.runtime = runtime
        self.contract = contract
        settings = runtime.settings
        self.dispatchers = {
            path: Dispatcher(_SERVICE_NAMES[d.service_id], [op.name for op in d.operations.values()])
            for path, d in contract.services.items()
        }
        self.wss = VerifierSettings(
            max_age_s=settings.timestamp_max_age_s,
            future_s=settings.timestamp_future_s,
            confirmation_allowed=False,  # a SignatureConfirmation belongs in answers only (S8)
        )
        if any(settings.profile_of(d.service_id) == SIGNED for d in contract.services.values()):
            _ = self.signer, self.trust  # keys and trust store: fail at start-up, not later

    @property
    def signer(self) -> Signer:
        return self.runtime.signer  # built once, in the composition root (broker.bootstrap)

    @property
    def trust(self) -> TrustStore:
        # A missing CRL file fails at start-up (fail closed, O6); see broker.bootstrap.
        return self.runtime.trust_store

    # --- the pipeline --------------------------------------------------------------------------

    def trust_in_use(self) -> TrustStore | None:
        """The trust store when any service checks certificates (a signed profile or required TLS
        client certificates), else None."""
        settings = self.runtime.settings
        signs = any(
            settings.profile_of(d.service_id) == SIGNED for d in self.contract.services.values()
        )
        return self.trust if signs or settings.client_certificate_required else None

    def process(self, environ: dict, service: Service) -> tuple[int, list, bytes]:
        """Answer one POST to ``dienst``: (HTTP status, headers, body). Raises ``HttpError`` only for
        refusals before any SOAP processing (411, 413, 415, 400). Counts the request in the metrics.

        A database that is down never makes the answer a bare HTTP 500: whatever step finds it gone,
        the client gets a (signed) Server.DK0051 fault and retries with the same MessageID (F7)."""
        start, requests = time.perf_counter(), []
        try:
            response = self._process(environ, service, requests)
        except HttpError as error:
            _count(service, requests, f"HTTP {error.status}", start)
            raise
        except Exception as exc:
            if not database_gone(exc):
                raise
            # The last net, for a step outside the fault path that needed the database.
            if requests:
                requests[0].outcome = _UNAVAILABLE
            signed = self.runtime.settings.profile_of(service.service_id) == SIGNED
            request = requests[0] if requests else _Request(service, None, datetime.now(UTC), signed)
            response = self._unreachable(exc, request)
        # No request object: the answer was DK0051 before the request could be read.
        _count(service, requests, None if requests else _UNAVAILABLE, start)
        return response

    def _process(self, environ: dict, service: Service, requests: list) -> tuple[int, list, bytes]:
        settings = self.runtime.settings
        raw = http.read_body(
            environ,
            settings.max_request_bytes,
            settings.request_read_timeout_s,
            settings.request_min_bytes_per_s,
        )
        signed = self.runtime.settings.profile_of(service.service_id) == SIGNED
        # One clock reading for the request: its message-log rows and its business effect fall in the
        # same cycle, also at midnight on the cycle's last day (the yearly purge relies on it).
        now = datetime.now(UTC)
        request = _Request(service, None, now, signed, Header(dienst=service.service_id), raw=raw)
        requests.append(request)
        # The request is logged in the transaction that applies it (``_apply_all``) or, when it is
        # refused or that transaction fails, with its fault in one of its own (``_fout``): either way
        # the raw bytes are in the message log with the answer, and a request costs one commit.
        try:
            return self._steps(environ, raw, request)
        except (EdukoppelingFault, NotAuthorised) as error:
            return self._fault_response(_as_fault(error), request)
        except HttpError as error:
            self._log_http_refusal(error, request)
            raise
        except Exception as exc:
            return self._failed(exc, request)

    def _failed(self, exc: Exception, request: _Request) -> tuple[int, list, bytes]:
        """The answer to a request whose processing raised ``exc`` (rolled back): a concurrent
        duplicate or an unreachable database is retryable, Server.DK0051 (F7); anything else is
        Server.DK0050. The operator log names the request's row in the message log, once the fault
        path has written it, and never the exception's text."""
        if database_gone(exc) or isinstance(exc, IntegrityError):
            try:
                return self._fault_response(
                    EdukoppelingFault(_UNAVAILABLE, f"database {type(exc).__name__}"), request
                )
            finally:
                log.warning(
                    "database unavailable or conflict for bericht %s: %s",
                    _for_log(request.bericht_id),
                    safe_trace(exc),
                )
        try:
            return self._fault_response(
                EdukoppelingFault(FaultCode.SERVER_DK0050, f"error {type(exc).__name__}"), request
            )
        finally:
            log.error("processing failed for bericht %s: %s", _for_log(request.bericht_id), safe_trace(exc))

    def _log_http_refusal(self, error: HttpError, request: _Request) -> None:
        """Log a request refused on its HTTP framing (415, 400 after the body was read) with that
        refusal. The refusal does not depend on the database: when the log cannot be written, it
        still stands, and the operator log and the metric say that the request was not kept."""
        rt = self.runtime
        request.bericht_id = None  # a row of the rolled-back transaction is not this request's
        try:
            with rt.sessions.begin() as session:
                bericht_id = log_request(
                    session,
                    request.raw,
                    request.header,
                    f"HTTP {error.status}",
                    error.reason,
                    error.status,
                    rt.keyring,
                    request.now,
                )
            request.bericht_id = bericht_id
        except Exception as exc:
            if not database_gone(exc):
                raise
            # Not counted in vva_not_logged, which counts DK0051 answers: the refusal is the answer.
            log.warning("message log unavailable: HTTP %s request not kept: %s", error.status, safe_trace(exc))

    def _unreachable(self, exc: BaseException, request: _Request) -> tuple[int, list, bytes]:
        """The answer when the message log cannot be written: a Server.DK0051 fault, signed on a -S
        service (the key is in memory; signing needs no database), addressed to the request's
        MessageID and From OIN as far as its bytes yield them (F5).

        The request is logged in one transaction with its answer, so neither is kept. The rule puts
        every raw message in the message log; in an outage it cannot go there, and it goes nowhere
        else: the bytes carry pupil numbers, which
        may be kept only encrypted in the database (AVG art. 32), never in a file or the operator
        log. Nothing was applied, and the sender keeps the message and sends it again after DK0051
        (F7), so it reaches the log then. The operator log gets one line without payload: the
        MessageID and From OIN (which cannot hold a BSN in a way that survives the log's number mask,
        broker.privacy.logfilter) and the cause; the metric counts it."""
        header = request.header if request.header.message_id else _header_for_fault(request)
        metrics.NOT_LOGGED.labels(_REQUEST).inc()
        log.error(
            "message log unavailable (%s): answered Server.DK0051 to MessageID %s from OIN %s; "
            "the request is not kept (personal data only goes into the encrypted log; the sender retries)",
            safe_trace(exc),
            _for_log(header.message_id),
            _for_log(header.afzender_oin),
        )
        soap_envelope, _ = build_fault(
            EdukoppelingFault(_UNAVAILABLE, "message log unavailable"),
            header.message_id,
            self.runtime.settings.broker_oin,
            header.afzender_oin,
        )
        return 500, [("Content-Type", XML)], self._fault_bytes(soap_envelope, request)

    def _steps(self, environ: dict, raw: bytes, request: _Request) -> tuple[int, list, bytes]:
        settings = self.runtime.settings
        # check order step 1: the connection's certificate comes before anything in the message (F4).
        tls_oin = self._tls_oin(environ, request)
        http.check_content_type(environ)
        soapaction = http.soapaction(environ)
        root = parse_message(raw)
        soap_envelope = read_envelope(root, wss_allowed=request.signed)
        message_id, from_oin = read_before_fault(soap_envelope)
        request.header = replace(request.header, message_id=message_id, afzender_oin=from_oin)
        address = read_addressing(soap_envelope, soapaction, settings.broker_oins, request.service.actions)
        request.header = replace(
            request.header,
            action=address.action,
            afzender_oin=address.from_oin,
            ontvanger_oin=address.to_oin,
            message_id=address.message_id,
            relates_to=address.relates_to,
        )
        certificaat_oin, signature_value = tls_oin, None
        if request.signed:
            with metrics.measured(metrics.VERIFICATION_DURATION):
                verified = verify_envelope(
                    soap_envelope,
                    request.now,
                    self.wss,
                    trust_check=lambda certificate: self.trust.check_all(
                        certificate, "ondertekening", request.now
                    ),
                )
            certificaat_oin, signature_value = verified.oin, verified.signature_value
            request.certificate = _certificate(certificaat_oin, verified.certificate)
            request.confirm = signature_value
            if tls_oin is not None and tls_oin != certificaat_oin:
                # The connection and the signature must be the same party (M1, M2, O10);
                # the log keeps both OINs (M6).
                request.header = replace(request.header, certificaat_oin=certificaat_oin)
                raise NotAuthorised(
                    "het TLS-certificaat en het ondertekeningscertificaat horen bij verschillende OIN's",
                    audit=f"TLS OIN {tls_oin} differs from signing OIN {certificaat_oin}",
                )
        request.header = replace(request.header, certificaat_oin=certificaat_oin)
        fingerprint = Fingerprint.of(
            address.from_oin, message_id_key(address.message_id), soap_envelope.inhoud, signature_value, certificaat_oin
        )
        # One transaction from authorisation to the logged request and answer: one connection checkout
        # and one commit per request (issue 18). A refusal rolls it back and is logged by ``_fout``.
        with self.runtime.sessions.begin() as session:
            partij = authorise(
                session,
                request.service.service_id,
                request.service.operations[address.action].name,
                address.from_oin,
                certificaat_oin,
                self.runtime.settings,
            )
            make_readable(soap_envelope.body)  # after the signature is verified, before the XSD and spyne
            self.contract.validate(request.service.operations[address.action], soap_envelope.inhoud)
            self._fault(environ, address, soap_envelope.inhoud, request)
            earlier = recall(session, fingerprint, self.runtime.keyring)
            if earlier.outcome is Outcome.RETRY:
                return self._repeat(session, earlier.answer, address, request)
            if earlier.outcome is not Outcome.NEW:
                raise _replay_fault(earlier)
            return self._apply_all(session, root, address, partij, fingerprint, request)

    def _fault(self, environ: dict, address: Addressing, content: etree._Element, request: _Request) -> None:
        """Raise the deliberate fault a test environment's middleware asks for (broker.web.fault_injection);
        nothing without that middleware, as in production."""
        hook = environ.get(FAULT_HOOK)
        if hook is None:
            return
        fault = hook(request.service.operations[address.action].name, content, address.relates_to)
        if fault is not None:
            request.deliberate = True  # logged with its row in the message log by ``_fout``
            raise fault

    def _tls_oin(self, environ: dict, request: _Request) -> str | None:
        """The OIN of the TLS client certificate, checked against the trust store; None without one
        unless one is required. Raises EdukoppelingFault Client.EK0030 (T9, T10; H48) or DK0051."""
        settings = self.runtime.settings
        try:
            certificate = client_certificate(environ, settings.trusted_proxies)
        except ValueError:
            raise EdukoppelingFault(FaultCode.CLIENT_EK0030, "client certificate header unreadable") from None
        if certificate is None:
            if settings.client_certificate_required:
                raise EdukoppelingFault(FaultCode.CLIENT_EK0030, "no TLS client certificate")
            return None
        oin = self.trust.check_all(certificate, "tls", request.now)
        request.certificate = _certificate(oin, certificate)
        return oin

    def _apply_all(
        self, session, root, address: Addressing, partij: Partij, fingerprint: Fingerprint, request: _Request
    ):
        """Run the operation and log, remember and audit its answer, all in ``session``'s transaction."""
        rt = self.runtime
        # From here on the request is audited, whichever write fails (the first is the request's row).
        request.executed = True
        # The evidence first: the business rows below refer to the request's row.
        request.bericht_id = log_request(
            session, request.raw, request.header, "verwerkt", None, 200, rt.keyring, request.now
        )
        call = Caller(partij, address.message_id, request.bericht_id, request.header.certificaat_oin)
        # The service layer queues the pushes the change causes at the end of the unit of work, in this
        # transaction (broker.service.pushes).
        with unit_of_work(session, rt.keyring, rt.calendar, request.now) as processing:
            work = Work(request.service.service_id, processing, call)
            response = self.dispatchers[request.service.path].process(root, work)
        body, message_id = self._response(response, address, request)
        reply_header = _response_header(request.header, rt.settings.broker_oin, message_id)
        antwoord_id = log_sent(session, body, reply_header, "verwerkt", 200, rt.keyring, tijdstip=request.now)
        remember(session, fingerprint, antwoord_id, request.now)
        # Last: appending locks the head of the audit chain until this transaction commits.
        self._audit(session, request, "verwerkt", processing.involved, processing.aantal)
        return 200, [("Content-Type", XML)], body

    def _repeat(
        self, session, earlier: bytes, address: Addressing, request: _Request
    ) -> tuple[int, list, bytes]:
        """Send the stored answer of an applied request again, with fresh headers and signature (O5)."""
        rt = self.runtime
        request.bericht_id = log_request(
            session,
            request.raw,
            request.header,
            "herhaald",
            "idempotent redelivery",
            200,
            rt.keyring,
            request.now,
        )
        previous = etree.fromstring(earlier, safe_xml_parser())
        content = previous.find(q(SOAP11, "Body"))[0]
        body, message_id = self._response(content, address, request)
        reply_header = _response_header(request.header, self.runtime.settings.broker_oin, message_id)
        log_sent(session, body, reply_header, "herhaald", 200, rt.keyring, tijdstip=request.now)
        request.executed = True
        self._audit(session, request, "herhaald")
        return 200, [("Content-Type", XML)], body

    def _response(self, content: etree._Element, address: Addressing, request: _Request) -> tuple[bytes, str]:
        soap_envelope, message_id = build_response(
            content, address.action, address.message_id, self.runtime.settings.broker_oin, address.from_oin
        )
        return self._sign(soap_envelope, request), message_id

    def _sign(self, soap_envelope: etree._Element, request: _Request) -> bytes:
        # S9: every answer of a -S service is signed, faults included; SignatureConfirmation only
        # when the request's signature was verified (S8).
        if request.signed:
            with metrics.measured(metrics.SIGNING_DURATION):
                self.signer.sign(soap_envelope, datetime.now(UTC), confirm=request.confirm)
        return to_bytes(soap_envelope)

    def _fault_bytes(self, soap_envelope: etree._Element, request: _Request) -> bytes:
        """A fault's bytes, signed on a -S service (S9); unsigned when signing fails, since an unsigned
        fault beats no answer at all."""
        try:
            return self._sign(soap_envelope, request)
        except Exception as exc:  # noqa: BLE001 — see the docstring
            log.error("could not sign a fault: %s", safe_trace(exc))
            return to_bytes(soap_envelope)

    def _fault_response(self, error: EdukoppelingFault, request: _Request) -> tuple[int, list, bytes]:
        rt = self.runtime
        request.outcome = error.code
        if request.header.message_id is None:
            request.header = _header_for_fault(request)
        soap_envelope, message_id = build_fault(
            error, request.header.message_id, rt.settings.broker_oin, request.header.afzender_oin
        )
        body = self._fault_bytes(soap_envelope, request)
        request.bericht_id = None  # a row of the rolled-back transaction is not this request's
        try:
            with rt.sessions.begin() as session:
                bericht_id = log_request(
                    session, request.raw, request.header, error.code, error.reason, 500, rt.keyring, request.now
                )
                log_sent(
                    session,
                    body,
                    _response_header(request.header, rt.settings.broker_oin, message_id),
                    error.code,
                    500,
                    rt.keyring,
                    tijdstip=request.now,
                )
                self._audit(session, request, error.code)  # a refused query or delivery is traced too
            request.bericht_id = bericht_id
            if request.deliberate:
                log.warning("deliberate %s for bericht %s: %s", error.code, request.bericht_id, error.reason)
        except Exception as exc:
            if not database_gone(exc):
                raise
            # The fault cannot be logged: answer DK0051 instead, so the sender retries and the
            # exchange is logged in full once the database is back (an unlogged answer is no answer).
            request.outcome = _UNAVAILABLE
            return self._unreachable(exc, request)
        return 500, [("Content-Type", XML)], body

    def _audit(
        self, session, request: _Request, outcome: str, leerlingen: set[str] | None = None, aantal: int = 0
    ) -> None:
        """Append the audit record of a request that reached the service layer of the broker (not
        ``ping``, which touches no personal data, nor the reference receiver)."""
        if not request.executed or request.operation == "ping" or request.service.service_id == "ontvanger":
            return
        event = AuditEvent(
            SOAP,
            request.operation,
            outcome,
            partij_oin=request.header.afzender_oin,
            certificate=request.certificate,
            message_id=request.header.message_id,
            cyclus_jaar=self.runtime.calendar.cyclus_on(request.now.date()).jaar,
            leerlingen=leerlingen or set(),
            record_count=aantal,
        )
        record_event(session, event, request.now)


def _replay_fault(earlier: Recall) -> EdukoppelingFault:
    """The fault for a MessageID seen before (O5): a byte-identical replay → Client.EK0031 (H64, H67),
    the MessageID reused with another Body or certificate → Client.DK0011."""
    if earlier.outcome is Outcome.REPLAY:
        return EdukoppelingFault(
            FaultCode.CLIENT_EK0031,
            "replay of an applied message",
            "Dit ondertekende bericht is al ontvangen en verwerkt. Wie het antwoord opnieuw nodig heeft, "
            "ondertekent hetzelfde bericht (zelfde wsa:MessageID) opnieuw met een nieuwe Timestamp.",
            wss=WsSecurityFault.INVALID_SECURITY,
        )
    return EdukoppelingFault(FaultCode.CLIENT_DK0011, "wsa:InvalidAddressingHeader duplicate MessageID")


def _certificate(oin: str | None, certificate) -> str:
    """How the audit trail names a certificate: its OIN and serial number (hex)."""
    return f"{oin} serial {certificate.serial_number:x}"


_UNAVAILABLE = FaultCode.SERVER_DK0051
#: The label of ``vva_not_logged_total`` for a request that could not be logged.
_REQUEST = "request"


def database_gone(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or used right now (down, restarting,
    shutting down, a connection lost, the pool exhausted), as opposed to a fault in the request or
    in the code. Any of these makes the answer Server.DK0051: retryable (F7)."""
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _for_log(value: str | int | None) -> str:
    """A value the client sent (a MessageID, an OIN) fit for one operator log line: printable ASCII
    without spaces, at most 100 characters; anything else is replaced, so it cannot forge lines. A
    message-log row id as it is; "(unknown)" for None (a row that could not be written)."""
    if value is None:
        return "(unknown)"
    if isinstance(value, int):
        return str(value)
    clean = "".join(t if "!" <= t <= "~" else "?" for t in value[:100])
    return clean + ("…" if len(value) > 100 else "")


def _count(service: Service, requests: list[_Request], outcome: str | None, start: float) -> None:
    """Count the request in the metrics: its outcome (``outcome`` or the request's own) and operation."""
    request = requests[0] if requests else None
    operation = request.operation if request else metrics.UNKNOWN
    outcome = outcome or (request.outcome if request else metrics.OK)
    metrics.count_request(service.service_id, operation, outcome, time.perf_counter() - start)


def _header_for_fault(request: _Request) -> Header:
    """F5 for a fault raised before the message was read (e.g. EK0030 on the TLS certificate): the
    MessageID and From OIN, when the bytes yield them, so the sender can match the fault. Best effort."""
    try:
        message_id, from_oin = read_before_fault(
            read_envelope(parse_message(request.raw), wss_allowed=True)
        )
    except Exception:  # noqa: BLE001 — whatever is wrong with the bytes, the original fault stands
        return request.header
    return replace(request.header, message_id=message_id, afzender_oin=from_oin)


def _response_header(request: Header, broker_oin: str, message_id: str) -> Header:
    """The addressing of the broker's answer to a request with addressing ``request``."""
    return replace(
        request,
        afzender_oin=broker_oin,
        ontvanger_oin=request.afzender_oin,
        message_id=message_id,
        relates_to=request.message_id,
    )


def safe_trace(exc: BaseException) -> str:
    """Exception type and the frames it passed (file:line function), without the exception text:
    a text may quote database parameters or payload, and a log line must never carry a BSN."""
    frames = traceback.extract_tb(exc.__traceback__)
    places = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames[-6:]))
    return f"{type(exc).__name__} at {places}"


def _as_fault(error: EdukoppelingFault | NotAuthorised) -> EdukoppelingFault:
    if isinstance(error, NotAuthorised):
        # The detail tells the sender what to fix; the log gets that and, where given, more (M6).
        return EdukoppelingFault(
            FaultCode.CLIENT_DK0002, f"not authorised: {error.audit or error.reason}", error.reason
        )
    return error
