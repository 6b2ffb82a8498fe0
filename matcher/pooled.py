"""Pooled (regional) matching: several authorities' children on their pooled supply.

A pooled folder names on every vacancy the authority that owns or commissions it
(``owner_la``). :func:`match_pooled` places every child of the region at once, as
:func:`matcher.match.match` does, and adds what a Regional Care Co-operative asks of it:

* **Each child under its own authority's policy.** ``policy.toml`` may change keys for one
  authority (``[authority."Essex"]``, :class:`matcher.policy.AuthorityOverride`). Each
  authority's children are then scored in a folder of their own (the same vacancies, that
  authority's policy: :func:`authority_folder`), and the pairs are joined into one candidate
  set whose folding bases hold for every authority's bounds at once, so the joint optimum
  still places the most children first. Without tables the folder is matched as it is.
  In-area is always the child's own authority (s22C(9)) unless the policy fixes one.
* **A scoring set of the user's own** (``scoring=``, :class:`matcher.scoring.Scoring` or a
  function of a folder returning one, ``--scoring``) applies to every authority's part: each
  authority's folder is scored under it (the function is called with that folder, as
  ``placematch rank`` calls it for a child of that authority), and the folding is widened to
  its factors' bounds under every authority's policy. The parts must agree on the factors
  (one column each in the joined candidates) and on the rules.
* **Outcomes per authority and for the region** (:class:`Outcome`), counted from the
  assignments with the same denominators as :mod:`matcher.metrics`.
* **Who pays** (:class:`Recharge`): the placing authority (the child's ``la``) pays the weekly
  cost of the vacancy; a placement in another authority's vacancy is a recharge from the
  placing authority to the owner.
* **The pooling dividend** (``dividend=True``): each authority matched alone on its own
  supply (its children, the vacancies it owns: :func:`solo_folder`) in the same run, with the
  same solver parameters, against its outcome in the pool.

Nothing here changes the optimiser or the folding (:class:`matcher.candidates.Folding`); the
pooled candidate set is built from per-authority candidate sets.
"""

from __future__ import annotations

import csv
import dataclasses
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from geography.authorities import Authority, resolve_authority
from geography.errors import GeographyError
from matcher.candidates import (
    CandidateSet,
    Folding,
    build_candidates,
    explain_pairs,
    only_options,
)
from matcher.domain import FOSTERING_LIMIT, CaseFolder, Child, Vacancy
from matcher.explain import Exclusion, Option
from matcher.factors import Factor, Pairs, factors_for, is_pooled
from matcher.factors.base import IntArray
from matcher.match import MatchError, match
from matcher.metrics import WITHIN_MILES, pl_distance_of
from matcher.optimiser import SolverParameters
from matcher.policy import Policy
from matcher.result import Assignment, MatchResult, metrics_pct
from matcher.scoring import Scoring, ScoringOf, scoring_for

__all__ = [
    "Outcome",
    "PooledResult",
    "Recharge",
    "authority_folder",
    "folder_for_child",
    "match_pooled",
    "policy_for",
    "region_of",
    "solo_folder",
]


# ----------------------------------------------------------------------------- the region


def region_of(folder: CaseFolder) -> tuple[Authority, ...]:
    """The pooled authorities: the vacancies' owners and the children's ``la``, by name."""
    found = {v.owner for v in folder.vacancies if v.owner is not None}
    found |= {c.authority for c in folder.children}
    return tuple(sorted(found, key=lambda a: a.name))


def _overrides(folder: CaseFolder) -> dict[Authority, Policy]:
    """Each ``[authority."NAME"]`` table's authority -> its whole policy.

    Raises
    ------
    ValueError
        Naming the table, for an authority that is not one, is outside the region or has
        two tables (a ``--policy`` file is not checked when the folder is loaded).
    """
    policy = folder.policy
    region = set(region_of(folder))
    out: dict[Authority, Policy] = {}
    for o in policy.overrides:
        where = f'policy authority."{o.authority}"'
        try:
            authority = resolve_authority(o.authority)
        except GeographyError:
            raise ValueError(
                f"{where}: not an authority; expected the ONS code, DfE number or name of an "
                "English upper-tier authority"
            ) from None
        if authority not in region:
            raise ValueError(f"{where}: {authority.name} is not of this folder's region")
        if authority in out:
            raise ValueError(f"{where}: {authority.name} has two tables; expected one")
        out[authority] = policy.for_changes(o.changes)
    return out


