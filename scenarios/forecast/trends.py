"""Trends fitted to a monthly series: linear, log-linear and damped.

Each fit returns a :class:`Trend` that projects *changes* from a starting value, so that a
forecast starts at the observed count and only the slope comes from the series.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class TrendKind(StrEnum):
    """How a series is extended."""

    LINEAR = "linear"
    LOG_LINEAR = "log_linear"
    DAMPED = "damped"


@dataclass(frozen=True, slots=True)
class Trend:
    """A fitted monthly trend.

    Attributes
    ----------
    kind : TrendKind
        Linear: ``start + slope * m``. Log-linear: ``start * exp(slope * m)`` (``slope`` is
        the monthly growth rate of the logarithm). Damped: ``start + slope * sum(phi**i,
        i=1..m)`` (the linear slope, fading by ``damping`` each month).
    slope : float
        Per month, in counts (linear, damped) or log-counts (log-linear).
    damping : float
        ``phi`` in (0, 1]; used by the damped kind only.
    """

    kind: TrendKind
    slope: float
    damping: float = 1.0

    def __post_init__(self) -> None:
        if not np.isfinite(self.slope):
            raise ValueError("trend slope must be finite")
        if not 0.0 < self.damping <= 1.0:
            raise ValueError(f"damping must be in (0, 1], got {self.damping}")

    def project(self, start: float, months: np.ndarray) -> np.ndarray:
        """Values at ``months`` (0 = the start) from ``start``."""
        m = np.asarray(months, dtype=float)
        if self.kind is TrendKind.LINEAR:
            return start + self.slope * m
        if self.kind is TrendKind.LOG_LINEAR:
            return start * np.exp(self.slope * m)
        phi = self.damping
        if phi == 1.0:
            return start + self.slope * m
        # sum_{i=1..m} phi^i = phi (1 - phi^m) / (1 - phi)
        return start + self.slope * phi * (1.0 - phi**m) / (1.0 - phi)


def fit_trend(series: np.ndarray | list[float], kind: TrendKind, *, damping: float = 0.95) -> Trend:
    """Fit a trend to a monthly series by ordinary least squares.

    Parameters
    ----------
    series
        At least two monthly values, oldest first (positive for log-linear).
    kind
        The trend's form.
    damping
        ``phi`` for the damped trend: the slope is fitted as for the linear trend and each
        further month adds ``phi`` times the previous month's change (Gardner and McKenzie's
        damped trend with the level anchored at the start count).
    """
    y = np.asarray(series, dtype=float)
    if y.ndim != 1 or len(y) < 2:
        raise ValueError("a trend needs a series of at least two monthly values")
    if not np.all(np.isfinite(y)):
        raise ValueError("the series has a missing or non-numeric value")
    x = np.arange(len(y), dtype=float)
    if kind is TrendKind.LOG_LINEAR:
        if np.any(y <= 0):
            raise ValueError("a log-linear trend needs a series of positive values")
        y = np.log(y)
    slope = float(np.polyfit(x, y, 1)[0])
    return Trend(kind, slope, damping if kind is TrendKind.DAMPED else 1.0)
