"""The domain: children, sibling groups, vacancies, providers and the case folder.

Plain, frozen, slotted dataclasses validated in ``__post_init__``; files are read by
:mod:`matcher.casefolder`. Places are :mod:`geography` objects (``Location``, ``Authority``,
``School``), so every child and vacancy already knows its grid reference and authority.

Ages are whole years; costs are whole pounds a week.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from geography.authorities import Authority, resolve_authority
from matcher.bounds import MAX_VACANCY_NAME
from matcher.placement_types import FOSTERING_TYPES, PlacementType
from matcher.policy import Policy
from matcher.problems import Problem
from matcher.vocabulary import (
    Need,
    Ofsted,
    Response,
    ResponseReason,
    RiskFlag,
    Sex,
    Urgency,
    VacancySex,
    ethnicity_codes,
    ofsted_scale_problem,
)

if TYPE_CHECKING:
    from geography.postcodes import Location
    from geography.schools import School

#: Youngest and oldest age of a looked-after child (the Children Act 1989: under 18).
CHILD_MIN_AGE, CHILD_MAX_AGE = 0, 17
#: Youngest age at which supported accommodation may be used (Supported Accommodation
#: (England) Regulations 2023: under-16s are never placed there).
SUPPORTED_ACCOMMODATION_MIN_AGE = 16
#: Oldest age a vacancy's terms of approval may name (staying put / leaving care homes).
VACANCY_MAX_AGE = 25
#: Fostered children a household may have without an exemption (Children Act 1989 Sch. 7).
FOSTERING_LIMIT = 3
#: Ids: letters, digits and ``_ . - / :``, starting with a letter or digit, at most 64.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")
#: A postcode district (outcode), e.g. ``CM1``, ``SS14``, ``EC1A``.
OUTCODE_PATTERN = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")

_FOSTERING = (
    PlacementType.CONNECTED_PERSON_FOSTER,
    PlacementType.INHOUSE_FOSTER,
    PlacementType.AGENCY_FOSTER,
)


class InvalidFieldError(ValueError):
    """A domain value is invalid; :attr:`field` names the case-folder column concerned."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def _require(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise InvalidFieldError(field, message)


def child_rule_problems(
    *,
    age: int,
    has_home: bool,
    needs: Iterable[Need],
    requested: Iterable[PlacementType] | None,
    home_unknown: bool = False,
) -> list[tuple[str, str]]:
    """Rules between a child's fields, as ``(field, message)`` pairs; empty when all hold.

    Each cell can be valid on its own and the row still break these, so the case-folder
    reader checks them on the row as well (all at once, whatever else is wrong with the
    row), and :class:`Child` raises the first.
    """
    problems: list[tuple[str, str]] = []
    if home_unknown and has_home:
        problems.append(
            (
                "home_postcode_unknown",
                "true, but home_postcode is given; expected a blank home_postcode with true, "
                "or false (or blank) with a postcode",
            )
        )
    elif not has_home and not home_unknown and Need.UASC not in set(needs):
        problems.append(
            (
                "home_postcode",
                "expected a postcode; it may be blank only for a separated migrant child "
                "(needs contains uasc) or when home_postcode_unknown is true",
            )
        )
    if (
        requested is not None
        and PlacementType.SUPPORTED_ACCOMMODATION in set(requested)
        and age < SUPPORTED_ACCOMMODATION_MIN_AGE
    ):
        problems.append(
            (
                "placement_types",
                "supported_accommodation is only for children aged 16 or 17 "
                "(Supported Accommodation (England) Regulations 2023)",
            )
        )
    return problems


def vacancy_rule_problems(
    *,
    placement_type: PlacementType,
    age_min: int,
    age_max: int,
    connected_to: Iterable[str],
    ofsted: Ofsted | None = None,
) -> list[tuple[str, str]]:
    """Rules between a vacancy's fields, as ``(field, message)`` pairs; empty when all hold.

    As :func:`child_rule_problems`: the case-folder reader reports all of them with the
    row's other problems, and :class:`Vacancy` raises the first. ``ofsted``, when given,
    must be on its placement type's scale (:func:`~matcher.vocabulary.ofsted_scale_problem`).
    """
    problems: list[tuple[str, str]] = []
    if age_min > age_max:
        problems.append(("age_max", "expected at least age_min"))
    if placement_type is PlacementType.SUPPORTED_ACCOMMODATION and (
        age_min < SUPPORTED_ACCOMMODATION_MIN_AGE
    ):
        problems.append(
            ("age_min", "expected 16 or more: supported accommodation never takes under-16s")
        )
    connected = bool(set(connected_to))
    if placement_type is PlacementType.CONNECTED_PERSON_FOSTER and not connected:
        problems.append(
            ("connected_to", "expected the child_ids this connected-person carer is approved for")
        )
    elif placement_type is not PlacementType.CONNECTED_PERSON_FOSTER and connected:
        problems.append(
            (
                "connected_to",
                "expected blank: only connected_person_foster carers are connected to children",
            )
        )
    if ofsted is not None:
        scale = ofsted_scale_problem(
            supported_accommodation=placement_type is PlacementType.SUPPORTED_ACCOMMODATION,
            ofsted=ofsted,
        )
        if scale is not None:
            problems.append(("ofsted", scale))
    return problems


