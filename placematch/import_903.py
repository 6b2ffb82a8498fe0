"""Build a case folder from a council's SSDA903 return.

The children are those in an open episode on the reference date (``at``; by default the
latest ``DECOM`` in the episodes); their current placements become the vacancies (one per
distinct placement, with as many beds as children there), so that the folder describes
"our children and the homes they are in now" — the whole-cohort shape of a sufficiency
analysis.

Nothing is dropped silently. Every value that cannot go into the case folder is reported as
an :class:`ImportIssue` (file, line, field, child, what was done), never with the value
itself (postcodes and dates of birth are personal data):

* a home postcode that is malformed or unknown is left blank only for a separated migrant
  child (the case-folder contract allows that); any other child with a blank, malformed or
  unknown one is **skipped**, or with ``keep_unknown_postcodes`` **kept** without it
  (``home_postcode_unknown`` true: near home is not scored for the child);
* a child without a header row, with sex ``U``, an age outside 0-17 on the date, or in a
  placement the case folder has no type for (placed with parents, adoption, hospital,
  custody, temporary) is **skipped**;
* a placement whose postcode is blank, malformed or unknown is **skipped** as a vacancy
  (its children stay, with no current vacancy).

Tables that are not 903 tables, or that break the 903 rules, raise
:class:`matcher.ssda903.Ssda903Error` / :class:`~matcher.ssda903.UnrecognisedTableError`
(``ValueError``): the command line then exits with status 2 and lists the problems. An
import that would leave an unusable folder (:meth:`Import903Result.shortfall`: no vacancies,
no children, or almost none of those in an open episode) is refused by the command line in
the same way, with only ``import_report.csv`` written.

The 903 return has no Ofsted grade or weekly cost for a placement: ``ofsted`` is written as
``not_inspected`` and ``weekly_cost`` as the national average for the type
(:func:`scenarios.profiles.national_profile`); replace them with your own. ``organisation``
(an extra column) is the 903 ``URN`` of the provider, or ``PLACE_PROVIDER`` when there is none;
``urn`` is the 903 ``URN`` when it is a well-formed Ofsted URN, else blank.

``school_urn`` is left blank: the 903 ``URN`` is the placement provider's Ofsted URN, not a
school. ``sibling_group``, ``religion`` and ``language`` are not in the 903 return.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from matcher.placement_types import SSDA903, PlacementType, codes_for
from matcher.ssda903 import (
    authorities_in,
    open_episodes,
    read_episodes,
    read_header,
    read_uasc,
)
from matcher.vocabulary import OFSTED_URN_PATTERN
from scenarios.cohorts import CHILD_COLUMNS, VACANCY_COLUMNS
from scenarios.profiles import national_profile

Action = Literal["child_skipped", "child_kept", "field_blanked", "vacancy_skipped"]

#: The files :func:`write_import` writes (and the command refuses to overwrite without
#: ``--force``: a user is told to replace the Ofsted grades and costs in them by hand).
WRITTEN_FILES: tuple[str, ...] = ("children.csv", "vacancies.csv", "import_report.csv", "README.md")

#: Below this share of the children in an open episode imported, the folder describes
#: "almost no children" and is refused: a sufficiency analysis of the few whose postcodes
#: happened to be known would mislead (the skipped ones are rarely a random sample).
MIN_IMPORTED_SHARE = 0.25

#: Columns of ``import_report.csv``.
REPORT_COLUMNS: tuple[str, ...] = ("file", "line", "field", "child", "action", "message")

#: Extra columns written after the contract's in ``children.csv``.
IMPORT_CHILD_COLUMNS: tuple[str, ...] = (*CHILD_COLUMNS, "current_vacancy")

#: Provider codes read as the authority's own (in-house) provision for U4-U6 fostering.
_INHOUSE_PROVIDERS = frozenset({"PR0", "PR1", "PR2", "PR3", ""})

#: Default terms of approval by type (the 903 return does not carry them).
_AGE_RANGE: dict[PlacementType, tuple[int, int]] = {
    PlacementType.CONNECTED_PERSON_FOSTER: (0, 17),
    PlacementType.INHOUSE_FOSTER: (0, 17),
    PlacementType.AGENCY_FOSTER: (0, 17),
    PlacementType.CHILDRENS_HOME: (0, 17),
    PlacementType.SUPPORTED_ACCOMMODATION: (16, 17),
    PlacementType.PARENT_AND_CHILD: (12, 17),
    PlacementType.SECURE_HOME: (10, 17),
}


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One value that could not go into the case folder, and what was done about it.

    Attributes
    ----------
    file : str
        The 903 file the value came from.
    line : int
        1-based line in that file (the column names are line 1).
    field : str
        The 903 column (``HOME_POST``, ``PL_POST``, ``SEX``, ``DOB``, ``PLACE``, ``CHILD``).
    child : str
        The ``CHILD`` id.
    action : {"child_skipped", "child_kept", "field_blanked", "vacancy_skipped"}
        What the import did (``child_kept``: kept without the field, with
        ``--keep-unknown-postcodes``).
    message : str
        Why, without the value itself.
    """

    file: str
    line: int
    field: str
    child: str
    action: Action
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}, line {self.line}, {self.field}: child {self.child}: {self.message} "
            f"({self.action.replace('_', ' ')})"
        )


