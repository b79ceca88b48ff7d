"""The process figures of one cycle on one date (peildatum), computed by the database.

Every figure is a GROUP BY over the history tables (``leerling_mutatie``, ``aanmelding_overgang``,
``aanmelding_feit``); Python only folds the per-day counts the database returns into ISO weeks and
lead-time buckets, and reads medians off per-day histograms. Nothing here loops over pupils.

Definitions (the brief's policy and process information, levels 1-3; the state "on" a date is the last reported
status with ``datum`` up to and including that date; for a school's delivery and the exam result the
last mutation recorded (``vastgelegd_op``, UTC) before the end of that date; for an intake or
onderwijsovereenkomst the facts dated up to that date and recorded before its end):

* **pupil status**: the furthest status among the pupil's registrations, in the order
  ingeschreven > geaccepteerd > aangemeld > aanmeldingOntvangen > geweigerd > ingetrokken, else
  ``geenAanmelding``. A pupil is *actively registered* in the first four (``ACTIEF_AANGEMELD``).
* **population** of a school or region: the pupils its VO schools delivered (region: the RMC region of
  the vestiging, else of the school) that are still ``actief`` or have a registration; nationally also
  pupils registered without any school delivery (counted apart as ``aangemeld_zonder_levering``).
* ``aangemeld_voor_deadline`` / ``_na_deadline``: pupils whose first active registration is dated on or
  before / after the cycle's deadline (registering ON the deadline is on time, Kamerstuk 34 457).
* ``teruggevallen_na_deadline``: actively registered on the deadline, registered nowhere on the peildatum.
* ``geleverd_nergens_aangemeld``: still ``actief`` at their school, registered nowhere (the signal basis).
* **exam result** of a pupil on a date: the ``examen_uitkomst`` of the last mutation of that pupil,
  recorded by the end of that date, that carried one (a mutation without one leaves it as it was).
* ``examenresultaat_per_uitkomst`` (dimensie = ``ExamenUitkomst``): delivered pupils of the unit per
  exam result on the peildatum, whatever their status (a pupil withdrawn to havo with ``doorstroomVo``
  counts); pupils without a result are not counted.
* ``diploma_nergens_aangemeld``: pupils whose exam result is ``geslaagd``, still ``actief`` at their
  school, and registered nowhere on the peildatum: the national "not registered anywhere after the
  diploma". A subset of both ``examenresultaat_per_uitkomst``/``geslaagd`` and
  ``geleverd_nergens_aangemeld``.
* registrations (MBO side, per institution or the institution's RMC region): per status on the
  peildatum, before/after the deadline by the date of their first status, per week, per crebo and
  location.
* **intake**: one (registration, intake date) reported for a registration of the unit, with the
  outcome last recorded for that date (``IntakeUitkomst``). ``intakes`` counts them (0 for a unit with
  registrations but no intake); ``intakes_per_uitkomst`` (dimensie = the outcome) splits them, and its
  cells add up to ``intakes``.
* lead times, per registration, in days between the first moments of its traject (``TRAJECTEN``):
  ``t_aangemeld`` (first aanmeldingOntvangen/aangemeld), ``t_geaccepteerd``, ``t_ingeschreven`` (first
  date of that status), ``t_intake`` (the earliest intake date whose outcome is not nietVerschenen:
  the first intake held), ``t_overeenkomst`` (the earliest onderwijsovereenkomst date reported). A
  traject counts a registration with both moments, the second not before the first; per unit (a VO
  school: its pupils' registrations wherever they are; an institution; the institution's region;
  landelijk) as n, a distribution over ``BUCKETS``, a median and a 90th percentile (nearest rank: the
  smallest value with at least p % of the observations at or below it).
"""

from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    text,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy import false as false_
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.sqltypes import NullType

from broker.db import models
from broker.domain.cycle import Calendar
from broker.domain.status import (
    ACTIEF_AANGEMELD,
    AanmeldStatus,
    ExamenUitkomst,
    IntakeUitkomst,
    MboGangerStatus,
)
from broker.rapportage.sql import days_between
from broker.refdata.lookup import refdata_year_sql


class Level(StrEnum):
    LANDELIJK = "landelijk"
    SCHOOL = "school"  # a VO school (BRIN4)
    INSTELLING = "instelling"  # an MBO institution (BRIN4)
    REGIO = "regio"  # an RMC region


