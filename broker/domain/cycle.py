"""Registration cycles: one school year's round of early MBO registration.

A cycle is named by ``jaar``, the calendar year of its deadline: cycle 2027 collects registrations for
studiejaar 2027-2028 with deadline 1 April 2027 (Kamerstuk 34 457, the "1 april-aanmelding"). In 2020
the deadline was moved to 1 May because of COVID-19 (Kamerstuk 31 524, nr. 464).
All personal data of a cycle is purged when it ends, so the boundaries matter beyond reporting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

DEFAULT_OVERRIDES: Mapping[int, date] = MappingProxyType({2020: date(2020, 5, 1)})

# A non-leap year, so that a configured 29 February is rejected instead of failing three years in four.
_NOT_A_LEAP_YEAR = 2001


@dataclass(frozen=True)
class Cyclus:
    """One registration cycle, with inclusive ``begin`` and ``end`` dates.

    Raises ``ValueError`` when the dates are not ordered ``begin <= deadline <= end``.
    Source rule: Kamerstuk 34 457 (deadline 1 April before the studiejaar).
    """

    jaar: int
    deadline: date
    begin: date
    end: date

    def __post_init__(self) -> None:
        if not self.begin <= self.deadline <= self.end:
            raise ValueError("a cyclus needs begin <= deadline <= end")

    @property
    def studiejaar(self) -> str:
        """Return the name of the school year registered for, e.g. "2027-2028" for cycle 2027."""
        return f"{self.jaar}-{self.jaar + 1}"

    def contains(self, d: date) -> bool:
        """Return True when date ``d`` lies in [begin, einde] (both inclusive)."""
        return self.begin <= d <= self.end

    def voor_deadline(self, d: date) -> bool:
        """Return True when a registration on date ``d`` is on time; registering ON the deadline is.

        Source rule: Kamerstuk 34 457 ("uiterlijk 1 april" gives toelatingsrecht).
        """
        return d <= self.deadline


def _month_day(value: tuple[int, int], name: str) -> tuple[int, int]:
    try:
        month, day = value
        date(_NOT_A_LEAP_YEAR, month, day)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a valid (month, day), and not 29 February") from error
    return month, day


class Calendar:
    """Computes cycles from a standard deadline, per-year overrides and the cycle start.

    Input: ``default_deadline`` and ``begin`` as (month, day); ``overrides`` maps a cycle year to its
    deadline (default: 2020 -> 1 May 2020). A cycle runs from ``begin`` in jaar-1 to the day before
    ``begin`` in jaar.
    Raises ``ValueError`` when a (month, day) is invalid, when the standard deadline does not fall inside
    the cycle (it must come before ``begin`` in the calendar year), or when an override lies outside its
    own year or outside its own cycle.
    Source rule: Kamerstuk 34 457; Kamerstuk 31 524, nr. 464 (2020 deadline 1 May).
    """

    def __init__(
        self,
        default_deadline: tuple[int, int] = (4, 1),
        overrides: Mapping[int, date] | None = None,
        begin: tuple[int, int] = (10, 1),
    ) -> None:
        self._deadline = _month_day(default_deadline, "default_deadline")
        self._begin = _month_day(begin, "begin")
        if not self._deadline < self._begin:
            raise ValueError("default_deadline must come before begin in the calendar year")
        source = DEFAULT_OVERRIDES if overrides is None else overrides
        self._overrides: Mapping[int, date] = MappingProxyType(dict(source))
        for jaar, deadline in self._overrides.items():
            if deadline.year != jaar:
                raise ValueError(
                    f"the deadline of cycle {jaar} must lie in {jaar}, not {deadline.isoformat()}"
                )
            if not self._start_of(jaar) <= deadline <= self._end_of(jaar):
                raise ValueError(
                    f"the deadline of cycle {jaar} must lie within that cycle, not {deadline.isoformat()}"
                )

    def _start_of(self, jaar: int) -> date:
        return date(jaar - 1, *self._begin)

    def _end_of(self, jaar: int) -> date:
        return date(jaar, *self._begin) - timedelta(days=1)

    def cyclus(self, jaar: int) -> Cyclus:
        """Return the cycle whose deadline falls in calendar year ``jaar``.

        Input: int year. Output: Cyclus. Raises ``ValueError`` for a year outside 2..9999.
        """
        deadline = self._overrides.get(jaar) or date(jaar, *self._deadline)
        return Cyclus(jaar=jaar, deadline=deadline, begin=self._start_of(jaar), end=self._end_of(jaar))

    def cyclus_on(self, d: date) -> Cyclus:
        """Return the cycle whose [begin, einde] contains date ``d``.

        Input: date. Output: Cyclus; e.g. with the defaults 1 October 2026 and 30 September 2027 both
        belong to cycle 2027.
        """
        jaar = d.year + 1 if (d.month, d.day) >= self._begin else d.year
        return self.cyclus(jaar)
