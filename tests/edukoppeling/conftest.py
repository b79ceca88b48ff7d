"""A real broker on 127.0.0.1 (module-scoped: started once per database) and a raw HTTP poster."""

from __future__ import annotations

import http.client
import socket
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import create_engine, text

from broker.cli import main
from tests.conftest import _postgres_reachable, postgres_schema, require_postgres
from tests.helpers import broker_process, write_config

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
VO = "urn:nl:vva:aanmelden:v1/vo/"
SCHOOL_A = "0000000700099XA00000"
BROKER = "00000099000000000001"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def faultcode(self) -> str | None:
        code = etree.fromstring(self.body).find(f".//{{{SOAP}}}Fault/faultcode")
        return None if code is None else code.text

    @property
    def faultstring(self) -> str:
        return etree.fromstring(self.body).find(f".//{{{SOAP}}}Fault/faultstring").text


@dataclass
class Broker:
    url: str
    database_url: str
    log: Path
    pki: Path

    def decrypted(self, blob: bytes) -> bytes:
        """A message-log row's ``inhoud`` decrypted with this broker's key file."""
        from broker.privacy.keys import load_keyring

        return load_keyring(self.pki.parent / "keys.json").decrypt_data(bytes(blob))

    def raw(self, soap_request: bytes) -> bytes:
        """Send ``request`` as raw bytes on a fresh connection and return the raw answer."""
        part = urlsplit(self.url)
        with socket.create_connection((part.hostname, part.port), timeout=30) as connection:
            connection.sendall(soap_request)
            connection.shutdown(socket.SHUT_WR)
            response = b""
            while block := connection.recv(65536):
                response += block
        return response

    def post(
        self,
        body: bytes,
        *,
        path="/vva/vo/v1",
        soapaction: str | None = '""',
        content_type="text/xml; charset=UTF-8",
        headers=None,
        method="POST",
        chunked=False,
    ) -> Response:
        part = urlsplit(self.url)
        connection = http.client.HTTPConnection(part.hostname, part.port, timeout=30)
        header = {"Content-Type": content_type, **(headers or {})}
        if soapaction is not None:
            header["SOAPAction"] = soapaction
        try:
            connection.request(method, path, body=body, headers=header, encode_chunked=chunked)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the broker answered (413) and closed before reading everything: read that answer
        response = connection.getresponse()
        result = Response(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
        connection.close()
        return result

    def scalar(self, sql: str, **params):
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql), params).scalar()
        finally:
            engine.dispose()


def _start(request, tmp_path_factory, profile: str):
    folder = tmp_path_factory.mktemp("broker")
    with ExitStack() as stack:
        if request.param == "sqlite":
            database_url = f"sqlite:///{folder / 'vva.sqlite3'}"
        else:
            require_postgres(_postgres_reachable())
            database_url = stack.enter_context(postgres_schema())
        config = write_config(Path(folder), database_url, profile=profile)
        assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
        with broker_process(config) as url:
            yield Broker(url, database_url, Path(folder) / "broker.log", Path(folder) / "pki")


_DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=_DATABASES)
def broker(request, tmp_path_factory):
    """A broker whose services run profile 2W-be (the framing and addressing rows)."""
    yield from _start(request, tmp_path_factory, "2W-be")


@pytest.fixture(scope="module", params=_DATABASES)
def signed_broker(request, tmp_path_factory):
    """A broker whose services run the standard profile 2W-be-S."""
    yield from _start(request, tmp_path_factory, "2W-be-S")


def build_envelope(
    body: str = '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>x</vva:echo></vva:ping>',
    *,
    action: str | None = VO + "ping",
    message_id: str | None = None,
    to: str | None = f"https://vva.example/vva/vo/v1?oin={BROKER}",
    van: str | None = SCHOOL_A,
    extra_headers: str = "",
    envelope_ns: str = SOAP,
) -> bytes:
    """A 2W-be request envelope; pass None to leave a header out."""
    message_id = message_id if message_id is not None else f"urn:uuid:{uuid.uuid4()}"
    parts = []
    if action is not None:
        parts.append(f"<wsa:Action>{action}</wsa:Action>")
    if message_id:
        parts.append(f"<wsa:MessageID>{message_id}</wsa:MessageID>")
    if to is not None:
        parts.append(f"<wsa:To>{to}</wsa:To>")
    if van is not None:
        parts.append(
            f"<wsa:From><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous?oin={van}</wsa:Address></wsa:From>"
        )
    return (
        f'<soap:Envelope xmlns:soap="{envelope_ns}" xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f"<soap:Header>{''.join(parts)}{extra_headers}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()
