"""The batch match: place a whole waiting list at once, optimally, and explain it.

Build -> solve -> extract:

1. **Build.** The candidates (:func:`matcher.candidates.build_candidates`) are every eligible
   (child, vacancy) pair with its folded points. They become an integer
   :class:`~matcher.optimiser.AssignmentProblem`: children and vacancies by their index in
   the case folder, capacities = beds, sibling groups as child-index tuples (hard units, or
   a split penalty when the policy allows splits), coefficients = ``objective_points``.
2. **Solve.** :func:`matcher.optimiser.solve` proves the optimum of that problem in one
   solve. The two household rules are native constraints of the problem: the fostering
   limit of three per household (Children Act 1989 Sch. 7: ``fostered_now`` plus the
   children placed in all of a provider's fostering vacancies is at most three, unless they
   are all of one sibling group in a household that fosters nobody else) is a capacity group
   per fostering household (``vacancy_group``, ``group_capacity``, ``group_siblings_exempt``),
   and ``solo_only`` children (nobody but their own siblings placed with them) are exclusive
   pairs (``pair_exclusive``) with the provider as household (``vacancy_household``).
3. **Extract.** Each assignment gets its option's factors, distances, sign-offs; each
   unplaced child gets its reasons; metrics; then :func:`matcher.validate_result.validate_result`
   re-checks everything from the domain objects and :func:`match` raises if it fails.

The order of what matters (docs/match.md) is in the coefficients: a base for placing a
child at all beats any number of points, connected persons beat non-kin, then points.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from matcher.domain import FOSTERING_LIMIT, CaseFolder
from matcher.metrics import compute_metrics
from matcher.optimiser import AssignmentProblem, SolverParameters, solve
from matcher.optimiser.validate import group_penalties
from matcher.result import (
    AssignedFactor,
    AssignedSignoff,
    Assignment,
    BlockedVacancy,
    DeclinedReferral,
    LevelGap,
    MatchResult,
    SiblingSplit,
    UnplacedChild,
    UnplacedReason,
    level_gaps,
)
from matcher.vocabulary import Need

if TYPE_CHECKING:
    from matcher.candidates import CandidateSet
    from matcher.explain import Option
    from matcher.scoring import Scoring

__all__ = ["MatchError", "build_problem", "match"]


class MatchError(RuntimeError):
    """The match failed its own validator: a bug, never a silently wrong answer."""


# ----------------------------------------------------------------------------- build


@dataclass(frozen=True, slots=True)
class _Households:
    """Index arrays for the household rules."""

    provider_of_vacancy: npt.NDArray[np.int64]
    fostering_vacancy: npt.NDArray[np.bool_]
    fostered_now: npt.NDArray[np.int64]  # per provider
    vacancies_of_provider: tuple[npt.NDArray[np.int64], ...]
    group_of_child: npt.NDArray[np.int64]  # sibling group index, -1 if none (any size)
    group_size: npt.NDArray[np.int64]
    solo_child: npt.NDArray[np.bool_]

    def same_group(self, children: npt.NDArray[Any], child: int) -> npt.NDArray[np.bool_]:
        """Which of ``children`` are ``child`` or in its sibling group."""
        g = int(self.group_of_child[child])
        same = children == child
        if g >= 0:
            same = same | (self.group_of_child[children] == g)
        return np.asarray(same, dtype=bool)

    @classmethod
    def of(cls, folder: CaseFolder) -> _Households:
        providers = {p.provider_id: i for i, p in enumerate(folder.providers)}
        provider_of_vacancy = np.array(
            [providers[v.provider_id] for v in folder.vacancies], dtype=np.int64
        )
        groups = {g.sibling_group_id: i for i, g in enumerate(folder.sibling_groups)}
        return cls(
            provider_of_vacancy=provider_of_vacancy,
            fostering_vacancy=np.array([v.is_fostering for v in folder.vacancies], dtype=bool),
            fostered_now=np.array([p.fostered_now for p in folder.providers], dtype=np.int64),
            vacancies_of_provider=tuple(
                np.flatnonzero(provider_of_vacancy == i) for i in range(len(folder.providers))
            ),
            group_of_child=np.array(
                [groups.get(c.sibling_group or "", -1) for c in folder.children], dtype=np.int64
            ),
            group_size=np.array([g.size for g in folder.sibling_groups], dtype=np.int64),
            solo_child=np.array([Need.SOLO_ONLY in c.needs for c in folder.children], dtype=bool),
        )


def _sibling_groups(folder: CaseFolder) -> tuple[tuple[int, ...], ...]:
    index = {c.child_id: i for i, c in enumerate(folder.children)}
    return tuple(tuple(index[c] for c in g.child_ids) for g in folder.sibling_groups if g.size >= 2)


def build_problem(folder: CaseFolder, candidates: CandidateSet) -> AssignmentProblem:
    """The integer problem of a folder's candidates, household rules included.

    Capacities are beds. Each fostering household is a capacity group of its fostering
    vacancies with room ``3 - fostered_now`` (at least 0), exempt (one sibling group alone
    may exceed it) when it fosters nobody now. Every provider is a household for the
    exclusive (``solo_only``) pairs. Exact: the problem's feasible assignments are the
    valid matches.
    """
    vacancies = folder.vacancies
    capacity = np.array([v.beds for v in vacancies], dtype=np.int64)
    provider_of_vacancy = np.asarray(candidates.vacancy_provider, dtype=np.int64)
    room = np.asarray(candidates.provider_fostering_room, dtype=np.int64)
    fostering = np.array([v.is_fostering for v in vacancies], dtype=bool)
    fostered_now = np.array([p.fostered_now for p in folder.providers], dtype=np.int64)
    # one capacity group per provider with a fostering vacancy, numbered in provider order
    grouped = fostering & (room[provider_of_vacancy] >= 0) if len(vacancies) else fostering
    providers_grouped = np.unique(provider_of_vacancy[grouped])
    vacancy_group = np.full(len(vacancies), -1, dtype=np.int64)
    vacancy_group[grouped] = np.searchsorted(providers_grouped, provider_of_vacancy[grouped])
    points = np.asarray(candidates.objective_points, dtype=np.int64)
    if len(points) and int(points.min()) <= 0:
        raise MatchError(
            "candidates gave a pair objective_points <= 0; every eligible pair must be worth "
            "placing (the placement base)"
        )
    policy = folder.policy
    return AssignmentProblem.from_arrays(
        n_children=len(folder.children),
        capacity=capacity,
        pair_child=np.asarray(candidates.child_index),
        pair_vacancy=np.asarray(candidates.vacancy_index),
        pair_points=points,
        sibling_groups=_sibling_groups(folder),
        split_penalty=int(policy.sibling_split_cost) if policy.allow_sibling_split else None,
        vacancy_group=vacancy_group,
        group_capacity=room[providers_grouped],
        group_siblings_exempt=fostered_now[providers_grouped] == 0,
        vacancy_household=provider_of_vacancy,
        pair_exclusive=np.asarray(candidates.exclusive, dtype=bool),
    )


# ----------------------------------------------------------------------------- extract


def _exclusion_counts(
    folder: CaseFolder, candidates: CandidateSet, child_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per child: vacancies excluded per hard rule (the first each breaks), as the child's
    ranking counts them: kept from the candidates' screen when it assessed every pair of
    this folder, else assessed for all these children at once."""
    from matcher.assess import exclusion_counts

    a = candidates.assessment
    if a is not None and a.child_counts is not None and candidates.folder is folder:
        index = {c.child_id: i for i, c in enumerate(a.pairs.arrays.children)}
        kept = {cid: a.excluded_for(index[cid]) for cid in child_ids if cid in index}
        if len(kept) == len(child_ids):
            return {cid: counts for cid, counts in kept.items() if counts is not None}
    return exclusion_counts(folder, child_ids, a.scoring if a is not None else candidates.scoring)


