"""Hard rules: each a named rule with its statutory or regulatory source, applied before scoring.

A vacancy that breaks a hard rule is never offered to the child, whatever the points. Rules
are evaluated vectorised over arrays of (child, vacancy) pairs
(:class:`~matcher.factors.base.Pairs`) and in the order of :data:`DEFAULT_RULES`: an excluded
pair is attributed to the *first* rule it breaks, so the counts per rule add up to the pairs
excluded, and ``why-not`` names that rule (and lists any others broken).

The rules, in order (see each class for the source and the exact test):

``connected_person_only_for_connected``, ``secure_only_with_authorisation``,
``no_supported_accommodation_under_16``, ``placement_type_suits_child``,
``age_within_approval``, ``sex_within_approval``, ``dols_lawful``, ``parent_and_child``,
``required_adaptation``, ``risk_not_manageable``, ``avoid_areas``, ``solo_only``,
``no_younger_children``, ``beds_for_sibling_group``, ``fostering_limit``,
``not_available_on_date``, ``not_offered_to_pool``, ``declined_by_provider``, and last
``sibling_group_together`` (a vacancy excluded for one child of a sibling group is excluded
for the whole group, because the group is placed as a unit).

Choices made here (documented in ``docs/matching.md``):

* **Sibling groups** are placed as units unless ``allow_sibling_split``: the vacancy needs beds
  for the whole group, and the fostering limit counts the whole group.
* **Fostering limit** (Children Act 1989 Sch. 7 para 2): a fostering household may not have
  more than three fostered children, unless they are all siblings. A sibling group of more
  than three placed together in a household fostering nobody else is allowed (the siblings
  exception) and the option carries the ``fostering_limit_exemption`` sign-off so that the
  decision is recorded; any other excess is excluded. Several vacancies of one household
  share the limit: :class:`~matcher.candidates.CandidateSet` gives each provider's room for
  the batch optimiser.
* **Solo only**: the household must foster nobody now (``fostered_now`` is 0, and nobody in
  ``residents.csv``) and either have
  no other bed than those the child (with any siblings) takes, or have the ``solo_only``
  capability (the provider keeps the placement solo). Such pairs are flagged ``exclusive`` in
  the candidate set: nobody else may then be placed with that provider.
* **No younger children**: the vacancy must have the ``no_younger_children`` capability (no
  younger child lives there now), and no younger child may join: the provider has no other
  bed, or all its vacancies take only children at least the child's age. With
  ``residents.csv`` it is also checked against the children living there: no resident may be
  younger than such a child, and a child may not join a resident who must not live with
  younger children and is older than the child.
* **Children's homes** are registered for an age range and sex (the registration and the
  Statement of Purpose, Children's Homes (England) Regulations 2015 reg 16 and Sch. 1):
  ``age_min``/``age_max`` and ``sex`` hold them, and ``age_within_approval`` and
  ``sex_within_approval`` check them for every placement type. What a home can meet is the
  ``capabilities`` it declares; a child's risk flags must each be among them
  (``risk_not_manageable``), whatever the placement type.
* **Pooled folders**: a vacancy whose owner keeps it back (``offered_to_pool = false``) is
  only for children of that owner (``not_offered_to_pool``); blank means offered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Literal, Protocol

import numpy as np
import numpy.typing as npt

from matcher.domain import FOSTERING_LIMIT, SUPPORTED_ACCOMMODATION_MIN_AGE, CaseFolder, Vacancy
from matcher.factors.base import (
    NEED_BIT,
    RISK_BIT,
    TYPE_BIT,
    TYPES,
    BoolArray,
    Pairs,
    has_bit,
    in_sorted,
)
from matcher.placement_types import PlacementType
from matcher.vocabulary import RESPONSE_REASON_MEANING, Need, RiskFlag

__all__ = [
    "DEFAULT_RULES",
    "GROUP_RULE",
    "Rule",
    "RuleResult",
    "evaluate_rules",
    "rule_by_name",
    "rule_counts",
]


class Rule(Protocol):
    """A hard eligibility rule.

    Attributes
    ----------
    name : str
        Snake-case name shown in every exclusion.
    source : str
        The statutory or regulatory source.
    kind : "hard"
    """

    name: ClassVar[str]
    source: ClassVar[str]
    kind: ClassVar[Literal["hard"]]

    def excludes(self, pairs: Pairs) -> BoolArray:
        """Whether the rule excludes each pair (vectorised)."""
        ...

    def reason(self, pairs: Pairs, k: int) -> str:
        """One sentence on why pair ``k`` is excluded (no personal data)."""
        ...


def _none(pairs: Pairs) -> BoolArray:
    return np.zeros(len(pairs), dtype=bool)


class ConnectedPersonOnlyForConnected:
    """A connected-person carer is approved only for the children it is connected to."""

    name: ClassVar[str] = "connected_person_only_for_connected"
    source: ClassVar[str] = (
        "Care Planning, Placement and Case Review (England) Regulations 2010 reg 24"
    )
    kind: ClassVar[Literal["hard"]] = "hard"
    #: The sentence names only the vacancy (made once per folder and vacancy: matcher.rank).
    reason_of_vacancy: ClassVar[bool] = True

    def excludes(self, pairs: Pairs) -> BoolArray:
        """A connected-person vacancy whose ``connected_to`` does not name the child."""
        cp = np.asarray(pairs.vacancy_is(PlacementType.CONNECTED_PERSON_FOSTER), dtype=bool)
        if "connected" in pairs.__dict__:  # already worked out for every pair
            return np.asarray(cp & ~pairs.connected)
        # only connected-person vacancies need the look-up (a few per cent of pairs)
        out = np.zeros(len(pairs), dtype=bool)
        at = np.flatnonzero(cp)
        key = pairs.ci[at] * pairs.arrays.n_vacancies + pairs.vi[at]
        out[at] = ~in_sorted(key, pairs.arrays.connected_keys)
        return out

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        return "A connected-person carer approved for other children, not this child."


class SecureOnlyWithAuthorisation:
    """Secure accommodation only for a child under a secure accommodation order, and such a
    child only in an approved secure children's home."""

    name: ClassVar[str] = "secure_only_with_authorisation"
    source: ClassVar[str] = "Children Act 1989 s25 (secure accommodation)"
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """A secure home for a child without the ``secure`` need, or vice versa."""
        needs = pairs.child_has(Need.SECURE)
        secure_home = pairs.vacancy_is(PlacementType.SECURE_HOME)
        capable = pairs.vacancy_has(Need.SECURE)
        return np.asarray((secure_home & ~needs) | (needs & ~capable))

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        if pairs.child_has(Need.SECURE)[k]:
            return (
                "The child is under a secure accommodation order: only an approved secure "
                "children's home may take them."
            )
        return "A secure children's home: only for a child under a secure accommodation order."


