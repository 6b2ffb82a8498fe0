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
        data={"vacancy_id": "V11", "reason": "adapted home", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/children/C05"
    assert FLASH_COOKIE in r.headers["set-cookie"]
    page = c.get("/children/C05")
    assert "Decision recorded: vacancy V11. The bed is now taken." in page.text
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
    assert db.migrate(engine) == "0003"
    assert {"login_failures", "service_secrets"} <= set(inspect(engine).get_table_names())
    with db.session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(ChildRecord)) == 12
        assert auth.sign_in(s, "keeper", "password123", "127.0.0.1") is not None
        assert auth.sign_in(s, "keeper", "wrong one", "127.0.0.1") is None
        auth.check_throttle(s, "keeper", "127.0.0.1")  # one failure: not yet refused
    engine.dispose()
