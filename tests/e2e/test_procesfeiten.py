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
from tests.e2e.test_contactgegevens import Antwoorden, _wacht_op_pushes
from tests.e2e.test_cyclus import AMSTERDAM, MBO_X, REGIO_21, SCHOOL_A, aanmelding, leerling
from tests.e2e.test_pushes import Keten, _ontvanger
from tests.e2e.zeepclient import client
from tests.helpers import broker_proces, bsn, schrijf_config

P = bsn("52000001")
VV = "{urn:nl:vva:aanmelden:v1}"
VANDAAG = dt.date.today()
SCHEMA_VOOR = etree.XMLSchema(
    etree.parse(Path(__file__).parent / "data" / "vva-aanmelden-v1-voor-procesfeiten.xsd")
)


def _keten(database_url, tmp_path, optie: str):
    """A broker whose VO school 99XA has a push receiver, registered with ``optie``."""
    broker_map = tmp_path / "broker"
    broker_map.mkdir()
    config = schrijf_config(broker_map, database_url, profile="2W-be-S", extra="outbox_base_s = 0.2\n")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = broker_map / "pki"
    with _ontvanger(tmp_path / "ontvanger", pki, oin=SCHOOL_A) as (endpoint, ontvanger_db):
        opdracht = ["party", "add", "--oin", SCHOOL_A, "--kind", "vo-school", "--name", "School (FICTIEF)"]
        opdracht += ["--brin", "99XA", "--endpoint", endpoint, "--replace", "--contactgegevens", optie]
        resultaat = CliRunner().invoke(main, ["--config", str(config), *opdracht])
        assert resultaat.exit_code == 0, resultaat.output
        with broker_proces(config) as url:
            yield Keten(config, url, pki, ontvanger_db)


@pytest.fixture
def chain(database_url, tmp_path):
    yield from _keten(database_url, tmp_path, "--procesfeiten")


@pytest.fixture
def keten_zonder(database_url, tmp_path):
    yield from _keten(database_url, tmp_path, "--geen-procesfeiten")


def _deliver_task(chain) -> dict:
    demo = type("Demo", (), {"url": chain.broker_url, "pki": chain.pki})
    clients = {
        "vo": client(demo, "vo", SCHOOL_A),
        "mbo": client(demo, "mbo", MBO_X),
        "gemeente": client(demo, "gemeente", AMSTERDAM),
        "regio": client(demo, "regio", REGIO_21),
    }
    examen = {"uitkomst": "geslaagd", "datum": VANDAAG}
    response = clients["vo"].service.aanleverenLeerlingen(
        leerling=[{**leerling(1, P, "0363"), "examenresultaat": examen}]
    )
    assert response.aantalVerwerkt == 1
    inschrijving = {
        **aanmelding(1, P, "99XB", "ingeschreven"),
        "intake": {"datum": VANDAAG, "uitkomst": "positiefAdvies"},
        "onderwijsovereenkomstDatum": VANDAAG,
    }
    te_vroeg = {**aanmelding(2, bsn("52000003"), "99XB", "aangemeld")}
    te_vroeg["onderwijsovereenkomstDatum"] = VANDAAG - dt.timedelta(days=1)
    response = clients["mbo"].service.aanleverenAanmeldingen(aanmelding=[inschrijving, te_vroeg])
    assert [(r.volgnummer, r.verwerkt, r.code) for r in response.resultaat] == [
        (1, True, None),
        (2, False, "VVA124"),
    ]
    return clients


def test_procesfeiten_in_antwoorden_per_rol_en_in_de_push_naar_de_vo_school(chain):
    clients = _deliver_task(chain)

    [bij_vo] = clients["vo"].service.opvragenStatus(leerling=[{"bsn": P}])
    [aanmelding_vo] = bij_vo.aanmelding
    assert (aanmelding_vo.intake.datum, aanmelding_vo.intake.uitkomst) == (VANDAAG, "positiefAdvies")
    assert aanmelding_vo.onderwijsovereenkomstDatum == VANDAAG
    assert (bij_vo.examenresultaat.uitkomst, bij_vo.examenresultaat.datum) == ("geslaagd", VANDAAG)
    # The MBO institution: its registration's facts, not the exam result.
    [bij_mbo] = clients["mbo"].service.opvragenStatus(leerling=[{"bsn": P}])
    assert bij_mbo.aanmelding[0].intake.uitkomst == "positiefAdvies" and bij_mbo.examenresultaat is None
    # The gemeente sees both; the regional system (99XA is not a school it serves) the registration's.
    [bij_gemeente] = [
        w.leerling
        for w in clients["gemeente"].service.opvragenWijzigingen(vanafCursor=0).wijziging
        if w.leerling.bsn == P
    ]
    assert bij_gemeente.examenresultaat.uitkomst == "geslaagd"
    assert bij_gemeente.aanmelding[0].onderwijsovereenkomstDatum == VANDAAG
    [bij_regio] = clients["regio"].service.opvragenStatus(leerling=[{"bsn": P}])
    assert bij_regio.aanmelding[0].intake.uitkomst == "positiefAdvies" and bij_regio.examenresultaat is None

    # The push to the VO school carries the intake, the overeenkomst and the exam result.
    laatste = etree.fromstring(_wacht_op_pushes(chain)[-1]).find(f".//{VV}ontvangenWijziging/{VV}leerling")
    assert laatste.findtext(f"{VV}aanmelding/{VV}intake/{VV}uitkomst") == "positiefAdvies"
    assert laatste.findtext(f"{VV}aanmelding/{VV}intake/{VV}datum") == VANDAAG.isoformat()
    assert laatste.findtext(f"{VV}aanmelding/{VV}onderwijsovereenkomstDatum") == VANDAAG.isoformat()
    assert laatste.findtext(f"{VV}examenresultaat/{VV}uitkomst") == "geslaagd"


def test_zonder_opt_in_geen_procesfeiten_en_geldig_volgens_het_oude_schema(keten_zonder):
    clients = _deliver_task(keten_zonder)
    antwoorden = Antwoorden()
    clients["vo"].plugins.append(antwoorden)

    [bij_vo] = clients["vo"].service.opvragenStatus(leerling=[{"bsn": P}])
    assert bij_vo.examenresultaat is None and bij_vo.aanmelding[0].intake is None
    assert bij_vo.aanmelding[0].status == "ingeschreven"  # the rest as before
    clients["vo"].service.opvragenWijzigingen(vanafCursor=0)
    clients["vo"].service.opvragenNietAangemeld()
    for body in antwoorden.bodies:
        assert SCHEMA_VOOR.validate(body), (etree.QName(body).localname, SCHEMA_VOOR.error_log)
    for push in _wacht_op_pushes(keten_zonder):
        wijziging = etree.fromstring(push).find(f".//{VV}ontvangenWijziging")
        assert wijziging.find(f".//{VV}intake") is None and wijziging.find(f".//{VV}examenresultaat") is None
        assert SCHEMA_VOOR.validate(wijziging), SCHEMA_VOOR.error_log
    # the opted-in gemeente still gets them (so the check above can fail)
    [bij_gemeente] = [
        w.leerling
        for w in clients["gemeente"].service.opvragenWijzigingen(vanafCursor=0).wijziging
        if w.leerling.bsn == P
    ]
    assert bij_gemeente.examenresultaat.uitkomst == "geslaagd"
