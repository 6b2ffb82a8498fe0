"""Referrals: the non-identifying summary a provider needs to answer, for a shortlist only.

:func:`build_referrals` takes a child's best ``top`` eligible vacancies (:func:`matcher.rank.
rank_child`: every hard rule passed, so the provider's terms of approval or registration and
the capabilities the child needs fit, and no provider that declined the child is asked
again) and groups them by provider: one :class:`Referral` per provider, never a referral to
every provider.

What a referral holds (the provider's copy, :meth:`Referral.to_dict`): the child's id as the
reference to answer with, age in years, sex, needs (and which capabilities are required),
the placement types the plan accepts, the placing authority and the home's district, the
date the placement must start and the urgency, and, for a sibling group placed as a unit,
each sibling's age and sex. Never a name (the case folder holds none), a date of birth, a
postcode, a school, ethnicity, religion or language: the full papers follow once a provider
can consider the child. The points and their reasons (which carry distances from home) are
the officer's, in :attr:`Referral.options`, and not in the provider's copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matcher.domain import CaseFolder, Child
from matcher.explain import Option
from matcher.rank import rank_child
from matcher.scoring import Scoring
from matcher.vocabulary import (
    NEED_MEANING,
    REQUIRED_CAPABILITY,
    RESPONSE_REASON_MEANING,
    Need,
    Response,
    ResponseReason,
)

__all__ = ["Referral", "ReferredChild", "ReferredVacancy", "build_referrals", "need_meaning"]


@dataclass(frozen=True, slots=True)
class ReferredChild:
    """What a provider learns of one child: nothing that identifies them."""

    age: int
    sex: str
    needs: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"age": self.age, "sex": self.sex, "needs": list(self.needs)}


@dataclass(frozen=True, slots=True)
class ReferredVacancy:
    """A vacancy of the provider that the child is referred for, as the provider knows it."""

    vacancy_id: str
    placement_type: str
    beds: int
    age_min: int
    age_max: int
    sex: str
    available_from: dt.date | None
    available_until: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "vacancy_id": self.vacancy_id,
            "placement_type": self.placement_type,
            "beds": self.beds,
            "age_min": self.age_min,
            "age_max": self.age_max,
            "sex": self.sex,
            "available_from": _iso(self.available_from),
            "available_until": _iso(self.available_until),
        }


@dataclass(frozen=True, slots=True)
class Referral:
    """One child's referral to one provider.

    Attributes
    ----------
    child_id : str
        The reference the provider answers with (an id, never a name).
    provider_id : str
    child : ReferredChild
    required_capabilities : tuple of str
        Capabilities the placement must have for the child's needs (hard rules).
    placement_types : tuple of str
        Placement types the child's plan accepts.
    authority, authority_code : str
        The placing (responsible) authority.
    home_area : str or None
        The district (lower-tier authority) of the child's home; ``None`` without a home
        postcode (a separated migrant child).
    needed_from : datetime.date or None
        The date the placement must start (the child's date: ``needed_by``, today for an
        emergency, else the date asked about).
    urgency : str or None
    siblings : tuple of ReferredChild
        The other children of a sibling group placed with the child, as a unit.
    vacancies : tuple of ReferredVacancy
        The provider's vacancies the child is referred for, best first.
    options : tuple of Option
        The officer's copy: each vacancy's points and reasons, best first.
    ranks : tuple of int
        Each vacancy's place in the child's ranking (1 is best).
    """

    child_id: str
    provider_id: str
    child: ReferredChild
    required_capabilities: tuple[str, ...]
    placement_types: tuple[str, ...]
    authority: str
    authority_code: str
    home_area: str | None
    needed_from: dt.date | None
    urgency: str | None
    siblings: tuple[ReferredChild, ...]
    vacancies: tuple[ReferredVacancy, ...]
    options: tuple[Option, ...]
    ranks: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """The provider's copy as plain JSON-ready data (no points, no distances)."""
        return {
            "child_id": self.child_id,
            "provider_id": self.provider_id,
            "child": self.child.to_dict(),
            "required_capabilities": list(self.required_capabilities),
            "placement_types": list(self.placement_types),
            "placing_authority": {"name": self.authority, "ons_code": self.authority_code},
            "home_area": self.home_area,
            "needed_from": _iso(self.needed_from),
            "urgency": self.urgency,
            "sibling_group_size": 1 + len(self.siblings),
            "siblings": [s.to_dict() for s in self.siblings],
            "vacancies": [v.to_dict() for v in self.vacancies],
            "answer_with": {
                "columns": ["vacancy_id", "child_id", "response", "reason"],
                "response": [r.value for r in Response],
                "reason": {r.value: RESPONSE_REASON_MEANING[r] for r in ResponseReason},
            },
        }


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _referred(child: Child) -> ReferredChild:
    return ReferredChild(child.age, child.sex.value, tuple(sorted(n.value for n in child.needs)))


