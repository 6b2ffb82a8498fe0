"""Explanations: every point has a reason, every exclusion names its rule.

Plain frozen data returned by :mod:`matcher.candidates` and :mod:`matcher.rank`:

* :class:`FactorPoints` -- the points one factor gives one option, with a one-sentence reason;
* :class:`Exclusion` -- the hard rule (with its statutory or regulatory source) that excludes
  a vacancy for a child;
* :class:`Signoff` -- an approval the option would need (e.g. a nominated officer's for an
  out-of-area placement);
* :class:`Option` -- one eligible (child, vacancy) pair: its factors add up exactly to its
  ``score``;
* :class:`Ranking` and :class:`WhyNot` -- the answers of ``placematch rank`` and ``why-not``.

Reasons never contain personal data (no postcodes, names, needs or ethnicity of a child):
they say what was compared, not the child's values.

Sentences are built when they are read, not when the numbers are: a reason may be given as a
:class:`Deferred` (e.g. the factor's ``reason`` method bound to its pair), and a
:class:`Ranking` may defer building its options and exclusions until they are read. The
numbers are fixed when the object is made; the text, once built, is kept and is exactly
what building it at once would have given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

__all__ = [
    "SIGNOFF_CODES",
    "Deferred",
    "Exclusion",
    "FactorPoints",
    "Option",
    "Ranking",
    "Signoff",
    "WhyNot",
]

#: The sign-off codes an option may carry, with what each means.
SIGNOFF_CODES: dict[str, str] = {
    "out_of_area": (
        "placement outside the authority's area: nominated officer approval "
        "(Care Planning, Placement and Case Review (England) Regulations 2010 reg 11)"
    ),
    "not_adjoining": (
        "placement neither in the authority nor in an adjoining one: the host authority is "
        "notified and the nominated officer approves (Care Planning Regulations 2010 reg 11)"
    ),
    "ks4_school_move": (
        "a Key Stage 4 child would be placed beyond the school-move distance from their school: "
        "nominated officer approval (Care Planning Regulations 2010 reg 10)"
    ),
    "fostering_limit_exemption": (
        "more than three fostered children in one household (a sibling group placed together): "
        "record the decision under the usual fostering limit (Children Act 1989 Sch. 7)"
    ),
    "connected_person_temporary_approval": (
        "a connected person not yet approved as a foster carer: temporary approval "
        "(Care Planning Regulations 2010 reg 24)"
    ),
}


_T = TypeVar("_T")


class Deferred(Generic[_T]):
    """A value made by ``make(*args)`` the first time it is read, then kept.

    Equality, hashing, ``repr`` and pickling use the value (a pickle holds the value, not
    ``make`` and what it refers to). Reading from several threads at once is safe: at worst
    ``make`` runs more than once, and it must give the same value each time.

    Parameters
    ----------
    make
        A function; it should only read immutable data.
    *args
        Its arguments (kept rather than a closure: thousands are made per ranking, and a
        closure costs several more objects each).
    """

    __slots__ = ("_args", "_make", "_value")

    def __init__(self, make: Callable[..., _T], *args: Any) -> None:
        self._make: Callable[..., _T] | None = make
        self._args = args
        self._value: _T | None = None

    def get(self) -> _T:
        """The value (made now if it has not been yet)."""
        make, args = self._make, self._args
        if make is not None:
            self._value = make(*args)
            self._make = None  # after the value is set: a reader that sees None finds it
            self._args = ()
        return cast(_T, self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Deferred):
            other = other.get()
        return bool(self.get() == other)

    def __hash__(self) -> int:
        return hash(self.get())

    def __repr__(self) -> str:
        return repr(self.get())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_given, (self.get(),))


def _given(value: _T) -> _T:
    """Unpickling a :class:`Deferred`: its value itself."""
    return value


def _resolved(value: _T | Deferred[_T]) -> _T:
    return value.get() if isinstance(value, Deferred) else value


@dataclass(frozen=True, slots=True, repr=False)
class FactorPoints:
    """The points one factor gives one option.

    Attributes
    ----------
    factor : str
        The factor's name, e.g. ``"near_home"``.
    points : int
        Whole points (negative for cost).
    reason : str
        One sentence saying why, without personal data (given as the third argument, a
        string or a :class:`Deferred` one, built when first read).
    reference : str
        The factor's statutory or other basis (given by the factor that scored it, else
        looked up among the default factors by name).
    """

    factor: str
    points: int
    _reason: str | Deferred[str]
    _reference: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if type(self.points) is not int:
            raise ValueError(f"FactorPoints.points: expected an int, got {self.points!r}")

    @property
    def reason(self) -> str:
        """One sentence saying why, without personal data."""
        return _resolved(self._reason)

    @property
    def reference(self) -> str:
        """The factor's statutory or other basis (its class's ``reference``; empty for a
        factor outside the default set not given one)."""
        if self._reference is not None:
            return self._reference
        # imported here: the factors import the domain, which explanations do not need
        from matcher.factors import FACTOR_REFERENCES

        return FACTOR_REFERENCES.get(self.factor, "")

    def __repr__(self) -> str:
        return (
            f"FactorPoints(factor={self.factor!r}, points={self.points!r}, reason={self.reason!r})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Exclusion:
    """Why a vacancy cannot be offered to a child: the first hard rule it breaks.

    Attributes
    ----------
    child_id, vacancy_id : str
        The pair excluded.
    rule : str
        The hard rule's name, e.g. ``"age_within_approval"``.
    source : str
        Its statutory or regulatory source.
    reason : str
        One sentence, without personal data (given as the fifth argument, a string or a
        :class:`Deferred` one, built when first read).
    """

    child_id: str
    vacancy_id: str
    rule: str
    source: str
    _reason: str | Deferred[str]

    @property
    def reason(self) -> str:
        """One sentence, without personal data."""
        return _resolved(self._reason)

    def __repr__(self) -> str:
        return (
            f"Exclusion(child_id={self.child_id!r}, vacancy_id={self.vacancy_id!r}, "
            f"rule={self.rule!r}, source={self.source!r}, reason={self.reason!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "child_id": self.child_id,
            "vacancy_id": self.vacancy_id,
            "rule": self.rule,
            "source": self.source,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Signoff:
    """An approval an option would need; ``code`` is a key of :data:`SIGNOFF_CODES`."""

    code: str
    description: str

    def __post_init__(self) -> None:
        if self.code not in SIGNOFF_CODES:
            raise ValueError(
                f"Signoff.code {self.code!r}: expected one of {', '.join(SIGNOFF_CODES)}"
            )

    @classmethod
    def of(cls, code: str) -> Signoff:
        """The sign-off with this code and its standard description."""
        return cls(code, SIGNOFF_CODES[code])


@dataclass(frozen=True, slots=True)
class Option:
    """One eligible (child, vacancy) pair, fully explained.

    Attributes
    ----------
    child_id, vacancy_id : str
        The pair.
    score : int
        The sum of the factors' points (exactly).
    factors : tuple of FactorPoints
        One per factor of the default set, in its order.
    connected_person : bool
        The vacancy is a connected-person carer of this child (s22C(7)(a)).
    tier : int
        The lexicographic tier above the score: ``1`` for a connected person when
        ``connected_person_tier`` (else ``0``); with ``in_area_tier`` it is
        ``2 * connected_person + in_area``. Higher tiers beat any score.
    objective_points : int
        The folded objective coefficient: placement base + tier points + score (see
        :mod:`matcher.candidates`).
    distance_miles : float or None
        Straight-line miles from the child's home (903 grid formula, unrounded); ``None``
        for a child without a home postcode (separated migrant child).
    school_distance_miles : float or None
        Miles from the placement to the child's current school; ``None`` without one.
    in_area : bool
        The placement is in the authority's area (decided by its postcode).
    adjoining : bool
        In area or in an authority adjoining it.
    signoffs : tuple of Signoff
        The approvals this option would need.
    placement_type : str
        The vacancy's placement type.
    response : str or None
        The provider's answer to the child's referral for this vacancy (``offer`` or
        ``consider``; a ``decline`` excludes the vacancy), ``None`` when none is recorded.
    response_reason : str or None
        The reason code given with the answer, if any.
    """

    child_id: str
    vacancy_id: str
    score: int
    factors: tuple[FactorPoints, ...]
    connected_person: bool
    tier: int
    objective_points: int
    distance_miles: float | None
    school_distance_miles: float | None
    in_area: bool
    adjoining: bool
    signoffs: tuple[Signoff, ...]
    placement_type: str = ""
    response: str | None = None
    response_reason: str | None = None

    def __post_init__(self) -> None:
        total = sum(f.points for f in self.factors)
        if total != self.score:
            raise ValueError(
                f"Option {self.child_id}/{self.vacancy_id}: factors add up to {total}, "
                f"not the score {self.score}"
            )

    def points_of(self, factor: str) -> int:
        """The points of one factor (``KeyError`` if it is not in :attr:`factors`)."""
        for f in self.factors:
            if f.factor == factor:
                return f.points
        raise KeyError(factor)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the ``options`` items of ``placematch rank --json``)."""
        return {
            "vacancy_id": self.vacancy_id,
            "placement_type": self.placement_type,
            "points": self.score,
            "tier": self.tier,
            "connected_person": self.connected_person,
            "objective_points": self.objective_points,
            "factors": {f.factor: f.points for f in self.factors},
            "reasons": {f.factor: f.reason for f in self.factors},
            "references": {f.factor: f.reference for f in self.factors},
            "distance_miles": _round(self.distance_miles),
            "school_distance_miles": _round(self.school_distance_miles),
            "in_area": self.in_area,
            "adjoining": self.adjoining,
            "signoffs": [s.code for s in self.signoffs],
            "response": self.response,
            "response_reason": self.response_reason,
        }


