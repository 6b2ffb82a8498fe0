"""Problems found in a case folder: each names the file, line and field, and what was expected."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem (or warning) in one place of a case folder.

    Attributes
    ----------
    file : str
        The file's name inside the folder, e.g. ``"children.csv"``.
    line : int or None
        The line number as an editor shows it (the header is line 1); ``None`` for the
        whole file.
    field : str or None
        The column (CSV) or key (TOML) concerned; ``None`` for the whole row or file.
    message : str
        What is wrong and what was expected. Never contains a child's personal data.
    """

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class CaseFolderError(ValueError):
    """A case folder (or its policy) has problems; :attr:`problems` holds all of them.

    The message is one line (the count and the first problem) so that the command line's
    generic error handler prints something useful; ``placematch validate`` lists them all.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        n = len(self.problems)
        first = str(self.problems[0]) if self.problems else "no details"
        more = f" (and {n - 1} more; run 'placematch validate' to list them)" if n > 1 else ""
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in case folder: {first}{more}")
