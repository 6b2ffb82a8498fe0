"""``placematch match DIR``: place the whole waiting list at once, optimally.

Prints a human summary (status, objective, bound, gap; for an unproven result the gap per
level -- children placed, kin, points -- each against its own bound; placed, metrics, the
unplaced with their reasons) or, with ``--json``, the result as JSON; ``--out FILE`` writes
the JSON result (the assignment file ``placematch export-903`` reads).

A pooled folder (vacancies naming ``owner_la``) is matched by :func:`matcher.pooled.match_pooled`:
each child under its own authority's policy, then per authority, the region and the recharges
between authorities (text, the JSON key ``pooling``, and ``<FILE stem>.recharges.csv`` beside
``--out``); ``--dividend`` also matches each authority alone on its own supply and reports the
pooling dividend.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from matcher.casefolder import load_case_folder
from placematch.commands._args import add_scoring, seconds, whole_number, work_units
from placematch.commands._dates import add_on, dated
from placematch.commands._paths import input_file, output_file
from placematch.commands._table import fit_lines, terminal_width

if TYPE_CHECKING:
    from matcher.optimiser import SolverParameters
    from matcher.policy import Policy


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``match`` sub-command."""
    parser = subparsers.add_parser(
        "match",
        help="place the whole waiting list at once (optimal, explained)",
        description=(
            "Assign every child of a case folder at once: first as many children as possible, "
            "then connected persons first, then the most points; beds are capacities and "
            "sibling groups are placed as units. Reports status (optimal only when proven), "
            "objective, bound, seed and parameters; the same on every run for the same input "
            "and seed."
        ),
    )
    parser.add_argument("folder", metavar="DIR", help="the case folder")
    parser.add_argument(
        "--policy", metavar="FILE", default=None, help="policy.toml to use instead of DIR's"
    )
    parser.add_argument(
        "--time-limit",
        type=seconds,
        default=None,
        metavar="S",
        help=(
            "wall-clock safety net in seconds (default 120); a search it stops is reported "
            "as stopped by the clock, not reproducible"
        ),
    )
    parser.add_argument(
        "--work-limit",
        type=work_units,
        default=None,
        metavar="W",
        help=(
            "deterministic work budget of the search, in CP-SAT deterministic time units "
            "(default 5, about 30 s on the whole Essex cohort; 0 = off): the same answer on "
            "any machine"
        ),
    )
    parser.add_argument(
        "--seed", type=whole_number(0), default=None, metavar="N", help="solver seed"
    )
    parser.add_argument(
        "--workers",
        type=whole_number(1),
        default=None,
        metavar="N",
        help="solver workers (default 1: faster than 2 on two cores)",
    )
    add_on(parser)
    add_scoring(
        parser,
        "score with your own factors and rules (a pooled folder: every authority's children, "
        "under its own policy table, and each authority alone for --dividend)",
    )
    parser.add_argument(
        "--dividend",
        action="store_true",
        help=(
            "pooled folders: also match each authority alone on its own supply and report the "
            "pooling dividend (one more match per authority)"
        ),
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="write the JSON result here (pooled: and the recharges beside it, FILE stem "
        "+ .recharges.csv)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def _parameters(args: argparse.Namespace) -> SolverParameters:
    from matcher.optimiser import SolverParameters

    changes = {
        "time_limit_s": args.time_limit,
        "deterministic_time_limit": args.work_limit,
        "seed": args.seed,
        "num_workers": args.workers,
    }
    return SolverParameters.from_mapping(
        {k: v for k, v in changes.items() if v is not None}, source="command line"
    )


def _policy(path: str) -> Policy:
    """The ``--policy`` file, every problem in it named on one line.

    ``placematch validate`` checks a case folder's own ``policy.toml``, not this file, so the
    message lists all its problems rather than pointing there.
    """
    from matcher.policy import load_policy
    from matcher.problems import CaseFolderError

    input_file(path, "policy file")
    try:
        return load_policy(path)
    except CaseFolderError as exc:
        n = len(exc.problems)
        listed = "; ".join(str(p) for p in exc.problems)
        raise ValueError(
            f"policy file {path!r}: {n} problem{'s' if n != 1 else ''}: {listed}"
        ) from None


def run(args: argparse.Namespace) -> int:
    """Match the folder; print the summary or JSON; write ``--out``."""
    import json
    from dataclasses import replace

    from matcher.factors import is_pooled
    from matcher.match import match
    from matcher.pooled import match_pooled, region_of

    params = _parameters(args)
    policy = _policy(args.policy) if args.policy is not None else None
    if args.out is not None:
        output_file(args.out, "--out")
    folder = dated(load_case_folder(args.folder), args.on)
    if policy is not None:
        folder = replace(folder, policy=policy)
    if not is_pooled(folder) and (args.dividend or folder.policy.overrides):
        what = "--dividend" if args.dividend else 'per-authority policy tables ([authority."NAME"])'
        raise ValueError(
            f"{what} needs a pooled folder (vacancies naming their owner_la); "
            f"{args.folder} names none"
        )
    # A single authority's folder that names its own owner_la (as synth --la writes it) is
    # matched as before, unless its policy has a table or the dividend is asked for.
    pooled = is_pooled(folder) and (
        len(region_of(folder)) > 1 or bool(folder.policy.overrides) or args.dividend
    )
    recharges = None
    if pooled:
        # --scoring's set scores every authority's part (each authority's folder, and each
        # authority alone for --dividend)
        region = match_pooled(folder, params, dividend=args.dividend, scoring=args.scoring)
        result = region.result
        text = json.dumps({**result.to_dict(), "pooling": region.to_dict()}, indent=2)
        if args.out is not None:
            out = Path(args.out)
            recharges = region.write_recharges(out.with_name(f"{out.stem}.recharges.csv"))
    else:
        result = match(
            folder, params, scoring=None if args.scoring is None else args.scoring(folder)
        )
        text = result.to_json()
    if args.out is not None:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    if args.json:
        print(text)
    else:
        print(f"Match of {args.folder}")
        # Long reasons wrap under their indent on a terminal (a pipe keeps whole lines).
        print("\n".join(fit_lines(result.text().split("\n"), terminal_width())))
        if pooled:
            print()
            print("\n".join(fit_lines(region.text().split("\n"), terminal_width())))
        if args.out is not None:
            print(f"\nResult written to {args.out}")
        if recharges is not None:
            print(f"Recharges written to {recharges}")
    return 0
