"""The exact model of one component, solved by CP-SAT.

Build -> solve -> extract. One Boolean per kept (unit, vacancy) candidate; beds as linear
constraints weighted by unit size; at most one vacancy per unit. In split-penalty mode,
each soft group ``g`` adds ``y[g, v] >= x[c, v]`` (the group uses vacancy ``v``) and
``a[g] >= y[g, v]`` (the group is placed at all); the penalty
``split_penalty * (sum_v y[g, v] + (|g| - 1) a[g] - sum_{c in g, v} x[c, v])`` is exactly
the one defined in :mod:`matcher.optimiser.problem` because maximisation pushes ``y`` and
``a`` down to the OR of what they bound.

Households. A capacity group ``G`` of room ``r`` adds ``sum size * x <= r + sum_f (s_f - r)
w[f, G]`` over the pairs in its vacancies, where ``w[f, G]`` (only for an exempt group, and
only for a family ``f`` whose children there number ``s_f > r``) is "family ``f`` has the
household alone": ``w[f, G]`` enforces that no unit of another family is placed in ``G``.
That is exactly the siblings exception (all the children there are of one group). An
exclusive pair ``e`` enforces (``x[e]`` as enforcement literal) that no pair of another
family's unit in its household is chosen.

No OR-Tools type leaves this module.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from matcher.optimiser.params import SolverParameters

__all__ = ["PRESOLVE_MAX_VARIABLES", "ComponentResult", "WorkBudget", "solve_component"]

#: Components with more candidate pairs than this are solved without CP-SAT presolve.
PRESOLVE_MAX_VARIABLES = 20_000


@dataclass(frozen=True, slots=True, eq=False)
class ComponentResult:
    """What CP-SAT found for one component (local indices)."""

    status: str  # "optimal" | "feasible" | "unknown"
    chosen: npt.NDArray[np.bool_]  # per pair
    objective: int
    bound: int
    wall_s: float
    n_variables: int


#: What ended a search, least to most telling: a wall-clock stop makes a result irreproducible.
_STOP_RANK = {"": 0, "gap_limit": 1, "size_limit": 2, "work_limit": 3, "wall_clock": 4}


class WorkBudget:
    """The deterministic work budget of one whole solve, shared by its CP-SAT calls.

    CP-SAT counts its work in *deterministic time* units (``deterministic_time`` of its
    response): with one worker, the same model and parameters use the same amount on any
    machine under any load. Each call gets what the calls before it left, in the caller's
    fixed order, so where a search stops never depends on a clock. ``total == 0`` means no
    work limit (the wall clock alone).
    """

    __slots__ = ("stopped_by", "total", "used")

    def __init__(self, total: float) -> None:
        self.total = total
        self.used = 0.0
        self.stopped_by = ""

    @property
    def remaining(self) -> float:
        """Work left (``inf`` when there is no limit)."""
        return max(self.total - self.used, 0.0) if self.total > 0 else math.inf

    @property
    def exhausted(self) -> bool:
        """``True`` once a limited budget is spent."""
        return self.total > 0 and self.used >= self.total

    def note_stop(self, reason: str) -> None:
        """Record why an unproven search stopped; the wall clock outranks the others."""
        if _STOP_RANK[reason] > _STOP_RANK[self.stopped_by]:
            self.stopped_by = reason


def _runs(keys: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of equal values in a sorted array."""
    if len(keys) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _exclusive_cuts(
    proto: Any,
    size: npt.NDArray[np.int64],
    capacity: npt.NDArray[np.int64],
    pair_unit: npt.NDArray[np.int64],
    pair_vacancy: npt.NDArray[np.int64],
    pair_home: npt.NDArray[np.int64],
    pair_fam: npt.NDArray[np.int64],
    pair_exclusive: npt.NDArray[np.bool_],
    vacancy_household: npt.NDArray[np.int64],
) -> int:
    """Knapsack cuts that make an exclusive pair take all ``B`` beds of its household.

    The enforced constraints are exact but weak in the LP (a fractional exclusive pair
    hardly blocks anybody). For an exclusive unit ``u`` in household ``h`` with ``B`` beds,
    ``sum size * x (other families' pairs in h) + B * sum x (u's exclusive pairs in h) <= B``
    is valid and tight. When nobody in ``h`` shares a family with another unit there, one
    cut per household does for all: exclusive pairs weigh ``B``, the others their size.
    Returns the number of constraints added.
    """
    beds = np.bincount(vacancy_household, weights=capacity, minlength=int(pair_home.max()) + 1)
    added = 0
    for h in np.unique(pair_home[pair_exclusive]).tolist():
        at = np.flatnonzero(pair_home == h)
        b = int(beds[h])
        units_at = pair_unit[at]
        fams = pair_fam[at]
        # does any family have two or more units here?
        pairs_of = np.unique(np.stack([fams, units_at]), axis=1)
        shared = len(np.unique(pairs_of[0])) < pairs_of.shape[1]
        if not shared:
            weights = np.where(pair_exclusive[at], b, size[units_at])
            constraint = proto.constraints.add().linear
            constraint.vars.extend(at.tolist())
            constraint.coeffs.extend(weights.tolist())
            constraint.domain.extend([0, b])
            added += 1
            continue
        for u in np.unique(units_at[pair_exclusive[at]]).tolist():
            mine = at[(units_at == u) & pair_exclusive[at]]
            fam_u = pair_fam[mine[0]]
            others = at[fams != fam_u]
            constraint = proto.constraints.add().linear
            constraint.vars.extend(others.tolist() + mine.tolist())
            constraint.coeffs.extend(size[pair_unit[others]].tolist() + [b] * len(mine))
            constraint.domain.extend([0, b])
            added += 1
    return added


