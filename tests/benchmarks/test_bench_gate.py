"""The benchmark gate's logic on made-up results (no timings are asserted)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks._gate import baseline_of, check, check_service, main, ratios, report, targets


def rec(solver: str, wall: float, objective: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"inst/{solver}",
        "instance": "inst",
        "solver": solver,
        "status": extra.pop("status", "optimal"),
        "objective": objective,
        "bound": extra.pop("bound", objective),
        "gap": 0.0,
        "placed": extra.pop("placed", 10),
        "wall_seconds": wall,
        "max_rss_bytes": 2**20,
        "children": 12,
        "pairs": 40,
        "valid": extra.pop("valid", True),
        "errors": [],
        "metrics": {
            "placed": 10,
            "kin_pct": 1.0,
            "within_20_miles_pct": 80.0,
            "in_area_pct": 90.0,
            "siblings_together_pct": 100.0,
            "school_kept_pct": 70.0,
            "weekly_cost": 1000,
            "sibling_splits": 0,
        },
        **extra,
    }


def doc(ours: dict[str, Any] | None = None, highs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "tier": "smoke",
        "git_commit": "abc",
        "machine": {"logical_cores": 2, "cpu_model": "x"},
        "records": [
            ours or rec("placematch", 1.0, 100, splits_without_policy=0),
            rec("min_cost_flow", 0.625, 110, status="relaxation"),
            highs or rec("highs_mip", 2.0, 100),
            rec("cpsat_naive", 4.0, 100),
            rec("greedy", 0.01, 80, status="heuristic", bound=None, placed=8),
        ],
    }


def test_ratios_are_placematch_over_each_reference() -> None:
    from benchmarks._gate import _by_instance

    q = ratios(_by_instance(doc()["records"])["inst"])
    assert q["time_vs_flow"] == 1.6
    assert q["time_vs_highs"] == 0.5
    assert q["time_vs_cpsat"] == 0.25
    assert q["objective_vs_optimum"] == 1.0
    assert q["greedy_vs_optimum"] == 0.8
    assert q["objective_vs_flow_bound"] == 100 / 110


def test_same_results_pass_against_their_own_baseline() -> None:
    d = doc()
    failures, notes = check(d, baseline_of(d))
    assert failures == [] and notes == []


def test_below_a_proven_highs_optimum_fails() -> None:
    d = doc(ours=rec("placematch", 1.0, 99, splits_without_policy=0))
    failures, _ = check(d, None)
    assert any("below HiGHS's proven optimum" in f for f in failures)
    # not proven by HiGHS: no such failure
    d = doc(
        ours=rec("placematch", 1.0, 99, splits_without_policy=0),
        highs=rec("highs_mip", 2.0, 98, status="not proven within limit"),
    )
    assert not any("HiGHS" in f for f in check(d, None)[0])


def test_a_split_without_policy_and_an_invalid_answer_fail() -> None:
    d = doc(ours=rec("placematch", 1.0, 100, splits_without_policy=2, valid=False))
    failures, _ = check(d, None)
    assert any("split 2 sibling group" in f for f in failures)
    assert any("breaks a constraint" in f for f in failures)


def test_time_ratio_regressions_beyond_x3_fail_and_within_pass() -> None:
    base = baseline_of(doc())
    slower = doc(ours=rec("placematch", 3.5, 100, splits_without_policy=0))  # 3.5x the ratio
    failures, _ = check(slower, base)
    assert any("time_vs_flow" in f and "x3" in f for f in failures)
    noisy = doc(ours=rec("placematch", 2.9, 100, splits_without_policy=0))
    assert check(noisy, base)[0] == []
    # too quick to time (placematch or a reference under half a second): not gated
    quick = baseline_of(doc(ours=rec("placematch", 0.1, 100, splits_without_policy=0)))
    assert check(doc(ours=rec("placematch", 0.9, 100, splits_without_policy=0)), quick)[0] == []


def test_quality_is_exact_when_the_baseline_was_optimal_with_slack_otherwise() -> None:
    base = baseline_of(doc())
    worse = doc(ours=rec("placematch", 1.0, 100, placed=9, splits_without_policy=0))
    assert any("placed_vs_flow" in f and "exact" in f for f in check(worse, base)[0])
    unproven = rec("highs_mip", 2.0, 98, status="not proven within limit")
    feasible = doc(
        ours=rec("placematch", 1.0, 100, status="feasible", splits_without_policy=0),
        highs=unproven,
    )
    base = baseline_of(feasible)
    slightly = doc(
        ours=rec("placematch", 1.0, 100, status="feasible", splits_without_policy=0),
        highs=dict(unproven),
    )
    slightly["records"][0]["objective"] = 99.9
    assert check(slightly, base)[0] == []  # 0.1 % within the 0.2 % slack
    slightly["records"][0]["objective"] = 99.0
    assert any("objective_vs_flow_bound" in f for f in check(slightly, base)[0])


def test_new_instances_are_noted_not_failed() -> None:
    base = baseline_of(doc())
    base["instances"] = {}
    failures, notes = check(doc(), base)
    assert failures == [] and any("not in the baseline" in n for n in notes)


def test_report_and_targets_say_met_missed_or_not_measured() -> None:
    text = report(doc())
    assert "| inst | 12 / 40 | placematch | optimal | 100 |" in text
    assert "| inst | 1.6 | 0.5 | 0.25 | 1.000000 (highs_mip) | 1.000000 | 0.8000 | 0.8 |" in text
    rows = {t: s for t, _, s in targets({"matching": doc()})}
    assert rows["Essex whole cohort targets"] == "not measured"
    geo = {
        "records": [
            {"name": "distance_matrix_2000x5000_float64", "wall_seconds": 0.3},
            {"name": "locate_many_10000", "wall_seconds": 0.03},
        ]
    }
    rows = {t: s for t, _, s in targets({"matching": doc(), "geography": geo})}
    assert rows["distance matrix 2,000 x 5,000 <= 0.2 s"] == "missed"
    assert rows["10,000 lookups <= 0.1 s warm (locate_many)"] == "met"


def test_main_exits_1_on_failure_and_writes_a_baseline(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "matching.json").write_text(json.dumps(doc()))
    baseline = tmp_path / "baseline.json"
    assert main(["--results", str(results), "--baseline", str(baseline), "--write-baseline"]) == 0
    assert "smoke/inst" in json.loads(baseline.read_text())["instances"]
    assert main(["--results", str(results), "--baseline", str(baseline)]) == 0
    bad = doc(ours=rec("placematch", 1.0, 90, splits_without_policy=0))
    (results / "matching.json").write_text(json.dumps(bad))
    assert main(["--results", str(results), "--baseline", str(baseline)]) == 1
    assert main(["--results", str(tmp_path / "none"), "--baseline", str(baseline)]) == 2


def test_a_placematch_error_fails_with_its_status() -> None:
    broken = rec("placematch", float("nan"), 0, status="error: RuntimeError: boom", valid=False)
    broken["objective"] = None
    failures, _ = check(doc(ours=broken), None)
    assert failures == ["inst: placematch gave no answer (error: RuntimeError: boom)"]
    assert "error: RuntimeError: boom" in report(doc(ours=broken))


def test_side_table_lists_rank_distances_and_forecasts() -> None:
    from benchmarks._gate import side_table

    forecast = {
        "tier": "county",
        "records": [
            {"name": "essex_statement_forecast", "wall_seconds": 0.002},
            {"name": "fit_rates_from_903", "wall_seconds": 0.05},
        ],
    }
    text = side_table({"forecast": forecast})
    assert "| forecast | essex_statement_forecast | county | 0.0020 |" in text
    assert "fit_rates" not in text


def test_the_gate_fails_when_the_whole_essex_cohort_is_not_proven() -> None:
    def essex(status: str) -> dict[str, Any]:
        d = doc(rec("placematch", 1.0, 100, status=status, bound=105, splits_without_policy=0))
        for r in d["records"]:
            r["instance"] = "essex_whole_cohort"
        return d

    failures, _ = check(essex("feasible"), None)
    assert any("essex_whole_cohort: placematch did not prove the optimum" in f for f in failures)
    failures, _ = check(essex("optimal"), None)
    assert not any("did not prove" in f for f in failures)
    # other instances may stop unproven
    failures, _ = check(doc(rec("placematch", 1.0, 100, status="feasible", bound=105)), None)
    assert not any("did not prove" in f for f in failures)


def service_doc(tier: str = "county", **extra: Any) -> dict[str, Any]:
    record = {
        "name": "rank_full_20_clients",
        "p50_seconds": 0.02,
        "p95_seconds": 0.025,
        "requests_per_second": 800.0,
        "errors": 0,
        "warmup_errors": 0,
        "error_kinds": [],
        "audit_rank_entries": 101,
        "audit_expected": 101,
        "audit_complete": True,
        "vacancies": 539,
        "load_average_before": [1.5, 1.0, 0.5],
        **extra,
    }
    return {"tier": tier, "records": [record]}


def test_the_service_target_is_reported_at_county_size_only() -> None:
    label = "ranked list through the service (SQLite, loopback): p95 <= 30 ms, 20 clients"
    rows = {t: s for t, _, s in targets({"matching": doc()})}
    assert rows[label] == "not measured"
    assert {t: s for t, _, s in targets({"service": service_doc()})}[label] == "met"
    slow = service_doc(p95_seconds=0.031)
    assert {t: s for t, _, s in targets({"service": slow})}[label] == "missed"
    smoke = service_doc("smoke")
    assert {t: s for t, _, s in targets({"service": smoke})}[label].startswith("not measured")


def test_service_errors_and_a_missing_audit_entry_fail_the_gate(tmp_path: Path) -> None:
    assert check_service(service_doc()) == []
    failed = check_service(service_doc(errors=3, error_kinds=["500"]))
    assert len(failed) == 1 and "3 timed" in failed[0] and "500" in failed[0]
    unaudited = check_service(service_doc(audit_rank_entries=100, audit_complete=False))
    assert len(unaudited) == 1 and "100 rank entries for 101 requests" in unaudited[0]
    # and through main, beside a passing matching document
    results = tmp_path / "results"
    results.mkdir()
    (results / "matching.json").write_text(json.dumps(doc()))
    baseline = tmp_path / "baseline.json"
    assert main(["--results", str(results), "--baseline", str(baseline), "--write-baseline"]) == 0
    (results / "service.json").write_text(json.dumps(service_doc()))
    assert main(["--results", str(results), "--baseline", str(baseline)]) == 0
    (results / "service.json").write_text(json.dumps(service_doc(audit_complete=False)))
    assert main(["--results", str(results), "--baseline", str(baseline)]) == 1
