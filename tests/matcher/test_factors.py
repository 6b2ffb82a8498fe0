"""Each factor's scale on hand-made pairs: points, bounds and reasons."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_rules_builders import child, folder, place, vacancy

from matcher.candidates import explain_pair
from matcher.explain import Option
from matcher.factors import DEFAULT_FACTORS, distance_points
from matcher.placement_types import PlacementType as PT
from matcher.policy import Policy, Weights
from matcher.vocabulary import Need, Ofsted


def option(f: object, c: str = "C1", v: str = "V1") -> Option:
    found = explain_pair(f, f.child(c), f.vacancy(v))  # type: ignore[attr-defined]
    assert isinstance(found, Option), found
    return found


def test_default_set_is_one_module_per_factor_with_a_basis() -> None:
    names = [f.name for f in DEFAULT_FACTORS]
    assert names == [
        "connected_person",
        "near_home",
        "education",
        "siblings",
        "disability",
        "in_area",
        "ofsted",
        "cost",
        "culture_language",
        "age_gap",
        "shared_needs",
    ]
    modules = {type(f).__module__ for f in DEFAULT_FACTORS}
    assert len(modules) == len(DEFAULT_FACTORS)
    for f in DEFAULT_FACTORS:
        assert f.kind == "soft" and f.reference.strip()
        doc = __import__(type(f).__module__, fromlist=["x"]).__doc__
        assert doc and ("Act" in doc or "UNCRC" in doc or "Regulations" in doc)


def test_distance_curve_examples() -> None:
    p = Policy()
    miles = np.array([0.0, 10.0, 20.0, 20.1, 60.0, 75.0, 150.0, np.nan])
    assert distance_points(miles, 100, p).tolist() == [100, 90, 80, 54, 15, 0, 0, 0]


def test_distance_curve_follows_policy_step() -> None:
    p = Policy(distance_step_miles=10.0, distance_step_share=0.5, distance_zero_miles=50.0)
    assert distance_points(np.array([9.0, 11.0]), 100, p).tolist() == [82, 28]


def test_near_home_zero_for_a_separated_migrant_child() -> None:
    kid = child("C1", age=16, home=None, needs=frozenset({Need.UASC}))
    o = option(folder([kid], [vacancy("V1")]))
    assert o.points_of("near_home") == 0
    assert o.distance_miles is None
    assert "separated migrant" in o.factors[1].reason
    assert o.points_of("in_area") == Policy().weights.in_area  # still from the vacancy


def test_education_heavier_in_key_stage_4() -> None:
    from geography.schools import schools_near

    sch, _ = schools_near("CM2 0HU", limit=1)[0]
    young = option(folder([child("C1", age=10, school=sch)], [vacancy("V1")]))
    ks4 = option(folder([child("C1", age=15, school=sch)], [vacancy("V1")]))
    assert ks4.points_of("education") > young.points_of("education") > 0
    assert ks4.points_of("education") <= 160
    none = option(folder([child("C1")], [vacancy("V1")]))
    assert none.points_of("education") == 0 and none.school_distance_miles is None


def test_ks4_school_move_signoff_beyond_the_step() -> None:
    from geography.schools import schools_near

    sch, _ = schools_near("CM2 0HU", limit=1)[0]
    far = vacancy("V1", location=place("IP1 2BX"))
    o = option(folder([child("C1", age=15, school=sch)], [far]))
    assert "ks4_school_move" in [s.code for s in o.signoffs]
    near = option(folder([child("C1", age=15, school=sch)], [vacancy("V1")]))
    assert "ks4_school_move" not in [s.code for s in near.signoffs]


def test_cost_is_capped_and_never_positive() -> None:
    cheap = option(folder([child("C1", age=12)], [vacancy("V1", weekly_cost=0)]))
    dear = option(
        folder(
            [child("C1", age=12)],
            [vacancy("V1", placement_type=PT.CHILDRENS_HOME, weekly_cost=50_000)],
        )
    )
    assert cheap.points_of("cost") == 0
    assert dear.points_of("cost") == -Policy().weights.cost
    assert "capped" in next(f for f in dear.factors if f.factor == "cost").reason


@pytest.mark.parametrize(
    ("grade", "points"),
    [
        (Ofsted.OUTSTANDING, 30),
        (Ofsted.GOOD, 20),
        (Ofsted.REQUIRES_IMPROVEMENT, 10),
        (Ofsted.NOT_INSPECTED, 10),
        (Ofsted.INADEQUATE, 0),
    ],
)
def test_ofsted_thirds(grade: Ofsted, points: int) -> None:
    o = option(folder([child("C1")], [vacancy("V1", ofsted=grade)]))
    assert o.points_of("ofsted") == points


@pytest.mark.parametrize(
    ("outcome", "points", "sentence"),
    [
        (
            Ofsted.CONSISTENTLY_STRONG,
            20,
            "Ofsted supported accommodation outcome 1 of 3 (consistently strong): 20 points.",
        ),
        (
            Ofsted.INCONSISTENT,
            10,
            "Ofsted supported accommodation outcome 2 of 3 (inconsistent): 10 points.",
        ),
        (
            Ofsted.SERIOUS_WEAKNESSES,
            0,
            "Ofsted supported accommodation outcome 3 of 3 (serious weaknesses): 0 points.",
        ),
        (Ofsted.NOT_INSPECTED, 10, "Ofsted grade not inspected: 10 points."),
    ],
)
def test_ofsted_supported_accommodation_on_its_own_scale(
    outcome: Ofsted, points: int, sentence: str
) -> None:
    sa = vacancy("V1", placement_type=PT.SUPPORTED_ACCOMMODATION, age_min=16, ofsted=outcome)
    o = option(folder([child("C1", age=16)], [sa]))
    assert o.points_of("ofsted") == points
    assert next(f for f in o.factors if f.factor == "ofsted").reason == sentence


def test_ofsted_scales_scale_with_the_weight() -> None:
    policy = Policy(weights=dataclasses.replace(Weights(), ofsted=90))
    sa = vacancy(
        "V1", placement_type=PT.SUPPORTED_ACCOMMODATION, age_min=16, ofsted=Ofsted.INCONSISTENT
    )
    home = vacancy("V2", placement_type=PT.CHILDRENS_HOME, age_min=8, ofsted=Ofsted.OUTSTANDING)
    f = folder([child("C1", age=16)], [sa, home], policy)
    assert option(f, v="V1").points_of("ofsted") == 30
    assert option(f, v="V2").points_of("ofsted") == 90


def test_culture_language_parts_and_cap() -> None:
    kid = child("C1", ethnicity="WBRI", religion="christian", language="english")
    both = vacancy(
        "V1", ethnicity=frozenset({"WBRI"}), religion="christian", languages=frozenset({"english"})
    )
    assert option(folder([kid], [both])).points_of("culture_language") == 30
    lang = vacancy("V1", languages=frozenset({"english", "polish"}))
    o = option(folder([kid], [lang]))
    assert o.points_of("culture_language") == 10
    assert "language" in o.factors[-1].reason and "english" not in o.factors[-1].reason
    uasc = child("C1", age=16, home=None, needs=frozenset({Need.UASC}), language="pashto")
    exp = vacancy("V1", capabilities=frozenset({Need.UASC}), languages=frozenset({"pashto"}))
    assert option(folder([uasc], [exp])).points_of("culture_language") == 20


def test_disability_experience() -> None:
    kid = child("C1", needs=frozenset({Need.DISABILITY}))
    yes = option(folder([kid], [vacancy("V1", capabilities=frozenset({Need.DISABILITY}))]))
    no = option(folder([kid], [vacancy("V1")]))
    assert (yes.points_of("disability"), no.points_of("disability")) == (60, 0)


def test_siblings_points_per_child_of_a_group() -> None:
    kids = [child("C1", sibling_group="G"), child("C2", sibling_group="G")]
    o = option(folder(kids, [vacancy("V1", beds=2)]))
    assert o.points_of("siblings") == 100
    single = option(folder([child("C1")], [vacancy("V1")]))
    assert single.points_of("siblings") == 0


def test_in_area_points_or_tier() -> None:
    kid = child("C1")
    out = vacancy("V1", location=place("ME4 4TR"))
    assert option(folder([kid], [vacancy("V1")])).points_of("in_area") == 80
    o = option(folder([kid], [out]))
    assert o.points_of("in_area") == 0 and not o.in_area
    assert [s.code for s in o.signoffs] == ["out_of_area", "not_adjoining"]
    tiered = option(folder([kid], [vacancy("V1")], Policy(in_area_tier=True)))
    assert tiered.points_of("in_area") == 0 and tiered.tier == 1


def test_adjoining_out_of_area_has_only_the_out_of_area_signoff() -> None:
    o = option(folder([child("C1")], [vacancy("V1", location=place("RM17 6SL"))]))
    assert not o.in_area and o.adjoining
    assert [s.code for s in o.signoffs] == ["out_of_area"]


def test_policy_authority_sets_the_area_for_every_child() -> None:
    kid = child("C1")
    policy = Policy(authority="Thurrock")
    o = option(folder([kid], [vacancy("V1", location=place("RM17 6SL"))], policy))
    assert o.in_area


def test_connected_person_points_when_not_a_tier() -> None:
    kids = [child("C1")]
    kin = vacancy("V1", placement_type=PT.CONNECTED_PERSON_FOSTER, connected_to=frozenset({"C1"}))
    tier = option(folder(kids, [kin]))
    assert tier.points_of("connected_person") == 0 and tier.tier == 1
    assert "connected_person_temporary_approval" in [s.code for s in tier.signoffs]
    points = option(folder(kids, [kin], Policy(connected_person_tier=False)))
    assert points.points_of("connected_person") == 1000 and points.tier == 0


def test_bounds_contain_every_points_value() -> None:
    weights = Weights(near_home=50, education=40, cost=10, culture_language=7)
    policy = dataclasses.replace(Policy(), weights=weights, key_stage_4_multiplier=1.5)
    for f in DEFAULT_FACTORS:
        lo, hi = f.bounds(policy)
        assert lo <= 0 <= hi


@pytest.mark.parametrize(("postcode", "lo", "hi"), [("CF10 1EP", 150, 165), ("BT1 5GS", 320, 340)])
def test_placement_outside_england(postcode: str, lo: float, hi: float) -> None:
    from geography.postcodes import locate

    o = option(folder([child("C1")], [vacancy("V1", location=locate(postcode))]))
    assert o.distance_miles is not None and lo < o.distance_miles < hi
    assert not o.in_area and not o.adjoining
    assert [s.code for s in o.signoffs] == ["out_of_area", "not_adjoining"]
    assert o.points_of("near_home") == 0
