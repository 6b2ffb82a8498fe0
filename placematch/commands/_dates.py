"""``--on DATE`` for ``rank``, ``why-not`` and ``match``, and the clock they read.

The engine never reads the clock: the command reads :func:`clock` once and passes today's
date (and the date asked about) into the folder (:meth:`matcher.domain.CaseFolder.with_dates`).
Tests replace :data:`clock` to be deterministic.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable

from matcher.domain import CaseFolder
from placematch.commands._args import iso_date

#: Today's date; replaced in tests.
clock: Callable[[], dt.date] = dt.date.today


def add_on(parser: argparse.ArgumentParser) -> None:
    """Add ``--on DATE``."""
    parser.add_argument(
        "--on",
        type=iso_date,
        default=None,
        metavar="DATE",
        help="the date to match on (YYYY-MM-DD; default today): only vacancies free on a "
        "child's date are offered; a child's date is its needed_by, else today for an "
        "emergency, else this date",
    )


def dated(folder: CaseFolder, on: dt.date | None) -> CaseFolder:
    """``folder`` asked about ``on`` (default today), today being :func:`clock`'s date."""
    return folder.with_dates(on, clock())
