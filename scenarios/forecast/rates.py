"""Entry, exit and move rates estimated from a council's SSDA903 episodes.

The estimator is discrete-time, matching the monthly simulation. At each month start
``t`` in the fit window every child in care is a census row (age band, time-in-care band,
placement group, separated migrant or not). Between ``t`` and the next month start:

* an **exit** is a census row whose period of care ends by the next month start; its
  route comes from ``REC`` of the period's last episode (home, special guardianship,
  adoption, other) or is ``turned_18`` if the child was within a month of 18 (those exits
  are not a hazard: the simulation ends care at 18);
* a **move** is a child still in the same period whose placement group differs at the next
  month start (e.g. step-down from fostering to supported accommodation at 16+);
* an **entry** is a period that starts after ``t`` and is still open at the next month
  start; it is counted in the age band and group it has then. Children who arrive and
  leave within a month never appear in a month-start count, and the model leaves them out.

Exposure is census rows (child-months). Each rate is a Poisson rate with a gamma posterior
whose prior is the parent rate (national → council by age band → council cell), with
``prior_weight`` child-months of pseudo-exposure, so a small authority's rates are pulled
towards national ones and a large authority's barely move. For exits and moves the national
rates lend the shape, not the level: they are scaled by the council's own events over those
they would give on its exposure (:func:`_council_level`). Simulation runs draw rates from
these posteriors: the uncertainty in the rates as well as the randomness of events.

National prior rates are in :data:`NATIONAL`. The bundled citations
(``scenarios/data/national_statistics_citations.csv``, DfE via explore-education-statistics)
give the national stock (81,770 at 31 March 2025, roughly flat since 2021) and the foster
share (72% in 2019); the age-specific rates are **assumptions** stated beside each value,
chosen to be consistent with a flat national stock. Replace them with the DfE tables
("CLA starting / ceasing during the year by age and reason") when available.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
from scipy.special import gammaln

from matcher.placement_types import SufficiencyGroup
from matcher.ssda903 import placement_groups

#: Age bands (years, lower bound inclusive): under 1, 1-4, 5-9, 10-15, 16-17 (DfE's bands).
AGE_BANDS: tuple[tuple[int, int], ...] = ((0, 1), (1, 5), (5, 10), (10, 16), (16, 18))
AGE_BAND_LABELS: tuple[str, ...] = ("under_1", "1_to_4", "5_to_9", "10_to_15", "16_to_17")
#: Time-in-care bands (lower bounds in months): <6, 6-11, 12-23, 24+.
TIC_BANDS_MONTHS: tuple[int, ...] = (0, 6, 12, 24)
#: Exit routes modelled as hazards. ``turned_18`` is not a hazard: care ends at 18.
ROUTES: tuple[str, ...] = ("home", "special_guardianship", "adoption", "other")
EXIT_ROUTES: tuple[str, ...] = (*ROUTES, "turned_18")
#: Placement groups in index order.
GROUPS: tuple[SufficiencyGroup, ...] = tuple(SufficiencyGroup)
#: Entry streams: children entering care, and separated migrant children (UASC) arriving.
STREAMS: tuple[str, ...] = ("children", "separated_migrant")

DAYS_PER_MONTH = 365.25 / 12.0
DAYS_18 = int(18 * 365.25)

#: ``REC`` codes by route (the rest are ``other``).
_ROUTE_OF_REC = {
    "E4A": "home",
    "E4B": "home",
    "E13": "home",
    "E41": "home",
    "E45": "special_guardianship",
    "E46": "special_guardianship",
    "E47": "special_guardianship",
    "E48": "special_guardianship",
    "E11": "adoption",
    "E12": "adoption",
}


@dataclass(frozen=True, slots=True)
class NationalRates:
    """National prior rates, per child-month in care.

    Attributes
    ----------
    exit_hazard : numpy.ndarray
        ``(route, age band)`` monthly exit hazards.
    move_hazard : numpy.ndarray
        ``(age band, from group, to group)`` monthly move hazards (zero diagonal).
    entries_per_child_month : numpy.ndarray
        ``(stream,)`` entries a month per child in care.
    entry_mix : numpy.ndarray
        ``(stream, age band, group)`` share of each stream's entries (sums to 1 per stream).
    sources : dict[str, str]
        Where each figure comes from (citation or stated assumption).
    """

    exit_hazard: np.ndarray
    move_hazard: np.ndarray
    entries_per_child_month: np.ndarray
    entry_mix: np.ndarray
    sources: dict[str, str] = field(default_factory=dict)


@cache
def national_citations() -> tuple[dict[str, str], ...]:
    """The bundled national statistics with their sources (DfE; OGL v3)."""
    text = (
        resources.files("scenarios")
        .joinpath("data/national_statistics_citations.csv")
        .read_text("utf-8")
    )
    return tuple(csv.DictReader(text.splitlines()))


def _cited(topic: str, period: str) -> dict[str, str]:
    for row in national_citations():
        if row["topic"] == topic and row["period"] == period:
            return row
    raise LookupError(f"no national figure for {topic} {period} in the bundled citations")


@cache
def national_rates() -> NationalRates:
    """The national priors (see the module docstring for what is cited and what assumed)."""
    stock_2025 = float(_cited("cla_count", "2025")["value"])
    stock_2021 = float(_cited("cla_count", "2021")["value"])
    foster_2019 = float(_cited("placement_type", "2019")["value"]) / 100.0
    # Assumption: about 0.40 entries a year per child in care (the national stock, cited,
    # changed by +1.2% from 2021 to 2025, so entries and exits are close to equal).
    entries = np.array([0.40 / 12.0 * (1.0 - 0.12), 0.40 / 12.0 * 0.12])
    # Assumption: monthly exit hazards by route and age band (under 1 .. 16-17); with the
    # exits at 18 they give about 0.39 exits a year per child, matching the entries above.
    exit_hazard = np.array(
        [
            [0.012, 0.010, 0.009, 0.008, 0.006],  # home (incl. child arrangement orders)
            [0.004, 0.007, 0.005, 0.002, 0.001],  # special guardianship
            [0.008, 0.014, 0.003, 0.0003, 0.0],  # adoption
            [0.003, 0.002, 0.002, 0.004, 0.012],  # other (custody, independent living, ...)
        ]
    )
    # Assumption: monthly moves between groups; step-down to supported accommodation
    # only at 16-17 (under-16s may not live there).
    f, r, s, o = 0, 1, 2, 3
    move = np.zeros((5, 4, 4))
    for a in range(5):
        move[a, f, r] = 0.002
        move[a, r, f] = 0.004
        move[a, o, f] = 0.010
        move[a, f, o] = 0.003
        move[a, r, o] = 0.002
    move[4, f, s] = 0.010
    move[4, r, s] = 0.020
    move[4, o, s] = 0.008
    # Assumption: entry mix by age band (under 1, 1-4, 5-9, 10-15, 16-17) and group at the
    # first month start; separated migrant children arrive almost all at 16-17 (Essex:
    # 98% of its separated migrant children were 16-17 in Dec 2024).
    age_share = np.array([0.20, 0.15, 0.17, 0.33, 0.15])
    young = np.array([foster_2019, 0.05, 0.0, 0.95 - foster_2019])
    older = np.array([0.45, 0.10, 0.35, 0.10])
    infant = np.array([0.70, 0.0, 0.0, 0.30])
    by_age = (infant, young, young, young, older)
    mix_children = np.stack([m * age_share[i] for i, m in enumerate(by_age)])
    uasc_age = np.array([0.0, 0.0, 0.0, 0.10, 0.90])
    uasc_type = np.array([0.45, 0.05, 0.45, 0.05])
    mix_uasc = uasc_age[:, None] * uasc_type[None, :]
    mix = np.stack([mix_children / mix_children.sum(), mix_uasc / mix_uasc.sum()])
    mix = no_supported_accommodation_under_16(mix)
    sources = {
        "stock": f"DfE CLA at 31 March: {stock_2021:.0f} (2021), {stock_2025:.0f} (2025)",
        "foster_share": f"DfE: {foster_2019:.0%} of CLA in foster care (2019)",
        "entries": "assumption: 0.40 entries a year per child in care, 12% separated migrants",
        "exits": "assumption: exit hazards by route and age band consistent with a flat stock",
        "moves": "assumption: small moves between groups; step-down to supported at 16-17",
        "entry_mix": "assumption: DfE-like age mix of entries; group at entry by age",
    }
    return NationalRates(exit_hazard, move, entries, mix, sources)


#: Index of supported accommodation in :data:`GROUPS`, and of the first age band it may hold.
_SUPPORTED = GROUPS.index(SufficiencyGroup.SUPPORTED_ACCOMMODATION)
_FOSTERING = GROUPS.index(SufficiencyGroup.FOSTERING)
_AGE_16 = AGE_BANDS.index((16, 18))


def no_supported_accommodation_under_16(entries: np.ndarray) -> np.ndarray:
    """Entries ``(stream, age band, group)`` with under-16s' supported accommodation fostered.

    Children under 16 may not be placed in supported accommodation (Care Planning,
    Placement and Case Review (England) Regulations 2010 as amended from 9 September
    2021). Older 903 data (and the synthetic samples) still hold such
    placements; a forecast of them would plan places no child may use, so they count as
    fostering, where most under-16s are placed. The total is unchanged.
    """
    out = np.array(entries, dtype=float, copy=True)
    out[:, :_AGE_16, _FOSTERING] += out[:, :_AGE_16, _SUPPORTED]
    out[:, :_AGE_16, _SUPPORTED] = 0.0
    return out


# --------------------------------------------------------------------------- observation


def age_band_of(age_days: np.ndarray) -> np.ndarray:
    """Age band index (0-4) of ages in days (18 and over in band 4)."""
    edges = np.array([int(lo * 365.25) for lo, _ in AGE_BANDS[1:]])
    return np.searchsorted(edges, np.asarray(age_days), side="right").astype(np.int64)


def tic_band_of(tic_days: np.ndarray) -> np.ndarray:
    """Time-in-care band index (0-3) of durations in days."""
    edges = np.array([m * DAYS_PER_MONTH for m in TIC_BANDS_MONTHS[1:]])
    return np.searchsorted(edges, np.asarray(tic_days), side="right").astype(np.int64)


@dataclass(frozen=True, slots=True)
class Population:
    """Children in care on a date, as arrays.

    Attributes
    ----------
    at : datetime.date
        The census date.
    age_days, tic_days : numpy.ndarray
        Age and time in the current period of care, in days (int64).
    group : numpy.ndarray
        Placement group index into :data:`GROUPS` (int64).
    uasc : numpy.ndarray
        Separated migrant child (bool).
    """

    at: dt.date
    age_days: np.ndarray = field(repr=False)
    tic_days: np.ndarray = field(repr=False)
    group: np.ndarray = field(repr=False)
    uasc: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        n = len(self.age_days)
        if not (len(self.tic_days) == len(self.group) == len(self.uasc) == n):
            raise ValueError("population arrays differ in length")
        if n and (self.group.min() < 0 or self.group.max() >= len(GROUPS)):
            raise ValueError("group index out of range")

    def __len__(self) -> int:
        return len(self.age_days)

    def counts(self) -> np.ndarray:
        """Children in each group."""
        return np.bincount(self.group, minlength=len(GROUPS))


@dataclass(frozen=True, slots=True)
class CareHistory:
    """One authority's episodes, joined to dates of birth and grouped into periods of care.

    Attributes
    ----------
    episodes : pandas.DataFrame
        Columns ``CHILD``, ``DECOM``, ``DEC``, ``group`` (index), ``period`` (int),
        ``period_start``, ``period_end`` (NaT while open), ``route`` (exit route of the
        period), ``dob``, ``uasc`` (bool), ``entered`` (the period starts with ``RNE`` S).
    data_end : datetime.date
        The last month start the data describe completely.
    notes : tuple[str, ...]
        What was left out and why (counts only, never children's details).
    data_start : datetime.date or None
        The first month start from which the data are complete (``None``: unknown, taken
        as the earliest episode start). A 903 return holds every episode open during its
        year, so before the first return only children still in care at its start are
        seen: entries, exits and the census there are undercounted. It is the month of the
        earliest episode end (``DEC``), the first thing only a complete return can show.
    """

    episodes: pd.DataFrame = field(repr=False)
    data_end: dt.date
    notes: tuple[str, ...] = ()
    data_start: dt.date | None = None

    @property
    def first_month(self) -> dt.date:
        """The first month start to fit on or start from: ``data_start`` if known."""
        if self.data_start is not None:
            return self.data_start
        first = pd.Timestamp(self.episodes["DECOM"].min()).date()
        return _month_floor(first)

    def truncated(self, at: dt.date) -> CareHistory:
        """The history as it was known at ``at`` (later events removed)."""
        ts = pd.Timestamp(at)
        ep = self.episodes.loc[self.episodes["DECOM"] <= ts].copy()
        late = ep["DEC"] > ts
        ep.loc[late, "DEC"] = pd.NaT
        ended_late = ep["period_end"] > ts
        ep.loc[ended_late, "period_end"] = pd.NaT
        ep.loc[ended_late, "route"] = ""
        return CareHistory(ep, min(self.data_end, _month_floor(at)), self.notes, self.data_start)


def _month_floor(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, 1)


def care_history(
    episodes: pd.DataFrame,
    header: pd.DataFrame,
    uasc: pd.DataFrame | None = None,
    *,
    la: str | None = None,
) -> CareHistory:
    """Join typed 903 tables (from :mod:`matcher.ssda903`) into periods of care.

    Parameters
    ----------
    episodes, header, uasc
        Frames from ``read_episodes``, ``read_header`` and ``read_uasc``.
    la
        The authority, for extracts that carry an ``LA`` column with several.

    Raises
    ------
    ValueError
        If an extract holds several authorities and ``la`` is not given, or ``la`` is not
        among them, or no episode has a date of birth.
    """
    ep = episodes
    hd = header
    ua = uasc if uasc is not None else pd.DataFrame(columns=["CHILD"])
    if ep.empty:
        raise ValueError("the episodes tables hold no episodes")
    if "LA" in ep.columns:
        las = sorted(ep["LA"].astype(str).unique())
        if la is None and len(las) > 1:
            raise ValueError(
                "the episodes hold several authorities (" + ", ".join(las) + "); choose one "
                "with data.la"
            )
        if la is not None:
            if la not in las:
                raise LookupError(
                    f"authority {la!r} is not in the episodes; they hold: " + ", ".join(las)
                )
            ep = ep.loc[ep["LA"] == la]
            if "LA" in hd.columns:
                hd = hd.loc[hd["LA"] == la]
            if "LA" in ua.columns:
                ua = ua.loc[ua["LA"] == la]
    elif la is not None:
        raise ValueError("data.la is given but the episodes have no LA column")
    if hd.empty:
        where = f" for {la}" if la is not None and "LA" in header.columns else ""
        raise ValueError(f"the header tables hold no children{where}: no dates of birth")
    dob = hd.drop_duplicates("CHILD", keep="last").set_index("CHILD")["DOB"]
    ep = ep.assign(dob=ep["CHILD"].map(dob))
    missing = ep["dob"].isna()
    notes = []
    if missing.any():
        n = ep.loc[missing, "CHILD"].nunique()
        notes.append(f"{n} children without a date of birth in the header were left out")
        ep = ep.loc[~missing]
    if ep.empty:
        raise ValueError("no episode has a child with a date of birth in the header table")
    ep = ep.sort_values(["CHILD", "DECOM"], kind="stable").reset_index(drop=True)
    ep["group"] = placement_groups(ep).map({g.value: i for i, g in enumerate(GROUPS)})
    child = ep["CHILD"].to_numpy()
    new_child = np.r_[True, child[1:] != child[:-1]]
    prev_rec = np.r_[[""], ep["REC"].to_numpy()[:-1]]
    prev_dec = np.r_[
        np.array([np.datetime64("NaT")], dtype="datetime64[ns]"), ep["DEC"].to_numpy()[:-1]
    ]
    decom = ep["DECOM"].to_numpy()
    gap = ~np.isnat(prev_dec) & (decom > prev_dec)
    ended = (prev_rec != "X1") & ~np.isnat(prev_dec)
    started = ep["RNE"].to_numpy() == "S"
    ep["period"] = np.cumsum(new_child | started | ended | gap)
    grouped = ep.groupby("period", sort=False)
    ep["period_start"] = grouped["DECOM"].transform("min")
    # A period is an entry only if the data hold its start (RNE "S"); one whose first
    # known episode is a change of placement began before the data and is not an entry.
    ep["entered"] = grouped["RNE"].transform("first") == "S"
    last = grouped.tail(1).set_index("period")
    last_dec = last["DEC"]
    ep["period_end"] = ep["period"].map(last_dec)
    age_at_end = (last["DEC"] - last["dob"]).dt.days
    route = last["REC"].map(_ROUTE_OF_REC).fillna("other")
    route = route.where(~(age_at_end >= DAYS_18 - 31), "turned_18")
    route = route.where(last["DEC"].notna(), "")
    ep["route"] = ep["period"].map(route)
    ua_children = set(ua["CHILD"].astype(str)) if len(ua) else set()
    ep["uasc"] = ep["CHILD"].isin(ua_children)
    latest = max(
        ep["DECOM"].max(), ep["DEC"].max() if ep["DEC"].notna().any() else ep["DECOM"].max()
    )
    data_end = _month_floor(pd.Timestamp(latest).date())
    ended = ep["DEC"].dropna()
    data_start = _month_floor(pd.Timestamp(ended.min()).date()) if len(ended) else None
    keep = [
        "CHILD",
        "DECOM",
        "DEC",
        "group",
        "period",
        "period_start",
        "period_end",
        "route",
        "dob",
        "uasc",
        "entered",
    ]
    return CareHistory(ep[keep].copy(), data_end, tuple(notes), data_start)


def census(history: CareHistory, at: dt.date) -> Population:
    """Children in care at the start of ``at`` (one per child: their open episode)."""
    ts = pd.Timestamp(at)
    ep = history.episodes
    open_ = (ep["DECOM"] <= ts) & (ep["DEC"].isna() | (ep["DEC"] > ts))
    cur = ep.loc[open_].drop_duplicates("CHILD", keep="last")
    age = (ts - cur["dob"]).dt.days.to_numpy(dtype=np.int64)
    keep = (age >= 0) & (age < DAYS_18)
    cur = cur.loc[keep]
    return Population(
        at,
        age[keep],
        (ts - cur["period_start"]).dt.days.to_numpy(dtype=np.int64),
        cur["group"].to_numpy(dtype=np.int64),
        cur["uasc"].to_numpy(dtype=bool),
    )


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month starts from ``first`` (floored) to ``last`` inclusive."""
    out = []
    d = _month_floor(first)
    while d <= last:
        out.append(d)
        d = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return out


def stock_series(history: CareHistory, dates: list[dt.date]) -> np.ndarray:
    """Children in each group at each date: ``(len(dates), 4)`` ints."""
    return np.array([census(history, d).counts() for d in dates], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Observations:
    """Events and exposures in the fit window (see the module docstring).

    Arrays: ``exit_events (route, age, tic)``, ``exit_exposure (age, tic)``,
    ``move_events (age, from, to)``, ``move_exposure (age, from)``,
    ``entry_events (stream, age, group)``, ``monthly_entries (stream, month)``,
    ``stock (month, group)`` at each month start, ``turned_18`` exits (count); and the
    same exits and moves month by month, ``exits_by_month (month, route, age, tic)``,
    ``exit_exposure_by_month (month, age, tic)``, ``moves_by_month (month, age, from, to)``
    and ``move_exposure_by_month (month, age, from)`` (their sums over months are the
    window's arrays), for the recency weighting of :func:`recency_discount`.
    """

    months: tuple[dt.date, ...]
    exit_events: np.ndarray = field(repr=False)
    exit_exposure: np.ndarray = field(repr=False)
    move_events: np.ndarray = field(repr=False)
    move_exposure: np.ndarray = field(repr=False)
    entry_events: np.ndarray = field(repr=False)
    monthly_entries: np.ndarray = field(repr=False)
    stock: np.ndarray = field(repr=False)
    turned_18: int = 0
    exits_by_month: np.ndarray | None = field(default=None, repr=False)
    exit_exposure_by_month: np.ndarray | None = field(default=None, repr=False)
    moves_by_month: np.ndarray | None = field(default=None, repr=False)
    move_exposure_by_month: np.ndarray | None = field(default=None, repr=False)

    @property
    def child_months(self) -> float:
        """Total exposure (census rows) in the window."""
        return float(self.exit_exposure.sum())


def observe(history: CareHistory, fit_from: dt.date, fit_to: dt.date) -> Observations:
    """Count events and exposure between consecutive month starts in ``[fit_from, fit_to]``."""
    months = month_starts(fit_from, fit_to)
    if len(months) < 2:
        raise ValueError("the fit window must span at least one whole month")
    ep = history.episodes
    decom = ep["DECOM"].to_numpy()
    dec = ep["DEC"].to_numpy()
    far = np.datetime64("2262-01-01")
    dec_f = np.where(np.isnat(dec), far, dec)
    ts = np.array([np.datetime64(m, "ns") for m in months])
    open_ = (decom[None, :] <= ts[:, None]) & (dec_f[None, :] > ts[:, None])  # (M, E)
    mi, ei = np.nonzero(open_)
    rows = pd.DataFrame(
        {
            "m": mi,
            "child": ep["CHILD"].to_numpy()[ei],
            "period": ep["period"].to_numpy()[ei],
            "group": ep["group"].to_numpy()[ei],
            "uasc": ep["uasc"].to_numpy()[ei],
            "age": (ts[mi] - ep["dob"].to_numpy()[ei]) // np.timedelta64(1, "D"),
            "tic": (ts[mi] - ep["period_start"].to_numpy()[ei]) // np.timedelta64(1, "D"),
            "pend": ep["period_end"].to_numpy()[ei],
            "pstart": ep["period_start"].to_numpy()[ei],
            "route": ep["route"].to_numpy()[ei],
            "entered": ep["entered"].to_numpy()[ei],
        }
    )
    rows = rows.loc[(rows["age"] >= 0) & (rows["age"] < DAYS_18)]
    rows = rows.drop_duplicates(["m", "child"], keep="last")
    rows["a"] = age_band_of(rows["age"].to_numpy())
    rows["k"] = tic_band_of(rows["tic"].to_numpy())
    n_m = len(months)
    stock = np.zeros((n_m, 4), dtype=np.int64)
    np.add.at(stock, (rows["m"].to_numpy(), rows["group"].to_numpy()), 1)

    cur = rows.loc[rows["m"] < n_m - 1]
    nxt = rows.loc[rows["m"] > 0, ["m", "child", "period", "group", "a", "uasc", "pstart"]]
    nxt = nxt.assign(m=nxt["m"] - 1)
    joined = cur.merge(nxt, on=["m", "child"], how="left", suffixes=("", "_next"))
    next_start = ts[joined["m"].to_numpy() + 1]
    pend = joined["pend"].to_numpy()
    exited = ~np.isnat(pend) & (pend <= next_start)
    a = joined["a"].to_numpy()
    k = joined["k"].to_numpy()
    g = joined["group"].to_numpy()
    mm = joined["m"].to_numpy()
    steps = n_m - 1
    exit_exposure_m = np.zeros((steps, 5, 4))
    np.add.at(exit_exposure_m, (mm, a, k), 1.0)
    exits_m = np.zeros((steps, len(ROUTES), 5, 4))
    routes = joined["route"].to_numpy()
    turned_18 = int(np.sum(exited & (routes == "turned_18")))
    for r_i, r in enumerate(ROUTES):
        sel = exited & (routes == r)
        np.add.at(exits_m, (mm[sel], np.full(sel.sum(), r_i), a[sel], k[sel]), 1.0)
    same = (~exited) & (joined["period_next"].to_numpy() == joined["period"].to_numpy())
    g_next = joined["group_next"].to_numpy()
    moved = same & (g_next != g)
    # Only children who stay in care until the next month start can be seen to move (the
    # simulation moves only those who do not leave): counting the leavers' months too
    # under-estimated moves by the exit probability (found on histories drawn from known
    # rates, ``tests/scenarios/test_forecast_synthetic.py``).
    move_exposure_m = np.zeros((steps, 5, 4))
    np.add.at(move_exposure_m, (mm[~exited], a[~exited], g[~exited]), 1.0)
    moves_m = np.zeros((steps, 5, 4, 4))
    np.add.at(moves_m, (mm[moved], a[moved], g[moved], g_next[moved].astype(np.int64)), 1.0)

    # Entries: periods starting after a month start, open at the next.
    ent = rows.loc[rows["m"] > 0]
    prev_start = ts[ent["m"].to_numpy() - 1]
    this_start = ts[ent["m"].to_numpy()]
    pstart = ent["pstart"].to_numpy()
    is_entry = (pstart > prev_start) & (pstart <= this_start) & ent["entered"].to_numpy()
    ent = ent.loc[is_entry]
    stream = ent["uasc"].to_numpy().astype(np.int64)
    entry_events = np.zeros((2, 5, 4))
    np.add.at(entry_events, (stream, ent["a"].to_numpy(), ent["group"].to_numpy()), 1.0)
    monthly = np.zeros((2, n_m - 1))
    np.add.at(monthly, (stream, ent["m"].to_numpy() - 1), 1.0)
    return Observations(
        tuple(months),
        exits_m.sum(axis=0),
        exit_exposure_m.sum(axis=0),
        moves_m.sum(axis=0),
        move_exposure_m.sum(axis=0),
        entry_events,
        monthly,
        stock,
        turned_18,
        exits_m,
        exit_exposure_m,
        moves_m,
        move_exposure_m,
    )


# --------------------------------------------------------------------------- estimation


@dataclass(frozen=True, slots=True)
class FlowRates:
    """Monthly rates as gamma posteriors (mean = shape / rate).

    Attributes
    ----------
    exit_shape, exit_rate : numpy.ndarray
        ``(route, age band, tic band)``; hazards per child-month.
    move_shape, move_rate : numpy.ndarray
        ``(age band, from, to)``; hazards per child-month.
    entry_shape : numpy.ndarray
        ``(stream, age band, group)``.
    entry_rate : numpy.ndarray
        ``(stream,)`` in months: entries a month in a cell have mean
        ``entry_shape / entry_rate``.
    entry_trend : float
        Monthly log-growth of entries (0 for none).
    trend_origin : float
        Months from the middle of the fit window to its end: the entry level at the
        forecast start is the window's mean times ``exp(entry_trend * trend_origin)``.
    seasonality : numpy.ndarray
        ``(12,)`` multipliers of entries by calendar month (mean 1).
    fit_from, fit_to : datetime.date
        The fit window.
    notes : tuple[str, ...]
        Assumptions and adjustments made.
    entry_scale, exit_scale
        What-if multipliers applied to every draw (see :meth:`scaled`).
    entry_discount : numpy.ndarray
        ``(stream,)`` the discount of the local level of entries (1: a fixed level, the
        whole window's; see :func:`local_entry_level`). Below 1 the level goes on moving
        after the window, in each run (:mod:`scenarios.forecast.stock_flow`).
    rate_spread : float
        How far the runs' rates spread: every posterior's variance is multiplied by it
        when rates are drawn (shape and rate divided by it, the mean kept); 0 draws none
        (each run has the posterior means). 1 (the default) is the posteriors as fitted;
        ``"auto"`` defaults choose it by calibration
        (:func:`scenarios.forecast.tuning.calibrate_spread`).
    exit_discount, move_discount : float
        The recency weighting of the fit window's months for exit and for move hazards
        (1: every month counts the same; ``d``: a month ``m`` months before the last counts
        ``d**m``), each chosen by its own one-step-ahead forecasts in the window
        (:func:`recency_discount`).
    """

    exit_shape: np.ndarray = field(repr=False)
    exit_rate: np.ndarray = field(repr=False)
    move_shape: np.ndarray = field(repr=False)
    move_rate: np.ndarray = field(repr=False)
    entry_shape: np.ndarray = field(repr=False)
    entry_rate: np.ndarray = field(repr=False)
    entry_trend: float = 0.0
    trend_origin: float = 0.0
    seasonality: np.ndarray = field(default_factory=lambda: np.ones(12), repr=False)
    fit_from: dt.date = dt.date(1970, 1, 1)
    fit_to: dt.date = dt.date(1970, 1, 1)
    notes: tuple[str, ...] = ()
    entry_scale: np.ndarray = field(default_factory=lambda: np.ones(2), repr=False)
    exit_scale: float = 1.0
    entry_discount: np.ndarray = field(default_factory=lambda: np.ones(2), repr=False)
    rate_spread: float = 1.0
    exit_discount: float = 1.0
    move_discount: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_spread) and self.rate_spread >= 0):
            raise ValueError("rate_spread must be finite and non-negative")
        if not (0.0 < self.exit_discount <= 1.0 and 0.0 < self.move_discount <= 1.0):
            raise ValueError("exit_discount and move_discount must be in (0, 1]")
        if self.entry_scale.shape != (2,) or np.any(self.entry_scale < 0) or self.exit_scale < 0:
            raise ValueError("scales must be non-negative (two entry streams, one exit)")
        if self.entry_discount.shape != (2,) or np.any(
            (self.entry_discount <= 0) | (self.entry_discount > 1)
        ):
            raise ValueError("entry_discount must be two discounts in (0, 1]")
        for name in ("exit_shape", "exit_rate", "move_shape", "move_rate", "entry_shape"):
            arr = getattr(self, name)
            if np.any(~np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"{name} must be finite and non-negative")
        if np.any(self.exit_rate <= 0) or np.any(self.move_rate <= 0):
            raise ValueError("rate parameters must be positive")
        if np.any(self.entry_rate <= 0):
            raise ValueError("entry rate parameters must be positive")
        if self.seasonality.shape != (12,) or np.any(self.seasonality <= 0):
            raise ValueError("seasonality must be 12 positive multipliers")

    @property
    def exit_hazard(self) -> np.ndarray:
        """Posterior mean exit hazards ``(route, age, tic)`` per child-month (scaled)."""
        return self.exit_shape / self.exit_rate * self.exit_scale

    @property
    def move_hazard(self) -> np.ndarray:
        """Posterior mean move hazards ``(age, from, to)`` per child-month."""
        return self.move_shape / self.move_rate

    @property
    def entries_per_month(self) -> np.ndarray:
        """Posterior mean entries a month ``(stream, age, group)`` at the window's middle."""
        return self.entry_shape / self.entry_rate[:, None, None] * self.entry_scale[:, None, None]

    def scaled(self, *, entries: float = 1.0, uasc: float = 1.0, exits: float = 1.0) -> FlowRates:
        """These rates with entries, separated-migrant arrivals or exits multiplied.

        The posteriors are kept and the multipliers applied to every draw, so that runs
        with the same seed draw the same rates before scaling (common random numbers).
        """
        if min(entries, uasc, exits) < 0:
            raise ValueError("multipliers must not be negative")
        return FlowRates(
            self.exit_shape,
            self.exit_rate,
            self.move_shape,
            self.move_rate,
            self.entry_shape,
            self.entry_rate,
            self.entry_trend,
            self.trend_origin,
            self.seasonality,
            self.fit_from,
            self.fit_to,
            self.notes,
            self.entry_scale * np.array([entries, uasc]),
            self.exit_scale * exits,
            self.entry_discount,
            self.rate_spread,
            self.exit_discount,
            self.move_discount,
        )


