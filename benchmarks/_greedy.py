"""Greedy first-come nearest-suitable-bed: how many councils place children today.

Children are taken in referral order (the case folder's order, by id). Each goes to the
*nearest* eligible vacancy that still has a free bed and where the household rules allow it
(the fostering limit of three with the siblings exception, ``solo_only``). A sibling group is
placed when its first member's turn comes: together, in the nearest vacancy eligible for all
of them with room for all of them; if there is none, each member is placed on its own in turn
(a split, which the metrics count). Nobody is ever moved to make room for a later child.

Nearest is the straight-line distance from home; children without a home postcode (separated
migrant children) take the eligible vacancy with the most points. Ties go to the most points,
then the first vacancy in id order. It uses the same eligible pairs as every other solver
(:class:`benchmarks._model.Model`), so its metrics sit beside placematch's.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from benchmarks._model import FOSTERING_LIMIT, Model

__all__ = ["greedy"]


class _State:
    """Beds and households as the greedy fills them."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.free = model.beds.astype(np.int64).copy()
        self.at_provider: list[list[int]] = [[] for _ in range(model.n_providers)]
        self.fostered: list[list[int]] = [[] for _ in range(model.n_providers)]

    def fits(self, v: int, kids: list[int]) -> bool:
        m = self.model
        if self.free[v] < len(kids):
            return False
        p = int(m.vacancy_provider[v])
        now = int(m.provider_fostered_now[p])
        if m.vacancy_fostering[v]:
            fostered = self.fostered[p] + kids
            if now + len(fostered) > FOSTERING_LIMIT:
                families = {int(m.family_of_child[c]) for c in fostered}
                if not (now == 0 and len(families) == 1 and -1 not in families):
                    return False
        everyone = self.at_provider[p] + kids
        for c in everyone:
            if not m.solo_child[c]:
                continue
            if now > 0:
                return False
            fam = int(m.family_of_child[c])
            if any(o != c and (fam < 0 or m.family_of_child[o] != fam) for o in everyone):
                return False
        return True

    def place(self, v: int, kids: list[int], vacancy_of_child: npt.NDArray[np.int32]) -> None:
        p = int(self.model.vacancy_provider[v])
        self.free[v] -= len(kids)
        self.at_provider[p].extend(kids)
        if self.model.vacancy_fostering[v]:
            self.fostered[p].extend(kids)
        for c in kids:
            vacancy_of_child[c] = v


def _distance(model: Model, k: int) -> float:
    if model.pair_distance is None:
        return math.inf
    d = float(model.pair_distance[k])
    return math.inf if d != d else d


def greedy(model: Model) -> npt.NDArray[np.int32]:
    """Place children first come, nearest suitable bed; returns the vacancy of each child
    (``-1``: unplaced)."""
    pairs_of: list[dict[int, int]] = [{} for _ in range(model.n_children)]
    for k, (c, v) in enumerate(
        zip(model.pair_child.tolist(), model.pair_vacancy.tolist(), strict=True)
    ):
        pairs_of[c][v] = k
    group_of: dict[int, tuple[int, ...]] = {c: g for g in model.sibling_groups for c in g}
    state = _State(model)
    vacancy_of_child = np.full(model.n_children, -1, dtype=np.int32)
    done = np.zeros(model.n_children, dtype=bool)

    def single(c: int) -> None:
        order = sorted(
            pairs_of[c].items(),
            key=lambda vk: (_distance(model, vk[1]), -int(model.pair_points[vk[1]]), vk[0]),
        )
        for v, _ in order:
            if state.fits(v, [c]):
                state.place(v, [c], vacancy_of_child)
                return

    for c in range(model.n_children):
        if done[c]:
            continue
        group = group_of.get(c)
        if group is None:
            done[c] = True
            single(c)
            continue
        members = list(group)
        done[members] = True
        shared = set(pairs_of[members[0]])
        for o in members[1:]:
            shared &= set(pairs_of[o])

        def key(v: int, members: list[int] = members) -> tuple[float, int, int]:
            ks = [pairs_of[o][v] for o in members]
            return (
                max(_distance(model, k) for k in ks),
                -sum(int(model.pair_points[k]) for k in ks),
                v,
            )

        for v in sorted(shared, key=key):
            if state.fits(v, members):
                state.place(v, members, vacancy_of_child)
                break
        else:
            for o in members:
                single(o)
    return vacancy_of_child
