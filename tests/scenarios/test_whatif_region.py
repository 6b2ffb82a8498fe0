"""Regional scenarios: a region's demand and supply, the pooled match, outcomes and plans by
authority, the pooled forecast, and the region keys' errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from scenarios.forecast.config import ForecastConfigError, load_config
from scenarios.whatif.config import ScenarioConfigError, load_scenario_file, parse_scenario_file
from scenarios.whatif.supply import district_authorities, draw_world

DATA = Path(__file__).resolve().parents[1] / "data" / "ssda903" / "regional"

REGION = """
[scenario]
name = "two small authorities"
authorities = ["Thurrock", "Southend-on-Sea"]
children = 40
seed = 3
runs = 2

[demand]
counts = {{fostering = 22, residential = 4, supported_accommodation = 4}}
horizon_months = 12

[supply]
foster_recruit_per_month = 0.3
foster_loss_per_month = 0.01

[match]
time_limit_s = 20
{extra}
"""

MORE = """
[[scenarios]]
name = "homes where children live"
[[scenarios.add]]
placement_type = "childrens_home"
beds = 4
where = "children"
"""


def _write(tmp_path: Path, extra: str = "", text: str = REGION) -> Path:
    path = tmp_path / "region.toml"
    path.write_text(text.format(extra=extra), encoding="utf-8")
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "placematch", "scenario", *args],
        capture_output=True,
        text=True,
        check=False,
    )


# ----------------------------------------------------------------------------- the world


def test_a_region_draws_each_authority_with_its_own_ids_and_owners(tmp_path: Path) -> None:
    file = load_scenario_file(_write(tmp_path))
    assert file.source.authorities == ("Southend-on-Sea", "Thurrock")  # by name
    world = draw_world(file, 0)
    assert world.authorities == ("E06000033", "E06000034")
    # the region's demand is shared out: every commissioned child is drawn, none twice
    assert len(world.children) == 22 + 4 + 4
    assert world.children["child_id"].is_unique
    assert set(world.children["child_id"].str[:3]) == {"R00", "R01"}
    las = set(world.children["la"])
    assert las == {"E06000033", "E06000034"}
    # each authority's homes keep their owner; ids do not clash across authorities
    assert set(world.supply["owner_la"]) == {"E06000033", "E06000034"}
    assert world.supply["vacancy_id"].is_unique
    for prefix, owner in (("R00", "E06000033"), ("R01", "E06000034")):
        mine = world.supply[world.supply["vacancy_id"].str.startswith(prefix)]
        assert set(mine["owner_la"]) == {owner}
    # the same file and run draw the same world
    again = draw_world(file, 0)
    assert again.children.equals(world.children) and again.supply.equals(world.supply)


def test_homes_added_to_a_region_are_owned_where_they_lie(tmp_path: Path) -> None:
    from scenarios.whatif.config import FosterFlow
    from scenarios.whatif.supply import apply_variant

    file = load_scenario_file(_write(tmp_path, MORE))
    world = draw_world(file, 0)
    _, added = apply_variant(world, file.variants[0], FosterFlow())
    assert int(added["beds"].astype(int).sum()) == 4
    owner_of = district_authorities(world.authorities)
    from scenarios.whatif.supply import district_of

    for _, row in added.iterrows():
        district = district_of(world.authorities, row["postcode"])
        assert district is not None
        assert row["owner_la"] == owner_of[district]
        assert row["offered_to_pool"] == "true"


# ----------------------------------------------------------------------------- run and plan


def _counts_add_up(outcome: dict[str, Any]) -> None:
    parts = outcome["authorities"].values()
    assert sum(a["children"] for a in parts) == outcome["children"]
    assert sum(a["placed"] for a in parts) == outcome["placed"]
    assert sum(a["unplaced"] for a in parts) == outcome["unplaced"]
    assert sum(a["weekly_cost"] for a in parts) == outcome["weekly_cost"]
    # the percentages of the summed counts are the region's (matcher.metrics)
    for num, den, key in (
        ("within_20_miles", "with_home", "within_20_miles_pct"),
        ("in_area", "placed", "in_area_pct"),
        ("siblings_together", "in_sibling_groups", "siblings_together_pct"),
        ("school_kept", "with_school", "school_kept_pct"),
    ):
        n = sum(a[num] for a in parts)
        d = sum(a[den] for a in parts)
        assert outcome[key] == (round(100.0 * n / d, 1) if d else None), key


def test_scenario_run_of_a_region_splits_outcomes_by_authority(tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = _cli("run", str(_write(tmp_path, MORE)), "--workers", "1", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "by authority" in proc.stdout and "Thurrock" in proc.stdout, proc.stdout
    data = json.loads((out / "scenarios.json").read_text())
    assert data["source"]["authorities"] == ["Southend-on-Sea", "Thurrock"]
    for run in data["runs"]:
        assert run["authorities"] == ["E06000033", "E06000034"]
        for outcome in run["outcomes"].values():
            assert set(outcome["authorities"]) == {"Southend-on-Sea", "Thurrock"}
            _counts_add_up(outcome)
    for s in data["scenarios"]:
        assert set(s["authorities"]) == {"Southend-on-Sea", "Thurrock"}
        assert s["metrics"]["children"]["p50"] == 22 + 4 + 4
        assert ("difference" in s["authorities"]["Thurrock"]) == (s["name"] != "baseline")
    rows = list(csv.DictReader(io.StringIO((out / "authorities.csv").read_text())))
    assert len(rows) == 2 * 2 * 2  # runs x scenarios x authorities
    by_run: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["run"], r["scenario"])
        by_run[key] = by_run.get(key, 0) + int(r["placed"])
    for run in data["runs"]:
        for name, outcome in run["outcomes"].items():
            assert by_run[(str(run["run"]), name)] == outcome["placed"]
    page = (out / "scenarios.html").read_text()
    assert "<h2>By authority</h2>" in page and "Southend-on-Sea" in page


def test_scenario_plan_of_a_region_names_the_authority_of_each_district(
    tmp_path: Path,
) -> None:
    out = tmp_path / "plan"
    proc = _cli(
        "plan",
        str(_write(tmp_path)),
        "--target",
        "P50 placed=all",
        "--rounds",
        "2",
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads((out / "plan.json").read_text())
    assert data["beds_added"] > 0, "the small region leaves children unplaced: beds are added"
    owner = district_authorities(("E06000033", "E06000034"))
    names = {"E06000033": "Southend-on-Sea", "E06000034": "Thurrock"}
    for row in data["table"]:
        assert row["authority"] == names[owner[row["district_code"]]]
    for home in data["homes"]:
        assert home["authority"] == names[owner[home["district_code"]]]
    assert sum(t["beds"] for t in data["by_authority"]) == data["beds_added"]
    assert sum(t["weekly_cost"] for t in data["by_authority"]) == sum(
        r["weekly_cost"] for r in data["table"]
    )
    assert (out / "plan.csv").read_text().startswith("authority,placement_type,district_code")
    page = (out / "plan.html").read_text()
    assert "Totals by authority" in page and "<th>authority</th>" in page


# ----------------------------------------------------------------------------- forecast

FORECAST = """
[forecast]
name = "pooled"
mode = "stochastic"
start = 2019-04-01
horizon_months = 6
runs = 20
seed = 1
{region}

