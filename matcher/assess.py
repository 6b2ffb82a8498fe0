"""One assessment of (child, vacancy) pairs: the hard rules, then the points, computed once.

Every answer about pairs starts here: the whole folder's candidates
(:func:`matcher.candidates.build_candidates`), one child's ranking and "why not"
(:mod:`matcher.rank`), a batch of pairs explained on their own
(:func:`matcher.candidates.explain_pairs`) and the batch match's extraction and unplaced
reasons (:mod:`matcher.match`). An :class:`Assessment` holds the pairs, the rule results
(which rule, if any, excludes each) and the points of each factor for the eligible ones, all
computed vectorised; :class:`~matcher.explain.Option` and :class:`~matcher.explain.Exclusion`
objects are made from it only for the rows asked for, and their sentences only when read.

What is scored and what excludes is a :class:`~matcher.scoring.Scoring` passed in (the
folder's default when none). The folded objective (:class:`Folding`) turns a pair's points,
tier and the placement base into one integer, so that maximising the sum of the chosen
pairs' coefficients is the statutory order.

The solver-independent validator (:mod:`matcher.validate_result`) does not use an
assessment of the match's own: it asks :func:`matcher.candidates.explain_pairs`, which
builds fresh arrays of just the pairs it checks.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from matcher.domain import CaseFolder, Child
from matcher.explain import Deferred, Exclusion, FactorPoints, Option, Signoff
from matcher.factors import factors_for
from matcher.factors.base import Factor, FolderArrays, Pairs, VacancyArrays
from matcher.placement_types import PlacementType
from matcher.rules import RuleResult, evaluate_rules, rule_counts
from matcher.scoring import Scoring

__all__ = [
    "OBJECTIVE_LIMIT",
    "SIGNOFF_ORDER",
    "Assessment",
    "FolderTables",
    "Folding",
    "PointsScaleError",
    "assess",
    "assess_grid",
    "exclusion_counts",
    "exclusion_of",
    "factor_matrix",
    "folder_tables",
    "folding_for",
    "group_members",
    "options_of",
    "scored",
    "signoff_codes",
    "signoff_flags",
]

#: The largest sum of objective points, times the sibling groups' scale (the least common
#: multiple of their sizes), that the optimiser holds exactly (its flow works in int64; see
#: ``matcher.optimiser.problem.MAX_OBJECTIVE``). Above it we warn.
OBJECTIVE_LIMIT = 2**61
_INT64_LIMIT = 2**62


class PointsScaleError(ValueError):
    """The folded objective would not fit in 64-bit integers; use smaller weights."""


@dataclass(frozen=True, slots=True)
class Folding:
    """The integer bases that fold the statutory order into one objective coefficient.

    With ``S = score_max - score_min`` (policy bounds of the factors), ``n`` the children that
    can be placed at once (``min(children, beds)``), ``n_cp`` those with a connected-person
    carer, ``n_ia`` those that could be placed in area (``n`` when ``in_area_tier``, else 0) and
    ``D = n * S + split`` (``split``: the most sibling-split penalties any solution can pay,
    ``sibling_split_cost`` times the children in sibling groups, when splits are allowed):

    * ``in_area_base = D + 1`` (0 when not a tier);
    * ``connected_base = n_ia * in_area_base + D + 1`` (0 when not a tier);
    * ``placement_base = n_cp * connected_base + n_ia * in_area_base + D + max(0, -score_min) + 1``.

    Then one more child placed outweighs any change in tiers and scores, one more connected
    person outweighs any change in in-area placements and scores, and so on; every
    coefficient is positive.

    Attributes
    ----------
    placement_base, connected_base, in_area_base : int
    score_min, score_max : int
        Fewest and most points a pair can score under the policy.
    n_placeable : int
    """

    placement_base: int
    connected_base: int
    in_area_base: int
    score_min: int
    score_max: int
    n_placeable: int

    @classmethod
    def for_folder(cls, folder: CaseFolder, factors: Sequence[Factor] | None = None) -> Folding:
        """The bases for ``folder`` under its policy (``factors``: default
        :func:`~matcher.factors.factors_for` the folder).

        Raises
        ------
        PointsScaleError
            If the largest possible objective would not fit in a signed 64-bit integer.
        """
        policy = folder.policy
        if factors is None:
            factors = factors_for(folder)
        lo = sum(f.bounds(policy)[0] for f in factors)
        hi = sum(f.bounds(policy)[1] for f in factors)
        beds = sum(v.beds for v in folder.vacancies)
        n = min(len(folder.children), beds)
        connected = {c for v in folder.vacancies for c in v.connected_to}
        n_cp = min(n, len(connected)) if policy.connected_person_tier else 0
        n_ia = n if policy.in_area_tier else 0
        split = 0
        if policy.allow_sibling_split:
            split = policy.sibling_split_cost * sum(g.size for g in folder.sibling_groups)
        d = n * (hi - lo) + split
        in_area_base = d + 1 if policy.in_area_tier else 0
        connected_base = n_ia * in_area_base + d + 1 if policy.connected_person_tier else 0
        placement_base = n_cp * connected_base + n_ia * in_area_base + d + max(0, -lo) + 1
        top = placement_base + connected_base + in_area_base + hi
        total = max(n, 1) * top
        if total >= _INT64_LIMIT:
            raise PointsScaleError(
                f"the folded objective of {n} children would reach about {total:.3g}, beyond "
                "64-bit integers; lower the weights in policy.toml or set in_area_tier = false"
            )
        scale = math.lcm(1, *(g.size for g in folder.sibling_groups))
        if total * scale > OBJECTIVE_LIMIT:
            warnings.warn(
                f"the folded objective of {n} children may reach {total:.3g} (times {scale} "
                "for the sibling groups), above 2**61: the optimiser cannot hold it exactly; "
                "lower the weights in policy.toml, set in_area_tier = false, or pool fewer "
                "children in one folder (the level bases grow with the children pooled)",
                RuntimeWarning,
                stacklevel=2,
            )
        return cls(placement_base, connected_base, in_area_base, lo, hi, n)

    def tier(self, connected: npt.ArrayLike, in_area: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """The tier number of pairs: ``2*cp + ia`` with an in-area tier, else ``cp`` (0 off)."""
        cp = np.asarray(connected, dtype=np.int64) * (self.connected_base > 0)
        ia = np.asarray(in_area, dtype=np.int64) * (self.in_area_base > 0)
        return np.asarray(2 * cp + ia if self.in_area_base > 0 else cp, dtype=np.int64)

    def objective(
        self, score: npt.ArrayLike, connected: npt.ArrayLike, in_area: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """``placement_base + connected * connected_base + in_area * in_area_base + score``."""
        return np.asarray(
            self.placement_base
            + np.asarray(connected, dtype=np.int64) * self.connected_base
            + np.asarray(in_area, dtype=np.int64) * self.in_area_base
            + np.asarray(score, dtype=np.int64),
            dtype=np.int64,
        )


#: Sign-off codes in the order an option lists them (the columns of :func:`signoff_flags`).
SIGNOFF_ORDER = (
    "out_of_area",
    "not_adjoining",
    "ks4_school_move",
    "fostering_limit_exemption",
    "connected_person_temporary_approval",
)
#: One shared, immutable :class:`Signoff` per code.
_SIGNOFFS = {code: Signoff.of(code) for code in SIGNOFF_ORDER}


def signoff_flags(pairs: Pairs) -> npt.NDArray[np.bool_]:
    """Which sign-offs every pair would trigger, vectorised: ``len(pairs) x 5``, one column
    per code in the order :func:`signoff_codes` lists them (the same tests)."""
    miles = pairs.school_miles
    with np.errstate(invalid="ignore"):
        far = ~np.isnan(miles) & (miles > pairs.policy.distance_step_miles)
    return np.column_stack(
        [
            ~pairs.in_area,
            ~pairs.in_area & ~pairs.adjoining,
            pairs.key_stage_4 & far,
            pairs.over_fostering_limit,
            pairs.vacancy_is(PlacementType.CONNECTED_PERSON_FOSTER),
        ]
    ).reshape(len(pairs), len(SIGNOFF_ORDER))


def signoff_codes(pairs: Pairs, k: int) -> tuple[str, ...]:
    """The sign-off codes pair ``k`` would trigger (see :data:`matcher.explain.SIGNOFF_CODES`).

    ``ks4_school_move``: a Key Stage 4 child placed more than ``distance_step_miles`` (the
    20-mile step) from their current school. :func:`signoff_flags` is the same test for
    many pairs at once.
    """
    codes: list[str] = []
    if not pairs.in_area[k]:
        codes.append("out_of_area")
        if not pairs.adjoining[k]:
            codes.append("not_adjoining")
    miles = float(pairs.school_miles[k])
    if pairs.key_stage_4[k] and miles == miles and miles > pairs.policy.distance_step_miles:
        codes.append("ks4_school_move")
    if pairs.over_fostering_limit[k]:
        codes.append("fostering_limit_exemption")
    if pairs.vacancy_is(PlacementType.CONNECTED_PERSON_FOSTER)[k]:
        codes.append("connected_person_temporary_approval")
    return tuple(codes)


def _nan_to_none(value: float) -> float | None:
    return None if value != value else float(value)


def options_of(
    pairs: Pairs,
    rows: npt.ArrayLike,
    points: npt.NDArray[np.int64],
    folding: Folding,
    factors: Sequence[Factor] | None = None,
) -> list[Option]:
    """Explain the pairs ``rows`` of ``pairs``; ``points`` is ``len(rows) x len(factors)``
    (``factors``: default :func:`~matcher.factors.factors_for` the folder).

    The numbers are worked out here, vectorised over ``rows``; each factor's sentence is
    deferred (:class:`matcher.explain.Deferred`) until it is read.
    """
    if factors is None:
        factors = factors_for(pairs.arrays.folder)
    idx = np.asarray(rows, dtype=np.int64).reshape(-1)
    pts = np.asarray(points, dtype=np.int64).reshape(len(idx), len(factors))
    score = pts.sum(axis=1, dtype=np.int64)
    cp = np.asarray(pairs.connected, dtype=bool)[idx]
    ia = np.asarray(pairs.in_area, dtype=bool)[idx]
    tier = folding.tier(cp, ia).tolist()
    objective = folding.objective(score, cp, ia).tolist()
    home = pairs.home_miles[idx].tolist()
    school = pairs.school_miles[idx].tolist()
    adjoining = np.asarray(pairs.adjoining, dtype=bool)[idx].tolist()
    flags = signoff_flags(pairs)[idx].tolist()
    vacancies = pairs.arrays.vacancies
    children = pairs.arrays.children
    folder = pairs.arrays.folder
    vi, ci = pairs.vi[idx].tolist(), pairs.ci[idx].tolist()
    out = []
    for r, (k, row) in enumerate(zip(idx.tolist(), pts.tolist(), strict=True)):
        vacancy = vacancies[vi[r]]
        child_id = children[ci[r]].child_id
        answer = folder.response(child_id, vacancy.vacancy_id) if folder.responses else None
        out.append(
            Option(
                child_id=child_id,
                vacancy_id=vacancy.vacancy_id,
                score=sum(row),
                factors=tuple(
                    [
                        FactorPoints(f.name, p, Deferred(f.reason, pairs, k, p), f.reference)
                        for f, p in zip(factors, row, strict=True)
                    ]
                ),
                connected_person=bool(cp[r]),
                tier=tier[r],
                objective_points=objective[r],
                distance_miles=_nan_to_none(home[r]),
                school_distance_miles=_nan_to_none(school[r]),
                in_area=bool(ia[r]),
                adjoining=adjoining[r],
                signoffs=tuple(
                    _SIGNOFFS[c] for c, on in zip(SIGNOFF_ORDER, flags[r], strict=True) if on
                ),
                placement_type=vacancy.placement_type.value,
                response=None if answer is None else answer.response.value,
                response_reason=None
                if answer is None or answer.reason is None
                else answer.reason.value,
            )
        )
    return out


def factor_matrix(pairs: Pairs, factors: Sequence[Factor] | None = None) -> npt.NDArray[np.int64]:
    """Points of every factor for every pair: ``len(pairs) x len(factors)`` int64
    (``factors``: default :func:`~matcher.factors.factors_for` the folder)."""
    if factors is None:
        factors = factors_for(pairs.arrays.folder)
    out = np.zeros((len(pairs), len(factors)), dtype=np.int64)
    for j, f in enumerate(factors):
        out[:, j] = f.assess(pairs)
    return out


def exclusion_of(pairs: Pairs, result: RuleResult, k: int) -> Exclusion:
    """The :class:`Exclusion` of an excluded pair ``k`` (its sentence deferred until read)."""
    rule = result.rule(k)
    return Exclusion(
        pairs.child_id(k),
        pairs.vacancy(k).vacancy_id,
        rule.name,
        rule.source,
        Deferred(rule.reason, pairs, k),
    )


def group_members(folder: CaseFolder, child: Child) -> tuple[Child, ...]:
    """The child first, then its siblings (all members are needed for the group rule)."""
    if child.sibling_group is None or folder.policy.allow_sibling_split:
        return (child,)
    others = [folder.child(c) for c in folder.siblings_of(child.child_id)]
    return (child, *others)


def default_folding(folder: CaseFolder) -> Folding:
    """:meth:`Folding.for_folder` under the folder's default factors."""
    return Folding.for_folder(folder)


