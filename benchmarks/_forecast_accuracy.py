"""The forecast suite's ``accuracy`` tier: rolling-origin back-tests beside the peer.

For each synthetic SSDA903 sample (the two kept with the tests, five yearly returns drawn from
KNOWN rates by :mod:`scenarios.forecast.synthetic` (seed 2026, written to a temporary folder:
where the model is exactly right) and the whole public sample of Social Finance's
``cs-demand-model``, copied into ``benchmarks/data/cs_demand_model_sample`` with its
licence), at origins every 6 months (see
:func:`scenarios.forecast.backtest.rolling_origins`):

- placematch with the defaults chosen from the data (``"auto"``), with the old fixed
  ones (``prior_weight`` 1,200, ``fit_months`` 36), with the defaults and the rates'
  spread chosen too (``rate_spread = "auto"``, the band's calibration by back-tests; not
  the default), and with the defaults and recent months weighted more for exit and move
  hazards (``hazard_recency = "auto"``; not the default), and with the defaults and the
  reported band scaled by where the actuals fell in back-tests inside the fit
  (``band_calibration = "auto"``; not the default): 1,000 runs; the median's percentage
  error 12 and 24 months ahead on the total and by placement type (DfE pupil-forecast
  scorecard style), and the share of months inside P10-P90;
- the peer, ``cs-demand-model`` 0.5.1, deterministic, in its OWN virtual environment
  (``$PLACEMATCH_PEER_VENV``, default ``/tmp/peer-venv``; built with pip when absent, as
  ``.ci/check_903_export.sh`` builds the DfE validator's), fitted on the 6 months before
  each origin (its command line's default reference period) and scored against the same
  actual counts. If its environment cannot be built or run the record says why; no
  number is made up;
- speed: 1,000 stochastic runs (defaults chosen from the data, 12 months) against the
  peer's one deterministic 12-month run on the same sample.

Run with ``python -m benchmarks forecast --tier accuracy --results benchmarks/results/accuracy``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import measure

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "ssda903"
SAMPLE = ROOT / "benchmarks" / "data" / "cs_demand_model_sample"
PEER_VENV = Path(os.environ.get("PLACEMATCH_PEER_VENV", "/tmp/peer-venv"))
PEER_PIN = "cs-demand-model==0.5.1"
PEER_SCRIPT = Path(__file__).resolve().parent / "_peer_cs_demand_model.py"
PEER_WINDOW_MONTHS = 6
RUNS = 1000
SEED = 2026
#: The peer's placement categories by placematch group (the stocks agree exactly).
PEER_KINDS = ("FOSTERING", "RESIDENTIAL", "SUPPORTED", "OTHER")


@cache
def synthetic_folder() -> Path:
    """Five yearly returns (2018-2022) drawn from known rates (seed 2026), in a temporary
    folder: a steady authority of about 260 children after 18 years' burn-in
    (:func:`scenarios.forecast.synthetic.example_rates`)."""
    from scenarios.forecast.synthetic import example_rates, generate_returns

    folder = Path(tempfile.mkdtemp(prefix="placematch-known-rates-"))
    generate_returns(example_rates(), first_year=2018, last_year=2022, seed=SEED).write(folder)
    return folder


def _samples() -> list[tuple[str, dict[str, Any], Path | None, str]]:
    """``(name, [data] table, folder for the peer or None, why skipped or "")``."""
    yearly = DATA / "yearly"
    regional = DATA / "regional"
    out: list[tuple[str, dict[str, Any], Path | None, str]] = [
        (
            "tests_yearly",
            {
                "episodes": [str(yearly / "*-episodes.csv")],
                "header": [str(yearly / "*-header.csv")],
                "uasc": [str(yearly / "*-uasc.csv")],
            },
            yearly,
            "",
        ),
        (
            "tests_regional_hillingdon",
            {
                "episodes": [str(regional / "episodes.csv")],
                "header": [str(regional / "header.csv")],
                "uasc": [str(regional / "uasc.csv")],
                "la": "Hillingdon",
            },
            None,  # one file with an LA column: the peer reads yearly files only
            "",
        ),
    ]
    sample = {
        "episodes": [str(SAMPLE / "*-episodes.csv")],
        "header": [str(SAMPLE / "*-header.csv")],
        "uasc": [str(SAMPLE / "*-uasc.csv")],
    }
    known = synthetic_folder()
    out.append(
        (
            "synthetic_known_rates",
            {
                "episodes": [str(known / "*-episodes.csv")],
                "header": [str(known / "*-header.csv")],
                "uasc": [str(known / "*-uasc.csv")],
            },
            known,
            "",
        )
    )
    # the record's name is kept, so that results before the copy compare with those after
    out.append(("shared_cs_demand_model_sample", sample, SAMPLE, ""))
    return out


def _config(
    data: dict[str, Any],
    *,
    auto: bool,
    horizon: int = 24,
    spread: bool = False,
    recency: bool = False,
    band: bool = False,
) -> Any:
    from scenarios.forecast.config import parse_config

    rates: dict[str, Any] = {} if auto else {"prior_weight": 1200.0}
    if spread:
        rates["rate_spread"] = "auto"
    if recency:
        rates["hazard_recency"] = "auto"
    if band:
        rates["band_calibration"] = "auto"
    table = dict(data) if auto else {**data, "fit_months": 36}
    return parse_config(
        {
            "forecast": {
                "mode": "stochastic",
                "horizon_months": horizon,
                "runs": RUNS,
                "seed": SEED,
            },
            "data": table,
            "rates": rates,
        },
        source="accuracy",
    )


def _round(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 2)


def _scores(errors12: np.ndarray, errors24: np.ndarray) -> dict[str, Any]:
    """Mean absolute percentage errors over origins, total and mean by type."""
    out: dict[str, Any] = {}
    for months, err in ((12, errors12), (24, errors24)):
        scored = np.isfinite(err[:, -1])
        a = np.abs(err[scored])
        out[f"{months}_months"] = {
            "origins": int(scored.sum()),
            "mean_absolute_percent_error_total": _round(a[:, -1].mean()) if len(a) else None,
            "mean_absolute_percent_error_by_type": (
                _round(float(np.nanmean(np.nanmean(a[:, :-1], axis=0)))) if len(a) else None
            ),
        }
    return out


def _per_origin(origins: tuple[Any, ...], e12: np.ndarray, e24: np.ndarray) -> list[Any]:
    names = ["fostering", "residential", "supported_accommodation", "other", "total"]
    return [
        {
            "at": o.isoformat(),
            "percent_error_12_months": {n: _round(e12[i, j]) for j, n in enumerate(names)},
            "percent_error_24_months": {n: _round(e24[i, j]) for j, n in enumerate(names)},
        }
        for i, o in enumerate(origins)
    ]


def peer_python() -> tuple[Path | None, str]:
    """The peer's interpreter, building its environment if absent; else why not."""
    python = PEER_VENV / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(PEER_VENV)],
                check=True,
                capture_output=True,
                timeout=300,
            )
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", PEER_PIN],
                check=True,
                capture_output=True,
                timeout=900,
            )
        subprocess.run(
            [str(python), "-c", "import cs_demand_model"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"the peer's environment ({PEER_VENV}, {PEER_PIN}) is not usable: {exc}"
    return python, ""


def run_peer(python: Path, folder: Path, origins: list[str], months: int) -> dict[str, Any]:
    """Run the peer script in the peer's environment; its JSON plus the wall seconds."""
    args = [str(python), str(PEER_SCRIPT), str(folder), "--months", str(months)]
    args += ["--window-months", str(PEER_WINDOW_MONTHS)]
    for o in origins:
        args += ["--at", o]
    started = time.perf_counter()
    done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=3600)
    out = dict(json.loads(done.stdout))
    out["wall_seconds"] = time.perf_counter() - started
    return out


def _peer_errors(peer: dict[str, Any], results: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The peer's percentage errors 12 and 24 months ahead, against placematch's actuals."""
    e = {12: np.full((len(results), 5), np.nan), 24: np.full((len(results), 5), np.nan)}
    for i, (r, o) in enumerate(zip(results, peer["origins"], strict=True)):
        for months in (12, 24):
            if months >= len(r.dates):
                continue
            pred = np.array([o["counts"].get(k, [0.0] * months)[months - 1] for k in PEER_KINDS])
            pred = np.append(pred, pred.sum())
            actual = r.actual[months]
            with np.errstate(divide="ignore", invalid="ignore"):
                e[months][i] = np.where(actual > 0, (pred - actual) / actual * 100.0, np.nan)
    return e[12], e[24]


#: Seeds of the histories drawn from known rates scored together (one history's rolling
#: origins overlap, so one draw says little about calibration).
KNOWN_RATE_SEEDS = (1, 2, 3, 4, 5)


def known_rates_over_seeds() -> dict[str, Any]:
    """Rolling back-tests on several histories drawn from the same known rates.

    placematch only (``"auto"``, the old fixed 1,200 / 36, and ``"auto"`` with
    ``rate_spread = "auto"``): error 12 months ahead and
    P10-P90 cover, pooled over seeds and origins, and the cover of each seed.
    """
    from scenarios.forecast.runner import run_rolling_backtest
    from scenarios.forecast.synthetic import example_rates, generate_returns

    started = time.perf_counter()
    out: dict[str, Any] = {"name": "accuracy_synthetic_known_rates_seeds"}
    for label, auto, spread, recency, band in (
        ("placematch", True, False, False, False),
        ("placematch_fixed_1200_36", False, False, False, False),
        ("placematch_rate_spread_auto", True, True, False, False),
        ("placematch_hazard_recency_auto", True, False, True, False),
        ("placematch_band_calibration_auto", True, False, False, True),
    ):
        totals: list[float] = []
        types: list[float] = []
        cover: list[float] = []
        months: list[int] = []
        per_seed: list[float] = []
        scales: list[float] = []
        for seed in KNOWN_RATE_SEEDS:
            folder = Path(tempfile.mkdtemp(prefix=f"placematch-known-rates-{seed}-"))
            generate_returns(example_rates(), first_year=2018, last_year=2022, seed=seed).write(
                folder
            )
            data = {
                "episodes": [str(folder / "*-episodes.csv")],
                "header": [str(folder / "*-header.csv")],
                "uasc": [str(folder / "*-uasc.csv")],
            }
            rolling = run_rolling_backtest(
                _config(data, auto=auto, spread=spread, recency=recency, band=band), ROOT
            )
            err = np.abs(rolling.errors(12))
            scored = np.isfinite(err[:, -1])
            totals.extend(err[scored, -1].tolist())
            types.extend(np.nanmean(err[scored, :-1], axis=1).tolist())
            for r in rolling.results:
                cover.append(float(r.coverage_p90[-1]))
                months.append(len(r.dates) - 1)
            per_seed.append(round(float(rolling.coverage()[-1]), 3))
            scales.extend(
                round(t.band.scale, 3) for t in rolling.tunings if t is not None and t.band
            )
        weights = np.array(months, dtype=float)
        out[label] = {
            "seeds": list(KNOWN_RATE_SEEDS),
            "origins_scored_12_months": len(totals),
            "mean_absolute_percent_error_total_12_months": _round(float(np.mean(totals))),
            "mean_absolute_percent_error_by_type_12_months": _round(float(np.mean(types))),
            "coverage_p10_p90_total": round(float(np.average(cover, weights=weights)), 3),
            "coverage_p10_p90_total_per_seed": per_seed,
            **({"band_scale_per_origin": scales} if band else {}),
            "origins_with_cover_within_70_90": int(sum(0.7 <= c <= 0.9 for c in cover)),
            "origins": len(cover),
        }
    out["wall_seconds"] = time.perf_counter() - started
    return out


def run_accuracy() -> list[dict[str, Any]]:
    """The accuracy tier's records (see the module docstring)."""
    from scenarios.forecast.runner import run_rolling_backtest, run_stochastic
    from scenarios.forecast.statement import add_months

    python, why_not = peer_python()
    records: list[dict[str, Any]] = []
    for name, data, folder, skipped in _samples():
        if skipped:
            records.append({"name": f"accuracy_{name}", "wall_seconds": 0.0, "skipped": skipped})
            continue
        auto = measure(
            lambda d=data: run_rolling_backtest(_config(d, auto=True), ROOT),
            repeat=1,
            warmup=0,
            memory=False,
        )
        rolling = auto.pop("value")
        fixed = run_rolling_backtest(_config(data, auto=False), ROOT)
        calibrated = run_rolling_backtest(_config(data, auto=True, spread=True), ROOT)
        recent = run_rolling_backtest(_config(data, auto=True, recency=True), ROOT)
        banded = run_rolling_backtest(_config(data, auto=True, band=True), ROOT)
        e12, e24 = rolling.errors(12), rolling.errors(24)
        f12, f24 = fixed.errors(12), fixed.errors(24)
        cover = rolling.coverage()
        record: dict[str, Any] = {
            "name": f"accuracy_{name}",
            **auto,
            "runs": RUNS,
            "origins": [o.isoformat() for o in rolling.origins],
            "chosen": [
                {
                    "at": o.isoformat(),
                    "prior_weight": w,
                    "fit_months": m,
                    "entry_months": t.entry_months if t is not None else None,
                    "averaged": [list(x) for x in t.members] if t is not None else [],
                    "entry_discount": list(r.entry_discount),
                }
                for o, w, m, t, r in zip(
                    rolling.origins,
                    rolling.prior_weights,
                    rolling.fit_months,
                    rolling.tunings,
                    rolling.results,
                    strict=True,
                )
            ],
            "placematch": {
                **_scores(e12, e24),
                "coverage_p10_p90_total": round(float(cover[-1]), 3),
                "coverage_p10_p90_by_type": [round(float(c), 3) for c in cover[:-1]],
                "coverage_p10_p90_total_per_origin": [
                    round(float(r.coverage_p90[-1]), 3) for r in rolling.results
                ],
                "per_origin": _per_origin(rolling.origins, e12, e24),
            },
            "placematch_fixed_1200_36": {
                **_scores(f12, f24),
                "coverage_p10_p90_total": round(float(fixed.coverage()[-1]), 3),
            },
            "placematch_rate_spread_auto": {
                **_scores(calibrated.errors(12), calibrated.errors(24)),
                "coverage_p10_p90_total": round(float(calibrated.coverage()[-1]), 3),
                "coverage_p10_p90_total_per_origin": [
                    round(float(r.coverage_p90[-1]), 3) for r in calibrated.results
                ],
                "rate_spread_per_origin": [
                    t.rate_spread if t is not None else None for t in calibrated.tunings
                ],
                "per_origin": _per_origin(
                    calibrated.origins, calibrated.errors(12), calibrated.errors(24)
                ),
            },
            "placematch_hazard_recency_auto": {
                **_scores(recent.errors(12), recent.errors(24)),
                "coverage_p10_p90_total": round(float(recent.coverage()[-1]), 3),
                "coverage_p10_p90_total_per_origin": [
                    round(float(r.coverage_p90[-1]), 3) for r in recent.results
                ],
                "hazard_discount_per_origin": [list(r.hazard_discount) for r in recent.results],
                "per_origin": _per_origin(recent.origins, recent.errors(12), recent.errors(24)),
            },
            "placematch_band_calibration_auto": {
                **_scores(banded.errors(12), banded.errors(24)),
                "coverage_p10_p90_total": round(float(banded.coverage()[-1]), 3),
                "coverage_p10_p90_by_type": [round(float(c), 3) for c in banded.coverage()[:-1]],
                "coverage_p10_p90_total_per_origin": [
                    round(float(r.coverage_p90[-1]), 3) for r in banded.results
                ],
                "band_calibration_per_origin": [
                    t.band.summary() if t is not None and t.band is not None else None
                    for t in banded.tunings
                ],
            },
        }
        if folder is None:
            record["peer"] = {"skipped": "the peer reads yearly 903 files, not one LA extract"}
        elif python is None:
            record["peer"] = {"skipped": why_not}
        else:
            try:
                peer = run_peer(python, folder, [o.isoformat() for o in rolling.origins], 24)
            except (OSError, subprocess.SubprocessError, ValueError) as exc:
                record["peer"] = {"skipped": f"the peer failed: {exc}"}
            else:
                p12, p24 = _peer_errors(peer, rolling.results)
                ours = np.abs(e12)
                theirs = np.abs(p12)
                scored = np.isfinite(theirs[:, -1])
                record["peer"] = {
                    "package": PEER_PIN,
                    "reference_window_months": PEER_WINDOW_MONTHS,
                    "wall_seconds": round(peer["wall_seconds"], 2),
                    **_scores(p12, p24),
                    "per_origin": _per_origin(rolling.origins, p12, p24),
                }
                record["placematch_lower_12_month_error_total"] = [
                    bool(ours[i, -1] < theirs[i, -1]) for i in np.flatnonzero(scored)
                ]
                record["placematch_lower_12_month_error_by_type"] = [
                    bool(np.nanmean(ours[i, :-1]) < np.nanmean(theirs[i, :-1]))
                    for i in np.flatnonzero(scored)
                ]
        records.append(record)

    records.append(known_rates_over_seeds())

    # Speed: 1,000 runs (defaults chosen from the data) against the peer's one run.
    name, data, folder, skipped = _samples()[-1]
    if skipped:
        name, data, folder, skipped = _samples()[0]
    assert folder is not None
    config = _config(data, auto=True, horizon=12)
    from scenarios.forecast.runner import load_history

    end = load_history(config, ROOT).data_end
    start = add_months(end, -12)
    section = config.forecast.model_copy(update={"start": start})
    config = config.model_copy(update={"forecast": section})
    ours = measure(lambda: run_stochastic(config, ROOT), repeat=3, memory=False)
    ours.pop("value")
    # The same with the reported band calibrated inside the fit (not the default).
    rates = config.rates.model_copy(update={"band_calibration": "auto"})
    banded = measure(
        lambda: run_stochastic(config.model_copy(update={"rates": rates}), ROOT),
        repeat=3,
        memory=False,
    )
    banded.pop("value")
    speed: dict[str, Any] = {
        "name": f"stochastic_{RUNS}_runs_with_auto_defaults_vs_peer_{name}",
        **ours,
        "runs": RUNS,
        "months": 12,
        "start": start.isoformat(),
        "includes": "reading the 903 files, choosing the defaults by back-tests, 1,000 runs",
        "with_band_calibration_auto": {
            k: banded[k] for k in ("wall_seconds", "wall_seconds_min") if k in banded
        },
    }
    if python is None:
        speed["peer"] = {"skipped": why_not}
    else:
        peer = run_peer(python, folder, [start.isoformat()], 12)
        speed["peer"] = {
            "package": PEER_PIN,
            "wall_seconds_process": round(peer["wall_seconds"], 2),
            "load_seconds": round(peer["load_seconds"], 2),
            "predict_seconds": round(peer["origins"][0]["seconds"], 2),
        }
        # Against the peer's own work (reading the files and one run), not its start-up.
        own = peer["load_seconds"] + peer["origins"][0]["seconds"]
        speed["faster_than_peer"] = bool(ours["wall_seconds"] < own)
    records.append(speed)
    return records
