"""Placement units: what the exact model decides about, and how they decompose.

With hard sibling groups (``split_penalty is None``) a group is one *unit* of size
``|g|`` whose candidate vacancies are those eligible for every member with at least
``|g|`` beds, worth the sum of its members' points there. Every other child is a unit of
size 1. With a split penalty every child is its own unit and the groups are kept as
*soft groups* that link their members in the objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as csgraph_components

from matcher.optimiser.problem import AssignmentProblem

__all__ = ["UnitModel", "build_units", "connected_components"]


@dataclass(frozen=True, slots=True, eq=False)
class UnitModel:
    """Units and their candidate (unit, vacancy) pairs, sorted by (unit, vacancy).

    Attributes
    ----------
    size
        ``int64 [n_units]``: children in each unit.
    unit_of_child
        ``int64 [n_children]``.
    members
        Children of each unit, ascending.
    pair_unit, pair_vacancy, pair_points
        ``int64 [n_unit_pairs]``.
    soft_groups
        Split-penalty mode: the units (= children) of each sibling group; else empty.
    scale
        Least common multiple of the unit sizes: the flow works in ``points * scale /
        size`` per child so that its costs stay integers.
    family
        ``int64 [n_units]``: the sibling group of each unit's children (``-1``: none). A
        hard unit is a whole group; in split-penalty mode the children of a group are
        separate units of one family.
    pair_exclusive
        ``bool [n_unit_pairs]``: the unit pair places a child through an exclusive pair.
    """

    size: npt.NDArray[np.int64]
    unit_of_child: npt.NDArray[np.int64]
    members: tuple[tuple[int, ...], ...]
    pair_unit: npt.NDArray[np.int64]
    pair_vacancy: npt.NDArray[np.int64]
    pair_points: npt.NDArray[np.int64]
    soft_groups: tuple[npt.NDArray[np.int64], ...]
    scale: int
    family: npt.NDArray[np.int64]
    pair_exclusive: npt.NDArray[np.bool_]

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.size)

    def vacancy_of_child(
        self, chosen_pair: npt.NDArray[np.int64], n_children: int
    ) -> npt.NDArray[np.int32]:
        """Expand a unit decision (``-1`` or a unit-pair index per unit) to children."""
        vacancy_of_unit = np.full(len(chosen_pair), -1, dtype=np.int64)
        placed = chosen_pair >= 0
        vacancy_of_unit[placed] = self.pair_vacancy[chosen_pair[placed]]
        out = np.full(n_children, -1, dtype=np.int32)
        if n_children:
            out[:] = vacancy_of_unit[self.unit_of_child]
        return out


def build_units(problem: AssignmentProblem, *, hard: bool | None = None) -> UnitModel:
    """Build the unit model of a problem.

    Parameters
    ----------
    problem
        The problem.
    hard
        Treat sibling groups as hard units; defaults to ``problem.hard_units``.
    """
    if hard is None:
        hard = problem.hard_units
    n = problem.n_children
    n_vac = max(problem.n_vacancies, 1)
    child = problem.pair_child.astype(np.int64)
    vacancy = problem.pair_vacancy.astype(np.int64)
    points = problem.pair_points
    assert problem.pair_exclusive is not None
    exclusive = problem.pair_exclusive
    group_of_child = problem.group_of_child.astype(np.int64)
    groups = problem.sibling_groups
    if not hard or not groups:
        order = np.lexsort((vacancy, child))
        soft = tuple(np.array(g, dtype=np.int64) for g in groups) if not hard else ()
        return UnitModel(
            size=np.ones(n, dtype=np.int64),
            unit_of_child=np.arange(n, dtype=np.int64),
            members=tuple((c,) for c in range(n)),
            pair_unit=child[order],
            pair_vacancy=vacancy[order],
            pair_points=points[order],
            soft_groups=soft,
            scale=1,
            family=group_of_child.copy(),
            pair_exclusive=exclusive[order].copy(),
        )
    n_groups = len(groups)
    singles = np.flatnonzero(group_of_child < 0)
    unit_of_child = np.empty(n, dtype=np.int64)
    unit_of_child[group_of_child >= 0] = group_of_child[group_of_child >= 0]
    unit_of_child[singles] = n_groups + np.arange(len(singles))
    sizes = np.array([len(g) for g in groups] + [1] * len(singles), dtype=np.int64)
    members = tuple(tuple(sorted(g)) for g in groups) + tuple((int(c),) for c in singles)

    unit = unit_of_child[child]
    in_group = group_of_child[child] >= 0
    # Group pairs: (group, vacancy) keys shared by every member, with enough beds.
    key = unit[in_group] * n_vac + vacancy[in_group]
    keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    # integer sums (a float sum would round above 2**53, which a pooled nation's points reach)
    sums = np.zeros(len(keys), dtype=np.int64)
    np.add.at(sums, inverse, points[in_group])
    any_exclusive = np.bincount(inverse, weights=exclusive[in_group], minlength=len(keys)) > 0
    g_unit, g_vac = keys // n_vac, keys % n_vac
    ok = (counts == sizes[g_unit]) & (problem.capacity[g_vac] >= sizes[g_unit])
    pair_unit = np.concatenate([g_unit[ok], unit[~in_group]])
    pair_vacancy = np.concatenate([g_vac[ok], vacancy[~in_group]])
    pair_points = np.concatenate([sums[ok], points[~in_group]])
    pair_exclusive = np.concatenate([any_exclusive[ok], exclusive[~in_group]])
    order = np.lexsort((pair_vacancy, pair_unit))
    family = np.concatenate([np.arange(n_groups, dtype=np.int64), np.full(len(singles), -1)])
    scale = reduce(math.lcm, (len(g) for g in groups), 1)
    return UnitModel(
        size=sizes,
        unit_of_child=unit_of_child,
        members=members,
        pair_unit=pair_unit[order],
        pair_vacancy=pair_vacancy[order],
        pair_points=pair_points[order],
        soft_groups=(),
        scale=scale,
        family=family.astype(np.int64),
        pair_exclusive=pair_exclusive[order],
    )


def connected_components(
    n_nodes: int, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Label the connected components of an undirected graph given by edges ``a[i]-b[i]``.

    The label of a node is the smallest node of its component (the solver keys its
    per-component sums by it): :func:`scipy.sparse.csgraph.connected_components` numbers
    the components, and each number is mapped to the smallest node that carries it.
    """
    if len(a) == 0:
        return np.arange(n_nodes, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes)).tocsr()
    _, numbers = csgraph_components(graph, directed=False)
    first = np.full(int(numbers.max()) + 1, n_nodes, dtype=np.int64)
    np.minimum.at(first, numbers, np.arange(n_nodes, dtype=np.int64))
    return first[numbers]
