"""The full matching model as one integer linear program, for HiGHS and a naive CP-SAT.

Variables: one binary ``x[k]`` per eligible pair (the export's rows), then one binary
``z[p, g]`` per (empty fostering household, sibling group larger than three that could go
there): "the siblings exception is used here". Maximise ``sum(points[k] * x[k])`` subject to

* each child at most once: ``sum_k x[k] <= 1``;
* beds: ``sum_{k at v} x[k] <= beds[v]``;
* sibling units (s22C(8)(c)), written the naive way (``benchmarks.optimiser._naive_rows``):
  per group and vacancy, the members' pairs are equal, or all zero where a member is not
  eligible;
* the household limit (Sch. 7), per fostering household ``p`` with room
  ``r = max(0, 3 - fostered_now)``:
  ``sum_{k at p's fostering vacancies} x[k] - sum_g (|g| - r) z[p, g] <= r``, with
  ``sum_g z[p, g] <= 1`` and ``|g| z[p, g] <= sum_{k of g at p} x[k]`` (the exception needs
  the whole group there, which then fills the household alone: ``fostered_now = 0`` only);
* ``solo_only`` child ``c`` at provider ``p``: nobody outside ``c``'s family there,
  ``sum_{k of others at p} x[k] + M X[c, p] <= M`` with ``X[c, p] = sum_{k of c at p} x[k]``
  and ``M`` the provider's beds; ``X[c, p] = 0`` if the provider fosters anyone already.

This is exactly what ``matcher.validate_result`` checks, so its optimum is the optimum of
``placematch match`` on the same folder (hard sibling units; no split policy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sparse

from benchmarks._model import FOSTERING_LIMIT, Model

__all__ = ["LinearModel", "linear_model"]


@dataclass(frozen=True, slots=True, eq=False)
class LinearModel:
    """``max c.x`` s.t. ``lower <= A x <= upper``, ``x`` binary."""

    objective: npt.NDArray[np.int64]
    matrix: sparse.csr_matrix
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    n_pairs: int
    rows_by_kind: dict[str, int]

    @property
    def n_vars(self) -> int:
        return len(self.objective)


class _Rows:
    def __init__(self) -> None:
        self.r: list[int] = []
        self.c: list[int] = []
        self.v: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, cols: list[int], coefs: list[float], lo: float, hi: float) -> None:
        row = len(self.lo)
        self.r.extend([row] * len(cols))
        self.c.extend(cols)
        self.v.extend(coefs)
        self.lo.append(lo)
        self.hi.append(hi)


def linear_model(model: Model) -> LinearModel:
    """Write the model's rows (see the module docstring)."""
    from benchmarks.optimiser import _naive_rows

    if model.allow_split:
        raise ValueError("linear_model: the policy allows sibling splits; only hard units here")
    rows = _Rows()
    kinds: dict[str, int] = {}
    p_child = model.pair_child.tolist()
    p_vac = model.pair_vacancy.tolist()
    by_child: dict[int, list[int]] = {}
    by_vacancy: dict[int, list[int]] = {}
    for k, (c, v) in enumerate(zip(p_child, p_vac, strict=True)):
        by_child.setdefault(c, []).append(k)
        by_vacancy.setdefault(v, []).append(k)
    for ks in by_child.values():
        rows.add(ks, [1.0] * len(ks), -np.inf, 1.0)
    kinds["child"] = len(by_child)
    before = len(rows.lo)
    for v, ks in by_vacancy.items():
        if len(ks) > model.beds[v]:
            rows.add(ks, [1.0] * len(ks), -np.inf, float(model.beds[v]))
    kinds["beds"] = len(rows.lo) - before
    before = len(rows.lo)
    for present, missing in _naive_rows(model.assignment_problem()):
        if missing:
            for k in present:
                rows.add([k], [1.0], 0.0, 0.0)
        else:
            for k in present[1:]:
                rows.add([k, present[0]], [1.0, -1.0], 0.0, 0.0)
    kinds["sibling_units"] = len(rows.lo) - before

    provider_pairs: dict[int, list[int]] = {}
    fostering_pairs: dict[int, list[int]] = {}
    for k, v in enumerate(p_vac):
        p = int(model.vacancy_provider[v])
        provider_pairs.setdefault(p, []).append(k)
        if model.vacancy_fostering[v]:
            fostering_pairs.setdefault(p, []).append(k)
    provider_beds = np.zeros(model.n_providers, dtype=np.int64)
    np.add.at(provider_beds, model.vacancy_provider, model.beds)
    fostering_beds = np.zeros(model.n_providers, dtype=np.int64)
    np.add.at(
        fostering_beds,
        model.vacancy_provider[model.vacancy_fostering],
        model.beds[model.vacancy_fostering],
    )
    group_of = {c: g for g, members in enumerate(model.sibling_groups) for c in members}
    n_vars = model.n_pairs
    before = len(rows.lo)
    for p, ks in fostering_pairs.items():
        now = int(model.provider_fostered_now[p])
        room = max(0, FOSTERING_LIMIT - now)
        if fostering_beds[p] <= room:
            continue  # the beds already keep the household within the limit
        z_of: dict[int, int] = {}
        if now == 0:
            for k in ks:
                g = group_of.get(p_child[k])
                if g is not None and len(model.sibling_groups[g]) > room and g not in z_of:
                    z_of[g] = n_vars
                    n_vars += 1
        cols = list(ks) + list(z_of.values())
        coefs = [1.0] * len(ks) + [-float(len(model.sibling_groups[g]) - room) for g in z_of]
        rows.add(cols, coefs, -np.inf, float(room))
        if z_of:
            rows.add(list(z_of.values()), [1.0] * len(z_of), -np.inf, 1.0)
            for g, z in z_of.items():
                mine = [k for k in ks if group_of.get(p_child[k]) == g]
                size = float(len(model.sibling_groups[g]))
                rows.add([z, *mine], [size] + [-1.0] * len(mine), -np.inf, 0.0)
    kinds["household"] = len(rows.lo) - before
    before = len(rows.lo)
    for c in np.flatnonzero(model.solo_child).tolist():
        fam = int(model.family_of_child[c])
        mine_by_p: dict[int, list[int]] = {}
        for k in by_child.get(c, []):
            mine_by_p.setdefault(int(model.vacancy_provider[p_vac[k]]), []).append(k)
        for p, mine in mine_by_p.items():
            if model.provider_fostered_now[p] > 0:
                for k in mine:
                    rows.add([k], [1.0], 0.0, 0.0)
                continue
            others = [
                k
                for k in provider_pairs[p]
                if p_child[k] != c and (fam < 0 or model.family_of_child[p_child[k]] != fam)
            ]
            if not others:
                continue
            big = float(provider_beds[p])
            rows.add(others + mine, [1.0] * len(others) + [big] * len(mine), -np.inf, big)
    kinds["solo_only"] = len(rows.lo) - before
    objective = np.zeros(n_vars, dtype=np.int64)
    objective[: model.n_pairs] = model.pair_points
    matrix = sparse.csr_matrix((rows.v, (rows.r, rows.c)), shape=(len(rows.lo), n_vars))
    return LinearModel(
        objective=objective,
        matrix=matrix,
        lower=np.asarray(rows.lo, dtype=np.float64),
        upper=np.asarray(rows.hi, dtype=np.float64),
        n_pairs=model.n_pairs,
        rows_by_kind=kinds,
    )
