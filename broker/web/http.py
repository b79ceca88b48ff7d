"""HTTP framing checks before any SOAP processing (T4–T6; H96–H112)."""

from __future__ import annotations

import time
from email.message import Message

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode, HttpError


def _content_type(waarde: str) -> tuple[str, dict[str, str]]:
    bericht = Message()
    bericht["content-type"] = waarde
    paren = [(k.lower(), v) for k, v in bericht.get_params()[1:]]
    if [k for k, _ in paren].count("charset") > 1:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0009, "xml:Encoding charset given twice"
        )  # never guess (H100)
    return bericht.get_content_type(), dict(paren)


def check_content_type(environ: dict) -> None:
    """Accept ``text/xml`` with charset UTF-8 or without charset (T5).

    Raises ``HttpError`` 415 for compressed bodies (H91) and other media types (H98), and
    ``EdukoppelingFault`` VersionMismatch.DK0001 for ``application/soap+xml`` (SOAP 1.2, H97) or
    Client.DK0009 for another charset (T4, H99).
    """
    if environ.get("HTTP_CONTENT_ENCODING", "identity").lower() != "identity":
        raise HttpError(415, "compressed request bodies are not accepted")
    soort, params = _content_type(environ.get("CONTENT_TYPE", ""))
    if soort == "application/soap+xml":
        raise EdukoppelingFault(
            FaultCode.VERSION_MISMATCH_DK0001, "soap:VersionMismatch media type application/soap+xml"
        )
    if soort != "text/xml":
        raise HttpError(415, "Content-Type must be text/xml; charset=UTF-8")
    if "charset" in params and params["charset"].lower() not in ("utf-8", "utf8"):
        raise EdukoppelingFault(FaultCode.CLIENT_DK0009, "xml:Encoding charset not UTF-8")


def read_body(
    environ: dict, maximum: int, deadline_s: float | None = None, min_bytes_per_s: int = 0
) -> bytes:
    """Read the request body, never more than ``maximum`` bytes (H92), within ``deadline_s``.

    Raises ``HttpError`` 411 without Content-Length or chunked coding, 400 for a malformed length or
    chunked framing or a body shorter than its Content-Length (the client closed early: nothing of it
    is applied), 413 when Content-Length or the bytes read (chunked) exceed the cap, 408 when the body
    does not arrive within ``deadline_s`` or arrives slower than ``min_bytes_per_s`` (after a second).

    Under ``vva serve`` the worker has the whole request before this runs (``broker.web.worker``), so
    the deadline only bites where it could not gather it (TLS in gunicorn, HTTP/2):
    there every socket read waits at most the time left, so a stalled client frees its thread.
    """
    lengte = (environ.get("CONTENT_LENGTH") or "").strip()
    if not lengte and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise HttpError(411, "Content-Length or chunked transfer coding required")
    if lengte:
        # isascii too: WSGI header values are latin-1, and "²" passes isdigit() but not int().
        if not (lengte.isascii() and lengte.isdigit()):
            raise HttpError(400, "Content-Length is not a number")
        if int(lengte) > maximum:
            raise HttpError(413, "request body too large")
    te_lezen = int(lengte) if lengte else maximum + 1
    try:
        data = _read(environ, te_lezen, deadline_s, min_bytes_per_s)
    except TimeoutError:
        raise HttpError(408, "request body not received in time") from None
    except Exception:  # noqa: BLE001 — a broken chunked framing; its text quotes the body, so drop it
        raise HttpError(400, "malformed request body framing") from None
    if len(data) > maximum:
        raise HttpError(413, "request body too large")
    if lengte and len(data) < te_lezen:
        raise HttpError(400, "request body shorter than its Content-Length")
    return data


#: Bytes per read of a body under a deadline: each read re-arms the socket timeout.
_STUK = 64 * 1024


def _read(environ: dict, aantal: int, deadline_s: float | None, min_bytes_per_s: int) -> bytes:
    """Up to ``aantal`` bytes of ``wsgi.input``; ``TimeoutError`` past the deadline or below the rate."""
    invoer, sock = environ["wsgi.input"], environ.get("gunicorn.socket")
    if deadline_s is None or sock is None:
        return invoer.read(aantal)
    begin = time.monotonic()
    delen, gelezen = [], 0
    try:
        while gelezen < aantal:
            verstreken = time.monotonic() - begin
            if verstreken > deadline_s or (
                verstreken > 1.0 and gelezen < min_bytes_per_s * (verstreken - 1.0)
            ):
                raise TimeoutError
            sock.settimeout(max(deadline_s - verstreken, 0.001))
            deel = invoer.read(min(_STUK, aantal - gelezen))
            if not deel:
                break
            delen.append(deel)
            gelezen += len(deel)
    finally:
        sock.settimeout(None)  # gunicorn expects a blocking socket back (keep-alive, the answer)
    return b"".join(delen)


def soapaction(environ: dict) -> str:
    """The SOAPAction header as received; ``EdukoppelingFault`` Client.DK0003 when it is missing (T6)."""
    waarde = environ.get("HTTP_SOAPACTION")
    if waarde is None:
        raise EdukoppelingFault(FaultCode.CLIENT_DK0003, "SOAPAction header missing")
    return waarde
