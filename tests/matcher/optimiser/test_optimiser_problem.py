"""AssignmentProblem and SolverParameters: validation with clear messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher.optimiser import AssignmentProblem, SolverParameters
from matcher.optimiser.problem import MAX_OBJECTIVE


def _problem(**changes: object) -> AssignmentProblem:
    fields: dict[str, object] = {
        "n_children": 3,
        "capacity": np.array([1, 2], dtype=np.int64),
        "pair_child": np.array([0, 1, 2], dtype=np.int32),
        "pair_vacancy": np.array([0, 1, 1], dtype=np.int32),
        "pair_points": np.array([5, 6, 7], dtype=np.int64),
        "sibling_groups": ((1, 2),),
        "split_penalty": None,
    }
    fields.update(changes)
    return AssignmentProblem(**fields)  # type: ignore[arg-type]


def test_a_valid_problem_is_frozen_and_read_only() -> None:
    problem = _problem()
    assert (problem.n_vacancies, problem.n_pairs, problem.hard_units) == (2, 3, True)
    assert problem.group_of_child.tolist() == [-1, 0, 0]
    with pytest.raises(ValueError, match="read-only"):
        problem.capacity[0] = 5
    with pytest.raises(AttributeError):
        problem.n_children = 4  # type: ignore[misc]


def test_the_problem_copies_its_arrays() -> None:
    capacity = np.array([1, 2], dtype=np.int64)
    problem = _problem(capacity=capacity)
    capacity[0] = 9
    assert problem.capacity.tolist() == [1, 2]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_children": -1}, r"n_children: expected >= 0"),
        ({"n_children": 2.5}, r"n_children: expected an integer"),
        ({"capacity": [1, 2]}, r"capacity: expected a numpy array"),
        ({"capacity": np.array([1, 2], dtype=np.int32)}, r"capacity: expected dtype int64"),
        ({"capacity": np.array([[1, 2]], dtype=np.int64)}, r"capacity: expected a one-dim"),
        ({"capacity": np.array([1, -2], dtype=np.int64)}, r"capacity\[1\]: expected >= 0"),
        ({"pair_child": np.array([0, 1], dtype=np.int32)}, r"must have the same length"),
        ({"pair_child": np.array([0, 3, 2], dtype=np.int32)}, r"pair_child\[1\].*\[0, 3\)"),
        ({"pair_vacancy": np.array([0, 2, 1], dtype=np.int32)}, r"pair_vacancy\[1\].*\[0, 2\)"),
        ({"pair_points": np.array([5, 0, 7], dtype=np.int64)}, r"pair_points\[1\]: expected > 0"),
        (
            {"pair_points": np.array([5, MAX_OBJECTIVE, 7], dtype=np.int64)},
            r"pair_points: the best points",
        ),
        (
            {
                "pair_child": np.array([1, 1, 2], dtype=np.int32),
                "pair_vacancy": np.array([1, 1, 1], dtype=np.int32),
            },
            r"pair 1 repeats the \(child, vacancy\) pair \(1, 1\)",
        ),
        ({"sibling_groups": ((1,),)}, r"sibling_groups\[0\]: expected at least 2"),
        ({"sibling_groups": ((1, 3),)}, r"sibling_groups\[0\]: child 3 is not in \[0, 3\)"),
        ({"sibling_groups": ((0, 1), (1, 2))}, r"sibling_groups\[1\]: child 1 is also in group 0"),
        ({"sibling_groups": ((1, 1),)}, r"child 1 is twice in this group"),
        ({"split_penalty": -1}, r"split_penalty: expected None"),
        ({"split_penalty": True}, r"split_penalty: expected None"),
    ],
)
def test_invalid_problems_are_rejected_naming_the_field(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _problem(**changes)


def test_from_arrays_converts_and_checks_ranges() -> None:
    problem = AssignmentProblem.from_arrays(2, [1], [0, 1], [0, 0], [3, 4], [[0, 1]], 2)
    assert problem.pair_child.dtype == np.int32 and problem.pair_points.dtype == np.int64
    assert problem.sibling_groups == ((0, 1),) and problem.split_penalty == 2
    empty = AssignmentProblem.from_arrays(0, [], [], [], [])
    assert (empty.n_children, empty.n_vacancies, empty.n_pairs) == (0, 0, 0)
    with pytest.raises(ValueError, match="pair_child: values do not fit int32"):
        AssignmentProblem.from_arrays(2, [1], [2**40], [0], [3])
    with pytest.raises(ValueError, match="pair_points: expected integers"):
        AssignmentProblem.from_arrays(2, [1], [0], [0], [3.5])


def test_parameters_defaults_and_mapping() -> None:
    params = SolverParameters()
    assert (params.time_limit_s, params.num_workers, params.seed) == (120.0, 1, 0)
    # reproducible by default: a deterministic work limit, the wall clock only a safety net
    assert params.deterministic_time_limit == 5.0
    assert params.relative_gap == 0.0 and params.use_flow_warm_start and params.decompose
    again = SolverParameters.from_mapping(params.to_mapping())
    assert again == params
    assert SolverParameters.from_mapping({"time_limit_s": 5}).time_limit_s == 5.0


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"time_limit": 3}, r"unknown solver parameter\(s\) 'time_limit'"),
        ({"time_limit_s": 0}, r"time_limit_s: expected a positive"),
        ({"num_workers": 0}, r"num_workers: expected >= 1"),
        ({"num_workers": 1.5}, r"num_workers: expected an integer"),
        ({"seed": -1}, r"seed: expected an integer in"),
        ({"relative_gap": 1.0}, r"relative_gap: expected a number in \[0, 1\)"),
        ({"decompose": "yes"}, r"decompose: expected true or false"),
    ],
)
def test_bad_parameters_are_rejected(mapping: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SolverParameters.from_mapping(mapping)


def test_parameters_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[solver]\ntime_limit_s = 4\nseed = 7\nlog_search = true\n", encoding="utf-8")
    params = SolverParameters.from_toml(path)
    assert (params.time_limit_s, params.seed, params.log_search) == (4.0, 7, True)
    path.write_text("[matcher.solver]\nnum_workers = 1\n", encoding="utf-8")
    assert SolverParameters.from_toml(path, "matcher.solver").num_workers == 1
    assert SolverParameters.from_toml(path) == SolverParameters()  # no [solver] table
    path.write_text("[solver]\nworkers = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"policy.toml \[solver\]: unknown solver parameter"):
        SolverParameters.from_toml(path)
    path.write_text("[solver\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid TOML"):
        SolverParameters.from_toml(path)
