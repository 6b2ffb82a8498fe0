"""A component's exact model with each household's convex hull: bound, fixing, residual.

The min-cost-flow relaxation (:mod:`matcher.optimiser.flow`) lets a sibling unit spread over
several vacancies and lets two halves of sibling units share a bed count that no whole
units could. On the whole synthetic Essex cohort that leaves the fostering component's LP
bound ~85 points above its optimum while the points of its ~90,000 candidate pairs differ by
a few dozen, so reduced-cost fixing keeps almost every pair and CP-SAT (or HiGHS) searches a
90,000-Boolean model for minutes.

This module applies when every vacancy of the component takes **at most one sibling unit**
(its beds for a mixed household, ``min(beds, room)``, are at most 3, so two units of two or
more children never fit together), no pair is exclusive, every capacity group is one vacancy
and every unit must be placed (proven by the caller from the LP duals). Then each vacancy
is in exactly one *mode*: no sibling unit (up to ``c`` single children), or one sibling unit
of size ``s`` (up to ``c - s`` single children; ``0`` for a unit that only the siblings
exception lets in). Balas' disjunctive formulation of those modes,

* ``z[v, m]`` (a mode per vacancy, ``sum_m z[v, m] = 1``),
* ``sum y[u, v]`` over the units of size ``m`` at ``v`` ``= z[v, m]``,
* ``sum x[c, v, m] <= cap[v, m] * z[v, m]`` and ``x[c, v, m] <= z[v, m]`` for single children,
* every unit placed once,

is an exact model of the component whose LP relaxation is the convex hull of each vacancy's
feasible fillings (the Dantzig-Wolfe bound of the household "patterns"): on Essex seed 5 it is
206,090.5 against an optimum of 206,083 and a flow bound of 206,168 (residual points).

From that LP's duals ``y`` (any ``y`` of the right signs gives a valid bound by weak duality,
so the floating-point LP is never trusted for more than a bound computed here), a pair whose
reduced cost would take the bound below a target ``T`` is in no solution worth ``T`` or more.
The residual model holds only the other pairs (about 7 % of them on Essex) and is solved
exactly by HiGHS's branch and bound with the constraint ``objective >= T``. If it has a
solution, its optimum is the component's (every solution of value ``>= T`` is in it); if not,
the optimum is below ``T`` and ``T`` is lowered. ``T`` starts a few points below the hull
bound, where the optimum usually is, and never goes below the incumbent.

HiGHS is reached through :mod:`matcher.optimiser.highs` (``highspy``): the LP keeps its basis
between column-generation rounds, and the residual MIP starts from the incumbent. SciPy
builds the sparse matrices only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # SciPy is imported only when a component is solved here (~0.3 s)
    from scipy import sparse

__all__ = ["HullOutcome", "applies", "solve_hull"]

#: Largest bed count a vacancy may offer a mixed household for the mode model to apply.
MAX_MIXED_BEDS = 3

#: The first residual model holds the solutions within this many points of the hull bound
#: (on Essex the optimum is 2-8 points below it; seed 4: 17). When it holds none, the next
#: holds the slab below, twice as deep each time.
FIRST_STEP = 8


@dataclass(frozen=True, slots=True, eq=False)
class HullOutcome:
    """What the hull model found for one component (local indices)."""

    status: str  # "optimal", or "unknown": HiGHS was stopped by the wall clock
    chosen: npt.NDArray[np.bool_]  # per pair of the component
    objective: int  # in the caller's points
    bound: int
    pairs_kept: int
    rounds: int  # residual models solved
    lp_rounds: int  # column-generation rounds of the hull LP
    lp_seconds: float = 0.0  # the hull LP, every round
    mip_seconds: float = 0.0  # the residual models, every round


def _mixed_capacity(
    capacity: npt.NDArray[np.int64],
    vacancy_group: npt.NDArray[np.int64] | None,
    group_capacity: npt.NDArray[np.int64] | None,
) -> npt.NDArray[np.int64]:
    """Children of more than one family a vacancy can hold: beds, capped by its group's room."""
    mixed = capacity.astype(np.int64).copy()
    if vacancy_group is not None and group_capacity is not None and len(group_capacity):
        grouped = vacancy_group >= 0
        mixed[grouped] = np.minimum(mixed[grouped], group_capacity[vacancy_group[grouped]])
    return np.maximum(mixed, 0)


def applies(
    size: npt.NDArray[np.int64],
    capacity: npt.NDArray[np.int64],
    pair_unit: npt.NDArray[np.int64],
    pair_vacancy: npt.NDArray[np.int64],
    *,
    must_place: npt.NDArray[np.bool_] | None,
    vacancy_group: npt.NDArray[np.int64] | None,
    group_capacity: npt.NDArray[np.int64] | None,
    pair_exclusive: npt.NDArray[np.bool_] | None,
    soft: bool,
    placed: int | None = None,
) -> bool:
    """Whether the mode model is exact for this component (see the module docstring).

    ``placed``: the number of children every optimum places here, when the caller has
    proven it; then the units need not all be must-place (the count is a constraint).
    """
    if soft or len(pair_unit) == 0 or must_place is None:
        return False
    if not must_place.all() and placed is None:
        return False
    if not (size > 1).any():
        return False
    if pair_exclusive is not None and pair_exclusive.any():
        return False
    if vacancy_group is not None and (vacancy_group >= 0).any():
        groups = vacancy_group[vacancy_group >= 0]
        if len(np.unique(groups)) != len(groups):  # a group of several vacancies
            return False
    mixed = _mixed_capacity(capacity, vacancy_group, group_capacity)
    return bool((mixed <= MAX_MIXED_BEDS).all())


