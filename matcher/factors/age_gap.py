"""Age gap: how far the child's age is from the children already living there.

Basis: Children's Homes (England) Regulations 2015 reg 14 (care planning standard: a child
is admitted only after the impact on the children already living in the home is
considered), and the authority's duty to find the most appropriate placement (Children Act
1989 s22C(5)). A wide age gap between a new child and the residents is a common reason that
a home declines a referral or that a placement breaks down.

Policy choice: the gap counts *against* a placement, never for one, so a home nobody lives
in yet, and every folder without ``residents.csv``, scores 0 (an empty home is not worse
than a well-matched one). The gap is the widest between the child and any resident of the
provider; up to ``resident_age_gap_years`` (default 3) it costs nothing, and each year beyond
takes away a quarter of ``weights.age_gap`` (default 40), rounded down, at most the weight
(so a child 7 or more years from a resident loses it all).

Scale: ``-weights.age_gap`` to 0.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import IntArray, Pairs
from matcher.policy import Policy


def widest_gap(pairs: Pairs) -> IntArray:
    """Years between the child and the resident furthest from its age; 0 with no resident."""
    age = pairs.c("age")
    n = pairs.v("res_count")
    gap = np.maximum(np.abs(age - pairs.v("res_min_age")), np.abs(age - pairs.v("res_max_age")))
    return np.asarray(np.where(n > 0, gap, 0), dtype=np.int64)


class AgeGap:
    """Points taken away for a wide age gap to the children already living there."""

    name: ClassVar[str] = "age_gap"
    reference: ClassVar[str] = (
        "Children's Homes (England) Regulations 2015 reg 14 (impact on the children already "
        "there); Children Act 1989 s22C(5)"
    )
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Age gap"
    short: ClassVar[str] = "gap"
    weight_key: ClassVar[str | None] = "age_gap"

    def weight(self, policy: Policy) -> int:
        """``weights.age_gap``: the most points a wide gap takes away."""
        return policy.weights.age_gap

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """Minus the weight to 0."""
        return -self.weight(policy), 0

    def assess(self, pairs: Pairs) -> IntArray:
        """``-min(weight, weight * years beyond the allowed gap // 4)``; 0 without residents."""
        if not pairs.has_residents:
            return np.zeros(len(pairs), dtype=np.int64)
        p = pairs.policy
        w = self.weight(p)
        beyond = np.maximum(widest_gap(pairs) - p.resident_age_gap_years, 0)
        return np.asarray(-np.minimum(w, w * beyond // 4), dtype=np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why (the widest gap in years and how many live there; no resident named)."""
        n = int(pairs.v("res_count")[k]) if pairs.has_residents else 0
        if n == 0:
            return "Nobody recorded as living there: not scored."
        age = int(pairs.c("age")[k])
        lo, hi = int(pairs.v("res_min_age")[k]), int(pairs.v("res_max_age")[k])
        gap = max(abs(age - lo), abs(age - hi))
        allowed = pairs.policy.resident_age_gap_years
        who = "the resident" if n == 1 else f"the {n} residents"
        if points == 0:
            return f"Within {allowed} years of {who} (widest gap {gap}): 0 points."
        return (
            f"Widest age gap to {who} is {gap} years, {gap - allowed} beyond {allowed}: "
            f"{points} points."
        )
