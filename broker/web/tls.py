"""The TLS client certificate of a request (T8–T11).

Two sources: the embedded TLS server (``vva serve`` with a server key, gunicorn hands the TLS socket
to the application as ``gunicorn.socket``), or a terminating proxy on a configured address that
passes the verified certificate URL-encoded in ``X-Client-Cert`` (nginx ``$ssl_client_escaped_cert``).
The header from any other address is ignored: anyone can send it (T11).
"""

from __future__ import annotations

import ssl
from urllib.parse import unquote

from cryptography import x509

PROXY_HEADER = "HTTP_X_CLIENT_CERT"


def client_certificate(environ: dict, trusted_proxies: tuple[str, ...]) -> x509.Certificate | None:
    """The client certificate of this request, or None when there is none.

    Raises ``ValueError`` when a trusted proxy sent a header that is not one PEM certificate.
    """
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, ssl.SSLSocket):
        der = sock.getpeercert(binary_form=True)
        return x509.load_der_x509_certificate(der) if der else None
    value = environ.get(PROXY_HEADER)
    if value and environ.get("REMOTE_ADDR") in trusted_proxies:
        return x509.load_pem_x509_certificate(unquote(value).encode())
    return None


def server_context(certificate: str, key: str, client_cas: list[str]) -> ssl.SSLContext:
    """A server TLS context: TLS 1.2 or 1.3 only (TLS001–TLS006), a client certificate that chains to
    the CA files ``client_cas`` (roots and intermediates) required (two-way TLS, T8); revocation and
    the OIN are checked per request by the trust store."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    for file in client_cas:
        context.load_verify_locations(cafile=file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=certificate, keyfile=key)
    context.verify_mode = ssl.CERT_REQUIRED
    return context
