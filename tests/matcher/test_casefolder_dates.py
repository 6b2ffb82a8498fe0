"""Dates and urgency in the case folder (issue 14 part 2): parsing, validation, round trip."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from matcher.casefolder import load_case_folder, write_case_folder
from matcher.domain import InvalidFieldError
from matcher.vocabulary import Urgency
from tests.matcher.test_casefolder import child, make, one_problem, problems_of, vacancy

D = dt.date


def test_dates_and_urgency_are_read(tmp_path: Path) -> None:
    make(
        tmp_path,
        [child(needed_by="2026-03-02", urgency="Emergency")],
        [vacancy(available_from="2026-03-01", available_until="2026-03-31")],
    )
    f = load_case_folder(tmp_path)
    c, v = f.children[0], f.vacancies[0]
    assert c.needed_by == D(2026, 3, 2) and c.urgency is Urgency.EMERGENCY
    assert (v.available_from, v.available_until) == (D(2026, 3, 1), D(2026, 3, 31))


def test_blank_dates_are_none(tmp_path: Path) -> None:
    make(
        tmp_path,
        [child(needed_by="", urgency=" ")],
        [vacancy(available_from="", available_until="")],
    )
    f = load_case_folder(tmp_path)
    assert f.children[0].needed_by is None and f.children[0].urgency is None
    assert f.vacancies[0].available_from is None and f.vacancies[0].available_until is None
    assert f.vacancies[0].available_on(D(1999, 1, 1))


def test_folder_without_the_columns_loads_as_before(tmp_path: Path) -> None:
    make(tmp_path)  # the fixtures' rows have none of the date columns
    f = load_case_folder(tmp_path)
    assert f.children[0].needed_by is None and f.vacancies[0].available_from is None


@pytest.mark.parametrize("text", ["31/03/2026", "2026-3-1", "2026-02-30", "tomorrow", "20260301"])
def test_bad_vacancy_date_names_line_field_and_format(tmp_path: Path, text: str) -> None:
    make(tmp_path, vacancies=[vacancy(available_from=text)])
    p = one_problem(tmp_path)
    assert (p.file, p.line, p.field) == ("vacancies.csv", 2, "available_from")
    # Not echoed (issue 18: any cell may hold personal data typed in the wrong place).
    assert "YYYY-MM-DD" in p.message and text not in p.message
    assert f"({len(text)} characters, value not shown)" in p.message


@pytest.mark.parametrize("text", ["31/03/2026", "2026-02-30"])
def test_bad_child_date_is_never_echoed(tmp_path: Path, text: str) -> None:
    make(tmp_path, children=[child(needed_by=text)])
    p = one_problem(tmp_path)
    assert (p.file, p.line, p.field) == ("children.csv", 2, "needed_by")
    assert "YYYY-MM-DD" in p.message and text not in str(p)


def test_unknown_urgency_lists_the_vocabulary_without_echo(tmp_path: Path) -> None:
    make(tmp_path, children=[child(urgency="asap-secret")])
    p = one_problem(tmp_path)
    assert (p.file, p.line, p.field) == ("children.csv", 2, "urgency")
    assert "emergency, urgent, planned" in p.message and "asap-secret" not in str(p)


def test_until_before_from_is_an_error_on_until(tmp_path: Path) -> None:
    make(tmp_path, vacancies=[vacancy(available_from="2026-03-10", available_until="2026-03-09")])
    p = one_problem(tmp_path)
    assert (p.file, p.line, p.field) == ("vacancies.csv", 2, "available_until")
    assert "2026-03-10" in p.message and "2026-03-09" in p.message


def test_until_before_from_is_reported_beside_other_problems_of_the_line(tmp_path: Path) -> None:
    make(
        tmp_path,
        vacancies=[vacancy(beds="0", available_from="2026-03-10", available_until="2026-03-09")],
    )
    fields = sorted(p.field or "" for p in problems_of(tmp_path))
    assert fields == ["available_until", "beds"]


def test_same_day_from_and_until_is_one_day(tmp_path: Path) -> None:
    make(tmp_path, vacancies=[vacancy(available_from="2026-03-10", available_until="2026-03-10")])
    v = load_case_folder(tmp_path).vacancies[0]
    assert v.available_on(D(2026, 3, 10))
    assert not v.available_on(D(2026, 3, 9)) and not v.available_on(D(2026, 3, 11))


def test_round_trip_keeps_dates(tmp_path: Path) -> None:
    make(
        tmp_path / "a",
        [child(needed_by="2026-04-01", urgency="planned")],
        [vacancy(available_from="2026-03-01")],
    )
    f = load_case_folder(tmp_path / "a")
    write_case_folder(f, tmp_path / "b")
    assert load_case_folder(tmp_path / "b") == f


def test_domain_checks_types_and_order(tmp_path: Path) -> None:
    make(tmp_path)
    f = load_case_folder(tmp_path)
    c, v = f.children[0], f.vacancies[0]
    with pytest.raises(InvalidFieldError) as exc:
        replace(v, available_from=D(2026, 3, 2), available_until=D(2026, 3, 1))
    assert exc.value.field == "available_until"
    with pytest.raises(InvalidFieldError) as exc:
        replace(v, available_from="2026-03-01")  # type: ignore[arg-type]
    assert exc.value.field == "available_from"
    with pytest.raises(InvalidFieldError) as exc:
        replace(c, needed_by=dt.datetime(2026, 3, 1, 12))
    assert exc.value.field == "needed_by"
    with pytest.raises(InvalidFieldError) as exc:
        replace(c, urgency="emergency")  # type: ignore[arg-type]
    assert exc.value.field == "urgency"


def test_child_date_needed() -> None:
    on, today = D(2026, 5, 1), D(2026, 4, 1)
    base = load_case_folder(Path(__file__).parents[2] / "examples" / "demo").children[0]
    assert base.date_needed(on, today) == on
    assert replace(base, urgency=Urgency.PLANNED).date_needed(on, today) == on
    assert replace(base, urgency=Urgency.EMERGENCY).date_needed(on, today) == today
    given = replace(base, urgency=Urgency.EMERGENCY, needed_by=D(2026, 6, 1))
    assert given.date_needed(on, today) == D(2026, 6, 1)
