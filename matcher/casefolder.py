"""Reading and writing case folders: ``children.csv``, ``vacancies.csv``, ``policy.toml``
and the optional ``residents.csv`` and ``responses.csv`` (providers' answers to referrals).

Pydantic checks each row at the edge; geography resolves postcodes, authorities and schools
in bulk; then the rows become domain objects. Every problem in every file is collected and
raised at once as a :class:`~matcher.problems.CaseFolderError`, each naming the file, the
line (the header is line 1), the field and what was expected. Nothing is dropped or guessed.
Messages about children never repeat their postcodes, schools, needs or ethnicity: the line
number and ``child_id`` say where to look.

Examples
--------
>>> from matcher.casefolder import load_case_folder
>>> folder = load_case_folder("examples/demo")  # doctest: +SKIP
>>> folder.child("C001").authority.name  # doctest: +SKIP
'Essex'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from geography.authorities import Authority, authority_of_lad, lad_country, lad_name
from geography.authorities import resolve_authority as _resolve_authority
from geography.errors import GeographyError, MalformedPostcodeError
from geography.postcodes import Location, locate_many, normalise_postcode
from geography.schools import School, school
from matcher.bounds import (
    MAX_BEDS,
    MAX_FOSTERED_NOW,
    MAX_NUMBER_DIGITS,
    MAX_VACANCY_NAME,
    MAX_WEEKLY_COST,
)
from matcher.contract import (
    CHILDREN_FILE,
    COLUMNS,
    EXTRA_COLUMNS,
    POLICY_FILE,
    RESIDENTS_FILE,
    RESPONSES_FILE,
    VACANCIES_FILE,
    Column,
    column_names,
)
from matcher.domain import (
    FOSTERING_LIMIT,
    ID_PATTERN,
    OUTCODE_PATTERN,
    CaseFolder,
    Child,
    InvalidFieldError,
    ReferralResponse,
    Resident,
    Vacancy,
    availability_problem,
    child_rule_problems,
    response_problem,
    vacancy_rule_problems,
)
from matcher.files import MAX_CSV_BYTES, MAX_POLICY_BYTES, content_text, read_bytes
from matcher.placement_types import PlacementType
from matcher.policy import Policy, parse_policy
from matcher.problems import CaseFolderError, Problem
from matcher.vocabulary import (
    LIST_SEPARATOR,
    OFSTED_URN_PATTERN,
    Need,
    Ofsted,
    Response,
    ResponseReason,
    RiskFlag,
    Sex,
    Urgency,
    VacancySex,
    normalise_text,
    parse_capability,
    parse_ethnicity,
)

__all__ = [
    "CaseFolderError",
    "Problem",
    "case_folder_rows",
    "load_case_folder",
    "parse_case_folder",
    "write_case_folder",
]

_T = TypeVar("_T")


# --------------------------------------------------------------------------- cell parsers
# Each takes the raw cell text and returns a value or raises ValueError with what was
# expected. No parser echoes a bad value: any cell may hold personal data typed in the
# wrong place (a name in child_id, an address in placement_types), so a message shows at
# most the value's length (:func:`_shape`), and the line and column say where to look.


def _blank(text: object) -> bool:
    return not isinstance(text, str) or not text.strip()


def _shape(value: str) -> str:
    """A bad value described without showing it: its length, for finding it in the cell."""
    n = len(value)
    return f"{n} character{'s' if n != 1 else ''}, value not shown"


def _id(text: str) -> str:
    """An id; a bad one is never echoed, as a person may have typed a name there."""
    value = text.strip()
    if not value:
        raise ValueError("required; expected an id")
    if not ID_PATTERN.fullmatch(value):
        raise ValueError(
            f"not a valid id ({_shape(value)}): expected a non-identifying reference of "
            "letters, digits and _ . - / : (at most 64, no spaces), never a name"
        )
    return value


_private_id = _id


def _optional_id(text: str) -> str | None:
    return None if _blank(text) else _id(text)


def _whole(lo: int, hi: int | None, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = text.strip()
        rng = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
        if not value:
            raise ValueError(f"required; expected {what} {rng}")
        # ASCII digits only: str.isdigit and int() also take Arabic-Indic, full-width and
        # other scripts' digits, which no council system writes and a reader cannot check.
        # The length cap stops a cell of thousands of digits before int() converts it.
        if not (value.isascii() and value.isdigit()):
            raise ValueError(f"not a whole number ({_shape(value)}): expected {what} {rng}")
        if len(value.lstrip("0")) > MAX_NUMBER_DIGITS or not (
            lo <= int(value) and (hi is None or int(value) <= hi)
        ):
            raise ValueError(f"expected {what} {rng}")
        return int(value)

    return parse


def _optional_whole(lo: int, hi: int | None, what: str) -> Callable[[str], int]:
    strict = _whole(lo, hi, what)
    return lambda text: 0 if _blank(text) else strict(text)


def _required_text(text: str) -> str:
    if _blank(text):
        raise ValueError("required; expected a value")
    return " ".join(text.split())


def _optional_text(text: str) -> str | None:
    return None if _blank(text) else normalise_text(text)


def _items(text: str) -> list[str]:
    return [] if _blank(text) else [p.strip() for p in text.split(LIST_SEPARATOR)]


def _expected(exc: ValueError) -> str:
    """The "expected ..." end of a vocabulary error, without the value it quotes first."""
    return "expected" + str(exc).rpartition("; expected")[2]


def _list_of(parse: Callable[[str], _T], what: str) -> Callable[[str], frozenset[_T]]:
    def parse_list(text: str) -> frozenset[_T]:
        values: list[_T] = []
        for position, item in enumerate(_items(text), start=1):
            if not item:
                raise ValueError(f"item {position} is empty; expected {what} separated by ';'")
            try:
                values.append(parse(item))
            except ValueError as exc:  # VocabularyError, or PlacementType's own
                expected = _expected(exc)
                raise ValueError(
                    f"item {position} is not a known value ({_shape(item)}); {expected}"
                ) from None
        return frozenset(values)

    return parse_list


def _enum_cell(parse: Callable[[str], _T]) -> Callable[[str], _T]:
    def parse_cell(text: str) -> _T:
        try:
            return parse(text)
        except ValueError as exc:  # VocabularyError, or PlacementType's own
            expected = _expected(exc)
            if _blank(text):
                raise ValueError(f"required; {expected}") from None
            raise ValueError(f"not a known value ({_shape(text.strip())}); {expected}") from None

    return parse_cell


def _child_postcode(text: str) -> str | None:
    if _blank(text):
        return None
    try:
        return normalise_postcode(text)
    except MalformedPostcodeError:
        raise ValueError(
            "not shaped like a full UK postcode (value not shown): expected e.g. 'CM1 1AA'"
        ) from None


def _vacancy_postcode(text: str) -> str:
    if _blank(text):
        raise ValueError("required; expected a full UK postcode such as 'CM1 1AA'")
    try:
        return normalise_postcode(text)
    except MalformedPostcodeError:
        raise ValueError(
            f"not shaped like a full UK postcode ({_shape(text.strip())}): expected e.g. 'CM1 1AA'"
        ) from None


def _urn(text: str) -> int | None:
    if _blank(text):
        return None
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 100000 <= int(value) <= 999999:
        raise ValueError("expected a six-digit school URN (value not shown)")
    return int(value)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)  # ASCII: \d takes every script's digits


def _date() -> Callable[[str], dt.date | None]:
    """An optional ISO date (``YYYY-MM-DD``); a bad one is never echoed (it may be a birth date)."""

    def parse(text: str) -> dt.date | None:
        if _blank(text):
            return None
        value = text.strip()
        expected = f"({_shape(value)}): expected YYYY-MM-DD (e.g. 2026-03-31) or blank"
        if _ISO_DATE.fullmatch(value) is None:
            raise ValueError(f"not an ISO date {expected}")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a real date {expected}") from None

    return parse


def _urgency(text: str) -> Urgency | None:
    return None if _blank(text) else _enum_cell(Urgency.parse)(text)


def _placement_types(text: str) -> frozenset[PlacementType] | None:
    if _blank(text):
        return None
    return _list_of(PlacementType.parse, "placement types")(text)


def _placement_type(text: str) -> PlacementType:
    if _blank(text):
        allowed = ", ".join(t.value for t in PlacementType)
        raise ValueError(f"required; expected one of: {allowed}")
    return _enum_cell(PlacementType.parse)(text)


def _ethnicity(text: str) -> str | None:
    return None if _blank(text) else _enum_cell(parse_ethnicity)(text)


def _optional_list_text(text: str) -> frozenset[str]:
    return frozenset(normalise_text(t) for t in _items(text) if t)


def _raw_list(text: str) -> tuple[str, ...]:
    items = _items(text)
    if any(not i for i in items):
        raise ValueError("an item is empty; expected values separated by ';'")
    return tuple(items)


def _optional_bool(text: str) -> bool | None:
    if _blank(text):
        return None
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ValueError(
            f"not true or false ({_shape(text.strip())}): expected true, false or blank"
        )
    return value == "true"


def _v(parse: Callable[[str], Any]) -> BeforeValidator:
    return BeforeValidator(parse)


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChildRow(_Row):
    """One row of ``children.csv`` after checking each cell (geography still unresolved)."""

    child_id: Annotated[str, _v(_id)]
    age: Annotated[int, _v(_whole(0, 17, "a whole number of years"))]
    sex: Annotated[Sex, _v(_enum_cell(Sex.parse))]
    home_postcode: Annotated[str | None, _v(_child_postcode)]
    la: Annotated[str, _v(_required_text)]
    school_urn: Annotated[int | None, _v(_urn)]
    sibling_group: Annotated[str | None, _v(_optional_id)]
    needs: Annotated[frozenset[Need], _v(_list_of(Need.parse, "needs"))]
    placement_types: Annotated[frozenset[PlacementType] | None, _v(_placement_types)]
    ethnicity: Annotated[str | None, _v(_ethnicity)]
    religion: Annotated[str | None, _v(_optional_text)]
    language: Annotated[str | None, _v(_optional_text)]
    avoid_areas: Annotated[tuple[str, ...], _v(_raw_list)]
    needed_by: Annotated[dt.date | None, _v(_date())]
    urgency: Annotated[Urgency | None, _v(_urgency)]
    risk_flags: Annotated[frozenset[RiskFlag], _v(_list_of(RiskFlag.parse, "risk flags"))]
    home_postcode_unknown: Annotated[bool | None, _v(_optional_bool)]


def _ofsted_urn(text: str) -> str | None:
    if _blank(text):
        return None
    value = text.strip().upper()
    if OFSTED_URN_PATTERN.fullmatch(value) is None:
        raise ValueError(
            f"not an Ofsted URN ({_shape(text.strip())}): expected 'SC' and six digits "
            "(e.g. SC123456) or seven digits (e.g. 2512345), or blank"
        )
    return value


def _vacancy_name(text: str) -> str | None:
    """A provider's or carer's name: kept as written (case and all), inner spaces collapsed."""
    if _blank(text):
        return None
    value = " ".join(text.split())
    if len(value) > MAX_VACANCY_NAME:
        # the length only: a carer's name is personal data, never echoed
        raise ValueError(
            f"{len(value)} characters: expected a name of up to {MAX_VACANCY_NAME}, or blank"
        )
    if not value.isprintable():
        raise ValueError("holds a control character: expected printable text, or blank")
    return value


class VacancyRow(_Row):
    """One row of ``vacancies.csv`` after checking each cell (geography still unresolved)."""

    vacancy_id: Annotated[str, _v(_id)]
    provider_id: Annotated[str, _v(_id)]
    placement_type: Annotated[PlacementType, _v(_placement_type)]
    postcode: Annotated[str, _v(_vacancy_postcode)]
    beds: Annotated[int, _v(_whole(1, MAX_BEDS, "a whole number"))]
    age_min: Annotated[int, _v(_whole(0, 25, "a whole number of years"))]
    age_max: Annotated[int, _v(_whole(0, 25, "a whole number of years"))]
    sex: Annotated[VacancySex, _v(_enum_cell(VacancySex.parse))]
    capabilities: Annotated[
        frozenset[Need | RiskFlag],
        _v(_list_of(parse_capability, "capabilities or risk flags")),
    ]
    ofsted: Annotated[Ofsted, _v(_enum_cell(Ofsted.parse))]
    weekly_cost: Annotated[int, _v(_whole(0, MAX_WEEKLY_COST, "whole pounds"))]
    connected_to: Annotated[frozenset[str], _v(_list_of(_id, "child_ids"))]
    fostered_now: Annotated[int, _v(_optional_whole(0, MAX_FOSTERED_NOW, "a whole number"))]
    ethnicity: Annotated[frozenset[str], _v(_list_of(parse_ethnicity, "SSDA903 ETHNIC codes"))]
    religion: Annotated[str | None, _v(_optional_text)]
    languages: Annotated[frozenset[str], _v(_optional_list_text)]
    urn: Annotated[str | None, _v(_ofsted_urn)]
    available_from: Annotated[dt.date | None, _v(_date())]
    available_until: Annotated[dt.date | None, _v(_date())]
    owner_la: Annotated[str | None, _v(_optional_text)]
    offered_to_pool: Annotated[bool | None, _v(_optional_bool)]
    name: Annotated[str | None, _v(_vacancy_name)]


def _response_reason(text: str) -> ResponseReason | None:
    return None if _blank(text) else _enum_cell(ResponseReason.parse)(text)


class ResponseRow(_Row):
    """One row of ``responses.csv`` after checking each cell."""

    vacancy_id: Annotated[str, _v(_id)]
    child_id: Annotated[str, _v(_id)]
    response: Annotated[Response, _v(_enum_cell(Response.parse))]
    reason: Annotated[ResponseReason | None, _v(_response_reason)]


class ResidentRow(_Row):
    """One row of ``residents.csv`` (a child living with a provider now; no name).

    Its cells are a child's: the age, sex, needs and risk flags are never echoed.
    """

    provider_id: Annotated[str, _v(_id)]
    resident_ref: Annotated[str, _v(_private_id)]
    age: Annotated[int, _v(_whole(0, 25, "a whole number of years"))]
    sex: Annotated[Sex, _v(_enum_cell(Sex.parse))]
    needs: Annotated[frozenset[Need], _v(_list_of(Need.parse, "needs"))]
    risk_flags: Annotated[frozenset[RiskFlag], _v(_list_of(RiskFlag.parse, "risk flags"))]


_MODELS: dict[str, type[_Row]] = {
    CHILDREN_FILE: ChildRow,
    VACANCIES_FILE: VacancyRow,
    RESPONSES_FILE: ResponseRow,
    RESIDENTS_FILE: ResidentRow,
}


# --------------------------------------------------------------------------- reading CSV


@dataclass(frozen=True, slots=True)
class _Raw:
    line: int
    cells: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """A file that is there but could not be read (a folder, a FIFO, too big): why not."""

    problems: tuple[Problem, ...]


#: A case folder's files by name: their bytes or text, or why one on disk could not be read.
_Files = Mapping[str, "str | bytes | _Unreadable"]


def _read_csv(
    name: str,
    content: str | bytes | _Unreadable | None,
    columns: Sequence[Column],
    *,
    rows_required: bool = True,
) -> tuple[list[_Raw], list[Problem], list[Problem]]:
    """Rows of one file, with its problems and warnings. Rows are skipped only with a problem.

    ``content``: the file's bytes or text, ``None`` when there is no such file.
    ``rows_required``: a file of a header and no rows is a problem (else it holds nothing).
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if content is None:
        return [], [Problem(name, None, None, "file not found; every case folder needs it")], []
    if isinstance(content, _Unreadable):
        return [], list(content.problems), []
    try:
        text = content_text(content, name, limit=MAX_CSV_BYTES, save_as="save it as CSV UTF-8")
    except CaseFolderError as exc:
        return [], list(exc.problems), []
    # The csv module's own cap on a cell (128 KiB) would refuse a long cell without naming
    # its column; the file's size cap bounds every cell instead, and the cell's parser then
    # refuses it by column. Raising the process-wide cap only ever accepts more.
    if csv.field_size_limit() < MAX_CSV_BYTES:
        csv.field_size_limit(MAX_CSV_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [Problem(name, 1, None, f"not readable as CSV: {exc}")], []
    if header is None or not any(h.strip() for h in header):
        return [], [Problem(name, None, None, "empty file; expected a header line and rows")], []
    names = [h.strip().lower() for h in header]
    known = {c.name for c in columns}
    for position, h in enumerate(names, start=1):
        if not h:
            problems.append(Problem(name, 1, None, f"column {position} has no name"))
        elif names.index(h) != position - 1:
            problems.append(Problem(name, 1, h, "column appears more than once"))
        elif h not in known and h not in EXTRA_COLUMNS.get(name, {}):
            warnings.append(
                Problem(
                    name,
                    1,
                    h,
                    "unknown column, ignored; the contract's columns are: "
                    + ", ".join(c.name for c in columns),
                )
            )
    for c in columns:
        if c.required and c.name not in names:
            problems.append(Problem(name, 1, c.name, "required column is missing"))
    rows: list[_Raw] = []
    line = reader.line_num
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            if not record or not any(cell.strip() for cell in record):
                continue  # a blank line is not a row
            if len(record) != len(names):
                problems.append(
                    Problem(
                        name,
                        start,
                        None,
                        f"row has {len(record)} cells; expected {len(names)} like the header",
                    )
                )
                continue
            cells = {c.name: "" for c in columns}
            cells.update({h: v for h, v in zip(names, record, strict=True) if h in known})
            rows.append(_Raw(start, cells))
    except csv.Error as exc:
        problems.append(Problem(name, line + 1, None, f"not readable as CSV: {exc}"))
    if not rows and not problems and rows_required:
        problems.append(
            Problem(name, None, None, "no rows; expected at least one after the header")
        )
    if any(p.line == 1 and p.field in known and "missing" in p.message for p in problems):
        return [], problems, warnings  # rows would only repeat the missing column's problem
    return rows, problems, warnings


@dataclass(frozen=True, slots=True)
class _Partial:
    """A row that failed its checks: the cells that passed, parsed (by column name).

    Its postcode, authority and school are still looked up and the rules between its
    fields still checked where their cells passed, so that every problem on a line is
    reported in one run rather than one layer at a time.
    """

    line: int
    cells: dict[str, Any]

    def has(self, *names: str) -> bool:
        """Whether all these cells passed their own checks."""
        return all(n in self.cells for n in names)


def _parse_cell(model: type[_Row], name: str, text: str) -> Any:
    """One cell through its column's parser (the ``BeforeValidator`` of the row model)."""
    for item in model.model_fields[name].metadata:
        if isinstance(item, BeforeValidator):
            parse = cast(Callable[[str], Any], item.func)  # ours take the cell text only
            return parse(text)
    return text  # pragma: no cover - every column has a parser


def _check_rows(
    file: str, raws: Iterable[_Raw]
) -> tuple[list[tuple[int, Any]], list[_Partial], list[Problem]]:
    model = _MODELS[file]
    parsed: list[tuple[int, Any]] = []
    partial: list[_Partial] = []
    problems: list[Problem] = []
    for raw in raws:
        try:
            parsed.append((raw.line, model.model_validate(raw.cells)))
        except ValidationError as exc:
            failed: set[str] = set()
            for err in exc.errors(include_url=False):
                field = str(err["loc"][0]) if err["loc"] else None
                ctx_error = (err.get("ctx") or {}).get("error")
                message = str(ctx_error) if ctx_error is not None else err["msg"]
                problems.append(Problem(file, raw.line, field, message))
                failed.add(field or "")
            # The parsers cannot fail here: pydantic ran the same ones on these cells.
            cells = {
                name: _parse_cell(model, name, raw.cells[name])
                for name in model.model_fields
                if name not in failed
            }
            partial.append(_Partial(raw.line, cells))
    return parsed, partial, problems


# --------------------------------------------------------------------------- geography


def _locate_all(postcodes: Iterable[str]) -> dict[str, Location | None]:
    """Locate normalised postcodes in one vectorised call; ``None`` for those not found."""
    unique = sorted(set(postcodes))
    if not unique:
        return {}
    arrays = locate_many(unique, errors="coerce")
    found: dict[str, Location | None] = {}
    for i, postcode in enumerate(unique):
        if not arrays.found[i]:
            found[postcode] = None
            continue
        lad = str(arrays.lad_codes[i])
        country = lad_country(lad)
        found[postcode] = Location(
            postcode=postcode,
            lat=float(arrays.lat[i]),
            lon=float(arrays.lon[i]),
            easting=float(arrays.easting[i]),
            northing=float(arrays.northing[i]),
            lad_code=lad,
            lad_name=lad_name(lad),
            authority=authority_of_lad(lad) if country == "England" else None,
            country=country,
            precision="postcode",
        )
    return found


def _resolve_authorities(texts: Iterable[str]) -> dict[str, Authority | str]:
    """Each text's authority, or the error message saying why it is not one."""
    out: dict[str, Authority | str] = {}
    for text in set(texts):
        try:
            out[text] = _resolve_authority(text)
        except GeographyError as exc:
            # A retired authority, a district or a Welsh or Scottish area is a real place
            # named in the geography message, which helps; anything else may be what a person
            # typed there, so it is described, not quoted (nor "did you mean" near it).
            message = str(exc)
            out[text] = (
                f"not an authority ({_shape(text.strip())}): expected the ONS code "
                "(E10000012), DfE number (881) or name (Essex) of one of the 153 English "
                "children's services authorities"
                if message.startswith("unknown authority")
                else message
            )
    return out


def _resolve_schools(urns: Iterable[int]) -> dict[int, School | None]:
    out: dict[int, School | None] = {}
    for urn in set(urns):
        try:
            out[urn] = school(urn)
        except GeographyError:
            out[urn] = None
    return out


# --------------------------------------------------------------------------- loading


def _domain_problem(file: str, line: int, exc: ValueError) -> Problem:
    if isinstance(exc, InvalidFieldError):
        return Problem(file, line, exc.field, exc.message)
    return Problem(file, line, None, str(exc))


def _build_children(
    rows: list[tuple[int, ChildRow]], partial: list[_Partial], problems: list[Problem]
) -> list[tuple[int, Child]]:
    f = CHILDREN_FILE
    # Rows that failed their own checks (``partial``) still have their postcode, authority
    # and school looked up, so that every problem on a line is reported in one run.
    cells: list[tuple[int, str | None, str | None, int | None, tuple[str, ...]]] = [
        (line, r.home_postcode, r.la, r.school_urn, r.avoid_areas) for line, r in rows
    ]
    cells += [
        (
            p.line,
            p.cells.get("home_postcode"),
            p.cells.get("la"),
            p.cells.get("school_urn"),
            p.cells.get("avoid_areas", ()),
        )
        for p in partial
    ]
    locations = _locate_all(postcode for _, postcode, _, _, _ in cells if postcode)
    authority_texts = [la for _, _, la, _, _ in cells if la is not None]
    authority_texts += [a for *_, avoid in cells for a in avoid if not _is_outcode(a)]
    authorities = _resolve_authorities(authority_texts)
    schools = _resolve_schools(urn for _, _, _, urn, _ in cells if urn is not None)
    resolved: dict[int, tuple[Any, ...]] = {}
    for line, postcode, la, urn, avoid in cells:
        before = len(problems)
        home = None
        if postcode is not None:
            home = locations[postcode]
            if home is None:
                problems.append(
                    Problem(
                        f,
                        line,
                        "home_postcode",
                        "postcode not found in the ONS postcode directory (value not shown); "
                        "expected a current, full UK postcode",
                    )
                )
        authority = None if la is None else authorities[la]
        if isinstance(authority, str):
            problems.append(Problem(f, line, "la", authority))
        school = None
        if urn is not None:
            school = schools[urn]
            if school is None:
                problems.append(
                    Problem(
                        f,
                        line,
                        "school_urn",
                        "no school with this URN in the DfE schools list (value not shown); "
                        "expected the URN of the child's current school, or blank",
                    )
                )
        avoid_las: set[Authority] = set()
        avoid_outcodes: set[str] = set()
        for position, item in enumerate(avoid, start=1):
            if _is_outcode(item):
                avoid_outcodes.add(item.upper())
                continue
            found = authorities[item]
            if isinstance(found, str):
                problems.append(
                    Problem(
                        f,
                        line,
                        "avoid_areas",
                        f"item {position} is neither a postcode district (e.g. CM1) nor an "
                        "authority (ONS code, DfE number or name)",
                    )
                )
            else:
                avoid_las.add(found)
        if len(problems) == before:
            resolved[line] = (home, authority, school, avoid_las, avoid_outcodes)
    for p in partial:
        if p.has("age", "home_postcode", "needs", "placement_types", "home_postcode_unknown"):
            problems += [
                Problem(f, p.line, field, message)
                for field, message in child_rule_problems(
                    age=p.cells["age"],
                    has_home=p.cells["home_postcode"] is not None,
                    needs=p.cells["needs"],
                    requested=p.cells["placement_types"],
                    home_unknown=bool(p.cells["home_postcode_unknown"]),
                )
            ]
    children: list[tuple[int, Child]] = []
    for line, r in rows:
        rules = child_rule_problems(
            age=r.age,
            has_home=r.home_postcode is not None,
            needs=r.needs,
            requested=r.placement_types,
            home_unknown=bool(r.home_postcode_unknown),
        )
        problems += [Problem(f, line, field, message) for field, message in rules]
        if rules or line not in resolved:
            continue
        home, authority, school, avoid_las, avoid_outcodes = resolved[line]
        try:
            child = Child(
                child_id=r.child_id,
                age=r.age,
                sex=r.sex,
                authority=authority,
                home=home,
                school=school,
                sibling_group=r.sibling_group,
                needs=r.needs,
                requested_placement_types=r.placement_types,
                ethnicity=r.ethnicity,
                religion=r.religion,
                language=r.language,
                avoid_authorities=frozenset(avoid_las),
                avoid_outcodes=frozenset(avoid_outcodes),
                needed_by=r.needed_by,
                urgency=r.urgency,
                risk_flags=r.risk_flags,
                home_unknown=bool(r.home_postcode_unknown),
            )
        except ValueError as exc:
            problems.append(_domain_problem(f, line, exc))
            continue
        children.append((line, child))
    return children


def _is_outcode(text: str) -> bool:
    return OUTCODE_PATTERN.fullmatch(text.strip().upper()) is not None


def _build_vacancies(
    rows: list[tuple[int, VacancyRow]], partial: list[_Partial], problems: list[Problem]
) -> list[tuple[int, Vacancy]]:
    f = VACANCIES_FILE
    cells = [(line, r.postcode) for line, r in rows]
    cells += [(p.line, p.cells["postcode"]) for p in partial if p.has("postcode")]
    locations = _locate_all(postcode for _, postcode in cells)
    owner_cells = [(line, r.owner_la) for line, r in rows if r.owner_la is not None]
    owner_cells += [
        (p.line, p.cells["owner_la"]) for p in partial if p.cells.get("owner_la") is not None
    ]
    owners = _resolve_authorities(text for _, text in owner_cells)
    for line, text in owner_cells:
        found = owners[text]
        if isinstance(found, str):
            problems.append(Problem(f, line, "owner_la", found))
    for line, postcode in cells:
        if locations[postcode] is None:
            problems.append(
                Problem(
                    f,
                    line,
                    "postcode",
                    "postcode not found in the ONS postcode directory, or it has no grid "
                    "reference (value not shown); expected a current, full UK postcode",
                )
            )
    for p in partial:
        if p.has("placement_type", "age_min", "age_max", "connected_to"):
            problems += [
                Problem(f, p.line, field, message)
                for field, message in vacancy_rule_problems(
                    placement_type=p.cells["placement_type"],
                    age_min=p.cells["age_min"],
                    age_max=p.cells["age_max"],
                    connected_to=p.cells["connected_to"],
                    ofsted=p.cells.get("ofsted"),
                )
            ]
    for p in partial:
        if p.has("available_from", "available_until"):
            problem = availability_problem(p.cells["available_from"], p.cells["available_until"])
            if problem is not None:
                problems.append(Problem(f, p.line, "available_until", problem))
    vacancies: list[tuple[int, Vacancy]] = []
    for line, r in rows:
        rules = vacancy_rule_problems(
            placement_type=r.placement_type,
            age_min=r.age_min,
            age_max=r.age_max,
            connected_to=r.connected_to,
            ofsted=r.ofsted,
        )
        problems += [Problem(f, line, field, message) for field, message in rules]
        location = locations[r.postcode]
        owner = None if r.owner_la is None else owners[r.owner_la]
        if rules or location is None or isinstance(owner, str):
            continue
        try:
            vacancy = Vacancy(
                vacancy_id=r.vacancy_id,
                provider_id=r.provider_id,
                placement_type=r.placement_type,
                location=location,
                beds=r.beds,
                age_min=r.age_min,
                age_max=r.age_max,
                sex=r.sex,
                ofsted=r.ofsted,
                weekly_cost=r.weekly_cost,
                capabilities=frozenset(n for n in r.capabilities if isinstance(n, Need)),
                manages=frozenset(n for n in r.capabilities if isinstance(n, RiskFlag)),
                connected_to=r.connected_to,
                fostered_now=r.fostered_now,
                ethnicity=r.ethnicity,
                religion=r.religion,
                languages=r.languages,
                available_from=r.available_from,
                available_until=r.available_until,
                owner=owner,
                offered_to_pool=r.offered_to_pool,
                name=r.name,
            )
        except ValueError as exc:
            problems.append(_domain_problem(f, line, exc))
            continue
        vacancies.append((line, vacancy))
    return vacancies


def _duplicates(file: str, field: str, ids: list[tuple[int, str]]) -> list[Problem]:
    lines: dict[str, list[int]] = defaultdict(list)
    for line, value in ids:
        lines[value].append(line)
    problems = []
    for value, where in lines.items():
        for line in where[1:]:
            shown = f"{value!r} repeats" if ID_PATTERN.fullmatch(value) else "repeats"
            problems.append(
                Problem(file, line, field, f"{shown} line {where[0]}; expected unique ids")
            )
    return problems


def _cross_checks(
    raw_ids: dict[str, list[tuple[int, str]] | None],
    child_rows: list[tuple[int, ChildRow]],
    vacancy_rows: list[tuple[int, VacancyRow]],
    vacancy_partial: list[_Partial],
    children: list[tuple[int, Child]],
    vacancies: list[tuple[int, Vacancy]],
    problems: list[Problem],
    warnings: list[Problem],
) -> None:
    child_ids, vacancy_ids = raw_ids[CHILDREN_FILE], raw_ids[VACANCIES_FILE]
    problems += _duplicates(CHILDREN_FILE, "child_id", child_ids or [])
    problems += _duplicates(VACANCIES_FILE, "vacancy_id", vacancy_ids or [])
    # Checked against every child row, valid or not, and skipped when children.csv itself
    # could not be read: either way a problem there must not echo here.
    known_children = None if child_ids is None else {i for _, i in child_ids}
    connected = [(line, vr.connected_to) for line, vr in vacancy_rows]
    connected += [
        (p.line, p.cells["connected_to"]) for p in vacancy_partial if p.has("connected_to")
    ]
    for line, connected_to in sorted(connected) if known_children is not None else ():
        unknown = sorted(connected_to - known_children)  # type: ignore[operator]
        if unknown:
            problems.append(
                Problem(
                    VACANCIES_FILE,
                    line,
                    "connected_to",
                    f"names children not in {CHILDREN_FILE}: {', '.join(unknown)}; "
                    "expected child_ids of children in this folder",
                )
            )
    groups: dict[str, list[tuple[int, Child]]] = defaultdict(list)
    for line, c in children:
        if c.sibling_group is not None:
            groups[c.sibling_group].append((line, c))
    for gid, members in sorted(groups.items()):
        if len({c.authority for _, c in members}) > 1:
            first_authority = members[0][1].authority
            for line, c in members[1:]:
                if c.authority != first_authority:
                    problems.append(
                        Problem(
                            CHILDREN_FILE,
                            line,
                            "sibling_group",
                            f"sibling group {gid!r} spans authorities: child {c.child_id} has a "
                            f"different la from child {members[0][1].child_id} (line "
                            f"{members[0][0]}); expected one responsible authority per group",
                        )
                    )
    group_sizes: dict[str, list[int]] = defaultdict(list)
    for line, r in child_rows:
        if r.sibling_group is not None:
            group_sizes[r.sibling_group].append(line)
    for gid, lines in sorted(group_sizes.items()):
        if len(lines) == 1:
            warnings.append(
                Problem(
                    CHILDREN_FILE,
                    lines[0],
                    "sibling_group",
                    f"sibling group {gid!r} has only one child in this folder",
                )
            )
    by_provider: dict[str, list[tuple[int, Vacancy]]] = defaultdict(list)
    for line, v in vacancies:
        by_provider[v.provider_id].append((line, v))
    for pid, held in sorted(by_provider.items()):
        first_line, first = held[0]
        for line, v in held[1:]:
            for field in ("postcode", "fostered_now"):
                if getattr(v, field) != getattr(first, field):
                    problems.append(
                        Problem(
                            VACANCIES_FILE,
                            line,
                            field,
                            f"provider {pid!r} has a different {field} on line {first_line}; "
                            "expected one value per household, home or unit",
                        )
                    )


def _region_checks(
    vacancy_rows: list[tuple[int, VacancyRow]],
    vacancy_partial: list[_Partial],
    children: list[tuple[int, Child]],
    problems: list[Problem],
) -> None:
    """A pooled folder: every vacancy names its owner, and every child is of an owner.

    A folder is pooled when any vacancy names its ``owner_la``; its region is then the set of
    authorities owning its vacancies. A blank owner beside filled ones is a row whose owner is
    unknown, so it is an error rather than a guess. The children are checked only when every
    owner resolved (an owner that did not is reported on its own line, and a child of that
    authority must not be reported twice).
    """
    owners = [(line, r.owner_la) for line, r in vacancy_rows]
    owners += [(p.line, p.cells["owner_la"]) for p in vacancy_partial if p.has("owner_la")]
    named = sorted((line, text) for line, text in owners if text is not None)
    if not named:
        return
    first_line = named[0][0]
    for line, text in sorted(owners):
        if text is None:
            problems.append(
                Problem(
                    VACANCIES_FILE,
                    line,
                    "owner_la",
                    f"blank, but other vacancies name their owner (first on line {first_line}); "
                    "expected the authority that owns or commissions every vacancy of a pooled "
                    "folder",
                )
            )
    resolved = _resolve_authorities(text for _, text in named)
    region = {a for a in resolved.values() if not isinstance(a, str)}
    # One provider (a fostering household, a home) is owned or commissioned by one authority:
    # two owners for one provider_id would let its beds be kept back and offered at once.
    first_owner: dict[str, tuple[int, Authority]] = {}
    for line, r in sorted(vacancy_rows, key=lambda item: item[0]):
        owner = None if r.owner_la is None else resolved.get(r.owner_la)
        if owner is None or isinstance(owner, str):
            continue
        seen = first_owner.setdefault(r.provider_id, (line, owner))
        if seen[1] != owner:
            problems.append(
                Problem(
                    VACANCIES_FILE,
                    line,
                    "owner_la",
                    f"{owner.name}, but provider {r.provider_id} is owned by {seen[1].name} on "
                    f"line {seen[0]}; expected one owner_la for every vacancy of a provider",
                )
            )
    if any(isinstance(a, str) for a in resolved.values()):
        return
    listed = ", ".join(a.name for a in sorted(region, key=lambda a: a.name))
    for line, c in children:
        if c.authority not in region:
            problems.append(
                Problem(
                    CHILDREN_FILE,
                    line,
                    "la",
                    f"{c.authority.name} ({c.authority.ons_code}) is outside this folder's "
                    f"region: no vacancy in {VACANCIES_FILE} has it as owner_la; expected one "
                    f"of the pooled authorities ({listed})",
                )
            )


def _override_problems(policy: Policy, vacancies: list[Vacancy]) -> list[Problem]:
    """The ``[authority."NAME"]`` tables of ``policy.toml``: each names an authority of the
    pooled folder's region (the owners in ``owner_la``), and no authority twice."""
    if not policy.overrides:
        return []
    region = {v.owner for v in vacancies if v.owner is not None}
    resolved = _resolve_authorities(o.authority for o in policy.overrides)
    problems: list[Problem] = []
    seen: dict[Authority, str] = {}
    for o in policy.overrides:
        where = f'authority."{o.authority}"'
        found = resolved[o.authority]
        if isinstance(found, str):
            problems.append(Problem(POLICY_FILE, None, where, found))
        elif not region:
            problems.append(
                Problem(
                    POLICY_FILE,
                    None,
                    where,
                    "per-authority tables need a pooled folder (vacancies naming their "
                    f"owner_la in {VACANCIES_FILE}); this folder names none",
                )
            )
        elif found not in region:
            listed = ", ".join(a.name for a in sorted(region, key=lambda a: a.name))
            problems.append(
                Problem(
                    POLICY_FILE,
                    None,
                    where,
                    f"{found.name} is not of this folder's region; expected one of the "
                    f"pooled authorities ({listed})",
                )
            )
        elif found in seen:
            problems.append(
                Problem(
                    POLICY_FILE,
                    None,
                    where,
                    f'{found.name} has a table already (authority."{seen[found]}"); '
                    "expected one table per authority",
                )
            )
        else:
            seen[found] = o.authority
    return problems


def _load_responses(
    content: str | bytes | _Unreadable,
    raw_ids: dict[str, list[tuple[int, str]] | None],
    problems: list[Problem],
    warnings: list[Problem],
) -> list[ReferralResponse]:
    """The rows of ``responses.csv``, each checked against the folder's children and
    vacancies (an unknown id, a repeated pair or a decline without a reason is a problem)."""
    f = RESPONSES_FILE
    raws, file_problems, file_warnings = _read_csv(f, content, COLUMNS[f], rows_required=False)
    problems += file_problems
    warnings += file_warnings
    rows, partial, row_problems = _check_rows(f, raws)
    problems += row_problems
    # Ids are checked against every row of children.csv and vacancies.csv, valid or not,
    # and not at all when that file could not be read (its own problem says why).
    for column, file in (("vacancy_id", VACANCIES_FILE), ("child_id", CHILDREN_FILE)):
        known = raw_ids.get(file)
        if known is None:
            continue
        ids = {i for _, i in known}
        for raw in raws:
            value = raw.cells[column].strip()
            if value and ID_PATTERN.fullmatch(value) and value not in ids:
                problems.append(
                    Problem(
                        f,
                        raw.line,
                        column,
                        f"{value!r} is not a {column} of {file}; expected one of this folder's",
                    )
                )
    first: dict[tuple[str, str], int] = {}
    for raw in raws:
        key = (raw.cells["vacancy_id"].strip(), raw.cells["child_id"].strip())
        if not all(ID_PATTERN.fullmatch(k) for k in key):
            continue  # a bad id is reported on its own, and must not be echoed here
        if key in first:
            problems.append(
                Problem(
                    f,
                    raw.line,
                    "vacancy_id",
                    f"vacancy {key[0]!r} and child {key[1]!r} repeat line {first[key]}; "
                    "expected one response per vacancy and child (keep the latest answer)",
                )
            )
        else:
            first[key] = raw.line
    pairs = [(line, r.response, r.reason) for line, r in rows]
    pairs += [
        (p.line, p.cells["response"], p.cells["reason"])
        for p in partial
        if p.has("response", "reason")
    ]
    for line, response, reason in pairs:
        problem = response_problem(response, reason)
        if problem is not None:
            problems.append(Problem(f, line, "reason", problem))
    return [
        ReferralResponse(r.vacancy_id, r.child_id, r.response, r.reason)
        for _, r in rows
        if response_problem(r.response, r.reason) is None
    ]


def _load_residents(
    content: str | bytes | _Unreadable | None,
    provider_ids: set[str] | None,
    problems: list[Problem],
    warnings: list[Problem],
) -> list[Resident]:
    """The rows of the optional ``residents.csv`` (none without the file).

    ``provider_ids``: every ``provider_id`` of ``vacancies.csv``, valid row or not; ``None``
    when that file could not be read (its own problem is reported; none is repeated here).
    A header without rows is a folder whose providers have nobody living there.
    """
    if content is None:
        return []
    f = RESIDENTS_FILE
    raws, file_problems, file_warnings = _read_csv(f, content, COLUMNS[f])
    # Unlike children and vacancies, an empty residents.csv says something true: nobody lives
    # with any of the providers.
    problems += [p for p in file_problems if not p.message.startswith("no rows")]
    warnings += file_warnings
    rows, _, row_problems = _check_rows(f, raws)
    problems += row_problems
    seen: dict[tuple[str, str], int] = {}
    residents: list[Resident] = []
    for raw in raws:
        pid, ref = raw.cells["provider_id"].strip(), raw.cells["resident_ref"].strip()
        known = provider_ids is None or not ID_PATTERN.fullmatch(pid) or pid in provider_ids
        if not known:
            problems.append(
                Problem(
                    f,
                    raw.line,
                    "provider_id",
                    f"{pid!r} is not a provider_id of {VACANCIES_FILE}; expected the "
                    "home or household the child lives in",
                )
            )
        if ID_PATTERN.fullmatch(pid) and ID_PATTERN.fullmatch(ref):
            first = seen.setdefault((pid, ref), raw.line)
            if first != raw.line:
                problems.append(
                    Problem(
                        f,
                        raw.line,
                        "resident_ref",
                        f"repeats line {first} for provider {pid!r}; expected one row per resident",
                    )
                )
    for line, r in rows:
        try:
            residents.append(
                Resident(
                    provider_id=r.provider_id,
                    resident_ref=r.resident_ref,
                    age=r.age,
                    sex=r.sex,
                    needs=r.needs,
                    risk_flags=r.risk_flags,
                )
            )
        except ValueError as exc:  # pragma: no cover - the row's parsers check the same
            problems.append(_domain_problem(f, line, exc))
    return residents


def _fostered_now_warnings(
    vacancies: list[tuple[int, Vacancy]], residents: list[Resident]
) -> list[Problem]:
    """A foster household over the fostering limit already, or listing more residents than its
    ``fostered_now``: warnings, the latter as
    the fostering limit counts ``fostered_now`` (a resident may be a young person staying
    put, not fostered), on the household's first line in ``vacancies.csv``."""
    living: dict[str, int] = defaultdict(int)
    for r in residents:
        living[r.provider_id] += 1
    out: list[Problem] = []
    seen: set[str] = set()
    for line, v in vacancies:
        if v.provider_id in seen or not v.is_fostering:
            continue
        seen.add(v.provider_id)
        if v.fostered_now > FOSTERING_LIMIT:
            # Lawful only under an exemption (Sch. 7 para 4), which the folder cannot record:
            # the household is kept, and no child is placed there (fostering_limit).
            out.append(
                Problem(
                    VACANCIES_FILE,
                    line,
                    "fostered_now",
                    f"provider {v.provider_id!r} fosters {v.fostered_now} children already, "
                    f"over the fostering limit of {FOSTERING_LIMIT} (Children Act 1989 Sch. 7): "
                    "no child will be placed there; expected at most "
                    f"{FOSTERING_LIMIT} unless an exemption applies",
                )
            )
        n = living.get(v.provider_id, 0)
        if n > v.fostered_now:
            out.append(
                Problem(
                    VACANCIES_FILE,
                    line,
                    "fostered_now",
                    f"provider {v.provider_id!r} has {n} children in {RESIDENTS_FILE} but "
                    f"fostered_now {v.fostered_now}; the fostering limit counts fostered_now: "
                    f"expected at least {n} unless some are not fostered (staying put)",
                )
            )
    return out


#: The files of a case folder, by name; a folder's other files are not read.
FOLDER_FILES: tuple[str, ...] = (
    CHILDREN_FILE,
    VACANCIES_FILE,
    RESIDENTS_FILE,
    RESPONSES_FILE,
    POLICY_FILE,
)


def load_case_folder(path: str | Path) -> CaseFolder:
    """Read and check a case folder: its files read from disk, then :func:`parse_case_folder`.

    Parameters
    ----------
    path
        A folder holding ``children.csv`` and ``vacancies.csv`` and optionally
        ``policy.toml``, ``residents.csv`` and ``responses.csv`` (see ``placematch schema`` and
        ``docs/case-folder.md``). Each must be a regular file (a link is followed) under the
        size cap; a broken link is a problem, not a missing file.

    Returns
    -------
    CaseFolder
        As :func:`parse_case_folder`.

    Raises
    ------
    CaseFolderError
        With every problem in every file (``.problems``), sorted by file and line.
    NotADirectoryError
        If ``path`` is not a folder.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise NotADirectoryError(f"case folder {str(folder)!r} is not a folder")
    files: dict[str, str | bytes | _Unreadable] = {}
    for name in FOLDER_FILES:
        file = folder / name
        if not os.path.lexists(file):  # a broken link is read (and refused), not skipped
            continue
        limit = MAX_POLICY_BYTES if name == POLICY_FILE else MAX_CSV_BYTES
        try:
            files[name] = read_bytes(file, limit=limit)
        except CaseFolderError as exc:
            files[name] = _Unreadable(tuple(exc.problems))
    return _parse_files(files)


def parse_case_folder(files: Mapping[str, str | bytes]) -> CaseFolder:
    """Check a case folder whose files are held in memory (an upload, rows built by a
    scenario or the service), exactly as :func:`load_case_folder` checks one on disk.

    Parameters
    ----------
    files
        File name -> the file's bytes or text: ``children.csv`` and ``vacancies.csv`` and
        optionally ``policy.toml``, ``residents.csv`` and ``responses.csv``. Other names are
        ignored, as other files in a folder are. Bytes are checked as a file's are (size cap,
        UTF-8, no NUL); text as it would be saved in UTF-8.

    Returns
    -------
    CaseFolder
        Children, vacancies, sibling groups, providers, policy and the providers'
        responses to referrals; ``warnings`` lists
        unknown columns and single-child sibling groups.

    Raises
    ------
    CaseFolderError
        With every problem in every file (``.problems``), sorted by file and line; the same
        problems, with the same files, lines, fields and messages, as from disk.
    """
    return _parse_files(files)


def _parse_files(files: _Files) -> CaseFolder:
    """:func:`parse_case_folder`, also given the files on disk that could not be read."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    checked: dict[str, list[tuple[int, Any]]] = {}
    partial: dict[str, list[_Partial]] = {}
    raw_ids: dict[str, list[tuple[int, str]] | None] = {}
    provider_ids: set[str] | None = None
    for file in (CHILDREN_FILE, VACANCIES_FILE):
        raws, file_problems, file_warnings = _read_csv(file, files.get(file), COLUMNS[file])
        if file == VACANCIES_FILE and raws:
            provider_ids = {r.cells["provider_id"].strip() for r in raws}
        problems += file_problems
        warnings += file_warnings
        id_column = COLUMNS[file][0].name
        raw_ids[file] = (
            [(r.line, r.cells[id_column].strip()) for r in raws if r.cells[id_column].strip()]
            if raws
            else None
        )
        checked[file], partial[file], row_problems = _check_rows(file, raws)
        problems += row_problems
    child_rows: list[tuple[int, ChildRow]] = checked[CHILDREN_FILE]
    vacancy_rows: list[tuple[int, VacancyRow]] = checked[VACANCIES_FILE]
    children = _build_children(child_rows, partial[CHILDREN_FILE], problems)
    vacancies = _build_vacancies(vacancy_rows, partial[VACANCIES_FILE], problems)
    _cross_checks(
        raw_ids,
        child_rows,
        vacancy_rows,
        partial[VACANCIES_FILE],
        children,
        vacancies,
        problems,
        warnings,
    )
    _region_checks(vacancy_rows, partial[VACANCIES_FILE], children, problems)
    responses: list[ReferralResponse] = []
    answers = files.get(RESPONSES_FILE)
    if answers is not None:
        responses = _load_responses(answers, raw_ids, problems, warnings)
    residents = _load_residents(files.get(RESIDENTS_FILE), provider_ids, problems, warnings)
    warnings += _fostered_now_warnings(vacancies, residents)
    policy = Policy()
    policy_file = files.get(POLICY_FILE)
    if isinstance(policy_file, _Unreadable):
        problems += policy_file.problems
    elif policy_file is not None:
        try:
            policy = parse_policy(policy_file, POLICY_FILE)
        except CaseFolderError as exc:
            problems += exc.problems
        else:
            if policy.authority is not None:
                found = _resolve_authorities([policy.authority])[policy.authority]
                if isinstance(found, str):
                    problems.append(Problem(POLICY_FILE, None, "authority", found))
            problems += _override_problems(policy, [v for _, v in vacancies])
    if problems:
        raise CaseFolderError(sorted(problems, key=_order))
    return CaseFolder(
        children=tuple(c for _, c in children),
        vacancies=tuple(v for _, v in vacancies),
        policy=policy,
        warnings=tuple(sorted(warnings, key=_order)),
        responses=tuple(responses),
        residents=tuple(residents),
    )


