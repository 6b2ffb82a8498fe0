"""The placement service: HTTP API, web page, storage, access control and audit log.

``placematch serve`` starts it (:func:`placematch.service.app.create_app` on uvicorn). Storage is
SQLAlchemy 2 over SQLite (default) or PostgreSQL, migrated by Alembic on start; see
``docs/service.md``. Importing this package loads nothing.
"""
