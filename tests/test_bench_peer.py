"""The names ``../shared/tools/peer-wss4j`` imports from ``bench/_opstelling.py`` (issue 18): its runner,
``gate.py`` and ``compare.py`` sign their requests with ``ondertekenaar`` and ``envelop`` and address them
with ``NS`` and ``SCHOOL_A``. The tool lives outside this repository, so a rename here would break it
silently; this test keeps the names and checks that they still make a signed ping of school A."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from bench._opstelling import NS, SCHOOL_A, envelop, ondertekenaar
from broker.edukoppeling.ns import WSA
from broker.pki.demo import make_demo_pki


def test_the_peer_tools_names_make_a_signed_ping_of_school_a(tmp_path):
    make_demo_pki(tmp_path, [(SCHOOL_A, "school A")], datetime.now(UTC))
    bericht = envelop(ondertekenaar(tmp_path, SCHOOL_A), SCHOOL_A, "vo", "ping", f'<v:ping xmlns:v="{NS}"/>')
    root = etree.fromstring(bericht)
    assert root.findtext(f".//{{{WSA}}}Action") == f"{NS}/vo/ping"
    assert root.findtext(f".//{{{WSA}}}Address").endswith(f"?oin={SCHOOL_A}")
    assert b"SignatureValue" in bericht
