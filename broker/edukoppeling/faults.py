"""The Edukoppeling fault table (EK faults; BP WUS for the DK codes; docs/rules.md) and the exception that carries a fault.

Every refusal inside the SOAP pipeline raises ``EdukoppelingFault``; the web layer turns it into a
SOAP 1.1 Fault with HTTP 500 (F1, F2). The faultstring is always the table text; ``detail`` is only
given for Body faults (F3), to say what to fix in addressing (DK0011) and authorisation (DK0002),
and on EK0031 only to point at the offline tools; never payload values such as a BSN.

The broker's exceptions
-----------------------

Every exception class the broker defines derives from ``BrokerError`` (``broker/errors.py``;
``tests/test_errors.py`` checks it). A class marked ``ValueError`` has that as its second base, so an
``except ValueError`` catches it too::

    BrokerError                                  broker/errors.py
    ├── EdukoppelingFault                 a SOAP Fault: code (FaultCode), reason, detail, wss (WsSecurityFault)
    ├── HttpError                         a bare HTTP status before any SOAP processing (405, 411, 413, 415)
    ├── Rejection (ValueError)            a record is rejected with a catalogue melding    domain/meldingen.py
    │   └── TransitionNotAllowed          a status transition that is not allowed          domain/status.py
    ├── InvalidOin (ValueError)           an OIN of the wrong form                         domain/identifiers.py
    ├── NotVisible                        the party may not see this pupil                 domain/visibility.py
    ├── NotAuthorised                     the caller may not do this (DK0002)              service/context.py
    ├── InvalidFile                       an uploaded file as a whole (DK0004)             service/file_upload.py
    ├── InvalidPeildatum (ValueError)     a peildatum outside the cycle                    service/procescijfers.py
    ├── PartijError (ValueError)          a party cannot be stored, removed or read        registry/validation.py
    ├── SettingsError (ValueError)        an unusable settings file or setting             config.py
    ├── TomlFileError (ValueError)        an operator's TOML file cannot be read           toml_file.py
    ├── ClientSettingsError (ValueError)  the client's settings file                       client/settings.py
    ├── StartRefused (ValueError)         the settings do not allow serving                web/startup_checks.py
    ├── KeyringError                      the key file, or a ciphertext of an unknown key  privacy/keys.py
    ├── CyclusError                       a cycle cannot be opened or closed now           jaarcyclus/close.py
    ├── RapportError (ValueError)         a report cannot be made as asked                 rapportage/rapport.py
    ├── JaarcijfersExist                  the yearly aggregates were stored before         rapportage/jaarcijfers.py
    ├── UnknownFile (ValueError)          not a DUO file this importer knows               refdata/duo.py
    ├── _Unusable                         one unusable row of a DUO file (internal)        refdata/duo.py
    ├── UntrustedResponse                 a response that could not be verified            outbound/signing.py
    └── _TooLate                          a delivery attempt past its deadline (internal)  outbound/transport.py

An ``EdukoppelingFault`` carries::

    code: FaultCode                 what the wire says: faultcode, and the table's faultstring
    ├── VERSION_MISMATCH_DK0001     VersionMismatch.DK0001   Invalide envelope
    ├── CLIENT_DK0002 … DK0011      Client.DK00xx            authorisation, SOAPAction, XSD, wsa, UTF-8
    ├── CLIENT_EK0020 … EK0023      Client.EK002x            wsa:From, the OINs in wsa:From/To, the MessageID
    ├── CLIENT_EK0030               Client.EK0030            the OIN in the TLS (or signing) certificate
    ├── CLIENT_EK0031               Client.EK0031            the message signature
    ├── SERVER_DK0050, DK0051       Server.DK005x            service error, service not available
    └── MUST_UNDERSTAND             MustUnderstand           a mustUnderstand header we do not process
    wss: WsSecurityFault | None     the WS-Security class of a security refusal, message log only
    ├── UNSUPPORTED_ALGORITHM       wsse:UnsupportedAlgorithm
    ├── INVALID_SECURITY            wsse:InvalidSecurity
    ├── INVALID_SECURITY_TOKEN      wsse:InvalidSecurityToken
    ├── FAILED_AUTHENTICATION       wsse:FailedAuthentication
    ├── FAILED_CHECK                wsse:FailedCheck
    ├── SECURITY_TOKEN_UNAVAILABLE  wsse:SecurityTokenUnavailable
    └── MESSAGE_EXPIRED             wsse:MessageExpired
    reason: str                     the message log's reason: "<wss> <text>", or the text alone
    detail: str | None              the Fault's detail (``detail_on_the_wire``)
"""

