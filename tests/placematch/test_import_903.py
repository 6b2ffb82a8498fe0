"""903 import: children and current placements from header and episodes tables."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from matcher.casefolder import load_case_folder
from matcher.contract import CHILDREN_FILE, VACANCIES_FILE, column_names
from matcher.placement_types import PlacementType
from matcher.ssda903 import Ssda903Error, UnrecognisedTableError
from placematch.cli import main
from placematch.import_903 import (
    REPORT_COLUMNS,
    Import903Result,
    import_903,
    placement_type_of,
    write_import,
)

HERE = Path(__file__).resolve().parents[1] / "data"
MINE = HERE / "ssda903_import"
YEARLY = HERE / "ssda903" / "yearly"
REGIONAL = HERE / "ssda903" / "regional"


@pytest.fixture(scope="module")
def result() -> Import903Result:
    return import_903(
        MINE / "header.csv", MINE / "episodes.csv", la="Essex", at="2024-03-31",
        uasc=MINE / "uasc.csv",
    )  # fmt: skip


def _issues(result: Import903Result, action: str) -> dict[str, str]:
    return {i.child: i.field for i in result.issues if i.action == action}


def test_columns_follow_the_contract(result: Import903Result) -> None:
    contract_children = column_names(CHILDREN_FILE)[:12]
    assert tuple(result.children.columns[:12]) == contract_children
    n = len(column_names(VACANCIES_FILE))
    assert tuple(result.vacancies.columns[:n]) == column_names(VACANCIES_FILE)


def test_open_episodes_become_children_with_mapped_fields(result: Import903Result) -> None:
    c = result.children.set_index("child_id")
    assert result.at == dt.date(2024, 3, 31)
    assert result.la_code == "E10000012"
    assert list(c.index) == ["1001", "1002", "1003", "1004", "1005", "1013", "1014", "1015"]
    assert c.loc["1001", "age"] == "11"  # born 01/05/2012
    assert c.loc["1014", "age"] == "17"  # born 25/04/2006, the day before is still 17
    assert c.loc["1001", "sex"] == "F" and c.loc["1002", "sex"] == "M"  # legacy 1/2 codes
    assert c.loc["1013", "sex"] == "M"  # letter codes
    assert c.loc["1001", "home_postcode"] == "CM2 0HU"
    assert (c["la"] == "E10000012").all()
    assert c.loc["1002", "ethnicity"] == "MWBC"
    assert c.loc["1001", "placement_types"] == "inhouse_foster;agency_foster"
    assert c.loc["1002", "placement_types"].startswith("connected_person_foster")
    assert c.loc["1005", "placement_types"] == "childrens_home"
    assert c.loc["1004", "placement_types"] == "supported_accommodation"
    assert c.loc["1014", "placement_types"] == "parent_and_child"
    assert c.loc["1004", "needs"] == "uasc" and c.loc["1004", "home_postcode"] == ""
    assert c.loc["1005", "needs"] == "disability"  # CIN N4
    assert c.loc["1014", "needs"] == "parent_and_child"
    assert (c["school_urn"] == "").all()  # the 903 URN is the provider's, not a school
    assert c.loc["1013", "current_group"] == "fostering"
    assert c.loc["1014", "current_group"] == "other"


def test_current_placements_become_vacancies(result: Import903Result) -> None:
    v = result.vacancies.set_index("vacancy_id")
    c = result.children.set_index("child_id")
    assert len(v) == 6
    kin = v.loc[c.loc["1002", "current_vacancy"]]
    assert kin["placement_type"] == "connected_person_foster"
    assert kin["connected_to"] == "1002;1003" and kin["beds"] == "2"
    assert kin["postcode"] == "SS13 3EB"
    assert c.loc["1003", "current_vacancy"] == c.loc["1002", "current_vacancy"]
    assert v.loc[c.loc["1001", "current_vacancy"], "placement_type"] == "inhouse_foster"
    moved = v.loc[c.loc["1013", "current_vacancy"]]  # the later episode wins
    assert moved["placement_type"] == "agency_foster" and moved["postcode"] == "RM1 3BB"
    assert moved["supply_area"] == "adjoining"
    home = v.loc[c.loc["1005", "current_vacancy"]]
    assert home["capabilities"] == "disability" and home["organisation"] == "1234567"
    assert set(v["ofsted"]) == {"not_inspected"}
    assert v.loc[c.loc["1001", "current_vacancy"], "weekly_cost"] == "500"
    assert v["provider_id"].is_unique
    assert c.loc["1004", "current_vacancy"] == ""  # no placement postcode: not a vacancy


def test_every_problem_is_reported_and_nothing_is_silently_dropped(result: Import903Result) -> None:
    skipped = _issues(result, "child_skipped")
    assert skipped == {
        "1006": "PLACE",  # placed with parents: no case-folder type
        "1007": "HOME_POST",  # unknown postcode
        "1008": "SEX",  # U
        "1010": "DOB",  # aged 18
        "1011": "CHILD",  # no header row
        "1012": "HOME_POST",  # malformed
    }
    assert _issues(result, "field_blanked") == {"1015": "HOME_POST"}
    assert _issues(result, "vacancy_skipped") == {"1004": "PL_POST"}
    assert result.open_children == len(result.children) + len(skipped)
    assert "1009" not in skipped and "1009" not in set(result.children["child_id"])  # left care
    for issue in result.issues:
        text = str(issue)
        for postcode in ("V28 5OY", "Z99 9ZZ", "NOTAPOSTCODE", "CM2 0HU"):
            assert postcode not in text  # never the value itself
        assert issue.line >= 2


def test_written_folder_loads_and_has_a_report(result: Import903Result, tmp_path: Path) -> None:
    folder = write_import(result, tmp_path / "out")
    loaded = load_case_folder(folder)
    assert len(loaded.children) == 8 and len(loaded.vacancies) == 6
    with (folder / "import_report.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == REPORT_COLUMNS
    assert len(rows) == len(result.issues)
    assert {r["action"] for r in rows} == {"child_skipped", "field_blanked", "vacancy_skipped"}
    assert "Case folder imported from SSDA903" in (folder / "README.md").read_text()


def test_default_reference_date_is_the_latest_decom() -> None:
    r = import_903(MINE / "header.csv", MINE / "episodes.csv", la="881")
    assert r.at == dt.date(2024, 2, 1)


def test_an_earlier_date_sees_earlier_placements() -> None:
    r = import_903(MINE / "header.csv", MINE / "episodes.csv", la="Essex", at="2023-03-01")
    c = r.children.set_index("child_id")
    assert "1013" in c.index and "1014" not in c.index
    v = r.vacancies.set_index("vacancy_id")
    assert v.loc[c.loc["1013", "current_vacancy"], "postcode"] == "IP1 2BX"
    # Without the UASC table a blank home postcode is not allowed: 1004 is not in care yet.
    assert "1009" in c.index  # still in care then


def test_without_uasc_table_blank_home_postcode_skips_the_child() -> None:
    r = import_903(MINE / "header.csv", MINE / "episodes.csv", la="Essex", at="2024-03-31")
    assert _issues(r, "child_skipped")["1004"] == "HOME_POST"
    assert "1004" not in set(r.children["child_id"])


@pytest.mark.parametrize(
    ("place", "provider", "kind"),
    [
        ("U1", "PR1", PlacementType.CONNECTED_PERSON_FOSTER),
        ("U3", "PR4", PlacementType.CONNECTED_PERSON_FOSTER),
        ("U4", "PR1", PlacementType.INHOUSE_FOSTER),
        ("U6", "PR2", PlacementType.INHOUSE_FOSTER),
        ("U5", "PR4", PlacementType.AGENCY_FOSTER),
        ("U6", "PR5", PlacementType.AGENCY_FOSTER),
        ("K2", "PR4", PlacementType.CHILDRENS_HOME),
        ("R1", "PR1", PlacementType.CHILDRENS_HOME),
        ("K3", "PR4", PlacementType.SUPPORTED_ACCOMMODATION),
        ("H5", "PR4", PlacementType.SUPPORTED_ACCOMMODATION),
        ("R3", "PR4", PlacementType.PARENT_AND_CHILD),
        ("K1", "PR1", PlacementType.SECURE_HOME),
        ("P1", "PR0", None),
        ("A4", "PR1", None),
    ],
)
def test_placement_type_of(place: str, provider: str, kind: PlacementType | None) -> None:
    assert placement_type_of(place, provider) is kind


# -- the synthetic Social Finance extracts (fake postcodes) -------------------------------


def test_fake_postcodes_are_reported_not_a_crash(tmp_path: Path) -> None:
    r = import_903(
        YEARLY / "2021-header.csv", YEARLY / "2021-episodes.csv", la="Essex",
        uasc=YEARLY / "2021-uasc.csv",
    )  # fmt: skip
    skipped = _issues(r, "child_skipped")
    assert r.open_children > 20
    assert r.open_children == len(r.children) + len(skipped)
    assert sum(1 for f in skipped.values() if f == "HOME_POST") > 10
    write_import(r, tmp_path)
    report = pd.read_csv(tmp_path / "import_report.csv", dtype=str)
    assert len(report) == len(r.issues)


def test_multi_authority_extract_is_filtered_by_la() -> None:
    r = import_903(REGIONAL / "header.csv", REGIONAL / "episodes.csv", la="Hillingdon")
    assert r.la_name == "Hillingdon"
    assert r.open_children > 0
    with pytest.raises(LookupError, match="no rows for Essex"):
        import_903(REGIONAL / "header.csv", REGIONAL / "episodes.csv", la="Essex")


def test_multi_authority_extract_lists_its_authorities(result: Import903Result) -> None:
    las = sorted(set(pd.read_csv(REGIONAL / "episodes.csv", dtype=str)["LA"]))
    assert len(las) > 1
    r = import_903(REGIONAL / "header.csv", REGIONAL / "episodes.csv", la="Hillingdon")
    assert r.authorities == tuple(las)
    assert f"{len(las)} authorities in its LA column: {', '.join(las)}" in r.text()
    with pytest.raises(LookupError) as info:
        import_903(REGIONAL / "header.csv", REGIONAL / "episodes.csv", la="Essex")
    assert str(info.value).endswith(f"authorities in the extract: {', '.join(las)}")
    # A single-authority return has no LA column and says nothing of it.
    assert result.authorities == () and "LA column" not in result.text()


# -- the reference date -----------------------------------------------------------------


def _eps(at: str) -> set[str]:
    r = import_903(MINE / "header.csv", MINE / "episodes.csv", la="Essex", at=at)
    return set(r.children["child_id"])


def test_at_accepts_the_903s_own_date_format() -> None:
    assert _eps("31/03/2024") == _eps("2024-03-31")
    assert _eps("01/06/2022") == _eps("2022-06-01") != _eps("2024-03-31")


@pytest.mark.parametrize(
    ("at", "side"),
    [
        ("31/12/2020", "before"),  # the day before the first DECOM (01/01/2021)
        ("1999-01-01", "before"),
        ("01/04/2024", "after"),  # the latest DECOM is in the year ending 31/03/2024
        ("2030-01-01", "after"),
    ],
)
def test_at_outside_the_data_is_refused(at: str, side: str) -> None:
    with pytest.raises(ValueError, match=f"--at .* is {side} the data") as info:
        import_903(MINE / "header.csv", MINE / "episodes.csv", la="Essex", at=at)
    assert "from 01/01/2021 (the first DECOM) to 31/03/2024" in str(info.value)


def test_at_on_the_edges_of_the_data_is_accepted() -> None:
    first = import_903(MINE / "header.csv", MINE / "episodes.csv", la="Essex", at="01/01/2021")
    assert first.open_children >= 1
    assert _eps("31/03/2024")  # the end of the last collection year


# -- a folder that would be unusable ----------------------------------------------------


def test_shortfall_names_no_vacancies_and_almost_no_children(result: Import903Result) -> None:
    assert result.shortfall() is None
    n = len(result.children)
    # Exactly a quarter imported is enough; one child fewer in the share is "almost none".
    assert replace(result, open_children=4 * n).shortfall() is None
    few = replace(result, open_children=4 * n + 1).shortfall()
    # The fixture skips two children for HOME_POST, one each for CHILD, DOB, PLACE, SEX.
    most = "(most skipped for HOME_POST: 2)"
    # HOME_POST skipped most: the way forward is named.
    hint = (
        "; --keep-unknown-postcodes keeps children whose home postcode is unknown "
        "(near home not scored for them)"
    )
    assert few == f"{n} of {4 * n + 1} children in an open episode imported {most}{hint}"
    none = replace(result, vacancies=result.vacancies.iloc[:0]).shortfall()
    no_vacancy = "and no placement became a vacancy"
    assert none == f"{n} of 14 children in an open episode imported {no_vacancy} {most}{hint}"
    # Once the flag is given it is not offered again.
    kept = replace(result, open_children=4 * n + 1, keep_unknown_postcodes=True).shortfall()
    assert kept == f"{n} of {4 * n + 1} children in an open episode imported {most}"


# -- errors ---------------------------------------------------------------------------


def test_swapped_tables_are_unrecognised() -> None:
    with pytest.raises(UnrecognisedTableError, match="not an SSDA903 Episodes table") as info:
        import_903(MINE / "episodes.csv", MINE / "header.csv", la="Essex")
    # Says what the file is instead of listing every column the two tables do not share.
    assert str(info.value).endswith("its columns are those of the Header table")
    assert "missing columns" not in str(info.value)


def test_broken_rows_raise_every_problem(tmp_path: Path) -> None:
    shutil.copy(MINE / "header.csv", tmp_path / "header.csv")
    lines = (MINE / "episodes.csv").read_text().splitlines()
    lines[1] = lines[1].replace("04/09/2022", "31/02/2022")  # not a date
    lines[2] = lines[2].replace(",U3,", ",ZZ,")  # unknown PLACE
    (tmp_path / "episodes.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(Ssda903Error) as exc:
        import_903(tmp_path / "header.csv", tmp_path / "episodes.csv", la="Essex")
    fields = {(p.line, p.field) for p in exc.value.problems}
    assert fields == {(2, "DECOM"), (3, "PLACE")}


def test_bad_date_and_authority() -> None:
    with pytest.raises(ValueError, match="--at '2024-31-03' is not a date; expected dd/mm/yyyy"):
        import_903(MINE / "header.csv", MINE / "episodes.csv", la="Essex", at="2024-31-03")
    with pytest.raises(LookupError):
        import_903(MINE / "header.csv", MINE / "episodes.csv", la="Atlantis")


# -- command line -----------------------------------------------------------------------


def test_cli_writes_folder_and_summarises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "case"
    status = main(
        [
            "import-903", str(MINE / "header.csv"), str(MINE / "episodes.csv"), "--la", "Essex",
            "--at", "2024-03-31", "--uasc", str(MINE / "uasc.csv"), "--out", str(out),
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0
    assert "children imported      8" in captured.out
    assert "HOME_POST" in captured.err and "child skipped" in captured.err
    assert "V28 5OY" not in captured.err + captured.out
    assert (out / "children.csv").exists() and (out / "import_report.csv").exists()


def test_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    status = main(
        [
            "import-903", str(MINE / "header.csv"), str(MINE / "episodes.csv"), "--la", "Essex",
            "--at", "2024-03-31", "--out", str(tmp_path), "--json",
        ]
    )  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["children"] == 6 and data["open_children"] == 14
    assert data["issues"]["child_skipped:HOME_POST"] == 4  # 1004, 1007, 1012, 1015


def test_cli_refuses_an_unusable_import_and_writes_only_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Fake postcodes: 2 of 62 children imported and no placement a vacancy.
    out = tmp_path / "sf"
    episodes = YEARLY / "2021-episodes.csv"
    argv = ["import-903", str(YEARLY / "2021-header.csv"), str(episodes)]
    status = main([*argv, "--la", "Essex", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 2
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith(f"placematch: error: {episodes}: 2 of 62 children in an open episode")
    assert "no placement became a vacancy (most skipped for HOME_POST: 54)" in last
    assert "HOME_POST  child skipped    54" in captured.err  # the counts, by field
    assert sorted(p.name for p in out.iterdir()) == ["import_report.csv"]
    report = pd.read_csv(out / "import_report.csv", dtype=str)
    assert len(report) == 62 and set(report["field"]) == {"HOME_POST", "PLACE", "PL_POST"}
    # No postcode from the return reaches the terminal.
    postcodes = pd.read_csv(episodes, dtype=str)[["HOME_POST", "PL_POST"]].stack()
    assert not [p for p in set(postcodes) if p in captured.err + captured.out]


def test_cli_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "case"
    argv = [
        "import-903", str(MINE / "header.csv"), str(MINE / "episodes.csv"), "--la", "Essex",
        "--uasc", str(MINE / "uasc.csv"), "--at", "31/03/2024", "--out", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    edited = (
        (out / "vacancies.csv").read_text(encoding="utf-8").replace(",not_inspected,", ",good,")
    )
    (out / "vacancies.csv").write_text(edited, encoding="utf-8")  # the user's own grades
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"placematch: error: --out {str(out)!r} already has children.csv, vacancies.csv, "
        "import_report.csv, README.md; pass --force to replace what a previous import "
        "wrote, or choose another folder"
    )
    assert (out / "vacancies.csv").read_text(encoding="utf-8") == edited
    assert main([*argv, "--force"]) == 0
    assert (out / "vacancies.csv").read_text(encoding="utf-8") != edited
    # Forced over by an import that is refused: the report is new, the case files are not.
    capsys.readouterr()
    refused = ["import-903", str(YEARLY / "2021-header.csv"), str(YEARLY / "2021-episodes.csv")]
    assert main([*refused, "--la", "Essex", "--out", str(out), "--force"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "were not written (children.csv and vacancies.csv there are an earlier import's)" in last
    assert len(pd.read_csv(out / "import_report.csv")) == 62
    # Another file alone in the folder is not the import's: no --force needed.
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    assert main([*argv[:-1], str(other)]) == 0
    assert (other / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_cli_lists_the_authorities_of_an_extract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["import-903", str(REGIONAL / "header.csv"), str(REGIONAL / "episodes.csv")]
    assert main([*argv, "--la", "Essex", "--out", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith("extract: Hillingdon, Southwark")
    assert not (tmp_path / "e").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["EPISODES", "HEADER"], "not an SSDA903"),
        (["HEADER", "EPISODES", "--at", "yesterday"], "--at"),
        (["HEADER", "EPISODES", "--at", "01/04/2024"], "--at 01/04/2024 is after the data"),
        (["HEADER", "MISSING"], "No such file"),
        (["HEADER", "EPISODES", "--la", "Narnia"], "Narnia"),
    ],
)
def test_cli_errors_are_one_line_exit_2(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "HEADER": str(MINE / "header.csv"),
        "EPISODES": str(MINE / "episodes.csv"),
        "MISSING": str(tmp_path / "nope.csv"),
    }
    argv = ["import-903", *[files.get(a, a) for a in args], "--out", str(tmp_path / "o")]
    if "--la" not in args:
        argv += ["--la", "Essex"]
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1


def test_out_naming_a_file_is_one_line_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a folder", encoding="utf-8")
    argv = ["import-903", str(MINE / "header.csv"), str(MINE / "episodes.csv"), "--la", "Essex"]
    assert main([*argv, "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "is a file; expected a folder" in err
    assert taken.read_text(encoding="utf-8") == "not a folder"


# -- --keep-unknown-postcodes ---------------------------------------------------------------


def test_keep_unknown_postcodes_keeps_the_children_and_reports_them(tmp_path: Path) -> None:
    r = import_903(
        MINE / "header.csv", MINE / "episodes.csv", la="Essex", at="2024-03-31",
        uasc=MINE / "uasc.csv", keep_unknown_postcodes=True,
    )  # fmt: skip
    c = r.children.set_index("child_id")
    # 1007 (unknown postcode) and 1012 (malformed) were skipped; now kept without one.
    assert _issues(r, "child_kept") == {"1007": "HOME_POST", "1012": "HOME_POST"}
    assert "1007" not in _issues(r, "child_skipped") and "1012" not in _issues(r, "child_skipped")
    assert r.kept_without_home_postcode == 2
    for kid in ("1007", "1012"):
        assert c.loc[kid, "home_postcode"] == "" and c.loc[kid, "home_postcode_unknown"] == "true"
        assert c.loc[kid, "needs"] == ""  # not made a separated migrant child
    # Separated migrant children keep their own rule; known postcodes are untouched.
    assert c.loc["1004", "home_postcode_unknown"] == "" and c.loc["1004", "needs"] == "uasc"
    assert c.loc["1001", "home_postcode"] == "CM2 0HU"
    assert c.loc["1001", "home_postcode_unknown"] == ""
    assert _issues(r, "field_blanked") == {"1015": "HOME_POST"}
    assert "of which kept without a home postcode 2 (--keep-unknown-postcodes" in r.text()
    for issue in r.issues:
        assert "V28 5OY" not in str(issue) and "NOTAPOSTCODE" not in str(issue)
    # The folder loads: the contract allows the blank postcode because the folder says why.
    folder = load_case_folder(write_import(r, tmp_path / "kept"))
    loaded = {k.child_id: k for k in folder.children}
    assert loaded["1007"].home is None and loaded["1007"].home_unknown
    assert not loaded["1001"].home_unknown
    assert "2 children were kept without a home postcode" in (
        tmp_path / "kept" / "README.md"
    ).read_text(encoding="utf-8")
    # Exporting such a child's placement says why its HOME_POST is blank.
    from placematch.export_903 import EpisodeDefaults, export_903

    vacancy = next(v for v in folder.vacancies if v.is_fostering)
    done = export_903(
        folder, {"1007": vacancy.vacancy_id, "1001": vacancy.vacancy_id}, tmp_path / "ret",
        defaults=EpisodeDefaults(dt.date(2024, 3, 31)),
    )  # fmt: skip
    blank = [w for w in done.warnings if "home postcode unknown" in w]
    assert len(blank) == 1 and blank[0].startswith("child 1007:") and "rule 392b" in blank[0]


def test_without_the_flag_the_skip_message_names_it() -> None:
    r = import_903(MINE / "header.csv", MINE / "episodes.csv", la="Essex", at="2024-03-31")
    why = {i.child: i.message for i in r.issues if i.action == "child_skipped"}
    assert "(--keep-unknown-postcodes keeps such children)" in why["1007"]
    assert r.kept_without_home_postcode == 0
    assert "kept without a home postcode" not in r.text()


def test_cli_keep_unknown_postcodes_json_and_rank(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    out = tmp_path / "kept"
    status = main(
        [
            "import-903", str(MINE / "header.csv"), str(MINE / "episodes.csv"), "--la", "Essex",
            "--at", "31/03/2024", "--out", str(out), "--json", "--keep-unknown-postcodes",
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0
    data = json.loads(captured.out)
    # Without the UASC table 1004 and 1015 are not known to be separated migrant children:
    # with the flag they are kept as well (four, where without it four were skipped).
    assert data["kept_without_home_postcode"] == 4
    assert data["issues"]["child_kept:HOME_POST"] == 4
    assert "child_skipped:HOME_POST" not in data["issues"]
    assert data["children"] == 10
    assert "HOME_POST  child kept       4" in captured.err
    # rank says why the distance columns are blank.
    assert main(["rank", str(out), "--child", "1007"]) == 0
    text = capsys.readouterr().out
    assert "Near home: Home postcode unknown (home_postcode_unknown in the case folder)" in text
    assert main(["rank", str(out), "--child", "1001"]) == 0
    assert "Near home:" not in capsys.readouterr().out  # a known home: no such line
    # A referral says the home area is not known, not that the child is a migrant.
    sent = tmp_path / "referrals"
    assert main(["referral", str(out), "--child", "1007", "--top", "1", "--out", str(sent)]) == 0
    capsys.readouterr()
    summaries = "".join(p.read_text(encoding="utf-8") for p in sent.rglob("*.md"))
    assert "- Home area: not known (the home postcode is recorded as unknown)" in summaries
    assert "separated migrant" not in summaries


def test_cli_refusal_still_applies_with_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Social Finance's fake postcodes: the children are kept, but no placement is a vacancy.
    out = tmp_path / "sf"
    argv = ["import-903", str(YEARLY / "2021-header.csv"), str(YEARLY / "2021-episodes.csv")]
    status = main([*argv, "--la", "Essex", "--out", str(out), "--keep-unknown-postcodes"])
    captured = capsys.readouterr()
    assert status == 2
    last = captured.err.strip().splitlines()[-1]
    assert "56 of 62 children in an open episode imported and no placement became a vacancy" in last
    assert "--keep-unknown-postcodes keeps" not in last
    assert "kept without a home postcode 54" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["import_report.csv"]
