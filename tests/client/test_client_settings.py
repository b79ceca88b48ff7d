"""The client's settings file and the commands that need no broker."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from broker.cli import main
from broker.client.settings import ClientSettingsError, read_client_settings

SCHOOL = "0000000700099XA00000"


def write(folder, extra: str = "", **replace) -> str:
    values = {
        "endpoint": '"http://127.0.0.1:8080/"',
        "oin": f'"{SCHOOL}"',
        "key": f'"pki/{SCHOOL}.key.pem"',
        "certificate": f'"pki/{SCHOOL}.cert.pem"',
        "ca": '"pki/ca/root.pem"',
        **replace,
    }
    path = folder / "vva-client.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in values.items() if v is not None) + extra)
    return str(path)


def test_paths_are_relative_to_the_settings_file_and_defaults_apply(folder, monkeypatch):
    monkeypatch.chdir("/")

    settings = read_client_settings(write(folder))

    assert settings.endpoint == "http://127.0.0.1:8080"
    assert settings.key == folder / "pki" / f"{SCHOOL}.key.pem"
    assert settings.ca == (folder / "pki" / "ca" / "root.pem",)
    assert (settings.crl, settings.service, settings.broker_oin) == (
        (),
        None,
        "00000099000000000001",
    )


@pytest.mark.parametrize(
    ("replace", "extra", "melding"),
    [
        ({}, "proxy = 1\n", "unknown key(s): proxy"),
        ({"key": None}, "", "missing key(s): key"),
        ({"oin": '"99XA"'}, "", 'oin = "99XA" is not allowed; allowed: an OIN (20 digits or capitals)'),
        ({}, 'broker_oin = "x"\n', 'broker_oin = "x" is not allowed; allowed: an OIN'),
        (
            {},
            'service = "portal"\n',
            'service = "portal" is not allowed; allowed: "vo" or "mbo" or "gemeente" or "regio"',
        ),
        (
            {},
            'timeout_s = "300"\n',
            'timeout_s = "300" is not allowed; allowed: a number above 0 and at most 1e+09 (seconds, without quotes)',
        ),
        ({"endpoint": "8080"}, "", "endpoint = 8080 is not allowed; allowed: an http:// or https:// URL"),
        ({"ca": '["pki/ca/issuing.pem"]'}, "", "file not found"),
        ({"endpoint": "http://x"}, "", "not valid TOML"),
    ],
)
def test_an_error_in_the_settings_names_what_to_fix(folder, replace, extra, melding):
    with pytest.raises(ClientSettingsError, match=re.escape(melding)):
        read_client_settings(write(folder, extra, **replace))


def test_without_settings_file_a_usage_error_and_no_traceback(tmp_path):
    result = CliRunner().invoke(main, ["client", "--config", str(tmp_path / "nee.toml"), "ping"])

    assert result.exit_code == 2
    assert "settings file not found" in result.output
    assert "Traceback" not in result.output


def test_replace_only_for_vo_and_opvragen_only_for_the_own_service(folder):
    config = write(folder, 'service = "gemeente"\n')
    (folder / "a.csv").write_text("bsn,brinMbo,status,datum\n")

    replace = CliRunner().invoke(
        main, ["client", "--config", config, "upload", str(folder / "a.csv"), "--flow", "mbo", "--replace"]
    )
    status = CliRunner().invoke(main, ["client", "--config", config, "status"])

    assert replace.exit_code == 2 and "--replace is for --flow vo" in replace.output
    assert status.exit_code == 2 and "needs service = vo or mbo or regio" in status.output


def test_a_template_overwrites_nothing_without_force(tmp_path):
    out_file = tmp_path / "aanmeldingen.csv"
    out_file.write_text("mijn werk")

    first = CliRunner().invoke(main, ["client", "template", "mbo", "--out", str(out_file)])
    assert first.exit_code == 2 and "use --force" in first.output
    assert out_file.read_text() == "mijn werk"

    afterwards = CliRunner().invoke(main, ["client", "template", "mbo", "--out", str(out_file), "--force"])

    assert afterwards.exit_code == 0
    assert out_file.read_text(encoding="utf-8-sig").splitlines() == [
        "bsn;onderwijsnummer;brinMbo;status;datum;crebo;locatie;naam;intakeDatum;intakeUitkomst;"
        "onderwijsovereenkomstDatum",
        "# 111222333;;99XB;aangemeld;2027-03-01;25180;;Voorbeeld, A.;2027-03-15;positiefAdvies;",
    ]


def test_the_tables_show_intake_overeenkomst_and_examenresultaat_when_the_answer_has_them():
    from datetime import date
    from types import SimpleNamespace as Ns

    from broker.client import output

    aanmelding = Ns(
        brinMbo="99XB",
        status="ingeschreven",
        datum=date(2027, 4, 1),
        crebo="25180",
        intake=Ns(datum=date(2027, 3, 10), uitkomst="positiefAdvies"),
        onderwijsovereenkomstDatum=date(2027, 6, 1),
    )
    old = Ns(brinMbo="99XE", status="aangemeld", datum=date(2027, 2, 1), crebo=None)  # an older answer
    leerling = Ns(
        bsn="123456782",
        onderwijsnummer=None,
        brinVo="99XA",
        woongemeente="0363",
        mboGangerStatus="potentieel",
        aanmelding=[aanmelding, old],
        eldersAangemeld=False,
        examenresultaat=Ns(uitkomst="geslaagd", datum=date(2027, 7, 10)),
    )
    rows = output.leerlingen([leerling])
    csv = output.show(rows, "csv", ["bsn", "aanmeldingen", "examenresultaat"]).splitlines()
    assert csv[1] == (
        "123456782;99XB ingeschreven 2027-04-01 25180 intake positiefAdvies 2027-03-10 overeenkomst 2027-06-01"
        " | 99XE aangemeld 2027-02-01;geslaagd 2027-07-10"
    )
    without = Ns(**{k: v for k, v in vars(leerling).items() if k != "examenresultaat"})  # an older answer
    assert output.leerlingen([without])[0]["examenresultaat"] is None