def _is_date(value: object) -> bool:
    # datetime is a subclass of date; a time of day has no meaning here.
    return value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime))


def availability_problem(start: dt.date | None, until: dt.date | None) -> str | None:
    """Why ``available_from``/``available_until`` cannot stand together, or ``None``."""
    if start is not None and until is not None and until < start:
        return (
            f"expected a date on or after available_from ({start.isoformat()}); "
            f"got {until.isoformat()}"
        )
    return None


def check_id(value: str, field: str) -> None:
    """Raise :class:`InvalidFieldError` unless ``value`` is a valid id (see :data:`ID_PATTERN`)."""
    _require(
        isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None,
        field,
        "expected an id of letters, digits and _ . - / : (at most 64, no spaces)",
    )


def response_problem(response: Response, reason: ResponseReason | None) -> str | None:
    """Why ``response`` cannot stand with ``reason``, or ``None`` (a decline needs a reason)."""
    if response is Response.DECLINE and reason is None:
        return "required for a decline; expected one of: " + ", ".join(
            r.value for r in ResponseReason
        )
    return None


@dataclass(frozen=True, slots=True)
class ReferralResponse:
    """A provider's answer to the referral of one child for one vacancy (``responses.csv``).

    Attributes
    ----------
    vacancy_id, child_id : str
        The vacancy referred to and the child referred.
    response : Response
        ``offer``, ``consider`` or ``decline``.
    reason : ResponseReason or None
        Why; required for a decline.
    """

    vacancy_id: str
    child_id: str
    response: Response
    reason: ResponseReason | None = None

    def __post_init__(self) -> None:
        check_id(self.vacancy_id, "vacancy_id")
        check_id(self.child_id, "child_id")
        _require(isinstance(self.response, Response), "response", "expected a Response")
        _require(
            self.reason is None or isinstance(self.reason, ResponseReason),
            "reason",
            "expected a ResponseReason or None",
        )
        problem = response_problem(self.response, self.reason)
        _require(problem is None, "reason", problem or "")

    @property
    def declined(self) -> bool:
        """Whether the provider declined."""
        return self.response is Response.DECLINE


def default_placement_types(age: int, needs: Iterable[Need] = ()) -> frozenset[PlacementType]:
    """The placement types acceptable for a child whose ``placement_types`` cell is blank.

    * a ``secure`` need: only ``secure_home`` (a court has authorised secure accommodation);
    * under 10: the three fostering types;
    * 10 to 15: fostering or a children's home;
    * 16 and 17: fostering, a children's home or supported accommodation;
    * a ``parent_and_child`` need adds ``parent_and_child``.

    ``secure_home`` is never a default otherwise, and ``connected_person_foster`` is offered
    only by carers connected to the child (a hard rule of the matcher).
    """
    need_set = frozenset(needs)
    if Need.SECURE in need_set:
        return frozenset({PlacementType.SECURE_HOME})
    types: set[PlacementType] = set(_FOSTERING)
    if age >= 10:
        types.add(PlacementType.CHILDRENS_HOME)
    if age >= SUPPORTED_ACCOMMODATION_MIN_AGE:
        types.add(PlacementType.SUPPORTED_ACCOMMODATION)
    if Need.PARENT_AND_CHILD in need_set:
        types.add(PlacementType.PARENT_AND_CHILD)
    return frozenset(types)


