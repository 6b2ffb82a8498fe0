"""The match summary's words for gaps and limits: honest about what was and was not proven."""

from __future__ import annotations

from matcher.result import _gap_text, _limits, _stopped


def test_a_proven_result_has_a_zero_gap() -> None:
    assert _gap_text(3_809_665, 3_809_665) == "0 points, proven"


def test_a_tiny_gap_is_never_printed_as_zero() -> None:
    # 357 points below a bound of 6.3e10 is 5.6e-09 relative: "0.0000 %" would hide it
    text = _gap_text(63_401_602_219, 63_401_602_576)
    assert text.startswith("357 points, ")
    assert "0.0000" not in text
    assert text == "357 points, < 0.0001 %"
    assert _gap_text(90, 100) == "10 points, 10.0000 %"


def test_the_limits_and_what_stopped_the_search_are_named() -> None:
    assert _limits({"deterministic_time_limit": 5.0, "time_limit_s": 120.0}) == (
        "work limit 5 (deterministic), wall-clock net 120.0 s"
    )
    assert _limits({"deterministic_time_limit": 0.0, "time_limit_s": 30.0}) == (
        "time limit 30.0 s (wall clock)"
    )
    assert _stopped("optimal", {"stopped_by": ""}) == []
    (work,) = _stopped("feasible", {"stopped_by": "work_limit"})
    assert "same answer on any machine" in work
    (clock,) = _stopped("feasible", {"stopped_by": "wall_clock"})
    assert "another run" in clock and "--time-limit" in clock
