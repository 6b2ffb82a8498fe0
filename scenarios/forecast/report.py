"""Forecast output: terminal tables, JSON, CSV and a self-contained HTML report.

The HTML report draws one chart per placement group with matplotlib as inline SVG
(:mod:`scenarios.charts`; no scripts, no web fonts, no tiles): it opens offline. A
stochastic forecast is drawn as a fan chart (the recorded months before it, P10-P95 band,
P10-P80 band, median line) on dated, labelled axes with whole-number counts; a statement
forecast as a line. Too few runs for the bands are warned about on the page.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.placement_types import SufficiencyGroup
from scenarios.charts import band_warning, fan_svg
from scenarios.forecast.backtest import BacktestResult, RollingBacktest
from scenarios.forecast.rates import EXIT_ROUTES, STREAMS
from scenarios.forecast.statement import GROUPS, StatementForecast
from scenarios.forecast.stock_flow import StochasticForecast
from scenarios.forecast.tuning import Tuning

#: The groups commissioners commission places in (``additional_places`` covers these).
PLACE_GROUPS: tuple[SufficiencyGroup, ...] = (
    SufficiencyGroup.RESIDENTIAL,
    SufficiencyGroup.FOSTERING,
    SufficiencyGroup.SUPPORTED_ACCOMMODATION,
)

#: Recorded counts before a forecast: month starts and ``(dates, group + total)``.
Recorded = tuple[Sequence[dt.date], np.ndarray]

_LABELS = {
    SufficiencyGroup.FOSTERING: "Fostering",
    SufficiencyGroup.RESIDENTIAL: "Residential",
    SufficiencyGroup.SUPPORTED_ACCOMMODATION: "Supported accommodation",
    SufficiencyGroup.OTHER: "Other",
}


# --------------------------------------------------------------------------- statement


def statement_json(result: StatementForecast) -> dict[str, Any]:
    """A statement forecast as plain JSON-ready data."""
    spec = result.spec
    counts = result.summary()
    head = ("name", "start", "end", "horizon_months")
    return {
        "mode": "statement",
        **{k: counts[k] for k in head},
        "additional_places": {g.value: result.additional_places[g] for g in PLACE_GROUPS},
        **{k: v for k, v in counts.items() if k not in head},
        "remainder_group": spec.remainder.value,
        "rules": {
            g.value: {"rule": spec.shares[g].kind.value, "note": spec.shares[g].note}
            for g in GROUPS
        },
        "counts": [
            {
                "date": d.isoformat(),
                "total": int(result.rounded_total[i]),
                **{g.value: int(result.counts[g][i]) for g in GROUPS},
            }
            for i, d in enumerate(result.dates)
        ],
        "shares_percent": [
            {
                "date": d.isoformat(),
                **{g.value: round(float(result.shares[g][i]) * 100.0, 4) for g in GROUPS},
            }
            for i, d in enumerate(result.dates)
        ],
        "flags": list(result.flags),
    }


def statement_table(result: StatementForecast) -> str:
    """The terminal table of a statement forecast."""
    out = io.StringIO()
    spec = result.spec
    start, end = result.dates[0], result.dates[-1]
    out.write(f"{spec.name or 'Statement forecast'}\n")
    out.write(f"{start.isoformat()} -> {end.isoformat()} ({spec.horizon_months} months)\n\n")
    head = f"{'group':<26}{'start':>8}{'share':>9}{'end':>8}{'share':>9}{'change':>9}  rule"
    out.write(head + "\n" + "-" * len(head) + "\n")
    for g in GROUPS:
        a, b = int(result.counts[g][0]), int(result.counts[g][-1])
        s0, s1 = result.shares[g][0] * 100.0, result.shares[g][-1] * 100.0
        out.write(
            f"{g.value:<26}{a:>8}{s0:>8.2f}%{b:>8}{s1:>8.2f}%{b - a:>+9d}  "
            f"{spec.shares[g].kind.value}\n"
        )
    t0, t1 = int(result.rounded_total[0]), int(result.rounded_total[-1])
    out.write(f"{'total':<26}{t0:>8}{'':>9}{t1:>8}{'':>9}{t1 - t0:>+9d}\n\n")
    places = ", ".join(f"{result.additional_places[g]:+d} {g.value}" for g in PLACE_GROUPS)
    out.write(f"Additional places needed by {end.isoformat()}: {places}\n")
    for g in GROUPS:
        if spec.shares[g].note:
            out.write(f"  {g.value}: {spec.shares[g].note}\n")
    for flag in result.flags:
        out.write(f"! {flag}\n")
    return out.getvalue()


def statement_csv(result: StatementForecast) -> str:
    """CSV: one row per date, rounded counts and unrounded shares."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["date", "total", *(g.value for g in GROUPS), *(f"{g.value}_share" for g in GROUPS)])
    for i, d in enumerate(result.dates):
        w.writerow(
            [
                d.isoformat(),
                int(result.rounded_total[i]),
                *(int(result.counts[g][i]) for g in GROUPS),
                *(f"{result.shares[g][i]:.6f}" for g in GROUPS),
            ]
        )
    return buf.getvalue()


