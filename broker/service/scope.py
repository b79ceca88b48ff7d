"""Which institution codes in a request belong to the caller (M4)."""

from __future__ import annotations

from collections.abc import Iterable

from broker.domain.identifiers import parse_brin
from broker.domain.meldingen import BRIN_NIET_BEDIEND, BRIN_ONBEKEND, Rejection
from broker.domain.visibility import Partij
from broker.service.context import NotAuthorised, Processing


def own_brin(partij: Partij, raw: str, field: str = "brinVo") -> str:
    """The canonical BRIN4 of ``raw`` when it is one of ``partij``'s BRINs.

    Raises ``NotAuthorised`` (DK0002) otherwise, invalid and foreign alike (F3);
    the reason names the request field ``field``.
    """
    try:
        brin = parse_brin(raw)
    except Rejection:
        brin = None
    if brin is None or brin not in partij.brins:
        raise NotAuthorised(f"{field} hoort niet bij de afzender")
    return brin


def brins_of_sender(
    processing: Processing,
    partij: Partij,
    records: Iterable[tuple[int, str | None]],
    foreign_per_record: bool = False,
) -> dict[int, Rejection | str]:
    """Check the BRIN of every record before anything is applied.

    Input: (volgnummer, raw BRIN) pairs. Output per volgnummer: the canonical BRIN, or an
    ``Rejection`` (VVA104 bad format, VVA105 not in the DUO reference data) for that record alone.
    Raises ``NotAuthorised`` (Client.DK0002) for the whole message when any record names a known
    BRIN the caller does not act for — sender identifiers in the Body must belong to the principal
    (M4), and a fault must leave nothing half-applied.

    With ``foreign_per_record`` (a regional system passing on the deliveries of the schools it serves,
    flow d) such a record gets ``BRIN_NIET_BEDIEND`` (DK0002) for itself and the rest of the batch
    applies: the system speaks for many schools, and one school it no longer serves must not hold up
    the others.
    """
    uitkomst: dict[int, Rejection | str] = {}
    foreign: dict[int, str] = {}
    # A batch names the same few BRINs thousands of times: each distinct valid one is parsed once.
    parsed: dict[str, str] = {}
    for volgnummer, raw in records:
        try:
            brin = parsed.get(raw) if raw else None
            if brin is None:
                brin = parsed[raw or ""] = parse_brin(raw or "")
        except Rejection as rejection:
            uitkomst[volgnummer] = rejection
            continue
        uitkomst[volgnummer] = brin
        if brin not in partij.brins:
            foreign[volgnummer] = brin
    known = processing.known_brins(set(foreign.values()))
    for volgnummer, brin in foreign.items():
        if brin not in known:
            uitkomst[volgnummer] = Rejection(BRIN_ONBEKEND)
        elif foreign_per_record:
            uitkomst[volgnummer] = Rejection(BRIN_NIET_BEDIEND)
        else:
            raise NotAuthorised(f"record {volgnummer}: de afzender treedt niet op voor BRIN {brin}")
    return uitkomst
