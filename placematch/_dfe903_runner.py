"""Run the DfE SSDA903 validator on a folder of 903 CSV files and write what it flags as JSON.

This script runs INSIDE the validator's own environment (``csc-validator-be-903`` pins old
pandas and numpy), never in placematch's: :mod:`placematch.validate_903` starts it there by
its file path, so it imports nothing from placematch and only the standard library besides
the validator. Usage::

    python _dfe903_runner.py OUT.json --la E10000012 --year 2025 --ruleset lac2024_25 FILE...

What it writes never holds a cell of the data (postcodes, dates of birth, child ids): only
table and file names, rule codes, the rules' own messages and affected fields, and line
numbers. Exit status 0 when the validator ran (whatever it found), 3 when the validator
cannot be imported, 4 when the files cannot be given to it (a duplicated table, no table).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import logging
import sys
from typing import Any

EXIT_NO_VALIDATOR = 3
EXIT_BAD_FILES = 4


def _columns(path: str) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [c.strip() for c in next(csv.reader(fh), [])]


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - every supported Python has it
        return "unknown"
    try:
        return version("csc-validator-be-903")
    except PackageNotFoundError:
        return "unknown"


def _fail(out: str, status: int, message: str) -> int:
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"error": message}, fh)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--la", required=True)
    parser.add_argument("--year", required=True)
    parser.add_argument("--ruleset", required=True)
    args = parser.parse_args(argv)
    # The validator logs row indices and, on failures, values: keep all of it out.
    logging.disable(logging.CRITICAL)
    try:
        config = importlib.import_module("lac_validator.config")
        engine = importlib.import_module("lac_validator.lac_validator")
        utils = importlib.import_module("lac_validator.utils")
        rules_package = importlib.import_module("lac_validator.rules")
    except ImportError as exc:
        return _fail(args.out, EXIT_NO_VALIDATOR, f"the validator cannot be imported ({exc.name})")
    try:
        rules = importlib.import_module(f"lac_validator.rules.{args.ruleset}")
    except ImportError:
        import pkgutil

        known = sorted(m.name for m in pkgutil.iter_modules(rules_package.__path__))
        known = [k for k in known if k.startswith("lac")]
        return _fail(
            args.out,
            EXIT_BAD_FILES,
            f"the validator has no ruleset {args.ruleset!r}; it has {', '.join(known)}",
        )

    tables: dict[str, str] = {}
    ignored: list[str] = []
    for path in args.files:
        found = _columns(path)
        name = next((t for t, cols in config.column_names.items() if set(cols) == set(found)), None)
        if name is None:
            ignored.append(path)
            continue
        if name in tables:
            return _fail(
                args.out,
                EXIT_BAD_FILES,
                f"{path} and {tables[name]} are both the {name} table; give one file a table",
            )
        tables[name] = path
    if not tables:
        return _fail(
            args.out,
            EXIT_BAD_FILES,
            "no file is a 903 table (tables are recognised by their exact column set)",
        )

    uploaded = utils.process_uploaded_files({"This year": list(tables.values())})
    validator = engine.LacValidator(
        metadata={"collectionYear": str(args.year), "localAuthority": args.la},
        files=uploaded,
        registry=rules.registry,
        selected_rules=None,
    )
    flagged: list[dict[str, Any]] = []
    for table, frame in validator.ds_results.items():
        if table not in tables:
            continue
        for column in sorted(c for c in frame.columns if str(c).startswith("ERR_")):
            mask = frame[column].fillna(False).astype(bool)
            # The validator's index is the row's position in the file: line = index + 2.
            lines = sorted(int(i) + 2 for i in frame.index[mask])
            if not lines:
                continue
            code = str(column)[4:]
            rule = rules.registry.get(code)
            flagged.append(
                {
                    "rule": code,
                    "table": table,
                    "file": tables[table],
                    "message": str(getattr(rule, "message", "")),
                    "fields": sorted(str(f) for f in (getattr(rule, "affected_fields", ()) or ())),
                    "lines": lines,
                }
            )
    result = {
        "validator": {"package": "csc-validator-be-903", "version": _version()},
        "ruleset": args.ruleset,
        "tables": tables,
        "ignored_files": ignored,
        "rules_run": len(validator.dones),
        "rules_skipped": sorted(str(r) for r in validator.skips),
        "rules_failed": sorted(str(r) for r in validator.fails),
        "flagged": flagged,
    }
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
