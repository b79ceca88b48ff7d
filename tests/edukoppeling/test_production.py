"""In production the broker refuses to start unless every service is signed and TLS client
certificates are required: anything less would let anyone claim any OIN in wsa:From."""

from __future__ import annotations

import pytest

from broker.bootstrap import Runtime
from broker.config import Settings
from broker.web.app import Broker
from broker.web.startup_checks import StartRefused


@pytest.mark.parametrize(
    "overrides",
    [
        {"profiles": {"vo": "2W-be"}},
        {"profile": "2W-be"},
        {"tls_required": False},
    ],
    ids=["een-dienst-onondertekend", "alles-onondertekend", "zonder-clientcertificaat"],
)
def test_refuses_an_unsafe_production(tmp_path, overrides):
    settings = Settings(environment="production", database_url=f"sqlite:///{tmp_path / 'x.db'}", **overrides)
    with pytest.raises(StartRefused, match="refusing to serve in production"):
        Broker(Runtime(settings))
