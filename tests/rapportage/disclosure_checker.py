"""Attacks on a published table, by linear programming: for every withheld cell the smallest and
largest value it can take given the published cells and the additive relations. A cell whose range
holds a single integer is disclosed.

Independent of the suppressor (``broker.rapportage.disclosure`` propagates intervals): this solves
the exact LP with scipy's HiGHS, for each attacker of docs/disclosure.md —

- the outsider: the relations, the published values, every count >= 0 (a 0 the relations force
  with nothing published is known from the definitions, and not counted);
- the flag reader: also which withheld cells are primary (1 to 4), except for cells the flags pin
  with nothing published at all (no pattern hides those from it);
- every insider (a school, an institution, a region): also the true values of its own cells; it
  may pin no cell that tells it a small count of others (another unit's 1 to 4, or a total whose
  value minus the insider's own part is 1 to 4), except one it pins even when everything but its
  own cells is withheld (a region whose only school it is).

Entry points for other tests: ``assert_no_disclosure`` on a plain table, ``assert_rapport_safe``
on a ``Rapport`` (everything its HTML, CSV and xlsx show), ``assert_procescijfers_safe`` on an
``opvragenProcescijfers`` answer.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
from scipy.optimize import linprog

from broker.rapportage.cijfers import Cijfer, Level
from broker.rapportage.jaarcijfers import Jaarcijfer, relations

Key = Hashable
#: (left keys, right keys): sum(left) == sum(right); a key not in the table is a published 0.
Sum = tuple[Sequence[Key], Sequence[Key]]


def ranges(
    published: Mapping[Key, int | None],
    relations: Iterable[Sum],
    primary: set[Key] = frozenset(),
    only: set[Key] | None = None,
) -> dict[Key, tuple[float, float]]:
    """{suppressed key: (min, max)} — ``published`` maps every key to its value, None = suppressed;
    ``only``: just these keys (default every suppressed one). Primary keys lie in [1, 4], other
    suppressed ones in [0, inf). Relations an outsider would find false (no feasible point) raise
    AssertionError: the caller gave a wrong relation."""
    unknown = sorted((k for k, v in published.items() if v is None), key=repr)
    if not unknown:
        return {}
    index = {k: i for i, k in enumerate(unknown)}
    rows, rhs = [], []
    for left, right in relations:
        row = np.zeros(len(unknown))
        constant = 0.0
        for key, sign in [(k, 1) for k in left] + [(k, -1) for k in right]:
            if key in index:
                row[index[key]] += sign
            else:
                constant -= sign * (published.get(key) or 0)
        if row.any():
            rows.append(row)
            rhs.append(constant)
        elif constant != 0:
            raise AssertionError(f"relation does not hold on the published values: {left} = {right}")
    bounds = [(1, 4) if k in primary else (0, None) for k in unknown]
    if not rows:
        return {
            k: (bounds[i][0], math.inf if bounds[i][1] is None else bounds[i][1])
            for k, i in index.items()
            if only is None or k in only
        }
    a_eq, b_eq = np.array(rows), np.array(rhs)
    out = {}
    for key, i in index.items():
        if only is not None and key not in only:
            continue
        ends = []
        for sign in (1, -1):
            c = np.zeros(len(unknown))
            c[i] = sign
            result = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if result.status == 3:  # unbounded
                ends.append(math.inf)
                continue
            assert result.status == 0, f"no feasible point for {key}: {result.message}"
            ends.append(sign * result.fun)
        out[key] = (ends[0], ends[1])
    return out


def disclosed(
    published: Mapping[Key, int | None],
    relations: Iterable[Sum],
    primary: set[Key] = frozenset(),
    only: set[Key] | None = None,
) -> dict[Key, float]:
    """The suppressed keys (of ``only``) with a single feasible integer value, and that value."""
    out = {}
    for key, (low, high) in ranges(published, list(relations), primary, only).items():
        if not math.isinf(high) and math.ceil(low - 1e-6) >= math.floor(high + 1e-6):
            out[key] = round(low)
    return out


def assert_no_disclosure(
    published: Mapping[Key, int | None],
    relations: Iterable[Sum],
    primary: set[Key] = frozenset(),
    units: Mapping[Key, Hashable] | None = None,
    truth: Mapping[Key, int] | None = None,
) -> None:
    """No attacker pins a suppressed cell (see the module docstring). ``units``: per key the unit
    that knows its true value (``truth``), for the insiders; a key without one (the country's) is
    nobody's."""
    relations = list(relations)
    found = {("outsider", k): v for k, v in disclosed(published, relations).items()}
    if found:  # a 0 the relations force with nothing published is no publication's fault
        prior = disclosed({k: None for k in published}, relations)
        found = {a: v for a, v in found.items() if a[1] not in prior}
    reader = disclosed(published, relations, primary)
    if reader:
        prior = disclosed({k: None for k in published}, relations, primary)
        found |= {("flag reader", k): v for k, v in reader.items() if k not in prior}
    for unit in sorted(set((units or {}).values()), key=repr):
        own = {k for k, u in units.items() if u == unit and k in published}
        others = {
            k
            for k, v in published.items()
            if v is None and k not in own and _reveals(k, own, truth, relations)
        }
        if not others or all(published[k] is not None for k in own):
            continue  # it knows only what is published, and that pins nothing (above)
        known = {k: truth[k] if k in own else v for k, v in published.items()}
        inside = disclosed(known, relations, only=others)
        if inside:
            prior = disclosed(
                {k: truth[k] if k in own else None for k in published}, relations, only=others
            )
            found |= {(unit, k): v for k, v in inside.items() if k not in prior}
    assert not found, f"suppressed cells recoverable (attacker, cell): {found}"


def _reveals(key: Key, own: set[Key], truth: Mapping[Key, int], relations: Sequence[Sum]) -> bool:
    """Whether pinning ``key`` tells an insider who knows ``own`` a small count of others: its
    value minus the insider's own part of it (where it is the total of a relation) is 1 to 4."""
    own_parts = [
        sum(truth.get(k, 0) for k in parts if k in own)
        for total, parts in [(left, right) for left, right in relations]
        + [(right, left) for left, right in relations]
        if tuple(total) == (key,)
    ]
    return 0 < truth[key] - max(own_parts, default=0) < 5  # its own part by the finest relation


# --- the broker's tables ----------------------------------------------------------------------------


def _published(table_rows: Iterable[Jaarcijfer]) -> dict[tuple, int | None]:
    return {(r.niveau, r.eenheid, r.cijfer, r.dimensie): r.waarde for r in table_rows}


def _relations_that_hold(true_figures: Sequence[Cijfer], indeling) -> list[Sum]:
    """The relations an outsider may use: the declared ones that hold on the true values."""
    values = {(Level(f.niveau).value, f.eenheid, f.cijfer, f.dimensie): f.waarde for f in true_figures}
    out = []
    for r in relations(true_figures, indeling):
        if sum(values.get(k, 0) for k in r.left) == sum(values.get(k, 0) for k in r.right):
            out.append((r.left, r.right))
    return out


def _primary(true_figures: Sequence[Cijfer]) -> set[tuple]:
    return {(Level(f.niveau).value, f.eenheid, f.cijfer, f.dimensie) for f in true_figures if 0 < f.base < 5}


def assert_table_safe(table_rows: Iterable[Jaarcijfer], true_figures: Sequence[Cijfer], indeling=None) -> None:
    """``table_rows`` (suppressed, as published together) against ``true_figures`` (the figures before
    suppression; those not in ``table_rows`` are ignored): every primary cell is suppressed, published cells are true, and the LP finds no
    suppressed cell with a single value under the relations that hold (within units and between
    the levels of ``indeling``/the country)."""
    published = _published(table_rows)
    true_figures = [f for f in true_figures if (Level(f.niveau).value, f.eenheid, f.cijfer, f.dimensie) in published]
    primary = _primary(true_figures)
    true_values = {(Level(f.niveau).value, f.eenheid, f.cijfer, f.dimensie): f.waarde for f in true_figures}
    assert all(published[k] is None for k in primary if k in published), "a count of 1-4 is published"
    assert all(v == true_values[k] for k, v in published.items() if v is not None)
    units = {k: k[:2] for k in published if k[0] != Level.LANDELIJK.value}
    assert_no_disclosure(
        published, _relations_that_hold(true_figures, indeling), primary & set(published), units, true_values
    )


def assert_rapport_safe(rapport, true_figures: Sequence[Cijfer], indeling=None) -> None:
    """A report: its figures (what the HTML tables/charts and every CSV/xlsx row on the peildatum
    show) as one table. ``true_figures``: the figures before suppression (``compute_cijfers`` on the
    report's peil, all levels or its scope; kept from before a purge for a closed cycle);
    ``indeling``: region → its BRINs (``regio_indeling``) for the relations between levels."""
    assert_table_safe(rapport.cijfers, true_figures, indeling)


def assert_procescijfers_safe(response, true_figures: Sequence[Cijfer]) -> None:
    """An ``opvragenProcescijfers`` answer (``Procescijfers``): its counts as one table, against the
    same figures before suppression (``compute_cijfers`` for the caller's BRINs)."""
    niveau = {f.niveau for f in true_figures} or {Level.SCHOOL}
    (niveau,) = niveau
    table_rows = [Jaarcijfer(0, niveau.value, p.brin, p.cijfer, p.dimensie, p.aantal) for p in response.cijfers]
    shown = {(p.brin, p.cijfer, p.dimensie) for p in response.cijfers}
    assert_table_safe(table_rows, [f for f in true_figures if (f.eenheid, f.cijfer, f.dimensie) in shown])
