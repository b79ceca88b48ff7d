"""Secondary (complementary) cell suppression: which cells of a published table to withhold so that
no suppressed count can be recovered from the counts published next to it (docs/disclosure.md).

A table is a set of cells (key, value, primary-sensitive flag) and additive relations between them
(the sum of some cells equals the sum of others: a total and its parts, or a region and its
schools). An outsider who knows the relations, the published values, that every count is >= 0 and
which suppressed cells are primary (a count of 1 to 4), bounds every suppressed cell; a cell is
*exposed* when those bounds leave it a single integer value. ``protect`` suppresses the primary
cells, then adds complementary cells until no suppressed cell is exposed, re-checking every
relation after each addition because relations share cells (a unit's total is the part of a
region's total, a distribution's total is another distribution's total).

The bounds come from interval propagation over the relations, repeated until nothing tightens.
That is a relaxation of the outsider's linear program (it may find a range wider than the LP's),
so the tests check the outcome with a real LP solver (tests/rapportage/disclosure_checker.py).

A complement is chosen among the published cells of the relations the exposed cell is part of:
the smallest non-zero value first (least information lost; a 0 only when nothing else is left, as
a 0 cannot move down and so protects little), ties broken by key, so the outcome is deterministic.
A relation that does not hold on the cells' own values is ignored: an outsider who assumes it
would compute a wrong value, and complementing for it would lose information for nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

#: The smallest count that may be published; a count of 1 to SMALLEST - 1 is primary-sensitive.
SMALLEST = 5
#: The largest group of connected suppressed cells the exact LP bounds (two LPs per cell). Larger groups
#: arise only in the national table (a week's count of every school under the country's), where an
#: exposure needs the sums of many rows at once; there the interval propagation decides alone, so a
#: national report and ``vva cycle close`` stay within seconds (bench/landelijk_rapport.py). The tests'
#: LP attacker checks every table of the test scenarios, all below this size.
LP_MAX_CELLS = 300
#: How often propagation sweeps the relations at most; bounds only tighten, so this is a safety net.
_MAX_SWEEPS = 200

Key = Hashable


@dataclass(frozen=True)
class Cell:
    """One count of a table. ``sensitive``: it must not be published (primary suppression)."""

    key: Key
    value: int
    sensitive: bool


@dataclass(frozen=True)
class Relation:
    """``sum(left) == sum(right)``. A key that is no cell of the table is a published 0 (a
    distribution leaves out its empty cells; a report shows them as 0)."""

    left: tuple[Key, ...]
    right: tuple[Key, ...]
    name: str = ""

    def terms(self) -> list[tuple[Key, int]]:
        """The relation as ``sum(coefficient * cell) == 0``; a key on both sides cancels out."""
        return self._terms

    @cached_property
    def _terms(self) -> list[tuple[Key, int]]:
        # Computed once: protect() reads every relation's terms in every round.
        coefficients: dict[Key, int] = defaultdict(int)
        for key in self.left:
            coefficients[key] += 1
        for key in self.right:
            coefficients[key] -= 1
        return [(key, c) for key, c in coefficients.items() if c]


def holds(relation: Relation, values: Mapping[Key, int]) -> bool:
    """Whether ``relation`` is true of ``values`` (missing keys are 0)."""
    return sum(c * values.get(key, 0) for key, c in relation.terms()) == 0


def protect(cells: Iterable[Cell], relations: Iterable[Relation]) -> set[Key]:
    """The keys to suppress: every sensitive cell, plus complementary cells until no suppressed cell
    has a single feasible value under the relations that hold on the cells' values.

    Deterministic: the same cells and relations give the same set, whatever their order.
    """
    table = {cell.key: cell for cell in cells}
    values = {key: cell.value for key, cell in table.items()}
    relations = sorted(
        {r for r in relations if holds(r, values)}, key=lambda r: (r.name, repr(r.left), repr(r.right))
    )
    # A relation of one cell against one (a region with a single school, the country with a single
    # institution) says the two are the same number: they are withheld together or not at all, or
    # the one published gives the other away and every complement is spent twice.
    same = _identities(table, relations)
    suppressed = {k for key, cell in table.items() if cell.sensitive for k in same[key]}
    unprotectable: set[Key] = set()
    membership: dict[Key, list[int]] = defaultdict(list)
    for i, relation in enumerate(relations):
        for key, _ in relation.terms():
            membership[key].append(i)
    # Cells the primary flags pin with nothing published at all (four statuses of 1 to 4 under a
    # total of 1 to 4 are 1 each): no complement hides them, so none is spent on them.
    # Propagation finds them (a bound of 1 from every part under a total of at most 4), and unlike the
    # LP it stays cheap on a national table of 70,000 cells.
    everything = feasible_bounds(table, set(table), relations)
    inherent = {k for k in suppressed if _single(everything[k])}
    unprotectable |= inherent
    while True:
        bounds = feasible_bounds(table, suppressed, relations)
        exposed = sorted(
            (k for k in suppressed if k not in unprotectable and _single(bounds[k])),
            key=lambda k: (not table[k].sensitive, _order(k)),  # the small counts first
        )
        if not exposed:  # propagation is content; the exact LP has the last word
            exposed = sorted(
                lp_exposed(table, suppressed, relations) - unprotectable,
                key=lambda k: (not table[k].sensitive, _order(k)),
            )
        if not exposed:
            return suppressed
        # One complement per exposed cell per round, except for a cell sharing a relation with one
        # handled in this round already (its complement may protect both); then recompute.
        touched: set[int] = set()
        for key in exposed:
            if touched & set(membership[key]):
                continue
            complement = _complement(key, table, suppressed, relations, membership)
            if complement is None:
                # Nothing published is linked to it at all: cannot happen with counts >= 0 and
                # unbounded complements, but never loop on it.
                unprotectable.add(key)
                continue
            suppressed |= same[complement]
            touched |= set(membership[key]) | set(membership[complement])


def _identities(table: Mapping[Key, Cell], relations: Sequence[Relation]) -> dict[Key, set[Key]]:
    """Per cell the cells it equals by a chain of one-against-one relations (itself included)."""
    parent = {key: key for key in table}

    def root(key: Key) -> Key:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for relation in relations:
        terms = relation.terms()
        if len(terms) == 2 and terms[0][1] == -terms[1][1] and all(k in table for k, _ in terms):
            parent[root(terms[0][0])] = root(terms[1][0])
    classes: dict[Key, set[Key]] = defaultdict(set)
    for key in table:
        classes[root(key)].add(key)
    return {key: classes[root(key)] for key in table}


def feasible_bounds(
    table: Mapping[Key, Cell], suppressed: set[Key], relations: Sequence[Relation]
) -> dict[Key, tuple[float, float]]:
    """Per suppressed key the interval an outsider can bound it to: start from [1, SMALLEST - 1]
    for a sensitive cell and [0, inf) for a complement, then tighten each by every relation it is
    in (the rest of the relation's suppressed cells at their bounds) until nothing changes."""
    bounds = _start_bounds(table, suppressed)
    _propagate(bounds, _equations(table, suppressed, relations))
    return bounds


def _start_bounds(table: Mapping[Key, Cell], suppressed: set[Key]) -> dict[Key, tuple[float, float]]:
    return {k: (1, SMALLEST - 1) if table[k].sensitive else (0, math.inf) for k in suppressed}


def _equations(table: Mapping[Key, Cell], suppressed: set[Key], relations: Sequence[Relation]) -> list:
    """Each relation as (its suppressed terms, the constant their sum equals)."""
    equations = []
    for relation in relations:
        unknown = [(k, c) for k, c in relation.terms() if k in suppressed]
        if unknown:
            known = sum(c * table[k].value for k, c in relation.terms() if k in table and k not in suppressed)
            equations.append((unknown, -known))
    return equations


def _propagate(bounds: dict[Key, tuple[float, float]], equations: list) -> bool:
    """Tighten ``bounds`` in place until stable; False when some interval becomes empty (the
    starting bounds admit no solution)."""
    for _ in range(_MAX_SWEEPS):
        changed = False
        for unknown, constant in equations:
            low_sum, high_sum = _Sum(), _Sum()
            for other, c in unknown:
                low, high = bounds[other]
                low_sum.add(min(c * low, c * high))
                high_sum.add(max(c * low, c * high))
            for key, coefficient in unknown:
                low, high = bounds[key]
                own_low, own_high = (
                    min(coefficient * low, coefficient * high),
                    max(coefficient * low, coefficient * high),
                )
                # coefficient * x = constant - (the other terms)
                rest_low, rest_high = low_sum.without(own_low), high_sum.without(own_high)
                ends = ((constant - rest_high) / coefficient, (constant - rest_low) / coefficient)
                new = (max(low, _ceil(min(ends))), min(high, _floor(max(ends))))
                if new[0] > new[1]:
                    return False
                if new != (low, high):
                    bounds[key] = new
                    changed = True
        if not changed:
            return True
    return True


class _Sum:
    """A sum of terms that may be infinite (of one sign per sum), from which one term can be taken
    back out: the bounds of "the rest of the relation" for each of its cells in one pass."""

    def __init__(self) -> None:
        self.finite = 0.0
        self.infinite = 0
        self.sign = 0.0

    def add(self, term: float) -> None:
        if math.isinf(term):
            self.infinite += 1
            self.sign = math.copysign(1, term)
        else:
            self.finite += term

    def without(self, term: float) -> float:
        infinite = self.infinite - math.isinf(term)
        return self.sign * math.inf if infinite else self.finite - (0 if math.isinf(term) else term)


def _ceil(x: float) -> float:
    return x if math.isinf(x) else math.ceil(x - 1e-9)


def _floor(x: float) -> float:
    return x if math.isinf(x) else math.floor(x + 1e-9)


def lp_exposed(table: Mapping[Key, Cell], suppressed: set[Key], relations: Sequence[Relation]) -> set[Key]:
    """The suppressed keys the outsider's linear program fixes to one integer: per connected group
    of suppressed cells, the minimum and maximum of each under the relations and the starting
    bounds (HiGHS, via scipy). Catches what propagation cannot: a value fixed only by adding up
    several relations (a country total minus its regions' totals minus their weeks)."""
    import numpy as np
    from scipy.optimize import linprog

    equations = _equations(table, suppressed, relations)
    start = _start_bounds(table, suppressed)
    exposed = set()
    for keys, members in _components(equations):
        if len(keys) > LP_MAX_CELLS:
            continue  # propagation only: see LP_MAX_CELLS
        index = {k: i for i, k in enumerate(keys)}
        a_eq = np.zeros((len(members), len(keys)))
        b_eq = np.array([constant for _, constant in members], dtype=float)
        for r, (unknown, _) in enumerate(members):
            for k, c in unknown:
                a_eq[r, index[k]] += c
        bounds = [(start[k][0], None if math.isinf(start[k][1]) else start[k][1]) for k in keys]
        for k, i in index.items():
            ends = []
            for sign in (1, -1):
                objective = np.zeros(len(keys))
                objective[i] = sign
                result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
                ends.append(math.inf if result.status != 0 else sign * result.fun)
            low, high = ends
            if not math.isinf(high) and math.ceil(low - 1e-6) >= math.floor(high + 1e-6):
                exposed.add(k)
    return exposed


def _components(equations: list) -> list[tuple[list[Key], list]]:
    """Group equations that share suppressed cells (union-find), keys sorted per group."""
    parent: dict[Key, Key] = {}

    def find(k: Key) -> Key:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for unknown, _ in equations:
        first = find(unknown[0][0])
        for k, _c in unknown[1:]:
            parent[find(k)] = first
    groups: dict[Key, list] = defaultdict(list)
    for equation in equations:
        groups[find(equation[0][0][0])].append(equation)
    uit = []
    for members in groups.values():
        keys = sorted({k for unknown, _ in members for k, _c in unknown}, key=_order)
        uit.append((keys, members))
    return sorted(uit, key=lambda g: _order(g[0][0]))


def _single(bound: tuple[float, float]) -> bool:
    low, high = bound
    return low >= high  # one value left (or none: a relation the outsider would find false)


def _complement(
    exposed: Key,
    table: Mapping[Key, Cell],
    suppressed: set[Key],
    relations: Sequence[Relation],
    membership: Mapping[Key, list[int]],
) -> Key | None:
    """The published cell to withhold next to ``exposed``: the smallest non-zero one in the
    relations ``exposed`` is part of, else the smallest zero; ties by key. When every cell of those
    relations is withheld already (the cell is fixed through other suppressed cells), look one
    relation further, through the suppressed cells, until a published one is found."""
    seen_keys, seen_relations = {exposed}, set()
    frontier = [exposed]
    while frontier:
        reached = {i for k in frontier for i in membership.get(k, [])} - seen_relations
        seen_relations |= reached
        keys = {k for i in reached for k, _ in relations[i].terms()}
        candidates = {k for k in keys if k in table and k not in suppressed}
        if candidates:
            return min(candidates, key=lambda k: (table[k].value == 0, table[k].value, _order(k)))
        frontier = sorted((keys & suppressed) - seen_keys, key=_order)
        seen_keys |= set(frontier)
    return None


def _order(key: Key) -> str:
    return repr(key)
