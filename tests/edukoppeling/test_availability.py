"""When the message log cannot be written, nothing may happen: Server.DK0051, retryable (F7)."""

from __future__ import annotations

import pytest
import requests
from click.testing import CliRunner

from broker.cli import main
from tests.edukoppeling.conftest import SOAP, build_envelope
from tests.helpers import broker_process, free_port, post_soap, write_config


def test_sqlite_unreadable_gives_dk0051(tmp_path):
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    # The database file becomes a directory: SQLite cannot open it (the broker connects lazily).
    for file in tmp_path.glob("vva.sqlite3*"):
        file.unlink()
    (tmp_path / "vva.sqlite3").mkdir()
    with broker_process(config) as url:
        status, body = post_soap(url, build_envelope())
        healthy = requests.get(f"{url}/health", timeout=10, proxies={"http": None})
    assert status == 500
    # The health endpoint tells the load balancer this node cannot serve, and why.
    assert healthy.status_code == 503
    assert healthy.json()["checks"]["database"] == {
        "status": "failing",
        "detail": "unreachable (OperationalError)",
    }
    assert b"<faultcode>soap:Server.DK0051</faultcode>" in body and SOAP.encode() in body


@pytest.mark.postgres
def test_postgresql_unreachable_gives_dk0051(tmp_path):
    # The broker starts without touching the database; every request then needs the message log.
    config = write_config(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
    from broker.privacy.keys import make_key_file

    make_key_file(tmp_path / "keys.json")
    with broker_process(config) as url:
        status, body = post_soap(url, build_envelope())
    assert status == 500
    assert b"<faultcode>soap:Server.DK0051</faultcode>" in body
    assert b"<faultstring>Service niet beschikbaar</faultstring>" in body
