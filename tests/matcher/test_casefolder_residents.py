"""residents.csv and risk_flags: read, checked (file, line, field) and written back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_casefolder import child, make, problems_of, vacancy, write_csv

from matcher.casefolder import load_case_folder, write_case_folder
from matcher.contract import RESIDENTS_COLUMNS, column_names, contract
from matcher.domain import CaseFolder, Resident
from matcher.problems import CaseFolderError
from matcher.vocabulary import Need, RiskFlag, Sex

ROOT = Path(__file__).resolve().parents[2]
RESIDENTS = ROOT / "tests" / "data" / "casefolders" / "residents"
DEMO = ROOT / "examples" / "demo"

RESIDENT = {
    "provider_id": "P1",
    "resident_ref": "R1",
    "age": "14",
    "sex": "M",
    "needs": "",
    "risk_flags": "",
}


def resident_row(**kw: str) -> dict[str, str]:
    return {**RESIDENT, **kw}


def with_residents(folder: Path, rows: list[dict[str, str]], **kw: object) -> Path:
    make(folder, **kw)  # type: ignore[arg-type]
    write_csv(folder / "residents.csv", rows, header=list(RESIDENT))
    return folder


def test_residents_columns_are_pinned() -> None:
    assert column_names("residents.csv") == (
        "provider_id",
        "resident_ref",
        "age",
        "sex",
        "needs",
        "risk_flags",
    )
    assert {c.name for c in RESIDENTS_COLUMNS if c.required} == {
        "provider_id",
        "resident_ref",
        "age",
        "sex",
    }
    files = contract()["files"]
    # residents.csv comes after the two required files (other optional files may follow).
    assert list(files)[:3] == ["children.csv", "vacancies.csv", "residents.csv"]
    assert "policy.toml" in files
    v = contract()["vocabularies"]
    assert list(v["risk_flags"]) == [r.value for r in RiskFlag]
    assert set(v["capabilities"]) == {n.value for n in Need} | {r.value for r in RiskFlag}


def test_risk_flag_values_are_distinct_from_needs() -> None:
    # One capabilities cell holds both vocabularies: no value may mean two things.
    assert not {n.value for n in Need} & {r.value for r in RiskFlag}


def test_the_residents_fixture_loads() -> None:
    folder = load_case_folder(RESIDENTS)
    assert [(r.provider_id, r.resident_ref) for r in folder.residents] == [
        ("P03", "R1"),
        ("P09", "R1"),
        ("P09", "R2"),
        ("P10", "R1"),
        ("P10", "R2"),
    ]
    r2 = folder.residents_of("P09")[1]
    assert (r2.age, r2.sex, r2.needs) == (17, Sex.M, frozenset({Need.NO_YOUNGER_CHILDREN}))
    assert folder.residents_of("P09")[0].risk_flags == {RiskFlag.MISSING, RiskFlag.CCE}
    assert folder.residents_of("P01") == ()
    assert folder.child("C07").risk_flags == {RiskFlag.MISSING}
    v11 = folder.vacancy("V11")
    assert v11.capabilities == {Need.DISABILITY, Need.WHEELCHAIR}
    assert v11.manages == {RiskFlag.MISSING, RiskFlag.AGGRESSION, RiskFlag.SELF_HARM}
    summary = folder.summary()
    assert (summary["residents"], summary["providers_with_residents"]) == (5, 3)


def test_a_folder_without_residents_is_as_before() -> None:
    folder = load_case_folder(DEMO)
    assert folder.residents == ()
    assert "residents" not in folder.summary()
    assert all(not c.risk_flags for c in folder.children)
    assert all(not v.manages for v in folder.vacancies)


def test_a_header_only_residents_file_means_nobody_lives_there(tmp_path: Path) -> None:
    folder = with_residents(tmp_path / "f", [])
    assert load_case_folder(folder).residents == ()


def test_round_trip_with_residents_and_risks(tmp_path: Path) -> None:
    original = load_case_folder(RESIDENTS)
    write_case_folder(original, tmp_path / "copy")
    assert (tmp_path / "copy" / "residents.csv").is_file()
    again = load_case_folder(tmp_path / "copy")
    assert again == original
    assert again.residents == original.residents
    assert [v.manages for v in again.vacancies] == [v.manages for v in original.vacancies]
    assert [c.risk_flags for c in again.children] == [c.risk_flags for c in original.children]


def test_a_folder_without_residents_is_written_without_the_file(tmp_path: Path) -> None:
    write_case_folder(load_case_folder(DEMO), tmp_path / "copy")
    assert not (tmp_path / "copy" / "residents.csv").exists()


@pytest.mark.parametrize(
    ("cells", "field", "expected"),
    [
        ({"provider_id": "P9"}, "provider_id", "'P9' is not a provider_id of vacancies.csv"),
        ({"provider_id": ""}, "provider_id", "required; expected an id"),
        (
            {"resident_ref": "Jane Smith"},
            "resident_ref",
            "not a valid id (10 characters, value not shown)",
        ),
        ({"resident_ref": ""}, "resident_ref", "required; expected an id"),
        ({"age": "26"}, "age", "expected a whole number of years from 0 to 25"),
        ({"age": "x"}, "age", "expected a whole number of years from 0 to 25"),
        (
            {"sex": "Q"},
            "sex",
            "not a known value (1 character, value not shown); expected one of: M, F",
        ),
        ({"needs": "disability;kindness"}, "needs", "item 2 is not a known value"),
        ({"risk_flags": "cse;arson"}, "risk_flags", "item 2 is not a known value"),
        ({"risk_flags": "cse;"}, "risk_flags", "item 2 is empty"),
    ],
)
def test_each_resident_error_names_file_line_and_field(
    tmp_path: Path, cells: dict[str, str], field: str, expected: str
) -> None:
    rows = [resident_row(resident_ref="R0"), resident_row(**cells)]
    found = problems_of(with_residents(tmp_path / "f", rows))
    assert [(p.file, p.line, p.field) for p in found] == [("residents.csv", 3, field)]
    assert expected in found[0].message


def test_resident_cells_are_never_echoed(tmp_path: Path) -> None:
    rows = [
        resident_row(
            resident_ref="Jo Bloggs", age="abc", sex="male", needs="secretneed", risk_flags="rsk"
        ),
        resident_row(resident_ref="R2"),
        resident_row(resident_ref="R2"),
    ]
    found = problems_of(with_residents(tmp_path / "f", rows))
    assert {p.field for p in found} == {"resident_ref", "age", "sex", "needs", "risk_flags"}
    text = " ".join(str(p) for p in found)
    for secret in ("Jo Bloggs", "abc", "male", "secretneed", "rsk"):
        assert secret not in text


def test_a_repeated_resident_names_the_first_line(tmp_path: Path) -> None:
    rows = [resident_row(), resident_row(age="15")]
    found = problems_of(with_residents(tmp_path / "f", rows))
    assert [(p.line, p.field) for p in found] == [(3, "resident_ref")]
    assert found[0].message.startswith("repeats line 2 for provider 'P1'")
    # The same reference at another provider is another child.
    ok = with_residents(
        tmp_path / "g",
        [resident_row(), resident_row(provider_id="P2")],
        vacancies=[vacancy(), vacancy(vacancy_id="V2", provider_id="P2")],
    )
    assert len(load_case_folder(ok).residents) == 2


def test_resident_problems_join_every_other_problem(tmp_path: Path) -> None:
    folder = with_residents(
        tmp_path / "f",
        [resident_row(provider_id="PX")],
        children=[child(age="40")],
    )
    found = problems_of(folder)
    assert [(p.file, p.line, p.field) for p in found] == [
        ("children.csv", 2, "age"),
        ("residents.csv", 2, "provider_id"),
    ]


def test_residents_missing_a_required_column(tmp_path: Path) -> None:
    folder = make(tmp_path / "f")
    write_csv(folder / "residents.csv", [{"provider_id": "P1", "resident_ref": "R1", "age": "3"}])
    found = problems_of(folder)
    assert [(p.file, p.line, p.field) for p in found] == [("residents.csv", 1, "sex")]
    assert "required column is missing" in found[0].message


def test_unknown_provider_not_repeated_when_vacancies_cannot_be_read(tmp_path: Path) -> None:
    folder = with_residents(tmp_path / "f", [resident_row(provider_id="PX")])
    (folder / "vacancies.csv").unlink()
    found = problems_of(folder)
    assert [(p.file, p.field) for p in found] == [("vacancies.csv", None)]


def test_child_risk_flags_column(tmp_path: Path) -> None:
    ok = make(tmp_path / "ok", children=[child(risk_flags="CSE; missing")])
    assert load_case_folder(ok).child("C1").risk_flags == {RiskFlag.CSE, RiskFlag.MISSING}
    bad = make(tmp_path / "bad", children=[child(risk_flags="cse;secretrisk")])
    (p,) = problems_of(bad)
    assert (p.file, p.line, p.field) == ("children.csv", 2, "risk_flags")
    assert "secretrisk" not in str(p) and "item 2 is not a known value" in p.message


def test_capabilities_take_needs_and_risk_flags(tmp_path: Path) -> None:
    ok = make(tmp_path / "ok", vacancies=[vacancy(capabilities="disability;CSE;fire_setting")])
    v = load_case_folder(ok).vacancy("V1")
    assert (v.capabilities, v.manages) == (
        frozenset({Need.DISABILITY}),
        frozenset({RiskFlag.CSE, RiskFlag.FIRE_SETTING}),
    )
    bad = make(tmp_path / "bad", vacancies=[vacancy(capabilities="disability;juggling")])
    (p,) = problems_of(bad)
    assert (p.file, p.line, p.field) == ("vacancies.csv", 2, "capabilities")
    assert "item 2 is not a known value (8 characters" in p.message and "cse" in p.message
    assert "juggling" not in p.message


def test_the_domain_checks_residents_against_its_providers() -> None:
    folder = load_case_folder(DEMO)
    stranger = Resident("P99", "R1", 12, Sex.F)
    with pytest.raises(ValueError, match="provider_id: residents of providers with no vacancy"):
        CaseFolder(folder.children, folder.vacancies, residents=(stranger,))
    twice = (Resident("P01", "R1", 12, Sex.F), Resident("P01", "R1", 13, Sex.F))
    with pytest.raises(ValueError, match="resident_ref: expected unique refs"):
        CaseFolder(folder.children, folder.vacancies, residents=twice)
    with pytest.raises(ValueError, match="age"):
        Resident("P01", "R1", 26, Sex.F)


def test_the_residents_fixture_is_the_demo_with_residents() -> None:
    # The fixture differs from examples/demo only where it says: so that its answers can be
    # compared with the demo's.
    for name in ("children.csv", "vacancies.csv"):
        assert (RESIDENTS / name).read_text().count("\n") == (DEMO / name).read_text().count("\n")


def test_validate_names_the_residents(tmp_path: Path) -> None:
    from placematch.cli import main

    copy = tmp_path / "copy"
    shutil.copytree(RESIDENTS, copy)
    assert main(["validate", str(copy)]) == 0
    (copy / "residents.csv").write_text("provider_id,resident_ref,age,sex\nPX,R1,9,F\n")
    with pytest.raises(CaseFolderError):
        load_case_folder(copy)
    assert main(["validate", str(copy)]) == 2


def test_a_foster_household_listing_more_residents_than_fostered_now_is_a_warning(
    tmp_path: Path,
) -> None:
    rows = [resident_row(), resident_row(resident_ref="R2")]
    folder = load_case_folder(
        with_residents(tmp_path / "f", rows, vacancies=[vacancy(fostered_now="1")])
    )
    (w,) = [w for w in folder.warnings if w.field == "fostered_now"]
    assert (w.file, w.line) == ("vacancies.csv", 2)
    assert "provider 'P1' has 2 children in residents.csv but fostered_now 1" in w.message
    # A children's home has no fostering limit: no warning.
    home = vacancy(placement_type="childrens_home", age_min="10", urn="SC123456")
    quiet = load_case_folder(with_residents(tmp_path / "g", rows, vacancies=[home]))
    assert not [w for w in quiet.warnings if w.field == "fostered_now"]
