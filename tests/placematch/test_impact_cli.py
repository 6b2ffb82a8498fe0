"""``placematch impact``, and ``rank``/``why-not``/``candidates`` on a folder with residents."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from placematch.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "examples" / "demo")
RESIDENTS = str(ROOT / "tests" / "data" / "casefolders" / "residents")
ON = "2026-03-01"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_impact_text(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["impact", RESIDENTS, "--child", "C12", "--vacancy", "V11", "--on", ON]
    status, out, err = run(argv, capsys)
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == (
        "Matching and impact-risk summary: child C12, vacancy V11 (childrens_home, provider P10)"
    )
    assert "Child: age 14, M; needs: none; risk flags: aggression" in out
    assert "Eligible: 91 points." in out
    assert "Widest age gap to the 2 residents is 5 years, 2 beyond 3: -20 points." in out
    assert "Residents (2):" in out
    assert "    - Risk to a younger resident: the child's aggression." in out
    assert lines[-1] == "Impact risk: high."


def test_impact_json_for_an_excluded_vacancy(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["impact", RESIDENTS, "--child", "C07", "--vacancy", "V10", "--on", ON, "--json"]
    status, out, _ = run(argv, capsys)
    assert status == 0
    data = json.loads(out)
    assert (data["eligible"], data["rule"], data["impact_risk"]) == (
        False,
        "no_younger_children",
        "high",
    )
    assert "Children's Homes (England) Regulations 2015 reg 14" in data["rule_source"]
    assert [(r["resident_ref"], r["age"], r["sex"]) for r in data["residents"]] == [
        ("R1", 16, "M"),
        ("R2", 17, "M"),
    ]
    assert data["residents"][0]["shared_risks"] == ["missing"]
    assert data["child"] == {"age": 15, "sex": "M", "needs": [], "risk_flags": ["missing"]}


def test_impact_without_residents_says_they_are_not_known(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(["impact", DEMO, "--child", "C07", "--vacancy", "V10", "--on", ON], capsys)
    assert status == 0
    assert "Residents: not known (the case folder has no residents.csv)." in out
    assert out.rstrip().endswith("Impact risk: unknown.")


def test_impact_unknown_ids_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["impact", RESIDENTS, "--child", "C99", "--vacancy", "V10"], capsys)
    assert status == 2
    assert f"child_id 'C99' is not in case folder {RESIDENTS}" in err


def test_rank_shows_the_resident_columns_only_with_residents(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, with_them, _ = run(["rank", RESIDENTS, "--child", "C05", "--on", ON], capsys)
    head = with_them.splitlines()[1].split()
    at = head.index("cult")
    assert head[at : at + 4] == ["cult", "gap", "shared", "miles"]
    row = with_them.splitlines()[3].split()
    assert row[:2] == ["2", "V11"] and row[13:15] == ["-10", "10"]
    _, without, _ = run(["rank", DEMO, "--child", "C05", "--on", ON], capsys)
    assert "gap" not in without.splitlines()[1].split()

    # the legend names each factor column with its statute: age_gap only with residents
    def legend(out: str) -> list[list[str]]:
        lines = out.splitlines()
        start = lines.index("Points per factor, each under its statute:") + 1
        return [line.split()[:2] for line in lines[start:] if line.startswith("  ")][:11]

    assert ["gap", "age_gap"] not in legend(without) and ["gap", "age_gap"] in legend(with_them)


def test_rank_json_and_why_not_with_residents(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["rank", RESIDENTS, "--child", "C05", "--on", ON, "--json"], capsys)
    option = next(o for o in json.loads(out)["options"] if o["vacancy_id"] == "V11")
    assert option["factors"]["age_gap"] == -10 and option["factors"]["shared_needs"] == 10
    assert sum(option["factors"].values()) == option["points"]
    _, out, _ = run(["rank", DEMO, "--child", "C05", "--on", ON, "--json"], capsys)
    assert "age_gap" not in json.loads(out)["options"][0]["factors"]
    argv = ["why-not", RESIDENTS, "--child", "C07", "--vacancy", "V10", "--on", ON]
    _, out, _ = run(argv, capsys)
    assert "excluded by no_younger_children" in out
    assert "A resident aged 17 there must not live with younger children" in out


def test_candidates_csv_has_the_resident_columns_only_with_residents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder, expected in ((RESIDENTS, True), (DEMO, False)):
        out = tmp_path / f"{expected}.csv"
        assert main(["candidates", folder, "--out", str(out)]) == 0
        capsys.readouterr()
        with out.open(newline="") as fh:
            header = next(csv.reader(fh))
        assert ("points_age_gap" in header) is expected
        assert ("points_shared_needs" in header) is expected


def test_impact_of_a_pooled_child_is_scored_as_why_not_scores_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # greater_essex: Thurrock's table puts its own carers first (own_carers points); impact
    # used to score under the pool's policy, without them
    pooled = str(ROOT / "examples" / "east_of_england" / "greater_essex")
    ask = [pooled, "--child", "R02C0001", "--vacancy", "R02V0030", "--json"]
    _, out, _ = run(["why-not", *ask], capsys)
    answer = json.loads(out)
    assert answer["eligible"] and answer["factors"]["own_carers"] == 40
    _, out, _ = run(["impact", *ask], capsys)
    assert json.loads(out)["points"] == answer["points"]
