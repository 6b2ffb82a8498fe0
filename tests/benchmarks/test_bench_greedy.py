"""The greedy reference, the full model's rows and the constraint checker of the benchmarks."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks._greedy import greedy
from benchmarks._mip import linear_model
from benchmarks._model import Model, check_full, metrics_of, model_from_export, split_groups
from benchmarks.matching import run_highs

ROOT = Path(__file__).resolve().parents[2]


def make(
    pairs: list[tuple[int, int, int, float]],
    beds: list[int],
    *,
    n_children: int,
    provider: list[int] | None = None,
    fostering: list[bool] | None = None,
    fostered_now: list[int] | None = None,
    groups: tuple[tuple[int, ...], ...] = (),
    solo: tuple[int, ...] = (),
) -> Model:
    """A hand-made model: pairs are (child, vacancy, points, miles)."""
    n_v = len(beds)
    provider = provider if provider is not None else list(range(n_v))
    n_p = max(provider) + 1 if provider else 0
    family = np.full(n_children, -1, dtype=np.int64)
    for g, members in enumerate(groups):
        family[list(members)] = g
    return Model(
        n_children=n_children,
        beds=np.asarray(beds, dtype=np.int64),
        pair_child=np.asarray([p[0] for p in pairs], dtype=np.int32),
        pair_vacancy=np.asarray([p[1] for p in pairs], dtype=np.int32),
        pair_points=np.asarray([p[2] for p in pairs], dtype=np.int64),
        vacancy_provider=np.asarray(provider, dtype=np.int32),
        vacancy_fostering=np.asarray(fostering or [False] * n_v, dtype=bool),
        provider_fostered_now=np.asarray(fostered_now or [0] * n_p, dtype=np.int64),
        sibling_groups=groups,
        family_of_child=family,
        solo_child=np.isin(np.arange(n_children), list(solo)),
        pair_distance=np.asarray([p[3] for p in pairs], dtype=np.float64),
        pair_school_distance=np.full(len(pairs), np.nan),
        pair_in_area=np.ones(len(pairs), dtype=bool),
        pair_connected=np.zeros(len(pairs), dtype=bool),
        vacancy_weekly_cost=np.full(n_v, 100, dtype=np.int64),
    )


def test_greedy_first_come_takes_the_nearest_bed() -> None:
    # child 0 comes first and takes the nearer vacancy 1, although child 1 can only go there
    m = make([(0, 0, 50, 9.0), (0, 1, 50, 2.0), (1, 1, 80, 1.0)], [1, 1], n_children=2)
    assert greedy(m).tolist() == [1, -1]


def test_greedy_nan_distance_takes_the_most_points() -> None:
    m = make([(0, 0, 10, np.nan), (0, 1, 90, np.nan)], [1, 1], n_children=1)
    assert greedy(m).tolist() == [1]


def test_greedy_keeps_siblings_together_when_a_vacancy_fits() -> None:
    # the nearest vacancy has one bed only; the group goes whole to the two-bed one
    pairs = [(0, 0, 50, 1.0), (1, 0, 50, 1.0), (0, 1, 40, 5.0), (1, 1, 40, 5.0)]
    m = make(pairs, [1, 2], n_children=2, groups=((0, 1),))
    assert greedy(m).tolist() == [1, 1]
    assert split_groups(m, greedy(m)) == 0


def test_greedy_splits_when_no_vacancy_fits_the_group() -> None:
    pairs = [(0, 0, 50, 1.0), (1, 1, 50, 1.0)]
    m = make(pairs, [1, 1], n_children=2, groups=((0, 1),))
    out = greedy(m)
    assert out.tolist() == [0, 1]
    assert split_groups(m, out) == 1
    assert metrics_of(m, out)["siblings_together_pct"] == 0.0


def test_greedy_respects_the_household_limit_and_the_siblings_exception() -> None:
    # one fostering household (provider 0) with two vacancies of 2 beds, fostering 1 already:
    # room 2, so the third child goes elsewhere
    pairs = [(c, v, 50, 1.0) for c in range(3) for v in (0, 1)] + [(2, 2, 10, 30.0)]
    m = make(
        pairs,
        [2, 2, 1],
        n_children=3,
        provider=[0, 0, 1],
        fostering=[True, True, False],
        fostered_now=[1, 0],
    )
    assert greedy(m).tolist() == [0, 0, 2]
    # an empty household takes a group of four alone (the exception)
    pairs = [(c, 0, 50, 1.0) for c in range(4)]
    m = make(pairs, [4], n_children=4, fostering=[True], groups=((0, 1, 2, 3),))
    assert greedy(m).tolist() == [0, 0, 0, 0]
    assert check_full(m, greedy(m)) == []


def test_greedy_keeps_a_solo_child_alone() -> None:
    pairs = [(0, 0, 50, 1.0), (1, 0, 50, 1.0), (1, 1, 10, 9.0)]
    m = make(pairs, [2, 1], n_children=2, solo=(0,))
    assert greedy(m).tolist() == [0, 1]
    assert check_full(m, np.asarray([0, 0], dtype=np.int32))  # together would break solo_only


def test_check_full_finds_each_broken_rule() -> None:
    pairs = [(0, 0, 5, 1.0), (1, 0, 5, 1.0), (2, 0, 5, 1.0), (3, 0, 5, 1.0)]
    m = make(pairs, [3], n_children=4, fostering=[True], groups=((0, 1),))
    assert check_full(m, np.asarray([0, 0, 0, -1], dtype=np.int32)) == []
    assert any("beds" in e for e in check_full(m, np.asarray([0, 0, 0, 0], dtype=np.int32)))
    assert any("split" in e for e in check_full(m, np.asarray([0, -1, 0, -1], dtype=np.int32)))
    assert any("eligible" in e for e in check_full(m, np.asarray([1, -1, -1, -1], dtype=np.int32)))
    m2 = make(pairs, [4], n_children=4, fostering=[True], groups=((0, 1),))
    assert any("limit 3" in e for e in check_full(m2, np.asarray([0, 0, 0, 0], dtype=np.int32)))


def _brute_force(m: Model) -> int:
    """Best objective over every assignment that check_full accepts."""
    options = [
        [-1] + [int(v) for c2, v in zip(m.pair_child, m.pair_vacancy, strict=True) if c2 == c]
        for c in range(m.n_children)
    ]
    best = 0
    for choice in itertools.product(*options):
        a = np.asarray(choice, dtype=np.int32)
        if not check_full(m, a):
            best = max(best, m.objective(a))
    return best


@st.composite
def small_models(draw: st.DrawFn) -> Model:
    n_c = draw(st.integers(2, 5))
    n_v = draw(st.integers(1, 3))
    provider = [draw(st.integers(0, 1)) for _ in range(n_v)]
    provider = sorted(set(provider))
    provider_of = [draw(st.sampled_from(provider)) for _ in range(n_v)]
    remap = {p: i for i, p in enumerate(sorted(set(provider_of)))}
    provider_of = [remap[p] for p in provider_of]
    pairs = []
    for c in range(n_c):
        for v in range(n_v):
            if draw(st.booleans()):
                pairs.append((c, v, draw(st.integers(1, 20)), float(draw(st.integers(0, 30)))))
    group = tuple(range(draw(st.sampled_from([0, 2, 4]))))[:n_c]
    groups = (group,) if len(group) >= 2 else ()
    return make(
        pairs,
        [draw(st.integers(1, 4)) for _ in range(n_v)],
        n_children=n_c,
        provider=provider_of,
        fostering=[draw(st.booleans()) for _ in range(n_v)],
        fostered_now=[draw(st.integers(0, 2)) for _ in range(len(remap))],
        groups=groups,
        solo=tuple(c for c in range(n_c) if draw(st.integers(0, 4)) == 0),
    )


@settings(max_examples=60, deadline=None)
@given(small_models())
def test_highs_on_the_full_model_finds_the_brute_force_optimum(m: Model) -> None:
    out = run_highs(linear_model(m), m, 10.0)
    assert out["status"] == "optimal"
    assert check_full(m, out["vacancy_of_child"]) == []
    assert out["objective"] == _brute_force(m)


@settings(max_examples=60, deadline=None)
@given(small_models())
def test_greedy_never_breaks_beds_households_or_solo(m: Model) -> None:
    assert check_full(m, greedy(m), siblings=False) == []


def test_metrics_of_equals_the_matchers_own_on_the_demo(tmp_path: Path) -> None:
    from dataclasses import asdict

    from matcher.candidates import build_candidates
    from matcher.casefolder import load_case_folder
    from matcher.match import match

    folder = load_case_folder(ROOT / "examples" / "demo")
    cands = build_candidates(folder)
    model = model_from_export(folder, cands.to_csv(tmp_path / "c.csv"), cands)
    result = match(folder, candidates=cands)
    child = {c.child_id: i for i, c in enumerate(folder.children)}
    vac = {v.vacancy_id: i for i, v in enumerate(folder.vacancies)}
    assigned = np.full(model.n_children, -1, dtype=np.int32)
    for a in result.assignments:
        assigned[child[a.child_id]] = vac[a.vacancy_id]
    own = asdict(result.metrics)
    mine = metrics_of(model, assigned)
    assert {k: own[k] for k in mine} == mine
    assert model.objective(assigned) == result.objective
    assert check_full(model, assigned) == []
