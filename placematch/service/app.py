"""The FastAPI application: API, page, static files, health check.

>>> from placematch.service.app import create_app
>>> app = create_app("sqlite:////tmp/placematch.sqlite3")  # doctest: +SKIP
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from placematch import __version__
from placematch.service import db, problems

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
    app.state.revision = revision
    app.state.jobs = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="placematch-job")
    problems.install(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz(request: Request) -> JSONResponse:
        """Alive, the database answers, and the schema revision."""
        try:
            with request.app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            ok = True
        except Exception:
            ok = False
        body: dict[str, Any] = {
            "status": "ok" if ok else "unavailable",
            "database": engine.dialect.name,
            "schema": request.app.state.revision,
            "version": __version__,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        try:
            response = await call_next(request)
        except Exception as exc:
            # Caught here, so that the server never logs the traceback: an exception's
            # message may hold personal data. Only its type and the path are logged.
            problems.log.error(
                "internal error %s on %s %s", type(exc).__name__, request.method, request.url.path
            )
            response = problems.problem(
                500, "an internal error; it has been logged without personal data"
            )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
        )
        if request.url.path.startswith(("/children", "/api/v1/children", "/api/v1/jobs")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
