"""WS-Security for zeep clients, the Edukoppeling way (edukoppeling.md §3, §6.3).

zeep's own ``Signature``/``BinarySignature`` sign only the Body (plus an existing Timestamp), default
to SHA-1, put X509Data in the SecurityTokenReference and verify responses unsafely (hostile-inputs.md
"Known weaknesses": zeep). This class replaces them: requests are signed by the broker's signer
(Body, Timestamp, every wsa header, SHA-256, a BST by direct reference) and responses are verified by
the broker's own verifier, including SignatureConfirmation when present (S8).
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from broker.edukoppeling.envelope import lees_envelop
from broker.edukoppeling.faults import EdukoppelingFout
from broker.edukoppeling.ns import q
from broker.edukoppeling.vertrouwen import Vertrouwen
from broker.edukoppeling.wss.constants import WSSE11
from broker.edukoppeling.wss.ondertekening import Ondertekenaar
from broker.edukoppeling.wss.verificatie import Instellingen, verifieer


class OnbetrouwbaarAntwoord(Exception):
    """A response whose signature, coverage, Timestamp or signer could not be verified (S7, H76)."""


class EdukoppelingWsse:
    """zeep's ``wsse`` interface (``apply``/``verify``) with the broker's signer and verifier.

    ``vertrouwen`` checks the responder's certificate (chain, CRL, OIN) and ``verwacht_oin`` the
    responder's OIN; without a trust store only the signature itself is checked (tests, tools).
    """

    def __init__(
        self,
        ondertekenaar: Ondertekenaar,
        vertrouwen: Vertrouwen | None = None,
        verwacht_oin: str | None = None,
        instellingen: Instellingen | None = None,
    ) -> None:
        self.ondertekenaar = ondertekenaar
        self.vertrouwen = vertrouwen
        self.verwacht_oin = verwacht_oin
        self.instellingen = instellingen or Instellingen()
        self.verzonden_handtekening: str | None = None

    def apply(self, envelope: etree._Element, headers: dict) -> tuple[etree._Element, dict]:
        self.ondertekenaar.onderteken(envelope, datetime.now(UTC))
        waarde = envelope.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
        self.verzonden_handtekening = "".join(waarde.text.split())
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        """Verify a response envelope; raises ``OnbetrouwbaarAntwoord`` on any failure (an unsigned
        fault included: it must never be treated as signed, H76)."""
        nu = datetime.now(UTC)
        try:
            geverifieerd = verifieer(lees_envelop(envelope, wss_toegestaan=True), nu, self.instellingen)
            if self.vertrouwen is not None:
                oin = self.vertrouwen.controleer(geverifieerd.certificaat, "ondertekening", nu)
                if self.verwacht_oin is not None and oin != self.verwacht_oin:
                    raise OnbetrouwbaarAntwoord("response signed by an unexpected party")
        except EdukoppelingFout as fout:
            raise OnbetrouwbaarAntwoord(f"response not verified: {fout.reden}") from None
        bevestiging = envelope.find(f".//{q(WSSE11, 'SignatureConfirmation')}")
        if bevestiging is not None and bevestiging.get("Value") != self.verzonden_handtekening:
            raise OnbetrouwbaarAntwoord("SignatureConfirmation does not match the request's signature")
        return envelope
