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
    apply_load,
    envelop,
    gunicorn_broker,
    install,
    machine,
    postgres_schema,
    signer,
)
from broker.config import TEST_BROKER_OIN

DS = "http://www.w3.org/2000/09/xmldsig#"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def _signed_parts(document: etree._Element) -> tuple[etree._Element, list[etree._Element]]:
    """The SignedInfo and the elements its References point at."""
    signed_info = document.find(f".//{{{DS}}}SignedInfo")
    per_id = {e.get(f"{{{WSU}}}Id"): e for e in document.iter() if e.get(f"{{{WSU}}}Id")}
    parts = [per_id[r.get("URI")[1:]] for r in signed_info.iter(f"{{{DS}}}Reference")]
    return signed_info, parts


def _c14n_and_digests(signed_info: etree._Element, parts: list[etree._Element]) -> bytes:
    for part in parts:
        hashlib.sha256(etree.tostring(part, method="c14n", exclusive=True)).digest()
    return etree.tostring(signed_info, method="c14n", exclusive=True)


def crypto_floor(request: bytes, response: bytes, broker_key_pem: bytes, n: int) -> dict[str, float]:
    """CPU ms of the unavoidable cryptography of one request/answer pair (see the module docstring)."""
    query, reply = etree.fromstring(request), etree.fromstring(response)
    request_info, request_parts = _signed_parts(query)
    response_info, response_parts = _signed_parts(reply)
    bst = query.find(f".//{{{WSSE}}}BinarySecurityToken")
    public = x509.load_der_x509_certificate(base64.b64decode(bst.text)).public_key()
    signature = base64.b64decode(query.find(f".//{{{DS}}}SignatureValue").text)
    key = serialization.load_pem_private_key(broker_key_pem, None)
    to_sign = etree.tostring(response_info, method="c14n", exclusive=True)
    to_verify = etree.tostring(request_info, method="c14n", exclusive=True)
    public.verify(signature, to_verify, padding.PKCS1v15(), hashes.SHA256())  # it is the real one

    def ms(function) -> float:
        function()
        begin = time.process_time()
        for _ in range(n):
            function()
        return (time.process_time() - begin) * 1000 / n

    return {
        "RSA-2048 verify of the request's SignedInfo": ms(
            lambda: public.verify(signature, to_verify, padding.PKCS1v15(), hashes.SHA256())
        ),
        "RSA-2048 sign of the answer's SignedInfo": ms(
            lambda: key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        ),
        f"exc-c14n + SHA-256 of the signed parts ({len(request_parts)} + {len(response_parts)}) and both SignedInfos": ms(
            lambda: (
                _c14n_and_digests(request_info, request_parts),
                _c14n_and_digests(response_info, response_parts),
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
        folder = Path(temporary)
        config = install(folder, database_url)
        pki = folder / "pki"
        request_signer = signer(pki, SCHOOL_A)
        warmup = max(args.n // 10, 100)
        begin = time.perf_counter()
        pings = [
            (
                "/vva/vo/v1",
                envelop(request_signer, SCHOOL_A, "vo", "ping", f'<v:ping xmlns:v="{NS}"><v:echo>b</v:echo></v:ping>'),
            )
            for _ in range(warmup + args.n)
        ]
        print(f"prepared {len(pings)} signed requests in {time.perf_counter() - begin:.1f} s")
        with gunicorn_broker(config, *options) as broker:
            warm = apply_load(broker.url, pings[:warmup], args.clients)
            assert warm.statuses == {200: warmup}, (warm.statuses, warm.errors)
            cpu_before, own_cpu_before = broker.cpu_s(), time.process_time()
            measured = apply_load(broker.url, pings[warmup:], args.clients)
            cpu = broker.cpu_s() - cpu_before
            client_cpu = time.process_time() - own_cpu_before
            assert measured.statuses == {200: args.n}, (measured.statuses, measured.errors)
            rss = broker.peak_rss_mb()
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
        floor = crypto_floor(query, response, (pki / f"{TEST_BROKER_OIN}.key.pem").read_bytes(), 2000)
    cores = os.cpu_count() or 1
    per_s = args.n / measured.wall_s
    floor_ms = sum(floor.values())
    floor_per_s = cores * 1000 / floor_ms
    print(f"signed pings, {args.clients} clients, {args.n} requests in {measured.wall_s:.1f} s")
    print(f"  throughput            {per_s:8.1f} requests/s")
    print(
        f"  latency p50 / p99     {measured.percentile(50) * 1000:8.1f} / {measured.percentile(99) * 1000:.1f} ms"
    )
    print(f"  broker CPU / request  {cpu * 1000 / args.n:8.2f} ms (all gunicorn processes)")
    print(f"  client CPU / request  {client_cpu * 1000 / args.n:8.2f} ms (the load generator, same machine)")
    print(f"  peak RSS per process  {', '.join(f'{k} {v:.0f} MiB' for k, v in rss.items())}")
    print("crypto floor on the same envelope (CPU ms, one core):")
    for name, value in floor.items():
        print(f"  {name:<90} {value:7.3f}")
    print(f"  {'total':<90} {floor_ms:7.3f}  → {floor_per_s:.0f} requests/s on {cores} cores")
    print(f"ratio measured / floor: {per_s / floor_per_s:.1%}")


if __name__ == "__main__":
    main_()
