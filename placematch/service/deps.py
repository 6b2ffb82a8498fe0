"""Per-request dependencies: the database session and the signed-in user, checked every time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from placematch.service.auth import COOKIE as COOKIE  # the pages read it here
from placematch.service.auth import Principal, check_csrf, principal_of, server_secret
from placematch.service.errors import ProblemError

#: Methods that change something: a cookie-signed request must carry the CSRF token.
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def db_session(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    factory = request.app.state.sessions
    with factory() as session:
        yield session


DB = Annotated[Session, Depends(db_session)]


def token_of(request: Request) -> tuple[str, bool]:
    """The request's token and whether it came from the cookie."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip(), False
    return request.cookies.get(COOKIE, ""), True


def current_user(request: Request, session: DB) -> Principal:
    """The signed-in user (401 otherwise); cookie-signed changes need the CSRF header."""
    token, from_cookie = token_of(request)
    who = principal_of(session, token) if token else None
    if who is None:
        raise ProblemError(401, "sign in first: send a bearer token or the session cookie")
    # For the audit of a write that fails or is refused after this (audit.record_refusal).
    request.state.principal = who
    if from_cookie and request.method in UNSAFE:
        sent = request.headers.get("x-csrf-token", "")
        if not check_csrf(server_secret(session), token, sent):
            raise ProblemError(403, "a change signed by the session cookie needs X-CSRF-Token")
    return who


User = Annotated[Principal, Depends(current_user)]
