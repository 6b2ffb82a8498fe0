"""Helpers for the match tests: tiny case folders and an exhaustive search.

The exhaustive search is a third, independent statement of a valid match: it scores pairs
with the per-pair path (:func:`matcher.candidates.explain_pair`), not the batch candidates,
and checks beds, households and sibling groups in plain Python.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from hypothesis import strategies as st

from geography import locate
from geography.authorities import resolve_authority
from matcher.candidates import explain_pair
from matcher.domain import FOSTERING_LIMIT, CaseFolder, Child, Vacancy
from matcher.explain import Option
from matcher.placement_types import PlacementType
from matcher.policy import Policy
from matcher.vocabulary import Need, Ofsted, Sex, VacancySex

#: Real postcodes in and around Essex (places, not people: synthetic children only).
POSTCODES = ("CM2 0HU", "CM1 1QH", "CO4 3SQ", "SS14 1DL", "SS13 3EB", "IP1 2BX", "RM17 6SL")


def child(
    child_id: str,
    age: int = 10,
    *,
    sex: str = "F",
    home: str | None = "CM2 0HU",
    sibling_group: str | None = None,
    needs: frozenset[Need] = frozenset(),
) -> Child:
    """A synthetic Essex child."""
    return Child(
        child_id=child_id,
        age=age,
        sex=Sex(sex),
        authority=resolve_authority("Essex"),
        home=None if home is None else locate(home),
        sibling_group=sibling_group,
        needs=needs,
    )


def vacancy(
    vacancy_id: str,
    *,
    provider_id: str | None = None,
    placement_type: PlacementType = PlacementType.INHOUSE_FOSTER,
    postcode: str = "CM1 1QH",
    beds: int = 1,
    age_min: int = 0,
    age_max: int = 17,
    fostered_now: int = 0,
    connected_to: frozenset[str] = frozenset(),
    capabilities: frozenset[Need] = frozenset(),
    weekly_cost: int = 500,
) -> Vacancy:
    """A synthetic vacancy (its own provider unless one is given)."""
    return Vacancy(
        vacancy_id=vacancy_id,
        provider_id=provider_id or f"P-{vacancy_id}",
        placement_type=placement_type,
        location=locate(postcode),
        beds=beds,
        age_min=age_min,
        age_max=age_max,
        sex=VacancySex("any"),
        # Supported accommodation has its own Ofsted scale; outcome 1 scores as good does.
        ofsted=Ofsted(
            "consistently_strong"
            if placement_type is PlacementType.SUPPORTED_ACCOMMODATION
            else "good"
        ),
        weekly_cost=weekly_cost,
        capabilities=capabilities,
        connected_to=connected_to,
        fostered_now=fostered_now,
    )


@dataclass(frozen=True)
class Brute:
    """The exhaustive optimum: objective, then children placed and with kin."""

    objective: int
    placed: int
    kin: int


def _valid(folder: CaseFolder, choice: tuple[int, ...]) -> bool:
    children, vacancies = folder.children, folder.vacancies
    used = Counter(v for v in choice if v >= 0)
    if any(used[v] > vacancies[v].beds for v in used):
        return False
    for provider in folder.providers:
        ids = {v.vacancy_id for v in provider.vacancies}
        here = [i for i, v in enumerate(choice) if v >= 0 and vacancies[v].vacancy_id in ids]
        fostered = [i for i in here if vacancies[choice[i]].is_fostering]
        if provider.fostered_now + len(fostered) > FOSTERING_LIMIT:
            groups = {children[i].sibling_group for i in fostered}
            if not (provider.fostered_now == 0 and len(groups) == 1 and None not in groups):
                return False
        for i in here:
            if Need.SOLO_ONLY in children[i].needs:
                g = children[i].sibling_group
                if provider.fostered_now > 0:
                    return False
                if any(j != i and (g is None or children[j].sibling_group != g) for j in here):
                    return False
    if not folder.policy.allow_sibling_split:
        index = {c.child_id: i for i, c in enumerate(children)}
        for group in folder.sibling_groups:
            if group.size >= 2 and len({choice[index[c]] for c in group.child_ids}) > 1:
                return False
    return True


def _penalty(folder: CaseFolder, choice: tuple[int, ...]) -> int:
    if not folder.policy.allow_sibling_split:
        return 0
    index = {c.child_id: i for i, c in enumerate(folder.children)}
    total = 0
    for group in folder.sibling_groups:
        if group.size < 2:
            continue
        where = [choice[index[c]] for c in group.child_ids]
        placed = [v for v in where if v >= 0]
        if placed:
            total += (len(set(placed)) - 1) + (len(where) - len(placed))
    return total * folder.policy.sibling_split_cost


def options_by_pair(folder: CaseFolder) -> dict[tuple[int, int], Option]:
    """Every eligible pair by the per-pair path, keyed by (child index, vacancy index)."""
    out = {}
    for i, c in enumerate(folder.children):
        for j, v in enumerate(folder.vacancies):
            found = explain_pair(folder, c, v)
            if isinstance(found, Option):
                out[(i, j)] = found
    return out


def brute_force(folder: CaseFolder) -> Brute:
    """Try every assignment of the (at most six) children; the best valid one."""
    assert len(folder.children) <= 6
    options = options_by_pair(folder)
    choices = [
        [-1] + [j for j in range(len(folder.vacancies)) if (i, j) in options]
        for i in range(len(folder.children))
    ]
    best: Brute | None = None
    for choice in itertools.product(*choices):
        if not _valid(folder, choice):
            continue
        placed = [(i, v) for i, v in enumerate(choice) if v >= 0]
        value = sum(options[p].objective_points for p in placed) - _penalty(folder, choice)
        kin = sum(options[p].connected_person for p in placed)
        candidate = Brute(value, len(placed), kin)
        if best is None or candidate.objective > best.objective:
            best = candidate
    assert best is not None
    return best


@st.composite
def tiny_folders(draw: st.DrawFn, max_children: int = 5, max_vacancies: int = 4) -> CaseFolder:
    """Small valid case folders: siblings, shared households, kin carers, solo children."""
    n_c = draw(st.integers(1, max_children))
    kids = []
    for i in range(n_c):
        needs = draw(
            st.sampled_from([frozenset(), frozenset(), frozenset(), frozenset({Need.SOLO_ONLY})])
        )
        kids.append(
            child(
                f"C{i}",
                draw(st.integers(0, 17)),
                sex=draw(st.sampled_from(["M", "F"])),
                home=draw(st.sampled_from(POSTCODES)),
                sibling_group=draw(st.sampled_from([None, None, "G1", "G2"])),
                needs=needs,
            )
        )
    ids = [c.child_id for c in kids]
    n_p = draw(st.integers(1, 3))
    provider_postcode = [draw(st.sampled_from(POSTCODES)) for _ in range(n_p)]
    provider_fostered = [draw(st.sampled_from([0, 0, 1, 2, 3])) for _ in range(n_p)]
    types = [
        PlacementType.INHOUSE_FOSTER,
        PlacementType.AGENCY_FOSTER,
        PlacementType.CONNECTED_PERSON_FOSTER,
        PlacementType.CHILDRENS_HOME,
        PlacementType.SUPPORTED_ACCOMMODATION,
    ]
    vacs = []
    for j in range(draw(st.integers(1, max_vacancies))):
        p = draw(st.integers(0, n_p - 1))
        kind = draw(st.sampled_from(types))
        if kind is PlacementType.SUPPORTED_ACCOMMODATION:
            low = 16
        else:
            low = draw(st.sampled_from([0, 0, 0, 5, 10, 16]))
        connected = frozenset()
        if kind is PlacementType.CONNECTED_PERSON_FOSTER:
            connected = frozenset(draw(st.sets(st.sampled_from(ids), min_size=1, max_size=2)))
        vacs.append(
            vacancy(
                f"V{j}",
                provider_id=f"P{p}",
                placement_type=kind,
                postcode=provider_postcode[p],
                beds=draw(st.integers(1, 3)),
                age_min=low,
                age_max=draw(st.sampled_from([17, 17, 25, min(low + 5, 25)])),
                fostered_now=provider_fostered[p],
                connected_to=connected,
                capabilities=frozenset(
                    draw(st.sets(st.sampled_from([Need.SOLO_ONLY, Need.SIBLING_GROUP]), max_size=2))
                ),
                weekly_cost=draw(st.integers(0, 3000)),
            )
        )
    split = draw(st.booleans())
    policy = Policy(allow_sibling_split=split, sibling_split_cost=draw(st.integers(0, 300)))
    return CaseFolder(tuple(kids), tuple(vacs), policy)
