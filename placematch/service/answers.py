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
import re
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import orjson

__all__ = [
    "BUDGET_BYTES",
    "Answers",
    "Cuts",
    "Layout",
    "Part",
    "Renumbering",
    "Stale",
    "answers_of",
    "dumps_with_options",
    "layout_of",
    "renumbering",
    "spliced",
]

#: Bytes of kept answers per store (per server process): a county's whole lists, ranked ahead
#: of requests (:mod:`placematch.service.warm`), with room to spare. A whole list is 100-500 KB
#: of JSON since each option carries its factors' references; the Essex whole cohort's 1,131
#: children take 292 MB (at 256 MB the warming stopped short of them and requests evicted
#: each other's).
BUDGET_BYTES = 512 * 1024 * 1024

#: Revisions whose whole lists are kept aside after a change (:meth:`Answers.stale`): the
#: lists of the last few not asked for since, each spliced from the folder it was ranked on.
#: (At 3, a child not asked for over three changes was ranked afresh: 170 of the 1,000 in the
#: benchmark's fourth cold phase. The bytes stay within the budget either way.)
STALE_REVISIONS = 5

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

    Per option its vacancy's place in ``folder`` (``option_at``),
    :func:`matcher.rank.option_order` (``option_orders``, an ``(n, 3)`` array) and its
    ``connected_person`` and ``in_area`` (``option_flags``, which with its points make its
    objective points again when the folded objective moves: :func:`_refolded`); per
    exclusion its vacancy's place and its rule (``exclusion_rules``: indices into
    ``rule_names``); ``*_spans``: each one's first byte and the byte after its last, as an
    ``(n, 2)`` array (``body[start:end]`` is its JSON); ``counts``: exclusions per rule.

    Integer arrays, not tuples of ids: the garbage collector does not look into an array,
    while it walked every item of every kept layout's tuples (a county's lists after a
    change made collections of 20-80 ms, in which no request moved).
    """

    folder: Any  # the CaseFolder it was ranked on
    option_at: npt.NDArray[np.int64]
    option_orders: npt.NDArray[np.int64]
    option_flags: npt.NDArray[np.int64]  # (n, 2): connected_person, in_area
    option_spans: npt.NDArray[np.int64]
    exclusion_at: npt.NDArray[np.int64]
    exclusion_rules: npt.NDArray[np.int64]
    rule_names: tuple[str, ...]
    exclusion_spans: npt.NDArray[np.int64]
    counts: dict[str, int]
    #: (n, 2): where each option's objective points (the number) lie from its first byte,
    #: and their length; ``-1`` rows when they could not be found one per option.
    option_points: npt.NDArray[np.int64] = np.zeros((0, 2), dtype=np.int64)


class Stale(NamedTuple):
    """A whole list kept from the last revision (:meth:`Answers.stale`)."""

    body: bytes
    layout: Layout


class Part(NamedTuple):
    """A child's options and exclusions among the vacancies that changed, as JSON:
    ``options`` (vacancy id, :func:`matcher.rank.option_order`, bytes, its
    ``connected_person`` and ``in_area`` as 0 or 1) and ``exclusions`` (vacancy id, rule,
    bytes), each in folder order."""

    options: list[tuple[str, tuple[int, int, int], bytes, tuple[int, int]]]
    exclusions: list[tuple[str, str, bytes]]


class Renumbering(NamedTuple):
    """From one folder to the next (:func:`renumbering`), per vacancy of the old folder:
    whether its pairs may differ (``changed``) and its place in the new folder (``new_at``;
    -1 if it is gone); and the new folded objective's bases when they moved (``objective``:
    :attr:`matcher.rank.FolderChange.objective`)."""

    changed: npt.NDArray[np.bool_]
    new_at: npt.NDArray[np.int64]
    objective: tuple[int, int, int] | None = None


def renumbering(
    old: Any,
    new: Any,
    vacancies: frozenset[str],
    objective: tuple[int, int, int] | None = None,
) -> Renumbering:
    """The :class:`Renumbering` from folder ``old`` to ``new``, where the pairs of
    ``vacancies`` (:attr:`matcher.rank.FolderChange.vacancies`) may differ and the folded
    objective's bases are ``objective`` if they moved: once per change, for every list
    spliced across it."""
    index = new.derived(_vacancy_index)
    ids = [v.vacancy_id for v in old.vacancies]
    changed = np.fromiter((i in vacancies for i in ids), dtype=bool, count=len(ids))
    new_at = np.fromiter((index.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))
    return Renumbering(changed, new_at, objective)


#: An option's objective points in its JSON (a ranking writes them before ``factors``, after
#: ``connected_person``): never inside a string, where a quote is written ``\\"``.
_OBJECTIVE = re.compile(rb'"objective_points":(-?[0-9]+)')


def _points_at(body: bytes, spans: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Where the objective points of each option (at ``spans`` in ``body``) lie from its
    first byte, and their length (:attr:`Layout.option_points`): found once, when a list is
    ranked, so that writing them again is slicing. ``-1`` rows unless each option holds them
    exactly once."""
    n = len(spans)
    out = np.full((n, 2), -1, dtype=np.int64)
    if not n:
        return out
    found = [m.span(1) for m in _OBJECTIVE.finditer(body, int(spans[0, 0]), int(spans[-1, 1]))]
    if len(found) != n:
        return out
    at = np.asarray(found, dtype=np.int64).reshape(-1, 2)
    if not (np.all(at[:, 0] >= spans[:, 0]) and np.all(at[:, 1] <= spans[:, 1])):
        return out  # one option holds two, another none
    out[:, 0] = at[:, 0] - spans[:, 0]
    out[:, 1] = at[:, 1] - at[:, 0]
    return out


