"""Schools in England by URN, and the schools near a place.

Data: DfE "Compare school performance" school information (about September 2022, OGL v3),
26,166 schools, shipped gzipped in ``geography/data``. Grid references are the published
latitude/longitude projected to the British National Grid, so distances from a school use
the same 903 grid formula as every other distance in placematch.

Examples
--------
>>> from geography.schools import school
>>> school(100000).name
'The Aldgate School'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from geography._data import read_csv
from geography.authorities import Authority, resolve_authority
from geography.distance import grid_miles
from geography.errors import CrossGridError, GeographyError, UnknownSchoolError
from geography.postcodes import Location, locate

__all__ = ["PHASES", "School", "school", "schools", "schools_near"]

#: Phases in the DfE data. "All-through" schools teach primary and secondary ages.
PHASES = ("Primary", "Secondary", "All-through", "16 plus")


@dataclass(frozen=True, slots=True)
class School:
    """A school in England.

    ``age_low``/``age_high`` are the statutory age range; ``status`` is ``"open"``,
    ``"closed"`` or ``"open, but proposed to close"`` as in the 2022 data.
    """

    urn: int
    name: str
    phase: str
    age_low: int | None
    age_high: int | None
    postcode: str | None
    lat: float | None
    lon: float | None
    easting: float | None
    northing: float | None
    authority: Authority | None
    status: str = "open"
    school_type: str = ""
    gender: str = ""

    def __post_init__(self) -> None:
        if self.urn <= 0:
            raise ValueError(f"School.urn {self.urn}: expected a positive URN")
        if not self.name.strip():
            raise ValueError(f"School {self.urn}: expected a name")
        if (
            self.age_low is not None
            and self.age_high is not None
            and not 0 <= self.age_low <= self.age_high
        ):
            raise ValueError(
                f"School {self.urn}: age range {self.age_low}-{self.age_high} is not valid"
            )
        located = [self.lat, self.lon, self.easting, self.northing]
        if any(v is None for v in located) and any(v is not None for v in located):
            raise ValueError(f"School {self.urn}: give all of lat, lon, easting, northing or none")

    @property
    def is_open(self) -> bool:
        """Open in the data (including "open, but proposed to close")."""
        return self.status.startswith("open")

    def teaches(self, age: int) -> bool:
        """Whether the school's age range includes ``age``."""
        return (self.age_low is None or self.age_low <= age) and (
            self.age_high is None or age <= self.age_high
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        a = self.authority
        return {
            "urn": self.urn,
            "name": self.name,
            "phase": self.phase,
            "age_low": self.age_low,
            "age_high": self.age_high,
            "status": self.status,
            "school_type": self.school_type,
            "gender": self.gender,
            "postcode": self.postcode,
            "lat": self.lat,
            "lon": self.lon,
            "easting": self.easting,
            "northing": self.northing,
            "authority": None
            if a is None
            else {"ons_code": a.ons_code, "dfe_code": a.dfe_code, "name": a.name},
        }


@dataclass(frozen=True, slots=True)
class _Table:
    schools: tuple[School, ...]
    by_urn: dict[int, int]
    easting: np.ndarray
    northing: np.ndarray
    open: np.ndarray
    phase: np.ndarray  # lower-case
    age_low: np.ndarray  # float, NaN unknown
    age_high: np.ndarray


def _int_or_none(text: str) -> int | None:
    return int(float(text)) if text.strip() else None


@cache
def _table() -> _Table:
    from pyproj import Transformer

    rows = list(read_csv("england_schools_2022.csv.gz"))
    lat = np.array([float(r["lat"]) if r["lat"] else np.nan for r in rows])
    lon = np.array([float(r["lon"]) if r["lon"] else np.nan for r in rows])
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    easting, northing = to_grid.transform(lon, lat)
    easting = np.round(np.asarray(easting, dtype=np.float64))
    northing = np.round(np.asarray(northing, dtype=np.float64))
    found: list[School] = []
    for i, r in enumerate(rows):
        ok = not math.isnan(lat[i])
        found.append(
            School(
                urn=int(r["urn"]),
                name=r["name"],
                phase=r["phase"],
                age_low=_int_or_none(r["age_min"]),
                age_high=_int_or_none(r["age_max"]),
                postcode=r["postcode"] or None,
                lat=float(lat[i]) if ok else None,
                lon=float(lon[i]) if ok else None,
                easting=float(easting[i]) if ok else None,
                northing=float(northing[i]) if ok else None,
                authority=resolve_authority(r["la_code"]) if r["la_code"] else None,
                status=r["status"],
                school_type=r["school_type"],
                gender=r["gender"],
            )
        )
    return _Table(
        schools=tuple(found),
        by_urn={s.urn: i for i, s in enumerate(found)},
        easting=easting,
        northing=northing,
        open=np.array([s.is_open for s in found]),
        phase=np.array([s.phase.casefold() for s in found]),
        age_low=np.array([np.nan if s.age_low is None else s.age_low for s in found]),
        age_high=np.array([np.nan if s.age_high is None else s.age_high for s in found]),
    )


def schools() -> tuple[School, ...]:
    """Every school in the data (open and closed), in URN order."""
    return _table().schools


def school(urn: int | str) -> School:
    """The school with this URN (unique reference number).

    Raises
    ------
    GeographyError
        If ``urn`` is not a number.
    UnknownSchoolError
        If no school in the data has that URN.
    """
    text = str(urn).strip()
    if isinstance(urn, bool) or not text.isdigit():
        raise GeographyError(f"school URN {urn!r}: expected a number such as 100000")
    table = _table()
    index = table.by_urn.get(int(text))
    if index is None:
        raise UnknownSchoolError(
            f"no school with URN {int(text)} in the DfE schools list (England, 2022)"
        )
    return table.schools[index]


def _centre(place: str | Location | School | tuple[float, float]) -> tuple[float, float]:
    if isinstance(place, School):
        if place.easting is None or place.northing is None:
            raise GeographyError(f"school {place.urn} has no location")
        return place.easting, place.northing
    if isinstance(place, tuple):
        return float(place[0]), float(place[1])
    location = place if isinstance(place, Location) else locate(place)
    if location.grid != "OSGB36":
        raise CrossGridError(
            "schools_near: the schools are in England (British National Grid); "
            f"a {location.country} location is on the {location.grid}"
        )
    return location.easting, location.northing


def schools_near(
    postcode_or_location: str | Location | School | tuple[float, float],
    *,
    phase: str | None = None,
    age: int | None = None,
    radius_miles: float = 5.0,
    limit: int | None = 10,
    include_closed: bool = False,
) -> list[tuple[School, float]]:
    """Schools within a radius, nearest first, with their straight-line miles.

    Parameters
    ----------
    postcode_or_location
        A full postcode, a :class:`Location`, a :class:`School` or an ``(easting, northing)``
        pair on the British National Grid.
    phase
        Keep only this phase (``"Primary"``, ``"Secondary"``, ``"All-through"``, ``"16 plus"``;
        case-insensitive). To find every school that teaches a child, use ``age`` instead:
        all-through schools teach primary and secondary ages.
    age
        Keep only schools whose age range includes this age.
    radius_miles
        Largest distance, by the 903 grid formula.
    limit
        At most this many (``None`` for all).
    include_closed
        Include schools closed by 2022 (excluded by default).

    Returns
    -------
    list of (School, float)
        Sorted by distance, then URN.
    """
    if not radius_miles >= 0:  # also refuses NaN, which no distance would ever be within
        raise GeographyError(f"radius_miles {radius_miles}: expected zero or more")
    if limit is not None and limit < 0:
        raise GeographyError(f"limit {limit}: expected zero or more")
    if phase is not None and phase.casefold() not in {p.casefold() for p in PHASES}:
        raise GeographyError(f"school phase {phase!r}: expected one of {', '.join(PHASES)}")
    easting, northing = _centre(postcode_or_location)
    table = _table()
    miles = np.asarray(grid_miles(table.easting, table.northing, easting, northing))
    keep = ~np.isnan(miles) & (miles <= radius_miles)
    if not include_closed:
        keep &= table.open
    if phase is not None:
        keep &= table.phase == phase.casefold()
    if age is not None:
        keep &= ~(table.age_low > age) & ~(table.age_high < age)
    rows = np.flatnonzero(keep)
    urns = np.array([table.schools[i].urn for i in rows], dtype=np.int64)
    order = np.lexsort((urns, miles[rows]))
    if limit is not None:
        order = order[:limit]
    return [(table.schools[rows[k]], float(miles[rows[k]])) for k in order]
