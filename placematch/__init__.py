"""The face of placematch: the command line (and later the HTTP API, storage and audit)."""

__version__ = "0.1.0"
