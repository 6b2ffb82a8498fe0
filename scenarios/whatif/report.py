"""Reports of scenario runs: a table for the terminal, CSV, JSON and a self-contained HTML page.

The HTML page has no scripts, fonts, tiles or links to the web: inline SVG drawn by
matplotlib (:mod:`scenarios.charts`): each measure's P10-P90 interval per scenario on a
labelled axis (shares on one 0-100 axis), and maps, all on one extent, of where the children
live (by postcode sector) and where each scenario adds beds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from html import escape
from typing import Any

from scenarios.charts import band_warning

__all__ = ["authorities_csv", "html_report", "runs_csv", "summary_csv", "table", "what_it_does"]


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    if unit == "£":
        return f"£{v:,.0f}"
    if unit == "%":
        return f"{v:.1f}%"
    return f"{v:,.1f}" if v != int(v) else f"{int(v):,}"


def _signed(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    v = round(v, 1)
    s = _fmt(abs(v), "" if unit == "%" else unit)
    if unit == "%":
        s += " pp"
    return ("+" if v > 0 else "-" if v < 0 else "±") + s


#: Measures the one-line verdict names, in order (distance, area, siblings, cost).
_VERDICT = (
    "placed",
    "within_20_miles_pct",
    "in_area_pct",
    "siblings_together_pct",
    "out_of_area_signoffs",
    "weekly_cost",
)


def what_it_does(data: dict[str, Any], scenario: dict[str, Any]) -> str:
    """One sentence: what a scenario does against the baseline to placement, distance, area,
    siblings and cost (paired P50 with its P10 to P90, over the same runs)."""
    if not scenario["difference"]:
        return ""
    labels = {m["key"]: (m["label"], m["unit"]) for m in data["metrics"]}
    parts = []
    for key in _VERDICT:
        d = scenario["difference"].get(key)
        if not d or d.get("p50") is None:
            continue
        label, unit = labels[key]
        parts.append(
            f"{label} {_signed(d['p50'], unit)} [{_signed(d['p10'], unit)} to "
            f"{_signed(d['p90'], unit)}]"
        )
    n = min((q.get("n", 0) for q in scenario["difference"].values()), default=0)
    return (
        f"Against the baseline (paired P50 [P10 to P90] over {n} runs): " + "; ".join(parts) + "."
    )


#: Lays out a table: (header, rows, right-aligned columns) -> lines. The command line gives
#: one that fits the terminal; without one the columns keep their natural widths.
TableLayout = Callable[[list[str], list[list[str]], set[int]], list[str]]


def _natural(head: list[str], rows: list[list[str]], numeric: set[int]) -> list[str]:
    widths = [max(len(r[j]) for r in [head, *rows]) for j in range(len(head))]
    return [
        "   "
        + "  ".join(
            c.rjust(widths[j]) if j in numeric else c.ljust(widths[j]) for j, c in enumerate(r)
        ).rstrip()
        for r in [head, *rows]
    ]


def table(data: dict[str, Any], layout: TableLayout | None = None) -> str:
    """The terminal table: each measure's P50 [P10-P90] per scenario, and the paired
    difference from the baseline (``layout``: how to lay out each scenario's table)."""
    lay = layout or _natural
    out = [
        f"{data['name']}",
        f"{data['runs_done']} of {data['runs_requested']} runs, seed {data['seed']}, "
        f"{data['backend']} backend, {data['seconds']:.1f} s"
        + (f", {data['runs_resumed']} resumed from runs.jsonl" if data.get("runs_resumed") else "")
        + ("" if data["complete"] else "  (INCOMPLETE: rerun the same command to resume)"),
        f"demand: {data['demand']['mode']} ({data['demand']['source']}), "
        f"horizon {data['demand']['horizon_months']} months: "
        + ", ".join(f"{k} {v}" for k, v in data["demand"]["counts_run0"].items()),
        "",
    ]
    few = band_warning(data["runs_done"])
    if few:
        out[-1:-1] = ["WARNING: " + few]
    for s in data["scenarios"]:
        added = ", ".join(f"+{v} {k}" for k, v in s["added_beds"].items()) or "no added beds"
        out.append(f"== {s['name']}: {added}")
        if s.get("stopped_by_wall_clock"):
            out.append("   " + _wall_clock_warning(s))
        head = ["measure", "P50", "P10 - P90"]
        if s["difference"]:
            head.append("vs baseline P50 [P10, P90]")
        rows = []
        for m in data["metrics"]:
            q = s["metrics"][m["key"]]
            row = [
                m["label"],
                _fmt(q["p50"], m["unit"]),
                f"{_fmt(q['p10'], m['unit'])} - {_fmt(q['p90'], m['unit'])}",
            ]
            if s["difference"]:
                d = s["difference"][m["key"]]
                row.append(
                    f"{_signed(d['p50'], m['unit'])} "
                    f"[{_signed(d['p10'], m['unit'])}, {_signed(d['p90'], m['unit'])}]"
                )
            rows.append(row)
        out.extend(lay(head, rows, {1, 2}))
        if s["difference"]:
            gains = []
            for groups in s["splits"].values():
                for g, gm in groups.items():
                    ch = gm.get("placed_pct_change", {})
                    gains.append(f"{g} {_signed(ch.get('p50'), '%')}")
            out.append("   placed, by group (paired P50): " + ", ".join(gains))
        if s.get("authorities"):
            out.append("   by authority (P50 over the runs; the last row is the region's):")
            head, rows = _authority_rows(s, short=True, difference=False)
            out.extend(lay(head, rows, set(range(1, len(head)))))
            if s["difference"]:
                out.append("   by authority, vs baseline (paired P50):")
                head, rows = _authority_rows(s, short=True, difference=True)
                out.extend(lay(head, rows, set(range(1, len(head)))))
        out.append("")
    return "\n".join(out) + "\n"


#: Short column heads of the terminal's per-authority table (the HTML uses the labels).
_SHORT = {
    "children": "children",
    "placed": "placed",
    "within_20_miles_pct": "<=20 mi",
    "in_area_pct": "in area",
    "siblings_together_pct": "siblings",
    "school_kept_pct": "school",
    "weekly_cost": "weekly cost",
}


def _authority_rows(
    scenario: dict[str, Any], *, short: bool = False, difference: bool | None = None
) -> tuple[list[str], list[list[str]]]:
    """A region's per-authority table of one scenario, then the region's own row.

    P50s over the runs; ``difference``: the paired differences from the baseline instead
    (``None``: in the HTML, each P50 with its difference in brackets).
    """
    from scenarios.whatif.runner import AUTHORITY_METRICS

    keys = [(k, u) for k, _, u in AUTHORITY_METRICS if not (difference and k == "children")]
    labels = {k: (_SHORT[k] if short else label) for k, label, _ in AUTHORITY_METRICS}
    head = ["authority", *(labels[k] for k, _ in keys)]

    def cell(q: dict[str, Any] | None, d: dict[str, Any] | None, key: str, unit: str) -> str:
        if difference:
            return _signed(d["p50"] if d else None, unit)
        text = _fmt(q["p50"] if q else None, unit)
        if difference is None and d and key != "children":
            text += f" ({_signed(d['p50'], unit)})"
        return text

    rows = []
    for name, entry in scenario["authorities"].items():
        diff = entry.get("difference", {})
        rows.append([name, *(cell(entry["metrics"][k], diff.get(k), k, u) for k, u in keys)])
    region = ["region"]
    for k, u in keys:
        region.append(cell(scenario["metrics"].get(k), scenario["difference"].get(k), k, u))
    rows.append(region)
    return head, rows


def authorities_csv(data: dict[str, Any]) -> str:
    """A region's runs: one row per run, scenario and authority with its counts and
    percentages (the counts of a run's authorities add up to the region's)."""
    keys = [
        "children",
        "placed",
        "unplaced",
        "with_home",
        "within_20_miles",
        "within_20_miles_pct",
        "in_area",
        "in_area_pct",
        "in_sibling_groups",
        "siblings_together",
        "siblings_together_pct",
        "with_school",
        "school_kept",
        "school_kept_pct",
        "weekly_cost",
    ]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "scenario", "authority", "ons_code", *keys])
    for r in data["runs"]:
        for name, o in r["outcomes"].items():
            for authority, a in o.get("authorities", {}).items():
                w.writerow([r["run"], name, authority, a["ons_code"], *[a.get(k) for k in keys]])
    return buf.getvalue()


