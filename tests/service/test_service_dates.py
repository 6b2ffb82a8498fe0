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


#: A child's cells that the API takes as JSON arrays.
CHILD_LISTS = ("needs", "placement_types", "avoid_areas", "risk_flags")


def make_emergency(fresh: Service, child_id: str) -> None:
    """Put the child back with ``urgency = emergency`` (and no needed_by)."""
    c, h = fresh.client, fresh.h("officer")
    record = c.get(f"{API}/children/{child_id}", headers=h).json()["record"]
    body = {k: [x for x in v.split(";") if x] if k in CHILD_LISTS else v for k, v in record.items()}
    body = {k: v for k, v in body.items() if v not in ("", None)}
    r = c.put(
        f"{API}/children/{child_id}",
        json={**body, "urgency": "emergency", "needed_by": ""},
        headers=h,
    )
    assert r.status_code == 200, r.text


def test_an_emergency_s_page_lists_what_frees_within_seven_days(
    fresh: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``placematch rank`` lists them below an emergency's ranking."""
    from test_service_pages import sign_in

    c, h = fresh.client, fresh.h("officer")
    # V50 frees on 2026-03-10, five days after the clock's date; V51 fifteen days after
    later = {**BODY, "vacancy_id": "V51", "available_from": "2026-03-20"}
    for body in (BODY, later):
        assert c.post(f"{API}/vacancies", json=body, headers=h).status_code == 201
    monkeypatch.setattr(actions, "clock", lambda: dt.date(2026, 3, 5))
    sign_in(fresh, "officer")
    # not an emergency: no such list
    assert 'id="soon"' not in c.get("/children/C11").text
    make_emergency(fresh, "C11")
    page = c.get("/children/C11").text
    assert "Free within 7 days of 2026-03-05" in page
    table = page.split('<table id="soon-free">')[1].split("</table>")[0]
    assert '<th scope="row">V50</th>' in table and "V51" not in table
    assert "<td>2026-03-10</td><td>2026-04-30</td>" in table
    # on V50's first day it is an option, and V51 is still ten days away
    monkeypatch.setattr(actions, "clock", lambda: dt.date(2026, 3, 10))
    page = c.get("/children/C11").text
    assert "Free within 7 days of 2026-03-10" in page and 'id="soon-none"' in page
