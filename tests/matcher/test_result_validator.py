"""The result validator catches every kind of broken match."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_match_support import child, vacancy

from matcher.candidates import CandidateSet, build_candidates
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.match import MatchError, match
from matcher.optimiser import SolverParameters
from matcher.result import AssignedFactor, MatchResult
from matcher.validate_result import validate_result

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
FAST = SolverParameters(time_limit_s=10.0, num_workers=1)


@pytest.fixture(scope="module")
def demo() -> CaseFolder:
    return load_case_folder(DEMO)


@pytest.fixture(scope="module")
def cands(demo: CaseFolder) -> CandidateSet:
    return build_candidates(demo)


@pytest.fixture(scope="module")
def good(demo: CaseFolder, cands: CandidateSet) -> MatchResult:
    return match(demo, FAST, candidates=cands)


def _with(result: MatchResult, child_id: str, **changes: object) -> MatchResult:
    return replace(
        result,
        assignments=tuple(
            replace(a, **changes) if a.child_id == child_id else a  # type: ignore[arg-type]
            for a in result.assignments
        ),
    )


def test_a_good_result_passes(demo: CaseFolder, cands: CandidateSet, good: MatchResult) -> None:
    assert validate_result(demo, cands, good) == []


def test_ineligible_pair(demo: CaseFolder, cands: CandidateSet, good: MatchResult) -> None:
    # C11 is 4: V10 takes boys of 12-17 only.
    bad = _with(good, "C11", vacancy_id="V10")
    errors = validate_result(demo, cands, bad)
    assert any("C11 -> V10: not an eligible candidate pair" in e for e in errors)


def test_hard_rule_rechecked_per_pair(
    demo: CaseFolder, cands: CandidateSet, good: MatchResult
) -> None:
    from matcher.explain import Exclusion

    def strict(folder: CaseFolder, child_id: str, vacancy_id: str) -> Exclusion:
        return Exclusion(child_id, vacancy_id, "made_up_rule", "test", "always excluded")

    errors = validate_result(demo, cands, good, pair_check=strict)
    assert len([e for e in errors if "breaks the hard rule made_up_rule" in e]) == 12


def test_too_many_in_a_vacancy(demo: CaseFolder, cands: CandidateSet, good: MatchResult) -> None:
    # V01 (a connected-person carer of C06, one bed): put a second child there.
    target = good.assignment_of("C06")
    assert target is not None
    bad = _with(good, "C11", **{"vacancy_id": "V01"})
    errors = validate_result(demo, cands, bad)
    assert any("not an eligible candidate pair" in e for e in errors)
    # A bed overflow among eligible pairs: the demo's V13 (3 beds) filled by one child, so
    # build a folder where it can happen.
    folder = CaseFolder((child("A", 8), child("B", 9)), (vacancy("V", beds=1),))
    fc = build_candidates(folder)
    result = match(folder, FAST, candidates=fc)
    (placed,) = result.assignments
    twin = replace(placed, child_id="B" if placed.child_id == "A" else "A")
    crowded = replace(result, assignments=(placed, twin), unplaced=())
    errors = validate_result(folder, fc, crowded)
    assert any("vacancy V: 2 children placed, only 1 beds" in e for e in errors)


def test_split_sibling_group(demo: CaseFolder, cands: CandidateSet, good: MatchResult) -> None:
    bad = _with(good, "C01", vacancy_id="V05")
    errors = validate_result(demo, cands, bad)
    assert any("sibling group SG1 is split" in e for e in errors)


def test_factors_must_add_up(demo: CaseFolder, cands: CandidateSet, good: MatchResult) -> None:
    a = good.assignments[0]
    extra = (*a.factors, AssignedFactor("bonus", 5, "made up"))
    errors = validate_result(demo, cands, _with(good, a.child_id, factors=extra))
    assert any("factors add up to" in e for e in errors)
    errors = validate_result(demo, cands, _with(good, a.child_id, points=a.points + 1))
    assert any("differ from the candidate's" in e for e in errors)


def test_objective_bound_and_status(
    demo: CaseFolder, cands: CandidateSet, good: MatchResult
) -> None:
    errors = validate_result(demo, cands, replace(good, objective=good.objective - 1))
    assert any("objective" in e and "objective points" in e for e in errors)
    errors = validate_result(demo, cands, replace(good, bound=good.objective - 1))
    assert any("exceeds the bound" in e for e in errors)
    errors = validate_result(demo, cands, replace(good, bound=good.bound + 1))
    assert any("status optimal but objective" in e for e in errors)
    assert validate_result(demo, cands, replace(good, status="great"))


def test_metrics_recomputed(demo: CaseFolder, cands: CandidateSet, good: MatchResult) -> None:
    bad = replace(good, metrics=replace(good.metrics, weekly_cost=1))
    assert any("metrics differ" in e for e in validate_result(demo, cands, bad))


def test_distance_and_flags(demo: CaseFolder, cands: CandidateSet, good: MatchResult) -> None:
    errors = validate_result(demo, cands, _with(good, "C05", distance_miles=1.0))
    assert any("C05 -> V05: distance 1.0 != grid miles" in e for e in errors)
    errors = validate_result(demo, cands, _with(good, "C05", in_area=False))
    assert any("in_area is False, expected True" in e for e in errors)
    errors = validate_result(demo, cands, _with(good, "C05", connected_person=True))
    assert any("connected_person is True" in e for e in errors)


def test_every_child_accounted_for(
    demo: CaseFolder, cands: CandidateSet, good: MatchResult
) -> None:
    dropped = replace(good, assignments=good.assignments[1:])
    errors = validate_result(demo, cands, dropped)
    assert any("neither assigned nor unplaced" in e for e in errors)


def test_fostering_limit_across_a_household() -> None:
    kids = (child("A", 5), child("B", 6), child("C", 7))
    vacs = (
        vacancy("V1", provider_id="H", beds=2, fostered_now=1),
        vacancy("V2", provider_id="H", beds=2, fostered_now=1),
    )
    folder = CaseFolder(kids, vacs)
    fc = build_candidates(folder)
    result = match(folder, FAST, candidates=fc)
    assert result.metrics.placed == 2
    (left,) = result.unplaced
    extra = replace(result.assignments[0], child_id=left.child_id, vacancy_id="V2")
    options = {a.vacancy_id for a in result.assignments}
    assert options  # the two placed children
    over = replace(result, assignments=(*result.assignments, extra), unplaced=())
    errors = validate_result(folder, fc, over)
    assert any("household H: 1 fostered already and 3 placed" in e for e in errors)


def test_match_raises_when_its_validator_fails(
    demo: CaseFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matcher.validate_result as vr

    monkeypatch.setattr(vr, "validate_result", lambda *a, **k: ["broken on purpose"])
    with pytest.raises(MatchError, match="broken on purpose"):
        match(demo, FAST)
