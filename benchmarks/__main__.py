"""``python -m benchmarks [SUITE ...] [--tier TIER]`` (``benchmarks.TIERS``: smoke, county,
region, region_london, national, nation_pooled, accuracy), or ``python -m benchmarks --gate [...]``
(the CI gate, :mod:`benchmarks._gate`)."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import TIERS, suite_names
from benchmarks.harness import write_results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the named suites (default: all) and write their results."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--gate" in argv:
        from benchmarks._gate import main as gate

        return gate([a for a in argv if a != "--gate"])
    names = suite_names()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run placematch's fixed, seeded benchmarks."
    )
    parser.add_argument("suites", nargs="*", metavar="SUITE", help=f"any of: {', '.join(names)}")
    parser.add_argument("--tier", choices=TIERS, default="county", help="size (default county)")
    parser.add_argument("--list", action="store_true", help="list the suites and stop")
    parser.add_argument(
        "--results", type=Path, default=None, help="write results here (default benchmarks/results)"
    )
    parser.add_argument(
        "--gate", action="store_true", help="check results against baseline.json (see _gate.py)"
    )
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(names))
        return 0
    unknown = [s for s in args.suites if s not in names]
    if unknown:
        print(
            f"benchmarks: unknown suite(s) {', '.join(unknown)}; "
            f"expected any of {', '.join(names)}",
            file=sys.stderr,
        )
        return 2
    for name in args.suites or names:
        module = importlib.import_module(f"benchmarks.{name}")
        start = time.perf_counter()
        print(f"== {name} ({args.tier})", flush=True)
        try:
            records = module.run(args.tier)
        except ValueError as exc:
            if not args.suites:  # running every suite: skip one that lacks this tier
                print(f"   skipped: {exc}", flush=True)
                continue
            print(f"benchmarks: {name}: {exc}", file=sys.stderr)
            return 2
        path = write_results(name, records, tier=args.tier, directory=args.results)
        for r in records:
            print(f"   {r['name']:<44} {r['wall_seconds']:>10.4f} s")
        print(f"   wrote {path} in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
