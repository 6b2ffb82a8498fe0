"""Forecast benchmark: the Essex statement forecast and 1,000 stochastic runs.

Fixed, seeded work:

- the Essex statement forecast (``examples/essex_2026.toml``), checked to give +19
  residential, +59 fostering and +43 supported accommodation;
- fitting rates from SSDA903 episodes (the synthetic Hillingdon sample used by
  ``examples/synthetic_903_forecast.toml``);
- 1,000 stochastic runs of that example (monthly steps, 24 months);
- 1,000 stochastic runs at Essex's size: 1,131 children resampled (seed 2026) from the
  sample's census, arrivals scaled by the same factor, 22 monthly steps; and the same with
  weekly steps;
- the deterministic twin (``expected_path``), and in the same run the largest gap between
  it and the median of the runs without rate uncertainty.

Run with ``python -m benchmarks forecast [--tier smoke|county|national]``. The ``accuracy``
tier (:mod:`benchmarks._forecast_accuracy`) scores rolling-origin back-tests beside the
peer, ``cs-demand-model``: ``python -m benchmarks forecast --tier accuracy --results
benchmarks/results/accuracy``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import measure

ROOT = Path(__file__).resolve().parent.parent
ESSEX = ROOT / "examples" / "essex_2026.toml"
SYNTHETIC = ROOT / "examples" / "synthetic_903_forecast.toml"
SEED = 2026
ESSEX_CHILDREN = 1131

SIZES: dict[str, dict[str, int]] = {
    "smoke": {"runs": 100, "repeat": 1},
    "county": {"runs": 1000, "repeat": 3},
    "national": {"runs": 10000, "repeat": 1},
}


def run(tier: str) -> list[dict[str, Any]]:
    """Measure the forecast at ``tier``."""
    if tier == "accuracy":
        from benchmarks._forecast_accuracy import run_accuracy

        return run_accuracy()
    if tier not in SIZES:
        raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(SIZES)}")
    from scenarios.forecast.config import load_config
    from scenarios.forecast.rates import Population
    from scenarios.forecast.runner import run_statement, stochastic_setup
    from scenarios.forecast.statement import add_months
    from scenarios.forecast.stock_flow import SimulationSpec, expected_path, simulate

    size = SIZES[tier]
    runs, repeat = size["runs"], size["repeat"]
    records: list[dict[str, Any]] = []

    essex_config = load_config(ESSEX)
    statement = measure(lambda: run_statement(essex_config), repeat=max(repeat, 5))
    places = {g.value: v for g, v in statement["value"].additional_places.items()}
    records.append(
        {
            "name": "essex_statement_forecast",
            **statement,
            "months": 22,
            "additional_places": places,
            "essex_exact": places["residential"] == 19
            and places["fostering"] == 59
            and places["supported_accommodation"] == 43,
        }
    )

    config = load_config(SYNTHETIC)
    fit = measure(lambda: stochastic_setup(config, SYNTHETIC.parent), repeat=repeat)
    setup = fit["value"]
    records.append(
        {
            "name": "fit_rates_from_903",
            **fit,
            "episodes": len(setup.history.episodes),
            "children_at_start": len(setup.population),
        }
    )

    spec = SimulationSpec(setup.spec.start, 24, "month", runs, SEED, True, 0.8)
    small = measure(lambda: simulate(setup.rates, setup.population, spec), repeat=repeat)
    records.append(
        {
            "name": f"stochastic_{runs}_runs_synthetic_24_months",
            **small,
            "runs": runs,
            "steps": 24,
            "children_at_start": len(setup.population),
            "child_steps_per_second": _child_steps(small) / small["wall_seconds"],
        }
    )

    rng = np.random.default_rng(SEED)
    pop = setup.population
    pick = rng.choice(len(pop), ESSEX_CHILDREN, replace=True)
    essex_pop = Population(
        pop.at, pop.age_days[pick], pop.tic_days[pick], pop.group[pick], pop.uasc[pick]
    )
    factor = ESSEX_CHILDREN / len(pop)
    essex_rates = setup.rates.scaled(entries=factor, uasc=factor)
    start = setup.spec.start
    for step in ("month", "week"):
        essex_spec = SimulationSpec(start, 22, step, runs, SEED, True, 0.8)  # type: ignore[arg-type]
        big = measure(lambda s=essex_spec: simulate(essex_rates, essex_pop, s), repeat=repeat)
        forecast = big["value"]
        records.append(
            {
                "name": f"stochastic_{runs}_runs_essex_size_22_months_{step}ly",
                **big,
                "runs": runs,
                "steps": len(forecast.dates) - 1,
                "children_at_start": ESSEX_CHILDREN,
                "child_steps_per_second": _child_steps(big) / big["wall_seconds"],
                "median_total_end": float(np.median(forecast.totals[:, -1])),
                "additional_places_p80": {
                    g.value: v for g, v in forecast.additional_places(0.8).items()
                },
            }
        )

    calm = SimulationSpec(start, 22, "month", runs, SEED, False, 0.8)
    twin = measure(lambda: expected_path(essex_rates, essex_pop, calm), repeat=max(repeat, 3))
    sim = simulate(essex_rates, essex_pop, calm)
    median = sim.quantile_counts((0.5,))[0][:, :4]
    gap = np.abs(median - twin["value"])
    records.append(
        {
            "name": "expected_path_essex_size_22_months",
            **twin,
            "runs_compared": runs,
            "max_gap_median_vs_twin": float(gap.max()),
            "max_gap_percent_of_twin": float((gap / np.maximum(twin["value"], 1.0)).max() * 100),
            "end_date": add_months(start, 22).isoformat(),
        }
    )
    return records


def _child_steps(record: dict[str, Any]) -> float:
    forecast = record["value"]
    return float(forecast.counts.sum())
