"""Ranked options for one child, and "why not this vacancy?".

:func:`rank_child` scores every vacancy for one child -- and, for the sibling-group rule, its
siblings -- against every vacancy: a few thousand pairs, never the whole folder and never an
optimisation of everyone. Options come best first: higher tier (a connected person first,
s22C(7)(a)), then more points, then the provider's answer to the referral (an offer, then
one considering it, then no answer: ``responses.csv``), then vacancy id. Points and
objective coefficients are the
same as :func:`matcher.candidates.build_candidates` gives for the same pairs.

:func:`why_not` answers with the first hard rule that excludes the vacancy (and any others
it breaks), or with the points the vacancy gains and loses against the best option.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.assess import (
    SIGNOFF_ORDER,
    Assessment,
    FolderTables,
    Folding,
    assess_grid,
    folder_tables,
    group_members,
    signoff_flags,
)
from matcher.domain import CaseFolder, Child
from matcher.explain import Deferred, Exclusion, Option, Ranking, WhyNot
from matcher.factors.base import Pairs
from matcher.factors.base import VacancyArrays as VacancyArrays  # what the tables hold
from matcher.rules import GROUP_RULE, NotAvailableOnDate, RuleResult
from matcher.scoring import Scoring
from matcher.vocabulary import Response

__all__ = [
    "EMERGENCY_WITHIN_DAYS",
    "FolderChange",
    "SoonFree",
    "UnknownIdError",
    "declined",
    "folder_change",
    "option_order",
    "part_arrays",
    "rank_child",
    "ranking_data",
    "ranking_part",
    "ranking_parts",
    "refolded",
    "soon_free",
    "why_not",
]

#: Days ahead an emergency's ranking looks for vacancies that free up (``rank --within-days``
#: by default, and the officer's page): a bridging placement of a week or less, then a move.
EMERGENCY_WITHIN_DAYS = 7


class UnknownIdError(LookupError):
    """A child or vacancy id that is not in the case folder."""


def _child(folder: CaseFolder, child_id: str) -> Child:
    try:
        return folder.child(child_id)
    except KeyError:
        raise UnknownIdError(
            f"child_id {child_id!r} is not in this case folder (children.csv)"
        ) from None


#: What ranking needs of a folder whichever child is ranked, built once per folder
#: (:meth:`matcher.domain.CaseFolder.derived`): the vacancy arrays, the folding and the
#: vacancy index (:class:`matcher.assess.FolderTables`).
_FolderTables = FolderTables
_tables = folder_tables


@dataclass(frozen=True, eq=False)
class _Assessment:
    """One child (row block 0) and its siblings against every vacancy
    (:func:`matcher.assess.assess_grid`), with its eligible pairs best first;
    :class:`Option` objects are made only when asked for."""

    assessment: Assessment
    n_vacancies: int  # the child's pair with vacancy j is row j of pairs
    order: npt.NDArray[np.int64]  # rows of mine, best first

    @property
    def pairs(self) -> Pairs:
        """Every pair assessed: the child's, then each sibling's."""
        return self.assessment.pairs

    @property
    def result(self) -> RuleResult:
        """The rules' verdict on every pair."""
        assert self.assessment.result is not None
        return self.assessment.result

    @property
    def mine(self) -> Pairs:
        """The child's eligible pairs, in folder (vacancy id) order."""
        return self.assessment.eligible

    @property
    def points(self) -> npt.NDArray[np.int64]:
        """``len(mine) x factors``."""
        return self.assessment.points

    @property
    def folding(self) -> Folding:
        return self.assessment.folding

    def options(self, rows: npt.NDArray[np.int64]) -> tuple[Option, ...]:
        """The options of ``rows`` of :attr:`mine`, in that order."""
        return tuple(self.assessment.options(rows))


def _assess(folder: CaseFolder, child: Child, scoring: Scoring | None = None) -> _Assessment:
    members = group_members(folder, child)
    a = assess_grid(folder, members, scoring, score_children=1)
    mine = a.eligible
    score = a.score
    tier = a.folding.tier(mine.connected, mine.in_area)
    # best first: higher tier, then more points, then the provider's answer (an offer is
    # shown first among equals), then vacancy id (the folder's order)
    keys: tuple[npt.NDArray[np.int64], ...] = (mine.vi, -score, -tier)
    if folder.responses:
        keys = (mine.vi, _answer_order(folder, child, mine), -score, -tier)
    order = np.lexsort(keys).astype(np.int64)
    return _Assessment(a, len(folder.vacancies), order)


