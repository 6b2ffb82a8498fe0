"""``placematch import-903``: build a case folder from a council's SSDA903 return."""

from __future__ import annotations

import argparse
import json
import sys

from placematch.commands._paths import output_folder
from placematch.import_903 import import_903, write_import


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import-903`` sub-command."""
    parser = subparsers.add_parser(
        "import-903",
        help="build a case folder from SSDA903 header and episodes tables",
        description=(
            "Build a case folder from a council's SSDA903 return: the children in an open "
            "episode on the reference date, and their current placements as vacancies. "
            "Postcodes that are malformed or unknown are reported (file, line, field) in "
            "import_report.csv, never printed; a child who cannot be imported is skipped and "
            "reported, never dropped silently."
        ),
    )
    parser.add_argument("header", help="the 903 header table (CSV)")
    parser.add_argument("episodes", help="the 903 episodes table (CSV)")
    parser.add_argument(
        "--la", required=True, help="placing authority: ONS code, DfE number or name"
    )
    parser.add_argument("--out", required=True, help="folder to write the case into")
    parser.add_argument(
        "--at", default=None, help="reference date yyyy-mm-dd (default: the latest DECOM)"
    )
    parser.add_argument("--uasc", default=None, help="the 903 UASC table (CSV), if any")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import, write the folder, print a summary (issues summarised on stderr)."""
    output_folder(args.out, "--out")  # before the work: a file there is one clear line
    result = import_903(args.header, args.episodes, la=args.la, at=args.at, uasc=args.uasc)
    folder = write_import(result, args.out)
    counts: dict[str, int] = {}
    for issue in result.issues:
        key = f"{issue.action}:{issue.field}"
        counts[key] = counts.get(key, 0) + 1
    if args.json:
        print(
            json.dumps(
                {
                    "out": str(folder),
                    "la": {"ons_code": result.la_code, "name": result.la_name},
                    "at": result.at.isoformat(),
                    "open_children": result.open_children,
                    "children": len(result.children),
                    "vacancies": len(result.vacancies),
                    "issues": counts,
                },
                indent=2,
            )
        )
    else:
        print(result.summary())
        print(f"wrote {folder}")
    if result.issues:
        print(
            f"placematch import-903: {len(result.issues)} value(s) not imported as given "
            f"(see {folder / 'import_report.csv'}):",
            file=sys.stderr,
        )
        for key, n in sorted(counts.items()):
            action, field = key.split(":")
            print(f"  {field:<10} {action.replace('_', ' '):<16} {n}", file=sys.stderr)
    empty = [
        name
        for name, rows in (("children.csv", result.children), ("vacancies.csv", result.vacancies))
        if len(rows) == 0
    ]
    if empty:
        # The folder is written (the report is the point), but a case folder needs rows in
        # both files: say so now rather than leave ``placematch validate`` to surprise.
        print(
            f"placematch import-903: note: {' and '.join(empty)} in {folder} "
            f"{'has' if len(empty) == 1 else 'have'} no rows, so placematch validate will "
            "refuse the folder until rows are added",
            file=sys.stderr,
        )
    return 0
