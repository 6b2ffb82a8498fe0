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
