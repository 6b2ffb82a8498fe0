"""The service's errors, and how each is answered: RFC 9457 problem details naming the field.

Every error body is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and, for bad input, ``errors``: a list of ``{"field", "message"}`` (and ``file`` and
``line`` for case-folder problems). Validation messages never echo the value sent; no
answer carries a traceback or personal data.

This module knows the errors and their answers as problems; the application
(:func:`placematch.service.app.create_app`) registers the handlers, and decides which errors
a web page's request sees as an error page (:func:`shown_as_page`) and which are audited
(:attr:`Problem.audited`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


class SignIn(Exception):
    """A web page needs a signed-in user: the page's answer is the sign-in form."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


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


@dataclass(frozen=True, slots=True)
class Problem:
    """How one error is answered: its status, detail and field errors, and whether the
    attempt is audited (a write that failed or was refused: :func:`audit.record_refusal`)."""

    status: int
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] | None = None
    audited: bool = True

    def response(self) -> JSONResponse:
        """The problem-details answer."""
        return problem(self.status, self.detail, self.errors, self.headers)


#: The message of an unexpected error (its own message may hold personal data).
INTERNAL = "an internal error; it has been logged without personal data"


def problem_of(request: Request, exc: Exception) -> Problem:
    """The problem that answers ``exc`` (one of :data:`HANDLED`)."""
    if isinstance(exc, ProblemError):
        return Problem(exc.status, exc.detail, exc.errors)
    if isinstance(exc, SignIn):
        return Problem(401, "sign in", audited=False)
    if isinstance(exc, RequestValidationError):
        errors = [_validation_error(e) for e in exc.errors()]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return Problem(422, f"the request has invalid fields: {fields}", errors)
    if isinstance(exc, CaseFolderError):
        errors = [problem_dict(p) for p in exc.problems]
        n = len(errors)
        return Problem(422, f"{n} problem{'s' if n != 1 else ''}: nothing was stored", errors)
    if isinstance(exc, ConflictError):
        return Problem(409, str(exc))
    if isinstance(exc, NotFoundError):
        return Problem(404, str(exc.args[0]) if exc.args else "not found")
    if isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "")
        return Problem(status, detail, headers=getattr(exc, "headers", None), audited=False)
    # Only the type and the path: an exception's message may hold personal data.
    log.error("internal error %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return Problem(500, INTERNAL, audited=False)


#: The errors the application answers (:func:`problem_of`), most specific first.
HANDLED: tuple[type[Exception], ...] = (
    ProblemError,
    SignIn,
    RequestValidationError,
    CaseFolderError,
    ConflictError,
    NotFoundError,
    StarletteHTTPException,
    Exception,
)


def shown_as_page(request: Request, exc: Exception, status: int) -> bool:
    """Whether a web page's request sees this error as an error page (else a problem).

    A page needing a sign-in always does (the sign-in form); a refusal raised by the
    service (:class:`ProblemError`) does on every page; an unknown path or method does
    (404, 405). A request of the API (``/api/``) never does.
    """
    if isinstance(exc, SignIn):
        return True
    if request.url.path.startswith("/api/"):
        return False
    if isinstance(exc, ProblemError):
        return True
    return isinstance(exc, StarletteHTTPException) and status in (404, 405)
