"""The RMC function through signed SOAP on a real broker process (issue 15, item 3): a gemeente
registered with an RMC region (`vva party add … --rmc 21`) is that region's RMC function, so its
opvragenOverzicht covers the residents of every gemeente of region 21 (Diemen, Landsmeer), not those of
Haarlem (region 25); a gemeente without a region still sees only its own residents.
"""

from __future__ import annotations

import pytest
import zeep.exceptions
from click.testing import CliRunner
from sqlalchemy import select

from broker.cli import main
from broker.db import models
from broker.db.engine import make_engine
from tests.e2e.zeepclient import client
from tests.helpers import bsns

SCHOOL_A = "0000000700099XA00000"  # VO, Amsterdam, region 21
AMSTERDAM = "00000099000000000363"
ROTTERDAM = "00000099000000000599"
REGIO = "00000099000000000042"  # regional system of region 21, serving MBO 99XB

#: The gemeenten the tests need besides the demo reference data, with their RMC region (DUO 2024/25).
#: Landsmeer has no VO school, so the VO file alone does not know it (issue 15 item 1, another helper).
EXTRA_GEMEENTEN = {"0415": ("LANDSMEER", "21"), "0392": ("HAARLEM", "25")}


def _know_gemeenten(database_url: str) -> None:
    """Add the gemeenten of ``EXTRA_GEMEENTEN`` missing from the demo reference data (Haarlem), as a
    load of DUO's BO file would."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            G = models.Gemeente
            year, cyclus = connection.execute(select(G.cyclus_jaar, G.geldig_vanaf_cyclus).limit(1)).one()
            known = set(connection.scalars(select(G.code).where(G.cyclus_jaar == year)))
            for code, (naam, regio) in EXTRA_GEMEENTEN.items():
                if code not in known:
                    connection.execute(
                        models.Gemeente.__table__.insert().values(
                            cyclus_jaar=year,
                            code=code,
                            naam=naam,
                            rmc_regio=regio,
                            geldig_vanaf_cyclus=cyclus,
                        )
                    )
    finally:
        engine.dispose()


def _vva(demo, *args: str) -> None:
    result = CliRunner().invoke(main, ["--config", str(demo.pki.parent / "vva.toml"), *args])
    assert result.exit_code == 0, result.output


def _leerling(volgnummer: int, number: str, brin: str, gemeente: str) -> dict:
    return {
        "volgnummer": volgnummer,
        "bsn": number,
        "brinVo": brin,
        "postcode": "1011AB",
        "woongemeente": gemeente,
        "mutatie": "toevoegen",
    }


def _overzicht(demo, oin: str, *gemeenten: str) -> dict[str, str]:
    """BSN → woongemeente of the gemeente's opvragenOverzicht."""
    response = client(demo, "gemeente", oin).service.opvragenOverzicht(woongemeente=list(gemeenten))
    return {leerling.bsn: leerling.woongemeente for leerling in response}


def test_rmc_function_of_regio_21_sees_diemen_and_landsmeer_not_haarlem(demo_broker):
    _know_gemeenten(demo_broker.database_url)
    woongemeenten = ["0363", "0384", "0415", "0392", "0599"]
    numbers = dict(zip(woongemeenten, bsns(len(woongemeenten), 41000000), strict=True))
    school = client(demo_broker, "vo", SCHOOL_A)
    delivery = [_leerling(i, numbers[g], "99XA", g) for i, g in enumerate(woongemeenten, start=1)]
    response = school.service.aanleverenLeerlingen(leerling=delivery)
    assert (response.aantalVerwerkt, response.aantalAfgewezen) == (5, 0), response

    # Plain gemeenten: only their own residents.
    assert _overzicht(demo_broker, AMSTERDAM) == {numbers["0363"]: "0363"}
    assert _overzicht(demo_broker, ROTTERDAM) == {numbers["0599"]: "0599"}

    _vva(
        demo_broker, "party", "add", "--oin", AMSTERDAM, "--kind", "gemeente", "--name", "Gemeente Amsterdam",
        "--gemeente", "0363", "--rmc", "21", "--replace",
    )  # fmt: skip

    # The RMC function of region 21: every resident of the region, each with its woongemeente.
    assert _overzicht(demo_broker, AMSTERDAM) == {
        numbers["0363"]: "0363",
        numbers["0384"]: "0384",
        numbers["0415"]: "0415",
    }
    assert _overzicht(demo_broker, AMSTERDAM, "0415") == {numbers["0415"]: "0415"}
    with pytest.raises(zeep.exceptions.Fault) as error:
        _overzicht(demo_broker, AMSTERDAM, "0392")  # Haarlem is region 25
    assert error.value.code.endswith("DK0002")
    # Rotterdam, without a region, still sees only its own resident.
    assert _overzicht(demo_broker, ROTTERDAM) == {numbers["0599"]: "0599"}
