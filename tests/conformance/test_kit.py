"""The conformance kit (conformance/, ``vva conformance run``) against real brokers and receivers on
127.0.0.1: every case passes against a correct broker over two-way TLS, and a deliberately
misconfigured broker or receiver fails exactly the cases that show its fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from broker.cli import main
from broker.config import TEST_BROKER_OIN
from broker.conformance.manifest import GEACCEPTEERD, load_manifest
from broker.conformance.messages import BYTE_MUTATIONS, TREE_MUTATIONS, Sender, render, self_signed
from broker.db.engine import make_engine
from broker.db.models import Bericht
from broker.edukoppeling.contract import Contract
from broker.edukoppeling.faults import FAULTSTRINGS
from tests.e2e.test_pushes import REGIO, _receiver
from tests.helpers import broker_process, write_config

SCHOOL_A = "0000000700099XA00000"
#: The demo party that speaks for each service, and its BRIN for the delivery samples.
SPEAKERS = {
    "vo": (SCHOOL_A, None),
    "mbo": ("0000000700099XB00000", None),
    "gemeente": ("00000099000000000363", None),
    "regio": (REGIO, "99XB"),
}


# --- the manifest -------------------------------------------------------------------------------


def test_every_code_of_the_fault_table_is_provoked():
    manifest = load_manifest()
    # The expected outcome itself, not an ook_goed alternative: each code is provoked for certain.
    verwacht = {g.verwacht for g in manifest.cases}
    assert [code for code in FAULTSTRINGS if code not in verwacht] == []
    assert manifest.out_of_range == {}  # no code is excused


def test_every_operation_of_every_service_has_a_valid_sample():
    manifest = load_manifest()
    valid = {(g.dienst, g.operatie) for g in manifest.cases if g.verwacht == GEACCEPTEERD}
    for service in Contract().services.values():
        for operatie in service.operations.values():
            assert (service.service_id, operatie.name) in valid


def test_every_case_is_explained_and_uses_existing_mutations():
    for case in load_manifest().cases:
        assert case.omschrijving, case.id
        if case.verwacht != GEACCEPTEERD or case.dienst == "*":
            assert case.bron, case.id  # the rule or H-number that says why
        if case.mutatie:
            tree = case.mutatie.partition(":")[0] in TREE_MUTATIONS
            assert (tree and case.ondertekenen) or case.mutatie in BYTE_MUTATIONS, case.id


def test_every_case_can_be_built_and_the_signed_ones_are_signed():
    sleutel, certificaat = self_signed(SCHOOL_A)
    sender = Sender(sleutel, certificaat, SCHOOL_A, "99XA")
    manifest = load_manifest()
    for case in manifest.cases:
        dienst = "vo" if case.dienst == "*" else case.dienst
        address = f"https://vva.example/vva/{dienst}/v1"
        message = render(
            case, manifest.sjabloon(case), dienst=dienst, address=address, ontvanger_oin=TEST_BROKER_OIN,
            sender=sender,
        )  # fmt: skip
        assert (message.signature_value is not None) == (
            case.ondertekenen and case.codering in ("utf-8", "utf-8-bom")
        )
        assert "${" not in message.data.decode("utf-8", errors="replace"), case.id
        if message.signature_value is not None:
            assert message.signature_value.encode() in b"".join(message.data.split()), case.id


# --- against a broker ------------------------------------------------------------------------------


def _broker_config(
    folder: Path, database_url: str, profile: str = "2W-be-S", extra: str = "", faults: bool = True
) -> Path:
    """A test-environment broker as partners meet it: two-way TLS and, unless ``faults`` is
    False, the deliberate failures the storing-* cases ask for (conformance_fault_injection)."""
    pki = folder / "pki"
    tls = (
        f'tls_key = "{pki / (TEST_BROKER_OIN + ".key.pem")}"\n'
        f'tls_certificate = "{pki / (TEST_BROKER_OIN + ".cert.pem")}"\ntls_required = true\n'
        f"conformance_fault_injection = {str(faults).lower()}\n"
    )
    config = write_config(folder, database_url, profile=profile, extra=tls + extra)
    resultaat = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert resultaat.exit_code == 0, resultaat.output
    return config


def _kit(url: str, pki: Path, oin: str, *extra: str, junit: Path | None = None, tls: bool = True):
    ca = pki / "ca"
    arguments = [
        "conformance", "run", "--endpoint", url,
        "--key", str(pki / f"{oin}.key.pem"), "--cert", str(pki / f"{oin}.cert.pem"),
        "--ca", str(ca / "root.pem"), "--ca", str(ca / "issuing.pem"),
        "--crl", str(ca / "root.crl.pem"), "--crl", str(ca / "issuing.crl.pem"),
    ]  # fmt: skip
    if tls:
        arguments += ["--client-cert", str(pki / f"{oin}.chain.pem")]
    if junit is not None:
        arguments += ["--junit", str(junit)]
    return CliRunner().invoke(main, [*arguments, *extra])


def _junit(path: Path) -> dict[str, str]:
    """Case id → ok / FAIL / SKIP, from the kit's JUnit XML."""
    verdict = {}
    for testcase in etree.parse(str(path)).getroot().iter("testcase"):
        if testcase.find("failure") is not None:
            verdict[testcase.get("name")] = "FAIL"
        elif testcase.find("skipped") is not None:
            verdict[testcase.get("name")] = "SKIP"
        else:
            verdict[testcase.get("name")] = "ok"
    return verdict


