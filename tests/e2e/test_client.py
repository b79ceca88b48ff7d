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
from tests.helpers import bsn, ongeldig_bsn

SCHOOL = "0000000700099XA00000"
KOP = ["bsn", "brinVo", "vestiging", "postcode", "woongemeente", "mutatie", "naam"]
NAMEN = ["Jansen, P.", "Çelik", "de Vries", "Öztürk", "Bakker", "Één", "Müller", "Smit", "Ngô Ánh"]
AANTAL = 2000
#: Index of a data row → (what is wrong with it, the code it must get). Its line is index + 2.
FOUTEN = {
    100: ("bad BSN check digit", "VVA101"),
    300: ("unknown BRIN", "VVA105"),
    500: ("postcode format", "VVA107"),
    700: ("duplicate pupil", "VVA113"),
    900: ("missing column value", "VVA108"),
    1100: ("wrong encoding of one name", "VVA120"),
    1300: ("unknown mutation", "VVA117"),
}
DUBBEL_VAN = 10  # row 700 delivers this row's pupil again


def _bsns(aantal: int) -> list[str]:
    numbers, candidate = [], 30000000
    while len(numbers) < aantal:
        candidate += 1
        try:
            numbers.append(bsn(str(candidate)))
        except ValueError:
            continue
    return numbers


BSNS = _bsns(AANTAL)


def _row(index: int, mutatie: str = "toevoegen") -> list[str]:
    row = {
        "bsn": BSNS[index],
        "brinVo": "99XA",
        "vestiging": "01" if index % 2 else "",
        "postcode": "1011AB",
        "woongemeente": "0363" if index % 3 else "0384",
        "mutatie": mutatie,
        "naam": NAMEN[index % len(NAMEN)],
    }
    error = FOUTEN.get(index, ("", ""))[0]
    if error == "bad BSN check digit":
        row["bsn"] = ongeldig_bsn(BSNS[index][:8])
    elif error == "unknown BRIN":
        row["brinVo"] = "99ZZ"
    elif error == "postcode format":
        row["postcode"] = "1011A"
    elif error == "duplicate pupil":
        row["bsn"] = BSNS[DUBBEL_VAN]
    elif error == "missing column value":
        row["woongemeente"] = ""
    elif error == "wrong encoding of one name":
        row["naam"] = "Ëlif Çelik"
    elif error == "unknown mutation":
        row["mutatie"] = "verwijderen"
    return [row[k] for k in KOP]


def schrijf_bestand(path: Path, rijen: list[list[str]], encoding: str, scheiding: str, fout_op=()) -> Path:
    """A CSV file as a spreadsheet saves it; the rows at ``fout_op`` (data indexes) are saved in the
    other encoding (UTF-8 ↔ windows-1252), the way one pasted name ends up mis-encoded."""
    andere = "cp1252" if encoding.startswith("utf") else "utf-8"
    delen = [b"\xef\xbb\xbf"] if encoding == "utf-8-sig" else []  # the BOM, once
    encoding = encoding.removesuffix("-sig")
    for index, row in enumerate([KOP, *rijen]):
        regel = io.StringIO()
        csv.writer(regel, delimiter=scheiding, lineterminator="\r\n").writerow(row)
        delen.append(regel.getvalue().encode(andere if index - 1 in fout_op else encoding))
    path.write_bytes(b"".join(delen))
    return path


def client_config(map: Path, demo, oin: str = SCHOOL, dienst: str = "vo") -> Path:
    config = map / "vva-client.toml"
    config.write_text(
        f'endpoint = "{demo.url}"\noin = "{oin}"\ndienst = "{dienst}"\n'
        f'sleutel = "pki/{oin}.key.pem"\ncertificaat = "pki/{oin}.cert.pem"\n'
        'ca = ["pki/ca/root.pem", "pki/ca/issuing.pem"]\n'
        'crl = ["pki/ca/root.crl.pem", "pki/ca/issuing.crl.pem"]\n'
    )
    return config


def vva_client(config: Path, *args: str):
    return CliRunner().invoke(main, ["client", "--config", str(config), *args])


