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

Shape: :class:`Component` is the one parameter block (the component's arrays and what the
caller proved about it); :class:`ComponentModel` is the variable container, with one
method per constraint family (one vacancy per unit, beds, capacity groups, exclusive pairs,
split penalties) and the objective; :func:`solve_component` builds it, solves (in two
lexicographic phases when the points allow) and extracts a :class:`ComponentResult`.

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

__all__ = [
    "PRESOLVE_MAX_VARIABLES",
    "Component",
    "ComponentModel",
    "ComponentResult",
    "WorkBudget",
    "solve_component",
]

#: Components with more candidate pairs than this are solved without CP-SAT presolve.
PRESOLVE_MAX_VARIABLES = 20_000


@dataclass(frozen=True, slots=True, eq=False)
class Component:
    """One component's exact model: its data and what the caller has proven (local indices).

    Attributes
    ----------
    size, capacity
        Per unit and per vacancy.
    pair_unit, pair_vacancy, pair_points
        Candidate pairs, sorted by unit.
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
    """

    size: npt.NDArray[np.int64]
    capacity: npt.NDArray[np.int64]
    pair_unit: npt.NDArray[np.int64]
    pair_vacancy: npt.NDArray[np.int64]
    pair_points: npt.NDArray[np.int64]
    soft_groups: tuple[npt.NDArray[np.int64], ...] = ()
    split_penalty: int = 0
    hint: npt.NDArray[np.bool_] | None = None
    lower_bound: int | None = None
    upper_bound: int | None = None
    must_place: npt.NDArray[np.bool_] | None = None
    must_fill: npt.NDArray[np.bool_] | None = None
    vacancy_group: npt.NDArray[np.int64] | None = None
    group_capacity: npt.NDArray[np.int64] | None = None
    group_exempt: npt.NDArray[np.bool_] | None = None
    vacancy_household: npt.NDArray[np.int64] | None = None
    family: npt.NDArray[np.int64] | None = None
    pair_exclusive: npt.NDArray[np.bool_] | None = None

    @property
    def n_pairs(self) -> int:
        """Number of candidate pairs (the model's first Booleans)."""
        return len(self.pair_unit)


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


