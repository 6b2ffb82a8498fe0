"""Straight-line miles: the DfE 903 formula, matrices and great-circle agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geo_samples import SAMPLE
from hypothesis import given
from hypothesis import strategies as st

from geography import (
    CrossGridError,
    UnknownPostcodeError,
    distance_matrix,
    distance_miles,
    great_circle_matrix,
    great_circle_miles,
    grid_miles,
    locate,
    locate_many,
    pl_distance,
)


def test_known_pl_distance() -> None:
    # DfE 903 formula on the ONS grid references: sqrt(9263² + 28216²) / 1000 / 1.6093.
    assert pl_distance("CM1 1AA", "RM17 5RW") == 18.5
    assert distance_miles("cm11aa", "rm175rw") == pytest.approx(18.45372069, abs=1e-8)
    assert grid_miles(571061, 207179, 561798, 178963) == pytest.approx(18.45372069, abs=1e-8)


def test_grid_miles_is_the_literal_formula() -> None:
    e1, n1, e2, n2 = 134340.0, 25043.0, 654502.0, 292139.0
    expected = math.sqrt((e1 - e2) ** 2 + (n1 - n2) ** 2) / 1000 / 1.6093
    assert grid_miles(e1, n1, e2, n2) == expected
    assert isinstance(grid_miles(e1, n1, e2, n2), float)
    arr = grid_miles(np.array([e1, e1]), np.array([n1, n1]), e2, n2)
    assert isinstance(arr, np.ndarray) and arr.tolist() == [expected, expected]


points = st.sampled_from(SAMPLE)


@given(points, points)
def test_distance_is_symmetric(a: str, b: str) -> None:
    assert distance_miles(a, b) == distance_miles(b, a)


@given(points)
def test_distance_to_self_is_zero(a: str) -> None:
    assert distance_miles(a, a) == 0.0
    assert pl_distance(a, a) == 0.0


@given(points, points, points)
def test_triangle_inequality(a: str, b: str, c: str) -> None:
    assert distance_miles(a, c) <= distance_miles(a, b) + distance_miles(b, c) + 1e-9


@given(points, points)
def test_pl_distance_is_rounded_distance(a: str, b: str) -> None:
    exact = distance_miles(a, b)
    rounded = pl_distance(a, b)
    assert abs(rounded - exact) <= 0.05 + 1e-9
    assert round(rounded * 10) == pytest.approx(rounded * 10)


def test_distance_matrix_matches_loop() -> None:
    homes = locate_many(SAMPLE[:7])
    places = locate_many(SAMPLE[5:])
    matrix = distance_matrix(homes.easting, homes.northing, places.easting, places.northing)
    assert matrix.shape == (7, len(SAMPLE) - 5)
    for i, a in enumerate(SAMPLE[:7]):
        for j, b in enumerate(SAMPLE[5:]):
            assert matrix[i, j] == distance_miles(a, b)  # bit-identical to the formula


def test_distance_matrix_float32_and_nan() -> None:
    e = np.array([571061.0, np.nan])
    n = np.array([207179.0, 1.0])
    m32 = distance_matrix(e, n, [561798.0], [178963.0], dtype=np.float32)
    assert m32.dtype == np.float32
    assert m32[0, 0] == pytest.approx(18.4537, abs=1e-3)
    assert np.isnan(m32[1, 0])
    with pytest.raises(ValueError, match="same length"):
        distance_matrix([1.0, 2.0], [1.0], [1.0], [1.0])


def test_cross_grid_distance_is_refused() -> None:
    with pytest.raises(CrossGridError, match="Irish Grid"):
        distance_miles("BT1 1AA", "CM1 1AA")
    a, b = locate("BT1 1AA"), locate("CM1 1AA")
    # Belfast to Chelmsford is about 331 miles as the crow flies.
    assert 320 < great_circle_miles(a.lat, a.lon, b.lat, b.lon) < 345


def test_distance_of_unknown_postcode_raises() -> None:
    with pytest.raises(UnknownPostcodeError):
        pl_distance("CM1 1AA", "CM1 1ZZ")


def test_great_circle_agrees_with_grid_across_england() -> None:
    located = locate_many(SAMPLE)
    n = len(SAMPLE)
    grid = distance_matrix(located.easting, located.northing, located.easting, located.northing)
    worst_short = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            gc = great_circle_miles(located.lat[i], located.lon[i], located.lat[j], located.lon[j])
            diff = abs(gc - grid[i, j])
            assert diff <= 0.0005 * grid[i, j]  # the grid's scale error, at most 0.04 %
            if grid[i, j] < 250:
                worst_short = max(worst_short, diff)
    assert worst_short < 0.1


def test_great_circle_matrix_close_to_geodesic() -> None:
    located = locate_many(SAMPLE)
    hav = great_circle_matrix(located.lat, located.lon, located.lat, located.lon)
    assert np.allclose(np.diag(hav), 0.0)
    gc = great_circle_miles(located.lat[0], located.lon[0], located.lat[10], located.lon[10])
    assert hav[0, 10] == pytest.approx(gc, rel=0.005)
