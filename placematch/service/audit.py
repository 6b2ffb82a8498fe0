"""The audit log: every read of a child's record, every ranking, match and decision.

Each entry says who (user id, name, role), when (UTC), what (action, resource, its id, the
authority), from where (the client address), the reason given and the outcome. Only ids are
written, never a child's personal data. The application only ever inserts; the database
refuses updates and deletes (triggers made by the first migration).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import cast

from fastapi import Request
from sqlalchemy import Select, Table, insert, select
from sqlalchemy.orm import Session

from placematch.service import db
from placematch.service.auth import Principal
from placematch.service.models import AuditEntry, utcnow

#: Columns of the CSV export, in order.
EXPORT_COLUMNS = (
    "id",
    "at",
    "user_id",
    "username",
    "role",
    "action",
    "authority_code",
    "resource",
    "resource_id",
    "client",
    "reason",
    "outcome",
)


def client_of(request: Request) -> str:
    """Where the request came from (the peer address)."""
    return request.client.host if request.client is not None else "unknown"


#: The audit log's table (a Core insert skips the ORM's unit of work).
_AUDIT_TABLE = cast(Table, AuditEntry.__table__)
#: One INSERT, built once and given each entry's values as parameters: building it with
#: ``.values(...)`` on every request cost several times the insert itself.
_INSERT = insert(_AUDIT_TABLE)


def _values(
    who: Principal,
    request: Request,
    action: str,
    resource: str,
    resource_id: str,
    authority: str | None,
    reason: str,
    outcome: str,
) -> dict[str, object]:
    """An entry's columns."""
    return {
        "at": utcnow(),
        "user_id": who.user_id,
        "username": who.username,
        "role": who.role,
        "action": action,
        "authority_code": authority,
        "resource": resource,
        "resource_id": resource_id[:200],
        "client": client_of(request)[:64],
        "reason": reason[:2000],
        "outcome": outcome,
    }


async def record_on_loop(
    writer: db.LoopWriter,
    who: Principal,
    request: Request,
    action: str,
    resource: str,
    resource_id: str,
    *,
    authority: str | None = None,
    reason: str = "",
) -> None:
    """Append one entry, as :func:`record`, for a request answered on the event loop:
    returns once the entry is committed (by ``writer``, with the entries of other requests
    of the same turn of the loop), and raises the error of its insert or commit if it was
    not."""
    values = _values(who, request, action, resource, resource_id, authority, reason, "ok")
    await writer.insert(_INSERT, values)
    request.state.audited = True


def record(
    session: Session,
    who: Principal,
    request: Request,
    action: str,
    resource: str,
    resource_id: str,
    *,
    authority: str | None = None,
    reason: str = "",
    outcome: str = "ok",
    commit: bool = True,
) -> None:
    """Append one entry (and commit, unless ``commit`` is false)."""
    values = _values(who, request, action, resource, resource_id, authority, reason, outcome)
    # Committed at once, with the entries of other requests made at the same time, by the
    # store's writer (db.insert_committed: on SQLite they otherwise slept waiting for each
    # other); else a plain INSERT on the session's connection (its transaction), not an ORM
    # object to flush: every read of a child writes one, and the unit of work was a tenth of
    # a kept ranking's answer.
    if commit and db.insert_committed(session, _INSERT, values):
        request.state.audited = True
        session.commit()  # ends the session's reads, as before
        return
    session.connection().execute(_INSERT, values)
    # A request that wrote its own entry is not audited again if it then fails
    # (record_refusal).
    request.state.audited = True
    if commit:
        session.commit()


#: Methods that write: their failures and refusals are audited.
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _principal(request: Request) -> Principal | None:
    """The request's signed-in user: as the route found it, else from its token."""
    who = getattr(request.state, "principal", None)
    if isinstance(who, Principal):
        return who
    # A body that fails validation is refused before the route's own sign-in check runs.
    from placematch.service.auth import COOKIE, principal_of

    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    token = token or request.cookies.get(COOKIE, "")
    if not token:
        return None
    with request.app.state.sessions() as session:
        return principal_of(session, token)


def record_sign_in_failure(session: Session, request: Request, username: str, outcome: str) -> None:
    """Audit a sign-in that failed (``failed``: a wrong name or password, or a disabled
    user) or was refused by the throttle (``throttled``).

    An entry names the user only when the name is a user's, filed under each of that
    user's authorities so that their officers see it; a name that is no user's is written
    as ``(unknown)``, because people type passwords into the name box.
    """
    from placematch.service.auth import principal_for
    from placematch.service.models import User as UserRow

    row = session.scalar(select(UserRow).where(UserRow.username == username.strip()))
    who = (
        principal_for(session, row)
        if row is not None
        else Principal(cast(int, None), "(unknown)", "", ())
    )
    for code in who.authorities or (None,):
        record(
            session,
            who,
            request,
            "sign_in",
            "user",
            "" if row is None else str(row.id),
            authority=code,
            outcome=outcome,
            commit=False,
        )
    session.commit()


def record_refusal(request: Request, status: int, detail: str) -> None:
    """Audit a write that failed (``failed``) or was refused (``denied``: 403 or 404).

    Called for every error answer (:func:`placematch.service.app.install_errors`); it
    writes only for a write (``POST``, ``PUT``, ``PATCH``, ``DELETE``) by a signed-in user
    that has not written an entry of its own (a decision, for one, audits its own outcome).
    The entry is filed under each of the user's authorities (an admin's: none); its reason
    is the status and the problem's detail, which never holds a child's personal data.
    """
    if request.method not in WRITES or getattr(request.state, "audited", False):
        return
    who = _principal(request)
    if who is None:  # not signed in: nobody to name (a failed sign-in is throttled)
        return
    outcome = "denied" if status in (403, 404) else "failed"
    with request.app.state.sessions() as session:
        for code in who.authorities or (None,):
            record(
                session,
                who,
                request,
                request.method.lower(),
                "request",
                request.url.path,
                authority=code,
                reason=f"{status}: {detail}",
                outcome=outcome,
                commit=False,
            )
        session.commit()


def query(authorities: Sequence[str] | None) -> Select[AuditEntry]:
    """Entries, newest first; only those of ``authorities`` unless ``None`` (an admin)."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc())
    if authorities is not None:
        q = q.where(AuditEntry.authority_code.in_(list(authorities)))
    return q


def entry_dict(e: AuditEntry) -> dict[str, object]:
    """One entry as JSON-ready data."""
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "user_id": e.user_id,
        "username": e.username,
        "role": e.role,
        "action": e.action,
        "authority": e.authority_code,
        "resource": e.resource,
        "resource_id": e.resource_id,
        "client": e.client,
        "reason": e.reason,
        "outcome": e.outcome,
    }


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A text cell that a spreadsheet shows as text, never runs as a formula.

    An officer's reason (or a user name) is free text; the admin opens the export in a
    spreadsheet. As OWASP advises, such a cell gets a leading apostrophe.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_csv(entries: Iterable[AuditEntry]) -> str:
    """The entries as CSV (``EXPORT_COLUMNS``), oldest first as given.

    Free-text cells that would start a spreadsheet formula are prefixed with ``'``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for e in entries:
        d = entry_dict(e)
        writer.writerow(
            _cell(x)
            for x in [
                d["id"],
                d["at"],
                d["user_id"],
                d["username"],
                d["role"],
                d["action"],
                d["authority"],
                d["resource"],
                d["resource_id"],
                d["client"],
                d["reason"],
                d["outcome"],
            ]
        )
    return out.getvalue()
