"""Alembic environment: migrations run on the connection :func:`placematch.service.db.migrate`
passes in (``config.attributes["connection"]``), online only."""

from __future__ import annotations

from alembic import context

from placematch.service.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
