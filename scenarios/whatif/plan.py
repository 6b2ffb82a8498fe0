"""Capacity planning: the fewest added beds, by type and district, that reach a service level.

Method: a **documented marginal analysis** over the simulated futures (the same runs, the
same seeds, in every round: a sample-average approximation of the service level).

1. Round 0 runs today's homes. In every run that misses the target, each unplaced unit
   (a sibling group, or a child) asks for one home of the type it needs (children's home,
   supported accommodation, parent and child, else in-house fostering) in its home
   district, with as many beds as the unit has children and the capabilities its needs
   call for (wheelchair, DoLS, ...); when the distance target is missed, the
   farthest-placed children (enough to close the gap) ask the same.
2. Requests are grouped by kind of home (type, district, beds), a kind's capabilities
   being the union of its requests'. Each kind is added as often as the quantile, at the
   target's level, of its requests over the runs (the marginal chance constraint); when
   that adds nothing, the run that asks for least (in beds) is covered whole.
3. The runs are repeated with everything added so far, until the target holds in the
   required share of runs or ``max_rounds`` is spent.

**Optimality gap.** Each added bed can place at most one more child in an optimal match, so
no plan can reach "every child placed" in a share ``q`` of ``R`` runs with fewer beds than
the ``ceil(q R)``-th smallest baseline unplaced count (runs sorted). That lower bound and the
gap (beds added less the bound) are reported. The bound is on beds for placement only; no
bound is claimed for the distance part (a bed can move several children closer through a
chain of re-assignments, or none), so the gap there is unknown and the plan is heuristic.
It assumes each run's match is proven optimal (``status`` optimal); with a time limit the
bound is approximate, and the plan reports how many runs were.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.whatif.config import HOME_DEFAULTS, AddBeds, ScenarioFile, Variant
from scenarios.whatif.runner import RunRecord, run_one, run_scenarios
from scenarios.whatif.supply import (
    area_districts,
    check_file,
    district_authorities,
    district_centres,
    district_names,
)

__all__ = [
    "PlanResult",
    "Target",
    "meets",
    "parse_target",
    "plan_capacity",
    "plan_html",
    "plan_table",
]

_PCT_KEYS = {
    "within_20": "within_20_miles_pct",
    "in_area": "in_area_pct",
    "siblings_together": "siblings_together_pct",
}


@dataclass(frozen=True, slots=True)
class Target:
    """A service level: in a share ``level`` of runs, at most ``max_unplaced`` children are
    unplaced and each ``(measure, percent)`` in ``min_pct`` is reached."""

    level: float
    max_unplaced: int | None = 0
    min_pct: tuple[tuple[str, float], ...] = ()
    text: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.level <= 1:
            raise ValueError("--target: the level must be P1 to P100")


def parse_target(text: str) -> Target:
    """Parse ``"P80 placed=all within_20>=85"`` (see ``docs/scenarios.md``)."""
    level = 0.8
    max_unplaced: int | None = None
    pct: list[tuple[str, float]] = []
    for token in text.replace(",", " ").split():
        t = token.strip().lower()
        if m := re.fullmatch(r"p(\d{1,3})", t):
            level = int(m.group(1)) / 100
        elif t == "placed=all":
            max_unplaced = 0
        elif m := re.fullmatch(r"unplaced<=(\d+)", t):
            max_unplaced = int(m.group(1))
        elif (m := re.fullmatch(r"([a-z_0-9]+)>=(\d+(?:\.\d+)?)", t)) and m.group(1) in _PCT_KEYS:
            pct.append((_PCT_KEYS[m.group(1)], float(m.group(2))))
        else:
            raise ValueError(
                f"--target: {token!r} not understood; expected P<level>, placed=all, "
                "unplaced<=N, within_20>=PCT, in_area>=PCT or siblings_together>=PCT"
            )
    if max_unplaced is None and not pct:
        raise ValueError("--target: name at least one measure, e.g. placed=all")
    return Target(level, max_unplaced, tuple(pct), text)


def meets(outcome: dict[str, Any], target: Target) -> bool:
    """Whether one run's outcome reaches the target."""
    if target.max_unplaced is not None and outcome["unplaced"] > target.max_unplaced:
        return False
    for key, value in target.min_pct:
        got = outcome.get(key)
        if got is not None and got < value:
            return False
    return True


