"""Step 5 of :func:`~matcher.optimiser.solve.solve`: each component, solved or proven.

Without sibling units (or with a zero split penalty) a component's LP is integral and the
relaxation's flow is optimal on it. Otherwise, in this order, the first that settles it:

1. the incumbent meets the component's LP bound: it is optimal;
2. a flow dive (:mod:`matcher.optimiser.dive`) finds a better incumbent that meets it;
3. the household models (:mod:`matcher.optimiser.hull`: capacity groups by their convex
   hull, or solo homes) prove it;
4. CP-SAT solves the component's exact model (:mod:`matcher.optimiser.cpsat`) from the hint,
   within what is left of the deterministic work budget.

A component too large for CP-SAT, or reached when the work budget is spent, keeps the
incumbent with its LP bound (unproven, the same on every run). Small components go first,
so one large component cannot starve the small ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from matcher.optimiser.cpsat import Component, WorkBudget, solve_component
from matcher.optimiser.decompose import Decomposition, Fixing, soft_groups
from matcher.optimiser.dive import flow_dive
from matcher.optimiser.hull import applies as hull_applies
from matcher.optimiser.hull import applies_exclusive as hull_applies_exclusive
from matcher.optimiser.hull import solve_exclusive, solve_hull
from matcher.optimiser.incumbent import Incumbent, choice_from_flow
from matcher.optimiser.params import SolverParameters
from matcher.optimiser.problem import AssignmentProblem
from matcher.optimiser.relax import Relaxation
from matcher.optimiser.units import UnitModel

__all__ = [
    "CPSAT_MAX_POINTS",
    "HOUSEHOLD_MAX_PAIRS",
    "HULL_START_POINTS",
    "ComponentInputs",
    "Components",
    "solve_components",
]

#: Pairs within this many points of the flow's optimum (reduced cost) start the hull LP.
HULL_START_POINTS = 25

#: The most kept pairs of a component for the household models (hull, solo homes): their
#: LP on the East of England's 3.4 M-pair component took 11-15 s a column-generation round.
HOUSEHOLD_MAX_PAIRS = 500_000


@dataclass(frozen=True, slots=True, eq=False)
class Components:
    """The components' solutions, put together, and how each was settled.

    Attributes
    ----------
    choice
        ``int64 [n_units]``: the unit pair chosen for each unit (``-1``: unplaced).
    bound
        The sum of the components' proven bounds (points).
    budget
        The deterministic work budget, with what the CP-SAT calls used and why a search
        stopped.
    counts
        How many components, and how each was settled (the solution's statistics, in
        their order: ``components``, ``components_flow``, ...
        ``cpsat_largest_model_variables``).
    units_must_place, vacancies_must_fill
        The units and vacancies the LP proved placed and filled in every optimum.
    """

    choice: npt.NDArray[np.int64]
    bound: int
    budget: WorkBudget
    counts: dict[str, int | float] = field(default_factory=dict)
    units_must_place: int = 0
    vacancies_must_fill: int = 0


@dataclass(slots=True)
class _Tally:
    """Counters of the component loop (the statistics of :class:`Components`)."""

    components_incumbent: int = 0
    components_cpsat: int = 0
    components_hull: int = 0
    hull_pairs_kept: int = 0
    hull_rounds: int = 0
    hull_lp_rounds: int = 0
    hull_lp_s: float = 0.0
    hull_mip_s: float = 0.0
    components_dived: int = 0
    components_dive_better: int = 0
    components_hull_count: int = 0
    components_exclusive: int = 0
    cpsat_optimal: int = 0
    cpsat_feasible: int = 0
    cpsat_unknown: int = 0
    largest_model: int = 0
    units_must_place: int = 0
    vacancies_must_fill: int = 0

    def cpsat_status(self, status: str) -> None:
        """Count a CP-SAT outcome (``"optimal"``, ``"feasible"`` or ``"unknown"``)."""
        name = f"cpsat_{status}"
        setattr(self, name, getattr(self, name) + 1)


@dataclass(frozen=True, slots=True, eq=False)
class _Part:
    """One component to search (local numbering of its units, vacancies and groups)."""

    label: int
    units: npt.NDArray[np.int64]  # its units (ascending)
    pairs: npt.NDArray[np.int64]  # its kept unit pairs
    vacancies: npt.NDArray[np.int64]
    local_group: npt.NDArray[np.int64]  # capacity group of each vacancy, local (-1: none)
    group_ids: npt.NDArray[np.int64]  # the problem's number of each local group
    soft_groups: tuple[npt.NDArray[np.int64], ...]  # local units of each soft group
    ub: int  # LP bound (points)
    lb: int  # incumbent value (points)


@dataclass(frozen=True, slots=True, eq=False)
class ComponentInputs:
    """What step 5 takes: the problem and its units, the results of steps 1-4, the
    parameters and the solve's clock (``elapsed()``: seconds so far; each search gets what
    is left of ``params.time_limit_s``)."""

    problem: AssignmentProblem
    units: UnitModel
    relaxation: Relaxation
    incumbent: Incumbent
    fixing: Fixing
    parts: Decomposition
    params: SolverParameters
    elapsed: Callable[[], float]


def solve_components(inputs: ComponentInputs) -> Components:
    """Solve (or prove) every component of ``inputs.parts``."""
    return _Search(inputs).run()


class _Search:
    """The component loop: the state every component's search shares."""

    def __init__(self, inputs: ComponentInputs) -> None:
        problem, units, params = inputs.problem, inputs.units, inputs.params
        incumbent = inputs.incumbent
        assert problem.vacancy_group is not None and problem.group_capacity is not None
        assert problem.group_siblings_exempt is not None
        self.problem = problem
        self.units = units
        self.relaxation = inputs.relaxation
        self.fixing = inputs.fixing.active
        self.parts = inputs.parts
        self.params = params
        self.elapsed = inputs.elapsed
        self.k = units.scale
        self.capacity = problem.capacity.astype(np.int64)
        self.vacancy_group = problem.vacancy_group.astype(np.int64)
        self.group_exempt = problem.group_siblings_exempt
        self.home = problem.household_key()
        self.soft_groups = soft_groups(problem, units)
        # the dive may improve a component's incumbent: a working copy
        self.incumbent = None if incumbent.choice is None else incumbent.choice.copy()
        self.budget = WorkBudget(params.deterministic_time_limit)
        self.tally = _Tally()
        #: the unit pair chosen per unit so far, and the summed bound of the components
        self.choice = np.full(units.n_units, -1, dtype=np.int64)
        self.bound = 0

    def run(self) -> Components:
        units, parts, problem = self.units, self.parts, self.problem
        assert problem.group_capacity is not None
        n_labels = parts.n_labels
        unit_label, kept = parts.unit_label, parts.kept
        needs_search = np.zeros(n_labels, dtype=np.bool_)
        needs_search[unit_label[units.size > 1]] = True
        # the flow ignores exclusive pairs and allows the siblings exception to any family
        needs_search[unit_label[units.pair_unit[kept][units.pair_exclusive[kept]]]] = True
        needs_search[parts.group_label[self.relaxation.relaxed_room > problem.group_capacity]] = (
            True
        )
        for group in self.soft_groups:
            needs_search[unit_label[group[0]]] = True
        has_pairs = np.zeros(n_labels, dtype=np.bool_)
        has_pairs[unit_label[units.pair_unit[kept]]] = True

        # Components without sibling units: the relaxation's flow is an optimal assignment.
        self.choice = choice_from_flow(units, self.relaxation.flow.flow)
        self.choice[needs_search[unit_label]] = -1
        n_components = int(has_pairs.sum())
        components_flow = int((has_pairs & ~needs_search).sum())
        self.bound = int((parts.ub_scaled[has_pairs & ~needs_search] // self.k).sum())

        search = np.flatnonzero(has_pairs & needs_search)
        pair_label = unit_label[units.pair_unit[kept]]
        order = np.argsort(pair_label, kind="stable")
        sorted_labels = pair_label[order]
        # Small components first: each gets what is left of the time limit, so one large
        # component cannot starve the small ones (which are proven in milliseconds).
        comp_size = np.bincount(pair_label, minlength=n_labels)[search] if len(kept) else search
        search = search[np.lexsort((search, comp_size))]
        for label in search.tolist():
            lo, hi = np.searchsorted(sorted_labels, [label, label + 1])
            self._solve(label, kept[order[lo:hi]])

        t = self.tally
        counts: dict[str, int | float] = {
            "components": n_components,
            "components_flow": components_flow,
            "components_incumbent": t.components_incumbent,
            "components_cpsat": t.components_cpsat,
            "components_hull": t.components_hull,
            "hull_pairs_kept": t.hull_pairs_kept,
            "hull_rounds": t.hull_rounds,
            "hull_lp_rounds": t.hull_lp_rounds,
            "time_hull_lp_s": t.hull_lp_s,
            "time_hull_mip_s": t.hull_mip_s,
            "components_dived": t.components_dived,
            "components_dive_better": t.components_dive_better,
            "components_hull_count": t.components_hull_count,
            "components_exclusive": t.components_exclusive,
            "cpsat_optimal": t.cpsat_optimal,
            "cpsat_feasible": t.cpsat_feasible,
            "cpsat_unknown": t.cpsat_unknown,
            "cpsat_largest_model_variables": t.largest_model,
        }
        return Components(
            choice=self.choice,
            bound=self.bound,
            budget=self.budget,
            counts=counts,
            units_must_place=t.units_must_place,
            vacancies_must_fill=t.vacancies_must_fill,
        )

    # ------------------------------------------------------------------ one component

    def _part(self, label: int, pairs: npt.NDArray[np.int64]) -> _Part:
        parts = self.parts
        comp_units = np.flatnonzero(parts.unit_label == label)
        comp_vacs = np.flatnonzero(parts.vacancy_label == label)
        local_group, group_ids = _local_ids(self.vacancy_group[comp_vacs])
        return _Part(
            label=label,
            units=comp_units,
            pairs=pairs,
            vacancies=comp_vacs,
            local_group=local_group,
            group_ids=group_ids,
            soft_groups=tuple(
                np.searchsorted(comp_units, g)
                for g in self.soft_groups
                if parts.unit_label[g[0]] == label
            ),
            ub=int(parts.ub_scaled[label] // self.k),
            lb=int(parts.lb[label]),
        )

    def _settled_by_incumbent(self, part: _Part) -> bool:
        """The incumbent meets the component's LP bound: it is optimal."""
        if self.incumbent is None or part.lb < part.ub:
            return False
        self.choice[part.units] = self.incumbent[part.units]
        self.bound += part.lb
        self.tally.components_incumbent += 1
        return True

    def _keep_incumbent(self, part: _Part, reason: str) -> None:
        """An unsearched component keeps the incumbent's choice and the LP bound
        (unproven)."""
        if self.incumbent is not None:
            self.choice[part.units] = self.incumbent[part.units]
        self.bound += part.ub
        self.budget.note_stop(reason)
        self.tally.cpsat_unknown += 1

    def _solve(self, label: int, pairs: npt.NDArray[np.int64]) -> None:
        part = self._part(label, pairs)
        if self._settled_by_incumbent(part):
            return
        part = self._dive(part)
        if self._settled_by_incumbent(part):
            return
        if self.budget.exhausted:  # no work left
            self._keep_incumbent(part, "work_limit")
            return
        self._search(part)

    def _dive(self, part: _Part) -> _Part:
        """A flow dive for a better incumbent; the smaller gap then fixes more of the
        component's pairs (never the incumbent's: each of its pairs' reduced costs is
        within the gap)."""
        params, units, incumbent = self.params, self.units, self.incumbent
        if (
            not params.flow_dive
            or incumbent is None
            or len(part.pairs) < params.flow_dive_min_pairs
            or part.soft_groups
            or units.pair_exclusive[part.pairs].any()
        ):
            return part
        scaled_rc = self.relaxation.scaled_rc
        # the dive's flows see each unit's cheapest pairs by reduced cost: enough to
        # choose from, and the flows stay small on a pooled region
        dive_pairs = _cheapest_per_unit(
            part.pairs, units.pair_unit, scaled_rc, params.flow_dive_pairs_per_unit
        )
        if params.flow_dive_max_pairs != 0 and len(dive_pairs) > params.flow_dive_max_pairs:
            return part
        assert self.problem.group_capacity is not None
        dived = dive_pairs[
            flow_dive(
                units.size[part.units],
                self.capacity[part.vacancies],
                np.searchsorted(part.units, units.pair_unit[dive_pairs]),
                np.searchsorted(part.vacancies, units.pair_vacancy[dive_pairs]),
                units.pair_points[dive_pairs],
                vacancy_group=part.local_group,
                group_capacity=self.problem.group_capacity[part.group_ids].astype(np.int64),
                group_exempt=self.group_exempt[part.group_ids],
                family=units.family[part.units],
            )
        ]
        dived_value = int(units.pair_points[dived].sum())
        self.tally.components_dived += 1
        if dived_value <= part.lb:
            return part
        self.tally.components_dive_better += 1
        incumbent[part.units] = -1
        incumbent[units.pair_unit[dived]] = dived
        gap_scaled = int(self.parts.ub_scaled[part.label]) - self.k * dived_value
        return replace(part, lb=dived_value, pairs=part.pairs[scaled_rc[part.pairs] <= gap_scaled])

    def _search(self, part: _Part) -> None:
        """The household models, else CP-SAT, on the component's exact model."""
        exact = self._exact_model(part)
        # every search of the component gets what is left of the time limit now
        remaining_time = self.params.time_limit_s - self.elapsed()
        if self._by_households(part, exact, remaining_time):
            return
        # a household model may have been stopped by the clock (its LP returns nothing
        # then): CP-SAT gets what is left now, and the result says the clock had a hand in it
        remaining_time = self.params.time_limit_s - self.elapsed()
        if remaining_time <= 0:
            self.budget.note_stop("wall_clock")
        if 0 < self.params.cpsat_max_pairs < len(part.pairs) or _beyond_cpsat(exact.pair_points):
            # too large for an exact CP-SAT model (building one for the 3.4 million pairs
            # of the East of England's pooled component took most of two minutes), or its
            # coefficients could overflow CP-SAT's 64-bit sums: the incumbent and the LP
            # bound, unproven, the same on every run
            self._keep_incumbent(part, "size_limit")
            return
        self._by_cpsat(part, exact, remaining_time)

    def _exact_model(self, part: _Part) -> Component:
        """The component's exact model in local numbering, with what the relaxation and the
        incumbent prove about it (hint, bounds, units every optimum places, vacancies every
        optimum fills)."""
        units, relax, incumbent, k = self.units, self.relaxation, self.incumbent, self.k
        assert self.problem.group_capacity is not None
        comp_units, comp_pairs, comp_vacs = part.units, part.pairs, part.vacancies
        hint = None
        if incumbent is not None:
            hint = np.zeros(len(comp_pairs), dtype=np.bool_)
            hint[np.isin(comp_pairs, incumbent[comp_units])] = True
        must_place = must_fill = None
        if self.fixing:
            # An unplaced unit u leaves the LP's value at most bound - size * alpha[u]:
            # if that is below the incumbent, every optimum places u.
            gap_scaled = int(self.parts.ub_scaled[part.label]) - k * part.lb
            must_place = units.size[comp_units] * relax.flow.alpha[comp_units] > gap_scaled
            must_place &= np.isin(comp_units, units.pair_unit[comp_pairs])
            self.tally.units_must_place += int(must_place.sum())
            # Likewise each empty bed of vacancy v costs beta[v]: if one empty bed already
            # falls below the incumbent, every optimum fills v.
            must_fill = relax.flow.beta[comp_vacs] > gap_scaled
            self.tally.vacancies_must_fill += int(must_fill.sum())
        local_home, _ = _local_ids(self.home[comp_vacs])
        return Component(
            units.size[comp_units],
            self.capacity[comp_vacs],
            np.searchsorted(comp_units, units.pair_unit[comp_pairs]).astype(np.int64),
            np.searchsorted(comp_vacs, units.pair_vacancy[comp_pairs]).astype(np.int64),
            units.pair_points[comp_pairs],
            soft_groups=part.soft_groups,
            split_penalty=self.problem.split_penalty or 0,
            hint=hint,
            lower_bound=part.lb if incumbent is not None else None,
            upper_bound=part.ub,
            must_place=must_place,
            must_fill=must_fill,
            vacancy_group=part.local_group,
            group_capacity=self.problem.group_capacity[part.group_ids].astype(np.int64),
            group_exempt=self.group_exempt[part.group_ids],
            vacancy_household=local_home,
            family=units.family[comp_units],
            pair_exclusive=units.pair_exclusive[comp_pairs],
        )

    def _by_households(self, part: _Part, exact: Component, remaining_time: float) -> bool:
        """Settle the component by the household models (capacity groups by their convex
        hull, or solo homes) when they apply; ``False`` when they do not."""
        units, params, incumbent, tally = self.units, self.params, self.incumbent, self.tally
        if not (
            params.household_hull
            and params.household_hull_min_pairs <= len(part.pairs) <= HOUSEHOLD_MAX_PAIRS
            and incumbent is not None
            and exact.must_place is not None
        ):
            return False
        assert exact.pair_exclusive is not None and exact.vacancy_household is not None
        assert exact.group_capacity is not None and exact.group_exempt is not None
        count = _proven_count(units, part.pairs, incumbent[part.units], part.ub)
        # the component's units, beds and pairs (local indices), as every solver takes them
        component = (exact.size, exact.capacity, exact.pair_unit, exact.pair_vacancy)
        # the hull LP starts from the pairs the flow prices within a few points of its
        # optimum, and the incumbent's; the rest are priced in
        start = (self.relaxation.scaled_rc[part.pairs] <= HULL_START_POINTS * self.k) | (
            exact.hint if exact.hint is not None else False
        )
        outcome = None
        if hull_applies(
            *component,
            must_place=exact.must_place,
            vacancy_group=exact.vacancy_group,
            group_capacity=exact.group_capacity,
            pair_exclusive=exact.pair_exclusive,
            soft=bool(part.soft_groups),
            placed=count,
        ):
            outcome = solve_hull(
                *component,
                exact.pair_points,
                vacancy_group=exact.vacancy_group,
                group_capacity=exact.group_capacity,
                group_exempt=exact.group_exempt,
                must_place=exact.must_place,
                lower_bound=part.lb,
                upper_bound=part.ub,
                time_limit_s=remaining_time,
                start=start,
                placed=count,
                incumbent=exact.hint,
                cuts=params.hull_zero_half_cuts,
                lazy_rows=params.hull_lazy_rows,
            )
            tally.components_hull_count += int(outcome is not None and not exact.must_place.all())
        elif _lexicographic_base(units, part.pairs) is not None and hull_applies_exclusive(
            exact.pair_exclusive,
            vacancy_group=exact.vacancy_group,
            soft=bool(part.soft_groups),
        ):
            placed_now = incumbent[part.units]
            outcome = solve_exclusive(
                *component,
                exact.pair_points,
                vacancy_household=exact.vacancy_household,
                pair_exclusive=exact.pair_exclusive,
                must_place=exact.must_place,
                incumbent_placed=int(
                    units.size[units.pair_unit[placed_now[placed_now >= 0]]].sum()
                ),
                count_proven=count is not None,
                incumbent=exact.hint,
                cuts=params.hull_zero_half_cuts,
                lazy_rows=params.hull_lazy_rows,
                lower_bound=part.lb,
                upper_bound=part.ub,
                time_limit_s=remaining_time,
                start=start,
            )
            tally.components_exclusive += int(outcome is not None)
        if outcome is None:
            return False
        tally.components_hull += 1
        tally.hull_pairs_kept += outcome.pairs_kept
        tally.hull_rounds += outcome.rounds
        tally.hull_lp_rounds += outcome.lp_rounds
        tally.hull_lp_s += outcome.lp_seconds
        tally.hull_mip_s += outcome.mip_seconds
        if outcome.status == "optimal":
            chosen_pairs = part.pairs[outcome.chosen]
            self.choice[units.pair_unit[chosen_pairs]] = chosen_pairs
            self.bound += outcome.bound
        else:  # stopped by the clock: the incumbent, with the hull's bound
            self.budget.note_stop("wall_clock")
            self.choice[part.units] = incumbent[part.units]
            self.bound += min(outcome.bound, part.ub)
        return True

    def _by_cpsat(self, part: _Part, exact: Component, remaining_time: float) -> None:
        """Solve the component's exact model by CP-SAT, within what is left of the time
        limit and of the work budget."""
        units, tally = self.units, self.tally
        result = solve_component(
            exact,
            params=self.params,
            time_limit_s=remaining_time,
            budget=self.budget,
        )
        tally.components_cpsat += 1
        tally.cpsat_status(result.status)
        tally.largest_model = max(tally.largest_model, result.n_variables)
        if result.status == "unknown":
            if self.incumbent is not None:
                self.choice[part.units] = self.incumbent[part.units]
            self.bound += part.ub
            return
        chosen_pairs = part.pairs[result.chosen]
        self.choice[units.pair_unit[chosen_pairs]] = chosen_pairs
        self.bound += result.bound


# ---------------------------------------------------------------------------- helpers


def _local_ids(
    values: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Renumber ``values`` ``0..`` (``-1`` stays ``-1``); also return the original ids."""
    ids = np.unique(values[values >= 0])
    local = np.full(len(values), -1, dtype=np.int64)
    local[values >= 0] = np.searchsorted(ids, values[values >= 0])
    return local, ids


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
