"""Matching benchmark: ``placematch match`` against reference solvers, in the same run.

Every instance is a synthetic case folder drawn with a fixed seed (``scenarios.cohorts.generate``,
what ``placematch synth`` writes; no stored children). For each one, the candidate model is
built once and exported (``CandidateSet.to_csv``, what ``placematch candidates`` writes); the
references read *that export* (:func:`benchmarks._model.model_from_export`):

* ``placematch`` -- :func:`matcher.match.match` as users run it (its default of 1 worker,
  seed 0, the tier's time limit),
  validated by the matcher's own solver-independent validator;
* ``min_cost_flow`` -- OR-Tools min-cost flow on the relaxation without sibling units or
  household rules (``benchmarks.optimiser._flow_no_siblings``): the time floor, and an upper
  bound on the optimum;
* ``highs_mip`` -- HiGHS (``scipy.optimize.milp``, ``mip_rel_gap = 0``) on the *full* model:
  sibling units, the household limit of three with the siblings exception and ``solo_only``
  (:mod:`benchmarks._mip`), so its proven optimum is placematch's optimum;
* ``cpsat_naive`` -- the same rows as one CP-SAT Boolean per pair, written the naive way (no
  decomposition, no hint, no fixing), 2 workers, seed 0;
* ``greedy`` -- first-come nearest-suitable-bed (:mod:`benchmarks._greedy`).

Every answer is re-checked against every constraint (:func:`benchmarks._model.check_full`) and
its objective recomputed; metrics are computed the same way for all (:func:`metrics_of`, which
must agree with placematch's own). Beside matching: ``rank_child`` of one child against 5,000
vacancies (warm, p50/p95 over many children), and again with two residents in every
children's home (``rank_child_residents``).

Tiers: ``smoke`` (seconds), ``county`` (Essex whole cohort and a 200-child referral list; the CI
tier), ``region`` (the East of England pooled; on demand), ``national`` (the stress run:
every English authority's whole cohort against its own supply, about 80,000 children in all,
placematch alone with a time limit per authority; on demand, it finishes and reports rather
than proves). Run ``python -m benchmarks matching --tier smoke``; give the on-demand tiers their
own folder (``--results benchmarks/results/national``) so that the CI tiers' results stay.
"""

from __future__ import annotations

import csv
import math
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from benchmarks._greedy import greedy
from benchmarks._mip import LinearModel, linear_model
from benchmarks._model import Model, check_full, metrics_of, model_from_export, split_groups

if TYPE_CHECKING:
    from matcher.domain import CaseFolder

SEED = 0  # solver seed
#: Instances per tier: (name, authority, synth seed, children, referrals).
INSTANCES: dict[str, list[tuple[str, str, int, int | None, int | None]]] = {
    "smoke": [
        ("essex_referrals_60", "Essex", 1, None, 60),
        ("essex_cohort_150", "Essex", 1, 150, None),
    ],
    "county": [
        ("essex_referrals_200", "Essex", 1, None, 200),
        ("essex_whole_cohort", "Essex", 1, None, None),
    ],
}
#: Time limits (seconds) per tier: placematch, and each of HiGHS and naive CP-SAT.
LIMITS: dict[str, dict[str, float]] = {
    "smoke": {"placematch": 20.0, "reference": 30.0},
    "county": {"placematch": 30.0, "reference": 120.0},
    "region": {"placematch": 60.0, "reference": 300.0},
    "national": {"placematch": 20.0, "reference": 0.0},  # references are not run nationally
    "region_london": {"placematch": 120.0, "reference": 0.0},
    # every authority in one pooled model: the question is memory, bound and gap
    "nation_pooled": {"placematch": 120.0, "reference": 0.0},
}
#: The candidate cut of the pooled tiers (policy.toml): vacancies within 3 miles of home,
#: and at least the 50 nearest eligible ones for every child (matcher.screen). Without it the
#: East of England and London would evaluate 290 million pairs.
POOLED_POLICY = "candidate_radius_miles = 3.0\ncandidate_min_options = 50\n"
#: East of England upper-tier authorities (the region tier pools them).
EAST_OF_ENGLAND = (
    "Bedford",
    "Cambridgeshire",
    "Central Bedfordshire",
    "Essex",
    "Hertfordshire",
    "Luton",
    "Norfolk",
    "Peterborough",
    "Southend-on-Sea",
    "Suffolk",
    "Thurrock",
)
#: rank_child: (vacancies wanted, children timed) per tier.
RANK: dict[str, tuple[int, int]] = {"smoke": (500, 50), "county": (5000, 300)}
SOLVERS = ("placematch", "min_cost_flow", "highs_mip", "cpsat_naive", "greedy")
#: The region runs no full-model reference: on the Essex cohort (132,054 pairs) HiGHS peaked
#: at 959 MB and naive CP-SAT at 1,679 MB, so the region's 5.0 million pairs would need
#: tens of GB, beyond the 24 GB of the machines this runs on.
SOLVERS_BY_TIER: dict[str, tuple[str, ...]] = {
    "region": ("placematch", "min_cost_flow", "greedy"),
    "region_london": ("placematch", "min_cost_flow", "greedy"),
    "nation_pooled": ("placematch", "min_cost_flow"),
}


