"""Domain types: invariants, default placement types, lookups, summary."""

from __future__ import annotations

import pytest

from geography.authorities import resolve_authority
from geography.postcodes import locate
from matcher.domain import (
    CaseFolder,
    Child,
    InvalidFieldError,
    Provider,
    SiblingGroup,
    Vacancy,
    default_placement_types,
)
from matcher.placement_types import PlacementType as PT
from matcher.policy import Policy
from matcher.vocabulary import (
    EXCLUSION_NEEDS,
    NEED_MEANING,
    PREFERRED_CAPABILITY,
    REQUIRED_CAPABILITY,
    Need,
    Ofsted,
    Sex,
    VacancySex,
    VocabularyError,
    parse_ethnicity,
)

ESSEX = resolve_authority("Essex")
THURROCK = resolve_authority("Thurrock")
CHELMSFORD = locate("CM1 1QH")
GRAYS = locate("RM17 6SL")

FOSTERING = {PT.CONNECTED_PERSON_FOSTER, PT.INHOUSE_FOSTER, PT.AGENCY_FOSTER}


def child(**kw: object) -> Child:
    args: dict[str, object] = {
        "child_id": "C1",
        "age": 10,
        "sex": Sex.F,
        "authority": ESSEX,
        "home": CHELMSFORD,
    }
    args.update(kw)
    return Child(**args)  # type: ignore[arg-type]


def vacancy(**kw: object) -> Vacancy:
    args: dict[str, object] = {
        "vacancy_id": "V1",
        "provider_id": "P1",
        "placement_type": PT.INHOUSE_FOSTER,
        "location": CHELMSFORD,
        "beds": 1,
        "age_min": 0,
        "age_max": 17,
        "sex": VacancySex.ANY,
        "ofsted": Ofsted.GOOD,
        "weekly_cost": 450,
    }
    args.update(kw)
    return Vacancy(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- vocabulary


def test_every_need_has_a_meaning_and_one_matching_rule() -> None:
    assert set(NEED_MEANING) == set(Need)
    hard, soft = set(REQUIRED_CAPABILITY), set(PREFERRED_CAPABILITY)
    assert not hard & soft
    assert hard | soft | EXCLUSION_NEEDS == set(Need)
    assert REQUIRED_CAPABILITY[Need.WHEELCHAIR] is Need.WHEELCHAIR
    assert REQUIRED_CAPABILITY[Need.DOLS] is Need.DOLS


def test_vocabularies_are_case_insensitive() -> None:
    assert Need.parse(" Wheelchair ") is Need.WHEELCHAIR
    assert Ofsted.parse("REQUIRES_IMPROVEMENT") is Ofsted.REQUIRES_IMPROVEMENT
    assert Sex.parse("f") is Sex.F
    assert VacancySex.parse("ANY") is VacancySex.ANY
    assert parse_ethnicity("bafr") == "BAFR"
    with pytest.raises(VocabularyError, match="expected one of: disability"):
        Need.parse("flying")
    with pytest.raises(VocabularyError, match="WBRI"):
        parse_ethnicity("XXXX")


def test_vacancy_sex_accepts() -> None:
    assert VacancySex.ANY.accepts(Sex.M) and VacancySex.ANY.accepts(Sex.F)
    assert VacancySex.F.accepts(Sex.F) and not VacancySex.F.accepts(Sex.M)


# --------------------------------------------------------------------------- children


@pytest.mark.parametrize(
    ("age", "needs", "expected"),
    [
        (0, (), FOSTERING),
        (9, (), FOSTERING),
        (10, (), FOSTERING | {PT.CHILDRENS_HOME}),
        (15, (), FOSTERING | {PT.CHILDRENS_HOME}),
        (16, (), FOSTERING | {PT.CHILDRENS_HOME, PT.SUPPORTED_ACCOMMODATION}),
        (
            17,
            (Need.PARENT_AND_CHILD,),
            FOSTERING | {PT.CHILDRENS_HOME, PT.SUPPORTED_ACCOMMODATION, PT.PARENT_AND_CHILD},
        ),
        (15, (Need.PARENT_AND_CHILD,), FOSTERING | {PT.CHILDRENS_HOME, PT.PARENT_AND_CHILD}),
        (14, (Need.SECURE, Need.DOLS), {PT.SECURE_HOME}),
    ],
)
def test_default_placement_types_by_age(
    age: int, needs: tuple[Need, ...], expected: set[PT]
) -> None:
    assert default_placement_types(age, needs) == expected


@pytest.mark.parametrize("age", range(0, 16))
def test_under_16_never_defaults_to_supported_accommodation(age: int) -> None:
    assert PT.SUPPORTED_ACCOMMODATION not in default_placement_types(age, set(Need))


def test_child_resolves_placement_types() -> None:
    assert child(age=16).placement_types == default_placement_types(16)
    explicit = frozenset({PT.INHOUSE_FOSTER})
    c = child(age=16, requested_placement_types=explicit)
    assert c.placement_types == explicit
    assert c.home_postcode == "CM1 1QH"
    assert c.school_urn is None


def test_child_properties() -> None:
    c = child(home=None, needs=frozenset({Need.UASC, Need.DISABILITY}), age=16, sex=Sex.M)
    assert c.is_separated_migrant and c.is_disabled
    assert c.home_postcode is None


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"child_id": "has space"}, "child_id"),
        ({"child_id": ""}, "child_id"),
        ({"age": 18}, "age"),
        ({"age": -1}, "age"),
        ({"age": 5.0}, "age"),
        ({"sex": "M"}, "sex"),
        ({"home": None}, "home_postcode"),
        ({"sibling_group": "a b"}, "sibling_group"),
        ({"requested_placement_types": frozenset()}, "placement_types"),
        ({"requested_placement_types": frozenset({PT.SUPPORTED_ACCOMMODATION})}, "placement_types"),
        ({"ethnicity": "XXXX"}, "ethnicity"),
        ({"religion": " "}, "religion"),
        ({"avoid_outcodes": frozenset({"cm1"})}, "avoid_areas"),
    ],
)
def test_child_invariants_name_the_column(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidFieldError) as exc:
        child(**kw)
    assert exc.value.field == field
    assert isinstance(exc.value, ValueError)


