"""The pooling dividend of a region, and its time (on demand; not in the CI gate).

Tier ``region`` only: the East of England's 11 authorities (each one's whole cohort and
supply, ``generate(la, seed=1+i)``, ids prefixed ``R00``…``R10``: what
``placematch synth --region "East of England" --seed 1`` writes) matched **pooled**
(:func:`matcher.pooled.match_pooled`, each child under its own authority's rules) and, in the
same run with the same solver parameters, **each authority alone** on the vacancies it owns
(``dividend=True``, what ``placematch match DIR --dividend`` prints).

One record per authority (pooled, alone, the difference) and one ``region`` record with the
times: the pooled match, every solo match, and the whole run. A match is timed once (it
takes minutes on 2 cores); the instance is fixed and seeded, so a rerun measures the same
work. Results: ``python -m benchmarks pooling --tier region --results
benchmarks/results/region`` writes ``benchmarks/results/region/pooling.json``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import _max_rss_bytes
from benchmarks.matching import EAST_OF_ENGLAND

__all__ = ["run"]

#: Solver parameters of every match (pooled and alone): ``placematch match``'s defaults,
#: with the region tier's 60 s safety net, 1 worker and CP-SAT seed 0.
TIME_LIMIT_S = 60.0
#: The region's seed (authority i is generated with seed SEED + i), as the matching suite's.
SEED = 1


def run(tier: str) -> list[dict[str, Any]]:
    """Measure the pooling dividend at ``tier`` (``region`` only)."""
    if tier != "region":
        raise ValueError(f"the pooling suite defines only the region tier, not {tier!r}")
    from matcher.casefolder import load_case_folder
    from matcher.domain import CaseFolder
    from matcher.match import match
    from matcher.optimiser import SolverParameters
    from matcher.pooled import match_pooled
    from matcher.result import MatchResult
    from scenarios.cohorts import generate_pooled

    params = SolverParameters(time_limit_s=TIME_LIMIT_S, num_workers=1, seed=0)
    started = time.perf_counter()
    case = generate_pooled(EAST_OF_ENGLAND, SEED, region="East of England")
    with tempfile.TemporaryDirectory(prefix="bench-pooling-") as tmp:
        case.children.to_csv(Path(tmp) / "children.csv", index=False)
        case.vacancies.to_csv(Path(tmp) / "vacancies.csv", index=False)
        folder = load_case_folder(tmp)
    build_seconds = time.perf_counter() - started
    solo_seconds: dict[str, float] = {}
    solo_stats: dict[str, dict[str, Any]] = {}

    def timed_solo(alone: CaseFolder, p: SolverParameters | None) -> MatchResult:
        t0 = time.perf_counter()
        result = match(alone, p)
        la = alone.children[0].authority.name
        solo_seconds[la] = time.perf_counter() - t0
        solo_stats[la] = {
            "status": result.status,
            "objective": result.objective,
            "bound": result.bound,
        }
        return result

    t0 = time.perf_counter()
    pooled = match_pooled(folder, params, dividend=True, solo_match=timed_solo)
    total_seconds = time.perf_counter() - t0
    pooled_seconds = total_seconds - sum(solo_seconds.values())
    assert pooled.solo is not None
    dividend = pooled.dividend()
    assert dividend is not None
    records: list[dict[str, Any]] = []
    common = {"seed": SEED, "time_limit_s": TIME_LIMIT_S, "num_workers": 1, "solver_seed": 0}
    for a in pooled.authorities:
        alone, status = pooled.solo[a]
        records.append(
            {
                "name": f"east_of_england/{a.name}",
                "authority": a.name,
                "ons_code": a.ons_code,
                "pooled": pooled.outcomes[a].to_dict(),
                "alone": alone.to_dict(),
                "alone_status": status,
                "dividend": dividend[a.name],
                "wall_seconds": round(solo_seconds.get(a.name, 0.0), 3),
                "wall_seconds_is": "this authority's match alone",
                **common,
            }
        )
    solo_sum = None
    for a in pooled.authorities:
        solo_sum = pooled.solo[a][0] if solo_sum is None else solo_sum + pooled.solo[a][0]
    result = pooled.result
    records.append(
        {
            "name": "east_of_england/region",
            "authority": "East of England (11 authorities)",
            "children": len(folder.children),
            "vacancies": len(folder.vacancies),
            "beds": sum(v.beds for v in folder.vacancies),
            "pooled": pooled.region.to_dict(),
            "alone": None if solo_sum is None else solo_sum.to_dict(),
            "dividend": dividend["region"],
            "status": result.status,
            "objective": result.objective,
            "bound": result.bound,
            "stopped_by": "" if result.status == "optimal" else result.stats.get("stopped_by"),
            "recharges": [r.to_dict() for r in pooled.recharges if r.placing != r.owner],
            "build_seconds": round(build_seconds, 3),
            "pooled_match_seconds": round(pooled_seconds, 3),
            "solo_match_seconds": round(sum(solo_seconds.values()), 3),
            "wall_seconds": round(total_seconds, 3),
            "wall_seconds_is": "the pooled match and the 11 matches alone (match --dividend)",
            "max_rss_bytes": _max_rss_bytes(),
            **common,
        }
    )
    return records
