"""A Regional Care Co-operative in the service: pooled vacancies, holds and requests between
authorities, and the region's aggregates for a regional commissioner.

An officer sees the vacancies of other authorities that their owners offer to the pool
(:func:`placematch.service.store.visible_to`) and may **hold** one (a provisional claim
while they consider it) or **request** it (an ask to the owning authority). The owner's
officers **accept** a request; either side **releases** a claim. Each claim is a
:class:`~placematch.service.models.PoolRequest`:

=============  ============================================  ==========================
state          moved there by                                from
=============  ============================================  ==========================
``held``       an officer of the requesting authority        nothing
``requested``  an officer of the requesting authority        nothing, or ``held``
``accepted``   an officer of the owning authority            ``requested``
``released``   an officer of either authority                ``held``, ``requested``,
                                                              ``accepted``
=============  ============================================  ==========================

A vacancy has at most one open claim (held, requested or accepted) at a time: the database
keeps it (a unique column that is the vacancy id while open and NULL once released), so two
authorities asking at the same moment cannot both succeed; the second is answered 409. Every
change is written to the audit log twice, under the requesting and the owning authority, so
that each sees it in its own log, in the same transaction as the change. Accepting a request
does not take a bed: the requesting authority's officer then records a decision as for any
vacancy (the bed is taken then).

A regional commissioner (``regional_commissioner``, with the region's authorities) reads
:func:`region_summary` (counts per authority and for the region; no child's record, id or
personal data) and the pooled vacancies with their claims; they change nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geography.authorities import resolve_authority
from placematch.service import audit, store
from placematch.service.access import (
    OFFICER,
    REGIONAL,
    may_move_claim,
    may_see_vacancy,
    not_found,
    require,
    sees_claim_child,
    vacancy_reader,
    visible_child,
    visible_claim,
)
from placematch.service.actions import vacancy_dict
from placematch.service.auth import Principal
from placematch.service.errors import ProblemError
from placematch.service.models import (
    POOL_REQUEST_OPEN,
    ChildRecord,
    Decision,
    PoolRequest,
    VacancyRecord,
    utcnow,
)

#: Who may move a claim to each state: the requesting or the owning authority's officers.
MOVED_BY = {"requested": "requester", "accepted": "owner", "released": "either"}
#: The states a claim may be moved to each state from.
MOVES_FROM = {
    "requested": ("held",),
    "accepted": ("requested",),
    "released": POOL_REQUEST_OPEN,
}
#: The audit log's action for each state a claim moves to.
ACTIONS = {
    "held": "pool_hold",
    "requested": "pool_request",
    "accepted": "pool_accept",
    "released": "pool_release",
}
#: Within this many miles of home a placement counts as near (SSDA903 ``PL_DISTANCE``).
NEAR_MILES = 20.0


def name_of(code: str) -> str:
    """An authority's name from its ONS code (the code itself if it is not known)."""
    try:
        return resolve_authority(code).name
    except LookupError:
        return code


def request_dict(r: PoolRequest, who: Principal) -> dict[str, Any]:
    """A claim as JSON-ready data; its child id only for the requesting authority's officers."""
    mine = sees_claim_child(who, r)
    return {
        "id": r.id,
        "vacancy_id": r.vacancy_id,
        "owner": r.owner_code,
        "requester": r.requester_code,
        "child_id": r.child_id if mine else None,
        "state": r.state,
        "reason": r.reason,
        "created_by": r.created_by,
        "created_at": r.created_at.isoformat(),
        "updated_by": r.updated_by,
        "updated_at": r.updated_at.isoformat(),
    }


def open_claims(session: Session) -> dict[str, PoolRequest]:
    """The open claim of each vacancy that has one, by vacancy id."""
    rows = session.scalars(select(PoolRequest).where(PoolRequest.open_vacancy.is_not(None)))
    return {r.vacancy_id: r for r in rows}


def pooled_vacancies(session: Session, who: Principal) -> list[dict[str, Any]]:
    """The vacancies of other authorities offered to the pool that the user may see, with
    their open claim (``claim``, or ``None``): for an officer, those of every authority but
    their own; for a regional commissioner, every pooled vacancy of the region."""
    vacancy_reader(who)
    claims = open_claims(session)
    out = []
    for record in session.scalars(select(VacancyRecord).order_by(VacancyRecord.vacancy_id)):
        if not may_see_vacancy(who, record) or not store.offered(record.data):
            continue
        owner = store.vacancy_owner(record.data, record.authority_code)
        if who.role == OFFICER and who.may_see(owner):
            continue  # their own authority's: on the vacancies list, not the pool's
        row = vacancy_dict(record, who, session)
        row["owner_name"] = name_of(owner)
        claim = claims.get(record.vacancy_id)
        row["claim"] = None if claim is None else request_dict(claim, who)
        out.append(row)
    return out