def policy_for(folder: CaseFolder, authority: Authority) -> Policy:
    """The policy ``authority``'s children are scored under: the folder's, with the changes
    of its ``[authority."NAME"]`` table if it has one (and no tables)."""
    return _overrides(folder).get(authority) or dataclasses.replace(folder.policy, overrides=())


def _sub_folder(
    folder: CaseFolder,
    children: Sequence[Child],
    vacancies: Sequence[Vacancy],
    policy: Policy,
) -> CaseFolder:
    """``folder`` cut to ``children`` and ``vacancies`` under ``policy``: connected-person
    links, responses and residents kept only where both ends are in the cut.

    A connected-person carer none of whose children is in the cut is left out: it is
    approved for other children only (so in no pair of these), and a carer connected to no
    child is no vacancy (``connected_to`` may not be empty). The cut's vacancies are then a
    subset of ``vacancies``, in the same order.
    """
    ids = {c.child_id for c in children}
    vacs = [
        v if v.connected_to <= ids else dataclasses.replace(v, connected_to=v.connected_to & ids)
        for v in vacancies
        if not v.connected_to or v.connected_to & ids
    ]
    vac_ids = {v.vacancy_id for v in vacs}
    providers = {v.provider_id for v in vacs}
    return dataclasses.replace(
        folder,
        children=tuple(children),
        vacancies=tuple(vacs),
        policy=policy,
        responses=tuple(
            r for r in folder.responses if r.child_id in ids and r.vacancy_id in vac_ids
        ),
        residents=tuple(r for r in folder.residents if r.provider_id in providers),
    )


def authority_folder(folder: CaseFolder, authority: Authority) -> CaseFolder:
    """The authority's children against every vacancy of the pool, under its policy."""
    kids = [c for c in folder.children if c.authority == authority]
    return _sub_folder(folder, kids, folder.vacancies, policy_for(folder, authority))


def folder_for_child(folder: CaseFolder, child_id: str) -> CaseFolder:
    """The folder one child is ranked in: with ``[authority."NAME"]`` tables, its
    authority's folder (:func:`authority_folder`, the same vacancies under the child's
    authority's policy); otherwise, or for an unknown id, ``folder`` itself.

    A ranking there gives the points and order the pooled match uses for the child; its
    ``objective_points`` are folded for that folder, not the region's.
    """
    if not folder.policy.overrides or not is_pooled(folder):
        return folder
    try:
        child = folder.child(child_id)
    except LookupError:
        return folder
    return authority_folder(folder, child.authority)


def solo_folder(folder: CaseFolder, authority: Authority) -> CaseFolder:
    """The authority alone: its children and the vacancies it owns, under its policy."""
    kids = [c for c in folder.children if c.authority == authority]
    owned = [v for v in folder.vacancies if v.owner == authority]
    return _sub_folder(folder, kids, owned, policy_for(folder, authority))


# ----------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class _Envelope:
    """A factor whose bounds hold under every authority's policy (for the folding only):
    ``members`` are the factor as each authority scores it, with that authority's policy."""

    members: tuple[tuple[Factor, Policy], ...]
    kind: ClassVar[Literal["soft"]] = "soft"

    @property
    def factor(self) -> Factor:
        return self.members[0][0]

    @property
    def name(self) -> str:
        return self.factor.name

    @property
    def reference(self) -> str:
        return self.factor.reference

    @property
    def label(self) -> str:
        return self.factor.label

    @property
    def short(self) -> str:
        return self.factor.short

    @property
    def weight_key(self) -> str | None:
        return self.factor.weight_key

    def weight(self, policy: Policy) -> int:
        return max(f.weight(p) for f, p in self.members)

    def bounds(self, policy: Policy) -> tuple[int, int]:
        low = min(f.bounds(p)[0] for f, p in self.members)
        high = max(f.bounds(p)[1] for f, p in self.members)
        return low, high

    def assess(self, pairs: Pairs) -> IntArray:  # pragma: no cover - never scores
        return self.factor.assess(pairs)

    def reason(self, pairs: Pairs, k: int, points: int) -> str:  # pragma: no cover
        return self.factor.reason(pairs, k, points)


