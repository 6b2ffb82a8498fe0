"""Ids per authority (issue 15 part 6): a provider's answer is kept per authority's child.

Two authorities may use the same ``child_id`` (the ``children`` and ``decisions`` tables
were keyed by authority already). ``provider_responses`` kept one answer per child id and
vacancy across the store; it now keeps one per authority, child id and vacancy, so that an
answer for one authority's ``C0001`` is never another's. Every row is kept as it is: ids
were unique across the store before, so they are unique per authority too.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Widen ``provider_responses``' unique pair to (authority, child, vacancy)."""
    # Batch mode: SQLite changes a constraint by copying the table (rows kept).
    with op.batch_alter_table("provider_responses") as batch:
        batch.drop_constraint("uq_provider_response_pair", type_="unique")
        batch.create_unique_constraint(
            "uq_provider_response_child", ["authority_code", "child_id", "vacancy_id"]
        )


def downgrade() -> None:
    """Never: a downgrade would lose data."""
    raise NotImplementedError("placematch migrations never go down: that would lose data")
