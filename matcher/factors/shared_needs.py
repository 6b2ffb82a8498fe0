"""Shared needs: children already living there who share the child's needs.

Basis: Children's Homes (England) Regulations 2015 reg 16 and Sch. 1 (the Statement of
Purpose: the range of needs the home is for) and reg 14 (matching with the children already
there); Children Act 1989 s22C(5) (the most appropriate placement).

Policy choice: a resident who shares one of the child's needs -- a disability, a separated
migrant child's experience, a parent with a baby, a wheelchair -- means a peer group and a
home working with that need every day, so it earns points: half of ``weights.shared_needs``
(default 20) for each of the child's needs that some resident shares, rounded down, at most
the weight. Exclusions (``solo_only``, ``no_younger_children``) and ``sibling_group`` are not
shared needs and never count. Shared *risks* are not rewarded: they are named in the
matching and impact-risk summary (``placematch impact``) for the officer to weigh. A home
nobody lives in, and every folder without ``residents.csv``, scores 0.

Scale: 0 to ``weights.shared_needs``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import NEED_BIT, IntArray, Pairs
from matcher.policy import Policy
from matcher.vocabulary import Need

#: Needs that count when a resident shares them (every need but the exclusions and siblings).
SHAREABLE: tuple[Need, ...] = tuple(
    n for n in Need if n not in (Need.SOLO_ONLY, Need.NO_YOUNGER_CHILDREN, Need.SIBLING_GROUP)
)
_SHAREABLE_MASK = sum(NEED_BIT[n] for n in SHAREABLE)


def shared_mask(pairs: Pairs) -> IntArray:
    """The child's needs that a resident of the provider shares, as a need mask."""
    return np.asarray(pairs.c("needs") & pairs.v("res_needs") & _SHAREABLE_MASK, dtype=np.int64)


class SharedNeeds:
    """Points when children living there share the child's needs."""

    name: ClassVar[str] = "shared_needs"
    reference: ClassVar[str] = (
        "Children's Homes (England) Regulations 2015 reg 16, Sch. 1 (Statement of Purpose) "
        "and reg 14; Children Act 1989 s22C(5)"
    )
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Shared needs"
    short: ClassVar[str] = "shared"
    weight_key: ClassVar[str | None] = "shared_needs"

    def weight(self, policy: Policy) -> int:
        """``weights.shared_needs``."""
        return policy.weights.shared_needs

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        """Half the weight per shared need, capped at the weight; 0 without residents."""
        if not pairs.has_residents:
            return np.zeros(len(pairs), dtype=np.int64)
        w = self.weight(pairs.policy)
        count = np.bitwise_count(shared_mask(pairs)).astype(np.int64)
        return np.asarray(np.minimum(w, count * (w // 2)), dtype=np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why (names the needs shared, never a resident)."""
        n = int(pairs.v("res_count")[k]) if pairs.has_residents else 0
        if n == 0:
            return "Nobody recorded as living there: not scored."
        mask = int(pairs.c("needs")[k]) & int(pairs.v("res_needs")[k]) & _SHAREABLE_MASK
        shared = [need.value for need in SHAREABLE if mask & NEED_BIT[need]]
        if not shared:
            return "No resident shares the child's needs: 0 points."
        capped = " (capped)" if points == self.weight(pairs.policy) and len(shared) > 2 else ""
        return f"A resident shares the child's needs {', '.join(shared)}: {points} points{capped}."
