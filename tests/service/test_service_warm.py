"""Whole lists ranked ahead of requests (``placematch.service.warm``), and several server
processes on one store (``placematch serve --workers N``): a change made through one is seen
by every other's next answer, byte for byte what a server that never kept anything answers.
On SQLite and PostgreSQL (see conftest); the real processes on SQLite."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from servicekit import Service, running

from placematch.service.answers import answers_of
from placematch.service.warm import Warmer

API = "/api/v1"


def _rank(s: Service, child: str, query: str = "") -> tuple[int, str, bytes]:
    r = s.client.get(f"{API}/children/{child}/rank{query}", headers=s.h("officer"))
    return r.status_code, r.headers.get("x-placematch-cache", ""), r.content


def _waiting(s: Service, user: str = "officer") -> list[str]:
    r = s.client.get(f"{API}/children?status=waiting", headers=s.h(user))
    return [c["child_id"] for c in r.json()]


def _audit_count(s: Service, action: str | None = None) -> int:
    """Entries in the store's audit log (of one action)."""
    from sqlalchemy import func, select

    from placematch.service.models import AuditEntry

    query = select(func.count()).select_from(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    with s.app.state.sessions() as session:
        return int(session.scalar(query) or 0)


def test_warming_ranks_every_waiting_child_without_auditing(fresh: Service) -> None:
    warmer = Warmer(fresh.app.state.sessions)
    entries = _audit_count(fresh)
    assert warmer.warm_once() and warmer.warm is not None
    # nobody read anything: nothing audited
    assert _audit_count(fresh) == entries
    waiting = _waiting(fresh)
    assert warmer.ranked >= len(waiting) > 0
    with running(fresh.url) as other:
        for child in waiting:
            status, cache, body = _rank(fresh, child)
            assert (status, cache) == (200, "hit")
            r = other.client.get(f"{API}/children/{child}/rank", headers=other.h("officer"))
            assert r.headers["x-placematch-cache"] == "miss" and r.content == body

    # every request still audited (the list of children, and both servers' rankings)
    assert _audit_count(fresh) == entries + 1 + 2 * len(waiting)
    # nothing changed: nothing ranked again
    ranked = warmer.ranked
    assert warmer.warm_once() and warmer.ranked == ranked


def test_a_change_through_another_process_is_warmed_again(fresh: Service) -> None:
    """Two apps on one store, each with its own engine, folders and kept answers: as two
    worker processes. A decision through one; the other's warming and its next answers are
    of the store after the decision."""
    warmer = Warmer(fresh.app.state.sessions)
    assert warmer.warm_once()
    before = _rank(fresh, "C05")
    assert before[:2] == (200, "hit")
    with running(fresh.url) as other:
        best = other.client.get(f"{API}/children/C05/rank", headers=other.h("officer")).json()
        vacancy = best["options"][0]["vacancy_id"]
        r = other.client.post(
            f"{API}/children/C05/decision",
            json={"vacancy_id": vacancy, "reason": "t"},
            headers=other.h("officer"),
        )
        assert r.status_code == 201, r.text
        warm_before = warmer.warm
        assert warmer.warm_once() and warmer.warm != warm_before
        # the children still waiting are kept again, as the store is now
        waiting = _waiting(fresh)
        assert "C05" not in waiting
        for child in waiting:
            status, cache, body = _rank(fresh, child)
            assert (status, cache) == (200, "hit")
            r = other.client.get(f"{API}/children/{child}/rank", headers=other.h("officer"))
            assert r.content == body
        # the placed child is ranked afresh (not warmed) and says where it lives now
        status, cache, after = _rank(fresh, "C05")
        assert (status, cache) == (200, "miss") and after != before[2]
        r = other.client.get(f"{API}/children/C05/rank", headers=other.h("officer"))
        assert r.content == after and r.json()["decision"]["vacancy_id"] == vacancy


def test_warming_waits_while_a_ranking_is_answered(fresh: Service) -> None:
    warmer = Warmer(fresh.app.state.sessions)
    kept = answers_of(fresh.app.state.engine)
    with kept.asked():
        warmer.start()
        time.sleep(0.3)
        assert warmer.ranked == 0 and len(kept) == 0
    for _ in range(600):
        if warmer.warm is not None:
            break
        time.sleep(0.1)
    warmer.stop()
    warmer.join(timeout=30)
    assert warmer.warm is not None and len(kept) >= len(_waiting(fresh))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_two_workers_answers_every_change(fresh_sqlite: Service, tmp_path: Path) -> None:
    """``placematch serve --workers 2`` on a copy of the demo store: both processes warm; a
    keep-alive connection is closed after ten answers, so that the processes share the
    clients; after a decision written through the server, every answer (new connections, spread over
    both processes) is the one a server that never kept anything gives."""
    s = fresh_sqlite
    port = _free_port()
    env = {**os.environ, "PLACEMATCH_DATA": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "placematch", "serve", "--db", s.url),
            *("--port", str(port), "--workers", "2"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    h = s.h("officer")

    def ask(path: str) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=30) as c:  # a new connection each time
            return c.get(path, headers=h)

    ranks = _audit_count(s, "rank")
    try:
        warm = 0
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                warm = warm + 1 if ask("/healthz").json()["warm"] else 0
            if warm >= 10:
                break
            time.sleep(0.1)
        else:
            pytest.fail("placematch serve --workers 2 did not warm")
        with httpx.Client(base_url=base, timeout=30) as c:  # one keep-alive connection
            said = [c.get("/healthz").headers.get("connection") for _ in range(12)]
        # the tenth answer closes it (app.ConnectionTurnover): the client's next connection
        # goes to whichever process takes it first, the less busy one
        assert said[9] == "close" and said.count("close") == 1
        first = [ask(f"{API}/children/C05/rank") for _ in range(10)]
        assert {r.headers["x-placematch-cache"] for r in first} == {"hit"}
        assert len({r.content for r in first}) == 1 and first[0].json()["decision"] is None
        vacancy = first[0].json()["options"][0]["vacancy_id"]
        with httpx.Client(base_url=base, timeout=30) as c:
            r = c.post(
                f"{API}/children/C05/decision",
                json={"vacancy_id": vacancy, "reason": "t"},
                headers=h,
            )
            assert r.status_code == 201, r.text
        after = [ask(f"{API}/children/C05/rank") for _ in range(10)]
        # every read audited, by the processes' writers (db.insert_committed)
        assert _audit_count(s, "rank") == ranks + 20
        store = Path(s.url.removeprefix("sqlite:///"))
        assert store.with_name(store.name + "-writer.lock").exists()
        expected = s.client.get(f"{API}/children/C05/rank", headers=h)
        assert expected.json()["decision"]["vacancy_id"] == vacancy
        assert all(r.status_code == 200 and r.content == expected.content for r in after)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert "by 2 processes" in out and "Traceback" not in out
    # Children's ids never reach the server's log (no access log; the audit log has them).
    assert "C05" not in out


def test_serve_refuses_a_bad_number_of_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from placematch.cli import main

    db = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    assert main(["serve", "--workers", "0", "--db", db, "--port", str(_free_port())]) == 2
    assert "--workers 0: expected a whole number from 1 to 64" in capsys.readouterr().err
    assert main(["serve", "--workers", "2", "--db", "sqlite:///:memory:"]) == 2
    assert "in-memory SQLite store is one per process" in capsys.readouterr().err
    assert not (tmp_path / "store.sqlite3").exists()  # refused before the store is opened
