"""The batch match: optimal, valid, explained, reproducible."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_match_support import (
    brute_force,
    child,
    options_by_pair,
    tiny_folders,
    vacancy,
)

from matcher.candidates import build_candidates
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.match import build_problem, match
from matcher.optimiser import SolverParameters
from matcher.placement_types import PlacementType
from matcher.policy import Policy
from matcher.result import MatchResult
from matcher.validate_result import validate_result
from matcher.vocabulary import Need

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
FAST = SolverParameters(time_limit_s=10.0, num_workers=1, seed=0)


@pytest.fixture(scope="module")
def demo() -> CaseFolder:
    return load_case_folder(DEMO)


@pytest.fixture(scope="module")
def demo_result(demo: CaseFolder) -> MatchResult:
    return match(demo, FAST)


def _answer(result: MatchResult) -> dict[str, object]:
    data = result.to_dict()
    del data["stats"]
    return data


# ----------------------------------------------------------------------------- the demo


def test_demo_is_optimal_valid_and_complete(demo: CaseFolder, demo_result: MatchResult) -> None:
    r = demo_result
    assert r.status == "optimal"
    assert r.objective == r.bound
    assert validate_result(demo, build_candidates(demo), r) == []
    ids = {a.child_id for a in r.assignments} | {u.child_id for u in r.unplaced}
    assert ids == {c.child_id for c in demo.children}
    assert r.metrics.placed == len(r.assignments) == 12
    # the connected-person carer V01 takes C06 (s22C(7)(a))
    assert r.vacancy_of["C06"] == "V01"
    # the sibling group SG1 lives together
    assert len({r.vacancy_of[c] for c in ("C01", "C02", "C03")}) == 1


def test_every_assignment_is_explained(demo_result: MatchResult) -> None:
    for a in demo_result.assignments:
        assert sum(f.points for f in a.factors) == a.points
        assert a.objective_points > a.points
        assert all(f.reason for f in a.factors)


def test_objective_equals_sum_of_candidate_points(
    demo: CaseFolder, demo_result: MatchResult
) -> None:
    cands = build_candidates(demo)
    points = {
        (demo.children[int(c)].child_id, demo.vacancies[int(v)].vacancy_id): int(p)
        for c, v, p in zip(
            cands.child_index, cands.vacancy_index, cands.objective_points, strict=True
        )
    }
    total = sum(points[(a.child_id, a.vacancy_id)] for a in demo_result.assignments)
    assert total == demo_result.objective


def test_same_result_every_run_and_seed_recorded(
    demo: CaseFolder, demo_result: MatchResult
) -> None:
    again = match(demo, FAST)
    assert _answer(again) == _answer(demo_result)
    other = match(demo, replace(FAST, seed=7))
    assert other.seed == 7 and other.parameters["seed"] == 7
    assert other.objective == demo_result.objective


def test_json_round_trip(demo_result: MatchResult) -> None:
    data = json.loads(demo_result.to_json())
    for key in ("status", "objective", "bound", "assignments", "unplaced", "metrics"):
        assert key in data
    a = data["assignments"][0]
    for key in (
        "child_id",
        "vacancy_id",
        "points",
        "factors",
        "distance_miles",
        "in_area",
        "signoffs",
    ):
        assert key in a
    for key in (
        "placed",
        "kin_pct",
        "within_20_miles_pct",
        "in_area_pct",
        "siblings_together_pct",
        "school_kept_pct",
        "weekly_cost",
    ):
        assert key in data["metrics"]
    assert _answer(MatchResult.from_dict(data)) == _answer(demo_result)


def test_summary_names_status_and_metrics(demo_result: MatchResult) -> None:
    text = demo_result.text()
    assert "optimal" in text and f"objective {demo_result.objective}" in text
    assert "Placed     12 of 12" in text
    assert "C06        -> V01" in text


def test_metrics_by_hand(demo: CaseFolder, demo_result: MatchResult) -> None:
    m = demo_result.metrics
    r = demo_result
    assert m.kin_pct == round(100 * sum(a.connected_person for a in r.assignments) / 12, 1)
    assert m.weekly_cost == sum(demo.vacancy(a.vacancy_id).weekly_cost for a in r.assignments)
    homed = [a for a in r.assignments if a.distance_miles is not None]
    assert len(homed) == 11  # C04, a separated migrant child, has no home postcode
    near = sum(round(a.distance_miles, 1) <= 20 for a in homed if a.distance_miles is not None)
    assert m.within_20_miles_pct == round(100 * near / 11, 1)
    assert m.siblings_together_pct == 100.0


def test_input_order_does_not_change_the_result(tmp_path: Path, demo_result: MatchResult) -> None:
    rng = random.Random(4)
    for name in ("children.csv", "vacancies.csv"):
        with (DEMO / name).open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        body = rows[1:]
        rng.shuffle(body)
        with (tmp_path / name).open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([rows[0], *body])
    (tmp_path / "policy.toml").write_text((DEMO / "policy.toml").read_text())
    shuffled = match(load_case_folder(tmp_path), FAST)
    assert _answer(shuffled) == _answer(demo_result)


# ----------------------------------------------------------------------------- statutory order


def test_kin_first_beats_a_much_better_stranger() -> None:
    # The connected person is far away and dear; the stranger is next door and cheap.
    folder = CaseFolder(
        (child("A", 8, home="CM2 0HU"),),
        (
            vacancy(
                "KIN",
                placement_type=PlacementType.CONNECTED_PERSON_FOSTER,
                postcode="IP1 2BX",
                connected_to=frozenset({"A"}),
                weekly_cost=3000,
            ),
            vacancy("NEAR", postcode="CM2 0HU", weekly_cost=0),
        ),
    )
    options = options_by_pair(folder)
    assert options[(0, 1)].score > options[(0, 0)].score  # the stranger has more points
    result = match(folder, FAST)
    assert result.vacancy_of == {"A": "KIN"}
    assert result.assignments[0].connected_person


def test_placing_more_children_beats_points() -> None:
    # B fits only V1; A fits both and prefers V1. Both placed beats A's best.
    folder = CaseFolder(
        (child("A", 8, home="CM1 1QH"), child("B", 15, home="IP1 2BX")),
        (
            vacancy("V1", postcode="CM1 1QH", age_min=0, age_max=17),
            vacancy("V2", postcode="IP1 2BX", age_min=0, age_max=9),
        ),
    )
    result = match(folder, FAST)
    assert result.vacancy_of == {"A": "V2", "B": "V1"}


# ----------------------------------------------------------------------------- households


def test_fostering_limit_is_shared_by_a_households_vacancies() -> None:
    # One household, two fostering vacancies of 2 beds, one child already: room for 2.
    kids = tuple(child(f"C{i}", 5 + i, home="CM1 1QH") for i in range(4))
    vacs = (
        vacancy("V1", provider_id="H", beds=2, fostered_now=1),
        vacancy("V2", provider_id="H", beds=2, fostered_now=1),
        vacancy("V3", postcode="IP1 2BX", beds=1),
    )
    folder = CaseFolder(kids, vacs)
    result = match(folder, FAST)
    in_h = [a for a in result.assignments if a.provider_id == "H"]
    assert len(in_h) == 2
    assert result.metrics.placed == 3
    assert result.status == "optimal"
    assert result.objective == brute_force(folder).objective
    for u in result.unplaced:
        assert u.reasons[0].code == "capacity_taken"
        assert "fostering limit" in u.reasons[0].message


def test_a_sibling_group_of_four_may_fill_an_empty_household() -> None:
    kids = tuple(child(f"S{i}", 4 + i, sibling_group="G") for i in range(4))
    folder = CaseFolder(
        kids, (vacancy("BIG", beds=4, capabilities=frozenset({Need.SIBLING_GROUP})),)
    )
    result = match(folder, FAST)
    assert result.metrics.placed == 4
    assert all(
        "fostering_limit_exemption" in {s.code for s in a.signoffs} for a in result.assignments
    )


def test_solo_only_child_lives_alone() -> None:
    kids = (child("SOLO", 14, needs=frozenset({Need.SOLO_ONLY})), child("B", 13))
    vacs = (
        vacancy(
            "HOME",
            placement_type=PlacementType.CHILDRENS_HOME,
            beds=2,
            capabilities=frozenset({Need.SOLO_ONLY}),
        ),
    )
    folder = CaseFolder(kids, vacs)
    result = match(folder, FAST)
    assert result.metrics.placed == 1
    assert result.objective == brute_force(folder).objective


# ----------------------------------------------------------------------------- unplaced reasons


def test_unplaced_child_without_eligible_vacancy_names_the_rules() -> None:
    folder = CaseFolder((child("OLD", 17),), (vacancy("YOUNG", age_min=0, age_max=5),))
    result = match(folder, FAST)
    (u,) = result.unplaced
    (reason,) = u.reasons
    assert reason.code == "no_eligible_vacancy"
    assert reason.excluded_by == {"age_within_approval": 1}
    assert "age_within_approval 1" in reason.message


def test_capacity_taken_names_who_took_the_bed() -> None:
    kin = vacancy(
        "V1",
        placement_type=PlacementType.CONNECTED_PERSON_FOSTER,
        connected_to=frozenset({"A", "B"}),
    )
    folder = CaseFolder((child("A", 8), child("B", 9, home="SS14 1DL")), (kin,))
    result = match(folder, FAST)
    (u,) = result.unplaced
    (reason,) = u.reasons
    assert reason.code == "capacity_taken"
    (blocked,) = reason.vacancies
    assert blocked.vacancy_id == "V1"
    assert blocked.taken_by == (result.assignments[0].child_id,)


def test_sibling_group_without_a_common_vacancy_says_so() -> None:
    kids = (child("S1", 3, sibling_group="G"), child("S2", 16, sibling_group="G"))
    vacs = (vacancy("YOUNG", age_max=5, beds=2), vacancy("OLDER", age_min=12, beds=2))
    result = match(CaseFolder(kids, vacs), FAST)
    assert result.metrics.placed == 0
    assert {u.reasons[0].code for u in result.unplaced} <= {"sibling_group", "no_eligible_vacancy"}
    assert any("could not be placed as a unit" in u.reasons[0].message for u in result.unplaced)


def test_split_allowed_is_reported_and_costed() -> None:
    kids = (child("S1", 3, sibling_group="G"), child("S2", 16, sibling_group="G"))
    vacs = (vacancy("YOUNG", age_max=5), vacancy("OLDER", age_min=12))
    policy = Policy(allow_sibling_split=True, sibling_split_cost=50)
    folder = CaseFolder(kids, vacs, policy)
    result = match(folder, FAST)
    assert result.metrics.placed == 2
    (split,) = result.splits
    assert split.penalty == 50
    assert dict(split.placements) == {"S1": "YOUNG", "S2": "OLDER"}
    assert result.objective == sum(a.objective_points for a in result.assignments) - 50
    assert result.metrics.siblings_together_pct == 0.0
    assert result.objective == brute_force(folder).objective


# ----------------------------------------------------------------------------- properties


@settings(max_examples=100)
@given(tiny_folders())
def test_exhaustive_search_agrees(folder: CaseFolder) -> None:
    result = match(folder, FAST)
    best = brute_force(folder)
    assert result.status == "optimal"
    assert result.objective == best.objective
    # the folded order: as many placed as possible, then kin
    assert result.metrics.placed == best.placed
    assert sum(a.connected_person for a in result.assignments) == best.kin
    assert validate_result(folder, build_candidates(folder), result) == []


@settings(max_examples=25)
@given(tiny_folders(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(folder: CaseFolder, rng: random.Random) -> None:
    kids, vacs = list(folder.children), list(folder.vacancies)
    rng.shuffle(kids)
    rng.shuffle(vacs)
    shuffled = CaseFolder(tuple(kids), tuple(vacs), folder.policy)
    assert _answer(match(shuffled, FAST)) == _answer(match(folder, FAST))


@settings(max_examples=25)
@given(tiny_folders(max_vacancies=3), st.integers(0, 17), st.integers(1, 3))
def test_adding_a_vacancy_never_lowers_the_optimum(
    folder: CaseFolder, age_min: int, beds: int
) -> None:
    before = match(folder, FAST)
    extra = vacancy("ZNEW", provider_id="ZNEW", beds=beds, age_min=age_min, age_max=17)
    bigger = CaseFolder((*folder.children,), (*folder.vacancies, extra), folder.policy)
    after = match(bigger, FAST)
    # The old match is still valid in the bigger folder; score it with the new coefficients.
    options = options_by_pair(bigger)
    index_c = {c.child_id: i for i, c in enumerate(bigger.children)}
    index_v = {v.vacancy_id: j for j, v in enumerate(bigger.vacancies)}
    old_value = sum(
        options[(index_c[a.child_id], index_v[a.vacancy_id])].objective_points
        for a in before.assignments
    ) - sum(s.penalty for s in before.splits)
    assert after.objective >= old_value
    assert after.metrics.placed >= before.metrics.placed


def test_problem_groups_cap_a_fostering_household() -> None:
    folder = CaseFolder(
        (child("A", 8),), (vacancy("V", beds=3, fostered_now=2), vacancy("W", beds=2))
    )
    problem = build_problem(folder, build_candidates(folder))
    assert problem.capacity.tolist() == [3, 2]
    assert problem.vacancy_group is not None and problem.group_capacity is not None
    assert problem.group_siblings_exempt is not None
    # two households, each a capacity group of its fostering vacancy: room 3 - fostered_now;
    # only the household fostering nobody may take a larger sibling group alone
    assert problem.vacancy_group.tolist() == [0, 1]
    assert problem.group_capacity.tolist() == [1, 3]
    assert problem.group_siblings_exempt.tolist() == [False, True]


def test_placements_in_wales_and_northern_ireland_validate() -> None:
    folder = CaseFolder(
        (child("A", 8), child("B", 9, home="IP1 2BX")),
        (vacancy("WALES", postcode="CF10 1AA"), vacancy("NI", postcode="BT1 5GS")),
    )
    result = match(folder, FAST)
    assert result.metrics.placed == 2
    assert result.metrics.in_area_pct == 0.0
    assert validate_result(folder, build_candidates(folder), result) == []


def test_a_sibling_without_any_vacancy_holds_back_the_group() -> None:
    kids = (
        child("S1", 3, sibling_group="G"),
        child("S2", 4, sibling_group="G", needs=frozenset({Need.WHEELCHAIR})),
    )
    result = match(CaseFolder(kids, (vacancy("V", beds=2),)), FAST)
    reasons = {u.child_id: u.reasons[0] for u in result.unplaced}
    assert reasons["S2"].code == "no_eligible_vacancy"
    assert reasons["S2"].excluded_by == {"required_adaptation": 1}
    assert "so its sibling group G (2 children, placed as a unit)" in reasons["S2"].message
    assert reasons["S1"].code == "sibling_group"
    assert reasons["S1"].excluded_by == {"sibling_group_together": 1}


def test_empty_folders() -> None:
    nobody = match(CaseFolder((), (vacancy("V"),)), FAST)
    assert (nobody.status, nobody.objective, nobody.bound) == ("optimal", 0, 0)
    assert nobody.metrics.kin_pct is None
    nothing = match(CaseFolder((child("A"),), ()), FAST)
    assert nothing.unplaced[0].reasons[0].message == (
        "no eligible vacancy: the case folder has no vacancies"
    )
