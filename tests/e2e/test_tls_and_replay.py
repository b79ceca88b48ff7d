"""Two-way TLS on 127.0.0.1 with the demo PKI, mandates, and MessageID memory across a restart."""

from __future__ import annotations

import http.client
import ssl
import uuid
from datetime import UTC, datetime

import pytest
import requests
import zeep.exceptions
from click.testing import CliRunner
from lxml import etree
from zeep import Client, Settings
from zeep.transports import Transport

from broker.cli import main
from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.wss.signer import Signer
from broker.outbound.addressing import EdukoppelingAddressing
from broker.outbound.signing import EdukoppelingWsse
from tests.edukoppeling.conftest import build_envelope
from tests.helpers import broker_process, bsn, post_soap, write_config

SCHOOL_A, SCHOOL_C = "0000000700099XA00000", "0000000700099XC00000"
SUPPLIER = "00000099000000000077"  # mandated by school 99XA only


@pytest.fixture
def tls_broker(database_url, tmp_path):
    pki = tmp_path / "pki"
    extra = (
        f'tls_key = "{pki / (TEST_BROKER_OIN + ".key.pem")}"\n'
        f'tls_certificate = "{pki / (TEST_BROKER_OIN + ".cert.pem")}"\n'
        "tls_required = true\n"
    )
    config = write_config(tmp_path, database_url, profile="2W-be-S", extra=extra)
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    bundle = tmp_path / "ca-bundel.pem"
    bundle.write_bytes((pki / "ca" / "root.pem").read_bytes() + (pki / "ca" / "issuing.pem").read_bytes())
    with broker_process(config, scheme="https") as url:
        yield url, pki, bundle


def _client(url, pki, bundle, tls_oin: str, sign_oin: str, sender: str, tls_dir: str = "") -> Client:
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment beats session.verify
    session.verify = str(bundle)
    session.cert = (str(pki / tls_dir / f"{tls_oin}.chain.pem"), str(pki / tls_dir / f"{tls_oin}.key.pem"))
    # zeep fetches the WSDL over the same two-way TLS session.
    signer = Signer((pki / f"{sign_oin}.key.pem").read_bytes(), (pki / f"{sign_oin}.cert.pem").read_bytes())
    return Client(
        f"{url}/vva/vo/v1?wsdl",
        settings=Settings(strict=True, forbid_dtd=True, forbid_entities=True),
        transport=Transport(session=session, timeout=30),
        wsse=EdukoppelingWsse(signer),
        plugins=[EdukoppelingAddressing(sender, TEST_BROKER_OIN)],
    )


def test_without_client_certificate_no_connection(tls_broker):
    url, _, bundle = tls_broker
    context = ssl.create_default_context(cafile=str(bundle))
    host, port = url.removeprefix("https://").split(":")
    connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.RemoteDisconnected)):
        connection.request("GET", "/health")
        connection.getresponse().read()


def test_supplier_with_mandaat_is_accepted(tls_broker):
    school = _client(*tls_broker, tls_oin=SUPPLIER, sign_oin=SUPPLIER, sender=SCHOOL_A)
    assert school.service.ping(echo="via leverancier").echo == "via leverancier"


def test_supplier_without_mandaat_is_dk0002(tls_broker):
    school_c = _client(*tls_broker, tls_oin=SUPPLIER, sign_oin=SUPPLIER, sender=SCHOOL_C)
    with pytest.raises(zeep.exceptions.Fault) as error:
        school_c.service.ping()
    assert error.value.code == "soap:Client.DK0002"


def test_certificate_without_oin_is_ek0030(tls_broker):
    school = _client(*tls_broker, tls_oin="zonder-oin", sign_oin=SCHOOL_A, sender=SCHOOL_A, tls_dir="test")
    with pytest.raises(zeep.exceptions.Fault) as error:
        school.service.ping()
    assert error.value.code == "soap:Client.EK0030"


