"""Terminal tables that fit the terminal's width.

A table keeps its natural width (one line per row, columns aligned) when it fits, and
always in a pipe or a file, which scripts read and which have no width. On a terminal
narrower than the table (or with ``COLUMNS`` set), ``rich`` lays it out at that width:
numbers never break, the columns given as wrappable (types, sign-offs) wrap inside their
cells, and long prose lines wrap under their indent.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Collection, Sequence

__all__ = ["fit_lines", "fit_report", "render_table", "terminal_width"]


def terminal_width() -> int | None:
    """The width to fit to: ``COLUMNS`` when set, else the terminal's when standard output
    is one; ``None`` for a pipe or a file (tables keep their natural width)."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _natural(
    head: Sequence[str], rows: Sequence[Sequence[str]], numeric: Collection[int]
) -> list[str]:
    widths = [max(len(r[j]) for r in [head, *rows]) for j in range(len(head))]
    lines = []
    for r in [head, *rows]:
        cells = [
            c.rjust(widths[j]) if j in numeric else c.ljust(widths[j]) for j, c in enumerate(r)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def render_table(
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Collection[int] = (),
    wrap: Collection[int] = (),
    width: int | None = None,
) -> list[str]:
    """The table's lines: natural when it fits ``width`` (or ``width`` is None), else laid
    out by ``rich`` at ``width`` with the ``wrap`` columns wrapping in their cells.

    Parameters
    ----------
    numeric
        Columns aligned right (never wrapped).
    wrap
        Columns whose cells may wrap onto more lines (at spaces, or anywhere in a long word).
    """
    lines = _natural(head, rows, numeric)
    if width is None or max(len(line) for line in lines) <= width:
        return lines
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 1), highlight=False)
    for j, h in enumerate(head):
        table.add_column(
            h,
            justify="right" if j in numeric else "left",
            no_wrap=j not in wrap,
            overflow="fold",
            header_style="",
        )
    for r in rows:
        table.add_row(*r)
    buf = io.StringIO()
    console = Console(
        file=buf, width=width, color_system=None, force_terminal=False, highlight=False
    )
    console.print(table)
    return [line.rstrip() for line in buf.getvalue().splitlines()]


def fit_lines(lines: Sequence[str], width: int | None) -> list[str]:
    """Prose lines wrapped at ``width`` under their own indent (plus two), unchanged for
    ``None``."""
    if width is None:
        return list(lines)
    out: list[str] = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.extend(
            textwrap.wrap(
                line,
                width=width,
                subsequent_indent=indent + "  ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [line]
        )
    return out


_NUMBER = re.compile(r"^[+-]?[0-9][0-9.,]*%?$|^-$|^$")


def _table_block(lines: Sequence[str], at: int) -> int:
    """The number of lines of a fixed-width table starting at ``lines[at]`` (a header, a
    rule of dashes as long as it, rows up to a blank line), or 0 if none starts there."""
    if at + 1 >= len(lines):
        return 0
    head, rule = lines[at], lines[at + 1]
    if not head.strip() or rule != "-" * len(head) or len(head.split()) < 2:
        return 0
    end = at + 2
    while end < len(lines) and lines[end].strip():
        end += 1
    return end - at


def _cells(block: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a fixed-width table: the first column is left-aligned words,
    the others end where their header ends (numbers right-aligned), the last takes the rest
    of its line (a left-aligned word too)."""
    head, rows = block[0], list(block[2:])
    ends = [m.end() for m in re.finditer(r"\S+", head)]
    first = max(len(line) - len(line.lstrip()) + len(line.split()[0]) for line in [head, *rows])
    bounds = [0, max(first, ends[0]), *ends[1:-1]]
    out = []
    for line in [head, *rows]:
        cells = [line[a:b].strip() for a, b in itertools.pairwise(bounds)]
        cells.append(line[bounds[-1] :].strip())
        out.append(cells)
    return out[0], out[1:]


def fit_report(text: str, width: int | None) -> str:
    """A report's text fitted to ``width``: each fixed-width table (a header, a rule of
    dashes, rows) that is wider is laid out again by :func:`render_table` (numbers never
    broken, words wrapped in their cells), and long prose lines wrap under their indent.
    Unchanged for ``None`` (a pipe or a file) and wherever it fits."""
    if width is None:
        return text
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        n = _table_block(lines, i)
        if n == 0:
            out.extend(fit_lines([lines[i]], width))
            i += 1
            continue
        block = lines[i : i + n]
        if max(len(line) for line in block) <= width:
            out.extend(block)
        else:
            head, rows = _cells(block)
            numeric = {
                j
                for j in range(1, len(head))
                if all(_NUMBER.match(r[j]) for r in rows) and any(r[j] for r in rows)
            }
            wrap = {j for j in range(len(head)) if j not in numeric}
            out.extend(render_table(head, rows, numeric=numeric, wrap=wrap, width=width))
        i += n
    return "\n".join(out)
