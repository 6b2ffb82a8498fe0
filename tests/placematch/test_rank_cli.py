"""``placematch rank``, ``why-not`` and ``candidates`` end to end on the demo folder."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from placematch.cli import main

DEMO = str(Path(__file__).resolve().parents[2] / "examples" / "demo")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_rank_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["rank", DEMO, "--child", "C06"], capsys)
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "Child C06: 6 eligible vacancies"
    assert lines[1].split()[:4] == ["#", "vacancy", "type", "total"]
    assert lines[2].split()[:4] == ["1*", "V01", "connected_person_foster", "296"]
    assert "connected_person_temporary_approval" in lines[2]
    assert "Excluded: 10 vacancies:" in out
    assert "by age_within_approval (Fostering Services (England) Regulations 2011" in out


def test_rank_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["rank", DEMO, "--child", "C07", "--top", "2", "--json"], capsys)
    assert status == 0
    data = json.loads(out)
    assert data["child_id"] == "C07" and len(data["options"]) == 2
    best = data["options"][0]
    assert best["vacancy_id"] == "V05" and best["points"] == sum(best["factors"].values())
    assert best["in_area"] is True and best["signoffs"] == []
    assert data["excluded"]["connected_person_only_for_connected"] == 1


def test_why_not_excluded_and_eligible(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["why-not", DEMO, "--child", "C10", "--vacancy", "V02"], capsys)
    assert status == 0
    assert out.startswith("Child C10, vacancy V02: excluded by dols_lawful (")
    status, out, _ = run(["why-not", DEMO, "--child", "C07", "--vacancy", "V10", "--json"], capsys)
    data = json.loads(out)
    assert data["eligible"] is True and data["best"]["vacancy_id"] == "V05"
    assert data["losses"]["in_area"] == -80
    assert sum(data["gains"].values()) + sum(data["losses"].values()) == (
        data["points"] - data["best"]["points"]
    )


def test_unknown_ids_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["rank", DEMO, "--child", "C99"], capsys)
    assert status == 2 and out == ""
    assert err.strip() == (
        f"placematch: error: child_id 'C99' is not in case folder {DEMO} (children.csv)"
    )
    status, _, err = run(["why-not", DEMO, "--child", "C01", "--vacancy", "V99"], capsys)
    assert status == 2 and "vacancy_id 'V99'" in err and DEMO in err
    assert len(err.strip().splitlines()) == 1


def test_candidates_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "pairs.csv"
    status, out, _ = run(["candidates", DEMO, "--out", str(out_file)], capsys)
    assert status == 0
    assert out.startswith("Wrote 46 eligible pairs of 12 children and 16 vacancies")
    rows = list(csv.DictReader(out_file.open()))
    assert len(rows) == 46
    factor_cols = [c for c in rows[0] if c.startswith("points_")]
    assert len(factor_cols) == 9
    for row in rows:
        assert sum(int(row[c]) for c in factor_cols) == int(row["score"])
        assert int(row["points"]) > int(row["score"])
    kin = [r for r in rows if r["connected_person"] == "1"]
    assert [(r["child_id"], r["vacancy_id"]) for r in kin] == [("C06", "V01")]
    # beside the pairs, the vacancies and sibling groups the model needs
    assert f"{tmp_path / 'pairs.vacancies.csv'} (16 vacancies)" in out
    assert len(list(csv.DictReader((tmp_path / "pairs.vacancies.csv").open()))) == 16
    assert (
        (tmp_path / "pairs.sibling_groups.csv")
        .read_text()
        .startswith("sibling_group,child_id,split_cost\n")
    )
    assert {"solo_only", "weekly_cost"} <= set(rows[0])
    status, out, _ = run(["candidates", DEMO, "--out", str(out_file), "--json"], capsys)
    data = json.loads(out)
    assert data["eligible_pairs"] == 46
    assert data["files"] == {
        "pairs": str(out_file),
        "vacancies": str(tmp_path / "pairs.vacancies.csv"),
        "sibling_groups": str(tmp_path / "pairs.sibling_groups.csv"),
    }


def test_rank_lists_each_exclusion_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["rank", DEMO, "--child", "C10", "--excluded"], capsys)
    assert status == 0
    listed = out.split("Excluded vacancies:\n", 1)[1].splitlines()
    assert len(listed) == 15
    assert listed[0].split()[:2] == ["V01", "connected_person_only_for_connected:"]
    status, out, _ = run(["rank", DEMO, "--child", "C10", "--json"], capsys)
    data = json.loads(out)
    assert len(data["exclusions"]) == sum(data["excluded"].values()) == 15


@pytest.mark.parametrize("top", ["0", "-1", "two"])
def test_top_must_be_at_least_one(top: str, capsys: pytest.CaptureFixture[str]) -> None:
    # --top 0 used to print "best 0 shown" then "No eligible vacancy." for a child with 8.
    with pytest.raises(SystemExit) as exc:
        main(["rank", DEMO, "--child", "C07", "--top", top])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --top: expected a whole number" in err and "Traceback" not in err


def test_candidates_out_in_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no" / "pairs.csv"
    status, out, err = run(["candidates", DEMO, "--out", str(target)], capsys)
    assert status == 2 and out == ""
    assert (
        err == f"placematch: error: --out {str(target)!r}: the folder {str(target.parent)!r} "
        "does not exist\n"
    )
    status, _, err = run(["candidates", DEMO, "--out", str(tmp_path)], capsys)
    assert status == 2 and "is a folder; expected a file name" in err


def test_why_not_names_the_tier_that_outranks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(["why-not", DEMO, "--child", "C06", "--vacancy", "V02"], capsys)
    assert status == 0
    assert (
        "  The best option is a connected-person carer of the child: it comes before every "
        "other option whatever the points (s22C(7)(a)).\n"
    ) in out
    folder = tmp_path / "tiered"
    shutil.copytree(DEMO, folder)
    (folder / "policy.toml").write_text("in_area_tier = true\n")
    status, out, _ = run(["why-not", str(folder), "--child", "C07", "--vacancy", "V07"], capsys)
    assert status == 0
    assert "  Best option: V05, 263 points (tier 1).\n" in out
    assert "policy makes in area a tier (in_area_tier)" in out and "s22C(9)" in out
