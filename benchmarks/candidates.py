"""Candidate-model benchmark: hard rules and factors over every pair of an Essex-size folder.

Fixed, seeded work: a synthetic Essex case folder (``scenarios.cohorts.generate("Essex",
seed=1)``, the profile's 1,131 children and the homes that could take them) is written and
loaded once; then

- ``build_candidates``: every (child, vacancy) pair through the hard rules, the eligible ones
  scored by every factor and folded into objective points;
- ``rank_child``: one child against every vacancy (20 children, each timed; median reported);
- ``why_not``: one child and one vacancy;
- ``candidates_csv``: writing ``placematch candidates`` output;
- ``option``: the per-pair explanation (100 pairs).

Run with ``python -m benchmarks candidates [--tier smoke|county]``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import measure

SEED = 1
SIZES: dict[str, dict[str, int | None]] = {
    "smoke": {"children": 150, "repeat": 1},
    "county": {"children": None, "repeat": 3},
}


def run(tier: str) -> list[dict[str, Any]]:
    """Measure the candidate model at ``tier``."""
    if tier not in SIZES:
        raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(SIZES)}")
    from matcher.candidates import build_candidates
    from matcher.casefolder import load_case_folder
    from matcher.rank import rank_child, why_not
    from scenarios.cohorts import generate, write_case_folder

    size = SIZES[tier]
    repeat = int(size["repeat"] or 1)
    with tempfile.TemporaryDirectory() as tmp:
        case = generate("Essex", SEED, children=size["children"])
        write_case_folder(case, Path(tmp) / "essex")
        folder = load_case_folder(Path(tmp) / "essex")
        n_c, n_v = len(folder.children), len(folder.vacancies)
        common = {"children": n_c, "vacancies": n_v, "seed": SEED}
        records: list[dict[str, Any]] = []

        built = measure(lambda: build_candidates(folder), repeat=repeat)
        cands = built.pop("value")
        records.append(
            {
                "name": "build_candidates",
                **built,
                **common,
                "pairs_considered": n_c * n_v,
                "eligible_pairs": cands.n_pairs,
                "excluded_by_rule": cands.exclusion_counts,
                "placement_base": cands.folding.placement_base,
                "max_objective_points": int(cands.objective_points.max()),
            }
        )

        ids = [c.child_id for c in folder.children[:: max(1, n_c // 20)]][:20]
        times = []
        for cid in ids:
            start = time.perf_counter()
            rank_child(folder, cid)
            times.append(time.perf_counter() - start)
        ranked = measure(lambda: rank_child(folder, ids[0]), repeat=repeat)
        ranked.pop("value")
        records.append(
            {
                "name": "rank_child",
                **ranked,
                **common,
                "median_over_children_seconds": statistics.median(times),
                "max_over_children_seconds": max(times),
                "children_timed": len(ids),
            }
        )

        vid = folder.vacancies[0].vacancy_id
        answered = measure(lambda: why_not(folder, ids[0], vid), repeat=repeat)
        answered.pop("value")
        records.append({"name": "why_not", **answered, **common})

        out = Path(tmp) / "pairs.csv"
        written = measure(lambda: cands.to_csv(out), repeat=repeat)
        written.pop("value")
        records.append(
            {"name": "candidates_csv", **written, **common, "csv_bytes": out.stat().st_size}
        )

        k = min(100, cands.n_pairs)
        step = max(1, cands.n_pairs // max(k, 1))
        explained = measure(
            lambda: [cands.option(i) for i in range(0, step * k, step)], repeat=repeat
        )
        explained.pop("value")
        records.append({"name": "option_x100", **explained, **common, "options": k})
    return records
