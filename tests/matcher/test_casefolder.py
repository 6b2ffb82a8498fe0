"""Case-folder loading: the public column contract, every error kind, round trip, row order."""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.casefolder import load_case_folder, write_case_folder
from matcher.contract import (
    CHILDREN_COLUMNS,
    CHILDREN_FILE,
    EXTRA_COLUMNS,
    VACANCIES_COLUMNS,
    VACANCIES_FILE,
    column_names,
    contract,
)
from matcher.placement_types import PlacementType as PT
from matcher.problems import CaseFolderError, Problem
from matcher.vocabulary import Need, Ofsted, Sex, VacancySex

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo"
FIXTURES = ROOT / "tests" / "data" / "casefolders"

CHILD = {
    "child_id": "C1",
    "age": "10",
    "sex": "F",
    "home_postcode": "CM1 1QH",
    "la": "Essex",
    "school_urn": "",
    "sibling_group": "",
    "needs": "",
    "placement_types": "",
    "ethnicity": "",
    "religion": "",
    "language": "",
}
VACANCY = {
    "vacancy_id": "V1",
    "provider_id": "P1",
    "placement_type": "inhouse_foster",
    "postcode": "CO1 1PJ",
    "beds": "1",
    "age_min": "0",
    "age_max": "17",
    "sex": "any",
    "capabilities": "",
    "ofsted": "good",
    "weekly_cost": "450",
    "connected_to": "",
    "fostered_now": "",
    "ethnicity": "",
    "religion": "",
    "languages": "",
}


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    fields = header or list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def make(
    folder: Path,
    children: list[dict[str, str]] | None = None,
    vacancies: list[dict[str, str]] | None = None,
    policy: str | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "children.csv", children or [dict(CHILD)])
    write_csv(folder / "vacancies.csv", vacancies or [dict(VACANCY)])
    if policy is not None:
        (folder / "policy.toml").write_text(policy)
    return folder


def problems_of(folder: Path) -> tuple[Problem, ...]:
    with pytest.raises(CaseFolderError) as exc:
        load_case_folder(folder)
    return exc.value.problems


def one_problem(folder: Path) -> Problem:
    found = problems_of(folder)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def child(**kw: str) -> dict[str, str]:
    return {**CHILD, **kw}


def vacancy(**kw: str) -> dict[str, str]:
    return {**VACANCY, **kw}


# --------------------------------------------------------------------------- the contract


def test_children_columns_are_pinned() -> None:
    assert column_names("children.csv") == (
        "child_id",
        "age",
        "sex",
        "home_postcode",
        "la",
        "school_urn",
        "sibling_group",
        "needs",
        "placement_types",
        "ethnicity",
        "religion",
        "language",
        "avoid_areas",
        "needed_by",
        "urgency",
        "risk_flags",
        "home_postcode_unknown",
    )
    required = {c.name for c in CHILDREN_COLUMNS if c.required}
    assert required == {"child_id", "age", "sex", "home_postcode", "la"}


def test_vacancies_columns_are_pinned() -> None:
    assert column_names("vacancies.csv") == (
        "vacancy_id",
        "provider_id",
        "placement_type",
        "postcode",
        "beds",
        "age_min",
        "age_max",
        "sex",
        "capabilities",
        "ofsted",
        "weekly_cost",
        "connected_to",
        "fostered_now",
        "ethnicity",
        "religion",
        "languages",
        "urn",
        "available_from",
        "available_until",
        "owner_la",
        "offered_to_pool",
        "name",
    )
    optional = {c.name for c in VACANCIES_COLUMNS if not c.required}
    assert optional == {
        "connected_to",
        "fostered_now",
        "ethnicity",
        "religion",
        "languages",
        "urn",
        "available_from",
        "available_until",
        "owner_la",
        "offered_to_pool",
        "name",
    }


