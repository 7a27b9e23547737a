"""The directory page: students search alumni who accept requests; staff see and edit all."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import DbSession, PagePrincipal
from app.directory import rules, service
from app.web import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/directory", response_class=HTMLResponse)
def directory_page(
    request: Request, principal: PagePrincipal, db: DbSession, q: Text = None,
    industry: Text = None, organization: Text = None, major: Text = None, location: Text = None,
    graduated_from: Annotated[str | None, Query(max_length=10)] = None,
    graduated_to: Annotated[str | None, Query(max_length=10)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    # A form sends its empty year fields too: an empty or unreadable year is no filter.
    filters = service.Filters(q=q, industry=industry, organization=organization, major=major,
                              location=location, graduated_from=rules.year(graduated_from or ""),
                              graduated_to=rules.year(graduated_to or ""))
    entries, next_cursor = service.list_entries(db, principal.user, filters, 50, cursor)
    form: dict[str, Any] = {k: v for k, v in vars(filters).items()
                            if v not in (None, "") and k != "include_deleted"}
    more = {k: str(v) for k, v in form.items()}
    block = "results" if request.headers.get("HX-Target") == "results" else None
    staff = service.is_staff(principal.user)
    return render(request, "directory/list.html", {
        "entries": entries, "next_cursor": next_cursor, "form": form,
        "more": urlencode({**more, "cursor": next_cursor}) if next_cursor else None,
        "staff": staff,
        "requests": service.requests_this_month(db, [e.id for e in entries]) if staff else {},
    }, block=block)


@router.get("/directory/{entry_id}", response_class=HTMLResponse)
def entry_page(entry_id: str, request: Request, principal: PagePrincipal,
               db: DbSession) -> Response:
    entry = service.get_entry(db, principal.user, entry_id)
    staff = service.is_staff(principal.user)
    requests = service.requests_this_month(db, [entry.id])[entry.id] if staff else 0
    return render(request, "directory/entry.html",
                  {"entry": entry, "staff": staff, "requests": requests})
