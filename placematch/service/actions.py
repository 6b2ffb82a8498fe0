"""What the API and the page both do: every verb of the service, with its access check,
its work on the store and the engine, and its audit entry.

Every function takes the signed-in :class:`~placematch.service.auth.Principal` and checks,
on every call, the role and the authority (:mod:`placematch.service.access`, the rules in
one place). A child outside the user's authorities answers exactly as a child that does not
exist (404), so ids cannot be probed; the attempt is audited as ``denied``. The API
(:mod:`placematch.service.api`) and the page (:mod:`placematch.service.pages`) turn these
verbs' answers into JSON or HTML, and nothing else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import tomllib
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import orjson
from fastapi import Request
from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.domain import CaseFolder, InvalidFieldError, ReferralResponse, Vacancy
from matcher.explain import Option, Ranking, WhyNot
from matcher.rank import (
    EMERGENCY_WITHIN_DAYS,
    FolderChange,
    SoonFree,
    UnknownIdError,
    declined,
    folder_change,
    option_order,
    part_arrays,
    rank_child,
    ranking_data,
    ranking_parts,
    soon_free,
    why_not,
)
from matcher.scoring import Scoring
from matcher.vocabulary import Response, ResponseReason, Urgency, VocabularyError
from placematch.service import audit, auth, store
from placematch.service.access import (
    ADMIN,
    COMMISSIONER,
    OFFICER,
    audit_scope,
    connected_to_shown,
    may_change_vacancy,
    may_see_vacancy,
    not_found,
    require,
    visible_child,
    visible_child_authority,
    visible_job,
    visible_vacancy,
)
from placematch.service.answers import (
    Answers,
    Part,
    Renumbering,
    Stale,
    answers_of,
    dumps_with_options,
    first_options,
    layout_of,
    renumbering,
    spliced,
)
from placematch.service.auth import Principal
from placematch.service.errors import ProblemError
from placematch.service.models import (
    AuditEntry,
    ChildRecord,
    Decision,
    Forecast,
    Job,
    ProviderResponse,
    UserAuthority,
    VacancyRecord,
    utcnow,
)
from placematch.service.models import User as UserRow

_T = TypeVar("_T")

#: Today's date, the date the service ranks and matches on (replaced in tests).
clock: Callable[[], dt.date] = dt.date.today


def child_dict(record: ChildRecord, decision: Decision | None = None) -> dict[str, Any]:
    """A child's record as the API returns it."""
    out: dict[str, Any] = {
        "child_id": record.child_id,
        "authority": record.authority_code,
        "status": record.status,
        "record": dict(record.data),
    }
    if decision is not None:
        out["decision"] = decision_dict(decision)
    return out


def vacancy_dict(record: VacancyRecord, who: Principal, session: Session) -> dict[str, Any]:
    """A vacancy as the API returns it; ``connected_to`` only names children the user may see."""
    data = dict(record.data)
    if data.get("connected_to"):
        data["connected_to"] = connected_to_shown(session, who, record)
    owner = store.vacancy_owner(record.data, record.authority_code)
    return {
        "vacancy_id": record.vacancy_id,
        "owner": owner,
        "offered_to_pool": store.offered(record.data),
        # another authority's vacancy, seen because its owner offers it to the pool
        "pooled": not who.may_see(owner),
        "beds": record.beds,
        "beds_taken": record.beds_taken,
        "beds_free": max(0, record.beds - record.beds_taken),
        "record": data,
    }


def decision_dict(d: Decision | Row[int, str, str, int, str, dt.datetime]) -> dict[str, Any]:
    """A decision as JSON-ready data."""
    return {
        "id": d.id,
        "child_id": d.child_id,
        "vacancy_id": d.vacancy_id,
        "user_id": d.user_id,
        "reason": d.reason,
        "at": d.created_at.isoformat(),
    }


#: A child's decision, the columns :func:`decision_dict` reads (built once, read on the
#: session's connection: an ORM query for it was a tenth of a ranking built afresh).
_DECISION_OF_CHILD = select(
    Decision.id,
    Decision.child_id,
    Decision.vacancy_id,
    Decision.user_id,
    Decision.reason,
    Decision.created_at,
).where(
    Decision.authority_code == bindparam("authority"),
    Decision.child_id == bindparam("child_id"),
)


def decision_of(session: Session, record: ChildRecord) -> Decision | None:
    """The decision recorded for a child, if any."""
    return session.scalar(
        select(Decision).where(
            Decision.authority_code == record.authority_code,
            Decision.child_id == record.child_id,
        )
    )


def placement_history(session: Session, record: ChildRecord) -> list[dict[str, Any]]:
    """The child's decisions and their withdrawals, oldest first, from the audit log.

    The store keeps one decision per child (a withdrawal deletes it, so the bed is free),
    and the audit log keeps every one that was recorded (``decision``) or withdrawn
    (``withdraw``), outcome ``ok``, with who, when and why: this reads them back. Each item
    is ``{"event": "decision" | "withdrawal", "vacancy_id", "by", "at", "reason"}``.
    """
    rows = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.authority_code == record.authority_code,
            AuditEntry.resource == "child",
            AuditEntry.action.in_(("decision", "withdraw")),
            AuditEntry.outcome == "ok",
            AuditEntry.resource_id.startswith(f"{record.child_id}/", autoescape=True),
        )
        .order_by(AuditEntry.id)
    )
    return [
        {
            "event": "decision" if e.action == "decision" else "withdrawal",
            "vacancy_id": e.resource_id[len(record.child_id) + 1 :],
            "by": e.username,
            "at": e.at.isoformat(),
            "reason": e.reason,
        }
        for e in rows
    ]


def siblings_of(session: Session, record: ChildRecord) -> list[ChildRecord]:
    """The child's siblings in the store (its sibling group, same authority), by id.

    A sibling group never spans authorities (the case folder refuses it), so the siblings
    are exactly as visible as the child; the caller has checked that.
    """
    group = record.data.get("sibling_group") or ""
    if not group:
        return []
    same = session.scalars(
        select(ChildRecord)
        .where(ChildRecord.authority_code == record.authority_code)
        .order_by(ChildRecord.child_id)
    )
    return [
        c for c in same if c.child_id != record.child_id and c.data.get("sibling_group") == group
    ]


def list_children(
    session: Session, who: Principal, request: Request, status: str | None = None
) -> list[ChildRecord]:
    """The children of the user's authorities (audited as one list read)."""
    require(who, OFFICER)
    q = (
        select(ChildRecord)
        .where(ChildRecord.authority_code.in_(who.authorities))
        .order_by(ChildRecord.child_id)
    )
    if status is not None:
        q = q.where(ChildRecord.status == status)
    rows = list(session.scalars(q))
    for code in who.authorities:
        audit.record(
            session,
            who,
            request,
            "list",
            "children",
            f"{status or 'all'}",
            authority=code,
            commit=False,
        )
    session.commit()
    return rows


def read_child(
    session: Session, who: Principal, request: Request, child_id: str, reason: str = ""
) -> tuple[ChildRecord, Decision | None]:
    """One child's record (audited)."""
    record = visible_child(session, who, request, child_id, "read")
    audit.record(
        session,
        who,
        request,
        "read",
        "child",
        child_id,
        authority=record.authority_code,
        reason=reason,
    )
    return record, decision_of(session, record)


