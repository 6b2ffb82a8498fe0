"""Fixed, seeded benchmarks for placematch, run with ``python -m benchmarks``.

Every module in this package other than ``harness`` (and private ``_`` modules) is a *suite*:
it defines ``run(tier: str) -> list[dict]`` returning one record per measurement, built with
:func:`benchmarks.harness.measure`. ``python -m benchmarks`` writes each suite's records to
``benchmarks/results/<suite>.json`` (schema in ``benchmarks/README.md``).

Tiers scale the work: ``smoke`` (seconds; for CI), ``county`` (one authority's real size: the
default), ``region`` and ``national`` (where a suite defines them).
"""

from __future__ import annotations

import pkgutil

#: Tiers in increasing size (then ``accuracy``: the forecast's back-tests beside its peer).
#: A suite may raise ValueError for a tier it does not define.
TIERS = ("smoke", "county", "region", "region_london", "national", "nation_pooled", "accuracy")


def suite_names() -> tuple[str, ...]:
    """Names of the benchmark suites, found by module name (not imported)."""
    return tuple(
        sorted(
            m.name
            for m in pkgutil.iter_modules(__path__)
            if not m.name.startswith("_") and m.name != "harness"
        )
    )
