"""A client settings file written before issue 19 renamed its keys still loads, with a warning that
names the old and the new key; a file that gives one key under both names is refused."""

from __future__ import annotations

import logging
import re

import pytest

from broker.client.renamed_settings import RENAMED_CLIENT_SETTINGS
from broker.client.settings import ClientSettings, ClientSettingsError, read_client_settings

SCHOOL = "0000000700099XA00000"
#: A settings file as partners wrote it before the rename (the old Dutch keys).
OLD_FILE = (
    'endpoint = "http://127.0.0.1:8080"\n'
    f'oin = "{SCHOOL}"\n'
    'dienst = "vo"\n'
    f'sleutel = "pki/{SCHOOL}.key.pem"\n'
    f'certificaat = "pki/{SCHOOL}.cert.pem"\n'
    'ca = "pki/ca/root.pem"\n'
)


def test_every_renamed_key_is_a_key_of_the_client_settings():
    assert set(RENAMED_CLIENT_SETTINGS.values()) <= set(ClientSettings.__dataclass_fields__)
    assert not set(RENAMED_CLIENT_SETTINGS) & set(ClientSettings.__dataclass_fields__)


def test_a_file_with_the_old_keys_loads_with_a_warning_naming_both(folder, caplog):
    path = folder / "vva-client.toml"
    path.write_text(OLD_FILE)

    with caplog.at_level(logging.WARNING, logger="broker.client.settings"):
        settings = read_client_settings(path)

    assert settings.key == folder / "pki" / f"{SCHOOL}.key.pem"
    assert settings.certificate == folder / "pki" / f"{SCHOOL}.cert.pem"
    assert settings.service == "vo"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    for old, new in RENAMED_CLIENT_SETTINGS.items():
        named = [w for w in warnings if f"key {old} is now called {new}" in w and str(path) in w]
        assert len(named) == 1, (old, warnings)


def test_an_old_key_is_checked_like_its_new_name(folder):
    path = folder / "vva-client.toml"
    path.write_text(OLD_FILE.replace('dienst = "vo"', 'dienst = "portal"'))

    with pytest.raises(ClientSettingsError, match=re.escape('service = "portal" is not allowed')):
        read_client_settings(path)


def test_a_file_giving_a_key_under_both_names_is_refused(folder):
    path = folder / "vva-client.toml"
    path.write_text(OLD_FILE + f'key = "pki/{SCHOOL}.key.pem"\n')

    with pytest.raises(ClientSettingsError) as refused:
        read_client_settings(path)

    assert str(refused.value) == f"{path}: sleutel and key are the same key (renamed to key); keep only key"
