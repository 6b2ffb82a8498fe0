"""The optimiser's answer: :class:`Solution`, plain data with a :meth:`~Solution.summary`
(a dict) and a :meth:`~Solution.text` (lines for people)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from matcher.optimiser.params import SolverParameters

__all__ = ["Solution"]


@dataclass(frozen=True, slots=True, eq=False)
class Solution:
    """The optimiser's answer.

    Attributes
    ----------
    status
        ``"optimal"``: proven (objective equals bound). ``"feasible"``: valid, not proven
        (time limit or gap limit).
    objective
        The assignment's objective (points less split penalties).
    bound
        A proven upper bound on the optimum.
    vacancy_of_child
        ``int32 [n_children]``: the vacancy of each child, ``-1`` if unplaced.
    parameters
        The parameters used (with the seed).
    stats
        Sizes, times per phase (seconds) and how each component was solved.
    """

    status: str
    objective: int
    bound: int
    vacancy_of_child: npt.NDArray[np.int32]
    parameters: SolverParameters
    stats: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative gap ``(bound - objective) / bound`` (0 when proven)."""
        return (self.bound - self.objective) / self.bound if self.bound else 0.0

    @property
    def n_placed(self) -> int:
        """Number of children placed."""
        return int((self.vacancy_of_child >= 0).sum())

    def summary(self) -> dict[str, float | int | str]:
        """The headline figures as plain data (JSON-ready): status, objective, bound, gap,
        children placed, seed and what stopped an unproven search (:meth:`text` prints them)."""
        return {
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "placed": self.n_placed,
            "children": len(self.vacancy_of_child),
            "seed": self.parameters.seed,
            "stopped_by": str(self.stats.get("stopped_by", "")),
        }

    def text(self) -> str:
        """A few lines for people: status, objective, bound, placements, time, method."""
        s = self.stats
        lines = [
            f"status     {self.status} (gap {self.gap:.4%})"
            if self.objective >= self.bound
            else f"status     {self.status} (gap {self.bound - self.objective} points, "
            f"{self.gap:.2e} relative)",
            f"objective  {self.objective}",
            f"bound      {self.bound}",
            f"placed     {self.n_placed} of {len(self.vacancy_of_child)} children",
            f"pairs      {s.get('pairs', '?')} given, {s.get('pairs_kept', '?')} kept after "
            "reduced-cost fixing",
            f"components {s.get('components', '?')} ({s.get('components_flow', 0)} by flow, "
            f"{s.get('components_incumbent', 0)} by incumbent = bound, "
            f"{s.get('components_cpsat', 0)} by CP-SAT)",
            f"time       {float(s.get('time_total_s', 0.0)):.3f} s "
            f"(seed {self.parameters.seed}, {self.parameters.num_workers} "
            f"worker{'s' if self.parameters.num_workers != 1 else ''})",
            f"work       {float(s.get('work_used', 0.0)):.3f} of "
            + (
                f"{self.parameters.deterministic_time_limit:g} (deterministic)"
                if self.parameters.deterministic_time_limit > 0
                else "no limit"
            ),
        ]
        if self.status != "optimal":
            lines.append(f"stopped by {s.get('stopped_by', '') or 'a limit'}")
        return "\n".join(lines)
