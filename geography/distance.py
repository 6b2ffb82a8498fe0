"""Straight-line distances in miles.

The DfE SSDA903 return reports ``PL_DISTANCE``, the distance from the child's home postcode
to the placement postcode, computed by the DfE validator from the two postcodes' grid
references in the ONS postcode directory::

    miles = sqrt(dE**2 + dN**2) / 1000 / 1.6093

rounded to 0.1 mile. :func:`grid_miles` is that formula unrounded (vectorised),
:func:`pl_distance` the rounded value for two postcodes, :func:`distance_matrix` the n x m
version for many homes and many placements. :func:`great_circle_miles` measures between any two
latitude/longitude points with geopy (on the WGS84 ellipsoid).
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np

from geography.errors import CrossGridError
from geography.postcodes import Location, locate

__all__ = [
    "KM_PER_MILE",
    "distance_matrix",
    "distance_miles",
    "great_circle_matrix",
    "great_circle_miles",
    "grid_miles",
    "pl_distance",
]

#: The conversion factor the DfE 903 guidance uses (not the exact 1.609344).
KM_PER_MILE = 1.6093
#: Mean Earth radius in miles used by :func:`great_circle_matrix` (6371.0088 km / 1.609344).
EARTH_RADIUS_MILES = 3958.7613


@overload
def grid_miles(e1: float, n1: float, e2: float, n2: float) -> float: ...
@overload
def grid_miles(e1: Any, n1: Any, e2: Any, n2: Any) -> float | np.ndarray: ...
def grid_miles(e1: Any, n1: Any, e2: Any, n2: Any) -> float | np.ndarray:
    """Straight-line miles between grid references, by the DfE 903 formula (unrounded).

    Parameters
    ----------
    e1, n1, e2, n2
        Eastings and northings in metres (scalars or numpy-broadcastable arrays), all on the
        same grid.

    Returns
    -------
    float or numpy.ndarray
        ``sqrt(dE² + dN²) / 1000 / 1.6093``; a float when every argument is a scalar.
    """
    de = np.subtract(e1, e2, dtype=np.float64)
    dn = np.subtract(n1, n2, dtype=np.float64)
    miles = np.sqrt(de**2 + dn**2) / 1000 / KM_PER_MILE
    if np.ndim(miles) == 0:
        return float(miles)
    return np.asarray(miles)


def _located(place: str | Location) -> Location:
    return place if isinstance(place, Location) else locate(place)


def distance_miles(a: str | Location, b: str | Location) -> float:
    """Straight-line miles between two postcodes by the 903 grid formula, unrounded.

    Raises
    ------
    MalformedPostcodeError, UnknownPostcodeError, UnlocatablePostcodeError
        For a postcode that cannot be located.
    CrossGridError
        If one is in Northern Ireland (Irish Grid) and the other in Great Britain: use
        :func:`great_circle_miles` on their ``lat``/``lon`` instead.
    """
    la, lb = _located(a), _located(b)
    if la.grid != lb.grid:
        raise CrossGridError(
            f"cannot measure a grid distance between {la.postcode} ({la.grid}) and "
            f"{lb.postcode} ({lb.grid}): the 903 formula needs both on one grid; "
            "use great_circle_miles on their latitude and longitude"
        )
    return float(grid_miles(la.easting, la.northing, lb.easting, lb.northing))


def pl_distance(a: str | Location, b: str | Location) -> float:
    """SSDA903 ``PL_DISTANCE``: straight-line miles between two postcodes, to 0.1 mile.

    Rounded as the DfE validator rounds (numpy ``round``, half to even on the binary value).

    Examples
    --------
    >>> pl_distance("CM1 1AA", "RM17 5RW")
    18.5
    """
    return float(np.round(distance_miles(a, b), 1))


def distance_matrix(
    a_e: Any, a_n: Any, b_e: Any, b_n: Any, *, dtype: Any = np.float64
) -> np.ndarray:
    """Miles from each of n points to each of m points by the 903 grid formula.

    Parameters
    ----------
    a_e, a_n
        Eastings and northings of the n row points (e.g. children's homes).
    b_e, b_n
        Eastings and northings of the m column points (e.g. placements).
    dtype
        ``numpy.float64`` (default) or ``numpy.float32`` to halve memory for very large
        matrices (about 1e-7 relative error).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, m)``; NaN wherever an input coordinate is NaN.

    Notes
    -----
    All points must be on one grid: do not mix Northern Ireland (Irish Grid) with Great
    Britain; ``LocationArrays.countries`` tells them apart.
    """
    ae = np.asarray(a_e, dtype=dtype).reshape(-1, 1)
    an = np.asarray(a_n, dtype=dtype).reshape(-1, 1)
    be = np.asarray(b_e, dtype=dtype).reshape(1, -1)
    bn = np.asarray(b_n, dtype=dtype).reshape(1, -1)
    if ae.shape != an.shape or be.shape != bn.shape:
        raise ValueError(
            "distance_matrix: eastings and northings must have the same length on each side"
        )
    de = ae - be
    out = np.square(de, out=de)
    dn = an - bn
    out += np.square(dn, out=dn)
    del dn
    np.sqrt(out, out=out)
    # Same operation order as the validator, so rounding to 0.1 mile agrees exactly.
    out /= 1000
    out /= KM_PER_MILE
    return out


def great_circle_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Miles between two latitude/longitude points along the WGS84 ellipsoid (geopy).

    Uses :class:`geopy.distance.geodesic` (Karney's method). Between English postcodes it
    agrees with the 903 grid formula to within 0.04% (the grid's scale error), so within
    0.1 mile for any distance under 250 miles; see ``docs/geography.md``.
    """
    from geopy.distance import geodesic

    return float(geodesic((lat1, lon1), (lat2, lon2)).miles)


def great_circle_matrix(a_lat: Any, a_lon: Any, b_lat: Any, b_lon: Any) -> np.ndarray:
    """Haversine miles (sphere of mean radius) from each of n points to each of m points.

    Vectorised for points without a grid reference; within 0.5% of :func:`great_circle_miles`.
    """
    p1 = np.radians(np.asarray(a_lat, dtype=np.float64)).reshape(-1, 1)
    l1 = np.radians(np.asarray(a_lon, dtype=np.float64)).reshape(-1, 1)
    p2 = np.radians(np.asarray(b_lat, dtype=np.float64)).reshape(1, -1)
    l2 = np.radians(np.asarray(b_lon, dtype=np.float64)).reshape(1, -1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))
