"""Defensive reading and bounded numbers (issue 18), unit by unit.

The end-to-end mutations and the fuzz test are in ``tests/placematch/test_fuzz_folders.py``.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from matcher.bounds import (
    MAX_BEDS,
    MAX_FOSTERED_NOW,
    MAX_KEY_STAGE_4_MULTIPLIER,
    MAX_MILES,
    MAX_WEEKLY_COST,
    MAX_WEIGHT,
)
from matcher.casefolder import load_case_folder
from matcher.contract import contract
from matcher.files import decode_text, read_bytes
from matcher.match import match
from matcher.policy import MAX_TOML_DEPTH, Policy, Weights, load_policy, policy_keys
from matcher.problems import CaseFolderError, Problem

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo"


def _only(exc: pytest.ExceptionInfo[CaseFolderError]) -> Problem:
    (problem,) = exc.value.problems
    return problem


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: os.mkfifo(p), "a named pipe (FIFO)"),
        (lambda p: p.mkdir(), "a folder"),
        (lambda p: p.symlink_to("/dev/zero"), "a device"),
    ],
)
def test_special_files_are_refused_before_reading(tmp_path: Path, make: object, kind: str) -> None:
    path = tmp_path / "children.csv"
    make(path)  # type: ignore[operator]
    with pytest.raises(CaseFolderError) as exc:
        read_bytes(path, limit=1000)  # a FIFO would block here, /dev/zero fill memory
    assert _only(exc) == Problem("children.csv", None, None, f"is {kind}; expected a regular file")


def test_size_cap_names_the_size_and_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "vacancies.csv"
    path.write_bytes(b"x" * 1001)
    with pytest.raises(CaseFolderError) as exc:
        read_bytes(path, limit=1000)
    assert _only(exc).message == "is 1,001 bytes; expected at most 1,000 bytes"
    assert read_bytes(path, limit=1001) == b"x" * 1001


def test_a_broken_link_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").symlink_to(tmp_path / "gone.toml")
    with pytest.raises(CaseFolderError) as exc:
        read_bytes(tmp_path / "policy.toml", limit=10)
    assert _only(exc).message.startswith("file not found")


def test_utf8_with_or_without_bom_reads_the_same() -> None:
    text = "child_id,age\nC1,4\n"
    assert decode_text(text.encode(), "f.csv", save_as="x") == text
    assert decode_text(b"\xef\xbb\xbf" + text.encode(), "f.csv", save_as="x") == text


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        ("a,b\nc,d\n".encode("utf-16"), 1, "is UTF-16 text, not UTF-8"),
        ("a,b\nc,d\ncaf\u00e9,e\n".encode("latin-1"), 3, "not UTF-8 text (byte 12 is not UTF-8)"),
        (b"a,b\nc,d\ne\0f\n", 3, "holds a NUL character"),
    ],
)
def test_text_that_is_not_utf8_names_file_and_line(data: bytes, line: int, words: str) -> None:
    with pytest.raises(CaseFolderError) as exc:
        decode_text(data, "children.csv", save_as="save it as CSV UTF-8")
    problem = _only(exc)
    assert (problem.file, problem.line) == ("children.csv", line)
    assert problem.message.startswith(words) and problem.message.endswith("save it as CSV UTF-8")


# --------------------------------------------------------------------------- policy


def test_policy_nested_too_deep_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("# deep\nx = 1\ny = " + "[" * 20_000 + "]" * 20_000 + "\n", encoding="utf-8")
    with pytest.raises(CaseFolderError) as exc:
        load_policy(path)  # tomllib alone recurses until RecursionError
    problem = _only(exc)
    assert (problem.file, problem.line) == ("policy.toml", 3)
    assert f"nested more than {MAX_TOML_DEPTH} levels" in problem.message


def test_brackets_in_strings_and_comments_are_not_nesting(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    brackets = "[" * (MAX_TOML_DEPTH + 5)
    path.write_text(f'# {brackets}\nauthority = "{brackets}"\n', encoding="utf-8")
    # Parsed as TOML (the authority itself is checked when the folder is loaded).
    assert load_policy(path).authority == brackets


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("key_stage_4_multiplier = inf", "key_stage_4_multiplier", "from 1 to 10"),
        ("key_stage_4_multiplier = nan", "key_stage_4_multiplier", "from 1 to 10"),
        ("key_stage_4_multiplier = 1e300", "key_stage_4_multiplier", "from 1 to 10"),
        ("distance_zero_miles = inf", "distance_zero_miles", "up to 1,000"),
        ("distance_step_miles = 1e300", "distance_step_miles", "up to 1,000"),
        ("cost_scale_weekly = 9223372036854775808", "cost_scale_weekly", "1 to 100,000"),
        ("sibling_split_cost = 100001", "sibling_split_cost", "0 to 100,000"),
        ("distance_step_share = nan", "distance_step_share", "from 0 to 1"),
        ("[weights]\nnear_home = 100000000000000000000", "weights.near_home", "0 to 10,000"),
        ("[weights]\nconnected_person = 10001", "weights.connected_person", "0 to 10,000"),
        ("distance_step_miles = " + "9" * 400, "distance_step_miles", "too large"),
    ],
)
def test_policy_numbers_are_finite_and_bounded(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(CaseFolderError) as exc:
        load_policy(path)
    problem = _only(exc)
    assert (problem.file, problem.field) == ("policy.toml", key)
    assert words in problem.message


def test_policy_bounds_admit_their_edges() -> None:
    p = Policy(
        weights=Weights(
            **{
                k.key.removeprefix("weights."): MAX_WEIGHT
                for k in policy_keys()
                if k.key.startswith("weights.")
            }
        ),
        distance_step_miles=MAX_MILES - 1,
        distance_zero_miles=MAX_MILES,
        key_stage_4_multiplier=MAX_KEY_STAGE_4_MULTIPLIER,
        cost_scale_weekly=MAX_WEEKLY_COST,
    )
    assert p.weights.near_home == MAX_WEIGHT


def test_a_wrong_type_never_echoes_the_value(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('allow_sibling_split = "Jessica Smith"\n', encoding="utf-8")
    with pytest.raises(CaseFolderError) as exc:
        load_policy(path)
    assert _only(exc).message == "expected boolean, got a string of 13 characters (value not shown)"


def test_every_policy_key_states_its_range_in_the_schema() -> None:
    keys = contract()["files"]["policy.toml"]
    assert all(k["range"] for k in keys)
    ranges = {k["key"]: k["range"] for k in keys}
    assert ranges["key_stage_4_multiplier"] == "1 to 10"
    assert ranges["weights.near_home"] == "0 to 10,000"
    types = {c["name"]: c["type"] for c in contract()["files"]["vacancies.csv"]}
    assert types["beds"] == f"whole number 1-{MAX_BEDS}"
    assert types["fostered_now"] == f"whole number 0-{MAX_FOSTERED_NOW}"
    assert types["weekly_cost"] == f"whole pounds 0-{MAX_WEEKLY_COST}"


# --------------------------------------------------------------------------- cells


def _demo_with(tmp_path: Path, file: str, vacancy_or_child: str, column: str, value: str) -> Path:
    folder = tmp_path / "folder"
    shutil.copytree(DEMO, folder)
    path = folder / file
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    index = rows[0].index(column)
    for row in rows[1:]:
        if row[0] == vacancy_or_child:
            row[index] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return folder


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "words"),
    [
        ("vacancies.csv", "V01", "beds", str(MAX_BEDS + 1), "from 1 to 100"),
        ("vacancies.csv", "V01", "beds", "9223372036854775808", "from 1 to 100"),
        ("vacancies.csv", "V01", "beds", "9" * 5000, "from 1 to 100"),
        ("vacancies.csv", "V01", "weekly_cost", str(MAX_WEEKLY_COST + 1), "0 to 100000"),
        ("vacancies.csv", "V01", "fostered_now", str(MAX_FOSTERED_NOW + 1), "0 to 100"),
        ("children.csv", "C01", "age", "\u0661\u0664", "not a whole number (2 characters"),
        ("children.csv", "C01", "age", "\uff11\uff14", "not a whole number (2 characters"),
        ("vacancies.csv", "V01", "beds", "\uff12", "not a whole number (1 character"),
        ("children.csv", "C01", "school_urn", "\u0661" + "\u0660" * 5, "six-digit school URN"),
        ("vacancies.csv", "V01", "available_from", "\u0662\u0660\u0662\u0666-01-01", "ISO date"),
        ("vacancies.csv", "V01", "age_min", "25", "expected at least age_min"),
    ],
)
def test_numbers_out_of_range_or_in_other_digits_are_refused(
    tmp_path: Path, file: str, row: str, column: str, value: str, words: str
) -> None:
    folder = _demo_with(tmp_path, file, row, column, value)
    with pytest.raises(CaseFolderError) as exc:
        load_case_folder(folder)
    problem = _only(exc)
    assert (problem.file, problem.line) == (file, 2)
    assert words in problem.message and value not in problem.message


def test_a_household_over_the_limit_already_is_kept_warned_and_never_given_a_child(
    tmp_path: Path,
) -> None:
    folder = load_case_folder(_demo_with(tmp_path, "vacancies.csv", "V02", "fostered_now", "10"))
    (warning,) = [w for w in folder.warnings if w.field == "fostered_now"]
    assert (warning.file, warning.line) == ("vacancies.csv", 3)
    assert "over the fostering limit of 3" in warning.message
    result = match(folder)  # raised MatchError from its own validator before issue 18
    assert result.assignments and all(a.vacancy_id != "V02" for a in result.assignments)


@pytest.mark.parametrize("file", ["policy.toml", "residents.csv", "responses.csv"])
def test_a_broken_link_to_an_optional_file_is_refused_not_skipped(
    tmp_path: Path, file: str
) -> None:
    folder = tmp_path / "folder"
    shutil.copytree(DEMO, folder)
    (folder / file).unlink(missing_ok=True)
    (folder / file).symlink_to(tmp_path / "elsewhere" / file)
    with pytest.raises(CaseFolderError) as exc:
        load_case_folder(folder)
    assert _only(exc) == Problem(file, None, None, "file not found; expected a regular file")


@pytest.mark.parametrize("file", ["policy.toml", "residents.csv", "responses.csv"])
def test_a_fifo_in_place_of_an_optional_file_is_refused_at_once(tmp_path: Path, file: str) -> None:
    folder = tmp_path / "folder"
    shutil.copytree(DEMO, folder)
    (folder / file).unlink(missing_ok=True)
    os.mkfifo(folder / file)
    with pytest.raises(CaseFolderError) as exc:
        load_case_folder(folder)  # opening it would wait for a writer for ever
    assert _only(exc).message == "is a named pipe (FIFO); expected a regular file"