#: Sort key of each answer among options of equal tier and points: an offer first, then a
#: provider considering the referral, then no answer (a decline is excluded by a rule).
_ANSWER_ORDER = {Response.OFFER: 0, Response.CONSIDER: 1}
_NO_ANSWER = 2


def _answers(folder: CaseFolder) -> Mapping[str, tuple[tuple[int, int], ...]]:
    """Child id -> (vacancy index in the folder, sort key) of each offer or consideration."""
    index = folder.derived(_tables).vacancy_index
    out: dict[str, list[tuple[int, int]]] = {}
    for r in folder.responses:
        if r.response in _ANSWER_ORDER:
            out.setdefault(r.child_id, []).append((index[r.vacancy_id], _ANSWER_ORDER[r.response]))
    return MappingProxyType({c: tuple(v) for c, v in out.items()})


def _answer_order(folder: CaseFolder, child: Child, mine: Pairs) -> npt.NDArray[np.int64]:
    """Per eligible pair of ``child`` (in vacancy order): the sort key of its answer."""
    out = np.full(len(mine), _NO_ANSWER, dtype=np.int64)
    for j, key in folder.derived(_answers).get(child.child_id, ()):
        at = int(np.searchsorted(mine.vi, j))  # mine is in vacancy order
        if at < len(mine) and int(mine.vi[at]) == j:
            out[at] = key
    return out


def _sibling_reason(a: _Assessment, j: int) -> str | None:
    """For ``sibling_group_together``: which sibling the vacancy is excluded for, and why.

    The assessment's rows are member-major (the child first, then its siblings), so sibling
    ``m``'s pair with vacancy ``j`` is row ``m * n_vacancies + j``.
    """
    n_v = a.n_vacancies
    rules = a.result.rules
    group_col = rules.index(GROUP_RULE) if GROUP_RULE in rules else -1
    for row in range(n_v + j, len(a.pairs), n_v):
        first = int(a.result.first[row])
        if first >= 0 and first != group_col:
            rule = rules[first]
            why = rule.reason(a.pairs, row).rstrip(".")
            return (
                f"Excluded for the sibling {a.pairs.child_id(row)} by {rule.name} ({why}); "
                "the group is placed as a unit."
            )
    return None


def rank_child(
    folder: CaseFolder, child_id: str, top: int | None = None, *, scoring: Scoring | None = None
) -> Ranking:
    """Every eligible vacancy for one child, best first, and the exclusions.

    Parameters
    ----------
    folder
        The case folder.
    child_id
        The child.
    top
        Keep only the best ``top`` options (counts are over all vacancies).
    scoring
        The factors and rules (default: the folder's, :meth:`Scoring.for_folder`).

    Returns
    -------
    Ranking

    Raises
    ------
    UnknownIdError
        (a ``LookupError``) if the child is not in the folder.
    ValueError
        If ``top`` is negative.
    """
    a, first, counts = _ranked(folder, child_id, top, scoring)
    excluded_rows = np.flatnonzero(first >= 0).tolist()
    sources = {r.name: r.source for r in a.result.rules if r.name in counts}
    rows = a.order if top is None else a.order[:top]
    # The numbers are all worked out above; the Option and Exclusion objects (and their
    # sentences) are made when the caller reads them.
    return Ranking(
        child_id,
        Deferred(a.options, rows),
        len(a.order),
        Deferred(_exclusions, a, excluded_rows),
        counts,
        sources,
    )


def _ranked(
    folder: CaseFolder, child_id: str, top: int | None, scoring: Scoring | None = None
) -> tuple[_Assessment, npt.NDArray[np.int64], dict[str, int]]:
    """What :func:`rank_child` and :func:`ranking_data` both start from: the child's
    assessment, the first rule each vacancy breaks (-1 if none) and the count per rule
    (kept by the assessment, not counted again)."""
    if top is not None and top < 0:
        raise ValueError(f"top: expected a whole number >= 0, got {top}")
    a = _assess(folder, _child(folder, child_id), scoring)
    first = a.result.first[: a.n_vacancies]
    return a, first, dict(a.assessment.counts)


