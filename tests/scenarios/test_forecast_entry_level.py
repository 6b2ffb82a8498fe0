"""The level of entries as a local level: a step change is followed, a steady level kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from matcher.ssda903 import read_episodes, read_header, read_uasc
from scenarios.forecast.rates import (
    CareHistory,
    FlowRates,
    care_history,
    census,
    estimate_rates,
    local_entry_level,
    observe,
)
from scenarios.forecast.statement import add_months
from scenarios.forecast.stock_flow import SimulationSpec, expected_path, simulate
from scenarios.forecast.synthetic import example_rates, generate_returns

AT = dt.date(2021, 3, 1)
CHANGE = dt.date(2019, 10, 1)


def _read(folder: Path) -> CareHistory:
    return care_history(
        read_episodes(sorted(folder.glob("*-episodes.csv"))),
        read_header(sorted(folder.glob("*-header.csv"))),
        read_uasc(sorted(folder.glob("*-uasc.csv"))),
    )


def _history(tmp: Path, factor: float | None, seed: int = 1) -> CareHistory:
    change = None if factor is None else (CHANGE, factor)
    generate_returns(
        example_rates(),
        first_year=2018,
        last_year=2021,
        seed=seed,
        burn_in_years=6,
        entry_change=change,
    ).write(tmp)
    return _read(tmp)


def _fit(hist: CareHistory, level: str = "local") -> FlowRates:
    known = hist.truncated(AT)
    obs = observe(known, max(add_months(AT, -36), known.first_month), AT)
    return estimate_rates(obs, prior_weight=30.0, entry_level=level)


def test_a_step_change_in_entries_is_followed(tmp_path: Path) -> None:
    """Entries fall to 40 % of their rate 17 months before the start: the local level
    finds the new level within its own uncertainty; one level for the window does not."""
    hist = _history(tmp_path, 0.4)
    local = _fit(hist)
    window = _fit(hist, "window")
    new_level = 0.4 * example_rates().entries_a_month[0]
    mean = float(local.entries_per_month[0].sum())
    shape = float(local.entry_shape[0].sum())
    sd = mean / np.sqrt(shape)
    assert local.entry_discount[0] < 1.0
    assert abs(mean - new_level) < 2.5 * sd
    old = float(window.entries_per_month[0].sum())
    assert abs(old - new_level) > 2.5 * sd
    with pytest.raises(ValueError, match="entry_change"):
        generate_returns(
            example_rates(), first_year=2018, last_year=2018, seed=1, entry_change=(CHANGE, -1.0)
        )


def test_a_steady_level_is_the_whole_windows(tmp_path: Path) -> None:
    hist = _history(tmp_path, None)
    local = _fit(hist)
    window = _fit(hist, "window")
    assert local.entry_discount.tolist() == [1.0, 1.0]
    np.testing.assert_allclose(
        local.entries_per_month,
        window.entries_per_month,
        rtol=0.05,
    )


def test_the_discount_is_chosen_by_one_step_ahead_forecasts() -> None:
    steady = np.full(30, 5.0)
    ones = np.ones(30)
    level = local_entry_level(steady, ones, 2.0, 1.0)
    # Discount 1: the prior plus every month, as one level for the window.
    assert level.discount == 1.0
    assert (level.shape, level.rate) == (2.0 + 150.0, 1.0 + 30.0)
    assert len(level.log_scores) == 7 and level.log_scores[0] == max(level.log_scores)
    step = np.r_[np.full(18, 12.0), np.full(12, 3.0)]
    moved = local_entry_level(step, ones, 2.0, 1.0)
    assert moved.discount < 1.0
    assert abs(moved.shape / moved.rate - 3.0) < abs(step.mean() - 3.0) / 4
    # Only the months in the window count: a longer past with the same recent months
    # and discount 1 would not change the choice's inputs.
    with pytest.raises(ValueError, match="exposures positive"):
        local_entry_level(steady, np.zeros(30), 2.0, 1.0)
    with pytest.raises(ValueError, match="discounts"):
        local_entry_level(steady, ones, 2.0, 1.0, discounts=(1.5,))


def test_a_local_level_widens_the_band_and_keeps_the_expected_path(tmp_path: Path) -> None:
    """The level moves on after the window in each run: the band of the total widens with
    the horizon, the deterministic twin (the mean) is unchanged, and the same seed gives
    the same runs."""
    hist = _history(tmp_path, 0.4)
    rates = _fit(hist)
    fixed = dataclasses.replace(rates, entry_discount=np.ones(2))
    pop = census(hist, AT)
    spec = SimulationSpec(AT, 24, runs=400, seed=5)
    moving = simulate(rates, pop, spec)
    still = simulate(fixed, pop, spec)
    width = np.subtract(*np.percentile(moving.totals[:, -1], [90, 10]))
    still_width = np.subtract(*np.percentile(still.totals[:, -1], [90, 10]))
    assert width > 1.1 * still_width
    np.testing.assert_array_equal(expected_path(rates, pop, spec), expected_path(fixed, pop, spec))
    np.testing.assert_array_equal(simulate(rates, pop, spec).counts, moving.counts)


def test_the_level_spreads_linearly_with_the_horizon(tmp_path: Path) -> None:
    """After the window the level's evolution variance stays at its first month's (West and
    Harrison's k-step-ahead forecasts): ``t`` months on, its squared coefficient of variation
    is ``(1 + t (1 - d) / d) / a``, not ``1 / (d^t a)``, which with ``d = 0.7`` reached the
    floor of 100 % within a year. The first month is the same either way; the mean is kept."""
    from scenarios.forecast.stock_flow import _level_paths

    rates = dataclasses.replace(_fit(_history(tmp_path, None)), entry_discount=np.array([0.7, 1.0]))
    d = 0.7
    a = float(rates.entry_shape[0].sum())
    dates = tuple(add_months(AT, m) for m in range(25))
    paths = _level_paths(rates, dates, 40_000, 3, True)
    assert paths is not None
    np.testing.assert_array_equal(paths[:, :, 1], 1.0)  # a discount of 1 does not move
    months = np.diff([x.toordinal() for x in dates]) / (365.25 / 12)
    elapsed = np.cumsum(months)
    for step in (0, 11, 23):
        shape = max(a / (1.0 + elapsed[step] * (1.0 - d) / d), 1.0)
        # base level ~ Gamma(a) times the multiplier ~ Gamma(shape): the multiplier's CV^2
        expected = (1.0 + 1.0 / shape) / (1.0 + 1.0 / a) - 1.0
        level = paths[:, step, 0]
        assert abs(level.mean() - 1.0) < 0.02
        assert level.var() == pytest.approx(expected, rel=0.1)
    # a year on, the compounded discount would have put the level at the floor (CV 100 %)
    compounded = (1.0 + 1.0 / max(a * d**12, 1.0)) / (1.0 + 1.0 / a) - 1.0
    assert paths[:, 11, 0].var() < 0.5 * compounded
