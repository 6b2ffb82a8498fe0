"""The solver-independent validator: the specification of a valid assignment.

Written against :class:`~matcher.optimiser.problem.AssignmentProblem` alone (numpy, no
solver), so that it can check any solver's answer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matcher.optimiser.problem import AssignmentProblem, pair_lookup
from matcher.optimiser.solution import Solution

__all__ = [
    "check_assignment",
    "check_solution",
    "group_penalties",
    "household_errors",
    "objective_of",
    "split_penalty_of",
]

_STATUSES = ("optimal", "feasible")


def _pair_index(
    problem: AssignmentProblem, vacancy_of_child: npt.NDArray[np.integer]
) -> npt.NDArray[np.int64]:
    """Index of each placed child's pair, ``-1`` if unplaced or ineligible."""
    out = np.full(problem.n_children, -1, dtype=np.int64)
    placed = np.flatnonzero(vacancy_of_child >= 0)
    out[placed] = pair_lookup(
        problem.pair_child, problem.pair_vacancy, placed, vacancy_of_child[placed]
    )
    return out


def group_penalties(
    problem: AssignmentProblem, vacancy_of_child: npt.NDArray[np.integer]
) -> npt.NDArray[np.int64]:
    """``int64 [n_groups]``: the split penalty each sibling group pays (0 with hard units).

    For a group with at least one child placed: ``split_penalty`` times (distinct
    vacancies used - 1 + children of the group left unplaced); 0 if none is placed.
    """
    out = np.zeros(len(problem.sibling_groups), dtype=np.int64)
    if not problem.split_penalty:
        return out
    for g, group in enumerate(problem.sibling_groups):
        where = vacancy_of_child[list(group)]
        placed = where[where >= 0]
        if len(placed):
            out[g] = (len(np.unique(placed)) - 1) + (len(group) - len(placed))
    return out * problem.split_penalty


def split_penalty_of(problem: AssignmentProblem, vacancy_of_child: npt.NDArray[np.integer]) -> int:
    """The total split penalty an assignment pays (see :func:`group_penalties`)."""
    return int(group_penalties(problem, vacancy_of_child).sum())


def objective_of(problem: AssignmentProblem, vacancy_of_child: npt.NDArray[np.integer]) -> int:
    """The objective of an assignment: points of the pairs used, less any split penalty.

    Ineligible placements contribute nothing here; :func:`check_assignment` reports them.
    """
    index = _pair_index(problem, np.asarray(vacancy_of_child))
    points = int(problem.pair_points[index[index >= 0]].sum())
    return points - split_penalty_of(problem, np.asarray(vacancy_of_child))


def check_assignment(problem: AssignmentProblem, vacancy_of_child: object) -> list[str]:
    """Check feasibility of an assignment; an empty list means feasible.

    Checks: an integer array of one vacancy (or ``-1``) per child; only eligible pairs;
    beds; hard sibling units (all in the same vacancy or none placed); capacity groups
    (with the siblings exception) and exclusive pairs.
    """
    if not isinstance(vacancy_of_child, np.ndarray):
        return [f"vacancy_of_child: expected a numpy array, got {type(vacancy_of_child).__name__}"]
    if vacancy_of_child.shape != (problem.n_children,):
        return [
            f"vacancy_of_child: expected shape ({problem.n_children},) - one vacancy per child - "
            f"got {vacancy_of_child.shape}"
        ]
    if not np.issubdtype(vacancy_of_child.dtype, np.integer):
        return [f"vacancy_of_child: expected integers, got {vacancy_of_child.dtype}"]
    errors: list[str] = []
    out_of_range = (vacancy_of_child < -1) | (vacancy_of_child >= problem.n_vacancies)
    for c in np.flatnonzero(out_of_range)[:5].tolist():
        errors.append(
            f"child {c}: vacancy {vacancy_of_child[c]} is not -1 or in [0, {problem.n_vacancies})"
        )
    if errors:
        return errors
    index = _pair_index(problem, vacancy_of_child)
    ineligible = np.flatnonzero((vacancy_of_child >= 0) & (index < 0))
    for c in ineligible[:5].tolist():
        errors.append(f"child {c}: placed in vacancy {vacancy_of_child[c]}, not an eligible pair")
    if len(ineligible) > 5:
        errors.append(f"... and {len(ineligible) - 5} more ineligible placements")
    placed = vacancy_of_child[vacancy_of_child >= 0]
    used = np.bincount(placed, minlength=problem.n_vacancies)
    for v in np.flatnonzero(used > problem.capacity)[:5].tolist():
        errors.append(f"vacancy {v}: {used[v]} children placed, only {problem.capacity[v]} beds")
    errors.extend(household_errors(problem, vacancy_of_child, index))
    if problem.split_penalty is None:
        for g, group in enumerate(problem.sibling_groups):
            where = vacancy_of_child[list(group)]
            if len(set(where.tolist())) > 1:
                errors.append(
                    f"sibling group {g} (children {', '.join(map(str, group))}) is split: "
                    f"vacancies {where.tolist()}; a hard unit must be placed together or not at all"
                )
    return errors


