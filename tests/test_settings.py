"""Settings are checked by type and value when ``vva`` starts, as an operator meets them.

A misspelt environment would turn every production guard off, a quoted "no" would count as true and a
number given as text would load: each is refused before any command runs, with one line naming the
file, the key, the bad value and what is allowed, and no traceback.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from broker.cli import main


def _vva(tmp_path, inhoud: str, *command: str):
    config = tmp_path / "vva.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "vva.sqlite3"}"\n{inhoud}')
    return config, CliRunner().invoke(main, ["--config", str(config), *(command or ("outbox", "list"))])


@pytest.mark.parametrize(
    ("inhoud", "melding"),
    [
        (
            'environment = "prodution"\n',
            'environment = "prodution" is not allowed; allowed: "test" or "production"',
        ),
        (
            'conformance_fault_injection = "no"\n',
            'conformance_fault_injection = "no" is not allowed; allowed: true or false (TOML booleans, without quotes)',
        ),
        (
            'max_request_bytes = "10485760"\n',
            'max_request_bytes = "10485760" is not allowed; allowed: a whole number of at least 1 (without quotes)',
        ),
        ('outbox_timeout_s = "10"\n', 'outbox_timeout_s = "10" is not allowed; allowed: a number above 0'),
        # TOML has inf: as a read deadline every socket timeout overflows and every POST got 400.
        ("request_read_timeout_s = inf\n", "request_read_timeout_s = inf is not allowed; allowed: a number"),
        # Finite, but past what a timedelta holds: the outbox worker crashed at its first retry.
        ("outbox_max_wait_s = 1e300\n", "outbox_max_wait_s = 1e+300 is not allowed; allowed: a number"),
        ("tls_required = 1\n", "tls_required = 1 is not allowed; allowed: true or false"),
        ("crl_grace_s = -1\n", "crl_grace_s = -1 is not allowed; allowed: a whole number of at least 0"),
        ('profile = "2W-be-s"\n', 'profile = "2W-be-s" is not allowed; allowed: "2W-be-S" or "2W-be"'),
        (
            'profiles = { vo = "2W-be", portaal = "2W-be" }\n',
            'profiles = { vo = "2W-be", portaal = "2W-be" } is not allowed ("portaal" is not "vo" or "mbo"',
        ),
        ('broker_oins = ["1234"]\n', 'broker_oins = ["1234"] is not allowed ("1234" is not an OIN'),
        ("broker_oins = []\n", "broker_oins = [] is not allowed; allowed: a non-empty list, each an OIN"),
        ('trusted_proxies = ["localhost"]\n', 'trusted_proxies = ["localhost"] is not allowed'),
        (
            '[deadline_overrides]\n2020 = "1 mei"\n',
            'deadline_overrides = { 2020 = "1 mei" } is not allowed',
        ),
        # A date, but outside its own cycle: was a Dutch traceback at the first command that needed a cycle.
        (
            '[deadline_overrides]\n2027 = "2026-05-01"\n',
            "deadline_overrides is not allowed: the deadline of cycle 2027 must lie in 2027, not 2026-05-01",
        ),
        (
            '[deadline_overrides]\n2027 = "2027-10-02"\n',
            "deadline_overrides is not allowed: the deadline of cycle 2027 must lie within that cycle, not 2027-10-02",
        ),
    ],
    ids=[
        "environment-misspelt",
        "boolean-as-text",
        "integer-as-text",
        "number-as-text",
        "number-infinite",
        "number-beyond-a-timedelta",
        "boolean-as-number",
        "negative-grace",
        "profile-case",
        "profile-of-unknown-service",
        "invalid-oin",
        "no-oin",
        "proxy-host-name",
        "deadline-not-a-date",
        "deadline-outside-its-year",
        "deadline-outside-its-cycle",
    ],
)
def test_a_wrong_setting_stops_vva_with_file_key_value_and_what_is_allowed(tmp_path, inhoud, melding):
    config, result = _vva(tmp_path, inhoud)

    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {config}: {melding}"), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "vva.sqlite3").exists()  # refused before anything was done


def test_a_file_that_must_exist_and_is_missing_is_named(tmp_path):
    missing = tmp_path / "pki" / "broker.key.pem"

    config, result = _vva(tmp_path, f'signing_key = "{missing}"\n')

    assert result.exit_code == 1
    assert result.output.startswith(
        f'Error: {config}: signing_key = "{missing}" is not allowed (no such file: {missing}); '
        "allowed: the path of an existing file"
    ), result.output


def test_a_toml_syntax_error_names_the_file(tmp_path):
    config, result = _vva(tmp_path, "environment = production\n")

    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {config}: not valid TOML: Invalid value (at line 2"), (
        result.output
    )


def test_a_settings_file_that_is_not_utf8_names_the_file(tmp_path):
    # An editor on Windows saved the file as windows-1252 ("é" is one byte 0xE9): one line, no traceback.
    config = tmp_path / "vva.toml"
    config.write_bytes('# Beheer: Ren\u00e9\nenvironment = "test"\n'.encode("cp1252"))
    result = CliRunner().invoke(main, ["--config", str(config), "outbox", "list"])

    assert result.exit_code == 1
    assert result.output == f"Error: {config}: not valid TOML: the file is not UTF-8\n"


def test_a_missing_settings_file_without_traceback(tmp_path):
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nee.toml"), "outbox", "list"])

    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nee.toml'}: settings file not found\n"


def test_a_password_in_a_wrong_database_url_is_not_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("VVA_DATABASE_URL", "mysql://vva:geheim@db/vva")

    _, result = _vva(tmp_path, "")

    assert result.exit_code == 1
    assert "geheim" not in result.output
    assert (
        'environment variable VVA_DATABASE_URL: database_url = "mysql://***@db/vva" is not allowed'
        in result.output
    )


def test_fault_injection_in_production_stays_refused_with_the_file(tmp_path):
    config, result = _vva(tmp_path, 'environment = "production"\nconformance_fault_injection = true\n')

    assert result.exit_code == 1
    assert result.output.startswith(
        f"Error: {config}: conformance_fault_injection = true is for test environments only"
    )


def test_good_settings_load_with_toml_types(tmp_path):
    from broker.config import load_settings

    config, result = _vva(
        tmp_path,
        'environment = "test"\nconformance_fault_injection = true\ntls_required = false\noutbox_base_s = 1\n'
        f'key_file = "{tmp_path / "keys.json"}"\ntrusted_proxies = ["127.0.0.1", "::1"]\n'
        "[deadline_overrides]\n2020 = 2020-05-01\n",
        "init",
        "--no-demo",
    )

    assert result.exit_code == 0, result.output
    settings = load_settings(config)
    assert (settings.conformance_fault_injection, settings.tls_required) == (True, False)
    assert settings.outbox_base_s == 1.0 and isinstance(settings.outbox_base_s, float)
    assert settings.deadline_overrides == {2020: "2020-05-01"}


def test_a_settings_file_of_before_the_rename_still_loads_and_names_the_new_keys(tmp_path, caplog):
    """The Java peer's runner (../shared/tools/peer-wss4j/run.sh) and any operator's file written before
    issue 19 use the Dutch keys: they load as the English ones, with a warning naming both."""
    from broker.config import load_settings

    config = tmp_path / "vva.toml"
    config.write_text(
        f'pki_map = "{tmp_path / "pki"}"\ntls_vereist = false\noutbox_basis_s = 2\n', encoding="utf-8"
    )

    with caplog.at_level("WARNING", logger="broker.config"):
        settings = load_settings(config, files_must_exist=False)

    assert (settings.pki_dir, settings.tls_required, settings.outbox_base_s) == (tmp_path / "pki", False, 2.0)
    assert sorted(r.getMessage() for r in caplog.records) == [
        f"{config}: setting outbox_basis_s is now called outbox_base_s; the old name is still read, please rename it",
        f"{config}: setting pki_map is now called pki_dir; the old name is still read, please rename it",
        f"{config}: setting tls_vereist is now called tls_required; the old name is still read, please rename it",
    ]


def test_a_setting_given_under_its_old_and_its_new_name_is_refused(tmp_path):
    config, result = _vva(tmp_path, "tls_vereist = false\ntls_required = true\n")

    assert result.exit_code == 1
    assert result.output == (
        f"Error: {config}: tls_vereist and tls_required are the same setting (renamed to tls_required); "
        "keep only tls_required\n"
    )


def test_a_demo_installation_of_before_the_rename_keeps_its_key_file(tmp_path, monkeypatch, caplog):
    """``vva init`` used to write the default key file as var/sleutels.json. A new key file would leave
    every pupil number that installation encrypted unreadable, so the old file is used while it is the
    only one, with a warning; once var/keys.json exists, that one."""
    from pathlib import Path

    from broker.config import load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VVA_CONFIG", raising=False)
    monkeypatch.delenv("VVA_KEY_FILE", raising=False)
    (tmp_path / "var").mkdir()
    assert load_settings().key_file == Path("var/keys.json")  # a new installation: the new name

    (tmp_path / "var" / "sleutels.json").write_text("{}")
    with caplog.at_level("WARNING", logger="broker.config"):
        assert load_settings().key_file == Path("var/sleutels.json")
    assert [r.getMessage() for r in caplog.records] == [
        "key file var/sleutels.json is now called var/keys.json; the old file is still read, please rename it"
    ]

    (tmp_path / "var" / "keys.json").write_text("{}")
    assert load_settings().key_file == Path("var/keys.json")
