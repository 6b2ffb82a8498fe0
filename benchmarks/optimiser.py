"""Benchmark of ``matcher.optimiser`` against reference solvers on the same instances.

Run ``python -m benchmarks optimiser --tier county`` (or ``smoke``); on its own,
``python -m benchmarks.optimiser [--tier county]``. Each solver runs in a fresh process,
so that its peak resident memory (``max_rss_bytes``, which counts the C++ solvers'
memory too) is its own; ``baseline_rss_bytes`` is the same process just before solving
(Python, numpy, OR-Tools and the instance).

Solvers, all on the same seeded instance (:mod:`matcher.optimiser.instances`):

* ``placematch`` -- :func:`matcher.optimiser.solve` with 2 workers (the default until
  2026-11-22), and ``placematch_1_worker`` (the default parameters since: one worker was
  faster on 2 cores in every run, see ``docs/optimiser.md``);
* ``min_cost_flow_no_siblings`` -- OR-Tools min-cost flow with sibling groups ignored: the
  time floor, and an upper bound on the optimum;
* ``cpsat_naive`` -- one CP-SAT Boolean per (child, vacancy) pair, sibling groups as
  equalities ``x[c, v] == x[c', v]``, no decomposition, hint or fixing; 2 workers;
* ``highs_mip`` -- the same naive model solved by HiGHS through ``scipy.optimize.milp``
  (``mip_rel_gap = 0``), if scipy is installed.

Every answer is checked by :func:`matcher.optimiser.check_assignment` and its objective
recomputed by :func:`matcher.optimiser.objective_of`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks.harness import measure, write_results
from matcher.optimiser import (
    AssignmentProblem,
    SolverParameters,
    check_assignment,
    objective_of,
    solve,
)
from matcher.optimiser.instances import ESSEX, SMOKE, random_problem

SEED = 0
TIERS: dict[str, dict[str, Any]] = {
    "smoke": {"size": SMOKE, "time_limit_s": 30.0},
    "county": {"size": ESSEX, "time_limit_s": 120.0},
}
SOLVERS = (
    "placematch",
    "placematch_1_worker",
    "min_cost_flow_no_siblings",
    "cpsat_naive",
    "highs_mip",
)


#: Points shapes: the distance-decay score alone (as the project design first measured), and
#: the same with the statutory bases that the matcher folds in (placed, connected person).
POINTS = ("score", "statutory")


def instance(tier: str, points: str = "score") -> AssignmentProblem:
    """The tier's seeded instance (hard sibling units)."""
    return random_problem(**TIERS[tier]["size"], seed=SEED, statutory_bases=points == "statutory")


def _ours(problem: AssignmentProblem, limit: float, workers: int) -> dict[str, Any]:
    solution = solve(problem, SolverParameters(time_limit_s=limit, num_workers=workers))
    stats = solution.stats
    return {
        "status": solution.status,
        "objective": solution.objective,
        "bound": solution.bound,
        "vacancy_of_child": solution.vacancy_of_child,
        "pairs_kept": stats["pairs_kept"],
        "components": stats["components"],
        "components_cpsat": stats["components_cpsat"],
        "cpsat_largest_model_variables": stats["cpsat_largest_model_variables"],
        "lp_bound": stats["lp_bound"],
        "incumbent": stats["incumbent"],
        "phases": {k: round(float(v), 4) for k, v in stats.items() if k.startswith("time_")},
    }


def _flow_no_siblings(problem: AssignmentProblem, limit: float) -> dict[str, Any]:
    from ortools.graph.python import min_cost_flow

    n, m = problem.n_children, problem.n_vacancies
    source, sink = n + m, n + m + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.full(n, source), problem.pair_child, np.arange(m) + n, [source]])
    heads = np.concatenate([np.arange(n), problem.pair_vacancy + n, np.full(m, sink), [sink]])
    caps = np.concatenate(
        [np.ones(n, np.int64), np.ones(problem.n_pairs, np.int64), problem.capacity, [n]]
    )
    costs = np.concatenate([np.zeros(n, np.int64), -problem.pair_points, np.zeros(m + 1, np.int64)])
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    flow.set_nodes_supplies(np.array([source, sink], np.int32), np.array([n, -n]))
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("min-cost flow failed")
    used = np.asarray(flow.flows(np.arange(n, n + problem.n_pairs, dtype=np.int32))) > 0
    vacancy = np.full(n, -1, dtype=np.int32)
    vacancy[problem.pair_child[used]] = problem.pair_vacancy[used]
    value = -int(flow.optimal_cost())
    return {
        "status": "relaxation (siblings ignored)",
        "objective": value,
        "bound": value,
        "vacancy_of_child": vacancy,
        "relaxation": True,
    }


