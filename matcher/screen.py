"""Which (child, vacancy) pairs the hard rules are applied to: a block at a time, near first.

Candidate generation (:func:`matcher.candidates.build_candidates`) applies every hard rule to
pairs and keeps the eligible ones. Applying them to the whole grid of a folder at once needs
memory for every pair of it: 24,225 children of the East of England and London against their
11,957 vacancies are 290 million pairs, and that grid alone outgrew 24 GB. Here the rules are
applied to blocks of whole sibling groups, so memory holds one block and the eligible pairs.

Two ways of choosing a unit's pairs:

* ``candidate_radius_miles = 0`` (the default): every vacancy. The candidate set is exactly the
  eligible pairs of the whole grid, as before, whatever the block size.
* ``candidate_radius_miles = R > 0``: the vacancies within ``R`` miles of a member of the
  unit (great-circle miles from the member's home postcode; without one, from the child's
  school; without either, from an interior point of the child's area authority), found in
  one spatial index per placement type (:class:`scipy.spatial.cKDTree`), searched only for
  the types a member's plan accepts, without visiting the rest. A unit whose member has
  fewer than ``candidate_min_options`` eligible vacancies within the radius is widened to
  its nearest vacancies of each accepted type, doubling, until every member has that many
  or every such vacancy has been tried: a child is never left without options that the
  rules allow. This
  is a **policy cut-off, not a proof**: an optimum of the whole grid may use a pair it leaves
  out. The cut is reported (:class:`Screened`, the candidate set's summary and ``match``'s
  statistics) so that a result is never read as an optimum over pairs it did not see.

The same folder, policy and block size give the same pairs in the same order: the spatial
index is built from the vacancies in folder order and every set is sorted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.factors.base import TYPE_BIT, TYPES, FolderArrays, Pairs
from matcher.rules import DEFAULT_RULES, Rule, evaluate_rules

__all__ = ["BLOCK_PAIRS", "Screened", "screen_pairs", "search_points"]

IntArray = npt.NDArray[np.int64]

#: Pairs evaluated at a time. Each pair costs about 60 bytes while its block is assessed
#: (rule columns, gathered attributes, distances), so a block stays near 120 MB.
BLOCK_PAIRS = 2_000_000

_EARTH_RADIUS_MILES = 3958.7613


@dataclass(frozen=True, slots=True)
class Screened:
    """The eligible pairs of a folder and how they were found.

    Attributes
    ----------
    ci, vi : numpy.ndarray of int64
        Child and vacancy index of each eligible pair, sorted by child then vacancy.
    counts : dict
        Rule name -> pairs it excluded first, among the pairs evaluated, in rule order.
    evaluated : int
        Pairs the rules were applied to.
    grid : int
        Children times vacancies: the pairs a full screen evaluates.
    radius_miles : float
        The policy's ``candidate_radius_miles``; 0 means every pair was evaluated.
    min_options : int
        The policy's ``candidate_min_options`` (used only with a radius).
    widened_children : int
        Children whose unit was searched beyond the radius to find ``min_options`` eligible
        vacancies (0 without a radius).
    child_counts : numpy.ndarray of int64, shape (children, rules)
        Per child: its pairs each rule excluded first, among the pairs evaluated (with no
        cut, every vacancy: the counts of the child's ranking).
    rules : tuple of Rule
        The rules applied, in attribution order (the columns of ``child_counts``).
    """

    ci: IntArray
    vi: IntArray
    counts: dict[str, int]
    evaluated: int
    grid: int
    radius_miles: float
    min_options: int
    widened_children: int
    child_counts: IntArray | None = None
    rules: tuple[Rule, ...] = DEFAULT_RULES

    @property
    def cut(self) -> bool:
        """Whether some pairs were never evaluated (a radius cut-off left them out)."""
        return self.evaluated < self.grid

    def summary(self) -> dict[str, int | float]:
        """The cut as plain data, for candidate sets and match statistics."""
        return {
            "candidate_radius_miles": self.radius_miles,
            "candidate_min_options": self.min_options,
            "pairs_evaluated": self.evaluated,
            "pairs_in_grid": self.grid,
            "pairs_not_evaluated": self.grid - self.evaluated,
            "children_widened": self.widened_children,
        }


def _units(arrays: FolderArrays) -> tuple[IntArray, IntArray]:
    """Children grouped into units (a sibling group, or one child): (order, start offsets).

    ``order[start[u]:start[u + 1]]`` are the children of unit ``u``; units are numbered by
    their first child, so the numbering depends only on the folder's order.
    """
    n = arrays.n_children
    group = np.asarray(arrays.c_group, dtype=np.int64)
    # key: a sibling group's first member for its members, the child itself otherwise
    first = np.arange(n, dtype=np.int64)
    members = group >= 0
    if members.any():
        g = group[members]
        idx = np.flatnonzero(members)
        lowest = np.full(int(g.max()) + 1, n, dtype=np.int64)
        np.minimum.at(lowest, g, idx)
        first[idx] = lowest[g]
    order = np.lexsort((np.arange(n), first)).astype(np.int64)
    keys = first[order]
    start = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if n else np.zeros(0, np.int64)
    return order, np.r_[start, n].astype(np.int64)


def search_points(arrays: FolderArrays) -> tuple[npt.NDArray[np.float64], ...]:
    """Each child's search point (lat, lon): home, else school, else its area's interior."""
    from geography.authorities import interior_point

    lat = np.array(arrays.c_lat, dtype=np.float64)
    lon = np.array(arrays.c_lon, dtype=np.float64)
    no_home = ~np.asarray(arrays.c_has_home, dtype=bool) | np.isnan(lat) | np.isnan(lon)
    school = no_home & np.asarray(arrays.c_has_school, dtype=bool)
    lat[school] = arrays.c_s_lat[school]
    lon[school] = arrays.c_s_lon[school]
    rest = np.flatnonzero(np.isnan(lat) | np.isnan(lon))
    for k in rest.tolist():
        lat[k], lon[k] = interior_point(arrays.authorities[int(arrays.c_area[k])])
    return lat, lon


def _unit_sphere(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


class _Accumulator:
    def __init__(self, arrays: FolderArrays, rules: tuple[Rule, ...] = DEFAULT_RULES) -> None:
        self.arrays = arrays
        self.rules = rules
        self.ci: list[IntArray] = []
        self.vi: list[IntArray] = []
        self.by_child = np.zeros(arrays.n_children * len(rules), dtype=np.int64)
        self.evaluated = 0

    def evaluate(self, ci: IntArray, vi: IntArray) -> npt.NDArray[np.bool_]:
        """Apply the rules to the pairs; keep the eligible; return them as a mask."""
        if not len(ci):
            return np.zeros(0, dtype=bool)
        result = evaluate_rules(Pairs(self.arrays, ci, vi), self.rules)
        first = result.first
        bad = first >= 0
        # per child and rule, kept: a match explains its unplaced children from them
        self.by_child += np.bincount(
            ci[bad] * len(self.rules) + first[bad], minlength=len(self.by_child)
        )
        self.evaluated += len(ci)
        ok = ~bad
        self.ci.append(ci[ok])
        self.vi.append(vi[ok])
        return ok

    def result(self, radius: float, min_options: int, widened: int) -> Screened:
        ci = np.concatenate(self.ci) if self.ci else np.zeros(0, np.int64)
        vi = np.concatenate(self.vi) if self.vi else np.zeros(0, np.int64)
        order = np.lexsort((vi, ci))
        by_child = self.by_child.reshape(self.arrays.n_children, len(self.rules))
        total = by_child.sum(axis=0)
        counts = {r.name: int(total[i]) for i, r in enumerate(self.rules) if total[i]}
        a = self.arrays
        return Screened(
            ci=ci[order].astype(np.int64),
            vi=vi[order].astype(np.int64),
            counts=counts,
            evaluated=self.evaluated,
            grid=a.n_children * a.n_vacancies,
            radius_miles=radius,
            min_options=min_options,
            widened_children=widened,
            child_counts=by_child,
            rules=self.rules,
        )


def _blocks(weight: IntArray, limit: int) -> list[tuple[int, int]]:
    """Consecutive unit ranges of summed ``weight`` within ``limit`` (one unit at least)."""
    blocks: list[tuple[int, int]] = []
    cum = np.cumsum(weight)
    lo, base = 0, 0
    n = len(weight)
    while lo < n:
        hi = int(np.searchsorted(cum, base + limit, side="right"))
        hi = max(hi, lo + 1)
        blocks.append((lo, hi))
        base = int(cum[hi - 1])
        lo = hi
    return blocks


def _cross(
    members: IntArray, mstart: IntArray, unit: IntArray, vac: IntArray
) -> tuple[IntArray, IntArray]:
    """Every member of ``unit[k]`` paired with ``vac[k]``, for each k."""
    size = mstart[unit + 1] - mstart[unit]
    rep = np.repeat(np.arange(len(unit)), size)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(size) - size, size)
    ci = members[mstart[unit][rep] + offset]
    return ci.astype(np.int64), vac[rep].astype(np.int64)


def screen_pairs(
    arrays: FolderArrays,
    *,
    block_pairs: int = BLOCK_PAIRS,
    rules: Sequence[Rule] = DEFAULT_RULES,
) -> Screened:
    """Apply the hard rules to the pairs the policy asks for, a block of units at a time.

    Parameters
    ----------
    arrays
        The folder's arrays (all its children and vacancies).
    block_pairs
        Pairs evaluated at a time (memory, not the result: any value gives the same pairs).
    rules
        The hard rules, in attribution order (default :data:`~matcher.rules.DEFAULT_RULES`).
    """
    policy = arrays.policy
    radius = float(policy.candidate_radius_miles)
    min_options = int(policy.candidate_min_options)
    members, mstart = _units(arrays)
    sizes = np.diff(mstart)
    n_units, n_v = len(sizes), arrays.n_vacancies
    acc = _Accumulator(arrays, tuple(rules))
    if radius <= 0 or n_v == 0 or n_units == 0:
        for lo, hi in _blocks(sizes * n_v, block_pairs):
            unit = np.repeat(np.arange(lo, hi), n_v)
            vac = np.tile(np.arange(n_v, dtype=np.int64), hi - lo)
            acc.evaluate(*_cross(members, mstart, unit, vac))
        return acc.result(0.0 if radius <= 0 else radius, min_options, 0)
    return _screen_near(arrays, acc, members, mstart, radius, min_options, block_pairs)


class _TypeTrees:
    """One k-d tree of vacancy points per placement type.

    A unit is searched only in the trees of the types one of its members' plans accepts:
    a vacancy of another type breaks ``placement_type_suits_child`` for every member (and
    the sibling rule then excludes the group there), so evaluating it would only count it.
    """

    def __init__(self, arrays: FolderArrays) -> None:
        from scipy.spatial import cKDTree

        v_type = np.asarray(arrays.v_type, dtype=np.int64)
        pts = _unit_sphere(np.asarray(arrays.v_lat), np.asarray(arrays.v_lon))
        self.n_v = arrays.n_vacancies
        self.types: list[tuple[int, Any, IntArray]] = []  # (bit, tree, vacancy indices)
        for t in sorted(set(v_type.tolist())):
            idx = np.flatnonzero(v_type == t).astype(np.int64)
            self.types.append((int(TYPE_BIT[TYPES[t]]), cKDTree(pts[idx]), idx))

    def available(self, mask: IntArray) -> IntArray:
        """Vacancies of the types each mask accepts."""
        out = np.zeros(len(mask), dtype=np.int64)
        for bit, _, idx in self.types:
            out += np.where((mask & bit) != 0, len(idx), 0)
        return out

    @property
    def largest(self) -> int:
        return max((len(idx) for _, _, idx in self.types), default=0)

    def within(self, points: Any, unit: IntArray, mask: IntArray, chord: float) -> IntArray:
        """Sorted unique ``unit * n_v + vacancy`` within ``chord`` of each point (in C)."""
        from scipy.spatial import cKDTree

        keys: list[IntArray] = []
        for bit, tree, idx in self.types:
            rows = np.flatnonzero((mask & bit) != 0)
            if not len(rows):
                continue
            near = cKDTree(points[rows]).sparse_distance_matrix(tree, chord, output_type="ndarray")
            i = np.asarray(near["i"], dtype=np.int64)
            j = np.asarray(near["j"], dtype=np.int64)
            keys.append(unit[rows][i] * self.n_v + idx[j])
        return _unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)

    def nearest(self, points: Any, unit: IntArray, mask: IntArray, k: int) -> IntArray:
        """Sorted unique keys of each point's ``k`` nearest vacancies of every accepted type."""
        keys: list[IntArray] = []
        for bit, tree, idx in self.types:
            rows = np.flatnonzero((mask & bit) != 0)
            if not len(rows):
                continue
            kk = min(k, len(idx))
            _, near = tree.query(points[rows], k=kk)
            near = np.asarray(near, dtype=np.int64).reshape(len(rows), -1)
            keys.append(np.repeat(unit[rows], near.shape[1]) * self.n_v + idx[near.ravel()])
        return _unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)


