"""The broker as a WSGI application: routing, the published contract, and the SOAP pipeline.

GET ``?wsdl`` and ``/vva/xsd/…`` serve the contract files; POST to a service path goes through the
one inbound pipeline (``broker.web.pipeline``). Anything unexpected outside the pipeline is a bare
500 with nothing of the exception in the answer or the log.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from lxml import etree

from broker.bootstrap import Runtime
from broker.edukoppeling.contract import BROKER_SERVICES, Contract, Service
from broker.edukoppeling.faults import HttpError
from broker.edukoppeling.parsing import safe_xml_parser
from broker.web import metrics
from broker.web.fault_injection import FaultInjection
from broker.web.health import health, outbox_per_receiver, outbox_state
from broker.web.pipeline import XML, SoapPipeline, safe_trace
from broker.web.startup_checks import refuse_unsafe_production

log = logging.getLogger("vva.web")


class Broker:
    """The WSGI callable. Built once per process; holds no per-request state."""

    def __init__(self, runtime: Runtime, contract: Contract | None = None) -> None:
        self.runtime = runtime
        self.contract = contract or Contract(keys=BROKER_SERVICES)
        refuse_unsafe_production(runtime.settings, self.contract)  # also checked before the fork
        self.pipeline = SoapPipeline(runtime, self.contract)
        _ = self.contract.schema, runtime.keyring  # fail at start-up, not on the first request

    def __call__(self, environ, start_response):
        try:
            status, headers, body = self._route(environ)
        except HttpError as error:
            status, headers, body = (
                error.status,
                [("Content-Type", "text/plain; charset=UTF-8")],
                f"{error.reason}\n".encode(),
            )
            if error.allow:
                headers.append(("Allow", error.allow))
        except Exception as exc:  # last resort: never a stack trace to the client, nor a text in the log
            log.error("unhandled error outside the SOAP pipeline: %s", safe_trace(exc))
            status, headers, body = 500, [("Content-Type", "text/plain; charset=UTF-8")], b"internal error\n"
        start_response(_STATUS[status], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    # --- routing -------------------------------------------------------------------------------

    def _route(self, environ) -> tuple[int, list, bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/health" and method == "GET":
            return self._health()
        if path == "/metrics" and method == "GET":
            return self._metrics()
        if path.startswith("/vva/xsd/") and method == "GET":
            return self._xsd(path.removeprefix("/vva/xsd/"))
        service = self.contract.services.get(path)
        if service is None:
            raise HttpError(404, "unknown path")
        if method == "GET" and environ.get("QUERY_STRING", "").lower() == "wsdl":
            return 200, [("Content-Type", XML)], _wsdl_with_address(service, _base_url(environ) + path)
        if method != "POST":
            raise HttpError(405, "only POST (or GET ?wsdl)", allow="POST, GET")
        return self.pipeline.process(environ, service)

    def _health(self) -> tuple[int, list, bytes]:
        status, body = health(
            self.runtime.sessions,
            self.pipeline.trust_in_use,
            self.runtime.settings.health_outbox_max_s,
        )
        return status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body

    def _metrics(self) -> tuple[int, list, bytes]:
        body, kind = metrics.expose(
            lambda: outbox_state(self.runtime.sessions),
            lambda: v.crls_valid_until() if (v := self.pipeline.trust_in_use()) else None,
            lambda: outbox_per_receiver(self.runtime.sessions),
        )
        return 200, [("Content-Type", kind), ("Cache-Control", "no-store")], body

    def _xsd(self, file_name: str) -> tuple[int, list, bytes]:
        files = {p.name: p for p in (self.contract.map / "xsd").glob("*.xsd")}
        if file_name not in files:
            raise HttpError(404, "unknown schema")
        return 200, [("Content-Type", XML)], files[file_name].read_bytes()


_HOST = re.compile(r"\A(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z")


def _base_url(environ) -> str:
    """The base URL the WSDL was asked on. The Host header comes from the client: anything but a
    host name or address with an optional port is refused (HTTP 400), so it can never inject markup
    into the published WSDL."""
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    if not _HOST.match(host):
        raise HttpError(400, "invalid Host header")
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('SCRIPT_NAME', '')}"


def _wsdl_with_address(service: Service, address: str) -> bytes:
    """The WSDL file of ``dienst`` with only its soap:address location set to where it is served."""
    text = Path(service.wsdl).read_text(encoding="utf-8")
    document = etree.fromstring(text.encode(), safe_xml_parser())
    placeholder = document.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location")
    return text.replace(f'location="{placeholder}"', f'location="{address}"').encode()


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


def make_app(runtime: Runtime):
    """The broker's WSGI app as served: with the deliberate failures of the conformance kit
    (``broker.web.fault_injection.FaultInjection``) only when ``conformance_fault_injection`` is on."""
    app = Broker(runtime)
    return FaultInjection(app) if runtime.settings.conformance_fault_injection else app
