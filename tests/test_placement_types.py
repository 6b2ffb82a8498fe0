"""Placement types and their SSDA903 codes."""

import pytest

from matcher.placement_types import (
    SSDA903,
    SUFFICIENCY_GROUP,
    PlacementType,
    SufficiencyGroup,
    codes_for,
    sufficiency_group_of_place,
)


def test_vocabulary_is_the_public_contract() -> None:
    assert [t.value for t in PlacementType] == [
        "connected_person_foster",
        "inhouse_foster",
        "agency_foster",
        "childrens_home",
        "supported_accommodation",
        "parent_and_child",
        "secure_home",
    ]


def test_parse_is_case_insensitive_and_errors_list_vocabulary() -> None:
    assert PlacementType.parse(" Childrens_Home ") is PlacementType.CHILDRENS_HOME
    with pytest.raises(ValueError, match="connected_person_foster"):
        PlacementType.parse("foster")


def test_every_type_maps_to_real_903_codes() -> None:
    place = codes_for("PLACE")
    provider = codes_for("PLACE_PROVIDER")
    for ptype, mapping in SSDA903.items():
        assert mapping.place in place, ptype
        assert mapping.place_provider in provider, ptype
        assert mapping.place in mapping.place_codes
        assert set(mapping.place_codes) <= set(place)
    assert set(SSDA903) == set(PlacementType) == set(SUFFICIENCY_GROUP)


@pytest.mark.parametrize(
    ("place", "group"),
    [
        ("U1", SufficiencyGroup.FOSTERING),
        ("u6", SufficiencyGroup.FOSTERING),
        ("K2", SufficiencyGroup.RESIDENTIAL),
        ("K1", SufficiencyGroup.RESIDENTIAL),
        ("K3", SufficiencyGroup.SUPPORTED_ACCOMMODATION),
        ("H5", SufficiencyGroup.SUPPORTED_ACCOMMODATION),
        ("P1", SufficiencyGroup.OTHER),
        ("A3", SufficiencyGroup.OTHER),
    ],
)
def test_sufficiency_group_of_place(place: str, group: SufficiencyGroup) -> None:
    assert sufficiency_group_of_place(place) is group


def test_unknown_place_code_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown SSDA903 PLACE code"):
        sufficiency_group_of_place("Q9")