def pooled_folding(
    folder: CaseFolder,
    policies: Sequence[Policy],
    factor_sets: Sequence[Sequence[Factor]] | None = None,
) -> Folding:
    """:meth:`Folding.for_folder` of the whole folder with each factor's bounds widened to
    every authority's policy: one more child placed still outweighs any points of any
    authority, so the joint optimum is the statutory order for every child.

    ``factor_sets[i]`` are the factors scored under ``policies[i]`` (default: the folder's
    own, :func:`~matcher.factors.factors_for`, under every policy); the sets hold the same
    factors in the same order."""
    if factor_sets is None:
        factor_sets = [factors_for(folder)] * len(policies)
    if len(factor_sets) != len(policies):
        raise ValueError("pooled_folding: one factor set per policy expected")
    columns = zip(*factor_sets, strict=True)
    factors = [_Envelope(tuple(zip(column, policies, strict=True))) for column in columns]
    return Folding.for_folder(folder, factors)  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class _PooledCandidates(CandidateSet):
    """The region's candidates, each child's pairs scored in its authority's folder (under
    its authority's scoring set, ``scorings``: ``None`` for the folder's own)."""

    folders: Mapping[str, CaseFolder] = field(default_factory=dict, repr=False)
    scorings: Mapping[str, Scoring | None] = field(default_factory=dict, repr=False)

    def options(self, rows: Sequence[int]) -> list[Option]:
        """Each pair explained in its child's authority folder, with the pooled folding."""
        children, vacancies = self.folder.children, self.folder.vacancies
        asked = [
            (
                children[int(self.child_index[k])].child_id,
                vacancies[int(self.vacancy_index[k])].vacancy_id,
            )
            for k in rows
        ]
        return only_options(
            rows, explain_in_authority(self.folders, self.folding, asked, self.scorings)
        )

    def option(self, k: int) -> Option:
        """Full explanation of pair ``k`` in its child's authority folder."""
        return self.options([k])[0]


def explain_in_authority(
    folders: Mapping[str, CaseFolder],
    folding: Folding,
    asked: Sequence[tuple[str, str]],
    scorings: Mapping[str, Scoring | None] | None = None,
) -> list[Option | Exclusion]:
    """Each ``(child_id, vacancy_id)`` explained in the child's authority folder (its
    policy, and its scoring set in ``scorings`` by child id: the folder's own when none),
    its objective points and tier re-folded with the region's ``folding``."""
    by_folder: dict[int, list[int]] = defaultdict(list)
    for i, (child_id, _) in enumerate(asked):
        by_folder[id(folders[child_id])].append(i)
    out: list[Option | Exclusion | None] = [None] * len(asked)
    for rows in by_folder.values():
        sub = folders[asked[rows[0]][0]]
        scoring = None if scorings is None else scorings.get(asked[rows[0]][0])
        found = explain_pairs(
            sub, [(sub.child(asked[i][0]), sub.vacancy(asked[i][1])) for i in rows], scoring
        )
        for i, one in zip(rows, found, strict=True):
            if isinstance(one, Option):
                one = dataclasses.replace(
                    one,
                    objective_points=int(
                        folding.objective([one.score], [one.connected_person], [one.in_area])[0]
                    ),
                    tier=int(folding.tier([one.connected_person], [one.in_area])[0]),
                )
            out[i] = one
    return [o for o in out if o is not None]


