"""Forecast configuration files (TOML), validated with pydantic at the edge.

A bad value raises :class:`ForecastConfigError` (a ``ValueError``) naming the file and
the TOML key path, e.g. ``essex.toml: shares.fostering.pp_per_month: Input should be a
valid number``. The validated models are turned into the frozen domain specs of
:mod:`scenarios.forecast.statement` and :mod:`scenarios.forecast.stock_flow`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import glob
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matcher.placement_types import SufficiencyGroup
from matcher.ssda903 import TextFile
from scenarios.forecast.statement import (
    GROUPS,
    ShareKind,
    ShareRule,
    StatementSpec,
    TotalKind,
    TotalRule,
    months_between,
)
from scenarios.forecast.trends import TrendKind, fit_trend


class ForecastConfigError(ValueError):
    """A forecast configuration that cannot be used; the message names the key."""


class _Model(BaseModel):
    # inf and nan are valid TOML floats but no rate, share or count can be either.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ForecastSection(_Model):
    """``[forecast]``: what to forecast and for how long."""

    name: str = ""
    mode: Literal["statement", "stochastic"] = "statement"
    start: dt.date | None = None
    horizon_months: Annotated[int, Field(ge=1, le=600)] | None = None
    end: dt.date | None = None
    step: Literal["month", "week"] = "month"
    runs: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    seed: int = 0
    service_level: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.8
    #: A region: an ONS region's name, or its authorities (see :func:`forecast_region`).
    region: str | None = None
    authorities: list[str] | None = None

    @model_validator(mode="after")
    def _horizon(self) -> ForecastSection:
        if self.horizon_months is not None and self.end is not None:
            raise ValueError("give horizon_months or end, not both")
        return self


class CountsSection(_Model):
    """``[counts]``: children in each group at the start (``other`` may be left out)."""

    total: Annotated[int, Field(ge=1)] | None = None
    fostering: Annotated[int, Field(ge=0)]
    residential: Annotated[int, Field(ge=0)]
    supported_accommodation: Annotated[int, Field(ge=0)]
    other: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _add_up(self) -> CountsSection:
        named = self.fostering + self.residential + self.supported_accommodation
        if self.total is None and self.other is None:
            raise ValueError("give total or other")
        if self.total is None and named + (self.other or 0) == 0:
            raise ValueError("no children at the start: the groups add up to 0")
        if self.total is not None and self.other is not None and named + self.other != self.total:
            raise ValueError(
                f"the groups add up to {named + self.other}, not the total {self.total}"
            )
        if self.total is not None and named > self.total:
            raise ValueError(f"the named groups add up to {named}, more than the total")
        return self

    def by_group(self) -> dict[SufficiencyGroup, int]:
        named = self.fostering + self.residential + self.supported_accommodation
        other = self.other if self.other is not None else (self.total or 0) - named
        return {
            SufficiencyGroup.FOSTERING: self.fostering,
            SufficiencyGroup.RESIDENTIAL: self.residential,
            SufficiencyGroup.SUPPORTED_ACCOMMODATION: self.supported_accommodation,
            SufficiencyGroup.OTHER: other,
        }


class TrendModel(_Model):
    """A trend over a monthly series (oldest first, ending at the start)."""

    rule: Literal["linear", "log_linear", "damped"]
    series: Annotated[list[float], Field(min_length=2)]
    damping: Annotated[float, Field(gt=0.0, le=1.0)] = 0.95
    note: str = ""


class GivenTotal(_Model):
    """``[total]`` with ``rule = "given"``: the end value, reached in a straight line."""

    rule: Literal["given"]
    end: Annotated[float, Field(ge=0)]
    note: str = ""


TotalModel = Annotated[GivenTotal | TrendModel, Field(discriminator="rule")]


class ConstantShare(_Model):
    rule: Literal["constant"]
    note: str = ""


class DriftShare(_Model):
    rule: Literal["drift"]
    pp_per_month: float
    note: str = ""


class TargetShare(_Model):
    rule: Literal["target"]
    share_percent: Annotated[float, Field(ge=0.0, le=100.0)]
    by: dt.date
    note: str = ""


class TrendShare(_Model):
    """The group's own count: a trend over its series, or a given end count."""

    rule: Literal["trend"]
    trend: Literal["linear", "log_linear", "damped"] | None = None
    series: Annotated[list[float], Field(min_length=2)] | None = None
    damping: Annotated[float, Field(gt=0.0, le=1.0)] = 0.95
    end: Annotated[float, Field(ge=0)] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one(self) -> TrendShare:
        if (self.end is None) == (self.series is None):
            raise ValueError("give either end (a count) or series with trend")
        if self.series is not None and self.trend is None:
            raise ValueError("give trend (linear, log_linear or damped) with series")
        return self


