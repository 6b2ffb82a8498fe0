"""The stored tables (SQLAlchemy 2 declarative models).

Children and vacancies are stored as their case-folder CSV cells (``data``), so that what is
stored is exactly what ``load_case_folder`` validates and what ``write_case_folder`` writes.
Every id is scoped to an authority (``authority_code``, an ONS code): two authorities may use
the same ``child_id``. Providers' answers to referrals (``provider_responses``) are kept one
per child and vacancy, each change audited. The audit log is append-only: the application
never updates or deletes it, and database triggers (see the migrations) refuse to.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    """Now, in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that always comes back timezone-aware in UTC (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    """Base of every model."""


ROLES = ("placement_officer", "commissioner", "regional_commissioner", "admin")


class User(Base):
    """Someone who signs in: a role and one or more authorities."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserAuthority(Base):
    """An authority a user works for (ONS code)."""

    __tablename__ = "user_authorities"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    authority_code: Mapped[str] = mapped_column(String(9), primary_key=True)


class Token(Base):
    """A session cookie or API bearer token; only its SHA-256 is stored."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuthorityState(Base):
    """Per authority: its policy.toml text and a revision bumped by every change."""

    __tablename__ = "authority_state"
    authority_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    policy_toml: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChildRecord(Base):
    """A child waiting (or placed): the children.csv cells."""

    __tablename__ = "children"
    authority_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    child_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class VacancyRecord(Base):
    """A vacancy: the vacancies.csv cells and the beds taken by recorded decisions."""

    __tablename__ = "vacancies"
    authority_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    vacancy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    beds: Mapped[int] = mapped_column(Integer)  # = data["beds"], for the atomic bed update
    beds_taken: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decision(Base):
    """An officer's placement decision: one per child (the database enforces it)."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("authority_code", "child_id", name="uq_decision_child"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    authority_code: Mapped[str] = mapped_column(String(9))
    child_id: Mapped[str] = mapped_column(String(64))
    vacancy_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProviderResponse(Base):
    """A provider's answer to a child's referral for a vacancy, as an officer recorded it.

    One row per authority's child and vacancy (the latest answer; the database enforces it);
    every answer recorded, earlier ones included, is in the audit log. ``response`` and
    ``reason`` take the values of ``responses.csv`` (:class:`matcher.vocabulary.Response`,
    ``ResponseReason``).
    """

    __tablename__ = "provider_responses"
    __table_args__ = (
        UniqueConstraint(
            "authority_code", "child_id", "vacancy_id", name="uq_provider_response_child"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    authority_code: Mapped[str] = mapped_column(String(9))
    child_id: Mapped[str] = mapped_column(String(64))
    vacancy_id: Mapped[str] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # None: read from a case folder's responses.csv by ``placematch load``
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


#: The states of a request for a pooled vacancy (:class:`PoolRequest`): a hold or a request
#: is *open* (it claims the vacancy for the requesting authority); ``accepted`` (the owner
#: agreed) stays open until the requesting authority places a child or it is released.
POOL_REQUEST_STATES = ("held", "requested", "accepted", "released")
#: The states in which a request claims its vacancy (one such request per vacancy).
POOL_REQUEST_OPEN = ("held", "requested", "accepted")


class PoolRequest(Base):
    """An authority's hold on, or request for, another authority's pooled vacancy.

    ``state`` is one of :data:`POOL_REQUEST_STATES`, with who moved it there and when.
    ``open_vacancy`` is the vacancy id while the request is open and ``NULL`` once released:
    its unique constraint lets the database, not the application, keep one open claim per
    vacancy (NULLs never clash, on SQLite and PostgreSQL alike). ``child_id`` (optional) is
    the requesting authority's child the bed is for: shown to that authority's officers only.
    """

    __tablename__ = "pool_requests"
    __table_args__ = (UniqueConstraint("open_vacancy", name="uq_pool_request_open"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vacancy_id: Mapped[str] = mapped_column(String(64), index=True)
    owner_code: Mapped[str] = mapped_column(String(9))
    requester_code: Mapped[str] = mapped_column(String(9))
    child_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    open_vacancy: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """A background job (a batch match): status, progress and its result."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    authority_code: Mapped[str] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(200), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Forecast(Base):
    """A commissioner's forecast: the configuration and the result (aggregates only)."""

    __tablename__ = "forecasts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    authority_code: Mapped[str] = mapped_column(String(9))
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16))
    config_toml: Mapped[str] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    charts_svg: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceSecret(Base):
    """A random key of the server (hex), made on first use and kept in the store."""

    __tablename__ = "service_secrets"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(Base):
    """A failed sign-in: the SHA-256 of the user name and client, and when."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One audited action: who, when, what, from where, the reason and the outcome."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    authority_code: Mapped[str | None] = mapped_column(String(9), nullable=True)
    resource: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(200))
    client: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
