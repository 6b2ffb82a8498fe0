"""The server's secret keys and failed sign-ins (issue 15 part 6).

``service_secrets`` holds the random key that signs CSRF tokens and flash messages, made on
first use, so that every server on the store and every restart agree. ``login_failures``
keeps each failed sign-in (a hash of the name and client, never the password), so that the
throttle survives a restart and holds across servers on one store.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``service_secrets`` and ``login_failures``."""
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", _TS, nullable=False),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])


def downgrade() -> None:
    """Never: a downgrade would lose data."""
    raise NotImplementedError("placematch migrations never go down: that would lose data")