def create_child(
    session: Session, who: Principal, request: Request, row: Mapping[str, str]
) -> ChildRecord:
    """Add a child from its case-folder cells (validated with everything stored; 409 for an
    id its authority uses already; audited as ``create``)."""
    require(who, OFFICER)
    child_id = row["child_id"]
    # Ids are per authority: only the child's own authority's ids are looked at (one the
    # user does not work for is refused by the store as for any child of that authority).
    code = store.resolved_code(row["la"])
    existing = store.child_record(session, child_id, (code,)) if who.may_see(code) else None
    return _create_new(
        existing is not None,
        lambda: _put_child(session, who, request, row, "create"),
        "child_id",
        f"child_id {child_id!r} is already used; PUT /children/{{id}} to change it",
    )


def _create_new(exists: bool, put: Callable[[], _T], field: str, detail: str) -> _T:
    """``put()`` a new record, or the 409 naming ``field`` when its id is used: found
    before (``exists``) or stored by another request between that look and the put (the
    store's :class:`~placematch.service.store.IdUsedError`)."""
    used = ProblemError(409, detail, [{"field": field, "message": "already used"}])
    if exists:
        raise used
    try:
        return put()
    except store.IdUsedError:
        raise used from None


def update_child(
    session: Session, who: Principal, request: Request, child_id: str, row: Mapping[str, str]
) -> ChildRecord:
    """Replace a child's record (a child the user may see; validated; audited as
    ``update``)."""
    visible_child(session, who, request, child_id, "update")
    _id_as_in_path(row, "child_id", child_id)
    return _put_child(session, who, request, row, "update")


def _id_as_in_path(row: Mapping[str, str], key: str, in_path: str) -> None:
    """Refuse a body whose id differs from the path's (422 naming the field)."""
    if row[key] != in_path:
        raise ProblemError(
            422,
            f"{key} in the body differs from the path",
            [{"field": key, "message": "expected the id in the path"}],
        )


def _put_child(
    session: Session, who: Principal, request: Request, row: Mapping[str, str], action: str
) -> ChildRecord:
    store.put_record(
        session, "child", row, owner="", allowed=who.authorities, create=action == "create"
    )
    record = store.child_record(session, row["child_id"], (store.resolved_code(row["la"]),))
    assert record is not None
    audit.record(
        session,
        who,
        request,
        action,
        "child",
        row["child_id"],
        authority=record.authority_code,
    )
    return record


@dataclasses.dataclass(frozen=True, slots=True)
class ChildOptions:
    """What an officer's page shows of a child it ranks, all from one case folder.

    ``ranking`` (every option, best first), ``own_carers`` (whether the child's authority's
    policy puts its own carers first, so that their points get a column), ``within_days``,
    ``date`` and ``soon`` (for an emergency: the days looked ahead, the child's date and the
    vacancies that free within them, as ``placematch rank`` lists them; ``(0, date, ())``
    otherwise), and the why-not asked about: ``why_not`` (the answer) or ``why_not_problem``
    (why there is none: the vacancy's beds are all taken, or it is not one the user may see).
    """

    ranking: Ranking
    own_carers: bool
    within_days: int
    date: dt.date | None
    soon: tuple[SoonFree, ...]
    why_not: WhyNot | None = None
    why_not_problem: str = ""


def child_options(
    session: Session,
    who: Principal,
    request: Request,
    record: ChildRecord,
    why_not_id: str = "",
    reason: str = "officer page",
) -> ChildOptions:
    """The child's ranked options and what goes with them on its page (audited as a ranking,
    and as a why-not when ``why_not_id`` is asked), on one case folder ranked once.

    ``record`` is the child as :func:`read_child` answered it (access checked). A why-not on
    a vacancy with no free bed (409) or one the user may not see (404) is answered in
    ``why_not_problem``, beside the options, not instead of them.
    """
    child_id = record.child_id
    folder = store.waiting_folder(session, child_id, today=clock(), authority=record.authority_code)
    ranking = rank_child(folder, child_id, None)
    audit.record(
        session,
        who,
        request,
        "rank",
        "child",
        child_id,
        authority=record.authority_code,
        reason=reason,
    )
    # A pooled folder scores the child under its own authority's policy: its own in-house
    # carers' points (own_carers) get a column when that policy turns them on.
    own_carers = (
        any(f.factor == "own_carers" for o in ranking.options for f in o.factors)
        and folder.policy.own_carers_first
    )
    days = EMERGENCY_WITHIN_DAYS if folder.child(child_id).is_emergency else 0
    day, found = soon_free(folder, child_id, days)
    answer, problem = None, ""
    if why_not_id:
        try:
            answer = _why_not_on(session, who, request, folder, record, why_not_id, "")
        except ProblemError as exc:
            if exc.status not in (404, 409):
                raise
            problem = exc.detail
    return ChildOptions(ranking, own_carers, days, day, found, answer, problem)


@dataclasses.dataclass(frozen=True, slots=True)
class ChildPage:
    """Everything an officer's page of one child shows (:func:`child_page`).

    ``record`` and ``decision`` (the child and its placement, if placed), ``answers`` (the
    providers' answers to its referrals), ``siblings``, ``history`` (its decisions and
    withdrawals); for a placed child, ``placement`` (the vacancy's cells) and
    ``decided_by`` (the officer's user name); for a waiting one, ``options``
    (:class:`ChildOptions`) and ``vacancies`` (the vacancies its authority may see, by id:
    its own and those offered to the pool, never another's kept back).
    """

    record: ChildRecord
    decision: Decision | None
    answers: list[ProviderResponse]
    siblings: list[ChildRecord]
    history: list[dict[str, Any]]
    placement: Mapping[str, Any] | None = None
    decided_by: str | None = None
    options: ChildOptions | None = None
    vacancies: Mapping[str, Vacancy] = dataclasses.field(default_factory=dict)


def child_page(
    session: Session, who: Principal, request: Request, child_id: str, why_not_id: str = ""
) -> ChildPage:
    """A child's page (audited as a read, and for a waiting child as a ranking and the
    why-not asked): a placed child's placement, not a ranking of beds it no longer needs; a
    waiting child's options from one folder ranked once (:func:`child_options`)."""
    record, decision = read_child(
        session, who, request, child_id, reason="opened in the officer page"
    )
    page = ChildPage(
        record,
        decision,
        store.responses_of_child(session, child_id, record.authority_code),
        siblings_of(session, record),
        placement_history(session, record),
    )
    if decision is not None:
        vacancy = store.vacancy_record(session, decision.vacancy_id)
        decided_by = session.get(UserRow, decision.user_id)
        return dataclasses.replace(
            page,
            placement=None if vacancy is None else vacancy.data,
            decided_by=None if decided_by is None else decided_by.username,
        )
    options = child_options(session, who, request, record, why_not_id)
    seen = store.visible_vacancy_ids(session, [record.authority_code])
    vacancies = {
        v.vacancy_id: v for v in store.stored_folder(session).vacancies if v.vacancy_id in seen
    }
    return dataclasses.replace(page, options=options, vacancies=vacancies)


