"""Every eligible (child, vacancy) pair of a case folder, scored and explained.

:func:`build_candidates` applies the hard rules (:mod:`matcher.rules`) to every pair of the
folder, vectorised, then scores the eligible pairs with every factor (:mod:`matcher.factors`)
and folds the statutory order into one integer per pair, ``objective_points``:

1. place as many children as possible (a child with no home is the worst outcome);
2. connected persons first (s22C(7)(a), when ``connected_person_tier``); then, when
   ``in_area_tier``, in-area placements;
3. the most points (the sum of the factors' points, ``score``).

``objective_points = placement_base + tier_points + score``, with integer bases chosen so
that the order is exact for the folder's size (:class:`Folding`): maximising the sum of
``objective_points`` under beds, one vacancy per child and sibling groups as units reaches
the lexicographic optimum. The bases depend only on the folder's counts and the policy's
bounds of each factor, never on which pairs are eligible, so one child's ranking
(:mod:`matcher.rank`) gives the same numbers without building the whole folder.

The rules, the scoring and the folding are :mod:`matcher.assess`'s (one assessment path for
candidates, rankings and explanations; :class:`Folding`, :func:`options_of` and the sign-off
helpers are re-exported here); the factors and rules are a
:class:`~matcher.scoring.Scoring` passed in, the folder's default when none is.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matcher.assess import (
    OBJECTIVE_LIMIT,
    SIGNOFF_ORDER,
    Assessment,
    Folding,
    PointsScaleError,
    assess,
    exclusion_of,
    factor_matrix,
    folding_for,
    group_members,
    options_of,
    scored,
    signoff_codes,
    signoff_flags,
)
from matcher.domain import FOSTERING_LIMIT, CaseFolder, Child, Vacancy
from matcher.explain import (
    Exclusion,
    FactorPoints,
    Option,
    Ranking,
    Signoff,
    WhyNot,
)
from matcher.factors.base import FolderArrays, Pairs
from matcher.scoring import Scoring
from matcher.vocabulary import Need

#: Sign-off codes in the order an option lists them (kept under its former name).
_SIGNOFF_ORDER = SIGNOFF_ORDER

__all__ = [
    "OBJECTIVE_LIMIT",
    "CandidateSet",
    "Exclusion",
    "FactorPoints",
    "Folding",
    "Option",
    "PointsScaleError",
    "Ranking",
    "Signoff",
    "WhyNot",
    "build_candidates",
    "exclusion_of",
    "explain_pair",
    "explain_pairs",
    "factor_matrix",
    "options_of",
    "rank_child",
    "signoff_codes",
    "signoff_flags",
    "why_not",
]


def explain_pair(
    folder: CaseFolder, child: Child, vacancy: Vacancy, scoring: Scoring | None = None
) -> Option | Exclusion:
    """One pair, assessed on its own (the per-option path): its Option or its Exclusion.

    Builds the arrays of just this child (with its siblings, for the group rule) and this
    vacancy, so it is independent of the batch in :func:`build_candidates`; the two must
    agree, and the tests check that they do.
    """
    return explain_pairs(folder, [(child, vacancy)], scoring)[0]


def explain_pairs(
    folder: CaseFolder,
    requests: Sequence[tuple[Child, Vacancy]],
    scoring: Scoring | None = None,
) -> list[Option | Exclusion]:
    """Many pairs at once, each as :func:`explain_pair` explains it alone, in order.

    The arrays hold only the children asked about (with their siblings, for the group rule)
    and the vacancies asked about, and the rules and factors run once over all the rows
    (one :func:`matcher.assess.assess`). No rule or factor of a row depends on the other
    rows except ``sibling_group_together``, which looks only at the rows of the same group
    and vacancy, and those are the rows :func:`explain_pair` would build: so each answer is
    the one-pair answer. A match of 6,000 children explains its assignments in one call
    (about 0.2 s) instead of 6,000 (each rebuilt the folder-wide arrays: 30 s on a pooled
    region).
    """
    if not requests:
        return []
    kid_index: dict[str, int] = {}
    vac_index: dict[str, int] = {}
    kids: list[Child] = []
    vacs: list[Vacancy] = []
    rows: dict[tuple[int, int], int] = {}
    asked: list[int] = []
    for child, vacancy in requests:
        j = vac_index.setdefault(vacancy.vacancy_id, len(vacs))
        if j == len(vacs):
            vacs.append(vacancy)
        for m, member in enumerate(group_members(folder, child)):
            i = kid_index.setdefault(member.child_id, len(kids))
            if i == len(kids):
                kids.append(member)
            row = rows.setdefault((i, j), len(rows))
            if m == 0:
                asked.append(row)
    arrays = FolderArrays.build(folder, kids, vacs)
    keys = np.asarray(list(rows), dtype=np.int64).reshape(-1, 2)
    pairs = Pairs(arrays, keys[:, 0], keys[:, 1])
    wanted = np.zeros(len(rows), dtype=bool)
    wanted[asked] = True
    a = assess(pairs, folding_for(folder, scoring), scoring, score_rows=wanted)
    explained = dict(
        zip(a.rows.tolist(), a.options(np.arange(len(a.rows), dtype=np.int64)), strict=True)
    )
    return [explained[r] if r in explained else a.exclusion(r) for r in asked]


@dataclass(frozen=True, eq=False)
class CandidateSet:
    """Every eligible (child, vacancy) pair of a folder, scored (vectorised).

    Pairs are ordered by child, then vacancy (both in the folder's id order), so the set does
    not depend on the order of the rows in the files.

    Attributes
    ----------
    folder : CaseFolder
    child_index, vacancy_index : numpy.ndarray of int32
        Indices into ``folder.children`` and ``folder.vacancies``.
    objective_points : numpy.ndarray of int64
        The folded objective coefficient of each pair (see :class:`Folding`).
    score : numpy.ndarray of int64
        The sum of the factors' points (the row sums of ``factor_points``).
    factor_names : tuple of str
    factor_points : numpy.ndarray of int64, shape (n_pairs, n_factors)
    distance_miles : numpy.ndarray of float64
        Miles from home (NaN without a home postcode).
    school_distance_miles : numpy.ndarray of float64
        Miles to the current school (NaN without one).
    in_area, adjoining, connected_person : numpy.ndarray of bool
    tier : numpy.ndarray of int64
        As :attr:`matcher.explain.Option.tier`.
    exclusive : numpy.ndarray of bool
        The child is ``solo_only``: if this pair is chosen, nobody outside the child's
        sibling group may be placed with the same provider.
    exclusion_counts : dict
        Rule name -> pairs it excluded (the first rule each breaks).
    folding : Folding
        The bases used for ``objective_points``.
    vacancy_provider : numpy.ndarray of int32
        Per vacancy: index into ``folder.providers``.
    provider_fostering_room : numpy.ndarray of int64
        Per provider: children it may still foster under the usual limit of three
        (``3 - fostered_now``, at least 0) for fostering providers, -1 for others. The hard
        rule checks each pair; a batch optimiser should keep the children placed across a
        provider's fostering vacancies within this room, unless they are one sibling group
        alone in the household (the siblings exception).
    screen : dict
        How the pairs were found (:meth:`matcher.screen.Screened.summary`): the policy's
        candidate radius, and how many pairs of the grid were never evaluated because of it.
    assessment : Assessment or None
        The assessment the pairs were scored in (row ``k`` is its eligible pair ``k``):
        :meth:`options` builds the chosen pairs' explanations from it, without assessing
        them again. ``None`` for a set put together otherwise (each pair then explained on
        its own, :func:`explain_pairs`).
    scoring : Scoring or None
        The factors and rules the pairs were scored with (``None``: the folder's own,
        :meth:`Scoring.for_folder`): :meth:`option` and :meth:`options` explain a pair under
        the same set, so a pair's explanation always adds up to its ``score``.
    """

    folder: CaseFolder
    child_index: npt.NDArray[np.int32]
    vacancy_index: npt.NDArray[np.int32]
    objective_points: npt.NDArray[np.int64]
    score: npt.NDArray[np.int64]
    factor_names: tuple[str, ...]
    factor_points: npt.NDArray[np.int64]
    distance_miles: npt.NDArray[np.float64]
    in_area: npt.NDArray[np.bool_]
    connected_person: npt.NDArray[np.bool_]
    exclusion_counts: dict[str, int]
    school_distance_miles: npt.NDArray[np.float64] = field(repr=False)
    adjoining: npt.NDArray[np.bool_] = field(repr=False)
    tier: npt.NDArray[np.int64] = field(repr=False)
    exclusive: npt.NDArray[np.bool_] = field(repr=False)
    folding: Folding = field(repr=False)
    vacancy_provider: npt.NDArray[np.int32] = field(repr=False)
    provider_fostering_room: npt.NDArray[np.int64] = field(repr=False)
    screen: dict[str, int | float] = field(default_factory=dict, repr=False)
    assessment: Assessment | None = field(default=None, repr=False, compare=False)
    scoring: Scoring | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.child_index)

    @property
    def n_pairs(self) -> int:
        """Eligible pairs."""
        return len(self.child_index)

    def option(self, k: int) -> Option:
        """Full explanation of pair ``k``, recomputed for this pair alone under the set the
        pairs were scored with (:attr:`scoring`)."""
        child = self.folder.children[int(self.child_index[k])]
        vacancy = self.folder.vacancies[int(self.vacancy_index[k])]
        found = explain_pair(self.folder, child, vacancy, self.scoring)
        if isinstance(found, Exclusion):  # pragma: no cover - the tests prove it cannot happen
            raise AssertionError(f"pair {k} is in the candidate set but {found.rule} excludes it")
        return found

    def rows_of(
        self, child_index: npt.ArrayLike, vacancy_index: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """Row of each (child, vacancy) pair, by folder indices; ``-1`` where not eligible.

        Vectorised: the pairs are sorted by child, then vacancy, so a binary search finds
        them (a dictionary of 5 million pairs took 3 s to build).
        """
        n_v = max(len(self.folder.vacancies), 1)
        keys = self.child_index.astype(np.int64) * n_v + self.vacancy_index
        want = np.asarray(child_index, dtype=np.int64) * n_v + np.asarray(
            vacancy_index, dtype=np.int64
        )
        order = None
        if len(keys) > 1 and not bool(np.all(keys[1:] > keys[:-1])):
            order = np.argsort(keys, kind="stable")
            keys = keys[order]
        at = np.searchsorted(keys, want)
        found = at < len(keys)
        found[found] = keys[at[found]] == want[found]
        if order is not None:
            at[found] = order[at[found]]
        return np.where(found, at, -1).astype(np.int64)

    def options(self, rows: Sequence[int]) -> list[Option]:
        """:meth:`option` of each pair in ``rows``: from the :attr:`assessment` the pairs
        were scored in (the same numbers and sentences), else explained in one batch."""
        if self.assessment is not None:
            return self.assessment.options(np.asarray(list(rows), dtype=np.int64))
        children, vacancies = self.folder.children, self.folder.vacancies
        found = explain_pairs(
            self.folder,
            [
                (children[int(self.child_index[k])], vacancies[int(self.vacancy_index[k])])
                for k in rows
            ],
            self.scoring,
        )
        return only_options(rows, found)

    def pairs_of(self, child_id: str) -> npt.NDArray[np.int64]:
        """Row numbers of the pairs of one child (``LookupError`` if the child is unknown)."""
        ids = [c.child_id for c in self.folder.children]
        try:
            i = ids.index(child_id)
        except ValueError:
            raise LookupError(f"child_id {child_id!r} is not in this case folder") from None
        return np.flatnonzero(self.child_index == i)

    def summary(self) -> dict[str, object]:
        """Counts for a one-screen overview (plain data)."""
        n_c = len(self.folder.children)
        with_any = len(np.unique(self.child_index))
        return {
            "children": n_c,
            "vacancies": len(self.folder.vacancies),
            "pairs_considered": int(
                self.screen.get("pairs_evaluated", n_c * len(self.folder.vacancies))
            ),
            "eligible_pairs": self.n_pairs,
            "children_with_an_eligible_vacancy": with_any,
            "children_without": n_c - with_any,
            "excluded_by_rule": dict(self.exclusion_counts),
            "placement_base": self.folding.placement_base,
            "connected_base": self.folding.connected_base,
            "in_area_base": self.folding.in_area_base,
            **({"candidate_cut": dict(self.screen)} if self.cut else {}),
        }

    @property
    def cut(self) -> bool:
        """Whether a candidate radius left pairs of the grid unevaluated (``screen``)."""
        return bool(self.screen.get("pairs_not_evaluated"))

    def to_csv(self, path: str | Path) -> Path:
        """Write every eligible pair: ids, ``points`` (the objective coefficient), the
        ``score``, tier and flags (``solo_only``: the pair is exclusive), distances, the
        vacancy's ``weekly_cost`` and one ``points_<factor>`` column per factor."""
        out = Path(path)
        children = self.folder.children
        vacancies = self.folder.vacancies
        with out.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(
                [
                    "child_id",
                    "vacancy_id",
                    "points",
                    "score",
                    "tier",
                    "connected_person",
                    "in_area",
                    "solo_only",
                    "distance_miles",
                    "school_distance_miles",
                    "weekly_cost",
                    *(f"points_{name}" for name in self.factor_names),
                ]
            )
            for k in range(self.n_pairs):
                d, s = float(self.distance_miles[k]), float(self.school_distance_miles[k])
                vacancy = vacancies[int(self.vacancy_index[k])]
                w.writerow(
                    [
                        children[int(self.child_index[k])].child_id,
                        vacancy.vacancy_id,
                        int(self.objective_points[k]),
                        int(self.score[k]),
                        int(self.tier[k]),
                        int(self.connected_person[k]),
                        int(self.in_area[k]),
                        int(self.exclusive[k]),
                        "" if d != d else f"{d:.1f}",
                        "" if s != s else f"{s:.1f}",
                        vacancy.weekly_cost,
                        *(int(x) for x in self.factor_points[k]),
                    ]
                )
        return out

    def model_paths(self, path: str | Path) -> dict[str, Path]:
        """Where :meth:`to_files` writes, beside the pairs ``path``: ``pairs`` itself,
        ``vacancies`` (``<stem>.vacancies.csv``) and ``sibling_groups``
        (``<stem>.sibling_groups.csv``). The stem keeps them from clobbering a case folder's
        own ``vacancies.csv``."""
        pairs = Path(path)
        return {
            "pairs": pairs,
            "vacancies": pairs.with_name(f"{pairs.stem}.vacancies.csv"),
            "sibling_groups": pairs.with_name(f"{pairs.stem}.sibling_groups.csv"),
        }

    def to_files(self, path: str | Path) -> dict[str, Path]:
        """Write the whole candidate model, re-solvable without the case folder.

        The pairs (:meth:`to_csv`), and beside them (:meth:`model_paths`):

        * the vacancies: ``vacancy_id``, ``provider_id`` (the household), ``placement_type``,
          ``fostering`` (1: the Children Act 1989 Sch. 7 limit of three counts it),
          ``beds``, ``fostered_now`` (children the provider fosters already) and
          ``weekly_cost``; every vacancy of the folder, eligible for anyone or not;
        * the sibling groups of two or more: ``sibling_group``, ``child_id`` and
          ``split_cost`` (blank: the group is a unit, placed whole in one vacancy or not at
          all; else the policy's ``sibling_split_cost``).

        ``docs/match.md`` states the model these files define.

        Returns
        -------
        dict of str to Path
            As :meth:`model_paths`.
        """
        paths = self.model_paths(path)
        self.to_csv(paths["pairs"])
        folder = self.folder
        with paths["vacancies"].open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(
                [
                    "vacancy_id",
                    "provider_id",
                    "placement_type",
                    "fostering",
                    "beds",
                    "fostered_now",
                    "weekly_cost",
                ]
            )
            for v in folder.vacancies:
                w.writerow(
                    [
                        v.vacancy_id,
                        v.provider_id,
                        v.placement_type.value,
                        int(v.is_fostering),
                        v.beds,
                        v.fostered_now,
                        v.weekly_cost,
                    ]
                )
        policy = folder.policy
        split_cost = str(policy.sibling_split_cost) if policy.allow_sibling_split else ""
        with paths["sibling_groups"].open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["sibling_group", "child_id", "split_cost"])
            for g in folder.sibling_groups:
                if g.size >= 2:
                    for c in g.child_ids:
                        w.writerow([g.sibling_group_id, c, split_cost])
        return paths


