"""Synthetic 903 histories from known rates: the forecast's estimator gives them back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from matcher.ssda903 import read_episodes, read_header, read_uasc
from scenarios.forecast.config import parse_config
from scenarios.forecast.rates import (
    CareHistory,
    FlowRates,
    Observations,
    care_history,
    estimate_rates,
    observe,
)
from scenarios.forecast.runner import run_rolling_backtest
from scenarios.forecast.synthetic import KnownRates, example_rates, generate_returns

SEED = 17


def _read(folder: Path) -> CareHistory:
    return care_history(
        read_episodes(sorted(folder.glob("*-episodes.csv"))),
        read_header(sorted(folder.glob("*-header.csv"))),
        read_uasc(sorted(folder.glob("*-uasc.csv"))),
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[KnownRates, Observations, FlowRates]:
    """Eight yearly returns from an authority that opens empty: every period is seen whole."""
    known = example_rates()
    tmp = tmp_path_factory.mktemp("synthetic")
    generate_returns(known, first_year=2015, last_year=2022, seed=SEED, burn_in_years=0).write(tmp)
    hist = _read(tmp)
    obs = observe(hist, hist.first_month, hist.data_end)
    # A negligible prior: the council's own rates, which must be the known ones.
    return known, obs, estimate_rates(obs, prior_weight=1e-9)


def _z(fitted_events: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Poisson z-scores of cells expecting at least 5 events."""
    keep = expected >= 5.0
    return (fitted_events[keep] - expected[keep]) / np.sqrt(expected[keep])


def _within_sampling_error(families: list[np.ndarray]) -> bool:
    """Whether z-scores look like chance. In each family (exits, moves, entries): no cell
    beyond 4 standard errors and no shift of the whole family (the sum of its z over the
    root of its size, N(0, 1) when the rates are right, within 3.5). Over all cells: the
    mean of z squared below 2 (about 1 when right; above 2 on 20 or more cells less than
    once in a hundred times by chance)."""
    every = np.concatenate(families)
    return bool(
        len(every) >= 20
        and all(len(z) and np.abs(z).max() < 4.0 for z in families)
        and all(abs(z.sum()) / np.sqrt(len(z)) < 3.5 for z in families)
        and (every**2).mean() < 2.0
    )


def _all_z(known: KnownRates, obs: Observations, rates: FlowRates) -> list[np.ndarray]:
    """Each fitted rate times its exposure against the known rate's, as Poisson z-scores
    in three families: exits by route and age band and by time-in-care band; moves by from
    and to group; entries by stream and (children entering care) by age band and group."""
    exposure = obs.exit_exposure[None, :, :]
    got = rates.exit_hazard * exposure
    want = known.exit_hazard * exposure
    # Exits within a month of 18 count as turning 18, not as a hazard (by design), so the
    # 16-17 band's hazards are tested apart.
    young = slice(0, 4)
    by_route_age = _z(got.sum(axis=2)[:, young], want.sum(axis=2)[:, young])
    by_tic = _z(got[:, young].sum(axis=(0, 1)), want[:, young].sum(axis=(0, 1)))
    stay = obs.move_exposure[:, :, None]
    moves = _z((rates.move_hazard * stay).sum(axis=0), (known.move_hazard * stay).sum(axis=0))
    months = len(obs.months) - 1
    arrived = rates.entries_per_month * months
    due = known.entries_per_month * months
    by_stream = _z(arrived.sum(axis=(1, 2)), due.sum(axis=(1, 2)))
    by_cell = _z(arrived[0], due[0])
    return [np.concatenate([by_route_age, by_tic]), moves, np.concatenate([by_stream, by_cell])]


def test_fitted_rates_recover_the_known_ones(
    fitted: tuple[KnownRates, Observations, FlowRates],
) -> None:
    known, obs, rates = fitted
    z = _all_z(known, obs, rates)
    assert _within_sampling_error(z), np.round(z, 2)
    # Children leave soonest early in a period of care: the fitted rates show it.
    young = slice(0, 4)
    rate_by_tic = (rates.exit_hazard * obs.exit_exposure[None])[:, young].sum(axis=(0, 1)) / (
        obs.exit_exposure[young].sum(axis=0)
    )
    assert rate_by_tic[0] > 1.5 * rate_by_tic[3]
    # 16-17: the hazard is under-counted only by the exits within a month of 18, at most
    # one month in 24 of the band's exposure (and sampling error).
    old = (rates.exit_hazard * obs.exit_exposure[None])[:, 4].sum()
    truth = (known.exit_hazard * obs.exit_exposure[None])[:, 4].sum()
    assert truth * (1 - 1 / 24) - 4 * np.sqrt(truth) < old < truth + 4 * np.sqrt(truth)


