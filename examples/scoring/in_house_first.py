"""An example scoring set: the folder's own factors and one more, ``in_house_first``.

Adding a factor is this module (one class) and one tuple entry (in :func:`scoring`)::

    PYTHONPATH=examples/scoring placematch rank examples/demo --child C04 \\
        --scoring in_house_first:scoring

``--scoring`` is taken by ``rank``, ``why-not``, ``candidates``, ``match``, ``referral`` and
``impact`` (on a pooled folder, :func:`scoring` is called with each authority's folder); see
docs/matching.md ("Your own scoring set").
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.domain import CaseFolder
from matcher.factors import Pairs, factors_for, policy_weight
from matcher.factors.base import IntArray
from matcher.placement_types import PlacementType
from matcher.policy import Policy
from matcher.scoring import Scoring


class InHouseFirst:
    """Points for the authority's own foster carers.

    Basis: the authority's sufficiency strategy (Children Act 1989 s22G), a policy choice
    and not a statutory consideration of s22C; 150 points unless ``[weights]`` has an
    ``in_house_first`` key (it has not: :func:`~matcher.factors.policy_weight`).
    """

    name: ClassVar[str] = "in_house_first"
    reference: ClassVar[str] = "Children Act 1989 s22G (sufficiency): the authority's policy"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "In-house carer"
    short: ClassVar[str] = "inh"
    weight_key: ClassVar[str | None] = None

    def weight(self, policy: Policy) -> int:
        return policy_weight(policy, self.weight_key, 150)

    def bounds(self, policy: Policy) -> tuple[int, int]:
        return 0, self.weight(policy)

    def assess(self, pairs: Pairs) -> IntArray:
        own = pairs.vacancy_is(PlacementType.INHOUSE_FOSTER)
        return np.where(own, self.weight(pairs.policy), 0).astype(np.int64)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        if points:
            return f"An in-house foster carer of the authority: {points} points."
        return "Not an in-house foster carer: 0 points."


def scoring(folder: CaseFolder) -> Scoring:
    """The folder's own factors (:func:`~matcher.factors.factors_for`) and ``in_house_first``
    last, with the default rules."""
    return Scoring((*factors_for(folder), InHouseFirst()))