#: The figure names (``jaarcijfer.cijfer``). Pupil figures exist for landelijk, school and regio;
#: registration figures for landelijk, instelling and regio; lead times for all four.
LEERLINGEN = "leerlingen"
LEERLINGEN_PER_STATUS = "leerlingen_per_status"
AANGEMELD_VOOR_DEADLINE = "aangemeld_voor_deadline"
AANGEMELD_NA_DEADLINE = "aangemeld_na_deadline"
TERUGGEVALLEN = "teruggevallen_na_deadline"
GELEVERD_NERGENS = "geleverd_nergens_aangemeld"
DIPLOMA_NERGENS = "diploma_nergens_aangemeld"
EXAMENRESULTAAT_PER_UITKOMST = "examenresultaat_per_uitkomst"  # dimensie ExamenUitkomst
ZONDER_LEVERING = "aangemeld_zonder_levering"
EERSTE_AANMELDING_PER_WEEK = "eerste_aanmelding_per_week"
AANMELDINGEN = "aanmeldingen"
AANMELDINGEN_PER_STATUS = "aanmeldingen_per_status"
AANMELDINGEN_VOOR_DEADLINE = "aanmeldingen_voor_deadline"
AANMELDINGEN_NA_DEADLINE = "aanmeldingen_na_deadline"
AANMELDINGEN_PER_WEEK = "aanmeldingen_per_week"
AANMELDINGEN_PER_OPLEIDING = "aanmeldingen_per_opleiding"  # dimensie "crebo/locatie", '-' when absent
INTAKES = "intakes"
INTAKES_PER_UITKOMST = "intakes_per_uitkomst"  # dimensie IntakeUitkomst; adds up to INTAKES
DOORLOOPTIJD_N = "doorlooptijd_n"
DOORLOOPTIJD_MEDIAAN = "doorlooptijd_mediaan"  # days
DOORLOOPTIJD_P90 = "doorlooptijd_p90"  # days
DOORLOOPTIJD_VERDELING = "doorlooptijd_verdeling"  # dimensie "<traject> <bucket>"
#: The pupil figures (no institution has them) and the registration figures (no VO school has them),
#: in the order ``opvragenProcescijfers`` serves them to a VO school and an MBO institution; the
#: yearly trend leaves the other kind out at school and institution level.
LEERLINGCIJFERS: tuple[str, ...] = (
    LEERLINGEN,
    LEERLINGEN_PER_STATUS,
    AANGEMELD_VOOR_DEADLINE,
    AANGEMELD_NA_DEADLINE,
    TERUGGEVALLEN,
    GELEVERD_NERGENS,
    DIPLOMA_NERGENS,
    EXAMENRESULTAAT_PER_UITKOMST,
)
AANMELDINGCIJFERS: tuple[str, ...] = (
    AANMELDINGEN,
    AANMELDINGEN_PER_STATUS,
    AANMELDINGEN_VOOR_DEADLINE,
    AANMELDINGEN_NA_DEADLINE,
    INTAKES,
    INTAKES_PER_UITKOMST,
)

GEEN_AANMELDING = "geenAanmelding"
#: ``aanmelding_feit.soort`` values (migration 0016).
FEIT_INTAKE = "intake"
FEIT_OVEREENKOMST = "onderwijsovereenkomst"
#: The dimension of an intake whose outcome was not reported.
UNKNOWN = "onbekend"
_S = AanmeldStatus
#: Pupil status order, least to furthest; index = rank (0 = no registration at all).
STATUS_ORDER: tuple[str, ...] = (
    GEEN_AANMELDING,
    _S.INGETROKKEN,
    _S.GEWEIGERD,
    _S.AANMELDING_ONTVANGEN,
    _S.AANGEMELD,
    _S.GEACCEPTEERD,
    _S.INGESCHREVEN,
)
#: Lead-time trajects: (name, from-moment, to-moment) on the per-registration first dates.
TRAJECTEN: tuple[tuple[str, str, str], ...] = (
    ("aangemeld>geaccepteerd", "t_aangemeld", "t_geaccepteerd"),
    ("geaccepteerd>ingeschreven", "t_geaccepteerd", "t_ingeschreven"),
    ("aangemeld>ingeschreven", "t_aangemeld", "t_ingeschreven"),
    ("aangemeld>intake", "t_aangemeld", "t_intake"),
    ("intake>ingeschreven", "t_intake", "t_ingeschreven"),
    ("ingeschreven>overeenkomst", "t_ingeschreven", "t_overeenkomst"),
    ("aangemeld>overeenkomst", "t_aangemeld", "t_overeenkomst"),
)
#: Lead-time buckets in days, inclusive bounds; the last is open.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-14", 8, 14),
    ("15-28", 15, 28),
    ("29-56", 29, 56),
    ("57+", 57, None),
)
ALL_NIVEAUS = frozenset(Level)


