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
from tests.edukoppeling.conftest import build_envelope
from tests.helpers import broker_process, post_soap, write_config

HERE = Path(__file__).parent
CACHE = Path(os.environ.get("VVA_INTEROP_CACHE", Path.home() / ".cache" / "vva-interop"))
SCHOOL_A = "0000000700099XA00000"
PING = "urn:nl:vva:aanmelden:v1/vo/ping"
#: stack → version, filled by the tests that ran; printed by pytest_terminal_summary.
VERSIONS: dict[str, str] = {}


@dataclass(frozen=True)
class DemoBroker:
    url: str
    pki: Path


def _demo(tmp_path_factory, profile: str):
    folder = tmp_path_factory.mktemp(f"interop-{profile}")
    config = write_config(folder, f"sqlite:///{folder / 'vva.sqlite3'}", profile=profile)
    result = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert result.exit_code == 0, result.output
    with broker_process(config) as url:
        yield DemoBroker(url, folder / "pki")


@pytest.fixture(scope="module")
def signed_broker(tmp_path_factory):
    """The demo broker in the standard profile 2W-be-S (signed requests and answers)."""
    yield from _demo(tmp_path_factory, "2W-be-S")


@pytest.fixture(scope="module")
def be_broker(tmp_path_factory):
    """The demo broker in profile 2W-be (WS-Addressing, no WS-Security)."""
    yield from _demo(tmp_path_factory, "2W-be")


def signed_answer(broker: DemoBroker) -> bytes:
    """The broker's signed answer to a ``ping`` (echo ``x``) signed by demo school 99XA."""
    root = etree.fromstring(build_envelope(action=PING))
    pki = broker.pki
    Signer((pki / f"{SCHOOL_A}.key.pem").read_bytes(), (pki / f"{SCHOOL_A}.cert.pem").read_bytes()).sign(
        root, datetime.now(UTC)
    )
    status, response = post_soap(broker.url, to_bytes(root), headers={"SOAPAction": f'"{PING}"'})
    assert status == 200, response
    return response


def signed_fault(broker: DemoBroker) -> bytes:
    """The broker's signed fault (soap:Client, HTTP 500) to a signed ``ping`` with an unknown element."""
    root = etree.fromstring(
        build_envelope('<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:onbekend/></vva:ping>', action=PING)
    )
    pki = broker.pki
    Signer((pki / f"{SCHOOL_A}.key.pem").read_bytes(), (pki / f"{SCHOOL_A}.cert.pem").read_bytes()).sign(
        root, datetime.now(UTC)
    )
    status, error = post_soap(broker.url, to_bytes(root), headers={"SOAPAction": f'"{PING}"'})
    assert status == 500 and b"<faultcode>soap:Client." in error, error
    return error


def header_blocks(message: bytes) -> list[str]:
    """Local names of the SOAP Header's children, in order."""
    return [etree.QName(block).localname for block in etree.fromstring(message).find(f"{{{SOAP11}}}Header")]


def unavailable(reden: str) -> None:
    """Skip with ``reden``, or fail when ``VVA_REQUIRE_INTEROP`` is set (CI)."""
    if os.environ.get("VVA_REQUIRE_INTEROP"):
        pytest.fail(f"interop stack required (VVA_REQUIRE_INTEROP) but not available: {reden}")
    pytest.skip(reden)


def require_debian(package: str, present: Callable[[], bool]) -> None:
    """Make sure Debian ``package`` is there (``present()`` says so), installing it with apt-get when
    it is not; skip the test, saying why, when that cannot be done (fail in CI)."""
    if present():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        unavailable(
            f"{package} is not installed and apt-get cannot run here (needs root); .ci/run installs it"
        )
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
        outcome = subprocess.run(
            command, capture_output=True, text=True, timeout=600,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )  # fmt: skip
        if outcome.returncode != 0:
            unavailable(f"could not install Debian package {package}: {outcome.stderr.strip()[-300:]}")
    if not present():
        unavailable(f"Debian package {package} installed, but what the test needs is still missing")


def program(naam: str) -> Callable[[], bool]:
    return lambda: shutil.which(naam) is not None


def file_exists(path: str) -> Callable[[], bool]:
    return lambda: Path(path).exists()


def debian_version(package: str) -> str:
    outcome = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True, check=False
    )
    return outcome.stdout.strip() or "unknown"


def node_modules() -> Path:
    """node-soap and xml-crypto (tests/interop/node/package.json), installed with npm into the cache
    directory once; skip when node/npm are missing or the registry cannot be reached."""
    require_debian("npm", program("npm"))
    target = CACHE / "node"
    target.mkdir(parents=True, exist_ok=True)
    package = (HERE / "node" / "package.json").read_text()
    done = target / "node_modules" / ".vva-package.json"
    if not done.exists() or done.read_text() != package:
        (target / "package.json").write_text(package)
        outcome = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock"],
            cwd=target, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if outcome.returncode != 0:
            unavailable(f"npm install of soap and xml-crypto failed: {outcome.stderr.strip()[-300:]}")
        done.write_text(package)
    return target / "node_modules"


def json_out(outcome: subprocess.CompletedProcess) -> dict:
    assert outcome.returncode == 0, outcome.stderr + outcome.stdout
    return json.loads(outcome.stdout.strip().splitlines()[-1])


def pytest_terminal_summary(terminalreporter):
    if VERSIONS:
        terminalreporter.write_sep("-", "interop stacks")
        for stack, version in sorted(VERSIONS.items()):
            terminalreporter.write_line(f"{stack}: {version}")