def match_page(
    session: Session, who: Principal, request: Request, job_id: str
) -> tuple[Job, dict[str, str], dict[str, Vacancy]]:
    """A batch match's page: the job (the user's own, :func:`access.visible_job`), the
    children of its proposals already decided (child -> vacancy) and the stored vacancies by
    id; its result, once there, is audited as read."""
    job = visible_job(session, who, job_id, request=request)
    decided: dict[str, str] = {}
    if job.result is not None:
        audit.record(
            session, who, request, "read", "match_result", job_id, authority=job.authority_code
        )
        ids = [str(a["child_id"]) for a in job.result.get("assignments", [])]
        decided = decided_children(session, who, ids)
    vacancies = {v.vacancy_id: v for v in store.stored_folder(session).vacancies}
    return job, decided, vacancies


#: Most days ahead a ranking may look for vacancies that free up (``within_days``).
MAX_WITHIN_DAYS = 366


def parse_on(text: str | None) -> dt.date | None:
    """The ``on`` query parameter: an ISO date ``YYYY-MM-DD``, or ``None`` (today).

    Raises
    ------
    ProblemError
        422 naming the field, for anything else (the value is not echoed).
    """
    if text is None or text == "":
        return None
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ProblemError(
            422,
            "on: expected a date YYYY-MM-DD (e.g. 2026-03-31)",
            [{"field": "on", "message": "expected a date YYYY-MM-DD (e.g. 2026-03-31)"}],
        ) from None


def parse_urgency(text: str | None) -> Urgency | None:
    """The ``urgency`` query parameter (``emergency``, ``urgent`` or ``planned``), or ``None``.

    Raises
    ------
    ProblemError
        422 naming the field and the values expected.
    """
    if text is None or text == "":
        return None
    try:
        return Urgency.parse(text)
    except VocabularyError:
        expected = f"expected one of: {', '.join(u.value for u in Urgency)}"
        raise ProblemError(
            422, f"urgency: {expected}", [{"field": "urgency", "message": expected}]
        ) from None


def asked_folder(
    folder: CaseFolder,
    child_id: str,
    today: dt.date,
    on: dt.date | None = None,
    urgency: Urgency | None = None,
) -> CaseFolder:
    """``folder`` asked about date ``on`` (``None``: today), with the child's ``urgency``
    taken as given for this question (``None``: as recorded).

    As ``placematch rank --on`` does; the urgency is an officer's reading of the child's
    situation now (an emergency call about a child recorded as a planned move), so an
    emergency's date is today unless the child has ``needed_by``.
    """
    if on is not None and on != today:
        folder = folder.with_dates(on, today)
    if urgency is not None:
        child = folder.child(child_id)
        if child.urgency is not urgency:
            changed = dataclasses.replace(child, urgency=urgency)
            folder = dataclasses.replace(
                folder,
                children=tuple(changed if c.child_id == child_id else c for c in folder.children),
            )
    return folder


@dataclasses.dataclass(frozen=True, slots=True)
class RankQuestion:
    """What is asked of a child's ranking, beyond the child: the first ``top`` options
    (``None``: the whole list), the date ``on`` and the ``urgency`` to rank as (``None``:
    the child's own, as :func:`asked_folder`), and ``within_days`` (``None``: the default
    of the child's urgency, as :func:`_after_options`). One value through the kept, spliced
    and built paths, so that the question a kept body answers is named once
    (:meth:`key`)."""

    top: int | None = None
    on: dt.date | None = None
    urgency: Urgency | None = None
    within_days: int | None = None

    def whole(self) -> RankQuestion:
        """The same question for the whole list (which answers any ``top``)."""
        return dataclasses.replace(self, top=None)

    @property
    def plain(self) -> bool:
        """Asked on the child's own date and urgency: the lists that are spliced after a
        change (:func:`rank_answer`)."""
        return self.on is None and self.urgency is None

    def key(self, authority: str, child_id: str) -> tuple[object, ...]:
        """The key of a kept answer (:class:`answers.Answers`): the child of ``authority``
        (ids are per authority) and this question."""
        return (authority, child_id, self.top, self.on, self.urgency, self.within_days)


def rank_body(
    session: Session,
    who: Principal,
    request: Request,
    child_id: str,
    question: RankQuestion = RankQuestion(),
    reason: str = "",
) -> tuple[bytes, bool]:
    """The child's ranking as the API sends it (JSON bytes), and whether it was kept.

    :meth:`~matcher.explain.Ranking.to_dict` (made by :func:`matcher.rank.ranking_data`)
    with ``declined`` (the child's referrals that providers declined,
    :func:`matcher.rank.declined`), ``date`` (the date the child's vacancies must be free
    on), ``urgency`` (the child's, or the one asked about), ``within_days`` and
    ``free_within_days`` (the vacancies excluded only because they free up within that many
    days of the date, :func:`matcher.rank.soon_free`; by default
    :data:`~matcher.rank.EMERGENCY_WITHIN_DAYS` for an emergency, else 0), as
    ``placematch rank --json`` writes them, for the ``question`` asked
    (:class:`RankQuestion`). Access is checked and the request audited every time; the body is
    kept per store revision, date and question (:mod:`placematch.service.answers`), so a
    second request for the same child between two changes of the store is answered without
    ranking again.
    """
    # While it is answered the warming (placematch.service.warm) waits.
    with answers_of(session.get_bind()).asked():
        # The revision is read with the access check, before the folder: answers.Answers.
        authority, revision = visible_child_authority(session, who, request, child_id, "rank")
        body, hit = rank_answer(session, child_id, authority, revision, clock(), question)
    audit.record(
        session,
        who,
        request,
        "rank",
        "child",
        child_id,
        authority=authority,
        reason=reason,
    )
    return body, hit


def answer_key(
    authority: str, child_id: str, question: RankQuestion = RankQuestion()
) -> tuple[object, ...]:
    """The key of a kept ranking (:meth:`RankQuestion.key`): the child's whole list by
    default."""
    return question.key(authority, child_id)


def kept_rank(
    kept: Answers,
    child_id: str,
    authority: str,
    revision: int,
    today: dt.date,
    question: RankQuestion = RankQuestion(),
    *,
    count_miss: bool = True,
) -> bytes | None:
    """The kept body of :func:`rank_answer`, or ``None`` if none is kept (a miss, unless
    ``count_miss`` is false): a question for the first ``top`` options is cut from the kept
    whole list when there is one."""
    # Ids are per authority, so the authority is part of the question.
    whole = question.whole().key(authority, child_id)
    if question.top is not None and kept.has(revision, today, whole):
        return kept.get(revision, today, whole, question.top, count_miss=count_miss)
    return kept.get(revision, today, question.key(authority, child_id), count_miss=count_miss)


