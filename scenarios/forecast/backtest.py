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
from scenarios.forecast.tuning import Tuning, fit_members


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
    coverage_p90 : numpy.ndarray
        ``(group + total,)`` share inside P10-P90, the 80 % band the rolling back-tests
        score (a calibrated band holds about 80 % of the months).
    entry_discount : tuple[float, ...]
        The local level of entries' discount by stream (1: one level for the window).
    hazard_discount : tuple[float, float]
        The recency discounts of exit and of move hazards (1: every month of the window
        the same; below 1 only with ``rates.hazard_recency = "auto"``).
    """

    at: dt.date
    dates: tuple[dt.date, ...]
    actual: np.ndarray = field(repr=False)
    naive: np.ndarray = field(repr=False)
    forecast: StochasticForecast = field(repr=False)
    model_errors: Errors = field(repr=False)
    naive_errors: Errors = field(repr=False)
    coverage: np.ndarray = field(repr=False)
    coverage_p90: np.ndarray = field(repr=False)
    entry_discount: tuple[float, ...] = (1.0, 1.0)
    hazard_discount: tuple[float, float] = (1.0, 1.0)

    def error_at(self, months: int) -> np.ndarray | None:
        """Signed error of the median ``months`` after the cut-off, in per cent of the
        actual ``(group + total,)`` (NaN where none were in care); ``None`` if the data
        end sooner."""
        if months >= len(self.dates):
            return None
        median = self.forecast.quantile_counts((0.5,))[0][months]
        actual = self.actual[months]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(actual > 0, (median - actual) / actual * 100.0, np.nan)


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
    notes: tuple[str, ...] = (),
    entry_months: int | None = None,
    members: tuple[tuple[float, int, int | None], ...] = (),
    rate_spread: float = 1.0,
    hazard_recency: str = "none",
    band_scale: float = 1.0,
) -> BacktestResult:
    """Fit on the data known at ``at``, forecast to the end of the data, and score it.

    ``spec.start`` is replaced by ``at``; the horizon is cut to the months the data cover.
    ``entry_months``: fit the level of entries on the last months only (see
    :func:`scenarios.forecast.rates.estimate_rates`). ``members``: average the rates of
    several ``(prior_weight, fit_months, entry_months)`` instead (see
    :func:`scenarios.forecast.tuning.fit_members`). ``rate_spread``: the multiplier of the
    rates' posterior variances in the runs (see :class:`scenarios.forecast.rates.FlowRates`).
    ``hazard_recency``: ``"auto"`` weights recent months more for exit and move hazards
    (see :func:`scenarios.forecast.rates.estimate_rates`). ``band_scale``: the reported
    band's calibration (:attr:`StochasticForecast.band_scale`), which the coverage scores.
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
    if fit_from < first:
        fit_from = first
        notes = (
            *notes,
            f"data.fit_months: the data are complete from {first}, so the rates are "
            "fitted from there",
        )
    if len(members) > 1:
        fitted = fit_members(
            known,
            at,
            members,
            entry_trend=entry_trend,
            max_trend_percent=max_trend_percent,
            seasonality=seasonality,
            hazard_recency=hazard_recency,
        )
    else:
        fitted = estimate_rates(
            observe(known, fit_from, at),
            prior_weight=prior_weight,
            entry_trend=entry_trend,
            max_trend_percent=max_trend_percent,
            seasonality=seasonality,
            hazard_recency=hazard_recency,
            entry_months=entry_months,
        )
    rates = fitted.scaled(entries=multipliers[0], uasc=multipliers[1], exits=multipliers[2])
    rates = replace(rates, notes=(*history.notes, *notes, *rates.notes), rate_spread=rate_spread)
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
    forecast = replace(
        simulate(rates, population, run_spec, progress=progress), band_scale=band_scale
    )
    dates = forecast.dates
    actual = _with_total(stock_series(history, list(dates)).astype(float))
    past = month_starts(max(add_months(at, -(naive_months - 1)), first), at)
    naive = _with_total(naive_trend(stock_series(known, past), months))
    q = forecast.quantile_counts((0.1, 0.5, 0.9, 0.95))
    median = q[1]
    inside = (actual[1:] >= q[0][1:]) & (actual[1:] <= q[3][1:])
    inside_p90 = (actual[1:] >= q[0][1:]) & (actual[1:] <= q[2][1:])
    return BacktestResult(
        at,
        dates,
        actual,
        naive,
        forecast,
        _errors(median, actual),
        _errors(naive, actual),
        inside.mean(axis=0),
        inside_p90.mean(axis=0),
        tuple(float(d) for d in rates.entry_discount),
        (float(rates.exit_discount), float(rates.move_discount)),
    )


