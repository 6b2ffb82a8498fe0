"""A ranking's JSON is kept per store revision, date and question (``placematch.service.answers``):
sent again, byte for byte, until the store changes or the date moves; access is checked and
the request audited every time; the kept bodies stay within their budget. On SQLite and
PostgreSQL (see conftest)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import orjson
import pytest
from servicekit import Service, running

from matcher.casefolder import load_case_folder
from matcher.rank import option_order, ranking_data, refolded
from matcher.scoring import Scoring
from placematch.service import actions
from placematch.service.answers import (
    Answers,
    Part,
    Renumbering,
    Stale,
    _refolded,
    answers_of,
    dumps_with_options,
    layout_of,
    spliced,
)

API = "/api/v1"


def orjson_loads(body: bytes) -> dict[str, object]:
    import orjson

    return dict(orjson.loads(body))


def _rank(s: Service, child: str, user: str = "officer", query: str = "") -> tuple[int, str, bytes]:
    r = s.client.get(f"{API}/children/{child}/rank{query}", headers=s.h(user))
    return r.status_code, r.headers.get("x-placematch-cache", ""), r.content


def test_the_second_request_is_the_kept_answer(fresh: Service) -> None:
    status, cache, first = _rank(fresh, "C05")
    assert (status, cache) == (200, "miss")
    status, cache, second = _rank(fresh, "C05")
    assert (status, cache) == (200, "hit")
    assert second == first
    # the first options are cut from the kept whole list: kept, and byte for byte what a
    # server that never kept anything answers for that question
    status, cache, top = _rank(fresh, "C05", query="?top=1")
    assert (status, cache) == (200, "hit") and top != first
    with running(fresh.url) as other:
        r = other.client.get(f"{API}/children/C05/rank?top=1", headers=other.h("officer"))
        assert r.headers["x-placematch-cache"] == "miss" and r.content == top
    # another question is another answer
    status, cache, other_day = _rank(fresh, "C05", query="?within_days=3")
    assert (status, cache) == (200, "miss")
    assert _rank(fresh, "C05", query="?within_days=3")[1:] == ("hit", other_day)
    assert _rank(fresh, "C07")[1] == "miss"


def test_a_top_first_is_kept_for_itself() -> None:
    """Asked first, ``?top=K`` is ranked and kept as such (the whole list is not made)."""
    kept = Answers()
    day = dt.date(2026, 12, 6)
    kept.put(1, day, ("A", 2, None, None, None), b"two")
    assert not kept.has(1, day, ("A", None, None, None, None))
    assert kept.get(1, day, ("A", None, None, None, None), 2) is None
    assert kept.get(1, day, ("A", 2, None, None, None)) == b"two"


@pytest.mark.parametrize(
    "data",
    [
        {"child_id": "A", "eligible": 3, "options": [{"v": "é"}, {"v": [1, 2]}, {}], "x": None},
        {"child_id": "A", "eligible": 0, "options": [], "excluded": {}},
        {"options": [1, 2]},
        {"child_id": "A", "options": [{"a": 1}]},
        # found by their first key, in one write of the list
        {
            "child_id": "A",
            "options": [
                {"vacancy_id": "V1", "reasons": {"x": 'say {"vacancy_id":"V9"} here'}},
                {"vacancy_id": "V2", "f": [1, {"g": None}]},
                {"vacancy_id": "V3"},
            ],
            "exclusions": [{"vacancy_id": "V4"}],
        },
        # a nested object with the same first key, another first key, an option not an
        # object: each option written alone instead
        {"options": [{"vacancy_id": "V1", "n": {"vacancy_id": "V2"}}, {"vacancy_id": "V3"}]},
        {"options": [{"vacancy_id": "V1"}, {"other": 1, "vacancy_id": "V2"}]},
        {"options": [{"vacancy_id": "V1"}, ["vacancy_id"]], "after": 1},
    ],
)
def test_a_whole_list_is_cut_to_its_first_options(data: dict[str, object]) -> None:
    """The body kept with its cuts is ``orjson.dumps`` of the data, and cut to its first K
    options it is ``orjson.dumps`` of the data with only those, for every K."""
    import orjson

    from placematch.service.answers import dumps_with_options, first_options

    body, cuts = dumps_with_options(data)
    assert body == orjson.dumps(data)
    options = data["options"]
    assert isinstance(options, list)
    for k in range(len(options) + 2):
        assert first_options(body, cuts, k) == orjson.dumps({**data, "options": options[:k]})


def test_every_top_cut_from_a_whole_list_is_a_fresh_ranking(fresh: Service) -> None:
    """For every child of the demo and every ``top`` up to past its list, the answer cut from
    the kept whole list is what a server that never kept anything ranks afresh."""
    ids = [
        c["child_id"]
        for c in fresh.client.get(f"{API}/children", headers=fresh.h("officer")).json()
    ]
    with running(fresh.url) as other:
        for child in ids[:6]:
            status, _, whole = _rank(fresh, child)
            assert status == 200
            n = len(orjson_loads(whole)["options"])
            for k in sorted({0, 1, 2, n - 1, n, n + 1} - {-1}):
                status, cache, cut = _rank(fresh, child, query=f"?top={k}")
                assert (status, cache) == (200, "hit")
                r = other.client.get(
                    f"{API}/children/{child}/rank?top={k}", headers=other.h("officer")
                )
                assert r.headers["x-placematch-cache"] == "miss" and r.content == cut, (child, k)


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


def _put_vacancy(s: Service, vacancy_id: str, **changes: object) -> None:
    """A vacancy put back through the API with ``changes`` (its record as the API gives it)."""
    h = s.h("officer")
    record = s.client.get(f"{API}/vacancies/{vacancy_id}", headers=h).json()["record"]
    lists = ("capabilities", "connected_to", "ethnicity", "languages")
    body = {k: [x for x in v.split(";") if x] if k in lists else v for k, v in record.items()}
    r = s.client.put(f"{API}/vacancies/{vacancy_id}", json={**body, **changes}, headers=h)
    assert r.status_code == 200, r.text


def _write(s: Service, kind: str, best: str) -> None:
    """One write of each kind that the store knows, through the API."""
    c, h = s.client, s.h("officer")
    if kind == "decision":
        r = c.post(
            f"{API}/children/C05/decision", json={"vacancy_id": best, "reason": "t"}, headers=h
        )
    elif kind == "withdrawal":
        r = c.post(f"{API}/children/C05/decision/withdraw", json={"reason": "t"}, headers=h)
    elif kind == "response":
        body = {"vacancy_id": best, "response": "decline", "reason": "no_capacity"}
        r = c.post(f"{API}/children/C05/responses", json=body, headers=h)
    elif kind == "vacancy_put":
        cost = c.get(f"{API}/vacancies/{best}", headers=h).json()["record"]["weekly_cost"]
        _put_vacancy(s, best, weekly_cost=int(float(cost)) + 900)
        return
    elif kind == "vacancy_upload":
        vac = (
            "vacancy_id,provider_id,placement_type,postcode,beds,age_min,age_max,sex,"
            "capabilities,ofsted,weekly_cost\n"
            "V60,P60,inhouse_foster,CM1 1QH,1,0,17,any,,outstanding,300\n"
        )
        files = {"file": ("vacancies.csv", vac)}
        r = c.post(f"{API}/vacancies/upload", files=files, headers=h)
    else:  # children_upload: another child; this child's answer is the same, yet rebuilt
        good = "child_id,age,sex,home_postcode,la\nB3,5,M,CM1 1QH,Essex\n"
        r = c.post(f"{API}/children/upload", files={"file": ("children.csv", good)}, headers=h)
    assert r.status_code in (200, 201), r.text


@pytest.mark.parametrize(
    "kind",
    ["decision", "withdrawal", "response", "vacancy_put", "vacancy_upload", "children_upload"],
)
def test_no_write_leaves_a_stale_answer(fresh: Service, kind: str) -> None:
    """After any write, the next answer is built again and is byte for byte what a server that
    never kept anything answers (another app on the same store: its own engine, folder and
    kept answers)."""
    ranked = fresh.client.get(f"{API}/children/C05/rank", headers=fresh.h("officer")).json()
    best = ranked["options"][0]["vacancy_id"]
    if kind == "withdrawal":
        _write(fresh, "decision", best)
    assert _rank(fresh, "C05")[1] in ("hit", "miss")
    status, cache, before = _rank(fresh, "C05")
    assert (status, cache) == (200, "hit")
    _write(fresh, kind, best)
    status, cache, after = _rank(fresh, "C05")
    assert (status, cache) == (200, "miss")
    assert _rank(fresh, "C05")[1:] == ("hit", after)
    with running(fresh.url) as other:
        r = other.client.get(f"{API}/children/C05/rank", headers=other.h("officer"))
        assert r.status_code == 200 and r.headers["x-placematch-cache"] == "miss"
        assert r.content == after
    if kind in ("response", "vacancy_put", "vacancy_upload"):
        # these change what this child is offered (a decision of its own, or its withdrawal,
        # leaves its list as it was: the bed it takes is counted as its own)
        assert after != before


def test_the_server_settles_its_memory_at_start() -> None:
    """``placematch serve`` freezes what is alive at start and collects young objects less
    often (``app.settle_memory``); process-wide, so checked in a process of its own."""
    import subprocess
    import sys

    code = (
        "import gc\n"
        "from placematch.service.app import GC_YOUNG_THRESHOLD, settle_memory\n"
        "before = gc.get_freeze_count()\n"
        "settle_memory()\n"
        "print(before, gc.get_freeze_count() > 1000, gc.get_threshold()[0] == GC_YOUNG_THRESHOLD)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["0", "True", "True"]


@pytest.mark.parametrize("tiers", [(True, True), (True, False), (False, True), (False, False)])
def test_kept_bytes_refolded_are_the_objective_points_of_the_new_bases(
    tiers: tuple[bool, bool],
) -> None:
    """The service's rewrite of a kept list's bytes under new bases
    (``placematch.service.answers._refolded``) writes each option's :func:`refolded` points,
    with both tiers on or off, and leaves every other byte as it was."""
    demo = load_case_folder(Path(__file__).resolve().parents[2] / "examples" / "demo")
    connected, in_area = tiers
    policy = dataclasses.replace(demo.policy, connected_person_tier=connected, in_area_tier=in_area)
    folder = dataclasses.replace(demo, policy=policy)
    bases = (10**12 + 7, 3 * 10**6 + 1 if connected else 0, 987_654 if in_area else 0)
    for child in folder.children:
        data = ranking_data(folder, child.child_id)
        # the keys the service writes after the exclusions (their values do not matter here)
        data.update(declined=[], date=None, urgency=None, within_days=0)
        data.update(free_within_days=[], decision=None)
        body, cuts = dumps_with_options(data)
        layout = layout_of(body, cuts, data, folder)
        assert layout is not None
        made = _refolded(body, layout, bases)
        assert made is not None
        written, moved = made
        expected = dict(data)
        expected["options"] = [
            {**o, "objective_points": refolded(o, bases)} for o in data["options"]
        ]
        assert written == orjson.dumps(expected)
        # each option where the layout says it is
        for option, (start, end) in zip(
            expected["options"], moved.option_spans.tolist(), strict=True
        ):
            assert orjson.loads(written[start:end]) == option


def test_lists_spliced_under_new_bases_are_the_options_refolded_and_splice_again() -> None:
    """A kept list spliced when the folded objective's bases move (``spliced`` with
    ``Renumbering.objective``: each kept option's points written again in the same join,
    one vacancy's option assessed again) is the list with every option's :func:`refolded`
    points, byte for byte, and its layout says where each option and each option's points
    lie: so it splices again under other bases, whose numbers are longer, then shorter."""
    demo = load_case_folder(Path(__file__).resolve().parents[2] / "examples" / "demo")
    rules = Scoring.for_folder(demo).rules
    steps = [(10**12 + 7, 3 * 10**6 + 1, 987_654), (10**15 + 3, 0, 12), (5, 2, 1)]
    ids = [v.vacancy_id for v in demo.vacancies]
    spliced_some = 0
    for child in demo.children:
        data = ranking_data(demo, child.child_id)
        data.update(declined=[], date=None, urgency=None, within_days=0)
        data.update(free_within_days=[], decision=None)
        rest = {k: data[k] for k in ("declined", "date", "urgency", "within_days")}
        rest.update(free_within_days=[], decision=None)
        body, cuts = dumps_with_options(data)
        layout = layout_of(body, cuts, data, demo)
        assert layout is not None
        options = data["options"]
        assert isinstance(options, list)
        for bases in steps:
            expected = dict(data)
            expected["options"] = [{**o, "objective_points": refolded(o, bases)} for o in options]
            again = {options[1]["vacancy_id"]} if len(options) > 1 else set()  # assessed again
            part = Part(
                [
                    (
                        o["vacancy_id"],
                        option_order(o),
                        orjson.dumps(o),
                        (int(o["connected_person"]), int(o["in_area"])),
                    )
                    for o in expected["options"]
                    if o["vacancy_id"] in again
                ],
                [],
            )
            moved = Renumbering(
                np.asarray([i in again for i in ids], dtype=bool),
                np.arange(len(ids), dtype=np.int64),
                bases,
            )
            made = spliced(Stale(body, layout), demo, child.child_id, moved, part, rules, rest)
            assert made is not None
            body, cuts, layout = made
            assert body == dumps_with_options(expected)[0], (child.child_id, bases)
            spliced_some += bool(again)
            for option, (start, end), (at, size) in zip(
                expected["options"],
                layout.option_spans.tolist(),
                layout.option_points.tolist(),
                strict=True,
            ):
                assert orjson.loads(body[start:end]) == option
                assert body[start + at : start + at + size] == b"%d" % option["objective_points"]
    assert spliced_some
