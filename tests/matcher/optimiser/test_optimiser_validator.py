"""The validator catches each kind of broken solution."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matcher.optimiser import (
    AssignmentProblem,
    Solution,
    check_assignment,
    check_solution,
    objective_of,
    solve,
)
from matcher.optimiser.validate import group_penalties, split_penalty_of


def _problem(split_penalty: int | None = None) -> AssignmentProblem:
    # children 0 and 1 are siblings; vacancy 0 has 2 beds, vacancy 1 has 1
    return AssignmentProblem.from_arrays(
        3,
        [2, 1],
        [0, 0, 1, 1, 2, 2],
        [0, 1, 0, 1, 0, 1],
        [10, 4, 9, 5, 8, 7],
        sibling_groups=[(0, 1)],
        split_penalty=split_penalty,
    )


def _solution() -> tuple[AssignmentProblem, Solution]:
    problem = _problem()
    return problem, solve(problem)


def test_the_optimum_is_valid() -> None:
    problem, solution = _solution()
    # siblings together in vacancy 0 (19), child 2 in vacancy 1 (7)
    assert solution.vacancy_of_child.tolist() == [0, 0, 1]
    assert (solution.status, solution.objective, solution.bound) == ("optimal", 26, 26)
    assert check_solution(problem, solution) == []


def _broken(solution: Solution, **changes: object) -> Solution:
    return dataclasses.replace(solution, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("vacancy_of_child", "objective", "message"),
    [
        ([0, 0, 0], 27, "vacancy 0: 3 children placed, only 2 beds"),
        ([0, 1, 1], 21, "sibling group 0 (children 0, 1) is split"),
        ([0, -1, 1], 17, "sibling group 0 (children 0, 1) is split"),
        ([0, 0, 2], 19, "child 2: vacancy 2 is not -1 or in [0, 2)"),
        ([0, 0, -2], 19, "child 2: vacancy -2 is not -1"),
    ],
)
def test_infeasible_assignments_are_caught(
    vacancy_of_child: list[int], objective: int, message: str
) -> None:
    problem, solution = _solution()
    broken = _broken(
        solution,
        vacancy_of_child=np.array(vacancy_of_child, dtype=np.int32),
        objective=objective,
        status="feasible",
    )
    errors = check_solution(problem, broken)
    assert any(message in e for e in errors), errors


def test_ineligible_pairs_are_caught() -> None:
    problem = AssignmentProblem.from_arrays(2, [1, 1], [0, 1], [0, 0], [3, 4])
    solution = solve(problem)
    broken = _broken(
        solution, vacancy_of_child=np.array([0, 1], dtype=np.int32), objective=3, status="feasible"
    )
    assert check_solution(problem, broken) == ["child 1: placed in vacancy 1, not an eligible pair"]


def test_wrong_objective_bound_and_status_are_caught() -> None:
    problem, solution = _solution()
    assert any(
        "objective: solution says 25, the assignment is worth 26" in e
        for e in check_solution(problem, _broken(solution, objective=25, bound=26))
    )
    assert any(
        "bound: objective 26 exceeds bound 25" in e
        for e in check_solution(problem, _broken(solution, bound=25))
    )
    assert any(
        "'optimal' but objective 26 != bound 30" in e
        for e in check_solution(problem, _broken(solution, bound=30))
    )
    assert check_solution(problem, _broken(solution, bound=30, status="feasible")) == []
    assert any(
        "status: expected one of" in e
        for e in check_solution(problem, _broken(solution, status="proven"))
    )


def test_shape_and_dtype_are_checked() -> None:
    problem, solution = _solution()
    wrong_shape = _broken(solution, vacancy_of_child=np.zeros(2, dtype=np.int32))
    assert "expected shape (3,)" in check_solution(problem, wrong_shape)[0]
    floats = _broken(solution, vacancy_of_child=np.zeros(3, dtype=np.float64))
    assert "expected integers" in check_solution(problem, floats)[0]
    listed = _broken(solution, vacancy_of_child=[0, 0, 1])
    assert "expected a numpy array" in check_solution(problem, listed)[0]


def test_split_penalty_definition() -> None:
    problem = AssignmentProblem.from_arrays(
        5,
        [3, 3],
        [0, 0, 1, 1, 2, 2, 3, 4],
        [0, 1, 0, 1, 0, 1, 0, 1],
        [1] * 8,
        sibling_groups=[(0, 1, 2), (3, 4)],
        split_penalty=10,
    )
    together = np.array([0, 0, 0, 1, 1], dtype=np.int32)
    assert group_penalties(problem, together).tolist() == [0, 0]
    # group 0 in two vacancies (1 extra); group 1 one placed, one not (1 unplaced)
    apart = np.array([0, 1, 0, 0, -1], dtype=np.int32)
    assert group_penalties(problem, apart).tolist() == [10, 10]
    # two vacancies and one child unplaced: 2 penalties; nobody placed: none
    worst = np.array([0, 1, -1, -1, -1], dtype=np.int32)
    assert group_penalties(problem, worst).tolist() == [20, 0]
    assert split_penalty_of(problem, worst) == 20
    assert objective_of(problem, worst) == 2 - 20
    # a split is legal in this mode
    solution = solve(problem)
    moved = _broken(solution, vacancy_of_child=worst, objective=-18, status="feasible")
    assert check_solution(problem, moved) == []


def _household_problem(exempt: bool, exclusive_child: int | None) -> AssignmentProblem:
    # children 0 and 1 are siblings; vacancies 0 and 1 (2 beds each) share one capacity
    # group of room 1 and one household; child 2 is a stranger
    pairs = [(0, 0), (1, 0), (2, 1), (0, 1), (1, 1), (2, 0)]
    return AssignmentProblem.from_arrays(
        3,
        [2, 2],
        [c for c, _ in pairs],
        [v for _, v in pairs],
        [10] * len(pairs),
        sibling_groups=[(0, 1)],
        vacancy_group=[0, 0],
        group_capacity=[1],
        group_siblings_exempt=[exempt],
        vacancy_household=[0, 0],
        pair_exclusive=[c == exclusive_child for c, _ in pairs],
    )


def test_capacity_groups_and_the_siblings_exception_are_checked() -> None:
    siblings_alone = np.array([0, 0, -1], dtype=np.int32)
    with_stranger = np.array([0, 0, 1], dtype=np.int32)
    strict = _household_problem(exempt=False, exclusive_child=None)
    assert any("capacity group 0" in e for e in check_assignment(strict, siblings_alone))
    exempt = _household_problem(exempt=True, exclusive_child=None)
    assert check_assignment(exempt, siblings_alone) == []
    assert any("capacity group 0" in e for e in check_assignment(exempt, with_stranger))


def test_exclusive_pairs_share_the_household_only_with_siblings() -> None:
    problem = AssignmentProblem.from_arrays(
        3,
        [2, 2],
        [0, 1, 2, 2],
        [0, 0, 1, 0],
        [10, 10, 10, 10],
        sibling_groups=[(0, 1)],
        vacancy_household=[0, 0],
        pair_exclusive=[True, False, False, False],
    )
    assert check_assignment(problem, np.array([0, 0, -1], dtype=np.int32)) == []
    errors = check_assignment(problem, np.array([0, 0, 1], dtype=np.int32))
    assert errors and "exclusive pair" in errors[0] and "2" in errors[0]
    # another household: the stranger may be there
    apart = dataclasses.replace(problem, vacancy_household=np.array([0, 1], dtype=np.int32))
    assert check_assignment(apart, np.array([0, 0, 1], dtype=np.int32)) == []
