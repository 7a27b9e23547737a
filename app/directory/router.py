"""Alumni directory routes: read by every student, written by staff and their integrations."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.accounts.service import Principal
from app.contacts.schemas import ContactOut
from app.deps import DbSession, require_scope
from app.directory import service
from app.directory.schemas import EntryIn, EntryOut, EntryPatch
from app.errors import ERROR_RESPONSES
from app.etag import check_if_match, tag_response
from app.models import DirectoryEntry
from app.pagination import Cursor, Limit, Page
from app.schemas import in_utc
from app.web import is_htmx, redirect

router = APIRouter(prefix="/api/v1", tags=["directory"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(require_scope("directory:read"))]


def staff_writer(principal: Annotated[Principal, Depends(require_scope("directory:write"))]
                 ) -> Principal:
    service.require_staff(principal.user)
    return principal


Writer = Annotated[Principal, Depends(staff_writer)]
Text = Annotated[str | None, Query(max_length=200)]


def readable_entry(entry_id: str, principal: Reader, db: DbSession) -> DirectoryEntry:
    return service.get_entry(db, principal.user, entry_id)


def writable_entry(entry_id: str, principal: Writer, db: DbSession) -> DirectoryEntry:
    return service.get_entry(db, principal.user, entry_id)


@router.get("/directory", response_model=Page[EntryOut])
def list_entries(
    principal: Reader, db: DbSession, q: Text = None, industry: Text = None,
    organization: Text = None, major: Text = None, location: Text = None,
    graduated_from: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    graduated_to: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    accepts_requests: Annotated[bool | None, Query(description="Staff only.")] = None,
    updated_since: Annotated[datetime | None, Query(
        description="Changes since this moment, oldest first (for sync); UTC if no offset."
    )] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Any:
    filters = service.Filters(q=q, industry=industry, organization=organization, major=major,
                              location=location, graduated_from=graduated_from,
                              graduated_to=graduated_to, accepts_requests=accepts_requests,
                              updated_since=in_utc(updated_since, "UTC"))
    items, next_cursor = service.list_entries(db, principal.user, filters, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/directory", status_code=201, response_model=EntryOut)
def create_entry(body: EntryIn, response: Response, principal: Writer, db: DbSession) -> Any:
    entry = service.create_entry(db, body.model_dump())
    response.headers["Location"] = f"/api/v1/directory/{entry.id}"
    tag_response(response, entry.version)
    return entry


@router.get("/directory/{entry_id}", response_model=EntryOut)
def get_entry(response: Response,
              entry: Annotated[DirectoryEntry, Depends(readable_entry)]) -> Any:
    tag_response(response, entry.version)
    return entry


@router.patch("/directory/{entry_id}", response_model=EntryOut)
def update_entry(body: EntryPatch, request: Request, response: Response, db: DbSession,
                 entry: Annotated[DirectoryEntry, Depends(writable_entry)]) -> Any:
    check_if_match(request, entry.version)
    service.update_entry(db, entry, body.model_dump(exclude_unset=True))
    tag_response(response, entry.version)
    return entry


@router.delete("/directory/{entry_id}", status_code=204)
def delete_entry(request: Request, db: DbSession,
                 entry: Annotated[DirectoryEntry, Depends(writable_entry)]) -> Response:
    check_if_match(request, entry.version)
    service.delete_entry(db, entry)
    return Response(status_code=204)


@router.post("/directory/{entry_id}/add-to-contacts", response_model=ContactOut,
             responses={201: {"model": ContactOut, "description": "Added to your contacts."},
                        200: {"model": ContactOut, "description": "Already in your contacts."}})
def add_to_contacts(
    request: Request, response: Response, db: DbSession,
    principal: Annotated[Principal, Depends(require_scope("contacts:write"))],
    entry: Annotated[DirectoryEntry, Depends(readable_entry)],
) -> Any:
    contact, made = service.add_to_contacts(db, principal.user, entry)
    if is_htmx(request):
        return redirect(request, f"/contacts/{contact.id}")
    response.status_code = 201 if made else 200
    response.headers["Location"] = f"/api/v1/contacts/{contact.id}"
    return contact
