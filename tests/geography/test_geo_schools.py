"""Schools by URN and schools near a place."""

from __future__ import annotations

import math

import pytest

from geography import GeographyError, UnknownSchoolError, locate
from geography.errors import CrossGridError
from geography.schools import School, school, schools, schools_near


def test_school_by_urn() -> None:
    s = school(100000)
    assert s.name == "The Aldgate School"
    assert s.phase == "Primary"
    assert (s.age_low, s.age_high) == (3, 11)
    assert s.postcode == "EC3A 5DE"
    assert s.authority is not None and s.authority.dfe_code == "201"
    assert s.lat == pytest.approx(51.51366)
    assert s.is_open and s.teaches(5) and not s.teaches(12)
    assert school(" 100000 ") == s
    assert school("100000") is s


def test_school_grid_reference_matches_its_postcode() -> None:
    s = school(136642)  # King Edward VI Grammar School, Chelmsford
    assert s.postcode is not None and s.easting is not None and s.northing is not None
    loc = locate(s.postcode)
    assert math.hypot(s.easting - loc.easting, s.northing - loc.northing) < 25


def test_unknown_and_malformed_urn() -> None:
    with pytest.raises(UnknownSchoolError, match="no school with URN 999999999"):
        school(999999999)
    with pytest.raises(GeographyError, match="expected a number") as info:
        school("abc")
    assert not isinstance(info.value, UnknownSchoolError)


def test_schools_count_and_unique() -> None:
    found = schools()
    assert len(found) == 26166
    assert len({s.urn for s in found}) == 26166


def test_schools_near_are_sorted_filtered_and_within_radius() -> None:
    near = schools_near("CM1 1AA", phase="secondary", radius_miles=3, limit=None)
    assert near, "Chelmsford has secondary schools within 3 miles"
    miles = [m for _, m in near]
    assert miles == sorted(miles)
    assert all(m <= 3 for m in miles)
    assert all(s.phase == "Secondary" and s.is_open for s, _ in near)
    assert near[0][0].urn == 136642
    assert near[0][1] == pytest.approx(0.4939, abs=1e-3)
    assert len(schools_near("CM1 1AA", phase="Secondary", radius_miles=3, limit=2)) == 2


def test_schools_near_by_age_includes_all_through() -> None:
    near = schools_near(locate("CM1 1AA"), age=15, radius_miles=10, limit=None)
    assert all(s.teaches(15) for s, _ in near)
    assert {s.phase for s, _ in near} >= {"Secondary"}
    wider = schools_near("CM1 1AA", age=15, radius_miles=10, limit=None, include_closed=True)
    assert len(wider) >= len(near)


def test_schools_near_from_school_and_grid_pair() -> None:
    s = school(136642)
    near = schools_near(s, radius_miles=0.0, limit=None)
    assert (s, 0.0) in near
    assert s.easting is not None and s.northing is not None
    assert schools_near((s.easting, s.northing), radius_miles=0.0)[0][1] == 0.0


def test_schools_near_rejects_bad_input() -> None:
    with pytest.raises(GeographyError, match="phase"):
        schools_near("CM1 1AA", phase="juniors")
    with pytest.raises(GeographyError, match="radius"):
        schools_near("CM1 1AA", radius_miles=-1)
    with pytest.raises(GeographyError, match="radius"):  # not an empty answer
        schools_near("CM1 1AA", radius_miles=float("nan"))
    with pytest.raises(CrossGridError):
        schools_near("BT1 1AA")


def test_school_validates() -> None:
    with pytest.raises(ValueError, match="age range"):
        School(1, "X", "Primary", 11, 3, None, None, None, None, None, None)
    with pytest.raises(ValueError, match="all of lat"):
        School(1, "X", "Primary", 3, 11, None, 51.0, None, None, None, None)
