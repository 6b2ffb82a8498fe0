"""Places and distances: postcodes, authorities, schools, straight-line miles, maps.

The lowest layer of placematch. It knows nothing about children. Every data file is read
lazily on first use: importing this package loads no data.
"""

from geography.authorities import (
    Authority,
    adjoining,
    authorities,
    authorities_in_region,
    regions,
    resolve_authority,
)
from geography.distance import (
    distance_matrix,
    distance_miles,
    great_circle_matrix,
    great_circle_miles,
    grid_miles,
    pl_distance,
)
from geography.errors import (
    CrossGridError,
    GeographyError,
    MalformedPostcodeError,
    UnknownAuthorityError,
    UnknownPostcodeError,
    UnknownSchoolError,
    UnlocatablePostcodeError,
)
from geography.postcodes import (
    Location,
    LocationArrays,
    in_authority,
    locate,
    locate_many,
    locations_in_authority,
    normalise_postcode,
    postcodes_in_authority,
)
from geography.schools import School, school, schools_near

__all__ = [
    "Authority",
    "CrossGridError",
    "GeographyError",
    "Location",
    "LocationArrays",
    "MalformedPostcodeError",
    "School",
    "UnknownAuthorityError",
    "UnknownPostcodeError",
    "UnknownSchoolError",
    "UnlocatablePostcodeError",
    "adjoining",
    "authorities",
    "authorities_in_region",
    "distance_matrix",
    "distance_miles",
    "great_circle_matrix",
    "great_circle_miles",
    "grid_miles",
    "in_authority",
    "locate",
    "locate_many",
    "locations_in_authority",
    "normalise_postcode",
    "pl_distance",
    "postcodes_in_authority",
    "regions",
    "resolve_authority",
    "school",
    "schools_near",
]
