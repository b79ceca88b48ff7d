"""The complete yearly set of real DUO files (issue 15): every gemeente with its region, checked per cycle.

Skips with the reason when ../shared/data/duo-open-data is absent (tests/refdata/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.db import models
from broker.refdata.check import check_all
from broker.refdata.load import load_files
from broker.refdata.lookup import contactgegevens_of

VO = "alle-vestigingen-vo.csv"
BO = "sessyll+Dutch_Primary_Education_Lakehouse_Pipeline/02.-alle-schoolvestigingen-basisonderwijs.csv"
BO_2020 = "ginberg+cito/alle-vestigingen-bo.csv"
SO = "blackassasinrl-ctrl+hahebo-leadtool/09.-alle-vestigingen-sbo-so-en-vso.csv"
MBO = "Yuchiaaa+Interactive_Map_Website/01.-adressen-mbo-instellingen.csv"


@pytest.fixture
def set_(duo_dir: Path) -> dict[str, Path]:
    paths = {naam: duo_dir / naam for naam in (VO, BO, BO_2020, SO, MBO)}
    for path in paths.values():
        if not path.is_file():
            pytest.skip(f"{path} not present")
    return paths


def regios(session: Session, jaar: int) -> dict[str, str | None]:
    g = models.Gemeente
    return dict(session.execute(select(g.code, g.rmc_regio).where(g.cyclus_jaar == jaar)).tuples().all())


def test_the_four_files_know_every_gemeente_with_its_region(
    refdata_session: Session, set_: dict[str, Path], duo_dir: Path
) -> None:
    report = load_files(refdata_session, [set_[VO], set_[BO], set_[SO], set_[MBO]], 2027)
    assert report.rejected == []

    derived = (duo_dir / "gemeente-rmc-regio-ALL-DERIVED.csv").read_text(encoding="utf-8").splitlines()[1:]
    expected = {code: str(int(regio)) for code, _, regio, _ in (r.split(";") for r in derived)}
    assert len(expected) == 342
    assert regios(refdata_session, 2027) == expected
    assert regios(refdata_session, 2027)["0415"] == "21"  # Landsmeer: no VO school, known by its BO school

    check = check_all(refdata_session, 2027)
    assert check.problems == []
    # 650 VO BRINs, 15 of them MBO institutions with vmbo vestigingen (AOCs), which stay MBO.
    assert check.instellingen == {"vo": 635, "vso": 224, "mbo": 55}
    # Primary schools are no institutions: 32JK (BBS de Verwondering, BO file only) is not there,
    # nor SBO/SO-only BRINs of the special-education file.
    i = models.Instelling
    assert refdata_session.get(i, (2027, "32JK")) is None
    assert (
        refdata_session.scalar(select(func.count()).select_from(i).where(i.cyclus_jaar == 2027))
        == 635 + 224 + 55
    )
    # Contact details from DUO's files, for the SOAP answers.
    contact = contactgegevens_of(refdata_session, 2027, "00GT")
    assert (contact.naam, contact.telefoon) == ("Stichting Albeda", "0102901010")
    assert contactgegevens_of(refdata_session, 2027, "18BR").internetadres == "www.pro-assen.nl"


def test_without_the_primary_school_file_the_check_names_what_is_missing(
    refdata_session: Session, set_: dict[str, Path]
) -> None:
    load_files(refdata_session, [set_[VO], set_[SO], set_[MBO]], 2027)

    check = check_all(refdata_session, 2027)

    assert not check.complete
    assert check.problems == [
        "file not loaded: primary-school vestigingen (02.-alle-schoolvestigingen-basisonderwijs.csv)"
    ]
    assert "0415" not in regios(refdata_session, 2027)


def test_a_second_cycle_with_the_2020_file_leaves_the_first_cycle_alone(
    refdata_session: Session, set_: dict[str, Path]
) -> None:
    load_files(refdata_session, [set_[VO], set_[BO], set_[SO], set_[MBO]], 2026)
    refdata_session.commit()
    first = regios(refdata_session, 2026)

    load_files(refdata_session, [set_[BO_2020], set_[MBO]], 2027)
    refdata_session.commit()

    assert regios(refdata_session, 2026) == first
    second = regios(refdata_session, 2027)
    assert (first["1773"], second["1773"]) == (
        "10",
        "11",
    )  # Olst-Wijhe: IJssel-Vecht now, Stedendriehoek in 2020
    # VO schools missing from the second cycle's files are ended there, never deleted.
    i = models.Instelling
    assert refdata_session.get(i, (2027, "18BR")).beeindigd is True
    assert refdata_session.get(i, (2026, "18BR")).beeindigd is False
    check = check_all(refdata_session, 2027)
    assert "file not loaded: VO vestigingen (02.-alle-vestigingen-vo.csv)" in check.problems
