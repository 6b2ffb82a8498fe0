"""The household-hull path (matcher.optimiser.hull): exact, and used where it applies.

Fostering-shaped instances: vacancies of 1-3 beds, each its own household with a room of
at most 3 (Sch. 7; exempt when it fosters nobody now), sibling groups of 2-3 as hard units,
a placement base that makes every child worth placing. Brute force and the CP-SAT path
must agree with the hull path, and the validator must accept every answer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from matcher.optimiser import AssignmentProblem, SolverParameters, check_solution, hull, solve
from matcher.optimiser.hull import applies
from tests.matcher.optimiser.optimiser_bruteforce import brute_force

BASE = 1_000_000
#: the hull for every component however small (by default only from 5,000 pairs)
HULL = SolverParameters(household_hull=True, household_hull_min_pairs=0)


def _fostering(seed: int, n_children: int = 7, n_vacancies: int = 5) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    beds = rng.integers(1, 4, size=n_vacancies)
    room = np.minimum(rng.integers(1, 4, size=n_vacancies), 3)
    exempt = rng.random(n_vacancies) < 0.6
    pairs = [(c, v) for c in range(n_children) for v in range(n_vacancies) if rng.random() < 0.7]
    groups: list[tuple[int, ...]] = []
    first = 0
    for size in rng.permutation([2, 3, 2])[: rng.integers(1, 3)]:
        if first + size <= n_children:
            groups.append(tuple(range(first, first + size)))
            first += size
    return AssignmentProblem.from_arrays(
        n_children=n_children,
        capacity=beds,
        pair_child=[c for c, _ in pairs],
        pair_vacancy=[v for _, v in pairs],
        pair_points=[BASE + int(rng.integers(1, 300)) for _ in pairs],
        sibling_groups=groups,
        vacancy_group=np.arange(n_vacancies),
        group_capacity=room,
        group_siblings_exempt=exempt,
        vacancy_household=np.arange(n_vacancies),
        pair_exclusive=[False] * len(pairs),
    )


@pytest.mark.parametrize("seed", range(80))
def test_the_hull_path_agrees_with_brute_force_and_cpsat(seed: int) -> None:
    problem = _fostering(seed)
    optimum, _ = brute_force(problem)
    hull = solve(problem, HULL)
    cpsat = solve(problem, SolverParameters(household_hull=False))
    assert check_solution(problem, hull) == []
    assert hull.status == "optimal"
    assert hull.objective == hull.bound == optimum == cpsat.objective
    assert cpsat.stats["components_hull"] == 0
    # by default a component this small goes to CP-SAT
    assert solve(problem, SolverParameters()).stats["components_hull"] == 0


def test_the_hull_path_is_taken_where_it_applies() -> None:
    used = [int(solve(_fostering(seed), HULL).stats["components_hull"]) for seed in range(80)]
    # the instances above would test nothing if the hull path were never taken
    assert sum(u > 0 for u in used) >= 8


def test_a_bigger_fostering_component_is_proven_by_the_hull() -> None:
    problem = _fostering(7, n_children=60, n_vacancies=45)
    hull = solve(problem, HULL)
    cpsat = solve(problem, SolverParameters(household_hull=False, time_limit_s=60))
    assert check_solution(problem, hull) == []
    assert hull.status == "optimal"
    assert cpsat.status == "optimal"
    assert hull.objective == cpsat.objective


def test_the_hull_does_not_apply_to_households_of_four_mixed_beds_or_exclusive_pairs() -> None:
    one = np.array([1], dtype=np.int64)
    unit = np.array([0], dtype=np.int64)
    kwargs = {
        "must_place": np.array([True]),
        "vacancy_group": np.array([0], dtype=np.int64),
        "pair_exclusive": np.array([False]),
        "soft": False,
    }
    sizes = np.array([2], dtype=np.int64)
    assert applies(sizes, np.array([3]), unit, unit, group_capacity=np.array([3]), **kwargs)
    # 4 beds and a room of 4: two sibling units could share it
    assert not applies(sizes, np.array([4]), unit, unit, group_capacity=np.array([4]), **kwargs)
    # 4 beds but a room of 3: at most one sibling unit again
    assert applies(sizes, np.array([4]), unit, unit, group_capacity=np.array([3]), **kwargs)
    exclusive = {**kwargs, "pair_exclusive": np.array([True])}
    assert not applies(sizes, np.array([3]), unit, unit, group_capacity=np.array([3]), **exclusive)
    unplaced = {**kwargs, "must_place": np.array([False])}
    assert not applies(sizes, np.array([3]), unit, unit, group_capacity=np.array([3]), **unplaced)
    assert not applies(one, np.array([3]), unit, unit, group_capacity=np.array([3]), **kwargs)


#: the dive and the hull for every component however small
DIVE_HULL = SolverParameters(
    household_hull=True, household_hull_min_pairs=0, flow_dive=True, flow_dive_min_pairs=0
)


@pytest.mark.parametrize("seed", range(60))
def test_more_children_than_beds_the_count_is_proven_and_brute_force_agrees(seed: int) -> None:
    # fewer beds than children: not every unit can be placed, so the hull needs the count
    problem = _fostering(100 + seed, n_children=8, n_vacancies=3)
    optimum, _ = brute_force(problem)
    solution = solve(problem, DIVE_HULL)
    assert check_solution(problem, solution) == []
    assert solution.status == "optimal"
    assert solution.objective == solution.bound == optimum
    assert solve(problem, SolverParameters(flow_dive=False)).objective == optimum


def test_the_hull_with_a_proven_count_is_taken() -> None:
    stats = [solve(_fostering(100 + s, 8, 3), DIVE_HULL).stats for s in range(60)]
    # the cases above would test nothing if no component went the hull way with its count
    assert sum(int(s["components_hull_count"]) > 0 for s in stats) >= 5
    assert sum(int(s["components_dived"]) > 0 for s in stats) >= 20


def test_the_hull_applies_to_optional_units_only_with_a_proven_count() -> None:
    unit = np.array([0], dtype=np.int64)
    kwargs = {
        "must_place": np.array([False]),
        "vacancy_group": np.array([0], dtype=np.int64),
        "group_capacity": np.array([3]),
        "pair_exclusive": np.array([False]),
        "soft": False,
    }
    sizes, beds = np.array([2], dtype=np.int64), np.array([3])
    assert not applies(sizes, beds, unit, unit, **kwargs)
    assert applies(sizes, beds, unit, unit, placed=2, **kwargs)


@pytest.mark.parametrize("seed", range(40))
def test_the_hull_bound_holds_for_any_duals(seed: int) -> None:
    """The Lagrangian bound (units and modes kept, every other row priced) is valid for
    any duals, and a pair of an optimum never loses more than the bound's slack."""
    import time

    from matcher.optimiser.hull import _hull_duals, _mixed_capacity, _Model
    from matcher.optimiser.units import build_units

    problem = _fostering(300 + seed, n_children=7, n_vacancies=4)
    optimum, best = brute_force(problem)
    units = build_units(problem, hard=True)
    assert problem.vacancy_group is not None and problem.group_capacity is not None
    assert problem.group_siblings_exempt is not None
    capacity = problem.capacity.astype(np.int64)
    group = problem.vacancy_group.astype(np.int64)
    mixed = _mixed_capacity(capacity, group, problem.group_capacity.astype(np.int64))
    model = _Model(
        units.size,
        capacity,
        units.pair_unit,
        units.pair_vacancy,
        units.pair_points,
        mixed,
        problem.group_siblings_exempt[group],
        np.zeros(units.n_units, dtype=np.bool_),  # nobody must be placed: exact as it is
    )
    rng = np.random.default_rng(seed)
    used = [
        int(
            np.flatnonzero((units.pair_unit == units.unit_of_child[c]) & (units.pair_vacancy == v))[
                0
            ]
        )
        for c, v in enumerate(best)
        if v >= 0
    ]
    priced = _hull_duals(model, None, time.perf_counter() + 60)
    assert priced is not None
    for scale in (None, 0.0, 1.0, 1e3, 1e6):
        if scale is None:  # the LP's own duals: the bound is tight there
            duals = priced[0]
        else:
            duals = rng.normal(0.0, scale, size=len(model.lo)) if scale else np.zeros(len(model.lo))
        bound, loss = model.lagrangian(-model.cost, duals)
        assert bound >= optimum - 1e-6
        for i in used:
            assert bound - loss[i] >= optimum - 1e-6 * max(1.0, scale or 0.0)


