"""Solve an :class:`~matcher.optimiser.problem.AssignmentProblem` to proven optimality.

The pipeline (docs/optimiser.md), every step exact or proven, each a function returning a
frozen result:

0. **Units.** Hard sibling groups become units (:func:`~matcher.optimiser.units.build_units`).
1. **Relax.** The LP relaxation of the unit model is a transportation problem (a unit may
   send part of its children to several vacancies); min-cost flow solves it exactly and
   gives an upper bound, LP duals and reduced costs
   (:func:`~matcher.optimiser.relax.relax` -> ``Relaxation``).
2. **Incumbent.** Units placed whole by the flow keep their vacancy; the other units are
   placed greedily at their best vacancy by LP-priced profit; then the single children
   are placed by an exact min-cost flow on the beds that are left. This incumbent is the
   lower bound and the CP-SAT hint
   (:func:`~matcher.optimiser.incumbent.find_incumbent` -> ``Incumbent``).
3. **Fix.** A pair with reduced cost ``rc`` is in no solution better than
   ``bound - rc``; pairs with ``rc > bound - incumbent`` are in no optimum and are
   dropped (:func:`~matcher.optimiser.decompose.fix` -> ``Fixing``).
4. **Decompose.** Connected components of the kept units <-> vacancies graph (soft
   sibling groups link their members) are independent problems
   (:func:`~matcher.optimiser.decompose.decompose` -> ``Decomposition``); fixing again
   with each component's own gap (:func:`~matcher.optimiser.decompose.fix_by_component`)
   and decomposing again repeats until nothing more is dropped.
5. **Solve components.** Without sibling units (or with a zero split penalty) the LP is
   integral and the flow's part is optimal. Otherwise, if the incumbent meets the
   component's LP bound it is optimal; else a flow dive, the household models or CP-SAT
   (:mod:`matcher.optimiser.cpsat`) solve the component's exact model from the hint
   (:func:`~matcher.optimiser.components.solve_components` -> ``Components``).
6. **Canonicalise.** The children outside sibling groups are re-placed by one exact
   min-cost flow, so the answer never depends on which worker found it
   (:func:`canonicalise` -> ``Canonical``).

Objective and bound add up over components. The validator
(:func:`~matcher.optimiser.validate.check_solution`) runs before anything is returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matcher.optimiser.components import ComponentInputs, solve_components
from matcher.optimiser.decompose import decompose, fix, fix_by_component
from matcher.optimiser.flow import max_weight_flow
from matcher.optimiser.incumbent import find_incumbent
from matcher.optimiser.params import SolverParameters
from matcher.optimiser.problem import AssignmentProblem, pair_lookup
from matcher.optimiser.relax import relax
from matcher.optimiser.solution import Solution
from matcher.optimiser.units import build_units
from matcher.optimiser.validate import check_solution, objective_of

__all__ = ["Canonical", "canonicalise", "solve"]


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
        Validated by :func:`~matcher.optimiser.validate.check_solution`.

    Raises
    ------
    RuntimeError
        If the validator rejects the answer (a bug; never a wrong answer silently).
    """
    if params is None:
        params = SolverParameters()
    timer = _Timer()
    units = build_units(problem)
    timer.lap("units")
    relaxation = relax(problem, units)
    timer.lap("flow")
    incumbent = find_incumbent(problem, units, relaxation, params)
    timer.lap("repair")
    fixing = fix(units, relaxation, incumbent, params)
    timer.lap("fixing")
    rounds = 0
    while True:
        rounds += 1
        parts = decompose(problem, units, relaxation, incumbent, fixing.kept, params)
        timer.lap("decompose")
        if not (fixing.active and params.decompose):
            break
        refixed = fix_by_component(units, relaxation, parts)
        timer.lap("fixing")
        if len(refixed.kept) == len(fixing.kept):
            break
        fixing = refixed
    components = solve_components(
        ComponentInputs(problem, units, relaxation, incumbent, fixing, parts, params, timer.elapsed)
    )
    vacancy_of_child = units.vacancy_of_child(components.choice, problem.n_children)
    timer.lap("cpsat")
    vacancy_of_child = canonicalise(problem, vacancy_of_child).vacancy_of_child
    timer.lap("canonical")
    objective = objective_of(problem, vacancy_of_child)
    bound = min(components.bound, relaxation.lp_bound)
    status = "optimal" if objective == bound else "feasible"
    timer.lap("extract")
    budget, counts = components.budget, components.counts
    stats: dict[str, float | int | str] = {
        "children": problem.n_children,
        "vacancies": problem.n_vacancies,
        "pairs": problem.n_pairs,
        "sibling_groups": len(problem.sibling_groups),
        "units": units.n_units,
        "unit_pairs": len(units.pair_unit),
        "pairs_kept": len(fixing.kept),
        "lp_bound": relaxation.lp_bound,
        "incumbent": incumbent.value,
        **counts,
        "bellman_ford_rounds": relaxation.flow.bellman_ford_rounds,
        "fixing_rounds": rounds,
        "units_must_place": components.units_must_place,
        "vacancies_must_fill": components.vacancies_must_fill,
        "solver": "flow"
        + ("+hull" if counts["components_hull"] else "")
        + ("+cpsat" if counts["components_cpsat"] else ""),
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


@dataclass(frozen=True, slots=True, eq=False)
class Canonical:
    """Step 6's answer.

    Attributes
    ----------
    vacancy_of_child
        ``int32 [n_children]``: the vacancy of each child, ``-1`` if unplaced.
    reflowed
        The children the flow placed afresh: those outside sibling groups and exclusive
        pairs that have a pair (0 when there are none: the answer is the one given).
    """

    vacancy_of_child: npt.NDArray[np.int32]
    reflowed: int


def canonicalise(problem: AssignmentProblem, vacancy_of_child: npt.NDArray[np.int32]) -> Canonical:
    """Step 6: re-place the children outside sibling groups by one exact min-cost flow.

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
        at = pair_lookup(problem.pair_child, problem.pair_vacancy, placed, out[placed])
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
        return Canonical(out, 0)
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
    return Canonical(out, len(children))
