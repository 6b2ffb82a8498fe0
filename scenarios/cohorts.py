"""Synthetic cohorts of children in care and the homes that could take them.

:func:`generate` draws a whole authority from a :class:`~scenarios.profiles.Profile`: children
(ages, sex, separated migrant children, sibling groups, needs, ethnicity, religion, language,
home postcode among the authority's real postcodes, a real school near home) and supply
(in-house and agency foster households, connected-person carers, children's homes,
supported-accommodation units, parent-and-child places) in and around the authority.
:func:`write_case_folder` writes the result as a case folder (``children.csv``,
``vacancies.csv``, ``profile.json``, ``README.md``, and with ``residents=True`` a
``residents.csv`` of the children already living in the children's homes).

Two shapes:

``whole_cohort``
    every child against every home, all beds free: "how well can our supply serve our
    children at best?" (a sufficiency analysis).
``referrals``
    ``referrals`` children needing a home now (sibling groups kept whole) against the free
    beds: a realistic share of supply is free, with the household's other fostered children
    in ``fostered_now``.

The same profile, seed and options give byte-identical files. Everything is synthetic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from matcher.contract import CHILDREN_FILE, RESIDENTS_FILE, VACANCIES_FILE, column_names
from matcher.placement_types import PlacementType
from scenarios.profiles import Mix, Profile, profile_for
from scenarios.synth_geo import CohortGeography, RealGeography, sector_range

Shape = Literal["whole_cohort", "referrals"]

#: ``children.csv`` columns: the case-folder contract's, in its order, then our extra column
#: (the sufficiency group of the child's current placement, for sufficiency reports).
CHILD_COLUMNS: tuple[str, ...] = (*column_names(CHILDREN_FILE), "current_group")
#: ``vacancies.csv`` columns: the contract's, in its order, then our extra columns.
VACANCY_COLUMNS: tuple[str, ...] = (*column_names(VACANCIES_FILE), "organisation", "supply_area")

#: Languages of separated migrant children by ethnicity code (assumed, from the main
#: countries of origin of children arriving in England: Eritrea, Sudan, Afghanistan, Iran,
#: Iraq, Syria, Vietnam, Albania).
_UASC_LANGUAGES: dict[str, tuple[tuple[str, float], ...]] = {
    "BAFR": (("Tigrinya", 0.45), ("Arabic", 0.3), ("Amharic", 0.15), ("Oromo", 0.1)),
    "OOTH": (("Kurdish", 0.35), ("Arabic", 0.3), ("Farsi", 0.25), ("Vietnamese", 0.1)),
    "AOTH": (("Pashto", 0.6), ("Dari", 0.4)),
    "WOTH": (("Albanian", 1.0),),
}
_UASC_OTHER_LANGUAGES: tuple[tuple[str, float], ...] = (("Arabic", 0.5), ("Kurdish", 0.5))
_CHRISTIAN_LANGUAGES = frozenset({"Tigrinya", "Amharic"})
_OTHER_HOME_LANGUAGES: tuple[str, ...] = ("Polish", "Romanian", "Urdu", "Bengali", "Portuguese")
_RELIGIONS: tuple[tuple[str, float], ...] = (
    ("Christian", 0.6),
    ("No religion", 0.28),
    ("Muslim", 0.08),
    ("Hindu", 0.02),
    ("Sikh", 0.01),
    ("Jewish", 0.01),
)
_FOSTER_AGE_RANGES: tuple[tuple[int, int], ...] = ((0, 4), (0, 10), (0, 17), (5, 17), (11, 17))
_ACCEPTS_FOSTERING = f"{PlacementType.INHOUSE_FOSTER};{PlacementType.AGENCY_FOSTER}"


@dataclass(frozen=True, slots=True)
class SyntheticCase:
    """A generated case folder, before it is written.

    Attributes
    ----------
    children, vacancies : pandas.DataFrame
        The rows of ``children.csv`` and ``vacancies.csv`` (all values as text).
    metadata : dict
        What ``profile.json`` records: synthetic, seed, shape, profile, realised figures.
    residents : pandas.DataFrame or None
        The rows of ``residents.csv`` (all values as text) when asked for (``residents``
        of :func:`generate`); ``None``: no ``residents.csv`` is written.
    """

    children: pd.DataFrame
    vacancies: pd.DataFrame
    metadata: dict[str, Any]
    residents: pd.DataFrame | None = None


# -- sampling helpers ----------------------------------------------------------------------


def allocate(total: int, shares: Sequence[float]) -> np.ndarray:
    """Whole counts adding up to ``total`` in the given shares (largest remainder)."""
    p = np.asarray(shares, dtype=float)
    p = p / p.sum()
    raw = p * total
    counts = np.floor(raw).astype(int)
    short = total - int(counts.sum())
    if short > 0:
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _keys(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Weighted-sampling keys (Efraimidis-Spirakis): sort descending to sample w/o replacement."""
    u = rng.random(len(weights))
    with np.errstate(divide="ignore"):
        keys = np.where(weights > 0, np.log(u) / np.where(weights > 0, weights, 1.0), -np.inf)
    return keys