def _screen_near(
    arrays: FolderArrays,
    acc: _Accumulator,
    members: IntArray,
    mstart: IntArray,
    radius: float,
    min_options: int,
    block_pairs: int,
) -> Screened:
    n_v = arrays.n_vacancies
    sizes = np.diff(mstart)
    n_units = len(sizes)
    trees = _TypeTrees(arrays)
    lat, lon = search_points(arrays)
    points = _unit_sphere(lat, lon)
    # chord length of the radius on the unit sphere (monotonic in great-circle miles), a hair
    # wider so that rounding never loses a vacancy on the edge
    chord = 2 * math.sin(min(math.pi, radius / _EARTH_RADIUS_MILES) / 2) * (1 + 1e-9)
    unit_of_member = np.repeat(np.arange(n_units, dtype=np.int64), sizes)
    # the types any member of the unit accepts, per unit and per member (in unit order)
    unit_mask = np.bitwise_or.reduceat(
        np.asarray(arrays.c_types, dtype=np.int64)[members], mstart[:-1]
    )
    member_mask = unit_mask[unit_of_member]
    eligible_of_child = np.zeros(arrays.n_children, dtype=np.int64)

    def evaluate_keys(keys: IntArray) -> None:
        """Evaluate unit-vacancy keys (``unit * n_v + vacancy``), a block at a time."""
        unit, vac = keys // n_v, keys % n_v
        weight = sizes[unit]
        for lo, hi in _blocks(weight, block_pairs):
            ci, vi = _cross(members, mstart, unit[lo:hi], vac[lo:hi])
            ok = acc.evaluate(ci, vi)
            eligible_of_child[:] += np.bincount(ci[ok], minlength=len(eligible_of_child))

    # first round: within the radius, blocks of whole units of about block_pairs / 2000 children
    per_block = max(1, block_pairs // max(1, min(n_v, 2000)))
    for ulo, uhi in _blocks(sizes, per_block):
        lo, hi = int(mstart[ulo]), int(mstart[uhi])
        rows = slice(lo, hi)
        evaluate_keys(
            trees.within(points[members[rows]], unit_of_member[rows], member_mask[rows], chord)
        )
    # widen the units where a member has fewer than min_options eligible vacancies: the
    # nearest k vacancies of each accepted type from each member, k doubling, until every
    # member has enough or the unit has tried every vacancy of those types (a unit is short
    # at most from the first round on)
    widened = np.zeros(arrays.n_children, dtype=bool)
    available = trees.available(unit_mask)
    short_pos = np.flatnonzero(eligible_of_child[members] < min_options)
    if len(short_pos):
        pos = np.flatnonzero(np.isin(unit_of_member, _unique(unit_of_member[short_pos])))
        pts, unit, mask = points[members[pos]], unit_of_member[pos], member_mask[pos]
        done = trees.within(pts, unit, mask, chord)
        k = max(4 * min_options, 16)
        while True:
            tried = np.bincount(done // n_v, minlength=n_units)
            still = eligible_of_child[members] < min_options
            still &= tried[unit_of_member] < available[unit_of_member]
            pos = np.flatnonzero(still)
            if not len(pos):
                break
            # every member of a unit that is still short, so that keys cover the whole unit
            pos = np.flatnonzero(np.isin(unit_of_member, _unique(unit_of_member[pos])))
            keys = trees.nearest(points[members[pos]], unit_of_member[pos], member_mask[pos], k)
            new = np.setdiff1d(keys, done, assume_unique=True)
            done = _unique(np.concatenate((done, keys)))
            if len(new):
                widened[members[np.isin(unit_of_member, _unique(new // n_v))]] = True
                evaluate_keys(new)
            if k >= trees.largest:
                break
            k *= 2
    return acc.result(radius, min_options, int(widened.sum()))


def _unique(values: IntArray) -> IntArray:
    """Sorted unique integers (a sort: numpy's hash-based ``unique`` took seconds here)."""
    a = np.sort(np.asarray(values, dtype=np.int64), kind="stable")
    if len(a) < 2:
        return a
    return a[np.r_[True, a[1:] != a[:-1]]]
