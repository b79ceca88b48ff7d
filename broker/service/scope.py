"""Which institution codes in a request belong to the caller (Edukoppeling §5 M4)."""

from __future__ import annotations

from collections.abc import Iterable

from broker.domain.identifiers import parse_brin
from broker.domain.meldingen import BRIN_ONBEKEND, Afwijzing
from broker.domain.visibility import Partij
from broker.service.context import NietGeautoriseerd, Verwerking


def eigen_brin(partij: Partij, ruw: str, veld: str = "brinVo") -> str:
    """The canonical BRIN4 of ``ruw`` when it is one of ``partij``'s BRINs.

    Raises ``NietGeautoriseerd`` (DK0002) otherwise, invalid and foreign alike (edukoppeling.md F3);
    the reason names the request field ``veld``.
    """
    try:
        brin = parse_brin(ruw)
    except Afwijzing:
        brin = None
    if brin is None or brin not in partij.brins:
        raise NietGeautoriseerd(f"{veld} hoort niet bij de afzender")
    return brin


def brins_van_afzender(
    verwerking: Verwerking, partij: Partij, records: Iterable[tuple[int, str | None]]
) -> dict[int, Afwijzing | str]:
    """Check the BRIN of every record before anything is applied.

    Input: (volgnummer, raw BRIN) pairs. Output per volgnummer: the canonical BRIN, or an
    ``Afwijzing`` (VVA104 bad format, VVA105 not in the DUO reference data) for that record alone.
    Raises ``NietGeautoriseerd`` (Client.DK0002) for the whole message when any record names a known
    BRIN the caller does not act for — sender identifiers in the Body must belong to the principal
    (Edukoppeling §5 M4), and a fault must leave nothing half-applied.
    """
    uitkomst: dict[int, Afwijzing | str] = {}
    vreemd: dict[int, str] = {}
    for volgnummer, ruw in records:
        try:
            brin = parse_brin(ruw or "")
        except Afwijzing as afwijzing:
            uitkomst[volgnummer] = afwijzing
            continue
        uitkomst[volgnummer] = brin
        if brin not in partij.brins:
            vreemd[volgnummer] = brin
    bekend = verwerking.bekende_brins(set(vreemd.values()))
    for volgnummer, brin in vreemd.items():
        if brin in bekend:
            raise NietGeautoriseerd(f"record {volgnummer}: de afzender treedt niet op voor BRIN {brin}")
        uitkomst[volgnummer] = Afwijzing(BRIN_ONBEKEND)
    return uitkomst
