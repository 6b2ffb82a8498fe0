"""Town names for maps: English towns of about 5,000 people or more, on the national grid.

From GeoNames ``cities5000`` (CC BY 4.0, www.geonames.org), shipped in ``geography/data``.
Read lazily, once.

Examples
--------
>>> from geography.places import towns_in
>>> [t.name for t in towns_in(560_000, 580_000, 200_000, 215_000)][:1]
['Chelmsford']
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache

import numpy as np

from geography._data import read_text

__all__ = ["PLACES_ATTRIBUTION", "Town", "towns_in"]

PLACES_ATTRIBUTION = "Town names: GeoNames (www.geonames.org), CC BY 4.0."


@dataclass(frozen=True, slots=True)
class Town:
    """A named town: British National Grid metres and its population (for label priority)."""

    name: str
    easting: float
    northing: float
    population: int

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Town.name: expected a name")
        if self.population < 0:
            raise ValueError(f"Town.population {self.population}: expected 0 or more")


@cache
def _towns() -> tuple[Town, ...]:
    from geography.maps import _to_grid  # one projection for boundaries, points and names

    rows = list(csv.DictReader(io.StringIO(read_text("england_towns_geonames_pop5000.csv"))))
    lat = np.array([float(r["lat"]) for r in rows])
    lon = np.array([float(r["lon"]) for r in rows])
    e, n = _to_grid(lon, lat)
    towns = [
        Town(r["name"], float(e[i]), float(n[i]), int(r["population"])) for i, r in enumerate(rows)
    ]
    # Largest first: a label placer that skips collisions keeps the towns people know.
    towns.sort(key=lambda t: (-t.population, t.name))
    return tuple(towns)


def towns_in(e0: float, e1: float, n0: float, n1: float) -> list[Town]:
    """Towns inside the grid rectangle ``[e0, e1] x [n0, n1]``, largest first."""
    return [t for t in _towns() if e0 <= t.easting <= e1 and n0 <= t.northing <= n1]
