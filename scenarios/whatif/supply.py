"""One run's future: the children at the horizon and the homes, before and after a variant.

:func:`draw_world` draws, from a run's seeds only,

* **the children** at the horizon: for a synthetic source a new cohort of the authority
  (:func:`scenarios.cohorts.generate` with the profile's size and placement mix replaced by
  the demand counts of that run); for a case folder a resample of its sibling units by
  placement group up to the demand counts. Children in the ``other`` group (placed with
  parents, for adoption, ...) need no bed and are left out unless ``include_other``. Their
  connected-person carers come with them (a kinship carer is found for a child, not
  commissioned);
* **today's homes**: for a synthetic source the supply of the authority drawn today (its
  connected-person carers left out: they belong to today's children), for a case folder
  its vacancies;
* the random numbers of the **supply dynamics** (foster households lost and recruited).

:func:`apply_variant` then applies the supply dynamics and a variant's changes (closures,
re-registrations, added beds) and returns the vacancies. Added beds get their own random
stream per variant name, so the baseline and every variant share the same children and the
same homes: runs are **paired**, and a variant that only adds beds can only add vacancies.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from matcher.files import MAX_POLICY_BYTES, read_text
from matcher.placement_types import PlacementType
from matcher.vocabulary import SCCIF_GRADES, SUPPORTED_ACCOMMODATION_OUTCOMES
from scenarios.whatif.config import (
    FosterFlow,
    ScenarioConfigError,
    ScenarioFile,
    Variant,
    did_you_mean,
)

if TYPE_CHECKING:
    from matcher.domain import CaseFolder

__all__ = [
    "World",
    "apply_variant",
    "area_districts",
    "build_folder",
    "check_file",
    "district_authorities",
    "district_centres",
    "district_names",
    "districts_of",
    "draw_world",
    "pooled_authorities",
    "region_label",
    "run_seeds",
]

_FOSTER = (str(PlacementType.INHOUSE_FOSTER), str(PlacementType.AGENCY_FOSTER))
#: Ofsted values that are wrong for a placement type, by "is supported accommodation".
_OTHER_SCALE: dict[bool, list[str]] = {
    True: [g.value for g in SCCIF_GRADES if g not in SUPPORTED_ACCOMMODATION_OUTCOMES],
    False: [o.value for o in SUPPORTED_ACCOMMODATION_OUTCOMES if o not in SCCIF_GRADES],
}
_KIN = str(PlacementType.CONNECTED_PERSON_FOSTER)

#: Purposes of the per-run random streams (fixed numbers: never reorder).
_TODAY, _FUTURE, _DYNAMICS, _RECRUIT, _ADD = 1, 2, 3, 4, 5


def run_seeds(seed: int, run: int, purpose: int, extra: int = 0) -> np.random.SeedSequence:
    """The seed sequence of one purpose of one run: a function of (seed, run) only."""
    return np.random.SeedSequence([seed, run, purpose, extra])


def _int_seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


@dataclass(frozen=True)
class World:
    """One run's children and today's homes, before any variant.

    Attributes
    ----------
    la_code, la_name
        The authority.
    children
        ``children.csv`` rows of the children to place (text columns).
    supply
        ``vacancies.csv`` rows of today's homes (connected-person carers excluded).
    kin
        ``vacancies.csv`` rows of the children's connected-person carers.
    loss_u
        One uniform per ``supply`` row: a foster household is lost when it falls below the
        horizon's loss probability (nested: a higher rate loses a superset).
    recruit_u
        The uniform that decides how many foster households are recruited.
    policy_text
        The case folder's ``policy.toml`` text, if any.
    """

    seed: int
    run: int
    horizon_months: int
    la_code: str
    la_name: str
    children: pd.DataFrame
    supply: pd.DataFrame
    kin: pd.DataFrame
    loss_u: np.ndarray
    recruit_u: float
    policy_text: str | None = None
    #: A region's authorities (ONS codes, in pool order: ids prefixed R00, R01, ...);
    #: empty for one authority. A region's ``la_code`` is "" and ``la_name`` its label.
    authorities: tuple[str, ...] = ()

    @property
    def area(self) -> tuple[str, ...]:
        """The authorities whose districts the world's homes may be added in."""
        return self.authorities or (self.la_code,)


# ----------------------------------------------------------------------------- geography


