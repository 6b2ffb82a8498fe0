"""Education: a placement that does not disrupt the child's education.

Statutory basis: Children Act 1989 s22C(8)(b) -- the placement must not disrupt the child's
education or training, so far as reasonably practicable; for a child in Key Stage 4 a
placement that disrupts it needs the nominated officer's approval (Care Planning,
Placement and Case Review (England) Regulations 2010 reg 10).

Scale: the straight-line miles from the placement to the child's current school (URN) on the
same curve as near home (:func:`~matcher.factors.base.distance_points`), with weight
``weights.education`` (default 80), multiplied by ``key_stage_4_multiplier`` (default 2,
rounded to whole points) for children aged ``key_stage_4_min_age`` to ``key_stage_4_max_age``
(default 14 to 16). A child with no school recorded (or a school without a grid reference)
scores 0 for every vacancy.

The Key Stage 4 school move sign-off (``ks4_school_move``) is triggered by a placement
beyond ``distance_step_miles`` (default 20) of the school; see :mod:`matcher.candidates`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import IntArray, Pairs, distance_points, miles_text
from matcher.policy import Policy


def key_stage_4_weight(policy: Policy) -> int:
    """The education weight for a Key Stage 4 child (whole points)."""
    return round(policy.weights.education * policy.key_stage_4_multiplier)


class Education:
    """Points falling with the distance from the placement to the child's school."""

    name: ClassVar[str] = "education"
    reference: ClassVar[str] = "Children Act 1989 s22C(8)(b)"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "School"
    short: ClassVar[str] = "edu"
    weight_key: ClassVar[str | None] = "education"

    def weight(self, policy: Policy) -> int:
        """``weights.education`` (outside Key Stage 4)."""
        return policy.weights.education

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the Key Stage 4 weight."""
        return 0, max(self.weight(policy), key_stage_4_weight(policy))

    def assess(self, pairs: Pairs) -> IntArray:
        """Distance points from the school, heavier in Key Stage 4."""
        p = pairs.policy
        w = np.where(pairs.key_stage_4, key_stage_4_weight(p), self.weight(p)).astype(np.int64)
        return distance_points(pairs.school_miles, w, p)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why."""
        p = pairs.policy
        miles = float(pairs.school_miles[k])
        if miles != miles:
            return "No current school recorded: education distance is not scored."
        ks4 = bool(pairs.key_stage_4[k])
        top = key_stage_4_weight(p) if ks4 else self.weight(p)
        stage = f"Key Stage 4 weight x{p.key_stage_4_multiplier:g}" if ks4 else "weight"
        return f"{miles_text(miles)} from the current school: {points} of {top} points ({stage})."
