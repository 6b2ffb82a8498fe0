"""Service security (issue 15 part 6): a keyed CSRF token, login throttling kept in the store,
signed one-off flash messages instead of ``?message=``."""

from __future__ import annotations

import hashlib
import re

from servicekit import PASSWORD, Service, running
from test_service_pages import sign_in

from placematch.service import auth
from placematch.service.deps import COOKIE
from placematch.service.flash import FLASH_COOKIE

API = "/api/v1"


def _secret(s: Service) -> bytes:
    with s.app.state.sessions() as session:
        return auth.server_secret(session)


def test_the_csrf_token_is_keyed_and_kept_across_a_restart(fresh: Service) -> None:
    c = fresh.client
    token = fresh.tokens["officer"]
    c.cookies.set(COOKIE, token)
    try:
        secret = _secret(fresh)
        assert len(secret) == 32
        # The old token, a plain hash of the session token, anyone could compute: refused.
        unkeyed = hashlib.sha256(("csrf:" + token).encode()).hexdigest()[:32]
        wrong = (unkeyed, "", "x" * 64, "é" * 64, auth.csrf_token(b"\0" * 32, token))
        for sent in (w.encode("latin-1") for w in wrong):
            r = c.post(f"{API}/match", json={"child_ids": ["C09"]}, headers={"X-CSRF-Token": sent})
            assert r.status_code == 403, sent
        # Another session's token does not pass for this one.
        other = auth.csrf_token(secret, fresh.tokens["officer_thurrock"])
        r = c.post(f"{API}/match", json={"child_ids": ["C09"]}, headers={"X-CSRF-Token": other})
        assert r.status_code == 403
        good = auth.csrf_token(secret, token)
        assert good == auth.sign(secret, "csrf", token) and auth.check_csrf(secret, token, good)
        r = c.post(f"{API}/match", json={"child_ids": ["C09"]}, headers={"X-CSRF-Token": good})
        assert r.status_code == 202
    finally:
        c.cookies.clear()
    # A second server on the same store (a restart) uses the key kept in the store.
    with running(fresh.url) as again:
        assert _secret(again) == secret
        again.client.cookies.set(COOKIE, token)
        r = again.client.post(
            f"{API}/match", json={"child_ids": ["C09"]}, headers={"X-CSRF-Token": good}
        )
        assert r.status_code == 202


