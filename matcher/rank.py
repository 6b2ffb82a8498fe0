"""Ranked options for one child, and "why not this vacancy?".

:func:`rank_child` scores every vacancy for one child -- and, for the sibling-group rule, its
siblings -- against every vacancy: a few thousand pairs, never the whole folder and never an
optimisation of everyone. Options come best first: higher tier (a connected person first,
s22C(7)(a)), then more points, then vacancy id. Points and objective coefficients are the
same as :func:`matcher.candidates.build_candidates` gives for the same pairs.

:func:`why_not` answers with the first hard rule that excludes the vacancy (and any others
it breaks), or with the points the vacancy gains and loses against the best option.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from matcher.candidates import Folding, exclusion_of, factor_matrix, options_of
from matcher.domain import CaseFolder, Child
from matcher.explain import Exclusion, Option, Ranking, WhyNot
from matcher.factors.base import FolderArrays, Pairs
from matcher.rules import DEFAULT_RULES, GROUP_RULE, RuleResult, evaluate_rules

__all__ = ["UnknownIdError", "rank_child", "why_not"]


class UnknownIdError(LookupError):
    """A child or vacancy id that is not in the case folder."""


def _child(folder: CaseFolder, child_id: str) -> Child:
    try:
        return folder.child(child_id)
    except KeyError:
        raise UnknownIdError(
            f"child_id {child_id!r} is not in this case folder (children.csv)"
        ) from None


@dataclass(frozen=True, eq=False)
class _Assessment:
    """One child (row block 0) and its siblings against every vacancy."""

    pairs: Pairs
    result: RuleResult
    rows: npt.NDArray[np.int64]  # the child's pair rows, one per vacancy in folder order
    options: tuple[Option, ...]  # best first


def _assess(folder: CaseFolder, child: Child) -> _Assessment:
    members = [child]
    if child.sibling_group is not None and not folder.policy.allow_sibling_split:
        members += [folder.child(c) for c in folder.siblings_of(child.child_id)]
    arrays = FolderArrays.build(folder, members, None)
    n_v = arrays.n_vacancies
    ci = np.repeat(np.arange(len(members), dtype=np.int64), n_v)
    vi = np.tile(np.arange(n_v, dtype=np.int64), len(members))
    pairs = Pairs(arrays, ci, vi)
    result = evaluate_rules(pairs)
    rows = np.arange(n_v, dtype=np.int64)
    eligible = rows[result.eligible[rows]]
    mine = pairs.subset(np.isin(np.arange(len(pairs)), eligible))
    points = factor_matrix(mine)
    options = options_of(mine, np.arange(len(mine)), points, Folding.for_folder(folder))
    options.sort(key=lambda o: (-o.tier, -o.score, o.vacancy_id))
    return _Assessment(pairs, result, rows, tuple(options))


def _sibling_reason(a: _Assessment, j: int) -> str | None:
    """For ``sibling_group_together``: which sibling the vacancy is excluded for, and why.

    The assessment's rows are member-major (the child first, then its siblings), so sibling
    ``m``'s pair with vacancy ``j`` is row ``m * n_vacancies + j``.
    """
    n_v = len(a.rows)
    group_col = DEFAULT_RULES.index(GROUP_RULE)
    for row in range(n_v + j, len(a.pairs), n_v):
        first = int(a.result.first[row])
        if first >= 0 and first != group_col:
            rule = DEFAULT_RULES[first]
            why = rule.reason(a.pairs, row).rstrip(".")
            return (
                f"Excluded for the sibling {a.pairs.child_id(row)} by {rule.name} ({why}); "
                "the group is placed as a unit."
            )
    return None


def rank_child(folder: CaseFolder, child_id: str, top: int | None = None) -> Ranking:
    """Every eligible vacancy for one child, best first, and the exclusions.

    Parameters
    ----------
    folder
        The case folder.
    child_id
        The child.
    top
        Keep only the best ``top`` options (counts are over all vacancies).

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
    if top is not None and top < 0:
        raise ValueError(f"top: expected a whole number >= 0, got {top}")
    a = _assess(folder, _child(folder, child_id))
    excluded_rows = a.rows[~a.result.eligible[a.rows]]
    exclusions = tuple(exclusion_of(a.pairs, a.result, int(k)) for k in excluded_rows)
    first = a.result.first[a.rows]
    n = np.bincount(first[first >= 0], minlength=len(DEFAULT_RULES))
    counts = {r.name: int(n[i]) for i, r in enumerate(DEFAULT_RULES) if n[i]}
    sources = {r.name: r.source for r in DEFAULT_RULES if r.name in counts}
    options = a.options if top is None else a.options[:top]
    return Ranking(
        child_id=child_id,
        options=options,
        n_eligible=len(a.options),
        exclusions=exclusions,
        excluded=counts,
        sources=sources,
    )


def why_not(folder: CaseFolder, child_id: str, vacancy_id: str) -> WhyNot:
    """Why a vacancy is excluded for a child, or what it gains and loses against the best.

    Raises
    ------
    UnknownIdError
        (a ``LookupError``) if the child or the vacancy is not in the folder.
    """
    child = _child(folder, child_id)
    ids = [v.vacancy_id for v in folder.vacancies]
    try:
        j = ids.index(vacancy_id)
    except ValueError:
        raise UnknownIdError(
            f"vacancy_id {vacancy_id!r} is not in this case folder (vacancies.csv)"
        ) from None
    a = _assess(folder, child)
    k = int(a.rows[j])
    best = a.options[0] if a.options else None
    if a.result.first[k] >= 0:
        exclusion: Exclusion = exclusion_of(a.pairs, a.result, k)
        if exclusion.rule == GROUP_RULE.name:
            exclusion = replace(exclusion, reason=_sibling_reason(a, j) or exclusion.reason)
        broken = [DEFAULT_RULES[i].name for i in np.flatnonzero(a.result.broken[k]).tolist()]
        also = tuple(n for n in broken if n != exclusion.rule)
        return WhyNot(child_id, vacancy_id, exclusion, also, None, best, {}, {})
    option = next(o for o in a.options if o.vacancy_id == vacancy_id)
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
