"""The complete yearly DUO set on the real files, through the public interfaces (issue 15).

The cycle is opened with ``vva cycle open --refdata`` and the four real DUO files of
``../shared/data/duo-open-data`` (skipped, with the reason, when absent); the parties are added with
``vva party add``; every request goes signed (2W-be-S) over HTTP on 127.0.0.1 to a real broker process.

* A pupil living in each gemeente that has no VO school (derived here: in DUO's primary-school file,
  not in its VO file) is accepted, and the gemeente sees the pupil in its ``opvragenOverzicht``.
* A VSO school known only from DUO's (V)SO file delivers, and its pupils count in its region's report.
* Primary schools (primary-school file) and SO/SBO schools ((V)SO file) give gemeenten and regions only:
  they are no institutions, so ``vva party add`` refuses them as a school party.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.bootstrap import Runtime
from broker.cli import main
from broker.domain.cycle import Calendar
from broker.pki.demo import make_demo_pki
from broker.rapportage.cijfers import LEERLINGEN, Level
from broker.rapportage.rapport import make_rapport
from tests.e2e.conftest import DemoBroker
from tests.e2e.zeepclient import client
from tests.helpers import broker_process, bsns, write_config
from tests.refdata.conftest import duo_data_dir

VO = "alle-vestigingen-vo.csv"
BO = "sessyll+Dutch_Primary_Education_Lakehouse_Pipeline/02.-alle-schoolvestigingen-basisonderwijs.csv"
SO = "blackassasinrl-ctrl+hahebo-leadtool/09.-alle-vestigingen-sbo-so-en-vso.csv"
MBO = "Yuchiaaa+Interactive_Map_Website/01.-adressen-mbo-instellingen.csv"

#: A regular VO school of the VO file (School voor Praktijkonderwijs Assen) that delivers the pupils.
VO_BRIN = "18BR"
#: The gemeenten's software supplier (a test OIN).
SUPPLIER = "00000099000000000088"


def _rows(path: Path) -> list[dict[str, str]]:
    # DUO publishes windows-1252; the copies here are that (BO) or UTF-8 (the others).
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("windows-1252")
    return list(csv.DictReader(text.splitlines(), delimiter=";"))


def _gemeenten(path: Path) -> set[str]:
    return {r["GEMEENTENUMMER"].strip() for r in _rows(path)}


def oin_of_brin(brin: str) -> str:
    return f"00000007000{brin}00000"


def oin_of_gemeente(code: str) -> str:
    return f"0000009900000000{code}"


@dataclass(frozen=True)
class NationalSetup:
    """The broker with the real yearly set loaded for the current cycle ``jaar``."""

    broker: DemoBroker
    config: Path
    jaar: int
    without_vo: list[str]  # gemeenten with no VO school, derived from the files
    vso_brin: str  # a VSO school in the (V)SO file only
    vso_vestiging: str
    vso_regio: str
    bo_brin: str  # a primary school: in the primary-school file only
    so_brin: str  # an SO/SBO school of the (V)SO file without VSO


def _cli(config: Path, *args: str) -> None:
    outcome = CliRunner().invoke(main, ["--config", str(config), *args])
    assert outcome.exit_code == 0, outcome.output


@pytest.fixture
def national(database_url, tmp_path):
    folder = duo_data_dir()
    if folder is None:
        pytest.skip(
            "real DUO open data not found: set VVA_SHARED or put shared/data/duo-open-data beside the clone"
        )
    paths = {naam: folder / naam for naam in (VO, BO, SO, MBO)}
    for path in paths.values():
        if not path.is_file():
            pytest.skip(f"{path} not present")

    without_vo = sorted(_gemeenten(paths[BO]) - _gemeenten(paths[VO]))
    vo_brins = {r["INSTELLINGSCODE"] for r in _rows(paths[VO])}
    vso = next(
        r
        for r in _rows(paths[SO])
        if r["SOORT PRIMAIR ONDERWIJS"] == "VSO" and r["INSTELLINGSCODE"] not in vo_brins
    )

    brins = {naam: {r["INSTELLINGSCODE"] for r in _rows(path)} for naam, path in paths.items()}
    bo_brin = min(brins[BO] - brins[VO] - brins[SO] - brins[MBO])
    so_soorten: dict[str, set[str]] = {}
    for r in _rows(paths[SO]):
        so_soorten.setdefault(r["INSTELLINGSCODE"], set()).add(r["SOORT PRIMAIR ONDERWIJS"])
    so_brin = min(b for b, kinds in so_soorten.items() if kinds <= {"SO", "SBAO"} and b not in brins[VO])

    config = write_config(tmp_path, database_url, profile="2W-be-S")
    jaar = Calendar().cyclus_on(date.today()).jaar
    _cli(config, "init", "--no-demo")
    _cli(
        config,
        "cycle",
        "open",
        "--year",
        str(jaar),
        *(a for p in paths.values() for a in ("--refdata", str(p))),
    )
    # One registry file, as an operator loads it: the two schools, a gemeente party per gemeente without
    # a VO school, each speaking through one gemeente software supplier under its mandate (one key).
    schools = [
        (VO_BRIN, "School voor Praktijkonderwijs Assen"),
        (vso["INSTELLINGSCODE"], vso["VESTIGINGSNAAM"]),
    ]
    toml = [
        f'[[partij]]\noin = "{oin_of_brin(b)}"\nsoort = "vo-school"\nnaam = "{n}"\nbrins = ["{b}"]\n'
        for b, n in schools
    ]
    toml.append(f'[[partij]]\noin = "{SUPPLIER}"\nsoort = "leverancier"\nnaam = "Gemeentesoftware"\n')
    toml += [
        f'[[partij]]\noin = "{oin_of_gemeente(g)}"\nsoort = "gemeente"\nnaam = "Gemeente {g}"\n'
        f'gemeentecodes = ["{g}"]\n[[partij.mandaat]]\ncertificaat_oin = "{SUPPLIER}"\n'
        for g in without_vo
    ]
    register = tmp_path / "partijen.toml"
    register.write_text("\n".join(toml), encoding="utf-8")
    _cli(config, "party", "load", str(register))
    make_demo_pki(
        tmp_path / "pki", [(oin_of_brin(b), n) for b, n in schools] + [(SUPPLIER, "Gemeentesoftware")]
    )
    with broker_process(config) as url:
        yield NationalSetup(
            DemoBroker(url, tmp_path / "pki", database_url),
            config,
            jaar,
            without_vo,
            vso["INSTELLINGSCODE"],
            vso["VESTIGINGSCODE"],
            str(int(vso["RMC-REGIO CODE"])),
            bo_brin,
            so_brin,
        )


def _refuse_as_school(national: NationalSetup, brin: str) -> None:
    outcome = CliRunner().invoke(
        main,
        [
            "--config",
            str(national.config),
            "party",
            "add",
            "--oin",
            oin_of_brin(brin),
            "--kind",
            "vo-school",
        ]
        + ["--name", f"school {brin}", "--brin", brin],
    )
    assert outcome.exit_code != 0, outcome.output
    assert (
        f"BRIN {brin} is no active VO, (V)SO or MBO institution in the reference data of cycle {national.jaar}"
        in outcome.output
    )
    assert "check the BRIN" in outcome.output


def test_a_pupil_in_each_gemeente_without_a_vo_school_is_accepted_and_seen_by_that_gemeente(national):
    assert len(national.without_vo) == 54 and "0415" in national.without_vo  # Landsmeer
    numbers = dict(zip(national.without_vo, bsns(len(national.without_vo), 61000000), strict=True))
    vo = client(national.broker, "vo", oin_of_brin(VO_BRIN))

    response = vo.service.aanleverenLeerlingen(
        leerling=[
            {
                "volgnummer": i,
                "bsn": number,
                "brinVo": VO_BRIN,
                "postcode": "9406NN",
                "woongemeente": gemeente,
                "mutatie": "toevoegen",
            }
            for i, (gemeente, number) in enumerate(numbers.items(), start=1)
        ]
    )

    rejected = [(r.volgnummer, r.code) for r in response.resultaat if not r.verwerkt]
    assert rejected == []  # no VVA108 "gemeentecode ongeldig of onbekend"
    assert (response.aantalVerwerkt, response.aantalAfgewezen) == (54, 0)
    # The primary-school file gave the gemeenten, not its schools: a primary school is no party.
    _refuse_as_school(national, national.bo_brin)
    for gemeente, number in numbers.items():
        overzicht = client(
            national.broker, "gemeente", oin_of_gemeente(gemeente), SUPPLIER
        ).service.opvragenOverzicht(woongemeente=[gemeente])
        assert [(o.bsn, o.woongemeente) for o in overzicht] == [(number, gemeente)], gemeente


def test_a_vso_school_from_the_vso_file_is_counted_in_its_regions_report(national):
    vso = client(national.broker, "vo", oin_of_brin(national.vso_brin))
    numbers = bsns(6, 62000000)  # six: counts of 1-4 are suppressed in reports

    response = vso.service.aanleverenLeerlingen(
        leerling=[
            {
                "volgnummer": i,
                "bsn": number,
                "brinVo": national.vso_brin,
                "vestiging": national.vso_vestiging,
                "postcode": "9402KH",
                "woongemeente": "0106",
                "mutatie": "toevoegen",
            }
            for i, number in enumerate(numbers, start=1)
        ]
    )
    assert (response.aantalVerwerkt, response.aantalAfgewezen) == (6, 0)
    # Only the VSO part of the file makes institutions: an SO/SBO school is no party of this exchange.
    _refuse_as_school(national, national.so_brin)

    runtime = Runtime.load(str(national.config))
    try:
        with runtime.sessions() as session:
            regio = make_rapport(session, runtime.calendar, Level.REGIO, national.jaar, national.vso_regio)
            school = make_rapport(session, runtime.calendar, Level.SCHOOL, national.jaar, national.vso_brin)
    finally:
        runtime.close()
    assert regio.head[(LEERLINGEN, "")] == 6
    assert school.head[(LEERLINGEN, "")] == 6
    assert regio.of(Level.SCHOOL, national.vso_brin)[(LEERLINGEN, "")] == 6