# --------------------------------------------------------------------------- vacancies


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"vacancy_id": "x y"}, "vacancy_id"),
        ({"provider_id": ""}, "provider_id"),
        ({"beds": 0}, "beds"),
        ({"age_min": 26}, "age_min"),
        ({"age_min": 12, "age_max": 11}, "age_max"),
        ({"placement_type": PT.SUPPORTED_ACCOMMODATION, "age_min": 15}, "age_min"),
        ({"weekly_cost": -1}, "weekly_cost"),
        ({"fostered_now": -1}, "fostered_now"),
        ({"placement_type": PT.CONNECTED_PERSON_FOSTER}, "connected_to"),
        ({"connected_to": frozenset({"C1"})}, "connected_to"),
        ({"ethnicity": frozenset({"nope"})}, "ethnicity"),
        ({"sex": "any"}, "sex"),
        ({"ofsted": "good"}, "ofsted"),
        (
            {"placement_type": PT.SUPPORTED_ACCOMMODATION, "age_min": 16, "ofsted": Ofsted.GOOD},
            "ofsted",
        ),
        ({"placement_type": PT.CHILDRENS_HOME, "ofsted": Ofsted.INCONSISTENT}, "ofsted"),
    ],
)
def test_vacancy_invariants_name_the_column(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidFieldError) as exc:
        vacancy(**kw)
    assert exc.value.field == field


def test_vacancy_properties() -> None:
    v = vacancy(location=GRAYS, age_min=5, age_max=12)
    assert v.postcode == "RM17 6SL"
    assert v.authority == THURROCK
    assert v.is_fostering
    assert v.accepts_age(5) and v.accepts_age(12) and not v.accepts_age(13)
    assert not vacancy(placement_type=PT.CHILDRENS_HOME).is_fostering


def test_provider_groups_a_household() -> None:
    a = vacancy(vacancy_id="V1", beds=1, fostered_now=2)
    b = vacancy(vacancy_id="V2", beds=2, fostered_now=2)
    p = Provider("P1", (a, b))
    assert p.beds == 3 and p.fostered_now == 2 and p.is_fostering
    with pytest.raises(InvalidFieldError, match="one postcode"):
        Provider("P1", (a, vacancy(vacancy_id="V3", location=GRAYS, fostered_now=2)))
    with pytest.raises(InvalidFieldError, match="fostered_now"):
        Provider("P1", (a, vacancy(vacancy_id="V3", fostered_now=1)))


