"""Disability: a placement suitable to a disabled child's needs.

Statutory basis: Children Act 1989 s22C(8)(d) -- if the child is disabled, the placement must
be suitable to the child's particular needs (Equality Act 2010 s6 for "disabled").

Policy choice: required adaptations (``wheelchair``, ``staffing_2to1``) are hard rules
(``required_adaptation``); this factor rewards experience: ``weights.disability`` (default 60)
when a child with the ``disability`` need is offered a vacancy with the ``disability``
capability (carer experienced with, or home registered for, disabled children), else 0.

Scale: 0 or ``weights.disability``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import IntArray, Pairs
from matcher.policy import Policy
from matcher.vocabulary import Need


class Disability:
    """Points for a disability-experienced placement of a disabled child."""

    name: ClassVar[str] = "disability"
    reference: ClassVar[str] = "Children Act 1989 s22C(8)(d)"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Disability"
    short: ClassVar[str] = "disab"
    weight_key: ClassVar[str | None] = "disability"

    def weight(self, policy: Policy) -> int:
        """``weights.disability``."""
        return policy.weights.disability

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        """The weight for a disabled child in a disability-capable placement."""
        both = pairs.child_has(Need.DISABILITY) & pairs.vacancy_has(Need.DISABILITY)
        return np.where(both, self.weight(pairs.policy), 0).astype(np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why."""
        if not pairs.child_has(Need.DISABILITY)[k]:
            return "No disability recorded: not scored."
        if pairs.vacancy_has(Need.DISABILITY)[k]:
            return f"Placement experienced with disabled children: {points} points."
        return "Placement not recorded as experienced with disabled children: 0 points."
