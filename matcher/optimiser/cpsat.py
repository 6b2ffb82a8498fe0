"""The exact model of one component, solved by CP-SAT.

Build -> solve -> extract. One Boolean per kept (unit, vacancy) candidate; beds as linear
constraints weighted by unit size; at most one vacancy per unit. In split-penalty mode,
each soft group ``g`` adds ``y[g, v] >= x[c, v]`` (the group uses vacancy ``v``) and
``a[g] >= y[g, v]`` (the group is placed at all); the penalty
``split_penalty * (sum_v y[g, v] + (|g| - 1) a[g] - sum_{c in g, v} x[c, v])`` is exactly
the one defined in :mod:`matcher.optimiser.problem` because maximisation pushes ``y`` and
``a`` down to the OR of what they bound.

No OR-Tools type leaves this module.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from matcher.optimiser.params import SolverParameters

__all__ = ["PRESOLVE_MAX_VARIABLES", "ComponentResult", "solve_component"]

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


def _runs(keys: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of equal values in a sorted array."""
    if len(keys) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


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
    params: SolverParameters,
    time_limit_s: float,
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
    params
        Workers, seed, gap, logging.
    time_limit_s
        CP-SAT ``max_time_in_seconds``.
    """
    started = time.perf_counter()
    model = cp_model.CpModel()
    n_pairs = len(pair_unit)
    x = [model.new_bool_var(f"x{i}") for i in range(n_pairs)]
    coefficient = pair_points.astype(np.int64).copy()

    # at most one vacancy per unit (pairs are sorted by unit); exactly one for a unit that
    # every optimum places
    runs = _runs(pair_unit)
    placed_units = np.zeros(len(size), dtype=np.bool_) if must_place is None else must_place
    for s, e in runs:
        if placed_units[pair_unit[s]]:
            model.add_exactly_one(x[s:e])
        elif e - s > 1:
            model.add_at_most_one(x[s:e])
    # beds
    by_vacancy = np.argsort(pair_vacancy, kind="stable")
    v_sorted = pair_vacancy[by_vacancy]
    for s, e in _runs(v_sorted):
        idx = by_vacancy[s:e]
        weights = size[pair_unit[idx]]
        v = int(v_sorted[s])
        cap = int(capacity[v])
        load = cp_model.LinearExpr.weighted_sum([x[i] for i in idx], weights.tolist())
        if must_fill is not None and must_fill[v]:
            model.add(load == cap)
        elif int(weights.sum()) > cap:
            model.add(load <= cap)

    penalty_vars: list[cp_model.IntVar] = []
    penalty_coefs: list[int] = []
    hint_extra: list[tuple[cp_model.IntVar, int]] = []
    if soft_groups and split_penalty > 0:
        unit_of_pair = pair_unit
        for g, units in enumerate(soft_groups):
            placed_any = model.new_bool_var(f"a{g}")
            in_group = np.flatnonzero(np.isin(unit_of_pair, units))
            coefficient[in_group] += split_penalty
            vac_pairs: dict[int, list[int]] = {}
            for i in in_group.tolist():
                vac_pairs.setdefault(int(pair_vacancy[i]), []).append(i)
            any_hint = False
            for v, members in sorted(vac_pairs.items()):
                uses = model.new_bool_var(f"y{g}_{v}")
                for i in members:
                    model.add_implication(x[i], uses)
                model.add_implication(uses, placed_any)
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
    offset = 0
    for s, e in runs:
        if placed_units[pair_unit[s]]:
            least = int(coefficient[s:e].min())
            coefficient[s:e] -= least
            offset += least
    objective = cp_model.LinearExpr.weighted_sum(
        x + penalty_vars, coefficient.tolist() + [-c for c in penalty_coefs]
    )
    model.maximize(objective)
    if lower_bound is not None:
        model.add(objective >= lower_bound - offset)
    if hint is not None:
        for i in range(n_pairs):
            model.add_hint(x[i], bool(hint[i]))
        for var, value in hint_extra:
            model.add_hint(var, value)

    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = params.num_workers
    p.random_seed = params.seed
    p.max_time_in_seconds = max(time_limit_s, 0.01)
    p.relative_gap_limit = params.relative_gap
    p.log_search_progress = params.log_search
    # CP-SAT's presolve took 14 s on a 139,000-Boolean component and removed 4 % of it;
    # the LP and search need no help from it on these models.
    p.cp_model_presolve = n_pairs <= PRESOLVE_MAX_VARIABLES
    status = solver.solve(model)
    wall = time.perf_counter() - started
    n_vars = n_pairs + len(penalty_vars)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = np.array([solver.boolean_value(v) for v in x], dtype=np.bool_)
        # exact: |objective| < 2**53 (points are capped at 2**50 in total)
        value = round(solver.objective_value) + offset
        bound = math.floor(solver.best_objective_bound + 1e-6) + offset
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