def list_requests(session: Session, who: Principal) -> list[dict[str, Any]]:
    """The claims the user's authorities made or received (an officer), or every claim on
    the region's vacancies (a regional commissioner), newest first."""
    vacancy_reader(who)
    mine = list(who.authorities)
    rows = session.scalars(
        select(PoolRequest)
        .where(PoolRequest.owner_code.in_(mine) | PoolRequest.requester_code.in_(mine))
        .order_by(PoolRequest.id.desc())
    )
    return [request_dict(r, who) for r in rows]


def _log(
    session: Session,
    who: Principal,
    request: Request,
    claim: PoolRequest,
    action: str,
    reason: str,
) -> None:
    """Two audit entries (not committed): under the requesting and the owning authority."""
    why = f"{claim.state}: {claim.requester_code} asks {claim.owner_code}" + (
        f"; {reason}" if reason else ""
    )
    for code in dict.fromkeys((claim.requester_code, claim.owner_code)):
        audit.record(
            session,
            who,
            request,
            action,
            "vacancy",
            f"{claim.vacancy_id}/{claim.id}",
            authority=code,
            reason=why,
            commit=False,
        )


def claim_vacancy(
    session: Session,
    who: Principal,
    request: Request,
    vacancy_id: str,
    state: str,
    reason: str,
    child_id: str | None = None,
) -> PoolRequest:
    """Hold (``state="held"``) or request (``"requested"``) another authority's pooled
    vacancy for the officer's authority (the child's, when ``child_id`` is given).

    Raises
    ------
    ProblemError
        403 for a role but an officer's; 404 for a vacancy the officer may not see (another
        authority's kept back: as one that does not exist) or a child not theirs; 422 for
        their own authority's vacancy, one with no free bed, or no reason; 409 when the
        vacancy has an open claim already.
    """
    require(who, OFFICER)
    if state not in ("held", "requested"):
        raise ProblemError(
            422,
            "state: expected held or requested",
            [{"field": "state", "message": "expected held or requested"}],
        )
    record = store.vacancy_record(session, vacancy_id)
    if record is None or not may_see_vacancy(who, record):
        raise not_found("vacancy", vacancy_id)
    owner = store.vacancy_owner(record.data, record.authority_code)
    if who.may_see(owner):
        raise ProblemError(
            422,
            f"vacancy {vacancy_id} is your own authority's: decide on it, no request is needed",
            [{"field": "vacancy_id", "message": "expected another authority's pooled vacancy"}],
        )
    if not reason.strip():
        raise ProblemError(
            422,
            "give the reason for the hold or request",
            [{"field": "reason", "message": "required; expected the officer's reason"}],
        )
    requester = who.authorities[0]
    if child_id:
        child: ChildRecord = visible_child(session, who, request, child_id, "pool_request")
        requester = child.authority_code
    if record.beds_taken >= record.beds:
        raise ProblemError(409, f"vacancy {vacancy_id} has no free bed left")
    now = utcnow()
    claim = PoolRequest(
        vacancy_id=vacancy_id,
        owner_code=owner,
        requester_code=requester,
        child_id=child_id or None,
        state=state,
        open_vacancy=vacancy_id,
        reason=reason,
        created_by=who.user_id,
        created_at=now,
        updated_by=who.user_id,
        updated_at=now,
    )
    try:
        session.add(claim)
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ProblemError(
            409,
            f"vacancy {vacancy_id} is already held or requested: it is free to claim again "
            "once released",
        ) from None
    _log(session, who, request, claim, ACTIONS[state], reason)
    session.commit()
    return claim


