"""``placematch export-903``: DfE episode columns, derived fields as the DfE derives them."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from geography import pl_distance
from matcher.casefolder import load_case_folder
from matcher.ssda903 import TableKind, detect_kind, read_episodes
from placematch.cli import main
from placematch.export_903 import (
    EPISODE_COLUMNS,
    EpisodeDefaults,
    _placeholder_dob,
    export_903,
    read_assignments,
)

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def assignment_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("match") / "result.json"
    assert main(["match", str(DEMO), "--out", str(out), "--json"]) == 0
    return out


@pytest.fixture()
def folder_with_urns(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder)
    rows = list(csv.reader((folder / "vacancies.csv").open(encoding="utf-8")))
    assert "urn" in rows[0]  # the demo's homes carry synthetic URNs
    u = rows[0].index("urn")
    # Two extra homes: one in Wales, one in Cumberland (not in the DfE's 2021 list).
    extra = rows[9][:]  # V09, a children's home
    wales, cumbria = extra[:], extra[:]
    wales[0], wales[1], wales[3], wales[u] = "V90", "P90", "CF10 1AA", "SC999001"
    cumbria[0], cumbria[1], cumbria[3], cumbria[u] = "V91", "P91", "CA1 1AA", "SC999002"
    rows += [wales, cumbria]
    with (folder / "vacancies.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return folder


def test_episodes_have_exactly_the_dfe_columns(
    tmp_path: Path, assignment_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "903"
    args = ["export-903", str(DEMO), "--assignment", str(assignment_file), "--out", str(out)]
    assert main([*args, "--start", "2025-01-15"]) == 0
    assert "12 episodes written" in capsys.readouterr().out
    with (out / "episodes.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == EPISODE_COLUMNS
    assert detect_kind(header) is TableKind.EPISODES
    episodes = read_episodes(out / "episodes.csv")  # the 903 reader accepts it
    assert len(episodes) == 12
    rows = {r["CHILD"]: r for r in _rows(out / "episodes.csv")}
    assert rows["C06"]["PLACE"] == "U3" and rows["C06"]["PLACE_PROVIDER"] == "PR1"
    assert rows["C06"]["URN"] == "XXXXXXX"  # fostering: the 903 guide's URN
    assert rows["C10"]["PLACE"] == "K2" and rows["C10"]["URN"] == "SC900009"  # urn column
    assert all(r["DECOM"] == "15/01/2025" and r["DEC"] == "" for r in rows.values())
    assert rows["C01"]["RNE"] == "S" and rows["C01"]["LS"] == "C2"


def test_separated_migrant_child_has_blank_home_and_distance(
    tmp_path: Path, assignment_file: Path
) -> None:
    folder = load_case_folder(DEMO)
    written = export_903(
        folder,
        read_assignments(assignment_file),
        tmp_path,
        defaults=EpisodeDefaults(dt.date(2025, 1, 15)),
    )
    episodes = {r["CHILD"]: r for r in _rows(written.episodes)}
    located = {r["CHILD"]: r for r in _rows(written.placement_location)}
    assert episodes["C04"]["HOME_POST"] == "" and episodes["C04"]["PL_POST"] != ""
    assert episodes["C04"]["LS"] == "V2" and episodes["C04"]["CIN"] == "N8"
    assert located["C04"]["PL_DISTANCE"] == ""  # DfE rule 406
    assert [r["CHILD"] for r in _rows(written.uasc)] == ["C04"]


def test_derived_fields_as_the_dfe_derives_them(tmp_path: Path, assignment_file: Path) -> None:
    folder = load_case_folder(DEMO)
    assignments = read_assignments(assignment_file)
    written = export_903(
        folder, assignments, tmp_path, defaults=EpisodeDefaults(dt.date(2025, 1, 15))
    )
    located = {r["CHILD"]: r for r in _rows(written.placement_location)}
    for cid, vid in assignments.items():
        child, vacancy = folder.child(cid), folder.vacancy(vid)
        row = located[cid]
        if child.home is not None:
            assert float(row["PL_DISTANCE"]) == pl_distance(child.home, vacancy.location)
            assert float(row["PL_DISTANCE"]) <= 350
        assert vacancy.authority is not None
        assert row["PL_LA"] == vacancy.authority.ons_code
        assert row["PL_LOCATION"] == ("IN" if vacancy.authority == child.authority else "OUT")
    # C12 (Southend) placed in Medway: out; C10 (Thurrock) placed in Essex: out of Thurrock
    assert located["C12"]["PL_LOCATION"] == "OUT"
    assert located["C10"]["PL_LOCATION"] == "OUT" and located["C10"]["PL_LA"] == "E10000012"


def test_wales_and_authorities_missing_from_the_dfe_list(
    tmp_path: Path, folder_with_urns: Path
) -> None:
    folder = load_case_folder(folder_with_urns)
    written = export_903(
        folder,
        {"C07": "V90", "C12": "V91", "C10": "V09"},
        tmp_path,
        defaults=EpisodeDefaults(dt.date(2025, 1, 15)),
        folder_path=folder_with_urns,
    )
    located = {r["CHILD"]: r for r in _rows(written.placement_location)}
    assert (located["C07"]["PL_LOCATION"], located["C07"]["PL_LA"]) == ("OUT", "WAL")
    assert (located["C12"]["PL_LOCATION"], located["C12"]["PL_LA"]) == ("OUT", "")
    assert any("2021 authority list" in w for w in written.warnings)
    episodes = {r["CHILD"]: r for r in _rows(written.episodes)}
    assert episodes["C10"]["URN"] == "SC900009"  # from the urn column


def test_only_one_authoritys_children(tmp_path: Path, assignment_file: Path) -> None:
    folder = load_case_folder(DEMO)
    written = export_903(
        folder,
        read_assignments(assignment_file),
        tmp_path,
        defaults=EpisodeDefaults(dt.date(2025, 1, 15)),
        placing_authority="Essex",
    )
    assert written.rows == 10
    assert {r["CHILD"] for r in _rows(written.episodes)}.isdisjoint({"C10", "C12"})
    assert any("2 placed children of other authorities" in w for w in written.warnings)


def test_header_is_consistent_with_age_and_sex(tmp_path: Path, assignment_file: Path) -> None:
    folder = load_case_folder(DEMO)
    start = dt.date(2025, 1, 15)
    written = export_903(
        folder, read_assignments(assignment_file), tmp_path, defaults=EpisodeDefaults(start)
    )
    for row in _rows(written.header):
        child = folder.child(row["CHILD"])
        born = dt.datetime.strptime(row["DOB"], "%d/%m/%Y").date()
        age = start.year - born.year - ((start.month, start.day) < (born.month, born.day))
        assert age == child.age
        assert row["SEX"] == child.sex.value
        assert row["MOTHER"] == ("" if child.sex.value == "M" else row["MOTHER"])
    assert _placeholder_dob(0, dt.date(2024, 2, 29)) < dt.date(2024, 2, 29)


def test_bad_codes_and_files_are_user_errors(
    tmp_path: Path, assignment_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match="not an SSDA903 RNE code"):
        EpisodeDefaults(dt.date(2025, 1, 1), rne="Q")
    with pytest.raises(ValueError, match="short-break"):
        EpisodeDefaults(dt.date(2025, 1, 1), ls="V3")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"assignments": [{"child_id": "NOPE", "vacancy_id": "V01"}]}))
    args = ["export-903", str(DEMO), "--assignment", str(bad), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert "child NOPE is not in the case folder" in capsys.readouterr().err
    bad.write_text("not json")
    assert main(args) == 2
    assert "not JSON" in capsys.readouterr().err
    args[3] = str(assignment_file)
    assert main([*args, "--rne", "Q"]) == 2


def test_missing_files_and_a_file_as_out_are_one_line(
    tmp_path: Path, assignment_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.json"
    args = ["export-903", str(DEMO), "--assignment", str(missing), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert capsys.readouterr().err == (
        f"placematch: error: assignment file {str(missing)!r} not found\n"
    )
    args[3] = str(assignment_file)
    args[5] = str(assignment_file)  # an existing file as the output folder
    assert main(args) == 2
    assert capsys.readouterr().err == (
        f"placematch: error: --out {str(assignment_file)!r} is a file; "
        "expected a folder to write into\n"
    )


def test_a_valid_match_exports_without_rule_warnings(tmp_path: Path, assignment_file: Path) -> None:
    folder = load_case_folder(DEMO)
    written = export_903(
        folder,
        read_assignments(assignment_file),
        tmp_path / "o",
        defaults=EpisodeDefaults(dt.date(2025, 1, 15)),
    )
    assert not [w for w in written.warnings if "hard rule" in w or "bed(s)" in w]


def test_an_edited_assignment_is_exported_with_warnings(
    tmp_path: Path, assignment_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(assignment_file.read_text())
    for item in data["assignments"]:
        if item["child_id"] == "C01":
            item["vacancy_id"] = "V01"  # C06's connected-person carer, one bed, C06 in it
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    out = tmp_path / "o"
    argv = ["export-903", str(DEMO), "--assignment", str(edited), "--out", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert (
        "placematch: warning: child C01: vacancy V01 breaks the hard rule "
        "connected_person_only_for_connected (Care Planning, Placement and Case Review "
        "(England) Regulations 2010 reg 24)"
    ) in err
    assert "placematch: warning: vacancy V01: 2 children placed (C01, C06) in 1 bed(s)" in err
    assert len(_rows(out / "episodes.csv")) == 12  # written as given


def test_a_split_allowed_by_a_policy_file_is_not_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "tight"
    shutil.copytree(DEMO, folder)
    lines = (folder / "vacancies.csv").read_text().splitlines()[:8]
    lines[2] = lines[2].replace(
        "V02,P02,inhouse_foster,CM1 1QH,3,", "V02,P02,inhouse_foster,CM1 1QH,2,"
    )
    (folder / "vacancies.csv").write_text("\n".join(lines) + "\n")
    policy = tmp_path / "split.toml"
    policy.write_text("allow_sibling_split = true\nsibling_split_cost = 50\n")
    result = tmp_path / "m.json"
    assert main(["match", str(folder), "--policy", str(policy), "--out", str(result)]) == 0
    assert json.loads(result.read_text())["splits"]
    capsys.readouterr()
    argv = ["export-903", str(folder), "--assignment", str(result), "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "hard rule" not in err and "bed(s)" not in err
