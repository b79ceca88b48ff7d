"""Contact details where the brief puts them (issue 15, item 5), checked from the signed SOAP answers of
each role and from a push, through a real broker on 127.0.0.1:

* an MBO institution gets the latende VO school's contact details (not its BRIN), and of the other
  institution only "eldersAangemeld" — never its name, BRIN or contact details;
* a VO school gets each ontvangende MBO institution's contact details, with the registry's overrides
  winning field by field over DUO's and the contact e-mail only the registry has;
* a gemeente's overview carries both; a regional system (flow d) none;
* a push shows the pupil exactly as the answer does;
* all of this only for a party registered for contact details (``--contactgegevens``): any other gets
  answers and pushes without the element, valid against the schema as it was before contact details
  (tests/e2e/data/vva-aanmelden-v1-voor-contact.xsd), so its software keeps working.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from zeep import Plugin

from broker.cli import main
from broker.edukoppeling.ns import SOAP11, q
from tests.e2e.test_cyclus import AMSTERDAM, MBO_X, MBO_Y, REGIO_21, SCHOOL_A, aanmelding, leerling
from tests.e2e.test_pushes import Chain, _delivery_worker, _receiver
from tests.e2e.zeepclient import client
from tests.helpers import broker_process, bsn, write_config

P = bsn("51000001")
VV = "{urn:nl:vva:aanmelden:v1}"
#: The contract as a partner validating strictly still has it: before contact details were added.
SCHEMA_BEFORE_CONTACT = etree.XMLSchema(
    etree.parse(Path(__file__).parent / "data" / "vva-aanmelden-v1-voor-contact.xsd")
)

# DUO's demo files (broker/refdata/demo): 99XA and 99XB have a phone and internet address, 99XE none.
SCHOOL_A_CONTACT = {
    "rol": "latendeVoSchool",
    "naam": "Scholengemeenschap Één (FICTIEF)",
    "telefoon": "0200000010",
    "internetadres": "www.een-fictief.example",
    "email": None,
}
# 99XB's registry entry overrides DUO's phone and adds an e-mail; DUO's internet address stays.
MBO_X_CONTACT = {
    "rol": "ontvangendeMboInstelling",
    "brin": "99XB",
    "naam": "ROC Amstelstroom (FICTIEF)",
    "telefoon": "020-7654321",
    "internetadres": "www.amstelstroom.example",
    "email": "vva@amstelstroom.example",
}
MBO_Y_CONTACT = {
    "rol": "ontvangendeMboInstelling",
    "brin": "99XE",
    "naam": "Maascollege voor Vakmanschap (FICTIEF)",
    "telefoon": None,
    "internetadres": None,
    "email": None,
}


def _as_dict(contact) -> dict:
    return {field: contact[field] for field in ("rol", "brin", "naam", "telefoon", "internetadres", "email")}


def _contacts(overzicht) -> list[dict]:
    return [_as_dict(c) for c in overzicht.contactgegevens]


class Answers(Plugin):
    """Keeps each answer's body element, as a client validating against its own XSD copy sees it."""

    def __init__(self) -> None:
        self.bodies: list[etree._Element] = []

    def ingress(self, envelope, http_headers, operation):
        self.bodies.append(envelope.find(q(SOAP11, "Body"))[0])
        return envelope, http_headers


def _wait_for_pushes(chain) -> list[bytes]:
    _delivery_worker(chain).run(until_empty=True)
    for _ in range(50):
        pushes = chain.pushes()
        if pushes:
            return pushes
        time.sleep(0.1)
    raise AssertionError("no push arrived")


def _chain(database_url, tmp_path, contactgegevens: str):
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    config = write_config(broker_dir, database_url, profile="2W-be-S", extra="outbox_base_s = 0.2\n")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    pki = broker_dir / "pki"
    with _receiver(tmp_path / "ontvanger", pki, oin=MBO_X) as (endpoint, receiver_db):
        # MBO X as an operator registers it: push endpoint, its own phone and e-mail for this exchange.
        command = ["party", "add", "--oin", MBO_X, "--kind", "mbo-instelling", "--name", "ROC (FICTIEF)"]
        command += ["--brin", "99XB", "--endpoint", endpoint, "--replace"]
        command += ["--contact-telefoon", "020-7654321", "--contact-email", "vva@amstelstroom.example"]
        command += [contactgegevens]
        result = CliRunner().invoke(main, ["--config", str(config), *command])
        assert result.exit_code == 0, result.output
        with broker_process(config) as url:
            yield Chain(config, url, pki, receiver_db)


@pytest.fixture
def chain(database_url, tmp_path):
    """MBO X registered for contact details (the demo parties are too)."""
    yield from _chain(database_url, tmp_path, "--contactgegevens")


@pytest.fixture
def chain_without(database_url, tmp_path):
    """MBO X registered without contact details: its software validates against yesterday's schema."""
    yield from _chain(database_url, tmp_path, "--geen-contactgegevens")


