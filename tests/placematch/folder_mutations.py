"""Bad case folders made from a good one: the mutations of issue 18, for the hardening tests.

Each :class:`Mutation` changes a copy of a valid folder in one way (a cell, a file's bytes,
a special file in place of a file, a policy key) and says what a correct answer looks like:
the text it planted that must never be echoed (``markers``), whether a refusal may name
only the file (``whole_file``), and whether the folder must be refused (``refuse``).
:func:`run_cli` runs ``placematch`` in-process and :func:`check_answer` judges the output,
so that the example-based tests and the hypothesis fuzz test apply the same standard.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from matcher.casefolder import load_case_folder
from matcher.problems import CaseFolderError
from placematch.cli import main

ROOT = Path(__file__).resolve().parents[2]
#: The valid folder every mutation starts from: small, so that a match takes milliseconds.
BASE = ROOT / "examples" / "demo"

CHILDREN, VACANCIES, POLICY = "children.csv", "vacancies.csv", "policy.toml"

#: Text a person might type into a cell by mistake: each must never come back in an error.
PERSONAL = (
    "Jessica Smith",
    "Flat 3, 12 Elm Road",
    "07700 900123",
    "jess.smith@example.org",
    "Mohammed Al-Rashid (DOB 03/04/2012)",
)


@dataclass(frozen=True)
class Mutation:
    """One way of spoiling a copy of :data:`BASE`.

    Attributes
    ----------
    name : str
        What it does, for test ids.
    apply : callable
        Changes the folder in place.
    markers : tuple of str
        Planted text that no message may echo.
    whole_file : bool
        A refusal may name just the file (a special file, an unreadable or too large file).
    refuse : bool
        The folder must be refused (exit 2); otherwise either answer is allowed.
    files : tuple of str
        The files it changes (so that a later change of the same file can undo it).
    """

    name: str
    apply: Callable[[Path], None]
    markers: tuple[str, ...] = ()
    whole_file: bool = False
    refuse: bool = True
    files: tuple[str, ...] = ()


def copy_base(into: Path) -> Path:
    """A fresh copy of :data:`BASE` at ``into`` (replaced if there)."""
    if into.exists() or into.is_symlink():
        shutil.rmtree(into)
    shutil.copytree(BASE, into)
    return into


def _editable(path: Path) -> bool:
    """A regular file small enough to rewrite: an earlier mutation may have put a device,
    a FIFO or 300 MB in its place, which a later one must leave alone (reading it would
    block or fill memory: the very thing under test)."""
    return path.is_file() and path.stat().st_size < 1024 * 1024


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file of the base folder."""
    if not _editable(path):
        raise OSError(f"{path.name} is not a small regular file")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Write a CSV file as placematch writes one."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def set_cell(file: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """A mutation putting ``value`` in ``column`` of data row ``row`` (0-based) of ``file``."""

    def apply(folder: Path) -> None:
        header, rows = read_rows(folder / file)
        if column not in header:
            header.append(column)
            for r in rows:
                r.append("")
        if not rows:
            raise ValueError(f"{file} has no rows to change")
        rows[row % len(rows)][header.index(column)] = value
        write_rows(folder / file, header, rows)

    return apply


def cell(file: str, row: int, column: str, value: str, **kwargs: object) -> Mutation:
    """A cell mutation whose value must never be echoed when it could be personal data."""
    markers = kwargs.pop("markers", None)
    if markers is None:
        markers = (value,) if len(value.strip()) >= 6 else ()
    return Mutation(
        f"{file}:{column}={value[:24]!r}",
        set_cell(file, row, column, value),
        markers=markers,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def replace_bytes(file: str, make: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """A mutation replacing ``file``'s bytes with ``make(old bytes)``."""

    def apply(folder: Path) -> None:
        path = folder / file
        old = path.read_bytes() if _editable(path) else b""
        path.unlink(missing_ok=True)
        path.write_bytes(make(old))

    return apply


def special(file: str, kind: str) -> Callable[[Path], None]:
    """A mutation putting a FIFO, a directory, a device link or nothing in place of ``file``."""

    def apply(folder: Path) -> None:
        path = folder / file
        path.unlink(missing_ok=True)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "directory":
            path.mkdir()
        elif kind == "dev_zero":
            path.symlink_to("/dev/zero")
        elif kind == "dev_null":
            path.symlink_to("/dev/null")
        elif kind == "dangling":
            path.symlink_to(folder / "nowhere")
        elif kind == "huge":  # sparse: 300 MB of nothing, written in no time
            with path.open("wb") as fh:
                fh.truncate(300 * 1024 * 1024)
        elif kind != "missing":  # pragma: no cover - a typo in a test
            raise ValueError(kind)

    return apply