@dataclass(frozen=True, slots=True)
class RollingBacktest:
    """Back-tests at rolling origins, scored one and two years ahead.

    Attributes
    ----------
    results : tuple[BacktestResult, ...]
        One per origin, oldest first.
    prior_weights, fit_months : tuple
        The values used at each origin (chosen there when ``"auto"``).
    every_months : int
        Months between origins.
    tunings : tuple[Tuning or None, ...]
        How the ``"auto"`` settings were chosen at each origin (``None`` where none was;
        empty: not recorded).
    """

    results: tuple[BacktestResult, ...] = field(repr=False)
    prior_weights: tuple[float, ...]
    fit_months: tuple[int, ...]
    every_months: int = 6
    tunings: tuple[Tuning | None, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.results:
            raise ValueError("a rolling back-test needs at least one origin")
        if not len(self.results) == len(self.prior_weights) == len(self.fit_months):
            raise ValueError("one prior weight and fitting window per origin")
        if self.tunings and len(self.tunings) != len(self.results):
            raise ValueError("one tuning (or None) per origin")

    @property
    def origins(self) -> tuple[dt.date, ...]:
        """The cut-offs, oldest first."""
        return tuple(r.at for r in self.results)

    def errors(self, months: int) -> np.ndarray:
        """``(origin, group + total)`` signed percentage errors ``months`` ahead (NaN where
        the data end sooner or none were in care)."""
        width = len(GROUPS) + 1
        rows = [r.error_at(months) for r in self.results]
        return np.array([row if row is not None else np.full(width, np.nan) for row in rows])

    def mean_absolute_error(self, months: int) -> tuple[float, float, int]:
        """Mean absolute percentage error ``months`` ahead on the total, the mean of it by
        placement group, and the number of origins scored."""
        err = np.abs(self.errors(months))
        scored = np.isfinite(err[:, -1])
        if not scored.any():
            return float("nan"), float("nan"), 0
        by_group = np.nanmean(err[scored, :-1], axis=0)
        return (
            float(err[scored, -1].mean()),
            float(np.nanmean(by_group)),
            int(scored.sum()),
        )

    def coverage(self) -> np.ndarray:
        """``(group + total,)`` share of test months inside P10-P90, over every origin."""
        months = np.array([len(r.dates) - 1 for r in self.results], dtype=float)
        cover = np.array([r.coverage_p90 for r in self.results])
        return (cover * months[:, None]).sum(axis=0) / months.sum()


def rolling_origins(
    first: dt.date,
    last: dt.date,
    *,
    every_months: int = 6,
    min_fit_months: int = 12,
    min_test_months: int = 12,
) -> tuple[dt.date, ...]:
    """Cut-offs every ``every_months`` back from ``min_test_months`` before ``last``, each
    with at least ``min_fit_months`` complete months before it; oldest first."""
    if every_months < 1:
        raise ValueError("every_months must be at least 1")
    out: list[dt.date] = []
    o = add_months(last, -min_test_months)
    while add_months(o, -min_fit_months) >= first:
        out.append(o)
        o = add_months(o, -every_months)
    return tuple(reversed(out))


__all__ = [
    "GROUPS",
    "BacktestResult",
    "Errors",
    "RollingBacktest",
    "backtest",
    "naive_trend",
    "rolling_origins",
]