@dataclass(frozen=True, slots=True)
class Child:
    """A looked-after child waiting for a placement.

    Parameters
    ----------
    child_id
        The case-folder id (never a name).
    age
        Whole years, 0 to 17.
    sex
        ``M`` or ``F``.
    authority
        The responsible authority (``la`` column).
    home
        Where the child lived (``home_postcode``); ``None`` only for a separated migrant
        child (``uasc`` need) or when :attr:`home_unknown`.
    school
        The child's current school (``school_urn``), if any.
    sibling_group
        Children sharing this value are siblings to be placed together.
    needs
        From :class:`~matcher.vocabulary.Need`.
    requested_placement_types
        The ``placement_types`` cell; ``None`` means the default by age
        (:func:`default_placement_types`). :attr:`placement_types` is the resolved set.
    ethnicity
        SSDA903 ``ETHNIC`` code, e.g. ``WBRI``.
    religion, language
        Free text, stored normalised (lower case, single spaces) for matching.
    avoid_authorities, avoid_outcodes
        Areas the child must not be placed in (``avoid_areas``): authorities and postcode
        districts, e.g. for a risk of exploitation there.
    needed_by
        The date the placement must start (``needed_by``), if known.
    urgency
        From :class:`~matcher.vocabulary.Urgency`; ``None`` when not recorded.
        :meth:`date_needed` gives the date the child's vacancies must be free on.
    risk_flags
        From :class:`~matcher.vocabulary.RiskFlag`: risks the child poses or faces; a
        vacancy must declare each one it can manage (``risk_not_manageable``).
    home_unknown
        The home postcode is not known, and the folder says so (``home_postcode_unknown``,
        e.g. a 903 ``HOME_POST`` that is blank or not in the ONS directory, imported with
        ``--keep-unknown-postcodes``): ``home`` is ``None``, near home is not scored.
    """

    child_id: str
    age: int
    sex: Sex
    authority: Authority
    # Personal data stays out of repr(), so a logged child shows only its id, age and ids.
    home: Location | None = field(default=None, repr=False)
    school: School | None = field(default=None, repr=False)
    sibling_group: str | None = None
    needs: frozenset[Need] = field(default=frozenset(), repr=False)
    requested_placement_types: frozenset[PlacementType] | None = None
    ethnicity: str | None = field(default=None, repr=False)
    religion: str | None = field(default=None, repr=False)
    language: str | None = field(default=None, repr=False)
    avoid_authorities: frozenset[Authority] = field(default=frozenset(), repr=False)
    avoid_outcodes: frozenset[str] = field(default=frozenset(), repr=False)
    needed_by: dt.date | None = field(default=None, repr=False)
    urgency: Urgency | None = None
    risk_flags: frozenset[RiskFlag] = field(default=frozenset(), repr=False)
    home_unknown: bool = False
    placement_types: frozenset[PlacementType] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        check_id(self.child_id, "child_id")
        _require(
            type(self.age) is int and CHILD_MIN_AGE <= self.age <= CHILD_MAX_AGE,
            "age",
            f"expected a whole number of years from {CHILD_MIN_AGE} to {CHILD_MAX_AGE}",
        )
        _require(isinstance(self.sex, Sex), "sex", "expected M or F")
        if self.sibling_group is not None:
            check_id(self.sibling_group, "sibling_group")
        _require(all(isinstance(n, Need) for n in self.needs), "needs", "expected Need values")
        _require(
            all(isinstance(r, RiskFlag) for r in self.risk_flags),
            "risk_flags",
            "expected RiskFlag values",
        )
        if self.requested_placement_types is not None:
            requested = self.requested_placement_types
            _require(
                bool(requested) and all(isinstance(t, PlacementType) for t in requested),
                "placement_types",
                "expected at least one placement type",
            )
            resolved = requested
        else:
            resolved = default_placement_types(self.age, self.needs)
        _require(
            self.ethnicity is None or self.ethnicity in ethnicity_codes(),
            "ethnicity",
            "expected an SSDA903 ETHNIC code",
        )
        for name in ("religion", "language"):
            value = getattr(self, name)
            _require(value is None or bool(value.strip()), name, "expected text or blank")
        _require(
            all(OUTCODE_PATTERN.fullmatch(o) for o in self.avoid_outcodes),
            "avoid_areas",
            "expected postcode districts such as CM1",
        )
        _require(_is_date(self.needed_by), "needed_by", "expected a date (YYYY-MM-DD) or blank")
        _require(
            self.urgency is None or isinstance(self.urgency, Urgency),
            "urgency",
            "expected one of: " + ", ".join(u.value for u in Urgency),
        )
        _require(type(self.home_unknown) is bool, "home_postcode_unknown", "expected a bool")
        for name, message in child_rule_problems(
            age=self.age,
            has_home=self.home is not None,
            needs=self.needs,
            requested=self.requested_placement_types,
            home_unknown=self.home_unknown,
        ):
            raise InvalidFieldError(name, message)
        object.__setattr__(self, "placement_types", resolved)

    @property
    def is_emergency(self) -> bool:
        """The ``emergency`` urgency: a placement is needed today."""
        return self.urgency is Urgency.EMERGENCY

    def date_needed(self, on: dt.date, today: dt.date) -> dt.date:
        """The date this child's vacancies must be free on.

        ``needed_by`` if given; else ``today`` for an emergency; else ``on`` (the date the
        officer asks about: ``rank --on``, by default today). Both dates are passed in, so
        that nothing here reads the clock.
        """
        if self.needed_by is not None:
            return self.needed_by
        return today if self.is_emergency else on

    @property
    def home_postcode(self) -> str | None:
        """The normalised home postcode, or ``None`` (separated migrant child, or unknown)."""
        return None if self.home is None else self.home.postcode

    @property
    def school_urn(self) -> int | None:
        """The current school's URN, if any."""
        return None if self.school is None else self.school.urn

    @property
    def is_separated_migrant(self) -> bool:
        """A separated migrant (unaccompanied asylum-seeking) child: the ``uasc`` need."""
        return Need.UASC in self.needs

    @property
    def is_disabled(self) -> bool:
        """The child has the ``disability`` need."""
        return Need.DISABILITY in self.needs