@dataclass(frozen=True)
class Peil:
    """A cycle and the date its figures are taken on.

    Raises ``ValueError`` when ``peildatum`` lies outside the cycle (before its begin or after its end).
    """

    jaar: int
    deadline: date
    peildatum: date

    @classmethod
    def of(cls, calendar: Calendar, jaar: int, peildatum: date | None = None) -> Peil:
        """The cycle ``jaar`` on ``peildatum`` (default: the cycle's last day)."""
        cyclus = calendar.cyclus(jaar)
        peildatum = peildatum or cyclus.end
        if not cyclus.contains(peildatum):
            raise ValueError(
                f"peildatum {peildatum} ligt niet in cyclus {jaar} ({cyclus.begin} t/m {cyclus.end})"
            )
        return cls(jaar, cyclus.deadline, peildatum)


@dataclass(frozen=True)
class Cijfer:
    """One computed figure before suppression. ``base`` is the number of pupils or registrations
    it rests on (the count itself, or the number of observations behind a median)."""

    niveau: Level
    eenheid: str
    cijfer: str
    dimensie: str
    waarde: int
    base: int


def compute_cijfers(
    session: Session,
    peil: Peil,
    niveaus: Collection[Level] = ALL_NIVEAUS,
    eenheden: Mapping[Level, Collection[str]] | None = None,
) -> list[Cijfer]:
    """All figures of ``peil`` at the given levels, unsuppressed (for storage and reports, which
    suppress; see ``broker.rapportage.jaarcijfers.suppress``).

    ``eenheden`` limits a level to some units (BRIN4s, RMC codes), e.g. one school for the SOAP
    operation. Output: Cijfer rows sorted by level, unit, figure and dimension; figures with no
    observations (an empty week, a status nobody has) are absent rather than 0, except the fixed
    pupil and registration totals, which are present for every unit with a population.
    """
    eenheden = eenheden or {}
    uitkomst: list[Cijfer] = []
    peil_base = _PeilBase(session, peil, *_restriction(niveaus, eenheden))
    try:
        for niveau in sorted(niveaus):
            filter_ = eenheden.get(niveau)
            if niveau is not Level.INSTELLING:
                uitkomst += peil_base.leerlingcijfers(session, niveau, filter_)
            if niveau is not Level.SCHOOL:
                uitkomst += peil_base.aanmeldingcijfers(session, niveau, filter_)
                uitkomst += peil_base.intakecijfers(session, niveau, filter_)
            uitkomst += peil_base.doorlooptijden(session, niveau, filter_)
    finally:
        peil_base.close()
    return sorted(uitkomst, key=lambda c: (c.niveau, c.eenheid, c.cijfer, c.dimensie))


def _restriction(niveaus: Collection[Level], eenheden: Mapping[Level, Collection[str]]):
    """The filters on the base tables when only some schools or only some institutions are asked
    for (the SOAP operation): their rows alone are read. Otherwise ([], []): everything."""
    niveaus = set(niveaus)
    if niveaus == {Level.SCHOOL} and eenheden.get(Level.SCHOOL) is not None:
        schools = list(eenheden[Level.SCHOOL])
        leerling = models.Leerling
        return [leerling.brin_vo.in_(schools)], [
            models.Aanmelding.sleutel_hash.in_(
                select(leerling.sleutel_hash).where(leerling.brin_vo.in_(schools))
            )
        ]
    if niveaus == {Level.INSTELLING} and eenheden.get(Level.INSTELLING) is not None:
        return [false_()], [models.Aanmelding.brin_mbo.in_(list(eenheden[Level.INSTELLING]))]
    return [], []


def iso_week(d: date) -> str:
    """The ISO week of ``d`` as "YYYY-Www" (e.g. "2027-W13" for 1 April 2027)."""
    jaar, week, _ = d.isocalendar()
    return f"{jaar}-W{week:02d}"


