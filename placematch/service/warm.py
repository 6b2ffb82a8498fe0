"""Whole lists ranked ahead of requests, while the server has nothing else to do.

After the server starts, and after every change of the store (any process's: the revision
is read from the database) or of the date, a thread of each server process ranks every
waiting child's whole list, as ``GET /children/{id}/rank`` with no query asks for it, and
keeps its body (:mod:`placematch.service.answers`): the first officer to look at a child
then gets a kept answer, and a question for the child's first options is cut from it.

Nobody reads a child's data here, so nothing is audited: the request that sends a kept answer
is checked and audited as any other. The thread ranks one child at a time and only when no
ranking has been answered in its process for :data:`QUIET` seconds (:meth:`Answers.quiet`),
so that requests asked back to back are not held up by it, and a request waits at most for
one child's ranking; it stops when the kept answers fill :data:`FILL` of their budget, and
starts again from the first child not kept after a change.

**After a change.** The first request after a change used to pay, in each process, for the
new folder and for working out the change from the folder the kept lists were ranked on
(about 130 ms for a county), and the process's other requests waited behind it. Now that is
done ahead (:meth:`Warmer.prepare`: one child's list of each folder put aside is spliced, as
its first request would): in the process that made the change, after the write is committed
and before it is answered (:class:`AfterWrite`); in every process, by its warming thread as
soon as it sees the store's revision move (it looks every :data:`INTERVAL` seconds).
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from placematch.service import actions, db, store
from placematch.service.answers import answers_of
from placematch.service.errors import log
from placematch.service.models import ChildRecord

__all__ = ["FILL", "AfterWrite", "Warmer", "install_warming", "start_warming"]

#: The share of the kept answers' budget the warming fills at most (requests fill the rest).
FILL = 0.9
#: Seconds between two looks at the store's revision when everything is warm: short, since a
#: change seen is prepared for (:meth:`Warmer.prepare`) before most of its requests come; a
#: look is one query of a row (a few hundredths of a millisecond).
INTERVAL = 0.02
#: Seconds without a ranking to answer before the next child is ranked ahead: an officer's
#: clicks are seconds apart, while clients asking back to back leave gaps of a millisecond
#: or less, in which a child's ranking (10-30 ms) would hold up the next request.
QUIET = 0.1
#: Seconds without a ranking to answer before the objects frozen after a change are thawed
#: and collected (:meth:`Warmer.settle`).
SETTLE_QUIET = 5.0
#: Seconds between two looks while rankings are being answered.
BUSY_WAIT = 0.005


class Warmer(threading.Thread):
    """The warming thread of one server process, on the store of ``sessions``."""

    def __init__(self, sessions: Any, interval: float = INTERVAL, *, freeze: bool = False) -> None:
        super().__init__(daemon=True, name="placematch-warm")
        self.sessions = sessions
        self.interval = interval
        #: whether :meth:`prepare` freezes what survives its collection (a server process
        #: whose start-up objects were frozen: ``placematch serve``)
        self.freeze = freeze
        self.frozen = False  # objects were frozen since the last settle
        #: the (revision, date) :meth:`prepare` last prepared for
        self.prepared: tuple[int, Any] | None = None
        self._preparing = threading.Lock()
        self.stopping = threading.Event()
        #: The (revision, date) every waiting child's whole list was ranked for (or the
        #: budget filled), else ``None``.
        self.warm: tuple[int, Any] | None = None
        self.ranked = 0  # whole lists ranked by this thread, in all

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.warm_once() and self.frozen and self._quiet(SETTLE_QUIET):
                    self.settle()
            except Exception as exc:  # never the message: it may hold personal data
                log.error("warming the rankings failed: %s", type(exc).__name__)
            self.stopping.wait(self.interval)

    def _quiet(self, seconds: float) -> bool:
        with self.sessions() as session:
            return answers_of(session.get_bind()).quiet(seconds)

    def stop(self) -> None:
        self.stopping.set()

    def prepare(self) -> int:
        """After a change of the store: the first child's whole list of each folder the
        last revision's lists were ranked on, spliced now (:func:`actions.rank_answer`, as
        its first request would), so that the new folder is built and the change worked out
        (:func:`actions._change`) before the requests come; how many. Nothing is audited:
        nobody reads the lists here, and each request is checked and audited as ever. A
        second caller meanwhile (the warming and a write's answer) waits for the first."""
        with self._preparing:
            return self._prepare()

    def _prepare(self) -> int:
        with self.sessions() as session:
            revision = store.revision_of(session)
            today = actions.clock()
            if self.prepared == (revision, today):  # a write that changed nothing
                return 0
            self.prepared = (revision, today)
            kept = answers_of(session.get_bind())
            heads = kept.stale_heads(revision, today, _plain)
            for question in heads:
                authority, child_id = str(question[0]), str(question[1])
                try:
                    actions.rank_answer(session, child_id, authority, revision, today)
                except Exception as exc:  # its request will say; never the message
                    log.error("preparing a change failed: %s", type(exc).__name__)
        if heads and self.freeze:
            # The new folder and the change are hundreds of thousands of new objects, and
            # the collector's full passes walked them again and again while the change's
            # requests were answered (30-90 ms each, measured, every second or so, with no
            # request moving). One pass now, before the requests come; what survives it is
            # frozen as the server's start-up objects are (app.settle_memory), so later
            # passes skip it. Frozen objects still go when nothing refers to them (a
            # folder holds no reference cycle); cycles among them wait for :meth:`settle`.
            gc.collect()
            gc.freeze()
            self.frozen = True
        return len(heads)

    def settle(self) -> None:
        """After :meth:`prepare` froze objects, once no ranking has been answered for
        :data:`SETTLE_QUIET` seconds: everything thawed, collected and frozen again (a
        pass of a few hundred milliseconds, taken when nobody waits), so that garbage in
        cycles among the frozen objects does not stay."""
        if self.frozen:
            self.frozen = False
            gc.unfreeze()
            gc.collect()
            gc.freeze()

    def warm_once(self) -> bool:
        """Rank every waiting child not kept yet; whether all were (``False``: interrupted
        by a change of the store or the date, or by :meth:`stop`)."""
        with self.sessions() as session:
            revision = store.revision_of(session)
            today = actions.clock()
            if self.warm == (revision, today):
                return True
        self.prepare()
        with self.sessions() as session:
            kept = answers_of(session.get_bind())
            waiting = session.execute(
                select(ChildRecord.authority_code, ChildRecord.child_id)
                .where(ChildRecord.status == "waiting")
                .order_by(ChildRecord.authority_code, ChildRecord.child_id)
            ).all()
        for authority, child_id in waiting:
            while not kept.quiet(QUIET) and not self.stopping.is_set():
                time.sleep(BUSY_WAIT)
            if self.stopping.is_set():
                return False
            if kept.size_bytes >= FILL * kept.budget:
                break
            with self.sessions() as session:
                # read first, as a request does (answers.Answers): never filed as newer
                if (store.revision_of(session), actions.clock()) != (revision, today):
                    return False
                if kept.has(revision, today, actions.answer_key(authority, child_id)):
                    continue
                try:
                    actions.rank_answer(session, child_id, authority, revision, today)
                except Exception as exc:  # the next child all the same; never the message
                    log.error("warming a ranking failed: %s", type(exc).__name__)
                    continue
                self.ranked += 1
            time.sleep(0)  # let a request that came in meanwhile go first
        self.warm = (revision, today)
        return True


def _plain(question: tuple[object, ...]) -> bool:
    """Whether a kept list's question is the child's whole list, as asked with no query."""
    return question == actions.answer_key(str(question[0]), str(question[1]))


class AfterWrite:
    """A change's lists prepared for (:meth:`Warmer.prepare`) in the process that made it,
    before its answer is sent.

    A plain ASGI middleware: a request that reads (GET, HEAD) goes straight through. After a
    write, the answer waits until its process has the new folder and the change worked out
    (about 130 ms for a county), the work the first ranking after it would otherwise do
    while the process's other requests wait. The write was committed before its answer
    started, so the revision read then is the change's.
    """

    def __init__(self, app: ASGIApp, warmer: Warmer) -> None:
        self.app = app
        self.warmer = warmer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return

        async def send_prepared(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status", 500) < 400:
                try:
                    await run_in_threadpool(self.warmer.prepare)
                except Exception as exc:  # the write is done: answer it all the same
                    log.error("preparing a change failed: %s", type(exc).__name__)
            await send(message)

        await self.app(scope, receive, send_prepared)


def install_warming(app: Any, *, freeze: bool = False) -> Warmer:
    """The warming thread of ``app`` (not started) and its :class:`AfterWrite` middleware,
    before the application serves anything; ``freeze`` as :class:`Warmer` takes it."""
    warmer = Warmer(app.state.sessions, freeze=freeze)
    app.state.warmer = warmer
    app.add_middleware(AfterWrite, warmer=warmer)
    return warmer


def start_warming(app: Any) -> Warmer:
    """Start the warming thread of a server process (``placematch serve``, each worker), and
    on an SQLite file its checkpointing thread (:class:`placematch.service.db.Checkpointer`):
    the write-ahead log copied into the store outside the requests."""
    if db.sqlite_file(app.state.engine) is not None:
        checkpointer = db.Checkpointer(app.state.engine)
        app.state.checkpointer = checkpointer
        checkpointer.start()
    # freeze after a change where the start-up objects were frozen (app.settle_memory)
    warmer = install_warming(app, freeze=gc.get_freeze_count() > 0)
    warmer.start()
    return warmer