@cache
def districts_of(la_code: str) -> tuple[tuple[str, ...], np.ndarray, dict[str, str]]:
    """The authority's postcodes, their district (LAD) codes, and district code -> name."""
    import geography

    pcs = tuple(geography.postcodes_in_authority(la_code))
    arrays = geography.locate_many(pcs)
    lads = np.asarray(arrays.lad_codes).astype(str)
    names: dict[str, str] = {}
    for code in sorted(set(lads.tolist())):
        first = int(np.flatnonzero(lads == code)[0])
        names[code] = geography.locate(pcs[first]).lad_name
    return pcs, lads, names


@cache
def district_centres(la_code: str) -> dict[str, tuple[float, float]]:
    """District code -> (easting, northing): the median of its postcodes, for maps.

    The median of where people live, not the polygon's centroid, so that the dot of a
    district with a coast or a large empty area sits in its towns.
    """
    import geography

    pcs, lads, _ = districts_of(la_code)
    arrays = geography.locate_many(pcs, errors="coerce")
    out: dict[str, tuple[float, float]] = {}
    for code in sorted(set(lads.tolist())):
        rows = (lads == code) & arrays.found
        if rows.any():
            out[code] = (
                float(np.median(arrays.easting[rows])),
                float(np.median(arrays.northing[rows])),
            )
    return out


def district_names(la_code: str) -> dict[str, str]:
    """District code -> name, for the authority."""
    return districts_of(la_code)[2]


@cache
def area_districts(
    area: tuple[str, ...],
) -> tuple[tuple[str, ...], np.ndarray, dict[str, str], np.ndarray]:
    """:func:`districts_of` for several authorities at once (a region), in ``area`` order.

    Returns
    -------
    (postcodes, district codes, district code -> name, authority of each postcode)
        The last is the ONS code of the authority each postcode lies in (a district lies in
        exactly one upper-tier authority).
    """
    if len(area) == 1:
        pcs, lads, names = districts_of(area[0])
        return pcs, lads, names, np.full(len(pcs), area[0])
    parts = [districts_of(code) for code in area]
    pcs = tuple(pc for part in parts for pc in part[0])
    lads = np.concatenate([part[1] for part in parts])
    names = {c: n for part in parts for c, n in part[2].items()}
    owners = np.concatenate(
        [np.full(len(part[0]), code) for code, part in zip(area, parts, strict=True)]
    )
    return pcs, lads, names, owners


def district_authorities(area: tuple[str, ...]) -> dict[str, str]:
    """District code -> the ONS code of its authority, for the authorities of ``area``."""
    return {c: code for code in area for c in districts_of(code)[2]}


@cache
def _district_of_postcode(area: str | tuple[str, ...]) -> dict[str, str]:
    codes = (area,) if isinstance(area, str) else area
    pcs, lads, _, _ = area_districts(codes)
    return dict(zip(pcs, lads.tolist(), strict=True))


def district_of(area: str | tuple[str, ...], postcode: str) -> str | None:
    """The district code of a postcode of the authority, or of the authorities of a region
    (a tuple of ONS codes); None outside it or blank."""
    return _district_of_postcode(area).get(postcode)


def _resolve_districts(area: str | tuple[str, ...], wanted: Sequence[str]) -> list[str]:
    codes = (area,) if isinstance(area, str) else area
    names = area_districts(codes)[2]
    by_name = {n.lower(): c for c, n in names.items()}
    of = "the authority" if len(codes) == 1 else "the region's authorities"
    out = []
    for w in wanted:
        code = w if w in names else by_name.get(w.strip().lower())
        if code is None:
            raise LookupError(
                f"scenario add.where: {w!r} is not a district of {of}"
                f"{did_you_mean(w, names.values())}; expected one of "
                f"{', '.join(sorted(names.values()))}"
            )
        out.append(code)
    return out


# ----------------------------------------------------------------------------- checks