def rank_answer(
    session: Session,
    child_id: str,
    authority: str,
    revision: int,
    today: dt.date,
    question: RankQuestion = RankQuestion(),
) -> tuple[bytes, bool]:
    """The body of :func:`rank_body` for a child of ``authority``, kept or built (and then
    kept), and whether it was kept; no access check and no audit entry (the caller's).

    ``revision`` is the store's, read before the folder (see :class:`answers.Answers`). A
    whole list is kept with where its options lie, so that it answers any ``top`` too.
    After a change of the store, the child's whole list kept from before is spliced when
    only some vacancies differ for it (:meth:`answers.Answers.stale`,
    :func:`matcher.rank.folder_change`): byte for byte the list ranked afresh.
    """
    kept = answers_of(session.get_bind())
    body = kept_rank(kept, child_id, authority, revision, today, question)
    if body is not None:
        return body, True
    top, within_days = question.top, question.within_days
    whole = question.whole().key(authority, child_id)
    asked = question.key(authority, child_id)
    plain = question.plain  # the question whose lists are spliced
    stale = kept.stale(revision, today, whole) if plain else None
    folder = store.waiting_folder(session, child_id, today=today, authority=authority)
    folder = asked_folder(folder, child_id, today, question.on, question.urgency)
    made = None
    if stale is not None:
        made = _spliced(
            stale,
            folder,
            child_id,
            lambda: _after_options(session, folder, child_id, authority, within_days),
        )
    if made is not None:
        body, cuts, layout = made
        kept.spliced += 1
        kept.put(revision, today, whole, body, cuts, layout)
        return (body if top is None else first_options(body, cuts, top)), False
    data = ranking_data(folder, child_id, top)  # rank_child(...).to_dict(), faster
    data.update(_after_options(session, folder, child_id, authority, within_days))
    # Compact UTF-8, as Starlette's JSONResponse writes it (json.dumps took a quarter of a
    # built answer); the data holds no NaN (distances unknown are None).
    if top is None:
        body, cuts = dumps_with_options(data)
        kept.put(
            revision,
            today,
            whole,
            body,
            cuts,
            layout_of(body, cuts, data, folder) if plain else None,
        )
    else:
        body = orjson.dumps(data)
        kept.put(revision, today, asked, body)
    return body, False


def _after_options(
    session: Session, folder: CaseFolder, child_id: str, authority: str, within_days: int | None
) -> dict[str, Any]:
    """The keys of a ranking's answer after its exclusions: ``declined``, ``date``,
    ``urgency``, ``within_days``, ``free_within_days`` and ``decision``."""
    child = folder.child(child_id)
    days = within_days
    if days is None:
        days = EMERGENCY_WITHIN_DAYS if child.is_emergency else 0
    day, found = soon_free(folder, child_id, days)
    # A placed child is ranked too (a planned move is ranked before the decision is
    # withdrawn), and the answer says where the child lives now; a decision or its
    # withdrawal changes the store's revision, so a kept answer never holds a stale one.
    placed = (
        session.connection()
        .execute(_DECISION_OF_CHILD, {"authority": authority, "child_id": child_id})
        .first()
    )
    return {
        "declined": declined(folder, child_id),
        "date": None if day is None else day.isoformat(),
        "urgency": None if child.urgency is None else child.urgency.value,
        "within_days": days,
        "free_within_days": [s.to_dict() for s in found],
        "decision": None if placed is None else decision_dict(placed),
    }


#: The last few folder changes worked out (:func:`_change`), newest last: (old folder, new
#: folder, what :func:`_change` gives).
_changes: list[tuple[CaseFolder, CaseFolder, Change]] = []
_changes_lock = threading.Lock()
#: How many folder changes are kept (a few authorities' views after one change).
CHANGES_KEPT = 8


class Change(NamedTuple):
    """A folder change worked out (:func:`_change`): :func:`matcher.rank.folder_change`
    (``None``: rank afresh), every child's part of it, and the vacancies renumbered."""

    change: FolderChange | None
    parts: dict[str, Part]
    moved: Renumbering | None

    def part(self, child_id: str) -> Part | None:
        """The child's part, or ``None`` when its list is to be ranked afresh."""
        change = self.change
        if change is None or child_id in change.children:
            return None
        return self.parts.get(child_id)


def _change(old: CaseFolder, new: CaseFolder) -> Change:
    """:func:`matcher.rank.folder_change` from ``old`` to ``new``, and every child's options
    and exclusions among its vacancies in ``new`` (:func:`matcher.rank.ranking_parts`, as
    JSON): worked out once, in one assessment, for every child whose kept list is spliced
    from one folder to the other."""
    with _changes_lock:  # the other requests of the moment wait for the first one's
        for o, n, known in _changes:
            if o is old and n is new:
                return known
        change = folder_change(old, new)
        parts = {}
        moved = None
        if change is not None:
            made = ranking_parts(new, part_arrays(new, change.vacancies))
            parts = {
                child: Part(
                    [
                        (
                            o["vacancy_id"],
                            option_order(o),
                            orjson.dumps(o),
                            (int(o["connected_person"]), int(o["in_area"])),
                        )
                        for o in options
                    ],
                    [(e["vacancy_id"], e["rule"], orjson.dumps(e)) for e in exclusions],
                )
                for child, (options, exclusions) in made.items()
            }
            moved = renumbering(old, new, change.vacancies, change.objective)
        known = Change(change, parts, moved)
        _changes.append((old, new, known))
        del _changes[:-CHANGES_KEPT]
        return known


def _known_change(old: CaseFolder, new: CaseFolder) -> Change | None:
    """What :func:`_change` gives, if it was worked out already; else ``None``."""
    with _changes_lock:
        for o, n, known in _changes:
            if o is old and n is new:
                return known
    return None


def spliced_now(
    session: Session,
    kept: Answers,
    child_id: str,
    authority: str,
    revision: int,
    today: dt.date,
    top: int | None = None,
) -> bytes | None:
    """The answer of :func:`rank_answer` (whole list, or its first ``top`` options) spliced
    from the child's list kept before a change, when all it takes is at hand: the folder of
    ``revision`` built and the change from the kept list's folder worked out (by an earlier
    request). ``None`` otherwise, and nothing built: a few tenths of a millisecond, so the
    event loop answers it (:func:`placematch.service.api.rank`), as it does a kept one."""
    whole = answer_key(authority, child_id)
    folder = store.kept_waiting_folder(
        session, child_id, today=today, authority=authority, revision=revision
    )
    if folder is None:
        return None
    peek = kept.peek_stale(revision, today, whole)
    if peek is None:
        return None
    known = _known_change(peek.layout.folder, folder)
    part = None if known is None else known.part(child_id)
    if known is None or known.moved is None or part is None:
        return None
    stale = kept.stale(revision, today, whole)
    if stale is not peek:  # taken by another thread meanwhile: ranked there
        return None
    rules = Scoring.for_folder(folder).rules
    rest = _after_options(session, folder, child_id, authority, None)
    made = spliced(stale, folder, child_id, known.moved, part, rules, rest)
    if made is None:  # ranked afresh in a worker thread
        return None
    body, cuts, layout = made
    kept.spliced += 1
    kept.put(revision, today, whole, body, cuts, layout)
    return body if top is None else first_options(body, cuts, top)


def _spliced(
    stale: Stale, folder: CaseFolder, child_id: str, rest: Callable[[], dict[str, Any]]
) -> tuple[bytes, Any, Any] | None:
    """The child's whole list on ``folder`` spliced from the one kept before a change
    (:func:`answers.spliced`), or ``None`` when it must be ranked afresh (the folders differ
    in what every ranking depends on, or in the child or what is ranked with it)."""
    known = _change(stale.layout.folder, folder)
    part = known.part(child_id)
    if part is None or known.moved is None:
        return None
    rules = Scoring.for_folder(folder).rules
    return spliced(stale, folder, child_id, known.moved, part, rules, rest())


def explain_why_not(
    session: Session,
    who: Principal,
    request: Request,
    child_id: str,
    vacancy_id: str,
    reason: str = "",
) -> WhyNot:
    """Why a vacancy is not the child's best option (audited)."""
    record = visible_child(session, who, request, child_id, "why_not")
    folder = store.waiting_folder(session, child_id, today=clock(), authority=record.authority_code)
    return _why_not_on(session, who, request, folder, record, vacancy_id, reason)


