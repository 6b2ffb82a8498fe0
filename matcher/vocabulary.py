"""The public vocabularies of the case folder: needs and capabilities, Ofsted, sex, ethnicity.

Every value is parsed case-insensitively and stored in its canonical spelling. The
placement-type vocabulary lives in :mod:`matcher.placement_types`.

Needs and capabilities share one vocabulary (:class:`Need`): a child's ``needs`` say what the
child requires or must avoid, a vacancy's ``capabilities`` say what the placement can offer.
How each need is matched is fixed here, once, for the matcher's hard rules and factors:

* :data:`REQUIRED_CAPABILITY` -- a child with the need may only be placed where the vacancy
  lists the capability (hard);
* :data:`PREFERRED_CAPABILITY` -- the capability earns points, its absence never excludes (soft);
* ``solo_only`` and ``no_younger_children`` are *exclusions* about who else lives there,
  described on each member.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import TypeVar

from matcher.placement_types import codes_for

#: Separator of list values inside one CSV cell.
LIST_SEPARATOR = ";"


class VocabularyError(ValueError):
    """A value is not in its vocabulary. The message lists the vocabulary."""


_E = TypeVar("_E", bound=StrEnum)


def _parse_enum(cls: type[_E], text: str, what: str) -> _E:
    key = text.strip().lower()
    for member in cls:
        if member.value.lower() == key:
            return member
    allowed = ", ".join(m.value for m in cls)
    raise VocabularyError(f"unknown {what} {text.strip()!r}; expected one of: {allowed}")


class Need(StrEnum):
    """A need of a child, or the matching capability of a vacancy.

    Members
    -------
    DISABILITY
        Need: the child is disabled (Equality Act 2010 s6; s22C(8)(d)). Capability: the carer
        or home is experienced with, or registered for, disabled children. Soft: preferred,
        never required on its own (a specific adaptation is its own need).
    WHEELCHAIR
        Need: the child uses a wheelchair. Capability: the home is wheelchair accessible
        (level access, adapted bathroom). Hard.
    DOLS
        Need: the child is subject to a Deprivation of Liberty order (court-authorised).
        Capability: the placement can lawfully hold such an order. Hard.
    UASC
        Need: the child is a separated migrant (unaccompanied asylum-seeking) child; the only
        children whose ``home_postcode`` may be blank. Capability: the carer or home is
        experienced with separated migrant children. Soft.
    SOLO_ONLY
        Need: the child must be the only looked-after child in the placement (an exclusion,
        hard): nobody else fostered there now (``fostered_now`` is 0) and no other child placed
        there with them. Capability: the provider will keep the vacancy as a solo placement.
        Preferred for a solo-only child, not required.
    PARENT_AND_CHILD
        Need: the child is a parent to be placed with their own baby. Capability: the
        placement is approved for a parent and child. Hard. The need also makes the
        ``parent_and_child`` placement type acceptable by default.
    SIBLING_GROUP
        Need: the child belongs to a sibling group to be placed together (the
        ``sibling_group`` column says with whom). Capability: the household is approved for,
        and has room for, sibling groups. Soft.
    NO_YOUNGER_CHILDREN
        Need: the child must not live with younger children (an exclusion, hard).
        Capability: no child younger than the vacancy's ``age_min`` lives in the household.
    STAFFING_2TO1
        Need: the child needs two-to-one staffing. Capability: the home can staff it. Hard.
    SECURE
        Need: the child is subject to a secure accommodation order (Children Act 1989 s25).
        Capability: the unit is an approved secure children's home. Hard; by default such a
        child is acceptable only in a ``secure_home``.
    """

    DISABILITY = "disability"
    WHEELCHAIR = "wheelchair"
    DOLS = "dols"
    UASC = "uasc"
    SOLO_ONLY = "solo_only"
    PARENT_AND_CHILD = "parent_and_child"
    SIBLING_GROUP = "sibling_group"
    NO_YOUNGER_CHILDREN = "no_younger_children"
    STAFFING_2TO1 = "staffing_2to1"
    SECURE = "secure"

    @classmethod
    def parse(cls, text: str) -> Need:
        """Parse one case-insensitive value, or raise :class:`VocabularyError`."""
        return _parse_enum(cls, text, "need or capability")


#: One-line meaning of each need (as a need; the capability is the matching ability).
NEED_MEANING: dict[Need, str] = {
    Need.DISABILITY: "disabled child; capability: experienced with / registered for disability",
    Need.WHEELCHAIR: "uses a wheelchair; capability: wheelchair-accessible home",
    Need.DOLS: "under a Deprivation of Liberty order; capability: can lawfully hold one",
    Need.UASC: "separated migrant child (blank home_postcode allowed); capability: experienced",
    Need.SOLO_ONLY: "must be the only looked-after child there; capability: solo placement",
    Need.PARENT_AND_CHILD: "a parent placed with their baby; capability: parent-and-child",
    Need.SIBLING_GROUP: "one of a sibling group; capability: takes sibling groups",
    Need.NO_YOUNGER_CHILDREN: "must not live with younger children; capability: none there",
    Need.STAFFING_2TO1: "needs two-to-one staffing; capability: can staff 2:1",
    Need.SECURE: "secure accommodation order (s25); capability: secure children's home",
}

#: A child with the key need may only be placed where the vacancy has the value capability.
REQUIRED_CAPABILITY: dict[Need, Need] = {
    Need.WHEELCHAIR: Need.WHEELCHAIR,
    Need.DOLS: Need.DOLS,
    Need.PARENT_AND_CHILD: Need.PARENT_AND_CHILD,
    Need.NO_YOUNGER_CHILDREN: Need.NO_YOUNGER_CHILDREN,
    Need.STAFFING_2TO1: Need.STAFFING_2TO1,
    Need.SECURE: Need.SECURE,
}

#: The capability earns points for a child with the key need; its absence never excludes.
PREFERRED_CAPABILITY: dict[Need, Need] = {
    Need.DISABILITY: Need.DISABILITY,
    Need.UASC: Need.UASC,
    Need.SOLO_ONLY: Need.SOLO_ONLY,
    Need.SIBLING_GROUP: Need.SIBLING_GROUP,
}

#: Needs that are exclusions about who else lives in the placement (hard rules).
EXCLUSION_NEEDS: frozenset[Need] = frozenset({Need.SOLO_ONLY, Need.NO_YOUNGER_CHILDREN})


class Ofsted(StrEnum):
    """The Ofsted overall effectiveness grade of the home or fostering service."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    NOT_INSPECTED = "not_inspected"

    @classmethod
    def parse(cls, text: str) -> Ofsted:
        """Parse one case-insensitive value, or raise :class:`VocabularyError`."""
        return _parse_enum(cls, text, "Ofsted grade")


