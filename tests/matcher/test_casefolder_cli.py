"""``placematch validate`` and ``placematch schema`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.contract import CHILDREN_COLUMNS, RESIDENTS_COLUMNS, VACANCIES_COLUMNS, contract
from matcher.policy import policy_keys
from placematch.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo"
FIXTURES = ROOT / "tests" / "data" / "casefolders"


def test_validate_demo_prints_a_one_screen_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(DEMO)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert len(lines) <= 30
    assert lines[0] == f"Case folder {DEMO}: OK"
    assert "12 children (1 separated migrant, 1 disabled); 16 vacancies with 27 beds" in out
    assert "Essex            10" in out
    assert "Sibling groups: 1 (3 children; 1 of 3)" in out
    assert "  inhouse_foster             5    8" in out
    assert "In Essex (the authority of most children): 11 vacancies, 21 beds" in out


def test_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", str(DEMO)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["children"] == 12 and data["beds"] == 27
    assert data["vacancies_by_type"]["secure_home"] == {"vacancies": 1, "beds": 1}
    assert data["warnings_list"] == []


def test_validate_lists_every_problem_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(FIXTURES / "many_problems")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0].endswith("29 problems in " + str(FIXTURES / "many_problems") + ":")
    assert len(lines) == 30
    assert lines[1] == "  children.csv:2: age: expected a whole number of years from 0 to 17"
    assert "Traceback" not in err


def test_validate_prints_warnings_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(FIXTURES / "unknown_columns")]) == 0
    out, err = capsys.readouterr()
    assert "warning: children.csv:1: favourite_colour: unknown column" in err
    assert "1 warning(s)" in out


def test_validate_missing_folder_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(FIXTURES / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a folder" in err


def test_schema_json_is_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == json.loads(json.dumps(contract()))
    names = [c["name"] for c in data["files"]["children.csv"]]
    assert names == [c.name for c in CHILDREN_COLUMNS]
    keys = [k["key"] for k in data["files"]["policy.toml"]]
    assert keys == [k.key for k in policy_keys()]


def test_schema_text_names_every_column_and_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    for column in (*CHILDREN_COLUMNS, *VACANCIES_COLUMNS, *RESIDENTS_COLUMNS):
        assert f"  {column.name} " in out
    for key in policy_keys():
        assert f"  {key.key} " in out
    assert "WBRI White British" in out
    assert "connected_person_foster  foster care with a relative" in out


def test_docs_describe_every_column_key_and_value() -> None:
    text = (ROOT / "docs" / "case-folder.md").read_text(encoding="utf-8")
    for column in (*CHILDREN_COLUMNS, *VACANCIES_COLUMNS, *RESIDENTS_COLUMNS):
        assert f"| `{column.name}` |" in text, column.name
    for key in policy_keys():
        assert f"| `{key.key}` |" in text, key.key
    for vocabulary in contract()["vocabularies"].values():
        for value in vocabulary:
            assert f"`{value}`" in text, value
