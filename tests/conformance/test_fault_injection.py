"""The test environment's deliberate failures (``conformance_fault_injection``, broker/web/fault_injection.py):
never in production, and without the setting a ``vva-storing:`` echo is just an echo."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from lxml import etree

from broker.cli import main
from broker.config import Settings, load_settings
from broker.web.fault_injection import FAULT_HOOK, FaultInjection, requested_fault
from tests.conformance.test_kit import SCHOOL_A, _broker_config, _junit, _kit
from tests.helpers import broker_process, write_config


def test_production_refuses_fault_injection(tmp_path):
    with pytest.raises(ValueError, match="conformance_fault_injection = true is for test environments only"):
        Settings(environment="production", conformance_fault_injection=True)
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}", extra='environment = "production"\n'
    )
    assert load_settings(config).conformance_fault_injection is False
    with config.open("a") as bestand:
        bestand.write("conformance_fault_injection = true\n")
    result = CliRunner().invoke(main, ["--config", str(config), "serve", "--port", "1"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {config}: conformance_fault_injection = true is for test environments only: "
        'refusing it with environment = "production"\n'
    )


def test_without_the_setting_a_fault_echo_is_just_an_echo(tmp_path):
    config = _broker_config(tmp_path, f"sqlite:///{tmp_path / 'vva.sqlite3'}", faults=False)
    with broker_process(config, scheme="https") as url:
        junit = tmp_path / "vo.xml"
        result = _kit(
            f"{url}/vva/vo/v1", tmp_path / "pki", SCHOOL_A, "--only", "storing-*",
            "--save", str(tmp_path / "berichten"), junit=junit,
        )  # fmt: skip
    # The broker answered the ping as usual: it does not offer deliberate failures, so the kit skips
    # those cases with the reason instead of failing them (issue 20, item 2).
    assert result.exit_code == 0, result.output
    assert _junit(junit) == {
        "storing-dk0050": "SKIP",
        "storing-dk0051": "SKIP",
        "storing-dk0008": "SKIP",
        "storing-dk0008-met-relatesto": "ok",
    }
    assert "this broker does not offer deliberate failures" in result.output
    response = (tmp_path / "berichten" / "storing-dk0051.response.xml").read_bytes()
    assert b"<tns:echo>vva-storing:DK0051</tns:echo>" in response


def _ping(echo: str | None) -> etree._Element:
    ping = etree.Element("{urn:nl:vva:aanmelden:v1}ping")
    if echo is not None:
        etree.SubElement(ping, "{urn:nl:vva:aanmelden:v1}echo").text = echo
    return ping


@pytest.mark.parametrize(
    ("operatie", "echo", "relates_to", "code"),
    [
        ("ping", "vva-storing:DK0050", None, "Server.DK0050"),
        ("ping", "vva-storing:DK0051", "urn:uuid:0f0f0f0f-1111-4222-8333-000000000001", "Server.DK0051"),
        ("ping", "vva-storing:DK0008", None, "Client.DK0008"),
        ("ping", "vva-storing:DK0008", "urn:uuid:0f0f0f0f-1111-4222-8333-000000000001", None),
        ("ping", "vva-storing:DK0052", None, None),
        ("ping", "vva-storing:dk0050", None, None),
        ("ping", " vva-storing:DK0050x", None, None),
        ("ping", None, None, None),
        ("opvragenStatus", "vva-storing:DK0050", None, None),
    ],
)
def test_only_exactly_the_three_echo_texts_of_ping_request_a_fault(operatie, echo, relates_to, code):
    fault = requested_fault(operatie, _ping(echo), relates_to)
    assert (fault.code if fault else None) == code


def test_the_middleware_gives_each_request_the_hook_and_keeps_the_receivers_own():
    seen = []

    def app(environ, start_response):
        seen.append(environ.get(FAULT_HOOK))
        return []

    def own(*_):
        return None

    FaultInjection(app)({}, None)
    FaultInjection(app)({FAULT_HOOK: own}, None)
    app({}, None)  # without the middleware (production): no hook, so the pipeline raises nothing
    assert seen == [requested_fault, own, None]
