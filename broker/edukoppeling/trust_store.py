"""The trust store: may this certificate sign a message, or open a TLS session, and for which OIN?

One ``TrustStore`` per process, built at start-up from the configured CA and CRL files (read once).
``check_all`` answers for a signing certificate (the BinarySecurityToken, S5) and for a
TLS client certificate (T8–T11) with the same rules; only the wire code differs:

- RSA key below 2048 bits, or not RSA (H34; S4): EK0031 / EK0030 · wsse:InvalidSecurity
- a CA certificate offered as a party certificate: EK0031 / EK0030 · wsse:InvalidSecurityToken
- expired or not yet valid, leaf or CA (H46; PKI002): EK0031 / EK0030 · wsse:FailedAuthentication
- no path to a configured root: self-signed, foreign CA (H44, H45; PKI005): EK0031 / EK0030 ·
  wsse:FailedCheck
- revoked according to the CRL (H47; PKI003): EK0031 / EK0030 · wsse:FailedAuthentication
- revocation status unknown: no CRL from an issuer, or its CRL past nextUpdate + grace (O6; decision H47;
  PKI004): Server.DK0051 for both purposes · crl:Missing / crl:Stale
- KeyUsage without digitalSignature (H49), or for TLS an EKU without clientAuth (T8): EK0031 / EK0030 ·
  wsse:InvalidSecurityToken
- no or invalid OIN in subject serialNumber (T10; H48; PKI001), or a test OIN in production (OIN syntax):
  Client.EK0030 for both purposes · wsse:InvalidSecurityToken

(EK0031 = ``Client.EK0031`` for "ondertekening", EK0030 = ``Client.EK0030`` for "tls".)
The checks run in the order of this table; the first failure decides. Chain building, signatures and the
CRL lookup are pyhanko-certvalidator's; validity periods, the CRL's nextUpdate, key usage and the OIN are
checked here as well, so that the outcome never depends on a library default.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, TypeVar

from asn1crypto import core as asn1_core
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as pv
from pyhanko_certvalidator.path import ValidationPath

from broker.domain.identifiers import is_test_oin, is_valid_oin
from broker.edukoppeling.faults import EdukoppelingFault, FaultCode, WsSecurityFault
from broker.edukoppeling.keys import MIN_RSA_BITS, rsa_key

Target = Literal["ondertekening", "tls"]
_Asn1 = TypeVar("_Asn1", bound=asn1_core.Asn1Value)

#: Wire code for a refused certificate, per purpose (T9, O6; H42–H55).
REFUSAL_CODES: dict[str, FaultCode] = {"ondertekening": FaultCode.CLIENT_EK0031, "tls": FaultCode.CLIENT_EK0030}
#: A missing or invalid certificate OIN has one code for both purposes (T10, H48).
OIN_CODE = FaultCode.CLIENT_EK0030
#: Revocation status unknown: fail closed, "Service niet beschikbaar" (O6).
UNKNOWN_CODE = FaultCode.SERVER_DK0051

# Audit classes (docs/rules.md, H rules): the message log only. A refused certificate carries its
# WS-Security class as ``EdukoppelingFault.wss`` (``WsSecurityFault``); revocation status unknown, no
# WS-Security fault, carries one of these in front of its reason.
CRL_MISSING = "crl:Missing"
CRL_STALE = "crl:Stale"

#: A PKIoverheid chain has at most three CAs below the root; a longer peer chain only costs path building.
MAX_INTERMEDIATES = 8
#: How long a positive answer is reused (seconds of ``moment``); never across a CRL reload.
CACHE_S = 60
#: How often (seconds) the CRL files are looked at for a replacement by the fetcher.
CRL_LOOK_S = 5

log = logging.getLogger("vva.vertrouwen")
_CACHE_MAX = 4096
#: Names of the demo PKI (broker/pki/demo.py) carry this; production refuses such a CA.
DEMO_MARKER = "(FICTIEF)"
#: RFC 4514 has no short name for serialNumber (the OIN); log it by name rather than as 2.5.4.5.
_NAMES = {NameOID.SERIAL_NUMBER: "serialNumber"}
#: pyhanko messages name subjects; a cap keeps the message log readable.
_MAX_LIBRARY_TEXT = 300


@dataclass(frozen=True)
class _CrlState:
    """The CRLs in force: replaced as a whole on reload, so one validation sees one consistent set."""

    crls: tuple[x509.CertificateRevocationList, ...]
    asn1: tuple[asn1_crl.CertificateList, ...]
    #: Per issuing CA (SHA-256 of its SubjectPublicKeyInfo) the CRLs that CA verifiably signed; filled on
    #: first use, because an intermediate may arrive only in a peer's TLS chain. Matched on the key, not
    #: on byte-equal names (a PrintableString and a UTF8String name are the same name).
    _per_issuer: dict[bytes, tuple[x509.CertificateRevocationList, ...]] = field(default_factory=dict)

    def of(self, issuer: x509.Certificate) -> tuple[x509.CertificateRevocationList, ...]:
        """The CRLs signed by ``issuer``'s key."""
        cache_key = _spki(issuer)
        if cache_key not in self._per_issuer:
            self._per_issuer[cache_key] = tuple(c for c in self.crls if _has_signed(issuer, c))
        return self._per_issuer[cache_key]


