"""Statement mode: the deterministic forecast a sufficiency strategy states.

A total (given, or a trend) is shared out between the placement groups by share rules
(constant, a monthly drift in percentage points, a target share by a date, or a group's
own count trend); one group, ``other`` by default, takes the remainder. Nothing is rounded
until the end: counts are rounded half up once per reported figure, and the remainder
group's count is the rounded total less the other groups' rounded counts, so the groups
always add up to the rounded total.

Essex's 2024 sufficiency forecast is the worked example (``examples/essex_2026.toml``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from matcher.placement_types import SufficiencyGroup
from scenarios.forecast.trends import Trend

#: The groups, in report order.
GROUPS: tuple[SufficiencyGroup, ...] = tuple(SufficiencyGroup)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months (the day clipped to the month's length)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from ``start`` to ``end`` (by month, ignoring the day)."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def round_half_up(x: float) -> int:
    """Round to the nearest integer, halves away from zero (as a spreadsheet does)."""
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


class ShareKind(StrEnum):
    """How a group's share of the total moves."""

    CONSTANT = "constant"
    DRIFT = "drift"
    TARGET = "target"
    TREND = "trend"
    REMAINDER = "remainder"


@dataclass(frozen=True, slots=True)
class ShareRule:
    """One group's rule.

    Attributes
    ----------
    kind : ShareKind
        ``constant``: the start share. ``drift``: the start share plus ``pp_per_month``
        percentage points a month. ``target``: a straight line from the start share to
        ``target_share`` (a fraction) at ``target_month`` months, then held. ``trend``: the
        group's own count, ``count_trend`` projected from its start count (its share is that
        count over the total). ``remainder``: whatever the others leave.
    note : str
        Where the figure comes from (shown in reports).
    """

    kind: ShareKind
    pp_per_month: float = 0.0
    target_share: float = 0.0
    target_month: int = 0
    count_trend: Trend | None = None
    count_end: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind is ShareKind.TARGET:
            if not 0.0 <= self.target_share <= 1.0:
                raise ValueError(f"target share must be between 0 and 1, got {self.target_share}")
            if self.target_month <= 0:
                raise ValueError("a target share's date must be after the start")
        if self.kind is ShareKind.TREND and (self.count_trend is None) == (self.count_end is None):
            raise ValueError(
                "a trend share rule needs exactly one of a count trend or an end count"
            )
        if not math.isfinite(self.pp_per_month):
            raise ValueError("pp_per_month must be finite")


class TotalKind(StrEnum):
    """How the total moves."""

    GIVEN = "given"
    TREND = "trend"


@dataclass(frozen=True, slots=True)
class TotalRule:
    """The total children in care: a given end value (straight line to it) or a trend."""

    kind: TotalKind
    end: float | None = None
    trend: Trend | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind is TotalKind.GIVEN and (self.end is None or self.end < 0):
            raise ValueError("a given total needs a non-negative end value")
        if self.kind is TotalKind.TREND and self.trend is None:
            raise ValueError("a trend total needs a fitted trend")


@dataclass(frozen=True, slots=True)
class StatementSpec:
    """A statement-mode forecast, validated.

    Attributes
    ----------
    start : datetime.date
        The date the start counts describe.
    horizon_months : int
        Months forecast (the last date is ``start`` plus this many months).
    start_counts : Mapping[SufficiencyGroup, int]
        Children in each group at the start (all four groups).
    total : TotalRule
        How the total moves.
    shares : Mapping[SufficiencyGroup, ShareRule]
        One rule per group; exactly one is the remainder.
    name : str
        Shown in reports.
    """

    start: dt.date
    horizon_months: int
    start_counts: Mapping[SufficiencyGroup, int]
    total: TotalRule
    shares: Mapping[SufficiencyGroup, ShareRule]
    name: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.horizon_months <= 600:
            raise ValueError(f"horizon must be 1 to 600 months, got {self.horizon_months}")
        if set(self.start_counts) != set(GROUPS):
            raise ValueError("start counts must cover every group")
        if any(v < 0 for v in self.start_counts.values()):
            raise ValueError("start counts must not be negative")
        if sum(self.start_counts.values()) <= 0:
            raise ValueError("the start total must be positive")
        if set(self.shares) != set(GROUPS):
            raise ValueError("share rules must cover every group")
        remainders = [g for g, r in self.shares.items() if r.kind is ShareKind.REMAINDER]
        if len(remainders) != 1:
            raise ValueError(f"exactly one group takes the remainder, got {len(remainders)}")

    @property
    def remainder(self) -> SufficiencyGroup:
        """The group that takes what the others leave."""
        return next(g for g, r in self.shares.items() if r.kind is ShareKind.REMAINDER)

    @property
    def start_total(self) -> int:
        """Children in care at the start."""
        return sum(self.start_counts.values())


