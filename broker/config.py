"""Settings of one broker installation.

Read once at start-up from a TOML file (``VVA_CONFIG``, default ``./vva.toml`` when it exists)
with environment overrides (``VVA_DATABASE_URL``, ``VVA_KEY_FILE``). Nothing here is read
per request.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

#: The broker's OIN in the test environment (test prefix 00000099, edukoppeling.md §0).
TEST_BROKER_OIN = "00000099000000000001"

DEFAULT_DATA_DIR = Path("var")


@dataclass(frozen=True)
class Settings:
    """One installation's settings.

    ``database_url`` is an SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``);
    ``broker_oins`` are the OINs the broker answers for in wsa:To (Edukoppeling A3);
    ``environment`` is ``test`` or ``production`` (test OINs are refused in production);
    ``key_file`` holds the keys that pseudonymise and encrypt pupil numbers;
    ``max_request_bytes`` caps a request body (hostile-inputs.md, "Request body");
    ``request_read_timeout_s`` and ``request_min_bytes_per_s`` bound how long a client may take to send
    one request, and how slowly (H92; ``broker.web.worker``, ``broker.web.http.lees_body``);
    ``deadline_afwijkingen`` maps a cycle year to a deadline other than 1 April.
    """

    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'vva.sqlite3'}"
    broker_oins: tuple[str, ...] = (TEST_BROKER_OIN,)
    environment: str = "test"
    key_file: Path = DEFAULT_DATA_DIR / "sleutels.json"
    max_request_bytes: int = 10 * 1024 * 1024
    request_read_timeout_s: float = 30.0
    request_min_bytes_per_s: int = 1024
    max_batch_records: int = 5000
    deadline_afwijkingen: dict[int, str] = field(default_factory=lambda: {2020: "2020-05-01"})

    # --- Edukoppeling security (edukoppeling.md §1, §3, §8) ------------------------------------
    #: Profile of every service: "2W-be-S" (signed, the standard) or "2W-be" (tests, legacy), with
    #: per-service overrides, e.g. {"vo": "2W-be"} (WUS WB011: one profile per service).
    profiel: str = "2W-be-S"
    profielen: dict[str, str] = field(default_factory=dict)
    #: Folder of the demo PKI made by ``vva init`` / ``vva pki demo``; the defaults below point into it.
    pki_map: Path = DEFAULT_DATA_DIR / "pki"
    #: Trust anchors and intermediates (PEM) and CRLs (PEM/DER); empty = the demo PKI's.
    vertrouwen_ca: tuple[Path, ...] = ()
    vertrouwen_crl: tuple[Path, ...] = ()
    crl_gratie_s: int = 0
    #: The broker's signing key and certificate (PEM); empty = the demo PKI's broker certificate.
    onderteken_sleutel: Path | None = None
    onderteken_certificaat: Path | None = None
    timestamp_max_leeftijd_s: int = 300
    timestamp_toekomst_s: int = 60
    #: How long MessageIDs are remembered for idempotent redelivery (O5; > age + skew).
    idempotentie_dagen: int = 7
    #: Two-way TLS terminated by ``vva serve`` itself (T8): server key/cert and the CA file that
    #: client certificates must chain to. Empty = plain HTTP (behind a terminating proxy, or demo).
    tls_sleutel: Path | None = None
    tls_certificaat: Path | None = None
    tls_client_ca: Path | None = None
    #: Addresses of proxies that terminate TLS and pass the verified client certificate in the
    #: ``X-Client-Cert`` header (URL-encoded PEM, nginx $ssl_client_escaped_cert); from anyone else
    #: the header is ignored (T11).
    vertrouwde_proxies: tuple[str, ...] = ()
    #: Require a TLS client certificate on every request (EK0030 without one). Default: in production.
    tls_vereist: bool | None = None

    # --- signals (``vva signals run``) ------------------------------------------------------------
    #: Days before the deadline from which parties that exchanged nothing yet are signalled.
    signaal_voorloop_dagen: int = 14

    # --- pushes (outbox) and the reference receiver ------------------------------------------------
    #: A push that keeps failing is retried for this long from its first attempt, then dead-lettered:
    #: a receiver down over a long weekend still gets every push.
    outbox_retry_window_s: float = 72 * 3600.0
    #: Dead-letter after this many attempts as well; 0 = no limit (the window decides).
    outbox_max_pogingen: int = 0
    outbox_basis_s: float = 2.0  # first retry after about this long, then doubling, with jitter
    outbox_max_wacht_s: float = 3600.0  # the backoff's cap
    outbox_timeout_s: float = 10.0
    outbox_bezig_s: float = 120.0  # a claimed message is free again after this (a crashed worker)
    #: GET /health warns (for monitoring, still HTTP 200) when a push has waited longer than this.
    gezondheid_outbox_max_s: float = 900.0
    #: For ``vva receiver serve``: the OINs whose pushes a receiver accepts (the broker's).
    ontvanger_afzenders: tuple[str, ...] = (TEST_BROKER_OIN,)

    # --- the conformance kit ----------------------------------------------------------------------
    #: Deliberate failures on request (``broker.web.storingen``): a ``ping`` whose echo is
    #: ``vva-storing:DK0050``, ``…DK0051`` or ``…DK0008`` gets that fault, so a partner sees how its
    #: client handles them. Test environments only: refused with ``environment = "production"``.
    conformance_storingen: bool = False

    def __post_init__(self) -> None:
        if self.environment == "production" and self.conformance_storingen:
            raise ValueError(
                "conformance_storingen = true is for test environments only: "
                'refusing it with environment = "production"'
            )

    @property
    def broker_oin(self) -> str:
        """The OIN the broker signs and answers with (the first configured one)."""
        return self.broker_oins[0]

    def profiel_van(self, dienst: str) -> str:
        """The security profile of service ``dienst`` (vo, mbo, gemeente, regio)."""
        return self.profielen.get(dienst, self.profiel)

    @property
    def client_certificaat_vereist(self) -> bool:
        return self.environment == "production" if self.tls_vereist is None else self.tls_vereist

    @property
    def ca_bestanden(self) -> tuple[Path, ...]:
        return self.vertrouwen_ca or (self.pki_map / "ca" / "root.pem", self.pki_map / "ca" / "issuing.pem")

    @property
    def crl_bestanden(self) -> tuple[Path, ...]:
        return self.vertrouwen_crl or (
            self.pki_map / "ca" / "root.crl.pem",
            self.pki_map / "ca" / "issuing.crl.pem",
        )

    @property
    def broker_sleutel(self) -> Path:
        return self.onderteken_sleutel or self.pki_map / f"{self.broker_oin}.key.pem"

    @property
    def broker_certificaat(self) -> Path:
        return self.onderteken_certificaat or self.pki_map / f"{self.broker_oin}.cert.pem"


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Build the settings from ``path`` (or ``VVA_CONFIG``, or ``./vva.toml``) and the environment.

    Raises ``FileNotFoundError`` when an explicitly named file is missing and ``ValueError`` on
    an unknown key, so a typo in an operator's file never passes silently, or on a setting that is
    not allowed in production (``conformance_storingen``).
    """
    settings = Settings()
    explicit = path or os.environ.get("VVA_CONFIG")
    file = Path(explicit) if explicit else Path("vva.toml")
    if explicit or file.exists():
        settings = _apply_file(settings, file)
    if url := os.environ.get("VVA_DATABASE_URL"):
        settings = replace(settings, database_url=url)
    if key_file := os.environ.get("VVA_KEY_FILE"):
        settings = replace(settings, key_file=Path(key_file))
    return settings


