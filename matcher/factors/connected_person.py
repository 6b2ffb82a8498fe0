"""Connected person: a relative, friend or other connected person who is a foster parent.

Statutory basis: Children Act 1989 s22C(7)(a) -- the authority must give preference to a
placement with a connected person who is a local authority foster parent.

Policy choice: by default (``connected_person_tier = true``) the preference is a *tier*, not
points: a suitable connected-person carer beats every other option whatever the other
factors say (see :mod:`matcher.candidates` for how the tier is folded into the objective), so
this factor gives 0 points and says so. With ``connected_person_tier = false`` it gives
``weights.connected_person`` points (default 1000) instead, and a heavily weighted non-kin
option could then outrank kin: only set that deliberately.

Scale: 0 or ``weights.connected_person``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import IntArray, Pairs
from matcher.policy import Policy


class ConnectedPerson:
    """Points (or the top tier) for a connected-person carer of the child."""

    name: ClassVar[str] = "connected_person"
    reference: ClassVar[str] = "Children Act 1989 s22C(7)(a)"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Kin"
    short: ClassVar[str] = "kin"
    weight_key: ClassVar[str | None] = "connected_person"

    def weight(self, policy: Policy) -> int:
        """``weights.connected_person``, or 0 when connected persons are a tier."""
        return 0 if policy.connected_person_tier else policy.weights.connected_person

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        """The weight for a connected-person pair, else 0."""
        return np.where(pairs.connected, self.weight(pairs.policy), 0).astype(np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why."""
        if not pairs.connected[k]:
            return "Not a connected-person carer of this child."
        if pairs.policy.connected_person_tier:
            return (
                "Connected-person carer of this child: placed in the top tier above every "
                "non-kin option (s22C(7)(a)), so no points are needed."
            )
        return f"Connected-person carer of this child (s22C(7)(a)): {points} points."
