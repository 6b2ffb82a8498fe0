"""Reports of scenario runs: a table for the terminal, CSV, JSON and a self-contained HTML page.

The HTML page has no scripts, fonts, tiles or links to the web: inline SVG only (interval
"fan" charts of P10-P50-P90 per scenario, and offline maps from :mod:`geography.maps` of
where beds are added and where children live, by postcode sector).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from html import escape
from typing import Any

__all__ = ["html_report", "runs_csv", "summary_csv", "table", "what_it_does"]

_COLOURS = ("#555555", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")


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


def table(data: dict[str, Any]) -> str:
    """The terminal table: each measure's P50 [P10-P90] per scenario, and the paired
    difference from the baseline."""
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
    for s in data["scenarios"]:
        added = ", ".join(f"+{v} {k}" for k, v in s["added_beds"].items()) or "no added beds"
        out.append(f"== {s['name']}: {added}")
        if s.get("stopped_by_wall_clock"):
            out.append("   " + _wall_clock_warning(s))
        out.append(f"   {'measure':<32}{'P50':>12}{'P10 - P90':>24}    vs baseline P50 [P10, P90]")
        for m in data["metrics"]:
            q = s["metrics"][m["key"]]
            band = f"{_fmt(q['p10'], m['unit'])} - {_fmt(q['p90'], m['unit'])}"
            line = f"   {m['label']:<32}{_fmt(q['p50'], m['unit']):>12}{band:>24}"
            if s["difference"]:
                d = s["difference"][m["key"]]
                line += (
                    f"    {_signed(d['p50'], m['unit'])} "
                    f"[{_signed(d['p10'], m['unit'])}, {_signed(d['p90'], m['unit'])}]"
                )
            out.append(line)
        if s["difference"]:
            gains = []
            for groups in s["splits"].values():
                for g, gm in groups.items():
                    ch = gm.get("placed_pct_change", {})
                    gains.append(f"{g} {_signed(ch.get('p50'), '%')}")
            out.append("   placed, by group (paired P50): " + ", ".join(gains))
        out.append("")
    return "\n".join(out) + "\n"


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


def _interval_chart(data: dict[str, Any], key: str, label: str, unit: str) -> str:
    """Horizontal P10-P90 bars with the P50 marked, one per scenario (a fan in one date)."""
    rows = [(s["name"], s["metrics"][key]) for s in data["scenarios"]]
    vals = [v for _, q in rows for v in (q["p10"], q["p90"]) if v is not None]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad
    width, left, row_h = 640, 230, 26
    height = row_h * len(rows) + 34

    def x(v: float) -> float:
        return left + (width - left - 20) * (v - lo) / (hi - lo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}">',
        f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(label)}</text>',
    ]
    for i, (name, q) in enumerate(rows):
        y = 26 + i * row_h
        colour = _COLOURS[i % len(_COLOURS)]
        parts.append(f'<text x="4" y="{y + 13}" font-size="12">{escape(name[:32])}</text>')
        if q["p10"] is None:
            continue
        parts.append(
            f'<rect x="{x(q["p10"]):.1f}" y="{y + 3}" '
            f'width="{max(1.0, x(q["p90"]) - x(q["p10"])):.1f}"'
            f' height="14" fill="{colour}" fill-opacity="0.3"/>'
        )
        parts.append(
            f'<line x1="{x(q["p50"]):.1f}" x2="{x(q["p50"]):.1f}" y1="{y + 1}" y2="{y + 19}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(
            f'<text x="{min(x(q["p90"]) + 4, width - 80):.1f}" y="{y + 14}" font-size="11">'
            f"{escape(_fmt(q['p50'], unit))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _own_ids(svg: str, n: int) -> str:
    """Give an inline SVG's ``id`` values (and the ``url(#...)`` that use them) a suffix.

    Every map from :func:`geography.maps.render_svg` names its clip path ``map``; in one page
    the ids clash and every map is clipped to the first map's frame.
    """
    ids = re.findall(r'\bid="([^"]+)"', svg)
    for old in sorted(set(ids), key=len, reverse=True):
        new = f"{old}-{n}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"')
        svg = svg.replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    return svg


def _maps(data: dict[str, Any]) -> str:
    """Offline maps: added beds per scenario (first run), and children's homes by sector."""
    la = data.get("la_code")
    if not la or not data["runs"]:
        return ""
    from geography.maps import MapPoint, render_svg

    out: list[str] = []
    first = data["runs"][0]
    sectors = data.get("child_sectors") or {}
    if sectors:
        pts = []
        for sector, n in sorted(sectors.items()):
            try:
                pts.append(MapPoint.at(sector, label=str(n), group="children (by sector)"))
            except ValueError:
                continue
        svg = render_svg(la, pts, width=560, title="Where the children live", point_labels=False)
        svg = _own_ids(svg, len(out))
        out.append(
            f"<figure>{svg}<figcaption>Home postcode sectors of the children "
            "at the horizon (run 0; separated migrant children have none).</figcaption></figure>"
        )
    for name, homes in first["added"].items():
        if not homes:
            continue
        pts = []
        for h in homes:
            try:
                pts.append(
                    MapPoint.at(h["postcode"], label=str(h["beds"]), group=h["placement_type"])
                )
            except ValueError:
                continue
        # The scenario's name goes in the caption: a long title runs under the legend.
        svg = render_svg(la, pts, width=560, title="Beds added", point_labels=False)
        svg = _own_ids(svg, len(out))
        out.append(
            f"<figure>{svg}<figcaption>Beds added by <b>{escape(name)}</b>: new homes in "
            "run 0, coloured by type.</figcaption></figure>"
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
    h.append("<h2>Fan charts (P10-P90 band, P50 line)</h2>")
    for m in data["metrics"]:
        h.append(_interval_chart(data, m["key"], m["label"], m["unit"]))
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
    maps = _maps(data)
    if maps:
        h.append("<h2>Maps</h2>" + maps)
    h.append(
        "<p><small>Boundaries: Office for National Statistics licensed under the Open "
        "Government Licence v3.0; contains OS data © Crown copyright and database right."
        "</small></p></body></html>"
    )
    return "\n".join(h)


def child_sectors(postcodes: list[str]) -> dict[str, int]:
    """Children per postcode sector (``CM1 1``), for the map (no single home is shown)."""
    return dict(Counter(p[:-2].strip() for p in postcodes if p))
