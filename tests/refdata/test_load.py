"""Loading DUO reference data into the database (broker.refdata.load) and the ``vva refdata`` commands.

Database tests run on SQLite and PostgreSQL (fixture ``refdata_session``); the CLI tests use SQLite.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.cycle import Calendar
from broker.domain.meldingen import GEMEENTECODE_ONGELDIG, VESTIGING_ONGELDIG
from broker.refdata import duo
from broker.refdata.load import RejectedLine, TableCount, load_demo, load_files

DEMO = Path(__file__).resolve().parents[2] / "broker" / "refdata" / "demo"
DEMO_VO = DEMO / "vestigingen-vo-FICTIEF.csv"
DEMO_MBO = DEMO / "mbo-instellingen-FICTIEF.csv"

MODELS = {
    "rmc_regio": models.RmcRegio,
    "gemeente": models.Gemeente,
    "instelling": models.Instelling,
    "vestiging": models.Vestiging,
}


def counts(session: Session) -> dict[str, int]:
    return {naam: session.scalar(select(func.count()).select_from(m)) for naam, m in MODELS.items()}


def snapshot(session: Session, jaar: int | None = None) -> dict[str, set[tuple]]:
    """Every row of every reference table (of cycle ``jaar``), all columns, as comparable tuples."""
    session.expire_all()
    return {
        naam: {
            tuple(getattr(r, k) for k in m.__table__.columns.keys())
            for r in session.scalars(select(m).where(m.cyclus_jaar == jaar) if jaar else select(m))
        }
        for naam, m in MODELS.items()
    }


def all_new(rmc: int, gemeente: int, instelling: int, vestiging: int) -> dict[str, TableCount]:
    return {
        "rmc_regio": TableCount(new=rmc),
        "gemeente": TableCount(new=gemeente),
        "instelling": TableCount(new=instelling),
        "vestiging": TableCount(new=vestiging),
    }


def unchanged(report_counts: dict[str, TableCount]) -> dict[str, TableCount]:
    return {naam: TableCount(unchanged=t.total) for naam, t in report_counts.items()}


def vo_demo_with(change) -> duo.DuoFile:
    """The demo VO file, decoded, changed by ``change(text) -> text``, re-encoded as DUO does."""
    text = change(DEMO_VO.read_bytes().decode("cp1252"))
    return duo.read_duo_csv(text.encode("cp1252"), "vo-gewijzigd.csv")


# --- the real file -------------------------------------------------------------------------


def test_real_file_loads_and_reload_changes_nothing(refdata_session: Session, vo_file: Path) -> None:
    report = load_files(refdata_session, [vo_file], 2026)
    refdata_session.commit()

    assert report.counts == all_new(40, 288, 650, 1630)
    assert report.rejected == []
    assert report.row_count == 1630 == report.counts["vestiging"].total + len(report.rejected)
    assert counts(refdata_session) == {
        "rmc_regio": 40,
        "gemeente": 288,
        "instelling": 650,
        "vestiging": 1630,
    }
    before = snapshot(refdata_session)
    assert {row[-1] for rijen in before.values() for row in rijen} == {2026}  # geldig_vanaf_cyclus is last

    jutter = refdata_session.get(models.Vestiging, (2026, "14DC06"))
    assert (jutter.naam, jutter.brin, jutter.postcode, jutter.gemeentecode, jutter.rmc_regio) == (
        'VMBO "De Jutter" Vlieland',
        "14DC",
        "8899BD",
        "0096",
        "4",
    )
    amsterdam = refdata_session.get(models.Gemeente, (2026, "0363"))
    assert (amsterdam.naam, amsterdam.rmc_regio) == ("AMSTERDAM", "21")
    assert refdata_session.get(models.RmcRegio, (2026, "7")).naam == "Noord- en Midden Drenthe"

    again = load_files(refdata_session, [vo_file], 2027)
    refdata_session.commit()

    # The next cycle gets its own rows, equal in content and still valid from 2026; 2026 is untouched.
    assert again.counts == unchanged(report.counts)
    assert snapshot(refdata_session, 2026) == before
    assert {naam: {r[1:] for r in rijen} for naam, rijen in snapshot(refdata_session, 2027).items()} == {
        naam: {r[1:] for r in rijen} for naam, rijen in before.items()
    }


# --- updates and validity ------------------------------------------------------------------


def test_changed_rows_get_the_new_cycle(refdata_session: Session) -> None:
    load_files(refdata_session, [DEMO_VO, DEMO_MBO], 2026)
    changed = vo_demo_with(
        lambda t: t.replace("Noorderzon Lyceum (FICTIEF)", "Noorderzon College (FICTIEF)")
    )

    report = load_files(refdata_session, [changed], 2027)

    assert report.counts["vestiging"] == TableCount(changed=1, unchanged=5)
    # 99XD is named after 99XD00; the MBO institutions are not in 2027's files: ended there.
    assert report.counts["instelling"] == TableCount(changed=1, unchanged=2, beeindigd=3)
    assert report.counts["gemeente"] == TableCount(unchanged=5)
    vestiging = refdata_session.get(models.Vestiging, (2027, "99XD00"))
    assert (vestiging.naam, vestiging.geldig_vanaf_cyclus) == ("Noorderzon College (FICTIEF)", 2027)
    assert refdata_session.get(models.Vestiging, (2026, "99XD00")).naam == "Noorderzon Lyceum (FICTIEF)"
    assert refdata_session.get(models.Instelling, (2027, "99XD")).geldig_vanaf_cyclus == 2027
    assert refdata_session.get(models.Vestiging, (2027, "99XA00")).geldig_vanaf_cyclus == 2026
    roc = refdata_session.get(models.Instelling, (2027, "99XB"))
    assert (roc.beeindigd, roc.naam, roc.geldig_vanaf_cyclus) == (True, "ROC Amstelstroom (FICTIEF)", 2027)
    assert refdata_session.get(models.Instelling, (2026, "99XB")).beeindigd is False


def test_missing_region_does_not_erase_a_known_one(refdata_session: Session) -> None:
    load_files(refdata_session, [DEMO_VO], 2026)
    without_regio = vo_demo_with(lambda t: t.replace(";21;Agglomeratie Amsterdam", "; ; "))
    assert [g.rmc_regio for g in without_regio.gemeenten if g.code == "0363"] == [None]

    report = load_files(refdata_session, [without_regio], 2027)

    assert report.counts["gemeente"] == TableCount(unchanged=5)
    assert report.counts["vestiging"] == TableCount(unchanged=6)
    assert refdata_session.get(models.Gemeente, (2027, "0363")).rmc_regio == "21"
    assert refdata_session.get(models.Gemeente, (2027, "0384")).geldig_vanaf_cyclus == 2026
    assert refdata_session.get(models.Vestiging, (2027, "99XA02")).rmc_regio == "21"


@pytest.mark.parametrize("mbo_first", [False, True], ids=["vo-first", "mbo-first"])
def test_mbo_institution_wins_over_vo_vestigingen_of_the_same_brin(
    refdata_session: Session, mbo_first: bool
) -> None:
    # Like an AOC or ROC with vmbo: a VO vestiging under the MBO institution's BRIN (real: 25PW, 31JC).
    aoc = vo_demo_with(lambda t: t.replace("99XC;99XC00", "99XB;99XB00"))
    files = [DEMO_MBO, aoc] if mbo_first else [aoc, DEMO_MBO]

    load_files(refdata_session, files, 2026)
    instelling = refdata_session.get(models.Instelling, (2026, "99XB"))
    assert (instelling.sector, instelling.naam) == ("mbo", "ROC Amstelstroom (FICTIEF)")
    assert refdata_session.get(models.Vestiging, (2026, "99XB00")).brin == "99XB"

    only_vo = load_files(refdata_session, [aoc], 2027)  # a later VO-only load keeps it MBO
    assert only_vo.counts["instelling"] == TableCount(unchanged=3, beeindigd=2)
    assert refdata_session.get(models.Instelling, (2027, "99XB")).sector == "mbo"


# --- refused rows and unusable files -------------------------------------------------------


def test_refused_rows_are_reported_and_the_rest_loaded(refdata_session: Session) -> None:
    broken = vo_demo_with(lambda t: t.replace("99XC;99XC00", "99XC;99XD00").replace(";0014;", ";14A;"))

    report = load_files(refdata_session, [broken], 2026)

    assert report.rejected == [
        RejectedLine(
            "vo-gewijzigd.csv", 6, f"VESTIGINGSNUMMER: '99XD00' invalid ({VESTIGING_ONGELDIG.tekst_en})"
        ),
        RejectedLine(
            "vo-gewijzigd.csv", 7, f"GEMEENTENUMMER: '14A' invalid ({GEMEENTECODE_ONGELDIG.tekst_en})"
        ),
    ]
    assert str(report.rejected[1]).startswith("vo-gewijzigd.csv:7: GEMEENTENUMMER: '14A' invalid")
    assert report.counts["vestiging"] == TableCount(new=4)
    codes = sorted(refdata_session.scalars(select(models.Vestiging.code)))
    assert codes == ["99XA00", "99XA01", "99XA02", "99XA03"]


def test_an_unusable_file_loads_nothing(refdata_session: Session, tmp_path: Path) -> None:
    nonsense = tmp_path / "leerlingen.csv"
    nonsense.write_text("naam;klas\nPiet;3b\n", encoding="utf-8")

    with pytest.raises(duo.UnknownFile, match="leerlingen.csv: not a known DUO file"):
        load_files(refdata_session, [DEMO_VO, nonsense], 2026)

    assert counts(refdata_session) == {"rmc_regio": 0, "gemeente": 0, "instelling": 0, "vestiging": 0}


# --- the demo set --------------------------------------------------------------------------


def test_demo_set(refdata_session: Session) -> None:
    report = load_demo(refdata_session, 2026)
    refdata_session.commit()

    assert report.counts == all_new(4, 7, 7, 8)
    assert (report.rejected, report.warnings) == ([], [])
    instellingen = {
        i.brin: (i.sector, i.gemeentecode, i.rmc_regio)
        for i in refdata_session.scalars(select(models.Instelling))
    }
    assert instellingen == {
        "99XA": ("vo", "0363", "21"),
        "99XC": ("vo", "0599", "29"),
        "99XD": ("vo", "0014", "3"),
        "99XG": ("vo", "0363", "21"),  # a VSO school from the (V)SO file
        "99XB": ("mbo", "0363", "21"),
        "99XE": ("mbo", "0599", "29"),
        "99XF": ("mbo", "0344", "19"),
    }
    assert refdata_session.get(models.Instelling, (2026, "99XA")).naam == "Scholengemeenschap Één (FICTIEF)"
    gemeenten = {g.code: (g.naam, g.rmc_regio) for g in refdata_session.scalars(select(models.Gemeente))}
    assert gemeenten == {
        "0014": ("GRONINGEN", "3"),
        "0344": ("UTRECHT", "19"),
        "0363": ("AMSTERDAM", "21"),
        "0384": ("DIEMEN", "21"),
        "0415": ("LANDSMEER", "21"),  # no school but a primary school: from the primary-school file
        "0437": ("OUDER-AMSTEL", "21"),
        "0599": ("ROTTERDAM", "29"),
    }
    assert {r.code: r.naam for r in refdata_session.scalars(select(models.RmcRegio))} == {
        "3": "Centraal en Westelijk Groningen",
        "19": "Utrecht",
        "21": "Agglomeratie Amsterdam",
        "29": "Rijnmond",
    }
    before = snapshot(refdata_session)

    assert load_demo(refdata_session, 2027).counts == unchanged(report.counts)
    assert snapshot(refdata_session, 2026) == before


# --- vva refdata … -------------------------------------------------------------------------


@pytest.fixture
def vva(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run ``vva --config <tmp vva.toml> …`` on a fresh SQLite file; returns (runner function, db url)."""
    from broker.cli import main

    monkeypatch.delenv("VVA_DATABASE_URL", raising=False)
    monkeypatch.delenv("VVA_CONFIG", raising=False)
    instellingen = tmp_path / "vva.toml"
    instellingen.write_text(
        f'database_url = "sqlite:///{(tmp_path / "vva.sqlite3").as_posix()}"\n'
        f'key_file = "{(tmp_path / "keys.json").as_posix()}"\n',
        encoding="utf-8",
    )
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, ["--config", str(instellingen), *args], catch_exceptions=False)

    return run