# --------------------------------------------------------------------------- HTML pages


def html_page(title: str, sections: Sequence[str], *, meta: Mapping[str, str] = {}) -> str:
    """A self-contained HTML page (inline CSS and SVG only)."""
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in meta.items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
        ".charts{display:flex;flex-wrap:wrap;gap:1em}.flag{color:#a50f15}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table>{rows}</table>"
        + "".join(sections)
        + "</body></html>\n"
    )


def html_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table from plain values."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def statement_html(result: StatementForecast) -> str:
    """The HTML report of a statement forecast: a chart per group, the table and flags."""
    spec = result.spec
    charts = [
        fan_svg(
            result.dates,
            median=result.counts[g].astype(float),
            title=f"{_LABELS[g]} ({spec.shares[g].kind.value})",
            prefix=f"statement-{j}",
        )
        for j, g in enumerate(GROUPS)
    ]
    rows = [
        [
            g.value,
            int(result.counts[g][0]),
            int(result.counts[g][-1]),
            f"{result.additional_places[g]:+d}",
            spec.shares[g].note,
        ]
        for g in GROUPS
    ]
    sections = [
        html_table(["group", "start", "end", "change", "source of the rule"], rows),
        "".join(f'<p class="flag">&#9888; {html.escape(f)}</p>' for f in result.flags),
        '<div class="charts">' + "".join(charts) + "</div>",
    ]
    meta = {
        "mode": "statement (deterministic)",
        "start": result.dates[0].isoformat(),
        "end": result.dates[-1].isoformat(),
        "total": f"{int(result.rounded_total[0])} -> {int(result.rounded_total[-1])}",
    }
    return html_page(spec.name or "Statement forecast", sections, meta=meta)


def write_outputs(
    out_dir: Path, *, data: Mapping[str, Any], csv_text: str, html_text: str
) -> list[Path]:
    """Write ``forecast.json``, ``forecast.csv`` and ``forecast.html`` into ``out_dir``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"--out {out_dir}: is a file; give a directory to write into")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("forecast.json", json.dumps(data, indent=2) + "\n"),
        ("forecast.csv", csv_text),
        ("forecast.html", html_text),
    ):
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


# --------------------------------------------------------------------------- stochastic


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _q_label(q: float) -> str:
    return f"p{round(q * 100):d}"


def stochastic_json(result: StochasticForecast) -> dict[str, Any]:
    """A stochastic forecast as plain JSON-ready data (quantiles, places needed, flows)."""
    spec = result.spec
    qs = spec.quantiles
    table = result.quantile_counts(qs)
    labels = [_q_label(q) for q in qs]
    names = [g.value for g in GROUPS] + ["total"]
    start = result.start_counts()
    return {
        "mode": "stochastic",
        "start": result.dates[0].isoformat(),
        "end": result.dates[-1].isoformat(),
        "step": spec.step,
        "runs": spec.runs,
        "seed": spec.seed,
        "rate_uncertainty": spec.rate_uncertainty,
        "service_level": spec.service_level,
        "additional_places": {g.value: result.additional_places()[g] for g in PLACE_GROUPS},
        "places_needed": {g.value: v for g, v in result.places_needed().items()},
        "peak_places_needed": {g.value: v for g, v in result.peak_places_needed().items()},
        "start_counts": {g.value: v for g, v in start.items()},
        "quantiles": list(qs),
        "counts": [
            {
                "date": d.isoformat(),
                **{
                    name: {labels[i]: float(table[i, t, j]) for i in range(len(qs))}
                    for j, name in enumerate(names)
                },
            }
            for t, d in enumerate(result.dates)
        ],
        "mean_exits_per_step": {
            route: round(float(result.exits[:, i].mean()), 3) for i, route in enumerate(EXIT_ROUTES)
        },
        "mean_entries_per_step": {
            stream: round(float(result.entries[:, i].mean()), 3) for i, stream in enumerate(STREAMS)
        },
        "notes": list(result.notes),
        **_assumed_json(result),
    }


def _assumed_json(result: StochasticForecast) -> dict[str, Any]:
    """History before the start, what the model assumed and the forecast without the
    commissioners' assumptions (P50), where the runner set them."""
    names = [g.value for g in GROUPS]
    out: dict[str, Any] = {
        "history": [
            {"date": d.isoformat(), **{n: int(result.history[t, j]) for j, n in enumerate(names)}}
            for t, d in enumerate(result.history_dates)
        ]
        if result.history is not None
        else [],
        "assumed": [{"quantity": q, "value": v} for q, v in result.assumed],
    }
    if result.without_assumptions is not None:
        w = result.without_assumptions
        out["without_assumptions_p50"] = [
            {"date": d.isoformat(), **{n: float(w[t, j]) for j, n in enumerate(names)}}
            for t, d in enumerate(result.dates)
        ]
    return out


