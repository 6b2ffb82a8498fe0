"""Ids are per authority (issue 15 part 6): Thurrock's officer can use ``C01`` and sibling
group ``SG1`` although Essex has them, and no answer tells "Essex's id" from "an id nobody
uses", on any verb. On SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from servicekit import DEMO, ESSEX, PASSWORD, THURROCK, Service
from sqlalchemy import func, select

from placematch.service import auth, db, store

API = "/api/v1"
#: Essex's ids in the demo, and ids nobody uses, which Thurrock's officer tries alike.
THEIRS = {"child": "C01", "group": "SG1", "sibling": "C02"}
UNKNOWN = {"child": "Z01", "group": "SGZ", "sibling": "Z02"}
LISTS = ("needs", "placement_types", "avoid_areas", "risk_flags")


def _child_body(service: Service, child_id: str, group: str) -> dict[str, Any]:
    """A Thurrock child like the demo's C10, with this id and sibling group."""
    record = service.client.get(
        f"{API}/children/C10", headers=service.h("officer_thurrock")
    ).json()["record"]
    body: dict[str, Any] = {
        k: [x for x in v.split(";") if x] if k in LISTS else v for k, v in record.items()
    }
    body["home_postcode_unknown"] = bool(body.get("home_postcode_unknown"))
    body["school_urn"] = int(body["school_urn"]) if body.get("school_urn") else None
    return {**body, "child_id": child_id, "sibling_group": group}


def _norm(r: Any, ids: dict[str, str]) -> tuple[int, str, str]:
    """An answer's status, content type and body with each of ``ids`` written ``<name>``."""
    text = r.text
    for name in sorted(ids, key=lambda k: -len(ids[k])):
        text = re.sub(rf"\b{re.escape(ids[name])}\b", f"<{name}>", text)
    return r.status_code, r.headers.get("content-type", ""), text


def _same(a: Any, b: Any, ids: dict[str, str], other: dict[str, str]) -> None:
    """The two answers are equal byte for byte once each one's ids are written by name."""
    assert _norm(a, ids) == _norm(b, other)


def _verbs(service: Service, ids: dict[str, str]) -> list[Any]:
    """Every child verb of Thurrock's officer on ``ids["child"]``, answers in order."""
    c, h = service.client, service.h("officer_thurrock")
    child = ids["child"]
    return [
        c.get(f"{API}/children/{child}", headers=h),
        c.get(f"{API}/children/{child}/history", headers=h),
        c.get(f"{API}/children/{child}/rank", headers=h),
        c.get(f"{API}/children/{child}/why-not/V05", headers=h),
        c.get(f"{API}/children/{child}/map.svg", headers=h),
        c.get(f"{API}/children/{child}/responses", headers=h),
        c.post(
            f"{API}/children/{child}/responses",
            json={"vacancy_id": "V05", "response": "offer"},
            headers=h,
        ),
        c.post(
            f"{API}/children/{child}/decision",
            json={"vacancy_id": "V05", "reason": "panel"},
            headers=h,
        ),
        c.post(f"{API}/children/{child}/decision/withdraw", json={"reason": "x"}, headers=h),
        c.put(f"{API}/children/{child}", json=_child_body(service, child, ""), headers=h),
        c.post(
            f"{API}/vacancies/V05/requests",
            json={"state": "held", "reason": "for a child", "child_id": child},
            headers=h,
        ),
    ]


def test_another_authoritys_child_answers_as_an_unknown_one(fresh: Service) -> None:
    theirs, unknown = _verbs(fresh, THEIRS), _verbs(fresh, UNKNOWN)
    assert [r.status_code for r in theirs][:4] == [404, 404, 404, 404]
    for a, b in zip(theirs, unknown, strict=True):
        _same(a, b, THEIRS, UNKNOWN)


