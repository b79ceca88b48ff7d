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

#: The smallest count that may be published; a count of 1 to SMALLEST - 1 is primary-sensitive.
SMALLEST = 5
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
    suppressed = {key for key, cell in table.items() if cell.sensitive}
    unprotectable: set[Key] = set()
    membership: dict[Key, list[int]] = defaultdict(list)
    for i, relation in enumerate(relations):
        for key, _ in relation.terms():
            membership[key].append(i)
    while True:
        bounds = feasible_bounds(table, suppressed, relations)
        exposed = sorted((k for k in suppressed if k not in unprotectable and _single(bounds[k])), key=_order)
        if not exposed:
            return suppressed
        # One complement per exposed cell per round, except next to a complement chosen in this
        # round already (it may protect both); then bounds are recomputed.
        touched: set[int] = set()
        for key in exposed:
            if touched & set(membership[key]):
                continue
            complement = _complement(key, table, suppressed, [relations[i] for i in membership[key]])
            if complement is None:
                # Every cell of its relations is withheld, yet they pin it: cannot happen with
                # counts >= 0 and unbounded complements, but never loop on it.
                unprotectable.add(key)
                continue
            suppressed.add(complement)
            touched |= set(membership[complement])


def feasible_bounds(
    table: Mapping[Key, Cell], suppressed: set[Key], relations: Sequence[Relation]
) -> dict[Key, tuple[float, float]]:
    """Per suppressed key the interval an outsider can bound it to: start from [1, SMALLEST - 1]
    for a sensitive cell and [0, inf) for a complement, then tighten each by every relation it is
    in (the rest of the relation's suppressed cells at their bounds) until nothing changes."""
    bounds: dict[Key, tuple[float, float]] = {
        k: (1, SMALLEST - 1) if table[k].sensitive else (0, math.inf) for k in suppressed
    }
    equations = []
    for relation in relations:
        unknown = [(k, c) for k, c in relation.terms() if k in suppressed]
        if unknown:
            known = sum(c * table[k].value for k, c in relation.terms() if k in table and k not in suppressed)
            equations.append((unknown, -known))
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
                if new != (low, high):
                    bounds[key] = new
                    changed = True
        if not changed:
            break
    return bounds


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


def _single(bound: tuple[float, float]) -> bool:
    low, high = bound
    return low >= high  # one value left (or none: a relation the outsider would find false)


def _complement(
    exposed: Key, table: Mapping[Key, Cell], suppressed: set[Key], relations: Sequence[Relation]
) -> Key | None:
    """The published cell to withhold next to ``exposed``: the smallest non-zero one in the
    relations ``exposed`` is part of, else the smallest zero; ties by key."""
    candidates = {
        key for relation in relations for key, _ in relation.terms() if key in table and key not in suppressed
    }
    if not candidates:
        return None
    return min(candidates, key=lambda k: (table[k].value == 0, table[k].value, _order(k)))


def _order(key: Key) -> str:
    return repr(key)
