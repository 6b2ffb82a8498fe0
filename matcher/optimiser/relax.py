"""Step 1 of :func:`~matcher.optimiser.solve.solve`: the LP relaxation, solved exactly.

The LP relaxation of the unit model is a transportation problem (a unit may send part of
its children to several vacancies, capacity groups hold at most their relaxed room), so
min-cost flow solves it exactly, in integers scaled by ``units.scale``. Its value is the
upper bound; its duals price every unit, bed and capacity group, and its reduced costs
drive the fixing of :mod:`matcher.optimiser.decompose`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matcher.optimiser.flow import FlowResult, max_weight_flow
from matcher.optimiser.problem import AssignmentProblem
from matcher.optimiser.units import UnitModel

__all__ = ["Relaxation", "relax", "relaxed_group_capacity"]


@dataclass(frozen=True, slots=True, eq=False)
class Relaxation:
    """The relaxation's flow, duals and bound.

    Attributes
    ----------
    flow
        The optimal flow with its LP duals (scaled by ``units.scale``).
    relaxed_room
        ``int64 [n_capacity_groups]``: each group's room in the relaxation
        (:func:`relaxed_group_capacity`).
    gamma
        The groups' duals (empty when there are none).
    lp_bound
        The relaxation's value in points (rounded down): a proven upper bound.
    scaled_rc
        ``int64 [n_unit_pairs]``: each unit pair's reduced cost times its unit's size (in
        the flow's scale): choosing the pair costs the LP at least this much.
    """

    flow: FlowResult
    relaxed_room: npt.NDArray[np.int64]
    gamma: npt.NDArray[np.int64]
    lp_bound: int
    scaled_rc: npt.NDArray[np.int64]


def relax(problem: AssignmentProblem, units: UnitModel) -> Relaxation:
    """Solve the LP relaxation of the unit model by min-cost flow (exact, in integers)."""
    k = units.scale
    size_of_pair = units.size[units.pair_unit]
    gain = units.pair_points * k // size_of_pair
    assert problem.vacancy_group is not None and problem.group_capacity is not None
    relaxed_room = relaxed_group_capacity(problem, units)
    flow = max_weight_flow(
        units.size,
        problem.capacity.astype(np.int64),
        units.pair_unit,
        units.pair_vacancy,
        gain,
        right_group=problem.vacancy_group.astype(np.int64),
        group_capacity=relaxed_room,
    )
    return Relaxation(
        flow=flow,
        relaxed_room=relaxed_room,
        gamma=flow.gamma if flow.gamma is not None else np.zeros(0, dtype=np.int64),
        lp_bound=flow.value // k,
        scaled_rc=size_of_pair * flow.reduced_cost,
    )


def relaxed_group_capacity(problem: AssignmentProblem, units: UnitModel) -> npt.NDArray[np.int64]:
    """Room of each capacity group in the relaxation: a sound upper bound on its children.

    A group holds at most its capacity, or, if exempt, one family alone: at most the
    children of that family with a pair there. So the larger of the two bounds it.
    """
    assert problem.group_capacity is not None and problem.vacancy_group is not None
    assert problem.group_siblings_exempt is not None
    room = problem.group_capacity.astype(np.int64).copy()
    n_groups = len(room)
    if n_groups == 0 or not problem.group_siblings_exempt.any():
        return room
    g_of_pair = problem.vacancy_group.astype(np.int64)[units.pair_vacancy]
    fam = units.family[units.pair_unit]
    ok = (g_of_pair >= 0) & (fam >= 0)
    if not ok.any():
        return room
    # distinct (unit, group) with their family, then children per (family, group)
    keys = np.unique(units.pair_unit[ok] * n_groups + g_of_pair[ok])
    unit, group = keys // n_groups, keys % n_groups
    fam_keys, inverse = np.unique(units.family[unit] * n_groups + group, return_inverse=True)
    children = np.bincount(inverse, weights=units.size[unit], minlength=len(fam_keys))
    largest = np.zeros(n_groups, dtype=np.int64)
    np.maximum.at(largest, fam_keys % n_groups, children.astype(np.int64))
    return np.where(problem.group_siblings_exempt, np.maximum(room, largest), room)
