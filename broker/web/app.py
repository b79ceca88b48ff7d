"""The broker as a WSGI application: routing, the published contract, and the SOAP pipeline.

GET ``?wsdl`` and ``/vva/xsd/…`` serve the contract files; POST to a service path goes through the
one inbound pipeline (``broker.web.pijplijn``). Anything unexpected outside the pipeline is a bare
500 with nothing of the exception in the answer or the log.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from lxml import etree

from broker.bootstrap import Omgeving
from broker.edukoppeling.contract import BROKER_DIENSTEN, Contract, Dienst
from broker.edukoppeling.faults import HttpFout
from broker.edukoppeling.parsing import safe_xml_parser
from broker.web import metriek
from broker.web.gezondheid import gezondheid, outbox_per_ontvanger, outbox_stand
from broker.web.pijplijn import XML, SoapPijplijn, veilige_trace
from broker.web.startcontrole import weiger_onveilige_productie
from broker.web.storingen import FaultInjection

log = logging.getLogger("vva.web")


class Broker:
    """The WSGI callable. Built once per process; holds no per-request state."""

    def __init__(self, omgeving: Omgeving, contract: Contract | None = None) -> None:
        self.omgeving = omgeving
        self.contract = contract or Contract(sleutels=BROKER_DIENSTEN)
        weiger_onveilige_productie(omgeving.settings, self.contract)  # also checked before the fork
        self.pijplijn = SoapPijplijn(omgeving, self.contract)
        _ = self.contract.schema, omgeving.sleutelbos  # fail at start-up, not on the first request

    def __call__(self, environ, start_response):
        try:
            status, headers, body = self._route(environ)
        except HttpFout as fout:
            status, headers, body = (
                fout.status,
                [("Content-Type", "text/plain; charset=UTF-8")],
                f"{fout.reden}\n".encode(),
            )
            if fout.allow:
                headers.append(("Allow", fout.allow))
        except Exception as exc:  # last resort: never a stack trace to the client, nor a text in the log
            log.error("unhandled error outside the SOAP pipeline: %s", veilige_trace(exc))
            status, headers, body = 500, [("Content-Type", "text/plain; charset=UTF-8")], b"internal error\n"
        start_response(_STATUS[status], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    # --- routing -------------------------------------------------------------------------------

    def _route(self, environ) -> tuple[int, list, bytes]:
        pad, methode = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if pad == "/health" and methode == "GET":
            return self._gezondheid()
        if pad == "/metrics" and methode == "GET":
            return self._metriek()
        if pad.startswith("/vva/xsd/") and methode == "GET":
            return self._xsd(pad.removeprefix("/vva/xsd/"))
        dienst = self.contract.diensten.get(pad)
        if dienst is None:
            raise HttpFout(404, "unknown path")
        if methode == "GET" and environ.get("QUERY_STRING", "").lower() == "wsdl":
            return 200, [("Content-Type", XML)], _wsdl_met_adres(dienst, _basis_url(environ) + pad)
        if methode != "POST":
            raise HttpFout(405, "only POST (or GET ?wsdl)", allow="POST, GET")
        return self.pijplijn.verwerk(environ, dienst)

    def _gezondheid(self) -> tuple[int, list, bytes]:
        status, body = gezondheid(
            self.omgeving.sessions,
            self.pijplijn.vertrouwen_in_gebruik,
            self.omgeving.settings.gezondheid_outbox_max_s,
        )
        return status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body

    def _metriek(self) -> tuple[int, list, bytes]:
        body, soort = metriek.exposeer(
            lambda: outbox_stand(self.omgeving.sessions),
            lambda: v.crls_geldig_tot() if (v := self.pijplijn.vertrouwen_in_gebruik()) else None,
            lambda: outbox_per_ontvanger(self.omgeving.sessions),
        )
        return 200, [("Content-Type", soort), ("Cache-Control", "no-store")], body

    def _xsd(self, naam: str) -> tuple[int, list, bytes]:
        bestanden = {p.name: p for p in (self.contract.map / "xsd").glob("*.xsd")}
        if naam not in bestanden:
            raise HttpFout(404, "unknown schema")
        return 200, [("Content-Type", XML)], bestanden[naam].read_bytes()


_HOST = re.compile(r"\A(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z")


def _basis_url(environ) -> str:
    """The base URL the WSDL was asked on. The Host header comes from the client: anything but a
    host name or address with an optional port is refused (HTTP 400), so it can never inject markup
    into the published WSDL."""
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    if not _HOST.match(host):
        raise HttpFout(400, "invalid Host header")
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('SCRIPT_NAME', '')}"


def _wsdl_met_adres(dienst: Dienst, adres: str) -> bytes:
    """The WSDL file of ``dienst`` with only its soap:address location set to where it is served."""
    tekst = Path(dienst.wsdl).read_text(encoding="utf-8")
    document = etree.fromstring(tekst.encode(), safe_xml_parser())
    placeholder = document.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location")
    return tekst.replace(f'location="{placeholder}"', f'location="{adres}"').encode()


_STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    411: "411 Length Required",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    408: "408 Request Timeout",
    413: "413 Content Too Large",
    415: "415 Unsupported Media Type",
    503: "503 Service Unavailable",
    500: "500 Internal Server Error",
}


def make_app(omgeving: Omgeving):
    """The broker's WSGI app as served: with the deliberate failures of the conformance kit
    (``broker.web.storingen.FaultInjection``) only when ``conformance_storingen`` is on."""
    app = Broker(omgeving)
    return FaultInjection(app) if omgeving.settings.conformance_storingen else app