class NoSupportedAccommodationUnder16:
    """Supported accommodation never takes a child under 16."""

    name: ClassVar[str] = "no_supported_accommodation_under_16"
    source: ClassVar[str] = "Supported Accommodation (England) Regulations 2023"
    kind: ClassVar[Literal["hard"]] = "hard"
    #: The sentence names only the vacancy (made once per folder and vacancy: matcher.rank).
    reason_of_vacancy: ClassVar[bool] = True

    def excludes(self, pairs: Pairs) -> BoolArray:
        """Supported accommodation and the child is under 16."""
        sa = pairs.vacancy_is(PlacementType.SUPPORTED_ACCOMMODATION)
        return np.asarray(sa & (pairs.c("age") < SUPPORTED_ACCOMMODATION_MIN_AGE))

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        return "Supported accommodation is only for 16- and 17-year-olds."


class PlacementTypeSuitsChild:
    """The vacancy's placement type is one the child's plan accepts."""

    name: ClassVar[str] = "placement_type_suits_child"
    source: ClassVar[str] = "Children Act 1989 s22C(6); the child's care plan (placement_types)"
    kind: ClassVar[Literal["hard"]] = "hard"
    #: The sentence names only the vacancy (made once per folder and vacancy: matcher.rank).
    reason_of_vacancy: ClassVar[bool] = True

    def excludes(self, pairs: Pairs) -> BoolArray:
        """The type's bit is not in the child's acceptable types."""
        bits = np.asarray([TYPE_BIT[t] for t in TYPES], dtype=np.int64)[pairs.v("type")]
        return np.asarray((pairs.c("types") & bits) == 0)

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        t = TYPES[int(pairs.v("type")[k])].value
        return f"Placement type {t} is not one the child's plan accepts."


#: The source of the age and sex rules: a carer's terms of approval, a home's registration
#: and its Statement of Purpose (which says the ages and sex of the children it is for).
_APPROVAL_SOURCE = (
    "Fostering Services (England) Regulations 2011 reg 27 (terms of approval); "
    "the home's registration (Care Standards Act 2000) and Statement of Purpose "
    "(Children's Homes (England) Regulations 2015 reg 16, Sch. 1)"
)


