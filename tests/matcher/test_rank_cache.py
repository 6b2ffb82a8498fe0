"""rank_child's per-folder cache and deferred sentences (hypothesis and the demo folder).

* a warm ranking (the folder's vacancy arrays already built) equals a cold one, and a folder
  made from another (``dataclasses.replace``, a pickle) never reuses its cache;
* the vacancy arrays are built once per folder, not once per call;
* the deferred sentences are exactly those the factors and rules give when asked at once;
* the vectorised pieces agree with the per-pair ones (sign-offs, sorted membership).
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_candidates_properties import folders, policy_st

from matcher import rank as rank_module
from matcher.candidates import factor_matrix, signoff_codes, signoff_flags
from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.explain import Deferred, Ranking
from matcher.factors import factors_for
from matcher.factors.base import FolderArrays, Pairs, VacancyArrays, in_sorted
from matcher.policy import Policy
from matcher.rank import rank_child, why_not
from matcher.rules import DEFAULT_RULES, evaluate_rules

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def _fresh(folder: CaseFolder, policy: Policy | None = None) -> CaseFolder:
    """An equal folder object (every field: children, vacancies, policy, residents,
    answers...) with nothing cached."""
    return dataclasses.replace(folder, policy=policy or folder.policy)


def _everything(r: Ranking) -> tuple[object, ...]:
    """Every number and every sentence of a ranking."""
    return (
        r.to_dict(),
        r.summary(),
        repr(r),
        [(o.child_id, o.vacancy_id, o.signoffs, o.factors) for o in r.options],
        [(e.child_id, e.vacancy_id, e.rule, e.source, e.reason) for e in r.exclusions],
    )


def _eager(folder: CaseFolder, child_id: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The sentences as the factors and rules give them at once: per eligible vacancy its
    factors' reasons, per excluded vacancy its first rule's reason (arrays built afresh)."""
    child = folder.child(child_id)
    members = [child]
    if child.sibling_group is not None and not folder.policy.allow_sibling_split:
        members += [folder.child(c) for c in folder.siblings_of(child_id)]
    arrays = FolderArrays.build(folder, members)
    n_v = arrays.n_vacancies
    pairs = Pairs(
        arrays, np.repeat(np.arange(len(members)), n_v), np.tile(np.arange(n_v), len(members))
    )
    result = evaluate_rules(pairs)
    first = result.first[:n_v]
    mine = pairs.subset(np.flatnonzero(first < 0))
    points = factor_matrix(mine)
    reasons = {
        mine.vacancy(r).vacancy_id: [
            f.reason(mine, r, int(points[r, j])) for j, f in enumerate(factors_for(folder))
        ]
        for r in range(len(mine))
    }
    excluded = {
        pairs.vacancy(k).vacancy_id: DEFAULT_RULES[int(first[k])].reason(pairs, k)
        for k in np.flatnonzero(first >= 0).tolist()
    }
    return reasons, excluded


@given(folders(), st.integers(0, 3))
def test_warm_ranking_equals_cold(folder: CaseFolder, top: int) -> None:
    for c in folder.children:
        rank_child(folder, c.child_id)  # warms the folder's cache
    for c in folder.children:
        warm = rank_child(folder, c.child_id, top or None)
        cold = rank_child(_fresh(folder), c.child_id, top or None)
        assert _everything(warm) == _everything(cold)
        assert warm == cold


@given(folders(), policy_st())
def test_a_replaced_folder_does_not_reuse_the_cache(folder: CaseFolder, policy: Policy) -> None:
    for c in folder.children:
        rank_child(folder, c.child_id)
    other = dataclasses.replace(folder, policy=policy)
    for c in folder.children:
        got = rank_child(other, c.child_id)
        assert _everything(got) == _everything(rank_child(_fresh(folder, policy), c.child_id))


