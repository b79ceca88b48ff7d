"""In production the broker refuses to start unless every service is signed and TLS client
certificates are required: anything less would let anyone claim any OIN in wsa:From."""

from __future__ import annotations

import pytest

from broker.bootstrap import Omgeving
from broker.config import Settings
from broker.web.app import Broker
from broker.web.startcontrole import StartGeweigerd


@pytest.mark.parametrize(
    "instellingen",
    [
        {"profielen": {"vo": "2W-be"}},
        {"profiel": "2W-be"},
        {"tls_vereist": False},
    ],
    ids=["een-dienst-onondertekend", "alles-onondertekend", "zonder-clientcertificaat"],
)
def test_weigert_onveilige_productie(tmp_path, instellingen):
    settings = Settings(
        environment="production", database_url=f"sqlite:///{tmp_path / 'x.db'}", **instellingen
    )
    with pytest.raises(StartGeweigerd, match="refusing to serve in production"):
        Broker(Omgeving(settings))
