"""The techniques one by one: LP duals, components, units, CP-SAT path, limits, summary."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from optimiser_bruteforce import brute_force
from optimiser_strategies import tiny_problems

from matcher.optimiser import AssignmentProblem, SolverParameters, check_solution, solve
from matcher.optimiser.flow import max_weight_flow
from matcher.optimiser.instances import SMOKE, random_problem
from matcher.optimiser.units import build_units, connected_components


@given(tiny_problems())
def test_flow_duals_certify_the_relaxation_and_bound_the_optimum(
    problem: AssignmentProblem,
) -> None:
    units = build_units(problem)
    gain = units.pair_points * units.scale // units.size[units.pair_unit]
    result = max_weight_flow(
        units.size, problem.capacity, units.pair_unit, units.pair_vacancy, gain
    )
    assert (result.alpha >= 0).all() and (result.beta >= 0).all()
    assert (result.reduced_cost >= 0).all()
    # complementary slackness: arcs with flow have zero reduced cost
    assert (result.reduced_cost[result.flow > 0] == 0).all()
    dual = (units.size * result.alpha).sum() + (problem.capacity * result.beta).sum()
    assert dual == result.value == (gain * result.flow).sum()
    # flow respects supplies and beds
    assert (
        np.bincount(units.pair_vacancy, result.flow * 1, problem.n_vacancies) <= problem.capacity
    ).all()
    if problem.split_penalty is None or problem.split_penalty == 0:
        assert result.value // units.scale >= brute_force(problem)[0]


@given(tiny_problems(households=True))
def test_flow_with_household_groups_has_certified_duals_and_bounds_the_optimum(
    problem: AssignmentProblem,
) -> None:
    from matcher.optimiser.relax import relaxed_group_capacity as _relaxed_group_capacity

    assert problem.vacancy_group is not None
    units = build_units(problem)
    gain = units.pair_points * units.scale // units.size[units.pair_unit]
    room = _relaxed_group_capacity(problem, units)
    group = problem.vacancy_group.astype(np.int64)
    result = max_weight_flow(
        units.size,
        problem.capacity,
        units.pair_unit,
        units.pair_vacancy,
        gain,
        right_group=group,
        group_capacity=room,
    )
    assert result.gamma is not None and (result.gamma >= 0).all()
    assert (result.reduced_cost >= 0).all()
    assert (result.reduced_cost[result.flow > 0] == 0).all()
    dual = (
        (units.size * result.alpha).sum()
        + (problem.capacity * result.beta).sum()
        + (room * result.gamma).sum()
    )
    assert dual == result.value == (gain * result.flow).sum()
    # the flow respects each group's (relaxed) room
    into = np.bincount(units.pair_vacancy, result.flow * 1, problem.n_vacancies)
    for g in range(len(room)):
        assert into[group == g].sum() <= room[g]
    if problem.split_penalty is None or problem.split_penalty == 0:
        assert result.value // units.scale >= brute_force(problem)[0]


def test_hard_units_pool_their_members_pairs() -> None:
    problem = AssignmentProblem.from_arrays(
        4,
        [2, 1, 3],
        [0, 0, 0, 1, 1, 2, 3],
        [0, 1, 2, 0, 1, 2, 2],
        [5, 6, 7, 1, 2, 9, 4],
        sibling_groups=[(0, 1)],
    )
    units = build_units(problem)
    # group (0, 1) is unit 0: vacancy 0 (5 + 1) only; vacancy 1 has one bed, 2 lacks child 1
    assert units.size.tolist() == [2, 1, 1] and units.scale == 2
    assert units.members == ((0, 1), (2,), (3,))
    assert list(zip(units.pair_unit.tolist(), units.pair_vacancy.tolist(), strict=True)) == [
        (0, 0),
        (1, 2),
        (2, 2),
    ]
    assert units.pair_points.tolist() == [6, 9, 4]


@given(tiny_problems(max_children=6, max_vacancies=4))
def test_components_match_networkx(problem: AssignmentProblem) -> None:
    n, m = problem.n_children, problem.n_vacancies
    a = problem.pair_child.astype(np.int64)
    b = problem.pair_vacancy.astype(np.int64) + n
    labels = connected_components(n + m, a, b)
    graph = nx.Graph()
    graph.add_nodes_from(range(n + m))
    graph.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    expected = np.empty(n + m, dtype=np.int64)
    for component in nx.connected_components(graph):
        expected[list(component)] = min(component)
    assert labels.tolist() == expected.tolist()


@pytest.mark.parametrize("split_penalty", [None, 0, 500])
def test_a_county_shaped_instance_every_technique_agrees(split_penalty: int | None) -> None:
    problem = random_problem(120, 18, 110, 4000, seed=0, split_penalty=split_penalty)
    full = solve(problem)
    plain = solve(
        problem,
        SolverParameters(use_flow_warm_start=False, reduced_cost_fixing=False, decompose=False),
    )
    assert full.status == plain.status == "optimal"
    assert full.objective == plain.objective == full.bound
    assert check_solution(problem, full) == [] and check_solution(problem, plain) == []
    stats = full.stats
    assert stats["pairs_kept"] < stats["unit_pairs"] or split_penalty == 0
    assert int(stats["components"]) >= 1
    assert stats["lp_bound"] >= full.objective >= stats["incumbent"]
    if split_penalty != 0:
        assert int(stats["components_cpsat"]) >= 1  # the exact model is exercised


def test_the_same_seed_gives_the_same_assignment_on_a_county_shaped_instance() -> None:
    problem = random_problem(**SMOKE, seed=4)
    params = SolverParameters(num_workers=2, seed=11)
    runs = [solve(problem, params) for _ in range(3)]
    assert all(np.array_equal(r.vacancy_of_child, runs[0].vacancy_of_child) for r in runs)
    assert len({(r.objective, r.bound) for r in runs}) == 1


def test_without_sibling_groups_the_flow_alone_is_exact() -> None:
    problem = random_problem(**SMOKE, seed=1)
    plain = AssignmentProblem(
        n_children=problem.n_children,
        capacity=problem.capacity,
        pair_child=problem.pair_child,
        pair_vacancy=problem.pair_vacancy,
        pair_points=problem.pair_points,
    )
    solution = solve(plain)
    assert solution.status == "optimal"
    assert solution.stats["solver"] == "flow" and solution.stats["components_cpsat"] == 0
    assert solution.objective == solution.stats["lp_bound"]


def test_a_tiny_time_limit_still_returns_a_valid_answer() -> None:
    problem = random_problem(300, 40, 280, 20_000, seed=2)
    solution = solve(problem, SolverParameters(time_limit_s=0.001, num_workers=1))
    assert check_solution(problem, solution) == []
    assert solution.status in ("optimal", "feasible")
    assert solution.objective <= solution.bound <= solution.stats["lp_bound"]
    assert solution.objective >= solution.stats["incumbent"]


def test_summary_reports_status_bound_and_method() -> None:
    problem = random_problem(**SMOKE, seed=0)
    solution = solve(problem, SolverParameters(seed=5))
    text = solution.text()
    assert text.splitlines()[0] == "status     optimal (gap 0.0000%)"
    assert f"objective  {solution.objective}" in text
    assert f"placed     {solution.n_placed} of {problem.n_children} children" in text
    assert "seed 5, 1 worker)" in text
    assert solution.gap == 0.0
    assert all(isinstance(v, int | float | str) for v in solution.stats.values())


def test_statutory_bases_are_taken_out_of_the_exact_model() -> None:
    problem = random_problem(120, 18, 110, 4000, seed=1, statutory_bases=True)
    full = solve(problem)
    plain = solve(
        problem,
        SolverParameters(use_flow_warm_start=False, reduced_cost_fixing=False, decompose=False),
    )
    assert full.status == plain.status == "optimal"
    assert full.objective == plain.objective
    # units the LP proves placed in every optimum go to CP-SAT as "exactly one vacancy"
    assert int(full.stats["units_must_place"]) > 0
    assert int(full.stats["components_cpsat"]) >= 1


def test_single_objective_fallback_after_a_fruitless_lexicographic_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the two-phase solve finds nothing, the one-objective model still starts clean."""
    import matcher.optimiser.cpsat as cpsat

    def fruitless(model: object, x: list[int], *args: object, **kwargs: object) -> None:
        proto = model.proto  # type: ignore[attr-defined]
        # an objective left behind (here one that would make placing anybody a loss)
        proto.objective.vars.extend(x)
        proto.objective.coeffs.extend([5000] * len(x))
        proto.solution_hint.vars.extend(x)
        proto.solution_hint.values.extend([0] * len(x))
        return None

    monkeypatch.setattr(cpsat, "_solve_lexicographic", fruitless)
    # three siblings and two strangers; one household of room 3 (exempt) and a solo child
    problem = AssignmentProblem.from_arrays(
        5,
        [3, 2, 1],
        [0, 1, 2, 0, 1, 2, 3, 3, 4, 4],
        [0, 0, 0, 1, 1, 1, 0, 2, 1, 2],
        [1009, 1008, 1007, 1003, 1002, 1001, 1005, 1004, 1006, 1002],
        sibling_groups=[(0, 1, 2)],
        vacancy_group=[0, 0, -1],
        group_capacity=[2],
        group_siblings_exempt=[True],
        vacancy_household=[0, 0, 1],
        pair_exclusive=[False] * 8 + [True, False],
    )
    optimum, _ = brute_force(problem)
    solution = solve(problem, SolverParameters(num_workers=1, use_flow_warm_start=False))
    assert solution.objective == optimum == solution.bound
    assert check_solution(problem, solution) == []