def bucket_of(days: int) -> str:
    """The lead-time bucket name of ``days`` (>= 0)."""
    for name, low, high in BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    raise ValueError("negatieve doorlooptijd")


def percentile(histogram: Mapping[int, int], p: float) -> int:
    """Nearest-rank percentile of a histogram {value: count}: the smallest value with at least
    ``p`` (0 < p <= 1) of the observations at or below it. Raises ``ValueError`` when empty."""
    n = sum(histogram.values())
    if n == 0:
        raise ValueError("geen waarnemingen")
    rank = max(1, math.ceil(p * n))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable")


class _PeilBase:
    """The shared base of one peil — the state of every registration, every pupil's summary and
    every delivered pupil on the peildatum — computed once into temporary tables (private to the
    session's connection, dropped by ``close``), so the dozens of GROUP BYs that follow read a few
    hundred thousand prepared rows instead of re-running the window functions over the history.
    """

    def __init__(self, session: Session, peil: Peil, where_leerling: list, where_aanmelding: list) -> None:
        self.peil = peil
        self._session = session
        self._tables: list[Table] = []
        self.intake = self._temporary("intake", _intakes(peil, where_aanmelding))
        self.aanm = self._temporary("aanm", _aanmeldingen(peil, where_aanmelding, self.intake))
        self.per_leerling = self._temporary("per_leerling", _per_leerling(self.aanm))
        self.delivered = self._temporary("geleverd", _delivered(peil, where_leerling))

    def _temporary(self, table_name: str, query) -> Table:
        columns = [
            Column(k.name, Integer() if isinstance(k.type, NullType) else k.type)
            for k in query.selected_columns
        ]
        table = Table(f"tmp_{table_name}_{uuid.uuid4().hex[:12]}", MetaData(), *columns, prefixes=["TEMPORARY"])
        connection = self._session.connection()
        table.create(connection)
        self._tables.append(table)
        connection.execute(table.insert().from_select([k.name for k in columns], query))
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"ANALYZE {table.name}"))  # autovacuum never analyses temp tables
        return table

    def close(self) -> None:
        connection = self._session.connection()
        for table in reversed(self._tables):
            table.drop(connection)
        self._tables.clear()

    # --- pupils -----------------------------------------------------------------------------

    def _population(self, niveau: Level, filter_: Collection[str] | None):
        g = self.delivered.c
        eenheid = {Level.LANDELIJK: literal("", String), Level.SCHOOL: g.brin_vo, Level.REGIO: g.rmc}[niveau]
        parts = [
            select(
                g.sleutel_hash,
                eenheid.label("eenheid"),
                g.actief,
                g.diploma,
                g.examen,
                literal(1).label("delivered"),
            )
        ]
        if niveau is Level.LANDELIJK:
            a = self.aanm.c
            parts.append(
                select(
                    a.sleutel_hash,
                    literal("", String),
                    literal(0),
                    literal(0),
                    cast(null(), String),
                    literal(0),
                )
            )
        u = union_all(*parts).subquery("delen")
        q = select(
            u.c.sleutel_hash,
            u.c.eenheid,
            func.max(u.c.actief).label("actief"),
            func.max(u.c.diploma).label("diploma"),
            func.max(u.c.examen).label("examen"),
            func.max(u.c.delivered).label("delivered"),
        ).where(u.c.eenheid.is_not(None))
        if filter_ is not None:
            q = q.where(u.c.eenheid.in_(list(filter_)))
        return q.group_by(u.c.sleutel_hash, u.c.eenheid).subquery("populatie")

    def leerlingcijfers(self, session: Session, niveau: Level, filter_) -> list[Cijfer]:
        pop = self._population(niveau, filter_)
        pl = self.per_leerling.c
        rank = func.coalesce(pl.rank, 0)
        nowhere = func.coalesce(pl.actief, 0) == 0
        in_process = or_(pop.c.actief == 1, rank > 0)
        deadline = self.peil.deadline
        counts = {
            LEERLINGEN: in_process,
            AANGEMELD_VOOR_DEADLINE: pl.eerst_actief <= deadline,
            AANGEMELD_NA_DEADLINE: pl.eerst_actief > deadline,
            TERUGGEVALLEN: and_(pl.actief_deadline == 1, nowhere),
            GELEVERD_NERGENS: and_(pop.c.actief == 1, nowhere),
            DIPLOMA_NERGENS: and_(pop.c.diploma == 1, nowhere),
        }
        if niveau is Level.LANDELIJK:
            counts[ZONDER_LEVERING] = and_(pop.c.delivered == 0, rank > 0)
        base = select(pop.c.eenheid).select_from(
            pop.outerjoin(self.per_leerling, pl.sleutel_hash == pop.c.sleutel_hash)
        )
        uitkomst = [
            _cijfer(niveau, row.eenheid, name, "", getattr(row, name))
            for row in session.execute(
                base.add_columns(
                    *(_count_if(condition).label(name) for name, condition in counts.items())
                ).group_by(pop.c.eenheid)
            )
            for name in counts
        ]
        per_status = base.add_columns(rank.label("rank"), func.count().label("n")).where(in_process)
        uitkomst += [
            _cijfer(niveau, row.eenheid, LEERLINGEN_PER_STATUS, STATUS_ORDER[row.rank], row.n)
            for row in session.execute(per_status.group_by(pop.c.eenheid, rank))
        ]
        # Every delivered pupil with a result, in the process or not: the base of the diploma figure.
        per_examen = base.add_columns(pop.c.examen.label("examen"), func.count().label("n")).where(
            pop.c.examen.is_not(None)
        )
        uitkomst += [
            _cijfer(niveau, row.eenheid, EXAMENRESULTAAT_PER_UITKOMST, row.examen, row.n)
            for row in session.execute(per_examen.group_by(pop.c.eenheid, pop.c.examen))
        ]
        first = type_coerce(pl.eerst_actief, Date)
        per_day = base.add_columns(first.label("day"), func.count().label("n")).where(
            pl.eerst_actief.is_not(None)
        )
        uitkomst += _per_week(
            niveau, EERSTE_AANMELDING_PER_WEEK, session.execute(per_day.group_by(pop.c.eenheid, first))
        )
        return uitkomst

    # --- registrations ------------------------------------------------------------------------

    def _aanm_eenheid(self, niveau: Level) -> ColumnElement:
        a = self.aanm.c
        return {Level.LANDELIJK: literal("", String), Level.INSTELLING: a.brin_mbo, Level.REGIO: a.rmc}[
            niveau
        ]

    def aanmeldingcijfers(self, session: Session, niveau: Level, filter_) -> list[Cijfer]:
        a = self.aanm.c
        eenheid = self._aanm_eenheid(niveau).label("eenheid")
        base = select(eenheid).where(eenheid.is_not(None))
        if filter_ is not None:
            base = base.where(self._aanm_eenheid(niveau).in_(list(filter_)))
        deadline = self.peil.deadline
        counts = {
            AANMELDINGEN: true(),
            AANMELDINGEN_VOOR_DEADLINE: a.begin <= deadline,
            AANMELDINGEN_NA_DEADLINE: a.begin > deadline,
        }
        group = self._aanm_eenheid(niveau)
        uitkomst = [
            _cijfer(niveau, row.eenheid, name, "", getattr(row, name))
            for row in session.execute(
                base.add_columns(*(_count_if(v).label(name) for name, v in counts.items())).group_by(group)
            )
            for name in counts
        ]
        uitkomst += [
            _cijfer(niveau, row.eenheid, AANMELDINGEN_PER_STATUS, row.status, row.n)
            for row in session.execute(
                base.add_columns(a.status, func.count().label("n")).group_by(group, a.status)
            )
        ]
        begin = type_coerce(a.begin, Date)
        uitkomst += _per_week(
            niveau,
            AANMELDINGEN_PER_WEEK,
            session.execute(
                base.add_columns(begin.label("day"), func.count().label("n")).group_by(group, begin)
            ),
        )
        if niveau is Level.INSTELLING:
            uitkomst += [
                _cijfer(
                    niveau,
                    row.eenheid,
                    AANMELDINGEN_PER_OPLEIDING,
                    f"{row.crebo or '-'}/{row.locatie or '-'}",
                    row.n,
                )
                for row in session.execute(
                    base.add_columns(a.crebo, a.locatie, func.count().label("n")).group_by(
                        group, a.crebo, a.locatie
                    )
                )
            ]
        return uitkomst

    # --- intakes ------------------------------------------------------------------------------

    def intakecijfers(self, session: Session, niveau: Level, filter_) -> list[Cijfer]:
        """``intakes`` for every unit with registrations (0 without intakes) and
        ``intakes_per_uitkomst`` for the outcomes that occur."""
        a, i = self.aanm.c, self.intake.c
        group = self._aanm_eenheid(niveau)
        base = (
            select(group.label("eenheid"))
            .select_from(self.aanm.outerjoin(self.intake, i.aanmelding_id == a.id))
            .where(group.is_not(None))
        )
        if filter_ is not None:
            base = base.where(group.in_(list(filter_)))
        uitkomst = [
            _cijfer(niveau, row.eenheid, INTAKES, "", row.n)
            for row in session.execute(
                base.add_columns(func.count(i.aanmelding_id).label("n")).group_by(group)
            )
        ]
        uitkomst += [
            _cijfer(niveau, row.eenheid, INTAKES_PER_UITKOMST, row.uitkomst, row.n)
            for row in session.execute(
                base.add_columns(i.uitkomst, func.count().label("n"))
                .where(i.aanmelding_id.is_not(None))
                .group_by(group, i.uitkomst)
            )
        ]
        return uitkomst

    # --- lead times ---------------------------------------------------------------------------

    def doorlooptijden(self, session: Session, niveau: Level, filter_) -> list[Cijfer]:
        a = self.aanm.c
        if niveau is Level.SCHOOL:
            schools = (
                select(self.delivered.c.sleutel_hash, self.delivered.c.brin_vo).distinct().subquery("scholen")
            )
            from_table = self.aanm.join(schools, schools.c.sleutel_hash == a.sleutel_hash)
            group = schools.c.brin_vo
        else:
            from_table, group = self.aanm, self._aanm_eenheid(niveau)
        histograms: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for traject, start_column, end_column in TRAJECTEN:
            days = days_between(a[start_column], a[end_column])
            q = (
                select(group.label("eenheid"), days.label("days"), func.count().label("n"))
                .select_from(from_table)
                .where(group.is_not(None), a[start_column].is_not(None), a[end_column].is_not(None), a[end_column] >= a[start_column])
                .group_by(group, days)
            )
            if filter_ is not None:
                q = q.where(group.in_(list(filter_)))
            for row in session.execute(q):
                histograms[(row.eenheid, traject)][row.days] += row.n
        uitkomst = []
        for (eenheid, traject), histogram in histograms.items():
            n = sum(histogram.values())
            uitkomst += [
                _cijfer(niveau, eenheid, DOORLOOPTIJD_N, traject, n),
                Cijfer(niveau, eenheid, DOORLOOPTIJD_MEDIAAN, traject, percentile(histogram, 0.5), n),
                Cijfer(niveau, eenheid, DOORLOOPTIJD_P90, traject, percentile(histogram, 0.9), n),
            ]
            buckets: Counter = Counter()
            for days, total in histogram.items():
                buckets[bucket_of(days)] += total
            uitkomst += [
                _cijfer(niveau, eenheid, DOORLOOPTIJD_VERDELING, f"{traject} {name}", total)
                for name, total in buckets.items()
            ]
        return uitkomst


