"""Receivers that misbehave at the HTTP level: the worker gives up in bounded time and never counts
an unsigned or empty answer as a delivery."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

from click.testing import CliRunner

from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import load_settings
from broker.outbound.delivery_worker import DeliveryWorker
from tests.e2e.test_pushes import SCHOOL_A, leerlingen, register_endpoint
from tests.e2e.zeepclient import client
from tests.helpers import broker_process, write_config


@contextmanager
def fake_receiver(response):
    """A TCP server on 127.0.0.1 that reads a request and lets ``response(connection)`` reply."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stopped = threading.Event()

    def serve():
        while not stopped.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(5)
                try:
                    connection.recv(65536)
                    response(connection, stopped)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/vva/ontvanger/v1"
    finally:
        stopped.set()
        thread.join(timeout=10)
        server.close()


def drip(connection, stopped):
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n")
    while not stopped.is_set():
        connection.sendall(b" ")  # one byte at a time: no single read ever times out
        time.sleep(0.5)


def empty_202(connection, stopped):
    connection.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")


def _chain(database_url, tmp_path, endpoint):
    config = write_config(
        tmp_path, database_url, profile="2W-be-S", extra="outbox_timeout_s = 1.0\noutbox_max_attempts = 3\n"
    )
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    register_endpoint(config, endpoint)
    with broker_process(config) as url:
        demo = type("Demo", (), {"url": url, "pki": tmp_path / "pki"})
        assert (
            client(demo, "vo", SCHOOL_A).service.aanleverenLeerlingen(leerling=leerlingen(1)).aantalVerwerkt
            == 1
        )
    return DeliveryWorker(Runtime(load_settings(config)))


def _status(delivery_worker) -> tuple[str, int, str]:
    from sqlalchemy import select

    from broker.db import models

    with delivery_worker.runtime.sessions() as session:
        row = session.scalar(select(models.OutboxMessage))
        return row.status, row.attempts, row.last_error


def test_dripping_receiver_does_not_hold_the_worker(database_url, tmp_path):
    with fake_receiver(drip) as endpoint:
        delivery_worker = _chain(database_url, tmp_path, endpoint)
        begin = time.monotonic()
        assert delivery_worker.run_round() == 1
        assert time.monotonic() - begin < 10  # the total deadline (3 × outbox_timeout_s), not forever
    status, attempts, error = _status(delivery_worker)
    assert (status, attempts) == ("wachtend", 1) and error.startswith("transport")


def test_empty_202_is_no_delivery(database_url, tmp_path):
    with fake_receiver(empty_202) as endpoint:
        delivery_worker = _chain(database_url, tmp_path, endpoint)
        assert delivery_worker.run_round() == 1
    status, attempts, error = _status(delivery_worker)
    assert (status, attempts, error) == ("wachtend", 1, "transport no SOAP answer")
