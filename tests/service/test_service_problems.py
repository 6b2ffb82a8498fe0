"""Errors a user meets: bodies that are not JSON, fields named as the API names them, the
OpenAPI document describing the problems and the sign-in the API really uses, an audit export
that a spreadsheet cannot run, and a store that cannot be opened.

Found by using the service as a user would (issue 8 audit); each test fails without its fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from servicekit import Service
from test_service_api import API, is_problem

from placematch.cli import main


def test_a_body_that_is_not_json_is_named_body(service: Service) -> None:
    c, h = service.client, service.h("officer")
    json_header = {**h, "Content-Type": "application/json"}
    bad = is_problem(c.post(f"{API}/children", content='{"child_id": ', headers=json_header), 422)
    assert [e["field"] for e in bad["errors"]] == ["body"]
    assert bad["errors"][0]["message"].startswith("not valid JSON: ")
    assert "at character 13" in bad["errors"][0]["message"]
    # A form where JSON is expected, and a JSON array: the body must be a JSON object.
    for kw in ({"data": {"vacancy_id": "V02"}}, {"json": []}):
        wrong = is_problem(c.post(f"{API}/children/C01/decision", headers=h, **kw), 422)
        assert wrong["errors"] == [
            {
                "field": "body",
                "message": "expected a JSON object (send Content-Type: application/json)",
            }
        ]
    missing = is_problem(c.post(f"{API}/children/C01/decision", headers=h), 422)
    assert missing["errors"][0]["field"] == "body"
    assert "Content-Type: application/json" in missing["errors"][0]["message"]


def test_a_new_users_unknown_authority_names_the_bodys_field(service: Service) -> None:
    body = {
        "username": "ann2",
        "password": "longenough",
        "role": "placement_officer",
        "authorities": ["Narnia"],
    }
    problem = is_problem(
        service.client.post(f"{API}/users", json=body, headers=service.h("admin")), 422
    )
    assert [e["field"] for e in problem["errors"]] == ["authorities"]
    del body["authorities"]
    problem = is_problem(
        service.client.post(f"{API}/users", json=body, headers=service.h("admin")), 422
    )
    assert [e["field"] for e in problem["errors"]] == ["authorities"]


def test_openapi_describes_problems_and_sign_in(service: Service) -> None:
    spec = service.client.get(f"{API}/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/v1/tokens.",
    }
    assert schemes["session"]["in"] == "cookie"
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problem_ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            signed = path.startswith(API) and (method, path) != ("post", f"{API}/tokens")
            assert bool(op.get("security")) == signed, (method, path)
            for status, answer in op["responses"].items():
                if status.startswith("4"):
                    assert answer["content"] == {"application/problem+json": problem_ref}
            if signed:
                assert "401" in op["responses"], (method, path)
            if "{" in path:
                assert "404" in op["responses"], (method, path)
    decision = spec["paths"][f"{API}/children/{{child_id}}/decision"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422"} <= set(decision)
    # What the document says is what the API answers.
    r = service.client.get(f"{API}/children/C01")
    is_problem(r, 401)


def test_audit_export_never_hands_a_spreadsheet_a_formula(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    formula = '=HYPERLINK("http://evil.example/","click")'
    c.get(f"{API}/children/C07", headers={**h, "X-Placematch-Reason": formula})
    c.get(f"{API}/children/C07", headers={**h, "X-Placematch-Reason": "+1 check"})
    text = c.get(f"{API}/audit/export.csv", headers=fresh.h("admin")).text
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text)))
    reasons = [r["reason"] for r in rows if r["reason"]]
    assert "'" + formula in reasons and "'+1 check" in reasons
    assert not any(r[:1] in ("=", "+", "-", "@") for row in rows for r in row.values())
    # The JSON log keeps the reason exactly as given.
    entries = c.get(f"{API}/audit?limit=5", headers=fresh.h("admin")).json()
    assert formula in [e["reason"] for e in entries]


def test_a_store_that_cannot_be_opened_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = "postgresql://someone:secretpw@127.0.0.1:1/none"
    assert main(["load", "examples/demo", "--db", refused]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "placematch: error: cannot open the store, PostgreSQL at 127.0.0.1:1/none"
    )
    assert "secretpw" not in err and "internal error" not in err and "Traceback" not in err
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database\n" * 100)
    assert main(["user", "list", "--db", f"sqlite:///{junk}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"placematch: error: cannot open the store, the SQLite file {junk}: file is not a database"
    )


def test_every_answer_carries_the_security_headers(
    fresh: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a ranking, a problem, the page, a static file, and an unexpected error's bare 500;
    and a child's data is never to be stored by a browser or proxy."""
    from placematch.service import actions
    from placematch.service.app import NO_STORE, SECURITY_HEADERS

    c, h = fresh.client, fresh.h("officer")
    answers = {
        "rank": c.get(f"{API}/children/C06/rank?top=2", headers=h),
        "missing child": c.get(f"{API}/children/NOPE/rank", headers=h),
        "not signed in": c.get(f"{API}/me"),
        "health": c.get("/healthz"),
        "page": c.get("/login"),
        "static": c.get("/static/style.css"),
    }

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(actions, "ranking_data", broken)  # what the endpoint ranks with
    answers["500"] = c.get(f"{API}/children/C06/rank", headers=h)
    statuses = {k: r.status_code for k, r in answers.items()}
    assert statuses == {
        "rank": 200,
        "missing child": 404,
        "not signed in": 401,
        "health": 200,
        "page": 200,
        "static": 200,
        "500": 500,
    }
    for what, r in answers.items():
        for name, value in SECURITY_HEADERS:
            assert r.headers.get(name) == value, (what, name)
        child_data = r.request.url.path.startswith(NO_STORE)
        assert (r.headers.get("Cache-Control") == "no-store") == child_data, what
    assert answers["500"].json()["status"] == 500