def check_file(file: ScenarioFile) -> tuple[str, str]:
    """Check what a scenario file names against the authority, before any run starts.

    The authority (``scenario.la``, or a case folder's ``children.csv``), each ``add``'s
    districts and postcodes, and, with a case folder, the vacancies that ``close`` and
    ``reregister`` name. Runs would otherwise fail one by one in the workers, with a message
    that names neither the file nor the key.

    A region (``scenario.region`` or ``scenario.authorities``) is checked as a whole: an
    ``add``'s districts may be of any of its authorities, and its postcodes must lie in one
    of them (the authority that commissions the home).

    Returns
    -------
    (ons_code, name)
        The authority; for a region ``""`` and the region's label.

    Raises
    ------
    ScenarioConfigError
        Naming the file and the TOML key.
    """
    import geography

    src = file.path

    def fail(key: str, message: str) -> ScenarioConfigError:
        return ScenarioConfigError(f"{src}: {key}: {message}")

    vacancy_ids: set[str] | None = None
    area: str | tuple[str, ...]
    region = file.source.is_region
    label = region_label(file) if region else ""
    if file.source.is_region:
        area = tuple(geography.resolve_authority(a).ons_code for a in file.source.authorities)
    elif file.source.la is not None:
        try:
            authority = geography.resolve_authority(file.source.la)
        except (ValueError, LookupError) as exc:
            raise fail("scenario.la", str(exc)) from None
    else:
        assert file.source.case_folder is not None
        folder = Path(file.source.case_folder)
        for name in ("children.csv", "vacancies.csv"):
            if not (folder / name).is_file():
                raise fail("scenario.case_folder", f"{folder}: no {name} there")
        if (folder / "residents.csv").is_file():
            # Refused rather than ignored: runs would match as if nobody lived in the homes.
            raise fail(
                "scenario.case_folder",
                f"{folder}: residents.csv is not read by supply what-ifs yet (their runs "
                "would ignore the children living in the homes); run the scenario on a copy "
                "of the folder without it",
            )
        try:
            children, vacancies, _ = _read_folder(str(folder))
            la_texts = children["la"].value_counts()
            authority = geography.resolve_authority(str(la_texts.index[0]))
            pooled = pooled_authorities(children, vacancies)
        except (ValueError, LookupError, KeyError, IndexError) as exc:
            raise fail("scenario.case_folder", f"{folder}: children.csv: {exc}") from None
        vacancy_ids = set(vacancies["vacancy_id"][vacancies["placement_type"] != _KIN])
        if pooled:  # a pooled folder: a region of its children's authorities
            region = True
            area = tuple(a.ons_code for a in pooled)
            label = ", ".join(a.name for a in pooled)
    if not region:
        area = authority.ons_code
    for i, variant in enumerate(file.variants):
        for j, add in enumerate(variant.add):
            key = f"scenarios[{i}].add[{j}]"
            if isinstance(add.where, tuple) and not add.postcodes:
                try:
                    _resolve_districts(area, add.where)
                except LookupError as exc:
                    raise fail(
                        f"{key}.where", str(exc).removeprefix("scenario add.where: ")
                    ) from None
            for k, pc in enumerate(add.postcodes):
                try:
                    located = geography.locate(pc)
                except (ValueError, LookupError) as exc:
                    raise fail(f"{key}.postcodes[{k}]", str(exc)) from None
                if region and (located.authority is None or located.authority.ons_code not in area):
                    # The home's owner_la is the authority it lies in: one of the region's.
                    raise fail(
                        f"{key}.postcodes[{k}]",
                        "not in any of the region's authorities; a home added to a region "
                        "is owned by the authority it lies in",
                    )
        if vacancy_ids is None:
            continue  # synthetic: each run draws its own homes (V0001, ...)
        named = [(f"scenarios[{i}].close[{k}]", v) for k, v in enumerate(variant.close)]
        named += [
            (f"scenarios[{i}].reregister[{k}].vacancy_id", r.vacancy_id)
            for k, r in enumerate(variant.reregister)
        ]
        for key, vid in named:
            if vid not in vacancy_ids:
                raise fail(key, f"no vacancy {vid!r} in {Path(file.source.case_folder or '')}")
    if region:
        return "", label
    return authority.ons_code, authority.name


def pooled_authorities(children: pd.DataFrame, vacancies: pd.DataFrame) -> tuple[Any, ...]:
    """A pooled case folder's authorities (its children's), sorted by name: a folder whose
    vacancies name their ``owner_la`` and whose children are of two or more authorities is
    matched as a region (``matcher.pooled``). ``()`` for any other folder, which runs as it
    always did.

    Raises
    ------
    LookupError
        For a ``la`` that is no authority.
    """
    import geography

    if "owner_la" not in vacancies or not (vacancies["owner_la"] != "").any():
        return ()
    found = {geography.resolve_authority(str(t)) for t in set(children["la"])}
    return tuple(sorted(found, key=lambda a: a.name)) if len(found) > 1 else ()