@given(folders())
def test_deferred_sentences_are_the_eager_ones(folder: CaseFolder) -> None:
    for c in folder.children:
        ranking = rank_child(folder, c.child_id)
        reasons, excluded = _eager(folder, c.child_id)
        assert {o.vacancy_id: [f.reason for f in o.factors] for o in ranking.options} == reasons
        assert {e.vacancy_id: e.reason for e in ranking.exclusions} == excluded
        for v in folder.vacancies:
            answer = why_not(folder, c.child_id, v.vacancy_id)
            if answer.option is not None:
                assert [f.reason for f in answer.option.factors] == reasons[v.vacancy_id]


@given(folders())
def test_vectorised_signoffs_agree_with_the_per_pair_test(folder: CaseFolder) -> None:
    arrays = FolderArrays.build(folder)
    n_c, n_v = arrays.n_children, arrays.n_vacancies
    pairs = Pairs(arrays, np.repeat(np.arange(n_c), n_v), np.tile(np.arange(n_v), n_c))
    flags = signoff_flags(pairs)
    codes = ("out_of_area", "not_adjoining", "ks4_school_move", "fostering_limit_exemption")
    codes += ("connected_person_temporary_approval",)
    for k in range(len(pairs)):
        assert tuple(c for c, on in zip(codes, flags[k], strict=True) if on) == signoff_codes(
            pairs, k
        )


@given(folders())
def test_arrays_on_cached_vacancy_arrays_equal_a_fresh_build(folder: CaseFolder) -> None:
    shared = VacancyArrays.build(folder)
    for c in folder.children:
        a = FolderArrays.build(folder, [c])
        b = FolderArrays.build(folder, [c], vacancy_arrays=shared)
        for f in dataclasses.fields(FolderArrays):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(x, np.ndarray):
                assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f.name
            else:
                assert x == y, f.name


@given(
    st.lists(st.integers(-50, 50), max_size=30),
    st.sets(st.integers(-50, 50), max_size=30),
)
def test_in_sorted_is_isin(values: list[int], keys: set[int]) -> None:
    v = np.asarray(values, dtype=np.int64)
    k = np.asarray(sorted(keys), dtype=np.int64)
    assert np.array_equal(in_sorted(v, k), np.isin(v, k))


@pytest.fixture()
def demo() -> CaseFolder:
    return load_case_folder(DEMO)


def test_vacancy_arrays_are_built_once_per_folder(
    demo: CaseFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    real = VacancyArrays.build

    def counting(folder: CaseFolder, vacancies: object = None) -> VacancyArrays:
        built.append(id(folder))
        return real(folder, vacancies)  # type: ignore[arg-type]

    monkeypatch.setattr(rank_module.VacancyArrays, "build", counting)
    for c in demo.children:
        rank_child(demo, c.child_id)
        why_not(demo, c.child_id, demo.vacancies[0].vacancy_id)
    assert built == [id(demo)]
    other = _fresh(demo)
    rank_child(other, demo.children[0].child_id)
    assert built == [id(demo), id(other)]


def test_a_pickled_folder_builds_its_own_cache(demo: CaseFolder) -> None:
    before = rank_child(demo, "C07")
    again = pickle.loads(pickle.dumps(demo))
    assert again == demo
    assert again.derived(rank_module._tables) is not demo.derived(rank_module._tables)
    assert _everything(rank_child(again, "C07")) == _everything(before)


def test_a_pickled_ranking_holds_its_text(demo: CaseFolder) -> None:
    r = rank_child(demo, "C07")
    back = pickle.loads(pickle.dumps(r))
    assert _everything(back) == _everything(r)
    assert isinstance(back._options, tuple)
    assert isinstance(back.options[0].factors[0]._reason, str)


def test_deferred_is_made_once_and_compares_by_value() -> None:
    calls: list[int] = []

    def make() -> str:
        calls.append(1)
        return "text"

    d = Deferred(make)
    assert calls == []
    assert d == "text" and d.get() == "text" and hash(d) == hash("text")
    assert calls == [1]
    assert Deferred(lambda: "a") != Deferred(lambda: "b")