class RemainderShare(_Model):
    rule: Literal["remainder"]
    note: str = ""


ShareModel = Annotated[
    ConstantShare | DriftShare | TargetShare | TrendShare | RemainderShare,
    Field(discriminator="rule"),
]


class SharesSection(_Model):
    fostering: ShareModel | None = None
    residential: ShareModel | None = None
    supported_accommodation: ShareModel | None = None
    other: ShareModel | None = None


class DataSection(_Model):
    """``[data]``: the council's SSDA903 files (paths relative to the config; globs allowed)."""

    episodes: Annotated[list[str], Field(min_length=1)]
    header: Annotated[list[str], Field(min_length=1)]
    uasc: list[str] = []
    la: str | None = None
    fit_from: dt.date | None = None
    #: ``"auto"``: chosen with ``rates.prior_weight`` by back-tests (see ``tuning``).
    fit_months: Annotated[int, Field(ge=6, le=240)] | Literal["auto"] = "auto"


class RatesSection(_Model):
    """``[rates]``: how rates are estimated and varied."""

    rate_uncertainty: bool = True
    #: False: the deterministic twin (expected counts of the same model), no runs.
    randomness: bool = True
    #: Child-months of national prior behind each rate; ``"auto"``: chosen by back-tests.
    prior_weight: Annotated[float, Field(ge=0.0)] | Literal["auto"] = "auto"
    #: Multiplier of the rates' posterior variances in the runs (0: none; 1: as fitted);
    #: ``"auto"``: chosen by the P10-P90 band's interval score in back-tests.
    rate_spread: Annotated[float, Field(ge=0.0, le=100.0)] | Literal["auto"] = 1.0
    entry_trend: Literal["fitted", "none"] | float = "none"
    #: ``"auto"``: exit and move hazards weight the fit window's recent months more, each
    #: family by a discount chosen by one-step-ahead forecasts in the window; ``"none"``:
    #: every month the same (the default; see docs/forecast.md for why).
    hazard_recency: Literal["none", "auto"] = "none"
    #: ``"auto"``: the reported P10-P90 band (and every quantile but the median) is
    #: scaled around the median by where the actuals fell in the runs of back-tests made
    #: inside the fit; ``"none"``: the runs as drawn (the default; see docs/forecast.md).
    band_calibration: Literal["none", "auto"] = "none"
    max_trend_percent: Annotated[float, Field(ge=0.0)] = 25.0
    seasonality: bool = True
    entry_multiplier: Annotated[float, Field(ge=0.0)] = 1.0
    uasc_multiplier: Annotated[float, Field(ge=0.0)] = 1.0
    exit_multiplier: Annotated[float, Field(ge=0.0)] = 1.0

    @model_validator(mode="after")
    def _trend(self) -> RatesSection:
        if isinstance(self.entry_trend, float) and self.entry_trend <= -100.0:
            raise ValueError("entry_trend must be above -100 (% a year)")
        return self


class AssumptionModel(_Model):
    """``[[assumptions]]``: one rate adjusted (see :mod:`scenarios.forecast.assumptions`)."""

    rate: Literal["entries", "separated_migrant_entries", "exits", "moves"]
    multiply: Annotated[float, Field(ge=0.0)] | None = None
    add: float | None = None
    age_band: Literal["under_1", "1_to_4", "5_to_9", "10_to_15", "16_to_17"] | None = None
    route: Literal["home", "special_guardianship", "adoption", "other"] | None = None
    group: Literal["fostering", "residential", "supported_accommodation", "other"] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one(self) -> AssumptionModel:
        if (self.multiply is None) == (self.add is None):
            raise ValueError("give multiply or add, not both")
        if self.route is not None and self.rate != "exits":
            raise ValueError("route applies to exits only")
        if self.group is not None and self.rate == "exits":
            raise ValueError("group applies to entries and moves, not exits")
        return self


