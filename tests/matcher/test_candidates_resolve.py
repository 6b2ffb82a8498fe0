"""``placematch candidates`` is re-solvable from its own files, without the case folder.

The model is read here from the three exported files alone (``csv``, no ``matcher`` type)
as ``docs/match.md`` states it, then solved by an exhaustive search (tiny folders) or by
the benchmarks' HiGHS model (the demo); both must reach the optimum ``match`` reports.
"""

from __future__ import annotations

import csv
import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.optimize import Bounds, LinearConstraint, milp
from test_match_support import child, tiny_folders, vacancy

from benchmarks._mip import linear_model
from benchmarks._model import Model
from matcher.candidates import build_candidates
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.match import match
from matcher.optimiser import SolverParameters

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
FAST = SolverParameters(time_limit_s=10.0, num_workers=1, seed=0)
LIMIT = 3  # Children Act 1989 Sch. 7, as docs/match.md states it


@dataclass(frozen=True)
class FileModel:
    """The model of the three files: nothing from the case folder."""

    pairs: list[tuple[str, str, int, bool]]  # child, vacancy, points, solo_only
    beds: dict[str, int]
    provider: dict[str, str]
    fostering: dict[str, bool]
    fostered_now: dict[str, int]  # per provider
    group_of: dict[str, str]  # child -> sibling group (of two or more)
    split_cost: dict[str, int | None]  # group -> cost, None: a unit