def _apply_file(settings: Settings, file: Path) -> Settings:
    with file.open("rb") as handle:
        raw = tomllib.load(handle)
    known = set(Settings.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"{file}: unknown setting(s): {', '.join(sorted(unknown))}")
    for sleutel in ("broker_oins", "vertrouwde_proxies", "ontvanger_afzenders"):
        if sleutel in raw:
            raw[sleutel] = tuple(raw[sleutel])
    for sleutel in ("vertrouwen_ca", "vertrouwen_crl"):
        if sleutel in raw:
            raw[sleutel] = tuple(Path(p) for p in raw[sleutel])
    for sleutel in (
        "key_file",
        "pki_map",
        "onderteken_sleutel",
        "onderteken_certificaat",
        "tls_sleutel",
        "tls_certificaat",
        "tls_client_ca",
    ):
        if sleutel in raw:
            raw[sleutel] = Path(raw[sleutel])
    for dienst, profiel in {"": raw.get("profiel", "2W-be-S"), **raw.get("profielen", {})}.items():
        if profiel not in ("2W-be", "2W-be-S"):
            raise ValueError(f"{file}: profile {profiel!r} {dienst} is not 2W-be or 2W-be-S")
    if "deadline_afwijkingen" in raw:
        raw["deadline_afwijkingen"] = {int(k): v for k, v in raw["deadline_afwijkingen"].items()}
    return replace(settings, **raw)