_FILE_ORDER = {
    CHILDREN_FILE: 0,
    VACANCIES_FILE: 1,
    RESIDENTS_FILE: 2,
    POLICY_FILE: 3,
    RESPONSES_FILE: 4,
}


def _order(p: Problem) -> tuple[int, int, str, str]:
    return (_FILE_ORDER.get(p.file, 5), p.line or 0, p.field or "", p.message)


# --------------------------------------------------------------------------- writing


def _join(values: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(sorted(values))


def _iso(day: dt.date | None) -> str:
    return "" if day is None else day.isoformat()


def case_folder_rows(folder: CaseFolder) -> dict[str, list[dict[str, str]]]:
    """The CSV rows (column -> cell) that :func:`write_case_folder` writes, by file name.

    ``responses.csv`` is there only when the folder has responses.
    """
    children = [
        {
            "child_id": c.child_id,
            "age": str(c.age),
            "sex": c.sex.value,
            "home_postcode": c.home_postcode or "",
            "la": c.authority.ons_code,
            "school_urn": "" if c.school_urn is None else str(c.school_urn),
            "sibling_group": c.sibling_group or "",
            "needs": _join(n.value for n in c.needs),
            "placement_types": ""
            if c.requested_placement_types is None
            else _join(t.value for t in c.requested_placement_types),
            "ethnicity": c.ethnicity or "",
            "religion": c.religion or "",
            "language": c.language or "",
            "avoid_areas": _join(
                [a.ons_code for a in c.avoid_authorities] + list(c.avoid_outcodes)
            ),
            "needed_by": _iso(c.needed_by),
            "urgency": "" if c.urgency is None else c.urgency.value,
            "risk_flags": _join(r.value for r in c.risk_flags),
            "home_postcode_unknown": "true" if c.home_unknown else "",
        }
        for c in folder.children
    ]
    vacancies = [
        {
            "vacancy_id": v.vacancy_id,
            "provider_id": v.provider_id,
            "placement_type": v.placement_type.value,
            "postcode": v.postcode,
            "beds": str(v.beds),
            "age_min": str(v.age_min),
            "age_max": str(v.age_max),
            "sex": v.sex.value,
            "capabilities": _join([n.value for n in v.capabilities] + [r.value for r in v.manages]),
            "ofsted": v.ofsted.value,
            "weekly_cost": str(v.weekly_cost),
            "connected_to": _join(v.connected_to),
            "fostered_now": str(v.fostered_now),
            "ethnicity": _join(v.ethnicity),
            "religion": v.religion or "",
            "languages": _join(v.languages),
            "available_from": _iso(v.available_from),
            "available_until": _iso(v.available_until),
            "owner_la": "" if v.owner is None else v.owner.ons_code,
            "offered_to_pool": "" if v.offered_to_pool is None else str(v.offered_to_pool).lower(),
            "name": v.name or "",
        }
        for v in folder.vacancies
    ]
    out = {CHILDREN_FILE: children, VACANCIES_FILE: vacancies}
    if folder.responses:
        out[RESPONSES_FILE] = [
            {
                "vacancy_id": r.vacancy_id,
                "child_id": r.child_id,
                "response": r.response.value,
                "reason": "" if r.reason is None else r.reason.value,
            }
            for r in folder.responses
        ]
    if folder.residents:  # a folder without residents is written as before: no file
        out[RESIDENTS_FILE] = [
            {
                "provider_id": r.provider_id,
                "resident_ref": r.resident_ref,
                "age": str(r.age),
                "sex": r.sex.value,
                "needs": _join(n.value for n in r.needs),
                "risk_flags": _join(f.value for f in r.risk_flags),
            }
            for r in folder.residents
        ]
    return out


def write_case_folder(folder: CaseFolder, path: str | Path, *, policy: bool = True) -> Path:
    """Write a case folder that :func:`load_case_folder` reads back equal.

    Parameters
    ----------
    folder
        What to write.
    path
        The folder (created if missing); existing files of the same names are replaced
        (``responses.csv`` is written only when the folder has responses).
    policy
        Also write ``policy.toml`` (every key, commented).

    Returns
    -------
    Path
        The folder written.
    """
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    for file, rows in case_folder_rows(folder).items():
        with (out / file).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(column_names(file)), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    if policy:
        (out / POLICY_FILE).write_text(folder.policy.to_toml(), encoding="utf-8")
    return out
