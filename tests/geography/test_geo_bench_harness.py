"""The shared benchmark harness: measuring and the results schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import suite_names
from benchmarks.harness import git_commit, machine_info, measure, write_results


def test_measure_returns_times_memory_and_value() -> None:
    record = measure(lambda: bytearray(2_000_000), repeat=3, warmup=1)
    assert record["repeats"] == 3
    assert 0 <= record["wall_seconds_min"] <= record["wall_seconds"] <= record["wall_seconds_max"]
    assert record["peak_traced_bytes"] >= 2_000_000
    assert record["max_rss_bytes"] > 0
    assert len(record["value"]) == 2_000_000
    assert measure(lambda: 1, repeat=1, memory=False)["peak_traced_bytes"] is None
    with pytest.raises(ValueError, match="repeat"):
        measure(lambda: 1, repeat=0)


def test_write_results_schema(tmp_path: Path) -> None:
    record = {"name": "thing", **measure(lambda: 41 + 1, repeat=1), "n": 3}
    path = write_results("demo", [record], tier="smoke", directory=tmp_path)
    assert path == tmp_path / "demo.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["schema"] == 1 and doc["suite"] == "demo" and doc["tier"] == "smoke"
    assert doc["created_utc"].endswith("Z")
    assert set(doc["machine"]) >= {"cpu_model", "logical_cores", "python", "platform"}
    (saved,) = doc["records"]
    assert saved["name"] == "thing" and saved["n"] == 3 and "value" not in saved


def test_machine_and_commit() -> None:
    info = machine_info()
    assert info["logical_cores"] >= 1
    commit, dirty = git_commit()
    assert commit is None or len(commit) == 40
    assert dirty in (None, True, False)


def test_geography_suite_is_registered() -> None:
    assert "geography" in suite_names()
    assert "harness" not in suite_names()
