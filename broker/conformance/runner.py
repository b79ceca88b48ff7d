"""Replay the manifest's cases against one endpoint and judge every answer.

A case passes when the outcome (``geaccepteerd``, the fault code, a bare HTTP status or a refused
TLS handshake) is one the manifest allows **and** the answer itself is right: HTTP 200 or 500 with
``text/xml; charset=UTF-8``; an accepted answer holds ``<operatie>Response`` and wsa:RelatesTo = the
request's MessageID; a fault has the table's faultstring with the code's prefix bound to the SOAP 1.1
namespace (F1); under 2W-be-S every SOAP answer, faults included, is signed by the party under
test (S9), the signature verifies, and SignatureConfirmation matches the request (S8).
"""

from __future__ import annotations

import gzip
import http.client
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from broker.conformance.manifest import GEACCEPTEERD, TLS_REFUSED, Case, Manifest
from broker.conformance.messages import Bericht, Sender, certificaat_oin, render
from broker.edukoppeling.envelope import read_envelope
from broker.edukoppeling.faults import FAULTSTRINGS, EdukoppelingFault
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU, q
from broker.edukoppeling.parsing import safe_xml_parser
from broker.edukoppeling.trust_store import TrustStore
from broker.edukoppeling.wss.constants import WSSE11
from broker.edukoppeling.wss.verification import verify_envelope
from broker.web.fault_injection import ECHO as FAULT_ECHO

_PARSER = safe_xml_parser()


@dataclass(frozen=True)
class Target:
    """The endpoint under test: its URL, the service it offers (``vo`` … or ``ontvanger``), the
    mode (``broker`` or ``ontvanger``) and its OIN (wsa:To of our requests, signer of its answers)."""

    url: str
    dienst: str
    modus: str
    oin: str


@dataclass(frozen=True)
class Connection:
    """TLS settings: ``ca`` verifies the server certificate (None: the system's store), ``client``
    is (certificate chain, key) for two-way TLS. Plain http ignores both."""

    ca: Path | None = None
    client: tuple[Path, Path] | None = None
    timeout_s: float = 60.0


@dataclass
class Verdict:
    """The result of one case: ``received`` the outcome seen, ``problems`` what was wrong (empty =
    passed), ``skipped`` why the case did not apply (then it neither passes nor fails)."""

    case: Case
    received: str = ""
    problems: list[str] = field(default_factory=list)
    skipped: str | None = None
    duration_s: float = 0.0

    @property
    def geslaagd(self) -> bool:
        return self.skipped is None and not self.problems


@dataclass(frozen=True)
class _Response:
    status: int
    content_type: str
    body: bytes
    uitkomst: str
    root: etree._Element | None