def folding_for(folder: CaseFolder, scoring: Scoring | None = None) -> Folding:
    """The folder's :class:`Folding` under ``scoring``: the default one is built once per
    folder (:meth:`~matcher.domain.CaseFolder.derived`), any other when asked."""
    if scoring is None or scoring.factors == Scoring.for_folder(folder).factors:
        return folder.derived(default_folding)
    return Folding.for_folder(folder, scoring.factors)


@dataclass(frozen=True, eq=False)
class FolderTables:
    """What assessing a few children against every vacancy needs of a folder whichever
    children they are: built once per folder (:func:`folder_tables`), so that a warm call
    builds only the arrays of the children."""

    vacancies: VacancyArrays
    folding: Folding
    vacancy_index: Mapping[str, int]  # vacancy id -> its index in folder.vacancies


def folder_tables(folder: CaseFolder) -> FolderTables:
    """The folder's :class:`FolderTables` (pass to :meth:`CaseFolder.derived` to keep them)."""
    return FolderTables(
        vacancies=VacancyArrays.build(folder),
        folding=Folding.for_folder(folder),
        vacancy_index=MappingProxyType({v.vacancy_id: j for j, v in enumerate(folder.vacancies)}),
    )


@dataclass(frozen=True, eq=False)
class Assessment:
    """Pairs through the hard rules, and the eligible ones scored: computed once.

    Attributes
    ----------
    pairs : Pairs
        Every pair assessed.
    result : RuleResult or None
        The rules' verdict on every pair of ``pairs``; ``None`` when the pairs were found
        eligible elsewhere (:func:`scored`: a screened grid keeps only its counts).
    rows : numpy.ndarray of int64
        Row in ``pairs`` of each scored (eligible) pair, ascending.
    eligible : Pairs
        Those pairs, in that order.
    points : numpy.ndarray of int64, shape (len(eligible), len(scoring.factors))
        Each factor's points for each eligible pair.
    scoring : Scoring
    folding : Folding
    counts : dict
        Rule name -> pairs it excluded first, in rule order (the rows counted: see
        :func:`assess`).
    child_counts : numpy.ndarray of int64, shape (children, rules), or None
        Per child of the arrays: its vacancies each rule excluded first, when every vacancy
        was assessed for every child (a full screen, :func:`scored`); kept so that nobody
        assesses them again (:meth:`excluded_for`).
    """

    pairs: Pairs
    result: RuleResult | None
    rows: npt.NDArray[np.int64]
    eligible: Pairs
    points: npt.NDArray[np.int64]
    scoring: Scoring
    folding: Folding
    counts: dict[str, int]
    child_counts: npt.NDArray[np.int64] | None = None

    @property
    def score(self) -> npt.NDArray[np.int64]:
        """Each eligible pair's points, summed over the factors."""
        return np.asarray(self.points.sum(axis=1, dtype=np.int64), dtype=np.int64)

    def options(self, rows: npt.ArrayLike) -> list[Option]:
        """The :class:`Option` of the eligible pairs ``rows`` (indices into
        :attr:`eligible`), in that order; sentences deferred until read."""
        idx = np.asarray(rows, dtype=np.int64).reshape(-1)
        pairs, at = self.eligible, idx
        if len(idx) < len(pairs):
            # the few pairs shown: their features are worked out for them alone (each is
            # elementwise), not for every eligible pair of a county
            pairs = Pairs(pairs.arrays, pairs.ci[idx], pairs.vi[idx])
            at = np.arange(len(idx), dtype=np.int64)
        return options_of(pairs, at, self.points[idx], self.folding, self.scoring.factors)

    def excluded_for(self, child: int) -> dict[str, int] | None:
        """Rule name -> vacancies it excluded first for child ``child`` (its index in the
        arrays), in rule order; ``None`` when not every vacancy was assessed for it."""
        if self.child_counts is None:
            return None
        row = self.child_counts[child]
        return {r.name: int(row[i]) for i, r in enumerate(self.scoring.rules) if row[i]}

    def exclusion(self, k: int) -> Exclusion:
        """The :class:`Exclusion` of pair ``k`` of :attr:`pairs` (it must break a rule)."""
        if self.result is None:
            raise ValueError("this assessment kept only the eligible pairs")
        return exclusion_of(self.pairs, self.result, k)


