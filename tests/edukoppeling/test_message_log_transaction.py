"""The request is logged in the transaction that applies it, or with its fault in one of its own
(issue 18): what that leaves in the message log, the audit trail and the operator log when a write
fails or the process stops mid-request. In-process on SQLite and PostgreSQL; the database failures
are raised where the real driver would raise them."""

from __future__ import annotations

import io
import logging
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import broker.web.pipeline as pipeline
from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import load_settings
from broker.db import models
from broker.soap.dispatch import Dispatcher
from broker.web.app import Broker
from tests.edukoppeling.conftest import build_envelope
from tests.helpers import write_config

DELIVERY = "urn:nl:vva:aanmelden:v1/vo/aanleverenLeerlingen"


def _delivery() -> str:
    return (
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:volgnummer>1</vva:volgnummer>'
        "<vva:bsn>123456782</vva:bsn><vva:brinVo>99XA</vva:brinVo><vva:postcode>1011AB</vva:postcode>"
        "<vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling>"
        "</vva:aanleverenLeerlingen>"
    )


@pytest.fixture
def installation(database_url, tmp_path):
    config = write_config(tmp_path, database_url, profile="2W-be")
    result = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert result.exit_code == 0, result.output
    runtime = Runtime(load_settings(config))
    yield runtime, Broker(runtime)
    runtime.close()


def _post(app, body: bytes) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/vva/vo/v1",
        "SERVER_NAME": "vva.example",
        "SERVER_PORT": "443",
        "wsgi.url_scheme": "https",
        "CONTENT_TYPE": "text/xml; charset=UTF-8",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_SOAPACTION": '""',
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    status: list[str] = []
    out = b"".join(app(environ, lambda s, h, *a: status.append(s)))
    return status[0], out


def _database_gone(*_args, **_kwargs):
    raise OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))


def _failing_call(real, failing: set[int]):
    """``real``, except that the calls numbered in ``failing`` (1-based) find the database gone."""
    calls = []

    def call(*args, **kwargs):
        calls.append(1)
        if len(calls) in failing:
            _database_gone()
        return real(*args, **kwargs)

    return call


def _count(runtime, *where) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(models.Bericht).where(*where))


def test_a_refused_request_is_logged_once_with_its_fault_and_its_answer(installation):
    runtime, app = installation
    status, body = _post(app, build_envelope(to=None))  # no wsa:To
    assert status.startswith("500") and b"<faultcode>soap:Client.DK0005</faultcode>" in body
    with runtime.sessions() as session:
        rows = session.execute(select(models.Bericht.richting, models.Bericht.uitkomst)).all()
    assert sorted(rows) == [("in", "Client.DK0005"), ("uit", "Client.DK0005")]


def test_the_operator_line_never_names_a_rolled_back_row(installation, monkeypatch, caplog):
    # The database goes away in the operation and is still away for the fault path: the line says
    # the request's row is unknown, not the id of the rolled-back INSERT (which SQLite reuses).
    runtime, app = installation
    monkeypatch.setattr(pipeline, "log_request", _failing_call(pipeline.log_request, {2}))
    monkeypatch.setattr(Dispatcher, "process", _database_gone)
    caplog.set_level(logging.WARNING, logger="vva.web")
    status, body = _post(app, build_envelope())
    assert b"Server.DK0051" in body
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("database unavailable")]
    assert len(lines) == 1 and lines[0].startswith("database unavailable or conflict for bericht (unknown):")
    assert _count(runtime) == 0


def test_the_operator_line_names_the_row_the_fault_path_wrote(installation, monkeypatch, caplog):
    runtime, app = installation
    monkeypatch.setattr(Dispatcher, "process", _database_gone)
    caplog.set_level(logging.WARNING, logger="vva.web")
    _post(app, build_envelope())
    with runtime.sessions() as session:
        row = session.scalar(select(models.Bericht.id).where(models.Bericht.richting == "in"))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("database unavailable")]
    assert len(lines) == 1 and lines[0].startswith(f"database unavailable or conflict for bericht {row}:")


@pytest.mark.parametrize("failing", ["the request's row", "the operation"])
def test_a_delivery_whose_transaction_fails_is_audited_with_its_fault(installation, monkeypatch, failing):
    runtime, app = installation
    if failing == "the request's row":  # the first write of the transaction
        monkeypatch.setattr(pipeline, "log_request", _failing_call(pipeline.log_request, {1}))
    else:
        monkeypatch.setattr(Dispatcher, "process", _database_gone)
    message_id = f"urn:uuid:{uuid.uuid4()}"
    status, body = _post(app, build_envelope(_delivery(), action=DELIVERY, message_id=message_id))
    assert b"Server.DK0051" in body
    with runtime.sessions() as session:
        audit = session.scalars(
            select(models.AuditRecord.outcome).where(models.AuditRecord.message_id == message_id)
        ).all()
        pupils = session.scalar(select(func.count()).select_from(models.Leerling))
    assert audit == ["Server.DK0051"]
    assert pupils == 0
    assert _count(runtime, models.Bericht.uitkomst == "Server.DK0051", models.Bericht.richting == "in") == 1


def test_a_request_stopped_mid_transaction_leaves_neither_effect_nor_row(installation, monkeypatch):
    # gunicorn's worker timeout ends the worker with SystemExit in the middle of a request: the
    # transaction never commits, so nothing of the request is kept (docs/architecture.md, "Fixed
    # requirements"); its sender got no answer and sends it again, and that copy is logged.
    runtime, app = installation

    def stopped(*_args, **_kwargs):
        raise SystemExit(1)

    monkeypatch.setattr(Dispatcher, "process", stopped)
    with pytest.raises(SystemExit):
        _post(app, build_envelope(_delivery(), action=DELIVERY))
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Leerling)) == 0
    assert _count(runtime) == 0
    monkeypatch.undo()
    status, _ = _post(app, build_envelope(_delivery(), action=DELIVERY))
    assert status.startswith("200")
    assert _count(runtime, models.Bericht.uitkomst == "verwerkt", models.Bericht.richting == "in") == 1