class Kit:
    """Runs cases for one ``Target`` as one ``Sender``. ``trust`` checks the answers' signing
    certificates (chain and CRL) when given; otherwise only the signature and the signer's OIN."""

    def __init__(
        self,
        manifest: Manifest,
        target: Target,
        sender: Sender,
        connection: Connection = Connection(),
        trust: TrustStore | None = None,
        signed: bool = True,
        save_dir: Path | None = None,
    ) -> None:
        self.manifest, self.target, self.sender = manifest, target, sender
        self.connection, self.trust, self.signed = connection, trust, signed
        self.save_dir = save_dir  # a folder for every judged request and answer, as sent and received

    def cases(self, only: Iterable[str] = ()) -> list[Case]:
        """The cases for this endpoint; ``only`` restricts them to ids or id prefixes ending in ``*``."""
        patterns = list(only)
        return [
            g
            for g in self.manifest.cases
            if g.dienst in ("*", self.target.dienst)
            and self.target.modus in g.modus
            and (not patterns or any(_fits(g.id, p) for p in patterns))
        ]

    def run(self, cases: Iterable[Case]) -> list[Verdict]:
        return [self.run_once(case) for case in cases]

    def run_once(self, case: Case) -> Verdict:
        verdict = Verdict(case)
        start = time.monotonic()
        try:
            self._run(case, verdict)
        except ValueError as error:  # the case cannot be made for this tester (e.g. no BRIN)
            verdict.skipped = str(error)
        except Exception as error:  # noqa: BLE001 — one broken case (e.g. a custom manifest) fails, the run goes on
            verdict.problems.append(f"the kit could not run this case: {type(error).__name__}: {error}")
        verdict.duration_s = time.monotonic() - start
        return verdict

    # --- one case --------------------------------------------------------------------------------

    def _run(self, case: Case, verdict: Verdict) -> None:
        if case.tls and not self.target.url.startswith("https:"):
            verdict.skipped = "needs an https endpoint (two-way TLS)"
            return
        if not self.signed:
            if case.verwacht == "Client.EK0031" or case.herhaling == "zelfde-bytes" or case.tijd_s:
                verdict.skipped = "the endpoint does not use signatures (2W-be)"
                return
            case = replace(
                case, ondertekenen=False, mutatie=None if case.mutatie != "te-groot" else case.mutatie
            )
        sjabloon = self.manifest.sjabloon(case)
        message = self._render(case, sjabloon)
        if case.herhaling is not None:
            first = self._send(case, message)
            if first.uitkomst != GEACCEPTEERD:
                verdict.received = first.uitkomst
                verdict.problems.append(f"the first message was not accepted ({first.uitkomst})")
                return
            if case.herhaling == "opnieuw-ondertekend":
                message = self._render(case, sjabloon, message_id=message.message_id)
            elif case.herhaling == "andere-body":
                message = self._render(case, sjabloon, message_id=message.message_id, echo="een andere body")
        response = self._send(case, message)
        if self.save_dir is not None:
            (self.save_dir / f"{case.id}.request.xml").write_bytes(message.data)
            (self.save_dir / f"{case.id}.response.xml").write_bytes(response.body)
        verdict.received = response.uitkomst
        if _fault_not_offered(case, response):
            verdict.skipped = FAULTS_OFF
            return
        if response.uitkomst not in case.outcomes:
            verdict.problems.append(f"expected {' or '.join(case.outcomes)}, got {response.uitkomst}")
            return
        verdict.problems += self._judge(case, message, response)

    def _render(self, case: Case, sjabloon: str, **repeat) -> Bericht:
        return render(
            case,
            sjabloon,
            dienst=self.target.dienst,
            address=self.target.url,
            ontvanger_oin=self.target.oin,
            sender=self.sender,
            **repeat,
        )

    def _send(self, case: Case, message: Bericht) -> _Response:
        headers = {"Content-Type": case.content_type}
        data = message.data
        if message.soapaction is not None:
            headers["SOAPAction"] = message.soapaction
        if case.content_encoding == "gzip":
            headers["Content-Encoding"] = "gzip"
            data = gzip.compress(data)
        split_url = urlsplit(self.target.url)
        without_certificate = case.tls == "zonder-clientcertificaat"
        if split_url.scheme == "https":
            context = ssl.create_default_context(
                cafile=str(self.connection.ca) if self.connection.ca else None
            )
            if self.connection.client and not without_certificate:
                context.load_cert_chain(*(str(p) for p in self.connection.client))
            connection = http.client.HTTPSConnection(
                split_url.hostname, split_url.port, context=context, timeout=self.connection.timeout_s
            )
        else:
            connection = http.client.HTTPConnection(
                split_url.hostname, split_url.port, timeout=self.connection.timeout_s
            )
        path = split_url.path + (f"?{split_url.query}" if split_url.query else "")
        try:
            connection.connect()  # the TLS handshake: a refused client certificate may fail here
            try:
                connection.request("POST", path, body=data, headers=headers)
            except OSError:
                pass  # answered (413) and closed before reading everything: read that answer
            response = connection.getresponse()
            return _read(response.status, response.getheader("Content-Type", ""), response.read())
        except ssl.SSLError:
            return _Response(0, "", b"", TLS_REFUSED, None)
        except (OSError, http.client.HTTPException) as error:
            # Under TLS 1.3 a refused client certificate shows only when reading: a closed connection.
            if without_certificate:
                return _Response(0, "", b"", TLS_REFUSED, None)
            return _Response(0, "", b"", f"transport error: {type(error).__name__}", None)
        finally:
            connection.close()

    # --- judging the answer ------------------------------------------------------------------------

    def _judge(self, case: Case, message: Bericht, response: _Response) -> list[str]:
        if response.root is None:  # a bare HTTP status or a refused handshake: nothing more to check
            return []
        problems = []
        expected_status = 200 if response.uitkomst == GEACCEPTEERD else 500
        if response.status != expected_status:
            problems.append(f"HTTP {response.status}, expected {expected_status} (R1, F2)")
        if response.content_type.replace(" ", "").lower() != "text/xml;charset=utf-8":
            problems.append(f"Content-Type {response.content_type!r}, expected text/xml; charset=UTF-8 (T5)")
        if response.uitkomst == GEACCEPTEERD:
            problems += _check_response(case, message, response.root)
        else:
            problems += _check_fault(response.root, response.uitkomst)
        if self.signed:
            problems += self._check_signature(message, response)
        return problems

    def _check_signature(self, message: Bericht, response: _Response) -> list[str]:
        now = datetime.now(UTC)
        try:
            soap_envelope = read_envelope(response.root, wss_allowed=True)
            verified = verify_envelope(soap_envelope, now)
            oin = (
                self.trust.check_all(verified.certificate, "ondertekening", now)
                if self.trust is not None
                else certificaat_oin(verified.certificate)
            )
        except EdukoppelingFault as error:
            return [f"answer signature not valid: {error.reason} (S7, S9)"]
        problems = []
        if oin != self.target.oin:
            problems.append(f"answer signed by OIN {oin}, expected {self.target.oin}")
        confirmations = response.root.findall(
            f"{q(SOAP11, 'Header')}/{q(WSSE, 'Security')}/{q(WSSE11, 'SignatureConfirmation')}"
        )
        if message.signature_value is None or response.uitkomst != GEACCEPTEERD:
            return problems
        if not confirmations:
            if self.target.modus == "broker":  # the broker always confirms (S8, O3); partners may omit it
                problems.append("no SignatureConfirmation in the answer (S8)")
        elif (
            len(confirmations) != 1
            or confirmations[0].get("Value") != message.signature_value
            or confirmations[0].get(q(WSU, "Id")) not in verified.signed
        ):
            problems.append("SignatureConfirmation is not one signed copy of our SignatureValue (S8)")
        return problems