def test_creating_an_id_another_authority_uses_is_as_creating_a_new_one(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer_thurrock")
    answers = {}
    for ids in (THEIRS, UNKNOWN):
        # the first of a sibling group of two, named as Essex's group (or a new name)
        first = c.post(
            f"{API}/children", json=_child_body(fresh, ids["child"], ids["group"]), headers=h
        )
        second = c.post(
            f"{API}/children", json=_child_body(fresh, ids["sibling"], ids["group"]), headers=h
        )
        again = c.post(
            f"{API}/children", json=_child_body(fresh, ids["child"], ids["group"]), headers=h
        )
        listed = c.get(f"{API}/children", headers=h)
        answers[ids["child"]] = (first, second, again, listed)
    for a, b in zip(answers["C01"], answers["Z01"], strict=True):
        assert a.status_code == b.status_code
    first, second, again, _ = answers["C01"]
    assert (first.status_code, second.status_code, again.status_code) == (201, 201, 409)
    for a, b in zip(answers["C01"][:3], answers["Z01"][:3], strict=True):
        _same(a, b, THEIRS, UNKNOWN)
    # the list holds both pairs: C01, C02, Z01, Z02 and the demo's C10
    ids = sorted(x["child_id"] for x in answers["Z01"][3].json())
    assert ids == ["C01", "C02", "C10", "Z01", "Z02"]
    assert {x["authority"] for x in answers["Z01"][3].json()} == {THURROCK}


def test_two_authorities_use_the_same_ids(fresh: Service) -> None:
    c = fresh.client
    essex, thurrock = fresh.h("officer"), fresh.h("officer_thurrock")
    before = c.get(f"{API}/children/C01", headers=essex).json()
    essex_rank = c.get(f"{API}/children/C01/rank", headers=essex).json()
    for child in ("C01", "C02"):
        r = c.post(f"{API}/children", json=_child_body(fresh, child, "SG1"), headers=thurrock)
        assert r.status_code == 201, r.text
    # each officer reads their own C01
    mine = c.get(f"{API}/children/C01", headers=thurrock).json()
    assert mine["authority"] == THURROCK and mine["record"]["sibling_group"] == "SG1"
    assert c.get(f"{API}/children/C01", headers=essex).json() == before

    # Essex's ranking is as it was (its objective points scale with the children waiting);
    # Thurrock's C01 is ranked as its own child
    def options(answer: dict[str, Any]) -> list[Any]:
        return [(o["vacancy_id"], o["points"], o["factors"]) for o in answer["options"]]

    essex_now = c.get(f"{API}/children/C01/rank", headers=essex).json()
    assert options(essex_now) == options(essex_rank)
    ranked = c.get(f"{API}/children/C01/rank", headers=thurrock)
    assert ranked.status_code == 200 and ranked.json()["child_id"] == "C01"
    assert all(o["vacancy_id"] for o in ranked.json()["options"])
    # Thurrock decides on its C01: Essex's C01 is still waiting
    option = ranked.json()["options"][0]["vacancy_id"]
    r = c.post(
        f"{API}/children/C01/decision",
        json={"vacancy_id": option, "reason": "panel"},
        headers=thurrock,
    )
    assert r.status_code == 201, r.text
    assert c.get(f"{API}/children/C01", headers=essex).json()["status"] == "waiting"
    assert c.get(f"{API}/children/C01/history", headers=essex).json() == []
    history = c.get(f"{API}/children/C01/history", headers=thurrock).json()
    assert [e["event"] for e in history] == ["decision"]
    # ... and Essex decides on its own C01, then Thurrock withdraws its decision
    essex_option = essex_rank["options"][0]["vacancy_id"]
    r = c.post(
        f"{API}/children/C01/decision",
        json={"vacancy_id": essex_option, "reason": "panel"},
        headers=essex,
    )
    assert r.status_code == 201, r.text
    r = c.post(f"{API}/children/C01/decision/withdraw", json={"reason": "x"}, headers=thurrock)
    assert r.status_code == 200, r.text
    assert c.get(f"{API}/children/C01", headers=thurrock).json()["status"] == "waiting"
    assert c.get(f"{API}/children/C01", headers=essex).json()["status"] == "placed"
    # a provider's answer is recorded for one authority's child only
    r = c.post(
        f"{API}/children/C01/responses",
        json={"vacancy_id": "V05", "response": "decline", "reason": "no_capacity"},
        headers=thurrock,
    )
    assert r.status_code == 201, r.text
    assert c.get(f"{API}/children/C01/responses", headers=essex).json() == []
    assert len(c.get(f"{API}/children/C01/responses", headers=thurrock).json()) == 1
    # the sibling groups stay apart: Essex's SG1 is still C01, C02, C03; the store's folder
    # keeps an id used by one authority (C03) and keys those used by two
    with fresh.app.state.sessions() as s:
        folder = store.stored_folder(s)
        groups = {g.sibling_group_id: sorted(g.child_ids) for g in folder.sibling_groups}
        assert groups[store.key(ESSEX, "SG1")] == [
            "C03",
            store.key(ESSEX, "C01"),
            store.key(ESSEX, "C02"),
        ]
        assert groups[store.key(THURROCK, "SG1")] == [
            store.key(THURROCK, "C01"),
            store.key(THURROCK, "C02"),
        ]
    # each officer's batch match names its own children
    for who in ("officer", "officer_thurrock"):
        r = c.post(f"{API}/match", json={}, headers=fresh.h(who))
        assert r.status_code == 202, r.text


def test_uploads_do_not_tell_another_authoritys_ids(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer_thurrock")
    header = c.get(f"{API}/children/C10", headers=h).json()["record"]
    names = list(header)

    def csv_of(ids: dict[str, str]) -> bytes:
        rows = [",".join(names)]
        for child in (ids["child"], ids["sibling"]):
            row = {**header, "child_id": child, "sibling_group": ids["group"]}
            rows.append(",".join(str(row[n]) for n in names))
        return ("\n".join(rows) + "\n").encode()

    answers = []
    for ids in (THEIRS, UNKNOWN):
        files = {"file": ("children.csv", io.BytesIO(csv_of(ids)), "text/csv")}
        answers.append(c.post(f"{API}/children/upload", files=files, headers=h))
    assert answers[0].status_code == 201, answers[0].text
    _same(answers[0], answers[1], THEIRS, UNKNOWN)
    # a carer naming Essex's child is refused as one naming a child nobody has
    refused = []
    for child in ("C03", "Z03"):
        vacancy = {
            "vacancy_id": f"K{child}",
            "provider_id": "KP1",
            "placement_type": "connected_person",
            "postcode": "RM17 6SL",
            "beds": 1,
            "age_min": 0,
            "age_max": 17,
            "ofsted": "good",
            "weekly_cost": 300,
            "connected_to": [child],
        }
        refused.append(c.post(f"{API}/vacancies", json=vacancy, headers=h))
    assert refused[0].status_code == 422, refused[0].text
    _same(
        refused[0],
        refused[1],
        {"child": "C03", "vacancy": "KC03"},
        {"child": "Z03", "vacancy": "KZ03"},
    )


def test_the_region_counts_both_authorities_children_of_one_id(fresh: Service) -> None:
    c = fresh.client
    thurrock = fresh.h("officer_thurrock")
    r = c.post(f"{API}/children", json=_child_body(fresh, "C01", ""), headers=thurrock)
    assert r.status_code == 201, r.text
    ranked = c.get(f"{API}/children/C01/rank", headers=thurrock).json()["options"]
    for who, child in (("officer_thurrock", "C01"), ("officer", "C01")):
        options = c.get(f"{API}/children/{child}/rank", headers=fresh.h(who)).json()["options"]
        r = c.post(
            f"{API}/children/{child}/decision",
            json={"vacancy_id": options[-1]["vacancy_id"], "reason": "panel"},
            headers=fresh.h(who),
        )
        assert r.status_code == 201, r.text
    assert ranked
    with fresh.app.state.sessions() as s:
        from placematch.service.auth import Principal
        from placematch.service.pool import region_summary

        who = Principal(
            user_id=0, username="rc", role="regional_commissioner", authorities=(ESSEX, THURROCK)
        )
        summary = region_summary(s, who)
    per = {row["authority"]: row for row in summary["authorities"]}
    assert per[ESSEX]["children_placed"] == 1 and per[THURROCK]["children_placed"] == 1
    placed = per[ESSEX]["placed_in_own_vacancy"] + per[ESSEX]["placed_in_pooled_vacancy"]
    assert placed == 1
    placed = per[THURROCK]["placed_in_own_vacancy"] + per[THURROCK]["placed_in_pooled_vacancy"]
    assert placed == 1


@pytest.mark.parametrize("head", ["0004"])
def test_the_migration_keeps_the_data_and_lets_ids_repeat(empty_url: str, head: str) -> None:
    from alembic import command

    from placematch.service.models import ChildRecord, Decision, ProviderResponse

    engine = db.connect(empty_url)
    config = db._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, head)
    # a store made by the previous head: the demo, a decision and a provider's answer
    with db.session_factory(engine)() as s:
        store.load_path(s, DEMO)
        uid = auth.add_user(s, "keeper", PASSWORD, "placement_officer", ["Essex"]).id
        s.commit()
        store.record_decision(s, ESSEX, "C06", "V02", uid, "kept")
        s.add(
            ProviderResponse(
                authority_code=ESSEX,
                child_id="C01",
                vacancy_id="V05",
                response="offer",
                user_id=uid,
            )
        )
        s.commit()
    assert db.migrate(engine) == db.head_revision() == "0005"
    with db.session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(ChildRecord)) == 12
        assert s.scalar(select(func.count()).select_from(Decision)) == 1
        assert [(r.child_id, r.response) for r in store.responses_of_child(s, "C01", ESSEX)] == [
            ("C01", "offer")
        ]
        assert auth.authenticate(s, "keeper", PASSWORD) is not None
        # another authority's answer for its own C01 and the same vacancy is now its own row
        s.add(
            ProviderResponse(
                authority_code=THURROCK,
                child_id="C01",
                vacancy_id="V05",
                response="decline",
                user_id=uid,
            )
        )
        s.commit()
        assert s.scalar(select(func.count()).select_from(ProviderResponse)) == 2
    engine.dispose()