@dataclass(frozen=True)
class _Verdict:
    oin: str
    valid_from: datetime
    valid_until: datetime


class TrustStore:
    """The broker's trust store: configured roots, intermediates and CRLs (T9, O6).

    Input: ``ca_files`` (PEM or DER files, a PEM file may hold several certificates; self-signed ones
    are the roots, the others intermediates), ``crl_files`` (PEM or DER), ``crl_grace_s`` (seconds a
    CRL may be used past its nextUpdate; O6 ``crl.grace_s``, default 0), ``production`` (refuse test OINs
    and demo CAs). Files are read once, here; ``reload_crls`` reads new CRLs.
    Raises ``ValueError`` when there is no root, when a CRL has no nextUpdate, or (``production``) when a
    CA is from the demo PKI; ``OSError`` when a file is unreadable. A CRL that no CA in a path signed is
    simply never used, so certificates under that CA get Server.DK0051 (fail closed, O6).
    """

    def __init__(
        self,
        ca_files: Sequence[Path],
        crl_files: Sequence[Path],
        crl_grace_s: int = 0,
        production: bool = False,
        crl_watch_s: float = CRL_LOOK_S,
    ) -> None:
        if crl_grace_s < 0:
            raise ValueError("crl_gratie_s must be 0 or more")
        certificates = _read_certificates(ca_files)
        self._roots = [c for c in certificates if _is_self_signed(c)]
        self._between = [c for c in certificates if not _is_self_signed(c)]
        if not self._roots:
            raise ValueError("the trust store needs at least one self-signed root CA")
        if production:
            _refuse_demo_cas(certificates)
        _set_up_asn1_classes()
        # Shared by every request thread: built completely here, before any thread can see them.
        self._asn1_roots = tuple(_fully_built(_to_asn1(c)) for c in self._roots)
        self._asn1_intermediates = tuple(_fully_built(_to_asn1(c)) for c in self._between)
        self._grace = timedelta(seconds=crl_grace_s)
        self._production = production
        self._crl_files = list(crl_files)
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, _Verdict] = OrderedDict()
        self._crls = self._read_crls(self._crl_files)
        self._crl_stamp = _stamp(self._crl_files)
        self._watch_s = crl_watch_s
        self._next_look = time.monotonic() + crl_watch_s

    # -----------------------------------------------------------------------------------------------------
    # Public API
    # -----------------------------------------------------------------------------------------------------

    def check_all(
        self,
        certificate: x509.Certificate,
        purpose: Target,
        moment: datetime,
        extra_between: Sequence[x509.Certificate] = (),
    ) -> str:
        """Decide whether ``certificate`` may be used for ``purpose`` at ``moment``; return its OIN.

        Input: the certificate (from the BinarySecurityToken or the TLS layer); ``purpose`` "ondertekening"
        (message signature, S5) or "tls" (client certificate, T8); ``moment`` (time-zone
        aware; normally now); ``extra_between``: intermediates the peer sent (a TLS chain, at most
        ``MAX_INTERMEDIATES``), used only to build a path, never trusted on their own. Output: the OIN in subject serialNumber (20 characters).
        Raises ``EdukoppelingFault`` per the table in the module docstring: Client.EK0031 (signing) or
        Client.EK0030 (TLS) for an untrusted, expired, revoked, weak or misused certificate; Client.EK0030
        for a missing or invalid OIN (both purposes); Server.DK0051 when revocation status is unknown
        (O6, fail closed). ``reden`` names the audit class. ``ValueError`` for an unknown ``purpose`` or a
        naive ``moment``.
        Source rules: Digikoppeling Beveiliging PKI001–PKI005; WUS WT002, WT004, WT005;
        T9, T10, O6; H34, H44–H49.
        A positive answer is reused for ``CACHE_S`` seconds of ``moment`` (never past a certificate's
        notAfter or a CRL's nextUpdate + grace, never across ``reload_crls``).
        """
        if purpose not in REFUSAL_CODES:
            raise ValueError(f"doel must be 'ondertekening' or 'tls', not {purpose!r}")
        if moment.tzinfo is None:
            raise ValueError("moment must carry a time zone")
        self._refresh_crls_if_changed()
        cache_key = (_fingerprint(certificate), purpose, tuple(_fingerprint(c) for c in extra_between))
        crls = self._crls  # one snapshot for the whole check, even if a reload happens meanwhile
        if (oin := self._from_cache(cache_key, moment)) is not None:
            return oin
        oin, geldig_tot = self._judge(certificate, purpose, moment, extra_between, crls)
        self._cached(
            cache_key, _Verdict(oin, moment, min(geldig_tot, moment + timedelta(seconds=CACHE_S))), crls
        )
        return oin

    def reload_crls(self, crl_files: Sequence[Path] | None = None) -> None:
        """Read the CRL files again (or ``crl_files`` instead) and forget every cached answer.

        Call after the CRL fetcher stored new CRLs (O6). Raises like ``__init__`` for a
        bad CRL, and then keeps the CRLs in force (a broken download must not widen trust).
        """
        new_files = self._crl_files if crl_files is None else list(crl_files)
        new = self._read_crls(new_files)
        with self._lock:
            self._crl_files = new_files
            self._crls = new
            self._cache.clear()

    def _refresh_crls_if_changed(self) -> None:
        """Reload the CRL files when the fetcher replaced one (size or mtime changed), looking at most
        every ``CRL_LOOK_S`` seconds: a revocation takes effect without a restart (O6, H47). A broken
        new file is logged and the CRLs in force stay (a bad download must not widen trust); past their
        nextUpdate + grace every answer is then DK0051."""
        if time.monotonic() < self._next_look:
            return
        self._next_look = time.monotonic() + self._watch_s
        stamp = _stamp(self._crl_files)
        if stamp == self._crl_stamp:
            return
        try:
            self.reload_crls()
        except (OSError, ValueError) as error:
            log.error("new CRL files not loaded, keeping the ones in force: %s", type(error).__name__)
        self._crl_stamp = stamp

    def crls_valid_until(self) -> datetime | None:
        """The moment (UTC) the first CRL in force goes stale: its nextUpdate + grace, after picking up
        CRL files changed on disk; None when no CRL is configured. For the health endpoint and the
        metrics: past this moment certificates under that CRL's CA get Server.DK0051 (O6)."""
        self._refresh_crls_if_changed()
        moments = [crl.next_update_utc for crl in self._crls.crls]
        return min(moments) + self._grace if moments else None

    @property
    def roots(self) -> list[x509.Certificate]:
        """The trust anchors loaded (self-signed CA certificates)."""
        return list(self._roots)

    @property
    def between(self) -> list[x509.Certificate]:
        """The intermediates loaded (configured, hence usable for path building)."""
        return list(self._between)

    # -----------------------------------------------------------------------------------------------------
    # The checks, in the order of the module docstring's table
    # -----------------------------------------------------------------------------------------------------

    def _judge(
        self,
        certificate: x509.Certificate,
        purpose: Target,
        moment: datetime,
        extra_between: Sequence[x509.Certificate],
        crls: _CrlState,
    ) -> tuple[str, datetime]:
        """All checks for one certificate; return (OIN, the moment until which the answer holds)."""
        _check_key(certificate, purpose)
        if len(extra_between) > MAX_INTERMEDIATES:
            raise _refuse(
                purpose,
                WsSecurityFault.FAILED_CHECK,
                f"peer chain of {len(extra_between)} intermediates (> {MAX_INTERMEDIATES})",
            )
        _check_not_a_ca(certificate, purpose)
        _check_validity(certificate, moment, purpose)
        path = self._validate_path(certificate, purpose, self._validation_context(moment, extra_between, crls))
        chain = [x509.load_der_x509_certificate(c.dump()) for c in path.iter_certs(include_root=True)]
        for ca in chain:
            _check_validity(ca, moment, purpose)
        crl_until = self._check_crl_freshness(chain, moment, crls)
        _check_usage(certificate, purpose)
        oin = self._check_oin(certificate)
        return oin, min([crl_until, *(c.not_valid_after_utc for c in chain)])

    def _validation_context(
        self, moment: datetime, extra_between: Sequence[x509.Certificate], crls: _CrlState
    ) -> ValidationContext:
        """What a path is validated against: the configured roots and intermediates (and the peer's
        own), the CRLs, the moment.

        Revocation mode "require", not "hard-fail": in pyhanko "hard-fail" checks a CRL only when the
        certificate names a distribution point, so a certificate without one would pass unchecked; O6
        demands fail closed. The grace goes in as time tolerance so that a CRL within nextUpdate + grace
        is usable; validity periods are re-checked strictly afterwards (``_check_validity``).
        """
        return ValidationContext(
            trust_roots=self._asn1_roots,
            other_certs=[*self._asn1_intermediates, *(_to_asn1(c) for c in extra_between)],
            crls=crls.asn1,
            revocation_mode="require",
            moment=moment,
            time_tolerance=self._grace,
            allow_fetching=False,
        )

    def _validate_path(
        self, certificate: x509.Certificate, purpose: Target, context: ValidationContext
    ) -> ValidationPath:
        """Build and validate a path to a configured root in ``context``, with CRL checks on every
        non-root certificate; a refusal names what failed."""
        validator = CertificateValidator(_to_asn1(certificate), validation_context=context)
        try:
            # pyhanko 0.33 is async-only; the broker's request handling is synchronous (WSGI threads).
            return asyncio.run(validator.async_validate_path())
        except pv.RevokedError as error:
            raise _refuse(
                purpose, WsSecurityFault.FAILED_AUTHENTICATION, "certificate revoked (CRL)", error
            ) from error
        except pv.StaleRevinfoError as error:
            raise _unknown(CRL_STALE, "CRL past nextUpdate + grace", error) from error
        except pv.InsufficientRevinfoError as error:
            raise _unknown(CRL_MISSING, "no usable CRL for a certificate in the path", error) from error
        except (pv.ExpiredError, pv.NotYetValidError) as error:
            raise _refuse(
                purpose, WsSecurityFault.FAILED_AUTHENTICATION, "certificate in the path not valid now", error
            ) from error
        except pv.DisallowedAlgorithmError as error:
            raise _refuse(
                purpose, WsSecurityFault.INVALID_SECURITY, "weak algorithm in the path", error
            ) from error
        except pv.InvalidCertificateError as error:
            raise _refuse(
                purpose, WsSecurityFault.FAILED_CHECK, "untrusted: self-signed certificate", error
            ) from error
        except (pv.PathBuildingError, pv.ValidationError) as error:
            raise _refuse(
                purpose, WsSecurityFault.FAILED_CHECK, "untrusted: no valid path to a configured root", error
            ) from error

    def _check_crl_freshness(
        self, chain: list[x509.Certificate], moment: datetime, crls: _CrlState
    ) -> datetime:
        """O6 in our own hands, whatever the library concluded: every certificate below the root has a CRL
        signed by its issuer whose nextUpdate + grace is not before ``moment``. ``chain`` runs root first.
        Return the earliest such deadline. Raises ``EdukoppelingFault(Server.DK0051)`` otherwise
        (O6; H47).
        """
        deadlines: list[datetime] = []
        for issuer in chain[:-1]:  # each one issued the next; the leaf issued nothing
            own = crls.of(issuer)
            name = issuer.subject.rfc4514_string(_NAMES)
            if not own:
                raise _unknown(CRL_MISSING, f"no CRL from {name}")
            stale_at = max(crl.next_update_utc for crl in own if crl.next_update_utc) + self._grace
            if moment > stale_at:
                raise _unknown(CRL_STALE, f"CRL of {name} past nextUpdate + grace")
            deadlines.append(stale_at)
        # Never empty: a party certificate is not itself a root (_check_not_a_ca).
        return min(deadlines)

    def _check_oin(self, certificate: x509.Certificate) -> str:
        """The OIN from subject serialNumber: all 20 characters [0-9A-Z] (T10, OIN syntax; PKI001; H48);
        in production not a test OIN (prefix 00000099, OIN syntax). Raises ``EdukoppelingFault(Client.EK0030)``."""
        count = len(certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER))
        oin = oin_of(certificate)
        if oin is None:
            text = (
                "no OIN: subject has no serialNumber"
                if count == 0
                else "ambiguous OIN: several serialNumbers"
            )
            raise EdukoppelingFault(OIN_CODE, text, wss=WsSecurityFault.INVALID_SECURITY_TOKEN)
        if not is_valid_oin(oin):
            raise EdukoppelingFault(
                OIN_CODE, "invalid OIN in subject serialNumber", wss=WsSecurityFault.INVALID_SECURITY_TOKEN
            )
        if self._production and is_test_oin(oin):
            raise EdukoppelingFault(
                OIN_CODE, "test OIN (00000099) in production", wss=WsSecurityFault.INVALID_SECURITY_TOKEN
            )
        return oin

    # -----------------------------------------------------------------------------------------------------
    # Loading and caching
    # -----------------------------------------------------------------------------------------------------

    def _read_crls(self, paths: Sequence[Path]) -> _CrlState:
        """Read the CRLs; each must have a nextUpdate, or its freshness cannot be judged (O6)."""
        crls: list[x509.CertificateRevocationList] = []
        for path in paths:
            for crl in _read_crl_file(path):
                if crl.next_update_utc is None:
                    raise ValueError(f"{path}: CRL without nextUpdate; its freshness cannot be judged (O6)")
                crls.append(crl)
        asn1 = tuple(
            _fully_built(asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER)))
            for c in crls
        )
        return _CrlState(tuple(crls), asn1)

    def _from_cache(self, cache_key: tuple, moment: datetime) -> str | None:
        with self._lock:
            verdict = self._cache.get(cache_key)
        if verdict is not None and verdict.valid_from <= moment < verdict.valid_until:
            return verdict.oin
        return None

    def _cached(self, cache_key: tuple, verdict: _Verdict, crls: _CrlState) -> None:
        with self._lock:
            # Validated against CRLs that have since been replaced: do not let it outlive the reload.
            if crls is not self._crls:
                return
            self._cache[cache_key] = verdict
            self._cache.move_to_end(cache_key)
            while len(self._cache) > _CACHE_MAX:
                self._cache.popitem(last=False)


