"""The store's operations on children, vacancies and decisions, with case-folder validation.

A store holds one case folder: the children of every authority using the service (each
visible only to that authority's officers) and one pool of vacancies. What it holds is always
a valid case folder: every write (a loaded folder, an uploaded file, one child or vacancy
created or changed) is validated together with what is already stored, in memory, by
:func:`matcher.casefolder.parse_case_folder`, and nothing is written when it has problems
(all of them are reported). Records are kept as the case folder's canonical CSV
cells (:func:`matcher.casefolder.case_folder_rows`).

Recording a decision is one transaction whose first write is a conditional update
(``beds_taken < beds``), so two officers deciding on the last bed at once cannot both succeed,
on SQLite or PostgreSQL.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.casefolder import case_folder_rows, load_case_folder, parse_case_folder
from matcher.contract import (
    CHILDREN_FILE,
    POLICY_FILE,
    RESIDENTS_FILE,
    VACANCIES_FILE,
    column_names,
)
from matcher.domain import CaseFolder, Child, ReferralResponse
from matcher.files import MAX_POLICY_BYTES, read_text
from matcher.problems import CaseFolderError, Problem
from matcher.vocabulary import LIST_SEPARATOR
from placematch.service.models import (
    AuthorityState,
    ChildRecord,
    Decision,
    ProviderResponse,
    VacancyRecord,
    utcnow,
)

Rows = list[dict[str, str]]


class ConflictError(Exception):
    """The request conflicts with the stored state (a bed taken, a child already placed)."""


class NotFoundError(LookupError):
    """No such record in the authorities the user may see."""


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load stored."""

    authority_code: str
    children_added: int
    children_updated: int
    vacancies_added: int
    vacancies_updated: int
    policy: bool
    warnings: tuple[Problem, ...]
    responses: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "authority": self.authority_code,
            "children_added": self.children_added,
            "children_updated": self.children_updated,
            "vacancies_added": self.vacancies_added,
            "vacancies_updated": self.vacancies_updated,
            "policy": self.policy,
            "responses": self.responses,
            "warnings": [problem_dict(p) for p in self.warnings],
        }


def problem_dict(p: Problem) -> dict[str, Any]:
    """A case-folder problem as JSON (file, line, field, message; never a child's data)."""
    return {"file": p.file, "line": p.line, "field": p.field, "message": p.message}


# --------------------------------------------------------------------------- validation