def assess(
    pairs: Pairs,
    folding: Folding,
    scoring: Scoring | None = None,
    *,
    score_rows: npt.ArrayLike | None = None,
) -> Assessment:
    """Apply the rules to every pair of ``pairs`` and score the eligible ones.

    ``score_rows``: a mask of the rows that matter (default all): only eligible pairs among
    them are scored, and only they are counted in :attr:`Assessment.counts` (the other rows
    are there for the sibling-group rule: a child's siblings, say).
    """
    scoring = Scoring.of(pairs.arrays.folder, scoring)
    result = evaluate_rules(pairs, scoring.rules)
    first = np.asarray(result.first)
    wanted = np.ones(len(pairs), dtype=bool) if score_rows is None else np.asarray(score_rows)
    ok = wanted & (first < 0)
    eligible = pairs.subset(ok)
    return Assessment(
        pairs=pairs,
        result=result,
        rows=np.flatnonzero(ok).astype(np.int64),
        eligible=eligible,
        points=factor_matrix(eligible, scoring.factors),
        scoring=scoring,
        folding=folding,
        counts=rule_counts(first[wanted], scoring.rules),
    )


def scored(
    pairs: Pairs,
    folding: Folding,
    counts: Mapping[str, int],
    scoring: Scoring | None = None,
    *,
    child_counts: npt.NDArray[np.int64] | None = None,
) -> Assessment:
    """The assessment of pairs already known to be eligible (a screened grid,
    :func:`matcher.screen.screen_pairs`), with the exclusion ``counts`` found there (and,
    when every pair was evaluated, the ``child_counts`` per child and rule)."""
    scoring = Scoring.of(pairs.arrays.folder, scoring)
    points = factor_matrix(pairs, scoring.factors)
    # kept without the features the factors gathered for every pair (a region's millions):
    # options are made for the few pairs asked about (:meth:`Assessment.options`)
    pairs = Pairs(pairs.arrays, pairs.ci, pairs.vi)
    return Assessment(
        pairs=pairs,
        result=None,
        rows=np.arange(len(pairs), dtype=np.int64),
        eligible=pairs,
        points=points,
        scoring=scoring,
        folding=folding,
        counts=dict(counts),
        child_counts=child_counts,
    )


