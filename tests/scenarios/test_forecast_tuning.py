"""Defaults chosen from the council's own data, and rolling-origin back-tests."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from matcher.ssda903 import read_episodes, read_header, read_uasc
from placematch.cli import main
from scenarios.forecast.backtest import rolling_origins
from scenarios.forecast.config import ForecastConfigError, load_config
from scenarios.forecast.rates import CareHistory, care_history
from scenarios.forecast.runner import (
    entry_level_text,
    run_rolling_backtest,
    stochastic_setup,
    what_was_assumed,
)
from scenarios.forecast.tuning import (
    ENSEMBLE,
    ENTRY_MONTHS,
    FIT_MONTHS,
    PRIOR_WEIGHTS,
    choose_defaults,
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


def _config(tmp_path: Path, rates: str = "", data: str = "") -> Path:
    path = tmp_path / "yearly.toml"
    path.write_text(
        f"""
[forecast]
mode = "stochastic"
horizon_months = 12
runs = 40
seed = 5
[data]
episodes = ["{YEARLY}/*-episodes.csv"]
header = ["{YEARLY}/*-header.csv"]
uasc = ["{YEARLY}/*-uasc.csv"]
{data}
[rates]
{rates}
""",
        encoding="utf-8",
    )
    return path


def test_the_choice_is_the_best_candidate_and_sees_nothing_after_the_start() -> None:
    hist = yearly()
    tuning = choose_defaults(hist, AT)
    assert tuning.origins  # 2019-04 .. 2021-03 leaves room for back-tests
    # 23 complete months before AT: a year to test, ending at AT, leaves 11 (>= 9) to fit;
    # six months earlier only 5 would be left.
    assert tuning.horizon_months == 12
    assert tuning.origins == (dt.date(2020, 3, 1),)
    triples = {(c.prior_weight, c.fit_months, c.entry_months) for c in tuning.scores}
    # A level window as long as the fit window is the whole window: scored once.
    assert triples == {
        (w, m, e) for w in PRIOR_WEIGHTS for m in FIT_MONTHS for e in ENTRY_MONTHS if (e or 0) < m
    }
    best = min(tuning.scores, key=lambda c: c.score)
    assert (tuning.prior_weight, tuning.fit_months, tuning.entry_months) == (
        best.prior_weight,
        best.fit_months,
        best.entry_months,
    )
    # The averaged members are the best ENSEMBLE candidates, best first.
    ranked = sorted(tuning.scores, key=lambda c: c.score)[:ENSEMBLE]
    assert tuning.members == tuple((c.prior_weight, c.fit_months, c.entry_months) for c in ranked)
    # Data after the start change nothing: the choice is made on what was known then.
    again = choose_defaults(hist.truncated(AT), AT)
    assert again.scores == tuning.scores
    # A one-candidate grid scores that candidate exactly as the full grid did.
    alone = choose_defaults(hist, AT, prior_weights=(300.0,), fit_months=(24,))
    (one,) = alone.scores
    assert one == next(
        c
        for c in tuning.scores
        if (c.prior_weight, c.fit_months, c.entry_months) == (300, 24, None)
    )
    assert alone.members == ((300.0, 24, None),)
    assert str(tuning.origins[0].year) in tuning.reason


def test_too_little_history_falls_back_and_says_so() -> None:
    tuning = choose_defaults(yearly(), dt.date(2019, 10, 1))
    assert tuning.origins == ()
    assert (tuning.prior_weight, tuning.fit_months) == (1200.0, 36)
    assert "fallback" in tuning.reason and "2019-04-01" in tuning.reason


def test_rolling_origins_every_six_months() -> None:
    got = rolling_origins(dt.date(2019, 4, 1), dt.date(2022, 3, 1))
    assert got == (dt.date(2020, 9, 1), dt.date(2021, 3, 1))
    assert rolling_origins(dt.date(2019, 4, 1), dt.date(2020, 12, 1)) == ()
    three = rolling_origins(dt.date(2017, 4, 1), dt.date(2022, 3, 1), every_months=12)
    # 2018-03 has only 11 complete months before it.
    assert three == (dt.date(2019, 3, 1), dt.date(2020, 3, 1), dt.date(2021, 3, 1))


def test_auto_is_the_default_and_the_report_notes_name_the_choice(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    assert config.rates.prior_weight == "auto" and config.data is not None
    assert config.data.fit_months == "auto"
    setup = stochastic_setup(config, tmp_path)
    assert setup.tuning is not None
    assert setup.rates.notes[0] == setup.tuning.text()
    # The table of what was assumed names the level of entries and the averaged candidates.
    rows = dict(what_was_assumed(setup, config))
    assert setup.tuning.entry_months is None
    assert rows["level of entries"] == entry_level_text(setup.rates)
    assert rows["level of entries"].startswith(("a local level", "one level for the window"))
    members = setup.tuning.members
    assert len(members) == ENSEMBLE
    assert rows["rates averaged over"].endswith(
        ", ".join(f"{w:,.0f}/{m}/{'all' if e is None else e}" for w, m, e in members)
    )
    fixed = stochastic_setup(
        load_config(_config(tmp_path, "prior_weight = 500", "fit_months = 24")), tmp_path
    )
    assert fixed.tuning is None
    # Only the window is searched when the prior weight is given.
    half = stochastic_setup(load_config(_config(tmp_path, "prior_weight = 500")), tmp_path)
    assert half.tuning is not None and half.tuning.prior_weight == 500.0
    assert {c.prior_weight for c in half.tuning.scores} == {500.0}


def test_a_bad_prior_weight_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ForecastConfigError, match=r"rates\.prior_weight"):
        load_config(_config(tmp_path, 'prior_weight = "strong"'))
    with pytest.raises(ForecastConfigError, match=r"data\.fit_months"):
        load_config(_config(tmp_path, data="fit_months = 3"))


def test_rolling_backtest_scores_one_and_two_years_ahead(tmp_path: Path) -> None:
    result = run_rolling_backtest(load_config(_config(tmp_path)), tmp_path)
    assert result.origins == (dt.date(2020, 9, 1), dt.date(2021, 3, 1))
    err12 = result.errors(12)
    assert err12.shape == (2, 5)
    # By hand: the median 12 months after the first origin against what happened.
    first = result.results[0]
    median = first.forecast.quantile_counts((0.5,))[0][12, -1]
    actual = first.actual[12, -1]
    assert err12[0, -1] == pytest.approx((median - actual) / actual * 100)
    total, by_type, n = result.mean_absolute_error(12)
    assert n == 2 and total == pytest.approx(np.abs(err12[:, -1]).mean())
    assert by_type == pytest.approx(np.nanmean(np.nanmean(np.abs(err12[:, :4]), axis=0)))
    # The data end 18 and 12 months after the origins: nothing is scored two years ahead.
    assert result.mean_absolute_error(24)[2] == 0
    cover = result.coverage()
    assert np.all((cover >= 0) & (cover <= 1))


def test_cli_rolling_prints_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path)
    assert main(["scenario", "backtest", str(path), "--rolling", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2020-09-01" in out and "2021-03-01" in out and "P10-P90" in out
    assert main(["scenario", "backtest", str(path), "--rolling", "--json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "rolling_backtest"
    assert [o["at"] for o in data["origins"]] == ["2020-09-01", "2021-03-01"]
    assert data["summary"]["12_months"]["origins"] == 2
    assert data["origins"][0]["prior_weight"] in PRIOR_WEIGHTS


def test_rolling_needs_two_years(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.mkdir()
    for f in YEARLY.glob("2019-*.csv"):
        (short / f.name).write_bytes(f.read_bytes())
    config = tmp_path / "short.toml"
    config.write_text(
        _config(tmp_path).read_text(encoding="utf-8").replace(str(YEARLY), str(short)),
        encoding="utf-8",
    )
    with pytest.raises(ForecastConfigError, match=r"data: .*24 months"):
        run_rolling_backtest(load_config(config), tmp_path)
