"""Soft factors: one module, one class, one statutory basis each.

:data:`DEFAULT_FACTORS` is the default set, in the order points are reported. Every factor
follows the :class:`~matcher.factors.base.Factor` protocol; hard rules live in
:mod:`matcher.rules`.
"""

from __future__ import annotations

from matcher.factors.base import Factor, FolderArrays, Pairs, distance_points
from matcher.factors.connected_person import ConnectedPerson
from matcher.factors.cost import Cost
from matcher.factors.culture_language import CultureLanguage
from matcher.factors.disability import Disability
from matcher.factors.education import Education
from matcher.factors.in_area import InArea
from matcher.factors.near_home import NearHome
from matcher.factors.ofsted import Ofsted
from matcher.factors.siblings import Siblings

#: The default factors, in the statutory order of s22C, then the other considerations.
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
)

__all__ = [
    "DEFAULT_FACTORS",
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
    "Siblings",
    "distance_points",
]
