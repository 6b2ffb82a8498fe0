"""Issue 12 part 1: the whole Essex cohort, ``match`` against the min-cost flow, per seed.

``python -m benchmarks._x30 [--seeds 1-5] [--repeat N] [--profile SEED] [--json PATH]``

For each seed, the case folder is ``placematch synth --la Essex --seed S`` drawn by
:func:`benchmarks.matching._folder`, its candidates built and exported as
:func:`benchmarks.matching.solve_instance` does, and in the same process:

* the flow: :func:`benchmarks.matching.run_flow` (``benchmarks.optimiser._flow_no_siblings``),
  run three times, the least wall time kept (the first run of a process pays for imports and
  caches; the later ones are the floor the issue means);
* placematch: ``matcher.match.match`` with the parameters that
  :func:`benchmarks.matching.run_placematch` gives it (the defaults: 1 worker, seed 0),
  ``--repeat`` times (default 1), with the optimiser's own phase times
  (``stats["time_*_s"]``) and the hull's LP and MIP seconds.

It prints one line per run and the ratio to the flow, with the 1-minute load average beside
every time (the machine may be shared). ``--profile SEED`` runs cProfile around one
``match`` of that seed and prints the 40 largest cumulative entries. Not a suite of
``python -m benchmarks`` (private module): it takes about 10 s a seed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FLOW_RUNS = 3


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            out += list(range(int(lo), int(hi) + 1))
        elif part:
            out.append(int(part))
    return out


def measure(seed: int, work: Path, repeat: int = 1, profile: bool = False) -> dict[str, Any]:
    """The flow's warm minimum and ``repeat`` runs of placematch on Essex seed ``seed``."""
    from benchmarks._model import model_from_export
    from benchmarks.matching import LIMITS, SEED, _folder, run_flow
    from matcher.candidates import build_candidates
    from matcher.match import match
    from matcher.optimiser import SolverParameters

    folder = _folder("Essex", seed, None, None, work / f"essex_{seed}")
    cands = build_candidates(folder)
    csv_path = cands.to_csv(work / f"essex_{seed}_candidates.csv")
    model = model_from_export(folder, csv_path, cands)
    # what benchmarks.matching.run_placematch runs: the defaults (1 worker), seed 0
    params = SolverParameters(time_limit_s=LIMITS["county"]["placematch"], seed=SEED)
    flows = []
    for _ in range(FLOW_RUNS):
        start = time.perf_counter()
        run_flow(model, LIMITS["county"]["reference"])
        flows.append(time.perf_counter() - start)
    flow = min(flows)
    runs = []
    for _ in range(repeat):
        load = os.getloadavg()[0]
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            start, cpu = time.perf_counter(), time.process_time()
            out = prof.runcall(match, folder, params, candidates=cands)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        else:
            start, cpu = time.perf_counter(), time.process_time()
            out = match(folder, params, candidates=cands)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        phases = {
            k: round(float(v), 3)
            for k, v in out.stats.items()
            if k.startswith("time_") or k.startswith("hull_")
        }
        runs.append(
            {
                "wall_seconds": round(wall, 3),
                # CPU of this process: on a shared machine, less noisy than the wall
                "cpu_seconds": round(cpu, 3),
                "ratio": round(wall / flow, 1),
                "status": out.status,
                "objective": out.objective,
                "bound": out.bound,
                "phases": phases,
                "load_average": round(load, 2),
                "load_average_after": round(os.getloadavg()[0], 2),
            }
        )
    return {
        "seed": seed,
        "children": model.n_children,
        "pairs": model.n_pairs,
        "flow_seconds": round(flow, 4),
        "flow_runs": [round(f, 4) for f in flows],
        "runs": runs,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._x30", description=__doc__)
    parser.add_argument("--seeds", default="1-5", help="synth seeds, e.g. 1-5 or 4,5")
    parser.add_argument("--repeat", type=int, default=1, help="placematch runs per seed")
    parser.add_argument("--profile", type=int, default=None, help="cProfile one seed's match")
    parser.add_argument("--json", type=Path, default=None, help="write the records here")
    args = parser.parse_args(argv)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        seeds = [args.profile] if args.profile is not None else _seeds(args.seeds)
        for seed in seeds:
            rec = measure(seed, Path(tmp), args.repeat, profile=args.profile is not None)
            records.append(rec)
            for r in rec["runs"]:
                print(
                    f"seed {seed}: {r['status']:<8} obj {r['objective']} bound {r['bound']}  "
                    f"placematch {r['wall_seconds']:.2f} s (cpu {r['cpu_seconds']:.2f})  "
                    f"flow {rec['flow_seconds']:.3f} s  "
                    f"x{r['ratio']:.1f}  (load {r['load_average']:.2f}-"
                    f"{r['load_average_after']:.2f})",
                    flush=True,
                )
                print("   " + "  ".join(f"{k} {v}" for k, v in r["phases"].items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
