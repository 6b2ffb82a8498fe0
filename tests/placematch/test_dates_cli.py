"""Dates and emergencies end to end (issue 14 part 2): rank/why-not/match --on, an
emergency's vacancies that free within days, DECOM of the 903 export, blank dates as before.

The clock is fixed (``placematch.commands._dates.clock``), so no test depends on today.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from matcher.casefolder import load_case_folder
from matcher.match import match
from matcher.rank import rank_child
from placematch.cli import main
from placematch.commands import _dates

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
TODAY = dt.date(2026, 3, 1)

#: vacancy -> (available_from, available_until) in the dated copy of the demo
DATES = {
    "V02": ("", "2026-02-27"),  # ended before today
    "V05": ("2026-03-05", ""),  # frees in four days
    "V09": ("2026-03-20", "2026-06-30"),  # frees in nineteen days
}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dates, "clock", lambda: TODAY)


def _edit(path: Path, column_values: dict[str, dict[str, str]], key: str) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:
        row.update(column_values.get(row[key], {}))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def dated_demo(tmp_path: Path, children: dict[str, dict[str, str]] | None = None) -> Path:
    folder = tmp_path / "dated"
    shutil.copytree(DEMO, folder)
    _edit(
        folder / "vacancies.csv",
        {v: {"available_from": a, "available_until": b} for v, (a, b) in DATES.items()},
        "vacancy_id",
    )
    _edit(folder / "children.csv", children or {}, "child_id")
    return folder


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _ids(data: dict[str, object], key: str) -> set[str]:
    return {str(o["vacancy_id"]) for o in data[key]}  # type: ignore[attr-defined]


def test_rank_offers_only_vacancies_free_on_the_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(dated_demo(tmp_path))
    _, out, _ = run(["rank", folder, "--child", "C07", "--json"], capsys)
    today = json.loads(out)
    assert today["date"] == "2026-03-01"
    eligible = _ids(today, "options")
    assert eligible.isdisjoint(DATES) and today["excluded"]["not_available_on_date"] == 3
    assert "free_within_days" not in today  # not an emergency
    _, out, _ = run(["rank", folder, "--child", "C07", "--on", "2026-03-06", "--json"], capsys)
    later = json.loads(out)
    assert _ids(later, "options") == eligible | {"V05"}
    assert later["excluded"]["not_available_on_date"] == 2


def test_needed_by_is_the_child_s_date_whatever_on_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(dated_demo(tmp_path, {"C07": {"needed_by": "2026-03-25"}}))
    _, out, _ = run(["rank", folder, "--child", "C07", "--on", "2026-02-01", "--json"], capsys)
    data = json.loads(out)
    assert data["date"] == "2026-03-25"
    assert {"V05", "V09"} <= _ids(data, "options") and "V02" not in _ids(data, "options")


def test_exclusion_and_why_not_give_the_vacancy_s_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(dated_demo(tmp_path))
    _, out, _ = run(["rank", folder, "--child", "C07", "--excluded"], capsys)
    assert "by not_available_on_date (Children Act 1989 s22C(5)" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("V09"))
    assert "from 2026-03-20 until 2026-06-30" in line and "2026-03-01" in line
    _, out, _ = run(["why-not", folder, "--child", "C07", "--vacancy", "V02"], capsys)
    assert "excluded by not_available_on_date" in out
    assert "free from now until 2026-02-27" in out


def test_emergency_lists_what_frees_within_seven_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an emergency is matched on today even when --on asks about another day
    folder = str(dated_demo(tmp_path, {"C07": {"urgency": "emergency"}}))
    status, out, err = run(["rank", folder, "--child", "C07", "--on", "2026-04-01"], capsys)
    assert status == 0 and err == ""
    assert "Free within 7 days of 2026-03-01 (not free on that date):" in out
    soon = out.split("Free within 7 days")[1].splitlines()[1:]
    assert [s.split()[0] for s in soon] == ["V05"]
    assert "from 2026-03-05" in soon[0]
    _, out, _ = run(["rank", folder, "--child", "C07", "--within-days", "30", "--json"], capsys)
    data = json.loads(out)
    assert data["urgency"] == "emergency" and data["within_days"] == 30
    assert [s["vacancy_id"] for s in data["free_within_days"]] == ["V05", "V09"]
    assert data["free_within_days"][1] == {
        "vacancy_id": "V09",
        "placement_type": "childrens_home",
        "available_from": "2026-03-20",
        "available_until": "2026-06-30",
    }
    assert _ids(data, "options").isdisjoint(DATES)


def test_soon_free_leaves_out_vacancies_another_rule_excludes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # C01 (6, sibling group) cannot take V09 (a children's home from 11) on any date
    folder = str(dated_demo(tmp_path, {"C01": {"urgency": "emergency"}}))
    _, out, _ = run(["rank", folder, "--child", "C01", "--within-days", "30", "--json"], capsys)
    assert "V09" not in [s["vacancy_id"] for s in json.loads(out)["free_within_days"]]


def test_bad_on_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["rank", str(DEMO), "--child", "C07", "--on", "01/03/2026"])
    assert exc.value.code == 2
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err


def test_match_places_nobody_in_a_vacancy_not_free_on_their_date(tmp_path: Path) -> None:
    folder = load_case_folder(dated_demo(tmp_path)).with_dates(None, TODAY)
    result = match(folder)
    used = {a.vacancy_id for a in result.assignments}
    assert used.isdisjoint(DATES)
    later = match(folder.with_dates(dt.date(2026, 3, 25), TODAY))
    # on 25 March V02 has ended, V05 and V09 are free: the match may use them
    assert "V02" not in {a.vacancy_id for a in later.assignments}


def test_match_cli_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(dated_demo(tmp_path))
    out = tmp_path / "m.json"
    assert main(["match", folder, "--on", "2026-03-01", "--out", str(out)]) == 0
    capsys.readouterr()
    used = {a["vacancy_id"] for a in json.loads(out.read_text())["assignments"]}
    assert used and used.isdisjoint(DATES)


def test_blank_dates_rank_and_match_as_before() -> None:
    folder = load_case_folder(DEMO)
    dated = folder.with_dates(dt.date(2030, 1, 1), TODAY)
    for child in folder.children:
        assert (
            rank_child(dated, child.child_id).to_dict()
            == rank_child(folder, child.child_id).to_dict()
        )
    a, b = match(folder), match(dated)
    assert (a.objective, a.assignments) == (b.objective, b.assignments)


def test_export_decom_is_each_child_s_placement_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = dated_demo(
        tmp_path,
        {"C05": {"needed_by": "2026-03-10"}, "C07": {"urgency": "emergency"}},
    )
    result = tmp_path / "m.json"
    assert main(["match", str(folder), "--on", "2026-03-15", "--out", str(result)]) == 0
    placed = {a["child_id"] for a in json.loads(result.read_text())["assignments"]}
    assert {"C05", "C07"} <= placed
    out = tmp_path / "903"
    args = ["export-903", str(folder), "--assignment", str(result), "--out", str(out)]
    assert main([*args, "--start", "2026-03-15"]) == 0
    capsys.readouterr()
    with (out / "episodes.csv").open(encoding="utf-8", newline="") as fh:
        decom = {r["CHILD"]: r["DECOM"] for r in csv.DictReader(fh)}
    assert decom["C05"] == "10/03/2026"  # needed_by
    assert decom["C07"] == "01/03/2026"  # an emergency: today
    others = {d for c, d in decom.items() if c not in ("C05", "C07")}
    assert others == {"15/03/2026"}  # the date the match was made on
