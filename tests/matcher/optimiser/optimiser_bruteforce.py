"""An exhaustive solver for tiny problems, written from the problem's definition alone.

Shares no code with ``matcher.optimiser``: it enumerates every assignment of each child to
one of its eligible vacancies or to nobody (skipping full vacancies), keeps the feasible
ones and scores them.
"""

from __future__ import annotations

from matcher.optimiser import AssignmentProblem


def _points(problem: AssignmentProblem) -> dict[tuple[int, int], int]:
    return {
        (int(c), int(v)): int(w)
        for c, v, w in zip(
            problem.pair_child, problem.pair_vacancy, problem.pair_points, strict=True
        )
    }


def score(
    problem: AssignmentProblem,
    assignment: tuple[int, ...],
    points: dict[tuple[int, int], int] | None = None,
) -> int | None:
    """Objective of an assignment (``-1`` = unplaced), or None if it is infeasible."""
    if points is None:
        points = _points(problem)
    used = [0] * problem.n_vacancies
    total = 0
    for child, vacancy in enumerate(assignment):
        if vacancy < 0:
            continue
        if (child, vacancy) not in points:
            return None
        used[vacancy] += 1
        total += points[child, vacancy]
    if any(u > int(c) for u, c in zip(used, problem.capacity, strict=True)):
        return None
    if not _households_ok(problem, assignment):
        return None
    for group in problem.sibling_groups:
        where = [assignment[c] for c in group]
        placed = [v for v in where if v >= 0]
        if problem.split_penalty is None:
            if len(set(where)) > 1:
                return None
        elif placed:
            extra_vacancies = len(set(placed)) - 1
            unplaced = len(group) - len(placed)
            total -= problem.split_penalty * (extra_vacancies + unplaced)
    return total


def _households_ok(problem: AssignmentProblem, assignment: tuple[int, ...]) -> bool:
    """Capacity groups (with the siblings exception) and exclusive pairs, by definition."""
    sibling_of = {c: g for g, group in enumerate(problem.sibling_groups) for c in group}
    placed = [(c, v) for c, v in enumerate(assignment) if v >= 0]
    assert problem.vacancy_group is not None and problem.group_capacity is not None
    assert problem.group_siblings_exempt is not None and problem.pair_exclusive is not None
    assert problem.vacancy_household is not None
    for g, room in enumerate(problem.group_capacity.tolist()):
        there = [c for c, v in placed if problem.vacancy_group[v] == g]
        if len(there) > room:
            families = {sibling_of.get(c, -1 - c) for c in there}
            one_family = len(families) == 1 and min(families) >= 0
            if not (bool(problem.group_siblings_exempt[g]) and one_family):
                return False

    def household(v: int) -> tuple[str, int]:
        h = int(problem.vacancy_household[v])  # type: ignore[index]
        return ("vacancy", v) if h < 0 else ("household", h)

    exclusive = {
        (int(c), int(v))
        for c, v, e in zip(
            problem.pair_child, problem.pair_vacancy, problem.pair_exclusive, strict=True
        )
        if e
    }
    for c, v in placed:
        if (c, v) not in exclusive:
            continue
        for other, w in placed:
            if other == c or household(w) != household(v):
                continue
            if c not in sibling_of or sibling_of.get(other) != sibling_of[c]:
                return False
    return True


def brute_force(problem: AssignmentProblem) -> tuple[int, tuple[int, ...]]:
    """The optimal objective and one optimal assignment (depth-first, pruned on beds)."""
    points = _points(problem)
    options: list[list[int]] = [[-1] for _ in range(problem.n_children)]
    for c, v in sorted(points):
        options[c].append(v)
    left = [int(c) for c in problem.capacity]
    current: list[int] = []
    best: list[object] = [0, tuple([-1] * problem.n_children)]

    def visit(child: int) -> None:
        if child == problem.n_children:
            assignment = tuple(current)
            value = score(problem, assignment, points)
            if value is not None and value > best[0]:  # type: ignore[operator]
                best[0], best[1] = value, assignment
            return
        for v in options[child]:
            if v >= 0 and left[v] == 0:
                continue
            if v >= 0:
                left[v] -= 1
            current.append(v)
            visit(child + 1)
            current.pop()
            if v >= 0:
                left[v] += 1

    visit(0)
    return int(best[0]), best[1]  # type: ignore[call-overload, return-value]