def test_a_vacancy_name_is_kept_as_written_and_bounded(tmp_path: Path) -> None:
    from matcher.casefolder import case_folder_rows

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    shutil.copytree(demo, tmp_path / "f")
    path = tmp_path / "f" / "vacancies.csv"
    lines = path.read_text(encoding="utf-8").splitlines()

    def with_name(name: str) -> Path:
        # the column added at the end; V09 (line 10) named, the others blank
        out = [lines[0] + ",name"] + [
            line + (f",{name}" if line.startswith("V09,") else ",") for line in lines[1:]
        ]
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
        return tmp_path / "f"

    folder = load_case_folder(with_name("  Willowmead   House "))
    assert folder.vacancy("V09").name == "Willowmead House"  # case kept, spaces tidied
    assert folder.vacancy("V08").name is None  # blank: not recorded
    assert case_folder_rows(folder)["vacancies.csv"][8]["name"] == "Willowmead House"
    with pytest.raises(CaseFolderError) as err:
        load_case_folder(with_name("W" * 121))
    (problem,) = err.value.problems
    assert (problem.file, problem.line, problem.field) == ("vacancies.csv", 10, "name")
    assert "121 characters" in problem.message and "WWW" not in problem.message


def test_vocabularies_are_pinned() -> None:
    v = contract()["vocabularies"]
    assert list(v["placement_type"]) == [
        "connected_person_foster",
        "inhouse_foster",
        "agency_foster",
        "childrens_home",
        "supported_accommodation",
        "parent_and_child",
        "secure_home",
    ]
    assert list(v["needs"])[:7] == [
        "disability",
        "wheelchair",
        "dols",
        "uasc",
        "solo_only",
        "parent_and_child",
        "sibling_group",
    ]
    assert list(v["ofsted"]) == [
        "outstanding",
        "good",
        "requires_improvement",
        "inadequate",
        "not_inspected",
        "consistently_strong",
        "inconsistent",
        "serious_weaknesses",
    ]
    assert list(v["child_sex"]) == ["M", "F"]
    assert list(v["vacancy_sex"]) == ["any", "M", "F"]
    assert "WBRI" in v["ethnicity"] and "BAFR" in v["ethnicity"]


def test_fixture_headers_follow_the_contract() -> None:
    # The demo is a single authority's folder: it leaves out the pooled folder's columns
    # (owner_la, offered_to_pool) and the providers' names (name), which come last and are
    # optional (the service's browser test uploads names to it), and every child's home
    # postcode is known (home_postcode_unknown, optional and last of the children's).
    pooled = {"owner_la", "offered_to_pool", "name", "home_postcode_unknown"}
    for name in ("children.csv", "vacancies.csv"):
        with (DEMO / name).open() as fh:
            header = tuple(next(csv.reader(fh)))
        assert header == tuple(c for c in column_names(name) if c not in pooled)


# --------------------------------------------------------------------------- good folders


def test_demo_folder_loads() -> None:
    f = load_case_folder(DEMO)
    assert len(f.children) == 12 and len(f.vacancies) == 16
    assert f.warnings == ()
    assert f.sibling_group("SG1").child_ids == ("C01", "C02", "C03")
    uasc = f.child("C04")
    assert uasc.is_separated_migrant and uasc.home is None
    assert f.child("C05").needs == {Need.DISABILITY, Need.WHEELCHAIR}
    assert f.vacancy("V01").connected_to == {"C06"}
    assert {v.placement_type for v in f.vacancies} == set(PT)
    assert f.child("C10").authority.name == "Thurrock"
    assert f.child("C10").avoid_authorities == {f.child("C12").authority}
    assert f.child("C07").avoid_outcodes == {"SS13"}
    assert f.child("C07").school is not None and f.child("C07").school_urn == 135897
    assert f.policy.weights.near_home == 100
    v06 = f.vacancy("V06")
    assert (v06.religion, v06.languages, v06.ethnicity) == (
        "islam",
        {"english", "pashto", "dari"},
        {"AOTH"},
    )
    assert f.provider("P03").beds == 2 and f.provider("P03").fostered_now == 1


