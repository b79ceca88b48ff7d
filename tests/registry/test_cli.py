"""``vva party`` through the real ``vva`` entry point, with a vva.toml pointing at a test database."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from broker.cli import main
from broker.domain.cycle import Calendar
from tests.registry.conftest import RegistryDb

SCHOOL = "0000000700099XA00000"


@pytest.fixture(autouse=True)
def _no_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # An operator's VVA_* variables would override the test's vva.toml.
    for naam in ("VVA_CONFIG", "VVA_DATABASE_URL", "VVA_KEY_FILE"):
        monkeypatch.delenv(naam, raising=False)


def write_config(tmp_path: Path, database_url: str, extra: str = "") -> Path:
    config = tmp_path / "vva.toml"
    config.write_text(f'database_url = "{database_url}"\n{extra}', encoding="utf-8")
    return config


@pytest.fixture
def config(tmp_path: Path, registry_db: RegistryDb) -> Path:
    """A vva.toml on the test database, with the demo reference data loaded (parties need their BRINs)."""
    path = write_config(tmp_path, registry_db.url)
    loaded = CliRunner().invoke(main, ["--config", str(path), "refdata", "demo"])
    assert loaded.exit_code == 0, loaded.output
    return path


def vva(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "party", *args])


def list_(config: Path) -> list[dict]:
    result = vva(config, "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def assert_error(result: Result, text: str) -> None:
    """Exit status 2, one line on stderr starting with "error:", no traceback."""
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert text in result.stderr
    assert "Traceback" not in result.output


def test_fresh_database_is_migrated_by_the_command(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")

    result = vva(config, "list")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no parties registered"


def test_demo_then_list_as_json(config: Path) -> None:
    result = vva(config, "demo")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "9 demo parties loaded"

    partijen = {p["oin"]: p for p in list_(config)}

    assert len(partijen) == 9
    assert partijen[SCHOOL]["brins"] == ["99XA"]
    assert [m["certificaat_oin"] for m in partijen[SCHOOL]["mandaten"]] == [
        "00000099000000000042",
        "00000099000000000077",
    ]
    assert partijen["00000099000000000042"]["rmc_regios"] == ["21"]
    assert partijen["00000099000000000077"]["soort"] == "leverancier"


def test_add_then_list_as_table(config: Path) -> None:
    result = vva(
        config,
        "add",
        "--oin", SCHOOL,
        "--kind", "vo-school",
        "--name", "School (FICTIEF)",
        "--brin", "99XA",
        "--brin", "99XC",
        "--endpoint", "https://las.example/vva",
        "--mandaat", "00000099000000000077",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"party {SCHOOL} added"

    table = vva(config, "list")

    assert table.exit_code == 0, table.output
    header, row = table.stdout.splitlines()
    assert header.split() == [
        *("OIN", "SOORT", "NAAM", "SCOPE", "MANDATES", "ENDPOINT", "CONTACTGEGEVENS", "PROCESFEITEN")
    ]
    assert row.split("  ")[0] == SCHOOL
    for waarde in (
        "vo-school",
        "School (FICTIEF)",
        "brin:99XA,99XC",
        "00000099000000000077",
        "https://las.example/vva",
    ):
        assert waarde in row
    # Columns line up: each value starts where its heading does.
    assert row.index("brin:99XA,99XC") == header.index("SCOPE")
    assert row.index("https://") == header.index("ENDPOINT")


def test_add_gemeente_with_rmc_region(config: Path) -> None:
    result = vva(
        config, "add", "--oin", "00000099000000000363", "--kind", "gemeente", "--name", "G (FICTIEF)",
        "--gemeente", "363", "--rmc", "21",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [partij] = list_(config)
    assert (partij["gemeentecodes"], partij["rmc_regios"]) == (["0363"], ["21"])


def test_vo_school_with_gemeente_is_refused(config: Path) -> None:
    result = vva(
        config, "add", "--oin", SCHOOL, "--kind", "vo-school", "--name", "S", "--gemeente", "0363"
    )

    assert_error(result, "gemeentecodes are only allowed for gemeente, not for vo-school")
    assert list_(config) == []


def test_lowercase_oin_is_refused(config: Path) -> None:
    result = vva(config, "add", "--oin", SCHOOL.lower(), "--kind", "vo-school", "--name", "S")

    assert_error(result, "is invalid: use exactly 20 characters 0-9 and A-Z, uppercase")
    assert list_(config) == []


def test_add_existing_needs_replace(config: Path) -> None:
    assert vva(config, "add", "--oin", SCHOOL, "--kind", "vo-school", "--name", "S").exit_code == 0

    assert_error(vva(config, "add", "--oin", SCHOOL, "--kind", "vo-school", "--name", "T"), "already exists")
    result = vva(config, "add", "--oin", SCHOOL, "--kind", "vo-school", "--name", "T", "--replace")

    assert result.exit_code == 0, result.output
    assert [p["naam"] for p in list_(config)] == ["T"]


def test_remove(config: Path) -> None:
    assert vva(config, "demo").exit_code == 0

    result = vva(config, "remove", "00000099000000000077")

    assert result.exit_code == 0, result.output
    assert (
        result.stdout.strip() == "party 00000099000000000077 removed; 1 mandate(s) given to it withdrawn"
    )
    partijen = {p["oin"]: p for p in list_(config)}
    assert "00000099000000000077" not in partijen
    assert [m["certificaat_oin"] for m in partijen[SCHOOL]["mandaten"]] == ["00000099000000000042"]
    assert_error(vva(config, "remove", "00000099000000000077"), "is not registered")


def test_load_file_with_a_bad_party_changes_nothing(config: Path, tmp_path: Path) -> None:
    assert vva(config, "demo").exit_code == 0
    before = list_(config)
    file = tmp_path / "partijen.toml"
    file.write_text(
        '[[partij]]\noin = "00000099000000000363"\nsoort = "gemeente"\nnaam = "Renamed"\ngemeentecodes = ["0363"]\n'
        '[[partij]]\noin = "0000000700099XC00000"\nsoort = "vo-school"\nnaam = "X"\nbrins = ["99xc"]\n',
        encoding="utf-8",
    )

    result = vva(config, "load", str(file))

    assert_error(result, f"{file}: party #2 (0000000700099XC00000): BRIN '99xc' is invalid")
    assert list_(config) == before


def test_load_and_no_replace(config: Path, tmp_path: Path) -> None:
    file = tmp_path / "partijen.toml"
    file.write_text(
        '[[partij]]\noin = "0000000700099XB00000"\nsoort = "mbo-instelling"\nnaam = "ROC (FICTIEF)"\n',
        encoding="utf-8",
    )

    first = vva(config, "load", str(file))
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == f"1 parties loaded from {file}"
    assert [p["brins"] for p in list_(config)] == [["99XB"]]  # defaulted from the OIN

    assert_error(vva(config, "load", str(file), "--no-replace"), "already registered")
    assert vva(config, "load", str(file)).exit_code == 0


def test_load_missing_file(config: Path, tmp_path: Path) -> None:
    assert_error(vva(config, "load", str(tmp_path / "nope.toml")), "file not found")


def test_demo_is_refused_in_production(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", 'environment = "production"\n')

    assert_error(vva(config, "demo"), "refused with environment = production")
    assert_error(
        vva(config, "add", "--oin", "00000099000000000363", "--kind", "gemeente", "--name", "G"), "test OIN"
    )


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    # A directory where the database file should be: SQLite cannot open it.
    (tmp_path / "dir.db").mkdir()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'dir.db'}")

    assert_error(vva(config, "list"), "database error")


def test_party_with_a_brin_outside_the_reference_data_is_refused(config: Path) -> None:
    # 99XZ is in no DUO file of the cycle (issue 15: known parties only); nothing is stored.
    result = vva(
        config,
        "add",
        "--oin",
        "0000000700099XZ00000",
        "--kind",
        "vo-school",
        "--name",
        "X",
        "--brin",
        "99XZ",
    )
    assert_error(
        result,
        "party 0000000700099XZ00000: BRIN 99XZ is no active VO, (V)SO or MBO institution in the reference data of cycle",
    )
    # The reference data are loaded: the operator is told to check the BRIN, not to load them again.
    assert "check the BRIN" in result.output
    assert "load the DUO reference data first" not in result.output
    assert list_(config) == []
    # A (V)SO school from the (V)SO file is known.
    assert (
        vva(
            config,
            "add",
            "--oin",
            "0000000700099XG00000",
            "--kind",
            "vo-school",
            "--name",
            "VSO",
            "--brin",
            "99XG",
        ).exit_code
        == 0
    )


def test_party_load_without_reference_data_says_to_load_them(tmp_path: Path, registry_db: RegistryDb) -> None:
    empty = write_config(tmp_path, registry_db.url)
    file = tmp_path / "p.toml"
    file.write_text(
        '[[partij]]\noin = "0000000700099XB00000"\nsoort = "mbo-instelling"\nnaam = "ROC (FICTIEF)"\n'
    )
    result = vva(empty, "load", str(file))
    assert_error(result, f"{file}: party 0000000700099XB00000: BRIN 99XB cannot be checked")
    assert "no reference data loaded for cycle" in result.output
    assert "load the DUO reference data first" in result.output


def test_a_school_new_in_the_next_cycles_files_can_be_registered_once_they_are_loaded(
    config: Path, tmp_path: Path
) -> None:
    next_ = Calendar().cyclus_on(date.today()).jaar + 1
    demo = (resources.files("broker.refdata") / "demo" / "vestigingen-vo-FICTIEF.csv").read_bytes()
    header, first = demo.splitlines()[:2]
    new = tmp_path / "vo-volgend.csv"
    new.write_bytes(header + b"\n" + first + b"\n" + first.replace(b"99XA", b"99YN") + b"\n")
    partij = [
        "add",
        "--oin",
        "0000000700099YN00000",
        "--kind",
        "vo-school",
        "--name",
        "Nieuw",
        "--brin",
        "99YN",
    ]

    assert_error(vva(config, *partij), "BRIN 99YN is no active VO, (V)SO or MBO institution")
    loaded = CliRunner().invoke(
        main, ["--config", str(config), "refdata", "load", "--cyclus", str(next_), str(new)]
    )
    assert loaded.exit_code == 0, loaded.output
    assert vva(config, *partij).exit_code == 0
    assert [p["oin"] for p in list_(config)] == ["0000000700099YN00000"]


# --- contact details for this exchange (issue 15, item 5) ---------------------------------------------------


def test_add_with_contact_details_and_list_them(config: Path) -> None:
    result = vva(
        config,
        "add",
        "--oin", "0000000700099XB00000",
        "--kind", "mbo-instelling",
        "--name", "ROC (FICTIEF)",
        "--contact-email", "vva@roc.example",
        "--contact-telefoon", "+31 20 123 4567",
        "--contact-internet", "https://www.roc.example/aanmelden",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    [partij] = list_(config)

    assert (partij["contact_email"], partij["contact_telefoon"], partij["contact_internetadres"]) == (
        "vva@roc.example",
        "+31 20 123 4567",
        "https://www.roc.example/aanmelden",
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--contact-email", "Jan Jansen <jan@roc.example>", "contact_email"),
        ("--contact-email", "geen-adres", "contact_email"),
        ("--contact-telefoon", "bel Jan", "contact_telefoon"),
        ("--contact-internet", "javascript:alert(1)", "contact_internetadres"),
    ],
)
def test_invalid_contact_details_are_refused(config: Path, option: str, value: str, message: str) -> None:
    result = vva(
        config, "add", "--oin", SCHOOL, "--kind", "vo-school", "--name", "School (FICTIEF)", option, value
    )

    assert_error(result, message)
    assert list_(config) == []


def test_contact_details_only_for_schools_and_institutions(config: Path) -> None:
    result = vva(
        config,
        "add",
        "--oin", "00000099000000000363",
        "--kind", "gemeente",
        "--name", "Gemeente (FICTIEF)",
        "--gemeente", "0363",
        "--contact-email", "leerplicht@gemeente.example",
    )  # fmt: skip

    assert_error(result, "contact_email is only allowed for vo-school and mbo-instelling")


def test_reloading_the_registry_keeps_a_school_that_ended_in_the_current_cycle(
    tmp_path: Path, registry_db: RegistryDb
) -> None:
    """A school registered last cycle and missing from this cycle's DUO files is marked ended, never
    deleted: its pupils are still in the exchange. The routine reload of the registry file must not fail
    on it (it would block every other change to the registry), nor may its party be dropped; a new party
    for that ended school is still refused."""
    from broker.domain.cycle import Calendar

    config = write_config(tmp_path, registry_db.url)
    jaar = Calendar().cyclus_on(date.today()).jaar
    demo = Path(__file__).parents[2] / "broker" / "refdata" / "demo"
    runner = CliRunner()
    previous = runner.invoke(main, ["--config", str(config), "refdata", "demo", "--cyclus", str(jaar - 1)])
    assert previous.exit_code == 0, previous.output
    file = tmp_path / "partijen.toml"
    file.write_text(
        '[[partij]]\noin = "0000000700099XC00000"\nsoort = "vo-school"\nnaam = "School C (FICTIEF)"\n'
        '[[partij]]\noin = "0000000700099XB00000"\nsoort = "mbo-instelling"\nnaam = "ROC (FICTIEF)"\n'
    )
    assert vva(config, "load", str(file)).exit_code == 0
    # This cycle's files: the demo set without school 99XC.
    new = []
    for naam in sorted(p.name for p in demo.glob("*.csv")):
        lines = (demo / naam).read_bytes().split(b"\r\n")
        (tmp_path / naam).write_bytes(b"\r\n".join(r for r in lines if b";99XC;" not in r))
        new.append(str(tmp_path / naam))
    loaded = runner.invoke(main, ["--config", str(config), "refdata", "load", *new, "--cyclus", str(jaar)])
    assert loaded.exit_code == 0, loaded.output

    again = vva(config, "load", str(file))

    assert again.exit_code == 0, again.output
    assert {p["oin"] for p in list_(config)} == {"0000000700099XC00000", "0000000700099XB00000"}
    new_partij = vva(
        config,
        "add",
        "--oin",
        "00000099000000000777",
        "--kind",
        "vo-school",
        "--name",
        "X",
        "--brin",
        "99XC",
    )
    assert_error(
        new_partij,
        f"BRIN 99XC is no active VO, (V)SO or MBO institution in the reference data of cycle {jaar}",
    )


def test_contactgegevens_opt_in_is_stored_listed_and_off_by_default(config: Path) -> None:
    # Off unless the operator records that the party's software accepts the element (xsd/README.md).
    for oin, option in (("0000000700099XB00000", "--contactgegevens"), ("0000000700099XE00000", None)):
        command = ["add", "--oin", oin, "--kind", "mbo-instelling", "--name", "ROC (FICTIEF)"]
        result = vva(config, *command, *([option] if option else []))
        assert result.exit_code == 0, result.output

    assert [(p["oin"], p["contactgegevens"]) for p in list_(config)] == [
        ("0000000700099XB00000", True),
        ("0000000700099XE00000", False),
    ]
    header, *rows = vva(config, "list").stdout.splitlines()
    assert [row[header.index("CONTACTGEGEVENS") :].split()[0] for row in rows] == ["yes", "no"]

    again = ["add", "--oin", "0000000700099XB00000", "--kind", "mbo-instelling", "--name", "ROC (FICTIEF)"]
    assert vva(config, *again, "--geen-contactgegevens", "--replace").exit_code == 0
    assert list_(config)[0]["contactgegevens"] is False


def test_procesfeiten_opt_in_is_stored_listed_and_off_by_default(config: Path) -> None:
    # Off unless the operator records that the party's software accepts the issue 16 elements.
    for oin, option in (("0000000700099XB00000", "--procesfeiten"), ("0000000700099XE00000", None)):
        command = ["add", "--oin", oin, "--kind", "mbo-instelling", "--name", "ROC (FICTIEF)"]
        result = vva(config, *command, *([option] if option else []))
        assert result.exit_code == 0, result.output

    assert [(p["oin"], p["procesfeiten"], p["contactgegevens"]) for p in list_(config)] == [
        ("0000000700099XB00000", True, False),
        ("0000000700099XE00000", False, False),
    ]
    header, *rows = vva(config, "list").stdout.splitlines()
    assert [row[header.index("PROCESFEITEN") :].strip() for row in rows] == ["yes", "no"]

    again = ["add", "--oin", "0000000700099XB00000", "--kind", "mbo-instelling", "--name", "ROC (FICTIEF)"]
    assert vva(config, *again, "--geen-procesfeiten", "--replace").exit_code == 0
    assert list_(config)[0]["procesfeiten"] is False
