"""Signed throughput: N concurrent clients on 127.0.0.1 sending valid signed requests to the broker under
gunicorn (deploy/gunicorn.conf.py) on PostgreSQL, next to the crypto floor measured in the same run.

The requests (signed 2W-be-S pings of demo school 99XA, each with its own MessageID) are prepared in
advance with fresh Timestamps, then sent by --clients threads over keep-alive connections. Reported:
requests/s, p50/p99 latency, the broker's CPU per request (master + workers, from /proc), and the
crypto floor on the same envelope and one of its answers: one RSA-2048 verify of the request's
SignedInfo, one RSA-2048 sign of the answer's SignedInfo, and the exclusive canonicalisation (+ SHA-256)
of every signed part of both — the work no implementation of 2W-be-S can skip. The floor as a rate is
cores / floor time; the ratio is measured rate / floor rate.

Run: .venv/bin/python bench/signed_throughput.py [--clients 16] [--n 3000] [--workers N] [--threads 4]
Needs PostgreSQL on 127.0.0.1:5432 (VVA_BENCH_POSTGRES_URL) and the bench extra (psutil).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from bench._opstelling import (
    NS,
    SCHOOL_A,
    belast,
    envelop,
    gunicorn_broker,
    installatie,
    machine,
    postgres_schema,
    signer,
)
from broker.config import TEST_BROKER_OIN

DS = "http://www.w3.org/2000/09/xmldsig#"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def _ondertekende_delen(document: etree._Element) -> tuple[etree._Element, list[etree._Element]]:
    """The SignedInfo and the elements its References point at."""
    signed_info = document.find(f".//{{{DS}}}SignedInfo")
    per_id = {e.get(f"{{{WSU}}}Id"): e for e in document.iter() if e.get(f"{{{WSU}}}Id")}
    delen = [per_id[r.get("URI")[1:]] for r in signed_info.iter(f"{{{DS}}}Reference")]
    return signed_info, delen


def _c14n_en_digests(signed_info: etree._Element, delen: list[etree._Element]) -> bytes:
    for deel in delen:
        hashlib.sha256(etree.tostring(deel, method="c14n", exclusive=True)).digest()
    return etree.tostring(signed_info, method="c14n", exclusive=True)


def crypto_vloer(request: bytes, response: bytes, broker_sleutel_pem: bytes, n: int) -> dict[str, float]:
    """CPU ms of the unavoidable cryptography of one request/answer pair (see the module docstring)."""
    query, reactie = etree.fromstring(request), etree.fromstring(response)
    vraag_info, vraag_delen = _ondertekende_delen(query)
    antwoord_info, antwoord_delen = _ondertekende_delen(reactie)
    bst = query.find(f".//{{{WSSE}}}BinarySecurityToken")
    public = x509.load_der_x509_certificate(base64.b64decode(bst.text)).public_key()
    handtekening = base64.b64decode(query.find(f".//{{{DS}}}SignatureValue").text)
    sleutel = serialization.load_pem_private_key(broker_sleutel_pem, None)
    te_tekenen = etree.tostring(antwoord_info, method="c14n", exclusive=True)
    te_verifieren = etree.tostring(vraag_info, method="c14n", exclusive=True)
    public.verify(handtekening, te_verifieren, padding.PKCS1v15(), hashes.SHA256())  # it is the real one

    def ms(function) -> float:
        function()
        begin = time.process_time()
        for _ in range(n):
            function()
        return (time.process_time() - begin) * 1000 / n

    return {
        "RSA-2048 verify of the request's SignedInfo": ms(
            lambda: public.verify(handtekening, te_verifieren, padding.PKCS1v15(), hashes.SHA256())
        ),
        "RSA-2048 sign of the answer's SignedInfo": ms(
            lambda: sleutel.sign(te_tekenen, padding.PKCS1v15(), hashes.SHA256())
        ),
        f"exc-c14n + SHA-256 of the signed parts ({len(vraag_delen)} + {len(antwoord_delen)}) and both SignedInfos": ms(
            lambda: (
                _c14n_en_digests(vraag_info, vraag_delen),
                _c14n_en_digests(antwoord_info, antwoord_delen),
            )
        ),
    }


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--n", type=int, default=3000, help="measured requests (after a warm-up)")
    parser.add_argument(
        "--workers", type=int, default=None, help="default: deploy/gunicorn.conf.py (CPU count)"
    )
    parser.add_argument("--threads", type=int, default=None, help="default: deploy/gunicorn.conf.py (4)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    options = [
        *(["--workers", str(args.workers)] if args.workers else []),
        *(["--threads", str(args.threads)] if args.threads else []),
    ]
    with tempfile.TemporaryDirectory() as temporary, postgres_schema() as database_url:
        map = Path(temporary)
        config = installatie(map, database_url)
        pki = map / "pki"
        request_signer = signer(pki, SCHOOL_A)
        opwarmen = max(args.n // 10, 100)
        begin = time.perf_counter()
        pings = [
            (
                "/vva/vo/v1",
                envelop(request_signer, SCHOOL_A, "vo", "ping", f'<v:ping xmlns:v="{NS}"><v:echo>b</v:echo></v:ping>'),
            )
            for _ in range(opwarmen + args.n)
        ]
        print(f"prepared {len(pings)} signed requests in {time.perf_counter() - begin:.1f} s")
        with gunicorn_broker(config, *options) as broker:
            warm = belast(broker.url, pings[:opwarmen], args.clients)
            assert warm.statuses == {200: opwarmen}, (warm.statuses, warm.errors)
            cpu_voor, eigen_voor = broker.cpu_s(), time.process_time()
            meting = belast(broker.url, pings[opwarmen:], args.clients)
            cpu = broker.cpu_s() - cpu_voor
            client_cpu = time.process_time() - eigen_voor
            assert meting.statuses == {200: args.n}, (meting.statuses, meting.errors)
            rss = broker.piek_rss_mb()
            import http.client

            connection = http.client.HTTPConnection(
                *broker.url.removeprefix("http://").split(":"), timeout=30
            )
            query = envelop(
                request_signer, SCHOOL_A, "vo", "ping", f'<v:ping xmlns:v="{NS}"><v:echo>b</v:echo></v:ping>'
            )
            connection.request(
                "POST",
                "/vva/vo/v1",
                body=query,
                headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
            )
            response = connection.getresponse().read()
        vloer = crypto_vloer(query, response, (pki / f"{TEST_BROKER_OIN}.key.pem").read_bytes(), 2000)
    kernen = os.cpu_count() or 1
    per_s = args.n / meting.wand_s
    vloer_ms = sum(vloer.values())
    vloer_per_s = kernen * 1000 / vloer_ms
    print(f"signed pings, {args.clients} clients, {args.n} requests in {meting.wand_s:.1f} s")
    print(f"  throughput            {per_s:8.1f} requests/s")
    print(
        f"  latency p50 / p99     {meting.percentile(50) * 1000:8.1f} / {meting.percentile(99) * 1000:.1f} ms"
    )
    print(f"  broker CPU / request  {cpu * 1000 / args.n:8.2f} ms (all gunicorn processes)")
    print(f"  client CPU / request  {client_cpu * 1000 / args.n:8.2f} ms (the load generator, same machine)")
    print(f"  peak RSS per process  {', '.join(f'{k} {v:.0f} MiB' for k, v in rss.items())}")
    print("crypto floor on the same envelope (CPU ms, one core):")
    for naam, waarde in vloer.items():
        print(f"  {naam:<90} {waarde:7.3f}")
    print(f"  {'total':<90} {vloer_ms:7.3f}  → {vloer_per_s:.0f} requests/s on {kernen} cores")
    print(f"ratio measured / floor: {per_s / vloer_per_s:.1%}")


if __name__ == "__main__":
    main_()
