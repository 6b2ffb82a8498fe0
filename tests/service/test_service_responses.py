"""Providers' answers to referrals in the service (issue 14 part 4): an officer records a
response; a decline takes the vacancy out of the child's ranking with its reason code, an
offer comes first among equals; access is checked as for a decision; every answer is in the
audit log; the migration adds the table to a store of the first schema and keeps its data.

On SQLite and PostgreSQL (when given; see servicekit).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from servicekit import DEMO, ESSEX, PASSWORD, PERSONAL, Service

from placematch.service import auth, db, store

API = "/api/v1"


def is_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    for value in PERSONAL:
        assert value not in r.text
    body: dict[str, Any] = r.json()
    return body


def _options(s: Service, child: str) -> list[dict[str, Any]]:
    r = s.client.get(f"{API}/children/{child}/rank", headers=s.h("officer"))
    assert r.status_code == 200, r.text
    return list(r.json()["options"])


def test_a_decline_leaves_the_ranking_with_its_reason(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    before = _options(fresh, "C05")
    assert before[0]["vacancy_id"] == "V05" and before[0]["response"] is None
    r = c.post(
        f"{API}/children/C05/responses",
        json={"vacancy_id": "V05", "response": "decline", "reason": "impact_on_residents"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in ("child_id", "vacancy_id", "response", "reason")} == {
        "child_id": "C05",
        "vacancy_id": "V05",
        "response": "decline",
        "reason": "impact_on_residents",
    }
    ranked = c.get(f"{API}/children/C05/rank", headers=h).json()
    assert "V05" not in [o["vacancy_id"] for o in ranked["options"]]
    assert ranked["excluded"]["declined_by_provider"] == 1
    [excluded] = [e for e in ranked["exclusions"] if e["vacancy_id"] == "V05"]
    assert excluded["rule"] == "declined_by_provider"
    assert "impact_on_residents" in excluded["reason"]
    # the declined key, as `placematch rank --json` has it: the vacancy, its provider, the code
    provider = c.get(f"{API}/vacancies/V05", headers=h).json()["record"]["provider_id"]
    assert ranked["declined"] == [
        {"vacancy_id": "V05", "provider_id": provider, "reason": "impact_on_residents"}
    ]
    assert c.get(f"{API}/children/C07/rank", headers=h).json()["declined"] == []
    answer = c.get(f"{API}/children/C05/why-not/V05", headers=h).json()
    assert answer["eligible"] is False and answer["rule"] == "declined_by_provider"
    assert "impact_on_residents" in answer["reason"]
    # only this child: another child still gets V05
    assert "V05" in [o["vacancy_id"] for o in _options(fresh, "C07")]
    # a decision on the declined vacancy is refused with the rule
    problem = is_problem(
        c.post(
            f"{API}/children/C05/decision",
            json={"vacancy_id": "V05", "reason": "panel"},
            headers=h,
        ),
        422,
    )
    assert "declined_by_provider" in problem["detail"]
    # The provider changes its mind: the latest answer stands.
    r = c.post(
        f"{API}/children/C05/responses",
        json={"vacancy_id": "V05", "response": "offer"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    after = _options(fresh, "C05")
    assert after[0]["vacancy_id"] == "V05" and after[0]["response"] == "offer"
    listed = c.get(f"{API}/children/C05/responses", headers=h).json()
    assert [(x["vacancy_id"], x["response"], x["reason"]) for x in listed] == [
        ("V05", "offer", None)
    ]


def test_an_offer_comes_first_among_equals(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    # Two vacancies with the same points for C11: a copy of its best at the same provider.
    best = _options(fresh, "C11")[0]
    stored = c.get(f"{API}/vacancies/{best['vacancy_id']}", headers=h).json()["record"]
    twin = {
        k: v
        for k, v in stored.items()
        if k not in ("urn",) and v != ""  # the API's body takes lists, not ';' cells
    }
    for key in ("capabilities", "connected_to", "ethnicity", "languages"):
        twin[key] = [x for x in str(stored.get(key, "")).split(";") if x]
    for key in ("beds", "age_min", "age_max", "weekly_cost", "fostered_now"):
        twin[key] = int(stored[key])
    twin["vacancy_id"] = "VZ9"  # sorts after every demo vacancy: last among equals
    r = c.post(f"{API}/vacancies", json=twin, headers=h)
    assert r.status_code == 201, r.text
    ranked = _options(fresh, "C11")
    ids = [o["vacancy_id"] for o in ranked]
    first, second = ids.index(best["vacancy_id"]), ids.index("VZ9")
    assert ranked[first]["points"] == ranked[second]["points"] and second == first + 1
    r = c.post(
        f"{API}/children/C11/responses",
        json={"vacancy_id": "VZ9", "response": "offer", "reason": "cost"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    ranked = _options(fresh, "C11")
    ids = [o["vacancy_id"] for o in ranked]
    assert ids.index("VZ9") == first and ids.index(best["vacancy_id"]) == first + 1
    assert ranked[first]["response"] == "offer" and ranked[first]["response_reason"] == "cost"


def test_bad_answers_are_problems_naming_the_field(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    url = f"{API}/children/C05/responses"
    no_reason = is_problem(
        c.post(url, json={"vacancy_id": "V05", "response": "decline"}, headers=h), 422
    )
    assert no_reason["errors"][0]["field"] == "reason"
    assert "required for a decline" in no_reason["errors"][0]["message"]
    bad = is_problem(c.post(url, json={"vacancy_id": "V05", "response": "maybe"}, headers=h), 422)
    assert bad["errors"][0]["field"] == "response"
    code = is_problem(
        c.post(url, json={"vacancy_id": "V05", "response": "decline", "reason": "far"}, headers=h),
        422,
    )
    assert code["errors"][0]["field"] == "reason" and "no_capacity" in code["detail"]
    is_problem(c.post(url, json={"vacancy_id": "V99", "response": "offer"}, headers=h), 404)
    extra = c.post(url, json={"vacancy_id": "V05", "response": "offer", "note": "x"}, headers=h)
    assert extra.status_code == 422
    assert c.get(url, headers=h).json() == []  # nothing was recorded


def test_access_is_checked_as_for_a_decision(fresh: Service) -> None:
    c = fresh.client
    body = {"vacancy_id": "V05", "response": "decline", "reason": "no_capacity"}
    # an officer of another authority: the same 404 as a child that does not exist
    theirs = is_problem(
        c.post(f"{API}/children/C05/responses", json=body, headers=fresh.h("officer_thurrock")),
        404,
    )
    ghost = is_problem(
        c.post(f"{API}/children/C99/responses", json=body, headers=fresh.h("officer_thurrock")),
        404,
    )
    assert theirs["title"] == ghost["title"]
    for user in ("commissioner", "admin"):
        is_problem(c.post(f"{API}/children/C05/responses", json=body, headers=fresh.h(user)), 403)
        is_problem(c.get(f"{API}/children/C05/responses", headers=fresh.h(user)), 403)
    assert c.post(f"{API}/children/C05/responses", json=body).status_code == 401
    assert c.get(f"{API}/children/C05/responses", headers=fresh.h("officer")).json() == []
    entries = c.get(f"{API}/audit?limit=50", headers=fresh.h("admin")).json()
    denied = [e for e in entries if e["action"] == "response" and e["outcome"] == "denied"]
    assert [e["username"] for e in denied] == ["officer_thurrock", "officer_thurrock"]


def test_every_answer_is_in_the_audit_log(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    url = f"{API}/children/C07/responses"
    for body in (
        {"vacancy_id": "V05", "response": "consider"},
        {"vacancy_id": "V05", "response": "decline", "reason": "no_capacity"},
    ):
        assert c.post(url, json=body, headers=h).status_code == 201
    entries = c.get(f"{API}/audit?limit=50", headers=fresh.h("admin")).json()
    mine = [
        (e["username"], e["resource"], e["resource_id"], e["reason"], e["authority"])
        for e in entries
        if e["action"] == "response" and e["outcome"] == "ok"
    ]
    assert mine == [  # newest first
        (
            "officer",
            "child",
            "C07/V05",
            "decline: no_capacity (replaces an earlier answer)",
            "E10000012",
        ),
        ("officer", "child", "C07/V05", "consider", "E10000012"),
    ]
    # Thurrock's officer does not see Essex's entries.
    theirs = c.get(f"{API}/audit?limit=200", headers=fresh.h("officer_thurrock")).json()
    assert not [e for e in theirs if e["action"] == "response" and e["outcome"] == "ok"]


def test_the_page_records_an_answer(fresh: Service) -> None:
    c = fresh.client
    c.cookies.clear()
    r = c.post(
        "/login",
        data={"username": "officer", "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = c.get("/children/C05")
    assert "Providers&#39; answers to referrals" in page.text or "Providers' answers" in page.text
    assert "No answer recorded yet." in page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf
    form = {"vacancy_id": "V05", "response": "decline", "reason": "", "csrf": csrf.group(1)}
    r = c.post("/children/C05/responses", data={**form, "csrf": "wrong"})
    assert r.status_code == 403
    r = c.post("/children/C05/responses", data=form)  # no reason: stays, says why
    assert r.status_code == 200 and "Not recorded: reason: required for a decline" in r.text
    r = c.post("/children/C05/responses", data={**form, "reason": "location"})
    assert r.status_code == 200
    assert "Response recorded: vacancy V05, decline (location)." in r.text
    assert '<table id="responses">' in r.text
    options = r.text[r.text.index('<table id="options">') : r.text.index("</table>")]
    assert ">V05<" not in options
    c.cookies.clear()


def test_the_migration_adds_the_table_and_keeps_the_data(empty_url: str) -> None:
    from alembic import command
    from sqlalchemy import func, inspect, select

    from placematch.service.models import ChildRecord, VacancyRecord

    engine = db.connect(empty_url)
    config = db._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    assert "provider_responses" not in inspect(engine).get_table_names()
    with db.session_factory(engine)() as s:  # a store of the first schema, with data
        store.load_path(s, DEMO)
        auth.add_user(s, "keeper", "password123", "placement_officer", ["Essex"])
        s.commit()
    assert db.migrate(engine) == db.head_revision()
    assert "provider_responses" in inspect(engine).get_table_names()
    with db.session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(ChildRecord)) == 12
        assert s.scalar(select(func.count()).select_from(VacancyRecord)) == 16
        assert auth.authenticate(s, "keeper", "password123") is not None
    engine.dispose()


def test_load_stores_the_folder_s_answers(empty_url: str, tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(DEMO, case)
    (case / "responses.csv").write_text(
        "vacancy_id,child_id,response,reason\nV05,C05,decline,no_capacity\nV11,C05,offer,\n",
        encoding="utf-8",
    )
    engine = db.connect(empty_url)
    db.migrate(engine)
    with db.session_factory(engine)() as s:
        report = store.load_path(s, case)
        s.commit()
        assert report.responses == 2 and report.to_dict()["responses"] == 2
        stored = {
            (r.child_id, r.vacancy_id, r.response, r.reason, r.user_id)
            for r in store.responses_of_child(s, "C05", ESSEX)
        }
        assert stored == {
            ("C05", "V05", "decline", "no_capacity", None),
            ("C05", "V11", "offer", None, None),
        }
        folder = store.available_folder(s)
        assert folder.response("C05", "V05") is not None
        # loading the folder again replaces, never repeats, the answers
        store.load_path(s, case)
        s.commit()
        assert len(store.responses_of_child(s, "C05", ESSEX)) == 2
    engine.dispose()
