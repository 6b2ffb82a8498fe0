"""Exit and move hazards: the council's own level under the national shape, and the
recency weighting of the fit window's months (``rates.hazard_recency``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from matcher.ssda903 import read_episodes, read_header, read_uasc
from scenarios.forecast.config import parse_config
from scenarios.forecast.rates import (
    GROUPS,
    Observations,
    _move_posterior,
    care_history,
    estimate_rates,
    month_starts,
    national_rates,
    observe,
    recency_discount,
)
from scenarios.forecast.runner import stochastic_setup, what_was_assumed
from scenarios.forecast.statement import add_months
from scenarios.forecast.synthetic import KnownRates, example_rates, generate_returns

FOSTERING, RESIDENTIAL = 0, 1
MONTHS = 36


def _moves(seed: int, *, change_at: int | None, exposure: float = 30.0) -> np.ndarray:
    """Monthly moves ``(month, age, from, to)`` drawn at the national move hazards; from
    ``change_at`` on, moves from residential to fostering are 15 times as likely."""
    rng = np.random.default_rng(seed)
    hazard = national_rates().move_hazard
    out = np.zeros((MONTHS, *hazard.shape))
    for t in range(MONTHS):
        h = hazard.copy()
        if change_at is not None and t >= change_at:
            h[:, RESIDENTIAL, FOSTERING] *= 15.0
        out[t] = rng.poisson(h * exposure)
    return out


def _choose_moves(moves: np.ndarray, exposure: float = 30.0) -> float:
    nat = national_rates().move_hazard
    return recency_discount(
        moves,
        np.full((len(moves), 5, len(GROUPS)), exposure),
        lambda ev, ex, share: _move_posterior(ev, ex, 100.0 * share, nat),
        lambda ex: np.repeat(ex[..., None], len(GROUPS), axis=-1),
    ).discount


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_recency_follows_moves_that_quicken(seed: int) -> None:
    # moves out of residential quicken for the window's last 12 months
    assert _choose_moves(_moves(seed, change_at=MONTHS - 12)) < 1.0


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_recency_keeps_every_month_on_steady_moves(seed: int) -> None:
    assert _choose_moves(_moves(seed, change_at=None)) == 1.0


def test_recency_discount_refuses_bad_input() -> None:
    moves = _moves(1, change_at=None)
    with pytest.raises(ValueError, match="same months"):
        recency_discount(moves, np.ones((3, 5, 4)), lambda e, x, s: (e, x), lambda x: x)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        _ = recency_discount(
            moves,
            np.ones((MONTHS, 5, 4)),
            lambda e, x, s: (e, x),
            lambda x: x,
            discounts=(1.0, 0.0),
        )


def _observations(moves: np.ndarray, seed: int, exposure: float = 30.0) -> Observations:
    """Observations of a window whose exits are steady (national hazards) and whose
    moves are ``moves``."""
    rng = np.random.default_rng(seed + 100)
    exit_h = np.repeat(national_rates().exit_hazard[:, :, None], 4, axis=2)
    exit_exposure = np.full((MONTHS, 5, 4), exposure / 4.0)
    exits = rng.poisson(exit_h[None] * exit_exposure[:, None])
    move_exposure = np.full((MONTHS, 5, len(GROUPS)), exposure)
    months = tuple(month_starts(dt.date(2020, 1, 1), add_months(dt.date(2020, 1, 1), MONTHS)))
    stock = np.full((MONTHS + 1, len(GROUPS)), int(5 * exposure / len(GROUPS)))
    return Observations(
        months,
        exits.sum(axis=0).astype(float),
        exit_exposure.sum(axis=0),
        moves.sum(axis=0),
        move_exposure.sum(axis=0),
        np.zeros((2, 5, len(GROUPS))),
        np.zeros((2, MONTHS)),
        stock,
        0,
        exits.astype(float),
        exit_exposure,
        moves,
        move_exposure,
    )


def test_hazard_recency_auto_follows_the_recent_move_rate() -> None:
    obs = _observations(_moves(3, change_at=MONTHS - 12), 3)
    plain = estimate_rates(obs, prior_weight=100.0)
    recent = estimate_rates(obs, prior_weight=100.0, hazard_recency="auto")
    assert (plain.exit_discount, plain.move_discount) == (1.0, 1.0)
    assert recent.move_discount < 1.0
    assert recent.exit_discount == 1.0  # the exits did not change
    truth = national_rates().move_hazard[:, RESIDENTIAL, FOSTERING].mean() * 15.0
    before = plain.move_hazard[:, RESIDENTIAL, FOSTERING].mean()
    after = recent.move_hazard[:, RESIDENTIAL, FOSTERING].mean()
    assert abs(after - truth) < abs(before - truth)
    assert any("recent months weighted more" in n for n in recent.notes)
    assert not any("recent months weighted more" in n for n in plain.notes)


def test_hazard_recency_auto_changes_nothing_on_steady_data() -> None:
    obs = _observations(_moves(4, change_at=None), 4)
    plain = estimate_rates(obs, prior_weight=100.0)
    recent = estimate_rates(obs, prior_weight=100.0, hazard_recency="auto")
    assert (recent.exit_discount, recent.move_discount) == (1.0, 1.0)
    assert np.array_equal(plain.move_hazard, recent.move_hazard)
    assert np.array_equal(plain.exit_hazard, recent.exit_hazard)
    with pytest.raises(ValueError, match="hazard_recency"):
        estimate_rates(obs, hazard_recency="local")


def _history(folder: Path):  # type: ignore[no-untyped-def]
    return care_history(
        read_episodes(sorted(folder.glob("*-episodes.csv"))),
        read_header(sorted(folder.glob("*-header.csv"))),
        read_uasc(sorted(folder.glob("*-uasc.csv"))),
    )


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_a_strong_prior_keeps_the_councils_level_of_exits_and_moves(
    tmp_path: Path, seed: int
) -> None:
    # An authority whose children leave twice as fast as the national assumption and move
    # twice as often, at every age: with 1,200 child-months of prior on a year of its data
    # (about 2,300 child-months) the fitted hazards must still give about its own number of
    # exits and moves. With the national level as the prior they gave 0.62-0.70 of its exits
    # and 0.55-0.67 of its moves; the shape by age, route and time in care still comes
    # partly from the national prior, so not exactly 1.
    known = example_rates(exit_scale=2.0)
    rates = KnownRates(known.entries_per_month, known.exit_hazard, known.move_hazard * 2.0)
    generate_returns(rates, first_year=2019, last_year=2020, seed=seed).write(tmp_path)
    obs = observe(_history(tmp_path), dt.date(2019, 4, 1), dt.date(2020, 4, 1))
    fitted = estimate_rates(obs, prior_weight=1200.0)
    exits = float((fitted.exit_hazard * obs.exit_exposure).sum() / obs.exit_events.sum())
    moves = float((fitted.move_hazard * obs.move_exposure[..., None]).sum() / obs.move_events.sum())
    assert exits > 0.8
    assert moves > 0.75


def test_what_the_model_assumed_shows_the_recency(tmp_path: Path) -> None:
    generate_returns(example_rates(), first_year=2019, last_year=2021, seed=8).write(tmp_path)

    def config(recency: str):  # type: ignore[no-untyped-def]
        return parse_config(
            {
                "forecast": {"mode": "stochastic", "horizon_months": 12, "runs": 10},
                "data": {
                    "episodes": ["*-episodes.csv"],
                    "header": ["*-header.csv"],
                    "uasc": ["*-uasc.csv"],
                },
                "rates": {"hazard_recency": recency},
            },
            source="test.toml",
        )

    on = config("auto")
    rows = dict(what_was_assumed(stochastic_setup(on, tmp_path), on))
    assert "recency of exit and move hazards" in rows
    off = config("none")
    assert "recency of exit and move hazards" not in dict(
        what_was_assumed(stochastic_setup(off, tmp_path), off)
    )
    with pytest.raises(ValueError, match="hazard_recency"):
        config("sometimes")
