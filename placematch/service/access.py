"""Who may see and do what: every role and authority check of the service, in one place.

Each function takes the signed-in :class:`~placematch.service.auth.Principal` (who the user
is is :mod:`placematch.service.deps`'s question; what they may do is this module's). The
actions (:mod:`placematch.service.actions`, :mod:`placematch.service.pool`), which the API
and the page share, call them on every request; a face calls one itself only to refuse a
role before it reads an upload's files, or for a read that needs nothing else (a job's
status, a forecast).

The rules:

- **Roles.** ``placement_officer``: children of their authorities, the vacancies they may
  see, rankings, decisions, the pool; ``commissioner``: aggregates and forecasts, never a
  child's record; ``regional_commissioner``: the region's aggregates and pooled vacancies,
  no child's record of any authority; ``admin``: users and the whole audit log. A role
  that may not do something is answered 403 (:func:`require`).
- **Another authority's child is an unknown child.** Ids are per authority, and a child
  outside the user's authorities answers exactly as a child that does not exist (404), so
  that ids cannot be probed; the attempt is audited as ``denied``, under the authority with
  a child of that id when there is one (:func:`visible_child`). A regional commissioner is
  answered so for every child.
- **Vacancies.** An officer sees their authorities' own vacancies and those other
  authorities offer to the pool; a regional commissioner, the pooled vacancies of the
  region; one kept back by another authority answers as one that does not exist
  (:func:`may_see_vacancy`, :func:`visible_vacancy`). Only its own authority's officers
  change a vacancy (:func:`may_change_vacancy`). A carer's connected children are named
  only to their authority's officers (:func:`connected_to_shown`).
- **Jobs, forecasts, claims.** A batch match is its starter's (:func:`visible_job`, a denial
  audited); a forecast, its authority's commissioners' (:func:`visible_forecast`); a hold or
  request, the requesting and the owning authority's officers', each side moving it as
  :func:`may_move_claim` says, the child's id shown to the requesting side only
  (:func:`sees_claim_child`).
- **The audit log.** An admin reads all of it, an officer their authorities' entries
  (:func:`audit_scope`).
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from placematch.service import audit, store
from placematch.service.auth import Principal
from placematch.service.errors import ProblemError
from placematch.service.models import ChildRecord, Forecast, Job, PoolRequest, VacancyRecord

OFFICER = "placement_officer"
COMMISSIONER = "commissioner"
REGIONAL = "regional_commissioner"
ADMIN = "admin"


def require(who: Principal, *roles: str) -> None:
    """403 unless the user has one of the roles."""
    if who.role not in roles:
        raise ProblemError(
            403, f"your role ({who.role}) may not do this; it needs: {', '.join(roles)}"
        )


def not_found(what: str, ident: str) -> ProblemError:
    """The 404 for a record that is missing or outside the user's authorities."""
    return ProblemError(404, f"{what} {ident!r} is not among the records you may see")


def child_route(who: Principal) -> None:
    """The role check of a child route: a regional commissioner sees no child's record of
    any authority, and is answered as for an id that does not exist (404, by the caller's
    lookup), so that the child routes cannot even tell which ids are in use; other roles but
    officers get 403."""
    if not who.regional:
        require(who, OFFICER)


def _denied_child(
    session: Session, who: Principal, request: Request, child_id: str, action: str
) -> ProblemError:
    """Audit a child's id the user may not see as ``denied``, and the 404 that answers it.

    Ids are per authority: only the user's authorities' children are looked up, so another
    authority's child of this id is an unknown one. The attempt is filed under an authority
    with a child of that id when there is one, so that its officers see it; the answer is
    the same 404 either way.
    """
    owner = store.any_child_authority(session, child_id)
    audit.record(
        session, who, request, action, "child", child_id, authority=owner, outcome="denied"
    )
    return not_found("child", child_id)


def visible_child(
    session: Session, who: Principal, request: Request, child_id: str, action: str
) -> ChildRecord:
    """The child, if it is of one of the user's authorities (404 otherwise, audited)."""
    child_route(who)
    record = None if who.regional else store.child_record(session, child_id, who.authorities)
    if record is None:
        raise _denied_child(session, who, request, child_id, action)
    return record


def visible_child_authority(
    session: Session, who: Principal, request: Request, child_id: str, action: str
) -> tuple[str, int]:
    """:func:`visible_child`'s check, answering only the child's authority (ONS code), and
    the store's revision read in the same query (:func:`store.authority_and_revision`).

    Reads one column rather than the child's record (and its JSON): for the requests that
    need nothing else of it, such as a ranking.
    """
    owner, revision = child_authority_if_visible(session, who, child_id)
    if owner is None:
        raise _denied_child(session, who, request, child_id, action)
    return owner, revision


