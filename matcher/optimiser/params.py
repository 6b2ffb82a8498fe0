"""Solver parameters: a frozen dataclass, loadable from a TOML table.

``placematch match`` sets them by flags (``--time-limit``, ``--work-limit``, ``--seed``,
``--workers``); ``policy.toml`` does not hold them. A program can keep them in a TOML file of
its own and read them with :meth:`SolverParameters.from_toml`, e.g.::

    [solver]
    deterministic_time_limit = 2.0
    time_limit_s = 60.0
    num_workers = 1
    seed = 7
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SolverParameters"]


@dataclass(frozen=True, slots=True)
class SolverParameters:
    """How the optimiser searches. Recorded in every :class:`~matcher.optimiser.Solution`.

    Parameters
    ----------
    time_limit_s
        Wall-clock safety net for the whole solve, seconds (``> 0``; default 120). The exact
        parts (flow, bounds) always run; CP-SAT gets what is left. The work limit below is
        meant to stop an unproven search first; if this clock stops it instead, the result
        says so (``stats["stopped_by"] == "wall_clock"``), because another run on a faster
        or quieter machine may then give a different answer.
    num_workers
        CP-SAT search workers (``num_workers``). Default 1: on this project's 2-core
        machines one worker proved the whole synthetic Essex cohort 2.6x faster than two
        (16.5 s against 42.9 s; the second worker's LNS competes for the cores), and one
        worker is deterministic. See ``docs/optimiser.md``.
    seed
        CP-SAT ``random_seed``.
    relative_gap
        CP-SAT ``relative_gap_limit``: stop when (bound - objective) / bound is at most this.
        ``0.0`` asks for a proof of optimality. A solution is reported as ``"optimal"`` only
        when its objective equals its bound, whatever this value.
    use_flow_warm_start
        Repair the min-cost-flow relaxation into a feasible incumbent, use it as the CP-SAT
        hint, and accept components whose incumbent already meets their bound.
    reduced_cost_fixing
        Drop pairs whose LP reduced cost exceeds the gap between bound and incumbent
        (needs the warm start for the incumbent; ignored without it).
    decompose
        Solve independent components apart.
    log_search
        CP-SAT ``log_search_progress`` (to stdout).
    household_hull
        Solve a component in which every vacancy takes at most one sibling unit (and every
        unit must be placed) by its households' convex hull: a stronger LP bound, fixing
        from its duals and an exact residual model solved by HiGHS
        (:mod:`matcher.optimiser.hull`); otherwise CP-SAT solves it. Default on.
    hull_zero_half_cuts
        Tighten the hull LP by {0, 1/2}-cuts before fixing (``docs/optimiser.md``, step 7f).
        Default off: on the whole synthetic Essex cohort the bound tightens (seed 5 206,090.5
        to 206,085.75 residual points, optimum 206,083) but the cut rounds cost 2-4 s of LP
        and the residual models keep as many pairs. The answer is the same either way.
    hull_lazy_rows
        Let a row of the hull LP enter only once a column could break it
        (:class:`matcher.optimiser.highs.IncrementalLP`). Default off: the LP is faster
        (Essex seed 5: 0.19-0.36 s CPU against 0.72 s) but returns other, equally optimal
        duals, and on Essex seed 4 the residual model they leave took longer. The answer is
        the same either way.
    household_hull_min_pairs
        The fewest kept pairs for which a component goes the household-hull way (default
        1,000). Smaller components are proven by CP-SAT in a fraction of a second, quicker
        than building the model and loading SciPy's sparse matrices (the 200-child Essex
        referral list's components, 141 and 374 pairs: 0.13 s by CP-SAT). The children's
        homes with solo placements of the whole Essex cohort (2,300-2,700 pairs) took CP-SAT
        2-3 s and the solo-homes model 0.7 s on a loaded machine.
    flow_dive
        Before a component is searched, dive on its relaxation for a better incumbent
        (:mod:`matcher.optimiser.dive`): re-solve the min-cost flow, commit the sibling
        units it places whole, repeat. On the whole synthetic Essex cohort the first warm
        start left one and four children of the fostering component unplaced that could be
        placed (seeds 2 and 3), so the count itself was open; the dive reaches the
        relaxation's count, which proves it, and fixing then keeps few pairs. Default on.
    flow_dive_min_pairs
        The fewest kept pairs for which a component is dived (default 5,000: smaller
        components are proven by CP-SAT from the first warm start in milliseconds).
    flow_dive_pairs_per_unit
        The dive's flows see only each unit's cheapest pairs by LP reduced cost (default
        40; ``0``: all). On the East of England pooled (3.4 million pairs in one component)
        a dive over every pair took minutes; the single children are re-placed over all
        their pairs afterwards in any case (the canonical step).
    flow_dive_max_pairs
        The most pairs (after ``flow_dive_pairs_per_unit``) a dive's flows are given
        (default 100,000; ``0``: no limit). Each round re-solves the flow of the units left,
        so a dive's cost grows faster than its size: on the pooled regions it found nothing
        better and took 12.8 s (East of England, 113,137 pairs) and 180 s (East of England
        and London, 506,973 pairs), while the Essex cohorts it helps are far smaller.
    cpsat_max_pairs
        The most kept pairs of a component CP-SAT is given (default 1,000,000; ``0``: no
        limit). A larger component that no exact path above proves keeps its warm start
        with the LP bound (``stats["stopped_by"] == "size_limit"``): building the CP-SAT
        model of the East of England's pooled component (3.4 million pairs) took most of
        two minutes and then found nothing better.
    deterministic_time_limit
        The deterministic work budget of the whole solve, in CP-SAT's deterministic time
        units (work counted by the solver, not read off a clock), shared by the components'
        CP-SAT calls in a fixed order (default 5.0, about 30 s of search on the whole
        synthetic Essex cohort on a 2-core machine; the instances that can be proven are
        proven far within it). With one worker, a search stopped by this limit stops at the
        same place on any machine and under any load, so the same input and seed give the
        same answer even when it is not proven. ``0`` turns it off (the wall clock alone).
    """

    time_limit_s: float = 120.0
    num_workers: int = 1
    seed: int = 0
    relative_gap: float = 0.0
    use_flow_warm_start: bool = True
    reduced_cost_fixing: bool = True
    decompose: bool = True
    log_search: bool = False
    household_hull: bool = True
    household_hull_min_pairs: int = 1_000
    hull_zero_half_cuts: bool = False
    hull_lazy_rows: bool = False
    flow_dive: bool = True
    flow_dive_min_pairs: int = 5_000
    flow_dive_pairs_per_unit: int = 40
    flow_dive_max_pairs: int = 100_000
    cpsat_max_pairs: int = 1_000_000
    deterministic_time_limit: float = 5.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            expected = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            if expected == "bool":
                if not isinstance(value, bool):
                    raise ValueError(
                        f"SolverParameters.{f.name}: expected true or false, got {value!r}"
                    )
            elif expected == "int":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(
                        f"SolverParameters.{f.name}: expected an integer, got {value!r}"
                    )
            elif expected == "float":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"SolverParameters.{f.name}: expected a number, got {value!r}")
                object.__setattr__(self, f.name, float(value))
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise ValueError(
                f"SolverParameters.time_limit_s: expected a positive number of seconds, "
                f"got {self.time_limit_s!r}"
            )
        for name in (
            "household_hull_min_pairs",
            "flow_dive_min_pairs",
            "flow_dive_pairs_per_unit",
            "flow_dive_max_pairs",
            "cpsat_max_pairs",
        ):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"SolverParameters.{name}: expected >= 0, got {getattr(self, name)!r}"
                )
        if self.num_workers < 1:
            raise ValueError(
                f"SolverParameters.num_workers: expected >= 1, got {self.num_workers!r}"
            )
        if not 0 <= self.seed < 2**31:
            raise ValueError(
                f"SolverParameters.seed: expected an integer in [0, 2**31), got {self.seed!r}"
            )
        work = self.deterministic_time_limit
        if not (math.isfinite(work) and work >= 0):
            raise ValueError(
                "SolverParameters.deterministic_time_limit: expected a number >= 0 "
                f"(0 = off), got {self.deterministic_time_limit!r}"
            )
        if not (math.isfinite(self.relative_gap) and 0.0 <= self.relative_gap < 1.0):
            raise ValueError(
                f"SolverParameters.relative_gap: expected a number in [0, 1), "
                f"got {self.relative_gap!r}"
            )

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Any], *, source: str = "mapping"
    ) -> SolverParameters:
        """Build parameters from a mapping; unknown keys are errors.

        Parameters
        ----------
        mapping
            Keys are field names; missing keys keep their defaults.
        source
            Named in error messages (e.g. a file and table).
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ValueError(
                f"{source}: unknown solver parameter(s) {', '.join(map(repr, unknown))}; "
                f"expected some of {', '.join(sorted(known))}"
            )
        try:
            return cls(**dict(mapping))
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None

    @classmethod
    def from_toml(cls, path: str | Path, table: str | None = "solver") -> SolverParameters:
        """Load parameters from a TOML file.

        Parameters
        ----------
        path
            The TOML file.
        table
            The table holding the parameters (``[solver]`` by default; dotted names such as
            ``"matcher.solver"`` reach nested tables). ``None`` reads the top level. A file
            without that table gives the defaults.
        """
        path = Path(path)
        try:
            with path.open("rb") as handle:
                data: Any = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path}: not valid TOML: {error}") from None
        where = str(path)
        if table is not None:
            for part in table.split("."):
                data = data.get(part, {}) if isinstance(data, dict) else None
                if not isinstance(data, dict):
                    raise ValueError(f"{path}: [{table}] must be a table")
            where = f"{path} [{table}]"
        return cls.from_mapping(data, source=where)

    def to_mapping(self) -> dict[str, Any]:
        """The parameters as a plain dict (for JSON and TOML)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