def _configure(
    solver: cp_model.CpSolver,
    params: SolverParameters,
    seconds: float,
    n_pairs: int,
    budget: WorkBudget,
) -> None:
    p = solver.parameters
    p.num_workers = params.num_workers
    p.random_seed = params.seed
    p.max_time_in_seconds = max(seconds, 0.01)
    p.relative_gap_limit = params.relative_gap
    p.log_search_progress = params.log_search
    # CP-SAT's presolve took 14 s on a 139,000-Boolean component and removed 4 % of it;
    # the LP and search need no help from it on these models.
    p.cp_model_presolve = n_pairs <= PRESOLVE_MAX_VARIABLES
    if budget.total > 0:
        p.max_deterministic_time = max(budget.remaining, 1e-6)


def _run(
    model: cp_model.CpModel,
    params: SolverParameters,
    seconds: float,
    n_pairs: int,
    budget: WorkBudget,
) -> tuple[Any, cp_model.CpSolver]:
    """Solve once within the wall-clock ``seconds`` and the work budget; record both."""
    solver = cp_model.CpSolver()
    _configure(solver, params, seconds, n_pairs, budget)
    status = solver.solve(model)
    budget.used += float(solver.response_proto.deterministic_time)
    if status != cp_model.OPTIMAL and status != cp_model.INFEASIBLE:
        limit = solver.parameters.max_time_in_seconds
        if solver.wall_time >= 0.95 * limit or budget.total <= 0:
            budget.note_stop("wall_clock")
        else:
            budget.note_stop("work_limit")
    elif status == cp_model.OPTIMAL and params.relative_gap > 0:
        budget.note_stop("gap_limit")
    return status, solver


def _exact_bound(solver: cp_model.CpSolver) -> int:
    """CP-SAT's proven upper bound on the maximised objective, exactly.

    Every objective here is written as CP-SAT's ``maximize`` writes it: the negated
    coefficients, minimised, with scaling factor -1 and no offset. The integer lower bound
    of that inner objective is exact at any size, where ``best_objective_bound`` is a double
    and rounds above 2**53 (a pooled nation's points reach about 2**55).
    """
    return -int(solver.response_proto.inner_objective_lower_bound)


def _lex_key(
    chosen: npt.NDArray[np.bool_],
    size_of_pair: npt.NDArray[np.int64],
    residual: npt.NDArray[np.int64],
) -> tuple[int, int]:
    return int(size_of_pair[chosen].sum()), int(residual[chosen].sum())


