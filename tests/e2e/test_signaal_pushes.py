"""Signals reach a school with a push endpoint: ``vva signals run`` queues them, the outbox delivers
them signed to the school's own receiver on 127.0.0.1 (issue 5, "Signals are pushed through the outbox")."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from lxml import etree
from sqlalchemy import create_engine, text

from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import load_settings
from broker.outbound.delivery_worker import DeliveryWorker
from broker.privacy.keys import load_keyring
from tests.e2e.test_pushes import OUTBOX, SCHOOL_A, _receiver
from tests.helpers import write_config

VVA = "{urn:nl:vva:aanmelden:v1}"


def _received_signalen(db: str) -> list[etree._Element]:
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT inhoud FROM bericht WHERE richting = 'in' AND uitkomst = 'verwerkt' ORDER BY id")
            ).scalars()
            keyring = load_keyring(Path(db.removeprefix("sqlite:///")).parent / "keys.json")
            return [etree.fromstring(keyring.decrypt_data(bytes(r))) for r in rows]
    finally:
        engine.dispose()


def test_a_signaal_is_delivered_at_the_school(database_url, tmp_path):
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    config = write_config(broker_dir, database_url, profile="2W-be-S", extra=OUTBOX)
    runner = CliRunner()
    cli = lambda *args: runner.invoke(main, ["--config", str(config), *args])  # noqa: E731
    assert cli("init").exit_code == 0
    with _receiver(tmp_path / "school", broker_dir / "pki", oin=SCHOOL_A) as (endpoint, receiver_db):
        command = ["party", "add", "--oin", SCHOOL_A, "--kind", "vo-school", "--name", "School A (FICTIEF)"]
        assert cli(*command, "--brin", "99XA", "--endpoint", endpoint, "--replace").exit_code == 0
        run_round = cli("signals", "run", "--date", "2027-03-20")
        assert run_round.exit_code == 0, run_round.output
        assert "pushes queued" in run_round.output and " 1 pushes queued" in run_round.output
        DeliveryWorker(Runtime(load_settings(config))).run(until_empty=True)
        assert cli("signals", "run", "--date", "2027-03-20").output.count("0 new signals") == 1

        (envelope,) = _received_signalen(receiver_db)
        signaal = envelope.find(f".//{VVA}ontvangenSignaal/{VVA}signaal")
        assert signaal.findtext(f"{VVA}soort") == "geenGegevensUitgewisseld"
        assert "2027-04-01" in signaal.findtext(f"{VVA}omschrijving")
    # The delivery is in the audit trail as a push to the school.
    export = cli("audit", "export", "--format", "jsonl")
    assert (
        '"source": "push", "partij_oin": "'
        + SCHOOL_A
        + '", "certificate": null, "operation": "ontvangenSignaal"'
        in export.output
    )