def status(config: Path) -> dict[str, str]:
    """BSN → mboGangerStatus of every pupil the school may see, as `vva client status` prints it."""
    resultaat = vva_client(config, "status", "--format", "json")
    assert resultaat.exit_code == 0, resultaat.output
    return {leerling["bsn"]: leerling["mboGangerStatus"] for leerling in json.loads(resultaat.stdout)}


def _aantal_niet_meer_aangeleverd(database_url: str) -> int:
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
    ("codering", "scheiding"),
    [("utf-8-sig", ";"), ("cp1252", ",")],
    ids=["utf8-bom-semicolon", "windows1252-comma"],
)
def test_upload_van_2000_rijen_met_7_fouten_en_daarna_vervangen(
    demo_broker, database_url, tmp_path, codering, scheiding
):
    config = client_config(demo_broker.pki.parent, demo_broker)
    bestand = schrijf_bestand(
        tmp_path / "leerlingen.csv", [_row(i) for i in range(AANTAL)], codering, scheiding, fout_op=[1100]
    )

    resultaat = vva_client(config, "upload", str(bestand), "--flow", "vo", "--format", "json")

    assert resultaat.exit_code == 3, resultaat.output  # some rows rejected, the rest applied
    uitkomst = json.loads(resultaat.stdout)
    expected = {index + 2: code for index, (_, code) in FOUTEN.items()}
    assert {r["rij"]: r["code"] for r in uitkomst["afgewezen"]} == expected
    assert (uitkomst["aantalVerwerkt"], uitkomst["aantalAfgewezen"]) == (1993, 7)
    assert all(r["melding"] and r["message"] for r in uitkomst["afgewezen"])
    # the per-row error report next to the input: the same rows and codes, no pupil numbers
    rapport = (tmp_path / "leerlingen.fouten.csv").read_text(encoding="utf-8-sig")
    rijen = list(csv.DictReader(io.StringIO(rapport), delimiter=";"))
    assert {int(r["rij"]): r["code"] for r in rijen} == expected
    assert not any(nummer in rapport for nummer in BSNS)
    # exactly the 1,993 good rows were applied; nothing of a rejected row
    good = {BSNS[i] for i in range(AANTAL) if i not in FOUTEN}
    assert status(config) == dict.fromkeys(good, "actief")

    # --replace: the whole start population again, 25 pupils left out → exactly those withdrawn
    weg = set(sorted(good)[::80])
    assert len(weg) == 25
    stays = [i for i in range(AANTAL) if i not in FOUTEN and BSNS[i] not in weg]
    vervanging = schrijf_bestand(
        tmp_path / "startpopulatie.csv", [_row(i, "wijzigen") for i in stays], codering, scheiding
    )
    (tmp_path / "startpopulatie.fouten.csv").write_text("stale")

    resultaat = vva_client(config, "upload", str(vervanging), "--flow", "vo", "--replace")

    assert resultaat.exit_code == 0, resultaat.output
    assert "1968 rows applied, 0 rejected" in resultaat.output
    assert not (tmp_path / "startpopulatie.fouten.csv").exists()  # no stale report left behind
    na = status(config)
    assert {nummer for nummer, state in na.items() if state == "afgemeld"} == weg
    assert {nummer for nummer, state in na.items() if state == "actief"} == good - weg
    assert _aantal_niet_meer_aangeleverd(database_url) == 25


def test_een_te_groot_bestand_krijgt_een_duidelijke_fout_en_verandert_niets(demo_broker, tmp_path):
    config = client_config(demo_broker.pki.parent, demo_broker)
    lange_naam = "x" * 1100
    rijen = [[*_row(i)[:-1], lange_naam] for i in range(AANTAL)]  # about 2.2 MB: over the 2 MiB limit
    bestand = schrijf_bestand(tmp_path / "groot.csv", rijen, "utf-8", ";")
    assert bestand.stat().st_size > 2 * 1024 * 1024

    resultaat = vva_client(config, "upload", str(bestand), "--flow", "vo")

    assert resultaat.exit_code == 1
    assert "Client.DK0004" in resultaat.output
    assert "groter dan 2097152 bytes (2 MiB)" in resultaat.output
    assert "Traceback" not in resultaat.output
    assert not (tmp_path / "groot.fouten.csv").exists()
    # past the broker's HTTP cap (10 MiB) the answer is a bare 413: still a clear message
    bestand.write_bytes(bestand.read_bytes() * 4)
    resultaat = vva_client(config, "upload", str(bestand), "--flow", "vo")
    assert resultaat.exit_code == 1
    assert resultaat.output == "error: the broker answered HTTP 413 (the file is too large for one message)\n"
    assert status(config) == {}


