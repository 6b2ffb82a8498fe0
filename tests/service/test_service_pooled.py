"""The service carries a vacancy's pooled-folder cells (owner_la, offered_to_pool)."""

from __future__ import annotations

from servicekit import Service

API = "/api/v1"
BODY = {
    "vacancy_id": "V60",
    "provider_id": "P60",
    "placement_type": "inhouse_foster",
    "postcode": "CM1 1QH",
    "beds": 1,
    "age_min": 0,
    "age_max": 17,
    "sex": "any",
    "ofsted": "good",
    "weekly_cost": 400,
}


def test_offered_to_pool_is_stored_as_written(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    r = c.post(f"{API}/vacancies", json={**BODY, "offered_to_pool": "FALSE"}, headers=h)
    assert r.status_code == 201, r.text
    record = c.get(f"{API}/vacancies/V60", headers=h).json()["record"]
    assert (record["owner_la"], record["offered_to_pool"]) == ("", "false")


def test_bad_pool_cells_are_problems_naming_the_field(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    r = c.post(f"{API}/vacancies", json={**BODY, "offered_to_pool": "maybe"}, headers=h)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["offered_to_pool"]
    # One owner named makes the folder pooled: the stored vacancies, with no owner, are
    # each a problem too, beside the unknown owner itself.
    r = c.post(f"{API}/vacancies", json={**BODY, "owner_la": "Atlantis"}, headers=h)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert {e["field"] for e in errors} == {"owner_la"}
    assert sum("not an authority" in e["message"] for e in errors) == 1
    assert all("Atlantis" not in e["message"] for e in errors)
