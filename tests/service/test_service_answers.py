"""A ranking's JSON is kept per store revision, date and question (``placematch.service.answers``):
sent again, byte for byte, until the store changes or the date moves; access is checked and
the request audited every time; the kept bodies stay within their budget. On SQLite and
PostgreSQL (see conftest)."""

from __future__ import annotations

import datetime as dt

import pytest
from servicekit import Service

from placematch.service import actions
from placematch.service.answers import Answers, answers_of

API = "/api/v1"


def _rank(s: Service, child: str, user: str = "officer", query: str = "") -> tuple[int, str, bytes]:
    r = s.client.get(f"{API}/children/{child}/rank{query}", headers=s.h(user))
    return r.status_code, r.headers.get("x-placematch-cache", ""), r.content


def test_the_second_request_is_the_kept_answer(fresh: Service) -> None:
    status, cache, first = _rank(fresh, "C05")
    assert (status, cache) == (200, "miss")
    status, cache, second = _rank(fresh, "C05")
    assert (status, cache) == (200, "hit")
    assert second == first
    # another question is another answer
    status, cache, top = _rank(fresh, "C05", query="?top=1")
    assert (status, cache) == (200, "miss") and top != first
    assert _rank(fresh, "C05", query="?top=1")[1:] == ("hit", top)
    assert _rank(fresh, "C07")[1] == "miss"


def test_a_change_is_seen_by_the_next_request(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    _, _, before = _rank(fresh, "C05")
    best = c.get(f"{API}/children/C05/rank", headers=h).json()["options"][0]["vacancy_id"]
    r = c.post(
        f"{API}/children/C05/responses",
        json={"vacancy_id": best, "response": "decline", "reason": "no_capacity"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    status, cache, after = _rank(fresh, "C05")
    assert (status, cache) == (200, "miss") and after != before
    ranked = c.get(f"{API}/children/C05/rank", headers=h).json()
    assert best not in [o["vacancy_id"] for o in ranked["options"]]
    assert [d["vacancy_id"] for d in ranked["declined"]] == [best]


def test_another_date_is_another_answer(fresh: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "clock", lambda: dt.date(2026, 3, 1))
    assert _rank(fresh, "C05")[1] == "miss"
    assert _rank(fresh, "C05")[1] == "hit"
    monkeypatch.setattr(actions, "clock", lambda: dt.date(2026, 3, 2))
    assert _rank(fresh, "C05")[1] == "miss"


def test_a_kept_answer_is_still_checked_and_audited(fresh: Service) -> None:
    assert _rank(fresh, "C06")[:2] == (200, "miss")
    for _ in range(3):
        assert _rank(fresh, "C06")[:2] == (200, "hit")
        # another authority's officer: the 404 of a missing child, kept answer or not
        assert _rank(fresh, "C06", user="officer_thurrock")[0] == 404
    entries = fresh.client.get(f"{API}/audit?limit=100", headers=fresh.h("admin")).json()
    ranks = [e for e in entries if e["action"] == "rank" and e["resource_id"] == "C06"]
    assert [e["outcome"] for e in ranks].count("ok") == 4
    assert [e["outcome"] for e in ranks].count("denied") == 3
    assert answers_of(fresh.app.state.engine).hits == 3


def test_the_budget_drops_the_least_recently_read() -> None:
    kept = Answers(budget=10)
    day = dt.date(2026, 12, 6)
    kept.put(1, day, ("A", None), b"aaaa")
    kept.put(1, day, ("B", None), b"bbbb")
    assert kept.get(1, day, ("A", None)) == b"aaaa"  # A is now the most recently read
    kept.put(1, day, ("C", None), b"cccc")  # 12 bytes > 10: B goes
    assert kept.get(1, day, ("B", None)) is None
    assert kept.get(1, day, ("A", None)) == b"aaaa"
    assert kept.get(1, day, ("C", None)) == b"cccc"
    assert kept.size_bytes == 8 and len(kept) == 2
    kept.put(1, day, ("D", None), b"d" * 11)  # larger than the budget: never kept
    assert kept.get(1, day, ("D", None)) is None and len(kept) == 2


def test_another_revision_drops_the_kept_answers_and_an_older_one_is_not_kept() -> None:
    kept = Answers()
    day = dt.date(2026, 12, 6)
    kept.put(2, day, ("A", None), b"two")
    assert kept.get(3, day, ("A", None)) is None  # asked at a newer revision: not this one
    kept.put(3, day, ("B", None), b"three")
    assert len(kept) == 1 and kept.get(3, day, ("B", None)) == b"three"
    kept.put(2, day, ("A", None), b"late")  # a slow request built on an older revision
    assert kept.get(2, day, ("A", None)) is None and kept.get(3, day, ("A", None)) is None
    assert kept.hits == 1 and kept.misses == 3
