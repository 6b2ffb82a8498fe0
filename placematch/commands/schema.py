"""``placematch schema [--json]``: print the case-folder contract.

Generated from the declarations the loader itself uses (:mod:`matcher.contract`,
:mod:`matcher.policy`), so it cannot drift from what ``placematch validate`` accepts.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from matcher.contract import contract


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``schema`` sub-command."""
    parser = subparsers.add_parser(
        "schema",
        help="print the case-folder contract: files, columns, vocabularies, policy keys",
        description="Print the case-folder contract (what 'placematch validate' accepts).",
    )
    parser.add_argument("--json", action="store_true", help="print it as JSON")
    parser.set_defaults(func=run)


def _value(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_contract(c: dict[str, Any]) -> str:
    """The contract as text: one block per file, then the vocabularies."""
    lines: list[str] = []
    for file, columns in c["files"].items():
        if file.endswith(".csv"):
            lines.append(f"{file}  (header line 1; columns in this order)")
            for col in columns:
                need = "required" if col["required"] else "optional"
                blank = ", may be blank" if col["blank"] and col["required"] else ""
                vocab = f" [{col['vocabulary']}]" if col["vocabulary"] else ""
                lines.append(f"  {col['name']:<16} {need}{blank}: {col['type']}{vocab}")
                lines.append(f"  {'':<16} {col['description']}")
            extras = c.get("extra_columns", {}).get(file, {})
            if extras:
                lines.append(
                    "  written by placematch synth and import-903; not used by the matcher:"
                )
                for name, meaning in extras.items():
                    lines.append(f"  {name:<16} {meaning}")
        else:
            lines.append(f"{file}  (optional; key = default: meaning [accepted range])")
            for key in columns:
                lines.append(
                    f"  {key['key']:<26} {key['type']:<8} = {_value(key['default']):<6} "
                    f"{key['doc']} [{key['range']}]"
                )
        lines.append("")
    lines.append(f"Lists inside a cell are separated by '{c['list_separator']}'.")
    for name, values in c["vocabularies"].items():
        if name == "ethnicity":
            pairs = [f"{code} {meaning}" for code, meaning in values.items()]
            lines.append(f"{name} (SSDA903 ETHNIC codes):")
            lines += [f"  {'; '.join(pairs[i : i + 4])}" for i in range(0, len(pairs), 4)]
            continue
        lines.append(f"{name}:")
        width = max(len(v) for v in values)
        for value, meaning in values.items():
            lines.append(f"  {value:<{width}}  {meaning}")
    lines.append(
        "A need that requires the same capability on the vacancy (hard rule): "
        + ", ".join(c["required_capability"])
    )
    lines += c["notes"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the contract."""
    c = contract()
    if args.json:
        print(json.dumps(c, indent=2))
    else:
        print(render_contract(c))
    return 0
