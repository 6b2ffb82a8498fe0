"""Stochastic mode: a child-by-child stock-and-flow simulation, vectorised over runs.

Each run starts from the children in care on the start date and steps a month (or a
week) at a time. In each step, in this order:

1. each child may leave care (hazards by route, age band and time-in-care band);
2. each child who stays may move to another placement group (hazards by age band);
3. everyone ages one step; a child who reaches 18 leaves care (route ``turned_18``);
4. new children arrive: Poisson numbers in each (stream, age band, group) cell, the
   stream being children entering care or separated migrant children arriving, with the
   entry trend and the calendar month's seasonal multiplier.

Runs differ in their random events and, with ``rate_uncertainty``, in their rates: each
run draws every rate from its gamma posterior (:mod:`scenarios.forecast.rates`).

The children of all runs live in one set of flat arrays, so a step is a few numpy
operations over every child of every run. Random numbers are not drawn from a stream but
*hashed* from (seed, run, child, step, purpose) with SplitMix64: a child's fate does not
depend on how many other children there are. So with the same seed a higher entry rate
gives a superset of children in every run, and need can never fall (a property test
checks this). :func:`expected_path` computes the expected counts of the same model
without randomness (the deterministic twin); the median of many runs without rate
uncertainty tracks it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from matcher.placement_types import SufficiencyGroup
from scenarios.forecast.rates import (
    AGE_BANDS,
    DAYS_18,
    DAYS_PER_MONTH,
    EXIT_ROUTES,
    GROUPS,
    FlowRates,
    Population,
    age_band_of,
    tic_band_of,
)
from scenarios.forecast.statement import add_months

#: Default quantiles reported.
QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.8, 0.95)

_N_CELLS = 2 * len(AGE_BANDS) * len(GROUPS)  # (stream, age band, group)
_MAX_PER_CELL = 4096
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_RUN_SHIFT = np.uint64(1 << 40)
_ENTRY_BASE = np.uint64(1 << 24)
_COUNT_BASE = np.uint64(1 << 39)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SimulationSpec:
    """What to simulate.

    Attributes
    ----------
    start : datetime.date
        The census date the population describes.
    horizon_months : int
        Months ahead (weekly steps cover the same span).
    step : ``"month"`` or ``"week"``
    runs : int
    seed : int
    rate_uncertainty : bool
        Draw each run's rates from their posteriors (else every run uses the means).
    service_level : float
        The probability that the places needed cover demand.
    quantiles : tuple[float, ...]
    """

    start: dt.date
    horizon_months: int
    step: Literal["month", "week"] = "month"
    runs: int = 1000
    seed: int = 0
    rate_uncertainty: bool = True
    service_level: float = 0.8
    quantiles: tuple[float, ...] = QUANTILES

    def __post_init__(self) -> None:
        if not 1 <= self.horizon_months <= 600:
            raise ValueError(f"horizon must be 1 to 600 months, got {self.horizon_months}")
        if self.step not in ("month", "week"):
            raise ValueError(f"step must be month or week, got {self.step!r}")
        if not 1 <= self.runs <= 1_000_000:
            raise ValueError(f"runs must be 1 to 1,000,000, got {self.runs}")
        if not 0.0 < self.service_level < 1.0:
            raise ValueError("service level must be between 0 and 1")
        if any(not 0.0 <= q <= 1.0 for q in self.quantiles):
            raise ValueError("quantiles must be between 0 and 1")

    def dates(self) -> tuple[dt.date, ...]:
        """The start and every step's end."""
        if self.step == "month":
            return tuple(add_months(self.start, m) for m in range(self.horizon_months + 1))
        end = add_months(self.start, self.horizon_months)
        weeks = max(1, (end - self.start).days // 7)
        return tuple(self.start + dt.timedelta(days=7 * w) for w in range(weeks + 1))


@dataclass(frozen=True, slots=True)
class StochasticForecast:
    """The runs of a stochastic forecast.

    Attributes
    ----------
    spec : SimulationSpec
    dates : tuple[datetime.date, ...]
    counts : numpy.ndarray
        ``(runs, dates, group)`` children in each group (int32).
    exits : numpy.ndarray
        ``(dates - 1, route)`` mean exits a step by route (:data:`EXIT_ROUTES`).
    entries : numpy.ndarray
        ``(dates - 1, stream)`` mean entries a step.
    notes : tuple[str, ...]
    without_assumptions : numpy.ndarray or None
        ``(dates, group)`` median counts of the same runs without the commissioners'
        assumptions (set by the runner when there are any).
    history : numpy.ndarray or None
        ``(months, group)`` children at each month start before the start, oldest first.
    history_dates : tuple[datetime.date, ...]
    assumed : tuple[tuple[str, str], ...]
        What the model assumed: ``(quantity, value)`` rows for the report.
    band_scale : float
        The calibration of the reported band (1: the runs as drawn). Every reported
        quantile ``q`` other than the median becomes ``median + band_scale * (q - median)``
        (never below 0), at each date and group and for the places needed; the runs
        themselves (``counts``) and the median are not changed. Chosen from in-fit
        back-tests by :func:`scenarios.forecast.tuning.calibrate_band` when
        ``rates.band_calibration = "auto"``.
    """

    spec: SimulationSpec
    dates: tuple[dt.date, ...]
    counts: np.ndarray = field(repr=False)
    exits: np.ndarray = field(repr=False)
    entries: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()
    without_assumptions: np.ndarray | None = field(default=None, repr=False)
    history: np.ndarray | None = field(default=None, repr=False)
    history_dates: tuple[dt.date, ...] = ()
    assumed: tuple[tuple[str, str], ...] = ()
    band_scale: float = 1.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.band_scale) and self.band_scale > 0):
            raise ValueError(f"band_scale must be finite and positive, got {self.band_scale}")

    def _calibrated(self, runs: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
        """Quantiles ``qs`` over axis 0 of ``runs``, calibrated by :attr:`band_scale`."""
        q = np.quantile(runs, qs, axis=0, method="inverted_cdf")
        if self.band_scale == 1.0:
            return q
        median = np.quantile(runs, 0.5, axis=0, method="inverted_cdf")
        return np.maximum(median + self.band_scale * (q - median), 0.0)

    @property
    def totals(self) -> np.ndarray:
        """``(runs, dates)`` children in care."""
        return self.counts.sum(axis=2)

    def quantile_counts(self, qs: tuple[float, ...] | None = None) -> np.ndarray:
        """``(quantile, dates, group + total)`` quantiles over runs (last column: total),
        calibrated by :attr:`band_scale`."""
        qs = qs or self.spec.quantiles
        both = np.concatenate([self.counts, self.totals[:, :, None]], axis=2).astype(float)
        return self._calibrated(both, qs)

    def start_counts(self) -> dict[SufficiencyGroup, int]:
        """Children in each group at the start."""
        return {g: int(self.counts[0, 0, i]) for i, g in enumerate(GROUPS)}

    def places_needed(self, level: float | None = None) -> dict[SufficiencyGroup, int]:
        """Places that cover each group's demand at the end date with probability ``level``."""
        lv = self.spec.service_level if level is None else level
        end = self.counts[:, -1, :].astype(float)
        q = self._calibrated(end, (lv,))[0]
        return {g: int(np.ceil(q[i])) for i, g in enumerate(GROUPS)}

    def peak_places_needed(self, level: float | None = None) -> dict[SufficiencyGroup, int]:
        """Places that cover demand at every date up to the end with probability ``level``."""
        lv = self.spec.service_level if level is None else level
        peak = self.counts.max(axis=1).astype(float)
        q = self._calibrated(peak, (lv,))[0]
        return {g: int(np.ceil(q[i])) for i, g in enumerate(GROUPS)}

    def additional_places(self, level: float | None = None) -> dict[SufficiencyGroup, int]:
        """Places needed at the service level less the children there at the start."""
        need = self.places_needed(level)
        start = self.start_counts()
        return {g: need[g] - start[g] for g in GROUPS}


# --------------------------------------------------------------------------- randomness


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (a bijection on uint64 with good avalanche)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _uniform(keys: np.ndarray, seed: int, step: int, purpose: int) -> np.ndarray:
    """Uniform [0, 1) numbers hashed from each key, the seed, the step and a purpose."""
    with np.errstate(over="ignore"):
        salt = _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
        x = _mix(keys * _GOLDEN + salt)
        x = _mix(x + np.uint64(step * 8 + purpose + 1) * _GOLDEN)
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _child_seeds(keys: np.ndarray, seed: int) -> np.ndarray:
    """Each child's hashed seed: a child's random numbers depend on it and the step only."""
    with np.errstate(over="ignore"):
        salt = _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
        return _mix(keys * _GOLDEN + salt)


def _step_uniforms(seeds: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Two uniforms per child for a step (32 bits each): leaving care, and moving."""
    with np.errstate(over="ignore"):
        x = _mix(seeds + np.uint64(step + 1) * _GOLDEN)
    scale = 1.0 / 4294967296.0
    return (x >> np.uint64(32)).astype(np.float64) * scale, (x & np.uint64(0xFFFFFFFF)).astype(
        np.float64
    ) * scale


def _poisson_inverse(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson numbers by inverting the CDF at ``u`` (monotone in ``lam`` for fixed ``u``)."""
    if np.any(lam > 700):
        raise ValueError(
            "more than 700 expected arrivals in one cell in one step; use weekly steps"
        )
    p = np.exp(-lam)
    cdf = p.copy()
    n = np.zeros(lam.shape, dtype=np.int64)
    k = 0
    while True:
        more = u > cdf
        if not more.any() or k >= _MAX_PER_CELL:
            break
        k += 1
        n += more
        p = p * lam / k
        cdf = cdf + p
    return n


# --------------------------------------------------------------------------- rates per run


@dataclass(frozen=True, slots=True)
class _RunRates:
    exit_h: np.ndarray  # (R, route, age, tic)
    move_h: np.ndarray  # (R, age, from, to)
    entry: np.ndarray  # (R, cells) entries a month at the window's middle


def _draw_rates(rates: FlowRates, runs: int, seed: int, uncertain: bool) -> _RunRates:
    # ``rate_spread`` multiplies each posterior's variance (shape and rate divided by it).
    spread = rates.rate_spread
    if not uncertain or spread <= 0.0:
        exit_h = np.broadcast_to(rates.exit_hazard, (runs, *rates.exit_shape.shape))
        move_h = np.broadcast_to(rates.move_hazard, (runs, *rates.move_shape.shape))
        entry = np.broadcast_to(rates.entries_per_month.reshape(-1), (runs, _N_CELLS))
        return _RunRates(exit_h, move_h, entry)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 903])))
    c = 1.0 / spread
    exit_h = rng.gamma(np.broadcast_to(rates.exit_shape * c, (runs, *rates.exit_shape.shape)))
    exit_h = exit_h / (rates.exit_rate * c) * rates.exit_scale
    move_h = rng.gamma(np.broadcast_to(rates.move_shape * c, (runs, *rates.move_shape.shape)))
    move_h = move_h / (rates.move_rate * c)
    shape = rates.entry_shape.reshape(-1) * c
    scale = np.repeat(rates.entry_scale / (rates.entry_rate * c), len(AGE_BANDS) * len(GROUPS))
    entry = rng.gamma(np.broadcast_to(shape, (runs, _N_CELLS))) * scale
    return _RunRates(exit_h, move_h, entry)


