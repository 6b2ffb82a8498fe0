"""The reported band's calibration from in-fit back-tests (``band_calibration = "auto"``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from matcher.ssda903 import read_episodes, read_header, read_uasc
from scenarios.forecast.config import ForecastConfigError, load_config
from scenarios.forecast.rates import CareHistory, care_history, census, observe
from scenarios.forecast.report import rolling_json, stochastic_json
from scenarios.forecast.runner import run_rolling_backtest, run_stochastic, stochastic_setup
from scenarios.forecast.statement import months_between
from scenarios.forecast.stock_flow import SimulationSpec, simulate
from scenarios.forecast.synthetic import example_rates, generate_returns
from scenarios.forecast.tuning import (
    BAND_PRIOR_ORIGINS,
    band_distances,
    band_scale,
    calibrate_band_at,
    choose_defaults,
    fit_members,
)

ROOT = Path(__file__).resolve().parents[2]
YEARLY = ROOT / "tests" / "data" / "ssda903" / "yearly"
AT = dt.date(2021, 3, 1)


@cache
def yearly() -> CareHistory:
    return care_history(
        read_episodes(sorted(YEARLY.glob("*-episodes.csv"))),
        read_header(sorted(YEARLY.glob("*-header.csv"))),
        read_uasc(sorted(YEARLY.glob("*-uasc.csv"))),
    )


@cache
def known_history(tmp: str) -> CareHistory:
    """Three yearly returns drawn from known rates: the model is the process."""
    folder = Path(tmp)
    generate_returns(example_rates(), first_year=2019, last_year=2021, seed=7).write(folder)
    return care_history(
        read_episodes(sorted(folder.glob("*-episodes.csv"))),
        read_header(sorted(folder.glob("*-header.csv"))),
        read_uasc(sorted(folder.glob("*-uasc.csv"))),
    )


def _cover(d: np.ndarray, scale: float) -> float:
    return float((d <= scale).mean())


def test_under_dispersed_actuals_get_a_narrower_band_that_holds_80_percent() -> None:
    rng = np.random.default_rng(11)
    runs = rng.poisson(40.0, size=(400, 36, 5)).astype(float)
    # Actuals with half the runs' spread (under-dispersed against Poisson counts).
    quiet = 40.0 + rng.normal(0.0, np.sqrt(40.0) / 2.0, size=(36, 5))
    d = band_distances(runs, quiet)
    assert _cover(d, 1.0) > 0.95  # the band as drawn holds nearly all of them
    shrunk, raw = band_scale(d, 3)
    assert 0.4 < raw < 0.65
    assert _cover(d, raw) == pytest.approx(0.8, abs=0.02)
    # Three origins move it 3 / (3 + 2) of the way (on a log scale) from 1.
    assert shrunk == pytest.approx(raw ** (3 / (3 + BAND_PRIOR_ORIGINS)))
    assert raw < shrunk < 1.0
    # With unlimited evidence it is the raw scale; with none, 1.
    assert band_scale(d, 3, prior_origins=0.0)[0] == pytest.approx(raw)
    assert band_scale(d, 0) == (1.0, 1.0)


def test_poisson_actuals_keep_the_band_and_wild_ones_widen_it() -> None:
    rng = np.random.default_rng(12)
    runs = rng.poisson(40.0, size=(400, 36, 5)).astype(float)
    same = rng.poisson(40.0, size=(36, 5)).astype(float)
    jitter = rng.uniform(-0.5, 0.5, size=runs.shape)
    d = band_distances(runs + jitter, same + rng.uniform(-0.5, 0.5, size=same.shape))
    _, raw = band_scale(d, 3)
    assert raw == pytest.approx(1.0, abs=0.15)
    wild = 40.0 + rng.normal(0.0, 2.0 * np.sqrt(40.0), size=(36, 5))
    _, wide = band_scale(band_distances(runs, wild), 3)
    assert wide > 1.6


def test_the_distance_is_in_the_band_half_on_the_actual_side() -> None:
    # Runs 0..100: median 50, P10 10, P90 90 (inverted_cdf on 101 values).
    runs = np.arange(101, dtype=float)[:, None]
    actual = np.array([[50.0, 90.0, 30.0, 130.0]])
    got = band_distances(np.repeat(runs, 4, axis=1)[:, None, :], actual)
    assert got.ravel().tolist() == pytest.approx([0.0, 1.0, 0.5, 2.0])


def test_the_scale_moves_every_reported_quantile_but_the_median() -> None:
    hist = yearly()
    rates = fit_members(hist.truncated(AT), AT, ((300.0, 12, None),))
    spec = SimulationSpec(AT, 12, "month", 200, 3, True)
    drawn = simulate(rates, census(hist, AT), spec)
    half = dataclasses.replace(drawn, band_scale=0.5)
    raw = drawn.quantile_counts((0.1, 0.5, 0.8, 0.95))
    got = half.quantile_counts((0.1, 0.5, 0.8, 0.95))
    assert np.array_equal(got[1], raw[1])  # the median is not moved
    assert np.allclose(got - raw[1], 0.5 * (raw - raw[1]))
    assert np.array_equal(half.counts, drawn.counts)  # the runs are not changed
    # The places needed are the calibrated service level's quantile.
    end_median = raw[1, -1, :4]
    end_p80 = raw[2, -1, :4]
    expected = np.ceil(end_median + 0.5 * (end_p80 - end_median)).astype(int).tolist()
    assert list(half.places_needed(0.8).values()) == expected
    # A wider band never goes below no children.
    assert (dataclasses.replace(drawn, band_scale=4.0).quantile_counts() >= 0).all()
    with pytest.raises(ValueError, match="band_scale"):
        dataclasses.replace(drawn, band_scale=0.0)


def _tested(
    hist: CareHistory, at: dt.date
) -> tuple[list[tuple[CareHistory, dt.date, np.ndarray]], int]:
    base = choose_defaults(hist, at)
    known = hist.truncated(at)
    first = base.origins[-1]
    stock = observe(known, first, at).stock.astype(float)
    h = base.horizon_months
    return [
        (
            known.truncated(o),
            o,
            stock[months_between(first, o) + 1 : months_between(first, o) + h + 1],
        )
        for o in base.origins
    ], h


def test_a_band_drawn_too_wide_is_narrowed_and_the_true_model_keeps_it(tmp_path: Path) -> None:
    hist = known_history(str(tmp_path))
    tested, horizon = _tested(hist, AT)
    assert len(tested) == 3
    # The runs' rates spread 25 times their posteriors' variance: far too wide a band.
    wide = calibrate_band_at(tested, horizon, rate_spread=25.0, runs=100)
    assert wide.origins == 3 and wide.months == 3 * horizon
    assert wide.scale < 0.75 and wide.raw < wide.scale
    assert wide.cover_before == 1.0 and wide.cover_after < wide.cover_before
    # The posteriors as fitted, on a history drawn from the model itself: about 1.
    right = calibrate_band_at(tested, horizon, runs=100)
    assert 0.8 < right.scale < 1.25
    assert right.scale > wide.scale
    # The same data give the same scale.
    assert calibrate_band_at(tested, horizon, rate_spread=25.0, runs=100) == wide


def test_band_calibration_auto_is_chosen_shown_and_used(tmp_path: Path) -> None:
    def config(extra: str) -> Path:
        path = tmp_path / "yearly.toml"
        path.write_text(
            f"""
