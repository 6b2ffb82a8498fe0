"""Outcome measures of a match, from the case folder and the assignments alone.

The denominators (also in ``docs/match.md``):

* ``kin_pct``, ``in_area_pct``: placed children;
* ``within_20_miles_pct``: placed children with a home postcode (a separated migrant child
  without one, or a child whose postcode is unknown (``home_postcode_unknown``), has no
  distance; SSDA903 leaves it blank too). A child counts when the 903
  ``PL_DISTANCE`` (miles to 0.1, as the DfE rounds) is at most 20;
* ``siblings_together_pct``: every child of a sibling group of two or more in the folder,
  placed or not; a child counts when it and all its siblings are placed with the same
  provider (household, home or unit);
* ``school_kept_pct``: placed children whose school has a known location; a child counts
  when the placement is within the policy's ``distance_step_miles`` (20 by default) of it;
* ``weekly_cost``: the vacancy's weekly cost summed over placed children.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.domain import CaseFolder
from matcher.result import Assignment, Metrics, metrics_pct

__all__ = ["WITHIN_MILES", "compute_metrics", "pl_distance_of"]

#: The national reporting threshold (SSDA903 ``PL_DISTANCE``; Thurrock's and DfE's 20 miles).
WITHIN_MILES = 20.0


def pl_distance_of(miles: float) -> float:
    """Miles rounded to 0.1 as the DfE 903 validator rounds (numpy, half to even)."""
    return float(np.round(miles, 1))


def compute_metrics(
    folder: CaseFolder, assignments: Sequence[Assignment], *, sibling_splits: int = 0
) -> Metrics:
    """The :class:`~matcher.result.Metrics` of ``assignments`` in ``folder``."""
    placed = len(assignments)
    kin = sum(a.connected_person for a in assignments)
    with_home = [a for a in assignments if a.distance_miles is not None]
    near = sum(
        pl_distance_of(a.distance_miles) <= WITHIN_MILES
        for a in with_home
        if a.distance_miles is not None
    )
    in_area = sum(a.in_area for a in assignments)
    step = folder.policy.distance_step_miles
    with_school = [a for a in assignments if a.school_distance_miles is not None]
    kept = sum(
        a.school_distance_miles <= step for a in with_school if a.school_distance_miles is not None
    )
    provider_of = {a.child_id: a.provider_id for a in assignments}
    in_groups = together = 0
    for group in folder.sibling_groups:
        if group.size < 2:
            continue
        in_groups += group.size
        providers = {provider_of.get(c) for c in group.child_ids}
        if len(providers) == 1 and None not in providers:
            together += group.size
    return Metrics(
        children=len(folder.children),
        placed=placed,
        unplaced=len(folder.children) - placed,
        kin_pct=metrics_pct(kin, placed),
        within_20_miles_pct=metrics_pct(near, len(with_home)),
        in_area_pct=metrics_pct(in_area, placed),
        siblings_together_pct=metrics_pct(together, in_groups),
        school_kept_pct=metrics_pct(kept, len(with_school)),
        school_kept_miles=float(step),
        weekly_cost=sum(a.weekly_cost for a in assignments),
        sibling_splits=sibling_splits,
    )
