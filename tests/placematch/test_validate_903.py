"""``placematch validate-903``: the DfE validator in its own environment, never a cell's value.

The validator here is a stand-in (tests/data/fake_903_validator) behind a fake environment
whose ``bin/python`` is this interpreter with the stand-in on its path, so that these tests
run offline; ``.ci/check_903_export.sh`` runs the command against the real validator.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from placematch.cli import main
from placematch.validate_903 import (
    ENV_VARIABLE,
    ValidatorUnavailableError,
    default_environment,
    default_ruleset,
    environment_python,
    validate_903,
)

FAKE = Path(__file__).resolve().parents[1] / "data" / "fake_903_validator"

# Synthetic cells: none of them may ever be printed.
HEADER = (
    "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
    "700101,M,03/02/2010,WBRI,A123456789012,,\n"
    "700102,U,17/11/2012,BAFR,A123456789013,,\n"
)
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
    "PL_POST,URN\n"
    "700101,14/05/2024,S,C2,N1,U1,PR1,,,,CM2 0HU,CM1 1AA,XXXXXXX\n"
    "700102,02/06/2024,S,C2,N1,U1,PR1,,,, ,CM1 1AA,XXXXXXX\n"
    "700101,20/08/2024,P,C2,N1,U1,PR1,,,, ,SS1 1AA,XXXXXXX\n"
)
SECRETS = ("700101", "700102", "CM2 0HU", "03/02/2010", "17/11/2012", "A123456789012", "SS1 1AA")


def _fake_env(tmp_path: Path, *, with_validator: bool = True) -> Path:
    """A 'virtual environment' whose python is ours, seeing only the stand-in validator."""
    env = tmp_path / "venv"
    python = environment_python(env)
    python.parent.mkdir(parents=True)
    path = f"PYTHONPATH={FAKE} " if with_validator else ""
    python.write_text(f'#!/bin/sh\n{path}exec {sys.executable} "$@"\n', encoding="utf-8")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return env


def _return(tmp_path: Path, episodes: str = EPISODES, header: str = HEADER) -> Path:
    folder = tmp_path / "return"
    folder.mkdir()
    (folder / "header.csv").write_text(header, encoding="utf-8")
    (folder / "episodes.csv").write_text(episodes, encoding="utf-8")
    (folder / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return folder


def _cmd(folder: Path, env: Path, *extra: str) -> list[str]:
    return ["validate-903", str(folder), "--la", "Essex", "--year", "2025",
            "--validator-env", str(env), *extra]  # fmt: skip


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_flags_are_reported_by_rule_table_count_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env, folder = _fake_env(tmp_path), _return(tmp_path)
    status, out, err = _run(_cmd(folder, env), capsys)
    assert status == 1, err
    assert "rules lac2024_25" in out and "Essex (E10000012)" in out and "year 2024/25" in out
    assert "tables read: Episodes (episodes.csv), Header (header.csv)" in out
    assert "not 903 tables, not checked: notes.csv" in out
    assert "rules run 2, skipped (tables absent) 1" in out  # no UASC table
    assert "  9001  Episodes           2  HOME_POST; Home postcode is blank." in out
    assert "lines 3, 4 of episodes.csv" in out
    assert "  9002  Header             1  SEX; Sex is not M or F." in out
    assert "lines 3 of header.csv" in out
    assert "2 rule(s) flag 3 row(s)" in out
    for secret in SECRETS:  # the stand-in printed every cell: none reaches the user
        assert secret not in out and secret not in err


def test_json_has_counts_per_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env, folder = _fake_env(tmp_path), _return(tmp_path)
    status, out, _ = _run(
        ["validate-903", str(folder), "--la", "E10000012", "--year", "2025", "--json",
         "--validator-env", str(env)],
        capsys,
    )  # fmt: skip
    assert status == 1
    report = json.loads(out)
    assert report["la"] == {"ons_code": "E10000012", "name": "Essex"}
    assert report["ruleset"] == "lac2024_25" and report["rules_run"] == 2
    assert report["rules_skipped"] == ["9003"] and report["rules_failed"] == []
    assert report["errors"] == 3 and report["rules_flagged"] == 2
    flags = {(f["rule"], f["table"]): f for f in report["flags"]}
    assert flags["9001", "Episodes"]["count"] == 2
    assert flags["9001", "Episodes"]["lines"] == [3, 4]
    assert flags["9001", "Episodes"]["fields"] == ["HOME_POST"]
    assert Path(flags["9002", "Header"]["file"]).name == "header.csv"
    for secret in SECRETS:
        assert secret not in out


def test_a_clean_return_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean_eps = EPISODES.replace(", ,CM1", ",CM2 0HU,CM1").replace(", ,SS1", ",CM2 0HU,SS1")
    clean_head = HEADER.replace(",U,", ",F,")
    folder = _return(tmp_path, clean_eps, clean_head)
    env = _fake_env(tmp_path)
    status, out, _ = _run(_cmd(folder, env), capsys)
    assert status == 0
    assert "no rule flags a row" in out


def test_the_environment_variable_names_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _fake_env(tmp_path)
    monkeypatch.setenv(ENV_VARIABLE, str(env))
    assert default_environment() == env
    result = validate_903(_return(tmp_path), la="Essex", year=2025, install=False)
    assert {f.rule for f in result.flags} == {"9001", "9002"}


def test_the_summary_is_the_reports_counts(tmp_path: Path) -> None:
    env = _fake_env(tmp_path)
    result = validate_903(_return(tmp_path), la="Essex", year=2025, env=env)
    summary = result.summary()
    assert json.loads(json.dumps(summary)) == summary
    data = result.to_dict()
    for key in ("la", "year", "ruleset", "rules_run", "rules_flagged", "errors"):
        assert summary[key] == data[key], key
    assert (summary["rules_skipped"], summary["rules_failed"]) == (1, 0)
    assert result.text().endswith(f"{summary['rules_flagged']} rule(s) flag 3 row(s)")


def test_default_environment_is_in_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_environment() == tmp_path / "placematch" / "validator-903-0.1.17"
    assert default_ruleset(2025) == "lac2024_25" and default_ruleset(2100) == "lac2099_00"


def test_no_environment_and_no_install_says_how_to_provide_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _return(tmp_path)
    status, _, err = _run(
        ["validate-903", str(folder), "--la", "Essex", "--year", "2025", "--no-install",
         "--validator-env", str(tmp_path / "absent")],
        capsys,
    )  # fmt: skip
    assert status == 2
    assert "no validator environment at" in err
    assert "pip install csc-validator-be-903==0.1.17" in err and "--validator-env" in err
    assert not (tmp_path / "absent").exists()


def test_offline_install_fails_clearly_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No index at all: pip fails at once, as it does on a machine without network.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-wheels"))
    folder, env = _return(tmp_path), tmp_path / "made"
    status, _, err = _run(_cmd(folder, env), capsys)
    assert status == 2
    assert "creating the validator's environment" in err
    assert "could not install csc-validator-be-903==0.1.17" in err
    assert "is this machine offline?" in err and ENV_VARIABLE in err
    assert not env.exists()  # a half-made environment would pass for a good one


def test_a_folder_that_is_not_an_environment_is_refused(tmp_path: Path) -> None:
    env = tmp_path / "notenv"
    env.mkdir()
    (env / "something").write_text("x", encoding="utf-8")
    with pytest.raises(ValidatorUnavailableError, match="is not a virtual environment"):
        validate_903(_return(tmp_path), la="Essex", year=2025, env=env)


def test_an_environment_without_the_validator_is_refused(tmp_path: Path) -> None:
    env = _fake_env(tmp_path, with_validator=False)
    with pytest.raises(ValidatorUnavailableError, match="not an environment with csc-validator"):
        validate_903(_return(tmp_path), la="Essex", year=2025, env=env)


def test_a_crash_is_reported_without_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_903_CRASH", "1")
    env, folder = _fake_env(tmp_path), _return(tmp_path)
    status, out, err = _run(_cmd(folder, env), capsys)
    assert status == 2
    assert "the DfE validator failed" in err and "may quote the data" in err
    for secret in SECRETS:
        assert secret not in out and secret not in err


def test_two_files_of_one_table_and_an_unknown_ruleset_are_refused(tmp_path: Path) -> None:
    env, folder = _fake_env(tmp_path), _return(tmp_path)
    with pytest.raises(ValueError, match="has no ruleset 'lac1999_00'; it has lac2024_25"):
        validate_903(folder, la="Essex", year=2025, env=env, ruleset="lac1999_00")
    (folder / "episodes2.csv").write_text(EPISODES, encoding="utf-8")
    with pytest.raises(ValueError, match="are both the Episodes table"):
        validate_903(folder, la="Essex", year=2025, env=env)


def test_a_folder_without_903_tables_is_refused(tmp_path: Path) -> None:
    env = _fake_env(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"no \.csv file"):
        validate_903(empty, la="Essex", year=2025, env=env)
    (empty / "notes.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no file is a 903 table"):
        validate_903(empty, la="Essex", year=2025, env=env)


def test_the_year_is_inferred_from_the_latest_episode_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env, folder = _fake_env(tmp_path), _return(tmp_path)
    args = ["validate-903", str(folder), "--la", "Essex", "--validator-env", str(env)]
    status, out, err = _run(args, capsys)
    assert status == 1, err
    # the latest DECOM is 20/08/2024: the year 1 April 2024 to 31 March 2025
    assert "rules lac2024_25" in out and "year 2024/25" in out
    assert "collection year 2024/25, from the latest episode date" in err
    # an episode ending in March stays in the year it ends
    march = EPISODES.replace("20/08/2024,P,C2,N1,U1,PR1,,", "20/08/2023,P,C2,N1,U1,PR1,31/03/2024,")
    march = march.replace("14/05/2024", "14/05/2023").replace("02/06/2024", "02/06/2023")
    from placematch.validate_903 import infer_year

    other = tmp_path / "march"
    other.mkdir()
    (other / "episodes.csv").write_text(march, encoding="utf-8")
    assert infer_year(other) == 2024


def test_an_unreadable_episode_date_is_named_by_file_line_and_column(tmp_path: Path) -> None:
    from placematch.validate_903 import infer_year

    folder = _return(tmp_path, episodes=EPISODES.replace("02/06/2024", "2024-06-02"))
    with pytest.raises(ValueError, match=r"episodes.csv, line 3, column DECOM: expected a date"):
        infer_year(folder)
    with pytest.raises(ValueError) as caught:
        infer_year(folder)
    assert "2024-06-02" not in str(caught.value)
    empty = tmp_path / "none"
    empty.mkdir()
    (empty / "header.csv").write_text(HEADER, encoding="utf-8")
    with pytest.raises(ValueError, match="no episodes table"):
        infer_year(empty)
