"""Scenario files (TOML) for supply what-ifs, validated with pydantic at the edge.

A scenario file names where the children and homes come from (a synthetic profile or a
case folder), the demand at the horizon (a forecast configuration, statement or
stochastic, or counts given inline), the supply dynamics every variant shares, and one
or more **variants** (``[[scenarios]]``) that change the supply or the policy. Each variant
is compared with the baseline (no changes) run by run, with the same seeds.

A bad value raises :class:`ScenarioConfigError` (a ``ValueError``) naming the file and the
TOML key, e.g. ``essex_supply.toml: scenarios[1].add[0].beds: Input should be greater than 0``.
The validated models become the frozen dataclasses of this module, which are what the
runner pickles to its workers.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matcher.placement_types import PlacementType
from scenarios.forecast.config import did_you_mean, known_keys, region_authorities

__all__ = [
    "COMMISSIONED_GROUPS",
    "AddBeds",
    "Demand",
    "FosterFlow",
    "MatchSettings",
    "Reregister",
    "ScenarioConfigError",
    "ScenarioFile",
    "Source",
    "Variant",
    "did_you_mean",
    "load_scenario_file",
    "parse_scenario_file",
    "region_authorities",
]

#: The placement groups places are commissioned in (the demand the matcher places).
COMMISSIONED_GROUPS: tuple[str, ...] = ("fostering", "residential", "supported_accommodation")

#: Defaults for a new home of each type: (beds per home, age_min, age_max, weekly cost £,
#: capabilities). Costs are the synthetic profiles' assumed averages (docs/synthetic-cohorts.md).
HOME_DEFAULTS: dict[str, tuple[int, int, int, int, str]] = {
    "inhouse_foster": (2, 0, 17, 500, "sibling_group"),
    "agency_foster": (2, 0, 17, 820, "sibling_group"),
    "childrens_home": (4, 10, 17, 6100, ""),
    "supported_accommodation": (4, 16, 17, 3300, ""),
    "parent_and_child": (1, 14, 17, 4500, "parent_and_child"),
    "secure_home": (2, 10, 17, 8500, "dols"),
}


class ScenarioConfigError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


# ----------------------------------------------------------------------------- domain


@dataclass(frozen=True, slots=True)
class Source:
    """Where today's children and homes come from.

    Exactly one of ``la`` (a synthetic authority drawn by :func:`scenarios.cohorts.generate`
    in every run), ``case_folder`` (a real folder, resampled in every run) and
    ``authorities`` (a synthetic **region**: each authority drawn as ``la`` is, pooled, as
    :func:`scenarios.cohorts.generate_pooled` pools them). ``children`` overrides the
    profile's cohort size today (synthetic only; for a region, the region's total, shared
    out in proportion to the authorities' profiles). ``authorities`` are names as
    :func:`geography.resolve_authority` gives them, sorted by name (the order of
    ``placematch synth --region``, which fixes each one's id prefix); ``region`` is the ONS
    region's name when the file named one.
    """

    la: str | None
    case_folder: str | None
    children: int | None = None
    authorities: tuple[str, ...] = ()
    region: str | None = None

    def __post_init__(self) -> None:
        if self.authorities:
            if self.la is not None or self.case_folder is not None:
                raise ValueError("scenario: a region takes neither la nor case_folder")
            if len(self.authorities) < 2 or len(set(self.authorities)) < len(self.authorities):
                raise ValueError("scenario: a region needs at least two authorities, each once")
            return
        if self.region is not None:
            raise ValueError("scenario: a region names its authorities")
        if (self.la is None) == (self.case_folder is None):
            raise ValueError("scenario: give exactly one of la and case_folder")

    @property
    def is_region(self) -> bool:
        """Whether the source is a region (several authorities pooled)."""
        return bool(self.authorities)


@dataclass(frozen=True, slots=True)
class Demand:
    """Children needing a commissioned placement at the horizon.

    ``counts`` holds one ``{group: count}`` per forecast run (a statement forecast has one;
    run ``r`` uses ``counts[r % len(counts)]``). ``include_other`` also matches children in
    the ``other`` group (placed with parents, for adoption, ...), who do not need a bed.
    """

    counts: tuple[tuple[tuple[str, int], ...], ...]
    mode: str
    horizon_months: int
    source: str
    include_other: bool = False

    def __post_init__(self) -> None:
        if not self.counts:
            raise ValueError("demand: no counts")
        if self.horizon_months < 0:
            raise ValueError("demand: horizon_months must be >= 0")

    def for_run(self, run: int) -> dict[str, int]:
        """The group counts of run ``run``."""
        return dict(self.counts[run % len(self.counts)])


@dataclass(frozen=True, slots=True)
class FosterFlow:
    """Foster households recruited and lost, per month over the horizon (rates, >= 0).

    ``recruit_per_month`` is new households a month (Poisson); ``loss_per_month`` the monthly
    probability that an existing foster household stops fostering.
    """

    recruit_per_month: float = 0.0
    loss_per_month: float = 0.0

    def __post_init__(self) -> None:
        if self.recruit_per_month < 0 or not 0 <= self.loss_per_month < 1:
            raise ValueError("foster flow: recruit_per_month >= 0 and 0 <= loss_per_month < 1")


@dataclass(frozen=True, slots=True)
class AddBeds:
    """Add ``beds`` beds of one type.

    ``where`` is ``"supply"`` (at postcodes of the current homes of that type, weighted by
    beds), ``"children"`` (shared evenly across the authority's districts where its children
    live), or a tuple of district names (shared evenly); ``postcodes`` instead puts them at
    those postcodes in turn. Beds are grouped into homes of at most ``home_beds``.
    """

    placement_type: str
    beds: int
    where: str | tuple[str, ...] = "supply"
    postcodes: tuple[str, ...] = ()
    home_beds: int = 2
    age_min: int = 0
    age_max: int = 17
    weekly_cost: int = 0
    capabilities: str = ""
    sex: str = "any"

    def __post_init__(self) -> None:
        PlacementType(self.placement_type)
        if self.placement_type == PlacementType.CONNECTED_PERSON_FOSTER:
            raise ValueError("add: connected-person carers come with a child, not commissioned")
        if self.beds < 0 or self.home_beds < 1:
            raise ValueError("add: beds >= 0 and home_beds >= 1")
        if not 0 <= self.age_min <= self.age_max <= 17:
            raise ValueError("add: 0 <= age_min <= age_max <= 17")
        if self.placement_type == PlacementType.SUPPORTED_ACCOMMODATION and self.age_min < 16:
            raise ValueError("add: supported accommodation never takes under-16s (age_min >= 16)")

    @classmethod
    def of(cls, placement_type: str, beds: int, **changes: Any) -> AddBeds:
        """Beds of a type with that type's defaults (:data:`HOME_DEFAULTS`), then ``changes``."""
        home, lo, hi, cost, caps = HOME_DEFAULTS.get(placement_type, (2, 0, 17, 0, ""))
        fields: dict[str, Any] = {
            "home_beds": home,
            "age_min": lo,
            "age_max": hi,
            "weekly_cost": cost,
            "capabilities": caps,
        }
        fields.update(changes)
        return cls(placement_type, beds, **fields)


@dataclass(frozen=True, slots=True)
class Reregister:
    """Re-register a home (a vacancy id of today's supply) as another type."""

    vacancy_id: str
    placement_type: str

    def __post_init__(self) -> None:
        PlacementType(self.placement_type)


@dataclass(frozen=True, slots=True)
class Variant:
    """One scenario: supply changes and policy changes against the baseline.

    ``policy`` is a ``policy.toml`` table (flattened to ``(key, json value)`` pairs);
    ``foster_flow`` replaces the file's baseline flow when given.
    """

    name: str
    add: tuple[AddBeds, ...] = ()
    close: tuple[str, ...] = ()
    reregister: tuple[Reregister, ...] = ()
    foster_flow: FosterFlow | None = None
    policy: tuple[tuple[str, str], ...] = ()
    note: str = ""

    @property
    def added_beds(self) -> dict[str, int]:
        """Beds added, by type."""
        out: dict[str, int] = {}
        for a in self.add:
            out[a.placement_type] = out.get(a.placement_type, 0) + a.beds
        return out

    @property
    def added_weekly_cost(self) -> int:
        """Weekly cost of the added beds if all were filled (£)."""
        return sum(a.beds * a.weekly_cost for a in self.add)

    def policy_dict(self) -> dict[str, Any]:
        """The policy table as a dict."""
        return {k: json.loads(v) for k, v in self.policy}


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Solver settings of every run's match (``[match]``)."""

    #: wall-clock safety net of each match, seconds
    time_limit_s: float = 60.0
    workers: int = 1
    validate: bool = False
    #: CP-SAT work budget of each match (``SolverParameters.deterministic_time_limit``);
    #: 0 = off. With it (the default), a run whose match cannot be proven stops at the same
    #: place on any backend, so records are the same on 1 worker, a pool and Dask.
    deterministic_time: float = 1.0


@dataclass(frozen=True, slots=True)
class ScenarioFile:
    """A validated scenario file."""

    name: str
    path: str
    seed: int
    runs: int
    source: Source
    demand: Demand
    baseline_flow: FosterFlow
    match: MatchSettings
    variants: tuple[Variant, ...]
    plan_types: tuple[str, ...] = ("childrens_home", "inhouse_foster", "supported_accommodation")
    plan_homes: tuple[tuple[str, AddBeds], ...] = field(default=())

    def key(self) -> str:
        """A hash of everything that decides a run's result (for resuming)."""
        data = asdict(self)
        data.pop("runs")
        data.pop("name")
        data.pop("path")
        if not data["match"]["deterministic_time"]:  # keys of files written before it stay
            del data["match"]["deterministic_time"]
        if not data["source"]["authorities"]:  # so do the keys of single-authority files
            del data["source"]["authorities"]
            del data["source"]["region"]
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def variant(self, name: str) -> Variant:
        """The variant called ``name``."""
        for v in self.variants:
            if v.name == name:
                return v
        raise LookupError(f"{self.path}: no scenario named {name!r}")


# ----------------------------------------------------------------------------- pydantic edge


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ScenarioSection(_Model):
    name: str = ""
    la: str | None = None
    case_folder: str | None = None
    region: str | None = None
    authorities: list[str] | None = None
    children: Annotated[int, Field(ge=1, le=100_000)] | None = None
    seed: Annotated[int, Field(ge=0)] = 0
    runs: Annotated[int, Field(ge=1, le=100_000)] = 20

    @model_validator(mode="after")
    def _one_source(self) -> _ScenarioSection:
        if self.region is not None or self.authorities is not None:
            return self  # a region: checked by _region_of, naming the key
        if (self.la is None) == (self.case_folder is None):
            raise ValueError("give exactly one of la (a synthetic profile) and case_folder")
        return self


class _DemandSection(_Model):
    forecast: str | None = None
    counts: dict[Literal["fostering", "residential", "supported_accommodation", "other"], int] = {}
    horizon_months: Annotated[int, Field(ge=0, le=600)] | None = None
    include_other: bool = False
    scale: Annotated[float, Field(gt=0, le=100)] = 1.0

    @model_validator(mode="after")
    def _one(self) -> _DemandSection:
        if (self.forecast is None) == (not self.counts):
            raise ValueError("give exactly one of forecast (a forecast file) and counts")
        if any(v < 0 for v in self.counts.values()):
            raise ValueError("counts must be >= 0")
        return self


class _FlowSection(_Model):
    foster_recruit_per_month: Annotated[float, Field(ge=0)] = 0.0
    foster_loss_per_month: Annotated[float, Field(ge=0, lt=1)] = 0.0


class _AddSection(_Model):
    placement_type: str
    beds: Annotated[int, Field(ge=0, le=100_000)]
    where: str | list[str] = "supply"
    postcodes: list[str] = []
    home_beds: Annotated[int, Field(ge=1, le=100)] | None = None
    age_min: Annotated[int, Field(ge=0, le=17)] | None = None
    age_max: Annotated[int, Field(ge=0, le=17)] | None = None
    weekly_cost: Annotated[int, Field(ge=0)] | None = None
    capabilities: list[str] | None = None
    sex: Literal["any", "M", "F"] = "any"


class _ReregisterSection(_Model):
    vacancy_id: str
    placement_type: str


class _VariantSection(_Model):
    name: str
    note: str = ""
    add: list[_AddSection] = []
    close: list[str] = []
    reregister: list[_ReregisterSection] = []
    foster_recruit_per_month: Annotated[float, Field(ge=0)] | None = None
    foster_loss_per_month: Annotated[float, Field(ge=0, lt=1)] | None = None
    policy: dict[str, Any] = {}


class _MatchSection(_Model):
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    validate_results: bool = Field(default=False, alias="validate")
    deterministic_time: Annotated[float, Field(ge=0, le=3600)] = 1.0


class _PlanSection(_Model):
    types: list[str] = ["childrens_home", "inhouse_foster", "supported_accommodation"]
    homes: dict[str, _AddSection] = {}


class _File(_Model):
    scenario: _ScenarioSection
    demand: _DemandSection
    supply: _FlowSection = _FlowSection()
    match: _MatchSection = _MatchSection()
    scenarios: list[_VariantSection] = []
    plan: _PlanSection = _PlanSection()


def _pydantic_message(err: Any) -> str:
    """One pydantic error in the words of a scenario file, with "did you mean"."""
    if err["type"] == "extra_forbidden" and err["loc"]:
        return "unknown key" + did_you_mean(str(err["loc"][-1]), known_keys(_Model))
    if err["type"] == "literal_error" and isinstance(err.get("input"), str):
        expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        return str(err["msg"]) + did_you_mean(err["input"], expected)
    return str(err["msg"])


def _key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out


_WHERE = ("supply", "children")


def _check_add(a: _AddSection, key: str, source: str) -> None:
    """Refuse what pydantic cannot see in one ``add`` table, naming its key."""
    types = [str(t) for t in PlacementType]
    if a.placement_type not in types:
        raise ScenarioConfigError(
            f"{source}: {key}.placement_type: {a.placement_type!r} is not a placement type"
            f"{did_you_mean(a.placement_type, types)}; expected one of {', '.join(types)}"
        )
    if isinstance(a.where, str) and a.where not in _WHERE:
        raise ScenarioConfigError(
            f"{source}: {key}.where: {a.where!r}{did_you_mean(a.where, _WHERE)}: expected "
            '"supply", "children" or a list of district names'
        )
    if isinstance(a.where, list) and not a.where:
        raise ScenarioConfigError(f"{source}: {key}.where: an empty list of districts")
    from matcher.vocabulary import Need

    known = [str(n) for n in Need]
    for k, cap in enumerate(a.capabilities or []):
        if cap not in known:
            raise ScenarioConfigError(
                f"{source}: {key}.capabilities[{k}]: unknown capability {cap!r}"
                f"{did_you_mean(cap, known)}; expected one of {', '.join(known)}"
            )


def _check_policy(policy: dict[str, Any], key: str, source: str) -> None:
    """A variant's policy table, checked as ``policy.toml`` is (keys, types, ranges)."""
    if not policy:
        return
    from matcher.policy import policy_from_mapping
    from matcher.problems import CaseFolderError

    try:
        policy_from_mapping(policy, file=key)
    except CaseFolderError as exc:
        first = exc.problems[0]
        where = f"{key}.{first.field}" if first.field else key
        raise ScenarioConfigError(f"{source}: {where}: {first.message}") from None


def _add_beds(a: _AddSection) -> AddBeds:
    home, lo, hi, cost, caps = HOME_DEFAULTS.get(a.placement_type, (2, 0, 17, 0, ""))
    where: str | tuple[str, ...] = a.where if isinstance(a.where, str) else tuple(a.where)
    return AddBeds(
        placement_type=a.placement_type,
        beds=a.beds,
        where=where,
        postcodes=tuple(a.postcodes),
        home_beds=a.home_beds or home,
        age_min=lo if a.age_min is None else a.age_min,
        age_max=hi if a.age_max is None else a.age_max,
        weekly_cost=cost if a.weekly_cost is None else a.weekly_cost,
        capabilities=caps if a.capabilities is None else ";".join(a.capabilities),
        sex=a.sex,
    )


def _demand(d: _DemandSection, base: Path, source: str, region: tuple[str, ...] = ()) -> Demand:
    demand = _demand_unscaled(d, base, source, region)
    if d.scale == 1.0:
        return demand
    scaled = tuple(tuple((g, round(v * d.scale)) for g, v in run) for run in demand.counts)
    return replace(demand, counts=scaled, source=f"{demand.source} x {d.scale:g}")


def _checked_demand(
    d: _DemandSection, base: Path, source: str, region: tuple[str, ...] = ()
) -> Demand:
    key = "demand.counts" if d.counts else "demand.forecast"
    try:
        demand = _demand(d, base, source, region)
    except (ValueError, LookupError, OSError) as exc:
        raise ScenarioConfigError(f"{source}: {key}: {exc}") from None
    groups = (*COMMISSIONED_GROUPS, "other") if demand.include_other else COMMISSIONED_GROUPS
    for r, run in enumerate(demand.counts):
        if sum(n for g, n in run if g in groups) <= 0:
            which = "" if len(demand.counts) == 1 else f" in forecast run {r}"
            raise ScenarioConfigError(
                f"{source}: {key}: no children to place at the horizon{which} (every count of "
                f"{', '.join(groups)} is 0)"
            )
    return demand


def _demand_unscaled(
    d: _DemandSection, base: Path, source: str, region: tuple[str, ...] = ()
) -> Demand:
    if d.counts:
        counts = {g: int(d.counts.get(g, 0)) for g in (*COMMISSIONED_GROUPS, "other")}  # type: ignore[call-overload]
        return Demand(
            counts=(tuple(counts.items()),),
            mode="given",
            horizon_months=d.horizon_months or 0,
            source=f"{source}: demand.counts",
            include_other=d.include_other,
        )
    assert d.forecast is not None
    from scenarios.forecast.config import load_config
    from scenarios.forecast.runner import run_statement, run_stochastic

    path = (base / d.forecast).resolve() if not Path(d.forecast).is_absolute() else Path(d.forecast)
    config = load_config(path)
    from scenarios.forecast.config import forecast_region

    names, _ = forecast_region(config, source=str(path))
    if names and region and set(names) != set(region):
        raise ValueError(
            f"the forecast is of {', '.join(names)}, the scenario of {', '.join(region)}; "
            "expected the same authorities"
        )
    if config.forecast.mode == "statement":
        st = run_statement(config, source=str(path))
        counts = {str(g): int(v[-1]) for g, v in st.counts.items()}
        return Demand(
            counts=(tuple(counts.items()),),
            mode="statement",
            horizon_months=len(st.dates) - 1,
            source=str(d.forecast),
            include_other=d.include_other,
        )
    sto = run_stochastic(config, path.parent, source=str(path))
    from scenarios.forecast.stock_flow import GROUPS

    end = sto.counts[:, -1, :]
    runs = tuple(
        tuple((str(g), int(end[r, i])) for i, g in enumerate(GROUPS)) for r in range(end.shape[0])
    )
    return Demand(
        counts=runs,
        mode="stochastic",
        horizon_months=len(sto.dates) - 1,
        source=str(d.forecast),
        include_other=d.include_other,
    )


def parse_scenario_file(data: dict[str, Any], *, path: str | Path) -> ScenarioFile:
    """Validate parsed TOML ``data`` read from ``path`` (relative paths resolve beside it)."""
    p = Path(path)
    source = str(p)
    try:
        f = _File.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key also leaves its table short of that key: the spelling is the cause.
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        raise ScenarioConfigError(
            f"{source}: {_key(first['loc'])}: {_pydantic_message(first)}"
        ) from None
    s = f.scenario
    pooled, region = region_authorities(
        s.region, s.authorities, section="scenario", source=source, error=ScenarioConfigError
    )
    for key in ("la", "case_folder"):
        if pooled and getattr(s, key) is not None:
            raise ScenarioConfigError(
                f"{source}: scenario.{key}: a region ({'region' if region else 'authorities'}) "
                "draws each of its authorities' children and homes; leave out la and case_folder"
            )
    try:
        variants = []
        names: set[str] = {"baseline"}
        for i, v in enumerate(f.scenarios):
            if v.name in names:
                raise ScenarioConfigError(
                    f"{source}: scenarios[{i}].name: {v.name!r} is used twice (or is 'baseline')"
                )
            names.add(v.name)
            flow = None
            if v.foster_recruit_per_month is not None or v.foster_loss_per_month is not None:
                flow = FosterFlow(
                    v.foster_recruit_per_month
                    if v.foster_recruit_per_month is not None
                    else f.supply.foster_recruit_per_month,
                    v.foster_loss_per_month
                    if v.foster_loss_per_month is not None
                    else f.supply.foster_loss_per_month,
                )
            _check_policy(v.policy, f"scenarios[{i}].policy", source)
            adds = []
            for j, a in enumerate(v.add):
                _check_add(a, f"scenarios[{i}].add[{j}]", source)
                try:
                    adds.append(_add_beds(a))
                except ValueError as exc:
                    raise ScenarioConfigError(f"{source}: scenarios[{i}].add[{j}]: {exc}") from None
            for k, r in enumerate(v.reregister):
                if r.placement_type not in [str(t) for t in PlacementType]:
                    raise ScenarioConfigError(
                        f"{source}: scenarios[{i}].reregister[{k}].placement_type: "
                        f"{r.placement_type!r} is not a placement type"
                        f"{did_you_mean(r.placement_type, [str(t) for t in PlacementType])}"
                    )
            rereg = tuple(Reregister(r.vacancy_id, r.placement_type) for r in v.reregister)
            variants.append(
                Variant(
                    name=v.name,
                    add=tuple(adds),
                    close=tuple(v.close),
                    reregister=rereg,
                    foster_flow=flow,
                    policy=tuple(sorted((k, json.dumps(x)) for k, x in v.policy.items())),
                    note=v.note,
                )
            )
        homes = []
        for t, a in sorted(f.plan.homes.items()):
            _check_add(a, f"plan.homes.{t}", source)
            try:
                homes.append((t, _add_beds(a)))
            except ValueError as exc:
                raise ScenarioConfigError(f"{source}: plan.homes.{t}: {exc}") from None
        for t in f.plan.types:
            try:
                PlacementType(t)
            except ValueError:
                raise ScenarioConfigError(
                    f"{source}: plan.types: {t!r} is not a placement type"
                    f"{did_you_mean(t, [str(x) for x in PlacementType])}"
                ) from None
        demand = _checked_demand(f.demand, p.parent, source, pooled)
        if demand.horizon_months == 0:
            # Monthly rates act over the horizon: with none they would silently do nothing.
            rates: list[tuple[str, float | None, float | None]] = [
                ("supply", f.supply.foster_recruit_per_month, f.supply.foster_loss_per_month)
            ]
            rates += [
                (f"scenarios[{i}]", v.foster_recruit_per_month, v.foster_loss_per_month)
                for i, v in enumerate(f.scenarios)
            ]
            for where, recruit, loss in rates:
                for name, rate in (("recruit", recruit), ("loss", loss)):
                    if rate:
                        raise ScenarioConfigError(
                            f"{source}: {where}.foster_{name}_per_month: a monthly rate needs "
                            "a horizon; give demand.horizon_months (the months from today's "
                            "homes to the demand)"
                        )
        case_folder = None
        if s.case_folder is not None:
            cf = Path(s.case_folder)
            case_folder = str(cf if cf.is_absolute() else (p.parent / cf))
        return ScenarioFile(
            name=s.name or p.stem,
            path=source,
            seed=s.seed,
            runs=s.runs,
            source=Source(
                la=s.la,
                case_folder=case_folder,
                children=s.children,
                authorities=pooled,
                region=region,
            ),
            demand=demand,
            baseline_flow=FosterFlow(
                f.supply.foster_recruit_per_month, f.supply.foster_loss_per_month
            ),
            match=MatchSettings(
                f.match.time_limit_s,
                f.match.workers,
                f.match.validate_results,
                f.match.deterministic_time,
            ),
            variants=tuple(variants),
            plan_types=tuple(f.plan.types),
            plan_homes=tuple(homes),
        )
    except ScenarioConfigError:
        raise
    except (ValueError, LookupError) as exc:
        raise type(exc)(f"{source}: {exc}") from None


def load_scenario_file(path: str | Path) -> ScenarioFile:
    """Read and validate a scenario TOML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such scenario file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioConfigError(f"{p}: not valid TOML ({exc})") from None
    return parse_scenario_file(data, path=p)
