"""Checking one party as an operator describes it (TOML file, CLI), before it is stored: pure, no database.

``check_all`` checks and normalises one ``PartijInput`` (its OIN, soort, naam, codes, mandates, endpoint
and contact details) and raises ``PartijError`` saying what to fix; ``broker.registry.repository`` stores
what it returns.

Rules (docs/architecture.md, "Parties and what they may see"; docs/rules.md, OIN syntax and M1–M3):

* BRIN scopes only for vo-school, mbo-instelling and regionaal-systeem; gemeentecodes only for gemeente;
  RMC regions for regionaal-systeem and for gemeente (an RMC contactgemeente acts for its region);
  a leverancier acts only under mandates and carries no scope at all;
* codes are stored in canonical form: BRIN4 as given (no silent upper-casing), gemeentecodes as 4 digits,
  RMC regions without leading zeros (``normalise_rmc``);
* a vo-school or mbo-instelling with a BRIN-based OIN and no BRINs acts for the BRIN in its OIN;
* contact details for this exchange (``contact_email``, ``contact_telefoon``, ``contact_internetadres``)
  only for a vo-school or mbo-instelling: they override DUO's values for its BRINs in answers about its
  pupils (issue 15, item 5); the institution's, never a person's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import urlsplit

from broker.domain.identifiers import (
    InvalidOin,
    brin_from_oin,
    is_test_oin,
    parse_brin,
    parse_gemeentecode,
    parse_oin,
)
from broker.domain.meldingen import Rejection
from broker.domain.visibility import PartijSoort, normalise_rmc
from broker.errors import BrokerError

_BRIN_SOORTEN = frozenset({PartijSoort.VO_SCHOOL, PartijSoort.MBO_INSTELLING, PartijSoort.REGIONAAL_SYSTEEM})
_GEMEENTE_SOORTEN = frozenset({PartijSoort.GEMEENTE})
# An RMC contactgemeente acts for the whole region, so a gemeente may carry RMC regions too.
_RMC_SOORTEN = frozenset({PartijSoort.REGIONAAL_SYSTEEM, PartijSoort.GEMEENTE})
# Institutions whose own OIN is usually BRIN-based ("00000007000" + BRIN4 + "00000").
_INSTELLING_SOORTEN = frozenset({PartijSoort.VO_SCHOOL, PartijSoort.MBO_INSTELLING})

# Column sizes of broker.db.models.Partij.
_MAX_NAAM = 200
_MAX_ENDPOINT = 500
_MAX_EMAIL = 254
_MAX_TELEFOON = 50
_MAX_INTERNETADRES = 200
# One address, no display name or list: the answer carries it as a plain value (xsd vva:Email).
_EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+")
_TELEFOON = re.compile(r"\+?[0-9][0-9 ()-]*[0-9]")


class PartijError(BrokerError, ValueError):
    """A party cannot be stored, removed or read as asked.

    ``reason`` says what to fix; ``oin`` is the party concerned, when known. ``str()`` is one line,
    "party <oin>: <reason>" (an OIN is not personal data, so it may be shown and logged).
    """

    def __init__(self, reason: str, oin: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.oin = oin

    def __str__(self) -> str:
        return f"party {self.oin}: {self.reason}" if self.oin else self.reason


@dataclass(frozen=True)
class MandaatInput:
    """A certificate OIN allowed to speak for a party, optionally limited in time (both bounds inclusive)
    and to services or operations (``acties``: "vo" for a whole service, "vo/opvragenStatus" for one
    operation; empty = everything the party may do; M2)."""

    certificaat_oin: str
    geldig_van: date | None = None
    geldig_tot: date | None = None
    acties: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartijInput:
    """One party as an operator describes it (TOML file, CLI) and as ``PartijRegistry.list_`` returns it."""

    oin: str
    soort: str
    naam: str
    brins: tuple[str, ...] = ()
    gemeentecodes: tuple[str, ...] = ()
    rmc_regios: tuple[str, ...] = ()
    mandaten: tuple[MandaatInput, ...] = ()
    endpoint: str | None = None
    contact_email: str | None = None
    contact_telefoon: str | None = None
    contact_internetadres: str | None = None
    #: The party's software accepts the optional ``contactgegevens`` element (xsd/README.md); without it
    #: answers and pushes to it leave the element out.
    contactgegevens: bool = False
    #: It accepts the optional intake, onderwijsovereenkomstDatum and examenresultaat elements (issue 16,
    #: xsd/README.md); without it answers and pushes to it leave them out.
    procesfeiten: bool = False


# ---------------------------------------------------------------------------------------------------------
# Checking one party (pure, no database)
# ---------------------------------------------------------------------------------------------------------


def check_all(input_: PartijInput, *, production: bool = False) -> PartijInput:
    """Check one party and return it in canonical form.

    Input: PartijInput; code collections may be any non-str iterable of str. ``production``: True when
    the broker runs with ``environment = production``. Output: a new PartijInvoer with tuples of canonical,
    de-duplicated codes (order kept), the BRIN default applied and mandates checked.
    Raises ``PartijError`` when the OIN is invalid (OIN syntax: 20 characters 0-9/A-Z, lowercase
    refused), a test OIN is used in production (OIN syntax), the soort is unknown, the naam is empty or too
    long, a code is invalid or not allowed for the soort (docs/architecture.md, "Parties and what they may see"), a
    mandate is invalid (M2), or the endpoint is not an https URL (T8, two-way TLS on 443).
    """
    oin = _check_oin(input_.oin, "OIN", production)
    error = _fault_maker(oin)
    soort = _check_kind(input_.soort, error)
    brins = _codes(input_.brins, parse_brin, "BRIN", error)
    gemeentecodes = _codes(input_.gemeentecodes, parse_gemeentecode, "gemeentecode", error)
    rmc_regios = _codes(input_.rmc_regios, normalise_rmc, "RMC region", error)
    _check_scope_allowed(soort, brins, gemeentecodes, rmc_regios, error)
    if not isinstance(input_.contactgegevens, bool):
        raise error("contactgegevens must be true or false")
    if not isinstance(input_.procesfeiten, bool):
        raise error("procesfeiten must be true or false")
    if not brins and soort in _INSTELLING_SOORTEN and (own := brin_from_oin(oin)) is not None:
        # The OIN itself names the institution's BRIN (docs/rules.md, OIN syntax); without it the school would
        # be registered but see none of its own pupils.
        brins = (own,)
    return replace(
        input_,
        oin=oin,
        soort=soort.value,
        naam=_check_name(input_.naam, error),
        brins=brins,
        gemeentecodes=gemeentecodes,
        rmc_regios=rmc_regios,
        mandaten=_check_mandaten(input_.mandaten, oin, production, error),
        endpoint=_check_endpoint(input_.endpoint, error, production),
        **_check_contact(input_, soort, error),
    )


def _check_contact(
    input_: PartijInput, kind: PartijSoort, error: Callable[[str], PartijError]
) -> dict[str, str | None]:
    """Check the contact overrides: only for institutions (their details go into answers), each a
    plain one-line value of the column's size; empty means "none"."""
    values = {
        "contact_email": (input_.contact_email, _MAX_EMAIL, _EMAIL, "an e-mail address like vva@school.nl"),
        "contact_telefoon": (
            input_.contact_telefoon,
            _MAX_TELEFOON,
            _TELEFOON,
            "a phone number like 020-1234567",
        ),
        "contact_internetadres": (input_.contact_internetadres, _MAX_INTERNETADRES, None, "an https:// URL"),
    }
    uitkomst: dict[str, str | None] = {}
    for key, (value, maximum, pattern, example) in values.items():
        if value is not None and not isinstance(value, str):
            raise error(f"{key} must be a string")
        value = (value or "").strip() or None
        if value is not None:
            if kind not in _INSTELLING_SOORTEN:
                raise error(
                    f"{key} is only allowed for vo-school and mbo-instelling, not for {kind.value}"
                )
            if len(value) > maximum or not value.isprintable() or not _contact_form(value, pattern):
                raise error(
                    f"{key} {value!r} is invalid: give {example} (at most {maximum} characters)"
                )
        uitkomst[key] = value
    return uitkomst


