"""HiGHS through highspy (matcher.optimiser.highs): silent, incremental, exact.

The incremental LP must give the same optimum as SciPy's HiGHS solving the whole LP from
scratch, however its columns arrive; its duals must price every column (reduced costs of
the right sign); the MIP must agree with brute force and accept or ignore a start; and the
first HiGHS object of a process must print nothing on standard output.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from matcher.optimiser import hull
from matcher.optimiser.highs import IncrementalLP, solve_mip

ROOT = Path(__file__).resolve().parents[3]


def _random_lp(
    seed: int, n_rows: int = 6, n_cols: int = 10
) -> tuple[sparse.csc_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """A feasible packing/covering LP over [0, 1]^n: ``x = 0`` satisfies every row."""
    rng = np.random.default_rng(seed)
    dense = rng.integers(0, 3, size=(n_rows, n_cols)).astype(np.float64)
    dense[rng.random((n_rows, n_cols)) < 0.5] = 0.0
    hi = rng.integers(1, 4, size=n_rows).astype(np.float64)
    lo = np.where(rng.random(n_rows) < 0.3, 0.0, -np.inf)
    cost = -rng.integers(1, 20, size=n_cols).astype(np.float64)
    return sparse.csc_matrix(dense), lo, hi, cost


def _scipy_value(
    matrix: sparse.csc_matrix, lo: np.ndarray, hi: np.ndarray, cost: np.ndarray
) -> float:
    csr = matrix.tocsr()
    lower = np.isfinite(lo)
    result = linprog(
        cost,
        A_ub=sparse.vstack([csr, -csr[lower]]),
        b_ub=np.concatenate([hi, -lo[lower]]),
        bounds=(0.0, 1.0),
        method="highs",
    )
    assert result.status == 0
    return float(result.fun)


@pytest.mark.parametrize("seed", range(25))
def test_the_incremental_lp_reaches_the_whole_lp_and_its_duals_price_every_column(
    seed: int,
) -> None:
    matrix, lo, hi, cost = _random_lp(seed)
    rng = np.random.default_rng(1000 + seed)
    order = rng.permutation(matrix.shape[1])
    lp = IncrementalLP(matrix, lo, hi, cost)
    lp.add(order[:3])
    status, duals, partial = lp.solve(10.0)
    assert status == "optimal"
    lp.add(order[3:])
    status, duals, value = lp.solve(10.0)
    assert status == "optimal"
    assert value <= partial + 1e-9  # more columns never make a minimum worse
    assert value == pytest.approx(_scipy_value(matrix, lo, hi, cost), abs=1e-7)
    # LP duality with 0 <= x <= 1: the value is sum of row terms plus each column's min(0, d)
    reduced = cost - matrix.T @ duals
    row_term = np.where(duals > 0, np.where(np.isfinite(lo), lo, 0.0), hi) * duals
    assert value == pytest.approx(float(row_term.sum() + np.minimum(reduced, 0.0).sum()))
    assert np.all(duals[~np.isfinite(lo)] <= 1e-9)  # a row with no lower side: y <= 0


def _brute_force(
    matrix: sparse.csc_matrix, lo: np.ndarray, hi: np.ndarray, cost: np.ndarray
) -> float:
    dense = matrix.toarray()
    best = np.inf
    for bits in itertools.product((0.0, 1.0), repeat=dense.shape[1]):
        x = np.array(bits)
        row = dense @ x
        if np.all(row <= hi + 1e-9) and np.all(row >= lo - 1e-9):
            best = min(best, float(cost @ x))
    return best


@pytest.mark.parametrize("seed", range(25))
def test_the_mip_agrees_with_brute_force_with_and_without_a_start(seed: int) -> None:
    matrix, lo, hi, cost = _random_lp(seed, n_rows=5, n_cols=9)
    optimum = _brute_force(matrix, lo, hi, cost)
    status, x = solve_mip(matrix, lo, hi, cost, seconds=10.0)
    assert status == "optimal"
    assert float(cost @ x) == pytest.approx(optimum)
    # x = 0 is feasible; a start that breaks a row is ignored (HiGHS checks it)
    for start in (np.zeros(matrix.shape[1]), np.ones(matrix.shape[1])):
        status, x = solve_mip(matrix, lo, hi, cost, seconds=10.0, start=start)
        assert status == "optimal"
        assert float(cost @ x) == pytest.approx(optimum)


def test_an_infeasible_mip_says_so() -> None:
    matrix = sparse.csc_matrix(np.array([[1.0, 1.0]]))
    status, x = solve_mip(
        matrix, np.array([3.0]), np.array([3.0]), np.array([-1.0, -1.0]), seconds=5
    )
    assert status == "infeasible"
    assert len(x) == 0


def test_the_first_highs_of_a_process_prints_nothing() -> None:
    code = (
        "from matcher.optimiser.highs import IncrementalLP, new_highs\n"
        "import numpy as np\n"
        "from scipy import sparse\n"
        "new_highs()\n"
        "lp = IncrementalLP(sparse.csc_matrix(np.ones((1, 2))), np.array([0.0]),"
        " np.array([1.0]), np.array([-1.0, -2.0]))\n"
        "lp.add(np.arange(2))\n"
        "print(lp.solve(5.0)[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout == "optimal\n"


def test_the_mode_model_columns_of_a_solution_satisfy_every_row() -> None:
    """``columns_of`` turns an assignment into the model's columns (the MIP's start):
    two single children and a pair of siblings in three vacancies."""
    size = np.array([1, 1, 2])
    capacity = np.array([3, 1, 2])
    pair_unit = np.array([0, 0, 1, 1, 2, 2])
    pair_vacancy = np.array([0, 1, 0, 1, 0, 2])
    points = np.array([5, 4, 6, 3, 10, 7])
    mixed = np.array([3, 1, 2])
    model = hull._Model(
        size, capacity, pair_unit, pair_vacancy, points, mixed,
        np.zeros(3, dtype=np.bool_), np.ones(3, dtype=np.bool_),
    )  # fmt: skip
    # siblings and child 0 in vacancy 0 (3 beds), child 1 in vacancy 1
    chosen = np.array([True, False, False, True, True, False])
    x = model.columns_of(chosen)
    row = model.matrix @ x
    assert np.all(row >= model.lo - 1e-9)
    assert np.all(row <= model.hi + 1e-9)
    assert float(model.cost @ x) == 5 + 3 + 10
    assert np.array_equal(model.chosen(x, np.arange(len(x))), chosen)


@pytest.mark.parametrize("seed", range(25))
def test_rows_that_zero_satisfies_enter_with_a_column_that_can_break_them(seed: int) -> None:
    """Rows ``x <= z`` (the hull's links) and covering rows stay out until a column could
    take them out of their limits; the LP's optimum and duals are the whole LP's."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = 8, 12
    dense = rng.integers(-2, 3, size=(n_rows, n_cols)).astype(np.float64)
    dense[rng.random((n_rows, n_cols)) < 0.6] = 0.0
    dense[0] = -1.0  # only negative: "<= hi" with hi >= 0 holds for every x >= 0
    lo = np.where(rng.random(n_rows) < 0.4, 0.0, -np.inf)
    hi = rng.integers(0, 3, size=n_rows).astype(np.float64)
    lo[0], hi[0] = -np.inf, 0.0
    lo[1], hi[1], dense[1] = 1.0, float(n_cols), np.where(rng.random(n_cols) < 0.5, 1.0, 0.0)
    dense[1, 0] = 1.0  # a covering row x_0 + ... >= 1: in the LP from the start
    cost = -rng.integers(1, 20, size=n_cols).astype(np.float64)
    matrix = sparse.csc_matrix(dense)
    assert IncrementalLP(matrix, lo, hi, cost).rows_in_lp == n_rows  # by default: all
    lp = IncrementalLP(matrix, lo, hi, cost, lazy_rows=True)
    assert lp.rows_in_lp == 1  # only the row that x = 0 breaks
    order = np.concatenate([[0], rng.permutation(np.arange(1, n_cols))])
    lp.add(order[:4])
    assert lp.rows_in_lp <= n_rows - 1  # row 0 never enters: no column breaks it
    lp.add(order[4:])
    status, duals, value = lp.solve(10.0)
    assert status == "optimal"
    assert value == pytest.approx(_scipy_value(matrix, lo, hi, cost), abs=1e-7)
    assert len(duals) == n_rows and duals[0] == 0.0
    reduced = cost - matrix.T @ duals
    row_term = np.where(duals > 0, np.where(np.isfinite(lo), lo, 0.0), hi) * duals
    assert value == pytest.approx(float(row_term.sum() + np.minimum(reduced, 0.0).sum()))