def _assumed_lines(result: StochasticForecast, median_end: np.ndarray) -> str:
    """The table's extra lines: without the assumptions, and what the model assumed."""
    out = io.StringIO()
    if result.without_assumptions is not None:
        w = result.without_assumptions[-1]
        effect = ", ".join(f"{median_end[j] - w[j]:+.0f} {g.value}" for j, g in enumerate(GROUPS))
        out.write(
            "Without the assumptions, P50 at the end: "
            + ", ".join(f"{w[j]:.0f} {g.value}" for j, g in enumerate(GROUPS))
            + f" (total {w.sum():.0f}); the assumptions' effect: {effect}\n"
        )
    if result.history is not None and len(result.history_dates):
        first, last = result.history_dates[0], result.history_dates[-1]
        totals = result.history.sum(axis=1)
        out.write(
            f"History: {totals[0]} children in care at {first.isoformat()}, {totals[-1]} at "
            f"{last.isoformat()} (month starts before the start; in the JSON)\n"
        )
    if result.assumed:
        out.write("What the model assumed (at the start, after any assumptions):\n")
        for q, v in result.assumed:
            out.write(f"  {q:<54}{v}\n")
    return out.getvalue()


def stochastic_table(result: StochasticForecast, *, name: str = "") -> str:
    """The terminal table of a stochastic forecast."""
    spec = result.spec
    qs = spec.quantiles
    table = result.quantile_counts(qs)
    need = result.places_needed()
    peak = result.peak_places_needed()
    start = result.start_counts()
    out = io.StringIO()
    out.write(f"{name or 'Stochastic forecast'}\n")
    out.write(
        f"{result.dates[0].isoformat()} -> {result.dates[-1].isoformat()}, {_runs(spec.runs)}, "
        f"{spec.step}ly steps, seed {spec.seed}, rate uncertainty "
        f"{'on' if spec.rate_uncertainty else 'off'}\n\n"
    )
    level = f"P{round(spec.service_level * 100):d}"
    cols = "".join(f"{_q_label(q).upper():>7}" for q in qs)
    head = f"{'group':<26}{'start':>7}{cols}{'need@' + level:>10}{'peak':>7}{'extra':>7}"
    out.write(head + "\n" + "-" * len(head) + "\n")
    for j, g in enumerate(GROUPS):
        vals = "".join(f"{table[i, -1, j]:>7.0f}" for i in range(len(qs)))
        out.write(
            f"{g.value:<26}{start[g]:>7}{vals}{need[g]:>10}{peak[g]:>7}{need[g] - start[g]:>+7d}\n"
        )
    vals = "".join(f"{table[i, -1, -1]:>7.0f}" for i in range(len(qs)))
    out.write(f"{'total':<26}{sum(start.values()):>7}{vals}\n\n")
    median_end = result.quantile_counts((0.5,))[0, -1, :4]
    out.write(_assumed_lines(result, median_end))
    extra = result.additional_places()
    places = ", ".join(f"{extra[g]:+d} {g.value}" for g in PLACE_GROUPS)
    out.write(
        f"Places needed by {result.dates[-1].isoformat()} at the {level} service level, "
        f"against the start: {places}\n"
    )
    for note in result.notes:
        out.write(f"  note: {note}\n")
    return out.getvalue()