def test_every_contract_column_is_read(tmp_path: Path) -> None:
    f = load_case_folder(FIXTURES / "good")
    a1, a2, a3 = f.child("A1"), f.child("A2"), f.child("A3")
    assert (a1.child_id, a1.age, a1.sex) == ("A1", 7, Sex.M)
    assert a1.home_postcode == "CM1 1QH"  # normalised from "cm1 1qh"
    assert a1.authority == a2.authority == a3.authority  # name, DfE number, ONS code
    assert a1.sibling_group == "S1" and a1.ethnicity == "WBRI"
    assert a1.language == "english"
    assert a3.needs == {Need.UASC} and a3.religion == "islam" and a3.home is None
    k1, k2 = f.vacancy("K1"), f.vacancy("K2")
    assert k1.placement_type is PT.CONNECTED_PERSON_FOSTER
    assert (k1.provider_id, k1.postcode, k1.beds, k1.age_min, k1.age_max) == (
        "H1",
        "CO1 1PJ",
        2,
        0,
        17,
    )
    assert k1.sex is VacancySex.ANY and k1.capabilities == {Need.SIBLING_GROUP}
    assert k1.ofsted is Ofsted.GOOD and k1.weekly_cost == 300
    assert k1.connected_to == {"A1", "A2"} and k1.fostered_now == 0
    assert k1.ethnicity == {"WBRI"} and k1.languages == {"english"}
    assert k2.fostered_now == 0  # blank means none
    assert k2.languages == {"english", "dari"}
    # school_urn, placement_types, religion, avoid_areas
    path = make(
        tmp_path,
        [
            child(
                school_urn="115238",
                placement_types="Inhouse_Foster;childrens_home",
                religion="  Church of   England ",
                avoid_areas="Thurrock;ss14",
            )
        ],
    )
    c = load_case_folder(path).child("C1")
    assert c.school_urn == 115238
    assert c.placement_types == {PT.INHOUSE_FOSTER, PT.CHILDRENS_HOME}
    assert c.religion == "church of england"
    assert c.avoid_outcodes == {"SS14"}
    assert [a.name for a in c.avoid_authorities] == ["Thurrock"]


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    required = ["child_id", "age", "sex", "home_postcode", "la"]
    make(tmp_path)
    write_csv(tmp_path / "children.csv", [dict(CHILD)], header=required)
    vreq = [c.name for c in VACANCIES_COLUMNS if c.required]
    write_csv(tmp_path / "vacancies.csv", [dict(VACANCY)], header=vreq)
    f = load_case_folder(tmp_path)
    assert f.child("C1").needs == frozenset() and f.vacancy("V1").fostered_now == 0


def test_headers_are_case_insensitive_and_bom_is_accepted(tmp_path: Path) -> None:
    make(tmp_path)
    text = (tmp_path / "children.csv").read_text()
    header, rest = text.split("\n", 1)
    (tmp_path / "children.csv").write_text("\ufeff" + header.upper() + "\n" + rest)
    assert load_case_folder(tmp_path).child("C1").age == 10


def test_unknown_columns_are_warnings() -> None:
    f = load_case_folder(FIXTURES / "unknown_columns")
    assert [(w.file, w.line, w.field) for w in f.warnings] == [
        ("children.csv", 1, "favourite_colour")
    ]
    assert "child_id" in f.warnings[0].message


def test_extra_columns_placematch_writes_are_not_warnings(tmp_path: Path) -> None:
    # synth and import-903 write these beside the contract: a folder placematch wrote must
    # validate clean; any other unknown column is still a warning.
    children = [child(current_group="fostering", current_vacancy="V1", pet="cat")]
    vacancies = [vacancy(organisation="essex-fostering", supply_area="in_county")]
    f = load_case_folder(make(tmp_path, children, vacancies))
    assert [(w.file, w.field) for w in f.warnings] == [("children.csv", "pet")]
    assert set(EXTRA_COLUMNS[CHILDREN_FILE]) == {"current_group", "current_vacancy"}
    assert set(EXTRA_COLUMNS[VACANCIES_FILE]) == {"organisation", "supply_area"}


def test_single_child_sibling_group_is_a_warning(tmp_path: Path) -> None:
    f = load_case_folder(make(tmp_path, [child(sibling_group="S9")]))
    assert [(w.line, w.field) for w in f.warnings] == [(2, "sibling_group")]


# --------------------------------------------------------------------------- error kinds


