"""Fixtures of the service tests; they live in servicekit.py (a module name no other test
folder uses, so that ``from servicekit import ...`` never finds another folder's conftest)."""

from servicekit import demo_templates, empty_url, fresh, fresh_sqlite, service

__all__ = ["demo_templates", "empty_url", "fresh", "fresh_sqlite", "service"]
