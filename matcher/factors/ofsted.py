"""Ofsted: the quality of the home or fostering service.

Basis: Care Standards Act 2000 (Ofsted inspects and grades children's homes and fostering
agencies); the authority's duty to secure a placement that is the most appropriate
(Children Act 1989 s22C(5)).

Scale: ``weights.ofsted`` (default 30) times a third per grade step, rounded down:
outstanding 3/3, good 2/3, requires improvement 1/3, inadequate 0. A service not yet
inspected scores 1/3 (policy choice: neither rewarded like a good grade nor penalised like an
inadequate one).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import OFSTED_ORDER, IntArray, Pairs
from matcher.policy import Policy
from matcher.vocabulary import Ofsted as Grade

#: Thirds of the weight per grade.
THIRDS: dict[Grade, int] = {
    Grade.OUTSTANDING: 3,
    Grade.GOOD: 2,
    Grade.REQUIRES_IMPROVEMENT: 1,
    Grade.INADEQUATE: 0,
    Grade.NOT_INSPECTED: 1,
}
_THIRDS_BY_INDEX = np.asarray([THIRDS[g] for g in OFSTED_ORDER], dtype=np.int64)


class Ofsted:
    """Points by Ofsted grade."""

    name: ClassVar[str] = "ofsted"
    reference: ClassVar[str] = "Care Standards Act 2000; Children Act 1989 s22C(5)"
    kind: ClassVar[Literal["soft"]] = "soft"

    def weight(self, policy: Policy) -> int:
        """``weights.ofsted``."""
        return policy.weights.ofsted

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        """Thirds of the weight by grade."""
        thirds = _THIRDS_BY_INDEX[pairs.v("ofsted")]
        return np.asarray(self.weight(pairs.policy) * thirds // 3, dtype=np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why."""
        grade = OFSTED_ORDER[int(pairs.v("ofsted")[k])]
        return f"Ofsted grade {grade.value.replace('_', ' ')}: {points} points."
