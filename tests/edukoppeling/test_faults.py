"""The typed fault (issue 19, item 3): the code is a ``FaultCode``, the WS-Security class a
``WsSecurityFault``, and the text the message log and ``str()`` show is what it was when the class
travelled as a prefix of ``reden``."""

from __future__ import annotations

import pytest

from broker.edukoppeling.faults import FAULTSTRINGS, EdukoppelingFault, FaultCode, WsSecurityFault
from broker.errors import BrokerError


def test_every_fault_code_has_its_table_text():
    assert list(FAULTSTRINGS) == list(FaultCode)
    assert FaultCode.CLIENT_DK0011 == "Client.DK0011"
    assert FaultCode("VersionMismatch.DK0001").faultstring == "Invalide envelope"
    assert FaultCode.MUST_UNDERSTAND.faultstring == "Header met mustUnderstand wordt niet ondersteund"


def test_the_ws_security_classes_are_the_qnames_of_wss_1_1():
    assert {c.value for c in WsSecurityFault} == {
        "wsse:UnsupportedAlgorithm",
        "wsse:InvalidSecurity",
        "wsse:InvalidSecurityToken",
        "wsse:FailedAuthentication",
        "wsse:FailedCheck",
        "wsse:SecurityTokenUnavailable",
        "wsse:MessageExpired",
    }


def test_a_ws_security_class_goes_before_the_reason_with_one_space():
    error = EdukoppelingFault(
        FaultCode.CLIENT_EK0031, "wsu:Timestamp holds text", wss=WsSecurityFault.INVALID_SECURITY
    )
    assert (error.code, error.wss, error.text) == (
        FaultCode.CLIENT_EK0031,
        WsSecurityFault.INVALID_SECURITY,
        "wsu:Timestamp holds text",
    )
    assert error.reason == "wsse:InvalidSecurity wsu:Timestamp holds text"
    assert str(error) == "Client.EK0031: wsse:InvalidSecurity wsu:Timestamp holds text"
    assert error.faultstring == "Berichtondertekening niet aanwezig of onjuist"
    assert isinstance(error, BrokerError)


def test_without_a_class_the_reason_is_the_text():
    error = EdukoppelingFault(
        "Client.DK0004", "Body child count", "De Body moet precies één element bevatten."
    )
    assert error.code is FaultCode.CLIENT_DK0004  # a string code is read as its FaultCode
    assert (error.wss, error.reason, str(error)) == (None, "Body child count", "Client.DK0004: Body child count")
    assert error.detail_on_the_wire == "De Body moet precies één element bevatten."


def test_an_ek0031_without_detail_points_at_the_offline_tools():
    error = EdukoppelingFault(FaultCode.CLIENT_EK0031, "no ds:Signature", wss=WsSecurityFault.INVALID_SECURITY)
    assert error.detail is None and error.detail_on_the_wire.startswith("De precieze oorzaak")


def test_an_unknown_code_is_refused():
    with pytest.raises(ValueError, match="unknown fault code Client.DK9999"):
        EdukoppelingFault("Client.DK9999", "x")
