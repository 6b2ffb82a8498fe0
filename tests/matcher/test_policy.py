"""Policy: documented defaults, TOML loading, every error kind."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from matcher.policy import (
    STATUTORY_WEIGHTS,
    Policy,
    Weights,
    load_policy,
    policy_from_mapping,
    policy_keys,
)
from matcher.problems import CaseFolderError


def test_defaults_follow_the_statute() -> None:
    p = Policy()
    assert p.connected_person_tier is True
    assert p.in_area_tier is False
    assert p.allow_sibling_split is False
    assert p.distance_step_miles == 20.0
    assert (p.key_stage_4_min_age, p.key_stage_4_max_age) == (14, 16)
    assert p.authority is None
    # Cost never outweighs a statutory factor.
    assert all(p.weights.cost <= getattr(p.weights, w) for w in STATUTORY_WEIGHTS)


def test_policy_keys_cover_every_field_once() -> None:
    keys = [k.key for k in policy_keys()]
    top = [f.name for f in dataclasses.fields(Policy) if f.name not in {"weights", "overrides"}]
    weights = [f"weights.{f.name}" for f in dataclasses.fields(Weights)]
    assert keys == top + weights
    by_key = {k.key: k for k in policy_keys()}
    assert by_key["distance_step_miles"].default == 20.0
    assert by_key["distance_step_miles"].type == "number"
    assert by_key["allow_sibling_split"].type == "boolean"
    assert by_key["weights.cost"].default == 20
    assert all(k.doc for k in policy_keys())


def test_load_overrides_only_what_is_given(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('in_area_tier = true\nauthority = "Essex"\n[weights]\nnear_home = 150\n')
    p = load_policy(path)
    assert p.in_area_tier is True
    assert p.authority == "Essex"
    assert p.weights.near_home == 150
    assert p.weights.education == Weights().education
    assert p.distance_step_miles == 20.0


def test_integer_is_accepted_for_a_number() -> None:
    p = policy_from_mapping({"distance_step_miles": 15})
    assert p.distance_step_miles == 15.0
    assert isinstance(p.distance_step_miles, float)


def test_unknown_key_is_named_with_the_valid_keys() -> None:
    with pytest.raises(CaseFolderError) as exc:
        policy_from_mapping({"distance_step_mile": 20})
    (problem,) = exc.value.problems
    assert problem.file == "policy.toml"
    assert problem.field == "distance_step_mile"
    assert "distance_step_miles" in problem.message
    assert "allow_sibling_split" in problem.message


def test_unknown_weight_is_named_with_the_valid_weights() -> None:
    with pytest.raises(CaseFolderError) as exc:
        policy_from_mapping({"weights": {"kindness": 5}})
    (problem,) = exc.value.problems
    assert problem.field == "weights.kindness"
    assert "weights.near_home" in problem.message


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"allow_sibling_split": "no"}, "allow_sibling_split", "boolean"),
        ({"distance_step_miles": "far"}, "distance_step_miles", "number"),
        ({"sibling_split_cost": 2.5}, "sibling_split_cost", "integer"),
        ({"key_stage_4_min_age": True}, "key_stage_4_min_age", "integer"),
        ({"weights": {"near_home": "lots"}}, "weights.near_home", "integer"),
        ({"weights": 3}, "weights", "table"),
        ({"authority": 881}, "authority", "string"),
    ],
)
def test_wrong_type_names_key_and_expected_type(
    data: dict[str, object], field: str, expected: str
) -> None:
    with pytest.raises(CaseFolderError) as exc:
        policy_from_mapping(data)
    (problem,) = exc.value.problems
    assert problem.field == field
    assert expected in problem.message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(CaseFolderError) as exc:
        policy_from_mapping({"nope": 1, "allow_sibling_split": 1, "weights": {"zzz": 1}})
    assert {p.field for p in exc.value.problems} == {"nope", "allow_sibling_split", "weights.zzz"}


def test_cost_may_not_outweigh_a_statutory_factor() -> None:
    with pytest.raises(CaseFolderError) as exc:
        policy_from_mapping({"weights": {"cost": 70}})
    (problem,) = exc.value.problems
    assert problem.field == "weights.cost"
    assert "weights.disability (60)" in problem.message
    # A statutory factor switched off (0) does not cap cost.
    p = policy_from_mapping({"weights": {"cost": 60, "disability": 0, "in_area": 80}})
    assert p.weights.cost == 60


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"distance_step_miles": 0}, "distance_step_miles"),
        ({"distance_step_share": 1.5}, "distance_step_share"),
        ({"distance_zero_miles": 10}, "distance_zero_miles"),
        ({"key_stage_4_min_age": 17, "key_stage_4_max_age": 15}, "key_stage_4_max_age"),
        ({"key_stage_4_multiplier": 0.5}, "key_stage_4_multiplier"),
        ({"cost_scale_weekly": 0}, "cost_scale_weekly"),
        ({"sibling_split_cost": -1}, "sibling_split_cost"),
        ({"weights": {"ofsted": -1}}, "weights.ofsted"),
        ({"authority": "  "}, "authority"),
    ],
)
def test_out_of_range_values_name_the_key(data: dict[str, object], field: str) -> None:
    with pytest.raises(CaseFolderError) as exc:
        policy_from_mapping(data)
    assert [p.field for p in exc.value.problems] == [field]


def test_invalid_toml_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("in_area_tier = \n")
    with pytest.raises(CaseFolderError) as exc:
        load_policy(path)
    assert "not valid TOML" in exc.value.problems[0].message


def test_to_toml_round_trips() -> None:
    p = Policy(
        weights=Weights(near_home=120, cost=10),
        in_area_tier=True,
        authority="Thurrock",
        allow_sibling_split=True,
        distance_step_miles=25.0,
    )
    assert policy_from_mapping(tomllib.loads(p.to_toml())) == p
    assert policy_from_mapping(tomllib.loads(Policy().to_toml())) == Policy()
