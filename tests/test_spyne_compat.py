"""broker/spyne_compat.py: the released spyne 2.14.0 imports and serves SOAP 1.1 on the running Python.

The checks that depend on import order run in a fresh interpreter, where nothing has imported spyne yet.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

from lxml import etree

import broker  # noqa: F401  (applies the patch, as on every path into the broker)


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_spyne_imports_through_the_broker_without_warnings():
    outcome = _fresh_python(
        """
        import sys
        import broker
        assert "spyne" not in sys.modules
        import spyne
        from spyne.protocol.soap import Soap11
        from spyne.server.wsgi import WsgiApplication
        from spyne.util.six.moves.collections_abc import MutableSet
        from spyne.util.six.moves.urllib.parse import quote
        import collections.abc, http.cookies
        from spyne.util.six.moves import http_cookies
        from broker import spyne_compat
        importer = sys.modules["spyne.util.six"]._importer
        print(type(importer).find_spec is spyne_compat._find_spec)
        print(MutableSet is collections.abc.MutableSet, quote("a b"))
        print(http_cookies is http.cookies, http.cookies.__spec__.name)
        print(spyne.__version__)
        """
    )
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.split("\n") == ["True", "True a%20b", "True http.cookies", "2.14.0", ""]


def test_spyne_without_the_patch_fails_from_python_3_12():
    """Why the module exists; when this test fails on 3.12+, the pinned spyne imports on its own and
    broker/spyne_compat.py can go (its docstring says how)."""
    outcome = subprocess.run(
        [sys.executable, "-c", "import spyne; print(spyne.__version__)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if sys.version_info >= (3, 12):
        assert outcome.returncode != 0
        assert "No module named 'spyne.util.six.moves'" in outcome.stderr
    else:
        assert outcome.returncode == 0, outcome.stderr
        assert outcome.stdout == "2.14.0\n"


def test_patch_is_idempotent_and_leaves_a_current_importer_alone():
    import spyne.util.six as six

    from broker import spyne_compat

    assert spyne_compat.patch_six_importer(six) is False  # already patched when spyne was imported

    class Current:
        def find_spec(self, fullname, path=None, target=None):
            return None

    class FakeSix:
        _SixMetaPathImporter = Current

    assert spyne_compat.patch_six_importer(FakeSix) is False
    assert Current.__dict__["find_spec"] is not spyne_compat._find_spec


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def test_a_soap11_service_answers_on_this_python():
    from spyne import Application, Integer, ServiceBase, Unicode, rpc
    from spyne.protocol.soap import Soap11
    from spyne.server.wsgi import WsgiApplication

    class Greeting(ServiceBase):
        @rpc(Unicode, Integer, _returns=Unicode)
        def greet(ctx, name, times):
            return " ".join([f"hello {name}"] * times)

    app = Application(
        [Greeting], tns="urn:vva:test:compat", in_protocol=Soap11(validator="lxml"), out_protocol=Soap11()
    )
    server = make_server("127.0.0.1", 0, WsgiApplication(app), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        address = f"http://127.0.0.1:{server.server_port}/"
        with urllib.request.urlopen(address + "?wsdl", timeout=30) as response:
            wsdl = etree.fromstring(response.read())
        assert wsdl.get("targetNamespace") == "urn:vva:test:compat"

        envelope = (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="urn:vva:test:compat">'
            b"<s:Body><t:greet><t:name>Python %d.%d</t:name><t:times>2</t:times></t:greet></s:Body>"
            b"</s:Envelope>" % sys.version_info[:2]
        )
        soap_request = urllib.request.Request(
            address,
            data=envelope,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"greet"'},
        )
        with urllib.request.urlopen(soap_request, timeout=30) as response:
            assert response.status == 200
            body = etree.fromstring(response.read())
    finally:
        server.shutdown()
        server.server_close()
    result = body.find(".//{urn:vva:test:compat}greetResult")
    version = "{}.{}".format(*sys.version_info[:2])
    assert result.text == f"hello Python {version} hello Python {version}"
