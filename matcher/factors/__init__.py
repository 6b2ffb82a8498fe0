"""Soft factors: one module, one class, one statutory basis each.

:data:`DEFAULT_FACTORS` is the default set, in the order points are reported. Every factor
follows the :class:`~matcher.factors.base.Factor` protocol; hard rules live in
:mod:`matcher.rules`.
"""

from __future__ import annotations

from matcher.domain import CaseFolder
from matcher.factors.age_gap import AgeGap
from matcher.factors.base import Factor, FolderArrays, Pairs, distance_points
from matcher.factors.connected_person import ConnectedPerson
from matcher.factors.cost import Cost
from matcher.factors.culture_language import CultureLanguage
from matcher.factors.disability import Disability
from matcher.factors.education import Education
from matcher.factors.in_area import InArea
from matcher.factors.near_home import NearHome
from matcher.factors.ofsted import Ofsted
from matcher.factors.shared_needs import SharedNeeds
from matcher.factors.siblings import Siblings

#: The default factors, in the statutory order of s22C, then the other considerations, and
#: last the two about the children already living there (0 without ``residents.csv``).
DEFAULT_FACTORS: tuple[Factor, ...] = (
    ConnectedPerson(),
    NearHome(),
    Education(),
    Siblings(),
    Disability(),
    InArea(),
    Ofsted(),
    Cost(),
    CultureLanguage(),
    AgeGap(),
    SharedNeeds(),
)

#: Each default factor's statutory or other basis (its ``reference``), by name: what every
#: explanation cites beside the factor's points.
FACTOR_REFERENCES: dict[str, str] = {f.name: f.reference for f in DEFAULT_FACTORS}

#: The factors about the children already living there: 0 for every pair of a folder without
#: ``residents.csv``, so the officer's table shows them only for a folder with residents.
RESIDENT_FACTORS: frozenset[str] = frozenset({AgeGap.name, SharedNeeds.name})


def factors_for(folder: CaseFolder) -> tuple[Factor, ...]:
    """The factors a folder is scored on: :data:`DEFAULT_FACTORS`, less the factors about
    residents when the folder has no ``residents.csv`` (they would give 0 to every pair).

    Leaving them out keeps such a folder's answers exactly as they were before residents
    were known -- the same factors in every explanation and ``candidates.csv``, and the same
    point bounds, so the same folded objective -- and computes nothing for them.
    """
    if folder.residents:
        return DEFAULT_FACTORS
    return _WITHOUT_RESIDENTS


_WITHOUT_RESIDENTS: tuple[Factor, ...] = tuple(
    f for f in DEFAULT_FACTORS if f.name not in RESIDENT_FACTORS
)

__all__ = [
    "DEFAULT_FACTORS",
    "FACTOR_REFERENCES",
    "RESIDENT_FACTORS",
    "AgeGap",
    "ConnectedPerson",
    "Cost",
    "CultureLanguage",
    "Disability",
    "Education",
    "Factor",
    "FolderArrays",
    "InArea",
    "NearHome",
    "Ofsted",
    "Pairs",
    "SharedNeeds",
    "Siblings",
    "distance_points",
    "factors_for",
]
