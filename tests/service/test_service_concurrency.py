"""Two officers deciding on the same bed at the same moment, through a real HTTP server.

Exactly one succeeds; the other gets a clear 409; nothing is lost or doubled. On SQLite and
PostgreSQL (see conftest).
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
from servicekit import PASSWORD, Service, live
from sqlalchemy import func, select

ROUNDS = 6


def _race(base: str, calls: list[tuple[str, str, dict[str, str]]]) -> list[httpx.Response]:
    """Send the calls at once (one thread and connection each, released by a barrier)."""
    barrier = threading.Barrier(len(calls))
    out: list[httpx.Response | None] = [None] * len(calls)

    def go(i: int, token: str, path: str, body: dict[str, str]) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            client.get("/healthz")  # connect first, so that only the decision races
            barrier.wait()
            out[i] = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

    threads = [threading.Thread(target=go, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in out)
    return [r for r in out if r is not None]


@pytest.fixture
def second_officer(fresh: Service) -> str:
    from placematch.service import auth

    with fresh.app.state.sessions() as session:
        auth.add_user(session, "officer2", PASSWORD, "placement_officer", ["Essex"])
        session.commit()
    r = fresh.client.post("/api/v1/tokens", json={"username": "officer2", "password": PASSWORD})
    return str(r.json()["token"])


def test_two_officers_one_bed(fresh: Service, second_officer: str) -> None:
    from placematch.service.models import AuditEntry, Decision, VacancyRecord

    c, h = fresh.client, fresh.h("officer")
    tokens = (fresh.tokens["officer"], second_officer)
    winners: Counter[str] = Counter()
    with live(fresh.app) as base:
        for k in range(ROUNDS):
            vacancy = f"VR{k}"
            r = c.post(
                "/api/v1/vacancies",
                json={
                    "vacancy_id": vacancy,
                    "provider_id": f"PR{k}",
                    "placement_type": "inhouse_foster",
                    "postcode": "CM1 1QH",
                    "beds": 1,
                    "age_min": 0,
                    "age_max": 17,
                    "sex": "any",
                    "ofsted": "good",
                    "weekly_cost": 400,
                },
                headers=h,
            )
            assert r.status_code == 201, r.text
            kids = [f"R{k}a", f"R{k}b"]
            for kid in kids:
                r = c.post(
                    "/api/v1/children",
                    json={
                        "child_id": kid,
                        "age": 9,
                        "sex": "M",
                        "la": "Essex",
                        "home_postcode": "CM1 1QH",
                    },
                    headers=h,
                )
                assert r.status_code == 201, r.text
            responses = _race(
                base,
                [
                    (
                        tokens[i],
                        f"/api/v1/children/{kids[i]}/decision",
                        {"vacancy_id": vacancy, "reason": f"officer {i}"},
                    )
                    for i in range(2)
                ],
            )
            codes = sorted(r.status_code for r in responses)
            assert codes == [201, 409], [r.text for r in responses]
            loser = next(r for r in responses if r.status_code == 409)
            assert loser.headers["content-type"].startswith("application/problem+json")
            assert f"vacancy {vacancy} has no free bed left" in loser.json()["detail"]
            winners[next(r for r in responses if r.status_code == 201).json()["child_id"]] += 1
        # Same child, two vacancies, two officers: one placement, one bed taken.
        responses = _race(
            base,
            [
                (tokens[0], "/api/v1/children/C07/decision", {"vacancy_id": "V07", "reason": "a"}),
                (tokens[1], "/api/v1/children/C07/decision", {"vacancy_id": "V16", "reason": "b"}),
            ],
        )
        assert sorted(r.status_code for r in responses) == [201, 409]
    with fresh.app.state.sessions() as s:
        for k in range(ROUNDS):
            v = s.scalar(select(VacancyRecord).where(VacancyRecord.vacancy_id == f"VR{k}"))
            assert v is not None and v.beds_taken == 1
            n = s.scalar(
                select(func.count()).select_from(Decision).where(Decision.vacancy_id == f"VR{k}")
            )
            assert n == 1
        taken = {
            v.vacancy_id: v.beds_taken
            for v in s.scalars(
                select(VacancyRecord).where(VacancyRecord.vacancy_id.in_(["V07", "V16"]))
            )
        }
        assert sorted(taken.values()) == [0, 1]
        assert (
            s.scalar(select(func.count()).select_from(Decision).where(Decision.child_id == "C07"))
            == 1
        )
        outcomes = Counter(
            e.outcome for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "decision"))
        )
        assert outcomes["ok"] == ROUNDS + 1 and outcomes["conflict"] == ROUNDS + 1
    assert sum(winners.values()) == ROUNDS