def test_een_partij_zonder_machtiging_krijgt_dk0002_en_verandert_niets(demo_broker, tmp_path):
    school = client_config(demo_broker.pki.parent, demo_broker)
    andere = tmp_path / "andere"
    andere.mkdir()
    (andere / "pki").symlink_to(demo_broker.pki)
    bestand = schrijf_bestand(tmp_path / "l.csv", [_row(i) for i in range(3)], "utf-8", ";")

    # an MBO institution on the VO service, and school 99XC delivering pupils of school 99XA
    for oin, dienst in (("0000000700099XB00000", "mbo"), ("0000000700099XC00000", "vo")):
        resultaat = vva_client(
            client_config(andere, demo_broker, oin, dienst), "upload", str(bestand), "--flow", "vo"
        )
        assert resultaat.exit_code == 1
        assert "Client.DK0002 Niet geautoriseerd" in resultaat.output

    assert status(school) == {}


def test_upload_toont_een_voortgangsbalk(demo_broker, tmp_path):
    config = client_config(demo_broker.pki.parent, demo_broker)
    bestand = schrijf_bestand(tmp_path / "l.csv", [_row(i) for i in range(3)], "utf-8", ";")

    resultaat = vva_client(config, "upload", str(bestand), "--flow", "vo", "--progress")

    assert resultaat.exit_code == 0, resultaat.output
    assert "upload l.csv: 100%" in resultaat.stderr
    assert resultaat.stdout.strip() == "3 rows applied, 0 rejected"


def test_mbo_upload_en_de_opvragingen_van_school_en_gemeente(demo_broker, tmp_path):
    school = client_config(demo_broker.pki.parent, demo_broker)
    leerlingen = schrijf_bestand(tmp_path / "l.csv", [_row(i) for i in range(3)], "utf-8", ";")
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

    resultaat = vva_client(instelling, "upload", str(aanmeldingen), "--flow", "mbo", "--format", "csv")

    assert resultaat.exit_code == 3, resultaat.output
    assert resultaat.stdout.splitlines() == [
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
    assert {regel.split(";")[0] for regel in overzicht.stdout.splitlines()[1:]} == set(BSNS[1:3])


def gemeente_config(tmp_path: Path, demo) -> Path:
    map = tmp_path / "gemeente"
    map.mkdir()
    (map / "pki").symlink_to(demo.pki)
    return client_config(map, demo, "00000099000000000363", "gemeente")


def test_de_vva_opdracht_zelf_met_een_sjabloon_en_ping(demo_broker, tmp_path):
    config = client_config(demo_broker.pki.parent, demo_broker)
    vva = [sys.executable, "-m", "broker", "client"]

    sjabloon = subprocess.run(
        [*vva, "template", "vo"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    ping = subprocess.run([*vva, "--config", str(config), "ping"], capture_output=True, text=True, timeout=60)

    assert sjabloon.returncode == 0, sjabloon.stderr
    regels = (tmp_path / "leerlingen.csv").read_text(encoding="utf-8-sig").splitlines()
    assert regels[0] == (
        "bsn;onderwijsnummer;brinVo;postcode;woongemeente;mutatie;vestiging;afmeldReden;naam;"
        "examenUitkomst;examenDatum"
    )
    assert regels[1].startswith("# ") and len(regels) == 2
    assert ping.returncode == 0, ping.stderr
    assert ping.stdout.startswith("ok: vo answered at ")
