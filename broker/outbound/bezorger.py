"""Delivers the outbox: ``vva outbox run`` (docs/rules.md, "The broker as client"; F7; the brief: "informs the other
parties of every change immediately").

A worker claims due messages — on PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED`` so any number of
workers share the queue, on SQLite (one writer) with one worker — marks them ``bezig`` for a lease,
and sends each with a zeep client generated from ``wsdl/vva-ontvanger-v1.wsdl``: signed by the
broker's signer (Body, Timestamp, each wsa header, SHA-256), the partner's signed answer verified by
the broker's own verifier and trust store, ``forbid_dtd``/``forbid_entities``/``forbid_external`` on,
timeouts set. A message keeps its MessageID on every attempt, so a receiver that got it but whose
answer was lost recognises the retry (O5). Transport errors, unverifiable answers and DK0051 are
retried with exponential backoff (capped) and jitter for ``outbox_retry_window_s`` from the first
attempt (72 h by default), then dead-lettered; any other fault is final at once. A failed attempt
postpones the receiver's other waiting pushes to the same time, so a receiver that is down costs one
timeout per backoff step, not one per push, and the others are served meanwhile. A pupil's later
message to the same receiver waits until the earlier one is delivered or dead; earlier means lower
``id``, and ids are drawn in commit order (``broker.db.commit_order``). A worker that dies
mid-delivery leaves its messages ``bezig``; after the lease they are
claimed again. Every attempt is written to the message log.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import tempfile
import threading
import time
import weakref
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
import zeep
from lxml import etree
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import aliased
from zeep.transports import Transport

from broker.audit.spoor import PUSH, Gebeurtenis, leg_vast
from broker.bootstrap import Omgeving, hardened_session, hardened_zeep_client
from broker.db import models
from broker.db.berichtenlog import Kop, log_verzonden
from broker.db.models import AFGELEVERD, BEZIG, DOOD, VERVALLEN, WACHTEND
from broker.edukoppeling.contract import ONTVANGER_DIENSTEN, Contract
from broker.edukoppeling.vertrouwen import Vertrouwen
from broker.edukoppeling.wss.ondertekening import Ondertekenaar
from broker.errors import BrokerError
from broker.outbound.adressering import EdukoppelingAdressering
from broker.outbound.ondertekening import EdukoppelingWsse, OnbetrouwbaarAntwoord
from broker.outbound.rendering import laatst_afgeleverd, render, render_signaal
from broker.registry.repository import PartijRegister
from broker.service.context import Verwerking
from broker.service.pushes import actieve_ontvangers

log = logging.getLogger("vva.outbox")

NS = "urn:nl:vva:aanmelden:v1"
MAX_ANTWOORD = 1024 * 1024  # an answer to a push is a few kB
BINDING = "{urn:nl:vva:aanmelden:v1:ontvanger}OntvangerBinding"


@dataclass(frozen=True)
class Taak:
    """One claimed message, detached from the database session."""

    id: int
    ontvanger_oin: str
    endpoint: str
    operatie: str
    message_id: str
    inhoud: bytes
    pogingen: int


class _VastleggendeTransport(Transport):
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


#: The outcomes counted per attempt (``Bezorger.telling``), in the order the summary shows them.
DELIVERED, RETRIED, DEAD = "delivered", "retried", "dead"
UITKOMSTEN = (DELIVERED, RETRIED, DEAD)


class Bezorger:
    """One delivery worker. Keys, trust store and a zeep client per endpoint are built once."""

    def __init__(self, omgeving: Omgeving) -> None:
        self.omgeving = omgeving
        instellingen = omgeving.settings
        self.wsdl = Contract(sleutels=ONTVANGER_DIENSTEN).dienst("ontvanger").wsdl
        # The signer and trust store come from the composition root: the same objects, under the same
        # production rules (no demo CA, no test OIN in a receiver's answer), as the inbound pipeline's.
        self.ondertekenaar: Ondertekenaar = omgeving.signer
        self.vertrouwen: Vertrouwen = omgeving.trust_store
        self._ca_bundel = _bundel(instellingen.ca_bestanden)
        # Removed by ``sluit`` (a worker's normal end), else when this object is collected or the
        # interpreter exits: a start must not leave a file behind in /tmp.
        self._bundel_weg = weakref.finalize(self, _verwijder, self._ca_bundel)
        self._clients: dict[tuple[str, str], tuple] = {}
        self.meervoudig = omgeving.engine.dialect.name == "postgresql"
        #: Outcomes of this worker's attempts, for ``vva outbox run --until-empty``'s summary.
        self.telling: Counter[str] = Counter()

    def sluit(self) -> None:
        """Release what this worker holds outside the database: the CA bundle file."""
        self._bundel_weg()

    # --- the queue -----------------------------------------------------------------------------

    def claim(self, maximum: int = 5) -> list[Taak]:
        """Take up to ``maximum`` due messages, oldest first, never overtaking an earlier undelivered
        message of the same pupil to the same receiver; marks them ``bezig`` for the lease."""
        nu = datetime.now(UTC)
        U, eerder = models.UitgaandBericht, aliased(models.UitgaandBericht)
        voorganger = exists().where(
            eerder.ontvanger_oin == U.ontvanger_oin,
            eerder.volgorde_sleutel == U.volgorde_sleutel,
            eerder.id < U.id,
            eerder.status.in_((WACHTEND, BEZIG)),
        )
        vraag = (
            select(U)
            .where(
                or_(
                    and_(U.status == WACHTEND, U.volgende_poging_op <= nu),
                    and_(U.status == BEZIG, U.bezig_tot < nu),
                ),
                ~voorganger,
            )
            .order_by(U.id)
            .limit(maximum)
            .with_for_update(skip_locked=True)
        )
        with self.omgeving.sessions.begin() as session:
            rijen = []
            for rij in session.scalars(vraag):
                if rij.status == BEZIG and _opgeven(rij, nu, self.omgeving.settings):
                    # Its worker died during the delivery, again and again: never a poison loop.
                    rij.status, rij.laatste_fout, rij.bezig_tot = DOOD, "worker stopped during delivery", None
                    continue
                # The attempt counts from the claim: a message that kills its worker still ends up dead.
                rij.status, rij.pogingen = BEZIG, rij.pogingen + 1
                rij.eerste_poging_op = rij.eerste_poging_op or nu
                rij.bezig_tot = nu + timedelta(seconds=self.omgeving.settings.outbox_bezig_s)
                rijen.append(rij)
            return [
                Taak(r.id, r.ontvanger_oin, r.endpoint, r.operatie, r.message_id, r.inhoud, r.pogingen)
                for r in rijen
            ]

    def ronde(self, maximum: int = 5) -> int:
        """Claim and deliver one batch; returns how many messages were handled."""
        taken = self.claim(maximum)
        uitgesteld: dict[str, datetime] = {}  # receivers that failed in this batch: until when
        for taak in taken:
            if taak.ontvanger_oin in uitgesteld:
                # Not tried: it waits with the receiver's other pushes.
                self._terug(taak, uitgesteld[taak.ontvanger_oin])
            elif (tot := self.lever(taak)) is not None:
                uitgesteld[taak.ontvanger_oin] = tot
        return len(taken)

    def draai(self, tot_leeg: bool = False, stop=None) -> None:
        """Deliver until stopped (``stop()`` true) or, with ``tot_leeg``, until nothing is left to do."""
        pauze = 0.2
        while not (stop and stop()):
            try:
                if self.ronde() == 0:
                    if tot_leeg and not self._nog_werk():
                        return
                    time.sleep(0.2)
                pauze = 0.2
            except (OperationalError, DBAPIError) as exc:
                # The database is away for a moment: wait and go on; claimed messages come back after
                # their lease, so nothing is lost.
                log.error(
                    "outbox worker: database unavailable (%s), retrying in %.1f s", type(exc).__name__, pauze
                )
                time.sleep(pauze)
                pauze = min(pauze * 2, 30.0)

    def _nog_werk(self) -> bool:
        with self.omgeving.sessions() as session:
            return (
                session.scalar(
                    select(models.UitgaandBericht.id)
                    .where(models.UitgaandBericht.status.in_((WACHTEND, BEZIG)))
                    .limit(1)
                )
                is not None
            )

    # --- one delivery ------------------------------------------------------------------------------

    def lever(self, taak: Taak) -> datetime | None:
        """Send ``taak`` once and record the outcome (delivered, retry later, or dead); returns the
        time of the next attempt when the receiver failed (None otherwise). Never raises: whatever goes wrong with one
        message is recorded on it, so one bad message cannot stop a worker."""
        try:
            return self._lever(taak)
        except Exception as exc:  # noqa: BLE001 — recorded, retried, dead-lettered in the end
            log.error("delivery of outbox message %s failed: %s", taak.id, type(exc).__name__)
            self._leg_vast(taak, _VastleggendeTransport(), f"internal {type(exc).__name__}", False)
            return None  # our failure, not the receiver's: its other pushes go on

    def _lever(self, taak: Taak) -> datetime | None:
        endpoint = self._huidig_endpoint(taak.ontvanger_oin)
        if endpoint is None:
            self._afsluiten(taak, VERVALLEN, "receiver no longer registered with an endpoint")
            return None
        if self.omgeving.settings.environment == "production" and not endpoint.startswith("https://"):
            self._afsluiten(taak, DOOD, "endpoint is not https (T8)")
            return None
        inhoud = self._inhoud(taak)
        if inhoud is None:
            return None
        service, adressering, transport = self._client(endpoint, taak.ontvanger_oin)
        # The transport is shared per endpoint: forget the previous push's bytes, so an attempt that
        # fails before sending is not logged or audited with another pupil's message.
        transport.laatste_verzoek, transport.laatste_antwoord = b"", None
        adressering.message_id = taak.message_id
        element = service._binding.wsdl.types.get_element(f"{{{NS}}}{taak.operatie}")
        waarde = element.parse(etree.fromstring(inhoud), service._binding.wsdl.types)
        fout, blijvend = None, False
        try:
            with _uiterlijk(self.omgeving.settings.outbox_timeout_s * 3):
                getattr(service, taak.operatie)(**{naam: waarde[naam] for naam in waarde})
            if transport.laatste_antwoord is None or transport.laatste_antwoord[0] != 200:
                fout = "transport no SOAP answer"  # e.g. an empty 202: nothing signed was received
        except zeep.exceptions.Fault as f:
            fout, blijvend = f"fault {f.code}", not (f.code or "").endswith("Server.DK0051")
        except (
            OnbetrouwbaarAntwoord,
            zeep.exceptions.TransportError,
            requests.RequestException,
            _TeLaat,
        ) as f:
            fout = f"transport {type(f).__name__}"
        except zeep.exceptions.Error as f:
            fout = f"answer {type(f).__name__}"
        opnieuw = self._leg_vast(taak, transport, fout, blijvend)
        if opnieuw is not None:
            self._stel_ontvanger_uit(taak, opnieuw)
        return opnieuw

    def _huidig_endpoint(self, oin: str) -> str | None:
        # The registry as it is now: a party removed, switched off or moved meanwhile gets nothing.
        with self.omgeving.sessions() as session:
            return next(
                (endpoint for partij, endpoint in actieve_ontvangers(session) if partij.oin == oin), None
            )

    def _inhoud(self, taak: Taak) -> bytes | None:
        """The Body to send: rendered now at the first attempt (and kept), the kept one on a retry — or
        None when the push lapsed (receiver may no longer see the pupil, or would learn nothing new)."""
        om = self.omgeving
        with om.sessions.begin() as session:
            rij = session.get(models.UitgaandBericht, taak.id)
            if rij is None:
                return None  # purged with its cycle (``vva cycle close``) since it was claimed
            verwerking = Verwerking(session, om.sleutelbos, om.kalender)
            if rij.operatie == "ontvangenSignaal":
                weergave = render_signaal(verwerking, taak.ontvanger_oin, rij.signaal_id)
            else:
                weergave = render(verwerking, taak.ontvanger_oin, rij.volgorde_sleutel)
            if weergave is None:
                rij.status, rij.laatste_fout, rij.bezig_tot = (
                    VERVALLEN,
                    "receiver may no longer see the pupil",
                    None,
                )
                return None
            if rij.inhoud:
                return om.sleutelbos.ontsleutel_data(rij.inhoud)
            if rij.operatie == "ontvangenSignaal":  # a signal is news by itself: no "nothing new" check
                rij.inhoud, rij.inhoud_digest = om.sleutelbos.versleutel_data(weergave.xml), weergave.digest
                return weergave.xml
            if weergave.digest == laatst_afgeleverd(session, taak.ontvanger_oin, rij.volgorde_sleutel):
                rij.status, rij.laatste_fout, rij.bezig_tot = VERVALLEN, "nothing new for this receiver", None
                return None
            rij.inhoud, rij.inhoud_digest = om.sleutelbos.versleutel_data(weergave.xml), weergave.digest
            return weergave.xml

    def _afsluiten(self, taak: Taak, status: str, reden: str) -> None:
        with self.omgeving.sessions.begin() as session:
            rij = session.get(models.UitgaandBericht, taak.id)
            rij.status, rij.laatste_fout, rij.bezig_tot = status, reden, None
        if status == DOOD:
            self.telling[DEAD] += 1

    def _terug(self, taak: Taak, tot: datetime) -> None:
        """Give a claimed but untried message back, due at ``tot`` with the receiver's other pushes;
        the claim's attempt is undone."""
        with self.omgeving.sessions.begin() as session:
            rij = session.get(models.UitgaandBericht, taak.id)
            if rij is None or rij.status != BEZIG:
                return
            rij.status, rij.bezig_tot, rij.pogingen = WACHTEND, None, rij.pogingen - 1
            if rij.pogingen == 0:
                rij.eerste_poging_op = None
            rij.volgende_poging_op = tot

    def _stel_ontvanger_uit(self, taak: Taak, tot: datetime) -> None:
        """The receiver failed: its other waiting pushes wait as long as the failed one (a circuit
        breaker per receiver), instead of each costing a worker a timeout now."""
        U = models.UitgaandBericht
        with self.omgeving.sessions.begin() as session:
            session.execute(
                update(U)
                .where(
                    U.ontvanger_oin == taak.ontvanger_oin, U.status == WACHTEND, U.volgende_poging_op < tot
                )
                .values(volgende_poging_op=tot)
                .execution_options(synchronize_session=False)
            )

    def _leg_vast(
        self, taak: Taak, transport: _VastleggendeTransport, fout: str | None, blijvend: bool
    ) -> datetime | None:
        """Record the attempt's outcome; returns the next attempt's time when it is to be retried."""
        instellingen = self.omgeving.settings
        nu = datetime.now(UTC)
        with self.omgeving.sessions.begin() as session:
            rij = session.get(models.UitgaandBericht, taak.id)
            if rij is None:
                # Purged with its cycle while this attempt ran: keep nothing of its content, the cycle's
                # personal data are gone; a push that did leave is still audited, without its pupil.
                log.warning("outbox message %s was purged during its delivery", taak.id)
                if transport.laatste_verzoek:
                    self._audit(session, taak, None, (fout or AFGELEVERD)[:40], nu)
                return None
            rij.bezig_tot, opnieuw = None, None
            if fout is None:
                rij.status, rij.afgeleverd_op, rij.laatste_fout = AFGELEVERD, nu, None
                uitkomst_telling = DELIVERED
            elif blijvend or _opgeven(rij, nu, instellingen):
                rij.status, rij.laatste_fout = DOOD, fout
                uitkomst_telling = DEAD
            else:
                rij.status, rij.laatste_fout = WACHTEND, fout
                uitkomst_telling = RETRIED
                opnieuw = nu + timedelta(seconds=_wachttijd(rij.pogingen, instellingen))
                rij.volgende_poging_op = opnieuw
            kop = Kop(
                dienst="ontvanger",
                action=f"{NS}/ontvanger/{taak.operatie}",
                afzender_oin=instellingen.broker_oin,
                ontvanger_oin=taak.ontvanger_oin,
                message_id=taak.message_id,
            )
            status = transport.laatste_antwoord[0] if transport.laatste_antwoord else None
            sleutelbos = self.omgeving.sleutelbos
            uitkomst = rij.status if fout is None else fout[:40]
            log_verzonden(session, transport.laatste_verzoek, kop, uitkomst, status, sleutelbos)
            if transport.laatste_verzoek:  # only what left the broker was disclosed
                self._audit(session, taak, rij, uitkomst, nu)
            if transport.laatste_antwoord:
                antwoordkop = Kop(
                    dienst="ontvanger",
                    afzender_oin=taak.ontvanger_oin,
                    ontvanger_oin=instellingen.broker_oin,
                    relates_to=taak.message_id,
                )
                uitkomst = "antwoord" if fout is None else fout[:40]
                log_verzonden(
                    session, transport.laatste_antwoord[1], antwoordkop, uitkomst, status, sleutelbos, "in"
                )
        self.telling[uitkomst_telling] += 1  # counted once committed
        return opnieuw

    def _audit(
        self, session, taak: Taak, rij: models.UitgaandBericht | None, uitkomst: str, nu: datetime
    ) -> None:
        """A push that left the broker disclosed the pupil to its receiver: record it (AVG art. 5 lid 2),
        whatever the receiver answered (``rij`` None: purged meanwhile, recorded without the pupil)."""
        if rij is None:
            gebeurtenis = Gebeurtenis(
                PUSH, taak.operatie, uitkomst, taak.ontvanger_oin, message_id=taak.message_id, aantal=1
            )
            leg_vast(session, gebeurtenis, nu)
            return
        pupil = rij.signaal_id is None or rij.volgorde_sleutel != f"signaal:{rij.signaal_id}"
        leg_vast(
            session,
            Gebeurtenis(
                PUSH,
                taak.operatie,
                uitkomst,
                partij_oin=taak.ontvanger_oin,
                message_id=taak.message_id,
                # The cycle the push belongs to, not the day it left: a retry after the cycle's last day
                # must be purged with that cycle (``vva cycle close``).
                cyclus_jaar=self.omgeving.kalender.cyclus_op(rij.aangemaakt_op.date()).jaar,
                leerlingen={rij.volgorde_sleutel} if pupil else set(),
                aantal=1,
            ),
            nu,
        )

    def _mandaatcontrole(self, oin: str):
        def gemachtigd(certificaat_oin: str) -> bool:
            with self.omgeving.sessions() as session:
                return PartijRegister(session).mandaat_geldig(certificaat_oin, oin, date.today())

        return gemachtigd

    def _client(self, endpoint: str, oin: str):
        sleutel = (endpoint, oin)
        if sleutel not in self._clients:
            instellingen = self.omgeving.settings
            sessie = hardened_session(
                self._ca_bundel, (instellingen.broker_certificaat, instellingen.broker_sleutel)
            )
            transport = _VastleggendeTransport(
                session=sessie,
                timeout=instellingen.outbox_timeout_s,
                operation_timeout=instellingen.outbox_timeout_s,
            )
            adressering = EdukoppelingAdressering(instellingen.broker_oin, oin, adres=endpoint)
            client = hardened_zeep_client(
                self.wsdl,
                transport=transport,
                wsse=EdukoppelingWsse(
                    self.ondertekenaar,
                    self.vertrouwen,
                    verwacht_oin=oin,
                    gemachtigd=self._mandaatcontrole(oin),
                ),
                plugins=[adressering],
            )
            self._clients[sleutel] = (client.create_service(BINDING, endpoint), adressering, transport)
        return self._clients[sleutel]