def _part_points(item: bytes) -> tuple[int, int]:
    """:func:`_points_at` of one option's JSON alone."""
    found = [m.span(1) for m in _OBJECTIVE.finditer(item)]
    if len(found) != 1:
        return (-1, -1)
    ((start, end),) = found
    return (start, end - start)


class Rewrite(NamedTuple):
    """Every option's objective points written again (:func:`_rewrite`): per option of a
    kept list, the first byte of its old number and the byte after (``starts``, ``ends``, in
    the kept body), the new number (``numbers``) and how many bytes longer it is
    (``grown``)."""

    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]
    numbers: list[bytes]
    grown: npt.NDArray[np.int64]

    def points(self, layout: Layout) -> npt.NDArray[np.int64]:
        """``layout``'s :attr:`Layout.option_points` once the numbers are written again:
        each from the same byte of its option, its new length."""
        points = layout.option_points.copy()
        points[:, 1] += self.grown
        return points


def _rewrite(layout: Layout, objective: tuple[int, int, int]) -> Rewrite | None:
    """The :class:`Rewrite` of a kept list under the folded objective's bases ``objective``
    (:func:`matcher.rank.refolded`: placement base, plus the connected-person and in-area
    bases where the option is so, plus its points), or ``None`` if its options' points were
    not found one per option."""
    at = layout.option_points
    if len(at) != len(layout.option_spans) or (len(at) and int(at.min()) < 0):
        return None
    placement, connected, in_area = objective
    flags = layout.option_flags
    values = placement + flags[:, 0] * connected + flags[:, 1] * in_area
    values -= layout.option_orders[:, 1]  # an option's order holds minus its points
    # one call writes every number as the ranking did (orjson), split at the commas
    numbers = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")
    if not len(values):
        numbers = []
    starts = layout.option_spans[:, 0] + at[:, 0]
    ends = starts + at[:, 1]
    grown = np.fromiter(map(len, numbers), dtype=np.int64, count=len(numbers)) - at[:, 1]
    return Rewrite(starts, ends, numbers, grown)


def _run(
    view: memoryview, start: int, end: int, first: int, last: int, rewrite: Rewrite | None
) -> list[Any]:
    """The bytes ``view[start:end]`` (the items ``first`` to ``last`` of a list, adjacent) as
    pieces to join: one view, or with ``rewrite`` the views between the items' old numbers
    and the new numbers between them (no bytes copied before the one join)."""
    if rewrite is None:
        return [view[start:end]]
    lo = [start, *rewrite.ends[first : last + 1].tolist()]
    hi = [*rewrite.starts[first : last + 1].tolist(), end]
    pieces: list[Any] = [None] * (2 * len(lo) - 1)
    pieces[0::2] = [view[a:b] for a, b in zip(lo, hi, strict=True)]
    pieces[1::2] = rewrite.numbers[first : last + 1]
    return pieces


def _refolded(
    body: bytes, layout: Layout, objective: tuple[int, int, int]
) -> tuple[bytes, Layout] | None:
    """``body`` (a whole list and its ``layout``) with every option's objective points
    written again from the bases ``objective`` (:func:`_rewrite`), the bytes after them
    moved along; ``None`` if the options' points cannot be found one per option.

    The rewrite alone, by the same :func:`_spliced_list` as :func:`spliced` (every option
    kept, none added).
    """
    spans = layout.option_spans
    if not len(spans):
        return body, layout
    rewrite = _rewrite(layout, objective)
    if rewrite is None:
        return None
    lo, hi = int(spans[0, 0]), int(spans[-1, 1])
    pieces, moved, _ = _spliced_list(body, spans, np.ones(len(spans), dtype=bool), [], rewrite)
    view = memoryview(body)
    out = b"".join([view[:lo], *pieces[0], view[hi:]])
    return out, layout._replace(
        option_spans=moved + lo,
        exclusion_spans=layout.exclusion_spans + int(rewrite.grown.sum()),
        option_points=rewrite.points(layout),
    )


