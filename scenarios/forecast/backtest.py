"""Back-tests: fit on the data up to a date, forecast the rest, compare with what happened.

The stochastic forecast's median is scored against the children actually in each group
at each month start after the cut-off, and so is a naive forecast: a straight line fitted
to the last ``naive_months`` month-start counts of each group and continued from the count
at the cut-off. Coverage is the share of actual counts inside the P10-P95 band.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np

from scenarios.forecast.rates import (
    GROUPS,
    CareHistory,
    census,
    estimate_rates,
    month_starts,
    observe,
    stock_series,
)
from scenarios.forecast.statement import add_months, months_between
from scenarios.forecast.stock_flow import Progress, SimulationSpec, StochasticForecast, simulate


@dataclass(frozen=True, slots=True)
class Errors:
    """Forecast errors over the test months, by group and for the total.

    Attributes
    ----------
    mae : numpy.ndarray
        Mean absolute error ``(group + total,)`` in children.
    mape : numpy.ndarray
        Mean absolute percentage error (months with no children are skipped; NaN if none).
    end_error : numpy.ndarray
        Forecast less actual at the last test month.
    """

    mae: np.ndarray
    mape: np.ndarray
    end_error: np.ndarray


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """A back-test.

    Attributes
    ----------
    at : datetime.date
        Data after this date were hidden from the fit.
    dates : tuple[datetime.date, ...]
        The cut-off and each month after it up to the end of the data (or the horizon).
    actual : numpy.ndarray
        ``(dates, group + total)`` what happened.
    naive : numpy.ndarray
        ``(dates, group + total)`` the straight-line forecast.
    forecast : StochasticForecast
    model_errors, naive_errors : Errors
    coverage : numpy.ndarray
        ``(group + total,)`` share of actual counts inside P10-P95 (test months only).
    """

    at: dt.date
    dates: tuple[dt.date, ...]
    actual: np.ndarray = field(repr=False)
    naive: np.ndarray = field(repr=False)
    forecast: StochasticForecast = field(repr=False)
    model_errors: Errors = field(repr=False)
    naive_errors: Errors = field(repr=False)
    coverage: np.ndarray = field(repr=False)


def _with_total(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, x.sum(axis=1, keepdims=True)], axis=1)


def _errors(pred: np.ndarray, actual: np.ndarray) -> Errors:
    diff = pred[1:] - actual[1:]
    mae = np.abs(diff).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(actual[1:] > 0, np.abs(diff) / actual[1:], np.nan)
    mape = np.array(
        [
            float(np.nanmean(pct[:, j])) * 100.0 if np.isfinite(pct[:, j]).any() else np.nan
            for j in range(pct.shape[1])
        ]
    )
    return Errors(mae, mape, diff[-1])


def naive_trend(history: np.ndarray, steps: int) -> np.ndarray:
    """Straight lines through each column of ``history`` (oldest first), continued from its
    last row for ``steps`` months; never below zero. Returns ``(steps + 1, columns)``."""
    x = np.arange(len(history), dtype=float)
    out = np.empty((steps + 1, history.shape[1]))
    for j in range(history.shape[1]):
        slope = float(np.polyfit(x, history[:, j].astype(float), 1)[0]) if len(x) > 1 else 0.0
        out[:, j] = history[-1, j] + slope * np.arange(steps + 1)
    return np.maximum(out, 0.0)


def backtest(
    history: CareHistory,
    at: dt.date,
    spec: SimulationSpec,
    *,
    fit_months: int = 36,
    naive_months: int = 12,
    prior_weight: float = 1200.0,
    entry_trend: str | float = "none",
    max_trend_percent: float = 25.0,
    seasonality: bool = True,
    multipliers: tuple[float, float, float] = (1.0, 1.0, 1.0),
    progress: Progress | None = None,
) -> BacktestResult:
    """Fit on the data known at ``at``, forecast to the end of the data, and score it.

    ``spec.start`` is replaced by ``at``; the horizon is cut to the months the data cover.
    """
    at = dt.date(at.year, at.month, 1)
    last = history.data_end
    months = min(spec.horizon_months, months_between(at, last))
    if months < 1:
        raise ValueError(
            f"backtest.at {at} leaves no month to test: the data end at {history.data_end}"
        )
    first = history.first_month
    if at <= first:
        raise ValueError(
            f"backtest.at {at} leaves no month to fit on: the data are complete from {first}; "
            f"cut off in {add_months(first, 1)} or later"
        )
    known = history.truncated(at)
    # Before the data's first complete month only survivors are seen (see CareHistory).
    fit_from = add_months(at, -fit_months)
    notes: tuple[str, ...] = ()
    if fit_from < first:
        fit_from = first
        notes = (
            f"data.fit_months: the data are complete from {first}, so the rates are "
            "fitted from there",
        )
    obs = observe(known, fit_from, at)
    rates = estimate_rates(
        obs,
        prior_weight=prior_weight,
        entry_trend=entry_trend,
        max_trend_percent=max_trend_percent,
        seasonality=seasonality,
    ).scaled(entries=multipliers[0], uasc=multipliers[1], exits=multipliers[2])
    rates = replace(rates, notes=(*history.notes, *notes, *rates.notes))
    population = census(known, at)
    run_spec = SimulationSpec(
        at,
        months,
        "month",
        spec.runs,
        spec.seed,
        spec.rate_uncertainty,
        spec.service_level,
        spec.quantiles,
    )
    forecast = simulate(rates, population, run_spec, progress=progress)
    dates = forecast.dates
    actual = _with_total(stock_series(history, list(dates)).astype(float))
    past = month_starts(max(add_months(at, -(naive_months - 1)), first), at)
    naive = _with_total(naive_trend(stock_series(known, past), months))
    q = forecast.quantile_counts((0.1, 0.5, 0.95))
    median = q[1]
    inside = (actual[1:] >= q[0][1:]) & (actual[1:] <= q[2][1:])
    return BacktestResult(
        at,
        dates,
        actual,
        naive,
        forecast,
        _errors(median, actual),
        _errors(naive, actual),
        inside.mean(axis=0),
    )


__all__ = ["GROUPS", "BacktestResult", "Errors", "backtest", "naive_trend"]
