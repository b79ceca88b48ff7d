"""The party registry in the database: parties, the codes they act for, and their mandates.

``controleer`` checks and normalises one party without touching the database; ``PartijRegister`` stores
and reads parties through an SQLAlchemy session. The register never commits: the caller owns the
transaction (the CLI uses one ``with sessions.begin()`` per command).

Rules (docs/architecture.md, "Parties and what they may see"; docs/rules.md, OIN syntax and M1–M3):

* BRIN scopes only for vo-school, mbo-instelling and regionaal-systeem; gemeentecodes only for gemeente;
  RMC regions for regionaal-systeem and for gemeente (an RMC contactgemeente acts for its region);
  a leverancier acts only under mandates and carries no scope at all;
* codes are stored in canonical form: BRIN4 as given (no silent upper-casing), gemeentecodes as 4 digits,
  RMC regions without leading zeros (``normaliseer_rmc``);
* a vo-school or mbo-instelling with a BRIN-based OIN and no BRINs acts for the BRIN in its OIN;
* contact details for this exchange (``contact_email``, ``contact_telefoon``, ``contact_internetadres``)
  only for a vo-school or mbo-instelling: they override DUO's values for its BRINs in answers about its
  pupils (issue 15, item 5); the institution's, never a person's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.identifiers import (
    OngeldigOin,
    brin_uit_oin,
    is_geldig_oin,
    is_test_oin,
    parse_brin,
    parse_gemeentecode,
    parse_oin,
)
from broker.domain.meldingen import Afwijzing
from broker.domain.visibility import Partij, PartijSoort, normaliseer_rmc
from broker.errors import BrokerError

# Values of partij_scope.soort.
SCOPE_BRIN = "brin"
SCOPE_GEMEENTE = "gemeente"
SCOPE_RMC = "rmc"

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


class PartijFout(BrokerError, ValueError):
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
class MandaatInvoer:
    """A certificate OIN allowed to speak for a party, optionally limited in time (both bounds inclusive)
    and to services or operations (``acties``: "vo" for a whole service, "vo/opvragenStatus" for one
    operation; empty = everything the party may do; M2)."""

    certificaat_oin: str
    geldig_van: date | None = None
    geldig_tot: date | None = None
    acties: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartijInvoer:
    """One party as an operator describes it (TOML file, CLI) and as ``PartijRegister.lijst`` returns it."""

    oin: str
    soort: str
    naam: str
    brins: tuple[str, ...] = ()
    gemeentecodes: tuple[str, ...] = ()
    rmc_regios: tuple[str, ...] = ()
    mandaten: tuple[MandaatInvoer, ...] = ()
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


def controleer(invoer: PartijInvoer, *, productie: bool = False) -> PartijInvoer:
    """Check one party and return it in canonical form.

    Input: PartijInvoer; code collections may be any non-str iterable of str. ``productie``: True when
    the broker runs with ``environment = production``. Output: a new PartijInvoer with tuples of canonical,
    de-duplicated codes (order kept), the BRIN default applied and mandates checked.
    Raises ``PartijFout`` when the OIN is invalid (OIN syntax: 20 characters 0-9/A-Z, lowercase
    refused), a test OIN is used in production (OIN syntax), the soort is unknown, the naam is empty or too
    long, a code is invalid or not allowed for the soort (docs/architecture.md, "Parties and what they may see"), a
    mandate is invalid (M2), or the endpoint is not an https URL (T8, two-way TLS on 443).
    """
    oin = _controleer_oin(invoer.oin, "OIN", productie)
    fout = _foutmaker(oin)
    soort = _controleer_soort(invoer.soort, fout)
    brins = _codes(invoer.brins, parse_brin, "BRIN", fout)
    gemeentecodes = _codes(invoer.gemeentecodes, parse_gemeentecode, "gemeentecode", fout)
    rmc_regios = _codes(invoer.rmc_regios, normaliseer_rmc, "RMC region", fout)
    _controleer_scope_toegestaan(soort, brins, gemeentecodes, rmc_regios, fout)
    if not isinstance(invoer.contactgegevens, bool):
        raise fout("contactgegevens must be true or false")
    if not isinstance(invoer.procesfeiten, bool):
        raise fout("procesfeiten must be true or false")
    if not brins and soort in _INSTELLING_SOORTEN and (eigen := brin_uit_oin(oin)) is not None:
        # The OIN itself names the institution's BRIN (docs/rules.md, OIN syntax); without it the school would
        # be registered but see none of its own pupils.
        brins = (eigen,)
    return replace(
        invoer,
        oin=oin,
        soort=soort.value,
        naam=_controleer_naam(invoer.naam, fout),
        brins=brins,
        gemeentecodes=gemeentecodes,
        rmc_regios=rmc_regios,
        mandaten=_controleer_mandaten(invoer.mandaten, oin, productie, fout),
        endpoint=_controleer_endpoint(invoer.endpoint, fout, productie),
        **_controleer_contact(invoer, soort, fout),
    )


def _controleer_contact(
    invoer: PartijInvoer, soort: PartijSoort, fout: Callable[[str], PartijFout]
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


def _foutmaker(oin: str) -> Callable[[str], PartijFout]:
    return lambda reden: PartijFout(reden, oin)


def _controleer_oin(waarde: object, wat: str, productie: bool) -> str:
    try:
        oin = parse_oin(waarde)  # type: ignore[arg-type]
    except OngeldigOin:
        # repr() shows stray whitespace or lowercase the operator may not notice.
        raise PartijFout(
            f"{wat} {waarde!r} is invalid: use exactly 20 characters 0-9 and A-Z, uppercase (Edukoppeling §1.1)"
        ) from None
    if productie and is_test_oin(oin):
        raise PartijFout(
            f"{wat} {oin} is a test OIN (prefix 00000099), refused in production (Edukoppeling §1.1)"
        )
    return oin


def _controleer_soort(waarde: object, fout: Callable[[str], PartijFout]) -> PartijSoort:
    try:
        return PartijSoort(waarde)
    except ValueError:
        toegestaan = ", ".join(s.value for s in PartijSoort)
        raise fout(f"unknown soort {waarde!r}; use one of: {toegestaan}") from None


def _controleer_naam(waarde: object, fout: Callable[[str], PartijFout]) -> str:
    if not isinstance(waarde, str) or not waarde.strip():
        raise fout("naam must be a non-empty string")
    if len(waarde.strip()) > _MAX_NAAM:
        raise fout(f"naam is longer than {_MAX_NAAM} characters")
    if not waarde.strip().isprintable():
        # A line break or control character would split `vva party list` rows and log lines.
        raise fout("naam must not contain line breaks or control characters")
    return waarde.strip()


def _codes(
    waarden: Iterable[str], parser: Callable[[str], str], wat: str, fout: Callable[[str], PartijFout]
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


def _controleer_scope_toegestaan(
    soort: PartijSoort,
    brins: tuple[str, ...],
    gemeentecodes: tuple[str, ...],
    rmc_regios: tuple[str, ...],
    fout: Callable[[str], PartijFout],
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


def _controleer_mandaten(
    mandaten: Iterable[MandaatInvoer], partij_oin: str, productie: bool, fout: Callable[[str], PartijFout]
) -> tuple[MandaatInvoer, ...]:
    """Check each mandate (M2): valid certificate OIN, sane dates, each OIN once."""
    resultaat: dict[str, MandaatInvoer] = {}
    for mandaat in mandaten:
        if not isinstance(mandaat, MandaatInvoer):
            raise fout("mandaten must be MandaatInvoer objects")
        try:
            certificaat_oin = _controleer_oin(mandaat.certificaat_oin, "mandate certificate OIN", productie)
        except PartijFout as e:
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


def _intern_adres(host: str) -> bool:
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


def _dekt(mandaat: models.Mandaat, actie: str | None) -> bool:
    """A mandate without actions covers everything; otherwise the service or the operation must be listed."""
    toegestaan = (mandaat.acties or "").split()
    if not toegestaan or actie is None:
        return not toegestaan or actie is None
    return actie in toegestaan or actie.split("/", 1)[0] in toegestaan


def _controleer_endpoint(
    waarde: object, fout: Callable[[str], PartijFout], productie: bool = True
) -> str | None:
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
    if productie and _intern_adres(delen.hostname or ""):
        # The broker posts there with its own certificate: never at its own host or internal networks.
        raise fout(f"endpoint {waarde!r} points at a loopback, private or link-local address")
    lokaal = not productie and delen.scheme == "http" and delen.hostname in ("127.0.0.1", "localhost", "::1")
    if (delen.scheme != "https" and not lokaal) or not delen.hostname:
        raise fout(f"endpoint {waarde!r} must be an absolute https:// URL (Edukoppeling §1 T8)")
    if delen.username is not None or delen.password is not None:
        # Credentials in the URL would end up in `vva party list` output and logs.
        raise fout("endpoint must not contain a user name or password")
    return waarde


# ---------------------------------------------------------------------------------------------------------
# The register
# ---------------------------------------------------------------------------------------------------------


class PartijRegister:
    """Parties in the database, through ``session``; the caller commits or rolls back.

    ``productie``: True with ``environment = production``; test OINs (prefix 00000099) are then refused
    for parties and mandates (docs/rules.md, OIN syntax).
    """

    def __init__(self, session: Session, *, productie: bool = False) -> None:
        self._session = session
        self._productie = productie

    # --- writing --------------------------------------------------------------------------------------

    def voeg_toe(self, invoer: PartijInvoer, *, vervang: bool = False) -> None:
        """Store one party with its scopes and mandates.

        Input: PartijInvoer (checked with ``controleer``); ``vervang``: when the party exists, replace its
        soort, naam, endpoint, scopes and mandates (its ``actief`` flag is kept: loading a file must not
        silently re-enable a party an operator switched off). Output: None; the row is flushed.
        Raises ``PartijFout`` for anything ``controleer`` refuses, and when the party exists and
        ``vervang`` is False.
        """
        schoon = controleer(invoer, productie=self._productie)
        rij = self._session.get(models.Partij, schoon.oin)
        if rij is not None and not vervang:
            raise PartijFout("already exists; use replace to overwrite it", schoon.oin)
        if rij is None:
            rij = models.Partij(oin=schoon.oin, actief=True)
            self._session.add(rij)
        else:
            # Delete the old children first: the unit of work inserts before it deletes, so new rows equal
            # to old ones would hit the unique constraints on (partij_oin, soort, waarde) / certificaat_oin.
            rij.scopes.clear()
            rij.mandaten.clear()
            self._flush(schoon.oin)
        rij.soort, rij.naam, rij.endpoint = schoon.soort, schoon.naam, schoon.endpoint
        rij.contact_email = schoon.contact_email
        rij.contact_telefoon = schoon.contact_telefoon
        rij.contact_internetadres = schoon.contact_internetadres
        rij.contactgegevens_ontvangen = schoon.contactgegevens
        rij.procesfeiten_ontvangen = schoon.procesfeiten
        rij.scopes.extend(_scope_rijen(schoon))
        rij.mandaten.extend(
            models.Mandaat(
                certificaat_oin=m.certificaat_oin,
                geldig_van=m.geldig_van,
                geldig_tot=m.geldig_tot,
                acties=" ".join(m.acties) or None,
            )
            for m in schoon.mandaten
        )
        self._flush(schoon.oin)

    def verwijder(self, oin: str) -> int:
        """Remove a party, its scopes and mandates, and every mandate given to its OIN as certificate OIN.

        Input: OIN str. Output: the number of mandates other parties had given to this OIN, now withdrawn
        (a removed supplier must no longer speak for anyone; M2).
        Raises ``PartijFout`` when the party is not registered.
        """
        rij = self._session.get(models.Partij, oin)
        if rij is None:
            raise PartijFout("is not registered", oin)
        uitgegeven = self._session.scalars(
            select(models.Mandaat).where(models.Mandaat.certificaat_oin == oin)
        ).all()
        for mandaat in uitgegeven:
            # Through the owner's collection (delete-orphan), so a collection already loaded in this
            # session does not keep offering the withdrawn mandate to mandaat_geldig.
            mandaat.partij.mandaten.remove(mandaat)
        self._session.delete(rij)
        self._flush(oin)
        return len(uitgegeven)

    def _flush(self, oin: str) -> None:
        try:
            self._session.flush()
        except IntegrityError as e:
            # Only reachable when another transaction wrote the same party in the meantime.
            raise PartijFout("conflicting concurrent change, try again", oin) from e

    # --- reading --------------------------------------------------------------------------------------

    def bestaat(self, oin: str) -> bool:
        """True when a party with this OIN is registered (active or not)."""
        return self._session.get(models.Partij, oin) is not None

    def lijst(self) -> list[PartijInvoer]:
        """All registered parties, sorted by OIN, with codes sorted and mandates sorted by certificate OIN."""
        rijen = self._session.scalars(select(models.Partij).order_by(models.Partij.oin)).all()
        return [_als_invoer(rij) for rij in rijen]

    def zoek(self, oin: str) -> Partij | None:
        """The active party with this OIN as a domain ``Partij`` (input for the visibility rules), else None.

        Input: OIN str. Output: ``broker.domain.visibility.Partij`` built from the stored scopes, or None
        when the OIN is invalid, unknown or the party is not active (deny by default).
        Raises ``ValueError`` when the stored data is not canonical (written around this register).
        """
        rij = self._actieve(oin)
        if rij is None:
            return None
        return Partij(
            oin=rij.oin,
            soort=PartijSoort(rij.soort),
            brins=_scope(rij, SCOPE_BRIN),
            gemeentecodes=_scope(rij, SCOPE_GEMEENTE),
            rmc_regios=_scope(rij, SCOPE_RMC),
            contactgegevens=bool(rij.contactgegevens_ontvangen),
            procesfeiten=bool(rij.procesfeiten_ontvangen),
        )

    def mandaat_geldig(
        self, certificaat_oin: str, partij_oin: str, op: date, actie: str | None = None
    ) -> bool:
        """May the holder of a certificate with ``certificaat_oin`` speak for ``partij_oin`` on day ``op``,
        for ``actie`` ("dienst/operatie", e.g. "vo/opvragenStatus"; None = any)?

        True when both OINs are valid and equal (M1), or when ``partij_oin`` is an active
        party with a mandate for ``certificaat_oin`` whose geldig_van <= op <= geldig_tot (a missing bound
        is open) and the certificate OIN, if registered as a party itself, is active (M2, M3).
        Mandates come only from this registry, never from message content. Never raises for unknown or
        invalid OINs (False); raises ``TypeError`` when ``op`` is not a date (a datetime is refused).
        """
        return mandaat_geldig(self._actieve, self._houder_actief, certificaat_oin, partij_oin, op, actie)

    def _houder_actief(self, certificaat_oin: str) -> bool | None:
        houder = self._session.get(models.Partij, certificaat_oin)
        return houder.actief if houder is not None else None

    def endpoint(self, oin: str) -> str | None:
        """The push endpoint of the active party ``oin``; None when it has none, is unknown or inactive."""
        rij = self._actieve(oin)
        return rij.endpoint if rij is not None else None

    def _actieve(self, oin: str) -> models.Partij | None:
        if not is_geldig_oin(oin):
            return None
        rij = self._session.get(models.Partij, oin)
        return rij if rij is not None and rij.actief else None


@dataclass(frozen=True)
class ContactOverride:
    """A party's own contact details for one of its BRINs (migration 0015); None = use DUO's."""

    naam: str
    email: str | None
    telefoon: str | None
    internetadres: str | None


def contact_overrides(session: Session, brins: Iterable[str]) -> dict[str, ContactOverride]:
    """The contact overrides of the active vo-school/mbo-instelling parties acting for ``brins``, in one
    query. A BRIN two such parties act for takes the party with the lowest OIN that gives any override
    (a stable choice; a regional system's BRINs are not its own, so its details never count)."""
    gevraagd = sorted(set(brins))
    if not gevraagd:
        return {}
    P, S = models.Partij, models.PartijScope
    uitkomst: dict[str, ContactOverride] = {}
    for start in range(0, len(gevraagd), 500):
        rijen = session.execute(
            select(S.waarde, P.naam, P.contact_email, P.contact_telefoon, P.contact_internetadres)
            .join(P, P.oin == S.partij_oin)
            .where(
                S.soort == SCOPE_BRIN,
                S.waarde.in_(gevraagd[start : start + 500]),
                P.actief.is_(True),
                P.soort.in_(sorted(s.value for s in _INSTELLING_SOORTEN)),
                (P.contact_email.is_not(None))
                | (P.contact_telefoon.is_not(None))
                | (P.contact_internetadres.is_not(None)),
            )
            .order_by(S.waarde, P.oin)
        )
        for brin, naam, email, telefoon, internetadres in rijen:
            uitkomst.setdefault(brin, ContactOverride(naam, email, telefoon, internetadres))
    return uitkomst


class _MetMandaten(Protocol):
    mandaten: Sequence  # items with certificaat_oin, geldig_van, geldig_tot and acties, like models.Mandaat


def mandaat_geldig(
    actieve: Callable[[str], _MetMandaten | None],
    houder_actief: Callable[[str], bool | None],
    certificaat_oin: str,
    partij_oin: str,
    op: date,
    actie: str | None,
) -> bool:
    """The mandate rule of ``PartijRegister.mandaat_geldig``, over any view of the registry: ``actieve``
    gives the active party with an OIN (with its mandates) or None, ``houder_actief`` whether a
    certificate OIN registered as a party is active (None when it is not registered). One rule for the
    database and for a process's copy of it (``broker.registry.opname``); M1–M3."""
    return mandaat_stand(actieve, houder_actief, certificaat_oin, partij_oin, op, actie) == MANDAAT_GELDIG


#: The outcomes of ``mandaat_stand``: a mandate that applies (or the party itself), none at all, or
#: one that exists but not for this operation or day.
MANDAAT_GELDIG, GEEN_MANDAAT, MANDAAT_DEKT_NIET = "geldig", "geen", "dekt-niet"


def mandaat_stand(
    actieve: Callable[[str], _MetMandaten | None],
    houder_actief: Callable[[str], bool | None],
    certificaat_oin: str,
    partij_oin: str,
    op: date,
    actie: str | None,
) -> str:
    """As ``mandaat_geldig``, but says why not: ``GEEN_MANDAAT`` when the certificate holds no mandate
    for the party at all — also when the party is unknown, inactive or an OIN is invalid, so the answer
    tells a certificate holder nothing about parties it has no mandate for — and ``MANDAAT_DEKT_NIET``
    when it holds one that does not cover ``actie`` on day ``op`` (only that holder learns it)."""
    if isinstance(op, datetime) or not isinstance(op, date):
        raise TypeError("op must be a date, not a datetime")
    if not (is_geldig_oin(certificaat_oin) and is_geldig_oin(partij_oin)):
        return GEEN_MANDAAT
    if certificaat_oin == partij_oin:
        return MANDAAT_GELDIG
    partij = actieve(partij_oin)
    if partij is None or houder_actief(certificaat_oin) is False:
        # A supplier switched off in the registry loses all its mandates at once.
        return GEEN_MANDAAT
    eigen = [m for m in partij.mandaten if m.certificaat_oin == certificaat_oin]
    if not eigen:
        return GEEN_MANDAAT
    if any(_geldig_op(m, op) and _dekt(m, actie) for m in eigen):
        return MANDAAT_GELDIG
    return MANDAAT_DEKT_NIET


def _scope_rijen(invoer: PartijInvoer) -> list[models.PartijScope]:
    paren = (
        [(SCOPE_BRIN, c) for c in invoer.brins]
        + [(SCOPE_GEMEENTE, c) for c in invoer.gemeentecodes]
        + [(SCOPE_RMC, c) for c in invoer.rmc_regios]
    )
    return [models.PartijScope(soort=soort, waarde=waarde) for soort, waarde in paren]


def _scope(rij: models.Partij, soort: str) -> frozenset[str]:
    return frozenset(s.waarde for s in rij.scopes if s.soort == soort)


def _geldig_op(mandaat: models.Mandaat, op: date) -> bool:
    if mandaat.geldig_van is not None and op < mandaat.geldig_van:
        return False
    return mandaat.geldig_tot is None or op <= mandaat.geldig_tot


def _gesorteerd(codes: frozenset[str]) -> tuple[str, ...]:
    # Shorter first, then alphabetical: numeric order for RMC regions ("7" before "21"), plain order for
    # the fixed-length BRINs and gemeentecodes.
    return tuple(sorted(codes, key=lambda code: (len(code), code)))


def _als_invoer(rij: models.Partij) -> PartijInvoer:
    return PartijInvoer(
        oin=rij.oin,
        soort=rij.soort,
        naam=rij.naam,
        brins=_gesorteerd(_scope(rij, SCOPE_BRIN)),
        gemeentecodes=_gesorteerd(_scope(rij, SCOPE_GEMEENTE)),
        rmc_regios=_gesorteerd(_scope(rij, SCOPE_RMC)),
        mandaten=tuple(
            MandaatInvoer(m.certificaat_oin, m.geldig_van, m.geldig_tot, tuple((m.acties or "").split()))
            for m in sorted(rij.mandaten, key=lambda m: m.certificaat_oin)
        ),
        endpoint=rij.endpoint,
        contact_email=rij.contact_email,
        contact_telefoon=rij.contact_telefoon,
        contact_internetadres=rij.contact_internetadres,
        contactgegevens=bool(rij.contactgegevens_ontvangen),
        procesfeiten=bool(rij.procesfeiten_ontvangen),
    )