def region_label(file: ScenarioFile) -> str:
    """A region's name for reports: the ONS region's, or its authorities'."""
    if file.source.region:
        return file.source.region
    return ", ".join(file.source.authorities)


# ----------------------------------------------------------------------------- drawing


def _read_folder(path: str) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    folder = Path(path)
    kw: dict[str, Any] = {"dtype": str, "keep_default_na": False}
    children = pd.read_csv(folder / "children.csv", **kw)
    vacancies = pd.read_csv(folder / "vacancies.csv", **kw)
    policy = folder / "policy.toml"
    if not policy.exists():
        return children, vacancies, None
    # the case folder's own checks: a regular UTF-8 file under the policy size cap
    text = read_text(policy, limit=MAX_POLICY_BYTES, save_as="save it as UTF-8 text")
    return children, vacancies, text


def _group_of_child(row: pd.Series) -> str:
    current = str(row.get("current_group", "") or "")
    if current:
        return current
    types = set(str(row["placement_types"]).split(";")) - {""}
    if not types:
        from matcher.domain import default_placement_types
        from matcher.vocabulary import Need

        needs = {
            Need(n) for n in str(row.get("needs", "")).split(";") if n in Need.__members__.values()
        }
        types = {str(t) for t in default_placement_types(int(row["age"]), needs)}
    if types & {"inhouse_foster", "agency_foster", "connected_person_foster"}:
        return "fostering"
    if types & {"childrens_home", "secure_home"}:
        return "residential"
    if "supported_accommodation" in types:
        return "supported_accommodation"
    return "fostering"


def _kin_of(vacancies: pd.DataFrame, child_ids: set[str]) -> pd.DataFrame:
    """Connected-person carers of ``child_ids`` (their ``connected_to`` cut to those)."""
    kin = vacancies[vacancies["placement_type"] == _KIN].copy()
    keep = []
    for i, row in kin.iterrows():
        ids = [c for c in str(row["connected_to"]).split(";") if c in child_ids]
        if ids:
            kin.at[i, "connected_to"] = ";".join(ids)
            kin.at[i, "beds"] = str(min(int(row["beds"]), len(ids)))
            keep.append(i)
    return kin.loc[keep]


def _synthetic_world(file: ScenarioFile, run: int) -> World:
    from scenarios.cohorts import generate
    from scenarios.profiles import Figure, Mix, profile_for
    from scenarios.synth_geo import RealGeography

    assert file.source.la is not None
    geo = RealGeography()
    ons, name = geo.resolve(file.source.la)
    profile = profile_for(ons, name=name)
    today = generate(
        ons,
        _int_seed(run_seeds(file.seed, run, _TODAY)),
        children=file.source.children,
        profile=profile,
        geo=geo,
    )
    counts = file.demand.for_run(run)
    groups = ("fostering", "residential", "supported_accommodation", "other")
    total = sum(counts.get(g, 0) for g in groups)
    future_profile = replace(
        profile,
        children=Figure(float(total), "assumed", f"demand at the horizon ({file.demand.source})"),
        placement_mix=Mix(
            tuple((g, float(counts.get(g, 0))) for g in groups),
            "assumed",
            f"demand at the horizon ({file.demand.source})",
        ),
    )
    future = generate(
        ons,
        _int_seed(run_seeds(file.seed, run, _FUTURE)),
        children=total,
        profile=future_profile,
        geo=geo,
    )
    children = future.children
    if not file.demand.include_other:
        children = children[children["current_group"] != "other"]
    children = children.reset_index(drop=True)
    kin = _kin_of(future.vacancies, set(children["child_id"]))
    supply = today.vacancies[today.vacancies["placement_type"] != _KIN].reset_index(drop=True)
    return _finish(file, run, ons, name, children, supply, kin, None)


