"""Commissioners' assumptions, history before the start and what the model assumed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from placematch.cli import main
from scenarios.forecast.assumptions import Assumption, apply_assumptions
from scenarios.forecast.config import ForecastConfigError, load_config
from scenarios.forecast.rates import AGE_BAND_LABELS, ROUTES, estimate_rates, observe
from scenarios.forecast.runner import load_history

ROOT = Path(__file__).resolve().parents[2]
YEARLY = ROOT / "tests" / "data" / "ssda903" / "yearly"


def _config(tmp_path: Path, assumptions: str = "") -> Path:
    path = tmp_path / "assume.toml"
    path.write_text(
        f"""
[forecast]
mode = "stochastic"
horizon_months = 12
runs = 100
seed = 3
[data]
episodes = ["{YEARLY}/*-episodes.csv"]
header = ["{YEARLY}/*-header.csv"]
uasc = ["{YEARLY}/*-uasc.csv"]
fit_months = 24
[rates]
prior_weight = 300
{assumptions}
""",
        encoding="utf-8",
    )
    return path


def _rates(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = load_config(_config(tmp_path))
    hist = load_history(config, tmp_path)
    return estimate_rates(observe(hist, hist.first_month, hist.data_end), prior_weight=300)


def test_multiplying_and_adding_move_exactly_the_rates_named(tmp_path: Path) -> None:
    rates = _rates(tmp_path)
    adoption = ROUTES.index("adoption")
    doubled, notes = apply_assumptions(
        rates, (Assumption("exits", multiply=2.0, route="adoption"),)
    )
    assert notes == ()
    assert np.allclose(doubled.exit_hazard[adoption], 2 * rates.exit_hazard[adoption])
    others = [i for i in range(len(ROUTES)) if i != adoption]
    assert np.array_equal(doubled.exit_hazard[others], rates.exit_hazard[others])
    # +3 children a month arrive on top of the fitted arrivals, shared as they are.
    more, _ = apply_assumptions(rates, (Assumption("entries", add=3.0),))
    assert more.entries_per_month[0].sum() == pytest.approx(rates.entries_per_month[0].sum() + 3)
    assert np.array_equal(more.entries_per_month[1], rates.entries_per_month[1])
    # Per child a year: +0.12 on home exits of 10-15s is +0.01 a month.
    band = AGE_BAND_LABELS.index("10_to_15")
    home = ROUTES.index("home")
    up, _ = apply_assumptions(
        rates, (Assumption("exits", add=0.12, route="home", age_band="10_to_15"),)
    )
    assert np.allclose(up.exit_hazard[home, band], rates.exit_hazard[home, band] + 0.01)
    assert up.exit_hazard[home, band - 1].tolist() == rates.exit_hazard[home, band - 1].tolist()


def test_an_addition_below_zero_stops_at_zero_and_says_so(tmp_path: Path) -> None:
    rates = _rates(tmp_path)
    gone, notes = apply_assumptions(rates, (Assumption("entries", add=-1000.0),))
    assert gone.entries_per_month[0].sum() == 0.0
    assert notes and "stop at zero" in notes[0]


def test_no_assumption_moves_under_16s_into_supported_accommodation(tmp_path: Path) -> None:
    rates = _rates(tmp_path)
    moved, _ = apply_assumptions(
        rates,
        (
            Assumption("moves", add=1.2, group="supported_accommodation"),
            Assumption("entries", add=5.0, group="supported_accommodation"),
        ),
    )
    assert moved.move_hazard[:4, :, 2].sum() == 0.0
    assert moved.entries_per_month[:, :4, 2].sum() == 0.0
    assert moved.move_hazard[4, 0, 2] > rates.move_hazard[4, 0, 2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"multiply": 1.0, "add": 1.0}, "not both"),
        ({}, "not both"),
        ({"multiply": -1.0}, ">= 0"),
        ({"multiply": 1.0, "route": "adoption"}, "exits only"),
        ({"multiply": 1.0, "age_band": "teenagers"}, "age_band"),
    ],
)
def test_bad_assumptions_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Assumption("entries", **kwargs)  # type: ignore[arg-type]


def test_a_bad_assumption_in_the_file_names_the_key(tmp_path: Path) -> None:
    path = _config(tmp_path, '[[assumptions]]\nrate = "exits"\nmultiply = 2\nadd = 1\n')
    with pytest.raises(ForecastConfigError, match=r"assumptions\[0\]: give multiply or add"):
        load_config(path)
    path = _config(tmp_path, '[[assumptions]]\nrate = "arrivals"\nmultiply = 2\n')
    with pytest.raises(ForecastConfigError, match=r"assumptions\[0\]\.rate"):
        load_config(path)


def test_the_report_shows_the_effect_history_and_what_was_assumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, '[[assumptions]]\nrate = "entries"\nmultiply = 0\nnote = "none"\n')
    assert main(["scenario", "forecast", str(path), "--json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    without = data["without_assumptions_p50"][-1]
    with_ = data["counts"][-1]
    # No arrivals: fewer children at the end than with the fitted arrivals.
    total_without = sum(
        without[g] for g in ("fostering", "residential", "supported_accommodation", "other")
    )
    assert with_["total"]["p50"] < total_without
    # The history is the 24 month starts before the start, oldest first.
    assert len(data["history"]) == 24
    assert data["history"][-1]["date"] == "2022-02-01"
    quantities = [row["quantity"] for row in data["assumed"]]
    assert "national prior" in quantities
    assert "assumption: entries x0" in quantities
    prior = next(r["value"] for r in data["assumed"] if r["quantity"] == "national prior")
    assert prior.startswith("300 child-months") and "given" in prior
    assert main(["scenario", "forecast", str(path), "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "Without the assumptions" in table and "What the model assumed" in table
    out = tmp_path / "out"
    assert main(["scenario", "forecast", str(path), "--quiet", "--out", str(out)]) == 0
    page = (out / "forecast.html").read_text(encoding="utf-8")
    assert "History before the start" in page and "What the model assumed" in page