def _poisson_log_slope(y: np.ndarray) -> float:
    """Slope of log E[y] on month index by Poisson regression (IRLS)."""
    x = np.arange(len(y), dtype=float)
    if y.sum() <= 0 or len(y) < 3:
        return 0.0
    b0, b1 = np.log(max(y.mean(), 1e-9)), 0.0
    design = np.column_stack([np.ones_like(x), x])
    for _ in range(50):
        mu = np.exp(b0 + b1 * x)
        z = b0 + b1 * x + (y - mu) / mu
        w = mu
        wx = design * w[:, None]
        try:
            coef = np.linalg.solve(design.T @ wx, wx.T @ z)
        except np.linalg.LinAlgError:
            return 0.0
        if abs(coef[1] - b1) < 1e-10:
            b0, b1 = float(coef[0]), float(coef[1])
            break
        b0, b1 = float(coef[0]), float(coef[1])
    return b1 if np.isfinite(b1) else 0.0


def _hazard_factor(chance: np.ndarray, *, axis: int) -> np.ndarray:
    """Hazard over chance, ``-log(1 - P) / P`` for the total chance ``P`` along ``axis``.

    Competing events (routes out of care, groups to move to) share the total hazard in
    the proportions of their chances. A total chance of 99.9 % or more is held there.
    """
    total = np.minimum(chance.sum(axis=axis, keepdims=True), 0.999)
    safe = np.where(total > 0, total, 0.5)
    return np.where(total > 0, -np.log1p(-safe) / safe, 1.0)


