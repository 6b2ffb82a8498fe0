"""Geography benchmark: postcode lookups and the 903 distance matrix.

Fixed, seeded work on real English postcodes (drawn uniformly from the ONS directory):

- cold start of a fresh process (no disk cache; then with the disk cache);
- ``locate_many`` of 10,000 postcodes, and 10,000 single ``locate`` calls;
- ``distance_matrix`` of 2,000 homes x 5,000 placements (float64 and float32);
- in the same run, the references it must agree with: a plain-Python loop of the 903
  formula on a 200 x 500 block (bit-identical), geopy's geodesic on 2,000 pairs and the
  vectorised haversine matrix (within 0.05 %).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
from typing import Any

import numpy as np

from benchmarks.harness import measure

SEED = 20261122
SIZES: dict[str, dict[str, int]] = {
    "smoke": {
        "rows": 200,
        "cols": 500,
        "lookups": 1000,
        "loop_rows": 50,
        "loop_cols": 100,
        "geodesic_pairs": 200,
    },
    "county": {
        "rows": 2000,
        "cols": 5000,
        "lookups": 10000,
        "loop_rows": 200,
        "loop_cols": 500,
        "geodesic_pairs": 2000,
    },
    "national": {
        "rows": 5000,
        "cols": 20000,
        "lookups": 100000,
        "loop_rows": 200,
        "loop_cols": 500,
        "geodesic_pairs": 2000,
    },
}

_COLD = (
    "import time; t0 = time.perf_counter(); from geography import locate; "
    "t1 = time.perf_counter(); locate('CM1 1AA'); t2 = time.perf_counter(); "
    "locate('CM1 1ZQ'); t3 = time.perf_counter(); print(t1 - t0, t2 - t1, t3 - t2)"
)


def _cold_start(cache_dir: str) -> tuple[float, float, float]:
    """(import seconds, first lookup seconds, second lookup seconds) in a fresh process."""
    env = {**os.environ, "PLACEMATCH_CACHE_DIR": cache_dir}
    out = subprocess.run(
        [sys.executable, "-c", _COLD], env=env, capture_output=True, text=True, check=True
    )
    first, second, third = (float(x) for x in out.stdout.split())
    return first, second, third


def _python_loop(a: Any, b: Any) -> list[list[float]]:
    ae, an = a.easting.tolist(), a.northing.tolist()
    be, bn = b.easting.tolist(), b.northing.tolist()
    return [
        [
            math.sqrt((e1 - e2) ** 2 + (n1 - n2) ** 2) / 1000 / 1.6093
            for e2, n2 in zip(be, bn, strict=True)
        ]
        for e1, n1 in zip(ae, an, strict=True)
    ]


def _cold_fields(value: tuple[float, float, float]) -> dict[str, float]:
    return {
        "import_seconds": value[0],
        "first_lookup_seconds": value[1],
        "second_lookup_seconds": value[2],
    }


def run(tier: str) -> list[dict[str, Any]]:
    """Run the suite at a tier and return its records."""
    from geography import distance_matrix, great_circle_matrix, locate, locate_many
    from geography.distance import great_circle_miles
    from geography.postcodes import sample_postcodes

    if tier not in SIZES:
        raise ValueError(f"unknown tier {tier!r}: expected one of {', '.join(SIZES)}")
    size = SIZES[tier]
    records: list[dict[str, Any]] = []

    # Cold start of a new process: the first lookup decodes one letter of the directory.
    with tempfile.TemporaryDirectory() as tmp:
        no_cache = measure(lambda: _cold_start(""), repeat=3, warmup=0, memory=False)
        records.append(
            {
                "name": "cold_first_lookup_no_disk_cache",
                **no_cache,
                **_cold_fields(no_cache["value"]),
                "note": "wall_seconds is the whole fresh process, interpreter start included",
            }
        )
        _cold_start(tmp)  # fills the cache
        cached = measure(lambda: _cold_start(tmp), repeat=3, warmup=0, memory=False)
        records.append(
            {
                "name": "cold_first_lookup_disk_cache",
                **cached,
                **_cold_fields(cached["value"]),
            }
        )

    n_rows, n_cols, n_lookups = size["rows"], size["cols"], size["lookups"]
    sample = sample_postcodes(n_rows + n_cols + n_lookups, seed=SEED)
    homes = locate_many(sample[:n_rows])
    places = locate_many(sample[n_rows : n_rows + n_cols])
    typed = [p.lower().replace(" ", "") for p in sample[n_rows + n_cols :]]

    many = measure(lambda: locate_many(typed), repeat=5)
    records.append(
        {
            "name": f"locate_many_{n_lookups}",
            **many,
            "n": n_lookups,
            "microseconds_per_postcode": many["wall_seconds"] / n_lookups * 1e6,
            "all_found": bool(many["value"].found.all()),
        }
    )

    def loop() -> int:
        locate.cache_clear()  # measure lookups, not the memo
        return len([locate(p) for p in typed])

    single = measure(loop, repeat=3, memory=False)
    records.append(
        {
            "name": f"locate_loop_{n_lookups}",
            **single,
            "n": n_lookups,
            "microseconds_per_postcode": single["wall_seconds"] / n_lookups * 1e6,
        }
    )

    args = (homes.easting, homes.northing, places.easting, places.northing)
    matrix64 = measure(lambda: distance_matrix(*args), repeat=5)
    full = matrix64["value"]
    records.append(
        {
            "name": f"distance_matrix_{n_rows}x{n_cols}_float64",
            **matrix64,
            "pairs": n_rows * n_cols,
            "nanoseconds_per_pair": matrix64["wall_seconds"] / (n_rows * n_cols) * 1e9,
            "result_bytes": int(full.nbytes),
            "median_miles": float(np.median(full)),
        }
    )
    matrix32 = measure(lambda: distance_matrix(*args, dtype=np.float32), repeat=5)
    records.append(
        {
            "name": f"distance_matrix_{n_rows}x{n_cols}_float32",
            **matrix32,
            "pairs": n_rows * n_cols,
            "max_abs_diff_vs_float64_miles": float(np.abs(matrix32["value"] - full).max()),
            "result_bytes": int(matrix32["value"].nbytes),
        }
    )

    # Reference 1: the 903 formula in plain Python on a block, which numpy must equal exactly.
    lr, lc = size["loop_rows"], size["loop_cols"]
    sub_a, sub_b = locate_many(sample[:lr]), locate_many(sample[n_rows : n_rows + lc])
    ref = measure(lambda: _python_loop(sub_a, sub_b), repeat=3, memory=False)
    block = np.array(ref["value"])
    per_pair = ref["wall_seconds"] / (lr * lc)
    records.append(
        {
            "name": f"python_loop_reference_{lr}x{lc}",
            **ref,
            "pairs": lr * lc,
            "nanoseconds_per_pair": per_pair * 1e9,
            "extrapolated_full_matrix_seconds": per_pair * n_rows * n_cols,
            "numpy_speedup": per_pair * n_rows * n_cols / matrix64["wall_seconds"],
            "max_abs_diff_vs_numpy_miles": float(np.abs(block - full[:lr, :lc]).max()),
        }
    )

    # Reference 2: geopy geodesic (WGS84 ellipsoid) on seeded random pairs.
    rng = np.random.default_rng(SEED)
    i = rng.integers(0, n_rows, size["geodesic_pairs"])
    j = rng.integers(0, n_cols, size["geodesic_pairs"])

    def geodesic() -> np.ndarray:
        return np.array(
            [
                great_circle_miles(homes.lat[x], homes.lon[x], places.lat[y], places.lon[y])
                for x, y in zip(i.tolist(), j.tolist(), strict=True)
            ]
        )

    geo = measure(geodesic, repeat=1, memory=False)
    grid = full[i, j]
    diff = np.abs(geo["value"] - grid)
    records.append(
        {
            "name": f"geopy_geodesic_{len(i)}_pairs",
            **geo,
            "pairs": len(i),
            "microseconds_per_pair": geo["wall_seconds"] / len(i) * 1e6,
            "extrapolated_full_matrix_seconds": geo["wall_seconds"] / len(i) * n_rows * n_cols,
            "max_abs_diff_vs_grid_miles": float(diff.max()),
            "max_rel_diff_vs_grid": float((diff / np.maximum(grid, 1.0)).max()),
            "max_abs_diff_under_250_miles": float(diff[grid < 250].max()),
            "share_equal_at_0_1_mile": float(
                (np.round(geo["value"], 1) == np.round(grid, 1)).mean()
            ),
            "max_grid_miles": float(grid.max()),
        }
    )

    hav = measure(
        lambda: great_circle_matrix(homes.lat, homes.lon, places.lat, places.lon), repeat=3
    )
    hdiff = np.abs(hav["value"] - full)
    records.append(
        {
            "name": f"great_circle_matrix_{n_rows}x{n_cols}_haversine",
            **hav,
            "pairs": n_rows * n_cols,
            "max_rel_diff_vs_grid": float((hdiff / np.maximum(full, 1.0)).max()),
        }
    )
    return records
