"""The report files of the hand-computable cycle: HTML rendered by headless Chromium (screenshot),
charts with titles, labelled axes and units, the same figures as CSV and xlsx, and ``vva report``."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date

import pytest
from click.testing import CliRunner
from matplotlib.image import imread
from openpyxl import load_workbook

from broker.bootstrap import Runtime
from broker.cli import main
from broker.domain.cycle import Calendar
from broker.rapportage.charts import charts
from broker.rapportage.cijfers import Level
from broker.rapportage.jaarcijfers import store_jaarcijfers
from broker.rapportage.output import COLUMNS, html, rijen, write
from broker.rapportage.rapport import RapportError, make_rapport
from tests.helpers import write_config
from tests.rapportage.scenario import PEILDATUM, build_cyclus

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian package chromium not installed (.ci/run installs it)")
    return path


@pytest.mark.parametrize(
    "niveau,eenheid", [(Level.SCHOOL, "99XA"), (Level.REGIO, "21"), (Level.LANDELIJK, "")]
)
def test_every_chart_has_a_title_labelled_axes_and_units(cyclus_session, niveau, eenheid):
    rapport = make_rapport(cyclus_session, Calendar(), niveau, 2027, eenheid, PEILDATUM)
    names = []
    for naam, figure in charts(rapport):
        (as_,) = figure.axes
        assert as_.get_title(), naam
        assert as_.get_xlabel() and as_.get_ylabel(), naam
        # Units: counts say what is counted ("aantal …"), time axes their unit or scale.
        assert any(
            eenheid_ in f"{as_.get_xlabel()} {as_.get_ylabel()}" for eenheid_ in ("aantal", "dagen")
        ), naam
        names.append(naam)
    assert names == ["statustrechter", "aanmeldingen_per_week", "doorlooptijden", "trend"]


def test_the_html_report_renders_in_headless_chromium(cyclus_session, tmp_path):
    chromium = _chromium()
    rapport = make_rapport(cyclus_session, Calendar(), Level.REGIO, 2027, "21", PEILDATUM)
    page = tmp_path / "regio-21.html"
    write(rapport, "html", page)
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # self-contained: nothing fetched
    assert text.count("<img ") == 4
    screen = tmp_path / "regio-21.png"
    profile = tmp_path / "chromium-profiel"
    result = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1200,3200",
            f"--screenshot={screen}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # Page errors (a script error, a resource that failed) are logged as CONSOLE lines.
    assert "CONSOLE" not in result.stderr, result.stderr[-2000:]
    image = imread(screen)
    assert image.shape[:2] == (3200, 1200)
    assert image[:1600].std() > 0.05  # not a blank page: text, tables and charts
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "Procesinformatie VVA — RMC-regio 21" in dom
    assert "Per mbo-instelling in de regio" in dom and "Aanmeldingen per opleiding en locatie" in dom


def test_the_csv_and_xlsx_hold_the_same_figures_with_suppressed_cells_empty(cyclus_session, tmp_path):
    rapport = make_rapport(cyclus_session, Calendar(), Level.SCHOOL, 2027, "99XA", PEILDATUM)
    write(rapport, "csv", tmp_path / "r.csv")
    write(rapport, "xlsx", tmp_path / "r.xlsx")
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as bestand:
        read_ = list(csv.reader(bestand))
    assert read_[0] == COLUMNS
    per_figure = {(r[0], r[6], r[7]): (r[8], r[9]) for r in read_[1:]}
    assert per_figure[("peildatum", "leerlingen", "")] == ("7", "0")
    assert per_figure[("peildatum", "aangemeld_voor_deadline", "")] == (
        "",
        "1",
    )  # 5, withheld with the late 1
    assert per_figure[("peildatum", "teruggevallen_na_deadline", "")] == ("", "1")
    assert per_figure[("trend", "leerlingen", "")] == ("7", "0")
    sheet = load_workbook(tmp_path / "r.xlsx")["cijfers"]
    xlsx = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert xlsx[0] == COLUMNS
    assert [["" if v is None else str(v) for v in r] for r in xlsx[1:]] == read_[1:]
    assert len(xlsx) - 1 == len(rijen(rapport))


def test_a_closed_cycle_is_reported_from_its_yearly_aggregates_only(cyclus_session):
    store_jaarcijfers(cyclus_session, 2027, Calendar())
    cyclus_session.commit()
    rapport = make_rapport(cyclus_session, Calendar(), Level.SCHOOL, 2027, "99XA")
    assert rapport.from_jaarcijfers and rapport.peildatum == date(2027, 9, 30)
    assert rapport.head[("leerlingen", "")] == 7
    assert "jaarcijfers van de gesloten cyclus" in html(rapport)
    with pytest.raises(
        RapportError, match="^cycle 2027 is closed: only its yearly figures on 2027-09-30 are left"
    ):
        make_rapport(cyclus_session, Calendar(), Level.SCHOOL, 2027, "99XA", PEILDATUM)


def test_unknown_units_and_dates_outside_the_cycle_are_refused(cyclus_session):
    with pytest.raises(RapportError, match="^no figures for school 99ZZ in cycle 2027$"):
        make_rapport(cyclus_session, Calendar(), Level.SCHOOL, 2027, "99ZZ", PEILDATUM)
    with pytest.raises(RapportError, match="^peildatum 2027-10-01 is not in cycle 2027 "):
        make_rapport(cyclus_session, Calendar(), Level.LANDELIJK, 2027, "", date(2027, 10, 1))
    with pytest.raises(RapportError, match="^--rmc must be an RMC-regio code"):
        make_rapport(cyclus_session, Calendar(), Level.REGIO, 2027, "x1", PEILDATUM)


def test_vva_report_writes_each_format(database_url, tmp_path):
    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "init"]).exit_code == 0
    runtime = Runtime.load(str(config))
    with runtime.sessions() as session:
        build_cyclus(session, runtime.keyring)
    runtime.close()
    for file_format, niveau in (
        ("html", ["--level", "landelijk"]),
        ("csv", ["--level", "school", "--brin", "99XA"]),
        ("xlsx", ["--level", "regio", "--rmc", "21"]),
    ):
        out = tmp_path / f"rapport.{file_format}"
        result = runner.invoke(
            main,
            [
                "--config",
                str(config),
                "report",
                *niveau,
                "--year",
                "2027",
                "--date",
                "2027-06-15",
                "--format",
                file_format,
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "peildatum 2027-06-15" in result.output
        assert out.stat().st_size > 1000
    error = runner.invoke(
        main,
        [
            "--config",
            str(config),
            "report",
            "--level",
            "school",
            "--year",
            "2027",
            "--out",
            str(tmp_path / "x.html"),
        ],
    )
    assert error.exit_code == 2 and "--brin belongs with --level school" in error.output
    error = runner.invoke(
        main,
        [
            "--config",
            str(config),
            "report",
            "--level",
            "landelijk",
            "--year",
            "2027",
            "--date",
            "2026-09-30",
            "--out",
            str(tmp_path / "x.html"),
        ],
    )
    assert error.exit_code == 2 and "peildatum 2026-09-30 is not in cycle 2027" in error.output


def test_a_lead_time_without_observations_is_blank_in_the_trend_not_zero(cyclus_session):
    """A count with no observations is 0; a median of no observations does not exist."""
    rapport = make_rapport(cyclus_session, Calendar(), Level.REGIO, 2027, "19", PEILDATUM)  # nobody enrolled
    row = "<tr><td>mediane doorlooptijd aanmelding → inschrijving (dagen)</td><td></td></tr>"
    assert row in html(rapport)
    assert "<tr><td>teruggevallen na de deadline</td><td>0</td></tr>" in html(rapport)
