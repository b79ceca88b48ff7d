"""WS-Security for zeep clients, the Edukoppeling way (S1–S9; docs/rules.md, "The broker as client").

zeep's own ``Signature``/``BinarySignature`` sign only the Body (plus an existing Timestamp), default
to SHA-1, put X509Data in the SecurityTokenReference and verify responses unsafely (docs/rules.md,
"Known weaknesses": zeep). This class replaces them: requests are signed by the broker's signer
(Body, Timestamp, every wsa header, SHA-256, a BST by direct reference) and responses are verified by
the broker's own verifier, including SignatureConfirmation when present (S8).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from lxml import etree

from broker.edukoppeling.addressing import message_id_key
from broker.edukoppeling.envelope import read_envelope
from broker.edukoppeling.faults import EdukoppelingFault
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU, q
from broker.edukoppeling.trust_store import TrustStore
from broker.edukoppeling.wss.constants import DS, WSSE11
from broker.edukoppeling.wss.signer import Signer
from broker.edukoppeling.wss.verification import VerifierSettings, verify_envelope
from broker.errors import BrokerError


class UntrustedResponse(BrokerError):
    """A response whose signature, coverage, Timestamp or signer could not be verified (S7, H76)."""


class EdukoppelingWsse:
    """zeep's ``wsse`` interface (``apply``/``verify``) with the broker's signer and verifier.

    ``trust`` checks the responder's certificate (chain, CRL, OIN) and ``expected_oin`` the
    responder's OIN; without a trust store only the signature itself is checked (tests, tools).
    """

    def __init__(
        self,
        signer: Signer | None,
        trust: TrustStore | None = None,
        expected_oin: str | None = None,
        settings: VerifierSettings | None = None,
        authorised: Callable[[str], bool] | None = None,
    ) -> None:
        self.signer = signer
        self.trust = trust
        self.expected_oin = expected_oin
        self.settings = settings or VerifierSettings()
        # A partner's answer may be signed by a supplier holding a mandate for it (M2).
        self.authorised = authorised
        # One zeep client may serve several threads: what was sent is remembered per thread.
        self._sent = threading.local()

    def apply(self, envelope: etree._Element, headers: dict) -> tuple[etree._Element, dict]:
        self.signer.sign(envelope, datetime.now(UTC))
        value = envelope.find(f".//{q(DS, 'SignatureValue')}")
        self._sent.signature_value = "".join(value.text.split())
        self._sent.message_id = _text(envelope, "MessageID")
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        """Verify a response envelope; raises ``UntrustedResponse`` on any failure (an unsigned
        fault included: it must never be treated as signed, H76)."""
        now = datetime.now(UTC)
        try:
            soap_envelope = read_envelope(envelope, wss_allowed=True)
            trust_check = None
            if self.trust is not None:
                trust_check = lambda certificate: self.trust.check_all(certificate, "ondertekening", now)  # noqa: E731
            verified = verify_envelope(soap_envelope, now, self.settings, trust_check=trust_check)
        except EdukoppelingFault as error:
            raise UntrustedResponse(f"response not verified: {error.reason}") from None
        signer = verified.oin
        if self.expected_oin is not None and signer is not None and signer != self.expected_oin:
            if self.authorised is None or not self.authorised(signer):
                raise UntrustedResponse("response signed by an unexpected party")
        self._check_addressing(envelope)
        self._check_confirmation(envelope, verified.signed)
        return envelope

    def _check_addressing(self, envelope: etree._Element) -> None:
        # The broker as client (docs/rules.md): RelatesTo is the MessageID we sent (a missing one is treated like DK0008), and the
        # answer comes from the party we called.
        sent = getattr(self._sent, "message_id", None)
        relates_to = _text(envelope, "RelatesTo")
        if sent is None or relates_to is None or message_id_key(relates_to) != message_id_key(sent):
            raise UntrustedResponse("wsa:RelatesTo is not the MessageID of our request")
        if self.expected_oin is not None:
            from_address = envelope.find(f"{q(SOAP11, 'Header')}/{q(WSA, 'From')}/{q(WSA, 'Address')}")
            if from_address is None or not (from_address.text or "").strip().endswith(f"oin={self.expected_oin}"):
                raise UntrustedResponse("wsa:From is not the party called")

    def _check_confirmation(self, envelope: etree._Element, signed: frozenset[str]) -> None:
        # S8: tolerated when absent; when present it must be signed and equal our SignatureValue.
        security = envelope.find(f"{q(SOAP11, 'Header')}/{q(WSSE, 'Security')}")
        confirmations = [] if security is None else security.findall(q(WSSE11, "SignatureConfirmation"))
        if not confirmations:
            return
        if len(confirmations) > 1 or confirmations[0].get(q(WSU, "Id")) not in signed:
            raise UntrustedResponse("SignatureConfirmation is not one signed element")
        if confirmations[0].get("Value") != getattr(self._sent, "signature_value", None):
            raise UntrustedResponse("SignatureConfirmation does not match the request's signature")


def _text(envelope: etree._Element, name: str) -> str | None:
    element = envelope.find(f"{q(SOAP11, 'Header')}/{q(WSA, name)}")
    return None if element is None else "".join(element.itertext()).strip()