def test_cli_load_real_file(vva, vo_file: Path) -> None:
    first = vva("refdata", "load", str(vo_file), "--cyclus", "2026")
    assert first.exit_code == 0, first.stderr
    assert "rmc_regio: new 40, changed 0, unchanged 0" in first.stdout
    assert "gemeente: new 288, changed 0, unchanged 0" in first.stdout
    assert "instelling: new 650, changed 0, unchanged 0" in first.stdout
    assert "vestiging: new 1630, changed 0, unchanged 0" in first.stdout
    assert "rejected: 0" in first.stdout

    second = vva("refdata", "load", str(vo_file))  # default cycle: today's
    assert second.exit_code == 0, second.stderr
    assert f"cycle {Calendar().cyclus_on(date.today()).jaar}: 1630 rows read from {vo_file}" in second.stdout
    assert "vestiging: new 0, changed 0, unchanged 1630" in second.stdout

    show = vva("refdata", "show")
    assert show.stdout.splitlines() == [
        f"reference data of cycle {Calendar().cyclus_on(date.today()).jaar}",
        "rmc_regio: 40",
        "gemeente: 288",
        "instelling: 650",
        "vestiging: 1630",
    ]
    jutter = vva("refdata", "show", "--brin", "14DC")
    assert jutter.exit_code == 0
    assert '14DC06 VMBO "De Jutter" Vlieland | 8899BD VLIELAND 0096 | VBO/MAVO' in jutter.stdout


