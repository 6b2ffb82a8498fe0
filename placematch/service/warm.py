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
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import select

from placematch.service import actions, db, store
from placematch.service.answers import answers_of
from placematch.service.errors import log
from placematch.service.models import ChildRecord

__all__ = ["FILL", "Warmer", "start_warming"]

#: The share of the kept answers' budget the warming fills at most (requests fill the rest).
FILL = 0.9
#: Seconds between two looks at the store's revision when everything is warm.
INTERVAL = 0.5
#: Seconds without a ranking to answer before the next child is ranked ahead: an officer's
#: clicks are seconds apart, while clients asking back to back leave gaps of a millisecond
#: or less, in which a child's ranking (10-30 ms) would hold up the next request.
QUIET = 0.1
#: Seconds between two looks while rankings are being answered.
BUSY_WAIT = 0.005


class Warmer(threading.Thread):
    """The warming thread of one server process, on the store of ``sessions``."""

    def __init__(self, sessions: Any, interval: float = INTERVAL) -> None:
        super().__init__(daemon=True, name="placematch-warm")
        self.sessions = sessions
        self.interval = interval
        self.stopping = threading.Event()
        #: The (revision, date) every waiting child's whole list was ranked for (or the
        #: budget filled), else ``None``.
        self.warm: tuple[int, Any] | None = None
        self.ranked = 0  # whole lists ranked by this thread, in all

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.warm_once()
            except Exception as exc:  # never the message: it may hold personal data
                log.error("warming the rankings failed: %s", type(exc).__name__)
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()

    def warm_once(self) -> bool:
        """Rank every waiting child not kept yet; whether all were (``False``: interrupted
        by a change of the store or the date, or by :meth:`stop`)."""
        with self.sessions() as session:
            revision = store.revision_of(session)
            today = actions.clock()
            if self.warm == (revision, today):
                return True
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


def start_warming(app: Any) -> Warmer:
    """Start the warming thread of a server process (``placematch serve``, each worker), and
    on an SQLite file its checkpointing thread (:class:`placematch.service.db.Checkpointer`):
    the write-ahead log copied into the store outside the requests."""
    if db.sqlite_file(app.state.engine) is not None:
        checkpointer = db.Checkpointer(app.state.engine)
        app.state.checkpointer = checkpointer
        checkpointer.start()
    warmer = Warmer(app.state.sessions)
    app.state.warmer = warmer
    warmer.start()
    return warmer
