"""Children's services authorities: resolving, adjacency, in-area decisions."""

from __future__ import annotations

import pytest

from geography import (
    Authority,
    UnknownAuthorityError,
    UnknownPostcodeError,
    adjoining,
    authorities,
    authorities_in_region,
    in_authority,
    regions,
    resolve_authority,
)
from geography.authorities import la_type, lad_name

ESSEX = Authority("E10000012", "881", "Essex", "East of England")


def test_there_are_153_authorities_with_unique_codes() -> None:
    found = authorities()
    assert len(found) == 153
    assert len({a.ons_code for a in found}) == 153
    assert len({a.dfe_code for a in found}) == 153
    assert all(a.dfe_code is not None and len(a.dfe_code) == 3 for a in found)
    assert {a.ons_code[:3] for a in found} == {"E06", "E08", "E09", "E10"}
    assert len(regions()) == 9


@pytest.mark.parametrize(
    "text", ["E10000012", "e10000012", "881", "Essex", "ESSEX", " essex ", ESSEX]
)
def test_resolve_essex_every_way(text: str | Authority) -> None:
    assert resolve_authority(text) == ESSEX  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Thurrock", "E06000034"),
        ("883", "E06000034"),
        ("Cumberland", "E06000063"),
        ("942", "E06000063"),
        ("westmorland & furness", "E06000064"),
        ("Bristol", "E06000023"),
        ("Bristol, City of", "E06000023"),
        ("city of bristol", "E06000023"),
        ("Kingston upon Hull", "E06000010"),
        ("Hull", "E06000010"),
        ("southend on sea", "E06000033"),
        ("St. Helens", "E08000013"),
        ("City of London", "E09000001"),
        ("North Yorkshire", "E06000065"),
        ("Barnsley", "E08000038"),
    ],
)
def test_resolve_names_and_numbers(text: str, code: str) -> None:
    assert resolve_authority(text).ons_code == code


def test_unknown_authority_lists_close_matches() -> None:
    with pytest.raises(UnknownAuthorityError, match=r"did you mean Essex \(E10000012, 881\)"):
        resolve_authority("Esex")
    with pytest.raises(UnknownAuthorityError, match="York") as info:
        resolve_authority("Yorks")
    assert isinstance(info.value, LookupError) and isinstance(info.value, ValueError)


def test_unknown_authority_without_matches_says_what_is_expected() -> None:
    with pytest.raises(UnknownAuthorityError, match=r"ONS code.*DfE number.*name") as info:
        resolve_authority("qqqqqq")
    assert "did you mean" not in str(info.value)


def test_abolished_authority_names_its_successors() -> None:
    with pytest.raises(UnknownAuthorityError, match=r"Cumberland.*Westmorland and Furness"):
        resolve_authority("E10000006")
    with pytest.raises(UnknownAuthorityError, match="Cumberland"):
        resolve_authority("909")
    with pytest.raises(UnknownAuthorityError, match=r"Cumbria \(abolished 2023\)"):
        resolve_authority("cumbria")
    with pytest.raises(UnknownAuthorityError, match="North Northamptonshire"):
        resolve_authority("Northamptonshire")


def test_district_code_names_its_upper_tier_authority() -> None:
    with pytest.raises(UnknownAuthorityError, match=r"district Chelmsford.*Essex"):
        resolve_authority("E07000070")


def test_welsh_code_is_not_english() -> None:
    with pytest.raises(UnknownAuthorityError, match="Cardiff in Wales"):
        resolve_authority("W06000015")


def test_authority_validates() -> None:
    with pytest.raises(ValueError, match="ons_code"):
        Authority("E07000070", None, "Chelmsford", "East of England")
    with pytest.raises(ValueError, match="dfe_code"):
        Authority("E10000012", "88", "Essex", "East of England")


def test_adjoining_thurrock() -> None:
    names = {a.name for a in adjoining("Thurrock")}
    assert {"Essex", "Havering"} <= names
    assert "Thurrock" not in names
    assert "Cumberland" not in names


def test_adjacency_is_symmetric_and_irreflexive() -> None:
    for a in authorities():
        for b in adjoining(a):
            assert a in adjoining(b)
            assert a != b


def test_cumberland_neighbours() -> None:
    assert resolve_authority("Westmorland and Furness") in adjoining("Cumberland")


def test_in_authority_decided_by_postcode_district() -> None:
    assert in_authority("CM1 1AA", "Essex")
    assert in_authority("cm11aa", "881")
    assert not in_authority("CM1 1AA", "Thurrock")
    assert in_authority("RM17 5RW", "E06000034")
    assert not in_authority("RM17 5RW", ESSEX)
    assert not in_authority("CF10 1AA", "Essex")  # Wales
    assert in_authority("CA1 1AA", "Cumberland")  # Carlisle
    with pytest.raises(UnknownPostcodeError):
        in_authority("CM1 1ZZ", "Essex")
    with pytest.raises(UnknownAuthorityError):
        in_authority("CM1 1AA", "Esex")


def test_regions_and_types() -> None:
    east = authorities_in_region("east of england")
    assert ESSEX in east and len(east) == 11
    with pytest.raises(UnknownAuthorityError, match="region"):
        authorities_in_region("Wessex")
    assert la_type("Essex") == "county"
    assert la_type("Thurrock") == "unitary"
    assert lad_name("N09000003") == "Belfast"