def _csv_text(file: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as the text of the case-folder file ``file`` (its columns first, then any other)."""
    names = list(column_names(file))
    extra = sorted({k for r in rows for k in r} - set(names))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names + extra, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: "" if v is None else str(v) for k, v in r.items()})
    return out.getvalue()


def validate_rows(children: Rows, vacancies: Rows, policy_toml: str | None) -> CaseFolder:
    """Validate rows as one case folder (``CaseFolderError`` with every problem)."""
    files = {
        CHILDREN_FILE: _csv_text(CHILDREN_FILE, children),
        VACANCIES_FILE: _csv_text(VACANCIES_FILE, vacancies),
    }
    if policy_toml is not None:
        files[POLICY_FILE] = policy_toml
    return parse_case_folder(files)


# Per engine (weakly: a closed store's folder goes with it): (revision, folder).
_cache: weakref.WeakKeyDictionary[Any, tuple[int, CaseFolder, Keys]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()
# Per engine: ((revision, today), {(authority or None, child ranked though not waiting, or
# None): folder}). Only
# one revision and date are kept: a change, or the next day, drops the folders of the last.
_available: weakref.WeakKeyDictionary[
    Any, tuple[tuple[int, dt.date | None], dict[tuple[str | None, str | None], CaseFolder]]
] = weakref.WeakKeyDictionary()
# One build of an available folder at a time: after a change, the requests that arrive
# together wait for the first one's folder instead of each building their own.
_available_lock = threading.Lock()
#: Available folders kept per revision besides the waiting children's own (one each for a
#: placed child that was ranked); the oldest goes first.
AVAILABLE_KEPT = 32


#: The key of the store's row in ``authority_state`` (its revision and policy).
STORE = "store"


# --------------------------------------------------------------------------- keys
#
# Ids are per authority: two authorities may each have a child ``C0001`` (and a sibling
# group ``S1``), and neither can tell that the other has one. Every write is checked against
# the store with each child and sibling group under an internal key, its authority's ONS
# code and its id (:func:`key`), so that no authority's ids meet another's. The store's
# whole case folder (:func:`stored_folder`, read by the region's views and the officers'
# views) keys only the ids that two authorities use; an officer's view (:func:`waiting_folder`,
# :func:`available_folder` with ``authorities``) shows their own children under their own
# ids again.


def key(code: str, ident: str) -> str:
    """The internal key of an authority's id (``E10000012:C0001``): unique in the store.

    Still a valid case-folder id (at most 64 characters): a key that would be longer ends
    with a digest of the id instead of the id itself.
    """
    out = f"{code}:{ident}"
    if len(out) <= 64:
        return out
    return f"{code}:{hashlib.sha256(ident.encode('utf-8')).hexdigest()[:48]}"


_KEY_PREFIX = re.compile(r"\b[A-Z][0-9]{8}:")


def unkeyed(text: str) -> str:
    """``text`` with the authority prefix of every internal key taken out (a problem's
    message about an officer's own rows names them by their own ids)."""
    return _KEY_PREFIX.sub("", text)


def _unkeyed_problems(error: CaseFolderError) -> CaseFolderError:
    return CaseFolderError(
        [dataclasses.replace(p, message=unkeyed(p.message)) for p in error.problems]
    )


@dataclass(frozen=True, slots=True)
class Keys:
    """How the store's folder names children: the child ids and sibling groups two or more
    authorities use (``shared``, ``shared_groups``) under :func:`key`, the others as they
    are; ``ids``: each key's own id."""

    shared: frozenset[str] = frozenset()
    shared_groups: frozenset[str] = frozenset()
    ids: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def child(self, code: str, child_id: str) -> str:
        """The folder's id of an authority's child."""
        return key(code, child_id) if child_id in self.shared else child_id

    def group(self, code: str, group: str) -> str:
        """The folder's id of an authority's sibling group."""
        return key(code, group) if group in self.shared_groups else group


def _keyed_children(
    rows: Rows, code_of: Sequence[str], keys: Keys | None = None
) -> tuple[Rows, dict[str, str]]:
    """Children rows under their internal keys (id and sibling group; with ``keys``, only
    those it keys); and each key's own id."""
    out, ids = [], {}
    for row, code in zip(rows, code_of, strict=True):
        r = dict(row)
        cid = row["child_id"]
        r["child_id"] = key(code, cid) if keys is None else keys.child(code, cid)
        if r["child_id"] != cid:
            ids[r["child_id"]] = cid
        group = row.get("sibling_group")
        if group:
            r["sibling_group"] = key(code, group) if keys is None else keys.group(code, group)
            if r["sibling_group"] != group:
                ids[r["sibling_group"]] = group
        out.append(r)
    return out, ids


def _keyed_vacancies(rows: Rows, code_of: Sequence[str], keys: Keys | None = None) -> Rows:
    """Vacancy rows whose ``connected_to`` names children by internal key (with ``keys``,
    as it names them): the children of the authority the carer is filed under (its owner)."""
    out = []
    for row, code in zip(rows, code_of, strict=True):
        r = dict(row)
        if row.get("connected_to"):
            r["connected_to"] = LIST_SEPARATOR.join(
                key(code, i) if keys is None else keys.child(code, i) for i in sorted(_named(row))
            )
        out.append(r)
    return out


def _state(session: Session) -> AuthorityState:
    state = session.get(AuthorityState, STORE)
    if state is None:
        state = AuthorityState(authority_code=STORE, revision=0, updated_at=utcnow())
        session.add(state)
        session.flush()
    return state


def _bump(session: Session) -> None:
    _state(session)
    session.execute(
        update(AuthorityState)
        .where(AuthorityState.authority_code == STORE)
        .values(revision=AuthorityState.revision + 1, updated_at=utcnow())
    )


def stored_rows(session: Session) -> tuple[Rows, Rows, str | None]:
    """The store's children rows, vacancy rows and policy text, as stored (each child under
    its own id: two authorities' rows may share one; see :func:`keyed_rows`)."""
    children, _, vacancies, _, policy = _stored(session)
    return children, vacancies, policy


def _stored(session: Session) -> tuple[Rows, list[str], Rows, list[str], str | None]:
    """Children rows and their authorities, vacancy rows and theirs, and the policy text."""
    # the columns alone (not the records: a third of the time for a county's rows)
    children, codes = [], []
    for data, code in session.execute(
        select(ChildRecord.data, ChildRecord.authority_code).order_by(
            ChildRecord.authority_code, ChildRecord.child_id
        )
    ):
        children.append(dict(data))
        codes.append(code)
    vacancies, vcodes = [], []
    for data, code in session.execute(
        select(VacancyRecord.data, VacancyRecord.authority_code).order_by(VacancyRecord.vacancy_id)
    ):
        vacancies.append(dict(data))
        vcodes.append(code)
    state = session.get(AuthorityState, STORE)
    return children, codes, vacancies, vcodes, None if state is None else state.policy_toml


def keyed_rows(session: Session) -> tuple[Rows, Rows, str | None, Keys]:
    """The store's rows as one valid case folder's: the children and sibling groups whose
    ids two authorities use under their internal keys (:func:`key`), carers'
    ``connected_to`` likewise; and how they are named (:class:`Keys`)."""
    children, codes, vacancies, vcodes, policy = _stored(session)
    by_id: dict[str, set[str]] = {}
    by_group: dict[str, set[str]] = {}
    for row, code in zip(children, codes, strict=True):
        by_id.setdefault(row["child_id"], set()).add(code)
        if row.get("sibling_group"):
            by_group.setdefault(row["sibling_group"], set()).add(code)
    keys = Keys(
        frozenset(i for i, c in by_id.items() if len(c) > 1),
        frozenset(g for g, c in by_group.items() if len(c) > 1),
    )
    keyed, ids = _keyed_children(children, codes, keys)
    keys = dataclasses.replace(keys, ids=ids)
    return keyed, _keyed_vacancies(vacancies, vcodes, keys), policy, keys


def _validate_keyed(
    children: Sequence[tuple[str, dict[str, str]]],
    vacancies: Sequence[tuple[str, dict[str, str]]],
    policy: str | None,
) -> CaseFolder:
    """Validate ``(authority, row)`` pairs as the store's case folder, each child under its
    internal key, so that no authority's ids meet another's; problems name the ids without
    the keys' prefixes (:func:`unkeyed`)."""
    keyed, _ = _keyed_children([r for _, r in children], [c for c, _ in children])
    try:
        return validate_rows(
            keyed,
            _keyed_vacancies([r for _, r in vacancies], [c for c, _ in vacancies]),
            policy,
        )
    except CaseFolderError as exc:
        raise _unkeyed_problems(exc) from None


def _vacancy_code(row: Mapping[str, str], filed: Mapping[str, str], owner: str) -> str:
    """The authority a vacancy row is (or would be) filed under: its ``owner_la`` (a name such
    as "Essex" resolved to its ONS code, as the folder resolves it; left as written when it
    names no authority, which the validation then reports), else the authority it is stored
    under, else ``owner``."""
    la = row.get("owner_la")
    if la:
        return resolved_code(la) or la
    return filed.get(row["vacancy_id"]) or owner


def resolved_code(la: str) -> str:
    """An ``la`` cell's ONS code (blank when it names no authority: the validation says so)."""
    from geography.authorities import resolve_authority

    try:
        return resolve_authority(la).ons_code
    except Exception:
        return ""


def revision_of(session: Session) -> int:
    """The store's revision, read from the database now (-1 for a store never written).

    Every change of what the store holds (a load, an upload, a child or vacancy put, a
    decision) bumps it in the same transaction as the change itself.
    """
    revision = session.connection().execute(_REVISION).scalar()
    return -1 if revision is None else int(revision)


#: The store's revision: built once (it is read on every ranking, and building the statement
#: cost more than running it).
_REVISION = select(AuthorityState.revision).where(AuthorityState.authority_code == STORE)
#: A child's authority and the store's revision, in one query (both on every ranking).
_AUTHORITY_AND_REVISION = select(
    select(ChildRecord.authority_code)
    .where(
        ChildRecord.child_id == bindparam("child_id"),
        ChildRecord.authority_code.in_(bindparam("codes", expanding=True)),
    )
    .order_by(ChildRecord.authority_code)
    .limit(1)
    .scalar_subquery(),
    _REVISION.scalar_subquery(),
)


def authority_and_revision(
    session: Session, child_id: str, authorities: Iterable[str]
) -> tuple[str | None, int]:
    """The authority (ONS code) of the child with this id among ``authorities`` (``None``
    if none of them has one; another authority's child of that id is not looked at) and the
    store's revision (as :func:`revision_of`), read together in one query."""
    codes = sorted(set(authorities)) or [""]
    row = (
        session.connection()
        .execute(_AUTHORITY_AND_REVISION, {"child_id": child_id, "codes": codes})
        .one()
    )
    return row[0], -1 if row[1] is None else int(row[1])


def stored_folder(session: Session) -> CaseFolder:
    """The store's whole case folder (cached per revision): every child and vacancy, each
    child (and sibling group) under its own id, but one whose id two authorities use under
    its internal key (:func:`key`; :func:`folder_keys` names them)."""
    return _stored_folder(session)[0]


def folder_keys(session: Session) -> Keys:
    """How :func:`stored_folder` names the children (read for the same revision)."""
    return _stored_folder(session)[1]


def folder_and_keys(session: Session) -> tuple[CaseFolder, Keys]:
    """:func:`stored_folder` and :func:`folder_keys`, of one revision."""
    return _stored_folder(session)


def _renamed(
    children: Iterable[Child], shown: Mapping[str, str], groups: Mapping[str, str]
) -> tuple[Child, ...]:
    """``children`` under the ids a view shows (:func:`_view_ids`)."""
    return tuple(
        c
        if c.child_id not in shown and c.sibling_group not in groups
        else dataclasses.replace(
            c,
            child_id=shown.get(c.child_id, c.child_id),
            sibling_group=None
            if c.sibling_group is None
            else groups.get(c.sibling_group, c.sibling_group),
        )
        for c in children
    )


def _stored_folder(session: Session) -> tuple[CaseFolder, Keys]:
    """:func:`stored_folder` and its :class:`Keys`."""
    # The revision is read before the rows: a folder is never filed under a revision newer
    # than the rows it was built from (at worst under an older one, and then rebuilt).
    revision = revision_of(session)
    bind = session.get_bind()
    with _cache_lock:
        hit = _cache.get(bind)
        last = _rows.get(bind)
    if hit is not None and hit[0] == revision:
        return hit[1], hit[2]
    children, vacancies, policy, keys = keyed_rows(session)
    folder = None
    if last is not None and hit is not None and last[0] == hit[0]:
        folder = _with_vacancy_rows(hit[1], last[1:], (children, vacancies, policy, keys))
    if folder is None:
        folder = validate_rows(children, vacancies, policy)
    with _cache_lock:
        _cache[bind] = (revision, folder, keys)
        _rows[bind] = (revision, children, vacancies, policy, keys)
    return folder, keys


#: The rows the kept folder of :func:`_stored_folder` was made from (per engine, weakly).
_rows: weakref.WeakKeyDictionary[Any, tuple[int, Rows, Rows, str | None, Keys]] = (
    weakref.WeakKeyDictionary()
)
#: At most this many changed vacancy rows are read into the last folder
#: (:func:`_with_vacancy_rows`); more, and every row is validated.
VACANCY_ROWS_READ = 16


def _with_vacancy_rows(
    folder: CaseFolder,
    before: tuple[Rows, Rows, str | None, Keys],
    after: tuple[Rows, Rows, str | None, Keys],
) -> CaseFolder | None:
    """The store's folder of the rows ``after``, from ``folder`` (made from the rows
    ``before``) when only a few vacancy rows differ: those read alone, the others' vacancies
    taken as they are; ``None`` when anything else differs (a row more or fewer, a child,
    the policy, the keys) or when the rows read alone are not a valid folder.

    A vacancy row is read the same whatever the other rows (a row's cells, the policy and
    the children its ``connected_to`` names, which are read with it), and every stored row
    was checked with all the others when written; the folder is made anew from its
    children and vacancies, so its own checks run again. Equal to validating every row
    (tests/service/test_service_folder_cache.py); only its ``warnings`` (a parse report,
    never read from the store's folder: a load or an upload reports its own) are those
    of the last folder validated whole.
    """
    children, vacancies, policy, keys = after
    old_children, old_vacancies, old_policy, old_keys = before
    if (
        policy != old_policy
        or keys != old_keys
        or len(vacancies) != len(old_vacancies)
        or len(vacancies) != len(folder.vacancies)
        or children != old_children
    ):
        return None
    changed = [i for i, (a, b) in enumerate(zip(old_vacancies, vacancies, strict=True)) if a != b]
    if not changed or len(changed) > VACANCY_ROWS_READ:
        return None
    if any(vacancies[i]["vacancy_id"] != old_vacancies[i]["vacancy_id"] for i in changed):
        return None
    rows = [vacancies[i] for i in changed]
    named = {c for r in rows for c in r.get("connected_to", "").split(LIST_SEPARATOR) if c}
    # with the children they name (a folder has at least one child: the first, if none)
    some = [r for r in children if r["child_id"] in named] or children[:1]
    try:
        alone = validate_rows(some, rows, policy)
    except CaseFolderError:
        return None
    replaced = list(folder.vacancies)
    for i in changed:
        if replaced[i].vacancy_id != vacancies[i]["vacancy_id"]:
            return None
        replaced[i] = alone.vacancy(vacancies[i]["vacancy_id"])
    return CaseFolder(
        children=folder.children,
        vacancies=tuple(replaced),
        policy=folder.policy,
        warnings=folder.warnings,
        on=folder.on,
        today=folder.today,
        responses=folder.responses,
        residents=folder.residents,
    )


def available_folder(
    session: Session,
    child_ids: Iterable[str] | None = None,
    *,
    today: dt.date | None = None,
    authorities: Iterable[str] | None = None,
) -> CaseFolder:
    """What can be matched now: waiting children (or those given), beds not yet taken.

    Vacancies keep only their free beds; a connected-person carer keeps only the children
    still in the folder, and is left out when none is. ``today`` (passed in, never read
    here): the date matched on, so only vacancies free on each child's date are offered.
    The providers' recorded answers to referrals come with the children and vacancies they
    name: a decline excludes the vacancy for the child, an offer comes first among equals.
    ``authorities`` (ONS codes; ``None``: every vacancy): only the vacancies those
    authorities may see (:func:`visible_to`).
    """
    folder, keys = _stored_folder(session)
    codes = None if authorities is None else frozenset(authorities)
    wanted = None if child_ids is None else set(child_ids)
    return _available_of(session, folder, keys, wanted, today, codes)


def offered(data: Mapping[str, Any]) -> bool:
    """Whether a stored vacancy (its cells) is offered to the pool: ``offered_to_pool`` true
    or blank (the case-folder contract reads blank as offered; ``false`` keeps it back)."""
    return str(data.get("offered_to_pool") or "").lower() != "false"


def vacancy_owner(data: Mapping[str, Any], filed: str) -> str:
    """The authority that owns a stored vacancy (ONS code): its ``owner_la`` in a pooled
    folder, else the authority it is filed under (who uploaded it)."""
    return str(data.get("owner_la") or "") or filed


def visible_to(data: Mapping[str, Any], filed: str, authorities: Iterable[str]) -> bool:
    """Whether officers of ``authorities`` may see a stored vacancy: one their authority
    owns, or one its owner offers to the pool. A vacancy kept back (``offered_to_pool``
    false) never appears to another authority's officer: not in a list, a ranking, its
    exclusions, a why-not, a map or a batch match."""
    return vacancy_owner(data, filed) in set(authorities) or offered(data)


def _visible_ids(
    folder: CaseFolder, filed: Mapping[str, str], authorities: frozenset[str]
) -> set[str]:
    """The ids of the folder's vacancies that ``authorities`` may see (:func:`visible_to`,
    read from the domain's owner and offer, so that no JSON is read)."""
    out = set()
    for v in folder.vacancies:
        owner = v.owner.ons_code if v.owner is not None else filed.get(v.vacancy_id, "")
        if owner in authorities or v.offered_to_pool is not False:
            out.add(v.vacancy_id)
    return out


def visible_vacancy_ids(session: Session, authorities: Iterable[str]) -> set[str]:
    """The ids of the stored vacancies officers of ``authorities`` may see (:func:`visible_to`)."""
    filed = dict(
        session.execute(select(VacancyRecord.vacancy_id, VacancyRecord.authority_code)).all()
    )
    return _visible_ids(stored_folder(session), filed, frozenset(authorities))


def _view_ids(
    folder: CaseFolder, keys: Keys, authorities: frozenset[str] | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The ids the view of ``authorities`` shows for the keyed children and sibling groups
    of those authorities (:class:`Keys`): each one's own id, unless two of the view's
    authorities use it (then the key). A view of every authority (``None``) shows keys."""
    if authorities is None or not keys.ids:
        return {}, {}
    mine = [c for c in folder.children if c.authority.ons_code in authorities]

    def shown(keyed: set[str]) -> dict[str, str]:
        uses = Counter(keys.ids[k] for k in keyed)
        return {k: keys.ids[k] if uses[keys.ids[k]] == 1 else k for k in keyed}

    groups = {c.sibling_group for c in mine if c.sibling_group is not None}
    groups &= set(keys.ids)
    return shown({c.child_id for c in mine if c.child_id in keys.ids}), shown(groups)


def _available_of(
    session: Session,
    folder: CaseFolder,
    keys: Keys,
    wanted: set[str] | None,
    today: dt.date | None,
    authorities: frozenset[str] | None = None,
) -> CaseFolder:
    """The folder of what can be matched now, as the view of ``authorities`` shows it:
    their children under their own ids (:func:`_view_ids`), any other authority's under
    its internal key (in the folder, as in the command line's, so that a ranking's points
    are the same; never named in an answer about one's own children). ``wanted``: ids of
    that view. ``authorities`` ``None``: every authority's view (the keys only of ids that
    two authorities use)."""
    status = {
        keys.child(code, cid): st
        for code, cid, st in session.execute(
            select(ChildRecord.authority_code, ChildRecord.child_id, ChildRecord.status)
        )
    }
    rows = session.execute(
        select(VacancyRecord.vacancy_id, VacancyRecord.beds_taken, VacancyRecord.authority_code)
    ).all()
    taken = {vid: n for vid, n, _ in rows}
    seen = (
        None
        if authorities is None
        else _visible_ids(folder, {vid: code for vid, _, code in rows}, authorities)
    )
    shown, groups = _view_ids(folder, keys, authorities)

    def view(k: str) -> str:
        return shown.get(k, k)

    children = tuple(
        c
        for c in folder.children
        if (
            view(c.child_id) in wanted
            if wanted is not None
            else status.get(c.child_id) == "waiting"
        )
    )
    keep = {c.child_id for c in children}
    vacancies = []
    for v in folder.vacancies:
        free = v.beds - int(taken.get(v.vacancy_id, 0))
        if free <= 0 or (seen is not None and v.vacancy_id not in seen):
            continue
        connected = v.connected_to & keep
        if v.connected_to and not connected:
            continue
        shown_to = frozenset(view(k) for k in connected)
        if free == v.beds and shown_to == v.connected_to:
            vacancies.append(v)  # as stored: the same object from one revision to the next
        else:
            vacancies.append(dataclasses.replace(v, beds=free, connected_to=shown_to))
    present = {v.vacancy_id for v in vacancies}
    answers = tuple(
        dataclasses.replace(r, child_id=view(r.child_id))
        for r in stored_responses(session, keys)
        if r.child_id in keep and r.vacancy_id in present
    )
    if shown or groups:
        children = _renamed(children, shown, groups)
    policy = folder.policy
    if authorities is not None and len(authorities) == 1 and policy.overrides:
        # One authority's view: its children are scored under its own policy (its
        # [authority."NAME"] table), as the pooled match and `placematch rank` score them.
        from geography.authorities import resolve_authority
        from matcher.pooled import policy_for

        policy = policy_for(folder, resolve_authority(next(iter(authorities))))
    return CaseFolder(
        children=children,
        vacancies=tuple(vacancies),
        policy=policy,
        on=today,
        today=today,
        responses=answers,
    )


def stored_responses(session: Session, keys: Keys | None = None) -> list[ReferralResponse]:
    """Every recorded answer to a referral, as the case folder's responses (each child
    named as :func:`stored_folder` names it: ``keys``, by default :func:`folder_keys`)."""
    keys = folder_keys(session) if keys is None else keys
    from matcher.vocabulary import Response, ResponseReason

    rows = session.execute(
        select(
            ProviderResponse.vacancy_id,
            ProviderResponse.child_id,
            ProviderResponse.authority_code,
            ProviderResponse.response,
            ProviderResponse.reason,
        )
    ).all()
    return [
        ReferralResponse(
            v, keys.child(code, c), Response(r), None if why is None else ResponseReason(why)
        )
        for v, c, code, r, why in rows
    ]


def record_response(
    session: Session, authority: str, response: ReferralResponse, user_id: int | None
) -> tuple[ProviderResponse, bool]:
    """Record a provider's answer (replacing an earlier one for the same child and vacancy).

    Returns the row and whether it is new (flushed, not committed). The caller checks that
    the child and the vacancy exist and that the user may see the child. ``user_id`` is
    ``None`` for an answer read from a case folder (``placematch load``).
    """
    now = utcnow()
    row = session.scalar(
        select(ProviderResponse).where(
            ProviderResponse.authority_code == authority,
            ProviderResponse.child_id == response.child_id,
            ProviderResponse.vacancy_id == response.vacancy_id,
        )
    )
    reason = None if response.reason is None else response.reason.value
    created = row is None
    if row is None:
        row = ProviderResponse(
            authority_code=authority,
            child_id=response.child_id,
            vacancy_id=response.vacancy_id,
            response=response.response.value,
            reason=reason,
            user_id=user_id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.response = response.response.value
        row.reason = reason
        row.user_id = user_id
        row.updated_at = now
    session.flush()
    _bump(session)  # an answer changes rankings: cached folders of older revisions go
    return row, created


def responses_of_child(session: Session, child_id: str, authority: str) -> list[ProviderResponse]:
    """The recorded answers to the referrals of an authority's child, by vacancy."""
    return list(
        session.scalars(
            select(ProviderResponse)
            .where(
                ProviderResponse.authority_code == authority,
                ProviderResponse.child_id == child_id,
            )
            .order_by(ProviderResponse.vacancy_id)
        )
    )


def _has_child(folder: CaseFolder, child_id: str) -> bool:
    try:
        folder.child(child_id)
    except KeyError:
        return False
    return True


def waiting_folder(
    session: Session,
    child_id: str | None = None,
    *,
    today: dt.date | None = None,
    authority: str | None = None,
) -> CaseFolder:
    """:func:`available_folder` of the waiting children and ``child_id`` (which may be placed).

    What a ranking, a why-not or a map of one child is asked on. Kept for the store's
    revision and date, per child that is not waiting (the last :data:`AVAILABLE_KEPT`), so
    that the requests between two changes share one folder object, and with it the arrays
    the engine builds for a folder (:meth:`matcher.domain.CaseFolder.derived`). Any change to
    the store (a load, an upload, a put, a decision) bumps its revision, so the next call
    builds afresh; so does another date. Safe under concurrency: a folder is frozen, and one
    thread builds while the others wait.

    ``authority`` (an ONS code; the child's own): that authority's view, kept apart from the
    others: only the vacancies it may see (its own and those offered to the pool,
    :func:`visible_to`), scored under its own policy (``[authority."NAME"]``).
    """
    key = session.get_bind()
    revision = revision_of(session)  # first: see stored_folder
    codes = None if authority is None else frozenset({authority})
    with _available_lock:
        kept = _available.get(key)
        if kept is None or kept[0] != (revision, today):
            kept = ((revision, today), {})
            _available[key] = kept
        folders = kept[1]
        base = folders.get((authority, None))
        if base is None:
            # Built from rows at least as new as `revision`, so never staler than its key.
            base = _available_of(session, *_stored_folder(session), None, today, codes)
            folders[(authority, None)] = base
        if child_id is None or _has_child(base, child_id):
            return base
        extra = folders.get((authority, child_id))
        if extra is None:
            wanted = {c.child_id for c in base.children} | {child_id}
            extra = _available_of(session, *_stored_folder(session), wanted, today, codes)
            if len(folders) > AVAILABLE_KEPT:
                del folders[next(k for k in folders if k[1] is not None)]
            folders[(authority, child_id)] = extra
        return extra


def kept_waiting_folder(
    session: Session, child_id: str, *, today: dt.date | None, authority: str, revision: int
) -> CaseFolder | None:
    """The folder :func:`waiting_folder` gives for a waiting child of ``authority`` at
    ``revision`` (read with the caller's access check) and ``today``, if it is built
    already; ``None`` otherwise (nothing is built here, nothing waited for)."""
    with _available_lock:
        kept = _available.get(session.get_bind())
        if kept is None or kept[0] != (revision, today):
            return None
        base = kept[1].get((authority, None))
    if base is None or not _has_child(base, child_id):
        return None
    return base


# --------------------------------------------------------------------------- writing


def child_record(session: Session, child_id: str, authorities: Iterable[str]) -> ChildRecord | None:
    """The stored child with this id among ``authorities`` (ONS codes; ids are per
    authority: another authority's child of that id is never returned). With several
    authorities using the id, the first by code."""
    return session.scalar(
        select(ChildRecord)
        .where(
            ChildRecord.child_id == child_id,
            ChildRecord.authority_code.in_(sorted(set(authorities))),
        )
        .order_by(ChildRecord.authority_code)
        .limit(1)
    )


def any_child_authority(session: Session, child_id: str) -> str | None:
    """The first authority (by code) with a child of this id, whatever the user: only to
    file an audit entry of a refused attempt where that authority's officers see it."""
    return session.scalar(
        select(ChildRecord.authority_code)
        .where(ChildRecord.child_id == child_id)
        .order_by(ChildRecord.authority_code)
        .limit(1)
    )


def vacancy_record(session: Session, vacancy_id: str) -> VacancyRecord | None:
    """The stored vacancy with this id."""
    return session.scalar(select(VacancyRecord).where(VacancyRecord.vacancy_id == vacancy_id))


def _check_authorities(folder: CaseFolder, allowed: Iterable[str] | None, file: str) -> None:
    if allowed is None:
        return
    ok = set(allowed)
    wrong = sorted(c.child_id for c in folder.children if c.authority.ons_code not in ok)
    if wrong:
        raise CaseFolderError(
            [
                Problem(
                    file,
                    None,
                    "la",
                    f"children {', '.join(wrong[:10])} belong to an authority you do not work "
                    "for; expected only children of your own authorities",
                )
            ]
        )


def _upsert_child(session: Session, row: Mapping[str, str], authority: str) -> bool:
    record = child_record(session, row["child_id"], (authority,))
    now = utcnow()
    if record is None:
        session.add(
            ChildRecord(
                authority_code=authority,
                child_id=row["child_id"],
                data=dict(row),
                status="waiting",
                created_at=now,
                updated_at=now,
            )
        )
        return True
    record.data = dict(row)
    record.updated_at = now
    return False


def _upsert_vacancy(session: Session, row: Mapping[str, str], owner: str) -> bool:
    record = vacancy_record(session, row["vacancy_id"])
    now = utcnow()
    # A pooled folder's vacancy is filed under the authority that owns it (owner_la), so
    # that only that authority's officers may change it.
    owner = row.get("owner_la") or owner
    if record is None:
        session.add(
            VacancyRecord(
                authority_code=owner,
                vacancy_id=row["vacancy_id"],
                data=dict(row),
                beds=int(row["beds"]),
                beds_taken=0,
                created_at=now,
                updated_at=now,
            )
        )
        return True
    record.data = dict(row)
    record.beds = int(row["beds"])
    if row.get("owner_la"):
        record.authority_code = row["owner_la"]
    record.updated_at = now
    return False


def _refuse_other_owners(rows: Rows, allowed: Iterable[str] | None, line: int | None) -> None:
    """An officer files vacancies only for their own authorities: a vacancy whose
    ``owner_la`` is another authority is refused (it would be that authority's to change)."""
    if allowed is None:
        return
    ok = set(allowed)
    wrong = sorted(r["vacancy_id"] for r in rows if r.get("owner_la") and r["owner_la"] not in ok)
    if wrong:
        raise CaseFolderError(
            [
                Problem(
                    VACANCIES_FILE,
                    line,
                    "owner_la",
                    f"vacancies {', '.join(wrong[:10])} name an owner you do not work for; "
                    "expected one of the authorities you work for (or blank)",
                )
            ]
        )


def store_folder(
    session: Session,
    folder: CaseFolder,
    policy_toml: str | None,
    *,
    owner: str,
    allowed: Iterable[str] | None = None,
    files: Iterable[str] = (CHILDREN_FILE, VACANCIES_FILE),
) -> LoadReport:
    """Merge a validated folder into the store (upsert by id; flushed, not committed).

    Children are filed under their own authority (``la``); vacancies under ``owner`` when new.
    Only the rows of ``files`` are written (the others were read from the store).

    Raises
    ------
    CaseFolderError
        If a child is not of an ``allowed`` authority, or if the folder together with what
        is stored is not a valid case folder. Nothing is written then.
    """
    rows = case_folder_rows(folder)
    written = set(files)
    warnings = folder.warnings
    if folder.residents:
        # Not stored yet: say so rather than drop them unnoticed.
        warnings = (
            *warnings,
            Problem(
                RESIDENTS_FILE,
                None,
                None,
                f"{len(folder.residents)} resident(s) checked but not stored: the service does "
                "not keep residents.csv yet, so its rankings do not check them (use placematch "
                "rank or impact on the case folder)",
            ),
        )
    if CHILDREN_FILE not in written:
        rows[CHILDREN_FILE] = []
        folder = CaseFolder(
            children=(), vacancies=(), policy=folder.policy, warnings=folder.warnings
        )
    else:
        _check_authorities(folder, allowed, CHILDREN_FILE)
    vacancy_rows = rows[VACANCIES_FILE] if VACANCIES_FILE in written else []
    rows[VACANCIES_FILE] = vacancy_rows
    _refuse_other_owners(vacancy_rows, allowed, None)
    old_children, codes, old_vacancies, vcodes, old_policy = _stored(session)
    filed = {r["vacancy_id"]: c for r, c in zip(old_vacancies, vcodes, strict=True)}
    if allowed is not None:
        # Vacancy ids are one list for the store: an officer's row with the id of another
        # authority's vacancy would overwrite that vacancy, so it is refused.
        ok = set(allowed)
        theirs = [
            r for r in vacancy_rows if r["vacancy_id"] in filed and filed[r["vacancy_id"]] not in ok
        ]
        if theirs:
            raise CaseFolderError(
                [
                    Problem(
                        VACANCIES_FILE,
                        None,
                        "vacancy_id",
                        f"{len(theirs)} vacancy_id(s) are already used in this store by a "
                        "vacancy you do not hold; expected ids not used by another authority",
                    )
                ]
            )
    # Each child under its own authority: an officer's child C0001 is another child than
    # another authority's C0001, so that nothing here depends on which ids others use.
    new_children = [
        (c.authority.ons_code, r) for c, r in zip(folder.children, rows[CHILDREN_FILE], strict=True)
    ]
    new_vacancies = [(_vacancy_code(r, filed, owner), r) for r in rows[VACANCIES_FILE]]
    fresh = {(c, r["child_id"]) for c, r in new_children}
    fresh_v = {r["vacancy_id"] for r in rows[VACANCIES_FILE]}
    policy = policy_toml if policy_toml is not None else old_policy
    # The rows written come first, so that a problem's line is the line of the file sent.
    _validate_keyed(
        [
            *new_children,
            *(
                (c, r)
                for c, r in zip(codes, old_children, strict=True)
                if (c, r["child_id"]) not in fresh
            ),
        ],
        [
            *new_vacancies,
            *((filed[r["vacancy_id"]], r) for r in old_vacancies if r["vacancy_id"] not in fresh_v),
        ],
        policy,
    )
    added_c = added_v = 0
    for code, row in new_children:
        added_c += _upsert_child(session, row, code)
    for row in rows[VACANCIES_FILE]:
        added_v += _upsert_vacancy(session, row, owner)
    state = _state(session)
    if policy_toml is not None:
        state.policy_toml = policy_toml
    session.flush()
    _bump(session)
    return LoadReport(
        owner,
        added_c,
        len(folder.children) - added_c,
        added_v,
        len(vacancy_rows) - added_v,
        policy_toml is not None,
        warnings,
    )


def folder_owner(folder: CaseFolder, given: str | None) -> str:
    """The authority new vacancies of a loaded folder are filed under.

    ``given`` (an ONS code) if set; else the policy's ``authority``; else the authority of
    most children (``CaseFolder.main_authority``).

    Raises
    ------
    ValueError
        When it cannot be told (no children and no policy authority).
    """
    if given is not None:
        return given
    if folder.policy.authority is not None:
        from geography.authorities import resolve_authority

        return resolve_authority(folder.policy.authority).ons_code
    main = folder.main_authority
    if main is None:
        raise ValueError("the folder has no children: give --authority to file its vacancies")
    return main.ons_code


def load_path(session: Session, path: str | Path, authority: str | None = None) -> LoadReport:
    """Validate a case folder on disk and merge it into the store (flushed, not committed).

    Its ``responses.csv`` (providers' answers) is stored too, each replacing an earlier
    answer for the same child and vacancy, recorded as read from the folder (no user).
    """
    folder = load_case_folder(path)
    policy_path = Path(path) / POLICY_FILE
    policy = (  # read as load_case_folder read it: a regular UTF-8 file under the size cap
        read_text(policy_path, limit=MAX_POLICY_BYTES, save_as="save it as UTF-8 text")
        if policy_path.exists()
        else None
    )
    report = store_folder(session, folder, policy, owner=folder_owner(folder, authority))
    for answer in folder.responses:
        child = folder.child(answer.child_id)
        record_response(session, child.authority.ons_code, answer, None)
    return dataclasses.replace(report, responses=len(folder.responses))


def load_files(
    session: Session,
    files: Mapping[str, bytes],
    *,
    owner: str,
    allowed: Iterable[str] | None = None,
) -> LoadReport:
    """Validate uploaded case-folder files (by their case-folder names) and merge them.

    ``children.csv`` and ``vacancies.csv`` may each be left out (an empty file is used).
    """
    folder: dict[str, str | bytes] = dict(files)
    stored_children, codes, stored_vacancies, _, _ = _stored(session)
    if allowed is not None:
        # The upload is checked against the uploader's own children only: another
        # authority's ids are unknown here (a carer naming one is refused as naming an
        # unknown child; a child of that id is another child).
        ok = set(allowed)
        stored_children = [r for r, c in zip(stored_children, codes, strict=True) if c in ok]
    # Stand-in vacancies only check the children's file: carers naming children drop
    # out (they may name stored children not in it). The whole store with the upload
    # is validated again before anything is written.
    stored_vacancies = [r for r in stored_vacancies if not r.get("connected_to")]
    for name, stored in ((CHILDREN_FILE, stored_children), (VACANCIES_FILE, stored_vacancies)):
        if name not in files:  # the file not sent: what is stored stands in for it
            folder[name] = _csv_text(name, stored)
    loaded = parse_case_folder(folder)
    policy = files.get(POLICY_FILE)
    return store_folder(
        session,
        loaded,
        None if policy is None else policy.decode("utf-8"),
        owner=owner,
        allowed=allowed,
        files=[n for n in (CHILDREN_FILE, VACANCIES_FILE) if n in files],
    )


def _named(row: Mapping[str, str]) -> set[str]:
    """The child ids a vacancy row's ``connected_to`` names."""
    return {i for i in str(row.get("connected_to") or "").split(LIST_SEPARATOR) if i}


class IdUsedError(ConflictError):
    """A record to create has an id used already (``field`` names it)."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field} {value!r} is already used")
        self.field = field


def put_record(
    session: Session,
    kind: str,
    row: Mapping[str, str],
    *,
    owner: str,
    allowed: Iterable[str],
    create: bool = False,
) -> bool:
    """Create or replace one child (``kind`` ``"child"``) or vacancy from its CSV cells.

    Validated with everything stored; problems on the new row are on line 2. A child must be
    of an ``allowed`` authority, and replaces only that authority's child of its id; a
    carer's ``connected_to`` names children of the authority it is filed under. Returns
    whether it was created (flushed, not committed).

    Raises
    ------
    IdUsedError
        With ``create``, when the id is used by then (rolled back): another request stored
        it after the caller looked, and it is never replaced by a create.
    """
    is_child = kind == "child"
    file, ident = (CHILDREN_FILE, "child_id") if is_child else (VACANCIES_FILE, "vacancy_id")
    children, codes, vacancies, vcodes, policy = _stored(session)
    filed = {r["vacancy_id"]: c for r, c in zip(vacancies, vcodes, strict=True)}
    stored_c = list(zip(codes, children, strict=True))
    stored_v = [(c, r) for r, c in zip(vacancies, vcodes, strict=True)]
    ok = set(allowed)
    if is_child:
        code = resolved_code(str(row.get("la") or ""))
        if code not in ok:
            # Checked without any stored child: the answer cannot depend on another
            # authority's rows (nor on carers, which name children).
            validate_rows([dict(row)], [r for r in vacancies if not r.get("connected_to")], policy)
            raise CaseFolderError(
                [Problem(file, 2, "la", "expected one of the authorities you work for")]
            )
        merged_c = [
            (code, dict(row)),
            *((c, r) for c, r in stored_c if (c, r["child_id"]) != (code, row.get(ident))),
        ]
        folder = _validate_keyed(merged_c, stored_v, policy)
        child = folder.child(key(code, row[ident].strip()))
        canonical = case_folder_rows(CaseFolder(children=(child,), vacancies=()))[file][0]
        canonical["child_id"] = row[ident].strip()  # its own id and group, not their keys
        canonical["sibling_group"] = str(row.get("sibling_group") or "").strip()
        created = _upsert_child(session, canonical, code)
        if create and not created:
            session.rollback()
            raise IdUsedError(ident, row[ident])
    else:
        code = _vacancy_code(row, filed, owner)
        merged_v = [
            (code, dict(row)),
            *((c, r) for c, r in stored_v if r["vacancy_id"] != row.get(ident)),
        ]
        folder = _validate_keyed(stored_c, merged_v, policy)
        vacancy = folder.vacancy(row[ident])
        canonical = case_folder_rows(CaseFolder(children=folder.children, vacancies=(vacancy,)))[
            file
        ][0]
        if vacancy.connected_to:  # the carer's children by their own ids again
            own = {key(code, i.strip()): i.strip() for i in _named(row)}
            canonical["connected_to"] = LIST_SEPARATOR.join(
                sorted(own[k] for k in vacancy.connected_to)
            )
        _refuse_other_owners([canonical], allowed, 2)
        created = _upsert_vacancy(session, canonical, owner)
        if create and not created:
            session.rollback()
            raise IdUsedError(ident, row[ident])
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        if create:  # inserted by another request since the look above
            raise IdUsedError(ident, row[ident]) from None
        raise
    _bump(session)
    return created


def record_decision(
    session: Session,
    authority: str,
    child_id: str,
    vacancy_id: str,
    user_id: int,
    reason: str,
) -> Decision:
    """Take a bed for a child, atomically, and commit.

    Raises
    ------
    ConflictError
        If the vacancy has no free bed left or the child is already placed (rolled back).
    """
    try:
        took = session.execute(
            update(VacancyRecord)
            .where(
                VacancyRecord.vacancy_id == vacancy_id,
                VacancyRecord.beds_taken < VacancyRecord.beds,
            )
            .values(beds_taken=VacancyRecord.beds_taken + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if took.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(
                f"vacancy {vacancy_id} has no free bed left: another decision has taken it"
            )
        placed = session.execute(
            update(ChildRecord)
            .where(
                ChildRecord.authority_code == authority,
                ChildRecord.child_id == child_id,
                ChildRecord.status == "waiting",
            )
            .values(status="placed", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if placed.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(f"child {child_id} is already placed: a decision is recorded")
        decision = Decision(
            authority_code=authority,
            child_id=child_id,
            vacancy_id=vacancy_id,
            user_id=user_id,
            reason=reason,
            created_at=utcnow(),
        )
        session.add(decision)
        session.flush()
        _bump(session)
        session.commit()
    except ConflictError:
        session.rollback()
        raise
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"child {child_id} is already placed: a decision is recorded") from None
    return decision


def withdraw_decision(session: Session, authority: str, child_id: str) -> Decision:
    """Withdraw a child's recorded decision, atomically, and commit: the bed is free again.

    The child is waiting again, the vacancy has one bed more, and the decision row goes (the
    database keeps one decision per child); who withdrew it and why go to the audit log,
    written by the caller in the same transaction before this commits. Returns a copy of the
    withdrawn decision (not in the session).

    Raises
    ------
    ConflictError
        If the child has no recorded decision (never placed, or withdrawn at the same moment
        by another officer); rolled back.
    """
    try:
        # First write: the child's status, conditionally, so that two officers withdrawing at
        # once cannot both free the bed (the second finds the child waiting).
        back = session.execute(
            update(ChildRecord)
            .where(
                ChildRecord.authority_code == authority,
                ChildRecord.child_id == child_id,
                ChildRecord.status == "placed",
            )
            .values(status="waiting", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        decision = session.scalar(
            select(Decision).where(
                Decision.authority_code == authority, Decision.child_id == child_id
            )
        )
        if back.rowcount != 1 or decision is None:  # type: ignore[attr-defined]
            raise ConflictError(f"child {child_id} has no recorded decision to withdraw")
        freed = session.execute(
            update(VacancyRecord)
            .where(
                VacancyRecord.vacancy_id == decision.vacancy_id,
                VacancyRecord.beds_taken > 0,
            )
            .values(beds_taken=VacancyRecord.beds_taken - 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if freed.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(
                f"vacancy {decision.vacancy_id} has no taken bed to free: the store is not "
                "consistent; nothing was changed"
            )
        # A plain copy to return: the row itself is gone after the commit.
        withdrawn = Decision(
            id=decision.id,
            authority_code=decision.authority_code,
            child_id=decision.child_id,
            vacancy_id=decision.vacancy_id,
            user_id=decision.user_id,
            reason=decision.reason,
            created_at=decision.created_at,
        )
        session.delete(decision)
        session.flush()
        _bump(session)
        session.commit()
    except ConflictError:
        session.rollback()
        raise
    return withdrawn