def _homes(seed: int, n_children: int = 7, n_vacancies: int = 4) -> AssignmentProblem:
    """Children's homes: 1-4 beds, some homes of two vacancies, no Sch. 7 groups, some
    children solo-only (every pair of theirs exclusive), a sibling group now and then."""
    rng = np.random.default_rng(seed)
    beds = rng.integers(1, 5, size=n_vacancies)
    household = np.arange(n_vacancies)
    household[1::3] = household[0::3][: len(household[1::3])]  # some two-vacancy homes
    pairs = [(c, v) for c in range(n_children) for v in range(n_vacancies) if rng.random() < 0.7]
    solo = rng.random(n_children) < 0.35
    groups = [(0, 1)] if rng.random() < 0.5 else []
    return AssignmentProblem.from_arrays(
        n_children=n_children,
        capacity=beds,
        pair_child=[c for c, _ in pairs],
        pair_vacancy=[v for _, v in pairs],
        pair_points=[BASE + int(rng.integers(1, 300)) for _ in pairs],
        sibling_groups=groups,
        vacancy_group=np.full(n_vacancies, -1),
        group_capacity=np.zeros(0, dtype=np.int64),
        group_siblings_exempt=np.zeros(0, dtype=np.bool_),
        vacancy_household=household,
        pair_exclusive=[bool(solo[c]) for c, _ in pairs],
    )


