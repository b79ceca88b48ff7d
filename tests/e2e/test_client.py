"""`vva client` against a real broker process: a school uploads its start population as a CSV file,
signed with its demo key, and reads back what the broker applied (issue 9)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from broker.cli import main
from broker.db import models
from broker.db.engine import make_engine
from broker.domain.status import AfmeldReden, MboGangerStatus
from tests.helpers import bsn, invalid_bsn

SCHOOL = "0000000700099XA00000"
HEADER = ["bsn", "brinVo", "vestiging", "postcode", "woongemeente", "mutatie", "naam"]
NAMES = ["Jansen, P.", "Çelik", "de Vries", "Öztürk", "Bakker", "Één", "Müller", "Smit", "Ngô Ánh"]
COUNT = 2000
#: Index of a data row → (what is wrong with it, the code it must get). Its line is index + 2.
ERRORS = {
    100: ("bad BSN check digit", "VVA101"),
    300: ("unknown BRIN", "VVA105"),
    500: ("postcode format", "VVA107"),
    700: ("duplicate pupil", "VVA113"),
    900: ("missing column value", "VVA108"),
    1100: ("wrong encoding of one name", "VVA120"),
    1300: ("unknown mutation", "VVA117"),
}
DUPLICATE_OF = 10  # row 700 delivers this row's pupil again


def _bsns(aantal: int) -> list[str]:
    numbers, candidate = [], 30000000
    while len(numbers) < aantal:
        candidate += 1
        try:
            numbers.append(bsn(str(candidate)))
        except ValueError:
            continue
    return numbers


BSNS = _bsns(COUNT)


def _row(index: int, mutatie: str = "toevoegen") -> list[str]:
    row = {
        "bsn": BSNS[index],
        "brinVo": "99XA",
        "vestiging": "01" if index % 2 else "",
        "postcode": "1011AB",
        "woongemeente": "0363" if index % 3 else "0384",
        "mutatie": mutatie,
        "naam": NAMES[index % len(NAMES)],
    }
    error = ERRORS.get(index, ("", ""))[0]
    if error == "bad BSN check digit":
        row["bsn"] = invalid_bsn(BSNS[index][:8])
    elif error == "unknown BRIN":
        row["brinVo"] = "99ZZ"
    elif error == "postcode format":
        row["postcode"] = "1011A"
    elif error == "duplicate pupil":
        row["bsn"] = BSNS[DUPLICATE_OF]
    elif error == "missing column value":
        row["woongemeente"] = ""
    elif error == "wrong encoding of one name":
        row["naam"] = "Ëlif Çelik"
    elif error == "unknown mutation":
        row["mutatie"] = "verwijderen"
    return [row[k] for k in HEADER]


def write_file(path: Path, rows: list[list[str]], encoding: str, delimiter: str, misencoded=()) -> Path:
    """A CSV file as a spreadsheet saves it; the rows at ``fout_op`` (data indexes) are saved in the
    other encoding (UTF-8 ↔ windows-1252), the way one pasted name ends up mis-encoded."""
    other = "cp1252" if encoding.startswith("utf") else "utf-8"
    parts = [b"\xef\xbb\xbf"] if encoding == "utf-8-sig" else []  # the BOM, once
    encoding = encoding.removesuffix("-sig")
    for index, row in enumerate([HEADER, *rows]):
        line = io.StringIO()
        csv.writer(line, delimiter=delimiter, lineterminator="\r\n").writerow(row)
        parts.append(line.getvalue().encode(other if index - 1 in misencoded else encoding))
    path.write_bytes(b"".join(parts))
    return path


def client_config(folder: Path, demo, oin: str = SCHOOL, service: str = "vo") -> Path:
    config = folder / "vva-client.toml"
    config.write_text(
        f'endpoint = "{demo.url}"\noin = "{oin}"\nservice = "{service}"\n'
        f'key = "pki/{oin}.key.pem"\ncertificate = "pki/{oin}.cert.pem"\n'
        'ca = ["pki/ca/root.pem", "pki/ca/issuing.pem"]\n'
        'crl = ["pki/ca/root.crl.pem", "pki/ca/issuing.crl.pem"]\n'
    )
    return config


def vva_client(config: Path, *args: str):
    return CliRunner().invoke(main, ["client", "--config", str(config), *args])


def status(config: Path) -> dict[str, str]:
    """BSN → mboGangerStatus of every pupil the school may see, as `vva client status` prints it."""
    result = vva_client(config, "status", "--format", "json")
    assert result.exit_code == 0, result.output
    return {leerling["bsn"]: leerling["mboGangerStatus"] for leerling in json.loads(result.stdout)}


def _count_no_longer_delivered(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(
                select(func.count()).where(
                    models.Leerling.status == MboGangerStatus.AFGEMELD,
                    models.Leerling.afmeldreden == AfmeldReden.NIET_MEER_AANGELEVERD,
                )
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ";"), ("cp1252", ",")],
    ids=["utf8-bom-semicolon", "windows1252-comma"],
)
def test_upload_of_2000_rows_with_7_errors_and_then_replace(
    demo_broker, database_url, tmp_path, encoding, delimiter
):
    config = client_config(demo_broker.pki.parent, demo_broker)
    file = write_file(
        tmp_path / "leerlingen.csv", [_row(i) for i in range(COUNT)], encoding, delimiter, misencoded=[1100]
    )

    result = vva_client(config, "upload", str(file), "--flow", "vo", "--format", "json")

    assert result.exit_code == 3, result.output  # some rows rejected, the rest applied
    outcome = json.loads(result.stdout)
    expected = {index + 2: code for index, (_, code) in ERRORS.items()}
    assert {r["rij"]: r["code"] for r in outcome["afgewezen"]} == expected
    assert (outcome["aantalVerwerkt"], outcome["aantalAfgewezen"]) == (1993, 7)
    assert all(r["melding"] and r["message"] for r in outcome["afgewezen"])
    # the per-row error report next to the input: the same rows and codes, no pupil numbers
    rapport = (tmp_path / "leerlingen.fouten.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(rapport), delimiter=";"))
    assert {int(r["rij"]): r["code"] for r in rows} == expected
    assert not any(number in rapport for number in BSNS)
    # exactly the 1,993 good rows were applied; nothing of a rejected row
    good = {BSNS[i] for i in range(COUNT) if i not in ERRORS}
    assert status(config) == dict.fromkeys(good, "actief")

    # --replace: the whole start population again, 25 pupils left out → exactly those withdrawn
    removed = set(sorted(good)[::80])
    assert len(removed) == 25
    stays = [i for i in range(COUNT) if i not in ERRORS and BSNS[i] not in removed]
    replacement = write_file(
        tmp_path / "startpopulatie.csv", [_row(i, "wijzigen") for i in stays], encoding, delimiter
    )
    (tmp_path / "startpopulatie.fouten.csv").write_text("stale")

    result = vva_client(config, "upload", str(replacement), "--flow", "vo", "--replace")

    assert result.exit_code == 0, result.output
    assert "1968 rows applied, 0 rejected" in result.output
    assert not (tmp_path / "startpopulatie.fouten.csv").exists()  # no stale report left behind
    after = status(config)
    assert {number for number, state in after.items() if state == "afgemeld"} == removed
    assert {number for number, state in after.items() if state == "actief"} == good - removed
    assert _count_no_longer_delivered(database_url) == 25


def test_a_file_too_large_gets_a_clear_error_and_changes_nothing(demo_broker, tmp_path):
    config = client_config(demo_broker.pki.parent, demo_broker)
    long_name = "x" * 1100
    rows = [[*_row(i)[:-1], long_name] for i in range(COUNT)]  # about 2.2 MB: over the 2 MiB limit
    file = write_file(tmp_path / "groot.csv", rows, "utf-8", ";")
    assert file.stat().st_size > 2 * 1024 * 1024

    result = vva_client(config, "upload", str(file), "--flow", "vo")

    assert result.exit_code == 1
    assert "Client.DK0004" in result.output
    assert "groter dan 2097152 bytes (2 MiB)" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "groot.fouten.csv").exists()
    # past the broker's HTTP cap (10 MiB) the answer is a bare 413: still a clear message
    file.write_bytes(file.read_bytes() * 4)
    result = vva_client(config, "upload", str(file), "--flow", "vo")
    assert result.exit_code == 1
    assert result.output == "error: the broker answered HTTP 413 (the file is too large for one message)\n"
    assert status(config) == {}


def test_a_partij_without_mandaat_gets_dk0002_and_changes_nothing(demo_broker, tmp_path):
    school = client_config(demo_broker.pki.parent, demo_broker)
    other = tmp_path / "andere"
    other.mkdir()
    (other / "pki").symlink_to(demo_broker.pki)
    file = write_file(tmp_path / "l.csv", [_row(i) for i in range(3)], "utf-8", ";")

    # an MBO institution on the VO service, and school 99XC delivering pupils of school 99XA
    for oin, service in (("0000000700099XB00000", "mbo"), ("0000000700099XC00000", "vo")):
        result = vva_client(
            client_config(other, demo_broker, oin, service), "upload", str(file), "--flow", "vo"
        )
        assert result.exit_code == 1
        assert "Client.DK0002 Niet geautoriseerd" in result.output

    assert status(school) == {}


def test_upload_shows_a_progress_bar(demo_broker, tmp_path):
    config = client_config(demo_broker.pki.parent, demo_broker)
    file = write_file(tmp_path / "l.csv", [_row(i) for i in range(3)], "utf-8", ";")

    result = vva_client(config, "upload", str(file), "--flow", "vo", "--progress")

    assert result.exit_code == 0, result.output
    assert "upload l.csv: 100%" in result.stderr
    assert result.stdout.strip() == "3 rows applied, 0 rejected"


def test_mbo_upload_and_the_opvragen_of_school_and_gemeente(demo_broker, tmp_path):
    school = client_config(demo_broker.pki.parent, demo_broker)
    leerlingen = write_file(tmp_path / "l.csv", [_row(i) for i in range(3)], "utf-8", ";")
    assert vva_client(school, "upload", str(leerlingen), "--flow", "vo").exit_code == 0
    mbo = tmp_path / "mbo"
    mbo.mkdir()
    (mbo / "pki").symlink_to(demo_broker.pki)
    instelling = client_config(mbo, demo_broker, "0000000700099XB00000", "mbo")
    aanmeldingen = tmp_path / "aanmeldingen.csv"
    aanmeldingen.write_text(
        "bsn,brinMbo,status,datum,crebo\n"
        f"{BSNS[0]},99XB,aangemeld,01-03-2026,25180\n"
        f"{BSNS[1]},99XB,aangemeld,1 maart,25180\n"
    )

    result = vva_client(instelling, "upload", str(aanmeldingen), "--flow", "mbo", "--format", "csv")

    assert result.exit_code == 3, result.output
    assert result.stdout.splitlines() == [
        "rij;code;melding",
        "3;VVA122;Kolommen datum, intakeDatum, onderwijsovereenkomstDatum: De datum is onleesbaar: gebruik "
        "JJJJ-MM-DD (zoals 2027-03-01) of DD-MM-JJJJ (zoals 01-03-2027).",
    ]
    table = vva_client(school, "status").stdout
    assert "99XB aangemeld 2026-03-01" in table
    niet = vva_client(school, "niet-aangemeld", "--format", "json")
    assert sorted(p["bsn"] for p in json.loads(niet.stdout)) == sorted(BSNS[1:3])
    gemeente = gemeente_config(tmp_path, demo_broker)
    overzicht = vva_client(gemeente, "gemeente-overzicht", "--format", "csv")
    assert overzicht.exit_code == 0, overzicht.output
    assert overzicht.stdout.splitlines()[0].startswith("bsn;onderwijsnummer;brinVo;woongemeente")
    # Amsterdam (0363) sees its residents 1 and 2, not pupil 0 who lives in Diemen (0384)
    assert {line.split(";")[0] for line in overzicht.stdout.splitlines()[1:]} == set(BSNS[1:3])


def gemeente_config(tmp_path: Path, demo) -> Path:
    folder = tmp_path / "gemeente"
    folder.mkdir()
    (folder / "pki").symlink_to(demo.pki)
    return client_config(folder, demo, "00000099000000000363", "gemeente")


def test_the_vva_command_itself_with_a_template_and_ping(demo_broker, tmp_path):
    config = client_config(demo_broker.pki.parent, demo_broker)
    vva = [sys.executable, "-m", "broker", "client"]

    template = subprocess.run(
        [*vva, "template", "vo"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    ping = subprocess.run([*vva, "--config", str(config), "ping"], capture_output=True, text=True, timeout=60)

    assert template.returncode == 0, template.stderr
    lines = (tmp_path / "leerlingen.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == (
        "bsn;onderwijsnummer;brinVo;postcode;woongemeente;mutatie;vestiging;afmeldReden;naam;"
        "examenUitkomst;examenDatum"
    )
    assert lines[1].startswith("# ") and len(lines) == 2
    assert ping.returncode == 0, ping.stderr
    assert ping.stdout.startswith("ok: vo answered at ")
