"""Progress of long runs, on stderr only: stdout (a table or ``--json``) stays clean.

On a terminal a ``rich`` progress bar with the runs done, the time taken and an estimate of
the time left; in a log or a pipe one plain line per update with the same figures. Before
the first run ends, a line says what is about to happen (how many runs, on how many
workers, and in ``scenario plan`` which round), so that a long first run is not silence.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["RunProgress"]


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min"


class RunProgress:
    """A progress callback ``(done, total)`` with :meth:`announce` for the line before.

    Parameters
    ----------
    label
        The command, e.g. ``"scenario run"``; every line starts with it.
    stream
        Where to write (standard error by default; never standard output).
    """

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar: Any = None
        self._task: Any = None
        self._started = time.perf_counter()
        self._base = 0

    def announce(self, text: str, done: int = 0) -> None:
        """Write ``label: text`` now (a new round starts a new bar); ``done``: runs already
        finished (resumed), which the time-left estimate leaves out."""
        self.close()
        self.stream.write(f"{self.label}: {text}\n")
        self.stream.flush()
        self._started = time.perf_counter()
        self._base = done

    def _left(self, done: int, total: int) -> float | None:
        ran = done - self._base
        if ran <= 0:
            return None
        return (time.perf_counter() - self._started) / ran * (total - done)

    def __call__(self, done: int, total: int) -> None:
        if self.live:
            self._update_bar(done, total)
            return
        elapsed = time.perf_counter() - self._started
        left = self._left(done, total)
        eta = f", about {_duration(left)} left" if left is not None and done < total else ""
        self.stream.write(f"{self.label}: {done}/{total} runs, {elapsed:.1f} s{eta}\n")
        self.stream.flush()

    def _update_bar(self, done: int, total: int) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            console = Console(file=self.stream, force_terminal=True)
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("runs"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=total, completed=self._base)
        self._bar.update(self._task, completed=done, total=total)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Stop a bar that is showing (it stays on screen at its last state)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._task = None