def _pick(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement in proportion to ``weights``."""
    keys = _keys(rng, weights)
    order = np.argsort(-keys, kind="stable")
    eligible = int(np.count_nonzero(weights > 0))
    return np.sort(order[: min(k, eligible)])


def _pick_units(
    rng: np.random.Generator, weights: np.ndarray, sizes: np.ndarray, children: int
) -> np.ndarray:
    """Units drawn in proportion to ``weights`` until they hold ``children`` children,
    skipping units that would overshoot (so the count is exact when it can be)."""
    keys = _keys(rng, weights)
    order = np.argsort(-keys, kind="stable")
    chosen: list[int] = []
    total = 0
    for i in order:
        if weights[i] <= 0 or total >= children:
            break
        if total + sizes[i] <= children:
            chosen.append(int(i))
            total += int(sizes[i])
    return np.sort(np.asarray(chosen, dtype=int))


def _choice(rng: np.random.Generator, pairs: Sequence[tuple[str, float]], size: int) -> np.ndarray:
    cats = np.array([c for c, _ in pairs], dtype=object)
    p = np.array([w for _, w in pairs], dtype=float)
    return rng.choice(cats, size=size, p=p / p.sum())


def _lognormal_cost(rng: np.random.Generator, mean: float, sigma: float, size: int) -> np.ndarray:
    """Weekly costs around ``mean`` (mean-preserving log-normal), rounded to £10."""
    draws = mean * np.exp(rng.normal(0.0, sigma, size) - sigma * sigma / 2)
    return (np.round(draws / 10.0) * 10).astype(int)


def year_probabilities(bands: Mix) -> np.ndarray:
    """Probability of each age 0..17 from the age bands. Within 10-15 the older years weigh
    a little more (assumed), so that 15-17 are the most common ages."""
    p = np.zeros(18)
    spans = {"0": (0, 0), "1-4": (1, 4), "5-9": (5, 9), "10-15": (10, 15), "16-17": (16, 17)}
    for band, share in bands.shares:
        lo, hi = spans[band]
        years = np.arange(lo, hi + 1)
        w = 1.0 + 0.1 * (years - lo) if band == "10-15" else np.ones(len(years))
        p[lo : hi + 1] = share * w / w.sum()
    return p / p.sum()


def overall_ethnicity(profile: Profile) -> dict[str, float]:
    """The cohort's ethnicity: the profile's fixed codes, the rest in the national mix."""
    fixed = {code: fig.value for code, fig in profile.fixed_ethnicity}
    rest = {c: s for c, s in profile.ethnicity.shares if c not in fixed}
    scale = (1.0 - sum(fixed.values())) / sum(rest.values())
    out = {c: s * scale for c, s in rest.items()}
    out.update(fixed)
    return {c: out[c] for c in sorted(out)}


def _not_uasc_ethnicity(profile: Profile, n: int, u: int) -> dict[str, float]:
    """Ethnicity of the ``n - u`` children who are not separated migrants, so that with the
    ``u`` separated migrant children drawn from the profile's UASC mix the whole cohort of
    ``n`` has :func:`overall_ethnicity` in expectation.

    Each code needs ``overall * n - uasc * u`` non-UASC children. Where the UASC mix alone
    gives a code more than its overall share (e.g. Essex's ``OOTH`` and ``AOTH``), that code
    gets none and its surplus is taken from the other non-fixed ("rest", national-mix) codes
    in proportion, never from the profile's fixed codes: so a fixed code keeps its overall
    share exactly, and only the rest codes' overall shares move from the national mix. (In a
    cohort too small for a fixed code's UASC children alone, e.g. one separated migrant child
    in five for Essex's ``BAFR``, that code is clipped the same way.)

    Raises
    ------
    ValueError
        If the rest codes cannot absorb the surplus (the separated migrant children need more
        of them than the whole cohort has).
    """
    overall = overall_ethnicity(profile)
    uasc = dict(profile.uasc_ethnicity.shares)
    fixed = {code for code, _ in profile.fixed_ethnicity}
    codes = sorted(set(overall) | set(uasc))
    if n - u <= 0:
        return {c: overall.get(c, 0.0) for c in codes}  # nobody to draw it for
    need = {c: overall.get(c, 0.0) * n - uasc.get(c, 0.0) * u for c in codes}
    out = {c: max(v, 0.0) for c, v in need.items()}
    surplus = sum(out[c] - v for c, v in need.items())
    rest = [c for c in codes if c not in fixed and out[c] > 0]
    room = sum(out[c] for c in rest)
    if surplus > room * (1 + 1e-12):
        raise ValueError(
            f"profile {profile.key!r}: the separated migrant children's ethnicity mix needs "
            f"{surplus / n:.1%} of the cohort beyond the overall shares of its codes, more "
            f"than the codes outside the fixed ones ({', '.join(sorted(fixed)) or 'none'}) "
            f"have ({room / n:.1%}); lower the UASC share or the fixed shares"
        )
    if surplus > 0:
        keep = max(room - surplus, 0.0) / room
        for c in rest:
            out[c] *= keep
    # The counts add up to ``n - u`` (up to rounding): dividing by their sum rescales nothing.
    total = sum(out.values())
    return {c: v / total for c, v in out.items()}


def expected_ethnicity(profile: Profile, n: int) -> tuple[dict[str, float], dict[str, float]]:
    """Expected ethnicity shares of a cohort of ``n`` drawn from ``profile``: over all
    children, and over its separated migrant children (as :func:`generate` draws them)."""
    u = min(round(profile.uasc_share.value * n), n)
    rest = _not_uasc_ethnicity(profile, n, u)
    uasc = dict(profile.uasc_ethnicity.shares)
    codes = sorted(set(rest) | set(uasc))
    overall = {c: (rest.get(c, 0.0) * (n - u) + uasc.get(c, 0.0) * u) / n for c in codes}
    return overall, {c: uasc.get(c, 0.0) for c in codes}


# -- the cohort ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Cohort:
    """Column arrays of the whole cohort (one entry per child) and of its units."""

    unit: np.ndarray  # unit index of each child
    unit_size: np.ndarray
    uasc: np.ndarray  # bool per child
    age: np.ndarray
    male: np.ndarray
    home: np.ndarray  # postcode per child ("" for UASC)
    group: np.ndarray  # sufficiency group of current placement
    needs: list[list[str]]
    types: np.ndarray  # placement_types text
    ethnicity: np.ndarray
    religion: np.ndarray
    language: np.ndarray
    school: np.ndarray  # URN text or ""
    connected_units: np.ndarray  # unit indices with a connected-person carer


def _sibling_sizes(rng: np.random.Generator, mix: Mix, children: int) -> list[int]:
    cats = np.array([int(c) for c in mix.categories])
    draws = rng.choice(cats, size=max(children, 1), p=np.array(mix.probabilities))
    sizes: list[int] = []
    total = 0
    for s in draws:
        if total + int(s) > children:
            break
        sizes.append(int(s))
        total += int(s)
    rest = children - total
    if rest >= 2:
        sizes.append(rest)
    elif rest == 1:
        for i, s in enumerate(sizes):
            if s < 4:
                sizes[i] += 1
                break
    return sizes


def _draw_cohort(
    profile: Profile, n: int, rng: np.random.Generator, geo: CohortGeography, ons: str
) -> _Cohort:
    u = min(round(profile.uasc_share.value * n), n)
    m = n - u
    siblings = min(round(profile.sibling_share.value * n), m)
    sib_sizes = _sibling_sizes(rng, profile.sibling_group_sizes, siblings) if siblings >= 2 else []
    singles = m - sum(sib_sizes)
    sizes = np.array(sib_sizes + [1] * singles + [1] * u, dtype=int)
    unit_uasc = np.array([False] * (len(sib_sizes) + singles) + [True] * u)
    # Shuffle the units so that ids do not cluster siblings or separated migrant children.
    perm = rng.permutation(len(sizes))
    sizes, unit_uasc = sizes[perm], unit_uasc[perm]
    units = len(sizes)
    unit = np.repeat(np.arange(units), sizes)
    uasc = unit_uasc[unit]

    # Ages. Separated migrant children: 16-17 with the profile's share, else 14-15.
    uasc_old = rng.random(units) < profile.uasc_age_16_17_share.value
    uasc_age = np.where(
        uasc_old,
        rng.choice([16, 17], size=units, p=[0.45, 0.55]),
        rng.choice([14, 15], size=units, p=[0.3, 0.7]),
    )
    target = year_probabilities(profile.age_bands) * n
    expected_uasc = np.zeros(18)
    p16 = profile.uasc_age_16_17_share.value
    expected_uasc[[16, 17, 14, 15]] = u * np.array(
        [0.45 * p16, 0.55 * p16, 0.3 * (1 - p16), 0.7 * (1 - p16)]
    )
    p_rest = np.clip(target - expected_uasc, 0, None)
    p_rest = p_rest / p_rest.sum()
    anchor = rng.choice(18, size=units, p=p_rest)
    gaps = rng.choice([1, 2, 3, 4], size=n, p=[0.3, 0.35, 0.2, 0.15])
    age = np.empty(n, dtype=int)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for i in range(units):
        s, k = starts[i], sizes[i]
        if unit_uasc[i]:
            age[s] = uasc_age[i]
        elif k == 1:
            age[s] = anchor[i]
        else:
            offsets = np.concatenate([[0], np.cumsum(gaps[s + 1 : s + k])])
            ages = anchor[i] - offsets + round(float(offsets.mean()))
            ages = ages - min(int(ages.min()), 0)
            age[s : s + k] = np.clip(ages, 0, 17)

    male = np.where(
        uasc,
        rng.random(n) < profile.uasc_male_share.value,
        rng.random(n) < profile.male_share_not_uasc.value,
    )

    postcodes = geo.postcodes(ons)
    if not postcodes:
        raise LookupError(f"no postcodes found for authority {ons}")
    unit_home = np.array(postcodes, dtype=object)[rng.integers(len(postcodes), size=units)]
    unit_home[unit_uasc] = ""
    home = unit_home[unit]

    # Current placement group: exact counts from the mix, drawn with propensities by age.
    mix = profile.placement_mix
    counts = dict(zip(mix.categories, allocate(n, mix.probabilities), strict=True))
    group = np.full(n, "", dtype=object)
    single = sizes[unit] == 1
    free = single.copy()
    pc_count = min(round(profile.parent_and_child_share.value * n), counts["other"])
    pc_w = (free & ~uasc & ~male & (age >= 16)).astype(float)
    pc = _pick(rng, pc_w, pc_count)
    group[pc] = "other"
    free[pc] = False
    sa_w = np.where(free & (age >= 16), np.where(uasc, 4.0, 1.0), 0.0)
    sa = _pick(rng, sa_w, counts["supported_accommodation"])
    group[sa] = "supported_accommodation"
    free[sa] = False
    res_w = np.where(free & (age >= 8), np.where(age >= 12, 1.5, 0.5), 0.0)
    res_w = np.where(uasc, res_w * 0.2, res_w)
    res = _pick(rng, res_w, counts["residential"])
    group[res] = "residential"
    free[res] = False
    # Other (placed with parents, for adoption, ...): whole units, younger more likely.
    taken = np.zeros(units, dtype=bool)
    np.logical_or.at(taken, unit, group != "")
    unit_min_age = np.full(units, 99)
    np.minimum.at(unit_min_age, unit, age)
    oth_w = np.where(taken | unit_uasc, 0.0, np.where(unit_min_age < 5, 2.0, 1.0))
    oth_units = _pick_units(rng, oth_w, sizes, counts["other"] - len(pc))
    group[np.isin(unit, oth_units)] = "other"
    group[group == ""] = "fostering"

    needs: list[list[str]] = [[] for _ in range(n)]
    for i in np.flatnonzero(uasc).tolist():
        needs[i].append("uasc")
    for i in np.flatnonzero(sizes[unit] > 1).tolist():
        needs[i].append("sibling_group")
    dis_w = np.where(uasc, 0.2, np.where(group == "residential", 2.0, 1.0))
    disabled = _pick(rng, dis_w, round(profile.disabled_share.value * n))
    wheel = disabled[
        _pick(
            rng,
            np.where(uasc[disabled], 0.0, 1.0),
            round(profile.wheelchair_share_of_disabled.value * len(disabled)),
        )
    ]
    n_res = int(np.count_nonzero(group == "residential"))
    dols = _pick(
        rng,
        ((group == "residential") & (age >= 12)).astype(float),
        round(profile.dols_share_of_residential.value * n_res),
    )
    solo_w = ((group == "residential") & ~np.isin(np.arange(n), dols)).astype(float)
    solo = _pick(rng, solo_w, round(profile.solo_only_share_of_residential.value * n_res))
    for need, idx in (
        ("disability", disabled),
        ("wheelchair", wheel),
        ("dols", dols),
        ("solo_only", solo),
        ("parent_and_child", pc),
    ):
        for i in idx:
            needs[i].append(need)

    # Connected-person carers for some fostered units (never separated migrant children).
    fostered = group == "fostering"
    unit_fostered = np.zeros(units, dtype=bool)
    np.logical_or.at(unit_fostered, unit, fostered)
    cp_w = np.where(unit_fostered & ~unit_uasc, 1.0, 0.0)
    cp_children = round(profile.connected_person_share_of_fostering.value * int(fostered.sum()))
    connected_units = _pick_units(rng, cp_w, sizes, cp_children)
    has_cp = np.isin(unit, connected_units)

    types = np.empty(n, dtype=object)
    types[:] = _ACCEPTS_FOSTERING
    types[has_cp] = f"{PlacementType.CONNECTED_PERSON_FOSTER};{_ACCEPTS_FOSTERING}"
    types[group == "residential"] = str(PlacementType.CHILDRENS_HOME)
    types[group == "supported_accommodation"] = str(PlacementType.SUPPORTED_ACCOMMODATION)
    types[pc] = str(PlacementType.PARENT_AND_CHILD)

    # Ethnicity, religion and language: shared within a sibling group.
    rest_mix = _not_uasc_ethnicity(profile, n, u)
    unit_eth = np.where(
        unit_uasc,
        _choice(rng, profile.uasc_ethnicity.shares, units),
        _choice(rng, tuple(rest_mix.items()), units),
    )
    unit_lang = np.where(
        rng.random(units) < 0.05,
        _choice(rng, [(x, 1.0) for x in _OTHER_HOME_LANGUAGES], units),
        "English",
    )
    unit_rel = np.where(rng.random(units) < 0.45, _choice(rng, _RELIGIONS, units), "")
    for i in np.flatnonzero(unit_uasc).tolist():
        lang = str(_choice(rng, _UASC_LANGUAGES.get(str(unit_eth[i]), _UASC_OTHER_LANGUAGES), 1)[0])
        unit_lang[i] = lang
        unit_rel[i] = (
            "Christian"
            if lang in _CHRISTIAN_LANGUAGES
            else ("Muslim" if lang != "Vietnamese" else "")
        )
    unit_lang = np.where(
        unit_rel == "Muslim", np.where(unit_lang == "Polish", "Urdu", unit_lang), unit_lang
    )

    # Schools: a real school near home for ages 4-15, and for most 16-17 year olds.
    school = np.full(n, "", dtype=object)
    in_school = (
        ~uasc & (age >= 4) & ((age < 16) | (rng.random(n) < profile.school_share_16_17.value))
    )
    pick_r = rng.random(n)
    for i in np.flatnonzero(in_school).tolist():
        urns = geo.schools(str(home[i]), int(age[i]))
        if urns:
            cum = np.cumsum([0.6, 0.25, 0.15][: len(urns)])
            j = int(np.searchsorted(cum / cum[-1], pick_r[i], side="right"))
            school[i] = str(urns[min(j, len(urns) - 1)])

    return _Cohort(
        unit=unit,
        unit_size=sizes,
        uasc=uasc,
        age=age,
        male=male,
        home=home,
        group=group,
        needs=needs,
        types=types,
        ethnicity=unit_eth[unit],
        religion=unit_rel[unit],
        language=unit_lang[unit],
        school=school,
        connected_units=connected_units,
    )


# -- the supply ----------------------------------------------------------------------------


class _Places:
    """Random postcodes in the authority, next door, and further away."""

    def __init__(self, geo: CohortGeography, ons: str, rng: np.random.Generator) -> None:
        self.geo = geo
        self.rng = rng
        self.own = ons
        self.adjoining = tuple(a for a in geo.adjoining(ons) if a != ons)
        ring2: set[str] = set()
        for a in self.adjoining:
            ring2.update(geo.adjoining(a))
        self.further = tuple(sorted(ring2 - set(self.adjoining) - {ons}))

    def random_in(self, ons: str) -> str:
        pcs = self.geo.postcodes(ons)
        return str(pcs[int(self.rng.integers(len(pcs)))]) if pcs else ""

    def random(self, area: str) -> tuple[str, str]:
        """A postcode in ``area`` (in_county, adjoining, further) and the area it fell in."""
        if area == "further" and self.further:
            return self.random_in(self.further[int(self.rng.integers(len(self.further)))]), area
        if area in ("further", "adjoining") and self.adjoining:
            pick = self.adjoining[int(self.rng.integers(len(self.adjoining)))]
            return self.random_in(pick), "adjoining"
        return self.random_in(self.own), "in_county"

    def near(self, home: str) -> str:
        """Another postcode in the same sector as ``home`` (the home itself if it is alone)."""
        pcs = self.geo.postcodes(self.own)
        lo, hi = sector_range(pcs, home)
        if hi <= lo:
            return home
        return str(pcs[lo + int(self.rng.integers(hi - lo))])


def _beds_until(
    rng: np.random.Generator, sizes: Sequence[int], p: Sequence[float], target: int
) -> list[int]:
    """Home sizes drawn until they hold ``target`` beds (the last one trimmed)."""
    out: list[int] = []
    total = 0
    while total < target:
        b = int(rng.choice(np.asarray(sizes), p=np.asarray(p) / sum(p)))
        b = min(b, target - total)
        out.append(b)
        total += b
    return out


def _mix_pairs(mix: Mix) -> tuple[tuple[str, float], ...]:
    return mix.shares


_FOSTER_OFSTED: tuple[tuple[str, float], ...] = (
    ("outstanding", 0.25),
    ("good", 0.63),
    ("requires_improvement", 0.1),
    ("inadequate", 0.02),
)
#: Supported accommodation is judged on Ofsted's own three outcomes (inspections began in
#: September 2024, so most providers are not yet inspected); assumed shares.
_SA_OFSTED: tuple[tuple[str, float], ...] = (
    ("not_inspected", 0.8),
    ("consistently_strong", 0.15),
    ("inconsistent", 0.05),
)

#: Synthetic Ofsted URNs are drawn from SC900000-SC999999: real social care URNs in the "SC"
#: series run from SC0xxxxx to about SC5xxxxx and newer settings get seven-digit numbers, so
#: these cannot be mistaken for a real home's (the range is documented in
#: docs/synthetic-cohorts.md).
SYNTHETIC_URN_FIRST = 900_000
SYNTHETIC_URN_COUNT = 100_000
#: Placement types whose settings Ofsted registers under their own URN (children's homes,
#: secure children's homes, residential family centres for parent-and-child placements, and
#: supported accommodation providers); the 903 needs it (DfE rule 218). Fostering is
#: written XXXXXXX.
_URN_TYPES = frozenset(
    {
        str(PlacementType.CHILDRENS_HOME),
        str(PlacementType.SECURE_HOME),
        str(PlacementType.PARENT_AND_CHILD),
        str(PlacementType.SUPPORTED_ACCOMMODATION),
    }
)


def synthetic_urns(vacancies: pd.DataFrame, seed: int) -> list[str]:
    """One synthetic Ofsted URN per row of ``vacancies``; blank for fostering.

    Each children's home, secure home and parent-and-child centre (``provider_id``) gets its
    own URN; supported accommodation gets one per ``organisation``, because Ofsted registers
    the supported accommodation undertaking, not each address (Supported Accommodation
    (England) Regulations 2023). URNs are distinct, ``SC`` and six digits from
    :data:`SYNTHETIC_URN_FIRST`, and drawn by their own generator seeded from ``seed``, so
    that adding them changed no other draw of the case.
    """
    keys: list[str | None] = []
    for kind, provider, organisation in zip(
        vacancies["placement_type"],
        vacancies["provider_id"],
        vacancies["organisation"],
        strict=True,
    ):
        if kind not in _URN_TYPES:
            keys.append(None)
        elif kind == str(PlacementType.SUPPORTED_ACCOMMODATION) and organisation:
            keys.append(f"org:{organisation}")
        else:
            keys.append(f"provider:{provider}")
    distinct = list(dict.fromkeys(k for k in keys if k is not None))
    rng = np.random.default_rng([seed, 903])
    numbers = rng.choice(SYNTHETIC_URN_COUNT, size=len(distinct), replace=False)
    urn_of = {
        k: f"SC{SYNTHETIC_URN_FIRST + int(n):06d}" for k, n in zip(distinct, numbers, strict=True)
    }
    return ["" if k is None else urn_of[k] for k in keys]


#: Made-up words for synthetic names of households and settings. The surnames are common
#: English ones and the place words generic, so that a name says what kind of placement it is
#: and never points at a real person or home.
SYNTHETIC_SURNAMES: tuple[str, ...] = (
    "Ashworth", "Barker", "Bennett", "Carter", "Chambers", "Dawson", "Ellis", "Fletcher",
    "Gardner", "Hartley", "Holmes", "Hughes", "Jennings", "Kaur", "Khan", "Lawson", "Marsh",
    "Mensah", "Nowak", "Okafor", "Osei", "Palmer", "Patel", "Quinn", "Rahman", "Reid",
    "Shaw", "Sutton", "Taylor", "Turner", "Walsh", "Webb", "Yilmaz", "Young",
)  # fmt: skip
SYNTHETIC_PLACE_WORDS: tuple[str, ...] = (
    "Alder", "Ashgrove", "Beech", "Birch", "Bramble", "Brook", "Cedar", "Clover", "Elm",
    "Fern", "Hazel", "Heather", "Holly", "Juniper", "Larch", "Linden", "Maple", "Meadow",
    "Oak", "Orchard", "Rowan", "Sorrel", "Thistle", "Willow",
)  # fmt: skip
_SETTING_SUFFIX = {
    str(PlacementType.CHILDRENS_HOME): ("House", "Lodge", "View", "Court"),
    str(PlacementType.SECURE_HOME): ("Secure Children's Home",),
    str(PlacementType.PARENT_AND_CHILD): ("Family Assessment Centre",),
    str(PlacementType.SUPPORTED_ACCOMMODATION): ("Supported Living", "Lodgings", "Flats"),
}


def synthetic_names(vacancies: pd.DataFrame, seed: int) -> list[str]:
    """A made-up name per row of ``vacancies`` (the ``name`` column), never a real person's.

    A fostering household is "The <surname> household" (a connected person's says so); a
    children's home, secure home or parent-and-child centre is a place word and a kind of
    building ("Rowan Lodge"); supported accommodation is named per ``organisation`` as Ofsted
    registers it. Drawn by their own generator seeded from ``seed``, so that adding them
    changed no other draw of the case.
    """
    rng = np.random.default_rng([seed, 7001])
    names: list[str] = []
    by_organisation: dict[str, str] = {}
    for kind, organisation in zip(
        vacancies["placement_type"], vacancies["organisation"], strict=True
    ):
        if kind in _SETTING_SUFFIX:
            key = str(organisation) if kind == str(PlacementType.SUPPORTED_ACCOMMODATION) else ""
            if key and key in by_organisation:
                names.append(by_organisation[key])
                continue
            suffixes = _SETTING_SUFFIX[kind]
            word = SYNTHETIC_PLACE_WORDS[int(rng.integers(len(SYNTHETIC_PLACE_WORDS)))]
            name = f"{word} {suffixes[int(rng.integers(len(suffixes)))]}"
            if key:
                by_organisation[key] = name
            names.append(name)
        else:
            surname = SYNTHETIC_SURNAMES[int(rng.integers(len(SYNTHETIC_SURNAMES)))]
            kin = kind == str(PlacementType.CONNECTED_PERSON_FOSTER)
            names.append(f"The {surname} household" + (" (connected person)" if kin else ""))
    return names


#: Share of children's-home residents with each risk flag (assumed: no national statistic
#: gives these per resident; orders of magnitude from Ofsted's and the DfE's descriptions of
#: children living in children's homes, where going missing, self-harm and exploitation are
#: common and fire setting rare).
RESIDENT_RISKS: tuple[tuple[str, float], ...] = (
    ("missing", 0.35),
    ("self_harm", 0.25),
    ("aggression", 0.25),
    ("cce", 0.18),
    ("substance_misuse", 0.18),
    ("cse", 0.14),
    ("offending", 0.14),
    ("harmful_sexual_behaviour", 0.05),
    ("fire_setting", 0.03),
)
#: Share of residents who must not live with younger children (assumed).
RESIDENT_NO_YOUNGER_SHARE = 0.05
#: Share of a disability-registered home's residents who are disabled (assumed).
RESIDENT_DISABLED_SHARE = 0.5
#: Share of homes that declare they can manage a risk none of their residents has (assumed).
HOME_MANAGES_OTHER_RISK = 0.5
#: Children living in a home that offers every one of its beds, in places it does not offer
#: (0, 1, 2, 3), with their shares (assumed: most homes with a vacancy have children living
#: there; a quarter are new or have just emptied).
OTHER_PLACES: tuple[tuple[int, float], ...] = ((0, 0.25), (1, 0.3), (2, 0.3), (3, 0.15))

RESIDENT_COLUMNS: tuple[str, ...] = column_names(RESIDENTS_FILE)


def synthetic_residents(vacancies: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """The children living in each children's home now, and the homes' capabilities.

    A home's residents fill the beds that are not free (``_occupied``: the referrals shape),
    and a home that offers all its beds has others living in places it does not offer
    (:data:`OTHER_PLACES`); in the whole-cohort shape every bed is free and nobody lives
    there (``_occupied`` absent: no resident at all). Each resident has
    a reference ``R1``, ``R2``, ... (no name), an age within the home's registration (older
    more likely, 10 at the youngest), the home's sex or either, a disability in a
    disability-registered home, rarely ``no_younger_children``, and risk flags at the
    :data:`RESIDENT_RISKS` shares. Each home's ``capabilities`` then add the risks its
    residents have (its Statement of Purpose covers them) and, for half the homes, one more.
    Drawn by their own generator seeded from ``seed``, so that asking for residents changes
    no other draw of the case.

    Returns
    -------
    (residents, capabilities)
        The rows of ``residents.csv`` (text) and every vacancy's new ``capabilities``.
    """
    rng = np.random.default_rng([seed, 14])
    rows: list[dict[str, str]] = []
    caps_out: list[str] = []
    shape_has_residents = "_occupied" in vacancies
    occupied: list[int] = (
        [int(x) for x in vacancies["_occupied"].fillna(0).to_numpy().tolist()]
        if shape_has_residents
        else [0] * len(vacancies)
    )
    other_n = np.array([n for n, _ in OTHER_PLACES])
    other_p = np.array([p for _, p in OTHER_PLACES])
    flags = [f for f, _ in RESIDENT_RISKS]
    shares = np.array([p for _, p in RESIDENT_RISKS])
    for i, v in enumerate(vacancies.itertuples(index=False)):
        caps = [c for c in str(v.capabilities).split(";") if c]
        if v.placement_type != str(PlacementType.CHILDRENS_HOME):
            caps_out.append(str(v.capabilities))
            continue
        lo, hi = max(int(str(v.age_min)), 10), min(int(str(v.age_max)), 17)
        ages = np.arange(lo, hi + 1)
        p_age = (ages - 9).astype(float)
        managed: set[str] = set()
        living = occupied[i]
        if shape_has_residents and living == 0:
            living = int(rng.choice(other_n, p=other_p))
        for k in range(living):
            age = int(rng.choice(ages, p=p_age / p_age.sum()))
            sex = str(v.sex) if v.sex in ("M", "F") else ("M" if rng.random() < 0.6 else "F")
            needs = []
            if "disability" in caps and rng.random() < RESIDENT_DISABLED_SHARE:
                needs.append("disability")
            if rng.random() < RESIDENT_NO_YOUNGER_SHARE:
                needs.append("no_younger_children")
            risks = [f for f, u in zip(flags, rng.random(len(flags)) < shares, strict=True) if u]
            managed.update(risks)
            rows.append(
                {
                    "provider_id": str(v.provider_id),
                    "resident_ref": f"R{k + 1}",
                    "age": str(age),
                    "sex": sex,
                    "needs": ";".join(sorted(needs)),
                    "risk_flags": ";".join(sorted(risks)),
                }
            )
        if rng.random() < HOME_MANAGES_OTHER_RISK:
            managed.add(flags[int(rng.integers(len(flags)))])
        caps_out.append(";".join([*caps, *sorted(managed - set(caps))]))
    frame = pd.DataFrame(rows, columns=list(RESIDENT_COLUMNS)).astype(str)
    return frame, caps_out


def _draw_supply(
    profile: Profile,
    c: _Cohort,
    child_ids: np.ndarray,
    rng: np.random.Generator,
    geo: CohortGeography,
    ons: str,
    slug: str,
) -> list[dict[str, Any]]:
    places = _Places(geo, ons, rng)
    foster_demand = int(np.count_nonzero(c.types == _ACCEPTS_FOSTERING))
    demand = {
        "fostering": foster_demand,
        "residential": int(np.count_nonzero(c.group == "residential")),
        "supported_accommodation": int(
            np.count_nonzero(c.types == str(PlacementType.SUPPORTED_ACCOMMODATION))
        ),
        "other": int(np.count_nonzero(c.types == str(PlacementType.PARENT_AND_CHILD))),
    }
    rows: list[dict[str, Any]] = []
    overall_eth = tuple(overall_ethnicity(profile).items())
    costs = {t: fig.value for t, fig in profile.weekly_costs}
    la_fostering = f"{slug}-fostering"

    def add(
        kind: PlacementType,
        provider: str,
        bed_list: list[int],
        age_ranges: list[tuple[int, int]],
        sex: np.ndarray,
        caps: list[list[str]],
        ofsted: list[str],
        cost: np.ndarray,
        eth: Sequence[str] | np.ndarray,
        rel: Sequence[str] | np.ndarray,
        lang: Sequence[str] | np.ndarray,
        providers: Sequence[str] | None = None,
    ) -> None:
        for i, b in enumerate(bed_list):
            rows.append(
                {
                    "organisation": providers[i] if providers is not None else provider,
                    "placement_type": str(kind),
                    "postcode": "",
                    "beds": b,
                    "age_min": age_ranges[i][0],
                    "age_max": age_ranges[i][1],
                    "sex": str(sex[i]),
                    "capabilities": ";".join(caps[i]),
                    "ofsted": ofsted[i],
                    "weekly_cost": int(cost[i]),
                    "connected_to": "",
                    "fostered_now": 0,
                    "ethnicity": str(eth[i]),
                    "religion": str(rel[i]),
                    "languages": str(lang[i]),
                    "supply_area": "",
                    "_unit": -1,
                }
            )

    # Foster households: in-house and agency.
    ratio = {k: fig.value for k, fig in profile.beds_per_child}
    targets = {k: round(demand[k] * ratio.get(k, 1.0)) for k in demand}
    inhouse_beds = round(targets["fostering"] * profile.inhouse_share_of_foster_beds.value)
    ifa_ratings = _choice(rng, _FOSTER_OFSTED, 20)
    la_rating = str(_choice(rng, _FOSTER_OFSTED, 1)[0])
    for kind, target, range_p in (
        (PlacementType.INHOUSE_FOSTER, inhouse_beds, [0.15, 0.25, 0.25, 0.15, 0.2]),
        (
            PlacementType.AGENCY_FOSTER,
            targets["fostering"] - inhouse_beds,
            [0.1, 0.2, 0.3, 0.15, 0.25],
        ),
    ):
        # A few households take a sibling group of four (the siblings exemption from the
        # limit of three, Children Act 1989 Sch. 7 para. 4); they are approved for all ages.
        bl = _beds_until(rng, [1, 2, 3, 4], [0.43, 0.34, 0.19, 0.04], target)
        k = len(bl)
        ranges = [
            _FOSTER_AGE_RANGES[j] if bl[i] < 4 else (0, 17)
            for i, j in enumerate(rng.choice(len(_FOSTER_AGE_RANGES), size=k, p=range_p))
        ]
        sex = _choice(rng, (("any", 0.9), ("M", 0.05), ("F", 0.05)), k)
        u = rng.random((k, 4))
        caps = []
        for i in range(k):
            cap = []
            if (bl[i] >= 2 and u[i, 0] < 0.9) or bl[i] == 4:
                cap.append("sibling_group")
            if u[i, 1] < 0.12:
                cap.append("disability")
                if u[i, 2] < 0.35:
                    cap.append("wheelchair")
            if ranges[i][1] == 17 and ranges[i][0] >= 5 and u[i, 3] < 0.35:
                cap.append("uasc")
            caps.append(cap)
        if kind is PlacementType.INHOUSE_FOSTER:
            providers = [la_fostering] * k
            ofsted = [la_rating] * k
        else:
            idx = rng.choice(20, size=k, p=(w := 1.0 / np.arange(1, 21)) / w.sum())
            providers = [f"ifa-{j + 1:02d}" for j in idx]
            ofsted = [str(ifa_ratings[j]) for j in idx]
        eth = _choice(rng, overall_eth, k)
        rel = np.where(rng.random(k) < 0.5, _choice(rng, _RELIGIONS, k), "")
        lang = np.where(
            rng.random(k) < 0.08,
            "English;" + _choice(rng, [(x, 1.0) for x in _OTHER_HOME_LANGUAGES], k),
            "English",
        )
        add(
            kind,
            "",
            bl,
            ranges,
            sex,
            caps,
            ofsted,
            _lognormal_cost(rng, costs[str(kind)], 0.1, k),
            eth,
            rel,
            lang,
            providers,
        )

    # Connected-person carers: one household per connected unit, near the child's home.
    for unit_i in c.connected_units:
        members = np.flatnonzero(c.unit == unit_i)
        first = members[0]
        cp_caps = ["sibling_group"] if len(members) > 1 else []
        for need in ("disability", "wheelchair"):
            if any(need in c.needs[m] for m in members):
                cp_caps.append(need)
        roll = rng.random()
        if roll < 0.8:
            postcode, area = places.near(str(c.home[first])), "in_county"
        elif roll < 0.92:
            postcode, area = places.random("in_county")
        else:
            postcode, area = places.random("adjoining")
        rows.append(
            {
                "organisation": la_fostering,
                "placement_type": str(PlacementType.CONNECTED_PERSON_FOSTER),
                "postcode": postcode,
                "beds": len(members),
                "age_min": int(c.age[members].min()),
                "age_max": int(c.age[members].max()),
                "sex": "any",
                "capabilities": ";".join(cp_caps),
                "ofsted": "not_inspected",
                "weekly_cost": int(
                    _lognormal_cost(rng, costs[str(PlacementType.CONNECTED_PERSON_FOSTER)], 0.1, 1)[
                        0
                    ]
                ),
                "connected_to": ";".join(str(child_ids[m]) for m in members),
                "fostered_now": 0,
                "ethnicity": str(c.ethnicity[first]),
                "religion": str(c.religion[first]),
                "languages": str(c.language[first]),
                "supply_area": area,
                "_unit": int(unit_i),
            }
        )

    # Children's homes (2-6 beds).
    bl = _beds_until(rng, [2, 3, 4, 5, 6], [0.1, 0.25, 0.3, 0.2, 0.15], targets["residential"])
    k = len(bl)
    ranges = [(int(a), 17) for a in rng.choice([8, 10, 11, 12], size=k, p=[0.2, 0.3, 0.3, 0.2])]
    sex = _choice(rng, (("any", 0.85), ("M", 0.08), ("F", 0.07)), k)
    u = rng.random((k, 5))
    caps = []
    for i in range(k):
        cap = []
        if u[i, 0] < 0.25:
            cap.append("dols")
        if u[i, 1] < 0.12:
            cap.append("disability")
            if u[i, 2] < 0.5:
                cap.append("wheelchair")
        if u[i, 3] < 0.15:
            cap.append("solo_only")
        if u[i, 4] < 0.2:
            cap.append("sibling_group")
        caps.append(cap)
    providers = [f"chp-{j + 1:02d}" for j in rng.choice(40, size=k)]
    ofsted = [str(x) for x in _choice(rng, _mix_pairs(profile.ofsted_childrens_homes), k)]
    add(
        PlacementType.CHILDRENS_HOME,
        "",
        bl,
        ranges,
        sex,
        caps,
        ofsted,
        _lognormal_cost(rng, costs[str(PlacementType.CHILDRENS_HOME)], 0.2, k),
        [""] * k,
        [""] * k,
        ["English"] * k,
        providers,
    )

    # Supported-accommodation units (16-17).
    bl = _beds_until(
        rng,
        [1, 2, 3, 4, 5, 6],
        [0.2, 0.2, 0.2, 0.15, 0.15, 0.1],
        targets["supported_accommodation"],
    )
    k = len(bl)
    sex = _choice(rng, (("any", 0.7), ("M", 0.2), ("F", 0.1)), k)
    u = rng.random((k, 2))
    caps = [
        (["uasc"] if u[i, 0] < 0.5 else []) + (["disability"] if u[i, 1] < 0.05 else [])
        for i in range(k)
    ]
    uasc_langs = ("Arabic", "Tigrinya", "Pashto", "Kurdish", "Dari", "Amharic", "Farsi")
    sa_lang = [
        "English;" + ";".join(sorted(rng.choice(uasc_langs, size=2, replace=False).tolist()))
        if "uasc" in cp
        else "English"
        for cp in caps
    ]
    providers = [f"sap-{j + 1:02d}" for j in rng.choice(15, size=k)]
    ofsted = [str(x) for x in _choice(rng, _SA_OFSTED, k)]
    add(
        PlacementType.SUPPORTED_ACCOMMODATION,
        "",
        bl,
        [(16, 17)] * k,
        sex,
        caps,
        ofsted,
        _lognormal_cost(rng, costs[str(PlacementType.SUPPORTED_ACCOMMODATION)], 0.25, k),
        [""] * k,
        [""] * k,
        sa_lang,
        providers,
    )

    # Parent-and-child places (one mother and baby each).
    k = max(targets["other"], 1)
    add(
        PlacementType.PARENT_AND_CHILD,
        "",
        [1] * k,
        [(14, 17)] * k,
        np.array(["F"] * k),
        [["parent_and_child"]] * k,
        [str(x) for x in _choice(rng, _FOSTER_OFSTED, k)],
        _lognormal_cost(rng, costs[str(PlacementType.PARENT_AND_CHILD)], 0.15, k),
        [""] * k,
        [""] * k,
        ["English"] * k,
        [f"pcp-{j + 1:02d}" for j in rng.choice(3, size=k)],
    )

    # Where the homes are: about the profile's share of all beds in county.
    total_beds = sum(int(row["beds"]) for row in rows)
    cp_in = sum(
        int(row["beds"]) for row in rows if row["_unit"] >= 0 and row["supply_area"] == "in_county"
    )
    free_rows = [i for i, row in enumerate(rows) if row["_unit"] < 0]
    weight_of = {
        str(PlacementType.INHOUSE_FOSTER): 3.0,
        str(PlacementType.AGENCY_FOSTER): 1.0,
        str(PlacementType.CHILDRENS_HOME): 0.6,
        str(PlacementType.SUPPORTED_ACCOMMODATION): 1.0,
        str(PlacementType.PARENT_AND_CHILD): 0.5,
    }
    w = np.array([weight_of[rows[i]["placement_type"]] for i in free_rows])
    sizes = np.array([int(rows[i]["beds"]) for i in free_rows])
    want_in = max(round(profile.in_county_supply_share.value * total_beds) - cp_in, 0)
    inside = set(_pick_units(rng, w, sizes, want_in).tolist())
    far = rng.random(len(free_rows)) >= profile.adjoining_share_of_out_of_county.value
    for j, i in enumerate(free_rows):
        area = "in_county" if j in inside else ("further" if far[j] else "adjoining")
        rows[i]["postcode"], rows[i]["supply_area"] = places.random(area)
    return rows


# -- putting it together --------------------------------------------------------------------


def _slug(name: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in name.lower())
    return "-".join(p for p in out.split("-") if p)


def generate(
    la: str,
    seed: int,
    *,
    children: int | None = None,
    referrals: int | None = None,
    profile: Profile | None = None,
    geo: CohortGeography | None = None,
    residents: bool = False,
) -> SyntheticCase:
    """Generate a synthetic case folder for an English authority.

    Parameters
    ----------
    la : str
        The authority (ONS code, DfE number or name). Essex, Thurrock, Suffolk and Cheshire
        East have their own profiles; any other authority gets the national default.
    seed : int
        Seed of the random generator (>= 0). The same arguments give the same case.
    children : int, optional
        Cohort size; default the profile's.
    referrals : int, optional
        If given, the ``referrals`` shape: this many children needing a home now against the
        free beds. Otherwise the ``whole_cohort`` shape.
    profile : Profile, optional
        Use this profile instead of the authority's own.
    geo : CohortGeography, optional
        Where postcodes, neighbours and schools come from (default: :mod:`geography`).
    residents : bool
        Also draw the children living in the children's homes now (``residents.csv``, see
        :func:`synthetic_residents`) and the risks the homes declare they can manage. Off
        by default, so that every case generated before is generated unchanged.

    Raises
    ------
    ValueError
        If ``seed``, ``children`` or ``referrals`` is out of range.
    LookupError
        If the authority is not an English upper-tier authority.
    """
    if seed < 0:
        raise ValueError(f"--seed must be a whole number >= 0, not {seed}")
    geo = geo or RealGeography()
    ons, name = geo.resolve(la)
    profile = profile or profile_for(ons, name=name)
    n = round(profile.children.value) if children is None else children
    if n < 1 or n > 100_000:
        raise ValueError(f"--children must be between 1 and 100000, not {n}")
    if referrals is not None and not 1 <= referrals <= n:
        raise ValueError(
            f"--referrals must be between 1 and the cohort size ({n}), not {referrals}"
        )
    rng = np.random.default_rng(seed)
    cohort = _draw_cohort(profile, n, rng, geo, ons)

    if referrals is None:
        shape: Shape = "whole_cohort"
        keep = np.arange(n)
    else:
        shape = "referrals"
        units = len(cohort.unit_size)
        oldest = np.zeros(units, dtype=int)
        np.maximum.at(oldest, cohort.unit, cohort.age)
        unit_uasc = np.zeros(units, dtype=bool)
        np.logical_or.at(unit_uasc, cohort.unit, cohort.uasc)
        w = np.where(unit_uasc, 3.0, np.where(oldest >= 13, 2.0, 1.0))
        chosen_units = _pick_units(rng, w, cohort.unit_size, referrals)
        keep = np.flatnonzero(np.isin(cohort.unit, chosen_units))
    child_ids = np.full(n, "", dtype=object)
    child_ids[keep] = [f"C{i + 1:04d}" for i in range(len(keep))]

    rows = _draw_supply(profile, cohort, child_ids, rng, geo, ons, _slug(name))
    if shape == "referrals":
        rows = _free_beds(profile, rows, keep, cohort, rng, len(keep))

    children_df = _children_frame(cohort, child_ids, keep, ons)
    vac = pd.DataFrame(rows)
    vac.insert(0, "vacancy_id", [f"V{i + 1:04d}" for i in range(len(vac))])
    # Each row is one household, home or unit: its own provider_id (the contract's meaning);
    # the organisation (fostering service, agency, home operator) is an extra column.
    vac.insert(1, "provider_id", [f"P{i + 1:04d}" for i in range(len(vac))])
    vac["urn"] = synthetic_urns(vac, seed)
    vac["name"] = synthetic_names(vac, seed)
    # The supply drawn for an authority is the supply it owns or commissions. A connected
    # person is approved for particular children only, so it is never offered to a pool.
    vac["owner_la"] = ons
    vac["offered_to_pool"] = np.where(
        vac["placement_type"] == str(PlacementType.CONNECTED_PERSON_FOSTER), "false", "true"
    )
    residents_df = None
    if residents:
        residents_df, vac["capabilities"] = synthetic_residents(vac, seed)
    # columns synth does not fill (the dates: free now, no needed_by) are written blank
    vacancies_df = vac.reindex(columns=list(VACANCY_COLUMNS), fill_value="").astype(str)
    metadata = _metadata(profile, seed, shape, ons, name, children_df, vacancies_df, n)
    if residents_df is not None:
        metadata["realised"]["residents"] = len(residents_df)
        metadata["realised"]["homes_with_residents"] = int(residents_df["provider_id"].nunique())
    return SyntheticCase(children_df, vacancies_df, metadata, residents_df)


def pool_prefix(position: int) -> str:
    """The id prefix of the authority at ``position`` (from 0) of a pool: ``R00``, ``R01``..."""
    return f"R{position:02d}"


def prefix_ids(
    children: pd.DataFrame, vacancies: pd.DataFrame, prefix: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of one authority's rows with every id prefixed (``child_id``,
    ``sibling_group``, ``vacancy_id``, ``provider_id`` and the ids in ``connected_to``), so
    that no two pooled authorities' ids clash."""
    c = children.copy()
    c["child_id"] = prefix + c["child_id"].astype(str)
    c["sibling_group"] = c["sibling_group"].map(lambda g: f"{prefix}{g}" if g else g)
    v = vacancies.copy()
    v["vacancy_id"] = prefix + v["vacancy_id"].astype(str)
    v["provider_id"] = prefix + v["provider_id"].astype(str)
    v["connected_to"] = v["connected_to"].map(
        lambda ids: ";".join(prefix + x for x in str(ids).split(";")) if ids else ids
    )
    return c, v


def generate_pooled(
    authorities: Sequence[str], seed: int, *, region: str | None = None
) -> SyntheticCase:
    """Generate several authorities' whole cohorts and supply as one pooled case folder.

    Authority ``i`` (from 0, in the order given) is generated as ``generate(la, seed + i)``,
    so each one's part is what ``placematch synth --la LA --seed seed+i`` writes, and its ids
    (``child_id``, ``sibling_group``, ``vacancy_id``, ``provider_id`` and the ids in
    ``connected_to``) are prefixed with :func:`pool_prefix` so that no two authorities' ids
    clash. Every vacancy keeps its ``owner_la`` (the authority it was drawn for).

    Parameters
    ----------
    authorities : sequence of str
        The authorities (ONS code, DfE number or name), at least two, each once.
    seed : int
        Seed of the first authority (>= 0).
    region : str, optional
        The region's name, recorded in ``profile.json`` when the pool is a region.

    Raises
    ------
    ValueError
        If fewer than two authorities are given, or one is given twice.
    LookupError
        If an authority is not an English upper-tier authority.
    """
    if len(authorities) < 2:
        raise ValueError("a pooled folder needs at least two authorities")
    geo = RealGeography()
    codes = [geo.resolve(la)[0] for la in authorities]
    if len(set(codes)) < len(codes):
        twice = sorted({c for c in codes if codes.count(c) > 1})
        raise ValueError(f"an authority is given twice ({', '.join(twice)}); expected each once")
    kids, vacs, parts = [], [], []
    for i, la in enumerate(authorities):
        case = generate(la, seed + i, geo=geo)
        pre = pool_prefix(i)
        c, v = prefix_ids(case.children, case.vacancies, pre)
        kids.append(c)
        vacs.append(v)
        meta = case.metadata
        parts.append(
            {
                "prefix": pre,
                "seed": meta["seed"],
                "authority": meta["authority"],
                "profile": meta["profile"]["key"],
                "realised": meta["realised"],
            }
        )
    children_df = pd.concat(kids, ignore_index=True)
    vacancies_df = pd.concat(vacs, ignore_index=True)
    beds = vacancies_df["beds"].astype(int)
    metadata: dict[str, Any] = {
        "synthetic": True,
        "note": (
            "Synthetic children and homes, generated by `placematch synth`. "
            "No real child is in this folder."
        ),
        "generator": "placematch synth (scenarios.cohorts.generate_pooled)",
        "seed": seed,
        "shape": "pooled",
        "region": region,
        "authorities": parts,
        "realised": {
            "children": len(children_df),
            "vacancies": len(vacancies_df),
            "beds": int(beds.sum()),
            "offered_to_pool_beds": int(beds[vacancies_df["offered_to_pool"] == "true"].sum()),
        },
    }
    return SyntheticCase(children_df, vacancies_df, metadata)


def _free_beds(
    profile: Profile,
    rows: list[dict[str, Any]],
    keep: np.ndarray,
    c: _Cohort,
    rng: np.random.Generator,
    referrals: int,
) -> list[dict[str, Any]]:
    """The free part of the supply: some beds of some homes, plus the connected-person
    carers of the referred children."""
    kept_units = set(np.unique(c.unit[keep]).tolist())
    market = [i for i, r in enumerate(rows) if r["_unit"] < 0]
    total = sum(int(rows[i]["beds"]) for i in market)
    target = min(
        total, max(round(profile.free_bed_share.value * total), math.ceil(1.5 * referrals))
    )
    order = np.argsort(-_keys(rng, np.ones(len(market))), kind="stable")
    free_of: dict[int, int] = {}
    got = 0
    for j in order:
        if got >= target:
            break
        i = market[int(j)]
        beds = int(rows[i]["beds"])
        # Half the homes with room are wholly free (a carer between placements, a new
        # approval); a household of four siblings is free as a whole or not at all.
        whole = rng.random() < 0.5 or beds == 4
        free = beds if whole else int(rng.integers(1, beds + 1))
        if beds == 4 and target - got < 4:
            continue
        free = min(free, target - got)
        free_of[i] = free
        got += free
    out = []
    fostering = {str(PlacementType.INHOUSE_FOSTER), str(PlacementType.AGENCY_FOSTER)}
    for i, r in enumerate(rows):
        if r["_unit"] >= 0:
            if r["_unit"] in kept_units:
                out.append(r)
        elif i in free_of:
            r = dict(r)
            if r["placement_type"] in fostering:
                r["fostered_now"] = int(r["beds"]) - free_of[i]
            # the beds not free are lived in (residents.csv, when asked for)
            r["_occupied"] = int(r["beds"]) - free_of[i]
            r["beds"] = free_of[i]
            out.append(r)
    return out


def _children_frame(c: _Cohort, child_ids: np.ndarray, keep: np.ndarray, ons: str) -> pd.DataFrame:
    group_name: dict[int, str] = {}
    sib = []
    for i in keep:
        u = int(c.unit[i])
        if c.unit_size[u] > 1:
            if u not in group_name:
                group_name[u] = f"SG{len(group_name) + 1:03d}"
            sib.append(group_name[u])
        else:
            sib.append("")
    data = {
        "child_id": child_ids[keep],
        "age": c.age[keep],
        "sex": np.where(c.male[keep], "M", "F"),
        "home_postcode": c.home[keep],
        "la": [ons] * len(keep),
        "school_urn": c.school[keep],
        "sibling_group": sib,
        "needs": [";".join(c.needs[i]) for i in keep],
        "placement_types": c.types[keep],
        "ethnicity": c.ethnicity[keep],
        "religion": c.religion[keep],
        "language": c.language[keep],
        "avoid_areas": [""] * len(keep),
        "current_group": c.group[keep],
    }
    return pd.DataFrame(data).reindex(columns=list(CHILD_COLUMNS), fill_value="").astype(str)


def _metadata(
    profile: Profile,
    seed: int,
    shape: Shape,
    ons: str,
    name: str,
    children: pd.DataFrame,
    vacancies: pd.DataFrame,
    cohort_size: int,
) -> dict[str, Any]:
    n = len(children)
    needs = children["needs"].str.split(";")
    beds = vacancies["beds"].astype(int)
    by_type = beds.groupby(vacancies["placement_type"]).sum().sort_index()
    by_area = beds.groupby(vacancies["supply_area"]).sum().sort_index()

    def share(mask: pd.Series) -> float:
        return round(float(mask.mean()), 4) if n else 0.0

    return {
        "synthetic": True,
        "note": (
            "Synthetic children and homes, generated by `placematch synth`. "
            "No real child is in this folder."
        ),
        "generator": "placematch synth (scenarios.cohorts.generate)",
        "seed": seed,
        "shape": shape,
        "authority": {"ons_code": ons, "name": name},
        "cohort_size": cohort_size,
        "realised": {
            "children": n,
            "vacancies": len(vacancies),
            "beds": int(beds.sum()),
            "beds_by_type": {str(k): int(v) for k, v in by_type.items()},
            "beds_by_area": {str(k): int(v) for k, v in by_area.items()},
            "in_county_bed_share": round(
                float(by_area.get("in_county", 0)) / max(int(beds.sum()), 1), 4
            ),
            "current_group_shares": {
                g: share(children["current_group"] == g)
                for g in ("fostering", "residential", "supported_accommodation", "other")
            },
            "uasc": int(needs.apply(lambda x: "uasc" in x).sum()),
            "male_share": share(children["sex"] == "M"),
            "sibling_group_share": share(children["sibling_group"] != ""),
            "sibling_groups": int(
                children.loc[children["sibling_group"] != "", "sibling_group"].nunique()
            ),
            "disabled_share": share(needs.apply(lambda x: "disability" in x)),
            "with_school_urn": int((children["school_urn"] != "").sum()),
        },
        "profile": profile.to_json(),
    }


def write_case_folder(case: SyntheticCase, out: str | Path) -> Path:
    """Write a generated case into the folder ``out`` (created if needed).

    Writes ``children.csv`` and ``vacancies.csv`` (the case-folder contract's columns, in
    order, then one extra column each), ``residents.csv`` when the case has residents,
    ``profile.json`` (seed, shape, profile with every
    figure marked published or assumed, realised figures) and a short ``README.md``.
    Existing files of those names are replaced; nothing else in the folder is touched.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    case.children.to_csv(folder / "children.csv", index=False, lineterminator="\n")
    case.vacancies.to_csv(folder / "vacancies.csv", index=False, lineterminator="\n")
    if case.residents is not None:
        case.residents.to_csv(folder / RESIDENTS_FILE, index=False, lineterminator="\n")
    (folder / "profile.json").write_text(
        json.dumps(case.metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "README.md").write_text(_readme(case.metadata), encoding="utf-8")
    return folder


def _pooled_readme(meta: dict[str, Any]) -> str:
    r = meta["realised"]
    title = meta["region"] or f"{len(meta['authorities'])} authorities"
    lines = [
        f"# Synthetic pooled case folder: {title}",
        "",
        "**Every child and home here is synthetic.** Generated by",
        f"`placematch synth` with seed {meta['seed']}: each authority's whole cohort and "
        "supply, its ids prefixed as below; `owner_la` names the authority that owns or "
        "commissions each vacancy.",
        "",
        "| prefix | authority | seed | children | vacancies |",
        "|---|---|---|---|---|",
        *(
            f"| {p['prefix']} | {p['authority']['name']} ({p['authority']['ons_code']}) | "
            f"{p['seed']} | {p['realised']['children']} | {p['realised']['vacancies']} |"
            for p in meta["authorities"]
        ),
        "",
        f"In all {r['children']} children, {r['vacancies']} vacancies with {r['beds']} beds "
        f"({r['offered_to_pool_beds']} of them offered to the pool).",
        "",
        "`profile.json` gives each authority's realised figures.",
        "",
    ]
    return "\n".join(lines)


def _readme(meta: dict[str, Any]) -> str:
    if meta["shape"] == "pooled":
        return _pooled_readme(meta)
    r = meta["realised"]
    prof = meta["profile"]
    shape = (
        "a **referral list**: children needing a home now, against the free beds"
        if meta["shape"] == "referrals"
        else "the **whole cohort** against the whole supply (a sufficiency analysis)"
    )
    lines = [
        f"# Synthetic case folder: {meta['authority']['name']}",
        "",
        "**Every child and home here is synthetic.** Generated by",
        f"`placematch synth` with seed {meta['seed']} from the `{prof['key']}` profile "
        f"({prof['period']}).",
        "",
        f"Shape: {shape}.",
        "",
        f"- {r['children']} children, {r['uasc']} of them separated migrant children",
        f"- {r['vacancies']} vacancies with {r['beds']} beds; "
        f"{r['in_county_bed_share']:.0%} of beds in the authority",
        *(
            [
                f"- {r['residents']} children living in {r['homes_with_residents']} "
                "children's homes now (`residents.csv`; synthetic, no names)"
            ]
            if "residents" in r
            else []
        ),
        "",
        "Published figures used: " + ", ".join(prof["published"]) + ".",
        "",
        "Assumed figures: " + ", ".join(prof["assumed"]) + ".",
        "",
        "`profile.json` gives every figure's value and source. Home postcodes are real "
        "postcodes of the authority drawn at random; schools are real schools near them.",
        "",
    ]
    return "\n".join(lines)