[forecast]
mode = "stochastic"
start = {AT.isoformat()}
horizon_months = 12
runs = 60
seed = 5
[data]
episodes = ["{YEARLY}/*-episodes.csv"]
header = ["{YEARLY}/*-header.csv"]
uasc = ["{YEARLY}/*-uasc.csv"]
[rates]
{extra}
""",
            encoding="utf-8",
        )
        return path

    auto = load_config(config('band_calibration = "auto"'))
    setup = stochastic_setup(auto, tmp_path)
    assert setup.tuning is not None and setup.tuning.band is not None
    band = setup.tuning.band
    assert band.origins >= 1 and band.scale != 1.0
    # The forecast reports the runs' band scaled around their median, and says so.
    result = run_stochastic(auto, tmp_path)
    plain = run_stochastic(load_config(config("")), tmp_path)
    assert result.band_scale == band.scale and plain.band_scale == 1.0
    assert np.array_equal(result.counts, plain.counts)
    q, p = result.quantile_counts(), plain.quantile_counts()
    assert np.array_equal(q[1], p[1])
    assert np.allclose(q[0], np.maximum(p[1] + band.scale * (p[0] - p[1]), 0.0))
    rows = dict(result.assumed)
    assert rows["P10-P90 band"].startswith(f"the P10-P90 band x{band.scale:.2f}")
    assert "P10-P90 band" not in dict(plain.assumed)
    assert f"x{band.scale:.2f}" in stochastic_json(result)["notes"][0]
    # A rolling back-test calibrates at each origin and its JSON records it.
    rolling = run_rolling_backtest(auto, tmp_path)
    keys = [o.get("band_calibration") for o in rolling_json(rolling)["origins"]]
    assert keys == [
        t.band.summary() if t is not None and t.band is not None else None for t in rolling.tunings
    ]
    assert all(k is not None for k in keys)
    for r, t in zip(rolling.results, rolling.tunings, strict=True):
        assert t is not None and r.forecast.band_scale == t.band_scale
    # The back-tests' runs are drawn as the forecast's: a given spread of the rates reaches them.
    wide = stochastic_setup(
        load_config(config('band_calibration = "auto"\nrate_spread = 25')), tmp_path
    )
    assert wide.tuning is not None and wide.tuning.band is not None
    assert wide.tuning.band.scale < band.scale
    with pytest.raises(ForecastConfigError, match=r"rates\.band_calibration"):
        load_config(config('band_calibration = "yes"'))
