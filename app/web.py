"""HTMX helpers: one template environment, block rendering, and form routes that re-render on error."""

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks

ROOT = Path(__file__).resolve().parents[1]
templates = Jinja2Blocks(directory=ROOT / "templates")


def _zone(user: Any) -> ZoneInfo:
    return ZoneInfo(getattr(user, "timezone", None) or "UTC")


def local(moment: datetime | None, user: Any, fmt: str = "%b %-d, %Y %H:%M") -> str:
    """A moment as the person reads it, in their own time zone."""
    if moment is None:
        return ""
    return moment.astimezone(_zone(user)).strftime(fmt)


def local_input(moment: datetime | str | None, user: Any) -> str:
    """The value of a datetime-local input: the person's wall-clock time, no offset."""
    if not isinstance(moment, datetime):
        return moment or ""
    return moment.astimezone(_zone(user)).strftime("%Y-%m-%dT%H:%M")


templates.env.filters.update(local=local, local_input=local_input)
# Form macros as a global: a block rendered alone does not run its template's imports.
templates.env.globals["forms"] = templates.env.get_template("_form.html").module

F = TypeVar("F", bound=Callable[..., Any])


def is_htmx(request: Request) -> bool:
    """A fragment is wanted; a history-restore request needs the whole page instead.
    A client using an API key always gets JSON."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
        and not getattr(request.state, "via_key", False)
    )


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | list[str] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a whole template, or named blocks of it (the fragments htmx swaps in)."""
    ctx = {
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
        **(context or {}),
    }
    blocks = {"block_names": block} if isinstance(block, list) else {"block_name": block}
    response = templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=dict(headers or {}), **blocks
    )
    assert isinstance(response, HTMLResponse)
    return response


def redirect(request: Request, url: str) -> Response:
    """Send the browser elsewhere: HX-Redirect for htmx, 303 for a plain request."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return Response(status_code=303, headers={"Location": url})


def form(template: str, block: str) -> Callable[[F], F]:
    """Mark a JSON route as the target of an HTML form.

    When an htmx request to it fails validation, the error handler re-renders this block with
    what the person typed and a message beside each field, instead of a JSON body.
    """

    def mark(endpoint: F) -> F:
        endpoint.__dict__["htmx_form"] = (template, block)
        return endpoint

    return mark


def form_of(request: Request) -> tuple[str, str] | None:
    route = request.scope.get("route")
    endpoint = getattr(route, "endpoint", None)
    marked: tuple[str, str] | None = getattr(endpoint, "htmx_form", None)
    return marked
