"""``placematch decision withdraw CHILD --reason TEXT --user NAME``: undo a recorded decision.

The same withdrawal as the page's and the API's (:func:`placematch.service.actions.withdraw`):
the bed is freed, the child waits again, and the audit log records who (``--user``, an active
placement officer of the child's authority) and why (``--reason``), from the client ``cli``.
A child the user may not see answers as one that does not exist.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

#: The client address the audit log records for the command line.
CLI_CLIENT = "cli"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``decision`` and its sub-command ``withdraw``."""
    parser = subparsers.add_parser(
        "decision",
        help="withdraw a decision recorded in the service's store",
        description="Decisions recorded in the placement service's store.",
    )
    parser.set_defaults(func=lambda args: _usage(parser))
    inner = parser.add_subparsers(dest="decision_command", metavar="SUBCOMMAND")
    w = inner.add_parser(
        "withdraw",
        help="withdraw a child's decision: the bed is freed and the child waits again",
        description=(
            "Withdraw a child's recorded decision: the vacancy's bed is freed, the child is "
            "waiting again, and the audit log records who withdrew it and why."
        ),
    )
    w.add_argument("child_id", metavar="CHILD", help="the child's id")
    w.add_argument("--reason", required=True, help="why the decision is withdrawn (audited)")
    w.add_argument(
        "--user",
        required=True,
        metavar="NAME",
        help="the placement officer withdrawing it (a user of the store; audited)",
    )
    w.add_argument("--db", metavar="URL", default=os.environ.get("PLACEMATCH_DB"), help="the store")
    w.add_argument("--json", action="store_true", help="print the withdrawn decision as JSON")
    w.set_defaults(func=run_withdraw)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_withdraw(args: argparse.Namespace) -> int:
    """Run ``placematch decision withdraw``."""
    from sqlalchemy import select
    from starlette.requests import Request

    from placematch.service import actions, auth, db
    from placematch.service.errors import ProblemError
    from placematch.service.models import User

    engine = db.connect(args.db)
    db.migrate(engine)
    # The audit log records the client of each entry; the command line's is "cli".
    request = Request({"type": "http", "client": (CLI_CLIENT, 0), "headers": []})
    with db.session_factory(engine)() as session:
        user = session.scalar(select(User).where(User.username == args.user))
        if user is None or not user.active:
            raise ValueError(f"--user: no active user {args.user!r} in the store")
        who = auth.principal_for(session, user)
        try:
            decision = actions.withdraw(session, who, request, args.child_id, args.reason)
        except ProblemError as exc:
            print(f"placematch: error: {exc.detail}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps({"withdrawn": actions.decision_dict(decision), "reason": args.reason}))
    else:
        print(
            f"Withdrew the decision for child {decision.child_id}: vacancy "
            f"{decision.vacancy_id} has its bed free again; the child is waiting."
        )
    engine.dispose()
    return 0
