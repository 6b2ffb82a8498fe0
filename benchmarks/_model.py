"""The candidate model every matching reference solves, read from ``placematch candidates``.

:func:`model_from_export` reads the exported pairs (``CandidateSet.to_csv``: ids and ``points``)
and takes from the case folder only what the export does not carry: beds, providers,
``fostered_now``, sibling groups, ``solo_only`` and weekly costs. The per-pair facts the
metrics need (connected person, in area, unrounded distances) come from the in-memory
:class:`~matcher.candidates.CandidateSet`, row for row (the export rounds distances to 0.1).

:func:`check_full` checks an assignment against *every* constraint the matcher enforces
(eligibility, beds, sibling units, the household limit of three with the siblings exception,
``solo_only``), with the validator's semantics (``matcher.validate_result``), independently
of any solver. :func:`metrics_of` computes ``matcher.metrics``' measures from an assignment.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matcher.candidates import CandidateSet
    from matcher.domain import CaseFolder
    from matcher.optimiser import AssignmentProblem

__all__ = ["FOSTERING_LIMIT", "Model", "check_full", "metrics_of", "model_from_export"]

#: Children Act 1989 Sch. 7: at most three fostered children in a household.
FOSTERING_LIMIT = 3
WITHIN_MILES = 20.0


@dataclass(frozen=True, slots=True, eq=False)
class Model:
    """Integer candidate model with the household facts (indices, no personal data).

    Children are ``0 .. n_children - 1`` in the folder's (referral) order, vacancies
    ``0 .. n_vacancies - 1``, providers ``0 .. n_providers - 1``.
    """

    n_children: int
    beds: npt.NDArray[np.int64]  # per vacancy
    pair_child: npt.NDArray[np.int32]
    pair_vacancy: npt.NDArray[np.int32]
    pair_points: npt.NDArray[np.int64]
    vacancy_provider: npt.NDArray[np.int32]
    vacancy_fostering: npt.NDArray[np.bool_]
    provider_fostered_now: npt.NDArray[np.int64]
    sibling_groups: tuple[tuple[int, ...], ...]  # size >= 2, disjoint
    family_of_child: npt.NDArray[np.int64]  # sibling group id of any size, -1 for none
    solo_child: npt.NDArray[np.bool_]
    allow_split: bool = False
    # metric facts, per pair / per vacancy (optional for hand-made models)
    pair_distance: npt.NDArray[np.float64] | None = None  # nan without a home
    pair_school_distance: npt.NDArray[np.float64] | None = None  # nan without a school
    pair_in_area: npt.NDArray[np.bool_] | None = None
    pair_connected: npt.NDArray[np.bool_] | None = None
    vacancy_weekly_cost: npt.NDArray[np.int64] | None = None
    school_kept_miles: float = 20.0

    @property
    def n_vacancies(self) -> int:
        return len(self.beds)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_child)

    @property
    def n_providers(self) -> int:
        return len(self.provider_fostered_now)

    def pair_index(self) -> dict[tuple[int, int], int]:
        """``(child, vacancy) -> pair`` row."""
        return {
            (c, v): k
            for k, (c, v) in enumerate(
                zip(self.pair_child.tolist(), self.pair_vacancy.tolist(), strict=True)
            )
        }

    def objective(self, vacancy_of_child: npt.NDArray[np.int32]) -> int:
        """Sum of the points of the chosen pairs (no split penalties)."""
        index = self.pair_index()
        return sum(
            int(self.pair_points[index[(c, int(v))]])
            for c, v in enumerate(vacancy_of_child.tolist())
            if v >= 0
        )

    def assignment_problem(self) -> AssignmentProblem:
        """The plain ``matcher.optimiser`` problem: beds and hard sibling units only."""
        from matcher.optimiser import AssignmentProblem

        return AssignmentProblem.from_arrays(
            n_children=self.n_children,
            capacity=self.beds,
            pair_child=self.pair_child,
            pair_vacancy=self.pair_vacancy,
            pair_points=self.pair_points,
            sibling_groups=self.sibling_groups,
            split_penalty=None,
        )


def model_from_export(folder: CaseFolder, csv_path: Path, candidates: CandidateSet) -> Model:
    """Read the pairs of ``placematch candidates`` output and the folder's household facts.

    Raises
    ------
    ValueError
        If a row names an unknown child or vacancy, or the rows are not the candidate set's.
    """
    from matcher.vocabulary import Need

    child_of = {c.child_id: i for i, c in enumerate(folder.children)}
    vacancy_of = {v.vacancy_id: i for i, v in enumerate(folder.vacancies)}
    pc: list[int] = []
    pv: list[int] = []
    pts: list[int] = []
    with Path(csv_path).open(encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                pc.append(child_of[row["child_id"]])
                pv.append(vacancy_of[row["vacancy_id"]])
            except KeyError as exc:
                raise ValueError(f"{csv_path}: line {line}: unknown id {exc}") from None
            pts.append(int(row["points"]))
    pair_child = np.asarray(pc, dtype=np.int32)
    pair_vacancy = np.asarray(pv, dtype=np.int32)
    if not (
        np.array_equal(pair_child, candidates.child_index)
        and np.array_equal(pair_vacancy, candidates.vacancy_index)
    ):
        raise ValueError(f"{csv_path}: the rows are not those of the candidate set")
    provider_of = {p.provider_id: i for i, p in enumerate(folder.providers)}
    family = {g.sibling_group_id: i for i, g in enumerate(folder.sibling_groups)}
    groups = tuple(
        tuple(child_of[c] for c in g.child_ids) for g in folder.sibling_groups if g.size >= 2
    )
    return Model(
        n_children=len(folder.children),
        beds=np.asarray([v.beds for v in folder.vacancies], dtype=np.int64),
        pair_child=pair_child,
        pair_vacancy=pair_vacancy,
        pair_points=np.asarray(pts, dtype=np.int64),
        vacancy_provider=np.asarray(
            [provider_of[v.provider_id] for v in folder.vacancies], dtype=np.int32
        ),
        vacancy_fostering=np.asarray([v.is_fostering for v in folder.vacancies], dtype=bool),
        provider_fostered_now=np.asarray(
            [p.fostered_now for p in folder.providers], dtype=np.int64
        ),
        sibling_groups=groups,
        family_of_child=np.asarray(
            [family.get(c.sibling_group or "", -1) for c in folder.children], dtype=np.int64
        ),
        solo_child=np.asarray([Need.SOLO_ONLY in c.needs for c in folder.children], dtype=bool),
        allow_split=bool(folder.policy.allow_sibling_split),
        pair_distance=np.asarray(candidates.distance_miles, dtype=np.float64),
        pair_school_distance=np.asarray(candidates.school_distance_miles, dtype=np.float64),
        pair_in_area=np.asarray(candidates.in_area, dtype=bool),
        pair_connected=np.asarray(candidates.connected_person, dtype=bool),
        vacancy_weekly_cost=np.asarray([v.weekly_cost for v in folder.vacancies], dtype=np.int64),
        school_kept_miles=float(folder.policy.distance_step_miles),
    )


def split_groups(model: Model, vacancy_of_child: npt.NDArray[np.int32]) -> int:
    """Sibling groups (of two or more) not placed whole in one vacancy nor left out whole."""
    split = 0
    for group in model.sibling_groups:
        where = {int(vacancy_of_child[c]) for c in group}
        if len(where) > 1:
            split += 1
    return split


def check_full(
    model: Model, vacancy_of_child: npt.NDArray[np.int32], *, siblings: bool = True
) -> list[str]:
    """Every broken constraint of an assignment (empty: valid). ``siblings=False`` skips the
    sibling-unit check (for the greedy reference and the relaxation, which may split)."""
    errors: list[str] = []
    index = model.pair_index()
    placed_at: dict[int, list[int]] = {}
    for c, v in enumerate(vacancy_of_child.tolist()):
        if v < 0:
            continue
        if (c, v) not in index:
            errors.append(f"child {c}: vacancy {v} is not an eligible pair")
            if not 0 <= v < model.n_vacancies:
                continue
        placed_at.setdefault(v, []).append(c)
    for v, kids in placed_at.items():
        if len(kids) > model.beds[v]:
            errors.append(f"vacancy {v}: {len(kids)} placed, {model.beds[v]} beds")
    if siblings:
        for group in model.sibling_groups:
            if len({int(vacancy_of_child[c]) for c in group}) > 1:
                errors.append(f"sibling group of child {group[0]} is split")
    at_provider: dict[int, list[int]] = {}
    fostered: dict[int, list[int]] = {}
    for v, kids in placed_at.items():
        p = int(model.vacancy_provider[v])
        at_provider.setdefault(p, []).extend(kids)
        if model.vacancy_fostering[v]:
            fostered.setdefault(p, []).extend(kids)
    for p, kids in fostered.items():
        now = int(model.provider_fostered_now[p])
        if now + len(kids) > FOSTERING_LIMIT:
            families = {int(model.family_of_child[c]) for c in kids}
            if not (now == 0 and len(families) == 1 and -1 not in families):
                errors.append(f"provider {p}: {now} fostered and {len(kids)} placed, limit 3")
    for p, kids in at_provider.items():
        for c in kids:
            if not model.solo_child[c]:
                continue
            fam = int(model.family_of_child[c])
            strangers = [o for o in kids if o != c and (fam < 0 or model.family_of_child[o] != fam)]
            if strangers or model.provider_fostered_now[p] > 0:
                errors.append(f"child {c} needs a solo placement; provider {p} has others")
    return errors


def _pct(part: int, whole: int) -> float | None:
    from matcher.result import metrics_pct

    return metrics_pct(part, whole)


def metrics_of(model: Model, vacancy_of_child: npt.NDArray[np.int32]) -> dict[str, Any]:
    """``matcher.metrics.compute_metrics``' measures of an assignment, from the model's arrays
    (the same definitions and denominators; ``docs/match.md``)."""
    if (
        model.pair_distance is None
        or model.pair_school_distance is None
        or model.pair_in_area is None
        or model.pair_connected is None
        or model.vacancy_weekly_cost is None
    ):
        raise ValueError("metrics_of: the model has no metric facts (pair_distance, ...)")
    index = model.pair_index()
    rows = [(c, index[(c, int(v))]) for c, v in enumerate(vacancy_of_child.tolist()) if v >= 0]
    placed = len(rows)
    ks = np.asarray([k for _, k in rows], dtype=np.int64)
    dist = model.pair_distance[ks]
    with_home = ~np.isnan(dist)
    near = int((np.round(dist[with_home], 1) <= WITHIN_MILES).sum())
    school = model.pair_school_distance[ks]
    with_school = ~np.isnan(school)
    kept = int((school[with_school] <= model.school_kept_miles).sum())
    provider_of = {
        c: int(model.vacancy_provider[int(vacancy_of_child[c])])
        for c in range(model.n_children)
        if vacancy_of_child[c] >= 0
    }
    in_groups = together = 0
    for group in model.sibling_groups:
        in_groups += len(group)
        providers = {provider_of.get(c) for c in group}
        if len(providers) == 1 and None not in providers:
            together += len(group)
    weekly = int(model.vacancy_weekly_cost[model.pair_vacancy[ks]].sum()) if placed else 0
    return {
        "children": model.n_children,
        "placed": placed,
        "unplaced": model.n_children - placed,
        "kin_pct": _pct(int(model.pair_connected[ks].sum()), placed),
        "within_20_miles_pct": _pct(near, int(with_home.sum())),
        "in_area_pct": _pct(int(model.pair_in_area[ks].sum()), placed),
        "siblings_together_pct": _pct(together, in_groups),
        "school_kept_pct": _pct(kept, int(with_school.sum())),
        "weekly_cost": weekly,
        "sibling_splits": split_groups(model, vacancy_of_child),
    }
