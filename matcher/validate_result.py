"""The solver-independent validator of a match: the specification of a valid result.

:func:`validate_result` re-checks a :class:`~matcher.result.MatchResult` from the domain
objects, by ids, without the optimiser or its index arrays:

* the answer's shape: a known status, ``objective <= bound``, ``optimal`` only when equal;
  every child either assigned once or listed unplaced with a known reason;
* each assignment is an eligible pair: it is a candidate, and the hard rules and factors
  re-run for the assigned pairs (:func:`matcher.candidates.explain_pairs`, in one batch
  for just those pairs, not the candidate matrix) pass;
* its explanation: the factors add up to ``points``; points, objective points, factors,
  connected person and in-area flags equal the candidate's; the distance equals the 903
  grid distance between the two postcodes (great-circle miles between Northern Ireland and
  Great Britain, which share no grid);
* beds: no vacancy holds more children than its beds;
* households: the fostering limit of three (Children Act 1989 Sch. 7: ``fostered_now`` plus
  the children placed in a provider's fostering vacancies, unless they are all siblings of
  one another in an empty household) and ``solo_only`` children (alone in their household,
  nobody fostered there already, nobody placed there but the child's siblings);
* sibling groups: placed whole in one vacancy or not at all, unless the policy allows
  splits, and then every split is reported with its penalty;
* providers' declines (``responses.csv``): no child is assigned to a vacancy whose provider
  declined that child, nor (placed as a unit) one of its siblings; the declines reported
  are the folder's;
* the objective is the sum of ``objective_points`` less the split penalties, and its gap
  per level (``levels``) unfolds from the objective and bound;
* the metrics are those recomputed from the assignments.

It returns a list of problems (empty when valid); :func:`matcher.match.match` runs it on
every result it returns (unless asked not to) and raises :class:`~matcher.match.MatchError`
if it is not empty; the tests also call it directly.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from geography.authorities import resolve_authority
from geography.distance import great_circle_miles, grid_miles
from matcher.domain import FOSTERING_LIMIT, CaseFolder, Child, Vacancy
from matcher.metrics import compute_metrics
from matcher.placement_types import PlacementType
from matcher.result import REASON_CODES, STATUSES, MatchResult, level_gaps
from matcher.vocabulary import Need

if TYPE_CHECKING:
    from matcher.candidates import CandidateSet
    from matcher.explain import Exclusion, Option
    from matcher.scoring import Scoring

__all__ = ["PairCheck", "validate_result"]

#: ``(folder, child_id, vacancy_id) ->`` the pair's Option, or the Exclusion of the first hard
#: rule it breaks.
PairCheck = Callable[[CaseFolder, str, str], "Option | Exclusion"]

_MILES_TOLERANCE = 1e-6


def _explain_pair(
    folder: CaseFolder, child_id: str, vacancy_id: str, scoring: Scoring | None = None
) -> Option | Exclusion:
    from matcher.candidates import explain_pair

    return explain_pair(folder, folder.child(child_id), folder.vacancy(vacancy_id), scoring)


def _batch_check(
    folder: CaseFolder,
    result: MatchResult,
    children: dict[str, Child],
    vacancies: dict[str, Vacancy],
    scoring: Scoring | None = None,
) -> PairCheck:
    """The default check of every assignment, run in one batch
    (:func:`matcher.candidates.explain_pairs`, the same answers as one pair at a time):
    fresh arrays of just these pairs, never the candidates' own assessment, under the
    candidates' factors and rules (``scoring``)."""
    from matcher.candidates import explain_pairs

    asked = [
        (a.child_id, a.vacancy_id)
        for a in result.assignments
        if a.child_id in children and a.vacancy_id in vacancies
    ]
    found = explain_pairs(folder, [(children[c], vacancies[v]) for c, v in asked], scoring)
    answers = dict(zip(asked, found, strict=True))

    def check(folder_: CaseFolder, child_id: str, vacancy_id: str) -> Option | Exclusion:
        hit = answers.get((child_id, vacancy_id))
        return hit if hit is not None else _explain_pair(folder_, child_id, vacancy_id, scoring)

    return check