def household_errors(
    problem: AssignmentProblem,
    vacancy_of_child: npt.NDArray[np.integer],
    index: npt.NDArray[np.int64] | None = None,
) -> list[str]:
    """Breaks of the capacity groups and exclusive pairs (an empty list: none).

    A group holds at most ``group_capacity[g]`` children, unless it is
    ``group_siblings_exempt`` and all the children placed in it are of one sibling group.
    A child placed through an exclusive pair shares its household with nobody outside its
    sibling group.
    """
    assert problem.vacancy_group is not None and problem.group_capacity is not None
    assert problem.group_siblings_exempt is not None and problem.pair_exclusive is not None
    if index is None:
        index = _pair_index(problem, vacancy_of_child)
    errors: list[str] = []
    placed = np.flatnonzero(vacancy_of_child >= 0)
    vac = vacancy_of_child[placed].astype(np.int64)
    sib = problem.group_of_child
    group = problem.vacancy_group[vac] if len(vac) else np.zeros(0, np.int64)
    for g in np.unique(group[group >= 0]).tolist():
        there = placed[group == g]
        if len(there) <= problem.group_capacity[g]:
            continue
        families = set(sib[there].tolist())
        if problem.group_siblings_exempt[g] and len(families) == 1 and -1 not in families:
            continue
        errors.append(
            f"capacity group {g}: {len(there)} children placed, capacity "
            f"{problem.group_capacity[g]}"
            + (" and not all of one sibling group" if problem.group_siblings_exempt[g] else "")
        )
    exclusive = placed[(index[placed] >= 0) & problem.pair_exclusive[np.maximum(index[placed], 0)]]
    if len(exclusive):
        home = problem.household_key()
        home_of_placed = home[vac]
        for c in exclusive.tolist():
            h = home[int(vacancy_of_child[c])]
            others = placed[(home_of_placed == h) & (placed != c)]
            if sib[c] >= 0:
                others = others[sib[others] != sib[c]]
            if len(others):
                errors.append(
                    f"child {c}: placed through an exclusive pair, but children "
                    f"{', '.join(map(str, others[:5].tolist()))} share its household"
                )
    return errors


def check_solution(problem: AssignmentProblem, solution: Solution) -> list[str]:
    """Check a solution against its problem; an empty list means valid.

    On top of :func:`check_assignment`: the status is known, the objective recomputed
    from the problem equals ``solution.objective``, ``objective <= bound``, and an
    ``"optimal"`` solution has ``objective == bound``.
    """
    errors = check_assignment(problem, solution.vacancy_of_child)
    if solution.status not in _STATUSES:
        errors.append(f"status: expected one of {_STATUSES}, got {solution.status!r}")
    if not errors:
        recomputed = objective_of(problem, solution.vacancy_of_child)
        if recomputed != solution.objective:
            errors.append(
                f"objective: solution says {solution.objective}, the assignment is worth "
                f"{recomputed}"
            )
    if solution.objective > solution.bound:
        errors.append(f"bound: objective {solution.objective} exceeds bound {solution.bound}")
    if solution.status == "optimal" and solution.objective != solution.bound:
        errors.append(
            f"status: 'optimal' but objective {solution.objective} != bound {solution.bound}"
        )
    return errors
