"""Reports people can read: matplotlib SVG charts with labelled axes, whole children, dated
fans with history, warnings for too few runs, maps with town names and one robust extent,
and the capacity plan's HTML page."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geography.maps import MapPoint
from placematch.cli import main
from scenarios.charts import (
    MIN_RUNS_FOR_BAND,
    MapDot,
    band_warning,
    fan_svg,
    intervals_svg,
    map_extent,
    map_svg,
)

NS = "{http://www.w3.org/2000/svg}"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _svgs(page: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed (a malformed one fails the test)."""
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", page, flags=re.S)]


def _texts(el: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in el.iter(f"{NS}text")]


def _axis(root: ET.Element, n: int) -> tuple[list[str], list[str]]:
    """(tick labels, other texts) of the ``n``-th axis (x of axes 1 is 1, its y is 2, ...)."""
    group = next(g for g in root.iter(f"{NS}g") if g.get("id", "").endswith(f"axis_{n}"))
    ticks = [
        "".join(t.itertext())
        for g in group.iter(f"{NS}g")
        if re.search(r"[xy]tick_\d+$", g.get("id", ""))
        for t in g.iter(f"{NS}text")
    ]
    return ticks, [t for t in _texts(group) if t not in ticks]


def _number(label: str) -> float:
    return float(label.replace("\u2212", "-").replace("£", "").replace(",", ""))


def test_intervals_share_a_labelled_0_100_axis_and_count_whole_children() -> None:
    svg = intervals_svg(
        ["baseline", "more homes"],
        [
            ("children placed", "children", [(3.0, 4.0, 5.0), (4.0, 5.0, 6.0)]),
            ("within 20 miles", "%", [(10.0, 10.1, 10.2), (10.3, 10.4, 10.5)]),
        ],
        prefix="t",
    )
    root = ET.fromstring(svg)
    children_ticks, children_label = _axis(root, 1)
    pct_ticks, pct_label = _axis(root, 3)
    assert "children" in children_label and "per cent of children" in pct_label
    values = [_number(t) for t in children_ticks]
    assert values and all(v == int(v) for v in values), children_ticks
    # 10.1 % against 10.4 % is drawn on the whole 0-100 axis, not stretched to fill it
    assert _number(pct_ticks[0]) == 0 and _number(pct_ticks[-1]) == 100
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org", "")


def test_a_fan_chart_has_history_dated_ticks_and_labelled_axes() -> None:
    dates = [dt.date(2025, m, 1) for m in range(1, 13)] + [dt.date(2026, 1, 1)]
    median = np.linspace(6, 7.5, len(dates))
    history = ([dt.date(2024, m, 1) for m in range(1, 13)], np.linspace(4, 6, 12))
    svg = fan_svg(
        dates,
        median=median,
        bands=[(median - 1.5, median + 1.5, "P10-P95")],
        history=history,
        title="Residential",
        prefix="f",
    )
    root = ET.fromstring(svg)
    x_ticks, x_label = _axis(root, 1)
    y_ticks, y_label = _axis(root, 2)
    assert x_label[0] == "month" and y_label == ["children in care"]
    assert any(re.fullmatch(r"20(24|25|26)", t) for t in x_ticks), x_ticks
    assert all(_number(t) == int(_number(t)) for t in y_ticks), y_ticks
    assert {"recorded", "median", "P10-P95"} <= set(_texts(root))


def test_band_warning_below_twenty_runs_only() -> None:
    assert "Only 19 runs" in band_warning(19) and "--runs 20" in band_warning(19)
    assert band_warning(MIN_RUNS_FOR_BAND) == ""


def _dot(postcode: str, size: int, group: str) -> MapDot:
    p = MapPoint.at(postcode)
    return MapDot(p.easting, p.northing, size, group)