def summary_csv(data: dict[str, Any]) -> str:
    """One row per scenario and measure: quantiles and paired differences."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["scenario", "measure", "p10", "p50", "p90", "mean", "diff_p10", "diff_p50", "diff_p90"]
    )
    for s in data["scenarios"]:
        for m in data["metrics"]:
            q = s["metrics"][m["key"]]
            d = s["difference"].get(m["key"], {})
            w.writerow(
                [
                    s["name"],
                    m["key"],
                    q["p10"],
                    q["p50"],
                    q["p90"],
                    q["mean"],
                    d.get("p10", ""),
                    d.get("p50", ""),
                    d.get("p90", ""),
                ]
            )
    return buf.getvalue()


def runs_csv(data: dict[str, Any]) -> str:
    """One row per run and scenario with every measure (the raw Monte Carlo output)."""
    keys = [m["key"] for m in data["metrics"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "scenario", "status", *keys])
    for r in data["runs"]:
        for name, o in r["outcomes"].items():
            w.writerow([r["run"], name, o.get("status", ""), *[o.get(k) for k in keys]])
    return buf.getvalue()


def _interval_charts(data: dict[str, Any]) -> str:
    """Every measure's P10-P90 bar and P50 per scenario, shares on one 0-100 axis."""
    from scenarios.charts import intervals_svg

    names = [s["name"] for s in data["scenarios"]]
    measures = [
        (
            m["label"],
            m["unit"],
            [
                (
                    s["metrics"][m["key"]]["p10"],
                    s["metrics"][m["key"]]["p50"],
                    s["metrics"][m["key"]]["p90"],
                )
                for s in data["scenarios"]
            ],
        )
        for m in data["metrics"]
    ]
    return intervals_svg(names, measures, prefix="intervals")


