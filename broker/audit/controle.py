"""Verifying the audit chain (``vva audit verify``).

Every record's hash must equal the SHA-256 of its fields and the previous record's hash, the sequence
numbers must run without a gap from 1 to the chain head, and — for a cycle that is not closed — the
pupils stored with a record must reproduce its salted digest. A direct UPDATE, DELETE or INSERT in
``audit_regel``, or a pseudonym added to or removed from ``audit_leerling`` of an open cycle, is found
and reported with the first record where the chain breaks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.audit.spoor import BEGIN_HASH, GEHASHTE_VELDEN, betrokkenen_digest, regel_hash
from broker.db import models

_STUK = 5_000


@dataclass(frozen=True)
class Uitslag:
    """The outcome of a verification: ``fout`` is None when the chain is intact, else what broke where."""

    aantal: int
    fout: str | None

    @property
    def intact(self) -> bool:
        return self.fout is None


def verifieer_keten(session: Session) -> Uitslag:
    """Check the whole chain, oldest first, in pieces of 5,000 records (constant memory)."""
    R = models.AuditRegel
    gesloten = set(session.scalars(select(models.Cyclus.jaar).where(models.Cyclus.gesloten_op.is_not(None))))
    vorige, verwacht, aantal = BEGIN_HASH, 1, 0
    while True:
        regels = session.scalars(
            select(R).where(R.volgnummer >= verwacht).order_by(R.volgnummer).limit(_STUK)
        ).all()
        if not regels:
            break
        betrokkenen = _betrokkenen(session, regels[0].volgnummer, regels[-1].volgnummer)
        for regel in regels:
            if regel.volgnummer != verwacht:
                return Uitslag(aantal, f"record {verwacht} is missing (next present: {regel.volgnummer})")
            velden = {naam: getattr(regel, naam) for naam in GEHASHTE_VELDEN}
            if regel.vorige_hash != vorige:
                return Uitslag(
                    aantal, f"record {regel.volgnummer}: previous-hash does not match record {verwacht - 1}"
                )
            if regel_hash(velden) != regel.hash:
                return Uitslag(aantal, f"record {regel.volgnummer}: contents do not match its hash (altered)")
            if regel.cyclus_jaar not in gesloten and not _betrokkenen_kloppen(
                regel, betrokkenen.get(regel.volgnummer)
            ):
                return Uitslag(aantal, f"record {regel.volgnummer}: its pupils do not match its digest")
            vorige, verwacht, aantal = regel.hash, verwacht + 1, aantal + 1
    kop = session.get(models.AuditKop, 1)
    if kop is not None and (kop.teller != aantal or kop.laatste_hash != vorige):
        return Uitslag(aantal, f"the chain ends at record {aantal}, but its head says {kop.teller}")
    return Uitslag(aantal, None)


def _betrokkenen(session: Session, van: int, tot: int) -> dict[int, tuple[str, list[str]]]:
    L = models.AuditLeerling
    uitkomst: dict[int, tuple[str, list[str]]] = defaultdict(lambda: ("", []))
    rijen = session.execute(
        select(L.volgnummer, L.zout, L.sleutel_hash).where(L.volgnummer.between(van, tot))
    )
    for volgnummer, zout, sleutel_hash in rijen:
        huidig = uitkomst[volgnummer]
        uitkomst[volgnummer] = (zout, [*huidig[1], sleutel_hash])
    return dict(uitkomst)


def _betrokkenen_kloppen(regel: models.AuditRegel, betrokkenen: tuple[str, list[str]] | None) -> bool:
    zout, pseudoniemen = betrokkenen or ("", [])
    return betrokkenen_digest(zout, pseudoniemen) == regel.betrokkenen_digest
