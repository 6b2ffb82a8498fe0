"""The service ranks on today's date (issue 14 part 2): a vacancy not yet free is excluded
with its dates, and offered once the (replaced) clock reaches them."""

from __future__ import annotations

import datetime as dt

import pytest
from servicekit import Service

from placematch.service import actions

API = "/api/v1"
BODY = {
    "vacancy_id": "V50",
    "provider_id": "P50",
    "placement_type": "inhouse_foster",
    "postcode": "CM1 1QH",
    "beds": 1,
    "age_min": 0,
    "age_max": 17,
    "sex": "any",
    "ofsted": "good",
    "weekly_cost": 400,
    "available_from": "2026-03-10",
    "available_until": "2026-04-30",
}


def _why(fresh: Service) -> dict[str, object]:
    r = fresh.client.get(
        f"{API}/children/C11/why-not/V50",
        headers={**fresh.h("officer"), "X-Placematch-Reason": "panel review"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_rank_and_why_not_use_the_service_s_date(
    fresh: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, h = fresh.client, fresh.h("officer")
    assert c.post(f"{API}/vacancies", json=BODY, headers=h).status_code == 201
    monkeypatch.setattr(actions, "clock", lambda: dt.date(2026, 3, 1))
    ranked = c.get(f"{API}/children/C11/rank", headers=h).json()
    assert "V50" not in [o["vacancy_id"] for o in ranked["options"]]
    assert ranked["excluded"]["not_available_on_date"] == 1
    answer = _why(fresh)
    assert answer["eligible"] is False and answer["rule"] == "not_available_on_date"
    assert "from 2026-03-10 until 2026-04-30" in str(answer["reason"])
    monkeypatch.setattr(actions, "clock", lambda: dt.date(2026, 3, 10))
    ranked = c.get(f"{API}/children/C11/rank", headers=h).json()
    assert "V50" in [o["vacancy_id"] for o in ranked["options"]]


def test_a_bad_date_is_a_problem_naming_the_field(fresh: Service) -> None:
    r = fresh.client.post(
        f"{API}/vacancies",
        json={**BODY, "available_until": "2026-03-01"},
        headers=fresh.h("officer"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "available_until"
