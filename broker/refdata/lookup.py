"""Read a cycle's reference data: which cycle's load holds, known BRINs, an institution's contact details.

Reference data belong to a cycle (``laden.py``). A cycle without its own load uses the newest earlier
cycle's (the data hold until DUO's next files are loaded); before the first load, the earliest load holds.
The answer is cached in ``session.info`` for the session's life (one short transaction in the request
path; ``laden.load_files`` drops it), so a request asks at most once, never per record.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from broker.db import models

#: The ``session.info`` key of the cache; ``laden.load_files`` drops it.
CACHE_KEY = "refdata_jaar"


def refdata_year(session: Session, cyclus_jaar: int) -> int | None:
    """The cycle whose reference data hold in ``cyclus_jaar``, or None when none is loaded at all."""
    cache: dict[int, int | None] = session.info.setdefault(CACHE_KEY, {})
    if cyclus_jaar not in cache:
        cache[cyclus_jaar] = session.scalar(select(refdata_year_sql(cyclus_jaar)))
    return cache[cyclus_jaar]


def refdata_year_sql(cyclus_jaar: int) -> ColumnElement[int]:
    """``refdata_year`` as an SQL expression, for queries that join reference data (reports)."""
    g = aliased(models.Gemeente)
    earlier = select(func.max(g.cyclus_jaar)).where(g.cyclus_jaar <= cyclus_jaar).correlate(None)
    first = select(func.min(g.cyclus_jaar)).correlate(None)
    return func.coalesce(earlier.scalar_subquery(), first.scalar_subquery())


def active_brins(session: Session, cyclus_jaar: int, brins: Collection[str]) -> set[str]:
    """Those of ``brins`` that are VO, (V)SO or MBO institutions in the cycle's data and not ended."""
    jaar = refdata_year(session, cyclus_jaar)
    if jaar is None or not brins:
        return set()
    i = models.Instelling
    return set(
        session.scalars(
            select(i.brin).where(i.cyclus_jaar == jaar, i.brin.in_(sorted(brins)), i.beeindigd.is_(False))
        )
    )


def later_refdata_years(session: Session, cyclus_jaar: int) -> list[int]:
    """The cycles after ``cyclus_jaar`` that have reference data of their own (a next cycle opened early)."""
    i = models.Instelling
    return list(session.scalars(select(i.cyclus_jaar).where(i.cyclus_jaar > cyclus_jaar).distinct()))


def known_brins(session: Session, cyclus_jaar: int, brins: Collection[str]) -> set[str]:
    """Those of ``brins`` that are institutions in the cycle's data, ended ones included."""
    jaar = refdata_year(session, cyclus_jaar)
    if jaar is None or not brins:
        return set()
    i = models.Instelling
    return set(session.scalars(select(i.brin).where(i.cyclus_jaar == jaar, i.brin.in_(sorted(brins)))))


@dataclass(frozen=True)
class Contactgegevens:
    """An institution's contact details as DUO publishes them: never a person's."""

    brin: str
    naam: str
    telefoon: str | None
    internetadres: str | None


def contactgegevens_of(session: Session, cyclus_jaar: int, brin: str) -> Contactgegevens | None:
    """The contact details of institution ``brin`` in cycle ``cyclus_jaar``'s reference data, or None.

    An institution that ended in that cycle still answers: its pupils may still be in the exchange.
    """
    jaar = refdata_year(session, cyclus_jaar)
    if jaar is None:
        return None
    instelling = session.get(models.Instelling, (jaar, brin))
    if instelling is None:
        return None
    return Contactgegevens(instelling.brin, instelling.naam, instelling.telefoon, instelling.internetadres)


def contactgegevens_of_brins(
    session: Session, cyclus_jaar: int, brins: Iterable[str]
) -> dict[str, Contactgegevens]:
    """``contactgegevens_of`` for many BRINs in one query: the BRINs found, with their details."""
    jaar = refdata_year(session, cyclus_jaar)
    requested = sorted(set(brins))
    if jaar is None or not requested:
        return {}
    i = models.Instelling
    uitkomst: dict[str, Contactgegevens] = {}
    for start in range(0, len(requested), 500):  # bounded IN lists
        for row in session.scalars(
            select(i).where(i.cyclus_jaar == jaar, i.brin.in_(requested[start : start + 500]))
        ):
            uitkomst[row.brin] = Contactgegevens(row.brin, row.naam, row.telefoon, row.internetadres)
    return uitkomst
