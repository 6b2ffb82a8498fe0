"""Reading SSDA903 tables: recognition by columns, typing, problems, open episodes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from matcher.ssda903 import (
    Problem,
    Ssda903Error,
    TableKind,
    UnrecognisedTableError,
    authorities_in,
    combine_episodes,
    detect_kind,
    open_episodes,
    placement_groups,
    read_episodes,
    read_header,
    read_return,
    read_table,
    read_uasc,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "ssda903"
YEARLY = DATA / "yearly"
REGIONAL = DATA / "regional"

EPISODE_COLUMNS = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_tables_are_recognised_by_columns_not_names(tmp_path: Path) -> None:
    # An episodes table under a misleading name is still an episodes table.
    src = YEARLY / "2021-episodes.csv"
    renamed = tmp_path / "header.csv"
    shutil.copy(src, renamed)
    assert read_table(renamed).kind is TableKind.EPISODES
    assert read_table(YEARLY / "2021-header.csv").kind is TableKind.HEADER
    assert read_table(YEARLY / "2021-uasc.csv").kind is TableKind.UASC
    assert read_table(YEARLY / "2021-reviews.csv").kind is TableKind.REVIEWS
    # Column order and case do not matter.
    assert detect_kind(["dob", "child", "DUC", "SEX"]) is TableKind.UASC


def test_regional_extract_keeps_la_and_year() -> None:
    table = read_table(REGIONAL / "episodes.csv")
    assert table.kind is TableKind.EPISODES
    assert table.extra_columns == ("LA", "YEAR")
    assert len(table.frame) == 961
    assert table.frame["source_line"].iloc[0] == 2


def test_derived_distance_columns_make_a_table_unrecognised(tmp_path: Path) -> None:
    # PL_DISTANCE is derived by the DfE validator (docs/geography.md); an episodes file
    # carrying it is not an episodes table.
    path = write(tmp_path, "episodes.csv", EPISODE_COLUMNS + ",PL_DISTANCE\n")
    with pytest.raises(UnrecognisedTableError) as info:
        read_table(path)
    err = info.value
    assert err.closest is TableKind.EPISODES
    assert err.extra == ("PL_DISTANCE",)
    assert err.missing == ()
    assert "episodes.csv" in str(err) and "PL_DISTANCE" in str(err)
    assert isinstance(err, ValueError)


def test_missing_column_is_named(tmp_path: Path) -> None:
    cols = EPISODE_COLUMNS.replace(",URN", "")
    path = write(tmp_path, "e.csv", cols + "\n")
    with pytest.raises(UnrecognisedTableError, match="missing columns: URN"):
        read_episodes(path)


def test_expecting_the_wrong_table_says_so() -> None:
    with pytest.raises(UnrecognisedTableError, match="not an SSDA903 Episodes table"):
        read_episodes(YEARLY / "2021-header.csv")


def test_episodes_are_typed() -> None:
    episodes = read_episodes(YEARLY / "2021-episodes.csv")
    assert len(episodes) == 253
    assert episodes["DECOM"].dtype == "datetime64[ns]"
    assert episodes["DEC"].dtype == "datetime64[ns]"
    first = episodes.loc[(episodes["CHILD"] == "62551")].iloc[0]
    assert first["DECOM"] == pd.Timestamp(2018, 3, 25)
    assert first["DEC"] == pd.Timestamp(2021, 8, 13)
    assert first["PLACE"] == "U4" and first["REC"] == "E9"
    assert episodes["DEC"].isna().sum() == 62  # open at the end of the year
    assert "LA" not in episodes.columns


def test_iso_dates_of_the_regional_sample_are_read() -> None:
    episodes = read_episodes(REGIONAL / "episodes.csv")
    assert set(authorities_in(episodes)) == {"Hillingdon", "Southwark"}
    assert episodes["YEAR"].dtype == "Int64"
    row = episodes.loc[episodes["CHILD"] == "398768"].iloc[0]
    assert row["DECOM"] == pd.Timestamp(2017, 4, 9)
    assert row["DEC"] == pd.Timestamp(2017, 10, 31)


def test_yearly_files_combine_with_the_later_year_winning() -> None:
    files = sorted(YEARLY.glob("*-episodes.csv"))
    every = read_episodes(files, combine=False)
    combined = read_episodes(files)
    assert len(every) == 648 + 402 + 253
    assert len(combined) < len(every)
    assert not combined.duplicated(["CHILD", "DECOM"]).any()
    # An episode open in 2019's file and closed in a later one keeps its ending.
    key = ["CHILD", "DECOM"]
    later = every.drop_duplicates(key, keep="last").set_index(key)["DEC"]
    assert combined.set_index(key)["DEC"].equals(later.loc[combined.set_index(key).index])


def test_regional_extract_repeats_episodes_by_year_and_keeps_the_latest() -> None:
    every = read_episodes(REGIONAL / "episodes.csv", combine=False)
    combined = read_episodes(REGIONAL / "episodes.csv")
    assert every.duplicated(["LA", "CHILD", "DECOM"]).sum() > 0
    assert not combined.duplicated(["LA", "CHILD", "DECOM"]).any()
    latest_year = every.groupby(["LA", "CHILD", "DECOM"])["YEAR"].max()
    kept = combined.set_index(["LA", "CHILD", "DECOM"])["YEAR"]
    assert (kept == latest_year.loc[kept.index]).all()


def test_combine_episodes_matches_read_episodes() -> None:
    files = sorted(YEARLY.glob("*-episodes.csv"))
    frames = [read_episodes(f, combine=False) for f in files]
    pd.testing.assert_frame_equal(combine_episodes(frames), read_episodes(files))


def test_header_sex_codes_are_normalised() -> None:
    header = read_header(YEARLY / "2021-header.csv")
    assert set(header["SEX"]) <= {"M", "F"}
    raw = pd.read_csv(YEARLY / "2021-header.csv", dtype=str)
    expected = raw["SEX"].map({"1": "M", "2": "F"})
    got = header.set_index("CHILD").loc[raw["CHILD"], "SEX"].to_numpy()
    assert (got == expected.to_numpy()).all()
    assert header["DOB"].dtype == "datetime64[ns]"
    assert header["MOTHER"].dtype == "Int8"


def test_header_accepts_letter_codes_and_mother_flag(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "h.csv",
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
        "1,M,01/02/2010,WBRI,A1,,\n"
        "2,f,03/04/2008,REFU,A2,1.0,05/06/2024\n"
        "3,U,03/04/2008,,A3,0,\n",
    )
    header = read_header(path)
    assert header["SEX"].tolist() == ["M", "F", "U"]
    assert header["MOTHER"].tolist()[1:] == [1, 0]
    assert pd.isna(header["MOTHER"].iloc[0])
    assert header["MC_DOB"].iloc[1] == pd.Timestamp(2024, 6, 5)


def test_every_problem_is_collected_without_personal_data(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ep.csv",
        EPISODE_COLUMNS + "\n"
        "1,01/04/2020,S,C2,N1,U4,PR1,,,,CM1 1AA,CM2 2BB,123456\n"  # fine
        "2,31/02/2020,S,C2,N1,U4,PR1,,,,CM1 1AA,CM2 2BB,123456\n"  # impossible date
        "3,01/04/2020,S,C2,N1,Q9,PR1,,,,CM1 1AA,CM2 2BB,123456\n"  # unknown PLACE
        "4,01/04/2020,S,C2,N1,U4,PR1,01/03/2020,E8,,CM1 1AA,CM2 2BB,1\n"  # ends first
        ",01/04/2020,,C2,N1,U4,PR1,,,,CM1 1AA,CM2 2BB,1\n"  # blank CHILD and RNE
        "5,01/04/2020\n",  # ragged
    )
    with pytest.raises(Ssda903Error) as info:
        read_episodes(path)
    problems = info.value.problems
    assert (problems[0].line, problems[0].field) == (3, "DECOM")
    fields = {(p.line, p.field) for p in problems}
    assert {(3, "DECOM"), (4, "PLACE"), (5, "DEC"), (6, "CHILD"), (6, "RNE"), (7, "")} == fields
    assert all(p.file == str(path) for p in problems)
    message = str(info.value)
    assert "6 problems" in message and "line 4, PLACE: unknown code 'Q9'" in message
    assert "CM1" not in message and "CM2" not in message
    assert isinstance(info.value, ValueError)


def test_a_bad_date_of_birth_is_not_echoed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "h.csv",
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n7,3,29/02/2011,XXXX,A1,2,\n",
    )
    with pytest.raises(Ssda903Error) as info:
        read_header(path)
    message = str(info.value)
    assert "29/02/2011" not in message
    assert {p.field for p in info.value.problems} == {"SEX", "DOB", "ETHNIC", "MOTHER"}
    assert str(info.value.problems[0]).startswith(f"{path}, line 2, ")


def test_problem_str() -> None:
    assert str(Problem("e.csv", 4, "PLACE", "bad")) == "e.csv, line 4, PLACE: bad"
    assert str(Problem("e.csv", 0, "", "empty")) == "e.csv: empty"


def test_long_problem_lists_are_summarised() -> None:
    err = Ssda903Error([Problem("f", i, "X", "bad") for i in range(1, 26)])
    assert "25 problems" in str(err) and "and 15 more" in str(err)
    assert len(err.problems) == 25


def test_open_episodes_at_a_census_date() -> None:
    episodes = read_episodes(sorted(YEARLY.glob("*-episodes.csv")))
    day = dt.date(2020, 3, 31)
    current = open_episodes(episodes, day)
    ts = pd.Timestamp(day)
    assert (current["DECOM"] <= ts).all()
    assert (current["DEC"].isna() | (current["DEC"] > ts)).all()
    assert current["CHILD"].is_unique
    # Brute force: children with an episode covering the day.
    covering = episodes[
        (episodes["DECOM"] <= ts) & (episodes["DEC"].isna() | (episodes["DEC"] > ts))
    ]
    assert set(current["CHILD"]) == set(covering["CHILD"])
    assert set(current["sufficiency_group"]) <= {
        "fostering",
        "residential",
        "supported_accommodation",
        "other",
    }
    assert open_episodes(episodes, "2020-03-31").equals(current)


def test_open_episodes_boundaries(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ep.csv",
        EPISODE_COLUMNS + "\n"
        "1,01/04/2020,S,C2,N1,U4,PR1,10/04/2020,X1,,,,\n"
        "1,10/04/2020,P,C2,N1,K2,PR4,20/04/2020,E8,,,,\n",
    )
    episodes = read_episodes(path)
    assert open_episodes(episodes, "2020-04-09")["PLACE"].tolist() == ["U4"]
    assert open_episodes(episodes, "2020-04-10")["PLACE"].tolist() == ["K2"]
    assert open_episodes(episodes, "2020-04-10")["sufficiency_group"].tolist() == ["residential"]
    assert open_episodes(episodes, "2020-04-20").empty
    assert open_episodes(episodes, "2020-03-31").empty
    with pytest.raises(ValueError, match="yyyy-mm-dd"):
        open_episodes(episodes, "20/04/2020")


def test_open_episodes_of_a_regional_extract_are_per_authority() -> None:
    episodes = read_episodes(REGIONAL / "episodes.csv")
    current = open_episodes(episodes, "2019-03-31")
    assert set(current["LA"]) == {"Hillingdon", "Southwark"}
    assert not current.duplicated(["LA", "CHILD"]).any()


def test_placement_groups() -> None:
    frame = pd.DataFrame({"PLACE": ["U1", "K2", "H5", "P1", "K3", "K1"]})
    assert placement_groups(frame).tolist() == [
        "fostering",
        "residential",
        "supported_accommodation",
        "other",
        "supported_accommodation",
        "residential",
    ]


def test_read_return_sorts_a_folder_by_table() -> None:
    ret = read_return(YEARLY)
    assert len(ret.episodes) == len(read_episodes(sorted(YEARLY.glob("*-episodes.csv"))))
    assert ret.header["CHILD"].is_unique
    assert set(ret.uasc.columns) >= {"CHILD", "SEX", "DOB", "DUC"}
    assert [t.kind for t in ret.other] == [TableKind.REVIEWS]


def test_uasc_table() -> None:
    uasc = read_uasc(REGIONAL / "uasc.csv")
    assert uasc["DUC"].dtype == "datetime64[ns]"
    assert (uasc["DUC"] > uasc["DOB"]).all()


def test_read_return_rejects_a_stray_file(tmp_path: Path) -> None:
    shutil.copy(YEARLY / "2021-uasc.csv", tmp_path / "a.csv")
    write(tmp_path, "notes.csv", "name,comment\n")
    with pytest.raises(UnrecognisedTableError, match=r"notes\.csv"):
        read_return(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.csv", "")
    with pytest.raises(UnrecognisedTableError, match=r"empty\.csv"):
        read_table(path)
    only_header = write(tmp_path, "h.csv", EPISODE_COLUMNS + "\n")
    assert read_episodes(only_header).empty


def test_repeated_columns_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", EPISODE_COLUMNS + ",CHILD\n")
    with pytest.raises(UnrecognisedTableError, match="repeated columns: CHILD"):
        read_table(path)
    with pytest.raises(UnrecognisedTableError, match="repeated columns: CHILD"):
        read_episodes(path)
