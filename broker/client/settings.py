"""The client's settings file (TOML): where the broker is and who the client speaks for.

::

    endpoint = "http://127.0.0.1:8080"        # the broker's base URL (https in production)
    oin = "0000000700099XA00000"              # your own OIN: wsa:From of every message
    service = "vo"                            # vo | mbo | gemeente | regio: your service
    key = "var/pki/0000000700099XA00000.key.pem"            # your signing key (PEM)
    certificate = "var/pki/0000000700099XA00000.cert.pem"   # its certificate (PKIoverheid, PEM)
    ca = ["var/pki/ca/root.pem", "var/pki/ca/issuing.pem"]  # trust anchors for the broker's answers
    crl = ["var/pki/ca/root.crl.pem", "var/pki/ca/issuing.crl.pem"]  # optional
    broker_oin = "00000099000000000001"       # optional; default: the test broker
    tls_ca = "/etc/ssl/certs/ca.pem"          # optional: the CA of the broker's TLS certificate
    timeout_s = 300                           # optional: how long to wait for an answer

Relative paths are relative to the folder of the settings file. A file written before issue 19 with
the old Dutch keys still loads (``broker/client/renamed_settings.py``): each old key is read as its
new name and logged as a warning naming both; a file that gives one key under both names is refused.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from broker.client.renamed_settings import RENAMED_CLIENT_SETTINGS
from broker.config import (
    OIN,
    TEST_BROKER_OIN,
    SettingsError,
    checked,
    number,
    one_of,
    text,
    with_renamed_keys,
)
from broker.errors import BrokerError
from broker.toml_file import TomlFileError, read_toml

#: Where ``vva client`` looks without ``--config`` or ``VVA_CLIENT_CONFIG``.
DEFAULT_FILE = Path("vva-client.toml")
SERVICES = ("vo", "mbo", "gemeente", "regio")

log = logging.getLogger(__name__)


class ClientSettingsError(BrokerError, ValueError):
    """The settings file is missing, unreadable or incomplete; the text says which key to fix."""


@dataclass(frozen=True)
class ClientSettings:
    endpoint: str
    oin: str
    key: Path
    certificate: Path
    ca: tuple[Path, ...]
    crl: tuple[Path, ...] = ()
    service: str | None = None
    broker_oin: str = TEST_BROKER_OIN
    tls_ca: Path | None = None
    timeout_s: float = 300.0


_REQUIRED = ("endpoint", "oin", "key", "certificate", "ca")
#: The checks of the keys that are not files (files are checked below, relative to the settings file).
_CHECKS = {
    "endpoint": text(r"https?://\S+", "an http:// or https:// URL"),
    "oin": OIN,
    "broker_oin": OIN,
    "service": one_of(*SERVICES),
    "timeout_s": number(above=0),
}


def read_client_settings(path: str | os.PathLike[str] | None = None) -> ClientSettings:
    """The settings in ``path`` (default ``./vva-client.toml``).

    Raises ``ClientSettingsError`` for a missing file, invalid TOML, an unknown or missing key, a value
    of the wrong type or outside what is allowed (an OIN, a service, a number given as text), or a
    key/certificate/CA file that does not exist; the text names the file, the key and the value.
    """
    file = Path(path) if path else DEFAULT_FILE
    try:
        raw = read_toml(file)
    except TomlFileError as error:
        if error.missing:
            raise ClientSettingsError(f"{file}: settings file not found (see docs/client.md)") from None
        raise ClientSettingsError(str(error)) from None
    try:
        raw = with_renamed_keys(raw, RENAMED_CLIENT_SETTINGS, file, noun="key", logger=log)
    except SettingsError as error:
        raise ClientSettingsError(str(error)) from None
    unknown = set(raw) - set(ClientSettings.__dataclass_fields__)
    if unknown:
        raise ClientSettingsError(f"{file}: unknown key(s): {', '.join(sorted(unknown))}")
    missing = [k for k in _REQUIRED if not raw.get(k)]
    if missing:
        raise ClientSettingsError(f"{file}: missing key(s): {', '.join(missing)}")
    try:
        checked_values = {k: checked(k, v, _CHECKS[k], str(file)) for k, v in raw.items() if k in _CHECKS}
    except SettingsError as error:
        raise ClientSettingsError(str(error)) from None
    folder = file.parent

    def path_of(value, key: str) -> Path:
        if not isinstance(value, str) or not value:
            raise ClientSettingsError(f"{file}: {key} = {value!r} is not allowed; allowed: a path")
        path = folder / Path(value).expanduser()
        if not path.is_file():
            raise ClientSettingsError(f"{file}: {key}: file not found: {path}")
        return path

    def list_(value, key: str) -> tuple[Path, ...]:
        if not isinstance(value, str | list):
            raise ClientSettingsError(
                f"{file}: {key} = {value!r} is not allowed; allowed: a path or a list of paths"
            )
        return tuple(path_of(w, key) for w in ([value] if isinstance(value, str) else value))

    return ClientSettings(
        endpoint=checked_values["endpoint"].rstrip("/"),
        oin=checked_values["oin"],
        key=path_of(raw["key"], "key"),
        certificate=path_of(raw["certificate"], "certificate"),
        ca=list_(raw["ca"], "ca"),
        crl=list_(raw.get("crl", []), "crl"),
        service=checked_values.get("service"),
        broker_oin=checked_values.get("broker_oin", TEST_BROKER_OIN),
        tls_ca=path_of(raw["tls_ca"], "tls_ca") if raw.get("tls_ca") else None,
        timeout_s=checked_values.get("timeout_s", 300.0),
    )