def _assignment(folder: CaseFolder, option: Option) -> Assignment:
    vacancy = folder.vacancy(option.vacancy_id)
    child = folder.child(option.child_id)
    return Assignment(
        child_id=option.child_id,
        vacancy_id=option.vacancy_id,
        provider_id=vacancy.provider_id,
        placement_type=vacancy.placement_type.value,
        points=int(option.score),
        objective_points=int(option.objective_points),
        factors=tuple(
            AssignedFactor(f.factor, int(f.points), f.reason, f.reference) for f in option.factors
        ),
        connected_person=bool(option.connected_person),
        distance_miles=None if option.distance_miles is None else float(option.distance_miles),
        school_distance_miles=(
            None if option.school_distance_miles is None else float(option.school_distance_miles)
        ),
        in_area=bool(option.in_area),
        adjoining=bool(option.adjoining),
        signoffs=tuple(AssignedSignoff(s.code, s.description) for s in option.signoffs),
        sibling_group=child.sibling_group,
        weekly_cost=vacancy.weekly_cost,
    )


def declined_referrals(folder: CaseFolder) -> tuple[DeclinedReferral, ...]:
    """The folder's declined referrals, by child then vacancy (as ``folder.responses``)."""
    return tuple(
        DeclinedReferral(
            r.child_id,
            r.vacancy_id,
            folder.vacancy(r.vacancy_id).provider_id,
            None if r.reason is None else r.reason.value,
        )
        for r in folder.responses
        if r.declined
    )