class ComponentModel:
    """The CP-SAT variables of one component, with one method per constraint family.

    The model is written straight into its proto (variables are integers 0, 1, ...):
    building 139,000 Booleans and their objective as Python expressions took ~3 s. The
    first ``n_pairs`` variables are the pairs' Booleans ``x``; the constraint families add
    theirs after them, in the order :func:`solve_component` calls them.
    """

    def __init__(self, component: Component) -> None:
        self.component = component
        self.model = cp_model.CpModel()
        self.proto = self.model.proto
        self.x = self.new_bools(component.n_pairs)
        #: the objective coefficient of each pair (points, plus a soft group's penalty)
        self.coefficient = component.pair_points.astype(np.int64).copy()
        #: ``(start, end)`` of each unit's pairs (pairs are sorted by unit)
        self.runs = _runs(component.pair_unit)
        self.placed_units = (
            np.zeros(len(component.size), dtype=np.bool_)
            if component.must_place is None
            else component.must_place
        )
        family = component.family
        if family is None:
            family = np.full(len(component.size), -1, dtype=np.int64)
        # a unit's "family key": its sibling group, or a key of its own
        fam_key = np.where(family >= 0, family, -1 - np.arange(len(component.size), dtype=np.int64))
        self.pair_fam = fam_key[component.pair_unit] if component.n_pairs else np.zeros(0, np.int64)
        self.n_household_constraints = 0
        #: the split-penalty variables, their penalties and hinted values
        self.penalty_vars: list[int] = []
        self.penalty_coefs: list[int] = []
        self.hint_extra: list[tuple[int, int]] = []

    @property
    def n_variables(self) -> int:
        """The pairs' Booleans and the split-penalty variables."""
        return self.component.n_pairs + len(self.penalty_vars)

    def new_bools(self, count: int) -> list[int]:
        """``count`` new Boolean variables."""
        first = len(self.proto.variables)
        for _ in range(count):
            self.proto.variables.add().domain.extend([0, 1])
        return list(range(first, first + count))

    def linear(self, variables: list[int], weights: list[int], low: int, high: int) -> None:
        """``low <= sum weights * variables <= high``."""
        constraint = self.proto.constraints.add().linear
        constraint.vars.extend(variables)
        constraint.coeffs.extend(weights)
        constraint.domain.extend([low, high])

    def implication(self, a: int, b: int) -> None:
        """``a => b``."""
        constraint = self.proto.constraints.add()
        constraint.enforcement_literal.append(a)
        constraint.bool_and.literals.append(b)

    def add_one_vacancy_per_unit(self) -> None:
        """At most one vacancy per unit; exactly one for a unit every optimum places."""
        x, pair_unit = self.x, self.component.pair_unit
        for s, e in self.runs:
            if self.placed_units[pair_unit[s]]:
                self.proto.constraints.add().exactly_one.literals.extend(x[s:e])
            elif e - s > 1:
                self.proto.constraints.add().at_most_one.literals.extend(x[s:e])

    def add_beds(self) -> None:
        """The children placed in a vacancy fit its beds (fill them all where proven)."""
        c = self.component
        by_vacancy = np.argsort(c.pair_vacancy, kind="stable")
        v_sorted = c.pair_vacancy[by_vacancy]
        for s, e in _runs(v_sorted):
            idx = by_vacancy[s:e]
            weights = c.size[c.pair_unit[idx]]
            v = int(v_sorted[s])
            cap = int(c.capacity[v])
            if c.must_fill is not None and c.must_fill[v]:
                self.linear(idx.tolist(), weights.tolist(), cap, cap)
            elif int(weights.sum()) > cap:
                self.linear(idx.tolist(), weights.tolist(), 0, cap)

    def add_capacity_groups(self) -> None:
        """A capacity group holds its room, or one family alone where it is exempt."""
        c = self.component
        if c.vacancy_group is None or c.group_capacity is None or not c.n_pairs:
            return
        size, pair_unit = c.size, c.pair_unit
        pair_group = c.vacancy_group[c.pair_vacancy]
        by_group = np.argsort(pair_group, kind="stable")
        g_sorted = pair_group[by_group]
        for s, e in _runs(g_sorted):
            g = int(g_sorted[s])
            if g < 0:
                continue
            idx = by_group[s:e]
            weights = size[pair_unit[idx]]
            room = int(c.group_capacity[g])
            extra_vars: list[int] = []
            extra_coefs: list[int] = []
            if c.group_exempt is not None and c.group_exempt[g]:
                fams = self.pair_fam[idx]
                for f in np.unique(fams[fams >= 0]).tolist():
                    mine = idx[fams == f]
                    children_there = int(size[np.unique(pair_unit[mine])].sum())
                    if children_there <= room:
                        continue
                    (alone,) = self.new_bools(1)
                    others = idx[fams != f]
                    constraint = self.proto.constraints.add()
                    constraint.enforcement_literal.append(alone)
                    constraint.linear.vars.extend(others.tolist())
                    constraint.linear.coeffs.extend([1] * len(others))
                    constraint.linear.domain.extend([0, 0])
                    extra_vars.append(alone)
                    extra_coefs.append(-(children_there - room))
                    self.n_household_constraints += 1
            if int(weights.sum()) > room:
                self.linear(
                    idx.tolist() + extra_vars,
                    weights.tolist() + extra_coefs,
                    sum(extra_coefs),
                    room,
                )
                self.n_household_constraints += 1

    def add_exclusive_pairs(self) -> None:
        """A child placed through an exclusive pair shares its household with no other
        family (with the knapsack cuts that make this tight)."""
        c = self.component
        if c.pair_exclusive is None or c.vacancy_household is None or not c.pair_exclusive.any():
            return
        pair_home = c.vacancy_household[c.pair_vacancy]
        pair_fam = self.pair_fam
        self.n_household_constraints += _exclusive_cuts(
            self.proto,
            c.size,
            c.capacity,
            c.pair_unit,
            c.pair_vacancy,
            pair_home,
            pair_fam,
            c.pair_exclusive,
            c.vacancy_household,
        )
        for e in np.flatnonzero(c.pair_exclusive).tolist():
            others = np.flatnonzero((pair_home == pair_home[e]) & (pair_fam != pair_fam[e]))
            if len(others) == 0:
                continue
            constraint = self.proto.constraints.add()
            constraint.enforcement_literal.append(self.x[e])
            constraint.linear.vars.extend(others.tolist())
            constraint.linear.coeffs.extend([1] * len(others))
            constraint.linear.domain.extend([0, 0])
            self.n_household_constraints += 1

    def add_split_penalties(self) -> None:
        """Split-penalty mode: a soft group pays for each extra vacancy it uses and for each
        of its children left unplaced once any is placed."""
        c = self.component
        if not (c.soft_groups and c.split_penalty > 0):
            return
        split_penalty, hint = c.split_penalty, c.hint
        for units in c.soft_groups:
            (placed_any,) = self.new_bools(1)
            in_group = np.flatnonzero(np.isin(c.pair_unit, units))
            self.coefficient[in_group] += split_penalty
            vac_pairs: dict[int, list[int]] = {}
            for i in in_group.tolist():
                vac_pairs.setdefault(int(c.pair_vacancy[i]), []).append(i)
            any_hint = False
            for _, members in sorted(vac_pairs.items()):
                (uses,) = self.new_bools(1)
                for i in members:
                    self.implication(self.x[i], uses)
                self.implication(uses, placed_any)
                self.penalty_vars.append(uses)
                self.penalty_coefs.append(split_penalty)
                if hint is not None:
                    used = bool(hint[members].any())
                    any_hint |= used
                    self.hint_extra.append((uses, int(used)))
            self.penalty_vars.append(placed_any)
            self.penalty_coefs.append(split_penalty * (len(units) - 1))
            if hint is not None:
                self.hint_extra.append((placed_any, int(any_hint)))

    def set_objective(self) -> tuple[list[int], list[int], int]:
        """Maximise the points less the penalties, from the hint, at least the lower bound.

        A unit that is placed in every optimum contributes the least of its coefficients
        whatever it gets: that is taken out as a constant, so that CP-SAT's LP sees
        coefficients of the size of the differences that matter (the statutory bases are
        far larger). Returns the objective's variables, weights and that constant.
        """
        c, proto, coefficient = self.component, self.proto, self.coefficient
        offset = 0
        for s, e in self.runs:
            if self.placed_units[c.pair_unit[s]]:
                least = int(coefficient[s:e].min())
                coefficient[s:e] -= least
                offset += least
        variables = self.x + self.penalty_vars
        weights_all = coefficient.tolist() + [-p for p in self.penalty_coefs]
        # a lexicographic attempt that found nothing may have left its objective and hint
        proto.clear_objective()
        proto.clear_solution_hint()
        proto.objective.vars.extend(variables)
        proto.objective.coeffs.extend([-w for w in weights_all])
        proto.objective.scaling_factor = -1.0  # maximise, as CpModel.maximize encodes it
        if c.lower_bound is not None:
            floor = c.lower_bound - offset
            self.linear(
                variables, weights_all, floor, max(sum(w for w in weights_all if w > 0), floor)
            )
        if c.hint is not None:
            proto.solution_hint.vars.extend(self.x + [v for v, _ in self.hint_extra])
            proto.solution_hint.values.extend(
                c.hint.astype(np.int64).tolist() + [value for _, value in self.hint_extra]
            )
        return variables, weights_all, offset