def _why_not_on(
    session: Session,
    who: Principal,
    request: Request,
    folder: CaseFolder,
    record: ChildRecord,
    vacancy_id: str,
    reason: str,
) -> WhyNot:
    """:func:`explain_why_not` on the child's folder (access checked by the caller)."""
    child_id = record.child_id
    try:
        answer = why_not(folder, child_id, vacancy_id)
    except UnknownIdError:
        vacancy = store.vacancy_record(session, vacancy_id)
        # another authority's vacancy kept back from the pool: as one that does not exist
        if vacancy is None or not may_see_vacancy(who, vacancy):
            raise not_found("vacancy", vacancy_id) from None
        raise ProblemError(
            409, f"vacancy {vacancy_id} has no free bed left: another decision has taken it"
        ) from None
    audit.record(
        session,
        who,
        request,
        "why_not",
        "child",
        f"{child_id}/{vacancy_id}",
        authority=record.authority_code,
        reason=reason,
    )
    return answer


def decision_preview(
    session: Session,
    who: Principal,
    request: Request,
    child_id: str,
    vacancy_id: str,
    reason: str,
) -> tuple[ChildRecord, Option | None, VacancyRecord | None]:
    """What taking the bed would mean, before the decision is confirmed (nothing recorded):
    the child, the vacancy as its option and the vacancy's record (audited as a read and a
    why-not, reason ``decision confirmation``).

    Refused as the decision would be: 422 without a reason, 409 for a child placed already
    or a bed taken; a vacancy the rules exclude is refused by :func:`decide` itself, with the
    rule, and the attempt audited as ``ineligible``.
    """
    if not reason.strip():
        raise ProblemError(422, "give the reason for the decision")
    record, decision = read_child(session, who, request, child_id, reason="decision confirmation")
    if decision is not None:
        raise ProblemError(409, f"child {child_id} is already placed")
    answer = explain_why_not(
        session, who, request, child_id, vacancy_id, reason="decision confirmation"
    )
    if answer.exclusion is not None:
        decide(session, who, request, child_id, vacancy_id, reason)
    return record, answer.option, store.vacancy_record(session, vacancy_id)


def record_failed(
    session: Session,
    who: Principal,
    request: Request,
    action: str,
    resource: str,
    resource_id: str,
    reason: str,
) -> None:
    """Audit a write that failed and is answered on the page beside its form (not as an
    error, which :func:`audit.record_refusal` audits), under each of the user's authorities
    (an admin's: none)."""
    for code in who.authorities or (None,):
        audit.record(
            session,
            who,
            request,
            action,
            resource,
            resource_id,
            authority=code,
            reason=reason,
            outcome="failed",
            commit=False,
        )
    session.commit()


def decide(
    session: Session,
    who: Principal,
    request: Request,
    child_id: str,
    vacancy_id: str,
    reason: str,
) -> Decision:
    """Record the officer's decision: the bed is taken at once, or 409.

    Audited whatever the outcome: ``ok``; ``ineligible`` (a hard rule excludes the vacancy,
    the rule in the reason); ``conflict`` (the bed or the child taken meanwhile); ``failed``
    (no reason given, or no such vacancy); ``denied`` (not a child the user may see).
    """
    record = visible_child(session, who, request, child_id, "decision")
    authority = record.authority_code  # read now: a rollback below expires the record

    def log(outcome: str, why: str = "") -> None:
        audit.record(
            session,
            who,
            request,
            "decision",
            "child",
            f"{child_id}/{vacancy_id}",
            authority=authority,
            reason=reason if not why else f"{why} (officer's reason: {reason})",
            outcome=outcome,
        )

    ineligible = False
    try:
        if not reason.strip():
            raise ProblemError(
                422,
                "give the reason for the decision",
                [{"field": "reason", "message": "required; expected the officer's reason"}],
            )
        if record.status != "waiting":
            raise ProblemError(409, f"child {child_id} is already placed: a decision is recorded")
        # A bed taken since the officer's page was drawn answers 409 here already.
        answer = explain_why_not(session, who, request, child_id, vacancy_id, reason="decision")
        if answer.exclusion is not None:
            ineligible = True
            raise ProblemError(
                422,
                f"vacancy {vacancy_id} is not eligible for child {child_id}: "
                f"{answer.exclusion.rule} ({answer.exclusion.source})",
                [{"field": "vacancy_id", "message": f"excluded by {answer.exclusion.rule}"}],
            )
        try:
            decision = store.record_decision(
                session, record.authority_code, child_id, vacancy_id, who.user_id, reason
            )
        except store.ConflictError as exc:
            raise ProblemError(409, str(exc)) from None
    except ProblemError as exc:
        session.rollback()
        outcome = "ineligible" if ineligible else "conflict" if exc.status == 409 else "failed"
        log(outcome, f"{exc.status}: {exc.detail}")
        raise
    log("ok")
    return decision


def withdraw(
    session: Session, who: Principal, request: Request, child_id: str, reason: str
) -> Decision:
    """Withdraw the child's recorded decision: the bed is freed, the child waits again.

    Officers of the child's authority only (404 otherwise, audited as denied). The reason is
    required (422 naming ``reason``); a child with no decision answers 409. The audit entry
    (``withdraw`` on ``child/vacancy``, with the reason) is written in the same transaction
    as the change, so a withdrawal is never without its record; a refused one is audited as
    ``conflict``. Returns a copy of the withdrawn decision.
    """
    record = visible_child(session, who, request, child_id, "withdraw")
    if not reason.strip():
        raise ProblemError(
            422,
            "give the reason for withdrawing the decision",
            [{"field": "reason", "message": "required; expected the officer's reason"}],
        )
    decision = decision_of(session, record)
    target = f"{child_id}/{decision.vacancy_id}" if decision is not None else child_id

    def log(outcome: str, commit: bool) -> None:
        audit.record(
            session,
            who,
            request,
            "withdraw",
            "child",
            target,
            authority=record.authority_code,
            reason=reason,
            outcome=outcome,
            commit=commit,
        )

    if decision is None or record.status != "placed":
        log("conflict", True)
        raise ProblemError(409, f"child {child_id} has no recorded decision to withdraw")
    log("ok", False)  # committed with the withdrawal, or rolled back with it
    try:
        return store.withdraw_decision(session, record.authority_code, child_id)
    except store.ConflictError as exc:
        log("conflict", True)
        raise ProblemError(409, str(exc)) from None


def proposal_of(
    session: Session, who: Principal, request: Request, job_id: str, child_id: str
) -> str:
    """The vacancy a finished batch match proposed for the child (404/409 otherwise)."""
    job = visible_job(session, who, job_id, request=request)
    if job.status != "done" or job.result is None:
        raise ProblemError(409, f"job {job_id} is {job.status}, not done")
    for a in job.result.get("assignments", []):
        if a.get("child_id") == child_id:
            return str(a["vacancy_id"])
    raise ProblemError(
        404,
        f"job {job_id} proposed no placement for child {child_id!r}",
        [{"field": "child_id", "message": "expected a child the match placed"}],
    )


def accept_proposal(
    session: Session,
    who: Principal,
    request: Request,
    job_id: str,
    child_id: str,
    reason: str,
) -> Decision:
    """Accept one batch-match proposal: :func:`decide` on the vacancy the match proposed.

    The same checks as any decision (access, eligibility now, a free bed now, the child still
    waiting: 409 if another decision came first). The recorded reason names the job.
    """
    vacancy_id = proposal_of(session, who, request, job_id, child_id)
    if not reason.strip():
        raise ProblemError(
            422,
            "give the reason for the decision",
            [{"field": "reason", "message": "required; expected the officer's reason"}],
        )
    return decide(session, who, request, child_id, vacancy_id, f"{reason} (batch match {job_id})")