#: The least shape the level of entries is evolved to (see :func:`_level_paths`).
LEVEL_SHAPE_FLOOR = 1.0


def _level_paths(
    rates: FlowRates, dates: tuple[dt.date, ...], runs: int, seed: int, uncertain: bool
) -> np.ndarray | None:
    """Per run, step and stream: the level of entries' multiplier after the fit window.

    Where the level is local (discount below 1, :func:`scenarios.forecast.rates.
    local_entry_level`) it goes on moving after the window as the model says it does,
    with the evolution's variance held at its first step's, as West and Harrison (1997,
    k-step-ahead forecasts with discount factors) do: the discount ``d`` sets one month's
    evolution at the start, ``W = (1/d - 1) C`` for a level whose squared coefficient of
    variation is ``C = 1/a`` (``a`` the stream's posterior shape), and each later month
    adds the same ``W``, so ``t`` months on the level's squared coefficient of variation
    is ``(1 + t (1 - d) / d) / a``: it grows linearly with the horizon. A step takes the
    level from Gamma(a', b') to Gamma(q a', q b') with ``q`` the ratio of the shapes, by
    multiplying it by ``eta / q`` with ``eta`` drawn from Beta(q a', (1 - q) a') (Smith
    and Miller's gamma-beta evolution; the mean is kept). Before, the discount was applied
    again every month, ``a d^t``, so the variance compounded (with ``d = 0.7`` the level's
    coefficient of variation reached the floor of 100 % within a year: on the public
    sample's first origin the level was the largest part of the band: 12 months on, a
    standard deviation of 23 children with the level and the events, 17 with the rates and
    the events, 11 with the events alone, 28 with all three); the first month is the same
    either way.
    The multiplier moves all of a run's later months together, so the band widens with
    the horizon. The shape stops falling at :data:`LEVEL_SHAPE_FLOOR` (1: the level's
    spread stops growing when its coefficient of variation reaches 100 %), so that a
    long horizon does not draw levels many times any seen (the discount model does not
    revert to a mean, and its spread grows without bound). ``None`` when every discount
    is 1 or the rates are not uncertain. A ``rate_spread`` other than 1 divides the shape
    (the level's variance and each step's are multiplied by it).
    """
    discount = rates.entry_discount
    if not uncertain or rates.rate_spread <= 0.0 or np.all(discount >= 1.0):
        return None
    shape = rates.entry_shape.sum(axis=(1, 2)) / rates.rate_spread  # (stream,)
    months = np.diff([d.toordinal() for d in dates]) / DAYS_PER_MONTH  # (steps,)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 904])))
    out = np.ones((runs, len(months), 2))
    for stream in range(2):
        a0 = float(shape[stream])
        d0 = float(discount[stream])
        if d0 >= 1.0 or a0 <= 0.0:
            continue
        floor = min(LEVEL_SHAPE_FLOOR, a0)
        a = a0
        elapsed = 0.0
        level = np.ones(runs)
        for s, m in enumerate(months):
            elapsed += float(m)
            target = max(a0 / (1.0 + elapsed * (1.0 - d0) / d0), floor)
            q = min(target / a, 1.0)
            if q < 1.0:
                eta = rng.beta(q * a, (1.0 - q) * a, size=runs)
                level = level * np.nan_to_num(eta, nan=q) / q
                a = target
            out[:, s, stream] = level
    return out