@dataclass(frozen=True, slots=True)
class StatementForecast:
    """The result of a statement-mode forecast.

    Attributes
    ----------
    spec : StatementSpec
        What was asked.
    dates : tuple[datetime.date, ...]
        The start and each month after it.
    total : numpy.ndarray
        Unrounded total at each date.
    shares : dict[SufficiencyGroup, numpy.ndarray]
        Each group's share (a fraction) at each date; they add up to 1.
    unrounded : dict[SufficiencyGroup, numpy.ndarray]
        Share times total.
    counts : dict[SufficiencyGroup, numpy.ndarray]
        Rounded counts (int); they add up to the rounded total.
    flags : tuple[str, ...]
        Inconsistencies a commissioner should see.
    """

    spec: StatementSpec
    dates: tuple[dt.date, ...]
    total: np.ndarray = field(repr=False)
    shares: dict[SufficiencyGroup, np.ndarray] = field(repr=False)
    unrounded: dict[SufficiencyGroup, np.ndarray] = field(repr=False)
    counts: dict[SufficiencyGroup, np.ndarray] = field(repr=False)
    flags: tuple[str, ...] = ()

    @property
    def additional_places(self) -> dict[SufficiencyGroup, int]:
        """End count less start count, by group."""
        return {g: int(self.counts[g][-1]) - int(self.counts[g][0]) for g in GROUPS}

    @property
    def rounded_total(self) -> np.ndarray:
        """The total rounded at each date."""
        return np.array([round_half_up(x) for x in self.total], dtype=np.int64)

    def summary(self) -> dict[str, Any]:
        """Start and end counts by group and in total, as plain data (JSON-ready; the
        ``scenario forecast --json`` of a statement carries them, :meth:`text` prints them)."""
        return {
            "name": self.spec.name,
            "start": self.dates[0].isoformat(),
            "end": self.dates[-1].isoformat(),
            "horizon_months": self.spec.horizon_months,
            "start_counts": {g.value: int(self.counts[g][0]) for g in GROUPS},
            "end_counts": {g.value: int(self.counts[g][-1]) for g in GROUPS},
            "total": {"start": int(self.rounded_total[0]), "end": int(self.rounded_total[-1])},
        }

    def text(self) -> str:
        """A short text summary (start and end counts by group)."""
        s = self.summary()
        lines = [f"{s['name'] or 'forecast'}: {s['start']} -> {s['end']}"]
        rows = [(g, s["start_counts"][g], s["end_counts"][g]) for g in s["start_counts"]]
        rows.append(("total", s["total"]["start"], s["total"]["end"]))
        for name, a, b in rows:
            lines.append(f"  {name:<24} {a:>6} -> {b:>6}  ({b - a:+d})")
        return "\n".join(lines)