def _recent_entry_level(
    obs: Observations,
    window_shape: np.ndarray,
    window_rate: float,
    weight: float,
    months: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Entry posteriors ``(shape, rate)`` whose level is fitted on the last ``months`` months.

    Per stream, the whole window's posterior rate per child-month (``window_shape`` summed
    over cells, over ``window_rate``) is the prior, with ``weight`` child-months, for the
    entries of the last ``months`` months over their child-months; the cells keep the
    window's mix. The gamma shape is the recent events plus the prior's, so a level resting
    on few events is drawn with a wide spread.
    """
    per_stream = window_shape.sum(axis=(1, 2))  # (stream,)
    prior_rate = per_stream / window_rate  # entries per child-month in care
    recent = obs.monthly_entries[:, -months:].sum(axis=1)
    n_m = obs.stock.shape[0]
    recent_child_months = max(float(obs.stock[n_m - 1 - months : n_m - 1].sum()), 1.0)
    recent_stock = recent_child_months / months
    shape_total = recent + weight * prior_rate
    with np.errstate(invalid="ignore", divide="ignore"):
        mix = np.where(
            per_stream[:, None, None] > 0,
            window_shape / np.where(per_stream > 0, per_stream, 1.0)[:, None, None],
            0.0,
        )
    shape = mix * shape_total[:, None, None]
    rate = np.full(2, (recent_child_months + weight) / recent_stock)
    return shape, rate


#: Discounts of the local level of entries compared (1: a fixed level, the whole window's).
#: ``1 / (1 - discount)`` is the level's memory in months: from the whole window to about 3.
ENTRY_DISCOUNTS: tuple[float, ...] = (1.0, 0.97, 0.94, 0.9, 0.85, 0.8, 0.7)
#: Months whose one-step-ahead forecasts are not scored (each discount has seen some data).
ENTRY_BURN_IN = 6


@dataclass(frozen=True, slots=True)
class EntryLevel:
    """The local level of a stream's entries at the end of a fit window.

    Attributes
    ----------
    discount : float
        The chosen discount (1: a fixed level).
    shape, rate : float
        Gamma posterior of the level (entries a month at exposure 1) after the last month.
    log_scores : tuple[float, ...]
        Each discount's one-step-ahead log predictive score (less 1 for a discount below 1),
        in the order of the discounts compared.
    """

    discount: float
    shape: float
    rate: float
    log_scores: tuple[float, ...] = ()


def _negative_binomial_log(y: float, shape: float, rate: float, exposure: float) -> float:
    """log P(y) when y is Poisson(level x exposure) and the level Gamma(shape, rate)."""
    if shape <= 0.0:
        return 0.0 if y == 0 else -np.inf
    return (
        math.lgamma(y + shape)
        - math.lgamma(shape)
        - math.lgamma(y + 1.0)
        + shape * math.log(rate / (rate + exposure))
        + y * math.log(exposure / (rate + exposure))
    )


def local_entry_level(
    counts: np.ndarray,
    exposure: np.ndarray,
    prior_shape: float,
    prior_rate: float,
    *,
    discounts: tuple[float, ...] = ENTRY_DISCOUNTS,
    burn_in: int = ENTRY_BURN_IN,
) -> EntryLevel:
    """The level of monthly entries as a local level (a gamma-Poisson discount model).

    Entries in month ``t`` are Poisson with mean ``level_t x exposure_t``; the level's
    gamma posterior ``(a, b)`` is carried from month to month with its weight of evidence
    discounted, ``(discount x a, discount x b)``, then updated by the month,
    ``(+ entries, + exposure)`` (Smith 1979; Harvey and Fernandes 1989, "Time series models
    for count or qualitative observations"; West and Harrison's discount factors). Old
    months count for less, so a level that has changed is followed; with discount 1 every
    month counts the same and the level is the whole window's. The prior ``(prior_shape,
    prior_rate)`` is the starting posterior.

    The discount is chosen by the one-step-ahead forecasts inside the window, a rolling
    origin at every month: each discount in ``discounts`` predicts each month from the
    months before it (a negative binomial), and the highest sum of log predictive
    probabilities wins, after the first ``burn_in`` months (at most a third of the
    window) and less 1 for a discount below 1 (Akaike's penalty for the one parameter a
    fixed level does not have). Ties go to the earlier discount. Only the window's own
    months are used.
    """
    y = np.asarray(counts, dtype=float)
    e = np.asarray(exposure, dtype=float)
    if y.shape != e.shape or np.any(e <= 0) or np.any(y < 0):
        raise ValueError("counts and exposures must match; exposures positive, counts >= 0")
    if not discounts or any(not 0.0 < d <= 1.0 for d in discounts):
        raise ValueError("discounts must be in (0, 1]")
    skip = min(burn_in, len(y) // 3)
    best: tuple[float, float, float, float] | None = None
    scores: list[float] = []
    for d in discounts:
        a, b, score = float(prior_shape), float(prior_rate), 0.0
        for t in range(len(y)):
            a, b = d * a, d * b
            if t >= skip:
                score += _negative_binomial_log(y[t], a, b, e[t])
            a, b = a + y[t], b + e[t]
        if d < 1.0:
            score -= 1.0
        scores.append(score)
        if best is None or score > best[0] + 1e-9:
            best = (score, d, a, b)
    assert best is not None
    _, d, a, b = best
    return EntryLevel(d, a, b, tuple(scores))


def _local_entries(
    obs: Observations,
    window_shape: np.ndarray,
    prior_shape: np.ndarray,
    prior_rate: float,
    slope: float,
    season: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entry posteriors ``(shape, rate)`` from each stream's local level, with the
    discounts (see :func:`local_entry_level`).

    The level is in entries a month at the window's middle on the trend, out of season,
    as the whole window's is: each month's exposure is its seasonal multiplier times the
    trend there. The cells keep the whole window's mix by age band and group.
    """
    n_months = obs.monthly_entries.shape[1]
    cal = np.array([obs.months[i].month - 1 for i in range(n_months)])
    exposure = season[cal] * np.exp(slope * (np.arange(n_months) - n_months / 2.0))
    per_stream = window_shape.sum(axis=(1, 2))
    shape = np.zeros_like(window_shape)
    rate = np.ones(2)
    discount = np.ones(2)
    for stream in range(2):
        level = local_entry_level(
            obs.monthly_entries[stream], exposure, float(prior_shape[stream]), prior_rate
        )
        if per_stream[stream] > 0:
            shape[stream] = window_shape[stream] / per_stream[stream] * level.shape
        rate[stream] = level.rate
        discount[stream] = level.discount
    return shape, rate, discount