def test_tls_certificate_without_oin_goes_before_a_broken_message(tls_broker):
    """check order step 1 and F4: the connection's certificate is judged before anything in the message."""
    url, pki, bundle = tls_broker
    session = requests.Session()
    session.trust_env = False
    session.verify = str(bundle)
    session.cert = (str(pki / "test" / "zonder-oin.chain.pem"), str(pki / "test" / "zonder-oin.key.pem"))
    response = session.post(
        f"{url}/vva/vo/v1", data=b"<niet-af", headers={"Content-Type": "text/xml", "SOAPAction": '""'}
    )
    assert response.status_code == 500 and b"soap:Client.EK0030" in response.content


def test_h112_tls_and_signature_of_different_partijen_is_dk0002(tls_broker):
    school = _client(*tls_broker, tls_oin=SCHOOL_C, sign_oin=SCHOOL_A, sender=SCHOOL_A)
    with pytest.raises(zeep.exceptions.Fault) as error:
        school.service.ping()
    assert error.value.code == "soap:Client.DK0002"


# --- MessageID memory (O5; H64, H66, H67) -------------------------


def _signed(pki, body: str, message_id: str, operatie: str = "aanleverenLeerlingen") -> bytes:
    root = etree.fromstring(
        build_envelope(body, action=f"urn:nl:vva:aanmelden:v1/vo/{operatie}", message_id=message_id)
    )
    Signer((pki / f"{SCHOOL_A}.key.pem").read_bytes(), (pki / f"{SCHOOL_A}.cert.pem").read_bytes()).sign(
        root, datetime.now(UTC)
    )
    return to_bytes(root)


def _delivery(number: str) -> str:
    return (
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:volgnummer>1</vva:volgnummer>'
        f"<vva:bsn>{number}</vva:bsn><vva:brinVo>99XA</vva:brinVo><vva:postcode>1011AB</vva:postcode>"
        "<vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling></vva:aanleverenLeerlingen>"
    )


def test_h64_h66_h67_replay_after_restart_is_not_executed_twice(database_url, tmp_path):
    config = write_config(tmp_path, database_url, profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki, message_id, number = tmp_path / "pki", f"urn:uuid:{uuid.uuid4()}", bsn("12312312")
    first = _signed(pki, _delivery(number), message_id)
    with broker_process(config) as url:
        status, response = post_soap(url, first)
        assert status == 200 and b"<tns:verwerkt>true</tns:verwerkt>" in response
    with broker_process(config) as url:  # a restart: the memory lives in the database
        # H64/H67: the same bytes again are a replay.
        status, response = post_soap(url, first)
        assert status == 500 and b"soap:Client.EK0031" in response
        # H66: the same MessageID and Body, freshly signed (a client retrying): the stored answer.
        status, response = post_soap(url, _signed(pki, _delivery(number), message_id))
        assert status == 200 and b"<tns:verwerkt>true</tns:verwerkt>" in response
        assert b"<wsa:RelatesTo wsu:Id=" in response and message_id.encode() in response
        # O5: the same MessageID with another Body.
        status, response = post_soap(url, _signed(pki, _delivery(bsn("32132132")), message_id))
        assert status == 500 and b"soap:Client.DK0011" in response
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM leerling_mutatie")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM leerling")).scalar() == 1
    engine.dispose()


# --- Behind a terminating proxy (T11) -------------------------------------------------------------


def _with_proxy_header(url: str, data: bytes, pem: bytes | None) -> bytes:
    from urllib.parse import quote

    headers = {"X-Client-Cert": quote(pem.decode())} if pem is not None else {}
    return post_soap(url, data, headers=headers)[1]


@pytest.mark.parametrize("proxies", [["127.0.0.1"], []], ids=["vertrouwde-proxy", "geen-proxy"])
def test_client_certificate_from_proxy_header_only_from_trusted_proxy(database_url, tmp_path, proxies):
    extra = f"tls_required = true\ntrusted_proxies = {proxies!r}\n".replace("'", '"')
    config = write_config(tmp_path, database_url, profile="2W-be-S", extra=extra)
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = tmp_path / "pki"
    ping = '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"/>'
    with broker_process(config) as url:
        school = (pki / f"{SCHOOL_A}.cert.pem").read_bytes()
        with_header = _with_proxy_header(url, _signed(pki, ping, f"urn:uuid:{uuid.uuid4()}", "ping"), school)
        without = _with_proxy_header(url, _signed(pki, ping, f"urn:uuid:{uuid.uuid4()}", "ping"), None)
    assert b"soap:Client.EK0030" in without
    if proxies:
        assert b"pingResponse" in with_header
    else:
        assert b"soap:Client.EK0030" in with_header  # the header from anyone else is ignored


