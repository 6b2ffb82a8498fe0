"""English children's services authorities (upper-tier local authorities, 2025 geography).

There are 153: counties (E10), unitary authorities (E06), metropolitan districts (E08) and
London boroughs (E09). Each has an ONS code, a DfE three-digit number and a name. Whether a
postcode is inside an authority is decided by the postcode's district (LAD) in the ONS postcode
directory, never by a simplified polygon.

Examples
--------
>>> from geography import resolve_authority
>>> resolve_authority("881").name
'Essex'
>>> resolve_authority("thurrock").ons_code
'E06000034'
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

from geography._data import read_csv
from geography.errors import UnknownAuthorityError

__all__ = [
    "Authority",
    "adjoining",
    "authorities",
    "authorities_in_region",
    "authority_of_lad",
    "interior_point",
    "lad_name",
    "regions",
    "resolve_authority",
]

_ONS_CODE = re.compile(r"^E(06|08|09|10)\d{6}$")
_ANY_ONS_CODE = re.compile(r"^[A-Z]\d{8}$")
_DFE_CODE = re.compile(r"^\d{3}$")

#: Authorities abolished since 2019, with the authorities that took over their area.
_RETIRED_ONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "E10000006": ("Cumbria (abolished 2023)", ("E06000063", "E06000064")),
    "E10000023": ("North Yorkshire county (became a unitary in 2023)", ("E06000065",)),
    "E10000027": ("Somerset county (became a unitary in 2023)", ("E06000066",)),
    "E08000016": ("Barnsley (recoded 2025)", ("E08000038",)),
    "E08000019": ("Sheffield (recoded 2025)", ("E08000039",)),
    "E10000002": ("Buckinghamshire county (became a unitary in 2020)", ("E06000060",)),
    "E10000021": ("Northamptonshire (abolished 2021)", ("E06000061", "E06000062")),
    "E10000009": ("Dorset county (abolished 2019)", ("E06000059",)),
    "E06000028": ("Bournemouth (abolished 2019)", ("E06000058",)),
    "E06000029": ("Poole (abolished 2019)", ("E06000058",)),
}
_RETIRED_DFE: dict[str, tuple[str, tuple[str, ...]]] = {
    "909": ("Cumbria (abolished 2023)", ("E06000063", "E06000064")),
    "928": ("Northamptonshire (abolished 2021)", ("E06000061", "E06000062")),
    "835": ("Dorset before 2019", ("E06000059",)),
    "836": ("Poole (abolished 2019)", ("E06000058",)),
    "837": ("Bournemouth (abolished 2019)", ("E06000058",)),
}
_RETIRED_NAMES: dict[str, str] = {
    "cumbria": "E10000006",
    "northamptonshire": "E10000021",
    "bournemouth": "E06000028",
    "poole": "E06000029",
}
#: Everyday names for authorities whose official names differ.
_ALIASES: dict[str, str] = {
    "hull": "E06000010",
    "bcp": "E06000058",
    "durham": "E06000047",
    "bristol": "E06000023",
    "city of bristol": "E06000023",
    "herefordshire": "E06000019",
    "southend": "E06000033",
    "stoke": "E06000021",
    "windsor": "E06000040",
}


@dataclass(frozen=True, slots=True)
class Authority:
    """An English upper-tier local authority, which runs children's services.

    Parameters
    ----------
    ons_code
        ONS code, e.g. ``"E10000012"``.
    dfe_code
        DfE three-digit LA number, e.g. ``"881"``, or ``None`` if it has none.
    name
        ONS name, e.g. ``"Essex"`` or ``"Bristol, City of"``.
    region
        English region name, e.g. ``"East of England"``.
    """

    ons_code: str
    dfe_code: str | None
    name: str
    region: str

    def __post_init__(self) -> None:
        if not _ONS_CODE.match(self.ons_code):
            raise ValueError(
                f"Authority.ons_code {self.ons_code!r}: expected an English upper-tier code "
                "E06/E08/E09/E10 followed by six digits"
            )
        if self.dfe_code is not None and not _DFE_CODE.match(self.dfe_code):
            raise ValueError(
                f"Authority.dfe_code {self.dfe_code!r}: expected three digits such as '881'"
            )
        if not self.name.strip():
            raise ValueError("Authority.name: expected a non-empty name")

    def __str__(self) -> str:
        dfe = f", {self.dfe_code}" if self.dfe_code else ""
        return f"{self.name} ({self.ons_code}{dfe})"


def _normalise_name(text: str) -> str:
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"[-_/]", " ", text)
    text = re.sub(r"[^\w ]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.removeprefix("the ")


@dataclass(frozen=True, slots=True)
class _Tables:
    by_ons: dict[str, Authority]
    by_dfe: dict[str, Authority]
    by_name: dict[str, Authority]
    la_type: dict[str, str]
    lad_to_utla: dict[str, str]
    lad_names: dict[str, str]
    lad_country: dict[str, str]
    adjacency: dict[str, frozenset[str]]


@cache
def _tables() -> _Tables:
    dfe_of: dict[str, str] = {}
    for row in read_csv("england_dfe_la_code_to_ons_utla.csv"):
        if row["current"] == "True":
            dfe_of[row["la_code"]] = row["dfe_la_code"]
    by_ons: dict[str, Authority] = {}
    la_type: dict[str, str] = {}
    for row in read_csv("england_utla_2025_summary.csv"):
        code = row["la_code"]
        by_ons[code] = Authority(
            ons_code=code,
            dfe_code=dfe_of.get(code) or row["dfe_la_code"] or None,
            name=row["la_name"],
            region=row["region"],
        )
        la_type[code] = row["la_type"]
    by_dfe = {a.dfe_code: a for a in by_ons.values() if a.dfe_code}
    by_name: dict[str, Authority] = {}
    for a in by_ons.values():
        key = _normalise_name(a.name)
        by_name[key] = a
        for suffix in (" city of", " county of"):
            if key.endswith(suffix):
                base = key.removesuffix(suffix)
                by_name.setdefault(base, a)
                by_name.setdefault(f"{suffix.strip()} {base}", a)
    for alias, code in _ALIASES.items():
        by_name.setdefault(alias, by_ons[code])
    lad_to_utla: dict[str, str] = {}
    lad_names: dict[str, str] = {}
    lad_country: dict[str, str] = {}
    for row in read_csv("england_lad25_utla25_region_lookup.csv"):
        lad_to_utla[row["lad_code"]] = row["utla_code"]
        lad_names[row["lad_code"]] = row["lad_name"]
        lad_country[row["lad_code"]] = "England"
    for row in read_csv("uk_non_england_lad_names.csv"):
        lad_names[row["lad_code"]] = row["lad_name"]
        lad_country[row["lad_code"]] = row["country"]
    neighbours: dict[str, set[str]] = {code: set() for code in by_ons}
    for row in read_csv("england_utla_2025_adjacency.csv"):
        code_a, code_b = row["la_code_a"], row["la_code_b"]
        neighbours[code_a].add(code_b)
        neighbours[code_b].add(code_a)
    adjacency = {code: frozenset(s) for code, s in neighbours.items()}
    return _Tables(by_ons, by_dfe, by_name, la_type, lad_to_utla, lad_names, lad_country, adjacency)


@cache
def _interior_points() -> dict[str, tuple[float, float]]:
    return {
        row["la_code"]: (float(row["interior_lat"]), float(row["interior_lon"]))
        for row in read_csv("england_utla_2025_summary.csv")
    }


def interior_point(authority: str | Authority) -> tuple[float, float]:
    """A point (lat, lon) inside the authority's area: ONS's interior point, never outside it."""
    return _interior_points()[_as_authority(authority).ons_code]


def authorities() -> tuple[Authority, ...]:
    """The 153 English children's services authorities, sorted by ONS code."""
    tables = _tables()
    return tuple(tables.by_ons[code] for code in sorted(tables.by_ons))