#: Discounts of the recency weighting of exit and move hazards compared (1: every month of
#: the window counts the same). Shorter than the entries' ladder (no 0.7): a council's
#: exits and moves in a cell are few, and a 3-month memory of them is mostly noise.
HAZARD_DISCOUNTS: tuple[float, ...] = (1.0, 0.97, 0.94, 0.9, 0.85, 0.8)


@dataclass(frozen=True, slots=True)
class HazardRecency:
    """The recency weighting chosen for one family of hazards (exits or moves).

    Attributes
    ----------
    discount : float
        The chosen discount (1: every month of the window the same).
    log_scores : tuple[float, ...]
        Each discount's one-step-ahead log predictive score (less 1 for a discount below 1),
        in the order of the discounts compared.
    """

    discount: float
    log_scores: tuple[float, ...] = ()


def _council_level(
    observed: np.ndarray, expected: np.ndarray, exposure: np.ndarray, weight: float | np.ndarray
) -> np.ndarray:
    """The council's events over those national rates would give on its exposure (an
    indirectly standardised ratio), pulled towards 1 by ``weight`` child-months at the
    national mean rate. The national priors then lend a council the shape of its rates by
    route, age and group, not their level: a council whose children leave 30% faster than
    the national assumption at every age keeps that, whatever ``prior_weight`` (histories
    drawn from known rates 1.3 times the prior's: with the level at 1 the fitted exits
    were 0.74-0.99 times the truth at the back-tests' origins, and the 12-month forecast
    2 points high on average)."""
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    exposure = np.asarray(exposure, dtype=float)
    mean_rate = np.where(exposure > 0, expected / np.where(exposure > 0, exposure, 1.0), 0.0)
    pseudo = weight * mean_rate
    denominator = expected + pseudo
    return np.where(
        denominator > 0, (observed + pseudo) / np.where(denominator > 0, denominator, 1.0), 1.0
    )


