"""``placematch serve``: the placement service (API and page) on uvicorn.

``serve [--db URL] [--host H] [--port P] [--workers N]``: with no ``--db`` the store is an SQLite
file in the
data folder (``$PLACEMATCH_DATA``, else ``$XDG_DATA_HOME/placematch``, else
``~/.local/share/placematch``), created and migrated on first start; ``--db
postgresql://USER@HOST/DB`` uses PostgreSQL. Migrations run on every start and never drop
anything.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket


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
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes answering on the one port (default 1); one per core is "
        "recommended: each answers in turn (Python), and every process reads the store's "
        "revision on each request, so a change made through one is seen by all",
    )
    p.set_defaults(func=run)


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or a one-line ``ValueError`` (exit 2) saying why not.

    Bound here, before the store is opened, and handed to uvicorn: a port in use is one
    clear line, not uvicorn's log and traceback, and nothing can take the port in between.
    """
    if not 0 <= port <= 65535:
        raise ValueError(f"--port {port}: expected a port from 0 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise ValueError(f"--host {host!r}: not an address this machine can listen on") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ValueError(
                f"port {port} on {host} is already in use: stop the other server or give "
                "another --port"
            ) from None
        raise ValueError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    return sock


def _users(app: object) -> int:
    from sqlalchemy import func, select

    from placematch.service.models import User

    with app.state.sessions() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def _check_workers(workers: int, url: str) -> None:
    if not 1 <= workers <= 64:
        raise ValueError(f"--workers {workers}: expected a whole number from 1 to 64")
    if workers > 1 and url.startswith("sqlite") and ":memory:" in url:
        raise ValueError(
            "--workers: an in-memory SQLite store is one per process; give a file or PostgreSQL"
        )


def run(args: argparse.Namespace) -> int:
    """Run ``placematch serve`` until interrupted."""
    import uvicorn

    from placematch.service.app import create_app, settle_memory
    from placematch.service.db import normalise_url

    workers = int(getattr(args, "workers", 1))
    url = normalise_url(args.db)
    _check_workers(workers, url)
    sock = _listen(args.host, args.port)
    # Migrated once here, before any worker starts (each worker's own start finds it done).
    app = create_app(url)
    shown = url if url.startswith("sqlite") else url.split("@")[-1]
    print(f"placematch: store {shown}, schema {app.state.revision}", flush=True)
    if _users(app) == 0:
        print(
            "placematch: no users yet, so nobody can sign in: add one with "
            "`placematch user add NAME --role admin` (see `placematch user add --help`)",
            flush=True,
        )
    many = f" by {workers} processes" if workers > 1 else ""
    print(f"placematch: serving on http://{args.host}:{args.port}/{many}", flush=True)
    if workers == 1:
        from placematch.service.warm import start_warming

        settle_memory()  # the server's own garbage-collector settings (see there)
        start_warming(app)  # every waiting child's whole list ranked ahead of requests
        # No access log: its lines carry children's ids in the paths. Every read and write of
        # a child's record is in the audit log instead, with who and why.
        config = uvicorn.Config(
            app, host=args.host, port=args.port, log_level="info", access_log=False
        )
        uvicorn.Server(config).run(sockets=[sock])
        return 0
    app.state.engine.dispose()  # the workers open their own connections
    del app
    _serve_workers(url, sock, workers, args.host, args.port)
    return 0


def _serve_workers(url: str, sock: socket.socket, workers: int, host: str, port: int) -> None:
    """``workers`` uvicorn processes on the one socket, each making its own application.

    uvicorn's supervisor starts each worker afresh (not forked), so a worker imports the
    application by name, :func:`placematch.service.app.worker_app`, which finds the store's
    URL in ``PLACEMATCH_SERVE_URL``; it restarts a worker that dies. Every cache a worker keeps
    (the store's folders, the kept answers) is filed under the store's revision, which each
    request reads from the database, so a change made through one worker is seen by every
    worker's next request.
    """
    import inspect

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from placematch.service.app import URL_VARIABLE

    os.environ[URL_VARIABLE] = url
    config = uvicorn.Config(
        "placematch.service.app:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,  # as for one process: the paths carry children's ids
    )
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.36
        server = uvicorn.Server(config)
        Multiprocess(config, target=server.run, sockets=[sock]).run()  # type: ignore[call-arg]
    else:
        Multiprocess(config, sockets=[sock]).run()
