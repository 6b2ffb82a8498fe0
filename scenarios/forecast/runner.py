"""From a validated configuration file to a forecast: the glue the CLI and benchmarks use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from matcher.ssda903 import read_episodes, read_header, read_uasc
from scenarios.forecast.assumptions import Assumption, apply_assumptions
from scenarios.forecast.backtest import BacktestResult, RollingBacktest, backtest, rolling_origins
from scenarios.forecast.config import (
    DataFiles,
    ForecastConfigError,
    ForecastFile,
    forecast_region,
    horizon_of,
    resolve_paths,
    statement_spec,
)
from scenarios.forecast.rates import (
    ROUTES,
    CareHistory,
    FlowRates,
    Population,
    age_band_of,
    care_history,
    census,
    estimate_rates,
    observe,
    stock_series,
    tic_band_of,
)
from scenarios.forecast.statement import (
    StatementForecast,
    add_months,
    forecast_statement,
    months_between,
)
from scenarios.forecast.stock_flow import (
    Progress,
    SimulationSpec,
    StochasticForecast,
    expected_forecast,
    simulate,
)
from scenarios.forecast.tuning import (
    FIT_MONTHS,
    PRIOR_WEIGHTS,
    Tuning,
    choose_defaults,
    fit_members,
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


def load_history(config: ForecastFile, base: DataFiles, *, source: str = "<config>") -> CareHistory:
    """Read the configuration's 903 files and join them into periods of care.

    ``base``: the folder the ``[data]`` paths are relative to, or the files themselves held
    in memory by name (:data:`~scenarios.forecast.config.DataFiles`).
    """
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
    names, _ = forecast_region(config, source=source)
    if names:
        episodes, header, uasc = _pooled_tables(names, episodes, header, uasc, source=source)
    try:
        return care_history(episodes, header, uasc, la=data.la)
    except LookupError as exc:  # the authority is not in the extract
        raise ForecastConfigError(f"{source}: data.la: {exc}") from None
    except ValueError as exc:
        raise ForecastConfigError(f"{source}: data: {exc}") from None


def _pooled_tables(
    names: tuple[str, ...],
    episodes: pd.DataFrame,
    header: pd.DataFrame,
    uasc: pd.DataFrame | None,
    *,
    source: str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """A region's 903 tables pooled into one authority's (:func:`forecast_region`).

    Keeps the rows whose ``LA`` is one of the region's authorities (by ONS code, DfE number
    or name, as :func:`geography.resolve_authority` reads it), prefixes ``CHILD`` with the
    authority's name (each council numbers its own children) and drops ``LA``.

    Raises
    ------
    ForecastConfigError
        If a table has no ``LA`` column, or an authority of the region has no episodes.
    """
    from geography.authorities import resolve_authority
    from geography.errors import GeographyError

    tables = {"data.episodes": episodes, "data.header": header}
    if uasc is not None:
        tables["data.uasc"] = uasc
    found: dict[str, str | None] = {}
    for key, table in tables.items():
        if "LA" not in table.columns:
            raise ForecastConfigError(
                f"{source}: {key}: a region forecast needs an LA column naming each row's "
                "authority (the region's histories are pooled by it)"
            )
        for text in table["LA"].astype(str).unique():
            if text not in found:
                try:
                    found[text] = resolve_authority(text).name
                except GeographyError:
                    found[text] = None  # not an authority: not one of the region's
    held = {n for n in found.values() if n is not None}
    for i, name in enumerate(names):
        if name not in held:
            listed = ", ".join(sorted(str(t) for t in found)) or "none"
            raise ForecastConfigError(
                f"{source}: forecast.authorities: {name} (number {i + 1} of the region) has no "
                f"episodes in the data; the episodes hold: {listed}"
            )

    def pool(table: pd.DataFrame) -> pd.DataFrame:
        la = table["LA"].astype(str).map(found)
        keep = table.loc[la.isin(names)].copy()
        keep["CHILD"] = la[la.isin(names)] + ":" + keep["CHILD"].astype(str)
        return keep.drop(columns="LA")

    return (
        pool(episodes),
        pool(header),
        None if uasc is None else pool(uasc),
    )


@dataclass(frozen=True, slots=True)
class StochasticSetup:
    """Everything a stochastic run needs, fitted and validated."""

    history: CareHistory = field(repr=False)
    rates: FlowRates = field(repr=False)
    population: Population = field(repr=False)
    spec: SimulationSpec
    tuning: Tuning | None = None
    #: The rates before the commissioners' assumptions (``None``: there are none).
    unadjusted: FlowRates | None = field(default=None, repr=False)
    prior_weight: float = 0.0


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


def tuned_defaults(
    config: ForecastFile, history: CareHistory, at: dt.date
) -> tuple[float, int, Tuning | None]:
    """``rates.prior_weight`` and ``data.fit_months``, with ``"auto"`` ones chosen at ``at``.

    An ``"auto"`` value is chosen by rolling-origin back-tests on the data known at ``at``
    (:func:`scenarios.forecast.tuning.choose_defaults`); a given value is kept and only
    the other is searched. With ``data.fit_from`` the window is fixed and only the prior
    strength is searched. Returns ``(prior_weight, fit_months, tuning or None)``.
    """
    data = config.data
    assert data is not None
    r = config.rates
    fixed_window = data.fit_from is not None or data.fit_months != "auto"
    calibrate_band = r.band_calibration == "auto" and r.randomness
    if r.prior_weight != "auto" and fixed_window and r.rate_spread != "auto" and not calibrate_band:
        months = data.fit_months if isinstance(data.fit_months, int) else 36
        return float(r.prior_weight), months, None
    start = _month(at)
    window: tuple[int, ...] | None = None
    if data.fit_from is not None:
        window = (max(months_between(_month(data.fit_from), start), 1),)
    elif isinstance(data.fit_months, int):
        window = (data.fit_months,)
    tuning = choose_defaults(
        history,
        start,
        prior_weights=PRIOR_WEIGHTS if r.prior_weight == "auto" else (float(r.prior_weight),),
        fit_months=FIT_MONTHS if window is None else window,
        entry_trend=r.entry_trend,
        max_trend_percent=r.max_trend_percent,
        seasonality=r.seasonality,
        calibrate=r.rate_spread == "auto" and r.rate_uncertainty and r.randomness,
        hazard_recency=r.hazard_recency,
        calibrate_band=calibrate_band,
        rate_uncertainty=r.rate_uncertainty,
        rate_spread=1.0 if r.rate_spread == "auto" else float(r.rate_spread),
    )
    return tuning.prior_weight, tuning.fit_months, tuning


def rate_spread(config: ForecastFile, tuning: Tuning | None) -> float:
    """``rates.rate_spread``, or the one the back-tests chose when it is ``"auto"``."""
    given = config.rates.rate_spread
    if given != "auto":
        return float(given)
    return tuning.rate_spread if tuning is not None else 1.0


def stochastic_setup(
    config: ForecastFile,
    base: DataFiles,
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
    prior_weight, fit_months, tuning = tuned_defaults(config, hist, start)
    fit_key = "data.fit_from" if data.fit_from else "data.fit_months"
    fit_from = _month(data.fit_from) if data.fit_from else add_months(start, -fit_months)
    if fit_from >= start:
        raise ForecastConfigError(f"{source}: data.fit_from: must be before forecast.start")
    fit_from, clipped = fit_window_start(fit_from, first, key=fit_key)
    obs = observe(hist.truncated(start), fit_from, start)
    r = config.rates
    if tuning is not None and len(tuning.members) > 1:
        fitted = fit_members(
            hist.truncated(start),
            start,
            tuning.members,
            entry_trend=r.entry_trend,
            max_trend_percent=r.max_trend_percent,
            seasonality=r.seasonality,
            hazard_recency=r.hazard_recency,
        )
    else:
        fitted = estimate_rates(
            obs,
            prior_weight=prior_weight,
            entry_months=tuning.entry_months if tuning is not None else None,
            entry_trend=r.entry_trend,
            max_trend_percent=r.max_trend_percent,
            seasonality=r.seasonality,
            hazard_recency=r.hazard_recency,
        )
    fitted = replace(fitted, rate_spread=rate_spread(config, tuning))
    rates = fitted.scaled(
        entries=r.entry_multiplier, uasc=r.uasc_multiplier, exits=r.exit_multiplier
    )
    chosen = (tuning.text(),) if tuning is not None else ()
    rates = replace(rates, notes=(*chosen, *hist.notes, *clipped, *rates.notes))
    unadjusted: FlowRates | None = None
    if config.assumptions:
        try:
            wanted = tuple(
                Assumption(**a.model_dump(exclude_none=True)) for a in config.assumptions
            )
        except ValueError as exc:
            raise ForecastConfigError(f"{source}: assumptions: {exc}") from None
        unadjusted = rates
        rates, stopped = apply_assumptions(rates, wanted)
        rates = replace(rates, notes=(*rates.notes, *stopped))
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
    return StochasticSetup(hist, rates, population, spec, tuning, unadjusted, prior_weight)


def run_stochastic(
    config: ForecastFile,
    base: DataFiles,
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
        result = expected_forecast(setup.rates, setup.population, setup.spec)
        without = (
            None
            if setup.unadjusted is None
            else expected_forecast(setup.unadjusted, setup.population, setup.spec)
        )
    else:
        result = simulate(setup.rates, setup.population, setup.spec, progress=progress)
        result = replace(result, band_scale=band_scale_of(setup.tuning))
        # The same seed: the difference is the assumptions', not the dice's.
        without = (
            None
            if setup.unadjusted is None
            else simulate(setup.unadjusted, setup.population, setup.spec)
        )
    history_dates, recorded = _history(setup.history, setup.spec.start)
    return replace(
        result,
        without_assumptions=None if without is None else without.quantile_counts((0.5,))[0, :, :4],
        history=recorded,
        history_dates=history_dates,
        assumed=what_was_assumed(setup, config),
    )


def band_scale_of(tuning: Tuning | None) -> float:
    """The reported band's scale chosen by ``rates.band_calibration = "auto"`` (else 1)."""
    return 1.0 if tuning is None else tuning.band_scale


