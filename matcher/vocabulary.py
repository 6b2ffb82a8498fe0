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

Risk flags (:class:`RiskFlag`) are a second vocabulary of the same kind: a child's or a
resident's ``risk_flags`` and, in a vacancy's ``capabilities``, the risks it can manage.
"""

from __future__ import annotations

import re
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


class RiskFlag(StrEnum):
    """A risk recorded on a child or a resident, or a home's ability to manage it.

    A child's and a resident's ``risk_flags`` say what risks the child poses or faces; the
    same values in a vacancy's ``capabilities`` say that the home's Statement of Purpose
    (Children's Homes (England) Regulations 2015 reg 16 and Sch. 1: the range of needs the
    home is for) or the carer's approval covers children with that risk. A child with a risk
    flag may only be placed where the vacancy declares it (the ``risk_not_manageable`` rule).
    The values are the kinds of risk placement referrals record; none of them names a child.

    Members
    -------
    CSE
        Risk of child sexual exploitation.
    CCE
        Risk of child criminal exploitation (e.g. county lines).
    MISSING
        Goes missing from care.
    SELF_HARM
        Self-harm or suicidal ideation.
    SUBSTANCE_MISUSE
        Misuse of drugs or alcohol.
    AGGRESSION
        Violence or aggression towards others.
    HARMFUL_SEXUAL_BEHAVIOUR
        Harmful sexual behaviour towards others.
    FIRE_SETTING
        Fire setting.
    OFFENDING
        Offending (youth justice involvement).
    """

    CSE = "cse"
    CCE = "cce"
    MISSING = "missing"
    SELF_HARM = "self_harm"
    SUBSTANCE_MISUSE = "substance_misuse"
    AGGRESSION = "aggression"
    HARMFUL_SEXUAL_BEHAVIOUR = "harmful_sexual_behaviour"
    FIRE_SETTING = "fire_setting"
    OFFENDING = "offending"

    @classmethod
    def parse(cls, text: str) -> RiskFlag:
        """Parse one case-insensitive value, or raise :class:`VocabularyError`."""
        return _parse_enum(cls, text, "risk flag")


#: One-line meaning of each risk flag (as a risk; the capability is managing it).
RISK_MEANING: dict[RiskFlag, str] = {
    RiskFlag.CSE: "risk of child sexual exploitation; capability: can manage it",
    RiskFlag.CCE: "risk of criminal exploitation (county lines); capability: can manage it",
    RiskFlag.MISSING: "goes missing from care; capability: can manage it",
    RiskFlag.SELF_HARM: "self-harm or suicidal ideation; capability: can manage it",
    RiskFlag.SUBSTANCE_MISUSE: "misuses drugs or alcohol; capability: can manage it",
    RiskFlag.AGGRESSION: "violence or aggression towards others; capability: can manage it",
    RiskFlag.HARMFUL_SEXUAL_BEHAVIOUR: "harmful sexual behaviour; capability: can manage it",
    RiskFlag.FIRE_SETTING: "fire setting; capability: can manage it",
    RiskFlag.OFFENDING: "offending (youth justice involvement); capability: can manage it",
}

#: Risks a child poses to others in the home: a resident younger than a child with one of
#: these is named in the impact summary (and so is a child younger than such a resident).
RISKS_TO_OTHERS: frozenset[RiskFlag] = frozenset(
    {RiskFlag.AGGRESSION, RiskFlag.HARMFUL_SEXUAL_BEHAVIOUR, RiskFlag.FIRE_SETTING}
)
#: Risks that spread between peers (exploitation, going missing, substances): a child and a
#: resident who share one are named in the impact summary.
PEER_RISKS: frozenset[RiskFlag] = frozenset(
    {
        RiskFlag.CSE,
        RiskFlag.CCE,
        RiskFlag.MISSING,
        RiskFlag.SUBSTANCE_MISUSE,
        RiskFlag.OFFENDING,
    }
)


def parse_capability(text: str) -> Need | RiskFlag:
    """One value of a vacancy's ``capabilities``: a :class:`Need` capability or a
    :class:`RiskFlag` the placement can manage; else :class:`VocabularyError`."""
    try:
        return Need.parse(text)
    except VocabularyError:
        pass
    try:
        return RiskFlag.parse(text)
    except VocabularyError:
        allowed = ", ".join([n.value for n in Need] + [r.value for r in RiskFlag])
        raise VocabularyError(
            f"unknown capability {text.strip()!r}; expected one of: {allowed}"
        ) from None


class Ofsted(StrEnum):
    """The Ofsted judgement of the home, unit or fostering service, on one of two scales.

    Children's homes, secure homes, fostering services and every other setting inspected
    under the social care common inspection framework (SCCIF) get an overall effectiveness
    grade on four points: ``outstanding``, ``good``, ``requires_improvement`` (to be good),
    ``inadequate``.

    Supported accommodation for looked-after children and care leavers aged 16 and 17
    (registered with Ofsted under the Supported Accommodation (England) Regulations 2023) is
    inspected under its own framework, "SCCIF: supported accommodation" (Ofsted, February
    2024; inspections from September 2024), which gives one of three outcomes instead of a
    grade:

    ``consistently_strong`` (outcome 1)
        Consistently strong service delivery leads to typically positive experiences and
        progress for children; next inspection within about 3 years.
    ``inconsistent`` (outcome 2)
        Inconsistent quality of service delivery adversely affects some children's
        experiences and may limit their progress; next inspection within about 18 months.
    ``serious_weaknesses`` (outcome 3)
        Serious or widespread weaknesses lead to significant concerns about the experiences
        and progress of children; leaders must take urgent action.

    ``not_inspected`` belongs to both scales. Which scale a vacancy must use follows from its
    placement type (:func:`ofsted_scale_problem`).
    """

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    NOT_INSPECTED = "not_inspected"
    # Appended after the grades: factor arrays index this enum in declaration order.
    CONSISTENTLY_STRONG = "consistently_strong"
    INCONSISTENT = "inconsistent"
    SERIOUS_WEAKNESSES = "serious_weaknesses"

    @classmethod
    def parse(cls, text: str) -> Ofsted:
        """Parse one case-insensitive value, or raise :class:`VocabularyError`."""
        return _parse_enum(cls, text, "Ofsted grade")


#: What each value of :class:`Ofsted` means (``placematch schema``).
OFSTED_MEANING: dict[Ofsted, str] = {
    Ofsted.OUTSTANDING: "outstanding (SCCIF grade)",
    Ofsted.GOOD: "good (SCCIF grade)",
    Ofsted.REQUIRES_IMPROVEMENT: "requires improvement to be good (SCCIF grade)",
    Ofsted.INADEQUATE: "inadequate (SCCIF grade)",
    Ofsted.NOT_INSPECTED: "not yet inspected (either scale)",
    Ofsted.CONSISTENTLY_STRONG: "supported accommodation outcome 1: consistently strong "
    "service delivery",
    Ofsted.INCONSISTENT: "supported accommodation outcome 2: inconsistent quality of service "
    "delivery",
    Ofsted.SERIOUS_WEAKNESSES: "supported accommodation outcome 3: serious or widespread "
    "weaknesses",
}

#: An Ofsted unique reference number of a social care setting: ``SC`` and six digits (the
#: older series) or seven digits (settings registered since about 2019, and supported
#: accommodation providers).
OFSTED_URN_PATTERN = re.compile(r"^(SC[0-9]{6}|[0-9]{7})$")

#: The SCCIF overall effectiveness grades (children's homes, fostering and the rest).
SCCIF_GRADES: tuple[Ofsted, ...] = (
    Ofsted.OUTSTANDING,
    Ofsted.GOOD,
    Ofsted.REQUIRES_IMPROVEMENT,
    Ofsted.INADEQUATE,
    Ofsted.NOT_INSPECTED,
)
#: The three outcomes of Ofsted's supported accommodation inspections, best first, and
#: ``not_inspected`` (providers registered from 2023, inspected from September 2024).
SUPPORTED_ACCOMMODATION_OUTCOMES: tuple[Ofsted, ...] = (
    Ofsted.CONSISTENTLY_STRONG,
    Ofsted.INCONSISTENT,
    Ofsted.SERIOUS_WEAKNESSES,
    Ofsted.NOT_INSPECTED,
)


def ofsted_scale_problem(*, supported_accommodation: bool, ofsted: Ofsted) -> str | None:
    """Why ``ofsted`` is on the wrong scale for the placement, or ``None`` if it is right.

    Supported accommodation takes only :data:`SUPPORTED_ACCOMMODATION_OUTCOMES`; every other
    placement type only :data:`SCCIF_GRADES`. The message names the expected values, never
    anything about a child.
    """
    if supported_accommodation and ofsted not in SUPPORTED_ACCOMMODATION_OUTCOMES:
        return (
            f"{ofsted.value!r} is a children's home grade; supported accommodation is judged "
            "on Ofsted's three supported accommodation outcomes: expected one of "
            + ", ".join(o.value for o in SUPPORTED_ACCOMMODATION_OUTCOMES)
        )
    if not supported_accommodation and ofsted not in SCCIF_GRADES:
        return (
            f"{ofsted.value!r} is a supported accommodation outcome; this placement type has "
            "an Ofsted grade: expected one of " + ", ".join(o.value for o in SCCIF_GRADES)
        )
    return None


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


class Urgency(StrEnum):
    """How soon a child needs a placement (the ``urgency`` column).

    ``emergency``: tonight; the child's date is today, whatever ``--on`` says, and
    ``rank`` also lists what frees within a few days (a bridging placement then a planned
    move). ``urgent``: within days; ``planned``: a planned move. Neither changes the child's
    date, which is ``needed_by`` if given, else the ``--on`` date.
    """

    EMERGENCY = "emergency"
    URGENT = "urgent"
    PLANNED = "planned"

    @classmethod
    def parse(cls, text: str) -> Urgency:
        """Parse one case-insensitive value, or raise :class:`VocabularyError`."""
        return _parse_enum(cls, text, "urgency")


URGENCY_MEANING: dict[Urgency, str] = {
    Urgency.EMERGENCY: "a placement is needed today: the child's date is today (unless "
    "needed_by is given), and rank also lists what frees within --within-days",
    Urgency.URGENT: "needed within days; the child's date is needed_by or the --on date",
    Urgency.PLANNED: "a planned move; the child's date is needed_by or the --on date",
}


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


class Response(StrEnum):
    """A provider's answer to a referral (the ``response`` column of ``responses.csv``).

    ``offer``: the provider offers the placement; ``rank`` shows it first among options of
    equal tier and points. ``consider``: the provider is considering it (or wants more
    information); shown after an offer and before no answer among equals. ``decline``: the
    provider will not take the child; the hard rule ``declined_by_provider`` then excludes
    the vacancy for that child (and, placed as a unit, for its sibling group).
    """

    OFFER = "offer"
    CONSIDER = "consider"
    DECLINE = "decline"

    @classmethod
    def parse(cls, text: str) -> Response:
        """Parse one case-insensitive value, or raise :class:`VocabularyError`."""
        return _parse_enum(cls, text, "response")


RESPONSE_MEANING: dict[Response, str] = {
    Response.OFFER: "the provider offers the placement: shown first among equal options",
    Response.CONSIDER: "the provider is considering the referral: shown after an offer, "
    "before no answer, among equal options",
    Response.DECLINE: "the provider declines: the vacancy is excluded for the child "
    "(hard rule declined_by_provider); a reason is required",
}


class ResponseReason(StrEnum):
    """Why a provider answered as it did (the ``reason`` column of ``responses.csv``).

    Required for a ``decline``, optional for an ``offer`` or ``consider`` (e.g. ``cost``:
    offered at another fee). The codes follow what providers give when they turn a referral
    down (Ofsted, "Good decisions: children's social care placements", 2024): no bed after
    all, needs the home cannot meet, the impact on the children already living there, risks
    it cannot manage, the location, the cost. Codes only: an officer's free text stays in
    the case record, never in the folder.
    """

    NO_CAPACITY = "no_capacity"
    CANNOT_MEET_NEEDS = "cannot_meet_needs"
    IMPACT_ON_RESIDENTS = "impact_on_residents"
    RISK = "risk"
    LOCATION = "location"
    OUTSIDE_APPROVAL = "outside_approval"
    COST = "cost"
    OTHER = "other"

    @classmethod
    def parse(cls, text: str) -> ResponseReason:
        """Parse one case-insensitive value, or raise :class:`VocabularyError`."""
        return _parse_enum(cls, text, "response reason")


RESPONSE_REASON_MEANING: dict[ResponseReason, str] = {
    ResponseReason.NO_CAPACITY: "no bed after all: the vacancy is filled or held for another child",
    ResponseReason.CANNOT_MEET_NEEDS: "the provider cannot meet the child's assessed needs "
    "(care, health, education or staffing)",
    ResponseReason.IMPACT_ON_RESIDENTS: "the impact on the children already living there "
    "(matching and impact risk assessment)",
    ResponseReason.RISK: "risks in the referral the provider cannot manage safely",
    ResponseReason.LOCATION: "the location does not suit the child (distance, area, "
    "contact or school)",
    ResponseReason.OUTSIDE_APPROVAL: "outside the carer's terms of approval or the home's "
    "registration, as the provider knows them",
    ResponseReason.COST: "the fee: not agreed, or offered at another fee",
    ResponseReason.OTHER: "another reason, recorded in the case record",
}