def ranking_data(
    folder: CaseFolder, child_id: str, top: int | None = None, *, scoring: Scoring | None = None
) -> dict[str, Any]:
    """``rank_child(folder, child_id, top).to_dict()``, without making its objects.

    The same keys, numbers and sentences, in the same order (a test checks it for every
    child of several folders); what the service sends for a ranking. :func:`rank_child`
    makes an :class:`Option` with a :class:`FactorPoints` per factor and an
    :class:`Exclusion` per excluded vacancy, each sentence deferred: a county's whole
    list is some 1,500 objects, most of the cost of an answer written out as JSON at once.
    Here each sentence is made straight into the answer by its factor or rule.

    Raises
    ------
    UnknownIdError
        (a ``LookupError``) if the child is not in the folder.
    ValueError
        If ``top`` is negative.
    """
    a, first, counts = _ranked(folder, child_id, top, scoring)
    rows = a.order if top is None else a.order[:top]
    rules = a.result.rules
    return {
        "child_id": child_id,
        "eligible": len(a.order),
        "options": _option_data(a, rows),
        "excluded": counts,
        "excluded_sources": {r.name: r.source for r in rules if r.name in counts},
        "exclusions": _exclusion_data(folder, a, first),
    }


def _vacancy_sentences(folder: CaseFolder) -> dict[tuple[str, str], str]:
    """The folder's sentences of the rules whose sentence depends only on the vacancy
    (``reason_of_vacancy``), by rule and vacancy id, filled as the rankings need them."""
    return {}


def _exclusion_data(
    folder: CaseFolder, a: _Assessment, first: npt.NDArray[np.int64]
) -> list[dict[str, str]]:
    """:meth:`Exclusion.to_dict` of each vacancy excluded for the child, in folder order.

    A county's child is excluded from most of its vacancies, mostly by the placement type
    or the age range, whose sentences name only the vacancy's type or range: those are made
    once per folder (:func:`_vacancy_sentences`), not once per child.
    """
    pairs = a.pairs
    rules = a.result.rules
    kept = folder.derived(_vacancy_sentences)
    by_vacancy = [bool(getattr(r, "reason_of_vacancy", False)) for r in rules]
    vacancies = pairs.arrays.vacancies
    excluded = np.flatnonzero(first >= 0)
    out = []
    for k, at, j in zip(
        excluded.tolist(), first[excluded].tolist(), pairs.vi[excluded].tolist(), strict=True
    ):
        rule = rules[at]
        vacancy_id = vacancies[j].vacancy_id
        if by_vacancy[at]:
            key = (type(rule).__name__, vacancy_id)
            reason = kept.get(key)
            if reason is None:
                reason = kept[key] = rule.reason(pairs, k)
        else:
            reason = rule.reason(pairs, k)
        out.append({"vacancy_id": vacancy_id, "rule": rule.name, "reason": reason})
    return out


def _miles(value: float) -> float | None:
    """As :meth:`Option.to_dict` gives a distance: ``None`` for NaN, else to 0.1 mile."""
    return None if value != value else round(float(value), 1)


