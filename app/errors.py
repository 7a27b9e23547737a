"""One error hierarchy, rendered as the documented JSON shape or as HTML a person can read.

JSON: ``{"error": "<code>", "detail": "<sentence>", "fields": [{"field", "message"}]}``.
htmx: the failing form re-rendered with messages beside its fields, or an alert fragment.
Plain browser requests outside ``/api``: a whole error page.
"""

import json
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

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


class DatabaseBusy(AppError):
    status_code = 503
    code = "database_busy"
    detail = ("The database is busy with other requests, so nothing was done. "
              "Please try again in a moment.")


# Seconds a client is asked to wait after a busy database: the request itself already waited
# its turn for a while (app/db.py), so the crowd it met is rarely gone at once.
BUSY_RETRY_AFTER = 2


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    """The shape of every error."""

    error: str
    detail: str
    fields: list[FieldError] | None = None


def conflicts(**codes: str) -> dict[int | str, dict[str, Any]]:
    """A route's 409 for its ``responses``: each ``error`` code it can answer, and when."""
    return {409: {"model": ErrorOut, "description": "; or ".join(
        f"`{code}`: {when}" for code, when in codes.items())}}


# A create that takes an Idempotency-Key: the same key sent again while the first is handled.
KEY_IN_USE = "a request with the same Idempotency-Key is still being handled"

# Documented on every API route, replacing FastAPI's own 422 shape with ours.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        401: "Not logged in, or the API key is not valid",
        403: "Not allowed (a missing scope, a cross-site request; on a write, `email_unverified`: "
             "the account has not confirmed its email address yet)",
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
    if status >= 500:
        # A client must not send its next request on this connection: after an unhandled
        # error the server closes it, and a request sent meanwhile would meet a reset.
        headers["Connection"] = "close"
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


def _problem(error: Any) -> tuple[str, str]:
    if error.get("type") == "json_invalid":
        # Its location is the character where the text stopped being JSON, not a field.
        where = error["loc"][-1] if isinstance(error["loc"][-1], int) else None
        reason = (error.get("ctx") or {}).get("error", "")
        at = f" at character {where}" if where is not None else ""
        return "body", f"The body is not valid JSON{at}{': ' + reason if reason else ''}."
    return field_name(error["loc"]), field_message(error)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [_problem(e) for e in exc.errors()]
    return await error_response(
        request, 422, "validation_error", ValidationFailed.detail, fields, exc=exc
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request, named: str = "") -> str:
    """Every method some route answers at this request's address, for a 405's ``Allow``.

    Starlette names the methods of the first route whose path matched, but one address is often
    served by several routes (``GET`` and ``POST /api/v1/contacts``). Each method is put to the
    app's own routing; a mount (the static files) names its methods itself, in ``named``."""
    allowed = {method.strip() for method in named.split(",") if method.strip()}
    scope = request.scope
    for method in _METHODS:
        probe = {"type": "http", "path": scope["path"], "root_path": scope.get("root_path", ""),
                 "method": method, "headers": []}
        if any(route.matches(dict(probe))[0] is Match.FULL for route in request.app.router.routes
               if not isinstance(route, Mount)):
            allowed.add(method)
    return ", ".join([m for m in _METHODS if m in allowed] + sorted(allowed - set(_METHODS)))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, AppError):  # e.g. the body limit, hit while FastAPI read the body
        return await _app_error(request, exc.__cause__)
    code, detail = _HTTP_CODES.get(exc.status_code, ("error", "The request failed."))
    if exc.status_code == 400 and isinstance(exc.detail, str) and exc.detail:
        detail = exc.detail.rstrip(".") + "."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request, headers.get("Allow", ""))
    return await error_response(request, exc.status_code, code, detail, (), headers)


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


# PostgreSQL's answers that mean "not now" rather than "never": a serialization failure, a
# deadlock, a lock not granted within lock_timeout, too many connections, a server starting.
_PG_TRANSIENT = {"40001", "40P01", "55P03", "53300", "57P03"}
# What the same refusals say when they come while connecting (psycopg gives no SQLSTATE then).
_PG_TRANSIENT_CONNECTING = ("too many clients already", "remaining connection slots are reserved",
                            "the database system is starting up")


def database_busy(exc: BaseException) -> bool:
    """Whether the database refused for a moment (it was busy), so the same request may well
    succeed if sent again, as opposed to failing for good."""
    if isinstance(exc, PoolTimeout):  # every pooled connection in use for pool_timeout
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:  # the server closed it (a restart): the pool makes new ones
        return True
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        # The write lock not had within the busy timeout, when beginning or committing.
        primary = getattr(orig, "sqlite_errorcode", 0) & 0xFF
        return primary in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED} \
            or "database is locked" in str(orig)
    if getattr(orig, "sqlstate", None) in _PG_TRANSIENT:
        return True
    return any(sign in str(orig) for sign in _PG_TRANSIENT_CONNECTING)


async def _database_error(request: Request, exc: Exception) -> Response:
    if not database_busy(exc):
        return await server_error(request, exc)
    log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
    return await error_response(request, DatabaseBusy.status_code, DatabaseBusy.code,
                                DatabaseBusy.detail,
                                headers={"Retry-After": str(BUSY_RETRY_AFTER)})


async def server_error(request: Request, exc: Exception) -> Response:
    """The 500 of the error shape; the exception and its trace go to the log only."""
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
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
