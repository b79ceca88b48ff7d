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
    som = sum((9 - i) * int(c) for i, c in enumerate(prefix))
    controle = som % 11
    if controle > 9:
        raise ValueError("no valid BSN with this prefix")
    return prefix + str(controle)


def bsns(aantal: int, begin: int) -> list[str]:
    """``aantal`` distinct valid BSNs from the 8-digit prefix ``begin`` upwards (prefixes without a valid
    check digit are skipped)."""
    uitkomst, prefix = [], begin
    while len(uitkomst) < aantal:
        try:
            uitkomst.append(bsn(f"{prefix:08d}"))
        except ValueError:
            pass
        prefix += 1
    return uitkomst


def ongeldig_bsn(prefix: str) -> str:
    """A 9-digit number with ``prefix`` that fails the elfproef."""
    geldig = bsn(prefix)
    return prefix + str((int(geldig[-1]) + 1) % 10)


def post_soap(
    url: str, data: bytes, pad: str = "/vva/vo/v1", headers: dict | None = None
) -> tuple[int, bytes]:
    """POST ``data`` as a SOAP 1.1 request over plain HTTP; return (status, body)."""
    deel = urlsplit(url)
    connection = http.client.HTTPConnection(deel.hostname, deel.port, timeout=30)
    kop = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""', **(headers or {})}
    connection.request("POST", pad, body=data, headers=kop)
    antwoord = connection.getresponse()
    try:
        return antwoord.status, antwoord.read()
    finally:
        connection.close()


def vrije_poort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def schrijf_config(map: Path, database_url: str, profile: str = "2W-be", extra: str = "") -> Path:
    """A vva.toml in ``map``: the database, keys and demo PKI in ``map``, the given profile."""
    config = map / "vva.toml"
    config.write_text(
        f'database_url = "{database_url}"\nkey_file = "{map / "sleutels.json"}"\n'
        f'pki_dir = "{map / "pki"}"\nprofile = "{profile}"\n{extra}'
    )
    return config


@contextmanager
def broker_proces(config: Path, *extra: str, scheme: str = "http"):
    """Run ``vva serve`` as a real process on 127.0.0.1 and yield its base URL (``https`` when the
    settings make it terminate TLS itself)."""
    poort = vrije_poort()
    env = {**os.environ, "VVA_CONFIG": str(config)}
    logbestand = (config.parent / "broker.log").open("wb")
    proces = subprocess.Popen(
        [sys.executable, "-m", "broker", "serve", "--port", str(poort), "--workers", "1", *extra],
        env=env,
        stdout=logbestand,
        stderr=subprocess.STDOUT,
    )
    basis = f"{scheme}://127.0.0.1:{poort}"
    try:
        _wacht_op(f"http://127.0.0.1:{poort}" if scheme == "http" else None, proces, poort)
        yield basis
    finally:
        proces.terminate()
        try:
            proces.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proces.kill()
        logbestand.close()


def _wacht_op(basis: str | None, proces: subprocess.Popen, poort: int) -> None:
    for _ in range(150):
        if proces.poll() is not None:
            raise RuntimeError("broker stopped; see broker.log beside the test's vva.toml")
        try:
            if basis is None:  # TLS with a required client certificate: a listening port will do
                socket.create_connection(("127.0.0.1", poort), timeout=1).close()
                return
            with urllib.request.urlopen(f"{basis}/health", timeout=1) as antwoord:
                if antwoord.status == 200:
                    return
        except urllib.error.HTTPError:  # 503: serving, but the health check says why it cannot work
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("broker did not start within 15 s")
