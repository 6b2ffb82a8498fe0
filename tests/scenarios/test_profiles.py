"""Authority profiles: figures with provenance, the four own profiles, the national default."""

import json

import pytest

from scenarios.profiles import (
    OWN_PROFILE_AUTHORITIES,
    Figure,
    Mix,
    essex_profile,
    national_profile,
    own_profile,
    profile_for,
)


def test_essex_seed_figures_are_published() -> None:
    p = essex_profile()
    assert p.children.value == 1131 and p.children.status == "published"
    assert p.uasc_children == 119
    assert p.placement_mix.status == "published"
    assert p.placement_mix.share("fostering") == pytest.approx(0.66)
    assert p.placement_mix.share("residential") == pytest.approx(0.109)
    assert p.placement_mix.share("supported_accommodation") == pytest.approx(0.126)
    assert p.placement_mix.share("other") == pytest.approx(1 - 0.66 - 0.109 - 0.126)
    assert p.uasc_age_16_17_share.value == 0.98
    assert p.uasc_male_share.value == pytest.approx(0.908)
    assert p.sibling_share.value == 0.44
    assert p.disabled_share.value == pytest.approx(0.083)
    assert p.in_county_supply_share.value == 0.79
    assert dict(p.fixed_ethnicity)["WBRI"].value == pytest.approx(0.717)
    assert dict(p.fixed_ethnicity)["BAFR"].value == pytest.approx(0.072)
    assert p.weekly_cost("inhouse_foster") == 500
    assert p.weekly_cost("agency_foster") == 820
    assert p.weekly_cost("childrens_home") == 6100
    assert p.weekly_cost("supported_accommodation") == 3300


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Essex", "essex"),
        ("essex", "essex"),
        ("E10000012", "essex"),
        ("881", "essex"),
        ("Thurrock", "thurrock"),
        ("E06000034", "thurrock"),
        ("Suffolk", "suffolk"),
        ("935", "suffolk"),
        ("Cheshire East", "cheshire_east"),
        ("cheshire_east", "cheshire_east"),
        ("E06000049", "cheshire_east"),
    ],
)
def test_own_profiles_by_name_code_or_number(text: str, key: str) -> None:
    p = own_profile(text)
    assert p is not None and p.key == key
    assert profile_for(text).key == key


def test_other_authorities_get_the_national_default() -> None:
    assert own_profile("Kent") is None
    p = profile_for("E10000016", name="Kent")
    assert p.key == "national"
    assert p.authority == "Kent"
    assert p.children.value == 534
    assert national_profile().placement_mix.share("fostering") == pytest.approx(0.68)


def test_cheshire_east_and_suffolk_published_figures() -> None:
    ce = profile_for("Cheshire East")
    assert ce.children.value == 533 and ce.children.status == "published"
    suffolk = profile_for("Suffolk")
    assert suffolk.in_county_supply_share.value == pytest.approx(0.89)
    assert suffolk.in_county_supply_share.status == "published"
    assert suffolk.children.status == "assumed"
    assert profile_for("Thurrock").children.status == "assumed"


@pytest.mark.parametrize("name", OWN_PROFILE_AUTHORITIES)
def test_every_figure_states_published_or_assumed_with_a_source(name: str) -> None:
    p = profile_for(name)
    data = p.to_json()
    json.dumps(data)  # plain JSON
    figures = data["figures"]
    assert set(data["published"]) | set(data["assumed"]) == set(figures)
    assert not set(data["published"]) & set(data["assumed"])
    for fig in figures.values():
        assert fig["status"] in ("published", "assumed")
        assert len(fig["source"]) > 10
    for mix_name in ("placement_mix", "age_bands", "ethnicity", "uasc_ethnicity"):
        shares = figures[mix_name]["shares"]
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-5)


def test_mix_normalises_and_rejects_bad_shares() -> None:
    m = Mix((("a", 2.0), ("b", 6.0)), "assumed", "why")
    assert m.probabilities == (0.25, 0.75)
    assert m.share("c") == 0.0
    with pytest.raises(ValueError, match="repeated"):
        Mix((("a", 1.0), ("a", 1.0)), "assumed", "why")
    with pytest.raises(ValueError, match="not all zero"):
        Mix((("a", 0.0),), "assumed", "why")
    with pytest.raises(ValueError, match="status"):
        Mix((("a", 1.0),), "guessed", "why")  # type: ignore[arg-type]


def test_figure_validation() -> None:
    assert Figure(0.5, "published", "src").to_json() == {
        "value": 0.5,
        "status": "published",
        "source": "src",
    }
    with pytest.raises(ValueError, match="finite"):
        Figure(float("nan"), "assumed", "x")
    with pytest.raises(ValueError, match="status"):
        Figure(1.0, "rumoured", "x")  # type: ignore[arg-type]


def test_profile_rejects_a_share_over_one() -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match="disabled_share"):
        replace(essex_profile(), disabled_share=Figure(1.5, "assumed", "x"))
