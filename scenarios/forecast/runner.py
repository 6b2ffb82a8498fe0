"""From a validated configuration file to a forecast: the glue the CLI and benchmarks use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from matcher.ssda903 import read_episodes, read_header, read_uasc
from scenarios.forecast.backtest import BacktestResult, backtest
from scenarios.forecast.config import (
    ForecastConfigError,
    ForecastFile,
    horizon_of,
    resolve_paths,
    statement_spec,
)
from scenarios.forecast.rates import (
    CareHistory,
    FlowRates,
    Population,
    care_history,
    census,
    estimate_rates,
    observe,
    stock_series,
)
from scenarios.forecast.statement import StatementForecast, add_months, forecast_statement
from scenarios.forecast.stock_flow import (
    Progress,
    SimulationSpec,
    StochasticForecast,
    expected_forecast,
    simulate,
)


def recorded_counts(
    history: CareHistory, end: dt.date, *, months: int = 24
) -> tuple[tuple[dt.date, ...], np.ndarray]:
    """Children in care by group (and in all, last column) at each month start, for up to
    ``months`` months to ``end``: the history a fan chart draws before its forecast.

    Months before the data's first complete month are left out (only the children still in
    care at the first return are seen there).
    """
    first = max(history.first_month, add_months(_month(end), -months))
    dates: list[dt.date] = []
    day = first
    while day <= end:
        dates.append(day)
        day = add_months(day, 1)
    if not dates:
        return (), np.zeros((0, 0))
    counts = stock_series(history, dates).astype(float)
    return tuple(dates), np.concatenate([counts, counts.sum(axis=1, keepdims=True)], axis=1)


def run_statement(config: ForecastFile, *, source: str = "<config>") -> StatementForecast:
    """Run a statement-mode configuration."""
    return forecast_statement(statement_spec(config, source=source))


def load_history(config: ForecastFile, base: Path, *, source: str = "<config>") -> CareHistory:
    """Read the configuration's 903 files and join them into periods of care."""
    data = config.data
    if data is None:
        raise ForecastConfigError(f"{source}: data: this mode needs a [data] table")
    episodes = read_episodes(resolve_paths(data.episodes, base, key="data.episodes", source=source))
    header = read_header(resolve_paths(data.header, base, key="data.header", source=source))
    uasc = (
        read_uasc(resolve_paths(data.uasc, base, key="data.uasc", source=source))
        if data.uasc
        else None
    )
    try:
        return care_history(episodes, header, uasc, la=data.la)
    except LookupError as exc:  # the authority is not in the extract
        raise ForecastConfigError(f"{source}: data.la: {exc}") from None
    except ValueError as exc:
        raise ForecastConfigError(f"{source}: data: {exc}") from None


@dataclass(frozen=True, slots=True)
class StochasticSetup:
    """Everything a stochastic run needs, fitted and validated."""

    history: CareHistory = field(repr=False)
    rates: FlowRates = field(repr=False)
    population: Population = field(repr=False)
    spec: SimulationSpec


def _month(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, 1)


def fit_window_start(fit_from: dt.date, first: dt.date, *, key: str) -> tuple[dt.date, list[str]]:
    """``fit_from`` moved up to ``first`` (the data's first complete month), with a note.

    Months before the first return hold only the children still in care at its start, so
    fitting on them would undercount entries and exits.
    """
    if fit_from >= first:
        return fit_from, []
    return first, [f"{key}: the data are complete from {first}, so the rates are fitted from there"]


def stochastic_setup(
    config: ForecastFile,
    base: Path,
    *,
    source: str = "<config>",
    history: CareHistory | None = None,
    runs: int | None = None,
    seed: int | None = None,
) -> StochasticSetup:
    """Fit rates on the configured window and take the census at the start."""
    f = config.forecast
    data = config.data
    assert data is not None
    hist = history or load_history(config, base, source=source)
    start = _month(f.start) if f.start is not None else hist.data_end
    if start > hist.data_end:
        raise ForecastConfigError(
            f"{source}: forecast.start: {start} is after the data end ({hist.data_end})"
        )
    first = hist.first_month
    if start <= first:
        # The census needs every child in care at the start, and the rates a month of
        # complete data before it; before the first return only survivors are seen.
        raise ForecastConfigError(
            f"{source}: forecast.start: {start} leaves no month to fit on: the data are "
            f"complete from {first}; start in {add_months(first, 1)} or later"
        )
    horizon = horizon_of(f, start, source=source)
    fit_key = "data.fit_from" if data.fit_from else "data.fit_months"
    fit_from = _month(data.fit_from) if data.fit_from else add_months(start, -data.fit_months)
    if fit_from >= start:
        raise ForecastConfigError(f"{source}: data.fit_from: must be before forecast.start")
    fit_from, clipped = fit_window_start(fit_from, first, key=fit_key)
    obs = observe(hist.truncated(start), fit_from, start)
    r = config.rates
    rates = estimate_rates(
        obs,
        prior_weight=r.prior_weight,
        entry_trend=r.entry_trend,
        max_trend_percent=r.max_trend_percent,
        seasonality=r.seasonality,
    ).scaled(entries=r.entry_multiplier, uasc=r.uasc_multiplier, exits=r.exit_multiplier)
    rates = replace(rates, notes=(*hist.notes, *clipped, *rates.notes))
    population = census(hist, start)
    spec = SimulationSpec(
        start,
        horizon,
        f.step,
        runs if runs is not None else f.runs,
        seed if seed is not None else f.seed,
        r.rate_uncertainty,
        f.service_level,
    )
    return StochasticSetup(hist, rates, population, spec)


def run_stochastic(
    config: ForecastFile,
    base: Path,
    *,
    source: str = "<config>",
    runs: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    history: CareHistory | None = None,
) -> StochasticForecast:
    """Run a stochastic-mode configuration (``history``: the data, if already loaded)."""
    setup = stochastic_setup(config, base, source=source, runs=runs, seed=seed, history=history)
    if not config.rates.randomness:
        return expected_forecast(setup.rates, setup.population, setup.spec)
    return simulate(setup.rates, setup.population, setup.spec, progress=progress)


def run_backtest(
    config: ForecastFile,
    base: Path,
    *,
    at: dt.date | None = None,
    source: str = "<config>",
    runs: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    history: CareHistory | None = None,
) -> BacktestResult:
    """Back-test a stochastic configuration at ``at`` (or ``backtest.at``); ``history``:
    the data, if already loaded."""
    if config.data is None:
        raise ForecastConfigError(f"{source}: data: a back-test needs a [data] table")
    cut = at or (config.backtest.at if config.backtest else None)
    if cut is None:
        raise ForecastConfigError(f"{source}: backtest.at: give a cut-off date (or --at)")
    hist = history or load_history(config, base, source=source)
    f = config.forecast
    r = config.rates
    horizon = f.horizon_months or 600
    spec = SimulationSpec(
        _month(cut),
        horizon,
        "month",
        runs if runs is not None else f.runs,
        seed if seed is not None else f.seed,
        r.rate_uncertainty,
        f.service_level,
    )
    try:
        return backtest(
            hist,
            cut,
            spec,
            fit_months=config.data.fit_months,
            naive_months=config.backtest.naive_months if config.backtest else 12,
            prior_weight=r.prior_weight,
            entry_trend=r.entry_trend,
            max_trend_percent=r.max_trend_percent,
            seasonality=r.seasonality,
            multipliers=(r.entry_multiplier, r.uasc_multiplier, r.exit_multiplier),
            progress=progress,
        )
    except ValueError as exc:  # the cut-off does not fit the data
        raise ForecastConfigError(f"{source}: {exc}") from None
