"""A terminal that fits: tables at the terminal's width, progress on stderr only (with a
line before the first run ends and an ETA), ``rank`` readable at 100 columns."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from placematch.cli import main
from placematch.commands._progress import RunProgress
from placematch.commands._table import render_table

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "examples" / "demo")

SMALL = """
[scenario]
name = "small Essex"
la = "Essex"
children = 30
seed = 5
runs = 3

[demand]
counts = {fostering = 20, residential = 5, supported_accommodation = 5}
horizon_months = 12

[match]
time_limit_s = 20

[[scenarios]]
name = "homes where children live"
[[scenarios.add]]
placement_type = "childrens_home"
beds = 4
where = "children"
"""


def test_rank_at_100_columns_fits_and_keeps_every_fact(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["rank", DEMO, "--child", "C06"]) == 0
    wide = capsys.readouterr().out
    assert max(len(line) for line in wide.splitlines()) > 100  # the natural table is wider
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["rank", DEMO, "--child", "C06"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["#", "vacancy", "type", "total"]
    assert lines[2].split()[:4] == ["1*", "V01", "connected_person_foster", "296"]
    # the option's distances, cost, area and sign-offs follow on the lines below it
    detail = " ".join(lines[3:5])
    assert "1.9 miles from home" in detail and "connected_person_temporary_approval" in detail
    assert "0 points for every option shown (no column): kin, sibs, disab." in out
    # every factor is still named with its statute
    for name in ("connected_person", "siblings", "disability", "culture_language"):
        assert re.search(rf"^  \S+\s+{name}\s+\S", out, flags=re.M), name


def test_a_table_too_wide_wraps_only_its_wrappable_columns() -> None:
    head = ["id", "points", "notes"]
    rows = [["V01", "12345", "a long note " * 6], ["V02", "7", "short"]]
    natural = render_table(head, rows, numeric={1})
    assert len(natural) == 3 and max(len(line) for line in natural) > 40
    fitted = render_table(head, rows, numeric={1}, wrap={2}, width=40)
    assert max(len(line) for line in fitted) <= 40 and len(fitted) > 3
    assert "12345" in fitted[1] and "V01" in fitted[1]
    assert render_table(head, rows, numeric={1}, width=200) == natural


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def _strip(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    data.pop("seconds")
    data["runs"] = [{k: v for k, v in r.items() if k != "seconds"} for r in data["runs"]]
    return data


def test_scenario_run_progress_goes_to_stderr_and_json_is_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(_scenario(tmp_path))
    assert main(["scenario", "run", path, "--workers", "1", "--json", "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert main(["scenario", "run", path, "--workers", "1", "--json"]) == 0
    loud = capsys.readouterr()
    assert _strip(json.loads(loud.out)) == _strip(json.loads(quiet.out))
    err = loud.err.splitlines()
    # the line before the first run ends, then one line a run with the time left
    assert err[0] == "scenario run: 3 of 3 runs on 1 worker (this process)"
    assert err[1].startswith("scenario run: 1/3 runs, ") and "left" in err[1]
    assert err[-1].startswith("scenario run: 3/3 runs, ") and "left" not in err[-1]


def test_scenario_plan_says_which_round(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(_scenario(tmp_path))
    args = ["scenario", "plan", path, "--target", "P50 placed=all", "--runs", "2"]
    main([*args, "--workers", "1", "--rounds", "3", "--json"])
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout is the JSON alone
    rounds = re.findall(r"^scenario plan: round (\d) \(rounds 0 to 3\), (\d+) beds added: "
                        r"2 of 2 runs on 1 worker", captured.err, flags=re.M)  # fmt: skip
    assert [r for r, _ in rounds][:2] == ["0", "1"] and rounds[0][1] == "0"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_is_a_bar_with_an_eta() -> None:
    stream = _Terminal()
    progress = RunProgress("scenario run", stream)
    progress.announce("4 of 4 runs on 2 workers (a process pool)")
    for done in range(1, 5):
        progress(done, 4)
    text = stream.getvalue()
    assert text.startswith("scenario run: 4 of 4 runs on 2 workers (a process pool)\n")
    assert "4/4" in text and "ETA" in text and "━" in text


def test_match_summary_wraps_to_the_terminal_and_keeps_every_word(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    referrals = str(ROOT / "examples" / "essex_referrals")
    assert main(["match", referrals]) == 0
    natural = capsys.readouterr().out
    assert max(len(line) for line in natural.splitlines()) > 100
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["match", referrals]) == 0
    fitted = capsys.readouterr().out
    assert max(len(line) for line in fitted.splitlines()) <= 100
    # the same words, but for the seconds each run took
    assert _untimed(fitted.split()) == _untimed(natural.split())


def _untimed(words: list[str]) -> list[str]:
    """``words`` with every number followed by ``s`` (a duration) masked."""
    return [
        "<n>" if re.fullmatch(r"[\d.,]+", w) and nxt.startswith("s") else w
        for w, nxt in zip(words, [*words[1:], ""], strict=True)
    ]


def _numbers(text: str) -> list[str]:
    """Every number of a report (counts, shares, changes), in order of reading."""
    return re.findall(r"[+-]?[0-9][0-9.,]*%?", text)


@pytest.mark.parametrize(
    "args",
    [
        ["scenario", "forecast", str(ROOT / "examples" / "essex_2026.toml")],
        ["scenario", "forecast", str(ROOT / "examples" / "synthetic_903_forecast.toml"),
         "--runs", "50", "--quiet"],
        ["scenario", "backtest", str(ROOT / "examples" / "synthetic_903_forecast.toml"),
         "--runs", "50", "--quiet"],
    ],
    ids=["statement", "stochastic", "backtest"],
)  # fmt: skip
def test_forecast_tables_fit_the_terminal_and_keep_every_number(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(args) == 0
    wide = capsys.readouterr().out
    assert max(len(line) for line in wide.splitlines()) > 72  # its table is wider
    monkeypatch.setenv("COLUMNS", "72")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 72
    # laid out again, not cut: every number is still there, in the same order
    assert sorted(_numbers(out)) == sorted(_numbers(wide))
    assert "total" in out


def test_fit_report_leaves_a_table_that_fits_and_a_pipe_alone() -> None:
    from placematch.commands._table import fit_report

    text = "title\n\ngroup   start  end\n" + "-" * 18 + "\nfoster    727  786\n\nnote\n"
    assert fit_report(text, None) == text
    assert fit_report(text, 80) == text
    narrow = fit_report(text, 16)
    assert all(len(line) <= 16 for line in narrow.splitlines())
    assert "-" * 18 not in narrow  # laid out again as a table, not wrapped as prose
    assert _numbers(narrow) == ["727", "786"]