def move_claim(
    session: Session,
    who: Principal,
    request: Request,
    request_id: int,
    state: str,
    reason: str,
) -> PoolRequest:
    """Move a claim to ``requested`` (the requester, from held), ``accepted`` (the owner,
    from requested) or ``released`` (either side, from any open state).

    Raises
    ------
    ProblemError
        404 for a claim neither of the officer's authorities made or received; 403 for a
        move only the other side may make; 409 for a move its state does not allow (also
        when another officer moved it first).
    """
    require(who, OFFICER)
    if state not in MOVES_FROM:
        expected = ", ".join(MOVES_FROM)
        raise ProblemError(
            422, f"state: expected one of {expected}", [{"field": "state", "message": expected}]
        )
    claim = visible_claim(session, who, request_id)
    may_move_claim(who, claim, state, MOVED_BY[state])
    if claim.state not in MOVES_FROM[state]:
        raise ProblemError(409, f"request {request_id} is {claim.state}: it cannot become {state}")
    # A conditional update, so that two officers moving one claim at once cannot both do it.
    moved = session.execute(
        update(PoolRequest)
        .where(PoolRequest.id == request_id, PoolRequest.state == claim.state)
        .values(
            state=state,
            open_vacancy=None if state == "released" else claim.vacancy_id,
            updated_by=who.user_id,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ProblemError(409, f"request {request_id} was changed meanwhile: reload it")
    session.refresh(claim)
    _log(session, who, request, claim, ACTIONS[state], reason)
    session.commit()
    return claim


# --------------------------------------------------------------------------- the region


def region_summary(session: Session, who: Principal) -> dict[str, Any]:
    """The region's aggregates for a regional commissioner: per authority and for the
    region, children waiting and placed and the outcomes of the placements recorded (within
    20 miles of home, within the child's own authority's area, in a vacancy the child's
    authority owns or another authority's pooled one, weekly cost); vacancies by type and
    owner; pooled vacancies by owner; claims by state. Counts only: no child's id or record.
    """
    require(who, REGIONAL)
    codes = list(who.authorities)
    children = session.execute(
        select(ChildRecord.authority_code, ChildRecord.status).where(
            ChildRecord.authority_code.in_(codes)
        )
    ).all()
    per: dict[str, Counter[str]] = {c: Counter() for c in codes}
    for code, status in children:
        per[code][f"children_{status}"] += 1
    vacancies = list(session.scalars(select(VacancyRecord)))
    owner_of = {v.vacancy_id: store.vacancy_owner(v.data, v.authority_code) for v in vacancies}
    folder, named = store.folder_and_keys(session)
    decisions = session.execute(
        select(Decision.authority_code, Decision.child_id, Decision.vacancy_id).where(
            Decision.authority_code.in_(codes)
        )
    ).all()
    for code, child_id, vacancy_id in decisions:
        counts = per[code]
        try:
            child, vacancy = folder.child(named.child(code, child_id)), folder.vacancy(vacancy_id)
        except KeyError:
            continue
        owner = owner_of.get(vacancy_id, "")
        counts["placed_in_own_vacancy" if owner == code else "placed_in_pooled_vacancy"] += 1
        counts["weekly_cost"] += vacancy.weekly_cost
        if vacancy.authority is not None and vacancy.authority.ons_code == code:
            counts["placed_in_area"] += 1
        if child.home is not None:
            from geography.distance import pl_distance
            from geography.errors import GeographyError

            try:
                near = pl_distance(child.home, vacancy.location) <= NEAR_MILES
            except GeographyError:
                continue
            counts["placed_with_home"] += 1
            counts["placed_within_20_miles"] += near
    keys = (
        "children_waiting",
        "children_placed",
        "placed_within_20_miles",
        "placed_with_home",
        "placed_in_area",
        "placed_in_own_vacancy",
        "placed_in_pooled_vacancy",
        "weekly_cost",
    )
    total: Counter[str] = Counter()
    rows = []
    for code in codes:
        total.update(per[code])
        rows.append({"authority": code, "name": name_of(code), **_outcomes(per[code], keys)})
    by_type: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    pooled: dict[str, Counter[str]] = defaultdict(Counter)
    for v in vacancies:
        owner = owner_of[v.vacancy_id]
        if owner not in codes:
            continue
        cell = by_type[(owner, str(v.data.get("placement_type", "")))]
        cell["vacancies"] += 1
        cell["beds"] += v.beds
        cell["beds_free"] += max(0, v.beds - v.beds_taken)
        if store.offered(v.data):
            cell["offered_to_pool"] += 1
            pool = pooled[owner]
            pool["vacancies"] += 1
            pool["beds"] += v.beds
            pool["beds_free"] += max(0, v.beds - v.beds_taken)
    claims = Counter(
        s
        for (s,) in session.execute(
            select(PoolRequest.state).where(PoolRequest.owner_code.in_(codes))
        )
    )
    return {
        "authorities": rows,
        "region": _outcomes(total, keys),
        "vacancies_by_type_and_owner": [
            {
                "owner": owner,
                "owner_name": name_of(owner),
                "placement_type": kind,
                **{k: c[k] for k in ("vacancies", "beds", "beds_free", "offered_to_pool")},
            }
            for (owner, kind), c in sorted(by_type.items())
        ],
        "pooled_by_owner": [
            {
                "owner": owner,
                "owner_name": name_of(owner),
                **{k: c[k] for k in ("vacancies", "beds", "beds_free")},
            }
            for owner, c in sorted(pooled.items())
        ],
        "requests_by_state": {s: claims[s] for s in ("held", "requested", "accepted", "released")},
    }


def _outcomes(counts: Counter[str], keys: tuple[str, ...]) -> dict[str, Any]:
    """The counts of ``keys`` and the shares of placements: within 20 miles (of those with a
    home postcode), in area and in another authority's pooled vacancy (percent, 1 dp)."""
    out: dict[str, Any] = {k: counts[k] for k in keys}
    placed = counts["placed_in_own_vacancy"] + counts["placed_in_pooled_vacancy"]

    def pct(n: int, d: int) -> float | None:
        return None if d == 0 else round(100.0 * n / d, 1)

    out["pct_within_20_miles"] = pct(counts["placed_within_20_miles"], counts["placed_with_home"])
    out["pct_in_area"] = pct(counts["placed_in_area"], placed)
    out["pct_in_pooled_vacancy"] = pct(counts["placed_in_pooled_vacancy"], placed)
    return out
