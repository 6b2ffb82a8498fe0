"""Check a council's own SSDA903 return with the DfE validator before it is imported.

The DfE validator (``csc-validator-be-903`` on PyPI) pins old pandas and numpy, so it never
joins placematch's environment: it lives in its own virtual environment, created on first
use (:func:`ensure_environment`) in the user cache folder, or wherever
``--validator-env`` / ``PLACEMATCH_903_VALIDATOR_ENV`` says. :func:`validate_903` runs
:mod:`placematch._dfe903_runner` there by its file path and reads back what each rule
flagged: rule number, table, file, line numbers, the rule's message and affected fields.
Never a cell of the data: a child's postcode, date of birth or id is not in the result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The validator release placematch's export is checked against (docs/synthetic-cohorts.md).
VALIDATOR_REQUIREMENT = "csc-validator-be-903==0.1.17"

#: Environment variable naming the validator's environment (as ``--validator-env``).
ENV_VARIABLE = "PLACEMATCH_903_VALIDATOR_ENV"

_RUNNER = Path(__file__).with_name("_dfe903_runner.py")
_EXIT_NO_VALIDATOR = 3
_EXIT_BAD_FILES = 4


class ValidatorUnavailableError(OSError):
    """The validator's environment is missing and cannot be made, or is broken."""


@dataclass(frozen=True, slots=True)
class RuleFlag:
    """One rule that flagged rows of one table.

    Attributes
    ----------
    rule : str
        The DfE rule number (e.g. ``"218"``).
    table : str
        The validator's table name (``Episodes``, ``Header``, ...).
    file : str
        The file that table was read from.
    message : str
        The rule's own message (the DfE's text, never a value from the data).
    fields : tuple[str, ...]
        The rule's affected fields.
    lines : tuple[int, ...]
        Lines of ``file`` it flags (the column names are line 1).
    """

    rule: str
    table: str
    file: str
    message: str
    fields: tuple[str, ...]
    lines: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.rule or not self.lines or min(self.lines) < 2:
            raise ValueError("RuleFlag: expected a rule and data lines (2 or more)")

    @property
    def count(self) -> int:
        """Rows flagged."""
        return len(self.lines)


@dataclass(frozen=True, slots=True)
class Validation903:
    """What the DfE validator said of one return."""

    folder: str
    la_code: str
    la_name: str
    year: int
    ruleset: str
    version: str
    tables: Mapping[str, str]
    ignored_files: tuple[str, ...]
    rules_run: int
    rules_skipped: tuple[str, ...]
    rules_failed: tuple[str, ...]
    flags: tuple[RuleFlag, ...]

    @property
    def errors(self) -> int:
        """Rows flagged, added up over the rules."""
        return sum(f.count for f in self.flags)

    @property
    def rules_flagged(self) -> int:
        """Rules that flag a row."""
        return len({f.rule for f in self.flags})

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` form."""
        return {
            "folder": self.folder,
            "la": {"ons_code": self.la_code, "name": self.la_name},
            "year": self.year,
            "validator": {"package": "csc-validator-be-903", "version": self.version},
            "ruleset": self.ruleset,
            "tables": dict(self.tables),
            "ignored_files": list(self.ignored_files),
            "rules_run": self.rules_run,
            "rules_skipped": list(self.rules_skipped),
            "rules_failed": list(self.rules_failed),
            "rules_flagged": self.rules_flagged,
            "errors": self.errors,
            "flags": [
                {
                    "rule": f.rule,
                    "table": f.table,
                    "file": f.file,
                    "message": f.message,
                    "fields": list(f.fields),
                    "count": f.count,
                    "lines": list(f.lines),
                }
                for f in self.flags
            ],
        }

    def summary(self) -> dict[str, Any]:
        """The counts as plain data (JSON-ready): the authority, the year and ruleset, rules
        run, skipped and failed, rules that flag rows and rows flagged (:meth:`to_dict` adds
        every flag, :meth:`text` prints the report)."""
        return {
            "la": {"ons_code": self.la_code, "name": self.la_name},
            "year": self.year,
            "ruleset": self.ruleset,
            "rules_run": self.rules_run,
            "rules_skipped": len(self.rules_skipped),
            "rules_failed": len(self.rules_failed),
            "rules_flagged": self.rules_flagged,
            "errors": self.errors,
        }

    def text(self, *, max_lines: int = 10) -> str:
        """The text report: one block per rule and table, counts first."""
        first = self.year - 1
        lines = [
            f"DfE 903 validator (csc-validator-be-903 {self.version}, rules {self.ruleset}) "
            f"on {self.folder} for {self.la_name} ({self.la_code}), "
            f"year {first}/{self.year % 100:02d}",
            "tables read: "
            + ", ".join(f"{t} ({Path(p).name})" for t, p in sorted(self.tables.items())),
        ]
        if self.ignored_files:
            names = ", ".join(Path(p).name for p in self.ignored_files)
            lines.append(f"not 903 tables, not checked: {names}")
        lines.append(
            f"rules run {self.rules_run}, skipped (tables absent) {len(self.rules_skipped)}, "
            f"failed to run {len(self.rules_failed)}"
            + (f" ({', '.join(self.rules_failed)})" if self.rules_failed else "")
        )
        if not self.flags:
            lines.append("no rule flags a row")
            return "\n".join(lines)
        lines.append("")
        lines.append(f"{'rule':>6}  {'table':<14} {'rows':>5}  fields; message")
        for f in self.flags:
            lines.append(
                f"{f.rule:>6}  {f.table:<14} {f.count:>5}  {', '.join(f.fields) or '-'}; "
                f"{f.message}"
            )
            shown = ", ".join(str(n) for n in f.lines[:max_lines])
            more = f" and {f.count - max_lines} more" if f.count > max_lines else ""
            lines.append(f"{'':>6}  lines {shown}{more} of {Path(f.file).name}")
        lines.append("")
        lines.append(f"{self.rules_flagged} rule(s) flag {self.errors} row(s)")
        return "\n".join(lines)


def default_environment() -> Path:
    """Where the validator's environment is kept unless told otherwise.

    ``PLACEMATCH_903_VALIDATOR_ENV`` if set, else ``validator-903-<version>`` in the user
    cache folder (``$XDG_CACHE_HOME/placematch`` or ``~/.cache/placematch``;
    ``%LOCALAPPDATA%\\placematch\\Cache`` on Windows).
    """
    env = os.environ.get(ENV_VARIABLE, "").strip()
    if env:
        return Path(env)
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"]) / "placematch" / "Cache"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "placematch"
    return base / f"validator-903-{VALIDATOR_REQUIREMENT.split('==')[1]}"


def environment_python(env: Path) -> Path:
    """The interpreter of the virtual environment ``env``."""
    if sys.platform == "win32":
        return env / "Scripts" / "python.exe"
    return env / "bin" / "python"


def _how_to_provide(env: Path) -> str:
    return (
        f"on a machine with network access run `python -m venv {env.name} && "
        f"{env.name}/bin/python -m pip install {VALIDATOR_REQUIREMENT}`, copy that folder "
        f"here and pass it as --validator-env (or set {ENV_VARIABLE})"
    )


