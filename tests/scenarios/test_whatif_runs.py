"""Supply scenarios: paired runs, determinism on every backend, resume, CLI, planning."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.whatif.config import AddBeds, Variant, load_scenario_file
from scenarios.whatif.plan import meets, parse_target, plan_capacity
from scenarios.whatif.runner import RunRecord, run_one, run_scenarios, summarise
from scenarios.whatif.supply import apply_variant, build_folder, draw_world

SMALL = """
[scenario]
name = "small Essex"
la = "Essex"
children = 40
seed = 5
runs = 4

[demand]
counts = {{fostering = 28, residential = 6, supported_accommodation = 7, other = 2}}
horizon_months = 12

[supply]
foster_loss_per_month = 0.01
foster_recruit_per_month = 0.2

[match]
time_limit_s = 20

[[scenarios]]
name = "homes where children live"
[[scenarios.add]]
placement_type = "childrens_home"
beds = 4
where = "children"
[[scenarios.add]]
placement_type = "supported_accommodation"
beds = 4
where = "supply"
{extra}
"""


def _file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL.format(extra=extra), encoding="utf-8")
    return path


def _strip(rec: RunRecord) -> dict[str, Any]:
    data = rec.to_json()
    data.pop("seconds")
    return data


@functools.cache
def _world_and_baseline() -> tuple[Any, Any, int]:
    import tempfile

    from matcher.match import match
    from matcher.optimiser import SolverParameters

    with tempfile.TemporaryDirectory() as tmp:
        file = load_scenario_file(_file(Path(tmp)))
    world = draw_world(file, 0)
    vac, _ = apply_variant(world, None, file.baseline_flow)
    folder = build_folder(world.children, vac, None)
    result = match(folder, SolverParameters(time_limit_s=20, num_workers=1))
    assert result.status == "optimal"
    return file, world, result.metrics.placed


def test_a_runs_folder_is_checked_in_memory_as_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The drawn rows are checked as a case folder without a temporary folder; the folder is
    # the one its files give when written out and read back.
    import tempfile

    from matcher.casefolder import load_case_folder

    file, world, _ = _world_and_baseline()
    vac, _ = apply_variant(world, file.variants[0], file.baseline_flow)
    policy = "[weights]\nnear_home = 900\n"

    def no_temporary_folder(*args: object, **kwargs: object) -> None:
        raise AssertionError("a temporary folder was made")

    with monkeypatch.context() as m:
        m.setattr(tempfile, "TemporaryDirectory", no_temporary_folder)
        m.setattr(tempfile, "mkdtemp", no_temporary_folder)
        folder = build_folder(world.children, vac, policy)
    world.children.to_csv(tmp_path / "children.csv", index=False)
    vac.to_csv(tmp_path / "vacancies.csv", index=False)
    (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
    assert folder == load_case_folder(tmp_path)
    assert folder.policy.weights.near_home == 900


def test_runs_are_paired_and_added_beds_help(tmp_path: Path) -> None:
    file = load_scenario_file(_file(tmp_path))
    rec = run_one(file, 0)
    base, more = rec.outcomes["baseline"], rec.outcomes["homes where children live"]
    assert base["children"] == more["children"] == 41  # 28 + 6 + 7; "other" needs no bed
    assert more["placed"] >= base["placed"]
    assert base["placed"] + base["unplaced"] == base["children"]
    added = rec.added["homes where children live"]
    assert sum(h["beds"] for h in added) == 8
    assert {h["placement_type"] for h in added} == {"childrens_home", "supported_accommodation"}
    assert rec.added["baseline"] == []
    # fairness splits cover every child
    for key in ("ethnicity", "disability", "separated_migrant"):
        assert sum(g["children"] for g in base["splits"][key].values()) == 41


@settings(max_examples=6, deadline=None)
@given(
    kind=st.sampled_from(["childrens_home", "inhouse_foster", "supported_accommodation"]),
    beds=st.integers(min_value=1, max_value=6),
    where=st.sampled_from(["supply", "children"]),
)
def test_adding_beds_never_lowers_the_placed_count(kind: str, beds: int, where: str) -> None:
    from matcher.match import match
    from matcher.optimiser import SolverParameters

    file, world, placed = _world_and_baseline()
    variant = Variant("more", add=(AddBeds.of(kind, beds, where=where, home_beds=2),))
    vac, added = apply_variant(world, variant, file.baseline_flow)
    assert int(added["beds"].astype(int).sum()) == beds
    folder = build_folder(world.children, vac, None)
    result = match(folder, SolverParameters(time_limit_s=20, num_workers=1))
    assert result.status == "optimal"
    assert result.metrics.placed >= placed


def test_same_seed_same_result_on_1_and_4_workers_and_dask(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    file = load_scenario_file(_file(tmp_path))
    one = run_scenarios(file, runs=4, workers=1)
    four = run_scenarios(file, runs=4, workers=4)
    assert one.backend == "inline" and four.backend == "process"
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        dask = run_scenarios(file, runs=4, scheduler=client)
        # by address, as `--scheduler tcp://...` does (its own client, closed after)
        by_address = run_scenarios(file, runs=2, scheduler=cluster.scheduler_address)
    assert dask.backend == by_address.backend == "dask"
    assert [_strip(r) for r in by_address.ordered()] == [_strip(r) for r in one.ordered()][:2]
    a = [_strip(r) for r in one.ordered()]
    assert a == [_strip(r) for r in four.ordered()]
    assert a == [_strip(r) for r in dask.ordered()]
    assert all(
        o["status"] == "optimal" for r in one.ordered() for o in r.outcomes.values()
    )  # proven optimal, so equality is not luck of timing
    # different runs draw different futures
    assert a[0]["outcomes"] != a[1]["outcomes"]


def _interrupt_at_two(file: Any, run: int) -> RunRecord:
    if run == 2:
        raise KeyboardInterrupt
    return run_one(file, run)


def test_interrupted_runs_are_kept_and_resumed(tmp_path: Path) -> None:
    file = load_scenario_file(_file(tmp_path))
    out = tmp_path / "out"
    first = run_scenarios(file, runs=4, workers=1, out=out, task=_interrupt_at_two)
    assert first.interrupted and sorted(first.records) == [0, 1]
    lines = (out / "runs.jsonl").read_text().splitlines()
    assert [json.loads(x)["run"] for x in lines] == [0, 1]
    second = run_scenarios(file, runs=4, workers=1, out=out)
    assert second.resumed == 2 and second.complete and not second.interrupted
    fresh = run_scenarios(file, runs=4, workers=1)
    assert [_strip(r) for r in second.ordered()] == [_strip(r) for r in fresh.ordered()]
    data = summarise(second)
    sc = {s["name"]: s for s in data["scenarios"]}
    diff = sc["homes where children live"]["difference"]["placed"]
    assert diff["p10"] >= 0  # paired: more beds never place fewer
    assert data["runs_done"] == 4 and data["complete"]


def test_cli_run_writes_reports(tmp_path: Path) -> None:
    path = _file(tmp_path)
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "placematch", "scenario", "run", str(path), "--runs", "2",
         "--out", str(out), "--quiet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "homes where children live" in proc.stdout and "vs baseline" in proc.stdout
    page = (out / "scenarios.html").read_text()
    assert "<svg" in page and "<script" not in page and "https://" not in page
    data = json.loads((out / "scenarios.json").read_text())
    assert data["runs_done"] == 2
    assert (out / "scenarios.csv").read_text().startswith("scenario,measure,p10")
    assert len((out / "runs.csv").read_text().splitlines()) == 1 + 2 * 2


def test_bad_file_is_one_line_naming_the_key(tmp_path: Path) -> None:
    path = _file(tmp_path, extra='[[scenarios]]\nname = "x"\n[[scenarios.add]]\n'
                 'placement_type = "childrens_home"\nbeds = -1\n')  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "placematch", "scenario", "run", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "scenarios[1].add[0].beds" in proc.stderr and "Traceback" not in proc.stderr


def test_target_parsing() -> None:
    t = parse_target("P80 placed=all within_20>=85")
    assert t.level == 0.8 and t.max_unplaced == 0
    assert t.min_pct == (("within_20_miles_pct", 85.0),)
    assert meets({"unplaced": 0, "within_20_miles_pct": 90.0}, t)
    assert not meets({"unplaced": 1, "within_20_miles_pct": 90.0}, t)
    assert not meets({"unplaced": 0, "within_20_miles_pct": 80.0}, t)
    with pytest.raises(ValueError, match="not understood"):
        parse_target("P80 happy=yes")


def test_plan_reaches_every_child_placed(tmp_path: Path) -> None:
    file = load_scenario_file(_file(tmp_path))
    target = parse_target("P50 placed=all")
    plan = plan_capacity(file, target, runs=2, max_rounds=4)
    assert plan.reached and plan.share_meeting >= 0.5
    assert plan.lower_bound_beds is not None and plan.beds >= plan.lower_bound_beds
    assert plan.rounds[0]["beds_added"] == 0 and plan.rounds[-1]["beds_added"] == plan.beds
    rows = plan.rows()
    assert sum(r["beds"] for r in rows) == plan.beds
    assert all(r["district"] and r["weekly_cost"] > 0 for r in rows)


def test_case_folder_source(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    path = tmp_path / "demo.toml"
    path.write_text(
        f'[scenario]\ncase_folder = "{demo}"\nseed = 2\nruns = 2\n'
        "[demand]\ncounts = {fostering = 12}\n"
        '[[scenarios]]\nname = "close V02"\nclose = ["V02"]\n',
        encoding="utf-8",
    )
    file = load_scenario_file(path)
    rec = run_one(file, 1)
    base, closed = rec.outcomes["baseline"], rec.outcomes["close V02"]
    assert base["children"] == closed["children"] == 12
    assert closed["placed"] <= base["placed"]


def test_stochastic_demand_gives_each_run_its_own_counts(tmp_path: Path) -> None:
    forecast = Path(__file__).resolve().parents[2] / "examples" / "synthetic_903_forecast.toml"
    path = tmp_path / "sto.toml"
    path.write_text(
        '[scenario]\nla = "Hillingdon"\nchildren = 30\nseed = 1\nruns = 2\n'
        f'[demand]\nforecast = "{forecast}"\nscale = 0.1\n',
        encoding="utf-8",
    )
    file = load_scenario_file(path)
    assert file.demand.mode == "stochastic" and len(file.demand.counts) == 1000
    assert file.demand.horizon_months == 24
    c0, c1 = file.demand.for_run(0), file.demand.for_run(1)
    assert c0 != c1  # each run its own forecast path
    rec = run_one(file, 1)
    wanted = sum(c1[g] for g in ("fostering", "residential", "supported_accommodation"))
    assert rec.outcomes["baseline"]["children"] == wanted


def test_foster_flows_lose_nested_households_and_recruit_in_house() -> None:
    from scenarios.whatif.config import FosterFlow

    _, world, _ = _world_and_baseline()
    foster = {"inhouse_foster", "agency_foster"}
    base, _ = apply_variant(world, None, FosterFlow())
    some, _ = apply_variant(world, None, FosterFlow(loss_per_month=0.02))
    more, _ = apply_variant(world, None, FosterFlow(loss_per_month=0.05))
    ids = [set(v[v["placement_type"].isin(foster)]["vacancy_id"]) for v in (base, some, more)]
    assert ids[2] < ids[1] < ids[0]  # a higher rate loses a superset
    others = [len(v[~v["placement_type"].isin(foster)]) for v in (base, some, more)]
    assert others[0] == others[1] == others[2]  # homes that are not foster households stay
    grown, _ = apply_variant(world, None, FosterFlow(recruit_per_month=2.0))
    new = grown[grown["vacancy_id"].str.startswith("N")]
    assert len(new) > 10 and set(new["placement_type"]) == {"inhouse_foster"}
    # twelve months at 2 a month: Poisson(24); the same world always recruits the same
    again, _ = apply_variant(world, None, FosterFlow(recruit_per_month=2.0))
    assert again.equals(grown)


def test_a_deterministic_match_limit_reaches_the_solver_and_the_run_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matcher.match
    from scenarios.whatif import runner

    plain = load_scenario_file(_file(tmp_path))
    path = tmp_path / "work.toml"
    text = SMALL.format(extra="").replace("time_limit_s = 20", "time_limit_s = 60\n"
                                          "deterministic_time = 1.5")  # fmt: skip
    path.write_text(text, encoding="utf-8")
    limited = load_scenario_file(path)
    assert plain.match.deterministic_time == 1.0  # reproducible by default
    assert limited.match.deterministic_time == 1.5
    assert limited.key() != plain.key()  # a resumed run never mixes the two settings
    seen: list[Any] = []
    monkeypatch.setattr(matcher.match, "match", lambda folder, params, **kw: seen.append(params))
    runner._match(None, limited)  # type: ignore[arg-type]
    assert seen[0].deterministic_time_limit == 1.5 and seen[0].time_limit_s == 60.0
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("deterministic_time = 1.5", "deterministic_time = -1"), "utf-8")
    with pytest.raises(ValueError, match="deterministic_time"):
        load_scenario_file(bad)
