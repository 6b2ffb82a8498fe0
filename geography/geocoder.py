"""A geopy-compatible geocoder that works offline.

:class:`OfflineGeocoder` answers ``geocode`` and ``reverse`` like any geopy geocoder, from the
ONS postcode directory and the authority list shipped with placematch. Code written against
geopy can use it with no network, and a user with network can pass any geopy geocoder
(``Nominatim``, ``GoogleV3`` ...) in its place.

It understands UK postcodes (full; sectors and outcodes as approximate centres) and the names
or codes of English children's services authorities (their interior point). It does not know
street addresses or place names: for those, use an online geopy geocoder.

Examples
--------
>>> from geography.geocoder import OfflineGeocoder
>>> place = OfflineGeocoder().geocode("cm1 1aa")
>>> place.address
'CM1 1AA, Chelmsford, Essex, England'
>>> round(place.latitude, 3), round(place.longitude, 3)
(51.737, 0.476)
"""

from __future__ import annotations

from typing import Any

from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location as GeopyLocation
from geopy.point import Point

from geography.authorities import Authority, interior_point, resolve_authority
from geography.errors import GeographyError
from geography.postcodes import Location, locate, nearest_postcode

__all__ = ["OfflineGeocoder"]


def _address(loc: Location) -> str:
    parts = [loc.postcode, loc.lad_name]
    if loc.authority is not None and loc.authority.name != loc.lad_name:
        parts.append(loc.authority.name)
    parts.append(loc.country)
    return ", ".join(p for p in parts if p)


def _from_location(loc: Location) -> GeopyLocation:
    return GeopyLocation(_address(loc), Point(loc.lat, loc.lon), loc.to_dict())


def _from_authority(authority: Authority) -> GeopyLocation:
    lat, lon = interior_point(authority)
    raw = {
        "precision": "authority",
        "approximate": True,
        "ons_code": authority.ons_code,
        "dfe_code": authority.dfe_code,
        "name": authority.name,
        "region": authority.region,
    }
    return GeopyLocation(f"{authority.name}, {authority.region}, England", Point(lat, lon), raw)


class OfflineGeocoder(Geocoder):
    """Geocode UK postcodes and English authorities offline, with geopy's interface.

    Parameters
    ----------
    approximate
        Answer sectors, outcodes and unknown full postcodes with the centre of their sector or
        outcode (``raw["precision"]`` says which). Default True, as geocoders usually do.
    """

    def __init__(self, *, approximate: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.approximate = approximate

    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: Any = DEFAULT_SENTINEL,
    ) -> GeopyLocation | list[GeopyLocation] | None:
        """Find a postcode or authority; ``None`` if nothing matches (as geopy does)."""
        del timeout  # nothing to wait for
        found: GeopyLocation | None = None
        try:
            found = _from_location(locate(query, approximate=self.approximate))
        except GeographyError:
            try:
                found = _from_authority(resolve_authority(query))
            except GeographyError:
                found = None
        if found is None:
            return None
        return found if exactly_one else [found]

    def reverse(
        self,
        query: Any,
        *,
        exactly_one: bool = True,
        timeout: Any = DEFAULT_SENTINEL,
    ) -> GeopyLocation | list[GeopyLocation] | None:
        """The nearest located postcode to a point (``"lat, lon"``, a tuple or a geopy Point).

        ``raw["metres_away"]`` is the distance from the point to the postcode's centroid.
        """
        del timeout
        point = Point(query)
        postcode, metres = nearest_postcode(point.latitude, point.longitude)
        found = _from_location(locate(postcode))
        found.raw["metres_away"] = round(metres, 1)
        return found if exactly_one else [found]