from __future__ import annotations

from enum import StrEnum

from broker.errors import BrokerError


class FaultCode(StrEnum):
    """An Edukoppeling fault code, its value exactly as the Fault's faultcode carries it (``Client.DK0011``);
    ``faultstring`` is the table text (``FAULTSTRINGS``). A StrEnum, so it compares equal to the string."""

    VERSION_MISMATCH_DK0001 = "VersionMismatch.DK0001"
    CLIENT_DK0002 = "Client.DK0002"
    CLIENT_DK0003 = "Client.DK0003"
    CLIENT_DK0004 = "Client.DK0004"
    CLIENT_DK0005 = "Client.DK0005"
    CLIENT_DK0006 = "Client.DK0006"
    CLIENT_DK0007 = "Client.DK0007"
    CLIENT_DK0008 = "Client.DK0008"
    CLIENT_DK0009 = "Client.DK0009"
    CLIENT_DK0010 = "Client.DK0010"
    CLIENT_DK0011 = "Client.DK0011"
    CLIENT_EK0020 = "Client.EK0020"
    CLIENT_EK0021 = "Client.EK0021"
    CLIENT_EK0022 = "Client.EK0022"
    CLIENT_EK0023 = "Client.EK0023"
    CLIENT_EK0030 = "Client.EK0030"
    CLIENT_EK0031 = "Client.EK0031"
    SERVER_DK0050 = "Server.DK0050"
    SERVER_DK0051 = "Server.DK0051"
    MUST_UNDERSTAND = "MustUnderstand"

    @property
    def faultstring(self) -> str:
        return FAULTSTRINGS[self]


class WsSecurityFault(StrEnum):
    """The WS-Security fault class of an EK0031 or EK0030 refusal (WSS 1.1 SOAP Message Security §12),
    its value the QName as the message log writes it (``wsse:InvalidSecurity``). For the message log
    only: the wire carries the neutral Edukoppeling faultstring (security failures do not tell an
    attacker which check failed)."""

    #: An unsupported algorithm (signature, digest or canonicalisation method).
    UNSUPPORTED_ALGORITHM = "wsse:UnsupportedAlgorithm"
    #: An error processing the Security header: its form, the signature's structure or coverage.
    INVALID_SECURITY = "wsse:InvalidSecurity"
    #: An invalid security token: the BinarySecurityToken, its reference or the certificate in it.
    INVALID_SECURITY_TOKEN = "wsse:InvalidSecurityToken"
    #: The security token could not be authenticated: certificate expired, not yet valid or revoked.
    FAILED_AUTHENTICATION = "wsse:FailedAuthentication"
    #: The signature is invalid: a digest or the signature value does not verify, an untrusted path.
    FAILED_CHECK = "wsse:FailedCheck"
    #: The referenced security token could not be retrieved (a KeyInfo that names no token here).
    SECURITY_TOKEN_UNAVAILABLE = "wsse:SecurityTokenUnavailable"
    #: The message has expired: the wsu:Timestamp is too old, in the future, or past its Expires.
    MESSAGE_EXPIRED = "wsse:MessageExpired"


