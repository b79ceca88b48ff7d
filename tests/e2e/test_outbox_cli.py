"""Operators' commands on the push queue: list, retry, purge-dead — against a receiver that is down."""

from __future__ import annotations

from click.testing import CliRunner

from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import load_settings
from broker.outbound.delivery_worker import DeliveryWorker
from tests.e2e.test_pushes import REGIO, SCHOOL_A, leerlingen, register_endpoint
from tests.e2e.zeepclient import client
from tests.helpers import broker_process, free_port, write_config


def test_dead_messages_show_retry_and_purge(database_url, tmp_path):
    extra = "outbox_max_attempts = 1\noutbox_timeout_s = 1.0\n"
    config = write_config(tmp_path, database_url, profile="2W-be-S", extra=extra)
    cli = CliRunner()
    assert cli.invoke(main, ["--config", str(config), "init"]).exit_code == 0
    closed = f"http://127.0.0.1:{free_port()}/vva/ontvanger/v1"  # nobody listens here
    register_endpoint(config, closed)
    with broker_process(config) as url:
        demo = type("Demo", (), {"url": url, "pki": tmp_path / "pki"})
        assert (
            client(demo, "vo", SCHOOL_A).service.aanleverenLeerlingen(leerling=leerlingen(2)).aantalVerwerkt
            == 2
        )
    DeliveryWorker(Runtime(load_settings(config))).run(until_empty=True)

    list_ = cli.invoke(main, ["--config", str(config), "outbox", "list", "--status", "dood"])
    assert list_.exit_code == 0 and f"{REGIO}  dood       2" in list_.output
    assert "transport ConnectionError" in list_.output and "bsn" not in list_.output.lower()

    again = cli.invoke(main, ["--config", str(config), "outbox", "retry", "--all-dead"])
    assert again.output.strip() == "2 message(s) queued again"
    assert f"{REGIO}  wachtend   2" in cli.invoke(main, ["--config", str(config), "outbox", "list"]).output

    DeliveryWorker(Runtime(load_settings(config))).run(until_empty=True)
    purged = cli.invoke(main, ["--config", str(config), "outbox", "purge-dead", "--yes"])
    assert purged.output.strip() == "2 dead message(s) deleted"
    assert "dood" not in cli.invoke(main, ["--config", str(config), "outbox", "list"]).output


def test_command_line_refuses_nonsensical_arguments(tmp_path):
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    cli = CliRunner()
    assert cli.invoke(main, ["--config", str(config), "outbox", "run", "--workers", "0"]).exit_code == 2
    assert cli.invoke(main, ["--config", str(config), "outbox", "list", "--limit", "-1"]).exit_code == 2
    both = cli.invoke(main, ["--config", str(config), "outbox", "retry", "--all-dead", "5"])
    assert both.exit_code == 2 and "not both" in both.output
