"""Defaults that fit the data: the national prior's strength and the fitting window.

How strongly a council's rates are pulled towards the national ones (``prior_weight``,
in child-months) and how many months before the start they are fitted on
(``fit_months``) are chosen from the council's own data by rolling-origin back-tests
inside the fit:

1. Only the data known at the start are used (:meth:`CareHistory.truncated`).
2. Origins are taken every ``every_months`` months back from ``horizon_months`` before
   the start, as long as at least ``min_fit_months`` (9) months of complete data precede
   them (at most ``max_origins``, the latest first). Nine, not twelve: on a short
   extract (three yearly returns) twelve leaves one origin and a few test months, and
   the choice overfits them (the accuracy benchmark: 20% against 3.8% on the total).
3. At each origin and for each candidate pair the rates are fitted on the data known at
   the origin and the deterministic twin (:func:`expected_path`, the expected counts of
   the same stock-and-flow model) is run to the start. Each fit's level of entries is a
   local level whose discount that fit chooses itself, by one-step-ahead forecasts in its
   window (:func:`scenarios.forecast.rates.local_entry_level`).
4. A candidate's score is the absolute error of the total plus the absolute errors of the
   four placement groups, as a share of the children actually in care, averaged over the
   months after each origin and over the origins. The lowest score wins; ties go to the
   earlier candidate in the grid (stronger prior, longer window).

When no origin fits (too little history) the fallback pair is used and the reason is
recorded. The deterministic twin is used because it is what the median of the runs
follows (the benchmark records the gap) and it costs one run, not a thousand.

5. **Calibration of the band** (:func:`calibrate_spread`; only with ``calibrate``, which
   ``rates.rate_spread = "auto"`` asks for: not the default, since on the accuracy
   benchmark it made the band worse, see docs/forecast.md), at the same origins: the best
   candidates' averaged rates, fitted on the data known at each origin, are run
   (:data:`CALIBRATION_RUNS` runs, a fixed seed) with the rates' posterior variances
   multiplied by each factor in :data:`SPREADS` (0: no rate uncertainty, only the
   randomness of events), and the factor whose P10-P90 band has the lowest interval score
   (Gneiting and Raftery 2007: the band's width plus 10 times how far the actual falls
   outside it; a proper score, lowest on average for the true 10th and 90th percentiles)
   on the total and the four groups, as a share of the children in care, averaged over
   months and origins, is kept as the forecast's ``rate_spread``.
6. **Calibration of the reported band** (:func:`calibrate_band`; only with
   ``calibrate_band``, which ``rates.band_calibration = "auto"`` asks for: not the default,
   see docs/forecast.md), at the same origins: at each, the forecast is made as the
   forecast itself is made (its own defaults chosen by back-tests on the data known
   there, the best candidates' rates averaged, :data:`CALIBRATION_RUNS` runs) and where
   the actual fell in the runs is recorded for every month after it, in the total and the
   four groups: its distance from the median in units of the P10-P90 band's half on its
   side. The 80th percentile of those distances is the scale that would have made the
   band hold 80 % of them; it is shrunk towards 1 by :data:`BAND_PRIOR_ORIGINS` origins'
   weight (``scale ** (n / (n + 2))`` with ``n`` origins) and kept within
   :data:`BAND_LIMITS`. The forecast's reported quantiles are then moved away from (or
   towards) the median by that factor; the runs and the median are not changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from scenarios.forecast.rates import (
    CareHistory,
    FlowRates,
    Observations,
    average_rates,
    census,
    estimate_rates,
    observe,
)
from scenarios.forecast.statement import add_months, months_between
from scenarios.forecast.stock_flow import SimulationSpec, expected_path, simulate

#: Candidate prior strengths (child-months), strongest first.
PRIOR_WEIGHTS: tuple[float, ...] = (1200.0, 300.0, 100.0, 30.0)
#: Candidate fitting windows (months), longest first. Six months was dropped: exits and
#: moves fitted on so few months swung with each window (the public sample's first origin:
#: -15 % on the total with it, -4 % without).
FIT_MONTHS: tuple[int, ...] = (36, 24, 12)
#: Candidate windows for the level of entries (months). ``None``, the only default: the
#: local level, which chooses its own memory (it replaced the grid ``(None, 6, 3)``).
ENTRY_MONTHS: tuple[int | None, ...] = (None,)
#: How many of the best candidates are averaged (see :func:`fit_members`).
ENSEMBLE = 5
#: Used when the data are too short for any back-test.
FALLBACK = (1200.0, 36)
#: Multipliers of the rates' posterior variances compared by :func:`calibrate_spread`
#: (1: the posteriors as fitted; 0: no rate uncertainty), in the order ties are broken.
SPREADS: tuple[float, ...] = (1.0, 0.5, 2.0, 0.25, 4.0, 0.0)
#: Runs at each back-test origin for each spread, and their seed (fixed: the same data
#: give the same choice whatever the forecast's seed).
CALIBRATION_RUNS = 200
CALIBRATION_SEED = 17
#: How many back-test origins' weight the band's scale of 1 has in :func:`calibrate_band`
#: (the scale found at ``n`` origins counts ``n / (n + 2)`` on a log scale). Two: one
#: origin moves the band a third of the way, three (the most the back-tests take) 60 %.
BAND_PRIOR_ORIGINS = 2.0
#: The band's calibrated scale is kept within these.
BAND_LIMITS = (0.25, 4.0)
#: A side of the band narrower than this (children) counts as this wide when an actual's
#: distance from the median is measured in it (small groups' bands can be a single count).
_MIN_HALF_WIDTH = 0.5
#: The interval score's penalty for an actual outside the P10-P90 band, ``2 / alpha``.
_OUTSIDE_PENALTY = 2.0 / 0.2


@dataclass(frozen=True, slots=True)
class CandidateScore:
    """One candidate's back-test score.

    Attributes
    ----------
    prior_weight : float
    fit_months : int
    score : float
        Mean absolute error of the total plus the four groups, as a share of the total.
    total_error : float
        Mean absolute percentage error of the total alone.
    entry_months : int or None
        Months the level of entries is fitted on (``None``: the whole window).
    """

    prior_weight: float
    fit_months: int
    score: float
    total_error: float
    entry_months: int | None = None


@dataclass(frozen=True, slots=True)
class BandCalibration:
    """The reported P10-P90 band's scale, found where the actuals fell in back-tests.

    Attributes
    ----------
    scale : float
        The factor the reported quantiles' distances from the median are multiplied by.
    raw : float
        The 80th percentile of the actuals' distances from the median in units of the
        band's half on their side: the scale that would have held 80 % of them.
    origins : int
        The back-test origins it was measured at (0: none, scale 1).
    months : int
        Months after those origins (each counted for the total and the four groups).
    cover_before, cover_after : float
        The share of those months whose total fell in the P10-P90 band as drawn, and in
        the band scaled by ``scale``.
    """

    scale: float = 1.0
    raw: float = 1.0
    origins: int = 0
    months: int = 0
    cover_before: float = float("nan")
    cover_after: float = float("nan")

    def __post_init__(self) -> None:
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError("the band's scale must be finite and positive")

    def summary(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""

        def r(x: float) -> float | None:
            return round(x, 3) if np.isfinite(x) else None

        return {
            "scale": r(self.scale),
            "unshrunk": r(self.raw),
            "origins": self.origins,
            "months": self.months,
            "cover_total_as_drawn": r(self.cover_before),
            "cover_total_scaled": r(self.cover_after),
        }

    def text(self) -> str:
        """One clause for the report."""
        if self.origins == 0:
            return "the P10-P90 band as drawn (too little history to calibrate it)"
        return (
            f"the P10-P90 band x{self.scale:.2f} around the median, from where the actual fell "
            f"in back-tests at {self.origins} origin{'s' if self.origins != 1 else ''} "
            f"({self.months} months; the total inside the band as drawn "
            f"{100 * self.cover_before:.0f}%, scaled {100 * self.cover_after:.0f}%; "
            f"x{self.raw:.2f} unshrunk)"
        )


@dataclass(frozen=True, slots=True)
class Tuning:
    """The chosen prior strength and fitting window, with the evidence.

    Attributes
    ----------
    prior_weight : float
    fit_months : int
    origins : tuple[datetime.date, ...]
        The back-test origins (empty: the fallback was used).
    horizon_months : int
        Months scored after each origin.
    scores : tuple[CandidateScore, ...]
        Every candidate, best first.
    reason : str
        One sentence: how the pair was chosen.
    entry_months : int or None
        Months the level of entries is fitted on (``None``: the whole window).
    members : tuple[tuple[float, int, int | None], ...]
        ``(prior_weight, fit_months, entry_months)`` of the candidates whose rates are
        averaged, best first (empty: the best alone).
    rate_spread : float
        The multiplier of the rates' posterior variances chosen by
        :func:`calibrate_spread` (when not calibrated, the one given: 1 by default).
    spread_scores : tuple[tuple[float, float], ...]
        ``(spread, interval score)`` of every spread compared, in :data:`SPREADS` order
        (empty: not calibrated).
    band : BandCalibration or None
        The reported band's calibration (:func:`calibrate_band`; ``None``: not calibrated).
    """

    prior_weight: float
    fit_months: int
    origins: tuple[dt.date, ...] = ()
    horizon_months: int = 0
    scores: tuple[CandidateScore, ...] = field(default=(), repr=False)
    reason: str = ""
    entry_months: int | None = None
    members: tuple[tuple[float, int, int | None], ...] = ()
    rate_spread: float = 1.0
    spread_scores: tuple[tuple[float, float], ...] = ()
    band: BandCalibration | None = None

    @property
    def band_scale(self) -> float:
        """The reported band's scale (1 when not calibrated)."""
        return 1.0 if self.band is None else self.band.scale

    def __post_init__(self) -> None:
        if self.prior_weight < 0 or self.fit_months < 1:
            raise ValueError("prior_weight must be >= 0 and fit_months >= 1")
        if not self.rate_spread >= 0:
            raise ValueError("rate_spread must be >= 0")

    def summary(self) -> dict[str, Any]:
        """The choice as plain data (JSON-ready): prior weight, fitting window, the window of
        the level of entries, the candidates averaged, the back-test origins and the reason
        (:meth:`text` is the report's note)."""
        return {
            "prior_weight": self.prior_weight,
            "fit_months": self.fit_months,
            "entry_months": self.entry_months,
            "averaged": [
                {"prior_weight": w, "fit_months": m, "entry_months": e} for w, m, e in self.members
            ],
            "origins": [o.isoformat() for o in self.origins],
            "horizon_months": self.horizon_months,
            "rate_spread": self.rate_spread,
            "band_calibration": None if self.band is None else self.band.summary(),
            "reason": self.reason,
        }

    def text(self) -> str:
        """One line for the report's notes."""
        level = (
            ""
            if self.entry_months is None
            else f", the level of entries on the last {self.entry_months} months"
        )
        return (
            f"prior_weight {self.prior_weight:,.0f} child-months and fit_months "
            f"{self.fit_months}{level}: {self.reason}"
        )