def _assumed_html(result: StochasticForecast) -> list[str]:
    """HTML sections: without the assumptions, history before the start, what was assumed."""
    out: list[str] = []
    if result.without_assumptions is not None:
        w = result.without_assumptions[-1]
        med = result.quantile_counts((0.5,))[0, -1, :4]
        rows = [[g.value, f"{w[j]:.0f}", f"{med[j]:.0f}", f"{med[j] - w[j]:+.0f}"]
                for j, g in enumerate(GROUPS)]  # fmt: skip
        out.append("<h2>The assumptions' effect (P50 at the end)</h2>")
        out.append(html_table(["group", "without", "with", "effect"], rows))
    if result.history is not None and len(result.history_dates):
        history: list[list[object]] = [
            [d.isoformat(), *(int(v) for v in result.history[t]), int(result.history[t].sum())]
            for t, d in enumerate(result.history_dates)
        ]
        out.append("<h2>History before the start</h2>")
        out.append(html_table(["month start", *(g.value for g in GROUPS), "total"], history))
    if result.assumed:
        out.append("<h2>What the model assumed</h2>")
        out.append(html_table(["quantity", "value"], [list(r) for r in result.assumed]))
    return out


def stochastic_csv(result: StochasticForecast) -> str:
    """CSV in long form: date, group, mean and each quantile."""
    qs = result.spec.quantiles
    table = result.quantile_counts(qs)
    both = np.concatenate([result.counts, result.totals[:, :, None]], axis=2)
    mean = both.mean(axis=0)
    names = [g.value for g in GROUPS] + ["total"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["date", "group", "mean", *(_q_label(q) for q in qs)])
    for t, d in enumerate(result.dates):
        for j, name in enumerate(names):
            w.writerow(
                [
                    d.isoformat(),
                    name,
                    f"{mean[t, j]:.2f}",
                    *(f"{table[i, t, j]:.0f}" for i in range(len(qs))),
                ]
            )
    return buf.getvalue()