class BacktestSection(_Model):
    """``[backtest]``: fit up to ``at`` and compare the forecast with what happened."""

    at: dt.date
    naive_months: Annotated[int, Field(ge=2, le=120)] = 12


class ForecastFile(_Model):
    """A whole forecast configuration file."""

    forecast: ForecastSection
    counts: CountsSection | None = None
    total: TotalModel | None = None
    shares: SharesSection = SharesSection()
    data: DataSection | None = None
    rates: RatesSection = RatesSection()
    backtest: BacktestSection | None = None
    assumptions: list[AssumptionModel] = []

    @model_validator(mode="after")
    def _mode(self) -> ForecastFile:
        if self.forecast.mode == "statement":
            if self.counts is None:
                raise ValueError("statement mode needs a [counts] table")
            if self.total is None:
                raise ValueError("statement mode needs a [total] table")
            if self.forecast.start is None:
                raise ValueError("statement mode needs forecast.start")
            if self.forecast.horizon_months is None and self.forecast.end is None:
                raise ValueError("give forecast.horizon_months or forecast.end")
        if self.assumptions and self.forecast.mode != "stochastic":
            raise ValueError("[[assumptions]] adjust the rates of stochastic mode only")
        if self.forecast.mode == "stochastic" and self.data is None:
            raise ValueError("stochastic mode needs a [data] table of SSDA903 files")
        return self


def _location(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a TOML key path (discriminator and union tags dropped)."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif (item in {"given", "linear", "log_linear", "damped"} and parts[-1:] == ["total"]) or (
            item in {s.value for s in ShareKind} and len(parts) >= 2 and parts[0] == "shares"
        ):
            continue
        elif item in _UNION_TAGS or str(item).startswith(("literal[", "function-")):
            continue  # which member of a union (e.g. rates.entry_trend) failed
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


