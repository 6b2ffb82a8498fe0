"""The pipeline's steps one by one: each returns a frozen result, and together they are solve."""

from __future__ import annotations

import ast
import dataclasses
import pathlib

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optimiser_bruteforce import brute_force
from optimiser_strategies import tiny_problems

from matcher.optimiser import AssignmentProblem, SolverParameters, check_solution, solve
from matcher.optimiser.components import ComponentInputs, solve_components
from matcher.optimiser.cpsat import Component, ComponentModel, solve_component
from matcher.optimiser.decompose import decompose, fix, fix_by_component
from matcher.optimiser.incumbent import find_incumbent
from matcher.optimiser.instances import SMOKE, random_problem
from matcher.optimiser.problem import pair_lookup
from matcher.optimiser.relax import relax
from matcher.optimiser.solve import canonicalise
from matcher.optimiser.units import build_units

_PARAMS = SolverParameters(num_workers=1)


def _by_steps(problem: AssignmentProblem, params: SolverParameters) -> tuple[object, ...]:
    """The steps run by hand, in the order solve runs them; every result they return."""
    units = build_units(problem)
    relaxation = relax(problem, units)
    incumbent = find_incumbent(problem, units, relaxation, params)
    fixing = fix(units, relaxation, incumbent, params)
    parts = decompose(problem, units, relaxation, incumbent, fixing.kept, params)
    while fixing.active and params.decompose:
        refixed = fix_by_component(units, relaxation, parts)
        if len(refixed.kept) == len(fixing.kept):
            break
        fixing = refixed
        parts = decompose(problem, units, relaxation, incumbent, fixing.kept, params)
    components = solve_components(
        ComponentInputs(problem, units, relaxation, incumbent, fixing, parts, params, lambda: 0.0)
    )
    canonical = canonicalise(problem, units.vacancy_of_child(components.choice, problem.n_children))
    return relaxation, incumbent, fixing, parts, components, canonical


@settings(max_examples=60, deadline=None)
@given(tiny_problems(households=True))
def test_the_steps_run_by_hand_give_solves_answer(problem: AssignmentProblem) -> None:
    *_, components, canonical = _by_steps(problem, _PARAMS)
    solution = solve(problem, _PARAMS)
    assert np.array_equal(canonical.vacancy_of_child, solution.vacancy_of_child)
    assert min(components.bound, solution.stats["lp_bound"]) == solution.bound


def test_the_steps_on_a_county_shaped_problem() -> None:
    problem = random_problem(**SMOKE, seed=3)
    relaxation, incumbent, fixing, parts, components, canonical = _by_steps(problem, _PARAMS)
    solution = solve(problem, _PARAMS)
    assert np.array_equal(canonical.vacancy_of_child, solution.vacancy_of_child)
    assert solution.stats["pairs_kept"] == len(fixing.kept)
    assert solution.stats["incumbent"] == incumbent.value
    assert solution.stats["lp_bound"] == relaxation.lp_bound
    for key, value in components.counts.items():
        if not key.startswith("time_"):
            assert solution.stats[key] == value, key
    # each step's result is frozen
    for result in (relaxation, incumbent, fixing, parts, components, canonical):
        field = dataclasses.fields(result)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, field, None)


def test_canonicalise_keeps_sibling_groups_and_says_how_many_it_reflowed() -> None:
    together = AssignmentProblem.from_arrays(
        n_children=2,
        capacity=[2, 1],
        pair_child=[0, 0, 1, 1],
        pair_vacancy=[0, 1, 0, 1],
        pair_points=[50, 60, 50, 60],
        sibling_groups=[(0, 1)],
    )
    given = np.array([0, 0], dtype=np.int32)
    kept = canonicalise(together, given)
    assert np.array_equal(kept.vacancy_of_child, given) and kept.reflowed == 0
    assert kept.vacancy_of_child is not given  # a copy: the step changes nothing it is given
    alone = dataclasses.replace(together, sibling_groups=())
    moved = canonicalise(alone, given)
    assert moved.reflowed == 2 and sorted(moved.vacancy_of_child.tolist()) == [0, 1]


