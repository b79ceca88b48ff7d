"""HTTP framing checks before any SOAP processing (T4–T6; H96–H112)."""

from __future__ import annotations

import time
from email.message import Message

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode, HttpError


def _content_type(value: str) -> tuple[str, dict[str, str]]:
    message = Message()
    message["content-type"] = value
    pairs = [(k.lower(), v) for k, v in message.get_params()[1:]]
    if [k for k, _ in pairs].count("charset") > 1:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0009, "xml:Encoding charset given twice"
        )  # never guess (H100)
    return message.get_content_type(), dict(pairs)


def check_content_type(environ: dict) -> None:
    """Accept ``text/xml`` with charset UTF-8 or without charset (T5).

    Raises ``HttpError`` 415 for compressed bodies (H91) and other media types (H98), and
    ``EdukoppelingFault`` VersionMismatch.DK0001 for ``application/soap+xml`` (SOAP 1.2, H97) or
    Client.DK0009 for another charset (T4, H99).
    """
    if environ.get("HTTP_CONTENT_ENCODING", "identity").lower() != "identity":
        raise HttpError(415, "compressed request bodies are not accepted")
    kind, params = _content_type(environ.get("CONTENT_TYPE", ""))
    if kind == "application/soap+xml":
        raise EdukoppelingFault(
            FaultCode.VERSION_MISMATCH_DK0001, "soap:VersionMismatch media type application/soap+xml"
        )
    if kind != "text/xml":
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
    length = (environ.get("CONTENT_LENGTH") or "").strip()
    if not length and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise HttpError(411, "Content-Length or chunked transfer coding required")
    if length:
        # isascii too: WSGI header values are latin-1, and "²" passes isdigit() but not int().
        if not (length.isascii() and length.isdigit()):
            raise HttpError(400, "Content-Length is not a number")
        if int(length) > maximum:
            raise HttpError(413, "request body too large")
    to_read = int(length) if length else maximum + 1
    try:
        data = _read(environ, to_read, deadline_s, min_bytes_per_s)
    except TimeoutError:
        raise HttpError(408, "request body not received in time") from None
    except Exception:  # noqa: BLE001 — a broken chunked framing; its text quotes the body, so drop it
        raise HttpError(400, "malformed request body framing") from None
    if len(data) > maximum:
        raise HttpError(413, "request body too large")
    if length and len(data) < to_read:
        raise HttpError(400, "request body shorter than its Content-Length")
    return data


#: Bytes per read of a body under a deadline: each read re-arms the socket timeout.
_BATCH = 64 * 1024


def _read(environ: dict, count: int, deadline_s: float | None, min_bytes_per_s: int) -> bytes:
    """Up to ``count`` bytes of ``wsgi.input``; ``TimeoutError`` past the deadline or below the rate."""
    input_, sock = environ["wsgi.input"], environ.get("gunicorn.socket")
    if deadline_s is None or sock is None:
        return input_.read(count)
    start = time.monotonic()
    chunks, read_ = [], 0
    try:
        while read_ < count:
            elapsed = time.monotonic() - start
            if elapsed > deadline_s or (
                elapsed > 1.0 and read_ < min_bytes_per_s * (elapsed - 1.0)
            ):
                raise TimeoutError
            sock.settimeout(max(deadline_s - elapsed, 0.001))
            chunk = input_.read(min(_BATCH, count - read_))
            if not chunk:
                break
            chunks.append(chunk)
            read_ += len(chunk)
    finally:
        sock.settimeout(None)  # gunicorn expects a blocking socket back (keep-alive, the answer)
    return b"".join(chunks)


def soapaction(environ: dict) -> str:
    """The SOAPAction header as received; ``EdukoppelingFault`` Client.DK0003 when it is missing (T6)."""
    value = environ.get("HTTP_SOAPACTION")
    if value is None:
        raise EdukoppelingFault(FaultCode.CLIENT_DK0003, "SOAPAction header missing")
    return value
