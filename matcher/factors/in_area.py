"""In area: a placement within the authority's own area.

Statutory basis: Children Act 1989 s22C(9) -- the placement must be within the authority's
area unless that is not reasonably practicable; an out-of-area placement needs the nominated
officer's approval (Care Planning, Placement and Case Review (England) Regulations 2010
reg 11), reported as the ``out_of_area`` sign-off.

"In area" is decided by the placement's postcode (its district's upper-tier authority), never
by a map. The area is each child's responsible authority (``la``), or ``policy.authority``
for every child when set (e.g. a trust placing for several authorities). A child without a
home postcode (a separated migrant child, or one whose postcode is unknown) is scored the same
way: the area is the responsible authority's, never the home's.

Policy choice: by default (``in_area_tier = false``) ``weights.in_area`` points (default 80)
in area, 0 outside. With ``in_area_tier = true`` an in-area option beats every out-of-area
one below the connected-person tier, so this factor gives 0 points and says so.

Scale: 0 or ``weights.in_area``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import IntArray, Pairs
from matcher.policy import Policy


class InArea:
    """Points for a placement within the area authority."""

    name: ClassVar[str] = "in_area"
    reference: ClassVar[str] = "Children Act 1989 s22C(9)"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Local"
    short: ClassVar[str] = "area"
    weight_key: ClassVar[str | None] = "in_area"

    def weight(self, policy: Policy) -> int:
        """``weights.in_area``, or 0 when in area is a tier."""
        return 0 if policy.in_area_tier else policy.weights.in_area

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        """The weight in area, else 0."""
        return np.where(pairs.in_area, self.weight(pairs.policy), 0).astype(np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why."""
        area = pairs.arrays.authorities[int(pairs.c("area")[k])].name
        if not pairs.in_area[k]:
            where = "in an adjoining authority" if pairs.adjoining[k] else "further away"
            return f"Outside {area} ({where}): 0 points."
        if pairs.policy.in_area_tier:
            return f"Within {area}: placed in the in-area tier above out-of-area options."
        return f"Within {area}: {points} points."
