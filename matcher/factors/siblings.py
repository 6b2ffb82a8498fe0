"""Siblings: brothers and sisters live together.

Statutory basis: Children Act 1989 s22C(8)(c) -- where the authority also looks after a
sibling, the placement must enable them to live together, so far as reasonably practicable.

Policy choice: by default (``allow_sibling_split = false``) a sibling group is placed as a
unit -- a hard constraint of the optimiser and the hard rules ``beds_for_sibling_group`` and
``sibling_group_together`` -- so every eligible vacancy of a group member keeps the group
together and earns ``weights.siblings`` (default 100) for each child of the group. When
splits are allowed, a vacancy with beds for the whole group earns the points and one without
does not (the optimiser also charges ``sibling_split_cost`` per extra placement). A child
without siblings in the folder scores 0.

Scale: 0 or ``weights.siblings`` per child.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import IntArray, Pairs
from matcher.policy import Policy


class Siblings:
    """Points for a placement that can hold the child's whole sibling group."""

    name: ClassVar[str] = "siblings"
    reference: ClassVar[str] = "Children Act 1989 s22C(8)(c)"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Siblings"
    short: ClassVar[str] = "sibs"
    weight_key: ClassVar[str | None] = "siblings"

    def weight(self, policy: Policy) -> int:
        """``weights.siblings``."""
        return policy.weights.siblings

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        """The weight where the group has siblings and fits the vacancy's beds."""
        size = pairs.c("group_size")
        together = (size > 1) & (pairs.v("beds") >= size)
        return np.where(together, self.weight(pairs.policy), 0).astype(np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why."""
        size = int(pairs.c("group_size")[k])
        if size <= 1:
            return "No siblings in this case folder."
        if points > 0 or int(pairs.v("beds")[k]) >= size:
            return f"Beds for the whole sibling group of {size}: {points} points."
        return f"Too few beds for the whole sibling group of {size}: they would be split."
