"""The optimiser: the solver-independent integer core of the batch matcher.

Given an already-scored sparse candidate model (:class:`AssignmentProblem`), find the
assignment that maximises the points under beds, one vacancy per child and sibling
groups, and prove it optimal. See ``docs/optimiser.md``.
"""

from matcher.optimiser.params import SolverParameters
from matcher.optimiser.problem import AssignmentProblem
from matcher.optimiser.solution import Solution
from matcher.optimiser.solve import solve
from matcher.optimiser.validate import check_assignment, check_solution, objective_of

__all__ = [
    "AssignmentProblem",
    "Solution",
    "SolverParameters",
    "check_assignment",
    "check_solution",
    "objective_of",
    "solve",
]