@dataclass(frozen=True, slots=True)
class SiblingGroup:
    """Children of one ``sibling_group`` value, to be placed together (s22C(8)(c)).

    ``child_ids`` are sorted; every child shares the responsible authority.
    """

    sibling_group_id: str
    child_ids: tuple[str, ...]
    authority: Authority

    def __post_init__(self) -> None:
        check_id(self.sibling_group_id, "sibling_group")
        _require(bool(self.child_ids), "sibling_group", "expected at least one child")
        _require(
            list(self.child_ids) == sorted(set(self.child_ids)),
            "sibling_group",
            "expected sorted, distinct child ids",
        )

    @property
    def size(self) -> int:
        """Number of children in the group."""
        return len(self.child_ids)


@dataclass(frozen=True, slots=True)
class Vacancy:
    """Beds of one kind offered by one provider (a foster household, home or unit).

    Parameters
    ----------
    vacancy_id, provider_id
        Ids; vacancies with the same ``provider_id`` are in one household, home or unit.
    placement_type
        From :class:`~matcher.placement_types.PlacementType`.
    location
        Where the placement is (``postcode``); its ``authority`` decides "in area".
    beds
        Children it can take now (at least 1).
    age_min, age_max
        The terms of approval's age range, inclusive (0 to 25).
    sex
        ``any``, ``M`` or ``F``.
    capabilities
        From :class:`~matcher.vocabulary.Need`.
    ofsted
        The Ofsted grade of the home or fostering service.
    weekly_cost
        Whole pounds a week.
    connected_to
        For a ``connected_person_foster`` carer: the only children it is approved for.
    fostered_now
        Children already fostered or living there (for the limit of three).
    ethnicity
        The household's SSDA903 ``ETHNIC`` codes.
    religion
        Free text, normalised.
    languages
        Languages spoken in the household, normalised.
    available_from, available_until
        The first and last day the beds are free, inclusive; ``None``: free from now
        (no first day) and with no last day. A vacancy is offered for a child only on
        the child's date (:meth:`available_on`).
    manages
        The risks (:class:`~matcher.vocabulary.RiskFlag`) its Statement of Purpose or the
        carer's approval says it can manage: the risk flags in the ``capabilities`` cell.
    owner
        The authority that owns or commissions it, in a pooled (regional) folder; ``None``:
        not recorded (a single authority's folder). The pooled match reports recharges and
        solo supply by it (:mod:`matcher.pooled`).
    offered_to_pool
        Whether the owner offers it to the other authorities of the pool; ``None``: not
        recorded, which means offered. ``False``: only for the owner's own children (the
        hard rule ``not_offered_to_pool``).
    name
        The provider's or carer's name as officers know it, for people only: no rule or
        factor reads it, and referrals leave it out. ``None``: not recorded.
    """

    vacancy_id: str
    provider_id: str
    placement_type: PlacementType
    location: Location
    beds: int
    age_min: int
    age_max: int
    sex: VacancySex
    ofsted: Ofsted
    weekly_cost: int
    capabilities: frozenset[Need] = frozenset()
    connected_to: frozenset[str] = frozenset()
    fostered_now: int = 0
    ethnicity: frozenset[str] = frozenset()
    religion: str | None = None
    languages: frozenset[str] = frozenset()
    available_from: dt.date | None = None
    available_until: dt.date | None = None
    manages: frozenset[RiskFlag] = frozenset()
    owner: Authority | None = None
    offered_to_pool: bool | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        check_id(self.vacancy_id, "vacancy_id")
        _require(
            self.name is None
            or (
                isinstance(self.name, str)
                and 0 < len(self.name) <= MAX_VACANCY_NAME
                and self.name == self.name.strip()
                and self.name.isprintable()
            ),
            "name",
            f"expected printable text of 1 to {MAX_VACANCY_NAME} characters, or None",
        )
        _require(
            self.owner is None or isinstance(self.owner, Authority),
            "owner_la",
            "expected an Authority or None",
        )
        _require(
            self.offered_to_pool is None or type(self.offered_to_pool) is bool,
            "offered_to_pool",
            "expected true, false or None",
        )
        check_id(self.provider_id, "provider_id")
        _require(
            isinstance(self.placement_type, PlacementType),
            "placement_type",
            "expected a PlacementType",
        )
        _require(type(self.beds) is int and self.beds >= 1, "beds", "expected a whole number >= 1")
        for name in ("age_min", "age_max"):
            value = getattr(self, name)
            _require(
                type(value) is int and 0 <= value <= VACANCY_MAX_AGE,
                name,
                f"expected a whole number of years from 0 to {VACANCY_MAX_AGE}",
            )
        _require(isinstance(self.sex, VacancySex), "sex", "expected any, M or F")
        _require(isinstance(self.ofsted, Ofsted), "ofsted", "expected an Ofsted grade")
        _require(
            all(isinstance(n, Need) for n in self.capabilities)
            and all(isinstance(r, RiskFlag) for r in self.manages),
            "capabilities",
            "expected Need capabilities and RiskFlag values it can manage",
        )
        _require(
            type(self.weekly_cost) is int and self.weekly_cost >= 0,
            "weekly_cost",
            "expected whole pounds a week (a whole number >= 0)",
        )
        _require(
            type(self.fostered_now) is int and self.fostered_now >= 0,
            "fostered_now",
            "expected a whole number >= 0",
        )
        for child_id in self.connected_to:
            check_id(child_id, "connected_to")
        for name, message in vacancy_rule_problems(
            placement_type=self.placement_type,
            age_min=self.age_min,
            age_max=self.age_max,
            connected_to=self.connected_to,
            ofsted=self.ofsted,
        ):
            raise InvalidFieldError(name, message)
        codes = ethnicity_codes()
        _require(
            all(c in codes for c in self.ethnicity), "ethnicity", "expected SSDA903 ETHNIC codes"
        )
        _require(self.religion is None or bool(self.religion.strip()), "religion", "expected text")
        for name in ("available_from", "available_until"):
            _require(_is_date(getattr(self, name)), name, "expected a date (YYYY-MM-DD) or blank")
        problem = availability_problem(self.available_from, self.available_until)
        if problem is not None:
            raise InvalidFieldError("available_until", problem)

    def available_on(self, day: dt.date) -> bool:
        """Whether the beds are free on ``day`` (both ends inclusive; blank ends open)."""
        return (self.available_from is None or self.available_from <= day) and (
            self.available_until is None or day <= self.available_until
        )

    @property
    def postcode(self) -> str:
        """The normalised postcode of the placement."""
        return self.location.postcode

    @property
    def authority(self) -> Authority | None:
        """The English authority the placement is in (``None`` outside England)."""
        return self.location.authority

    @property
    def is_fostering(self) -> bool:
        """A fostering vacancy: the limit of three applies to its household."""
        return self.placement_type in FOSTERING_TYPES

    def accepts_age(self, age: int) -> bool:
        """Whether ``age`` is within the terms of approval."""
        return self.age_min <= age <= self.age_max


