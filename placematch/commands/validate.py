"""``placematch validate DIR``: check a case folder and summarise it on one screen.

Exit status 0 with the summary (warnings, if any, on stderr), or 2 with every problem listed,
one per line, on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import TYPE_CHECKING, Any

from matcher.casefolder import load_case_folder
from matcher.contract import POLICY_FILE
from matcher.problems import CaseFolderError, Problem
from matcher.vocabulary import Response

if TYPE_CHECKING:
    from matcher.domain import CaseFolder

EXIT_PROBLEMS = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` sub-command."""
    parser = subparsers.add_parser(
        "validate",
        help="check a case folder (children.csv, vacancies.csv, policy.toml)",
        description="Check a case folder and print a one-screen summary, or list every problem.",
    )
    parser.add_argument("folder", metavar="DIR", help="the case folder")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def _table(title: str, rows: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return []
    width = max(len(k) for k, _ in rows)
    return [title, *(f"  {k:<{width}}  {v}" for k, v in rows)]


def render_summary(summary: dict[str, Any], folder: str) -> str:
    """The human summary printed by ``placematch validate``."""
    s = summary
    lines = [
        f"Case folder {folder}: OK",
        f"{s['children']} children ({s['separated_migrant_children']} separated migrant, "
        f"{s['disabled_children']} disabled"
        + (
            f", {s['home_postcode_unknown_children']} home postcode unknown"
            if s.get("home_postcode_unknown_children")
            else ""
        )
        + f"); {s['vacancies']} vacancies with {s['beds']} beds "
        f"at {s['providers']} providers",
        "",
    ]
    lines += _table("Children by age", [(k, str(v)) for k, v in s["children_by_age_band"].items()])
    lines += _table(
        "Children by responsible authority",
        [(k, str(v)) for k, v in s["children_by_authority"].items()],
    )
    sizes = ", ".join(f"{n} of {size}" for size, n in s["sibling_group_sizes"].items())
    lines.append(
        f"Sibling groups: {s['sibling_groups']} ({s['children_in_sibling_groups']} children"
        + (f"; {sizes})" if sizes else ")")
    )
    lines += _table(
        "Vacancies by placement type (vacancies, beds)",
        [(k, f"{v['vacancies']:>3}  {v['beds']:>3}") for k, v in s["vacancies_by_type"].items()],
    )
    if s["main_authority"] is not None:
        lines.append(
            f"In {s['main_authority']} (the authority of most children): "
            f"{s['vacancies_in_main_authority']} vacancies, {s['beds_in_main_authority']} beds; "
            f"outside: {s['vacancies_outside_main_authority']} vacancies, "
            f"{s['beds_outside_main_authority']} beds"
        )
    if "responses" in s:
        answers = ", ".join(f"{n} {kind}" for kind, n in s["responses"].items())
        lines.append(f"Providers' answers to referrals (responses.csv): {answers}")
    if "pool" in s:
        lines += _table(
            "Pooled supply by owner_la (vacancies, beds, beds offered to the pool)",
            [
                (k, f"{v['vacancies']:>4}  {v['beds']:>4}  {v['beds_offered_to_pool']:>4}")
                for k, v in s["pool"].items()
            ],
        )
    if s.get("residents"):
        lines.append(
            f"Residents (residents.csv): {s['residents']} children living with "
            f"{s['providers_with_residents']} providers"
        )
    if s["warnings"]:
        lines.append(f"{s['warnings']} warning(s), listed on stderr")
    return "\n".join(lines)


def _scale_problems(folder: CaseFolder) -> list[Problem]:
    """The folded objective's overflow check, run now so that ``match`` never refuses a
    folder that ``validate`` accepted: bounded weights keep every pair's points small, but
    a very large folder with both tiers on can still outgrow 64-bit integers."""
    # Imported here: every command module is imported to build the parser, and the matcher's
    # candidate machinery is not needed for the others.
    from matcher.candidates import Folding, PointsScaleError
    from matcher.factors import is_pooled
    from matcher.pooled import authority_folder, pooled_folding, region_of

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the 2**50 warning is match's
            if folder.policy.overrides and is_pooled(folder):
                # as match folds it: every authority's bounds at once
                policies = [authority_folder(folder, a).policy for a in region_of(folder)]
                pooled_folding(folder, policies)
            else:
                Folding.for_folder(folder)
    except PointsScaleError as exc:
        return [Problem(POLICY_FILE, None, "weights", str(exc))]
    return []


def _pool_summary(folder: CaseFolder) -> dict[str, dict[str, int]]:
    """A pooled folder's supply by owner (name -> vacancies, beds, beds offered to the pool);
    empty when no vacancy names its ``owner_la``. A blank ``offered_to_pool`` is offered."""
    pool: dict[str, dict[str, int]] = {}
    for v in sorted(folder.vacancies, key=lambda v: v.owner.name if v.owner else ""):
        if v.owner is None:
            continue
        row = pool.setdefault(v.owner.name, {"vacancies": 0, "beds": 0, "beds_offered_to_pool": 0})
        row["vacancies"] += 1
        row["beds"] += v.beds
        row["beds_offered_to_pool"] += 0 if v.offered_to_pool is False else v.beds
    return pool


def run(args: argparse.Namespace) -> int:
    """Validate ``args.folder``; return 0 if it loads, 2 with the problems otherwise."""
    try:
        folder = load_case_folder(args.folder)
        scale = _scale_problems(folder)
        if scale:
            raise CaseFolderError(scale)
    except CaseFolderError as exc:
        n = len(exc.problems)
        print(f"placematch: {n} problem{'s' if n != 1 else ''} in {args.folder}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_PROBLEMS
    for warning in folder.warnings:
        print(f"placematch: warning: {warning}", file=sys.stderr)
    summary = folder.summary()
    if folder.responses:  # only then: the summary of a folder without answers is unchanged
        summary["responses"] = {
            kind.value: sum(r.response is kind for r in folder.responses) for kind in Response
        }
    pool = _pool_summary(folder)
    if pool:  # only then: the summary of a single authority's folder is unchanged
        summary["pool"] = pool
    if args.json:
        summary["warnings_list"] = [str(w) for w in folder.warnings]
        print(json.dumps(summary, indent=2))
    else:
        print(render_summary(summary, args.folder))
    return 0
