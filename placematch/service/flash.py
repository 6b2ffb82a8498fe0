"""One-off flash messages: the outcome of a form, shown once on the page it leads to.

The text travels in a cookie signed with the server's key (HMAC-SHA256, bound to the
session and to the page it is for), never in the address: a link such as
``/children/C01?message=...`` can no longer put words of a stranger's choosing on an
officer's page. The page that shows a message deletes the cookie, so a reload does not
show it again.
"""

from __future__ import annotations

import base64
import json
from typing import TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from placematch.service import auth
from placematch.service.deps import COOKIE

_R = TypeVar("_R", bound=Response)

#: The flash cookie's name.
FLASH_COOKIE = "placematch_flash"
#: Longest message kept (a cookie holds about 4 kB).
MAX_TEXT = 1000


def _payload(path: str, text: str) -> str:
    raw = json.dumps([path, text[:MAX_TEXT]], ensure_ascii=True).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def redirect(request: Request, url: str, text: str, *, path: str | None = None) -> Response:
    """A 303 to ``url`` carrying ``text`` for the page at ``path`` (``url`` without its
    query or fragment by default)."""
    target = path if path is not None else url.split("#", 1)[0].split("?", 1)[0]
    response = RedirectResponse(url, status_code=303)
    session_token = request.cookies.get(COOKIE, "")
    with request.app.state.sessions() as session:
        secret = auth.server_secret(session)
    payload = _payload(target, text)
    value = f"{payload}.{auth.sign(secret, 'flash', session_token + chr(0) + payload)}"
    response.set_cookie(
        FLASH_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        max_age=300,
        secure=request.url.scheme == "https",
    )
    return response


def take(request: Request, secret: bytes) -> str:
    """The message for this page if its cookie is genuine and for this page, else ``""``.

    The caller deletes the cookie on its answer when it shows the message (:func:`shown`).
    """
    value = request.cookies.get(FLASH_COOKIE, "")
    payload, _, signature = value.partition(".")
    if not payload or not signature:
        return ""
    session_token = request.cookies.get(COOKIE, "")
    expected = auth.sign(secret, "flash", session_token + chr(0) + payload)
    if not auth.same(expected, signature):
        return ""
    try:
        path, text = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, TypeError):
        return ""
    if path != request.url.path or not isinstance(text, str):
        return ""
    return text


def shown(response: _R) -> _R:
    """Delete the flash cookie on ``response``: its message has been shown."""
    response.delete_cookie(FLASH_COOKIE)
    return response
