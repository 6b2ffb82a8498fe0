"""The result of a batch match: plain, JSON-ready data with a :meth:`~MatchResult.summary`
(its headline figures) and a one-screen :meth:`~MatchResult.text`.

A :class:`MatchResult` is what :func:`matcher.match.match` returns and what
``placematch match --out FILE`` writes (the *assignment file* that ``placematch export-903``
reads). It holds no solver object: only ids, integers, floats and strings, so that it can be
stored, compared and read back (:meth:`MatchResult.from_dict`).

Points
------
Each assignment carries two numbers:

* ``points`` -- the option's score, the sum of its ``factors`` (every point has a reason);
* ``objective_points`` -- the coefficient the optimiser maximises: the score with the
  statutory order folded in (a base for placing a child at all, then the connected-person
  tier). See ``docs/match.md``.

``objective`` is the sum of ``objective_points`` less the sibling-split penalties.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "REASON_CODES",
    "STATUSES",
    "AssignedFactor",
    "AssignedSignoff",
    "Assignment",
    "BlockedVacancy",
    "DeclinedReferral",
    "LevelGap",
    "MatchResult",
    "Metrics",
    "SiblingSplit",
    "UnplacedChild",
    "UnplacedReason",
    "level_gaps",
]

#: ``optimal`` only when objective equals a proven bound; ``feasible`` otherwise.
STATUSES: tuple[str, ...] = ("optimal", "feasible")

#: Why a child is unplaced (``UnplacedReason.code``).
REASON_CODES: dict[str, str] = {
    "no_eligible_vacancy": "no vacancy passes the hard rules for this child",
    "sibling_group": "no vacancy can take the whole sibling group together",
    "capacity_taken": "every eligible vacancy's beds (or household places) went to others",
    "not_chosen": "an eligible place was free but the search stopped before proving optimality",
    "not_proven": "the search stopped before proving the match best: a better match may place "
    "this child",
}

#: The levels of the lexicographic objective, in order (``LevelGap.level``).
LEVELS: tuple[str, ...] = ("children", "kin", "in_area", "points")


@dataclass(frozen=True, slots=True)
class AssignedFactor:
    """Points one factor gives an assignment, with its one-sentence reason and the statute
    (or other basis) the factor rests on (``reference``; empty in files written before it)."""

    factor: str
    points: int
    reason: str
    reference: str = ""


@dataclass(frozen=True, slots=True)
class AssignedSignoff:
    """A sign-off the placement needs (e.g. ``out_of_area``: the nominated officer)."""

    code: str
    description: str


@dataclass(frozen=True, slots=True)
class Assignment:
    """One child placed in one vacancy.

    Attributes
    ----------
    child_id, vacancy_id, provider_id
        Ids from the case folder.
    placement_type
        The vacancy's :class:`~matcher.placement_types.PlacementType` value.
    points
        The option's score: exactly the sum of ``factors``' points.
    objective_points
        The optimiser's coefficient for this pair (score with the statutory order folded in).
    factors
        Points per factor, each with its reason.
    connected_person
        Placed with a connected-person carer (s22C(7)(a)).
    distance_miles
        Straight-line miles from home (903 grid formula, unrounded); ``None`` for a
        child without a home postcode (separated migrant, or ``home_postcode_unknown``).
    school_distance_miles
        Miles from the placement to the child's school; ``None`` without a located school.
    in_area, adjoining
        The placement is in the child's (or the policy's) authority / in an adjoining one.
    signoffs
        Sign-offs this placement needs.
    sibling_group
        The child's sibling group, if any.
    weekly_cost
        The vacancy's weekly cost (whole pounds).
    """

    child_id: str
    vacancy_id: str
    provider_id: str
    placement_type: str
    points: int
    objective_points: int
    factors: tuple[AssignedFactor, ...]
    connected_person: bool
    distance_miles: float | None
    school_distance_miles: float | None
    in_area: bool
    adjoining: bool
    signoffs: tuple[AssignedSignoff, ...]
    sibling_group: str | None
    weekly_cost: int


@dataclass(frozen=True, slots=True)
class BlockedVacancy:
    """An eligible vacancy a child did not get, and who or what took its place."""

    vacancy_id: str
    provider_id: str
    why: str
    taken_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UnplacedReason:
    """One reason a child is unplaced.

    Attributes
    ----------
    code
        One of :data:`REASON_CODES`.
    message
        One sentence (ids only, no personal data).
    excluded_by
        For ``no_eligible_vacancy``: vacancies excluded per hard rule (each vacancy counted
        under the first rule it breaks, in the rules' order).
    vacancies
        For ``capacity_taken`` / ``sibling_group`` / ``not_chosen``: the eligible vacancies
        and the children that took them.
    """

    code: str
    message: str
    excluded_by: Mapping[str, int] = field(default_factory=dict)
    vacancies: tuple[BlockedVacancy, ...] = ()


@dataclass(frozen=True, slots=True)
class UnplacedChild:
    """A child the match leaves without a placement, and why."""

    child_id: str
    sibling_group: str | None
    reasons: tuple[UnplacedReason, ...]


@dataclass(frozen=True, slots=True)
class DeclinedReferral:
    """A vacancy the match never offered a child because its provider declined the referral
    (``responses.csv``; the hard rule ``declined_by_provider``), with the reason code."""

    child_id: str
    vacancy_id: str
    provider_id: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class LevelGap:
    """One level of the statutory order, what the match reached and the most it could.

    The objective folds the levels into one integer (``docs/match.md``); the proven bound
    unfolds into one bound per level the same way. A level's bound holds only while every
    level above it is closed (reached its bound): a match placing one more child may have
    any number of kin. So below the first open level the bound is ``None``.

    Attributes
    ----------
    level
        One of :data:`LEVELS`: ``children`` placed, ``kin`` (placed with a connected
        person, when ``connected_person_tier``), ``in_area`` (when ``in_area_tier``) and
        ``points`` (the sum of the placed children's scores less split penalties).
    achieved
        The match's value at this level.
    bound
        The most any valid match can reach at this level, given the levels above as
        reached; ``None`` when a level above is open.
    """

    level: str
    achieved: int
    bound: int | None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level {self.level!r}: expected one of {', '.join(LEVELS)}")
        if self.bound is not None and self.bound < self.achieved:
            raise ValueError(
                f"level {self.level}: bound {self.bound} is below the achieved {self.achieved}"
            )

    @property
    def shortfall(self) -> int | None:
        """``bound - achieved``; ``None`` when the bound is open."""
        return None if self.bound is None else self.bound - self.achieved

    @property
    def closed(self) -> bool:
        """The level reached its bound (proven at this level)."""
        return self.bound is not None and self.achieved == self.bound


def level_gaps(
    objective: int,
    bound: int,
    *,
    placed: int,
    kin: int,
    in_area: int,
    points: int,
    placement_base: int,
    connected_base: int,
    in_area_base: int,
    score_min: int,
    split_max: int,
) -> tuple[LevelGap, ...]:
    """Unfold the objective and its proven bound into one gap per level.

    The objective is ``placed * placement_base + kin * connected_base + in_area *
    in_area_base + points`` (``matcher.candidates.Folding``; ``points`` already less any
    split penalties). Any valid match placing ``n`` children is worth at least
    ``n * (placement_base + score_min) - split_max``: so no match worth at most ``bound``
    places more than ``(bound + split_max) // (placement_base + score_min)`` children. When
    the match places that many, the rest of the bound bounds the kin the same way, then
    the in-area placements, and what is left bounds the points.

    Parameters
    ----------
    objective, bound
        The match's folded objective and the optimiser's proven upper bound.
    placed, kin, in_area, points
        The match's value at each level (``kin`` and ``in_area`` count only when their
        base is not 0).
    placement_base, connected_base, in_area_base, score_min
        The folding (``Folding``); a base of 0 means the level is not a tier.
    split_max
        The most sibling-split penalties any match can pay (0 without splits).

    Returns
    -------
    tuple of LevelGap
        ``children``, then ``kin`` and ``in_area`` when they are tiers, then ``points``.

    Raises
    ------
    ValueError
        If the levels do not fold into ``objective``, or the bound is below it.
    """
    kin = kin if connected_base else 0
    in_area = in_area if in_area_base else 0
    folded = placed * placement_base + kin * connected_base + in_area * in_area_base + points
    if folded != objective:
        raise ValueError(f"the levels fold into {folded}, not the objective {objective}")
    if bound < objective:
        raise ValueError(f"the bound {bound} is below the objective {objective}")
    per_child = placement_base + score_min
    if per_child <= 0:
        raise ValueError(f"placement_base + score_min = {per_child}: expected above 0")
    out = [LevelGap("children", placed, (bound + split_max) // per_child)]
    # the least the lower levels of a match placing `placed` children can be worth
    floor = placed * score_min - split_max
    rest = bound - placed * placement_base
    tiers = [("kin", kin, connected_base), ("in_area", in_area, in_area_base)]
    for level, achieved, base in tiers:
        if not base:
            continue
        if not out[-1].closed:
            out.append(LevelGap(level, achieved, None))
            continue
        out.append(LevelGap(level, achieved, min(placed, (rest - floor) // base)))
        rest -= achieved * base
    out.append(LevelGap("points", points, rest if out[-1].closed else None))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class SiblingSplit:
    """A sibling group not placed whole in one vacancy (only when the policy allows splits)."""

    sibling_group: str
    placements: Mapping[str, str | None]  # child_id -> vacancy_id (None: unplaced)
    penalty: int


@dataclass(frozen=True, slots=True)
class Metrics:
    """Outcome measures of a match (see ``docs/match.md`` for every denominator).

    Percentages are of *placed* children unless said otherwise, rounded to 0.1, and
    ``None`` when their denominator is zero.

    Attributes
    ----------
    children, placed, unplaced
        Counts.
    kin_pct
        Placed with a connected-person carer.
    within_20_miles_pct
        Placed at most 20 miles from home (903 ``PL_DISTANCE``, to 0.1 mile), of placed
        children with a home postcode (children without one -- separated migrant children,
        ``home_postcode_unknown`` -- are excluded).
    in_area_pct
        Placed in area (s22C(9)).
    siblings_together_pct
        Of all children in sibling groups (of two or more in the folder): placed in the same
        household as every sibling of the group.
    school_kept_pct
        Of placed children with a located school: the placement is within
        ``school_kept_miles`` of it.
    school_kept_miles
        The distance used (the policy's ``distance_step_miles``, 20 by default).
    weekly_cost
        Sum of the weekly cost of the vacancy of every placed child (whole pounds).
    sibling_splits
        Sibling groups placed apart (always 0 unless the policy allows splits).
    """

    children: int
    placed: int
    unplaced: int
    kin_pct: float | None
    within_20_miles_pct: float | None
    in_area_pct: float | None
    siblings_together_pct: float | None
    school_kept_pct: float | None
    school_kept_miles: float
    weekly_cost: int
    sibling_splits: int


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The batch match of a case folder.

    Attributes
    ----------
    status
        ``"optimal"`` (objective equals the proven bound) or ``"feasible"``.
    objective
        Sum of the assignments' ``objective_points`` less sibling-split penalties.
    bound
        Proven upper bound on the objective of any valid match.
    seed
        The solver seed.
    parameters
        The solver parameters used (``SolverParameters.to_mapping()``).
    assignments
        Sorted by ``child_id``.
    unplaced
        Sorted by ``child_id``; each with its reasons.
    splits
        Sibling groups placed apart (policy ``allow_sibling_split``), each reported.
    metrics
        Outcome measures.
    stats
        Sizes and times (candidate pairs, solves, seconds); not part of the answer.
    declined
        The referrals providers declined (``responses.csv``), by child then vacancy: none of
        them is assigned.
    levels
        The gap per level of the statutory order (children placed, kin, in area when a
        tier, points), each against its own bound (:func:`level_gaps`).
    """

    status: str
    objective: int
    bound: int
    seed: int
    parameters: Mapping[str, Any]
    assignments: tuple[Assignment, ...]
    unplaced: tuple[UnplacedChild, ...]
    splits: tuple[SiblingSplit, ...]
    metrics: Metrics
    stats: Mapping[str, Any] = field(default_factory=dict, compare=False)
    declined: tuple[DeclinedReferral, ...] = ()
    levels: tuple[LevelGap, ...] = ()

    @property
    def gap(self) -> float:
        """Relative gap ``(bound - objective) / bound`` (0 when proven optimal)."""
        return (self.bound - self.objective) / self.bound if self.bound else 0.0

    def assignment_of(self, child_id: str) -> Assignment | None:
        """The child's assignment, or ``None`` if unplaced."""
        for a in self.assignments:
            if a.child_id == child_id:
                return a
        return None

    @property
    def vacancy_of(self) -> dict[str, str]:
        """``child_id -> vacancy_id`` of every placed child."""
        return {a.child_id: a.vacancy_id for a in self.assignments}

    # ------------------------------------------------------------------ plain data

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready plain data (the assignment file's content)."""
        data = asdict(self)
        data["gap"] = self.gap
        data["assignments"] = [asdict(a) for a in self.assignments]
        data["unplaced"] = [
            {
                "child_id": u.child_id,
                "sibling_group": u.sibling_group,
                "reasons": [
                    {
                        "code": r.code,
                        "message": r.message,
                        "excluded_by": dict(r.excluded_by),
                        "vacancies": [asdict(b) for b in r.vacancies],
                    }
                    for r in u.reasons
                ],
            }
            for u in self.unplaced
        ]
        data["splits"] = [
            {
                "sibling_group": s.sibling_group,
                "placements": dict(s.placements),
                "penalty": s.penalty,
            }
            for s in self.splits
        ]
        data["parameters"] = dict(self.parameters)
        data["stats"] = dict(self.stats)
        data["declined"] = [asdict(d) for d in self.declined]
        data["levels"] = [
            {"level": g.level, "achieved": g.achieved, "bound": g.bound, "shortfall": g.shortfall}
            for g in self.levels
        ]
        order = [
            "status",
            "objective",
            "bound",
            "gap",
            "levels",
            "seed",
            "parameters",
            "metrics",
            "assignments",
            "unplaced",
            "splits",
            "declined",
            "stats",
        ]
        return {k: data[k] for k in order}

    def to_json(self, *, indent: int | None = 2) -> str:
        """The result as JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatchResult:
        """Read a result back from :meth:`to_dict` data (``KeyError``, ``TypeError`` if bad)."""
        assignments = tuple(
            Assignment(
                **{
                    **a,
                    "factors": tuple(AssignedFactor(**f) for f in a["factors"]),
                    "signoffs": tuple(AssignedSignoff(**s) for s in a["signoffs"]),
                }
            )
            for a in data["assignments"]
        )
        unplaced = tuple(
            UnplacedChild(
                child_id=u["child_id"],
                sibling_group=u.get("sibling_group"),
                reasons=tuple(
                    UnplacedReason(
                        code=r["code"],
                        message=r["message"],
                        excluded_by=dict(r.get("excluded_by", {})),
                        vacancies=tuple(
                            BlockedVacancy(
                                vacancy_id=b["vacancy_id"],
                                provider_id=b["provider_id"],
                                why=b["why"],
                                taken_by=tuple(b.get("taken_by", ())),
                            )
                            for b in r.get("vacancies", ())
                        ),
                    )
                    for r in u["reasons"]
                ),
            )
            for u in data["unplaced"]
        )
        splits = tuple(
            SiblingSplit(s["sibling_group"], dict(s["placements"]), int(s["penalty"]))
            for s in data.get("splits", ())
        )
        return cls(
            status=data["status"],
            objective=int(data["objective"]),
            bound=int(data["bound"]),
            seed=int(data["seed"]),
            parameters=dict(data["parameters"]),
            assignments=assignments,
            unplaced=unplaced,
            splits=splits,
            metrics=Metrics(**data["metrics"]),
            stats=dict(data.get("stats", {})),
            declined=tuple(DeclinedReferral(**d) for d in data.get("declined", ())),
            levels=tuple(
                LevelGap(
                    g["level"], int(g["achieved"]), None if g["bound"] is None else int(g["bound"])
                )
                for g in data.get("levels", ())
            ),
        )

    def summary(self) -> dict[str, Any]:
        """The headline figures as plain data (JSON-ready): status, objective, bound, gap,
        seed, the outcome measures and how many were assigned, unplaced, split and declined
        (:meth:`text` prints them for people; :meth:`to_dict` is the whole result)."""
        return {
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "seed": self.seed,
            "metrics": asdict(self.metrics),
            "assignments": len(self.assignments),
            "unplaced": len(self.unplaced),
            "splits": len(self.splits),
            "declined": len(self.declined),
        }

    # ------------------------------------------------------------------ people

    def text(self, *, max_unplaced: int = 50) -> str:
        """A one-screen summary for people: status, objective, bound, gap, metrics and the
        unplaced (what ``placematch match`` prints)."""
        m = self.metrics

        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.1f}%"

        p = self.parameters
        lines = [
            f"Status     {self.status} (objective {self.objective}, bound {self.bound}, "
            f"gap {_gap_text(self.objective, self.bound)})",
            f"Solver     seed {self.seed}, {_workers(p.get('num_workers'))}, "
            f"{_limits(p)}; "
            f"{self.stats.get('time_match_s', self.stats.get('time_total_s', 0.0)):.2f} s in all",
            *_stopped(self.status, self.stats),
            *_levels_text(self.levels),
            *_cut(self.stats),
            f"Placed     {m.placed} of {m.children} children ({m.unplaced} unplaced)",
            f"Kin        {pct(m.kin_pct)} with connected persons",
            f"Distance   {pct(m.within_20_miles_pct)} within 20 miles of home",
            f"In area    {pct(m.in_area_pct)}",
            f"Siblings   {pct(m.siblings_together_pct)} of children in sibling groups together"
            + (
                f" ({m.sibling_splits} group{'s' if m.sibling_splits != 1 else ''} split)"
                if m.sibling_splits
                else ""
            ),
            f"School     {pct(m.school_kept_pct)} within {m.school_kept_miles:g} miles of school",
            f"Cost       £{m.weekly_cost:,} a week",
        ]
        if self.assignments:
            lines.append("")
            lines.append("Assignments (child -> vacancy, points, miles, sign-offs)")
            # every point rests on a factor, and every factor on its statute (--json has
            # each assignment's points, reason and reference per factor)
            cited = {f.factor: f.reference for a in self.assignments[:1] for f in a.factors}
            for a in self.assignments:
                miles = "-" if a.distance_miles is None else f"{a.distance_miles:.1f}"
                signoffs = ", ".join(s.code for s in a.signoffs) or "-"
                kin = " kin" if a.connected_person else ""
                lines.append(
                    f"  {a.child_id:<10} -> {a.vacancy_id:<10} {a.points:>6} pts "
                    f"{miles:>6} mi  {signoffs}{kin}"
                )
            if cited:
                lines.append("Points per factor (see --json), each under its statute:")
                width = max(len(name) for name in cited)
                lines.extend(
                    f"  {name:<{width}}  {reference or 'no reference recorded'}"
                    for name, reference in cited.items()
                )
        if self.splits:
            lines.append("")
            lines.append("Sibling groups split (allowed by the policy)")
            for s in self.splits:
                where = ", ".join(f"{c}: {v or 'unplaced'}" for c, v in s.placements.items())
                lines.append(f"  {s.sibling_group}: {where} (penalty {s.penalty})")
        if self.declined:
            lines.append("")
            lines.append("Declined by the provider (never offered)")
            for d in self.declined:
                lines.append(
                    f"  {d.child_id:<10} -> {d.vacancy_id:<10} provider {d.provider_id}: "
                    f"{d.reason or 'no reason given'}"
                )
        if self.unplaced:
            lines.append("")
            lines.append("Unplaced")
            for u in self.unplaced[:max_unplaced]:
                for r in u.reasons:
                    lines.append(f"  {u.child_id}: {r.message}")
            if len(self.unplaced) > max_unplaced:
                lines.append(f"  ... and {len(self.unplaced) - max_unplaced} more (see --json)")
        return "\n".join(lines)


def metrics_pct(part: int, whole: int) -> float | None:
    """A percentage rounded to 0.1, ``None`` when ``whole`` is zero (shared by the validator)."""
    return _pct(part, whole)


def _relative(shortfall: int, bound: int) -> str:
    """``shortfall`` as a percentage of ``bound`` to 4 decimals; never "0.0000 %" for a
    shortfall that is not zero ("< 0.0001 %"), "n/a" for a bound that is not above 0."""
    if shortfall == 0:
        return "0 %"
    if bound <= 0:
        return "n/a"
    pct = 100.0 * shortfall / bound
    return "< 0.0001 %" if pct < 0.0001 else f"{pct:.4f} %"


def _gap_text(objective: int, bound: int) -> str:
    """The gap in points and per cent; never "0.0000 %" for a gap that is not zero."""
    if objective >= bound:
        return "0 points, proven"
    return f"{bound - objective:,} points, {_relative(bound - objective, bound)}"


#: How the summary names each level.
_LEVEL_WORDS = {
    "children": "children placed",
    "kin": "with kin",
    "in_area": "in area",
    "points": "points",
}


def _levels_text(levels: Sequence[LevelGap]) -> list[str]:
    """A ``Gap`` block, one line per level against its own bound (none when all are closed)."""
    if all(g.closed for g in levels):
        return []
    lines = ["Gap        per level, each against its own bound:"]
    above = ""
    for g in levels:
        words = f"{_LEVEL_WORDS[g.level]:<16}{g.achieved:>14,}"
        if g.bound is None:
            lines.append(f"  {words}, bound open until {above} is proven")
            continue
        short = g.bound - g.achieved
        if short == 0:
            lines.append(f"  {words} of at most {g.bound:,}: proven")
        else:
            lines.append(
                f"  {words} of at most {g.bound:,}: {short:,} short ({_relative(short, g.bound)})"
            )
        above = _LEVEL_WORDS[g.level]
    return lines


def _limits(p: Mapping[str, Any]) -> str:
    """The solve's limits as a clause: the work limit (if on) and the wall-clock net."""
    work = p.get("deterministic_time_limit", 0.0)
    wall = f"{p.get('time_limit_s', '?')} s"
    if isinstance(work, int | float) and work > 0:
        return f"work limit {work:g} (deterministic), wall-clock net {wall}"
    return f"time limit {wall} (wall clock)"


#: What ended an unproven search, in words (``stats["stopped_by"]``).
STOPPED_BY = {
    "work_limit": "the work limit: not proven, but the same answer on any machine and load",
    "wall_clock": "the wall-clock limit: not proven, and another run (faster or quieter "
    "machine, other workers) may give another answer; raise --time-limit",
    "gap_limit": "the relative gap limit: not proven",
    "size_limit": "the size limit (a component larger than the solver's cpsat_max_pairs "
    "keeps its warm start and bound): not proven, but the same answer on any machine and load",
}


def _stopped(status: str, stats: Mapping[str, Any]) -> list[str]:
    """A ``Stopped`` line for a result that is not proven (none when it is)."""
    if status == "optimal":
        return []
    reason = str(stats.get("stopped_by", ""))
    return [f"Stopped    by {STOPPED_BY.get(reason, 'a limit: not proven')}"]


def _cut(stats: Mapping[str, Any]) -> list[str]:
    """A ``Pairs`` line when a candidate radius left pairs unseen (none without a cut)."""
    cut = stats.get("candidate_cut")
    if not isinstance(cut, Mapping) or not cut.get("pairs_not_evaluated"):
        return []
    return [
        f"Pairs      only vacancies within {cut['candidate_radius_miles']:g} miles "
        f"(policy candidate_radius_miles; at least {cut['candidate_min_options']} options a "
        f"child): {cut['pairs_not_evaluated']:,} of {cut['pairs_in_grid']:,} pairs never "
        "evaluated, so the status and bound are over the pairs evaluated"
    ]


def _workers(n: object) -> str:
    """``1 worker``, ``2 workers`` (or ``? workers`` when not recorded)."""
    return f"{n} worker" if n == 1 else f"{'?' if n is None else n} workers"