def _merge_screens(screens: Sequence[Mapping[str, int | float]]) -> dict[str, int | float]:
    if not screens or not screens[0]:
        return {}
    merged: dict[str, int | float] = dict(screens[0])
    for key in ("pairs_evaluated", "pairs_in_grid", "pairs_not_evaluated", "children_widened"):
        if key in merged:
            merged[key] = sum(int(s.get(key, 0)) for s in screens)
    return merged


def pooled_candidates(folder: CaseFolder, scoring: ScoringOf | None = None) -> CandidateSet:
    """The region's candidates: :func:`build_candidates` of each authority's folder
    (:func:`authority_folder`), joined, ordered by child then vacancy, folded once.

    ``scoring`` (a set, or a function of a folder returning one) scores every authority's
    folder; default each folder's own set.

    Raises
    ------
    ValueError
        If two authorities' sets differ in their factors or rules (a function of the folder
        may give each authority its own set; the joined candidates need one).
    """
    region = [a for a in region_of(folder) if any(c.authority == a for c in folder.children)]
    subs = {a: authority_folder(folder, a) for a in region}
    sets = {a: scoring_for(sub, scoring) for a, sub in subs.items()}
    _same_sets(subs, sets)
    factor_sets = [Scoring.of(sub, sets[a]).factors for a, sub in subs.items()]
    folding = pooled_folding(
        folder,
        [s.policy for s in subs.values()] or [folder.policy],
        factor_sets if scoring is not None and factor_sets else None,
    )
    child_pos = {c.child_id: i for i, c in enumerate(folder.children)}
    parts = [(sub, build_candidates(sub, sets[a])) for a, sub in subs.items()]
    if not parts:
        return build_candidates(folder, scoring_for(folder, scoring))

    def cat(name: str) -> Any:
        return np.concatenate([np.asarray(getattr(c, name)) for _, c in parts])

    # Each authority's folder may leave out other authorities' connected-person carers
    # (_sub_folder): its vacancy indices are mapped to the whole folder's.
    vacancy_pos = {v.vacancy_id: i for i, v in enumerate(folder.vacancies)}
    vi = np.concatenate(
        [
            np.asarray([vacancy_pos[v.vacancy_id] for v in sub.vacancies], dtype=np.int32)[
                np.asarray(c.vacancy_index, dtype=np.intp)
            ]
            for sub, c in parts
        ]
    ).astype(np.int32)
    ci = np.concatenate(
        [
            np.asarray([child_pos[sub.children[i].child_id] for i in c.child_index], dtype=np.int32)
            for sub, c in parts
        ]
    ).astype(np.int32)
    order = np.lexsort((vi, ci))
    score = cat("score")[order]
    connected = cat("connected_person")[order]
    in_area = cat("in_area")[order]
    counts: dict[str, int] = defaultdict(int)
    for _, c in parts:
        for rule, n in c.exclusion_counts.items():
            counts[rule] += n
    first = parts[0][1]
    folders = {c.child_id: subs[c.authority] for c in folder.children if c.authority in subs}
    scorings = {c.child_id: sets[c.authority] for c in folder.children if c.authority in subs}
    # providers of the whole folder (an authority's folder may hold fewer)
    providers = folder.providers
    provider_pos = {p.provider_id: i for i, p in enumerate(providers)}
    vacancy_provider = np.asarray(
        [provider_pos[v.provider_id] for v in folder.vacancies], dtype=np.int32
    )
    room = np.asarray(
        [max(0, FOSTERING_LIMIT - p.fostered_now) if p.is_fostering else -1 for p in providers],
        dtype=np.int64,
    )
    return _PooledCandidates(
        folder=folder,
        child_index=ci[order],
        vacancy_index=vi[order],
        objective_points=folding.objective(score, connected, in_area),
        score=score,
        factor_names=first.factor_names,
        factor_points=np.concatenate([c.factor_points for _, c in parts])[order],
        distance_miles=cat("distance_miles")[order],
        in_area=in_area,
        connected_person=connected,
        exclusion_counts=dict(counts),
        school_distance_miles=cat("school_distance_miles")[order],
        adjoining=cat("adjoining")[order],
        tier=folding.tier(connected, in_area),
        exclusive=cat("exclusive")[order],
        folding=folding,
        vacancy_provider=vacancy_provider,
        provider_fostering_room=room,
        screen=_merge_screens([c.screen for _, c in parts]),
        # the whole folder's set (match counts an unplaced child's exclusions under it):
        # every part's rules, which _same_sets checked are one
        scoring=None if scoring is None else first.scoring,
        folders=folders,
        scorings=scorings,
    )


