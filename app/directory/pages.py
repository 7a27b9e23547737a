"""The directory page: students search alumni who accept requests; staff see and edit all."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import DbSession, PagePrincipal
from app.directory import service
from app.web import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/directory", response_class=HTMLResponse)
def directory_page(
    request: Request, principal: PagePrincipal, db: DbSession, q: Text = None,
    industry: Text = None, organization: Text = None, major: Text = None, location: Text = None,
    graduated_from: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    graduated_to: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    filters = service.Filters(q=q, industry=industry, organization=organization, major=major,
                              location=location, graduated_from=graduated_from,
                              graduated_to=graduated_to)
    entries, next_cursor = service.list_entries(db, principal.user, filters, 50, cursor)
    form: dict[str, Any] = {k: v for k, v in vars(filters).items() if v is not None}
    block = "results" if request.headers.get("HX-Target") == "results" else None
    return render(request, "directory/list.html", {
        "entries": entries, "next_cursor": next_cursor, "form": form,
        "staff": service.is_staff(principal.user)}, block=block)


@router.get("/directory/{entry_id}", response_class=HTMLResponse)
def entry_page(entry_id: str, request: Request, principal: PagePrincipal,
               db: DbSession) -> Response:
    entry = service.get_entry(db, principal.user, entry_id)
    return render(request, "directory/entry.html",
                  {"entry": entry, "staff": service.is_staff(principal.user)})
