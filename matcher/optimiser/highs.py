"""HiGHS through ``highspy``: an LP that keeps its basis as columns are added, and a MIP
that starts from a known solution.

The household models (:mod:`matcher.optimiser.hull`) price their LP by column generation:
each round adds a few hundred columns (often one) to a ~13,000-row LP. Through
``scipy.optimize.linprog`` every round was solved from scratch (0.5-1 s each on Essex);
here the same :class:`highspy.Highs` object keeps its basis and re-solves from it. Importing
``scipy.optimize`` alone also cost about 1 s in a fresh process; ``highspy`` loads in a
fraction of that.

HiGHS runs on one thread with its default seed, so it is deterministic; only its wall-clock
``time_limit`` can stop it early, which the callers report. Its constructor prints a banner
on standard output the first time in a process; :func:`new_highs` sends that one line to
``/dev/null`` so that ``placematch match --json`` stays pure JSON. Nothing of ``highspy``
leaves this module.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["IncrementalLP", "solve_mip"]

_BANNER_LOCK = threading.Lock()
_banner_done = False


def new_highs() -> Any:
    """A silent, single-threaded ``highspy.Highs``.

    HiGHS prints its banner from the C++ constructor of the first instance in a process,
    before any option can be set. That first construction runs with file descriptor 1
    pointed at ``/dev/null`` (C's buffers flushed before it is restored); later instances
    print nothing once ``output_flag`` is off. Another thread writing to standard output
    in that instant would be lost too; nothing in ``matcher`` or ``scenarios`` prints.
    """
    global _banner_done
    import highspy

    with _BANNER_LOCK:
        if _banner_done:
            highs = highspy.Highs()
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                highs = highspy.Highs()
                ctypes.CDLL(None).fflush(None)
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _banner_done = True
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    return highs


def _finite(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``inf`` in HiGHS's spelling (its own large constant)."""
    import highspy

    inf = float(highspy.kHighsInf)
    return np.clip(np.asarray(values, dtype=np.float64), -inf, inf)


def _add_columns(highs: Any, matrix: sparse.csc_matrix, cost: npt.NDArray[np.float64]) -> None:
    """Append ``matrix``'s columns (``0 <= x <= 1``, costs ``cost``) to the model."""
    n = matrix.shape[1]
    if n == 0:
        return
    status = highs.addCols(
        n,
        np.ascontiguousarray(cost, dtype=np.float64),
        np.zeros(n),
        np.ones(n),
        int(matrix.nnz),
        np.ascontiguousarray(matrix.indptr[:-1], dtype=np.int32),
        np.ascontiguousarray(matrix.indices, dtype=np.int32),
        np.ascontiguousarray(matrix.data, dtype=np.float64),
    )
    _check(status, "columns")


def _check(status: Any, what: str) -> None:
    """Raise when HiGHS refused a change to its model (never expected: a bad index)."""
    import highspy

    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS refused the {what}")


def _status(highs: Any) -> str:
    """The model status in this package's words (as :data:`matcher.optimiser.hull._STATUS`)."""
    import highspy

    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal"
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible"
    if status == highspy.HighsModelStatus.kTimeLimit:
        return "time_limit"
    return f"status {highs.modelStatusToString(status)}"


class IncrementalLP:
    """``min cost . x`` s.t. ``lo <= A x <= hi``, ``0 <= x <= 1``, over a growing set of
    columns of ``A``, solved by HiGHS's dual simplex from the last basis.

    :meth:`add` appends columns by their index in ``A``. With ``lazy_rows`` (off by
    default: see docs/optimiser.md, step 7c), a row that ``x = 0`` satisfies
    (``lo <= 0 <= hi``) enters the LP only with the first column that could take it out of
    its limits (a positive coefficient under a finite ``hi``, a negative one above a finite
    ``lo``): until then every ``x >= 0`` of the LP's columns satisfies it, so leaving it
    out changes nothing, and its dual is 0 (still optimal: it prices no column). When it
    enters, it enters with the entries of the columns already in. The other rows are in
    the LP from the start. The hull models hold one row ``x <= z`` per single child's
    copy, ~30,000 of their ~42,000 rows, most of them for copies never priced in (the mode
    column ``z`` alone never brings its row in); with every row in, HiGHS re-solved from a
    basis more slowly than it solved the first time (seed 5: 0.72 s against 0.55 s CPU).
    Added columns leave the last basis primal feasible, so a re-solve usually takes a few
    hundred iterations.
    """

    def __init__(
        self,
        matrix: sparse.csc_matrix,
        lo: npt.NDArray[np.float64],
        hi: npt.NDArray[np.float64],
        cost: npt.NDArray[np.float64],
        *,
        lazy_rows: bool = False,
    ) -> None:
        self._matrix = matrix.tocsc()
        self._lazy = lazy_rows
        self._by_row = self._matrix.tocsr()
        self._cost = cost
        self._lo, self._hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        self.columns: list[npt.NDArray[np.int64]] = []
        self._highs = new_highs()
        n_rows, n_cols = self._matrix.shape
        # the LP's row of each row of A and column of each column (-1: not in the LP yet),
        # and the rows in LP order
        self._lp_row = np.full(n_rows, -1, dtype=np.int64)
        self._lp_col = np.full(n_cols, -1, dtype=np.int64)
        self._rows: list[npt.NDArray[np.int64]] = []
        zero_fits = (self._lo <= 0.0) & (self._hi >= 0.0)
        self._add_rows(np.flatnonzero(~zero_fits if lazy_rows else np.ones(n_rows, np.bool_)))

    def _add_rows(self, rows: npt.NDArray[np.int64]) -> None:
        """Append the rows ``rows`` of ``A`` with their entries in the LP's columns."""
        if len(rows) == 0:
            return
        self._lp_row[rows] = self.rows_in_lp + np.arange(len(rows))
        self._rows.append(rows)
        sub = self._by_row[rows]
        lp_col = self._lp_col[sub.indices]
        keep = lp_col >= 0
        row_of = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
        starts = np.zeros(len(rows), dtype=np.int64)
        np.cumsum(np.bincount(row_of[keep], minlength=len(rows))[:-1], out=starts[1:])
        status = self._highs.addRows(
            len(rows),
            _finite(self._lo[rows]),
            _finite(self._hi[rows]),
            int(keep.sum()),
            np.ascontiguousarray(starts, dtype=np.int32),
            np.ascontiguousarray(lp_col[keep], dtype=np.int32),
            np.ascontiguousarray(sub.data[keep], dtype=np.float64),
        )
        _check(status, "rows")

    @property
    def rows_in_lp(self) -> int:
        """How many rows of ``A`` the LP holds so far."""
        return sum(len(r) for r in self._rows)

    def add(self, columns: npt.NDArray[np.int64]) -> None:
        """Append the columns ``columns`` of ``A`` (indices not yet in the LP)."""
        columns = np.asarray(columns, dtype=np.int64)
        sub = self._matrix[:, columns].tocsc()
        # a row enters with its first column that can push it out of [lo, hi] from 0:
        # a positive coefficient where hi is finite, a negative one where lo is
        up = sub.data > 0
        touched = np.unique(
            sub.indices[
                (up & np.isfinite(self._hi[sub.indices]))
                | (~up & np.isfinite(self._lo[sub.indices]))
            ]
        )
        self._add_rows(touched[self._lp_row[touched] < 0])
        # the columns on the LP's rows (an entry of a row still out is left out with it)
        lp_row = self._lp_row[sub.indices]
        keep = lp_row >= 0
        column_of = np.repeat(np.arange(len(columns)), np.diff(sub.indptr))
        indptr = np.zeros(len(columns) + 1, dtype=np.int64)
        np.cumsum(np.bincount(column_of[keep], minlength=len(columns)), out=indptr[1:])
        sub = sparse_csc(
            (sub.data[keep], lp_row[keep], indptr),
            shape=(self.rows_in_lp, len(columns)),
        )
        sub.sort_indices()
        self._lp_col[columns] = self._highs.getNumCol() + np.arange(len(columns))
        _add_columns(self._highs, sub, self._cost[columns])
        self.columns.append(columns)

    def add_rows(
        self,
        rows: sparse.csr_matrix,
        lo: npt.NDArray[np.float64],
        hi: npt.NDArray[np.float64],
    ) -> None:
        """Append rows to ``A`` (coefficients over all of its columns, in the LP or not)
        and to the LP at once, keeping the basis (their slacks enter it)."""
        from scipy import sparse as sp

        first = self._matrix.shape[0]
        self._by_row = sp.vstack([self._by_row, rows.tocsr()]).tocsr()
        self._matrix = self._by_row.tocsc()
        self._lo = np.concatenate([self._lo, np.asarray(lo, np.float64)])
        self._hi = np.concatenate([self._hi, np.asarray(hi, np.float64)])
        self._lp_row = np.concatenate([self._lp_row, np.full(rows.shape[0], -1, np.int64)])
        self._add_rows(first + np.arange(rows.shape[0]))

    def primal(self) -> npt.NDArray[np.float64]:
        """The last solution's value of every column of ``A`` (0 for a column not in)."""
        x = np.zeros(self._matrix.shape[1])
        if self.columns:
            x[np.concatenate(self.columns)] = self._highs.getSolution().col_value
        return x

    def solve(self, seconds: float) -> tuple[str, npt.NDArray[np.float64], float]:
        """Solve from the last basis: the status, the row duals ``y`` of every row of ``A``
        (``reduced cost = cost - A^T y``; 0 for a row not in the LP yet; empty unless
        optimal) and the LP's value."""
        self._highs.setOptionValue("time_limit", max(float(seconds), 0.01))
        self._highs.run()
        status = _status(self._highs)
        if status != "optimal":
            return status, np.zeros(0), 0.0
        lp_duals = np.asarray(self._highs.getSolution().row_dual, dtype=np.float64)
        duals = np.zeros(self._matrix.shape[0])
        if self._rows:
            duals[np.concatenate(self._rows)] = lp_duals
        return status, duals, float(self._highs.getInfo().objective_function_value)


def sparse_csc(
    parts: tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]], shape: tuple[int, int]
) -> sparse.csc_matrix:
    """A CSC matrix from ``(data, indices, indptr)`` (SciPy imported here, when needed)."""
    from scipy import sparse as sp

    return sp.csc_matrix(parts, shape=shape)