@dataclass(frozen=True, slots=True)
class Provider:
    """A foster household, children's home or unit: the vacancies sharing a ``provider_id``.

    The fostering limit of three (Children Act 1989 Sch. 7) applies per household:
    ``fostered_now`` plus the children placed in all its fostering vacancies.
    """

    provider_id: str
    vacancies: tuple[Vacancy, ...]

    def __post_init__(self) -> None:
        check_id(self.provider_id, "provider_id")
        _require(bool(self.vacancies), "provider_id", "expected at least one vacancy")
        _require(
            all(v.provider_id == self.provider_id for v in self.vacancies),
            "provider_id",
            "expected vacancies of this provider only",
        )
        _require(
            len({v.postcode for v in self.vacancies}) == 1,
            "postcode",
            "expected one postcode for all vacancies of a provider",
        )
        _require(
            len({v.fostered_now for v in self.vacancies}) == 1,
            "fostered_now",
            "expected the same fostered_now on all vacancies of a provider",
        )

    @property
    def location(self) -> Location:
        """Where the household, home or unit is."""
        return self.vacancies[0].location

    @property
    def fostered_now(self) -> int:
        """Children already fostered or living there."""
        return self.vacancies[0].fostered_now

    @property
    def beds(self) -> int:
        """Beds over all its vacancies."""
        return sum(v.beds for v in self.vacancies)

    @property
    def is_fostering(self) -> bool:
        """Whether any of its vacancies is a fostering one."""
        return any(v.is_fostering for v in self.vacancies)


@dataclass(frozen=True, slots=True)
class Resident:
    """A child already living in a children's home or household (``residents.csv``).

    No name and nothing that identifies the child: a reference that means something only to
    the provider and the authority, the age, sex, needs and risk flags, which is what a
    matching and impact-risk assessment needs (Children's Homes (England) Regulations 2015
    reg 14: the registered person must consider the impact of a new placement on the
    children already there).

    Parameters
    ----------
    provider_id
        The household, home or unit they live in (a ``provider_id`` of ``vacancies.csv``).
    resident_ref
        A non-identifying reference, unique within the provider (never a name).
    age
        Whole years, 0 to 25 (a young person staying put may be over 17).
    sex
        ``M`` or ``F``.
    needs, risk_flags
        From :class:`~matcher.vocabulary.Need` and :class:`~matcher.vocabulary.RiskFlag`;
        ``no_younger_children`` among the needs is checked against the child placed.
    """

    provider_id: str
    resident_ref: str
    age: int
    sex: Sex
    needs: frozenset[Need] = field(default=frozenset(), repr=False)
    risk_flags: frozenset[RiskFlag] = field(default=frozenset(), repr=False)

    def __post_init__(self) -> None:
        check_id(self.provider_id, "provider_id")
        check_id(self.resident_ref, "resident_ref")
        _require(
            type(self.age) is int and 0 <= self.age <= VACANCY_MAX_AGE,
            "age",
            f"expected a whole number of years from 0 to {VACANCY_MAX_AGE}",
        )
        _require(isinstance(self.sex, Sex), "sex", "expected M or F")
        _require(all(isinstance(n, Need) for n in self.needs), "needs", "expected Need values")
        _require(
            all(isinstance(r, RiskFlag) for r in self.risk_flags),
            "risk_flags",
            "expected RiskFlag values",
        )


