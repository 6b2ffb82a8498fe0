"""Statement-mode forecasts: the Essex example, share rules, trends, config errors, CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.placement_types import SufficiencyGroup as G
from placematch.cli import main
from scenarios.forecast.config import ForecastConfigError, load_config, parse_config
from scenarios.forecast.report import statement_csv, statement_html, statement_json
from scenarios.forecast.runner import run_statement
from scenarios.forecast.statement import (
    ShareKind,
    ShareRule,
    StatementSpec,
    TotalKind,
    TotalRule,
    add_months,
    forecast_statement,
    months_between,
    round_half_up,
)
from scenarios.forecast.trends import TrendKind, fit_trend

ROOT = Path(__file__).resolve().parents[2]
ESSEX = ROOT / "examples" / "essex_2026.toml"


def essex() -> dict:
    return {
        "forecast": {"name": "t", "start": dt.date(2024, 12, 1), "horizon_months": 22},
        "counts": {
            "total": 1131,
            "fostering": 727,
            "residential": 123,
            "supported_accommodation": 133,
        },
        "total": {"rule": "given", "end": 1170},
        "shares": {
            "fostering": {"rule": "drift", "pp_per_month": 0.13},
            "residential": {"rule": "drift", "pp_per_month": 0.057},
            "supported_accommodation": {"rule": "drift", "pp_per_month": 0.149},
        },
    }


def test_essex_example_is_exact() -> None:
    result = run_statement(load_config(ESSEX))
    assert result.dates[0] == dt.date(2024, 12, 1)
    assert result.dates[-1] == dt.date(2026, 10, 1)
    assert len(result.dates) == 23
    assert result.additional_places == {
        G.FOSTERING: 59,
        G.RESIDENTIAL: 19,
        G.SUPPORTED_ACCOMMODATION: 43,
        G.OTHER: -82,
    }
    end = {g: int(result.counts[g][-1]) for g in G}
    assert end == {
        G.FOSTERING: 786,
        G.RESIDENTIAL: 142,
        G.SUPPORTED_ACCOMMODATION: 176,
        G.OTHER: 66,
    }
    # The stated fostering rule: 64.28% -> 67.14%, x 1,170 = 785.5 -> 786.
    assert result.shares[G.FOSTERING][0] * 100 == pytest.approx(64.28, abs=0.005)
    assert result.shares[G.FOSTERING][-1] * 100 == pytest.approx(67.14, abs=0.005)
    assert result.unrounded[G.FOSTERING][-1] == pytest.approx(785.53, abs=0.01)
    assert result.flags == (
        "the three named types grow by 121 while the total grows by 39, so other placements "
        "fall from 148 to 66, a 55% drop",
    )


def test_essex_json_has_the_published_places() -> None:
    data = statement_json(run_statement(load_config(ESSEX)))
    assert data["additional_places"] == {
        "residential": 19,
        "fostering": 59,
        "supported_accommodation": 43,
    }
    assert data["counts"][0]["total"] == 1131 and data["counts"][-1]["total"] == 1170
    assert data["counts"][-1]["other"] == 66
    assert len(data["counts"]) == 23
    for row in data["counts"]:
        assert sum(row[g.value] for g in G) == row["total"]


def test_cli_json_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["scenario", "forecast", str(ESSEX), "--json", "--out", str(tmp_path)])
    assert status == 0
    data = json.loads(capsys.readouterr().out)
    assert data["additional_places"] == {
        "residential": 19,
        "fostering": 59,
        "supported_accommodation": 43,
    }
    assert json.loads((tmp_path / "forecast.json").read_text()) == data
    rows = (tmp_path / "forecast.csv").read_text().splitlines()
    assert rows[0].startswith("date,total,fostering,residential,supported_accommodation,other")
    assert rows[-1].startswith("2026-10-01,1170,786,142,176,66,")
    page = (tmp_path / "forecast.html").read_text()
    assert page.count("<svg") == 4 and "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "forecast", str(ESSEX)]) == 0
    out = capsys.readouterr().out
    assert "+19 residential, +59 fostering, +43 supported_accommodation" in out
    assert "148 to 66, a 55% drop" in out


def test_bad_config_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ESSEX.read_text().replace("pp_per_month = 0.13", 'pp_per_month = "a lot"')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["scenario", "forecast", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "bad.toml" in err and "shares.fostering.pp_per_month" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda c: c["forecast"].update(horizon=22), "forecast.horizon"),
        (lambda c: c["counts"].update(fostering=-1), "counts.fostering"),
        (lambda c: c["total"].update(rule="guess"), "total"),
        (lambda c: c["shares"]["residential"].update(rule="target"), "shares.residential.by"),
        (lambda c: c.pop("total"), "statement mode needs a [total] table"),
        (lambda c: c["counts"].update(other=1), "not the total 1131"),
        (lambda c: c["forecast"].update(runs=0), "forecast.runs"),
    ],
)
def test_config_errors(change, key: str) -> None:  # type: ignore[no-untyped-def]
    cfg = essex()
    change(cfg)
    with pytest.raises(ForecastConfigError, match=r"^cfg\.toml: ") as info:
        parse_config(cfg, source="cfg.toml")
    assert key in str(info.value)
    assert isinstance(info.value, ValueError)


def test_two_remainders_are_refused() -> None:
    cfg = essex()
    cfg["shares"]["fostering"] = {"rule": "remainder"}
    from scenarios.forecast.config import statement_spec

    with pytest.raises(ForecastConfigError, match="shares: exactly one group"):
        statement_spec(parse_config(cfg), source="cfg")


def test_missing_file_is_an_os_error() -> None:
    with pytest.raises(FileNotFoundError, match=r"no-such\.toml"):
        load_config("no-such.toml")


def test_target_share_reaches_its_target_and_holds() -> None:
    cfg = essex()
    cfg["shares"]["residential"] = {
        "rule": "target",
        "share_percent": 15.0,
        "by": dt.date(2025, 12, 1),
    }
    result = run_statement(parse_config(cfg))
    s = result.shares[G.RESIDENTIAL]
    assert s[12] == pytest.approx(0.15)
    assert np.allclose(s[12:], 0.15)
    assert s[6] == pytest.approx((123 / 1131 + 0.15) / 2)


def test_own_count_trend_and_fitted_total() -> None:
    cfg = essex()
    series = [1100 + 2 * i for i in range(12)]
    cfg["total"] = {"rule": "linear", "series": series}
    cfg["shares"]["residential"] = {"rule": "trend", "end": 150}
    result = run_statement(parse_config(cfg))
    assert result.total[-1] == pytest.approx(1131 + 2 * 22)
    assert result.counts[G.RESIDENTIAL][-1] == 150
    assert result.unrounded[G.RESIDENTIAL][11] == pytest.approx(123 + 27 * 11 / 22)


def test_trends() -> None:
    assert fit_trend([10, 12, 14, 16], TrendKind.LINEAR).slope == pytest.approx(2.0)
    log = fit_trend([100, 110, 121, 133.1], TrendKind.LOG_LINEAR)
    assert log.slope == pytest.approx(np.log(1.1))
    assert log.project(200, np.array([1]))[0] == pytest.approx(220)
    damped = fit_trend([10, 12, 14, 16], TrendKind.DAMPED, damping=0.5)
    # 2 * (0.5 + 0.25) after two months.
    assert damped.project(0, np.array([2]))[0] == pytest.approx(1.5)
    with pytest.raises(ValueError, match="positive"):
        fit_trend([1, 0, 2], TrendKind.LOG_LINEAR)
    with pytest.raises(ValueError, match="two"):
        fit_trend([1], TrendKind.LINEAR)


def test_date_helpers() -> None:
    assert add_months(dt.date(2024, 12, 1), 22) == dt.date(2026, 10, 1)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert months_between(dt.date(2024, 12, 1), dt.date(2026, 10, 1)) == 22
    assert [round_half_up(x) for x in (0.5, 1.5, 2.5, -0.5, 785.53)] == [1, 2, 3, -1, 786]


def test_overfull_shares_are_scaled_and_flagged() -> None:
    cfg = essex()
    cfg["shares"]["fostering"] = {"rule": "drift", "pp_per_month": 2.0}
    result = run_statement(parse_config(cfg))
    assert any("exceed the whole total" in f for f in result.flags)
    assert result.counts[G.OTHER][-1] == 0
    total = sum(result.shares[g] for g in G)
    assert np.allclose(total, 1.0)


groups = st.sampled_from([G.FOSTERING, G.RESIDENTIAL, G.SUPPORTED_ACCOMMODATION])
rules = st.one_of(
    st.builds(lambda: ShareRule(ShareKind.CONSTANT)),
    st.builds(
        lambda pp: ShareRule(ShareKind.DRIFT, pp_per_month=pp),
        st.floats(-3.0, 3.0, allow_nan=False),
    ),
    st.builds(
        lambda t, m: ShareRule(ShareKind.TARGET, target_share=t, target_month=m),
        st.floats(0.0, 1.0),
        st.integers(1, 40),
    ),
    st.builds(
        lambda end: ShareRule(ShareKind.TREND, count_end=end),
        st.floats(0.0, 5000.0, allow_nan=False),
    ),
)


@given(
    counts=st.lists(st.integers(0, 2000), min_size=4, max_size=4).filter(lambda c: sum(c) > 0),
    end=st.floats(0.0, 6000.0, allow_nan=False),
    horizon=st.integers(1, 60),
    share_rules=st.lists(rules, min_size=3, max_size=3),
)
def test_shares_sum_to_one_and_counts_are_never_negative(
    counts: list[int], end: float, horizon: int, share_rules: list[ShareRule]
) -> None:
    spec = StatementSpec(
        dt.date(2025, 1, 1),
        horizon,
        dict(zip(G, counts, strict=True)),
        TotalRule(TotalKind.GIVEN, end=end),
        {
            G.FOSTERING: share_rules[0],
            G.RESIDENTIAL: share_rules[1],
            G.SUPPORTED_ACCOMMODATION: share_rules[2],
            G.OTHER: ShareRule(ShareKind.REMAINDER),
        },
    )
    result = forecast_statement(spec)
    total_share = sum(result.shares[g] for g in G)
    assert np.allclose(total_share, 1.0)
    for g in G:
        assert np.all(result.counts[g] >= 0)
        assert np.all(result.shares[g] >= 0)
        assert result.counts[g][0] == spec.start_counts[g]
    summed = sum(result.counts[g] for g in G)
    # Groups add up to the rounded total, even when rounding would push the remainder below 0.
    assert np.array_equal(summed[1:], result.rounded_total[1:])


def test_rounding_never_leaves_the_groups_above_the_total() -> None:
    # Three groups of 0.5 each round up to 3 children while the total 1.5 rounds to 2.
    spec = StatementSpec(
        dt.date(2025, 1, 1),
        1,
        {G.FOSTERING: 1, G.RESIDENTIAL: 1, G.SUPPORTED_ACCOMMODATION: 1, G.OTHER: 0},
        TotalRule(TotalKind.GIVEN, end=1.5),
        {g: ShareRule(ShareKind.CONSTANT) for g in G if g is not G.OTHER}
        | {G.OTHER: ShareRule(ShareKind.REMAINDER)},
    )
    result = forecast_statement(spec)
    end = {g: int(result.counts[g][-1]) for g in G}
    assert sum(end.values()) == result.rounded_total[-1] == 2
    assert min(end.values()) == 0 and end[G.OTHER] == 0


def test_statement_csv_and_html_render() -> None:
    result = run_statement(load_config(ESSEX))
    assert statement_csv(result).count("\n") == 24
    page = statement_html(result)
    assert page.startswith("<!DOCTYPE html>") and "55% drop" in page


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # inf and nan are valid TOML floats; no share, count or rate may be one.
        (
            lambda c: c["total"].update(end=float("inf")),
            "total.end: must be a finite number (not inf or nan)",
        ),
        (
            lambda c: c["shares"]["residential"].update(pp_per_month=float("nan")),
            "shares.residential.pp_per_month: must be a finite number",
        ),
        (
            lambda c: c["shares"]["fostering"].update(pp_per_mnth=0.1),
            "shares.fostering.pp_per_mnth: unknown key (did you mean pp_per_month?)",
        ),
        (lambda c: c["forecast"].pop("start"), "statement mode needs forecast.start"),
        (
            lambda c: c["counts"].update(
                total=None, fostering=0, residential=0, supported_accommodation=0, other=0
            ),
            "counts: no children at the start",
        ),
    ],
)
def test_config_error_wording(change, expected: str) -> None:  # type: ignore[no-untyped-def]
    cfg = essex()
    change(cfg)
    cfg["counts"] = {k: v for k, v in cfg["counts"].items() if v is not None}
    with pytest.raises(ForecastConfigError) as info:
        parse_config(cfg, source="cfg.toml")
    assert expected in str(info.value)


def test_union_errors_name_the_key_once() -> None:
    cfg = {
        "forecast": {"mode": "stochastic"},
        "data": {"episodes": ["e.csv"], "header": ["h.csv"]},
        "rates": {"entry_trend": float("nan")},
    }
    with pytest.raises(ForecastConfigError) as info:
        parse_config(cfg, source="c.toml")
    message = str(info.value)
    assert message.count("rates.entry_trend") == 1 and "literal[" not in message


def test_toml_errors_show_the_line_and_directories_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(ESSEX.read_text().replace("start = 2024-12-01", "start = 2024-13-01"))
    with pytest.raises(ForecastConfigError, match=r"not valid TOML .*: start = 2024-13-01$"):
        load_config(path)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_config(tmp_path)


def test_out_must_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert main(["scenario", "forecast", str(ESSEX), "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"--out {target}: is a file" in err and err.count("\n") == 1
    assert target.read_text() == "keep me"