def _naive_rows(problem: AssignmentProblem) -> list[tuple[list[int], list[int]]]:
    """Sibling equalities of the naive model, per (group, vacancy): the pair indices of the
    members eligible there, and the members that are not (then nobody may go there)."""
    pairs_of: dict[int, dict[int, int]] = {}
    for i, (c, v) in enumerate(
        zip(problem.pair_child.tolist(), problem.pair_vacancy.tolist(), strict=True)
    ):
        pairs_of.setdefault(c, {})[v] = i
    rows = []
    for group in problem.sibling_groups:
        vacancies = sorted({v for c in group for v in pairs_of.get(c, {})})
        for v in vacancies:
            present = [pairs_of[c][v] for c in group if v in pairs_of.get(c, {})]
            missing = [c for c in group if v not in pairs_of.get(c, {})]
            rows.append((present, missing))
    return rows


def _cpsat_naive(problem: AssignmentProblem, limit: float) -> dict[str, Any]:
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(problem.n_pairs)]
    by_child: dict[int, list[int]] = {}
    by_vacancy: dict[int, list[int]] = {}
    for i, (c, v) in enumerate(
        zip(problem.pair_child.tolist(), problem.pair_vacancy.tolist(), strict=True)
    ):
        by_child.setdefault(c, []).append(i)
        by_vacancy.setdefault(v, []).append(i)
    for idx in by_child.values():
        model.add_at_most_one(x[i] for i in idx)
    for v, idx in by_vacancy.items():
        model.add(sum(x[i] for i in idx) <= int(problem.capacity[v]))
    for present, missing in _naive_rows(problem):
        if missing:  # a member cannot go there: nobody of the group can
            for i in present:
                model.add(x[i] == 0)
        else:
            for i in present[1:]:
                model.add(x[i] == x[present[0]])
    model.maximize(cp_model.LinearExpr.weighted_sum(x, problem.pair_points.tolist()))
    built = time.perf_counter() - started
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = SEED
    solver.parameters.max_time_in_seconds = limit
    status = solver.solve(model)
    vacancy = np.full(problem.n_children, -1, dtype=np.int32)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = np.array([solver.boolean_value(v) for v in x])
        vacancy[problem.pair_child[chosen]] = problem.pair_vacancy[chosen]
    return {
        "status": {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible"}.get(
            status, solver.status_name(status).lower()
        ),
        "objective": objective_of(problem, vacancy),
        "bound": math.floor(solver.best_objective_bound + 1e-6),
        "vacancy_of_child": vacancy,
        "build_seconds": round(built, 3),
    }


def _highs(problem: AssignmentProblem, limit: float) -> dict[str, Any]:
    import scipy.sparse as sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    n, m, p = problem.n_children, problem.n_vacancies, problem.n_pairs
    cols = np.arange(p)
    rows = [
        sparse.csr_matrix((np.ones(p), (problem.pair_child, cols)), shape=(n, p)),
        sparse.csr_matrix((np.ones(p), (problem.pair_vacancy, cols)), shape=(m, p)),
    ]
    upper = [np.ones(n), problem.capacity.astype(float)]
    lower = [np.full(n, -np.inf), np.full(m, -np.inf)]
    eq_r: list[int] = []
    eq_c: list[int] = []
    eq_v: list[float] = []
    k = 0
    for present, missing in _naive_rows(problem):
        if missing:
            for i in present:
                eq_r.append(k)
                eq_c.append(i)
                eq_v.append(1.0)
                k += 1
        else:
            for i in present[1:]:
                eq_r += [k, k]
                eq_c += [i, present[0]]
                eq_v += [1.0, -1.0]
                k += 1
    rows.append(sparse.csr_matrix((eq_v, (eq_r, eq_c)), shape=(k, p)))
    upper.append(np.zeros(k))
    lower.append(np.zeros(k))
    result = milp(
        -problem.pair_points.astype(float),
        constraints=LinearConstraint(
            sparse.vstack(rows).tocsr(), np.concatenate(lower), np.concatenate(upper)
        ),
        integrality=np.ones(p),
        bounds=Bounds(0, 1),
        options={"time_limit": limit, "mip_rel_gap": 0.0, "disp": False},
    )
    vacancy = np.full(n, -1, dtype=np.int32)
    if result.x is not None:
        chosen = result.x > 0.5
        vacancy[problem.pair_child[chosen]] = problem.pair_vacancy[chosen]
    bound = getattr(result, "mip_dual_bound", None)
    return {
        "status": "optimal" if result.status == 0 else f"not proven ({result.message})",
        "objective": objective_of(problem, vacancy),
        "bound": math.floor(-bound + 1e-6) if bound is not None else None,
        "vacancy_of_child": vacancy,
    }


