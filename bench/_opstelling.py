"""Shared set-up of the benchmarks: a fresh PostgreSQL schema, an installation with the demo PKI, the
broker under gunicorn as a real process, signed envelopes, a load generator, process CPU and memory.

Not a benchmark itself; the scripts beside it import it (run them from the checkout with .venv/bin/python).
"""

from __future__ import annotations

import http.client
import io
import os
import platform
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner
from lxml import etree
from sqlalchemy import create_engine, text
from stdnum.nl import bsn as stdnum_bsn

from broker.cli import main
from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.wss.signer import Signer

if TYPE_CHECKING:
    import psutil

# psutil (the bench extra) is imported where the CPU and memory are read, not at the top: the Java peer's
# runner and tests/test_bench_peer.py import envelop/ondertekenaar from here in a venv without the extra.

POSTGRES_URL = os.environ.get("VVA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NS = "urn:nl:vva:aanmelden:v1"
SCHOOL_A = "0000000700099XA00000"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def machine() -> str:
    """One line about the machine and its load right now (others may share it)."""
    model = next(
        (
            r.split(":", 1)[1].strip()
            for r in Path("/proc/cpuinfo").read_text().splitlines()
            if r.startswith("model name")
        ),
        platform.processor(),
    )
    import psutil

    load_average = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    memory_gib = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} cores ({model}), {memory_gib:.1f} GiB RAM, Python {platform.python_version()}, "
        f"load average {load_average} at start"
    )


@contextmanager
def postgres_schema():
    """A fresh schema on the local PostgreSQL (``VVA_BENCH_POSTGRES_URL``); yields its URL; dropped after."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin_engine.dispose()


def install(folder: Path, database_url: str, extra: str = "") -> Path:
    """A migrated installation in ``map`` with the demo data and PKI (2W-be-S); returns its vva.toml."""
    config = folder / "vva.toml"
    config.write_text(
        f'database_url = "{database_url}"\nkey_file = "{folder / "keys.json"}"\npki_dir = "{folder / "pki"}"\n{extra}'
    )
    verdict = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert verdict.exit_code == 0, verdict.output
    return config


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Broker:
    url: str
    process: psutil.Process

    def processes(self) -> list[psutil.Process]:
        return [self.process, *self.process.children(recursive=True)]

    def cpu_s(self) -> float:
        """User + system CPU seconds of the gunicorn master and its workers so far, including workers
        that were recycled (``max_requests``): the master reaped them, so their time is in its
        ``children_*`` figures."""
        import psutil

        total = 0.0
        for p in self.processes():
            try:
                times = p.cpu_times()
                total += times.user + times.system
                if p.pid == self.process.pid:
                    total += times.children_user + times.children_system
            except psutil.NoSuchProcess:
                pass
        return total

    def peak_rss_mb(self) -> dict[str, float]:
        """Peak resident memory (VmHWM) per process: the master and each worker, in MiB."""
        out = {}
        for p in self.processes():
            status = Path(f"/proc/{p.pid}/status").read_text()
            hwm = next(int(r.split()[1]) for r in status.splitlines() if r.startswith("VmHWM"))
            out["master" if p.pid == self.process.pid else f"worker {p.pid}"] = hwm / 1024
        return out


@contextmanager
def gunicorn_broker(config: Path, *options: str, gunicorn_config: bool = True):
    """``vva serve`` with deploy/gunicorn.conf.py (unless told otherwise) as a real process on 127.0.0.1."""
    port = unused_port()
    command = [sys.executable, "-m", "broker", "serve", "--port", str(port), *options]
    if gunicorn_config:
        command += [
            "--gunicorn-config",
            str(Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"),
        ]
    log = (config.parent / "broker.log").open("wb")
    process = subprocess.Popen(
        command, env={**os.environ, "VVA_CONFIG": str(config)}, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", process)
        import psutil

        yield Broker(f"http://127.0.0.1:{port}", psutil.Process(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_for(url: str, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("the broker stopped; see broker.log beside vva.toml")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the broker did not start within 30 s")


def signer(pki: Path, oin: str) -> Signer:
    return Signer((pki / f"{oin}.key.pem").read_bytes(), (pki / f"{oin}.cert.pem").read_bytes())


#: The name the Java peer's runner and checks (../shared/tools/peer-wss4j) import; keep it (issue 18).
ondertekenaar = signer


def envelop(request_signer: Signer, sender: str, service: str, operation: str, body: str) -> bytes:
    """A signed 2W-be-S request of ``sender`` to ``dienst`` with a fresh Timestamp and MessageID."""
    root = etree.fromstring(
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f"<soap:Header><wsa:Action>{NS}/{service}/{operation}</wsa:Action><wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:To>https://vva.example/vva/{service}/v1?oin={TEST_BROKER_OIN}</wsa:To><wsa:From><wsa:Address>"
        f"http://www.w3.org/2005/08/addressing/anonymous?oin={sender}</wsa:Address></wsa:From></soap:Header>"
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    )
    request_signer.sign(root, datetime.now(UTC))
    return to_bytes(root)


def bsns(count: int, after: int = 100_000_000) -> list[str]:
    """``aantal`` valid (elfproef) BSNs counting up from ``vanaf``."""
    out, number = [], after
    while len(out) < count:
        number += 1
        if stdnum_bsn.is_valid(str(number)):
            out.append(str(number))
    return out


def leerlingen_xml(numbers: list[str], brin: str, gemeente: str = "0363") -> str:
    records = "".join(
        f"<v:leerling><v:volgnummer>{i}</v:volgnummer><v:bsn>{n}</v:bsn><v:brinVo>{brin}</v:brinVo>"
        f"<v:postcode>1011AB</v:postcode><v:woongemeente>{gemeente}</v:woongemeente><v:mutatie>toevoegen</v:mutatie></v:leerling>"
        for i, n in enumerate(numbers, 1)
    )
    return f'<v:aanleverenLeerlingen xmlns:v="{NS}">{records}</v:aanleverenLeerlingen>'


def post(connection: http.client.HTTPConnection, path: str, data: bytes) -> tuple[int, bytes]:
    connection.request(
        "POST", path, body=data, headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'}
    )
    response = connection.getresponse()
    return response.status, response.read()


@dataclass
class LoadRun:
    """The outcome of a load run: per request the latency in seconds, the wall time, the statuses."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[bytes] = field(default_factory=list)
    wall_s: float = 0.0

    def percentile(self, p: float) -> float:
        row = sorted(self.latencies)
        return row[min(len(row) - 1, int(p / 100 * len(row)))]


