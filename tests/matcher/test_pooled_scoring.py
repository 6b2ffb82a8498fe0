"""A scoring set of the user's own on a pooled folder: every authority's part is scored under
it (each under its own policy table), the pooled match and its dividend use it, and sets that
differ between authorities are refused naming them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pytest

from geography.authorities import resolve_authority
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.factors import Pairs, factors_for, policy_weight
from matcher.factors.base import BoolArray, IntArray
from matcher.placement_types import PlacementType
from matcher.policy import AuthorityOverride, Policy
from matcher.pooled import authority_folder, match_pooled, pooled_candidates
from matcher.rank import rank_child
from matcher.rules import DEFAULT_RULES
from matcher.scoring import Scoring

POOLED = Path(__file__).resolve().parents[1] / "data" / "casefolders" / "pooled"
ESSEX = resolve_authority("Essex")


class AgencyFirst:
    """A test factor: many points for an agency foster carer (the pool has one, EV3)."""

    name: ClassVar[str] = "agency_first"
    reference: ClassVar[str] = "a test basis (not a statute)"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Agency"
    short: ClassVar[str] = "agy"
    weight_key: ClassVar[str | None] = None

    def weight(self, policy: Policy) -> int:
        return policy_weight(policy, self.weight_key, 500)

    def bounds(self, policy: Policy) -> tuple[int, int]:
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        agency = pairs.vacancy_is(PlacementType.AGENCY_FOSTER)
        return np.where(agency, self.weight(pairs.policy), 0).astype(np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        return f"An agency carer or not: {points} points."


class Closed:
    """A test rule: every vacancy is closed."""

    name: ClassVar[str] = "closed"
    source: ClassVar[str] = "a test rule"
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        return np.ones(len(pairs), dtype=bool)

    def reason(self, pairs: Pairs, k: int) -> str:
        return "Closed for the test."


def agency_first(folder: CaseFolder) -> Scoring:
    return Scoring((*factors_for(folder), AgencyFirst()))


@pytest.fixture(scope="module")
def pooled() -> CaseFolder:
    return load_case_folder(POOLED)


@pytest.fixture(scope="module")
def tables(pooled: CaseFolder) -> CaseFolder:
    """The pool with a table for Essex: its own in-house carers first."""
    table = AuthorityOverride("Essex", (("own_carers_first", True),))
    return dataclasses.replace(
        pooled, policy=dataclasses.replace(pooled.policy, overrides=(table,))
    )


def test_every_authoritys_part_is_scored_under_the_set(tables: CaseFolder) -> None:
    cands = pooled_candidates(tables, agency_first)
    plain = pooled_candidates(tables)
    assert cands.factor_names == (*plain.factor_names, "agency_first")
    # one more child placed still outweighs any points: the folding widens by the weight
    assert cands.folding.score_max == plain.folding.score_max + 500
    assert cands.folding.placement_base > plain.folding.placement_base
    rows = list(range(cands.n_pairs))
    options = cands.options(rows)
    own_carers = cands.factor_names.index("own_carers")
    for k, option in zip(rows, options, strict=True):
        child = tables.children[int(cands.child_index[k])]
        # the pair's points are those rank gives the child in its authority's folder
        sub = authority_folder(tables, child.authority)
        ranked = {
            o.vacancy_id: o
            for o in rank_child(sub, child.child_id, scoring=agency_first(sub)).options
        }
        assert [f.points for f in option.factors] == cands.factor_points[k].tolist()
        assert [f.points for f in ranked[option.vacancy_id].factors] == cands.factor_points[
            k
        ].tolist()
        assert option.score == cands.score[k] == sum(f.points for f in option.factors)
        assert option.objective_points == cands.objective_points[k]
        assert cands.option(k) == option
        in_house_own = (
            option.placement_type == "inhouse_foster"
            and tables.vacancy(option.vacancy_id).owner == child.authority
        )
        # Essex's table still applies under the set: its own in-house carers first
        assert cands.factor_points[k, own_carers] == (
            40 if in_house_own and child.authority == ESSEX else 0
        )
        assert cands.factor_points[k, -1] == (
            500 if option.placement_type == "agency_foster" else 0
        )
    assert (cands.factor_points[:, own_carers] > 0).any()
    assert (cands.factor_points[:, -1] == 500).any()


@pytest.mark.parametrize("with_tables", [True, False])
def test_a_pooled_match_is_made_and_validated_under_the_set(
    with_tables: bool, tables: CaseFolder, pooled: CaseFolder
) -> None:
    folder = tables if with_tables else pooled
    plain = match_pooled(folder).result
    region = match_pooled(folder, scoring=agency_first)  # the validator checks it
    result = region.result
    assert len(result.assignments) == len(plain.assignments)
    for a in result.assignments:
        assert a.factors[-1].factor == "agency_first"
        assert a.factors[-1].points == (500 if a.vacancy_id == "EV3" else 0)
        assert sum(f.points for f in a.factors) == a.points
    assert "EV3" in {a.vacancy_id for a in result.assignments}
    assert sum(region.outcomes[a].placed for a in region.authorities) == len(result.assignments)


@pytest.mark.parametrize("with_tables", [True, False])
def test_the_rules_of_the_set_apply_to_the_pool_and_to_each_authority_alone(
    with_tables: bool, tables: CaseFolder, pooled: CaseFolder
) -> None:
    folder = tables if with_tables else pooled
    shut = Scoring(factors_for(folder), (*DEFAULT_RULES, Closed()))
    plain = match_pooled(folder, dividend=True)
    assert plain.solo is not None and any(o.placed for o, _ in plain.solo.values())
    region = match_pooled(folder, dividend=True, scoring=shut)
    assert not region.result.assignments
    assert region.solo is not None
    assert all(o.placed == 0 for o, _ in region.solo.values())  # each alone, under the set
    for u in region.result.unplaced:
        # the vacancies excluded per rule name the set's rule (a sibling group's too)
        assert any("closed" in r.excluded_by for r in u.reasons), u.child_id


def test_sets_that_differ_between_authorities_are_refused(tables: CaseFolder) -> None:
    def essex_only(folder: CaseFolder) -> Scoring:
        if all(c.authority == ESSEX for c in folder.children):
            return agency_first(folder)
        return Scoring.for_folder(folder)

    with pytest.raises(ValueError, match=r"scoring sets of .* differ in their factors") as exc:
        pooled_candidates(tables, essex_only)
    assert "Essex" in str(exc.value) and "agency_first" in str(exc.value)
