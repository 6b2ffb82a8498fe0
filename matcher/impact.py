"""The matching and impact-risk summary of one child and one vacancy.

Before a children's home admits a child, the registered person must weigh the placement's
impact on the children already living there (Children's Homes (England) Regulations 2015
reg 14), and an authority's referral is often declined for exactly this reason. This module
puts what the case folder knows about it on one page the officer can attach to the referral:
the hard rules and the two factors about residents (``age_gap``, ``shared_needs``) as
``rank`` and ``why-not`` give them, and, resident by resident (by reference, age and sex;
``residents.csv`` holds no names), the needs and risks that meet the child's.

What counts as an interaction (documented choices, :mod:`matcher.vocabulary`):

* a **shared need** (:data:`~matcher.factors.shared_needs.SHAREABLE`): a peer group, scored;
* a **shared peer risk** (:data:`~matcher.vocabulary.PEER_RISKS`: exploitation, going
  missing, substances, offending): risks that spread between children who share them;
* a **risk to a younger child** (:data:`~matcher.vocabulary.RISKS_TO_OTHERS`: aggression,
  harmful sexual behaviour, fire setting) where the other is younger, either way round;
* **no younger children**: the child's or the resident's exclusion where the other is
  younger (a hard rule: the vacancy is then excluded);
* the child's risk flags the placement does **not** declare it can manage (a hard rule).

The impact risk is ``high`` when a hard rule excludes the vacancy or a resident would be put
at risk by, or put at risk, a child of a different age (a risk to a younger child), ``medium``
with a shared peer risk or an age gap that costs points, and ``low`` otherwise; ``unknown``
when the folder has no ``residents.csv`` (nothing is known of who lives there).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from matcher.domain import CaseFolder, Child, Resident
from matcher.explain import Option
from matcher.factors.shared_needs import SHAREABLE
from matcher.rank import why_not
from matcher.scoring import Scoring
from matcher.vocabulary import PEER_RISKS, RISKS_TO_OTHERS, Need

__all__ = ["ImpactSummary", "ResidentImpact", "impact_summary"]

#: The rules whose exclusion makes the impact risk high (about residents, or risk).
_RESIDENT_RULES = frozenset({"no_younger_children", "risk_not_manageable"})


def _values(items: Iterable[StrEnum]) -> tuple[str, ...]:
    return tuple(sorted(i.value for i in items))


@dataclass(frozen=True, slots=True)
class ResidentImpact:
    """One resident, and where their needs and risks meet the child's.

    Attributes
    ----------
    resident_ref : str
        The provider's non-identifying reference (never a name).
    age : int
    sex : str
    age_gap : int
        Resident's age minus the child's (negative: the resident is younger).
    shared_needs, shared_risks : tuple of str
        Needs both have (those that earn ``shared_needs`` points); peer risks both have.
    concerns : tuple of str
        One sentence per interaction that puts a child at risk.
    """

    resident_ref: str
    age: int
    sex: str
    age_gap: int
    shared_needs: tuple[str, ...]
    shared_risks: tuple[str, ...]
    concerns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "resident_ref": self.resident_ref,
            "age": self.age,
            "sex": self.sex,
            "age_gap": self.age_gap,
            "shared_needs": list(self.shared_needs),
            "shared_risks": list(self.shared_risks),
            "concerns": list(self.concerns),
        }


def _resident_impact(child: Child, r: Resident) -> ResidentImpact:
    concerns: list[str] = []
    nyc = Need.NO_YOUNGER_CHILDREN
    if nyc in child.needs and r.age < child.age:
        concerns.append("The child must not live with younger children; this resident is younger.")
    if nyc in r.needs and child.age < r.age:
        concerns.append("This resident must not live with younger children; the child is younger.")
    child_harm = sorted(f.value for f in child.risk_flags & RISKS_TO_OTHERS)
    if child_harm and r.age < child.age:
        concerns.append(f"Risk to a younger resident: the child's {', '.join(child_harm)}.")
    resident_harm = sorted(f.value for f in r.risk_flags & RISKS_TO_OTHERS)
    if resident_harm and child.age < r.age:
        concerns.append(f"Risk to the younger child: this resident's {', '.join(resident_harm)}.")
    peer = _values(child.risk_flags & r.risk_flags & PEER_RISKS)
    if peer:
        concerns.append(f"Shared peer risk: {', '.join(peer)}.")
    return ResidentImpact(
        resident_ref=r.resident_ref,
        age=r.age,
        sex=r.sex.value,
        age_gap=r.age - child.age,
        shared_needs=_values(child.needs & r.needs & set(SHAREABLE)),
        shared_risks=peer,
        concerns=tuple(concerns),
    )


@dataclass(frozen=True, slots=True)
class ImpactSummary:
    """The matching and impact-risk summary of a child and a vacancy (see the module).

    Attributes
    ----------
    child_id, vacancy_id, provider_id, placement_type : str
    child_age : int
    child_sex : str
    child_needs, child_risk_flags : tuple of str
    manages : tuple of str
        The risk flags the placement declares it can manage (its ``capabilities``).
    unmanaged : tuple of str
        The child's risk flags it does not declare.
    residents_known : bool
        The folder has ``residents.csv``.
    residents : tuple of ResidentImpact
        Everyone living with the provider, by reference.
    eligible : bool
    rule, rule_source, rule_reason : str or None
        The first hard rule that excludes the vacancy, when it is excluded.
    points : int or None
        The option's total points when eligible.
    factors : dict
        ``age_gap`` and ``shared_needs``: points and reason (eligible, with residents).
    level : str
        ``high``, ``medium``, ``low`` or ``unknown`` (see the module).
    """

    child_id: str
    vacancy_id: str
    provider_id: str
    placement_type: str
    child_age: int
    child_sex: str
    child_needs: tuple[str, ...]
    child_risk_flags: tuple[str, ...]
    manages: tuple[str, ...]
    unmanaged: tuple[str, ...]
    residents_known: bool
    residents: tuple[ResidentImpact, ...]
    eligible: bool
    rule: str | None
    rule_source: str | None
    rule_reason: str | None
    points: int | None
    factors: dict[str, dict[str, Any]]
    level: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``placematch impact --json``)."""
        return {
            "child_id": self.child_id,
            "vacancy_id": self.vacancy_id,
            "provider_id": self.provider_id,
            "placement_type": self.placement_type,
            "child": {
                "age": self.child_age,
                "sex": self.child_sex,
                "needs": list(self.child_needs),
                "risk_flags": list(self.child_risk_flags),
            },
            "manages": list(self.manages),
            "unmanaged_risk_flags": list(self.unmanaged),
            "residents_known": self.residents_known,
            "residents": [r.to_dict() for r in self.residents],
            "eligible": self.eligible,
            "rule": self.rule,
            "rule_source": self.rule_source,
            "rule_reason": self.rule_reason,
            "points": self.points,
            "factors": {k: dict(v) for k, v in self.factors.items()},
            "impact_risk": self.level,
        }

    def text(self) -> str:
        """The summary as the lines ``placematch impact`` prints."""

        def listed(values: tuple[str, ...]) -> str:
            return ", ".join(values) or "none"

        lines = [
            f"Matching and impact-risk summary: child {self.child_id}, vacancy "
            f"{self.vacancy_id} ({self.placement_type}, provider {self.provider_id})",
            f"Child: age {self.child_age}, {self.child_sex}; needs: {listed(self.child_needs)}; "
            f"risk flags: {listed(self.child_risk_flags)}",
            f"Placement can manage: {listed(self.manages)}; not declared for this child: "
            f"{listed(self.unmanaged)}",
        ]
        if self.eligible:
            lines.append(f"Eligible: {self.points} points.")
        else:
            lines.append(f"Excluded by {self.rule} ({self.rule_source}).")
            lines.append(f"  {self.rule_reason}")
        for name, f in self.factors.items():
            lines.append(f"  {name:<13} {f['points']:>4}  {f['reason']}")
        if not self.residents_known:
            lines.append("Residents: not known (the case folder has no residents.csv).")
        elif not self.residents:
            lines.append("Residents: nobody recorded as living there.")
        else:
            lines.append(f"Residents ({len(self.residents)}):")
            for r in self.residents:
                gap = f"{r.age_gap:+d}y"
                lines.append(
                    f"  {r.resident_ref:<10} {r.age:>2} {r.sex}  gap {gap:>4}  shared needs: "
                    f"{listed(r.shared_needs)}; shared risks: {listed(r.shared_risks)}"
                )
                lines += [f"    - {c}" for c in r.concerns]
        lines.append(f"Impact risk: {self.level}.")
        return "\n".join(lines)