def _requests(outcome: dict[str, Any], target: Target, types: tuple[str, ...]) -> dict[str, int]:
    """Homes asked for by one run's shortfall, by kind (``type|district|beds|caps|age``)."""
    if meets(outcome, target):
        return {}
    sf = outcome["shortfall"]
    req: dict[str, int] = {}
    if target.max_unplaced is not None:
        excess = outcome["unplaced"] - target.max_unplaced
        for cell, n in sf["unplaced"].items():
            if excess > 0:
                req[cell] = req.get(cell, 0) + n
    for key, value in target.min_pct:
        if key != "within_20_miles_pct":
            continue
        deficit = math.ceil(value / 100 * sf["with_home"] - sf["near"])
        for cell in sf["far"][: max(0, deficit)]:
            req[cell] = req.get(cell, 0) + 1
    return {c: n for c, n in req.items() if c.split("|")[0] in types}


def _wilson_lower(k: int, n: int, z: float = 1.2816) -> float:
    """One-sided 90% lower confidence bound of a proportion (Wilson)."""
    if n == 0:
        return 0.0
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


@dataclass
class PlanResult:
    """The plan: beds by ``(type, district)``, whether and how surely the target holds."""

    target: Target
    runs: int
    la_code: str
    additions: dict[tuple[str, str], int]
    reached: bool
    share_meeting: float
    share_lower_90: float
    lower_bound_beds: int | None
    rounds: list[dict[str, Any]] = field(default_factory=list)
    optimal_runs: int = 0
    weekly_cost: dict[str, int] = field(default_factory=dict)
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: A region's authorities (ONS codes); empty for one authority.
    authorities: tuple[str, ...] = ()

    @property
    def beds(self) -> int:
        """Beds added in all."""
        return sum(self.additions.values())

    def _authority_of(self) -> dict[str, str]:
        """District code -> the name of its authority (a region's plan only)."""
        if not self.authorities:
            return {}
        import geography

        names = {code: geography.resolve_authority(code).name for code in self.authorities}
        return {d: names[code] for d, code in district_authorities(self.authorities).items()}

    def rows(self) -> list[dict[str, Any]]:
        """The sufficiency-statement table: one row per type and district (for a region,
        per authority, type and district: ``authority`` is the authority the district is
        in, which commissions and owns the beds)."""
        if self.authorities:
            names = area_districts(self.authorities)[2]
        else:
            names = district_names(self.la_code) if self.la_code else {}
        owner = self._authority_of()
        out = []
        for (t, d), n in sorted(self.additions.items()):
            cost = self.weekly_cost.get(t, HOME_DEFAULTS.get(t, (0, 0, 0, 0, ""))[3])
            row: dict[str, Any] = {"authority": owner.get(d, "")} if self.authorities else {}
            row.update(
                {
                    "placement_type": t,
                    "district_code": d,
                    "district": names.get(d, d),
                    "beds": n,
                    "weekly_cost": n * cost,
                }
            )
            out.append(row)
        if self.authorities:
            out.sort(key=lambda r: (r["authority"], r["placement_type"], r["district"]))
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        # A gap measures a plan that reaches the target against the fewest beds that could;
        # a plan that falls short has no gap (it is not an upper bound on anything).
        gap = (
            None
            if self.lower_bound_beds is None or not self.reached
            else self.beds - self.lower_bound_beds
        )
        owner = self._authority_of()
        data: dict[str, Any] = {
            "target": self.target.text,
            "level": self.target.level,
            "runs": self.runs,
            "reached": self.reached,
            "share_of_runs_meeting_target": round(self.share_meeting, 3),
            "share_lower_90": round(self.share_lower_90, 3),
            "beds_added": self.beds,
            "lower_bound_beds": self.lower_bound_beds,
            "gap_beds": gap,
            "optimal_runs": self.optimal_runs,
            "table": self.rows(),
            "rounds": self.rounds,
            "homes": [
                {
                    **({"authority": owner.get(k.split("|")[1], "")} if owner else {}),
                    "placement_type": k.split("|")[0],
                    "district_code": k.split("|")[1],
                    "beds_each": int(k.split("|")[2]),
                    **v,
                }
                for k, v in self.homes.items()
            ],
        }
        if self.authorities:
            data["authorities"] = sorted(set(owner.values()))
            data["by_authority"] = self.by_authority()
        return data

    def by_authority(self) -> list[dict[str, Any]]:
        """A region's plan totalled per authority: beds and weekly cost if full."""
        totals: dict[str, list[int]] = {}
        for r in self.rows():
            cell = totals.setdefault(r["authority"], [0, 0])
            cell[0] += r["beds"]
            cell[1] += r["weekly_cost"]
        return [
            {"authority": a, "beds": beds, "weekly_cost": cost}
            for a, (beds, cost) in sorted(totals.items())
        ]

    def to_csv(self) -> str:
        """The table as CSV."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        head = ["placement_type", "district_code", "district", "beds", "weekly_cost"]
        w.writerow(["authority", *head] if self.authorities else head)
        for r in self.rows():
            w.writerow(list(r.values()))
        return buf.getvalue()


def _beds_of(key: str) -> int:
    return int(key.split("|")[2])


def _coarse(reqs: dict[str, int], info: dict[str, tuple[set[str], int]]) -> dict[str, int]:
    """Requests by kind of home ``type|district|beds``; ``info`` gathers each kind's
    capabilities (union) and youngest child (minimum)."""
    out: dict[str, int] = {}
    for key, count in reqs.items():
        t, d, size, caps, youngest = key.split("|")
        kind = f"{t}|{d}|{size}"
        out[kind] = out.get(kind, 0) + count
        got = info.get(kind, (set(), 17))
        info[kind] = (got[0] | (set(caps.split(";")) - {""}), min(got[1], int(youngest)))
    return out


def _variant(
    file: ScenarioFile, homes_added: dict[str, int], info: dict[str, tuple[set[str], int]]
) -> Variant:
    templates = dict(file.plan_homes)
    adds = []
    for kind, count in sorted(homes_added.items()):
        t, d, size = kind.split("|")
        caps, youngest = info.get(kind, (set(), 17))
        base = templates.get(t) or AddBeds.of(t, 0)
        lo = min(base.age_min, youngest)
        if t == "supported_accommodation":
            lo = max(16, lo)
        merged = ";".join(sorted({*base.capabilities.split(";"), *caps} - {""}))
        adds.append(
            replace(
                base,
                beds=count * int(size),
                home_beds=int(size),
                where=(d,),
                postcodes=(),
                age_min=lo,
                capabilities=merged,
            )
        )
    return Variant(name="plan", add=tuple(adds))


def plan_capacity(
    file: ScenarioFile,
    target: Target,
    *,
    runs: int | None = None,
    workers: int = 1,
    scheduler: Any = None,
    max_rounds: int = 6,
    progress: Callable[[int, int], None] | None = None,
    out: str | Path | None = None,
    task: Callable[[ScenarioFile, int], RunRecord] | None = None,
    announce: Callable[[str, int], None] | None = None,
) -> PlanResult:
    """Find a small set of added beds that reaches ``target`` (see the module docstring).

    ``announce`` is called before each round's first run with a sentence naming the round
    (see :func:`scenarios.whatif.runner.run_scenarios`).

    With ``out``, every round's finished runs are kept in ``out/runs.jsonl`` (each round's
    homes make its own key), so a plan that was interrupted resumes where it stopped: the
    rounds already run are read back, not run again, and lead to the same additions.

    Raises
    ------
    KeyboardInterrupt
        When a round is interrupted (its finished runs are kept with ``out``): a plan from
        part of a round's runs would be a different plan.
    """
    n = file.runs if runs is None else runs
    check_file(file)  # the whole file, though the plan replaces its [[scenarios]]
    homes_added: dict[str, int] = {}
    info: dict[str, tuple[set[str], int]] = {}
    rounds: list[dict[str, Any]] = []
    lower: int | None = None
    la_code = ""
    authorities: tuple[str, ...] = ()
    if task is None:
        task = functools.partial(run_one, baseline=False)
    homes = dict(file.plan_homes)
    costs = {
        t: (homes[t].weekly_cost if t in homes else HOME_DEFAULTS.get(t, (0, 0, 0, 0, ""))[3])
        for t in file.plan_types
    }
    share = 0.0
    optimal = 0
    for rnd in range(max_rounds + 1):
        variant = _variant(file, homes_added, info)
        f = replace(file, variants=(variant,))
        beds_now = sum(c * _beds_of(k) for k, c in homes_added.items())

        def say(text: str, done: int, rnd: int = rnd, beds_now: int = beds_now) -> None:
            if announce is not None:
                announce(
                    f"round {rnd} (rounds 0 to {max_rounds}), {beds_now} beds added: {text}", done
                )

        state = run_scenarios(
            f,
            runs=n,
            workers=workers,
            scheduler=scheduler,
            out=out,
            progress=progress,
            task=task,
            announce=say,
        )
        if state.interrupted or not state.complete:
            raise KeyboardInterrupt
        outs = [r.outcomes["plan"] for r in state.ordered()]
        la_code = state.ordered()[0].la_code if state.records else la_code
        authorities = state.ordered()[0].authorities if state.records else authorities
        ok = [meets(o, target) for o in outs]
        share = sum(ok) / len(outs)
        optimal = sum(o.get("status") == "optimal" for o in outs)
        if rnd == 0 and target.max_unplaced is not None:
            need = sorted(max(0, o["unplaced"] - target.max_unplaced) for o in outs)
            lower = need[max(0, math.ceil(target.level * len(need)) - 1)]
        rounds.append(
            {
                "round": rnd,
                "beds_added": sum(c * _beds_of(k) for k, c in homes_added.items()),
                "share_meeting": round(share, 3),
                "unplaced_p50": float(np.median([o["unplaced"] for o in outs])),
                "within_20_miles_pct_p50": float(
                    np.median([o["within_20_miles_pct"] or 0.0 for o in outs])
                ),
            }
        )
        if share >= target.level - 1e-12 or rnd == max_rounds:
            break
        reqs = [_coarse(_requests(o, target, file.plan_types), info) for o in outs]
        if not any(reqs):
            break  # nothing the plan's types can fix
        added_now = 0
        for kind in sorted({x for r in reqs for x in r}):
            xs = np.array([r.get(kind, 0) for r in reqs], dtype=float)
            q = int(np.quantile(xs, target.level, method="inverted_cdf"))
            if q > 0:
                homes_added[kind] = homes_added.get(kind, 0) + q
                added_now += q
        if added_now == 0:
            # The marginal quantiles add nothing: cover the run that needs least, whole.
            cheapest = min(
                (i for i, r in enumerate(reqs) if r),
                key=lambda i: (sum(c * _beds_of(x) for x, c in reqs[i].items()), i),
            )
            for kind, c in reqs[cheapest].items():
                homes_added[kind] = homes_added.get(kind, 0) + c
    additions: dict[tuple[str, str], int] = {}
    for key, count in homes_added.items():
        t, d = key.split("|")[:2]
        additions[(t, d)] = additions.get((t, d), 0) + count * _beds_of(key)
    return PlanResult(
        target=target,
        runs=n,
        la_code=la_code,
        additions=additions,
        reached=share >= target.level - 1e-12,
        share_meeting=share,
        share_lower_90=_wilson_lower(round(share * n), n),
        lower_bound_beds=lower,
        rounds=rounds,
        optimal_runs=optimal,
        weekly_cost=costs,
        homes={
            k: {
                "count": v,
                "capabilities": sorted(info.get(k, (set(), 17))[0]),
                "youngest": info.get(k, (set(), 17))[1],
            }
            for k, v in sorted(homes_added.items())
        },
        authorities=authorities,
    )


def _bound_text(data: dict[str, Any]) -> str:
    if data["lower_bound_beds"] is None:
        return "no lower bound (the target has no placement part; see docs/scenarios.md)"
    text = f"lower bound {data['lower_bound_beds']}"
    if data["gap_beds"] is None:
        return text + ", no gap: the target was not reached (more --rounds or --runs)"
    return text + f", gap {data['gap_beds']} beds (placement part; see docs/scenarios.md)"


def plan_table(result: PlanResult) -> str:
    """The plan as a terminal table (the sufficiency statement's sentence per row)."""
    data = result.to_json()
    lines = [
        f"Capacity plan for target {result.target.text!r} over {result.runs} runs",
        f"{'reached' if result.reached else 'NOT reached'}: target met in "
        f"{100 * result.share_meeting:.0f}% of runs (90% lower confidence bound "
        f"{100 * result.share_lower_90:.0f}%), after {len(result.rounds) - 1} round(s)",
        f"beds added {result.beds}; {_bound_text(data)}; "
        f"{result.optimal_runs} of {result.runs} final runs proven optimal",
        "",
    ]
    for r in result.rows():
        where, width = r["district"], 22
        if result.authorities:
            width = 24  # a unitary authority is its own one district: named once
            if r["authority"] != r["district"]:
                where = f"{r['district']} ({r['authority']})"
        lines.append(
            f"  {r['beds']:>4} more places of type {r['placement_type']:<24} in {where:<{width}}"
            f" £{r['weekly_cost']:>9,} a week"
        )
    if result.authorities:
        lines.append("")
        for t in result.by_authority():
            lines.append(
                f"  {t['authority']}: {t['beds']:,} beds, £{t['weekly_cost']:,} a week if full"
            )
    lines.append("")
    for rd in result.rounds:
        lines.append(
            f"  round {rd['round']}: {rd['beds_added']:>4} beds, target met in "
            f"{100 * rd['share_meeting']:.0f}% of runs, unplaced P50 {rd['unplaced_p50']:.0f}, "
            f"within 20 miles P50 {rd['within_20_miles_pct_p50']:.1f}%"
        )
    return "\n".join(lines) + "\n"


def plan_html(result: PlanResult) -> str:
    """The plan as a self-contained HTML page: totals by type, the total weekly cost, the
    table by type and district, the rounds, and a map of the beds by district.

    Inline SVG from :mod:`scenarios.charts` only: no scripts, nothing fetched.
    """
    from html import escape

    from scenarios.charts import MapDot, band_warning, map_extent, map_svg

    data = result.to_json()
    rows = result.rows()
    by_type: dict[str, tuple[int, int]] = {}
    for r in rows:
        beds, cost = by_type.get(r["placement_type"], (0, 0))
        by_type[r["placement_type"]] = (beds + r["beds"], cost + r["weekly_cost"])
    total_cost = sum(cost for _, cost in by_type.values())
    verdict = "reached" if result.reached else "NOT reached"
    h = [
        "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'>",
        f"<title>Capacity plan: {escape(result.target.text)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}th:first-child,td:first-child{text-align:left}"
        ".warn{color:#a00}.big{font-size:1.3em}</style></head><body>",
        f"<h1>Capacity plan for {escape(result.target.text)}</h1>",
        f"<p class='big'><b>{result.beds:,} beds</b> added, <b>£{total_cost:,} a week</b> "
        f"if full; target {verdict} in {100 * result.share_meeting:.0f}% of {result.runs} "
        f"runs (90% lower confidence bound {100 * result.share_lower_90:.0f}%), after "
        f"{len(result.rounds) - 1} round(s).</p>",
        f"<p>{escape(_bound_text(data))}; {result.optimal_runs} of {result.runs} final runs "
        "proven optimal.</p>",
    ]
    few = band_warning(result.runs, f"P{round(100 * result.target.level)} service level")
    if few:
        h.append(f"<p class='warn'>{escape(few)}</p>")
    h.append("<h2>Totals by type</h2><table><tr><th>placement type</th><th>beds</th>")
    h.append("<th>weekly cost if full</th></tr>")
    for t, (beds, cost) in sorted(by_type.items()):
        h.append(f"<tr><td>{escape(t)}</td><td>{beds:,}</td><td>£{cost:,}</td></tr>")
    h.append(f"<tr><th>total</th><th>{result.beds:,}</th><th>£{total_cost:,}</th></tr></table>")
    region = bool(result.authorities)
    if region:
        h.append("<h2>Totals by authority</h2><p>The authority each district is in commissions ")
        h.append("and owns its beds, and offers them to the pool.</p><table><tr>")
        h.append("<th>authority</th><th>beds</th><th>weekly cost if full</th></tr>")
        for total in result.by_authority():
            h.append(
                f"<tr><td>{escape(total['authority'])}</td><td>{total['beds']:,}</td>"
                f"<td>£{total['weekly_cost']:,}</td></tr>"
            )
        h.append("</table>")
    h.append(f"<h2>By {'authority, ' if region else ''}type and district</h2><table><tr>")
    h.append("<th>authority</th>" if region else "")
    h.append("<th>placement type</th>")
    h.append("<th>district</th><th>beds</th><th>weekly cost if full</th></tr>")
    for r in rows:
        first = f"<td>{escape(r['authority'])}</td>" if region else ""
        h.append(
            f"<tr>{first}<td>{escape(r['placement_type'])}</td><td>{escape(r['district'])}</td>"
            f"<td>{r['beds']:,}</td><td>£{r['weekly_cost']:,}</td></tr>"
        )
    h.append("</table>")
    if rows and region:
        import geography

        biggest = max(r["beds"] for r in rows)
        figures = []
        for k, code in enumerate(result.authorities):
            centres = district_centres(code)
            dots = [
                MapDot(*centres[r["district_code"]], r["beds"], r["placement_type"])
                for r in rows
                if r["district_code"] in centres
            ]
            if not dots:
                continue
            name = geography.resolve_authority(code).name
            svg = map_svg(
                code,
                dots,
                extent=map_extent(code, dots),
                biggest=biggest,
                title=f"Beds added in {name}"[:60],
                size_label="beds",
                prefix=f"plan-map-{k}",
            )
            figures.append(f"<figure>{svg}</figure>")
        if figures:
            h.append(
                "<h2>Where</h2>" + "".join(figures) + "<p>One map per authority with beds "
                "added: a dot per type and district, at the median of the district's "
                "postcodes, sized by beds (the same scale on every map).</p>"
            )
    elif rows and result.la_code:
        centres = district_centres(result.la_code)
        dots = [
            MapDot(*centres[r["district_code"]], r["beds"], r["placement_type"])
            for r in rows
            if r["district_code"] in centres
        ]
        svg = map_svg(
            result.la_code,
            dots,
            extent=map_extent(result.la_code, dots),
            title="Beds added, by district",
            size_label="beds",
            prefix="plan-map",
        )
        h.append(
            f"<h2>Where</h2><figure>{svg}<figcaption>A dot per type and district, at the "
            "median of the district's postcodes, sized by beds.</figcaption></figure>"
        )
    h.append("<h2>Rounds</h2><table><tr><th>round</th><th>beds added</th>")
    h.append("<th>runs meeting the target</th><th>unplaced P50</th>")
    h.append("<th>within 20 miles P50</th></tr>")
    for rd in result.rounds:
        h.append(
            f"<tr><td>{rd['round']}</td><td>{rd['beds_added']:,}</td>"
            f"<td>{100 * rd['share_meeting']:.0f}%</td><td>{rd['unplaced_p50']:.0f}</td>"
            f"<td>{rd['within_20_miles_pct_p50']:.1f}%</td></tr>"
        )
    h.append("</table><p><small>Every child is synthetic unless a case folder was given.")
    h.append("</small></p></body></html>")
    return "\n".join(h) + "\n"
