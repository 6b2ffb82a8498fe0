"""``placematch impact``: the matching and impact-risk summary of a child and a vacancy.

``impact DIR --child ID --vacancy ID [--on DATE] [--scoring MODULE:NAME] [--json]`` prints
what the case folder knows about placing the child there with the children already living
with the provider (``residents.csv``): the hard rules and the ``age_gap`` and ``shared_needs``
points as ``rank`` gives them (under ``--scoring``'s set when given), then each resident by
reference, age and sex with the needs and risks that meet the child's, and an overall impact
risk. It is meant to be attached to the
referral; it holds no names (see :mod:`matcher.impact`).
"""

from __future__ import annotations

import argparse
import json

from matcher.casefolder import load_case_folder
from matcher.impact import impact_summary
from matcher.rank import UnknownIdError
from placematch.commands._args import add_scoring
from placematch.commands._dates import add_on, dated


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``impact`` sub-command."""
    parser = subparsers.add_parser(
        "impact",
        help="matching and impact-risk summary of a child and a vacancy (residents.csv)",
        description=(
            "Summarise placing a child in a vacancy with the children already living there: "
            "the hard rules and the age-gap and shared-needs points as why-not gives them "
            "(with --scoring, under your own set), each resident (by "
            "reference, age and sex; no names) with the needs and risks that meet the "
            "child's, and the impact risk. For the officer to attach to a referral."
        ),
    )
    parser.add_argument("folder", metavar="DIR", help="the case folder")
    parser.add_argument("--child", required=True, metavar="ID", help="the child's child_id")
    parser.add_argument("--vacancy", required=True, metavar="ID", help="the vacancy_id")
    add_on(parser)
    add_scoring(
        parser, "the rules and points under your own factors and rules, as why-not --scoring"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``placematch impact``."""
    from matcher.pooled import folder_for_child

    folder = dated(load_case_folder(args.folder), args.on)
    # as why-not answers it: a pooled folder's child under its authority's policy table
    # (another authority's connected-person carer, left out of that folder, is asked of the
    # whole folder: a hard rule excludes it), and under --scoring's set when given
    own = folder_for_child(folder, args.child)
    scoring = None if args.scoring is None else args.scoring(own)
    where = own if any(v.vacancy_id == args.vacancy for v in own.vacancies) else folder
    try:
        summary = impact_summary(where, args.child, args.vacancy, scoring=scoring)
    except UnknownIdError as exc:
        raise UnknownIdError(
            str(exc.args[0]).replace("this case folder", f"case folder {args.folder}")
        ) from None
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(summary.text())
    return 0
