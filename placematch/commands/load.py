"""``placematch load DIR``: bring a case folder into the service's store.

Validated as ``placematch validate`` does (every problem listed, nothing stored from a
rejected folder), then merged: records with the same id are replaced, the rest kept.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from matcher.problems import CaseFolderError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``load`` sub-command."""
    p = subparsers.add_parser(
        "load",
        help="validate a case folder and store it in the service's database",
        description=(
            "Validate a case folder and merge it into the store: children are filed under "
            "their own authority; new vacancies under --authority (default: the policy's "
            "authority, else the authority of most children). Nothing is stored if the "
            "folder has any problem; all of them are listed."
        ),
    )
    p.add_argument("folder", metavar="DIR", help="the case folder")
    p.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get("PLACEMATCH_DB"),
        help="the store (as for serve)",
    )
    p.add_argument("--authority", metavar="LA", help="file new vacancies under this authority")
    p.add_argument("--json", action="store_true", help="print what was stored as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``placematch load``."""
    from geography.authorities import resolve_authority
    from placematch.service import db, store

    engine = db.connect(args.db)
    db.migrate(engine)
    owner = resolve_authority(args.authority).ons_code if args.authority else None
    with db.session_factory(engine)() as session:
        try:
            report = store.load_path(session, args.folder, owner)
        except CaseFolderError as exc:
            session.rollback()
            n = len(exc.problems)
            print(
                f"placematch: {args.folder}: {n} problem{'s' if n != 1 else ''}; nothing stored",
                file=sys.stderr,
            )
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return 2
        session.commit()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(
            f"Stored {args.folder}: {report.children_added} children added, "
            f"{report.children_updated} updated; {report.vacancies_added} vacancies added, "
            f"{report.vacancies_updated} updated"
            + ("; policy replaced" if report.policy else "")
            + (f"; {report.responses} providers' answers" if report.responses else "")
            + "."
        )
        for w in report.warnings:
            print(f"  warning: {w}")
    return 0