@pytest.mark.parametrize("seed", range(60))
def test_homes_with_solo_placements_agree_with_brute_force(seed: int) -> None:
    problem = _homes(400 + seed)
    optimum, _ = brute_force(problem)
    solution = solve(problem, DIVE_HULL)
    assert check_solution(problem, solution) == []
    assert solution.status == "optimal"
    assert solution.objective == solution.bound == optimum


def test_the_solo_households_path_is_taken() -> None:
    stats = [solve(_homes(400 + s), DIVE_HULL).stats for s in range(60)]
    # the cases above would test nothing if no component went the households' way
    assert sum(int(s["components_exclusive"]) > 0 for s in stats) >= 5


def test_a_component_over_the_size_limit_keeps_its_warm_start_and_says_so() -> None:
    problem = _fostering(7, n_children=60, n_vacancies=45)
    exact = solve(problem, SolverParameters(household_hull=False, flow_dive=False))
    limited = solve(
        problem, SolverParameters(household_hull=False, flow_dive=False, cpsat_max_pairs=1)
    )
    assert check_solution(problem, limited) == []
    assert exact.status == "optimal"
    # the instance needs a search: below the limit CP-SAT ran, above it nothing did
    assert int(exact.stats["components_cpsat"]) >= 1
    assert int(limited.stats["components_cpsat"]) == 0
    assert limited.objective <= exact.objective <= limited.bound
    if limited.status != "optimal":
        assert limited.stats["stopped_by"] == "size_limit"
    with pytest.raises(ValueError, match="cpsat_max_pairs"):
        SolverParameters(cpsat_max_pairs=-1)


@pytest.mark.parametrize("seed", range(40))
def test_residual_slabs_below_a_target_set_too_high_reach_the_optimum(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first target 3 points above the hull bound: HiGHS searches only solutions worth
    the target (its cut-off), finds none, and the slabs below (1, 2, 4, ... points) follow
    until the optimum is proven."""
    monkeypatch.setattr(hull, "FIRST_STEP", -3)
    problem = _fostering(seed, n_children=8, n_vacancies=6)
    optimum, _ = brute_force(problem)
    solution = solve(problem, HULL)
    assert check_solution(problem, solution) == []
    assert solution.status == "optimal"
    assert solution.objective == solution.bound == optimum
    if solution.stats["components_hull"]:
        assert solution.stats["hull_rounds"] >= 2


def test_a_hull_stopped_by_the_clock_leaves_cpsat_only_what_is_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the clock stops the hull's LP (it then returns nothing), CP-SAT gets only what
    is left of the time limit, not the whole of it again, and an unproven result says the
    wall clock stopped it. (A pooled match once ran 128 s against its 120 s net and called
    itself stopped by the deterministic work limit.)"""
    import time

    from matcher.optimiser import components

    limit = 0.3
    taken = [s for s in range(80) if solve(_fostering(s), HULL).stats["components_hull"]][:4]
    assert taken  # the hull path is taken on some of these instances

    def clock_stops_the_lp(*args: object, **kwargs: object) -> None:
        time.sleep(limit)  # the LP ran until the deadline and was stopped there
        return None

    given: list[float] = []
    real = components.solve_component

    def cpsat_unfinished(exact: Any, *, time_limit_s: float, **kwargs: Any) -> Any:
        given.append(time_limit_s)
        result = real(exact, time_limit_s=time_limit_s, **kwargs)
        return dataclasses.replace(result, status="unknown")  # as if stopped too

    monkeypatch.setattr(components, "solve_hull", clock_stops_the_lp)
    monkeypatch.setattr(components, "solve_component", cpsat_unfinished)
    params = SolverParameters(
        household_hull=True,
        household_hull_min_pairs=0,
        time_limit_s=limit,  # and the default work limit
    )
    for seed in taken:
        given.clear()
        solution = solve(_fostering(seed), params)
        assert given and all(t <= 0 for t in given), given
        assert solution.status == "feasible"  # CP-SAT did not finish
        assert solution.stats["stopped_by"] == "wall_clock"
        assert check_solution(_fostering(seed), solution) == []
