"""H92 for slow and lying clients, against the real server ``vva serve`` runs (gunicorn, the broker's
gthread worker, broker.web.worker): uploads that stall in the body hold no thread, so others are
still answered; a body shorter than its Content-Length is refused and nothing of it is applied."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import create_engine, text

from broker.cli import main
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.wss.signer import Signer
from tests.edukoppeling.conftest import SCHOOL_A, VO, build_envelope
from tests.helpers import broker_process, bsn, post_soap, write_config

THREADS = 2


@pytest.fixture
def broker(tmp_path):
    database = f"sqlite:///{tmp_path / 'vva.sqlite3'}"
    config = write_config(tmp_path, database, profile="2W-be-S")
    result = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert result.exit_code == 0, result.output
    with broker_process(config, "--threads", str(THREADS)) as url:
        yield url, tmp_path / "pki", database


def _signed(pki: Path, body: str | None = None, action: str = VO + "ping") -> bytes:
    root = etree.fromstring(build_envelope(body, action=action) if body else build_envelope(action=action))
    Signer((pki / f"{SCHOOL_A}.key.pem").read_bytes(), (pki / f"{SCHOOL_A}.cert.pem").read_bytes()).sign(
        root, datetime.now(UTC)
    )
    return to_bytes(root)


def _header(length: int) -> bytes:
    return (
        f"POST /vva/vo/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=UTF-8\r\n"
        f'SOAPAction: ""\r\nContent-Length: {length}\r\n\r\n'
    ).encode()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_h92_stalled_uploads_hold_no_thread(broker):
    url, pki, _ = broker
    ping = _signed(pki)
    # More stalled uploads than the broker has threads: headers and a first part of the body, then nothing.
    stuck = []
    for _ in range(THREADS + 3):
        connection = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
        connection.sendall(_header(len(ping)) + ping[:200])
        stuck.append(connection)
    time.sleep(1.0)  # every stalled upload has been accepted and would have had a thread by now

    begin = time.monotonic()
    status, body = post_soap(url, ping)
    duration = time.monotonic() - begin

    assert status == 200, body[:300]
    assert b"Fault>" not in body
    assert duration < 2.0
    # The stalled uploads are still open (not simply dropped to make room): none has had an answer.
    for connection in stuck:
        connection.setblocking(False)
        with pytest.raises(BlockingIOError):
            connection.recv(1)
        connection.close()


def test_h92_a_body_shorter_than_content_length_is_refused_and_not_applied(broker):
    url, pki, database = broker
    delivery = _signed(
        pki,
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling>'
        f"<vva:volgnummer>1</vva:volgnummer><vva:bsn>{bsn('12312312')}</vva:bsn><vva:brinVo>99XA</vva:brinVo>"
        "<vva:postcode>1011AB</vva:postcode><vva:woongemeente>0363</vva:woongemeente>"
        "<vva:mutatie>toevoegen</vva:mutatie></vva:leerling></vva:aanleverenLeerlingen>",
        action=VO + "aanleverenLeerlingen",
    )
    # The whole, valid, signed message, but Content-Length promises 500 bytes more; then the client
    # closes its side.
    connection = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
    connection.sendall(_header(len(delivery) + 500) + delivery)
    connection.shutdown(socket.SHUT_WR)
    response = b""
    while part := connection.recv(65536):
        response += part
    connection.close()

    assert response.startswith(b"HTTP/1.1 400 "), response[:200]
    assert b"shorter than its Content-Length" in response
    engine = create_engine(database)
    with engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM bericht")).scalar() == 0
        assert db.execute(text("SELECT count(*) FROM leerling")).scalar() == 0
    # The control: the same message, framed honestly, is applied.
    status, body = post_soap(url, delivery)
    assert status == 200, body[:300]
    with engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM leerling")).scalar() == 1
    engine.dispose()


def _read_answers(connection: socket.socket, count: int, deadline_s: float = 10.0) -> list[bytes]:
    """Read ``count`` HTTP responses (with Content-Length) from ``connection``."""
    connection.settimeout(deadline_s)
    buf, answers = b"", []
    while len(answers) < count:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            header = buf[:end].decode("latin-1")
            length = next(
                int(r.split(":", 1)[1]) for r in header.split("\r\n") if r.lower().startswith("content-length:")
            )
            if len(buf) >= end + 4 + length:
                answers.append(buf[: end + 4 + length])
                buf = buf[end + 4 + length :]
                continue
        try:
            part = connection.recv(65536)
        except TimeoutError:
            break
        if not part:
            break
        buf += part
    return answers


def test_h92_two_pipelined_requests_both_get_an_answer(broker):
    url, pki, _ = broker
    first, second = _signed(pki), _signed(pki)
    connection = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
    connection.sendall(_header(len(first)) + first + _header(len(second)) + second)
    answers = _read_answers(connection, 2)
    connection.close()
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 2


def _chunked_header(extra: str = "") -> bytes:
    return (
        "POST /vva/vo/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=UTF-8\r\n"
        f'SOAPAction: ""\r\nTransfer-Encoding: chunked\r\n{extra}\r\n'
    ).encode()


def _ping_within_2_s(url: str, pki: Path) -> None:
    ping = _signed(pki)
    begin = time.monotonic()
    status, body = post_soap(url, ping)
    duration = time.monotonic() - begin
    assert status == 200, body[:300]
    assert duration < 2.0


def test_h92_chunked_with_an_extension_on_the_last_chunk_is_accepted(broker):
    # RFC 9112 7.1: last-chunk = 1*"0" [ chunk-ext ] CRLF, then the trailer section and CRLF.
    url, pki, _ = broker
    ping = _signed(pki)
    half = len(ping) // 2
    body = (
        f"{half:x};deel=1\r\n".encode()
        + ping[:half]
        + f"\r\n{len(ping) - half:X}\r\n".encode()
        + ping[half:]
        + b"\r\n000;klaar=ja\r\nX-Controle: 1\r\n\r\n"
    )
    connection = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
    connection.sendall(_chunked_header() + body)
    answers = _read_answers(connection, 1, deadline_s=5.0)
    connection.close()
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"]


def test_h92_stalled_chunked_upload_with_a_zero_line_in_the_data_holds_no_thread(broker):
    # A chunk whose data holds "\r\n0\r\n" is not the end of the body; the upload then stalls.
    url, pki, _ = broker
    stuck = []
    for _ in range(THREADS + 1):
        connection = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
        connection.sendall(_chunked_header() + b"9\r\n<a>\r\n0\r\n\r\n100\r\nmeer")
        stuck.append(connection)
    time.sleep(1.0)
    _ping_within_2_s(url, pki)
    for connection in stuck:
        connection.close()


def test_h92_stalled_upload_with_expect_100_continue_holds_no_thread(broker):
    url, pki, _ = broker
    stuck = []
    for _ in range(THREADS + 1):
        connection = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
        connection.sendall(_header(4000)[:-2] + b"Expect: 100-continue\r\n\r\n")
        # The client may send its body only after the interim answer: it gets one, and stalls.
        assert connection.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        stuck.append(connection)
    time.sleep(1.0)
    _ping_within_2_s(url, pki)
    for connection in stuck:
        connection.close()


def test_h92_expect_100_continue_gets_an_interim_answer_and_then_the_answer(broker):
    url, pki, _ = broker
    ping = _signed(pki)
    connection = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
    connection.sendall(_header(len(ping))[:-2] + b"Expect: 100-continue\r\n\r\n")
    assert connection.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    connection.sendall(ping)
    answers = _read_answers(connection, 1)
    connection.close()
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"]


def test_h92_stalled_large_uploads_do_not_fill_the_memory(tmp_path):
    """Uploads that send most of a large body and then stall may together hold at most
    ``request_buffer_budget_bytes`` in a worker: the one that would go beyond it gets 503 and is
    closed, the ones already being received keep their room, and a signed ping is still answered."""
    database = f"sqlite:///{tmp_path / 'vva.sqlite3'}"
    config = write_config(
        tmp_path, database, profile="2W-be-S", extra="request_buffer_budget_bytes = 300000\n"
    )
    result = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert result.exit_code == 0, result.output
    with broker_process(config, "--threads", str(THREADS)) as url:
        ping = _signed(tmp_path / "pki")
        part = b"<" + b"x" * 119_999  # 120 kB of a 1 MB body: two fit in the budget, a third does not
        stuck = []
        for _ in range(3):
            connection = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
            connection.sendall(_header(1_000_000) + part)
            stuck.append(connection)
            time.sleep(0.3)  # in order: the first two are being received when the third arrives

        stuck[2].settimeout(5)
        response = b""
        while chunk := stuck[2].recv(65536):
            response += chunk
        assert response.startswith(b"HTTP/1.1 503 "), response[:200]
        for connection in stuck[:2]:  # still being received: no answer, not closed
            connection.setblocking(False)
            with pytest.raises(BlockingIOError):
                connection.recv(1)

        status, body = post_soap(url, ping)
        assert status == 200, body[:300]
        for connection in stuck:
            connection.close()