def test_the_page_form_token_is_the_keyed_one(fresh: Service) -> None:
    csrf = sign_in(fresh, "officer")
    session_token = fresh.client.cookies[COOKIE]
    assert csrf == auth.csrf_token(_secret(fresh), session_token)
    r = fresh.client.post(
        "/children/C05/decision",
        data={
            "vacancy_id": "V11",
            "reason": "r",
            "csrf": csrf[:-1] + ("1" if csrf[-1] == "0" else "0"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 403 and "the form has expired" in r.text


def test_login_throttling_survives_a_restart(fresh: Service) -> None:
    body = {"username": "Officer", "password": "wrong password"}
    for _ in range(auth.MAX_FAILURES):
        assert fresh.client.post(f"{API}/tokens", json=body).status_code == 401
    right = {"username": "officer", "password": PASSWORD}
    r = fresh.client.post(f"{API}/tokens", json=right)
    assert r.status_code == 429 and "too many failed sign-ins" in r.json()["detail"]
    # Another user from the same client is not held back.
    ok = fresh.client.post(f"{API}/tokens", json={"username": "admin", "password": PASSWORD})
    assert ok.status_code == 201
    with running(fresh.url) as again:  # a restart: the failures are in the store
        assert again.client.post(f"{API}/tokens", json=right).status_code == 429
        page = again.client.post("/login", data={**right, "next": "/"})
        assert page.status_code == 429 and "Too many failed sign-ins" in page.text
    # Only a digest of the name and client is stored, never the name or the password.
    from sqlalchemy import select

    from placematch.service.models import LoginFailure

    with fresh.app.state.sessions() as session:
        keys = set(session.scalars(select(LoginFailure.key)))
    assert len(keys) == 1 and all(re.fullmatch("[0-9a-f]{64}", k) for k in keys)


def test_old_failures_are_forgotten(fresh: Service) -> None:
    import datetime as dt

    from sqlalchemy import update

    from placematch.service.models import LoginFailure

    body = {"username": "officer", "password": "wrong password"}
    for _ in range(auth.MAX_FAILURES):
        fresh.client.post(f"{API}/tokens", json=body)
    assert fresh.client.post(f"{API}/tokens", json=body).status_code == 429
    with fresh.app.state.sessions() as session:
        old = auth.FAILURE_WINDOW + dt.timedelta(minutes=1)
        session.execute(update(LoginFailure).values(at=auth.utcnow() - old))
        session.commit()
    right = {"username": "officer", "password": PASSWORD}
    assert fresh.client.post(f"{API}/tokens", json=right).status_code == 201


def test_message_in_the_address_is_not_shown(fresh: Service) -> None:
    sign_in(fresh, "officer")
    c = fresh.client
    for path in ("/children/C05", "/children/C05?why_not=V11"):
        sep = "&" if "?" in path else "?"
        page = c.get(f"{path}{sep}message=%3Cscript%3Ealert(1)%3C/script%3ENot%20recorded")
        assert page.status_code == 200
        assert "alert(1)" not in page.text and 'id="message"' not in page.text
    sign_in(fresh, "admin")
    page = c.get("/users?message=Added%20evil.%20Call%200800")
    assert page.status_code == 200 and "0800" not in page.text
    c.cookies.clear()


def test_flash_messages_are_signed_and_shown_once(fresh: Service) -> None:
    csrf = sign_in(fresh, "officer")
    c = fresh.client
    r = c.post(
        "/children/C05/decision",
        data={"vacancy_id": "V11", "reason": "adapted home", "csrf": csrf, "confirm": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/children/C05"
    assert FLASH_COOKIE in r.headers["set-cookie"]
    page = c.get("/children/C05")
    assert "Decision recorded: child C05, vacancy V11. The bed is now taken." in page.text
    assert 'id="message"' in page.text
    again = c.get("/children/C05")  # shown once: the cookie was deleted
    assert 'id="message"' not in again.text
    # A message made up by someone without the server's key is not shown.
    value = r.cookies.get(FLASH_COOKIE) or ""
    _, _, signature = value.partition(".")
    import base64
    import json

    forged = base64.urlsafe_b64encode(json.dumps(["/children/C05", "Call 0800"]).encode())
    for cookie in (f"{forged.decode()}.{signature}", f"{forged.decode()}.", "garbage", value[:-1]):
        c.cookies.set(FLASH_COOKIE, cookie)
        page = c.get("/children/C05")
        assert 'id="message"' not in page.text and "0800" not in page.text
    # A genuine message is for its page and its session only.
    c.cookies.set(FLASH_COOKIE, value)
    assert 'id="message"' not in c.get("/children/C06").text
    sign_in(fresh, "officer")  # a new session
    c.cookies.set(FLASH_COOKIE, value)
    assert 'id="message"' not in c.get("/children/C05").text
    c.cookies.clear()


def test_the_migration_adds_the_tables_and_keeps_the_data(empty_url: str) -> None:
    from alembic import command
    from servicekit import DEMO
    from sqlalchemy import func, inspect, select

    from placematch.service import db, store
    from placematch.service.models import ChildRecord

    engine = db.connect(empty_url)
    config = db._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    assert "login_failures" not in inspect(engine).get_table_names()
    with db.session_factory(engine)() as s:  # a store of the schema before, with data
        store.load_path(s, DEMO)
        auth.add_user(s, "keeper", "password123", "placement_officer", ["Essex"])
        s.commit()
    assert db.migrate(engine) == db.head_revision()
    assert {"login_failures", "service_secrets"} <= set(inspect(engine).get_table_names())
    with db.session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(ChildRecord)) == 12
        assert auth.sign_in(s, "keeper", "password123", "127.0.0.1") is not None
        assert auth.sign_in(s, "keeper", "wrong one", "127.0.0.1") is None
        auth.check_throttle(s, "keeper", "127.0.0.1")  # one failure: not yet refused
    engine.dispose()


def _entries(s: Service, **match: object) -> list[dict[str, object]]:
    """The audit entries (newest first) whose fields have the values given."""
    rows = s.client.get(f"{API}/audit?limit=1000", headers=s.h("admin")).json()
    return [e for e in rows if all(e.get(k) == v for k, v in match.items())]


def test_failed_and_denied_writes_are_audited(fresh: Service) -> None:
    from servicekit import ESSEX, THURROCK

    c = fresh.client
    # refused: another authority's vacancy, a role that may not write, a bad CSRF header
    vacancy = c.get(f"{API}/vacancies/V01", headers=fresh.h("officer")).json()["record"]
    r = c.put(f"{API}/vacancies/V01", json={}, headers=fresh.h("officer_thurrock"))
    assert r.status_code == 422  # the body is checked first
    lists = ("capabilities", "connected_to", "ethnicity", "languages")
    body = {k: [x for x in v.split(";") if x] if k in lists else v for k, v in vacancy.items()}
    r = c.put(f"{API}/vacancies/V01", json=body, headers=fresh.h("officer_thurrock"))
    assert r.status_code == 403, r.text
    denied = _entries(fresh, username="officer_thurrock", outcome="denied")
    assert [(e["action"], e["resource_id"], e["authority"]) for e in denied] == [
        ("put", "/api/v1/vacancies/V01", THURROCK)
    ]
    assert str(denied[0]["reason"]).startswith("403: vacancy V01 is kept by another authority")
    failed = _entries(fresh, username="officer_thurrock", outcome="failed")
    assert [(e["action"], e["resource_id"]) for e in failed] == [("put", "/api/v1/vacancies/V01")]
    assert str(failed[0]["reason"]).startswith("422: the request has invalid fields")
    r = c.post(f"{API}/match", json={}, headers=fresh.h("commissioner"))
    assert r.status_code == 403
    assert _entries(fresh, username="commissioner", outcome="denied", action="post")
    # failed: a case folder with problems, a bad child
    bad = b"child_id,age\nC99,forty\n"
    r = c.post(
        f"{API}/children/upload",
        files={"file": ("children.csv", bad)},
        headers=fresh.h("officer"),
    )
    assert r.status_code == 422
    entry = _entries(fresh, username="officer", resource_id="/api/v1/children/upload")[0]
    assert entry["outcome"] == "failed" and entry["authority"] == ESSEX
    assert "forty" not in str(entry["reason"])  # the problem's detail, not the cell
    # nothing is audited twice: a decision audits its own outcome
    r = c.post(
        f"{API}/children/C05/decision",
        json={"vacancy_id": "V03", "reason": "nearest to school"},
        headers=fresh.h("officer"),
    )
    assert r.status_code == 422
    decisions = _entries(fresh, username="officer", action="decision")
    assert [(e["resource_id"], e["outcome"]) for e in decisions] == [("C05/V03", "ineligible")]
    assert "age_within_approval" in str(decisions[0]["reason"])
    assert "nearest to school" in str(decisions[0]["reason"])
    assert not _entries(fresh, resource_id="/api/v1/children/C05/decision")


def test_every_failed_decision_and_answer_is_audited(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")

    def decide(vacancy: str, reason: str) -> int:
        body = {"vacancy_id": vacancy, "reason": reason}
        return c.post(f"{API}/children/C05/decision", json=body, headers=h).status_code

    assert decide("V11", " ") == 422  # no reason
    assert decide("V99", "a reason") == 404  # no such vacancy
    assert decide("V11", "adapted home") == 201
    assert decide("V01", "again") == 409  # placed already
    outcomes = [(e["resource_id"], e["outcome"]) for e in _entries(fresh, action="decision")]
    assert outcomes == [
        ("C05/V01", "conflict"),
        ("C05/V11", "ok"),
        ("C05/V99", "failed"),
        ("C05/V11", "failed"),
    ]
    r = c.post(
        f"{API}/children/C06/responses",
        json={"vacancy_id": "V01", "response": "decline"},  # a decline needs its code
        headers=h,
    )
    assert r.status_code == 422
    (entry,) = _entries(fresh, action="response")
    assert entry["outcome"] == "failed" and entry["resource_id"] == "C06/V01"


def test_a_page_form_s_refused_decision_is_audited(fresh: Service) -> None:
    csrf = sign_in(fresh, "officer")
    r = fresh.client.post(
        "/children/C05/decision",
        data={"vacancy_id": "V03", "reason": "close", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert [e["outcome"] for e in _entries(fresh, action="decision")] == ["ineligible"]
    r = fresh.client.post(
        "/upload", data={"csrf": csrf}, files={"children": ("children.csv", b"child_id\nC1\n")}
    )
    assert r.status_code == 422
    assert [e["outcome"] for e in _entries(fresh, action="upload")] == ["failed"]
    r = fresh.client.post("/children/C05/decision", data={"vacancy_id": "V11", "csrf": "no"})
    assert r.status_code == 403
    (entry,) = _entries(fresh, action="post", resource="request")
    assert entry["outcome"] == "denied" and entry["resource_id"] == "/children/C05/decision"
    fresh.client.cookies.clear()


def test_another_officer_s_job_is_a_404_and_audited(fresh: Service) -> None:
    from servicekit import ESSEX, THURROCK

    c = fresh.client
    r = c.post(f"{API}/match", json={"child_ids": ["C09"]}, headers=fresh.h("officer"))
    job = r.json()["id"]
    unknown = "00000000-0000-4000-8000-000000000000"
    for path in (f"/jobs/{job}", f"/jobs/{job}/result"):
        theirs = c.get(f"{API}{path}", headers=fresh.h("officer_thurrock"))
        none = c.get(f"{API}{path.replace(job, unknown)}", headers=fresh.h("officer_thurrock"))
        assert theirs.status_code == none.status_code == 404
        assert theirs.json() == {
            **none.json(),
            "detail": none.json()["detail"].replace(unknown, job),
        }
    denied = _entries(fresh, resource="job", outcome="denied")
    assert [(e["resource_id"], e["authority"]) for e in denied] == [
        (unknown, None),
        (job, ESSEX),
        (unknown, None),
        (job, ESSEX),
    ]
    assert all(e["username"] == "officer_thurrock" for e in denied)
    assert THURROCK not in {e["authority"] for e in denied}


#: An Essex child (the Thurrock officer may not see it) and an id no authority uses.
THEIRS, NOBODY = "C01", "C77"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _bodies(child_id: str) -> dict[str, dict[str, object]]:
    """A valid body for each child-scoped route that takes one (keyed by its last part)."""
    return {
        "child": {"child_id": child_id, "age": 9, "sex": "M", "la": "Thurrock"},
        "decision": {"vacancy_id": "V02", "reason": "nearest"},
        "responses": {"vacancy_id": "V02", "response": "offer"},
        "match": {"child_ids": [child_id]},
    }


def _same(theirs: object, nobody: object) -> None:
    """Two answers are the same but for the id asked about."""
    from httpx import Response as HttpxResponse

    assert isinstance(theirs, HttpxResponse) and isinstance(nobody, HttpxResponse)
    assert theirs.status_code == nobody.status_code, theirs.request.url
    assert theirs.headers.get("content-type") == nobody.headers.get("content-type")
    assert set(theirs.headers) == set(nobody.headers) - {"set-cookie"} | (
        set(theirs.headers) & {"set-cookie"}
    )
    assert theirs.text.replace(THEIRS, "ID") == nobody.text.replace(NOBODY, "ID")


def test_another_authority_s_child_is_an_unknown_child_on_every_verb(service: Service) -> None:
    c, h = service.client, service.h("officer_thurrock")
    paths = [
        "/children/{id}",
        "/children/{id}/rank",
        "/children/{id}/rank?top=3&urgency=emergency",
        "/children/{id}/why-not/V02",
        "/children/{id}/why-not/V99",
        "/children/{id}/map.svg",
        "/children/{id}/decision",
        "/children/{id}/responses",
    ]
    asked = 0
    for path in paths:
        key = path.split("?")[0].rsplit("/", 1)[-1]
        for method in METHODS:
            answers = []
            for ident in (THEIRS, NOBODY):
                bodies = _bodies(ident)
                body = bodies.get(key, bodies["child"])
                url = API + path.format(id=ident)
                answers.append(c.request(method, url, json=body, headers=h))
            _same(*answers)
            asked += 1
    # the batch match naming the child
    _same(*(c.post(f"{API}/match", json=_bodies(i)["match"], headers=h) for i in (THEIRS, NOBODY)))
    # through the session cookie and the CSRF header, as the page's own scripts would
    token = service.tokens["officer_thurrock"]
    with service.app.state.sessions() as session:
        csrf = auth.csrf_token(auth.server_secret(session), token)
    c.cookies.set(COOKIE, token)
    try:
        for method in METHODS:
            _same(
                *(
                    c.request(
                        method,
                        f"{API}/children/{i}/decision",
                        json=_bodies(i)["decision"],
                        headers={"X-CSRF-Token": csrf},
                    )
                    for i in (THEIRS, NOBODY)
                )
            )
    finally:
        c.cookies.clear()
    assert asked == len(paths) * len(METHODS)
    # and the Essex child is untouched
    got = c.get(f"{API}/children/{THEIRS}", headers=service.h("officer")).json()
    assert got["status"] == "waiting"


def test_another_authority_s_child_is_an_unknown_child_on_the_page(service: Service) -> None:
    csrf = sign_in(service, "officer_thurrock")
    c = service.client
    forms = {
        "decision": {"vacancy_id": "V02", "reason": "nearest", "csrf": csrf},
        "responses": {"vacancy_id": "V02", "response": "offer", "csrf": csrf},
    }
    try:
        for path in ("/children/{id}", "/children/{id}?why_not=V02", "/children/{id}/map.svg"):
            for method in METHODS:
                _same(
                    *(
                        c.request(method, path.format(id=i), follow_redirects=False)
                        for i in (THEIRS, NOBODY)
                    )
                )
        for key, form in forms.items():
            for method in METHODS:
                _same(
                    *(
                        c.request(method, f"/children/{i}/{key}", data=form, follow_redirects=False)
                        for i in (THEIRS, NOBODY)
                    )
                )
    finally:
        c.cookies.clear()


def test_a_carer_cannot_name_another_authority_s_child(service: Service) -> None:
    """``connected_to`` naming another authority's child is refused as an unknown child."""
    c, h = service.client, service.h("officer_thurrock")
    body = {
        "vacancy_id": "VK1",
        "provider_id": "PK1",
        "placement_type": "connected_person_foster",
        "postcode": "RM17 6SL",
        "beds": 1,
        "age_min": 0,
        "age_max": 17,
        "ofsted": "good",
        "weekly_cost": 300,
    }
    answers = [
        c.post(f"{API}/vacancies", json={**body, "connected_to": [i]}, headers=h)
        for i in (THEIRS, NOBODY)
    ]
    _same(*answers)
    assert answers[0].status_code == 422
    assert [e["field"] for e in answers[0].json()["errors"]] == ["connected_to"]
    # the same through an uploaded vacancies.csv
    header = "vacancy_id,provider_id,placement_type,postcode,beds,age_min,age_max,sex,"
    header += "capabilities,ofsted,weekly_cost,connected_to\n"
    uploads = [
        c.post(
            f"{API}/vacancies/upload",
            files={
                "file": (
                    "vacancies.csv",
                    f"{header}VK2,PK2,connected_person_foster,RM17 6SL,1,0,17,any,,good,300,{i}\n",
                )
            },
            headers=h,
        )
        for i in (THEIRS, NOBODY)
    ]
    _same(*uploads)
    assert uploads[0].status_code == 422
    assert [e["field"] for e in uploads[0].json()["errors"]] == ["connected_to"]
    # and the Essex child's own carer is still offered to it alone
    got = c.get(f"{API}/vacancies/V01", headers=service.h("officer")).json()
    assert got["record"]["connected_to"] == "C06"
