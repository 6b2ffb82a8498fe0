"""Users, passwords (argon2id) and tokens (session cookies and API bearer tokens).

A token is 32 random bytes (URL-safe); only its SHA-256 is stored, so a copy of the database
does not let anyone sign in. Sessions last 12 hours, API tokens 30 days by default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import weakref
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, Table, bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geography.authorities import resolve_authority
from placematch.service.models import (
    ROLES,
    LoginFailure,
    ServiceSecret,
    Token,
    User,
    UserAuthority,
    utcnow,
)

#: The session cookie's name.
COOKIE = "placematch_session"
SESSION_HOURS = 12
API_TOKEN_DAYS = 30
USERNAME_MAX = 64
PASSWORD_MIN = 8


class UserError(ValueError):
    """A user that cannot be created as asked (the message names the field)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user of one request."""

    user_id: int
    username: str
    role: str
    authorities: tuple[str, ...]  # ONS codes, sorted

    def may_see(self, authority_code: str) -> bool:
        """Whether the user works for this authority."""
        return authority_code in self.authorities

    @property
    def regional(self) -> bool:
        """Whether the user is a regional commissioner: the region's aggregates and pooled
        vacancies, and no child's record of any authority (every child route answers 404)."""
        return self.role == "regional_commissioner"


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether the password matches the stored hash."""
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


#: A hash to verify against when the user does not exist, so that timing does not tell.
_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$" + "A" * 43


def resolve_authorities(texts: list[str]) -> tuple[str, ...]:
    """ONS codes of the authorities named (ONS code, DfE number or name)."""
    codes = []
    for text in texts:
        try:
            codes.append(resolve_authority(text).ons_code)
        except LookupError as exc:
            raise UserError(f"authority: {exc}") from None
    return tuple(sorted(set(codes)))


def region_authorities(region: str) -> list[str]:
    """The ONS codes of an English region's authorities (its name, e.g. "East of England").

    Raises
    ------
    UserError
        Naming ``region`` and the nine regions expected, for any other name.
    """
    from geography.authorities import authorities_in_region

    try:
        return [a.ons_code for a in authorities_in_region(region)]
    except LookupError as exc:
        raise UserError(f"region: {exc}") from None


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    authorities: list[str],
    *,
    region: str | None = None,
) -> User:
    """Create a user (committed by the caller).

    ``region`` (an English region's name) adds every authority of the region to
    ``authorities``: what a regional commissioner is usually given.

    Raises
    ------
    UserError
        For a bad username, a short password, an unknown role, authority or region, or a
        taken name.
    """
    name = username.strip()
    if not name or len(name) > USERNAME_MAX or not all(c.isalnum() or c in "._-@" for c in name):
        raise UserError("username: expected 1 to 64 letters, digits and . _ - @ (no spaces)")
    if role not in ROLES:
        raise UserError(f"role: {role!r} is not a role; expected one of {', '.join(ROLES)}")
    if len(password) < PASSWORD_MIN:
        raise UserError(f"password: expected at least {PASSWORD_MIN} characters")
    codes = resolve_authorities(authorities)
    if region is not None:
        codes = tuple(sorted({*codes, *region_authorities(region)}))
    if role != "admin" and not codes:
        raise UserError("authority: expected at least one authority for this role")
    if session.scalar(select(User).where(User.username == name)) is not None:
        raise UserError(f"username: {name!r} is taken")
    user = User(username=name, password_hash=hash_password(password), role=role, active=True)
    session.add(user)
    session.flush()
    for code in codes:
        session.add(UserAuthority(user_id=user.id, authority_code=code))
    return user


#: Failed sign-ins allowed per user name and client within the window, then refused.
MAX_FAILURES = 10
FAILURE_WINDOW = dt.timedelta(minutes=15)


class TooManyFailures(Exception):
    """Too many failed sign-ins for this name from this client: wait."""


def _failure_key(username: str, client: str) -> str:
    # A digest, so that the table holds no user name or address in the clear; the name is
    # folded to lower case so that "Officer" and "officer" count together.
    return hashlib.sha256(f"{username.strip().lower()}\0{client}".encode()).hexdigest()


def check_throttle(session: Session, username: str, client: str) -> None:
    """Refuse a sign-in after :data:`MAX_FAILURES` failures in :data:`FAILURE_WINDOW`.

    The failures are kept in the store (``login_failures``), so a restart of the server, or
    another server on the same store, does not forget them.
    """
    cutoff = utcnow() - FAILURE_WINDOW
    recent = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key == _failure_key(username, client), LoginFailure.at > cutoff)
    )
    if (recent or 0) >= MAX_FAILURES:
        raise TooManyFailures(
            f"too many failed sign-ins; try again in {FAILURE_WINDOW.seconds // 60} minutes"
        )


def record_failure(session: Session, username: str, client: str) -> None:
    """Count a failed sign-in (committed at once: the request itself fails).

    Failures older than the window are deleted on the way, so the table stays small.
    """
    now = utcnow()
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - FAILURE_WINDOW))
    session.add(LoginFailure(key=_failure_key(username, client), at=now))
    session.commit()


def sign_in(session: Session, username: str, password: str, client: str) -> User | None:
    """:func:`authenticate`, throttled per user name and client (``TooManyFailures``)."""
    check_throttle(session, username, client)
    user = authenticate(session, username, password)
    if user is None:
        record_failure(session, username, client)
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Enable or disable a user; disabling revokes every token at once.

    Raises
    ------
    UserError
        If there is no such user.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"username: no user {username!r}")
    user.active = active
    if not active:
        for token in session.scalars(select(Token).where(Token.user_id == user.id)):
            token.revoked = True
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or ``None``."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        verify_password(_DUMMY, password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, kind: str) -> tuple[str, dt.datetime]:
    """A new token for the user (``kind`` ``"session"`` or ``"api"``) and its expiry."""
    token = secrets.token_urlsafe(32)
    life = (
        dt.timedelta(hours=SESSION_HOURS)
        if kind == "session"
        else dt.timedelta(days=API_TOKEN_DAYS)
    )
    expires = utcnow() + life
    session.add(
        Token(
            token_hash=_digest(token), user_id=user.id, kind=kind, expires_at=expires, revoked=False
        )
    )
    return token, expires


def revoke_token(session: Session, token: str) -> None:
    """Revoke a token (sign out)."""
    row = session.scalar(select(Token).where(Token.token_hash == _digest(token)))
    if row is not None:
        row.revoked = True


#: The token's user and a row per authority of the user, in one query. Built once: building
#: the statement on every request cost several times its execution.
_PRINCIPAL_ROWS = (
    select(
        Token.revoked,
        Token.expires_at,
        User.id,
        User.username,
        User.role,
        User.active,
        UserAuthority.authority_code,
    )
    .join(User, User.id == Token.user_id)
    .outerjoin(UserAuthority, UserAuthority.user_id == User.id)
    .where(Token.token_hash == bindparam("token_hash"))
)


def principal_of(session: Session, token: str) -> Principal | None:
    """The user a live token belongs to, or ``None``."""
    if not token or len(token) > 100:
        return None
    # One query of columns (the token, its user and a row per authority of the user), not
    # ORM objects, on the session's connection (Core, no unit of work): this runs on every
    # request, and loading a Token and a User into the session in three queries was a
    # quarter of the server's time for a kept ranking.
    rows = session.connection().execute(_PRINCIPAL_ROWS, {"token_hash": _digest(token)}).all()
    if not rows:
        return None
    revoked, expires, user_id, username, role, active, _ = rows[0]
    if revoked or not active:
        return None
    if expires.tzinfo is None:  # SQLite returns naive datetimes
        expires = expires.replace(tzinfo=dt.UTC)
    if expires <= utcnow():
        return None
    codes = sorted({r[-1] for r in rows if r[-1] is not None})
    return Principal(user_id, username, role, tuple(codes))


def _authorities(session: Session, user_id: int) -> tuple[str, ...]:
    codes = session.scalars(
        select(UserAuthority.authority_code).where(UserAuthority.user_id == user_id)
    ).all()
    return tuple(sorted(codes))


def principal_for(session: Session, user: User) -> Principal:
    """The principal of a user."""
    return Principal(user.id, user.username, user.role, _authorities(session, user.id))


#: Per engine (weakly: a closed store's key goes with it): the server's secret key.
_secrets: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()
_secrets_lock = threading.Lock()
#: The name of the key in ``service_secrets``.
SECRET_NAME = "signing"


def server_secret(session: Session) -> bytes:
    """The store's secret key (32 random bytes), made and kept in the store on first use.

    Every server on one store, and every restart, use the same key, so a form drawn before a
    restart still posts. It is written on a connection of its own, so the caller's
    transaction is untouched; when two servers make one at once, the first written wins.
    """
    engine = cast(Engine, session.get_bind())
    with _secrets_lock:
        kept = _secrets.get(engine)
    if kept is not None:
        return kept
    table = cast(Table, ServiceSecret.__table__)
    query = select(table.c.value).where(table.c.name == SECRET_NAME)
    with engine.connect() as connection:
        value = connection.scalar(query)
    if value is None:
        try:
            with engine.begin() as connection:
                connection.execute(
                    insert(table).values(
                        name=SECRET_NAME, value=secrets.token_hex(32), created_at=utcnow()
                    )
                )
        except IntegrityError:
            pass  # another server made it first: use theirs
        with engine.connect() as connection:
            value = connection.scalar(query)
    key = bytes.fromhex(str(value))
    with _secrets_lock:
        _secrets[engine] = key
    return key


def sign(secret: bytes, purpose: str, message: str) -> str:
    """HMAC-SHA256 of the message for one purpose (hex): keyed, so only the server can make it.

    ``purpose`` keeps the signatures of different uses apart (a CSRF token can never pass as
    a flash message's signature).
    """
    return hmac.new(secret, f"{purpose}\0{message}".encode(), hashlib.sha256).hexdigest()


def same(expected: str, sent: str) -> bool:
    """Whether two tokens are equal, in time independent of where they differ."""
    return hmac.compare_digest(expected.encode(), sent.encode())


def csrf_token(secret: bytes, session_token: str) -> str:
    """The anti-forgery token of a session (forms carry it; a cross-site page cannot).

    An HMAC of the session token with the server's key: it cannot be made without the key,
    even by someone who knows how it is made or who saw the session token's hash.
    """
    return sign(secret, "csrf", session_token)


def check_csrf(secret: bytes, session_token: str, sent: str) -> bool:
    """Whether ``sent`` is the session's CSRF token (compared in constant time)."""
    return bool(session_token) and same(csrf_token(secret, session_token), sent)
