"""CPU cost of one signed request through the broker's WS-Security path, next to bare RSA.

Measures, in one process and one run (so the figures are comparable):
- bare RSA-2048 PKCS#1 v1.5 SHA-256 sign and verify (cryptography), the floor;
- verifying a signed 2W-be-S request (parse, envelope, addressing, signature + coverage + Timestamp,
  certificate chain and CRL — the trust store's cache off and on);
- signing an answer (Timestamp, BST, SignatureConfirmation, one reference per part);
- a whole request through the WSGI app in-process (all of the above plus authorisation, XSD,
  spyne, the service layer and the database on SQLite), ping and a 100-pupil delivery.

Run: .venv/bin/python -m bench.cost_per_request [--n 200] [--postgres]
Prints CPU milliseconds per operation (process time, so other load on the machine does not count).
``--postgres``: the whole requests on a fresh schema of the local PostgreSQL (VVA_BENCH_POSTGRES_URL),
as in production, instead of SQLite; the database server's own CPU is not in the figure.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from bench._opstelling import postgres_schema, wsgi_post
from broker.bootstrap import Runtime
from broker.cli import main
from broker.config import TEST_BROKER_OIN, load_settings
from broker.edukoppeling.addressing import read_addressing
from broker.edukoppeling.envelope import read_envelope
from broker.edukoppeling.parsing import parse_message
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.trust_store import TrustStore
from broker.edukoppeling.wss.signer import Signer
from broker.edukoppeling.wss.verification import verify_envelope
from broker.web.app import Broker

SCHOOL = "0000000700099XA00000"
NS = "urn:nl:vva:aanmelden:v1"


def cpu_ms(function, n: int) -> float:
    function()  # warm up (imports, caches)
    begin = time.process_time()
    for _ in range(n):
        function()
    return (time.process_time() - begin) * 1000 / n


def in_turn(messages: list[bytes], call):
    """A call that sends the next message each time: a MessageID may only be used once."""
    row = iter(messages)
    return lambda: call(next(row))


def request(pki: Path, body: str, action: str) -> bytes:
    root = etree.fromstring(
        f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f"<soap:Header><wsa:Action>{action}</wsa:Action><wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:To>https://vva.example/vva/vo/v1?oin={TEST_BROKER_OIN}</wsa:To><wsa:From><wsa:Address>"
        f"http://www.w3.org/2005/08/addressing/anonymous?oin={SCHOOL}</wsa:Address></wsa:From></soap:Header>"
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    )
    Signer((pki / f"{SCHOOL}.key.pem").read_bytes(), (pki / f"{SCHOOL}.cert.pem").read_bytes()).sign(
        root, datetime.now(UTC)
    )
    return to_bytes(root)


def delivery(count: int) -> str:
    from stdnum.nl import bsn

    records = []
    number = 100000000
    while len(records) < count:
        number += 1
        if bsn.is_valid(str(number)):
            records.append(
                f"<v:leerling><v:volgnummer>{len(records) + 1}</v:volgnummer><v:bsn>{number}</v:bsn><v:brinVo>99XA</v:brinVo>"
                "<v:postcode>1011AB</v:postcode><v:woongemeente>0363</v:woongemeente><v:mutatie>toevoegen</v:mutatie></v:leerling>"
            )
    return f'<v:aanleverenLeerlingen xmlns:v="{NS}" ><v:vervangStartpopulatie>true</v:vervangStartpopulatie>{"".join(records)}</v:aanleverenLeerlingen>'


@contextlib.contextmanager
def _database(folder: Path, postgres: bool):
    """The database URL of the installation: a fresh PostgreSQL schema, or a SQLite file in ``map``."""
    if not postgres:
        yield f"sqlite:///{folder / 'vva.sqlite3'}"
        return
    with postgres_schema() as url:
        yield url


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="repetitions per measurement")
    parser.add_argument("--postgres", action="store_true", help="the whole requests on PostgreSQL")
    options = parser.parse_args()
    n = options.n
    with tempfile.TemporaryDirectory() as temporary, _database(Path(temporary), options.postgres) as database_url:
        folder = Path(temporary)
        config = folder / "vva.toml"
        config.write_text(
            f'database_url = "{database_url}"\nkey_file = "{folder / "k.json"}"\npki_dir = "{folder / "pki"}"\n'
        )
        assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
        pki = folder / "pki"
        key = serialization.load_pem_private_key((pki / f"{SCHOOL}.key.pem").read_bytes(), None)
        signature = key.sign(b"x" * 512, padding.PKCS1v15(), hashes.SHA256())
        public = key.public_key()
        ping = request(pki, f'<v:ping xmlns:v="{NS}"/>', f"{NS}/vo/ping")
        ca = pki / "ca"

        def trust() -> TrustStore:
            return TrustStore(
                [ca / "root.pem", ca / "issuing.pem"], [ca / "root.crl.pem", ca / "issuing.crl.pem"]
            )

        warm = trust()
        now = datetime.now(UTC)

        def incoming(trust: TrustStore) -> None:
            envelope = read_envelope(parse_message(ping), wss_allowed=True)
            read_addressing(envelope, '""', (TEST_BROKER_OIN,), None)
            trust.check_all(verify_envelope(envelope, now).certificate, "ondertekening", now)

        signer = Signer(
            (pki / f"{TEST_BROKER_OIN}.key.pem").read_bytes(),
            (pki / f"{TEST_BROKER_OIN}.cert.pem").read_bytes(),
        )

        def outgoing() -> None:
            root = etree.fromstring(
                b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">'
                b"<soap:Header><wsa:Action>a</wsa:Action><wsa:MessageID>m</wsa:MessageID><wsa:RelatesTo>r</wsa:RelatesTo>"
                b"<wsa:From><wsa:Address>f</wsa:Address></wsa:From><wsa:To>t</wsa:To></soap:Header><soap:Body><x/></soap:Body></soap:Envelope>"
            )
            to_bytes(signer.sign(root, datetime.now(UTC), confirm="abc"))

        app = Broker(Runtime(load_settings(config)))

        def wsgi(data: bytes) -> None:
            wsgi_post(app, "/vva/vo/v1", data)

        pings = [request(pki, f'<v:ping xmlns:v="{NS}"/>', f"{NS}/vo/ping") for _ in range(n + 1)]
        deliveries = [
            request(pki, delivery(100), f"{NS}/vo/aanleverenLeerlingen") for _ in range(max(n // 10, 5) + 1)
        ]
        figures = [
            (
                "RSA-2048 sign (bare, cryptography)",
                cpu_ms(lambda: key.sign(b"x" * 512, padding.PKCS1v15(), hashes.SHA256()), n),
            ),
            (
                "RSA-2048 verify (bare, cryptography)",
                cpu_ms(
                    lambda: public.verify(signature, b"x" * 512, padding.PKCS1v15(), hashes.SHA256()), n
                ),
            ),
            ("inbound checks, trust cache cold", cpu_ms(lambda: incoming(trust()), max(n // 4, 10))),
            ("inbound checks, trust cache warm", cpu_ms(lambda: incoming(warm), n)),
            ("sign an answer (6 references + BST)", cpu_ms(outgoing, n)),
            ("whole signed ping through the app", cpu_ms(in_turn(pings, wsgi), n)),
            (
                "whole signed 100-pupil delivery",
                cpu_ms(in_turn(deliveries, wsgi), max(n // 10, 5)),
            ),
        ]
    width = max(len(name) for name, _ in figures)
    database = "PostgreSQL" if options.postgres else "SQLite"
    print(f"CPU ms per operation (n={n}, one core, process time; whole requests on {database})")
    for name, ms in figures:
        print(f"  {name:<{width}}  {ms:8.2f}")


if __name__ == "__main__":
    main_()
