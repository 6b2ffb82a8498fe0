"""``--scoring MODULE:NAME``: a scoring set of the user's own (one factor module and one tuple
entry, ``examples/scoring/in_house_first.py``) scores rank, why-not, candidates, match,
referral and impact, and a bad name is one clear line."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from placematch.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "examples" / "demo")
POOLED = str(ROOT / "examples" / "east_of_england" / "greater_essex")
RESIDENTS = str(ROOT / "tests" / "data" / "casefolders" / "residents")
SCORING = "in_house_first:scoring"
ON = "2026-03-01"


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "scoring"))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _header(out: str) -> list[str]:
    return next(line for line in out.splitlines() if line.startswith("#")).split()


def test_rank_is_changed_by_the_added_factor_and_shows_its_column(
    example: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status, plain, _ = run(["rank", DEMO, "--child", "C04"], capsys)
    assert status == 0 and "inh" not in _header(plain)
    assert plain.splitlines()[2].split()[1:3] == ["V13", "supported_accommodation"]
    status, out, err = run(["rank", DEMO, "--child", "C04", "--scoring", SCORING], capsys)
    assert status == 0 and err == ""
    head = _header(out)
    assert head[head.index("miles") - 1] == "inh"  # the added factor's column, last
    best = out.splitlines()[2].split()
    assert best[1:4] == ["V02", "inhouse_foster", "250"] and best[head.index("inh")] == "150"
    assert "  inh     in_house_first    Children Act 1989 s22G (sufficiency)" in out
    status, out, _ = run(["rank", DEMO, "--child", "C04", "--json", "--scoring", SCORING], capsys)
    first = json.loads(out)["options"][0]
    assert first["vacancy_id"] == "V02" and first["factors"]["in_house_first"] == 150
    assert first["points"] == sum(first["factors"].values())


def test_why_not_weighs_the_added_factor(example: None, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["why-not", DEMO, "--child", "C04", "--vacancy", "V13", "--json"]
    _, out, _ = run(argv, capsys)
    assert json.loads(out)["best"]["vacancy_id"] == "V13"
    _, out, _ = run([*argv, "--scoring", SCORING], capsys)
    data = json.loads(out)
    assert data["best"]["vacancy_id"] == "V02" and data["losses"]["in_house_first"] == -150


def test_candidates_and_match_take_the_set(
    example: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_csv = tmp_path / "pairs.csv"
    status, _, _ = run(["candidates", DEMO, "--out", str(out_csv), "--scoring", SCORING], capsys)
    assert status == 0
    with out_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["points_in_house_first"] for r in rows} == {"0", "150"}
    status, out, _ = run(["match", DEMO, "--json", "--scoring", SCORING], capsys)
    assert status == 0
    for a in json.loads(out)["assignments"]:
        assert a["factors"][-1]["factor"] == "in_house_first"
        assert sum(f["points"] for f in a["factors"]) == a["points"]


def test_a_scoring_set_in_the_current_directory_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "only_rules.py").write_text(
        "from matcher.factors import DEFAULT_FACTORS\n"
        "from matcher.rules import DEFAULT_RULES\n"
        "from matcher.scoring import Scoring\n"
        "NO_TYPE_RULE = Scoring(DEFAULT_FACTORS[:6], tuple(r for r in DEFAULT_RULES\n"
        "    if r.name != 'placement_type_suits_child'))\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    _, plain, _ = run(["rank", DEMO, "--child", "C04", "--json"], capsys)
    argv = ["rank", DEMO, "--child", "C04", "--json", "--scoring", "only_rules:NO_TYPE_RULE"]
    _, out, _ = run(argv, capsys)
    before, after = json.loads(plain), json.loads(out)
    assert "placement_type_suits_child" in before["excluded"]
    assert "placement_type_suits_child" not in after["excluded"]
    assert after["eligible"] + sum(after["excluded"].values()) == (
        before["eligible"] + sum(before["excluded"].values())
    )
    assert list(after["options"][0]["factors"]) == [
        "connected_person", "near_home", "education", "siblings", "disability", "in_area"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("in_house_first", "expected MODULE:NAME (e.g. my_factors:SCORING), not 'in_house_first'"),
        (":scoring", "expected MODULE:NAME"),
        ("no_such_module_here:X", "'no_such_module_here:X': no module named no_such_module_here"),
        (
            "in_house_first:SCORING",
            "'in_house_first:SCORING': module in_house_first has no SCORING",
        ),
        ("in_house_first:InHouseFirst", "InHouseFirst is a type, not a matcher.scoring.Scoring"),
        ("in_house_first:np", "np is a module, not a matcher.scoring.Scoring"),
    ],
)
def test_a_bad_scoring_name_is_one_clear_line(
    value: str, says: str, example: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in _every_command(tmp_path):
        with pytest.raises(SystemExit) as exc:
            main([*argv, "--scoring", value])
        assert exc.value.code == 2, argv[0]
        err = capsys.readouterr().err
        assert "argument --scoring: " in err and says in err and "Traceback" not in err
        # the usage, then one line: the error
        last = err.strip().splitlines()[-1]
        assert last.startswith(f"placematch {argv[0]}: error: argument --scoring: "), argv[0]
        assert err.count("error") == 1, argv[0]
    assert not (tmp_path / "out").exists()


def _every_command(tmp_path: Path) -> list[list[str]]:
    return [
        ["rank", DEMO, "--child", "C04"],
        ["why-not", DEMO, "--child", "C04", "--vacancy", "V13"],
        ["candidates", DEMO, "--out", str(tmp_path / "pairs.csv")],
        ["match", DEMO],
        ["referral", DEMO, "--child", "C04", "--out", str(tmp_path / "out")],
        ["impact", DEMO, "--child", "C04", "--vacancy", "V13"],
    ]


def test_a_module_that_fails_or_a_function_that_returns_no_set_is_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken_set.py").write_text("import no_such_dependency\n", encoding="utf-8")
    (tmp_path / "odd_set.py").write_text("def scoring(folder):\n    return 42\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for argv in _every_command(tmp_path):
        with pytest.raises(SystemExit) as exc:
            main([*argv, "--scoring", "broken_set:scoring"])
        assert exc.value.code == 2, argv[0]
        err = capsys.readouterr().err
        assert "importing broken_set failed: No module named 'no_such_dependency'" in err
        status, out, err = run([*argv, "--scoring", "odd_set:scoring"], capsys)
        assert status == 2 and out == "", argv[0]
        assert err == (
            "placematch: error: --scoring 'odd_set:scoring': scoring(folder) returned a int, "
            "not a matcher.scoring.Scoring\n"
        ), argv[0]
    assert not (tmp_path / "out").exists()  # no referral written


def _pooled_with_a_table(tmp_path: Path) -> Path:
    """The small pooled test folder with a table for Essex: its own in-house carers first."""
    folder = tmp_path / "pooled"
    shutil.copytree(ROOT / "tests" / "data" / "casefolders" / "pooled", folder)
    (folder / "policy.toml").write_text(
        '[authority."Essex"]\nown_carers_first = true\n', encoding="utf-8"
    )
    return folder


def test_a_pooled_match_and_its_candidates_take_the_set(
    example: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(_pooled_with_a_table(tmp_path))
    argv = ["match", folder, "--json", "--dividend", "--scoring", SCORING]
    status, out, err = run(argv, capsys)
    assert status == 0 and err == ""
    data = json.loads(out)
    assert data["assignments"] and data["pooling"]["dividend"] is not None
    for a in data["assignments"]:
        names = [f["factor"] for f in a["factors"]]
        assert names[-2:] == ["own_carers", "in_house_first"]  # the table's and the set's
        assert sum(f["points"] for f in a["factors"]) == a["points"]
    assert {a["factors"][-1]["points"] for a in data["assignments"]} == {0, 150}
    out_csv = tmp_path / "pairs.csv"
    status, _, _ = run(["candidates", folder, "--out", str(out_csv), "--scoring", SCORING], capsys)
    assert status == 0
    with out_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["points_in_house_first"] for r in rows} == {"0", "150"}
    assert {r["points_own_carers"] for r in rows} == {"0", "40"}  # Essex's table still holds


def _sent(out: Path) -> list[tuple[str, str]]:
    with (out / "referrals.csv").open(encoding="utf-8") as fh:
        return [(r["rank"], r["vacancy_id"]) for r in csv.DictReader(fh)]


def test_referral_shortlists_the_ranking_of_the_set(
    example: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["referral", DEMO, "--child", "C04", "--top", "2", "--on", ON, "--json"]
    status, _, _ = run([*argv, "--out", str(tmp_path / "plain")], capsys)
    assert status == 0 and _sent(tmp_path / "plain")[0] == ("1", "V13")
    status, out, err = run([*argv, "--out", str(tmp_path / "own"), "--scoring", SCORING], capsys)
    assert status == 0 and err == ""
    _, ranked, _ = run(["rank", DEMO, "--child", "C04", "--top", "2", "--json", "--scoring",
                        SCORING], capsys)  # fmt: skip
    best = [o["vacancy_id"] for o in json.loads(ranked)["options"]]
    assert best[0] == "V02"
    assert _sent(tmp_path / "own") == [("1", best[0]), ("2", best[1])]
    assert [v for r in json.loads(out)["referrals"] for v in r["vacancy_ids"]] == best
    shortlist = (tmp_path / "own" / "shortlist_C04.md").read_text(encoding="utf-8")
    assert "| 1 | V02 | P02 | inhouse_foster | 250 |" in shortlist
    assert "- in_house_first: 150 (An in-house foster carer of the authority: 150 points.)" in (
        shortlist
    )


def test_impact_gives_the_rules_and_points_of_the_set(
    example: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    argv = ["impact", DEMO, "--child", "C04", "--vacancy", "V02", "--json"]
    _, plain, _ = run(argv, capsys)
    _, own, err = run([*argv, "--scoring", SCORING], capsys)
    assert err == "" and json.loads(plain)["points"] + 150 == json.loads(own)["points"] == 250
    # a set without the age-gap factor and without the risk rule, on a folder with residents
    (tmp_path / "lenient.py").write_text(
        "from matcher.factors import factors_for\n"
        "from matcher.rules import DEFAULT_RULES\n"
        "from matcher.scoring import Scoring\n"
        "def lenient(folder):\n"
        "    return Scoring(tuple(f for f in factors_for(folder) if f.name != 'age_gap'),\n"
        "                   tuple(r for r in DEFAULT_RULES if r.name != 'risk_not_manageable'))\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    argv = ["impact", RESIDENTS, "--child", "C12", "--vacancy", "V11", "--on", ON, "--json"]
    _, plain, _ = run(argv, capsys)
    _, own, _ = run([*argv, "--scoring", "lenient:lenient"], capsys)
    before, after = json.loads(plain), json.loads(own)
    assert before["factors"]["age_gap"]["points"] == -20 and "age_gap" not in after["factors"]
    assert after["points"] == before["points"] + 20
    argv[argv.index("V11")] = "V02"  # an in-house carer who does not say it manages aggression
    _, plain, _ = run(argv, capsys)
    _, own, _ = run([*argv, "--scoring", "lenient:lenient"], capsys)
    before, after = json.loads(plain), json.loads(own)
    assert before["rule"] == "risk_not_manageable" and before["points"] is None
    assert after["eligible"] and after["rule"] is None and after["points"] is not None
