"""``placematch synth``: write a synthetic case folder for an English authority."""

from __future__ import annotations

import argparse
import json

from geography.authorities import authorities_in_region
from placematch.commands._args import whole_number
from placematch.commands._paths import output_folder
from scenarios.cohorts import generate, generate_pooled, write_case_folder


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``synth`` sub-command."""
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic case folder (children and homes) for an authority",
        description=(
            "Generate synthetic children in care and the homes that could take them, from the "
            "authority's profile (Essex, Thurrock, Suffolk, Cheshire East; any other English "
            "authority gets the national default), and write them as a case folder. With "
            "--region, or --la more than once, write a pooled folder: authority i (from 0) "
            "generated with seed N+i, its ids prefixed R00, R01, ..., each vacancy naming its "
            "owner_la. The same seed gives byte-identical files."
        ),
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--la",
        action="append",
        help="authority: ONS code, DfE number or name; give it more than once for a pooled "
        "folder of those authorities (ids prefixed R00, R01, ... in the order given)",
    )
    where.add_argument(
        "--region",
        help="an English region (e.g. 'East of England'): a pooled folder of all its "
        "authorities, in order of name",
    )
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
    if args.region is not None or len(args.la) > 1:
        return _run_pooled(args)
    case = generate(
        args.la[0],
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


def _run_pooled(args: argparse.Namespace) -> int:
    """A pooled folder: several authorities' whole cohorts and supply, ids made unique."""
    for option, given in (
        ("--children", args.children is not None),
        ("--referrals", args.referrals is not None),
        ("--residents", args.residents),
    ):
        if given:
            raise ValueError(
                f"{option} is for one authority; a pooled folder (--region, or --la more than "
                "once) holds each authority's whole cohort and supply"
            )
    if args.region is not None:
        # In order of name, so that a region's prefixes do not move when codes are reissued.
        found = sorted(authorities_in_region(args.region), key=lambda a: a.name)
        names: list[str] = [a.name for a in found]
        region: str | None = found[0].region
    else:
        names, region = list(args.la), None
    case = generate_pooled(names, args.seed, region=region)
    folder = write_case_folder(case, args.out)
    meta = case.metadata
    r = meta["realised"]
    if args.json:
        summary = {
            "out": str(folder),
            "seed": meta["seed"],
            "shape": meta["shape"],
            "region": region,
            "authorities": [
                {
                    "prefix": p["prefix"],
                    "seed": p["seed"],
                    **p["authority"],
                    "children": p["realised"]["children"],
                    "vacancies": p["realised"]["vacancies"],
                    "beds": p["realised"]["beds"],
                }
                for p in meta["authorities"]
            ],
            **r,
        }
        print(json.dumps(summary, indent=2))
        return 0
    print(
        f"wrote {folder}: synthetic pooled folder of {len(meta['authorities'])} authorities"
        + (f" ({region})" if region else "")
        + f", seeds {meta['seed']}-{meta['seed'] + len(meta['authorities']) - 1}"
    )
    for p in meta["authorities"]:
        a = p["authority"]
        print(
            f"  {p['prefix']}  {a['name']} ({a['ons_code']}): {p['realised']['children']} "
            f"children, {p['realised']['vacancies']} vacancies"
        )
    print(
        f"  in all {r['children']} children, {r['vacancies']} vacancies ({r['beds']} beds, "
        f"{r['offered_to_pool_beds']} offered to the pool)"
    )
    return 0
