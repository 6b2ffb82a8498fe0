"""``placematch export-903 DIR --assignment FILE --out DIR``: placements as SSDA903 episodes."""

from __future__ import annotations

import argparse
import json
import sys

from matcher.casefolder import load_case_folder
from placematch.commands import _dates
from placematch.commands._args import return_date
from placematch.commands._paths import input_file, output_folder
from placematch.export_903 import EpisodeDefaults, export_903, read_assignments


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export-903`` sub-command."""
    parser = subparsers.add_parser(
        "export-903",
        help="write a match's placements as SSDA903 episodes",
        description=(
            "Write the placements of an assignment file (placematch match --out) as SSDA903 "
            "open episodes (episodes.csv with exactly the DfE columns), a header and UASC table, "
            "and placement_location.csv with PL_DISTANCE, PL_LOCATION and PL_LA derived as the "
            "DfE validator derives them."
        ),
    )
    parser.add_argument("folder", metavar="DIR", help="the case folder")
    parser.add_argument(
        "--assignment", required=True, metavar="FILE", help="placematch match --out"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    parser.add_argument(
        "--start",
        type=return_date,
        default=None,
        help="the placement start (default: today), the date the match was made on (match "
        "--on): each child's DECOM is its needed_by, else today for an emergency, else this",
    )
    parser.add_argument(
        "--rne", default="S", help="reason for new episode (default S; P for a move in care)"
    )
    parser.add_argument("--ls", default="C2", help="legal status (default C2; V2 for UASC)")
    parser.add_argument("--cin", default="N1", help="category of need (default N1; N8 for UASC)")
    parser.add_argument(
        "--la",
        default=None,
        help="export only this authority's children (ONS code, DfE number or name; default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export; print the files written and any warnings."""
    output_folder(args.out, "--out")
    assignments = read_assignments(input_file(args.assignment, "assignment file"))
    today = _dates.clock()
    folder = load_case_folder(args.folder).with_dates(args.start, today)
    defaults = EpisodeDefaults(decom=args.start or today, rne=args.rne, ls=args.ls, cin=args.cin)
    written = export_903(
        folder,
        assignments,
        args.out,
        defaults=defaults,
        placing_authority=args.la,
        folder_path=args.folder,
    )
    for warning in written.warnings:
        print(f"placematch: warning: {warning}", file=sys.stderr)
    files = {
        "episodes": str(written.episodes),
        "header": str(written.header),
        "uasc": str(written.uasc),
        "placement_location": str(written.placement_location),
    }
    if args.json:
        print(
            json.dumps(
                {"rows": written.rows, "files": files, "warnings": list(written.warnings)}, indent=2
            )
        )
    else:
        print(f"{written.rows} episodes written")
        for name, path in files.items():
            print(f"  {name:<19} {path}")
    return 0
