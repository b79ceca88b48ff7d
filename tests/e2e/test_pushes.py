"""Pushes end to end: the broker's outbox delivers to a real reference receiver on 127.0.0.1.

The receiver is the demo regional system (RMC region 21), which gets every change of a pupil of
school 99XA (Amsterdam, region 21) — signed both ways, retried through failures, never twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import create_engine, text

from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import load_settings
from broker.outbound.delivery_worker import DeliveryWorker
from broker.privacy.keys import load_keyring
from tests.conftest import _postgres_reachable, postgres_schema, require_postgres
from tests.e2e.zeepclient import client
from tests.helpers import broker_process, bsn, free_port, write_config

NS = "http://schemas.xmlsoap.org/soap/envelope/"
REGIO = "00000099000000000042"
SCHOOL_A = "0000000700099XA00000"
MBO_X = "0000000700099XB00000"
OUTBOX = "outbox_base_s = 0.2\noutbox_max_wait_s = 1.0\noutbox_timeout_s = 2.0\noutbox_claim_s = 3.0\noutbox_max_attempts = 12\n"


@dataclass
class Chain:
    broker_config: Path
    broker_url: str
    pki: Path
    receiver_db: str

    def received(self) -> list[int]:
        """wijzigingId of every push the receiver processed (not answered from memory), in order."""
        return [
            int(etree.fromstring(push).findtext(f"{{{NS}}}Body//{{urn:nl:vva:aanmelden:v1}}wijzigingId"))
            for push in self.pushes()
        ]

    def pushes(self) -> list[bytes]:
        """The bytes of every push the receiver processed, in order, as they came over the wire."""
        engine = create_engine(self.receiver_db)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT inhoud FROM bericht WHERE richting = 'in' AND uitkomst = 'verwerkt' ORDER BY id"
                    )
                ).scalars()
                keyring = load_keyring(
                    Path(self.receiver_db.removeprefix("sqlite:///")).parent / "keys.json"
                )
                return [keyring.decrypt_data(bytes(r)) for r in rows]
        finally:
            engine.dispose()

    def outbox_count(self, status: str) -> int:
        engine = create_engine(load_settings(self.broker_config).database_url)
        try:
            with engine.connect() as connection:
                return connection.execute(
                    text("SELECT count(*) FROM outbox_message WHERE status = :s"), {"s": status}
                ).scalar()
        finally:
            engine.dispose()


@contextmanager
def _receiver(folder: Path, pki: Path, faults: str = "", oin: str = REGIO, port: int | None = None):
    """A reference receiver on 127.0.0.1 answering as party ``oin`` (its own demo key); yields its
    endpoint and database URL."""
    folder.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{folder / 'ontvanger.sqlite3'}"
    extra = (
        f'broker_oins = ["{oin}"]\nsigning_key = "{pki / (oin + ".key.pem")}"\n'
        f'signing_certificate = "{pki / (oin + ".cert.pem")}"\n'
    )
    config = write_config(folder, db, profile="2W-be-S", extra=extra)
    config.write_text(config.read_text().replace(f'pki_dir = "{folder / "pki"}"', f'pki_dir = "{pki}"'))
    from broker.privacy.keys import make_key_file

    make_key_file(folder / "keys.json")
    port = port or free_port()
    log_file = (folder / "ontvanger.log").open("wb")
    arguments = [
        sys.executable,
        "-m",
        "broker",
        "receiver",
        "serve",
        "--port",
        str(port),
        "--timeout-s",
        "4",
    ]
    if faults:
        arguments += ["--fail", faults]
    process = subprocess.Popen(
        arguments, env={**os.environ, "VVA_CONFIG": str(config)}, stdout=log_file, stderr=subprocess.STDOUT
    )
    try:
        for _ in range(100):
            try:
                import urllib.request

                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/vva/ontvanger/v1", db
    finally:
        process.terminate()
        process.wait(timeout=15)
        log_file.close()


def register_endpoint(config: Path, endpoint: str) -> None:
    """Give the demo regional system (RMC 21, institution 99XB) a push endpoint."""
    command = [
        "party",
        "add",
        "--oin",
        REGIO,
        "--kind",
        "regionaal-systeem",
        "--name",
        "Regionaal systeem (FICTIEF)",
    ]
    command += ["--rmc", "21", "--brin", "99XB", "--endpoint", endpoint, "--replace"]
    result = CliRunner().invoke(main, ["--config", str(config), *command])
    assert result.exit_code == 0, result.output


@contextmanager
def running_chain(database_url: str, tmp_path: Path, faults: str = ""):
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    config = write_config(broker_dir, database_url, profile="2W-be-S", extra=OUTBOX)
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = broker_dir / "pki"
    with _receiver(tmp_path / "ontvanger", pki, faults) as (endpoint, receiver_db):
        register_endpoint(config, endpoint)
        with broker_process(config) as url:
            yield Chain(config, url, pki, receiver_db)


def _delivery_worker(chain: Chain) -> DeliveryWorker:
    return DeliveryWorker(Runtime(load_settings(chain.broker_config)))


def leerlingen(aantal: int, begin: int = 30000000) -> list[dict]:
    numbers, candidate = [], begin
    while len(numbers) < aantal:
        candidate += 1
        try:
            numbers.append(bsn(str(candidate)))
        except ValueError:
            continue
    return [
        {
            "volgnummer": i,
            "bsn": n,
            "brinVo": "99XA",
            "postcode": "1011AB",
            "woongemeente": "0363",
            "mutatie": "toevoegen",
        }
        for i, n in enumerate(numbers, start=1)
    ]


def test_delivery_through_failures_exactly_once_and_in_order(database_url, tmp_path):
    with running_chain(database_url, tmp_path, faults="503,timeout,DK0051") as chain:
        demo = type("Demo", (), {"url": chain.broker_url, "pki": chain.pki})
        school = client(demo, "vo", SCHOOL_A)
        (p1,) = leerlingen(1)
        assert school.service.aanleverenLeerlingen(leerling=[p1]).aantalVerwerkt == 1
        delivery_worker = _delivery_worker(chain)
        assert delivery_worker.run_round() == 1  # first attempt: the receiver answers 503
        # A later change of the same pupil, queued while the first push is still failing (an untried
        # notice would simply carry the newer state; this one has been tried, so a second is queued).
        mbo = client(demo, "mbo", MBO_X)
        aanmelding = {
            "volgnummer": 1,
            "bsn": p1["bsn"],
            "brinMbo": "99XB",
            "status": "aangemeld",
            "datum": "2026-11-01",
        }
        assert mbo.service.aanleverenAanmeldingen(aanmelding=[aanmelding]).aantalVerwerkt == 1
        assert chain.outbox_count("wachtend") == 2
        delivery_worker.run(until_empty=True)
        time.sleep(4.5)  # the receiver's stalled ("timeout") request finishes in the background
        received = chain.received()
        assert len(received) == 2 and received == sorted(received)  # once each, the first first
        assert chain.outbox_count("afgeleverd") == 2
        for push in chain.pushes():  # signed, with wsse:Security last as gSOAP needs (issue 14, item 10)
            header = etree.fromstring(push).find(f"{{{NS}}}Header")
            names = [etree.QName(block).localname for block in header]
            assert names[-1] == "Security" and names.count("Security") == 1, names
            assert {"Action", "MessageID", "To", "From"} <= set(names[:-1])


def test_sigkill_in_the_middle_of_200_deliveries(database_url, tmp_path):
    with running_chain(database_url, tmp_path) as chain:
        demo = type("Demo", (), {"url": chain.broker_url, "pki": chain.pki})
        assert (
            client(demo, "vo", SCHOOL_A).service.aanleverenLeerlingen(leerling=leerlingen(200)).aantalVerwerkt
            == 200
        )
        assert chain.outbox_count("wachtend") == 200
        env = {**os.environ, "VVA_CONFIG": str(chain.broker_config)}
        worker = subprocess.Popen([sys.executable, "-m", "broker", "outbox", "run"], env=env)
        for _ in range(300):
            if len(chain.received()) >= 40:
                break
            time.sleep(0.1)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        assert 0 < len(chain.received()) < 200
        subprocess.run(
            [sys.executable, "-m", "broker", "outbox", "run", "--until-empty"],
            env=env,
            check=True,
            timeout=300,
        )
        received = chain.received()
        assert len(received) == 200 and len(set(received)) == 200
        assert chain.outbox_count("afgeleverd") == 200


@pytest.fixture
def postgres_url():
    require_postgres(_postgres_reachable())
    with ExitStack() as stack:
        yield stack.enter_context(postgres_schema())


@pytest.mark.postgres
def test_four_workers_on_postgresql_1000_without_duplicate_or_loss(postgres_url, tmp_path):
    with running_chain(postgres_url, tmp_path) as chain:
        demo = type("Demo", (), {"url": chain.broker_url, "pki": chain.pki})
        assert (
            client(demo, "vo", SCHOOL_A)
            .service.aanleverenLeerlingen(leerling=leerlingen(1000))
            .aantalVerwerkt
            == 1000
        )
        env = {**os.environ, "VVA_CONFIG": str(chain.broker_config)}
        subprocess.run(
            [sys.executable, "-m", "broker", "outbox", "run", "--workers", "4", "--until-empty"],
            env=env,
            check=True,
            timeout=600,
        )
        received = chain.received()
        assert len(received) == 1000 and len(set(received)) == 1000
        assert chain.outbox_count("afgeleverd") == 1000