def only_options(rows: Sequence[int], found: Sequence[Option | Exclusion]) -> list[Option]:
    """The explanations of candidate pairs ``rows``, each an option: a candidate pair that a
    rule excludes is a bug, raised rather than shown."""
    out = []
    for k, one in zip(rows, found, strict=True):
        if isinstance(one, Exclusion):  # pragma: no cover - the tests prove it cannot happen
            raise AssertionError(f"pair {k} is in the candidate set but {one.rule} excludes it")
        out.append(one)
    return out


def build_candidates(folder: CaseFolder, scoring: Scoring | None = None) -> CandidateSet:
    """Apply the hard rules to every (child, vacancy) pair and score the eligible ones.

    Parameters
    ----------
    folder
        A loaded case folder (its policy gives the weights).
    scoring
        The factors and rules (default: the folder's, :meth:`Scoring.for_folder`).

    Returns
    -------
    CandidateSet

    Raises
    ------
    PointsScaleError
        If the folded objective would not fit in 64-bit integers.
    """
    from matcher.screen import screen_pairs

    folding = Folding.for_folder(folder) if scoring is None else folding_for(folder, scoring)
    scoring = Scoring.of(folder, scoring)
    arrays = FolderArrays.build(folder)
    screened = screen_pairs(arrays, rules=scoring.rules)
    counts = screened.counts
    pairs = Pairs(arrays, screened.ci, screened.vi)
    full = None if screened.cut else screened.child_counts
    assessment = scored(pairs, folding, counts, scoring, child_counts=full)
    points = assessment.points
    score = assessment.score
    connected = np.asarray(pairs.connected, dtype=bool)
    in_area = np.asarray(pairs.in_area, dtype=bool)
    providers = folder.providers
    room = np.asarray(
        [max(0, FOSTERING_LIMIT - p.fostered_now) if p.is_fostering else -1 for p in providers],
        dtype=np.int64,
    )
    return CandidateSet(
        folder=folder,
        child_index=pairs.ci.astype(np.int32),
        vacancy_index=pairs.vi.astype(np.int32),
        objective_points=folding.objective(score, connected, in_area),
        score=score,
        factor_names=scoring.factor_names,
        factor_points=points,
        distance_miles=pairs.home_miles,
        in_area=in_area,
        connected_person=connected,
        exclusion_counts=counts,
        school_distance_miles=pairs.school_miles,
        adjoining=np.asarray(pairs.adjoining, dtype=bool),
        tier=folding.tier(connected, in_area),
        exclusive=np.asarray(pairs.child_has(Need.SOLO_ONLY), dtype=bool),
        folding=folding,
        vacancy_provider=arrays.v_provider.astype(np.int32),
        provider_fostering_room=room,
        screen=screened.summary(),
        assessment=assessment,
        scoring=scoring,
    )


def rank_child(folder: CaseFolder, child_id: str, top: int | None = None) -> Ranking:
    """See :func:`matcher.rank.rank_child` (re-exported here as agreed)."""
    from matcher.rank import rank_child as _rank_child

    return _rank_child(folder, child_id, top)


def why_not(folder: CaseFolder, child_id: str, vacancy_id: str) -> WhyNot:
    """See :func:`matcher.rank.why_not` (re-exported here as agreed)."""
    from matcher.rank import why_not as _why_not

    return _why_not(folder, child_id, vacancy_id)
