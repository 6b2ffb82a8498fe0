"""``placematch candidates DIR --out FILE.csv``: every eligible pair, for audit and re-solving.

One row per eligible (child, vacancy) pair: ``points`` is the pair's objective coefficient
(the statutory order folded in: placement base, connected-person tier, score), ``score`` the
sum of the factors' points, then the tier, flags (``solo_only``), distances, the weekly cost
and one column per factor. Beside it, ``FILE.vacancies.csv`` (beds, provider, placement type,
``fostered_now``) and ``FILE.sibling_groups.csv``: with the three files alone, maximising the
sum of ``points`` under the model ``docs/match.md`` states gives the value ``placematch
match`` reports. A pooled folder with ``[authority."NAME"]`` policy tables is scored as
``placematch match`` scores it: each child under its authority's policy, folded for the
region (:func:`matcher.pooled.pooled_candidates`), under ``--scoring``'s set when given
(every authority's part).
"""

from __future__ import annotations

import argparse
import json

from matcher.candidates import build_candidates
from matcher.casefolder import load_case_folder
from placematch.commands._args import add_scoring
from placematch.commands._paths import output_file


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``candidates`` sub-command."""
    parser = subparsers.add_parser(
        "candidates",
        help="write every eligible (child, vacancy) pair with its points to a CSV file",
        description=(
            "Apply the hard rules to every (child, vacancy) pair and write the eligible ones "
            "with their objective points, score, points per factor and weekly cost; beside "
            "them FILE.vacancies.csv and FILE.sibling_groups.csv, so that the model can be "
            "re-solved without the case folder."
        ),
    )
    parser.add_argument("folder", metavar="DIR", help="the case folder")
    parser.add_argument("--out", required=True, metavar="FILE.csv", help="the CSV to write")
    add_scoring(
        parser,
        "score with your own factors and rules (a pooled folder with [authority] tables: "
        "every authority's children, under its own policy table)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``placematch candidates``."""
    output_file(args.out, "--out")
    from matcher.factors import is_pooled
    from matcher.pooled import pooled_candidates

    folder = load_case_folder(args.folder)
    if folder.policy.overrides and is_pooled(folder):
        # each authority's children scored in its own folder, under --scoring's set if given
        candidates = pooled_candidates(folder, args.scoring)
    else:
        candidates = build_candidates(
            folder, None if args.scoring is None else args.scoring(folder)
        )
    paths = candidates.to_files(args.out)
    summary = candidates.summary()
    summary["out"] = str(args.out)
    summary["files"] = {name: str(p) for name, p in paths.items()}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(
        f"Wrote {summary['eligible_pairs']} eligible pairs of {summary['children']} children and "
        f"{summary['vacancies']} vacancies ({summary['pairs_considered']} pairs considered) "
        f"to {args.out}"
    )
    print(
        f"Beside it, for re-solving without the case folder: {paths['vacancies']} "
        f"({summary['vacancies']} vacancies) and {paths['sibling_groups']}"
    )
    if summary["children_without"]:
        print(f"{summary['children_without']} children have no eligible vacancy")
    excluded = candidates.exclusion_counts
    if excluded:
        print("Excluded pairs by rule:")
        for rule, n in excluded.items():
            print(f"  {n:>8} {rule}")
    return 0
