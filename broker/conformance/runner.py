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

from broker.conformance.manifest import GEACCEPTEERD, TLS_GEWEIGERD, Case, Manifest
from broker.conformance.messages import Bericht, Sender, certificaat_oin, render
from broker.edukoppeling.envelope import read_envelope
from broker.edukoppeling.faults import FAULTSTRINGS, EdukoppelingFault
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU, q
from broker.edukoppeling.parsing import safe_xml_parser
from broker.edukoppeling.trust_store import TrustStore
from broker.edukoppeling.wss.constants import WSSE11
from broker.edukoppeling.wss.verification import verify_envelope
from broker.web.fault_injection import ECHO as STORING_ECHO

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
    """The result of one case: ``gekregen`` the outcome seen, ``problemen`` what was wrong (empty =
    passed), ``overgeslagen`` why the case did not apply (then it neither passes nor fails)."""

    geval: Case
    gekregen: str = ""
    problemen: list[str] = field(default_factory=list)
    overgeslagen: str | None = None
    duur_s: float = 0.0

    @property
    def geslaagd(self) -> bool:
        return self.overgeslagen is None and not self.problemen


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
        doel: Target,
        afzender: Sender,
        connection: Connection = Connection(),
        trust: TrustStore | None = None,
        ondertekend: bool = True,
        bewaar: Path | None = None,
    ) -> None:
        self.manifest, self.doel, self.afzender = manifest, doel, afzender
        self.connection, self.trust, self.ondertekend = connection, trust, ondertekend
        self.bewaar = bewaar  # a folder for every judged request and answer, as sent and received

    def gevallen(self, alleen: Iterable[str] = ()) -> list[Case]:
        """The cases for this endpoint; ``alleen`` restricts them to ids or id prefixes ending in ``*``."""
        patronen = list(alleen)
        return [
            g
            for g in self.manifest.gevallen
            if g.dienst in ("*", self.doel.dienst)
            and self.doel.modus in g.modus
            and (not patronen or any(_fits(g.id, p) for p in patronen))
        ]

    def run(self, gevallen: Iterable[Case]) -> list[Verdict]:
        return [self.run_once(geval) for geval in gevallen]

    def run_once(self, geval: Case) -> Verdict:
        uitslag = Verdict(geval)
        begin = time.monotonic()
        try:
            self._run(geval, uitslag)
        except ValueError as fout:  # the case cannot be made for this tester (e.g. no BRIN)
            uitslag.overgeslagen = str(fout)
        except Exception as fout:  # noqa: BLE001 — one broken case (e.g. a custom manifest) fails, the run goes on
            uitslag.problemen.append(f"the kit could not run this case: {type(fout).__name__}: {fout}")
        uitslag.duur_s = time.monotonic() - begin
        return uitslag

    # --- one case --------------------------------------------------------------------------------

    def _run(self, geval: Case, uitslag: Verdict) -> None:
        if geval.tls and not self.doel.url.startswith("https:"):
            uitslag.overgeslagen = "needs an https endpoint (two-way TLS)"
            return
        if not self.ondertekend:
            if geval.verwacht == "Client.EK0031" or geval.herhaling == "zelfde-bytes" or geval.tijd_s:
                uitslag.overgeslagen = "the endpoint does not use signatures (2W-be)"
                return
            geval = replace(
                geval, ondertekenen=False, mutatie=None if geval.mutatie != "te-groot" else geval.mutatie
            )
        sjabloon = self.manifest.sjabloon(geval)
        bericht = self._render(geval, sjabloon)
        if geval.herhaling is not None:
            eerste = self._send(geval, bericht)
            if eerste.uitkomst != GEACCEPTEERD:
                uitslag.gekregen = eerste.uitkomst
                uitslag.problemen.append(f"the first message was not accepted ({eerste.uitkomst})")
                return
            if geval.herhaling == "opnieuw-ondertekend":
                bericht = self._render(geval, sjabloon, message_id=bericht.message_id)
            elif geval.herhaling == "andere-body":
                bericht = self._render(geval, sjabloon, message_id=bericht.message_id, echo="een andere body")
        antwoord = self._send(geval, bericht)
        if self.bewaar is not None:
            (self.bewaar / f"{geval.id}.request.xml").write_bytes(bericht.data)
            (self.bewaar / f"{geval.id}.response.xml").write_bytes(antwoord.body)
        uitslag.gekregen = antwoord.uitkomst
        if _fault_not_offered(geval, antwoord):
            uitslag.overgeslagen = STORINGEN_UIT
            return
        if antwoord.uitkomst not in geval.uitkomsten:
            uitslag.problemen.append(f"expected {' or '.join(geval.uitkomsten)}, got {antwoord.uitkomst}")
            return
        uitslag.problemen += self._judge(geval, bericht, antwoord)

    def _render(self, geval: Case, sjabloon: str, **herhaling) -> Bericht:
        return render(
            geval,
            sjabloon,
            dienst=self.doel.dienst,
            adres=self.doel.url,
            ontvanger_oin=self.doel.oin,
            afzender=self.afzender,
            **herhaling,
        )

    def _send(self, geval: Case, bericht: Bericht) -> _Response:
        headers = {"Content-Type": geval.content_type}
        data = bericht.data
        if bericht.soapaction is not None:
            headers["SOAPAction"] = bericht.soapaction
        if geval.content_encoding == "gzip":
            headers["Content-Encoding"] = "gzip"
            data = gzip.compress(data)
        deel = urlsplit(self.doel.url)
        zonder_certificaat = geval.tls == "zonder-clientcertificaat"
        if deel.scheme == "https":
            context = ssl.create_default_context(
                cafile=str(self.connection.ca) if self.connection.ca else None
            )
            if self.connection.client and not zonder_certificaat:
                context.load_cert_chain(*(str(p) for p in self.connection.client))
            connection = http.client.HTTPSConnection(
                deel.hostname, deel.port, context=context, timeout=self.connection.timeout_s
            )
        else:
            connection = http.client.HTTPConnection(
                deel.hostname, deel.port, timeout=self.connection.timeout_s
            )
        pad = deel.path + (f"?{deel.query}" if deel.query else "")
        try:
            connection.connect()  # the TLS handshake: a refused client certificate may fail here
            try:
                connection.request("POST", pad, body=data, headers=headers)
            except OSError:
                pass  # answered (413) and closed before reading everything: read that answer
            antwoord = connection.getresponse()
            return _read(antwoord.status, antwoord.getheader("Content-Type", ""), antwoord.read())
        except ssl.SSLError:
            return _Response(0, "", b"", TLS_GEWEIGERD, None)
        except (OSError, http.client.HTTPException) as fout:
            # Under TLS 1.3 a refused client certificate shows only when reading: a closed connection.
            if zonder_certificaat:
                return _Response(0, "", b"", TLS_GEWEIGERD, None)
            return _Response(0, "", b"", f"transport error: {type(fout).__name__}", None)
        finally:
            connection.close()

    # --- judging the answer ------------------------------------------------------------------------

    def _judge(self, geval: Case, bericht: Bericht, antwoord: _Response) -> list[str]:
        if antwoord.root is None:  # a bare HTTP status or a refused handshake: nothing more to check
            return []
        problemen = []
        verwacht_status = 200 if antwoord.uitkomst == GEACCEPTEERD else 500
        if antwoord.status != verwacht_status:
            problemen.append(f"HTTP {antwoord.status}, expected {verwacht_status} (R1, F2)")
        if antwoord.content_type.replace(" ", "").lower() != "text/xml;charset=utf-8":
            problemen.append(f"Content-Type {antwoord.content_type!r}, expected text/xml; charset=UTF-8 (T5)")
        if antwoord.uitkomst == GEACCEPTEERD:
            problemen += _check_response(geval, bericht, antwoord.root)
        else:
            problemen += _check_fault(antwoord.root, antwoord.uitkomst)
        if self.ondertekend:
            problemen += self._check_signature(bericht, antwoord)
        return problemen

    def _check_signature(self, bericht: Bericht, antwoord: _Response) -> list[str]:
        nu = datetime.now(UTC)
        try:
            envelop = read_envelope(antwoord.root, wss_toegestaan=True)
            geverifieerd = verify_envelope(envelop, nu)
            oin = (
                self.trust.check_all(geverifieerd.certificaat, "ondertekening", nu)
                if self.trust is not None
                else certificaat_oin(geverifieerd.certificaat)
            )
        except EdukoppelingFault as fout:
            return [f"answer signature not valid: {fout.reden} (S7, S9)"]
        problemen = []
        if oin != self.doel.oin:
            problemen.append(f"answer signed by OIN {oin}, expected {self.doel.oin}")
        bevestigingen = antwoord.root.findall(
            f"{q(SOAP11, 'Header')}/{q(WSSE, 'Security')}/{q(WSSE11, 'SignatureConfirmation')}"
        )
        if bericht.signature_value is None or antwoord.uitkomst != GEACCEPTEERD:
            return problemen
        if not bevestigingen:
            if self.doel.modus == "broker":  # the broker always confirms (S8, O3); partners may omit it
                problemen.append("no SignatureConfirmation in the answer (S8)")
        elif (
            len(bevestigingen) != 1
            or bevestigingen[0].get("Value") != bericht.signature_value
            or bevestigingen[0].get(q(WSU, "Id")) not in geverifieerd.ondertekend
        ):
            problemen.append("SignatureConfirmation is not one signed copy of our SignatureValue (S8)")
        return problemen


