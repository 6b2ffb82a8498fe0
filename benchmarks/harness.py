"""Shared measuring and reporting for every benchmark suite.

A suite calls :func:`measure` on a zero-argument callable and adds its own fields (sizes,
accuracy checks) to the returned record; ``python -m benchmarks`` then calls
:func:`write_results`. Result files are JSON with this schema (version 1)::

    {
      "schema": 1,
      "suite": "geography",            # module name in benchmarks/
      "tier": "county",                # smoke | county | national
      "created_utc": "2026-11-22T21:30:00Z",
      "git_commit": "e71325b...",      # HEAD when run, or null
      "git_dirty": true,               # uncommitted changes in the tree
      "machine": {"cpu_model": ..., "logical_cores": 2, "python": "3.11.7",
                  "platform": ..., "numpy": ...},
      "records": [
        {"name": "distance_matrix",    # what was measured
         "wall_seconds": 0.21,         # median of the timed repeats
         "wall_seconds_min": 0.2, "wall_seconds_max": 0.23, "repeats": 3,
         "peak_traced_bytes": 240000000,  # tracemalloc peak of one extra, traced run
         "max_rss_bytes": 900000000,   # process high-water mark after the runs
         ...suite-specific fields (sizes, per-item times, accuracy)...}
      ]
    }
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["RESULTS_DIR", "git_commit", "machine_info", "measure", "write_results"]

SCHEMA_VERSION = 1
RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _max_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return int(rss if sys.platform == "darwin" else rss * 1024)


def measure(
    fn: Callable[[], Any], *, repeat: int = 3, warmup: int = 1, memory: bool = True
) -> dict[str, Any]:
    """Time a zero-argument callable and measure its peak memory.

    Parameters
    ----------
    fn
        The work. Its return value of the last timed run is kept under ``"value"`` (not
        written to results; use it to check correctness).
    repeat
        Timed runs; ``wall_seconds`` is their median.
    warmup
        Untimed runs first (fill caches, import modules).
    memory
        Also run once under ``tracemalloc`` for ``peak_traced_bytes`` (numpy arrays are
        traced). This run is not timed: tracing slows Python code.

    Returns
    -------
    dict
        ``wall_seconds``, ``wall_seconds_min``, ``wall_seconds_max``, ``repeats``,
        ``peak_traced_bytes`` (or None), ``max_rss_bytes`` and ``value``.
    """
    if repeat < 1:
        raise ValueError(f"measure repeat={repeat}: expected at least 1")
    for _ in range(warmup):
        fn()
    times = []
    value: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    peak: int | None = None
    if memory:
        was_tracing = tracemalloc.is_tracing()
        if not was_tracing:
            tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        if not was_tracing:
            tracemalloc.stop()
    return {
        "wall_seconds": statistics.median(times),
        "wall_seconds_min": min(times),
        "wall_seconds_max": max(times),
        "repeats": repeat,
        "peak_traced_bytes": peak,
        "max_rss_bytes": _max_rss_bytes(),
        "value": value,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """CPU model, logical cores, Python, platform and key library versions."""
    import numpy

    return {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
    }


def git_commit() -> tuple[str | None, bool | None]:
    """``(HEAD commit, tree has uncommitted changes)``, or ``(None, None)`` outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head, bool(status.strip())


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "value"}


def write_results(
    suite: str,
    records: list[dict[str, Any]],
    *,
    tier: str = "county",
    directory: Path | None = None,
) -> Path:
    """Write a suite's records to ``benchmarks/results/<suite>.json`` and return the path.

    The ``value`` key of each record (see :func:`measure`) is dropped.
    """
    commit, dirty = git_commit()
    document = {
        "schema": SCHEMA_VERSION,
        "suite": suite,
        "tier": tier,
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": commit,
        "git_dirty": dirty,
        "machine": machine_info(),
        "records": [_jsonable(r) for r in records],
    }
    out_dir = directory or RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{suite}.json"
    path.write_text(json.dumps(document, indent=2, default=float) + "\n", encoding="utf-8")
    return path
