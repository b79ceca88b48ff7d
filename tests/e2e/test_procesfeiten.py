"""Intake, onderwijsovereenkomst and the VO exam result (issue 16) through a real broker on 127.0.0.1,
in signed SOAP: delivered by the MBO institution and the VO school, answered per role, and pushed to the
VO school's receiver — and, for a party not registered for them, absent from answers and pushes, which
then stay valid against the schema as it was before (tests/e2e/data/vva-aanmelden-v1-voor-procesfeiten.xsd).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from broker.cli import main
from tests.e2e.test_contactgegevens import Answers, _wait_for_pushes
from tests.e2e.test_cyclus import AMSTERDAM, MBO_X, REGIO_21, SCHOOL_A, aanmelding, leerling
from tests.e2e.test_pushes import Chain, _receiver
from tests.e2e.zeepclient import client
from tests.helpers import broker_process, bsn, write_config

P = bsn("52000001")
VV = "{urn:nl:vva:aanmelden:v1}"
TODAY = dt.date.today()
SCHEMA_BEFORE = etree.XMLSchema(
    etree.parse(Path(__file__).parent / "data" / "vva-aanmelden-v1-voor-procesfeiten.xsd")
)


def _chain(database_url, tmp_path, option: str):
    """A broker whose VO school 99XA has a push receiver, registered with ``optie``."""
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    config = write_config(broker_dir, database_url, profile="2W-be-S", extra="outbox_base_s = 0.2\n")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = broker_dir / "pki"
    with _receiver(tmp_path / "ontvanger", pki, oin=SCHOOL_A) as (endpoint, receiver_db):
        command = ["party", "add", "--oin", SCHOOL_A, "--kind", "vo-school", "--name", "School (FICTIEF)"]
        command += ["--brin", "99XA", "--endpoint", endpoint, "--replace", "--contactgegevens", option]
        resultaat = CliRunner().invoke(main, ["--config", str(config), *command])
        assert resultaat.exit_code == 0, resultaat.output
        with broker_process(config) as url:
            yield Chain(config, url, pki, receiver_db)


@pytest.fixture
def chain(database_url, tmp_path):
    yield from _chain(database_url, tmp_path, "--procesfeiten")


@pytest.fixture
def chain_without(database_url, tmp_path):
    yield from _chain(database_url, tmp_path, "--geen-procesfeiten")


def _deliver_task(chain) -> dict:
    demo = type("Demo", (), {"url": chain.broker_url, "pki": chain.pki})
    clients = {
        "vo": client(demo, "vo", SCHOOL_A),
        "mbo": client(demo, "mbo", MBO_X),
        "gemeente": client(demo, "gemeente", AMSTERDAM),
        "regio": client(demo, "regio", REGIO_21),
    }
    examen = {"uitkomst": "geslaagd", "datum": TODAY}
    response = clients["vo"].service.aanleverenLeerlingen(
        leerling=[{**leerling(1, P, "0363"), "examenresultaat": examen}]
    )
    assert response.aantalVerwerkt == 1
    inschrijving = {
        **aanmelding(1, P, "99XB", "ingeschreven"),
        "intake": {"datum": TODAY, "uitkomst": "positiefAdvies"},
        "onderwijsovereenkomstDatum": TODAY,
    }
    too_early = {**aanmelding(2, bsn("52000003"), "99XB", "aangemeld")}
    too_early["onderwijsovereenkomstDatum"] = TODAY - dt.timedelta(days=1)
    response = clients["mbo"].service.aanleverenAanmeldingen(aanmelding=[inschrijving, too_early])
    assert [(r.volgnummer, r.verwerkt, r.code) for r in response.resultaat] == [
        (1, True, None),
        (2, False, "VVA124"),
    ]
    return clients


def test_procesfeiten_in_answers_per_role_and_in_the_push_to_the_vo_school(chain):
    clients = _deliver_task(chain)

    [at_vo] = clients["vo"].service.opvragenStatus(leerling=[{"bsn": P}])
    [aanmelding_vo] = at_vo.aanmelding
    assert (aanmelding_vo.intake.datum, aanmelding_vo.intake.uitkomst) == (TODAY, "positiefAdvies")
    assert aanmelding_vo.onderwijsovereenkomstDatum == TODAY
    assert (at_vo.examenresultaat.uitkomst, at_vo.examenresultaat.datum) == ("geslaagd", TODAY)
    # The MBO institution: its registration's facts, not the exam result.
    [at_mbo] = clients["mbo"].service.opvragenStatus(leerling=[{"bsn": P}])
    assert at_mbo.aanmelding[0].intake.uitkomst == "positiefAdvies" and at_mbo.examenresultaat is None
    # The gemeente sees both; the regional system (99XA is not a school it serves) the registration's.
    [at_gemeente] = [
        w.leerling
        for w in clients["gemeente"].service.opvragenWijzigingen(vanafCursor=0).wijziging
        if w.leerling.bsn == P
    ]
    assert at_gemeente.examenresultaat.uitkomst == "geslaagd"
    assert at_gemeente.aanmelding[0].onderwijsovereenkomstDatum == TODAY
    [at_regio] = clients["regio"].service.opvragenStatus(leerling=[{"bsn": P}])
    assert at_regio.aanmelding[0].intake.uitkomst == "positiefAdvies" and at_regio.examenresultaat is None

    # The push to the VO school carries the intake, the overeenkomst and the exam result.
    last = etree.fromstring(_wait_for_pushes(chain)[-1]).find(f".//{VV}ontvangenWijziging/{VV}leerling")
    assert last.findtext(f"{VV}aanmelding/{VV}intake/{VV}uitkomst") == "positiefAdvies"
    assert last.findtext(f"{VV}aanmelding/{VV}intake/{VV}datum") == TODAY.isoformat()
    assert last.findtext(f"{VV}aanmelding/{VV}onderwijsovereenkomstDatum") == TODAY.isoformat()
    assert last.findtext(f"{VV}examenresultaat/{VV}uitkomst") == "geslaagd"


def test_without_opt_in_no_procesfeiten_and_valid_by_the_old_schema(chain_without):
    clients = _deliver_task(chain_without)
    answers = Answers()
    clients["vo"].plugins.append(answers)

    [at_vo] = clients["vo"].service.opvragenStatus(leerling=[{"bsn": P}])
    assert at_vo.examenresultaat is None and at_vo.aanmelding[0].intake is None
    assert at_vo.aanmelding[0].status == "ingeschreven"  # the rest as before
    clients["vo"].service.opvragenWijzigingen(vanafCursor=0)
    clients["vo"].service.opvragenNietAangemeld()
    for body in answers.bodies:
        assert SCHEMA_BEFORE.validate(body), (etree.QName(body).localname, SCHEMA_BEFORE.error_log)
    for push in _wait_for_pushes(chain_without):
        wijziging = etree.fromstring(push).find(f".//{VV}ontvangenWijziging")
        assert wijziging.find(f".//{VV}intake") is None and wijziging.find(f".//{VV}examenresultaat") is None
        assert SCHEMA_BEFORE.validate(wijziging), SCHEMA_BEFORE.error_log
    # the opted-in gemeente still gets them (so the check above can fail)
    [at_gemeente] = [
        w.leerling
        for w in clients["gemeente"].service.opvragenWijzigingen(vanafCursor=0).wijziging
        if w.leerling.bsn == P
    ]
    assert at_gemeente.examenresultaat.uitkomst == "geslaagd"