def _cijfer(niveau: Level, eenheid: str, name: str, dimensie: str, value: int | None) -> Cijfer:
    value = int(value or 0)
    return Cijfer(niveau, eenheid, name, str(dimensie), value, value)


def _count_if(condition) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _per_week(niveau: Level, name: str, rows: Iterable) -> list[Cijfer]:
    """Fold per-day counts (rows with eenheid, dag, n) into ISO weeks: at most 53 buckets per unit."""
    weeks: Counter = Counter()
    for row in rows:
        day = row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day))
        weeks[(row.eenheid, iso_week(day))] += row.n
    return [_cijfer(niveau, eenheid, name, week, n) for (eenheid, week), n in weeks.items()]


# --- the shared subqueries -----------------------------------------------------------------------


def _state(peil: Peil, on: date, name: str, conditions: list):
    """Each registration of the cycle with its status on date ``on`` (the last transition dated on or
    before it; on one date the last recorded wins)."""
    ao, a = models.AanmeldingOvergang, models.Aanmelding
    order = func.row_number().over(partition_by=ao.aanmelding_id, order_by=(ao.datum.desc(), ao.id.desc()))
    ranked = (
        select(ao.aanmelding_id, ao.naar, order.label("rn"))
        .join(a, a.id == ao.aanmelding_id)
        .where(a.cyclus_jaar == peil.jaar, ao.datum <= on, *conditions)
        .subquery(f"{name}_rij")
    )
    return (
        select(ranked.c.aanmelding_id, ranked.c.naar.label("status"))
        .where(ranked.c.rn == 1)
        .subquery(name)
    )


