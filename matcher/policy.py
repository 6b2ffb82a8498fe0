"""Matching policy: factor weights and thresholds, loadable from ``policy.toml``.

Every key, its type, default and meaning is declared once, on the dataclass fields below;
``placematch schema`` and ``docs/case-folder.md`` print the same declarations. Points are
integers (the solver sees integers only); distances are miles; costs are whole pounds a week.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.bounds import (
    MAX_KEY_STAGE_4_MULTIPLIER,
    MAX_MILES,
    MAX_SIBLING_SPLIT_COST,
    MAX_WEEKLY_COST,
    MAX_WEIGHT,
)
from matcher.files import MAX_POLICY_BYTES, content_text, read_bytes
from matcher.problems import CaseFolderError, Problem

_SAVE_AS = "save it as UTF-8 text"

#: The statutory soft factors (Children Act 1989 s22C(8)-(9)); cost may never outweigh one.
STATUTORY_WEIGHTS: tuple[str, ...] = ("near_home", "education", "siblings", "disability", "in_area")


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True, slots=True)
class Weights:
    """Points each factor can give (whole numbers, 0 switches a factor off).

    Attributes
    ----------
    connected_person : int
        Points for a connected-person carer (s22C(7)(a)); used only when
        ``connected_person_tier`` is false, otherwise connected persons form a top tier.
    near_home : int
        Points for a placement at the child's home postcode (s22C(8)(a)); they fall with
        distance (see ``distance_step_miles``, ``distance_zero_miles``).
    education : int
        Points for a placement at the child's school (s22C(8)(b)); multiplied by
        ``key_stage_4_multiplier`` for children of Key Stage 4 age.
    siblings : int
        Points per child placed with its whole sibling group (s22C(8)(c)); matters only when
        ``allow_sibling_split`` is true, otherwise siblings are placed as units (hard).
    disability : int
        Points when a disabled child's placement has the ``disability`` capability
        (s22C(8)(d)); required adaptations are hard rules, not points.
    in_area : int
        Points for a placement within the authority's area (s22C(9)); used when
        ``in_area_tier`` is false.
    ofsted : int
        Points for an ``outstanding`` home, falling by grade to none for ``inadequate``.
    cost : int
        The most points weekly cost can take away; must not exceed any non-zero statutory
        weight (``near_home``, ``education``, ``siblings``, ``disability``, ``in_area``).
    culture_language : int
        Points for a household sharing the child's ethnicity, religion or language
        (UNCRC Art. 20; s22(5)(c)).
    age_gap : int
        The most points a wide age gap to the children living there takes away
        (``residents.csv``; see ``resident_age_gap_years``).
    shared_needs : int
        Points when children living there share the child's needs (``residents.csv``).
    own_carers : int
        Points for the child's own authority's in-house foster carer in a pooled folder, when
        ``own_carers_first`` is true; then, like ``cost``, it must not exceed any non-zero
        statutory weight (a preference among suitable options, never above s22C(8)).
    """

    connected_person: int = field(
        default=1000, metadata=_doc("points for a connected person when not a tier (s22C(7)(a))")
    )
    near_home: int = field(default=100, metadata=_doc("points at the home postcode (s22C(8)(a))"))
    education: int = field(default=80, metadata=_doc("points at the child's school (s22C(8)(b))"))
    siblings: int = field(
        default=100, metadata=_doc("points per child kept with its siblings (s22C(8)(c))")
    )
    disability: int = field(
        default=60, metadata=_doc("points for a disability-capable placement (s22C(8)(d))")
    )
    in_area: int = field(default=80, metadata=_doc("points within the authority (s22C(9))"))
    ofsted: int = field(default=30, metadata=_doc("points for an outstanding Ofsted grade"))
    cost: int = field(
        default=20, metadata=_doc("most points cost can take away; <= every statutory weight")
    )
    culture_language: int = field(
        default=30, metadata=_doc("points for shared ethnicity, religion, language (UNCRC 20)")
    )
    age_gap: int = field(
        default=40, metadata=_doc("most points a wide age gap to the residents takes away")
    )
    shared_needs: int = field(
        default=20, metadata=_doc("points when residents share the child's needs")
    )
    own_carers: int = field(
        default=40,
        metadata=_doc("points for own in-house carers when own_carers_first; <= statutory"),
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if type(value) is not int or not 0 <= value <= MAX_WEIGHT:
                raise ValueError(
                    f"weights.{f.name}: expected a whole number from 0 to {MAX_WEIGHT:,}"
                )
        statutory = {name: getattr(self, name) for name in STATUTORY_WEIGHTS}
        nonzero = {k: v for k, v in statutory.items() if v > 0}
        if nonzero:
            smallest = min(nonzero, key=lambda k: nonzero[k])
            if self.cost > nonzero[smallest]:
                raise ValueError(
                    f"weights.cost: expected at most weights.{smallest} ({nonzero[smallest]}): "
                    "cost may never outweigh a statutory factor"
                )

    def own_carers_cap(self) -> tuple[str, int] | None:
        """The smallest non-zero statutory weight (name, points): the most
        ``own_carers`` may be when it is scored; ``None`` when every one is 0."""
        nonzero = {k: getattr(self, k) for k in STATUTORY_WEIGHTS if getattr(self, k) > 0}
        if not nonzero:
            return None
        smallest = min(nonzero, key=lambda k: nonzero[k])
        return smallest, nonzero[smallest]


@dataclass(frozen=True, slots=True)
class Policy:
    """How the matcher weighs options. Defaults follow the Children Act 1989 s22C reading.

    Attributes
    ----------
    weights : Weights
        Points per factor (the ``[weights]`` table of ``policy.toml``).
    connected_person_tier : bool
        True (default): a suitable connected-person carer beats every other option
        (lexicographic top tier, s22C(7)(a)). False: ``weights.connected_person`` points.
    in_area_tier : bool
        False (default): being in area is a strong soft factor (``weights.in_area``). True: an
        in-area option beats every out-of-area one below the connected-person tier.
    authority : str or None
        The authority whose area counts as "in area" for every child (ONS code, DfE number or
        name), e.g. for a trust placing for several; default: each child's own ``la``.
    distance_step_miles : float
        The step in near-home and school points (SSDA903 ``PL_DISTANCE`` reporting threshold).
    distance_step_share : float
        Share (0-1) of the near-home or education weight lost at the step.
    distance_zero_miles : float
        Distance at which near-home and education points reach zero.
    key_stage_4_min_age, key_stage_4_max_age : int
        Ages counted as Key Stage 4 (GCSE years), whose school move is weighed more heavily.
    key_stage_4_multiplier : float
        Multiplier of the education weight for Key Stage 4 children.
    cost_scale_weekly : int
        Weekly cost in whole pounds at which the full ``weights.cost`` is taken away; costs
        above it take away no more (the cost cap).
    allow_sibling_split : bool
        False (default): sibling groups are placed together or not at all (hard). True: a
        group may be split at ``sibling_split_cost`` per extra placement, and every split is
        reported.
    sibling_split_cost : int
        Points lost for each extra placement a sibling group is split across.
    resident_age_gap_years : int
        The widest age gap, in years, between a child and the children living there
        (``residents.csv``) that costs no points; each year beyond takes away a quarter of
        ``weights.age_gap``.
    candidate_radius_miles : float
        0 (default): every vacancy is considered for every child. Above 0: only vacancies
        within this many miles of a member of the child's sibling unit, widened to the nearest
        ``candidate_min_options`` eligible ones where fewer lie within it. A cut-off for
        regional and national pools, not a proof: reported with every result
        (:mod:`matcher.screen`).
    candidate_min_options : int
        With a radius: the fewest eligible vacancies each child keeps, nearest first.
    own_carers_first : bool
        False (default): in a pooled folder every authority's in-house foster carers are
        offered to every child on the same terms. True: ``weights.own_carers`` points for a
        carer in-house to the child's own authority (``owner_la`` is the child's ``la``), so
        that among suitable options the authority's own carers come first; never above a
        statutory factor (the weight is capped like ``cost``). Only scored in pooled folders.
    overrides : tuple of AuthorityOverride
        Per-authority changes of a pooled folder (``[authority."Essex"]`` tables of
        ``policy.toml``): each authority's children are scored under this policy with its
        changes (:meth:`for_changes`). Only the keys of :data:`AUTHORITY_KEYS` may change.
    """

    weights: Weights = field(default_factory=Weights, metadata=_doc("the [weights] table"))
    connected_person_tier: bool = field(
        default=True, metadata=_doc("connected persons beat every other option (s22C(7)(a))")
    )
    in_area_tier: bool = field(
        default=False, metadata=_doc("in area beats out of area (a tier) instead of points")
    )
    authority: str | None = field(
        default=None, metadata=_doc("authority for in area (default: each child's own la)")
    )
    distance_step_miles: float = field(
        default=20.0, metadata=_doc("step in near-home/school points (903 PL_DISTANCE, 20 miles)")
    )
    distance_step_share: float = field(
        default=0.25, metadata=_doc("share of near_home/education points lost at the step")
    )
    distance_zero_miles: float = field(
        default=100.0, metadata=_doc("miles at which near-home and education points reach 0")
    )
    key_stage_4_min_age: int = field(default=14, metadata=_doc("youngest Key Stage 4 age"))
    key_stage_4_max_age: int = field(default=16, metadata=_doc("oldest Key Stage 4 age"))
    key_stage_4_multiplier: float = field(
        default=2.0, metadata=_doc("education weight multiplier in Key Stage 4")
    )
    cost_scale_weekly: int = field(
        default=10000, metadata=_doc("weekly cost (GBP) that takes away all of weights.cost")
    )
    allow_sibling_split: bool = field(
        default=False, metadata=_doc("allow sibling groups to be split (reported) at a cost")
    )
    sibling_split_cost: int = field(
        default=500, metadata=_doc("points lost per extra placement of a split sibling group")
    )
    resident_age_gap_years: int = field(
        default=3, metadata=_doc("age gap (years) to the residents that costs no points")
    )
    candidate_radius_miles: float = field(
        default=0.0,
        metadata=_doc("consider only vacancies within this many miles (0: all; a reported cut)"),
    )
    candidate_min_options: int = field(
        default=20, metadata=_doc("with a radius: eligible vacancies each child keeps at least")
    )
    own_carers_first: bool = field(
        default=False,
        metadata=_doc("pooled: own authority's in-house carers first (weights.own_carers)"),
    )
    overrides: tuple[AuthorityOverride, ...] = field(
        default=(), metadata=_doc('[authority."NAME"] tables: per-authority changes')
    )

    def __post_init__(self) -> None:
        # Every comparison below is False for NaN, so NaN is refused with the rest; infinity
        # is refused by the upper bounds. Nothing unbounded reaches the integer points.
        miles = f"a number of miles up to {MAX_MILES:,.0f}"
        checks: list[tuple[bool, str, str]] = [
            (
                0 < self.distance_step_miles <= MAX_MILES,
                "distance_step_miles",
                f"{miles}, > 0",
            ),
            (0 <= self.distance_step_share <= 1, "distance_step_share", "a share from 0 to 1"),
            (
                self.distance_step_miles < self.distance_zero_miles <= MAX_MILES,
                "distance_zero_miles",
                f"{miles}, more than distance_step_miles",
            ),
            (0 <= self.key_stage_4_min_age <= 17, "key_stage_4_min_age", "an age from 0 to 17"),
            (
                self.key_stage_4_min_age <= self.key_stage_4_max_age <= 17,
                "key_stage_4_max_age",
                "an age from key_stage_4_min_age to 17",
            ),
            (
                1 <= self.key_stage_4_multiplier <= MAX_KEY_STAGE_4_MULTIPLIER,
                "key_stage_4_multiplier",
                f"a number from 1 to {MAX_KEY_STAGE_4_MULTIPLIER:g}",
            ),
            (
                0 < self.cost_scale_weekly <= MAX_WEEKLY_COST,
                "cost_scale_weekly",
                f"whole pounds from 1 to {MAX_WEEKLY_COST:,}",
            ),
            (
                0 <= self.sibling_split_cost <= MAX_SIBLING_SPLIT_COST,
                "sibling_split_cost",
                f"a whole number from 0 to {MAX_SIBLING_SPLIT_COST:,}",
            ),
            (
                0 <= self.resident_age_gap_years <= 25,
                "resident_age_gap_years",
                "a whole number of years from 0 to 25",
            ),
            (
                0 <= self.candidate_radius_miles <= MAX_MILES,
                "candidate_radius_miles",
                f"{miles}, 0 for no cut-off",
            ),
            (
                1 <= self.candidate_min_options <= 100_000,
                "candidate_min_options",
                "a whole number from 1 to 100000",
            ),
            (
                self.authority is None or bool(self.authority.strip()),
                "authority",
                "an ONS code, DfE number or name",
            ),
        ]
        for ok, key, expected in checks:
            if not ok:
                raise ValueError(f"{key}: expected {expected}")
        cap = self.weights.own_carers_cap()
        if self.own_carers_first and cap is not None and self.weights.own_carers > cap[1]:
            raise ValueError(
                f"weights.own_carers: expected at most weights.{cap[0]} ({cap[1]}) with "
                "own_carers_first: an own-carers preference may never outweigh a statutory factor"
            )
        if not all(isinstance(o, AuthorityOverride) for o in self.overrides):
            raise ValueError("overrides: expected AuthorityOverride values")
        if self.overrides and self.authority is not None:
            raise ValueError(
                "authority: expected either one authority for every child or per-authority "
                'tables ([authority."NAME"]), not both'
            )
        for o in self.overrides:
            self.for_changes(o.changes)  # each authority's policy is valid, or refused here

    def for_changes(self, changes: tuple[tuple[str, object], ...]) -> Policy:
        """This policy with ``changes`` (``key`` or ``weights.key`` -> value) and no overrides.

        Raises
        ------
        ValueError
            Naming the key, if a value is out of range (as a whole policy would be refused).
        """
        top: dict[str, Any] = {k: v for k, v in changes if not k.startswith("weights.")}
        weights: dict[str, Any] = {
            k.removeprefix("weights."): v for k, v in changes if k.startswith("weights.")
        }
        return dataclasses.replace(
            self,
            weights=dataclasses.replace(self.weights, **weights) if weights else self.weights,
            overrides=(),
            **top,
        )

    def to_toml(self) -> str:
        """This policy as ``policy.toml`` text (every key, so the file documents itself)."""
        lines: list[str] = []
        for f in dataclasses.fields(self):
            if f.name in {"weights", "overrides"}:
                continue
            value = getattr(self, f.name)
            if value is not None:
                lines.append(f"{f.name} = {_toml_value(value)}  # {f.metadata['doc']}")
        lines.append("")
        lines.append("[weights]")
        for f in dataclasses.fields(self.weights):
            value = getattr(self.weights, f.name)
            lines.append(f"{f.name} = {_toml_value(value)}  # {f.metadata['doc']}")
        for o in self.overrides:
            lines.append("")
            lines.append(f"[authority.{_toml_value(o.authority)}]")
            top = [(k, v) for k, v in o.changes if not k.startswith("weights.")]
            weights = [(k, v) for k, v in o.changes if k.startswith("weights.")]
            lines += [f"{k} = {_toml_value(v)}" for k, v in top]
            if weights:
                lines.append(f"[authority.{_toml_value(o.authority)}.weights]")
                lines += [f"{k.removeprefix('weights.')} = {_toml_value(v)}" for k, v in weights]
        return "\n".join(lines) + "\n"


#: The keys an ``[authority."NAME"]`` table may change: how one authority weighs its own
#: children's options. The rest shape the joint problem or one measure of the whole region
#: (tiers, sibling units, the candidate cut, the 20-mile step), so they stay region-wide.
AUTHORITY_KEYS: tuple[str, ...] = (
    "distance_step_share",
    "distance_zero_miles",
    "key_stage_4_min_age",
    "key_stage_4_max_age",
    "key_stage_4_multiplier",
    "cost_scale_weekly",
    "resident_age_gap_years",
    "own_carers_first",
)
#: The keys that stay region-wide in a pooled folder (refused in ``[authority."NAME"]``).
REGION_KEYS: tuple[str, ...] = (
    "authority",
    "connected_person_tier",
    "in_area_tier",
    "distance_step_miles",
    "allow_sibling_split",
    "sibling_split_cost",
    "candidate_radius_miles",
    "candidate_min_options",
)


@dataclass(frozen=True, slots=True)
class AuthorityOverride:
    """One ``[authority."NAME"]`` table of ``policy.toml``: changes for one authority.

    Attributes
    ----------
    authority : str
        The authority as written (ONS code, DfE number or name); resolved, and checked to be
        of the folder's region, when the case folder is loaded.
    changes : tuple of (str, value)
        ``key`` (one of :data:`AUTHORITY_KEYS`) or ``weights.key`` -> its new value, sorted.
    """

    authority: str
    changes: tuple[tuple[str, object], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.authority, str) or not self.authority.strip():
            raise ValueError("authority: expected an ONS code, DfE number or name")
        weights = {f.name for f in dataclasses.fields(Weights)}
        for key, _ in self.changes:
            name = key.removeprefix("weights.")
            if key not in AUTHORITY_KEYS and not (key.startswith("weights.") and name in weights):
                raise ValueError(f"{key}: not a key an authority may change")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


@dataclass(frozen=True, slots=True)
class PolicyKey:
    """One key of ``policy.toml``, for ``placematch schema`` and the docs.

    ``range`` is the values accepted (:mod:`matcher.bounds`), in words.
    """

    key: str
    type: str
    default: object
    doc: str
    range: str


#: The values each key accepts, in words, from the same bounds ``__post_init__`` checks.
_RANGES: dict[str, str] = {
    "connected_person_tier": "true or false",
    "in_area_tier": "true or false",
    "authority": "an ONS code, DfE number or name",
    "distance_step_miles": f"more than 0, up to {MAX_MILES:,.0f}",
    "distance_step_share": "0 to 1",
    "distance_zero_miles": f"more than distance_step_miles, up to {MAX_MILES:,.0f}",
    "key_stage_4_min_age": "0 to 17",
    "key_stage_4_max_age": "key_stage_4_min_age to 17",
    "key_stage_4_multiplier": f"1 to {MAX_KEY_STAGE_4_MULTIPLIER:g}",
    "cost_scale_weekly": f"1 to {MAX_WEEKLY_COST:,}",
    "allow_sibling_split": "true or false",
    "sibling_split_cost": f"0 to {MAX_SIBLING_SPLIT_COST:,}",
    "resident_age_gap_years": "0 to 25",
    "candidate_radius_miles": f"0 (no cut-off) to {MAX_MILES:,.0f}",
    "candidate_min_options": "1 to 100,000",
    "own_carers_first": "true or false",
}
_WEIGHT_RANGE = f"0 to {MAX_WEIGHT:,}"


def _type_name(annotation: object) -> str:
    return {int: "integer", float: "number", bool: "boolean", str: "string"}.get(
        annotation,  # type: ignore[call-overload]
        "string (optional)",
    )


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def policy_keys() -> tuple[PolicyKey, ...]:
    """Every key of ``policy.toml`` with its type, default and meaning (``weights.*`` last)."""
    keys: list[PolicyKey] = []
    default = Policy()
    hints = _hints(Policy)
    for f in dataclasses.fields(Policy):
        if f.name in {"weights", "overrides"}:
            continue
        keys.append(
            PolicyKey(
                f.name,
                _type_name(hints[f.name]),
                getattr(default, f.name),
                f.metadata["doc"],
                _RANGES[f.name],
            )
        )
    for f in dataclasses.fields(Weights):
        keys.append(
            PolicyKey(
                f"weights.{f.name}",
                "integer",
                getattr(default.weights, f.name),
                f.metadata["doc"],
                _WEIGHT_RANGE
                + (
                    "; at most every non-zero statutory weight" * (f.name in {"cost", "own_carers"})
                ),
            )
        )
    return tuple(keys)


def _check_type(value: object, annotation: object) -> bool:
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str or (
        isinstance(annotation, types.UnionType) and str in typing.get_args(annotation)
    ):
        return isinstance(value, str)
    return False  # pragma: no cover - every field's type is handled above


def _convert(
    cls: type, data: Mapping[str, Any], prefix: str, file: str
) -> tuple[dict[str, Any], list[Problem]]:
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "overrides"]
    problems: list[Problem] = []
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if cls is Policy and key == "authority" and isinstance(value, dict):
            overrides, table_problems = _authority_tables(value, file)
            problems.extend(table_problems)
            kwargs["overrides"] = overrides
            continue
        if key not in names:
            valid = ", ".join(prefix + n for n in names)
            problems.append(
                Problem(file, None, prefix + key, f"unknown key; expected one of: {valid}")
            )
            continue
        annotation = hints[key]
        if annotation is Weights:
            if not isinstance(value, dict):
                problems.append(Problem(file, None, key, "expected a table ([weights])"))
                continue
            sub, sub_problems = _convert(Weights, value, "weights.", file)
            problems.extend(sub_problems)
            if not sub_problems:
                try:
                    kwargs[key] = Weights(**sub)
                except ValueError as exc:
                    problems.append(_problem_from(exc, file))
            continue
        if not _check_type(value, annotation):
            problems.append(
                Problem(
                    file,
                    None,
                    prefix + key,
                    f"expected {_type_name(annotation)}, got {_kind_of(value)} (value not shown)",
                )
            )
            continue
        try:
            kwargs[key] = float(value) if annotation is float else value
        except OverflowError:  # a whole number beyond any float: out of every range
            problems.append(
                Problem(file, None, prefix + key, "expected a number; this one is too large")
            )
    return kwargs, problems


def _authority_tables(
    tables: Mapping[str, Any], file: str
) -> tuple[tuple[AuthorityOverride, ...], list[Problem]]:
    """The ``[authority."NAME"]`` tables: each a table of :data:`AUTHORITY_KEYS` and an
    optional ``weights`` table, type-checked; ranges are checked with the whole policy."""
    out: list[AuthorityOverride] = []
    problems: list[Problem] = []
    hints = _hints(Policy)
    weight_names = [f.name for f in dataclasses.fields(Weights)]
    for name, table in sorted(tables.items()):
        where = f"authority.{_toml_value(name)}"
        if not isinstance(table, dict):
            problems.append(
                Problem(file, None, where, f"expected a table of keys, got {_kind_of(table)}")
            )
            continue
        changes: list[tuple[str, object]] = []
        for key, value in table.items():
            if key == "weights" and isinstance(value, dict):
                for wkey, wvalue in value.items():
                    if wkey not in weight_names:
                        problems.append(
                            Problem(
                                file,
                                None,
                                f"{where}.weights.{wkey}",
                                "unknown key; expected one of: "
                                + ", ".join(f"weights.{n}" for n in weight_names),
                            )
                        )
                    elif not _check_type(wvalue, int):
                        problems.append(
                            Problem(
                                file,
                                None,
                                f"{where}.weights.{wkey}",
                                f"expected integer, got {_kind_of(wvalue)} (value not shown)",
                            )
                        )
                    else:
                        changes.append((f"weights.{wkey}", wvalue))
                continue
            if key == "weights":
                problems.append(
                    Problem(
                        file,
                        None,
                        f"{where}.weights",
                        f"expected a table ([{where}.weights]), got {_kind_of(value)}",
                    )
                )
                continue
            if key in REGION_KEYS:
                problems.append(
                    Problem(
                        file,
                        None,
                        f"{where}.{key}",
                        "region-wide in a pooled folder: set it at the top of the file; an "
                        "authority may change only: " + ", ".join(AUTHORITY_KEYS) + ", weights.*",
                    )
                )
                continue
            if key not in AUTHORITY_KEYS:
                problems.append(
                    Problem(
                        file,
                        None,
                        f"{where}.{key}",
                        "unknown key; expected one of: " + ", ".join(AUTHORITY_KEYS) + ", weights",
                    )
                )
                continue
            annotation = hints[key]
            if not _check_type(value, annotation):
                problems.append(
                    Problem(
                        file,
                        None,
                        f"{where}.{key}",
                        f"expected {_type_name(annotation)}, got {_kind_of(value)} "
                        "(value not shown)",
                    )
                )
                continue
            changes.append((key, float(value) if annotation is float else value))
        out.append(AuthorityOverride(name, tuple(sorted(changes, key=lambda kv: kv[0]))))
    return tuple(out), problems


def _kind_of(value: object) -> str:
    """What a TOML value is, without the value (a string could hold anything)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number" if math.isfinite(value) else "an infinite or NaN number"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return "a date or time"