class _TeLaat(BrokerError):
    """One delivery attempt took longer than its total deadline (a receiver dripping bytes)."""


@contextmanager
def _uiterlijk(seconden: float):
    """A total deadline for one attempt: requests' timeouts are per read, so a receiver that sends a byte
    a second would hold a worker forever. Uses SIGALRM, so only in a worker's main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def te_laat(*_):
        raise _TeLaat()

    vorige = signal.signal(signal.SIGALRM, te_laat)
    signal.setitimer(signal.ITIMER_REAL, seconden)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, vorige)


def _opgeven(rij: models.UitgaandBericht, nu: datetime, instellingen) -> bool:
    """Whether a failing push has had its chances: its retry window since the first attempt is over,
    or (when set) its maximum number of attempts is reached."""
    if instellingen.outbox_max_pogingen and rij.pogingen >= instellingen.outbox_max_pogingen:
        return True
    eerste = rij.eerste_poging_op
    if eerste is None:
        return False
    if eerste.tzinfo is None:  # SQLite gives naive UTC
        eerste = eerste.replace(tzinfo=UTC)
    return (nu - eerste).total_seconds() >= instellingen.outbox_retry_window_s


def _wachttijd(pogingen: int, instellingen) -> float:
    """Exponential backoff with full jitter around the middle: basis × 2^(n−1), capped, × 0.5–1.5."""
    # The exponent is capped too: after a few days of attempts 2**n would overflow a float.
    basis = min(instellingen.outbox_max_wacht_s, instellingen.outbox_basis_s * 2 ** min(pogingen - 1, 60))
    return basis * random.uniform(0.5, 1.5)


def _bundel(bestanden) -> Path:
    """requests wants one CA file: the trust store's certificates in one temporary PEM file."""
    bundel = tempfile.NamedTemporaryFile(prefix="vva-ca-", suffix=".pem", delete=False)
    with bundel:
        for pad in bestanden:
            bundel.write(Path(pad).read_bytes())
    return Path(bundel.name)


def _verwijder(pad: Path) -> None:
    try:
        os.unlink(pad)
    except FileNotFoundError:
        pass