def test_contactgegevens_per_role_in_answers_and_pushes(chain):
    demo = type("Demo", (), {"url": chain.broker_url, "pki": chain.pki})
    vo_a, mbo_x, mbo_y = client(demo, "vo", SCHOOL_A), client(demo, "mbo", MBO_X), client(demo, "mbo", MBO_Y)
    gemeente, regio = client(demo, "gemeente", AMSTERDAM), client(demo, "regio", REGIO_21)

    assert vo_a.service.aanleverenLeerlingen(leerling=[leerling(1, P, "0363")]).aantalVerwerkt == 1
    assert mbo_x.service.aanleverenAanmeldingen(aanmelding=[aanmelding(1, P, "99XB")]).aantalVerwerkt == 1
    assert mbo_y.service.aanleverenAanmeldingen(aanmelding=[aanmelding(1, P, "99XE")]).aantalVerwerkt == 1

    # MBO institution: the school's details without its BRIN; the other institution only as yes/no.
    [at_x] = mbo_x.service.opvragenStatus(leerling=[{"bsn": P}])
    assert _contacts(at_x) == [{**SCHOOL_A_CONTACT, "brin": None}]
    assert at_x.eldersAangemeld is True and at_x.brinVo is None
    assert [a.brinMbo for a in at_x.aanmelding] == ["99XB"]
    [at_y] = mbo_y.service.opvragenStatus(leerling=[{"bsn": P}])
    assert _contacts(at_y) == [{**SCHOOL_A_CONTACT, "brin": None}]
    assert "Amstelstroom" not in str(at_y) and "99XB" not in str(at_y)

    # VO school: each ontvangende institution, the registry's values over DUO's field by field.
    [at_a] = vo_a.service.opvragenStatus(leerling=[{"bsn": P}])
    assert _contacts(at_a) == [MBO_X_CONTACT, MBO_Y_CONTACT]

    # Gemeente: both sides.
    [in_overzicht] = [r for r in gemeente.service.opvragenOverzicht() if r.bsn == P]
    assert _contacts(in_overzicht) == [{**SCHOOL_A_CONTACT, "brin": "99XA"}, MBO_X_CONTACT, MBO_Y_CONTACT]

    # Regional system: flow d carries BRIN VO, BRIN MBO, BSN and status only.
    [at_regio] = regio.service.opvragenStatus(leerling=[{"bsn": P}])
    assert _contacts(at_regio) == [] and at_regio.brinVo == "99XA"

    # A push to MBO X shows the pupil as its answer does: the school's details, nothing of 99XE.
    pushes = _wait_for_pushes(chain)
    for push in pushes:
        leerling_el = etree.fromstring(push).find(f".//{VV}ontvangenWijziging/{VV}leerling")
        [contact] = leerling_el.findall(f"{VV}contactgegevens")
        assert {etree.QName(e).localname: e.text for e in contact} == {
            k: v for k, v in SCHOOL_A_CONTACT.items() if v is not None
        }
        assert b"99XE" not in push and b"Maascollege" not in push and b"99XA" not in push


def test_partij_without_contactgegevens_gets_answers_and_pushes_by_the_old_schema(chain_without):
    # MBO X's software validates against the schema as it was before contact details (a cached WSDL,
    # zeep strict): answers and pushes to it carry no contactgegevens and stay valid for it, while the
    # VO school (a demo party, registered for them) still gets them.
    demo = type("Demo", (), {"url": chain_without.broker_url, "pki": chain_without.pki})
    vo_a, mbo_x = client(demo, "vo", SCHOOL_A), client(demo, "mbo", MBO_X)
    answers = Answers()
    mbo_x.plugins.append(answers)

    assert vo_a.service.aanleverenLeerlingen(leerling=[leerling(1, P, "0363")]).aantalVerwerkt == 1
    assert mbo_x.service.aanleverenAanmeldingen(aanmelding=[aanmelding(1, P, "99XB")]).aantalVerwerkt == 1

    [at_x] = mbo_x.service.opvragenStatus(leerling=[{"bsn": P}])
    assert _contacts(at_x) == []
    assert [a.brinMbo for a in at_x.aanmelding] == ["99XB"]  # the rest of its view as before
    changes = mbo_x.service.opvragenWijzigingen(vanafCursor=0)
    assert [w.leerling.bsn for w in changes.wijziging] == [P]
    assert len(answers.bodies) == 3
    for body in answers.bodies:
        assert body.find(f".//{VV}contactgegevens") is None
        assert SCHEMA_BEFORE_CONTACT.validate(body), (
            etree.QName(body).localname,
            SCHEMA_BEFORE_CONTACT.error_log,
        )

    # The opted-in VO school does get them, which the old schema would refuse: the check above can fail.
    snapshot = Answers()
    vo_a.plugins.append(snapshot)
    [at_a] = vo_a.service.opvragenStatus(leerling=[{"bsn": P}])
    assert _contacts(at_a) == [MBO_X_CONTACT]
    assert not SCHEMA_BEFORE_CONTACT.validate(snapshot.bodies[-1])

    for push in _wait_for_pushes(chain_without):
        wijziging = etree.fromstring(push).find(f".//{VV}ontvangenWijziging")
        assert wijziging.find(f".//{VV}contactgegevens") is None
        assert wijziging.find(f"{VV}leerling/{VV}aanmelding/{VV}brinMbo").text == "99XB"
        assert SCHEMA_BEFORE_CONTACT.validate(wijziging), SCHEMA_BEFORE_CONTACT.error_log