[data]
episodes = ["{data}/episodes.csv"]
header = ["{data}/header.csv"]
uasc = ["{data}/uasc.csv"]
fit_months = 12
{la}

[rates]
prior_weight = 1200
"""


def _forecast(tmp_path: Path, region: str = "", la: str = "") -> Path:
    path = tmp_path / f"forecast{abs(hash((region, la)))}.toml"
    path.write_text(FORECAST.format(region=region, la=la, data=DATA), encoding="utf-8")
    return path


def _start(path: Path) -> dict[str, Any]:
    proc = _cli("forecast", str(path), "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_a_region_forecast_pools_its_authorities_histories(tmp_path: Path) -> None:
    pooled = _start(_forecast(tmp_path, region='authorities = ["Southwark", "Hillingdon"]'))
    assert pooled["authorities"] == ["Hillingdon", "Southwark"]
    alone = [_start(_forecast(tmp_path, la=f'la = "{la}"')) for la in ("Hillingdon", "Southwark")]
    assert "authorities" not in alone[0]
    # the census at the start is the region's: each authority's children, none lost or
    # merged (the two councils number their children independently)
    region_start = pooled["start_counts"]
    sums = {g: sum(a["start_counts"][g] for a in alone) for g in region_start}
    assert region_start == sums
    assert sum(region_start.values()) > max(sum(a["start_counts"].values()) for a in alone)
    # and so is every month of the history before it
    for month, *parts in zip(pooled["history"], *(a["history"] for a in alone), strict=True):
        assert all(p["date"] == month["date"] for p in parts)
        assert month["fostering"] == sum(p["fostering"] for p in parts)


def test_a_region_forecast_refuses_an_authority_without_episodes(tmp_path: Path) -> None:
    path = _forecast(tmp_path, region='authorities = ["Hillingdon", "Essex"]')
    with pytest.raises(ForecastConfigError, match=r"forecast\.authorities: Essex .* Hillingdon"):
        from scenarios.forecast.runner import load_history

        load_history(load_config(path), path.parent, source=str(path))


@pytest.mark.parametrize(
    ("region", "la", "match"),
    [
        (
            'region = "London"\nauthorities = ["Hillingdon", "Southwark"]',
            "",
            r"forecast\.authorities: give region .* not both",
        ),
        ('region = "Londn"', "", r"forecast\.region: 'Londn' is not .*did you mean London\?"),
        ('authorities = ["Hilingdon", "Southwark"]', "", r"forecast\.authorities\[0\]: .*"),
        ('region = "London"', 'la = "Hillingdon"', r"data\.la: a region forecast pools"),
        ('authorites = ["Hillingdon", "Southwark"]', "", r"did you mean authorities\?"),
    ],
)
def test_bad_forecast_region_keys_name_the_file_and_key(
    tmp_path: Path, region: str, la: str, match: str
) -> None:
    path = _forecast(tmp_path, region=region, la=la)
    with pytest.raises(ForecastConfigError, match=match) as err:
        load_config(path)
    assert str(path) in str(err.value)


# ----------------------------------------------------------------------------- bad keys


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"region": "East of England"},
            r"scenario\.authorities: give region \(an ONS region's name\) or authorities",
        ),
        (
            {"authorities": None, "region": "East of Englnd"},
            r"scenario\.region: 'East of Englnd' is not an English region \(did you mean "
            r"East of England\?\)",
        ),
        ({"authorities": ["Thurrock", "Esex"]}, r"scenario\.authorities\[1\]: .*Essex"),
        ({"authorities": ["Thurrock"]}, r"scenario\.authorities: a region needs at least two"),
        (
            {"authorities": ["Thurrock", "E06000034"]},
            r"scenario\.authorities\[1\]: Thurrock is given twice",
        ),
        ({"la": "Essex"}, r"scenario\.la: a region \(authorities\) draws each"),
        (
            {"authorities": None, "authorites": ["Thurrock", "Essex"]},
            r"scenario\.authorites: unknown key \(did you mean authorities\?\)",
        ),
    ],
)
def test_bad_region_keys_name_the_file_and_key(
    tmp_path: Path, change: dict[str, Any], match: str
) -> None:
    data = tomllib.loads(REGION.format(extra=""))
    for key, value in change.items():
        if value is None:
            data["scenario"].pop(key, None)
        else:
            data["scenario"][key] = value
    with pytest.raises(ScenarioConfigError, match=match) as err:
        parse_scenario_file(data, path=tmp_path / "region.toml")
    assert str(tmp_path / "region.toml") in str(err.value)


def test_a_region_forecast_must_be_of_the_scenarios_authorities(tmp_path: Path) -> None:
    forecast = _forecast(tmp_path, region='authorities = ["Hillingdon", "Southwark"]')
    text = REGION.replace(
        "counts = {{fostering = 22, residential = 4, supported_accommodation = 4}}",
        f'forecast = "{forecast}"',
    ).replace("horizon_months = 12\n", "")
    with pytest.raises(ScenarioConfigError, match=r"demand\.forecast: the forecast is of"):
        load_scenario_file(_write(tmp_path, text=text))


def test_a_region_added_postcode_outside_it_is_refused(tmp_path: Path) -> None:
    from scenarios.whatif.supply import check_file

    extra = MORE.replace('where = "children"', 'postcodes = ["CM1 1AA"]')  # Chelmsford, Essex
    file = load_scenario_file(_write(tmp_path, extra))
    with pytest.raises(ScenarioConfigError, match=r"scenarios\[0\]\.add\[0\]\.postcodes\[0\]"):
        check_file(file)


def test_the_bundled_region_examples_are_valid() -> None:
    from scenarios.forecast.config import forecast_region
    from scenarios.whatif.supply import check_file

    examples = Path(__file__).resolve().parents[2] / "examples" / "east_of_england"
    region = load_scenario_file(examples / "region.toml")
    assert region.source.region == "East of England" and len(region.source.authorities) == 11
    assert check_file(region) == ("", "East of England")
    three = load_scenario_file(examples / "greater_essex.toml")
    assert three.source.authorities == ("Essex", "Southend-on-Sea", "Thurrock")
    assert check_file(three) == ("", "Essex, Southend-on-Sea, Thurrock")
    forecast = examples / "pooled_forecast.toml"
    assert forecast_region(load_config(forecast), source=str(forecast)) == (
        ("Hillingdon", "Southwark"),
        None,
    )


def test_a_variant_may_give_one_authority_its_own_policy(tmp_path: Path) -> None:
    from scenarios.whatif.runner import run_one
    from scenarios.whatif.supply import policy_toml

    extra = (
        '[[scenarios]]\nname = "Thurrock own carers first"\n'
        '[scenarios.policy.authority."Thurrock"]\nown_carers_first = true\n'
    )
    file = load_scenario_file(_write(tmp_path, extra))
    variant = file.variants[0]
    text = policy_toml(None, variant.policy_dict())
    assert tomllib.loads(text or "") == {"authority": {"Thurrock": {"own_carers_first": True}}}
    record = run_one(file, 0)  # the pooled match with the table: Thurrock's children's policy
    for outcome in record.outcomes.values():
        _counts_add_up(outcome)
    # the table changes only points, never how many children are placed
    assert (
        record.outcomes["Thurrock own carers first"]["placed"]
        == record.outcomes["baseline"]["placed"]
    )


FOLDER = """
[scenario]
name = "a pooled folder"
case_folder = "pooled"
seed = 2
runs = 1

