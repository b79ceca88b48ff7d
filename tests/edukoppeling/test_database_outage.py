"""A PostgreSQL outage under load: every answer is a signed SOAP Server.DK0051 fault, never a bare
HTTP 500, and the broker serves again as soon as the database is back, without a restart (F7).

The test runs its own PostgreSQL cluster (initdb + pg_ctl, a data directory in a temporary folder, a
free port), so it can stop and start it without touching the shared server of the other tests.
"""

from __future__ import annotations

import glob
import http.client
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from lxml import etree

from broker.cli import main
from broker.edukoppeling.envelope import read_envelope
from broker.edukoppeling.parsing import parse_message
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.wss.signer import Signer
from broker.edukoppeling.wss.verification import VerifierSettings, verify_envelope
from tests.edukoppeling.conftest import SCHOOL_A, build_envelope
from tests.helpers import broker_process, free_port, write_config

pytestmark = pytest.mark.postgres

_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class _Cluster:
    """A PostgreSQL cluster of this test only, run as the ``postgres`` user when the test is root."""

    def __init__(self) -> None:
        if not _BIN:
            pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
        self.bin = Path(_BIN[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="vva-pg-"))
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.dir, self.user)
        self._pg("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    def _pg(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg(
            "pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    own = _Cluster()
    own.start()
    try:
        yield own
    finally:
        own.remove()


def _ping(pki: Path) -> bytes:
    root = etree.fromstring(build_envelope(message_id=f"urn:uuid:{uuid.uuid4()}"))
    Signer((pki / f"{SCHOOL_A}.key.pem").read_bytes(), (pki / f"{SCHOOL_A}.cert.pem").read_bytes()).sign(
        root, datetime.now(UTC)
    )
    return to_bytes(root)


def _post(port: int, data: bytes) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            "/vva/vo/v1",
            body=data,
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
        )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def _faultcode(body: bytes) -> str | None:
    found = re.search(rb"<faultcode>([^<]*)</faultcode>", body)
    return found.group(1).decode() if found else None


def _signed(body: bytes) -> bool:
    """The answer's WS-Security signature verifies (certificate trust aside)."""
    verify_envelope(
        read_envelope(parse_message(body), wss_allowed=True), datetime.now(UTC), VerifierSettings()
    )
    return True


def test_a_database_outage_under_load_gives_only_signed_dk0051(cluster, tmp_path):
    config = write_config(tmp_path, cluster.url, profile="2W-be-S")
    result = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert result.exit_code == 0, result.output
    pki = tmp_path / "pki"
    pings = [_ping(pki) for _ in range(600)]  # signed up front: the load is the broker's work

    with broker_process(config) as url:
        port = int(url.rsplit(":", 1)[1])
        answers: list[tuple[float, float, int, str, bytes]] = []
        done = threading.Event()
        next_ping = iter(pings)
        lock = threading.Lock()

        def last() -> None:
            while not done.is_set():
                with lock:
                    data = next(next_ping, None)
                if data is None:
                    return
                begin = time.monotonic()
                try:
                    status, soort, body = _post(port, data)
                except OSError as error:  # a dropped connection is an answer too, and a wrong one
                    status, soort, body = -1, type(error).__name__, b""
                answers.append((begin, time.monotonic(), status, soort, body))

        threads = [threading.Thread(target=last) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        cluster.stop()  # -m fast: the requests in flight lose their connections mid-transaction
        stopped = time.monotonic()
        time.sleep(2.0)
        restart = time.monotonic()
        cluster.start()
        give_back = time.monotonic()
        # The first request after the database is back is served, within 2 s, without a restart.
        status, _, body = _post(port, _ping(pki))
        first = time.monotonic() - give_back
        time.sleep(0.5)
        done.set()
        for thread in threads:
            thread.join(timeout=60)
        metrics = requests.get(f"{url}/metrics", timeout=10, proxies={"http": None}).text

    assert status == 200, body[:300]
    assert first < 2.0
    during = [a for a in answers if a[0] >= stopped and a[1] <= restart]
    assert len(during) >= 5  # the outage was really under load
    assert all(a[2] == 500 for a in during)
    errors = [a for a in answers if a[2] != 200]
    # Every answer that is not the ping's echo — in flight at the stop, during, around the restart —
    # is a well-formed, signed SOAP 1.1 Server.DK0051 fault, never text/plain "internal error".
    for _begin, _end, status_, soort, body_ in errors:
        assert (status_, soort) == (500, "text/xml; charset=UTF-8"), body_[:200]
        assert _faultcode(body_) == "soap:Server.DK0051", body_[:300]
        assert _signed(body_)
    # The metrics count exactly the DK0051 answers the clients got.
    counted = sum(
        float(m.group(1))
        for m in re.finditer(r'vva_requests_total\{[^}]*outcome="Server\.DK0051"[^}]*\} (\S+)', metrics)
    )
    assert counted == len(errors)
    not_logged = sum(float(w) for w in re.findall(r"vva_not_logged_total\{[^}]*\} (\S+)", metrics))
    assert 0 < not_logged <= len(errors)