def solve_mip(
    matrix: sparse.csc_matrix,
    lo: npt.NDArray[np.float64],
    hi: npt.NDArray[np.float64],
    cost: npt.NDArray[np.float64],
    *,
    seconds: float,
    start: npt.NDArray[np.float64] | None = None,
    cutoff: float | None = None,
) -> tuple[str, npt.NDArray[np.float64]]:
    """``min cost . x`` over ``x`` in ``{0, 1}`` with ``lo <= A x <= hi``, to a zero gap.

    ``start`` is a feasible 0-1 solution to begin from (HiGHS checks it and ignores it if
    it is not). ``cutoff``: only solutions with ``cost . x < cutoff`` are searched for
    (HiGHS's ``objective_bound``: a node whose bound cannot beat it is pruned); the status
    is then ``"optimal"`` with a solution at or above it, or ``"infeasible"``, when there
    is none below it. Returns the status and ``x`` (empty when none was found).
    """
    import highspy

    highs = new_highs()
    highs.setOptionValue("mip_rel_gap", 0.0)  # integer objective: a gap below 1 is a proof
    highs.setOptionValue("time_limit", max(float(seconds), 0.01))
    if cutoff is not None:
        highs.setOptionValue("objective_bound", float(cutoff))
    empty_i = np.zeros(0, dtype=np.int32)
    highs.addRows(matrix.shape[0], _finite(lo), _finite(hi), 0, empty_i, empty_i, np.zeros(0))
    csc = matrix.tocsc()
    _add_columns(highs, csc, cost)
    n = csc.shape[1]
    highs.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
    )
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(np.asarray(start, dtype=np.float64))
        solution.value_valid = True
        highs.setSolution(solution)
    highs.run()
    status = _status(highs)
    x = np.asarray(highs.getSolution().col_value, dtype=np.float64)
    if status == "optimal" or (len(x) == n and highs.getInfo().primal_solution_status == 2):
        return status, x
    return status, np.zeros(0)