[demand]
counts = {{fostering = 14, residential = 3, supported_accommodation = 3}}
horizon_months = 6
{extra}
"""


def test_a_pooled_case_folder_runs_and_plans_as_a_region(tmp_path: Path) -> None:
    from scenarios.cohorts import generate_pooled
    from scenarios.whatif.runner import run_one, run_scenarios, summarise
    from scenarios.whatif.supply import check_file

    case = generate_pooled(["Thurrock", "Southend-on-Sea"], 4)
    folder = tmp_path / "pooled"
    folder.mkdir()
    case.children.to_csv(folder / "children.csv", index=False)
    case.vacancies.to_csv(folder / "vacancies.csv", index=False)
    extra = (
        '[[scenarios]]\nname = "homes in Thurrock"\n[[scenarios.add]]\n'
        'placement_type = "childrens_home"\nbeds = 2\nwhere = ["Thurrock"]\n'
    )
    file = load_scenario_file(_write(tmp_path, extra, text=FOLDER))
    assert check_file(file) == ("", "Southend-on-Sea, Thurrock")
    world = draw_world(file, 0)
    assert world.authorities == ("E06000033", "E06000034") and world.la_code == ""
    record = run_one(file, 0)
    for outcome in record.outcomes.values():
        _counts_add_up(outcome)
    added = record.added["homes in Thurrock"]
    assert sum(h["beds"] for h in added) == 2
    data = summarise(run_scenarios(file, workers=1))
    assert data["source"]["authorities"] == ["Southend-on-Sea", "Thurrock"]
    assert set(data["scenarios"][1]["authorities"]) == {"Southend-on-Sea", "Thurrock"}


def test_a_single_authority_folder_is_not_a_region(tmp_path: Path) -> None:
    from scenarios.cohorts import generate
    from scenarios.whatif.supply import check_file

    case = generate("Thurrock", 4, children=60)
    folder = tmp_path / "pooled"
    folder.mkdir()
    case.children.to_csv(folder / "children.csv", index=False)
    case.vacancies.to_csv(folder / "vacancies.csv", index=False)  # owner_la: Thurrock only
    file = load_scenario_file(_write(tmp_path, text=FOLDER))
    assert check_file(file) == ("E06000034", "Thurrock")
    world = draw_world(file, 0)
    assert world.authorities == () and world.la_code == "E06000034"
