"""Placement types: the engine's own groups, mapped to SSDA903 ``PLACE`` and ``PLACE_PROVIDER``.

The case-folder vocabulary (``placement_type`` in ``vacancies.csv``, ``placement_types`` in
``children.csv``) is the set of :class:`PlacementType` values. Each type maps to the 903
codes a placement of that type is returned with, and to the coarse *sufficiency group*
commissioners count beds by (fostering, residential, supported accommodation, other).

Code lists: DfE "Children looked after return" guide, as encoded in
``csc-validator-be-903`` 0.1.17 (MIT); copied in ``matcher/data/ssda903_codes.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources


class PlacementType(StrEnum):
    """A kind of home, as the case folder names it."""

    CONNECTED_PERSON_FOSTER = "connected_person_foster"
    INHOUSE_FOSTER = "inhouse_foster"
    AGENCY_FOSTER = "agency_foster"
    CHILDRENS_HOME = "childrens_home"
    SUPPORTED_ACCOMMODATION = "supported_accommodation"
    PARENT_AND_CHILD = "parent_and_child"
    SECURE_HOME = "secure_home"

    @classmethod
    def parse(cls, text: str) -> PlacementType:
        """Parse a case-insensitive value, or raise ``ValueError`` listing the vocabulary."""
        key = text.strip().lower()
        try:
            return cls(key)
        except ValueError:
            allowed = ", ".join(t.value for t in cls)
            raise ValueError(
                f"unknown placement type {text!r}; expected one of: {allowed}"
            ) from None


class SufficiencyGroup(StrEnum):
    """The groups sufficiency strategies count places by."""

    FOSTERING = "fostering"
    RESIDENTIAL = "residential"
    SUPPORTED_ACCOMMODATION = "supported_accommodation"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Ssda903Mapping:
    """How a placement type is returned in SSDA903.

    Attributes
    ----------
    place : str
        The ``PLACE`` code written for a new placement of this type.
    place_provider : str
        The ``PLACE_PROVIDER`` code written for it.
    place_codes : frozenset[str]
        Every ``PLACE`` code that is read back as this type on 903 import.
    """

    place: str
    place_provider: str
    place_codes: frozenset[str]


#: The 903 codes each type is written as. Fostering types use the "not long term" codes
#: (U3, U6) because a new placement's long-term status is decided later by the plan.
SSDA903: dict[PlacementType, Ssda903Mapping] = {
    PlacementType.CONNECTED_PERSON_FOSTER: Ssda903Mapping(
        "U3", "PR1", frozenset({"U1", "U2", "U3"})
    ),
    PlacementType.INHOUSE_FOSTER: Ssda903Mapping("U6", "PR1", frozenset({"U4", "U5", "U6"})),
    PlacementType.AGENCY_FOSTER: Ssda903Mapping("U6", "PR4", frozenset({"U4", "U5", "U6"})),
    PlacementType.CHILDRENS_HOME: Ssda903Mapping("K2", "PR4", frozenset({"K2", "R1"})),
    PlacementType.SUPPORTED_ACCOMMODATION: Ssda903Mapping(
        "K3", "PR4", frozenset({"K3", "H5", "P2"})
    ),
    PlacementType.PARENT_AND_CHILD: Ssda903Mapping("R3", "PR4", frozenset({"R3"})),
    # Secure children's homes are local-authority run, and a child almost always goes to
    # another authority's (England has only about 13): "other LA provision". PR1 would break
    # DfE rule 1015 for any placement outside the child's own authority.
    PlacementType.SECURE_HOME: Ssda903Mapping("K1", "PR2", frozenset({"K1"})),
}

#: The sufficiency group each type's places are counted in.
SUFFICIENCY_GROUP: dict[PlacementType, SufficiencyGroup] = {
    PlacementType.CONNECTED_PERSON_FOSTER: SufficiencyGroup.FOSTERING,
    PlacementType.INHOUSE_FOSTER: SufficiencyGroup.FOSTERING,
    PlacementType.AGENCY_FOSTER: SufficiencyGroup.FOSTERING,
    PlacementType.CHILDRENS_HOME: SufficiencyGroup.RESIDENTIAL,
    PlacementType.SECURE_HOME: SufficiencyGroup.RESIDENTIAL,
    PlacementType.SUPPORTED_ACCOMMODATION: SufficiencyGroup.SUPPORTED_ACCOMMODATION,
    PlacementType.PARENT_AND_CHILD: SufficiencyGroup.OTHER,
}

#: Fostering types: the Children Act 1989 Sch. 7 limit of three fostered children applies.
FOSTERING_TYPES: frozenset[PlacementType] = frozenset(
    t for t, g in SUFFICIENCY_GROUP.items() if g is SufficiencyGroup.FOSTERING
)


@dataclass(frozen=True, slots=True)
class Ssda903Code:
    """One row of the bundled 903 code lists."""

    field: str
    code: str
    description: str
    engine_group: str
    note: str


@cache
def ssda903_codes() -> tuple[Ssda903Code, ...]:
    """The bundled SSDA903 code lists (PLACE, PLACE_PROVIDER, RNE, LS, CIN, REC, ...)."""
    text = resources.files("matcher").joinpath("data/ssda903_codes.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    return tuple(
        Ssda903Code(r["field"], r["code"], r["description"], r["engine_group"], r["note"])
        for r in rows
    )


def codes_for(field: str) -> dict[str, Ssda903Code]:
    """The codes of one 903 field, by code (e.g. ``codes_for("PLACE")["K2"]``)."""
    return {c.code: c for c in ssda903_codes() if c.field == field}


def sufficiency_group_of_place(place: str) -> SufficiencyGroup:
    """The sufficiency group a 903 ``PLACE`` code is counted in.

    Kinship and other fostering count as fostering; children's homes, residential care
    homes, secure homes and residential schools as residential; K3 and the legacy H5/P2 as
    supported accommodation; everything else (placed with parents, adoption, health,
    custody, temporary, Z1x) as other.
    """
    code = codes_for("PLACE").get(place.strip().upper())
    if code is None:
        raise ValueError(f"unknown SSDA903 PLACE code {place!r}")
    group = code.engine_group
    if group in {"foster", "kinship_foster"}:
        return SufficiencyGroup.FOSTERING
    if group in {"residential", "secure", "residential_school"}:
        return SufficiencyGroup.RESIDENTIAL
    if group == "supported_accommodation":
        return SufficiencyGroup.SUPPORTED_ACCOMMODATION
    return SufficiencyGroup.OTHER