def _same_sets(
    subs: Mapping[Authority, CaseFolder], sets: Mapping[Authority, Scoring | None]
) -> None:
    """Refuse authorities' scoring sets that differ in their factors or rules, naming them."""
    seen: tuple[Authority, tuple[str, ...], tuple[str, ...]] | None = None
    for a, sub in subs.items():
        s = Scoring.of(sub, sets[a])
        names = (s.factor_names, tuple(r.name for r in s.rules))
        if seen is None:
            seen = (a, *names)
            continue
        for what, mine, theirs in (("factors", names[0], seen[1]), ("rules", names[1], seen[2])):
            if mine != theirs:
                raise ValueError(
                    f"the scoring sets of {seen[0].name} and {a.name} differ in their {what} "
                    f"({', '.join(theirs)} against {', '.join(mine)}): a pooled folder's "
                    "authorities are scored under one set of factors and rules; return the "
                    "same ones for every authority's folder (their weights may still follow "
                    "each authority's policy)"
                )


# ----------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a match gave one authority's children (or the region's), as counts.

    The denominators are those of :mod:`matcher.metrics`: ``within_20_miles`` of placed
    children with a home postcode (``with_home``), ``siblings_together`` of all children in
    sibling groups of two or more (``in_sibling_groups``), ``school_kept`` (within the
    policy's ``distance_step_miles``) of placed children with a located school
    (``with_school``); ``weekly_cost`` is the placed children's vacancies' weekly cost.
    """

    children: int
    placed: int
    with_home: int
    within_20_miles: int
    in_sibling_groups: int
    siblings_together: int
    with_school: int
    school_kept: int
    weekly_cost: int

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if type(getattr(self, f.name)) is not int or getattr(self, f.name) < 0:
                raise ValueError(f"{f.name}: expected a whole number >= 0")

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self))
        )

    @classmethod
    def of(
        cls,
        children: Sequence[Child],
        groups: Mapping[str, tuple[str, ...]],
        assignments: Sequence[Assignment],
        school_miles: float,
    ) -> Outcome:
        """The outcome of ``assignments`` for ``children`` (``groups``: sibling group id ->
        its children, for the groups of two or more among them)."""
        ids = {c.child_id for c in children}
        mine = [a for a in assignments if a.child_id in ids]
        home = [a.distance_miles for a in mine if a.distance_miles is not None]
        school = [a.school_distance_miles for a in mine if a.school_distance_miles is not None]
        provider_of = {a.child_id: a.provider_id for a in mine}
        in_groups = together = 0
        for members in groups.values():
            in_groups += len(members)
            providers = {provider_of.get(c) for c in members}
            if len(providers) == 1 and None not in providers:
                together += len(members)
        return cls(
            children=len(children),
            placed=len(mine),
            with_home=len(home),
            within_20_miles=sum(pl_distance_of(m) <= WITHIN_MILES for m in home),
            in_sibling_groups=in_groups,
            siblings_together=together,
            with_school=len(school),
            school_kept=sum(m <= school_miles for m in school),
            weekly_cost=sum(a.weekly_cost for a in mine),
        )

    def to_dict(self) -> dict[str, int | float | None]:
        """Counts and their percentages (``None`` for an empty denominator)."""
        return {
            **dataclasses.asdict(self),
            "within_20_miles_pct": metrics_pct(self.within_20_miles, self.with_home),
            "siblings_together_pct": metrics_pct(self.siblings_together, self.in_sibling_groups),
            "school_kept_pct": metrics_pct(self.school_kept, self.with_school),
        }


#: The measures of the pooling dividend, in the order they are reported.
DIVIDEND_MEASURES: tuple[str, ...] = (
    "placed",
    "within_20_miles",
    "siblings_together",
    "school_kept",
    "weekly_cost",
)


@dataclass(frozen=True, slots=True)
class Recharge:
    """Weekly cost one authority pays for its children placed in another's vacancies (or in
    its own, ``placing == owner``)."""

    placing: Authority
    owner: Authority
    children: int
    weekly_cost: int

    def to_dict(self) -> dict[str, object]:
        """Plain data."""
        return {
            "placing_la": self.placing.name,
            "placing_la_code": self.placing.ons_code,
            "owner_la": self.owner.name,
            "owner_la_code": self.owner.ons_code,
            "children": self.children,
            "weekly_cost": self.weekly_cost,
        }


@dataclass(frozen=True)
class PooledResult:
    """A pooled match and what it means for each authority.

    Attributes
    ----------
    result : MatchResult
        The joint match of the whole region (validated).
    authorities : tuple of Authority
        The region, by name.
    outcomes : Mapping
        Authority -> :class:`Outcome` of its children in the pool.
    recharges : tuple of Recharge
        Placing authority x owner, every pair with a placement, by names.
    solo : Mapping or None
        Authority -> (:class:`Outcome` matched alone on its own supply, that match's
        status); ``None`` when the dividend was not asked for.
    """

    result: MatchResult
    authorities: tuple[Authority, ...]
    outcomes: Mapping[Authority, Outcome]
    recharges: tuple[Recharge, ...]
    solo: Mapping[Authority, tuple[Outcome, str]] | None = None

    @property
    def region(self) -> Outcome:
        """The region's outcome (the sum of the authorities')."""
        total = _ZERO
        for a in self.authorities:
            total = total + self.outcomes[a]
        return total

    def dividend(self) -> dict[str, dict[str, int]] | None:
        """Authority name (and ``"region"``) -> measure -> pooled minus solo (counts)."""
        if self.solo is None:
            return None
        out: dict[str, dict[str, int]] = {}
        solo_total = _ZERO
        for a in self.authorities:
            alone = self.solo[a][0]
            solo_total = solo_total + alone
            out[a.name] = _difference(self.outcomes[a], alone)
        out["region"] = _difference(self.region, solo_total)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the ``pooling`` key of ``placematch match --json``."""
        data: dict[str, Any] = {
            "payer": "placing authority (the child's la) pays its vacancy's weekly cost",
            "authorities": [
                {"authority": a.name, "ons_code": a.ons_code, **self.outcomes[a].to_dict()}
                for a in self.authorities
            ],
            "region": self.region.to_dict(),
            "recharges": [r.to_dict() for r in self.recharges],
        }
        if self.solo is not None:
            data["solo"] = [
                {
                    "authority": a.name,
                    "ons_code": a.ons_code,
                    "status": self.solo[a][1],
                    **self.solo[a][0].to_dict(),
                }
                for a in self.authorities
            ]
            data["dividend"] = self.dividend()
        return data

    def write_recharges(self, path: str | Path) -> Path:
        """The recharge table as CSV: ``placing_la, placing_la_code, owner_la,
        owner_la_code, children, weekly_cost``, one row per pair with a placement."""
        out = Path(path)
        columns = [
            "placing_la",
            "placing_la_code",
            "owner_la",
            "owner_la_code",
            "children",
            "weekly_cost",
        ]
        with out.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
            w.writeheader()
            for r in self.recharges:
                w.writerow(r.to_dict())
        return out

    def summary(self) -> dict[str, Any]:
        """The headline figures as plain data (JSON-ready): each authority's outcome and the
        region's, the children placed in another authority's vacancies with their weekly
        cost, and (if run) the dividend (:meth:`to_dict` is the whole of it, :meth:`text`
        prints it for people)."""
        across = [r for r in self.recharges if r.placing != r.owner]
        return {
            "authorities": {a.name: self.outcomes[a].to_dict() for a in self.authorities},
            "region": self.region.to_dict(),
            "recharged_children": sum(r.children for r in across),
            "recharged_weekly_cost": sum(r.weekly_cost for r in across),
            "dividend": self.dividend(),
        }

    def text(self) -> str:
        """The per-authority table, the recharges and (if run) the dividend, as text."""

        def pct(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.1f}%"

        lines = ["Pooled match: per authority (the placing authority pays)"]
        head = f"  {'authority':<28}{'children':>9}{'placed':>8}{'<=20mi':>8}{'siblings':>9}"
        lines.append(head + f"{'school':>8}{'weekly cost':>13}")
        rows = [(a.name, self.outcomes[a]) for a in self.authorities]
        for name, o in [*rows, ("Region", self.region)]:
            d = o.to_dict()
            lines.append(
                f"  {name[:27]:<28}{o.children:>9}{o.placed:>8}"
                f"{pct(d['within_20_miles_pct']):>8}{pct(d['siblings_together_pct']):>9}"
                f"{pct(d['school_kept_pct']):>8}{'£' + format(o.weekly_cost, ','):>13}"
            )
        lines.append("")
        lines.append("Recharges (placing authority -> owner of the vacancy, a week)")
        for r in self.recharges:
            if r.placing != r.owner:
                lines.append(
                    f"  {r.placing.name} -> {r.owner.name}: {r.children} children, "
                    f"£{r.weekly_cost:,}"
                )
        if all(r.placing == r.owner for r in self.recharges):
            lines.append("  none: every child is placed in its own authority's vacancies")
        dividend = self.dividend()
        if dividend is not None:
            lines.append("")
            lines.append("Pooling dividend (pooled minus each authority alone on its own supply)")
            head = f"  {'authority':<28}" + "".join(f"{m:>18}" for m in DIVIDEND_MEASURES)
            lines.append(head)
            for name, diff in dividend.items():
                label = "Region" if name == "region" else name
                lines.append(
                    f"  {label[:27]:<28}" + "".join(f"{diff[m]:>+18,}" for m in DIVIDEND_MEASURES)
                )
            assert self.solo is not None
            statuses = [(a.name, self.solo[a][1]) for a in self.authorities]
            lines.append("  Alone: " + ", ".join(f"{n} {st}" for n, st in statuses))
            if any(st != "optimal" for _, st in statuses):
                lines.append(
                    "  A match alone that is not optimal stopped at its work or time limit: its "
                    "dividend is measured against the best match found, not a proven best."
                )
        return "\n".join(lines)


