"""Holds on and requests for pooled vacancies between authorities (issue 13 part 4).

``pool_requests`` keeps each authority's hold on, or request for, another authority's
vacancy offered to the regional pool, its state (held, requested, accepted, released), who
moved it there and when. ``open_vacancy`` is unique: one open claim per vacancy. The roles
(``regional_commissioner``) need no change of schema (``users.role`` is text).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``pool_requests``."""
    op.create_table(
        "pool_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("vacancy_id", sa.String(64), nullable=False),
        sa.Column("owner_code", sa.String(9), nullable=False),
        sa.Column("requester_code", sa.String(9), nullable=False),
        sa.Column("child_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("open_vacancy", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("open_vacancy", name="uq_pool_request_open"),
    )
    op.create_index("ix_pool_requests_vacancy_id", "pool_requests", ["vacancy_id"])


def downgrade() -> None:
    """Never: a downgrade would lose data."""
    raise NotImplementedError("placematch migrations never go down: that would lose data")