def _origins(
    first: dt.date, at: dt.date, horizon: int, every: int, min_fit: int, most: int
) -> list[dt.date]:
    out: list[dt.date] = []
    o = add_months(at, -horizon)
    while add_months(o, -min_fit) >= first and len(out) < most:
        out.append(o)
        o = add_months(o, -every)
    return out


def choose_defaults(
    history: CareHistory,
    at: dt.date,
    *,
    prior_weights: tuple[float, ...] = PRIOR_WEIGHTS,
    fit_months: tuple[int, ...] = FIT_MONTHS,
    entry_months: tuple[int | None, ...] = ENTRY_MONTHS,
    ensemble: int = ENSEMBLE,
    horizon_months: int = 12,
    every_months: int = 6,
    min_fit_months: int = 9,
    max_origins: int = 3,
    entry_trend: str | float = "none",
    max_trend_percent: float = 25.0,
    seasonality: bool = True,
    calibrate: bool = False,
    hazard_recency: str = "none",
    calibrate_band: bool = False,
    rate_uncertainty: bool = True,
    rate_spread: float = 1.0,
) -> Tuning:
    """Choose ``prior_weight`` and ``fit_months`` by rolling-origin back-tests before ``at``.

    See the module docstring for the method. Only data known at ``at`` are used. With
    ``calibrate`` the spread of the rates in the runs is chosen too
    (:func:`calibrate_spread`); without it (no runs, or no rate uncertainty) it stays 1.
    With ``calibrate_band`` the reported band's scale is found too (:func:`calibrate_band_at`),
    its back-tests' runs drawn as the forecast's are (``rate_uncertainty``, and ``rate_spread``
    unless ``calibrate`` chooses it).
    """
    if not prior_weights or not fit_months or not entry_months:
        raise ValueError("give at least one candidate prior weight and fitting window")
    at = dt.date(at.year, at.month, 1)
    known = history.truncated(at)
    first = history.first_month
    horizon = min(horizon_months, max(months_between(first, at) - min_fit_months, 0))
    origins = _origins(first, at, horizon, every_months, min_fit_months, max_origins)
    if horizon < 1 or not origins:
        pw, fm = FALLBACK
        return Tuning(
            pw,
            fm,
            reason=(
                f"the fallback: the data known at {at} are complete from {first}, too short "
                f"for a back-test ({min_fit_months} months to fit and a month to test)"
            ),
            band=BandCalibration() if calibrate_band else None,
        )
    # One pass over the data gives the stock at every month start (as stock_series would).
    stock = observe(known, origins[-1], at).stock.astype(float)
    sums = np.zeros((len(prior_weights), len(fit_months), len(entry_months)))
    totals = np.zeros_like(sums)
    months_scored = 0
    for origin in origins:
        seen = known.truncated(origin)
        population = census(seen, origin)
        spec = SimulationSpec(origin, horizon, "month", 1, 0, False)
        offset = months_between(origins[-1], origin)
        actual = stock[offset + 1 : offset + horizon + 1]
        actual_total = np.maximum(actual.sum(axis=1), 1.0)
        months_scored += len(actual)
        for j, months in enumerate(fit_months):
            obs: Observations = observe(seen, max(add_months(origin, -months), first), origin)
            for i, weight in enumerate(prior_weights):
                for k, level in enumerate(entry_months):
                    if level is not None and level >= months:
                        # the same as the whole window: score it once
                        sums[i, j, k] = totals[i, j, k] = np.inf
                        continue
                    rates: FlowRates = estimate_rates(
                        obs,
                        prior_weight=weight,
                        entry_trend=entry_trend,
                        max_trend_percent=max_trend_percent,
                        seasonality=seasonality,
                        entry_months=level,
                        hazard_recency=hazard_recency,
                    )
                    path = expected_path(rates, population, spec)[1:]
                    err = np.abs(path - actual)
                    total_err = np.abs(path.sum(axis=1) - actual.sum(axis=1))
                    sums[i, j, k] += float(((total_err + err.sum(axis=1)) / actual_total).sum())
                    totals[i, j, k] += float((total_err / actual_total).sum())
    sums /= months_scored
    totals /= months_scored
    tested = [
        (
            known.truncated(o),
            o,
            stock[
                months_between(origins[-1], o) + 1 : months_between(origins[-1], o) + horizon + 1
            ],
        )
        for o in origins
    ]
    scores = sorted(
        (
            CandidateScore(pw, fm, float(sums[i, j, k]), float(totals[i, j, k]), level)
            for i, pw in enumerate(prior_weights)
            for j, fm in enumerate(fit_months)
            for k, level in enumerate(entry_months)
            if np.isfinite(sums[i, j, k])
        ),
        key=lambda c: c.score,
    )
    best = scores[0]
    reason = (
        f"chosen by back-tests at {len(origins)} origin{'s' if len(origins) != 1 else ''} "
        f"({origins[-1]:%Y-%m} to {origins[0]:%Y-%m}, {horizon} months each): error "
        f"{100 * best.score:.1f}% of the children in care (total and by type)"
    )
    default = next(
        (
            c
            for c in scores
            if (c.prior_weight, c.fit_months) == FALLBACK
            and c.entry_months is None
            and c is not best
        ),
        None,
    )
    if default is not None:
        reason += f", against {100 * default.score:.1f}% with 1,200 and 36"
    members = tuple((c.prior_weight, c.fit_months, c.entry_months) for c in scores[:ensemble])
    if len(members) > 1:
        reason += f"; the rates of the best {len(members)} are averaged"
    spread = rate_spread
    spread_scores: tuple[tuple[float, float], ...] = ()
    if calibrate:
        spread, spread_scores = calibrate_spread(
            tested,
            horizon,
            members,
            entry_trend=entry_trend,
            max_trend_percent=max_trend_percent,
            seasonality=seasonality,
            hazard_recency=hazard_recency,
        )
        reason += (
            f"; the rates' uncertainty x{spread:g} (variance), chosen by the P10-P90 band's "
            "interval score at the same origins"
        )
    band: BandCalibration | None = None
    if calibrate_band:
        band = calibrate_band_at(
            tested,
            horizon,
            prior_weights=prior_weights,
            fit_months=fit_months,
            entry_months=entry_months,
            ensemble=ensemble,
            every_months=every_months,
            min_fit_months=min_fit_months,
            max_origins=max_origins,
            entry_trend=entry_trend,
            max_trend_percent=max_trend_percent,
            seasonality=seasonality,
            hazard_recency=hazard_recency,
            rate_spread=spread,
            rate_uncertainty=rate_uncertainty,
        )
        reason += f"; {band.text()}"
    return Tuning(
        best.prior_weight,
        best.fit_months,
        tuple(origins),
        horizon,
        tuple(scores),
        reason,
        best.entry_months,
        members,
        spread,
        spread_scores,
        band,
    )