@given(tiny_problems(households=True))
def test_one_component_model_is_exact(problem: AssignmentProblem) -> None:
    """The whole problem as one CP-SAT component (hard units; no fixing, no hint) is the
    brute-force optimum."""
    if problem.split_penalty:
        return
    units = build_units(problem)
    assert problem.vacancy_group is not None and problem.group_capacity is not None
    assert problem.group_siblings_exempt is not None
    component = Component(
        units.size,
        problem.capacity.astype(np.int64),
        units.pair_unit,
        units.pair_vacancy,
        units.pair_points,
        vacancy_group=problem.vacancy_group.astype(np.int64),
        group_capacity=problem.group_capacity.astype(np.int64),
        group_exempt=problem.group_siblings_exempt,
        vacancy_household=problem.household_key(),
        family=units.family,
        pair_exclusive=units.pair_exclusive,
    )
    result = solve_component(component, params=_PARAMS, time_limit_s=30)
    assert result.status == "optimal"
    assert result.objective == brute_force(problem)[0]


def test_the_component_model_adds_one_family_at_a_time() -> None:
    # two units (one of two children) and two vacancies of one bed each, one household
    component = Component(
        np.array([2, 1]),
        np.array([1, 2]),
        np.array([0, 0, 1, 1]),
        np.array([0, 1, 0, 1]),
        np.array([20, 21, 10, 11]),
        vacancy_group=np.array([0, 0]),
        group_capacity=np.array([2]),
        group_exempt=np.array([False]),
        vacancy_household=np.array([0, 0]),
        pair_exclusive=np.array([False, False, True, False]),
    )
    model = ComponentModel(component)
    assert model.n_variables == 4 and len(model.proto.constraints) == 0
    model.add_one_vacancy_per_unit()
    assert len(model.proto.constraints) == 2
    model.add_beds()  # vacancy 0 (1 bed) is over-asked, vacancy 1 (2 beds) too (2 + 1)
    assert len(model.proto.constraints) == 4
    model.add_capacity_groups()  # 2 + 2 + 1 + 1 > 2
    assert len(model.proto.constraints) == 5 and model.n_household_constraints == 1
    model.add_exclusive_pairs()  # a knapsack cut and the enforced "nobody else"
    assert len(model.proto.constraints) == 7
    model.add_split_penalties()  # no soft groups: nothing
    assert len(model.proto.constraints) == 7 and model.n_variables == 4


@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 5)), unique=True, max_size=25),
    st.lists(st.tuples(st.integers(0, 7), st.integers(-1, 7)), max_size=10),
    st.randoms(use_true_random=False),
)
def test_pair_lookup_finds_each_pair_or_minus_one(
    pairs: list[tuple[int, int]], wanted: list[tuple[int, int]], rnd: object
) -> None:
    rnd.shuffle(pairs)
    where = {p: i for i, p in enumerate(pairs)}
    rows = np.array([p[0] for p in pairs], dtype=np.int64)
    cols = np.array([p[1] for p in pairs], dtype=np.int64)
    got = pair_lookup(
        rows,
        cols,
        np.array([w[0] for w in wanted], dtype=np.int64),
        np.array([w[1] for w in wanted], dtype=np.int64),
    )
    assert got.tolist() == [where.get(w, -1) if w[1] >= 0 else -1 for w in wanted]


def test_the_optimiser_has_no_import_cycle() -> None:
    """Not even one only for type checking (solve <-> validate was one)."""
    package = pathlib.Path(__file__).parents[3] / "matcher" / "optimiser"
    graph = nx.DiGraph()
    for path in package.glob("*.py"):
        name = f"matcher.optimiser.{path.stem}"
        graph.add_node(name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                module = package / f"{target.rsplit('.', 1)[-1]}.py"
                if target.startswith("matcher.optimiser.") and target != name and module.exists():
                    graph.add_edge(name, target)
    assert list(nx.simple_cycles(graph)) == []


def test_a_solution_from_the_steps_passes_the_validator() -> None:
    problem = random_problem(**SMOKE, seed=5, split_penalty=40)
    solution = solve(problem, _PARAMS)
    assert check_solution(problem, solution) == []
    assert solution.text().startswith("status")