def build_referrals(
    folder: CaseFolder, child_id: str, top: int, *, scoring: Scoring | None = None
) -> tuple[Referral, ...]:
    """One referral per provider among the child's best ``top`` eligible vacancies.

    Providers come in the order of their best vacancy; a provider with several of the
    vacancies gets one referral listing them all. Nothing is referred that a hard rule
    excludes (including ``declined_by_provider``). ``scoring`` is the set the child is ranked
    under (default the folder's own): the shortlist is :func:`~matcher.rank.rank_child`'s
    under the same set.

    Raises
    ------
    matcher.rank.UnknownIdError
        (a ``LookupError``) if the child is not in the folder.
    ValueError
        If ``top`` is less than 1.
    """
    if top < 1:
        raise ValueError(f"top: expected a whole number >= 1, got {top}")
    ranking = rank_child(folder, child_id, top, scoring=scoring)
    child = folder.child(child_id)
    by_provider: dict[str, list[tuple[int, Option]]] = {}
    for place, option in enumerate(ranking.options, start=1):
        provider = folder.vacancy(option.vacancy_id).provider_id
        by_provider.setdefault(provider, []).append((place, option))
    siblings = tuple(_referred(folder.child(c)) for c in folder.siblings_of(child_id))
    if folder.policy.allow_sibling_split:
        siblings = ()
    required = sorted(
        {REQUIRED_CAPABILITY[n].value for n in child.needs if n in REQUIRED_CAPABILITY}
    )
    return tuple(
        _referral(folder, child, provider, chosen, siblings, tuple(required))
        for provider, chosen in by_provider.items()
    )


def _referral(
    folder: CaseFolder,
    child: Child,
    provider: str,
    chosen: Sequence[tuple[int, Option]],
    siblings: tuple[ReferredChild, ...],
    required: tuple[str, ...],
) -> Referral:
    vacancies = []
    for _, option in chosen:
        v = folder.vacancy(option.vacancy_id)
        vacancies.append(
            ReferredVacancy(
                v.vacancy_id,
                v.placement_type.value,
                v.beds,
                v.age_min,
                v.age_max,
                v.sex.value,
                v.available_from,
                v.available_until,
            )
        )
    return Referral(
        child_id=child.child_id,
        provider_id=provider,
        child=_referred(child),
        required_capabilities=required,
        placement_types=tuple(sorted(t.value for t in child.placement_types)),
        authority=child.authority.name,
        authority_code=child.authority.ons_code,
        home_area=None if child.home is None else child.home.lad_name,
        needed_from=folder.date_of(child),
        urgency=None if child.urgency is None else child.urgency.value,
        siblings=siblings,
        vacancies=tuple(vacancies),
        options=tuple(o for _, o in chosen),
        ranks=tuple(p for p, _ in chosen),
    )


def need_meaning(value: str) -> str:
    """What a need (as written in a referral) means."""
    return NEED_MEANING[Need(value)]
