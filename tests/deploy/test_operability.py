"""Health and metrics of a production-like web node: gunicorn with deploy/gunicorn.conf.py and two
worker processes (Prometheus multiprocess mode), and the health checks one by one."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
import zeep.exceptions
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from broker.cli import main
from broker.db import models
from broker.db.engine import make_session_factory
from broker.edukoppeling.trust_store import TrustStore
from broker.pki.demo import make_demo_pki
from broker.web.health import health
from tests.deploy.nginx import DEPLOY
from tests.e2e.zeepclient import client
from tests.helpers import broker_process, post_soap, write_config

SCHOOL_A, SCHOOL_C = "0000000700099XA00000", "0000000700099XC00000"


@pytest.fixture
def production_node(database_url, tmp_path):
    config = write_config(tmp_path, database_url, profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    gunicorn = str(DEPLOY / "gunicorn.conf.py")
    with broker_process(config, "--gunicorn-config", gunicorn, "--workers", "2") as url:
        yield SimpleNamespace(url=url, pki=tmp_path / "pki")


def _fetch(url: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.get(url, timeout=10)


def test_metrics_count_across_all_workers_without_personal_data(production_node):
    school = client(production_node, "vo", SCHOOL_A)
    for i in range(4):
        assert school.service.ping(echo=f"{i}").echo == f"{i}"
    foreign = client(production_node, "vo", SCHOOL_A, certificaat_oin=SCHOOL_C)
    with pytest.raises(zeep.exceptions.Fault, match="Niet geautoriseerd"):
        foreign.service.ping(echo="x")
    status, body = post_soap(production_node.url, b"<geen-soap/>")
    assert status == 500
    error = re.search(rb"<faultcode>soap:([^<]+)</faultcode>", body).group(1).decode()

    response = _fetch(f"{production_node.url}/metrics")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    requests = Counter()
    for sample in families["vva_requests"].samples:
        if sample.name == "vva_requests_total":
            requests[(sample.labels["service"], sample.labels["operation"], sample.labels["outcome"])] += (
                sample.value
            )
    assert dict(requests) == {
        ("vo", "ping", "ok"): 4,
        ("vo", "ping", "Client.DK0002"): 1,
        ("vo", "unknown", error): 1,
    }
    # Five requests got as far as their signature; all six answers were signed.
    assert _sum(families["vva_verification_seconds"], "vva_verification_seconds_count") == 5
    assert _sum(families["vva_signing_seconds"], "vva_signing_seconds_count") == 6
    assert {s.labels["status"]: s.value for s in families["vva_outbox_messages"].samples} == {
        "wachtend": 0,
        "bezig": 0,
        "dood": 0,
    }
    assert families["vva_crl_valid_until_seconds"].samples[0].value > datetime.now(UTC).timestamp()
    # Labels hold fixed sets only: no OIN, BSN or MessageID (no run of digits beyond a fault code's four).
    labels = {(k, v) for f in families.values() for sample in f.samples for k, v in sample.labels.items()}
    assert {k for k, _ in labels} == {"service", "operation", "outcome", "status", "le"}
    assert not [v for k, v in labels if k != "le" and re.search(r"\d{5}|uuid", v)]


def _sum(family, naam: str) -> float:
    return sum(s.value for s in family.samples if s.name == naam)


def test_health_of_a_healthy_node(production_node):
    response = _fetch(f"{production_node.url}/health")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    state = response.json()
    assert state["status"] == "ok"
    assert state["checks"]["database"] == {"status": "ok"}
    assert state["checks"]["trust"]["status"] == "ok"
    assert state["checks"]["trust"]["remaining_s"] > 3600
    assert state["checks"]["outbox"] == {
        "status": "ok",
        "per_status": {"wachtend": 0, "bezig": 0, "dood": 0},
        "oldest_s": 0.0,
        "per_receiver": {},
    }


def test_health_fails_on_an_expired_crl_and_warns_on_a_backlog(db_engine, tmp_path):
    pki = make_demo_pki(tmp_path / "pki", [])
    trust = TrustStore(pki.ca_files, pki.crl_files)
    sessions = make_session_factory(db_engine)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.add(
            models.OutboxMessage(
                receiver_oin="00000099000000000042",
                endpoint="https://r.example/v1",
                operation="ontvangenWijziging",
                ordering_key="s" * 64,
                message_id="urn:uuid:00000000-0000-4000-8000-000000000001",
                content=b"x",
                status="wachtend",
                attempts=0,
                next_attempt_at=now - timedelta(hours=2),
                created_at=now - timedelta(hours=2),
            )
        )
    status, body = health(sessions, lambda: trust, outbox_max_s=900, now=now)
    state = json.loads(body)
    assert status == 200 and state["status"] == "warning"
    assert state["checks"]["outbox"]["per_status"] == {"wachtend": 1, "bezig": 0, "dood": 0}
    assert 7190 < state["checks"]["outbox"]["oldest_s"] < 7300
    assert state["checks"]["outbox"]["detail"] == "oldest waiting push older than the limit"

    # Past the CRLs' nextUpdate every signed request would be DK0051: the node is out of service.
    later = trust.crls_valid_until() + timedelta(seconds=1)
    status, body = health(sessions, lambda: trust, outbox_max_s=10**9, now=later)
    state = json.loads(body)
    assert status == 503 and state["status"] == "failing"
    assert state["checks"]["trust"]["detail"] == "a CRL is past nextUpdate + grace"
