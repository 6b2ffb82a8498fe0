"""Seeded random assignment problems shaped like a county's (for benchmarks and tests).

Synthetic only: points in a 60 x 50 mile box, children clustered around towns, sibling
groups sharing a home, vacancies of three kinds (fostering, children's homes,
supported accommodation), each with 1-6 beds. A pair is eligible when the
kinds match and a random suitability test passes, keeping the nearest pairs until the
requested number. Points are a distance-decay score, ``10,000 * exp(-miles / 8)`` plus
2,000 within 20 miles plus up to 500 for other factors (kin pairs 8,000-12,500), optionally
on top of the statutory bases ``PLACED + CONNECTED (kin pairs only)`` that make the
order lexicographic.
"""

from __future__ import annotations

import numpy as np

from matcher.optimiser.problem import AssignmentProblem

__all__ = ["ESSEX", "SMOKE", "random_problem"]

#: The Essex-sized tier the project's design measured first (1,131 children, 155 sibling
#: groups, 1,074 vacancies).
ESSEX = {"n_children": 1131, "n_groups": 155, "n_vacancies": 1074, "n_pairs": 227_052}
#: A small tier for quick runs.
SMOKE = {"n_children": 50, "n_groups": 7, "n_vacancies": 48, "n_pairs": 1_000}

_SCORE_MAX = 12_500


def random_problem(
    n_children: int,
    n_groups: int,
    n_vacancies: int,
    n_pairs: int,
    *,
    seed: int = 0,
    split_penalty: int | None = None,
    kin_share: float = 0.03,
    statutory_bases: bool = False,
) -> AssignmentProblem:
    """Generate a seeded random problem.

    Parameters
    ----------
    n_children, n_groups, n_vacancies
        Sizes; groups have 2-4 children (about 45 % of 2, 35 % of 3, 20 % of 4).
    n_pairs
        Target number of eligible pairs (reached exactly when enough candidates exist).
    seed
        numpy ``default_rng`` seed.
    split_penalty
        Passed to the problem.
    kin_share
        Share of children with a connected-person carer (one extra vacancy with 1-2 beds
        eligible for that child, or for its whole sibling group).
    statutory_bases
        Add the lexicographic bases (placed, connected person) to the points, as the
        matcher does. Without them (the default, as in the design's first measurements)
        points are the distance-decay score, and kin pairs score 8,000-12,500.
    """
    rng = np.random.default_rng(seed)
    sizes = rng.choice([2, 3, 4], size=n_groups, p=[0.45, 0.35, 0.2])
    while sizes.sum() > n_children // 2 and len(sizes):
        sizes = sizes[:-1]
    towns = rng.uniform([0, 0], [60, 50], size=(8, 2))
    # homes: one per single child or sibling group
    n_homes = n_children - int(sizes.sum()) + len(sizes)
    home_town = rng.integers(0, len(towns), size=n_homes)
    homes = towns[home_town] + rng.normal(0, 4, size=(n_homes, 2))
    home_of_child = np.concatenate(
        [np.repeat(np.arange(len(sizes)), sizes), np.arange(len(sizes), n_homes)]
    )
    order = rng.permutation(n_children)  # groups are not the first children
    home_of_child = home_of_child[order]
    groups = [tuple(np.flatnonzero(home_of_child == g).tolist()) for g in range(len(sizes))]
    child_xy = homes[home_of_child] + rng.normal(0, 0.3, size=(n_children, 2))
    # kind: 0 fostering, 1 residential, 2 supported; siblings share the kind
    home_kind = rng.choice(3, size=n_homes, p=[0.72, 0.13, 0.15])
    child_kind = home_kind[home_of_child]

    n_kin = round(kin_share * n_homes)
    n_general = max(n_vacancies - n_kin, 1)
    n_kin = n_vacancies - n_general
    vac_kind = rng.choice(3, size=n_general, p=[0.66, 0.14, 0.20])
    beds = rng.integers(1, 7, size=n_general).astype(np.int64)  # 1-6 beds
    vac_xy = np.where(
        rng.random((n_general, 1)) < 0.7,
        towns[rng.integers(0, len(towns), n_general)] + rng.normal(0, 6, size=(n_general, 2)),
        rng.uniform([0, 0], [60, 50], size=(n_general, 2)),
    )
    miles = np.hypot(
        child_xy[:, None, 0] - vac_xy[None, :, 0], child_xy[:, None, 1] - vac_xy[None, :, 1]
    )
    # suitability shared by siblings (same home), with a little individual noise
    suit = rng.random((n_homes, n_general))[home_of_child] + rng.normal(
        0, 0.05, size=(n_children, n_general)
    )
    candidate = (child_kind[:, None] == vac_kind[None, :]) & (suit > 0.3)
    # connected-person carers: one vacancy for one home (a child or a whole group)
    kin_homes = rng.choice(n_homes, size=n_kin, replace=False) if n_kin else np.zeros(0, int)
    kin_c: list[int] = []
    kin_v: list[int] = []
    kin_beds = np.empty(n_kin, dtype=np.int64)
    for k, h in enumerate(kin_homes.tolist()):
        members = np.flatnonzero(home_of_child == h).tolist()
        kin_beds[k] = max(len(members), int(rng.integers(1, 3)))
        for c in members:
            kin_c.append(c)
            kin_v.append(n_general + k)
    # keep the nearest candidates (noisy distance) until n_pairs
    n_general_pairs = max(n_pairs - len(kin_c), 0)
    rank = np.where(candidate, miles * rng.uniform(0.8, 1.25, size=miles.shape), np.inf)
    flat = rank.ravel()
    if n_general_pairs < np.isfinite(flat).sum():
        cut = np.partition(flat, n_general_pairs)[n_general_pairs]
        chosen = np.flatnonzero(flat < cut)[:n_general_pairs]
    else:
        chosen = np.flatnonzero(np.isfinite(flat))
    pc, pv = np.divmod(chosen, n_general)
    d = miles[pc, pv]
    score = (
        10_000 * np.exp(-d / 8.0) + 2_000 * (d <= 20) + rng.integers(0, 501, size=len(d))
    ).astype(np.int64)
    connected = _SCORE_MAX * n_children + 1 if statutory_bases else 0
    placed = (connected + _SCORE_MAX) * n_children + 1 if statutory_bases else 0
    points = placed + score

    kin_points = placed + connected + rng.integers(8_000, _SCORE_MAX, size=len(kin_c))
    problem_pairs_c = np.concatenate([pc, np.array(kin_c, dtype=np.int64)])
    problem_pairs_v = np.concatenate([pv, np.array(kin_v, dtype=np.int64)])
    problem_points = np.concatenate([points, kin_points.astype(np.int64)])
    shuffle = rng.permutation(len(problem_pairs_c))
    return AssignmentProblem(
        n_children=n_children,
        capacity=np.concatenate([beds, kin_beds]),
        pair_child=problem_pairs_c[shuffle].astype(np.int32),
        pair_vacancy=problem_pairs_v[shuffle].astype(np.int32),
        pair_points=problem_points[shuffle].astype(np.int64),
        sibling_groups=tuple(groups),
        split_penalty=split_penalty,
    )