def read_model(pairs_csv: Path) -> FileModel:
    stem = pairs_csv.with_suffix("")
    with pairs_csv.open(encoding="utf-8", newline="") as fh:
        pairs = [
            (r["child_id"], r["vacancy_id"], int(r["points"]), r["solo_only"] == "1")
            for r in csv.DictReader(fh)
        ]
    beds, provider, fostering, fostered_now = {}, {}, {}, {}
    with Path(f"{stem}.vacancies.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            v = r["vacancy_id"]
            beds[v] = int(r["beds"])
            provider[v] = r["provider_id"]
            fostering[v] = r["fostering"] == "1"
            fostered_now[r["provider_id"]] = int(r["fostered_now"])
    group_of: dict[str, str] = {}
    split_cost: dict[str, int | None] = {}
    with Path(f"{stem}.sibling_groups.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            group_of[r["child_id"]] = r["sibling_group"]
            split_cost[r["sibling_group"]] = int(r["split_cost"]) if r["split_cost"] else None
    return FileModel(pairs, beds, provider, fostering, fostered_now, group_of, split_cost)


def value(model: FileModel, choice: dict[str, tuple[str, int, bool]]) -> int | None:
    """The objective of ``child -> (vacancy, points, solo_only)``, or None if it breaks a rule."""
    used: dict[str, int] = {}
    for v, _, _ in choice.values():
        used[v] = used.get(v, 0) + 1
    if any(n > model.beds[v] for v, n in used.items()):
        return None
    households: dict[str, list[str]] = {}
    for c, (v, _, _) in choice.items():
        households.setdefault(model.provider[v], []).append(c)
    for p, there in households.items():
        fostered = [c for c in there if model.fostering[choice[c][0]]]
        if model.fostered_now[p] + len(fostered) > LIMIT:
            groups = {model.group_of.get(c) for c in fostered}
            if not (model.fostered_now[p] == 0 and len(groups) == 1 and None not in groups):
                return None
        for c in there:
            if choice[c][2] and any(
                o != c and (c not in model.group_of or model.group_of.get(o) != model.group_of[c])
                for o in there
            ):
                return None
    total = sum(points for _, points, _ in choice.values())
    for g, cost in model.split_cost.items():
        members = [c for c, h in model.group_of.items() if h == g]
        where = [choice[c][0] for c in members if c in choice]
        if not where:
            continue
        if cost is None:
            if len(where) < len(members) or len(set(where)) > 1:
                return None
        else:
            total -= cost * (len(set(where)) - 1 + len(members) - len(where))
    return total


def exhaustive(model: FileModel) -> int:
    by_child: dict[str, list[tuple[str, int, bool] | None]] = {}
    for c, v, points, solo in model.pairs:
        by_child.setdefault(c, [None]).append((v, points, solo))
    children = sorted(by_child)
    best = 0
    for picks in itertools.product(*(by_child[c] for c in children)):
        choice = {c: p for c, p in zip(children, picks, strict=True) if p is not None}
        found = value(model, choice)
        if found is not None and found > best:
            best = found
    return best


def highs(model: FileModel) -> int:
    """The benchmarks' HiGHS model of the files (hard sibling units, no split policy)."""
    children = sorted({c for c, _, _, _ in model.pairs} | set(model.group_of))
    vacancies = sorted(model.beds)
    providers = sorted(set(model.provider.values()))
    ci = {c: i for i, c in enumerate(children)}
    vi = {v: i for i, v in enumerate(vacancies)}
    pi = {p: i for i, p in enumerate(providers)}
    groups = sorted(set(model.group_of.values()))
    solo = {c for c, _, _, s in model.pairs if s}
    m = Model(
        n_children=len(children),
        beds=np.array([model.beds[v] for v in vacancies], dtype=np.int64),
        pair_child=np.array([ci[c] for c, _, _, _ in model.pairs], dtype=np.int32),
        pair_vacancy=np.array([vi[v] for _, v, _, _ in model.pairs], dtype=np.int32),
        pair_points=np.array([p for _, _, p, _ in model.pairs], dtype=np.int64),
        vacancy_provider=np.array([pi[model.provider[v]] for v in vacancies], dtype=np.int32),
        vacancy_fostering=np.array([model.fostering[v] for v in vacancies], dtype=bool),
        provider_fostered_now=np.array([model.fostered_now[p] for p in providers], dtype=np.int64),
        sibling_groups=tuple(
            tuple(ci[c] for c in children if model.group_of.get(c) == g) for g in groups
        ),
        family_of_child=np.array(
            [groups.index(model.group_of[c]) if c in model.group_of else -1 for c in children],
            dtype=np.int64,
        ),
        solo_child=np.array([c in solo for c in children], dtype=bool),
    )
    lm = linear_model(m)
    found = milp(
        -lm.objective.astype(float),
        constraints=LinearConstraint(lm.matrix, lm.lower, lm.upper),
        integrality=np.ones(lm.n_vars),
        bounds=Bounds(0, 1),
    )
    assert found.status == 0
    return round(-found.fun)


@settings(max_examples=80, deadline=None)
@given(tiny_folders())
def test_the_files_alone_give_the_optimum_of_match(folder: CaseFolder) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        build_candidates(folder).to_files(Path(tmp) / "pairs.csv")
        model = read_model(Path(tmp) / "pairs.csv")
    result = match(folder, FAST)
    assert result.status == "optimal"
    assert exhaustive(model) == result.objective


def test_the_household_limit_binds_in_the_files_too(tmp_path: Path) -> None:
    # one household fostering one child already, two fostering vacancies of two beds: room
    # for two more (Sch. 7), though the beds would take four
    kids = tuple(child(f"C{i}", 5 + i, home="CM1 1QH") for i in range(4))
    vacs = (
        vacancy("V1", provider_id="H", beds=2, fostered_now=1),
        vacancy("V2", provider_id="H", beds=2, fostered_now=1),
        vacancy("V3", postcode="IP1 2BX", beds=1),
    )
    folder = CaseFolder(kids, vacs)
    model = read_model(build_candidates(folder).to_files(tmp_path / "pairs.csv")["pairs"])
    result = match(folder, FAST)
    assert result.metrics.placed == 3  # the limit binds
    assert exhaustive(model) == result.objective


def test_the_demo_files_alone_give_the_optimum_of_match(tmp_path: Path) -> None:
    folder = load_case_folder(DEMO)
    paths = build_candidates(folder).to_files(tmp_path / "pairs.csv")
    assert set(paths) == {"pairs", "vacancies", "sibling_groups"}
    model = read_model(paths["pairs"])
    # the demo has what the model needs: a sibling unit, a household, a solo child
    assert model.group_of and any(s for *_, s in model.pairs)
    assert highs(model) == match(folder, FAST).objective


def test_the_files_say_what_the_model_needs(tmp_path: Path) -> None:
    folder = load_case_folder(DEMO)
    cands = build_candidates(folder)
    paths = cands.to_files(tmp_path / "pairs.csv")
    assert paths["vacancies"].name == "pairs.vacancies.csv"
    assert paths["sibling_groups"].name == "pairs.sibling_groups.csv"
    with paths["vacancies"].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["vacancy_id"] for r in rows] == [v.vacancy_id for v in folder.vacancies]
    for r, v in zip(rows, folder.vacancies, strict=True):
        assert (r["provider_id"], r["placement_type"], int(r["beds"])) == (
            v.provider_id,
            v.placement_type.value,
            v.beds,
        )
        assert (int(r["fostered_now"]), int(r["weekly_cost"])) == (v.fostered_now, v.weekly_cost)
        assert r["fostering"] == str(int(v.is_fostering))
    with paths["pairs"].open(encoding="utf-8", newline="") as fh:
        pairs = list(csv.DictReader(fh))
    cost = {v.vacancy_id: v.weekly_cost for v in folder.vacancies}
    assert all(int(r["weekly_cost"]) == cost[r["vacancy_id"]] for r in pairs)
    assert [r["solo_only"] == "1" for r in pairs] == cands.exclusive.tolist()
    with paths["sibling_groups"].open(encoding="utf-8", newline="") as fh:
        groups = list(csv.DictReader(fh))
    expected = [
        (g.sibling_group_id, c) for g in folder.sibling_groups if g.size >= 2 for c in g.child_ids
    ]
    assert [(r["sibling_group"], r["child_id"]) for r in groups] == expected
    assert {r["split_cost"] for r in groups} == {""}  # the demo keeps sibling groups whole


@pytest.mark.parametrize("cost", [0, 40])
def test_a_split_policy_puts_its_cost_in_the_sibling_groups_file(tmp_path: Path, cost: int) -> None:
    from dataclasses import replace

    demo = load_case_folder(DEMO)
    folder = replace(
        demo, policy=replace(demo.policy, allow_sibling_split=True, sibling_split_cost=cost)
    )
    paths = build_candidates(folder).to_files(tmp_path / "pairs.csv")
    model = read_model(paths["pairs"])
    assert set(model.split_cost.values()) == {cost}
