"""The API's OpenAPI document, precise enough for a client generator to work from without hand
edits: operations named after what they do, and how each one authenticates (an API key, the
browser session, or nothing), read from the route's own dependencies."""

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.deps import (
    SESSION_COOKIE,
    current_principal,
    get_db,
    require_any_scope,
    require_scope,
    session_principal,
)
from app.errors import BUSY_RETRY_AFTER

_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}

# Answers any operation may give for what it is rather than for what it does: a body that
# cannot be read at all, and a database too busy to take the request.
UNREADABLE_BODY = {
    "description": "The body could not be read (it is not UTF-8, or the multipart form is "
                   "broken); `error` is `bad_request`",
    "content": _ERROR_BODY,
}
DATABASE_BUSY = {
    "description": "The database is busy (`database_busy`) and nothing was done: send the "
                   "same request again after Retry-After seconds",
    "headers": {"Retry-After": {
        "description": f"Seconds to wait before sending the request again ({BUSY_RETRY_AFTER}).",
        "schema": {"type": "integer"}}},
    "content": _ERROR_BODY,
}

SECURITY_SCHEMES = {
    "apiKey": {"type": "http", "scheme": "bearer",
               "description": "An API key from the API keys page: `Authorization: Bearer <key>`. "
                              "Each key carries scopes; a missing one is a 403 naming it."},
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": "The browser session set by `POST /api/v1/auth/login`. Writes "
                               "also need the page's CSRF token in `X-CSRF-Token`."},
}


def operation_id(route: APIRoute) -> str:
    """The route's function name (``list_contacts``): unique across the app (a test says so)."""
    return route.name


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _scopes(calls: set[Callable[..., Any]], factory: Callable[..., Any]) -> list[str]:
    """The scopes that checks made by ``factory`` (``require_scope`` and the like) ask for."""
    return sorted({str(scope) for call in calls if call.__qualname__ == factory().__qualname__
                   for scope in inspect.getclosurevars(call).nonlocals["scopes"]})


def _names(scopes: list[str]) -> str:
    return ", ".join(f"`{scope}`" for scope in scopes)


def _document(operation: dict[str, Any], route: APIRoute) -> None:
    """Who may call the operation: nobody in particular, a browser session only, or a session
    or an API key with the scopes named."""
    calls = set(_calls(route.dependant))
    scopes = _scopes(calls, require_scope)
    either = _scopes(calls, require_any_scope)
    if session_principal in calls:
        operation["security"] = [{"session": []}]
        note = "Only from a logged-in browser session: API keys are refused."
    elif current_principal in calls:
        operation["security"] = [{"apiKey": []}, {"session": []}]
        notes = [f"API keys need the scope{'s' * (len(scopes) > 1)} {_names(scopes)}."] \
            if scopes else []
        if either:
            notes.append(f"API keys need one of the scopes {_names(either)}.")
        note = " ".join(notes)
    else:
        operation["security"] = []
        note = ""
    if scopes:
        operation["x-scopes"] = scopes
    if note:
        operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()


def _document_failures(operation: dict[str, Any], route: APIRoute) -> None:
    """The 400 of a body that cannot be read, where there is a body, and the 503 of a busy
    database, where the database is used. A route's own description of either is kept (a
    503 of its own is said together with the busy database's)."""
    responses = operation["responses"]
    if "requestBody" in operation:
        responses.setdefault("400", UNREADABLE_BODY)
    if get_db in set(_calls(route.dependant)):
        own = responses.setdefault("503", DATABASE_BUSY)
        if "database_busy" not in own["description"]:  # the route's own 503, and this one
            responses["503"] = {**own, "description": f"{own['description']} Or: "
                                                      f"{DATABASE_BUSY['description']}."}
    operation["responses"] = dict(sorted(responses.items()))


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # a router included in the app
            yield from _api_routes(route.original_router.routes)


def install(app: FastAPI) -> None:
    """Serve the document with security schemes and each operation's requirement."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            routes = {operation_id(route): route for route in _api_routes(app.routes)}
            for operations in schema["paths"].values():
                for operation in operations.values():
                    route = routes[operation["operationId"]]
                    _document(operation, route)
                    _document_failures(operation, route)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
