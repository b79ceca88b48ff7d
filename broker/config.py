"""Settings of one broker installation.

Read once at start-up from a TOML file (``VVA_CONFIG``, default ``./vva.toml`` when it exists)
with environment overrides (``VVA_DATABASE_URL``, ``VVA_KEY_FILE``). Nothing here is read
per request.

Every setting is checked when it is loaded, by type and by value: a misspelt ``environment`` would
otherwise turn every production guard off, and a string ``"no"`` would count as true. A bad setting
stops the start with one line naming the file, the key, the bad value and what is allowed
(``SettingsError``). Each field of ``Settings`` declares its check next to its default::

    outbox_timeout_s: float = setting(10.0, number(above=0))

so adding a validated setting is that one line (the checks are the small functions below).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from broker.domain.cycle import Calendar
from broker.domain.identifiers import is_valid_oin
from broker.errors import BrokerError
from broker.renamed_settings import RENAMED_SETTINGS
from broker.toml_file import TomlFileError, read_toml

log = logging.getLogger(__name__)

#: The broker's OIN in the test environment (test prefix 00000099; docs/rules.md, OIN syntax).
TEST_BROKER_OIN = "00000099000000000001"

DEFAULT_DATA_DIR = Path("var")
#: Where the default key file was before it was renamed to ``var/keys.json`` (issue 19): an
#: installation made then still has its keys there, and a new key file would leave every pupil number
#: it encrypted unreadable.
OLD_DEFAULT_KEY_FILE = DEFAULT_DATA_DIR / "sleutels.json"

ENVIRONMENTS = ("test", "production")
PROFILES = ("2W-be-S", "2W-be")
#: The services a profile can be set for: the broker's four and the reference receiver's.
SERVICES = ("vo", "mbo", "gemeente", "regio", "ontvanger")


#: False only while checking a file meant for another machine (``load_settings(files_must_exist=False)``).
_FILES_MUST_EXIST: ContextVar[bool] = ContextVar("files_must_exist", default=True)


class SettingsError(BrokerError, ValueError):
    """A settings file or setting that cannot be used; the text says which file and key, and why."""


# --- checks ---------------------------------------------------------------------------------------
#
# A check turns the value as TOML gives it into the value ``Settings`` holds, or raises ``ValueError``
# (the value does not fit: the message says what is allowed) — never a silent coercion.


@dataclass(frozen=True)
class Check:
    """What is allowed (for the operator's message) and how a TOML value becomes a setting."""

    allowed: str
    convert: Callable[[Any], Any]

    def __call__(self, value: Any) -> Any:
        return self.convert(value)


def _require(condition: bool, detail: str = "") -> None:
    """Raise ``ValueError(detail)`` unless ``condition``; the detail ends up in the operator's message."""
    if not condition:
        raise ValueError(detail)


def text(pattern: str | None = None, allowed: str = "a string") -> Check:
    def convert(value: Any) -> str:
        _require(isinstance(value, str) and value != "" and (pattern is None or re.fullmatch(pattern, value)))
        return value

    return Check(allowed, convert)


def one_of(*values: str) -> Check:
    def convert(value: Any) -> str:
        _require(isinstance(value, str) and value in values)
        return value

    return Check(" or ".join(json.dumps(v) for v in values), convert)


def boolean() -> Check:
    def convert(value: Any) -> bool:
        _require(isinstance(value, bool))  # TOML true/false only: "no" or 0 is not a boolean
        return value

    return Check("true or false (TOML booleans, without quotes)", convert)


def integer(minimum: int) -> Check:
    def convert(value: Any) -> int:
        _require(isinstance(value, int) and not isinstance(value, bool) and value >= minimum)
        return value

    return Check(f"a whole number of at least {minimum} (without quotes)", convert)


#: The largest number of seconds a duration setting takes (about 31 years): anything larger, or TOML's
#: ``inf``, overflows a socket timeout, an interval timer or a ``timedelta`` where it is used.
MAX_SECONDS = 1e9


def number(above: float | None = None, minimum: float | None = None) -> Check:
    def convert(value: Any) -> float:
        _require(isinstance(value, int | float) and not isinstance(value, bool) and value == value)
        _require((above is None or value > above) and (minimum is None or value >= minimum))
        _require(value <= MAX_SECONDS)
        return float(value)

    limit = f"above {above:g}" if above is not None else f"of at least {minimum:g}"
    return Check(f"a number {limit} and at most {MAX_SECONDS:g} (seconds, without quotes)", convert)


def path(must_exist: bool = False) -> Check:
    def convert(value: Any) -> Path:
        _require(isinstance(value, str) and value != "")
        path = Path(value).expanduser()
        _require(not must_exist or not _FILES_MUST_EXIST.get() or path.is_file(), f"no such file: {path}")
        return path

    return Check("the path of an existing file" if must_exist else "a path", convert)


def list_of(element: Check, non_empty: bool = False) -> Check:
    def convert(value: Any) -> tuple:
        _require(isinstance(value, list) and (value or not non_empty))
        return tuple(_element(element, v) for v in value)

    return Check(f"a{' non-empty' if non_empty else ''} list, each {element.allowed}", convert)


def table(key: Check, value: Check) -> Check:
    def convert(raw: Any) -> dict:
        _require(isinstance(raw, dict))
        return {_element(key, k): _element(value, v) for k, v in raw.items()}

    return Check(f"a table of {key.allowed} = {value.allowed}", convert)


def _element(check: Check, value: Any) -> Any:
    """One element of a list or table, so the message can say which one is wrong."""
    try:
        return check(value)
    except (ValueError, TypeError) as error:
        raise ValueError(str(error) or f"{_toml(value)} is not {check.allowed}") from None


def _oin(value: Any) -> str:
    _require(is_valid_oin(value))
    return value


def _ip_address(value: Any) -> str:
    _require(isinstance(value, str))
    ipaddress.ip_address(value)  # compared with REMOTE_ADDR: a host name would never match
    return value


def _year(value: Any) -> int:
    _require(isinstance(value, str) and re.fullmatch(r"[0-9]{4}", value) is not None)
    return int(value)


def _date(value: Any) -> str:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value.isoformat()
    _require(isinstance(value, str))
    return date.fromisoformat(value).isoformat()


def _database_url(value: Any) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    _require(isinstance(value, str))
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError from None
    _require(url.get_backend_name() in ("sqlite", "postgresql"))
    return value


OIN = Check("an OIN (20 digits or capitals)", _oin)
IP_ADDRESS = Check("an IP address", _ip_address)
DATABASE_URL = Check("an SQLAlchemy URL: sqlite:///… or postgresql+psycopg://…", _database_url)
DEADLINES = table(Check("a year", _year), Check("a date (2020-05-01)", _date))


def setting(default: Any = None, check: Check | None = None, *, factory: Callable[[], Any] | None = None):
    """A field of ``Settings`` with its load-time check (``None``: the field cannot be set in a file)."""
    extra = {"metadata": {"check": check}}
    return field(default_factory=factory, **extra) if factory else field(default=default, **extra)


@dataclass(frozen=True)
class Settings:
    """One installation's settings.

    ``database_url`` is an SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``);
    ``broker_oins`` are the OINs the broker answers for in wsa:To (Edukoppeling A3);
    ``environment`` is ``test`` or ``production`` (test OINs are refused in production);
    ``key_file`` holds the keys that pseudonymise and encrypt pupil numbers;
    ``max_request_bytes`` caps a request body (H92);
    ``request_read_timeout_s`` and ``request_min_bytes_per_s`` bound how long a client may take to send
    one request, and how slowly (H92; ``broker.web.worker``, ``broker.web.http.read_body``), and
    ``request_buffer_budget_bytes`` how much of all requests still arriving a web worker holds;
    ``deadline_overrides`` maps a cycle year to a deadline other than 1 April.
    """

    database_url: str = setting(f"sqlite:///{DEFAULT_DATA_DIR / 'vva.sqlite3'}", DATABASE_URL)
    broker_oins: tuple[str, ...] = setting((TEST_BROKER_OIN,), list_of(OIN, non_empty=True))
    environment: str = setting("test", one_of(*ENVIRONMENTS))
    key_file: Path = setting(DEFAULT_DATA_DIR / "keys.json", path())  # made by ``vva init``
    max_request_bytes: int = setting(10 * 1024 * 1024, integer(minimum=1))
    #: Reading one request may take this long in all (HTTP 408 after it; H92, slow clients) …
    request_read_timeout_s: float = setting(30.0, number(above=0))
    #: … and, from a second after its first byte, may not arrive slower than this (0 = no minimum).
    request_min_bytes_per_s: int = setting(1024, integer(minimum=0))
    #: All requests a web worker is still receiving may hold at most this many bytes together; a
    #: request whose bytes would go beyond it gets HTTP 503 (H92: stalled uploads cannot fill memory).
    request_buffer_budget_bytes: int = setting(64 * 1024 * 1024, integer(minimum=1))
    max_batch_records: int = setting(5000, integer(minimum=1))
    deadline_overrides: dict[int, str] = setting(check=DEADLINES, factory=lambda: {2020: "2020-05-01"})

    # --- Edukoppeling security (the T, S and O rules of docs/rules.md) ------------------------------------
    #: Profile of every service: "2W-be-S" (signed, the standard) or "2W-be" (tests, legacy), with
    #: per-service overrides, e.g. {"vo": "2W-be"} (WUS WB011: one profile per service).
    profile: str = setting("2W-be-S", one_of(*PROFILES))
    profiles: dict[str, str] = setting(check=table(one_of(*SERVICES), one_of(*PROFILES)), factory=dict)
    #: Folder of the demo PKI made by ``vva init`` / ``vva pki demo``; the defaults below point into it.
    pki_dir: Path = setting(DEFAULT_DATA_DIR / "pki", path())
    #: Trust anchors and intermediates (PEM) and CRLs (PEM/DER); empty = the demo PKI's.
    trust_ca: tuple[Path, ...] = setting((), list_of(path(must_exist=True)))
    trust_crl: tuple[Path, ...] = setting((), list_of(path(must_exist=True)))
    crl_grace_s: int = setting(0, integer(minimum=0))
    #: The broker's signing key and certificate (PEM); empty = the demo PKI's broker certificate.
    signing_key: Path | None = setting(None, path(must_exist=True))
    signing_certificate: Path | None = setting(None, path(must_exist=True))
    timestamp_max_age_s: int = setting(300, integer(minimum=1))
    timestamp_future_s: int = setting(60, integer(minimum=0))
    #: How long MessageIDs are remembered for idempotent redelivery (O5; > age + skew).
    idempotency_days: int = setting(7, integer(minimum=1))
    #: Two-way TLS terminated by ``vva serve`` itself (T8): server key/cert and the CA file that
    #: client certificates must chain to. Empty = plain HTTP (behind a terminating proxy, or demo).
    tls_key: Path | None = setting(None, path(must_exist=True))
    tls_certificate: Path | None = setting(None, path(must_exist=True))
    tls_client_ca: Path | None = setting(None, path(must_exist=True))
    #: Addresses of proxies that terminate TLS and pass the verified client certificate in the
    #: ``X-Client-Cert`` header (URL-encoded PEM, nginx $ssl_client_escaped_cert); from anyone else
    #: the header is ignored (T11).
    trusted_proxies: tuple[str, ...] = setting((), list_of(IP_ADDRESS))
    #: Require a TLS client certificate on every request (EK0030 without one). Default: in production.
    tls_required: bool | None = setting(None, boolean())

    # --- signals (``vva signals run``) ------------------------------------------------------------
    #: Days before the deadline from which parties that exchanged nothing yet are signalled.
    signaal_lead_days: int = setting(14, integer(minimum=0))

    # --- pushes (outbox) and the reference receiver ------------------------------------------------
    #: A push that keeps failing is retried for this long from its first attempt, then dead-lettered:
    #: a receiver down over a long weekend still gets every push.
    outbox_retry_window_s: float = setting(72 * 3600.0, number(above=0))
    #: Dead-letter after this many attempts as well; 0 = no limit (the window decides).
    outbox_max_attempts: int = setting(0, integer(minimum=0))
    #: First retry after about this long, then doubling, with jitter, up to ``outbox_max_wait_s``.
    outbox_base_s: float = setting(2.0, number(above=0))
    outbox_max_wait_s: float = setting(3600.0, number(above=0))
    outbox_timeout_s: float = setting(10.0, number(above=0))
    #: A claimed message is free again after this (a crashed worker).
    outbox_claim_s: float = setting(120.0, number(above=0))
    #: GET /health warns (for monitoring, still HTTP 200) when a push has waited longer than this.
    health_outbox_max_s: float = setting(900.0, number(above=0))
    #: For ``vva receiver serve``: the OINs whose pushes a receiver accepts (the broker's).
    receiver_senders: tuple[str, ...] = setting((TEST_BROKER_OIN,), list_of(OIN))

    # --- the conformance kit ----------------------------------------------------------------------
    #: Deliberate failures on request (``broker.web.fault_injection``): a ``ping`` whose echo is
    #: ``vva-storing:DK0050``, ``…DK0051`` or ``…DK0008`` gets that fault, so a partner sees how its
    #: client handles them. Test environments only: refused with ``environment = "production"``.
    conformance_fault_injection: bool = setting(False, boolean())

    def __post_init__(self) -> None:
        # Also for settings built in code: a misspelt environment must never mean "not production".
        if self.environment not in ENVIRONMENTS:
            raise SettingsError(
                f"environment = {_toml(self.environment)} is not allowed; allowed: {one_of(*ENVIRONMENTS).allowed}"
            )
        if self.production and self.conformance_fault_injection:
            raise SettingsError(
                "conformance_fault_injection = true is for test environments only: "
                'refusing it with environment = "production"'
            )
        if (self.tls_key is None) != (self.tls_certificate is None):
            raise SettingsError("tls_key and tls_certificate go together: set both or neither")
        try:
            self.calendar()
        except ValueError as error:
            # Found at start-up, not at the first request that needs a cycle (as a traceback).
            raise SettingsError(f"deadline_overrides is not allowed: {error}") from None

    def calendar(self) -> Calendar:
        """The cycle calendar: 1 April, except the years ``deadline_overrides`` names."""
        overrides = {jaar: date.fromisoformat(d) for jaar, d in self.deadline_overrides.items()}
        return Calendar(overrides=overrides)

    @property
    def production(self) -> bool:
        """True with ``environment = "production"``: every production guard hangs on this one test."""
        return self.environment == "production"

    @property
    def broker_oin(self) -> str:
        """The OIN the broker signs and answers with (the first configured one)."""
        return self.broker_oins[0]

    def profile_of(self, dienst: str) -> str:
        """The security profile of service ``dienst`` (vo, mbo, gemeente, regio)."""
        return self.profiles.get(dienst, self.profile)

    @property
    def client_certificate_required(self) -> bool:
        return self.production if self.tls_required is None else self.tls_required

    @property
    def ca_files(self) -> tuple[Path, ...]:
        return self.trust_ca or (self.pki_dir / "ca" / "root.pem", self.pki_dir / "ca" / "issuing.pem")

    @property
    def crl_files(self) -> tuple[Path, ...]:
        return self.trust_crl or (
            self.pki_dir / "ca" / "root.crl.pem",
            self.pki_dir / "ca" / "issuing.crl.pem",
        )

    @property
    def broker_key(self) -> Path:
        return self.signing_key or self.pki_dir / f"{self.broker_oin}.key.pem"

    @property
    def broker_certificate(self) -> Path:
        return self.signing_certificate or self.pki_dir / f"{self.broker_oin}.cert.pem"


#: The environment variables that override a setting from the file.
ENVIRONMENT_OVERRIDES = {"VVA_DATABASE_URL": "database_url", "VVA_KEY_FILE": "key_file"}


def load_settings(path: str | os.PathLike[str] | None = None, *, files_must_exist: bool = True) -> Settings:
    """Build the settings from ``path`` (or ``VVA_CONFIG``, or ``./vva.toml``) and the environment.

    Raises ``SettingsError`` (a ``ValueError``) when an explicitly named file is missing or
    unreadable, on a TOML syntax error, an unknown key, a value of the wrong type or outside what is
    allowed, a file that must exist and does not, or a combination that is not allowed (such as
    ``conformance_fault_injection`` in production) — so a typo in an operator's file never passes silently.
    ``files_must_exist=False`` checks everything but the existence of key, certificate and CRL files
    (a file written for another machine, such as deploy/vva.toml.example).
    """
    explicit = path or os.environ.get("VVA_CONFIG")
    file = Path(explicit) if explicit else Path("vva.toml")
    token = _FILES_MUST_EXIST.set(files_must_exist)
    try:
        values = _read_file(file) if explicit or file.exists() else {}
        for variable, key in ENVIRONMENT_OVERRIDES.items():
            if variable in os.environ:
                values[key] = _checked(key, os.environ[variable], f"environment variable {variable}")
    finally:
        _FILES_MUST_EXIST.reset(token)
    if "key_file" not in values:
        values["key_file"] = _default_key_file()
    try:
        return Settings(**values)
    except SettingsError as error:
        raise SettingsError(f"{file}: {error}") from None


def _default_key_file() -> Path:
    """``var/keys.json``, or the key file of before its rename when only that one exists (logged)."""
    new = Settings.__dataclass_fields__["key_file"].default
    if not new.exists() and OLD_DEFAULT_KEY_FILE.exists():
        log.warning(
            "key file %s is now called %s; the old file is still read, please rename it",
            OLD_DEFAULT_KEY_FILE,
            new,
        )
        return OLD_DEFAULT_KEY_FILE
    return new


def _read_file(file: Path) -> dict[str, Any]:
    try:
        raw = read_toml(file)
    except TomlFileError as error:
        raise SettingsError(str(error).replace("file not found", "settings file not found")) from None
    raw = with_renamed_keys(raw, RENAMED_SETTINGS, file)
    unknown = set(raw) - set(_CHECKS)
    if unknown:
        raise SettingsError(f"{file}: unknown setting(s): {', '.join(sorted(unknown))}")
    return {key: _checked(key, value, str(file)) for key, value in raw.items()}


def with_renamed_keys(
    raw: dict[str, Any],
    renamed: dict[str, str],
    file: Path,
    noun: str = "setting",
    logger: logging.Logger = log,
) -> dict[str, Any]:
    """``raw`` with every key of before a rename (``renamed``: old name → new name) under its new name,
    each one logged on ``logger`` as a warning that names both; a file giving one ``noun`` under both
    names is refused with ``SettingsError``, because which one wins would be a guess. The broker's
    settings and the client's settings file (``broker.client.settings``) both read old files this way."""
    result = dict(raw)
    for old in sorted(set(raw) & set(renamed)):
        new = renamed[old]
        if new in raw:
            raise SettingsError(
                f"{file}: {old} and {new} are the same {noun} (renamed to {new}); keep only {new}"
            )
        logger.warning(
            "%s: %s %s is now called %s; the old name is still read, please rename it", file, noun, old, new
        )
        result[new] = result.pop(old)
    return result


_CHECKS: dict[str, Check] = {f.name: f.metadata["check"] for f in fields(Settings) if f.metadata.get("check")}


def _checked(key: str, value: Any, source: str) -> Any:
    return checked(key, value, _CHECKS[key], source)


def checked(key: str, value: Any, check: Check, source: str) -> Any:
    """``check(value)``, or ``SettingsError`` naming ``source`` (the file), the key, the value and what
    is allowed."""
    try:
        return check(value)
    except (ValueError, TypeError) as error:
        shown = _without_password(_toml(value)) if key == "database_url" else _toml(value)
        detail = f" ({error})" if str(error) and isinstance(error, ValueError) else ""
        raise SettingsError(
            f"{source}: {key} = {shown} is not allowed{detail}; allowed: {check.allowed}"
        ) from None


def _toml(value: Any) -> str:
    """The value as it would be written in TOML (strings quoted, so "no" and no differ), shortened."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_toml(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    else:
        text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _without_password(text: str) -> str:
    """A database URL may hold a password: never print what lies between :// and @."""
    return re.sub(r"://[^@/]*@", "://***@", text)