# ---------------------------------------------------------------------------------------------------------
# Helpers (no state)
# ---------------------------------------------------------------------------------------------------------


def oin_of(certificate: x509.Certificate) -> str | None:
    """Return the subject serialNumber of ``certificate`` as is, or None.

    Input: a certificate. Output: the value of the single serialNumber attribute (no syntax check; use
    ``TrustStore.check_all`` for a decision), None when there is none or more than one. Never raises.
    Source rule: Digikoppeling Beveiliging PKI001 (OIN in subject.serialNumber); T10. The one reader of
    a certificate's OIN: the trust store, ``vva envelope verify --trust-embedded``, ``vva pki show`` and
    the conformance kit all use it.
    """
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if len(values) != 1 or not isinstance(values[0].value, str):
        return None
    return values[0].value


def _check_key(certificate: x509.Certificate, purpose: Target) -> None:
    """RSA of at least 2048 bits (H34). Only RSA: S4 allows rsa-sha256/384/512 signatures only."""
    key = rsa_key(certificate)
    if key is None:
        raise _refuse(purpose, WsSecurityFault.INVALID_SECURITY, "key is not RSA")
    if key.key_size < MIN_RSA_BITS:
        raise _refuse(
            purpose, WsSecurityFault.INVALID_SECURITY, f"RSA key of {key.key_size} bits (< {MIN_RSA_BITS})"
        )