def apply_load(url: str, requests: list[tuple[str, bytes]], clients: int) -> LoadRun:
    """Send ``requests`` ((path, body) pairs) from ``clients`` threads, each with its own keep-alive
    connection, as fast as answers come; returns latencies and statuses (status 200 expected)."""
    host, port = url.removeprefix("http://").split(":")
    row: queue.SimpleQueue = queue.SimpleQueue()
    for request in requests:
        row.put(request)
    verdict, lock = LoadRun(), threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        while True:
            try:
                path, data = row.get_nowait()
            except queue.Empty:
                break
            begin = time.perf_counter()
            status, body = post(connection, path, data)
            duration = time.perf_counter() - begin
            with lock:
                verdict.latencies.append(duration)
                verdict.statuses[status] = verdict.statuses.get(status, 0) + 1
                if status != 200 and len(verdict.errors) < 3:
                    verdict.errors.append(body[:2000])
        connection.close()

    begin = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    verdict.wall_s = time.perf_counter() - begin
    return verdict


def wsgi_post(app, path: str, data: bytes) -> bytes:
    """One POST of ``data`` to ``path`` through the WSGI application ``app`` in this process, as gunicorn
    would call it (no HTTP); returns the answer's body and asserts HTTP 200."""
    runtime = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "CONTENT_TYPE": "text/xml; charset=UTF-8",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "HTTP_SOAPACTION": '""',
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
    }
    statuses: list[str] = []
    body = b"".join(app(runtime, lambda s, h: statuses.append(s)))
    assert statuses[0].startswith("200"), (statuses, body[body.find(b"<soap:Body") :][:1500])
    return body