def test_sibling_group_ids_sorted_and_distinct() -> None:
    assert SiblingGroup("S1", ("A", "B"), ESSEX).size == 2
    with pytest.raises(InvalidFieldError):
        SiblingGroup("S1", ("B", "A"), ESSEX)
    with pytest.raises(InvalidFieldError):
        SiblingGroup("S1", (), ESSEX)


# --------------------------------------------------------------------------- case folder


def folder() -> CaseFolder:
    children = (
        child(child_id="C3", age=4, sibling_group="S"),
        child(child_id="C1", age=16, home=None, needs=frozenset({Need.UASC})),
        child(child_id="C2", age=7, sibling_group="S"),
        child(child_id="C4", age=12, authority=THURROCK, home=GRAYS),
    )
    vacancies = (
        vacancy(vacancy_id="V2", provider_id="P1", beds=2),
        vacancy(vacancy_id="V1", provider_id="P1", beds=1),
        vacancy(
            vacancy_id="V3",
            provider_id="P2",
            placement_type=PT.CONNECTED_PERSON_FOSTER,
            connected_to=frozenset({"C4"}),
            location=GRAYS,
        ),
    )
    return CaseFolder(children, vacancies)


def test_case_folder_sorts_groups_and_looks_up() -> None:
    f = folder()
    assert [c.child_id for c in f.children] == ["C1", "C2", "C3", "C4"]
    assert [v.vacancy_id for v in f.vacancies] == ["V1", "V2", "V3"]
    assert f.sibling_groups == (SiblingGroup("S", ("C2", "C3"), ESSEX),)
    assert f.sibling_group("S").size == 2
    assert f.siblings_of("C2") == ("C3",) and f.siblings_of("C1") == ()
    assert f.child("C4").authority == THURROCK
    assert f.vacancy("V3").connected_to == {"C4"}
    assert [p.provider_id for p in f.providers] == ["P1", "P2"]
    assert f.provider("P1").beds == 3
    assert f.main_authority == ESSEX
    with pytest.raises(KeyError):
        f.child("nobody")


def test_area_authority_is_the_childs_unless_the_policy_names_one() -> None:
    f = folder()
    assert f.area_authority("C4") == THURROCK
    g = CaseFolder(f.children, f.vacancies, policy=Policy(authority="881"))
    assert g.area_authority("C4") == ESSEX
    with pytest.raises(ValueError, match="Narnia"):
        CaseFolder(f.children, f.vacancies, policy=Policy(authority="Narnia"))


def test_child_repr_shows_no_personal_data() -> None:
    text = repr(child(ethnicity="WBRI", religion="islam", needs=frozenset({Need.DOLS})))
    for secret in ("CM1", "WBRI", "islam", "dols", "Chelmsford"):
        assert secret not in text
    assert "C1" in text


def test_case_folder_equality_ignores_input_order() -> None:
    f = folder()
    assert CaseFolder(tuple(reversed(f.children)), tuple(reversed(f.vacancies))) == f


def test_case_folder_summary_counts() -> None:
    s = folder().summary()
    assert s["children"] == 4
    assert s["children_by_age_band"] == {"1-4": 1, "5-9": 1, "10-15": 1, "16-17": 1}
    assert s["children_by_authority"] == {"Essex": 3, "Thurrock": 1}
    assert s["separated_migrant_children"] == 1
    assert s["sibling_groups"] == 1 and s["sibling_group_sizes"] == {"2": 1}
    assert s["vacancies_by_type"] == {
        "connected_person_foster": {"vacancies": 1, "beds": 1},
        "inhouse_foster": {"vacancies": 2, "beds": 3},
    }
    assert s["main_authority"] == "Essex"
    assert (s["beds_in_main_authority"], s["beds_outside_main_authority"]) == (3, 1)


@pytest.mark.parametrize(
    ("children", "vacancies", "match"),
    [
        ((child(), child()), (), "repeated: C1"),
        ((child(),), (vacancy(), vacancy()), "repeated: V1"),
        (
            (child(),),
            (vacancy(placement_type=PT.CONNECTED_PERSON_FOSTER, connected_to=frozenset({"C9"})),),
            "unknown children: C9",
        ),
        (
            (
                child(sibling_group="S"),
                child(child_id="C2", sibling_group="S", authority=THURROCK),
            ),
            (),
            "spans authorities",
        ),
    ],
)
def test_case_folder_rejects_inconsistent_input(
    children: tuple[Child, ...], vacancies: tuple[Vacancy, ...], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        CaseFolder(children, vacancies)