def _option_data(a: _Assessment, rows: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
    """:meth:`Option.to_dict` of the options of ``rows`` (of :attr:`_Assessment.mine`), as
    :func:`matcher.candidates.options_of` would make them, in that order."""
    mine = a.mine
    folder = mine.arrays.folder
    factors = a.assessment.scoring.factors
    names = [f.name for f in factors]
    # as FactorPoints.reference gives them: each factor's own
    references = {f.name: f.reference for f in factors}
    pts = a.points[rows]
    score = pts.sum(axis=1, dtype=np.int64)
    cp = np.asarray(mine.connected, dtype=bool)[rows]
    ia = np.asarray(mine.in_area, dtype=bool)[rows]
    tier = a.folding.tier(cp, ia).tolist()
    objective = a.folding.objective(score, cp, ia).tolist()
    home = mine.home_miles[rows].tolist()
    school = mine.school_miles[rows].tolist()
    adjoining = np.asarray(mine.adjoining, dtype=bool)[rows].tolist()
    flags = signoff_flags(mine)[rows].tolist()
    vacancies = mine.arrays.vacancies
    children = mine.arrays.children  # one child's own pairs, or a grid's (ranking_parts)
    child_of = mine.ci[rows].tolist()
    vi = mine.vi[rows].tolist()
    ks = rows.tolist()
    # The sentences a factor at a time (one loop per factor, not a comprehension per option:
    # a third of the options' time went on the comprehensions themselves).
    sentences = list(
        zip(
            *(
                [f.reason(mine, k, p) for k, p in zip(ks, column, strict=True)]
                for f, column in zip(factors, pts.T.tolist(), strict=True)
            ),
            strict=True,
        )
    ) or [()] * len(ks)
    cp_list = cp.tolist()
    ia_list = ia.tolist()
    signoffs: dict[tuple[bool, ...], list[str]] = {}
    out = []
    for r, row in enumerate(pts.tolist()):
        vacancy = vacancies[vi[r]]
        answer = (
            folder.response(children[child_of[r]].child_id, vacancy.vacancy_id)
            if folder.responses
            else None
        )
        flagged = tuple(flags[r])
        shown = signoffs.get(flagged)
        if shown is None:
            shown = signoffs[flagged] = [
                c for c, on in zip(SIGNOFF_ORDER, flagged, strict=True) if on
            ]
        out.append(
            {
                "vacancy_id": vacancy.vacancy_id,
                "placement_type": vacancy.placement_type.value,
                "points": sum(row),
                "tier": tier[r],
                "connected_person": cp_list[r],
                "objective_points": objective[r],
                "factors": dict(zip(names, row, strict=True)),
                "reasons": dict(zip(names, sentences[r], strict=True)),
                "references": dict(references),
                "distance_miles": _miles(home[r]),
                "school_distance_miles": _miles(school[r]),
                "in_area": ia_list[r],
                "adjoining": adjoining[r],
                "signoffs": list(shown),
                "response": None if answer is None else answer.response.value,
                "response_reason": None
                if answer is None or answer.reason is None
                else answer.reason.value,
            }
        )
    return out


def _exclusions(a: _Assessment, rows: list[int]) -> tuple[Exclusion, ...]:
    return tuple([a.assessment.exclusion(k) for k in rows])


def why_not(
    folder: CaseFolder, child_id: str, vacancy_id: str, *, scoring: Scoring | None = None
) -> WhyNot:
    """Why a vacancy is excluded for a child, or what it gains and loses against the best
    (``scoring``: the factors and rules, default the folder's).

    Raises
    ------
    UnknownIdError
        (a ``LookupError``) if the child or the vacancy is not in the folder.
    """
    child = _child(folder, child_id)
    j = folder.derived(_tables).vacancy_index.get(vacancy_id)
    if j is None:
        raise UnknownIdError(
            f"vacancy_id {vacancy_id!r} is not in this case folder (vacancies.csv)"
        )
    a = _assess(folder, child, scoring)
    best = a.options(a.order[:1])[0] if len(a.order) else None
    if a.result.first[j] >= 0:
        exclusion: Exclusion = a.assessment.exclusion(j)
        if exclusion.rule == GROUP_RULE.name:
            sibling = _sibling_reason(a, j)
            if sibling is not None:
                exclusion = Exclusion(
                    exclusion.child_id, vacancy_id, exclusion.rule, exclusion.source, sibling
                )
        rules = a.result.rules
        broken = [rules[i].name for i in np.flatnonzero(a.result.broken[j]).tolist()]
        also = tuple(n for n in broken if n != exclusion.rule)
        return WhyNot(child_id, vacancy_id, exclusion, also, None, best, {}, {})
    r = int(np.searchsorted(a.mine.vi, j))  # mine is in vacancy order
    option = a.options(np.asarray([r], dtype=np.int64))[0]
    gains: dict[str, int] = {}
    losses: dict[str, int] = {}
    if best is not None:
        for mine, theirs in zip(option.factors, best.factors, strict=True):
            diff = mine.points - theirs.points
            if diff > 0:
                gains[mine.factor] = diff
            elif diff < 0:
                losses[mine.factor] = diff
    return WhyNot(child_id, vacancy_id, None, (), option, best, gains, losses)


def declined(folder: CaseFolder, child_id: str) -> list[dict[str, str | None]]:
    """The child's referrals declined by providers (the ``declined`` key of a ranking's JSON).

    Each: ``vacancy_id``, ``provider_id`` and ``reason`` (the reason code, ``None`` when none
    was given), in the folder's order of answers. Each of these vacancies is also among the
    ranking's exclusions, by ``declined_by_provider`` (or an earlier rule).
    """
    return [
        {
            "vacancy_id": r.vacancy_id,
            "provider_id": folder.vacancy(r.vacancy_id).provider_id,
            "reason": None if r.reason is None else r.reason.value,
        }
        for r in folder.responses
        if r.child_id == child_id and r.declined
    ]


@dataclass(frozen=True, slots=True)
class SoonFree:
    """A vacancy excluded for a child only because it is not free yet on the child's date,
    but free within the days asked about (``rank --within-days``)."""

    vacancy_id: str
    placement_type: str
    available_from: dt.date
    available_until: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        until = self.available_until
        return {
            "vacancy_id": self.vacancy_id,
            "placement_type": self.placement_type,
            "available_from": self.available_from.isoformat(),
            "available_until": None if until is None else until.isoformat(),
        }


def soon_free(
    folder: CaseFolder, child_id: str, days: int, *, scoring: Scoring | None = None
) -> tuple[dt.date | None, tuple[SoonFree, ...]]:
    """The child's date and the vacancies that free within ``days`` of it, soonest first.

    A vacancy counts when, for the child and (placed as a unit) each sibling, the only hard
    rules it breaks are :class:`~matcher.rules.NotAvailableOnDate` (and the sibling-group
    rule that follows from it), and its ``available_from`` is within ``days`` days after
    the child's date: it would be offered from that day, so a short bridging placement now
    followed by a planned move to it is possible. One assessment of the child, vectorised
    over its pairs.

    Raises
    ------
    UnknownIdError
        (a ``LookupError``) if the child is not in the folder.
    """
    child = _child(folder, child_id)
    day = folder.date_of(child)
    if day is None or days <= 0:
        return day, ()
    last = day + dt.timedelta(days=days)
    a = _assess(folder, child, scoring)
    n_v = a.n_vacancies
    rules = a.result.rules
    names = [r.name for r in rules]
    if NotAvailableOnDate.name not in names:
        return day, ()
    date_col = names.index(NotAvailableOnDate.name)
    others = np.ones(len(rules), dtype=bool)
    others[date_col] = False
    if GROUP_RULE in rules:
        others[rules.index(GROUP_RULE)] = False
    # rows are member-major: member m's pair with vacancy j is row m * n_v + j
    broken = a.result.broken.reshape(-1, n_v, len(rules))
    only_date = ~broken[:, :, others].any(axis=(0, 2)) & broken[:, :, date_col].any(axis=0)
    found = []
    for j in np.flatnonzero(only_date).tolist():
        v = folder.vacancies[j]
        start = v.available_from
        if start is not None and day < start <= last:
            found.append(SoonFree(v.vacancy_id, v.placement_type.value, start, v.available_until))
    found.sort(key=lambda f: (f.available_from, f.vacancy_id))
    return day, tuple(found)


@dataclass(frozen=True, slots=True)
class FolderChange:
    """What differs between two case folders, for rankings kept from the first
    (:func:`folder_change`).

    A ranking of a child of ``children`` must be made afresh. Any other child's ranking in
    the new folder is its ranking in the old one with the pairs of ``vacancies`` assessed
    again (:func:`ranking_part`): every other pair is the same pair, through the same rules
    and factors, on the same folded objective.
    """

    vacancies: frozenset[str]  # ids whose pairs may differ (changed, added, removed)
    children: frozenset[str]  # ids whose rankings may differ in any way
    #: The new folded objective's bases ``(placement_base, connected_base, in_area_base)``
    #: when they moved (a child more or fewer, a bed more or fewer, a connected person),
    #: else ``None``. They never change the order of a ranking (its tiers and points, then
    #: the answer and the folder's order), only each option's ``objective_points``, which
    #: is then :func:`refolded` from its points and tier flags.
    objective: tuple[int, int, int] | None = None


def refolded(option: Mapping[str, Any], objective: tuple[int, int, int]) -> int:
    """An option's ``objective_points`` under the bases ``objective`` of
    :attr:`FolderChange.objective` (as :meth:`~matcher.assess.Folding.objective` makes
    it): ``placement_base + connected_person * connected_base + in_area * in_area_base +
    points``."""
    placement, connected, in_area = objective
    return (
        placement
        + int(option["connected_person"]) * connected
        + int(option["in_area"]) * in_area
        + int(option["points"])
    )


def _same_items(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def folder_change(old: CaseFolder, new: CaseFolder) -> FolderChange | None:
    """What differs from ``old`` to ``new`` for the rankings of one child
    (:class:`FolderChange`), or ``None`` when every ranking must be made afresh.

    Rankings depend on the whole folder only through its policy and dates, its scoring set,
    its folded objective (:class:`~matcher.assess.Folding`: the beds, the children and the
    connected persons of the whole folder), the numbering of its authorities, providers and
    sibling groups, a provider's vacancies taken together (its beds, its youngest age) and
    the providers' recorded answers; a child's ranking also on its siblings (assessed with
    it). ``None`` when any of the folder-wide ones differ, except the folded objective's
    bases alone (:attr:`FolderChange.objective`: a decision, a withdrawal, a child added or
    placed, a bed more or fewer change them and nothing else folder-wide). Otherwise the
    vacancies that differ (and every vacancy of a provider whose vacancies differ), and the
    children that differ, whose answers differ, or who share a sibling group with one of
    those.
    """
    if old is new:
        return FolderChange(frozenset(), frozenset())
    if (
        old.policy != new.policy
        or old.on != new.on
        or old.today != new.today
        or old.residents != new.residents
        or old.sibling_groups != new.sibling_groups
        or [p.provider_id for p in old.providers] != [p.provider_id for p in new.providers]
    ):
        return None
    before, after = Scoring.for_folder(old), Scoring.for_folder(new)
    if not (_same_items(before.factors, after.factors) and _same_items(before.rules, after.rules)):
        return None
    objective = None
    before_f, after_f = old.derived(_folding), new.derived(_folding)
    if before_f != after_f:
        # The bases keep the statutory order lexicographic whatever their size, and the
        # tiers depend only on which of them are on (the policy's): the order of every
        # ranking and its exclusions are the same, its objective points are not.
        same_scale = (before_f.score_min, before_f.score_max) == (
            after_f.score_min,
            after_f.score_max,
        )
        same_tiers = (before_f.connected_base > 0, before_f.in_area_base > 0) == (
            after_f.connected_base > 0,
            after_f.in_area_base > 0,
        )
        if not (same_scale and same_tiers):
            return None
        objective = (after_f.placement_base, after_f.connected_base, after_f.in_area_base)
    if old.derived(_authority_numbers) != new.derived(_authority_numbers):
        return None
    # children: any that differ, or are only in one of the two
    old_children = {c.child_id: c for c in old.children}
    new_children = {c.child_id: c for c in new.children}
    changed = {i for i in old_children.keys() ^ new_children.keys()}
    changed |= {i for i, c in new_children.items() if i in old_children and old_children[i] != c}
    # the providers' answers: the children they name
    answers = set(old.responses) ^ set(new.responses)
    changed |= {r.child_id for r in answers}
    # and those placed with them as a unit (the sibling-group rule assesses them together)
    for folder, by_id in ((old, old_children), (new, new_children)):
        for cid in list(changed):
            child = by_id.get(cid)
            if child is not None and child.sibling_group is not None:
                changed.update(folder.sibling_group(child.sibling_group).child_ids)
    # vacancies: any that differ, or are only in one, and the rest of their providers'
    old_vacancies = {v.vacancy_id: v for v in old.vacancies}
    new_vacancies = {v.vacancy_id: v for v in new.vacancies}
    differ = old_vacancies.keys() ^ new_vacancies.keys()
    differ |= {i for i, v in new_vacancies.items() if i in old_vacancies and old_vacancies[i] != v}
    providers = {
        v.provider_id for i in differ for v in (old_vacancies.get(i), new_vacancies.get(i)) if v
    }
    for folder in (old, new):
        for p in providers:
            try:
                differ.update(v.vacancy_id for v in folder.provider(p).vacancies)
            except KeyError:
                continue
    return FolderChange(frozenset(differ), frozenset(changed), objective)


def _folding(folder: CaseFolder) -> Any:
    from matcher.assess import default_folding

    return default_folding(folder)


def _authority_numbers(folder: CaseFolder) -> Any:
    from matcher.rules import _authority_numbers as numbers

    return folder.derived(numbers)


def part_arrays(folder: CaseFolder, vacancy_ids: Collection[str]) -> VacancyArrays | None:
    """The arrays of the folder's vacancies among ``vacancy_ids`` (in folder order; ids not
    in the folder left out) for :func:`ranking_part`, or ``None`` if there are none: built
    once for every child ranked on them."""
    wanted = set(vacancy_ids)
    vacancies = tuple(v for v in folder.vacancies if v.vacancy_id in wanted)
    return VacancyArrays.build(folder, vacancies) if vacancies else None


def ranking_part(
    folder: CaseFolder, child_id: str, vacancies: VacancyArrays | None
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The options and exclusions of :func:`ranking_data` among ``vacancies`` only (of the
    folder, :func:`part_arrays`; ``None``: none), each as :func:`ranking_data` writes it, in
    folder order: the child (and its siblings) assessed against those vacancies alone, with
    the whole folder's context (its folded objective, providers and sentences).

    Raises
    ------
    UnknownIdError
        (a ``LookupError``) if the child is not in the folder.
    """
    from matcher.assess import assess
    from matcher.factors.base import FolderArrays

    child = _child(folder, child_id)
    if vacancies is None:
        return [], []
    members = group_members(folder, child)
    tables = folder.derived(_tables)
    arrays = FolderArrays.build(folder, members, vacancy_arrays=vacancies)
    n_v = arrays.n_vacancies
    ci = np.repeat(np.arange(len(members), dtype=np.int64), n_v)
    vi = np.tile(np.arange(n_v, dtype=np.int64), len(members))
    rows = np.zeros(len(ci), dtype=bool)
    rows[:n_v] = True
    a = _Assessment(
        assess(Pairs(arrays, ci, vi), tables.folding, None, score_rows=rows),
        n_v,
        np.arange(0, dtype=np.int64),
    )
    mine = np.arange(len(a.mine), dtype=np.int64)
    return _option_data(a, mine), _exclusion_data(folder, a, a.result.first[:n_v])


def ranking_parts(
    folder: CaseFolder, vacancies: VacancyArrays | None
) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, str]]]]:
    """:func:`ranking_part` of every child of the folder, from one assessment of all of
    them against ``vacancies`` (:func:`part_arrays`; ``None``: none): child id -> its
    options and exclusions among those vacancies, in folder order.

    One grid of every child against the vacancies holds every sibling of each child (each
    group whole), and no rule of a pair depends on the other rows except the sibling-group
    rule, which looks only at the rows of the same group and vacancy: each child's rows are
    what assessing it with its siblings alone gives.
    """
    from matcher.assess import assess
    from matcher.factors.base import FolderArrays

    out: dict[str, tuple[list[dict[str, Any]], list[dict[str, str]]]] = {
        c.child_id: ([], []) for c in folder.children
    }
    if vacancies is None or not folder.children:
        return out
    children = folder.children
    tables = folder.derived(_tables)
    arrays = FolderArrays.build(folder, children, vacancy_arrays=vacancies)
    n_v = arrays.n_vacancies
    ci = np.repeat(np.arange(len(children), dtype=np.int64), n_v)
    vi = np.tile(np.arange(n_v, dtype=np.int64), len(children))
    a = _Assessment(
        assess(Pairs(arrays, ci, vi), tables.folding, None),
        n_v,
        np.arange(0, dtype=np.int64),
    )
    eligible = np.arange(len(a.mine), dtype=np.int64)
    for child, option in zip(a.mine.ci.tolist(), _option_data(a, eligible), strict=True):
        out[children[child].child_id][0].append(option)
    first = a.result.first
    excluded = np.flatnonzero(first >= 0)
    for row, exclusion in zip(excluded.tolist(), _exclusion_data(folder, a, first), strict=True):
        out[children[row // n_v].child_id][1].append(exclusion)
    return out


def option_order(option: Mapping[str, Any]) -> tuple[int, int, int]:
    """The first three keys an option of :func:`ranking_data` is ordered by (its tier,
    then its points, both higher first, then the provider's answer: an offer first, then
    one considering it, then none); the fourth is the vacancy's place in the folder."""
    answer = option.get("response")
    order = _NO_ANSWER if answer is None else _ANSWER_ORDER.get(Response(answer), _NO_ANSWER)
    return (-int(option["tier"]), -int(option["points"]), order)
