"""``placematch match`` on a pooled folder, end to end: per authority, recharges, dividend."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from placematch.cli import main

POOLED = Path(__file__).resolve().parents[1] / "data" / "casefolders" / "pooled"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["match", *argv, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _own_carers_first_in_essex(tmp_path: Path) -> Path:
    """The pooled folder with a table for Essex: its own in-house carers first."""
    folder = tmp_path / "pooled"
    shutil.copytree(POOLED, folder)
    (folder / "policy.toml").write_text(
        '[authority."Essex"]\nown_carers_first = true\n', encoding="utf-8"
    )
    return folder


def _solo_copy(tmp_path: Path, name: str) -> Path:
    """One authority's own folder, cut from the pooled CSVs by hand (not by placematch)."""
    out = tmp_path / f"solo-{name}"
    out.mkdir()
    children = [r for r in _rows(POOLED / "children.csv") if r["la"] == name]
    vacancies = [r for r in _rows(POOLED / "vacancies.csv") if r["owner_la"] == name]
    _write(out / "children.csv", children)
    _write(out / "vacancies.csv", vacancies)
    return out


def test_pooled_summary_json_and_recharge_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "region.json"
    assert main(["match", str(POOLED), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Pooled match: per authority (the placing authority pays)" in text
    assert "Recharges (placing authority -> owner of the vacancy, a week)" in text
    assert "Pooling dividend" not in text  # only with --dividend
    data = json.loads(out.read_text(encoding="utf-8"))
    pooling = data["pooling"]
    names = [a["authority"] for a in pooling["authorities"]]
    assert names == ["Essex", "Southend-on-Sea", "Thurrock"]
    assert pooling["region"]["placed"] == data["metrics"]["placed"]
    assert sum(a["placed"] for a in pooling["authorities"]) == data["metrics"]["placed"]
    assert pooling["region"]["weekly_cost"] == data["metrics"]["weekly_cost"]
    # the recharge table, from the assignments, by hand
    children = {r["child_id"]: r["la"] for r in _rows(POOLED / "children.csv")}
    owners = {r["vacancy_id"]: r["owner_la"] for r in _rows(POOLED / "vacancies.csv")}
    expected: dict[tuple[str, str], list[int]] = {}
    for a in data["assignments"]:
        cell = expected.setdefault((children[a["child_id"]], owners[a["vacancy_id"]]), [0, 0])
        cell[0] += 1
        cell[1] += a["weekly_cost"]
    table = _rows(tmp_path / "region.recharges.csv")
    got = {
        (r["placing_la"], r["owner_la"]): [int(r["children"]), int(r["weekly_cost"])] for r in table
    }
    assert got == expected
    assert {(r["placing_la"], r["owner_la"]) for r in pooling["recharges"]} == set(expected)
    assert any(p != o for p, o in expected)  # someone is placed across a border
    # a vacancy kept back is never another authority's
    kept = {
        r["vacancy_id"] for r in _rows(POOLED / "vacancies.csv") if r["offered_to_pool"] == "false"
    }
    for a in data["assignments"]:
        if a["vacancy_id"] in kept:
            assert children[a["child_id"]] == owners[a["vacancy_id"]]


def test_the_dividend_equals_separate_solo_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pooled = _json(capsys, str(POOLED), "--dividend")["pooling"]
    solo = {s["authority"]: s for s in pooled["solo"]}
    pooled_by = {a["authority"]: a for a in pooled["authorities"]}
    totals = dict.fromkeys(("placed", "within_20_miles", "weekly_cost"), 0)
    for name in ("Essex", "Southend-on-Sea", "Thurrock"):
        alone = _json(capsys, str(_solo_copy(tmp_path, name)))
        m = alone["metrics"]
        assert solo[name]["placed"] == m["placed"]
        assert solo[name]["weekly_cost"] == m["weekly_cost"]
        assert solo[name]["within_20_miles_pct"] == m["within_20_miles_pct"]
        assert solo[name]["siblings_together_pct"] == m["siblings_together_pct"]
        assert solo[name]["school_kept_pct"] == m["school_kept_pct"]
        dividend = pooled["dividend"][name]
        assert dividend["placed"] == pooled_by[name]["placed"] - m["placed"]
        assert dividend["weekly_cost"] == pooled_by[name]["weekly_cost"] - m["weekly_cost"]
        for key in totals:
            totals[key] += solo[name][key]
    region = pooled["dividend"]["region"]
    assert region["placed"] == pooled["region"]["placed"] - totals["placed"]
    assert region["weekly_cost"] == pooled["region"]["weekly_cost"] - totals["weekly_cost"]
    assert region["placed"] > 0  # Thurrock alone has one bed for three children


def test_dividend_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", str(POOLED), "--dividend"]) == 0
    text = capsys.readouterr().out
    assert "Pooling dividend (pooled minus each authority alone on its own supply)" in text
    line = next(x for x in text.splitlines() if x.strip().startswith("Thurrock ") and "+" in x)
    assert line.split()[1] == "+2"


def test_an_authority_table_changes_only_its_childrens_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _json(capsys, str(POOLED))
    folder = _own_carers_first_in_essex(tmp_path)
    changed = _json(capsys, str(folder))
    la = {r["child_id"]: r["la"] for r in _rows(POOLED / "children.csv")}
    before = {a["child_id"]: a for a in plain["assignments"]}
    after = {a["child_id"]: a for a in changed["assignments"]}
    own = {
        a["child_id"]: {f["factor"]: f["points"] for f in a["factors"]}["own_carers"]
        for a in changed["assignments"]
    }
    assert any(own[c] == 40 for c in own if la[c] == "Essex")
    for child, a in after.items():
        if la[child] != "Essex":
            assert own[child] == 0
            if a["vacancy_id"] == before[child]["vacancy_id"]:
                assert a["factors"] == before[child]["factors"]


def test_dividend_and_tables_need_a_pooled_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["match", str(DEMO), "--dividend"]) == 2
    assert "--dividend needs a pooled folder" in capsys.readouterr().err
    policy = tmp_path / "p.toml"
    policy.write_text('[authority."Essex"]\nown_carers_first = true\n', encoding="utf-8")
    assert main(["match", str(DEMO), "--policy", str(policy)]) == 2
    assert "needs a pooled folder" in capsys.readouterr().err
    # a --policy file's table for an authority outside the region
    policy.write_text('[authority."Kent"]\nown_carers_first = true\n', encoding="utf-8")
    assert main(["match", str(POOLED), "--policy", str(policy)]) == 2
    err = capsys.readouterr().err
    assert 'authority."Kent"' in err and "not of this folder's region" in err


def test_rank_and_why_not_score_a_child_under_its_authoritys_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _own_carers_first_in_essex(tmp_path)

    def own_carers(child: str) -> dict[str, int]:
        assert main(["rank", str(folder), "--child", child, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        return {o["vacancy_id"]: o["factors"]["own_carers"] for o in data["options"]}

    essex = own_carers("E1")
    assert essex["EV1"] == 40 and essex["TV1"] == 0  # Essex's own in-house carer; Thurrock's
    assert set(own_carers("T1").values()) == {0}  # Thurrock has no table: off
    assert main(["why-not", str(folder), "--child", "T2", "--vacancy", "EV3", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["eligible"] is False and answer["rule"] == "not_offered_to_pool"
    assert "Kept by Essex" in answer["reason"]


def test_the_rank_table_of_a_pooled_folder_shows_the_own_carers_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _own_carers_first_in_essex(tmp_path)
    assert main(["rank", str(folder), "--child", "E1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = lines[1].split()
    factors = head[head.index("total") + 1 : head.index("miles")]
    assert factors[-1] == "own"  # the pooled set's last factor, under its short name
    rows = [line.split() for line in lines[2:9]]
    assert rows[0][1] == "EV1" and rows[0][head.index("own")] == "40"
    for row in rows:  # every point of the total is in a column
        total = int(row[head.index("total")])
        assert total == sum(int(row[head.index(f)]) for f in factors), row
    assert any("  own " in line and "own_carers" in line for line in lines)  # the legend


def test_candidates_of_a_pooled_folder_with_tables_are_the_matchs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _own_carers_first_in_essex(tmp_path)
    out = tmp_path / "pairs.csv"
    assert main(["candidates", str(folder), "--out", str(out)]) == 0
    capsys.readouterr()
    pairs = {(r["child_id"], r["vacancy_id"]): r for r in _rows(out)}
    assert pairs[("E1", "EV1")]["points_own_carers"] == "40"
    assert {r["points_own_carers"] for (c, _), r in pairs.items() if not c.startswith("E")} == {"0"}
    # every assignment's objective points are its pair's points in the file
    data = _json(capsys, str(folder))
    for a in data["assignments"]:
        assert int(pairs[(a["child_id"], a["vacancy_id"])]["points"]) == a["objective_points"]


def test_a_single_authoritys_folder_naming_its_owner_is_matched_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solo = _solo_copy(tmp_path, "Thurrock")
    data = _json(capsys, str(solo))
    assert "pooling" not in data
    assert main(["match", str(solo)]) == 0
    assert "Pooled match" not in capsys.readouterr().out
    # the dividend of one authority alone is nothing, and says so
    with_dividend = _json(capsys, str(solo), "--dividend")
    assert with_dividend["pooling"]["dividend"]["Thurrock"] == dict.fromkeys(
        ("placed", "within_20_miles", "siblings_together", "school_kept", "weekly_cost"), 0
    )
