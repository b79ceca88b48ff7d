"""Institutions' contact details for a view of a pupil (issue 15, item 5).

Which institutions' details a party gets is decided in ``broker.domain.visibility``
(``LeerlingBeeld.contacten``); here they are looked up: name, phone and internet address from the
cycle's DUO reference data, the party's own phone and internet address winning field by field, and its
contact e-mail for this exchange, which only the registry has. Never a person's details.

The request path asks the database once per set of BRINs, not per pupil: ``ContactBook.load`` fetches
all BRINs of a list of views at once, and the result is kept in ``session.info`` for the session's life
(one request, or one delivery attempt), like the other reference lookups.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from broker.domain.visibility import ContactRol, LeerlingBeeld
from broker.refdata.lookup import contactgegevens_of_brins
from broker.registry.repository import contact_overrides

#: The ``session.info`` key of the cache: (cycle, BRIN) → details, or None when unknown.
CACHE_KEY = "contactgegevens"


@dataclass(frozen=True)
class Contact:
    """One institution's contact details as shown with a pupil. ``brin`` is None when the party may
    not see it (an MBO institution gets its school's details, not its BRIN)."""

    rol: ContactRol
    brin: str | None
    naam: str
    telefoon: str | None
    internetadres: str | None
    email: str | None


@dataclass(frozen=True)
class _Details:
    naam: str
    telefoon: str | None
    internetadres: str | None
    email: str | None


class ContactBook:
    """Contact details of one cycle, looked up in bulk and cached per session."""

    def __init__(self, session: Session, cyclus_jaar: int) -> None:
        self._session = session
        self._year = cyclus_jaar
        self._cache: dict[tuple[int, str], _Details | None] = session.info.setdefault(CACHE_KEY, {})

    def load(self, beelden: Iterable[LeerlingBeeld]) -> None:
        """Fetch the details of every institution the views refer to that is not cached yet."""
        missing = {
            c.brin for beeld in beelden for c in beeld.contacten if (self._year, c.brin) not in self._cache
        }
        if not missing:
            return
        duo = contactgegevens_of_brins(self._session, self._year, missing)
        own = contact_overrides(self._session, missing)
        for brin in missing:
            self._cache[(self._year, brin)] = _merged(duo.get(brin), own.get(brin))

    def contacten(self, beeld: LeerlingBeeld) -> tuple[Contact, ...]:
        """The contact details ``beeld`` refers to, in its order; an institution known neither to DUO's
        data nor to the registry is left out."""
        self.load([beeld])
        uitkomst = []
        for reference in beeld.contacten:
            details = self._cache[(self._year, reference.brin)]
            if details is not None:
                uitkomst.append(
                    Contact(
                        rol=reference.rol,
                        brin=reference.brin if reference.show_brin else None,
                        naam=details.naam,
                        telefoon=details.telefoon,
                        internetadres=details.internetadres,
                        email=details.email,
                    )
                )
        return tuple(uitkomst)


def _merged(duo, own) -> _Details | None:
    # The registry's values win field by field; DUO's name stays (the party's name may be a board's).
    if duo is None and own is None:
        return None
    return _Details(
        naam=duo.naam if duo is not None else own.naam,
        telefoon=(own.telefoon if own and own.telefoon else None) or (duo.telefoon if duo else None),
        internetadres=(own.internetadres if own and own.internetadres else None)
        or (duo.internetadres if duo else None),
        email=own.email if own else None,
    )
