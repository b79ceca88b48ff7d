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
from broker.domain.meldingen import Afwijzing
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

    ``reden`` says what to fix; ``oin`` is the party concerned, when known. ``str()`` is one line,
    "party <oin>: <reden>" (an OIN is not personal data, so it may be shown and logged).
    """

    def __init__(self, reden: str, oin: str | None = None) -> None:
        super().__init__(reden)
        self.reden = reden
        self.oin = oin

    def __str__(self) -> str:
        return f"party {self.oin}: {self.reden}" if self.oin else self.reden


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
    """One party as an operator describes it (TOML file, CLI) and as ``PartijRegistry.lijst`` returns it."""

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


def check_all(invoer: PartijInput, *, productie: bool = False) -> PartijInput:
    """Check one party and return it in canonical form.

    Input: PartijInput; code collections may be any non-str iterable of str. ``productie``: True when
    the broker runs with ``environment = production``. Output: a new PartijInvoer with tuples of canonical,
    de-duplicated codes (order kept), the BRIN default applied and mandates checked.
    Raises ``PartijError`` when the OIN is invalid (OIN syntax: 20 characters 0-9/A-Z, lowercase
    refused), a test OIN is used in production (OIN syntax), the soort is unknown, the naam is empty or too
    long, a code is invalid or not allowed for the soort (docs/architecture.md, "Parties and what they may see"), a
    mandate is invalid (M2), or the endpoint is not an https URL (T8, two-way TLS on 443).
    """
    oin = _check_oin(invoer.oin, "OIN", productie)
    fout = _fault_maker(oin)
    soort = _check_kind(invoer.soort, fout)
    brins = _codes(invoer.brins, parse_brin, "BRIN", fout)
    gemeentecodes = _codes(invoer.gemeentecodes, parse_gemeentecode, "gemeentecode", fout)
    rmc_regios = _codes(invoer.rmc_regios, normalise_rmc, "RMC region", fout)
    _check_scope_allowed(soort, brins, gemeentecodes, rmc_regios, fout)
    if not isinstance(invoer.contactgegevens, bool):
        raise fout("contactgegevens must be true or false")
    if not isinstance(invoer.procesfeiten, bool):
        raise fout("procesfeiten must be true or false")
    if not brins and soort in _INSTELLING_SOORTEN and (eigen := brin_from_oin(oin)) is not None:
        # The OIN itself names the institution's BRIN (docs/rules.md, OIN syntax); without it the school would
        # be registered but see none of its own pupils.
        brins = (eigen,)
    return replace(
        invoer,
        oin=oin,
        soort=soort.value,
        naam=_check_name(invoer.naam, fout),
        brins=brins,
        gemeentecodes=gemeentecodes,
        rmc_regios=rmc_regios,
        mandaten=_check_mandaten(invoer.mandaten, oin, productie, fout),
        endpoint=_check_endpoint(invoer.endpoint, fout, productie),
        **_check_contact(invoer, soort, fout),
    )


def _check_contact(
    invoer: PartijInput, soort: PartijSoort, fout: Callable[[str], PartijError]
) -> dict[str, str | None]:
    """Check the contact overrides: only for institutions (their details go into answers), each a
    plain one-line value of the column's size; empty means "none"."""
    waarden = {
        "contact_email": (invoer.contact_email, _MAX_EMAIL, _EMAIL, "an e-mail address like vva@school.nl"),
        "contact_telefoon": (
            invoer.contact_telefoon,
            _MAX_TELEFOON,
            _TELEFOON,
            "a phone number like 020-1234567",
        ),
        "contact_internetadres": (invoer.contact_internetadres, _MAX_INTERNETADRES, None, "an https:// URL"),
    }
    uitkomst: dict[str, str | None] = {}
    for sleutel, (waarde, maximum, patroon, voorbeeld) in waarden.items():
        if waarde is not None and not isinstance(waarde, str):
            raise fout(f"{sleutel} must be a string")
        waarde = (waarde or "").strip() or None
        if waarde is not None:
            if soort not in _INSTELLING_SOORTEN:
                raise fout(
                    f"{sleutel} is only allowed for vo-school and mbo-instelling, not for {soort.value}"
                )
            if len(waarde) > maximum or not waarde.isprintable() or not _contact_vorm(waarde, patroon):
                raise fout(
                    f"{sleutel} {waarde!r} is invalid: give {voorbeeld} (at most {maximum} characters)"
                )
        uitkomst[sleutel] = waarde
    return uitkomst


