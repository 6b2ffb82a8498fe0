"""Pooled (regional) case folders: owner_la, offered_to_pool and the region checks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from matcher.casefolder import load_case_folder, write_case_folder
from matcher.domain import InvalidFieldError, Vacancy
from matcher.problems import CaseFolderError, Problem

CHILD = {
    "child_id": "C1",
    "age": "10",
    "sex": "F",
    "home_postcode": "CM1 1QH",
    "la": "Essex",
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
    "owner_la": "",
    "offered_to_pool": "",
}


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _folder(
    tmp_path: Path, children: list[dict[str, str]], vacancies: list[dict[str, str]]
) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    _write(tmp_path / "children.csv", [{**CHILD, **c} for c in children])
    _write(tmp_path / "vacancies.csv", [{**VACANCY, **v} for v in vacancies])
    return tmp_path


def _problems(folder: Path) -> tuple[Problem, ...]:
    with pytest.raises(CaseFolderError) as exc:
        load_case_folder(folder)
    return exc.value.problems


POOL_CHILDREN = [{"child_id": "E1", "la": "Essex"}, {"child_id": "T1", "la": "Thurrock"}]
POOL_VACANCIES = [
    {"vacancy_id": "EV1", "provider_id": "EP1", "owner_la": "Essex", "offered_to_pool": "true"},
    {"vacancy_id": "TV1", "provider_id": "TP1", "owner_la": "E06000034", "offered_to_pool": ""},
    {
        "vacancy_id": "TV2",
        "provider_id": "TP2",
        "owner_la": "883",  # Thurrock's DfE number
        "offered_to_pool": "FALSE",
    },
]


def test_blank_columns_keep_a_single_authority_folder(tmp_path: Path) -> None:
    folder = load_case_folder(_folder(tmp_path, [{}], [{}]))
    v = folder.vacancies[0]
    assert (v.owner, v.offered_to_pool) == (None, None)


def test_a_pooled_folder_loads_with_owners_and_offers(tmp_path: Path) -> None:
    folder = load_case_folder(_folder(tmp_path, POOL_CHILDREN, POOL_VACANCIES))
    owners = {v.vacancy_id: (v.owner.name if v.owner else None) for v in folder.vacancies}
    assert owners == {"EV1": "Essex", "TV1": "Thurrock", "TV2": "Thurrock"}
    offers = {v.vacancy_id: v.offered_to_pool for v in folder.vacancies}
    assert offers == {"EV1": True, "TV1": None, "TV2": False}


def test_owners_and_offers_round_trip(tmp_path: Path) -> None:
    original = load_case_folder(_folder(tmp_path / "a", POOL_CHILDREN, POOL_VACANCIES))
    write_case_folder(original, tmp_path / "b")
    assert load_case_folder(tmp_path / "b") == original
    with (tmp_path / "b" / "vacancies.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["owner_la"], r["offered_to_pool"]) for r in rows] == [
        ("E10000012", "true"),
        ("E06000034", ""),
        ("E06000034", "false"),
    ]


def test_an_unknown_owner_is_named_by_file_line_and_field(tmp_path: Path) -> None:
    vacancies = [*POOL_VACANCIES[:2], {**POOL_VACANCIES[2], "owner_la": "Atlantis"}]
    found = _problems(_folder(tmp_path, POOL_CHILDREN, vacancies))
    assert [(p.file, p.line, p.field) for p in found] == [("vacancies.csv", 4, "owner_la")]
    assert "not an authority" in found[0].message and "Atlantis" not in found[0].message


def test_a_child_outside_the_region_is_refused(tmp_path: Path) -> None:
    children = [*POOL_CHILDREN, {"child_id": "S1", "la": "Suffolk"}]
    found = _problems(_folder(tmp_path, children, POOL_VACANCIES))
    assert [(p.file, p.line, p.field) for p in found] == [("children.csv", 4, "la")]
    message = found[0].message
    assert message.startswith("Suffolk (E10000029) is outside this folder's region")
    assert "(Essex, Thurrock)" in message


def test_a_blank_owner_among_named_ones_is_refused(tmp_path: Path) -> None:
    vacancies = [POOL_VACANCIES[0], {**POOL_VACANCIES[1], "owner_la": ""}, POOL_VACANCIES[2]]
    found = _problems(_folder(tmp_path, POOL_CHILDREN, vacancies))
    assert [(p.file, p.line, p.field) for p in found] == [("vacancies.csv", 3, "owner_la")]
    assert "first on line 2" in found[0].message


def test_offered_to_pool_takes_true_false_or_blank(tmp_path: Path) -> None:
    vacancies = [{**POOL_VACANCIES[0], "offered_to_pool": "maybe"}, *POOL_VACANCIES[1:]]
    found = _problems(_folder(tmp_path, POOL_CHILDREN, vacancies))
    assert [(p.file, p.line, p.field) for p in found] == [("vacancies.csv", 2, "offered_to_pool")]
    assert "expected true, false or blank" in found[0].message
    assert "maybe" not in found[0].message


def test_clashing_ids_across_authorities_are_refused(tmp_path: Path) -> None:
    children = [{"child_id": "C1", "la": "Essex"}, {"child_id": "C1", "la": "Thurrock"}]
    vacancies = [{**v, "vacancy_id": "V1"} for v in POOL_VACANCIES[:2]]
    found = _problems(_folder(tmp_path, children, vacancies))
    assert [(p.file, p.line, p.field) for p in found] == [
        ("children.csv", 3, "child_id"),
        ("vacancies.csv", 3, "vacancy_id"),
    ]


def test_the_domain_refuses_an_owner_that_is_not_an_authority(tmp_path: Path) -> None:
    v = load_case_folder(_folder(tmp_path, POOL_CHILDREN, POOL_VACANCIES)).vacancies[0]
    fields = {f: getattr(v, f) for f in Vacancy.__slots__ if not f.startswith("_")}
    with pytest.raises(InvalidFieldError) as exc:
        Vacancy(**{**fields, "owner": "Essex"})
    assert exc.value.field == "owner_la"
    with pytest.raises(InvalidFieldError) as exc:
        Vacancy(**{**fields, "offered_to_pool": "yes"})
    assert exc.value.field == "offered_to_pool"


def test_one_provider_under_two_owners_is_refused(tmp_path: Path) -> None:
    # TV2 is Thurrock's, but its provider is Essex's EP1: one household, two owners.
    vacancies = [*POOL_VACANCIES[:2], {**POOL_VACANCIES[2], "provider_id": "EP1"}]
    found = _problems(_folder(tmp_path, POOL_CHILDREN, vacancies))
    assert [(p.file, p.line, p.field) for p in found] == [("vacancies.csv", 4, "owner_la")]
    assert found[0].message == (
        "Thurrock, but provider EP1 is owned by Essex on line 2; expected one owner_la for "
        "every vacancy of a provider"
    )
    # the same provider under one owner, named two ways, is one owner
    same = [*POOL_VACANCIES[:2], {**POOL_VACANCIES[2], "provider_id": "TP1"}]
    assert len(load_case_folder(_folder(tmp_path / "same", POOL_CHILDREN, same)).vacancies) == 3
