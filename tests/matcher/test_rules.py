"""Each hard rule on a pair that breaks it alone, and on the nearest pair that passes."""

from __future__ import annotations

import datetime as dt

import pytest
from test_rules_builders import authority, child, folder, oracle_rules, place, resident, vacancy

from matcher.candidates import build_candidates, explain_pair
from matcher.domain import Child, ReferralResponse, Vacancy
from matcher.explain import Exclusion, Option
from matcher.placement_types import PlacementType as PT
from matcher.policy import Policy
from matcher.rules import DEFAULT_RULES, rule_by_name
from matcher.vocabulary import Need, Response, ResponseReason, RiskFlag, Sex, VacancySex

N = Need
R = RiskFlag
MAR_1, MAR_2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)

#: rule -> (children, vacancies) where C1/V1 breaks only that rule, and a passing variant.
CASES: dict[str, tuple[tuple[list[Child], list[Vacancy]], tuple[list[Child], list[Vacancy]]]] = {
    "connected_person_only_for_connected": (
        (
            [child("C1"), child("C2")],
            [vacancy("V1", placement_type=PT.CONNECTED_PERSON_FOSTER, connected_to={"C2"})],
        ),
        (
            [child("C1"), child("C2")],
            [vacancy("V1", placement_type=PT.CONNECTED_PERSON_FOSTER, connected_to={"C1"})],
        ),
    ),
    "secure_only_with_authorisation": (
        ([child("C1", age=14)], [vacancy("V1", placement_type=PT.SECURE_HOME)]),
        (
            [child("C1", age=14, needs=frozenset({N.SECURE}))],
            [vacancy("V1", placement_type=PT.SECURE_HOME, capabilities=frozenset({N.SECURE}))],
        ),
    ),
    "no_supported_accommodation_under_16": (
        (
            [child("C1", age=15)],
            [vacancy("V1", placement_type=PT.SUPPORTED_ACCOMMODATION, age_min=16, age_max=17)],
        ),
        (
            [child("C1", age=16)],
            [vacancy("V1", placement_type=PT.SUPPORTED_ACCOMMODATION, age_min=16, age_max=17)],
        ),
    ),
    "placement_type_suits_child": (
        ([child("C1", age=8)], [vacancy("V1", placement_type=PT.CHILDRENS_HOME)]),
        ([child("C1", age=12)], [vacancy("V1", placement_type=PT.CHILDRENS_HOME)]),
    ),
    "age_within_approval": (
        ([child("C1", age=12)], [vacancy("V1", age_min=0, age_max=11)]),
        ([child("C1", age=11)], [vacancy("V1", age_min=0, age_max=11)]),
    ),
    "sex_within_approval": (
        ([child("C1", sex=Sex.F)], [vacancy("V1", sex=VacancySex.M)]),
        ([child("C1", sex=Sex.M)], [vacancy("V1", sex=VacancySex.M)]),
    ),
    "dols_lawful": (
        ([child("C1", needs=frozenset({N.DOLS}))], [vacancy("V1")]),
        (
            [child("C1", needs=frozenset({N.DOLS}))],
            [vacancy("V1", capabilities=frozenset({N.DOLS}))],
        ),
    ),
    "parent_and_child": (
        ([child("C1", age=16, needs=frozenset({N.PARENT_AND_CHILD}))], [vacancy("V1")]),
        (
            [child("C1", age=16, needs=frozenset({N.PARENT_AND_CHILD}))],
            [vacancy("V1", capabilities=frozenset({N.PARENT_AND_CHILD}))],
        ),
    ),
    "required_adaptation": (
        ([child("C1", needs=frozenset({N.WHEELCHAIR}))], [vacancy("V1")]),
        (
            [child("C1", needs=frozenset({N.WHEELCHAIR}))],
            [vacancy("V1", capabilities=frozenset({N.WHEELCHAIR}))],
        ),
    ),
    "risk_not_manageable": (
        (
            [child("C1", risk_flags=frozenset({R.CSE, R.MISSING}))],
            [vacancy("V1", manages=frozenset({R.MISSING}))],
        ),
        (
            [child("C1", risk_flags=frozenset({R.CSE, R.MISSING}))],
            [vacancy("V1", manages=frozenset({R.MISSING, R.CSE, R.AGGRESSION}))],
        ),
    ),
    "avoid_areas": (
        ([child("C1", avoid_outcodes=frozenset({"CM2"}))], [vacancy("V1")]),
        ([child("C1", avoid_outcodes=frozenset({"CM3"}))], [vacancy("V1")]),
    ),
    "solo_only": (
        ([child("C1", needs=frozenset({N.SOLO_ONLY}))], [vacancy("V1", fostered_now=1)]),
        ([child("C1", needs=frozenset({N.SOLO_ONLY}))], [vacancy("V1", fostered_now=0)]),
    ),
    "no_younger_children": (
        (
            [child("C1", age=12, needs=frozenset({N.NO_YOUNGER_CHILDREN}))],
            [vacancy("V1", beds=2, capabilities=frozenset({N.NO_YOUNGER_CHILDREN}))],
        ),
        (
            [child("C1", age=12, needs=frozenset({N.NO_YOUNGER_CHILDREN}))],
            [vacancy("V1", beds=1, capabilities=frozenset({N.NO_YOUNGER_CHILDREN}))],
        ),
    ),
    "beds_for_sibling_group": (
        (
            [child("C1", sibling_group="G"), child("C2", sibling_group="G")],
            [vacancy("V1", beds=1)],
        ),
        (
            [child("C1", sibling_group="G"), child("C2", sibling_group="G")],
            [vacancy("V1", beds=2)],
        ),
    ),
    "fostering_limit": (
        ([child("C1")], [vacancy("V1", fostered_now=3)]),
        ([child("C1")], [vacancy("V1", fostered_now=2)]),
    ),
    "not_available_on_date": (
        ([child("C1", needed_by=MAR_1)], [vacancy("V1", available_from=MAR_2)]),
        ([child("C1", needed_by=MAR_2)], [vacancy("V1", available_from=MAR_2)]),
    ),
    "not_offered_to_pool": (
        (
            [child("C1")],
            [vacancy("V1", owner=authority("Thurrock"), offered_to_pool=False)],
        ),
        ([child("C1")], [vacancy("V1", owner=authority("Essex"), offered_to_pool=False)]),
    ),
    "declined_by_provider": (
        ([child("C1")], [vacancy("V1")]),
        ([child("C1")], [vacancy("V1")]),
    ),
    "sibling_group_together": (
        (
            [child("C1", sibling_group="G"), child("C2", age=15, sibling_group="G")],
            [vacancy("V1", beds=2, age_min=0, age_max=12)],
        ),
        (
            [child("C1", sibling_group="G"), child("C2", age=12, sibling_group="G")],
            [vacancy("V1", beds=2, age_min=0, age_max=12)],
        ),
    ),
}