def _age_band(age: int) -> str:
    # The bands of the DfE "Children looked after in England" statistics.
    for upper, label in ((0, "under 1"), (4, "1-4"), (9, "5-9"), (15, "10-15")):
        if age <= upper:
            return label
    return "16-17"


AGE_BANDS: tuple[str, ...] = ("under 1", "1-4", "5-9", "10-15", "16-17")


_T = TypeVar("_T")


class _Derived:
    """What :meth:`CaseFolder.derived` has built for one folder object, by builder.

    Never copied with the folder's data: pickling (and so ``copy.deepcopy``) gives an empty
    one, so a folder read back from a pickle builds its own.
    """

    __slots__ = ("_lock", "_values")

    def __init__(self) -> None:
        self._values: dict[Callable[[Any], Any], Any] = {}
        self._lock = threading.RLock()

    def get(self, folder: CaseFolder, build: Callable[[CaseFolder], _T]) -> _T:
        try:
            return cast(_T, self._values[build])
        except KeyError:
            pass
        with self._lock:  # one build at a time, so concurrent first readers build it once
            if build not in self._values:
                self._values[build] = build(folder)
            return cast(_T, self._values[build])

    def __reduce__(self) -> tuple[type[_Derived], tuple[()]]:
        return (_Derived, ())


