"""Commissioners' assumptions: rates adjusted additively or multiplicatively.

An :class:`Assumption` changes one kind of rate, optionally only for an age band, an exit
route or a placement group:

* ``entries`` / ``separated_migrant_entries``: children arriving a month (``add``) or a
  factor (``multiply``); ``group`` is the group they arrive in;
* ``exits``: the hazard of leaving care, per child a year (``add``) or a factor; ``route``
  is one of :data:`~scenarios.forecast.rates.ROUTES`;
* ``moves``: the hazard of moving between groups, per child a year or a factor; ``group``
  is the group moved to (e.g. step-down to ``supported_accommodation``).

The posterior means move by the adjustment and the posteriors keep their shape (a
multiplied gamma stays as uncertain in relative terms; an added amount is certain), so runs
with the same seed stay comparable. A rate that an addition would take below zero stops at
zero, with a note. The report shows the forecast without the assumptions as a separate
line (:func:`scenarios.forecast.runner.run_stochastic`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from matcher.placement_types import SufficiencyGroup
from scenarios.forecast.rates import (
    AGE_BAND_LABELS,
    GROUPS,
    ROUTES,
    FlowRates,
    no_supported_accommodation_under_16,
)

RateKind = Literal["entries", "separated_migrant_entries", "exits", "moves"]
RATE_KINDS: tuple[str, ...] = ("entries", "separated_migrant_entries", "exits", "moves")
_AGE_16 = AGE_BAND_LABELS.index("16_to_17")
_SUPPORTED = GROUPS.index(SufficiencyGroup.SUPPORTED_ACCOMMODATION)


@dataclass(frozen=True, slots=True)
class Assumption:
    """One adjustment of a rate (see the module docstring).

    Attributes
    ----------
    rate : str
        ``entries``, ``separated_migrant_entries``, ``exits`` or ``moves``.
    multiply, add : float or None
        Exactly one: a factor (>= 0), or an amount (children a month for entries, per child
        a year for exits and moves; may be negative).
    age_band, route, group : str or None
        Only this age band (:data:`AGE_BAND_LABELS`), exit route or placement group.
    note : str
        Why (shown in the report).
    """

    rate: str
    multiply: float | None = None
    add: float | None = None
    age_band: str | None = None
    route: str | None = None
    group: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.rate not in RATE_KINDS:
            raise ValueError(f"rate must be one of {', '.join(RATE_KINDS)}, got {self.rate!r}")
        if (self.multiply is None) == (self.add is None):
            raise ValueError("give multiply or add, not both")
        if self.multiply is not None and not (np.isfinite(self.multiply) and self.multiply >= 0):
            raise ValueError("multiply must be a finite number >= 0")
        if self.add is not None and not np.isfinite(self.add):
            raise ValueError("add must be a finite number")
        if self.age_band is not None and self.age_band not in AGE_BAND_LABELS:
            raise ValueError(f"age_band must be one of {', '.join(AGE_BAND_LABELS)}")
        if self.route is not None:
            if self.rate != "exits":
                raise ValueError("route applies to exits only")
            if self.route not in ROUTES:
                raise ValueError(f"route must be one of {', '.join(ROUTES)}")
        if self.group is not None:
            if self.rate == "exits":
                raise ValueError("group applies to entries and moves, not exits")
            if self.group not in {g.value for g in GROUPS}:
                raise ValueError(f"group must be one of {', '.join(g.value for g in GROUPS)}")

    def label(self) -> str:
        """A short description, e.g. ``exits (adoption, 1_to_4) x1.2``."""
        scope = ", ".join(s for s in (self.route, self.age_band, self.group) if s)
        if self.multiply is not None:
            change = f"x{self.multiply:g}"
        else:
            unit = "a month" if "entries" in self.rate else "per child a year"
            change = f"{self.add:+g} {unit}"
        return f"{self.rate}{f' ({scope})' if scope else ''} {change}"


def _ages(a: Assumption) -> slice | int:
    return slice(None) if a.age_band is None else AGE_BAND_LABELS.index(a.age_band)


def _group(a: Assumption) -> slice | int:
    return slice(None) if a.group is None else GROUPS.index(SufficiencyGroup(a.group))


def apply_assumptions(
    rates: FlowRates, assumptions: tuple[Assumption, ...]
) -> tuple[FlowRates, tuple[str, ...]]:
    """``rates`` with the assumptions applied in order, and notes of what stopped at zero."""
    if not assumptions:
        return rates, ()
    exit_shape = rates.exit_shape.copy()
    move_shape = rates.move_shape.copy()
    entry_shape = rates.entry_shape.copy()
    notes: list[str] = []
    for a in assumptions:
        ages, group = _ages(a), _group(a)
        if a.rate in ("entries", "separated_migrant_entries"):
            s = 0 if a.rate == "entries" else 1
            cells = entry_shape[s, ages, group]
            if a.multiply is not None:
                entry_shape[s, ages, group] = cells * a.multiply
                continue
            assert a.add is not None
            # Shared out as the cells' arrivals are; evenly if they have none.
            share = cells / cells.sum() if cells.sum() > 0 else np.full(cells.shape, 1 / cells.size)
            scale = rates.entry_rate[s] / rates.entry_scale[s] if rates.entry_scale[s] else 0.0
            new = cells + a.add * share * scale
            if np.any(new < 0):
                notes.append(f"assumption {a.label()}: arrivals stop at zero")
            entry_shape[s, ages, group] = np.maximum(new, 0.0)
        elif a.rate == "exits":
            routes = slice(None) if a.route is None else ROUTES.index(a.route)
            cells = exit_shape[routes, ages]
            if a.multiply is not None:
                exit_shape[routes, ages] = cells * a.multiply
                continue
            assert a.add is not None
            # Per child a year -> per child-month, in shape units (mean = shape / rate).
            new = cells + a.add / 12.0 * rates.exit_rate[routes, ages]
            if np.any(new < 0):
                notes.append(f"assumption {a.label()}: exit hazards stop at zero")
            exit_shape[routes, ages] = np.maximum(new, 0.0)
        else:
            cells = move_shape[ages, :, group]
            if a.multiply is not None:
                new = cells * a.multiply
            else:
                assert a.add is not None
                new = cells + a.add / 12.0 * rates.move_rate[ages, :, group]
                if np.any(new < 0):
                    notes.append(f"assumption {a.label()}: move hazards stop at zero")
            move_shape[ages, :, group] = np.maximum(new, 0.0)
            # Nobody moves to the group they are in, and under-16s never into supported
            # accommodation (see rates.no_supported_accommodation_under_16).
            idx = np.arange(len(GROUPS))
            move_shape[:, idx, idx] = 0.0
            move_shape[:_AGE_16, :, _SUPPORTED] = 0.0
    entry_shape = no_supported_accommodation_under_16(entry_shape)
    labels = "; ".join(a.label() + (f" ({a.note})" if a.note else "") for a in assumptions)
    adjusted = replace(
        rates,
        exit_shape=exit_shape,
        move_shape=move_shape,
        entry_shape=entry_shape,
        notes=(*rates.notes, f"assumptions: {labels}"),
    )
    return adjusted, tuple(notes)


__all__ = ["RATE_KINDS", "Assumption", "apply_assumptions"]