class AgeWithinApproval:
    """The child's age is within the carer's terms of approval or the home's registration.

    For a children's home ``age_min``..``age_max`` is the registered age range (its
    registration and its Statement of Purpose); no separate rule repeats it.
    """

    name: ClassVar[str] = "age_within_approval"
    source: ClassVar[str] = _APPROVAL_SOURCE
    kind: ClassVar[Literal["hard"]] = "hard"
    #: The sentence names only the vacancy (made once per folder and vacancy: matcher.rank).
    reason_of_vacancy: ClassVar[bool] = True

    def excludes(self, pairs: Pairs) -> BoolArray:
        """Age outside ``age_min``..``age_max``."""
        age = pairs.c("age")
        return np.asarray((age < pairs.v("age_min")) | (age > pairs.v("age_max")))

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        lo, hi = int(pairs.v("age_min")[k]), int(pairs.v("age_max")[k])
        return f"The child's age is outside the approved range {lo} to {hi}."


class SexWithinApproval:
    """The vacancy takes children of the child's sex (for a children's home, the sex it is
    registered for)."""

    name: ClassVar[str] = "sex_within_approval"
    source: ClassVar[str] = _APPROVAL_SOURCE
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """A single-sex vacancy of the other sex."""
        vs = pairs.v("sex")  # 0 any, 1 M, 2 F
        cs = pairs.c("sex")  # 0 M, 1 F
        return np.asarray((vs != 0) & (vs != cs + 1))

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        takes = {1: "boys", 2: "girls"}[int(pairs.v("sex")[k])]
        return f"The vacancy takes only {takes}."


@dataclass(frozen=True, slots=True)
class _CapabilityRule:
    needs: tuple[Need, ...]

    def _missing(self, pairs: Pairs) -> list[tuple[Need, BoolArray]]:
        return [(n, pairs.child_has(n) & ~pairs.vacancy_has(n)) for n in self.needs]

    def _excludes(self, pairs: Pairs) -> BoolArray:
        out = _none(pairs)
        for _, miss in self._missing(pairs):
            out |= miss
        return out

    def _first_missing(self, pairs: Pairs, k: int) -> Need:
        return next(n for n, miss in self._missing(pairs) if miss[k])


class DolsLawful:
    """A child under a Deprivation of Liberty order only where it can lawfully be held."""

    name: ClassVar[str] = "dols_lawful"
    source: ClassVar[str] = (
        "Deprivation of liberty authorised by the High Court (inherent jurisdiction; "
        "Re T [2021] UKSC 35)"
    )
    kind: ClassVar[Literal["hard"]] = "hard"
    _rule = _CapabilityRule((Need.DOLS,))

    def excludes(self, pairs: Pairs) -> BoolArray:
        """The child has ``dols`` and the vacancy lacks the capability."""
        return self._rule._excludes(pairs)

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        return "The placement cannot lawfully hold a Deprivation of Liberty order."


class ParentAndChild:
    """A parent with their baby only in an approved parent-and-child placement, and such a
    placement only for a parent."""

    name: ClassVar[str] = "parent_and_child"
    source: ClassVar[str] = (
        "Terms of approval for parent and child arrangements (Fostering Services (England) "
        "Regulations 2011 reg 27; Children's Homes (England) Regulations 2015)"
    )
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """Need without capability, or a parent-and-child vacancy for a child without the need."""
        need = pairs.child_has(Need.PARENT_AND_CHILD)
        cap = pairs.vacancy_has(Need.PARENT_AND_CHILD)
        pc_type = pairs.vacancy_is(PlacementType.PARENT_AND_CHILD)
        return np.asarray((need & ~cap) | (pc_type & ~need))

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        if pairs.child_has(Need.PARENT_AND_CHILD)[k]:
            return "The placement is not approved for a parent with their child."
        return "A parent-and-child placement: only for a parent placed with their child."