def _fan(
    dates: Sequence[dt.date],
    table: np.ndarray,
    qs: Sequence[float],
    j: int,
    title: str,
    history: Recorded | None = None,
) -> str:
    idx = {q: i for i, q in enumerate(qs)}
    bands = []
    if 0.1 in idx and 0.95 in idx:
        bands.append((table[idx[0.1], :, j], table[idx[0.95], :, j], "P10-P95"))
    if 0.1 in idx and 0.8 in idx:
        bands.append((table[idx[0.1], :, j], table[idx[0.8], :, j], "P10-P80"))
    median = table[idx.get(0.5, len(qs) // 2), :, j]
    return fan_svg(
        dates,
        median=median,
        bands=bands,
        history=None if history is None else (history[0], history[1][:, j]),
        title=title,
        prefix=f"fan-{j}",
    )


def _warnings(runs: int, band: str) -> str:
    few = band_warning(runs, band)
    return f'<p class="flag">&#9888; {html.escape(few)}</p>' if few else ""


def stochastic_html(
    result: StochasticForecast, *, name: str = "", history: Recorded | None = None
) -> str:
    """The HTML report of a stochastic forecast: a fan chart per group and the tables.

    ``history``: the recorded counts before the start (dates, ``(dates, group + total)``,
    from :func:`scenarios.forecast.runner.recorded_counts`), drawn before each fan.
    """
    spec = result.spec
    qs = spec.quantiles
    table = result.quantile_counts(qs)
    charts = [
        _fan(result.dates, table, qs, j, _LABELS[g], history) for j, g in enumerate(GROUPS)
    ] + [_fan(result.dates, table, qs, len(GROUPS), "All children in care", history)]
    need = result.places_needed()
    start = result.start_counts()
    rows = [
        [
            g.value,
            start[g],
            *(f"{table[i, -1, j]:.0f}" for i in range(len(qs))),
            need[g],
            f"{need[g] - start[g]:+d}",
        ]
        for j, g in enumerate(GROUPS)
    ]
    level = f"P{round(spec.service_level * 100):d}"
    sections = [
        _warnings(spec.runs, "P10-P95") if 0.95 in qs else _warnings(spec.runs, "P10-P80"),
        '<div class="charts">' + "".join(charts) + "</div>",
        f"<h2>At {result.dates[-1].isoformat()}</h2>",
        html_table(
            ["group", "start", *(_q_label(q).upper() for q in qs), f"places at {level}", "change"],
            rows,
        ),
        "".join(f"<p>{html.escape(n)}</p>" for n in result.notes),
        *_assumed_html(result),
    ]
    meta = {
        "mode": "stochastic (stock and flow)",
        "start": result.dates[0].isoformat(),
        "end": result.dates[-1].isoformat(),
        "runs": f"{spec.runs} ({spec.step}ly steps, seed {spec.seed})",
        "rate uncertainty": "on" if spec.rate_uncertainty else "off",
        "bands": "black line: recorded; dark line: median; shaded: P10-P80 and P10-P95",
    }
    return html_page(name or "Stochastic forecast", sections, meta=meta)


# --------------------------------------------------------------------------- back-test


def backtest_json(result: BacktestResult) -> dict[str, Any]:
    """A back-test as plain data."""
    names = [g.value for g in GROUPS] + ["total"]
    q = result.forecast.quantile_counts((0.1, 0.5, 0.95))

    def per(arr: np.ndarray) -> dict[str, float | None]:
        return {
            n: (None if not np.isfinite(arr[j]) else round(float(arr[j]), 3))
            for j, n in enumerate(names)
        }

    return {
        "mode": "backtest",
        "at": result.at.isoformat(),
        "end": result.dates[-1].isoformat(),
        "months": len(result.dates) - 1,
        "runs": result.forecast.spec.runs,
        "seed": result.forecast.spec.seed,
        "model": {
            "mae": per(result.model_errors.mae),
            "mape_percent": per(result.model_errors.mape),
            "end_error": per(result.model_errors.end_error),
            "coverage_p10_p95": per(result.coverage),
            "coverage_p10_p90": per(result.coverage_p90),
        },
        "naive_trend": {
            "mae": per(result.naive_errors.mae),
            "mape_percent": per(result.naive_errors.mape),
            "end_error": per(result.naive_errors.end_error),
        },
        "series": [
            {
                "date": d.isoformat(),
                **{
                    n: {
                        "actual": float(result.actual[t, j]),
                        "p10": float(q[0, t, j]),
                        "p50": float(q[1, t, j]),
                        "p95": float(q[2, t, j]),
                        "naive": round(float(result.naive[t, j]), 2),
                    }
                    for j, n in enumerate(names)
                },
            }
            for t, d in enumerate(result.dates)
        ],
        "notes": list(result.forecast.notes),
    }


def backtest_table(result: BacktestResult, *, name: str = "") -> str:
    """The terminal table of a back-test."""
    names = [g.value for g in GROUPS] + ["total"]
    out = io.StringIO()
    if name:
        out.write(f"{name}\n")
    out.write(
        f"Back-test: fitted on data to {result.at.isoformat()}, forecast to "
        f"{result.dates[-1].isoformat()} ({len(result.dates) - 1} months, "
        f"{_runs(result.forecast.spec.runs)})\n\n"
    )
    head = (
        f"{'group':<26}{'actual':>8}{'median':>8}{'naive':>8}"
        f"{'MAE':>8}{'naiveMAE':>10}{'MAPE%':>8}{'naive%':>8}{'cover':>7}"
    )
    out.write(head + "\n" + "-" * len(head) + "\n")
    med = result.forecast.quantile_counts((0.5,))[0]
    m, n = result.model_errors, result.naive_errors
    for j, name in enumerate(names):
        out.write(
            f"{name:<26}{result.actual[-1, j]:>8.0f}{med[-1, j]:>8.0f}{result.naive[-1, j]:>8.0f}"
            f"{m.mae[j]:>8.1f}{n.mae[j]:>10.1f}{m.mape[j]:>8.1f}{n.mape[j]:>8.1f}"
            f"{result.coverage[j]:>7.0%}\n"
        )
    better = int(np.sum(m.mae < n.mae))
    out.write(
        f"\nThe model's median beats the naive trend on mean absolute error for {better} of "
        f"{len(names)} series; 'cover' is the share of months inside P10-P95.\n"
    )
    for note in result.forecast.notes:
        out.write(f"  note: {note}\n")
    return out.getvalue()


def backtest_csv(result: BacktestResult) -> str:
    """CSV in long form: date, group, actual, p10, p50, p95, naive."""
    names = [g.value for g in GROUPS] + ["total"]
    q = result.forecast.quantile_counts((0.1, 0.5, 0.95))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["date", "group", "actual", "p10", "p50", "p95", "naive"])
    for t, d in enumerate(result.dates):
        for j, name in enumerate(names):
            w.writerow(
                [
                    d.isoformat(),
                    name,
                    f"{result.actual[t, j]:.0f}",
                    f"{q[0, t, j]:.0f}",
                    f"{q[1, t, j]:.0f}",
                    f"{q[2, t, j]:.0f}",
                    f"{result.naive[t, j]:.2f}",
                ]
            )
    return buf.getvalue()


def backtest_html(
    result: BacktestResult, *, name: str = "", history: Recorded | None = None
) -> str:
    """The HTML report of a back-test: fans with the actual counts as dots, after the
    recorded history the model was fitted on (``history``, as for :func:`stochastic_html`)."""
    title = f"Back-test: {name}" if name else "Forecast back-test"
    names = [_LABELS[g] for g in GROUPS] + ["All children in care"]
    q = result.forecast.quantile_counts((0.1, 0.5, 0.95))
    charts = []
    for j, name in enumerate(names):
        charts.append(
            fan_svg(
                result.dates,
                median=q[1, :, j],
                bands=[(q[0, :, j], q[2, :, j], "P10-P95")],
                history=None if history is None else (history[0], history[1][:, j]),
                actual=(result.dates, result.actual[:, j]),
                naive=result.naive[:, j],
                title=name,
                prefix=f"backtest-{j}",
            )
        )
    keys = [g.value for g in GROUPS] + ["total"]
    rows = [
        [
            k,
            f"{result.model_errors.mae[j]:.1f}",
            f"{result.naive_errors.mae[j]:.1f}",
            f"{result.model_errors.mape[j]:.1f}",
            f"{result.naive_errors.mape[j]:.1f}",
            f"{result.coverage[j]:.0%}",
        ]
        for j, k in enumerate(keys)
    ]
    sections = [
        _warnings(result.forecast.spec.runs, "P10-P95"),
        '<div class="charts">' + "".join(charts) + "</div>",
        html_table(["series", "MAE", "naive MAE", "MAPE %", "naive MAPE %", "P10-P95 cover"], rows),
        "<p>Dots: what happened. Dashed: a straight line through the last months before the "
        "cut-off. Line and band: the model's median and P10-P95.</p>",
    ]
    meta = {
        "mode": "back-test",
        "fitted on data to": result.at.isoformat(),
        "tested to": result.dates[-1].isoformat(),
        "runs": str(result.forecast.spec.runs),
    }
    return html_page(title, sections, meta=meta)


# --------------------------------------------------------------------------- rolling back-test


def _pct(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 2)


def rolling_json(result: RollingBacktest) -> dict[str, Any]:
    """A rolling back-test as plain data: per origin and summarised (DfE scorecard style)."""
    names = [g.value for g in GROUPS] + ["total"]
    cover = result.coverage()
    summary: dict[str, Any] = {}
    for months in (12, 24):
        total, by_type, n = result.mean_absolute_error(months)
        summary[f"{months}_months"] = {
            "mean_absolute_percent_error_total": _pct(total),
            "mean_absolute_percent_error_by_type": _pct(by_type),
            "origins": n,
        }
    summary["coverage_p10_p90"] = {n: round(float(cover[j]), 3) for j, n in enumerate(names)}
    origins = []
    for i, r in enumerate(result.results):
        row: dict[str, Any] = {
            "at": r.at.isoformat(),
            "prior_weight": result.prior_weights[i],
            "fit_months": result.fit_months[i],
            **_tuning_keys(result.tunings[i] if result.tunings else None),
            "entry_discount": {
                stream: d for stream, d in zip(STREAMS, r.entry_discount, strict=True)
            },
            "hazard_discount": {"exits": r.hazard_discount[0], "moves": r.hazard_discount[1]},
            "months_tested": len(r.dates) - 1,
            "coverage_p10_p90": {
                n: round(float(r.coverage_p90[j]), 3) for j, n in enumerate(names)
            },
        }
        for months in (12, 24):
            err = r.error_at(months)
            row[f"percent_error_{months}_months"] = (
                None if err is None else {n: _pct(float(err[j])) for j, n in enumerate(names)}
            )
        origins.append(row)
    return {
        "mode": "rolling_backtest",
        "every_months": result.every_months,
        "runs": result.results[0].forecast.spec.runs,
        "seed": result.results[0].forecast.spec.seed,
        "summary": summary,
        "origins": origins,
    }


def _tuning_keys(tuning: Tuning | None) -> dict[str, Any]:
    """The level-of-entries window, the averaged candidates and (when chosen) the rates'
    spread at an origin."""
    if tuning is None:
        return {}
    keys: dict[str, Any] = {
        "entry_months": tuning.entry_months,
        "averaged": [
            {"prior_weight": w, "fit_months": m, "entry_months": e} for w, m, e in tuning.members
        ],
    }
    if tuning.spread_scores:  # rate_spread = "auto": the spread chosen there
        keys["rate_spread"] = tuning.rate_spread
    if tuning.band is not None:  # band_calibration = "auto": the band's scale there
        keys["band_calibration"] = tuning.band.summary()
    return keys


def rolling_table(result: RollingBacktest, *, name: str = "") -> str:
    """The terminal table of a rolling back-test."""
    out = io.StringIO()
    if name:
        out.write(f"{name}\n")
    out.write(
        f"Rolling back-test: {len(result.results)} origins every {result.every_months} months, "
        f"{_runs(result.results[0].forecast.spec.runs)} each\n\n"
    )
    head = (
        f"{'origin':<12}{'prior':>7}{'fit':>5}{'err12%':>9}{'type12%':>9}"
        f"{'err24%':>9}{'type24%':>9}{'P10-P90':>9}"
    )
    out.write(head + "\n" + "-" * len(head) + "\n")

    def cell(err: np.ndarray | None, total: bool) -> str:
        if err is None:
            return f"{'-':>9}"
        value = err[-1] if total else float(np.nanmean(np.abs(err[:-1])))
        return f"{value:>+9.1f}" if total else f"{value:>9.1f}"

    for i, r in enumerate(result.results):
        e12, e24 = r.error_at(12), r.error_at(24)
        out.write(
            f"{r.at.isoformat():<12}{result.prior_weights[i]:>7.0f}{result.fit_months[i]:>5}"
            f"{cell(e12, True)}{cell(e12, False)}{cell(e24, True)}{cell(e24, False)}"
            f"{r.coverage_p90[-1]:>9.0%}\n"
        )
    out.write("\n")
    for months in (12, 24):
        total, by_type, n = result.mean_absolute_error(months)
        if n:
            out.write(
                f"{months} months ahead ({n} origins): mean absolute error {total:.1f}% on the "
                f"total, {by_type:.1f}% by placement type (mean of the types)\n"
            )
    cover = result.coverage()
    out.write(
        f"P10-P90 cover (target 80% +- 10%): total {cover[-1]:.0%}, "
        + ", ".join(f"{g.value} {cover[j]:.0%}" for j, g in enumerate(GROUPS))
        + "\n"
    )
    out.write(
        "err: the median less the actual, in % of the actual; type: the mean absolute error "
        "of the four placement types; prior and fit: the prior weight (child-months) and "
        "fitting window (months) used at that origin.\n"
    )
    return out.getvalue()


def rolling_csv(result: RollingBacktest) -> str:
    """CSV in long form: origin, months ahead, group, percent error (median less actual)."""
    names = [g.value for g in GROUPS] + ["total"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["origin", "months_ahead", "group", "percent_error", "coverage_p10_p90"])
    for r in result.results:
        for months in (12, 24):
            err = r.error_at(months)
            if err is None:
                continue
            for j, n in enumerate(names):
                value = "" if not np.isfinite(err[j]) else f"{err[j]:.2f}"
                w.writerow([r.at.isoformat(), months, n, value, f"{r.coverage_p90[j]:.3f}"])
    return buf.getvalue()


def rolling_html(result: RollingBacktest, *, name: str = "") -> str:
    """The HTML report of a rolling back-test: the table of origins (no charts)."""
    title = f"Rolling back-test: {name}" if name else "Rolling forecast back-test"
    text = rolling_table(result).splitlines()
    body = "<pre>" + html.escape("\n".join(text)) + "</pre>"
    meta = {"mode": "rolling back-test", "origins": str(len(result.results))}
    return html_page(title, [body], meta=meta)
