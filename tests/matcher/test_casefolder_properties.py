"""Properties of loading: any valid folder loads, and writing it back loses nothing."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from matcher.casefolder import case_folder_rows, load_case_folder, write_case_folder
from matcher.contract import column_names
from matcher.domain import SUPPORTED_ACCOMMODATION_MIN_AGE
from matcher.placement_types import PlacementType
from matcher.vocabulary import Need, ethnicity_codes

POSTCODES = ("CM1 1QH", "co1 1pj", "SS14 1DL", "RM17 6SL", "ip1 2bx", "CM2 0HU")
AUTHORITIES = ("Essex", "881", "E10000012", "thurrock", "E06000034")
SCHOOLS = ("", "114805", "136863", "115239")
FREE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12
).filter(lambda s: ";" not in s)


def _case(text: str, flip: bool) -> str:
    return text.upper() if flip else text


@st.composite
def child_rows(draw: st.DrawFn, index: int) -> dict[str, str]:
    age = draw(st.integers(0, 17))
    needs = draw(st.sets(st.sampled_from(list(Need)), max_size=3))
    uasc = Need.UASC in needs
    types = [t for t in PlacementType if t is not PlacementType.SUPPORTED_ACCOMMODATION]
    if age >= SUPPORTED_ACCOMMODATION_MIN_AGE:
        types.append(PlacementType.SUPPORTED_ACCOMMODATION)
    chosen = draw(st.sets(st.sampled_from(types), max_size=3))
    flip = draw(st.booleans())
    return {
        "child_id": f"C{index}",
        "age": str(age),
        "sex": _case(draw(st.sampled_from(["m", "f"])), flip),
        "home_postcode": draw(st.sampled_from(("", *POSTCODES) if uasc else POSTCODES)),
        "la": draw(st.sampled_from(AUTHORITIES[:3])),
        "school_urn": draw(st.sampled_from(SCHOOLS)),
        "sibling_group": draw(st.sampled_from(["", "", "S1", "S2"])),
        "needs": ";".join(_case(n.value, flip) for n in needs),
        "placement_types": ";".join(_case(t.value, flip) for t in chosen),
        "ethnicity": draw(st.sampled_from(["", *ethnicity_codes()])),
        "religion": draw(FREE_TEXT),
        "language": draw(FREE_TEXT),
        "avoid_areas": ";".join(draw(st.sets(st.sampled_from(["SS1", "cm20", "Thurrock"])))),
    }


@st.composite
def vacancy_rows(draw: st.DrawFn, index: int, child_ids: list[str]) -> dict[str, str]:
    kind = draw(st.sampled_from(list(PlacementType)))
    lo = draw(st.integers(16 if kind is PlacementType.SUPPORTED_ACCOMMODATION else 0, 20))
    connected = (
        ";".join(draw(st.sets(st.sampled_from(child_ids), min_size=1, max_size=2)))
        if kind is PlacementType.CONNECTED_PERSON_FOSTER
        else ""
    )
    return {
        "vacancy_id": f"V{index}",
        "provider_id": f"P{index}",
        "placement_type": kind.value,
        "postcode": draw(st.sampled_from(POSTCODES)),
        "beds": str(draw(st.integers(1, 4))),
        "age_min": str(lo),
        "age_max": str(draw(st.integers(lo, 25))),
        "sex": draw(st.sampled_from(["any", "M", "F", "ANY"])),
        "capabilities": ";".join(n.value for n in draw(st.sets(st.sampled_from(list(Need))))),
        "ofsted": draw(
            st.sampled_from(
                ["Consistently_Strong", "inconsistent", "not_inspected"]
                if kind is PlacementType.SUPPORTED_ACCOMMODATION
                else ["good", "Outstanding", "not_inspected"]
            )
        ),
        "weekly_cost": str(draw(st.integers(0, 20000))),
        "connected_to": connected,
        "fostered_now": draw(st.sampled_from(["", "0", "2"])),
        "ethnicity": ";".join(
            draw(st.sets(st.sampled_from(sorted(ethnicity_codes())), max_size=2))
        ),
        "religion": draw(FREE_TEXT),
        "languages": ";".join(t for t in draw(st.lists(FREE_TEXT, max_size=2)) if t.strip()),
    }


@st.composite
def folders(draw: st.DrawFn) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    n = draw(st.integers(1, 6))
    children = [draw(child_rows(i)) for i in range(n)]
    # Siblings share a responsible authority: give each group its first child's la.
    first_la: dict[str, str] = {}
    for row in children:
        if row["sibling_group"]:
            row["la"] = first_la.setdefault(row["sibling_group"], row["la"])
    ids = [c["child_id"] for c in children]
    vacancies = [draw(vacancy_rows(i, ids)) for i in range(draw(st.integers(1, 5)))]
    return children, vacancies


def _write(folder: Path, children: list[dict[str, str]], vacancies: list[dict[str, str]]) -> None:
    for name, rows in (("children.csv", children), ("vacancies.csv", vacancies)):
        with (folder / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(column_names(name)))
            writer.writeheader()
            writer.writerows(rows)


@given(folders())
def test_valid_folders_load_and_round_trip(
    data: tuple[list[dict[str, str]], list[dict[str, str]]],
) -> None:
    children, vacancies = data
    with tempfile.TemporaryDirectory() as tmp:
        first = Path(tmp) / "first"
        first.mkdir()
        _write(first, children, vacancies)
        loaded = load_case_folder(first)
        assert [c.child_id for c in loaded.children] == sorted(r["child_id"] for r in children)
        for row in children:
            c = loaded.child(row["child_id"])
            assert c.age == int(row["age"])
            assert c.sex.value == row["sex"].upper()
            assert (c.home is None) == (row["home_postcode"] == "")
            assert {n.value for n in c.needs} == {n.lower() for n in row["needs"].split(";") if n}
        again = load_case_folder(write_case_folder(loaded, Path(tmp) / "second"))
        assert again == loaded
        assert case_folder_rows(again) == case_folder_rows(loaded)
