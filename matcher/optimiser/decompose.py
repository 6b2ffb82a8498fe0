"""Steps 3 and 4 of :func:`~matcher.optimiser.solve.solve`: reduced-cost fixing and decomposition.

**Fixing.** A unit pair with (size-scaled) reduced cost ``rc`` is in no solution better
than ``bound - rc``; pairs with ``rc > bound - incumbent`` are in no optimum and are
dropped (:func:`fix`).

**Decomposition.** Connected components of the kept units <-> vacancies graph (soft sibling
groups link their members; a capacity group, and a household with an exclusive kept pair,
link their vacancies) are independent problems (:func:`decompose`). Each has its own LP
bound and incumbent value, so the gap that fixes a pair is its component's
(:func:`fix_by_component`); the pipeline repeats the two until nothing more is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matcher.optimiser.incumbent import Incumbent
from matcher.optimiser.params import SolverParameters
from matcher.optimiser.problem import AssignmentProblem
from matcher.optimiser.relax import Relaxation
from matcher.optimiser.units import UnitModel, connected_components

__all__ = ["Decomposition", "Fixing", "decompose", "fix", "fix_by_component"]


@dataclass(frozen=True, slots=True, eq=False)
class Fixing:
    """The unit pairs that can still be in an optimum.

    Attributes
    ----------
    kept
        ``int64``: indices of the kept unit pairs (ascending).
    active
        Whether pairs were fixed at all (``params.reduced_cost_fixing`` with an incumbent);
        when not, ``kept`` is every pair.
    """

    kept: npt.NDArray[np.int64]
    active: bool


@dataclass(frozen=True, slots=True, eq=False)
class Decomposition:
    """Independent components, with their bounds.

    Labels number units ``0..n_units`` and vacancies after them; a component is a label.

    Attributes
    ----------
    kept
        The kept unit pairs it was built from.
    unit_label, vacancy_label, group_label
        The component of each unit, vacancy and capacity group.
    ub_scaled
        ``int64 [n_labels]``: each component's LP bound (scaled by ``units.scale``).
    lb
        ``int64 [n_labels]``: each component's incumbent value (points).
    """

    kept: npt.NDArray[np.int64]
    unit_label: npt.NDArray[np.int64]
    vacancy_label: npt.NDArray[np.int64]
    group_label: npt.NDArray[np.int64]
    ub_scaled: npt.NDArray[np.int64]
    lb: npt.NDArray[np.int64]

    @property
    def n_labels(self) -> int:
        """Units and vacancies: the number of possible components."""
        return len(self.ub_scaled)


def fix(
    units: UnitModel,
    relaxation: Relaxation,
    incumbent: Incumbent,
    params: SolverParameters,
) -> Fixing:
    """Drop the pairs whose reduced cost exceeds the whole problem's gap."""
    active = params.reduced_cost_fixing and incumbent.choice is not None
    if not active:
        return Fixing(kept=np.arange(len(units.pair_unit)), active=False)
    # y = 1 on a pair forces objective <= (value - size * rc) / k: drop if < incumbent
    gap = relaxation.flow.value - units.scale * incumbent.value
    return Fixing(kept=np.flatnonzero(relaxation.scaled_rc <= gap), active=True)


def fix_by_component(units: UnitModel, relaxation: Relaxation, parts: Decomposition) -> Fixing:
    """Drop the kept pairs whose reduced cost exceeds their own component's gap.

    Components are independent: each must reach its own incumbent.
    """
    kept = parts.kept
    label_of_pair = parts.unit_label[units.pair_unit[kept]]
    still = (
        relaxation.scaled_rc[kept]
        <= parts.ub_scaled[label_of_pair] - units.scale * parts.lb[label_of_pair]
    )
    return Fixing(kept=kept if still.all() else kept[still], active=True)


def decompose(
    problem: AssignmentProblem,
    units: UnitModel,
    relaxation: Relaxation,
    incumbent: Incumbent,
    kept: npt.NDArray[np.int64],
    params: SolverParameters,
) -> Decomposition:
    """The connected components of the ``kept`` pairs (one, if ``params.decompose`` is off),
    with each one's LP bound and incumbent value."""
    assert problem.vacancy_group is not None
    n_units = units.n_units
    n_labels = n_units + problem.n_vacancies
    if params.decompose:
        edge_a = [units.pair_unit[kept]]
        edge_b = [n_units + units.pair_vacancy[kept]]
        for group in soft_groups(problem, units):
            edge_a.append(group[:-1])
            edge_b.append(group[1:])
        # a capacity group, and a household with an exclusive pair, link its vacancies
        for a, b in _household_edges(problem, units, kept, problem.household_key()):
            edge_a.append(n_units + a)
            edge_b.append(n_units + b)
        labels = connected_components(n_labels, np.concatenate(edge_a), np.concatenate(edge_b))
    else:
        labels = np.zeros(n_labels, dtype=np.int64)
    unit_label, vac_label = labels[:n_units], labels[n_units:]
    vacancy_group = problem.vacancy_group.astype(np.int64)
    group_label = np.zeros(len(relaxation.relaxed_room), dtype=np.int64)
    grouped = vacancy_group >= 0
    group_label[vacancy_group[grouped]] = vac_label[grouped]
    flow = relaxation.flow
    # per-component LP bound (scaled by k) and incumbent value
    ub_scaled = (
        _sum_by(unit_label, units.size * flow.alpha, n_labels)
        + _sum_by(vac_label, problem.capacity.astype(np.int64) * flow.beta, n_labels)
        + _sum_by(group_label, relaxation.relaxed_room * relaxation.gamma, n_labels)
    )
    return Decomposition(
        kept=kept,
        unit_label=unit_label,
        vacancy_label=vac_label,
        group_label=group_label,
        ub_scaled=ub_scaled,
        lb=_sum_by(unit_label, incumbent.unit_value, n_labels),
    )


def soft_groups(problem: AssignmentProblem, units: UnitModel) -> tuple[npt.NDArray[np.int64], ...]:
    """The units of each sibling group that may be split at a penalty (none with hard units
    or a zero penalty)."""
    soft = problem.split_penalty is not None and problem.split_penalty > 0
    return units.soft_groups if soft else ()


def _household_edges(
    problem: AssignmentProblem,
    units: UnitModel,
    kept: npt.NDArray[np.int64],
    home: npt.NDArray[np.int64],
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Edges (vacancy, vacancy) that keep a capacity group, and a household with an
    exclusive kept pair, in one component."""
    assert problem.vacancy_group is not None
    out = []
    group = problem.vacancy_group.astype(np.int64)
    in_group = np.flatnonzero(group >= 0)
    by_group = in_group[np.argsort(group[in_group], kind="stable")]
    same = group[by_group][1:] == group[by_group][:-1]
    out.append((by_group[:-1][same], by_group[1:][same]))
    exclusive = kept[units.pair_exclusive[kept]]
    if len(exclusive):
        homes = np.unique(home[units.pair_vacancy[exclusive]])
        at = np.flatnonzero(np.isin(home, homes))
        at = at[np.argsort(home[at], kind="stable")]
        same = home[at][1:] == home[at][:-1]
        out.append((at[:-1][same], at[1:][same]))
    return out


def _sum_by(
    labels: npt.NDArray[np.int64], values: npt.NDArray[np.int64], n: int
) -> npt.NDArray[np.int64]:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, labels, values)
    return out
