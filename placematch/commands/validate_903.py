"""``placematch validate-903 DIR``: the DfE validator on a council's own 903 return.

Exit status 0 when no rule flags a row, 1 when some do (each rule listed with its table,
count, fields and line numbers, never a cell's value), 2 when the validator cannot be run
(no environment and no network, files it refuses, a bad ``--la``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from placematch.validate_903 import (
    ENV_VARIABLE,
    VALIDATOR_REQUIREMENT,
    default_environment,
    infer_year,
    validate_903,
)

EXIT_FLAGGED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate-903`` sub-command."""
    parser = subparsers.add_parser(
        "validate-903",
        help="check a 903 return with the DfE validator before importing it",
        description=(
            f"Run the DfE SSDA903 validator ({VALIDATOR_REQUIREMENT}) on the 903 CSV files in "
            "DIR and report each rule that flags rows: rule number, table, count, affected "
            "fields and line numbers, never a value. The validator runs in its own virtual "
            "environment (it pins old pandas and numpy), created on first use in the user "
            f"cache folder, or at --validator-env / {ENV_VARIABLE}. Exit 1 when any rule "
            "flags a row."
        ),
    )
    parser.add_argument("folder", metavar="DIR", help="folder of the return's 903 CSV files")
    parser.add_argument(
        "--la", required=True, help="returning authority: ONS code, DfE number or name"
    )
    parser.add_argument(
        "--year",
        default=None,
        type=int,
        help="collection year end, e.g. 2025 for 1 April 2024 to 31 March 2025 (default: "
        "the year of the latest episode date, DECOM or DEC)",
    )
    parser.add_argument(
        "--ruleset", default=None, help="validator ruleset (default from --year, e.g. lac2024_25)"
    )
    parser.add_argument(
        "--validator-env",
        default=None,
        help=f"the validator's virtual environment (default: ${ENV_VARIABLE}, else "
        f"{default_environment()})",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="never create the environment (refuse if it is absent)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate, print the report, exit 1 if any rule flags a row."""
    year = args.year
    if year is None:
        year = infer_year(args.folder)
        print(
            f"collection year {year - 1}/{year % 100:02d}, from the latest episode date "
            "(--year to choose another)",
            file=sys.stderr,
        )
    if not 2000 <= year <= 2100:
        raise ValueError(f"--year {year}: expected a collection year end such as 2025")
    result = validate_903(
        Path(args.folder),
        la=args.la,
        year=year,
        ruleset=args.ruleset,
        env=args.validator_env,
        install=not args.no_install,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.text())
    return EXIT_FLAGGED if result.flags else 0