def test_one_far_home_does_not_move_the_extent_and_is_marked_off_the_map() -> None:
    near = [_dot("CM1 1AA", 2, "fostering"), _dot("CO1 1AA", 3, "childrens_home")]
    far = _dot("M1 1AA", 1, "fostering")  # Manchester, for an Essex map
    alone = map_extent("Essex", near)
    assert map_extent("Essex", [*near, far]) == alone
    assert not alone.contains(far.easting, far.northing)
    svg = map_svg("Essex", [*near, far], extent=alone, title="Beds", size_label="beds", prefix="m")
    texts = _texts(ET.fromstring(svg))
    assert "1 off the map (arrow: direction)" in texts
    assert {"Chelmsford", "Colchester"} <= set(texts)  # town names
    assert "fostering (3 beds)" in texts  # the far home's bed is still counted


def _small(tmp_path: Path, runs: int) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(
        '[scenario]\nname = "small Essex"\nla = "Essex"\nchildren = 30\nseed = 5\n'
        f"runs = {runs}\n"
        "[demand]\ncounts = {fostering = 20, residential = 5, supported_accommodation = 5}\n"
        "horizon_months = 12\n[match]\ntime_limit_s = 20\n"
        '[[scenarios]]\nname = "homes where children live"\n[[scenarios.add]]\n'
        'placement_type = "childrens_home"\nbeds = 4\nwhere = "children"\n',
        encoding="utf-8",
    )
    return path


def test_scenario_run_report_warns_of_few_runs_and_counts_whole_children(
    tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "report"
    args = ["scenario", "run", str(_small(tmp_path, 3)), "--workers", "1"]
    status = main([*args, "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "WARNING: Only 3 runs" in captured.out
    page = (out / "scenarios.html").read_text(encoding="utf-8")
    assert "Only 3 runs" in page and "<script" not in page
    svgs = _svgs(page)
    assert len(svgs) >= 3  # the intervals, the children's map, the beds' map
    # every map has the one extent: the same frame size
    maps = [s for s in svgs if any(t.startswith("Beds added") or t.startswith("Where")
                                   for t in _texts(s))]  # fmt: skip
    assert len(maps) == 2 and len({(m.get("width"), m.get("height")) for m in maps}) == 1
    data = json.loads((out / "scenarios.json").read_text(encoding="utf-8"))
    for s in data["scenarios"]:
        for key in ("placed", "unplaced"):
            q = s["metrics"][key]
            assert all(float(q[p]).is_integer() for p in ("p10", "p50", "p90")), q


def test_scenario_plan_writes_an_html_report(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "plan"
    args = ["scenario", "plan", str(_small(tmp_path, 2)), "--target", "P50 placed=all"]
    status = main([*args, "--workers", "1", "--rounds", "4", "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    data = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    page = (out / "plan.html").read_text(encoding="utf-8")
    assert "<script" not in page and "Only 2 runs" in page
    total = sum(r["weekly_cost"] for r in data["table"])
    assert f"£{total:,} a week" in page
    for t in {r["placement_type"] for r in data["table"]}:
        beds = sum(r["beds"] for r in data["table"] if r["placement_type"] == t)
        assert re.search(rf"<td>{t}</td><td>{beds:,}</td>", page), t
    assert data["table"], "the small file needs added beds: the test shows the map"
    (svg,) = _svgs(page)
    assert "Beds added, by district" in _texts(svg)


@pytest.mark.parametrize("command", ["forecast", "backtest"])
def test_forecast_reports_draw_history_and_warn_of_few_runs(
    tmp_path: Path, capsys: Any, command: str
) -> None:
    out = tmp_path / command
    config = EXAMPLES / "synthetic_903_forecast.toml"
    status = main(["scenario", command, str(config), "--runs", "5", "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    page = (out / "forecast.html").read_text(encoding="utf-8")
    assert "Only 5 runs" in page and "<script" not in page
    svgs = _svgs(page)
    assert len(svgs) == 5
    for svg in svgs:
        texts = _texts(svg)
        assert "recorded" in texts and "children in care" in texts and "month" in texts


def test_maps_compared_share_the_dot_scale() -> None:
    dots = [_dot("CM1 1AA", 2, "fostering")]
    extent = map_extent("Essex", dots)

    def draw(biggest: int | None) -> str:
        return map_svg("Essex", dots, extent=extent, title="Beds", size_label="beds",
                       prefix="s", biggest=biggest)  # fmt: skip

    # alone, its 2 beds are the largest dot; beside a map with a 10-bed home, a smaller one
    assert draw(None) == draw(2) != draw(10)
