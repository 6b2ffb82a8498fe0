"""Solve an :class:`~matcher.optimiser.problem.AssignmentProblem` to proven optimality.

The pipeline (docs/optimiser.md), every step exact or proven:

1. **Units.** Hard sibling groups become units (:mod:`matcher.optimiser.units`).
2. **Relaxation.** The LP relaxation of the unit model is a transportation problem
   (a unit may send part of its children to several vacancies); min-cost flow solves it
   exactly and gives an upper bound, LP duals and reduced costs
   (:mod:`matcher.optimiser.flow`).
3. **Warm start.** Units placed whole by the flow keep their vacancy; the other units are
   placed greedily at their best vacancy by LP-priced profit; then the single children
   are placed by an exact min-cost flow on the beds that are left. This incumbent is the
   lower bound and the CP-SAT hint.
4. **Reduced-cost fixing.** A pair with reduced cost ``rc`` is in no solution better than
   ``bound - rc``; pairs with ``rc > bound - incumbent`` are in no optimum and are
   dropped.
5. **Decomposition.** Connected components of the kept units <-> vacancies graph (soft
   sibling groups link their members) are independent problems.
6. **Per component.** Without sibling units (or with a zero split penalty) the LP is
   integral and the flow's part is optimal. Otherwise, if the incumbent meets the
   component's LP bound it is optimal; else CP-SAT solves the component's exact model
   (:mod:`matcher.optimiser.cpsat`) from the hint.

Objective and bound add up over components. The validator
(:func:`~matcher.optimiser.validate.check_solution`) runs before anything is returned.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from matcher.optimiser.cpsat import Component, WorkBudget, solve_component
from matcher.optimiser.dive import flow_dive
from matcher.optimiser.flow import FlowResult, max_weight_flow
from matcher.optimiser.hull import applies as hull_applies
from matcher.optimiser.hull import applies_exclusive as hull_applies_exclusive
from matcher.optimiser.hull import solve_exclusive, solve_hull
from matcher.optimiser.params import SolverParameters
from matcher.optimiser.problem import AssignmentProblem
from matcher.optimiser.solution import Solution
from matcher.optimiser.units import UnitModel, build_units, connected_components
from matcher.optimiser.validate import check_solution, group_penalties, objective_of

__all__ = ["Solution", "check_solution", "solve"]

#: Pairs within this many points of the flow's optimum (reduced cost) start the hull LP.
HULL_START_POINTS = 25

#: The most kept pairs of a component for the household models (hull, solo homes): their
#: LP on the East of England's 3.4 M-pair component took 11-15 s a column-generation round.
HOUSEHOLD_MAX_PAIRS = 500_000


class _Timer:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.last = self.started
        self.phases: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[f"time_{name}_s"] = self.phases.get(f"time_{name}_s", 0.0) + now - self.last
        self.last = now

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def _pair_lookup(
    units: UnitModel, unit: npt.NDArray[np.int64], vacancy: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Index of unit pair (unit, vacancy), ``-1`` where there is none."""
    n_vac = int(units.pair_vacancy.max()) + 1 if len(units.pair_vacancy) else 1
    n_vac = max(n_vac, int(vacancy.max()) + 1 if len(vacancy) else 1)
    keys = units.pair_unit * n_vac + units.pair_vacancy  # sorted (pairs are sorted)
    wanted = unit * n_vac + vacancy
    out = np.full(len(unit), -1, dtype=np.int64)
    if len(keys) == 0:
        return out
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    hit = (keys[at] == wanted) & (vacancy >= 0)
    out[hit] = at[hit]
    return out


def _choice_from_children(
    units: UnitModel, vacancy_of_child: npt.NDArray[np.int32]
) -> npt.NDArray[np.int64]:
    """Unit-pair choice per unit from a child-level assignment that respects the units."""
    first = np.array([m[0] for m in units.members], dtype=np.int64)
    vac = vacancy_of_child[first].astype(np.int64) if len(first) else np.zeros(0, np.int64)
    return _pair_lookup(units, np.arange(units.n_units, dtype=np.int64), vac)


