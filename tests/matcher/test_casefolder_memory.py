"""Case folders parsed from memory: the same folder, and the same problems, as from disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from matcher import casefolder
from matcher.casefolder import FOLDER_FILES, load_case_folder, parse_case_folder
from matcher.domain import CaseFolder
from matcher.policy import load_policy, parse_policy
from matcher.problems import CaseFolderError, Problem

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "casefolders"
FOLDERS = sorted(
    [ROOT / "examples" / "demo", ROOT / "examples" / "essex_referrals"]
    + [p for p in FIXTURES.iterdir() if p.is_dir()]
)

CHILDREN = "child_id,age,sex,home_postcode,la\nC1,10,F,CM1 1QH,Essex\n"
VACANCIES = (
    "vacancy_id,provider_id,placement_type,postcode,beds,age_min,age_max,sex,capabilities,"
    "ofsted,weekly_cost\nV1,P1,inhouse_foster,CO1 1PJ,1,0,17,any,,good,450\n"
)


def outcome(load: object) -> CaseFolder | tuple[Problem, ...]:
    """The folder, or the problems it was refused with."""
    try:
        return load()  # type: ignore[operator, no-any-return]
    except CaseFolderError as exc:
        return exc.problems


def files_of(folder: Path) -> dict[str, bytes]:
    return {n: (folder / n).read_bytes() for n in FOLDER_FILES if (folder / n).is_file()}


def on_disk(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (tmp_path / name).write_bytes(data)
    return tmp_path


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_folder_parses_from_memory_as_from_disk(folder: Path) -> None:
    expected = outcome(lambda: load_case_folder(folder))
    files = files_of(folder)
    assert outcome(lambda: parse_case_folder(files)) == expected
    as_text = {n: b.decode("utf-8-sig") for n, b in files.items()}
    assert outcome(lambda: parse_case_folder(as_text)) == expected


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({"children.csv": CHILDREN}, id="no vacancies file"),
        pytest.param({}, id="no file at all"),
        pytest.param(
            {"children.csv": b"child_id,age\n\xe9\n", "vacancies.csv": VACANCIES}, id="latin-1"
        ),
        pytest.param(
            {"children.csv": "\ufeff" + CHILDREN, "vacancies.csv": VACANCIES.encode("utf-16")},
            id="bom and utf-16",
        ),
        pytest.param(
            {"children.csv": CHILDREN + "C2,1\0,F,,Essex\n", "vacancies.csv": VACANCIES},
            id="nul",
        ),
        pytest.param(
            {"children.csv": CHILDREN + "C2,30,Q,CM1 1QH,Essex\n", "vacancies.csv": VACANCIES},
            id="bad cells",
        ),
        pytest.param(
            {
                "children.csv": CHILDREN,
                "vacancies.csv": VACANCIES,
                "policy.toml": "weights.cost = [\n",
                "residents.csv": "provider_id,resident_ref,age,sex\nP9,R1,3,F\n",
                "responses.csv": "vacancy_id,child_id,response,reason\nV1,C9,accepted,\n",
            },
            id="every optional file wrong",
        ),
        pytest.param(
            {
                "children.csv": CHILDREN,
                "vacancies.csv": VACANCIES,
                "policy.toml": 'authority = "Narnia"\n',
                "notes.txt": "not a case-folder file: ignored",
            },
            id="policy authority and another file",
        ),
    ],
)
def test_problems_are_the_same_as_from_disk(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    from_disk = outcome(lambda: load_case_folder(on_disk(tmp_path, files)))
    assert isinstance(from_disk, tuple) and from_disk
    assert outcome(lambda: parse_case_folder(files)) == from_disk


def test_the_size_cap_is_the_same_as_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(casefolder, "MAX_CSV_BYTES", len(CHILDREN) - 1)
    files: dict[str, str | bytes] = {"children.csv": CHILDREN, "vacancies.csv": VACANCIES}
    problems = outcome(lambda: parse_case_folder(files))
    assert problems == outcome(lambda: load_case_folder(on_disk(tmp_path, files)))
    assert isinstance(problems, tuple)
    assert [(p.file, p.message) for p in problems] == [
        (f, f"is {len(text)} bytes; expected at most {len(CHILDREN) - 1} bytes")
        for f, text in files.items()
    ]


def test_text_that_cannot_be_utf8_names_the_file_and_line() -> None:
    # JSON's "\ud800" escape gives a lone surrogate: no file on disk could hold it.
    files = {"children.csv": CHILDREN + "C2,10,F,\ud800,Essex\n", "vacancies.csv": VACANCIES}
    problems = outcome(lambda: parse_case_folder(files))
    assert isinstance(problems, tuple)
    assert [(p.file, p.line) for p in problems] == [("children.csv", 3)]
    assert "not UTF-8" in problems[0].message and "\ud800" not in problems[0].message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_files_on_disk_that_cannot_be_read_are_still_refused(tmp_path: Path) -> None:
    on_disk(tmp_path, {"children.csv": CHILDREN, "vacancies.csv": VACANCIES})
    (tmp_path / "policy.toml").mkdir()
    (tmp_path / "residents.csv").symlink_to(tmp_path / "gone.csv")
    problems = outcome(lambda: load_case_folder(tmp_path))
    assert isinstance(problems, tuple)
    assert sorted((p.file, p.message) for p in problems) == [
        ("policy.toml", "is a folder; expected a regular file"),
        ("residents.csv", "file not found; expected a regular file"),
    ]


def test_a_policy_parses_from_memory_as_from_disk(tmp_path: Path) -> None:
    text = 'authority = "Essex"\n[weights]\nnear_home = 700\n'
    (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
    policy = load_policy(tmp_path / "policy.toml")
    assert policy.weights.near_home == 700
    assert parse_policy(text) == parse_policy(text.encode()) == policy
    bad = "[weights]\nnear_home = -1\n"
    (tmp_path / "policy.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(CaseFolderError) as disk:
        load_policy(tmp_path / "policy.toml")
    with pytest.raises(CaseFolderError) as memory:
        parse_policy(bad)
    assert memory.value.problems == disk.value.problems
