"""Secondary (complementary) cell suppression: which cells of a published table to withhold so that
no withheld count can be recovered from the counts published next to it (docs/disclosure.md).

A table is a set of cells (key, value, primary-sensitive flag, the unit it belongs to) and additive
relations between them (the sum of some cells equals the sum of others: a total and its parts, or
a region and its schools). ``protect`` withholds the sensitive cells (a count of 1 to 4), then adds
complementary cells until no withheld cell is *exposed* — left a single feasible integer value —
to any of three attackers. Each knows the relations, every published value and that a count is
>= 0; beyond that:

- the **outsider** knows nothing more: every withheld cell shows the same marker;
- an **insider** — a school, an institution, a region — knows the true value of every cell of its
  own unit, withheld or not (it counts its own pupils), and may subtract them from a region's or
  the country's figure: another unit's small count must stay hidden from it (the "respondent"
  condition statistical offices apply, τ-ARGUS's protection against a single contributor);
- the **flag reader** knows which withheld cells are the small ones (in [1, 4]). A cell the flags
  alone pin, with nothing published at all (four small cells under a total of at most 4), cannot
  be hidden from it by any pattern; such a cell is exempt for this attacker only — the outsider and
  the insiders still may not pin it (a neighbour's and the region's figures would otherwise give
  it by plain subtraction).

A 0 that the relations alone force (a school's "registered nowhere" when its pupils per status and
per active status have the same total) is known to everyone from the definitions, whatever is
published; it is exempt for every attacker, or the suppressor would withhold the whole table
trying to hide it.

Bounds come from interval propagation over the relations (a worklist: a relation is re-read only
when a cell in it tightened), which is a relaxation of the attacker's linear program; when
propagation finds nothing, the exact LP per connected group of withheld cells has the last word
(groups of up to ``LP_MAX_CELLS``). tests/rapportage/disclosure_checker.py checks the outcome with
an independent LP for every attacker.

A complement is chosen among the published cells of the relations the exposed cell is part of —
never a cell the attacker already knows: the smallest non-zero value first (least information
lost; a 0 only when nothing else is left, as a 0 cannot move down and so protects little), ties by
key, so the outcome is deterministic. A relation that does not hold on the cells' own values is
ignored: an attacker who assumes it computes a wrong value.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

#: The smallest count that may be published; a count of 1 to SMALLEST - 1 is primary-sensitive.
SMALLEST = 5
#: The largest group of connected withheld cells the exact LP bounds (two LPs per cell and attacker).
#: Larger groups arise only in the national table (a week's count of every school under the
#: country's), where an exposure needs the sums of many rows at once; there propagation decides
#: alone, so a national report and ``vva cycle close`` stay within seconds
#: (bench/national_report.py). The tests' LP attackers check every table of the test scenarios.
LP_MAX_CELLS = 300
#: The most withheld cells a relation may have for an insider's propagation to read it. Subtracting
#: one's own count pins another unit's only through a relation with few unknowns (a region and its
#: schools); reading the country's relations of 600 schools again for each of 700 insiders, only
#: to narrow wide ranges a little, made the national table take many minutes. The exact LP still
#: reads every relation of a group up to ``LP_MAX_CELLS``.
INSIDER_MAX_TERMS = 25

_log = logging.getLogger(__name__)

Key = Hashable
Bounds = tuple[float, float]


@dataclass(frozen=True)
class Cell:
    """One count of a table. ``sensitive``: it must not be published (primary suppression).
    ``unit``: who knows its true value without any publication (its school, institution or
    region); None for a figure no single party holds (the country's)."""

    key: Key
    value: int
    sensitive: bool
    unit: Hashable | None = None


@dataclass(frozen=True)
class Relation:
    """``sum(left) == sum(right)``. A key that is no cell of the table is a published 0 (a
    distribution leaves out its empty cells; a report shows them as 0)."""

    left: tuple[Key, ...]
    right: tuple[Key, ...]
    name: str = ""

    @cached_property
    def terms(self) -> tuple[tuple[Key, int], ...]:
        """The relation as ``sum(coefficient * cell) == 0``; a key on both sides cancels out.
        Computed once: ``protect`` reads every relation's terms in every round."""
        coefficients: dict[Key, int] = defaultdict(int)
        for key in self.left:
            coefficients[key] += 1
        for key in self.right:
            coefficients[key] -= 1
        return tuple((key, c) for key, c in coefficients.items() if c)


def holds(relation: Relation, values: Mapping[Key, int]) -> bool:
    """Whether ``relation`` is true of ``values`` (missing keys are 0)."""
    return sum(c * values.get(key, 0) for key, c in relation.terms) == 0


@dataclass(frozen=True)
class _Exposure:
    """A withheld cell some attacker pins, and what that attacker knows (an insider's own cells)."""

    key: Key
    known: frozenset[Key] = frozenset()


def protect(cells: Iterable[Cell], relations: Iterable[Relation]) -> set[Key]:
    """The keys to withhold: every sensitive cell, plus complementary cells until no attacker (see
    the module docstring) can pin a withheld cell to a single value under the relations that hold
    on the cells' values.

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
    withheld = {k for key, cell in table.items() if cell.sensitive for k in same[key]}
    insiders = _insiders(table, same)
    totals = _totals(relations)
    membership: dict[Key, list[int]] = defaultdict(list)
    for i, relation in enumerate(relations):
        for key, _ in relation.terms:
            membership[key].append(i)
    small = {
        k: [i for i in ids if len(relations[i].terms) <= INSIDER_MAX_TERMS] for k, ids in membership.items()
    }
    small = defaultdict(list, small)
    zero = _forced_zero(table, relations)
    exempt = zero | _pinned_by_flags(table, relations)
    attackers = _Attackers(table, insiders, totals, exempt, zero)
    given_up: set[_Exposure] = set()
    while True:
        system = _System(table, withheld, relations)
        # A cell given up for one attacker is still checked for the others.
        exposures = [e for e in _exposed_by_propagation(system, withheld, attackers) if e not in given_up]
        if not exposures:  # propagation is content; the exact LP has the last word
            exposures = [e for e in _exposed_by_lp(system, withheld, attackers) if e not in given_up]
        if not exposures:
            return withheld
        _log.debug("disclosure round: %d withheld, %d exposed", len(withheld), len(exposures))
        # One complement per exposed cell per round, except for a cell sharing a small relation
        # with one handled in this round already (its complement may protect both); then
        # recompute. A large relation (the country's over every school) links nearly every cell,
        # and a complement in one school protects no other school.
        touched: set[int] = set()
        for exposure in sorted(exposures, key=lambda e: (not table[e.key].sensitive, _order(e.key))):
            if touched & set(small[exposure.key]):
                continue
            complement = _complement(exposure, table, withheld, relations, membership)
            if complement is None:
                # Nothing linked to it is left to withhold (an insider whose own cells make up the
                # rest of every relation): never loop on it.
                given_up.add(exposure)
                continue
            withheld |= same[complement]
            touched |= set(small[exposure.key]) | set(small[complement])


@dataclass(frozen=True)
class _Attackers:
    """What the attackers know of a table beyond what is published: ``insiders`` per unit its own
    cells, ``totals`` per cell the parts it is the total of. ``exempt``: cells the flag reader is
    not checked for (the flags alone pin them); ``unchecked``: cells no attacker is checked for (0s
    the relations force)."""

    table: Mapping[Key, Cell]
    insiders: Mapping[Hashable, frozenset[Key]]
    totals: Mapping[Key, list[tuple[Key, ...]]]
    exempt: set[Key]
    unchecked: set[Key]


def _identities(table: Mapping[Key, Cell], relations: Sequence[Relation]) -> dict[Key, set[Key]]:
    """Per cell the cells it equals by a chain of one-against-one relations (itself included)."""
    parent = {key: key for key in table}

    def root(key: Key) -> Key:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for relation in relations:
        terms = relation.terms
        if len(terms) == 2 and terms[0][1] == -terms[1][1] and all(k in table for k, _ in terms):
            parent[root(terms[0][0])] = root(terms[1][0])
    classes: dict[Key, set[Key]] = defaultdict(set)
    for key in table:
        classes[root(key)].add(key)
    return {key: classes[root(key)] for key in table}


def _insiders(table: Mapping[Key, Cell], same: Mapping[Key, set[Key]]) -> dict[Hashable, frozenset[Key]]:
    """Per unit the cells it knows: its own, and the cells equal to one of them (a region with a
    single school knows the region's figure)."""
    known: dict[Hashable, set[Key]] = defaultdict(set)
    for key, cell in table.items():
        if cell.unit is not None:
            known[cell.unit] |= same[key]
    return {unit: frozenset(keys) for unit, keys in sorted(known.items(), key=lambda item: repr(item[0]))}


def _forced_zero(table: Mapping[Key, Cell], relations: Sequence[Relation]) -> set[Key]:
    """The cells of value 0 that the relations alone force to 0, with nothing published.

    With every cell withheld each relation reads ``sum(c * cell) == 0`` over counts >= 0: a cone,
    closed under addition, so one solution is positive wherever any solution can be. One LP finds
    it (maximise the sum of ``t <= cell``, ``t <= 1``, over the cells of value 0); a cell of value
    0 whose ``t`` stays 0 is 0 in every solution. A cell of another value cannot be forced: its
    true value is a solution."""
    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    keys = sorted({k for r in relations for k, _ in r.terms if k in table}, key=_order)
    zeros = [k for k in keys if table[k].value == 0]
    if not zeros:
        return set()
    index = {k: i for i, k in enumerate(keys)}
    n, m = len(keys), len(zeros)
    rows, cols, data = [], [], []
    equations = 0
    for relation in relations:
        terms = [(index[k], c) for k, c in relation.terms if k in index]
        if terms:
            for i, c in terms:
                rows.append(equations)
                cols.append(i)
                data.append(c)
            equations += 1
    a_eq = coo_matrix((data, (rows, cols)), shape=(equations, n + m))
    # t_j - x_j <= 0 for the j-th cell of value 0
    a_ub = coo_matrix(
        ([1.0] * m + [-1.0] * m, (list(range(m)) * 2, [n + j for j in range(m)] + [index[k] for k in zeros])),
        shape=(m, n + m),
    )
    objective = np.concatenate([np.zeros(n), -np.ones(m)])
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(m),
        A_eq=a_eq,
        b_eq=np.zeros(equations),
        bounds=[(0, None)] * n + [(0, 1)] * m,
        method="highs",
    )
    if result.status != 0:
        return set()  # cannot happen (0 is a solution); exempt nothing rather than guess
    return {k for j, k in enumerate(zeros) if result.x[n + j] < 0.5}


def _totals(relations: Sequence[Relation]) -> dict[Key, list[tuple[Key, ...]]]:
    """Per cell the parts it is the total of: the relations in which it stands alone on its side."""
    totals: dict[Key, list[tuple[Key, ...]]] = defaultdict(list)
    for relation in relations:
        positive = [k for k, c in relation.terms if c > 0]
        negative = [k for k, c in relation.terms if c < 0]
        for alone, parts in ((positive, negative), (negative, positive)):
            if len(alone) == 1:
                totals[alone[0]].append(tuple(parts))
    return totals


def _reveals(
    key: Key, known: frozenset[Key], table: Mapping[Key, Cell], totals: Mapping[Key, list[tuple[Key, ...]]]
) -> bool:
    """Whether an insider who pins ``key`` learns a small count of others: the cell's value minus
    the insider's own part of it is 1 to 4 (a region's 5 of which the school's own is 3: its
    neighbours have 2). A total that is all the insider's own, the rest 0, tells it nothing."""
    value = table[key].value
    own_parts = [
        sum(table[k].value for k in parts if k in known and k in table) for parts in totals.get(key, [])
    ]
    # Its own part is what it knows of the total by any of the relations (a school's own count
    # under the country's sum of schools, 0 under the country's sum of regions): the largest.
    return 0 < value - max(own_parts, default=0) < SMALLEST


def _pinned_by_flags(table: Mapping[Key, Cell], relations: Sequence[Relation]) -> set[Key]:
    """The sensitive cells the flag reader pins with nothing published at all: no pattern hides
    them from it. Propagation only (it stays cheap on a national table of 70,000 cells)."""
    everything = set(table)
    bounds = _System(table, everything, relations).bounds(_start(table, everything, flags=True))
    return {k for k, cell in table.items() if cell.sensitive and _single(bounds[k])}


class _System:
    """The relations as equations in the withheld cells, ``sum(c * cell) == constant``, and per
    cell the equations it is in."""

    def __init__(self, table: Mapping[Key, Cell], withheld: set[Key], relations: Sequence[Relation]) -> None:
        self.equations: list[tuple[tuple[tuple[Key, int], ...], int]] = []
        self.of: dict[Key, list[int]] = defaultdict(list)
        for relation in relations:
            unknown = tuple((k, c) for k, c in relation.terms if k in withheld)
            if not unknown:
                continue
            constant = -sum(c * table[k].value for k, c in relation.terms if k in table and k not in withheld)
            for key, _ in unknown:
                self.of[key].append(len(self.equations))
            self.equations.append((unknown, constant))

    def bounds(self, start: Mapping[Key, Bounds]) -> dict[Key, Bounds]:
        """Propagation from ``start`` until nothing tightens."""
        bounds = dict(start)
        self._propagate(bounds.__getitem__, bounds.__setitem__, range(len(self.equations)))
        return bounds

    def bounds_knowing(self, base: Mapping[Key, Bounds], known: Mapping[Key, int]) -> dict[Key, Bounds]:
        """The cells whose bounds tighten when an attacker with the bounds ``base`` (a fixpoint)
        also knows the values ``known``, and their new bounds. Only the equations of the known cells
        are re-read first: the rest of ``base`` is a fixpoint already."""
        changed = {k: (v, v) for k, v in known.items() if k in base}

        def get(key: Key) -> Bounds:
            return changed[key] if key in changed else base[key]

        first = sorted({i for k in changed for i in self.of[k]})
        self._propagate(get, changed.__setitem__, first, INSIDER_MAX_TERMS)
        return changed

    def _propagate(
        self,
        get: Callable[[Key], Bounds],
        put: Callable[[Key, Bounds], None],
        first: Iterable[int],
        max_terms: float = math.inf,
    ) -> None:
        """Worklist propagation: each equation bounds each of its cells by ``constant`` minus the
        others at their bounds; an equation is queued again when one of its cells tightened.
        Equations of more than ``max_terms`` withheld cells are not read."""
        pending = deque(i for i in first if len(self.equations[i][0]) <= max_terms)
        queued = set(pending)
        budget = 100 * len(self.equations) + 100_000  # bounds only tighten; a safety net
        while pending and budget:
            budget -= 1
            i = pending.popleft()
            queued.discard(i)
            unknown, constant = self.equations[i]
            ranges = []
            low_sum, high_sum = _Sum(), _Sum()
            for key, c in unknown:
                low, high = get(key)
                own = (c * low, c * high) if c > 0 else (c * high, c * low)
                ranges.append((key, c, low, high, own))
                low_sum.add(own[0])
                high_sum.add(own[1])
            for key, c, low, high, (own_low, own_high) in ranges:
                # c * x = constant - (the other terms)
                ends = (
                    (constant - high_sum.without(own_high)) / c,
                    (constant - low_sum.without(own_low)) / c,
                )
                new = (max(low, _ceil(min(ends))), min(high, _floor(max(ends))))
                if new == (low, high) or low > high:
                    continue
                put(key, new)
                if new[0] > new[1]:
                    continue  # no value left: a relation this attacker would find false
                for j in self.of[key]:
                    if j != i and j not in queued and len(self.equations[j][0]) <= max_terms:
                        pending.append(j)
                        queued.add(j)

    def components(self) -> list[tuple[list[Key], list[int]]]:
        """The equations grouped by shared withheld cells (union-find), keys sorted per group."""
        parent: dict[Key, Key] = {}

        def find(k: Key) -> Key:
            while parent.setdefault(k, k) != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        for unknown, _ in self.equations:
            first = find(unknown[0][0])
            for k, _c in unknown[1:]:
                parent[find(k)] = first
        groups: dict[Key, list[int]] = defaultdict(list)
        for i, (unknown, _) in enumerate(self.equations):
            groups[find(unknown[0][0])].append(i)
        found = []
        for members in groups.values():
            keys = sorted({k for i in members for k, _c in self.equations[i][0]}, key=_order)
            found.append((keys, members))
        return sorted(found, key=lambda g: _order(g[0][0]))


def _start(table: Mapping[Key, Cell], withheld: Iterable[Key], flags: bool) -> dict[Key, Bounds]:
    """Every withheld count is >= 0; the flag reader also knows a sensitive one is 1 to 4."""
    return {k: (1, SMALLEST - 1) if flags and table[k].sensitive else (0, math.inf) for k in withheld}


def _exposed_by_propagation(system: _System, withheld: set[Key], attackers: _Attackers) -> list[_Exposure]:
    """What propagation lets each attacker pin (see ``_Attackers`` for what is not checked)."""
    table, insiders, totals = attackers.table, attackers.insiders, attackers.totals
    exempt, unchecked = attackers.exempt, attackers.unchecked
    outsider = system.bounds(_start(table, withheld, flags=False))
    reader = system.bounds(_start(table, withheld, flags=True))
    exposed = {_Exposure(k) for k in withheld - unchecked if _single(outsider[k])}
    for k in withheld - exempt - unchecked:
        if _single(reader[k]):
            exposed.add(_Exposure(k))
    for known in insiders.values():
        own = {k: table[k].value for k in known if k in withheld}
        if not own:
            continue  # it knows only what is published
        for k, bounds in system.bounds_knowing(outsider, own).items():
            if k not in known and _single(bounds) and _reveals(k, known, table, totals):
                exposed.add(_Exposure(k, known))
    return sorted(exposed, key=lambda e: (_order(e.key), sorted(map(_order, e.known))))


def _exposed_by_lp(system: _System, withheld: set[Key], attackers: _Attackers) -> list[_Exposure]:
    """What the attackers' linear programs pin that propagation did not, per connected group of
    withheld cells of at most ``LP_MAX_CELLS``."""
    table, insiders, totals = attackers.table, attackers.insiders, attackers.totals
    exempt, unchecked = attackers.exempt, attackers.unchecked
    exposed: set[_Exposure] = set()
    for keys, members in system.components():
        if len(keys) > LP_MAX_CELLS:
            continue  # propagation only: see LP_MAX_CELLS
        if sum(len(system.equations[i][0]) for i in members) == len(keys) + len(members) - 1:
            # No cycle of relations through withheld cells (each pair of relations shares at most
            # one, and no chain returns): propagation's bounds are then the LP's, so it has found
            # all there is. This holds for most groups: a unit's total with its distributions.
            continue
        lp = _LinearProgram(system, keys, members)
        # The flag reader knows more than the outsider: where it pins nothing, neither does the outsider.
        reader = _start(table, keys, flags=True)
        outsider = _start(table, keys, flags=False)
        for bounds, candidates in (
            (reader, [k for k in keys if k not in unchecked and k not in exempt]),
            (outsider, [k for k in keys if k not in unchecked and k in exempt]),
        ):
            exposed |= {_Exposure(k) for k in lp.pinned(candidates, bounds)}
        for known in insiders.values():
            own = {k: table[k].value for k in keys if k in known}
            if not own:
                continue
            bounds = {**outsider, **{k: (v, v) for k, v in own.items()}}
            candidates = [
                k for k in keys if k not in known and k not in unchecked and _reveals(k, known, table, totals)
            ]
            exposed |= {_Exposure(k, known) for k in lp.pinned(candidates, bounds)}
    return sorted(exposed, key=lambda e: (_order(e.key), sorted(map(_order, e.known))))


class _LinearProgram:
    """One group's equations for scipy's HiGHS: the minimum and maximum of a cell under bounds."""

    def __init__(self, system: _System, keys: list[Key], members: list[int]) -> None:
        import numpy as np

        self.keys = keys
        self.index = {k: i for i, k in enumerate(keys)}
        self.a_eq = np.zeros((len(members), len(keys)))
        self.b_eq = np.array([system.equations[i][1] for i in members], dtype=float)
        for row, i in enumerate(members):
            for k, c in system.equations[i][0]:
                self.a_eq[row, self.index[k]] += c

    def pinned(self, candidates: Sequence[Key], bounds: Mapping[Key, Bounds]) -> list[Key]:
        """The ``candidates`` the LP fixes to one integer under ``bounds``. A few solutions for
        arbitrary objectives first: a cell seen at two integers two apart in them, or one apart,
        is free without LPs of its own (most are); the rest get their minimum and maximum."""
        if not candidates:
            return []
        limits = [(bounds[k][0], None if math.isinf(bounds[k][1]) else bounds[k][1]) for k in self.keys]
        seen: dict[Key, list[float]] = defaultdict(list)
        for point in self._samples(limits):
            for k in candidates:
                seen[k].append(point[self.index[k]])
        return [k for k in candidates if not _free(seen[k]) and self._single(k, limits)]

    def _samples(self, limits: list[tuple[float, float | None]]) -> list:
        """Feasible points for a few fixed pseudo-random objectives, both ways, with infinite upper
        bounds capped (a capped point is still a feasible point)."""
        import numpy as np
        from scipy.optimize import linprog

        cap = 10 * (float(np.abs(self.b_eq).sum()) + sum(high or 0 for _, high in limits) + 10)
        capped = [(low, cap if high is None else high) for low, high in limits]
        rng = np.random.default_rng(len(self.keys))  # deterministic: same table, same points
        points = []
        for _ in range(_SAMPLES):
            weights = rng.uniform(-1, 1, len(self.keys))
            for sign in (1, -1):
                result = linprog(
                    sign * weights, A_eq=self.a_eq, b_eq=self.b_eq, bounds=capped, method="highs"
                )
                if result.status == 0:
                    points.append(result.x)
        return points

    def _single(self, key: Key, limits: list[tuple[float, float | None]]) -> bool:
        import numpy as np
        from scipy.optimize import linprog

        ends = []
        for sign in (1, -1):
            objective = np.zeros(len(self.keys))
            objective[self.index[key]] = sign
            result = linprog(objective, A_eq=self.a_eq, b_eq=self.b_eq, bounds=limits, method="highs")
            ends.append(math.inf if result.status != 0 else sign * result.fun)
        low, high = ends
        return not math.isinf(high) and math.ceil(low - 1e-6) >= math.floor(high + 1e-6)


#: How many pseudo-random objectives ``_LinearProgram.pinned`` tries before exact LPs per cell.
_SAMPLES = 3


def _free(values: list[float]) -> bool:
    """Whether feasible values seen of one cell prove it has two integer values: two seen values
    two apart (an integer lies between them and another beyond), or two integers."""
    if len(values) < 2:
        return False
    low, high = min(values), max(values)
    integral = all(abs(v - round(v)) < 1e-6 for v in (low, high))
    return high - low >= 2 - 1e-9 or (integral and high - low >= 1 - 1e-9)


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


def _single(bound: Bounds) -> bool:
    low, high = bound
    return low >= high  # one value left (or none: a relation the attacker would find false)


def _complement(
    exposure: _Exposure,
    table: Mapping[Key, Cell],
    withheld: set[Key],
    relations: Sequence[Relation],
    membership: Mapping[Key, list[int]],
) -> Key | None:
    """The published cell to withhold next to an exposed one: the smallest non-zero one in the
    relations the exposed cell is part of, else the smallest zero; ties by key; never one the
    attacker knows. Relations with the fewest cells the attacker does not know come first: that
    is where the cell is pinned (a school's own distribution, not the country's sum over 600
    schools, where withholding another school's count protects nothing). When every cell of those
    relations is withheld or known already, look one relation further, through the withheld cells
    the attacker does not know."""
    seen_keys, seen_relations = {exposure.key}, set()
    frontier = [exposure.key]
    while frontier:
        reached = {i for k in frontier for i in membership.get(k, [])} - seen_relations
        seen_relations |= reached
        keys = {k for i in reached for k, _ in relations[i].terms}
        by_open: dict[int, set[Key]] = defaultdict(set)
        for i in reached:
            terms = [k for k, _ in relations[i].terms]
            unknown = sum(1 for k in terms if k in withheld and k not in exposure.known)
            by_open[unknown] |= {
                k for k in terms if k in table and k not in withheld and k not in exposure.known
            }
        candidates = next((by_open[n] for n in sorted(by_open) if by_open[n]), set())
        if candidates:
            return min(candidates, key=lambda k: (table[k].value == 0, table[k].value, _order(k)))
        frontier = sorted((keys & withheld) - exposure.known - seen_keys, key=_order)
        seen_keys |= set(frontier)
    return None


def _order(key: Key) -> str:
    return repr(key)
