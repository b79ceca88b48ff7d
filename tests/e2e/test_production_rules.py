"""In production the outbox checks receivers' answers by the same rules as the inbound pipeline: the
signer and trust store are built once, in the composition root (``broker.bootstrap``), and handed to
both. A receiver answer signed by a test OIN (H48) is not a delivery; a demo CA (H45) is refused
before the first push."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import TEST_BROKER_OIN, load_settings
from broker.db import models
from broker.edukoppeling.contract import BROKER_SERVICES, Contract
from broker.outbound.delivery_worker import DeliveryWorker
from broker.pki import demo
from broker.privacy.keys import make_key_file
from broker.web.pipeline import SoapPipeline
from tests.e2e.test_pushes import OUTBOX, REGIO, SCHOOL_A, leerlingen, register_endpoint
from tests.e2e.zeepclient import client
from tests.helpers import _wait_for, broker_process, free_port, write_config


@contextmanager
def _tls_receiver(folder: Path, pki: Path):
    """The reference receiver as party REGIO (a test OIN, signing with its own key) behind two-way TLS
    on 127.0.0.1 (the demo broker certificate carries that address); yields its https endpoint."""
    folder.mkdir()
    extra = (
        f'broker_oins = ["{REGIO}"]\nsigning_key = "{pki / (REGIO + ".key.pem")}"\n'
        f'signing_certificate = "{pki / (REGIO + ".cert.pem")}"\n'
        f'tls_key = "{pki / (TEST_BROKER_OIN + ".key.pem")}"\n'
        f'tls_certificate = "{pki / (TEST_BROKER_OIN + ".cert.pem")}"\n'
    )
    config = write_config(folder, f"sqlite:///{folder / 'ontvanger.sqlite3'}", profile="2W-be-S", extra=extra)
    config.write_text(config.read_text().replace(f'pki_dir = "{folder / "pki"}"', f'pki_dir = "{pki}"'))
    make_key_file(folder / "keys.json")
    port = free_port()
    with (folder / "ontvanger.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "broker", "receiver", "serve", "--port", str(port)],
            env={**os.environ, "VVA_CONFIG": str(config)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(None, process, port)
            yield f"https://127.0.0.1:{port}/vva/ontvanger/v1", folder / "ontvanger.sqlite3"
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_h48_outbox_in_production_accepts_no_answer_from_a_test_oin(
    database_url, tmp_path, monkeypatch
):
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    pki = broker_dir / "pki"
    # CAs without the demo marker, so production's trust store loads them and the test is about the
    # receiver's test OIN alone; ``vva init`` then issues every party's certificate under them.
    for naam, waarde in (("ROOT_NAME", "VVA Root CA"), ("ISSUING_NAME", "VVA Issuing CA")):
        monkeypatch.setattr(demo, naam, waarde)
    monkeypatch.setattr(demo, "CA_ORGANISATION", "VVA PKI")
    demo.make_demo_pki(pki, [])
    config = write_config(broker_dir, database_url, profile="2W-be-S", extra=OUTBOX)
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0

    with _tls_receiver(tmp_path / "ontvanger", pki) as (endpoint, receiver_db):
        register_endpoint(config, endpoint)
        with broker_process(config) as url:
            school = client(type("Demo", (), {"url": url, "pki": pki}), "vo", SCHOOL_A)
            assert school.service.aanleverenLeerlingen(leerling=leerlingen(1)).aantalVerwerkt == 1

        runtime = Runtime(replace(load_settings(config), environment="production"))
        try:
            assert DeliveryWorker(runtime).run_round() == 1
            with runtime.sessions() as session:
                (message,) = session.scalars(select(models.OutboxMessage)).all()
            # The receiver got and processed the push and answered, signed under its test OIN ...
            engine = create_engine(f"sqlite:///{receiver_db}")
            with engine.connect() as connection:
                processed = connection.execute(
                    text("SELECT count(*) FROM bericht WHERE richting = 'in' AND uitkomst = 'verwerkt'")
                ).scalar()
            engine.dispose()
            assert processed == 1
            # ... and production does not take that answer as a delivery: retried, not delivered.
            assert (message.status, message.last_error) == ("wachtend", "transport UntrustedResponse")
            assert message.delivered_at is None
        finally:
            runtime.close()


def test_h45_outbox_in_production_does_not_start_with_a_demo_ca(tmp_path):
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}", profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    config.write_text(config.read_text() + 'environment = "production"\n')

    result = CliRunner().invoke(main, ["--config", str(config), "outbox", "run", "--until-empty"])

    assert result.exit_code == 1, result.output
    assert result.output == (
        "Error: cannot deliver pushes: demo CA CN=VVA Demo Root CA (FICTIEF),O=VVA Demo PKI (FICTIEF),C=NL "
        "configured in production\n"
    )


def test_pipeline_and_outbox_get_the_same_signer_and_the_same_trust(tmp_path):
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}", profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    runtime = Runtime(load_settings(config))
    try:
        pipeline = SoapPipeline(runtime, Contract(keys=BROKER_SERVICES))
        delivery_worker = DeliveryWorker(runtime)

        assert delivery_worker.transport.trust is pipeline.trust is runtime.trust_store
        assert delivery_worker.transport.signer is pipeline.signer is runtime.signer
    finally:
        runtime.close()


def test_h45_envelope_verify_in_production_refuses_a_demo_ca(tmp_path):
    from tests.edukoppeling.conftest import build_envelope

    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}", profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = tmp_path / "pki"
    (tmp_path / "verzoek.xml").write_bytes(build_envelope(action="urn:nl:vva:aanmelden:v1/vo/ping"))
    signed = CliRunner().invoke(
        main,
        [
            "--config",
            str(config),
            "envelope",
            "sign",
            str(tmp_path / "verzoek.xml"),
            "--out",
            str(tmp_path / "s.xml"),
        ]
        + ["--key", str(pki / f"{SCHOOL_A}.key.pem"), "--cert", str(pki / f"{SCHOOL_A}.cert.pem")],
    )
    assert signed.exit_code == 0, signed.output
    ca = pki / "ca"
    verify = ["envelope", "verify", str(tmp_path / "s.xml"), "--trust", str(ca / "root.pem")]
    verify += [
        "--trust",
        str(ca / "issuing.pem"),
        "--crl",
        str(ca / "root.crl.pem"),
        "--crl",
        str(ca / "issuing.crl.pem"),
    ]
    assert (
        CliRunner().invoke(main, ["--config", str(config), *verify]).output.startswith("valid (signed by OIN")
    )

    config.write_text(config.read_text() + 'environment = "production"\n')
    result = CliRunner().invoke(main, ["--config", str(config), *verify])

    assert result.exit_code == 1
    assert result.output.startswith("Error: demo CA CN=VVA Demo Root CA (FICTIEF)"), result.output