def test_a_deterministic_limit_stops_the_search_at_the_same_place_every_time() -> None:
    # CP-SAT alone (no warm start or decomposition), so that the search does real work.
    problem = random_problem(300, 40, 280, 20_000, seed=2)
    plain = SolverParameters(
        time_limit_s=60, use_flow_warm_start=False, reduced_cost_fixing=False, decompose=False
    )
    unlimited = solve(problem, plain)
    assert unlimited.status == "optimal"
    params = dataclasses.replace(plain, deterministic_time_limit=0.01)
    runs = [solve(problem, params) for _ in range(2)]
    # the work limit, not the clock, stopped it: not proven, and the same answer both times
    assert {r.status for r in runs} == {"feasible"}
    assert runs[0].objective < unlimited.objective
    assert np.array_equal(runs[0].vacancy_of_child, runs[1].vacancy_of_child)
    assert (runs[0].objective, runs[0].bound) == (runs[1].objective, runs[1].bound)
    assert all(check_solution(problem, r) == [] for r in runs)
    assert params.to_mapping()["deterministic_time_limit"] == 0.01
    assert {r.stats["stopped_by"] for r in runs} == {"work_limit"}
    assert runs[0].stats["work_used"] == runs[1].stats["work_used"] >= 0.01
    assert unlimited.stats["stopped_by"] == ""
    assert "stopped by work_limit" in runs[0].text()