def _folder_world(file: ScenarioFile, run: int) -> World:
    import geography

    assert file.source.case_folder is not None
    children, vacancies, policy = _read_folder(file.source.case_folder)
    la_texts = children["la"].value_counts()
    authority = geography.resolve_authority(str(la_texts.index[0]))
    rng = np.random.default_rng(run_seeds(file.seed, run, _FUTURE))
    counts = file.demand.for_run(run)
    groups = children.apply(_group_of_child, axis=1)
    # Sibling units: a group is resampled whole.
    unit = children["sibling_group"].where(children["sibling_group"] != "", children["child_id"])
    rows = []
    new_id = 0
    id_map: dict[str, list[str]] = {}
    wanted = ["fostering", "residential", "supported_accommodation"]
    if file.demand.include_other:
        wanted.append("other")
    for g in wanted:
        need = counts.get(g, 0)
        members = children[groups == g]
        units = sorted(set(unit[groups == g]))
        if not units or need <= 0:
            continue
        got = 0
        tries = 0
        while got < need and tries < 100 * need:
            tries += 1
            u = units[int(rng.integers(len(units)))]
            block = members[unit[groups == g] == u]
            if got + len(block) > need and len(block) > 1:
                continue
            sg = f"RS{new_id:05d}" if len(block) > 1 else ""
            for _, row in block.iterrows():
                new_id += 1
                r = row.copy()
                cid = f"R{new_id:05d}"
                id_map.setdefault(str(row["child_id"]), []).append(cid)
                r["child_id"] = cid
                r["sibling_group"] = sg
                rows.append(r)
            got += len(block)
    future = pd.DataFrame(rows, columns=children.columns).reset_index(drop=True)
    kin_rows = []
    for _, row in vacancies[vacancies["placement_type"] == _KIN].iterrows():
        for orig in str(row["connected_to"]).split(";"):
            for k, cid in enumerate(id_map.get(orig, [])):
                r = row.copy()
                r["vacancy_id"] = f"{row['vacancy_id']}-{cid}-{k}"
                r["provider_id"] = f"{row['provider_id']}-{cid}-{k}"
                r["connected_to"] = cid
                r["beds"] = "1"
                r["fostered_now"] = "0"
                kin_rows.append(r)
    kin = pd.DataFrame(kin_rows, columns=vacancies.columns)
    supply = vacancies[vacancies["placement_type"] != _KIN].reset_index(drop=True)
    pooled = pooled_authorities(children, vacancies)
    if pooled:
        # A pooled folder is a region: the pooled match, outcomes by authority.
        label = ", ".join(a.name for a in pooled)
        world = _finish(file, run, "", label, future, supply, kin, policy)
        return replace(world, authorities=tuple(a.ons_code for a in pooled))
    return _finish(file, run, authority.ons_code, authority.name, future, supply, kin, policy)


def _region_world(file: ScenarioFile, run: int) -> World:
    """A region's run: each authority drawn as :func:`_synthetic_world` draws one, pooled.

    Authority ``i`` (in the file's order: by name) gets its own random streams (``extra =
    i + 1``) and the id prefix ``R{i:02d}`` (:func:`scenarios.cohorts.pool_prefix`, as
    ``placematch synth --region`` writes). The region's demand of each group is shared out
    between the authorities in proportion to each one's expected children of that group
    today (its profile's children times its placement mix's share), by largest remainder; a
    ``children`` override of today is shared out by the profiles' sizes. Every home keeps the
    authority it was drawn for as ``owner_la`` and is offered to the pool (a connected-person
    carer is not: it is approved for its child only).
    """
    from scenarios.cohorts import allocate, generate, pool_prefix, prefix_ids
    from scenarios.profiles import Figure, Mix, profile_for
    from scenarios.synth_geo import RealGeography

    geo = RealGeography()
    resolved = [geo.resolve(a) for a in file.source.authorities]
    profiles = [profile_for(ons, name=name) for ons, name in resolved]
    sizes = [p.children.value for p in profiles]
    today_sizes: list[int | None] = (
        [int(n) for n in allocate(file.source.children, sizes)]
        if file.source.children
        else [None] * len(profiles)
    )
    counts = file.demand.for_run(run)
    groups = ("fostering", "residential", "supported_accommodation", "other")
    share: dict[str, list[int]] = {}
    for g in groups:
        expected = [p.children.value * dict(p.placement_mix.shares).get(g, 0.0) for p in profiles]
        weights = expected if sum(expected) > 0 else sizes
        share[g] = [int(n) for n in allocate(counts.get(g, 0), weights)]
    kids, homes, kins = [], [], []
    for i, ((ons, _), profile) in enumerate(zip(resolved, profiles, strict=True)):
        pre = pool_prefix(i)
        today = generate(
            ons,
            _int_seed(run_seeds(file.seed, run, _TODAY, i + 1)),
            children=today_sizes[i],
            profile=profile,
            geo=geo,
        )
        _, supply = prefix_ids(today.children, today.vacancies, pre)
        homes.append(supply[supply["placement_type"] != _KIN])
        mine = {g: share[g][i] for g in groups}
        total = sum(mine.values())
        if total == 0:
            continue  # no child of this authority at the horizon: its homes still serve
        why = f"its share of the region's demand at the horizon ({file.demand.source})"
        future_profile = replace(
            profile,
            children=Figure(float(total), "assumed", why),
            placement_mix=Mix(tuple((g, float(n)) for g, n in mine.items()), "assumed", why),
        )
        future = generate(
            ons,
            _int_seed(run_seeds(file.seed, run, _FUTURE, i + 1)),
            children=total,
            profile=future_profile,
            geo=geo,
        )
        children, vacancies = prefix_ids(future.children, future.vacancies, pre)
        if not file.demand.include_other:
            children = children[children["current_group"] != "other"]
        kids.append(children)
        kins.append(_kin_of(vacancies, set(children["child_id"])))
    columns = homes[0].columns
    children = pd.concat(kids, ignore_index=True) if kids else pd.DataFrame()
    supply = pd.concat(homes, ignore_index=True)
    kin = pd.concat(kins, ignore_index=True) if kins else pd.DataFrame(columns=columns)
    world = _finish(file, run, "", region_label(file), children, supply, kin, None)
    return replace(world, authorities=tuple(ons for ons, _ in resolved))


