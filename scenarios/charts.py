"""Charts and maps for the HTML reports, drawn by matplotlib as inline SVG.

Every figure is a :class:`matplotlib.figure.Figure` (no ``pyplot``, so no global state
and no display) saved as SVG with its text kept as text: the page has no scripts, fetches
nothing and opens offline, and the axis labels can be read and searched. Counts of children
are drawn on integer axes; shares on one 0-100 % axis, so that 10.1 % and 10.4 % look as
close as they are.

Maps draw an authority's outline (ONS boundaries), its neighbours, town names (GeoNames)
and points sized by beds. Their extent is the authority plus the points near it
(:func:`map_extent`): one home far away is marked at the edge, not allowed to shrink the
county to a speck; and a report gives every map the same extent, so that maps of different
scenarios can be compared at a glance.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MIN_RUNS_FOR_BAND",
    "Extent",
    "MapDot",
    "band_warning",
    "fan_svg",
    "intervals_svg",
    "map_extent",
    "map_svg",
    "to_svg",
]

#: Runs below which a P10-P90 band is not reported as one: with ``n`` runs about ``n / 10``
#: lie below P10, so with fewer than 20 runs fewer than two do, and the band's ends are the
#: lowest and highest runs (which move with every new run), not estimates of P10 and P90.
MIN_RUNS_FOR_BAND = 20

#: Okabe & Ito colour-blind-safe palette (as :data:`geography.maps.PALETTE`).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_GREY = "#555555"


def band_warning(runs: int, band: str = "P10-P90") -> str:
    """A warning sentence when ``runs`` are too few for ``band``; empty when they suffice."""
    if runs >= MIN_RUNS_FOR_BAND:
        return ""
    return (
        f"Only {runs} run{'s' if runs != 1 else ''}: the {band} band needs at least "
        f"{MIN_RUNS_FOR_BAND} runs (about two beyond each end). With fewer, its ends are the "
        f"lowest and highest runs, not P10 and P90: rerun with --runs {MIN_RUNS_FOR_BAND} "
        "or more before relying on the band."
    )


def to_svg(fig: Figure, prefix: str) -> str:
    """The figure as an inline ``<svg>`` element, its ``id`` values prefixed with ``prefix``.

    Text stays text (``svg.fonttype`` none), the metadata block is left out (no date stamp:
    the same data give the same bytes; no web address), and ids are made unique to the
    page: a page holds many figures and matplotlib numbers each one's ids from 1.
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": prefix}):
        # constrained layout already fits the figure: "tight" would draw it twice
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # the RDF block names matplotlib's web address: a report links to nothing
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    # SVG 2's plain href (every current browser): no xlink namespace, no address but SVG's
    text = text.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    text = text.replace("xlink:href=", "href=")
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", prefix)
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{safe}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{safe}-{m.group(1)})", text)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{safe}-{m.group(1)}"', text)


def _figure(width_in: float, height_in: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=96)
    fig.set_layout_engine("constrained")
    return fig


def _dates(ds: Sequence[dt.date]) -> np.ndarray:
    return np.array(ds, dtype="datetime64[D]")


def fan_svg(
    dates: Sequence[dt.date],
    *,
    median: np.ndarray,
    bands: Sequence[tuple[np.ndarray, np.ndarray, str]] = (),
    history: tuple[Sequence[dt.date], np.ndarray] | None = None,
    actual: tuple[Sequence[dt.date], np.ndarray] | None = None,
    naive: np.ndarray | None = None,
    title: str,
    ylabel: str = "children in care",
    prefix: str,
) -> str:
    """A fan chart: recorded history, the forecast's bands and median, on dated axes.

    Parameters
    ----------
    dates
        The forecast's dates (the first is the start, where history ends).
    median
        The central line.
    bands
        ``(low, high, label)`` drawn widest first as shaded areas.
    history
        What was recorded before the start (dates, counts): a solid black line.
    actual
        What happened after a back-test's cut-off (dates, counts): dots.
    naive
        A comparison line (dashed).
    title, ylabel
        The chart's title and the y axis's label (children are counted on whole numbers).
    prefix
        Unique to the page (see :func:`to_svg`).
    """
    import matplotlib.dates as mdates
    from matplotlib.ticker import MaxNLocator

    fig = _figure(5.4, 3.0)
    ax = fig.add_subplot()
    xs = _dates(dates)
    shades = ("#c6dbef", "#6baed6", "#2171b5")
    for i, (low, high, label) in enumerate(bands):
        ax.fill_between(xs, low, high, color=shades[i % 3], alpha=0.8, lw=0, label=label)
    if history is not None and len(history[0]):
        ax.plot(_dates(history[0]), history[1], color="#111111", lw=1.6, label="recorded")
    if naive is not None:
        ax.plot(xs, naive, color="#888888", ls="--", lw=1.2, label="naive trend")
    ax.plot(xs, median, color="#08306b", lw=2, label="median")
    if actual is not None:
        ax.plot(_dates(actual[0]), actual[1], "o", color="#d94801", ms=3, label="what happened")
    if history is not None and len(history[0]):
        ax.axvline(xs[0], color="#999999", lw=0.8, ls=":")
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_ylabel(ylabel)
    ax.set_xlabel("month")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)
    fig.legend(fontsize=7, loc="outside lower center", frameon=False, ncols=5)
    return to_svg(fig, prefix)