@dataclass(frozen=True, slots=True)
class Import903Result:
    """A case folder built from a 903 return, before it is written.

    Attributes
    ----------
    children, vacancies : pandas.DataFrame
        The rows of ``children.csv`` and ``vacancies.csv`` (all values as text).
    issues : tuple[ImportIssue, ...]
        Everything not imported as it was, in file and line order.
    at : datetime.date
        The reference date.
    la_code, la_name : str
        The placing authority.
    open_children : int
        Children in an open episode on ``at`` (before any were skipped).
    authorities : tuple[str, ...]
        The ``LA`` values of a multi-authority extract, as written there (``()`` when the
        tables have no ``LA`` column).
    keep_unknown_postcodes : bool
        Children whose home postcode is unknown were kept (``home_postcode_unknown``).
    """

    children: pd.DataFrame
    vacancies: pd.DataFrame
    issues: tuple[ImportIssue, ...]
    at: dt.date
    la_code: str
    la_name: str
    open_children: int
    authorities: tuple[str, ...] = ()
    keep_unknown_postcodes: bool = False

    @property
    def kept_without_home_postcode(self) -> int:
        """Children kept with ``home_postcode_unknown`` (``--keep-unknown-postcodes``)."""
        return sum(1 for i in self.issues if i.action == "child_kept" and i.field == "HOME_POST")

    def shortfall(self) -> str | None:
        """Why the folder would be unusable, or ``None`` if it is not.

        Unusable: no children, no vacancies, or fewer than :data:`MIN_IMPORTED_SHARE` of the
        children in an open episode imported. The sentence names the field that skipped
        most children (never a value).
        """
        n, m = len(self.children), self.open_children
        if m == 0:
            return f"no child is in an open episode on {self.at.isoformat()}"
        if n >= MIN_IMPORTED_SHARE * m and len(self.vacancies) > 0:
            return None
        what = f"{n} of {m} children in an open episode imported"
        if len(self.vacancies) == 0:
            what += " and no placement became a vacancy"
        skipped: dict[str, int] = {}
        for i in self.issues:
            if i.action in ("child_skipped", "vacancy_skipped"):
                skipped[i.field] = skipped.get(i.field, 0) + 1
        if skipped:
            field = max(sorted(skipped), key=lambda f: skipped[f])
            what += f" (most skipped for {field}: {skipped[field]})"
            if field == "HOME_POST" and not self.keep_unknown_postcodes:
                what += (
                    "; --keep-unknown-postcodes keeps children whose home postcode is unknown "
                    "(near home not scored for them)"
                )
        return what

    def summary(self) -> dict[str, Any]:
        """The counts as plain data (JSON-ready; ``placematch import-903 --json`` prints them
        with the folder written and the issues counted): the authority, the date, children
        in an open episode, children and vacancies imported, the authorities of the extract
        and the children kept without a home postcode."""
        return {
            "la": {"ons_code": self.la_code, "name": self.la_name},
            "at": self.at.isoformat(),
            "open_children": self.open_children,
            "children": len(self.children),
            "vacancies": len(self.vacancies),
            "authorities": list(self.authorities),
            "kept_without_home_postcode": self.kept_without_home_postcode,
        }

    def text(self) -> str:
        """A few lines for a person: counts imported, skipped and blanked."""
        skipped = sum(1 for i in self.issues if i.action == "child_skipped")
        blanked = sum(1 for i in self.issues if i.action == "field_blanked")
        vac_skipped = sum(1 for i in self.issues if i.action == "vacancy_skipped")
        kept = self.kept_without_home_postcode
        beds = int(self.vacancies["beds"].astype(int).sum()) if len(self.vacancies) else 0
        lines = [
            f"903 import for {self.la_name} ({self.la_code}) at {self.at.isoformat()}: "
            f"{self.open_children} children in an open episode"
        ]
        if self.authorities:
            lines.append(
                f"  the extract has {len(self.authorities)} authorities in its LA column: "
                f"{', '.join(self.authorities)}; only {self.la_name}'s rows were read"
            )
        lines.append(
            f"  children imported  {len(self.children):>5}   skipped {skipped}, "
            f"fields blanked {blanked}"
        )
        if self.keep_unknown_postcodes:
            lines.append(
                f"  of which kept without a home postcode {kept} (--keep-unknown-postcodes: "
                "near home not scored for them; home_postcode_unknown in children.csv)"
            )
        lines.append(
            f"  vacancies imported {len(self.vacancies):>5}   ({beds} beds; "
            f"placements skipped {vac_skipped})"
        )
        return "\n".join(lines)


Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def _resolve(la: str) -> tuple[str, str]:
    import geography

    authority = geography.resolve_authority(la)
    return authority.ons_code, authority.name


