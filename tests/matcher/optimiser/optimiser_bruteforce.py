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