def test_kit_passes_against_a_good_broker_over_mutual_tls(database_url, tmp_path):
    config = _broker_config(tmp_path, database_url)
    pki = tmp_path / "pki"
    with broker_process(config, scheme="https") as url:
        junit = tmp_path / "vo.xml"
        resultaat = _kit(
            f"{url}/vva/vo/v1", pki, SCHOOL_A, "--save", str(tmp_path / "berichten"), junit=junit
        )
        assert resultaat.exit_code == 0, resultaat.output
        verdict = _junit(junit)
        # --save keeps what went over the wire: the signed request and the broker's signed answer.
        soap_request = (tmp_path / "berichten" / "vo-ping.request.xml").read_bytes()
        assert b"<wsse:BinarySecurityToken" in soap_request and b"conformance vo-ping" in soap_request
        assert (
            b"<tns:echo>conformance vo-ping</tns:echo>"
            in (tmp_path / "berichten" / "vo-ping.response.xml").read_bytes()
        )
        vo_cases = [g.id for g in load_manifest().cases if g.dienst in ("*", "vo")]
        assert verdict == {ident: "ok" for ident in vo_cases}
        assert f"{len(vo_cases)} passed, 0 failed, 0 skipped" in resultaat.output
        # The deliberate failures take the real fault path: signed (the kit verified it), in the
        # message log with their code and HTTP 500, and in the broker's own log.
        error = (tmp_path / "berichten" / "storing-dk0051.response.xml").read_bytes()
        assert b"<faultcode>soap:Server.DK0051</faultcode>" in error and b"<ds:SignatureValue>" in error
        assert _faults_in_message_log(database_url) == {
            ("Server.DK0050", 500, "deliberate failure (conformance_storingen)"),
            ("Server.DK0051", 500, "deliberate failure (conformance_storingen)"),
            ("Client.DK0008", 500, "no wsa:RelatesTo (conformance_storingen)"),
        }
        assert "deliberate Server.DK0050 for bericht" in (tmp_path / "broker.log").read_text()
        for dienst, (oin, brin) in SPEAKERS.items():
            extra = ["--only", f"{dienst}-*", "--only", "onbekende-partij", "--only", "body-gewijzigd"]
            resultaat = _kit(f"{url}/vva/{dienst}/v1", pki, oin, *extra, *(["--brin", brin] if brin else []))
            assert resultaat.exit_code == 0, resultaat.output
            assert " 0 failed, 0 skipped" in resultaat.output


def _faults_in_message_log(database_url: str) -> set[tuple[str, int, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Bericht.uitkomst, Bericht.http_status, Bericht.reden).where(
                    Bericht.richting == "in", Bericht.reden.contains("conformance_storingen")
                )
            )
            return {tuple(row) for row in rows}
    finally:
        engine.dispose()


def _failed(verdict: dict[str, str]) -> set[str]:
    return {ident for ident, status in verdict.items() if status == "FAIL"}


def test_kit_catches_a_broker_with_a_too_wide_time_window(tmp_path):
    """A broker that takes Timestamps up to an hour in the future (S6 allows 60 s)."""
    config = _broker_config(
        tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}", extra="timestamp_future_s = 3600\n"
    )
    with broker_process(config, scheme="https") as url:
        junit = tmp_path / "vo.xml"
        resultaat = _kit(f"{url}/vva/vo/v1", tmp_path / "pki", SCHOOL_A, junit=junit)
    assert resultaat.exit_code == 1
    assert _failed(_junit(junit)) == {"tijdstempel-toekomst"}
    assert "expected Client.EK0031, got geaccepteerd" in resultaat.output