def regions() -> tuple[str, ...]:
    """The nine English region names, sorted."""
    return tuple(sorted({a.region for a in authorities()}))


def authorities_in_region(region: str) -> tuple[Authority, ...]:
    """The authorities in an English region (name, case-insensitive), sorted by ONS code."""
    wanted = _normalise_name(region)
    found = tuple(a for a in authorities() if _normalise_name(a.region) == wanted)
    if not found:
        names = ", ".join(regions())
        raise UnknownAuthorityError(f"unknown region {region!r}: expected one of {names}")
    return found


def la_type(authority: str | Authority) -> str:
    """``"county"``, ``"unitary"``, ``"metropolitan_district"`` or ``"london_borough"``."""
    return _tables().la_type[_as_authority(authority).ons_code]


def _describe(codes: tuple[str, ...]) -> str:
    by_ons = _tables().by_ons
    return " and ".join(str(by_ons[c]) for c in codes)


def _close_matches(text: str) -> list[Authority]:
    tables = _tables()
    key = _normalise_name(text)
    found: list[Authority] = []
    if key:
        for name in difflib.get_close_matches(key, tables.by_name.keys(), n=5, cutoff=0.6):
            found.append(tables.by_name[name])
        if len(key) >= 3:
            found.extend(a for n, a in sorted(tables.by_name.items()) if key in n)
    unique = list(dict.fromkeys(found))
    return unique[:6]