def _in_region(region: str) -> tuple[Any, ...]:
    from geography.authorities import authorities_in_region

    return authorities_in_region(region)


def _rss() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _timed(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    before = _rss()
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    out = fn()
    out["wall_seconds"] = time.perf_counter() - start
    # the machine may be shared: the 1-minute load average around each solver
    out["load_average_before"] = round(load_before, 2)
    out["load_average_after"] = round(os.getloadavg()[0], 2)
    out["max_rss_bytes"] = _rss()
    out["rss_growth_bytes"] = _rss() - before
    return out


def _gap(objective: int | None, bound: int | None) -> float | None:
    if objective is None or bound is None or bound <= 0:
        return None
    return max(0.0, (bound - objective) / bound)


# ----------------------------------------------------------------------------- solvers


def run_placematch(folder: CaseFolder, cands: Any, model: Model, limit: float) -> dict[str, Any]:
    """``matcher.match.match`` on the folder; its assignment in the model's indices."""
    from dataclasses import asdict

    from matcher.match import match
    from matcher.optimiser import SolverParameters

    # the default worker count (1): what `placematch match` runs; 2 workers were slower here
    params = SolverParameters(time_limit_s=limit, seed=SEED)
    result = match(folder, params, candidates=cands)
    child_of = {c.child_id: i for i, c in enumerate(folder.children)}
    vacancy_of = {v.vacancy_id: i for i, v in enumerate(folder.vacancies)}
    assigned = np.full(model.n_children, -1, dtype=np.int32)
    for a in result.assignments:
        assigned[child_of[a.child_id]] = vacancy_of[a.vacancy_id]
    return {
        "status": result.status,
        "objective": int(result.objective),
        "bound": None if result.bound is None else int(result.bound),
        # the relaxation's bound beside the proven one: which side of a gap is loose
        "lp_bound": None if result.stats.get("lp_bound") is None else int(result.stats["lp_bound"]),
        "stopped_by": result.stats.get("stopped_by") or None,
        "vacancy_of_child": assigned,
        "own_metrics": asdict(result.metrics),
        "reported_splits": len(result.splits),
        "parameters": {"time_limit_s": limit, "num_workers": params.num_workers, "seed": SEED},
    }


def run_flow(model: Model, limit: float) -> dict[str, Any]:
    """Min-cost flow on the relaxation (no sibling units, no household rules)."""
    from benchmarks.optimiser import _flow_no_siblings

    out = _flow_no_siblings(model.assignment_problem(), limit)
    out["status"] = "relaxation"
    out["parameters"] = {"solver": "ortools SimpleMinCostFlow"}
    return out


def run_highs(lm: LinearModel, model: Model, limit: float) -> dict[str, Any]:
    """HiGHS branch and cut on the full model."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    if lm.n_vars == 0:  # nothing eligible: the empty match is optimal
        return {
            "status": "optimal",
            "objective": 0,
            "bound": 0,
            "vacancy_of_child": np.full(model.n_children, -1, dtype=np.int32),
            "parameters": {"time_limit_s": limit, "solver": "none (no pairs)"},
        }
    result = milp(
        -lm.objective.astype(float),
        constraints=LinearConstraint(lm.matrix, lm.lower, lm.upper),
        integrality=np.ones(lm.n_vars),
        bounds=Bounds(0, 1),
        options={"time_limit": limit, "mip_rel_gap": 0.0, "disp": False},
    )
    assigned = np.full(model.n_children, -1, dtype=np.int32)
    if result.x is not None:
        chosen = result.x[: lm.n_pairs] > 0.5
        assigned[model.pair_child[chosen]] = model.pair_vacancy[chosen]
    bound = getattr(result, "mip_dual_bound", None)
    proven = result.status == 0
    return {
        "status": "optimal" if proven else "not proven within limit",
        "objective": model.objective(assigned) if result.x is not None else None,
        "bound": math.floor(-bound + 1e-6) if bound is not None else None,
        "vacancy_of_child": assigned,
        "parameters": {"time_limit_s": limit, "mip_rel_gap": 0.0, "solver": "scipy milp (HiGHS)"},
        "message": str(result.message)[:120],
    }


def run_cpsat_naive(lm: LinearModel, model: Model, limit: float) -> dict[str, Any]:
    """One CP-SAT Boolean per pair (and per exception flag), every row as written."""
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    cp = cp_model.CpModel()
    x = [cp.new_bool_var(f"x{i}") for i in range(lm.n_vars)]
    a = lm.matrix
    for r in range(a.shape[0]):
        lo, hi = a.indptr[r], a.indptr[r + 1]
        cols = a.indices[lo:hi].tolist()
        coefs = [round(c) for c in a.data[lo:hi].tolist()]
        expr = cp_model.LinearExpr.weighted_sum([x[c] for c in cols], coefs)
        low, high = lm.lower[r], lm.upper[r]
        if np.isfinite(low) and low == high:
            cp.add(expr == int(low))
        else:
            cp.add(expr <= int(high))
    cp.maximize(cp_model.LinearExpr.weighted_sum(x, lm.objective.tolist()))
    built = time.perf_counter() - started
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = SEED
    solver.parameters.max_time_in_seconds = limit
    status = solver.solve(cp)
    assigned = np.full(model.n_children, -1, dtype=np.int32)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    if found:
        chosen = np.array([solver.boolean_value(v) for v in x[: lm.n_pairs]], dtype=bool)
        assigned[model.pair_child[chosen]] = model.pair_vacancy[chosen]
    return {
        "status": "optimal"
        if status == cp_model.OPTIMAL
        else ("not proven within limit" if found else solver.status_name(status).lower()),
        "objective": model.objective(assigned) if found else None,
        "bound": math.floor(solver.best_objective_bound + 1e-6),
        "vacancy_of_child": assigned,
        "build_seconds": round(built, 3),
        "parameters": {"time_limit_s": limit, "num_workers": 2, "seed": SEED},
    }


def run_greedy(model: Model) -> dict[str, Any]:
    """First-come nearest-suitable-bed."""
    assigned = greedy(model)
    return {
        "status": "heuristic",
        "objective": model.objective(assigned),
        "bound": None,
        "vacancy_of_child": assigned,
        "parameters": {"order": "referral (child id)", "choice": "nearest eligible, free bed"},
    }


# ----------------------------------------------------------------------------- instances


def _folder(la: str, seed: int, children: int | None, referrals: int | None, out: Path) -> Any:
    from matcher.casefolder import load_case_folder
    from scenarios.cohorts import generate, write_case_folder

    case = generate(la, seed, children=children, referrals=referrals)
    write_case_folder(case, out)
    return load_case_folder(out)


def _region_folder(seed: int, out: Path) -> Any:
    """The East of England pooled: each authority's whole cohort and supply, ids prefixed."""
    return _pooled_folder(EAST_OF_ENGLAND, seed, out)


def _pooled_folder(
    authorities: Sequence[str], seed: int, out: Path, policy: str | None = None
) -> Any:
    """Authorities pooled in one folder: each one's whole cohort (``synth --la LA --seed
    seed+i``) and supply, ids prefixed ``R{i:02d}`` (:func:`scenarios.cohorts.generate_pooled`,
    as ``placematch synth --la A --la B ...`` writes it); ``policy`` is written as policy.toml."""
    from matcher.casefolder import load_case_folder
    from scenarios.cohorts import generate_pooled

    case = generate_pooled(authorities, seed)
    out.mkdir(parents=True, exist_ok=True)
    case.children.to_csv(out / "children.csv", index=False)
    case.vacancies.to_csv(out / "vacancies.csv", index=False)
    if policy:
        (out / "policy.toml").write_text(policy, encoding="utf-8")
    return load_case_folder(out)


def _built(lm: LinearModel | None) -> LinearModel:
    if lm is None:  # never: the model is built whenever a solver that needs it runs
        raise RuntimeError("the full linear model was not built")
    return lm


def solve_instance(
    name: str, folder: CaseFolder, tier: str, workdir: Path, *, seed_info: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every solver on one folder; one record per solver."""
    from matcher.candidates import build_candidates

    limits = LIMITS[tier]
    started = time.perf_counter()
    cands = build_candidates(folder)
    candidates_seconds = time.perf_counter() - started
    csv_path = cands.to_csv(workdir / f"{name}_candidates.csv")
    model = model_from_export(folder, csv_path, cands)
    solvers = SOLVERS_BY_TIER.get(tier, SOLVERS)
    started = time.perf_counter()
    lm = linear_model(model) if {"highs_mip", "cpsat_naive"} & set(solvers) else None
    mip_build_seconds = time.perf_counter() - started
    common = {
        "instance": name,
        "children": model.n_children,
        "vacancies": model.n_vacancies,
        "beds": int(model.beds.sum()),
        "pairs": model.n_pairs,
        "sibling_groups": len(model.sibling_groups),
        "solo_only_children": int(model.solo_child.sum()),
        "mip_rows": None if lm is None else int(lm.matrix.shape[0]),
        "mip_rows_by_kind": None if lm is None else lm.rows_by_kind,
        "mip_build_seconds": round(mip_build_seconds, 3),
        "candidates_seconds": round(candidates_seconds, 3),
        **seed_info,
    }
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "placematch": lambda: run_placematch(folder, cands, model, limits["placematch"]),
        "min_cost_flow": lambda: run_flow(model, limits["reference"]),
        "highs_mip": lambda: run_highs(_built(lm), model, limits["reference"]),
        "cpsat_naive": lambda: run_cpsat_naive(_built(lm), model, limits["reference"]),
        "greedy": lambda: run_greedy(model),
    }
    records = []
    for solver in solvers:
        try:
            out = _timed(runners[solver])
        except Exception as exc:  # record it and go on: the other solvers still report
            out = {
                "status": f"error: {type(exc).__name__}: {exc}"[:300],
                "objective": None,
                "bound": None,
                "vacancy_of_child": np.full(model.n_children, -1, dtype=np.int32),
                "wall_seconds": float("nan"),
                "max_rss_bytes": _rss(),
                "error": True,
            }
        assigned: npt.NDArray[np.int32] = out.pop("vacancy_of_child")
        relaxed = solver == "min_cost_flow"
        errors = check_full(model, assigned, siblings=solver not in ("greedy", "min_cost_flow"))
        if relaxed:  # the relaxation ignores the household rules too: only pairs and beds
            errors = [e for e in errors if "eligible pair" in e or " beds" in e]
        metrics = metrics_of(model, assigned)
        objective = out.get("objective")
        record = {
            "name": f"{name}/{solver}",
            "solver": solver,
            **common,
            **out,
            "gap": _gap(objective, out.get("bound")),
            "placed": int((assigned >= 0).sum()),
            "valid": not errors
            and not out.get("error")
            and (objective is None or objective == model.objective(assigned)),
            "errors": errors[:3],
            "sibling_splits": split_groups(model, assigned),
            "metrics": metrics,
        }
        if solver == "placematch" and not out.get("error"):
            own = out["own_metrics"]
            record["metrics_agree"] = all(own.get(k) == v for k, v in metrics.items())
            record["splits_without_policy"] = (
                0 if model.allow_split else split_groups(model, assigned)
            )
        records.append(record)
        print(
            f"   {record['name']:<40} {record['status']!s:<24} "
            f"obj {objective}  bound {record.get('bound')}  {record['wall_seconds']:.2f} s",
            flush=True,
        )
    return records


# ----------------------------------------------------------------------------- national


def national_records(limit: float, workdir: Path) -> list[dict[str, Any]]:
    """The national stress run: each English authority's whole cohort (``synth --la LA
    --seed 1+i``; the national default profile where an authority has none of its own)
    against its own supply, matched by placematch with ``limit`` seconds each (1 worker,
    seed 0). One record per authority and a ``national_total``; an authority whose folder or
    match fails is recorded with its error and the run goes on. The references are not run:
    at this size they would take hours, and the question here is whether placematch finishes
    every authority and how close to proven it gets."""
    from geography.authorities import authorities
    from matcher.match import match
    from matcher.optimiser import SolverParameters

    params = SolverParameters(time_limit_s=limit, num_workers=1, seed=SEED)
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i, la in enumerate(authorities()):
        base: dict[str, Any] = {
            "name": f"national/{la.ons_code}",
            "solver": "placematch",
            "authority": la.name,
            "synth": {"la": la.ons_code, "seed": 1 + i},
            "parameters": {"time_limit_s": limit, "num_workers": 1, "seed": SEED},
        }
        try:
            t0 = time.perf_counter()
            folder = _folder(la.ons_code, 1 + i, None, None, workdir / la.ons_code)
            build = time.perf_counter() - t0

            def solve(folder: Any = folder) -> dict[str, Any]:
                result = match(folder, params)
                return {
                    "status": result.status,
                    "objective": int(result.objective),
                    "bound": None if result.bound is None else int(result.bound),
                    "placed": int(result.metrics.placed),
                }

            out = _timed(solve)
            out.update(base)
            out["children"] = len(folder.children)
            out["vacancies"] = len(folder.vacancies)
            out["beds"] = sum(v.beds for v in folder.vacancies)
            out["generate_seconds"] = build
            out["gap"] = _gap(out["objective"], out["bound"])
        except Exception as exc:  # recorded, not hidden: the run must finish and report
            out = {**base, "status": f"error: {type(exc).__name__}: {exc}", "wall_seconds": 0.0}
        records.append(out)
        print(
            f"   {out['name']:<22} {la.name[:28]:<28} {out['status']:<10} "
            f"{out.get('placed', '-')}/{out.get('children', '-')}  {out['wall_seconds']:.1f} s",
            flush=True,
        )
    solved = [r for r in records if "children" in r]
    records.append(
        {
            "name": "national_total",
            "solver": "placematch",
            "authorities": len(records),
            "authorities_failed": len(records) - len(solved),
            "authorities_optimal": sum(r["status"] == "optimal" for r in solved),
            "children": sum(r["children"] for r in solved),
            "placed": sum(r["placed"] for r in solved),
            "vacancies": sum(r["vacancies"] for r in solved),
            "match_seconds": sum(r["wall_seconds"] for r in solved),
            "max_match_seconds": max((r["wall_seconds"] for r in solved), default=0.0),
            "wall_seconds": time.perf_counter() - started,
            "max_rss_bytes": _rss(),
            "parameters": {"time_limit_s": limit, "num_workers": 1, "seed": SEED},
        }
    )
    return records


# ----------------------------------------------------------------------------- rank


def rank_folder(workdir: Path, want: int) -> tuple[Path, int]:
    """The ``rank_child`` folder: an Essex cohort (seed 2) large enough that its supply has at
    least ``want`` vacancies, cut to ``want``; written under ``workdir/rank``. Returns the
    folder and the cohort's size asked of ``generate``."""
    import pandas as pd

    from scenarios.cohorts import generate, write_case_folder

    children = 1131
    while True:
        case = generate("Essex", 2, children=children)
        if len(case.vacancies) >= want:
            break
        children = int(children * want / max(len(case.vacancies), 1) * 1.1) + 1
    out = workdir / "rank"
    write_case_folder(case, out)
    vac = pd.read_csv(out / "vacancies.csv", dtype=str, keep_default_na=False)
    vac.iloc[:want].to_csv(out / "vacancies.csv", index=False)
    return out, children


def rank_records(tier: str, workdir: Path) -> list[dict[str, Any]]:
    """``rank_child`` of one child against ``RANK[tier][0]`` vacancies, warm, over many
    children: p50 and p95."""
    import pandas as pd

    from matcher.casefolder import load_case_folder
    from matcher.rank import rank_child

    want, timed = RANK[tier]
    out, children = rank_folder(workdir, want)
    folder = load_case_folder(out)
    ids = [c.child_id for c in folder.children]
    step = max(1, len(ids) // timed)
    sample = ids[::step][:timed]

    def timed_ranking(name: str, folder: CaseFolder, **extra: Any) -> dict[str, Any]:
        rank_child(folder, sample[0])  # warm: caches, imports
        times = []
        for cid in sample:
            start = time.perf_counter()
            rank_child(folder, cid)
            times.append(time.perf_counter() - start)
        times.sort()
        p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
        return {
            "name": name,
            "solver": "rank_child",
            "wall_seconds": statistics.median(times),
            "p50_seconds": statistics.median(times),
            "p95_seconds": p95,
            "max_seconds": times[-1],
            "children_timed": len(times),
            "vacancies": len(folder.vacancies),
            "cohort_children": len(ids),
            "synth": {"la": "Essex", "seed": 2, "children": children},
            "max_rss_bytes": _rss(),
            **extra,
        }

    plain = timed_ranking("rank_child", folder)
    # The same folder with the children already living in its children's homes
    # (residents.csv): the residents' rules and factors at work on the same sample.
    vac = pd.read_csv(out / "vacancies.csv", dtype=str, keep_default_na=False)
    _write_residents(vac, out / "residents.csv")
    lived_in = load_case_folder(out)
    return [
        plain,
        timed_ranking("rank_child_residents", lived_in, residents=len(lived_in.residents)),
    ]


def _write_residents(vacancies: Any, path: Path) -> None:
    """Two residents in every children's home, ages and needs fixed by its row (no draw)."""
    from matcher.contract import RESIDENTS_FILE, column_names

    rows = []
    columns = ("provider_id", "placement_type", "age_min", "sex")
    for i, (provider, kind, low, sex) in enumerate(
        zip(*(vacancies[c] for c in columns), strict=True)
    ):
        if kind != "childrens_home":
            continue
        for k in range(2):
            rows.append(
                {
                    "provider_id": provider,
                    "resident_ref": f"R{k + 1}",
                    "age": str(max(int(low), 10 + (i + 3 * k) % 8)),
                    "sex": sex if sex in ("M", "F") else "MF"[(i + k) % 2],
                    "needs": "disability" if (i + k) % 5 == 0 else "",
                    "risk_flags": "missing" if (i + k) % 3 == 0 else "",
                }
            )
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(column_names(RESIDENTS_FILE)))
        writer.writeheader()
        writer.writerows(rows)


def run(tier: str) -> list[dict[str, Any]]:
    """Every instance of the tier, every solver, and the rank measurement."""
    if tier not in LIMITS:
        raise ValueError(
            f"tier {tier!r} is not defined for matching; expected one of {', '.join(LIMITS)}"
        )
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if tier == "national":
            return national_records(LIMITS[tier]["placematch"], work)
        if tier == "region":
            folder = _region_folder(1, work / "region")
            info = {"synth": {"la": "East of England (11 authorities)", "seed": 1}}
            records += solve_instance("east_of_england", folder, tier, work, seed_info=info)
            return records
        if tier in ("region_london", "nation_pooled"):
            if tier == "region_london":
                names = [a.name for r in ("East of England", "London") for a in _in_region(r)]
                name, where = "east_of_england_london", "East of England and London"
            else:
                from geography.authorities import authorities

                names = [a.name for a in authorities()]
                name, where = "england_pooled", "every English authority"
            folder = _pooled_folder(names, 1, work / tier, POOLED_POLICY)
            info = {
                "synth": {"la": f"{where} ({len(names)} authorities)", "seed": 1},
                "policy": POOLED_POLICY.strip().splitlines(),
            }
            records += solve_instance(name, folder, tier, work, seed_info=info)
            return records
        for name, la, seed, children, referrals in INSTANCES[tier]:
            folder = _folder(la, seed, children, referrals, work / name)
            info = {"synth": {"la": la, "seed": seed, "children": children, "referrals": referrals}}
            records += solve_instance(name, folder, tier, work, seed_info=info)
        records += rank_records(tier, work)
    return records