#: The faultstring of every code, as the Edukoppeling table has it.
FAULTSTRINGS: dict[FaultCode, str] = {
    FaultCode.VERSION_MISMATCH_DK0001: "Invalide envelope",
    FaultCode.CLIENT_DK0002: "Niet geautoriseerd",
    FaultCode.CLIENT_DK0003: "Invalide soap-action",
    FaultCode.CLIENT_DK0004: "Niet conform XSD",
    FaultCode.CLIENT_DK0005: "Wsa:To ontbreekt",
    FaultCode.CLIENT_DK0006: "Wsa:Action ontbreekt",
    FaultCode.CLIENT_DK0007: "Wsa:MessageID ontbreekt",
    FaultCode.CLIENT_DK0008: "Wsa:RelatesTo ontbreekt",
    FaultCode.CLIENT_DK0009: "Niet conform UTF-8",
    FaultCode.CLIENT_DK0010: "Andere headers",
    FaultCode.CLIENT_DK0011: "Onjuiste waarde in wsa header",
    FaultCode.CLIENT_EK0020: "Wsa:From ontbreekt",
    FaultCode.CLIENT_EK0021: "Wsa:From bevat geen geldig OIN",
    FaultCode.CLIENT_EK0022: "Wsa:To bevat geen geldig OIN",
    FaultCode.CLIENT_EK0023: "Wsa:MessageID bevat geen UUID",
    FaultCode.CLIENT_EK0030: "OIN in TLS certificaat ontbreekt of is ongeldig",
    FaultCode.CLIENT_EK0031: "Berichtondertekening niet aanwezig of onjuist",
    FaultCode.SERVER_DK0050: "Service afhandeling geeft fout",
    FaultCode.SERVER_DK0051: "Service niet beschikbaar",
    # SOAP 1.1 §4.4.1: an unprocessed header with mustUnderstand="1" (F6).
    FaultCode.MUST_UNDERSTAND: "Header met mustUnderstand wordt niet ondersteund",
}


#: The detail of every Client.EK0031 that has no more specific one. The faultstring stays neutral
#: (security failures must not tell an attacker which check failed); the partner's own tools do.
EK0031_EXPLANATION = (
    "De precieze oorzaak wordt om veiligheidsredenen niet teruggegeven. 'vva envelope verify <bericht.xml>' "
    "voert dezelfde controles offline uit op uw eigen bericht en noemt de oorzaak; de conformance-kit "
    "('vva conformance run', docs/conformance.md) doet dat voor al uw berichtsoorten."
)


class EdukoppelingFault(BrokerError):
    """A refusal with an Edukoppeling fault code.

    ``code``: a ``FaultCode`` (e.g. ``FaultCode.CLIENT_DK0011``; its string value is accepted too).
    ``reason``: the precise check that failed, for the message log only (e.g. ``xml:Forbidden DOCTYPE``).
    ``detail``: text for the Fault's detail element telling the sender what to fix (Body faults,
    addressing, authorisation; an EK0031 without one gets ``EK0031_EXPLANATION`` on the wire, see
    ``detail_on_the_wire``). ``wss``: the WS-Security fault class of a security refusal, for the
    message log only.

    The message log records ``reason``: with a ``wss`` class that is ``"<wss> <text>"`` (e.g.
    ``"wsse:InvalidSecurity wsu:Timestamp holds text"``), where ``text`` is the reason given to the
    constructor; ``str()`` is ``"<code>: <reason>"``.
    """

    def __init__(
        self,
        code: FaultCode | str,
        reason: str,
        detail: str | None = None,
        *,
        wss: WsSecurityFault | None = None,
    ) -> None:
        try:
            code = FaultCode(code)
        except ValueError:
            raise ValueError(f"unknown fault code {code}") from None
        self.code = code
        self.wss = wss
        #: The check that failed, without the WS-Security class.
        self.text = reason
        self.detail = detail
        super().__init__(f"{code}: {self.reason}")

    @property
    def reason(self) -> str:
        """The reason the message log records: the WS-Security class, if any, a space, then the text."""
        return self.text if self.wss is None else f"{self.wss.value} {self.text}"

    @property
    def faultstring(self) -> str:
        return self.code.faultstring

    @property
    def detail_on_the_wire(self) -> str | None:
        """The detail the Fault carries: ``detail``, or for an EK0031 without one the pointer to the
        offline tools (``EK0031_EXPLANATION``)."""
        if self.detail is None and self.code is FaultCode.CLIENT_EK0031:
            return EK0031_EXPLANATION
        return self.detail


class HttpError(BrokerError):
    """A refusal before any SOAP processing: a bare HTTP status (405, 411, 413, 415; hostile-inputs F)."""

    def __init__(self, status: int, reason: str, allow: str | None = None) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason
        self.allow = allow