def _contact_vorm(waarde: str, patroon: re.Pattern[str] | None) -> bool:
    if patroon is not None:
        return patroon.fullmatch(waarde) is not None
    delen = urlsplit(waarde)
    return delen.scheme in ("http", "https") and bool(delen.hostname) and " " not in waarde


def _fault_maker(oin: str) -> Callable[[str], PartijError]:
    return lambda reden: PartijError(reden, oin)


def _check_oin(waarde: object, wat: str, productie: bool) -> str:
    try:
        oin = parse_oin(waarde)  # type: ignore[arg-type]
    except InvalidOin:
        # repr() shows stray whitespace or lowercase the operator may not notice.
        raise PartijError(
            f"{wat} {waarde!r} is invalid: use exactly 20 characters 0-9 and A-Z, uppercase (Edukoppeling §1.1)"
        ) from None
    if productie and is_test_oin(oin):
        raise PartijError(
            f"{wat} {oin} is a test OIN (prefix 00000099), refused in production (Edukoppeling §1.1)"
        )
    return oin


def _check_kind(waarde: object, fout: Callable[[str], PartijError]) -> PartijSoort:
    try:
        return PartijSoort(waarde)
    except ValueError:
        toegestaan = ", ".join(s.value for s in PartijSoort)
        raise fout(f"unknown soort {waarde!r}; use one of: {toegestaan}") from None


def _check_name(waarde: object, fout: Callable[[str], PartijError]) -> str:
    if not isinstance(waarde, str) or not waarde.strip():
        raise fout("naam must be a non-empty string")
    if len(waarde.strip()) > _MAX_NAAM:
        raise fout(f"naam is longer than {_MAX_NAAM} characters")
    if not waarde.strip().isprintable():
        # A line break or control character would split `vva party list` rows and log lines.
        raise fout("naam must not contain line breaks or control characters")
    return waarde.strip()


def _codes(
    waarden: Iterable[str], parser: Callable[[str], str], wat: str, fout: Callable[[str], PartijError]
) -> tuple[str, ...]:
    """Parse every code with ``parser``; return the canonical codes once each, in the order given."""
    # A bare str is iterable too: "99XA" would become four one-letter codes.
    if isinstance(waarden, str):
        raise fout(f"{wat} codes must be a list, not a single string")
    canoniek: dict[str, None] = {}
    for waarde in waarden:
        try:
            canoniek[parser(waarde)] = None
        except Afwijzing as e:
            raise fout(f"{wat} {waarde!r} is invalid: {e.melding.tekst_en}") from None
        except (ValueError, TypeError):
            raise fout(f"{wat} {waarde!r} is invalid") from None
    return tuple(canoniek)


def _check_scope_allowed(
    soort: PartijSoort,
    brins: tuple[str, ...],
    gemeentecodes: tuple[str, ...],
    rmc_regios: tuple[str, ...],
    fout: Callable[[str], PartijError],
) -> None:
    """Refuse a scope the soort may not have: a wrong scope would show pupils to the wrong party."""
    for codes, toegestaan, wat in (
        (brins, _BRIN_SOORTEN, "BRIN scopes"),
        (gemeentecodes, _GEMEENTE_SOORTEN, "gemeentecodes"),
        (rmc_regios, _RMC_SOORTEN, "RMC regions"),
    ):
        if codes and soort not in toegestaan:
            namen = ", ".join(sorted(s.value for s in toegestaan))
            raise fout(f"{wat} are only allowed for {namen}, not for {soort.value}")


