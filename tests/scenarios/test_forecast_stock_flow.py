"""Stochastic mode: rates from 903 episodes, the simulation, its deterministic twin, back-tests."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.placement_types import SufficiencyGroup as G
from matcher.ssda903 import open_episodes, read_episodes, read_header, read_uasc
from placematch.cli import main
from scenarios.forecast.backtest import backtest, naive_trend
from scenarios.forecast.config import load_config
from scenarios.forecast.rates import (
    CareHistory,
    FlowRates,
    Population,
    care_history,
    census,
    estimate_rates,
    national_rates,
    observe,
)
from scenarios.forecast.report import stochastic_csv, stochastic_html, stochastic_json
from scenarios.forecast.runner import run_stochastic
from scenarios.forecast.stock_flow import SimulationSpec, expected_path, simulate

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "ssda903"
EXAMPLE = ROOT / "examples" / "synthetic_903_forecast.toml"
AT = dt.date(2019, 4, 1)


@cache
def yearly() -> CareHistory:
    files = sorted((DATA / "yearly").glob("*-episodes.csv"))
    return care_history(
        read_episodes(files),
        read_header(sorted((DATA / "yearly").glob("*-header.csv"))),
        read_uasc(sorted((DATA / "yearly").glob("*-uasc.csv"))),
    )


@cache
def regional() -> CareHistory:
    d = DATA / "regional"
    return care_history(
        read_episodes(d / "episodes.csv"),
        read_header(d / "header.csv"),
        read_uasc(d / "uasc.csv"),
        la="Hillingdon",
    )


@cache
def fitted() -> tuple[FlowRates, Population]:
    hist = yearly()
    obs = observe(hist, dt.date(2019, 4, 1), dt.date(2020, 4, 1))
    return estimate_rates(obs), census(hist, dt.date(2020, 4, 1))


def test_census_matches_open_episodes() -> None:
    files = sorted((DATA / "yearly").glob("*-episodes.csv"))
    episodes = read_episodes(files)
    pop = census(yearly(), dt.date(2020, 4, 1))
    current = open_episodes(episodes, "2020-04-01")
    # Every open episode's child has a header row in the fixture and is under 18.
    assert len(pop) == len(current)
    by_group = current["sufficiency_group"].value_counts()
    assert pop.counts().tolist() == [
        by_group.get(g, 0) for g in ("fostering", "residential", "supported_accommodation", "other")
    ]
    assert (pop.age_days >= 0).all() and (pop.age_days < 18 * 366).all()
    assert (pop.tic_days >= 0).all()


def test_observations_are_consistent() -> None:
    hist = yearly()
    obs = observe(hist, dt.date(2019, 4, 1), dt.date(2020, 4, 1))
    assert len(obs.months) == 13
    assert obs.stock.shape == (13, 4)
    # The month-start stock is the census count.
    assert obs.stock[0].tolist() == census(hist, dt.date(2019, 4, 1)).counts().tolist()
    # Exposure is the stock at the 12 month starts that have a next month.
    assert obs.child_months == obs.stock[:-1].sum()
    # Stock flow identity: next = this - exits - turned 18 + entries (+ moves net zero),
    # up to children whose periods the fixture starts without an RNE "S" entry.
    exits = obs.exit_events.sum() + obs.turned_18
    change = obs.stock[-1].sum() - obs.stock[0].sum()
    assert change <= obs.entry_events.sum() - exits + 5
    assert obs.move_events.sum() > 0
    assert np.all(np.diagonal(obs.move_events, axis1=1, axis2=2) == 0)


def test_regional_extract_needs_an_authority() -> None:
    d = DATA / "regional"
    with pytest.raises(ValueError, match="several authorities"):
        care_history(read_episodes(d / "episodes.csv"), read_header(d / "header.csv"))
    with pytest.raises(LookupError, match="Hillingdon, Southwark"):
        care_history(read_episodes(d / "episodes.csv"), read_header(d / "header.csv"), la="Essex")


def test_small_authorities_are_pulled_towards_national_rates() -> None:
    hist = regional()
    obs = observe(hist, dt.date(2017, 4, 1), AT)
    own = estimate_rates(obs, prior_weight=1e-6)
    pulled = estimate_rates(obs, prior_weight=1e9)
    nat = national_rates()
    raw = obs.exit_events.sum(axis=(1, 2)) / obs.child_months
    # Without a prior the council's overall chance of leaving by route is its own (the
    # rates are hazards: a hazard h over competing routes is a chance 1 - exp(-sum h)).
    weights = obs.exit_exposure / obs.child_months
    assert (_chance(own.exit_hazard, 0) * weights).sum(axis=(1, 2)) == pytest.approx(raw, rel=1e-4)
    # With an overwhelming prior each age band's chance is national.
    assert _chance(pulled.exit_hazard, 0)[:, :, 0] == pytest.approx(
        nat.exit_hazard, rel=1e-4, abs=1e-8
    )
    assert _chance(pulled.move_hazard, 2) == pytest.approx(nat.move_hazard, rel=1e-4, abs=1e-8)
    # The hazards are a little above the chances, most where leaving is likeliest.
    assert np.all(own.exit_hazard >= _chance(own.exit_hazard, 0))


def _chance(hazard: np.ndarray, axis: int) -> np.ndarray:
    """Chances in a month of competing events with these monthly hazards."""
    total = hazard.sum(axis=axis, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, hazard * -np.expm1(-total) / safe, 0.0)


def test_simulation_is_reproducible_and_chunking_does_not_matter() -> None:
    rates, pop = fitted()
    spec = SimulationSpec(dt.date(2020, 4, 1), 12, runs=60, seed=7)
    a = simulate(rates, pop, spec)
    b = simulate(rates, pop, spec, chunk_runs=7)
    assert np.array_equal(a.counts, b.counts)
    c = simulate(rates, pop, SimulationSpec(dt.date(2020, 4, 1), 12, runs=60, seed=8))
    assert not np.array_equal(a.counts, c.counts)
    assert (a.counts >= 0).all()
    assert a.counts[:, 0, :].tolist() == [pop.counts().tolist()] * 60
    q = a.quantile_counts()
    assert np.all(np.diff(q, axis=0) >= 0)  # P10 <= P50 <= P80 <= P95


def test_median_tracks_the_deterministic_twin_without_rate_noise() -> None:
    rates, pop = fitted()
    spec = SimulationSpec(dt.date(2020, 4, 1), 24, runs=400, seed=3, rate_uncertainty=False)
    sim = simulate(rates, pop, spec)
    exp = expected_path(rates, pop, spec)
    mean = sim.counts.mean(axis=0)
    median = sim.quantile_counts((0.5,))[0][:, :4]
    # The run mean is the expectation: within 3 standard errors (plus a child for ages
    # spread on a grid in the twin).
    se = sim.counts.std(axis=0) / np.sqrt(spec.runs)
    assert np.all(np.abs(mean - exp) <= 3 * se + 1.0)
    assert np.all(np.abs(median - exp) <= np.maximum(2.0, 0.1 * exp))


def test_rate_uncertainty_widens_the_fan() -> None:
    rates, pop = fitted()
    base = dict(start=dt.date(2020, 4, 1), horizon_months=24, runs=300, seed=5)
    calm = simulate(rates, pop, SimulationSpec(**base, rate_uncertainty=False))  # type: ignore[arg-type]
    wild = simulate(rates, pop, SimulationSpec(**base, rate_uncertainty=True))  # type: ignore[arg-type]
    assert wild.totals[:, -1].std() > calm.totals[:, -1].std()


@settings(max_examples=12)
@given(
    low=st.floats(0.0, 2.0),
    extra=st.floats(0.01, 3.0),
    seed=st.integers(0, 2**31),
    uncertain=st.booleans(),
)
def test_a_higher_entry_rate_never_lowers_need(
    low: float, extra: float, seed: int, uncertain: bool
) -> None:
    rates, pop = fitted()
    spec = SimulationSpec(dt.date(2020, 4, 1), 12, runs=40, seed=seed, rate_uncertainty=uncertain)
    lo = simulate(rates.scaled(entries=low, uasc=low), pop, spec)
    hi = simulate(rates.scaled(entries=low + extra, uasc=low + extra), pop, spec)
    # Pathwise: every run has at least as many children in every group at every date.
    assert np.all(hi.counts >= lo.counts)
    for level in (0.5, 0.8, 0.95):
        need_lo, need_hi = lo.places_needed(level), hi.places_needed(level)
        assert all(need_hi[g] >= need_lo[g] for g in need_lo)


def test_weekly_steps_agree_with_monthly() -> None:
    rates, pop = fitted()
    monthly = SimulationSpec(dt.date(2020, 4, 1), 12, runs=1, rate_uncertainty=False)
    weekly = SimulationSpec(dt.date(2020, 4, 1), 12, step="week", runs=1, rate_uncertainty=False)
    m = expected_path(rates, pop, monthly)
    w = expected_path(rates, pop, weekly)
    assert len(weekly.dates()) == 53
    assert w[-1].sum() == pytest.approx(m[-1].sum(), rel=0.03)
    sim = simulate(rates, pop, SimulationSpec(dt.date(2020, 4, 1), 12, step="week", runs=50))
    assert sim.counts.shape == (50, 53, 4)


def test_places_needed() -> None:
    rates, pop = fitted()
    f = simulate(rates, pop, SimulationSpec(dt.date(2020, 4, 1), 12, runs=200, seed=1))
    need80 = f.places_needed(0.8)
    need95 = f.places_needed(0.95)
    for g in need80:
        end = f.counts[:, -1, list(need80).index(g)]
        assert np.mean(end <= need80[g]) >= 0.8
        assert need95[g] >= need80[g]
        assert f.peak_places_needed(0.8)[g] >= need80[g]
    extra = f.additional_places(0.8)
    start = f.start_counts()
    assert all(extra[g] == need80[g] - start[g] for g in extra)


def test_backtest_runs_end_to_end_on_synthetic_903() -> None:
    hist = regional()
    spec = SimulationSpec(AT, 600, runs=100, seed=11)
    result = backtest(hist, AT, spec, fit_months=24)
    assert result.dates[0] == AT
    assert result.dates[-1] == hist.data_end
    n = len(result.dates)
    assert result.actual.shape == (n, 5) and result.naive.shape == (n, 5)
    assert result.actual[0, :4].tolist() == census(hist, AT).counts().tolist()
    assert np.all(result.model_errors.mae >= 0) and np.all(result.naive_errors.mae >= 0)
    assert np.all((result.coverage >= 0) & (result.coverage <= 1))
    # The fit saw nothing after the cut-off.
    assert result.forecast.counts[:, 0, :].sum(axis=1).tolist() == [result.actual[0, 4]] * 100


def test_naive_trend() -> None:
    history = np.array([[10, 5], [12, 4], [14, 3]])
    out = naive_trend(history, 4)
    assert out[:, 0].tolist() == pytest.approx([14, 16, 18, 20, 22])
    assert out[:, 1].tolist() == pytest.approx([3, 2, 1, 0, 0])


def test_example_config_and_reports() -> None:
    config = load_config(EXAMPLE)
    result = run_stochastic(config, EXAMPLE.parent, runs=50, seed=1)
    data = stochastic_json(result)
    assert set(data["additional_places"]) == {"residential", "fostering", "supported_accommodation"}
    assert data["counts"][0]["total"]["p50"] == sum(data["start_counts"].values())
    assert len(data["counts"]) == 25
    assert set(data["counts"][-1]["fostering"]) == {"p10", "p50", "p80", "p95"}
    csv_text = stochastic_csv(result)
    assert csv_text.splitlines()[0] == "date,group,mean,p10,p50,p80,p95"
    assert len(csv_text.splitlines()) == 1 + 25 * 5
    page = stochastic_html(result)
    assert page.count("<svg") == 5 and "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_cli_backtest_and_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["scenario", "backtest", str(EXAMPLE), "--runs", "1000", "--json", "--out", str(tmp_path)]
    )
    assert status == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["mode"] == "backtest" and data["at"] == "2019-04-01"
    assert set(data["model"]["mae"]) == {
        "fostering",
        "residential",
        "supported_accommodation",
        "other",
        "total",
    }
    assert "backtest: 1000/1000 runs" in captured.err
    # what happened is drawn (as dots, with a legend entry) on each of the five charts
    assert (tmp_path / "forecast.html").read_text().count(">what happened<") == 5


def test_cli_stochastic_forecast_is_seeded(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["scenario", "forecast", str(EXAMPLE), "--runs", "30", "--json", "--quiet"]
    assert main([*args, "--seed", "4"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*args, "--seed", "4"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert first == again
    assert first["runs"] == 30 and first["seed"] == 4


def test_cli_data_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE.read_text().replace('la = "Hillingdon"', 'la = "Nowhere"')
    text = text.replace("../tests/data", str(DATA.parent))
    path = tmp_path / "f.toml"
    path.write_text(text)
    assert main(["scenario", "forecast", str(path), "--runs", "5"]) == 2
    err = capsys.readouterr().err
    assert "Nowhere" in err and err.count("\n") == 1
    text = EXAMPLE.read_text().replace("regional/episodes.csv", "regional/missing.csv")
    path.write_text(text.replace("../tests/data", str(DATA.parent)))
    assert main(["scenario", "forecast", str(path)]) == 2
    assert "data.episodes: no file matches" in capsys.readouterr().err


def test_entry_trends() -> None:
    obs = observe(regional(), dt.date(2017, 4, 1), AT)
    fitted_rates = estimate_rates(obs, entry_trend="fitted", max_trend_percent=25.0)
    # The synthetic sample's entries collapse after 2017: the fit is held at -25% a year.
    assert np.expm1(12 * fitted_rates.entry_trend) == pytest.approx(-0.25)
    assert any("capped at -25%" in n for n in fitted_rates.notes)
    given = estimate_rates(obs, entry_trend=10.0)
    assert np.expm1(12 * given.entry_trend) == pytest.approx(0.10)
    assert estimate_rates(obs).entry_trend == 0.0


def test_entry_trend_config_is_checked() -> None:
    from scenarios.forecast.config import ForecastConfigError, parse_config

    cfg = {
        "forecast": {"mode": "stochastic"},
        "data": {"episodes": ["e.csv"], "header": ["h.csv"]},
        "rates": {"entry_trend": -100.0},
    }
    with pytest.raises(ForecastConfigError, match="rates: entry_trend must be above -100"):
        parse_config(cfg, source="c.toml")
    cfg["rates"] = {"entry_trend": "sometimes"}
    with pytest.raises(ForecastConfigError, match=r"rates\.entry_trend"):
        parse_config(cfg, source="c.toml")


def test_randomness_off_gives_the_twin_and_the_median_tracks_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text().replace("../tests/data", str(DATA.parent))
    calm = text.replace("rate_uncertainty = true ", "rate_uncertainty = false ")
    twin = calm.replace("[rates]", "[rates]\nrandomness = false")
    (tmp_path / "runs.toml").write_text(calm)
    (tmp_path / "twin.toml").write_text(twin)
    assert main(["scenario", "forecast", str(tmp_path / "twin.toml"), "--json"]) == 0
    det = json.loads(capsys.readouterr().out)
    assert det["runs"] == 1 and "randomness off" in det["notes"][0]
    assert main(["scenario", "forecast", str(tmp_path / "runs.toml"), "--json", "--quiet"]) == 0
    sto = json.loads(capsys.readouterr().out)
    for d_row, s_row in zip(det["counts"], sto["counts"], strict=True):
        for group in ("fostering", "residential", "supported_accommodation", "other", "total"):
            expected = d_row[group]["p50"]
            assert d_row[group]["p10"] == expected == d_row[group]["p95"]
            assert abs(s_row[group]["p50"] - expected) <= max(2.0, 0.05 * expected)
    # Expected flows: exits and arrivals match the runs' means.
    for route, mean in det["mean_exits_per_step"].items():
        assert sto["mean_exits_per_step"][route] == pytest.approx(mean, abs=0.1)
    for stream, mean in det["mean_entries_per_step"].items():
        assert sto["mean_entries_per_step"][stream] == pytest.approx(mean, abs=0.05)


def test_cli_service_level(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["scenario", "forecast", str(EXAMPLE), "--runs", "200", "--json", "--quiet"]
    assert main([*args, "--service-level", "0.5"]) == 0
    median = json.loads(capsys.readouterr().out)
    assert main([*args, "--service-level", "0.95"]) == 0
    high = json.loads(capsys.readouterr().out)
    assert median["service_level"] == 0.5 and high["service_level"] == 0.95
    end = median["counts"][-1]
    assert median["places_needed"]["fostering"] == end["fostering"]["p50"]
    assert high["places_needed"]["fostering"] == end["fostering"]["p95"]
    assert all(
        high["places_needed"][g] >= median["places_needed"][g]
        for g in end
        if g != "date" and g != "total"
    )
    with pytest.raises(SystemExit):
        main([*args, "--service-level", "1.5"])


def _example_with(tmp_path: Path, **changes: str) -> Path:
    """The stochastic example with absolute data paths and some lines replaced."""
    text = EXAMPLE.read_text().replace("../tests/data", str(DATA.parent))
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "f.toml"
    path.write_text(text)
    return path


def test_the_data_are_complete_from_the_first_return() -> None:
    # Both samples start in April: before it only children still in care then are seen.
    assert regional().data_start == dt.date(2017, 4, 1)
    assert yearly().data_start == dt.date(2019, 4, 1)
    assert regional().truncated(AT).data_start == dt.date(2017, 4, 1)
    assert regional().first_month == dt.date(2017, 4, 1)


def test_the_fit_window_stops_at_the_first_complete_month(tmp_path: Path) -> None:
    from scenarios.forecast.runner import stochastic_setup

    short = _example_with(tmp_path, **{"fit_months = 24 ": "fit_months = 24 "})
    base = stochastic_setup(load_config(short), short.parent)
    long = _example_with(tmp_path, **{"fit_months = 24 ": "fit_months = 60 "})
    wide = stochastic_setup(load_config(long), long.parent)
    # 60 months before 2019-04 reach 2014, where the sample holds only survivors: those
    # months would undercount entries and exits, so the window starts at the data instead.
    assert base.rates.fit_from == wide.rates.fit_from == dt.date(2017, 4, 1)
    assert np.array_equal(base.rates.entries_per_month, wide.rates.entries_per_month)
    assert np.array_equal(base.rates.exit_hazard, wide.rates.exit_hazard)
    assert any("complete from 2017-04-01" in n for n in wide.rates.notes)
    assert not any("complete from" in n for n in base.rates.notes)
    # What was left out of the data is reported, not dropped.
    assert any("without a date of birth" in n for n in base.rates.notes)


@pytest.mark.parametrize(
    ("command", "line", "key"),
    [
        ("forecast", "start = 2015-04-01", "forecast.start: 2015-04-01 leaves no month"),
        ("forecast", "start = 2017-04-01", "complete from 2017-04-01; start in 2017-05-01"),
        ("backtest", "at = 2016-01-01", "backtest.at 2016-01-01 leaves no month to fit on"),
        ("backtest", "at = 2030-01-01", "backtest.at 2030-01-01 leaves no month to test"),
    ],
)
def test_dates_outside_the_data_are_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, line: str, key: str
) -> None:
    old = "start = 2019-04-01" if line.startswith("start") else "at = 2019-04-01"
    path = _example_with(tmp_path, **{old: line})
    assert main(["scenario", command, str(path), "--runs", "5", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: " in err and key in err


def test_backtest_fit_and_naive_windows_stop_at_the_data() -> None:
    hist = regional()
    spec = SimulationSpec(AT, 6, runs=20, seed=2)
    a = backtest(hist, AT, spec, fit_months=24, naive_months=12)
    b = backtest(hist, AT, spec, fit_months=60, naive_months=12)
    assert np.array_equal(a.forecast.counts, b.forecast.counts)
    assert any("complete from 2017-04-01" in n for n in b.forecast.notes)
    # A naive window reaching before the data is cut to the data, not fitted on survivors.
    cut = dt.date(2017, 10, 1)
    c = backtest(hist, cut, spec, naive_months=24)
    d = backtest(hist, cut, spec, naive_months=7)  # 2017-04 .. 2017-10
    assert np.array_equal(c.naive, d.naive)


def test_unknown_authority_names_data_la(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _example_with(tmp_path, **{'la = "Hillingdon"': 'la = "Nowhere"'})
    assert main(["scenario", "forecast", str(path), "--runs", "5"]) == 2
    err = capsys.readouterr().err
    assert "data.la: authority 'Nowhere'" in err and err.count("\n") == 1


def test_table_says_one_run_in_the_singular(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "forecast", str(EXAMPLE), "--runs", "1", "--quiet"]) == 0
    assert ", 1 run, monthly steps" in capsys.readouterr().out


def test_no_under_16_is_forecast_into_supported_accommodation() -> None:
    from scenarios.forecast.rates import AGE_BANDS, GROUPS, no_supported_accommodation_under_16

    sa = GROUPS.index(G.SUPPORTED_ACCOMMODATION)
    under_16 = AGE_BANDS.index((16, 18))
    nat = national_rates()
    assert nat.entry_mix[:, :under_16, sa].sum() == 0
    assert nat.entry_mix.sum(axis=(1, 2)) == pytest.approx([1.0, 1.0])
    assert nat.move_hazard[:under_16, :, sa].sum() == 0
    # The regional sample has a residential -> supported move at 10-15 (before the 2021 ban).
    obs = observe(regional(), dt.date(2017, 4, 1), AT)
    assert obs.move_events[:under_16, :, sa].sum() >= 1
    rates = estimate_rates(obs)
    assert rates.entries_per_month[:, :under_16, sa].sum() == 0
    assert rates.move_hazard[:under_16, :, sa].sum() == 0
    assert rates.move_hazard[under_16, :, sa].sum() > 0  # step-down at 16+ stays
    assert any("in the data, 1 move left out" in n for n in rates.notes)
    # Arrivals are moved to fostering, not lost.
    mix = np.zeros((2, 5, 4))
    mix[:, 3, sa] = 2.0
    mix[:, 4, sa] = 1.0
    fixed = no_supported_accommodation_under_16(mix)
    assert fixed.sum() == mix.sum() and fixed[:, 3, GROUPS.index(G.FOSTERING)].tolist() == [2, 2]
    assert fixed[:, 4, sa].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("empty", "message"),
    [
        ("episodes.csv", "data: the episodes tables hold no episodes"),
        ("header.csv", "data: the header tables hold no children for Hillingdon"),
    ],
)
def test_empty_903_tables_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], empty: str, message: str
) -> None:
    source = DATA / "regional" / empty
    (tmp_path / empty).write_text(source.read_text().splitlines()[0] + "\n")
    episodes, header = (
        tmp_path / name if name == empty else DATA / "regional" / name
        for name in ("episodes.csv", "header.csv")
    )
    path = tmp_path / "f.toml"
    path.write_text(
        '[forecast]\nmode = "stochastic"\nhorizon_months = 6\nruns = 5\n'
        f'[data]\nepisodes = ["{episodes}"]\nheader = ["{header}"]\nla = "Hillingdon"\n'
    )
    assert main(["scenario", "forecast", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "internal error" not in err


def test_backtest_reports_carry_the_configuration_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "Synthetic authority (Hillingdon sample): stock-and-flow forecast"
    args = ["scenario", "backtest", str(EXAMPLE), "--runs", "20", "--quiet"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == name
    assert f"<title>Back-test: {name}</title>" in (tmp_path / "forecast.html").read_text()
    assert json.loads((tmp_path / "forecast.json").read_text())["name"] == name


def test_the_level_of_entries_can_come_from_the_recent_months() -> None:
    hist = regional()
    # Hillingdon's entries fell in spring 2018: 27 in the 14 months to June, 3 in the last 3.
    obs = observe(hist, dt.date(2017, 4, 1), dt.date(2018, 6, 1))
    recent = obs.monthly_entries[:, -3:].sum(axis=1)
    assert recent.sum() < obs.monthly_entries.sum() / (len(obs.months) - 1) * 3
    # Without a prior the level is the last three months' entries a month, and the mix by
    # age band and group is still the whole window's.
    own = estimate_rates(obs, prior_weight=1e-9, entry_months=3)
    whole = estimate_rates(obs, prior_weight=1e-9)
    level = own.entries_per_month.sum(axis=(1, 2))
    assert level == pytest.approx(recent / 3.0, rel=1e-6)
    mix = whole.entries_per_month / whole.entries_per_month.sum(axis=(1, 2))[:, None, None]
    got = own.entries_per_month / level[:, None, None]
    assert got[0] == pytest.approx(mix[0], rel=1e-6, abs=1e-12)
    # With a prior, the recent level is pulled towards the window's rate per child-month.
    w = 300.0
    pulled = estimate_rates(obs, prior_weight=w, entry_months=3)
    base = estimate_rates(obs, prior_weight=w)
    per_child = base.entry_shape.sum(axis=(1, 2)) / (obs.child_months + w)
    months = len(obs.months)
    cm = obs.stock[months - 4 : months - 1].sum()
    expect = (recent + w * per_child) / (cm + w) * cm / 3.0
    assert pulled.entries_per_month.sum(axis=(1, 2)) == pytest.approx(expect, rel=1e-9)
    # A level window as long as the fit window changes nothing.
    same = estimate_rates(obs, prior_weight=w, entry_months=months - 1)
    assert same.entries_per_month == pytest.approx(base.entries_per_month)


def test_averaged_rates_keep_the_mean_and_add_the_members_disagreement() -> None:
    from scenarios.forecast.rates import average_rates

    hist = regional()
    a = estimate_rates(observe(hist, dt.date(2017, 4, 1), AT), prior_weight=30.0)
    b = estimate_rates(observe(hist, dt.date(2018, 4, 1), AT), prior_weight=300.0)
    assert average_rates((a,)) is a
    both = average_rates((a, b))
    assert both.exit_hazard == pytest.approx((a.exit_hazard + b.exit_hazard) / 2.0)
    assert both.move_hazard == pytest.approx((a.move_hazard + b.move_hazard) / 2.0, abs=1e-15)
    assert both.entries_per_month == pytest.approx(
        (a.entries_per_month + b.entries_per_month) / 2.0
    )

    def variance(r: FlowRates) -> np.ndarray:
        return r.exit_shape / r.exit_rate**2

    # The mixture's variance: the mean of the members' plus the variance of their means.
    spread = ((a.exit_hazard - b.exit_hazard) / 2.0) ** 2
    expect = (variance(a) + variance(b)) / 2.0 + spread
    assert variance(both) == pytest.approx(expect, rel=1e-9)
    assert np.all(variance(both) >= np.minimum(variance(a), variance(b)) - 1e-18)
    # The entries' total keeps its variance too.
    tot = both.entry_shape.sum(axis=(1, 2)) / both.entry_rate**2
    per = [r.entry_shape / r.entry_rate[:, None, None] for r in (a, b)]
    var_members = [
        (r.entry_shape / r.entry_rate[:, None, None] ** 2).sum(axis=(1, 2)) for r in (a, b)
    ]
    cells_spread = (((per[0] - per[1]) / 2.0) ** 2).sum(axis=(1, 2))
    assert tot == pytest.approx((var_members[0] + var_members[1]) / 2.0 + cells_spread)
    with pytest.raises(ValueError, match="at least one"):
        average_rates(())


def test_903_files_held_in_memory_forecast_as_on_disk(tmp_path: Path) -> None:
    # The service's uploads are read where they are: the same forecast as from a folder of
    # the same files, named by the same [data] patterns.
    from scenarios.forecast.config import ForecastConfigError
    from scenarios.forecast.runner import load_history

    text = EXAMPLE.read_text(encoding="utf-8").replace("../tests/data/ssda903/regional/", "")
    text = text.replace('["episodes.csv"]', '["*pisodes.csv"]')
    (tmp_path / "forecast.toml").write_text(text, encoding="utf-8")
    files = {
        n: (DATA / "regional" / n).read_text(encoding="utf-8")
        for n in ("episodes.csv", "header.csv", "uasc.csv")
    }
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    config = load_config(tmp_path / "forecast.toml")
    on_disk = stochastic_json(run_stochastic(config, tmp_path, runs=20, seed=3))
    in_memory = stochastic_json(run_stochastic(config, files, runs=20, seed=3))
    assert in_memory == on_disk
    assert load_history(config, {**files, ".episodes.csv": "x"}).data_end == (
        load_history(config, tmp_path).data_end
    )
    del files["header.csv"]
    with pytest.raises(ForecastConfigError, match=r"data\.header: no file matches 'header\.csv'"):
        load_history(config, files)