def _check_not_a_ca(certificate: x509.Certificate, purpose: Target) -> None:
    """A CA certificate is no party certificate; without this check a configured root offered as the
    signing certificate would validate as a path of length one."""
    try:
        base = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return
    if base.ca:
        raise _refuse(
            purpose, WsSecurityFault.INVALID_SECURITY_TOKEN, "a CA certificate is not a party certificate"
        )


def _check_validity(certificate: x509.Certificate, moment: datetime, purpose: Target) -> None:
    """notBefore <= moment <= notAfter (H46; PKI002; WT004)."""
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        text = "expired" if moment > certificate.not_valid_after_utc else "not yet valid"
        raise _refuse(
            purpose,
            WsSecurityFault.FAILED_AUTHENTICATION,
            f"certificate {text}: {certificate.subject.rfc4514_string(_NAMES)}",
        )


def _check_usage(certificate: x509.Certificate, purpose: Target) -> None:
    """Key usage and extended key usage for ``purpose``.

    Signing: KeyUsage present with digitalSignature (H49; signxml ≥ 5 enforces the same). TLS: when a
    KeyUsage is present it allows digitalSignature (an RSA client signs the handshake: OpenSSL's
    ssl_client purpose) and when an EKU is present it contains clientAuth (T8).
    """
    try:
        ku: x509.KeyUsage | None = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        ku = None
    if (ku is None and purpose == "ondertekening") or (ku is not None and not ku.digital_signature):
        raise _refuse(purpose, WsSecurityFault.INVALID_SECURITY_TOKEN, "key usage lacks digitalSignature")
    if purpose == "tls":
        try:
            eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            return
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            raise _refuse(purpose, WsSecurityFault.INVALID_SECURITY_TOKEN, "extended key usage lacks clientAuth")