#: Axis label per measure unit.
_UNIT_AXIS = {
    "%": "per cent of children",
    "£": "£ a week",
    "children": "children",
    "placements": "placements",
}


def intervals_svg(
    names: Sequence[str],
    measures: Sequence[tuple[str, str, Sequence[tuple[float | None, float | None, float | None]]]],
    *,
    prefix: str,
) -> str:
    """What-if intervals: a panel per measure, a row per scenario (P10-P90 bar, P50 dot).

    Parameters
    ----------
    names
        Scenario names, top to bottom.
    measures
        ``(label, unit, [(p10, p50, p90) per scenario])``. Shares (unit ``%``) are drawn
        on one 0-100 axis; other measures on an axis from 0, with whole-number ticks for
        counts. Every axis is labelled with its unit.
    prefix
        Unique to the page (see :func:`to_svg`).
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    n = len(measures)
    fig = _figure(7.0, 0.42 * len(names) * n + 0.75 * n + 0.3)
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    ys = np.arange(len(names))[::-1]
    for ax, (label, unit, rows) in zip(axes, measures, strict=True):
        hi = 0.0
        for i, (p10, p50, p90) in enumerate(rows):
            colour = _GREY if i == 0 else PALETTE[(i - 1) % len(PALETTE)]
            if p10 is None or p50 is None or p90 is None:
                continue
            hi = max(hi, p90)
            ax.plot(
                [p10, p90], [ys[i], ys[i]], color=colour, lw=6, alpha=0.35, solid_capstyle="butt"
            )
            ax.plot([p50], [ys[i]], "o", color=colour, ms=6)
            ax.annotate(
                _value(p50, unit),
                (p90, ys[i]),
                xytext=(5, -3),
                textcoords="offset points",
                fontsize=8,
            )
        if unit == "%":
            ax.set_xlim(0, 100)
        else:
            ax.set_xlim(0, max(hi * 1.15, 1.0))
            if unit != "£":
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            else:
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"£{v:,.0f}"))
        ax.set_yticks(ys, [s[:30] for s in names], fontsize=8)
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set_title(label, fontsize=10, loc="left")
        ax.set_xlabel(_UNIT_AXIS.get(unit, unit), fontsize=8)
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    return to_svg(fig, prefix)


def _value(v: float, unit: str) -> str:
    if unit == "%":
        return f"{v:.1f}%"
    if unit == "£":
        return f"£{v:,.0f}"
    return f"{round(v):,}"


# --------------------------------------------------------------------------- maps


@dataclass(frozen=True, slots=True)
class MapDot:
    """A point on a map: grid metres, a size (beds or children) and a legend group."""

    easting: float
    northing: float
    size: int
    group: str

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"MapDot.size {self.size}: expected 0 or more")
        if not (np.isfinite(self.easting) and np.isfinite(self.northing)):
            raise ValueError("MapDot: expected finite grid coordinates")


@dataclass(frozen=True, slots=True)
class Extent:
    """A map's frame in grid metres."""

    e0: float
    e1: float
    n0: float
    n1: float

    def __post_init__(self) -> None:
        if not (self.e1 > self.e0 and self.n1 > self.n0):
            raise ValueError("Extent: expected e1 > e0 and n1 > n0")

    def contains(self, e: float, n: float) -> bool:
        """Whether a point is inside the frame."""
        return self.e0 <= e <= self.e1 and self.n0 <= n <= self.n1


def map_extent(area: str, dots: Sequence[MapDot], *, reach: float = 0.25) -> Extent:
    """The frame of a map of ``area``: its outline, grown to take in the dots near it.

    A dot counts as near when it lies within ``reach`` times the outline's larger side of
    the outline's box; dots further away (one home in another region) do not move the
    frame and are marked at its edge by :func:`map_svg`. Pass the dots of every map of a
    report to give them all this one extent.
    """
    from geography.maps import boundaries

    (_, rings), _ = boundaries(area, neighbours=False)
    e = np.concatenate([r[:, 0] for r in rings])
    n = np.concatenate([r[:, 1] for r in rings])
    e0, e1, n0, n1 = float(e.min()), float(e.max()), float(n.min()), float(n.max())
    side = max(e1 - e0, n1 - n0, 1000.0)
    near = Extent(e0 - reach * side, e1 + reach * side, n0 - reach * side, n1 + reach * side)
    for d in dots:
        if near.contains(d.easting, d.northing):
            e0, e1 = min(e0, d.easting), max(e1, d.easting)
            n0, n1 = min(n0, d.northing), max(n1, d.northing)
    margin = 0.04 * max(e1 - e0, n1 - n0)
    return Extent(e0 - margin, e1 + margin, n0 - margin, n1 + margin)


