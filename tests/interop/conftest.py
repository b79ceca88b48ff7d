"""Interop with SOAP and XML-signature stacks we did not write: node-soap with xml-crypto, Apache
Santuario and WSS4J (Java), gSOAP's WS-Security plugin (C), xmlsec1, PHP's SoapClient and zeep,
each against a real broker on 127.0.0.1.

Each test installs what it needs from the package registries (Debian packages with apt-get as root,
npm packages into a cache directory, never into the checkout) and is skipped, saying why, only when
that is impossible. ``.ci/run`` installs the Debian packages up front and sets ``VVA_REQUIRE_INTEROP``,
which turns such a skip into a failure: in CI every stack must run. The version of every stack that
ran is printed at the end of the test run ("interop stacks").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from broker.cli import main
from broker.edukoppeling.ns import SOAP11
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.wss.signer import Signer
from tests.edukoppeling.conftest import envelop
from tests.helpers import broker_proces, post_soap, schrijf_config

HIER = Path(__file__).parent
CACHE = Path(os.environ.get("VVA_INTEROP_CACHE", Path.home() / ".cache" / "vva-interop"))
SCHOOL_A = "0000000700099XA00000"
PING = "urn:nl:vva:aanmelden:v1/vo/ping"
#: stack → version, filled by the tests that ran; printed by pytest_terminal_summary.
VERSIES: dict[str, str] = {}


@dataclass(frozen=True)
class DemoBroker:
    url: str
    pki: Path


def _demo(tmp_path_factory, profile: str):
    map = tmp_path_factory.mktemp(f"interop-{profile}")
    config = schrijf_config(map, f"sqlite:///{map / 'vva.sqlite3'}", profile=profile)
    resultaat = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert resultaat.exit_code == 0, resultaat.output
    with broker_proces(config) as url:
        yield DemoBroker(url, map / "pki")


@pytest.fixture(scope="module")
def ondertekende_broker(tmp_path_factory):
    """The demo broker in the standard profile 2W-be-S (signed requests and answers)."""
    yield from _demo(tmp_path_factory, "2W-be-S")


@pytest.fixture(scope="module")
def be_broker(tmp_path_factory):
    """The demo broker in profile 2W-be (WS-Addressing, no WS-Security)."""
    yield from _demo(tmp_path_factory, "2W-be")


def ondertekend_antwoord(broker: DemoBroker) -> bytes:
    """The broker's signed answer to a ``ping`` (echo ``x``) signed by demo school 99XA."""
    root = etree.fromstring(envelop(action=PING))
    pki = broker.pki
    Signer((pki / f"{SCHOOL_A}.key.pem").read_bytes(), (pki / f"{SCHOOL_A}.cert.pem").read_bytes()).sign(
        root, datetime.now(UTC)
    )
    status, response = post_soap(broker.url, to_bytes(root), headers={"SOAPAction": f'"{PING}"'})
    assert status == 200, response
    return response


def ondertekende_fout(broker: DemoBroker) -> bytes:
    """The broker's signed fault (soap:Client, HTTP 500) to a signed ``ping`` with an unknown element."""
    root = etree.fromstring(
        envelop('<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:onbekend/></vva:ping>', action=PING)
    )
    pki = broker.pki
    Signer((pki / f"{SCHOOL_A}.key.pem").read_bytes(), (pki / f"{SCHOOL_A}.cert.pem").read_bytes()).sign(
        root, datetime.now(UTC)
    )
    status, error = post_soap(broker.url, to_bytes(root), headers={"SOAPAction": f'"{PING}"'})
    assert status == 500 and b"<faultcode>soap:Client." in error, error
    return error


def kopblokken(message: bytes) -> list[str]:
    """Local names of the SOAP Header's children, in order."""
    return [etree.QName(block).localname for block in etree.fromstring(message).find(f"{{{SOAP11}}}Header")]


def niet_beschikbaar(reden: str) -> None:
    """Skip with ``reden``, or fail when ``VVA_REQUIRE_INTEROP`` is set (CI)."""
    if os.environ.get("VVA_REQUIRE_INTEROP"):
        pytest.fail(f"interop stack required (VVA_REQUIRE_INTEROP) but not available: {reden}")
    pytest.skip(reden)


def vereis_debian(pakket: str, present: Callable[[], bool]) -> None:
    """Make sure Debian ``pakket`` is there (``present()`` says so), installing it with apt-get when
    it is not; skip the test, saying why, when that cannot be done (fail in CI)."""
    if present():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        niet_beschikbaar(
            f"{pakket} is not installed and apt-get cannot run here (needs root); .ci/run installs it"
        )
    for opdracht in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", pakket]):
        uitkomst = subprocess.run(
            opdracht, capture_output=True, text=True, timeout=600,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )  # fmt: skip
        if uitkomst.returncode != 0:
            niet_beschikbaar(f"could not install Debian package {pakket}: {uitkomst.stderr.strip()[-300:]}")
    if not present():
        niet_beschikbaar(f"Debian package {pakket} installed, but what the test needs is still missing")


def programma(naam: str) -> Callable[[], bool]:
    return lambda: shutil.which(naam) is not None


def bestand(path: str) -> Callable[[], bool]:
    return lambda: Path(path).exists()


def debian_versie(pakket: str) -> str:
    uitkomst = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", pakket], capture_output=True, text=True, check=False
    )
    return uitkomst.stdout.strip() or "unknown"


def node_modules() -> Path:
    """node-soap and xml-crypto (tests/interop/node/package.json), installed with npm into the cache
    directory once; skip when node/npm are missing or the registry cannot be reached."""
    vereis_debian("npm", programma("npm"))
    doel = CACHE / "node"
    doel.mkdir(parents=True, exist_ok=True)
    pakket = (HIER / "node" / "package.json").read_text()
    done = doel / "node_modules" / ".vva-package.json"
    if not done.exists() or done.read_text() != pakket:
        (doel / "package.json").write_text(pakket)
        uitkomst = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock"],
            cwd=doel, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if uitkomst.returncode != 0:
            niet_beschikbaar(f"npm install of soap and xml-crypto failed: {uitkomst.stderr.strip()[-300:]}")
        done.write_text(pakket)
    return doel / "node_modules"


def json_uit(uitkomst: subprocess.CompletedProcess) -> dict:
    assert uitkomst.returncode == 0, uitkomst.stderr + uitkomst.stdout
    return json.loads(uitkomst.stdout.strip().splitlines()[-1])


def pytest_terminal_summary(terminalreporter):
    if VERSIES:
        terminalreporter.write_sep("-", "interop stacks")
        for stack, versie in sorted(VERSIES.items()):
            terminalreporter.write_line(f"{stack}: {versie}")
