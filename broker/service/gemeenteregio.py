"""The RMC region of each gemeente, from the reference data: the one place that reads that mapping.

Visibility of residents by region (a regional system, a gemeente as RMC function), the pushes and the
RMC overview all go through ``rmc_regios_of_gemeenten``, so that where the mapping comes from (the reference
data of the request's cycle) changes in this function only.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from broker.db import models
from broker.domain.visibility import normalise_rmc
from broker.service.context import Processing

_BATCH = 500  # bound the IN-list size (SQLite allows 32766 parameters; stay far below)


def rmc_regios_of_gemeenten(
    processing: Processing, codes: Collection[str] | None = None
) -> dict[str, str | None]:
    """gemeentecode → RMC region code (no leading zero; None when the gemeente has no region) for
    ``codes``, or for every known gemeente when ``codes`` is None. Unknown codes are absent."""
    G = models.Gemeente
    of_the_cyclus = G.cyclus_jaar == processing.refdata_year  # the mapping of the cycle's reference data
    if codes is None:
        rows = processing.session.execute(select(G.code, G.rmc_regio).where(of_the_cyclus)).tuples().all()
    else:
        list_ = sorted({c for c in codes if c})
        rows = []
        for i in range(0, len(list_), _BATCH):
            rows += (
                processing.session.execute(
                    select(G.code, G.rmc_regio).where(of_the_cyclus, G.code.in_(list_[i : i + _BATCH]))
                )
                .tuples()
                .all()
            )
    return {code: normalise_rmc(regio) if regio else None for code, regio in rows}


def gemeenten_in_regios(processing: Processing, regios: Collection[str]) -> set[str]:
    """The gemeentecodes whose RMC region is one of ``regios`` (any spelling: "07" or "7")."""
    sought = {normalise_rmc(r) for r in regios}
    if not sought:
        return set()
    return {code for code, regio in rmc_regios_of_gemeenten(processing).items() if regio in sought}
