"""The page without a browser: sign-in, redirects, forms with CSRF, error pages, admin users.
(The browser test drives the officer and commissioner journeys end to end.)"""

from __future__ import annotations

import html
import re

from servicekit import PASSWORD, Service

from matcher.factors import FACTOR_REFERENCES, POOLED_FACTORS, RESIDENT_FACTORS


def sign_in(s: Service, user: str) -> str:
    """Sign in through the form; return the page's CSRF token."""
    s.client.cookies.clear()
    r = s.client.post(
        "/login", data={"username": user, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303 and "placematch_session" in r.headers["set-cookie"]
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    page = s.client.get("/")
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert match
    return match.group(1)


def test_pages_need_sign_in_and_redirect_by_role(fresh: Service) -> None:
    c = fresh.client
    c.cookies.clear()
    r = c.get("/children/C01", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/children/C01"
    bad = c.post("/login", data={"username": "officer", "password": "nope", "next": "/"})
    assert bad.status_code == 401 and "The username or password is wrong." in bad.text
    for user, start in (
        ("officer", "/children"),
        ("commissioner", "/forecasts"),
        ("admin", "/audit"),
    ):
        sign_in(fresh, user)
        r = c.get("/", follow_redirects=False)
        assert r.headers["location"] == start
    # Off-site redirects after sign-in are refused.
    r = c.post(
        "/login",
        data={"username": "officer", "password": PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"
    c.cookies.clear()


def test_officer_pages_and_forms(fresh: Service) -> None:
    c = fresh.client
    csrf = sign_in(fresh, "officer")
    page = c.get("/children/C05")
    assert page.status_code == 200
    assert '<table id="options">' in page.text and "Explanation for V11" in page.text
    # every factor's points cite their statute, not only the exclusions
    for name, reference in FACTOR_REFERENCES.items():
        # (the pooled factors score only a pooled folder's children; this store is one LA's)
        if name not in RESIDENT_FACTORS | {f.name for f in POOLED_FACTORS}:
            cite = f'<span class="cite">({html.escape(reference, quote=False)})</span>'
            assert cite in page.text, name
    assert c.get("/children/C05?why_not=V02").text.count("is excluded by required adaptation") == 1
    # A form without the CSRF token changes nothing.
    r = c.post("/children/C05/decision", data={"vacancy_id": "V11", "reason": "x"})
    assert r.status_code == 403 and "the form has expired" in r.text
    # First a confirmation page: nothing is taken until the officer confirms.
    r = c.post(
        "/children/C05/decision",
        data={"vacancy_id": "V11", "reason": "adapted home", "csrf": csrf},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "Confirm: take the bed" in r.text
    assert "Nothing is recorded yet" in r.text
    assert c.get("/children/C05").text.count("Record a decision") == 1  # still waiting
    r = c.post(
        "/children/C05/decision",
        data={"vacancy_id": "V11", "reason": "adapted home", "csrf": csrf, "confirm": "yes"},
        follow_redirects=True,
    )
    assert "Decision recorded: child C05, vacancy V11" in r.text
    r = c.post(
        "/children/C05/decision",
        data={"vacancy_id": "V05", "reason": "again", "csrf": csrf},
        follow_redirects=True,
    )
    assert "Not recorded: child C05 is already placed" in r.text
    # Upload: every problem listed, nothing stored.
    bad = "child_id,age,sex,home_postcode,la\nU1,40,M,CM1 1QH,Essex\nU2,4,?,CM1 1QH,Essex\n"
    r = c.post("/upload", data={"csrf": csrf}, files={"children": ("children.csv", bad)})
    assert r.status_code == 422
    assert "2 problems: nothing was stored" in r.text and "line 3, sex" in r.text
    assert c.get("/children/U1").status_code == 404
    # A batch match from the page.
    r = c.post("/match", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    job = c.get(r.headers["location"])
    assert job.status_code == 200 and "Batch match" in job.text
    # Other authorities' children are a 404 page; unknown pages too.
    assert c.get("/children/C10").status_code == 404
    assert c.get("/nowhere").status_code == 404
    assert c.get("/forecasts").status_code == 403
    r = c.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.headers["location"] == "/login"
    assert c.get("/children", follow_redirects=False).status_code == 303


def test_admin_manages_users_on_the_page(fresh: Service) -> None:
    c = fresh.client
    csrf = sign_in(fresh, "admin")
    page = c.get("/users")
    assert page.status_code == 200 and "officer_thurrock" in page.text
    r = c.post(
        "/users",
        data={
            "csrf": csrf,
            "action": "create",
            "username": "newbie",
            "password": "long enough",
            "role": "commissioner",
            "authorities": "Thurrock, Essex",
        },
        follow_redirects=True,
    )
    assert "Added newbie." in r.text and "E06000034, E10000012" in r.text
    r = c.post(
        "/users",
        data={"csrf": csrf, "action": "disable", "username": "newbie"},
        follow_redirects=True,
    )
    assert "newbie is now disabled." in r.text
    bad = c.post(
        "/users", data={"username": "newbie", "password": "long enough"}, follow_redirects=False
    )
    assert bad.status_code == 403  # no CSRF token
    r = c.post(
        "/users",
        data={
            "csrf": csrf,
            "action": "create",
            "username": "x y",
            "password": "long enough",
            "role": "admin",
        },
        follow_redirects=True,
    )
    assert "Not done: username:" in r.text
    sign_in(fresh, "officer")
    assert c.get("/users").status_code == 403
    c.cookies.clear()


def test_pages_refuse_wrong_roles(fresh: Service) -> None:
    c = fresh.client
    cases = {
        "commissioner": ["/children", "/children/C01", "/upload", "/audit", "/users"],
        "admin": ["/children", "/children/C01", "/upload", "/forecasts"],
        "officer": ["/forecasts", "/users"],
    }
    for user, paths in cases.items():
        sign_in(fresh, user)
        for path in paths:
            r = c.get(path)
            assert r.status_code == 403, (user, path)
            assert "CM2 0HU" not in r.text
    c.cookies.clear()


def test_why_not_for_a_taken_or_unknown_vacancy_stays_on_the_childs_page(fresh: Service) -> None:
    c = fresh.client
    csrf = sign_in(fresh, "officer")
    r = c.post(
        "/children/C06/decision",
        data={"vacancy_id": "V16", "reason": "in area", "csrf": csrf, "confirm": "yes"},
        follow_redirects=True,
    )
    assert "Decision recorded: child C06, vacancy V16" in r.text
    # V16's only bed is taken: the officer asks why not for C07 and still sees C07's page.
    page = c.get("/children/C07?why_not=V16")
    assert page.status_code == 200
    assert '<table id="options">' in page.text and 'id="decide-h"' in page.text
    assert "V16 cannot be offered:</strong> vacancy V16 has no free bed left" in page.text
    page = c.get("/children/C07?why_not=V99")
    assert page.status_code == 200
    assert "V99 cannot be offered:</strong> vacancy &#39;V99&#39; is not among" in page.text
    c.cookies.clear()


def test_a_child_with_no_eligible_vacancy_gets_no_empty_decision_form(fresh: Service) -> None:
    c = fresh.client
    child = {"child_id": "C20", "age": 5, "sex": "F", "la": "Essex", "home_postcode": "CM1 1QH"}
    r = c.post(
        "/api/v1/children",
        json={**child, "placement_types": ["secure_home"]},  # V15 takes 10 to 17
        headers=fresh.h("officer"),
    )
    assert r.status_code == 201, r.text
    sign_in(fresh, "officer")
    page = c.get("/children/C20")
    assert page.status_code == 200
    assert "No vacancy with a free bed is eligible for this child" in page.text
    assert 'id="no-decision"' in page.text
    assert 'action="/children/C20/decision"' not in page.text
    assert "Why each option scores" not in page.text
    c.cookies.clear()


def test_page_forms_refuse_wrong_roles_and_authorities(fresh: Service) -> None:
    c = fresh.client
    decision = {"vacancy_id": "V02", "reason": "test"}
    confirmed = {**decision, "confirm": "yes"}
    cases = [
        ("commissioner", "/children/C01/decision", decision, 403),
        ("admin", "/children/C01/decision", decision, 403),
        ("officer_thurrock", "/children/C01/decision", decision, 404),
        ("commissioner", "/children/C01/decision", confirmed, 403),
        ("officer_thurrock", "/children/C01/decision", confirmed, 404),
        ("commissioner", "/children/C01/withdraw", {"reason": "test"}, 403),
        ("officer_thurrock", "/children/C01/withdraw", {"reason": "test"}, 404),
        ("commissioner", "/match", {}, 403),
        ("admin", "/match", {}, 403),
        ("officer", "/forecasts", {"config_toml": "[forecast]\n"}, 403),
        ("admin", "/forecasts", {"config_toml": "[forecast]\n"}, 403),
        ("officer", "/users", {"action": "disable", "username": "admin"}, 403),
        ("commissioner", "/users", {"action": "disable", "username": "admin"}, 403),
    ]
    for user, path, data, status in cases:
        csrf = sign_in(fresh, user)
        r = c.post(path, data={**data, "csrf": csrf}, follow_redirects=False)
        assert r.status_code == status, (user, path, r.status_code)
        assert "CM2 0HU" not in r.text
    c.cookies.clear()
    # Nothing happened: C01 still waits, no job was started, the admin is still active.
    h = fresh.h("officer")
    assert c.get("/api/v1/children/C01", headers=h).json()["status"] == "waiting"
    users = c.get("/api/v1/users", headers=fresh.h("admin")).json()
    assert all(u["active"] for u in users)
    log = c.get("/api/v1/audit?limit=100", headers=fresh.h("admin")).json()
    assert not [e for e in log if e["action"] == "match" and e["outcome"] == "ok"]