class RequiredAdaptation:
    """A required adaptation or staffing (wheelchair access, two-to-one staffing)."""

    name: ClassVar[str] = "required_adaptation"
    source: ClassVar[str] = (
        "Children Act 1989 s22C(8)(d) (suitable to a disabled child's needs); Equality Act 2010 s20"
    )
    kind: ClassVar[Literal["hard"]] = "hard"
    _rule = _CapabilityRule((Need.WHEELCHAIR, Need.STAFFING_2TO1))

    def excludes(self, pairs: Pairs) -> BoolArray:
        """A required capability is missing."""
        return self._rule._excludes(pairs)

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why (the capability, not the child's need, is named)."""
        need = self._rule._first_missing(pairs, k)
        what = {
            Need.WHEELCHAIR: "wheelchair accessible",
            Need.STAFFING_2TO1: "able to staff two-to-one",
        }[need]
        return f"The placement is not {what}, which the child requires."


class RiskNotManageable:
    """A child's risk flags must each be ones the placement declares it can manage.

    A children's home's ``capabilities`` are its Statement of Purpose: the range of needs it
    is for, including the risks (``cse``, ``missing``, ``aggression``, ...) it can manage; a
    carer's are its approval and experience. A child with no risk flags is never excluded,
    so a folder without the ``risk_flags`` column behaves as before.
    """

    name: ClassVar[str] = "risk_not_manageable"
    source: ClassVar[str] = (
        "Children's Homes (England) Regulations 2015 reg 12 (protection of children) and "
        "reg 16, Sch. 1 (Statement of Purpose: the needs the home is for); "
        "the carer's terms of approval (Fostering Services (England) Regulations 2011 reg 27)"
    )
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """A risk flag of the child that the vacancy does not list among its capabilities."""
        if not pairs.arrays.c_risks.any():  # no child assessed has a risk flag
            return _none(pairs)
        risks = pairs.c("risks")
        return np.asarray((risks & ~pairs.v("manages")) != 0)

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why: the risks the placement does not say it can manage."""
        missing = int(pairs.c("risks")[k]) & ~int(pairs.v("manages")[k])
        names = ", ".join(r.value for r in RiskFlag if missing & RISK_BIT[r])
        return f"The placement does not declare it can manage the child's risk flags: {names}."


class AvoidAreas:
    """Not in an authority or postcode district the child's plan says to avoid."""

    name: ClassVar[str] = "avoid_areas"
    source: ClassVar[str] = (
        "The child's care and placement plan (Care Planning Regulations 2010 regs 5 and 9): "
        "areas to avoid"
    )
    kind: ClassVar[Literal["hard"]] = "hard"

    def _by_authority(self, pairs: Pairs) -> BoolArray:
        a = pairs.arrays
        va = pairs.v("authority")
        key = pairs.ci * max(len(a.authorities), 1) + va
        return np.asarray((va >= 0) & in_sorted(key, a.avoid_authority_keys))

    def excludes(self, pairs: Pairs) -> BoolArray:
        """The vacancy's authority or outcode is in the child's ``avoid_areas``."""
        a = pairs.arrays
        if not len(a.avoid_authority_keys) and not len(a.avoid_outcode_keys):
            return _none(pairs)  # nobody's plan names an area: the usual case
        key = pairs.ci * a.n_outcodes + pairs.v("outcode")
        return np.asarray(self._by_authority(pairs) | in_sorted(key, a.avoid_outcode_keys))

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why (says which kind of area, not which)."""
        if self._by_authority(pairs)[k]:
            return "The placement is in an authority the child's plan says to avoid."
        return "The placement is in a postcode district the child's plan says to avoid."


class SoloOnly:
    """A solo-only child is the only looked-after child there."""

    name: ClassVar[str] = "solo_only"
    source: ClassVar[str] = (
        "The child's placement plan (Care Planning Regulations 2010 reg 9): "
        "the only looked-after child in the placement"
    )
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """Somebody fostered or living there now (``fostered_now``, or a resident in
        ``residents.csv``), or other beds the provider does not keep empty."""
        need = np.asarray(pairs.child_has(Need.SOLO_ONLY), dtype=bool)
        out = np.zeros(len(pairs), dtype=bool)
        at = np.flatnonzero(need)  # only solo-only children's pairs (about 2 % of children)
        if not len(at):
            return out
        a, vi = pairs.arrays, pairs.vi[at]
        others_now = a.v_fostered_now[vi] > 0
        if pairs.has_residents:
            others_now = others_now | (a.v_res_count[vi] > 0)
        placed = pairs.children_placed[at]
        spare = (a.v_provider_beds[vi] > placed) & ~has_bit(a.v_caps[vi], NEED_BIT[Need.SOLO_ONLY])
        out[at] = others_now | spare
        return out

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        living = pairs.has_residents and pairs.v("res_count")[k] > 0
        if pairs.v("fostered_now")[k] > 0 or living:
            return "Other children already live there; the child must be the only one."
        return "The provider has other beds and does not keep the placement solo."


class NoYoungerChildren:
    """No child lives with younger children whose plan says they must not.

    The child's own ``no_younger_children`` need: the vacancy declares the capability and no
    younger child can join in another bed; with ``residents.csv``, no resident is younger.
    A resident's ``no_younger_children`` need (``residents.csv``): the child is not younger
    than that resident. Without ``residents.csv`` only the child's own need is checked, as
    before.
    """

    name: ClassVar[str] = "no_younger_children"
    source: ClassVar[str] = (
        "The child's placement plan (Care Planning Regulations 2010 reg 9): "
        "no younger children in the placement; and each resident's, with the impact on the "
        "children already there (Children's Homes (England) Regulations 2015 reg 14)"
    )
    kind: ClassVar[Literal["hard"]] = "hard"

    def _residents(self, pairs: Pairs, need: BoolArray) -> tuple[BoolArray, BoolArray]:
        """(a younger resident lives there, a resident the child is too young to join)."""
        if not pairs.has_residents:
            return _none(pairs), _none(pairs)
        age = pairs.c("age")
        younger_resident = need & (pairs.v("res_min_age") < age)
        resident_objects = pairs.v("res_nyc_max_age") > age
        return np.asarray(younger_resident), np.asarray(resident_objects)

    def excludes(self, pairs: Pairs) -> BoolArray:
        """No capability, a younger child could be placed in another bed, a younger
        resident, or a resident who must not live with a child this young."""
        need = pairs.child_has(Need.NO_YOUNGER_CHILDREN)
        cap = pairs.vacancy_has(Need.NO_YOUNGER_CHILDREN)
        other_beds = pairs.v("provider_beds") > pairs.children_placed
        younger_may_join = other_beds & (pairs.v("provider_min_age") < pairs.c("age"))
        younger_resident, resident_objects = self._residents(pairs, need)
        return np.asarray((need & (~cap | younger_may_join)) | younger_resident | resident_objects)

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why (a resident by age only, never by reference)."""
        need = pairs.child_has(Need.NO_YOUNGER_CHILDREN)
        younger_resident, _ = self._residents(pairs, need)
        if need[k] and not pairs.vacancy_has(Need.NO_YOUNGER_CHILDREN)[k]:
            return "Younger children may live there; the child must not live with them."
        if younger_resident[k]:
            youngest = int(pairs.v("res_min_age")[k])
            return (
                f"A resident aged {youngest} lives there, younger than the child, who must "
                "not live with younger children."
            )
        if need[k]:
            return "The provider has other beds open to younger children."
        oldest = int(pairs.v("res_nyc_max_age")[k])
        return (
            f"A resident aged {oldest} there must not live with younger children, and the "
            "child is younger."
        )


class BedsForSiblingGroup:
    """A sibling group placed as a unit needs beds for all of them."""

    name: ClassVar[str] = "beds_for_sibling_group"
    source: ClassVar[str] = "Children Act 1989 s22C(8)(c) (siblings accommodated together)"
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """Fewer beds than the group (only when splits are not allowed)."""
        if pairs.policy.allow_sibling_split:
            return _none(pairs)
        return np.asarray(pairs.v("beds") < pairs.c("group_size"))

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        size, beds = int(pairs.c("group_size")[k]), int(pairs.v("beds")[k])
        return f"{beds} bed(s) for a sibling group of {size} placed together."


class FosteringLimit:
    """No more than three fostered children in a household, unless all are siblings."""

    name: ClassVar[str] = "fostering_limit"
    source: ClassVar[str] = "Children Act 1989 Sch. 7 para 2 (the usual fostering limit)"
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """Over the limit, except a sibling group alone in the household."""
        siblings_alone = (pairs.v("fostered_now") == 0) & (pairs.children_placed > 1)
        return np.asarray(pairs.over_fostering_limit & ~siblings_alone)

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        now = int(pairs.v("fostered_now")[k])
        joining = int(pairs.children_placed[k])
        return (
            f"{now} fostered there now and {joining} joining: more than the limit of "
            f"{FOSTERING_LIMIT}."
        )


#: Day ordinals standing for an open end of a vacancy's dates, and for "no date".
_OPEN_FROM, _OPEN_UNTIL = np.iinfo(np.int64).min, np.iinfo(np.int64).max
_NO_DAY = np.iinfo(np.int64).min


def _vacancy_days(vacancies: tuple[Vacancy, ...]) -> tuple[npt.NDArray[np.int64], ...]:
    return (
        np.asarray(
            [
                _OPEN_FROM if v.available_from is None else v.available_from.toordinal()
                for v in vacancies
            ],
            dtype=np.int64,
        ).reshape(-1),
        np.asarray(
            [
                _OPEN_UNTIL if v.available_until is None else v.available_until.toordinal()
                for v in vacancies
            ],
            dtype=np.int64,
        ).reshape(-1),
    )


def _folder_vacancy_days(folder: CaseFolder) -> tuple[npt.NDArray[np.int64], ...] | None:
    """The folder's vacancies' first and last days as ordinals; ``None`` if none has a date."""
    if all(v.available_from is None and v.available_until is None for v in folder.vacancies):
        return None
    return _vacancy_days(folder.vacancies)


class NotAvailableOnDate:
    """A vacancy is offered only on the days its beds are free.

    The child's date is ``needed_by``; else today for an ``emergency``; else the date asked
    about (``rank --on``, ``match --on``, by default today): see
    :meth:`matcher.domain.CaseFolder.date_of`. A vacancy is free from ``available_from`` to
    ``available_until``, both inclusive, a blank end open. A folder whose vacancies have no
    dates is never excluded by this rule (the behaviour before vacancies had dates).
    Vectorised: the vacancies' days are built once per folder, the children's per call.
    """

    name: ClassVar[str] = "not_available_on_date"
    source: ClassVar[str] = (
        "Children Act 1989 s22C(5) (the most appropriate placement available); the "
        "provider's stated availability (available_from, available_until)"
    )
    kind: ClassVar[Literal["hard"]] = "hard"

    @staticmethod
    def _days(pairs: Pairs) -> tuple[npt.NDArray[np.int64], ...] | None:
        a = pairs.arrays
        folder = a.folder
        whole = folder.derived(_folder_vacancy_days)
        if whole is None:
            return None
        v_days = whole if a.vacancies is folder.vacancies else _vacancy_days(a.vacancies)
        child_days = [folder.date_of(c) for c in a.children]
        c_day = np.asarray(
            [_NO_DAY if d is None else d.toordinal() for d in child_days], dtype=np.int64
        ).reshape(-1)
        return c_day, v_days[0], v_days[1]

    def excludes(self, pairs: Pairs) -> BoolArray:
        """A pair whose child's date is before ``available_from`` or after
        ``available_until``."""
        days = self._days(pairs)
        if days is None or not len(pairs):
            return _none(pairs)
        c_day, v_from, v_until = days
        d = c_day[pairs.ci]
        return np.asarray((d != _NO_DAY) & ((d < v_from[pairs.vi]) | (d > v_until[pairs.vi])))

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why: the vacancy's dates and the date asked about."""
        v = pairs.vacancy(k)
        day = pairs.arrays.folder.date_of(pairs.child(k))
        start = "now" if v.available_from is None else v.available_from.isoformat()
        end = (
            "with no end date"
            if v.available_until is None
            else (f"until {v.available_until.isoformat()}")
        )
        on = "" if day is None else f" on {day.isoformat()}"
        return f"Not free{on}, the child's date: the vacancy is free from {start} {end}."


def _folder_closed_owners(folder: CaseFolder) -> npt.NDArray[np.int64] | None:
    """Per vacancy of the folder: the owner's number in :func:`_authority_numbers` when the
    vacancy is kept for its owner's children (``offered_to_pool`` false), else -1; ``None``
    when no vacancy is kept back (every folder that is not pooled)."""
    if not any(v.offered_to_pool is False and v.owner is not None for v in folder.vacancies):
        return None
    return _closed_owners(folder.vacancies, folder.derived(_authority_numbers))


def _authority_numbers(folder: CaseFolder) -> Mapping[str, int]:
    """ONS code -> a number, for every owner and every child's authority of the folder."""
    codes = {v.owner.ons_code for v in folder.vacancies if v.owner is not None}
    codes |= {c.authority.ons_code for c in folder.children}
    return MappingProxyType({code: i for i, code in enumerate(sorted(codes))})


def _closed_owners(
    vacancies: Sequence[Vacancy], numbers: Mapping[str, int]
) -> npt.NDArray[np.int64]:
    return np.asarray(
        [
            numbers[v.owner.ons_code] if v.owner is not None and v.offered_to_pool is False else -1
            for v in vacancies
        ],
        dtype=np.int64,
    ).reshape(-1)


class NotOfferedToPool:
    """A vacancy its owner keeps back from the pool is only for the owner's own children.

    In a pooled (regional) folder every vacancy names the authority that owns or commissions
    it (``owner_la``); with ``offered_to_pool = false`` the owner has not offered it to the
    other authorities of the pool, so it is excluded for every child whose responsible
    authority (``la``) is another. The child's own authority counts, never the policy's
    ``authority``: the owner decides whom its beds serve. Blank (``None``) means offered. A
    folder without such a vacancy is never excluded by this rule (nothing is computed).
    """

    name: ClassVar[str] = "not_offered_to_pool"
    source: ClassVar[str] = (
        "Children Act 1989 s22G (the owner's sufficiency duty to its own children); the "
        "owner's offer to the regional pool (vacancies.csv offered_to_pool)"
    )
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """A kept-back vacancy (``offered_to_pool`` false) and a child of another authority."""
        a = pairs.arrays
        folder = a.folder
        whole = folder.derived(_folder_closed_owners)
        if whole is None or not len(pairs):
            return _none(pairs)
        numbers = folder.derived(_authority_numbers)
        closed = whole if a.vacancies is folder.vacancies else _closed_owners(a.vacancies, numbers)
        child_la = np.asarray(
            [numbers[c.authority.ons_code] for c in a.children], dtype=np.int64
        ).reshape(-1)
        owner = closed[pairs.vi]
        return np.asarray((owner >= 0) & (owner != child_la[pairs.ci]))

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why: the owner, and that it keeps the vacancy for its own children."""
        owner = pairs.vacancy(k).owner
        name = "its owner" if owner is None else owner.name
        return (
            f"Kept by {name} for its own children (offered_to_pool = false), and this child "
            "is of another authority."
        )


def _folder_declines(folder: CaseFolder) -> Mapping[str, tuple[str, ...]] | None:
    """Child id -> the vacancy ids its providers declined; ``None`` when nothing is declined."""
    declined: dict[str, list[str]] = {}
    for r in folder.responses:
        if r.declined:
            declined.setdefault(r.child_id, []).append(r.vacancy_id)
    if not declined:
        return None
    return MappingProxyType({c: tuple(vs) for c, vs in declined.items()})


def _folder_vacancy_index(folder: CaseFolder) -> Mapping[str, int]:
    return MappingProxyType({v.vacancy_id: j for j, v in enumerate(folder.vacancies)})


class DeclinedByProvider:
    """A provider that declined the child's referral is not offered to the child again.

    The providers' answers come from ``responses.csv`` (or the service's recorded
    responses): a ``decline`` excludes that vacancy for that child, and so, placed as a
    unit, for its sibling group (``sibling_group_together``). The reason code the provider
    gave is in the sentence. An offer or a pending consideration excludes nothing. A folder
    without declines is never excluded by this rule (nothing is computed). Vectorised: one
    sorted key per declined pair, looked up for all pairs at once.
    """

    name: ClassVar[str] = "declined_by_provider"
    source: ClassVar[str] = (
        "Care Planning, Placement and Case Review (England) Regulations 2010 reg 9 (the "
        "placement plan is agreed with the provider); the provider's response to the referral"
    )
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """A pair whose provider declined this child for this vacancy."""
        a = pairs.arrays
        declines = a.folder.derived(_folder_declines)
        if declines is None or not len(pairs):
            return _none(pairs)
        if a.vacancies is a.folder.vacancies:
            index = a.folder.derived(_folder_vacancy_index)
        else:  # a subset of the vacancies: local indices
            index = {v.vacancy_id: j for j, v in enumerate(a.vacancies)}
        n_v = max(a.n_vacancies, 1)
        keys = [
            i * n_v + j
            for i, c in enumerate(a.children)
            for vid in declines.get(c.child_id, ())
            if (j := index.get(vid)) is not None
        ]
        if not keys:
            return _none(pairs)
        wanted = np.unique(np.asarray(keys, dtype=np.int64))
        return in_sorted(pairs.ci * n_v + pairs.vi, wanted)

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why: the reason code the provider gave, and what it means."""
        response = pairs.arrays.folder.response(pairs.child_id(k), pairs.vacancy(k).vacancy_id)
        reason = None if response is None else response.reason
        if reason is None:  # pragma: no cover - a decline always has a reason
            return "The provider declined the referral for this child."
        return (
            f"The provider declined the referral for this child: {reason.value} "
            f"({RESPONSE_REASON_MEANING[reason]})."
        )


