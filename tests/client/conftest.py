"""The folder of a client settings file, with the key, certificate and CA files it names."""

from __future__ import annotations

import pytest

#: The demo school whose files the settings name (``pki/<OIN>.key.pem``); the tests use the same OIN.
SCHOOL = "0000000700099XA00000"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "pki" / "ca").mkdir(parents=True)
    for name in (f"{SCHOOL}.key.pem", f"{SCHOOL}.cert.pem", "ca/root.pem"):
        (tmp_path / "pki" / name).write_text("-")
    return tmp_path
