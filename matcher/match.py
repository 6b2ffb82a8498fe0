"""The batch match: place a whole waiting list at once, optimally, and explain it.

Build -> solve -> extract (STYLE habit 6):

1. **Build.** The candidates (:func:`matcher.candidates.build_candidates`) are every eligible
   (child, vacancy) pair with its folded points. They become an integer
   :class:`~matcher.optimiser.AssignmentProblem`: children and vacancies by their index in
   the case folder, capacities = beds, sibling groups as child-index tuples (hard units, or
   a split penalty when the policy allows splits), coefficients = ``objective_points``.
2. **Solve.** :func:`matcher.optimiser.solve` proves the optimum of that problem. Two
   household rules are not per-vacancy capacities, so they are enforced here exactly, by
   branching (below): the fostering limit of three per household (Children Act 1989 Sch. 7:
   ``fostered_now`` plus the children placed in all of a provider's fostering vacancies is at
   most three, unless they are all siblings of one another) and ``solo_only`` children
   (nobody else placed with them).
3. **Extract.** Each assignment gets its option's factors, distances, sign-offs; each
   unplaced child gets its reasons; metrics; then :func:`matcher.validate_result.validate_result`
   re-checks everything from the domain objects and :func:`match` raises if it fails.

The order of what matters (DESIGN.md section 4) is in the coefficients: a base for placing a
child at all beats any number of points, connected persons beat non-kin, then points.

Household rules by branch and bound
-----------------------------------
A household with a single fostering vacancy and children already there gets its capacity
capped to ``min(beds, 3 - fostered_now)`` up front (exact). Otherwise the problem is solved
as given; if the optimum breaks a household rule at some provider, the problem is split into
sub-problems that together contain every valid match and exclude that break -- for the
fostering limit, one per maximal way of sharing the household's remaining places among its
vacancies (plus, for an empty household, one per sibling group of four or more that may fill
it alone); for a ``solo_only`` child, "not there" and "nobody else there" -- and each is
solved, best bound first, pruning by the best valid match found. The bound reported is the
largest bound of any sub-problem left unproven, so ``optimal`` still means proven. Almost
always the first solve is already valid and this costs nothing.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from matcher.domain import FOSTERING_LIMIT, CaseFolder
from matcher.metrics import compute_metrics
from matcher.optimiser import AssignmentProblem, Solution, SolverParameters, solve
from matcher.optimiser.validate import group_penalties, objective_of
from matcher.result import (
    AssignedFactor,
    AssignedSignoff,
    Assignment,
    BlockedVacancy,
    MatchResult,
    SiblingSplit,
    UnplacedChild,
    UnplacedReason,
)
from matcher.vocabulary import Need

if TYPE_CHECKING:
    from matcher.candidates import CandidateSet
    from matcher.explain import Option

__all__ = ["MAX_SOLVES", "MatchError", "build_problem", "match"]

#: Most optimiser calls one match may make while enforcing household rules.
MAX_SOLVES = 64


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
    """The integer problem of a folder's candidates (capacities before household branching).

    Capacities are beds, except the only fostering vacancy of a household: at most
    ``3 - fostered_now`` (the Sch. 7 limit), unless the household fosters nobody and a
    sibling group larger than three could take it (the siblings exception). Exact: no valid
    match is lost.
    """
    homes = _Households.of(folder)
    capacity = np.array([v.beds for v in folder.vacancies], dtype=np.int64)
    pair_child = np.asarray(candidates.child_index, dtype=np.int64)
    pair_vacancy = np.asarray(candidates.vacancy_index, dtype=np.int64)
    for p, vacs in enumerate(homes.vacancies_of_provider):
        fostering = vacs[homes.fostering_vacancy[vacs]]
        if len(fostering) != 1:
            continue
        v = int(fostering[0])
        allowance = max(0, FOSTERING_LIMIT - int(homes.fostered_now[p]))
        if homes.fostered_now[p] == 0:
            # Above three only for one sibling group larger than three (the exception).
            groups = homes.group_of_child[pair_child[pair_vacancy == v]]
            groups = groups[groups >= 0]
            if (homes.group_size[groups] > allowance).any():
                continue
        capacity[v] = min(int(capacity[v]), allowance)
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
    )


# ----------------------------------------------------------------------------- household rules


@dataclass(frozen=True, slots=True)
class _Violation:
    kind: str  # "fostering_limit" | "solo_occupied" | "solo_shared"
    provider: int
    child: int = -1  # the solo child


def _violations(homes: _Households, vacancy_of_child: npt.NDArray[np.int32]) -> list[_Violation]:
    """Every household rule the match breaks, by provider then child."""
    placed = np.flatnonzero(vacancy_of_child >= 0)
    if len(placed) == 0:
        return []
    vac = vacancy_of_child[placed].astype(np.int64)
    prov = homes.provider_of_vacancy[vac]
    n_prov = len(homes.fostered_now)
    found: list[_Violation] = []
    fost = homes.fostering_vacancy[vac]
    count = np.bincount(prov[fost], minlength=n_prov)
    over = np.flatnonzero(homes.fostered_now + count > FOSTERING_LIMIT)
    for p in over.tolist():
        there = placed[fost & (prov == p)]
        groups = set(homes.group_of_child[there].tolist())
        exempt = homes.fostered_now[p] == 0 and len(groups) == 1 and -1 not in groups
        if not exempt:
            found.append(_Violation("fostering_limit", p))
    for c in placed[homes.solo_child[placed]].tolist():
        p = int(homes.provider_of_vacancy[vacancy_of_child[c]])
        if homes.fostered_now[p] > 0:
            found.append(_Violation("solo_occupied", p, c))
            continue
        others = placed[(prov == p) & ~homes.same_group(placed, c)]
        if len(others):
            found.append(_Violation("solo_shared", p, c))
    return sorted(found, key=lambda v: (v.provider, v.child))


def _first_violation(
    homes: _Households, vacancy_of_child: npt.NDArray[np.int32]
) -> _Violation | None:
    found = _violations(homes, vacancy_of_child)
    return found[0] if found else None


@dataclass(slots=True)
class _Node:
    keep: npt.NDArray[np.bool_]  # pairs kept
    capacity: npt.NDArray[np.int64]


def _capacity_splits(caps: Sequence[int], total: int) -> Iterator[tuple[int, ...]]:
    """Every vector ``c <= caps`` with ``sum(c) == total`` (the maximal shares of a household)."""
    for combo in itertools.product(*(range(c + 1) for c in caps)):
        if sum(combo) == total:
            yield combo


def _branches(
    node: _Node, violation: _Violation, problem: AssignmentProblem, homes: _Households
) -> list[_Node]:
    p = violation.provider
    vacs = homes.vacancies_of_provider[p]
    at_p = np.isin(problem.pair_vacancy, vacs)
    out: list[_Node] = []
    if violation.kind == "fostering_limit":
        fostering = vacs[homes.fostering_vacancy[vacs]]
        allowance = max(0, FOSTERING_LIMIT - int(homes.fostered_now[p]))
        caps = [int(node.capacity[v]) for v in fostering]
        for split in _capacity_splits(caps, min(allowance, sum(caps))):
            capacity = node.capacity.copy()
            capacity[fostering] = split
            out.append(_Node(node.keep.copy(), capacity))
        if homes.fostered_now[p] == 0:
            at_fostering = node.keep & np.isin(problem.pair_vacancy, fostering)
            groups = sorted(
                {
                    int(g)
                    for g in homes.group_of_child[problem.pair_child[at_fostering]].tolist()
                    if g >= 0 and homes.group_size[g] > allowance
                }
            )
            for g in groups:
                keep = node.keep.copy()
                keep[at_fostering & (homes.group_of_child[problem.pair_child] != g)] = False
                out.append(_Node(keep, node.capacity.copy()))
    else:
        solo = violation.child
        mine = problem.pair_child == solo
        keep = node.keep.copy()
        keep[at_p & mine] = False  # the solo child not in this household
        out.append(_Node(keep, node.capacity.copy()))
        if violation.kind == "solo_shared":
            family = homes.same_group(problem.pair_child, solo)
            keep = node.keep.copy()
            keep[at_p & ~family] = False  # nobody but the child and its siblings there
            out.append(_Node(keep, node.capacity.copy()))
    return out


def _dive(
    node: _Node,
    violations: Sequence[_Violation],
    problem: AssignmentProblem,
    homes: _Households,
    vacancy_of_child: npt.NDArray[np.int32],
) -> _Node:
    """A sub-problem that forbids every violation at once (to find a good valid match fast).

    Fostering households lose beds, largest vacancy first, down to their room. A household
    where solo-only children share either keeps its other children (the solo children
    leave) or goes to one solo child's family alone, whichever holds more of the points
    placed there now. Its optimum is valid for these households (others may then break, and
    the dive repeats), never a bound.
    """
    keep, capacity = node.keep.copy(), node.capacity.copy()
    lookup = {
        (c, v): int(p)
        for c, v, p in zip(
            problem.pair_child.tolist(),
            problem.pair_vacancy.tolist(),
            problem.pair_points.tolist(),
            strict=True,
        )
    }

    def points(children: npt.NDArray[np.int64]) -> int:
        return sum(lookup[(c, int(vacancy_of_child[c]))] for c in children.tolist())

    solo_providers: set[int] = set()
    for violation in violations:
        p = violation.provider
        vacs = homes.vacancies_of_provider[p]
        at_p_pairs = np.isin(problem.pair_vacancy, vacs)
        if violation.kind == "fostering_limit":
            fostering = vacs[homes.fostering_vacancy[vacs]]
            room = max(0, FOSTERING_LIMIT - int(homes.fostered_now[p]))
            while int(capacity[fostering].sum()) > room:
                capacity[fostering[int(np.argmax(capacity[fostering]))]] -= 1
        elif violation.kind == "solo_occupied":
            keep[at_p_pairs & (problem.pair_child == violation.child)] = False
        else:
            solo_providers.add(p)
    for p in sorted(solo_providers):
        # Either the household keeps its children who need no solo placement (the solo
        # children leave), or one solo child's family has it alone: whichever holds more
        # of the points placed there now.
        vacs = homes.vacancies_of_provider[p]
        at_p_pairs = np.isin(problem.pair_vacancy, vacs)
        at_p = np.flatnonzero(np.isin(vacancy_of_child, vacs)).astype(np.int64)
        solos = at_p[homes.solo_child[at_p]]
        in_a_family = np.zeros(len(at_p), dtype=bool)
        for c in solos.tolist():
            in_a_family |= homes.same_group(at_p, c)
        best_family, best_points = -1, points(at_p[~in_a_family])
        for c in solos.tolist():
            family_points = points(at_p[homes.same_group(at_p, c)])
            if family_points > best_points:
                best_family, best_points = c, family_points
        if best_family < 0:
            keep[at_p_pairs & homes.solo_child[problem.pair_child]] = False
        else:
            keep[at_p_pairs & ~homes.same_group(problem.pair_child, best_family)] = False
    return _Node(keep, capacity)


def _may_bind(problem: AssignmentProblem, homes: _Households) -> bool:
    """Whether a household rule could be broken by some match of ``problem`` (cheap test)."""
    for p, vacs in enumerate(homes.vacancies_of_provider):
        fostering = vacs[homes.fostering_vacancy[vacs]]
        room = max(0, FOSTERING_LIMIT - int(homes.fostered_now[p]))
        if int(problem.capacity[fostering].sum()) > room:
            return True
    solo = homes.solo_child[problem.pair_child]
    if solo.any():
        provider_beds = np.zeros(len(homes.fostered_now), dtype=np.int64)
        np.add.at(provider_beds, homes.provider_of_vacancy, problem.capacity)
        solo_providers = homes.provider_of_vacancy[problem.pair_vacancy[solo]]
        if (provider_beds[solo_providers] > 1).any() or (
            homes.fostered_now[solo_providers] > 0
        ).any():
            return True
    return False


def _repair(
    problem: AssignmentProblem, homes: _Households, vacancy_of_child: npt.NDArray[np.int32]
) -> npt.NDArray[np.int32]:
    """A valid match from one that breaks household rules: unplace children until none does.

    Children leave in units (a hard sibling group in one vacancy leaves whole), lowest
    points first, so the result still respects beds and sibling units.
    """
    vac = vacancy_of_child.copy()
    points_of = dict(
        zip(
            zip(problem.pair_child.tolist(), problem.pair_vacancy.tolist(), strict=True),
            problem.pair_points.tolist(),
            strict=True,
        )
    )

    def units_at(vacancies: npt.NDArray[np.int64]) -> list[list[int]]:
        children = np.flatnonzero(np.isin(vac, vacancies)).tolist()
        by_unit: dict[tuple[int, int], list[int]] = defaultdict(list)
        for c in children:
            g = int(homes.group_of_child[c])
            key = (g, int(vac[c])) if (problem.hard_units and g >= 0) else (-1 - c, int(vac[c]))
            by_unit[key].append(c)
        units = list(by_unit.values())
        units.sort(key=lambda u: (sum(points_of[(c, int(vac[c]))] for c in u), u[0]))
        return units

    for _ in range(len(vac) + 1):
        violation = _first_violation(homes, vac)
        if violation is None:
            return vac
        p = violation.provider
        vacs = homes.vacancies_of_provider[p]
        if violation.kind == "fostering_limit":
            fostering = vacs[homes.fostering_vacancy[vacs]]
            units = units_at(fostering)
            vac[units[0]] = -1
        elif violation.kind == "solo_occupied":
            solo = violation.child
            g = int(homes.group_of_child[solo])
            if problem.hard_units and g >= 0:
                vac[homes.group_of_child == g] = -1
            vac[solo] = -1
        else:
            family = homes.same_group(np.arange(len(vac)), violation.child)
            for c in np.flatnonzero(np.isin(vac, vacs) & ~family).tolist():
                g = int(homes.group_of_child[c])
                if problem.hard_units and g >= 0:
                    vac[homes.group_of_child == g] = -1
                vac[c] = -1
    raise MatchError("could not repair a match to respect the household rules")  # pragma: no cover


def _solve_node(
    problem: AssignmentProblem, node: _Node, params: SolverParameters, time_limit_s: float
) -> Solution | None:
    """Solve one sub-problem (``None`` when it has no pair: nothing can be placed)."""
    sub = AssignmentProblem(
        n_children=problem.n_children,
        capacity=node.capacity,
        pair_child=problem.pair_child[node.keep],
        pair_vacancy=problem.pair_vacancy[node.keep],
        pair_points=problem.pair_points[node.keep],
        sibling_groups=problem.sibling_groups,
        split_penalty=problem.split_penalty,
    )
    if sub.n_pairs == 0:
        return None
    node_params = replace(params, time_limit_s=max(time_limit_s, 0.5))
    try:
        return solve(sub, node_params)
    except IndexError:
        # matcher.optimiser's warm start fails when a sibling group has no common vacancy
        # in split mode (units.vacancy_of_child with no unit pairs); solving without the
        # warm start is exact, only slower. Remove once fixed there.
        return solve(sub, replace(node_params, use_flow_warm_start=False))


def _solve_with_households(
    problem: AssignmentProblem, homes: _Households, params: SolverParameters
) -> tuple[npt.NDArray[np.int32], int, int, dict[str, Any]]:
    """Best valid match, its objective and a proven bound, by branch and bound.

    When a household rule could bind, the first solve gets three quarters of the time
    limit and the rest is kept for a *dive* (one sub-problem forbidding every break of the
    first answer at once, repeated until valid) that finds a good valid match quickly; then
    best-bound-first branching proves it, within :data:`MAX_SOLVES` and the time limit.
    """
    started = time.perf_counter()
    deadline = started + params.time_limit_s
    n = problem.n_children
    best = np.full(n, -1, dtype=np.int32)
    best_value = 0
    counter = itertools.count()
    root = _Node(np.ones(problem.n_pairs, dtype=bool), problem.capacity.astype(np.int64))
    heap: list[tuple[float, int, _Node]] = [(-float("inf"), next(counter), root)]
    unproven: list[int] = []
    solves = dives = 0
    first_stats: dict[str, Any] = {}
    binds = _may_bind(problem, homes)

    def offer(vacancy_of_child: npt.NDArray[np.int32]) -> None:
        nonlocal best, best_value
        value = objective_of(problem, vacancy_of_child)
        if value > best_value:
            best, best_value = vacancy_of_child.copy(), value

    while heap:
        neg_bound, _, node = heapq.heappop(heap)
        if -neg_bound <= best_value:
            continue
        remaining = deadline - time.perf_counter()
        if solves >= MAX_SOLVES or (solves > 0 and remaining <= 0):
            unproven.append(int(-neg_bound))
            continue
        budget = remaining * (0.75 if (binds and solves == 0) else 1.0)
        solution = _solve_node(problem, node, params, budget)
        if solution is None:
            continue  # nothing can be placed: the empty match (value 0) is optimal here
        solves += 1
        if not first_stats:
            first_stats = dict(solution.stats)
        if solution.bound <= best_value:
            continue
        found = _violations(homes, solution.vacancy_of_child)
        if not found:
            offer(solution.vacancy_of_child)
            if solution.status != "optimal":
                unproven.append(solution.bound)
            continue
        offer(_repair(problem, homes, solution.vacancy_of_child))
        if dives == 0:
            dive, broken, current = node, found, solution.vacancy_of_child
            while broken and solves < MAX_SOLVES:
                if dives > 0 and time.perf_counter() >= deadline:
                    break
                dive = _dive(dive, broken, problem, homes, current)
                dived = _solve_node(problem, dive, params, deadline - time.perf_counter())
                dives += 1
                if dived is None:
                    break
                solves += 1
                current = dived.vacancy_of_child
                broken = _violations(homes, current)
                offer(
                    _repair(problem, homes, dived.vacancy_of_child)
                    if broken
                    else dived.vacancy_of_child
                )
        for child in _branches(node, found[0], problem, homes):
            heapq.heappush(heap, (-float(solution.bound), next(counter), child))
    unproven.extend(int(-b) for b, _, _ in heap if -b > best_value)
    bound = max([best_value, *unproven])
    stats = {
        **first_stats,
        "solves": solves,
        "dives": dives,
        "time_total_s": time.perf_counter() - started,
    }
    return best, best_value, bound, stats


# ----------------------------------------------------------------------------- extract


def _exclusion_counts(folder: CaseFolder, child_id: str) -> dict[str, int]:
    """Vacancies excluded per hard rule (the first each breaks) for one child."""
    from matcher.candidates import rank_child

    ranking = rank_child(folder, child_id, top=1)
    return {str(k): int(v) for k, v in ranking.excluded.items() if int(v) > 0}


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
        factors=tuple(AssignedFactor(f.factor, int(f.points), f.reason) for f in option.factors),
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


def _pair_lookup(problem: AssignmentProblem) -> dict[tuple[int, int], int]:
    return {
        (c, v): k
        for k, (c, v) in enumerate(
            zip(problem.pair_child.tolist(), problem.pair_vacancy.tolist(), strict=True)
        )
    }


def _fmt_ids(ids: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _unplaced_reasons(
    folder: CaseFolder,
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
                f"capacity taken: the only eligible vacancy for {what} is full - "
                if len(blocks) == 1
                else f"capacity taken: all {len(blocks)} eligible vacancies for {what} are full - "
            )
            + "; ".join(parts)
            + more,
            vacancies=tuple(blocks),
        )

    for c, child in enumerate(children):
        if vacancy_of_child[c] >= 0:
            continue
        reasons: list[UnplacedReason] = []
        g = int(homes.group_of_child[c])
        group = folder.sibling_groups[g] if g >= 0 else None
        own = sorted(set(eligible.get(c, [])))
        if not own:
            counts = _exclusion_counts(folder, child.child_id)
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


# ----------------------------------------------------------------------------- match


def match(
    folder: CaseFolder,
    params: SolverParameters | None = None,
    *,
    candidates: CandidateSet | None = None,
    validate: bool = True,
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

        candidates = build_candidates(folder)
    built = time.perf_counter()
    problem = build_problem(folder, candidates)
    homes = _Households.of(folder)
    vacancy_of_child, objective, bound, stats = _solve_with_households(problem, homes, params)
    status = "optimal" if objective == bound else "feasible"
    lookup = _pair_lookup(problem)
    assignments = tuple(
        _assignment(folder, candidates.option(lookup[(c, int(v))]))
        for c, v in enumerate(vacancy_of_child.tolist())
        if v >= 0
    )
    splits = _splits(folder, problem, vacancy_of_child)
    unplaced = _unplaced_reasons(folder, problem, homes, vacancy_of_child, status)
    metrics = compute_metrics(folder, assignments, sibling_splits=len(splits))
    stats = {
        **stats,
        "candidate_pairs": problem.n_pairs,
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
    )
    if validate:
        from matcher.validate_result import validate_result

        errors = validate_result(folder, candidates, result)
        if errors:
            raise MatchError(
                f"the match failed its validator ({len(errors)} problems): " + "; ".join(errors[:5])
            )
    return result
