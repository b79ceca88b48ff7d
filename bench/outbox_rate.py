"""Deliveries per second from the outbox to the reference receiver on 127.0.0.1 (issue 4).

Sets up a broker (SQLite, demo PKI) and a reference receiver process in a temporary folder, queues
N pushes by delivering N pupils of school 99XA (each goes to the demo regional system of RMC region
21), then times one in-process delivery worker until the queue is empty. Every delivery is a signed
request with a signed, verified answer, and both are written to the message logs.

Run: .venv/bin/python bench/bezorgingen_per_seconde.py [--n 300]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from lxml import etree
from stdnum.nl import bsn

from broker.bootstrap import Omgeving
from broker.cli import main
from broker.config import TEST_BROKER_OIN, load_settings
from broker.edukoppeling.response import naar_bytes
from broker.edukoppeling.wss.ondertekening import Ondertekenaar
from broker.outbound.bezorger import Bezorger
from broker.privacy.sleutels import maak_sleutelbestand
from broker.web.app import Broker

REGIO, SCHOOL, NS = "00000099000000000042", "0000000700099XA00000", "urn:nl:vva:aanmelden:v1"


def vrije_poort() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def levering(n: int, pki: Path) -> bytes:
    records, nummer = [], 200000000
    while len(records) < n:
        nummer += 1
        if bsn.is_valid(str(nummer)):
            records.append(
                f"<v:leerling><v:volgnummer>{len(records) + 1}</v:volgnummer><v:bsn>{nummer}</v:bsn><v:brinVo>99XA</v:brinVo>"
                "<v:postcode>1011AB</v:postcode><v:woongemeente>0363</v:woongemeente><v:mutatie>toevoegen</v:mutatie></v:leerling>"
            )
    root = etree.fromstring(
        f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f"<soap:Header><wsa:Action>{NS}/vo/aanleverenLeerlingen</wsa:Action><wsa:MessageID>urn:uuid:{os.urandom(16).hex()[:8]}-0000-4000-8000-000000000000</wsa:MessageID>"
        f"<wsa:To>https://vva.example/vva/vo/v1?oin={TEST_BROKER_OIN}</wsa:To><wsa:From><wsa:Address>"
        f"http://www.w3.org/2005/08/addressing/anonymous?oin={SCHOOL}</wsa:Address></wsa:From></soap:Header>"
        f'<soap:Body><v:aanleverenLeerlingen xmlns:v="{NS}">{"".join(records)}</v:aanleverenLeerlingen></soap:Body></soap:Envelope>'
    )
    Ondertekenaar(
        (pki / f"{SCHOOL}.key.pem").read_bytes(), (pki / f"{SCHOOL}.cert.pem").read_bytes()
    ).onderteken(root, datetime.now(UTC))
    return naar_bytes(root)


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tijdelijk:
        map = Path(tijdelijk)
        config = map / "vva.toml"
        config.write_text(
            f'database_url = "sqlite:///{map / "vva.sqlite3"}"\nkey_file = "{map / "k.json"}"\npki_map = "{map / "pki"}"\n'
        )
        assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
        pki = map / "pki"
        ontvanger = map / "ontvanger"
        ontvanger.mkdir()
        maak_sleutelbestand(ontvanger / "k.json")
        (ontvanger / "vva.toml").write_text(
            f'database_url = "sqlite:///{ontvanger / "o.sqlite3"}"\nkey_file = "{ontvanger / "k.json"}"\npki_map = "{pki}"\n'
            f'broker_oins = ["{REGIO}"]\nonderteken_sleutel = "{pki / (REGIO + ".key.pem")}"\nonderteken_certificaat = "{pki / (REGIO + ".cert.pem")}"\n'
        )
        poort = vrije_poort()
        proces = subprocess.Popen(
            [sys.executable, "-m", "broker", "receiver", "serve", "--port", str(poort)],
            env={**os.environ, "VVA_CONFIG": str(ontvanger / "vva.toml")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{poort}/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            endpoint = f"http://127.0.0.1:{poort}/vva/ontvanger/v1"
            CliRunner().invoke(
                main,
                [
                    "--config",
                    str(config),
                    "party",
                    "add",
                    "--oin",
                    REGIO,
                    "--soort",
                    "regionaal-systeem",
                    "--naam",
                    "R",
                    "--rmc",
                    "21",
                    "--brin",
                    "99XB",
                    "--endpoint",
                    endpoint,
                    "--replace",
                ],
            )
            omgeving = Omgeving(load_settings(config))
            data = levering(n, pki)
            Broker(omgeving)(
                {
                    "REQUEST_METHOD": "POST",
                    "PATH_INFO": "/vva/vo/v1",
                    "CONTENT_TYPE": "text/xml",
                    "CONTENT_LENGTH": str(len(data)),
                    "wsgi.input": io.BytesIO(data),
                    "HTTP_SOAPACTION": '""',
                    "SERVER_NAME": "127.0.0.1",
                    "SERVER_PORT": "80",
                },
                lambda *_: None,
            )
            bezorger = Bezorger(omgeving)
            begin, cpu = time.perf_counter(), time.process_time()
            bezorger.draai(tot_leeg=True)
            duur, cpu = time.perf_counter() - begin, time.process_time() - cpu
        finally:
            proces.terminate()
            proces.wait()
    print(
        f"{n} pushes delivered by one worker in {duur:.1f} s: {n / duur:.0f} deliveries/s "
        f"(worker CPU {cpu * 1000 / n:.1f} ms per delivery; receiver on the same 2-core machine)"
    )


if __name__ == "__main__":
    main_()