def policy_text(text: str) -> Callable[[Path], None]:
    """A mutation replacing ``policy.toml`` with ``text``."""
    return replace_bytes(POLICY, lambda _: text.encode("utf-8"))


def issue_mutations() -> list[Mutation]:
    """The defects issue 18 measured, one mutation each (each must be refused cleanly)."""
    big = "9223372036854775808"
    out = [
        # numbers beyond any sane range (and beyond 64 bits)
        cell(VACANCIES, 0, "beds", big),
        cell(VACANCIES, 0, "beds", "101"),
        cell(VACANCIES, 1, "weekly_cost", big),
        cell(VACANCIES, 1, "weekly_cost", "100001"),
        cell(VACANCIES, 2, "fostered_now", big),
        cell(VACANCIES, 2, "fostered_now", "101"),
        cell(VACANCIES, 0, "beds", "9" * 5000),
        # ages in other scripts' digits
        cell(CHILDREN, 0, "age", "\u0661\u0664", markers=("\u0661\u0664",)),
        cell(CHILDREN, 0, "age", "\uff11\uff14", markers=("\uff11\uff14",)),
        cell(VACANCIES, 0, "age_min", "\u0660", markers=("\u0660",)),
        cell(VACANCIES, 0, "beds", "\uff12", markers=("\uff12",)),
        # approval ranges the wrong way round
        cell(VACANCIES, 3, "age_min", "25"),
        # postcodes not in the ONS directory
        cell(CHILDREN, 0, "home_postcode", "ZZ9 9ZZ", markers=("ZZ9 9ZZ",)),
        cell(VACANCIES, 0, "postcode", "ZZ9 9ZZ", markers=("ZZ9 9ZZ",)),
        cell(VACANCIES, 0, "postcode", "CO1 1ZZ", markers=("CO1 1ZZ",)),
        cell(CHILDREN, 2, "home_postcode", "CO1 1ZZ", markers=("CO1 1ZZ",)),
        # personal data typed into the wrong cell
        *(cell(CHILDREN, 1, column, PERSONAL[0]) for column in ("child_id", "la")),
        cell(CHILDREN, 1, "placement_types", PERSONAL[1]),
        cell(CHILDREN, 1, "sibling_group", PERSONAL[0]),
        cell(CHILDREN, 1, "avoid_areas", PERSONAL[2]),
        cell(CHILDREN, 1, "needs", PERSONAL[3]),
        cell(CHILDREN, 1, "ethnicity", PERSONAL[4]),
        cell(CHILDREN, 1, "sex", PERSONAL[0]),
        cell(CHILDREN, 1, "school_urn", PERSONAL[2]),
        cell(VACANCIES, 1, "connected_to", PERSONAL[0]),
        cell(VACANCIES, 1, "vacancy_id", PERSONAL[0]),
        cell(VACANCIES, 1, "provider_id", PERSONAL[0]),
        cell(VACANCIES, 1, "postcode", PERSONAL[1]),
        cell(VACANCIES, 1, "capabilities", PERSONAL[3]),
        cell(VACANCIES, 1, "ethnicity", PERSONAL[4]),
        cell(VACANCIES, 1, "urn", PERSONAL[2]),
        cell(VACANCIES, 1, "available_from", PERSONAL[4]),
        cell(VACANCIES, 1, "beds", PERSONAL[2]),
        # huge ids (beyond the csv module's field limit too)
        cell(CHILDREN, 0, "child_id", "C" * 200),
        cell(VACANCIES, 0, "vacancy_id", "V" * 200_000, markers=("V" * 64,)),
        # fostering households already over the limit: match must still be valid
        Mutation(
            "vacancies.csv:fostered_now=10 on a foster household",
            set_cell(VACANCIES, 1, "fostered_now", "10"),
            refuse=False,
        ),
        # encodings and bytes
        Mutation("children.csv as UTF-16", replace_bytes(CHILDREN, _utf16)),
        Mutation("vacancies.csv as Latin-1", replace_bytes(VACANCIES, _latin1)),
        Mutation("children.csv binary", replace_bytes(CHILDREN, lambda _: bytes(range(256)) * 8)),
        Mutation(
            "children.csv NUL bytes", replace_bytes(CHILDREN, lambda b: b.replace(b",", b"\0", 3))
        ),
        Mutation(
            "children.csv with a BOM is fine",
            replace_bytes(CHILDREN, lambda b: b"\xef\xbb\xbf" + b),
            refuse=False,
        ),
        # special files
        *(
            Mutation(f"{file} is {kind}", special(file, kind), whole_file=True)
            for file in (CHILDREN, VACANCIES, POLICY)
            for kind in ("fifo", "directory", "dev_zero", "huge")
        ),
        Mutation("policy.toml links to /dev/null", special(POLICY, "dev_null"), whole_file=True),
        # policy numbers
        Mutation("policy: ks4 multiplier inf", policy_text("key_stage_4_multiplier = inf\n")),
        Mutation("policy: ks4 multiplier nan", policy_text("key_stage_4_multiplier = nan\n")),
        Mutation("policy: ks4 multiplier 1e300", policy_text("key_stage_4_multiplier = 1e300\n")),
        Mutation("policy: distance inf", policy_text("distance_zero_miles = inf\n")),
        Mutation(
            "policy: weight 1e20", policy_text("[weights]\nnear_home = 100000000000000000000\n")
        ),
        Mutation("policy: weight 1e20 float", policy_text("[weights]\nnear_home = 1e20\n")),
        Mutation("policy: weight huge", policy_text("[weights]\nconnected_person = 1000000\n")),
        Mutation("policy: split cost huge", policy_text(f"sibling_split_cost = {big}\n")),
        Mutation("policy: cost scale huge", policy_text(f"cost_scale_weekly = {big}\n")),
        # policy files
        Mutation("policy: deep", policy_text("x = " + "[" * 30_000 + "]" * 30_000 + "\n")),
        Mutation("policy: deep tables", policy_text("[" + ".".join(["a"] * 5000) + "]\n")),
        Mutation(
            "policy: long", policy_text("# " + "x" * (2 * 1024 * 1024) + "\n"), whole_file=True
        ),
        Mutation("policy: not UTF-8", replace_bytes(POLICY, lambda b: b + b"# caf\xe9\n")),
        Mutation("policy: UTF-16", replace_bytes(POLICY, _utf16)),
        Mutation("policy: binary", replace_bytes(POLICY, lambda _: bytes(range(256)) * 4)),
        Mutation(
            "policy: a name in a string key",
            policy_text(f'authority = "{PERSONAL[0]}"\n'),
            markers=(PERSONAL[0],),
        ),
    ]
    return out