#: rule -> (responses of the breaking case, responses of the passing one); default none.
RESPONSES: dict[str, tuple[list[ReferralResponse], list[ReferralResponse]]] = {
    "declined_by_provider": (
        [ReferralResponse("V1", "C1", Response.DECLINE, ResponseReason.CANNOT_MEET_NEEDS)],
        [ReferralResponse("V1", "C1", Response.CONSIDER)],
    ),
}


def test_every_rule_has_a_case_and_a_source() -> None:
    assert set(CASES) == {r.name for r in DEFAULT_RULES}
    for rule in DEFAULT_RULES:
        assert rule.kind == "hard"
        assert rule.source.strip()
        assert rule.__doc__


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_excludes_and_names_itself(name: str) -> None:
    (bad_children, bad_vacancies), (good_children, good_vacancies) = CASES[name]
    bad_responses, good_responses = RESPONSES.get(name, ([], []))
    bad = folder(bad_children, bad_vacancies, responses=bad_responses)
    found = explain_pair(bad, bad.child("C1"), bad.vacancy("V1"))
    assert isinstance(found, Exclusion), found
    assert found.rule == name
    assert found.source == rule_by_name(name).source
    assert found.reason and found.reason.endswith(".")
    good = folder(good_children, good_vacancies, responses=good_responses)
    assert isinstance(explain_pair(good, good.child("C1"), good.vacancy("V1")), Option)
    # The independent oracle agrees on both.
    if name != "sibling_group_together":
        assert name in oracle_rules(bad, bad.child("C1"), bad.vacancy("V1"))
    assert not oracle_rules(good, good.child("C1"), good.vacancy("V1"))


