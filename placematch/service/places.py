"""Names for the officer's page: an authority's name, a postcode's district, a school's name.

Officers think in places and names, not in ONS codes and URNs. Each lookup is offline (the
geography package's data) and answers ``""`` for what it cannot name, so that a page never
fails on an unusual postcode or a closed school; the ids stay on the page beside the names.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=512)
def authority_name(code: str) -> str:
    """The authority's name for its ONS code (``E10000012`` -> ``Essex``), else the code."""
    from geography.authorities import resolve_authority

    try:
        return resolve_authority(code).name
    except (LookupError, ValueError):
        return code


@lru_cache(maxsize=4096)
def district(postcode: str) -> str:
    """The local authority district (town or borough) of a postcode, or ``""``."""
    from geography.postcodes import locate

    if not postcode:
        return ""
    try:
        return locate(postcode, approximate=True).lad_name
    except (LookupError, ValueError):
        return ""


@lru_cache(maxsize=1024)
def school_name(urn: str | int | None) -> str:
    """The name of the school with this URN, or ``""``."""
    from geography.schools import school

    if urn in (None, ""):
        return ""
    try:
        return school(int(str(urn))).name
    except (LookupError, ValueError):
        return ""


@lru_cache(maxsize=4096)
def postcode_authority(postcode: str) -> str:
    """The name of the upper-tier authority a postcode lies in, or ``""``."""
    from geography.postcodes import locate

    if not postcode:
        return ""
    try:
        found = locate(postcode, approximate=True).authority
    except (LookupError, ValueError):
        return ""
    return "" if found is None else found.name
