"""Every conformance sample of yesterday still works today (issue 16, "messages valid before stay valid").

``tests/conformance/gisteren/`` is the kit as committed in main at f9cb0f7, the commit before the process
facts of issue 16 changed the contract: its manifest and every template, byte for byte (the first test
checks that against git when the history is there). Each of its requests must still validate against
today's XSD, and the kit run with that manifest against today's broker must give every case the answer it
expected then: accepted stays accepted, each fault stays that fault.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from broker.config import TEST_BROKER_OIN
from broker.conformance.manifest import GEACCEPTEERD, load_manifest
from broker.conformance.messages import Sender, render, self_signed
from broker.edukoppeling.ns import SOAP11, q
from tests.conformance.test_kit import SCHOOL_A, SPEAKERS, _broker_config, _junit, _kit
from tests.helpers import broker_process

YESTERDAY = Path(__file__).parent / "gisteren"
COMMIT = "f9cb0f7"
_REPO = Path(__file__).parents[2]
_XSD = etree.XMLSchema(etree.parse(_REPO / "xsd" / "vva-aanmelden-v1.xsd"))
_XSD_YESTERDAY = etree.XMLSchema(
    etree.parse(_REPO / "tests" / "e2e" / "data" / "vva-aanmelden-v1-voor-procesfeiten.xsd")
)


def _git_show(path: str) -> bytes | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(_REPO), "show", f"{COMMIT}:{path}"], capture_output=True, timeout=30, check=False
        )
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def test_the_copy_is_yesterdays_kit():
    files = sorted(p for p in YESTERDAY.rglob("*") if p.is_file())
    assert len(files) == 25  # the manifest, 13 operation samples, 11 structural faults
    if _git_show("conformance/manifest.toml") is None:
        pytest.skip(f"no git history with {COMMIT} here; the copy is checked where it is")
    for path in files:
        assert _git_show(f"conformance/{path.relative_to(YESTERDAY)}") == path.read_bytes(), path
    # and the XSD copy the answers are checked against is yesterday's contract
    assert (
        _git_show("xsd/vva-aanmelden-v1.xsd")
        == (_REPO / "tests" / "e2e" / "data" / "vva-aanmelden-v1-voor-procesfeiten.xsd").read_bytes()
    )


def test_every_valid_request_of_yesterday_is_valid_by_todays_schema():
    sleutel, certificaat = self_signed(SCHOOL_A)
    sender = Sender(sleutel, certificaat, SCHOOL_A, "99XA")
    manifest = load_manifest(YESTERDAY / "manifest.toml")
    valid = [g for g in manifest.cases if g.verwacht == GEACCEPTEERD and g.dienst != "*"]
    assert len(valid) == 27
    for case in valid:
        message = render(
            case, manifest.sjabloon(case), dienst=case.dienst, address="https://vva.example/vva",
            ontvanger_oin=TEST_BROKER_OIN, sender=sender,
        )  # fmt: skip
        [soap_request] = etree.fromstring(message.data).find(q(SOAP11, "Body"))
        assert _XSD_YESTERDAY.validate(soap_request), (case.id, _XSD_YESTERDAY.error_log)
        assert _XSD.validate(soap_request), (case.id, _XSD.error_log)


def test_yesterdays_kit_passes_against_todays_broker(database_url, tmp_path):
    # The same run as test_kit_slaagt_tegen_een_goede_broker_over_tweezijdig_tls, with yesterday's manifest.
    kit = tmp_path / "gisteren"
    shutil.copytree(YESTERDAY, kit)
    manifest = kit / "manifest.toml"
    cases = load_manifest(manifest).cases
    config = _broker_config(tmp_path, database_url)
    pki = tmp_path / "pki"
    with broker_process(config, scheme="https") as url:
        junit = tmp_path / "vo.xml"
        result = _kit(f"{url}/vva/vo/v1", pki, SCHOOL_A, "--manifest", str(manifest), junit=junit)
        assert result.exit_code == 0, result.output
        assert _junit(junit) == {g.id: "ok" for g in cases if g.dienst in ("*", "vo")}
        for dienst, (oin, brin) in SPEAKERS.items():
            junit = tmp_path / f"{dienst}.xml"
            extra = [
                "--manifest",
                str(manifest),
                "--only",
                f"{dienst}-*",
                *(["--brin", brin] if brin else []),
            ]
            result = _kit(f"{url}/vva/{dienst}/v1", pki, oin, *extra, junit=junit)
            assert result.exit_code == 0, result.output
            assert _junit(junit) == {g.id: "ok" for g in cases if g.dienst == dienst}
