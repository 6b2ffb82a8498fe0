"""After a write, a child's whole list kept from before is spliced rather than ranked afresh
when only some vacancies differ for it (``placematch.service.answers.spliced``): the answer
is byte for byte what a server that never kept anything answers, after every kind of write;
the writes that change what every ranking depends on (a decision, a child more or fewer:
the folded objective) are ranked afresh. On SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

import pytest
from servicekit import Service, running

from placematch.service.answers import answers_of

API = "/api/v1"


#: The officers whose children are ranked (each authority's view is a folder of its own).
OFFICERS = ("officer", "officer_thurrock")


def _waiting(s: Service) -> list[tuple[str, str]]:
    """(officer, child) of every waiting child each officer sees."""
    out = []
    for user in OFFICERS:
        r = s.client.get(f"{API}/children", headers=s.h(user))
        assert r.status_code == 200, r.text
        out += [(user, c["child_id"]) for c in r.json() if c["status"] == "waiting"]
    return sorted(out)


def _vacancy(s: Service, vacancy_id: str) -> dict[str, object]:
    h = s.h("officer")
    record = s.client.get(f"{API}/vacancies/{vacancy_id}", headers=h).json()["record"]
    lists = ("capabilities", "connected_to", "ethnicity", "languages")
    return {k: [x for x in v.split(";") if x] if k in lists else v for k, v in record.items()}


def _put_vacancy(s: Service, vacancy_id: str, **changes: object) -> None:
    body = {**_vacancy(s, vacancy_id), **changes}
    r = s.client.put(f"{API}/vacancies/{vacancy_id}", json=body, headers=s.h("officer"))
    assert r.status_code == 200, r.text


def _child(s: Service, child_id: str) -> dict[str, object]:
    r = s.client.get(f"{API}/children/{child_id}", headers=s.h("officer"))
    assert r.status_code == 200, r.text
    record = dict(r.json()["record"])
    lists = ("needs", "placement_types", "avoid_areas", "risk_flags")
    return {
        k: [x for x in v.split(";") if x] if k in lists else v
        for k, v in record.items()
        if v not in (None, "") or k in lists
    }


def _write(s: Service, kind: str) -> None:
    """One write of the kind, through the API."""
    c, h = s.client, s.h("officer")
    if kind == "vacancy_cost":  # a vacancy's own change: its pairs differ
        cost = int(float(str(_vacancy(s, "V03")["weekly_cost"])))
        _put_vacancy(s, "V03", weekly_cost=cost + 900)
    elif kind == "vacancy_dates":  # free only later: excluded on the date
        _put_vacancy(s, "V05", available_from="2099-01-01")
    elif kind == "vacancy_sex":  # whom a vacancy takes: options become exclusions
        _put_vacancy(s, "V02", sex="F")
    elif kind == "vacancy_provider":  # another bed of a provider: its other vacancy for C07
        body = {**_vacancy(s, "V16"), "vacancy_id": "V91"}
        r = c.post(f"{API}/vacancies", json=body, headers=h)
        assert r.status_code == 201, r.text
    elif kind == "vacancy_unchanged":  # put back as it is
        _put_vacancy(s, "V02")
    elif kind == "vacancy_new":  # another bed of a provider the folder has
        body = {**_vacancy(s, "V02"), "vacancy_id": "V90", "beds": "1"}
        r = c.post(f"{API}/vacancies", json=body, headers=h)
        assert r.status_code == 201, r.text
    elif kind == "vacancy_upload":  # a new provider: the providers are numbered again
        vac = (
            "vacancy_id,provider_id,placement_type,postcode,beds,age_min,age_max,sex,"
            "capabilities,ofsted,weekly_cost\n"
            "V60,P60,inhouse_foster,CM1 1QH,1,0,17,any,,outstanding,300\n"
        )
        r = c.post(f"{API}/vacancies/upload", files={"file": ("vacancies.csv", vac)}, headers=h)
        assert r.status_code in (200, 201), r.text
    elif kind == "response":  # one child's answer: that child (and its group) afresh
        body = {"vacancy_id": "V02", "response": "decline", "reason": "no_capacity"}
        r = c.post(f"{API}/children/C01/responses", json=body, headers=h)
        assert r.status_code == 201, r.text
    elif kind == "child_put":  # one child changed: that child afresh, the others spliced
        child = {**_child(s, "C07"), "age": 4}
        r = c.put(f"{API}/children/C07", json=child, headers=h)
        assert r.status_code == 200, r.text
    elif kind == "decision":  # a child placed (no longer waiting) and a bed taken: the
        # objective's bases move
        _decide(s, "C05")
    elif kind == "withdrawal":  # the child waits again and the bed is free: they move back
        r = c.post(f"{API}/children/C05/decision/withdraw", json={"reason": "t"}, headers=h)
        assert r.status_code == 200, r.text
    elif kind == "child_added":  # a child more waiting: the bases move
        child = {**_child(s, "C07"), "child_id": "C90", "age": 9}
        child.pop("sibling_group", None)
        r = c.post(f"{API}/children", json=child, headers=h)
        assert r.status_code == 201, r.text
    else:
        raise AssertionError(kind)


def _decide(s: Service, child_id: str) -> None:
    """The child's best option recorded as the decision."""
    c, h = s.client, s.h("officer")
    ranked = c.get(f"{API}/children/{child_id}/rank", headers=h).json()
    body = {"vacancy_id": ranked["options"][0]["vacancy_id"], "reason": "t"}
    r = c.post(f"{API}/children/{child_id}/decision", json=body, headers=h)
    assert r.status_code in (200, 201), r.text