def test_all_problems_in_all_files_are_reported_at_once() -> None:
    found = problems_of(FIXTURES / "many_problems")
    where = {(p.file, p.line, p.field) for p in found}
    assert len(found) == 29
    expected = {
        ("children.csv", 2, "age"),
        ("children.csv", 2, "sex"),
        ("children.csv", 3, "home_postcode"),
        ("children.csv", 4, "home_postcode"),
        ("children.csv", 5, "home_postcode"),
        ("children.csv", 6, "la"),
        ("children.csv", 7, "child_id"),
        ("children.csv", 9, "sibling_group"),
        ("children.csv", 10, "needs"),
        ("children.csv", 10, "ethnicity"),
        ("children.csv", 10, "school_urn"),
        ("children.csv", 11, "school_urn"),
        ("children.csv", 12, None),
        ("children.csv", 13, "placement_types"),
        ("vacancies.csv", 2, "placement_type"),
        ("vacancies.csv", 2, "beds"),
        ("vacancies.csv", 2, "sex"),
        ("vacancies.csv", 2, "capabilities"),
        ("vacancies.csv", 2, "ofsted"),
        ("vacancies.csv", 2, "weekly_cost"),
        ("vacancies.csv", 3, "postcode"),
        ("vacancies.csv", 3, "connected_to"),
        ("vacancies.csv", 4, "vacancy_id"),
        ("vacancies.csv", 4, "connected_to"),
        ("vacancies.csv", 5, "age_min"),
        ("vacancies.csv", 6, "connected_to"),
        ("vacancies.csv", 8, "postcode"),
        ("vacancies.csv", 8, "fostered_now"),
        ("vacancies.csv", 9, "age_max"),
    }
    assert where == expected
    assert list(found) == sorted(
        found, key=lambda p: (p.file, p.line or 0, p.field or "", p.message)
    )


def test_every_problem_on_a_line_is_reported_in_one_run(tmp_path: Path) -> None:
    # A cell that fails its own check must not hide the geography or the rules between
    # fields on the same line: the user would fix one layer, rerun, and meet the next.
    folder = make(
        tmp_path / "layers",
        children=[
            child(),
            child(child_id="C2", age="abc", home_postcode="ZZ1 1ZZ", la="Narnia",
                  school_urn="999999"),
            child(child_id="C3", age="12", sex="X", home_postcode="",
                  placement_types="supported_accommodation"),
        ],
        vacancies=[
            vacancy(),
            vacancy(vacancy_id="V2", provider_id="P2", postcode="ZZ1 1ZZ", age_min="10",
                    age_max="5", connected_to="C99"),
            vacancy(vacancy_id="V3", provider_id="P3", ofsted="great", age_min="10",
                    age_max="5", connected_to="C98"),
        ],
    )  # fmt: skip
    found = problems_of(folder)
    where = {(p.file, p.line, p.field) for p in found}
    assert where == {
        ("children.csv", 3, "age"),
        ("children.csv", 3, "home_postcode"),
        ("children.csv", 3, "la"),
        ("children.csv", 3, "school_urn"),
        ("children.csv", 4, "sex"),
        ("children.csv", 4, "home_postcode"),
        ("children.csv", 4, "placement_types"),
        ("vacancies.csv", 3, "postcode"),
        ("vacancies.csv", 3, "age_max"),
        ("vacancies.csv", 3, "connected_to"),
        ("vacancies.csv", 4, "ofsted"),
        ("vacancies.csv", 4, "age_max"),
        ("vacancies.csv", 4, "connected_to"),
    }
    # Two connected_to problems on each vacancy line: not a carer type, and unknown children.
    assert sum(p.field == "connected_to" for p in found) == 4
    text = "\n".join(str(p) for p in found)
    assert "ZZ1" not in text.split("vacancies.csv")[0]  # a child's postcode is never echoed


def test_child_postcodes_and_personal_values_are_never_echoed() -> None:
    found = problems_of(FIXTURES / "many_problems")
    about_children = "\n".join(str(p) for p in found if p.file == "children.csv")
    for secret in ("NOT A POSTCODE", "ZZ9", "flying", "XXXX", "999999", "123", "'X'"):
        assert secret not in about_children, secret
    # A foster carer's postcode is their home address: a vacancy's is not echoed either
    # (issue 18); the line and field say where to look.
    bad = [p for p in found if p.file == "vacancies.csv" and p.field == "postcode"]
    assert bad and not any("ZZ9" in str(p) for p in bad)


