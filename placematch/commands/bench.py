"""``placematch bench [SUITE ...] [--tier T] [--results DIR] [--list] [--gate]``.

The same runner as ``python -m benchmarks`` (fixed, seeded work; JSON results in
``benchmarks/results/``; ``--gate`` checks them against ``benchmarks/baseline.json``), so
that an installed placematch can measure itself. Every argument after ``bench`` is handed
to that runner unchanged; ``benchmarks/README.md`` documents the suites, tiers and gate.
"""

from __future__ import annotations

import argparse
import importlib


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` sub-command."""
    parser = subparsers.add_parser(
        "bench",
        help="run the fixed, seeded benchmarks (the same as python -m benchmarks)",
        description=(
            "Run placematch's benchmarks: 'placematch bench --list' names the suites; "
            "'placematch bench matching --tier smoke' runs one; 'placematch bench --gate' "
            "checks the results against benchmarks/baseline.json. The arguments are those "
            "of 'python -m benchmarks' (see benchmarks/README.md)."
        ),
        add_help=False,  # --help goes to the runner, which knows the suites and tiers
    )
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(func=run, pass_through=True)


def run(args: argparse.Namespace) -> int:
    """Hand the arguments to the benchmark runner and return its exit status."""
    # Imported here: the benchmarks import the solvers and generators, which the rest of the
    # command line does not need at start-up.
    runner = importlib.import_module("benchmarks.__main__")
    try:
        return int(runner.main(list(args.arguments)))
    except ModuleNotFoundError as exc:
        # The reference solvers (HiGHS through scipy) are development extras.
        raise ValueError(
            f"the benchmarks need the Python package {exc.name!r}: install the development "
            "extras (pip install -e '.[dev]')"
        ) from None