def _history(
    history: CareHistory, start: dt.date, months: int = 24
) -> tuple[tuple[dt.date, ...], np.ndarray]:
    """Month-start counts by group for up to ``months`` months before ``start`` (the
    :func:`recorded_counts` the charts draw, without the start and the total column)."""
    dates, counts = recorded_counts(history, add_months(_month(start), -1), months=months - 1)
    return dates, counts[:, :-1].astype(np.int64) if len(dates) else np.zeros((0, 4), np.int64)


def entry_level_text(rates: FlowRates) -> str:
    """How the level of children entering care was fitted, in words."""
    d = float(rates.entry_discount[0])
    if d >= 1.0:
        return (
            "one level for the window (a local level's one-step-ahead forecasts in the "
            "window chose no discount)"
        )
    return (
        f"a local level, discount {d:.2f} a month (memory about {1 / (1 - d):.0f} months), "
        "chosen by one-step-ahead forecasts in the window; it moves on in each run"
    )


def hazard_recency_text(rates: FlowRates) -> str:
    """How the fit window's months were weighted for exit and move hazards, in words."""
    if rates.exit_discount >= 1.0 and rates.move_discount >= 1.0:
        return (
            "every month of the window the same (one-step-ahead forecasts in the window "
            "chose no discount)"
        )
    return (
        f"recent months weighted more: discount {rates.exit_discount:.2f} a month for exits, "
        f"{rates.move_discount:.2f} for moves, chosen by one-step-ahead forecasts in the window"
    )