def _choice_from_flow(units: UnitModel, flow: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Unit-pair choice of units that the flow places whole in one vacancy."""
    choice = np.full(units.n_units, -1, dtype=np.int64)
    whole = np.flatnonzero(flow == units.size[units.pair_unit])
    choice[units.pair_unit[whole]] = whole
    return choice


class _Households:
    """What the greedy repair has placed so far, against beds and household rules."""

    def __init__(self, problem: AssignmentProblem) -> None:
        assert problem.vacancy_group is not None and problem.group_capacity is not None
        assert problem.group_siblings_exempt is not None
        self.remaining = problem.capacity.astype(np.int64).copy()
        self.group = problem.vacancy_group.astype(np.int64)
        self.room = problem.group_capacity.astype(np.int64).copy()
        self.exempt = problem.group_siblings_exempt
        self.g_used = np.zeros(len(self.room), dtype=np.int64)
        self.g_closed = np.zeros(len(self.room), dtype=np.bool_)
        self.home = problem.household_key()
        n_home = int(self.home.max()) + 1 if len(self.home) else 0
        self.h_count = np.zeros(n_home, dtype=np.int64)
        self.h_closed = np.zeros(n_home, dtype=np.bool_)

    def fits(self, size: int, family: int, v: int, exclusive: bool) -> bool:
        if self.remaining[v] < size:
            return False
        h = self.home[v]
        if self.h_closed[h] or (exclusive and self.h_count[h] > 0):
            return False
        g = self.group[v]
        if g >= 0:
            if self.g_closed[g]:
                return False
            if self.g_used[g] + size > self.room[g]:
                return bool(self.exempt[g] and self.g_used[g] == 0 and family >= 0)
        return True

    def put(self, size: int, v: int, exclusive: bool) -> None:
        self.remaining[v] -= size
        h = self.home[v]
        self.h_count[h] += size
        if exclusive:
            self.h_closed[h] = True
        g = self.group[v]
        if g >= 0:
            self.g_used[g] += size
            if self.g_used[g] > self.room[g]:
                self.g_closed[g] = True  # the siblings exception: nobody else joins

    def flow_capacity(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Beds and group rooms left for children who need nothing exclusive."""
        beds = np.where(self.h_closed[self.home], 0, self.remaining)
        room = np.where(self.g_closed, 0, np.maximum(self.room - self.g_used, 0))
        return beds, room


def _repair(
    problem: AssignmentProblem,
    units: UnitModel,
    flow: npt.NDArray[np.int64] | None,
    beta: npt.NDArray[np.int64],
    beta_scale: int,
) -> npt.NDArray[np.int64]:
    """A feasible unit decision from the relaxation: greedy for units, exact flow for singles.

    ``beta / beta_scale`` is the LP price of a bed in each vacancy (points). Sibling units
    and units with exclusive pairs are placed greedily (an exclusive pair only in an empty
    household, which it then closes, priced at every bed it closes); the other single
    children by an exact min-cost flow on the beds and household rooms left.
    """
    state = _Households(problem)
    choice = np.full(units.n_units, -1, dtype=np.int64)
    size_of_pair = units.size[units.pair_unit]
    exclusive_unit = np.zeros(units.n_units, dtype=np.bool_)
    exclusive_unit[units.pair_unit[units.pair_exclusive]] = True
    greedy_pair = (size_of_pair > 1) | exclusive_unit[units.pair_unit]

    def place(u: int, i: int) -> bool:
        v = int(units.pair_vacancy[i])
        size, excl = int(units.size[u]), bool(units.pair_exclusive[i])
        if not state.fits(size, int(units.family[u]), v, excl):
            return False
        state.put(size, v, excl)
        choice[u] = i
        return True

    if flow is not None:
        whole = np.flatnonzero((flow == size_of_pair) & (size_of_pair > 1))
        for i in whole.tolist():
            place(int(units.pair_unit[i]), i)
    # LP-priced profit of each pair, in points * beta_scale; an exclusive pair also pays
    # for every other bed of its household
    price = beta * state.remaining
    home_price = np.bincount(state.home, weights=price, minlength=len(state.h_count))
    profit = units.pair_points * beta_scale - size_of_pair * beta[units.pair_vacancy]
    excl = units.pair_exclusive
    profit[excl] -= (
        home_price[state.home[units.pair_vacancy[excl]]] - price[units.pair_vacancy[excl]]
    ).astype(np.int64)
    pending = np.flatnonzero(((units.size > 1) | exclusive_unit) & (choice < 0))
    if len(pending):
        starts = np.searchsorted(units.pair_unit, pending, side="left")
        ends = np.searchsorted(units.pair_unit, pending, side="right")
        best = np.array(
            [
                profit[s:e].max() if e > s else np.iinfo(np.int64).min
                for s, e in zip(starts, ends, strict=True)
            ]
        )
        order = np.lexsort((pending, -best, -units.size[pending]))
        for k in order.tolist():
            s, e = int(starts[k]), int(ends[k])
            if e == s:
                continue
            idx = np.arange(s, e)
            idx = idx[np.lexsort((units.pair_vacancy[idx], -profit[idx]))]
            for i in idx.tolist():
                if profit[i] <= 0:
                    break
                if place(int(pending[k]), i):
                    break
    single_pairs = np.flatnonzero(~greedy_pair & (choice[units.pair_unit] < 0))
    if len(single_pairs):
        single_units, left = np.unique(units.pair_unit[single_pairs], return_inverse=True)
        beds, room = state.flow_capacity()
        result = max_weight_flow(
            np.ones(len(single_units), dtype=np.int64),
            beds,
            left.astype(np.int64),
            units.pair_vacancy[single_pairs],
            units.pair_points[single_pairs],
            right_group=state.group,
            group_capacity=room,
            duals=False,
        )
        used = single_pairs[result.flow > 0]
        choice[units.pair_unit[used]] = used
    return choice


def _incumbent(
    problem: AssignmentProblem, units: UnitModel, relax: FlowResult
) -> npt.NDArray[np.int32]:
    """The best feasible assignment found from the relaxation (child level)."""
    n = problem.n_children
    if problem.hard_units:
        choice = _repair(problem, units, relax.flow, relax.beta, units.scale)
        return units.vacancy_of_child(choice, n)
    if problem.has_household_rules:
        # The relaxation may break household rules: repair child by child, and as units.
        apart = units.vacancy_of_child(_repair(problem, units, None, relax.beta, 1), n)
        hard = build_units(problem, hard=True)
        together = hard.vacancy_of_child(_repair(problem, hard, None, relax.beta, 1), n)
        if objective_of(problem, together) > objective_of(problem, apart):
            return together
        return apart
    # Split-penalty mode: the relaxation itself is feasible; placing groups whole may pay
    # less penalty. Keep the better (the flow on a tie).
    as_flow = units.vacancy_of_child(_choice_from_flow(units, relax.flow), n)
    if not problem.sibling_groups or not problem.split_penalty:
        return as_flow
    hard = build_units(problem, hard=True)
    together = hard.vacancy_of_child(_repair(problem, hard, None, relax.beta, 1), n)
    if objective_of(problem, together) > objective_of(problem, as_flow):
        return together
    return as_flow


def _canonical_singles(
    problem: AssignmentProblem, vacancy_of_child: npt.NDArray[np.int32]
) -> npt.NDArray[np.int32]:
    """Re-place the children outside sibling groups by one exact min-cost flow.

    Sibling groups keep their vacancies; the other children get the flow's optimum on
    the beds left, which depends only on the groups' placement, never on which worker of
    a parallel search found a solution first. The objective cannot fall (the flow is
    optimal for them), so an optimum stays optimal and a time-limited answer may improve.

    With household rules, children placed through an exclusive pair stay too; their
    households are closed to the others, and each capacity group offers the room its
    fixed children leave (none once a sibling group uses the siblings exception). The
    current placement of the others fits these limits, so the objective still cannot fall.
    """
    assert problem.vacancy_group is not None and problem.group_capacity is not None
    assert problem.pair_exclusive is not None
    out = vacancy_of_child.copy()
    fixed = problem.group_of_child >= 0
    group = problem.vacancy_group.astype(np.int64)
    room = problem.group_capacity.astype(np.int64)
    closed_vacancy = np.zeros(problem.n_vacancies, dtype=np.bool_)
    if problem.has_household_rules:
        placed = np.flatnonzero(out >= 0)
        key = problem.pair_child.astype(np.int64) * max(problem.n_vacancies, 1)
        key = key + problem.pair_vacancy
        wanted = placed.astype(np.int64) * max(problem.n_vacancies, 1) + out[placed]
        order = np.argsort(key, kind="stable")
        at = order[np.searchsorted(key[order], wanted)] if len(placed) else placed
        exclusive_child = placed[problem.pair_exclusive[at]]
        fixed[exclusive_child] = True
        home = problem.household_key()
        closed_vacancy = np.isin(home, home[out[exclusive_child]])
        fixed_at = out[fixed & (out >= 0)]
        in_group = group[fixed_at]
        used = np.bincount(in_group[in_group >= 0], minlength=len(room))
        room = np.maximum(room - used, 0)
    remaining = problem.capacity.astype(np.int64) - np.bincount(
        out[fixed & (out >= 0)], minlength=problem.n_vacancies
    )
    remaining[closed_vacancy] = 0
    free_pair = ~fixed[problem.pair_child] & ~problem.pair_exclusive
    if not free_pair.any():
        return out
    pair_child = problem.pair_child[free_pair].astype(np.int64)
    pair_vacancy = problem.pair_vacancy[free_pair].astype(np.int64)
    order = np.lexsort((pair_vacancy, pair_child))
    pair_child, pair_vacancy = pair_child[order], pair_vacancy[order]
    points = problem.pair_points[free_pair][order]
    children, left = np.unique(pair_child, return_inverse=True)
    result = max_weight_flow(
        np.ones(len(children), dtype=np.int64),
        remaining,
        left.astype(np.int64),
        pair_vacancy,
        points,
        right_group=group,
        group_capacity=room,
        duals=False,
    )
    out[~fixed] = -1
    used_arc = result.flow > 0
    out[pair_child[used_arc]] = pair_vacancy[used_arc].astype(np.int32)
    return out


def _relaxed_group_capacity(problem: AssignmentProblem, units: UnitModel) -> npt.NDArray[np.int64]:
    """Room of each capacity group in the relaxation: a sound upper bound on its children.

    A group holds at most its capacity, or, if exempt, one family alone: at most the
    children of that family with a pair there. So the larger of the two bounds it.
    """
    assert problem.group_capacity is not None and problem.vacancy_group is not None
    assert problem.group_siblings_exempt is not None
    room = problem.group_capacity.astype(np.int64).copy()
    n_groups = len(room)
    if n_groups == 0 or not problem.group_siblings_exempt.any():
        return room
    g_of_pair = problem.vacancy_group.astype(np.int64)[units.pair_vacancy]
    fam = units.family[units.pair_unit]
    ok = (g_of_pair >= 0) & (fam >= 0)
    if not ok.any():
        return room
    # distinct (unit, group) with their family, then children per (family, group)
    keys = np.unique(units.pair_unit[ok] * n_groups + g_of_pair[ok])
    unit, group = keys // n_groups, keys % n_groups
    n_fam = int(units.family.max()) + 1
    fam_keys, inverse = np.unique(units.family[unit] * n_groups + group, return_inverse=True)
    children = np.bincount(inverse, weights=units.size[unit], minlength=len(fam_keys))
    largest = np.zeros(n_groups, dtype=np.int64)
    np.maximum.at(largest, fam_keys % n_groups, children.astype(np.int64))
    del n_fam
    return np.where(problem.group_siblings_exempt, np.maximum(room, largest), room)


def _household_edges(
    problem: AssignmentProblem,
    units: UnitModel,
    kept: npt.NDArray[np.int64],
    home: npt.NDArray[np.int64],
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Edges (vacancy, vacancy) that keep a capacity group, and a household with an
    exclusive kept pair, in one component."""
    assert problem.vacancy_group is not None
    out = []
    group = problem.vacancy_group.astype(np.int64)
    in_group = np.flatnonzero(group >= 0)
    by_group = in_group[np.argsort(group[in_group], kind="stable")]
    same = group[by_group][1:] == group[by_group][:-1]
    out.append((by_group[:-1][same], by_group[1:][same]))
    exclusive = kept[units.pair_exclusive[kept]]
    if len(exclusive):
        homes = np.unique(home[units.pair_vacancy[exclusive]])
        at = np.flatnonzero(np.isin(home, homes))
        at = at[np.argsort(home[at], kind="stable")]
        same = home[at][1:] == home[at][:-1]
        out.append((at[:-1][same], at[1:][same]))
    return out


def _local_ids(
    values: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Renumber ``values`` ``0..`` (``-1`` stays ``-1``); also return the original ids."""
    ids = np.unique(values[values >= 0])
    local = np.full(len(values), -1, dtype=np.int64)
    local[values >= 0] = np.searchsorted(ids, values[values >= 0])
    return local, ids


def _sum_by(
    labels: npt.NDArray[np.int64], values: npt.NDArray[np.int64], n: int
) -> npt.NDArray[np.int64]:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, labels, values)
    return out


def _keep_incumbent(
    choice: npt.NDArray[np.int64],
    incumbent: npt.NDArray[np.int64] | None,
    units: npt.NDArray[np.int64],
    upper_bound: int,
) -> int:
    """An unsearched component keeps the incumbent's choice for its ``units``; returns its
    bound (the LP's), so the component is reported unproven."""
    if incumbent is not None:
        choice[units] = incumbent[units]
    return upper_bound


def _cheapest_per_unit(
    pairs: npt.NDArray[np.int64],
    pair_unit: npt.NDArray[np.int64],
    cost: npt.NDArray[np.int64],
    most: int,
) -> npt.NDArray[np.int64]:
    """The ``most`` pairs of each unit with the least ``cost`` (ties: the lower pair), in
    the order of ``pairs`` (sorted by unit); all of them when ``most`` is 0."""
    if most <= 0 or len(pairs) == 0:
        return pairs
    unit = pair_unit[pairs]
    order = np.lexsort((pairs, cost[pairs], unit))
    starts = np.flatnonzero(np.r_[True, unit[order][1:] != unit[order][:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = np.zeros(len(pairs), dtype=np.bool_)
    keep[order[rank < most]] = True
    return pairs[keep]


#: CP-SAT refuses a model whose linear sums could leave int64: a component whose points sum
#: past this (only a pooled nation's folding comes near) keeps its incumbent and LP bound.
CPSAT_MAX_POINTS = 2**61


def _beyond_cpsat(points: npt.NDArray[np.int64]) -> bool:
    """Whether the component's points add up past :data:`CPSAT_MAX_POINTS` (in doubles, so
    that the sum itself cannot wrap)."""
    return float(points.sum(dtype=np.float64)) >= CPSAT_MAX_POINTS


def _lexicographic_base(units: UnitModel, pairs: npt.NDArray[np.int64]) -> int | None:
    """``base = min(points // size)`` over the pairs, when it exceeds the most residual
    points (``points - base * size``) any assignment of them can collect: then one more
    child placed is worth more than any residual, and every optimum places the most
    children it can. ``None`` when that does not hold (or there are no pairs)."""
    if len(pairs) == 0:
        return None
    pair_size = units.size[units.pair_unit[pairs]]
    points = units.pair_points[pairs]
    base = int((points // pair_size).min())
    most = np.zeros(units.n_units, dtype=np.int64)
    np.maximum.at(most, units.pair_unit[pairs], points - base * pair_size)
    return base if base > 0 and base > int(most.sum()) else None


def _proven_count(
    units: UnitModel,
    pairs: npt.NDArray[np.int64],
    incumbent: npt.NDArray[np.int64],
    upper_bound: int,
) -> int | None:
    """The number of children every optimum of a component places, if the incumbent proves it.

    With ``base = min(points // size)`` over the component's pairs, every assignment is
    worth ``base * N + R`` with ``R >= 0`` the residual points of its ``N`` children. When
    ``base`` exceeds the most residual any assignment can collect (the matcher's placement
    base guarantees it), every optimum places the most children it can, at least the
    incumbent's ``N``; and no assignment places more than ``upper_bound // base``. When
    the two meet, that is the count. ``None`` otherwise.
    """
    base = _lexicographic_base(units, pairs)
    if base is None:
        return None
    count = int(units.size[units.pair_unit[incumbent[incumbent >= 0]]].sum())
    return count if count == upper_bound // base else None


def solve(problem: AssignmentProblem, params: SolverParameters | None = None) -> Solution:
    """Find an optimal assignment and prove it (or say how far from proven it is).

    Parameters
    ----------
    problem
        The scored candidate model.
    params
        Solver parameters; defaults to ``SolverParameters()``.

    Returns
    -------
    Solution
        Validated by :func:`check_solution`.

    Raises
    ------
    RuntimeError
        If the validator rejects the answer (a bug; never a wrong answer silently).
    """
    if params is None:
        params = SolverParameters()
    timer = _Timer()
    n = problem.n_children
    capacity = problem.capacity.astype(np.int64)
    units = build_units(problem)
    k = units.scale
    size_of_pair = units.size[units.pair_unit]
    timer.lap("units")

    gain = units.pair_points * k // size_of_pair
    assert problem.vacancy_group is not None and problem.group_capacity is not None
    vacancy_group = problem.vacancy_group.astype(np.int64)
    relaxed_room = _relaxed_group_capacity(problem, units)
    relax = max_weight_flow(
        units.size,
        capacity,
        units.pair_unit,
        units.pair_vacancy,
        gain,
        right_group=vacancy_group,
        group_capacity=relaxed_room,
    )
    gamma = relax.gamma if relax.gamma is not None else np.zeros(0, dtype=np.int64)
    lp_bound = relax.value // k
    timer.lap("flow")

    incumbent_vac: npt.NDArray[np.int32] | None = None
    incumbent_value = 0
    if params.use_flow_warm_start:
        incumbent_vac = _incumbent(problem, units, relax)
        incumbent_value = objective_of(problem, incumbent_vac)
    timer.lap("repair")

    n_units, n_vac = units.n_units, problem.n_vacancies
    n_labels = n_units + n_vac
    home = problem.household_key()
    assert problem.group_siblings_exempt is not None
    group_exempt = problem.group_siblings_exempt
    soft = problem.split_penalty is not None and problem.split_penalty > 0
    soft_groups = units.soft_groups if soft else ()
    incumbent_choice = (
        _choice_from_children(units, incumbent_vac) if incumbent_vac is not None else None
    )
    # incumbent value per unit; a soft group's penalty is charged to its first child
    unit_value = np.zeros(n_units, dtype=np.int64)
    if incumbent_choice is not None:
        placed = incumbent_choice >= 0
        unit_value[placed] = units.pair_points[incumbent_choice[placed]]
        if soft:
            assert incumbent_vac is not None
            penalties = group_penalties(problem, incumbent_vac)
            for group, penalty in zip(soft_groups, penalties.tolist(), strict=True):
                unit_value[group[0]] -= penalty
    fixing = params.reduced_cost_fixing and incumbent_choice is not None
    scaled_rc = size_of_pair * relax.reduced_cost
    kept = np.arange(len(units.pair_unit))
    if fixing:
        # y = 1 on a pair forces objective <= (value - size * rc) / k: drop if < incumbent
        kept = np.flatnonzero(scaled_rc <= relax.value - k * incumbent_value)
    timer.lap("fixing")
    rounds = 0
    while True:
        rounds += 1
        if params.decompose:
            edge_a = [units.pair_unit[kept]]
            edge_b = [n_units + units.pair_vacancy[kept]]
            for group in soft_groups:
                edge_a.append(group[:-1])
                edge_b.append(group[1:])
            # a capacity group, and a household with an exclusive pair, link its vacancies
            for a, b in _household_edges(problem, units, kept, home):
                edge_a.append(n_units + a)
                edge_b.append(n_units + b)
            labels = connected_components(n_labels, np.concatenate(edge_a), np.concatenate(edge_b))
        else:
            labels = np.zeros(n_labels, dtype=np.int64)
        unit_label, vac_label = labels[:n_units], labels[n_units:]
        group_label = np.zeros(len(relaxed_room), dtype=np.int64)
        grouped = vacancy_group >= 0
        group_label[vacancy_group[grouped]] = vac_label[grouped]
        # per-component LP bound (scaled by k) and incumbent value
        ub_scaled = (
            _sum_by(unit_label, units.size * relax.alpha, n_labels)
            + _sum_by(vac_label, capacity * relax.beta, n_labels)
            + _sum_by(group_label, relaxed_room * gamma, n_labels)
        )
        lb_by_label = _sum_by(unit_label, unit_value, n_labels)
        timer.lap("decompose")
        if not (fixing and params.decompose):
            break
        # Components are independent: each must reach its own incumbent, so the gap that
        # fixes a pair is its component's gap (repeated until nothing more is dropped).
        label_of_pair = unit_label[units.pair_unit[kept]]
        still = scaled_rc[kept] <= ub_scaled[label_of_pair] - k * lb_by_label[label_of_pair]
        timer.lap("fixing")
        if still.all():
            break
        kept = kept[still]

    needs_search = np.zeros(n_labels, dtype=np.bool_)
    needs_search[unit_label[units.size > 1]] = True
    # the flow ignores exclusive pairs and allows the siblings exception to any family
    needs_search[unit_label[units.pair_unit[kept][units.pair_exclusive[kept]]]] = True
    needs_search[group_label[relaxed_room > problem.group_capacity]] = True
    for group in soft_groups:
        needs_search[unit_label[group[0]]] = True
    has_pairs = np.zeros(n_labels, dtype=np.bool_)
    has_pairs[unit_label[units.pair_unit[kept]]] = True

    # Components without sibling units: the relaxation's flow is an optimal assignment.
    choice = _choice_from_flow(units, relax.flow)
    choice[needs_search[unit_label]] = -1
    n_components = int(has_pairs.sum())
    components_flow = int((has_pairs & ~needs_search).sum())
    bound = int((ub_scaled[has_pairs & ~needs_search] // k).sum())

    search = np.flatnonzero(has_pairs & needs_search)
    components_incumbent = components_cpsat = n_must_place = n_must_fill = 0
    components_hull = hull_pairs_kept = hull_rounds = hull_lp_rounds = 0
    components_dived = components_dive_better = components_hull_count = 0
    components_exclusive = 0
    hull_lp_s = hull_mip_s = 0.0
    cpsat_status: dict[str, int] = {"optimal": 0, "feasible": 0, "unknown": 0}
    largest_model = 0
    pair_label = unit_label[units.pair_unit[kept]]
    order = np.argsort(pair_label, kind="stable")
    sorted_labels = pair_label[order]
    # Small components first: each gets what is left of the time limit, so one large
    # component cannot starve the small ones (which are proven in milliseconds).
    comp_size = np.bincount(pair_label, minlength=n_labels)[search] if len(kept) else search
    search = search[np.lexsort((search, comp_size))]
    budget = WorkBudget(params.deterministic_time_limit)
    for label in search.tolist():
        comp_ub = int(ub_scaled[label] // k)
        comp_lb = int(lb_by_label[label])
        comp_units = np.flatnonzero(unit_label == label)
        if incumbent_choice is not None and comp_lb >= comp_ub:
            choice[comp_units] = incumbent_choice[comp_units]
            bound += comp_lb
            components_incumbent += 1
            continue
        lo, hi = np.searchsorted(sorted_labels, [label, label + 1])
        comp_pairs = kept[order[lo:hi]]
        comp_vacs = np.flatnonzero(vac_label == label)
        local_group, group_ids = _local_ids(vacancy_group[comp_vacs])
        local_groups = tuple(
            np.searchsorted(comp_units, g) for g in soft_groups if unit_label[g[0]] == label
        )
        if (
            params.flow_dive
            and incumbent_choice is not None
            and len(comp_pairs) >= params.flow_dive_min_pairs
            and not local_groups
            and not units.pair_exclusive[comp_pairs].any()
        ):
            # the dive's flows see each unit's cheapest pairs by reduced cost: enough to
            # choose from, and the flows stay small on a pooled region
            dive_pairs = _cheapest_per_unit(
                comp_pairs, units.pair_unit, scaled_rc, params.flow_dive_pairs_per_unit
            )
        else:
            dive_pairs = None
        if (
            dive_pairs is not None
            and incumbent_choice is not None
            and (params.flow_dive_max_pairs == 0 or len(dive_pairs) <= params.flow_dive_max_pairs)
        ):
            dived = dive_pairs[
                flow_dive(
                    units.size[comp_units],
                    capacity[comp_vacs],
                    np.searchsorted(comp_units, units.pair_unit[dive_pairs]),
                    np.searchsorted(comp_vacs, units.pair_vacancy[dive_pairs]),
                    units.pair_points[dive_pairs],
                    vacancy_group=local_group,
                    group_capacity=problem.group_capacity[group_ids].astype(np.int64),
                    group_exempt=group_exempt[group_ids],
                    family=units.family[comp_units],
                )
            ]
            dived_value = int(units.pair_points[dived].sum())
            components_dived += 1
            if dived_value > comp_lb:
                components_dive_better += 1
                incumbent_choice[comp_units] = -1
                incumbent_choice[units.pair_unit[dived]] = dived
                comp_lb = dived_value
                # the smaller gap fixes more of the component's pairs (never the
                # incumbent's: each of its pairs' reduced costs is within the gap)
                comp_pairs = comp_pairs[
                    scaled_rc[comp_pairs] <= int(ub_scaled[label]) - k * comp_lb
                ]
                if comp_lb >= comp_ub:
                    choice[comp_units] = incumbent_choice[comp_units]
                    bound += comp_lb
                    components_incumbent += 1
                    continue
        if budget.exhausted:  # no work left
            bound += _keep_incumbent(choice, incumbent_choice, comp_units, comp_ub)
            budget.note_stop("work_limit")
            cpsat_status["unknown"] += 1
            continue
        local_unit = np.searchsorted(comp_units, units.pair_unit[comp_pairs])
        local_vac = np.searchsorted(comp_vacs, units.pair_vacancy[comp_pairs])
        hint = None
        if incumbent_choice is not None:
            hint = np.zeros(len(comp_pairs), dtype=np.bool_)
            hint[np.isin(comp_pairs, incumbent_choice[comp_units])] = True
        must_place = must_fill = None
        if fixing:
            # An unplaced unit u leaves the LP's value at most bound - size * alpha[u]:
            # if that is below the incumbent, every optimum places u.
            gap_scaled = int(ub_scaled[label]) - k * comp_lb
            must_place = units.size[comp_units] * relax.alpha[comp_units] > gap_scaled
            must_place &= np.isin(comp_units, units.pair_unit[comp_pairs])
            n_must_place += int(must_place.sum())
            # Likewise each empty bed of vacancy v costs beta[v]: if one empty bed already
            # falls below the incumbent, every optimum fills v.
            must_fill = relax.beta[comp_vacs] > gap_scaled
            n_must_fill += int(must_fill.sum())
        local_home, _ = _local_ids(home[comp_vacs])
        count = (
            _proven_count(units, comp_pairs, incumbent_choice[comp_units], comp_ub)
            if incumbent_choice is not None
            else None
        )
        remaining_time = params.time_limit_s - timer.elapsed()
        comp_group_capacity = problem.group_capacity[group_ids].astype(np.int64)
        # the component's units, beds and pairs (local indices), as every solver takes them
        component = (
            units.size[comp_units],
            capacity[comp_vacs],
            local_unit.astype(np.int64),
            local_vac.astype(np.int64),
        )
        # the hull LP starts from the pairs the flow prices within a few points of its
        # optimum, and the incumbent's; the rest are priced in
        start = (scaled_rc[comp_pairs] <= HULL_START_POINTS * k) | (
            hint if hint is not None else False
        )
        outcome = None
        households = (
            params.household_hull
            and params.household_hull_min_pairs <= len(comp_pairs) <= HOUSEHOLD_MAX_PAIRS
            and incumbent_choice is not None
            and must_place is not None
        )
        if households and hull_applies(
            *component,
            must_place=must_place,
            vacancy_group=local_group,
            group_capacity=comp_group_capacity,
            pair_exclusive=units.pair_exclusive[comp_pairs],
            soft=bool(local_groups),
            placed=count,
        ):
            assert must_place is not None  # hull_applies asks for it
            outcome = solve_hull(
                *component,
                units.pair_points[comp_pairs],
                vacancy_group=local_group,
                group_capacity=comp_group_capacity,
                group_exempt=group_exempt[group_ids],
                must_place=must_place,
                lower_bound=comp_lb,
                upper_bound=comp_ub,
                time_limit_s=remaining_time,
                start=start,
                placed=count,
                incumbent=hint,
            )
            components_hull_count += int(outcome is not None and not must_place.all())
        elif (
            households
            and _lexicographic_base(units, comp_pairs) is not None
            and hull_applies_exclusive(
                units.pair_exclusive[comp_pairs],
                vacancy_group=local_group,
                soft=bool(local_groups),
            )
        ):
            assert must_place is not None and incumbent_choice is not None
            placed_now = incumbent_choice[comp_units]
            outcome = solve_exclusive(
                *component,
                units.pair_points[comp_pairs],
                vacancy_household=local_home,
                pair_exclusive=units.pair_exclusive[comp_pairs],
                must_place=must_place,
                incumbent_placed=int(
                    units.size[units.pair_unit[placed_now[placed_now >= 0]]].sum()
                ),
                count_proven=count is not None,
                incumbent=hint,
                lower_bound=comp_lb,
                upper_bound=comp_ub,
                time_limit_s=remaining_time,
                start=start,
            )
            components_exclusive += int(outcome is not None)
        if outcome is not None:
            components_hull += 1
            hull_pairs_kept += outcome.pairs_kept
            hull_rounds += outcome.rounds
            hull_lp_rounds += outcome.lp_rounds
            hull_lp_s += outcome.lp_seconds
            hull_mip_s += outcome.mip_seconds
            if outcome.status == "optimal":
                chosen_pairs = comp_pairs[outcome.chosen]
                choice[units.pair_unit[chosen_pairs]] = chosen_pairs
                bound += outcome.bound
            else:  # stopped by the clock: the incumbent, with the hull's bound
                budget.note_stop("wall_clock")
                if incumbent_choice is not None:
                    choice[comp_units] = incumbent_choice[comp_units]
                bound += min(outcome.bound, comp_ub)
            continue
        if 0 < params.cpsat_max_pairs < len(comp_pairs) or _beyond_cpsat(
            units.pair_points[comp_pairs]
        ):
            # too large for an exact CP-SAT model (building one for the 3.4 million pairs
            # of the East of England's pooled component took most of two minutes), or its
            # coefficients could overflow CP-SAT's 64-bit sums: the incumbent and the LP
            # bound, unproven, the same on every run
            bound += _keep_incumbent(choice, incumbent_choice, comp_units, comp_ub)
            budget.note_stop("size_limit")
            cpsat_status["unknown"] += 1
            continue
        result = solve_component(
            Component(
                *component,
                units.pair_points[comp_pairs],
                soft_groups=local_groups,
                split_penalty=problem.split_penalty or 0,
                hint=hint,
                lower_bound=comp_lb if incumbent_choice is not None else None,
                upper_bound=comp_ub,
                must_place=must_place,
                must_fill=must_fill,
                vacancy_group=local_group,
                group_capacity=comp_group_capacity,
                group_exempt=group_exempt[group_ids],
                vacancy_household=local_home,
                family=units.family[comp_units],
                pair_exclusive=units.pair_exclusive[comp_pairs],
            ),
            params=params,
            time_limit_s=remaining_time,
            budget=budget,
        )
        components_cpsat += 1
        cpsat_status[result.status] += 1
        largest_model = max(largest_model, result.n_variables)
        if result.status == "unknown":
            if incumbent_choice is not None:
                choice[comp_units] = incumbent_choice[comp_units]
            bound += comp_ub
            continue
        chosen_pairs = comp_pairs[result.chosen]
        choice[units.pair_unit[chosen_pairs]] = chosen_pairs
        bound += result.bound

    vacancy_of_child = units.vacancy_of_child(choice, n)
    timer.lap("cpsat")
    vacancy_of_child = _canonical_singles(problem, vacancy_of_child)
    timer.lap("canonical")
    objective = objective_of(problem, vacancy_of_child)
    bound = min(bound, lp_bound)
    status = "optimal" if objective == bound else "feasible"
    timer.lap("extract")
    stats: dict[str, float | int | str] = {
        "children": n,
        "vacancies": n_vac,
        "pairs": problem.n_pairs,
        "sibling_groups": len(problem.sibling_groups),
        "units": n_units,
        "unit_pairs": len(units.pair_unit),
        "pairs_kept": len(kept),
        "lp_bound": lp_bound,
        "incumbent": incumbent_value,
        "components": n_components,
        "components_flow": components_flow,
        "components_incumbent": components_incumbent,
        "components_cpsat": components_cpsat,
        "components_hull": components_hull,
        "hull_pairs_kept": hull_pairs_kept,
        "hull_rounds": hull_rounds,
        "hull_lp_rounds": hull_lp_rounds,
        "time_hull_lp_s": hull_lp_s,
        "time_hull_mip_s": hull_mip_s,
        "components_dived": components_dived,
        "components_dive_better": components_dive_better,
        "components_hull_count": components_hull_count,
        "components_exclusive": components_exclusive,
        "cpsat_optimal": cpsat_status["optimal"],
        "cpsat_feasible": cpsat_status["feasible"],
        "cpsat_unknown": cpsat_status["unknown"],
        "cpsat_largest_model_variables": largest_model,
        "bellman_ford_rounds": relax.bellman_ford_rounds,
        "fixing_rounds": rounds,
        "units_must_place": n_must_place,
        "vacancies_must_fill": n_must_fill,
        "solver": "flow"
        + ("+hull" if components_hull else "")
        + ("+cpsat" if components_cpsat else ""),
        "work_limit": params.deterministic_time_limit,
        "work_used": round(budget.used, 6),
        "stopped_by": ""
        if status == "optimal"
        else (budget.stopped_by or ("work_limit" if budget.total > 0 else "wall_clock")),
        **timer.phases,
    }
    stats["time_total_s"] = timer.elapsed()
    solution = Solution(
        status=status,
        objective=objective,
        bound=bound,
        vacancy_of_child=vacancy_of_child,
        parameters=params,
        stats=stats,
    )
    errors = check_solution(problem, solution)
    if errors:
        raise RuntimeError("optimiser produced an invalid solution: " + "; ".join(errors))
    return solution