def test_counts_per_rule_in_the_candidate_set() -> None:
    f = folder(
        [child("C1", age=15), child("C2", age=3)],
        [vacancy("V1", age_min=0, age_max=11), vacancy("V2", sex=VacancySex.M)],
    )
    cands = build_candidates(f)
    assert cands.exclusion_counts == {"age_within_approval": 1, "sex_within_approval": 2}
    assert cands.n_pairs == 1


def test_sibling_group_of_four_alone_needs_the_exemption_signoff() -> None:
    kids = [child(f"C{i}", age=5 + i, sibling_group="G") for i in range(1, 5)]
    f = folder(kids, [vacancy("V1", beds=4), vacancy("V2", beds=4, fostered_now=1)])
    found = explain_pair(f, f.child("C1"), f.vacancy("V1"))
    assert isinstance(found, Option)
    assert "fostering_limit_exemption" in [s.code for s in found.signoffs]
    other = explain_pair(f, f.child("C1"), f.vacancy("V2"))
    assert isinstance(other, Exclusion) and other.rule == "fostering_limit"


def test_split_allowed_drops_the_unit_rules() -> None:
    kids = [child("C1", sibling_group="G"), child("C2", age=15, sibling_group="G")]
    policy = Policy(allow_sibling_split=True)
    f = folder(kids, [vacancy("V1", beds=1, age_max=12)], policy)
    assert isinstance(explain_pair(f, f.child("C1"), f.vacancy("V1")), Option)


def test_avoid_authority_and_outside_england() -> None:
    southend = authority("Southend-on-Sea")
    f = folder(
        [child("C1", avoid_authorities=frozenset({southend}))],
        [vacancy("V1", location=place("SS2 6ER")), vacancy("V2", location=place("ME4 4TR"))],
    )
    found = explain_pair(f, f.child("C1"), f.vacancy("V1"))
    assert isinstance(found, Exclusion) and found.rule == "avoid_areas"
    assert "authority" in found.reason
    assert isinstance(explain_pair(f, f.child("C1"), f.vacancy("V2")), Option)


def test_solo_only_with_spare_beds_needs_the_capability() -> None:
    kid = child("C1", needs=frozenset({N.SOLO_ONLY}))
    f = folder([kid], [vacancy("V1", beds=2)])
    found = explain_pair(f, f.child("C1"), f.vacancy("V1"))
    assert isinstance(found, Exclusion) and found.rule == "solo_only"
    g = folder([kid], [vacancy("V1", beds=2, capabilities=frozenset({N.SOLO_ONLY}))])
    assert isinstance(explain_pair(g, g.child("C1"), g.vacancy("V1")), Option)
    cands = build_candidates(g)
    assert cands.exclusive.tolist() == [True]


def test_reasons_never_carry_personal_data() -> None:
    kid = child("C1", home=place("CM1 1QH"), avoid_outcodes=frozenset({"CM2"}))
    f = folder([kid], [vacancy("V1")])
    found = explain_pair(f, f.child("C1"), f.vacancy("V1"))
    assert isinstance(found, Exclusion)
    for text in (found.reason, found.source):
        assert "CM1" not in text and "CM2" not in text


# --------------------------------------------------------------------------- residents


def _excluded_by(f: object, name: str) -> Exclusion:
    found = explain_pair(f, f.child("C1"), f.vacancy("V1"))  # type: ignore[attr-defined]
    assert isinstance(found, Exclusion), found
    assert found.rule == name
    assert name in oracle_rules(f, f.child("C1"), f.vacancy("V1"))  # type: ignore[arg-type]
    return found


def _home(**kw: object) -> Vacancy:
    return vacancy("V1", placement_type=PT.CHILDRENS_HOME, age_min=10, age_max=17, **kw)