def decided_children(session: Session, who: Principal, child_ids: list[str]) -> dict[str, str]:
    """Of these children of the user's authorities, those with a decision: child -> vacancy."""
    rows = session.execute(
        select(Decision.child_id, Decision.vacancy_id).where(
            Decision.authority_code.in_(who.authorities), Decision.child_id.in_(child_ids)
        )
    ).all()
    return {str(c): str(v) for c, v in rows}


def response_dict(r: ProviderResponse) -> dict[str, Any]:
    """A recorded answer to a referral as JSON-ready data."""
    return {
        "child_id": r.child_id,
        "vacancy_id": r.vacancy_id,
        "response": r.response,
        "reason": r.reason,
        "user_id": r.user_id,
        "at": r.updated_at.isoformat(),
    }


def _parse_response(
    vacancy_id: str, child_id: str, response: str, reason: str | None
) -> ReferralResponse:
    """The answer as the case folder's :class:`ReferralResponse`, or 422 naming the field."""
    try:
        kind = Response.parse(response)
    except VocabularyError as exc:
        raise ProblemError(
            422, f"response: {exc}", [{"field": "response", "message": str(exc)}]
        ) from None
    why = None
    if reason is not None and reason.strip():
        try:
            why = ResponseReason.parse(reason)
        except VocabularyError as exc:
            raise ProblemError(
                422, f"reason: {exc}", [{"field": "reason", "message": str(exc)}]
            ) from None
    try:
        return ReferralResponse(vacancy_id, child_id, kind, why)
    except InvalidFieldError as exc:
        raise ProblemError(
            422, f"{exc.field}: {exc.message}", [{"field": exc.field, "message": exc.message}]
        ) from None


def record_response(
    session: Session,
    who: Principal,
    request: Request,
    child_id: str,
    vacancy_id: str,
    response: str,
    reason: str | None,
) -> ProviderResponse:
    """Record a provider's answer to the child's referral for a vacancy (audited).

    Access as for a decision: officers only, the child of one of the user's authorities
    (404 otherwise, audited as denied), a vacancy of the pool (404 otherwise). A decline
    needs a reason code (422 naming the field). The latest answer for a child and vacancy
    stands; every one recorded is in the audit log (``response`` on the child, the answer
    and its code as the reason). The ranking then excludes a declined vacancy
    (``declined_by_provider``) and shows an offer first among equals.
    """
    record = visible_child(session, who, request, child_id, "response")
    try:
        vacancy = store.vacancy_record(session, vacancy_id)
        # another authority's vacancy kept back from the pool: as one that does not exist
        if vacancy is None or not may_see_vacancy(who, vacancy):
            raise not_found("vacancy", vacancy_id)
        answer = _parse_response(vacancy_id, child_id, response, reason)
        try:
            row, created = store.record_response(
                session, record.authority_code, answer, who.user_id
            )
        except IntegrityError:
            session.rollback()
            raise ProblemError(
                409,
                f"another officer recorded an answer for child {child_id} and vacancy "
                f"{vacancy_id} at the same moment: reload and record it again",
            ) from None
    except ProblemError as exc:
        # Refused answers are audited too (the page shows them beside the form instead of
        # an error, so the generic audit of failed writes would not see them).
        audit.record(
            session,
            who,
            request,
            "response",
            "child",
            f"{child_id}/{vacancy_id}",
            authority=record.authority_code,
            reason=f"{exc.status}: {exc.detail}",
            outcome="conflict" if exc.status == 409 else "failed",
        )
        raise
    code = "" if answer.reason is None else f": {answer.reason.value}"
    audit.record(
        session,
        who,
        request,
        "response",
        "child",
        f"{child_id}/{vacancy_id}",
        authority=record.authority_code,
        reason=f"{answer.response.value}{code}"
        + ("" if created else " (replaces an earlier answer)"),
    )
    return row


def list_responses(
    session: Session, who: Principal, request: Request, child_id: str
) -> list[ProviderResponse]:
    """The recorded answers to the child's referrals (audited as a read)."""
    record = visible_child(session, who, request, child_id, "read")
    rows = store.responses_of_child(session, child_id, record.authority_code)
    audit.record(
        session,
        who,
        request,
        "read",
        "responses",
        child_id,
        authority=record.authority_code,
    )
    return rows


def child_map(session: Session, who: Principal, request: Request, child_id: str) -> str:
    """An offline SVG map: the authority, the child's home and school, the top options."""
    from geography.maps import MapPoint, render_svg
    from geography.schools import school

    record = visible_child(session, who, request, child_id, "map")
    folder = store.waiting_folder(session, child_id, today=clock(), authority=record.authority_code)
    child = folder.child(child_id)
    points: list[MapPoint] = []
    if child.home_postcode:
        points.append(MapPoint.at(child.home_postcode, label="home", group="home"))
    if child.school_urn is not None:
        s = school(child.school_urn)
        if s.easting is not None and s.northing is not None:
            points.append(MapPoint(s.easting, s.northing, "school", "school"))
    decision = decision_of(session, record)
    if decision is not None:
        # A placed child: where it lives now, not the beds it no longer needs.
        placed = store.vacancy_record(session, decision.vacancy_id)
        postcodes = [] if placed is None else [(str(placed.data["postcode"]), decision.vacancy_id)]
    else:
        postcodes = [
            (folder.vacancy(o.vacancy_id).postcode, o.vacancy_id)
            for o in rank_child(folder, child_id, 8).options
        ]
    group = "placement" if decision is not None else "options"
    for postcode, label in postcodes:
        try:
            points.append(MapPoint.at(postcode, label=label, group=group))
        except ValueError:  # outside Great Britain: listed in the table, not drawn
            continue
    extent, shown = locality(points)
    audit.record(session, who, request, "map", "child", child_id, authority=record.authority_code)
    # The title stays short: the legend shares its line. What lies beyond the locality is
    # in the table, as the page says under the map.
    title = f"Child {child_id}: home and {'placement' if decision is not None else 'options'}"
    return render_svg(child.authority, shown, width=640, title=title, extent=extent)


#: The map shows the child's locality: what lies within this many miles of the home (or the
#: school), the rest is left to the table. 25 miles is past the 20-mile reporting threshold.
LOCALITY_MILES = 25.0
#: Smallest half-width of the locality map in metres (about 3 miles), so that a home with
#: every option next door still shows the towns around it.
LOCALITY_MIN_HALF = 5_000.0


def locality(points: list[Any]) -> tuple[tuple[float, float, float, float] | None, tuple[Any, ...]]:
    """The map window around the first point (home, else school) and the points inside it.

    The window holds every point within :data:`LOCALITY_MILES` of the centre, squared up
    and padded, at least :data:`LOCALITY_MIN_HALF` across each way; ``None`` (the whole
    authority) when there is no point to centre on.
    """
    if not points:
        return None, ()
    centre = points[0]
    limit = LOCALITY_MILES * 1609.344
    near = tuple(
        p
        for p in points
        if ((p.easting - centre.easting) ** 2 + (p.northing - centre.northing) ** 2) ** 0.5 <= limit
    )
    half = max(
        LOCALITY_MIN_HALF,
        *(abs(p.easting - centre.easting) * 1.15 for p in near),
        *(abs(p.northing - centre.northing) * 1.15 for p in near),
    )
    e, n = centre.easting, centre.northing
    return (e - half, e + half, n - half, n + half), near