@pytest.mark.parametrize(
    ("row", "field", "expected"),
    [
        (child(child_id=""), "child_id", "required"),
        (child(child_id="C 1"), "child_id", "valid id"),
        (child(age="ten"), "age", "whole number of years from 0 to 17"),
        (child(age="18"), "age", "0 to 17"),
        (child(age=""), "age", "required"),
        (child(sex="X"), "sex", "M, F"),
        (child(sex=""), "sex", "required"),
        (child(home_postcode="CM1"), "home_postcode", "full UK postcode"),
        (child(home_postcode="ZZ9 9ZZ"), "home_postcode", "not found"),
        (child(home_postcode=""), "home_postcode", "separated migrant"),
        (child(la=""), "la", "required"),
        (child(la="Narnia"), "la", "not an authority (6 characters, value not shown)"),
        (child(la="Chelmsford"), "la", "Essex"),
        (child(school_urn="12"), "school_urn", "six-digit"),
        (child(school_urn="999999"), "school_urn", "no school"),
        (child(sibling_group="a b"), "sibling_group", "valid id"),
        (child(needs="wheelchair;;dols"), "needs", "item 2 is empty"),
        (child(needs="flying"), "needs", "wheelchair"),
        (child(placement_types="castle"), "placement_types", "inhouse_foster"),
        (child(placement_types="supported_accommodation"), "placement_types", "16 or 17"),
        (child(ethnicity="martian"), "ethnicity", "SSDA903 ETHNIC"),
        (child(avoid_areas="Narnia"), "avoid_areas", "postcode district"),
        (child(avoid_areas="CM1;"), "avoid_areas", "empty"),
    ],
)
def test_each_child_error_kind(
    tmp_path: Path, row: dict[str, str], field: str, expected: str
) -> None:
    p = one_problem(make(tmp_path, [row]))
    assert (p.file, p.line, p.field) == ("children.csv", 2, field)
    assert expected in p.message


@pytest.mark.parametrize(
    ("row", "field", "expected"),
    [
        (vacancy(vacancy_id=""), "vacancy_id", "required"),
        (vacancy(provider_id="P 1"), "provider_id", "valid id"),
        (vacancy(placement_type="castle"), "placement_type", "childrens_home"),
        (vacancy(placement_type=""), "placement_type", "required"),
        (vacancy(postcode=""), "postcode", "required"),
        (vacancy(postcode="nowhere"), "postcode", "full UK postcode"),
        (vacancy(postcode="ZZ9 9ZZ"), "postcode", "not found in the ONS"),
        (vacancy(beds="0"), "beds", "from 1 to 100"),
        (vacancy(beds="1.5"), "beds", "whole number"),
        (vacancy(age_min="x"), "age_min", "0 to 25"),
        (vacancy(age_max="30"), "age_max", "0 to 25"),
        (vacancy(age_min="12", age_max="10"), "age_max", "at least age_min"),
        (vacancy(sex="both"), "sex", "any, M, F"),
        (vacancy(capabilities="lasers"), "capabilities", "wheelchair"),
        (vacancy(ofsted="brilliant"), "ofsted", "requires_improvement"),
        (vacancy(ofsted=""), "ofsted", "required"),
        (vacancy(weekly_cost="£450"), "weekly_cost", "whole pounds"),
        (vacancy(weekly_cost="450.50"), "weekly_cost", "whole pounds"),
        (vacancy(connected_to="C1"), "connected_to", "only connected_person_foster"),
        (vacancy(placement_type="connected_person_foster"), "connected_to", "approved for"),
        (
            vacancy(placement_type="connected_person_foster", connected_to="C9"),
            "connected_to",
            "not in children.csv: C9",
        ),
        (vacancy(fostered_now="-1"), "fostered_now", "from 0 to 100"),
        (vacancy(ethnicity="WBRI;XX"), "ethnicity", "ETHNIC"),
        (
            vacancy(placement_type="supported_accommodation", age_min="15", ofsted="inconsistent"),
            "age_min",
            "under-16s",
        ),
        (
            vacancy(placement_type="supported_accommodation", age_min="16", ofsted="good"),
            "ofsted",
            "supported accommodation is judged on Ofsted's three supported accommodation "
            "outcomes: expected one of consistently_strong, inconsistent, serious_weaknesses",
        ),
        (
            vacancy(placement_type="supported_accommodation", age_min="16", ofsted="Outstanding"),
            "ofsted",
            "'outstanding' is a children's home grade",
        ),
        (
            vacancy(placement_type="childrens_home", age_min="8", ofsted="consistently_strong"),
            "ofsted",
            "is a supported accommodation outcome; this placement type has an Ofsted grade",
        ),
        (vacancy(ofsted="serious_weaknesses"), "ofsted", "expected one of outstanding, good"),
        (vacancy(urn="SC12345"), "urn", "not an Ofsted URN"),
        (vacancy(urn="12345678"), "urn", "'SC' and six digits"),
        (vacancy(urn="XX123456"), "urn", "seven digits"),
    ],
)
def test_each_vacancy_error_kind(
    tmp_path: Path, row: dict[str, str], field: str, expected: str
) -> None:
    p = one_problem(make(tmp_path, vacancies=[row]))
    assert (p.file, p.line, p.field) == ("vacancies.csv", 2, field)
    assert expected in p.message


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    found = problems_of(
        make(
            tmp_path,
            [child(), child(), child(child_id="C2")],
            [vacancy(), vacancy(vacancy_id="V2"), vacancy()],
        )
    )
    assert [(p.file, p.line, p.field) for p in found] == [
        ("children.csv", 3, "child_id"),
        ("vacancies.csv", 4, "vacancy_id"),
    ]
    assert "repeats line 2" in found[0].message and "repeats line 2" in found[1].message