_ZERO = Outcome(0, 0, 0, 0, 0, 0, 0, 0, 0)


def _difference(pooled: Outcome, alone: Outcome) -> dict[str, int]:
    return {m: getattr(pooled, m) - getattr(alone, m) for m in DIVIDEND_MEASURES}


def _groups(folder: CaseFolder) -> dict[str, tuple[str, ...]]:
    return {g.sibling_group_id: g.child_ids for g in folder.sibling_groups if g.size >= 2}


def _outcomes(
    folder: CaseFolder, region: Sequence[Authority], assignments: Sequence[Assignment]
) -> dict[Authority, Outcome]:
    groups = _groups(folder)
    step = folder.policy.distance_step_miles
    out = {}
    for a in region:
        kids = [c for c in folder.children if c.authority == a]
        ids = {c.child_id for c in kids}
        mine = {g: m for g, m in groups.items() if set(m) <= ids}
        out[a] = Outcome.of(kids, mine, assignments, step)
    return out


def _recharges(folder: CaseFolder, assignments: Sequence[Assignment]) -> tuple[Recharge, ...]:
    totals: dict[tuple[Authority, Authority], list[int]] = defaultdict(lambda: [0, 0])
    for a in assignments:
        owner = folder.vacancy(a.vacancy_id).owner
        if owner is None:  # pragma: no cover - a pooled folder names every owner
            continue
        cell = totals[(folder.child(a.child_id).authority, owner)]
        cell[0] += 1
        cell[1] += a.weekly_cost
    return tuple(
        Recharge(p, o, n, cost)
        for (p, o), (n, cost) in sorted(
            totals.items(), key=lambda kv: (kv[0][0].name, kv[0][1].name)
        )
    )


