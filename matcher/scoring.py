"""The scoring set: which soft factors score a pair and which hard rules exclude it.

A :class:`Scoring` is frozen and passed in: assessment (:mod:`matcher.assess`), ranking
(:mod:`matcher.rank`), candidate generation (:mod:`matcher.candidates`) and the batch match
(:mod:`matcher.match`) all take one, and use the folder's default
(:meth:`Scoring.for_folder`: :func:`matcher.factors.factors_for` and
:data:`matcher.rules.DEFAULT_RULES`) when given none. A factor brings its own name, label,
short column header, statutory reference and weight, so adding one is its module and one
entry in a tuple of factors.

Where a folder is cut into parts (a pooled folder's authorities, :mod:`matcher.pooled`), a
set may also be given as a function of the folder (:data:`ScoringOf`): each part is then
scored under the set the function returns for it (:func:`scoring_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from matcher.domain import CaseFolder
from matcher.factors import factors_for
from matcher.factors.base import Factor
from matcher.rules import DEFAULT_RULES, Rule

__all__ = ["Scoring", "ScoringOf", "scoring_for"]


@dataclass(frozen=True, slots=True)
class Scoring:
    """The factors (in the order points are reported) and the hard rules (in attribution
    order: the first broken is reported) of an assessment.

    Attributes
    ----------
    factors : tuple of Factor
    rules : tuple of Rule
    """

    factors: tuple[Factor, ...]
    rules: tuple[Rule, ...] = DEFAULT_RULES

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "rules", tuple(self.rules))
        for kind, items in (("factor", self.factors), ("rule", self.rules)):
            names = [x.name for x in items]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"Scoring: {kind} names must be unique, repeated: {twice}")

    @classmethod
    def for_folder(cls, folder: CaseFolder) -> Scoring:
        """The folder's default set: :func:`~matcher.factors.factors_for` the folder and
        :data:`~matcher.rules.DEFAULT_RULES` (kept with the folder: built once)."""
        return folder.derived(_default)

    @classmethod
    def of(cls, folder: CaseFolder, scoring: Scoring | None) -> Scoring:
        """``scoring``, or the folder's default when ``None``."""
        return cls.for_folder(folder) if scoring is None else scoring

    @property
    def factor_names(self) -> tuple[str, ...]:
        """The factors' names, in order."""
        return tuple(f.name for f in self.factors)

    def with_factors(self, factors: Sequence[Factor]) -> Scoring:
        """The same rules with other factors."""
        return Scoring(tuple(factors), self.rules)


#: A scoring set, or a function of a case folder returning one (``--scoring MODULE:NAME``).
ScoringOf: TypeAlias = Scoring | Callable[[CaseFolder], Scoring]


def scoring_for(folder: CaseFolder, given: ScoringOf | None) -> Scoring | None:
    """The set ``given`` means for ``folder``: itself, what the function returns for the
    folder, or ``None`` (the folder's own) when none is given.

    Raises
    ------
    TypeError
        If the function returns something else than a :class:`Scoring`.
    """
    if given is None or isinstance(given, Scoring):
        return given
    got = given(folder)
    if not isinstance(got, Scoring):
        raise TypeError(
            f"a scoring function returned a {type(got).__name__}, not a matcher.scoring.Scoring"
        )
    return got


def _default(folder: CaseFolder) -> Scoring:
    return Scoring(factors_for(folder), DEFAULT_RULES)