def _level(
    known: bool, eligible: bool, rule: str | None, residents: tuple[ResidentImpact, ...], gap: int
) -> str:
    if not eligible and rule in _RESIDENT_RULES:
        return "high"
    if not known:
        return "unknown"
    if any(c.startswith("Risk to") for r in residents for c in r.concerns):
        return "high"
    if any(r.shared_risks for r in residents) or gap < 0:
        return "medium"
    return "low"


def impact_summary(
    folder: CaseFolder, child_id: str, vacancy_id: str, *, scoring: Scoring | None = None
) -> ImpactSummary:
    """The matching and impact-risk summary of ``child_id`` and ``vacancy_id``, the hard
    rules and points under ``scoring`` (default the folder's own set), as
    :func:`~matcher.rank.why_not` gives them.

    Raises
    ------
    matcher.rank.UnknownIdError
        (a ``LookupError``) if the child or the vacancy is not in the folder.
    """
    answer = why_not(folder, child_id, vacancy_id, scoring=scoring)
    child = folder.child(child_id)
    vacancy = folder.vacancy(vacancy_id)
    living = folder.residents_of(vacancy.provider_id)
    residents = tuple(_resident_impact(child, r) for r in living)
    option: Option | None = answer.option
    factors: dict[str, dict[str, Any]] = {}
    if option is not None:
        for f in option.factors:
            if f.factor in ("age_gap", "shared_needs"):
                factors[f.factor] = {"points": f.points, "reason": f.reason}
    exclusion = answer.exclusion
    known = bool(folder.residents)
    gap_points = factors.get("age_gap", {}).get("points", 0)
    return ImpactSummary(
        child_id=child_id,
        vacancy_id=vacancy_id,
        provider_id=vacancy.provider_id,
        placement_type=vacancy.placement_type.value,
        child_age=child.age,
        child_sex=child.sex.value,
        child_needs=_values(child.needs),
        child_risk_flags=_values(child.risk_flags),
        manages=_values(vacancy.manages),
        unmanaged=_values(child.risk_flags - vacancy.manages),
        residents_known=known,
        residents=residents,
        eligible=exclusion is None,
        rule=None if exclusion is None else exclusion.rule,
        rule_source=None if exclusion is None else exclusion.source,
        rule_reason=None if exclusion is None else exclusion.reason,
        points=None if option is None else option.score,
        factors=factors,
        level=_level(
            known,
            exclusion is None,
            None if exclusion is None else exclusion.rule,
            residents,
            int(gap_points),
        ),
    )
