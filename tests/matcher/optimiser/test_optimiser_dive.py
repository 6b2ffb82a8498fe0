"""The flow dive (matcher.optimiser.dive): always feasible, never worse than nothing.

The dive is a heuristic; what it must guarantee is that its assignment keeps every rule
it is given (beds, one pair per unit, capacity groups with the siblings exception), so
that the optimiser can use it as an incumbent. The validator checks that here on
fostering-shaped instances with more children than beds.
"""

from __future__ import annotations

import numpy as np
import pytest

from matcher.optimiser import check_assignment, objective_of
from matcher.optimiser.dive import flow_dive
from matcher.optimiser.units import build_units
from tests.matcher.optimiser.optimiser_bruteforce import brute_force
from tests.matcher.optimiser.test_optimiser_hull import _fostering


def _dive(seed: int, n_children: int, n_vacancies: int) -> tuple[object, np.ndarray]:
    problem = _fostering(seed, n_children=n_children, n_vacancies=n_vacancies)
    units = build_units(problem, hard=True)
    assert problem.vacancy_group is not None and problem.group_capacity is not None
    assert problem.group_siblings_exempt is not None
    chosen = flow_dive(
        units.size,
        problem.capacity.astype(np.int64),
        units.pair_unit,
        units.pair_vacancy,
        units.pair_points,
        vacancy_group=problem.vacancy_group.astype(np.int64),
        group_capacity=problem.group_capacity.astype(np.int64),
        group_exempt=problem.group_siblings_exempt,
        family=units.family,
    )
    per_unit = np.bincount(units.pair_unit[chosen], minlength=units.n_units)
    assert per_unit.max(initial=0) <= 1  # one vacancy per unit
    choice = np.full(units.n_units, -1, dtype=np.int64)
    choice[units.pair_unit[chosen]] = np.flatnonzero(chosen)
    return problem, units.vacancy_of_child(choice, problem.n_children)


@pytest.mark.parametrize("seed", range(60))
def test_the_dive_is_feasible_and_no_better_than_the_optimum(seed: int) -> None:
    problem, vacancy_of_child = _dive(200 + seed, n_children=9, n_vacancies=4)
    assert check_assignment(problem, vacancy_of_child) == []
    optimum, _ = brute_force(problem)
    assert objective_of(problem, vacancy_of_child) <= optimum


def test_the_dive_places_children_on_a_larger_instance() -> None:
    problem, vacancy_of_child = _dive(11, n_children=60, n_vacancies=30)
    assert check_assignment(problem, vacancy_of_child) == []
    # a useless dive (nobody placed) would pass the feasibility test above
    assert (vacancy_of_child >= 0).sum() >= 30


def test_a_component_above_flow_dive_max_pairs_is_not_dived_and_stays_exact() -> None:
    from matcher.optimiser import SolverParameters, check_solution, solve
    from tests.matcher.optimiser.test_optimiser_hull import DIVE_HULL

    dived = 0
    for s in range(20):
        problem = _fostering(100 + s, n_children=8, n_vacancies=3)
        optimum, _ = brute_force(problem)
        capped = solve(
            problem, SolverParameters(**{**DIVE_HULL.to_mapping(), "flow_dive_max_pairs": 1})
        )
        free = solve(
            problem, SolverParameters(**{**DIVE_HULL.to_mapping(), "flow_dive_max_pairs": 0})
        )
        assert check_solution(problem, capped) == [] and check_solution(problem, free) == []
        assert capped.objective == free.objective == optimum
        assert int(capped.stats["components_dived"]) == 0
        dived += int(free.stats["components_dived"]) > 0
    # the cap changes something: without it these components are dived
    assert dived >= 5
