"""One name for one thing: ``summary()`` is plain, JSON-ready data wherever it is defined,
and the text for people has another name (``text()``)."""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import pytest

from matcher.casefolder import load_case_folder
from matcher.match import match
from matcher.optimiser import AssignmentProblem, SolverParameters, solve
from placematch.import_903 import import_903
from scenarios.forecast.config import load_config
from scenarios.forecast.runner import run_statement
from scenarios.forecast.tuning import Tuning

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geography", "matcher", "scenarios", "placematch", "benchmarks")


def _summaries() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef) and node.name == "summary":
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def test_every_summary_is_annotated_to_return_a_dict() -> None:
    found = _summaries()
    assert len(found) >= 10
    for where, node in found:
        returns = "" if node.returns is None else ast.unparse(node.returns)
        assert returns.startswith("dict["), f"{where}: summary() -> {returns or '?'}"


def _plain(summary: object) -> dict[str, object]:
    assert isinstance(summary, dict)
    assert json.loads(json.dumps(summary)) == summary  # JSON-ready, nothing lost
    return summary


def test_the_optimisers_summary_is_the_figures_its_text_shows() -> None:
    problem = AssignmentProblem.from_arrays(
        n_children=3,
        capacity=[1, 1],
        pair_child=[0, 0, 1, 2],
        pair_vacancy=[0, 1, 0, 1],
        pair_points=[90, 60, 80, 70],
    )
    solution = solve(problem, SolverParameters(seed=3))
    s = _plain(solution.summary())
    assert s["status"] == solution.status and s["seed"] == 3
    assert (s["placed"], s["children"]) == (2, 3)
    text = solution.text()
    assert f"objective  {s['objective']}" in text and f"bound      {s['bound']}" in text
    assert "placed     2 of 3 children" in text


def test_the_matchs_summary_is_the_figures_its_text_shows() -> None:
    result = match(load_case_folder(ROOT / "examples" / "demo"))
    s = _plain(result.summary())
    assert s["status"] == result.status and s["objective"] == result.objective
    assert s["metrics"] == result.to_dict()["metrics"]
    assert (s["assignments"], s["unplaced"]) == (len(result.assignments), len(result.unplaced))
    metrics = s["metrics"]
    assert isinstance(metrics, dict)
    assert f"Placed     {metrics['placed']} of {metrics['children']} children" in result.text()


def test_the_imports_summary_is_its_json() -> None:
    data = ROOT / "tests" / "data" / "ssda903_import"
    result = import_903(data / "header.csv", data / "episodes.csv", la="Essex", at="2024-03-31")
    s = _plain(result.summary())
    assert s["la"] == {"ons_code": "E10000012", "name": "Essex"} and s["at"] == "2024-03-31"
    assert (s["children"], s["vacancies"]) == (len(result.children), len(result.vacancies))
    assert f"children imported  {s['children']:>5}" in result.text()


def test_a_statement_forecasts_summary_is_its_texts_counts() -> None:
    result = run_statement(load_config(ROOT / "examples" / "essex_2026.toml"))
    s = _plain(result.summary())
    assert s["total"] == {"start": 1131, "end": 1170}
    assert s["end_counts"] == {"fostering": 786, "residential": 142,
                               "supported_accommodation": 176, "other": 66}  # fmt: skip
    assert "  total                      1131 ->   1170  (+39)" in result.text()


@pytest.mark.parametrize("entry_months", [None, 12])
def test_a_tunings_summary_names_the_choice(entry_months: int | None) -> None:
    tuning = Tuning(
        1200.0, 24, origins=(dt.date(2020, 9, 1),), horizon_months=12, reason="the best",
        entry_months=entry_months, members=((1200.0, 24, entry_months), (300.0, 36, None)),
    )  # fmt: skip
    s = _plain(tuning.summary())
    assert (s["prior_weight"], s["fit_months"], s["entry_months"]) == (1200.0, 24, entry_months)
    assert s["origins"] == ["2020-09-01"] and s["reason"] == "the best"
    assert s["averaged"] == [
        {"prior_weight": 1200.0, "fit_months": 24, "entry_months": entry_months},
        {"prior_weight": 300.0, "fit_months": 36, "entry_months": None},
    ]
    assert tuning.text().startswith("prior_weight 1,200 child-months and fit_months 24")
