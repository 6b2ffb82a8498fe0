"""{0, 1/2}-cuts on the hull LP (matcher.optimiser.hull.zero_half_cuts): valid and exact.

A cut must never remove a 0-1 point that satisfies the rows (checked against every such
point of small random integer systems), must cut the LP point it was made from, and with
the cuts on the hull path must still agree with brute force.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from scipy import sparse

from matcher.optimiser import SolverParameters, check_solution, hull, solve
from matcher.optimiser.highs import IncrementalLP
from tests.matcher.optimiser.optimiser_bruteforce import brute_force
from tests.matcher.optimiser.test_optimiser_hull import _fostering

HULL = SolverParameters(household_hull=True, household_hull_min_pairs=0)


def test_an_odd_cycle_of_pairs_is_cut_at_its_half_point() -> None:
    # x_a + x_b <= 1, x_b + x_c <= 1, x_a + x_c <= 1: the LP optimum is (1/2, 1/2, 1/2)
    matrix = sparse.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]]))
    lo, hi = np.full(3, -np.inf), np.ones(3)
    cuts = hull.zero_half_cuts(matrix, lo, hi, np.full(3, 0.5))
    assert len(cuts) == 1
    row, rhs = cuts[0]
    assert row.toarray().tolist() == [[1.0, 1.0, 1.0]] and rhs == 1.0
    assert hull.zero_half_cuts(matrix, lo, hi, np.array([1.0, 0.0, 0.0])) == []


def _system(seed: int) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """A random 0-1 programme with packing, covering and equality rows (integers)."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(3, 8)), int(rng.integers(3, 9))
    if seed % 2:  # conflicts of two columns and a count: odd cycles, fractional LPs
        n_rows = int(rng.integers(4, 10))
        dense = np.zeros((n_rows, n_cols))
        for r in range(n_rows - 1):
            dense[r, rng.choice(n_cols, size=2, replace=False)] = 1.0
        dense[-1] = rng.integers(0, 3, size=n_cols)
        hi = np.ones(n_rows)
        hi[-1] = float(rng.integers(1, 5))
        lo = np.full(n_rows, -np.inf)
        lo[-1] = hi[-1] if rng.random() < 0.5 else -np.inf
        cost = -rng.integers(1, 9, size=n_cols).astype(np.float64)
        return sparse.csr_matrix(dense), lo, hi, cost
    dense = rng.integers(-1, 3, size=(n_rows, n_cols)).astype(np.float64)
    dense[rng.random((n_rows, n_cols)) < 0.5] = 0.0
    kind = rng.integers(0, 3, size=n_rows)
    hi = np.where(kind == 1, np.inf, rng.integers(0, 3, size=n_rows)).astype(np.float64)
    lo = np.where(kind == 0, -np.inf, np.minimum(rng.integers(0, 2, size=n_rows), hi))
    lo = np.where(kind == 2, hi, lo)
    cost = -rng.integers(1, 9, size=n_cols).astype(np.float64)
    return sparse.csr_matrix(dense), lo, hi, cost


def _cuts_at_lp_point(
    seed: int,
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, np.ndarray, list[tuple[object, float]]]:
    matrix, lo, hi, cost = _system(seed)
    lp = IncrementalLP(matrix.tocsc(), lo, hi, cost)
    lp.add(np.arange(matrix.shape[1]))
    status, _, _ = lp.solve(10.0)
    if status != "optimal":
        return matrix, lo, hi, np.zeros(0), []
    x = lp.primal()
    return matrix, lo, hi, x, list(hull.zero_half_cuts(matrix, lo, hi, x))


def test_the_random_systems_give_cuts_to_check() -> None:
    assert sum(bool(_cuts_at_lp_point(seed)[4]) for seed in range(200)) >= 15


@pytest.mark.parametrize("seed", range(200))
def test_a_cut_never_removes_a_zero_one_solution_and_cuts_its_lp_point(seed: int) -> None:
    matrix, lo, hi, x, cuts = _cuts_at_lp_point(seed)
    dense = matrix.toarray()
    feasible = [
        np.array(bits)
        for bits in itertools.product((0.0, 1.0), repeat=matrix.shape[1])
        if np.all(dense @ np.array(bits) <= hi + 1e-9)
        and np.all(dense @ np.array(bits) >= lo - 1e-9)
    ]
    for row, rhs in cuts:
        coef = row.toarray().ravel()  # type: ignore[attr-defined]
        assert float(coef @ x) > rhs + 1e-6  # cuts the LP point
        for point in feasible:  # and no solution
            assert float(coef @ point) <= rhs + 1e-9


@pytest.mark.parametrize("seed", range(60))
def test_the_hull_path_with_cuts_agrees_with_brute_force(seed: int) -> None:
    problem = _fostering(seed, n_children=8, n_vacancies=5)
    optimum, _ = brute_force(problem)
    solution = solve(problem, replace(HULL, hull_zero_half_cuts=True))
    assert check_solution(problem, solution) == []
    assert solution.status == "optimal"
    assert solution.objective == solution.bound == optimum


@pytest.mark.parametrize("seed", range(40))
def test_the_hull_path_with_lazy_lp_rows_agrees_with_brute_force(seed: int) -> None:
    problem = _fostering(seed, n_children=8, n_vacancies=5)
    optimum, _ = brute_force(problem)
    solution = solve(problem, replace(HULL, hull_lazy_rows=True))
    assert check_solution(problem, solution) == []
    assert solution.objective == solution.bound == optimum


@pytest.mark.parametrize(("cuts", "lazy"), [(False, False), (True, False), (False, True)])
def test_the_solver_parameters_reach_the_hull_lp(
    cuts: bool, lazy: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hull_zero_half_cuts`` and ``hull_lazy_rows`` are what the hull LP runs with (they
    were module constants, reachable only by patching the module)."""
    separated: list[int] = []
    lazy_seen: list[bool] = []
    real_cuts, real_lp_init = hull.zero_half_cuts, IncrementalLP.__init__

    def counting_cuts(*args: object, **kwargs: object) -> list[tuple[sparse.csr_matrix, float]]:
        separated.append(1)
        return real_cuts(*args, **kwargs)  # type: ignore[arg-type]

    def recording_init(self: IncrementalLP, *args: object, lazy_rows: bool = False) -> None:
        lazy_seen.append(lazy_rows)
        real_lp_init(self, *args, lazy_rows=lazy_rows)  # type: ignore[arg-type]

    monkeypatch.setattr(hull, "zero_half_cuts", counting_cuts)
    monkeypatch.setattr(IncrementalLP, "__init__", recording_init)
    params = replace(HULL, hull_zero_half_cuts=cuts, hull_lazy_rows=lazy)
    for seed in range(40):
        problem = _fostering(seed, n_children=8, n_vacancies=5)
        assert check_solution(problem, solve(problem, params)) == []
    assert lazy_seen and set(lazy_seen) == {lazy}
    assert bool(separated) == cuts
    assert params.to_mapping()["hull_zero_half_cuts"] is cuts
    assert SolverParameters.from_mapping({"hull_lazy_rows": lazy}).hull_lazy_rows is lazy
