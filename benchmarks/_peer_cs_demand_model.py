"""Run Social Finance's ``cs-demand-model`` (the peer) at given cut-offs; print JSON.

Runs INSIDE the peer's own virtual environment (it pins pandas 1.x), never in placematch's:
:mod:`benchmarks.forecast` starts it as a subprocess, as ``.ci/dfe_903_validate.py`` is
run for the DfE validator. Nothing from the peer is copied into placematch.

    python _peer_cs_demand_model.py SOURCE_DIR --at 2020-09-01 --at 2021-03-01 \\
        --months 24 --window-months 6

For each cut-off the peer's deterministic model is fitted on ``window_months`` before it
(its command line's default reference period is 6 months) and run day by day for
``months`` months; the output holds its expected children in care by placement category
at each month start after the cut-off, and the seconds each step took.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time


def _add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("--at", action="append", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--window-months", type=int, default=6)
    args = parser.parse_args()

    import pandas as pd
    from cs_demand_model import (
        Config,
        DemandModellingDataContainer,
        ModelPredictor,
        PopulationStats,
        fs_datastore,
    )

    started = time.perf_counter()
    config = Config()
    container = DemandModellingDataContainer(fs_datastore(args.source), config)
    stats = PopulationStats(container.enriched_view, config)
    stats.stock  # noqa: B018 - the peer computes its daily stock lazily; time it once here
    load_seconds = time.perf_counter() - started
    out: dict[str, object] = {"load_seconds": load_seconds, "origins": []}
    for at in args.at:
        t0 = time.perf_counter()
        start = _add_months(at, -args.window_months)
        predictor = ModelPredictor.from_model(stats, start, at)
        end = _add_months(at, args.months)
        days = (end - at).days
        pop = predictor.predict(days)
        seconds = time.perf_counter() - t0
        # The peer's ``predict`` names row i (0-based) start + i + 1 days.
        cols = [c for c in pop.columns if c[1] != "NOT_IN_CARE"]
        # Columns are (age bracket, placement category) tuples: sum over the ages.
        kinds = sorted({c[1] for c in cols})
        dates = [_add_months(at, m) for m in range(1, args.months + 1)]
        picked = pop.loc[[pd.Timestamp(d) for d in dates]]
        rows = {k: picked[[c for c in cols if c[1] == k]].sum(axis=1) for k in kinds}
        out["origins"].append(  # type: ignore[attr-defined]
            {
                "at": at.isoformat(),
                "seconds": seconds,
                "days": days,
                "dates": [d.isoformat() for d in dates],
                "counts": {k: [float(v) for v in rows[k]] for k in kinds},
            }
        )
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
