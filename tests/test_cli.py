"""The command line's own behaviour: help, version, error handling."""

import pytest

from placematch.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert "placematch" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: placematch" in capsys.readouterr().err


def test_a_closed_pipe_is_not_an_error() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        f"{sys.executable} -m placematch geo schools-near 'CM1 1AA' --radius 30 --limit 5000 --json"
        " | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "error" not in proc.stderr


def test_bench_lists_the_benchmark_suites(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import suite_names

    assert main(["bench", "--list"]) == 0
    assert capsys.readouterr().out.split() == list(suite_names())


def test_bench_hands_its_arguments_to_the_runner(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    from pathlib import Path

    out = Path(str(tmp_path))
    assert main(["bench", "forecast", "--tier", "smoke", "--results", str(out)]) == 0
    data = json.loads((out / "forecast.json").read_text(encoding="utf-8"))
    assert data["tier"] == "smoke"
    assert data["records"], "the forecast suite wrote no measurement"
    assert main(["bench", "nosuch"]) == 2
    assert "unknown suite" in capsys.readouterr().err


def test_other_commands_still_refuse_unknown_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["schema", "--bogus"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_bench_without_the_development_extras_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import benchmarks.__main__ as runner

    def missing(argv: object) -> int:
        raise ModuleNotFoundError("No module named 'scipy'", name="scipy")

    monkeypatch.setattr(runner, "main", missing)
    assert main(["bench", "matching", "--tier", "smoke"]) == 2
    err = capsys.readouterr().err
    assert "'scipy'" in err and "pip install -e '.[dev]'" in err