#: How an option or exclusion of a ranking's JSON begins (its first key is ``vacancy_id``).
_ITEM = b'{"vacancy_id":'


def _spans(starts: list[int], ends: list[int]) -> npt.NDArray[np.int64]:
    return np.asarray([starts, ends], dtype=np.int64).T.reshape(-1, 2)


def _item_spans(body: bytes, start: int, end: int, n: int) -> npt.NDArray[np.int64] | None:
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
    return _spans(starts, [s - 1 for s in starts[1:]] + [end] if starts else [])


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
    index = folder.derived(_vacancy_index)
    names = tuple(dict.fromkeys(e["rule"] for e in exclusions))
    code = {name: k for k, name in enumerate(names)}
    # (with no options, cuts.ends holds the list's "]" alone)
    option_spans = _spans(list(cuts.starts), list(cuts.ends[: len(cuts.starts)]))
    return Layout(
        folder,
        _ints(index[o["vacancy_id"]] for o in options),
        np.asarray([option_order(o) for o in options], dtype=np.int64).reshape(-1, 3),
        np.asarray(
            [(o["connected_person"], o["in_area"]) for o in options], dtype=np.int64
        ).reshape(-1, 2),
        option_spans,
        _ints(index[e["vacancy_id"]] for e in exclusions),
        _ints(code[e["rule"]] for e in exclusions),
        names,
        spans,
        dict(data["excluded"]),
        _points_at(body, option_spans),
    )


def _ints(values: Iterable[int]) -> npt.NDArray[np.int64]:
    return np.fromiter(values, dtype=np.int64)


