"""Step 2 of :func:`~matcher.optimiser.solve.solve`: a feasible incumbent from the relaxation.

Units placed whole by the flow keep their vacancy; the other sibling units (and units with
exclusive pairs) are placed greedily at their best vacancy by LP-priced profit; then the
single children are placed by an exact min-cost flow on the beds that are left. The
incumbent is the lower bound, the CP-SAT hint and, with the relaxation's bound, the gap
that fixes pairs (:mod:`matcher.optimiser.decompose`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matcher.optimiser.flow import FlowResult, max_weight_flow
from matcher.optimiser.params import SolverParameters
from matcher.optimiser.problem import AssignmentProblem, pair_lookup
from matcher.optimiser.relax import Relaxation
from matcher.optimiser.units import UnitModel, build_units
from matcher.optimiser.validate import group_penalties, objective_of

__all__ = ["Incumbent", "choice_from_children", "choice_from_flow", "find_incumbent"]


@dataclass(frozen=True, slots=True, eq=False)
class Incumbent:
    """The best feasible assignment found from the relaxation, if one was asked for.

    Attributes
    ----------
    vacancy_of_child
        ``int32 [n_children]``: its vacancy per child (``-1``: unplaced); ``None`` without
        a warm start (``params.use_flow_warm_start`` off).
    value
        Its objective (0 without a warm start).
    choice
        ``int64 [n_units]``: its unit pair per unit (``-1``: unplaced), or ``None``.
    unit_value
        ``int64 [n_units]``: its points per unit; a soft group's penalty is charged to its
        first child's unit (zeros without a warm start).
    """

    vacancy_of_child: npt.NDArray[np.int32] | None
    value: int
    choice: npt.NDArray[np.int64] | None
    unit_value: npt.NDArray[np.int64]


def find_incumbent(
    problem: AssignmentProblem,
    units: UnitModel,
    relaxation: Relaxation,
    params: SolverParameters,
) -> Incumbent:
    """Repair the relaxation into a feasible assignment (when ``use_flow_warm_start``)."""
    unit_value = np.zeros(units.n_units, dtype=np.int64)
    if not params.use_flow_warm_start:
        return Incumbent(vacancy_of_child=None, value=0, choice=None, unit_value=unit_value)
    vacancy_of_child = _best_repair(problem, units, relaxation.flow)
    value = objective_of(problem, vacancy_of_child)
    choice = choice_from_children(units, vacancy_of_child)
    placed = choice >= 0
    unit_value[placed] = units.pair_points[choice[placed]]
    if problem.split_penalty is not None and problem.split_penalty > 0:
        penalties = group_penalties(problem, vacancy_of_child)
        for group, penalty in zip(units.soft_groups, penalties.tolist(), strict=True):
            unit_value[group[0]] -= penalty
    return Incumbent(
        vacancy_of_child=vacancy_of_child, value=value, choice=choice, unit_value=unit_value
    )


def choice_from_children(
    units: UnitModel, vacancy_of_child: npt.NDArray[np.int32]
) -> npt.NDArray[np.int64]:
    """Unit-pair choice per unit from a child-level assignment that respects the units."""
    first = np.array([m[0] for m in units.members], dtype=np.int64)
    vac = vacancy_of_child[first].astype(np.int64) if len(first) else np.zeros(0, np.int64)
    return pair_lookup(
        units.pair_unit, units.pair_vacancy, np.arange(units.n_units, dtype=np.int64), vac
    )


def choice_from_flow(units: UnitModel, flow: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Unit-pair choice of units that the flow places whole in one vacancy."""
    choice = np.full(units.n_units, -1, dtype=np.int64)
    whole = np.flatnonzero(flow == units.size[units.pair_unit])
    choice[units.pair_unit[whole]] = whole
    return choice


class _PlacedSoFar:
    """What the greedy repair has placed so far, against beds and household rules.

    (Not :class:`matcher.match`'s household index arrays: this is the repair's state.)
    """

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
    state = _PlacedSoFar(problem)
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


def _best_repair(
    problem: AssignmentProblem, units: UnitModel, flow: FlowResult
) -> npt.NDArray[np.int32]:
    """The best feasible assignment found from the relaxation (child level)."""
    n = problem.n_children
    if problem.hard_units:
        choice = _repair(problem, units, flow.flow, flow.beta, units.scale)
        return units.vacancy_of_child(choice, n)
    if problem.has_household_rules:
        # The relaxation may break household rules: repair child by child, and as units.
        apart = units.vacancy_of_child(_repair(problem, units, None, flow.beta, 1), n)
        hard = build_units(problem, hard=True)
        together = hard.vacancy_of_child(_repair(problem, hard, None, flow.beta, 1), n)
        if objective_of(problem, together) > objective_of(problem, apart):
            return together
        return apart
    # Split-penalty mode: the relaxation itself is feasible; placing groups whole may pay
    # less penalty. Keep the better (the flow on a tie).
    as_flow = units.vacancy_of_child(choice_from_flow(units, flow.flow), n)
    if not problem.sibling_groups or not problem.split_penalty:
        return as_flow
    hard = build_units(problem, hard=True)
    together = hard.vacancy_of_child(_repair(problem, hard, None, flow.beta, 1), n)
    if objective_of(problem, together) > objective_of(problem, as_flow):
        return together
    return as_flow
