"""``placematch import-903``: build a case folder from a council's SSDA903 return."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from placematch.commands._paths import output_folder
from placematch.import_903 import (
    MIN_IMPORTED_SHARE,
    WRITTEN_FILES,
    ImportIssue,
    import_903,
    write_import,
    write_report,
)


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
            "reported, never dropped silently. An import that would leave a folder with no "
            f"vacancies, no children or fewer than {MIN_IMPORTED_SHARE:.0%} of the children in "
            "an open episode is refused (exit 2): only import_report.csv is written. "
            "--keep-unknown-postcodes keeps children whose home postcode is blank, malformed "
            "or unknown (home_postcode_unknown: near home is not scored for them)."
        ),
    )
    parser.add_argument("header", help="the 903 header table (CSV)")
    parser.add_argument("episodes", help="the 903 episodes table (CSV)")
    parser.add_argument(
        "--la", required=True, help="placing authority: ONS code, DfE number or name"
    )
    parser.add_argument("--out", required=True, help="folder to write the case into")
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the files a previous import wrote in --out (refused without it)",
    )
    parser.add_argument(
        "--at",
        default=None,
        help="reference date dd/mm/yyyy or yyyy-mm-dd, within the data (default: the latest DECOM)",
    )
    parser.add_argument("--uasc", default=None, help="the 903 UASC table (CSV), if any")
    parser.add_argument(
        "--keep-unknown-postcodes",
        action="store_true",
        help="keep children whose HOME_POST is blank, malformed or not in the ONS directory "
        "(home_postcode_unknown true: near home not scored for them) instead of skipping them",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import, write the folder, print a summary (issues summarised on stderr)."""
    # Before the work: a file there, or a previous import's files, is one clear line.
    out = output_folder(args.out, "--out")
    taken = [name for name in WRITTEN_FILES if (out / name).exists()]
    if taken and not args.force:
        raise ValueError(
            f"--out {args.out!r} already has {', '.join(taken)}; pass --force to replace "
            "what a previous import wrote, or choose another folder"
        )
    result = import_903(
        args.header,
        args.episodes,
        la=args.la,
        at=args.at,
        uasc=args.uasc,
        keep_unknown_postcodes=args.keep_unknown_postcodes,
    )
    counts: dict[str, int] = {}
    for issue in result.issues:
        key = f"{issue.action}:{issue.field}"
        counts[key] = counts.get(key, 0) + 1
    shortfall = result.shortfall()
    if shortfall is not None:
        # Never end in a folder that cannot be used: write only the report (it says, line by
        # line, what to correct in the return) and leave any earlier case files alone.
        stale = [name for name in ("children.csv", "vacancies.csv") if name in taken]
        report = write_report(result, out)
        print(result.text(), file=sys.stderr)
        _print_issues(result.issues, counts, report)
        # With --force over an earlier import, its case files stay: say they are not this one.
        earlier = f" ({' and '.join(stale)} there are an earlier import's)" if stale else ""
        raise ValueError(
            f"{args.episodes}: {shortfall}; refused, so children.csv and "
            f"vacancies.csv were not written{earlier}: correct the return using {report}"
        )
    folder = write_import(result, out)
    if args.json:
        print(
            json.dumps(
                {"out": str(folder), **result.summary(), "issues": counts},
                indent=2,
            )
        )
    else:
        print(result.text())
        print(f"wrote {folder}")
    _print_issues(result.issues, counts, folder / "import_report.csv")
    return 0


def _print_issues(issues: Sequence[ImportIssue], counts: dict[str, int], report: Path) -> None:
    """Summarise the issues on stderr by field and action (never a value)."""
    if not issues:
        return
    print(
        f"placematch import-903: {len(issues)} value(s) not imported as given (see {report}):",
        file=sys.stderr,
    )
    for key, n in sorted(counts.items()):
        action, field = key.split(":")
        print(f"  {field:<10} {action.replace('_', ' '):<16} {n}", file=sys.stderr)