class _RowModel:
    """An exact 0-1 model of one component as a sparse matrix ``lo <= A x <= hi``,
    ``0 <= x <= 1``, maximising ``cost . x``.

    Columns: the pairs' copies first (``copy_pair`` maps each to its pair, ``copy_unit``
    to its unit; each unit takes at most one copy, exactly one when ``unit_exact``), then
    mode columns (``mode_vacancy``: each vacancy takes exactly one of its modes). Rows from
    ``link_row0`` on each bound one copy (``link_copy``) and go with it when columns are
    left out.
    """

    matrix: sparse.csc_matrix
    lo: npt.NDArray[np.float64]
    hi: npt.NDArray[np.float64]
    cost: npt.NDArray[np.float64]
    copy_pair: npt.NDArray[np.int64]
    copy_unit: npt.NDArray[np.int64]
    unit_exact: npt.NDArray[np.bool_]
    mode_vacancy: npt.NDArray[np.int64]
    n_copies: int
    n_pairs: int
    link_row0: int
    link_copy: npt.NDArray[np.int64]

    def lagrangian(
        self, cost: npt.NDArray[np.float64], duals: npt.NDArray[np.float64]
    ) -> tuple[float, npt.NDArray[np.float64]]:
        """A valid upper bound on the maximisation from any row duals, and each pair's loss.

        For ``min c.x`` s.t. ``lo <= A x <= hi``, ``0 <= x <= 1``: price every row with
        ``y`` (``y_r >= 0`` only where ``lo_r`` is finite, ``y_r <= 0`` only where ``hi_r``
        is; a dual of the wrong sign is set to 0, still valid), but keep two families of
        rows in the inner problem, where they are easy: each unit takes at most one copy
        (exactly one when it must be placed) and each vacancy exactly one mode. The inner
        minimum is then, with ``d = c - A^T y``, per unit the least ``d`` of its copies (or
        0 when it may stay out), per vacancy the least ``d`` of its modes, plus the row
        terms ``lo_r y_r`` or ``hi_r y_r``. This is the Lagrangian bound with those rows
        kept: never weaker than plain weak duality (``sum_j min(0, d_j)``), and valid for
        **any** ``y``, so the floating-point LP is trusted for nothing but where to look.

        Forcing a pair's copy ``j`` of unit ``u`` into the solution raises the minimum by
        ``d_j - (u's term)``: the pair's loss is that, through its best copy (``inf`` for a
        pair without a copy). Returns ``(-minimum, loss)``.
        """
        y = duals.copy()
        y[(y > 0) & ~np.isfinite(self.lo)] = 0.0
        y[(y < 0) & ~np.isfinite(self.hi)] = 0.0
        row_term = np.where(y > 0, np.where(y > 0, self.lo, 0.0) * y, 0.0)
        row_term += np.where(y < 0, np.where(y < 0, self.hi, 0.0) * y, 0.0)
        reduced = cost - self.matrix.T @ y
        on_copy = reduced[: self.n_copies]
        least = np.full(len(self.unit_exact), np.inf)
        np.minimum.at(least, self.copy_unit, on_copy)
        least[~np.isfinite(least)] = 0.0  # a unit without copies takes none
        unit_term = np.where(self.unit_exact, least, np.minimum(least, 0.0))
        on_mode = reduced[self.n_copies :]
        mode_least = np.full(int(self.mode_vacancy.max()) + 1 if len(on_mode) else 0, np.inf)
        np.minimum.at(mode_least, self.mode_vacancy, on_mode)
        mode_least[~np.isfinite(mode_least)] = 0.0
        minimum = float(row_term.sum() + unit_term.sum() + mode_least.sum())
        loss = np.full(self.n_pairs, np.inf)
        np.minimum.at(loss, self.copy_pair, on_copy - unit_term[self.copy_unit])
        return -minimum, np.maximum(loss, 0.0)

    def restrict(
        self, active: npt.NDArray[np.bool_]
    ) -> tuple[sparse.csc_matrix, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The model on the ``active`` columns: its matrix, columns and rows. A row goes
        with its last column, and a copy's link row with its copy."""
        cols = np.flatnonzero(active)
        sub = self.matrix[:, cols].tocsr()
        keep_row = np.ones(len(self.lo), dtype=np.bool_)
        # link rows go with their copy; cut rows (after them) stay while they hold a column
        links_end = self.link_row0 + len(self.link_copy)
        keep_row[self.link_row0 : links_end] = active[self.link_copy]
        rows = np.flatnonzero(keep_row & (np.diff(sub.indptr) > 0))
        return sub[rows].tocsc(), cols, rows

    def add_cut(self, row: sparse.csr_matrix, rhs: float) -> None:
        """Append a valid inequality ``row . x <= rhs`` (every 0-1 solution of the model
        satisfies it) after every other row."""
        from scipy import sparse as sp

        self.matrix = sp.vstack([self.matrix.tocsr(), row]).tocsc()
        self.lo = np.append(self.lo, -np.inf)
        self.hi = np.append(self.hi, rhs)

    def columns_of(self, chosen: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        """The 0-1 column vector of the solution that takes the ``chosen`` pairs (one
        column per pair: the pairs' columns are the copies)."""
        return chosen.astype(np.float64)

    def chosen(
        self, x: npt.NDArray[np.float64], cols: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.bool_]:
        """The pairs a MIP solution on columns ``cols`` takes."""
        full = np.zeros(len(self.cost))
        full[cols] = np.round(x)
        out = np.zeros(self.n_pairs, dtype=np.bool_)
        out[self.copy_pair[full[: self.n_copies] > 0.5]] = True
        return out


class _Model(_RowModel):
    """The mode model of one fostering component (the module docstring).

    Columns: the pairs' copies (a sibling pair once, a single child's pair once per mode
    that leaves it a bed), then the mode variables ``z``.
    """

    def __init__(
        self,
        size: npt.NDArray[np.int64],
        capacity: npt.NDArray[np.int64],
        pair_unit: npt.NDArray[np.int64],
        pair_vacancy: npt.NDArray[np.int64],
        points: npt.NDArray[np.int64],
        mixed: npt.NDArray[np.int64],
        exempt: npt.NDArray[np.bool_],
        must_place: npt.NDArray[np.bool_],
        placed: int | None = None,
    ) -> None:
        n_units, n_vac = len(size), len(capacity)
        pair_size = size[pair_unit]
        # modes: (vacancy, sibling size); size 0 = no sibling unit
        sib = pair_size > 1
        alone = exempt[pair_vacancy] & (pair_size <= capacity[pair_vacancy])
        allowed = (pair_size <= mixed[pair_vacancy]) | alone
        sib_ok = sib & allowed
        mode_keys = np.unique(
            np.concatenate([np.arange(n_vac) * 8, pair_vacancy[sib_ok] * 8 + pair_size[sib_ok]])
        )
        mode_vac, mode_size = mode_keys // 8, mode_keys % 8
        mode_cap = np.where(mode_size <= mixed[mode_vac], mixed[mode_vac] - mode_size, 0)
        n_modes = len(mode_keys)
        # copies of pairs: sibling pairs once; single pairs once per mode of their vacancy
        # that leaves a bed
        sib_pairs = np.flatnonzero(sib_ok)
        singles = np.flatnonzero(~sib)
        starts = np.searchsorted(mode_vac, pair_vacancy[singles], side="left")
        ends = np.searchsorted(mode_vac, pair_vacancy[singles], side="right")
        counts = ends - starts
        single_rep = np.repeat(singles, counts)
        offsets = np.arange(len(single_rep)) - np.repeat(np.cumsum(counts) - counts, counts)
        single_mode = np.repeat(starts, counts) + offsets
        useful = mode_cap[single_mode] >= 1
        single_rep, single_mode = single_rep[useful], single_mode[useful]
        sib_mode = np.searchsorted(mode_keys, pair_vacancy[sib_pairs] * 8 + pair_size[sib_pairs])
        copy_pair = np.concatenate([sib_pairs, single_rep])
        copy_mode = np.concatenate([sib_mode, single_mode])
        n_copies = len(copy_pair)
        z_col = n_copies + np.arange(n_modes)
        # rows: units | vacancies (one mode) | sibling modes (= z) | capacity per mode |
        # children placed (= placed, when given) |
        # single copy <= its mode (where a mode leaves 2 or more beds)
        r_unit = 0
        r_vac = n_units
        r_sib = r_vac + n_vac  # one per mode (rows of size-0 modes stay empty)
        r_cap = r_sib + n_modes
        link = np.flatnonzero(
            (copy_mode >= 0) & (pair_size[copy_pair] == 1) & (mode_cap[copy_mode] >= 2)
        )
        r_count = r_cap + n_modes
        r_link = r_count + 1
        n_rows = r_link + len(link)
        copies = np.arange(n_copies)
        is_sib_copy = pair_size[copy_pair] > 1
        rows = [
            r_unit + pair_unit[copy_pair],
            r_vac + mode_vac,
            np.where(is_sib_copy, r_sib + copy_mode, r_cap + copy_mode),
            r_sib + np.flatnonzero(mode_size > 0),
            r_cap + np.arange(n_modes),
            r_link + np.arange(len(link)),
            r_link + np.arange(len(link)),
            np.full(n_copies if placed is not None else 0, r_count),
        ]
        cols = [
            copies,
            z_col,
            copies,
            z_col[mode_size > 0],
            z_col,
            link,
            z_col[copy_mode[link]],
            copies[: n_copies if placed is not None else 0],
        ]
        vals = [
            np.ones(n_copies),
            np.ones(n_modes),
            np.ones(n_copies),
            -np.ones(int((mode_size > 0).sum())),
            -mode_cap.astype(np.float64),
            np.ones(len(link)),
            -np.ones(len(link)),
            pair_size[copy_pair].astype(np.float64)[: n_copies if placed is not None else 0],
        ]
        from scipy import sparse

        self.matrix = sparse.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_rows, n_copies + n_modes),
        )
        lo = np.full(n_rows, -np.inf)
        hi = np.zeros(n_rows)
        # a unit every optimum places (the caller proved it) exactly once, the others at most
        lo[r_unit : r_unit + n_units] = np.where(must_place, 1.0, -np.inf)
        hi[r_unit : r_unit + n_units] = 1.0
        lo[r_vac : r_vac + n_vac] = 1.0
        hi[r_vac : r_vac + n_vac] = 1.0
        sib_rows = r_sib + np.arange(n_modes)
        lo[sib_rows[mode_size > 0]] = 0.0  # equalities; empty rows of size-0 modes are free
        hi[sib_rows[mode_size == 0]] = np.inf
        # every optimum places exactly this many children (proven by the caller)
        lo[r_count] = -np.inf if placed is None else float(placed)
        hi[r_count] = np.inf if placed is None else float(placed)
        self.lo, self.hi = lo, hi
        self.cost = np.concatenate([points[copy_pair].astype(np.float64), np.zeros(n_modes)])
        self.copy_pair = copy_pair
        #: the unit of each copy, whether a unit is placed exactly once, the vacancy of
        #: each mode column: the rows the bound keeps (:meth:`lagrangian`)
        self.copy_unit = pair_unit[copy_pair]
        self.unit_exact = must_place.astype(np.bool_)
        self.mode_vacancy = mode_vac
        self.mode_keys = mode_keys
        self.copy_mode = copy_mode
        self.pair_size = pair_size
        self.pair_vacancy = pair_vacancy
        self.n_copies = n_copies
        self.n_pairs = len(pair_unit)
        #: the copy each link row (``x <= z``) bounds, from row ``link_row0`` on
        self.link_row0 = r_link
        self.link_copy = link

    def add_cut(self, row: sparse.csr_matrix, rhs: float) -> None:
        """Append a valid inequality ``row . x <= rhs`` (every 0-1 solution of the model
        satisfies it) after every other row."""
        from scipy import sparse as sp

        self.matrix = sp.vstack([self.matrix.tocsr(), row]).tocsc()
        self.lo = np.append(self.lo, -np.inf)
        self.hi = np.append(self.hi, rhs)

    def columns_of(self, chosen: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        """The column vector of the solution that takes the ``chosen`` pairs: each
        vacancy's mode is the size of the sibling unit it holds (0 for none), and a single
        child's pair takes its copy for that mode. A pair without such a copy (never in a
        solution of this model) leaves the vector infeasible; HiGHS then ignores it."""
        n_vac = int(self.mode_vacancy.max()) + 1 if len(self.mode_vacancy) else 0
        held = np.zeros(n_vac, dtype=np.int64)
        sib = chosen & (self.pair_size > 1)
        held[self.pair_vacancy[sib]] = self.pair_size[sib]
        mode = np.searchsorted(self.mode_keys, np.arange(n_vac) * 8 + held)
        x = np.zeros(len(self.cost))
        x[self.n_copies + mode] = 1.0
        copy_chosen = chosen[self.copy_pair]
        single = self.pair_size[self.copy_pair] == 1
        in_mode = self.copy_mode == mode[self.pair_vacancy[self.copy_pair]]
        x[: self.n_copies] = copy_chosen & (~single | in_mode)
        return x


class _ExclusiveModel(_RowModel):
    """Households of children's homes with exclusive (solo) placements, exactly.

    One column per pair. Rows: each unit at most once (exactly once when it must be
    placed); each vacancy's beds; for each household with an exclusive pair the knapsack
    ``B * (exclusive pairs) + size * (other pairs) <= B`` over its pairs, ``B`` its beds:
    a unit placed through an exclusive pair fills the household alone (with hard units a
    sibling group is one unit, so "nobody outside its sibling group" is nobody else); and,
    when ``placed`` is given, a row fixing the children placed. The flow relaxation ignores
    exclusivity, so on the East of England pooled its bound was 81 children above the
    incumbent of a 727-child component of homes; this model's LP bound met the incumbent.
    """

    def __init__(
        self,
        size: npt.NDArray[np.int64],
        capacity: npt.NDArray[np.int64],
        pair_unit: npt.NDArray[np.int64],
        pair_vacancy: npt.NDArray[np.int64],
        points: npt.NDArray[np.int64],
        household: npt.NDArray[np.int64],
        pair_exclusive: npt.NDArray[np.bool_],
        must_place: npt.NDArray[np.bool_],
        placed: int | None = None,
    ) -> None:
        from scipy import sparse

        n_units, n_vac, n_pairs = len(size), len(capacity), len(pair_unit)
        pair_size = size[pair_unit].astype(np.float64)
        home = household[pair_vacancy]
        beds = np.bincount(household, weights=capacity, minlength=int(household.max()) + 1)
        closed, home_row = np.unique(home[pair_exclusive], return_inverse=True)
        del home_row
        in_knapsack = np.isin(home, closed)
        knap = np.flatnonzero(in_knapsack)
        r_vac = n_units
        r_home = r_vac + n_vac
        r_count = r_home + len(closed)
        n_rows = r_count + 1
        pairs = np.arange(n_pairs)
        count_cols = pairs if placed is not None else pairs[:0]
        rows = [
            pair_unit,
            r_vac + pair_vacancy,
            r_home + np.searchsorted(closed, home[knap]),
            np.full(len(count_cols), r_count),
        ]
        cols = [pairs, pairs, knap, count_cols]
        vals = [
            np.ones(n_pairs),
            pair_size,
            np.where(pair_exclusive[knap], beds[home[knap]], pair_size[knap]),
            pair_size[count_cols],
        ]
        self.matrix = sparse.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_rows, n_pairs),
        )
        lo = np.full(n_rows, -np.inf)
        hi = np.concatenate([np.ones(n_units), capacity.astype(np.float64), beds[closed], [np.inf]])
        lo[:n_units] = np.where(must_place, 1.0, -np.inf)
        if placed is not None:
            lo[r_count] = hi[r_count] = float(placed)
        self.lo, self.hi = lo, hi
        self.cost = points.astype(np.float64)
        self.copy_pair = pairs
        self.copy_unit = pair_unit
        self.unit_exact = must_place.astype(np.bool_)
        self.mode_vacancy = np.zeros(0, dtype=np.int64)
        self.n_copies = self.n_pairs = n_pairs
        self.link_row0 = n_rows
        self.link_copy = np.zeros(0, dtype=np.int64)


