"""Soft factors: one module, one class, one statutory basis each.

:data:`DEFAULT_FACTORS` is the default set, in the order points are reported. Every factor
follows the :class:`~matcher.factors.base.Factor` protocol and carries what is shown of it
(name, label, short header, statutory reference) and where its weight comes from
(``weight_key``): adding a factor is its module and one entry in that tuple (or in the
factors of a :class:`matcher.scoring.Scoring` passed in). Hard rules live in
:mod:`matcher.rules`.
"""

from __future__ import annotations

from matcher.domain import CaseFolder
from matcher.factors.age_gap import AgeGap
from matcher.factors.base import Factor, FolderArrays, Pairs, distance_points, policy_weight
from matcher.factors.connected_person import ConnectedPerson
from matcher.factors.cost import Cost
from matcher.factors.culture_language import CultureLanguage
from matcher.factors.disability import Disability
from matcher.factors.education import Education
from matcher.factors.in_area import InArea
from matcher.factors.near_home import NearHome
from matcher.factors.ofsted import Ofsted
from matcher.factors.own_carers import OwnCarers
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

#: The factor only a pooled folder (vacancies naming ``owner_la``) is scored on, last.
POOLED_FACTORS: tuple[Factor, ...] = (OwnCarers(),)

#: Each factor's statutory or other basis (its ``reference``), by name: what every
#: explanation cites beside the factor's points.
FACTOR_REFERENCES: dict[str, str] = {f.name: f.reference for f in DEFAULT_FACTORS + POOLED_FACTORS}

#: Each factor's column header on the officer's page (its ``label``), by name.
FACTOR_LABELS: dict[str, str] = {f.name: f.label for f in DEFAULT_FACTORS + POOLED_FACTORS}

#: Each factor's column header in ``placematch rank``'s table (its ``short``), by name.
FACTOR_SHORT: dict[str, str] = {f.name: f.short for f in DEFAULT_FACTORS + POOLED_FACTORS}

#: The factors about the children already living there: 0 for every pair of a folder without
#: ``residents.csv``, so the officer's table shows them only for a folder with residents.
RESIDENT_FACTORS: frozenset[str] = frozenset({AgeGap.name, SharedNeeds.name})


def factors_for(folder: CaseFolder) -> tuple[Factor, ...]:
    """The factors a folder is scored on: :data:`DEFAULT_FACTORS`, less the factors about
    residents when the folder has no ``residents.csv`` (they would give 0 to every pair).

    Leaving them out keeps such a folder's answers exactly as they were before residents
    were known -- the same factors in every explanation and ``candidates.csv``, and the same
    point bounds, so the same folded objective -- and computes nothing for them.

    A pooled folder (:func:`is_pooled`) adds :data:`POOLED_FACTORS` last; any other folder
    is scored exactly as before pooling.
    """
    base = DEFAULT_FACTORS if folder.residents else _WITHOUT_RESIDENTS
    if folder.derived(is_pooled):
        return base + POOLED_FACTORS
    return base


def is_pooled(folder: CaseFolder) -> bool:
    """Whether the folder pools several authorities' supply (a vacancy names ``owner_la``)."""
    return any(v.owner is not None for v in folder.vacancies)


_WITHOUT_RESIDENTS: tuple[Factor, ...] = tuple(
    f for f in DEFAULT_FACTORS if f.name not in RESIDENT_FACTORS
)

__all__ = [
    "DEFAULT_FACTORS",
    "FACTOR_LABELS",
    "FACTOR_REFERENCES",
    "FACTOR_SHORT",
    "POOLED_FACTORS",
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
    "OwnCarers",
    "Pairs",
    "SharedNeeds",
    "Siblings",
    "distance_points",
    "factors_for",
    "is_pooled",
    "policy_weight",
]