def what_was_assumed(setup: StochasticSetup, config: ForecastFile) -> tuple[tuple[str, str], ...]:
    """The report's "what the model assumed" rows: the fitted rates at the start."""
    rates, pop = setup.rates, setup.population
    rows: list[tuple[str, str]] = [
        ("fitted on", f"{rates.fit_from:%Y-%m} to {rates.fit_to:%Y-%m} (month starts)"),
        (
            "national prior",
            f"{setup.prior_weight:,.0f} child-months behind each rate ("
            + ("chosen by back-tests" if setup.tuning is not None else "given")
            + ")",
        ),
    ]
    tuning = setup.tuning
    if config.rates.rate_spread != 1.0:
        how = (
            "chosen by the P10-P90 band's interval score in back-tests"
            if config.rates.rate_spread == "auto"
            else "given"
        )
        rows.append(
            ("spread of the rates in the runs", f"x{rates.rate_spread:g} the variance ({how})")
        )
    if tuning is not None and tuning.entry_months is not None:
        rows.append(("level of entries", f"the last {tuning.entry_months} months"))
    else:
        rows.append(("level of entries", entry_level_text(rates)))
    if config.rates.hazard_recency == "auto":
        rows.append(("recency of exit and move hazards", hazard_recency_text(rates)))
    if tuning is not None and tuning.band is not None:
        rows.append(("P10-P90 band", tuning.band.text()))
    if tuning is not None and tuning.origins and len(tuning.members) > 1:
        rows.append(
            (
                "rates averaged over",
                f"the best {len(tuning.members)} back-tested candidates (prior weight / "
                "fit months / entry months): "
                + ", ".join(
                    f"{w:,.0f}/{m}/{'all' if e is None else e}" for w, m, e in tuning.members
                ),
            )
        )
    level = np.exp(rates.entry_trend * rates.trend_origin)
    per_month = rates.entries_per_month.sum(axis=(1, 2)) * level
    rows.append(("children entering care a month", f"{per_month[0]:.1f}"))
    rows.append(("separated migrant children arriving a month", f"{per_month[1]:.1f}"))
    rows.append(("entry trend", f"{100 * np.expm1(12 * rates.entry_trend):+.1f}% a year"))
    rows.append(
        (
            "seasonality of entries",
            f"x{rates.seasonality.min():.2f} to x{rates.seasonality.max():.2f} by month",
        )
    )
    if len(pop):
        a = age_band_of(pop.age_days)
        k = tic_band_of(pop.tic_days)
        hazard = rates.exit_hazard[:, a, k].mean(axis=1) * 12.0
        for route, h in zip(ROUTES, hazard, strict=True):
            rows.append((f"leaving care ({route}) per child a year", f"{h:.3f}"))
        moves = rates.move_hazard[a, pop.group].sum(axis=1).mean() * 12.0
        rows.append(("moves between placement groups per child a year", f"{moves:.3f}"))
    for a_ in config.assumptions:
        label = Assumption(**a_.model_dump(exclude_none=True)).label()
        rows.append((f"assumption: {label}", a_.note or "commissioners' assumption"))
    return tuple(rows)