class SiblingGroupTogether:
    """A vacancy excluded for one child of a sibling group is excluded for the group.

    Evaluated after the other rules, over all members of the group (see
    :func:`evaluate_rules`); it never applies when ``allow_sibling_split``.
    """

    name: ClassVar[str] = "sibling_group_together"
    source: ClassVar[str] = "Children Act 1989 s22C(8)(c) (siblings placed as a unit)"
    kind: ClassVar[Literal["hard"]] = "hard"

    def excludes(self, pairs: Pairs) -> BoolArray:
        """Never on its own: see :func:`evaluate_rules`."""
        return _none(pairs)

    def reason(self, pairs: Pairs, k: int) -> str:
        """Why."""
        return "A hard rule excludes the vacancy for a sibling, and the group is placed together."


#: The sibling-group rule, evaluated after the others.
GROUP_RULE = SiblingGroupTogether()

#: The hard rules in attribution order (the first broken is reported).
DEFAULT_RULES: tuple[Rule, ...] = (
    ConnectedPersonOnlyForConnected(),
    SecureOnlyWithAuthorisation(),
    NoSupportedAccommodationUnder16(),
    PlacementTypeSuitsChild(),
    AgeWithinApproval(),
    SexWithinApproval(),
    DolsLawful(),
    ParentAndChild(),
    RequiredAdaptation(),
    RiskNotManageable(),
    AvoidAreas(),
    SoloOnly(),
    NoYoungerChildren(),
    BedsForSiblingGroup(),
    FosteringLimit(),
    NotAvailableOnDate(),
    NotOfferedToPool(),
    DeclinedByProvider(),
    GROUP_RULE,
)


