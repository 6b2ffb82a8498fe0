"""``placematch synth`` end to end: files, summary, JSON, errors, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.casefolder import load_case_folder
from placematch.cli import main


def test_synth_writes_a_valid_referral_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "essex"
    status = main(["synth", "--la", "Essex", "--seed", "3", "--referrals", "25", "--out", str(out)])
    text = capsys.readouterr().out
    assert status == 0
    assert "synthetic referrals for Essex (E10000012), profile essex, seed 3" in text
    assert "children       25" in text
    for name in ("children.csv", "vacancies.csv", "profile.json", "README.md"):
        assert (out / name).is_file()
    folder = load_case_folder(out)
    assert len(folder.children) == 25
    assert folder.warnings == ()  # the extra columns synth writes are not "unknown"
    assert main(["validate", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_synth_json_and_children_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "synth",
            "--la",
            "E06000049",
            "--seed",
            "0",
            "--children",
            "80",
            "--out",
            str(tmp_path),
            "--json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["children"] == 80 and data["shape"] == "whole_cohort"
    assert data["authority"] == {"ons_code": "E06000049", "name": "Cheshire East"}
    assert data["profile"] == "cheshire_east"
    assert data["beds"] > 0 and 0 <= data["in_county_bed_share"] <= 1


def test_same_seed_same_files_through_the_cli(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert (
            main(
                [
                    "synth",
                    "--la",
                    "Kent",
                    "--seed",
                    "9",
                    "--children",
                    "50",
                    "--out",
                    str(tmp_path / name),
                ]
            )
            == 0
        )
    for file in ("children.csv", "vacancies.csv", "profile.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--la", "Atlantis", "--seed", "1"], "Atlantis"),
        (["--la", "Essex", "--seed", "1", "--referrals", "0"], "--referrals"),
        (["--la", "Essex", "--seed", "1", "--children", "0"], "--children"),
        (["--la", "Essex", "--seed", "1", "--children", "5", "--referrals", "6"], "--referrals"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["synth", *args, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1


def test_negative_seed_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["synth", "--la", "Essex", "--seed", "-4", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "whole number >= 0" in capsys.readouterr().err


def test_committed_example_is_a_valid_synthetic_referral_folder() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "essex_referrals"
    meta = json.loads((example / "profile.json").read_text())
    assert meta["synthetic"] is True
    assert (meta["seed"], meta["shape"], meta["realised"]["children"]) == (1, "referrals", 60)
    folder = load_case_folder(example)
    assert len(folder.children) == 60
    assert len(folder.vacancies) == meta["realised"]["vacancies"]


def test_out_naming_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a folder", encoding="utf-8")
    assert main(["synth", "--la", "Essex", "--seed", "1", "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "is a file; expected a folder" in err
    assert taken.read_text(encoding="utf-8") == "not a folder"