# ----------------------------------------------------------------------------- match


def _check_siblings(folder: CaseFolder) -> None:
    for g in folder.sibling_groups:
        las = {folder.child(c).authority for c in g.child_ids}
        if len(las) > 1:
            raise ValueError(
                f"sibling group {g.sibling_group_id}: its children are of {len(las)} "
                "authorities; expected one (each authority matches its own children under its "
                "own policy)"
            )


def match_pooled(
    folder: CaseFolder,
    params: SolverParameters | None = None,
    *,
    dividend: bool = False,
    solo_match: Callable[[CaseFolder, SolverParameters | None], MatchResult] | None = None,
    scoring: ScoringOf | None = None,
) -> PooledResult:
    """Match a pooled folder, each child under its own authority's policy, and report per
    authority, the recharges and (``dividend``) the pooling dividend.

    Parameters
    ----------
    folder
        A pooled case folder (vacancies naming ``owner_la``).
    params
        Solver parameters, used for the pooled match and for every solo match.
    dividend
        Also match each authority alone on its own supply (:func:`solo_folder`).
    solo_match
        How a solo folder is matched (default :func:`matcher.match.match`, under
        ``scoring``).
    scoring
        The scoring set of every authority's part (a :class:`~matcher.scoring.Scoring`, or
        a function of a folder returning one, called with each authority's folder, the
        whole folder without policy tables and each solo folder); default each folder's
        own.

    Raises
    ------
    ValueError
        If the folder is not pooled, a sibling group spans authorities, a policy table
        names an authority outside the region, or the authorities' scoring sets differ in
        their factors or rules.
    MatchError
        If the result fails the validator.
    """
    if not is_pooled(folder):
        raise ValueError("not a pooled folder: no vacancy names its owner_la")
    _check_siblings(folder)
    region = region_of(folder)
    if folder.policy.overrides:
        _overrides(folder)  # refuse a bad table before any work
        candidates = pooled_candidates(folder, scoring)
        result = match(folder, params, candidates=candidates, validate=False)
        from matcher.validate_result import validate_result

        assert isinstance(candidates, _PooledCandidates)
        subs, folding, sets = candidates.folders, candidates.folding, candidates.scorings

        def check(_: CaseFolder, child_id: str, vacancy_id: str) -> Option | Exclusion:
            return explain_in_authority(subs, folding, [(child_id, vacancy_id)], sets)[0]

        errors = validate_result(folder, candidates, result, pair_check=check)
        if errors:
            raise MatchError(
                f"the match failed its validator ({len(errors)} problems): " + "; ".join(errors[:5])
            )
    else:
        result = match(folder, params, scoring=scoring_for(folder, scoring))
    solo: dict[Authority, tuple[Outcome, str]] | None = None
    if dividend:

        def scored_alone(alone: CaseFolder, params: SolverParameters | None) -> MatchResult:
            return match(alone, params, scoring=scoring_for(alone, scoring))

        run = solo_match or scored_alone
        solo = {}
        for a in region:
            alone = solo_folder(folder, a)
            if alone.children:
                r = run(alone, params)
                status = r.status
                assignments: Sequence[Assignment] = r.assignments
            else:
                status, assignments = "optimal", ()
            solo[a] = (
                _outcomes(alone, [a], assignments)[a],
                status,
            )
    return PooledResult(
        result=result,
        authorities=region,
        outcomes=_outcomes(folder, region, result.assignments),
        recharges=_recharges(folder, result.assignments),
        solo=solo,
    )
