"""``placematch scenario run`` and ``scenario plan``: supply what-ifs joined to matching.

Added to the nested ``scenario`` parser by :func:`add_parsers` (called from
:mod:`placematch.commands.scenario`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from placematch.commands._progress import RunProgress
from placematch.commands._table import fit_lines, render_table, terminal_width

__all__ = ["add_parsers"]


def add_parsers(inner: argparse._SubParsersAction) -> None:
    """Add ``run`` and ``plan`` to the ``scenario`` sub-parsers."""
    run = inner.add_parser(
        "run",
        help="supply what-ifs: draw futures, place every child, compare with the baseline",
        description=(
            "Monte Carlo runs of a scenario file: each run draws the children at the horizon "
            "and today's homes, applies each scenario's supply changes, places the children "
            "with the batch matcher and records the outcomes; P10/P50/P90 and paired "
            "differences from the baseline."
        ),
    )
    _common(run)
    run.set_defaults(func=_run)

    plan = inner.add_parser(
        "plan",
        help="fewest added beds by type and district that reach a service level",
        description=(
            "Capacity planning over the simulated futures: add homes by type and district, "
            "round by round, where children are unplaced or far from home, until the target "
            "holds in the required share of runs; reports a lower bound and the gap."
        ),
    )
    _common(plan)
    plan.add_argument(
        "--target",
        required=True,
        help='the service level, e.g. "P80 placed=all within_20>=85" (measures: placed=all, '
        "unplaced<=N, within_20>=PCT, in_area>=PCT, siblings_together>=PCT)",
    )
    plan.add_argument("--rounds", type=int, default=6, help="most rounds of additions (default 6)")
    plan.set_defaults(func=_plan)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, metavar="SCENARIO.toml", help="the scenario file")
    p.add_argument("--runs", type=int, help="runs (overrides scenario.runs)")
    p.add_argument(
        "--workers",
        type=int,
        default=_cpus(),
        help="runs at a time: a process pool of this many processes, or with --dask this many "
        f"Dask workers (default: the CPUs available, {_cpus()} here; 1 runs in this process)",
    )
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786"
    )
    p.add_argument(
        "--dask",
        action="store_true",
        help="start a local Dask cluster with --workers workers (instead of a process pool)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write the results here (run: scenarios.json, scenarios.csv, runs.csv and "
        "scenarios.html; plan: plan.json, plan.csv and plan.html); finished runs are kept in "
        "DIR/runs.jsonl and a rerun with the same DIR resumes",
    )
    p.add_argument("--json", action="store_true", help="print JSON on stdout instead of a table")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _cpus() -> int:
    """CPUs this process may use (its affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _layout() -> Any:
    """Each scenario's table at the terminal's width (natural in a pipe or file)."""
    width = terminal_width()

    def lay(head: list[str], rows: list[list[str]], numeric: set[int]) -> list[str]:
        lines = render_table(head, rows, numeric=numeric, wrap={0, 3}, width=None)
        if width is not None and max(len(line) for line in lines) + 3 > width:
            lines = render_table(head, rows, numeric=numeric, wrap={0, 3}, width=width - 3)
        return ["   " + line for line in lines]

    return lay


def fit_lines_text(text: str, width: int | None) -> str:
    """Text whose long lines are wrapped at ``width`` under their indent."""
    return "\n".join(fit_lines(text.rstrip("\n").split("\n"), width)) + "\n"


def _backend(args: argparse.Namespace) -> tuple[Any, Any]:
    """(scheduler or client, cluster to close)."""
    if args.workers < 1:
        raise ValueError("--workers must be at least 1")
    if args.scheduler:
        from scenarios.whatif.runner import import_distributed

        import_distributed()  # the missing extra in one line, before any run starts
        return args.scheduler, None
    if args.dask:
        from scenarios.whatif.runner import import_distributed

        distributed = import_distributed()
        cluster = distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return distributed.Client(cluster), cluster
    return None, None


def _run(args: argparse.Namespace) -> int:
    from scenarios.whatif.config import load_scenario_file
    from scenarios.whatif.report import (
        authorities_csv,
        html_report,
        runs_csv,
        summary_csv,
        table,
    )
    from scenarios.whatif.runner import run_scenarios, summarise

    file = load_scenario_file(args.scenario)
    scheduler, cluster = _backend(args)
    progress = None if args.quiet else RunProgress("scenario run")
    try:
        state = run_scenarios(
            file,
            runs=args.runs,
            workers=args.workers,
            scheduler=scheduler,
            out=args.out,
            progress=progress,
            announce=None if progress is None else progress.announce,
        )
    finally:
        if progress is not None:
            progress.close()
        if cluster is not None:
            scheduler.close()
            cluster.close()
    if not state.records:
        sys.stderr.write("placematch scenario run: interrupted before any run finished\n")
        return 130
    data = summarise(state)
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(fit_lines_text(table(data, _layout()), terminal_width()))
    if args.out is not None:
        out: Path = args.out
        out.mkdir(parents=True, exist_ok=True)
        (out / "scenarios.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        (out / "scenarios.csv").write_text(summary_csv(data), encoding="utf-8")
        (out / "runs.csv").write_text(runs_csv(data), encoding="utf-8")
        (out / "scenarios.html").write_text(html_report(data), encoding="utf-8")
        written = [out / n for n in ("scenarios.json", "scenarios.csv", "runs.csv")]
        if data["source"].get("authorities"):  # a region: its runs by authority
            (out / "authorities.csv").write_text(authorities_csv(data), encoding="utf-8")
            written.append(out / "authorities.csv")
        written.append(out / "scenarios.html")
        if not args.json:
            sys.stdout.write(f"Wrote {', '.join(str(w) for w in written)}\n")
    if state.interrupted:
        sys.stderr.write(
            f"placematch scenario run: interrupted after {len(state.records)} of "
            f"{state.requested} runs; rerun with the same --out to resume\n"
        )
        return 130
    return 0


def _plan(args: argparse.Namespace) -> int:
    from scenarios.whatif.config import load_scenario_file
    from scenarios.whatif.plan import parse_target, plan_capacity, plan_html, plan_table

    file = load_scenario_file(args.scenario)
    target = parse_target(args.target)
    if args.rounds < 1:
        raise ValueError("--rounds must be at least 1")
    scheduler, cluster = _backend(args)
    progress = None if args.quiet else RunProgress("scenario plan")
    try:
        result = plan_capacity(
            file,
            target,
            runs=args.runs,
            workers=args.workers,
            scheduler=scheduler,
            max_rounds=args.rounds,
            progress=progress,
            out=args.out,
            announce=None if progress is None else progress.announce,
        )
    except KeyboardInterrupt:
        again = (
            "; rerun with the same --out to resume"
            if args.out is not None
            else " (with --out DIR the finished runs are kept and a rerun resumes)"
        )
        sys.stderr.write(f"placematch scenario plan: interrupted{again}\n")
        return 130
    finally:
        if progress is not None:
            progress.close()
        if cluster is not None:
            scheduler.close()
            cluster.close()
    data = result.to_json()
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(fit_lines_text(plan_table(result), terminal_width()))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "plan.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        (args.out / "plan.csv").write_text(result.to_csv(), encoding="utf-8")
        (args.out / "plan.html").write_text(plan_html(result), encoding="utf-8")
    return 0 if result.reached else 1
