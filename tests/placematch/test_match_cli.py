"""``placematch match`` end to end: summary, JSON, the assignment file, options, errors."""

from __future__ import annotations

import json
import os
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


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p, "policy file {path!r} not found"),
        (lambda p: (p.mkdir(), p)[1], "policy file {path!r} is a folder, not a file"),
        # a FIFO is refused at once (opening it would wait for a writer), not "not found"
        (
            lambda p: (os.mkfifo(p), p)[1],
            "policy file {path!r} is not a regular file; expected a file",
        ),
        (
            lambda p: (p.write_text("allow_sibling_split = 'maybe'\nbogus = 1\n"), p)[1],
            "policy file {path!r}: 2 problems: pol.toml: allow_sibling_split: ",
        ),
    ],
)
def test_a_bad_policy_file_is_named_with_all_its_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, expected: str
) -> None:
    path = make(tmp_path / "pol.toml")  # type: ignore[operator]
    assert main(["match", str(DEMO), "--policy", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("placematch: error: " + expected.format(path=str(path)))
    assert err.count("\n") == 1 and "Errno" not in err
    # 'placematch validate' checks the folder's own policy.toml, not this file.
    assert "placematch validate" not in err
    if "problems" in expected:
        assert "bogus: unknown key" in err


def test_out_is_checked_before_solving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing" / "result.json"
    assert main(["match", str(DEMO), "--out", str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Errno" not in err
    assert err == (
        f"placematch: error: --out {str(target)!r}: the folder "
        f"{str(target.parent)!r} does not exist\n"
    )
    assert main(["match", str(DEMO), "--out", str(tmp_path)]) == 2
    assert "is a folder; expected a file name" in capsys.readouterr().err


@pytest.mark.parametrize("limit", ["inf", "nan", "-0.5"])
def test_time_limit_must_be_finite_and_positive(
    limit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["match", str(DEMO), "--time-limit", limit])
    assert "argument --time-limit: expected a number of seconds > 0" in capsys.readouterr().err


def test_a_split_is_counted_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two beds for the three children of SG1 and a cheap split: one group is split.
    folder = tmp_path / "tight"
    shutil.copytree(DEMO, folder)
    lines = (folder / "vacancies.csv").read_text().splitlines()
    lines = [
        line.replace("V02,P02,inhouse_foster,CM1 1QH,3,", "V02,P02,inhouse_foster,CM1 1QH,2,")
        for line in lines[:8]
    ]
    (folder / "vacancies.csv").write_text("\n".join(lines) + "\n")
    policy = tmp_path / "split.toml"
    policy.write_text("allow_sibling_split = true\nsibling_split_cost = 50\n")
    assert main(["match", str(folder), "--policy", str(policy)]) == 0
    text = capsys.readouterr().out
    assert "(1 group split)" in text
    assert (
        "Sibling groups split (allowed by the policy)\n"
        "  SG1: C01: V05, C02: V02, C03: V02 (penalty 50)" in text
    )
