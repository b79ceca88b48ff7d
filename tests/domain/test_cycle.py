"""Registration cycles (broker.domain.cycle)."""

from datetime import date

import pytest

from broker.domain.cycle import Calendar, Cyclus


def test_cyclus_2027_default():
    cyclus = Calendar().cyclus(2027)
    assert cyclus == Cyclus(
        jaar=2027, deadline=date(2027, 4, 1), begin=date(2026, 10, 1), end=date(2027, 9, 30)
    )
    assert cyclus.studiejaar == "2027-2028"


def test_cyclus_2020_had_deadline_1_may():
    assert Calendar().cyclus(2020).deadline == date(2020, 5, 1)
    assert Calendar().cyclus(2021).deadline == date(2021, 4, 1)


def test_aanmelden_on_the_deadline_is_in_time():
    cyclus = Calendar().cyclus(2027)
    assert cyclus.voor_deadline(date(2027, 3, 31)) is True
    assert cyclus.voor_deadline(date(2027, 4, 1)) is True
    assert cyclus.voor_deadline(date(2027, 4, 2)) is False


def test_in_2020_april_was_still_in_time():
    cyclus = Calendar().cyclus(2020)
    assert cyclus.voor_deadline(date(2020, 4, 15)) is True
    assert cyclus.voor_deadline(date(2020, 5, 2)) is False


def test_contains_its_bounds_inclusive():
    cyclus = Calendar().cyclus(2027)
    assert cyclus.contains(date(2026, 10, 1)) is True
    assert cyclus.contains(date(2027, 9, 30)) is True
    assert cyclus.contains(date(2026, 9, 30)) is False
    assert cyclus.contains(date(2027, 10, 1)) is False


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2026, 9, 30), 2026),
        (date(2026, 10, 1), 2027),
        (date(2027, 1, 1), 2027),
        (date(2027, 4, 1), 2027),
        (date(2027, 9, 30), 2027),
        (date(2027, 10, 1), 2028),
    ],
)
def test_cyclus_on(day, year):
    cyclus = Calendar().cyclus_on(day)
    assert cyclus.jaar == year
    assert cyclus.contains(day)


def test_cycli_are_contiguous():
    calendar = Calendar()
    for jaar in range(2019, 2031):
        assert (calendar.cyclus(jaar + 1).begin - calendar.cyclus(jaar).end).days == 1


def test_own_default_deadline_and_start():
    calendar = Calendar(default_deadline=(5, 1), overrides={}, begin=(8, 1))
    cyclus = calendar.cyclus(2020)
    assert cyclus.deadline == date(2020, 5, 1)
    assert (cyclus.begin, cyclus.end) == (date(2019, 8, 1), date(2020, 7, 31))
    assert calendar.cyclus_on(date(2020, 8, 1)).jaar == 2021


def test_empty_overrides_replace_the_default():
    assert Calendar(overrides={}).cyclus(2020).deadline == date(2020, 4, 1)


def test_overrides_are_copied():
    overrides = {2030: date(2030, 4, 15)}
    calendar = Calendar(overrides=overrides)
    overrides[2030] = date(2030, 6, 1)
    assert calendar.cyclus(2030).deadline == date(2030, 4, 15)


def test_override_must_lie_in_its_own_year():
    # 1 December 2020 lies inside cycle 2021, but a deadline is always in the cycle's own year.
    with pytest.raises(ValueError):
        Calendar(overrides={2021: date(2020, 12, 1)})


def test_override_must_lie_in_its_own_cyclus():
    with pytest.raises(ValueError):
        Calendar(overrides={2021: date(2021, 11, 1)})


@pytest.mark.parametrize(
    ("deadline", "begin"),
    [((2, 30), (10, 1)), ((2, 29), (10, 1)), ((4, 1), (13, 1)), ((11, 1), (10, 1)), ((4, 1), (4, 1))],
)
def test_invalid_calendar(deadline, begin):
    with pytest.raises(ValueError):
        Calendar(default_deadline=deadline, begin=begin)


def test_cyclus_requires_order():
    with pytest.raises(ValueError):
        Cyclus(jaar=2027, deadline=date(2027, 10, 2), begin=date(2026, 10, 1), end=date(2027, 9, 30))