def _refuse(
    purpose: Target, klass: WsSecurityFault, text: str, cause: Exception | None = None
) -> EdukoppelingFault:
    return EdukoppelingFault(REFUSAL_CODES[purpose], _reason(text, cause), wss=klass)


def _unknown(klass: str, text: str, cause: Exception | None = None) -> EdukoppelingFault:
    return EdukoppelingFault(
        UNKNOWN_CODE, f"{klass} {_reason(f'revocation status unknown: {text}', cause)}"
    )


def _reason(text: str, cause: Exception | None) -> str:
    if cause is None:
        return text
    return f"{text} ({str(cause)[:_MAX_LIBRARY_TEXT]})"


def _read_certificates(paths: Iterable[Path]) -> list[x509.Certificate]:
    certificates: list[x509.Certificate] = []
    for path in paths:
        data = path.read_bytes()
        if b"-----BEGIN" in data:
            certificates += x509.load_pem_x509_certificates(data)
        else:
            certificates.append(x509.load_der_x509_certificate(data))
    return certificates


def _read_crl_file(path: Path) -> list[x509.CertificateRevocationList]:
    # PKIoverheid publishes DER; the demo PKI and most tooling write PEM. Accept both.
    data = path.read_bytes()
    if b"-----BEGIN" not in data:
        return [x509.load_der_x509_crl(data)]
    blocks = data.split(b"-----END X509 CRL-----")
    return [
        x509.load_pem_x509_crl(block + b"-----END X509 CRL-----\n")
        for block in blocks
        if b"-----BEGIN" in block
    ]