def rule_by_name(name: str) -> Rule:
    """The default rule called ``name`` (``KeyError`` if none)."""
    for rule in DEFAULT_RULES:
        if rule.name == name:
            return rule
    raise KeyError(name)


@dataclass(frozen=True, eq=False)
class RuleResult:
    """Which rule (if any) excludes each pair.

    Attributes
    ----------
    first : numpy.ndarray of int64
        Index into ``rules`` of the first rule broken; -1 when eligible.
    broken : numpy.ndarray of bool, shape (n_pairs, n_rules)
        Every rule broken by each pair.
    rules : tuple of Rule
        The rules applied, in attribution order (:data:`DEFAULT_RULES` unless others were
        passed to :func:`evaluate_rules`).
    """

    first: npt.NDArray[np.int64]
    broken: npt.NDArray[np.bool_]
    rules: tuple[Rule, ...] = DEFAULT_RULES

    @property
    def eligible(self) -> BoolArray:
        """Pairs that break no rule."""
        return np.asarray(self.first < 0)

    def counts(self) -> dict[str, int]:
        """Rule name -> pairs it excluded first, in rule order, zero counts left out."""
        return rule_counts(self.first, self.rules)

    def rule(self, k: int) -> Rule:
        """The first rule pair ``k`` breaks (``ValueError`` if it is eligible)."""
        i = int(self.first[k])
        if i < 0:
            raise ValueError(f"pair {k} breaks no rule")
        return self.rules[i]


