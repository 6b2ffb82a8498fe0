"""What every factor and hard rule sees: a folder as arrays, and (child, vacancy) pairs.

:class:`FolderArrays` turns children and vacancies into parallel numpy arrays once (needs
and capabilities as bit masks, places as grid references, free text as small integer
codes); its vacancy half, :class:`VacancyArrays`, can be built once per folder and shared
by many builds for a few children. :class:`Pairs` is a batch of (child, vacancy) index pairs
over those arrays with the derived features every factor needs (miles from home and from
school, in area, connected person, ...), computed vectorised and cached.

The same code serves the whole folder (:func:`matcher.candidates.build_candidates`, about a
million pairs at county scale) and a single pair (:meth:`matcher.candidates.CandidateSet.option`
builds the arrays of one child and one vacancy afresh), so the batch path and the per-option
explanation always give the same points -- a property test checks it.

The :class:`Factor` protocol is the extension point for soft factors: name, statutory
reference, kind, weight from the policy, bounds, vectorised ``assess`` and a one-sentence
``reason`` per pair.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import numpy as np
import numpy.typing as npt

from matcher.domain import FOSTERING_LIMIT, CaseFolder, Child, Provider, Vacancy
from matcher.placement_types import FOSTERING_TYPES, PlacementType
from matcher.policy import Policy
from matcher.vocabulary import Need, Ofsted, RiskFlag, Sex, VacancySex

if TYPE_CHECKING:
    from geography.authorities import Authority

__all__ = [
    "NEED_BIT",
    "OFSTED_ORDER",
    "RISK_BIT",
    "TYPE_BIT",
    "Factor",
    "FolderArrays",
    "Pairs",
    "VacancyArrays",
    "distance_points",
    "has_bit",
    "in_sorted",
    "policy_weight",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Bit of each need / capability in the masks.
NEED_BIT: dict[Need, int] = {n: 1 << i for i, n in enumerate(Need)}
#: Bit of each risk flag in the risk masks (a child's flags, the risks a vacancy manages).
RISK_BIT: dict[RiskFlag, int] = {r: 1 << i for i, r in enumerate(RiskFlag)}
#: Bit of each placement type in a child's acceptable-types mask.
TYPE_BIT: dict[PlacementType, int] = {t: 1 << i for i, t in enumerate(PlacementType)}
#: Placement types by their index in :class:`PlacementType` (``Pairs.v_type`` values).
TYPES: tuple[PlacementType, ...] = tuple(PlacementType)
#: Ofsted grades by index (``FolderArrays.v_ofsted`` values).
OFSTED_ORDER: tuple[Ofsted, ...] = tuple(Ofsted)
_GRID = {"OSGB36": 0, "Irish Grid": 1}
_EARTH_RADIUS_MILES = 3958.7613


def has_bit(mask: IntArray, bit: int) -> BoolArray:
    """Whether each mask has ``bit`` set."""
    return np.asarray((mask & bit) != 0)


def in_sorted(values: IntArray, keys: IntArray) -> BoolArray:
    """Whether each value is one of ``keys``, which must be sorted and unique (as every
    ``*_keys`` array here is): :func:`numpy.isin` by binary search, without sorting again."""
    values = np.asarray(values, dtype=np.int64)
    if len(keys) == 0:
        return np.zeros(values.shape, dtype=bool)
    at = np.searchsorted(keys, values)
    at[at == len(keys)] = 0
    return np.asarray(keys[at] == values)


def _needs_mask(needs: frozenset[Need]) -> int:
    return sum(NEED_BIT[n] for n in needs)


def _risk_mask(flags: frozenset[RiskFlag]) -> int:
    return sum(RISK_BIT[r] for r in flags)


#: ``v_res_min_age`` of a provider nobody lives with: older than anyone, so that no child is
#: ever older than it.
NO_RESIDENT_MIN_AGE = 1000


class _Codes:
    """Small integer codes for strings (religions, languages, ethnicities, outcodes).

    ``start``: codes already given (kept; new strings are numbered after them).
    """

    def __init__(self, start: Mapping[str, int] | None = None) -> None:
        self.index: dict[str, int] = dict(start or {})

    def code(self, text: str | None) -> int:
        if text is None:
            return -1
        return self.index.setdefault(text, len(self.index))


def _outcode(postcode: str) -> str:
    return postcode.split(" ")[0]


def _f64(values: list[float]) -> FloatArray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _i64(values: list[int]) -> IntArray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


def _sorted_pairs(pairs: list[tuple[int, int]]) -> IntArray:
    """``(row, code)`` pairs as a sorted, duplicate-free ``(m, 2)`` int64 array."""
    return np.unique(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=0)


def _pair_keys(pairs: IntArray, width: int) -> IntArray:
    """``row * width + code`` of :func:`_sorted_pairs` output: sorted and unique as long as
    every code is below ``width`` (as :func:`numpy.unique` of the keys would give)."""
    return np.asarray(pairs[:, 0] * width + pairs[:, 1], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class VacancyArrays:
    """The vacancy half of :class:`FolderArrays`, with the folder-wide lookups it needs.

    It depends only on the folder (and the vacancies chosen), never on the children assessed,
    so a caller that assesses a few children at a time against every vacancy (one child's
    ranking, :mod:`matcher.rank`) builds it once per folder and passes it to
    :meth:`FolderArrays.build`. Text codes and authority numbers given here are kept by every
    :class:`FolderArrays` built on it; the children's new values are numbered after them.
    Codes are only ever compared with each other, so the numbering changes no result.

    Attributes
    ----------
    vacancies : tuple of Vacancy
    v_type, v_beds, ... : numpy.ndarray
        One row per vacancy, as the ``v_`` attributes of :class:`FolderArrays`.
    codes, outcodes : Mapping
        Text and outcode -> code, as numbered for the vacancies.
    authority_index : Mapping
        Authority -> number, as numbered for the vacancies.
    ethnicity_pairs, language_pairs : numpy.ndarray of int64, shape (m, 2)
        ``(vacancy, code)`` of each household ethnicity and language, sorted, unique.
    connected : Mapping
        Child id -> the vacancies (indices) that are its connected-person carers.
    group_index, group_size : Mapping
        Sibling group id -> its index in ``folder.sibling_groups`` and its size (the whole
        folder's, whichever children are assessed).
    v_manages : numpy.ndarray of int64
        The risk flags each vacancy can manage, as a mask (:data:`RISK_BIT`).
    v_res_count, v_res_min_age, v_res_max_age, v_res_needs, v_res_nyc_max_age
        The provider's residents (``residents.csv``): how many; the youngest and oldest
        age (:data:`NO_RESIDENT_MIN_AGE` and -1 with none); the union of their needs as a
        mask; the oldest age of a resident who must not live with younger children (-1
        with none).
    """

    vacancies: tuple[Vacancy, ...]
    v_type: IntArray
    v_beds: IntArray
    v_age_min: IntArray
    v_age_max: IntArray
    v_sex: IntArray
    v_caps: IntArray
    v_e: FloatArray
    v_n: FloatArray
    v_lat: FloatArray
    v_lon: FloatArray
    v_grid: IntArray
    v_authority: IntArray
    v_outcode: IntArray
    v_ofsted: IntArray
    v_cost: IntArray
    v_fostered_now: IntArray
    v_fostering: BoolArray
    v_provider: IntArray
    v_provider_beds: IntArray
    v_provider_min_age: IntArray
    v_religion: IntArray
    codes: Mapping[str, int]
    outcodes: Mapping[str, int]
    authority_index: Mapping[Authority, int]
    ethnicity_pairs: IntArray
    language_pairs: IntArray
    connected: Mapping[str, tuple[int, ...]]
    group_index: Mapping[str, int]
    group_size: Mapping[str, int]
    v_manages: IntArray
    v_res_count: IntArray
    v_res_min_age: IntArray
    v_res_max_age: IntArray
    v_res_needs: IntArray
    v_res_nyc_max_age: IntArray

    @property
    def n_vacancies(self) -> int:
        """Vacancies in these arrays."""
        return len(self.vacancies)

    @classmethod
    def build(cls, folder: CaseFolder, vacancies: Sequence[Vacancy] | None = None) -> VacancyArrays:
        """Arrays of ``vacancies`` (default: all of the folder's)."""
        vacs = tuple(folder.vacancies if vacancies is None else vacancies)
        auth_index: dict[Authority, int] = {}
        codes, outcodes = _Codes(), _Codes()
        locs = [v.location for v in vacs]
        v_auth = _i64(
            [
                -1 if v.authority is None else auth_index.setdefault(v.authority, len(auth_index))
                for v in vacs
            ]
        )
        v_out = _i64([outcodes.code(_outcode(v.postcode)) for v in vacs])
        wide = folder.derived(_folder_wide)
        providers, min_age = wide.providers, wide.min_age
        v_rel = _i64([codes.code(v.religion) for v in vacs])
        eth_pairs = [(j, codes.code(e)) for j, v in enumerate(vacs) for e in v.ethnicity]
        lang_pairs = [(j, codes.code(lang)) for j, v in enumerate(vacs) for lang in v.languages]
        connected: dict[str, list[int]] = {}
        for j, v in enumerate(vacs):
            for cid in v.connected_to:
                connected.setdefault(cid, []).append(j)
        homes = wide.residents
        if homes:
            res = [homes.get(v.provider_id, _NOBODY) for v in vacs]
            res_cols = [_i64([r[k] for r in res]) for k in range(5)]
        else:  # no residents.csv: nothing to look up per vacancy
            n = len(vacs)
            nobody = [np.full(n, x, dtype=np.int64) for x in _NOBODY]
            res_cols = nobody
        return cls(
            vacancies=vacs,
            v_type=_i64([TYPES.index(v.placement_type) for v in vacs]),
            v_beds=_i64([v.beds for v in vacs]),
            v_age_min=_i64([v.age_min for v in vacs]),
            v_age_max=_i64([v.age_max for v in vacs]),
            v_sex=_i64(
                [{VacancySex.ANY: 0, VacancySex.M: 1, VacancySex.F: 2}[v.sex] for v in vacs]
            ),
            v_caps=_i64([_needs_mask(v.capabilities) for v in vacs]),
            v_e=_f64([loc.easting for loc in locs]),
            v_n=_f64([loc.northing for loc in locs]),
            v_lat=_f64([loc.lat for loc in locs]),
            v_lon=_f64([loc.lon for loc in locs]),
            v_grid=_i64([_GRID[loc.grid] for loc in locs]),
            v_authority=v_auth,
            v_outcode=v_out,
            v_ofsted=_i64([OFSTED_ORDER.index(v.ofsted) for v in vacs]),
            v_cost=_i64([v.weekly_cost for v in vacs]),
            v_fostered_now=_i64([v.fostered_now for v in vacs]),
            v_fostering=np.asarray(
                [v.placement_type in FOSTERING_TYPES for v in vacs], dtype=bool
            ).reshape(-1),
            v_provider=_i64([providers[v.provider_id][0] for v in vacs]),
            v_provider_beds=_i64([providers[v.provider_id][1].beds for v in vacs]),
            v_provider_min_age=_i64([min_age[v.provider_id] for v in vacs]),
            v_religion=v_rel,
            codes=MappingProxyType(codes.index),
            outcodes=MappingProxyType(outcodes.index),
            authority_index=MappingProxyType(auth_index),
            ethnicity_pairs=_sorted_pairs(eth_pairs),
            language_pairs=_sorted_pairs(lang_pairs),
            connected=MappingProxyType({c: tuple(js) for c, js in connected.items()}),
            group_index=wide.group_index,
            group_size=wide.group_size,
            v_manages=_i64([_risk_mask(v.manages) for v in vacs]),
            v_res_count=res_cols[0],
            v_res_min_age=res_cols[1],
            v_res_max_age=res_cols[2],
            v_res_needs=res_cols[3],
            v_res_nyc_max_age=res_cols[4],
        )


#: The resident columns of a provider nobody lives with: count, youngest, oldest, needs,
#: oldest with ``no_younger_children``.
_NOBODY: tuple[int, int, int, int, int] = (0, NO_RESIDENT_MIN_AGE, -1, 0, -1)


def _resident_columns(folder: CaseFolder) -> dict[str, tuple[int, int, int, int, int]]:
    out: dict[str, tuple[int, int, int, int, int]] = {}
    for p in folder.providers:
        rs = folder.residents_of(p.provider_id)
        if not rs:
            continue
        nyc = [r.age for r in rs if Need.NO_YOUNGER_CHILDREN in r.needs]
        needs = 0
        for r in rs:
            needs |= _needs_mask(r.needs)
        out[p.provider_id] = (
            len(rs),
            min(r.age for r in rs),
            max(r.age for r in rs),
            needs,
            max(nyc, default=-1),
        )
    return out


@dataclass(frozen=True)
class _FolderWide:
    """What every :class:`VacancyArrays` of one folder takes from the whole folder, built
    once per folder (:meth:`CaseFolder.derived`): a subset of one vacancy read them all."""

    providers: Mapping[str, tuple[int, Provider]]
    min_age: Mapping[str, int]
    group_index: Mapping[str, int]
    group_size: Mapping[str, int]
    residents: Mapping[str, tuple[int, int, int, int, int]]  # provider -> _NOBODY's columns


def _folder_wide(folder: CaseFolder) -> _FolderWide:
    return _FolderWide(
        providers=MappingProxyType({p.provider_id: (i, p) for i, p in enumerate(folder.providers)}),
        min_age=MappingProxyType(
            {p.provider_id: min(x.age_min for x in p.vacancies) for p in folder.providers}
        ),
        group_index=MappingProxyType(
            {g.sibling_group_id: i for i, g in enumerate(folder.sibling_groups)}
        ),
        group_size=MappingProxyType({g.sibling_group_id: g.size for g in folder.sibling_groups}),
        residents=MappingProxyType(_resident_columns(folder)),
    )


@dataclass(frozen=True, eq=False)
class FolderArrays:
    """Children and vacancies of a case folder as parallel numpy arrays.

    Built by :meth:`build` for the whole folder or for a subset of its children and
    vacancies (indices are then local to the subset); context that needs the whole folder
    (sibling-group sizes, a provider's beds) is always taken from the whole folder.

    Attributes are prefixed ``c_`` (one row per child) and ``v_`` (one row per vacancy).
    Keys of sparse relations are ``int64`` products such as ``child * n_vacancies + vacancy``,
    sorted, for :func:`numpy.isin`.
    """

    folder: CaseFolder
    policy: Policy
    children: tuple[Child, ...]
    vacancies: tuple[Vacancy, ...]
    authorities: tuple[Authority, ...]
    # children
    c_age: IntArray
    c_sex: IntArray  # 0 M, 1 F
    c_needs: IntArray
    c_types: IntArray
    c_has_home: BoolArray
    c_e: FloatArray
    c_n: FloatArray
    c_lat: FloatArray
    c_lon: FloatArray
    c_grid: IntArray
    c_has_school: BoolArray
    c_s_e: FloatArray
    c_s_n: FloatArray
    c_s_lat: FloatArray
    c_s_lon: FloatArray
    c_group: IntArray  # sibling group index in folder.sibling_groups, -1 for none
    c_group_size: IntArray  # 1 without siblings
    c_area: IntArray  # authority index of "in area"
    c_ethnicity: IntArray
    c_religion: IntArray
    c_language: IntArray
    c_risks: IntArray  # risk flags as a mask (RISK_BIT)
    # vacancies
    v_type: IntArray
    v_beds: IntArray
    v_age_min: IntArray
    v_age_max: IntArray
    v_sex: IntArray  # 0 any, 1 M, 2 F
    v_caps: IntArray
    v_e: FloatArray
    v_n: FloatArray
    v_lat: FloatArray
    v_lon: FloatArray
    v_grid: IntArray
    v_authority: IntArray  # -1 outside England
    v_outcode: IntArray
    v_ofsted: IntArray
    v_cost: IntArray
    v_fostered_now: IntArray
    v_fostering: BoolArray
    v_provider: IntArray  # index in folder.providers
    v_provider_beds: IntArray
    v_provider_min_age: IntArray
    v_religion: IntArray
    v_manages: IntArray  # risk flags it can manage, as a mask
    v_res_count: IntArray  # residents of its provider (residents.csv)
    v_res_min_age: IntArray  # youngest resident's age; NO_RESIDENT_MIN_AGE without one
    v_res_max_age: IntArray  # oldest resident's age; -1 without one
    v_res_needs: IntArray  # union of the residents' needs, as a mask
    v_res_nyc_max_age: IntArray  # oldest resident with no_younger_children; -1 without one
    # sparse relations (sorted keys)
    connected_keys: IntArray  # child * n_v + vacancy
    avoid_authority_keys: IntArray  # child * n_authorities + authority
    avoid_outcode_keys: IntArray  # child * n_outcodes + outcode
    vacancy_ethnicity_keys: IntArray  # vacancy * n_codes + ethnicity code
    vacancy_language_keys: IntArray  # vacancy * n_codes + language code
    n_codes: int
    n_outcodes: int
    adjoining: BoolArray  # authorities x authorities

    @property
    def n_children(self) -> int:
        """Children in these arrays."""
        return len(self.children)

    @property
    def n_vacancies(self) -> int:
        """Vacancies in these arrays."""
        return len(self.vacancies)

    @classmethod
    def build(
        cls,
        folder: CaseFolder,
        children: Sequence[Child] | None = None,
        vacancies: Sequence[Vacancy] | None = None,
        *,
        vacancy_arrays: VacancyArrays | None = None,
    ) -> FolderArrays:
        """Arrays of ``children`` and ``vacancies`` (default: all of the folder's).

        ``vacancy_arrays``: the vacancy half already built for this folder
        (:meth:`VacancyArrays.build`), instead of ``vacancies``; only the children's arrays
        are then built.
        """
        from geography.authorities import adjoining as adjoining_of

        if vacancy_arrays is not None and vacancies is not None:
            raise ValueError("FolderArrays.build: give vacancies or vacancy_arrays, not both")
        va = vacancy_arrays or VacancyArrays.build(folder, vacancies)
        policy = folder.policy
        kids = tuple(folder.children if children is None else children)
        vacs = va.vacancies
        auth_index = dict(va.authority_index)

        def authority_code(a: Authority | None) -> int:
            if a is None:
                return -1
            return auth_index.setdefault(a, len(auth_index))

        codes, outcodes = _Codes(va.codes), _Codes(va.outcodes)
        n_v = len(vacs)
        nan = math.nan
        homes = [c.home for c in kids]
        schools = [
            c.school if c.school is not None and c.school.easting is not None else None
            for c in kids
        ]
        c_area = _i64([authority_code(folder.area_authority(c.child_id)) for c in kids])
        avoid_auth_pairs = [
            (i, authority_code(a)) for i, c in enumerate(kids) for a in c.avoid_authorities
        ]
        avoid_out_pairs = [
            (i, outcodes.code(o)) for i, c in enumerate(kids) for o in c.avoid_outcodes
        ]
        c_eth = _i64([codes.code(c.ethnicity) for c in kids])
        c_rel = _i64([codes.code(c.religion) for c in kids])
        c_lang = _i64([codes.code(c.language) for c in kids])
        n_codes = max(len(codes.index), 1)
        n_out = max(len(outcodes.index), 1)
        n_auth = max(len(auth_index), 1)
        child_pos = {c.child_id: i for i, c in enumerate(kids)}
        connected = [i * n_v + j for cid, i in child_pos.items() for j in va.connected.get(cid, ())]
        ordered = sorted(auth_index, key=auth_index.__getitem__)
        adj = np.zeros((n_auth, n_auth), dtype=bool)
        for a in set(c_area.tolist()):
            neighbours = adjoining_of(ordered[a])
            adj[a, : len(ordered)] = [other in neighbours for other in ordered]

        def keys(pairs: list[tuple[int, int]], width: int) -> IntArray:
            return np.unique(_i64([i * width + k for i, k in pairs]))

        group_index, group_size = va.group_index, va.group_size
        return cls(
            folder=folder,
            policy=policy,
            children=kids,
            vacancies=vacs,
            authorities=tuple(ordered),
            c_age=_i64([c.age for c in kids]),
            c_sex=_i64([0 if c.sex is Sex.M else 1 for c in kids]),
            c_needs=_i64([_needs_mask(c.needs) for c in kids]),
            c_types=_i64([sum(TYPE_BIT[t] for t in c.placement_types) for c in kids]),
            c_has_home=np.asarray([h is not None for h in homes], dtype=bool).reshape(-1),
            c_e=_f64([nan if h is None else h.easting for h in homes]),
            c_n=_f64([nan if h is None else h.northing for h in homes]),
            c_lat=_f64([nan if h is None else h.lat for h in homes]),
            c_lon=_f64([nan if h is None else h.lon for h in homes]),
            c_grid=_i64([-1 if h is None else _GRID[h.grid] for h in homes]),
            c_has_school=np.asarray([s is not None for s in schools], dtype=bool).reshape(-1),
            c_s_e=_f64([nan if s is None else float(s.easting or 0) for s in schools]),
            c_s_n=_f64([nan if s is None else float(s.northing or 0) for s in schools]),
            c_s_lat=_f64([nan if s is None else float(s.lat or 0) for s in schools]),
            c_s_lon=_f64([nan if s is None else float(s.lon or 0) for s in schools]),
            c_group=_i64(
                [-1 if c.sibling_group is None else group_index[c.sibling_group] for c in kids]
            ),
            c_group_size=_i64(
                [1 if c.sibling_group is None else group_size[c.sibling_group] for c in kids]
            ),
            c_area=c_area,
            c_ethnicity=c_eth,
            c_religion=c_rel,
            c_language=c_lang,
            c_risks=_i64([_risk_mask(c.risk_flags) for c in kids]),
            v_type=va.v_type,
            v_beds=va.v_beds,
            v_age_min=va.v_age_min,
            v_age_max=va.v_age_max,
            v_sex=va.v_sex,
            v_caps=va.v_caps,
            v_e=va.v_e,
            v_n=va.v_n,
            v_lat=va.v_lat,
            v_lon=va.v_lon,
            v_grid=va.v_grid,
            v_authority=va.v_authority,
            v_outcode=va.v_outcode,
            v_ofsted=va.v_ofsted,
            v_cost=va.v_cost,
            v_fostered_now=va.v_fostered_now,
            v_fostering=va.v_fostering,
            v_provider=va.v_provider,
            v_provider_beds=va.v_provider_beds,
            v_provider_min_age=va.v_provider_min_age,
            v_religion=va.v_religion,
            v_manages=va.v_manages,
            v_res_count=va.v_res_count,
            v_res_min_age=va.v_res_min_age,
            v_res_max_age=va.v_res_max_age,
            v_res_needs=va.v_res_needs,
            v_res_nyc_max_age=va.v_res_nyc_max_age,
            connected_keys=np.unique(_i64(connected)),
            avoid_authority_keys=keys(avoid_auth_pairs, n_auth),
            avoid_outcode_keys=keys(avoid_out_pairs, n_out),
            vacancy_ethnicity_keys=_pair_keys(va.ethnicity_pairs, n_codes),
            vacancy_language_keys=_pair_keys(va.language_pairs, n_codes),
            n_codes=n_codes,
            n_outcodes=n_out,
            adjoining=adj,
        )


def _pair_miles(
    e1: FloatArray,
    n1: FloatArray,
    lat1: FloatArray,
    lon1: FloatArray,
    g1: IntArray,
    e2: FloatArray,
    n2: FloatArray,
    lat2: FloatArray,
    lon2: FloatArray,
    g2: IntArray,
) -> FloatArray:
    """Miles between paired points: the 903 grid formula on one grid, great circle across.

    A pair with a Northern Ireland point (Irish Grid) and a Great Britain one cannot use the
    grid formula; those (rare) pairs are measured by the haversine formula on a sphere of
    mean Earth radius, one at a time with :mod:`math` so that any batch gives the same value.
    """
    from geography.distance import grid_miles

    miles = np.asarray(grid_miles(e1, n1, e2, n2), dtype=np.float64).reshape(-1)
    cross = np.flatnonzero((g1 != g2) & (g1 >= 0) & (g2 >= 0))
    for k in cross.tolist():
        p1, p2 = math.radians(lat1[k]), math.radians(lat2[k])
        dl = math.radians(lon2[k] - lon1[k])
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        miles[k] = 2 * _EARTH_RADIUS_MILES * math.asin(math.sqrt(min(1.0, max(0.0, h))))
    return miles


class Pairs:
    """A batch of (child, vacancy) pairs over :class:`FolderArrays`, with derived features.

    Parameters
    ----------
    arrays
        The folder's arrays.
    ci, vi
        Child and vacancy indices (into ``arrays``) of each pair, equal lengths.
    """

    def __init__(self, arrays: FolderArrays, ci: npt.ArrayLike, vi: npt.ArrayLike) -> None:
        self.arrays = arrays
        self.policy = arrays.policy
        self.ci: IntArray = np.asarray(ci, dtype=np.int64).reshape(-1)
        self.vi: IntArray = np.asarray(vi, dtype=np.int64).reshape(-1)
        if self.ci.shape != self.vi.shape:
            raise ValueError("Pairs: ci and vi must have the same length")
        # Gathered attribute arrays, by name: explanations read one pair at a time
        # (``pairs.v("beds")[k]``), which would otherwise gather the whole array per read.
        self._gathered: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.ci)

    def subset(self, mask: npt.ArrayLike) -> Pairs:
        """The pairs where ``mask`` holds (features are recomputed lazily)."""
        m = np.asarray(mask)
        return Pairs(self.arrays, self.ci[m], self.vi[m])

    def c(self, name: str) -> Any:
        """A child attribute array gathered per pair, e.g. ``pairs.c("age")``.

        The array is gathered once per name and shared: treat it as read-only.
        """
        return self._gather("c_" + name, self.ci)

    def v(self, name: str) -> Any:
        """A vacancy attribute array gathered per pair, e.g. ``pairs.v("beds")``.

        The array is gathered once per name and shared: treat it as read-only.
        """
        return self._gather("v_" + name, self.vi)

    def _gather(self, key: str, index: IntArray) -> Any:
        got = self._gathered.get(key)
        if got is None:
            got = self._gathered[key] = getattr(self.arrays, key)[index]
        return got

    # ------------------------------------------------------------------ features

    @cached_property
    def home_miles(self) -> FloatArray:
        """Miles from the child's home to the placement; NaN without a home postcode."""
        a = self.arrays
        miles = _pair_miles(
            self.c("e"),
            self.c("n"),
            self.c("lat"),
            self.c("lon"),
            self.c("grid"),
            self.v("e"),
            self.v("n"),
            self.v("lat"),
            self.v("lon"),
            self.v("grid"),
        )
        miles[~a.c_has_home[self.ci]] = np.nan
        return miles

    @cached_property
    def school_miles(self) -> FloatArray:
        """Miles from the placement to the child's current school; NaN without one."""
        a = self.arrays
        grid0 = np.zeros(len(self), dtype=np.int64)  # schools are all in England (OSGB36)
        miles = _pair_miles(
            self.c("s_e"),
            self.c("s_n"),
            self.c("s_lat"),
            self.c("s_lon"),
            grid0,
            self.v("e"),
            self.v("n"),
            self.v("lat"),
            self.v("lon"),
            self.v("grid"),
        )
        miles[~a.c_has_school[self.ci]] = np.nan
        return miles

    @cached_property
    def in_area(self) -> BoolArray:
        """The placement is in the authority's area (by its postcode's district)."""
        return np.asarray(self.v("authority") == self.c("area"))

    @cached_property
    def adjoining(self) -> BoolArray:
        """In area, or in an authority adjoining the area authority."""
        va = self.v("authority")
        inside = va >= 0
        adj = np.zeros(len(self), dtype=bool)
        adj[inside] = self.arrays.adjoining[self.c("area")[inside], va[inside]]
        return np.asarray(self.in_area | adj)

    @cached_property
    def connected(self) -> BoolArray:
        """The vacancy is a connected-person carer named for this child."""
        key = self.ci * self.arrays.n_vacancies + self.vi
        return in_sorted(key, self.arrays.connected_keys)

    @cached_property
    def key_stage_4(self) -> BoolArray:
        """The child is of Key Stage 4 age (policy ``key_stage_4_min_age``..``max_age``)."""
        age = self.c("age")
        p = self.policy
        return np.asarray((age >= p.key_stage_4_min_age) & (age <= p.key_stage_4_max_age))

    @cached_property
    def children_placed(self) -> IntArray:
        """Children this pair brings into the placement: the sibling group as a unit."""
        if self.policy.allow_sibling_split:
            return np.ones(len(self), dtype=np.int64)
        return np.asarray(self.c("group_size"), dtype=np.int64)

    @cached_property
    def over_fostering_limit(self) -> BoolArray:
        """Fostering and more than three children would then live there."""
        total = self.v("fostered_now") + self.children_placed
        return np.asarray(self.v("fostering") & (total > FOSTERING_LIMIT))

    @cached_property
    def ethnicity_match(self) -> BoolArray:
        """The household shares the child's recorded ethnicity."""
        a = self.arrays
        code = self.c("ethnicity")
        key = self.vi * a.n_codes + code
        return np.asarray((code >= 0) & in_sorted(key, a.vacancy_ethnicity_keys))

    @cached_property
    def religion_match(self) -> BoolArray:
        """The household shares the child's recorded religion."""
        code = self.c("religion")
        return np.asarray((code >= 0) & (code == self.v("religion")))

    @cached_property
    def language_match(self) -> BoolArray:
        """A language of the household is the child's recorded language."""
        a = self.arrays
        code = self.c("language")
        key = self.vi * a.n_codes + code
        return np.asarray((code >= 0) & in_sorted(key, a.vacancy_language_keys))

    def child_has(self, need: Need) -> BoolArray:
        """The child has ``need`` (made once per need and shared: treat it as read-only)."""
        return self._has("c_needs", need)

    def vacancy_has(self, capability: Need) -> BoolArray:
        """The vacancy offers ``capability`` (made once per need and shared: treat it as
        read-only)."""
        return self._has("v_caps", capability)

    def _has(self, masks: str, need: Need) -> BoolArray:
        # Kept like the gathered arrays: the explanations ask one pair at a time
        # (``pairs.child_has(need)[k]``), which made the whole array on every call (a sixth
        # of the server's time for a county's whole list built afresh, measured).
        key = f"{masks}&{need.value}"
        got = self._gathered.get(key)
        if got is None:
            index = self.ci if masks[0] == "c" else self.vi
            got = self._gathered[key] = has_bit(self._gather(masks, index), NEED_BIT[need])
        return got

    @property
    def has_residents(self) -> bool:
        """The folder lists residents (``residents.csv``): only then do the rules and
        factors about residents compute anything."""
        return bool(self.arrays.folder.residents)

    def vacancy_is(self, placement_type: PlacementType) -> BoolArray:
        """The vacancy is of ``placement_type``."""
        return np.asarray(self.v("type") == TYPES.index(placement_type))

    def child_id(self, k: int) -> str:
        """Id of the child of pair ``k``."""
        return self.arrays.children[int(self.ci[k])].child_id

    def vacancy(self, k: int) -> Vacancy:
        """The vacancy of pair ``k``."""
        return self.arrays.vacancies[int(self.vi[k])]

    def child(self, k: int) -> Child:
        """The child of pair ``k``."""
        return self.arrays.children[int(self.ci[k])]


def distance_points(miles: FloatArray, weight: IntArray | int, policy: Policy) -> IntArray:
    """Points for a distance: linear from ``weight`` at 0 to none at ``distance_zero_miles``,
    less ``distance_step_share`` of the weight beyond ``distance_step_miles``, rounded down.

    NaN miles (no home or no school) give 0.

    Examples
    --------
    With the defaults (step 20 miles, share 0.25, zero at 100) and weight 100: 0 miles 100,
    10 miles 90, 20 miles 80, 20.1 miles 54, 60 miles 15, 75 miles and beyond 0.
    """
    m = np.asarray(miles, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    frac = np.clip(1.0 - m / policy.distance_zero_miles, 0.0, 1.0)
    raw = w * frac - np.where(m > policy.distance_step_miles, policy.distance_step_share * w, 0.0)
    raw = np.where(np.isnan(m), 0.0, np.maximum(raw, 0.0))
    # A tiny tolerance so that 80.0 computed as 79.99999999 is still 80.
    return np.floor(raw + 1e-9).astype(np.int64)


def miles_text(miles: float) -> str:
    """Miles for a reason sentence, to 0.1 mile."""
    return f"{miles:.1f} miles"


class Factor(Protocol):
    """A soft consideration: one module, one class, one statutory basis.

    Attributes
    ----------
    name : str
        Snake-case name, the column in ``candidates.csv`` and the key in ``--json`` output.
    reference : str
        Its statutory basis (e.g. ``"Children Act 1989 s22C(8)(a)"``).
    kind : "soft"
        Factors give points; hard rules (:mod:`matcher.rules`) exclude.
    label : str
        Its column header on the officer's page (e.g. ``"Home"``).
    short : str
        Its column header in ``placematch rank``'s table (e.g. ``"home"``).
    weight_key : str or None
        The key of ``[weights]`` in ``policy.toml`` (:class:`~matcher.policy.Weights`) its
        weight is read from; ``None`` for a factor with a fixed weight of its own
        (:func:`policy_weight` reads either).

    Adding a factor is its module (a class with these attributes and methods) and an entry
    in a tuple of factors: :data:`matcher.factors.DEFAULT_FACTORS`, or a
    :class:`matcher.scoring.Scoring` passed to the assessment, ranking and match.
    """

    name: ClassVar[str]
    reference: ClassVar[str]
    kind: ClassVar[Literal["soft"]]
    label: ClassVar[str]
    short: ClassVar[str]
    weight_key: ClassVar[str | None]

    def weight(self, policy: Policy) -> int:
        """The policy's weight for this factor (most points it gives, or cost takes away)."""
        ...

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """Fewest and most points any pair can get under ``policy``."""
        ...

    def assess(self, pairs: Pairs) -> IntArray:
        """Whole points for every pair (vectorised)."""
        ...

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """One sentence explaining ``points`` for pair ``k`` (no personal data)."""
        ...


def policy_weight(policy: Policy, key: str | None, default: int) -> int:
    """The weight ``[weights] key`` of ``policy``, or ``default`` when the policy has no
    such weight (``key`` ``None``, or a factor newer than :class:`~matcher.policy.Weights`)."""
    if key is None:
        return default
    value = getattr(policy.weights, key, None)
    return default if value is None else int(value)
