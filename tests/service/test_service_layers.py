"""The service's layers: a child's page is built from one case folder ranked once, and the
page and the API share the actions layer (one path for each verb)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from servicekit import Service
from test_service_pages import sign_in

from placematch.service import actions, store


def _counted(calls: Counter[str], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def spy(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return function(*args, **kwargs)

    return spy


def test_a_child_page_builds_its_folder_and_ranking_once(
    fresh_sqlite: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = fresh_sqlite.client
    sign_in(fresh_sqlite, "officer")
    calls: Counter[str] = Counter()
    monkeypatch.setattr(store, "waiting_folder", _counted(calls, "folder", store.waiting_folder))
    monkeypatch.setattr(actions, "rank_child", _counted(calls, "ranking", actions.rank_child))
    # A waiting child's page, and with a why-not asked (an excluded and an eligible one).
    for url in ("/children/C05", "/children/C05?why_not=V02", "/children/C05?why_not=V11"):
        calls.clear()
        page = c.get(url)
        assert page.status_code == 200 and '<table id="options">' in page.text
        assert calls == {"folder": 1, "ranking": 1}, (url, calls)
    # the why-not's answer is on the page, from that one folder
    assert c.get("/children/C05?why_not=V02").text.count("is excluded by required adaptation") == 1


def test_an_upload_through_the_page_and_the_api_is_one_action(
    fresh_sqlite: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = fresh_sqlite.client
    calls: Counter[str] = Counter()
    monkeypatch.setattr(actions, "upload", _counted(calls, "upload", actions.upload))
    rows = b"child_id,age,sex,home_postcode,la\nC90,5,M,CM2 0HU,Essex\n"
    r = c.post(
        "/api/v1/upload",
        files={"children": ("children.csv", rows)},
        headers=fresh_sqlite.h("officer"),
    )
    assert r.status_code == 201 and r.json()["children_updated"] + r.json()["children_added"] == 1
    csrf = sign_in(fresh_sqlite, "officer")
    page = c.post("/upload", files={"children": ("children.csv", rows)}, data={"csrf": csrf})
    assert page.status_code == 200
    assert "Stored: 0 children added, 1 updated; 0 vacancies added, 0 updated." in page.text
    assert calls["upload"] == 2


def test_the_application_answers_every_error_of_the_service(fresh_sqlite: Service) -> None:
    from placematch.service import errors

    handled = set(fresh_sqlite.app.exception_handlers)
    assert set(errors.HANDLED) <= handled
    # one handler for all: the problem, the audit and the page are decided in one place
    assert len({fresh_sqlite.app.exception_handlers[k] for k in errors.HANDLED}) == 1
