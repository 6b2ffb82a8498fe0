"""Paths to the data files shipped in ``geography/data`` (read only, never at import time)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from importlib import resources
from pathlib import Path


def data_path(name: str) -> Path:
    """Path of a file in ``geography/data``."""
    return Path(str(resources.files("geography") / "data" / name))


def read_csv(name: str) -> Iterator[dict[str, str]]:
    """Rows of a CSV (optionally gzipped) file in ``geography/data`` as dictionaries."""
    path = data_path(name)
    if name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(fh)
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(io.StringIO(fh.read()))


def read_text(name: str) -> str:
    """The text of a (optionally gzipped) file in ``geography/data``."""
    path = data_path(name)
    if name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")
