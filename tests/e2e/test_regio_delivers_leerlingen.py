"""Flow d both ways through signed SOAP on a real broker process (issue 15, item 4): a regional
system passes on the pupils of a VO school it serves (aanleverenLeerlingen on the regio service); a
record of a school it does not serve gets DK0002, the rest of the batch applies; it then sees those
pupils' registrations (opvragenStatus, opvragenWijzigingen).
"""

from __future__ import annotations

from datetime import date

from tests.e2e.test_rmc_functie import REGIO, _leerling, _vva
from tests.e2e.zeepclient import client
from tests.helpers import bsns

MBO_E = "0000000700099XE00000"  # MBO, Rotterdam, region 29


def test_regionaal_systeem_delivers_leerlingen_of_a_served_school_and_gets_dk0002_for_another(
    demo_broker,
):
    # The regional system of region 21 also serves VO school 99XD (Groningen, region 3: outside its
    # region, so it can see those pupils only because it serves the school).
    _vva(
        demo_broker, "party", "add", "--oin", REGIO, "--kind", "regionaal-systeem",
        "--name", "Regionaal systeem Amsterdam", "--rmc", "21", "--brin", "99XB", "--brin", "99XD", "--replace",
    )  # fmt: skip
    numbers = bsns(3, 42000000)
    regio = client(demo_broker, "regio", REGIO)
    delivery = [
        _leerling(1, numbers[0], "99XD", "0014"),
        _leerling(2, numbers[1], "99XC", "0599"),  # 99XC (Rotterdam) is not served
        _leerling(3, numbers[2], "99XD", "0014"),
    ]

    response = regio.service.aanleverenLeerlingen(vervangStartpopulatie=True, leerling=delivery)

    assert (response.aantalVerwerkt, response.aantalAfgewezen) == (2, 1)
    outcome = {r.volgnummer: (r.verwerkt, r.code) for r in response.resultaat}
    assert outcome == {1: (True, None), 2: (False, "DK0002"), 3: (True, None)}
    rejected = next(r for r in response.resultaat if r.volgnummer == 2)
    assert rejected.tekstNl.startswith("Niet geautoriseerd")

    # MBO institution 99XE (not served by the regional system) registers the first pupil.
    mbo = client(demo_broker, "mbo", MBO_E)
    aanmelding = {
        "volgnummer": 1,
        "bsn": numbers[0],
        "brinMbo": "99XE",
        "status": "aangemeld",
        "datum": date.today().isoformat(),
    }
    assert mbo.service.aanleverenAanmeldingen(aanmelding=[aanmelding]).aantalVerwerkt == 1

    status = {p.bsn: p for p in regio.service.opvragenStatus(leerling=[])}
    assert set(status) == {numbers[0], numbers[2]}  # not the pupil of the school it does not serve
    seen = status[numbers[0]]
    assert (seen.brinVo, seen.woongemeente, seen.mboGangerStatus) == ("99XD", None, "actief")
    assert [(a.brinMbo, a.status) for a in seen.aanmelding] == [("99XE", "aangemeld")]
    changes = regio.service.opvragenWijzigingen(vanafCursor=0)
    assert {w.leerling.bsn for w in changes.wijziging} == {numbers[0], numbers[2]}
    # The school that is not served was not touched: its pupil is unknown to the broker.
    school_c = client(demo_broker, "vo", "0000000700099XC00000")
    assert list(school_c.service.opvragenStatus(leerling=[])) == []