def test_no_younger_children_child_not_placed_with_a_younger_resident() -> None:
    kid = child("C1", age=14, needs=frozenset({N.NO_YOUNGER_CHILDREN}))
    home = _home(capabilities=frozenset({N.NO_YOUNGER_CHILDREN}))
    bad = folder([kid], [home], residents=[resident("PV1", "R1", age=12)])
    found = _excluded_by(bad, "no_younger_children")
    assert "resident aged 12" in found.reason
    assert "R1" not in found.reason  # a resident is never named
    good = folder([kid], [home], residents=[resident("PV1", "R1", age=14)])
    assert isinstance(explain_pair(good, good.child("C1"), good.vacancy("V1")), Option)
    assert not oracle_rules(good, good.child("C1"), good.vacancy("V1"))


def test_no_younger_children_resident_not_joined_by_a_younger_child() -> None:
    strict = resident("PV1", "R1", age=15, needs=frozenset({N.NO_YOUNGER_CHILDREN}))
    bad = folder([child("C1", age=13)], [_home()], residents=[strict])
    found = _excluded_by(bad, "no_younger_children")
    assert "resident aged 15" in found.reason and "child is younger" in found.reason
    good = folder([child("C1", age=15)], [_home()], residents=[strict])
    assert isinstance(explain_pair(good, good.child("C1"), good.vacancy("V1")), Option)
    # The same resident without the need does not exclude the younger child.
    relaxed = folder([child("C1", age=13)], [_home()], residents=[resident("PV1", age=15)])
    assert isinstance(explain_pair(relaxed, relaxed.child("C1"), relaxed.vacancy("V1")), Option)


def test_residents_of_another_provider_do_not_count() -> None:
    strict = resident("PV2", "R1", age=15, needs=frozenset({N.NO_YOUNGER_CHILDREN}))
    f = folder([child("C1", age=13)], [_home(), vacancy("V2")], residents=[strict])
    assert isinstance(explain_pair(f, f.child("C1"), f.vacancy("V1")), Option)
    assert isinstance(explain_pair(f, f.child("C1"), f.vacancy("V2")), Exclusion)


def test_risk_not_manageable_names_the_missing_risks_and_its_source() -> None:
    f = folder(
        [child("C1", age=14, risk_flags=frozenset({R.CSE, R.MISSING, R.SELF_HARM}))],
        [_home(manages=frozenset({R.MISSING}))],
    )
    found = _excluded_by(f, "risk_not_manageable")
    assert found.reason.endswith("cse, self_harm.")
    assert "Children's Homes (England) Regulations 2015" in found.source


def test_age_and_sex_rules_cite_a_childrens_homes_registration() -> None:
    for name in ("age_within_approval", "sex_within_approval"):
        source = rule_by_name(name).source
        assert "Children's Homes (England) Regulations 2015 reg 16" in source
        assert "Fostering Services (England) Regulations 2011 reg 27" in source


def test_counts_per_rule_with_residents() -> None:
    strict = resident("PV1", "R1", age=16, needs=frozenset({N.NO_YOUNGER_CHILDREN}))
    f = folder(
        [
            child("C1", age=12),
            child("C2", age=16),
            child("C3", age=13, risk_flags=frozenset({R.CCE})),
        ],
        [_home(), vacancy("V2", placement_type=PT.CHILDRENS_HOME, manages=frozenset({R.CCE}))],
        residents=[strict],
    )
    cands = build_candidates(f)
    # C1 and C3 are younger than the resident of V1; C1 and C2 take V2; C3's risk is
    # managed only at V2, so V1 is counted for C3 under the earlier risk rule.
    assert cands.exclusion_counts == {"risk_not_manageable": 1, "no_younger_children": 1}
    assert cands.n_pairs == 4


def test_solo_only_child_not_placed_where_residents_live() -> None:
    kid = child("C1", age=14, needs=frozenset({N.SOLO_ONLY}))
    bad = folder([kid], [_home(beds=1)], residents=[resident("PV1", "R1", age=15)])
    found = _excluded_by(bad, "solo_only")
    assert found.reason == "Other children already live there; the child must be the only one."
    elsewhere = folder(
        [kid], [_home(beds=1), vacancy("V2")], residents=[resident("PV2", "R1", age=15)]
    )
    assert isinstance(
        explain_pair(elsewhere, elsewhere.child("C1"), elsewhere.vacancy("V1")), Option
    )
    assert not oracle_rules(elsewhere, elsewhere.child("C1"), elsewhere.vacancy("V1"))