#: {0, 1/2}-cut rounds after the hull LP is priced (each: separate, add, re-solve, price),
#: and how many rounds in a row may leave the whole-number bound where it was.
CUT_ROUNDS = 10
CUT_STALL = 2


def _gf2_solve(
    system: npt.NDArray[np.uint8], target: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8] | None:
    """A solution ``s`` of ``system @ s = target`` over GF(2) (free unknowns 0), or None."""
    a, t = system.copy(), target.copy()
    m, n = a.shape
    pivots: list[int] = []
    row = 0
    for col in range(n):
        if row == m:
            break
        nonzero = np.flatnonzero(a[row:, col])
        if not len(nonzero):
            continue
        p = row + int(nonzero[0])
        if p != row:
            a[[row, p]] = a[[p, row]]
            t[[row, p]] = t[[p, row]]
        others = np.flatnonzero(a[:, col])
        others = others[others != row]
        a[others] ^= a[row]
        t[others] ^= t[row]
        pivots.append(col)
        row += 1
    if t[row:].any():
        return None
    out = np.zeros(n, dtype=np.uint8)
    out[pivots] = t[: len(pivots)]
    return out


def zero_half_cuts(
    matrix: sparse.csr_matrix,
    lo: npt.NDArray[np.float64],
    hi: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
) -> list[tuple[sparse.csr_matrix, float]]:
    """{0, 1/2}-Chvatal-Gomory cuts that the LP point ``x`` violates, for ``0 <= x <= 1``.

    Every row is read as ``a x <= b`` (``hi``), or ``-a x <= -lo``. A set ``S`` of them
    summed, halved and rounded down, ``sum_j floor(sum_S a_j / 2) x_j <= floor(sum_S b /
    2)``, holds for every integer ``x >= 0`` that satisfies the rows (Chvatal-Gomory with
    multipliers 1/2; the bounds ``x_j <= 1`` may be in ``S``). When every row of ``S`` is
    tight at ``x``, each column with ``0 < x_j`` has an even sum over ``S``, and the sum of
    ``b`` over ``S`` is odd, the cut is violated by 1/2. Such an ``S`` is a solution of a
    linear system over GF(2) on the tight rows (and the bounds of the columns at 1); it is
    solved per connected part of the fractional columns, one cut each. Rows or bounds with
    coefficients that are not integers are never used. Deterministic: no randomness, rows
    and columns in index order.
    """
    from scipy import sparse as sp
    from scipy.sparse.csgraph import connected_components

    tol = 1e-7
    frac = (x > tol) & (x < 1.0 - tol)
    if not frac.any():
        return []
    csr = matrix.tocsr()
    activity = csr @ x
    integral = np.ones(csr.shape[0], dtype=np.bool_)
    bad = np.abs(csr.data - np.round(csr.data)) > 1e-9
    integral[np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))[bad]] = False
    finite_hi, finite_lo = np.isfinite(hi), np.isfinite(lo)
    for side, finite in ((hi, finite_hi), (lo, finite_lo)):
        whole = np.ones(len(side), dtype=np.bool_)
        whole[finite] = np.abs(side[finite] - np.round(side[finite])) < 1e-9
        integral &= whole
    tight_hi = finite_hi & (np.abs(activity - hi) <= tol) & integral
    tight_lo = finite_lo & ~tight_hi & (np.abs(activity - lo) <= tol) & integral
    touch = np.asarray(np.abs(csr) @ frac.astype(np.float64)).ravel() > 0
    rows = np.flatnonzero((tight_hi | tight_lo) & touch)
    if not len(rows):
        return []
    sign = np.where(tight_hi[rows], 1.0, -1.0)
    rhs = np.where(tight_hi[rows], hi[rows], -lo[rows])
    sub = sp.diags(sign) @ csr[rows]  # the rows as "<=", over every column
    sub = sub.tocsc()
    one = x >= 1.0 - tol
    # the columns whose parity matters: fractional, and at 1 (their bound x_j <= 1 may
    # join S at no cost); columns at 0 lose nothing when rounded down
    used = np.flatnonzero(np.diff(sub.indptr) > 0)
    parity_cols = used[frac[used] | one[used]]
    ones = parity_cols[one[parity_cols]]
    # unknowns: the rows, then the bounds of the columns at 1
    n_rows, n_bounds = len(rows), len(ones)
    block = sub[:, parity_cols].tocsr()
    odd = sp.csr_matrix(
        (np.mod(np.round(block.data), 2).astype(np.int64), block.indices, block.indptr),
        shape=block.shape,
    )
    odd.eliminate_zeros()
    bound_block = sp.csr_matrix(
        (np.ones(n_bounds), (np.searchsorted(parity_cols, ones), np.arange(n_bounds))),
        shape=(len(parity_cols), n_bounds),
    )
    # connected parts of unknowns <-> parity columns
    unknown_col = sp.hstack([odd.T.tocsr(), bound_block]).tocsr()  # columns x unknowns
    graph = sp.bmat(
        [[None, unknown_col], [unknown_col.T, None]], format="csr"
    )  # parity columns first, then unknowns
    _, label = connected_components(graph, directed=False)
    col_label, unknown_label = label[: len(parity_cols)], label[len(parity_cols) :]
    b_parity = np.concatenate([np.mod(np.round(rhs), 2), np.ones(n_bounds)]).astype(np.uint8)
    dense = unknown_col.toarray().astype(np.uint8)
    sub_rows = sub.tocsr()
    cuts: list[tuple[sparse.csr_matrix, float]] = []
    for part in np.unique(col_label[np.isin(col_label, unknown_label)]):
        cols_in = np.flatnonzero(col_label == part)
        unknowns = np.flatnonzero(unknown_label == part)
        if not frac[parity_cols[cols_in]].any():
            continue
        system = np.vstack([dense[np.ix_(cols_in, unknowns)], b_parity[unknowns][None, :]])
        target = np.zeros(len(cols_in) + 1, dtype=np.uint8)
        target[-1] = 1
        chosen = _gf2_solve(system, target)
        if chosen is None:
            continue
        picked = unknowns[chosen.astype(np.bool_)]
        row_pick, bound_pick = picked[picked < n_rows], picked[picked >= n_rows] - n_rows
        total = np.asarray(sub_rows[row_pick].sum(axis=0)).ravel()
        total[ones[bound_pick]] += 1.0
        b = float(rhs[row_pick].sum() + len(bound_pick))
        coef = np.floor(total / 2.0 + 1e-9)
        bound = math.floor(b / 2.0 + 1e-9)
        if float(coef @ x) - bound <= 1e-6:
            continue
        nz = np.flatnonzero(coef)
        cuts.append(
            (
                sp.csr_matrix((coef[nz], (np.zeros(len(nz), np.int64), nz)), shape=(1, len(x))),
                float(bound),
            )
        )
    return cuts


