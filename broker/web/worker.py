"""The gunicorn worker of ``vva serve``: gthread, but a request reaches a thread only once it is all there.

gunicorn's gthread worker hands a connection to one of its N threads as soon as it has bytes; the
thread then reads the headers and the body with blocking socket reads and no deadline. N clients
that send headers and stall in the body (or trickle a byte now and then) hold every thread, and a
signed ping from anyone else waits behind them (slowloris; H92). A deadline on
reading in the WSGI layer alone frees a stalled thread only after that deadline, and the thread
pool's queue is first come, first served: with N threads and N + k stalled uploads a ping still
waits a full deadline or more, so "answered within 2 s" cannot hold with any useful deadline.

So this worker receives each request in its main loop first, as nginx's request buffering does:
the socket stays non-blocking in the worker's selector, the bytes are gathered until the request
is complete — the headers and, by Content-Length, the whole body, or for a chunked body its last
chunk — and only then does a thread get the connection, with the bytes already in its parser's
buffer, so the thread never waits for the client. A request not complete within
``request_read_timeout_s`` of accepting the connection (or of its first byte on a kept-alive one), or
arriving slower than ``request_min_bytes_per_s`` from a second after its first byte, gets HTTP 408 and
is closed; it never held a thread. A client that closes its side early hands over what it sent: the broker refuses a
body shorter than its Content-Length (``broker.web.http.read_body``).

A chunked body is followed chunk by chunk, so a ``0`` line inside a chunk's data does not pass for
its end, and a last chunk with extensions or trailer fields does. The check for "complete" only
ever errs towards handing over early (malformed or oversized headers and bodies over
``max_request_bytes`` go to gunicorn and the broker at once, which refuse them): a thread then reads
the rest itself, bounded by the deadline and rate of ``read_body``. A client that sends ``Expect:
100-continue`` gets the interim ``100 Continue`` from this loop and its body is gathered like any
other (handing it to a thread at once let such clients, stalling after the interim answer, hold
every thread). TLS connections (``tls_key``: the handshake runs in the thread) and HTTP/2 are
handed over at once — for those the WSGI-layer deadline is
the bound, and production puts nginx in front (deploy/), which buffers requests itself.

Memory: every request still arriving is held in the worker, so a few clients could send nearly
``max_request_bytes`` each and hold back the last byte. All requests a worker is still receiving may
together hold ``request_buffer_budget_bytes``; the one whose bytes would go beyond it gets HTTP 503
(Retry-After) and is closed, and requests already being received keep their room.

What remains: stalled connections still count against gunicorn's ``worker_connections`` (1000 per
worker) until their deadline; more than that from one attacker is for a per-address connection
limit in front (nginx ``limit_conn``, a firewall).
"""

from __future__ import annotations

import selectors
import time
from dataclasses import dataclass, field
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

try:  # gunicorn 24+: HTTP/2, also cleartext with prior knowledge
    from gunicorn.http2 import negotiation
except ImportError:  # pragma: no cover — older gunicorn: HTTP/1.x only
    negotiation = None

from broker.config import Settings

#: The first second of a request is not held to the minimum rate (TCP slow start, a TLS proxy).
_WARM_UP_S = 1.0
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_FULL = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_TOO_LATE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


@dataclass(eq=False)
class _Incoming:
    """A connection whose request is still arriving."""

    conn: TConn
    started: float
    buf: bytearray = field(default_factory=bytearray)
    first_byte: float | None = None  # when the first byte of the request came (the rate counts from it)
    asks_continue: bool = False  # "Expect: 100-continue": the client waits for an interim answer
    continue_sent: bool = False
    chunk: int = 0  # chunked body: where in the body the next chunk-size line starts (scanned so far)