def _exit_posterior(
    events: np.ndarray, exposure: np.ndarray, weight: float | np.ndarray, national: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exit chances' gamma ``(shape, rate)`` by (route, age, tic): national (route, age) at
    the council's level (:func:`_council_level`) → council (route, age) → council cell,
    ``weight`` child-months at each step. Leading axes (months) broadcast: ``events (...,
    route, age, tic)``, ``exposure (..., age, tic)``, ``weight`` a number or ``(...)``."""
    wt = np.asarray(weight, dtype=float)
    exp_age = exposure.sum(axis=-1)  # (..., age)
    ev_age = events.sum(axis=-1)  # (..., route, age)
    level = _council_level(
        ev_age.sum(axis=(-2, -1)),
        (national * exp_age[..., None, :]).sum(axis=(-2, -1)),
        exp_age.sum(axis=-1),
        wt,
    )
    w2 = wt[..., None, None]
    council_age = (ev_age + w2 * level[..., None, None] * national) / (exp_age[..., None, :] + w2)
    shape = events + wt[..., None, None, None] * council_age[..., None]
    rate = np.broadcast_to(exposure[..., None, :, :] + wt[..., None, None, None], shape.shape)
    return shape, rate.copy()


def _move_posterior(
    events: np.ndarray, exposure: np.ndarray, weight: float | np.ndarray, national: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move chances' gamma ``(shape, rate)`` by (age, from, to): national at the council's
    level → council cell; under-16s never into supported accommodation. ``events (...,
    age, from, to)``, ``exposure (..., age, from)``, ``weight`` a number or ``(...)``."""
    wt = np.asarray(weight, dtype=float)
    level = _council_level(
        events.sum(axis=(-3, -2, -1)),
        (national * exposure[..., None]).sum(axis=(-3, -2, -1)),
        exposure.sum(axis=(-2, -1)),
        wt,
    )
    w3 = wt[..., None, None, None]
    shape = events + w3 * level[..., None, None, None] * national
    shape[..., :_AGE_16, :, _SUPPORTED] = 0.0
    rate = np.broadcast_to(exposure[..., None] + w3, shape.shape).copy()
    return shape, rate


def _discounted(by_month: np.ndarray, discount: float) -> np.ndarray:
    """The months' sum with month ``t`` of ``T`` weighted ``discount ** (T - 1 - t)``."""
    if discount >= 1.0:
        return by_month.sum(axis=0)
    n = by_month.shape[0]
    weights = discount ** np.arange(n - 1, -1, -1, dtype=float)
    return np.tensordot(weights, by_month, axes=1)


def recency_discount(
    events_by_month: np.ndarray,
    exposure_by_month: np.ndarray,
    posterior: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    cell_exposure: Callable[[np.ndarray], np.ndarray],
    *,
    discounts: tuple[float, ...] = HAZARD_DISCOUNTS,
    burn_in: int = ENTRY_BURN_IN,
) -> HazardRecency:
    """Choose how much more a fit window's recent months count for a family of hazards.

    With discount ``d`` a month ``m`` months before the window's last counts ``d**m`` in the
    events and the exposure of every cell, so the posterior's weight of evidence shrinks
    with the memory, and the national prior's weight shrinks in the same proportion
    (``share``, the discounted exposure over the plain one): the discount changes how the
    months are weighted, not how far the council is pulled towards the prior. (With the
    prior's weight kept, a short memory won on steady histories drawn at the prior's own
    rates, by leaning on the prior: the tests of a steady history found it.) ``d`` = 1 is
    the window's plain sum, the estimator before this choice. As for the level of entries
    (:func:`local_entry_level`), each ``d`` in ``discounts`` predicts each month's events
    in every cell from the months before it (the posterior ``posterior(events, exposure,
    share)`` of their discounted sums; events in a cell are negative binomial, a Poisson count of
    ``cell_exposure(exposure)`` child-months at a gamma rate), and the highest sum of log
    predictive probabilities over cells and months wins, after the first ``burn_in``
    months (at most a third of the window) and less 1 for a discount below 1 (Akaike's
    penalty). Ties go to the earlier discount. Cells whose posterior has no events and no
    prior are not scored (the same cells for every discount). Only the window's own months
    are used.
    """
    events = np.asarray(events_by_month, dtype=float)
    exposure = np.asarray(exposure_by_month, dtype=float)
    if len(events) != len(exposure):
        raise ValueError("events and exposures must cover the same months")
    if not discounts or any(not 0.0 < d <= 1.0 for d in discounts):
        raise ValueError("discounts must be in (0, 1]")
    n = len(events)
    skip = max(min(burn_in, n // 3), 1)
    if n - skip < 1:
        return HazardRecency(1.0, tuple(0.0 for _ in discounts))
    y = events[skip:]
    e = cell_exposure(exposure[skip:])
    scores: list[float] = []
    best_score, best = -np.inf, 1.0
    monthly_exposure = exposure.reshape(n, -1).sum(axis=1)
    plain = np.concatenate([[0.0], np.cumsum(monthly_exposure)[:-1]])[skip:]
    for d in discounts:
        before_ev = np.zeros_like(events)
        before_ex = np.zeros_like(exposure)
        for t in range(1, n):
            before_ev[t] = d * before_ev[t - 1] + events[t - 1]
            before_ex[t] = d * before_ex[t - 1] + exposure[t - 1]
        seen = before_ex[skip:].reshape(n - skip, -1).sum(axis=1)
        share = np.where(plain > 0, seen / np.where(plain > 0, plain, 1.0), 1.0)
        shape, rate = posterior(before_ev[skip:], before_ex[skip:], share)
        scored = (shape > 0) & (e > 0)
        a = np.where(scored, shape, 1.0)
        b = np.where(scored, rate, 1.0)
        x = np.where(scored, e, 1.0)
        yy = np.where(scored, y, 0.0)
        log_p = (
            gammaln(yy + a)
            - gammaln(a)
            - gammaln(yy + 1.0)
            + a * np.log(b / (b + x))
            + yy * np.log(x / (b + x))
        )
        score = float(np.where(scored, log_p, 0.0).sum()) - (1.0 if d < 1.0 else 0.0)
        scores.append(score)
        if score > best_score + 1e-9:
            best_score, best = score, d
    return HazardRecency(best, tuple(scores))


def estimate_rates(
    obs: Observations,
    *,
    prior_weight: float = 1200.0,
    entry_trend: str | float = "none",
    max_trend_percent: float = 25.0,
    seasonality: bool = True,
    national: NationalRates | None = None,
    entry_months: int | None = None,
    entry_level: str = "local",
    hazard_recency: str = "none",
) -> FlowRates:
    """Rates from observations, pulled towards national rates.

    Parameters
    ----------
    obs
        From :func:`observe`.
    prior_weight
        Pseudo-exposure in child-months given to each parent rate. 1,200 child-months is
        100 children observed for a year: a council with 40,000 child-months (Essex over
        three years) keeps its own rates; one with 2,000 is pulled half-way.
    entry_trend
        ``"none"``, ``"fitted"`` (Poisson regression of monthly entries on time, kept
        between ``-max_trend_percent`` and ``+max_trend_percent`` per cent a year) or a
        growth in per cent a year.
    seasonality
        Estimate monthly multipliers of entries (needs 24 months; shrunk towards 1).
    national
        The priors; :func:`national_rates` by default.
    entry_months
        Fit the level of entries on the last ``entry_months`` months of the window only
        (``None``: as ``entry_level`` says). The mix of entries by age band and group still comes
        from the whole window. The recent level's prior is the whole window's rate per
        child-month in care, with ``prior_weight`` child-months (national → council window
        → council recent months), so a level resting on few recent entries is uncertain and
        the runs say so.
    entry_level
        ``"local"`` (the default): the level of entries is a local level whose discount is
        chosen by one-step-ahead forecasts inside the window (:func:`local_entry_level`),
        so a level that has changed is followed and its uncertainty carried; ``"window"``:
        one level for the whole window. Ignored when ``entry_months`` is given.
    hazard_recency
        ``"none"`` (the default): every month of the window counts the same for exit and
        move hazards; ``"auto"``: the months are weighted for exit hazards, and apart for
        move hazards, by a recency discount each chooses by its own one-step-ahead
        forecasts in the window (:func:`recency_discount`; 1 when the recent months do not
        predict better). Not the default: on the accuracy benchmark it was better on some
        samples and worse on others, worse on the public sample (docs/forecast.md).
    """
    if entry_level not in ("local", "window"):
        raise ValueError(f"entry_level must be 'local' or 'window', not {entry_level!r}")
    if hazard_recency not in ("none", "auto"):
        raise ValueError(f"hazard_recency must be 'none' or 'auto', not {hazard_recency!r}")
    nat = national or national_rates()
    w = float(prior_weight)
    notes: list[str] = []
    exit_events, exit_exposure = obs.exit_events, obs.exit_exposure
    move_events, move_exposure = obs.move_events, obs.move_exposure
    exit_discount = move_discount = 1.0
    exit_weight = move_weight = w
    by_month = (
        obs.exits_by_month,
        obs.exit_exposure_by_month,
        obs.moves_by_month,
        obs.move_exposure_by_month,
    )
    if hazard_recency == "auto" and w > 0 and all(x is not None and len(x) >= 3 for x in by_month):
        exits_m, exit_exp_m, moves_m, move_exp_m = (np.asarray(x) for x in by_month)
        # Exits and moves are weighted apart: one may change while the other holds.
        exit_discount = recency_discount(
            exits_m,
            exit_exp_m,
            lambda ev, ex, share: _exit_posterior(ev, ex, w * share, nat.exit_hazard),
            lambda ex: np.repeat(ex[:, None, :, :], len(ROUTES), axis=1),
        ).discount
        move_discount = recency_discount(
            moves_m,
            move_exp_m,
            lambda ev, ex, share: _move_posterior(ev, ex, w * share, nat.move_hazard),
            lambda ex: np.repeat(ex[..., None], len(GROUPS), axis=-1),
        ).discount
        # The prior's weight shrinks with the evidence (see recency_discount).
        exit_events = _discounted(exits_m, exit_discount)
        exit_exposure = _discounted(exit_exp_m, exit_discount)
        exit_weight = w * exit_exposure.sum() / max(float(exit_exp_m.sum()), 1e-12)
        move_events = _discounted(moves_m, move_discount)
        move_exposure = _discounted(move_exp_m, move_discount)
        move_weight = w * move_exposure.sum() / max(float(move_exp_m.sum()), 1e-12)
        if min(exit_discount, move_discount) < 1.0:
            notes.append(
                "leaving care and moves between placement types: recent months weighted more, "
                f"discount {exit_discount:.2f} (exits) and {move_discount:.2f} (moves) a month, "
                "chosen by one-step-ahead forecasts in the fit window"
            )
    # Exits: national (route, age) -> council (route, age) -> council (route, age, tic).
    exit_shape, exit_rate = _exit_posterior(
        exit_events, exit_exposure, exit_weight, nat.exit_hazard
    )
    # Moves: national (age, from, to) -> council (age, from, to); the under-16s' moves into
    # supported accommodation are zeroed there (below, the note).
    move_shape, move_rate = _move_posterior(
        move_events, move_exposure, move_weight, nat.move_hazard
    )
    # Entries: per child-month in care, then turned into entries a month at the mean stock.
    n_months = max(obs.monthly_entries.shape[1], 1)
    child_months = max(obs.child_months, 1.0)
    mean_stock = child_months / n_months
    prior_counts = w * nat.entries_per_child_month[:, None, None] * nat.entry_mix
    entry_shape = no_supported_accommodation_under_16(obs.entry_events + prior_counts)
    # Under-16s may not move into supported accommodation either (they stay where they are;
    # :func:`_move_posterior` zeroes them).
    early = (
        int(obs.entry_events[:, :_AGE_16, _SUPPORTED].sum()),
        int(obs.move_events[:_AGE_16, :, _SUPPORTED].sum()),
    )
    if any(early):
        parts = [
            f"{n} {word}{'' if n == 1 else 's'} {what}"
            for n, word, what in (
                (early[0], "arrival", "counted as fostering"),
                (early[1], "move", "left out"),
            )
            if n
        ]
        notes.append(
            "under-16s may not live in supported accommodation: in the data, " + " and ".join(parts)
        )
    entry_rate = np.full(2, (child_months + w) / mean_stock)
    origin = n_months / 2.0
    if entry_months is not None and 0 < entry_months < n_months:
        # Entries follow referrals, not the stock: a council whose entries have fallen (or
        # risen) is forecast from its recent level (the accuracy benchmark: on the public
        # sample, whose entries fell from 3.7 to 1.2 a month in 2018, the whole window's
        # level over-forecast the total at five of six origins).
        entry_shape, entry_rate = _recent_entry_level(
            obs, entry_shape, child_months + w, w, entry_months
        )
        origin = entry_months / 2.0
    # Trend.
    total_monthly = obs.monthly_entries.sum(axis=0)
    if entry_trend == "none":
        slope = 0.0
    elif entry_trend == "fitted":
        slope = _poisson_log_slope(total_monthly)
        upper = np.log1p(max_trend_percent / 100.0) / 12.0
        lower = np.log(max(1.0 - max_trend_percent / 100.0, 0.01)) / 12.0
        capped = float(np.clip(slope, lower, upper))
        if capped != slope:
            notes.append(
                f"fitted entry trend {100 * np.expm1(12 * slope):+.0f}% a year capped at "
                f"{100 * np.expm1(12 * capped):+.0f}%"
            )
            slope = capped
    else:
        slope = float(np.log1p(float(entry_trend) / 100.0) / 12.0)
    # The rates so far are chances in a month (events per census row); the simulation
    # takes hazards (chance 1 - exp(-hazard)). Without this, a cell with a total exit
    # chance of 5% a month was simulated 2.5% too slow (found on histories drawn from
    # known rates); the shape, the weight of evidence, is kept.
    exit_rate = exit_rate / _hazard_factor(exit_shape / exit_rate, axis=0)
    move_rate = move_rate / _hazard_factor(move_shape / move_rate, axis=2)
    # Seasonality.
    season = np.ones(12)
    if seasonality and n_months >= 24 and total_monthly.sum() > 0:
        cal = np.array([(obs.months[i].month - 1) for i in range(n_months)])
        expected = total_monthly.mean() * np.exp(slope * (np.arange(n_months) - n_months / 2))
        k = 12.0
        got = np.bincount(cal, weights=total_monthly, minlength=12)
        exp_ = np.bincount(cal, weights=expected, minlength=12)
        season = (got + k) / (exp_ + k)
        season = season / season.mean()
    elif seasonality:
        notes.append("seasonality not estimated: fewer than 24 months of entries")
    discount = np.ones(2)
    if entry_level == "local" and entry_months is None and n_months >= 3:
        entry_shape, entry_rate, discount = _local_entries(
            obs, entry_shape, w * nat.entries_per_child_month, w / mean_stock, slope, season
        )
        if discount[0] < 1.0:
            notes.append(
                f"children entering care: a local level, discount {discount[0]:.2f} a month "
                f"(memory about {1 / (1 - discount[0]):.0f} months), chosen by one-step-ahead "
                "forecasts in the fit window; it goes on moving in each run"
            )
    return FlowRates(
        exit_shape,
        exit_rate,
        move_shape,
        move_rate,
        entry_shape,
        entry_rate,
        slope,
        origin,
        season,
        obs.months[0],
        obs.months[-1],
        tuple(notes),
        entry_discount=discount,
        exit_discount=exit_discount,
        move_discount=move_discount,
    )


def _matched(means: np.ndarray, variances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gamma ``(shape, rate)`` with the mixture's mean and variance (members on axis 0)."""
    mean = means.mean(axis=0)
    var = variances.mean(axis=0) + means.var(axis=0)
    ok = (mean > 0) & (var > 0)
    safe_var = np.where(ok, var, 1.0)
    shape = np.where(ok, mean * mean / safe_var, 0.0)
    rate = np.where(ok, mean / safe_var, 1.0)
    return shape, rate


def average_rates(members: tuple[FlowRates, ...]) -> FlowRates:
    """One set of rates for several fitted models: their average, with their disagreement.

    Each rate's posterior is replaced by the gamma with the members' mixture mean and
    variance (the mean of the members' posterior variances plus the variance of their
    means). So the expected counts are close to the average of the members' forecasts,
    and the runs, drawing from these posteriors, carry the uncertainty about which model
    is right as well as the sampling uncertainty of each. Entries keep one rate parameter
    per stream: it matches the stream's total variance, and every cell keeps its mean.
    Trend, seasonality, window, notes and the entry, exit and move discounts are the first
    member's (the best).
    """
    if not members:
        raise ValueError("average_rates needs at least one set of rates")
    best = members[0]
    if len(members) == 1:
        return best
    exit_shape, exit_rate = _matched(
        np.stack([m.exit_shape / m.exit_rate for m in members]),
        np.stack([m.exit_shape / m.exit_rate**2 for m in members]),
    )
    move_shape, move_rate = _matched(
        np.stack([m.move_shape / m.move_rate for m in members]),
        np.stack([m.move_shape / m.move_rate**2 for m in members]),
    )
    e_mean = np.stack([m.entry_shape / m.entry_rate[:, None, None] for m in members])
    e_var = np.stack([m.entry_shape / m.entry_rate[:, None, None] ** 2 for m in members])
    mean = e_mean.mean(axis=0)
    var = e_var.mean(axis=0) + e_mean.var(axis=0)
    total_mean = mean.sum(axis=(1, 2))
    total_var = var.sum(axis=(1, 2))
    entry_rate = np.where(
        (total_mean > 0) & (total_var > 0), total_mean / np.where(total_var > 0, total_var, 1), 1.0
    )
    entry_shape = mean * entry_rate[:, None, None]
    return FlowRates(
        exit_shape,
        exit_rate,
        move_shape,
        move_rate,
        entry_shape,
        entry_rate,
        best.entry_trend,
        best.trend_origin,
        best.seasonality,
        best.fit_from,
        best.fit_to,
        best.notes,
        best.entry_scale,
        best.exit_scale,
        best.entry_discount,
        best.rate_spread,
        best.exit_discount,
        best.move_discount,
    )
