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

**After a change.** A whole list is kept with its :class:`Layout`: the folder it was ranked
on and where each option and exclusion lies in its bytes. When the store's revision moves,
the kept whole lists are not dropped at once but kept aside as the last revision's
(:meth:`Answers.stale`), and a child's first request after the change finds its old answer
there. :func:`matcher.rank.folder_change` says what differs between the old folder and the
new: when only some vacancies (and other children) differ, the new answer is the old one
with the pairs of those vacancies assessed again (:func:`matcher.rank.ranking_part`), their
options and exclusions spliced in where they belong (:func:`spliced`), the rest of the bytes
copied: byte for byte what ranking afresh writes (a test checks it for every kind of write).
Anything else (the child itself changed, a change to the whole folder's objective, a
policy) is ranked afresh.
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

__all__ = [
    "BUDGET_BYTES",
    "Answers",
    "Cuts",
    "Layout",
    "Stale",
    "answers_of",
    "dumps_with_options",
    "layout_of",
    "spliced",
]

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


class Layout(NamedTuple):
    """Where the parts of a kept whole list lie in its bytes, and what it was ranked on.

    ``options``: per option, its vacancy id and :func:`matcher.rank.option_order`;
    ``exclusions``: per exclusion its vacancy id and rule; ``*_spans``: each one's first
    byte and the byte after its last (so that ``body[start:end]`` is its JSON).
    """

    folder: Any  # the CaseFolder it was ranked on
    options: tuple[tuple[str, tuple[int, int, int]], ...]
    option_spans: tuple[tuple[int, int], ...]
    exclusions: tuple[tuple[str, str], ...]
    exclusion_spans: tuple[tuple[int, int], ...]


class Stale(NamedTuple):
    """A whole list kept from the last revision (:meth:`Answers.stale`)."""

    body: bytes
    layout: Layout


#: How an option or exclusion of a ranking's JSON begins (its first key is ``vacancy_id``).
_ITEM = b'{"vacancy_id":'


def _item_spans(body: bytes, start: int, end: int, n: int) -> tuple[tuple[int, int], ...] | None:
    """The spans of the ``n`` items of the JSON list whose items lie in ``body[start:end]``
    (``end``: its closing ``]``), each found by its first key, or ``None`` if they cannot be
    told apart so (see :func:`_option_starts`)."""
    starts = []
    at = body.find(_ITEM, start, end)
    while at >= 0:
        starts.append(at)
        at = body.find(_ITEM, at + len(_ITEM), end)
    if len(starts) != n:
        return None
    if not starts:
        return ()
    ends = [s - 1 for s in starts[1:]] + [end]
    return tuple(zip(starts, ends, strict=True))


def layout_of(body: bytes, cuts: Cuts, data: dict[str, Any], folder: Any) -> Layout | None:
    """The :class:`Layout` of a whole list (``body``, ``cuts``: :func:`dumps_with_options`
    of ``data``, ranked on ``folder``), or ``None`` if its parts cannot be found."""
    from matcher.rank import option_order

    options = data["options"]
    exclusions = data["exclusions"]
    if len(cuts.starts) != len(options) or list(data)[-7:-6] != ["exclusions"]:
        return None
    opening = body.find(b',"exclusions":[', cuts.close)
    closing = body.find(b'],"declined":', opening)
    if opening < 0 or closing < 0:
        return None
    spans = _item_spans(body, opening, closing, len(exclusions))
    if spans is None:
        return None
    return Layout(
        folder,
        tuple((o["vacancy_id"], option_order(o)) for o in options),
        # (with no options, cuts.ends holds the list's "]" alone)
        tuple(zip(cuts.starts, cuts.ends[: len(cuts.starts)], strict=True)),
        tuple((e["vacancy_id"], e["rule"]) for e in exclusions),
        spans,
    )


def _merged(
    body: bytes, kept: list[tuple[Any, int, int, Any]], made: list[tuple[Any, bytes, Any]]
) -> tuple[list[Any], list[tuple[int, int]], list[Any]]:
    """The items of a JSON list in order of their keys: ``kept`` (key, span in ``body``,
    what the layout says of it) and ``made`` (key, bytes, the same). Returns the pieces to
    join with commas (adjacent kept items in one piece, their commas and all), each item's
    span from where the list's items begin, and what the layout says of each, in order."""
    items: list[tuple[Any, int, int, bytes | None, Any]] = [
        (k, s, e, None, m) for k, s, e, m in kept
    ]
    items += [(k, 0, len(b), b, m) for k, b, m in made]
    items.sort(key=lambda x: x[0])
    view = memoryview(body)
    pieces: list[Any] = []
    spans: list[tuple[int, int]] = []
    at = 0  # bytes written so far, commas included
    run_start = run_end = -1
    for n, (_, s, e, own, _) in enumerate(items):
        if n:
            at += 1  # the comma before this item
        spans.append((at, at + e - s))
        at += e - s
        if own is None and run_start >= 0 and s == run_end + 1:
            run_end = e  # the kept item right after the last (past its comma): one piece
            continue
        if run_start >= 0:
            pieces.append(view[run_start:run_end])
            run_start = -1
        if own is None:
            run_start, run_end = s, e
        else:
            pieces.append(own)
    if run_start >= 0:
        pieces.append(view[run_start:run_end])
    return pieces, spans, [x[4] for x in items]