_ACTIE = re.compile(r"(vo|mbo|gemeente|regio)(/[a-z][A-Za-z]*)?")


def _check_mandaten(
    mandaten: Iterable[MandaatInput], partij_oin: str, productie: bool, fout: Callable[[str], PartijError]
) -> tuple[MandaatInput, ...]:
    """Check each mandate (M2): valid certificate OIN, sane dates, each OIN once."""
    resultaat: dict[str, MandaatInput] = {}
    for mandaat in mandaten:
        if not isinstance(mandaat, MandaatInput):
            raise fout("mandaten must be MandaatInvoer objects")
        try:
            certificaat_oin = _check_oin(mandaat.certificaat_oin, "mandate certificate OIN", productie)
        except PartijError as e:
            raise fout(e.reden) from None
        if certificaat_oin == partij_oin:
            raise fout("a mandate for the party's own OIN is not needed (Edukoppeling §5 M1)")
        if certificaat_oin in resultaat:
            raise fout(f"mandate for certificate OIN {certificaat_oin} given twice")
        for grens in (mandaat.geldig_van, mandaat.geldig_tot):
            # datetime is a subclass of date but cannot be compared with one.
            if grens is not None and (isinstance(grens, datetime) or not isinstance(grens, date)):
                raise fout(f"mandate {certificaat_oin}: geldig_van/geldig_tot must be dates, not {grens!r}")
        if mandaat.geldig_van and mandaat.geldig_tot and mandaat.geldig_van > mandaat.geldig_tot:
            raise fout(f"mandate {certificaat_oin}: geldig_van is after geldig_tot")
        acties = tuple(dict.fromkeys(mandaat.acties))
        for actie in acties:
            if not isinstance(actie, str) or not _ACTIE.fullmatch(actie):
                raise fout(
                    f"mandate {certificaat_oin}: action {actie!r} is not 'dienst' or 'dienst/operatie'"
                )
        resultaat[certificaat_oin] = replace(mandaat, certificaat_oin=certificaat_oin, acties=acties)
    return tuple(resultaat.values())


def _internal_address(host: str) -> bool:
    """True for localhost and IP literals in loopback, private, link-local or reserved ranges."""
    if host.lower() in ("localhost",) or host.lower().endswith((".localhost", ".local", ".internal")):
        return True
    try:
        adres = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return (
        adres.is_loopback
        or adres.is_private
        or adres.is_link_local
        or adres.is_reserved
        or adres.is_unspecified
    )


def _check_endpoint(waarde: object, fout: Callable[[str], PartijError], productie: bool = True) -> str | None:
    """An endpoint is an absolute https URL: pushes go over two-way TLS (T8). Outside
    production a plain-HTTP endpoint on the loopback address is allowed, for a local receiver."""
    if waarde is None:
        return None
    if (
        not isinstance(waarde, str)
        or len(waarde) > _MAX_ENDPOINT
        or not waarde.isprintable()
        or " " in waarde
    ):
        raise fout(f"endpoint must be an https URL of at most {_MAX_ENDPOINT} characters without spaces")
    try:
        delen = urlsplit(waarde)
        delen.port  # noqa: B018 - raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        raise fout(f"endpoint {waarde!r} is not a valid URL") from None
    if productie and _internal_address(delen.hostname or ""):
        # The broker posts there with its own certificate: never at its own host or internal networks.
        raise fout(f"endpoint {waarde!r} points at a loopback, private or link-local address")
    lokaal = not productie and delen.scheme == "http" and delen.hostname in ("127.0.0.1", "localhost", "::1")
    if (delen.scheme != "https" and not lokaal) or not delen.hostname:
        raise fout(f"endpoint {waarde!r} must be an absolute https:// URL (Edukoppeling §1 T8)")
    if delen.username is not None or delen.password is not None:
        # Credentials in the URL would end up in `vva party list` output and logs.
        raise fout("endpoint must not contain a user name or password")
    return waarde
