"""One error hierarchy, rendered as the documented JSON shape or as HTML a person can read.

JSON: ``{"error": "<code>", "detail": "<sentence>", "fields": [{"field", "message"}]}``.
htmx: the failing form re-rendered with messages beside its fields, or an alert fragment.
Plain browser requests outside ``/api``: a whole error page.
"""

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.web import form_of, is_htmx, redirect, render

log = logging.getLogger("rapport")


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    detail = "The request could not be understood."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        fields: Sequence[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.detail
        self.code = code or self.code
        self.fields = list(fields)
        self.headers = dict(headers or {})
        super().__init__(self.detail)


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"
    detail = "Log in, or send a valid API key, to use this."


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    detail = "You are not allowed to do this."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    detail = "There is nothing here."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    detail = "This conflicts with something that already exists."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"
    detail = "The request is too large."


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"
    detail = "Some fields need attention."


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"
    detail = "Too many attempts. Wait a moment and try again."


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    """The shape of every error."""

    error: str
    detail: str
    fields: list[FieldError] | None = None


# Documented on every API route, replacing FastAPI's own 422 shape with ours.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        401: "Not logged in, or the API key is not valid",
        403: "Not allowed (a missing scope, a cross-site request)",
        404: "Not found, or not yours",
        413: "The request is too large",
        422: "Validation failed; `fields` names each problem",
        429: "Too many requests; see Retry-After",
    }.items()
}


def _header(description: str, kind: str = "integer") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


# The API's rate limits (app/ratelimit.py) send the RateLimit-* headers on every answer to a
# request with an API key or a session; the 429 is where an integrator must read them.
ERROR_RESPONSES[429]["headers"] = {
    "Retry-After": _header("Seconds to wait before sending the request again."),
    "RateLimit-Limit": _header("Requests allowed in each window, for this API key or, with a "
                               "browser session, for this user."),
    "RateLimit-Remaining": _header("Requests left in the current window."),
    "RateLimit-Reset": _header("Seconds until the oldest request counted leaves the window, "
                               "giving one back."),
    "RateLimit-Policy": _header("The limit and the window's length in seconds, e.g. `600;w=60`.",
                                "string"),
}

_HTTP_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("not_authenticated", "Log in, or send a valid API key, to use this."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "There is nothing here."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("payload_too_large", "The request is too large."),
    415: ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
}


def field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def _friendly(message: str) -> str:
    # Pydantic prefixes its sentences; the person only needs the sentence itself.
    for prefix in ("Value error, ", "value is not a valid email address: "):
        message = message.removeprefix(prefix)
    return message


async def _submitted(request: Request, exc: Exception | None) -> dict[str, Any]:
    """What the person sent, to put back in the form (FastAPI has read and kept the body)."""
    body = getattr(exc, "body", None)
    if body is None:
        try:
            body = json.loads(await request.body() or b"{}")
        except (ValueError, RuntimeError):
            body = {}
    return body if isinstance(body, dict) else {}


async def error_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    fields: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    exc: Exception | None = None,
) -> Response:
    headers = {**(headers or {}), "Vary": "HX-Request"}
    api = request.url.path.startswith("/api/")
    htmx = is_htmx(request)
    form = form_of(request) if htmx else None
    if form is not None and status < 500 and code != Unauthorized.code:
        template, block = form
        context = {
            "form": await _submitted(request, exc),
            "errors": dict(fields),
            "error": detail,
        }
        return render(request, template, context, block=block, status_code=status,
                      headers=headers)
    if status == 401 and (htmx or not api):
        # Back to the page the person was on once they have logged in again.
        here = urlsplit(request.headers.get("HX-Current-URL", "")).path or request.url.path
        return redirect(request, "/login?" + urlencode({"next": here}))
    if htmx:
        headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
        return render(request, "errors/alert.html", {"detail": detail}, status_code=status,
                      headers=headers)
    if not api:
        return render(request, "errors/page.html", {"status": status, "detail": detail},
                      status_code=status, headers=headers)
    body: dict[str, Any] = {"error": code, "detail": detail}
    if fields:
        body["fields"] = [{"field": f, "message": m} for f, m in fields]
    return JSONResponse(body, status_code=status, headers=headers)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return await error_response(
        request, exc.status_code, exc.code, exc.detail, exc.fields, exc.headers, exc
    )


def field_message(error: Any) -> str:
    """Pydantic's sentence, in words a student reads without thinking about types."""
    kind, ctx = error.get("type"), error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Fill this in."
    if kind == "string_too_short":
        return f"Use at least {ctx['min_length']} characters."
    if kind == "string_too_long":
        return f"Use at most {ctx['max_length']:,} characters."
    if kind in {"int_parsing", "int_type"}:
        return "Enter a whole number."
    if kind == "string_pattern_mismatch" and error.get("loc"):
        if error["loc"][-1] == "email":
            return "Enter an email address such as name@example.org."
        if str(error["loc"][-1]).endswith("url"):
            return "Enter a web address starting with https://"
    return _friendly(error["msg"])


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [(field_name(e["loc"]), field_message(e)) for e in exc.errors()]
    return await error_response(
        request, 422, "validation_error", ValidationFailed.detail, fields, exc=exc
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, AppError):  # e.g. the body limit, hit while FastAPI read the body
        return await _app_error(request, exc.__cause__)
    code, detail = _HTTP_CODES.get(exc.status_code, ("error", "The request failed."))
    if exc.status_code == 400 and isinstance(exc.detail, str) and exc.detail:
        detail = exc.detail.rstrip(".") + "."
    return await error_response(request, exc.status_code, code, detail, (), exc.headers)


async def _stale(request: Request, exc: Exception) -> Response:
    return await error_response(
        request, 409, "edit_conflict",
        "Someone changed this at the same moment. Reload it, then make your change again.",
    )


async def _duplicate(request: Request, exc: Exception) -> Response:
    # Two requests creating the same thing at once: the database's unique rule decided.
    return await error_response(request, 409, "conflict",
                                "This was just created by another request. Reload and try again.")


async def _unstorable(request: Request, exc: Exception) -> Response:
    # A value in the path or the query that the database refuses (a NUL character, say).
    return await error_response(request, 422, "invalid_value",
                                "A value in the request cannot be stored or searched for.")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return await error_response(
        request, 500, "internal_error",
        "Something went wrong on our side. Nothing you did caused it; please try again.",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(IntegrityError, _duplicate)
    app.add_exception_handler(Exception, _server_error)
