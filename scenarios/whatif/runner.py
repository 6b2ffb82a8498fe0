"""Monte Carlo runs of supply scenarios: draw, match, measure; fan out; summarise.

Each run ``r`` is a pure function of the scenario file and ``r``
(:func:`run_one`): it draws the children at the horizon and today's homes
(:func:`scenarios.whatif.supply.draw_world`, seeded by ``(seed, r)`` only), then for the
baseline and every variant applies the supply changes, places the children with the
batch matcher (:func:`matcher.match.match`: the same candidates, rules, factors and
sibling units as ``placematch match``) and records the outcomes. Because the seeds depend
on nothing else, the same file gives the same runs on one process, on a process pool of
any size, or on a Dask cluster (provided each match ends the same way: see
``docs/scenarios.md`` on time limits).

Runs go to a backend (:func:`run_scenarios`): in-process for one worker, a process pool
(``forkserver``) by default, or a Dask ``distributed`` cluster given its address. With an
output folder every finished run is appended to ``runs.jsonl`` at once, so an interrupted
run keeps what it finished and the next call with the same file resumes.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scenarios.whatif.config import ScenarioFile, Variant
from scenarios.whatif.supply import (
    apply_variant,
    build_folder,
    check_file,
    draw_world,
    policy_toml,
)

if TYPE_CHECKING:
    from matcher.domain import CaseFolder
    from matcher.pooled import PooledResult
    from matcher.result import MatchResult

__all__ = [
    "AUTHORITY_METRICS",
    "DASK_EXTRA",
    "METRICS",
    "MissingExtraError",
    "RunRecord",
    "ScenarioRuns",
    "authority_outcomes",
    "ethnic_group",
    "outcomes",
    "run_one",
    "run_scenarios",
    "summarise",
]

#: The optional extra that installs Dask ``distributed`` (``pip install 'placematch[dask]'``).
DASK_EXTRA = "placematch[dask]"


class MissingExtraError(ImportError, ValueError):
    """An optional extra is not installed: a setup the user can correct, not a bug."""


def import_distributed() -> Any:
    """Import Dask ``distributed``, or say which extra installs it.

    Dask is optional: most users run on one machine's process pool, and ``distributed``
    brings some twenty packages. ``--dask`` and ``--scheduler`` need it.

    Raises
    ------
    MissingExtraError
        Naming the extra (``placematch[dask]``) and the command that installs it.
    """
    try:
        import distributed
    except ImportError as exc:
        raise MissingExtraError(
            f"--dask and --scheduler need Dask distributed, an optional extra: "
            f"pip install '{DASK_EXTRA}'"
        ) from exc
    return distributed


#: Outcome measures of a run, in report order: (key, label, unit, higher is better).
METRICS: tuple[tuple[str, str, str, bool], ...] = (
    ("placed", "children placed", "children", True),
    ("unplaced", "children unplaced", "children", False),
    ("kin_pct", "with a connected person", "%", True),
    ("within_20_miles_pct", "within 20 miles of home", "%", True),
    ("in_area_pct", "placed in area", "%", True),
    ("siblings_together_pct", "siblings together", "%", True),
    ("school_kept_pct", "school kept (within 20 miles)", "%", True),
    ("out_of_area_signoffs", "out-of-area sign-offs", "placements", False),
    ("weekly_cost", "weekly cost of placements", "£", False),
)

#: Fairness splits: (split key, label).
SPLITS: tuple[tuple[str, str], ...] = (
    ("ethnicity", "ethnic group"),
    ("disability", "disability"),
    ("separated_migrant", "separated migrant children"),
)
#: Measures reported for each group of a split.
GROUP_METRICS: tuple[str, ...] = ("children", "placed_pct", "within_20_miles_pct", "in_area_pct")

_ETHNIC_GROUPS = {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "C": "Other"}


def ethnic_group(code: str | None) -> str:
    """The census group of an SSDA903 ``ETHNIC`` code (``WBRI`` -> White, ...)."""
    if not code or code in ("REFU", "NOBT"):
        return "Not recorded"
    if code in ("OOTH", "CHNE"):
        return "Other"
    return _ETHNIC_GROUPS.get(code[0], "Other")


def _pct(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def outcomes(folder: CaseFolder, result: MatchResult, *, region: bool = False) -> dict[str, Any]:
    """The measures of one match: :data:`METRICS` and the :data:`SPLITS` by group
    (``region``: a region's match, whose shortfall is asked for by authority)."""
    m = result.metrics
    out: dict[str, Any] = {
        "children": m.children,
        "placed": m.placed,
        "unplaced": m.unplaced,
        "kin_pct": m.kin_pct,
        "within_20_miles_pct": m.within_20_miles_pct,
        "in_area_pct": m.in_area_pct,
        "siblings_together_pct": m.siblings_together_pct,
        "school_kept_pct": m.school_kept_pct,
        "out_of_area_signoffs": sum(
            any(s.code == "out_of_area" for s in a.signoffs) for a in result.assignments
        ),
        "weekly_cost": m.weekly_cost,
        "status": result.status,
        # "" when proven; "work_limit" (reproducible) or "wall_clock" (not) otherwise
        "stopped_by": "" if result.status == "optimal" else str(result.stats.get("stopped_by", "")),
    }
    by_child = {a.child_id: a for a in result.assignments}
    splits: dict[str, dict[str, dict[str, Any]]] = {}
    for key, _ in SPLITS:
        counts: dict[str, list[int]] = {}
        for c in folder.children:
            if key == "ethnicity":
                g = ethnic_group(c.ethnicity)
            elif key == "disability":
                g = "disabled" if c.is_disabled else "not disabled"
            else:
                g = "separated migrant" if c.is_separated_migrant else "other children"
            row = counts.setdefault(
                g, [0, 0, 0, 0, 0]
            )  # children, placed, with home, near, in area
            a = by_child.get(c.child_id)
            row[0] += 1
            if a is None:
                continue
            row[1] += 1
            row[4] += a.in_area
            if a.distance_miles is not None:
                row[2] += 1
                row[3] += round(a.distance_miles, 1) <= 20.0
        splits[key] = {
            g: {
                "children": r[0],
                "placed_pct": _pct(r[1], r[0]),
                "within_20_miles_pct": _pct(r[3], r[2]),
                "in_area_pct": _pct(r[4], r[1]),
            }
            for g, r in sorted(counts.items())
        }
    out["splits"] = splits
    out["shortfall"] = _shortfall(folder, result, by_authority=region)
    return out


def need_type(types: Iterable[str]) -> str:
    """The type of home to commission for a child who accepts ``types``."""
    ts = {str(t) for t in types}
    if "parent_and_child" in ts:
        return "parent_and_child"
    if "inhouse_foster" in ts or "agency_foster" in ts:
        return "inhouse_foster"
    for t in ("secure_home", "childrens_home", "supported_accommodation"):
        if t in ts:
            return t
    return sorted(ts)[0] if ts else "inhouse_foster"


def _shortfall(
    folder: CaseFolder, result: MatchResult, *, by_authority: bool = False
) -> dict[str, Any]:
    """The homes that would serve the unplaced and the far-placed children.

    Each unplaced **unit** (a sibling group placed as one, or a child) asks for one home:
    ``type|district|beds|capabilities|youngest age``, where the type is what the child
    needs (:func:`need_type`), the district its home's, the beds the unit's size, the
    capabilities its needs (a wheelchair, a Deprivation of Liberty order, ...). A child
    without a home postcode (a separated migrant child) asks in the district where most of
    the children live (``by_authority``, in a region: most of its own authority's
    children, so that its authority commissions the home). ``far`` lists the same
    requests, one per child placed more than 20 miles from home, farthest first.
    """
    lads = Counter(c.home.lad_code for c in folder.children if c.home is not None)
    default = lads.most_common(1)[0][0] if lads else ""
    own: dict[str, str] = {}
    if by_authority:
        per: dict[str, Counter[str]] = {}
        for c in folder.children:
            if c.home is not None:
                per.setdefault(c.authority.ons_code, Counter())[c.home.lad_code] += 1
        own = {a: n.most_common(1)[0][0] for a, n in per.items()}
    by_child = {a.child_id: a for a in result.assignments}
    units: dict[str, list[Any]] = {}
    for c in folder.children:
        units.setdefault(c.sibling_group or c.child_id, []).append(c)
    unplaced: Counter[str] = Counter()
    far: list[tuple[float, str]] = []
    with_home = near = 0

    def request(children: list[Any]) -> str:
        first = children[0]
        needs = {str(n) for c in children for n in c.needs} & _CAPABILITY_NEEDS
        if len(children) > 1:
            needs.add("sibling_group")
        district = first.home.lad_code if first.home else own.get(first.authority.ons_code, default)
        youngest = min(c.age for c in children)
        return (
            f"{need_type(first.placement_types)}|{district}|{len(children)}|"
            f"{';'.join(sorted(needs))}|{youngest}"
        )

    for members in units.values():
        if all(by_child.get(c.child_id) is None for c in members):
            unplaced[request(members)] += 1
        for c in members:
            a = by_child.get(c.child_id)
            if a is None:
                if len(members) > 1 and any(by_child.get(m.child_id) for m in members):
                    unplaced[request([c])] += 1  # a split group's unplaced member
                continue
            if a.distance_miles is not None:
                with_home += 1
                if round(a.distance_miles, 1) <= 20.0:
                    near += 1
                else:
                    far.append((a.distance_miles, request([c])))
    far.sort(key=lambda x: (-x[0], x[1]))
    return {
        "unplaced": dict(sorted(unplaced.items())),
        "far": [cell for _, cell in far],
        "with_home": with_home,
        "near": near,
    }


#: Needs that a new home must be able to meet (as its capabilities).
_CAPABILITY_NEEDS = frozenset(
    {"disability", "wheelchair", "dols", "uasc", "solo_only", "parent_and_child"}
)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run: per scenario (``baseline`` first) its outcomes and the homes it added.

    ``authorities``: a region's authorities (ONS codes, pool order); empty for one
    authority, whose records are written as they always were.
    """

    run: int
    outcomes: dict[str, dict[str, Any]]
    added: dict[str, list[dict[str, Any]]]
    seconds: float
    la_code: str = ""
    child_sectors: dict[str, int] = field(default_factory=dict)
    authorities: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        data: dict[str, Any] = {
            "run": self.run,
            "outcomes": self.outcomes,
            "added": self.added,
            "seconds": round(self.seconds, 3),
            "la_code": self.la_code,
            "child_sectors": self.child_sectors,
        }
        if self.authorities:
            data["authorities"] = list(self.authorities)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        """Read back :meth:`to_json`."""
        return cls(
            int(data["run"]),
            data["outcomes"],
            data["added"],
            float(data["seconds"]),
            str(data.get("la_code", "")),
            dict(data.get("child_sectors", {})),
            tuple(data.get("authorities", ())),
        )


#: A region's outcome measures per authority (counts, then the percentages of
#: :data:`METRICS` they give), in report order: (key, label, unit).
AUTHORITY_METRICS: tuple[tuple[str, str, str], ...] = (
    ("children", "children", "children"),
    ("placed", "children placed", "children"),
    ("within_20_miles_pct", "within 20 miles of home", "%"),
    ("in_area_pct", "placed in area", "%"),
    ("siblings_together_pct", "siblings together", "%"),
    ("school_kept_pct", "school kept (within 20 miles)", "%"),
    ("weekly_cost", "weekly cost of placements", "£"),
)


def authority_outcomes(folder: CaseFolder, pooled: PooledResult) -> dict[str, dict[str, Any]]:
    """A pooled match's outcome for each authority's children, by authority name.

    The counts of :class:`matcher.pooled.Outcome` (the denominators of
    :mod:`matcher.metrics`) plus ``in_area`` (placed in the child's own authority's area),
    and their percentages; each authority's counts add up to the region's.
    """
    in_area: Counter[str] = Counter()
    for a in pooled.result.assignments:
        in_area[folder.child(a.child_id).authority.ons_code] += int(a.in_area)
    out: dict[str, dict[str, Any]] = {}
    for authority in pooled.authorities:
        o = pooled.outcomes[authority]
        data: dict[str, Any] = dict(o.to_dict())
        data["ons_code"] = authority.ons_code
        data["unplaced"] = o.children - o.placed
        data["in_area"] = in_area[authority.ons_code]
        data["in_area_pct"] = _pct(in_area[authority.ons_code], o.placed)
        out[authority.name] = data
    return out


def _match(folder: CaseFolder, file: ScenarioFile) -> MatchResult:
    from matcher.match import match
    from matcher.optimiser import SolverParameters

    params = SolverParameters(
        time_limit_s=file.match.time_limit_s,
        num_workers=file.match.workers,
        seed=0,
        deterministic_time_limit=file.match.deterministic_time,
    )
    return match(folder, params, validate=file.match.validate)


def _match_pooled(folder: CaseFolder, file: ScenarioFile) -> PooledResult:
    from matcher.optimiser import SolverParameters
    from matcher.pooled import match_pooled

    params = SolverParameters(
        time_limit_s=file.match.time_limit_s,
        num_workers=file.match.workers,
        seed=0,
        deterministic_time_limit=file.match.deterministic_time,
    )
    return match_pooled(folder, params)


def child_sectors(postcodes: list[str]) -> dict[str, int]:
    """Children per postcode sector (``CM1 1``), for the map (no single home is shown)."""
    return dict(Counter(p[:-2].strip() for p in postcodes if p))


def run_one(
    file: ScenarioFile,
    run: int,
    variants: Sequence[Variant] | None = None,
    *,
    baseline: bool = True,
) -> RunRecord:
    """Run ``run``: the baseline (if ``baseline``) and each variant on the same world.

    ``variants`` defaults to the file's. The result depends only on ``file`` and ``run``.
    """
    start = time.perf_counter()
    world = draw_world(file, run)
    todo: list[tuple[str, Variant | None]] = [("baseline", None)] if baseline else []
    todo += [(v.name, v) for v in (file.variants if variants is None else variants)]
    results: dict[str, dict[str, Any]] = {}
    added: dict[str, list[dict[str, Any]]] = {}
    for name, variant in todo:
        vacancies, new = apply_variant(world, variant, file.baseline_flow)
        policy = policy_toml(world.policy_text, variant.policy_dict() if variant else {})
        folder = build_folder(world.children, vacancies, policy)
        if world.authorities:
            # A region: the pooled match, each child under its own authority's policy.
            pooled = _match_pooled(folder, file)
            results[name] = outcomes(folder, pooled.result, region=True)
            results[name]["authorities"] = authority_outcomes(folder, pooled)
        else:
            results[name] = outcomes(folder, _match(folder, file))
        added[name] = [
            {
                "postcode": r["postcode"],
                "placement_type": r["placement_type"],
                "beds": int(r["beds"]),
            }
            for r in new.to_dict("records")
        ]
    sectors = child_sectors([str(p) for p in world.children["home_postcode"]])
    return RunRecord(
        run,
        results,
        added,
        time.perf_counter() - start,
        world.la_code,
        sectors,
        world.authorities,
    )


# ----------------------------------------------------------------------------- fan-out


@dataclass
class ScenarioRuns:
    """The runs done so far (complete when every requested run is in)."""

    file: ScenarioFile
    requested: int
    records: dict[int, RunRecord] = field(default_factory=dict)
    backend: str = "process"
    workers: int = 1
    seconds: float = 0.0
    interrupted: bool = False
    resumed: int = 0

    @property
    def complete(self) -> bool:
        """Every requested run is done."""
        return all(r in self.records for r in range(self.requested))

    def ordered(self) -> list[RunRecord]:
        """The finished runs, in run order."""
        return [self.records[r] for r in sorted(self.records)]


def _load_partial(path: Path, key: str) -> dict[int, RunRecord]:
    found: dict[int, RunRecord] = {}
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by an interruption
        if data.get("key") == key:
            rec = RunRecord.from_json(data)
            found[rec.run] = rec
    return found


def _task(file: ScenarioFile, run: int) -> RunRecord:
    return run_one(file, run)


def run_scenarios(
    file: ScenarioFile,
    *,
    runs: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    out: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    task: Callable[[ScenarioFile, int], RunRecord] = _task,
    announce: Callable[[str, int], None] | None = None,
) -> ScenarioRuns:
    """Run every run of ``file`` (``runs`` overrides its count) on a backend.

    Parameters
    ----------
    workers
        Processes (1: in this process). Ignored with ``scheduler``.
    scheduler
        A Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``;
        the runs go to that cluster.
    out
        A folder: finished runs are appended to ``out/runs.jsonl`` as they arrive, and runs
        already there for the same file (same :meth:`ScenarioFile.key`) are not run again.
    progress
        Called with ``(done, total)`` after each run.
    announce
        Called once before the first run starts with a sentence saying how many runs go
        on how many workers (and how many were resumed), and the runs already done.

    A ``KeyboardInterrupt`` stops the fan-out; the runs finished so far are returned
    (``interrupted`` set) and, with ``out``, kept on disk for the next call.
    """
    n = file.runs if runs is None else runs
    if n < 1:
        raise ValueError("--runs must be at least 1")
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    check_file(file)  # a bad district or postcode: one message now, not one per worker
    key = file.key()
    state = ScenarioRuns(file, n, workers=workers)
    partial_path: Path | None = None
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        partial_path = Path(out) / "runs.jsonl"
        done = _load_partial(partial_path, key)
        state.records = {r: rec for r, rec in done.items() if r < n}
        state.resumed = len(state.records)
    todo = [r for r in range(n) if r not in state.records]
    start = time.perf_counter()

    def keep(rec: RunRecord) -> None:
        state.records[rec.run] = rec
        if partial_path is not None:
            with partial_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key, **rec.to_json()}) + "\n")
        if progress is not None:
            progress(len(state.records), n)

    resumed = f", {state.resumed} resumed from runs.jsonl" if state.resumed else ""

    def say(where: str) -> None:
        if announce is not None:
            announce(f"{len(todo)} of {n} runs {where}{resumed}", len(state.records))

    try:
        if scheduler is not None:
            state.backend = "dask"
            _run_dask(file, todo, scheduler, keep, task, say)
        elif workers == 1 or len(todo) <= 1:
            state.backend = "inline"
            say("on 1 worker (this process)")
            for r in todo:
                keep(task(file, r))
        else:
            state.backend = "process"
            say(f"on {min(workers, len(todo))} workers (a process pool)")
            _run_pool(file, todo, workers, keep, task)
    except KeyboardInterrupt:
        state.interrupted = True
    state.seconds = time.perf_counter() - start
    return state


def _run_pool(
    file: ScenarioFile,
    todo: Iterable[int],
    workers: int,
    keep: Callable[[RunRecord], None],
    task: Callable[[ScenarioFile, int], RunRecord],
) -> None:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        pending: set[Future[RunRecord]] = {pool.submit(task, file, r) for r in todo}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(finished, key=lambda f: id(f)):
                keep(fut.result())
    except BaseException:
        # Stop now: runs queued in the workers would otherwise run to the end (and an
        # interrupted pool can hang at exit). Finished runs are already kept.
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.join(timeout=5)
        raise
    pool.shutdown(wait=True)


def _run_dask(
    file: ScenarioFile,
    todo: Sequence[int],
    scheduler: Any,
    keep: Callable[[RunRecord], None],
    task: Callable[[ScenarioFile, int], RunRecord],
    say: Callable[[str], None],
) -> None:
    distributed = import_distributed()
    own = isinstance(scheduler, str)
    client = distributed.Client(scheduler) if own else scheduler
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        say(f"on {n_workers} Dask worker{'s' if n_workers != 1 else ''}")
        futures = client.map(task, [file] * len(todo), list(todo), pure=False)
        try:
            for fut in distributed.as_completed(futures):
                keep(fut.result())
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        if own:
            client.close()


# ----------------------------------------------------------------------------- summary


def _quantiles(values: Sequence[float | None]) -> dict[str, float | None]:
    xs = np.array([v for v in values if v is not None], dtype=float)
    if len(xs) == 0:
        return {"p10": None, "p50": None, "p90": None, "mean": None, "n": 0}
    # A quantile is a run's own value (as in forecasts): children stay whole children.
    q = np.quantile(xs, [0.1, 0.5, 0.9], method="inverted_cdf")
    return {
        "p10": round(float(q[0]), 2),
        "p50": round(float(q[1]), 2),
        "p90": round(float(q[2]), 2),
        "mean": round(float(xs.mean()), 2),
        "n": len(xs),
    }


def _source_json(file: ScenarioFile, recs: Sequence[RunRecord]) -> dict[str, Any]:
    data: dict[str, Any] = {"la": file.source.la, "case_folder": file.source.case_folder}
    if file.source.is_region:
        data["region"] = file.source.region
        data["authorities"] = list(file.source.authorities)
    elif recs and recs[0].authorities:  # a pooled case folder
        from geography import resolve_authority

        data["region"] = None
        data["authorities"] = sorted(resolve_authority(c).name for c in recs[0].authorities)
    return data


def _by_authority(recs: Sequence[RunRecord], name: str) -> dict[str, dict[str, Any]]:
    """Per authority of a region: P10/P50/P90 of :data:`AUTHORITY_METRICS` over the runs,
    and for a variant the paired difference from the baseline (same runs)."""
    names = sorted({a for r in recs for a in r.outcomes.get(name, {}).get("authorities", {})})
    out: dict[str, dict[str, Any]] = {}
    for a in names:
        mine = [r.outcomes[name]["authorities"].get(a, {}) for r in recs if name in r.outcomes]
        entry: dict[str, Any] = {
            "metrics": {k: _quantiles([o.get(k) for o in mine]) for k, *_ in AUTHORITY_METRICS}
        }
        if name != "baseline":
            diff = {}
            for k, *_ in AUTHORITY_METRICS:
                ds: list[float | None] = []
                for r in recs:
                    x = r.outcomes.get(name, {}).get("authorities", {}).get(a, {}).get(k)
                    y = r.outcomes["baseline"].get("authorities", {}).get(a, {}).get(k)
                    ds.append(None if x is None or y is None else float(x) - float(y))
                diff[k] = _quantiles(ds)
            entry["difference"] = diff
        out[a] = entry
    return out


def summarise(state: ScenarioRuns) -> dict[str, Any]:
    """The report's data: per scenario P10/P50/P90 of each measure, paired differences from
    the baseline (same runs), the fairness splits, and the homes added."""
    recs = state.ordered()
    file = state.file
    names = ["baseline"] + [v.name for v in file.variants]
    scenarios = []
    for name in names:
        per = [r.outcomes[name] for r in recs if name in r.outcomes]
        metrics = {k: _quantiles([o.get(k) for o in per]) for k, *_ in METRICS}
        diff: dict[str, Any] = {}
        if name != "baseline":
            for k, *_ in METRICS:
                ds: list[float | None] = []
                for r in recs:
                    a, b = r.outcomes.get(name, {}).get(k), r.outcomes["baseline"].get(k)
                    ds.append(None if a is None or b is None else float(a) - float(b))
                diff[k] = _quantiles(ds)
                xs = [d for d in ds if d is not None]
                diff[k]["share_better"] = (
                    round(sum((d > 0) for d in xs) / len(xs), 3) if xs else None
                )
        splits: dict[str, dict[str, dict[str, Any]]] = {}
        for key, _ in SPLITS:
            groups = sorted({g for o in per for g in o["splits"][key]})
            splits[key] = {
                g: {
                    gm: _quantiles([o["splits"][key].get(g, {}).get(gm) for o in per])
                    for gm in GROUP_METRICS
                }
                for g in groups
            }
        if name != "baseline":
            for key, _ in SPLITS:
                for g, gm in splits[key].items():
                    ds = []
                    for r in recs:
                        a = r.outcomes.get(name, {}).get("splits", {}).get(key, {}).get(g, {})
                        b = r.outcomes["baseline"]["splits"][key].get(g, {})
                        x, y = a.get("placed_pct"), b.get("placed_pct")
                        ds.append(None if x is None or y is None else float(x) - float(y))
                    gm["placed_pct_change"] = _quantiles(ds)
        variant = None if name == "baseline" else file.variant(name)
        added_by_type: dict[str, int] = variant.added_beds if variant else {}
        extra: dict[str, Any] = {}
        if any(r.authorities for r in recs):
            extra["authorities"] = _by_authority(recs, name)
            # the region's row beside its authorities' (a forecast's demand varies by run)
            metrics["children"] = _quantiles([o.get("children") for o in per])
        scenarios.append(
            {
                "name": name,
                "note": variant.note if variant else "today's supply (with the baseline flows)",
                "added_beds": added_by_type,
                "added_weekly_cost_if_full": variant.added_weekly_cost if variant else 0,
                "metrics": metrics,
                "difference": diff,
                "splits": splits,
                "statuses": {
                    s: sum(o.get("status") == s for o in per) for s in ("optimal", "feasible")
                },
                # matches the wall clock stopped: their records may differ on another machine
                "stopped_by_wall_clock": sum(o.get("stopped_by") == "wall_clock" for o in per),
                **extra,
            }
        )
    return {
        "name": file.name,
        "file": file.path,
        "la_code": recs[0].la_code if recs else "",
        "child_sectors": recs[0].child_sectors if recs else {},
        "seed": file.seed,
        "key": file.key(),
        "runs_requested": state.requested,
        "runs_done": len(recs),
        "runs_resumed": state.resumed,
        "complete": state.complete,
        "interrupted": state.interrupted,
        "backend": state.backend,
        "workers": state.workers,
        "seconds": round(state.seconds, 2),
        "demand": {
            "mode": file.demand.mode,
            "source": file.demand.source,
            "horizon_months": file.demand.horizon_months,
            "counts_run0": file.demand.for_run(0),
            "include_other": file.demand.include_other,
        },
        "source": _source_json(file, recs),
        "match": {
            "time_limit_s": file.match.time_limit_s,
            "workers": file.match.workers,
            "deterministic_time": file.match.deterministic_time,
        },
        "metrics": [
            {"key": k, "label": label, "unit": unit, "higher_is_better": hib}
            for k, label, unit, hib in METRICS
        ],
        "scenarios": scenarios,
        "runs": [r.to_json() for r in recs],
    }
