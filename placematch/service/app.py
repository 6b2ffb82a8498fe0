"""The FastAPI application: API, page, static files, health check.

>>> from placematch.service.app import create_app
>>> app = create_app("sqlite:////tmp/placematch.sqlite3")  # doctest: +SKIP
"""

from __future__ import annotations

import gc
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from placematch import __version__
from placematch.service import audit, db, errors
from placematch.service.schemas import HealthOut, answers

STATIC = Path(__file__).parent / "data" / "static"


def create_app(url: str | None = None, *, migrate: bool = True, workers: int = 1) -> FastAPI:
    """The application on the store at ``url`` (default store when ``None``).

    Parameters
    ----------
    url
        ``sqlite:///PATH`` or ``postgresql://…``; ``None`` for the default SQLite file.
    migrate
        Upgrade the store to the newest schema first (idempotent; never drops anything).
    workers
        Threads for background match jobs.
    """
    from placematch.service import api, pages

    engine = db.connect(url)
    revision = db.migrate(engine) if migrate else None
    app = FastAPI(
        title="placematch",
        version=__version__,
        description=(
            "Placement matching for English children's services: children and vacancies, "
            "ranked options with points per factor, why-not, batch matches, decisions, "
            "forecasts, and an audit log of every read of a child's record."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN: not served
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.sessions = db.session_factory(engine)
    if migrate:
        # The signing key made now, before any request: a first request then never writes
        # it while its own transaction holds the SQLite store's write lock.
        from placematch.service.auth import server_secret

        with app.state.sessions() as session:
            server_secret(session)
    app.state.revision = revision
    app.state.jobs = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="placematch-job")
    install_errors(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["health"], **answers(HealthOut))
    def healthz(request: Request) -> JSONResponse:
        """Alive, the database answers, and the schema revision."""
        try:
            with request.app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            ok = True
        except Exception:
            ok = False
        warmer = getattr(request.app.state, "warmer", None)
        body: dict[str, Any] = {
            "status": "ok" if ok else "unavailable",
            "database": engine.dialect.name,
            "schema": request.app.state.revision,
            "version": __version__,
            # this process has ranked every waiting child's whole list for the store as it
            # is now (placematch.service.warm); null where nothing warms (not served)
            "warm": None if warmer is None else warmer.warm is not None and ok,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    app.add_middleware(SecurityHeaders)
    return app


def install_errors(app: FastAPI) -> None:
    """Register the handler of every error the service answers (:data:`errors.HANDLED`).

    Each error is turned into its problem (:func:`errors.problem_of`); a write that failed or
    was refused is audited (:func:`audit.record_refusal`); a web page's request is shown the
    error as a page (:func:`pages.error_page`, where :func:`errors.shown_as_page`), any other
    gets the problem details.
    """
    from placematch.service import pages

    async def answer(request: Request, exc: Exception) -> Response:
        problem = errors.problem_of(request, exc)
        if problem.audited:
            await run_in_threadpool(audit.record_refusal, request, problem.status, problem.detail)
        if errors.shown_as_page(request, exc, problem.status):
            return pages.error_page(request, problem.status, problem.detail)
        return problem.response()

    for kind in errors.HANDLED:
        app.add_exception_handler(kind, answer)


#: The environment variable through which ``serve --workers N`` hands the store's URL to its
#: worker processes (started afresh, they import the application by name: :func:`worker_app`).
URL_VARIABLE = "PLACEMATCH_SERVE_URL"


def worker_app() -> FastAPI:
    """The application of one worker process of ``placematch serve --workers N``.

    The store's URL comes from the environment (``PLACEMATCH_SERVE_URL``, set by the serve
    command, which migrated the store before starting the workers). Each worker sets its own
    garbage collector for a long run (:func:`settle_memory`) and ranks the waiting children
    ahead of requests (:mod:`placematch.service.warm`).
    """
    from placematch.service.warm import start_warming

    url = os.environ.get(URL_VARIABLE)
    if not url:
        raise RuntimeError(f"{URL_VARIABLE} is not set: start workers with placematch serve")
    app = create_app(url)
    # outermost: it only adds a header to the answer
    app.add_middleware(ConnectionTurnover)
    settle_memory()
    start_warming(app)
    return app


#: Answers a keep-alive connection carries in a server of several processes before it is
#: closed (``Connection: close``), so that the client's next connection goes to whichever
#: process is free to take it (:class:`ConnectionTurnover`).
ANSWERS_PER_CONNECTION = 10
#: Connections whose answers are counted at most at once (the count starts again past it).
_COUNTED_CONNECTIONS = 10_000


class ConnectionTurnover:
    """Closes each keep-alive connection after :data:`ANSWERS_PER_CONNECTION` answers, in a
    server of several processes (``placematch serve --workers N``).

    The processes share one listening socket, and a connection stays with the process that
    accepted it for as long as the client keeps it open. The first of them to wake accepts
    it, not the least busy: with 20 clients connecting at once the two processes of the
    benchmark held 9 and 12, 14 and 6, 16 and 4, 3 and 17 of the connections (measured, one
    phase each), and the clients of the busier process waited twice as long (means of 10
    and 25 ms in one phase) while the other process had time to spare. A connection closed
    after a few answers (the answer says ``Connection: close``, as HTTP/1.1 provides: the
    client opens another before its next request) is taken up again by a process that is
    waiting for work, which is the less busy one: the shares even out within a second. A
    new connection on the loopback costs a fraction of a millisecond, once per ten answers.
    """

    def __init__(self, app: ASGIApp, answers: int = ANSWERS_PER_CONNECTION) -> None:
        self.app = app
        self.answers = answers
        self.counted: dict[tuple[Any, ...], int] = {}  # answers so far, per client address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") if scope["type"] == "http" else None
        if client is None:
            await self.app(scope, receive, send)
            return
        key = tuple(client)  # (host, port): one open connection of this process
        n = self.counted.pop(key, 0) + 1
        if n < self.answers:
            if len(self.counted) >= _COUNTED_CONNECTIONS:  # those closed by their clients
                self.counted.clear()
            self.counted[key] = n
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        await self.app(scope, receive, send_closing)


#: Net new container objects between two young collections in a server (Python's default is
#: 700). A county's whole-list ranking holds a few thousand dicts at once, so at 700 almost
#: every answer built afresh paid for a collection of its own (a tenth of its time, measured).
GC_YOUNG_THRESHOLD = 20_000


def settle_memory() -> None:
    """Set the garbage collector for a long-running server (``placematch serve``, at start).

    Everything alive once the application is made (the interpreter's and the libraries'
    modules, the routes, the schema: some 180,000 objects) is moved out of the collector's
    sight with :func:`gc.freeze`: it lives as long as the server, and each full collection
    walked all of it, a pause of 150-350 ms in which no request moved (measured on a county's
    store). Objects frozen still go when nothing refers to them; only garbage in reference
    cycles among them would stay, and at start there is none (collected first). Young
    collections run after :data:`GC_YOUNG_THRESHOLD` new objects rather than 700.

    Process-wide, so it is called by the server's command, not by :func:`create_app` (which
    tests call many times in one process).
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


#: Headers every answer carries (unless the route set its own).
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
    ),
)
#: Paths whose answers hold a child's data: never kept by a browser or a proxy.
NO_STORE = ("/children", "/api/v1/children", "/api/v1/jobs")


class SecurityHeaders:
    """Security headers on every answer, and a bare 500 for an unexpected error.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) streams
    every body through a task group and memory streams, which was a tenth of the server's
    time for a county's rankings. The exception is caught here, so that the server never logs
    its traceback: an exception's message may hold personal data. Only its type and the path
    are logged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if path.startswith(NO_STORE):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            errors.log.error(
                "internal error %s on %s %s", type(exc).__name__, scope.get("method"), path
            )
            if started:  # too late for a problem: the answer is cut short, still untold
                return
            response = errors.problem(500, errors.INTERNAL)
            await response(scope, receive, send_with_headers)


#: The body of every error (RFC 9457), as the OpenAPI document describes it.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` names each bad field.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "file": {"type": "string"},
                    "line": {"type": ["integer", "null"]},
                },
            },
        },
    },
}
_ANSWERS = {
    401: "Not signed in: no token, or a revoked or expired one.",
    403: "Your role may not do this (or a cookie-signed change lacks X-CSRF-Token).",
    404: "Not found, or outside your authorities: the same answer either way.",
    409: "Conflict: the id is used, the bed is taken, the child is placed or the job not done.",
    413: "A file is too large.",
    422: "Invalid input: every bad field is named in `errors`; nothing was stored.",
    429: "Too many failed sign-ins for this name from this client; wait 15 minutes.",
}
#: Operations that can answer 409 or 413, besides the answers every operation can give.
_CONFLICTS = {
    ("post", "/api/v1/children"),
    ("post", "/api/v1/vacancies"),
    ("post", "/api/v1/children/{child_id}/decision"),
    ("get", "/api/v1/children/{child_id}/why-not/{vacancy_id}"),
    ("get", "/api/v1/jobs/{job_id}/result"),
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document as the API really answers: sign-in schemes and problem details.

    FastAPI's default describes a 422 body that this API never sends and no other error;
    here every error is ``application/problem+json`` and each operation lists the statuses
    it can answer, with how to sign in.
    """
    from fastapi.openapi.utils import get_openapi

    from placematch.service.deps import COOKIE

    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/tokens.",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": COOKIE,
            "description": "The page's session cookie; a change also needs X-CSRF-Token.",
        },
    }
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            statuses = {422} if op.get("parameters") or op.get("requestBody") else set()
            if path == "/api/v1/tokens" and method == "post":
                statuses |= {401, 429}
            elif path.startswith("/api/v1/"):
                op["security"] = [{"bearer": []}, {"session": []}]
                statuses |= {401} if (method, path) == ("get", "/api/v1/me") else {401, 403}
            elif path == "/healthz":
                statuses.add(503)
            if "{" in path:
                statuses.add(404)
            if (method, path) in _CONFLICTS:
                statuses.add(409)
            if path.endswith("upload"):
                statuses.add(413)
            responses = op.setdefault("responses", {})
            for status in sorted(statuses):
                if status == 503:
                    continue  # the health check's own body, described by its 200
                responses[str(status)] = {"description": _ANSWERS[status], "content": ref}
            if 503 in statuses:
                responses["503"] = {"description": "The database does not answer."}
    # FastAPI's own 422 body is described no more: drop its schemas when nothing uses them.
    used = json.dumps(schema.get("paths", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"/schemas/{unused}" not in used:
            schemas.pop(unused, None)
    app.openapi_schema = schema
    return schema