def _split_penalty(cost: int, placements: list[str | None]) -> int:
    placed = [v for v in placements if v is not None]
    if not placed:
        return 0
    return cost * ((len(set(placed)) - 1) + (len(placements) - len(placed)))


def validate_result(
    folder: CaseFolder,
    candidates: CandidateSet,
    result: MatchResult,
    *,
    pair_check: PairCheck | None = None,
) -> list[str]:
    """Every way ``result`` breaks the rules of a valid match of ``folder``; empty if valid.

    Parameters
    ----------
    folder
        The case folder the result is for.
    candidates
        The folder's candidates (eligible pairs and their options).
    result
        The match to check.
    pair_check
        Re-runs the hard rules and factors for one pair alone. By default the assigned
        pairs are re-run in one batch (:func:`matcher.candidates.explain_pairs`, the same
        answers as one pair at a time), and any pair the batch did not cover by
        :func:`matcher.candidates.explain_pair`.
    """
    check_pair = pair_check or _explain_pair
    errors: list[str] = []
    policy = folder.policy

    if result.status not in STATUSES:
        errors.append(f"status {result.status!r}: expected one of {', '.join(STATUSES)}")
    if result.objective > result.bound:
        errors.append(f"objective {result.objective} exceeds the bound {result.bound}")
    if result.status == "optimal" and result.objective != result.bound:
        errors.append(f"status optimal but objective {result.objective} != bound {result.bound}")

    # ------------------------------------------------------------------ children accounted for
    shape_errors = len(errors)
    all_children = {c.child_id for c in folder.children}
    assigned = Counter(a.child_id for a in result.assignments)
    unplaced = Counter(u.child_id for u in result.unplaced)
    for cid, n in sorted((assigned + unplaced).items()):
        if cid not in all_children:
            errors.append(f"child {cid}: not in the case folder")
        elif n > 1:
            errors.append(f"child {cid}: listed {n} times (assigned and/or unplaced)")
    missing = sorted(all_children - set(assigned) - set(unplaced))
    if missing:
        errors.append(f"children neither assigned nor unplaced: {', '.join(missing[:10])}")
    for u in result.unplaced:
        if not u.reasons:
            errors.append(f"child {u.child_id}: unplaced without a reason")
        for r in u.reasons:
            if r.code not in REASON_CODES:
                errors.append(f"child {u.child_id}: unknown unplaced reason {r.code!r}")
    if len(errors) > shape_errors:
        return errors

    # ------------------------------------------------------------------ each assignment
    children = {c.child_id: c for c in folder.children}
    vacancies = {v.vacancy_id: v for v in folder.vacancies}
    index_of_child = {c.child_id: i for i, c in enumerate(folder.children)}
    index_of_vacancy = {v.vacancy_id: i for i, v in enumerate(folder.vacancies)}
    known = [a for a in result.assignments if a.child_id in children and a.vacancy_id in vacancies]
    rows = candidates.rows_of(
        [index_of_child[a.child_id] for a in known],
        [index_of_vacancy[a.vacancy_id] for a in known],
    )
    pair_of = {(a.child_id, a.vacancy_id): int(r) for a, r in zip(known, rows, strict=True)}
    fixed_area = resolve_authority(policy.authority) if policy.authority else None
    if pair_check is None:
        scoring = (
            candidates.scoring if candidates.assessment is None else candidates.assessment.scoring
        )
        check_pair = _batch_check(folder, result, children, vacancies, scoring)
    points_total = 0
    for a in result.assignments:
        where = f"assignment {a.child_id} -> {a.vacancy_id}"
        if a.vacancy_id not in vacancies:
            errors.append(f"{where}: vacancy not in the case folder")
            continue
        child, vacancy = children[a.child_id], vacancies[a.vacancy_id]
        if pair_of.get((a.child_id, a.vacancy_id), -1) < 0:
            errors.append(f"{where}: not an eligible candidate pair")
            continue
        option: Any = check_pair(folder, a.child_id, a.vacancy_id)
        if not hasattr(option, "factors"):
            errors.append(f"{where}: breaks the hard rule {option.rule}")
            continue
        if sum(f.points for f in a.factors) != a.points:
            errors.append(
                f"{where}: factors add up to {sum(f.points for f in a.factors)}, "
                f"not its points {a.points}"
            )
        if a.points != option.score or a.objective_points != option.objective_points:
            errors.append(
                f"{where}: points {a.points}/{a.objective_points} differ from the candidate's "
                f"{option.score}/{option.objective_points}"
            )
        if [(f.factor, f.points) for f in a.factors] != [
            (f.factor, f.points) for f in option.factors
        ]:
            errors.append(f"{where}: factors differ from the candidate's")
        if a.provider_id != vacancy.provider_id or a.weekly_cost != vacancy.weekly_cost:
            errors.append(f"{where}: provider or weekly cost differs from the vacancy's")
        if a.sibling_group != child.sibling_group:
            errors.append(f"{where}: sibling group differs from the child's")
        kin = (
            vacancy.placement_type is PlacementType.CONNECTED_PERSON_FOSTER
            and a.child_id in vacancy.connected_to
        )
        if a.connected_person != kin:
            errors.append(f"{where}: connected_person is {a.connected_person}, expected {kin}")
        area = fixed_area or child.authority
        in_area = vacancy.authority is not None and vacancy.authority == area
        if a.in_area != in_area:
            errors.append(f"{where}: in_area is {a.in_area}, expected {in_area}")
        if child.home is None:
            if a.distance_miles is not None:
                errors.append(f"{where}: a distance for a child without a home postcode")
        else:
            home, there = child.home, vacancy.location
            if home.grid == there.grid:
                miles = float(
                    grid_miles(home.easting, home.northing, there.easting, there.northing)
                )
                tolerance = 1e-9
            else:  # Northern Ireland and Great Britain: no common grid, great-circle miles
                miles = great_circle_miles(home.lat, home.lon, there.lat, there.lon)
                tolerance = 0.01  # a sphere against the WGS84 ellipsoid
            if a.distance_miles is None or not math.isclose(
                a.distance_miles, miles, rel_tol=tolerance, abs_tol=_MILES_TOLERANCE
            ):
                errors.append(f"{where}: distance {a.distance_miles} != grid miles {miles:.6f}")
        points_total += a.objective_points

    # ------------------------------------------------------------------ beds
    in_vacancy: dict[str, list[str]] = defaultdict(list)
    for a in result.assignments:
        in_vacancy[a.vacancy_id].append(a.child_id)
    for vid, kids in sorted(in_vacancy.items()):
        if vid in vacancies and len(kids) > vacancies[vid].beds:
            errors.append(
                f"vacancy {vid}: {len(kids)} children placed, only {vacancies[vid].beds} beds"
            )

    # ------------------------------------------------------------------ households
    for provider in folder.providers:
        here = [c for v in provider.vacancies for c in in_vacancy.get(v.vacancy_id, [])]
        fostered = [
            c
            for v in provider.vacancies
            if v.is_fostering
            for c in in_vacancy.get(v.vacancy_id, [])
        ]
        # Only a household the match places a child in can break the limit: one over it
        # already (an exemption, a sibling group) and given nobody is as the folder says.
        if fostered and provider.fostered_now + len(fostered) > FOSTERING_LIMIT:
            groups = {children[c].sibling_group for c in fostered}
            exempt = provider.fostered_now == 0 and len(groups) == 1 and None not in groups
            if not exempt:
                errors.append(
                    f"household {provider.provider_id}: {provider.fostered_now} fostered already "
                    f"and {len(fostered)} placed, more than the limit of {FOSTERING_LIMIT} "
                    "(Children Act 1989 Sch. 7) and not all siblings"
                )
        for c in here:
            if Need.SOLO_ONLY not in children[c].needs:
                continue
            family = children[c].sibling_group
            strangers = [
                o
                for o in here
                if o != c and (family is None or children[o].sibling_group != family)
            ]
            if provider.fostered_now > 0 or strangers:
                errors.append(
                    f"child {c} needs a solo placement but household {provider.provider_id} has "
                    f"{provider.fostered_now} fostered already and others placed: "
                    + (", ".join(strangers) or "none")
                )

    # ------------------------------------------------------------------ sibling groups
    vacancy_of = result.vacancy_of
    reported = {s.sibling_group: s for s in result.splits}
    penalties = 0
    for group in folder.sibling_groups:
        if group.size < 2:
            continue
        placements = [vacancy_of.get(c) for c in group.child_ids]
        whole = len(set(placements)) == 1
        if whole:
            if group.sibling_group_id in reported:
                errors.append(f"sibling group {group.sibling_group_id}: reported split, is not")
            continue
        if not policy.allow_sibling_split:
            where = ", ".join(
                f"{c}: {v or 'unplaced'}" for c, v in zip(group.child_ids, placements, strict=True)
            )
            errors.append(
                f"sibling group {group.sibling_group_id} is split ({where}) "
                "but the policy keeps sibling groups together"
            )
            continue
        penalty = _split_penalty(policy.sibling_split_cost, placements)
        penalties += penalty
        split = reported.get(group.sibling_group_id)
        if split is None:
            errors.append(f"sibling group {group.sibling_group_id} is split but not reported")
        elif dict(split.placements) != dict(zip(group.child_ids, placements, strict=True)) or (
            split.penalty != penalty
        ):
            errors.append(
                f"sibling group {group.sibling_group_id}: the reported split differs from the "
                f"assignments (penalty {split.penalty}, expected {penalty})"
            )
    if not policy.allow_sibling_split and result.splits:
        errors.append("splits reported but the policy keeps sibling groups together")

    # ------------------------------------------------------------------ providers' declines
    declined = {(r.child_id, r.vacancy_id): r for r in folder.responses if r.declined}
    for a in result.assignments:
        if a.child_id not in children:
            continue
        unit = [a.child_id]
        if not policy.allow_sibling_split:
            unit += folder.siblings_of(a.child_id)
        for cid in unit:
            answer = declined.get((cid, a.vacancy_id))
            if answer is not None:
                code = "none" if answer.reason is None else answer.reason.value
                whom = "this child" if cid == a.child_id else f"the sibling {cid}"
                errors.append(
                    f"assignment {a.child_id} -> {a.vacancy_id}: the provider declined {whom} "
                    f"(reason {code}); declined_by_provider excludes it"
                )
    reported_declines = [(d.child_id, d.vacancy_id, d.reason) for d in result.declined]
    expected_declines = [
        (c, v, None if r.reason is None else r.reason.value) for (c, v), r in declined.items()
    ]
    if sorted(reported_declines, key=str) != sorted(expected_declines, key=str):
        errors.append(
            f"declined referrals reported {len(reported_declines)} differ from the folder's "
            f"{len(expected_declines)} declines"
        )

    # ------------------------------------------------------------------ objective, metrics
    if points_total - penalties != result.objective:
        errors.append(
            f"objective {result.objective} != objective points {points_total} less split "
            f"penalties {penalties}"
        )
    expected = compute_metrics(folder, result.assignments, sibling_splits=len(result.splits))
    if expected != result.metrics:
        errors.append(f"metrics differ from those recomputed: expected {expected}")
    if result.levels:
        errors.extend(_level_errors(folder, candidates, result))
    return errors


def _level_errors(folder: CaseFolder, candidates: CandidateSet, result: MatchResult) -> list[str]:
    """The per-level gaps, unfolded again from the objective and bound (empty if they agree)."""
    folding, policy = candidates.folding, folder.policy
    try:
        expected = level_gaps(
            result.objective,
            result.bound,
            placed=len(result.assignments),
            kin=sum(a.connected_person for a in result.assignments),
            in_area=sum(a.in_area for a in result.assignments),
            points=sum(a.points for a in result.assignments)
            - sum(s.penalty for s in result.splits),
            placement_base=folding.placement_base,
            connected_base=folding.connected_base,
            in_area_base=folding.in_area_base,
            score_min=folding.score_min,
            split_max=policy.sibling_split_cost * sum(g.size for g in folder.sibling_groups)
            if policy.allow_sibling_split
            else 0,
        )
    except ValueError as exc:
        return [f"levels: {exc}"]
    if tuple(expected) != tuple(result.levels):
        return [f"levels {result.levels} differ from those unfolded again: {expected}"]
    return []
