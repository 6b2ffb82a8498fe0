"""Builders of small hand-made case folders for the rules/factors/rank tests, and an
independent oracle of the hard rules written in plain Python over the domain objects.

Other test modules import from here (``from test_rules_builders import ...``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from geography.authorities import Authority, resolve_authority
from geography.postcodes import Location, locate
from matcher.domain import CaseFolder, Child, ReferralResponse, Resident, Vacancy
from matcher.placement_types import FOSTERING_TYPES
from matcher.placement_types import PlacementType as PT
from matcher.policy import Policy
from matcher.vocabulary import Need, Ofsted, Sex, VacancySex

#: Postcodes used by the tests: Essex, Thurrock, Southend, Kent (Medway), Suffolk, London.
POSTCODES = ("CM1 1QH", "CM2 0HU", "SS13 3EB", "RM17 6SL", "SS2 6ER", "ME4 4TR", "IP1 2BX")


@cache
def place(postcode: str) -> Location:
    return locate(postcode)


@cache
def authority(name: str) -> Authority:
    return resolve_authority(name)


def child(child_id: str = "C1", **kw: object) -> Child:
    args: dict[str, object] = {
        "child_id": child_id,
        "age": 10,
        "sex": Sex.F,
        "authority": authority("Essex"),
        "home": place("CM1 1QH"),
    }
    args.update(kw)
    return Child(**args)  # type: ignore[arg-type]


def vacancy(vacancy_id: str = "V1", **kw: object) -> Vacancy:
    args: dict[str, object] = {
        "vacancy_id": vacancy_id,
        "provider_id": "P" + vacancy_id,
        "placement_type": PT.INHOUSE_FOSTER,
        "location": place("CM2 0HU"),
        "beds": 1,
        "age_min": 0,
        "age_max": 17,
        "sex": VacancySex.ANY,
        "ofsted": Ofsted.GOOD,
        "weekly_cost": 500,
    }
    if kw.get("placement_type") is PT.SUPPORTED_ACCOMMODATION and "ofsted" not in kw:
        # Supported accommodation has its own scale; outcome 1 scores as a good grade does.
        args["ofsted"] = Ofsted.CONSISTENTLY_STRONG
    args.update(kw)
    return Vacancy(**args)  # type: ignore[arg-type]


def resident(provider_id: str = "PV1", ref: str = "R1", **kw: object) -> Resident:
    args: dict[str, object] = {
        "provider_id": provider_id,
        "resident_ref": ref,
        "age": 12,
        "sex": Sex.M,
    }
    args.update(kw)
    return Resident(**args)  # type: ignore[arg-type]


def folder(
    children: Iterable[Child],
    vacancies: Iterable[Vacancy],
    policy: Policy | None = None,
    residents: Iterable[Resident] = (),
    responses: Iterable[ReferralResponse] = (),
) -> CaseFolder:
    return CaseFolder(
        tuple(children),
        tuple(vacancies),
        policy or Policy(),
        responses=tuple(responses),
        residents=tuple(residents),
    )


def oracle_rules(f: CaseFolder, c: Child, v: Vacancy) -> list[str]:
    """Every hard rule (name) the pair breaks, written independently of matcher.rules."""
    broken = []
    split = f.policy.allow_sibling_split
    size = 1 if c.sibling_group is None else f.sibling_group(c.sibling_group).size
    joining = 1 if split else size
    provider = f.provider(v.provider_id)
    if v.placement_type is PT.CONNECTED_PERSON_FOSTER and c.child_id not in v.connected_to:
        broken.append("connected_person_only_for_connected")
    secure = Need.SECURE in c.needs
    if (v.placement_type is PT.SECURE_HOME and not secure) or (
        secure and Need.SECURE not in v.capabilities
    ):
        broken.append("secure_only_with_authorisation")
    if v.placement_type is PT.SUPPORTED_ACCOMMODATION and c.age < 16:
        broken.append("no_supported_accommodation_under_16")
    if v.placement_type not in c.placement_types:
        broken.append("placement_type_suits_child")
    if not v.age_min <= c.age <= v.age_max:
        broken.append("age_within_approval")
    if not v.sex.accepts(c.sex):
        broken.append("sex_within_approval")
    if Need.DOLS in c.needs and Need.DOLS not in v.capabilities:
        broken.append("dols_lawful")
    pc = Need.PARENT_AND_CHILD
    if (pc in c.needs and pc not in v.capabilities) or (
        v.placement_type is PT.PARENT_AND_CHILD and pc not in c.needs
    ):
        broken.append("parent_and_child")
    if any(n in c.needs and n not in v.capabilities for n in (Need.WHEELCHAIR, Need.STAFFING_2TO1)):
        broken.append("required_adaptation")
    if not c.risk_flags <= v.manages:
        broken.append("risk_not_manageable")
    outcode = v.postcode.split()[0]
    if (v.authority is not None and v.authority in c.avoid_authorities) or (
        outcode in c.avoid_outcodes
    ):
        broken.append("avoid_areas")
    living = f.residents_of(v.provider_id)
    if Need.SOLO_ONLY in c.needs and (
        v.fostered_now > 0
        or bool(living)
        or (provider.beds > joining and Need.SOLO_ONLY not in v.capabilities)
    ):
        broken.append("solo_only")
    nyc = Need.NO_YOUNGER_CHILDREN
    if nyc in c.needs:
        youngest = min(x.age_min for x in provider.vacancies)
        if (
            nyc not in v.capabilities
            or (provider.beds > joining and youngest < c.age)
            or any(r.age < c.age for r in living)
        ):
            broken.append("no_younger_children")
    elif any(nyc in r.needs and c.age < r.age for r in living):
        broken.append("no_younger_children")
    if not split and v.beds < size:
        broken.append("beds_for_sibling_group")
    if (
        v.placement_type in FOSTERING_TYPES
        and v.fostered_now + joining > 3
        and not (v.fostered_now == 0 and joining > 1)
    ):
        broken.append("fostering_limit")
    day = f.date_of(c)
    if day is not None and not (
        (v.available_from is None or v.available_from <= day)
        and (v.available_until is None or day <= v.available_until)
    ):
        broken.append("not_available_on_date")
    if v.offered_to_pool is False and v.owner is not None and v.owner != c.authority:
        broken.append("not_offered_to_pool")
    answer = f.response(c.child_id, v.vacancy_id)
    if answer is not None and answer.response.value == "decline":
        broken.append("declined_by_provider")
    return broken


def oracle_eligible(f: CaseFolder, c: Child, v: Vacancy) -> bool:
    """Eligible: no rule broken for the child, nor (as a unit) for any sibling."""
    if oracle_rules(f, c, v):
        return False
    if c.sibling_group is None or f.policy.allow_sibling_split:
        return True
    return all(not oracle_rules(f, f.child(s), v) for s in f.siblings_of(c.child_id))


def test_builders_make_a_valid_folder() -> None:
    f = folder([child("C1"), child("C2", age=5)], [vacancy("V1"), vacancy("V2", beds=2)])
    assert [c.child_id for c in f.children] == ["C1", "C2"]
    assert oracle_eligible(f, f.child("C1"), f.vacancy("V1"))


def test_oracle_names_age_rule() -> None:
    f = folder([child("C1", age=15)], [vacancy("V1", age_min=0, age_max=11)])
    assert oracle_rules(f, f.child("C1"), f.vacancy("V1")) == ["age_within_approval"]
