"""Maps without tiles: an authority, region or England drawn as SVG, with points on it.

Boundaries are the ONS super-generalised (200 m) polygons shipped in ``geography/data``,
projected to the British National Grid so that distances on the page are true to scale.
Works offline; the output is a self-contained SVG string.

Examples
--------
>>> from geography.maps import MapPoint, render_svg
>>> svg = render_svg("Thurrock", [MapPoint.at("RM17 5RW", label="placement")])
>>> svg.startswith("<svg")
True
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from typing import Any

import numpy as np

from geography._data import read_text
from geography.authorities import (
    Authority,
    UnknownAuthorityError,
    adjoining,
    authorities_in_region,
    regions,
    resolve_authority,
)
from geography.errors import GeographyError
from geography.postcodes import locate

__all__ = ["MapPoint", "Shape", "boundaries", "render_svg"]

ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right."
)
#: Colour-blind-safe palette (Okabe & Ito), one colour per point group in order of appearance.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

Ring = np.ndarray  # (k, 2) eastings/northings
#: A named boundary: (name, rings in British National Grid metres).
Shape = tuple[str, tuple[Ring, ...]]


@dataclass(frozen=True, slots=True)
class MapPoint:
    """A point to draw: British National Grid metres, a label and a group (colour)."""

    easting: float
    northing: float
    label: str = ""
    group: str = ""

    @classmethod
    def at(cls, postcode: str, *, label: str = "", group: str = "") -> MapPoint:
        """A point at a postcode (a sector or outcode is placed at its centre)."""
        loc = locate(postcode, approximate=True)
        if loc.grid != "OSGB36":
            raise ValueError(f"map point {label or postcode!r}: only Great Britain can be drawn")
        return cls(loc.easting, loc.northing, label, group)

    @classmethod
    def from_lat_lon(cls, lat: float, lon: float, *, label: str = "", group: str = "") -> MapPoint:
        """A point at a WGS84 latitude and longitude."""
        e, n = _to_grid(np.array([lon]), np.array([lat]))
        return cls(float(e[0]), float(n[0]), label, group)


@cache
def _transformer() -> Any:
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _to_grid(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e, n = _transformer().transform(lon, lat)
    return np.asarray(e), np.asarray(n)


@cache
def _shapes(layer: str) -> dict[str, tuple[str, tuple[Ring, ...]]]:
    """code -> (name, rings in grid metres) for a boundary layer (utla, rgn, ctry)."""
    data = json.loads(read_text(f"england_{layer}_2025.geojson.gz"))
    shapes: dict[str, tuple[str, tuple[Ring, ...]]] = {}
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        rings: list[Ring] = []
        for polygon in polygons:
            for ring in polygon:
                xy = np.asarray(ring, dtype=np.float64)
                e, n = _to_grid(xy[:, 0], xy[:, 1])
                rings.append(np.column_stack([e, n]))
        props = feature["properties"]
        shapes[props["code"]] = (props["name"], tuple(rings))
    return shapes


def _region_shape(region: str) -> tuple[str, tuple[Ring, ...]]:
    wanted = region.casefold()
    for name, rings in _shapes("rgn").values():
        if name.casefold() == wanted:
            return name, rings
    raise UnknownAuthorityError(f"no boundary for region {region!r}")  # pragma: no cover


def _resolve_area(area: str | Authority) -> tuple[str, str, Authority | None]:
    """(kind, name, authority) where kind is 'authority', 'region' or 'england'."""
    if isinstance(area, Authority):
        return "authority", area.name, area
    text = area.strip()
    if text.casefold() == "england":
        return "england", "England", None
    for region in regions():
        if region.casefold() == text.casefold():
            return "region", region, None
    try:
        authority = resolve_authority(text)
    except UnknownAuthorityError as exc:
        raise UnknownAuthorityError(
            f"{exc} (or a region: {', '.join(regions())}; or England)"
        ) from None
    return "authority", authority.name, authority


def _path(rings: Iterable[Ring], transform: Any) -> str:
    parts = []
    for ring in rings:
        x, y = transform(ring[:, 0], ring[:, 1])
        coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
        parts.append(f"M{coords}Z")
    return " ".join(parts)


def render_svg(
    area: str | Authority,
    points: Sequence[MapPoint] = (),
    *,
    width: int = 800,
    title: str | None = None,
    neighbours: bool = True,
    point_labels: bool = True,
    extent: tuple[float, float, float, float] | None = None,
) -> str:
    """Draw an authority, region or ``"England"`` with points, as a standalone SVG.

    Parameters
    ----------
    area
        An authority (ONS code, DfE number, name or :class:`Authority`), a region name or
        ``"England"``.
    points
        Points to draw; each group gets its own colour and a legend entry.
    width
        Width of the drawing in pixels; the height follows the area's shape.
    title
        Title at the top (default: the area's name).
    neighbours
        For an authority, also draw the adjoining authorities in grey for context.
    point_labels
        Write each point's label beside it: to its right where that is free, else at the
        first free place around it, so that no two labels overlap; a label with no free
        place is left off (the point keeps its tooltip).
    extent
        ``(east_min, east_max, north_min, north_max)`` in British National Grid metres: draw
        only this window (zoomed to a locality; boundaries are clipped to it). Default: the
        whole area and every point.

    Returns
    -------
    str
        The SVG document.
    """
    if not 100 <= width <= 10_000:
        raise GeographyError(f"map width {width}: expected 100 to 10000 pixels")
    kind, name, authority = _resolve_area(area)
    utla = _shapes("utla")
    context: list[tuple[str, tuple[Ring, ...]]] = []
    inner: list[tuple[str, tuple[Ring, ...]]] = []
    if kind == "authority":
        assert authority is not None
        main = utla[authority.ons_code]
        if neighbours:
            context = [utla[a.ons_code] for a in sorted(adjoining(authority), key=str)]
    elif kind == "region":
        main = _region_shape(name)
        inner = [utla[a.ons_code] for a in authorities_in_region(name)]
    else:
        main = next(iter(_shapes("ctry").values()))
        inner = list(_shapes("rgn").values())

    if extent is not None:
        e0, e1, n0, n1 = (float(x) for x in extent)
        if not (e1 > e0 and n1 > n0):
            raise GeographyError("map extent: expected east_min < east_max, north_min < north_max")
    else:
        all_e = np.concatenate([r[:, 0] for r in main[1]] + [np.array([p.easting]) for p in points])
        all_n = np.concatenate(
            [r[:, 1] for r in main[1]] + [np.array([p.northing]) for p in points]
        )
        e0, e1, n0, n1 = all_e.min(), all_e.max(), all_n.min(), all_n.max()
    span = max(e1 - e0, n1 - n0, 1000.0)
    margin = 0.05 * span
    e0, e1, n0, n1 = e0 - margin, e1 + margin, n0 - margin, n1 + margin
    header = 40
    footer = 34
    scale = width / (e1 - e0)
    height = round(float(n1 - n0) * scale) + header + footer

    def transform(e: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (e - e0) * scale, header + (n1 - n) * scale

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" role="img">',
        f"<title>{escape(title or name)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<clipPath id="map"><rect x="0" y="{header}" width="{width}" '
        f'height="{height - header - footer}"/></clipPath>',
        '<g clip-path="url(#map)">',
    ]
    for other_name, rings in context:
        out.append(
            f'<path d="{_path(rings, transform)}" fill="#e2e2e2" stroke="#9a9a9a" '
            f'stroke-width="0.8" fill-rule="evenodd"><title>{escape(other_name)}</title></path>'
        )
    out.append(
        f'<path d="{_path(main[1], transform)}" fill="#dbe7f5" stroke="#234" '
        f'stroke-width="1.5" fill-rule="evenodd"><title>{escape(main[0])}</title></path>'
    )
    for inner_name, rings in inner:
        out.append(
            f'<path d="{_path(rings, transform)}" fill="none" stroke="#8899aa" '
            f'stroke-width="0.6"><title>{escape(inner_name)}</title></path>'
        )
    groups = list(dict.fromkeys(p.group for p in points))
    colour = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    placed: list[tuple[float, float, float, float]] = []
    xy = [transform(np.array([p.easting]), np.array([p.northing])) for p in points]
    # Every point's dot is an obstacle for every label, so that no label hides a dot.
    dots = [(float(x[0]) - 4, float(y[0]) - 4, float(x[0]) + 4, float(y[0]) + 4) for x, y in xy]
    for p, (x, y) in zip(points, xy, strict=True):
        fill = colour[p.group]
        tip = escape(p.label or p.group)
        out.append(
            f'<circle cx="{x[0]:.1f}" cy="{y[0]:.1f}" r="4" fill="{fill}" stroke="#fff" '
            f'stroke-width="1"><title>{tip}</title></circle>'
        )
    if point_labels:
        for p, (x, y) in zip(points, xy, strict=True):
            if not p.label:
                continue
            spot = _free_label_spot(float(x[0]), float(y[0]), p.label, placed, dots)
            if spot is None:
                continue
            tx, ty, anchor = spot
            extra = "" if anchor == "start" else f' text-anchor="{anchor}"'
            out.append(
                f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="11"{extra} '
                f'fill="#222" stroke="#fff" stroke-width="3" paint-order="stroke">'
                f"{escape(p.label)}</text>"
            )
    out.append("</g>")
    out.append(
        f'<text x="10" y="26" font-size="18" font-weight="bold" fill="#123">'
        f"{escape(title or name)}</text>"
    )
    legend_x = width - 10
    for g in reversed([g for g in groups if g]):
        text = escape(g)
        legend_x -= 14 + 7 * len(g)
        out.append(f'<circle cx="{legend_x:.0f}" cy="16" r="5" fill="{colour[g]}"/>')
        out.append(f'<text x="{legend_x + 8:.0f}" y="20" font-size="12">{text}</text>')
        legend_x -= 6
    scale_miles = scale_bar_miles(span)
    bar = scale_miles * 1609.344 * scale
    bar_y = height - 20
    out.append(
        f'<line x1="10" y1="{bar_y}" x2="{10 + bar:.1f}" y2="{bar_y}" stroke="#222" '
        f'stroke-width="2"/><text x="{14 + bar:.1f}" y="{bar_y + 4}" font-size="10">'
        f"{scale_miles:g} miles</text>"
    )
    out.append(
        f'<text x="{width - 6}" y="{height - 6}" font-size="8" fill="#666" '
        f'text-anchor="end">{escape(ATTRIBUTION)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


#: Where a label may go around its point, in order of preference: (dx, dy of the baseline,
#: text-anchor). Right, left, above, below, then the diagonals and further out.
_LABEL_SPOTS: tuple[tuple[float, float, str], ...] = (
    (6, 4, "start"),
    (-6, 4, "end"),
    (0, -8, "middle"),
    (0, 16, "middle"),
    (6, -6, "start"),
    (-6, -6, "end"),
    (6, 14, "start"),
    (-6, 14, "end"),
    (14, -14, "start"),
    (-14, -14, "end"),
    (14, 22, "start"),
    (-14, 22, "end"),
)


def _free_label_spot(
    x: float,
    y: float,
    label: str,
    placed: list[tuple[float, float, float, float]],
    dots: list[tuple[float, float, float, float]],
) -> tuple[float, float, str] | None:
    """The first spot around ``(x, y)`` where ``label`` overlaps no placed label and no other
    point's dot (then recorded in ``placed``), or ``None``.

    The box is estimated from the font size (11 px: about 6.2 px a character, 11 px high),
    which is what a sans-serif face averages; a little generous, so near misses stay apart.
    """
    w, h = 6.2 * len(label) + 2, 12.0
    for dx, dy, anchor in _LABEL_SPOTS:
        tx, ty = x + dx, y + dy
        left = tx if anchor == "start" else (tx - w if anchor == "end" else tx - w / 2)
        box = (left, ty - h + 2, left + w, ty + 2)
        own = (x - 4, y - 4, x + 4, y + 4)
        if any(_overlap(box, b) for b in placed) or any(_overlap(box, d) for d in dots if d != own):
            continue
        placed.append(box)
        return tx, ty, anchor
    return None


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def scale_bar_miles(span_metres: float) -> float:
    """The scale bar's length: the largest round step of miles within a fifth of the span."""
    target = span_metres / 1609.344 / 5
    best = 0.5
    for step in (0.5, 1, 2, 5, 10, 20, 50, 100, 200):
        if step <= target:
            best = step
    return float(best)


def boundaries(area: str | Authority, *, neighbours: bool = True) -> tuple[Shape, list[Shape]]:
    """The outline of an authority, region or England, and the shapes drawn around or in it.

    For an authority the second item is its adjoining authorities (when ``neighbours``);
    for a region its authorities; for England its regions. Rings are in British National
    Grid metres, for plotting libraries that draw the map themselves.
    """
    kind, name, authority = _resolve_area(area)
    utla = _shapes("utla")
    if kind == "authority":
        assert authority is not None
        others = (
            [utla[a.ons_code] for a in sorted(adjoining(authority), key=str)] if neighbours else []
        )
        return utla[authority.ons_code], others
    if kind == "region":
        return _region_shape(name), [utla[a.ons_code] for a in authorities_in_region(name)]
    return next(iter(_shapes("ctry").values())), list(_shapes("rgn").values())
