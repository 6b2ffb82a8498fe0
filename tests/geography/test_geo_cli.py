"""``placematch geo`` end to end through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from placematch.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_locate_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "geo", "locate", "cm11aa", "--json")
    assert status == 0 and err == ""
    data = json.loads(out)
    assert data["postcode"] == "CM1 1AA"
    assert data["authority"]["dfe_code"] == "881"
    assert data["approximate"] is False


def test_locate_table_and_approximate(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "geo", "locate", "RM17 5RW")
    assert status == 0 and "Thurrock (E06000034, 883)" in out
    status, out, _ = run(capsys, "geo", "locate", "CM1 1", "--approximate")
    assert status == 0 and "approximate: sector centre" in out


def test_distance_json_has_miles(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "geo", "distance", "CM1 1AA", "RM17 5RW", "--json")
    assert status == 0
    assert json.loads(out)["miles"] == 18.5
    status, out, _ = run(capsys, "geo", "distance", "CM1 1AA", "RM17 5RW")
    assert out.strip() == "CM1 1AA -> RM17 5RW: 18.5 miles (SSDA903 PL_DISTANCE)"


@pytest.mark.parametrize(
    "words",
    [
        ("CM1", "1AA", "RM17", "5RW"),  # typed without quotes: the shell splits each postcode
        ("cm11aa", "rm17", "5rw"),
        ("CM1 1AA", "RM17", "5RW"),
    ],
)
def test_distance_unquoted_postcodes(
    capsys: pytest.CaptureFixture[str], words: tuple[str, ...]
) -> None:
    status, out, err = run(capsys, "geo", "distance", *words)
    assert (status, err) == (0, "")
    assert out.strip() == "CM1 1AA -> RM17 5RW: 18.5 miles (SSDA903 PL_DISTANCE)"


def test_locate_and_schools_near_unquoted(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "geo", "locate", "CM1", "1AA", "--json")
    assert status == 0 and json.loads(out)["postcode"] == "CM1 1AA"
    status, out, _ = run(capsys, "geo", "locate", "CM1", "1", "--approximate", "--json")
    assert status == 0 and json.loads(out)["precision"] == "sector"
    status, out, _ = run(capsys, "geo", "schools-near", "CM1", "1AA", "--limit", "1", "--json")
    assert status == 0 and len(json.loads(out)) == 1
    status, out, _ = run(capsys, "geo", "schools-near", "CM1 1AA", "--limit", "0")
    assert status == 0 and out.strip() == "none (--limit 0)"  # not "no schools within 5 miles"


def test_school_and_schools_near(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "geo", "school", "100000", "--json")
    assert status == 0 and json.loads(out)["name"] == "The Aldgate School"
    status, out, _ = run(
        capsys, "geo", "schools-near", "CM1 1AA", "--phase", "Secondary", "--limit", "2", "--json"
    )
    found = json.loads(out)
    assert status == 0 and [s["urn"] for s in found] == [136642, 136412]


def test_authority_command(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "geo", "authority", "883", "--json")
    data = json.loads(out)
    assert status == 0 and data["name"] == "Thurrock"
    assert {n["name"] for n in data["adjoining"]} == {"Essex", "Havering"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("geo", "locate", "zz"), "not shaped like a UK postcode"),
        (("geo", "locate", "CM1 1ZZ"), "well formed but not in the ONS postcode directory"),
        (("geo", "locate", "GY1 1AA"), "has no grid reference"),
        (("geo", "distance", "CM1 1AA", "nope"), "not shaped like a UK postcode"),
        (("geo", "school", "1"), "no school with URN 1"),
        (("geo", "school", "abc"), "expected a number"),
        (("geo", "authority", "Esex"), "did you mean Essex"),
        (("geo", "distance", "CM1", "1AA"), "expected 2 postcodes"),
        (("geo", "schools-near", "CM1 1AA", "--radius", "nan"), "expected zero or more"),
        (("geo", "map", "Essex", "--out", "unused.svg", "--width", "0"), "width 0"),
        (("geo", "distance", "CM1 1AA", "RM17", "5RW", "SS1", "1AA"), "got 3"),
    ],
)
def test_errors_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err
    assert "Traceback" not in err


def test_map_with_points(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    points = tmp_path / "points.csv"
    points.write_text(
        "postcode,label,group\nRM17 5RW,home A,children\nRM16 2,,vacancies\n", encoding="utf-8"
    )
    out_svg = tmp_path / "map.svg"
    status, out, _ = run(
        capsys, "geo", "map", "Thurrock", "--points", str(points), "--out", str(out_svg)
    )
    assert status == 0 and "2 points" in out
    svg = out_svg.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "home A" in svg


def test_map_bad_points_name_the_line_not_the_postcode(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    points = tmp_path / "points.csv"
    points.write_text("postcode\nRM17 5RW\nZZ9 9ZZ\n", encoding="utf-8")
    status, _, err = run(
        capsys, "geo", "map", "Thurrock", "--points", str(points), "--out", str(tmp_path / "m.svg")
    )
    assert status == 2
    assert "line 3" in err and "ZZ9 9ZZ" not in err
    bad_columns = tmp_path / "cols.csv"
    bad_columns.write_text("where\nsomewhere\n", encoding="utf-8")
    status, _, err = run(
        capsys, "geo", "map", "Essex", "--points", str(bad_columns), "--out", str(tmp_path / "x")
    )
    assert status == 2 and "expected a 'postcode' column" in err
