"""A freshly started worker answers its first concurrent signed requests (issue 14, item 2).

``vva serve`` runs one gunicorn worker of four threads that gunicorn recycles after nine requests
(``max_requests``, as in production but small): a health check and eight parties' first signed pings,
sent at the same moment. Each round is therefore a fresh worker process whose trust store is used by
four threads at once before any of them has used it alone. A fault here was Server.DK0050 (asn1crypto
objects parsed lazily by several threads), which a client must not retry. The focused reproduction,
including the CRL reload path, is tests/pki/test_trust_store_threads.py.
"""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

from broker.cli import main
from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.wss.signer import Signer
from tests.edukoppeling.conftest import build_envelope
from tests.helpers import broker_process, post_soap, write_config

#: Eight demo parties and the service each one pings.
PARTIJEN = {
    "0000000700099XA00000": "vo",
    "0000000700099XC00000": "vo",
    "0000000700099XB00000": "mbo",
    "0000000700099XE00000": "mbo",
    "0000000700099XF00000": "mbo",
    "00000099000000000363": "gemeente",
    "00000099000000000599": "gemeente",
    "00000099000000000042": "regio",
}
ROUNDS = 20


def _ping(pki: Path, oin: str, service: str) -> bytes:
    root = etree.fromstring(
        build_envelope(
            '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>eerste</vva:echo></vva:ping>',
            action=f"urn:nl:vva:aanmelden:v1/{service}/ping",
            message_id=f"urn:uuid:{uuid.uuid4()}",
            to=f"https://vva.example/vva/{service}/v1?oin={TEST_BROKER_OIN}",
            van=oin,
        )
    )
    Signer((pki / f"{oin}.key.pem").read_bytes(), (pki / f"{oin}.cert.pem").read_bytes()).sign(
        root, datetime.now(UTC)
    )
    return to_bytes(root)


def _concurrently(url: str, requests: dict[str, tuple[str, bytes]]) -> dict[str, tuple[int, bytes]]:
    start = threading.Barrier(len(requests))
    answers: dict[str, tuple[int, bytes]] = {}

    def send(oin: str, service: str, data: bytes) -> None:
        start.wait()
        answers[oin] = post_soap(url, data, path=f"/vva/{service}/v1")

    threads = [threading.Thread(target=send, args=(oin, *v)) for oin, v in requests.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _wait_for_worker(log: Path, number: int) -> None:
    """Wait until gunicorn has started worker ``nummer`` (1-based): the previous one has exited."""
    for _ in range(600):
        if log.read_text(errors="replace").count("Booting worker with pid") >= number:
            return
        time.sleep(0.05)
    raise AssertionError(f"worker {number} did not start; see {log}")


def test_a_fresh_worker_answers_eight_first_signed_pings_at_once(tmp_path):
    # The race is in the trust store, before any database work: one backend keeps this under a minute.
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}", profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    gunicorn = tmp_path / "gunicorn.conf.py"
    gunicorn.write_text(f"max_requests = {1 + len(PARTIJEN)}\nmax_requests_jitter = 0\n")
    pki, log = tmp_path / "pki", tmp_path / "broker.log"
    with broker_process(config, "--threads", "4", "--gunicorn-config", str(gunicorn)) as url:
        for run_round in range(ROUNDS):
            requests = {oin: (service, _ping(pki, oin, service)) for oin, service in PARTIJEN.items()}
            if run_round > 0:  # the first worker had its health check from broker_proces
                _wait_for_worker(log, run_round + 1)
                with urllib.request.urlopen(f"{url}/health", timeout=60) as healthy:
                    assert healthy.status == 200
            answers = _concurrently(url, requests)
            errors = {
                oin: (status, body[:600])
                for oin, (status, body) in answers.items()
                if status != 200 or b"pingResponse" not in body
            }
            assert not errors, f"round {run_round}: {errors}"
            assert sorted(answers) == sorted(PARTIJEN)
        _wait_for_worker(log, ROUNDS + 1)  # the last worker, too, served its nine requests and was recycled
    assert "Server.DK0050" not in log.read_text(errors="replace")