_UNION_TAGS = frozenset({"float", "int", "str", "bool", "date", "list[float]", "list[str]"})


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the closest of ``choices`` to ``word``, or nothing
    (spelling compared without case)."""
    by_fold = {c.casefold(): c for c in sorted(set(choices))}
    close = difflib.get_close_matches(word.casefold(), list(by_fold), n=1, cutoff=0.75)
    return f" (did you mean {by_fold[close[0]]}?)" if close else ""


def known_keys(root: type[BaseModel]) -> frozenset[str]:
    """Every key any table of a file whose tables subclass ``root`` may hold."""
    keys: set[str] = set()
    todo: list[type[BaseModel]] = [root]
    while todo:
        model = todo.pop()
        keys.update(model.model_fields)
        todo.extend(model.__subclasses__())
    return frozenset(keys)


def region_authorities(
    region: str | None,
    authorities: Sequence[str] | None,
    *,
    section: str,
    source: str,
    error: type[ValueError] = ForecastConfigError,
) -> tuple[tuple[str, ...], str | None]:
    """The authorities of a region key (``region = "..."`` or ``authorities = [...]``).

    Shared by scenario files (``section = "scenario"``) and forecast files
    (``section = "forecast"``).

    Returns
    -------
    (names, region)
        The authorities' names, sorted by name (the order of ``placematch synth --region``),
        and the region's name when ``region`` was given; ``((), None)`` when neither key is.

    Raises
    ------
    ValueError
        ``error`` (the file's own kind), naming the file and the key: both keys given, an
        unknown region or authority (with "did you mean"), fewer than two authorities, or
        one given twice.
    """
    from geography.authorities import authorities_in_region, regions, resolve_authority
    from geography.errors import GeographyError

    def fail(key: str, message: str) -> ValueError:
        return error(f"{source}: {section}.{key}: {message}")

    if region is not None and authorities is not None:
        raise fail(
            "authorities",
            "give region (an ONS region's name) or authorities (a list), not both",
        )
    if region is not None:
        try:
            found = authorities_in_region(region)
        except GeographyError:
            names = regions()
            raise fail(
                "region",
                f"{region!r} is not an English region{did_you_mean(region, names)}; expected "
                f"one of {', '.join(names)}",
            ) from None
        return tuple(sorted(a.name for a in found)), found[0].region
    if authorities is None:
        return (), None
    resolved: list[str] = []
    for i, text in enumerate(authorities):
        try:
            a = resolve_authority(text)
        except GeographyError as exc:
            raise fail(f"authorities[{i}]", str(exc)) from None
        if a.name in resolved:
            raise fail(f"authorities[{i}]", f"{a.name} is given twice; expected each once")
        resolved.append(a.name)
    if len(resolved) < 2:
        raise fail(
            "authorities",
            "a region needs at least two authorities (for one, use la)"
            if section == "scenario"
            else "a region needs at least two authorities",
        )
    return tuple(sorted(resolved)), None


def _message(err: Any) -> str:
    """One pydantic error in the words of a configuration file."""
    kind = err["type"]
    if kind == "extra_forbidden":
        name = str(err["loc"][-1]) if err["loc"] else ""
        return "unknown key" + did_you_mean(name, known_keys(_Model))
    if kind == "missing":
        return "missing (required)"
    if kind == "finite_number":
        return "must be a finite number (not inf or nan)"
    return str(err["msg"]).removeprefix("Value error, ")


def parse_config(data: dict[str, Any], *, source: str = "<config>") -> ForecastFile:
    """Validate a parsed TOML document; errors name ``source`` and the key path."""
    try:
        config = ForecastFile.model_validate(data)
    except ValidationError as exc:
        # One entry per key: the members of a union each fail on the same key.
        by_key: dict[str, list[str]] = {}
        for err in exc.errors():
            msgs = by_key.setdefault(_location(tuple(err["loc"])), [])
            msg = _message(err)
            if msgs:
                msg = msg.removeprefix("Input should be ")
            if msg not in msgs:
                msgs.append(msg)
        messages = [f"{key}: " + ", or ".join(msgs) for key, msgs in by_key.items()]
        raise ForecastConfigError(f"{source}: " + "; ".join(messages)) from None
    forecast_region(config, source=source)  # a bad region key: refused with the file
    return config


def forecast_region(
    config: ForecastFile, *, source: str = "<config>"
) -> tuple[tuple[str, ...], str | None]:
    """The authorities a forecast is of when it names a region (``forecast.region`` or
    ``forecast.authorities``): ``(names sorted, region name or None)``; ``((), None)`` for
    one authority.

    A stochastic region forecast **pools** its authorities' histories: the episodes of
    every authority of the region (the extract's ``LA`` column) are joined into one history
    (each child's id prefixed with its authority's name, since each council numbers its own
    children), one set of rates is fitted on it and the census at the start is the
    region's. A statement region forecast takes its counts and total as the region's.

    Raises
    ------
    ForecastConfigError
        For a bad region key (:func:`region_authorities`), or a region with ``data.la``.
    """
    f = config.forecast
    names, region = region_authorities(f.region, f.authorities, section="forecast", source=source)
    if names and config.data is not None and config.data.la is not None:
        raise ForecastConfigError(
            f"{source}: data.la: a region forecast pools all of its authorities' episodes; "
            "leave out data.la (or forecast.region and forecast.authorities)"
        )
    return names, region


def load_config(path: str | Path) -> ForecastFile:
    """Read and validate a forecast TOML file."""
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory, not a forecast configuration file")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such forecast configuration file") from None
    except UnicodeDecodeError:
        raise ForecastConfigError(f"{p}: not a text file (expected UTF-8 TOML)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ForecastConfigError(f"{p}: not valid TOML ({exc}){_toml_line(text, exc)}") from None
    return parse_config(data, source=str(p))


def _toml_line(text: str, exc: tomllib.TOMLDecodeError) -> str:
    """The offending line, which names the key (e.g. ``start = 2024-13-01``), if known."""
    match = re.search(r"at line (\d+)", str(exc))
    lines = text.splitlines()
    if not match or not 0 < int(match.group(1)) <= len(lines):
        return ""
    line = lines[int(match.group(1)) - 1].strip()
    return f": {line[:80]}" if line else ""


def horizon_of(section: ForecastSection, start: dt.date, *, source: str) -> int:
    """Months from ``start`` to the configured end (or the configured horizon)."""
    if section.horizon_months is not None:
        return section.horizon_months
    if section.end is None:
        raise ForecastConfigError(f"{source}: forecast.horizon_months: give a horizon or an end")
    months = months_between(start, section.end)
    if months < 1:
        raise ForecastConfigError(f"{source}: forecast.end: must be at least a month after start")
    return months


def statement_spec(config: ForecastFile, *, source: str = "<config>") -> StatementSpec:
    """The statement-mode spec a validated file describes."""
    f = config.forecast
    assert config.counts is not None and config.total is not None and f.start is not None
    start = f.start
    horizon = horizon_of(f, start, source=source)
    counts = config.counts.by_group()

    def fail(key: str, message: str) -> ForecastConfigError:
        return ForecastConfigError(f"{source}: {key}: {message}")

    total_cfg = config.total
    try:
        if isinstance(total_cfg, GivenTotal):
            total = TotalRule(TotalKind.GIVEN, end=total_cfg.end, note=total_cfg.note)
        else:
            trend = fit_trend(
                total_cfg.series, TrendKind(total_cfg.rule), damping=total_cfg.damping
            )
            total = TotalRule(TotalKind.TREND, trend=trend, note=total_cfg.note)
    except ValueError as exc:
        raise fail("total", str(exc)) from None

    rules: dict[SufficiencyGroup, ShareRule] = {}
    for g in GROUPS:
        cfg = getattr(config.shares, g.value)
        key = f"shares.{g.value}"
        try:
            if cfg is None:
                kind = ShareKind.REMAINDER if g is SufficiencyGroup.OTHER else ShareKind.CONSTANT
                rules[g] = ShareRule(kind)
            elif isinstance(cfg, ConstantShare):
                rules[g] = ShareRule(ShareKind.CONSTANT, note=cfg.note)
            elif isinstance(cfg, DriftShare):
                rules[g] = ShareRule(ShareKind.DRIFT, pp_per_month=cfg.pp_per_month, note=cfg.note)
            elif isinstance(cfg, TargetShare):
                month = months_between(start, cfg.by)
                if month <= 0:
                    raise fail(f"{key}.by", "the target date must be after forecast.start")
                rules[g] = ShareRule(
                    ShareKind.TARGET,
                    target_share=cfg.share_percent / 100.0,
                    target_month=month,
                    note=cfg.note,
                )
            elif isinstance(cfg, TrendShare):
                if cfg.series is not None:
                    assert cfg.trend is not None
                    trend = fit_trend(cfg.series, TrendKind(cfg.trend), damping=cfg.damping)
                    rules[g] = ShareRule(ShareKind.TREND, count_trend=trend, note=cfg.note)
                else:
                    rules[g] = ShareRule(ShareKind.TREND, count_end=cfg.end, note=cfg.note)
            else:
                rules[g] = ShareRule(ShareKind.REMAINDER, note=cfg.note)
        except ForecastConfigError:
            raise
        except ValueError as exc:
            raise fail(key, str(exc)) from None
    remainders = [g.value for g, r in rules.items() if r.kind is ShareKind.REMAINDER]
    if len(remainders) != 1:
        listed = ", ".join(remainders) or "none"
        raise fail(
            "shares",
            f'exactly one group must take the remainder (rule = "remainder"); got {listed}',
        )
    try:
        return StatementSpec(start, horizon, counts, total, rules, name=f.name)
    except ValueError as exc:
        raise ForecastConfigError(f"{source}: {exc}") from None


#: Where a configuration's 903 files are: a folder (paths are relative to it), or the files
#: themselves held in memory, by file name (an upload: name -> CSV text).
DataFiles = Path | Mapping[str, str]


def resolve_paths(
    patterns: list[str], base: DataFiles, *, key: str, source: str
) -> list[Path | TextFile]:
    """Expand config paths (relative to ``base``, globs allowed) in sorted order.

    Given files in memory, a pattern matches their names as a glob in a folder of them would
    (a plain name, ``*``, ``?``, ``[...]``; a name starting with ``.`` only by a pattern
    that does); a path to anywhere else matches nothing.
    """
    files: list[Path | TextFile] = []
    for pattern in patterns:
        if isinstance(base, Mapping):
            hidden = pattern.startswith(".")
            names = sorted(
                n for n in base if fnmatchcase(n, pattern) and (hidden or not n.startswith("."))
            )
            found: list[Path | TextFile] = [TextFile(n, base[n]) for n in names]
        else:
            full = pattern if Path(pattern).is_absolute() else str(base / pattern)
            found = [Path(m) for m in sorted(glob.glob(full))]
        if not found:
            raise ForecastConfigError(f"{source}: {key}: no file matches {pattern!r}")
        files.extend(found)
    return files
