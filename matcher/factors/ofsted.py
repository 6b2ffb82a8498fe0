"""Ofsted: the quality of the home, unit or fostering service.

Basis: Care Standards Act 2000 (Ofsted inspects and grades children's homes and fostering
agencies); the Supported Accommodation (England) Regulations 2023 (supported accommodation
for looked-after children and care leavers aged 16 and 17 is registered with and inspected
by Ofsted); the authority's duty to secure a placement that is the most appropriate
(Children Act 1989 s22C(5)).

Two scales, each scored on its own (:class:`~matcher.vocabulary.Ofsted`):

SCCIF grades (children's homes, secure homes, fostering, parent-and-child)
    ``weights.ofsted`` (default 30) times a third per grade step, rounded down:
    outstanding 3/3, good 2/3, requires improvement 1/3, inadequate 0.
Supported accommodation outcomes (Ofsted, "Social care common inspection framework (SCCIF):
supported accommodation", February 2024; three outcomes instead of the four grades)
    outcome 1, consistently strong, 2/3; outcome 2, inconsistent, 1/3; outcome 3, serious or
    widespread weaknesses, 0. Policy choice: the framework has no step above "consistently
    strong" and describes it as a service that meets the standards (next inspection in about
    three years, as for a good home), so it earns what a good grade earns, not the premium of
    an outstanding one; outcome 2 (leaders must make improvements, next inspection in about
    18 months) matches requires improvement, and outcome 3 (urgent action) inadequate.

A service not yet inspected scores 1/3 on either scale (policy choice: neither rewarded like
a good grade nor penalised like an inadequate one). Which scale a vacancy uses follows from
its placement type and is checked when the case folder is read.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import OFSTED_ORDER, IntArray, Pairs
from matcher.policy import Policy
from matcher.vocabulary import Ofsted as Grade

#: Thirds of the weight per SCCIF grade.
THIRDS: dict[Grade, int] = {
    Grade.OUTSTANDING: 3,
    Grade.GOOD: 2,
    Grade.REQUIRES_IMPROVEMENT: 1,
    Grade.INADEQUATE: 0,
    Grade.NOT_INSPECTED: 1,
}
#: Thirds of the weight per supported accommodation outcome.
SUPPORTED_ACCOMMODATION_THIRDS: dict[Grade, int] = {
    Grade.CONSISTENTLY_STRONG: 2,
    Grade.INCONSISTENT: 1,
    Grade.SERIOUS_WEAKNESSES: 0,
    Grade.NOT_INSPECTED: 1,
}
_ALL_THIRDS = {**THIRDS, **SUPPORTED_ACCOMMODATION_THIRDS}
_THIRDS_BY_INDEX = np.asarray([_ALL_THIRDS[g] for g in OFSTED_ORDER], dtype=np.int64)
_OUTCOME_NUMBER = {
    Grade.CONSISTENTLY_STRONG: 1,
    Grade.INCONSISTENT: 2,
    Grade.SERIOUS_WEAKNESSES: 3,
}


class Ofsted:
    """Points by Ofsted grade, or by supported accommodation inspection outcome."""

    name: ClassVar[str] = "ofsted"
    reference: ClassVar[str] = (
        "Care Standards Act 2000; Supported Accommodation (England) Regulations 2023; "
        "Children Act 1989 s22C(5)"
    )
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Ofsted"
    short: ClassVar[str] = "ofsted"
    weight_key: ClassVar[str | None] = "ofsted"

    def weight(self, policy: Policy) -> int:
        """``weights.ofsted``."""
        return policy.weights.ofsted

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        """Thirds of the weight by grade or outcome, each on its own scale."""
        thirds = _THIRDS_BY_INDEX[pairs.v("ofsted")]
        return np.asarray(self.weight(pairs.policy) * thirds // 3, dtype=np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why, naming the scale."""
        grade = OFSTED_ORDER[int(pairs.v("ofsted")[k])]
        if grade in _OUTCOME_NUMBER:
            return (
                f"Ofsted supported accommodation outcome {_OUTCOME_NUMBER[grade]} of 3 "
                f"({grade.value.replace('_', ' ')}): {points} points."
            )
        return f"Ofsted grade {grade.value.replace('_', ' ')}: {points} points."
