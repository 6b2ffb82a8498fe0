"""Own carers: an authority's own in-house foster carers offered to its own children first.

Basis: Children Act 1989 s22C(5) -- the authority must place the child in "the most
appropriate placement available" -- read with its sufficiency duty (s22G): an authority that
recruits and supports its own foster carers for its own children may, in a Regional Care
Co-operative's pool (Children's Wellbeing and Schools Act 2026), prefer them for its own
children among the options that are otherwise as appropriate. Neither section makes an
in-house carer more appropriate as such; s22C(7)-(9) fix what comes first (a connected
person, then near home, school, siblings, disability, in area).

Policy choice: off by default (``own_carers_first = false``: every authority's carers are
offered to every child of the pool on the same terms, the reading of s22C(5) that asks only
which option is most appropriate for the child). With ``own_carers_first = true``,
``weights.own_carers`` points (default 40) for an ``inhouse_foster`` vacancy whose
``owner_la`` is the child's own ``la``; the weight may not exceed any non-zero statutory weight
(as ``cost``), so the preference settles near-ties and never outweighs a s22C(8)-(9) factor.
Scored only in pooled folders (vacancies naming ``owner_la``); any other folder has no such
factor. An ``[authority."NAME"]`` table may turn it on for one authority's children only.

Scale: 0 or ``weights.own_carers``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt

from matcher.factors.base import IntArray, Pairs
from matcher.placement_types import PlacementType
from matcher.policy import Policy


def own_authority(pairs: Pairs) -> npt.NDArray[np.bool_]:
    """Whether each pair's vacancy is owned (``owner_la``) by the child's own ``la``."""
    a = pairs.arrays
    numbers: dict[str, int] = {}
    child_la = np.asarray(
        [numbers.setdefault(c.authority.ons_code, len(numbers)) for c in a.children],
        dtype=np.int64,
    ).reshape(-1)
    owner = np.asarray(
        [
            -1 if v.owner is None else numbers.setdefault(v.owner.ons_code, len(numbers))
            for v in a.vacancies
        ],
        dtype=np.int64,
    ).reshape(-1)
    return np.asarray(owner[pairs.vi] == child_la[pairs.ci])


class OwnCarers:
    """Points for an in-house foster carer of the child's own authority (pooled folders)."""

    name: ClassVar[str] = "own_carers"
    reference: ClassVar[str] = (
        "Children Act 1989 s22C(5) (most appropriate placement) and s22G (sufficiency); "
        "a policy preference, capped below s22C(8)"
    )
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Own carers"
    short: ClassVar[str] = "own"
    weight_key: ClassVar[str | None] = "own_carers"

    def weight(self, policy: Policy) -> int:
        """``weights.own_carers`` when ``own_carers_first``, else 0."""
        return policy.weights.own_carers if policy.own_carers_first else 0

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        """The weight for the child's own authority's in-house carer, else 0."""
        w = self.weight(pairs.policy)
        if w == 0 or not len(pairs):
            return np.zeros(len(pairs), dtype=np.int64)
        inhouse = np.asarray(pairs.vacancy_is(PlacementType.INHOUSE_FOSTER), dtype=bool)
        return np.where(inhouse & own_authority(pairs), w, 0).astype(np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why."""
        if not pairs.policy.own_carers_first:
            return "Own carers are not preferred (own_carers_first is off): 0 points."
        own = pairs.child(k).authority.name
        if points:
            return f"An in-house foster carer of {own}, the child's own authority: {points} points."
        return f"Not an in-house foster carer of {own}, the child's own authority: 0 points."