def _backtest_at(
    config: ForecastFile,
    hist: CareHistory,
    origin: dt.date,
    horizon: int,
    *,
    runs: int | None,
    seed: int | None,
    progress: Progress | None,
) -> tuple[BacktestResult, float, int, Tuning | None]:
    """One back-test at ``origin``, its ``"auto"`` settings chosen from the data known
    there; with the prior weight and fitting window it used."""
    f, r = config.forecast, config.rates
    spec = SimulationSpec(
        origin,
        horizon,
        "month",
        runs if runs is not None else f.runs,
        seed if seed is not None else f.seed,
        r.rate_uncertainty,
        f.service_level,
    )
    prior_weight, fit_months, tuning = tuned_defaults(config, hist, origin)
    result = backtest(
        hist,
        origin,
        spec,
        fit_months=fit_months,
        naive_months=config.backtest.naive_months if config.backtest else 12,
        prior_weight=prior_weight,
        entry_trend=r.entry_trend,
        max_trend_percent=r.max_trend_percent,
        seasonality=r.seasonality,
        multipliers=(r.entry_multiplier, r.uasc_multiplier, r.exit_multiplier),
        progress=progress,
        entry_months=tuning.entry_months if tuning is not None else None,
        members=tuning.members if tuning is not None else (),
        notes=(tuning.text(),) if tuning is not None else (),
        rate_spread=rate_spread(config, tuning),
        hazard_recency=r.hazard_recency,
        band_scale=band_scale_of(tuning),
    )
    return result, prior_weight, fit_months, tuning


def run_backtest(
    config: ForecastFile,
    base: DataFiles,
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
    try:
        return _backtest_at(
            config,
            hist,
            _month(cut),
            config.forecast.horizon_months or 600,
            runs=runs,
            seed=seed,
            progress=progress,
        )[0]
    except ValueError as exc:  # the cut-off does not fit the data
        raise ForecastConfigError(f"{source}: {exc}") from None


def run_rolling_backtest(
    config: ForecastFile,
    base: DataFiles,
    *,
    source: str = "<config>",
    runs: int | None = None,
    seed: int | None = None,
    every_months: int = 6,
    horizon_months: int = 24,
    progress: Progress | None = None,
) -> RollingBacktest:
    """Back-test a stochastic configuration at origins every ``every_months`` months.

    Origins run back from a year before the data end while 12 complete months precede
    them; each is scored up to ``horizon_months`` ahead (or the data end). ``"auto"``
    settings are chosen afresh at each origin from the data known there.
    """
    if config.data is None:
        raise ForecastConfigError(f"{source}: data: a back-test needs a [data] table")
    hist = load_history(config, base, source=source)
    origins = rolling_origins(hist.first_month, hist.data_end, every_months=every_months)
    if not origins:
        raise ForecastConfigError(
            f"{source}: data: the data run from {hist.first_month} to {hist.data_end}; a "
            "rolling back-test needs 12 months to fit and 12 to test (24 months or more)"
        )
    results: list[BacktestResult] = []
    weights: list[float] = []
    windows: list[int] = []
    tunings: list[Tuning | None] = []
    for origin in origins:
        result, prior_weight, fit_months, tuning = _backtest_at(
            config, hist, origin, horizon_months, runs=runs, seed=seed, progress=progress
        )
        results.append(result)
        weights.append(prior_weight)
        windows.append(fit_months)
        tunings.append(tuning)
    return RollingBacktest(
        tuple(results), tuple(weights), tuple(windows), every_months, tuple(tunings)
    )