def map_svg(
    area: str,
    dots: Sequence[MapDot],
    *,
    extent: Extent,
    title: str,
    size_label: str,
    prefix: str,
    max_towns: int = 14,
    biggest: int | None = None,
) -> str:
    """A map of ``area`` with its neighbours, town names and dots sized by ``size``.

    ``biggest``: the size drawn as the largest dot (default: this map's largest); give
    maps that are compared the same value, so that a dot's area means the same on each.

    Dots outside ``extent`` are drawn as arrows at the nearest edge, and counted in the
    legend ("off the map"). Town names are placed largest town first and skipped where they
    would overlap a name already placed.
    """
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    from geography.maps import ATTRIBUTION, boundaries, scale_bar_miles
    from geography.places import PLACES_ATTRIBUTION, towns_in

    (main_name, main_rings), others = boundaries(area)
    width = 6.2
    height = width * (extent.n1 - extent.n0) / (extent.e1 - extent.e0)
    fig = _figure(width, max(2.5, min(height, 8.0)) + 0.6)
    ax = fig.add_subplot()

    def patch(rings: Sequence[np.ndarray], **kw: object) -> PathPatch:
        verts = np.concatenate([np.vstack([r, r[:1]]) for r in rings])
        codes = np.concatenate(
            [
                [MplPath.MOVETO] + [MplPath.LINETO] * (len(r) - 1) + [MplPath.CLOSEPOLY]
                for r in rings
            ]
        )
        return PathPatch(MplPath(verts, codes), **kw)

    for _name, rings in others:
        ax.add_patch(patch(rings, facecolor="#ececec", edgecolor="#a0a0a0", lw=0.6))
    ax.add_patch(patch(main_rings, facecolor="#dbe7f5", edgecolor="#223344", lw=1.2))
    ax.set_xlim(extent.e0, extent.e1)
    ax.set_ylim(extent.n0, extent.n1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])

    # town names, biggest first, none overlapping another (boxes in grid metres)
    span = extent.e1 - extent.e0
    char_w, text_h = span / 95, span / 55
    placed: list[tuple[float, float, float, float]] = []
    for town in towns_in(extent.e0, extent.e1, extent.n0, extent.n1):
        if len(placed) >= max_towns:
            break
        box = (
            town.easting + span / 160,
            town.easting + span / 160 + char_w * len(town.name),
            town.northing - text_h / 2,
            town.northing + text_h / 2,
        )
        if box[1] > extent.e1 or any(
            box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3] for b in placed
        ):
            continue
        placed.append(box)
        ax.plot([town.easting], [town.northing], "s", color="#333333", ms=2.5, zorder=3)
        ax.annotate(
            town.name,
            (town.easting, town.northing),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize=7,
            color="#333333",
            zorder=3,
        )

    groups = list(dict.fromkeys(d.group for d in dots))
    colour = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    biggest = biggest or max((d.size for d in dots), default=1) or 1
    off = 0
    for g in groups:
        inside = [d for d in dots if d.group == g and extent.contains(d.easting, d.northing)]
        outside = [d for d in dots if d.group == g and not extent.contains(d.easting, d.northing)]
        off += len(outside)
        total = sum(d.size for d in dots if d.group == g)
        ax.scatter(
            [d.easting for d in inside],
            [d.northing for d in inside],
            s=[18 + 160 * d.size / biggest for d in inside],
            color=colour[g],
            alpha=0.75,
            edgecolors="white",
            linewidths=0.6,
            zorder=4,
            label=f"{g} ({total:,} {size_label})",
        )
        for d in outside:
            e = min(max(d.easting, extent.e0), extent.e1)
            n = min(max(d.northing, extent.n0), extent.n1)
            ax.plot([e], [n], marker=_edge_marker(d, extent), color=colour[g], ms=8, zorder=5)
    if off:
        ax.plot([], [], ">", color=_GREY, label=f"{off} off the map (arrow: direction)")
    scale_miles = scale_bar_miles(span)
    x0 = extent.e0 + span * 0.03
    y0 = extent.n0 + (extent.n1 - extent.n0) * 0.04
    ax.plot([x0, x0 + scale_miles * 1609.344], [y0, y0], color="#222222", lw=2)
    ax.annotate(
        f"{scale_miles:g} miles", (x0, y0), xytext=(0, 4), textcoords="offset points", fontsize=7
    )
    ax.set_title(title, fontsize=11, loc="left")
    if dots:
        ax.legend(fontsize=7, loc="upper right", framealpha=0.85)
    ax.set_xlabel(
        f"{main_name}\n{ATTRIBUTION}\n{PLACES_ATTRIBUTION}", fontsize=5.5, color="#666666"
    )
    return to_svg(fig, prefix)


def _edge_marker(dot: MapDot, extent: Extent) -> str:
    """The arrow that points from the map's edge towards a dot beyond it."""
    if dot.easting > extent.e1:
        return ">"
    if dot.easting < extent.e0:
        return "<"
    return "^" if dot.northing > extent.n1 else "v"
