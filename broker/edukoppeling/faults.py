"""The Edukoppeling fault table (EK faults; BP WUS for the DK codes; docs/rules.md) and the exception that carries a fault.

Every refusal inside the SOAP pipeline raises ``EdukoppelingFout``; the web layer turns it into a
SOAP 1.1 Fault with HTTP 500 (F1, F2). The faultstring is always the table text; ``detail`` is only
given for Body faults (F3), to say what to fix in addressing (DK0011) and authorisation (DK0002),
and on EK0031 only to point at the offline tools; never payload values such as a BSN.
"""

from __future__ import annotations

from broker.errors import BrokerError

FAULTSTRINGS: dict[str, str] = {
    "VersionMismatch.DK0001": "Invalide envelope",
    "Client.DK0002": "Niet geautoriseerd",
    "Client.DK0003": "Invalide soap-action",
    "Client.DK0004": "Niet conform XSD",
    "Client.DK0005": "Wsa:To ontbreekt",
    "Client.DK0006": "Wsa:Action ontbreekt",
    "Client.DK0007": "Wsa:MessageID ontbreekt",
    "Client.DK0008": "Wsa:RelatesTo ontbreekt",
    "Client.DK0009": "Niet conform UTF-8",
    "Client.DK0010": "Andere headers",
    "Client.DK0011": "Onjuiste waarde in wsa header",
    "Client.EK0020": "Wsa:From ontbreekt",
    "Client.EK0021": "Wsa:From bevat geen geldig OIN",
    "Client.EK0022": "Wsa:To bevat geen geldig OIN",
    "Client.EK0023": "Wsa:MessageID bevat geen UUID",
    "Client.EK0030": "OIN in TLS certificaat ontbreekt of is ongeldig",
    "Client.EK0031": "Berichtondertekening niet aanwezig of onjuist",
    "Server.DK0050": "Service afhandeling geeft fout",
    "Server.DK0051": "Service niet beschikbaar",
    # SOAP 1.1 §4.4.1: an unprocessed header with mustUnderstand="1" (F6).
    "MustUnderstand": "Header met mustUnderstand wordt niet ondersteund",
}


#: The detail of every Client.EK0031 that has no more specific one. The faultstring stays neutral
#: (security failures must not tell an attacker which check failed); the partner's own tools do.
EK0031_UITLEG = (
    "De precieze oorzaak wordt om veiligheidsredenen niet teruggegeven. 'vva envelope verify <bericht.xml>' "
    "voert dezelfde controles offline uit op uw eigen bericht en noemt de oorzaak; de conformance-kit "
    "('vva conformance run', docs/conformance.md) doet dat voor al uw berichtsoorten."
)


class EdukoppelingFout(BrokerError):
    """A refusal with an Edukoppeling fault code.

    ``code``: a key of ``FAULTSTRINGS`` (e.g. ``Client.DK0011``). ``reden``: the precise check that
    failed, for the message log only (e.g. ``xml:Forbidden DOCTYPE``). ``detail``: text for the
    Fault's detail element telling the sender what to fix (Body faults, addressing, authorisation;
    an EK0031 without one gets ``EK0031_UITLEG`` on the wire, see ``detail_op_de_lijn``).
    """

    def __init__(self, code: str, reden: str, detail: str | None = None) -> None:
        if code not in FAULTSTRINGS:
            raise ValueError(f"unknown fault code {code}")
        super().__init__(f"{code}: {reden}")
        self.code = code
        self.reden = reden
        self.detail = detail

    @property
    def faultstring(self) -> str:
        return FAULTSTRINGS[self.code]

    @property
    def detail_op_de_lijn(self) -> str | None:
        """The detail the Fault carries: ``detail``, or for an EK0031 without one the pointer to the
        offline tools (``EK0031_UITLEG``)."""
        if self.detail is None and self.code == "Client.EK0031":
            return EK0031_UITLEG
        return self.detail


class HttpFout(BrokerError):
    """A refusal before any SOAP processing: a bare HTTP status (405, 411, 413, 415; hostile-inputs F)."""

    def __init__(self, status: int, reden: str, allow: str | None = None) -> None:
        super().__init__(f"HTTP {status}: {reden}")
        self.status = status
        self.reden = reden
        self.allow = allow
