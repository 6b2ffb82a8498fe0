"""Supply scenarios: bad files are refused up front, in one line naming the key; report pieces."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from placematch.cli import main
from scenarios.whatif.config import HOME_DEFAULTS, AddBeds, ScenarioConfigError, load_scenario_file
from scenarios.whatif.runner import RunRecord, need_type, run_scenarios

HEAD = """
[scenario]
la = "Essex"
children = 30
seed = 1
runs = 2

[demand]
counts = {fostering = 20, residential = 4, supported_accommodation = 5}
horizon_months = 12
"""

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def _write(tmp_path: Path, body: str, head: str = HEAD) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


def _variant(lines: str) -> str:
    return '[[scenarios]]\nname = "x"\n' + lines


def _add(lines: str) -> str:
    return _variant('[[scenarios.add]]\nplacement_type = "childrens_home"\nbeds = 3\n' + lines)


CASE_FOLDER = f'[scenario]\ncase_folder = "{DEMO}"\n[demand]\ncounts = {{fostering = 5}}\n'

# (head, body, the key the message must name, a phrase of the message)
BAD: list[tuple[str, str, str, str]] = [
    (HEAD, _add('where = "everywhere"\n'), "scenarios[0].add[0].where", "supply"),
    (HEAD, _add("where = []\n"), "scenarios[0].add[0].where", "empty"),
    (HEAD, _add('where = ["Atlantis"]\n'), "scenarios[0].add[0].where", "Chelmsford"),
    (HEAD, _add('postcodes = ["ZZ99 9ZZ"]\n'), "scenarios[0].add[0].postcodes[0]", "ZZ99"),
    (
        HEAD,
        _add('capabilities = ["flying"]\n'),
        "scenarios[0].add[0].capabilities[0]",
        "wheelchair",
    ),
    (
        HEAD,
        _variant('[[scenarios.add]]\nplacement_type = "castle"\nbeds = 3\n'),
        "scenarios[0].add[0].placement_type",
        "childrens_home",
    ),
    (
        HEAD,
        _variant("policy = {nonsense_key = 3}\n"),
        "scenarios[0].policy.nonsense_key",
        "unknown",
    ),
    (
        HEAD,
        _variant('reregister = [{vacancy_id = "V1", placement_type = "moon"}]\n'),
        "scenarios[0].reregister[0].placement_type",
        "moon",
    ),
    (
        HEAD,
        '[plan.homes.childrens_home]\nplacement_type = "childrens_home"\nbeds = 0\n'
        'where = "nowhere"\n',
        "plan.homes.childrens_home.where",
        "supply",
    ),
    (
        '[scenario]\nla = "Narnia"\n[demand]\ncounts = {fostering = 3}\n',
        "",
        "scenario.la",
        "unknown authority",
    ),
    (
        '[scenario]\ncase_folder = "no-such-folder"\n[demand]\ncounts = {fostering = 3}\n',
        "",
        "scenario.case_folder",
        "children.csv",
    ),
    (
        '[scenario]\nla = "Essex"\n[demand]\ncounts = {fostering = 0, other = 4}\n',
        "",
        "demand.counts",
        "no children to place",
    ),
    (
        '[scenario]\nla = "Essex"\n[demand]\nforecast = "no-such-forecast.toml"\n',
        "",
        "demand.forecast",
        "no-such-forecast.toml",
    ),
    (CASE_FOLDER, _variant('close = ["V02", "NOPE"]\n'), "scenarios[0].close[1]", "NOPE"),
    (
        CASE_FOLDER,
        _variant('reregister = [{vacancy_id = "NOPE", placement_type = "childrens_home"}]\n'),
        "scenarios[0].reregister[0].vacancy_id",
        "NOPE",
    ),
]


@pytest.mark.parametrize(("head", "body", "key", "phrase"), BAD, ids=[b[2] for b in BAD])
def test_bad_file_is_one_line_naming_the_key_before_any_run(
    tmp_path: Path, head: str, body: str, key: str, phrase: str, capsys: Any
) -> None:
    path = _write(tmp_path, body, head)
    for command in ("run", "plan"):
        extra = ["--target", "P80 placed=all"] if command == "plan" else []
        status = main(["scenario", command, str(path), "--workers", "1", "--quiet", *extra])
        err = capsys.readouterr().err
        assert status == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert lines[0].startswith(f"placematch: error: {path}: {key}: "), lines[0]
        assert phrase in lines[0]


def _never(file: Any, run: int) -> RunRecord:
    raise AssertionError("a run started although the file is bad")


def test_the_checks_run_before_the_fan_out(tmp_path: Path) -> None:
    file = load_scenario_file(_write(tmp_path, _add('where = ["Atlantis"]\n')))
    with pytest.raises(ScenarioConfigError, match=r"scenarios\[0\]\.add\[0\]\.where"):
        run_scenarios(file, runs=2, workers=2, task=_never)


def test_district_names_and_codes_are_accepted(tmp_path: Path) -> None:
    file = load_scenario_file(_write(tmp_path, _add('where = ["chelmsford", "E07000066"]\n')))
    from scenarios.whatif.supply import check_file

    assert check_file(file) == ("E10000012", "Essex")


def test_home_defaults_name_real_placement_types() -> None:
    from matcher.placement_types import PlacementType

    assert set(HOME_DEFAULTS) <= {str(t) for t in PlacementType}
    secure = AddBeds.of("secure_home", 2)
    assert secure.weekly_cost == 8500 and "dols" in secure.capabilities.split(";")
    assert need_type({"secure_home", "childrens_home"}) == "secure_home"


def test_a_secure_home_child_of_a_case_folder_is_residential() -> None:
    import pandas as pd

    from scenarios.whatif.supply import _group_of_child

    row = pd.Series({"current_group": "", "placement_types": "secure_home", "age": "15"})
    assert _group_of_child(row) == "residential"


def test_maps_in_one_page_have_their_own_clip_paths() -> None:
    from scenarios.whatif.report import _maps

    data = {
        "la_code": "E10000012",
        "child_sectors": {"CM1 1": 3, "CO1 1": 2},
        "runs": [
            {
                "added": {
                    "a": [{"postcode": "CM1 1AA", "placement_type": "childrens_home", "beds": 4}],
                    "b": [{"postcode": "CO1 1AA", "placement_type": "inhouse_foster", "beds": 2}],
                }
            }
        ],
    }
    page = _maps(data)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) >= 3 and len(ids) == len(set(ids))
    used = re.findall(r"url\(#([^)]+)\)", page)
    assert used and set(used) <= set(ids)
    assert page.count("<figure>") == 3


def test_the_report_says_what_each_scenario_does() -> None:
    from scenarios.whatif.report import what_it_does
    from scenarios.whatif.runner import METRICS

    def q(p10: float, p50: float, p90: float) -> dict[str, Any]:
        return {"p10": p10, "p50": p50, "p90": p90, "mean": p50, "n": 4}

    data = {
        "metrics": [
            {"key": k, "label": lab, "unit": u, "higher_is_better": h} for k, lab, u, h in METRICS
        ]
    }
    diff = {k: q(0, 0, 0) for k, *_ in METRICS}
    diff["within_20_miles_pct"] = q(0.1, 0.6, 1.1)
    diff["weekly_cost"] = q(1000, 2000, 3000)
    text = what_it_does(data, {"name": "x", "difference": diff})
    assert "over 4 runs" in text
    assert "within 20 miles of home +0.6 pp [+0.1 pp to +1.1 pp]" in text
    for label in ("placed in area", "siblings together", "weekly cost of placements +£2,000"):
        assert label in text
    assert what_it_does(data, {"name": "baseline", "difference": {}}) == ""


def test_the_default_backend_is_a_process_pool_of_the_cpus() -> None:
    from placematch.cli import build_parser
    from placematch.commands._scenario_whatif import _cpus

    for command in ("run", "plan"):
        extra = ["--target", "P80 placed=all"] if command == "plan" else []
        args = build_parser().parse_args(["scenario", command, "x.toml", *extra])
        assert args.workers == _cpus() >= 1


_CALLS: list[int] = []


def _interrupt_in_round_1(file: Any, run: int) -> RunRecord:
    from scenarios.whatif.runner import run_one

    if file.variants[0].add and run == 1:
        raise KeyboardInterrupt
    return run_one(file, run, baseline=False)


def _counted(file: Any, run: int) -> RunRecord:
    from scenarios.whatif.runner import run_one

    _CALLS.append(run)
    return run_one(file, run, baseline=False)


def test_an_interrupted_plan_stops_and_resumes(tmp_path: Path) -> None:
    from scenarios.whatif.plan import parse_target, plan_capacity

    head = HEAD.replace("children = 30", "children = 40")
    file = load_scenario_file(_write(tmp_path, "", head))
    target = parse_target("P50 placed=all")
    out = tmp_path / "plan"
    with pytest.raises(KeyboardInterrupt):
        plan_capacity(file, target, runs=2, max_rounds=3, out=out, task=_interrupt_in_round_1)
    kept = (out / "runs.jsonl").read_text().splitlines()
    assert len(kept) == 3  # round 0's two runs and round 1's first
    _CALLS.clear()
    resumed = plan_capacity(file, target, runs=2, max_rounds=3, out=out, task=_counted)
    rounds = len(resumed.rounds)
    assert len(_CALLS) == 2 * rounds - 3  # only what was not kept
    fresh = plan_capacity(file, target, runs=2, max_rounds=3)
    assert resumed.to_json() == fresh.to_json()


def test_a_plan_that_falls_short_claims_no_gap() -> None:
    from scenarios.whatif.plan import PlanResult, parse_target, plan_table

    def plan(reached: bool, target: str = "P75 placed=all", bound: int | None = 21) -> PlanResult:
        return PlanResult(
            target=parse_target(target),
            runs=4,
            la_code="",
            additions={("childrens_home", "E07000066"): 21},
            reached=reached,
            share_meeting=0.75 if reached else 0.0,
            share_lower_90=0.4 if reached else 0.0,
            lower_bound_beds=bound,
        )

    short = plan(reached=False)
    assert short.to_json()["gap_beds"] is None
    assert "no gap: the target was not reached" in plan_table(short)
    assert "gap 0 beds" not in plan_table(short)
    done = plan(reached=True)
    assert done.to_json()["gap_beds"] == 0 and "gap 0 beds" in plan_table(done)
    distance_only = plan(reached=True, target="P75 within_20>=90", bound=None)
    assert "no lower bound" in plan_table(distance_only)


def test_a_monthly_rate_without_a_horizon_is_refused(tmp_path: Path) -> None:
    head = HEAD.replace("horizon_months = 12\n", "")
    with pytest.raises(ScenarioConfigError, match=r"supply\.foster_recruit_per_month: .*horizon"):
        load_scenario_file(_write(tmp_path, "[supply]\nfoster_recruit_per_month = 2.0\n", head))
    with pytest.raises(ScenarioConfigError, match=r"scenarios\[0\]\.foster_loss_per_month"):
        load_scenario_file(_write(tmp_path, _variant("foster_loss_per_month = 0.01\n"), head))
    assert load_scenario_file(_write(tmp_path, "", head)).demand.horizon_months == 0


def test_beds_where_children_live_when_none_lives_in_the_authority(tmp_path: Path) -> None:
    from dataclasses import replace

    from scenarios.whatif.config import Variant
    from scenarios.whatif.supply import added_homes, district_of, draw_world

    file = load_scenario_file(_write(tmp_path, ""))
    world = draw_world(file, 0)
    away = replace(world, children=world.children.assign(home_postcode=""))
    variant = Variant("x", add=(AddBeds.of("childrens_home", 8, where="children", home_beds=2),))
    rows = added_homes(away, variant)
    assert sum(int(r["beds"]) for r in rows) == 8
    assert all(district_of(world.la_code, r["postcode"]) for r in rows)


def test_cli_dask_flag_starts_and_closes_a_local_cluster(tmp_path: Path, capsys: Any) -> None:
    """``--dask``: a LocalCluster of --workers processes, the same records as in process."""
    head = HEAD.replace("children = 30", "children = 40")
    path = _write(tmp_path, _add('where = "children"\n'), head)
    status = main(["scenario", "run", str(path), "--dask", "--workers", "2", "--json", "--quiet"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    import json

    data = json.loads(captured.out)
    assert data["backend"] == "dask" and data["runs_done"] == 2
    inline = run_scenarios(load_scenario_file(path), workers=1)
    assert all(o["status"] == "optimal" for r in inline.ordered() for o in r.outcomes.values())
    for got, want in zip(data["runs"], inline.ordered(), strict=True):
        assert got["outcomes"] == want.to_json()["outcomes"]


def test_a_case_folder_with_residents_is_refused_not_ignored(tmp_path: Path, capsys: Any) -> None:
    import shutil

    folder = tmp_path / "lived-in"
    shutil.copytree(DEMO, folder)
    (folder / "residents.csv").write_text("provider_id,resident_ref,age,sex\nP09,R1,15,M\n")
    path = _write(
        tmp_path,
        "",
        f'[scenario]\ncase_folder = "{folder}"\n[demand]\ncounts = {{fostering = 5}}\n',
    )
    assert main(["scenario", "run", str(path), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: scenario.case_folder: " in err
    assert "residents.csv is not read by supply what-ifs yet" in err


@pytest.mark.parametrize("flag", [["--dask"], ["--scheduler", "tcp://127.0.0.1:1"]])
def test_dask_without_the_extra_names_the_extra(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, flag: list[str]
) -> None:
    """Dask is the optional extra ``placematch[dask]``: without it, one line naming it."""
    import sys

    # ``None`` in sys.modules makes ``import distributed`` raise ImportError, as when the
    # extra is not installed.
    monkeypatch.setitem(sys.modules, "distributed", None)
    path = _write(tmp_path, _add('where = "children"\n'))
    status = main(["scenario", "run", str(path), *flag, "--json", "--quiet"])
    captured = capsys.readouterr()
    assert status == 2
    assert "pip install 'placematch[dask]'" in captured.err
    assert "internal error" not in captured.err and captured.out == ""


@pytest.mark.parametrize(
    ("body", "key", "suggestion"),
    [
        ("[match]\ntime_limt_s = 5\n", "match.time_limt_s: unknown key", "time_limit_s"),
        (_add('where = "children"\n').replace("beds =", "bedz ="), "add[0].bedz", "beds"),
        (
            _add('where = "children"\n').replace('"childrens_home"', '"childrens_hom"'),
            "add[0].placement_type",
            "childrens_home",
        ),
        (_add('where = "childern"\n'), "add[0].where", "children"),
        (
            _add('where = "children"\ncapabilities = ["wheelchiar"]\n'),
            "capabilities[0]",
            "wheelchair",
        ),
    ],
)
def test_scenario_config_errors_say_did_you_mean(
    tmp_path: Path, body: str, key: str, suggestion: str
) -> None:
    with pytest.raises(ScenarioConfigError) as err:
        load_scenario_file(_write(tmp_path, body))
    assert key in str(err.value) and f"(did you mean {suggestion}?)" in str(err.value)


def test_a_misspelt_district_says_did_you_mean(tmp_path: Path, capsys: Any) -> None:
    path = _write(tmp_path, _add('where = ["Chelmsfrod"]\n'))
    assert main(["scenario", "run", str(path), "--workers", "1", "--quiet"]) == 2
    assert "(did you mean Chelmsford?)" in capsys.readouterr().err
