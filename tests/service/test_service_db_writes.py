"""The store's writes off the requests' path on SQLite (``placematch.service.db``): audit
entries committed by one writer per store and process, in turns between processes, each
before its answer is sent; and the write-ahead log checkpointed by a thread of the server,
never losing a row, across a restart and a killed server."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servicekit import Service, store_url
from sqlalchemy import func, select, text

from placematch.service import db
from placematch.service.audit import _INSERT
from placematch.service.models import AuditEntry

API = "/api/v1"


def _entry(n: int, username: str | None = "tester") -> dict[str, Any]:
    return {
        "at": dt.datetime(2026, 12, 7, tzinfo=dt.UTC),
        "user_id": None,
        "username": username,
        "role": "placement_officer",
        "action": "rank",
        "authority_code": None,
        "resource": "child",
        "resource_id": f"R{n}",
        "client": "test",
        "reason": "",
        "outcome": "ok",
    }


def _ids(url: str) -> list[str]:
    """The audit entries' resource ids, read by a new engine (a restart)."""
    engine = db.connect(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(AuditEntry.resource_id)).scalars().all()
    finally:
        engine.dispose()
    return sorted(rows)


@pytest.fixture
def empty_sqlite(tmp_path: Path) -> Iterator[str]:
    """A migrated, empty SQLite store."""
    with store_url("sqlite", tmp_path) as url:
        engine = db.connect(url)
        db.migrate(engine)
        engine.dispose()
        yield url


@pytest.fixture
def held_lock(fresh_sqlite: Service) -> Iterator[int]:
    """The store's writer lock, held as another server process would hold it."""
    store = Path(fresh_sqlite.url.removeprefix("sqlite:///"))
    handle = os.open(store.with_name(store.name + "-writer.lock"), os.O_RDONLY | os.O_CREAT)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield handle
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def _audit_count(s: Service) -> int:
    with s.app.state.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_a_read_waits_for_its_audit_entry_in_turn_with_other_processes(
    fresh_sqlite: Service, held_lock: int
) -> None:
    before = _audit_count(fresh_sqlite)
    answered: list[int] = []
    asking = threading.Thread(
        target=lambda: answered.append(
            fresh_sqlite.client.get(
                f"{API}/children/C05/rank", headers=fresh_sqlite.h("officer")
            ).status_code
        )
    )
    asking.start()
    # Another process is writing: the answer is not sent before its entry is committed.
    asking.join(0.5)
    assert asking.is_alive() and not answered
    assert _audit_count(fresh_sqlite) == before
    fcntl.flock(held_lock, fcntl.LOCK_UN)
    asking.join(60)
    assert answered == [200]
    assert _audit_count(fresh_sqlite) == before + 1


def test_rows_queued_together_are_each_committed_and_a_bad_one_fails_alone(
    fresh_sqlite: Service, held_lock: int
) -> None:
    engine = fresh_sqlite.app.state.engine
    sessions = fresh_sqlite.app.state.sessions
    outcomes: dict[int, str] = {}

    def write(n: int) -> None:
        with sessions() as session:
            try:
                done = db.insert_committed(session, _INSERT, _entry(n, None if n == 3 else "t"))
                outcomes[n] = "ok" if done else "not done"
            except Exception as exc:
                outcomes[n] = type(exc).__name__

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(0.2)
    assert not outcomes  # all queued behind the other process's turn
    fcntl.flock(held_lock, fcntl.LOCK_UN)
    for t in threads:
        t.join(60)
    assert outcomes == {n: "IntegrityError" if n == 3 else "ok" for n in range(8)}
    with engine.connect() as connection:
        written = connection.execute(
            select(AuditEntry.resource_id).where(AuditEntry.username == "t")
        ).scalars()
        assert sorted(written) == sorted(f"R{n}" for n in range(8) if n != 3)


class _Halt(BaseException):
    """What no writer catches (as ``SystemExit`` in its thread would be)."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_writer_that_dies_leaves_no_request_waiting(
    fresh_sqlite: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer thread ended by an exception it does not catch fails the rows it holds and
    is no longer used: the next entry starts another writer and is committed (it waited
    for ever on the dead writer's queue)."""
    sessions = fresh_sqlite.app.state.sessions
    real = db._Writer._write

    def halt(self: Any, handle: int, batch: list[Any]) -> None:
        raise _Halt

    monkeypatch.setattr(db._Writer, "_write", halt)
    with sessions() as session, pytest.raises(_Halt):
        db.insert_committed(session, _INSERT, _entry(1, "d"))
    monkeypatch.setattr(db._Writer, "_write", real)
    outcome: list[bool] = []

    def write() -> None:
        with sessions() as session:
            outcome.append(db.insert_committed(session, _INSERT, _entry(2, "d")))

    after = threading.Thread(target=write, daemon=True)
    after.start()
    after.join(60)
    assert outcome == [True]
    with fresh_sqlite.app.state.engine.connect() as connection:
        written = connection.execute(
            select(AuditEntry.resource_id).where(AuditEntry.username == "d")
        ).scalars()
        assert list(written) == ["R2"]