# --------------------------------------------------------------------------- vacancies


def list_vacancies(session: Session, who: Principal) -> list[dict[str, Any]]:
    """The vacancies the user may see (officers), by id: their authorities' own and those
    other authorities offer to the pool; never one kept back by another."""
    require(who, OFFICER)
    rows = session.scalars(select(VacancyRecord).order_by(VacancyRecord.vacancy_id))
    return [vacancy_dict(r, who, session) for r in rows if may_see_vacancy(who, r)]


def read_vacancy(session: Session, who: Principal, vacancy_id: str) -> dict[str, Any]:
    """One vacancy the user may see (:func:`access.visible_vacancy`)."""
    return vacancy_dict(visible_vacancy(session, who, vacancy_id), who, session)


def create_vacancy(
    session: Session, who: Principal, request: Request, row: Mapping[str, str]
) -> dict[str, Any]:
    """Add a vacancy from its case-folder cells (officers; validated with everything stored;
    409 for a vacancy id in use; audited as ``create``)."""
    require(who, OFFICER)
    vacancy_id = row["vacancy_id"]
    return _create_new(
        store.vacancy_record(session, vacancy_id) is not None,
        lambda: _put_vacancy(session, who, request, row, "create"),
        "vacancy_id",
        f"vacancy_id {vacancy_id!r} is already used; PUT to change it",
    )


def update_vacancy(
    session: Session, who: Principal, request: Request, vacancy_id: str, row: Mapping[str, str]
) -> dict[str, Any]:
    """Replace a vacancy of the user's authorities (404 for one the user may not see, 403
    for a pooled one of another authority; validated; audited as ``update``)."""
    record = visible_vacancy(session, who, vacancy_id)
    may_change_vacancy(who, record)
    _id_as_in_path(row, "vacancy_id", vacancy_id)
    return _put_vacancy(session, who, request, row, "update")


def _put_vacancy(
    session: Session, who: Principal, request: Request, row: Mapping[str, str], action: str
) -> dict[str, Any]:
    store.put_record(
        session,
        "vacancy",
        row,
        owner=who.authorities[0],
        allowed=who.authorities,
        create=action == "create",
    )
    record = store.vacancy_record(session, row["vacancy_id"])
    assert record is not None
    audit.record(
        session,
        who,
        request,
        action,
        "vacancy",
        row["vacancy_id"],
        authority=record.authority_code,
    )
    return vacancy_dict(record, who, session)


# --------------------------------------------------------------------------- uploads


def upload(
    session: Session, who: Principal, request: Request, files: Mapping[str, bytes]
) -> store.LoadReport:
    """Validate and store a case folder's files, by their case-folder names (officers).

    Every problem is listed (:class:`~matcher.problems.CaseFolderError`) and then nothing is
    stored; a stored upload is audited under each of the user's authorities.

    Raises
    ------
    ProblemError
        403 for a role but an officer's; 422 naming ``files`` when no file is given.
    """
    require(who, OFFICER)
    if not files:
        raise ProblemError(
            422, "send at least one file", [{"field": "files", "message": "no file sent"}]
        )
    report = store.load_files(session, files, owner=who.authorities[0], allowed=who.authorities)
    for code in who.authorities:
        audit.record(
            session,
            who,
            request,
            "upload",
            "case_folder",
            ",".join(sorted(files)),
            authority=code,
            commit=False,
        )
    session.commit()
    return report


# --------------------------------------------------------------------------- match jobs


