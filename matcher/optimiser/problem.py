"""The integer assignment problem that the optimiser solves.

The batch matcher scores every eligible (child, vacancy) pair and hands the optimiser
integers only: how many beds each vacancy has, which pairs are eligible, and the points
of each pair. The order of considerations of the Children Act 1989 s22C (place as many
children as possible, connected persons first, then the most points) is already folded
into ``pair_points`` by large bases, so maximising the sum of points under the
constraints below reaches the statutory optimum.

Constraints
-----------
* each child is placed in at most one vacancy, and only through an eligible pair;
* a vacancy holds at most ``capacity[v]`` children;
* sibling groups (s22C(8)(c)): with ``split_penalty=None`` every group is a hard unit,
  all of its children in the same vacancy or none of them placed. With an integer
  ``split_penalty`` children of a group may be placed apart, at a cost; see
  :func:`split_penalty_of`.
* household capacity groups (``vacancy_group``, ``group_capacity``): the children placed in
  all the vacancies of one group number at most ``group_capacity[g]`` -- except, where
  ``group_siblings_exempt[g]``, when every child placed in the group belongs to one sibling
  group (the Children Act 1989 Sch. 7 siblings exception to the fostering limit);
* exclusive pairs (``pair_exclusive``): a child placed through an exclusive pair is the only
  one in its household (``vacancy_household``; ``-1`` means the vacancy alone) apart from
  children of its own sibling group (a ``solo_only`` placement).

Split penalty (exact definition)
--------------------------------
For a group :math:`g` with :math:`k_g` of its :math:`|g|` children placed, using
:math:`m_g` distinct vacancies, the objective loses

.. math:: \\text{split\\_penalty} \\times \\big((m_g - 1) + (|g| - k_g)\\big)
   \\quad\\text{if } k_g \\ge 1, \\qquad 0 \\text{ if } k_g = 0.

That is, one penalty for each vacancy the group uses beyond the first, and one for each
child of the group left unplaced while a sibling is placed. A group placed whole in one
vacancy, or not placed at all, costs nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_OBJECTIVE", "AssignmentProblem", "pair_lookup"]

#: Upper limit on the largest objective any assignment could reach (the sum over children
#: of each child's best pair points) times the least common multiple of the sibling-group
#: sizes. The min-cost flow works on points scaled by that multiple, in int64, and its duals
#: and reduced costs are differences of such values, so this keeps every one inside int64.
#: Everything else is exact in integers at this scale: CP-SAT's value and bound are read as
#: integers, and the floating-point LPs (:mod:`matcher.optimiser.hull`) see only residual
#: points, refusing a component whose residual total reaches 2**50. OR-Tools' own cost
#: scaling (arc cost times the number of nodes) is checked by OR-Tools, and a problem beyond
#: it gets a clear error from :func:`matcher.optimiser.flow.max_weight_flow`.
MAX_OBJECTIVE = 2**61


def pair_lookup(
    pair_row: npt.NDArray[np.integer],
    pair_col: npt.NDArray[np.integer],
    row: npt.NDArray[np.integer],
    col: npt.NDArray[np.integer],
) -> npt.NDArray[np.int64]:
    """Index of each pair ``(row[i], col[i])`` among the pairs ``(pair_row, pair_col)``.

    ``-1`` where there is no such pair (or ``col[i] < 0``: unplaced). The pairs are
    distinct; they need not be sorted (they are sorted here unless they already are).
    """
    out = np.full(len(row), -1, dtype=np.int64)
    if len(pair_row) == 0 or len(row) == 0:
        return out
    n_col = max(int(pair_col.max()) + 1, int(col.max()) + 1, 1)
    keys = pair_row.astype(np.int64) * n_col + pair_col
    if bool((keys[1:] >= keys[:-1]).all()):
        order = None
        sorted_keys = keys
    else:
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
    wanted = row.astype(np.int64) * n_col + col
    at = np.minimum(np.searchsorted(sorted_keys, wanted), len(keys) - 1)
    hit = (sorted_keys[at] == wanted) & (col >= 0)
    out[hit] = at[hit] if order is None else order[at[hit]]
    return out


def _as_readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    copy = np.array(array, copy=True)
    copy.setflags(write=False)
    return copy


def _check_array(name: str, value: object, dtype: type[np.generic]) -> None:
    if not isinstance(value, np.ndarray):
        raise ValueError(
            f"AssignmentProblem.{name}: expected a numpy array of {np.dtype(dtype).name}, "
            f"got {type(value).__name__}"
        )
    if value.ndim != 1:
        raise ValueError(
            f"AssignmentProblem.{name}: expected a one-dimensional array, got shape {value.shape}"
        )
    if value.dtype != np.dtype(dtype):
        raise ValueError(
            f"AssignmentProblem.{name}: expected dtype {np.dtype(dtype).name}, got {value.dtype} "
            "(use AssignmentProblem.from_arrays to convert)"
        )


@dataclass(frozen=True, slots=True, eq=False)
class AssignmentProblem:
    """An already-scored sparse candidate model: integers only.

    Parameters
    ----------
    n_children
        Number of children; children are the integers ``0 .. n_children - 1``.
    capacity
        ``int64 [n_vacancies]``: beds free in each vacancy (``>= 0``).
    pair_child, pair_vacancy
        ``int32 [n_pairs]``: the child and the vacancy of each eligible pair. A
        (child, vacancy) pair appears at most once.
    pair_points
        ``int64 [n_pairs]``: objective coefficient of each pair (``> 0``).
    sibling_groups
        Disjoint sets of child indices, each of size ``>= 2``.
    split_penalty
        ``None``: each sibling group is a hard unit. An integer ``>= 0``: groups may be
        split, and the objective loses the penalty defined in the module docstring.
    vacancy_group
        ``int32 [n_vacancies]`` or ``None``: the capacity group of each vacancy (``-1``:
        none). ``None`` means no groups.
    group_capacity
        ``int64 [n_groups]``: children the vacancies of each group may hold together
        (required with ``vacancy_group``; ``n_groups = len(group_capacity)``).
    group_siblings_exempt
        ``bool [n_groups]`` or ``None`` (all false): the group may hold more than its
        capacity when all the children placed in it are of one sibling group.
    vacancy_household
        ``int32 [n_vacancies]`` or ``None`` (all ``-1``): the household of each vacancy for
        exclusive pairs; ``-1`` makes the vacancy a household of its own.
    pair_exclusive
        ``bool [n_pairs]`` or ``None`` (all false): a child placed through this pair shares
        its household with nobody outside its sibling group.

    Raises
    ------
    ValueError
        On any wrong shape, dtype, index, value, duplicate pair or overlapping group;
        the message names the field.

    Notes
    -----
    The arrays are copied and made read-only, so a problem cannot change after it has
    been validated. Problems compare by identity (``eq=False``): numpy arrays have no
    single truth value.
    """

    n_children: int
    capacity: npt.NDArray[np.int64]
    pair_child: npt.NDArray[np.int32]
    pair_vacancy: npt.NDArray[np.int32]
    pair_points: npt.NDArray[np.int64]
    sibling_groups: tuple[tuple[int, ...], ...] = ()
    split_penalty: int | None = None
    vacancy_group: npt.NDArray[np.int32] | None = None
    group_capacity: npt.NDArray[np.int64] | None = None
    group_siblings_exempt: npt.NDArray[np.bool_] | None = None
    vacancy_household: npt.NDArray[np.int32] | None = None
    pair_exclusive: npt.NDArray[np.bool_] | None = None
    _group_of_child: npt.NDArray[np.int32] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.n_children, bool) or not isinstance(self.n_children, int | np.integer):
            raise ValueError(
                f"AssignmentProblem.n_children: expected an integer, got {self.n_children!r}"
            )
        if self.n_children < 0:
            raise ValueError(f"AssignmentProblem.n_children: expected >= 0, got {self.n_children}")
        object.__setattr__(self, "n_children", int(self.n_children))
        _check_array("capacity", self.capacity, np.int64)
        _check_array("pair_child", self.pair_child, np.int32)
        _check_array("pair_vacancy", self.pair_vacancy, np.int32)
        _check_array("pair_points", self.pair_points, np.int64)
        n_pairs = len(self.pair_child)
        if len(self.pair_vacancy) != n_pairs or len(self.pair_points) != n_pairs:
            raise ValueError(
                "AssignmentProblem: pair_child, pair_vacancy and pair_points must have the same "
                f"length, got {n_pairs}, {len(self.pair_vacancy)} and {len(self.pair_points)}"
            )
        if (self.capacity < 0).any():
            bad = int(np.flatnonzero(self.capacity < 0)[0])
            raise ValueError(
                f"AssignmentProblem.capacity[{bad}]: expected >= 0 beds, got {self.capacity[bad]}"
            )
        n_vacancies = len(self.capacity)
        for name, values, upper in (
            ("pair_child", self.pair_child, self.n_children),
            ("pair_vacancy", self.pair_vacancy, n_vacancies),
        ):
            outside = (values < 0) | (values >= upper)
            if outside.any():
                bad = int(np.flatnonzero(outside)[0])
                raise ValueError(
                    f"AssignmentProblem.{name}[{bad}]: expected an index in [0, {upper}), "
                    f"got {values[bad]}"
                )
        if (self.pair_points <= 0).any():
            bad = int(np.flatnonzero(self.pair_points <= 0)[0])
            raise ValueError(
                f"AssignmentProblem.pair_points[{bad}]: expected > 0, got {self.pair_points[bad]}"
            )
        if n_pairs:
            best = np.zeros(self.n_children, dtype=np.float64)
            np.maximum.at(best, self.pair_child, self.pair_points.astype(np.float64))
            scale = math.lcm(1, *(len(g) for g in self.sibling_groups))
            total = float(best.sum()) * scale
            if total > MAX_OBJECTIVE:
                times = f" times {scale}, the sibling groups' scale," if scale > 1 else ""
                raise ValueError(
                    "AssignmentProblem.pair_points: the best points of each child add up to "
                    f"about {float(best.sum()):.3g}{times} more than the supported "
                    f"{MAX_OBJECTIVE:.3g} (2**61); use a smaller points scale"
                )
        if n_pairs:
            key = self.pair_child.astype(np.int64) * max(n_vacancies, 1) + self.pair_vacancy
            order = np.argsort(key, kind="stable")
            same = key[order][1:] == key[order][:-1]
            if same.any():
                at = int(order[1:][same][0])
                raise ValueError(
                    f"AssignmentProblem: pair {at} repeats the (child, vacancy) pair "
                    f"({self.pair_child[at]}, {self.pair_vacancy[at]})"
                )
        group_of_child = np.full(self.n_children, -1, dtype=np.int32)
        groups: list[tuple[int, ...]] = []
        for g, group in enumerate(self.sibling_groups):
            members = tuple(int(c) for c in group)
            if len(members) < 2:
                raise ValueError(
                    f"AssignmentProblem.sibling_groups[{g}]: expected at least 2 children, "
                    f"got {len(members)}"
                )
            for c in members:
                if not 0 <= c < self.n_children:
                    raise ValueError(
                        f"AssignmentProblem.sibling_groups[{g}]: child {c} is not in "
                        f"[0, {self.n_children})"
                    )
                if group_of_child[c] >= 0:
                    other = int(group_of_child[c])
                    where = "twice in this group" if other == g else f"also in group {other}"
                    raise ValueError(
                        f"AssignmentProblem.sibling_groups[{g}]: child {c} is {where}; "
                        "groups must be disjoint"
                    )
                group_of_child[c] = g
            groups.append(members)
        if self.split_penalty is not None and (
            isinstance(self.split_penalty, bool)
            or not isinstance(self.split_penalty, int | np.integer)
            or self.split_penalty < 0
        ):
            raise ValueError(
                "AssignmentProblem.split_penalty: expected None (sibling groups are hard units) "
                f"or an integer >= 0, got {self.split_penalty!r}"
            )
        if self.split_penalty is not None:
            object.__setattr__(self, "split_penalty", int(self.split_penalty))
        object.__setattr__(self, "sibling_groups", tuple(groups))
        self._check_households(n_vacancies, n_pairs)
        for name in (
            "capacity",
            "pair_child",
            "pair_vacancy",
            "pair_points",
            "vacancy_group",
            "group_capacity",
            "group_siblings_exempt",
            "vacancy_household",
            "pair_exclusive",
        ):
            object.__setattr__(self, name, _as_readonly(getattr(self, name)))
        group_of_child.setflags(write=False)
        object.__setattr__(self, "_group_of_child", group_of_child)

    def _check_households(self, n_vacancies: int, n_pairs: int) -> None:
        """Validate the household fields and replace ``None`` by their neutral arrays."""
        if (self.vacancy_group is None) != (self.group_capacity is None):
            raise ValueError(
                "AssignmentProblem.vacancy_group and group_capacity: give both or neither"
            )
        if self.vacancy_group is None:
            object.__setattr__(self, "vacancy_group", np.full(n_vacancies, -1, dtype=np.int32))
            object.__setattr__(self, "group_capacity", np.zeros(0, dtype=np.int64))
        _check_array("vacancy_group", self.vacancy_group, np.int32)
        _check_array("group_capacity", self.group_capacity, np.int64)
        assert self.vacancy_group is not None and self.group_capacity is not None
        n_groups = len(self.group_capacity)
        if self.group_siblings_exempt is None:
            object.__setattr__(self, "group_siblings_exempt", np.zeros(n_groups, dtype=np.bool_))
        if self.vacancy_household is None:
            object.__setattr__(self, "vacancy_household", np.full(n_vacancies, -1, dtype=np.int32))
        if self.pair_exclusive is None:
            object.__setattr__(self, "pair_exclusive", np.zeros(n_pairs, dtype=np.bool_))
        _check_array("group_siblings_exempt", self.group_siblings_exempt, np.bool_)
        _check_array("vacancy_household", self.vacancy_household, np.int32)
        _check_array("pair_exclusive", self.pair_exclusive, np.bool_)
        for name, value, length in (
            ("vacancy_group", self.vacancy_group, n_vacancies),
            ("group_siblings_exempt", self.group_siblings_exempt, n_groups),
            ("vacancy_household", self.vacancy_household, n_vacancies),
            ("pair_exclusive", self.pair_exclusive, n_pairs),
        ):
            assert value is not None
            if len(value) != length:
                raise ValueError(
                    f"AssignmentProblem.{name}: expected length {length}, got {len(value)}"
                )
        outside = (self.vacancy_group < -1) | (self.vacancy_group >= n_groups)
        if outside.any():
            bad = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"AssignmentProblem.vacancy_group[{bad}]: expected -1 or a group in "
                f"[0, {n_groups}), got {self.vacancy_group[bad]}"
            )
        if (self.group_capacity < 0).any():
            bad = int(np.flatnonzero(self.group_capacity < 0)[0])
            raise ValueError(
                f"AssignmentProblem.group_capacity[{bad}]: expected >= 0, "
                f"got {self.group_capacity[bad]}"
            )
        assert self.vacancy_household is not None
        if (self.vacancy_household < -1).any():
            bad = int(np.flatnonzero(self.vacancy_household < -1)[0])
            raise ValueError(
                f"AssignmentProblem.vacancy_household[{bad}]: expected -1 or a household "
                f"number >= 0, got {self.vacancy_household[bad]}"
            )

    @property
    def has_household_rules(self) -> bool:
        """Whether any capacity group or exclusive pair constrains the problem."""
        assert self.vacancy_group is not None and self.pair_exclusive is not None
        return bool((self.vacancy_group >= 0).any() or self.pair_exclusive.any())

    def household_key(self) -> npt.NDArray[np.int64]:
        """``int64 [n_vacancies]``: the household of each vacancy for exclusive pairs.

        Households given in ``vacancy_household`` keep their number; a vacancy with ``-1``
        gets a household of its own, numbered after them.
        """
        assert self.vacancy_household is not None
        h = self.vacancy_household.astype(np.int64)
        top = int(h.max()) + 1 if len(h) else 0
        own = h < 0
        h = h.copy()
        h[own] = top + np.flatnonzero(own)
        return h

    @classmethod
    def from_arrays(
        cls,
        n_children: int,
        capacity: npt.ArrayLike,
        pair_child: npt.ArrayLike,
        pair_vacancy: npt.ArrayLike,
        pair_points: npt.ArrayLike,
        sibling_groups: tuple[tuple[int, ...], ...] | list[list[int]] = (),
        split_penalty: int | None = None,
        *,
        vacancy_group: npt.ArrayLike | None = None,
        group_capacity: npt.ArrayLike | None = None,
        group_siblings_exempt: npt.ArrayLike | None = None,
        vacancy_household: npt.ArrayLike | None = None,
        pair_exclusive: npt.ArrayLike | None = None,
    ) -> AssignmentProblem:
        """Build a problem from any array-likes, converting them to the required dtypes.

        Values that do not fit the target dtype raise ``ValueError``.
        """

        def convert(
            name: str, value: npt.ArrayLike, dtype: type[np.int32] | type[np.int64]
        ) -> npt.NDArray[Any]:
            raw = np.asarray(value)
            if raw.size == 0:
                return np.zeros(0, dtype=dtype)
            if not np.issubdtype(raw.dtype, np.integer):
                raise ValueError(f"AssignmentProblem.{name}: expected integers, got {raw.dtype}")
            info = np.iinfo(dtype)
            if raw.min() < info.min or raw.max() > info.max:
                raise ValueError(
                    f"AssignmentProblem.{name}: values do not fit {np.dtype(dtype).name}"
                )
            return raw.astype(dtype)

        return cls(
            n_children=int(n_children),
            capacity=convert("capacity", capacity, np.int64),
            pair_child=convert("pair_child", pair_child, np.int32),
            pair_vacancy=convert("pair_vacancy", pair_vacancy, np.int32),
            pair_points=convert("pair_points", pair_points, np.int64),
            sibling_groups=tuple(tuple(int(c) for c in g) for g in sibling_groups),
            split_penalty=split_penalty,
            vacancy_group=None
            if vacancy_group is None
            else convert("vacancy_group", vacancy_group, np.int32),
            group_capacity=None
            if group_capacity is None
            else convert("group_capacity", group_capacity, np.int64),
            group_siblings_exempt=None
            if group_siblings_exempt is None
            else np.asarray(group_siblings_exempt, dtype=np.bool_).reshape(-1),
            vacancy_household=None
            if vacancy_household is None
            else convert("vacancy_household", vacancy_household, np.int32),
            pair_exclusive=None
            if pair_exclusive is None
            else np.asarray(pair_exclusive, dtype=np.bool_).reshape(-1),
        )

    @property
    def n_vacancies(self) -> int:
        """Number of vacancies."""
        return len(self.capacity)

    @property
    def n_pairs(self) -> int:
        """Number of eligible (child, vacancy) pairs."""
        return len(self.pair_child)

    @property
    def group_of_child(self) -> npt.NDArray[np.int32]:
        """``int32 [n_children]``: the sibling group of each child, ``-1`` if none."""
        return self._group_of_child

    @property
    def hard_units(self) -> bool:
        """True when sibling groups are hard units (``split_penalty is None``)."""
        return self.split_penalty is None
