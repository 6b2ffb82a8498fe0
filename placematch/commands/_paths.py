"""Checks of the files a matching command reads or writes, before any work is done.

An ``OSError`` would reach the user as ``[Errno 2] No such file or directory: '...'``, and
for ``match`` only after the whole optimisation: these checks say in one line which option
names which path and what is wrong with it, first.
"""

from __future__ import annotations

from pathlib import Path


def input_file(path: str, what: str) -> Path:
    """``path`` as a readable file, or a ``ValueError`` naming ``what`` it should be."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{what} {path!r} is a folder, not a file")
    if p.exists() and not p.is_file():
        # a FIFO, device or socket: refused at once, never opened (a FIFO would wait)
        raise ValueError(f"{what} {path!r} is not a regular file; expected a file")
    if not p.is_file():
        raise ValueError(f"{what} {path!r} not found")
    return p


def output_file(path: str, option: str) -> Path:
    """``path`` as a file that can be written (its folder exists, it is not a folder)."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{option} {path!r} is a folder; expected a file name")
    parent = p.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {path!r}: the folder {str(parent)!r} does not exist")
    return p


def output_folder(path: str, option: str) -> Path:
    """``path`` as a folder to write into (created later if missing; not an existing file)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{option} {path!r} is a file; expected a folder to write into")
    return p