def _entry_multipliers(rates: FlowRates, dates: tuple[dt.date, ...]) -> np.ndarray:
    """Per step: trend x season x step length in months."""
    out = np.empty(len(dates) - 1)
    for s in range(len(dates) - 1):
        days = (dates[s + 1] - dates[s]).days
        months_in = ((dates[s] - dates[0]).days + days / 2.0) / DAYS_PER_MONTH
        trend = np.exp(rates.entry_trend * (rates.trend_origin + months_in))
        season = rates.seasonality[dates[s].month - 1]
        out[s] = trend * season * days / DAYS_PER_MONTH
    return out


_CELL_STREAM = np.repeat(np.arange(2), len(AGE_BANDS) * len(GROUPS))
_CELL_AGE = np.tile(np.repeat(np.arange(len(AGE_BANDS)), len(GROUPS)), 2)
_CELL_GROUP = np.tile(np.arange(len(GROUPS)), 2 * len(AGE_BANDS))
_BAND_LO = np.array([int(lo * 365.25) for lo, _ in AGE_BANDS])
_BAND_HI = np.array([min(int(hi * 365.25), DAYS_18) for _, hi in AGE_BANDS])


def _choose(u: np.ndarray, p_any: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Which of ``weights``' columns an event at ``u < p_any`` falls in."""
    total = weights.sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    cum = np.cumsum(weights, axis=1) / safe[:, None] * p_any[:, None]
    idx = (u[:, None] >= cum).sum(axis=1)
    return np.minimum(idx, weights.shape[1] - 1)


# --------------------------------------------------------------------------- simulation


def simulate(
    rates: FlowRates,
    population: Population,
    spec: SimulationSpec,
    *,
    progress: Progress | None = None,
    chunk_runs: int = 250,
) -> StochasticForecast:
    """Run the stock-and-flow simulation.

    Parameters
    ----------
    rates
        From :func:`scenarios.forecast.rates.estimate_rates` (possibly ``scaled``).
    population
        The children in care at ``spec.start``.
    spec
        Horizon, step, runs, seed, uncertainty.
    progress
        Called with (runs done, runs) after each chunk of runs.
    chunk_runs
        Runs simulated together; results do not depend on it.
    """
    dates = spec.dates()
    n_steps = len(dates) - 1
    runs = spec.runs
    drawn = _draw_rates(rates, runs, spec.seed, spec.rate_uncertainty)
    multipliers = _entry_multipliers(rates, dates)
    levels = _level_paths(rates, dates, runs, spec.seed, spec.rate_uncertainty)
    counts = np.zeros((runs, n_steps + 1, len(GROUPS)), dtype=np.int32)
    exits = np.zeros((n_steps, len(EXIT_ROUTES)))
    entries = np.zeros((n_steps, 2))
    n0 = len(population)
    if n0 >= int(_ENTRY_BASE):
        raise ValueError("population too large for the simulation's child keys")
    notes: list[str] = []
    capped = 0
    n_groups = len(GROUPS)
    n_tic = 4
    edges_age = np.array([int(lo * 365.25) for lo, _ in AGE_BANDS[1:]], dtype=np.int64)
    edges_tic = np.array([int(m * DAYS_PER_MONTH) for m in (6, 12, 24)], dtype=np.int64)
    for lo in range(0, runs, chunk_runs):
        hi = min(runs, lo + chunk_runs)
        r_idx = np.arange(lo, hi)
        nr = hi - lo
        # Children of all runs in this chunk, flattened; ``local`` is the run in the chunk.
        local = np.repeat(np.arange(nr, dtype=np.int64), n0)
        keys = np.repeat(r_idx.astype(np.uint64), n0) * _RUN_SHIFT + np.tile(
            np.arange(n0, dtype=np.uint64), nr
        )
        seeds = _child_seeds(keys, spec.seed)
        age = np.tile(population.age_days.astype(np.int64), nr)
        tic = np.tile(population.tic_days.astype(np.int64), nr)
        group = np.tile(population.group.astype(np.int64), nr)
        counts[lo:hi, 0, :] = population.counts()
        exit_h = drawn.exit_h[lo:hi]  # (nr, route, age, tic)
        move_h = np.array(drawn.move_h[lo:hi])  # (nr, age, from, to)
        move_h[:, :, np.arange(n_groups), np.arange(n_groups)] = 0.0
        move_out = move_h.sum(axis=3)  # (nr, age, from)
        exit_total = exit_h.sum(axis=1)  # (nr, age, tic)
        base = drawn.entry[lo:hi]
        for s in range(n_steps):
            days = (dates[s + 1] - dates[s]).days
            delta = days / DAYS_PER_MONTH
            # Tables for this step, looked up once per child.
            p_exit_tab = (1.0 - np.exp(-exit_total * delta)).reshape(-1)
            p_move_tab = (1.0 - np.exp(-move_out * delta)).reshape(-1)
            a = np.searchsorted(edges_age, age, side="right")
            k = np.searchsorted(edges_tic, tic, side="right")
            u1, u2 = _step_uniforms(seeds, s)
            p_exit = p_exit_tab[(local * len(AGE_BANDS) + a) * n_tic + k]
            leave = u1 < p_exit
            if leave.any():
                hz = exit_h[local[leave], :, a[leave], k[leave]]
                route = _choose(u1[leave], p_exit[leave], hz)
                exits[s, : len(EXIT_ROUTES) - 1] += np.bincount(route, minlength=4)[:4]
                stay = ~leave
                local, seeds, age, tic, group = (
                    local[stay],
                    seeds[stay],
                    age[stay],
                    tic[stay],
                    group[stay],
                )
                a, u2 = a[stay], u2[stay]
            p_move = p_move_tab[(local * len(AGE_BANDS) + a) * n_groups + group]
            mv = u2 < p_move
            if mv.any():
                q = move_h[local[mv], a[mv], group[mv], :]
                group = group.copy()
                group[mv] = _choose(u2[mv], p_move[mv], q)
            age = age + days
            tic = tic + days
            adult = age >= DAYS_18
            if adult.any():
                exits[s, len(EXIT_ROUTES) - 1] += adult.sum()
                keep = ~adult
                local, seeds, age, tic, group = (
                    local[keep],
                    seeds[keep],
                    age[keep],
                    tic[keep],
                    group[keep],
                )
            # Arrivals.
            lam = base * multipliers[s]  # (nr, cells)
            if levels is not None:
                lam = lam * levels[lo:hi, s, _CELL_STREAM]
            cell_keys = (
                r_idx[:, None].astype(np.uint64) * _RUN_SHIFT
                + _COUNT_BASE
                + np.uint64(s * _N_CELLS)
                + np.arange(_N_CELLS, dtype=np.uint64)[None, :]
            )
            u3 = _uniform(cell_keys.ravel(), spec.seed, 0, 3).reshape(nr, _N_CELLS)
            n_new = _poisson_inverse(lam, u3)
            capped += int((n_new >= _MAX_PER_CELL).sum())
            total_new = int(n_new.sum())
            if total_new:
                flat = n_new.ravel()
                cell = np.repeat(np.tile(np.arange(_N_CELLS), nr), flat)
                new_local = np.repeat(np.repeat(np.arange(nr, dtype=np.int64), _N_CELLS), flat)
                starts = np.cumsum(flat) - flat
                kth = np.arange(total_new) - np.repeat(starts, flat)
                cell_step = np.uint64(s) * np.uint64(_N_CELLS) + cell.astype(np.uint64)
                new_key = (
                    (new_local + lo).astype(np.uint64) * _RUN_SHIFT
                    + _ENTRY_BASE
                    + (cell_step << np.uint64(12))
                    + kth.astype(np.uint64)
                )
                band = _CELL_AGE[cell]
                ua = _uniform(new_key, spec.seed, 0, 4)
                ut = _uniform(new_key, spec.seed, 0, 5)
                span = _BAND_HI[band] - _BAND_LO[band]
                new_age = (_BAND_LO[band] + ua * span).astype(np.int64)
                new_tic = (ut * days).astype(np.int64)
                entries[s] += np.bincount(_CELL_STREAM[cell], minlength=2)
                local = np.concatenate([local, new_local])
                seeds = np.concatenate([seeds, _child_seeds(new_key, spec.seed)])
                age = np.concatenate([age, new_age])
                tic = np.concatenate([tic, new_tic])
                group = np.concatenate([group, _CELL_GROUP[cell]])
            counts[lo:hi, s + 1, :] = np.bincount(
                local * n_groups + group, minlength=nr * n_groups
            ).reshape(nr, n_groups)
        if progress is not None:
            progress(hi, runs)
    if capped:
        notes.append(f"arrivals capped at {_MAX_PER_CELL} per cell per step {capped} times")
    notes.extend(rates.notes)
    return StochasticForecast(spec, dates, counts, exits / runs, entries / runs, tuple(notes))


def expected_path(
    rates: FlowRates, population: Population, spec: SimulationSpec, *, age_points: int = 8
) -> np.ndarray:
    """Expected children in each group at each date under the posterior-mean rates.

    The deterministic twin of :func:`simulate`: the same steps with probabilities in place
    of random events. Arrivals in a cell are spread over ``age_points`` ages across the
    band. Returns ``(dates, group)`` floats.
    """
    return _expected(rates, population, spec, age_points)[0]


def expected_forecast(
    rates: FlowRates, population: Population, spec: SimulationSpec, *, age_points: int = 8
) -> StochasticForecast:
    """The deterministic twin as a one-run forecast (``randomness = false``).

    Counts are the expected counts rounded half up; every quantile equals them, and the
    flows are the expected exits and arrivals a step.
    """
    path, exits, entries = _expected(rates, population, spec, age_points)
    counts = np.floor(path + 0.5).astype(np.int32)[None, :, :]
    one = SimulationSpec(
        spec.start,
        spec.horizon_months,
        spec.step,
        1,
        spec.seed,
        False,
        spec.service_level,
        spec.quantiles,
    )
    notes = ("randomness off: expected counts of the stock-and-flow model, no runs", *rates.notes)
    return StochasticForecast(one, spec.dates(), counts, exits, entries, notes)


def _expected(
    rates: FlowRates, population: Population, spec: SimulationSpec, age_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dates = spec.dates()
    n_steps = len(dates) - 1
    multipliers = _entry_multipliers(rates, dates)
    exit_h = rates.exit_hazard
    move_h = rates.move_hazard
    base = rates.entries_per_month.reshape(-1)
    weight = np.ones(len(population))
    prob = np.eye(len(GROUPS))[population.group]
    age = population.age_days.astype(float)
    tic = population.tic_days.astype(float)
    out = np.zeros((n_steps + 1, len(GROUPS)))
    exits = np.zeros((n_steps, len(EXIT_ROUTES)))
    entries = np.zeros((n_steps, 2))
    out[0] = prob.sum(axis=0)
    frac = (np.arange(age_points) + 0.5) / age_points
    idx = np.arange(len(GROUPS))
    for s in range(n_steps):
        days = (dates[s + 1] - dates[s]).days
        delta = days / DAYS_PER_MONTH
        a = age_band_of(age.astype(np.int64))
        k = tic_band_of(tic.astype(np.int64))
        hz = exit_h[:, a, k]  # (route, n)
        total = hz.sum(axis=0)
        p_exit = 1.0 - np.exp(-total * delta)
        with np.errstate(invalid="ignore", divide="ignore"):
            split = np.where(total > 0, hz / np.where(total > 0, total, 1.0), 0.0)
        exits[s, : len(EXIT_ROUTES) - 1] = (split * (weight * p_exit)).sum(axis=1)
        weight = weight * (1.0 - p_exit)
        q = move_h[a] * delta  # (n, from, to)
        q[:, idx, idx] = 0.0
        out_rate = q.sum(axis=2)
        p_move = 1.0 - np.exp(-out_rate)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(out_rate[:, :, None] > 0, q / out_rate[:, :, None], 0.0)
        trans = share * p_move[:, :, None]
        trans[:, idx, idx] = 1.0 - p_move
        prob = np.einsum("ng,ngh->nh", prob, trans)
        age = age + days
        tic = tic + days
        alive = age < DAYS_18
        exits[s, len(EXIT_ROUTES) - 1] = weight[~alive].sum()
        weight, prob, age, tic = weight[alive], prob[alive], age[alive], tic[alive]
        lam = base * multipliers[s]
        entries[s] = np.bincount(_CELL_STREAM, weights=lam, minlength=2)
        cells = np.flatnonzero(lam > 0)
        if len(cells):
            band = _CELL_AGE[cells]
            new_age = (
                _BAND_LO[band][:, None] + frac[None, :] * (_BAND_HI[band] - _BAND_LO[band])[:, None]
            ).ravel()
            new_w = np.repeat(lam[cells] / age_points, age_points)
            new_p = np.eye(len(GROUPS))[np.repeat(_CELL_GROUP[cells], age_points)]
            weight = np.concatenate([weight, new_w])
            prob = np.concatenate([prob, new_p])
            age = np.concatenate([age, new_age])
            tic = np.concatenate([tic, np.full(len(new_age), days / 2.0)])
        out[s + 1] = (weight[:, None] * prob).sum(axis=0)
    return out, exits, entries