def _set_up(s: Service, kind: str) -> None:
    """What the write needs first (before the answers are kept)."""
    if kind == "withdrawal":
        _decide(s, "C05")
    if kind == "vacancy_provider":  # a child who must be the only one placed there
        child = {**_child(s, "C07"), "needs": ["solo_only"]}
        r = s.client.put(f"{API}/children/C07", json=child, headers=s.h("officer"))
        assert r.status_code == 200, r.text


#: Whether some answer is spliced after the write (else every one is ranked afresh).
SPLICED = {
    "vacancy_cost": True,
    "vacancy_dates": True,
    "vacancy_sex": True,
    "vacancy_provider": True,
    "vacancy_unchanged": True,
    "vacancy_new": True,
    "vacancy_upload": False,
    "response": True,
    "child_put": True,
    "decision": True,
    "withdrawal": True,
    "child_added": True,
}


@pytest.mark.parametrize("kind", list(SPLICED))
def test_an_answer_after_a_write_is_the_fresh_ranking(fresh: Service, kind: str) -> None:
    _set_up(fresh, kind)
    kept = answers_of(fresh.app.state.engine)
    children = _waiting(fresh)
    before = {}
    for user, child in children:  # every whole list kept, as the warming keeps them
        r = fresh.client.get(f"{API}/children/{child}/rank", headers=fresh.h(user))
        assert r.status_code == 200
        before[user, child, None] = r.content
    _write(fresh, kind)
    spliced = kept.spliced
    after = {}
    for user, child in _waiting(fresh):
        r = fresh.client.get(f"{API}/children/{child}/rank", headers=fresh.h(user))
        assert (r.status_code, r.headers["x-placematch-cache"]) == (200, "miss")
        after[user, child, None] = r.content
        top = fresh.client.get(f"{API}/children/{child}/rank?top=2", headers=fresh.h(user))
        assert top.headers["x-placematch-cache"] == "hit"  # cut from the list just made
        after[user, child, 2] = top.content
    assert (kept.spliced > spliced) is SPLICED[kind]
    if kind.startswith("vacancy") and SPLICED[kind]:  # every list, the first one too
        assert kept.spliced - spliced == len(_waiting(fresh))
    with running(fresh.url) as other:  # its own engine: nothing kept, nothing spliced
        # the first options asked first: ranked with ?top= on their own, not cut
        for (user, child, top_), body in sorted(after.items(), key=lambda x: x[0][2] is None):
            url = f"{API}/children/{child}/rank" + ("" if top_ is None else f"?top={top_}")
            r = other.client.get(url, headers=other.h(user))
            assert r.status_code == 200 and r.headers["x-placematch-cache"] == "miss"
            assert r.content == body, (kind, user, child, top_)
        assert answers_of(other.app.state.engine).spliced == 0
    if kind in ("vacancy_cost", "vacancy_dates", "vacancy_sex", "vacancy_provider", "response"):
        # the write was seen
        assert any(after[key] != body for key, body in before.items() if key in after)


def test_a_list_not_asked_for_since_two_writes_is_spliced_from_its_own_folder(
    fresh: Service,
) -> None:
    """Lists kept before the first write and not asked for between two writes are spliced
    from the folder they were ranked on: byte for byte a fresh server's answers."""
    kept = answers_of(fresh.app.state.engine)
    children = _waiting(fresh)
    for user, child in children:
        fresh.client.get(f"{API}/children/{child}/rank", headers=fresh.h(user))
    _write(fresh, "vacancy_cost")
    asked = children[:2]  # two asked for between the writes, the rest not
    for user, child in asked:
        fresh.client.get(f"{API}/children/{child}/rank", headers=fresh.h(user))
    _write(fresh, "vacancy_sex")
    spliced = kept.spliced
    after = {}
    for user, child in children:
        r = fresh.client.get(f"{API}/children/{child}/rank", headers=fresh.h(user))
        assert (r.status_code, r.headers["x-placematch-cache"]) == (200, "miss")
        after[user, child] = r.content
    assert kept.spliced - spliced == len(children)
    with running(fresh.url) as other:
        for (user, child), body in after.items():
            r = other.client.get(f"{API}/children/{child}/rank", headers=other.h(user))
            assert r.content == body, (user, child)


def test_lists_spliced_from_spliced_lists_after_decisions_are_fresh(fresh: Service) -> None:
    """A list spliced after a decision (its objective points written again) is spliced in
    turn after the next writes, from where its layout says each option and each option's
    objective points lie: a decision, its withdrawal, then a vacancy's change, every list
    asked for after each, and the last ones byte for byte a fresh server's answers."""
    kept = answers_of(fresh.app.state.engine)
    for user, child in _waiting(fresh):
        fresh.client.get(f"{API}/children/{child}/rank", headers=fresh.h(user))
    after: dict[tuple[str, str, int | None], bytes] = {}
    for kind in ("decision", "withdrawal", "vacancy_cost"):
        _write(fresh, kind)
        spliced = kept.spliced
        children = _waiting(fresh)
        after = {}
        for user, child in children:
            r = fresh.client.get(f"{API}/children/{child}/rank", headers=fresh.h(user))
            assert (r.status_code, r.headers["x-placematch-cache"]) == (200, "miss")
            after[user, child, None] = r.content
            top = fresh.client.get(f"{API}/children/{child}/rank?top=3", headers=fresh.h(user))
            after[user, child, 3] = top.content
        assert kept.spliced - spliced >= len(children) - 1, kind  # C05 itself afresh
    with running(fresh.url) as other:
        for (user, child, top_), body in sorted(after.items(), key=lambda x: x[0][2] is None):
            url = f"{API}/children/{child}/rank" + ("" if top_ is None else f"?top={top_}")
            r = other.client.get(url, headers=other.h(user))
            assert r.content == body, (user, child, top_)
