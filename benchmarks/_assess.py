"""The assessment path, measured (issue 16): rank, match extraction and one scenario run.

Not a suite of its own (a ``_private`` module): run it to compare two commits on the same
machine, each with its own checkout first on ``PYTHONPATH``::

    python -m benchmarks._assess --out results.json [--repeat N]

Fixed, seeded work, timed as wall-clock and as this process's CPU time (the steadier of the
two on a shared machine):

* ``rank_child`` of 300 children against 5,000 vacancies (the matching suite's county
  ``rank_child`` folder: Essex seed 2), and ``placematch rank --top 3`` as the command
  renders it (``rank_child(top=3)`` then the table): p50, p95 and min;
* the batch match of ``examples/essex_referrals``: the whole ``match``, its candidates, its
  solve, and its extraction (the match given its candidates and its solution);
* one run of ``examples/essex_supply.toml`` (run 0: the baseline and both scenarios).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.matching import rank_folder

ROOT = Path(__file__).resolve().parents[1]


def _quantiles(times: list[float], unit: str = "seconds") -> dict[str, float]:
    times = sorted(times)
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
    return {
        f"p50_{unit}": statistics.median(times),
        f"p95_{unit}": p95,
        f"min_{unit}": times[0],
    }


def _timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Wall and CPU time of ``fn`` over ``repeat`` calls, after one warm call. CPU time (this
    process's) is the steadier measure on a shared machine."""
    fn()  # warm: imports, caches
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return {**_quantiles(wall), **_quantiles(cpu, "cpu_seconds"), "repeats": repeat}


def rank_records(workdir: Path, timed: int) -> list[dict[str, Any]]:
    """``rank_child`` of ``timed`` children against 5,000 vacancies, and ``rank --top 3`` as
    the command shows it (``rank_child(top=3)``, then the table)."""
    from matcher.casefolder import load_case_folder
    from matcher.rank import rank_child
    from placematch.commands.rank import render_ranking

    folder = load_case_folder(rank_folder(workdir, 5000)[0])
    ids = [c.child_id for c in folder.children]
    sample = ids[:: max(1, len(ids) // timed)][:timed]
    out = []
    for name, call in (
        ("rank_child", lambda cid: rank_child(folder, cid)),
        ("rank_top3_shown", lambda cid: render_ranking(rank_child(folder, cid, 3))),
    ):
        call(sample[0])  # warm
        wall, cpu = [], []
        for cid in sample:
            w, c = time.perf_counter(), time.process_time()
            call(cid)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
        out.append(
            {
                "name": name,
                **_quantiles(wall),
                **_quantiles(cpu, "cpu_seconds"),
                "children_timed": len(sample),
                "vacancies": len(folder.vacancies),
            }
        )
    return out


def match_records(repeat: int) -> list[dict[str, Any]]:
    """The example's match: whole, its candidates, its solve, and its extraction (the match
    given its candidates and its solution: build_problem, the chosen pairs' options, the
    unplaced reasons, metrics; with and without the validator)."""
    import matcher.match as match_module
    from matcher.candidates import build_candidates
    from matcher.casefolder import load_case_folder
    from matcher.match import build_problem, match
    from matcher.optimiser import SolverParameters, solve

    folder = load_case_folder(ROOT / "examples" / "essex_referrals")
    params = SolverParameters()
    cands = build_candidates(folder)
    problem = build_problem(folder, cands)
    solution = solve(problem, params)
    records = [
        {"name": "match_example", **_timed(lambda: match(folder, params), repeat)},
        {"name": "match_example_candidates", **_timed(lambda: build_candidates(folder), repeat)},
        {"name": "match_example_solve", **_timed(lambda: solve(problem, params), repeat)},
    ]
    real = match_module.solve
    match_module.solve = lambda *_: solution  # type: ignore[assignment]
    try:
        records += [
            {
                "name": "match_example_extraction",
                **_timed(lambda: match(folder, params, candidates=cands, validate=False), repeat),
            },
            {
                "name": "match_example_extraction_validated",
                **_timed(lambda: match(folder, params, candidates=cands), repeat),
            },
        ]
    finally:
        match_module.solve = real
    for r in records:
        r["pairs"] = problem.n_pairs
    return records


def scenario_records() -> list[dict[str, Any]]:
    """One run of the Essex supply scenarios (run 0: the baseline and both scenarios)."""
    from scenarios.whatif.config import load_scenario_file
    from scenarios.whatif.runner import run_one

    file = load_scenario_file(ROOT / "examples" / "essex_supply.toml")
    w, c = time.perf_counter(), time.process_time()
    run_one(file, 0)
    cpu, wall = time.process_time() - c, time.perf_counter() - w
    return [
        {"name": "scenario_run_essex_supply", "wall_seconds": wall, "cpu_seconds": cpu, "runs": 1}
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--children", type=int, default=300, help="children ranked")
    parser.add_argument("--only", choices=("rank", "match", "scenario"), action="append")
    args = parser.parse_args(argv)
    only = set(args.only or ("rank", "match", "scenario"))
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if "match" in only:
            records += match_records(args.repeat)
        if "scenario" in only:
            records += scenario_records()
        if "rank" in only:
            records += rank_records(Path(tmp), args.children)
    args.out.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    for r in records:
        cpu = r.get("p50_cpu_seconds", r.get("cpu_seconds"))
        print(r["name"], f"cpu {cpu:.5f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
