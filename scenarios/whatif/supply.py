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
import tempfile
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
    "build_folder",
    "check_file",
    "district_centres",
    "district_names",
    "districts_of",
    "draw_world",
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
def _district_of_postcode(la_code: str) -> dict[str, str]:
    pcs, lads, _ = districts_of(la_code)
    return dict(zip(pcs, lads.tolist(), strict=True))


def district_of(la_code: str, postcode: str) -> str | None:
    """The district code of a postcode of the authority (None outside it or blank)."""
    return _district_of_postcode(la_code).get(postcode)


def _resolve_districts(la_code: str, wanted: Sequence[str]) -> list[str]:
    names = district_names(la_code)
    by_name = {n.lower(): c for c, n in names.items()}
    out = []
    for w in wanted:
        code = w if w in names else by_name.get(w.strip().lower())
        if code is None:
            raise LookupError(
                f"scenario add.where: {w!r} is not a district of the authority"
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

    Returns
    -------
    (ons_code, name)
        The authority.

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
    if file.source.la is not None:
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
        except (ValueError, LookupError, KeyError, IndexError) as exc:
            raise fail("scenario.case_folder", f"{folder}: children.csv: {exc}") from None
        vacancy_ids = set(vacancies["vacancy_id"][vacancies["placement_type"] != _KIN])
    for i, variant in enumerate(file.variants):
        for j, add in enumerate(variant.add):
            key = f"scenarios[{i}].add[{j}]"
            if isinstance(add.where, tuple) and not add.postcodes:
                try:
                    _resolve_districts(authority.ons_code, add.where)
                except LookupError as exc:
                    raise fail(
                        f"{key}.where", str(exc).removeprefix("scenario add.where: ")
                    ) from None
            for k, pc in enumerate(add.postcodes):
                try:
                    geography.locate(pc)
                except (ValueError, LookupError) as exc:
                    raise fail(f"{key}.postcodes[{k}]", str(exc)) from None
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
    return authority.ons_code, authority.name


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
    return _finish(file, run, authority.ons_code, authority.name, future, supply, kin, policy)


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
    """The first ``n`` recruited foster households: in-house, at in-county postcodes."""
    pcs, _, _ = districts_of(world.la_code)
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
        row.update(
            vacancy_id=f"N{i + 1:04d}",
            provider_id=f"PN{i + 1:04d}",
            placement_type=_FOSTER[0],
            postcode=pcs[int(rng.integers(len(pcs)))],
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
    pcs, lads, _ = districts_of(world.la_code)
    # A folder whose vacancies name their owner_la needs it on every row: the authority
    # commissions what it adds. A folder without owners is left without them.
    owned = "owner_la" in world.supply and bool((world.supply["owner_la"] != "").any())
    owner = world.la_code if owned else ""
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
                child_lads = {district_of(world.la_code, str(p)) for p in homes if p}
                codes = sorted(c for c in child_lads if c is not None)
                if not codes:  # no child lives in the authority: share across all of it
                    codes = sorted(set(lads.tolist()))
            else:
                assert isinstance(add.where, tuple)
                codes = _resolve_districts(world.la_code, add.where)
            order = [codes[int(i)] for i in rng.permutation(len(codes))]
            share = [add.beds // len(order)] * len(order)
            for i in range(add.beds % len(order)):
                share[i] += 1
            sizes = []
            for code, b in zip(order, share, strict=True):
                child_pcs = [
                    str(p)
                    for p in world.children["home_postcode"]
                    if p and district_of(world.la_code, str(p)) == code
                ]
                pool = child_pcs or [pcs[int(i)] for i in np.flatnonzero(lads == code)]
                for size in _homes(b, add.home_beds):
                    sizes.append(size)
                    sites.append(pool[int(rng.integers(len(pool)))])
        for size, pc in zip(sizes, sites, strict=True):
            n = len(rows) + 1
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
                    "offered_to_pool": "",
                    "organisation": f"added: {variant.name}",
                    "supply_area": "added",
                }
            )
    return rows


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
            lines.append(f"\n[{k}]")
            lines += [f"{kk} = {_toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


def build_folder(
    children: pd.DataFrame, vacancies: pd.DataFrame, policy_text: str | None
) -> CaseFolder:
    """Load the rows as a checked :class:`~matcher.domain.CaseFolder` (through a temporary
    folder, so that every contract check runs)."""
    from matcher.casefolder import load_case_folder

    with tempfile.TemporaryDirectory(prefix="placematch-scenario-") as tmp:
        children.to_csv(Path(tmp) / "children.csv", index=False)
        vacancies.to_csv(Path(tmp) / "vacancies.csv", index=False)
        if policy_text:
            (Path(tmp) / "policy.toml").write_text(policy_text, encoding="utf-8")
        return load_case_folder(tmp)