def _maps(data: dict[str, Any]) -> str:
    """Offline maps: where the children live (by sector), and the beds each scenario adds
    (run 0), all on one extent so that scenarios compare at a glance."""
    la = data.get("la_code")
    if not la or not data["runs"]:
        return ""
    from geography.maps import MapPoint
    from scenarios.charts import MapDot, map_extent, map_svg

    def dot(postcode: str, size: int, group: str) -> MapDot | None:
        try:
            p = MapPoint.at(postcode)
        except ValueError:
            return None
        return MapDot(p.easting, p.northing, size, group)

    first = data["runs"][0]
    children = [
        d
        for sector, n in sorted((data.get("child_sectors") or {}).items())
        if (d := dot(sector, int(n), "children")) is not None
    ]
    beds = {
        name: [
            d
            for h in homes
            if (d := dot(h["postcode"], int(h["beds"]), h["placement_type"])) is not None
        ]
        for name, homes in first["added"].items()
        if homes
    }
    extent = map_extent(la, [*children, *(d for ds in beds.values() for d in ds)])
    out: list[str] = []
    if children:
        svg = map_svg(
            la,
            children,
            extent=extent,
            title="Where the children live",
            size_label="children",
            prefix="map-children",
        )
        out.append(
            f"<figure>{svg}<figcaption>Home postcode sectors of the children at the horizon "
            "(run 0; separated migrant children have none); a dot's size is its number of "
            "children.</figcaption></figure>"
        )
    biggest = max((d.size for ds in beds.values() for d in ds), default=1)
    for i, (name, dots) in enumerate(beds.items()):
        svg = map_svg(
            la,
            dots,
            extent=extent,
            biggest=biggest,
            title=f"Beds added: {name}"[:60],
            size_label="beds",
            prefix=f"map-{i}",
        )
        out.append(
            f"<figure>{svg}<figcaption>Beds added by <b>{escape(name)}</b>: new homes in "
            "run 0, coloured by type, sized by beds.</figcaption></figure>"
        )
    return "\n".join(out)


def _wall_clock_warning(scenario: dict[str, Any]) -> str:
    n = int(scenario["stopped_by_wall_clock"])
    return (
        f"WARNING: the wall-clock limit stopped {n} match{'es' if n != 1 else ''} before "
        "the work limit: these runs may differ on another machine or backend "
        "(raise [match] time_limit_s)"
    )