def _same_authority(values: pd.Series, ons: str) -> pd.Series:
    """Which rows' ``LA`` column names the authority ``ons`` (unknown names never match)."""
    import geography

    verdict: dict[str, bool] = {}
    for value in sorted(set(values.astype(str))):
        try:
            verdict[value] = geography.resolve_authority(value).ons_code == ons
        except LookupError:
            verdict[value] = False
    return values.astype(str).map(verdict).astype(bool)


def _postcode(text: str) -> tuple[str | None, str]:
    """``(normalised postcode, "")`` if it is a known postcode, else ``(None, reason)``."""
    import geography

    if not text.strip():
        return None, "blank"
    try:
        return geography.locate(text).postcode, ""
    except geography.MalformedPostcodeError:
        return None, "not shaped like a UK postcode"
    except geography.UnknownPostcodeError:
        return None, "not a postcode in the ONS postcode directory"


def _area(postcode: str, ons: str) -> str:
    """``in_county``, ``adjoining`` or ``further``: where a placement is from the authority."""
    import geography

    authority = geography.locate(postcode).authority
    if authority is None:
        return "further"
    if authority.ons_code == ons:
        return "in_county"
    if authority in geography.adjoining(ons):
        return "adjoining"
    return "further"


def placement_type_of(place: str, provider: str) -> PlacementType | None:
    """The case-folder type of a 903 placement (``None`` for types it has none for).

    ``U4``-``U6`` (fostering, not with a connected person) are in-house for provider
    ``PR0``-``PR3`` (or blank) and agency for ``PR4``/``PR5``.
    """
    code = place.strip().upper()
    matches = [t for t, m in SSDA903.items() if code in m.place_codes]
    if not matches:
        return None
    if len(matches) == 1:
        return matches[0]
    if provider.strip().upper() in _INHOUSE_PROVIDERS:
        return PlacementType.INHOUSE_FOSTER
    return PlacementType.AGENCY_FOSTER


def _accepts(kind: PlacementType) -> str:
    """``placement_types`` of a child now in a placement of ``kind``."""
    fostering = f"{PlacementType.INHOUSE_FOSTER};{PlacementType.AGENCY_FOSTER}"
    if kind is PlacementType.CONNECTED_PERSON_FOSTER:
        return f"{kind};{fostering}"
    if kind in (PlacementType.INHOUSE_FOSTER, PlacementType.AGENCY_FOSTER):
        return fostering
    return str(kind)


def _age(dob: pd.Timestamp, at: dt.date) -> int:
    return at.year - dob.year - ((at.month, at.day) < (dob.month, dob.day))


