"""Providers' answers to referrals: one row per child and vacancy (issue 14 part 4).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``provider_responses``."""
    op.create_table(
        "provider_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("authority_code", sa.String(9), nullable=False),
        sa.Column("child_id", sa.String(64), nullable=False),
        sa.Column("vacancy_id", sa.String(64), nullable=False),
        sa.Column("response", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("child_id", "vacancy_id", name="uq_provider_response_pair"),
    )


def downgrade() -> None:
    """Never: a downgrade would lose data."""
    raise NotImplementedError("placematch migrations never go down: that would lose data")
