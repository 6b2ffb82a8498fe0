"""Hypothesis strategies that build valid tiny assignment problems."""

from __future__ import annotations

from hypothesis import strategies as st

from matcher.optimiser import AssignmentProblem


@st.composite
def tiny_problems(
    draw: st.DrawFn,
    max_children: int = 6,
    max_vacancies: int = 4,
    split: str = "any",  # "hard" | "soft" | "any"
    households: bool = False,
    bases: tuple[int, ...] = (0, 1000),
) -> AssignmentProblem:
    """Up to 6 children and 4 vacancies, sibling groups of 2-3, either split mode.

    ``bases``: the "placed" bases to draw from (a pooled nation's reach past 2**53).
    """
    n = draw(st.integers(1, max_children))
    m = draw(st.integers(1, max_vacancies))
    capacity = draw(st.lists(st.integers(0, 3), min_size=m, max_size=m))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, m - 1)),
            unique=True,
            max_size=n * m,
        )
    )
    # points: small (many ties) or with a large "placed" base like the matcher's
    base = draw(st.sampled_from(bases))
    points = [base + draw(st.integers(1, 12)) for _ in pairs]
    children = draw(st.permutations(list(range(n))))
    groups: list[tuple[int, ...]] = []
    at = 0
    while at < n - 1 and draw(st.booleans()):
        size = draw(st.integers(2, min(3, n - at)))
        groups.append(tuple(sorted(children[at : at + size])))
        at += size
    if split == "hard":
        penalty = None
    elif split == "soft":
        penalty = draw(st.integers(0, 8))
    else:
        penalty = draw(st.none() | st.integers(0, 8))
    extra: dict[str, object] = {}
    if households:
        n_groups = draw(st.integers(0, 2))
        extra["vacancy_group"] = draw(
            st.lists(st.integers(-1, n_groups - 1), min_size=m, max_size=m)
        )
        extra["group_capacity"] = draw(
            st.lists(st.integers(0, 3), min_size=n_groups, max_size=n_groups)
        )
        extra["group_siblings_exempt"] = draw(
            st.lists(st.booleans(), min_size=n_groups, max_size=n_groups)
        )
        extra["vacancy_household"] = draw(st.lists(st.integers(-1, 1), min_size=m, max_size=m))
        solo = draw(st.sets(st.integers(0, n - 1), max_size=2))
        extra["pair_exclusive"] = [c in solo for c, _ in pairs]
    return AssignmentProblem.from_arrays(
        n,
        capacity,
        [c for c, _ in pairs],
        [v for _, v in pairs],
        points,
        sibling_groups=groups,
        split_penalty=penalty,
        **extra,  # type: ignore[arg-type]
    )
