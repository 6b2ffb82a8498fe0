"""Every factor's points cite their statute (``rank``, ``why-not``, ``match``), and ``rank``
shows each option's weekly cost, in text and JSON, on the demo folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from matcher.factors import FACTOR_REFERENCES
from placematch.cli import main

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def _weekly_cost() -> dict[str, int]:
    with (DEMO / "vacancies.csv").open(encoding="utf-8", newline="") as fh:
        return {r["vacancy_id"]: int(r["weekly_cost"]) for r in csv.DictReader(fh)}


def test_rank_json_gives_each_options_cost_and_each_factors_statute(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = json.loads(run(["rank", str(DEMO), "--child", "C07", "--json"], capsys))
    cost = _weekly_cost()
    assert data["options"]
    for o in data["options"]:
        assert o["weekly_cost"] == cost[o["vacancy_id"]]
        assert set(o["references"]) == set(o["factors"])
        assert all(o["references"][f] == FACTOR_REFERENCES[f] for f in o["factors"])


def test_rank_table_has_a_cost_column_and_cites_every_factor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = run(["rank", str(DEMO), "--child", "C07"], capsys).splitlines()
    head = lines[1].split()
    assert "£/week" in head
    at = head.index("£/week") - 1  # "school mi" is two words
    cost = _weekly_cost()
    rows = [line.split() for line in lines[2:] if line[:1].isdigit()]
    assert rows
    for row in rows:
        assert int(row[at].replace(",", "")) == cost[row[1]]
    start = lines.index("Points per factor, each under its statute:") + 1
    legend = lines[start : next(i for i, x in enumerate(lines) if x.startswith("Excluded:"))]
    shown = {line.split()[1]: line.split(None, 2)[2] for line in legend if line.startswith("  ")}
    assert shown == {n: r for n, r in FACTOR_REFERENCES.items() if n in shown}
    assert {"near_home", "education", "cost"} <= set(shown)


def test_why_not_cites_the_statute_of_every_factor(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(["why-not", str(DEMO), "--child", "C07", "--vacancy", "V09"], capsys)
    factor_lines = [line.split()[0] for line in out.splitlines()[4:]]
    assert factor_lines
    for line in out.splitlines()[4:]:
        name = line.split()[0]
        assert line.endswith(f"({FACTOR_REFERENCES[name]})"), name
    data = json.loads(
        run(["why-not", str(DEMO), "--child", "C07", "--vacancy", "V09", "--json"], capsys)
    )
    assert data["references"] == {f: FACTOR_REFERENCES[f] for f in data["factors"]}


def test_match_cites_the_statute_of_every_factor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(["match", str(DEMO), "--out", str(tmp_path / "r.json")], capsys)
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    for a in data["assignments"]:
        assert all(f["reference"] == FACTOR_REFERENCES[f["factor"]] for f in a["factors"])
    legend = out.split("Points per factor (see --json), each under its statute:\n", 1)[1]
    for f in data["assignments"][0]["factors"]:
        assert f"  {f['factor']}" in legend and FACTOR_REFERENCES[f["factor"]] in legend