#: Why a deliberate-failure case is skipped: the broker answered the ping as usual.
STORINGEN_UIT = (
    "this broker does not offer deliberate failures (it answered the ping as usual: "
    "conformance_fault_injection is off there); see docs/conformance.md, 'Deliberate failures'"
)


def _fault_not_offered(geval: Case, antwoord: _Response) -> bool:
    """A ``storing-*`` case (a ping whose echo asks for a fault, broker.web.fault_injection) answered as an
    ordinary ping: the broker announces by that answer that it does not offer deliberate failures,
    as every broker without ``conformance_fault_injection`` (and any production broker) does. The case then
    does not apply; a broker that offers them and gives another fault still fails the case."""
    return (
        geval.waarden.get("echo", "").startswith(STORING_ECHO)
        and GEACCEPTEERD not in geval.uitkomsten
        and antwoord.uitkomst == GEACCEPTEERD
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


def _check_response(geval: Case, bericht: Bericht, root: etree._Element) -> list[str]:
    problemen = []
    body = root.find(q(SOAP11, "Body"))
    kinderen = [k for k in body if isinstance(k.tag, str)] if body is not None else []
    verwacht = f"{{urn:nl:vva:aanmelden:v1}}{geval.operatie}Response"
    if len(kinderen) != 1 or kinderen[0].tag != verwacht:
        problemen.append(f"the Body does not hold one {geval.operatie}Response (T2, R1)")
    if geval.resultaat is not None and len(kinderen) == 1:
        problemen += _check_result(geval.resultaat, kinderen[0])
    relates_to = root.findtext(f"{q(SOAP11, 'Header')}/{q(WSA, 'RelatesTo')}")
    if relates_to is None:
        problemen.append("no wsa:RelatesTo in the answer (R4; a client treats this like DK0008)")
    elif relates_to.strip() != bericht.message_id:
        problemen.append("wsa:RelatesTo is not the request's MessageID (R4)")
    return problemen


def _check_result(verwacht: str, antwoord: etree._Element) -> list[str]:
    """Every record's outcome in a ``BatchResultaat`` is ``verwacht``: ``verwerkt`` or its code."""
    vv = "{urn:nl:vva:aanmelden:v1}"
    uitkomsten = [
        "verwerkt" if r.findtext(f"{vv}verwerkt") == "true" else (r.findtext(f"{vv}code") or "")
        for r in antwoord.iter(f"{vv}resultaat")
    ]
    if not uitkomsten or any(u != verwacht for u in uitkomsten):
        return [f"record outcomes {uitkomsten}, expected {verwacht} for each"]
    return []


def _check_fault(root: etree._Element, code: str) -> list[str]:
    problemen = []
    fault = root.find(f"{q(SOAP11, 'Body')}/{q(SOAP11, 'Fault')}")
    faultcode = fault.find("faultcode")
    prefix = (faultcode.text or "").strip().partition(":")[0]
    if faultcode.nsmap.get(prefix) != SOAP11:
        problemen.append("the faultcode prefix is not bound to the SOAP 1.1 namespace (F1)")
    verwacht = FAULTSTRINGS.get(code)
    faultstring = fault.findtext("faultstring") or ""
    if verwacht is not None and not faultstring.startswith(verwacht):
        problemen.append(f"faultstring {faultstring!r}, expected {verwacht!r} (F1)")
    return problemen


def _fits(ident: str, patroon: str) -> bool:
    return ident.startswith(patroon[:-1]) if patroon.endswith("*") else ident == patroon
