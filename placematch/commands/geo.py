"""``placematch geo``: postcodes, distances, schools, authorities and maps, offline."""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
from pathlib import Path
from typing import Any

from geography.errors import GeographyError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``geo`` sub-command and its own sub-commands."""
    parser = subparsers.add_parser(
        "geo",
        help="look up postcodes, distances, schools and authorities; draw maps (offline)",
        description=(
            "Offline geography from the ONS postcode directory (Nov 2025) and DfE data: "
            "postcode lookup, SSDA903 PL_DISTANCE, schools by URN, authorities, SVG maps."
        ),
    )
    geo = parser.add_subparsers(dest="geo_command", metavar="GEO_COMMAND", required=True)

    p = geo.add_parser("locate", help="where a postcode is: grid reference, lat/lon, authority")
    p.add_argument(
        "postcode",
        nargs="+",
        help="a postcode as typed, e.g. 'cm11aa' or CM1 1AA (quotes not needed)",
    )
    p.add_argument(
        "--approximate",
        action="store_true",
        help="accept a sector ('CM1 1') or outcode ('CM1') and answer with its centre",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_locate)

    p = geo.add_parser(
        "distance", help="straight-line miles between two postcodes (SSDA903 PL_DISTANCE)"
    )
    p.add_argument(
        "postcodes",
        nargs="+",
        metavar="POSTCODE",
        help="two postcodes, e.g. CM1 1AA RM17 5RW (quotes not needed)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_distance)

    p = geo.add_parser("school", help="a school by URN")
    p.add_argument("urn")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_school)

    p = geo.add_parser("schools-near", help="open schools near a postcode, nearest first")
    p.add_argument("postcode", nargs="+", help="a postcode, e.g. CM1 1AA (quotes not needed)")
    p.add_argument("--phase", help="Primary, Secondary, All-through or '16 plus'")
    p.add_argument("--age", type=int, help="only schools that teach this age")
    p.add_argument("--radius", type=float, default=5.0, help="miles (default 5)")
    p.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_schools_near)

    p = geo.add_parser("authority", help="an authority by ONS code, DfE number or name")
    p.add_argument("authority")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_authority)

    p = geo.add_parser("map", help="draw an authority, region or England as SVG, with points")
    p.add_argument("area", help="authority (code, DfE number, name), region name, or England")
    p.add_argument(
        "--points",
        help="CSV of points: a 'postcode' column or 'lat'+'lon' or 'easting'+'northing'; "
        "optional 'label' and 'group' (colour)",
    )
    p.add_argument("--out", required=True, help="SVG file to write")
    p.add_argument("--title", help="title (default: the area's name)")
    p.add_argument("--width", type=int, default=800, help="width in pixels (default 800)")
    p.add_argument("--no-labels", action="store_true", help="do not write point labels")
    p.set_defaults(func=_map)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


#: An inward code on its own ("1AA"): the second half of a postcode typed without quotes.
_INWARD = re.compile(r"^[0-9][A-Za-z]{2}$")


def split_postcodes(words: list[str], count: int) -> list[str]:
    """Group command-line words into ``count`` postcodes.

    A user types ``CM1 1AA RM17 5RW`` without quotes, so the shell hands over four words. An
    inward code on its own (a digit and two letters) joins the word before it; anything else
    starts a new postcode. One postcode is all the words joined, so that a sector typed as
    ``CM1 1`` still reaches ``locate``. Each postcode is then checked, and named, by ``locate``.
    """
    if count == 1:
        return [" ".join(words)]
    groups: list[str] = []
    for word in (w for text in words for w in text.split()):
        if groups and _INWARD.match(word) and " " not in groups[-1]:
            groups[-1] = f"{groups[-1]} {word}"
        else:
            groups.append(word)
    if len(groups) != count:
        shown = ", ".join(f"'{g}'" for g in groups) or "none"
        raise ValueError(
            f"expected {count} postcodes, such as CM1 1AA RM17 5RW; got {len(groups)}: {shown}"
        )
    return groups


def _locate(args: argparse.Namespace) -> int:
    from geography.postcodes import locate

    (text,) = split_postcodes(args.postcode, 1)
    loc = locate(text, approximate=args.approximate)
    if args.json:
        _print_json(loc.to_dict())
        return 0
    rows = [
        ("postcode", loc.postcode + (f"  (approximate: {loc.precision} centre)" * loc.approximate)),
        ("lat, lon", f"{loc.lat:.6f}, {loc.lon:.6f}  (WGS84)"),
        ("easting, northing", f"{loc.easting:.0f}, {loc.northing:.0f}  ({loc.grid})"),
        ("district", f"{loc.lad_name} ({loc.lad_code})"),
        ("authority", str(loc.authority) if loc.authority else f"none ({loc.country})"),
        ("region", loc.authority.region if loc.authority else loc.country),
    ]
    _print_rows(rows)
    return 0


def _print_rows(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def _distance(args: argparse.Namespace) -> int:
    from geography.distance import distance_miles, great_circle_miles
    from geography.postcodes import locate

    text_a, text_b = split_postcodes(args.postcodes, 2)
    a, b = locate(text_a), locate(text_b)
    great_circle = great_circle_miles(a.lat, a.lon, b.lat, b.lon)
    try:
        exact: float | None = distance_miles(a, b)
    except GeographyError:
        exact = None  # Irish Grid to British grid: no 903 distance
    miles = None if exact is None else float(round(exact, 1))
    if args.json:
        _print_json(
            {
                "from": a.postcode,
                "to": b.postcode,
                "miles": miles,
                "miles_unrounded": exact,
                "great_circle_miles": great_circle,
                "method": "SSDA903 PL_DISTANCE: sqrt(dE^2 + dN^2) / 1000 / 1.6093",
            }
        )
        return 0
    if miles is None:
        print(
            f"{a.postcode} -> {b.postcode}: no 903 grid distance (Northern Ireland and Great "
            f"Britain use different grids); great-circle {great_circle:.1f} miles"
        )
    else:
        print(f"{a.postcode} -> {b.postcode}: {miles:.1f} miles (SSDA903 PL_DISTANCE)")
    return 0


def _school_rows(s: Any) -> list[tuple[str, str]]:
    ages = f"{s.age_low}-{s.age_high}" if s.age_low is not None else "unknown"
    return [
        ("URN", str(s.urn)),
        ("name", s.name),
        ("phase", f"{s.phase}, ages {ages}"),
        ("type", f"{s.school_type}, {s.gender}, {s.status}"),
        ("postcode", s.postcode or "unknown"),
        ("lat, lon", f"{s.lat:.5f}, {s.lon:.5f}" if s.lat is not None else "unknown"),
        ("authority", str(s.authority) if s.authority else "unknown"),
    ]


def _school(args: argparse.Namespace) -> int:
    from geography.schools import school

    s = school(args.urn)
    if args.json:
        _print_json(s.to_dict())
    else:
        _print_rows(_school_rows(s))
    return 0


def _schools_near(args: argparse.Namespace) -> int:
    from geography.schools import schools_near

    (text,) = split_postcodes(args.postcode, 1)
    found = schools_near(
        text,
        phase=args.phase,
        age=args.age,
        radius_miles=args.radius,
        limit=args.limit,
    )
    if args.json:
        _print_json([{**s.to_dict(), "miles": round(m, 2)} for s, m in found])
        return 0
    if not found:
        print(f"no open schools within {args.radius:g} miles" if args.limit else "none (--limit 0)")
        return 0
    for s, m in found:
        ages = f"{s.age_low}-{s.age_high}" if s.age_low is not None else "?"
        print(f"{m:5.1f} mi  {s.urn:>7}  {s.phase:<11} {ages:>5}  {s.name} ({s.postcode})")
    return 0


def _authority(args: argparse.Namespace) -> int:
    from geography.authorities import adjoining, la_type, resolve_authority

    a = resolve_authority(args.authority)
    neighbours = sorted(adjoining(a), key=lambda x: x.name)
    if args.json:
        _print_json(
            {
                "ons_code": a.ons_code,
                "dfe_code": a.dfe_code,
                "name": a.name,
                "region": a.region,
                "type": la_type(a),
                "adjoining": [
                    {"ons_code": n.ons_code, "dfe_code": n.dfe_code, "name": n.name}
                    for n in neighbours
                ],
            }
        )
        return 0
    _print_rows(
        [
            ("name", a.name),
            ("ONS code", a.ons_code),
            ("DfE number", a.dfe_code or "none"),
            ("type", la_type(a).replace("_", " ")),
            ("region", a.region),
            ("adjoining", ", ".join(n.name for n in neighbours) or "none"),
        ]
    )
    return 0


def read_points(path: str | Path) -> list[Any]:
    """Read map points from a CSV file; errors name the file, line and column."""
    from geography.maps import MapPoint

    points: list[MapPoint] = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = {c.strip().lower() for c in reader.fieldnames or []}
        if not (
            {"postcode"} <= columns
            or {"lat", "lon"} <= columns
            or {"easting", "northing"} <= columns
        ):
            raise GeographyError(
                f"{path}: expected a 'postcode' column, or 'lat' and 'lon', or 'easting' and "
                "'northing'"
            )
        for line, raw in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            label, group = row.get("label", ""), row.get("group", "")
            try:
                if row.get("easting") and row.get("northing"):
                    e, n = float(row["easting"]), float(row["northing"])
                    if not (math.isfinite(e) and math.isfinite(n)):
                        raise ValueError("not finite")
                    points.append(MapPoint(e, n, label, group))
                elif row.get("lat") and row.get("lon"):
                    lat, lon = float(row["lat"]), float(row["lon"])
                    points.append(MapPoint.from_lat_lon(lat, lon, label=label, group=group))
                elif row.get("postcode"):
                    points.append(MapPoint.at(row["postcode"], label=label, group=group))
                else:
                    raise ValueError("empty")
            except GeographyError as exc:
                # The message may echo a postcode: keep only its type, name the row instead.
                raise GeographyError(
                    f"{path}, line {line}: the point's location could not be found "
                    f"({type(exc).__name__})"
                ) from None
            except ValueError:
                raise GeographyError(
                    f"{path}, line {line}: expected a postcode, or numeric lat/lon or "
                    "easting/northing"
                ) from None
    return points


def _map(args: argparse.Namespace) -> int:
    from geography.maps import render_svg

    points = read_points(args.points) if args.points else []
    svg = render_svg(
        args.area,
        points,
        width=args.width,
        title=args.title,
        point_labels=not args.no_labels,
    )
    out = Path(args.out)
    out.write_text(svg, encoding="utf-8")
    print(f"wrote {out} ({len(points)} points)")
    return 0
