"""The folder a ranking, why-not or map is asked on (``store.waiting_folder``) is kept per
store revision: shared while nothing changes, built afresh after every kind of change (a
decision, a put, a load, a change made through another connection, as by ``placematch load``
while the server runs), always equal to the uncached build, and built once when many requests
ask at once. On SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from servicekit import DEMO, ESSEX, Service
from sqlalchemy import select

from matcher.domain import CaseFolder
from placematch.service import db, store
from placematch.service.models import ChildRecord

API = "/api/v1"
DAY = dt.date(2026, 12, 6)
#: A vacancy's cells that the API takes as JSON arrays.
LISTS = ("capabilities", "connected_to", "ethnicity", "languages")


def uncached(session: Any, child_id: str, today: dt.date = DAY) -> CaseFolder:
    """What the service ranked on before the cache: the waiting children and this one."""
    waiting = session.scalars(select(ChildRecord.child_id).where(ChildRecord.status == "waiting"))
    return store.available_folder(session, {*waiting, child_id}, today=today)


def test_the_folder_is_shared_until_the_store_changes(fresh: Service) -> None:
    with fresh.app.state.sessions() as s:
        first = store.waiting_folder(s, "C06", today=DAY)
        assert store.waiting_folder(s, "C07", today=DAY) is first
        assert first == uncached(s, "C06")
        assert first.on == first.today == DAY
        # Another date is another folder, on that date.
        later = store.waiting_folder(s, "C06", today=DAY + dt.timedelta(days=1))
        assert later is not first and later.on == DAY + dt.timedelta(days=1)
        # Only one date is kept (the next day drops the last): built again, and equal.
        again = store.waiting_folder(s, "C06", today=DAY)
        assert again is not first and again == first


def test_a_decision_is_seen_at_once(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    with fresh.app.state.sessions() as s:
        before = store.waiting_folder(s, "C07", today=DAY)
    assert before.vacancy("V05").beds == 2
    r = c.post(f"{API}/children/C06/decision", json={"vacancy_id": "V05", "reason": "x"}, headers=h)
    assert r.status_code == 201, r.text
    with fresh.app.state.sessions() as s:
        after = store.waiting_folder(s, "C07", today=DAY)
        assert after is not before
        assert after.vacancy("V05").beds == 1
        assert "C06" not in {c.child_id for c in after.children}
        assert after == uncached(s, "C07")
        # A placed child can still be ranked: its folder holds it, the shared one does not.
        placed = store.waiting_folder(s, "C06", today=DAY)
        assert placed is not after and placed.child("C06").child_id == "C06"
        assert placed == uncached(s, "C06")
        assert store.waiting_folder(s, "C06", today=DAY) is placed


def test_a_put_through_the_api_is_seen_at_once(fresh: Service) -> None:
    c, h = fresh.client, fresh.h("officer")
    with fresh.app.state.sessions() as s:
        before = store.waiting_folder(s, "C06", today=DAY)
    record = c.get(f"{API}/vacancies/V16", headers=h).json()["record"]
    body: dict[str, Any] = {
        k: [x for x in v.split(";") if x] if k in LISTS else v for k, v in record.items()
    }
    r = c.put(f"{API}/vacancies/V16", json={**body, "weekly_cost": 999}, headers=h)
    assert r.status_code == 200, r.text
    with fresh.app.state.sessions() as s:
        after = store.waiting_folder(s, "C06", today=DAY)
        assert after.vacancy("V16").weekly_cost == 999 != before.vacancy("V16").weekly_cost
        assert after == uncached(s, "C06")


def test_a_change_through_another_connection_is_seen(fresh: Service, tmp_path: Path) -> None:
    """As ``placematch load`` or ``user`` in another process, while the server runs."""
    with fresh.app.state.sessions() as s:
        before = store.waiting_folder(s, "C06", today=DAY)
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder)
    rows = list(csv.DictReader((folder / "vacancies.csv").open(encoding="utf-8")))
    assert rows[0]["vacancy_id"] == "V01"
    rows[0]["beds"] = str(int(rows[0]["beds"]) + 1)
    with (folder / "vacancies.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    other = db.connect(fresh.url)
    with db.session_factory(other)() as s:
        store.load_path(s, folder, ESSEX)
        s.commit()
    other.dispose()
    with fresh.app.state.sessions() as s:
        after = store.waiting_folder(s, "C06", today=DAY)
        assert after.vacancy("V01").beds == before.vacancy("V01").beds + 1
        assert after == uncached(s, "C06")


def test_requests_arriving_together_share_one_build(
    fresh: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []
    real = store._available_of

    def counted(*args: Any, **kwargs: Any) -> CaseFolder:
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "_available_of", counted)
    n = 8
    line = threading.Barrier(n)
    got: list[CaseFolder] = []
    failed: list[BaseException] = []

    def ask() -> None:
        try:
            with fresh.app.state.sessions() as s:
                line.wait()
                got.append(store.waiting_folder(s, "C06", today=DAY))
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            failed.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failed
    assert len(got) == n and all(f is got[0] for f in got)
    assert len(builds) == 1
    with fresh.app.state.sessions() as s:
        assert got[0] == uncached(s, "C06")


def test_every_ranking_is_still_checked_and_audited(fresh: Service) -> None:
    """The folder is shared; access control and the audit log are not: every request is
    checked (another authority's officer gets the 404 of a missing child) and recorded."""
    c = fresh.client
    for _ in range(3):
        assert c.get(f"{API}/children/C06/rank", headers=fresh.h("officer")).status_code == 200
        denied = c.get(f"{API}/children/C06/rank", headers=fresh.h("officer_thurrock"))
        assert denied.status_code == 404
    entries = c.get(f"{API}/audit?limit=100", headers=fresh.h("admin")).json()
    ranks = [e for e in entries if e["action"] == "rank" and e["resource_id"] == "C06"]
    assert [e["outcome"] for e in ranks].count("ok") == 3
    assert [e["outcome"] for e in ranks].count("denied") == 3


@pytest.mark.parametrize(
    "changes",
    [
        {"V03": {"weekly_cost": "1330"}},
        {"V02": {"sex": "F"}, "V05": {"available_from": "2099-01-01"}},
        {"V01": {"connected_to": ["C06", "C07"]}},  # a carer for another child
        {"V16": {"beds": "2", "capabilities": ["solo_only"]}},
    ],
)
def test_a_few_vacancies_put_are_read_alone_into_the_last_folder(
    fresh: Service, changes: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a put of a few vacancies, the store's folder is the last one with those rows
    read alone (store._with_vacancy_rows): equal to every row validated, vacancy by vacancy."""
    c, h = fresh.client, fresh.h("officer")
    validate = store.validate_rows
    read: list[int] = []

    def counted(children: Any, vacancies: Any, policy: Any) -> CaseFolder:
        read.append(len(vacancies))
        return validate(children, vacancies, policy)

    with fresh.app.state.sessions() as s:
        store.stored_folder(s)  # the folder before the puts is kept
    for vacancy_id, cells in changes.items():
        record = c.get(f"{API}/vacancies/{vacancy_id}", headers=h).json()["record"]
        body = {k: [x for x in v.split(";") if x] if k in LISTS else v for k, v in record.items()}
        r = c.put(f"{API}/vacancies/{vacancy_id}", json={**body, **cells}, headers=h)
        assert r.status_code == 200, r.text
        read.clear()
        monkeypatch.setattr(store, "validate_rows", counted)
        with fresh.app.state.sessions() as s:
            folder = store.stored_folder(s)
            children, vacancies, policy, _ = store.keyed_rows(s)
        monkeypatch.setattr(store, "validate_rows", validate)
        assert read == [1]  # the one row put, read alone
        whole = validate(children, vacancies, policy)
        assert folder == whole
        assert folder.vacancies == whole.vacancies and folder.children == whole.children
        assert [p.provider_id for p in folder.providers] == [p.provider_id for p in whole.providers]