class Sex(StrEnum):
    """A child's sex, as SSDA903 ``SEX`` records it (``M`` or ``F``)."""

    M = "M"
    F = "F"

    @classmethod
    def parse(cls, text: str) -> Sex:
        """Parse ``M`` or ``F`` (any case), or raise :class:`VocabularyError`."""
        return _parse_enum(cls, text, "sex")


class VacancySex(StrEnum):
    """Whom a vacancy takes: ``any``, ``M`` or ``F``."""

    ANY = "any"
    M = "M"
    F = "F"

    @classmethod
    def parse(cls, text: str) -> VacancySex:
        """Parse ``any``, ``M`` or ``F`` (any case), or raise :class:`VocabularyError`."""
        return _parse_enum(cls, text, "vacancy sex")

    def accepts(self, sex: Sex) -> bool:
        """Whether a child of ``sex`` may take this vacancy."""
        return self is VacancySex.ANY or self.value == sex.value


@cache
def ethnicity_codes() -> dict[str, str]:
    """The SSDA903 ``ETHNIC`` codes with their descriptions (e.g. ``WBRI``: White British)."""
    return {code: c.description for code, c in codes_for("ETHNIC").items()}


def parse_ethnicity(text: str) -> str:
    """Parse an SSDA903 ``ETHNIC`` code (any case), or raise :class:`VocabularyError`."""
    code = text.strip().upper()
    if code not in ethnicity_codes():
        allowed = ", ".join(ethnicity_codes())
        raise VocabularyError(
            f"unknown ethnicity code {text.strip()!r}; expected an SSDA903 ETHNIC code: {allowed}"
        )
    return code


def normalise_text(text: str) -> str:
    """Free text for matching (religion, language): trimmed, single-spaced, lower case."""
    return " ".join(text.split()).lower()