def ensure_environment(env: Path, *, quiet: bool = True) -> Path:
    """The validator environment's interpreter, creating the environment if it is absent.

    Raises
    ------
    ValidatorUnavailableError
        If ``env`` exists but is not a virtual environment, or it cannot be created or the
        validator cannot be installed (e.g. offline): the message says how to provide it.
    """
    python = environment_python(env)
    if python.exists():
        return python
    if env.exists() and any(env.iterdir()):
        raise ValidatorUnavailableError(
            f"validator environment {env} exists but is not a virtual environment "
            f"(no {python.relative_to(env)}); remove it to have it created, or pass another "
            "--validator-env"
        )
    print(
        f"placematch validate-903: creating the validator's environment in {env} "
        f"(first use; installs {VALIDATOR_REQUIREMENT})",
        file=sys.stderr,
    )
    created = not env.exists()
    try:
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, capture_output=quiet)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", VALIDATOR_REQUIREMENT],
            check=True,
            capture_output=quiet,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        # A half-made environment would be taken for a good one next time.
        if created:
            shutil.rmtree(env, ignore_errors=True)
        else:
            for child in env.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink()
        status = getattr(exc, "returncode", None)
        raise ValidatorUnavailableError(
            f"could not install {VALIDATOR_REQUIREMENT} into {env}"
            + (f" (exit status {status}; is this machine offline?)" if status else "")
            + f": {_how_to_provide(env)}"
        ) from exc
    return python


def default_ruleset(year: int) -> str:
    """The validator's ruleset for the collection year ending 31 March ``year``."""
    return f"lac{year - 1}_{year % 100:02d}"


#: The episodes table's dates, as the validator recognises the table (its exact columns hold
#: these two among others).
_EPISODE_DATES = ("DECOM", "DEC")


def infer_year(folder: str | os.PathLike[str]) -> int:
    """The collection year a return covers, from its latest episode date.

    A 903 return runs from 1 April to 31 March; the year is named by its end, so an episode
    that starts or ends on 14 May 2024 belongs to the year ending 31 March 2025. The latest
    ``DECOM`` or ``DEC`` of the episodes table (the CSV file whose header has both) decides.

    Raises
    ------
    ValueError
        If no CSV file in ``folder`` has both columns, none has a date, or a date is not
        ``dd/mm/yyyy``: the message names the file, line and column, never the value.
    """
    import csv
    from datetime import datetime

    latest = None
    found = False
    for path in sorted(Path(folder).glob("*.csv")):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            if not all(col in header for col in _EPISODE_DATES):
                continue
            found = True
            where = [header.index(col) for col in _EPISODE_DATES]
            for line, row in enumerate(reader, start=2):
                for col, i in zip(_EPISODE_DATES, where, strict=True):
                    cell = row[i].strip() if i < len(row) else ""
                    if not cell:
                        continue
                    try:
                        when = datetime.strptime(cell, "%d/%m/%Y").date()
                    except ValueError:
                        raise ValueError(
                            f"{path.name}, line {line}, column {col}: expected a date "
                            "dd/mm/yyyy (to infer the collection year; or give --year)"
                        ) from None
                    latest = when if latest is None or when > latest else latest
    if not found:
        raise ValueError(
            f"{folder}: no episodes table (a CSV file with columns DECOM and DEC) to infer "
            "the collection year from; give --year"
        )
    if latest is None:
        raise ValueError(
            f"{folder}: the episodes table has no DECOM or DEC date to infer the collection "
            "year from; give --year"
        )
    return latest.year + (1 if latest.month >= 4 else 0)