def _round(miles: float | None) -> float | None:
    return None if miles is None else round(miles, 1)


@dataclass(frozen=True, slots=True, repr=False)
class Ranking:
    """Every eligible vacancy for one child, best first, and why the others are excluded.

    Attributes
    ----------
    child_id : str
    options : tuple of Option
        Best first: higher tier, then higher score, then the provider's answer (an offer,
        then one considering, then no answer), then vacancy id. Cut to ``top`` if given.
    n_eligible : int
        Eligible vacancies before the cut.
    exclusions : tuple of Exclusion
        One per excluded vacancy (its first rule), by vacancy id.
    excluded : dict
        Rule name -> vacancies it excluded (the first rule each breaks), in rule order,
        rules that excluded nothing left out.
    sources : dict
        Rule name -> statutory or regulatory source, for the rules in ``excluded``.

    ``options`` and ``exclusions`` may be given as :class:`Deferred` tuples: they are then
    built when first read (:func:`matcher.rank.rank_child` does so; the counts are not
    deferred).
    """

    child_id: str
    _options: tuple[Option, ...] | Deferred[tuple[Option, ...]]
    n_eligible: int
    _exclusions: tuple[Exclusion, ...] | Deferred[tuple[Exclusion, ...]]
    excluded: dict[str, int]
    sources: dict[str, str]

    @property
    def options(self) -> tuple[Option, ...]:
        """Best first: higher tier, then higher score, then the provider's answer (offer,
        consider, none), then vacancy id (cut to ``top``)."""
        return _resolved(self._options)

    @property
    def exclusions(self) -> tuple[Exclusion, ...]:
        """One per excluded vacancy (its first rule), by vacancy id."""
        return _resolved(self._exclusions)

    def __repr__(self) -> str:
        return (
            f"Ranking(child_id={self.child_id!r}, options={self.options!r}, "
            f"n_eligible={self.n_eligible!r}, exclusions={self.exclusions!r}, "
            f"excluded={self.excluded!r}, sources={self.sources!r})"
        )

    def summary(self) -> dict[str, Any]:
        """One line's worth: eligible count, the best option and the exclusions per rule."""
        best = self.options[0] if self.options else None
        return {
            "child_id": self.child_id,
            "eligible": self.n_eligible,
            "best_vacancy_id": None if best is None else best.vacancy_id,
            "best_points": None if best is None else best.score,
            "best_signoffs": [] if best is None else [s.code for s in best.signoffs],
            "excluded": dict(self.excluded),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``placematch rank --json``)."""
        return {
            "child_id": self.child_id,
            "eligible": self.n_eligible,
            "options": [o.to_dict() for o in self.options],
            "excluded": dict(self.excluded),
            "excluded_sources": dict(self.sources),
            "exclusions": [
                {"vacancy_id": e.vacancy_id, "rule": e.rule, "reason": e.reason}
                for e in self.exclusions
            ],
        }


@dataclass(frozen=True, slots=True)
class WhyNot:
    """Why a vacancy is not (or is) a child's best option.

    Attributes
    ----------
    child_id, vacancy_id : str
    exclusion : Exclusion or None
        The first hard rule that excludes the vacancy; ``None`` if it is eligible.
    also_broken : tuple of str
        Further rules it breaks after the first (names), for completeness.
    option : Option or None
        The vacancy as an option, when eligible.
    best : Option or None
        The child's best option (``None`` if the child has none).
    gains, losses : dict
        Factor -> points the vacancy gains (positive) or loses (negative) against ``best``;
        factors with no difference are left out. The differences add up to
        ``option.score - best.score``.
    """

    child_id: str
    vacancy_id: str
    exclusion: Exclusion | None
    also_broken: tuple[str, ...]
    option: Option | None
    best: Option | None
    gains: dict[str, int]
    losses: dict[str, int]

    @property
    def eligible(self) -> bool:
        """Whether the vacancy passes every hard rule for the child."""
        return self.exclusion is None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``placematch why-not --json``)."""
        out: dict[str, Any] = {
            "child_id": self.child_id,
            "vacancy_id": self.vacancy_id,
            "eligible": self.eligible,
        }
        if self.exclusion is not None:
            out["rule"] = self.exclusion.rule
            out["source"] = self.exclusion.source
            out["reason"] = self.exclusion.reason
            out["also_broken"] = list(self.also_broken)
            return out
        assert self.option is not None
        out["points"] = self.option.score
        out["tier"] = self.option.tier
        out["factors"] = {f.factor: f.points for f in self.option.factors}
        out["reasons"] = {f.factor: f.reason for f in self.option.factors}
        out["references"] = {f.factor: f.reference for f in self.option.factors}
        out["signoffs"] = [s.code for s in self.option.signoffs]
        out["best"] = (
            None
            if self.best is None
            else {
                "vacancy_id": self.best.vacancy_id,
                "points": self.best.score,
                "tier": self.best.tier,
            }
        )
        out["gains"] = dict(self.gains)
        out["losses"] = dict(self.losses)
        return out