def _end(day: date) -> datetime:
    """The first moment after ``day`` (UTC): what was recorded before it was known on ``day``."""
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def _feit_known_on_peildatum(peil: Peil, soort: str) -> tuple:
    """The conditions under which a registration's fact of ``soort`` counts on the peildatum: of the
    cycle, dated on or before the peildatum and recorded before it ended (a later correction is not
    yet known). Over ``models.AanmeldingFeit`` joined to its ``models.Aanmelding``."""
    f, a = models.AanmeldingFeit, models.Aanmelding
    return (
        a.cyclus_jaar == peil.jaar,
        f.soort == soort,
        f.datum <= peil.peildatum,
        f.vastgelegd_op < _end(peil.peildatum),
    )


def _intakes(peil: Peil, conditions: list):
    """One row per intake known on the peildatum: (registration, intake date) with the outcome last
    recorded for that date (a correction of the outcome replaces it; another date is another intake)."""
    f, a = models.AanmeldingFeit, models.Aanmelding
    order = func.row_number().over(
        partition_by=(f.aanmelding_id, f.datum), order_by=(f.vastgelegd_op.desc(), f.id.desc())
    )
    ranked = (
        select(f.aanmelding_id, f.datum, f.uitkomst, order.label("rn"))
        .join(a, a.id == f.aanmelding_id)
        .where(*_feit_known_on_peildatum(peil, FEIT_INTAKE), *conditions)
        .subquery("intake_rij")
    )
    g = ranked.c
    return select(
        g.aanmelding_id, g.datum, cast(func.coalesce(g.uitkomst, UNKNOWN), String(20)).label("uitkomst")
    ).where(g.rn == 1)


