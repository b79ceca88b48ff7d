"""Small test helpers: valid and invalid pupil numbers, free ports, a broker process."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit


def bsn(prefix: str) -> str:
    """A valid BSN starting with the 8 digits ``prefix`` (elfproef), or ValueError if none exists."""
    total = sum((9 - i) * int(c) for i, c in enumerate(prefix))
    check = total % 11
    if check > 9:
        raise ValueError("no valid BSN with this prefix")
    return prefix + str(check)


def bsns(count: int, begin: int) -> list[str]:
    """``aantal`` distinct valid BSNs from the 8-digit prefix ``begin`` upwards (prefixes without a valid
    check digit are skipped)."""
    outcome, prefix = [], begin
    while len(outcome) < count:
        try:
            outcome.append(bsn(f"{prefix:08d}"))
        except ValueError:
            pass
        prefix += 1
    return outcome


def invalid_bsn(prefix: str) -> str:
    """A 9-digit number with ``prefix`` that fails the elfproef."""
    valid = bsn(prefix)
    return prefix + str((int(valid[-1]) + 1) % 10)


def post_soap(
    url: str, data: bytes, path: str = "/vva/vo/v1", headers: dict | None = None
) -> tuple[int, bytes]:
    """POST ``data`` as a SOAP 1.1 request over plain HTTP; return (status, body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    header = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""', **(headers or {})}
    connection.request("POST", path, body=data, headers=header)
    response = connection.getresponse()
    try:
        return response.status, response.read()
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, database_url: str, profile: str = "2W-be", extra: str = "") -> Path:
    """A vva.toml in ``map``: the database, keys and demo PKI in ``map``, the given profile."""
    config = folder / "vva.toml"
    config.write_text(
        f'database_url = "{database_url}"\nkey_file = "{folder / "keys.json"}"\n'
        f'pki_dir = "{folder / "pki"}"\nprofile = "{profile}"\n{extra}'
    )
    return config


@contextmanager
def broker_process(config: Path, *extra: str, scheme: str = "http"):
    """Run ``vva serve`` as a real process on 127.0.0.1 and yield its base URL (``https`` when the
    settings make it terminate TLS itself)."""
    port = free_port()
    env = {**os.environ, "VVA_CONFIG": str(config)}
    log_file = (config.parent / "broker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "broker", "serve", "--port", str(port), "--workers", "1", *extra],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        _wait_for(f"http://127.0.0.1:{port}" if scheme == "http" else None, process, port)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log_file.close()


def _wait_for(base: str | None, process: subprocess.Popen, port: int) -> None:
    for _ in range(150):
        if process.poll() is not None:
            raise RuntimeError("broker stopped; see broker.log beside the test's vva.toml")
        try:
            if base is None:  # TLS with a required client certificate: a listening port will do
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            with urllib.request.urlopen(f"{base}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError:  # 503: serving, but the health check says why it cannot work
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("broker did not start within 15 s")
