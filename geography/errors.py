"""Typed errors for places, postcodes, authorities and schools.

Every error a user can correct is a :class:`ValueError` (bad input) or a :class:`LookupError`
(a well-formed thing that is not known), so the command line prints it as one line.
"""

from __future__ import annotations

__all__ = [
    "CrossGridError",
    "GeographyError",
    "MalformedPostcodeError",
    "UnknownAuthorityError",
    "UnknownPostcodeError",
    "UnknownSchoolError",
    "UnlocatablePostcodeError",
]


class GeographyError(ValueError):
    """Base class of every geography error."""


class MalformedPostcodeError(GeographyError):
    """Not shaped like a UK postcode, or a sector or outcode where a full postcode is needed."""


class UnknownPostcodeError(GeographyError, LookupError):
    """The postcode is well formed but not in the ONS postcode directory."""


class UnlocatablePostcodeError(UnknownPostcodeError):
    """The postcode is in the ONS directory but has no grid reference.

    Channel Islands and Isle of Man postcodes, and a few thousand others, are listed without
    a location. A subclass of :class:`UnknownPostcodeError` so that code which handles "cannot
    place this postcode" catches both; the message says which.
    """


class CrossGridError(GeographyError):
    """A grid distance between Great Britain (OSGB36) and Northern Ireland (Irish Grid).

    The DfE 903 ``PL_DISTANCE`` formula subtracts grid references, which is meaningless across
    two different grids. Use :func:`geography.distance.great_circle_miles` instead.
    """


class UnknownAuthorityError(GeographyError, LookupError):
    """Not an ONS code, DfE number or name of an English children's services authority."""


class UnknownSchoolError(GeographyError, LookupError):
    """No school with that URN in the DfE schools list shipped with placematch."""
