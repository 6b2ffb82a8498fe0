"""The face of placematch: the ``placematch`` command line, the placement service (HTTP API
and web pages, storage in SQLite or PostgreSQL, access control and the audit log) and
SSDA903 import and export."""

__version__ = "0.1.0"