def spliced(
    stale: Stale,
    folder: Any,
    child_id: str,
    vacancies: frozenset[str],
    part: tuple[list[dict[str, Any]], list[dict[str, str]]],
    rules: Any,
    rest: dict[str, Any],
) -> tuple[bytes, Cuts, Layout]:
    """The whole list of ``child_id`` on ``folder``, from the one kept on another folder
    (``stale``) where only the pairs of ``vacancies`` differ: its options and exclusions of
    those vacancies replaced by ``part`` (:func:`matcher.rank.ranking_part` on ``folder``),
    the counts by rule (in the order of ``rules``) counted again, and the keys after the
    exclusions (``declined`` ... ``decision``) written from ``rest``.

    Byte for byte what :func:`dumps_with_options` writes of the ranking made afresh on
    ``folder`` (a test checks it); with its cuts and layout, to be kept in turn.
    """
    from matcher.rank import option_order

    body, layout = stale.body, stale.layout
    index = folder.derived(_vacancy_index)
    new_options, new_exclusions = part
    o_pieces, o_spans, options = _merged(
        body,
        [
            ((*order, index[vid]), s, e, (vid, order))
            for (vid, order), (s, e) in zip(layout.options, layout.option_spans, strict=True)
            if vid not in vacancies
        ],
        [
            ((*order, index[o["vacancy_id"]]), orjson.dumps(o), (o["vacancy_id"], order))
            for o in new_options
            for order in (option_order(o),)
        ],
    )
    e_pieces, e_spans, exclusions = _merged(
        body,
        [
            (index[vid], s, e, (vid, rule))
            for (vid, rule), (s, e) in zip(layout.exclusions, layout.exclusion_spans, strict=True)
            if vid not in vacancies
        ],
        [
            (index[x["vacancy_id"]], orjson.dumps(x), (x["vacancy_id"], x["rule"]))
            for x in new_exclusions
        ],
    )
    counted: dict[str, int] = {}
    for _, rule in exclusions:
        counted[rule] = counted.get(rule, 0) + 1
    counts = {r.name: counted[r.name] for r in rules if r.name in counted}
    sources = {r.name: r.source for r in rules if r.name in counts}
    head = orjson.dumps({"child_id": child_id, "eligible": len(options)})[:-1] + b',"options":['
    listed = b",".join(o_pieces)
    middle = (
        b"],"
        + orjson.dumps({"excluded": counts, "excluded_sources": sources})[1:-1]
        + b',"exclusions":['
    )
    out = b"".join((head, listed, middle, b",".join(e_pieces), b"],", orjson.dumps(rest)[1:]))
    o_at = len(head)
    e_at = o_at + len(listed) + len(middle)
    option_spans = tuple((o_at + s, o_at + e) for s, e in o_spans)
    cuts = Cuts(
        tuple(s for s, _ in option_spans),
        tuple(e for _, e in option_spans),
        o_at + len(listed),
    )
    exclusion_spans = tuple((e_at + s, e_at + e) for s, e in e_spans)
    return (
        out,
        cuts,
        Layout(folder, tuple(options), option_spans, tuple(exclusions), exclusion_spans),
    )


def _vacancy_index(folder: Any) -> dict[str, int]:
    """Vacancy id -> its place in the folder (kept per folder)."""
    return {v.vacancy_id: j for j, v in enumerate(folder.vacancies)}


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
        self._layouts: dict[Question, Layout] = {}
        # the whole lists of the last (revision, date) kept, with their layouts: stale
        self._stale: dict[Question, Stale] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.spliced = 0  # answers made from the last revision's (counted by the caller)
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

    def stale(self, question: Question) -> Stale | None:
        """The whole list kept for ``question`` before the last change of revision or date,
        with its layout (taken: asked once), or ``None``. Never an answer as it is: the
        folder it was ranked on is in its layout, to be compared with the folder now."""
        with self._lock:
            found = self._stale.pop(question, None)
            if found is not None:
                self._bytes -= len(found.body)
            return found

    def put(
        self,
        revision: int,
        today: dt.date | None,
        question: Question,
        body: bytes,
        cuts: Cuts | None = None,
        layout: Layout | None = None,
    ) -> None:
        """Keep a body (putting every body of another revision or date aside first: the
        whole lists with a layout as :meth:`stale`, the rest dropped); ``cuts``
        (:func:`dumps_with_options`) let it answer for its first options too, and ``layout``
        (:func:`layout_of`) lets the next revision splice it."""
        if len(body) > self.budget:
            return
        with self._lock:
            if self._key != (revision, today):
                if self._key is not None and revision < self._key[0]:
                    return  # built on an older revision than the kept ones: not kept
                self._key = (revision, today)
                self._stale = {
                    q: Stale(b, self._layouts[q])
                    for q, b in self._bodies.items()
                    if q in self._layouts
                }
                self._bodies.clear()
                self._cuts.clear()
                self._layouts.clear()
                self._bytes = sum(len(x.body) for x in self._stale.values())
            old = self._bodies.pop(question, None)
            if old is not None:
                self._bytes -= len(old)
            self._bodies[question] = body
            self._cuts.pop(question, None)
            self._layouts.pop(question, None)
            if cuts is not None:
                self._cuts[question] = cuts
            if layout is not None:
                self._layouts[question] = layout
            self._bytes += len(body)
            while self._bytes > self.budget and self._stale:
                gone_stale = self._stale.pop(next(iter(self._stale)))
                self._bytes -= len(gone_stale.body)
            while self._bytes > self.budget:
                gone, dropped = self._bodies.popitem(last=False)
                self._cuts.pop(gone, None)
                self._layouts.pop(gone, None)
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
