"""The scoring set (factors and rules) is passed in: a factor added as one module and one
tuple entry is scored, explained and cited by rank, why-not, candidates and match."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pytest

from matcher.candidates import build_candidates
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.factors import (
    DEFAULT_FACTORS,
    FACTOR_LABELS,
    FACTOR_SHORT,
    POOLED_FACTORS,
    Pairs,
    factors_for,
    policy_weight,
)
from matcher.factors.base import IntArray
from matcher.match import match
from matcher.placement_types import PlacementType
from matcher.policy import Policy, Weights
from matcher.rank import rank_child, ranking_data, why_not
from matcher.rules import DEFAULT_RULES
from matcher.scoring import Scoring
from placematch.commands.rank import render_ranking

REFERRALS = Path(__file__).resolve().parents[2] / "examples" / "essex_referrals"


class InHouseCarer:
    """A test factor: a few points for the authority's own foster carers (its module would
    hold just this class)."""

    name: ClassVar[str] = "in_house_carer"
    reference: ClassVar[str] = "a test basis (not a statute)"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "In-house"
    short: ClassVar[str] = "inh"
    weight_key: ClassVar[str | None] = None

    def weight(self, policy: Policy) -> int:
        return policy_weight(policy, self.weight_key, 7)

    def bounds(self, policy: Policy) -> tuple[int, int]:
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        own = pairs.vacancy_is(PlacementType.INHOUSE_FOSTER)
        return np.where(own, self.weight(pairs.policy), 0).astype(np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        return f"An in-house carer or not: {points} points."


def _with_factor(folder: CaseFolder) -> Scoring:
    return Scoring((*factors_for(folder), InHouseCarer()))


@pytest.fixture(scope="module")
def folder() -> CaseFolder:
    return load_case_folder(REFERRALS)


def test_every_factor_carries_its_label_short_name_and_weight_key() -> None:
    keys = {f.name for f in dataclasses.fields(Weights)}
    for f in DEFAULT_FACTORS + POOLED_FACTORS:
        assert f.label and f.short and f.weight_key in keys, f.name
        assert FACTOR_LABELS[f.name] == f.label and FACTOR_SHORT[f.name] == f.short
        assert policy_weight(Policy(), f.weight_key, -1) == getattr(Weights(), f.name)


def test_the_default_scoring_is_the_folders(folder: CaseFolder) -> None:
    scoring = Scoring.for_folder(folder)
    assert scoring.factors == factors_for(folder) and scoring.rules == DEFAULT_RULES
    child = folder.children[4].child_id
    assert rank_child(folder, child, scoring=scoring).to_dict() == (
        rank_child(folder, child).to_dict()
    )


def test_a_scoring_set_names_each_factor_and_rule_once() -> None:
    with pytest.raises(ValueError, match="factor names must be unique"):
        Scoring((*DEFAULT_FACTORS, DEFAULT_FACTORS[0]))


def test_an_added_factor_is_ranked_explained_and_cited(folder: CaseFolder) -> None:
    scoring = _with_factor(folder)
    child = next(
        c.child_id
        for c in folder.children
        if any(o.placement_type == "inhouse_foster" for o in rank_child(folder, c.child_id).options)
    )
    plain = rank_child(folder, child)
    ranking = rank_child(folder, child, scoring=scoring)
    assert ranking.n_eligible == plain.n_eligible and ranking.excluded == plain.excluded
    gave = 0
    for option in ranking.options:
        last = option.factors[-1]
        assert last.factor == "in_house_carer"
        assert last.reference == "a test basis (not a statute)"
        assert last.reason == f"An in-house carer or not: {last.points} points."
        assert sum(f.points for f in option.factors) == option.score
        in_house = option.placement_type == PlacementType.INHOUSE_FOSTER.value
        assert last.points == (7 if in_house else 0)
        gave += last.points
    assert gave > 0, "the example has in-house carers among the child's options"
    data = ranking.to_dict()
    assert data == ranking_data(folder, child, scoring=scoring)
    assert data["options"][0]["references"]["in_house_carer"] == "a test basis (not a statute)"
    text = render_ranking(ranking, factors=scoring.factors)
    header = next(line for line in text.splitlines() if line.startswith("#"))
    columns = header.split()
    assert columns[columns.index("miles") - 1] == "inh"  # the last factor, before the miles
    assert "  inh  " in text and "in_house_carer" in text and "a test basis" in text
    # why-not weighs it too
    worst = ranking.options[-1]
    answer = why_not(folder, child, worst.vacancy_id, scoring=scoring)
    assert answer.option is not None and answer.option.factors[-1].factor == "in_house_carer"


def test_an_added_factor_is_in_the_candidates_and_the_match(folder: CaseFolder) -> None:
    scoring = _with_factor(folder)
    cands = build_candidates(folder, scoring)
    assert cands.factor_names[-1] == "in_house_carer"
    assert (cands.score == cands.factor_points.sum(axis=1)).all()
    # the folding widens with the new factor's bounds
    assert cands.folding.score_max == build_candidates(folder).folding.score_max + 7
    result = match(folder, scoring=scoring)  # the validator checks it under the same set
    assert result.assignments
    for a in result.assignments:
        assert a.factors[-1].factor == "in_house_carer"
        assert a.factors[-1].reference == "a test basis (not a statute)"
        assert sum(f.points for f in a.factors) == a.points
    assert any(a.factors[-1].points == 7 for a in result.assignments)


def test_rules_are_passed_in_too(folder: CaseFolder) -> None:
    without = Scoring(
        factors_for(folder),
        tuple(r for r in DEFAULT_RULES if r.name != "placement_type_suits_child"),
    )
    child = next(
        c.child_id
        for c in folder.children
        if "placement_type_suits_child" in rank_child(folder, c.child_id).excluded
    )
    plain = rank_child(folder, child)
    fewer = rank_child(folder, child, scoring=without)
    assert "placement_type_suits_child" not in fewer.excluded
    assert fewer.n_eligible >= plain.n_eligible
    assert sum(fewer.excluded.values()) + fewer.n_eligible == len(folder.vacancies)
    assert {e.rule for e in fewer.exclusions} <= {r.name for r in without.rules}


def test_a_candidate_pair_is_explained_under_the_set_it_was_scored_with(
    folder: CaseFolder,
) -> None:
    # option(k) recomputes the pair alone; it used to do so under the folder's own set, so
    # the added factor was missing and the points did not add up to the pair's score
    scoring = _with_factor(folder)
    cands = build_candidates(folder, scoring)
    rows = np.flatnonzero(cands.factor_points[:, -1] == 7)[:5].tolist()
    rows += np.flatnonzero(cands.factor_points[:, -1] == 0)[:5].tolist()
    assert len(rows) == 10, "the folder has in-house and other eligible pairs"
    unassessed = dataclasses.replace(cands, assessment=None)  # the batch fallback path
    for k, batch in zip(rows, unassessed.options(rows), strict=True):
        alone = cands.option(k)
        assert alone == batch
        assert [f.factor for f in alone.factors] == list(cands.factor_names)
        assert [f.points for f in alone.factors] == cands.factor_points[k].tolist()
        assert alone.score == cands.score[k]
        assert alone.objective_points == cands.objective_points[k]
    # a set put together without one explains under the folder's own, as before
    plain = build_candidates(folder)
    assert dataclasses.replace(plain, scoring=None).option(0) == plain.option(0)
