"""Synthetic SSDA903 histories drawn from KNOWN entry, exit and move rates.

A forecast's estimator can only be checked against the truth where the truth is known. This
module draws 903-like episode histories, month by month, from rates chosen in advance, and
writes them as the yearly episodes, header and UASC tables the forecast reads. Fitting the
forecast on them must give back the rates they were drawn from (within sampling error: see
``tests/scenarios/test_forecast_synthetic.py``), and the rolling back-tests of the accuracy
benchmark measure error and interval cover where the model is exactly right.

The process is the one :mod:`scenarios.forecast.rates` estimates, in continuous dates:

* at each month start every child in care may **leave** (monthly hazards by route, age band
  and time-in-care band), on a day drawn uniformly before the next month start; a child who
  reaches 18 before then leaves on that day instead (``REC`` ``E8``; not a hazard);
* a child who stays may **move** to another placement group (hazards by age band, from and
  to group): the episode ends (``REC`` ``X1``) and a new one starts (``RNE`` ``P``) that day;
* **arrivals** in each (stream, age band, group) cell are Poisson with the cell's mean a
  month; each starts a period of care (``RNE`` ``S``) on a day drawn in the month, aged so
  that at the next month start they are in the cell's age band. Stream 1 are separated
  migrant children (written to the UASC table).

Before the first return the process runs for ``burn_in_years`` from an empty authority, so
that the children in care when the data start are those a steady state holds. A collection
year's files hold every episode open during it (1 April to 31 March), as a 903 return does;
an episode that ends after the year is written open. Every child is invented: identifiers
are ``SYN`` and a number, postcodes and UPNs are blank.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.forecast.rates import (
    AGE_BANDS,
    DAYS_18,
    GROUPS,
    ROUTES,
    STREAMS,
    TIC_BANDS_MONTHS,
    age_band_of,
    month_starts,
    national_rates,
    tic_band_of,
)

#: A ``PLACE`` code for each group, in :data:`GROUPS` order (foster placement, children's
#: home, supported accommodation, placed with parents).
PLACE_OF_GROUP: tuple[str, ...] = ("U1", "K2", "K3", "P1")
#: A ``REC`` code for each exit route, in :data:`ROUTES` order.
REC_OF_ROUTE: tuple[str, ...] = ("E4A", "E45", "E11", "E8")

_N_AGE = len(AGE_BANDS)
_N_TIC = len(TIC_BANDS_MONTHS)
_N_GROUP = len(GROUPS)
_AGE_16 = AGE_BANDS.index((16, 18))
_SUPPORTED = 2
_BAND_LO = np.array([int(lo * 365.25) for lo, _ in AGE_BANDS])
_BAND_HI = np.array([min(int(hi * 365.25), DAYS_18) for _, hi in AGE_BANDS])


@dataclass(frozen=True, slots=True)
class KnownRates:
    """The rates a synthetic history is drawn from (all per month).

    Attributes
    ----------
    entries_per_month : numpy.ndarray
        ``(stream, age band, group)`` mean arrivals a month, counted (as the estimator
        counts them) in the age band and group a child has at the next month start.
    exit_hazard : numpy.ndarray
        ``(route, age band, time-in-care band)`` monthly hazards.
    move_hazard : numpy.ndarray
        ``(age band, from group, to group)`` monthly hazards, zero on the diagonal.
    """

    entries_per_month: np.ndarray = field(repr=False)
    exit_hazard: np.ndarray = field(repr=False)
    move_hazard: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        shapes = {
            "entries_per_month": (len(STREAMS), _N_AGE, _N_GROUP),
            "exit_hazard": (len(ROUTES), _N_AGE, _N_TIC),
            "move_hazard": (_N_AGE, _N_GROUP, _N_GROUP),
        }
        for name, shape in shapes.items():
            arr = getattr(self, name)
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, not {arr.shape}")
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"{name} must be finite and non-negative")
        if np.any(np.diagonal(self.move_hazard, axis1=1, axis2=2) != 0):
            raise ValueError("move_hazard must be zero on the diagonal (a move changes group)")
        # Under-16s may not live in supported accommodation (Care Planning, Placement and
        # Case Review (England) Regulations 2010 as amended from 9 September 2021).
        if np.any(self.entries_per_month[:, :_AGE_16, _SUPPORTED] > 0) or np.any(
            self.move_hazard[:_AGE_16, :, _SUPPORTED] > 0
        ):
            raise ValueError("no under-16 may arrive in or move to supported accommodation")

    @property
    def entries_a_month(self) -> np.ndarray:
        """Mean arrivals a month by stream."""
        return self.entries_per_month.sum(axis=(1, 2))


def example_rates(
    *, children_a_month: float = 8.0, separated_a_month: float = 1.0, exit_scale: float = 1.3
) -> KnownRates:
    """A small authority's rates: the national priors' shape, deliberately not their level.

    Entries: ``children_a_month`` and ``separated_a_month`` arrivals a month, mixed by age
    band and group as the national prior mixes them. Exits: the national prior's hazards by
    route and age band times ``exit_scale``, and by time in care 1.6, 1.2, 1.0 and 0.7 times
    that (children leave soonest early in a period of care). Moves: the national prior's.
    About 260 children are in care in the steady state of the defaults.
    """
    nat = national_rates()
    entries = nat.entry_mix * np.array([children_a_month, separated_a_month])[:, None, None]
    by_tic = np.array([1.6, 1.2, 1.0, 0.7])
    exits = nat.exit_hazard[:, :, None] * exit_scale * by_tic[None, None, :]
    return KnownRates(entries, exits, nat.move_hazard.copy())


@dataclass(frozen=True, slots=True)
class SyntheticReturns:
    """Yearly 903 tables drawn from known rates.

    Attributes
    ----------
    rates : KnownRates
        What they were drawn from.
    seed : int
    tables : dict[int, tuple[pandas.DataFrame, pandas.DataFrame, pandas.DataFrame]]
        By collection year (ending 31 March of that year): the episodes, header and UASC
        tables, every cell a string as written.
    """

    rates: KnownRates = field(repr=False)
    seed: int
    tables: dict[int, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = field(repr=False)

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``YEAR-episodes.csv``, ``YEAR-header.csv`` and ``YEAR-uasc.csv`` per year."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for year, frames in sorted(self.tables.items()):
            for kind, frame in zip(("episodes", "header", "uasc"), frames, strict=True):
                path = out / f"{year}-{kind}.csv"
                frame.to_csv(path, index=False)
                written.append(path)
        return written


def _date(day: int) -> str:
    return dt.date.fromordinal(day).strftime("%d/%m/%Y")


def generate_returns(
    rates: KnownRates,
    *,
    first_year: int,
    last_year: int,
    seed: int,
    burn_in_years: int = 18,
    entry_change: tuple[dt.date, float] | None = None,
) -> SyntheticReturns:
    """Draw a history from ``rates`` and cut it into yearly 903 returns.

    Parameters
    ----------
    rates
        The known rates.
    first_year, last_year
        Collection years written (each ends on 31 March of its year).
    seed
        The random seed: the same arguments give the same tables.
    burn_in_years
        Years simulated from an empty authority before the first return begins (18: every
        child in care then arrived during the burn-in).
    entry_change
        ``(month, factor)``: from that month start on, every arrival rate is ``factor``
        times its rate before (a step change in entries, e.g. a new front door). ``None``:
        the rates never change.
    """
    if last_year < first_year:
        raise ValueError("last_year must not be before first_year")
    if burn_in_years < 0:
        raise ValueError("burn_in_years must not be negative")
    rng = np.random.Generator(np.random.PCG64(seed))
    begin = dt.date(first_year - 1 - burn_in_years, 4, 1)
    end = dt.date(last_year, 4, 1)
    months = [m.toordinal() for m in month_starts(begin, end)]
    exit_total = rates.exit_hazard.sum(axis=0)  # (age, tic)
    move_out = rates.move_hazard.sum(axis=2)  # (age, from)
    # Children in care: index into the lists below.
    dob: list[int] = []
    uasc: list[bool] = []
    # Episodes: child, start, end (0 while open), group, RNE, REC.
    ep_child: list[int] = []
    ep_start: list[int] = []
    ep_end: list[int] = []
    ep_group: list[int] = []
    ep_rne: list[str] = []
    ep_rec: list[str] = []
    # Per child in care: its open episode and the start of its period.
    active = np.zeros(0, dtype=np.int64)  # child ids
    open_ep = np.zeros(0, dtype=np.int64)
    period_start = np.zeros(0, dtype=np.int64)
    group = np.zeros(0, dtype=np.int64)
    dob_arr = np.zeros(0, dtype=np.int64)
    cells = [(s, a, g) for s in range(len(STREAMS)) for a in range(_N_AGE) for g in range(_N_GROUP)]
    lam = np.array([rates.entries_per_month[c] for c in cells])
    change_from, change_factor = dt.date.max.toordinal(), 1.0
    if entry_change is not None:
        if not np.isfinite(entry_change[1]) or entry_change[1] < 0:
            raise ValueError("the entry_change factor must be finite and non-negative")
        change_from, change_factor = entry_change[0].toordinal(), float(entry_change[1])
    for t, t1 in itertools.pairwise(months):
        days = t1 - t
        n = len(active)
        if n:
            a = age_band_of(t - dob_arr)
            k = tic_band_of(t - period_start)
            b18 = dob_arr + DAYS_18
            adult = b18 <= t1
            u = rng.random(n)
            p_exit = 1.0 - np.exp(-exit_total[a, k])
            leave = (u < p_exit) & ~adult
            when = t + 1 + (rng.random(n) * days).astype(np.int64)
            when = np.minimum(when, t1)
            p_move = 1.0 - np.exp(-move_out[a, group])
            move = (rng.random(n) < p_move) & ~leave & ~adult
            for i in np.flatnonzero(leave):
                hz = rates.exit_hazard[:, a[i], k[i]]
                route = int(rng.choice(len(ROUTES), p=hz / hz.sum()))
                ep_end[open_ep[i]] = int(when[i])
                ep_rec[open_ep[i]] = REC_OF_ROUTE[route]
            for i in np.flatnonzero(adult):
                ep_end[open_ep[i]] = int(b18[i])
                ep_rec[open_ep[i]] = "E8"
            for i in np.flatnonzero(move):
                q = rates.move_hazard[a[i], group[i]]
                to = int(rng.choice(_N_GROUP, p=q / q.sum()))
                ep_end[open_ep[i]] = int(when[i])
                ep_rec[open_ep[i]] = "X1"
                open_ep[i] = len(ep_child)
                ep_child.append(int(active[i]))
                ep_start.append(int(when[i]))
                ep_end.append(0)
                ep_group.append(to)
                ep_rne.append("P")
                ep_rec.append("")
                group[i] = to
            stay = ~leave & ~adult
            active, open_ep, period_start, group, dob_arr = (
                active[stay],
                open_ep[stay],
                period_start[stay],
                group[stay],
                dob_arr[stay],
            )
        counts = rng.poisson(lam if t < change_from else lam * change_factor)
        new_ids, new_eps, new_starts, new_groups, new_dobs = [], [], [], [], []
        for (s, a_band, g), c in zip(cells, counts, strict=True):
            for _ in range(int(c)):
                start = t + 1 + int(rng.random() * days)
                start = min(start, t1)
                lo, hi = int(_BAND_LO[a_band]), int(_BAND_HI[a_band])
                age_next = lo + int(rng.random() * (hi - lo))
                born = min(t1 - age_next, start)  # a baby may come into care at birth
                child = len(dob)
                dob.append(born)
                uasc.append(s == 1)
                new_ids.append(child)
                new_eps.append(len(ep_child))
                new_starts.append(start)
                new_groups.append(g)
                new_dobs.append(born)
                ep_child.append(child)
                ep_start.append(start)
                ep_end.append(0)
                ep_group.append(g)
                ep_rne.append("S")
                ep_rec.append("")
        if new_ids:
            active = np.concatenate([active, np.array(new_ids, dtype=np.int64)])
            open_ep = np.concatenate([open_ep, np.array(new_eps, dtype=np.int64)])
            period_start = np.concatenate([period_start, np.array(new_starts, dtype=np.int64)])
            group = np.concatenate([group, np.array(new_groups, dtype=np.int64)])
            dob_arr = np.concatenate([dob_arr, np.array(new_dobs, dtype=np.int64)])
    episodes = pd.DataFrame(
        {
            "child": ep_child,
            "start": ep_start,
            "end": ep_end,
            "group": ep_group,
            "rne": ep_rne,
            "rec": ep_rec,
        }
    )
    tables = {
        year: _year_tables(episodes, dob, uasc, year) for year in range(first_year, last_year + 1)
    }
    return SyntheticReturns(rates, seed, tables)


def _year_tables(
    episodes: pd.DataFrame, dob: list[int], uasc: list[bool], year: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The episodes open during the collection year ending 31 March ``year``."""
    first = dt.date(year - 1, 4, 1).toordinal()
    last = dt.date(year, 3, 31).toordinal()
    ends = episodes["end"].to_numpy()
    during = (episodes["start"].to_numpy() <= last) & ((ends == 0) | (ends >= first))
    ep = episodes.loc[during].sort_values(["child", "start"], kind="stable")
    known_end = (ep["end"] > 0) & (ep["end"] <= last)
    ids = [f"SYN{c:06d}" for c in ep["child"]]
    rows = pd.DataFrame(
        {
            "CHILD": ids,
            "DECOM": [_date(d) for d in ep["start"]],
            "RNE": ep["rne"].to_list(),
            "LS": "C2",
            "CIN": "N1",
            "PLACE": [PLACE_OF_GROUP[g] for g in ep["group"]],
            "PLACE_PROVIDER": "PR1",
            "DEC": [_date(d) if k else "" for d, k in zip(ep["end"], known_end, strict=True)],
            "REC": [r if k else "" for r, k in zip(ep["rec"], known_end, strict=True)],
            "REASON_PLACE_CHANGE": [
                "CARPL" if (r == "X1" and k) else ""
                for r, k in zip(ep["rec"], known_end, strict=True)
            ],
            "HOME_POST": "",
            "PL_POST": "",
            "URN": "",
        }
    )
    children = sorted(set(ep["child"]))
    header = pd.DataFrame(
        {
            "CHILD": [f"SYN{c:06d}" for c in children],
            "SEX": [1 + c % 2 for c in children],
            "DOB": [_date(dob[c]) for c in children],
            "ETHNIC": "WBRI",
            "UPN": "",
            "MOTHER": "",
            "MC_DOB": "",
        }
    )
    separated = [c for c in children if uasc[c]]
    uasc_table = pd.DataFrame(
        {
            "CHILD": [f"SYN{c:06d}" for c in separated],
            "SEX": [1 + c % 2 for c in separated],
            "DOB": [_date(dob[c]) for c in separated],
            "DUC": [_date(dob[c] + DAYS_18) for c in separated],
        }
    )
    return rows, header, uasc_table


__all__ = [
    "PLACE_OF_GROUP",
    "REC_OF_ROUTE",
    "KnownRates",
    "SyntheticReturns",
    "example_rates",
    "generate_returns",
]
