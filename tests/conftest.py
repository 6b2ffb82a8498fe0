"""Shared test configuration: offline, deterministic."""

from hypothesis import settings

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=60)
settings.register_profile("dev", deadline=None, derandomize=True)
settings.load_profile("ci")