def test_a_session_with_writes_of_its_own_commits_its_entry_itself(
    fresh_sqlite: Service,
) -> None:
    with fresh_sqlite.app.state.sessions() as session:
        session.connection().execute(_INSERT, _entry(1))  # a write transaction is open
        assert not db.insert_committed(session, _INSERT, _entry(2))
        session.rollback()


def test_an_in_memory_store_writes_as_before() -> None:
    engine = db.connect("sqlite://")
    db.migrate(engine)
    with db.session_factory(engine)() as session:
        assert not db.insert_committed(session, _INSERT, _entry(1))
    engine.dispose()


def test_checkpointing_off_the_requests_loses_no_entry_across_a_restart(
    empty_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "CHECKPOINT_PAGES", 8)
    engine = db.connect(empty_sqlite)
    checkpointer = db.Checkpointer(engine, every=0.005)
    with engine.connect() as connection:
        # commits checkpoint only as a backstop now; the log is cut back when it restarts
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == (
            db.BACKSTOP_PAGES
        )
        assert connection.execute(text("PRAGMA journal_size_limit")).scalar_one() == 0
    sessions = db.session_factory(engine)
    checkpointer.start()

    def write(k: int) -> None:
        for n in range(60):
            with sessions() as session:
                assert db.insert_committed(session, _INSERT, _entry(k * 1000 + n))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    checkpointer.stop()
    checkpointer.join(30)
    checkpointer.checkpoint_if_due()
    assert checkpointer.checkpoints > 0  # it ran while the entries were written
    expected = sorted(f"R{k * 1000 + n}" for k in range(6) for n in range(60))
    assert _ids(empty_sqlite) == expected  # another engine, while this one is open
    engine.dispose()
    assert _ids(empty_sqlite) == expected  # after a restart


def test_every_entry_answered_survives_a_killed_server(empty_sqlite: str, tmp_path: Path) -> None:
    """A server process killed outright (no shutdown, no last checkpoint) keeps every entry
    whose write had returned: they are in the log or the database."""
    script = textwrap.dedent(
        f"""
        import sys, threading, time
        import datetime as dt
        from placematch.service import db
        from placematch.service.audit import _INSERT
        db.CHECKPOINT_PAGES = 4
        engine = db.connect({empty_sqlite!r})
        db.Checkpointer(engine, every=0.002).start()
        sessions = db.session_factory(engine)
        lock = threading.Lock()
        def write(k):
            n = 0
            while True:
                values = dict(
                    at=dt.datetime(2026, 12, 7, tzinfo=dt.UTC), user_id=None,
                    username="t", role="r", action="rank", authority_code=None,
                    resource="child", resource_id=f"R{{k}}-{{n}}", client="c",
                    reason="", outcome="ok",
                )
                with sessions() as session:
                    assert db.insert_committed(session, _INSERT, values)
                with lock:
                    print(f"R{{k}}-{{n}}", flush=True)
                n += 1
        for k in range(4):
            threading.Thread(target=write, args=(k,), daemon=True).start()
        time.sleep(600)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert child.stdout is not None
    answered = []
    for line in child.stdout:
        answered.append(line.strip())
        if len(answered) >= 400:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    answered += [line.strip() for line in child.stdout]  # printed before the kill
    stored = set(_ids(empty_sqlite))
    assert set(answered) <= stored
    assert len(stored) >= 400


def test_a_forked_child_writes_with_a_writer_of_its_own(fresh_sqlite: Service) -> None:
    import multiprocessing

    sessions = fresh_sqlite.app.state.sessions
    with sessions() as session:  # the parent's writer thread is running
        assert db.insert_committed(session, _INSERT, _entry(1))

    def child() -> None:
        fresh_sqlite.app.state.engine.dispose(close=False)  # not the parent's connections
        with sessions() as session:
            assert db.insert_committed(session, _INSERT, _entry(2))

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(60)
    alive = process.is_alive()
    if alive:
        process.kill()
    assert not alive and process.exitcode == 0
    with sessions() as session:
        written = session.scalars(
            select(AuditEntry.resource_id).where(AuditEntry.resource_id.in_(["R1", "R2"]))
        ).all()
    assert sorted(written) == ["R1", "R2"]


def _ask(s: Service, child: str = "C05") -> tuple[int, str]:
    r = s.client.get(f"{API}/children/{child}/rank", headers=s.h("officer"))
    return r.status_code, r.headers.get("x-placematch-cache", "")


def test_a_kept_answer_is_answered_and_audited_without_a_worker_thread(
    fresh_sqlite: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept ranking is checked, read and audited on the event loop (``api._rank_checked``):
    a dozen request threads waited for each other's turn at the interpreter lock."""
    from placematch.service import api

    assert _ask(fresh_sqlite) == (200, "miss")  # built, in a worker thread
    before = _audit_count(fresh_sqlite)

    def no_thread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a kept answer went to a worker thread")

    monkeypatch.setattr(api, "run_in_threadpool", no_thread)
    assert _ask(fresh_sqlite) == (200, "hit")
    assert _audit_count(fresh_sqlite) == before + 1
    # a child the officer may not see is still refused (in the thread: here, an error)
    assert (
        fresh_sqlite.client.get(
            f"{API}/children/C05/rank", headers=fresh_sqlite.h("officer_thurrock")
        ).status_code
        == 500
    )


def test_a_kept_answer_waits_for_its_audit_entry_in_turn_with_other_processes(
    fresh_sqlite: Service,
) -> None:
    assert _ask(fresh_sqlite) == (200, "miss")
    before = _audit_count(fresh_sqlite)
    store = Path(fresh_sqlite.url.removeprefix("sqlite:///"))
    handle = os.open(store.with_name(store.name + "-writer.lock"), os.O_RDONLY | os.O_CREAT)
    fcntl.flock(handle, fcntl.LOCK_EX)  # as another server process writing
    answered: list[tuple[int, str]] = []
    try:
        asking = threading.Thread(target=lambda: answered.append(_ask(fresh_sqlite)))
        asking.start()
        asking.join(0.5)
        assert asking.is_alive() and not answered  # not sent before its entry is committed
        assert _audit_count(fresh_sqlite) == before
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)
    asking.join(60)
    assert answered == [(200, "hit")]
    assert _audit_count(fresh_sqlite) == before + 1


