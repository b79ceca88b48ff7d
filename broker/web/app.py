"""The broker as a WSGI application: routing, the inbound pipeline and the answers.

One request, in the order of edukoppeling.md §6.1: HTTP framing → message log (raw bytes, committed)
→ one hardened parse → envelope → WS-Addressing → WS-Security per the service's profile →
authorisation → XSD → spyne on the verified tree → service layer, all business writes in one
transaction together with the logged response. Any refusal is an Edukoppeling fault, HTTP 500,
logged, with nothing applied and no stack trace or pupil number in it.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import replace
from datetime import date
from pathlib import Path

from lxml import etree
from sqlalchemy.exc import IntegrityError, OperationalError

from broker.bootstrap import Omgeving
from broker.db.berichtenlog import Kop, leg_uitkomst_vast, log_ontvangen, log_verzonden
from broker.domain.identifiers import is_test_oin
from broker.domain.visibility import Partij, PartijSoort
from broker.edukoppeling.addressing import Adressering, gelezen_voor_fout, lees_adressering
from broker.edukoppeling.contract import Contract, Dienst
from broker.edukoppeling.envelope import lees_envelop
from broker.edukoppeling.faults import EdukoppelingFout, HttpFout
from broker.edukoppeling.lezen import maak_leesbaar
from broker.edukoppeling.parsing import parse_bericht
from broker.edukoppeling.response import bouw_antwoord, bouw_fout
from broker.registry.repository import PartijRegister
from broker.service.context import Aanroep, NietGeautoriseerd, Verwerking
from broker.soap.diensten import Werk
from broker.soap.dispatch import Dispatcher
from broker.web import http

log = logging.getLogger("vva.web")

XML = "text/xml; charset=UTF-8"

#: Which kind of party may call which service (design.md "Parties and what they may see").
DIENST_PARTIJSOORT = {
    "vo": PartijSoort.VO_SCHOOL,
    "mbo": PartijSoort.MBO_INSTELLING,
    "gemeente": PartijSoort.GEMEENTE,
    "regio": PartijSoort.REGIONAAL_SYSTEEM,
}
_SERVICE_NAMEN = {
    "vo": "VoSchool",
    "mbo": "MboInstelling",
    "gemeente": "Gemeente",
    "regio": "RegionaalSysteem",
}


class Broker:
    """The WSGI callable. Built once per process; holds no per-request state."""

    def __init__(self, omgeving: Omgeving, contract: Contract | None = None) -> None:
        if omgeving.settings.environment == "production":
            # Without WS-Security and two-way TLS (issue 3) anyone could claim any OIN in wsa:From.
            raise RuntimeError(
                "refusing to serve in production: the services run profile 2W-be (no signature, no TLS "
                "client authentication) until the WS-Security gate is in place"
            )
        self.omgeving = omgeving
        self.contract = contract or Contract()
        self.dispatchers = {
            pad: Dispatcher(_SERVICE_NAMEN[d.sleutel], [op.naam for op in d.operaties.values()])
            for pad, d in self.contract.diensten.items()
        }
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
            return 200, [("Content-Type", "text/plain; charset=UTF-8")], b"ok\n"
        if pad.startswith("/vva/xsd/") and methode == "GET":
            return self._xsd(pad.removeprefix("/vva/xsd/"))
        dienst = self.contract.diensten.get(pad)
        if dienst is None:
            raise HttpFout(404, "unknown path")
        if methode == "GET" and environ.get("QUERY_STRING", "").lower() == "wsdl":
            return 200, [("Content-Type", XML)], _wsdl_met_adres(dienst, _basis_url(environ) + pad)
        if methode != "POST":
            raise HttpFout(405, "only POST (or GET ?wsdl)", allow="POST, GET")
        return self._soap(environ, dienst)

    def _xsd(self, naam: str) -> tuple[int, list, bytes]:
        bestanden = {p.name: p for p in (self.contract.map / "xsd").glob("*.xsd")}
        if naam not in bestanden:
            raise HttpFout(404, "unknown schema")
        return 200, [("Content-Type", XML)], bestanden[naam].read_bytes()

    # --- the SOAP pipeline -----------------------------------------------------------------------

    def _soap(self, environ, dienst: Dienst) -> tuple[int, list, bytes]:
        raw = http.lees_body(environ, self.omgeving.settings.max_request_bytes)
        try:
            bericht_id = log_ontvangen(self.omgeving.sessions, raw, dienst.sleutel)
        except OperationalError as exc:
            # Nothing may happen to a message that could not be kept: refuse it, retryable (DK0051).
            log.error("message log unavailable: %s", veilige_trace(exc))
            fout = EdukoppelingFout("Server.DK0051", "message log unavailable")
            body, _ = bouw_fout(fout, None, self.omgeving.settings.broker_oin, None)
            return 500, [("Content-Type", XML)], body
        kop = Kop(dienst=dienst.sleutel)
        try:
            http.controleer_content_type(environ)
            soapaction = http.soapaction(environ)
            root = parse_bericht(raw)
            envelop = lees_envelop(root, wss_toegestaan=False)
            message_id, from_oin = gelezen_voor_fout(envelop)
            kop = replace(kop, message_id=message_id, afzender_oin=from_oin)
            adres = lees_adressering(envelop, soapaction, self.omgeving.settings.broker_oins, dienst.acties)
            kop = replace(
                kop,
                action=adres.action,
                afzender_oin=adres.from_oin,
                ontvanger_oin=adres.to_oin,
                message_id=adres.message_id,
                relates_to=adres.relates_to,
            )
            with self.omgeving.sessions() as session:
                partij = self._machtig(session, dienst, adres, certificaat_oin=None)
            maak_leesbaar(envelop.inhoud)  # after WS-Security (issue 3), before the XSD and spyne
            self.contract.valideer(dienst.operaties[adres.action], envelop.inhoud)
            return self._verwerk(dienst, root, adres, kop, bericht_id, partij, certificaat_oin=None)
        except (EdukoppelingFout, NietGeautoriseerd) as fout:
            return self._fout(_als_fout(fout), kop, bericht_id)
        except HttpFout as fout:
            with self.omgeving.sessions.begin() as session:
                leg_uitkomst_vast(session, bericht_id, kop, f"HTTP {fout.status}", fout.reden, fout.status)
            raise
        except (IntegrityError, OperationalError) as exc:
            # A concurrent duplicate or an unreachable database: retryable, so "not available" (F7).
            log.warning("database unavailable or conflict for bericht %s: %s", bericht_id, veilige_trace(exc))
            return self._fout(
                EdukoppelingFout("Server.DK0051", f"database {type(exc).__name__}"), kop, bericht_id
            )
        except Exception as exc:
            log.error("processing failed for bericht %s: %s", bericht_id, veilige_trace(exc))
            return self._fout(
                EdukoppelingFout("Server.DK0050", f"error {type(exc).__name__}"), kop, bericht_id
            )

    def _verwerk(
        self,
        dienst: Dienst,
        root,
        adres: Adressering,
        kop: Kop,
        bericht_id: int,
        partij: Partij,
        certificaat_oin: str | None,
    ) -> tuple[int, list, bytes]:
        om = self.omgeving
        with om.sessions.begin() as session:
            verwerking = Verwerking(session, om.sleutelbos, om.kalender)
            aanroep = Aanroep(partij, adres.message_id, bericht_id, certificaat_oin)
            antwoord = self.dispatchers[dienst.pad].verwerk(root, Werk(dienst.sleutel, verwerking, aanroep))
            body, message_id = bouw_antwoord(
                antwoord, adres.action, adres.message_id, om.settings.broker_oin, adres.from_oin
            )
            log_verzonden(
                session, body, _antwoordkop(kop, om.settings.broker_oin, message_id), "verwerkt", 200
            )
            leg_uitkomst_vast(session, bericht_id, kop, "verwerkt", None, 200)
        return 200, [("Content-Type", XML)], body

    def _machtig(self, session, dienst: Dienst, adres: Adressering, certificaat_oin: str | None) -> Partij:
        """Authorisation (§6.1 step 5): the From OIN is a registered party of the service's kind,
        and the certificate OIN is that party or holds an active mandate for it (§5 M1/M2).
        Raises ``NietGeautoriseerd`` (DK0002) with one text for every case, so the answer never
        tells whether an OIN is known (F3)."""
        register = PartijRegister(session)
        partij = register.zoek(adres.from_oin)
        weigering = NietGeautoriseerd("de afzender (wsa:From) is niet gemachtigd voor deze dienst")
        if partij is None or partij.soort != DIENST_PARTIJSOORT[dienst.sleutel]:
            raise weigering
        if self.omgeving.settings.environment == "production" and is_test_oin(adres.from_oin):
            raise weigering
        if certificaat_oin is not None and not register.mandaat_geldig(
            certificaat_oin, partij.oin, date.today()
        ):
            raise weigering
        return partij

    def _fout(self, fout: EdukoppelingFout, kop: Kop, bericht_id: int) -> tuple[int, list, bytes]:
        om = self.omgeving
        body, message_id = bouw_fout(fout, kop.message_id, om.settings.broker_oin, kop.afzender_oin)
        with om.sessions.begin() as session:
            log_verzonden(
                session, body, _antwoordkop(kop, om.settings.broker_oin, message_id), fout.code, 500
            )
            leg_uitkomst_vast(session, bericht_id, kop, fout.code, fout.reden, 500)
        return 500, [("Content-Type", XML)], body


def _antwoordkop(verzoek: Kop, broker_oin: str, message_id: str) -> Kop:
    """The addressing of the broker's answer to a request with addressing ``verzoek``."""
    return replace(
        verzoek,
        afzender_oin=broker_oin,
        ontvanger_oin=verzoek.afzender_oin,
        message_id=message_id,
        relates_to=verzoek.message_id,
    )


def veilige_trace(exc: BaseException) -> str:
    """Exception type and the frames it passed (file:line function), without the exception text:
    a text may quote database parameters or payload, and a log line must never carry a BSN."""
    frames = traceback.extract_tb(exc.__traceback__)
    plekken = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames[-6:]))
    return f"{type(exc).__name__} at {plekken}"


def _als_fout(fout: EdukoppelingFout | NietGeautoriseerd) -> EdukoppelingFout:
    if isinstance(fout, NietGeautoriseerd):
        return EdukoppelingFout("Client.DK0002", "not authorised", fout.reden)
    return fout


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
    document = etree.fromstring(tekst.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    placeholder = document.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location")
    return tekst.replace(f'location="{placeholder}"', f'location="{adres}"').encode()


_STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    411: "411 Length Required",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    415: "415 Unsupported Media Type",
    500: "500 Internal Server Error",
}