def _contact_form(value: str, pattern: re.Pattern[str] | None) -> bool:
    if pattern is not None:
        return pattern.fullmatch(value) is not None
    url = urlsplit(value)
    return url.scheme in ("http", "https") and bool(url.hostname) and " " not in value


def _fault_maker(oin: str) -> Callable[[str], PartijError]:
    return lambda reason: PartijError(reason, oin)


def _check_oin(value: object, what: str, production: bool) -> str:
    try:
        oin = parse_oin(value)  # type: ignore[arg-type]
    except InvalidOin:
        # repr() shows stray whitespace or lowercase the operator may not notice.
        raise PartijError(
            f"{what} {value!r} is invalid: use exactly 20 characters 0-9 and A-Z, uppercase (Edukoppeling §1.1)"
        ) from None
    if production and is_test_oin(oin):
        raise PartijError(
            f"{what} {oin} is a test OIN (prefix 00000099), refused in production (Edukoppeling §1.1)"
        )
    return oin


def _check_kind(given: object, error: Callable[[str], PartijError]) -> PartijSoort:
    try:
        return PartijSoort(given)
    except ValueError:
        allowed = ", ".join(s.value for s in PartijSoort)
        raise error(f"unknown soort {given!r}; use one of: {allowed}") from None


def _check_name(value: object, error: Callable[[str], PartijError]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise error("naam must be a non-empty string")
    if len(value.strip()) > _MAX_NAAM:
        raise error(f"naam is longer than {_MAX_NAAM} characters")
    if not value.strip().isprintable():
        # A line break or control character would split `vva party list` rows and log lines.
        raise error("naam must not contain line breaks or control characters")
    return value.strip()


def _codes(
    values: Iterable[str], parser: Callable[[str], str], what: str, error: Callable[[str], PartijError]
) -> tuple[str, ...]:
    """Parse every code with ``parser``; return the canonical codes once each, in the order given."""
    # A bare str is iterable too: "99XA" would become four one-letter codes.
    if isinstance(values, str):
        raise error(f"{what} codes must be a list, not a single string")
    canonical: dict[str, None] = {}
    for value in values:
        try:
            canonical[parser(value)] = None
        except Rejection as e:
            raise error(f"{what} {value!r} is invalid: {e.melding.tekst_en}") from None
        except (ValueError, TypeError):
            raise error(f"{what} {value!r} is invalid") from None
    return tuple(canonical)


def _check_scope_allowed(
    kind: PartijSoort,
    brins: tuple[str, ...],
    gemeentecodes: tuple[str, ...],
    rmc_regios: tuple[str, ...],
    error: Callable[[str], PartijError],
) -> None:
    """Refuse a scope the soort may not have: a wrong scope would show pupils to the wrong party."""
    for codes, allowed, what in (
        (brins, _BRIN_SOORTEN, "BRIN scopes"),
        (gemeentecodes, _GEMEENTE_SOORTEN, "gemeentecodes"),
        (rmc_regios, _RMC_SOORTEN, "RMC regions"),
    ):
        if codes and kind not in allowed:
            names = ", ".join(sorted(s.value for s in allowed))
            raise error(f"{what} are only allowed for {names}, not for {kind.value}")


_ACTION = re.compile(r"(vo|mbo|gemeente|regio)(/[a-z][A-Za-z]*)?")


def _check_mandaten(
    mandaten: Iterable[MandaatInput], partij_oin: str, production: bool, error: Callable[[str], PartijError]
) -> tuple[MandaatInput, ...]:
    """Check each mandate (M2): valid certificate OIN, sane dates, each OIN once."""
    result: dict[str, MandaatInput] = {}
    for mandaat in mandaten:
        if not isinstance(mandaat, MandaatInput):
            raise error("mandaten must be MandaatInvoer objects")
        try:
            certificaat_oin = _check_oin(mandaat.certificaat_oin, "mandate certificate OIN", production)
        except PartijError as e:
            raise error(e.reason) from None
        if certificaat_oin == partij_oin:
            raise error("a mandate for the party's own OIN is not needed (Edukoppeling §5 M1)")
        if certificaat_oin in result:
            raise error(f"mandate for certificate OIN {certificaat_oin} given twice")
        for limit in (mandaat.geldig_van, mandaat.geldig_tot):
            # datetime is a subclass of date but cannot be compared with one.
            if limit is not None and (isinstance(limit, datetime) or not isinstance(limit, date)):
                raise error(f"mandate {certificaat_oin}: geldig_van/geldig_tot must be dates, not {limit!r}")
        if mandaat.geldig_van and mandaat.geldig_tot and mandaat.geldig_van > mandaat.geldig_tot:
            raise error(f"mandate {certificaat_oin}: geldig_van is after geldig_tot")
        acties = tuple(dict.fromkeys(mandaat.acties))
        for action in acties:
            if not isinstance(action, str) or not _ACTION.fullmatch(action):
                raise error(
                    f"mandate {certificaat_oin}: action {action!r} is not 'dienst' or 'dienst/operatie'"
                )
        result[certificaat_oin] = replace(mandaat, certificaat_oin=certificaat_oin, acties=acties)
    return tuple(result.values())


def _internal_address(host: str) -> bool:
    """True for localhost and IP literals in loopback, private, link-local or reserved ranges."""
    if host.lower() in ("localhost",) or host.lower().endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def _check_endpoint(value: object, error: Callable[[str], PartijError], production: bool = True) -> str | None:
    """An endpoint is an absolute https URL: pushes go over two-way TLS (T8). Outside
    production a plain-HTTP endpoint on the loopback address is allowed, for a local receiver."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or len(value) > _MAX_ENDPOINT
        or not value.isprintable()
        or " " in value
    ):
        raise error(f"endpoint must be an https URL of at most {_MAX_ENDPOINT} characters without spaces")
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        raise error(f"endpoint {value!r} is not a valid URL") from None
    if production and _internal_address(url.hostname or ""):
        # The broker posts there with its own certificate: never at its own host or internal networks.
        raise error(f"endpoint {value!r} points at a loopback, private or link-local address")
    local = not production and url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost", "::1")
    if (url.scheme != "https" and not local) or not url.hostname:
        raise error(f"endpoint {value!r} must be an absolute https:// URL (Edukoppeling §1 T8)")
    if url.username is not None or url.password is not None:
        # Credentials in the URL would end up in `vva party list` output and logs.
        raise error("endpoint must not contain a user name or password")
    return value
