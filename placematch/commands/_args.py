"""Argument types shared by the sub-commands: each parses one option's text or raises
``argparse.ArgumentTypeError`` saying what was expected (argparse adds the option's name)."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import math
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matcher.domain import CaseFolder
    from matcher.scoring import Scoring


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


#: What ``--scoring`` gives a command: the scoring set of a case folder.
ScoringOf = Callable[["CaseFolder"], "Scoring"]


def add_scoring(parser: argparse.ArgumentParser, what: str | None = None) -> None:
    """Add ``--scoring MODULE:NAME`` (the command's ``args.scoring``: ``None`` or a
    :data:`ScoringOf`); ``what`` says what the set changes for this command."""
    parser.add_argument(
        "--scoring",
        type=scoring_set,
        default=None,
        metavar="MODULE:NAME",
        help=(what or "score with your own factors and rules")
        + ": NAME in the importable MODULE (on PYTHONPATH or in the current directory) is a "
        "matcher.scoring.Scoring, or a function of the case folder returning one (default: "
        "the folder's own set)",
    )


def scoring_set(text: str) -> ScoringOf:
    """``--scoring MODULE:NAME``: ``NAME`` in the importable ``MODULE`` is a
    :class:`matcher.scoring.Scoring`, or a function taking the case folder and returning one.

    The module is imported here (the current directory is searched too, as ``python -m``
    would); a missing module or name, a module that fails to import, or a value that is not a
    scoring set is one line saying which.
    """
    from matcher.scoring import Scoring

    module_name, colon, name = text.strip().partition(":")
    if not colon or not module_name or not name:
        raise argparse.ArgumentTypeError(
            f"expected MODULE:NAME (e.g. my_factors:SCORING), not {text!r}"
        )
    module = _import(module_name, text)
    try:
        value = getattr(module, name)
    except AttributeError:
        found = sorted(k for k, v in vars(module).items() if isinstance(v, Scoring))
        hint = f" (it has: {', '.join(found)})" if found else ""
        raise argparse.ArgumentTypeError(
            f"{text!r}: module {module_name} has no {name}{hint}"
        ) from None
    if isinstance(value, Scoring):
        return lambda folder: value
    if not inspect.isfunction(value):
        raise argparse.ArgumentTypeError(
            f"{text!r}: {name} is a {type(value).__name__}, not a matcher.scoring.Scoring "
            "or a function of the case folder returning one"
        )

    def of(folder: CaseFolder) -> Scoring:
        got = value(folder)
        if not isinstance(got, Scoring):
            raise ValueError(
                f"--scoring {text!r}: {name}(folder) returned a {type(got).__name__}, not a "
                "matcher.scoring.Scoring"
            )
        return got

    return of


def _import(module_name: str, text: str) -> ModuleType:
    here = os.getcwd()
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise argparse.ArgumentTypeError(
                f"{text!r}: no module named {exc.name} (on PYTHONPATH or in the current directory)"
            ) from None
        raise argparse.ArgumentTypeError(
            f"{text!r}: importing {module_name} failed: {exc}"
        ) from None
    except Exception as exc:  # the user's module is broken: say how, in one line
        raise argparse.ArgumentTypeError(
            f"{text!r}: importing {module_name} failed: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        if added:
            sys.path.remove(here)