def _problem_from(exc: ValueError, file: str) -> Problem:
    key, _, message = str(exc).partition(": ")
    return Problem(file, None, key, message)


def policy_from_mapping(data: Mapping[str, Any], *, file: str = "policy.toml") -> Policy:
    """Build a :class:`Policy` from parsed TOML, reporting every problem at once.

    Raises
    ------
    CaseFolderError
        Unknown keys (with the list of valid keys), wrong types (with the expected type) and
        out-of-range values, each as a :class:`~matcher.problems.Problem` naming the key.
    """
    kwargs, problems = _convert(Policy, data, "", file)
    if problems:
        raise CaseFolderError(problems)
    overrides = kwargs.pop("overrides", ())
    try:
        base = Policy(**kwargs)
    except ValueError as exc:
        raise CaseFolderError([_problem_from(exc, file)]) from None
    for o in overrides:  # each authority's policy must be valid on its own
        try:
            base.for_changes(o.changes)
        except ValueError as exc:
            key, _, message = str(exc).partition(": ")
            problems.append(
                Problem(file, None, f"authority.{_toml_value(o.authority)}.{key}", message)
            )
    if problems:
        raise CaseFolderError(problems)
    try:
        return dataclasses.replace(base, overrides=overrides)
    except ValueError as exc:
        raise CaseFolderError([_problem_from(exc, file)]) from None