def child_authority_if_visible(
    session: Session, who: Principal, child_id: str
) -> tuple[str | None, int]:
    """:func:`visible_child_authority`'s lookup without its answer to a child the user may
    not see: the authority is ``None`` then, and nothing is audited (the caller's part)."""
    child_route(who)
    return store.authority_and_revision(session, child_id, () if who.regional else who.authorities)


def may_see_vacancy(who: Principal, record: VacancyRecord) -> bool:
    """Whether the user may see a stored vacancy: an officer, one of their authorities' own
    or one offered to the pool (:func:`store.visible_to`); a regional commissioner, one
    offered to the pool by an authority of their region; nobody else."""
    if who.regional:
        owner = store.vacancy_owner(record.data, record.authority_code)
        return who.may_see(owner) and store.offered(record.data)
    if who.role != OFFICER:
        return False
    return store.visible_to(record.data, record.authority_code, who.authorities)


def vacancy_reader(who: Principal) -> None:
    """The role check of a vacancy or pool route: officers and regional commissioners."""
    if not who.regional:
        require(who, OFFICER)


def visible_vacancy(session: Session, who: Principal, vacancy_id: str) -> VacancyRecord:
    """A vacancy the user may see (:func:`may_see_vacancy`): officers and regional
    commissioners; a vacancy kept back by another authority answers as one that does not
    exist (404)."""
    vacancy_reader(who)
    record = store.vacancy_record(session, vacancy_id)
    if record is None or not may_see_vacancy(who, record):
        raise not_found("vacancy", vacancy_id)
    return record


def may_change_vacancy(who: Principal, record: VacancyRecord) -> None:
    """403 unless the vacancy is filed under one of the user's authorities (one seen only
    because it is offered to the pool is its own authority's to change)."""
    if not who.may_see(record.authority_code):
        raise ProblemError(403, f"vacancy {record.vacancy_id} is kept by another authority")


def connected_to_shown(session: Session, who: Principal, record: VacancyRecord) -> str:
    """The vacancy's ``connected_to`` cell as the user may read it: only the ids of children
    of the user's authorities (the carer's children are of the authority it is filed under);
    none for a regional commissioner."""
    text = str(record.data.get("connected_to") or "")
    if not text or who.regional or not who.may_see(record.authority_code):
        return ""
    ids = [i for i in text.split(";") if i]
    mine = set(
        session.scalars(
            select(ChildRecord.child_id).where(
                ChildRecord.authority_code == record.authority_code,
                ChildRecord.child_id.in_(ids),
            )
        )
    )
    return ";".join(i for i in ids if i in mine)


def visible_job(session: Session, who: Principal, job_id: str, *, request: Request) -> Job:
    """A job the user started (404 otherwise, the same for another officer's job; audited as
    ``denied``, under the job's authority when there is one)."""
    require(who, OFFICER)
    job = session.get(Job, job_id)
    if job is None or job.user_id != who.user_id:
        audit.record(
            session,
            who,
            request,
            "read",
            "job",
            job_id,
            authority=None if job is None else job.authority_code,
            reason="" if job is None else "a job another user started",
            outcome="denied",
        )
        raise not_found("job", job_id)
    return job


def visible_forecast(session: Session, who: Principal, forecast_id: int) -> Forecast:
    """A forecast of one of the user's authorities (404 otherwise)."""
    require(who, COMMISSIONER)
    f = session.get(Forecast, forecast_id)
    if f is None or not who.may_see(f.authority_code):
        raise not_found("forecast", str(forecast_id))
    return f


def visible_claim(session: Session, who: Principal, request_id: int) -> PoolRequest:
    """A hold or request one of the officer's authorities made or received (404 otherwise)."""
    claim = session.get(PoolRequest, request_id)
    if claim is None or not (who.may_see(claim.owner_code) or who.may_see(claim.requester_code)):
        raise not_found("request", str(request_id))
    return claim


def may_move_claim(who: Principal, claim: PoolRequest, state: str, side: str) -> None:
    """403 unless the user's authority is on ``side`` of the claim (``requester``, ``owner``
    or ``either``), the side that may move it to ``state``."""
    allowed = (side in ("either", "requester") and who.may_see(claim.requester_code)) or (
        side in ("either", "owner") and who.may_see(claim.owner_code)
    )
    if not allowed:
        whose = "the owning" if side == "owner" else "the requesting"
        raise ProblemError(403, f"only {whose} authority's officers may make it {state}")


def sees_claim_child(who: Principal, claim: PoolRequest) -> bool:
    """Whether the user may read the id of the child a claim is for: the requesting
    authority's officers only."""
    return who.role == OFFICER and who.may_see(claim.requester_code)


def audit_scope(who: Principal) -> tuple[str, ...] | None:
    """The authorities whose audit entries the user reads (``None``: all, an admin's);
    officers and admins only."""
    require(who, ADMIN, OFFICER)
    return None if who.role == ADMIN else who.authorities