def test_sibling_group_spanning_authorities(tmp_path: Path) -> None:
    rows = [
        child(sibling_group="S"),
        child(child_id="C2", sibling_group="S", la="Thurrock", home_postcode="RM17 6SL"),
    ]
    p = one_problem(make(tmp_path, rows))
    assert (p.line, p.field) == (3, "sibling_group")
    assert "spans authorities" in p.message and "C1" in p.message


def test_provider_vacancies_must_agree(tmp_path: Path) -> None:
    rows = [vacancy(), vacancy(vacancy_id="V2", postcode="CM1 1QH", fostered_now="1")]
    found = problems_of(make(tmp_path, vacancies=rows))
    assert [(p.line, p.field) for p in found] == [(3, "fostered_now"), (3, "postcode")]


def test_wrong_cell_count(tmp_path: Path) -> None:
    make(tmp_path)
    with (tmp_path / "children.csv").open("a") as fh:
        fh.write("C2,5,M\n")
    p = one_problem(tmp_path)
    assert (p.line, p.field) == (3, None) and "3 cells" in p.message


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path: Path) -> None:
    make(tmp_path, [child(), child(child_id="C2", age="99")])
    text = (tmp_path / "children.csv").read_text().replace("\nC2", "\n\nC2")
    (tmp_path / "children.csv").write_text(text)
    assert one_problem(tmp_path).line == 4


def test_multi_line_cell_reports_its_first_line(tmp_path: Path) -> None:
    make(tmp_path, [child(religion="a\nb"), child(child_id="C2", age="99")])
    assert one_problem(tmp_path).line == 4


def test_missing_required_column() -> None:
    p = one_problem(FIXTURES / "missing_column")
    assert (p.file, p.line, p.field) == ("children.csv", 1, "sex")
    assert "required column is missing" in p.message


def test_duplicate_column(tmp_path: Path) -> None:
    make(tmp_path)
    text = (tmp_path / "children.csv").read_text().splitlines()
    (tmp_path / "children.csv").write_text(text[0] + ",age\n" + text[1] + ",10\n")
    p = one_problem(tmp_path)
    assert (p.line, p.field) == (1, "age") and "more than once" in p.message


def test_column_without_a_name(tmp_path: Path) -> None:
    make(tmp_path)
    text = (tmp_path / "children.csv").read_text().splitlines()
    (tmp_path / "children.csv").write_text(text[0] + ", \n" + text[1] + ",x\n")
    p = one_problem(tmp_path)
    assert (p.line, p.field) == (1, None) and "column 13 has no name" in p.message


def test_empty_file() -> None:
    p = one_problem(FIXTURES / "empty")
    assert (p.file, p.line) == ("children.csv", None) and "empty file" in p.message


def test_header_only_file() -> None:
    p = one_problem(FIXTURES / "header_only")
    assert p.file == "children.csv" and "no rows" in p.message


