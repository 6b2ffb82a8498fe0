"""The ranking API's date, urgency and look-ahead (issue 14 part 2 through the API): ``on``,
``urgency`` and ``within_days`` query parameters, and ``date``, ``urgency``,
``within_days`` and ``free_within_days`` in the answer, as ``placematch rank --json``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from servicekit import Service
from test_service_dates import BODY, make_emergency

from placematch.service import actions

API = "/api/v1"
#: V51 frees fifteen days after the clock's date (open-ended), V50 five (until 30 April).
LATER = {**BODY, "vacancy_id": "V51", "available_from": "2026-03-20", "available_until": ""}


def _rank(fresh: Service, query: str = "", status: int = 200) -> dict[str, Any]:
    r = fresh.client.get(f"{API}/children/C11/rank{query}", headers=fresh.h("officer"))
    assert r.status_code == status, r.text
    return dict(r.json())


def _ids(answer: dict[str, Any]) -> list[str]:
    return [o["vacancy_id"] for o in answer["options"]]


@pytest.fixture
def dated(fresh: Service, monkeypatch: pytest.MonkeyPatch) -> Service:
    for body in (BODY, LATER):
        r = fresh.client.post(f"{API}/vacancies", json=body, headers=fresh.h("officer"))
        assert r.status_code == 201, r.text
    monkeypatch.setattr(actions, "clock", lambda: dt.date(2026, 3, 5))
    return fresh


def test_the_answer_has_the_date_urgency_and_what_frees_soon(dated: Service) -> None:
    answer = _rank(dated)
    assert answer["date"] == "2026-03-05" and answer["urgency"] is None
    assert answer["within_days"] == 0 and answer["free_within_days"] == []
    assert "V50" not in _ids(answer)
    # Asked to look ahead 7 days: V50 (free on the 10th), not V51 (the 20th).
    answer = _rank(dated, "?within_days=7")
    assert answer["within_days"] == 7
    assert answer["free_within_days"] == [
        {
            "vacancy_id": "V50",
            "placement_type": "inhouse_foster",
            "available_from": "2026-03-10",
            "available_until": "2026-04-30",
        }
    ]
    assert [s["vacancy_id"] for s in _rank(dated, "?within_days=15")["free_within_days"]] == [
        "V50",
        "V51",
    ]


def test_on_asks_about_another_date(dated: Service) -> None:
    answer = _rank(dated, "?on=2026-03-10")
    assert answer["date"] == "2026-03-10" and "V50" in _ids(answer)
    assert "V51" not in _ids(answer)
    answer = _rank(dated, "?on=2026-03-20")
    assert {"V50", "V51"} <= set(_ids(answer))
    # past V50's last day it is excluded again, with its dates
    answer = _rank(dated, "?on=2026-05-01")
    assert "V50" not in _ids(answer) and "V51" in _ids(answer)
    # the answer of one date is never the answer kept for another
    assert "V50" not in _ids(_rank(dated))


def test_an_emergency_looks_ahead_seven_days_and_ranks_on_today(dated: Service) -> None:
    # Asked as an emergency: today's date whatever `on` would say, and 7 days ahead.
    answer = _rank(dated, "?urgency=emergency")
    assert answer["urgency"] == "emergency" and answer["date"] == "2026-03-05"
    assert answer["within_days"] == 7
    assert [s["vacancy_id"] for s in answer["free_within_days"]] == ["V50"]
    answer = _rank(dated, "?urgency=Emergency&on=2026-03-20")
    assert answer["date"] == "2026-03-05" and "V51" not in _ids(answer)
    assert _rank(dated, "?urgency=emergency&within_days=0")["free_within_days"] == []
    # A child recorded as an emergency is one by default; asked as planned, it is not.
    make_emergency(dated, "C11")
    answer = _rank(dated)
    assert answer["urgency"] == "emergency" and answer["within_days"] == 7
    answer = _rank(dated, "?urgency=planned&on=2026-03-20")
    assert answer["urgency"] == "planned" and answer["date"] == "2026-03-20"
    assert answer["within_days"] == 0 and "V51" in _ids(answer)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?on=2026-02-30", "on"),
        ("?on=05/03/2026", "on"),
        ("?on=2026-03-05T00:00", "on"),
        ("?on=tomorrow", "on"),
        ("?urgency=tonight", "urgency"),
        ("?within_days=-1", "within_days"),
        ("?within_days=367", "within_days"),
        ("?within_days=seven", "within_days"),
    ],
)
def test_bad_parameters_are_problems_naming_the_field(
    service: Service, query: str, field: str
) -> None:
    r = service.client.get(f"{API}/children/C11/rank{query}", headers=service.h("officer"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["errors"][0]["field"] == field
    value = query.split("=", 1)[1]
    assert value not in body["detail"] and value not in str(body["errors"])


def test_the_openapi_document_describes_the_parameters(service: Service) -> None:
    spec = service.client.get(f"{API}/openapi.json").json()
    params = {
        p["name"]: p
        for p in spec["paths"][f"{API}/children/{{child_id}}/rank"]["get"]["parameters"]
    }
    assert {"on", "urgency", "within_days", "top"} <= set(params)
    assert params["urgency"]["schema"]["enum"] == ["emergency", "urgent", "planned"]
    assert "YYYY-MM-DD" in params["on"]["description"]
    assert params["within_days"]["schema"]["anyOf"][0]["maximum"] == actions.MAX_WITHIN_DAYS