def _runner(name: str) -> Callable[[AssignmentProblem, float], dict[str, Any]]:
    return {
        "placematch": lambda p, t: _ours(p, t, 2),
        "placematch_1_worker": lambda p, t: _ours(p, t, 1),
        "min_cost_flow_no_siblings": _flow_no_siblings,
        "cpsat_naive": _cpsat_naive,
        "highs_mip": _highs,
    }[name]


def _rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _one(name: str, tier: str, points: str) -> dict[str, Any]:
    """Run one solver in this (fresh) process and describe the result."""
    problem = instance(tier, points)
    limit = float(TIERS[tier]["time_limit_s"])
    baseline = _rss_bytes()
    load_before = os.getloadavg()[0]
    record = measure(lambda: _runner(name)(problem, limit), repeat=1, warmup=0, memory=False)
    value = record.pop("value")
    vacancy = value.pop("vacancy_of_child")
    errors = check_assignment(problem, vacancy)
    if value.get("relaxation"):
        # the relaxation may split sibling groups; only beds and eligibility must hold
        errors = [e for e in errors if not e.startswith("sibling group")]
    recomputed = objective_of(problem, vacancy)
    return {
        "name": f"{name}_{tier}_{points}",
        "solver": name,
        "points": points,
        **record,
        **value,
        "placed": int((vacancy >= 0).sum()),
        "valid": not errors and recomputed == value["objective"],
        "errors": errors[:3],
        "baseline_rss_bytes": baseline,
        # the machine is shared: the 1-minute load average before and after this solver
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "children": problem.n_children,
        "vacancies": problem.n_vacancies,
        "pairs": problem.n_pairs,
        "sibling_groups": len(problem.sibling_groups),
        "beds": int(problem.capacity.sum()),
        "seed": SEED,
        "time_limit_s": limit,
    }


def run(tier: str) -> list[dict[str, Any]]:
    """Generate the tier's instance and run every solver on it (each in a new process)."""
    if tier not in TIERS:
        raise ValueError(f"tier {tier!r} is not defined for optimiser; expected smoke or county")
    started = time.perf_counter()
    instance(tier)
    generated = time.perf_counter() - started
    solvers = [s for s in SOLVERS if s != "highs_mip" or _has_scipy()]
    records = []
    context = multiprocessing.get_context("spawn")
    for points in POINTS:
        for name in solvers:
            with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
                record = pool.submit(_one, name, tier, points).result()
            record["instance_seconds"] = round(generated, 3)
            records.append(record)
            print(
                f"   {record['name']}: {record['status']}, {record['wall_seconds']:.2f} s",
                flush=True,
            )
    print(markdown(records))
    return records


def _has_scipy() -> bool:
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        return False
    return True


def markdown(records: Sequence[dict[str, Any]]) -> str:
    """The records as a Markdown table."""
    lines = [
        "| points | solver | status | objective | bound | placed | wall s | peak RSS MB "
        "| load before/after | valid |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in records:
        bound = "-" if r.get("bound") is None else f"{r['bound']:,}"
        lines.append(
            f"| {r['points']} | {r['solver']} | {r['status']} | {r['objective']:,} | {bound} | "
            f"{r['placed']:,} | {r['wall_seconds']:.3f} | {r['max_rss_bytes'] / 2**20:,.0f} | "
            f"{r['load_average_before']:.1f}/{r['load_average_after']:.1f} | "
            f"{'yes' if r['valid'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.optimiser [--tier smoke|county]``: run and write results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.optimiser")
    parser.add_argument("--tier", choices=sorted(TIERS), default="county")
    args = parser.parse_args(argv)
    records = run(args.tier)
    path = write_results("optimiser", records, tier=args.tier)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
