"""Pushes survive a receiver's long outage, and one receiver that is down does not hold up the others.

The backoff is shortened by settings (``outbox_base_s``, ``outbox_max_wait_s``), so an outage of
more attempts than the old limit of 8 takes seconds; the retry window keeps its default (72 h).
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner
from lxml import etree
from sqlalchemy import create_engine, func, select, text

from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import load_settings
from broker.db import models
from broker.outbound.delivery_worker import DeliveryWorker
from broker.privacy.keys import load_keyring
from tests.e2e.test_misbehaving_receivers import fake_receiver
from tests.e2e.test_pushes import MBO_X, REGIO, SCHOOL_A, _receiver, leerlingen, register_endpoint
from tests.e2e.zeepclient import client
from tests.helpers import broker_process, free_port, write_config

GEMEENTE = "00000099000000000363"  # the demo gemeente Amsterdam: sees pupils living in 0363
FAST = "outbox_base_s = 0.05\noutbox_max_wait_s = 0.2\noutbox_timeout_s = 1.0\n"


def _init(folder: Path, database_url: str, extra: str) -> Path:
    folder.mkdir()
    config = write_config(folder, database_url, profile="2W-be-S", extra=extra)
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    return config


def _per_leerling(receiver_db: str) -> dict[str, list[tuple[int, bool]]]:
    """Per pupil, every push the receiver processed, in the order processed: (wijzigingId, whether it
    tells of an aanmelding)."""
    engine = create_engine(receiver_db)
    keyring = load_keyring(Path(receiver_db.removeprefix("sqlite:///")).parent / "keys.json")
    outcome: dict[str, list[tuple[int, bool]]] = {}
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT inhoud FROM bericht WHERE richting = 'in' AND uitkomst = 'verwerkt' ORDER BY id")
            ).scalars()
            for row in rows:
                xml = etree.fromstring(keyring.decrypt_data(bytes(row)))
                bsn = xml.findtext(".//{urn:nl:vva:aanmelden:v1}bsn")
                number = int(xml.findtext(".//{urn:nl:vva:aanmelden:v1}wijzigingId"))
                aanmelding = xml.find(".//{urn:nl:vva:aanmelden:v1}aanmelding") is not None
                outcome.setdefault(bsn, []).append((number, aanmelding))
    finally:
        engine.dispose()
    return outcome


def _per_status(runtime: Runtime, oin: str) -> dict[str, int]:
    U = models.OutboxMessage
    with runtime.sessions() as session:
        return dict(
            session.execute(
                select(U.status, func.count()).where(U.receiver_oin == oin).group_by(U.status)
            ).all()
        )


def _attempts(runtime: Runtime, oin: str, function=func.sum) -> int:
    U = models.OutboxMessage
    with runtime.sessions() as session:
        return session.scalar(select(func.coalesce(function(U.attempts), 0)).where(U.receiver_oin == oin))


def test_receiver_gone_longer_than_the_old_window_gets_everything_in_order(database_url, tmp_path):
    config = _init(tmp_path / "broker", database_url, FAST)
    port = free_port()  # the receiver's port: nobody listens there yet
    register_endpoint(config, f"http://127.0.0.1:{port}/vva/ontvanger/v1")
    delivery_worker = DeliveryWorker(Runtime(load_settings(config)))
    pupils = leerlingen(4)
    with broker_process(config) as url:
        demo = type("Demo", (), {"url": url, "pki": tmp_path / "broker" / "pki"})
        assert client(demo, "vo", SCHOOL_A).service.aanleverenLeerlingen(leerling=pupils).aantalVerwerkt == 4
        # Tried and failed: the next change of that pupil is a second push. The receiver's other pushes
        # were not tried (it is down), so each will carry its pupil's newest state.
        assert delivery_worker.run_round() == 4
        aanmeldingen = [
            {
                "volgnummer": i,
                "bsn": p["bsn"],
                "brinMbo": "99XB",
                "status": "aangemeld",
                "datum": "2026-11-01",
            }
            for i, p in enumerate(pupils, start=1)
        ]
        mbo = client(demo, "mbo", MBO_X)
        assert mbo.service.aanleverenAanmeldingen(aanmelding=aanmeldingen).aantalVerwerkt == 4
        # Down for far more attempts than the old limit (8) allowed.
        end = time.monotonic() + 60
        while _attempts(delivery_worker.runtime, REGIO, func.max) < 16 and time.monotonic() < end:
            delivery_worker.run_round()
            time.sleep(0.05)
        assert _per_status(delivery_worker.runtime, REGIO) == {"wachtend": 5}

        # /health and /metrics show the receiver's backlog and oldest age, and no pupil.
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            health = response.read().decode()
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        per_receiver = json.loads(health)["checks"]["outbox"]["per_receiver"]
        assert per_receiver[REGIO]["backlog"] == 5 and per_receiver[REGIO]["oldest_s"] > 1.0
        assert f'vva_outbox_receiver_backlog{{receiver="{REGIO}"}} 5.0' in metrics
        oldest = [r for r in metrics.splitlines() if r.startswith("vva_outbox_receiver_oldest_seconds{")]
        assert len(oldest) == 1 and float(oldest[0].split()[-1]) > 1.0
        with delivery_worker.runtime.sessions() as session:
            keys = set(session.scalars(select(models.OutboxMessage.ordering_key)))
        for secret in [p["bsn"] for p in pupils] + sorted(keys):
            assert secret not in health and secret not in metrics

    with _receiver(tmp_path / "ontvanger", tmp_path / "broker" / "pki", port=port) as (_, receiver_db):
        delivery_worker.run(until_empty=True)
        received = _per_leerling(receiver_db)
    assert sorted(received) == sorted(p["bsn"] for p in pupils)
    # Each pupil's pushes in order, the last one with the newest state (the aanmelding); the pupil
    # tried before the change got both.
    for pushes in received.values():
        numbers = [number for number, _ in pushes]
        assert numbers == sorted(set(numbers)) and pushes[-1][1]
    assert sorted(len(pushes) for pushes in received.values()) == [1, 1, 1, 2]
    assert _per_status(delivery_worker.runtime, REGIO) == {"afgeleverd": 5}
    delivery_worker.close()


def test_after_the_window_a_push_is_dead(database_url, tmp_path):
    config = _init(tmp_path / "broker", database_url, FAST + "outbox_retry_window_s = 1.5\n")
    register_endpoint(config, f"http://127.0.0.1:{free_port()}/vva/ontvanger/v1")
    with broker_process(config) as url:
        demo = type("Demo", (), {"url": url, "pki": tmp_path / "broker" / "pki"})
        assert (
            client(demo, "vo", SCHOOL_A).service.aanleverenLeerlingen(leerling=leerlingen(1)).aantalVerwerkt
            == 1
        )
    delivery_worker = DeliveryWorker(Runtime(load_settings(config)))
    begin = time.monotonic()
    delivery_worker.run(until_empty=True)
    assert time.monotonic() - begin >= 1.5  # not given up before the window
    assert _per_status(delivery_worker.runtime, REGIO) == {"dood": 1}
    delivery_worker.close()


def _quiet(connection, stopped):
    """A receiver that accepts, reads and never answers (a hung application server)."""
    stopped.wait(30)


def test_hanging_receiver_does_not_hold_up_a_live_one(database_url, tmp_path):
    # The live receiver is the demo regional system; the gemeente's endpoint stalls. The backoff is long
    # enough that the stalled receiver is not due again while the live one is served.
    config = _init(tmp_path / "broker", database_url, "outbox_base_s = 10.0\noutbox_timeout_s = 1.0\n")
    pki = tmp_path / "broker" / "pki"
    with _receiver(tmp_path / "ontvanger", pki) as (alive, receiver_db), fake_receiver(_quiet) as dead:
        register_endpoint(config, alive)
        command = ["party", "add", "--oin", GEMEENTE, "--kind", "gemeente", "--name", "Amsterdam (FICTIEF)"]
        command += ["--gemeente", "0363", "--endpoint", dead, "--replace"]
        assert CliRunner().invoke(main, ["--config", str(config), *command]).exit_code == 0
        with broker_process(config) as url:
            demo = type("Demo", (), {"url": url, "pki": pki})
            school = client(demo, "vo", SCHOOL_A)
            assert school.service.aanleverenLeerlingen(leerling=leerlingen(10)).aantalVerwerkt == 10
        delivery_worker = DeliveryWorker(Runtime(load_settings(config)))
        assert _per_status(delivery_worker.runtime, GEMEENTE) == {"wachtend": 10}
        end = time.monotonic() + 120
        while (
            _per_status(delivery_worker.runtime, REGIO).get("afgeleverd", 0) < 10 and time.monotonic() < end
        ):
            delivery_worker.run_round()
        # Every push to the live receiver delivered, while the stalled one cost one timeout (at most a
        # second if a batch straddled its backoff), not one per push.
        assert _per_status(delivery_worker.runtime, REGIO) == {"afgeleverd": 10}
        assert len(_per_leerling(receiver_db)) == 10
        assert 1 <= _attempts(delivery_worker.runtime, GEMEENTE) <= 2
        assert _per_status(delivery_worker.runtime, GEMEENTE) == {"wachtend": 10}
        delivery_worker.close()