def _finish(
    file: ScenarioFile,
    run: int,
    ons: str,
    name: str,
    children: pd.DataFrame,
    supply: pd.DataFrame,
    kin: pd.DataFrame,
    policy: str | None,
) -> World:
    rng = np.random.default_rng(run_seeds(file.seed, run, _DYNAMICS))
    loss_u = rng.random(len(supply))
    recruit_u = float(rng.random())
    kin = kin.copy()
    kin["vacancy_id"] = [f"K{i + 1:04d}" for i in range(len(kin))]
    kin["provider_id"] = [f"PK{i + 1:04d}" for i in range(len(kin))]
    return World(
        seed=file.seed,
        run=run,
        horizon_months=file.demand.horizon_months,
        la_code=ons,
        la_name=name,
        children=children,
        supply=supply,
        kin=kin.reset_index(drop=True),
        loss_u=loss_u,
        recruit_u=recruit_u,
        policy_text=policy,
    )


def draw_world(file: ScenarioFile, run: int) -> World:
    """The children at the horizon and today's homes of run ``run`` (seeded by the file's
    seed and ``run`` only, so any backend and any worker draws the same)."""
    if file.source.is_region:
        return _region_world(file, run)
    if file.source.la is not None:
        return _synthetic_world(file, run)
    return _folder_world(file, run)


# ----------------------------------------------------------------------------- variants


def _poisson_inverse(lam: float, u: float) -> int:
    k = 0
    p = math.exp(-lam)
    cdf = p
    while u > cdf and k < 100_000:
        k += 1
        p *= lam / k
        cdf += p
    return k


def _recruits(world: World, n: int) -> list[dict[str, Any]]:
    """The first ``n`` recruited foster households: in-house, at in-county postcodes.

    In a region each is recruited by the authority of the in-house household it is drawn
    from (its ``owner_la``), at a postcode of that authority.
    """
    pcs, _, _, owners = area_districts(world.area)
    templates = world.supply[world.supply["placement_type"] == _FOSTER[0]]
    out = []
    for i in range(n):
        rng = np.random.default_rng(run_seeds(world.seed, world.run, _RECRUIT, i))
        beds = int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15]))
        row: dict[str, Any] = (
            {str(k): v for k, v in templates.iloc[int(rng.integers(len(templates)))].items()}
            if len(templates)
            else {}
        )
        sites = pcs
        if world.authorities and row.get("owner_la"):
            sites = tuple(p for p, o in zip(pcs, owners, strict=True) if o == row["owner_la"])
        postcode = sites[int(rng.integers(len(sites)))]
        if world.authorities:
            row["owner_la"] = str(owners[pcs.index(postcode)])
        row.update(
            vacancy_id=f"N{i + 1:04d}",
            provider_id=f"PN{i + 1:04d}",
            placement_type=_FOSTER[0],
            postcode=postcode,
            beds=str(beds),
            fostered_now="0",
            connected_to="",
        )
        row.setdefault("age_min", "0")
        row.setdefault("age_max", "17")
        row.setdefault("sex", "any")
        row.setdefault("ofsted", "good")
        row.setdefault("weekly_cost", "500")
        out.append(row)
    return out


