"""zeep clients for the broker's services, signed and verified the Edukoppeling way.

The WSDL and XSD come from the contract files shipped with the broker (never fetched: hostile-inputs
"load WSDL/XSD from local files only"); requests are signed by the broker's own signer
(``EdukoppelingWsse``) and addressed by ``EdukoppelingAddressing``; every answer's signature,
signer (the broker's OIN, through the configured trust store), RelatesTo and SignatureConfirmation
are checked before anything of it is shown.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlsplit

from zeep.transports import Transport

from broker.bootstrap import hardened_session, hardened_zeep_client
from broker.client.settings import ClientSettings
from broker.edukoppeling.contract import BROKER_SERVICES, Contract
from broker.edukoppeling.trust_store import TrustStore
from broker.edukoppeling.wss.signer import Signer
from broker.outbound.addressing import EdukoppelingAddressing
from broker.outbound.signing import EdukoppelingWsse

#: The binding of each service in its WSDL (``wsdl/vva-<service>-v1.wsdl``).
_BINDINGS = {
    "vo": "{urn:nl:vva:aanmelden:v1:vo}VoSchoolBinding",
    "mbo": "{urn:nl:vva:aanmelden:v1:mbo}MboInstellingBinding",
    "gemeente": "{urn:nl:vva:aanmelden:v1:gemeente}GemeenteBinding",
    "regio": "{urn:nl:vva:aanmelden:v1:regio}RegionaalSysteemBinding",
}
_BLOCK = 64 * 1024


class _Progress:
    """A request body sent in blocks, reporting every block sent (requests streams an iterable with
    a length and still sends a Content-Length)."""

    def __init__(self, data: bytes, report: Callable[[int], None]) -> None:
        self.data, self.report = data, report

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), _BLOCK):
            block = self.data[start : start + _BLOCK]
            yield block
            self.report(len(block))


class _ProgressTransport(Transport):
    """zeep's transport; while ``progress`` is set, every request body is streamed through the
    progress bar it makes (``progress(total bytes)`` gives a context manager with ``update(n)``)."""

    progress: Callable[[int], AbstractContextManager] | None = None

    def post(self, address, message, headers):
        if self.progress is None:
            return super().post(address, message, headers)
        data = message if isinstance(message, bytes) else message.encode()
        with self.progress(len(data)) as bar:
            return super().post(address, _Progress(data, bar.update), headers)


class Connection:
    """The services of one broker as one party (``settings``): ``service("vo")`` is a zeep
    service proxy with the WSDL's operations."""

    def __init__(self, settings: ClientSettings, signer: Signer, trust: TrustStore) -> None:
        """``signer`` signs as the party (its key and certificate), ``trust`` checks the
        broker's answers; both are built by the composition root (``broker.bootstrap``)."""
        self.settings = settings
        two_way = (settings.certificate, settings.key)  # two-way TLS (T8)
        session = hardened_session(
            settings.tls_ca, two_way if settings.endpoint.startswith("https:") else None
        )
        self.transport = _ProgressTransport(session=session, timeout=30, operation_timeout=settings.timeout_s)
        self._contract = Contract(keys=BROKER_SERVICES)
        self._wsse = EdukoppelingWsse(signer, trust, expected_oin=settings.broker_oin)

    def service(self, service_id: str):
        """The zeep service proxy of service ``service_id`` (vo, mbo, gemeente, regio)."""
        service = self._contract.service(service_id)
        client = hardened_zeep_client(
            service.wsdl,
            transport=self.transport,
            wsse=self._wsse,
            plugins=[EdukoppelingAddressing(self.settings.oin, self.settings.broker_oin)],
        )
        return client.create_service(_BINDINGS[service_id], f"{self.settings.endpoint}{service.path}")


# --- what went wrong on the way to the broker --------------------------------------------------------

#: OpenSSL verify codes of the broker's certificate that mean "no path to a CA this client trusts".
_UNKNOWN_ISSUER = {2, 18, 19, 20, 21}
_WRONG_NAME = {62, 64}  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_EXPIRED = 10  # X509_V_ERR_CERT_HAS_EXPIRED


