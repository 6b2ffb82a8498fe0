"""``placematch serve``: the placement service (API and page) on uvicorn.

``serve [--db URL] [--host H] [--port P]``: with no ``--db`` the store is an SQLite file in the
data folder (``$PLACEMATCH_DATA``, else ``$XDG_DATA_HOME/placematch``, else
``~/.local/share/placematch``), created and migrated on first start; ``--db
postgresql://USER@HOST/DB`` uses PostgreSQL. Migrations run on every start and never drop
anything.
"""

from __future__ import annotations

import argparse
import os


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` sub-command."""
    p = subparsers.add_parser(
        "serve",
        help="start the placement service (HTTP API and web page)",
        description=(
            "Start the placement service: the HTTP API under /api/v1 and the web page for "
            "officers and commissioners. The store is migrated to the newest schema first."
        ),
    )
    p.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get("PLACEMATCH_DB"),
        help="sqlite:///PATH or postgresql://… (default: $PLACEMATCH_DB, else an SQLite file "
        "in the data folder)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``placematch serve`` until interrupted."""
    import uvicorn

    from placematch.service.app import create_app
    from placematch.service.db import normalise_url

    url = normalise_url(args.db)
    app = create_app(url)
    shown = url if url.startswith("sqlite") else url.split("@")[-1]
    print(f"placematch: store {shown}, schema {app.state.revision}", flush=True)
    print(f"placematch: serving on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