def test_kit_catches_a_broker_without_a_signature_check(tmp_path):
    """Profile 2W-be: signatures are neither required nor given. The unsigned request is accepted,
    every signed one refused (DK0010), and no answer is signed; the HTTP framing still passes."""
    config = _broker_config(tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}", profile="2W-be")
    with broker_process(config, scheme="https") as url:
        junit = tmp_path / "vo.xml"
        resultaat = _kit(f"{url}/vva/vo/v1", tmp_path / "pki", SCHOOL_A, junit=junit)
        assert resultaat.exit_code == 1
        verdict = _junit(junit)
        assert "expected Client.EK0031, got geaccepteerd" in resultaat.output
        assert "expected geaccepteerd, got Client.DK0010" in resultaat.output
        assert {"niet-ondertekend", "vo-ping", "vo-aanleverenLeerlingen", "tijdstempel-verlopen"} <= _failed(
            verdict
        )
        assert {
            verdict[i] for i in ("gecomprimeerd", "ander-mediatype", "te-groot", "zonder-clientcertificaat")
        } == {"ok"}
        # The same broker is conformant for what it is: a 2W-be endpoint, checked as one.
        junit_be = tmp_path / "vo-be.xml"
        resultaat = _kit(f"{url}/vva/vo/v1", tmp_path / "pki", SCHOOL_A, "--profile", "2W-be", junit=junit_be)
    assert resultaat.exit_code == 0, resultaat.output
    verdict = _junit(junit_be)
    assert _failed(verdict) == set()
    assert verdict["niet-ondertekend"] == verdict["sha1"] == "SKIP" and verdict["vo-ping"] == "ok"


# --- against a partner's receiver ---------------------------------------------------------------------


@pytest.fixture
def demo_pki(tmp_path) -> Path:
    (tmp_path / "broker").mkdir()
    config = write_config(tmp_path / "broker", f"sqlite:///{tmp_path / 'vva.sqlite3'}")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    return tmp_path / "broker" / "pki"


def test_kit_plays_the_broker_against_the_reference_receiver(demo_pki, tmp_path):
    with _receiver(tmp_path / "ontvanger", demo_pki) as (endpoint, _):
        junit = tmp_path / "ontvanger.xml"
        resultaat = _kit(
            endpoint, demo_pki, TEST_BROKER_OIN, "--receiver", "--oin", REGIO, junit=junit, tls=False
        )
    assert resultaat.exit_code == 0, resultaat.output
    verdict = _junit(junit)
    assert {
        verdict[i] for i in ("ontvanger-ping", "ontvanger-ontvangenWijziging", "ontvanger-ontvangenSignaal")
    } == {"ok"}
    assert verdict["zonder-clientcertificaat"] == "SKIP"  # plain http: no TLS to refuse
    assert _failed(verdict) == set() and "vo-ping" not in verdict


def test_kit_catches_a_receiver_that_is_unavailable(demo_pki, tmp_path):
    with _receiver(tmp_path / "ontvanger", demo_pki, faults="DK0051,503") as (endpoint, _):
        junit = tmp_path / "ontvanger.xml"
        resultaat = _kit(
            endpoint, demo_pki, TEST_BROKER_OIN, "--receiver", "--oin", REGIO, junit=junit, tls=False
        )
    assert resultaat.exit_code == 1
    assert _failed(_junit(junit)) == {"ontvanger-ping", "ontvanger-ontvangenWijziging"}
    assert "expected geaccepteerd, got Server.DK0051" in resultaat.output
    assert "expected geaccepteerd, got HTTP 503" in resultaat.output


# --- per-record outcomes (issue 16) ---------------------------------------------------------------------


def test_every_new_result_code_has_a_sample_and_every_procesfeit_every_operation():
    cases = load_manifest().cases
    # VVA125 needs a registration reported earlier (its registration date), which a sample cannot
    # count on: tests/service/test_procesfeiten.py covers it.
    assert {"VVA112", "VVA123", "VVA124", "VVA126", "VVA127"} <= {g.resultaat for g in cases}
    facts = {(g.dienst, g.operatie) for g in cases if "procesfeiten/" in g.sjabloon}
    assert facts == {
        ("vo", "aanleverenLeerlingen"),
        ("vo", "aanleverenLeerlingenBestand"),
        ("mbo", "aanleverenAanmeldingen"),
        ("mbo", "aanleverenAanmeldingenBestand"),
        ("regio", "aanleverenLeerlingen"),
        ("regio", "aanleverenAanmeldingen"),
    }


def test_the_kit_checks_the_outcome_per_record():
    from broker.conformance.runner import _check_result

    response = etree.fromstring(
        b'<r xmlns="urn:nl:vva:aanmelden:v1"><aantalVerwerkt>0</aantalVerwerkt><aantalAfgewezen>1'
        b"</aantalAfgewezen><resultaat><volgnummer>1</volgnummer><verwerkt>false</verwerkt>"
        b"<code>VVA111</code></resultaat></r>"
    )
    assert _check_result("VVA111", response) == []
    assert _check_result("VVA125", response) == ["record outcomes ['VVA111'], expected VVA125 for each"]
    assert _check_result("verwerkt", response) != []