def resolve_authority(text: str) -> Authority:
    """Find an authority by ONS code, DfE number or name, case-insensitively.

    Parameters
    ----------
    text
        ``"E10000012"``, ``"881"``, ``"Essex"``, ``"essex"``, ``"Bristol"``,
        ``"Kingston upon Hull, City of"`` ...

    Returns
    -------
    Authority

    Raises
    ------
    UnknownAuthorityError
        If nothing matches; the message lists close matches, and for an abolished authority
        or a lower-tier district it names the authority that now runs children's services.
    """
    if isinstance(text, Authority):
        return text
    if not isinstance(text, str):
        raise UnknownAuthorityError(
            f"authority {text!r}: expected an ONS code, DfE number or name as text"
        )
    tables = _tables()
    raw = text.strip()
    upper = raw.upper()
    if upper in tables.by_ons:
        return tables.by_ons[upper]
    if raw.isdigit() and len(raw) <= 3 and raw.zfill(3) in tables.by_dfe:
        return tables.by_dfe[raw.zfill(3)]
    key = _normalise_name(raw)
    if key in tables.by_name:
        return tables.by_name[key]
    if key in _RETIRED_NAMES:
        upper = _RETIRED_NAMES[key]
    if upper in _RETIRED_ONS or raw in _RETIRED_DFE:
        what, codes = _RETIRED_ONS.get(upper) or _RETIRED_DFE[raw]
        raise UnknownAuthorityError(
            f"authority {raw!r} is {what}; its area is now {_describe(codes)}"
        )
    if upper in tables.lad_to_utla:
        utla = tables.by_ons[tables.lad_to_utla[upper]]
        raise UnknownAuthorityError(
            f"authority {raw!r} is the lower-tier district {tables.lad_names[upper]}; "
            f"children's services there are run by {utla}"
        )
    if _ANY_ONS_CODE.match(upper) and upper in tables.lad_country:
        raise UnknownAuthorityError(
            f"authority {raw!r} is {tables.lad_names[upper]} in {tables.lad_country[upper]}; "
            "placematch knows only English children's services authorities"
        )
    matches = _close_matches(raw)
    hint = f"; did you mean {', '.join(map(str, matches))}?" if matches else ""
    raise UnknownAuthorityError(
        f"unknown authority {raw!r}: expected the ONS code (E10000012), DfE number (881) or name "
        f"(Essex) of one of the 153 English children's services authorities{hint}"
    )


def _as_authority(authority: str | Authority) -> Authority:
    return authority if isinstance(authority, Authority) else resolve_authority(authority)


def adjoining(authority: str | Authority) -> frozenset[Authority]:
    """Authorities whose boundary touches this one (for out-of-area sign-off).

    Adjacency is from the 2025 boundaries with a 200 m tolerance, so authorities across a
    narrow estuary (e.g. Thurrock and Kent across the Thames) count as adjoining.
    """
    tables = _tables()
    code = _as_authority(authority).ons_code
    return frozenset(tables.by_ons[c] for c in tables.adjacency[code])


def authority_of_lad(lad_code: str) -> Authority | None:
    """The upper-tier authority of an English district (LAD) code, or ``None`` outside England."""
    tables = _tables()
    utla = tables.lad_to_utla.get(lad_code)
    return tables.by_ons[utla] if utla else None


def lad_name(lad_code: str) -> str:
    """The name of a district (LAD) code anywhere in the UK, or ``""`` if unknown."""
    return _tables().lad_names.get(lad_code, "")


def lad_country(lad_code: str) -> str:
    """The country of a district (LAD) code, from its first letter."""
    return {
        "E": "England",
        "W": "Wales",
        "S": "Scotland",
        "N": "Northern Ireland",
        "L": "Channel Islands",
        "M": "Isle of Man",
    }.get(lad_code[:1], "")


def lads_of_authority(authority: str | Authority) -> frozenset[str]:
    """The district (LAD) codes that make up an authority."""
    code = _as_authority(authority).ons_code
    return frozenset(lad for lad, utla in _tables().lad_to_utla.items() if utla == code)