def _utf16(data: bytes) -> bytes:
    return data.decode("utf-8-sig").encode("utf-16")


def _latin1(data: bytes) -> bytes:
    text = data.decode("utf-8-sig")
    header, _, rest = text.partition("\n")
    return (header + "\n" + rest.replace(",,", ",Gaelic caf\u00e9,", 1)).encode("latin-1")


@dataclass(frozen=True)
class Answer:
    """What ``placematch`` did: exit status and both streams."""

    status: int
    out: str
    err: str


def run_cli(argv: Sequence[str]) -> Answer:
    """Run ``placematch`` in this process, capturing both streams."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as exc:  # argparse
            status = int(exc.code or 0)
    return Answer(status, out.getvalue(), err.getvalue())


#: A problem line of ``placematch validate``: two spaces, ``file[:line]: [field: ]message``.
_PROBLEM = re.compile(r"^  (?P<file>[\w.]+\.(?:csv|toml))(?::(?P<line>\d+))?: (?P<rest>.*)$")


def problem_lines(err: str) -> list[re.Match[str]]:
    """The problem lines of a refusal, parsed (unparseable lines come back as no match)."""
    lines = [line for line in err.splitlines() if line.startswith("  ")]
    return [m for line in lines if (m := _PROBLEM.match(line)) is not None]


def check_answer(mutation: Mutation, answer: Answer, *, command: str = "validate") -> list[str]:
    """Everything wrong with ``answer`` to ``mutation``; empty when it is right."""
    wrong: list[str] = []
    text = answer.out + answer.err
    if answer.status not in (0, 2):
        wrong.append(f"exit {answer.status}")
    if "Traceback" in text or "internal error" in text:
        wrong.append("internal error: " + answer.err.strip()[-300:])
    for marker in mutation.markers:
        if marker and marker in text:
            wrong.append(f"echoed {marker[:30]!r}")
    if mutation.refuse and answer.status != 2:
        wrong.append(f"accepted (exit {answer.status})")
    if answer.status == 2 and command == "validate":
        lines = [line for line in answer.err.splitlines() if line.startswith("  ")]
        if not lines:
            wrong.append("refused without a problem line: " + answer.err.strip()[:200])
        wrong += [
            f"problem without a file: {line[:120]}" for line in lines if not _PROBLEM.match(line)
        ]
    return wrong


def check_problems(mutation: Mutation, folder: Path) -> list[str]:
    """Every problem the loader reports names a file of the folder, and a line or a field
    unless the mutation spoilt a whole file; empty when so (or when the folder loads)."""
    try:
        load_case_folder(folder)
    except CaseFolderError as exc:
        problems = exc.problems
    else:
        return []
    wrong = []
    for p in problems:
        if p.file not in (CHILDREN, VACANCIES, POLICY, "residents.csv", "responses.csv"):
            wrong.append(f"problem names no file of the folder: {p}")
        elif p.line is None and p.field is None and not mutation.whole_file:
            wrong.append(f"problem names no line or field: {p}")
    return wrong