def test_an_upload_never_overwrites_another_authoritys_vacancy(fresh: Service) -> None:
    """Vacancy ids are one list for the store: Thurrock's officer uploading a row with the
    id of Essex's vacancy is refused, naming the file and field, and Essex's vacancy is
    unchanged; the same row under a new id is stored."""
    c, h = fresh.client, fresh.h("officer_thurrock")
    before = c.get(f"{API}/vacancies/V01", headers=fresh.h("officer")).json()["record"]
    header = "vacancy_id,provider_id,placement_type,postcode,beds,age_min,age_max,sex,"
    header += "capabilities,ofsted,weekly_cost\n"

    def upload(vacancy_id: str) -> Any:
        row = f"{vacancy_id},PT9,inhouse_foster,RM17 6SL,2,0,17,any,,good,350\n"
        files = {"file": ("vacancies.csv", header + row)}
        return c.post(f"{API}/vacancies/upload", files=files, headers=h)

    refused = upload("V01")
    assert refused.status_code == 422, refused.text
    assert [(e["file"], e["field"]) for e in refused.json()["errors"]] == [
        ("vacancies.csv", "vacancy_id")
    ]
    after = c.get(f"{API}/vacancies/V01", headers=fresh.h("officer")).json()["record"]
    assert after == before
    assert upload("VT9").status_code == 201