def start_match(
    session: Session, who: Principal, request: Request, child_ids: list[str] | None
) -> Job:
    """Queue a batch match of the children (default: all waiting of the user's authorities)."""
    require(who, OFFICER)
    if child_ids is None:
        child_ids = list(
            session.scalars(
                select(ChildRecord.child_id).where(
                    ChildRecord.authority_code.in_(who.authorities),
                    ChildRecord.status == "waiting",
                )
            )
        )
    else:
        for cid in child_ids:
            visible_child(session, who, request, cid, "match")
    job = Job(
        id=str(uuid.uuid4()),
        kind="match",
        user_id=who.user_id,
        authority_code=who.authorities[0] if who.authorities else "",
        status="queued",
        progress=0.0,
        message="queued",
        params={"child_ids": sorted(set(child_ids)), "authorities": list(who.authorities)},
        result=None,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(job)
    for code in who.authorities:
        audit.record(
            session,
            who,
            request,
            "match",
            "job",
            job.id,
            authority=code,
            reason=f"{len(child_ids)} children",
            commit=False,
        )
    session.commit()
    return job


def run_match_job(factory: Any, job_id: str) -> None:
    """Run a queued match job (in a worker thread), recording progress and the result."""
    from matcher.match import match
    from matcher.optimiser import SolverParameters

    def step(status: str, progress: float, message: str, result: Any = None) -> None:
        with factory() as s:
            job = s.get(Job, job_id)
            job.status = status
            job.progress = progress
            job.message = message
            if result is not None:
                job.result = result
            job.updated_at = utcnow()
            s.commit()

    try:
        step("running", 0.1, "building the case folder")
        with factory() as s:
            params = s.get(Job, job_id).params
            # only the vacancies the officer's authorities may see (their own, the pool's)
            folder = store.available_folder(
                s, params["child_ids"], today=clock(), authorities=params.get("authorities")
            )
        step("running", 0.3, f"matching {len(folder.children)} children")
        result = match(folder, SolverParameters(time_limit_s=60.0))
        step(
            "done",
            1.0,
            f"{len(result.assignments)} placed, status {result.status}",
            result.to_dict(),
        )
    except Exception as exc:  # the job fails; the message holds no personal data
        step("failed", 1.0, f"failed: {type(exc).__name__}")


def match_result(session: Session, who: Principal, request: Request, job_id: str) -> dict[str, Any]:
    """A finished match's result, as :meth:`matcher.match.MatchResult.to_dict` made it
    (the user's own job; 409 while it is not done; audited as a read)."""
    job = visible_job(session, who, job_id, request=request)
    if job.status != "done" or job.result is None:
        raise ProblemError(409, f"job {job_id} is {job.status}, not done")
    audit.record(
        session, who, request, "read", "match_result", job_id, authority=job.authority_code
    )
    return dict(job.result)


def job_dict(job: Job) -> dict[str, Any]:
    """A job's status as JSON-ready data."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "children": len(job.params.get("child_ids", [])),
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "result": f"/api/v1/jobs/{job.id}/result" if job.status == "done" else None,
    }


# --------------------------------------------------------------------------- aggregates


def summary(session: Session, who: Principal) -> dict[str, Any]:
    """Counts for the user's authorities: children waiting and placed, free beds by type."""
    require(who, OFFICER, COMMISSIONER)
    children = list(
        session.scalars(select(ChildRecord).where(ChildRecord.authority_code.in_(who.authorities)))
    )
    status = Counter(c.status for c in children)
    by_type: Counter[str] = Counter()
    free: Counter[str] = Counter()
    for v in session.scalars(select(VacancyRecord)):
        t = str(v.data.get("placement_type", ""))
        by_type[t] += v.beds
        free[t] += max(0, v.beds - v.beds_taken)
    ages = Counter(
        "0-9" if int(c.data["age"]) < 10 else ("10-15" if int(c.data["age"]) < 16 else "16-17")
        for c in children
    )
    return {
        "authorities": list(who.authorities),
        "children_waiting": status["waiting"],
        "children_placed": status["placed"],
        "children_by_age_band": {k: ages[k] for k in ("0-9", "10-15", "16-17")},
        "beds_by_type": dict(sorted(by_type.items())),
        "free_beds_by_type": dict(sorted(free.items())),
    }


# --------------------------------------------------------------------------- audit log


def audit_entries(
    session: Session, who: Principal, limit: int, offset: int = 0
) -> list[AuditEntry]:
    """Audit entries, newest first: all for an admin, the user's authorities' for an officer
    (:func:`access.audit_scope`)."""
    q = audit.query(audit_scope(who))
    return list(session.scalars(q.limit(limit).offset(offset)))


def audit_export(session: Session, who: Principal) -> str:
    """The whole audit log as CSV, oldest first (admins only)."""
    require(who, ADMIN)
    entries = list(session.scalars(audit.query(None)))
    entries.reverse()
    return audit.export_csv(entries)


# --------------------------------------------------------------------------- users


def list_users(session: Session, who: Principal) -> list[dict[str, Any]]:
    """Every user, by name (admins only): ``username``, ``role``, ``active`` and
    ``authorities`` (ONS codes, sorted)."""
    require(who, ADMIN)
    out = []
    for u in session.scalars(select(UserRow).order_by(UserRow.username)):
        codes = session.scalars(
            select(UserAuthority.authority_code).where(UserAuthority.user_id == u.id)
        ).all()
        out.append(
            {
                "username": u.username,
                "role": u.role,
                "active": u.active,
                "authorities": sorted(codes),
            }
        )
    return out


def create_user(
    session: Session,
    who: Principal,
    request: Request,
    username: str,
    password: str,
    role: str,
    authorities: list[str],
    *,
    region: str | None = None,
) -> dict[str, Any]:
    """Create a user (admins only; audited as ``create``): ``username``, ``role`` and
    ``authorities`` (ONS codes).

    Raises
    ------
    auth.UserError
        Naming the field (:func:`auth.add_user`), for each face to answer in its own way.
    """
    require(who, ADMIN)
    user = auth.add_user(session, username, password, role, authorities, region=region)
    audit.record(session, who, request, "create", "user", user.username)
    principal = auth.principal_for(session, user)
    return {
        "username": user.username,
        "role": user.role,
        "authorities": list(principal.authorities),
    }


def set_user_active(
    session: Session, who: Principal, request: Request, username: str, active: bool
) -> dict[str, Any]:
    """Enable or disable a user (admins only; disabling revokes their tokens at once;
    audited as ``enable`` or ``disable``): ``username``, ``role``, ``active``.

    Raises
    ------
    auth.UserError
        For a user not in the store.
    """
    require(who, ADMIN)
    user = auth.set_active(session, username, active)
    audit.record(session, who, request, "enable" if active else "disable", "user", user.username)
    return {"username": user.username, "role": user.role, "active": user.active}


# --------------------------------------------------------------------------- forecasts

#: Largest stochastic forecast the service runs in a request (runs x steps).
MAX_FORECAST_WORK = 200_000


def _charts_of(page: str) -> list[str]:
    """The charts of a forecast's HTML report (its ``<div class="charts">``), so that the
    service shows the same charts as ``placematch scenario forecast --out``."""
    start = page.find('<div class="charts">')
    end = page.find("</div>", start)
    return [page[start + len('<div class="charts">') : end]] if start >= 0 else []


def run_forecast(
    session: Session,
    who: Principal,
    request: Request,
    config_toml: str,
    data_files: Mapping[str, str] | None = None,
) -> Forecast:
    """Run a forecast configuration (statement or stochastic) and store it (aggregates only).

    For stochastic mode the 903 files come in ``data_files`` (name -> CSV text), named as the
    configuration's ``[data]`` patterns match them.
    """
    from scenarios.forecast import report
    from scenarios.forecast.config import ForecastConfigError, parse_config
    from scenarios.forecast.runner import run_statement, run_stochastic

    require(who, COMMISSIONER)
    try:
        raw = tomllib.loads(config_toml)
    except tomllib.TOMLDecodeError as exc:
        raise ProblemError(
            422,
            f"config_toml: not valid TOML ({exc})",
            [{"field": "config_toml", "message": f"not valid TOML: {exc}"}],
        ) from None
    try:
        config = parse_config(raw, source="config_toml")
        if config.forecast.mode == "statement":
            result = run_statement(config, source="config_toml")
            data = report.statement_json(result)
            # the charts of the command line's HTML report (matplotlib, labelled and dated)
            charts = _charts_of(report.statement_html(result))
        else:
            runs = config.forecast.runs
            months = config.forecast.horizon_months or 24
            if runs * months > MAX_FORECAST_WORK:
                raise ProblemError(
                    422,
                    f"forecast.runs: {runs} runs x {months} months is more than the "
                    f"service runs at once ({MAX_FORECAST_WORK}); lower forecast.runs",
                    [{"field": "forecast.runs", "message": "too much work for one request"}],
                )
            files = dict(data_files or {})
            for name, text in files.items():
                if not name or Path(name).name != name:
                    raise ProblemError(
                        422,
                        "data_files: names must be plain file names",
                        [{"field": "data_files", "message": "expected plain file names"}],
                    )
                text.encode("utf-8")  # text no file could hold is refused as before
            # The files are read where they are, in memory: [data] names them.
            stochastic = run_stochastic(config, files, source="config_toml")
            data = report.stochastic_json(stochastic)
            charts = _charts_of(report.stochastic_html(stochastic, name=config.forecast.name))
    except (ForecastConfigError, ValueError, LookupError, OSError) as exc:
        message = str(exc)
        raise ProblemError(
            422,
            f"the forecast configuration has a problem: {message}",
            [{"field": "config_toml", "message": message}],
        ) from None
    forecast = Forecast(
        user_id=who.user_id,
        authority_code=who.authorities[0] if who.authorities else "",
        name=str(config.forecast.name or "forecast")[:200],
        mode=config.forecast.mode,
        config_toml=config_toml,
        result=data,
        charts_svg="".join(charts),
        created_at=utcnow(),
    )
    session.add(forecast)
    session.flush()
    audit.record(
        session,
        who,
        request,
        "forecast",
        "forecast",
        str(forecast.id),
        authority=forecast.authority_code,
    )
    return forecast


def list_forecasts(session: Session, who: Principal, limit: int | None = None) -> list[Forecast]:
    """Forecasts of the user's authorities, newest first (commissioners)."""
    require(who, COMMISSIONER)
    q = (
        select(Forecast)
        .where(Forecast.authority_code.in_(who.authorities))
        .order_by(Forecast.id.desc())
    )
    return list(session.scalars(q if limit is None else q.limit(limit)))


def forecast_dict(f: Forecast, *, full: bool = True) -> dict[str, Any]:
    """A forecast as JSON-ready data."""
    out: dict[str, Any] = {
        "id": f.id,
        "name": f.name,
        "mode": f.mode,
        "authority": f.authority_code,
        "created_at": f.created_at.isoformat(),
    }
    if full:
        out["result"] = f.result
    return out