def _stamp(files: Sequence[Path]) -> tuple:
    uitkomst = []
    for path in files:
        try:
            status = Path(path).stat()
            uitkomst.append((str(path), status.st_mtime_ns, status.st_size))
        except OSError:
            uitkomst.append((str(path), None, None))
    return tuple(uitkomst)


def _is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.subject != certificate.issuer:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _has_signed(ca: x509.Certificate, crl: x509.CertificateRevocationList) -> bool:
    try:
        return crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    except TypeError:
        return False


def _refuse_demo_cas(certificates: list[x509.Certificate]) -> None:
    """Production trusts only PKIoverheid (T9); a demo CA there is a configuration error, not a choice."""
    for certificate in certificates:
        if DEMO_MARKER in certificate.subject.rfc4514_string(_NAMES):
            raise ValueError(f"demo CA {certificate.subject.rfc4514_string(_NAMES)} configured in production")


def _to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


_classes_lock = threading.Lock()
_classes_ready = False


def _set_up_asn1_classes() -> None:
    """Run asn1crypto's one-time set-up of every ASN.1 class now, in this thread.

    asn1crypto sets a class up when its first instance is made, without a lock: a second thread making
    an instance meanwhile resets the half-built field table (``KeyError: 'type'``). The certificates of
    the first concurrent requests of a fresh worker bring classes the configured CAs do not use (an
    extended key usage, say); doing all of them before the trust store is shared removes that race too.
    """
    global _classes_ready
    with _classes_lock:
        if _classes_ready:
            return
        to_do = list(asn1_core.Asn1Value.__subclasses__())
        while to_do:
            klass = to_do.pop()
            to_do.extend(klass.__subclasses__())
            try:
                klass()  # the set-up runs first in Asn1Value.__init__, whatever the value check says after
            except (TypeError, ValueError):
                pass
        _classes_ready = True


