"""Near home: a placement near the child's home.

Statutory basis: Children Act 1989 s22C(8)(a) -- the placement must allow the child to live
near their home, so far as reasonably practicable.

Scale: ``weights.near_home`` points (default 100) at the home postcode, falling linearly to
none at ``distance_zero_miles`` (default 100), with a further drop of ``distance_step_share``
(default a quarter) of the weight beyond ``distance_step_miles`` (default 20 miles, the
SSDA903 ``PL_DISTANCE`` reporting threshold), rounded down to whole points
(:func:`~matcher.factors.base.distance_points`). Distances are straight-line miles between
grid references by the 903 formula.

Policy choice for a child without a home postcode -- a separated migrant child, or one whose
home postcode the folder records as unknown (``home_postcode_unknown``, e.g. a 903 import with
``--keep-unknown-postcodes``): 0 points for every vacancy (a neutral basis: no vacancy is
nearer a home that is not recorded), so the other factors decide, and the reason says which
of the two it is; being in area is still scored by :mod:`matcher.factors.in_area` from the
vacancy's authority and the child's responsible authority.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from matcher.factors.base import IntArray, Pairs, distance_points, miles_text
from matcher.policy import Policy


class NearHome:
    """Points falling with the straight-line distance from the child's home."""

    name: ClassVar[str] = "near_home"
    reference: ClassVar[str] = "Children Act 1989 s22C(8)(a)"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Home"
    short: ClassVar[str] = "home"
    weight_key: ClassVar[str | None] = "near_home"

    def weight(self, policy: Policy) -> int:
        """``weights.near_home``."""
        return policy.weights.near_home

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        """Distance points from the home (0 without a home postcode)."""
        return distance_points(pairs.home_miles, self.weight(pairs.policy), pairs.policy)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why."""
        p = pairs.policy
        miles = float(pairs.home_miles[k])
        if miles != miles:  # NaN
            if pairs.child(k).home_unknown:
                return (
                    "Home postcode unknown (home_postcode_unknown in the case folder): "
                    "distance from home is not scored, 0 points for every vacancy."
                )
            return "No home postcode (separated migrant child): near home is not scored."
        side = "within" if miles <= p.distance_step_miles else "beyond"
        return (
            f"{miles_text(miles)} from home, {side} the {p.distance_step_miles:g}-mile step: "
            f"{points} of {self.weight(p)} points."
        )
