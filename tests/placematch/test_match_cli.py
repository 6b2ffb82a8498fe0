"""``placematch match`` end to end: summary, JSON, the assignment file, options, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from placematch.cli import main

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_human_summary_and_assignment_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    status = main(["match", str(DEMO), "--seed", "3", "--workers", "1", "--out", str(out)])
    text = capsys.readouterr().out
    assert status == 0
    assert "Status     optimal" in text
    assert "Placed     12 of 12 children (0 unplaced)" in text
    assert "seed 3, 1 worker," in text
    assert f"Result written to {out}" in text
    data = json.loads(out.read_text())
    assert data["status"] == "optimal" and data["seed"] == 3
    assert data["objective"] == data["bound"]
    assert {a["child_id"] for a in data["assignments"]} == {f"C{i:02d}" for i in range(1, 13)}
    assert data["metrics"]["placed"] == 12


def test_json_is_the_same_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for _ in range(2):
        assert main(["match", str(DEMO), "--json", "--time-limit", "10"]) == 0
        data = json.loads(capsys.readouterr().out)
        del data["stats"]
        runs.append(data)
    assert runs[0] == runs[1]
    assert runs[0]["parameters"]["time_limit_s"] == 10.0


def test_policy_option_replaces_the_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "split.toml"
    policy.write_text("allow_sibling_split = true\nsibling_split_cost = 50\n")
    assert main(["match", str(DEMO), "--policy", str(policy), "--json", "--seed", "5"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["seed"] == 5
    assert data["metrics"]["placed"] == 12
    assert data["splits"] == []


def test_unplaced_children_are_listed_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "short"
    shutil.copytree(DEMO, folder)
    lines = (folder / "vacancies.csv").read_text().splitlines()
    (folder / "vacancies.csv").write_text("\n".join(lines[:3]) + "\n")  # V01 and V02 only
    assert main(["match", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "Placed     4 of 12 children (8 unplaced)" in text
    assert "Unplaced" in text
    assert "C05: no eligible vacancy" in text


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("placematch: error:") and err.count("\n") == 1
    with pytest.raises(SystemExit):
        main(["match", str(DEMO), "--time-limit", "0"])
    bad = tmp_path / "bad.toml"
    bad.write_text("allow_sibling_split = 'maybe'\n")
    assert main(["match", str(DEMO), "--policy", str(bad)]) == 2
    assert "allow_sibling_split" in capsys.readouterr().err