class BufferingWorker(ThreadWorker):
    """gthread with each request received in full before a thread serves it (module docstring)."""

    def init_process(self) -> None:
        settings = getattr(self.app, "settings", None) or Settings()
        self.read_s = settings.request_read_timeout_s
        self.min_speed = settings.request_min_bytes_per_s
        self.max_body = settings.max_request_bytes
        self.budget = settings.request_buffer_budget_bytes
        self.buffered = 0  # bytes held by all requests in self.inkomend together
        cfg = self.cfg
        self.max_chunk_line = cfg.limit_request_field_size or 8190  # gunicorn's bound on a chunk-size line
        self.max_header = (
            cfg.limit_request_line + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 4
        )
        self.incoming: list[_Incoming] = []
        super().init_process()

    def enqueue_req(self, conn: TConn) -> None:
        if getattr(conn, "vva_complete", False) or not self._buffers(conn):
            conn.vva_complete = False  # the next request on this connection is gathered again
            super().enqueue_req(conn)
            return
        earlier = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        now = time.monotonic()
        incoming = _Incoming(conn, now, bytearray(earlier), now if earlier else None)
        conn.sock.setblocking(False)
        self.incoming.append(incoming)
        self.buffered += len(incoming.buf)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, incoming))
        self._onwards(incoming)

    def _buffers(self, conn: TConn) -> bool:
        return not (
            self.cfg.is_ssl
            or getattr(conn, "is_http2", False)
            or (negotiation is not None and negotiation.prior_knowledge_allowed(self.cfg, conn.client))
            or getattr(self.cfg, "protocol", "http") != "http"
        )

    def _readable(self, incoming: _Incoming, _sock) -> None:
        try:
            data = incoming.conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            self._close(incoming, response=False)
            return
        if not data:  # the client closed its side: hand over what it sent (or close, if nothing)
            if incoming.buf:
                self._pass_on(incoming)
            else:
                self._close(incoming, response=False)
            return
        if self.buffered + len(data) > self.budget:
            self.log.warning(
                "requests being received hold %d bytes, the budget is %d: 503, connection closed",
                self.buffered,
                self.budget,
            )
            _drain(incoming.conn.sock)
            self._close(incoming, response=False, reply=_FULL)
            return
        incoming.buf += data
        self.buffered += len(data)
        incoming.first_byte = incoming.first_byte or time.monotonic()
        self._onwards(incoming)

    def _onwards(self, incoming: _Incoming) -> None:
        """Hand the request over if it is complete; else, if the client waits for "100 Continue"
        before it sends its body, send that (once) and go on gathering, as for any other request."""
        if self._complete(incoming):
            self._pass_on(incoming)
        elif incoming.asks_continue and not incoming.continue_sent:
            incoming.continue_sent = True
            try:
                incoming.conn.sock.send(_CONTINUE)  # 25 bytes on a fresh connection: never blocks
            except OSError:
                self._close(incoming, response=False)

    def _complete(self, incoming: _Incoming) -> bool:
        """Whether ``incoming`` holds a whole request, or enough to refuse it; errs towards True."""
        buf = incoming.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return len(buf) > self.max_header
        length, chunked = None, False
        for line in bytes(buf[:end]).split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                if not value.isdigit() or (length is not None and int(value) != length):
                    return True  # malformed: gunicorn refuses it
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"expect":
                if value.lower() != b"100-continue":
                    return True  # gunicorn answers 417
                # RFC 9110 10.1.1: an HTTP/1.0 client sends its body anyway; the server ignores it.
                incoming.asks_continue = buf[: buf.find(b"\r\n")].endswith(b" HTTP/1.1")
        body = len(buf) - end - 4
        if chunked:
            return body > self.max_body or self._last_chunk_in(incoming, end + 4)
        return length is None or length > self.max_body or body >= length

    def _last_chunk_in(self, incoming: _Incoming, start: int) -> bool:
        """Whether the chunked body from ``start`` in the buffer is there up to the end of its trailer
        section (RFC 9112 7.1: the last chunk may carry extensions and trailer fields), or is malformed
        (gunicorn refuses it at once). Walks the chunks by their sizes, from where the previous call
        stopped: a "0" line inside a chunk's data is data, and a body in many small reads is scanned
        once."""
        buf, pos = incoming.buf, start + incoming.chunk
        while True:
            line = bytes(buf[pos : pos + self.max_chunk_line + 2])
            end = line.find(b"\r\n")
            if end < 0:
                return len(line) > self.max_chunk_line  # a size line without end: gunicorn refuses it
            size = line[:end].split(b";", 1)[0].rstrip(b" \t")
            if not size or size.strip(b"0123456789abcdefABCDEF"):
                return True  # not a chunk size: gunicorn refuses it
            data = pos + end + 2
            if int(size, 16) == 0:  # the last chunk: then trailer fields up to an empty line
                empty = buf[data : data + 2] == b"\r\n" or buf.find(b"\r\n\r\n", data) >= 0
                return empty or len(buf) - data > self.max_header
            pos = data + int(size, 16) + 2  # past the chunk's data and its CRLF
            if len(buf) < pos:
                return False
            incoming.chunk = pos - start

    def _pass_on(self, incoming: _Incoming) -> None:
        """Hand the complete request to a thread, its bytes in the parser's buffer."""
        self._forget(incoming)
        conn = incoming.conn
        conn.init()  # plain HTTP/1.x: makes the parser only (TLS and HTTP/2 are never gathered)
        conn.data_ready = True
        conn.parser.unreader.unread(bytes(incoming.buf))
        conn.vva_complete = True
        conn.vva_continue_sent = incoming.continue_sent
        self.enqueue_req(conn)

    def handle_request(self, req, conn: TConn):
        if getattr(conn, "vva_continue_sent", False):
            conn.vva_continue_sent = False
            req._expected_100_continue = False  # this worker sent it already; gunicorn would send another
        return super().handle_request(req, conn)

    def _forget(self, incoming: _Incoming) -> None:
        if incoming in self.incoming:  # not when complete at once (pipelined behind the last request)
            self.incoming.remove(incoming)
            self.buffered -= len(incoming.buf)
        try:
            self.poller.unregister(incoming.conn.sock)
        except (KeyError, ValueError, OSError):
            pass  # never registered (complete at once) or already gone

    def _close(self, incoming: _Incoming, response: bool, reply: bytes = _TOO_LATE) -> None:
        self._forget(incoming)
        if response or reply is not _TOO_LATE:
            try:
                incoming.conn.sock.send(reply)  # non-blocking, best effort
            except OSError:
                pass
        self.nr_conns -= 1
        incoming.conn.close()

    def murder_pending(self) -> None:
        """gunicorn's clean-up of idle connections, plus: close requests past their deadline or
        below the minimum rate (called from the worker's main loop about once a second)."""
        super().murder_pending()
        now = time.monotonic()
        for incoming in list(self.incoming):
            elapsed = now - incoming.started
            busy = now - (incoming.first_byte or now)  # no rate before the first byte: an idle connection
            too_slow = busy > _WARM_UP_S and len(incoming.buf) < self.min_speed * (busy - _WARM_UP_S)
            if elapsed > self.read_s or too_slow:
                self.log.info(
                    "request not received in time (%d bytes in %.1f s): 408, connection closed",
                    len(incoming.buf),
                    elapsed,
                )
                self._close(incoming, response=bool(incoming.buf))


def _drain(sock, at_most: int = 1024 * 1024) -> None:
    """Discard what the client already sent (non-blocking, bounded), so that closing the socket after
    the answer sends a FIN, not a reset that can make the client lose the answer unread."""
    try:
        while at_most > 0 and (chunk := sock.recv(min(at_most, 65536))):
            at_most -= len(chunk)
    except OSError:
        pass  # nothing more waiting (BlockingIOError) or the client is gone