def _parse_at(at: str) -> dt.date:
    """``yyyy-mm-dd`` or ``dd/mm/yyyy`` (as the 903 files write dates) to a date."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(at.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"--at {at!r} is not a date; expected dd/mm/yyyy or yyyy-mm-dd")


def _year_end(day: dt.date) -> dt.date:
    """The 31 March that ends the 903 collection year (1 April to 31 March) holding ``day``."""
    return dt.date(day.year if (day.month, day.day) <= (3, 31) else day.year + 1, 3, 31)


def _reference_date(at: dt.date | str | None, eps: pd.DataFrame) -> pd.Timestamp:
    """The reference date: ``at`` if it lies within the data, else a ``ValueError``.

    The data run from the earliest ``DECOM`` (before it no child is in an episode) to the
    31 March that ends the collection year of the latest ``DECOM`` or ``DEC`` (a return
    describes its whole year, so its year end is a fair census date; after it the return
    knows nothing of who came into care or left).
    """
    if at is None:
        return pd.Timestamp(eps["DECOM"].max())
    day = _parse_at(at) if isinstance(at, str) else at
    first = pd.Timestamp(eps["DECOM"].min()).date()
    ends = pd.concat([eps["DECOM"], eps["DEC"]]).dropna()
    last = _year_end(pd.Timestamp(ends.max()).date())
    if not first <= day <= last:
        side = "before" if day < first else "after"
        raise ValueError(
            f"--at {day.strftime('%d/%m/%Y')} is {side} the data: the episodes run from "
            f"{first.strftime('%d/%m/%Y')} (the first DECOM) to {last.strftime('%d/%m/%Y')} "
            "(the end of the last collection year); expected a date in between"
        )
    return pd.Timestamp(day)


def import_903(
    header: Paths,
    episodes: Paths,
    *,
    la: str,
    at: dt.date | str | None = None,
    uasc: Paths | None = None,
    keep_unknown_postcodes: bool = False,
) -> Import903Result:
    """Build a case folder from 903 header and episodes tables.

    Parameters
    ----------
    header, episodes
        The header and episodes tables (one file each, or several, e.g. one a year).
    la
        The placing authority (ONS code, DfE number or name). If the tables carry an ``LA``
        column (a multi-authority extract), only that authority's rows are used.
    at
        The reference date (a date, ``yyyy-mm-dd`` or ``dd/mm/yyyy``); default the latest
        ``DECOM``. It must lie within the data: from the first ``DECOM`` to the 31 March
        that ends the collection year of the latest ``DECOM`` or ``DEC``.
    uasc
        The UASC table, if any: its children (with ``DUC`` after ``at`` or blank) are
        separated migrant children (need ``uasc``, blank home postcode allowed).
    keep_unknown_postcodes
        Keep a child who is not a separated migrant child and whose ``HOME_POST`` is blank,
        malformed or not in the ONS directory, with a blank ``home_postcode`` and
        ``home_postcode_unknown`` true (reported as ``child_kept``), instead of skipping it.

    Raises
    ------
    matcher.ssda903.Ssda903Error, matcher.ssda903.UnrecognisedTableError
        If the tables are not 903 tables or break its rules (every problem listed).
    ValueError
        If ``at`` is not a date or lies outside the data.
    LookupError
        If ``la`` is not an English authority, or the extract has no rows for it (the
        message lists the authorities it has).
    """
    ons, name = _resolve(la)
    eps = read_episodes(episodes)
    head = read_header(header)
    uasc_frame = read_uasc(uasc) if uasc is not None else None
    authorities = tuple(a for a in authorities_in(eps) if a.strip())
    if "LA" in eps.columns:
        eps = eps.loc[_same_authority(eps["LA"], ons)]
        if eps.empty:
            raise LookupError(
                f"the episodes have no rows for {name} in their LA column; "
                f"pass --la with one of the authorities in the extract: {', '.join(authorities)}"
            )
    if "LA" in head.columns:
        head = head.loc[_same_authority(head["LA"], ons)]
    if uasc_frame is not None and "LA" in uasc_frame.columns:
        uasc_frame = uasc_frame.loc[_same_authority(uasc_frame["LA"], ons)]
    if eps.empty:
        raise ValueError("the episodes table has no episodes")
    day = _reference_date(at, eps)
    on = day.date()
    current = open_episodes(eps, day)

    head_by_child = {str(r["CHILD"]): r for r in head.to_dict("records")}
    uasc_ids: set[str] = set()
    if uasc_frame is not None:
        still = uasc_frame["DUC"].isna() | (uasc_frame["DUC"] > day)
        uasc_ids = set(uasc_frame.loc[still, "CHILD"].astype(str))
    ethnic_codes = set(codes_for("ETHNIC"))

    issues: list[ImportIssue] = []
    children: list[dict[str, str]] = []
    placements: dict[tuple[str, str, str, str], list[int]] = {}
    placement_rows: dict[tuple[str, str, str, str], tuple[str, int, PlacementType]] = {}
    for ep in current.to_dict("records"):
        child = str(ep["CHILD"])
        file, line = str(ep["source_file"]), int(ep["source_line"])

        def skip(
            field: str,
            message: str,
            where: tuple[str, int] | None = None,
            *,
            _at: tuple[str, int, str] = (file, line, child),
        ) -> None:
            f, ln = where or _at[:2]
            issues.append(ImportIssue(f, ln, field, _at[2], "child_skipped", message))

        row = head_by_child.get(child)
        if row is None:
            skip("CHILD", "no header row for this child")
            continue
        hwhere = (str(row["source_file"]), int(row["source_line"]))
        kind = placement_type_of(str(ep["PLACE"]), str(ep["PLACE_PROVIDER"]))
        if kind is None:
            skip(
                "PLACE",
                f"placement {ep['PLACE']} ({codes_for('PLACE')[str(ep['PLACE'])].description}) "
                "has no case-folder placement type",
            )
            continue
        sex = str(row["SEX"])
        if sex not in ("M", "F"):
            skip("SEX", f"sex {sex!r}; the case folder needs M or F", hwhere)
            continue
        if pd.isna(row["DOB"]):
            skip("DOB", "no date of birth", hwhere)
            continue
        age = _age(pd.Timestamp(row["DOB"]), on)
        if not 0 <= age <= 17:
            skip("DOB", f"aged {age} on {on.isoformat()}; expected 0-17", hwhere)
            continue
        is_uasc = child in uasc_ids
        home_unknown = False
        home, why = _postcode(str(ep["HOME_POST"]))
        if home is None:
            if is_uasc:
                if why != "blank":
                    issues.append(
                        ImportIssue(
                            file,
                            line,
                            "HOME_POST",
                            child,
                            "field_blanked",
                            f"home postcode {why}; left blank (separated migrant child)",
                        )
                    )
                home = ""
            elif keep_unknown_postcodes:
                issues.append(
                    ImportIssue(
                        file,
                        line,
                        "HOME_POST",
                        child,
                        "child_kept",
                        f"home postcode {why}; kept without it (--keep-unknown-postcodes): "
                        "home_postcode_unknown, near home not scored for this child",
                    )
                )
                home = ""
                home_unknown = True
            else:
                skip(
                    "HOME_POST",
                    f"home postcode {why}; required for a child who is not UASC "
                    "(--keep-unknown-postcodes keeps such children)",
                )
                continue
        needs = []
        if is_uasc:
            needs.append("uasc")
        if str(ep["CIN"]) == "N4":
            needs.append("disability")
        if kind is PlacementType.PARENT_AND_CHILD:
            needs.append("parent_and_child")
        ethnic = str(row["ETHNIC"]) if str(row["ETHNIC"]) in ethnic_codes else ""
        key = (str(ep["PL_POST"]), str(ep["URN"]), str(ep["PLACE"]), str(ep["PLACE_PROVIDER"]))
        placements.setdefault(key, []).append(len(children))
        placement_rows.setdefault(key, (file, line, kind))
        children.append(
            {
                "child_id": child,
                "age": str(age),
                "sex": sex,
                "home_postcode": home,
                "la": ons,
                "school_urn": "",
                "sibling_group": "",
                "needs": ";".join(needs),
                "placement_types": _accepts(kind),
                "ethnicity": ethnic,
                "religion": "",
                "language": "",
                "home_postcode_unknown": "true" if home_unknown else "",
                "current_group": str(ep["sufficiency_group"]),
                "current_vacancy": "",
            }
        )

    vacancies: list[dict[str, str]] = []
    costs = {t: f.value for t, f in national_profile().weekly_costs}
    for key in sorted(placements, key=lambda k: min(placements[k])):
        pl_file, pl_line, pl_kind = placement_rows[key]
        members = placements[key]
        pl_post, urn, _place, provider = key
        postcode, why = _postcode(pl_post)
        if postcode is None:
            for m in members:
                issues.append(
                    ImportIssue(
                        pl_file,
                        pl_line,
                        "PL_POST",
                        children[m]["child_id"],
                        "vacancy_skipped",
                        f"placement postcode {why}; this child's current placement is not a "
                        "vacancy",
                    )
                )
            continue
        vid = f"V{len(vacancies) + 1:04d}"
        ages = [int(children[m]["age"]) for m in members]
        lo, hi = _AGE_RANGE[pl_kind]
        caps = sorted({n for m in members for n in children[m]["needs"].split(";") if n})
        for m in members:
            children[m]["current_vacancy"] = vid
        vacancies.append(
            {
                "vacancy_id": vid,
                # One household, home or unit per distinct current placement.
                "provider_id": f"P{len(vacancies) + 1:04d}",
                "placement_type": str(pl_kind),
                "postcode": postcode,
                "beds": str(len(members)),
                "age_min": str(min(lo, *ages)),
                "age_max": str(max(hi, *ages)),
                "sex": "any",
                "capabilities": ";".join(caps),
                "ofsted": "not_inspected",
                "weekly_cost": str(round(costs[str(pl_kind)])),
                "connected_to": ";".join(children[m]["child_id"] for m in members)
                if pl_kind is PlacementType.CONNECTED_PERSON_FOSTER
                else "",
                "fostered_now": "0",
                "ethnicity": "",
                "religion": "",
                "languages": "",
                # The 903's Ofsted URN, kept where it is well formed (not XXXXXXX, the
                # fostering placeholder), so that the folder exports it back (rule 218).
                "urn": urn.strip().upper()
                if OFSTED_URN_PATTERN.fullmatch(urn.strip().upper())
                else "",
                "organisation": urn if urn and urn.upper() != "XXXXXXX" else provider,
                "supply_area": _area(postcode, ons),
            }
        )
    issues.sort(key=lambda i: (i.file, i.line, i.field))
    return Import903Result(
        # columns the return does not give (the dates) are written blank, not "nan"
        children=pd.DataFrame(children, columns=list(IMPORT_CHILD_COLUMNS))
        .astype(object)
        .fillna("")
        .astype(str),
        vacancies=pd.DataFrame(vacancies, columns=list(VACANCY_COLUMNS))
        .astype(object)
        .fillna("")
        .astype(str),
        issues=tuple(issues),
        at=on,
        la_code=ons,
        la_name=name,
        open_children=len(current),
        authorities=authorities,
        keep_unknown_postcodes=keep_unknown_postcodes,
    )


def write_report(result: Import903Result, out: str | os.PathLike[str]) -> Path:
    """Write ``import_report.csv`` alone (for an import refused as unusable); its path."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "import_report.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(REPORT_COLUMNS)
        for i in result.issues:
            writer.writerow([i.file, i.line, i.field, i.child, i.action, i.message])
    return path


