"""Is a cycle's reference data complete? What ``vva refdata check`` and ``vva cycle open`` ask.

Complete means: the four DUO files of the yearly set were loaded for the cycle (the primary-school file
is the only one that covers every gemeente), every gemeente has an RMC region, no gemeente of the
previous cycle is gone, and (V)SO and MBO institutions are known. Without this, pupils living in a
gemeente without a VO school are refused (VVA108) and nobody sees them.

A gemeente that really ended (merged into another, "gemeente opgeheven": it happens most years) is
accepted only when the operator names it (``--ended-gemeente CODE``), so a file that silently lacks
gemeenten still fails.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.db import models
from broker.refdata import duo

#: The files of the yearly set, in the words the operator sees.
FILE_NAMES = {
    duo.VO: "VO vestigingen (02.-alle-vestigingen-vo.csv)",
    duo.BO: "primary-school vestigingen (02.-alle-schoolvestigingen-basisonderwijs.csv)",
    duo.SO: "SBO/SO/VSO vestigingen (09.-alle-vestigingen-sbo-so-en-vso.csv)",
    duo.MBO: "MBO institutions (01.-adressen-mbo-instellingen.csv)",
}

_SHOW_AT_MOST = 20  # list at most this many codes per problem


@dataclass
class CheckResult:
    """The outcome for one cycle: ``problems`` (empty = complete) and counts for the summary."""

    cyclus_jaar: int
    problems: list[str] = field(default_factory=list)
    gemeenten: int = 0
    regios: int = 0
    instellingen: dict[str, int] = field(default_factory=dict)  # onderwijssoort -> active institutions
    ended_gemeenten: list[str] = field(default_factory=list)  # gone, and acknowledged as ended

    @property
    def complete(self) -> bool:
        return not self.problems


def check_all(session: Session, cyclus_jaar: int, ended_gemeenten: Collection[str] = ()) -> CheckResult:
    """Check the reference data loaded for ``cyclus_jaar`` itself (not an earlier cycle's).

    ``ended_gemeenten``: gemeentecodes the operator acknowledges as ended since the previous cycle
    (merged); their absence is no problem. A code given that is not missing is one: a typo must not
    pass unnoticed.
    """
    uitkomst = CheckResult(cyclus_jaar)
    g, i = models.Gemeente, models.Instelling
    gemeenten = dict(
        session.execute(select(g.code, g.rmc_regio).where(g.cyclus_jaar == cyclus_jaar)).tuples().all()
    )
    uitkomst.gemeenten = len(gemeenten)
    uitkomst.regios = len({r for r in gemeenten.values() if r})
    uitkomst.instellingen = dict(
        session.execute(
            select(i.onderwijssoort, func.count())
            .where(i.cyclus_jaar == cyclus_jaar, i.beeindigd.is_(False))
            .group_by(i.onderwijssoort)
        )
        .tuples()
        .all()
    )
    if not gemeenten:
        uitkomst.problems.append(f"no reference data loaded for cycle {cyclus_jaar}")
    loaded = set(
        session.scalars(select(models.RefdataFile.kind).where(models.RefdataFile.cyclus_jaar == cyclus_jaar))
    )
    for soort in duo.SOORTEN:
        if soort not in loaded:
            uitkomst.problems.append(f"file not loaded: {FILE_NAMES[soort]}")
    without_regio = sorted(code for code, regio in gemeenten.items() if not regio)
    if without_regio:
        uitkomst.problems.append(
            f"{len(without_regio)} gemeente(n) without an RMC region: {_list(without_regio)}"
        )
    previous = session.scalar(select(func.max(g.cyclus_jaar)).where(g.cyclus_jaar < cyclus_jaar))
    recognised = set(ended_gemeenten)
    ended: set[str] = set()
    if previous is not None and gemeenten:
        ended = set(session.scalars(select(g.code).where(g.cyclus_jaar == previous))) - set(gemeenten)
        unexplained = sorted(ended - recognised)
        if unexplained:
            uitkomst.problems.append(
                f"{len(unexplained)} gemeente(n) of cycle {previous} missing from cycle {cyclus_jaar}: "
                f"{_list(unexplained)} (if one really ended, e.g. merged, acknowledge it with "
                "--ended-gemeente CODE)"
            )
    uitkomst.ended_gemeenten = sorted(ended & recognised)
    not_gone = sorted(recognised - ended)
    if not_gone:
        where_text = (
            f"of cycle {previous} missing from cycle {cyclus_jaar}"
            if previous is not None
            else "of a previous cycle"
        )
        uitkomst.problems.append(f"given as ended, but not a gemeente {where_text}: {_list(not_gone)}")
    if not uitkomst.instellingen.get("vso"):
        uitkomst.problems.append("no (V)SO institutions loaded")
    if not uitkomst.instellingen.get("mbo"):
        uitkomst.problems.append("no MBO institutions loaded")
    return uitkomst


def _list(codes: list[str]) -> str:
    more = f" (and {len(codes) - _SHOW_AT_MOST} more)" if len(codes) > _SHOW_AT_MOST else ""
    return ", ".join(codes[:_SHOW_AT_MOST]) + more