def assess_grid(
    folder: CaseFolder,
    children: Sequence[Child],
    scoring: Scoring | None = None,
    *,
    score_children: int | None = None,
) -> Assessment:
    """``children`` against every vacancy of the folder: member-major rows (child ``m``'s
    pair with vacancy ``j`` is row ``m * n_vacancies + j``), on the folder's vacancy arrays
    built once (:func:`folder_tables`).

    ``score_children``: only the first so many children are scored and counted (the rest are
    their siblings, there for the sibling-group rule); default all.
    """
    tables = folder.derived(folder_tables)
    arrays = FolderArrays.build(folder, children, vacancy_arrays=tables.vacancies)
    n_v = arrays.n_vacancies
    ci = np.repeat(np.arange(len(children), dtype=np.int64), n_v)
    vi = np.tile(np.arange(n_v, dtype=np.int64), len(children))
    pairs = Pairs(arrays, ci, vi)
    rows = None
    if score_children is not None:
        rows = np.zeros(len(pairs), dtype=bool)
        rows[: score_children * n_v] = True
    folding = tables.folding if scoring is None else folding_for(folder, scoring)
    return assess(pairs, folding, scoring, score_rows=rows)


def exclusion_counts(
    folder: CaseFolder, child_ids: Sequence[str], scoring: Scoring | None = None
) -> dict[str, dict[str, int]]:
    """Per child: vacancies excluded per hard rule (the first each breaks), in rule order,
    for each child of ``child_ids`` against every vacancy -- the counts of the child's
    ranking (:func:`matcher.rank.rank_child`), for many children in one assessment.

    Each child is assessed with its siblings (for the sibling-group rule, unless the policy
    allows splits), as its ranking is; no rule of a pair depends on the other rows except
    the sibling-group rule, which looks only at the rows of the same group and vacancy.
    """
    if not child_ids:
        return {}
    members: dict[str, Child] = {}
    for cid in child_ids:
        for m in group_members(folder, folder.child(cid)):
            members.setdefault(m.child_id, m)
    kids = list(members.values())
    a = assess_grid(folder, kids, scoring, score_children=0)
    assert a.result is not None
    n_v = len(folder.vacancies)
    first = np.asarray(a.result.first).reshape(len(kids), n_v) if n_v else None
    index = {c.child_id: i for i, c in enumerate(kids)}
    out: dict[str, dict[str, int]] = {}
    for cid in child_ids:
        row = first[index[cid]] if first is not None else np.zeros(0, dtype=np.int64)
        out[cid] = rule_counts(row, a.scoring.rules)
    return out