def write_import(result: Import903Result, out: str | os.PathLike[str]) -> Path:
    """Write the case folder: ``children.csv``, ``vacancies.csv``, ``import_report.csv``
    and a ``README.md`` saying where it came from. Other files in ``out`` are untouched."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    result.children.to_csv(folder / "children.csv", index=False, lineterminator="\n")
    result.vacancies.to_csv(folder / "vacancies.csv", index=False, lineterminator="\n")
    write_report(result, folder)
    (folder / "README.md").write_text(
        "\n".join(
            [
                f"# Case folder imported from SSDA903: {result.la_name}",
                "",
                f"Children in an open episode on {result.at.isoformat()} and their current "
                "placements (one vacancy per placement, beds = children there).",
                "",
                "```",
                result.text(),
                "```",
                "",
                "`import_report.csv` lists every value that was not imported as it was "
                "(file, line, field, child, action).",
                "",
                "The 903 return has no Ofsted grade or weekly cost: `ofsted` is `not_inspected` "
                "and `weekly_cost` the national average for the type. Replace them with your own.",
                "",
                *(
                    [
                        f"{result.kept_without_home_postcode} children were kept without a home "
                        "postcode (`--keep-unknown-postcodes`): `home_postcode_unknown` is "
                        "`true` for them, and near home is not scored for them. Fill in "
                        "`home_postcode` (and clear the flag) where you know it.",
                        "",
                    ]
                    if result.kept_without_home_postcode
                    else []
                ),
            ]
        ),
        encoding="utf-8",
    )
    return folder
