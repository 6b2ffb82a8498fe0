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

A whole list (no ``top``) is kept with where each option lies in its bytes
(:func:`dumps_with_options`), so that a question for its first ``top`` options is answered
from it by cutting bytes (:meth:`Answers.get` with ``top``): byte for byte what ranking with
that ``top`` writes, since ``top`` only shortens the options.

The whole lists are also made ahead of any request (:mod:`placematch.service.warm`), one
child at a time while no ranking is being answered.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import orjson

__all__ = ["BUDGET_BYTES", "Answers", "Cuts", "answers_of", "dumps_with_options"]

#: Bytes of kept answers per store (per server process): a county's whole lists, ranked ahead
#: of requests (:mod:`placematch.service.warm`), with room to spare. A whole list is 100-500 KB
#: of JSON since each option carries its factors' references; the Essex whole cohort's 1,131
#: children take 292 MB (at 256 MB the warming stopped short of them and requests evicted
#: each other's).
BUDGET_BYTES = 512 * 1024 * 1024

#: A question: (the child's authority and id, ``top``, and the ranking's other parameters).
Question = tuple[object, ...]


class Cuts(NamedTuple):
    """Where the options of a kept body lie: each option's first and last-but-one byte
    (``starts``, ``ends``) and the ``]`` that closes the list (``close``)."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    close: int


def dumps_with_options(data: dict[str, Any]) -> tuple[bytes, Cuts]:
    """``orjson.dumps(data)``, byte for byte, and where each item of ``data["options"]`` lies.

    Compact JSON is the keys in order, so the body is the keys before ``options``, the
    options list, then the keys after. The list is written in one call and each option found
    in it by its first key (:func:`_option_starts`); options that cannot be found so are
    written each alone and joined by commas (a county's whole list took 0.7 ms so, against
    0.2 ms in one call).
    """
    keys = list(data)
    at = keys.index("options")
    options = data["options"]
    before = orjson.dumps({k: data[k] for k in keys[:at]})[:-1]  # without its "}"
    after = orjson.dumps({k: data[k] for k in keys[at + 1 :]})[1:]  # without its "{"
    head = before + (b"," if at else b"") + b'"options":['
    tail = b"]" + (b"," if len(after) > 1 else b"") + after
    listed = orjson.dumps(options)
    found = _option_starts(options, listed)
    if found is not None:
        # listed[0] is the "[" that ends head: listed[i] is body[len(head) - 1 + i]
        shift = len(head) - 1
        starts = [shift + i for i in found]
        # each option ends at the comma before the next, the last at the list's "]"
        ends = [s - 1 for s in starts[1:]] + [shift + len(listed) - 1]
        body = b"".join((head, memoryview(listed)[1:-1], tail))  # one copy of the list
    else:
        parts = [orjson.dumps(o) for o in options]
        starts, ends, position = [], [], len(head)
        for part in parts:
            starts.append(position)
            ends.append(position + len(part))
            position += len(part) + 1
        body = head + b",".join(parts) + tail
    close = ends[-1] if starts else len(head)
    return body, Cuts(tuple(starts), tuple(ends), close)


def _option_starts(options: Any, listed: bytes) -> list[int] | None:
    """Where each option begins in ``listed`` (``orjson.dumps(options)``), or ``None`` when
    they cannot be told apart by their first key.

    Every option a ranking writes is an object whose first key is the same
    (``vacancy_id``), so each begins with ``{"vacancy_id":``. Inside a JSON string a quote is
    written ``\\"``, so those bytes occur nowhere else but where an object begins with that
    key: if they occur exactly once per option, the occurrences are the options' starts.
    """
    if not isinstance(options, list) or not options:
        return [] if isinstance(options, list) else None
    first = options[0]
    if not isinstance(first, dict) or not first:
        return None
    key = next(iter(first))
    if not isinstance(key, str):
        return None
    for option in options:
        if type(option) is not dict or not option or next(iter(option)) != key:
            return None
    mark = b"{" + orjson.dumps(key) + b":"
    found = []
    at = listed.find(mark)
    while at >= 0:
        found.append(at)
        at = listed.find(mark, at + len(mark))
    if len(found) != len(options):
        return None
    return found


def first_options(body: bytes, cuts: Cuts, top: int) -> bytes:
    """The body with only its first ``top`` options (``body`` itself if it has no more)."""
    if top >= len(cuts.starts):
        return body
    end = cuts.ends[top - 1] if top > 0 else cuts.starts[0]
    return body[:end] + body[cuts.close :]


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
        self._cuts: dict[Question, Cuts] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._answering = 0
        self._answered = 0.0  # time.monotonic() when the last ranking was answered

    @contextmanager
    def asked(self) -> Iterator[None]:
        """Marks a ranking being answered (the warming waits while any is, and a little
        after: :meth:`quiet`)."""
        with self._lock:
            self._answering += 1
        try:
            yield
        finally:
            with self._lock:
                self._answering -= 1
                self._answered = time.monotonic()

    @property
    def answering(self) -> int:
        """Rankings being answered now."""
        return self._answering

    def quiet(self, seconds: float) -> bool:
        """Whether no ranking is being answered, nor was in the last ``seconds``."""
        with self._lock:
            return not self._answering and time.monotonic() - self._answered >= seconds

    def get(
        self,
        revision: int,
        today: dt.date | None,
        question: Question,
        top: int | None = None,
        *,
        count_miss: bool = True,
    ) -> bytes | None:
        """The kept body, or ``None`` (counted as a miss unless ``count_miss`` is false:
        a look before the one that builds the answer).

        With ``top``, the first ``top`` options of the body kept with its cuts
        (:meth:`put` with ``cuts``) under ``question``: ``None`` if there is none.
        """
        with self._lock:
            body = self._bodies.get(question) if self._key == (revision, today) else None
            cuts = None if body is None or top is None else self._cuts.get(question)
            if body is None or (top is not None and cuts is None):
                self.misses += count_miss
                return None
            self._bodies.move_to_end(question)
            self.hits += 1
        return body if cuts is None or top is None else first_options(body, cuts, top)

    def has(self, revision: int, today: dt.date | None, question: Question) -> bool:
        """Whether a body is kept for the question (neither a hit nor a miss)."""
        with self._lock:
            return self._key == (revision, today) and question in self._bodies

    def put(
        self,
        revision: int,
        today: dt.date | None,
        question: Question,
        body: bytes,
        cuts: Cuts | None = None,
    ) -> None:
        """Keep a body (dropping every body of another revision or date first); ``cuts``
        (:func:`dumps_with_options`) let it answer for its first options too."""
        if len(body) > self.budget:
            return
        with self._lock:
            if self._key != (revision, today):
                if self._key is not None and revision < self._key[0]:
                    return  # built on an older revision than the kept ones: not kept
                self._key = (revision, today)
                self._bodies.clear()
                self._cuts.clear()
                self._bytes = 0
            old = self._bodies.pop(question, None)
            if old is not None:
                self._bytes -= len(old)
            self._bodies[question] = body
            self._cuts.pop(question, None)
            if cuts is not None:
                self._cuts[question] = cuts
            self._bytes += len(body)
            while self._bytes > self.budget:
                gone, dropped = self._bodies.popitem(last=False)
                self._cuts.pop(gone, None)
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
