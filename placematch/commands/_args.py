"""Argument types shared by the sub-commands: each parses one option's text or raises
``argparse.ArgumentTypeError`` saying what was expected (argparse adds the option's name)."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum`` (a clear error otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, not {text}")
        return value

    return parse


def seconds(text: str) -> float:
    """A number of seconds > 0 (``match --time-limit``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, not {text!r}")
    return value


def work_units(text: str) -> float:
    """A number of CP-SAT deterministic work units >= 0 (``match --work-limit``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of work units, not {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number of work units >= 0, not {text!r}")
    return value


def probability(text: str) -> float:
    """A probability strictly between 0 and 1 (``scenario forecast --service-level``)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a probability between 0 and 1")
    return value


def iso_date(text: str) -> dt.date:
    """``--on DATE``: an ISO date, ``YYYY-MM-DD``."""
    try:
        if len(text.strip()) != 10:
            raise ValueError
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date YYYY-MM-DD (e.g. 2026-03-31), not {text!r}"
        ) from None


def cutoff_date(text: str) -> dt.date:
    """A forecast's cut-off date (``scenario backtest --at``): ``yyyy-mm-dd``."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date {text!r}; expected yyyy-mm-dd") from None


def return_date(text: str) -> dt.date:
    """A date as a 903 return writes it, ``dd/mm/yyyy``, or ``yyyy-mm-dd`` (``export-903``)."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"expected a date as yyyy-mm-dd or dd/mm/yyyy, not {text!r}")