def _homes(beds: int, size: int) -> list[int]:
    out = [size] * (beds // size)
    if beds % size:
        out.append(beds % size)
    return out


def added_homes(world: World, variant: Variant) -> list[dict[str, Any]]:
    """The ``vacancies.csv`` rows a variant's ``add`` changes put in this run's world."""
    area = world.area
    pcs, lads, _, _ = area_districts(area)
    # A folder whose vacancies name their owner_la needs it on every row: the authority
    # commissions what it adds. A folder without owners is left without them. In a region
    # the owner is the authority the home lies in, and the home is offered to the pool.
    owned = "owner_la" in world.supply and bool((world.supply["owner_la"] != "").any())
    owner = world.la_code if owned else ""
    lad_owner = district_authorities(area) if world.authorities else {}
    region = tuple(area) if world.authorities else world.la_code
    rows: list[dict[str, Any]] = []
    for k, add in enumerate(variant.add):
        rng = np.random.default_rng(
            run_seeds(world.seed, world.run, _ADD, _name_key(variant.name) * 1000 + k)
        )
        sites: list[str] = []
        if add.postcodes:
            sizes = _homes(add.beds, add.home_beds)
            sites = [add.postcodes[i % len(add.postcodes)] for i in range(len(sizes))]
        elif add.where == "supply":
            sizes = _homes(add.beds, add.home_beds)
            same = world.supply[world.supply["placement_type"] == add.placement_type]
            if len(same) == 0:
                same = world.supply
            w = same["beds"].astype(float).to_numpy()
            picks: Any = rng.choice(len(same), size=len(sizes), p=w / w.sum()) if len(sizes) else []
            sites = [str(same["postcode"].iloc[int(i)]) for i in picks]
        else:
            if add.where == "children":
                homes = world.children["home_postcode"]
                child_lads = {district_of(region, str(p)) for p in homes if p}
                codes = sorted(c for c in child_lads if c is not None)
                if not codes:  # no child lives in the authority: share across all of it
                    codes = sorted(set(lads.tolist()))
            else:
                assert isinstance(add.where, tuple)
                codes = _resolve_districts(region, add.where)
            order = [codes[int(i)] for i in rng.permutation(len(codes))]
            share = [add.beds // len(order)] * len(order)
            for i in range(add.beds % len(order)):
                share[i] += 1
            sizes = []
            for code, b in zip(order, share, strict=True):
                child_pcs = [
                    str(p)
                    for p in world.children["home_postcode"]
                    if p and district_of(region, str(p)) == code
                ]
                pool = child_pcs or [pcs[int(i)] for i in np.flatnonzero(lads == code)]
                for size in _homes(b, add.home_beds):
                    sizes.append(size)
                    sites.append(pool[int(rng.integers(len(pool)))])
        for size, pc in zip(sizes, sites, strict=True):
            n = len(rows) + 1
            if world.authorities:
                # check_file keeps a region's added postcodes inside its authorities
                owner = lad_owner.get(district_of(region, pc) or "", "") or _owner_of(pc)
            rows.append(
                {
                    "vacancy_id": f"A{n:04d}",
                    "provider_id": f"PA{n:04d}",
                    "placement_type": add.placement_type,
                    "postcode": pc,
                    "beds": str(size),
                    "age_min": str(add.age_min),
                    "age_max": str(add.age_max),
                    "sex": add.sex,
                    "capabilities": add.capabilities,
                    "ofsted": "not_inspected",
                    "weekly_cost": str(add.weekly_cost),
                    "connected_to": "",
                    "fostered_now": "0",
                    "ethnicity": "",
                    "religion": "",
                    "languages": "",
                    "urn": "",
                    "owner_la": owner,
                    "offered_to_pool": "true" if world.authorities else "",
                    "organisation": f"added: {variant.name}",
                    "supply_area": "added",
                }
            )
    return rows


def _owner_of(postcode: str) -> str:
    """The ONS code of the authority a postcode lies in (for a postcode given by the file,
    which may be written other than as the postcode directory writes it)."""
    import geography

    authority = geography.locate(postcode).authority
    return "" if authority is None else authority.ons_code


def apply_variant(
    world: World, variant: Variant | None, baseline_flow: FosterFlow
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The vacancies of ``world`` under ``variant`` (``None``: the baseline).

    Returns
    -------
    (vacancies, added)
        All ``vacancies.csv`` rows, and the rows the variant added.
    """
    flow = (variant.foster_flow if variant is not None else None) or baseline_flow
    supply = world.supply.copy()
    months = world.horizon_months
    p_loss = 1.0 - (1.0 - flow.loss_per_month) ** months
    lost = supply["placement_type"].isin(_FOSTER).to_numpy() & (world.loss_u < p_loss)
    supply = supply[~lost]
    if variant is not None and variant.close:
        unknown = sorted(
            set(variant.close) - set(supply["vacancy_id"]) - set(world.supply["vacancy_id"])
        )
        if unknown:
            raise LookupError(f"scenario {variant.name!r}: close: no vacancy {unknown[0]!r}")
        supply = supply[~supply["vacancy_id"].isin(variant.close)]
    if variant is not None:
        for rr in variant.reregister:
            hit = supply["vacancy_id"] == rr.vacancy_id
            if not hit.any() and rr.vacancy_id not in set(world.supply["vacancy_id"]):
                raise LookupError(
                    f"scenario {variant.name!r}: reregister: no vacancy {rr.vacancy_id!r}"
                )
            supply.loc[hit, "placement_type"] = rr.placement_type
            supply.loc[hit, "fostered_now"] = "0"
            # Supported accommodation has its own Ofsted scale (matcher.vocabulary): a grade
            # on the other scale is not carried over, the new registration is not inspected.
            sa = rr.placement_type == str(PlacementType.SUPPORTED_ACCOMMODATION)
            wrong = supply["ofsted"].str.lower().isin(_OTHER_SCALE[sa])
            supply.loc[hit & wrong, "ofsted"] = "not_inspected"
    n_recruit = _poisson_inverse(flow.recruit_per_month * months, world.recruit_u)
    recruits = pd.DataFrame(_recruits(world, n_recruit), columns=supply.columns)
    added = pd.DataFrame(
        added_homes(world, variant) if variant is not None else [], columns=supply.columns
    )
    parts = [p for p in (supply, recruits, world.kin, added) if len(p)]
    vacancies = pd.concat(parts, ignore_index=True) if parts else supply
    # object first: a column no part fills (e.g. the dates) is all-NaN float, not text
    return vacancies.astype(object).fillna(""), added.astype(object).fillna("")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ValueError(f"policy value {value!r}: expected a number, text, true/false or a list")


def policy_toml(base: str | None, overrides: dict[str, Any]) -> str | None:
    """A ``policy.toml`` text: ``base`` with a variant's keys replaced."""
    if not overrides:
        return base
    import tomllib

    data: dict[str, Any] = tomllib.loads(base) if base else {}
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(data.get(k), dict):
            data[k] = {**data[k], **v}
        else:
            data[k] = v
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            plain = {kk: vv for kk, vv in v.items() if not isinstance(vv, dict)}
            if plain or len(plain) == len(v):
                lines.append(f"\n[{k}]")
                lines += [f"{kk} = {_toml_value(vv)}" for kk, vv in plain.items()]
            # a table of tables, e.g. [authority."Thurrock"] (one authority's keys)
            for kk, vv in v.items():
                if isinstance(vv, dict):
                    lines.append(f"\n[{k}.{_toml_value(str(kk))}]")
                    lines += [f"{x} = {_toml_value(y)}" for x, y in vv.items()]
    return "\n".join(lines) + "\n"


def build_folder(
    children: pd.DataFrame, vacancies: pd.DataFrame, policy_text: str | None
) -> CaseFolder:
    """Load the rows as a checked :class:`~matcher.domain.CaseFolder` (parsed from memory as
    the case folder's files, so that every contract check runs)."""
    from matcher.casefolder import parse_case_folder

    files = {
        "children.csv": children.to_csv(index=False),
        "vacancies.csv": vacancies.to_csv(index=False),
    }
    if policy_text:
        files["policy.toml"] = policy_text
    return parse_case_folder(files)