def test_a_kept_answer_whose_entry_is_not_committed_is_not_sent(
    fresh_sqlite: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _ask(fresh_sqlite) == (200, "miss")
    before = _audit_count(fresh_sqlite)

    def fails(self: Any, batch: list[Any]) -> list[BaseException | None]:
        return [OSError("disk full")] * len(batch)

    monkeypatch.setattr(db.LoopWriter, "_write", fails)
    r = fresh_sqlite.client.get(f"{API}/children/C05/rank", headers=fresh_sqlite.h("officer"))
    assert r.status_code == 500 and b"options" not in r.content
    assert _audit_count(fresh_sqlite) == before


def test_a_built_answer_whose_entry_is_not_committed_is_not_sent(
    fresh_sqlite: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer ranked afresh is audited by the loop's writer too, before it is sent."""
    before = _audit_count(fresh_sqlite)

    def fails(self: Any, batch: list[Any]) -> list[BaseException | None]:
        return [OSError("disk full")] * len(batch)

    monkeypatch.setattr(db.LoopWriter, "_write", fails)
    r = fresh_sqlite.client.get(f"{API}/children/C05/rank", headers=fresh_sqlite.h("officer"))
    assert r.status_code == 500 and b"options" not in r.content
    assert _audit_count(fresh_sqlite) == before
    monkeypatch.undo()
    assert _ask(fresh_sqlite) == (200, "hit")  # built and kept all the same; now audited
    assert _audit_count(fresh_sqlite) == before + 1


def test_a_built_answer_is_checked_once(
    fresh_sqlite: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sign-in and access checks made on the loop are not made again in the worker
    thread that ranks the child."""
    from placematch.service import store

    looked: list[str] = []
    look = store.authority_and_revision

    def counted(session: Any, child_id: str, authorities: Any) -> tuple[str | None, int]:
        looked.append(child_id)
        return look(session, child_id, authorities)

    monkeypatch.setattr(store, "authority_and_revision", counted)
    assert _ask(fresh_sqlite) == (200, "miss")
    assert looked == ["C05"]
    assert _ask(fresh_sqlite) == (200, "hit")
    assert looked == ["C05", "C05"]


def test_the_entries_of_one_turn_of_the_loop_are_one_transaction_and_a_bad_one_fails_alone(
    empty_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    engine = db.connect(empty_sqlite)
    store = db.sqlite_file(engine)
    assert store is not None
    writer = db.LoopWriter(engine, store)
    batches: list[int] = []
    real = db.LoopWriter._write

    def counted(self: Any, batch: list[Any]) -> list[BaseException | None]:
        batches.append(len(batch))
        return real(self, batch)

    monkeypatch.setattr(db.LoopWriter, "_write", counted)

    async def turn(names: list[str | None]) -> list[object]:
        waits = [writer.insert(_INSERT, _entry(n, name)) for n, name in enumerate(names)]
        return await asyncio.gather(*waits, return_exceptions=True)

    assert asyncio.run(turn(["a"] * 5)) == [None] * 5
    assert batches == [5]  # one transaction for the five
    batches.clear()
    outcomes = asyncio.run(turn(["b", "b", None, "b"]))  # a user name is required
    assert [type(o).__name__ for o in outcomes] == ["NoneType"] * 2 + ["IntegrityError", "NoneType"]
    assert batches == [4, 1, 1, 1, 1]  # then each row on its own
    with engine.connect() as connection:
        rows = connection.execute(select(AuditEntry.username, AuditEntry.resource_id)).all()
    assert sorted(rows) == [("a", f"R{n}") for n in range(5)] + [
        ("b", "R0"),
        ("b", "R1"),
        ("b", "R3"),
    ]
    engine.dispose()


def test_postgresql_and_memory_stores_have_no_loop_writer() -> None:
    engine = db.connect("sqlite://")
    assert db.loop_writer(engine) is None
    engine.dispose()