def _hull_duals(
    model: _RowModel,
    start: npt.NDArray[np.bool_] | None,
    deadline: float,
    *,
    cuts: bool = False,
    lazy_rows: bool = False,
) -> tuple[npt.NDArray[np.float64], int] | None:
    """Row duals of the hull LP (minimising ``-points``) by column generation, and rounds.

    The LP starts from the copies of the ``start`` pairs and every mode variable; each
    round prices every other copy under the duals and adds those with a negative reduced
    cost to the same HiGHS model, which re-solves from its last basis
    (:class:`matcher.optimiser.highs.IncrementalLP`). It stops when there are none (the
    duals are then optimal for the whole model), or as soon as more rounds cannot lower the
    whole-number bound: any duals give a valid bound (:meth:`_Model.lagrangian`), the
    restricted LP's value is at most the whole LP's, and when both round down to the same
    number the optimal duals would round to it too.
    """
    from matcher.optimiser.highs import IncrementalLP

    cost = -model.cost
    n_cols = len(cost)
    active = np.ones(n_cols, dtype=np.bool_)
    if start is not None:
        active[: model.n_copies] = start[model.copy_pair]
        # a unit that must be placed keeps all its copies when none is in the start, so
        # that no row with a positive lower bound starts empty
        has_copy = np.zeros(len(model.unit_exact), dtype=np.bool_)
        has_copy[model.copy_unit[active[: model.n_copies]]] = True
        lacking = model.unit_exact & ~has_copy
        active[: model.n_copies] |= lacking[model.copy_unit]
    lp = IncrementalLP(model.matrix, model.lo, model.hi, cost, lazy_rows=lazy_rows)
    lp.add(np.flatnonzero(active))
    rounds = cut_rounds = stalled = 0
    best: npt.NDArray[np.float64] = np.zeros(0)
    best_whole = math.inf
    while True:
        rounds += 1
        status, duals, value = lp.solve(deadline - time.perf_counter())
        if status == "infeasible" and not active.all():
            # the start left some row unsatisfiable (a count the start's pairs cannot
            # reach): every column in, which the caller's incumbent makes feasible
            lp.add(np.flatnonzero(~active))
            active[:] = True
            continue
        if status != "optimal" or len(duals) == 0:
            return None
        reduced = cost - model.matrix.T @ duals
        enter = ~active & (reduced < -1e-9)
        bound, _ = model.lagrangian(cost, duals)
        whole = math.floor(bound + 1e-6)
        if enter.any() and whole > math.floor(-value + 1e-6):  # -value: the restricted LP's
            lp.add(np.flatnonzero(enter))
            active |= enter
            continue
        # priced: more columns cannot lower the whole-number bound; cuts may. The duals
        # of the best bound are kept (0 on the cuts added after them: still valid)
        if whole < best_whole:
            best, best_whole, stalled = duals, whole, 0
        else:
            stalled += 1
        found = []
        if cuts and cut_rounds < CUT_ROUNDS and stalled < CUT_STALL:
            found = zero_half_cuts(model.matrix, model.lo, model.hi, lp.primal())
        if not found:
            padded = np.zeros(len(model.lo))
            padded[: len(best)] = best
            return padded, rounds
        cut_rounds += 1
        from scipy import sparse as sp

        rows = sp.vstack([row for row, _ in found]).tocsr()
        rhs = np.array([b for _, b in found])
        lp.add_rows(rows, np.full(len(rhs), -np.inf), rhs)
        for row, b in found:
            model.add_cut(row, b)


