"""``vva cycle open --refdata`` on the real DUO files (issue 15): refused, with nothing stored, when the
yearly set is incomplete; a real gemeente merger passes only when the operator acknowledges it.

Skips with the reason when ../shared/data/duo-open-data is absent (tests/refdata/conftest.py).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from broker.cli import main
from broker.db import models
from broker.db.engine import make_engine, make_session_factory
from tests.helpers import write_config
from tests.refdata.test_complete_set import BO, BO_2020, MBO, SO, VO


@pytest.fixture
def files(duo_dir: Path) -> dict[str, Path]:
    paths = {naam: duo_dir / naam for naam in (VO, BO, BO_2020, SO, MBO)}
    for path in paths.values():
        if not path.is_file():
            pytest.skip(f"{path} not present")
    return paths


@pytest.fixture
def vva(tmp_path, database_url):
    """``vva --config … ARGS`` through click's CliRunner on a fresh database without demo data."""
    config = write_config(tmp_path, database_url)
    runner = CliRunner()

    def call(*args: str):
        return runner.invoke(main, ["--config", str(config), *args])

    assert call("init", "--no-demo").exit_code == 0
    return call


def _open(vva, jaar: int, paths: list[Path], *extra: str):
    return vva(
        "cycle", "open", "--year", str(jaar), *(a for p in paths for a in ("--refdata", str(p))), *extra
    )


def _counts(database_url: str, jaar: int) -> dict[str, int]:
    """Rows of cycle ``jaar`` in the cycle and reference data tables."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            counting = {
                "cyclus": select(func.count()).where(models.Cyclus.jaar == jaar),
                "gemeente": select(func.count()).where(models.Gemeente.cyclus_jaar == jaar),
                "instelling": select(func.count()).where(models.Instelling.cyclus_jaar == jaar),
                "refdata_file": select(func.count()).where(models.RefdataFile.cyclus_jaar == jaar),
            }
            return {naam: session.scalar(query) for naam, query in counting.items()}
    finally:
        engine.dispose()


def _audit(database_url: str) -> list[tuple[str, int | None]]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            r = models.AuditRecord
            return list(
                session.execute(select(r.operation, r.cyclus_jaar).order_by(r.sequence_number)).tuples()
            )
    finally:
        engine.dispose()


def _gemeenten(*paths: Path) -> set[str]:
    codes = set()
    for path in paths:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("windows-1252")
        codes |= {r["GEMEENTENUMMER"].strip() for r in csv.DictReader(text.splitlines(), delimiter=";")}
    return codes - {""}


def test_cycle_open_without_the_primary_school_file_is_refused_and_stores_nothing(
    vva, files, database_url
) -> None:
    without_bo = _open(vva, 2031, [files[VO], files[SO], files[MBO]])

    assert without_bo.exit_code != 0
    assert (
        "missing: file not loaded: primary-school vestigingen (02.-alle-schoolvestigingen-basisonderwijs.csv)"
        in without_bo.stderr
    )
    assert "cycle 2031 not opened: its reference data are incomplete" in without_bo.stderr
    assert _counts(database_url, 2031) == {
        "cyclus": 0,
        "gemeente": 0,
        "instelling": 0,
        "refdata_file": 0,
    }

    complete = _open(vva, 2031, [files[VO], files[BO], files[SO], files[MBO]])

    assert complete.exit_code == 0, complete.output
    assert "cycle 2031 opened" in complete.stdout
    assert _counts(database_url, 2031) == {
        "cyclus": 1,
        "gemeente": 342,
        "instelling": 635 + 224 + 55,  # VO, (V)SO, MBO; no primary schools
        "refdata_file": 4,
    }
    check = vva("refdata", "check", "--cyclus", "2031")
    assert check.exit_code == 0, check.output
    assert "reference data complete" in check.stdout


def test_a_file_that_is_not_duos_or_cannot_be_read_is_one_line_and_opens_nothing(vva, tmp_path, database_url):
    """Not a traceback: the operator reads which file and why, as ``vva refdata load`` says it."""
    not_duo = tmp_path / "leerlingen.csv"
    not_duo.write_text("NAAM;KLAS\nPiet;4B\n", encoding="utf-8")

    result = _open(vva, 2031, [not_duo])

    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {not_duo}: not a known DUO file")
    assert result.stderr.rstrip().endswith("; cycle 2031 not opened")
    assert "Traceback" not in result.output
    missing = _open(vva, 2031, [tmp_path / "missing.csv"])  # refused by the option itself (click)
    assert missing.exit_code == 2 and f"'{tmp_path / 'missing.csv'}' does not exist" in missing.stderr
    assert _counts(database_url, 2031) == {"cyclus": 0, "gemeente": 0, "instelling": 0, "refdata_file": 0}


def test_a_merged_gemeente_blocks_the_next_cycle_until_the_operator_acknowledges_it(
    vva, files, database_url
) -> None:
    # Cycle 2031 on the 2020 primary-school file (2020 indeling), cycle 2032 on the 2026 set: the
    # gemeenten merged in between (e.g. 0756 Boxmeer into 1982 Land van Cuijk) are gone.
    old = [files[VO], files[BO_2020], files[SO], files[MBO]]
    new = [files[VO], files[BO], files[SO], files[MBO]]
    first = _open(vva, 2031, old)
    assert first.exit_code == 0, first.output
    removed = sorted(_gemeenten(*old) - _gemeenten(*new))
    assert "0756" in removed

    refused = _open(vva, 2032, new)
    assert refused.exit_code != 0
    assert f"{len(removed)} gemeente(n) of cycle 2031 missing from cycle 2032: " in refused.stderr
    assert "acknowledge it with --ended-gemeente CODE" in refused.stderr
    assert _counts(database_url, 2032)["cyclus"] == 0

    # An acknowledgement of a gemeente that is not gone (a typo) is refused too.
    acknowledgements = [a for code in removed for a in ("--ended-gemeente", code)]
    mistaken = _open(vva, 2032, new, *acknowledgements, "--ended-gemeente", "0363")
    assert mistaken.exit_code != 0
    assert "given as ended, but not a gemeente of cycle 2031 missing from cycle 2032: 0363" in mistaken.stderr
    assert _counts(database_url, 2032)["cyclus"] == 0
    assert (
        vva("cycle", "open", "--year", "2032", "--demo-refdata", "--ended-gemeente", "Boxmeer").exit_code == 2
    )

    opened = _open(vva, 2032, new, *acknowledgements)

    assert opened.exit_code == 0, opened.output
    assert f"acknowledged as ended: gemeente {', '.join(removed)}" in opened.stdout
    assert "cycle 2032 opened" in opened.stdout
    assert _counts(database_url, 2032)["gemeente"] == 342
    # Each acknowledgement is a deliberate operator decision in the audit trail, after the opening.
    assert _audit(database_url)[-len(removed) - 1 :] == [("vva cycle open", 2032)] + [
        (f"vva cycle open --ended-gemeente {code}", 2032) for code in removed
    ]
    verify = vva("audit", "verify")
    assert verify.exit_code == 0, verify.output
    check = vva("refdata", "check", "--cyclus", "2032", *acknowledgements)
    assert check.exit_code == 0, check.output
    assert vva("refdata", "check", "--cyclus", "2032").exit_code == 1