def solve_component(
    component: Component,
    *,
    params: SolverParameters,
    time_limit_s: float,
    budget: WorkBudget | None = None,
) -> ComponentResult:
    """Maximise the component's objective exactly.

    Parameters
    ----------
    component
        The component's data and what the caller has proven about it.
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
    c = component
    n_pairs = c.n_pairs
    cm = ComponentModel(c)
    cm.add_one_vacancy_per_unit()
    cm.add_beds()
    cm.add_capacity_groups()
    cm.add_exclusive_pairs()
    cm.add_split_penalties()

    n_vars = cm.n_variables
    if not cm.penalty_vars and n_pairs and params.relative_gap == 0.0:
        lexicographic = _solve_lexicographic(
            cm.model,
            cm.x,
            c.size[c.pair_unit],
            c.pair_points,
            cm.runs,
            hint=c.hint,
            upper_bound=c.upper_bound,
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
    variables, weights_all, offset = cm.set_objective()

    status, solver = _run(
        cm.model, params, time_limit_s - (time.perf_counter() - started), n_pairs, budget
    )
    wall = time.perf_counter() - started
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.asarray(solver.response_proto.solution, dtype=np.int64)
        chosen = values[:n_pairs] > 0
        # in integers: the doubles CP-SAT reports round above 2**53 (a pooled nation)
        value = int(np.dot(np.asarray(weights_all, dtype=np.int64), values[variables])) + offset
        bound = _exact_bound(solver) + offset
        if c.upper_bound is not None:
            bound = min(bound, c.upper_bound)
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
        raise RuntimeError(f"CP-SAT: model invalid: {cm.model.validate()}")
    if status == cp_model.INFEASIBLE:
        # all-unplaced is feasible, and the lower bound is met by the hint: a bug
        raise RuntimeError("CP-SAT: component reported infeasible")
    return ComponentResult(
        status="unknown",
        chosen=np.zeros(n_pairs, dtype=np.bool_),
        objective=0,
        bound=c.upper_bound if c.upper_bound is not None else int(c.pair_points.sum()),
        wall_s=wall,
        n_variables=n_vars,
    )
