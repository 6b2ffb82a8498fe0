"""Pooled folders with ``[authority."NAME"]`` tables and connected-person carers.

Regression: an authority's own folder cut another authority's connected-person carer to no
child, which no vacancy may be, and every pooled folder with a table and a carer was refused
(``connected_to: expected the child_ids ...``) by ``validate`` and ``match`` alike.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from geography.authorities import resolve_authority
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.match import match
from matcher.policy import AuthorityOverride
from matcher.pooled import authority_folder, match_pooled, pooled_candidates, solo_folder

POOLED = Path(__file__).resolve().parents[1] / "data" / "casefolders" / "pooled"
ESSEX, THURROCK = resolve_authority("Essex"), resolve_authority("Thurrock")

#: Thurrock's connected-person carer for its child T2, and Essex's for E1.
CARERS = (
    "TK1,TPK1,connected_person_foster,RM17 5RW,1,0,17,any,,good,300,Thurrock,false,T2\n"
    "EK1,EPK1,connected_person_foster,CM1 1QH,1,0,17,any,,good,300,Essex,false,E1\n"
)


def _folder(tmp_path: Path) -> CaseFolder:
    out = tmp_path / "pooled"
    shutil.copytree(POOLED, out)
    vacancies = out / "vacancies.csv"
    lines = vacancies.read_text(encoding="utf-8").splitlines()
    lines[0] += ",connected_to"
    lines[1:] = [line + "," for line in lines[1:]]
    vacancies.write_text("\n".join(lines) + "\n" + CARERS, encoding="utf-8")
    return load_case_folder(out)


def _with_table(folder: CaseFolder, name: str, **changes: object) -> CaseFolder:
    table = AuthorityOverride(name, tuple(sorted(changes.items())))
    policy = dataclasses.replace(folder.policy, overrides=(table,))
    return dataclasses.replace(folder, policy=policy)


def test_an_authority_folder_leaves_out_other_authorities_carers(tmp_path: Path) -> None:
    folder = _with_table(_folder(tmp_path), "Essex", own_carers_first=True)
    essex = authority_folder(folder, ESSEX)
    ids = [v.vacancy_id for v in essex.vacancies]
    assert "EK1" in ids and "TK1" not in ids
    assert ids == [v.vacancy_id for v in folder.vacancies if v.vacancy_id != "TK1"]
    assert [v.vacancy_id for v in solo_folder(folder, THURROCK).vacancies] == ["TK1", "TV1"]


def test_a_neutral_table_gives_the_match_without_tables(tmp_path: Path) -> None:
    plain = _folder(tmp_path)
    # own_carers_first = false is the default: the table changes no child's points, so the
    # joined candidate set must be the folder's own, pair for pair (vacancy indices mapped)
    tabled = _with_table(plain, "Essex", own_carers_first=False)
    joined = pooled_candidates(tabled)
    from matcher.candidates import build_candidates

    whole = build_candidates(plain)
    assert np.array_equal(joined.child_index, whole.child_index)
    assert np.array_equal(joined.vacancy_index, whole.vacancy_index)
    assert np.array_equal(joined.score, whole.score)
    assert np.array_equal(joined.vacancy_provider, whole.vacancy_provider)
    assert np.array_equal(joined.provider_fostering_room, whole.provider_fostering_room)
    a = match_pooled(tabled).result
    b = match(plain)
    assert a.status == b.status == "optimal"
    assert {(x.child_id, x.vacancy_id) for x in a.assignments} == {
        (x.child_id, x.vacancy_id) for x in b.assignments
    }


def test_a_pooled_match_with_tables_and_carers_places_each_child_with_its_carer(
    tmp_path: Path,
) -> None:
    folder = _with_table(_folder(tmp_path), "Thurrock", own_carers_first=True)
    pooled = match_pooled(folder, dividend=True)  # validated inside
    placed = {a.child_id: a.vacancy_id for a in pooled.result.assignments}
    # a connected person comes first (s22C(7)(a)), under either authority's policy
    assert placed["T2"] == "TK1" and placed["E1"] == "EK1"
    assert pooled.solo is not None and pooled.solo[THURROCK][1] == "optimal"


def test_why_not_another_authoritys_carer_names_the_rule_under_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from placematch.cli import main

    _folder(tmp_path)
    (tmp_path / "pooled" / "policy.toml").write_text(
        '[authority."Essex"]\nown_carers_first = true\n', encoding="utf-8"
    )
    assert main(["why-not", str(tmp_path / "pooled"), "--child", "E1", "--vacancy", "TK1",
                 "--json"]) == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert data["eligible"] is False
    assert data["rule"] == "connected_person_only_for_connected"
    assert "not_offered_to_pool" in data["also_broken"]  # Thurrock keeps its carer back
    # the child's own vacancies are still asked of its authority's folder (its table)
    assert main(["why-not", str(tmp_path / "pooled"), "--child", "E1", "--vacancy", "EV1",
                 "--json"]) == 0  # fmt: skip
    own = json.loads(capsys.readouterr().out)
    assert own["eligible"] is True and "own_carers" in own["factors"]


def test_the_bundled_regional_folder_with_its_table_cuts_by_authority() -> None:
    from matcher.pooled import region_of

    examples = Path(__file__).resolve().parents[2] / "examples" / "east_of_england"
    folder = load_case_folder(examples / "greater_essex")
    assert [o.authority for o in folder.policy.overrides] == ["Thurrock"]
    carers = [v for v in folder.vacancies if v.connected_to]
    for authority in region_of(folder):
        own = authority_folder(folder, authority)
        ids = {c.child_id for c in own.children}
        kept = [v for v in own.vacancies if v.connected_to]
        # every carer of one of its children, and no other
        assert {v.vacancy_id for v in kept} == {
            v.vacancy_id for v in carers if v.connected_to & ids
        }
        assert all(v.connected_to <= ids for v in kept)