def validate_903(
    folder: str | os.PathLike[str],
    *,
    la: str,
    year: int,
    ruleset: str | None = None,
    env: str | os.PathLike[str] | None = None,
    install: bool = True,
) -> Validation903:
    """Run the DfE validator on the 903 CSV files in ``folder``.

    Parameters
    ----------
    folder
        A folder of the return's CSV files; tables are recognised by their columns, as the
        validator does, and other CSV files are listed as not checked.
    la
        The returning authority (ONS code, DfE number or name).
    year
        The collection year's end (2025 for 1 April 2024 to 31 March 2025).
    ruleset
        The validator's ruleset; default :func:`default_ruleset` of ``year``.
    env
        The validator's environment; default :func:`default_environment`.
    install
        Create the environment when it is absent (else refuse).

    Raises
    ------
    ValueError
        If ``folder`` has no CSV file, or the validator refuses the files or the ruleset.
    LookupError
        If ``la`` is not an English authority.
    ValidatorUnavailableError
        If the validator cannot be found, made or run.
    """
    import geography

    authority = geography.resolve_authority(la)
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{folder}: not a folder; expected a folder of 903 CSV files")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if not files:
        raise ValueError(f"{folder}: no .csv file; expected the return's 903 CSV files")
    where = Path(env) if env is not None else default_environment()
    if install:
        python = ensure_environment(where)
    else:
        python = environment_python(where)
        if not python.exists():
            raise ValidatorUnavailableError(
                f"no validator environment at {where}: {_how_to_provide(where)}"
            )
    chosen = ruleset or default_ruleset(year)
    with tempfile.TemporaryDirectory(prefix="placematch-v903-") as tmp:
        out = Path(tmp) / "result.json"
        done = subprocess.run(
            [
                str(python),
                str(_RUNNER),
                str(out),
                *(str(f) for f in files),
                "--la",
                authority.ons_code,
                "--year",
                str(year),
                "--ruleset",
                chosen,
            ],
            capture_output=True,
            text=True,
            # The validator's own modules, not whatever a PYTHONPATH meant for placematch.
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | _extra_env(),
        )
        data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    if done.returncode == _EXIT_NO_VALIDATOR:
        raise ValidatorUnavailableError(
            f"{where} is not an environment with {VALIDATOR_REQUIREMENT} "
            f"({data.get('error', 'import failed')}); remove it to have it created again, "
            "or pass another --validator-env"
        )
    if done.returncode == _EXIT_BAD_FILES:
        raise ValueError(f"{folder}: {data.get('error', 'the files were refused')}")
    if done.returncode != 0 or "flagged" not in data:
        # Its traceback may quote the data, so it is not shown.
        raise ValidatorUnavailableError(
            f"the DfE validator failed on {folder} (exit status {done.returncode}); its "
            "output is not shown because it may quote the data: run "
            f"{python} {_RUNNER} by hand to see it"
        )
    return Validation903(
        folder=str(folder),
        la_code=authority.ons_code,
        la_name=authority.name,
        year=year,
        ruleset=chosen,
        version=str(data["validator"]["version"]),
        tables={str(k): str(v) for k, v in data["tables"].items()},
        ignored_files=tuple(str(p) for p in data["ignored_files"]),
        rules_run=int(data["rules_run"]),
        rules_skipped=tuple(data["rules_skipped"]),
        rules_failed=tuple(data["rules_failed"]),
        flags=tuple(
            sorted(
                (
                    RuleFlag(
                        rule=str(f["rule"]),
                        table=str(f["table"]),
                        file=str(f["file"]),
                        message=str(f["message"]),
                        fields=tuple(str(x) for x in f["fields"]),
                        lines=tuple(int(n) for n in f["lines"]),
                    )
                    for f in data["flagged"]
                ),
                key=lambda f: (_rule_key(f.rule), f.table),
            )
        ),
    )


def _extra_env() -> dict[str, str]:
    return {"PYTHONDONTWRITEBYTECODE": "1"}


def _rule_key(rule: str) -> tuple[int, str]:
    digits = "".join(ch for ch in rule if ch.isdigit())
    return (int(digits) if digits else 0, rule)