#: The deepest nesting of tables, arrays and inline tables read from ``policy.toml``. The
#: policy itself needs two levels (``[weights]``); the cap keeps the TOML reader's recursion
#: far from Python's limit, whatever the file holds.
MAX_TOML_DEPTH = 16


def _nesting_problem(text: str, file: str) -> Problem | None:
    """The line where brackets in ``text`` first nest deeper than :data:`MAX_TOML_DEPTH`.

    A light scan: it skips comments and quoted strings, which is all it needs to do, as
    the TOML reader proper still parses what passes and refuses what is malformed.
    """
    depth, line, quote = 0, 1, ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch in "[{":
            depth += 1
            if depth > MAX_TOML_DEPTH:
                return Problem(
                    file,
                    line,
                    None,
                    f"nested more than {MAX_TOML_DEPTH} levels deep; expected keys and a "
                    "[weights] table (see placematch schema)",
                )
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


def load_policy(path: str | Path) -> Policy:
    """Read ``policy.toml``; see :func:`parse_policy` for the errors raised.

    The file must be a regular UTF-8 file of at most :data:`~matcher.files.MAX_POLICY_BYTES`
    bytes; each refusal names the file.
    """
    path = Path(path)
    return parse_policy(read_bytes(path, limit=MAX_POLICY_BYTES), path.name)


def parse_policy(content: str | bytes, name: str = "policy.toml") -> Policy:
    """A policy from the text (or bytes) of a ``policy.toml`` held in memory.

    Checked as :func:`load_policy` checks the file: UTF-8 of at most
    :data:`~matcher.files.MAX_POLICY_BYTES` bytes, nested at most :data:`MAX_TOML_DEPTH`
    levels deep, valid TOML, then :func:`policy_from_mapping`; each refusal is a
    :class:`~matcher.problems.CaseFolderError` naming ``name`` (and the line where it can).
    """
    text = content_text(content, name, limit=MAX_POLICY_BYTES, save_as=_SAVE_AS)
    deep = _nesting_problem(text, name)
    if deep is not None:
        raise CaseFolderError([deep])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        if line is None and match is not None:
            line = int(match[1])
        raise CaseFolderError([Problem(name, line, None, f"not valid TOML: {exc}")]) from None
    except RecursionError:  # pragma: no cover - the nesting scan refuses these first
        raise CaseFolderError(
            [Problem(name, None, None, "nested too deeply; expected a flat policy")]
        ) from None
    return policy_from_mapping(data, file=name)
