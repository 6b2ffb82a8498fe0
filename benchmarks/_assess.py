"""The assessment path, measured (issue 16): rank, match extraction and one scenario run.

Not a suite of its own (a ``_private`` module): run it to compare two commits on the same
machine, each with its own checkout first on ``PYTHONPATH``::

    python -m benchmarks._assess --out results.json [--repeat N]

Fixed, seeded work:

* ``rank_child`` of 300 children against 5,000 vacancies (the matching suite's county
  ``rank_child`` records: Essex seed 2), and ``placematch rank --top 3`` as the command
  renders it (``rank_child(top=3)`` then the table), p50 and p95;
* the batch match of ``examples/essex_referrals``: the whole ``match``, its candidates, its
  solve, and its extraction (the rest: options of the chosen pairs, unplaced reasons,
  metrics, the validator);
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

ROOT = Path(__file__).resolve().parents[1]


def _quantiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
    return {"p50_seconds": statistics.median(times), "p95_seconds": p95, "max_seconds": times[-1]}


def _timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    fn()  # warm: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return _quantiles(times)


def rank_records(workdir: Path) -> list[dict[str, Any]]:
    """``rank_child`` (the matching suite's county records) and ``rank --top 3`` as shown."""
    from benchmarks.matching import rank_records as matching_rank
    from matcher.casefolder import load_case_folder
    from matcher.rank import rank_child
    from placematch.commands.rank import render_ranking

    records = matching_rank("county", workdir)
    folder = load_case_folder(workdir / "rank")  # with residents.csv, as the last record
    ids = [c.child_id for c in folder.children]
    sample = ids[:: max(1, len(ids) // 300)][:300]
    render_ranking(rank_child(folder, sample[0], 3))
    times = []
    for cid in sample:
        start = time.perf_counter()
        render_ranking(rank_child(folder, cid, 3))
        times.append(time.perf_counter() - start)
    records.append(
        {
            "name": "rank_top3_rendered",
            **_quantiles(times),
            "children_timed": len(times),
            "vacancies": len(folder.vacancies),
        }
    )
    return records


def match_records(repeat: int) -> list[dict[str, Any]]:
    """The example's match, whole and in parts."""
    from matcher.candidates import build_candidates
    from matcher.casefolder import load_case_folder
    from matcher.match import build_problem, match
    from matcher.optimiser import SolverParameters, solve

    folder = load_case_folder(ROOT / "examples" / "essex_referrals")
    params = SolverParameters()
    cands = build_candidates(folder)
    problem = build_problem(folder, cands)
    whole = _timed(lambda: match(folder, params), repeat)
    built = _timed(lambda: build_candidates(folder), repeat)
    solved = _timed(lambda: solve(build_problem(folder, cands), params), repeat)
    given = _timed(lambda: match(folder, params, candidates=cands), repeat)
    return [
        {"name": "match_example", **whole, "repeats": repeat, "pairs": problem.n_pairs},
        {"name": "match_example_candidates", **built, "repeats": repeat},
        {"name": "match_example_solve", **solved, "repeats": repeat},
        {
            "name": "match_example_extraction",
            # the match given its candidates, less the solve: build_problem, options of the
            # chosen pairs, unplaced reasons, metrics and the validator
            "p50_seconds": given["p50_seconds"] - solved["p50_seconds"],
            "repeats": repeat,
        },
    ]


def scenario_records() -> list[dict[str, Any]]:
    """One run of the Essex supply scenarios."""
    from scenarios.whatif.config import load_scenario_file
    from scenarios.whatif.runner import run_one

    file = load_scenario_file(ROOT / "examples" / "essex_supply.toml")
    start = time.perf_counter()
    run_one(file, 0)
    wall = time.perf_counter() - start
    return [{"name": "scenario_run_essex_supply", "wall_seconds": wall, "runs": 1}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=15)
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
            records += rank_records(Path(tmp))
    for r in records:
        r.pop("max_rss_bytes", None)
    args.out.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    for r in records:
        print(r["name"], r.get("p50_seconds", r.get("wall_seconds")), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
