"""Decisions can be confirmed and undone (issue 15 part 5).

A withdrawal, through the API, the page and the command line, frees the bed, puts the child
back on the waiting list and records who and why in the audit log; a placed child's page shows
the placement, not a ranking; a batch match's proposals are accepted one child at a time. On
SQLite and PostgreSQL (the ``fresh`` fixture).
"""

from __future__ import annotations

import re
import time
from typing import Any

from servicekit import DEMO, ESSEX, PASSWORD, Service

from placematch.cli import main

API = "/api/v1"


def is_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    return body


def _decide(fresh: Service, child: str, vacancy: str, user: str = "officer") -> None:
    r = fresh.client.post(
        f"{API}/children/{child}/decision",
        json={"vacancy_id": vacancy, "reason": "in area"},
        headers=fresh.h(user),
    )
    assert r.status_code == 201, r.text


def _beds_free(fresh: Service, vacancy: str) -> int:
    r = fresh.client.get(f"{API}/vacancies/{vacancy}", headers=fresh.h("officer"))
    return int(r.json()["beds_free"])


def _audit(fresh: Service, action: str) -> list[dict[str, Any]]:
    log = fresh.client.get(f"{API}/audit?limit=500", headers=fresh.h("admin")).json()
    return [e for e in log if e["action"] == action]


