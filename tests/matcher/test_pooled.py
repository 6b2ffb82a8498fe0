"""Pooled matching: the offer rule, per-authority policies, own carers, outcomes, recharges."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geography.authorities import resolve_authority
from matcher.candidates import build_candidates
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.factors import factors_for
from matcher.match import match
from matcher.policy import AuthorityOverride, Policy
from matcher.pooled import (
    Outcome,
    match_pooled,
    pooled_candidates,
    solo_folder,
)
from matcher.problems import CaseFolderError
from matcher.rank import rank_child, why_not
from matcher.result import MatchResult

POOLED = Path(__file__).resolve().parents[1] / "data" / "casefolders" / "pooled"
ESSEX, THURROCK = resolve_authority("Essex"), resolve_authority("Thurrock")


@pytest.fixture(scope="module")
def pooled() -> CaseFolder:
    return load_case_folder(POOLED)


def _with_policy(folder: CaseFolder, **overrides: dict[str, object]) -> CaseFolder:
    tables = tuple(
        AuthorityOverride(name, tuple(sorted(changes.items())))
        for name, changes in overrides.items()
    )
    return dataclasses.replace(folder, policy=dataclasses.replace(folder.policy, overrides=tables))


def _copy(tmp_path: Path, policy: str | None = None) -> Path:
    out = tmp_path / "pooled"
    shutil.copytree(POOLED, out)
    if policy is not None:
        (out / "policy.toml").write_text(policy, encoding="utf-8")
    return out


# ----------------------------------------------------------------------------- offered_to_pool


def test_a_vacancy_kept_back_is_never_given_to_another_authoritys_child(pooled: CaseFolder) -> None:
    kept = [v for v in pooled.vacancies if v.offered_to_pool is False]
    assert kept, "the test folder keeps a vacancy back"
    result = match_pooled(pooled).result
    for a in result.assignments:
        v = pooled.vacancy(a.vacancy_id)
        if v.offered_to_pool is False:
            assert pooled.child(a.child_id).authority == v.owner


def _only(folder: CaseFolder, child_id: str, vacancy_id: str, offered: bool) -> CaseFolder:
    v = dataclasses.replace(folder.vacancy(vacancy_id), offered_to_pool=offered)
    return dataclasses.replace(
        folder, children=(folder.child(child_id),), vacancies=(v,), responses=(), residents=()
    )


def test_the_offer_decides_whether_another_authoritys_child_is_placed(pooled: CaseFolder) -> None:
    # EV3 is Essex's, in Thurrock; T2 (Thurrock) lives next to it
    closed = match(_only(pooled, "T2", "EV3", offered=False))
    assert not closed.assignments
    (reason,) = closed.unplaced[0].reasons
    assert reason.excluded_by == {"not_offered_to_pool": 1}
    opened = match(_only(pooled, "T2", "EV3", offered=True))
    assert [(a.child_id, a.vacancy_id) for a in opened.assignments] == [("T2", "EV3")]
    # the owner's own child is never excluded by it
    own = match(_only(pooled, "E1", "EV3", offered=False))
    assert [a.vacancy_id for a in own.assignments] == ["EV3"]


def test_rank_and_why_not_name_the_rule_and_the_owner(pooled: CaseFolder) -> None:
    assert rank_child(pooled, "T2").excluded.get("not_offered_to_pool") == 1
    assert "not_offered_to_pool" not in rank_child(pooled, "E1").excluded
    answer = why_not(pooled, "T2", "EV3")
    assert answer.exclusion is not None
    assert answer.exclusion.rule == "not_offered_to_pool"
    assert "Kept by Essex" in answer.exclusion.reason and "s22G" in answer.exclusion.source


# ----------------------------------------------------------------------------- own carers


def test_own_carers_is_scored_only_in_pooled_folders_and_off_by_default(
    pooled: CaseFolder,
) -> None:
    names = [f.name for f in factors_for(pooled)]
    assert names[-1] == "own_carers"
    single = dataclasses.replace(
        pooled, vacancies=tuple(dataclasses.replace(v, owner=None) for v in pooled.vacancies)
    )
    assert "own_carers" not in [f.name for f in factors_for(single)]
    cands = build_candidates(pooled)
    assert not cands.factor_points[:, names.index("own_carers")].any()


def test_own_carers_first_prefers_the_childs_own_in_house_carers(pooled: CaseFolder) -> None:
    on = dataclasses.replace(pooled, policy=Policy(own_carers_first=True))
    cands = build_candidates(on)
    j = list(cands.factor_names).index("own_carers")
    for k in range(cands.n_pairs):
        child = on.children[int(cands.child_index[k])]
        vacancy = on.vacancies[int(cands.vacancy_index[k])]
        own = vacancy.owner == child.authority and vacancy.placement_type.value == "inhouse_foster"
        assert cands.factor_points[k, j] == (40 if own else 0)


def test_own_carers_may_not_outweigh_a_statutory_factor() -> None:
    with pytest.raises(ValueError, match=r"weights\.own_carers"):
        Policy(own_carers_first=True, weights=dataclasses.replace(Policy().weights, own_carers=61))
    # off, the weight is not scored and not capped
    Policy(weights=dataclasses.replace(Policy().weights, own_carers=61))


# ----------------------------------------------------------------------------- per authority


def test_an_authority_table_changes_only_that_authoritys_children(pooled: CaseFolder) -> None:
    plain = build_candidates(pooled)
    changed = pooled_candidates(
        _with_policy(pooled, Essex={"own_carers_first": True, "weights.near_home": 50})
    )
    assert np.array_equal(plain.child_index, changed.child_index)
    assert np.array_equal(plain.vacancy_index, changed.vacancy_index)
    essex = np.array([pooled.children[i].authority == ESSEX for i in plain.child_index])
    assert essex.any() and (~essex).any()
    # everyone else is scored exactly as before, factor by factor
    assert np.array_equal(plain.factor_points[~essex], changed.factor_points[~essex])
    # Essex's children are not: own carers on, near home halved
    j_own = list(plain.factor_names).index("own_carers")
    j_near = list(plain.factor_names).index("near_home")
    assert changed.factor_points[essex, j_own].max() == 40
    assert (
        changed.factor_points[essex, j_near] <= plain.factor_points[essex, j_near] // 2 + 1
    ).all()
    assert not np.array_equal(plain.score[essex], changed.score[essex])


def test_a_pooled_match_with_tables_explains_each_child_under_its_policy(
    pooled: CaseFolder,
) -> None:
    folder = _with_policy(pooled, Essex={"own_carers_first": True})
    result = match_pooled(folder).result  # validated, with each authority's explanations
    for a in result.assignments:
        points = {f.factor: f.points for f in a.factors}
        assert sum(points.values()) == a.points
        v = folder.vacancy(a.vacancy_id)
        own = (
            folder.child(a.child_id).authority == ESSEX
            and v.owner == ESSEX
            and v.placement_type.value == "inhouse_foster"
        )
        assert points["own_carers"] == (40 if own else 0)
    assert result.metrics.placed == match_pooled(pooled).result.metrics.placed


def test_a_table_for_an_authority_outside_the_region_is_refused(pooled: CaseFolder) -> None:
    with pytest.raises(ValueError, match=r'authority\."Kent".*not of this folder'):
        match_pooled(_with_policy(pooled, Kent={"own_carers_first": True}))


@pytest.mark.parametrize(
    ("table", "field", "expected"),
    [
        ('[authority."Kent"]\nown_carers_first = true\n', 'authority."Kent"', "region"),
        (
            '[authority."Narnia"]\nown_carers_first = true\n',
            'authority."Narnia"',
            "not an authority",
        ),
        ('[authority."Essex"]\nbogus = 1\n', 'authority."Essex".bogus', "unknown key"),
        (
            '[authority."Essex"]\nin_area_tier = true\n',
            'authority."Essex".in_area_tier',
            "region-wide",
        ),
        (
            '[authority."Essex"]\ncost_scale_weekly = "high"\n',
            'authority."Essex".cost_scale_weekly',
            "expected integer",
        ),
        (
            '[authority."Essex".weights]\ncost = 500\n',
            'authority."Essex".weights.cost',
            "may never outweigh",
        ),
        (
            '[authority."Essex"]\nown_carers_first = true\n[authority."E10000012"]\n'
            "own_carers_first = false\n",
            'authority."Essex"',  # tables are read in name order: the E10000012 one first
            "one table per authority",
        ),
    ],
)
def test_bad_authority_tables_name_file_table_and_key(
    tmp_path: Path, table: str, field: str, expected: str
) -> None:
    with pytest.raises(CaseFolderError) as exc:
        load_case_folder(_copy(tmp_path, table))
    found = [p for p in exc.value.problems if p.file == "policy.toml" and p.field == field]
    assert found, exc.value.problems
    assert expected in found[0].message


def test_good_authority_tables_load_and_round_trip(tmp_path: Path) -> None:
    folder = load_case_folder(
        _copy(
            tmp_path,
            '[authority."Essex"]\nown_carers_first = true\n'
            '[authority."Essex".weights]\nnear_home = 90\n',
        )
    )
    (o,) = folder.policy.overrides
    assert o.changes == (("own_carers_first", True), ("weights.near_home", 90))
    assert folder.policy.for_changes(o.changes).weights.near_home == 90
    import tomllib

    from matcher.policy import policy_from_mapping

    assert policy_from_mapping(tomllib.loads(folder.policy.to_toml())) == folder.policy


# ----------------------------------------------------------------------------- outcomes


def test_outcomes_recharges_and_region_add_up(pooled: CaseFolder) -> None:
    region = match_pooled(pooled)
    result = region.result
    assert region.region.placed == result.metrics.placed
    assert region.region.weekly_cost == result.metrics.weekly_cost
    assert sum(r.weekly_cost for r in region.recharges) == result.metrics.weekly_cost
    assert sum(r.children for r in region.recharges) == len(result.assignments)
    for r in region.recharges:
        mine = [
            a
            for a in result.assignments
            if pooled.child(a.child_id).authority == r.placing
            and pooled.vacancy(a.vacancy_id).owner == r.owner
        ]
        assert (r.children, r.weekly_cost) == (len(mine), sum(a.weekly_cost for a in mine))
    for authority, outcome in region.outcomes.items():
        kids = [c for c in pooled.children if c.authority == authority]
        assert outcome.children == len(kids)
        placed = {a.child_id for a in result.assignments}
        assert outcome.placed == sum(c.child_id in placed for c in kids)


def test_the_dividend_is_pooled_minus_each_authority_alone(pooled: CaseFolder) -> None:
    region = match_pooled(pooled, dividend=True)
    dividend = region.dividend()
    assert dividend is not None and region.solo is not None
    for authority in region.authorities:
        alone = match(solo_folder(pooled, authority))
        assert region.solo[authority][0].placed == len(alone.assignments)
        assert region.solo[authority][0].weekly_cost == alone.metrics.weekly_cost
        assert dividend[authority.name]["placed"] == (
            region.outcomes[authority].placed - len(alone.assignments)
        )
    # Thurrock has three children and one bed of its own: pooling places the other two
    assert region.solo[THURROCK][0].placed == 1
    assert dividend["Thurrock"]["placed"] == 2
    assert dividend["region"]["placed"] == sum(
        d["placed"] for name, d in dividend.items() if name != "region"
    )


def test_solo_folders_hold_only_the_authoritys_children_and_own_vacancies(
    pooled: CaseFolder,
) -> None:
    alone = solo_folder(pooled, ESSEX)
    assert {c.authority for c in alone.children} == {ESSEX}
    assert {v.owner for v in alone.vacancies} == {ESSEX}
    assert len(alone.vacancies) == sum(v.owner == ESSEX for v in pooled.vacancies)


def test_outcome_counts_refuse_negatives() -> None:
    with pytest.raises(ValueError, match="placed"):
        Outcome(1, -1, 0, 0, 0, 0, 0, 0, 0)


def test_a_folder_that_is_not_pooled_is_refused(pooled: CaseFolder) -> None:
    single = dataclasses.replace(
        pooled, vacancies=tuple(dataclasses.replace(v, owner=None) for v in pooled.vacancies)
    )
    with pytest.raises(ValueError, match="not a pooled folder"):
        match_pooled(single)


#: From 40: every weight stays at least ``cost`` and ``own_carers``, so no table is refused.
_WEIGHT = st.integers(min_value=40, max_value=400)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    essex=st.fixed_dictionaries(
        {"weights.near_home": _WEIGHT, "weights.ofsted": _WEIGHT, "own_carers_first": st.booleans()}
    ),
    thurrock=st.fixed_dictionaries(
        {"weights.in_area": _WEIGHT, "weights.cost": st.integers(0, 20)}
    ),
)
def test_any_tables_place_as_many_children_and_explanations_add_up(
    pooled: CaseFolder, essex: dict[str, object], thurrock: dict[str, object]
) -> None:
    folder = _with_policy(pooled, Essex=essex, Thurrock=thurrock)
    region = match_pooled(folder)  # raises MatchError if the validator finds a fault
    # the most children placed does not depend on any authority's points
    assert region.result.metrics.placed == match_pooled(pooled).result.metrics.placed
    for a in region.result.assignments:
        assert sum(f.points for f in a.factors) == a.points
    assert region.result.objective == sum(a.objective_points for a in region.result.assignments)


def test_a_solo_match_not_proven_is_said_so(pooled: CaseFolder) -> None:
    def unproven(folder: CaseFolder, params: object) -> MatchResult:
        return dataclasses.replace(match(folder), status="feasible")

    region = match_pooled(pooled, dividend=True, solo_match=unproven)
    text = region.text()
    assert "Alone: Essex feasible" in text and "not a proven best" in text
    assert {s["status"] for s in region.to_dict()["solo"]} == {"feasible"}
    assert "not a proven best" not in match_pooled(pooled, dividend=True).text()


def test_the_summary_is_the_texts_figures_as_data(pooled: CaseFolder) -> None:
    region = match_pooled(pooled, dividend=True)
    summary = region.summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["region"] == region.region.to_dict()
    assert summary["dividend"] == region.dividend()
    outcomes = summary["authorities"]
    assert list(outcomes) == [a.name for a in region.authorities]
    across = [r for r in region.recharges if r.placing != r.owner]
    assert summary["recharged_children"] == sum(r.children for r in across)
    text = region.text()
    for r in across:
        assert f"{r.placing.name} -> {r.owner.name}: {r.children} children" in text


def test_tables_in_a_folder_that_is_not_pooled_are_refused(tmp_path: Path) -> None:
    good = Path(__file__).resolve().parents[1] / "data" / "casefolders" / "good"
    folder = tmp_path / "good"
    shutil.copytree(good, folder)
    (folder / "policy.toml").write_text(
        '[authority."Essex"]\nown_carers_first = true\n', encoding="utf-8"
    )
    with pytest.raises(CaseFolderError) as exc:
        load_case_folder(folder)
    (problem,) = exc.value.problems
    assert (problem.file, problem.field) == ("policy.toml", 'authority."Essex"')
    assert "need a pooled folder" in problem.message
