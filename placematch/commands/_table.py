"""Terminal tables that fit the terminal's width.

A table keeps its natural width (one line per row, columns aligned) when it fits, and
always in a pipe or a file, which scripts read and which have no width. On a terminal
narrower than the table (or with ``COLUMNS`` set), ``rich`` lays it out at that width:
numbers never break, the columns given as wrappable (types, sign-offs) wrap inside their
cells, and long prose lines wrap under their indent.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import textwrap
from collections.abc import Collection, Sequence

__all__ = ["fit_lines", "render_table", "terminal_width"]


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