def _aanmeldingen(peil: Peil, conditions: list, intake: Table):
    """One row per registration with history up to the peildatum: pupil, institution, its region,
    status on the peildatum and on the deadline, the date of its first status and of its first
    active status, and the first dates of registration, acceptance, enrolment, the first intake held
    and the onderwijsovereenkomst (lead times)."""
    ao, a, instelling = models.AanmeldingOvergang, models.Aanmelding, models.Instelling
    f = models.AanmeldingFeit
    now = _state(peil, peil.peildatum, "stand_nu", conditions)
    at_deadline = _state(peil, min(peil.deadline, peil.peildatum), "stand_deadline", conditions)

    def first(condition):
        return func.min(case((condition, ao.datum)))

    dates = (
        select(
            ao.aanmelding_id,
            func.min(ao.datum).label("begin"),
            first(ao.naar.in_(sorted(ACTIEF_AANGEMELD))).label("eerst_actief"),
            first(ao.naar.in_([_S.AANMELDING_ONTVANGEN, _S.AANGEMELD])).label("t_aangemeld"),
            first(ao.naar == _S.GEACCEPTEERD).label("t_geaccepteerd"),
            first(ao.naar == _S.INGESCHREVEN).label("t_ingeschreven"),
        )
        .join(a, a.id == ao.aanmelding_id)
        .where(a.cyclus_jaar == peil.jaar, ao.datum <= peil.peildatum, *conditions)
        .group_by(ao.aanmelding_id)
        .subquery("datums")
    )
    i = intake.c
    held = i.uitkomst != IntakeUitkomst.NIET_VERSCHENEN
    first_intake = (
        select(i.aanmelding_id, func.min(case((held, i.datum))).label("t_intake"))
        .group_by(i.aanmelding_id)
        .subquery("eerste_intake")
    )
    overeenkomst = (
        select(f.aanmelding_id, func.min(f.datum).label("t_overeenkomst"))
        .join(a, a.id == f.aanmelding_id)
        .where(*_feit_known_on_peildatum(peil, FEIT_OVEREENKOMST), *conditions)
        .group_by(f.aanmelding_id)
        .subquery("overeenkomst")
    )
    return (
        select(
            a.id,
            a.sleutel_hash,
            a.brin_mbo,
            a.crebo,
            a.locatie,
            instelling.rmc_regio.label("rmc"),
            now.c.status,
            at_deadline.c.status.label("status_deadline"),
            dates.c.begin,
            dates.c.eerst_actief,
            dates.c.t_aangemeld,
            dates.c.t_geaccepteerd,
            dates.c.t_ingeschreven,
            type_coerce(first_intake.c.t_intake, Date).label("t_intake"),
            type_coerce(overeenkomst.c.t_overeenkomst, Date).label("t_overeenkomst"),
        )
        .join(now, now.c.aanmelding_id == a.id)
        .join(dates, dates.c.aanmelding_id == a.id)
        .outerjoin(at_deadline, at_deadline.c.aanmelding_id == a.id)
        .outerjoin(first_intake, first_intake.c.aanmelding_id == a.id)
        .outerjoin(overeenkomst, overeenkomst.c.aanmelding_id == a.id)
        .outerjoin(
            instelling,
            and_(instelling.brin == a.brin_mbo, instelling.cyclus_jaar == refdata_year_sql(peil.jaar)),
        )
        .where(a.cyclus_jaar == peil.jaar, *conditions)
    )