@pytest.mark.parametrize(
    ("what", "factor"), [("exits", 1.25), ("exits", 0.8), ("moves", 1.6), ("entries", 1.25)]
)
def test_the_check_rejects_rates_that_are_not_the_ones_drawn_from(
    fitted: tuple[KnownRates, Observations, FlowRates], what: str, factor: float
) -> None:
    known, obs, rates = fitted
    wrong = KnownRates(
        known.entries_per_month * (factor if what == "entries" else 1.0),
        known.exit_hazard * (factor if what == "exits" else 1.0),
        known.move_hazard * (factor if what == "moves" else 1.0),
    )
    assert not _within_sampling_error(_all_z(wrong, obs, rates))


def test_the_same_seed_gives_the_same_returns(tmp_path: Path) -> None:
    rates = example_rates(children_a_month=3.0)
    one = generate_returns(rates, first_year=2020, last_year=2021, seed=4, burn_in_years=2)
    two = generate_returns(rates, first_year=2020, last_year=2021, seed=4, burn_in_years=2)
    other = generate_returns(rates, first_year=2020, last_year=2021, seed=5, burn_in_years=2)
    for year in (2020, 2021):
        for a, b in zip(one.tables[year], two.tables[year], strict=True):
            assert a.equals(b)
    assert not one.tables[2021][0].equals(other.tables[2021][0])
    paths = one.write(tmp_path)
    assert [p.name for p in paths[:3]] == ["2020-episodes.csv", "2020-header.csv", "2020-uasc.csv"]
    # The files are 903 tables the forecast's readers accept, of invented children only.
    hist = _read(tmp_path)
    assert hist.episodes["CHILD"].str.startswith("SYN").all()
    # An episode open at the year end is written open in that year's return.
    eps = read_episodes(tmp_path / "2020-episodes.csv")
    assert eps["DEC"].isna().any()
    assert (eps["DEC"].dropna() <= "2020-03-31").all()


def test_known_rates_are_checked() -> None:
    good = example_rates()
    with pytest.raises(ValueError, match="shape"):
        KnownRates(good.entries_per_month[:1], good.exit_hazard, good.move_hazard)
    under_16 = good.entries_per_month.copy()
    under_16[0, 2, 2] = 0.1  # 5-9 year olds arriving in supported accommodation
    with pytest.raises(ValueError, match="under-16"):
        KnownRates(under_16, good.exit_hazard, good.move_hazard)
    diagonal = good.move_hazard.copy()
    diagonal[0, 0, 0] = 0.1
    with pytest.raises(ValueError, match="diagonal"):
        KnownRates(good.entries_per_month, good.exit_hazard, diagonal)
    with pytest.raises(ValueError, match="last_year"):
        generate_returns(good, first_year=2022, last_year=2021, seed=1)


def test_rolling_backtest_on_known_rates_reports_error_and_cover(tmp_path: Path) -> None:
    # A steady authority (18 years' burn-in) and five returns, as the public sample has.
    generate_returns(example_rates(), first_year=2018, last_year=2022, seed=SEED).write(tmp_path)
    config = parse_config(
        {
            "forecast": {"mode": "stochastic", "horizon_months": 12, "runs": 200, "seed": 3},
            "data": {
                "episodes": [str(tmp_path / "*-episodes.csv")],
                "header": [str(tmp_path / "*-header.csv")],
                "uasc": [str(tmp_path / "*-uasc.csv")],
            },
        },
        source="synthetic",
    )
    result = run_rolling_backtest(config, tmp_path, horizon_months=12)
    assert result.origins[0] >= dt.date(2018, 4, 1)
    total, by_type, n = result.mean_absolute_error(12)
    assert n == len(result.origins) >= 3
    # The model is the process that drew the data: a year ahead the median is close.
    assert total < 12.0, total
    assert np.isfinite(by_type)
    cover = result.coverage()
    assert 0.5 <= cover[-1] <= 1.0, cover
