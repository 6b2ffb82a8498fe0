"""build_candidates on the demo folder: shapes, sums, batch and single-pair paths agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher.candidates import (
    CandidateSet,
    Folding,
    PointsScaleError,
    build_candidates,
    explain_pair,
)
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.explain import Exclusion, Option
from matcher.rules import DEFAULT_RULES

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


@pytest.fixture(scope="module")
def demo() -> CaseFolder:
    return load_case_folder(DEMO)


@pytest.fixture(scope="module")
def cands(demo: CaseFolder) -> CandidateSet:
    return build_candidates(demo)


def test_shapes_and_types(cands: CandidateSet) -> None:
    n = cands.n_pairs
    assert n > 0
    assert cands.child_index.dtype == np.int32 and cands.vacancy_index.dtype == np.int32
    assert cands.objective_points.dtype == np.int64 and cands.score.dtype == np.int64
    assert cands.factor_points.shape == (n, len(cands.factor_names))
    for arr in (cands.distance_miles, cands.in_area, cands.connected_person, cands.tier):
        assert arr.shape == (n,)
    assert (cands.objective_points > 0).all()


def test_factors_sum_to_score(cands: CandidateSet) -> None:
    assert (cands.factor_points.sum(axis=1) == cands.score).all()


def test_every_pair_counted_once(demo: CaseFolder, cands: CandidateSet) -> None:
    total = len(demo.children) * len(demo.vacancies)
    assert cands.n_pairs + sum(cands.exclusion_counts.values()) == total
    assert set(cands.exclusion_counts) <= {r.name for r in DEFAULT_RULES}


def test_single_pair_path_agrees_with_batch(cands: CandidateSet) -> None:
    for k in range(cands.n_pairs):
        option = cands.option(k)
        assert option.score == int(cands.score[k])
        assert [f.points for f in option.factors] == cands.factor_points[k].tolist()
        assert option.objective_points == int(cands.objective_points[k])
        assert option.connected_person == bool(cands.connected_person[k])
        assert option.in_area == bool(cands.in_area[k])
        assert option.tier == int(cands.tier[k])


def test_excluded_pairs_explained_by_a_rule(demo: CaseFolder, cands: CandidateSet) -> None:
    eligible = set(zip(cands.child_index.tolist(), cands.vacancy_index.tolist(), strict=True))
    for i, child in enumerate(demo.children):
        for j, vacancy in enumerate(demo.vacancies):
            found = explain_pair(demo, child, vacancy)
            if (i, j) in eligible:
                assert isinstance(found, Option)
            else:
                assert isinstance(found, Exclusion)
                assert found.rule in {r.name for r in DEFAULT_RULES}
                assert found.source and found.reason.endswith(".")


def test_connected_person_pair_is_top_tier(demo: CaseFolder, cands: CandidateSet) -> None:
    ids = [c.child_id for c in demo.children]
    vids = [v.vacancy_id for v in demo.vacancies]
    k = np.flatnonzero(
        (cands.child_index == ids.index("C06")) & (cands.vacancy_index == vids.index("V01"))
    )
    assert len(k) == 1
    assert cands.connected_person[k[0]] and cands.tier[k[0]] == 1
    others = np.flatnonzero(cands.child_index == ids.index("C06"))
    best = others[np.argmax(cands.objective_points[others])]
    assert vids[cands.vacancy_index[best]] == "V01"


def test_csv_has_points_and_factor_columns(cands: CandidateSet, tmp_path: Path) -> None:
    out = cands.to_csv(tmp_path / "c.csv")
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["child_id", "vacancy_id", "points"]
    assert header[-len(cands.factor_names) :] == [f"points_{n}" for n in cands.factor_names]
    assert len(lines) == cands.n_pairs + 1
    first = lines[1].split(",")
    assert int(first[2]) == int(cands.objective_points[0])
    factors = [int(x) for x in first[-len(cands.factor_names) :]]
    assert sum(factors) == int(first[3])


def test_folding_orders_placement_then_tier_then_score(demo: CaseFolder) -> None:
    f = Folding.for_folder(demo)
    n = f.n_placeable
    span = f.score_max - f.score_min
    assert f.connected_base > n * span
    n_connected = len({c for v in demo.vacancies for c in v.connected_to})
    assert f.placement_base > n * span + n_connected * f.connected_base
    assert f.placement_base + f.score_min > 0


def test_points_scale_error_on_huge_weights(demo: CaseFolder) -> None:
    import dataclasses

    from matcher.policy import Weights

    # Weights this large are refused at the edge (matcher.bounds.MAX_WEIGHT); the scale check
    # stays as the last guard for a folder so big that bounded weights would overflow.
    huge = 2**61
    weights = Weights()
    for name in ("near_home", "education", "siblings", "disability", "in_area"):
        object.__setattr__(weights, name, huge)
    policy = dataclasses.replace(demo.policy, weights=weights)
    folder = CaseFolder(demo.children, demo.vacancies, policy)
    with pytest.raises(PointsScaleError, match="64-bit"):
        build_candidates(folder)
