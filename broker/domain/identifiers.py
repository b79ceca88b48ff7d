"""Parsing and validation of the identifiers in VVA messages.

Sender-facing parsers raise ``Rejection`` with a catalogue melding. Neither the melding nor the exception
ever contains the rejected value: a pupil number is personal data of a minor (AVG art. 5 lid 1 sub c).
Checksums and formats come from python-stdnum (``stdnum.nl.*``) wherever it has the rule; this module only
adds what the exchange itself requires (canonical forms, no silent upper-casing of codes, ASCII only).

ASCII only: stdnum's ``compact()`` maps full-width and other Unicode digits to ASCII ("１" -> "1"), and
Python's ``str.isdigit()``, ``int()`` and ``re``'s ``\\d`` accept them too. The standards say digits 0-9,
so a value with any other character (inside it; surrounding whitespace is trimmed as before) is refused
with the field's melding before stdnum sees it, in SOAP and in uploaded files alike.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from stdnum.exceptions import ValidationError
from stdnum.nl import brin as _stdnum_brin
from stdnum.nl import bsn as _stdnum_bsn
from stdnum.nl import onderwijsnummer as _stdnum_onderwijsnummer
from stdnum.nl import postcode as _stdnum_postcode

from broker.domain.meldingen import (
    BRIN_ONGELDIG,
    BSN_ONGELDIG,
    CREBO_ONGELDIG,
    GEMEENTECODE_ONGELDIG,
    LEERLINGNUMMER_ONTBREEKT_OF_DUBBEL,
    ONDERWIJSNUMMER_ONGELDIG,
    POSTCODE_ONGELDIG,
    VESTIGING_ONGELDIG,
    Rejection,
)
from broker.errors import BrokerError

LeerlingnummerSoort = Literal["bsn", "onderwijsnummer"]

_ASCII_DIGITS = frozenset("0123456789")

# \A and \Z instead of ^ and $: "$" also matches before a trailing newline, so "0363\n" would slip through.
_GEMEENTECODE_PATTERN = re.compile(r"\A(?:GM(?P<cbs>[0-9]{4})|(?P<kaal>[0-9]{1,4}))\Z")
_CREBO_PATTERN = re.compile(r"\A[0-9]{5}\Z")


def _is_ascii(value: str) -> bool:
    """True when ``value`` without surrounding whitespace is pure ASCII (see the module docstring)."""
    return value.strip().isascii()


# ---------------------------------------------------------------------------------------------------------
# Pupil numbers
# ---------------------------------------------------------------------------------------------------------


def parse_bsn(value: str) -> str:
    """Validate a BSN and return its compact 9-digit form.

    Input: str. Surrounding whitespace and the separators stdnum allows ("1112.22.333") are removed; a
    number of 8 digits is zero-padded to 9, as stdnum does. Output: str of 9 ASCII digits.
    Raises ``Rejection(BSN_ONGELDIG)`` when the value is not a str, holds a non-ASCII character (a
    full-width digit), fails the elfproef, is all zeros, or has fewer than 8 digits (stdnum would pad
    "12" to a valid-looking 000000012; only one dropped leading zero is plausible).
    Source rule: python-stdnum nl.bsn (elfproef); BRP / Wet algemene bepalingen burgerservicenummer.
    """
    if not isinstance(value, str) or not _is_ascii(value):
        raise Rejection(BSN_ONGELDIG)
    try:
        compact = _stdnum_bsn.validate(value)
    except ValidationError as error:
        raise Rejection(BSN_ONGELDIG) from error
    # validate() has accepted the input, so it holds only digits and separators; count the digits.
    if sum(char in _ASCII_DIGITS for char in value) < 8:
        raise Rejection(BSN_ONGELDIG)
    return compact


def parse_onderwijsnummer(value: str) -> str:
    """Validate an onderwijsnummer and return its compact 9-digit form.

    Input: str (separators as for the BSN are allowed). Output: str of 9 ASCII digits starting with "10".
    Raises ``Rejection(ONDERWIJSNUMMER_ONGELDIG)`` when the value is not a str, holds a non-ASCII
    character, does not start with 10, is not 9 digits, or its weighted sum is not 5 modulo 11.
    Source rule: python-stdnum nl.onderwijsnummer (DUO onderwijsnummer for pupils without a BSN).
    """
    if not isinstance(value, str) or not _is_ascii(value):
        raise Rejection(ONDERWIJSNUMMER_ONGELDIG)
    try:
        return _stdnum_onderwijsnummer.validate(value)
    except ValidationError as error:
        raise Rejection(ONDERWIJSNUMMER_ONGELDIG) from error


_PARSERS: dict[str, Callable[[str], str]] = {"bsn": parse_bsn, "onderwijsnummer": parse_onderwijsnummer}


@dataclass(frozen=True, repr=False)
class Leerlingnummer:
    """A validated pupil number: a BSN, or an onderwijsnummer for a pupil without one.

    ``waarde`` must already be in compact 9-digit form; use ``parse_leerlingnummer`` for raw input.
    ``repr()`` and ``str()`` mask the value so that a stray log line or traceback cannot leak it.
    Raises ``ValueError`` for an unknown ``soort`` and ``Rejection`` (BSN_ONGELDIG or
    ONDERWIJSNUMMER_ONGELDIG) when ``waarde`` is not a valid compact number of that kind.
    Source rule: WEB art. 8.0.3 (BSN, or onderwijsnummer when there is none).
    """

    soort: LeerlingnummerSoort
    waarde: str

    def __post_init__(self) -> None:
        parser = _PARSERS.get(self.soort)
        if parser is None:
            raise ValueError("soort leerlingnummer moet 'bsn' of 'onderwijsnummer' zijn")
        # Only the compact form is allowed, so that equal pupils always give equal objects and keys.
        if parser(self.waarde) != self.waarde:
            raise Rejection(BSN_ONGELDIG if self.soort == "bsn" else ONDERWIJSNUMMER_ONGELDIG)

    @classmethod
    def _of_parsed(cls, soort: LeerlingnummerSoort, waarde: str) -> Leerlingnummer:
        """A number ``parse_bsn``/``parse_onderwijsnummer`` just returned: already valid and compact,
        so not checked a second time (a 5,000-record batch would run the elfproef 10,000 times)."""
        nummer = object.__new__(cls)
        object.__setattr__(nummer, "soort", soort)
        object.__setattr__(nummer, "waarde", waarde)
        return nummer

    def __repr__(self) -> str:
        return f"Leerlingnummer({self.soort}, *********)"

    __str__ = __repr__

    @property
    def sleutel(self) -> str:
        """Return "<soort>:<waarde>" as input for a keyed hash (pseudonym).

        Output: str containing the clear number; never log it, only feed it to the keyed hash.
        """
        return f"{self.soort}:{self.waarde}"


def _is_empty(value: str | None) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_leerlingnummer(bsn: str | None, onderwijsnummer: str | None) -> Leerlingnummer:
    """Build a ``Leerlingnummer`` from the two optional message fields.

    Input: the bsn and onderwijsnummer fields as str or None; an empty or whitespace-only str counts as
    absent (XML often carries empty elements). Output: Leerlingnummer.
    Raises ``Rejection(LEERLINGNUMMER_ONTBREEKT_OF_DUBBEL)`` unless exactly one is given,
    ``Rejection(BSN_ONGELDIG)`` or ``Rejection(ONDERWIJSNUMMER_ONGELDIG)`` when the given one is invalid.
    Source rule: WEB art. 8.0.3; DUO (onderwijsnummer only for pupils without a BSN).
    """
    bsn_empty, onderwijsnummer_empty = _is_empty(bsn), _is_empty(onderwijsnummer)
    if bsn_empty == onderwijsnummer_empty:
        raise Rejection(LEERLINGNUMMER_ONTBREEKT_OF_DUBBEL)
    if not bsn_empty:
        return Leerlingnummer._of_parsed("bsn", parse_bsn(bsn))  # type: ignore[arg-type]
    return Leerlingnummer._of_parsed("onderwijsnummer", parse_onderwijsnummer(onderwijsnummer))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# Institutions and locations
# ---------------------------------------------------------------------------------------------------------


def _is_exact_brin(value: str, length: int) -> bool:
    """True when ``value`` is a stdnum-valid BRIN of ``length`` characters that stdnum need not rewrite."""
    # stdnum.compact upper-cases and drops separators; we want the sender to send the canonical code,
    # so any rewrite counts as invalid.
    return (
        value.isascii()
        and len(value) == length
        and _stdnum_brin.compact(value) == value
        and _stdnum_brin.is_valid(value)
    )


def parse_brin(value: str) -> str:
    """Validate a BRIN4 (instellingscode) and return it.

    Input: str; surrounding whitespace is removed. Output: str matching ``[0-9]{2}[A-Z]{2}``, e.g. "25BE".
    Raises ``Rejection(BRIN_ONGELDIG)`` when the value is not a str, is not exactly 4 ASCII characters, or
    is not in canonical form (lower case, inner spaces: no silent correction, so sender and broker agree).
    Source rule: python-stdnum nl.brin (format only; existence is checked against DUO data elsewhere).
    """
    if not isinstance(value, str):
        raise Rejection(BRIN_ONGELDIG)
    value = value.strip()
    if not _is_exact_brin(value, 4):
        raise Rejection(BRIN_ONGELDIG)
    return value


def parse_vestigingscode(brin: str, code: str) -> str:
    """Combine a BRIN4 and a location code into the BRIN6 vestigingsnummer.

    Input: ``brin`` (BRIN4 str) and ``code``: either the 2-digit suffix ("03") or a full BRIN6 ("16SW03")
    whose first 4 characters equal ``brin``; DUO files use both forms. Output: BRIN6 str, e.g. "16SW03".
    Raises ``Rejection(BRIN_ONGELDIG)`` when ``brin`` is invalid and ``Rejection(VESTIGING_ONGELDIG)``
    when ``code`` is not a str, has a letter in the location part ("30AJ0A"), has the wrong length, or
    belongs to another BRIN.
    Source rule: python-stdnum nl.brin (vestigingsnummer = BRIN4 + 2 digits); DUO open data.
    """
    brin4 = parse_brin(brin)
    if not isinstance(code, str):
        raise Rejection(VESTIGING_ONGELDIG)
    code = code.strip()
    if len(code) == 2:
        code = brin4 + code
    if not code.startswith(brin4) or not _is_exact_brin(code, 6):
        raise Rejection(VESTIGING_ONGELDIG)
    return code


def parse_crebo(value: str) -> str:
    """Validate a crebo code (MBO programme code) and return it.

    Input: str; surrounding whitespace is removed. Output: str of exactly 5 ASCII digits, e.g. "25180".
    Raises ``Rejection(CREBO_ONGELDIG)`` otherwise.
    Source rule: SBB/DUO kwalificatiedossier (crebo = Centraal Register Beroepsopleidingen), 5 digits.
    """
    if not isinstance(value, str) or not _CREBO_PATTERN.match(value.strip()):
        raise Rejection(CREBO_ONGELDIG)
    return value.strip()


# ---------------------------------------------------------------------------------------------------------
# Residence
# ---------------------------------------------------------------------------------------------------------


def parse_postcode(value: str) -> str:
    """Validate a Dutch postcode and return it without space.

    Input: str in any form python-stdnum accepts ("1234 AB", "1234ab", "NL-1234AB"). Output: str like
    "1234AB" (the form of DUO's RIO type Postcode-v02).
    Raises ``Rejection(POSTCODE_ONGELDIG)`` when the value is not a str, holds a non-ASCII character, does
    not match ``[1-9][0-9]{3}[A-Z]{2}``, or uses the unused letter pairs SA, SD or SS.
    Source rule: python-stdnum nl.postcode; DUO RIO XSD Postcode-v02.
    """
    if not isinstance(value, str) or not _is_ascii(value):
        raise Rejection(POSTCODE_ONGELDIG)
    try:
        return _stdnum_postcode.validate(value).replace(" ", "")
    except ValidationError as error:
        raise Rejection(POSTCODE_ONGELDIG) from error


def parse_gemeentecode(value: str) -> str:
    """Validate a CBS gemeentecode and return it as 4 zero-padded digits.

    Input: str as "0363", "363" (DUO loaders that read it as an integer) or "GM0363" (CBS StatLine form);
    surrounding whitespace is removed. Output: str of 4 digits, e.g. "0363".
    Raises ``Rejection(GEMEENTECODE_ONGELDIG)`` for anything else, for 0, or for more than 4 digits.
    Existence in the current gemeente list is checked against reference data elsewhere.
    Source rule: CBS gemeentecode (Gemeentelijke indeling); DUO open data column GEMEENTENUMMER.
    """
    if not isinstance(value, str):
        raise Rejection(GEMEENTECODE_ONGELDIG)
    match = _GEMEENTECODE_PATTERN.match(value.strip())
    if match is None:
        raise Rejection(GEMEENTECODE_ONGELDIG)
    digits = match.group("cbs") or match.group("kaal")
    if int(digits) == 0:
        raise Rejection(GEMEENTECODE_ONGELDIG)
    return digits.zfill(4)


# ---------------------------------------------------------------------------------------------------------
# OIN (organisation identification number, transport layer)
# ---------------------------------------------------------------------------------------------------------

# \A and \Z rather than ^ and $, so that .match() cannot accept a trailing newline.
OIN_PATTERN = re.compile(r"\A[0-9A-Z]{20}\Z")

_OIN_BRIN_PREFIX = "00000007" + "000"
_OIN_BRIN_SUFFIX = "00000"
_OIN_TEST_PREFIX = "00000099"


class InvalidOin(BrokerError, ValueError):
    """An OIN does not have the form of 20 characters 0-9 or A-Z."""


def is_valid_oin(s: str) -> bool:
    """Return True when ``s`` is a syntactically valid education OIN.

    Input: any value. Output: bool; True only for a str of exactly 20 characters from [0-9A-Z]. Lower case
    is invalid and is not upper-cased: the OIN is compared byte for byte with certificate and mandate data.
    Never raises. Source rule: Digikoppeling I&A 1.5 (OIN-stelsel); Edukoppeling (BRIN-based OINs
    contain letters, so the generic [0-9]{20} is too strict).
    """
    return isinstance(s, str) and OIN_PATTERN.match(s) is not None


def parse_oin(s: str) -> str:
    """Return ``s`` unchanged when it is a valid OIN.

    Input: str. Output: the same str. Raises ``InvalidOin`` when ``is_valid_oin(s)`` is False; no
    whitespace is stripped, the transport layer must hand over the exact value.
    Source rule: Digikoppeling I&A 1.5; Edukoppeling.
    """
    if not is_valid_oin(s):
        raise InvalidOin("OIN moet precies 20 tekens uit 0-9 en A-Z zijn")
    return s


def oin_for_brin(brin: str) -> str:
    """Return the OIN of an education institution: "00000007" + "000" + BRIN4 + "00000".

    Input: BRIN4 str. Output: 20-character OIN str, e.g. "99XA" -> "0000000700099XA00000".
    Raises ``Rejection(BRIN_ONGELDIG)`` when ``brin`` is not a valid BRIN4.
    Source rule: OIN-stelsel prefix 00000007 (BRIN); Digikoppeling I&A 1.5; Edukoppeling.
    """
    return _OIN_BRIN_PREFIX + parse_brin(brin) + _OIN_BRIN_SUFFIX


def brin_from_oin(oin: str) -> str | None:
    """Return the BRIN4 inside a BRIN-based OIN, or None.

    Input: any value. Output: BRIN4 str when ``oin`` is a valid OIN of the form
    "00000007000" + BRIN4 + "00000"; None otherwise, including for OSO-style sub-addresses with another
    suffix (those are routing keys, not the institution's own OIN). Never raises.
    Source rule: OIN-stelsel prefix 00000007 (BRIN); Digikoppeling I&A 1.5.
    """
    if not is_valid_oin(oin):
        return None
    if not (oin.startswith(_OIN_BRIN_PREFIX) and oin.endswith(_OIN_BRIN_SUFFIX)):
        return None
    candidate = oin[len(_OIN_BRIN_PREFIX) : -len(_OIN_BRIN_SUFFIX)]
    return candidate if _is_exact_brin(candidate, 4) else None


def is_test_oin(oin: str) -> bool:
    """Return True when ``oin`` is a valid OIN from the test range (prefix "00000099").

    Input: any value. Output: bool; never raises. Used to keep test parties out of production.
    Source rule: OIN-stelsel prefix table (00000099 = test OIN); Digikoppeling I&A 1.5.
    """
    return is_valid_oin(oin) and oin.startswith(_OIN_TEST_PREFIX)


def new_message_id() -> str:
    """A fresh ``urn:uuid:`` wsa:MessageID with a random (version 4) UUID, lowercase (A7, R3): the one
    form of every MessageID the broker mints, for its answers, its pushes and their re-queueing."""
    return f"urn:uuid:{uuid.uuid4()}"
