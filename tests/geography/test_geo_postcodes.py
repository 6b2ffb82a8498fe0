"""Postcode normalising and lookup against the ONS postcode directory."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from geo_samples import SAMPLE
from hypothesis import given
from hypothesis import strategies as st

import geography.postcodes as postcodes_module
from geography import (
    Authority,
    MalformedPostcodeError,
    UnknownPostcodeError,
    UnlocatablePostcodeError,
    in_authority,
    locate,
    locate_many,
    locations_in_authority,
    normalise_postcode,
    postcodes_in_authority,
    resolve_authority,
)
from geography.authorities import authority_of_lad


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("cm11aa", "CM1 1AA"),
        (" CM1  1AA ", "CM1 1AA"),
        ("CM1 1AA", "CM1 1AA"),
        ("rm17 5rw", "RM17 5RW"),
        ("RM175RW", "RM17 5RW"),
        ("e16an", "E1 6AN"),
        ("sw1a1aa", "SW1A 1AA"),
        ("\tW1A\n0AX", "W1A 0AX"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_normalise_examples(typed: str, expected: str) -> None:
    assert normalise_postcode(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "   ", "zz", "CM1 1A", "1CM 1AA", "CM1 AAA", "CM1 1AA1", "C-M1 1AA", "ABC1 1AA"]
)
def test_malformed_postcode_is_malformed_not_unknown(typed: str) -> None:
    with pytest.raises(MalformedPostcodeError, match="not shaped like a UK postcode") as info:
        normalise_postcode(typed)
    assert not isinstance(info.value, LookupError)


def test_non_text_is_malformed() -> None:
    with pytest.raises(MalformedPostcodeError, match="expected text"):
        normalise_postcode(123)  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "kind"), [("CM1 1", "sector"), ("cm1", "outcode")])
def test_partial_postcode_needs_approximate(typed: str, kind: str) -> None:
    with pytest.raises(MalformedPostcodeError, match=f"postcode {kind}, not a full postcode"):
        locate(typed)


@given(
    st.sampled_from(SAMPLE),
    st.lists(st.booleans(), min_size=8, max_size=8),
    st.sampled_from(["", " ", "  ", "\t"]),
)
def test_normalise_ignores_case_and_spacing(pc: str, lower: list[bool], pad: str) -> None:
    compact = pc.replace(" ", "")
    typed = "".join(c.lower() if low else c for c, low in zip(compact, lower, strict=False))
    typed = pad + typed[:-3] + pad + typed[-3:] + pad
    assert normalise_postcode(typed) == pc
    assert normalise_postcode(normalise_postcode(typed)) == pc


def test_known_location_cm1_1aa() -> None:
    loc = locate("cm11aa")
    assert loc.postcode == "CM1 1AA"
    assert (loc.easting, loc.northing) == (571061.0, 207179.0)
    assert loc.lad_code == "E07000070"
    assert loc.lad_name == "Chelmsford"
    assert loc.authority == Authority("E10000012", "881", "Essex", "East of England")
    assert loc.country == "England"
    assert loc.precision == "postcode"
    assert loc.approximate is False
    assert loc.grid == "OSGB36"
    # ONS-published WGS84 centroid: 51.73721, 0.47599.
    assert loc.lat == pytest.approx(51.73721, abs=2e-5)
    assert loc.lon == pytest.approx(0.47599, abs=2e-5)


def test_known_location_rm17_5rw_is_thurrock() -> None:
    loc = locate(" rm17  5rw ")
    assert loc.postcode == "RM17 5RW"
    assert (loc.easting, loc.northing) == (561798.0, 178963.0)
    assert loc.authority is not None and loc.authority.name == "Thurrock"
    assert loc.authority.dfe_code == "883"
    assert loc.lat == pytest.approx(51.48647, abs=2e-5)
    assert loc.lon == pytest.approx(0.32895, abs=2e-5)


def test_location_to_dict_is_plain() -> None:
    d = locate("CM1 1AA").to_dict()
    assert d["postcode"] == "CM1 1AA"
    assert d["authority"] == {
        "ons_code": "E10000012",
        "dfe_code": "881",
        "name": "Essex",
        "region": "East of England",
    }
    assert d["approximate"] is False


@pytest.mark.parametrize("typed", ["CM1 1ZZ", "CM99 9ZZ", "ZZ9 9ZZ", "QQ1 1AA"])
def test_unknown_postcode_is_unknown(typed: str) -> None:
    with pytest.raises(UnknownPostcodeError, match="well formed but not in the ONS") as info:
        locate(typed)
    assert isinstance(info.value, LookupError)
    assert not isinstance(info.value, UnlocatablePostcodeError)


@pytest.mark.parametrize(
    ("typed", "where"),
    [("GY1 1AA", "Channel Islands"), ("JE2 3AB", "Channel Islands"), ("IM1 1AA", "Isle of Man")],
)
def test_crown_dependencies_are_known_but_unlocatable(typed: str, where: str) -> None:
    with pytest.raises(UnlocatablePostcodeError, match=f"no grid reference.*{where}"):
        locate(typed)


def test_directory_row_without_grid_reference_is_unlocatable() -> None:
    with pytest.raises(UnlocatablePostcodeError, match="has no grid reference"):
        locate("AB11 3AG")


@pytest.mark.parametrize(
    ("typed", "country", "lad"),
    [
        ("CF10 1AA", "Wales", "Cardiff"),
        ("EH1 1YZ", "Scotland", "City of Edinburgh"),
        ("BT1 1AA", "Northern Ireland", "Belfast"),
    ],
)
def test_non_english_postcodes_resolve_with_country(typed: str, country: str, lad: str) -> None:
    loc = locate(typed)
    assert loc.country == country
    assert loc.lad_name == lad
    assert loc.authority is None


def test_northern_ireland_uses_irish_grid() -> None:
    loc = locate("BT1 1AA")
    assert loc.grid == "Irish Grid"
    assert (loc.easting, loc.northing) == (334316.0, 374675.0)
    # Belfast city centre, not somewhere in the Irish Sea (as OSGB36 would put it).
    assert loc.lat == pytest.approx(54.602, abs=0.005)
    assert loc.lon == pytest.approx(-5.922, abs=0.005)


def test_sector_and_outcode_are_approximate() -> None:
    sector = locate("cm1 1", approximate=True)
    assert (sector.postcode, sector.precision, sector.approximate) == ("CM1 1", "sector", True)
    outcode = locate("CM1", approximate=True)
    assert (outcode.postcode, outcode.precision, outcode.approximate) == ("CM1", "outcode", True)
    full = locate("CM1 1AA")
    for area in (sector, outcode):
        assert area.authority is not None and area.authority.name == "Essex"
        assert math.hypot(area.easting - full.easting, area.northing - full.northing) < 3000


def test_outcode_does_not_mix_with_longer_outcode() -> None:
    # "CM1" must not include CM11 ... CM19 (a different town).
    cm1 = locate("CM1", approximate=True)
    cm11 = locate("CM11", approximate=True)
    assert math.hypot(cm1.easting - cm11.easting, cm1.northing - cm11.northing) > 5000


def test_unknown_full_postcode_falls_back_to_sector_when_approximate() -> None:
    loc = locate("CM1 1ZZ", approximate=True)
    assert (loc.postcode, loc.precision) == ("CM1 1", "sector")


def test_unknown_sector_is_unknown() -> None:
    with pytest.raises(UnknownPostcodeError, match="no postcodes"):
        locate("ZZ9 9", approximate=True)


def test_locate_many_agrees_with_locate() -> None:
    many = locate_many([p.lower() for p in SAMPLE])
    assert many.postcodes == SAMPLE
    assert many.found.all()
    for i, pc in enumerate(SAMPLE):
        one = locate(pc)
        assert many.easting[i] == one.easting
        assert many.northing[i] == one.northing
        assert many.lat[i] == pytest.approx(one.lat, abs=1e-9)
        assert many.lon[i] == pytest.approx(one.lon, abs=1e-9)
        assert many.lad_codes[i] == one.lad_code
        assert one.authority is not None and many.la_codes[i] == one.authority.ons_code


def test_locate_many_names_the_index_not_the_postcode() -> None:
    with pytest.raises(MalformedPostcodeError, match="index 2") as info:
        locate_many(["CM1 1AA", "RM17 5RW", "not a postcode"])
    assert "not a postcode" not in str(info.value)
    with pytest.raises(UnknownPostcodeError, match="index 1") as unknown:
        locate_many(["CM1 1AA", "CM1 1ZZ"])
    assert "CM1 1ZZ" not in str(unknown.value)
    with pytest.raises(UnlocatablePostcodeError, match="index 0"):
        locate_many(["GY1 1AA"])


def test_locate_many_coerce_marks_missing() -> None:
    many = locate_many(["CM1 1AA", "junk", "CM1 1ZZ", "GY1 1AA", "BT1 1AA"], errors="coerce")
    assert many.found.tolist() == [True, False, False, False, True]
    assert np.isnan(many.easting[1:4]).all()
    assert many.postcodes == ("CM1 1AA", "", "", "", "BT1 1AA")
    assert many.countries.tolist() == ["England", "", "", "", "Northern Ireland"]
    assert many.la_codes.tolist() == ["E10000012", "", "", "", ""]
    assert many.lat[4] == pytest.approx(locate("BT1 1AA").lat)


def test_locate_many_empty_and_bad_errors_argument() -> None:
    assert len(locate_many([])) == 0
    with pytest.raises(ValueError, match="errors"):
        locate_many(["CM1 1AA"], errors="ignore")


@pytest.mark.parametrize(
    ("authority", "count"),
    # Counts from the ONS directory (Nov 2025), live and terminated postcodes.
    [("Essex", 57389), ("E06000034", 4979), ("cumberland", 13581), ("883", 4979)],
)
def test_postcodes_in_authority_counts(authority: str, count: int) -> None:
    found = postcodes_in_authority(authority)
    assert len(found) == count
    assert list(found) == sorted(found)
    assert len(set(found)) == count


def test_postcodes_in_authority_round_trip() -> None:
    thurrock = resolve_authority("Thurrock")
    found = postcodes_in_authority(thurrock)
    assert "RM17 5RW" in found
    assert "CM1 1AA" not in found
    for pc in found[::250]:
        assert normalise_postcode(pc) == pc
        assert in_authority(pc, thurrock)
        loc = locate(pc)
        assert loc.postcode == pc
        assert loc.authority == thurrock


def test_locations_in_authority_are_located_and_inside() -> None:
    arrays = locations_in_authority("Thurrock")
    assert 4900 < len(arrays) <= 4979
    assert not np.isnan(arrays.easting).any()
    assert set(arrays.la_codes.tolist()) == {"E06000034"}
    # Thurrock lies between these grid lines.
    assert arrays.easting.min() > 550000 and arrays.easting.max() < 575000
    assert arrays.lat.min() > 51.4 and arrays.lat.max() < 51.6


def test_every_english_district_in_the_directory_has_an_authority() -> None:
    lads: set[str] = set()
    for letter in postcodes_module._letters():
        index = postcodes_module._letter_index(letter)
        assert index is not None
        lads.update(code for code in index.lad_codes if code.startswith("E"))
    assert len(lads) == 296
    assert all(authority_of_lad(code) is not None for code in lads)


def test_index_cache_round_trip(tmp_path: Path) -> None:
    built = postcodes_module._build_letter("Z")
    path = tmp_path / "cache" / "postcodes_Z.npz"
    postcodes_module._save_cached(path, built)
    loaded = postcodes_module._load_cached(path)
    assert loaded is not None
    assert np.array_equal(loaded.keys, built.keys)
    assert np.array_equal(loaded.easting, built.easting, equal_nan=True)
    assert np.array_equal(loaded.lad, built.lad)
    assert loaded.lad_codes == built.lad_codes


def test_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    built = postcodes_module._build_letter("Z")
    postcodes_module._save_cached(blocker / "postcodes_Z.npz", built)  # must not raise
    assert postcodes_module._load_cached(blocker / "postcodes_Z.npz") is None


def test_cache_dir_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLACEMATCH_CACHE_DIR", str(tmp_path))
    found = postcodes_module.cache_dir()
    assert found is not None and found.parent == tmp_path
    monkeypatch.setenv("PLACEMATCH_CACHE_DIR", "")
    assert postcodes_module.cache_dir() is None


def test_points_seen_before_are_not_transformed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of points all seen before gets the numbers the transformer gave them (a
    transformer is made again in each thread, pyproj's: 30 ms for a point or two)."""
    import numpy as np

    from geography import postcodes

    e = np.array([551234.0, 562345.5])
    n = np.array([201234.0, 212345.25])
    lat, lon = postcodes._to_lat_lon(e, n, "OSGB36")
    fresh_lon, fresh_lat = postcodes._transformer("OSGB36").transform(e, n)
    assert np.array_equal(lat, fresh_lat) and np.array_equal(lon, fresh_lon)

    def no_transformer(grid: str) -> None:
        raise AssertionError("transformed again")

    monkeypatch.setattr(postcodes, "_transformer", no_transformer)
    again = postcodes._to_lat_lon(e[::-1].copy(), n[::-1].copy(), "OSGB36")
    assert np.array_equal(again[0], lat[::-1]) and np.array_equal(again[1], lon[::-1])