def _fmt_ids(ids: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _unplaced_reasons(
    folder: CaseFolder,
    candidates: CandidateSet,
    problem: AssignmentProblem,
    homes: _Households,
    vacancy_of_child: npt.NDArray[np.int32],
    status: str,
) -> tuple[UnplacedChild, ...]:
    children, vacancies = folder.children, folder.vacancies
    occupants: dict[int, list[str]] = defaultdict(list)
    for c, v in enumerate(vacancy_of_child.tolist()):
        if v >= 0:
            occupants[v].append(children[c].child_id)
    eligible: dict[int, list[int]] = defaultdict(list)
    for c, v in zip(problem.pair_child.tolist(), problem.pair_vacancy.tolist(), strict=True):
        eligible[c].append(v)
    hard = problem.hard_units
    out: list[UnplacedChild] = []

    def blocked(v: int, need: int, newcomers: frozenset[int]) -> BlockedVacancy:
        vacancy = vacancies[v]
        p = int(homes.provider_of_vacancy[v])
        here = occupants.get(v, [])
        free = int(vacancy.beds) - len(here)
        if free < need:
            return BlockedVacancy(
                vacancy.vacancy_id,
                vacancy.provider_id,
                f"beds: {vacancy.beds}, {len(here)} taken"
                + (f", {need} needed" if need > 1 else ""),
                tuple(here),
            )
        at_p = [
            children[c].child_id
            for c in np.flatnonzero(np.isin(vacancy_of_child, homes.vacancies_of_provider[p]))
        ]
        if vacancy.is_fostering:
            fostering = homes.vacancies_of_provider[p][
                homes.fostering_vacancy[homes.vacancies_of_provider[p]]
            ]
            placed_f = np.flatnonzero(np.isin(vacancy_of_child, fostering)).tolist()
            now = int(homes.fostered_now[p])
            if now + len(placed_f) + need > FOSTERING_LIMIT:
                together = {int(homes.group_of_child[c]) for c in [*placed_f, *newcomers]}
                if not (now == 0 and len(together) == 1 and -1 not in together):
                    return BlockedVacancy(
                        vacancy.vacancy_id,
                        vacancy.provider_id,
                        f"fostering limit of {FOSTERING_LIMIT} in household {vacancy.provider_id}"
                        f" ({now} fostered already)",
                        tuple(children[c].child_id for c in placed_f),
                    )
        solo_here = [
            c
            for c in at_p
            if homes.solo_child[folder_index[c]]
            and not any(homes.same_group(np.array([folder_index[c]]), n)[0] for n in newcomers)
        ]
        if solo_here:
            return BlockedVacancy(
                vacancy.vacancy_id,
                vacancy.provider_id,
                "a solo placement for another child",
                tuple(solo_here),
            )
        strangers = [
            c
            for c in at_p
            if not any(homes.same_group(np.array([folder_index[c]]), n)[0] for n in newcomers)
        ]
        if any(homes.solo_child[c] for c in newcomers) and strangers:
            return BlockedVacancy(
                vacancy.vacancy_id,
                vacancy.provider_id,
                "others live there and the child needs a solo placement",
                tuple(strangers),
            )
        return BlockedVacancy(vacancy.vacancy_id, vacancy.provider_id, "free", ())

    folder_index = {c.child_id: i for i, c in enumerate(children)}
    radius = folder.policy.candidate_radius_miles
    # with a candidate radius, vacancies beyond it were never considered: say so
    scope = f" searched (within {radius:g} miles, policy candidate_radius_miles)" if radius else ""

    def capacity_reason(blocks: list[BlockedVacancy], what: str) -> UnplacedReason:
        free = [b for b in blocks if b.why == "free"]
        if free:
            ids = _fmt_ids([b.vacancy_id for b in free])
            why = (
                f"the search ended {status} (not proven)"
                if status != "optimal"
                else "placing them there would lower the total (split penalties)"
            )
            return UnplacedReason(
                "not_chosen",
                f"{len(free)} eligible vacancies had room ({ids}) for {what}, not chosen: {why}",
                vacancies=tuple(blocks),
            )
        parts = [
            f"{b.vacancy_id} ({b.why}"
            + (f"; taken by {_fmt_ids(list(b.taken_by), 4)})" if b.taken_by else ")")
            for b in blocks[:5]
        ]
        more = f"; and {len(blocks) - 5} more" if len(blocks) > 5 else ""
        return UnplacedReason(
            "capacity_taken",
            (
                f"capacity taken: the only eligible vacancy{scope} for {what} is full - "
                if len(blocks) == 1
                else f"capacity taken: all {len(blocks)} eligible vacancies{scope} for {what}"
                " are full - "
            )
            + "; ".join(parts)
            + more,
            vacancies=tuple(blocks),
        )

    # the children left with no eligible pair at all: their exclusions per rule, at once
    without = [
        child.child_id
        for c, child in enumerate(children)
        if vacancy_of_child[c] < 0 and c not in eligible
    ]
    excluded = _exclusion_counts(folder, candidates, without)
    for c, child in enumerate(children):
        if vacancy_of_child[c] >= 0:
            continue
        reasons: list[UnplacedReason] = []
        g = int(homes.group_of_child[c])
        group = folder.sibling_groups[g] if g >= 0 else None
        own = sorted(set(eligible.get(c, [])))
        if not own:
            counts = excluded[child.child_id]
            detail = ", ".join(f"{rule} {n}" for rule, n in counts.items())
            per_rule = f" (vacancies excluded per rule: {detail})" if detail else ""
            group_rules = {"sibling_group_together", "beds_for_sibling_group"}
            if hard and group is not None and group.size >= 2 and group_rules & counts.keys():
                reasons.append(
                    UnplacedReason(
                        "sibling_group",
                        f"sibling group {group.sibling_group_id} ({group.size} children) could "
                        "not be placed as a unit: no vacancy passes the hard rules for all of "
                        f"them{per_rule}",
                        excluded_by=counts,
                    )
                )
            else:
                also = (
                    f"; so its sibling group {group.sibling_group_id} ({group.size} children, "
                    "placed as a unit) cannot be placed either"
                    if hard and group is not None and group.size >= 2
                    else ""
                )
                reasons.append(
                    UnplacedReason(
                        "no_eligible_vacancy",
                        (
                            f"no eligible vacancy: all {len(vacancies)} vacancies fail a hard rule"
                            if vacancies
                            else "no eligible vacancy: the case folder has no vacancies"
                        )
                        + per_rule
                        + also,
                        excluded_by=counts,
                    )
                )
        elif hard and group is not None and group.size >= 2:
            members = [folder_index[m] for m in group.child_ids]
            common = sorted(set.intersection(*(set(eligible.get(m, [])) for m in members)))
            if not common:
                reasons.append(
                    UnplacedReason(
                        "sibling_group",
                        f"sibling group {group.sibling_group_id} ({group.size} children) could "
                        "not be placed as a unit: no vacancy is eligible for all of them "
                        "(the policy keeps sibling groups together)",
                    )
                )
            else:
                blocks = [blocked(v, group.size, frozenset(members)) for v in common]
                reason = capacity_reason(blocks, f"sibling group {group.sibling_group_id}")
                reasons.append(
                    replace(
                        reason,
                        message=f"sibling group {group.sibling_group_id} could not be placed "
                        f"as a unit; {reason.message}",
                    )
                )
        else:
            blocks = [blocked(v, 1, frozenset({c})) for v in own]
            reasons.append(capacity_reason(blocks, "the child"))
        out.append(UnplacedChild(child.child_id, child.sibling_group, tuple(reasons)))
    return tuple(out)


def _splits(
    folder: CaseFolder, problem: AssignmentProblem, vacancy_of_child: npt.NDArray[np.int32]
) -> tuple[SiblingSplit, ...]:
    if problem.hard_units:
        return ()
    penalties = group_penalties(problem, vacancy_of_child).tolist()
    children, vacancies = folder.children, folder.vacancies
    out = []
    for group, penalty in zip(problem.sibling_groups, penalties, strict=True):
        where = [int(vacancy_of_child[c]) for c in group]
        if len(set(where)) > 1:
            first = children[group[0]].sibling_group
            assert first is not None
            out.append(
                SiblingSplit(
                    first,
                    {
                        children[c].child_id: (vacancies[v].vacancy_id if v >= 0 else None)
                        for c, v in zip(group, where, strict=True)
                    },
                    int(penalty),
                )
            )
    return tuple(out)


def _levels(
    folder: CaseFolder,
    candidates: CandidateSet,
    assignments: Sequence[Assignment],
    splits: Sequence[SiblingSplit],
    objective: int,
    bound: int,
) -> tuple[LevelGap, ...]:
    """The objective and bound unfolded per level (:func:`matcher.result.level_gaps`)."""
    folding, policy = candidates.folding, folder.policy
    split_max = (
        policy.sibling_split_cost * sum(g.size for g in folder.sibling_groups)
        if policy.allow_sibling_split
        else 0
    )
    return level_gaps(
        objective,
        bound,
        placed=len(assignments),
        kin=sum(a.connected_person for a in assignments),
        in_area=sum(a.in_area for a in assignments),
        points=sum(a.points for a in assignments) - sum(s.penalty for s in splits),
        placement_base=folding.placement_base,
        connected_base=folding.connected_base,
        in_area_base=folding.in_area_base,
        score_min=folding.score_min,
        split_max=split_max,
    )


def _not_proven(
    unplaced: tuple[UnplacedChild, ...], levels: Sequence[LevelGap]
) -> tuple[UnplacedChild, ...]:
    """Add a ``not_proven`` reason to every child left out for want of room while a better
    match may exist (a level is open): "capacity taken" is then this match's fact, not a
    final one. A child no vacancy is eligible for stays as it is: that is final."""
    open_level = next((g for g in levels if not g.closed), None)
    if open_level is None:
        return unplaced
    if open_level.level == "children":
        why = (
            f"up to {open_level.shortfall:,} more children may be placeable (the search "
            "stopped before proving the match best), so a better match may place this child"
        )
    else:
        why = (
            "the number of children placed is proven, but the search stopped before "
            f"proving the {open_level.level.replace('_', '-')} level best, so a better match "
            "may place this child instead of another"
        )
    out = []
    for u in unplaced:
        if any(r.code in {"capacity_taken", "not_chosen"} for r in u.reasons):
            u = replace(u, reasons=(*u.reasons, UnplacedReason("not_proven", f"not proven: {why}")))
        out.append(u)
    return tuple(out)


# ----------------------------------------------------------------------------- match


def match(
    folder: CaseFolder,
    params: SolverParameters | None = None,
    *,
    candidates: CandidateSet | None = None,
    validate: bool = True,
    scoring: Scoring | None = None,
) -> MatchResult:
    """Place every child of the folder at once, optimally, and explain the result.

    Parameters
    ----------
    folder
        The case folder (children, vacancies, policy).
    params
        Solver parameters (time limit, workers, seed); defaults to ``SolverParameters()``.
    candidates
        The folder's candidates, if already built (``build_candidates(folder)`` otherwise).
    validate
        Run :func:`matcher.validate_result.validate_result` before returning (default; the
        tests turn it off only to feed the validator broken results).
    scoring
        The factors and rules the candidates are built with (default: the folder's,
        :meth:`matcher.scoring.Scoring.for_folder`); ignored when ``candidates`` are given.

    Returns
    -------
    MatchResult
        ``status`` is ``"optimal"`` only when proven; the same on every run for the same
        folder and seed.

    Raises
    ------
    MatchError
        If the result fails the validator (a bug in placematch, never a quiet wrong answer).
    """
    started = time.perf_counter()
    if params is None:
        params = SolverParameters()
    if candidates is None:
        from matcher.candidates import build_candidates

        candidates = build_candidates(folder, scoring)
    built = time.perf_counter()
    problem = build_problem(folder, candidates)
    homes = _Households.of(folder)
    solution = solve(problem, params)
    vacancy_of_child, objective, bound = (
        solution.vacancy_of_child,
        solution.objective,
        solution.bound,
    )
    stats: dict[str, Any] = dict(solution.stats)
    status = solution.status
    placed = np.flatnonzero(vacancy_of_child >= 0)
    rows = candidates.rows_of(placed, vacancy_of_child[placed])
    if (rows < 0).any():  # pragma: no cover - the optimiser's validator rules it out
        raise AssertionError("the optimiser chose a pair that is not a candidate")
    chosen = rows.tolist()
    assignments = tuple(_assignment(folder, option) for option in candidates.options(chosen))
    splits = _splits(folder, problem, vacancy_of_child)
    unplaced = _unplaced_reasons(folder, candidates, problem, homes, vacancy_of_child, status)
    levels = _levels(folder, candidates, assignments, splits, int(objective), int(bound))
    unplaced = _not_proven(unplaced, levels)
    metrics = compute_metrics(folder, assignments, sibling_splits=len(splits))
    stats = {
        **stats,
        "candidate_pairs": problem.n_pairs,
        # a radius cut-off (policy candidate_radius_miles) is reported with the result, so
        # that "optimal" is never read as optimal over pairs the optimiser did not see
        **({"candidate_cut": dict(candidates.screen)} if candidates.cut else {}),
        "time_candidates_s": built - started,
        "time_match_s": time.perf_counter() - started,
    }
    result = MatchResult(
        status=status,
        objective=int(objective),
        bound=int(bound),
        seed=params.seed,
        parameters=params.to_mapping(),
        assignments=assignments,
        unplaced=unplaced,
        splits=splits,
        metrics=metrics,
        stats=stats,
        declined=declined_referrals(folder),
        levels=levels,
    )
    if validate:
        from matcher.validate_result import validate_result

        errors = validate_result(folder, candidates, result)
        if errors:
            raise MatchError(
                f"the match failed its validator ({len(errors)} problems): " + "; ".join(errors[:5])
            )
    return result
