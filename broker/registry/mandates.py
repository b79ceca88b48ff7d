"""The mandate rule (docs/rules.md, M1–M3): may the holder of a certificate speak for a party, for an
operation, on a day? Pure: it works over any view of the registry, the database
(``broker.registry.repository.PartijRegistry``) or a process's copy of it (``broker.registry.snapshot``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from broker.domain.identifiers import is_valid_oin

if TYPE_CHECKING:
    from broker.db import models


class _WithMandaten(Protocol):
    mandaten: Sequence  # items with certificaat_oin, geldig_van, geldig_tot and acties, like models.Mandaat


#: The outcomes of ``mandaat_state``: a mandate that applies (or the party itself), none at all, or
#: one that exists but not for this operation or day.
MANDAAT_VALID, NO_MANDAAT, MANDAAT_DOES_NOT_COVER = "geldig", "geen", "dekt-niet"


def mandaat_state(
    active: Callable[[str], _WithMandaten | None],
    holder_active: Callable[[str], bool | None],
    certificaat_oin: str,
    partij_oin: str,
    on: date,
    action: str | None,
) -> str:
    """The mandate rule (M1–M3) over any view of the registry, with the reason: ``actieve`` gives the
    active party with an OIN (with its mandates) or None, ``holder_active`` whether a certificate OIN
    registered as a party is active (None when it is not registered). One rule for the database
    (``PartijRegistry``) and for a process's copy of it (``broker.registry.snapshot``), whose
    ``mandaat_valid`` is this outcome being ``MANDAAT_VALID``.

    ``MANDAAT_VALID`` for the party itself or a mandate that applies; ``NO_MANDAAT`` when the certificate holds no mandate
    for the party at all — also when the party is unknown, inactive or an OIN is invalid, so the answer
    tells a certificate holder nothing about parties it has no mandate for — and ``MANDAAT_DOES_NOT_COVER``
    when it holds one that does not cover ``action`` on day ``on`` (only that holder learns it)."""
    if isinstance(on, datetime) or not isinstance(on, date):
        raise TypeError("op must be a date, not a datetime")
    if not (is_valid_oin(certificaat_oin) and is_valid_oin(partij_oin)):
        return NO_MANDAAT
    if certificaat_oin == partij_oin:
        return MANDAAT_VALID
    partij = active(partij_oin)
    if partij is None or holder_active(certificaat_oin) is False:
        # A supplier switched off in the registry loses all its mandates at once.
        return NO_MANDAAT
    own = [m for m in partij.mandaten if m.certificaat_oin == certificaat_oin]
    if not own:
        return NO_MANDAAT
    if any(_valid_on(m, on) and _covers(m, action) for m in own):
        return MANDAAT_VALID
    return MANDAAT_DOES_NOT_COVER


def _covers(mandaat: models.Mandaat, action: str | None) -> bool:
    """A mandate without actions covers everything; otherwise the service or the operation must be listed."""
    allowed = (mandaat.acties or "").split()
    if not allowed or action is None:
        return not allowed or action is None
    return action in allowed or action.split("/", 1)[0] in allowed


def _valid_on(mandaat: models.Mandaat, on: date) -> bool:
    if mandaat.geldig_van is not None and on < mandaat.geldig_van:
        return False
    return mandaat.geldig_tot is None or on <= mandaat.geldig_tot