def _fully_built(value: _Asn1) -> _Asn1:
    """Parse ``value`` completely and compute every value asn1crypto would otherwise compute on first
    read; return it.

    asn1crypto parses lazily and caches without a lock: a thread reading an object another thread is
    still parsing sees a half-filled child list (``KeyError: No field numbered 1``) or a half-computed
    property (``self_signed`` is "no" before it becomes "maybe"). On a fresh worker the first concurrent
    requests did exactly that with the shared roots, intermediates and CRLs, and were answered
    Server.DK0050 (issue 14). After this, threads only read what is already there. ``native`` builds
    every nested structure; the walk then reads the properties (subject hash, key hash, extensions…) of
    every structured value below, once, in this thread.
    """
    _ = value.native
    stack: list[asn1_core.Asn1Value] = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, (asn1_core.Sequence, asn1_core.Choice)):
            for name in _properties(type(current)):
                try:
                    getattr(current, name)
                except Exception:  # noqa: BLE001 - a value that cannot be computed fails the same way later
                    pass
        if isinstance(current, (asn1_core.Sequence, asn1_core.SequenceOf)):
            stack.extend(kind for kind in current.children if isinstance(kind, asn1_core.Asn1Value))
        elif isinstance(current, asn1_core.Choice):
            stack.append(current.chosen)
        elif isinstance(
            current, (asn1_core.ParsableOctetString, asn1_core.ParsableOctetBitString, asn1_core.Any)
        ):
            if current._parsed is not None:  # noqa: SLF001 - the parsed form, if asn1crypto made one
                stack.append(current._parsed[0])  # noqa: SLF001
    return value


@functools.cache
def _properties(klass: type) -> tuple[str, ...]:
    """The lazily computed properties of an asn1crypto class outside asn1crypto.core (those of core,
    ``native`` and ``contents``, are filled by ``native``)."""
    if klass.__module__ == asn1_core.__name__:
        return ()
    return tuple(
        name for name in dir(klass) if isinstance(getattr(klass, name, None), property) and name != "native"
    )


def _spki(certificate: x509.Certificate) -> bytes:
    der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()


def _fingerprint(certificate: x509.Certificate) -> bytes:
    return certificate.fingerprint(hashes.SHA256())
