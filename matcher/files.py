"""Reading a case folder's files defensively: regular files only, a size cap, UTF-8.

A case folder comes from outside (an export, an e-mail, a shared drive), so nothing in it is
trusted to be what its name says. A FIFO would block the reader for ever, a device such as
``/dev/zero`` would fill memory, a directory or a broken link would raise deep inside the
loader. :func:`read_text` refuses each of these at once, before reading a byte, and refuses
text that is not UTF-8 naming the line of the first bad byte. Every refusal is a
:class:`~matcher.problems.CaseFolderError` whose problem names the file.
:func:`content_text` checks a file given in memory (an upload, rows the service or a
scenario holds) the same way, so that a folder parsed from memory is refused as on disk.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from matcher.problems import CaseFolderError, Problem

#: The largest CSV file of a case folder read, in bytes (64 MiB): about 400,000 rows, many
#: times England's 83,630 looked-after children (2024), so only a wrong file reaches it.
MAX_CSV_BYTES = 64 * 1024 * 1024
#: The largest ``policy.toml`` read, in bytes (64 KiB): every key with a comment is under 3 KiB.
MAX_POLICY_BYTES = 64 * 1024


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"  # pragma: no cover - no other kinds on POSIX


def _refuse(name: str, message: str, line: int | None = None) -> CaseFolderError:
    return CaseFolderError([Problem(name, line, None, message)])


def read_bytes(path: Path, *, limit: int, name: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Parameters
    ----------
    path
        The file (a link is followed; what it points to must be a regular file).
    limit
        The most bytes accepted.
    name
        The name problems give the file (default: its own name).

    Raises
    ------
    CaseFolderError
        Naming the file: missing, not a regular file (a folder, FIFO, device, socket),
        unreadable, or larger than ``limit``.
    """
    name = name or path.name
    try:
        # stat, not open: opening a FIFO would wait for a writer.
        info = os.stat(path)
    except FileNotFoundError:
        raise _refuse(name, "file not found; expected a regular file") from None
    except OSError as exc:
        raise _refuse(name, f"cannot be read ({exc.strerror}); expected a regular file") from None
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(name, f"is {_kind(info.st_mode)}; expected a regular file")
    if info.st_size > limit:
        raise _refuse(name, f"is {info.st_size:,} bytes; expected at most {limit:,} bytes")
    # O_NONBLOCK: should the file be swapped for a FIFO between stat and open, open returns
    # at once instead of waiting; fstat below then refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _refuse(name, f"cannot be read ({exc.strerror}); expected a regular file") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise _refuse(name, f"is {_kind(mode)}; expected a regular file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise _refuse(name, f"is more than {limit:,} bytes; expected at most {limit:,} bytes")
    return data


def decode_text(data: bytes, name: str, *, save_as: str) -> str:
    """UTF-8 text (a byte order mark is accepted and dropped), or a problem naming the line.

    ``save_as``: how to fix it, e.g. ``"save it as CSV UTF-8"``.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _refuse(name, f"is UTF-16 text, not UTF-8; {save_as}", 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _refuse(
            name, f"not UTF-8 text (byte {exc.start + 1} is not UTF-8); {save_as}", line
        ) from None
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise _refuse(name, f"holds a NUL character, so it is not text; {save_as}", line)
    return text


def read_text(path: Path, *, limit: int, save_as: str, name: str | None = None) -> str:
    """:func:`read_bytes` then :func:`decode_text`: a regular UTF-8 file's text."""
    name = name or path.name
    return decode_text(read_bytes(path, limit=limit, name=name), name, save_as=save_as)


def content_text(content: str | bytes, name: str, *, limit: int, save_as: str) -> str:
    """A file given in memory, checked as :func:`read_text` checks one on disk.

    ``content`` is the file's bytes, or its text (as it would be saved in UTF-8): at most
    ``limit`` bytes, UTF-8, no NUL; a byte order mark is dropped. The refusals are those of a
    file on disk, naming ``name`` (and the line where there is one).
    """
    if isinstance(content, str):
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate, from JSON's escapes
            line = content.count("\n", 0, exc.start) + 1
            raise _refuse(
                name, f"not UTF-8 text (character {exc.start + 1} is not UTF-8); {save_as}", line
            ) from None
    else:
        data = content
    if len(data) > limit:
        raise _refuse(name, f"is {len(data):,} bytes; expected at most {limit:,} bytes")
    return decode_text(data, name, save_as=save_as)
