"""The P10-P90 band's calibration: the spread of the rates chosen inside the fit."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from matcher.ssda903 import read_episodes, read_header, read_uasc
from scenarios.forecast.config import ForecastConfigError, load_config
from scenarios.forecast.rates import CareHistory, care_history, census
from scenarios.forecast.report import rolling_json
from scenarios.forecast.runner import run_rolling_backtest, stochastic_setup, what_was_assumed
from scenarios.forecast.stock_flow import SimulationSpec, _draw_rates, expected_path
from scenarios.forecast.tuning import (
    SPREADS,
    calibrate_spread,
    choose_defaults,
    fit_members,
    interval_score,
)

ROOT = Path(__file__).resolve().parents[2]
YEARLY = ROOT / "tests" / "data" / "ssda903" / "yearly"
AT = dt.date(2021, 3, 1)
ORIGIN = dt.date(2020, 3, 1)
MEMBERS = ((300.0, 12, None),)


@cache
def yearly() -> CareHistory:
    return care_history(
        read_episodes(sorted(YEARLY.glob("*-episodes.csv"))),
        read_header(sorted(YEARLY.glob("*-header.csv"))),
        read_uasc(sorted(YEARLY.glob("*-uasc.csv"))),
    )


def test_the_interval_score_is_lowest_for_the_true_percentiles() -> None:
    rng = np.random.default_rng(3)
    y = rng.poisson(40.0, size=200_000).astype(float)
    lo, hi = np.quantile(y, (0.1, 0.9))
    mid = (lo + hi) / 2.0

    def mean_score(width_factor: float) -> float:
        half = (hi - lo) / 2.0 * width_factor
        return float(
            interval_score(np.full_like(y, mid - half), np.full_like(y, mid + half), y).mean()
        )

    true = mean_score(1.0)
    assert true < mean_score(0.6) and true < mean_score(1.6)
    # By hand: inside costs the width; outside adds ten times the distance.
    got = interval_score(np.array([10.0, 10.0]), np.array([20.0, 20.0]), np.array([15.0, 23.0]))
    assert got.tolist() == [10.0, 40.0]


def test_the_spread_multiplies_the_drawn_rates_variance_and_keeps_the_mean() -> None:
    hist = yearly()
    rates = fit_members(hist.truncated(AT), AT, MEMBERS)
    shape, rate = rates.exit_shape, rates.exit_rate
    cell = np.unravel_index(np.argmax(shape), shape.shape)
    mean = shape[cell] / rate[cell]
    var = shape[cell] / rate[cell] ** 2
    for spread in (0.5, 1.0, 4.0):
        drawn = _draw_rates(dataclasses.replace(rates, rate_spread=spread), 40_000, 7, True)
        x = drawn.exit_h[(slice(None), *cell)]
        assert x.mean() == pytest.approx(mean, rel=0.03)
        assert x.var() == pytest.approx(spread * var, rel=0.08)
    # No spread: every run has the posterior means, as without rate uncertainty.
    none = _draw_rates(dataclasses.replace(rates, rate_spread=0.0), 5, 7, True)
    fixed = _draw_rates(rates, 5, 7, False)
    assert np.array_equal(none.exit_h, fixed.exit_h)
    assert np.array_equal(none.entry, fixed.entry)
    with pytest.raises(ValueError, match="rate_spread"):
        dataclasses.replace(rates, rate_spread=-1.0)


def _tested(factor: float) -> list[tuple[CareHistory, dt.date, np.ndarray]]:
    """One origin whose actual counts are the expected path times ``factor``."""
    seen = yearly().truncated(ORIGIN)
    rates = fit_members(seen, ORIGIN, MEMBERS)
    path = expected_path(rates, census(seen, ORIGIN), SimulationSpec(ORIGIN, 12, "month", 1, 0))
    return [(seen, ORIGIN, np.round(path[1:] * factor))]


def test_the_calibration_narrows_a_band_the_data_follow_and_widens_one_they_leave() -> None:
    # The actual on the expected path: the narrowest band (events only) scores best.
    spread, scores = calibrate_spread(_tested(1.0), 12, MEMBERS)
    assert spread == 0.0
    assert [s for s, _ in scores] == list(SPREADS)
    # The actual 40% above it: the widest band scores best.
    wide, wide_scores = calibrate_spread(_tested(1.4), 12, MEMBERS)
    assert wide == max(SPREADS)
    assert min(v for _, v in wide_scores) == dict(wide_scores)[wide]


def test_the_chosen_spread_is_recorded_and_used(tmp_path: Path) -> None:
    hist = yearly()
    tuning = choose_defaults(hist, AT, calibrate=True)
    assert tuning.rate_spread in SPREADS
    assert [s for s, _ in tuning.spread_scores] == list(SPREADS)
    best = min(tuning.spread_scores, key=lambda p: p[1])
    assert tuning.rate_spread == best[0]
    assert f"x{tuning.rate_spread:g}" in tuning.reason
    # The same data give the same choice; without calibration the spread stays 1.
    assert choose_defaults(hist, AT, calibrate=True).spread_scores == tuning.spread_scores
    off = choose_defaults(hist, AT)
    assert off.rate_spread == 1.0 and off.spread_scores == ()
    assert off.scores == tuning.scores and off.members == tuning.members

    # The forecast's runs use it when asked; by default they use the posteriors as fitted.
    def config(spread: str) -> Path:
        path = tmp_path / "yearly.toml"
        path.write_text(
            f"""
[forecast]
mode = "stochastic"
start = {AT.isoformat()}
horizon_months = 12
runs = 40
seed = 5
[data]
episodes = ["{YEARLY}/*-episodes.csv"]
header = ["{YEARLY}/*-header.csv"]
uasc = ["{YEARLY}/*-uasc.csv"]
[rates]
{spread}
""",
            encoding="utf-8",
        )
        return path

    setup = stochastic_setup(load_config(config('rate_spread = "auto"')), tmp_path)
    assert setup.tuning is not None
    assert setup.rates.rate_spread == setup.tuning.rate_spread == tuning.rate_spread
    rows = dict(what_was_assumed(setup, load_config(config('rate_spread = "auto"'))))
    assert rows["spread of the rates in the runs"].startswith(f"x{tuning.rate_spread:g}")
    default = stochastic_setup(load_config(config("")), tmp_path)
    assert default.rates.rate_spread == 1.0 and default.tuning is not None
    assert default.tuning.spread_scores == ()
    given = stochastic_setup(load_config(config("rate_spread = 0.5")), tmp_path)
    assert given.rates.rate_spread == 0.5
    with pytest.raises(ForecastConfigError, match=r"rates\.rate_spread"):
        load_config(config("rate_spread = -1"))
    # A rolling back-test chooses it at each origin and its JSON says which.
    rolling = run_rolling_backtest(load_config(config('rate_spread = "auto"')), tmp_path)
    spreads = [o.get("rate_spread") for o in rolling_json(rolling)["origins"]]
    assert spreads == [t.rate_spread if t is not None else None for t in rolling.tunings]
    assert all(x in SPREADS for x in spreads)
    plain = run_rolling_backtest(load_config(config("")), tmp_path)
    assert all("rate_spread" not in o for o in rolling_json(plain)["origins"])