def forecast_statement(spec: StatementSpec) -> StatementForecast:
    """Run a statement-mode forecast.

    Shares that a drift pushes below 0 are held at 0, and if the groups other than the
    remainder would take more than the whole total they are scaled down to fit; both are
    flagged. Counts are never negative.
    """
    horizon = spec.horizon_months
    months = np.arange(horizon + 1, dtype=float)
    dates = tuple(add_months(spec.start, int(m)) for m in months)
    total0 = float(spec.start_total)
    if spec.total.kind is TotalKind.GIVEN:
        assert spec.total.end is not None
        total = total0 + (spec.total.end - total0) * months / horizon
    else:
        assert spec.total.trend is not None
        total = spec.total.trend.project(total0, months)
    flags: list[str] = []
    if np.any(total < 0):
        first = int(np.argmax(total < 0))
        flags.append(f"the total trend falls below zero from {dates[first]}; held at zero")
        total = np.maximum(total, 0.0)

    shares: dict[SufficiencyGroup, np.ndarray] = {}
    remainder = spec.remainder
    for g in GROUPS:
        rule = spec.shares[g]
        s0 = spec.start_counts[g] / total0
        if rule.kind is ShareKind.CONSTANT:
            s = np.full_like(months, s0)
        elif rule.kind is ShareKind.DRIFT:
            s = s0 + rule.pp_per_month / 100.0 * months
        elif rule.kind is ShareKind.TARGET:
            frac = np.minimum(months / rule.target_month, 1.0)
            s = s0 + (rule.target_share - s0) * frac
        elif rule.kind is ShareKind.TREND:
            c0 = float(spec.start_counts[g])
            if rule.count_trend is not None:
                count = rule.count_trend.project(c0, months)
            else:
                assert rule.count_end is not None
                count = c0 + (rule.count_end - c0) * months / horizon
            count = np.maximum(count, 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.where(total > 0, count / np.where(total > 0, total, 1.0), 0.0)
        else:
            continue
        if np.any(s < 0):
            first = int(np.argmax(s < 0))
            flags.append(f"the {g.value} share falls below zero from {dates[first]}; held at zero")
            s = np.maximum(s, 0.0)
        shares[g] = s
    named = sum(shares.values(), np.zeros_like(months))
    over = named > 1.0 + 1e-12
    if np.any(over):
        first = int(np.argmax(over))
        others = ", ".join(g.value for g in shares)
        flags.append(
            f"{others} together exceed the whole total from {dates[first]}; "
            f"scaled down so that {remainder.value} is zero"
        )
        scale = np.where(over, 1.0 / np.where(over, named, 1.0), 1.0)
        for g in shares:
            shares[g] = shares[g] * scale
        named = np.minimum(named, 1.0)
    shares[remainder] = np.maximum(1.0 - named, 0.0)
    shares = {g: shares[g] for g in GROUPS}

    unrounded = {g: shares[g] * total for g in GROUPS}
    rounded_total = np.array([round_half_up(x) for x in total], dtype=np.int64)
    counts: dict[SufficiencyGroup, np.ndarray] = {}
    for g in GROUPS:
        if g is not remainder:
            counts[g] = np.array([round_half_up(x) for x in unrounded[g]], dtype=np.int64)
    rest = rounded_total - sum(counts.values(), np.zeros_like(rounded_total))
    # Rounding half up can leave the remainder at -1 when it is (nearly) empty (it is never
    # below -1: three roundings add at most 1.5). Then the named group that rounding raised
    # the most gives the child back, so the groups still add up to the rounded total.
    for t in np.flatnonzero(rest < 0):
        named_groups = list(counts)
        raised = [counts[g][t] - unrounded[g][t] for g in named_groups]
        counts[named_groups[int(np.argmax(raised))]][t] += rest[t]
    counts[remainder] = np.maximum(rest, 0)
    counts = {g: counts[g] for g in GROUPS}
    # The start counts are what was given: report them exactly.
    for g in GROUPS:
        counts[g][0] = spec.start_counts[g]

    flags.extend(_consistency_flags(spec, counts, rounded_total))
    return StatementForecast(spec, dates, total, shares, unrounded, counts, tuple(flags))


def _consistency_flags(
    spec: StatementSpec, counts: Mapping[SufficiencyGroup, np.ndarray], total: np.ndarray
) -> list[str]:
    """Flags a commissioner should see about the forecast as a whole."""
    flags: list[str] = []
    remainder = spec.remainder
    named = [g for g in GROUPS if g is not remainder]
    growth_named = sum(int(counts[g][-1] - counts[g][0]) for g in named)
    growth_total = int(total[-1]) - int(total[0])
    r0, r1 = int(counts[remainder][0]), int(counts[remainder][-1])
    if r0 > 0 and r1 < r0 * 0.8:
        drop = 100.0 * (r0 - r1) / r0
        word = "three" if len(named) == 3 else str(len(named))
        flags.append(
            f"the {word} named types grow by {growth_named} while the total grows by "
            f"{growth_total}, so {remainder.value} placements fall from {r0} to {r1}, "
            f"a {drop:.0f}% drop"
        )
    elif r0 > 0 and r1 > r0 * 1.25:
        flags.append(
            f"{remainder.value} placements rise from {r0} to {r1} "
            f"({100.0 * (r1 - r0) / r0:.0f}%): the named types grow by {growth_named} "
            f"while the total grows by {growth_total}"
        )
    return flags
