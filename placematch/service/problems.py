"""Errors as RFC 9457 problem details, naming the field; never a traceback or personal data.

Every error body is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and, for bad input, ``errors``: a list of ``{"field", "message"}`` (and ``file`` and
``line`` for case-folder problems). Validation messages never echo the value sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from matcher.problems import CaseFolderError
from placematch.service.store import ConflictError, NotFoundError, problem_dict

log = logging.getLogger("placematch.service")

PROBLEM_TYPE = "https://placematch.invalid/problems/"
TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
}


class ProblemError(Exception):
    """Raise to answer with a problem (status, detail, field errors)."""

    def __init__(
        self, status: int, detail: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


def problem(
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + str(status),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def _validation_error(e: Mapping[str, Any]) -> dict[str, str]:
    """One request-validation error as ``{"field", "message"}``, never with the value sent.

    A body that is not JSON, or not a JSON object, is named ``body`` with a message saying
    what was expected (pydantic's own words name a position, or a Python dictionary).
    """
    loc = tuple(e.get("loc", ()))
    kind = e.get("type", "")
    if kind == "json_invalid":
        where = loc[1] if len(loc) > 1 else 0
        error = str((e.get("ctx") or {}).get("error", "cannot be decoded"))
        return {"field": "body", "message": f"not valid JSON: {error} at character {where}"}
    if loc == ("body",) and kind in ("model_attributes_type", "dict_type", "model_type"):
        return {
            "field": "body",
            "message": "expected a JSON object (send Content-Type: application/json)",
        }
    if loc == ("body",) and kind == "missing":
        return {
            "field": "body",
            "message": "required: expected a JSON object (send Content-Type: application/json)",
        }
    return {"field": _field(loc), "message": str(e.get("msg", "invalid"))}


def _audit(request: Request, status: int, detail: str) -> None:
    """Audit a failed or refused write (:func:`placematch.service.audit.record_refusal`)."""
    from placematch.service.audit import record_refusal

    record_refusal(request, status, detail)


def install(
    app: FastAPI,
    *,
    error_page: Callable[[Request, int, str], Response],
    sign_in: type[Exception],
) -> None:
    """Register the handlers that turn every error into a problem (a write's is audited).

    ``error_page`` shows an error to a browser (a page's request, not the API's); ``sign_in``
    is the exception a page raises for a request that needs a signed-in user. The app passes
    the web pages' own, so that this module needs nothing from them.
    """

    def _page(request: Request) -> bool:
        return not request.url.path.startswith("/api/")

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        await run_in_threadpool(_audit, request, exc.status, exc.detail)
        if _page(request):
            return error_page(request, exc.status, exc.detail)
        return problem(exc.status, exc.detail, exc.errors)

    @app.exception_handler(sign_in)
    async def _sign_in(request: Request, exc: Exception) -> Response:
        return error_page(request, 401, "sign in")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [_validation_error(e) for e in exc.errors()]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        detail = f"the request has invalid fields: {fields}"
        await run_in_threadpool(_audit, request, 422, detail)
        return problem(422, detail, errors)

    @app.exception_handler(CaseFolderError)
    async def _case_folder(request: Request, exc: CaseFolderError) -> Response:
        errors = [problem_dict(p) for p in exc.problems]
        n = len(errors)
        detail = f"{n} problem{'s' if n != 1 else ''}: nothing was stored"
        await run_in_threadpool(_audit, request, 422, detail)
        return problem(422, detail, errors)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> Response:
        await run_in_threadpool(_audit, request, 409, str(exc))
        return problem(409, str(exc))

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> Response:
        detail = str(exc.args[0]) if exc.args else "not found"
        await run_in_threadpool(_audit, request, 404, detail)
        return problem(404, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        if _page(request) and exc.status_code in (404, 405):
            return error_page(request, exc.status_code, detail)
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        # Only the type and the path: an exception's message may hold personal data.
        log.error(
            "internal error %s on %s %s", type(exc).__name__, request.method, request.url.path
        )
        return problem(500, "an internal error; it has been logged without personal data")
