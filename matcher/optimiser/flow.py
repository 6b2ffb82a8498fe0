"""Max-weight b-matching by OR-Tools min-cost flow, with LP duals.

The only module besides :mod:`matcher.optimiser.cpsat` that touches OR-Tools; nothing of
OR-Tools leaves it.

Network
-------
``S -> left l`` (capacity ``supply[l]``, cost 0), ``l -> right r`` (capacity
``supply[l] + 1``, so never binding, cost ``-gain``), ``right r -> T`` (capacity
``capacity[r]``, cost 0), and a bypass ``S -> T`` (cost 0) that carries whatever is not
placed. ``S`` supplies ``sum(supply) + 1``: at least one unit always takes the bypass,
which pins the potential of ``T`` to that of ``S`` (see below).

LP duals
--------
OR-Tools does not expose node potentials, so we compute them: the shortest-path
distances ``d`` from ``S`` in the residual graph of the optimal flow (which has no
negative cycle), by a vectorised Bellman-Ford that alternates left -> right over every arc
and right -> left over arcs that carry flow. With ``d[S] = d[T] = 0`` the dual of the LP

    max sum gain[a] f[a]   s.t.  sum_{a from l} f[a] <= supply[l],
                                 sum_{a into r} f[a] <= capacity[r],  f >= 0

is ``alpha[l] = d[l] >= 0`` and ``beta[r] = max(0, -d[r])``; every arc's reduced cost
``alpha[l] + beta[r] - gain[a]`` is ``>= 0`` and the dual objective
``sum supply * alpha + sum capacity * beta`` equals the flow's value (complementary
slackness); :func:`max_weight_flow` checks both and raises if either fails.

Capacity groups
---------------
With ``right_group``, right nodes of one group ``G`` send to a node ``G`` and ``G -> T``
has capacity ``group_capacity[G]`` (a household's room, shared by its vacancies): still a
network, so still integral. The LP gains a constraint per group with dual ``gamma[G]``;
with ``D[G] = min(d[G], 0)`` (``0`` when unreachable), ``gamma = -D`` and
``beta[r] = max(0, D[G(r)] - d[r])``, and the reduced cost of an arc becomes
``alpha[l] + beta[r] + gamma[G(r)] - gain[a]``; the same two checks certify them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

__all__ = ["FlowResult", "max_weight_flow"]

_INF = np.int64(2**62)


@dataclass(frozen=True, slots=True, eq=False)
class FlowResult:
    """An optimal flow with its LP duals (all integers, in the gains' scale)."""

    flow: npt.NDArray[np.int64]  # per arc
    value: int  # sum gain * flow
    alpha: npt.NDArray[np.int64]  # per left node, >= 0
    beta: npt.NDArray[np.int64]  # per right node, >= 0
    reduced_cost: npt.NDArray[np.int64]  # per arc, >= 0
    bellman_ford_rounds: int
    gamma: npt.NDArray[np.int64] | None = None  # per capacity group, >= 0


def _min_by_group(
    values: npt.NDArray[np.int64], groups: npt.NDArray[np.int64], n: int
) -> npt.NDArray[np.int64]:
    out = np.full(n, _INF, dtype=np.int64)
    if len(values):
        np.minimum.at(out, groups, values)
    return out


def max_weight_flow(
    supply: npt.NDArray[np.int64],
    capacity: npt.NDArray[np.int64],
    arc_left: npt.NDArray[np.int64],
    arc_right: npt.NDArray[np.int64],
    gain: npt.NDArray[np.int64],
    *,
    right_group: npt.NDArray[np.int64] | None = None,
    group_capacity: npt.NDArray[np.int64] | None = None,
    duals: bool = True,
) -> FlowResult:
    """Solve the max-weight b-matching exactly and return flow and LP duals.

    Parameters
    ----------
    supply
        ``[n_left]``: units each left node can send (children: 1; a sibling unit: its size).
    capacity
        ``[n_right]``: units each right node can take (beds).
    arc_left, arc_right, gain
        ``[n_arcs]``: the arcs and their gain per unit of flow (``> 0``).
    right_group, group_capacity
        Optional capacity groups: ``[n_right]`` group of each right node (``-1``: none)
        and ``[n_groups]`` units each group can take in all.
    duals
        Compute the LP duals (``False`` leaves ``alpha``, ``beta`` and ``reduced_cost``
        at zero and skips the check).

    Raises
    ------
    ValueError
        If the gains are too large for OR-Tools' cost scaling.
    RuntimeError
        If the solver fails or the duals do not certify the flow (a bug).
    """
    n_left, n_right, n_arcs = len(supply), len(capacity), len(arc_left)
    if right_group is None or group_capacity is None:
        right_group = np.full(n_right, -1, dtype=np.int64)
        group_capacity = np.zeros(0, dtype=np.int64)
    n_groups = len(group_capacity)
    source, sink = n_left + n_right + n_groups, n_left + n_right + n_groups + 1
    total = int(supply.sum()) + 1
    solver = min_cost_flow.SimpleMinCostFlow()
    lefts = np.arange(n_left, dtype=np.int64)
    rights = np.arange(n_right, dtype=np.int64) + n_left
    groups = np.arange(n_groups, dtype=np.int64) + n_left + n_right
    right_head = np.where(right_group >= 0, right_group + n_left + n_right, sink)
    tails = np.concatenate([np.full(n_left, source), arc_left, rights, groups, [source]])
    heads = np.concatenate([lefts, arc_right + n_left, right_head, np.full(n_groups, sink), [sink]])
    caps = np.concatenate([supply, supply[arc_left] + 1, capacity, group_capacity, [total]])
    costs = np.concatenate(
        [np.zeros(n_left, np.int64), -gain, np.zeros(n_right + n_groups + 1, np.int64)]
    )
    solver.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs
    )
    solver.set_nodes_supplies(np.array([source, sink], dtype=np.int32), np.array([total, -total]))
    status = solver.solve()
    if status == solver.BAD_COST_RANGE:
        raise ValueError(
            "min-cost flow: the points are too large for exact integer flow; "
            "use a smaller points scale"
        )
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    arc_ids = np.arange(n_left, n_left + n_arcs, dtype=np.int32)
    flow = np.asarray(solver.flows(arc_ids), dtype=np.int64)
    value = -int(solver.optimal_cost())
    if not duals:
        zeros = np.zeros
        return FlowResult(
            flow,
            value,
            zeros(n_left, np.int64),
            zeros(n_right, np.int64),
            zeros(n_arcs, np.int64),
            0,
        )
    grouped = right_group >= 0
    group_of_right = np.maximum(right_group, 0)

    # Potentials: shortest distances from S in the residual graph.
    sent = np.bincount(arc_left, weights=flow, minlength=n_left).astype(np.int64)
    received = np.bincount(arc_right, weights=flow, minlength=n_right).astype(np.int64)
    base_left = np.where(sent < supply, 0, _INF).astype(np.int64)  # S -> l residual
    # T -> r residual, d[T] = 0 (grouped right nodes are reached through their group)
    base_right = np.where((received > 0) & ~grouped, 0, _INF).astype(np.int64)
    g_received = np.bincount(right_group[grouped], weights=received[grouped], minlength=n_groups)
    base_group = np.where(g_received > 0, 0, _INF).astype(np.int64)  # T -> G residual
    into_group = grouped & (received < capacity)  # r -> G residual
    from_group = grouped & (received > 0)  # G -> r residual
    d_group = base_group.copy()
    used = flow > 0
    used_left, used_right, used_gain = arc_left[used], arc_right[used], gain[used]
    d_left = base_left.copy()
    d_right = np.full(n_right, _INF, dtype=np.int64)
    rounds = 0
    for rounds in range(1, n_left + n_right + n_groups + 3):  # noqa: B007 - rounds is reported
        via = d_left[arc_left]
        reach = via < _INF
        new_right = np.minimum(
            base_right, _min_by_group(via[reach] - gain[reach], arc_right[reach], n_right)
        )
        if n_groups:
            down = np.where(from_group, d_group[group_of_right], _INF)
            new_right = np.minimum(new_right, down)
            up = new_right[into_group]
            new_group = np.minimum(
                base_group,
                _min_by_group(up[up < _INF], right_group[into_group][up < _INF], n_groups),
            )
            new_right = np.minimum(new_right, np.where(from_group, new_group[group_of_right], _INF))
        else:
            new_group = d_group
        back = new_right[used_right]
        reach_back = back < _INF
        new_left = np.minimum(
            base_left,
            _min_by_group(back[reach_back] + used_gain[reach_back], used_left[reach_back], n_left),
        )
        if (
            np.array_equal(new_left, d_left)
            and np.array_equal(new_right, d_right)
            and np.array_equal(new_group, d_group)
        ):
            break
        d_left, d_right, d_group = new_left, new_right, new_group
    else:
        raise RuntimeError("min-cost flow: negative cycle in the residual graph (not optimal)")
    if (d_left >= _INF).any() or (d_left < 0).any():
        raise RuntimeError("min-cost flow: left potentials are not finite and >= 0")
    alpha = d_left
    level = np.minimum(np.where(d_group >= _INF, 0, d_group), 0)  # D[G]
    gamma = -level
    ceiling = np.where(grouped, level[group_of_right] if n_groups else 0, 0)
    beta = np.maximum(0, ceiling - np.where(d_right >= _INF, ceiling, d_right))
    reduced = alpha[arc_left] + beta[arc_right] - gain
    if n_groups:
        reduced = reduced + np.where(grouped, gamma[group_of_right], 0)[arc_right]
    if (reduced < 0).any():
        raise RuntimeError("min-cost flow: LP duals are not feasible (a bug)")
    dual_value = int(
        (supply * alpha).sum() + (capacity * beta).sum() + (group_capacity * gamma).sum()
    )
    if dual_value != value:
        raise RuntimeError(
            f"min-cost flow: dual value {dual_value} differs from flow value {value} (a bug)"
        )
    return FlowResult(
        flow=flow,
        value=value,
        alpha=alpha,
        beta=beta,
        reduced_cost=reduced,
        bellman_ford_rounds=rounds,
        gamma=gamma,
    )
