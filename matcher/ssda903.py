"""Read SSDA903 (children looked after return) tables as the DfE validator reads them.

The validator (``csc-validator-be-903`` 0.1.17) recognises a table by its **exact set of
columns**, never by its file name: a file with the thirteen episode columns is an
episodes table whatever it is called. This module does the same, with one documented
allowance: the demand-modelling extracts published by Social Finance (and many councils'
own multi-year or regional extracts) append ``LA`` and ``YEAR`` columns, which are kept as
typed columns when present. Any other extra or missing column makes the file unrecognised
(:class:`UnrecognisedTableError` names the file, the closest table and the columns that
differ).

Field conventions:

* dates are ``dd/mm/yyyy`` as in the DfE return; ISO ``yyyy-mm-dd`` (as in the regional
  sample) is accepted too. Dates become ``datetime64[ns]``; a blank ``DEC`` is ``NaT``
  (an open episode).
* ``SEX`` is normalised to ``M``, ``F`` or ``U`` (the code list in
  ``matcher/data/ssda903_codes.csv``, letters from 2024-25). Earlier returns, and both
  synthetic samples, use ``1`` (male) and ``2`` (female); these are read as ``M`` and ``F``.
* codes (``RNE``, ``LS``, ``CIN``, ``PLACE``, ``PLACE_PROVIDER``, ``REC``,
  ``REASON_PLACE_CHANGE``, ``ETHNIC``) are checked against the bundled code lists,
  including the legacy ``PLACE`` codes ``H5``, ``P2`` and ``Z1``.
* ``CHILD``, ``UPN``, ``URN``, ``HOME_POST`` and ``PL_POST`` stay strings.

Every problem in a file is collected as a :class:`Problem` (file, line, field, message)
and raised together in one :class:`Ssda903Error`. Messages name ``CHILD`` ids and codes,
never postcodes or dates of birth.

Two users: the forecaster (entries, exits and moves over time: :func:`read_episodes`,
:func:`combine_episodes`) and the 903 import (who is in care, and where, on a date:
:func:`open_episodes`, :func:`read_header`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd

from matcher.placement_types import SufficiencyGroup, codes_for, sufficiency_group_of_place


class TableKind(StrEnum):
    """The 903 tables, named as the validator names them."""

    HEADER = "Header"
    EPISODES = "Episodes"
    REVIEWS = "Reviews"
    UASC = "UASC"
    OC2 = "OC2"
    OC3 = "OC3"
    AD1 = "AD1"
    PLACED_ADOPTION = "PlacedAdoption"
    PREV_PERM = "PrevPerm"
    MISSING = "Missing"
    SW_EPISODES = "SWEpisodes"
    DOLO = "DoLo"


#: The exact column set of each table (csc-validator-be-903 0.1.17, ``config.column_names``).
TABLE_COLUMNS: dict[TableKind, tuple[str, ...]] = {
    TableKind.HEADER: ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
    TableKind.EPISODES: (
        "CHILD",
        "DECOM",
        "RNE",
        "LS",
        "CIN",
        "PLACE",
        "PLACE_PROVIDER",
        "DEC",
        "REC",
        "REASON_PLACE_CHANGE",
        "HOME_POST",
        "PL_POST",
        "URN",
    ),
    TableKind.REVIEWS: ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
    TableKind.UASC: ("CHILD", "SEX", "DOB", "DUC"),
    TableKind.OC2: (
        "CHILD",
        "DOB",
        "SDQ_SCORE",
        "SDQ_REASON",
        "CONVICTED",
        "HEALTH_CHECK",
        "IMMUNISATIONS",
        "TEETH_CHECK",
        "HEALTH_ASSESSMENT",
        "SUBSTANCE_MISUSE",
        "INTERVENTION_RECEIVED",
        "INTERVENTION_OFFERED",
    ),
    TableKind.OC3: ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
    TableKind.AD1: (
        "CHILD",
        "DOB",
        "DATE_INT",
        "DATE_MATCH",
        "FOSTER_CARE",
        "NB_ADOPTR",
        "SEX_ADOPTR",
        "LS_ADOPTR",
    ),
    TableKind.PLACED_ADOPTION: (
        "CHILD",
        "DOB",
        "DATE_PLACED",
        "DATE_PLACED_CEASED",
        "REASON_PLACED_CEASED",
    ),
    TableKind.PREV_PERM: ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"),
    TableKind.MISSING: ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
    TableKind.SW_EPISODES: ("CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"),
    TableKind.DOLO: ("CHILD", "DOB", "DOLO_START", "DOLO_END"),
}

#: Columns an extract may append to any table: the placing authority and the collection
#: year (the Social Finance demand-model extracts carry both). Not part of the DfE return.
EXTRA_COLUMNS: tuple[str, ...] = ("LA", "YEAR")

#: Columns added by the readers: where each row came from (1-based line in the file).
SOURCE_COLUMNS: tuple[str, ...] = ("source_file", "source_line")

#: Episode fields that must not be blank.
_EPISODE_REQUIRED = ("CHILD", "DECOM", "RNE", "LS", "PLACE")
#: Episode code fields and the code list each is checked against (blank allowed unless required).
_EPISODE_CODES = ("RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "REC", "REASON_PLACE_CHANGE")
#: Legacy numeric sex codes (before 2024-25): 1 male, 2 female.
_LEGACY_SEX = {"1": "M", "2": "F", "0": "U", "9": "U"}
#: Personal fields whose values never appear in a message.
_PRIVATE_FIELDS = frozenset({"DOB", "MC_DOB", "HOME_POST", "PL_POST", "UPN"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found while reading a 903 table.

    Attributes
    ----------
    file : str
        The file's name (as given).
    line : int
        1-based line in the file (the column names are line 1); 0 for the whole file.
    field : str
        The 903 column, or ``""`` for the whole row.
    message : str
        What is wrong and what was expected. Never contains a postcode or a date of birth.
    """

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return (
            f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class Ssda903Error(ValueError):
    """Problems in one or more 903 tables, all of them at once.

    Attributes
    ----------
    problems : tuple[Problem, ...]
        Every problem found, in file and line order.
    """

    #: How many problems the message lists before summarising the rest.
    SHOWN = 10

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        shown = "; ".join(str(p) for p in self.problems[: self.SHOWN])
        more = len(self.problems) - self.SHOWN
        tail = f"; and {more} more" if more > 0 else ""
        n = len(self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in SSDA903 data: {shown}{tail}")


class UnrecognisedTableError(ValueError):
    """A file whose columns are not those of any 903 table.

    Attributes
    ----------
    file : str
        The file.
    closest : TableKind | None
        The table whose columns it is nearest to.
    missing, extra : tuple[str, ...]
        Columns of ``closest`` it lacks, and columns it has that ``closest`` does not.
    """

    def __init__(
        self,
        file: str,
        closest: TableKind | None,
        missing: Sequence[str],
        extra: Sequence[str],
        expected: TableKind | None = None,
        *,
        detail: str = "",
    ) -> None:
        self.file = file
        self.detail = detail
        self.closest = closest
        self.missing = tuple(missing)
        self.extra = tuple(extra)
        if expected is not None:
            head = f"{file} is not an SSDA903 {expected.value} table"
        else:
            head = f"{file} is not a recognised SSDA903 table (tables are recognised by columns)"
        parts = [head]
        if closest is not None:
            parts.append(f"closest is {closest.value}")
            if self.missing:
                parts.append("missing columns: " + ", ".join(self.missing))
            if self.extra:
                parts.append("unexpected columns: " + ", ".join(self.extra))
        if detail:
            parts.append(detail)
        super().__init__("; ".join(parts))


@dataclass(frozen=True, slots=True)
class Ssda903Table:
    """One 903 table as read from a file, before typing.

    Attributes
    ----------
    kind : TableKind
        Which table its columns make it.
    path : Path
        The file.
    frame : pandas.DataFrame
        Its cells as stripped strings (blank is ``""``), the table's columns in the
        validator's order, then any of ``LA``/``YEAR`` present, then ``source_file`` and
        ``source_line``.
    extra_columns : tuple[str, ...]
        Which of ``LA``/``YEAR`` the file carries.
    problems : tuple[Problem, ...]
        Rows with the wrong number of cells (left out of ``frame``).
    """

    kind: TableKind
    path: Path
    frame: pd.DataFrame = field(repr=False)
    extra_columns: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    def __post_init__(self) -> None:
        expected = [*TABLE_COLUMNS[self.kind], *self.extra_columns, *SOURCE_COLUMNS]
        if list(self.frame.columns) != expected:
            raise ValueError(f"{self.path}: frame columns do not match a {self.kind} table")


def detect_kind(columns: Iterable[str], *, file: str = "<table>") -> TableKind:
    """The 903 table a set of column names makes.

    Parameters
    ----------
    columns
        The header row (names are stripped and upper-cased; order does not matter).
    file
        Named in the error.

    Raises
    ------
    UnrecognisedTableError
        If the set is not exactly one table's columns (plus optional ``LA``/``YEAR``).
    """
    names = [c.strip().upper() for c in columns]
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise UnrecognisedTableError(
            file, None, (), repeated, detail="repeated columns: " + ", ".join(repeated)
        )
    have = set(names) - set(EXTRA_COLUMNS)
    for kind, cols in TABLE_COLUMNS.items():
        if have == set(cols):
            return kind
    # Nearest table by symmetric difference, to say what differs.
    closest = min(TABLE_COLUMNS, key=lambda k: len(have ^ set(TABLE_COLUMNS[k])))
    want = TABLE_COLUMNS[closest]
    missing = [c for c in want if c not in have]
    extra = [c for c in names if c not in want and c not in EXTRA_COLUMNS]
    raise UnrecognisedTableError(file, closest, missing, extra)


@dataclass(frozen=True, slots=True)
class TextFile:
    """A 903 CSV file held in memory (an upload): its name, which problems give, and its text."""

    name: str
    text: str


#: A 903 file: on disk, or held in memory.
Source: TypeAlias = str | os.PathLike[str] | TextFile


def read_table(path: Source, *, expect: TableKind | None = None) -> Ssda903Table:
    """Read a 903 CSV file, recognising its table by its columns.

    Parameters
    ----------
    path
        A CSV file (UTF-8, with or without a byte-order mark), or its text in memory.
    expect
        If given, the file must be this table.

    Raises
    ------
    UnrecognisedTableError
        If the columns are not a 903 table's (or not ``expect``'s).
    OSError
        If the file cannot be read.
    """
    if isinstance(path, TextFile):
        text = path.text[1:] if path.text.startswith("\ufeff") else path.text
        return _read_table(io.StringIO(text, newline=""), Path(path.name), path.name, expect)
    p = Path(path)
    with p.open(newline="", encoding="utf-8-sig") as fh:
        return _read_table(fh, p, str(path), expect)


def _read_table(
    source: Iterable[str], p: Path, name: str, expect: TableKind | None
) -> Ssda903Table:
    """:func:`read_table` on the file's lines (``name``: how problems name the file)."""
    reader = csv.reader(source)
    try:
        header = next(reader)
    except StopIteration:
        raise UnrecognisedTableError(name, None, (), ()) from None
    try:
        kind = detect_kind(header, file=name)
    except UnrecognisedTableError as exc:
        if expect is None or exc.detail:
            raise
        raise UnrecognisedTableError(
            name, expect, *_diff(header, expect), expected=expect
        ) from None
    if expect is not None and kind is not expect:
        # A whole other table (header and episodes swapped, say): say which it is rather
        # than list every column the two tables do not share.
        raise UnrecognisedTableError(
            name,
            None,
            (),
            (),
            expected=expect,
            detail=f"its columns are those of the {kind.value} table",
        )
    names = [c.strip().upper() for c in header]
    width = len(names)
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            problems.append(
                Problem(name, reader.line_num, "", f"{len(row)} cells; expected {width}")
            )
            continue
        rows.append([cell.strip() for cell in row])
        lines.append(reader.line_num)
    extras = tuple(c for c in EXTRA_COLUMNS if c in names)
    order = [*TABLE_COLUMNS[kind], *extras]
    raw = pd.DataFrame(rows, columns=names, dtype=object) if rows else None
    frame = pd.DataFrame(
        {c: (raw[c] if raw is not None else pd.Series([], dtype=object)) for c in order}
    )
    frame["source_file"] = name
    frame["source_line"] = np.asarray(lines, dtype=np.int64)
    return Ssda903Table(kind, p, frame.reset_index(drop=True), extras, tuple(problems))


def _diff(header: Sequence[str], kind: TableKind) -> tuple[list[str], list[str]]:
    names = [c.strip().upper() for c in header]
    want = TABLE_COLUMNS[kind]
    missing = [c for c in want if c not in names]
    extra = [c for c in names if c not in want and c not in EXTRA_COLUMNS]
    return missing, extra


# --------------------------------------------------------------------------- typing


def _report(
    table: pd.DataFrame,
    mask: pd.Series | np.ndarray,
    column: str,
    message: Callable[[int], str],
    problems: list[Problem],
) -> None:
    """Add a problem for each row where ``mask`` is true; ``message(i)`` words it."""
    rows = np.flatnonzero(np.asarray(mask, dtype=bool)).tolist()
    if not rows:
        return
    files = table["source_file"].tolist()
    lines = table["source_line"].tolist()
    for i in rows:
        problems.append(Problem(str(files[i]), int(lines[i]), column, message(i)))


def _parse_dates(
    values: pd.Series, column: str, table: pd.DataFrame, problems: list[Problem], *, required: bool
) -> pd.Series:
    """``dd/mm/yyyy`` (or ISO) strings to datetime64; blank to NaT; bad ones to problems."""
    text = values.astype(str)
    parsed = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    todo = parsed.isna() & (text != "")
    if todo.any():
        parsed.loc[todo] = pd.to_datetime(text[todo], format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna() & (text != "")
    cells = text.tolist()
    if column in _PRIVATE_FIELDS:
        _report(table, bad, column, lambda i: "not a date; expected dd/mm/yyyy", problems)
    else:
        _report(
            table, bad, column, lambda i: f"not a date {cells[i]!r}; expected dd/mm/yyyy", problems
        )
    if required:
        blank = text == ""
        _report(table, blank, column, lambda i: "blank; a date dd/mm/yyyy is required", problems)
    return parsed.astype("datetime64[ns]")


def _check_codes(
    table: pd.DataFrame,
    column: str,
    allowed: Iterable[str],
    problems: list[Problem],
    *,
    required: bool,
) -> pd.Series:
    """Upper-case a code column and report codes not in ``allowed`` (and blanks if required)."""
    values = table[column].astype(str).str.upper()
    allowed_set = set(allowed)
    bad = ~values.isin(allowed_set) & (values != "")
    listing = ", ".join(sorted(allowed_set))
    cells = values.tolist()
    _report(
        table,
        bad,
        column,
        lambda i: f"unknown code {cells[i]!r}; expected one of {listing}",
        problems,
    )
    if required:
        _report(table, values == "", column, lambda i: "blank; a code is required", problems)
    return values


def _check_required(table: pd.DataFrame, column: str, problems: list[Problem]) -> None:
    blank = table[column].astype(str) == ""
    _report(table, blank, column, lambda i: "blank; a value is required", problems)


def _type_extras(table: pd.DataFrame, out: pd.DataFrame, problems: list[Problem]) -> None:
    if "LA" in table.columns:
        out["LA"] = table["LA"].astype(str)
    if "YEAR" in table.columns:
        year = pd.to_numeric(table["YEAR"], errors="coerce")
        cells = table["YEAR"].tolist()
        _report(table, year.isna(), "YEAR", lambda i: f"not a year: {cells[i]!r}", problems)
        out["YEAR"] = year.astype("Int64")


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        problems.sort(key=lambda p: (p.file, p.line))
        raise Ssda903Error(problems)


def _type_episodes(table: Ssda903Table, problems: list[Problem]) -> pd.DataFrame:
    raw = table.frame
    problems.extend(table.problems)
    out = pd.DataFrame(index=raw.index)
    _check_required(raw, "CHILD", problems)
    out["CHILD"] = raw["CHILD"].astype(str)
    out["DECOM"] = _parse_dates(raw["DECOM"], "DECOM", raw, problems, required=True)
    for column in ("RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER"):
        out[column] = _check_codes(
            raw, column, codes_for(column), problems, required=column in _EPISODE_REQUIRED
        )
    out["DEC"] = _parse_dates(raw["DEC"], "DEC", raw, problems, required=False)
    for column in ("REC", "REASON_PLACE_CHANGE"):
        out[column] = _check_codes(raw, column, codes_for(column), problems, required=False)
    for column in ("HOME_POST", "PL_POST", "URN"):
        out[column] = raw[column].astype(str)
    backwards = out["DEC"] < out["DECOM"]
    children = out["CHILD"].tolist()
    _report(
        raw,
        backwards,
        "DEC",
        lambda i: f"episode of child {children[i]} ends before it starts (DEC < DECOM)",
        problems,
    )
    _type_extras(raw, out, problems)
    out["source_file"] = raw["source_file"]
    out["source_line"] = raw["source_line"]
    return out


def _sex(raw: pd.DataFrame, problems: list[Problem]) -> pd.Series:
    values = raw["SEX"].astype(str).str.upper().replace(_LEGACY_SEX)
    return _check_codes(
        raw.assign(SEX=values), "SEX", codes_for("SEX"), problems, required=True
    ).astype(str)


def read_episodes(
    paths: Source | Sequence[Source],
    *,
    combine: bool = True,
) -> pd.DataFrame:
    """Read one or more episodes tables into one typed frame.

    Parameters
    ----------
    paths
        One file, or several (e.g. one a year). Each must be an episodes table.
    combine
        Drop episodes repeated in a later file or a later ``YEAR`` (same ``LA``, ``CHILD``
        and ``DECOM``), keeping the later row: a later return knows how an episode ended.
        See :func:`combine_episodes`. ``False`` keeps every row.

    Returns
    -------
    pandas.DataFrame
        Columns ``CHILD`` (str), ``DECOM`` and ``DEC`` (datetime64; ``DEC`` NaT while open),
        the code columns (upper-case str, ``""`` when blank), ``HOME_POST``, ``PL_POST``,
        ``URN`` (str), ``LA`` (str) and ``YEAR`` (Int64) when the files carry them, and
        ``source_file``/``source_line``. Sorted by ``LA`` (if any), ``CHILD``, ``DECOM``.

    Raises
    ------
    Ssda903Error
        With every problem in every file (bad dates, unknown codes, blank required fields,
        ragged rows, an episode ending before it starts).
    UnrecognisedTableError
        If a file is not an episodes table.
    """
    files = [paths] if isinstance(paths, str | os.PathLike | TextFile) else list(paths)
    if not files:
        raise ValueError("no episodes files given")
    problems: list[Problem] = []
    frames = [_type_episodes(read_table(f, expect=TableKind.EPISODES), problems) for f in files]
    _raise_if(problems)
    frames = _align_extras(frames)
    if combine:
        return combine_episodes(frames)
    return _sort(pd.concat(frames, ignore_index=True))


def _align_extras(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Give every frame the same LA/YEAR columns (missing ones blank)."""
    present = [c for c in EXTRA_COLUMNS if any(c in f.columns for f in frames)]
    out = []
    for f in frames:
        for c in present:
            if c not in f.columns:
                f = f.assign(**{c: pd.Series([""] * len(f) if c == "LA" else [pd.NA] * len(f))})
                if c == "YEAR":
                    f["YEAR"] = f["YEAR"].astype("Int64")
        out.append(f)
    return out


def _sort(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [k for k in ("LA", "CHILD", "DECOM") if k in frame.columns]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def combine_episodes(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate typed episode frames, keeping the last copy of a repeated episode.

    A yearly return repeats every episode open during that year, so an episode that
    started before 1 April appears in each year's file. The row from the later ``YEAR``
    (when the frames carry one), else from the later frame, wins: it has the later
    ``DEC``/``REC``. An episode is identified by ``LA`` (when present), ``CHILD`` and
    ``DECOM``.
    """
    whole = _latest(pd.concat(_align_extras(list(frames)), ignore_index=True), "DECOM")
    return _sort(whole)


def _latest(whole: pd.DataFrame, *more_keys: str) -> pd.DataFrame:
    """Drop repeated rows (by LA, CHILD and ``more_keys``), keeping the latest YEAR/file."""
    if "YEAR" in whole.columns:
        whole = whole.sort_values("YEAR", kind="stable", na_position="first")
    keys = [k for k in ("LA", "CHILD", *more_keys) if k in whole.columns]
    return whole.drop_duplicates(keys, keep="last")


def read_header(paths: Source | Sequence[Source]) -> pd.DataFrame:
    """Read one or more header tables into one typed frame.

    Returns
    -------
    pandas.DataFrame
        ``CHILD`` (str), ``SEX`` (``M``/``F``/``U``), ``DOB`` and ``MC_DOB`` (datetime64),
        ``ETHNIC`` (upper-case str), ``UPN`` (str), ``MOTHER`` (Int8: 1, 0 or <NA>),
        optional ``LA``/``YEAR``, ``source_file``/``source_line``. When several files repeat
        a child (same ``LA`` and ``CHILD``) the last file's row is kept.

    Raises
    ------
    Ssda903Error
        With every problem found (never echoing a date of birth).
    """
    files = [paths] if isinstance(paths, str | os.PathLike | TextFile) else list(paths)
    if not files:
        raise ValueError("no header files given")
    problems: list[Problem] = []
    frames = []
    for f in files:
        table = read_table(f, expect=TableKind.HEADER)
        raw = table.frame
        problems.extend(table.problems)
        out = pd.DataFrame(index=raw.index)
        _check_required(raw, "CHILD", problems)
        out["CHILD"] = raw["CHILD"].astype(str)
        out["SEX"] = _sex(raw, problems)
        out["DOB"] = _parse_dates(raw["DOB"], "DOB", raw, problems, required=True)
        out["ETHNIC"] = _check_codes(raw, "ETHNIC", codes_for("ETHNIC"), problems, required=False)
        out["UPN"] = raw["UPN"].astype(str)
        mother = raw["MOTHER"].astype(str).replace({"1.0": "1", "0.0": "0"})
        bad = ~mother.isin({"", "0", "1"})
        messages = [f"{c!r}; expected 1, 0 or blank" for c in mother.tolist()]
        _report(raw, bad, "MOTHER", messages.__getitem__, problems)
        out["MOTHER"] = pd.to_numeric(mother.where(~bad, ""), errors="coerce").astype("Int8")
        out["MC_DOB"] = _parse_dates(raw["MC_DOB"], "MC_DOB", raw, problems, required=False)
        _type_extras(raw, out, problems)
        out["source_file"] = raw["source_file"]
        out["source_line"] = raw["source_line"]
        frames.append(out)
    _raise_if(problems)
    whole = _latest(pd.concat(_align_extras(frames), ignore_index=True))
    keys = [k for k in ("LA", "CHILD") if k in whole.columns]
    return whole.sort_values(keys, kind="stable").reset_index(drop=True)


def read_uasc(paths: Source | Sequence[Source]) -> pd.DataFrame:
    """Read one or more UASC tables (``CHILD, SEX, DOB, DUC``) into one typed frame.

    ``DUC`` is the date the child ceased to be an unaccompanied asylum-seeking child
    (normally their 18th birthday). A child repeated across files keeps the last row.
    """
    files = [paths] if isinstance(paths, str | os.PathLike | TextFile) else list(paths)
    if not files:
        raise ValueError("no UASC files given")
    problems: list[Problem] = []
    frames = []
    for f in files:
        table = read_table(f, expect=TableKind.UASC)
        raw = table.frame
        problems.extend(table.problems)
        out = pd.DataFrame(index=raw.index)
        _check_required(raw, "CHILD", problems)
        out["CHILD"] = raw["CHILD"].astype(str)
        out["SEX"] = _sex(raw, problems)
        out["DOB"] = _parse_dates(raw["DOB"], "DOB", raw, problems, required=True)
        out["DUC"] = _parse_dates(raw["DUC"], "DUC", raw, problems, required=False)
        _type_extras(raw, out, problems)
        out["source_file"] = raw["source_file"]
        out["source_line"] = raw["source_line"]
        frames.append(out)
    _raise_if(problems)
    whole = _latest(pd.concat(_align_extras(frames), ignore_index=True))
    keys = [k for k in ("LA", "CHILD") if k in whole.columns]
    return whole.sort_values(keys, kind="stable").reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class Ssda903Return:
    """The typed tables of one or more returns (frames may be empty).

    Attributes
    ----------
    episodes, header, uasc : pandas.DataFrame
        As :func:`read_episodes`, :func:`read_header`, :func:`read_uasc` return them.
    other : tuple[Ssda903Table, ...]
        Any other recognised tables, untyped.
    """

    episodes: pd.DataFrame = field(repr=False)
    header: pd.DataFrame = field(repr=False)
    uasc: pd.DataFrame = field(repr=False)
    other: tuple[Ssda903Table, ...] = ()


def read_return(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> Ssda903Return:
    """Read a set of 903 files (or every ``*.csv`` in a folder), sorting them by table.

    Files are taken in the order given (a folder's in name order, so yearly files
    ``2017-episodes.csv``, ``2018-episodes.csv``, ... combine with the later year winning).

    Raises
    ------
    UnrecognisedTableError
        For the first file that is not a 903 table.
    Ssda903Error
        With every problem in the episodes, header and UASC tables.
    """
    if isinstance(paths, str | os.PathLike) and Path(paths).is_dir():
        files: list[Path] = sorted(Path(paths).glob("*.csv"))
        if not files:
            raise ValueError(f"{paths}: no .csv files in this folder")
    elif isinstance(paths, str | os.PathLike):
        files = [Path(paths)]
    else:
        files = [Path(p) for p in paths]
    by_kind: dict[TableKind, list[Path]] = {}
    for f in files:
        with f.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
        by_kind.setdefault(detect_kind(header, file=str(f)), []).append(f)
    problems: list[Problem] = []

    def _typed(kind: TableKind, reader: Callable[[list[Path]], pd.DataFrame]) -> pd.DataFrame:
        if kind not in by_kind:
            return pd.DataFrame(columns=list(TABLE_COLUMNS[kind]))
        try:
            return reader(by_kind[kind])
        except Ssda903Error as exc:
            problems.extend(exc.problems)
            return pd.DataFrame()

    episodes = _typed(TableKind.EPISODES, read_episodes)
    header_frame = _typed(TableKind.HEADER, read_header)
    uasc = _typed(TableKind.UASC, read_uasc)
    _raise_if(problems)
    other = tuple(
        read_table(f)
        for kind, fs in by_kind.items()
        if kind not in {TableKind.EPISODES, TableKind.HEADER, TableKind.UASC}
        for f in fs
    )
    return Ssda903Return(episodes, header_frame, uasc, other)


# --------------------------------------------------------------------------- queries


def _as_timestamp(at: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    if isinstance(at, str):
        try:
            return pd.Timestamp(dt.date.fromisoformat(at))
        except ValueError:
            raise ValueError(f"not a date {at!r}; expected yyyy-mm-dd") from None
    return pd.Timestamp(at)


def open_episodes(episodes: pd.DataFrame, at: dt.date | str | pd.Timestamp) -> pd.DataFrame:
    """The episode each child is in at the start of day ``at``: one row per child in care.

    An episode is open on ``at`` when ``DECOM <= at`` and (``DEC`` is blank or
    ``DEC > at``): on the day an episode ends the child is in the next one, or has left
    care. If a child has two open episodes (overlapping records) the later ``DECOM`` wins.

    Parameters
    ----------
    episodes
        A frame from :func:`read_episodes`.
    at
        The census date (a date, ``Timestamp`` or ``yyyy-mm-dd``).

    Returns
    -------
    pandas.DataFrame
        The open rows, sorted by ``LA`` (if any) and ``CHILD``, with a ``sufficiency_group``
        column (:func:`matcher.placement_types.sufficiency_group_of_place` of ``PLACE``).
    """
    day = _as_timestamp(at)
    mask = (episodes["DECOM"] <= day) & (episodes["DEC"].isna() | (episodes["DEC"] > day))
    current = episodes.loc[mask]
    keys = [k for k in ("LA", "CHILD") if k in current.columns]
    current = current.sort_values([*keys, "DECOM"], kind="stable").drop_duplicates(
        keys, keep="last"
    )
    current = current.assign(sufficiency_group=placement_groups(current))
    return current.reset_index(drop=True)


def placement_groups(episodes: pd.DataFrame) -> pd.Series:
    """The :class:`SufficiencyGroup` value (a str) of each episode's ``PLACE``."""
    lookup = {code: sufficiency_group_of_place(code).value for code in codes_for("PLACE")}
    return episodes["PLACE"].map(lookup).fillna(SufficiencyGroup.OTHER.value).astype(str)


def authorities_in(episodes: pd.DataFrame) -> tuple[str, ...]:
    """The distinct ``LA`` values of a multi-authority extract (``()`` if it has none)."""
    if "LA" not in episodes.columns:
        return ()
    return tuple(sorted(episodes["LA"].dropna().astype(str).unique()))