@dataclass(frozen=True, slots=True)
class CaseFolder:
    """Children waiting, vacancies on offer and the policy: one matching problem.

    Children, vacancies, sibling groups and providers are sorted by id, so a folder does
    not depend on the order of the rows it was read from.

    Parameters
    ----------
    children, vacancies
        Any order; stored sorted by id. Ids must be unique.
    policy
        Weights and thresholds.
    warnings
        Problems that did not stop loading (e.g. unknown columns).
    on, today
        The date asked about (``rank --on``, ``match --on``) and today's date, both passed
        in by the caller (nothing here reads the clock); see :meth:`date_of`. ``None``
        (as loaded): a child without ``needed_by`` is not held to any date, as before
        vacancies had dates. :meth:`with_dates` sets them.
    responses
        Providers' answers to referrals (``responses.csv``), any order; stored sorted by
        child, then vacancy. Each names a child and a vacancy of this folder, at most one
        per pair. A decline excludes the vacancy for the child (the hard rule
        ``declined_by_provider``); an offer comes first among equal options in ``rank``.
    residents
        The children already living with the providers (``residents.csv``); any order,
        stored sorted by provider and reference. Each names a provider of the vacancies.
        Empty (the default, and a folder without ``residents.csv``): nothing is known of
        who lives there, and no rule or factor about residents applies.
    """

    children: tuple[Child, ...]
    vacancies: tuple[Vacancy, ...]
    policy: Policy = field(default_factory=Policy)
    warnings: tuple[Problem, ...] = field(default=(), compare=False)
    on: dt.date | None = None
    today: dt.date | None = None
    responses: tuple[ReferralResponse, ...] = ()
    residents: tuple[Resident, ...] = ()
    sibling_groups: tuple[SiblingGroup, ...] = field(init=False)
    providers: tuple[Provider, ...] = field(init=False, compare=False, repr=False)
    _children_by_id: Mapping[str, Child] = field(init=False, compare=False, repr=False)
    _vacancies_by_id: Mapping[str, Vacancy] = field(init=False, compare=False, repr=False)
    _groups_by_id: Mapping[str, SiblingGroup] = field(init=False, compare=False, repr=False)
    _providers_by_id: Mapping[str, Provider] = field(init=False, compare=False, repr=False)
    _residents_by_provider: Mapping[str, tuple[Resident, ...]] = field(
        init=False, compare=False, repr=False
    )
    _policy_authority: Authority | None = field(init=False, compare=False, repr=False)
    _responses_by_pair: Mapping[tuple[str, str], ReferralResponse] = field(
        init=False, compare=False, repr=False
    )
    _derived: _Derived = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("on", "today"):
            _require(_is_date(getattr(self, name)), name, "expected a date or None")
        children = tuple(sorted(self.children, key=lambda c: c.child_id))
        vacancies = tuple(sorted(self.vacancies, key=lambda v: v.vacancy_id))
        for ids, what in (
            ([c.child_id for c in children], "child_id"),
            ([v.vacancy_id for v in vacancies], "vacancy_id"),
        ):
            dupes = sorted(k for k, n in Counter(ids).items() if n > 1)
            _require(not dupes, what, f"expected unique ids; repeated: {', '.join(dupes)}")
        by_child = {c.child_id: c for c in children}
        for v in vacancies:
            # a membership test per id: ``set - dict.keys()`` copied every key per vacancy,
            # which made loading the nation's 82,430 children quadratic (minutes)
            unknown = sorted({c for c in v.connected_to if c not in by_child})
            _require(
                not unknown,
                "connected_to",
                f"vacancy {v.vacancy_id} names unknown children: {', '.join(unknown)}",
            )
        members: dict[str, list[Child]] = {}
        for c in children:
            if c.sibling_group is not None:
                members.setdefault(c.sibling_group, []).append(c)
        groups = []
        for gid in sorted(members):
            authorities = {c.authority for c in members[gid]}
            _require(
                len(authorities) == 1,
                "sibling_group",
                f"sibling group {gid} spans authorities; expected one responsible authority",
            )
            groups.append(
                SiblingGroup(gid, tuple(c.child_id for c in members[gid]), authorities.pop())
            )
        by_provider: dict[str, list[Vacancy]] = {}
        for v in vacancies:
            by_provider.setdefault(v.provider_id, []).append(v)
        providers = tuple(Provider(p, tuple(vs)) for p, vs in sorted(by_provider.items()))
        residents = tuple(sorted(self.residents, key=lambda r: (r.provider_id, r.resident_ref)))
        refs = [f"{r.provider_id}/{r.resident_ref}" for r in residents]
        dupes = sorted(k for k, n in Counter(refs).items() if n > 1)
        _require(not dupes, "resident_ref", f"expected unique refs per provider; repeated: {dupes}")
        unknown = sorted({r.provider_id for r in residents} - by_provider.keys())
        _require(
            not unknown,
            "provider_id",
            f"residents of providers with no vacancy: {', '.join(unknown)}",
        )
        by_home: dict[str, list[Resident]] = {}
        for r in residents:
            by_home.setdefault(r.provider_id, []).append(r)
        object.__setattr__(self, "children", children)
        object.__setattr__(self, "vacancies", vacancies)
        object.__setattr__(self, "sibling_groups", tuple(groups))
        object.__setattr__(self, "providers", providers)
        object.__setattr__(self, "_children_by_id", by_child)
        object.__setattr__(self, "_vacancies_by_id", {v.vacancy_id: v for v in vacancies})
        object.__setattr__(self, "_groups_by_id", {g.sibling_group_id: g for g in groups})
        object.__setattr__(self, "_providers_by_id", {p.provider_id: p for p in providers})
        object.__setattr__(self, "residents", residents)
        object.__setattr__(
            self, "_residents_by_provider", {p: tuple(rs) for p, rs in by_home.items()}
        )
        authority = None
        if self.policy.authority is not None:
            authority = resolve_authority(self.policy.authority)
        object.__setattr__(self, "_policy_authority", authority)
        responses = tuple(sorted(self.responses, key=lambda r: (r.child_id, r.vacancy_id)))
        by_pair: dict[tuple[str, str], ReferralResponse] = {}
        for answer in responses:
            _require(
                answer.child_id in by_child,
                "child_id",
                f"a response names child {answer.child_id}, not in this folder",
            )
            _require(
                answer.vacancy_id in self._vacancies_by_id,
                "vacancy_id",
                f"a response names vacancy {answer.vacancy_id}, not in this folder",
            )
            _require(
                (answer.child_id, answer.vacancy_id) not in by_pair,
                "vacancy_id",
                f"more than one response for child {answer.child_id} "
                f"and vacancy {answer.vacancy_id}",
            )
            by_pair[(answer.child_id, answer.vacancy_id)] = answer
        object.__setattr__(self, "responses", responses)
        object.__setattr__(self, "_responses_by_pair", by_pair)
        object.__setattr__(self, "_derived", _Derived())

    def with_dates(self, on: dt.date | None, today: dt.date | None) -> CaseFolder:
        """This folder asked about date ``on`` on ``today`` (a new folder, its own caches).

        ``on`` defaults to ``today`` when ``None``, as ``rank --on`` does.
        """
        return replace(self, on=today if on is None else on, today=today)

    def date_of(self, child: Child) -> dt.date | None:
        """The date ``child``'s vacancies must be free on (:meth:`Child.date_needed`).

        ``needed_by`` if given; otherwise today for an emergency, else :attr:`on`; with
        only one of :attr:`on` and :attr:`today` set, it stands for both; ``None`` when the
        child has no ``needed_by`` and neither is set.
        """
        if child.needed_by is not None:
            return child.needed_by
        on = self.on if self.on is not None else self.today
        today = self.today if self.today is not None else self.on
        if on is None or today is None:
            return None
        return child.date_needed(on, today)

    def derived(self, build: Callable[[CaseFolder], _T]) -> _T:
        """``build(self)``, built the first time it is asked for and kept with this folder.

        For what depends only on the folder, such as its vacancies as arrays
        (:mod:`matcher.rank`): a folder is frozen, so the value holds for the folder's life.
        Kept per folder object and per ``build`` (pass one module-level function for each
        kind of value), never looked up by the folder's contents: an equal folder, a
        ``dataclasses.replace`` of it or one read back from a pickle builds its own.
        ``build`` must not change the folder; concurrent callers wait for one build.
        """
        return self._derived.get(self, build)

    def response(self, child_id: str, vacancy_id: str) -> ReferralResponse | None:
        """The provider's answer to the child's referral for the vacancy, if recorded."""
        return self._responses_by_pair.get((child_id, vacancy_id))

    def child(self, child_id: str) -> Child:
        """The child with this id (``KeyError`` if none)."""
        return self._children_by_id[child_id]

    def vacancy(self, vacancy_id: str) -> Vacancy:
        """The vacancy with this id (``KeyError`` if none)."""
        return self._vacancies_by_id[vacancy_id]

    def sibling_group(self, sibling_group_id: str) -> SiblingGroup:
        """The sibling group with this id (``KeyError`` if none)."""
        return self._groups_by_id[sibling_group_id]

    def provider(self, provider_id: str) -> Provider:
        """The provider (household, home or unit) with this id (``KeyError`` if none)."""
        return self._providers_by_id[provider_id]

    def residents_of(self, provider_id: str) -> tuple[Resident, ...]:
        """The children living with this provider now (``residents.csv``), by reference."""
        return self._residents_by_provider.get(provider_id, ())

    def siblings_of(self, child_id: str) -> tuple[str, ...]:
        """Ids of the child's siblings in this folder (not the child itself)."""
        gid = self.child(child_id).sibling_group
        if gid is None:
            return ()
        return tuple(c for c in self.sibling_group(gid).child_ids if c != child_id)

    def area_authority(self, child_id: str) -> Authority:
        """The authority whose area is "in area" for this child (s22C(9)).

        The policy's ``authority`` when set (e.g. a trust placing for several authorities),
        otherwise the child's own responsible authority.
        """
        return self._policy_authority or self.child(child_id).authority

    @property
    def main_authority(self) -> Authority | None:
        """The authority of most children (ties: lowest ONS code); ``None`` with no children."""
        if not self.children:
            return None
        counts = Counter(c.authority for c in self.children)
        return min(counts, key=lambda a: (-counts[a], a.ons_code))

    def summary(self) -> dict[str, object]:
        """Counts for a one-screen overview (plain data, JSON-ready)."""
        main = self.main_authority
        ages = Counter(_age_band(c.age) for c in self.children)
        by_la = Counter(c.authority.name for c in self.children)
        sizes = Counter(g.size for g in self.sibling_groups)
        by_type: dict[str, dict[str, int]] = {}
        for t in PlacementType:
            vs = [v for v in self.vacancies if v.placement_type is t]
            if vs:
                by_type[t.value] = {"vacancies": len(vs), "beds": sum(v.beds for v in vs)}
        in_main = [v for v in self.vacancies if main is not None and v.authority == main]
        return {
            "children": len(self.children),
            "children_by_age_band": {b: ages[b] for b in AGE_BANDS if ages[b]},
            "children_by_authority": dict(sorted(by_la.items(), key=lambda kv: (-kv[1], kv[0]))),
            "separated_migrant_children": sum(c.is_separated_migrant for c in self.children),
            "home_postcode_unknown_children": sum(c.home_unknown for c in self.children),
            "disabled_children": sum(c.is_disabled for c in self.children),
            "sibling_groups": len(self.sibling_groups),
            "children_in_sibling_groups": sum(g.size for g in self.sibling_groups),
            "sibling_group_sizes": {str(k): sizes[k] for k in sorted(sizes)},
            "vacancies": len(self.vacancies),
            "beds": sum(v.beds for v in self.vacancies),
            "providers": len(self.providers),
            "vacancies_by_type": by_type,
            "main_authority": None if main is None else main.name,
            "vacancies_in_main_authority": len(in_main),
            "beds_in_main_authority": sum(v.beds for v in in_main),
            "vacancies_outside_main_authority": len(self.vacancies) - len(in_main),
            "beds_outside_main_authority": sum(v.beds for v in self.vacancies)
            - sum(v.beds for v in in_main),
            "warnings": len(self.warnings),
            # Only a folder with residents.csv says anything of its residents (a folder
            # without one is summarised as before).
            **(
                {
                    "residents": len(self.residents),
                    "providers_with_residents": len(self._residents_by_provider),
                }
                if self.residents
                else {}
            ),
        }