def rule_counts(first: npt.NDArray[np.int64], rules: Sequence[Rule]) -> dict[str, int]:
    """Rule name -> pairs whose first broken rule it is (``first``: indices into ``rules``,
    -1 for eligible pairs), in rule order, zero counts left out."""
    n = np.bincount(first[first >= 0], minlength=len(rules))
    return {r.name: int(n[i]) for i, r in enumerate(rules) if n[i]}


def evaluate_rules(pairs: Pairs, rules: Sequence[Rule] = DEFAULT_RULES) -> RuleResult:
    """Apply every hard rule of ``rules`` (in attribution order) to every pair.

    For ``sibling_group_together`` the pairs must include, for each vacancy present, every
    member of each sibling group present (as the full grid of a folder, or all members of one
    group against the vacancies, does).
    """
    rules = tuple(rules)
    n, n_rules = len(pairs), len(rules)
    # column-major: each rule fills one contiguous column, and "any rule" per pair is then
    # a fast reduction across columns
    broken = np.zeros((n, n_rules), dtype=bool, order="F")
    group_col = rules.index(GROUP_RULE) if GROUP_RULE in rules else -1
    for j, rule in enumerate(rules):
        if j != group_col:
            broken[:, j] = rule.excludes(pairs)
    any_other = broken.any(axis=1)
    if group_col >= 0 and not pairs.policy.allow_sibling_split and n:
        group = pairs.c("group")
        in_group = group >= 0
        width = pairs.arrays.n_vacancies
        key = group * width + pairs.vi
        bad_keys = np.unique(key[in_group & any_other])
        broken[:, group_col] = in_group & ~any_other & in_sorted(key, bad_keys)
    first = np.where(broken.any(axis=1), np.argmax(broken, axis=1), -1).astype(np.int64)
    return RuleResult(first=first, broken=broken, rules=rules)
