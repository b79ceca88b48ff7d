"""The broker behind the real nginx site (deploy/nginx/) on 127.0.0.1 with the demo PKI: nginx
terminates two-way TLS, passes the verified client certificate in X-Client-Cert, and the broker
trusts that header from nginx's address only."""

from __future__ import annotations

import socket
import subprocess
import time
from urllib.parse import quote

import pytest
import requests
import zeep.exceptions
from click.testing import CliRunner

from broker.cli import main
from tests.deploy.nginx import nginx_or_skip, write_nginx_config
from tests.e2e.test_tls_and_replay import _client
from tests.helpers import broker_process, free_port, write_config

SCHOOL_A, SCHOOL_C = "0000000700099XA00000", "0000000700099XC00000"


@pytest.fixture
def behind_nginx(database_url, tmp_path):
    """(https URL of nginx, demo PKI folder, CA bundle) with a production-like broker behind nginx."""
    nginx = nginx_or_skip()
    extra = 'tls_required = true\ntrusted_proxies = ["127.0.0.1"]\n'
    config = write_config(tmp_path, database_url, profile="2W-be-S", extra=extra)
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = tmp_path / "pki"
    bundle = tmp_path / "ca-bundel.pem"
    bundle.write_bytes((pki / "ca" / "root.pem").read_bytes() + (pki / "ca" / "issuing.pem").read_bytes())
    with broker_process(config) as broker_url:
        port = free_port()
        conf = write_nginx_config(tmp_path / "nginx", pki, port, int(broker_url.rsplit(":", 1)[1]))
        process = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(conf.parent), "-e", "stderr"],
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "nginx" / "stderr.log").open("wb"),
        )
        try:
            _wait_for_port(port, process)
            yield f"https://127.0.0.1:{port}", pki, bundle
        finally:
            process.terminate()
            process.wait(timeout=15)


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    for _ in range(100):
        if process.poll() is not None:
            raise RuntimeError("nginx stopped; see nginx/stderr.log and error.log beside the test's vva.toml")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not listen within 10 s")


def test_signed_call_through_nginx(behind_nginx):
    school = _client(*behind_nginx, tls_oin=SCHOOL_A, sign_oin=SCHOOL_A, sender=SCHOOL_A)
    assert school.service.ping(echo="door nginx").echo == "door nginx"
    # The WSDL fetched through nginx names nginx's https address, not the broker's own port.
    assert school.service._binding_options["address"].startswith(behind_nginx[0] + "/vva/vo/v1")


def test_nginx_refuses_without_a_client_certificate(behind_nginx):
    url, _, bundle = behind_nginx
    session = requests.Session()
    session.trust_env = False
    session.verify = str(bundle)
    response = session.get(f"{url}/vva/vo/v1?wsdl", timeout=10)
    assert response.status_code == 400
    assert "No required SSL certificate was sent" in response.text


def test_broker_sees_the_tls_certificate_nginx_passes_on(behind_nginx):
    # TLS as school C, signed as school A: the broker sees C's certificate from nginx and refuses the
    # mismatch (DK0002), which it could not without the header.
    school = _client(*behind_nginx, tls_oin=SCHOOL_C, sign_oin=SCHOOL_A, sender=SCHOOL_A)
    with pytest.raises(zeep.exceptions.Fault) as error:
        school.service.ping(echo="x")
    assert error.value.code.endswith("Client.DK0002")


def test_nginx_overwrites_a_certificate_header_sent_by_the_client(behind_nginx):
    # School C claims school A's certificate in its own X-Client-Cert header: nginx overwrites it with
    # the certificate of the connection, so the signature as A still does not match (DK0002).
    pki = behind_nginx[1]
    school = _client(*behind_nginx, tls_oin=SCHOOL_C, sign_oin=SCHOOL_A, sender=SCHOOL_A)
    school.transport.session.headers["X-Client-Cert"] = quote((pki / f"{SCHOOL_A}.cert.pem").read_text())
    with pytest.raises(zeep.exceptions.Fault) as error:
        school.service.ping(echo="x")
    assert error.value.code.endswith("Client.DK0002")
