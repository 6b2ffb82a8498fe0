"""``placematch user``: manage the service's users.

``user add NAME --role ROLE [--authority LA ...] [--region REGION] [--password-stdin]``:
create a user (the password is asked for, or read from standard input); ``user disable
NAME`` / ``user enable NAME``; ``user list``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``user`` and its sub-commands."""
    parser = subparsers.add_parser(
        "user",
        help="manage the service's users (add, disable, enable, list)",
        description="Manage the placement service's users.",
    )
    parser.set_defaults(func=lambda args: _usage(parser))
    inner = parser.add_subparsers(dest="user_command", metavar="SUBCOMMAND")
    add = inner.add_parser(
        "add",
        help="create a user",
        description=(
            "Create a user with a role (placement_officer, commissioner, "
            "regional_commissioner, admin) and the authorities they work for (--authority, "
            "repeated, and/or --region). A regional commissioner sees the aggregates and the "
            "pooled vacancies of those authorities and no child's record. The password is "
            "hashed with argon2id."
        ),
    )
    add.add_argument("username")
    add.add_argument(
        "--role",
        required=True,
        choices=["placement_officer", "commissioner", "regional_commissioner", "admin"],
    )
    add.add_argument(
        "--authority",
        action="append",
        default=[],
        metavar="LA",
        help="an authority (ONS code, DfE number or name); repeat for several",
    )
    add.add_argument(
        "--region",
        metavar="REGION",
        help="every authority of an English region (e.g. 'East of England'), as --authority",
    )
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    _db(add)
    add.set_defaults(func=run_add)
    for verb, active in (("disable", False), ("enable", True)):
        sub = inner.add_parser(
            verb,
            help=f"{verb} a user" + (" (their tokens are revoked at once)" if not active else ""),
        )
        sub.add_argument("username")
        _db(sub)
        sub.set_defaults(func=run_set_active, active=active)
    listing = inner.add_parser("list", help="list the users")
    listing.add_argument("--json", action="store_true", help="print JSON")
    _db(listing)
    listing.set_defaults(func=run_list)


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=os.environ.get("PLACEMATCH_DB"), help="the store")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_add(args: argparse.Namespace) -> int:
    """Run ``placematch user add``."""
    from placematch.service import auth, db

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ValueError("password: the two entries differ")
    engine = db.connect(args.db)
    db.migrate(engine)
    with db.session_factory(engine)() as session:
        user = auth.add_user(
            session, args.username, password, args.role, args.authority, region=args.region
        )
        session.commit()
        who = auth.principal_for(session, user)
    where = ", ".join(who.authorities) or "no authority"
    print(f"Added {who.username} ({who.role}; {where}).")
    return 0


def run_set_active(args: argparse.Namespace) -> int:
    """Run ``placematch user disable`` / ``enable``."""
    from placematch.service import auth, db

    engine = db.connect(args.db)
    db.migrate(engine)
    with db.session_factory(engine)() as session:
        user = auth.set_active(session, args.username, args.active)
        session.commit()
        print(f"{user.username} is now {'enabled' if user.active else 'disabled'}.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Run ``placematch user list``."""
    from sqlalchemy import select

    from placematch.service import auth, db
    from placematch.service.models import User

    engine = db.connect(args.db)
    db.migrate(engine)
    with db.session_factory(engine)() as session:
        rows = list(session.scalars(select(User).order_by(User.username)))
        users = [auth.principal_for(session, u) for u in rows]
        active = {u.username: u.active for u in rows}
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "username": u.username,
                        "role": u.role,
                        "authorities": list(u.authorities),
                        "active": active[u.username],
                    }
                    for u in users
                ],
                indent=2,
            )
        )
    else:
        for u in users:
            state = "" if active[u.username] else "\tdisabled"
            print(f"{u.username}\t{u.role}\t{', '.join(u.authorities) or '-'}{state}")
    return 0