def _per_leerling(aanm):
    """One row per registered pupil: the rank of its furthest status, whether it is actively registered
    on the peildatum and on the deadline, and the date of its first active registration."""
    c = aanm.c
    rank = case(*((c.status == status, i) for i, status in enumerate(STATUS_ORDER) if i), else_=0)
    actief = sorted(ACTIEF_AANGEMELD)
    return select(
        c.sleutel_hash,
        func.max(rank).label("rank"),
        func.max(case((c.status.in_(actief), 1), else_=0)).label("actief"),
        func.max(case((c.status_deadline.in_(actief), 1), else_=0)).label("actief_deadline"),
        func.min(c.eerst_actief).label("eerst_actief"),
    ).group_by(c.sleutel_hash)


def _delivered(peil: Peil, conditions: list):
    """One row per delivery (pupil × VO school) recorded by the end of the peildatum: the school, its
    RMC region (the vestiging's, else the school's), whether the pupil is ``actief`` then, its exam
    result then (NULL: none reported) and whether it is an ``actief`` pupil with a diploma."""
    lm, leerling = models.LeerlingMutatie, models.Leerling
    vestiging, instelling = aliased(models.Vestiging), aliased(models.Instelling)
    limit = _end(peil.peildatum)
    order = func.row_number().over(
        partition_by=lm.leerling_id, order_by=(lm.vastgelegd_op.desc(), lm.id.desc())
    )
    last = (
        select(lm.leerling_id, lm.status, lm.afmeldreden, order.label("rn"))
        .join(leerling, leerling.id == lm.leerling_id)
        .where(leerling.cyclus_jaar == peil.jaar, lm.vastgelegd_op < limit, *conditions)
        .subquery("laatste_mutatie")
    )
    # The result is the last one reported: a later mutation without one does not erase it.
    examen_order = func.row_number().over(
        partition_by=lm.leerling_id, order_by=(lm.vastgelegd_op.desc(), lm.id.desc())
    )
    examen = (
        select(lm.leerling_id, lm.examen_uitkomst, examen_order.label("rn"))
        .join(leerling, leerling.id == lm.leerling_id)
        .where(
            leerling.cyclus_jaar == peil.jaar,
            lm.vastgelegd_op < limit,
            lm.examen_uitkomst.is_not(None),
            *conditions,
        )
        .subquery("laatste_examen")
    )
    actief = last.c.status == MboGangerStatus.ACTIEF
    geslaagd = examen.c.examen_uitkomst == ExamenUitkomst.GESLAAGD
    return (
        select(
            leerling.sleutel_hash,
            leerling.brin_vo,
            func.coalesce(vestiging.rmc_regio, instelling.rmc_regio).label("rmc"),
            case((actief, 1), else_=0).label("actief"),
            case((and_(actief, geslaagd), 1), else_=0).label("diploma"),
            examen.c.examen_uitkomst.label("examen"),
        )
        .join(last, and_(last.c.leerling_id == leerling.id, last.c.rn == 1))
        .outerjoin(examen, and_(examen.c.leerling_id == leerling.id, examen.c.rn == 1))
        .outerjoin(
            vestiging,
            and_(vestiging.code == leerling.vestiging, vestiging.cyclus_jaar == refdata_year_sql(peil.jaar)),
        )
        .outerjoin(
            instelling,
            and_(instelling.brin == leerling.brin_vo, instelling.cyclus_jaar == refdata_year_sql(peil.jaar)),
        )
        .where(leerling.cyclus_jaar == peil.jaar, *conditions)
    )
