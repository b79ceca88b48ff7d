"""The party registry in the database: parties, the codes they act for, and their mandates.

``PartijRegistry`` stores and reads parties through an SQLAlchemy session; what it stores is first
checked and normalised by ``broker.registry.validation.check_all`` (pure, no database), and whether a
mandate applies is decided by ``broker.registry.mandates``. The register never commits: the caller owns
the transaction (the CLI uses one ``with sessions.begin()`` per command).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.identifiers import is_valid_oin
from broker.domain.visibility import Partij, PartijSoort
from broker.registry.mandates import MANDAAT_VALID, mandaat_state
from broker.registry.validation import (
    _INSTELLING_SOORTEN,
    MandaatInput,
    PartijError,
    PartijInput,
    check_all,
)

# Values of partij_scope.soort.
SCOPE_BRIN = "brin"
SCOPE_GEMEENTE = "gemeente"
SCOPE_RMC = "rmc"


# ---------------------------------------------------------------------------------------------------------
# The register
# ---------------------------------------------------------------------------------------------------------


class PartijRegistry:
    """Parties in the database, through ``session``; the caller commits or rolls back.

    ``production``: True with ``environment = production``; test OINs (prefix 00000099) are then refused
    for parties and mandates (docs/rules.md, OIN syntax).
    """

    def __init__(self, session: Session, *, production: bool = False) -> None:
        self._session = session
        self._production = production

    # --- writing --------------------------------------------------------------------------------------

    def add(self, input_: PartijInput, *, replace: bool = False) -> None:
        """Store one party with its scopes and mandates.

        Input: PartijInput (checked with ``check_all``); ``replace``: when the party exists, replace its
        soort, naam, endpoint, scopes and mandates (its ``actief`` flag is kept: loading a file must not
        silently re-enable a party an operator switched off). Output: None; the row is flushed.
        Raises ``PartijError`` for anything ``check_all`` refuses, and when the party exists and
        ``replace`` is False.
        """
        clean = check_all(input_, production=self._production)
        row = self._session.get(models.Partij, clean.oin)
        if row is not None and not replace:
            raise PartijError("already exists; use replace to overwrite it", clean.oin)
        if row is None:
            row = models.Partij(oin=clean.oin, actief=True)
            self._session.add(row)
        else:
            # Delete the old children first: the unit of work inserts before it deletes, so new rows equal
            # to old ones would hit the unique constraints on (partij_oin, soort, waarde) / certificaat_oin.
            row.scopes.clear()
            row.mandaten.clear()
            self._flush(clean.oin)
        row.soort, row.naam, row.endpoint = clean.soort, clean.naam, clean.endpoint
        row.contact_email = clean.contact_email
        row.contact_telefoon = clean.contact_telefoon
        row.contact_internetadres = clean.contact_internetadres
        row.contactgegevens_ontvangen = clean.contactgegevens
        row.procesfeiten_ontvangen = clean.procesfeiten
        row.scopes.extend(_scope_rows(clean))
        row.mandaten.extend(
            models.Mandaat(
                certificaat_oin=m.certificaat_oin,
                geldig_van=m.geldig_van,
                geldig_tot=m.geldig_tot,
                acties=" ".join(m.acties) or None,
            )
            for m in clean.mandaten
        )
        self._flush(clean.oin)

    def remove(self, oin: str) -> int:
        """Remove a party, its scopes and mandates, and every mandate given to its OIN as certificate OIN.

        Input: OIN str. Output: the number of mandates other parties had given to this OIN, now withdrawn
        (a removed supplier must no longer speak for anyone; M2).
        Raises ``PartijError`` when the party is not registered.
        """
        row = self._session.get(models.Partij, oin)
        if row is None:
            raise PartijError("is not registered", oin)
        issued = self._session.scalars(
            select(models.Mandaat).where(models.Mandaat.certificaat_oin == oin)
        ).all()
        for mandaat in issued:
            # Through the owner's collection (delete-orphan), so a collection already loaded in this
            # session does not keep offering the withdrawn mandate to mandaat_valid.
            mandaat.partij.mandaten.remove(mandaat)
        self._session.delete(row)
        self._flush(oin)
        return len(issued)

    def _flush(self, oin: str) -> None:
        try:
            self._session.flush()
        except IntegrityError as e:
            # Only reachable when another transaction wrote the same party in the meantime.
            raise PartijError("conflicting concurrent change, try again", oin) from e

    # --- reading --------------------------------------------------------------------------------------

    def exists(self, oin: str) -> bool:
        """True when a party with this OIN is registered (active or not)."""
        return self._session.get(models.Partij, oin) is not None

    def list_(self) -> list[PartijInput]:
        """All registered parties, sorted by OIN, with codes sorted and mandates sorted by certificate OIN."""
        rows = self._session.scalars(select(models.Partij).order_by(models.Partij.oin)).all()
        return [_as_input(row) for row in rows]

    def find(self, oin: str) -> Partij | None:
        """The active party with this OIN as a domain ``Partij`` (input for the visibility rules), else None.

        Input: OIN str. Output: ``broker.domain.visibility.Partij`` built from the stored scopes, or None
        when the OIN is invalid, unknown or the party is not active (deny by default).
        Raises ``ValueError`` when the stored data is not canonical (written around this register).
        """
        row = self._active(oin)
        if row is None:
            return None
        return Partij(
            oin=row.oin,
            soort=PartijSoort(row.soort),
            brins=_scope(row, SCOPE_BRIN),
            gemeentecodes=_scope(row, SCOPE_GEMEENTE),
            rmc_regios=_scope(row, SCOPE_RMC),
            contactgegevens=bool(row.contactgegevens_ontvangen),
            procesfeiten=bool(row.procesfeiten_ontvangen),
        )

    def mandaat_valid(
        self, certificaat_oin: str, partij_oin: str, on: date, action: str | None = None
    ) -> bool:
        """May the holder of a certificate with ``certificaat_oin`` speak for ``partij_oin`` on day ``on``,
        for ``action`` ("dienst/operatie", e.g. "vo/opvragenStatus"; None = any)?

        True when both OINs are valid and equal (M1), or when ``partij_oin`` is an active
        party with a mandate for ``certificaat_oin`` whose geldig_van <= op <= geldig_tot (a missing bound
        is open) and the certificate OIN, if registered as a party itself, is active (M2, M3).
        Mandates come only from this registry, never from message content. Never raises for unknown or
        invalid OINs (False); raises ``TypeError`` when ``on`` is not a date (a datetime is refused).
        """
        state = mandaat_state(self._active, self._holder_active, certificaat_oin, partij_oin, on, action)
        return state == MANDAAT_VALID

    def _holder_active(self, certificaat_oin: str) -> bool | None:
        holder = self._session.get(models.Partij, certificaat_oin)
        return holder.actief if holder is not None else None

    def endpoint(self, oin: str) -> str | None:
        """The push endpoint of the active party ``oin``; None when it has none, is unknown or inactive."""
        row = self._active(oin)
        return row.endpoint if row is not None else None

    def _active(self, oin: str) -> models.Partij | None:
        if not is_valid_oin(oin):
            return None
        row = self._session.get(models.Partij, oin)
        return row if row is not None and row.actief else None


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
    requested = sorted(set(brins))
    if not requested:
        return {}
    P, S = models.Partij, models.PartijScope
    uitkomst: dict[str, ContactOverride] = {}
    for start in range(0, len(requested), 500):
        rows = session.execute(
            select(S.waarde, P.naam, P.contact_email, P.contact_telefoon, P.contact_internetadres)
            .join(P, P.oin == S.partij_oin)
            .where(
                S.soort == SCOPE_BRIN,
                S.waarde.in_(requested[start : start + 500]),
                P.actief.is_(True),
                P.soort.in_(sorted(s.value for s in _INSTELLING_SOORTEN)),
                (P.contact_email.is_not(None))
                | (P.contact_telefoon.is_not(None))
                | (P.contact_internetadres.is_not(None)),
            )
            .order_by(S.waarde, P.oin)
        )
        for brin, naam, email, telefoon, internetadres in rows:
            uitkomst.setdefault(brin, ContactOverride(naam, email, telefoon, internetadres))
    return uitkomst


def _scope_rows(input_: PartijInput) -> list[models.PartijScope]:
    pairs = (
        [(SCOPE_BRIN, c) for c in input_.brins]
        + [(SCOPE_GEMEENTE, c) for c in input_.gemeentecodes]
        + [(SCOPE_RMC, c) for c in input_.rmc_regios]
    )
    return [models.PartijScope(soort=soort, waarde=waarde) for soort, waarde in pairs]


def _scope(row: models.Partij, soort: str) -> frozenset[str]:
    return frozenset(s.waarde for s in row.scopes if s.soort == soort)


def _sorted(codes: frozenset[str]) -> tuple[str, ...]:
    # Shorter first, then alphabetical: numeric order for RMC regions ("7" before "21"), plain order for
    # the fixed-length BRINs and gemeentecodes.
    return tuple(sorted(codes, key=lambda code: (len(code), code)))


def _as_input(row: models.Partij) -> PartijInput:
    return PartijInput(
        oin=row.oin,
        soort=row.soort,
        naam=row.naam,
        brins=_sorted(_scope(row, SCOPE_BRIN)),
        gemeentecodes=_sorted(_scope(row, SCOPE_GEMEENTE)),
        rmc_regios=_sorted(_scope(row, SCOPE_RMC)),
        mandaten=tuple(
            MandaatInput(m.certificaat_oin, m.geldig_van, m.geldig_tot, tuple((m.acties or "").split()))
            for m in sorted(row.mandaten, key=lambda m: m.certificaat_oin)
        ),
        endpoint=row.endpoint,
        contact_email=row.contact_email,
        contact_telefoon=row.contact_telefoon,
        contact_internetadres=row.contact_internetadres,
        contactgegevens=bool(row.contactgegevens_ontvangen),
        procesfeiten=bool(row.procesfeiten_ontvangen),
    )
