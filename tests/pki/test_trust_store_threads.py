"""The trust store shared by request threads from the first moment (issue 14, item 2).

asn1crypto parses lazily and caches without a lock; pyhanko-certvalidator reads the trust store's roots,
intermediates and CRLs from every thread. A fresh worker's first concurrent requests used to meet
half-parsed objects (``KeyError: No field numbered 1 ...``), answered Server.DK0050. These tests make
thread switches as frequent as the interpreter allows (``sys.setswitchinterval``), so that a race that
is rare in production shows up in nearly every round here; before the fix every round failed.
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from broker.edukoppeling.trust_store import TrustStore
from broker.pki.demo import DemoPki, make_demo_pki, renew_crl

#: Eight parties, as many as the first concurrent requests of the end-to-end test.
OINS = [f"000000990000000011{i:02d}" for i in range(8)]
ROUNDS = 10


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return make_demo_pki(tmp_path_factory.mktemp("pki"), [(oin, f"Partij {oin} (FICTIEF)") for oin in OINS])


@pytest.fixture
def fast_swaps():
    """Switch threads after every few bytecodes instead of every 5 ms."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _certificates(pki: DemoPki) -> dict[str, x509.Certificate]:
    return {oin: x509.load_pem_x509_certificate(pki.partijen[oin].certificate.read_bytes()) for oin in OINS}


def _concurrently(tasks: list[Callable[[], object]]) -> list[object]:
    """Run ``tasks`` in one thread each, released at the same moment; return each result or exception."""
    start = threading.Barrier(len(tasks))
    outcomes: list[object] = [None] * len(tasks)

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = tasks[index]()
        except Exception as error:  # noqa: BLE001 - the test reports what happened
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_first_concurrent_checks_of_a_fresh_trust_store_all_succeed(pki: DemoPki, fast_swaps) -> None:
    certificates = _certificates(pki)
    for run_round in range(ROUNDS):
        trust = TrustStore(pki.ca_files, pki.crl_files)
        moment = datetime.now(UTC)
        outcomes = _concurrently(
            [
                lambda c=certificate, v=trust, m=moment: v.check_all(c, "ondertekening", m)
                for certificate in certificates.values()
            ]
        )
        assert outcomes == list(certificates), f"round {run_round}: {outcomes}"


def test_crl_files_replaced_while_checks_run(pki: DemoPki, tmp_path: Path, fast_swaps) -> None:
    """The CRL reload path: every reload publishes new CRL objects to threads already validating."""
    map = tmp_path / "pki"
    shutil.copytree(pki.map, map)
    copy = make_demo_pki(map, [(oin, f"Partij {oin} (FICTIEF)") for oin in OINS])
    certificates = _certificates(copy)
    trust = TrustStore(copy.ca_files, copy.crl_files, crl_watch_s=0)
    begin = datetime.now(UTC)
    for certificate in certificates.values():  # roots and intermediates in use, one thread at a time
        trust.check_all(certificate, "ondertekening", begin)
    done = threading.Event()

    def check_until_done(certificate: x509.Certificate) -> str:
        step = 0
        while not done.is_set() or step < 5:
            step += 1
            # An earlier moment each time: no cached answer covers it, so every call validates anew.
            oin = trust.check_all(certificate, "ondertekening", begin - timedelta(milliseconds=step))
        return oin

    def replace_crls() -> str:
        try:
            for times in range(ROUNDS):
                renew_crl(map, begin - timedelta(minutes=times + 1))
                threading.Event().wait(0.05)
        finally:
            done.set()
        return "vervangen"

    outcomes = _concurrently(
        [
            replace_crls,
            *(lambda c=certificate: check_until_done(c) for certificate in certificates.values()),
        ]
    )
    assert outcomes == ["vervangen", *certificates], outcomes
