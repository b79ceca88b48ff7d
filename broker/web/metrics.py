"""Prometheus metrics of the web processes, served on ``GET /metrics`` (text exposition format).

Under gunicorn every worker is its own process: ``vva serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at
a fresh folder before the workers start, so the counters and histograms of all workers add up in
one scrape (prometheus_client multiprocess mode). The outbox figures and the CRL deadline are read
at scrape time (the database and the trust store are shared), so they are right whichever worker
answers.

Labels carry only fixed, small sets of values — service, operation names of the contract, fault
codes, outbox statuses — never a MessageID, a BSN or anything else a client sent: a label is kept by
every monitoring system it reaches, and an attacker-chosen value would also blow up the number of
series. The one exception is the receiver of the per-endpoint outbox figures: the OIN of a party the
operator registered with an endpoint (an organisation, from the registry, not from a request), and
only while it has a backlog.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

#: The label of an operation that is not in the service's contract (a wrong wsa:Action) or not read yet.
UNKNOWN = "unknown"
#: The outcome label of an applied request; otherwise the fault code (``Client.DK0002``) or ``HTTP 413``.
OK = "ok"

REQUESTS = Counter(
    "vva_requests",
    "SOAP requests by service, operation and outcome (ok, the Edukoppeling fault code, or HTTP status)",
    ["service", "operation", "outcome"],
)
REQUEST_DURATION = Histogram(
    "vva_request_seconds",
    "Wall time of a SOAP request in the broker, from the first body byte to the signed answer",
    ["service"],
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30),
)
VERIFICATION_DURATION = Histogram(
    "vva_verification_seconds",
    "WS-Security verification of a request: signature, coverage, Timestamp and the signer's certificate",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5),
)
SIGNING_DURATION = Histogram(
    "vva_signing_seconds",
    "Signing an answer (Timestamp, BST, SignatureConfirmation, one reference per part)",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5),
)

#: Answers given while the message log could not be written (an outage). A request is logged in one
#: transaction with its answer, so the label is ``request``: the request (and its answer) not kept; the
#: label ``response`` (the request kept, its answer not) is no longer counted. Always DK0051.
NOT_LOGGED = Counter(
    "vva_not_logged",
    "Requests answered Server.DK0051 because the message log could not be written (request: the "
    "request, logged in one transaction with its answer, could not be kept)",
    ["what"],
)


@contextmanager
def measured(histogram: Histogram) -> Iterator[None]:
    """Observe the wall time of the ``with`` block in ``histogram`` (also when it raises)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - start)


def count_request(service: str, operation: str, outcome: str, duration_s: float) -> None:
    """Count one request. ``operation`` must be an operation name of the contract or ``UNKNOWN``;
    ``outcome`` ``OK``, a fault code or ``HTTP nnn`` (callers pass nothing a client chose)."""
    REQUESTS.labels(service, operation, outcome).inc()
    REQUEST_DURATION.labels(service).observe(duration_s)


class _StateCollector(Collector):
    """Figures read at scrape time: the outbox queue from the database, the CRL deadline from the
    trust store. A failing source leaves its figures out (the health endpoint says why)."""

    def __init__(self, outbox: Callable[[], dict], crls_valid_until: Callable[[], datetime | None]) -> None:
        self._outbox, self._crls_valid_until = outbox, crls_valid_until

    def collect(self):
        try:
            state = self._outbox()
        except Exception:  # noqa: BLE001 — a scrape must not fail on the database; health reports it
            state = None
        if state is not None:
            backlog = GaugeMetricFamily(
                "vva_outbox_messages", "Pushes in the outbox by status", labels=["status"]
            )
            for status, count in sorted(state["per_status"].items()):
                backlog.add_metric([status], count)
            yield backlog
            yield GaugeMetricFamily(
                "vva_outbox_oldest_waiting_seconds",
                "Age of the oldest push still waiting or being delivered (0 when none)",
                value=state["oldest_s"],
            )
        try:
            valid_until = self._crls_valid_until()
        except Exception:  # noqa: BLE001
            valid_until = None
        if valid_until is not None:
            yield GaugeMetricFamily(
                "vva_crl_valid_until_seconds",
                "Unix time at which the first CRL in force passes nextUpdate + grace (then DK0051)",
                value=valid_until.timestamp(),
            )


def expose(
    outbox: Callable[[], dict],
    crls_valid_until: Callable[[], datetime | None],
    outbox_per_receiver: Callable[[], dict[str, dict]] | None = None,
) -> tuple[bytes, str]:
    """The metrics of this installation as (body, content type): the counters and histograms of every
    worker process (multiprocess mode under gunicorn) or of this process, plus the scrape-time figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_StateCollector(outbox, crls_valid_until))
    if outbox_per_receiver is not None:
        registry.register(_ReceiverCollector(outbox_per_receiver))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _ReceiverCollector(Collector):
    """Per receiver (the OIN of its registration) its push backlog and the age of its oldest undelivered
    push, read at scrape time: one receiver that is down shows, while the others are served."""

    def __init__(self, per_receiver: Callable[[], dict[str, dict]]) -> None:
        self._per_receiver = per_receiver

    def collect(self):
        try:
            state = self._per_receiver()
        except Exception:  # noqa: BLE001 — a scrape must not fail on the database; health reports it
            return
        backlog = GaugeMetricFamily(
            "vva_outbox_receiver_backlog",
            "Pushes waiting or being delivered, per receiver (the OIN of its registration)",
            labels=["receiver"],
        )
        oldest = GaugeMetricFamily(
            "vva_outbox_receiver_oldest_seconds",
            "Age of the oldest undelivered push, per receiver (the OIN of its registration)",
            labels=["receiver"],
        )
        for oin, cijfers in sorted(state.items()):
            backlog.add_metric([oin], cijfers["backlog"])
            oldest.add_metric([oin], cijfers["oldest_s"])
        yield backlog
        yield oldest


class _ThisProcess(Collector):
    """This process's own metrics, when it is not one of several gunicorn workers (tests, benchmarks)."""

    def collect(self):
        yield from REGISTRY.collect()
