"""matcher.rank with dates (issue 14 part 2): soon_free against a one-vacancy-at-a-time oracle."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.rank import UnknownIdError, rank_child, soon_free, why_not

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
TODAY = dt.date(2026, 3, 1)


def dated() -> CaseFolder:
    folder = load_case_folder(DEMO)
    vacancies = tuple(
        replace(
            v,
            available_from=TODAY + dt.timedelta(days=2 * j - 8),
            available_until=None if j % 3 else TODAY + dt.timedelta(days=2 * j + 5),
        )
        for j, v in enumerate(folder.vacancies)
    )
    return replace(folder, vacancies=vacancies).with_dates(None, TODAY)


def oracle(folder: CaseFolder, child_id: str, days: int) -> list[str]:
    """Vacancies free within ``days`` that the child could take on their first free day."""
    day = folder.date_of(folder.child(child_id))
    assert day is not None
    out = []
    for v in folder.vacancies:
        start = v.available_from
        if start is None or not day < start <= day + dt.timedelta(days=days):
            continue
        later = folder.with_dates(start, start)  # the child's date moved to that day
        if why_not(later, child_id, v.vacancy_id).exclusion is None:
            out.append(v.vacancy_id)
    return out


@pytest.mark.parametrize("days", [1, 5, 30])
def test_soon_free_agrees_with_the_oracle(days: int) -> None:
    folder = dated()
    for child in folder.children:
        day, found = soon_free(folder, child.child_id, days)
        assert day == TODAY
        assert sorted(f.vacancy_id for f in found) == sorted(oracle(folder, child.child_id, days))
        assert [f.available_from for f in found] == sorted(f.available_from for f in found)
        eligible = {o.vacancy_id for o in rank_child(folder, child.child_id).options}
        assert eligible.isdisjoint(f.vacancy_id for f in found)


def test_some_vacancies_free_soon_in_the_fixture() -> None:
    folder = dated()
    assert any(soon_free(folder, c.child_id, 30)[1] for c in folder.children)


def test_no_window_or_no_date_finds_nothing() -> None:
    folder = dated()
    assert soon_free(folder, "C07", 0) == (TODAY, ())
    undated = load_case_folder(DEMO)
    assert soon_free(undated, "C07", 7) == (None, ())
    with pytest.raises(UnknownIdError):
        soon_free(folder, "NOPE", 7)
