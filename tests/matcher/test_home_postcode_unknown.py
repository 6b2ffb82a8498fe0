"""home_postcode_unknown: a child kept without a home postcode, and what the matcher does then.

The contract allows a blank ``home_postcode`` for a child who is not a separated migrant
child only when the folder says the postcode is unknown; near home is then not scored (and
the reason says why), in area still is, from the responsible authority.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_casefolder import child, make, problems_of, vacancy

from matcher.casefolder import load_case_folder, write_case_folder
from matcher.domain import Child, InvalidFieldError
from matcher.match import match
from matcher.rank import rank_child, why_not

UNKNOWN = {"home_postcode": "", "home_postcode_unknown": "true"}


def _folder(tmp_path: Path) -> Path:
    return make(
        tmp_path / "f",
        children=[
            child(child_id="C1", **UNKNOWN),
            child(child_id="C2", home_postcode="", needs="uasc", age="16"),
            child(child_id="C3"),
        ],
        vacancies=[
            vacancy(vacancy_id="V1", provider_id="P1", postcode="CO1 1PJ"),  # Essex
            vacancy(vacancy_id="V2", provider_id="P2", postcode="SW1A 1AA", beds="2"),  # London
        ],
    )


def test_a_blank_home_postcode_loads_when_the_folder_says_it_is_unknown(tmp_path: Path) -> None:
    folder = load_case_folder(_folder(tmp_path))
    by_id = {c.child_id: c for c in folder.children}
    assert by_id["C1"].home is None and by_id["C1"].home_unknown is True
    assert by_id["C2"].home is None and by_id["C2"].home_unknown is False  # separated migrant
    assert by_id["C3"].home is not None and by_id["C3"].home_unknown is False
    summary = folder.summary()
    assert summary["home_postcode_unknown_children"] == 1
    assert summary["separated_migrant_children"] == 1


def test_the_flag_is_written_back(tmp_path: Path) -> None:
    folder = load_case_folder(_folder(tmp_path))
    out = write_case_folder(folder, tmp_path / "out")
    text = (out / "children.csv").read_text(encoding="utf-8").splitlines()
    assert text[0].endswith(",home_postcode_unknown")
    assert text[1].startswith("C1,") and text[1].endswith(",true")
    assert text[3].startswith("C3,") and text[3].endswith(",")
    assert load_case_folder(out).children == folder.children


@pytest.mark.parametrize(
    ("cells", "field", "words"),
    [
        # no column at all: a blank postcode is still an error (a forgotten cell is caught)
        ({"home_postcode": ""}, "home_postcode", "or when home_postcode_unknown is true"),
        (
            {"home_postcode": "", "home_postcode_unknown": "false"},
            "home_postcode",
            "blank only for a separated migrant child",
        ),
        ({"home_postcode_unknown": "true"}, "home_postcode_unknown", "but home_postcode is given"),
        (
            {"home_postcode": "", "home_postcode_unknown": "yes"},
            "home_postcode_unknown",
            "not true or false",
        ),
    ],
)
def test_contradictions_are_problems_naming_the_field(
    tmp_path: Path, cells: dict[str, str], field: str, words: str
) -> None:
    folder = make(tmp_path / "f", children=[child(**cells)])
    found = [p for p in problems_of(folder) if p.line == 2]
    assert [p.field for p in found] == [field], [str(p) for p in found]
    assert words in found[0].message


def test_the_domain_needs_the_flag_or_uasc(tmp_path: Path) -> None:
    kid = load_case_folder(_folder(tmp_path)).children[2]
    with pytest.raises(InvalidFieldError, match="home_postcode"):
        Child(child_id="X", age=kid.age, sex=kid.sex, authority=kid.authority)
    ok = Child(child_id="X", age=kid.age, sex=kid.sex, authority=kid.authority, home_unknown=True)
    assert ok.home_postcode is None
    with pytest.raises(InvalidFieldError, match="home_postcode_unknown"):
        Child(
            child_id="X",
            age=kid.age,
            sex=kid.sex,
            authority=kid.authority,
            home=kid.home,
            home_unknown=True,
        )


def test_near_home_is_not_scored_and_the_reason_says_why(tmp_path: Path) -> None:
    folder = load_case_folder(_folder(tmp_path))
    ranking = rank_child(folder, "C1")
    assert [o.vacancy_id for o in ranking.options] == ["V1", "V2"]  # in area first
    for option in ranking.options:
        points = {f.factor: f.points for f in option.factors}
        reasons = {f.factor: f.reason for f in option.factors}
        assert points["near_home"] == 0
        assert reasons["near_home"].startswith("Home postcode unknown (home_postcode_unknown")
        assert "not scored" in reasons["near_home"]
        assert option.distance_miles is None
        assert option.score == sum(points.values())
    inside, outside = ranking.options
    assert {f.factor: f.points for f in inside.factors}["in_area"] > 0  # from la, not home
    assert {f.factor: f.points for f in outside.factors}["in_area"] == 0
    # The separated migrant child keeps its own reason.
    uasc = rank_child(folder, "C2").options[0]
    assert "separated migrant child" in {f.factor: f.reason for f in uasc.factors}["near_home"]
    # A child with a postcode is scored on distance.
    known = rank_child(folder, "C3").options[0]
    assert {f.factor: f.points for f in known.factors}["near_home"] > 0
    answer = why_not(folder, "C1", "V2")
    assert "Home postcode unknown" in str(answer.to_dict())


def test_match_places_the_child_without_a_distance(tmp_path: Path) -> None:
    folder = load_case_folder(_folder(tmp_path))
    result = match(folder)  # checked by the solver-independent validator
    placed = {a.child_id: a for a in result.assignments}
    assert set(placed) == {"C1", "C2", "C3"}
    assert placed["C1"].distance_miles is None
    assert placed["C3"].distance_miles is not None


def test_screening_searches_from_the_school_else_the_authority(tmp_path: Path) -> None:
    from geography.authorities import interior_point
    from matcher.factors.base import FolderArrays
    from matcher.screen import search_points

    folder = load_case_folder(
        make(
            tmp_path / "s",
            children=[
                child(child_id="C1", **UNKNOWN),
                child(child_id="C2", school_urn="114805", **UNKNOWN),
                child(child_id="C3"),
            ],
        )
    )
    arrays = FolderArrays.build(folder)
    lat, lon = search_points(arrays)
    kids = {c.child_id: i for i, c in enumerate(arrays.children)}
    c1, c2, c3 = kids["C1"], kids["C2"], kids["C3"]
    assert (lat[c1], lon[c1]) == pytest.approx(interior_point(arrays.children[c1].authority))
    school = arrays.children[c2].school
    assert school is not None
    assert (lat[c2], lon[c2]) == pytest.approx((school.lat, school.lon))
    home = arrays.children[c3].home
    assert home is not None
    assert (lat[c3], lon[c3]) == pytest.approx((home.lat, home.lon))