def band_distances(runs: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Where ``actual`` fell in ``runs``: its distance from the runs' median in units of
    the P10-P90 band's half on its side (0: at the median; 1: on the band's edge).

    ``runs`` is ``(run, ...)`` and ``actual`` the rest of its shape. A half narrower than
    half a child counts as half a child (a small group's band can be one count wide).
    """
    q10, median, q90 = np.quantile(runs, (0.1, 0.5, 0.9), axis=0, method="inverted_cdf")
    above = (actual - median) / np.maximum(q90 - median, _MIN_HALF_WIDTH)
    below = (median - actual) / np.maximum(median - q10, _MIN_HALF_WIDTH)
    return np.asarray(np.where(actual >= median, above, below), dtype=float)


def band_scale(
    distances: np.ndarray, origins: int, *, prior_origins: float = BAND_PRIOR_ORIGINS
) -> tuple[float, float]:
    """The band's scale from the actuals' :func:`band_distances` at ``origins`` back-test
    origins: ``(shrunk, raw)``.

    ``raw`` is the distances' 80th percentile (the factor that would have held 80 % of
    them); the scale is ``raw ** (origins / (origins + prior_origins))``, within
    :data:`BAND_LIMITS`. No distances or no origins give 1.
    """
    d = np.asarray(distances, dtype=float).ravel()
    d = d[np.isfinite(d)]
    if origins < 1 or not len(d):
        return 1.0, 1.0
    lo, hi = BAND_LIMITS
    raw = float(np.clip(np.quantile(d, 0.8), lo, hi))
    weight = origins / (origins + prior_origins)
    return float(np.clip(raw**weight, lo, hi)), raw


def calibrate_band_at(
    tested: list[tuple[CareHistory, dt.date, np.ndarray]],
    horizon: int,
    *,
    prior_weights: tuple[float, ...] = PRIOR_WEIGHTS,
    fit_months: tuple[int, ...] = FIT_MONTHS,
    entry_months: tuple[int | None, ...] = ENTRY_MONTHS,
    ensemble: int = ENSEMBLE,
    every_months: int = 6,
    min_fit_months: int = 9,
    max_origins: int = 3,
    entry_trend: str | float = "none",
    max_trend_percent: float = 25.0,
    seasonality: bool = True,
    hazard_recency: str = "none",
    rate_spread: float = 1.0,
    rate_uncertainty: bool = True,
    runs: int = CALIBRATION_RUNS,
    seed: int = CALIBRATION_SEED,
) -> BandCalibration:
    """The reported band's scale, from where the actuals fell in back-tests' runs.

    ``tested`` holds, per back-test origin, the data known there, the origin and the
    actual counts ``(months, group)`` after it. At each origin the forecast is made as the
    forecast itself is (:func:`choose_defaults` on the data known there, with the same
    candidates, then the best ``ensemble`` candidates' rates averaged; so the origin's own
    months never choose its rates), run ``runs`` times with a fixed seed (with the rates'
    posteriors spread by ``rate_spread``, or drawn at their means without
    ``rate_uncertainty``, as the forecast's runs are), and the actuals'
    :func:`band_distances` are recorded for the total and the four groups in every month;
    :func:`band_scale` turns them into the scale.
    """
    distances: list[np.ndarray] = []
    inside_before: list[np.ndarray] = []
    months = 0
    for seen, origin, actual in tested:
        inner = choose_defaults(
            seen,
            origin,
            prior_weights=prior_weights,
            fit_months=fit_months,
            entry_months=entry_months,
            ensemble=ensemble,
            horizon_months=horizon,
            every_months=every_months,
            min_fit_months=min_fit_months,
            max_origins=max_origins,
            entry_trend=entry_trend,
            max_trend_percent=max_trend_percent,
            seasonality=seasonality,
            hazard_recency=hazard_recency,
        )
        members = inner.members or ((inner.prior_weight, inner.fit_months, inner.entry_months),)
        rates = fit_members(
            seen,
            origin,
            members,
            entry_trend=entry_trend,
            max_trend_percent=max_trend_percent,
            seasonality=seasonality,
            hazard_recency=hazard_recency,
        )
        population = census(seen, origin)
        spec = SimulationSpec(origin, len(actual), "month", runs, seed, rate_uncertainty)
        run = simulate(replace(rates, rate_spread=rate_spread), population, spec)
        both = np.concatenate([run.counts, run.totals[:, :, None]], axis=2)[:, 1:].astype(float)
        truth = np.concatenate([actual, actual.sum(axis=1, keepdims=True)], axis=1)
        # Counts are whole children: an actual equal to a band's edge would count as exactly
        # on it, and the 80th percentile of the distances would stick at 1. Spread each
        # count uniformly over its unit (jittering, as quantiles of counts are taken;
        # Machado and Santos Silva 2005), with a fixed seed.
        rng = np.random.default_rng([seed, origin.toordinal()])
        both = both + rng.uniform(-0.5, 0.5, both.shape)
        truth = truth + rng.uniform(-0.5, 0.5, truth.shape)
        d = band_distances(both, truth)
        distances.append(d)
        inside_before.append(d[:, -1] <= 1.0)
        months += len(actual)
    if not distances:
        return BandCalibration()
    scale, raw = band_scale(np.concatenate(distances), len(distances))
    totals = np.concatenate([d[:, -1] for d in distances])
    return BandCalibration(
        scale,
        raw,
        len(distances),
        months,
        float(np.concatenate(inside_before).mean()),
        float((totals <= scale).mean()),
    )


def interval_score(lower: np.ndarray, upper: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """The P10-P90 band's interval score, element by element (Gneiting and Raftery 2007).

    ``upper - lower`` plus ``2 / 0.2 = 10`` times how far ``actual`` falls below ``lower``
    or above ``upper``. A proper score: its expectation is lowest for the true 10th and
    90th percentiles, so it rewards a band that is as narrow as it can be while holding
    the actual 80 % of the time.
    """
    below = np.maximum(lower - actual, 0.0)
    above = np.maximum(actual - upper, 0.0)
    return (upper - lower) + _OUTSIDE_PENALTY * (below + above)


def calibrate_spread(
    tested: list[tuple[CareHistory, dt.date, np.ndarray]],
    horizon: int,
    members: tuple[tuple[float, int, int | None], ...],
    *,
    spreads: tuple[float, ...] = SPREADS,
    runs: int = CALIBRATION_RUNS,
    seed: int = CALIBRATION_SEED,
    entry_trend: str | float = "none",
    max_trend_percent: float = 25.0,
    seasonality: bool = True,
    hazard_recency: str = "none",
) -> tuple[float, tuple[tuple[float, float], ...]]:
    """The multiplier of the rates' posterior variances whose band scores best.

    ``tested`` holds, per back-test origin, the data known there, the origin and the
    actual counts ``(months, group)`` of the ``horizon`` months after it. At each origin
    ``members``' averaged rates (:func:`fit_members`) are run ``runs`` times with each
    spread (the same seed for every spread), and each spread's P10-P90 band is scored by
    :func:`interval_score` on the total and the four groups, as a share of the children
    actually in care, averaged over months and origins. The lowest wins; ties go to the
    earlier spread in ``spreads``. Returns the spread and every ``(spread, score)``.
    """
    if not spreads or any(not (x >= 0 and np.isfinite(x)) for x in spreads):
        raise ValueError("spreads must be finite and non-negative")
    sums = np.zeros(len(spreads))
    months = 0
    for seen, origin, actual in tested:
        rates = fit_members(
            seen,
            origin,
            members,
            entry_trend=entry_trend,
            max_trend_percent=max_trend_percent,
            seasonality=seasonality,
            hazard_recency=hazard_recency,
        )
        population = census(seen, origin)
        spec = SimulationSpec(origin, len(actual), "month", runs, seed, True)
        truth = np.concatenate([actual, actual.sum(axis=1, keepdims=True)], axis=1)
        scale = np.maximum(truth[:, -1], 1.0)
        months += len(actual)
        for i, spread in enumerate(spreads):
            run = simulate(replace(rates, rate_spread=spread), population, spec)
            q = run.quantile_counts((0.1, 0.9))[:, 1:, :]
            sums[i] += float((interval_score(q[0], q[1], truth).sum(axis=1) / scale).sum())
    scores = sums / max(months, 1)
    best = int(np.argmin(scores))  # the first of equal scores
    return float(spreads[best]), tuple(
        (float(x), float(v)) for x, v in zip(spreads, scores, strict=True)
    )


def fit_members(
    known: CareHistory,
    at: dt.date,
    members: tuple[tuple[float, int, int | None], ...],
    *,
    entry_trend: str | float = "none",
    max_trend_percent: float = 25.0,
    seasonality: bool = True,
    hazard_recency: str = "none",
) -> FlowRates:
    """The averaged rates of ``members`` (:func:`scenarios.forecast.rates.average_rates`).

    Each member ``(prior_weight, fit_months, entry_months)`` is fitted on the data known at
    ``at`` (its window starting no earlier than the data's first complete month). Picking
    one candidate from a few back-tests overfits them (on the public sample's rolling
    origins, 12 months ahead on the twin, the single best was 4.8 % off on the total and the
    average of the best five 4.6 %, with a smaller error by type, 15.6 % against 17.8 %), and
    the members' disagreement is uncertainty the runs should show.
    """
    if not members:
        raise ValueError("fit_members needs at least one member")
    first = known.first_month
    fitted = []
    for weight, months, level in members:
        obs = observe(known, max(add_months(at, -months), first), at)
        fitted.append(
            estimate_rates(
                obs,
                prior_weight=weight,
                entry_trend=entry_trend,
                max_trend_percent=max_trend_percent,
                seasonality=seasonality,
                entry_months=level,
                hazard_recency=hazard_recency,
            )
        )
    return average_rates(tuple(fitted))


__all__ = [
    "BAND_LIMITS",
    "BAND_PRIOR_ORIGINS",
    "ENSEMBLE",
    "ENTRY_MONTHS",
    "FALLBACK",
    "FIT_MONTHS",
    "PRIOR_WEIGHTS",
    "SPREADS",
    "BandCalibration",
    "CandidateScore",
    "Tuning",
    "band_distances",
    "band_scale",
    "calibrate_band_at",
    "calibrate_spread",
    "choose_defaults",
    "fit_members",
    "interval_score",
]