def html_report(data: dict[str, Any]) -> str:
    """A self-contained HTML page (inline SVG, no scripts, nothing fetched)."""
    h: list[str] = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(data['name'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}th:first-child,td:first-child{text-align:left}"
        "figure{display:inline-block;margin:.5em}.warn{color:#a00}</style></head><body>",
        f"<h1>{escape(data['name'])}</h1>",
        f"<p>{data['runs_done']} of {data['runs_requested']} runs (seed {data['seed']}), "
        f"demand {escape(data['demand']['mode'])} from {escape(str(data['demand']['source']))}, "
        f"horizon {data['demand']['horizon_months']} months. Children to place (run 0): "
        + escape(", ".join(f"{k} {v}" for k, v in data["demand"]["counts_run0"].items()))
        + ". Every child is synthetic unless a case folder was given.</p>",
    ]
    if not data["complete"]:
        h.append("<p class='warn'>Incomplete: rerun the same command to resume.</p>")
    few = band_warning(data["runs_done"])
    if few:
        h.append(f"<p class='warn'>{escape(few)}</p>")
    for s in data["scenarios"]:
        if s.get("stopped_by_wall_clock"):
            h.append(f"<p class='warn'>{escape(s['name'])}: {escape(_wall_clock_warning(s))}</p>")
    h.append("<h2>Outcomes (P50, with P10-P90) and the paired difference from the baseline</h2>")
    h.append("<table><tr><th>measure</th>")
    for s in data["scenarios"]:
        h.append(f"<th>{escape(s['name'])}</th>")
    h.append("</tr>")
    for m in data["metrics"]:
        h.append(f"<tr><td>{escape(m['label'])}</td>")
        for s in data["scenarios"]:
            q = s["metrics"][m["key"]]
            u = m["unit"]
            cell = (
                f"{_fmt(q['p50'], u)}<br><small>{_fmt(q['p10'], u)} - {_fmt(q['p90'], u)}</small>"
            )
            if s["difference"]:
                d = s["difference"][m["key"]]
                cell += (
                    f"<br><b>{_signed(d['p50'], u)}</b> <small>[{_signed(d['p10'], u)},"
                    f" {_signed(d['p90'], u)}]</small>"
                )
            h.append(f"<td>{cell}</td>")
        h.append("</tr>")
    h.append("<tr><td>beds added</td>")
    for s in data["scenarios"]:
        added = ", ".join(f"+{v} {k}" for k, v in s["added_beds"].items()) or "-"
        h.append(
            f"<td>{escape(added)}<br><small>£{s['added_weekly_cost_if_full']:,} "
            "a week if full</small></td>"
        )
    h.append("</tr></table>")
    verdicts = [(s["name"], what_it_does(data, s)) for s in data["scenarios"][1:]]
    if verdicts:
        h.append("<h2>What each scenario does</h2><ul>")
        h += [f"<li><b>{escape(n)}</b>: {escape(v)}</li>" for n, v in verdicts]
        h.append("</ul>")
    h.append("<h2>Outcomes by scenario (P10-P90 bar, P50 dot)</h2>")
    h.append(f"<figure>{_interval_charts(data)}</figure>")
    h.append("<h2>Who gains: fairness splits (P50 over runs)</h2>")
    for s in data["scenarios"]:
        h.append(
            f"<h3>{escape(s['name'])}</h3><table><tr><th>group</th><th>children</th>"
            "<th>placed</th><th>placed vs baseline (paired P50 [P10, P90])</th>"
            "<th>within 20 miles</th><th>in area</th></tr>"
        )
        for key, groups in s["splits"].items():
            for g, gm in groups.items():
                ch = gm.get("placed_pct_change")
                change = (
                    f"{_signed(ch['p50'], '%')} [{_signed(ch['p10'], '%')}, "
                    f"{_signed(ch['p90'], '%')}]"
                    if ch
                    else "-"
                )
                h.append(
                    f"<tr><td>{escape(key)}: {escape(g)}</td>"
                    f"<td>{_fmt(gm['children']['p50'])}</td>"
                    f"<td>{_fmt(gm['placed_pct']['p50'], '%')}</td><td>{change}</td>"
                    f"<td>{_fmt(gm['within_20_miles_pct']['p50'], '%')}</td>"
                    f"<td>{_fmt(gm['in_area_pct']['p50'], '%')}</td></tr>"
                )
        h.append("</table>")
    regional = [s for s in data["scenarios"] if s.get("authorities")]
    if regional:
        h.append(
            "<h2>By authority</h2><p>Each child is placed by the pooled match under its own "
            "authority's policy and counted with its own authority (the placing authority, "
            "which pays). P50 over the runs, and for a scenario its paired difference from "
            "the baseline in brackets; the last row is the region's. Run by run the "
            "authorities' counts add up to the region's (authorities.csv); their P50s need "
            "not.</p>"
        )
    for s in regional:
        head, rows = _authority_rows(s)
        h.append(f"<h3>{escape(s['name'])}</h3><table><tr>")
        h += [f"<th>{escape(c)}</th>" for c in head]
        h.append("</tr>")
        for row in rows:
            tag = "th" if row[0] == "region" else "td"
            h.append("<tr>" + "".join(f"<{tag}>{escape(c)}</{tag}>" for c in row) + "</tr>")
        h.append("</table>")
    maps = _maps(data)
    if maps:
        h.append("<h2>Maps</h2>" + maps)
    h.append(
        "<p><small>Boundaries: Office for National Statistics licensed under the Open "
        "Government Licence v3.0; contains OS data © Crown copyright and database right."
        "</small></p></body></html>"
    )
    return "\n".join(h)