def _solve_lexicographic(
    model: cp_model.CpModel,
    x: list[int],
    size_of_pair: npt.NDArray[np.int64],
    pair_points: npt.NDArray[np.int64],
    runs: list[tuple[int, int]],
    *,
    hint: npt.NDArray[np.bool_] | None,
    upper_bound: int | None,
    params: SolverParameters,
    deadline: float,
    budget: WorkBudget,
) -> tuple[str, npt.NDArray[np.bool_], int, int] | None:
    """Solve in two exact phases when the points have a dominant per-child base.

    With ``base = min(points // size)`` and ``residual = points - base * size``, if
    ``base`` exceeds the largest total residual any assignment can collect, then placing
    one more child beats any residual, so the optimum maximises the children placed
    ``N`` first and then the residual ``R`` with ``N`` fixed: ``objective = base * N + R``.
    Both phases have small coefficients, so CP-SAT's floating-point LP bound can prove them
    (with coefficients of ~6e7 per child it stalled a few dozen points above the optimum).
    Returns ``None`` when the condition does not hold (the caller solves one objective).
    """
    n_pairs = len(x)
    base = int((pair_points // size_of_pair).min())
    residual = pair_points - base * size_of_pair
    most = sum(int(residual[s:e].max()) for s, e in runs)
    if base <= most or base <= 0:
        return None
    proto = model.proto

    def objective(coeffs: list[int]) -> None:
        proto.clear_objective()
        proto.objective.vars.extend(x)
        proto.objective.coeffs.extend([-c for c in coeffs])
        proto.objective.scaling_factor = -1.0

    def bound_constraint(coeffs: list[int], low: int, high: int) -> None:
        constraint = proto.constraints.add().linear
        constraint.vars.extend(x)
        constraint.coeffs.extend(coeffs)
        constraint.domain.extend([low, high])

    sizes = size_of_pair.tolist()
    total = int(size_of_pair.sum())
    if hint is not None:
        proto.solution_hint.vars.extend(x)
        proto.solution_hint.values.extend(hint.astype(np.int64).tolist())
        hint_n = int(size_of_pair[hint].sum())
        bound_constraint(sizes, hint_n, max(total, hint_n))
    # phase 1: the most children placed; objective = base * N + R with R >= 0, so the
    # caller's bound caps N, and a hint that reaches that cap needs no search
    most_placed = total if upper_bound is None else min(total, upper_bound // base)
    if hint is not None and int(size_of_pair[hint].sum()) >= most_placed:
        status, first = cp_model.OPTIMAL, hint.copy()
    else:
        objective(sizes)
        status, solver = _run(model, params, deadline - time.perf_counter(), n_pairs, budget)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        first = np.asarray(solver.response_proto.solution, dtype=np.int64)[:n_pairs] > 0
        if status != cp_model.OPTIMAL and _exact_bound(solver) < most_placed:
            most_placed = _exact_bound(solver)
        elif status == cp_model.OPTIMAL:
            most_placed = int(size_of_pair[first].sum())
    placed = int(size_of_pair[first].sum())
    if hint is not None and _lex_key(hint, size_of_pair, residual) > _lex_key(
        first, size_of_pair, residual
    ):
        first, placed = hint.copy(), int(size_of_pair[hint].sum())
    if status != cp_model.OPTIMAL and placed < most_placed:
        value = base * placed + int(residual[first].sum())
        bound = max(value, base * most_placed + most)
        if upper_bound is not None:
            bound = max(value, min(bound, upper_bound))
        return ("optimal" if bound == value else "feasible", first, value, bound)
    # phase 2: the most residual points with that many children placed
    bound_constraint(sizes, placed, placed)
    if hint is not None and int(size_of_pair[hint].sum()) == placed:
        floor = int(residual[hint].sum())
        bound_constraint(residual.tolist(), floor, max(int(residual.sum()), floor))
    proto.clear_solution_hint()
    proto.solution_hint.vars.extend(x)
    proto.solution_hint.values.extend(first.astype(np.int64).tolist())
    objective(residual.tolist())
    status, solver = _run(model, params, deadline - time.perf_counter(), n_pairs, budget)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = np.asarray(solver.response_proto.solution, dtype=np.int64)[:n_pairs] > 0
        got = int(residual[chosen].sum())
        if int(residual[first].sum()) > got:  # never worse than phase 1's answer
            chosen, got = first, int(residual[first].sum())
        most_r = got if status == cp_model.OPTIMAL else _exact_bound(solver)
    else:
        chosen, got, most_r = first, int(residual[first].sum()), most
    value = base * placed + got
    bound = max(value, base * placed + max(most_r, got))
    if upper_bound is not None:
        bound = max(value, min(bound, upper_bound))
    return ("optimal" if bound == value else "feasible", chosen, value, bound)


def solve_component(
    size: npt.NDArray[np.int64],
    capacity: npt.NDArray[np.int64],
    pair_unit: npt.NDArray[np.int64],
    pair_vacancy: npt.NDArray[np.int64],
    pair_points: npt.NDArray[np.int64],
    *,
    soft_groups: tuple[npt.NDArray[np.int64], ...] = (),
    split_penalty: int = 0,
    hint: npt.NDArray[np.bool_] | None = None,
    lower_bound: int | None = None,
    upper_bound: int | None = None,
    must_place: npt.NDArray[np.bool_] | None = None,
    must_fill: npt.NDArray[np.bool_] | None = None,
    vacancy_group: npt.NDArray[np.int64] | None = None,
    group_capacity: npt.NDArray[np.int64] | None = None,
    group_exempt: npt.NDArray[np.bool_] | None = None,
    vacancy_household: npt.NDArray[np.int64] | None = None,
    family: npt.NDArray[np.int64] | None = None,
    pair_exclusive: npt.NDArray[np.bool_] | None = None,
    params: SolverParameters,
    time_limit_s: float,
    budget: WorkBudget | None = None,
) -> ComponentResult:
    """Maximise the component's objective exactly.

    Parameters
    ----------
    size, capacity
        Per unit and per vacancy (local indices).
    pair_unit, pair_vacancy, pair_points
        Candidate pairs (local indices).
    soft_groups, split_penalty
        Split-penalty mode: the units of each group and the penalty.
    hint
        A feasible choice of pairs to start from (``AddHint``).
    lower_bound
        The objective of a known feasible solution: the model asks for at least this
        (valid, as some optimum reaches it; ties are kept).
    upper_bound
        A proven bound (from the LP), used to clip CP-SAT's bound.
    must_place
        Per unit: every optimum places it (proven by the caller), so the model asks for
        exactly one vacancy and subtracts the unit's least coefficient as a constant.
    must_fill
        Per vacancy: every optimum fills all its beds (proven by the caller).
    vacancy_group, group_capacity, group_exempt
        Capacity groups (local numbers, ``-1``: none), their room and whether one family
        alone may exceed it.
    vacancy_household, family, pair_exclusive
        Household of each vacancy (local keys), family of each unit (``-1``: none) and the
        exclusive pairs.
    params
        Workers, seed, gap, logging.
    time_limit_s
        Budget for building and solving; CP-SAT's ``max_time_in_seconds`` is what building
        left of it.
    budget
        The solve's deterministic work budget (shared with the other components); a new
        one of ``params.deterministic_time_limit`` if not given.
    """
    started = time.perf_counter()
    if budget is None:
        budget = WorkBudget(params.deterministic_time_limit)
    # The model is written straight into its proto (variables are integers 0, 1, ...):
    # building 139,000 Booleans and their objective as Python expressions took ~3 s.
    model = cp_model.CpModel()
    proto = model.proto
    n_pairs = len(pair_unit)

    def new_bools(count: int) -> list[int]:
        first = len(proto.variables)
        for _ in range(count):
            proto.variables.add().domain.extend([0, 1])
        return list(range(first, first + count))

    def linear(variables: list[int], weights: list[int], low: int, high: int) -> None:
        constraint = proto.constraints.add().linear
        constraint.vars.extend(variables)
        constraint.coeffs.extend(weights)
        constraint.domain.extend([low, high])

    def implication(a: int, b: int) -> None:
        constraint = proto.constraints.add()
        constraint.enforcement_literal.append(a)
        constraint.bool_and.literals.append(b)

    x = new_bools(n_pairs)
    coefficient = pair_points.astype(np.int64).copy()

    # at most one vacancy per unit (pairs are sorted by unit); exactly one for a unit that
    # every optimum places
    runs = _runs(pair_unit)
    placed_units = np.zeros(len(size), dtype=np.bool_) if must_place is None else must_place
    for s, e in runs:
        if placed_units[pair_unit[s]]:
            proto.constraints.add().exactly_one.literals.extend(x[s:e])
        elif e - s > 1:
            proto.constraints.add().at_most_one.literals.extend(x[s:e])
    # beds
    by_vacancy = np.argsort(pair_vacancy, kind="stable")
    v_sorted = pair_vacancy[by_vacancy]
    for s, e in _runs(v_sorted):
        idx = by_vacancy[s:e]
        weights = size[pair_unit[idx]]
        v = int(v_sorted[s])
        cap = int(capacity[v])
        if must_fill is not None and must_fill[v]:
            linear(idx.tolist(), weights.tolist(), cap, cap)
        elif int(weights.sum()) > cap:
            linear(idx.tolist(), weights.tolist(), 0, cap)

    n_household_constraints = 0
    if family is None:
        family = np.full(len(size), -1, dtype=np.int64)
    # a unit's "family key": its sibling group, or a key of its own
    fam_key = np.where(family >= 0, family, -1 - np.arange(len(size), dtype=np.int64))
    pair_fam = fam_key[pair_unit] if n_pairs else np.zeros(0, np.int64)
    if vacancy_group is not None and group_capacity is not None and n_pairs:
        pair_group = vacancy_group[pair_vacancy]
        by_group = np.argsort(pair_group, kind="stable")
        g_sorted = pair_group[by_group]
        for s, e in _runs(g_sorted):
            g = int(g_sorted[s])
            if g < 0:
                continue
            idx = by_group[s:e]
            weights = size[pair_unit[idx]]
            room = int(group_capacity[g])
            extra_vars: list[int] = []
            extra_coefs: list[int] = []
            if group_exempt is not None and group_exempt[g]:
                fams = pair_fam[idx]
                for f in np.unique(fams[fams >= 0]).tolist():
                    mine = idx[fams == f]
                    children_there = int(size[np.unique(pair_unit[mine])].sum())
                    if children_there <= room:
                        continue
                    (alone,) = new_bools(1)
                    others = idx[fams != f]
                    constraint = proto.constraints.add()
                    constraint.enforcement_literal.append(alone)
                    constraint.linear.vars.extend(others.tolist())
                    constraint.linear.coeffs.extend([1] * len(others))
                    constraint.linear.domain.extend([0, 0])
                    extra_vars.append(alone)
                    extra_coefs.append(-(children_there - room))
                    n_household_constraints += 1
            if int(weights.sum()) > room:
                linear(
                    idx.tolist() + extra_vars,
                    weights.tolist() + extra_coefs,
                    sum(extra_coefs),
                    room,
                )
                n_household_constraints += 1
    if pair_exclusive is not None and vacancy_household is not None and pair_exclusive.any():
        pair_home = vacancy_household[pair_vacancy]
        n_household_constraints += _exclusive_cuts(
            proto,
            size,
            capacity,
            pair_unit,
            pair_vacancy,
            pair_home,
            pair_fam,
            pair_exclusive,
            vacancy_household,
        )
        for e in np.flatnonzero(pair_exclusive).tolist():
            others = np.flatnonzero((pair_home == pair_home[e]) & (pair_fam != pair_fam[e]))
            if len(others) == 0:
                continue
            constraint = proto.constraints.add()
            constraint.enforcement_literal.append(x[e])
            constraint.linear.vars.extend(others.tolist())
            constraint.linear.coeffs.extend([1] * len(others))
            constraint.linear.domain.extend([0, 0])
            n_household_constraints += 1

    penalty_vars: list[int] = []
    penalty_coefs: list[int] = []
    hint_extra: list[tuple[int, int]] = []
    if soft_groups and split_penalty > 0:
        for units in soft_groups:
            (placed_any,) = new_bools(1)
            in_group = np.flatnonzero(np.isin(pair_unit, units))
            coefficient[in_group] += split_penalty
            vac_pairs: dict[int, list[int]] = {}
            for i in in_group.tolist():
                vac_pairs.setdefault(int(pair_vacancy[i]), []).append(i)
            any_hint = False
            for _, members in sorted(vac_pairs.items()):
                (uses,) = new_bools(1)
                for i in members:
                    implication(x[i], uses)
                implication(uses, placed_any)
                penalty_vars.append(uses)
                penalty_coefs.append(split_penalty)
                if hint is not None:
                    used = bool(hint[members].any())
                    any_hint |= used
                    hint_extra.append((uses, int(used)))
            penalty_vars.append(placed_any)
            penalty_coefs.append(split_penalty * (len(units) - 1))
            if hint is not None:
                hint_extra.append((placed_any, int(any_hint)))

    # A unit that is placed in every optimum contributes the least of its coefficients
    # whatever it gets: take that out as a constant, so that CP-SAT's LP sees coefficients
    # of the size of the differences that matter (the statutory bases are far larger).
    n_vars = n_pairs + len(penalty_vars)
    if not penalty_vars and n_pairs and params.relative_gap == 0.0:
        lexicographic = _solve_lexicographic(
            model,
            x,
            size[pair_unit],
            pair_points,
            runs,
            hint=hint,
            upper_bound=upper_bound,
            params=params,
            deadline=started + time_limit_s,
            budget=budget,
        )
        if lexicographic is not None:
            status_name, chosen, value, bound = lexicographic
            return ComponentResult(
                status=status_name,
                chosen=chosen,
                objective=value,
                bound=bound,
                wall_s=time.perf_counter() - started,
                n_variables=n_vars,
            )
    offset = 0
    for s, e in runs:
        if placed_units[pair_unit[s]]:
            least = int(coefficient[s:e].min())
            coefficient[s:e] -= least
            offset += least
    variables = x + penalty_vars
    weights_all = coefficient.tolist() + [-c for c in penalty_coefs]
    # a lexicographic attempt that found nothing may have left its objective and hint
    proto.clear_objective()
    proto.clear_solution_hint()
    proto.objective.vars.extend(variables)
    proto.objective.coeffs.extend([-w for w in weights_all])
    proto.objective.scaling_factor = -1.0  # maximise, as CpModel.maximize encodes it
    if lower_bound is not None:
        floor = lower_bound - offset
        linear(variables, weights_all, floor, max(sum(w for w in weights_all if w > 0), floor))
    if hint is not None:
        proto.solution_hint.vars.extend(x + [v for v, _ in hint_extra])
        proto.solution_hint.values.extend(
            hint.astype(np.int64).tolist() + [value for _, value in hint_extra]
        )

    status, solver = _run(
        model, params, time_limit_s - (time.perf_counter() - started), n_pairs, budget
    )
    wall = time.perf_counter() - started
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.asarray(solver.response_proto.solution, dtype=np.int64)
        chosen = values[:n_pairs] > 0
        # in integers: the doubles CP-SAT reports round above 2**53 (a pooled nation)
        value = int(np.dot(np.asarray(weights_all, dtype=np.int64), values[variables])) + offset
        bound = _exact_bound(solver) + offset
        if upper_bound is not None:
            bound = min(bound, upper_bound)
        proven = status == cp_model.OPTIMAL and params.relative_gap == 0.0
        if proven:
            bound = value
        bound = max(bound, value)
        return ComponentResult(
            status="optimal" if bound == value else "feasible",
            chosen=chosen,
            objective=value,
            bound=bound,
            wall_s=wall,
            n_variables=n_vars,
        )
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT: model invalid: {model.validate()}")
    if status == cp_model.INFEASIBLE:
        # all-unplaced is feasible, and the lower bound is met by the hint: a bug
        raise RuntimeError("CP-SAT: component reported infeasible")
    return ComponentResult(
        status="unknown",
        chosen=np.zeros(n_pairs, dtype=np.bool_),
        objective=0,
        bound=upper_bound if upper_bound is not None else int(pair_points.sum()),
        wall_s=wall,
        n_variables=n_vars,
    )
