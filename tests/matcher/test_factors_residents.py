"""The factors about residents (age_gap, shared_needs) and the impact-risk summary."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from test_candidates_properties import folders
from test_rules_builders import child, folder, resident, vacancy

from matcher.candidates import build_candidates, explain_pair
from matcher.domain import CaseFolder, Vacancy
from matcher.explain import Option
from matcher.factors import DEFAULT_FACTORS, RESIDENT_FACTORS, factors_for
from matcher.impact import impact_summary
from matcher.placement_types import PlacementType as PT
from matcher.policy import Policy, Weights
from matcher.rank import rank_child
from matcher.vocabulary import Need, RiskFlag, Sex

N, R = Need, RiskFlag


def home(**kw: object) -> Vacancy:
    args: dict[str, object] = {"placement_type": PT.CHILDRENS_HOME, "age_min": 8, "beds": 2}
    return vacancy("V1", **{**args, **kw})


def points(f: CaseFolder, name: str, c: str = "C1", v: str = "V1") -> tuple[int, str]:
    found = explain_pair(f, f.child(c), f.vacancy(v))
    assert isinstance(found, Option), found
    (fp,) = [x for x in found.factors if x.factor == name]
    assert sum(x.points for x in found.factors) == found.score
    return fp.points, fp.reason


@pytest.mark.parametrize(
    ("ages", "expected"),
    [
        ([14], 0),  # same age
        ([11, 17], 0),  # 3 years either way: within the allowed gap
        ([10], -10),  # 4 years: one beyond, a quarter of 40
        ([9, 15], -20),  # widest 5
        ([8], -30),
        ([7], -40),  # 7 years: all of it
        ([0, 17], -40),  # 14 years: capped at the weight
    ],
)
def test_age_gap_scale(ages: list[int], expected: int) -> None:
    living = [resident("PV1", f"R{i}", age=a) for i, a in enumerate(ages)]
    f = folder([child("C1", age=14)], [home()], residents=living)
    got, reason = points(f, "age_gap")
    assert got == expected
    widest = max(abs(14 - a) for a in ages)
    assert f"gap {widest}" in reason or f"is {widest} years" in reason
    assert "R0" not in reason  # residents are never named


def test_age_gap_policy_years_and_weight() -> None:
    living = [resident("PV1", "R1", age=8)]
    policy = Policy(weights=Weights(age_gap=100), resident_age_gap_years=5)
    f = folder([child("C1", age=14)], [home()], policy, residents=living)
    assert points(f, "age_gap")[0] == -25  # 6 years, 1 beyond 5, a quarter of 100
    off = folder([child("C1", age=14)], [home()], Policy(weights=Weights(age_gap=0)), living)
    assert points(off, "age_gap")[0] == 0


def test_nobody_living_there_scores_zero_and_says_so() -> None:
    f = folder(
        [child("C1", age=14, needs=frozenset({N.DISABILITY}))],
        [home(), vacancy("V2")],
        residents=[resident("PV2", "R1", age=3, needs=frozenset({N.DISABILITY}))],
    )
    assert points(f, "age_gap") == (0, "Nobody recorded as living there: not scored.")
    assert points(f, "shared_needs") == (0, "Nobody recorded as living there: not scored.")
    # V2's resident is 11 years younger and shares the need.
    assert points(f, "age_gap", v="V2")[0] == -40
    assert points(f, "shared_needs", v="V2")[0] == 10


@pytest.mark.parametrize(
    ("child_needs", "resident_needs", "expected"),
    [
        (set(), {N.DISABILITY}, 0),
        ({N.DISABILITY}, set(), 0),
        ({N.DISABILITY}, {N.DISABILITY}, 10),
        ({N.DISABILITY, N.WHEELCHAIR}, {N.DISABILITY, N.WHEELCHAIR}, 20),
        ({N.DISABILITY, N.WHEELCHAIR, N.UASC}, {N.DISABILITY, N.WHEELCHAIR, N.UASC}, 20),
        ({N.NO_YOUNGER_CHILDREN}, {N.NO_YOUNGER_CHILDREN}, 0),  # an exclusion is not shared
        ({N.SIBLING_GROUP}, {N.SIBLING_GROUP}, 0),  # nor is being one of siblings
    ],
)
def test_shared_needs_scale(
    child_needs: set[Need], resident_needs: set[Need], expected: int
) -> None:
    caps = frozenset(child_needs & {N.WHEELCHAIR, N.NO_YOUNGER_CHILDREN})
    kid = child("C1", age=14, needs=frozenset(child_needs))
    living = [resident("PV1", "R1", age=14, needs=frozenset(resident_needs))]
    f = folder([kid], [home(capabilities=caps, beds=1)], residents=living)
    got, reason = points(f, "shared_needs")
    assert got == expected
    if expected:
        assert reason.endswith(f"{expected} points.") or reason.endswith("(capped).")
        assert "disability" in reason


def test_without_residents_the_factors_are_not_scored_or_listed() -> None:
    f = folder([child("C1")], [home()])
    assert factors_for(f) == tuple(x for x in DEFAULT_FACTORS if x.name not in RESIDENT_FACTORS)
    found = explain_pair(f, f.child("C1"), f.vacancy("V1"))
    assert isinstance(found, Option)
    assert not {x.factor for x in found.factors} & RESIDENT_FACTORS
    assert build_candidates(f).factor_names == tuple(x.name for x in factors_for(f))
    with_them = dataclasses.replace(f, residents=(resident("PV1", "R1", age=10),))
    assert factors_for(with_them) == DEFAULT_FACTORS
    assert set(build_candidates(with_them).factor_names) >= RESIDENT_FACTORS


def test_residents_change_only_their_own_factors() -> None:
    kid = child("C1", age=14, needs=frozenset({N.DISABILITY}))
    bare = folder([kid], [home(capabilities=frozenset({N.DISABILITY}))])
    living = (resident("PV1", "R1", age=9, needs=frozenset({N.DISABILITY})),)
    full = dataclasses.replace(bare, residents=living)
    a = explain_pair(bare, bare.child("C1"), bare.vacancy("V1"))
    b = explain_pair(full, full.child("C1"), full.vacancy("V1"))
    assert isinstance(a, Option) and isinstance(b, Option)
    others = {x.factor: x.points for x in b.factors if x.factor not in RESIDENT_FACTORS}
    assert others == {x.factor: x.points for x in a.factors}
    assert b.score == a.score - 20 + 10  # 5-year gap (-20), one shared need (+10)


# --------------------------------------------------------------------------- impact


def test_impact_names_each_interaction() -> None:
    kid = child("C1", age=14, sex=Sex.M, risk_flags=frozenset({R.AGGRESSION, R.MISSING}))
    living = [
        resident("PV1", "R1", age=10, risk_flags=frozenset({R.MISSING})),
        resident("PV1", "R2", age=16, risk_flags=frozenset({R.HARMFUL_SEXUAL_BEHAVIOUR})),
    ]
    f = folder([kid], [home(manages=frozenset({R.AGGRESSION, R.MISSING}))], residents=living)
    s = impact_summary(f, "C1", "V1")
    assert s.eligible and s.level == "high"
    r1, r2 = s.residents
    assert (r1.resident_ref, r1.age_gap, r1.shared_risks) == ("R1", -4, ("missing",))
    assert r1.concerns == (
        "Risk to a younger resident: the child's aggression.",
        "Shared peer risk: missing.",
    )
    assert r2.concerns == ("Risk to the younger child: this resident's harmful_sexual_behaviour.",)
    assert s.factors["age_gap"]["points"] == -10
    data = s.to_dict()
    assert data["impact_risk"] == "high" and data["residents"][0]["resident_ref"] == "R1"
    text = s.text()
    assert "Residents (2):" in text and "Impact risk: high." in text


def test_impact_levels() -> None:
    kid = child("C1", age=14, risk_flags=frozenset({R.CSE}))
    peer = [resident("PV1", "R1", age=15, risk_flags=frozenset({R.CSE}))]
    manage = home(manages=frozenset({R.CSE}))
    assert impact_summary(folder([kid], [manage], residents=peer), "C1", "V1").level == "medium"
    calm = [resident("PV1", "R1", age=15)]
    assert impact_summary(folder([kid], [manage], residents=calm), "C1", "V1").level == "low"
    unknown = impact_summary(folder([kid], [manage]), "C1", "V1")
    assert unknown.level == "unknown" and not unknown.residents_known
    assert "not known" in unknown.text()
    refused = impact_summary(folder([kid], [home()], residents=calm), "C1", "V1")
    assert (refused.eligible, refused.rule, refused.unmanaged) == (
        False,
        "risk_not_manageable",
        ("cse",),
    )
    assert refused.level == "high" and refused.points is None


def test_impact_of_an_unknown_id_is_a_lookup_error() -> None:
    f = folder([child("C1")], [home()])
    with pytest.raises(LookupError, match="vacancy_id 'V9'"):
        impact_summary(f, "C1", "V9")
    with pytest.raises(LookupError, match="child_id 'C9'"):
        impact_summary(f, "C9", "V1")


@settings(max_examples=40)
@given(folders())
def test_impact_agrees_with_the_ranking(folder: CaseFolder) -> None:
    for c in folder.children:
        ranked = {o.vacancy_id: o for o in rank_child(folder, c.child_id).options}
        for v in folder.vacancies:
            s = impact_summary(folder, c.child_id, v.vacancy_id)
            assert s.eligible == (v.vacancy_id in ranked)
            assert s.residents_known == bool(folder.residents)
            assert [r.resident_ref for r in s.residents] == [
                r.resident_ref for r in folder.residents_of(v.provider_id)
            ]
            if s.eligible:
                o = ranked[v.vacancy_id]
                assert s.points == o.score
                for name, f in s.factors.items():
                    assert f["points"] == o.points_of(name)
                assert set(s.factors) == (
                    {"age_gap", "shared_needs"} if s.residents_known else set()
                )
            else:
                assert s.rule is not None and s.points is None
