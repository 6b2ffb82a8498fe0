"""Trust: an independent MIP over the exported candidate points reaches match's value.

The issue's promise: maximising the sum of ``points`` of ``placematch candidates`` subject
to beds, one vacancy per child and sibling groups as units gives exactly the objective that
``match`` reports. Here HiGHS (``scipy.optimize.milp``, a dev dependency) solves that model
from the candidates CSV alone, with the household limit of three (and its siblings
exception) and solo-only children written as linear constraints of its own.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from matcher.candidates import build_candidates
from matcher.casefolder import load_case_folder
from matcher.domain import FOSTERING_LIMIT, CaseFolder
from matcher.match import match
from matcher.optimiser import SolverParameters
from matcher.vocabulary import Need
from placematch.cli import main

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def _mip_optimum(folder: CaseFolder, candidates_csv: Path) -> int:
    with candidates_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    n = len(rows)
    points = np.array([int(r["points"]) for r in rows], dtype=float)
    rows_a: list[int] = []
    cols_a: list[int] = []
    vals_a: list[float] = []
    upper: list[float] = []
    lower: list[float] = []

    def add(coefs: dict[int, float], lo: float, hi: float) -> None:
        r = len(upper)
        for k, value in coefs.items():
            rows_a.append(r)
            cols_a.append(k)
            vals_a.append(value)
        lower.append(lo)
        upper.append(hi)

    by_child: dict[str, list[int]] = defaultdict(list)
    by_vacancy: dict[str, list[int]] = defaultdict(list)
    pair: dict[tuple[str, str], int] = {}
    for k, r in enumerate(rows):
        by_child[r["child_id"]].append(k)
        by_vacancy[r["vacancy_id"]].append(k)
        pair[(r["child_id"], r["vacancy_id"])] = k
    for ks in by_child.values():
        add(dict.fromkeys(ks, 1.0), 0, 1)
    for vid, ks in by_vacancy.items():
        add(dict.fromkeys(ks, 1.0), 0, folder.vacancy(vid).beds)
    # Household limit: at most `room` children across a fostering household's vacancies,
    # unless one sibling group larger than the room fills an empty household alone (binary
    # y[p, g] per such group, after the pair variables).
    group_of = {c.child_id: c.sibling_group for c in folder.children}
    sizes = {g.sibling_group_id: g.size for g in folder.sibling_groups}
    extra = 0
    for provider in folder.providers:
        if not provider.is_fostering:
            continue
        ks = [k for v in provider.vacancies if v.is_fostering for k in by_vacancy[v.vacancy_id]]
        if not ks:
            continue
        room = max(0, FOSTERING_LIMIT - provider.fostered_now)
        groups = sorted({group_of[rows[k]["child_id"]] for k in ks} - {None})
        big = [
            g for g in groups if g is not None and sizes[g] > room and provider.fostered_now == 0
        ]
        ys = {g: n + extra + i for i, g in enumerate(big)}
        extra += len(big)
        # sum x <= room + sum (size_g - room) * y_g
        add({**dict.fromkeys(ks, 1.0), **{ys[g]: -(sizes[g] - room) for g in big}}, -np.inf, room)
        if big:
            add(dict.fromkeys(ys.values(), 1.0), 0, 1)
        beds = sum(v.beds for v in provider.vacancies if v.is_fostering)
        for g in big:
            others = [k for k in ks if group_of[rows[k]["child_id"]] != g]
            # y_g = 1 -> nobody outside g in this household
            add({**dict.fromkeys(others, 1.0), ys[g]: float(beds)}, -np.inf, beds)
    # A solo-only child: nobody but its siblings in its household.
    solo = {c.child_id for c in folder.children if Need.SOLO_ONLY in c.needs}
    for provider in folder.providers:
        ks = [k for v in provider.vacancies for k in by_vacancy[v.vacancy_id]]
        beds = float(sum(v.beds for v in provider.vacancies))
        for cid in sorted({rows[k]["child_id"] for k in ks} & solo):
            mine = [k for k in ks if rows[k]["child_id"] == cid]
            family = group_of[cid]
            others = [
                k
                for k in ks
                if rows[k]["child_id"] != cid
                and (family is None or group_of[rows[k]["child_id"]] != family)
            ]
            if others:
                add({**dict.fromkeys(others, 1.0), **dict.fromkeys(mine, beds)}, -np.inf, beds)
    fixed_zero: set[int] = set()
    for group in folder.sibling_groups:
        if group.size < 2:
            continue
        first, *others = group.child_ids
        vacancies = {vid for (cid, vid) in pair if cid in group.child_ids}
        for vid in vacancies:
            ks = [pair.get((c, vid)) for c in group.child_ids]
            if any(k is None for k in ks):
                fixed_zero.update(k for k in ks if k is not None)
                continue
            head = pair[(first, vid)]
            for c in others:
                add({head: 1.0, pair[(c, vid)]: -1.0}, 0, 0)
    total = n + extra
    ub = np.ones(total)
    ub[list(fixed_zero)] = 0
    matrix = coo_array((vals_a, (rows_a, cols_a)), shape=(len(upper), total)).tocsr()
    res = milp(
        -np.concatenate([points, np.zeros(extra)]),
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=np.ones(total),
        bounds=Bounds(np.zeros(total), ub),
        options={"mip_rel_gap": 0.0},
    )
    assert res.success, res.message
    return round(-res.fun)


@pytest.mark.parametrize("seed", [1, 2])
def test_mip_over_candidate_points_agrees(tmp_path: Path, seed: int) -> None:
    folder_dir = tmp_path / "essex"
    assert (
        main(
            [
                "synth",
                "--la",
                "Essex",
                "--seed",
                str(seed),
                "--referrals",
                "120",
                "--out",
                str(folder_dir),
            ]
        )
        == 0
    )
    folder = load_case_folder(folder_dir)
    cands = build_candidates(folder)
    csv_path = cands.to_csv(tmp_path / "candidates.csv")
    result = match(folder, SolverParameters(time_limit_s=20, seed=0), candidates=cands)
    assert result.status == "optimal"
    assert _mip_optimum(folder, csv_path) == result.objective


def test_mip_agrees_on_the_demo(tmp_path: Path) -> None:
    folder = load_case_folder(DEMO)
    cands = build_candidates(folder)
    result = match(folder, SolverParameters(time_limit_s=10), candidates=cands)
    assert _mip_optimum(folder, cands.to_csv(tmp_path / "c.csv")) == result.objective