def _spliced_list(
    body: bytes,
    spans: npt.NDArray[np.int64],
    keep: npt.NDArray[np.bool_],
    added: list[tuple[int, bytes]],
    rewrite: Rewrite | None = None,
) -> tuple[list[list[Any]], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A JSON list of ``body`` (its items at ``spans``) with only the items ``keep`` says,
    and ``added`` items (place among the items kept, bytes; sorted) put in; with
    ``rewrite``, each kept item's objective points written again (:func:`_rewrite`).

    Returns the pieces to join with commas (runs of adjacent kept items as one piece, their
    commas and all, each a list of views of ``body`` and new numbers: :func:`_run`), each
    item's span from where the items begin, and where each item comes from: its index in
    ``spans`` if kept, ``-1 - k`` for the ``k``-th of ``added``.
    """
    kept = np.flatnonzero(keep)
    # kept items in runs: a run breaks where an item was removed or one is added
    breaks = set((np.flatnonzero(np.diff(kept) != 1) + 1).tolist())
    breaks.update(at for at, _ in added)
    bounds = sorted(b for b in breaks if 0 < b < len(kept))
    runs = list(zip([0, *bounds], [*bounds, len(kept)], strict=True))
    view = memoryview(body)
    pieces: list[list[Any]] = []
    out_spans = []
    rows = []
    at = 0  # bytes written so far, commas included
    k = 0  # the next of added
    for lo, hi in [*runs, (len(kept), len(kept))]:
        while k < len(added) and added[k][0] <= lo:
            if pieces:
                at += 1
            own = added[k][1]
            pieces.append([own])
            out_spans.append(np.asarray([[at, at + len(own)]], dtype=np.int64))
            rows.append(np.asarray([-1 - k], dtype=np.int64))
            at += len(own)
            k += 1
        if hi <= lo:
            continue
        if pieces:
            at += 1
        first, last = int(kept[lo]), int(kept[hi - 1])  # a run is of adjacent items
        start, end = int(spans[first, 0]), int(spans[last, 1])
        pieces.append(_run(view, start, end, first, last, rewrite))
        run_spans = spans[first : last + 1] + (at - start)
        if rewrite is not None:  # each item moved by the growth of those before it
            grown = np.cumsum(rewrite.grown[first : last + 1])
            run_spans[1:, 0] += grown[:-1]
            run_spans[:, 1] += grown
            at += int(grown[-1])
        out_spans.append(run_spans)
        rows.append(np.arange(first, last + 1, dtype=np.int64))
        at += end - start
    if not out_spans:
        return pieces, np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return pieces, np.concatenate(out_spans), np.concatenate(rows)


def _column(
    rows: npt.NDArray[np.int64], kept: npt.NDArray[np.int64], added: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """A column of the items of :func:`_spliced_list`'s ``rows``: ``kept[i]`` for a kept
    item ``i``, ``added[k]`` for the ``k``-th added."""
    # the added after the kept, and one take (masks cost twice as much)
    both = np.concatenate((kept, added.reshape(-1, *kept.shape[1:]).astype(np.int64)))
    return both[np.where(rows >= 0, rows, len(kept) - 1 - rows)]


def _before(keys: npt.NDArray[np.int64], key: tuple[int, ...]) -> int:
    """How many rows of ``keys`` (sorted, an ``(n, m)`` array) are less than ``key``,
    compared as tuples."""
    less = np.zeros(len(keys), dtype=bool)
    equal = np.ones(len(keys), dtype=bool)
    for j, value in enumerate(key):
        column = keys[:, j]
        less |= equal & (column < value)
        equal &= column == value
    return int(less.sum())


def spliced(
    stale: Stale,
    folder: Any,
    child_id: str,
    moved: Renumbering,
    part: Part,
    rules: Any,
    rest: dict[str, Any],
) -> tuple[bytes, Cuts, Layout] | None:
    """The whole list of ``child_id`` on ``folder``, from the one kept on another folder
    (``stale``) where only the pairs of the vacancies ``moved.changed`` differ (``moved``:
    :func:`renumbering` from its folder to ``folder``): its options and exclusions of those
    vacancies replaced by ``part`` (:func:`matcher.rank.ranking_parts` on ``folder``), the
    counts by rule (in the order of ``rules``) counted again, and the keys after the
    exclusions (``declined`` ... ``decision``) written from ``rest``.

    Byte for byte what :func:`dumps_with_options` writes of the ranking made afresh on
    ``folder`` (a test checks it); with its cuts and layout, to be kept in turn. When the
    folded objective's bases moved (``moved.objective``) every kept option's objective
    points are written again in the same join (:func:`_rewrite`: where each option's number
    lies is kept in the layout, so the rewrite is slicing); ``None`` if they were not found
    one per option (then the list is ranked afresh).
    """
    body, layout = stale.body, stale.layout
    rewrite = None
    if moved.objective is not None:
        rewrite = _rewrite(layout, moved.objective)
        if rewrite is None:
            return None
    index = folder.derived(_vacancy_index)
    # options: best first by (tier, points, answer), then the vacancy's place in the folder
    o_keep = ~moved.changed[layout.option_at]
    o_at = moved.new_at[layout.option_at]
    o_sorted = np.column_stack([layout.option_orders, o_at])[o_keep]
    o_new = sorted(((*order, index[vid]), b, flags) for vid, order, b, flags in part.options)
    o_pieces, o_spans, o_rows = _spliced_list(
        body,
        layout.option_spans,
        o_keep,
        [(_before(o_sorted, key), b) for key, b, _ in o_new],
        rewrite,
    )
    o_added = np.asarray([key for key, _, _ in o_new], dtype=np.int64).reshape(-1, 4)
    option_at = _column(o_rows, o_at, o_added[:, 3])
    option_orders = _column(o_rows, layout.option_orders, o_added[:, :3])
    option_flags = _column(
        o_rows,
        layout.option_flags,
        np.asarray([flags for _, _, flags in o_new], dtype=np.int64).reshape(-1, 2),
    )
    kept_points = layout.option_points if rewrite is None else rewrite.points(layout)
    option_points = _column(
        o_rows,
        kept_points,
        np.asarray([_part_points(b) for _, b, _ in o_new], dtype=np.int64).reshape(-1, 2),
    )
    # exclusions: in folder order
    e_keep = ~moved.changed[layout.exclusion_at]
    e_at = moved.new_at[layout.exclusion_at]
    e_places = e_at[e_keep]
    e_new = sorted((index[vid], rule, b) for vid, rule, b in part.exclusions)
    e_pieces, e_spans, e_rows = _spliced_list(
        body,
        layout.exclusion_spans,
        e_keep,
        [(int(np.searchsorted(e_places, at)), b) for at, _, b in e_new],
    )
    names = list(layout.rule_names)
    names += [rule for rule in dict.fromkeys(r for _, r, _ in e_new) if rule not in names]
    code = {name: k for k, name in enumerate(names)}
    exclusion_at = _column(e_rows, e_at, _ints(at for at, _, _ in e_new))
    exclusion_rules = _column(
        e_rows, layout.exclusion_rules, _ints(code[rule] for _, rule, _ in e_new)
    )
    counted = dict(layout.counts)
    gone = np.bincount(layout.exclusion_rules[~e_keep], minlength=len(layout.rule_names))
    for k in np.flatnonzero(gone).tolist():
        counted[names[k]] -= int(gone[k])
    for _, rule, _ in e_new:
        counted[rule] = counted.get(rule, 0) + 1
    counts = {r.name: counted[r.name] for r in rules if counted.get(r.name)}
    sources = {r.name: r.source for r in rules if r.name in counts}
    head = orjson.dumps({"child_id": child_id, "eligible": len(o_rows)})[:-1]
    head += b',"options":['
    middle = (
        b"],"
        + orjson.dumps({"excluded": counts, "excluded_sources": sources})[1:-1]
        + b',"exclusions":['
    )
    # one copy of the bytes: the pieces of both lists, commas between, joined at once
    parts: list[Any] = [head]
    for piece in o_pieces:
        parts += piece
        parts.append(b",")
    if o_pieces:
        parts.pop()
    listed = sum(map(len, parts)) - len(head)
    parts.append(middle)
    for piece in e_pieces:
        parts += piece
        parts.append(b",")
    if e_pieces:
        parts.pop()
    parts += (b"],", orjson.dumps(rest)[1:])
    out = b"".join(parts)
    o_at_body = len(head)
    e_at_body = o_at_body + listed + len(middle)
    option_spans = o_spans + o_at_body
    cuts = Cuts(
        tuple(option_spans[:, 0].tolist()),
        tuple(option_spans[:, 1].tolist()),
        o_at_body + listed,
    )
    return (
        out,
        cuts,
        Layout(
            folder,
            option_at,
            option_orders,
            option_flags,
            option_spans,
            exclusion_at,
            exclusion_rules,
            tuple(names),
            e_spans + e_at_body,
            counts,
            option_points,
        ),
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
        # the folders of the whole lists of the last few revisions (ids)
        self._generations: deque[set[int]] = deque(maxlen=STALE_REVISIONS)
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

    def peek_stale(self, revision: int, today: dt.date | None, question: Question) -> Stale | None:
        """What :meth:`stale` would give, left in place."""
        with self._lock:
            self._turn(revision, today)
            return self._stale.get(question)

    def stale(self, revision: int, today: dt.date | None, question: Question) -> Stale | None:
        """The whole list kept for ``question`` before the store moved to ``revision`` (or
        the date to ``today``), with its layout (taken: asked once), or ``None``. Never an
        answer as it is: the folder it was ranked on is in its layout, to be compared with
        the folder now."""
        with self._lock:
            self._turn(revision, today)
            found = self._stale.pop(question, None)
            if found is not None:
                self._bytes -= len(found.body)
            return found

    def stale_heads(
        self, revision: int, today: dt.date | None, wanted: Callable[[Question], bool]
    ) -> list[Question]:
        """One question per folder among the whole lists put aside (the first ``wanted``
        one kept for each): moving to ``(revision, today)`` first, as :meth:`stale` does.
        The lists of the last revision first, then those of older ones not asked for since
        (each spliced from its own folder). Asking each of them once works out each
        folder's change (:mod:`placematch.service.warm`)."""
        with self._lock:
            if not self._turn(revision, today):
                return []
            heads: dict[int, Question] = {}
            for generation in reversed(self._generations):
                for question, found in self._stale.items():
                    folder = id(found.layout.folder)
                    if folder in generation and folder not in heads and wanted(question):
                        heads[folder] = question
            return list(heads.values())

    def _turn(self, revision: int, today: dt.date | None) -> bool:
        """Move to ``(revision, today)`` if it is not older than the kept answers' (the
        whole lists kept so far put aside as stale); whether the kept answers are of it
        now. Called with the lock held."""
        if self._key == (revision, today):
            return True
        if self._key is not None and revision < self._key[0]:
            return False
        self._key = (revision, today)
        # the whole lists of this revision, and those of older ones not asked for
        # since (each is spliced from the folder it was ranked on)
        stale = dict(self._stale)
        stale.update(
            (q, Stale(b, self._layouts[q])) for q, b in self._bodies.items() if q in self._layouts
        )
        self._generations.append({id(x.folder) for x in self._layouts.values()})
        recent = set().union(*self._generations)
        self._stale = {q: x for q, x in stale.items() if id(x.layout.folder) in recent}
        self._bodies.clear()
        self._cuts.clear()
        self._layouts.clear()
        self._bytes = sum(len(x.body) for x in self._stale.values())
        return True

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
            if not self._turn(revision, today):
                return  # built on an older revision than the kept ones: not kept
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