def test_a_search_the_wall_clock_stops_says_so() -> None:
    problem = random_problem(300, 40, 280, 20_000, seed=2)
    params = SolverParameters(
        time_limit_s=0.02,
        deterministic_time_limit=0.0,  # the clock alone
        use_flow_warm_start=False,
        reduced_cost_fixing=False,
        decompose=False,
    )
    solution = solve(problem, params)
    assert solution.status == "feasible"
    assert solution.stats["stopped_by"] == "wall_clock"
    assert "stopped by wall_clock" in solution.text()
    assert check_solution(problem, solution) == []


def test_a_negative_deterministic_limit_is_refused() -> None:
    with pytest.raises(ValueError, match=r"deterministic_time_limit: expected a number >= 0"):
        SolverParameters(deterministic_time_limit=-1.0)


def test_components_are_labelled_by_their_smallest_node() -> None:
    """Repeated edges, self-loops and edges given high node first all label by the minimum."""
    a = np.array([5, 1, 4, 3, 5], dtype=np.int64)
    b = np.array([1, 3, 4, 1, 3], dtype=np.int64)
    assert connected_components(7, a, b).tolist() == [0, 1, 2, 1, 4, 1, 6]
    assert connected_components(3, a[:0], b[:0]).tolist() == [0, 1, 2]