def test_missing_file(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "vacancies.csv").unlink()
    p = one_problem(tmp_path)
    assert p.file == "vacancies.csv" and "file not found" in p.message


def test_not_utf8(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "children.csv").write_bytes("child_id,age\n\xe9\n".encode("latin-1"))
    p = one_problem(tmp_path)
    assert p.file == "children.csv" and "UTF-8" in p.message


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        load_case_folder(tmp_path / "nowhere")


def test_policy_problems_join_the_list() -> None:
    found = problems_of(FIXTURES / "bad_policy")
    assert [(p.file, p.field) for p in found] == [
        ("policy.toml", "allow_sibling_split"),
        ("policy.toml", "distance_step_mile"),
        ("policy.toml", "weights.cost"),
    ]


def test_policy_authority_must_resolve(tmp_path: Path) -> None:
    p = one_problem(make(tmp_path, policy='authority = "Narnia"\n'))
    assert (p.file, p.field) == ("policy.toml", "authority")


def test_error_is_a_value_error_with_a_one_line_message() -> None:
    with pytest.raises(ValueError) as exc:
        load_case_folder(FIXTURES / "many_problems")
    message = str(exc.value)
    assert "\n" not in message and message.startswith("29 problems in case folder: children.csv:2")


# --------------------------------------------------------------------------- round trip, order


def test_round_trip(tmp_path: Path) -> None:
    original = load_case_folder(DEMO)
    write_case_folder(original, tmp_path / "copy")
    again = load_case_folder(tmp_path / "copy")
    assert again == original
    assert again.policy == original.policy
    assert [c.placement_types for c in again.children] == [
        c.placement_types for c in original.children
    ]
    assert [c.school for c in again.children] == [c.school for c in original.children]


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


DEMO_FOLDER = load_case_folder(DEMO)
N_CHILDREN = len(_rows(DEMO / "children.csv")[1])
N_VACANCIES = len(_rows(DEMO / "vacancies.csv")[1])


@given(
    st.permutations(range(N_CHILDREN)),
    st.permutations(range(N_VACANCIES)),
)
def test_row_order_does_not_change_the_folder(
    child_order: list[int], vacancy_order: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        shutil.copy(DEMO / "policy.toml", out / "policy.toml")
        for name, order in (("children.csv", child_order), ("vacancies.csv", vacancy_order)):
            header, rows = _rows(DEMO / name)
            with (out / name).open("w", newline="") as fh:
                csv.writer(fh).writerows([header, *(rows[i] for i in order)])
        assert load_case_folder(out) == DEMO_FOLDER


@pytest.mark.parametrize(
    ("placement_type", "age_min", "ofsted"),
    [
        ("supported_accommodation", "16", "consistently_strong"),
        ("supported_accommodation", "16", "INCONSISTENT"),
        ("supported_accommodation", "16", "serious_weaknesses"),
        ("supported_accommodation", "16", "not_inspected"),
        ("childrens_home", "8", "outstanding"),
        ("childrens_home", "8", "not_inspected"),
        ("inhouse_foster", "0", "requires_improvement"),
    ],
)
def test_each_scale_is_accepted_for_its_own_placement_type(
    tmp_path: Path, placement_type: str, age_min: str, ofsted: str
) -> None:
    row = vacancy(placement_type=placement_type, age_min=age_min, ofsted=ofsted)
    loaded = load_case_folder(make(tmp_path, vacancies=[row]))
    assert loaded.vacancies[0].ofsted.value == ofsted.lower()


@pytest.mark.parametrize("urn", ["SC123456", "sc123456", "2512345", "", "  "])
def test_well_formed_or_blank_urns_validate(tmp_path: Path, urn: str) -> None:
    row = vacancy(placement_type="childrens_home", age_min="8", urn=urn)
    assert len(load_case_folder(make(tmp_path, vacancies=[row])).vacancies) == 1


def test_scale_error_does_not_echo_the_row(tmp_path: Path) -> None:
    row = vacancy(
        placement_type="supported_accommodation", age_min="16", ofsted="good", religion="Jedi"
    )
    p = one_problem(make(tmp_path, vacancies=[row]))
    assert "Jedi" not in p.message and "V1" not in p.message
