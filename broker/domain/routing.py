"""Who receives a push when a pupil's data changes, and what it contains.

Routing is derived from the visibility rules (``broker.domain.visibility``) instead of being a second rule
set: a party receives a push about a pupil only when ``may_see`` allows it, and the push carries exactly
``beeld_for`` for that party. Visibility and routing therefore cannot disagree. In practice a status change
reaches:

* the pupil's VO school (a VO-school party acting for the pupil's brin_vo);
* the regional system(s) of the school's RMC region and of the residence's RMC region, and a regional
  system serving an MBO institution the pupil registered at (it then gets what that institution gets);
* the gemeente of residence;
* each MBO institution the pupil registered at, with only its own registrations and a yes/no "also
  registered elsewhere", never where.

Leveranciers never receive pushes: as themselves they see nothing. Only parties with a push endpoint can
receive anything; selecting those is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from broker.domain.visibility import LeerlingBeeld, LeerlingFeiten, Partij, beeld_for, may_see


@dataclass(frozen=True)
class Push:
    """One message to send: ``beeld`` is the pupil as ``partij`` may see it after the change."""

    partij: Partij
    beeld: LeerlingBeeld


def receivers(
    feiten: LeerlingFeiten, partijen: Iterable[Partij], previous: LeerlingFeiten | None = None
) -> list[Push]:
    """Return the pushes to send about one pupil after a change.

    Input: ``feiten``, the pupil after the change; ``partijen``, the candidate parties (the caller passes
    only parties with a push endpoint); ``previous``, the pupil before the change, or None when unknown (a
    new pupil, or a full resend).
    Output: one ``Push`` per party that may see the pupil now (``may_see``), in the order of ``partijen``,
    each party at most once (a repeated, equal Partij is skipped). The content is exactly
    ``beeld_for(partij, feiten)``. Never raises for valid inputs.

    With ``previous`` given, a party whose view is unchanged (``beeld_for(partij, previous)`` equals the new
    view) is skipped: e.g. an MBO institution is not told about a change at another institution that
    leaves its own registrations and its elders_aangemeld as they were. A party that could not see the
    pupil before and can now does receive the new view.

    A party that could see the pupil before but cannot any more (the pupil moved, changed school, or a
    registration was replaced) receives nothing at all, not even a "you lost access" notice: such a
    notice would itself tell a party outside its scope something about the pupil. Withdrawing access is
    not a message to that party.

    Source rule: WEB art. 8.0.3 and the Regeling gegevensverstrekking bij overstap naar het mbo (who
    receives what, flows a-d); AVG art. 5 lid 1 sub c (data minimisation: nothing to a party outside its
    scope, and only the fields its role needs); docs/architecture.md, "Parties and what they may see".
    """
    pushes: list[Push] = []
    for partij in _unique(partijen):
        if not may_see(partij, feiten):
            continue
        beeld = beeld_for(partij, feiten)
        if previous is not None and _previous_beeld(partij, previous) == beeld:
            continue
        pushes.append(Push(partij=partij, beeld=beeld))
    return pushes


def _unique(partijen: Iterable[Partij]) -> Iterator[Partij]:
    """Yield each party once, in first-seen order (Partij is a frozen, hashable dataclass)."""
    seen: set[Partij] = set()
    for partij in partijen:
        if partij not in seen:
            seen.add(partij)
            yield partij


def _previous_beeld(partij: Partij, previous: LeerlingFeiten) -> LeerlingBeeld | None:
    """The party's view before the change, or None when it could not see the pupil then."""
    return beeld_for(partij, previous) if may_see(partij, previous) else None