def test_withdrawal_through_the_api_frees_the_bed_and_is_audited(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    assert c.get(f"{API}/children/C06/rank", headers=h).json()["decision"] is None
    _decide(fresh, "C06", "V16")
    assert _beds_free(fresh, "V16") == 0
    assert "V16" not in [
        o["vacancy_id"] for o in c.get(f"{API}/children/C07/rank", headers=h).json()["options"]
    ]
    # A placed child's ranking (for a planned move) says where it lives now.
    placed = c.get(f"{API}/children/C06/rank", headers=h).json()["decision"]
    assert placed["vacancy_id"] == "V16" and placed["child_id"] == "C06"
    # A reason is required; another authority's officer gets the 404 of an unknown child.
    is_problem(
        c.post(f"{API}/children/C06/decision/withdraw", json={"reason": " "}, headers=h), 422
    )
    is_problem(
        c.post(
            f"{API}/children/C06/decision/withdraw",
            json={"reason": "x"},
            headers=fresh.h("officer_thurrock"),
        ),
        404,
    )
    is_problem(
        c.post(
            f"{API}/children/C06/decision/withdraw",
            json={"reason": "x"},
            headers=fresh.h("commissioner"),
        ),
        403,
    )
    assert _beds_free(fresh, "V16") == 0  # none of those changed anything
    r = c.post(
        f"{API}/children/C06/decision/withdraw",
        json={"reason": "carer fell ill"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["withdrawn"]["vacancy_id"] == "V16" and body["withdrawn"]["child_id"] == "C06"
    assert body["reason"] == "carer fell ill"
    assert _beds_free(fresh, "V16") == 1
    child = c.get(f"{API}/children/C06", headers=h).json()
    assert child["status"] == "waiting" and "decision" not in child
    assert c.get(f"{API}/children/C06/rank", headers=h).json()["decision"] is None
    # The bed is offered again, to this child and to others.
    assert "V16" in [
        o["vacancy_id"] for o in c.get(f"{API}/children/C07/rank", headers=h).json()["options"]
    ]
    # Who and why, in the audit log; a second withdrawal is a 409, audited as a conflict.
    is_problem(
        c.post(f"{API}/children/C06/decision/withdraw", json={"reason": "again"}, headers=h), 409
    )
    entries = _audit(fresh, "withdraw")
    ok = [e for e in entries if e["outcome"] == "ok"]
    assert len(ok) == 1
    assert ok[0]["username"] == "officer" and ok[0]["reason"] == "carer fell ill"
    assert ok[0]["resource_id"] == "C06/V16" and ok[0]["authority"] == "E10000012"
    assert [e["outcome"] for e in entries if e["reason"] == "again"] == ["conflict"]
    assert any(e["outcome"] == "denied" for e in entries)
    # The child can be placed again, and the bed taken again.
    _decide(fresh, "C06", "V16")
    assert _beds_free(fresh, "V16") == 0
    # Its history keeps both decisions and the withdrawal between them, oldest first; only
    # officers of its authority may read it (404 as for an unknown child otherwise).
    history = c.get(f"{API}/children/C06/history", headers=h).json()
    assert [(e["event"], e["vacancy_id"], e["by"]) for e in history] == [
        ("decision", "V16", "officer"),
        ("withdrawal", "V16", "officer"),
        ("decision", "V16", "officer"),
    ]
    assert history[1]["reason"] == "carer fell ill" and history[0]["reason"] == "in area"
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)
    is_problem(c.get(f"{API}/children/C06/history", headers=fresh.h("officer_thurrock")), 404)
    assert c.get(f"{API}/children/C07/history", headers=h).json() == []


def test_a_child_never_placed_has_nothing_to_withdraw(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    problem = is_problem(
        c.post(f"{API}/children/C07/decision/withdraw", json={"reason": "x"}, headers=h), 409
    )
    assert "no recorded decision" in problem["detail"]
    is_problem(
        c.post(f"{API}/children/NOPE/decision/withdraw", json={"reason": "x"}, headers=h), 404
    )


def test_withdrawal_from_the_command_line(fresh: Service, capsys: Any) -> None:
    _decide(fresh, "C06", "V16")
    db = ["--db", fresh.url]
    # Not a user of the store: one line, exit 2, nothing changed.
    assert main(["decision", "withdraw", "C06", "--reason", "x", "--user", "nobody", *db]) == 2
    assert "no active user 'nobody'" in capsys.readouterr().err
    # Another authority's officer: the answer of an unknown child.
    assert (
        main(["decision", "withdraw", "C06", "--reason", "x", "--user", "officer_thurrock", *db])
        == 2
    )
    assert "'C06' is not among the records you may see" in capsys.readouterr().err
    assert _beds_free(fresh, "V16") == 0
    status = main(
        [
            "decision",
            "withdraw",
            "C06",
            "--reason",
            "panel changed its mind",
            "--user",
            "officer",
            *db,
        ]
    )
    assert status == 0
    assert "vacancy V16 has its bed free again" in capsys.readouterr().out
    assert _beds_free(fresh, "V16") == 1
    ok = [e for e in _audit(fresh, "withdraw") if e["outcome"] == "ok"]
    assert [(e["username"], e["client"], e["reason"]) for e in ok] == [
        ("officer", "cli", "panel changed its mind")
    ]
    assert main(["decision", "withdraw", "C06", "--reason", "x", "--user", "officer", *db]) == 2
    assert "no recorded decision" in capsys.readouterr().err


def _sign_in(fresh: Service, user: str) -> str:
    """Sign in through the form; the page's CSRF token."""
    c = fresh.client
    c.cookies.clear()
    r = c.post("/login", data={"username": user, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', c.get("/").text)
    assert match
    return match.group(1)


def test_the_page_confirms_shows_the_placement_and_withdraws(fresh: Service) -> None:
    c = fresh.client
    csrf = _sign_in(fresh, "officer")
    form = {"vacancy_id": "V16", "reason": "near school", "csrf": csrf}
    confirm = c.post("/children/C06/decision", data=form)
    assert confirm.status_code == 200 and "Confirm: take the bed" in confirm.text
    assert _beds_free(fresh, "V16") == 1  # the confirmation page takes nothing
    # A confirmation with no reason goes back with the problem, nothing taken.
    r = c.post("/children/C06/decision", data={**form, "reason": ""}, follow_redirects=True)
    assert "Not recorded: give the reason" in r.text
    r = c.post("/children/C06/decision", data={**form, "confirm": "yes"}, follow_redirects=True)
    assert "Decision recorded: child C06, vacancy V16" in r.text
    assert _beds_free(fresh, "V16") == 0
    # The placed child's page: the placement and the withdrawal form, no ranking.
    page = c.get("/children/C06").text
    assert 'id="placement"' in page and "Placed: vacancy <strong>V16</strong>" in page
    assert "by officer" in page and "near school" in page
    assert "RM17 6SL, Thurrock" in page  # where: the district (here also the authority)
    assert '<table id="options">' not in page and 'id="decide-h"' not in page
    assert 'action="/children/C06/withdraw"' in page
    r = c.post("/children/C06/withdraw", data={"reason": "", "csrf": csrf}, follow_redirects=True)
    assert "Not withdrawn: give the reason" in r.text
    assert _beds_free(fresh, "V16") == 0
    r = c.post(
        "/children/C06/withdraw",
        data={"reason": "family found", "csrf": csrf},
        follow_redirects=True,
    )
    assert "Decision withdrawn: vacancy V16 has its bed free again" in r.text
    assert '<table id="options">' in r.text  # waiting again: ranked again
    assert _beds_free(fresh, "V16") == 1
    # The page keeps the placement's history: placed, then withdrawn, with who and why.
    rows = re.findall(r"<tr><td>[^<]*</td><td>(Placed|Withdrawn)</td>", r.text)
    assert rows == ["Placed", "Withdrawn"] and 'id="history-table"' in r.text
    # Without the form's token nothing happens.
    _decide(fresh, "C06", "V16")
    r = c.post("/children/C06/withdraw", data={"reason": "x"})
    assert r.status_code == 403
    assert _beds_free(fresh, "V16") == 0
    c.cookies.clear()


def _finished_match(fresh: Service, child_ids: list[str]) -> dict[str, Any]:
    c, h = fresh.client, fresh.h("officer")
    job = c.post(f"{API}/match", json={"child_ids": child_ids}, headers=h).json()
    for _ in range(300):
        status = c.get(f"{API}/jobs/{job['id']}", headers=h).json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert status["status"] == "done", status
    result: dict[str, Any] = c.get(f"{API}/jobs/{job['id']}/result", headers=h).json()
    result["id"] = job["id"]
    return result


def test_batch_proposals_are_accepted_one_by_one_through_the_api(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    result = _finished_match(fresh, ["C06", "C07"])
    proposed = {a["child_id"]: a["vacancy_id"] for a in result["assignments"]}
    assert set(proposed) == {"C06", "C07"}
    url = f"{API}/jobs/{result['id']}/accept"
    # Only a child the match placed; only the officer who ran it; a reason.
    is_problem(c.post(url, json={"child_id": "C01", "reason": "x"}, headers=h), 404)
    is_problem(
        c.post(url, json={"child_id": "C06", "reason": "x"}, headers=fresh.h("officer_thurrock")),
        404,
    )
    is_problem(c.post(url, json={"child_id": "C06", "reason": " "}, headers=h), 422)
    free = _beds_free(fresh, proposed["C06"])
    r = c.post(url, json={"child_id": "C06", "reason": "panel agreed"}, headers=h)
    assert r.status_code == 201, r.text
    decision = r.json()
    assert decision["vacancy_id"] == proposed["C06"]
    assert decision["reason"] == f"panel agreed (batch match {result['id']})"
    assert _beds_free(fresh, proposed["C06"]) == free - 1
    # One by one: the other proposal is untouched until accepted.
    assert c.get(f"{API}/children/C07", headers=h).json()["status"] == "waiting"
    is_problem(c.post(url, json={"child_id": "C06", "reason": "again"}, headers=h), 409)
    r = c.post(url, json={"child_id": "C07", "reason": "panel agreed"}, headers=h)
    assert r.status_code == 201, r.text
    assert (
        c.get(f"{API}/children/C07", headers=h).json()["decision"]["vacancy_id"] == proposed["C07"]
    )


def test_batch_proposals_are_accepted_one_by_one_on_the_page(fresh: Service) -> None:
    c = fresh.client
    result = _finished_match(fresh, ["C06", "C07"])
    proposed = {a["child_id"]: a["vacancy_id"] for a in result["assignments"]}
    csrf = _sign_in(fresh, "officer")
    page = c.get(f"/jobs/{result['id']}").text
    assert page.count("Accept C0") == 2
    # What was proven, per level of the statutory order, as the result says.
    levels = {g["level"]: g for g in result["levels"]}
    assert "Proven at every level" in page and levels["children"]["shortfall"] == 0
    row = re.search(r'<tr id="level-children">(.*?)</tr>', page, re.S)
    assert row and "Children placed" in row.group(1)
    assert f'<td class="num">{levels["children"]["achieved"]:,}</td>' in row.group(1)
    assert len(re.findall(r'<tr id="level-', page)) == len(levels)
    form = {"vacancy_id": proposed["C06"], "reason": "panel", "csrf": csrf, "job": result["id"]}
    # A vacancy other than the proposal is refused (the reason would say otherwise).
    r = c.post("/children/C06/decision", data={**form, "vacancy_id": "V99"}, follow_redirects=True)
    assert "Not recorded: the batch match proposed vacancy" in r.text
    confirm = c.post("/children/C06/decision", data=form)
    assert "as the batch match proposed" in confirm.text and 'name="job"' in confirm.text
    r = c.post("/children/C06/decision", data={**form, "confirm": "yes"}, follow_redirects=True)
    assert r.url.path == f"/jobs/{result['id']}"
    assert f"Decision recorded: child C06, vacancy {proposed['C06']}" in r.text
    assert f"decided: vacancy {proposed['C06']}" in r.text and "Accept C07" in r.text
    assert "Accept C06" not in r.text
    h = fresh.h("officer")
    assert c.get(f"{API}/children/C07", headers=h).json()["status"] == "waiting"
    c.cookies.clear()


def test_two_withdrawals_at_once_free_the_bed_once(empty_url: str) -> None:
    """Straight at the store: two sessions withdraw the same decision at the same moment;
    the conditional update on the child lets exactly one through, and the bed is freed once."""
    import threading

    from sqlalchemy import func, select

    from placematch.service import auth, db, store
    from placematch.service.models import Decision

    engine = db.connect(empty_url)
    db.migrate(engine)
    factory = db.session_factory(engine)
    with factory() as s:
        store.load_path(s, DEMO)
        uid = auth.add_user(s, "o", "password123", "placement_officer", ["Essex"]).id
        s.commit()
        store.record_decision(s, ESSEX, "C06", "V02", uid, "first")  # V02 has three beds
    for _ in range(3):
        barrier = threading.Barrier(2)
        outcome: list[str] = []

        def go(barrier: threading.Barrier = barrier, outcome: list[str] = outcome) -> None:
            with factory() as s:
                barrier.wait()
                try:
                    store.withdraw_decision(s, ESSEX, "C06")
                    outcome.append("ok")
                except store.ConflictError as exc:
                    outcome.append(str(exc))

        threads = [threading.Thread(target=go) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(outcome) == ["child C06 has no recorded decision to withdraw", "ok"]
        with factory() as s:
            v = store.vacancy_record(s, "V02")
            assert v is not None and v.beds_taken == 0
            assert s.scalar(select(func.count()).select_from(Decision)) == 0
            assert store.child_record(s, "C06", [ESSEX]).status == "waiting"  # type: ignore[union-attr]
            store.record_decision(s, ESSEX, "C06", "V02", uid, "again")  # and the next round
    engine.dispose()