def test_h47_revocation_applies_without_restart(database_url, tmp_path):
    """The CRL fetcher stores a new CRL: the running broker refuses the revoked signer within seconds."""
    import time

    from broker.pki.demo import withdraw

    config = write_config(tmp_path, database_url, profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = tmp_path / "pki"

    def ping_as_supplier() -> bytes:
        root = etree.fromstring(build_envelope(action="urn:nl:vva:aanmelden:v1/vo/ping"))
        sleutel, certificate = (
            (pki / f"{SUPPLIER}.key.pem").read_bytes(),
            (pki / f"{SUPPLIER}.cert.pem").read_bytes(),
        )
        Signer(sleutel, certificate).sign(root, datetime.now(UTC))
        return post_soap(url, to_bytes(root))[1]

    with broker_process(config) as url:
        assert b"pingResponse" in ping_as_supplier()
        withdraw(pki, pki / f"{SUPPLIER}.cert.pem")
        for _ in range(40):
            response = ping_as_supplier()
            if b"soap:Client.EK0031" in response:
                break
            time.sleep(0.5)
    assert b"soap:Client.EK0031" in response


def test_h66_concurrent_replays_are_executed_once(database_url, tmp_path):
    """Eight deliveries of one MessageID and Body at once, each freshly signed, to two workers of four
    threads: it is applied once; every other delivery gets the stored answer or Server.DK0051 (never
    DK0050, never "database is locked" as anything else); each is logged with its outcome and audited
    once."""
    import threading
    from datetime import timedelta

    from sqlalchemy import create_engine, text

    config = write_config(tmp_path, database_url, profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki, message_id, number = tmp_path / "pki", f"urn:uuid:{uuid.uuid4()}", bsn("45645645")
    messages = []
    for i in range(8):
        root = etree.fromstring(
            build_envelope(
                _delivery(number),
                action="urn:nl:vva:aanmelden:v1/vo/aanleverenLeerlingen",
                message_id=message_id,
            )
        )
        Signer((pki / f"{SCHOOL_A}.key.pem").read_bytes(), (pki / f"{SCHOOL_A}.cert.pem").read_bytes()).sign(
            root, datetime.now(UTC) - timedelta(seconds=i)
        )
        messages.append(to_bytes(root))
    outcomes: list[tuple[int, bytes]] = []
    start = threading.Barrier(len(messages))

    def send(message: bytes) -> None:
        start.wait()
        outcomes.append(post_soap(url, message))

    with broker_process(config, "--workers", "2", "--threads", "4") as url:
        threads = [threading.Thread(target=send, args=(b,)) for b in messages]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert len(outcomes) == 8
    good = [a for s, a in outcomes if s == 200]
    error = [(s, a) for s, a in outcomes if s != 200]
    assert good and all(b"<tns:verwerkt>true</tns:verwerkt>" in a for a in good)
    assert all(s == 500 and b"soap:Server.DK0051" in a for s, a in error), error
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM leerling")).scalar() == 1
            assert connection.execute(text("SELECT count(*) FROM leerling_mutatie")).scalar() == 1
            outcome = connection.execute(
                text("SELECT uitkomst, count(*) FROM bericht WHERE richting = 'in' GROUP BY uitkomst")
            ).all()
            assert dict(outcome) == {
                k: v
                for k, v in {
                    "verwerkt": 1,
                    "herhaald": len(good) - 1,
                    "Server.DK0051": len(error),
                }.items()
                if v
            }
            audit = connection.execute(
                text("SELECT outcome, count(*) FROM audit_record WHERE message_id = :m GROUP BY outcome"),
                {"m": message_id},
            ).all()
            assert sum(n for _, n in audit) == 8
            assert dict(audit).get("verwerkt") == 1
    finally:
        engine.dispose()
