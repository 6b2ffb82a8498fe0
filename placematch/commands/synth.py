"""``placematch synth``: write a synthetic case folder for an English authority."""

from __future__ import annotations

import argparse
import json

from placematch.commands._args import whole_number
from placematch.commands._paths import output_folder
from scenarios.cohorts import generate, write_case_folder


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``synth`` sub-command."""
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic case folder (children and homes) for an authority",
        description=(
            "Generate synthetic children in care and the homes that could take them, from the "
            "authority's profile (Essex, Thurrock, Suffolk, Cheshire East; any other English "
            "authority gets the national default), and write them as a case folder. The same "
            "seed gives byte-identical files."
        ),
    )
    parser.add_argument("--la", required=True, help="authority: ONS code, DfE number or name")
    parser.add_argument("--seed", required=True, type=whole_number(0), help="random seed (>= 0)")
    parser.add_argument("--out", required=True, help="folder to write the case into")
    parser.add_argument(
        "--children",
        type=whole_number(0),
        default=None,
        help="cohort size (default: the profile's)",
    )
    parser.add_argument(
        "--referrals",
        type=whole_number(0),
        default=None,
        help="write a referral list: this many children needing a home now, against free beds "
        "(default: the whole cohort against the whole supply)",
    )
    parser.add_argument(
        "--residents",
        action="store_true",
        help="also write residents.csv: the synthetic children living in the children's "
        "homes now (their occupied beds, in a referral list) and the risks the homes can "
        "manage",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate and write the case folder; print a summary."""
    output_folder(args.out, "--out")  # before the work: a file there is one clear line
    case = generate(
        args.la,
        args.seed,
        children=args.children,
        referrals=args.referrals,
        residents=args.residents,
    )
    folder = write_case_folder(case, args.out)
    meta = case.metadata
    r = meta["realised"]
    if args.json:
        summary = {
            "out": str(folder),
            "seed": meta["seed"],
            "shape": meta["shape"],
            "authority": meta["authority"],
            "profile": meta["profile"]["key"],
            **r,
        }
        print(json.dumps(summary, indent=2))
        return 0
    shares = r["current_group_shares"]
    print(
        f"wrote {folder}: synthetic {meta['shape'].replace('_', ' ')} for "
        f"{meta['authority']['name']} ({meta['authority']['ons_code']}), "
        f"profile {meta['profile']['key']}, seed {meta['seed']}"
    )
    print(
        f"  children   {r['children']:>6}  (separated migrant {r['uasc']}, in sibling groups "
        f"{r['sibling_group_share']:.1%}, disabled {r['disabled_share']:.1%})"
    )
    print("  placements " + ", ".join(f"{k.replace('_', ' ')} {v:.1%}" for k, v in shares.items()))
    print(
        f"  vacancies  {r['vacancies']:>6}  ({r['beds']} beds, "
        f"{r['in_county_bed_share']:.1%} in the authority)"
    )
    for kind, beds in r["beds_by_type"].items():
        print(f"    {kind:<26} {beds:>5} beds")
    if "residents" in r:
        print(
            f"  residents  {r['residents']:>6}  (living in {r['homes_with_residents']} "
            "children's homes now)"
        )
    return 0