def explain_connection_error(error: BaseException, settings: ClientSettings, file: str) -> str:
    """One readable sentence for a failed connection to the broker (``vva client``): which side failed
    and which setting of ``bestand`` (the client settings file) to check, instead of ``SSLError``.

    Input: the exception requests raised (its causes are searched for the ssl/socket error), the
    settings. Output: the text after "error: ". Never raises."""
    url = urlsplit(settings.endpoint)
    address = f"{url.hostname}:{url.port or (443 if url.scheme == 'https' else 80)}"
    causes = _causes(error)
    verification = next((o for o in causes if isinstance(o, ssl.SSLCertVerificationError)), None)
    if verification is not None:
        return _server_certificate(verification, settings, file, url.hostname or "")
    tls = next((o for o in causes if isinstance(o, ssl.SSLError)), None)
    text = " ".join(str(o) for o in causes)
    if tls is not None and "WRONG_VERSION_NUMBER" in (tls.reason or str(tls)).upper():
        return f"the server at {address} does not speak TLS (plain HTTP?): check the scheme of endpoint in {file}"
    if (tls is not None and "ALERT" in (tls.reason or str(tls)).upper()) or (
        url.scheme == "https" and _broken_after_handshake(causes)
    ):
        return _client_certificate_refused(settings, file, address, tls)
    if any(isinstance(o, ConnectionRefusedError) for o in causes) or "Connection refused" in text:
        return (
            f"nothing answers at {address} (connection refused): check endpoint in {file} "
            "and that the broker is running"
        )
    if any(isinstance(o, socket.gaierror) for o in causes) or "Name or service not known" in text:
        return f"host {url.hostname} not found (DNS): check endpoint in {file}"
    if any(isinstance(o, (TimeoutError, socket.timeout)) for o in causes) or "timed out" in text:
        return (
            f"no answer from {address} in time: check endpoint in {file}, a firewall between you and the "
            "broker, or raise timeout_s"
        )
    return f"cannot reach the broker at {settings.endpoint}: {type(error).__name__}: {_short(text)}"


def _server_certificate(
    error: ssl.SSLCertVerificationError, settings: ClientSettings, file: str, host: str
) -> str:
    # The broker's side: its TLS certificate, as this client judges it.
    if error.verify_code in _WRONG_NAME:
        return (
            f"the broker's TLS certificate is not valid for host {host!r} (server side): use in endpoint "
            f"({file}) the host name the broker's certificate names (ask the broker's operators), "
            "not an IP address or another alias"
        )
    if error.verify_code == _EXPIRED:
        return "the broker's TLS certificate has expired (server side): tell the broker's operators"
    if error.verify_code in _UNKNOWN_ISSUER:
        now = (
            f"now tls_ca = {settings.tls_ca}"
            if settings.tls_ca
            else "tls_ca is not set, so the system's CA store was used"
        )
        return (
            "the broker's TLS certificate is not issued by a CA this client trusts (server side, checked "
            f"here): set tls_ca in {file} to the CA file of the broker's TLS certificate ({now})"
        )
    return f"the broker's TLS certificate was refused (server side): {error.verify_message}"


def _client_certificate_refused(
    settings: ClientSettings, file: str, address: str, tls: ssl.SSLError | None
) -> str:
    # Our side: the broker ended the handshake, which after a good server certificate means it did
    # not accept ours. The commonest cause is a leaf without its issuing CA.
    count = _certificate_count(settings.certificate)
    chain = f"; {settings.certificate} holds only {count} certificate, not the chain" if count == 1 else ""
    reason_text = f" ({tls.reason.lower().replace('_', ' ')})" if tls is not None and tls.reason else ""
    return (
        f"the broker at {address} refused your TLS client certificate (your side){reason_text}: certificate in "
        f"{file} must be the whole chain in PEM — your certificate first, then the issuing CA "
        "certificate(s) — issued under a CA the broker trusts, valid and not revoked" + chain
    )


def _causes(error: BaseException) -> list[BaseException]:
    """``error`` and everything it was raised from or wraps (urllib3 keeps the cause in ``reason`` or
    in its arguments), at most 10 deep."""
    seen: list[BaseException] = []
    stack = [error]
    while stack and len(seen) < 10:
        current = stack.pop(0)
        if not isinstance(current, BaseException) or any(current is g for g in seen):
            continue  # ``reason`` may be a plain text
        seen.append(current)
        stack += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        stack += [a for a in current.args if isinstance(a, BaseException)]
    return seen


def _broken_after_handshake(causes: list[BaseException]) -> bool:
    """Under TLS 1.3 a server that refuses the client certificate often just closes the connection
    after the handshake: a reset or an EOF instead of an alert."""
    return any(
        isinstance(o, (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError))
        or type(o).__name__ == "RemoteDisconnected"
        for o in causes
    )


def _certificate_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"-----BEGIN CERTIFICATE-----")
    except OSError:
        return 0


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."
