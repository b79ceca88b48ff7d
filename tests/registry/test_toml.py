"""Reading and loading party files (broker.registry.toml), including the demo file."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from broker.domain.visibility import PartijSoort
from broker.registry.repository import PartijRegistry
from broker.registry.toml import load_partijen, read_partijen
from broker.registry.validation import MandaatInput, PartijError, PartijInput

DEMO = Path(str(resources.files("broker.registry") / "demo-partijen.toml"))

EXAMPLE = """\
[[partij]]
oin = "0000000700099XA00000"
soort = "vo-school"
naam = "Scholengemeenschap De Demo (FICTIEF)"
brins = ["99XA"]
endpoint = "https://las.example/vva"
[[partij.mandaat]]
certificaat_oin = "00000099000000000042"
geldig_van = 2026-08-01
geldig_tot = 2027-07-31
"""

GOOD_GEMEENTE = """\
[[partij]]
oin = "00000099000000000363"
soort = "gemeente"
naam = "Gemeente (FICTIEF)"
gemeentecodes = ["0363"]
"""


def file(tmp_path: Path, text: str, naam: str = "partijen.toml") -> Path:
    path = tmp_path / naam
    path.write_text(text, encoding="utf-8")
    return path


# --- reading ---------------------------------------------------------------------------------------------


def test_example_file_is_read_with_dates(tmp_path: Path) -> None:
    assert read_partijen(file(tmp_path, EXAMPLE)) == [
        PartijInput(
            oin="0000000700099XA00000",
            soort="vo-school",
            naam="Scholengemeenschap De Demo (FICTIEF)",
            brins=("99XA",),
            mandaten=(MandaatInput("00000099000000000042", date(2026, 8, 1), date(2027, 7, 31)),),
            endpoint="https://las.example/vva",
        )
    ]


def test_empty_file_has_no_parties(tmp_path: Path) -> None:
    assert read_partijen(file(tmp_path, "")) == []


@pytest.mark.parametrize(
    ("second", "error"),
    [
        (
            'oin = "0000000700099XB00000"\nsoort = "mbo-instelling"\nnaam = "X"\nbrin = ["99XB"]',
            "unknown key\\(s\\): brin",
        ),
        ('oin = "0000000700099XB00000"\nsoort = "mbo-instelling"', "missing key\\(s\\): naam"),
        (
            'oin = "0000000700099XB00000"\nsoort = "mbo-instelling"\nnaam = "X"\nbrins = "99XB"',
            "brins must be a list of strings",
        ),
        (
            'oin = "00000099000000000599"\nsoort = "gemeente"\nnaam = "X"\ngemeentecodes = [599]',
            "gemeentecodes must be a list of strings",
        ),
        ('oin = "0000000700099XB00000"\nsoort = "mbo-instelling"\nnaam = 7', "naam must be a string"),
        (
            'oin = "0000000700099xb00000"\nsoort = "mbo-instelling"\nnaam = "X"',
            "OIN '0000000700099xb00000' is invalid",
        ),
        (
            'oin = "0000000700099XB00000"\nsoort = "mbo-instelling"\nnaam = "X"\ngemeentecodes = ["0363"]',
            "gemeentecodes are only allowed",
        ),
    ],
    ids=[
        "unknown-key",
        "missing-key",
        "string-not-list",
        "integer-code",
        "wrong-type",
        "lowercase-oin",
        "wrong-scope",
    ],
)
def test_errors_name_the_file_and_the_party(tmp_path: Path, second: str, error: str) -> None:
    path = file(tmp_path, EXAMPLE + "\n[[partij]]\n" + second + "\n")

    with pytest.raises(PartijError, match=error) as error_info:
        read_partijen(path)

    assert str(error_info.value).startswith(f"{path}: party #2")


@pytest.mark.parametrize(
    ("mandaat", "error"),
    [
        (
            'certificaat_oin = "00000099000000000077"\ngeldig_van = "2026-08-01"',
            "geldig_van must be a TOML date",
        ),
        (
            'certificaat_oin = "00000099000000000077"\ngeldig_tot = 2027-07-31T00:00:00',
            "geldig_tot must be a TOML date",
        ),
        (
            'certificaat_oin = "00000099000000000077"\ngeldig_vanaf = 2026-08-01',
            "unknown key\\(s\\): geldig_vanaf",
        ),
        ("geldig_van = 2026-08-01", "certificaat_oin is missing"),
    ],
    ids=["quoted-date", "datetime", "unknown-key", "missing-oin"],
)
def test_mandate_errors_name_the_mandate(tmp_path: Path, mandaat: str, error: str) -> None:
    path = file(tmp_path, EXAMPLE + "[[partij.mandaat]]\n" + mandaat + "\n")

    with pytest.raises(PartijError, match=f"party #1 \\(0000000700099XA00000\\): mandate #2: {error}"):
        read_partijen(path)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[[partij]\n", "not valid TOML"),
        ("partijen = []\n", "unknown top-level key\\(s\\): partijen"),
        ("partij = 3\n", "'partij' must be an array of tables"),
        (EXAMPLE + EXAMPLE, "party #2 \\(0000000700099XA00000\\): same OIN as party #1"),
    ],
    ids=["syntax", "top-level-key", "not-an-array", "duplicate-oin"],
)
def test_file_level_errors(tmp_path: Path, text: str, error: str) -> None:
    path = file(tmp_path, text)

    with pytest.raises(PartijError, match=error) as error_info:
        read_partijen(path)

    assert str(error_info.value).startswith(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PartijError, match="file not found"):
        read_partijen(tmp_path / "nope.toml")


# --- the demo file ---------------------------------------------------------------------------------------


def test_demo_file_loads(registry_session: Session) -> None:
    assert load_partijen(registry_session, DEMO) == 9

    partij_registry = PartijRegistry(registry_session)
    assert partij_registry.find("0000000700099XA00000").brins == frozenset({"99XA"})
    assert partij_registry.find("0000000700099XC00000").brins == frozenset({"99XC"})
    for brin in ("99XB", "99XE", "99XF"):
        assert partij_registry.find(f"00000007000{brin}00000").soort is PartijSoort.MBO_INSTELLING
    assert partij_registry.find("00000099000000000363").gemeentecodes == frozenset({"0363"})
    assert partij_registry.find("00000099000000000599").gemeentecodes == frozenset({"0599"})
    regio = partij_registry.find("00000099000000000042")
    assert (regio.soort, regio.rmc_regios, regio.brins) == (
        PartijSoort.REGIONAAL_SYSTEEM,
        frozenset({"21"}),
        frozenset({"99XB"}),
    )
    supplier = partij_registry.find("00000099000000000077")
    assert (supplier.soort, supplier.brins, supplier.rmc_regios) == (
        PartijSoort.LEVERANCIER,
        frozenset(),
        frozenset(),
    )
    assert partij_registry.mandaat_valid("00000099000000000077", "0000000700099XA00000", date(2027, 2, 1))
    assert not partij_registry.mandaat_valid("00000099000000000077", "0000000700099XC00000", date(2027, 2, 1))
    # Every demo party accepts contact details, so the demo shows them.
    assert all(p.contactgegevens for p in partij_registry.list_())
    assert all(p.procesfeiten for p in partij_registry.list_())


def test_demo_file_excludes_the_broker_and_is_refused_in_production() -> None:
    oins = {p.oin for p in read_partijen(DEMO)}

    assert "00000099000000000001" not in oins
    assert all("(FICTIEF)" in p.naam for p in read_partijen(DEMO))
    with pytest.raises(PartijError, match="test OIN"):
        read_partijen(DEMO, production=True)


def test_loading_twice_replaces(registry_session: Session) -> None:
    load_partijen(registry_session, DEMO)
    before = PartijRegistry(registry_session).list_()

    assert load_partijen(registry_session, DEMO) == 9

    assert PartijRegistry(registry_session).list_() == before


# --- all or nothing --------------------------------------------------------------------------------------


def test_file_with_one_bad_party_changes_nothing(registry_session: Session, tmp_path: Path) -> None:
    load_partijen(registry_session, file(tmp_path, GOOD_GEMEENTE, "goed.toml"))
    registry_session.commit()
    before = PartijRegistry(registry_session).list_()
    bad = file(
        tmp_path,
        GOOD_GEMEENTE.replace("Gemeente (FICTIEF)", "Renamed (FICTIEF)")  # valid, would replace
        + EXAMPLE  # valid, would be new
        + '[[partij]]\noin = "0000000700099XC00000"\nsoort = "vo-school"\nnaam = "X"\ngemeentecodes = ["0599"]\n',
        "slecht.toml",
    )

    with pytest.raises(PartijError, match="party #3"):
        load_partijen(registry_session, bad)
    # Even a caller that commits anyway finds the registry as it was.
    registry_session.commit()

    assert PartijRegistry(registry_session).list_() == before


def test_no_replace_refuses_a_file_with_an_existing_party(registry_session: Session, tmp_path: Path) -> None:
    load_partijen(registry_session, file(tmp_path, GOOD_GEMEENTE, "goed.toml"))
    before = PartijRegistry(registry_session).list_()
    path = file(tmp_path, EXAMPLE + GOOD_GEMEENTE.replace("Gemeente (FICTIEF)", "Renamed (FICTIEF)"))

    with pytest.raises(PartijError, match="already registered .*: 00000099000000000363"):
        load_partijen(registry_session, path, replace=False)

    assert PartijRegistry(registry_session).list_() == before


def test_contact_details_are_read_from_the_file(tmp_path: Path) -> None:
    path = file(
        tmp_path,
        """
        [[partij]]
        oin = "0000000700099XB00000"
        soort = "mbo-instelling"
        naam = "ROC (FICTIEF)"
        contact_email = "vva@roc.example"
        contact_telefoon = "020-1234567"
        contact_internetadres = "https://www.roc.example"
        """,
    )

    [partij] = read_partijen(path)

    assert (partij.contact_email, partij.contact_telefoon, partij.contact_internetadres) == (
        "vva@roc.example",
        "020-1234567",
        "https://www.roc.example",
    )


def test_contact_detail_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    path = file(
        tmp_path,
        """
        [[partij]]
        oin = "0000000700099XB00000"
        soort = "mbo-instelling"
        naam = "ROC (FICTIEF)"
        contact_telefoon = 201234567
        """,
    )

    with pytest.raises(PartijError, match="contact_telefoon must be a string"):
        read_partijen(path)


def test_contactgegevens_opt_in_is_read_from_the_file_and_defaults_to_false(tmp_path: Path) -> None:
    path = file(
        tmp_path,
        """
        [[partij]]
        oin = "0000000700099XB00000"
        soort = "mbo-instelling"
        naam = "ROC (FICTIEF)"
        contactgegevens = true

        [[partij]]
        oin = "0000000700099XE00000"
        soort = "mbo-instelling"
        naam = "Maascollege (FICTIEF)"
        """,
    )

    assert [p.contactgegevens for p in read_partijen(path)] == [True, False]


def test_contactgegevens_must_be_a_boolean(tmp_path: Path) -> None:
    path = file(
        tmp_path,
        """
        [[partij]]
        oin = "0000000700099XB00000"
        soort = "mbo-instelling"
        naam = "ROC (FICTIEF)"
        contactgegevens = "ja"
        """,
    )

    with pytest.raises(PartijError, match="contactgegevens must be true or false"):
        read_partijen(path)


def test_procesfeiten_opt_in_is_read_from_the_file_and_defaults_to_false(tmp_path: Path) -> None:
    path = file(
        tmp_path,
        """
        [[partij]]
        oin = "0000000700099XB00000"
        soort = "mbo-instelling"
        naam = "ROC (FICTIEF)"
        procesfeiten = true

        [[partij]]
        oin = "0000000700099XE00000"
        soort = "mbo-instelling"
        naam = "Maascollege (FICTIEF)"
        """,
    )

    assert [(p.procesfeiten, p.contactgegevens) for p in read_partijen(path)] == [
        (True, False),
        (False, False),
    ]


def test_procesfeiten_must_be_a_boolean(tmp_path: Path) -> None:
    path = file(
        tmp_path,
        """
        [[partij]]
        oin = "0000000700099XB00000"
        soort = "mbo-instelling"
        naam = "ROC (FICTIEF)"
        procesfeiten = 1
        """,
    )

    with pytest.raises(PartijError, match="procesfeiten must be true or false"):
        read_partijen(path)
