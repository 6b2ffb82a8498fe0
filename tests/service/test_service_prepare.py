"""A change prepared for before its requests come (``placematch.service.warm``): the process
that makes a write has spliced one list of each folder (so built the new folder and worked
out the change) before the write is answered, and the next rankings are spliced on the event
loop, byte for byte what a server that never kept anything answers; kept layouts hold
nothing the garbage collector walks. On SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

import gc

import numpy as np
from servicekit import Service, running

from placematch.service import actions, store
from placematch.service.answers import answers_of
from placematch.service.warm import Warmer, install_warming

API = "/api/v1"


def _put_cost(s: Service, vacancy_id: str, more: int) -> None:
    h = s.h("officer")
    record = s.client.get(f"{API}/vacancies/{vacancy_id}", headers=h).json()["record"]
    lists = ("capabilities", "connected_to", "ethnicity", "languages")
    body = {k: [x for x in v.split(";") if x] if k in lists else v for k, v in record.items()}
    body["weekly_cost"] = str(int(float(record["weekly_cost"])) + more)
    r = s.client.put(f"{API}/vacancies/{vacancy_id}", json=body, headers=h)
    assert r.status_code == 200, r.text


def _waiting(s: Service) -> list[str]:
    r = s.client.get(f"{API}/children?status=waiting", headers=s.h("officer"))
    assert r.status_code == 200, r.text
    return sorted(c["child_id"] for c in r.json())


def test_a_write_is_answered_once_its_change_is_worked_out(fresh: Service) -> None:
    with running(fresh.url, install_warming) as s:
        warmer: Warmer = s.app.state.warmer
        assert warmer.warm_once()  # every waiting child's whole list kept
        kept = answers_of(s.app.state.engine)
        spliced = kept.spliced
        _put_cost(s, "V03", 900)
        # before any ranking is asked: one list of the officer's folder spliced already
        assert kept.spliced - spliced >= 1
        children = _waiting(s)
        # so every other list is spliced on the loop (not handed to a worker thread), as
        # the first request of each would otherwise find nothing worked out
        with s.app.state.sessions() as session:
            authority = store.any_child_authority(session, children[-1])
            assert authority is not None
            revision = store.revision_of(session)
            body = actions.spliced_now(
                session, kept, children[-1], authority, revision, actions.clock()
            )
        assert body is not None
        with running(fresh.url) as other:  # its own engine: nothing kept, nothing spliced
            r = other.client.get(f"{API}/children/{children[-1]}/rank", headers=other.h("officer"))
            assert r.headers["x-placematch-cache"] == "miss"
            assert r.content == body
            for child in children:
                mine = s.client.get(f"{API}/children/{child}/rank", headers=s.h("officer"))
                theirs = other.client.get(
                    f"{API}/children/{child}/rank", headers=other.h("officer")
                )
                assert mine.status_code == theirs.status_code == 200
                assert mine.content == theirs.content, child


def test_kept_layouts_hold_nothing_the_collector_walks(fresh: Service) -> None:
    """Every kept whole list's layout, built (by the warming) or spliced (by a request), keeps
    its items' places, orders and spans in arrays: the collector's passes never walk them."""
    with running(fresh.url, install_warming) as s:
        assert s.app.state.warmer.warm_once()
        kept = answers_of(s.app.state.engine)
        children = _waiting(s)
        layouts = []
        for more in (5, 7):  # the second write puts aside the lists spliced after the first
            _put_cost(s, "V03", more)
            with s.app.state.sessions() as session:
                revision, today = store.revision_of(session), actions.clock()
                for child in children:
                    authority = store.any_child_authority(session, child)
                    assert authority is not None
                    key = actions.answer_key(authority, child)
                    found = kept.peek_stale(revision, today, key)
                    if found is not None:
                        layouts.append(found.layout)
            for child in children:
                r = s.client.get(f"{API}/children/{child}/rank", headers=s.h("officer"))
                assert r.status_code == 200
        assert len(layouts) >= len(children)
        per_item = ("option_at", "option_orders", "option_spans")
        per_item += ("exclusion_at", "exclusion_rules", "exclusion_spans")
        for layout in layouts:
            fields = layout._asdict()
            # numbers in arrays (which the collector does not look into), not tuples of
            # ids whose every item it walked
            assert all(type(fields[name]) is np.ndarray for name in per_item)
            assert not any(gc.is_tracked(fields[name]) for name in per_item)
            assert len(layout.option_at) == len(layout.option_orders) == len(layout.option_spans)
            assert len(layout.exclusion_at) == len(layout.exclusion_rules)


def test_what_a_change_leaves_is_frozen_until_the_server_is_quiet(fresh: Service) -> None:
    """In a server whose start-up objects are frozen (``placematch serve``), a prepared
    change's objects are collected once and frozen; :meth:`Warmer.settle` thaws them."""
    try:
        with running(fresh.url, lambda app: install_warming(app, freeze=True)) as s:
            warmer: Warmer = s.app.state.warmer
            assert warmer.warm_once() and not warmer.frozen
            frozen = gc.get_freeze_count()
            _put_cost(s, "V03", 5)
            assert warmer.frozen and gc.get_freeze_count() > frozen
            warmer.settle()
            assert not warmer.frozen
    finally:
        gc.unfreeze()