#: Why a deliberate-failure case is skipped: the broker answered the ping as usual.
FAULTS_OFF = (
    "this broker does not offer deliberate failures (it answered the ping as usual: "
    "conformance_fault_injection is off there); see docs/conformance.md, 'Deliberate failures'"
)


def _fault_not_offered(case: Case, response: _Response) -> bool:
    """A ``storing-*`` case (a ping whose echo asks for a fault, broker.web.fault_injection) answered as an
    ordinary ping: the broker announces by that answer that it does not offer deliberate failures,
    as every broker without ``conformance_fault_injection`` (and any production broker) does. The case then
    does not apply; a broker that offers them and gives another fault still fails the case."""
    return (
        case.waarden.get("echo", "").startswith(FAULT_ECHO)
        and GEACCEPTEERD not in case.outcomes
        and response.uitkomst == GEACCEPTEERD
    )


def _read(status: int, content_type: str, body: bytes) -> _Response:
    try:
        root = etree.fromstring(body, _PARSER) if body else None
    except etree.XMLSyntaxError:
        root = None
    if root is None or root.tag != q(SOAP11, "Envelope"):
        return _Response(status, content_type, body, f"HTTP {status}", None)
    fault = root.find(f"{q(SOAP11, 'Body')}/{q(SOAP11, 'Fault')}")
    if fault is None:
        uitkomst = GEACCEPTEERD if status == 200 else f"HTTP {status}"
        return _Response(status, content_type, body, uitkomst, root)
    code = (fault.findtext("faultcode") or "").strip()
    return _Response(status, content_type, body, code.partition(":")[2] or code, root)


def _check_response(case: Case, message: Bericht, root: etree._Element) -> list[str]:
    problems = []
    body = root.find(q(SOAP11, "Body"))
    children = [k for k in body if isinstance(k.tag, str)] if body is not None else []
    verwacht = f"{{urn:nl:vva:aanmelden:v1}}{case.operatie}Response"
    if len(children) != 1 or children[0].tag != verwacht:
        problems.append(f"the Body does not hold one {case.operatie}Response (T2, R1)")
    if case.resultaat is not None and len(children) == 1:
        problems += _check_result(case.resultaat, children[0])
    relates_to = root.findtext(f"{q(SOAP11, 'Header')}/{q(WSA, 'RelatesTo')}")
    if relates_to is None:
        problems.append("no wsa:RelatesTo in the answer (R4; a client treats this like DK0008)")
    elif relates_to.strip() != message.message_id:
        problems.append("wsa:RelatesTo is not the request's MessageID (R4)")
    return problems


def _check_result(verwacht: str, response: etree._Element) -> list[str]:
    """Every record's outcome in a ``BatchResultaat`` is ``verwacht``: ``verwerkt`` or its code."""
    vva_ns = "{urn:nl:vva:aanmelden:v1}"
    outcomes = [
        "verwerkt" if r.findtext(f"{vva_ns}verwerkt") == "true" else (r.findtext(f"{vva_ns}code") or "")
        for r in response.iter(f"{vva_ns}resultaat")
    ]
    if not outcomes or any(u != verwacht for u in outcomes):
        return [f"record outcomes {outcomes}, expected {verwacht} for each"]
    return []


def _check_fault(root: etree._Element, code: str) -> list[str]:
    problems = []
    fault = root.find(f"{q(SOAP11, 'Body')}/{q(SOAP11, 'Fault')}")
    faultcode = fault.find("faultcode")
    prefix = (faultcode.text or "").strip().partition(":")[0]
    if faultcode.nsmap.get(prefix) != SOAP11:
        problems.append("the faultcode prefix is not bound to the SOAP 1.1 namespace (F1)")
    verwacht = FAULTSTRINGS.get(code)
    faultstring = fault.findtext("faultstring") or ""
    if verwacht is not None and not faultstring.startswith(verwacht):
        problems.append(f"faultstring {faultstring!r}, expected {verwacht!r} (F1)")
    return problems


def _fits(ident: str, pattern: str) -> bool:
    return ident.startswith(pattern[:-1]) if pattern.endswith("*") else ident == pattern
