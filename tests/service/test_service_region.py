"""A Regional Care Co-operative in the service (issue 13 part 4), on SQLite and PostgreSQL.

A regional commissioner sees the region's aggregates and pooled vacancies and no child's
record: every child route answers as for an unknown id. An officer sees their own
authority's children, the vacancies other authorities offer to the pool (never one kept
back), ranks each child under its own authority's policy, and holds or requests a pooled
vacancy, each step audited under both authorities.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from regionkit import ESSEX, RC, REGION, SOUTHEND, THURROCK, pooled_folder, pooled_service
from servicekit import BACKENDS, Service, live
from test_service_browser import artifacts, browser, every_field_is_labelled
from test_service_browser import sign_in as browser_sign_in
from test_service_pages import sign_in
from test_service_security import METHODS

from geography.authorities import authorities_in_region
from placematch.cli import main
from placematch.service import auth

API = "/api/v1"
__all__ = ["browser"]  # the Chromium fixture, used below


@pytest.fixture(scope="module", params=BACKENDS)
def region(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """One pooled store per module and backend (tests use vacancies of their own)."""
    with pooled_service(request.param, tmp_path_factory.mktemp("region")) as s:
        yield s


def _audit(s: Service, **match: object) -> list[dict[str, object]]:
    rows = s.client.get(f"{API}/audit?limit=1000", headers=s.h("admin")).json()
    return [e for e in rows if all(e.get(k) == v for k, v in match.items())]


# --------------------------------------------------------------------------- the role


def test_user_add_takes_a_region(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    args = ["user", "add", "rc", "--role", "regional_commissioner", "--region", REGION]
    assert main([*args, "--password-stdin", "--db", url]) == 0
    codes = sorted(a.ons_code for a in authorities_in_region(REGION))
    assert len(codes) == 11
    assert f"Added rc (regional_commissioner; {', '.join(codes)})." in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    bad = ["user", "add", "rc2", "--role", "regional_commissioner", "--region", "Atlantis"]
    assert main([*bad, "--password-stdin", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "region: unknown region" in err and "East of England" in err
    # without any authority the role is refused, naming the field
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert (
        main(
            [
                "user",
                "add",
                "rc3",
                "--role",
                "regional_commissioner",
                "--password-stdin",
                "--db",
                url,
            ]
        )
        == 2
    )
    assert "authority: expected at least one authority" in capsys.readouterr().err


def test_an_admin_adds_a_regional_commissioner_by_region(region: Service) -> None:
    c = region.client
    body = {
        "username": "rc_api",
        "password": "a long password",
        "role": "regional_commissioner",
        "region": REGION,
    }
    r = c.post(f"{API}/users", json=body, headers=region.h("admin"))
    assert r.status_code == 201, r.text
    assert len(r.json()["authorities"]) == 11 and ESSEX in r.json()["authorities"]
    r = c.post(
        f"{API}/users",
        json={**body, "username": "rc_bad", "region": "Atlantis"},
        headers=region.h("admin"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "region"


# --------------------------------------------------------------------------- aggregates


def test_the_commissioner_sees_the_region_s_aggregates(region: Service) -> None:
    c, h = region.client, region.h(RC)
    got = c.get(f"{API}/region", headers=h)
    assert got.status_code == 200, got.text
    data = got.json()
    rows = {a["authority"]: a for a in data["authorities"]}
    assert len(rows) == 11  # every authority of the region, those without children too
    assert (rows[ESSEX]["children_waiting"], rows[THURROCK]["children_waiting"]) == (2, 3)
    assert rows[SOUTHEND]["children_waiting"] == 2 and rows[SOUTHEND]["name"] == "Southend-on-Sea"
    supply = {(v["owner"], v["placement_type"]): v for v in data["vacancies_by_type_and_owner"]}
    # Essex: three in-house carers offered to the pool, one agency carer kept back
    assert supply[(ESSEX, "inhouse_foster")]["offered_to_pool"] == 3
    assert supply[(ESSEX, "agency_foster")] == {
        "owner": ESSEX,
        "owner_name": "Essex",
        "placement_type": "agency_foster",
        "vacancies": 1,
        "beds": 1,
        "beds_free": 1,
        "offered_to_pool": 0,
    }
    assert supply[(THURROCK, "inhouse_foster")]["vacancies"] == 2
    pooled = {p["owner"]: p for p in data["pooled_by_owner"]}
    assert pooled[THURROCK]["vacancies"] == 1 and pooled[SOUTHEND]["beds"] == 3
    # the pooled vacancies themselves: not the kept-back ones, and no child id
    listed = {v["vacancy_id"] for v in c.get(f"{API}/pool", headers=h).json()}
    assert listed == {"EV1", "EV2", "EV4", "TV1", "SV1", "SV2"}
    for text in (got.text, c.get(f"{API}/pool", headers=h).text):
        for child in ("E1", "E2", "T1", "T2", "T3", "S1", "S2"):
            assert f'"{child}"' not in text
    # other roles may not read the region's aggregates
    assert c.get(f"{API}/region", headers=region.h("officer")).status_code == 403
    assert c.get(f"{API}/region", headers=region.h("commissioner")).status_code == 403


def test_placements_show_in_the_outcomes(tmp_path: Path) -> None:
    with pooled_service("sqlite", tmp_path) as s:
        c = s.client
        # Southend's siblings in Southend's own carer (2 beds), 0 miles from home
        for child in ("S1", "S2"):
            r = c.post(
                f"{API}/children/{child}/decision",
                json={"vacancy_id": "SV1", "reason": "together"},
                headers=s.h("officer"),
            )
            assert r.status_code == 404  # an Essex officer may not place Southend's child
        # Thurrock's T2 in Essex's pooled EV2 (SS14 1DL, Basildon), out of Thurrock's area
        r = c.post(
            f"{API}/children/T2/decision",
            json={"vacancy_id": "EV2", "reason": "pooled"},
            headers=s.h("officer_thurrock"),
        )
        assert r.status_code == 201, r.text
        r = c.post(
            f"{API}/children/T1/decision",
            json={"vacancy_id": "TV1", "reason": "own"},
            headers=s.h("officer_thurrock"),
        )
        assert r.status_code == 201, r.text
        data = c.get(f"{API}/region", headers=s.h(RC)).json()
        t = next(a for a in data["authorities"] if a["authority"] == THURROCK)
        from geography.distance import pl_distance

        near = int(pl_distance("RM17 5RW", "SS14 1DL") <= 20) + 1  # T1 is 0 miles from TV1
        assert (t["children_waiting"], t["children_placed"]) == (1, 2)
        assert (t["placed_in_own_vacancy"], t["placed_in_pooled_vacancy"]) == (1, 1)
        assert t["placed_in_area"] == 1 and t["weekly_cost"] == 950
        assert t["placed_within_20_miles"] == near and t["pct_in_pooled_vacancy"] == 50.0
        assert data["region"]["children_placed"] == 2


# --------------------------------------------------------------------------- no child


#: An Essex child (exists) and an id no authority uses.
THEIRS, NOBODY = "E1", "C77"


def _same(theirs: object, nobody: object) -> None:
    from httpx import Response as HttpxResponse

    assert isinstance(theirs, HttpxResponse) and isinstance(nobody, HttpxResponse)
    assert theirs.status_code == nobody.status_code, theirs.request.url
    assert theirs.status_code >= 400, theirs.request.url  # never the child's data
    assert theirs.headers.get("content-type") == nobody.headers.get("content-type")
    assert theirs.text.replace(THEIRS, "ID") == nobody.text.replace(NOBODY, "ID")


def test_the_commissioner_gets_not_found_on_every_child_route(region: Service) -> None:
    c, h = region.client, region.h(RC)
    bodies = {
        "child": {"child_id": THEIRS, "age": 9, "sex": "M", "la": "Essex"},
        "decision": {"vacancy_id": "EV1", "reason": "nearest"},
        "withdraw": {"reason": "changed"},
        "responses": {"vacancy_id": "EV1", "response": "offer"},
    }
    paths = [
        "/children/{id}",
        "/children/{id}/rank",
        "/children/{id}/rank?top=3&urgency=emergency",
        "/children/{id}/why-not/EV1",
        "/children/{id}/map.svg",
        "/children/{id}/decision",
        "/children/{id}/decision/withdraw",
        "/children/{id}/responses",
    ]
    for path in paths:
        key = path.split("?")[0].rsplit("/", 1)[-1]
        for method in METHODS:
            answers = []
            for ident in (THEIRS, NOBODY):
                body = dict(bodies.get(key, bodies["child"]))
                if "child_id" in body:
                    body["child_id"] = ident
                answers.append(c.request(method, API + path.format(id=ident), json=body, headers=h))
            _same(*answers)
    # "not found" itself, on the record and its ranking
    for path in ("/children/{id}", "/children/{id}/rank"):
        r = c.get(API + path.format(id=THEIRS), headers=h)
        assert r.status_code == 404 and "is not among the records you may see" in r.json()["detail"]
    # the list of children and a batch match are not theirs either (a wrong role)
    assert c.get(f"{API}/children", headers=h).status_code == 403
    assert c.post(f"{API}/match", json={"child_ids": [THEIRS]}, headers=h).status_code == 403
    # through the session cookie too, and on the page
    csrf = sign_in(region, RC)
    try:
        for method in METHODS:
            _same(
                *(
                    c.request(
                        method,
                        f"{API}/children/{i}/decision",
                        json=bodies["decision"],
                        headers={"X-CSRF-Token": csrf},
                    )
                    for i in (THEIRS, NOBODY)
                )
            )
        for path in ("/children/{id}", "/children/{id}?why_not=EV1", "/children/{id}/map.svg"):
            for method in METHODS:
                _same(
                    *(
                        c.request(method, path.format(id=i), follow_redirects=False)
                        for i in (THEIRS, NOBODY)
                    )
                )
        page = c.get(f"/children/{THEIRS}", follow_redirects=False)
        assert page.status_code == 404 and "CM1 1QH" not in page.text
        forms = {
            "decision": {"vacancy_id": "EV1", "reason": "nearest", "csrf": csrf},
            "withdraw": {"reason": "changed", "csrf": csrf},
            "responses": {"vacancy_id": "EV1", "response": "offer", "csrf": csrf},
        }
        for key, form in forms.items():
            for method in METHODS:
                _same(
                    *(
                        c.request(method, f"/children/{i}/{key}", data=form, follow_redirects=False)
                        for i in (THEIRS, NOBODY)
                    )
                )
        home = c.get("/", follow_redirects=False)
        assert home.headers["location"] == "/region"
        shown = c.get("/region")
        assert shown.status_code == 200 and "Children and outcomes by authority" in shown.text
        assert "Southend-on-Sea" in shown.text and "EV1" in shown.text and "EV3" not in shown.text
    finally:
        c.cookies.clear()
    # the attempts are audited as denied, under the child's authority for the real one
    denied = _audit(region, username=RC, outcome="denied", resource="child", resource_id=THEIRS)
    assert denied and all(e["authority"] == ESSEX for e in denied)
    # and the Essex child is untouched
    assert (
        c.get(f"{API}/children/{THEIRS}", headers=region.h("officer")).json()["status"] == "waiting"
    )


# --------------------------------------------------------------------------- the officer


def test_a_vacancy_kept_back_never_appears_to_another_authority(region: Service) -> None:
    c, h = region.client, region.h("officer_thurrock")
    listed = {v["vacancy_id"]: v for v in c.get(f"{API}/vacancies", headers=h).json()}
    assert "EV3" not in listed and "TV2" in listed  # Essex's kept back; Thurrock's own
    assert listed["EV1"]["pooled"] is True and listed["TV1"]["pooled"] is False
    assert listed["TV2"]["offered_to_pool"] is False
    pool = {v["vacancy_id"] for v in c.get(f"{API}/pool", headers=h).json()}
    assert pool == {"EV1", "EV2", "EV4", "SV1", "SV2"}  # others' offered ones only
    # the kept-back vacancy answers as one that does not exist, everywhere
    for path in ("/vacancies/{v}", "/children/T1/why-not/{v}"):
        a, b = (c.get(API + path.format(v=v), headers=h) for v in ("EV3", "EV99"))
        assert a.status_code == b.status_code == 404
        assert a.text.replace("EV3", "ID") == b.text.replace("EV99", "ID")
    ranking = c.get(f"{API}/children/T1/rank", headers=h)
    assert ranking.status_code == 200 and "EV3" not in ranking.text
    assert "TV2" in ranking.text  # Thurrock's own kept-back vacancy is for its children
    for v in ("EV3", "EV99"):  # a decision or a provider's answer on it: as an unknown one
        r = c.post(f"{API}/children/T3/decision", json={"vacancy_id": v, "reason": "x"}, headers=h)
        assert r.status_code == 404 and v in r.json()["detail"]
        r = c.post(
            f"{API}/children/T3/responses", json={"vacancy_id": v, "response": "offer"}, headers=h
        )
        assert r.status_code == 404 and v in r.json()["detail"]
    r = c.post(
        f"{API}/vacancies/EV3/requests", json={"state": "requested", "reason": "x"}, headers=h
    )
    assert r.status_code == 404
    page = sign_in(region, "officer_thurrock")
    try:
        assert page
        for url in ("/children/T1", "/pool"):
            text = c.get(url).text
            assert "EV3" not in text, url
        assert "EV1" in c.get("/pool").text
    finally:
        c.cookies.clear()
    # Essex's own officer still sees and ranks it (Thurrock's kept-back one is hidden there)
    essex = c.get(f"{API}/children/E2/rank", headers=region.h("officer")).text
    assert "EV3" in essex and "TV2" not in essex


def test_each_child_is_ranked_under_its_own_authority_s_policy(
    region: Service, tmp_path: Path
) -> None:
    from matcher.casefolder import load_case_folder
    from matcher.pooled import folder_for_child
    from matcher.rank import rank_child

    c = region.client
    folder = load_case_folder(pooled_folder(tmp_path))
    for child, user, own in (("T1", "officer_thurrock", 40), ("E1", "officer", 0)):
        got = c.get(f"{API}/children/{child}/rank", headers=region.h(user)).json()
        engine = rank_child(folder_for_child(folder, child), child).to_dict()
        hidden = {"EV3"} if child == "T1" else {"TV2"}
        want = [o for o in engine["options"] if o["vacancy_id"] not in hidden]
        assert [(o["vacancy_id"], o["points"]) for o in got["options"]] == [
            (o["vacancy_id"], o["points"]) for o in want
        ]
        by_id = {o["vacancy_id"]: o for o in got["options"]}
        mine = "TV1" if child == "T1" else "EV1"
        assert by_id[mine]["factors"]["own_carers"] == own
        for o in got["options"]:  # explanations still add up to the score
            assert sum(o["factors"].values()) == o["points"]
    # the page shows the own-carers points for Thurrock's child (its policy turns them on)
    sign_in(region, "officer_thurrock")
    try:
        page = c.get("/children/T1").text
        assert '<abbr title="own carers">Own carers</abbr>' in page
        assert html.escape("An in-house foster carer of Thurrock", quote=False) in page
    finally:
        c.cookies.clear()
    sign_in(region, "officer")
    try:
        assert "Own carers</abbr>" not in c.get("/children/E1").text
    finally:
        c.cookies.clear()


def test_hold_request_accept_release_are_audited_under_both(region: Service) -> None:
    c = region.client
    thurrock, essex = region.h("officer_thurrock"), region.h("officer")
    r = c.post(
        f"{API}/vacancies/EV4/requests",
        json={"state": "requested", "reason": "near T2's school", "child_id": "T2"},
        headers=thurrock,
    )
    assert r.status_code == 201, r.text
    claim = r.json()
    assert (claim["state"], claim["owner"], claim["requester"], claim["child_id"]) == (
        "requested",
        ESSEX,
        THURROCK,
        "T2",
    )
    entries = _audit(region, action="pool_request", resource_id=f"EV4/{claim['id']}")
    assert sorted(e["authority"] for e in entries) == sorted([ESSEX, THURROCK])
    assert all(
        e["username"] == "officer_thurrock" and "near T2's school" in e["reason"] for e in entries
    )
    # each authority's officers find it in their own audit log
    for h in (thurrock, essex):
        mine = c.get(f"{API}/audit?limit=1000", headers=h).json()
        assert any(
            e["action"] == "pool_request" and e["resource_id"] == f"EV4/{claim['id']}" for e in mine
        )
    # the owner sees the request, without the child's id
    theirs = {q["id"]: q for q in c.get(f"{API}/pool/requests", headers=essex).json()}
    assert theirs[claim["id"]]["child_id"] is None and theirs[claim["id"]]["state"] == "requested"
    # one open claim per vacancy; the requester cannot accept; the owner can
    again = c.post(
        f"{API}/vacancies/EV4/requests",
        json={"state": "held", "reason": "me too"},
        headers=thurrock,
    )
    assert again.status_code == 409
    url = f"{API}/pool/requests/{claim['id']}"
    assert c.patch(url, json={"state": "accepted"}, headers=thurrock).status_code == 403
    assert c.patch(url, json={"state": "accepted"}, headers=region.h(RC)).status_code == 403
    ok = c.patch(url, json={"state": "accepted", "reason": "yes"}, headers=essex)
    assert ok.status_code == 200 and ok.json()["state"] == "accepted"
    assert ok.json()["updated_by"] != claim["created_by"]
    assert c.patch(url, json={"state": "accepted"}, headers=essex).status_code == 409
    # the regional commissioner sees the claim's state on the pooled vacancy
    pooled = {v["vacancy_id"]: v for v in c.get(f"{API}/pool", headers=region.h(RC)).json()}
    assert (
        pooled["EV4"]["claim"]["state"] == "accepted" and pooled["EV4"]["claim"]["child_id"] is None
    )
    released = c.patch(
        url, json={"state": "released", "reason": "placed elsewhere"}, headers=thurrock
    )
    assert released.status_code == 200 and released.json()["state"] == "released"
    assert len(_audit(region, action="pool_release", resource_id=f"EV4/{claim['id']}")) == 2
    assert len(_audit(region, action="pool_accept", resource_id=f"EV4/{claim['id']}")) == 2
    # released: free to hold again; a hold then becomes a request
    held = c.post(
        f"{API}/vacancies/EV4/requests",
        json={"state": "held", "reason": "considering"},
        headers=thurrock,
    )
    assert held.status_code == 201 and held.json()["child_id"] is None
    asked = c.patch(
        f"{API}/pool/requests/{held.json()['id']}", json={"state": "requested"}, headers=thurrock
    )
    assert asked.status_code == 200 and asked.json()["state"] == "requested"
    # refused: their own vacancy, no reason, another authority's child, a bad state
    assert (
        c.post(
            f"{API}/vacancies/TV1/requests", json={"state": "held", "reason": "x"}, headers=thurrock
        ).status_code
        == 422
    )
    assert (
        c.post(
            f"{API}/vacancies/SV2/requests", json={"state": "held", "reason": " "}, headers=thurrock
        ).status_code
        == 422
    )
    r = c.post(
        f"{API}/vacancies/SV2/requests",
        json={"state": "held", "reason": "x", "child_id": "E1"},
        headers=thurrock,
    )
    assert r.status_code == 404 and "child 'E1'" in r.json()["detail"]
    r = c.post(
        f"{API}/vacancies/SV2/requests", json={"state": "accepted", "reason": "x"}, headers=thurrock
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "state"
    assert (
        c.post(
            f"{API}/vacancies/SV2/requests",
            json={"state": "held", "reason": "x"},
            headers=region.h(RC),
        ).status_code
        == 403
    )
    # a claim neither authority is party to is a 404 (Southend has no officer here)
    sv = c.post(
        f"{API}/vacancies/SV2/requests", json={"state": "held", "reason": "x"}, headers=essex
    ).json()
    assert (
        c.patch(
            f"{API}/pool/requests/{sv['id']}", json={"state": "released"}, headers=thurrock
        ).status_code
        == 404
    )


def test_the_pool_page_holds_and_requests(region: Service) -> None:
    c = region.client
    csrf = sign_in(region, "officer_thurrock")
    try:
        r = c.post(
            "/pool/SV1/claim", data={"state": "requested", "reason": "siblings' bed", "csrf": csrf}
        )
        assert r.status_code == 200 and "Requested: vacancy SV1 from Southend-on-Sea" in r.text
        assert 'id="request-' in r.text and "siblings&#39; bed" in r.text
        again = c.post("/pool/SV1/claim", data={"state": "held", "reason": "again", "csrf": csrf})
        assert "Not recorded: vacancy SV1 is already held or requested" in again.text
        assert (
            c.post(
                "/pool/SV1/claim", data={"state": "held", "reason": "x", "csrf": "forged"}
            ).status_code
            == 403
        )
    finally:
        c.cookies.clear()
    assert (
        len(
            _audit(
                region,
                action="pool_request",
                resource="vacancy",
                outcome="ok",
                username="officer_thurrock",
            )
        )
        >= 2
    )


def test_the_migration_adds_pool_requests_and_keeps_the_data(empty_url: str) -> None:
    from alembic import command
    from servicekit import DEMO
    from sqlalchemy import func, inspect, select

    from placematch.service import db, store
    from placematch.service.models import ChildRecord

    engine = db.connect(empty_url)
    config = db._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    assert "pool_requests" not in inspect(engine).get_table_names()
    with db.session_factory(engine)() as s:
        store.load_path(s, DEMO)
        auth.add_user(s, "keeper", "password123", "placement_officer", ["Essex"])
        s.commit()
    assert db.migrate(engine) == db.head_revision()
    assert "pool_requests" in inspect(engine).get_table_names()
    with db.session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(ChildRecord)) == 12
        assert auth.sign_in(s, "keeper", "password123", "127.0.0.1") is not None
    engine.dispose()


def test_an_officer_cannot_file_a_vacancy_for_another_authority(region: Service) -> None:
    body = {
        "vacancy_id": "TV9",
        "provider_id": "TP9",
        "placement_type": "inhouse_foster",
        "postcode": "RM17 6SL",
        "beds": 1,
        "age_min": 0,
        "age_max": 17,
        "ofsted": "good",
        "weekly_cost": 400,
        "owner_la": "Essex",
        "offered_to_pool": "true",
    }
    c = region.client
    r = c.post(f"{API}/vacancies", json=body, headers=region.h("officer_thurrock"))
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["owner_la"]
    r = c.post(
        f"{API}/vacancies",
        json={**body, "owner_la": "Thurrock"},
        headers=region.h("officer_thurrock"),
    )
    assert r.status_code == 201 and r.json()["owner"] == THURROCK
    assert (
        json.loads(c.get(f"{API}/vacancies/TV9", headers=region.h("officer")).text)["pooled"]
        is True
    )


# --------------------------------------------------------------------------- in a browser


def test_in_the_browser_a_request_is_audited_and_the_commissioner_finds_no_child(
    browser: Any, tmp_path: Path
) -> None:
    """Chromium: Thurrock's officer requests Essex's pooled EV1 on the pool page (Essex's
    kept-back EV3 is nowhere), finds it in the audit log; Essex's officer accepts it; the
    regional commissioner reads the region's tables and gets "not found" on a child."""
    out = artifacts()
    with pooled_service("sqlite", tmp_path) as s, live(s.app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        browser_sign_in(page, base, "officer_thurrock")
        page.wait_for_url(base + "/children")
        page.get_by_role("link", name="Regional pool").click()
        page.wait_for_url(base + "/pool")
        pooled = page.locator("table#pooled").inner_text()
        assert "EV1" in pooled and "Essex" in pooled and "EV3" not in page.content()
        every_field_is_labelled(page)
        row = page.locator("#pooled-EV1")
        row.get_by_label("Reason").fill("near the child's school")
        row.get_by_label("For child (optional)").fill("T2")
        row.get_by_role("button", name="Request EV1").click()
        message = page.locator("#message")
        message.wait_for()
        assert "Requested: vacancy EV1 from Essex" in message.inner_text()
        assert "requested by Thurrock" in page.locator("#pooled-EV1").inner_text()
        page.screenshot(path=str(out / "region-1-officer-pool.png"), full_page=True)
        page.get_by_role("link", name="Audit log").click()
        page.wait_for_url(base + "/audit")
        audit_text = page.locator("table#audit tbody").inner_text()
        assert "pool_request" in audit_text and "EV1/" in audit_text
        assert "near the child's school" in audit_text
        # the child page ranks T2 under Thurrock's policy, own carers shown; no EV3
        page.goto(base + "/children/T2")
        assert page.locator("table.factors abbr[title='own carers']").count() > 0
        assert "EV3" not in page.content()

        owner = browser.new_page(viewport={"width": 1280, "height": 900})
        browser_sign_in(owner, base, "officer")
        owner.goto(base + "/pool")
        request_row = owner.locator("table#requests tbody tr").first
        cells = request_row.locator("td").all_inner_texts()
        assert "requested" in cells and "T2" not in " ".join(cells)  # not the child's id
        request_row.get_by_role("button", name=re.compile("^Accept request")).click()
        owner.locator("#message").wait_for()
        assert "is now accepted" in owner.locator("#message").inner_text()
        owner.screenshot(path=str(out / "region-2-owner-accepts.png"), full_page=True)

        rc = browser.new_page(viewport={"width": 1280, "height": 900})
        browser_sign_in(rc, base, RC)
        rc.wait_for_url(base + "/region")
        outcomes = rc.locator("table#outcomes").inner_text()
        assert "Thurrock" in outcomes and "Southend-on-Sea" in outcomes and "Region" in outcomes
        assert "EV1" in rc.locator("table#pooled").inner_text()
        assert "accepted" in rc.locator("table#pooled").inner_text()
        rc.screenshot(path=str(out / "region-3-commissioner.png"), full_page=True)
        response = rc.goto(base + "/children/E1")
        assert response is not None and response.status == 404
        assert "is not among the records you may see" in rc.content()
        assert "CM1 1QH" not in rc.content()
        unknown = rc.goto(base + "/children/C77")
        assert unknown is not None and unknown.status == 404


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_authorities_claiming_one_vacancy_at_once(backend: str, tmp_path: Path) -> None:
    """Thurrock's and Essex's officers claim Southend's SV2 at the same moment, through a
    real server: the database lets exactly one claim stand; the other is a 409, audited
    once as a refused write. Then a release and a second round."""
    with pooled_service(backend, tmp_path) as region:
        _claim_race(region)


def _claim_race(region: Service) -> None:
    from test_service_concurrency import _race

    from placematch.service.models import PoolRequest

    tokens = (region.tokens["officer_thurrock"], region.tokens["officer"])
    body = {"state": "requested", "reason": "race"}
    with live(region.app) as base:
        for _ in range(2):
            answers = _race(base, [(t, f"{API}/vacancies/SV2/requests", body) for t in tokens])
            assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
            won = next(r for r in answers if r.status_code == 201).json()
            lost = next(r for r in answers if r.status_code == 409).json()
            assert "already held or requested" in lost["detail"]
            who = region.tokens["officer"] if won["requester"] == ESSEX else tokens[0]
            released = region.client.patch(
                f"{API}/pool/requests/{won['id']}",
                json={"state": "released"},
                headers={"Authorization": f"Bearer {who}"},
            )
            assert released.status_code == 200
    with region.app.state.sessions() as session:
        rows = [
            r for r in session.query(PoolRequest) if r.vacancy_id == "SV2" and r.reason == "race"
        ]
    assert len(rows) == 2 and all(r.state == "released" and r.open_vacancy is None for r in rows)
    refused = _audit(region, resource="request", resource_id=f"{API}/vacancies/SV2/requests")
    assert len(refused) == 2 and all(e["reason"].startswith("409: ") for e in refused)


def test_a_carer_s_owner_may_be_named_or_coded(region: Service) -> None:
    """``owner_la`` may name the authority ("Thurrock") or give its ONS code: either way a
    carer's ``connected_to`` is checked against that authority's children, so Thurrock's
    officer may file a carer for Thurrock's own child (under the name it was refused as a
    child not in children.csv)."""
    c, h = region.client, region.h("officer_thurrock")
    body = {
        "provider_id": "TPK",
        "placement_type": "connected_person_foster",
        "postcode": "RM17 6SL",
        "beds": 1,
        "age_min": 0,
        "age_max": 17,
        "ofsted": "good",
        "weekly_cost": 300,
        "offered_to_pool": "false",
        "connected_to": ["T1"],
    }
    for vacancy_id, owner in (("TK1", THURROCK), ("TK2", "Thurrock")):
        r = c.post(
            f"{API}/vacancies",
            json={**body, "vacancy_id": vacancy_id, "owner_la": owner},
            headers=h,
        )
        assert r.status_code == 201, r.text
        got = c.get(f"{API}/vacancies/{vacancy_id}", headers=h).json()
        assert got["record"]["connected_to"] == "T1"
