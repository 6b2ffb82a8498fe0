"""An honest gap: the objective and its bound unfolded per level (children, kin, points).

A search stopped by a limit is forced here with a deterministic work limit (never the wall
clock), so that every run stops at the same place.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from test_match_support import brute_force, tiny_folders

from matcher.candidates import build_candidates
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.match import _not_proven, match
from matcher.optimiser import SolverParameters
from matcher.result import (
    LevelGap,
    MatchResult,
    UnplacedChild,
    UnplacedReason,
    _levels_text,
    _relative,
    level_gaps,
)
from matcher.validate_result import validate_result

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
FAST = SolverParameters(time_limit_s=10.0, num_workers=1, seed=0)
#: No warm start and almost no work: CP-SAT stops at its first solution, the same every run.
STOPPED = SolverParameters(
    time_limit_s=60.0, num_workers=1, seed=0, use_flow_warm_start=False,
    deterministic_time_limit=1e-9,
)  # fmt: skip


@pytest.fixture(scope="module")
def demo() -> CaseFolder:
    return load_case_folder(DEMO)


@pytest.fixture(scope="module")
def optimum(demo: CaseFolder) -> MatchResult:
    return match(demo, FAST)


@pytest.fixture(scope="module")
def stopped(demo: CaseFolder) -> MatchResult:
    return match(demo, STOPPED)


def _gaps(folder: CaseFolder, objective: int, bound: int, **achieved: int) -> tuple[LevelGap, ...]:
    f = build_candidates(folder).folding
    return level_gaps(
        objective,
        bound,
        placement_base=f.placement_base,
        connected_base=f.connected_base,
        in_area_base=f.in_area_base,
        score_min=f.score_min,
        split_max=0,
        **achieved,
    )


def _achieved(result: MatchResult) -> dict[str, int]:
    return {
        "placed": len(result.assignments),
        "kin": sum(a.connected_person for a in result.assignments),
        "in_area": sum(a.in_area for a in result.assignments),
        "points": sum(a.points for a in result.assignments),
    }


def test_a_proven_optimum_is_closed_at_every_level(optimum: MatchResult) -> None:
    assert optimum.status == "optimal"
    assert [g.level for g in optimum.levels] == ["children", "kin", "points"]
    assert all(g.closed and g.shortfall == 0 for g in optimum.levels)
    placed, kin, points = (g.achieved for g in optimum.levels)
    assert placed == optimum.metrics.placed
    assert kin == sum(a.connected_person for a in optimum.assignments)
    assert points == sum(a.points for a in optimum.assignments)
    assert "Gap " not in optimum.text()


def test_a_stopped_search_gives_each_level_its_own_bound(
    demo: CaseFolder, optimum: MatchResult, stopped: MatchResult
) -> None:
    # the case would test nothing if the work limit did not stop the search short
    assert stopped.status == "feasible" and stopped.stats["stopped_by"] == "work_limit"
    assert validate_result(demo, build_candidates(demo), stopped) == []
    children, kin, points = stopped.levels
    # the bound per level holds for the true optimum, and the first open level is named
    assert children.bound is not None
    assert stopped.metrics.placed <= optimum.metrics.placed <= children.bound
    if not children.closed:
        assert kin.bound is None and points.bound is None
    # the same every run: a work limit, not the clock
    again = match(demo, STOPPED)
    assert again.levels == stopped.levels


def test_the_summary_prints_every_level_and_never_a_zero_gap(stopped: MatchResult) -> None:
    text = stopped.text()
    assert "0.0000 %" not in text and "0.0000%" not in text
    block = text[text.index("Gap ") :].splitlines()[:4]
    assert block[1].split()[:2] == ["children", "placed"]
    first = stopped.levels[0]
    assert f"of at most {first.bound:,}" in block[1]
    if not first.closed:
        assert f"{first.shortfall:,} short" in block[1]
        assert "bound open until children placed is proven" in block[2]


def test_unplaced_children_are_told_a_better_match_may_place_them(
    demo: CaseFolder, stopped: MatchResult, optimum: MatchResult
) -> None:
    roomless = [
        u
        for u in stopped.unplaced
        if any(r.code in {"capacity_taken", "not_chosen"} for r in u.reasons)
    ]
    assert roomless  # else the case tests nothing
    for u in roomless:
        assert u.reasons[-1].code == "not_proven"
        assert "a better match may place this child" in u.reasons[-1].message
    # a child no vacancy is eligible for is told so, and only so: that reason is final
    for u in stopped.unplaced:
        if all(r.code == "no_eligible_vacancy" for r in u.reasons[:1]):
            assert "not_proven" not in {r.code for r in u.reasons}
    # a proven optimum never says it
    assert all(r.code != "not_proven" for u in optimum.unplaced for r in u.reasons)


def test_the_levels_survive_the_assignment_file(stopped: MatchResult) -> None:
    data = stopped.to_dict()
    assert list(data)[:5] == ["status", "objective", "bound", "gap", "levels"]
    assert data["levels"][0] == {
        "level": "children",
        "achieved": stopped.metrics.placed,
        "bound": stopped.levels[0].bound,
        "shortfall": stopped.levels[0].shortfall,
    }
    assert MatchResult.from_dict(data).levels == stopped.levels


def test_a_points_gap_keeps_the_levels_above_closed(demo: CaseFolder, optimum: MatchResult) -> None:
    # five points below the bound: children and kin are proven, the points are not
    levels = _gaps(demo, optimum.objective, optimum.objective + 5, **_achieved(optimum))
    assert [g.closed for g in levels] == [True, True, False]
    assert levels[-1].shortfall == 5
    lines = _levels_text(levels)
    assert lines[1].endswith(": proven") and lines[2].endswith(": proven")
    assert "5 short" in lines[3]


def test_one_child_fewer_than_the_optimum_opens_the_children_level(
    demo: CaseFolder, optimum: MatchResult
) -> None:
    # the optimum without its last assignment is a valid match one child short
    fewer = replace(optimum, assignments=optimum.assignments[:-1])
    dropped = optimum.assignments[-1]
    levels = _gaps(
        demo, optimum.objective - dropped.objective_points, optimum.objective, **_achieved(fewer)
    )
    assert (levels[0].achieved, levels[0].bound) == (
        optimum.metrics.placed - 1,
        optimum.metrics.placed,
    )
    assert [g.bound for g in levels[1:]] == [None, None]


def test_levels_that_do_not_fold_into_the_objective_are_refused(
    demo: CaseFolder, optimum: MatchResult
) -> None:
    with pytest.raises(ValueError, match="fold into"):
        _gaps(demo, optimum.objective + 1, optimum.objective + 1, **_achieved(optimum))
    with pytest.raises(ValueError, match="below the objective"):
        _gaps(demo, optimum.objective, optimum.objective - 1, **_achieved(optimum))
    with pytest.raises(ValueError, match="level 'tier'"):
        LevelGap("tier", 1, 2)


def test_a_relative_gap_is_never_rounded_to_zero() -> None:
    assert _relative(0, 100) == "0 %"
    assert _relative(357, 63_401_602_576) == "< 0.0001 %"
    assert _relative(1, 1_000_000) == "0.0001 %"
    assert _relative(10, 100) == "10.0000 %"
    assert _relative(3, 0) == "n/a"


@settings(max_examples=60, deadline=None)
@given(tiny_folders())
def test_the_bound_of_the_optimum_unfolds_into_its_own_levels(folder: CaseFolder) -> None:
    # against the exhaustive optimum's value as the bound, an empty match is short by exactly
    # the children the optimum places, and the optimum itself is closed at every level
    best = brute_force(folder)
    f = build_candidates(folder).folding
    policy = folder.policy
    split_max = (
        policy.sibling_split_cost * sum(g.size for g in folder.sibling_groups)
        if policy.allow_sibling_split
        else 0
    )
    fold = {
        "placement_base": f.placement_base,
        "connected_base": f.connected_base,
        "in_area_base": f.in_area_base,
        "score_min": f.score_min,
        "split_max": split_max,
    }
    empty = level_gaps(0, best.objective, placed=0, kin=0, in_area=0, points=0, **fold)
    assert empty[0].bound == best.placed
    result = match(folder, FAST)
    assert result.objective == best.objective
    assert all(g.closed for g in result.levels)
    assert result.levels[0].achieved == best.placed


REFERRALS = DEMO.parent / "essex_referrals"


def test_a_points_gap_under_proven_children_is_shown_as_such() -> None:
    # the warm start places as many children as any match can, and the work limit stops
    # the search before the points are proven
    folder = load_case_folder(REFERRALS)
    stopped = match(folder, replace(FAST, deterministic_time_limit=1e-6))
    proven = match(folder, FAST)
    assert stopped.status == "feasible" and proven.status == "optimal"
    children, kin, points = stopped.levels
    assert children.closed and kin.closed and not points.closed
    assert points.bound is not None
    assert stopped.levels[0].achieved == proven.metrics.placed
    assert points.achieved < proven.levels[-1].achieved <= points.bound
    # one folded figure would hide it: a small share of the whole bound, a real points gap
    text = stopped.text()
    assert f"points {points.shortfall:,} short" not in text  # the level line, not the status
    assert f"{points.bound:,}: {points.shortfall:,} short" in text
    assert "children placed" in text and ": proven" in text
    assert validate_result(folder, build_candidates(folder), stopped) == []


def test_the_not_proven_reason_names_the_open_level() -> None:
    taken = UnplacedChild("C1", None, (UnplacedReason("capacity_taken", "capacity taken: ..."),))
    final = UnplacedChild("C2", None, (UnplacedReason("no_eligible_vacancy", "no vacancy"),))
    points_open = (LevelGap("children", 5, 5), LevelGap("kin", 1, 1), LevelGap("points", 9, 12))
    (c1, c2) = _not_proven((taken, final), points_open)
    assert [r.code for r in c1.reasons] == ["capacity_taken", "not_proven"]
    assert "number of children placed is proven" in c1.reasons[-1].message
    assert "instead of another" in c1.reasons[-1].message
    assert c2 == final  # no vacancy is eligible: final whatever the search
    children_open = (
        LevelGap("children", 4, 6),
        LevelGap("kin", 1, None),
        LevelGap("points", 9, None),
    )
    (c1, _) = _not_proven((taken, final), children_open)
    assert "up to 2 more children may be placeable" in c1.reasons[-1].message
    closed = (LevelGap("children", 5, 5), LevelGap("points", 9, 9))
    assert _not_proven((taken, final), closed) == (taken, final)