def _solve_residual(
    model: _RowModel,
    keep_pair: npt.NDArray[np.bool_],
    cost: npt.NDArray[np.float64],
    deadline: float,
    start: npt.NDArray[np.bool_] | None = None,
    *,
    at_least: int,
) -> tuple[str, npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The MIP of the kept pairs' copies and every mode variable (HiGHS, one thread).

    HiGHS searches only solutions worth ``at_least`` or more (its ``objective_bound``
    cut-off; the points are integers): ``"optimal"`` with a solution worth less, or
    ``"infeasible"``, says that there is none. ``start``: a solution (pairs) to begin from,
    when all its pairs are kept; HiGHS checks it, so a wrong one costs only the check.
    """
    from matcher.optimiser.highs import solve_mip

    keep_col = np.concatenate(
        [keep_pair[model.copy_pair], np.ones(len(model.cost) - model.n_copies, dtype=np.bool_)]
    )
    matrix, cols, rows = model.restrict(keep_col)
    x0 = None
    if start is not None and not (start & ~keep_pair).any():
        x0 = model.columns_of(start)[cols]
    status, x = solve_mip(
        matrix, model.lo[rows], model.hi[rows], cost[cols],
        seconds=deadline - time.perf_counter(), start=x0, cutoff=-(at_least - 0.5),
    )  # fmt: skip
    return status, x, cols


def solve_hull(
    size: npt.NDArray[np.int64],
    capacity: npt.NDArray[np.int64],
    pair_unit: npt.NDArray[np.int64],
    pair_vacancy: npt.NDArray[np.int64],
    pair_points: npt.NDArray[np.int64],
    *,
    vacancy_group: npt.NDArray[np.int64] | None,
    group_capacity: npt.NDArray[np.int64] | None,
    group_exempt: npt.NDArray[np.bool_] | None,
    must_place: npt.NDArray[np.bool_],
    lower_bound: int | None,
    upper_bound: int | None,
    time_limit_s: float,
    start: npt.NDArray[np.bool_] | None = None,
    placed: int | None = None,
    incumbent: npt.NDArray[np.bool_] | None = None,
    cuts: bool = False,
    lazy_rows: bool = False,
) -> HullOutcome | None:
    """Solve a component that :func:`applies` to, exactly; ``None`` if HiGHS cannot help.

    Parameters are the component's, as in :class:`matcher.optimiser.cpsat.Component`
    (every unit must be placed, or ``placed`` is the number of children every optimum
    places, proven by the caller; the incumbent places that many). ``lower_bound`` is the
    incumbent's value, ``upper_bound`` the flow's LP bound.

    ``start`` marks the pairs the hull LP starts from (with the incumbent's, so that it is
    feasible); the others are priced in until none would improve it (column generation),
    so the LP's answer is the whole model's. ``None``: all pairs from the start.
    ``incumbent``: the incumbent's pairs, which the residual MIP starts from.
    ``cuts``, ``lazy_rows``: {0, 1/2}-cuts on the hull LP and its rows entered lazily
    (``SolverParameters.hull_zero_half_cuts`` and ``hull_lazy_rows``; the answer is the
    same either way).

    The number of children placed is fixed, so the least points per child are a constant:
    the floating-point solver sees only the residual points (a few hundred a child), never
    the ~1e10 of the matcher's bases.
    """
    started = time.perf_counter()
    deadline = started + time_limit_s
    if lower_bound is None or (placed is None and not must_place.all()):
        return None
    if placed is not None and must_place.all():
        placed = None  # the unit rows already say it
    pair_size = size[pair_unit]
    base = int((pair_points // pair_size).min())
    residual = pair_points - base * pair_size
    offset = base * (int(size.sum()) if placed is None else placed)
    mixed = _mixed_capacity(capacity, vacancy_group, group_capacity)
    exempt = np.zeros(len(capacity), dtype=np.bool_)
    if vacancy_group is not None and group_exempt is not None and len(group_exempt):
        grouped = vacancy_group >= 0
        exempt[grouped] = group_exempt[vacancy_group[grouped]]
    # vacancies without a group: no room to exceed, beds are the mix
    model = _Model(
        size, capacity, pair_unit, pair_vacancy, residual, mixed, exempt, must_place, placed
    )
    return _prove(
        model, residual, pair_points, lower_bound - offset, offset, upper_bound, start, deadline,
        incumbent, cuts=cuts, lazy_rows=lazy_rows,
    )  # fmt: skip


def _optimal(
    chosen: npt.NDArray[np.bool_],
    pair_points: npt.NDArray[np.int64],
    keep_pair: npt.NDArray[np.bool_],
    rounds: int,
    lp_rounds: int,
    lp_seconds: float,
    started: float,
) -> HullOutcome:
    """The outcome of a component proven optimal with the pairs ``chosen``."""
    value = int(pair_points[chosen].sum())
    return HullOutcome(
        status="optimal",
        chosen=chosen,
        objective=value,
        bound=value,
        pairs_kept=int(keep_pair.sum()),
        rounds=rounds,
        lp_rounds=lp_rounds,
        lp_seconds=lp_seconds,
        mip_seconds=time.perf_counter() - started - lp_seconds,
    )


#: The floating-point LPs here are trusted only while sums of residual points stay far inside
#: a double's 53 bits, so that rounding a bound stays exact: a component whose residual
#: points (summed over its pairs, a generous measure) reach this goes to CP-SAT instead.
#: Essex's components sum to about 3e7; a pooled nation's kin tier could pass it.
RESIDUAL_LIMIT = 2**40


def _prove(
    model: _RowModel,
    residual: npt.NDArray[np.int64],
    pair_points: npt.NDArray[np.int64],
    incumbent: int,
    offset: int,
    upper_bound: int | None,
    start: npt.NDArray[np.bool_] | None,
    deadline: float,
    incumbent_pairs: npt.NDArray[np.bool_] | None = None,
    *,
    cuts: bool = False,
    lazy_rows: bool = False,
) -> HullOutcome | None:
    """Bound, fix and solve an exact model of a component whose count is fixed.

    ``residual`` are the model's points per pair (``pair_points`` less the constant
    ``offset`` share); ``incumbent`` is the incumbent's residual value, and
    ``incumbent_pairs`` (optional) its pairs, which the residual MIP starts from.
    ``cuts`` and ``lazy_rows``: :class:`~matcher.optimiser.SolverParameters`'
    ``hull_zero_half_cuts`` and ``hull_lazy_rows``.
    """
    started = time.perf_counter()
    if int(np.abs(residual).sum()) >= RESIDUAL_LIMIT:
        return None  # the floating-point LP could not be trusted to the point
    priced = _hull_duals(model, start, deadline, cuts=cuts, lazy_rows=lazy_rows)
    if priced is None:
        return None
    duals, lp_rounds = priced
    lp_seconds = time.perf_counter() - started
    # the maximisation bound, from the duals of the minimisation of -points
    bound_value, loss = model.lagrangian(-model.cost, duals)
    hull_bound = math.floor(bound_value + 1e-6)

    def in_points(residual_bound: int) -> int:
        value = residual_bound + offset
        return value if upper_bound is None else min(value, upper_bound)

    # a pair in a solution lowers the bound by its loss (through its best copy)
    step = max(FIRST_STEP, 1)
    target = max(hull_bound - FIRST_STEP, incumbent)
    best_below: tuple[npt.NDArray[np.bool_], int] = (np.zeros(0, dtype=np.bool_), -1)
    rounds = 0
    while True:
        rounds += 1
        keep_pair = bound_value - loss >= target - 1e-6
        # the MIP starts from the best solution known: an earlier round's, else the incumbent
        known = best_below[0] if len(best_below[0]) else incumbent_pairs
        status, x, cols = _solve_residual(
            model, keep_pair, -model.cost, deadline, known, at_least=target
        )
        chosen = model.chosen(x, cols) if status == "optimal" and len(x) else None
        if chosen is not None and int(residual[chosen].sum()) >= target:
            # every solution worth target or more is in this model: its best is the optimum
            return _optimal(chosen, pair_points, keep_pair, rounds, lp_rounds, lp_seconds, started)
        if status not in ("optimal", "infeasible"):
            break
        # HiGHS searched only solutions worth target or more (its cut-off) and found none:
        # the optimum is below target. A solution it met on the way is kept.
        if chosen is not None and int(residual[chosen].sum()) > best_below[1]:
            best_below = (chosen, int(residual[chosen].sum()))
        if target <= incumbent:
            return None  # the incumbent itself was lost: never expected
        hull_bound = target - 1
        if best_below[1] >= hull_bound:
            return _optimal(
                best_below[0], pair_points, keep_pair, rounds, lp_rounds, lp_seconds, started
            )
        # the next slab, twice as deep, never below the best known (nor the incumbent)
        target = max(target - step, best_below[1], incumbent)
        step *= 2
    if status != "time_limit":
        return None
    return HullOutcome(
        status="unknown",
        chosen=np.zeros(model.n_pairs, dtype=np.bool_),
        objective=0,
        bound=in_points(hull_bound),
        pairs_kept=int(keep_pair.sum()),
        rounds=rounds,
        lp_rounds=lp_rounds,
        lp_seconds=lp_seconds,
        mip_seconds=time.perf_counter() - started - lp_seconds,
    )


def applies_exclusive(
    pair_exclusive: npt.NDArray[np.bool_] | None,
    *,
    vacancy_group: npt.NDArray[np.int64] | None,
    soft: bool,
) -> bool:
    """Whether :class:`_ExclusiveModel` is exact for this component: some exclusive pair,
    hard sibling units, and no capacity group (children's homes, not fostering
    households, whose Sch. 7 limit the mode model handles)."""
    if soft or pair_exclusive is None or not pair_exclusive.any():
        return False
    return vacancy_group is None or not (vacancy_group >= 0).any()


def solve_exclusive(
    size: npt.NDArray[np.int64],
    capacity: npt.NDArray[np.int64],
    pair_unit: npt.NDArray[np.int64],
    pair_vacancy: npt.NDArray[np.int64],
    pair_points: npt.NDArray[np.int64],
    *,
    vacancy_household: npt.NDArray[np.int64],
    pair_exclusive: npt.NDArray[np.bool_],
    must_place: npt.NDArray[np.bool_],
    incumbent_placed: int,
    lower_bound: int,
    upper_bound: int | None,
    time_limit_s: float,
    start: npt.NDArray[np.bool_] | None = None,
    count_proven: bool = False,
    incumbent: npt.NDArray[np.bool_] | None = None,
    cuts: bool = False,
    lazy_rows: bool = False,
) -> HullOutcome | None:
    """Solve a component that :func:`applies_exclusive` to, exactly, when the count is
    settled by its LP; ``None`` otherwise (the caller goes on with CP-SAT).

    First the most children the model's LP can place, bounded for any duals (so the
    floating-point LP is trusted for nothing): when that rounds down to the incumbent's
    ``incumbent_placed``, every optimum places exactly that many (the matcher's placement
    base makes one more child worth more than any residual points). Then, with the count
    fixed, the residual points are bounded, fixed and solved as in :func:`solve_hull`.
    ``lower_bound`` is the incumbent's value, ``upper_bound`` the flow's bound;
    ``count_proven``: the caller has already proven the count (the LP count is skipped);
    ``incumbent``: the incumbent's pairs, which the residual MIP starts from;
    ``cuts``, ``lazy_rows``: as for :func:`solve_hull`.
    """
    deadline = time.perf_counter() + time_limit_s
    household = vacancy_household.astype(np.int64).copy()
    alone = household < 0  # a vacancy of no household is a household of its own
    household[alone] = household.max(initial=-1) + 1 + np.arange(int(alone.sum()))
    pair_size = size[pair_unit]
    if not count_proven:
        counting = _ExclusiveModel(
            size, capacity, pair_unit, pair_vacancy, pair_size, household, pair_exclusive,
            must_place,
        )  # fmt: skip
        priced = _hull_duals(counting, start, deadline, lazy_rows=lazy_rows)
        if priced is None:
            return None
        most, _ = counting.lagrangian(-counting.cost, priced[0])
        if math.floor(most + 1e-6) != incumbent_placed:
            return None
    base = int((pair_points // pair_size).min())
    residual = pair_points - base * pair_size
    offset = base * incumbent_placed
    model = _ExclusiveModel(
        size, capacity, pair_unit, pair_vacancy, residual, household, pair_exclusive,
        must_place, incumbent_placed,
    )  # fmt: skip
    return _prove(
        model, residual, pair_points, lower_bound - offset, offset, upper_bound, start, deadline,
        incumbent, cuts=cuts, lazy_rows=lazy_rows,
    )  # fmt: skip
