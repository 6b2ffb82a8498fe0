"""The geography a synthetic cohort needs, behind a small protocol.

:class:`CohortGeography` is what :mod:`scenarios.cohorts` asks of places: an authority's real
postcodes, its neighbours, and schools near a home. :class:`RealGeography` answers from the
:mod:`geography` package (offline ONS postcodes, LA adjacency, DfE schools); tests may pass
a small stand-in with the same methods.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from functools import cache
from typing import Protocol

#: Radii (miles) tried in turn when looking for a school near a home.
SCHOOL_RADII: tuple[float, ...] = (3.0, 6.0, 12.0, 25.0, 50.0)


class CohortGeography(Protocol):
    """The places a synthetic cohort is drawn in."""

    def resolve(self, text: str) -> tuple[str, str]:
        """``(ons_code, name)`` of an English upper-tier authority, or raise LookupError."""
        ...

    def postcodes(self, ons_code: str) -> Sequence[str]:
        """The authority's postcodes, sorted, normalised (``"CM1 1AA"``)."""
        ...

    def adjoining(self, ons_code: str) -> tuple[str, ...]:
        """ONS codes of the authorities that share a border with it, sorted."""
        ...

    def schools(self, postcode: str, age: int) -> tuple[int, ...]:
        """URNs of up to three schools teaching ``age`` near ``postcode``, nearest first."""
        ...


def sector_range(postcodes: Sequence[str], postcode: str) -> tuple[int, int]:
    """Index range ``[lo, hi)`` of the postcodes (sorted) in the same sector as ``postcode``."""
    sector = postcode[:-2]
    lo = bisect_left(postcodes, sector)
    hi = bisect_left(postcodes, sector + "~")
    return lo, hi


class RealGeography:
    """:class:`CohortGeography` answered by the :mod:`geography` package."""

    def resolve(self, text: str) -> tuple[str, str]:
        import geography

        authority = geography.resolve_authority(text)
        return authority.ons_code, authority.name

    def postcodes(self, ons_code: str) -> Sequence[str]:
        return _postcodes(ons_code)

    def adjoining(self, ons_code: str) -> tuple[str, ...]:
        return _adjoining(ons_code)

    def schools(self, postcode: str, age: int) -> tuple[int, ...]:
        return _schools(postcode, age)


@cache
def _postcodes(ons_code: str) -> tuple[str, ...]:
    import geography

    return tuple(geography.postcodes_in_authority(ons_code))


@cache
def _adjoining(ons_code: str) -> tuple[str, ...]:
    import geography

    return tuple(sorted(a.ons_code for a in geography.adjoining(ons_code)))


@cache
def _schools(postcode: str, age: int) -> tuple[int, ...]:
    import geography

    for radius in SCHOOL_RADII:
        try:
            found = geography.schools_near(postcode, age=age, radius_miles=radius, limit=3)
        except geography.GeographyError:
            return ()  # a postcode without a grid reference: no school rather than a crash
        if found:
            return tuple(int(s.urn) for s, _ in found)
    return ()