def test_cli_refused_rows_exit_1_and_commit_the_rest(vva, tmp_path: Path) -> None:
    text = DEMO_VO.read_bytes().decode("cp1252").replace("99XD;99XD00", "99XD;99XA00")
    bestand = tmp_path / "vo.csv"
    bestand.write_bytes(text.encode("cp1252"))

    result = vva("refdata", "load", str(bestand), "--cyclus", "2026")

    assert result.exit_code == 1
    assert f"{bestand}:7: VESTIGINGSNUMMER: '99XA00' invalid" in result.stderr
    assert "vestiging: new 5, changed 0, unchanged 0" in result.stdout
    assert "vestiging: 5" in vva("refdata", "show").stdout


def test_cli_unusable_file_exit_2(vva, duo_dir: Path) -> None:
    result = vva("refdata", "load", str(duo_dir / "gemeente-rmc-regio-DERIVED.csv"), "--cyclus", "2026")
    assert result.exit_code == 2
    assert "not a known DUO file" in result.stderr
    assert "nothing loaded" in result.stderr


def test_cli_demo_and_show(vva) -> None:
    assert vva("refdata", "show").exit_code == 1  # no schema yet: says so instead of a traceback

    demo = vva("refdata", "demo", "--cyclus", "2026")
    assert demo.exit_code == 0, demo.stderr
    assert "instelling: new 7, changed 0, unchanged 0" in demo.stdout
    check = vva("refdata", "check", "--cyclus", "2026")
    assert check.exit_code == 0, check.stderr
    assert check.stdout.splitlines() == [
        "cycle 2026: 7 gemeenten in 4 RMC regions; institutions: 3 vo, 1 vso, 3 mbo",
        "reference data complete",
    ]

    show = vva("refdata", "show", "--brin", "99XG", "--cyclus", "2026")
    assert show.stdout.splitlines()[:4] == [
        "99XG (vso) VSO De Verbeelding (FICTIEF)",
        "  contact: 0200000000 www.vso-verbeelding.example",
        "  gemeente: 0363 AMSTERDAM",
        "  RMC-regio: 21 Agglomeratie Amsterdam",
    ]
    show = vva("refdata", "show", "--brin", "99XF")
    assert show.stdout.splitlines()[:4] == [
        "99XF (mbo) Vakschool Domstad (FICTIEF)",
        "  contact: - -",
        "  gemeente: 0344 UTRECHT",
        "  RMC-regio: 19 Utrecht",
    ]
    unknown = vva("refdata", "show", "--brin", "00ZZ")
    assert (unknown.exit_code, unknown.stderr.strip()) == (1, "instelling 00ZZ not found")
