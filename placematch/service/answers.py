"""Serialised rankings kept per store revision, date and question.

A child's ranking depends only on what the store holds (its revision), the date it is asked
on and the question (the child, by authority and id, ``top``): never on who asks, whose
access is checked and audited on every request before the kept answer is read. So the JSON
body of an answer is kept and sent again to the next request that asks the same question
between two changes of the store. Any change (a load, an upload, a put, a decision, a
provider's answer) bumps the store's revision, and the next request finds nothing kept; so
does another date.

The bodies of one store are kept for one (revision, date) at a time, up to
:data:`BUDGET_BYTES` in all; past that the least recently read goes first.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections import OrderedDict
from typing import Any

__all__ = ["BUDGET_BYTES", "Answers", "answers_of"]

#: Bytes of kept answers per store: about 600 whole-list answers of a county (a whole list is
#: 100-460 KB of JSON since each option carries its factors' references; at 128 MB only about
#: 280 of the largest were kept), far more than the children an office works on in a day.
BUDGET_BYTES = 256 * 1024 * 1024

#: A question: (the child's authority and id, ``top``, and the ranking's other parameters).
Question = tuple[object, ...]


class Answers:
    """The kept answers of one store: bodies per question, for one (revision, date).

    Thread-safe. An answer is filed under the revision read *before* it was built from rows
    at least that new (``store.waiting_folder`` does so), so a kept answer is never older
    than its key: at worst newer, and then the next change drops it anyway.
    """

    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self.budget = budget
        self._key: tuple[int, dt.date | None] | None = None
        self._bodies: OrderedDict[Question, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, revision: int, today: dt.date | None, question: Question) -> bytes | None:
        """The kept body, or ``None`` (counted as a miss)."""
        with self._lock:
            body = self._bodies.get(question) if self._key == (revision, today) else None
            if body is None:
                self.misses += 1
                return None
            self._bodies.move_to_end(question)
            self.hits += 1
            return body

    def put(self, revision: int, today: dt.date | None, question: Question, body: bytes) -> None:
        """Keep a body (dropping every body of another revision or date first)."""
        if len(body) > self.budget:
            return
        with self._lock:
            if self._key != (revision, today):
                if self._key is not None and revision < self._key[0]:
                    return  # built on an older revision than the kept ones: not kept
                self._key = (revision, today)
                self._bodies.clear()
                self._bytes = 0
            old = self._bodies.pop(question, None)
            if old is not None:
                self._bytes -= len(old)
            self._bodies[question] = body
            self._bytes += len(body)
            while self._bytes > self.budget:
                _, dropped = self._bodies.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        with self._lock:
            return len(self._bodies)

    @property
    def size_bytes(self) -> int:
        """Bytes of the bodies kept now."""
        with self._lock:
            return self._bytes


# Per engine (weakly: a closed store's answers go with it).
_answers: weakref.WeakKeyDictionary[Any, Answers] = weakref.WeakKeyDictionary()
_answers_lock = threading.Lock()


def answers_of(engine: Any) -> Answers:
    """The kept answers of the store behind ``engine``."""
    with _answers_lock:
        found = _answers.get(engine)
        if found is None:
            found = _answers[engine] = Answers()
        return found
