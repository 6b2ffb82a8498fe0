"""Screening pairs a block at a time, and the candidate radius (matcher.screen)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from matcher.candidates import build_candidates
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.factors.base import FolderArrays, Pairs
from matcher.policy import Policy, policy_from_mapping
from matcher.problems import CaseFolderError
from matcher.rules import evaluate_rules
from matcher.screen import screen_pairs, search_points

ROOT = Path(__file__).resolve().parents[2]
REFERRALS = ROOT / "examples" / "essex_referrals"
EARTH_MILES = 3958.7613


@pytest.fixture(scope="module")
def folder() -> CaseFolder:
    return load_case_folder(REFERRALS)


def _with(folder: CaseFolder, **policy: object) -> CaseFolder:
    return dataclasses.replace(folder, policy=dataclasses.replace(folder.policy, **policy))


def _full_grid(arrays: FolderArrays) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    n_c, n_v = arrays.n_children, arrays.n_vacancies
    ci = np.repeat(np.arange(n_c), n_v)
    vi = np.tile(np.arange(n_v), n_c)
    result = evaluate_rules(Pairs(arrays, ci, vi))
    ok = result.eligible
    return ci[ok], vi[ok], result.counts()


def _miles(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = math.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_MILES * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


@pytest.mark.parametrize("block", [1, 37, 1_000, 10_000_000])
def test_blocks_give_the_full_grid_exactly(folder: CaseFolder, block: int) -> None:
    """Any block size gives the whole grid's eligible pairs, in order, with its rule counts."""
    arrays = FolderArrays.build(folder)
    ci, vi, counts = _full_grid(arrays)
    got = screen_pairs(arrays, block_pairs=block)
    assert np.array_equal(got.ci, ci) and np.array_equal(got.vi, vi)
    assert got.counts == counts
    assert got.evaluated == got.grid == arrays.n_children * arrays.n_vacancies
    assert not got.cut
    # the sibling rule needs every member of a group in one block: some pair of this folder
    # is excluded by it, so a block that split a group would change the counts above
    assert counts.get("sibling_group_together", 0) > 0


def test_radius_keeps_every_eligible_pair_within_it_and_widens_the_rest(
    folder: CaseFolder,
) -> None:
    radius, least = 12.0, 6
    cut = _with(folder, candidate_radius_miles=radius, candidate_min_options=least)
    arrays = FolderArrays.build(cut)
    all_ci, all_vi, _ = _full_grid(arrays)
    got = screen_pairs(arrays, block_pairs=50)
    lat, lon = search_points(arrays)
    kept = set(zip(got.ci.tolist(), got.vi.tolist(), strict=True))
    everything = set(zip(all_ci.tolist(), all_vi.tolist(), strict=True))
    assert kept <= everything  # only eligible pairs
    assert got.cut and got.evaluated < got.grid
    group = np.asarray(arrays.c_group)
    members = {g: np.flatnonzero(group == g) for g in set(group.tolist()) if g >= 0}
    widened_children = 0
    for c in range(arrays.n_children):
        unit = members.get(int(group[c]), np.array([c]))
        v_lat, v_lon = np.asarray(arrays.v_lat), np.asarray(arrays.v_lon)
        near = np.zeros(arrays.n_vacancies, dtype=bool)
        for m in unit.tolist():
            near |= _miles(float(lat[m]), float(lon[m]), v_lat, v_lon) <= radius
        eligible = {v for (cc, v) in everything if cc == c}
        mine = {v for (cc, v) in kept if cc == c}
        # every eligible vacancy within the radius of the unit is kept
        assert {v for v in eligible if near[v]} <= mine
        # at least min_options, or every eligible one where there are fewer
        assert len(mine) >= min(least, len(eligible))
        beyond = {v for v in mine if not near[v]}
        widened_children += bool(beyond)
        # siblings are screened as a unit: each member keeps the same vacancies
        for m in unit.tolist():
            assert {v for (cc, v) in kept if cc == m} == mine
    assert widened_children > 0  # the radius is tight enough that some child was widened
    assert got.widened_children >= widened_children


def test_radius_is_reported_by_the_candidate_set(folder: CaseFolder) -> None:
    full = build_candidates(folder)
    assert "candidate_cut" not in full.summary()
    cut = build_candidates(_with(folder, candidate_radius_miles=12.0, candidate_min_options=6))
    summary = cut.summary()
    report = summary["candidate_cut"]
    assert isinstance(report, dict)
    assert report["candidate_radius_miles"] == 12.0
    assert report["pairs_not_evaluated"] == report["pairs_in_grid"] - report["pairs_evaluated"] > 0
    assert summary["pairs_considered"] == report["pairs_evaluated"]
    assert cut.n_pairs < full.n_pairs


def test_a_huge_radius_is_the_full_grid(folder: CaseFolder) -> None:
    full = build_candidates(folder)
    wide = build_candidates(_with(folder, candidate_radius_miles=1000.0))
    assert np.array_equal(full.child_index, wide.child_index)
    assert np.array_equal(full.vacancy_index, wide.vacancy_index)
    assert np.array_equal(full.objective_points, wide.objective_points)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("candidate_radius_miles", -1.0),
        ("candidate_radius_miles", math.inf),
        ("candidate_radius_miles", 5000.0),
        ("candidate_min_options", 0),
    ],
)
def test_radius_keys_are_checked(key: str, value: float) -> None:
    with pytest.raises(CaseFolderError) as err:
        policy_from_mapping({key: value})
    assert key in str(err.value)
    assert Policy().candidate_radius_miles == 0.0


def test_match_reports_the_cut_and_stays_valid(folder: CaseFolder) -> None:
    from matcher.match import match

    full = match(folder)
    assert "candidate_cut" not in full.stats
    assert "candidate_radius_miles" not in full.text()
    cut = match(_with(folder, candidate_radius_miles=12.0, candidate_min_options=2))
    report = cut.stats["candidate_cut"]
    assert report["candidate_radius_miles"] == 12.0 and report["pairs_not_evaluated"] > 0
    assert "policy candidate_radius_miles" in cut.text()
    # fewer pairs can never give a better optimum than the whole grid's
    assert cut.objective <= full.bound
    full_up = [r for c in cut.unplaced for r in c.reasons if r.code == "capacity_taken"]
    assert full_up  # this folder has children left by full vacancies
    assert all("within 12 miles" in r.message for r in full_up)
