"""Cost: the weekly cost of the placement.

Basis: the authority's general duty to use its resources well (Local Government Act 1999
s3, best value) -- never a statutory consideration of s22C, so it is capped: the most points
cost can take away, ``weights.cost`` (default 20), may not exceed any non-zero statutory
weight (``near_home``, ``education``, ``siblings``, ``disability``, ``in_area``); the policy
refuses a larger value.

Scale: minus ``weights.cost`` times the weekly cost over ``cost_scale_weekly`` (default
10,000 pounds a week), rounded down to whole points, at most ``weights.cost`` (a placement
costing more than the scale takes away no more). Zero or negative points.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import IntArray, Pairs
from matcher.policy import Policy


class Cost:
    """Points taken away in proportion to weekly cost, capped."""

    name: ClassVar[str] = "cost"
    reference: ClassVar[str] = "Local Government Act 1999 s3 (best value); capped below s22C"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Cost"
    short: ClassVar[str] = "cost"
    weight_key: ClassVar[str | None] = "cost"

    def weight(self, policy: Policy) -> int:
        """``weights.cost``: the most points cost can take away."""
        return policy.weights.cost

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """Minus the weight to 0."""
        return -self.weight(policy), 0

    def assess(self, pairs: Pairs) -> IntArray:
        """``-floor(weight * min(cost, scale) / scale)`` (integer arithmetic)."""
        p = pairs.policy
        capped = np.minimum(pairs.v("cost"), p.cost_scale_weekly)
        return np.asarray(-(self.weight(p) * capped // p.cost_scale_weekly), dtype=np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why."""
        p = pairs.policy
        cost = int(pairs.v("cost")[k])
        capped = " (capped)" if cost >= p.cost_scale_weekly else ""
        return (
            f"Weekly cost {cost:,} pounds: {points} points{capped}, at most "
            f"{self.weight(p)} taken away."
        )
