"""Contact and organization routes: JSON for API clients, the matching fragment for htmx."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from app import idempotency
from app.accounts.service import Principal
from app.contacts import export, pages, service
from app.contacts.schemas import (
    ContactIn,
    ContactOut,
    ContactPatch,
    EventOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
    dump_json,
)
from app.contacts.service import ContactFilters, Sort
from app.deps import DbSession, require_scope
from app.errors import ERROR_RESPONSES, KEY_IN_USE, conflicts
from app.etag import check_if_match, etag, tag_response
from app.idempotency import IdempotencyKey
from app.models import Contact, Organization, Source, Stage
from app.pagination import Cursor, Limit, Page
from app.schemas import StrictWhen, in_utc
from app.web import form, is_htmx, redirect, render

router = APIRouter(prefix="/api/v1", tags=["contacts"], responses=ERROR_RESPONSES)

JSON = "application/json"

Reader = Annotated[Principal, Depends(require_scope("contacts:read"))]
Writer = Annotated[Principal, Depends(require_scope("contacts:write"))]


CONTACT_TAKEN = {"contact_exists": "another of your contacts has this email address",
                 "external_id_taken": "another of your contacts has this external_id"}
ORGANIZATION_TAKEN = {"organization_exists": "you have an organization of this name"}


def readable_contact(contact_id: str, principal: Reader, db: DbSession) -> Contact:
    return service.get_contact(db, principal.user, contact_id)


def writable_contact(contact_id: str, principal: Writer, db: DbSession) -> Contact:
    return service.get_contact(db, principal.user, contact_id)


def readable_organization(organization_id: str, principal: Reader, db: DbSession) -> Organization:
    return service.get_organization(db, principal.user, organization_id)


def writable_organization(organization_id: str, principal: Writer, db: DbSession) -> Organization:
    return service.get_organization(db, principal.user, organization_id)


# --- contacts ---


@router.get("/contacts", response_model=Page[ContactOut])
def list_contacts(
    request: Request,
    principal: Reader,
    db: DbSession,
    q: Annotated[str | None, Query(max_length=200, description="Words to find, as prefixes.")] = None,
    stage: Stage | None = None,
    source: Source | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    organization_id: Annotated[str | None, Query(max_length=26)] = None,
    updated_since: Annotated[StrictWhen | None, Query(description="ISO 8601; UTC if no offset.")] = None,
    sort: Annotated[Sort, Query(description="name, updated (newest first) or next_action")] = "name",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    filters = ContactFilters(q=q, stage=stage, source=source, tag=tag,
                             organization_id=organization_id, updated_since=in_utc(updated_since, "UTC"))
    if is_htmx(request):
        items, next_cursor = service.list_contacts(db, principal.user, filters, sort, limit, cursor)
        # "Show more" appends rows; a search or a filter redraws the whole list.
        block = "rows" if request.headers.get("HX-Target") == "more-row" else "results"
        return render(request, "contacts/list.html", {
            "contacts": items, "next_cursor": next_cursor, "filters": filters, "sort": sort,
        }, block=block)
    # The rows go out as read: the response model is the documentation, not a second pass.
    shown, next_cursor = service.contact_page(db, principal.user, filters, sort, limit, cursor)
    return Response(dump_json({"items": shown, "next_cursor": next_cursor}), media_type=JSON)


@router.post("/contacts", status_code=201, response_model=ContactOut,
             responses=conflicts(**CONTACT_TAKEN, idempotency_key_in_use=KEY_IN_USE))
@form("contacts/list.html", "quick_add")
def create_contact(
    body: ContactIn, request: Request, response: Response, principal: Writer, db: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    contact = idempotency.create_once(
        db, principal.user, idempotency_key, request.url.path, body,
        lambda: service.create_contact(db, principal.user, body), ContactOut)
    if isinstance(contact, Response):
        return contact
    if is_htmx(request):
        return render(request, "contacts/list.html", {"form": {}, "added": contact},
                      block="quick_add", status_code=201, headers={"HX-Trigger": "contacts-changed"})
    response.headers["Location"] = f"/api/v1/contacts/{contact.id}"
    tag_response(response, contact.version)
    return contact


# The exports come before /contacts/{contact_id}, so "export.csv" is not read as an id.


@router.get("/contacts/export.csv", response_class=StreamingResponse, responses={
    200: {"content": {"text/csv": {}},
          "description": "Every contact, a row each (UTF-8 with a byte order mark, CRLF). "
                         "Cells a spreadsheet would run as a formula start with an apostrophe. "
                         "Tags are joined with commas; a comma inside a tag is written \\, "
                         "and a backslash \\\\."}})
def export_csv(request: Request, principal: Reader) -> StreamingResponse:
    chunks = export.csv_chunks(request.app.state.reading_sessionmaker, principal.user.id)
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="contacts.csv"'})


@router.get("/contacts/export.vcf", response_class=StreamingResponse, responses={
    200: {"content": {"text/vcard": {}},
          "description": "Every contact as a vCard 3.0. The fields vCard has no property for are "
                         "X-RAPPORT-SOURCE, X-RAPPORT-STAGE, X-RAPPORT-HOW-WE-MET, "
                         "X-RAPPORT-REFERRER-NAME, X-RAPPORT-NEXT-ACTION, X-RAPPORT-NEXT-ACTION-AT "
                         "(ISO 8601 with the offset of the student's time zone), "
                         "X-RAPPORT-EXTERNAL-ID and X-RAPPORT-INDUSTRY."}})
def export_vcf(request: Request, principal: Reader) -> StreamingResponse:
    chunks = export.vcard_chunks(request.app.state.reading_sessionmaker, principal.user.id)
    return StreamingResponse(chunks, media_type="text/vcard; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="contacts.vcf"'})


@router.get("/contacts/{contact_id}", response_model=ContactOut)
def get_contact(contact_id: str, principal: Reader, db: DbSession) -> Response:
    shown, version = service.shown_contact(db, principal.user, contact_id)
    return Response(dump_json(shown), media_type=JSON, headers={"ETag": etag(version)})


@router.patch("/contacts/{contact_id}", response_model=ContactOut,
              responses=conflicts(**CONTACT_TAKEN))
@form("contacts/detail.html", "contact_form")
def update_contact(
    body: ContactPatch, request: Request, response: Response, principal: Writer, db: DbSession,
    contact: Annotated[Contact, Depends(writable_contact)],
) -> Any:
    check_if_match(request, contact.version)
    service.update_contact(db, principal.user, contact, body)
    if is_htmx(request):
        if request.headers.get("HX-Target") == "board":
            return _board(request, db, principal)
        # The section read again, and out of band what the save may have changed: the header
        # (name, stage), the next actions and the timeline.
        context = {**pages.contact_context(db, principal.user, contact), "saved": True, "oob": True}
        return render(request, "contacts/detail.html", context,
                      block=["contact_section", "contact_header", "next_actions", "timeline"])
    tag_response(response, contact.version)
    return contact


def _board(request: Request, db: Session, principal: Principal) -> Response:
    columns = service.board(db, principal.user)
    return render(request, "contacts/board.html", {"columns": columns}, block="board")


@router.delete("/contacts/{contact_id}", status_code=204)
def delete_contact(request: Request, db: DbSession,
                   contact: Annotated[Contact, Depends(writable_contact)]) -> Response:
    check_if_match(request, contact.version)
    service.delete_contact(db, contact)
    return redirect(request, "/contacts") if is_htmx(request) else Response(status_code=204)


@router.get("/contacts/{contact_id}/timeline", response_model=Page[EventOut])
def contact_timeline(db: DbSession, contact: Annotated[Contact, Depends(readable_contact)],
                     limit: Limit = 50, cursor: Cursor = None) -> Any:
    events, next_cursor = service.timeline(db, contact, limit, cursor)
    items = [EventOut(id=e.id, kind=e.kind, at=e.at, data=e.data, summary=service.summarize(e))
             for e in events]
    return {"items": items, "next_cursor": next_cursor}


# --- organizations ---


@router.get("/organizations", response_model=Page[OrganizationOut])
def list_organizations(principal: Reader, db: DbSession, limit: Limit = 50,
                       cursor: Cursor = None) -> Any:
    items, next_cursor = service.list_organizations(db, principal.user, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/organizations", status_code=201, response_model=OrganizationOut,
             responses=conflicts(**ORGANIZATION_TAKEN, idempotency_key_in_use=KEY_IN_USE))
@form("contacts/organizations.html", "organization_form")
def create_organization(
    body: OrganizationIn, request: Request, response: Response, principal: Writer, db: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    org = idempotency.create_once(
        db, principal.user, idempotency_key, request.url.path, body,
        lambda: service.create_organization(db, principal.user, body), OrganizationOut)
    if isinstance(org, Response):
        return org
    if is_htmx(request):
        return redirect(request, f"/organizations/{org.id}")
    response.headers["Location"] = f"/api/v1/organizations/{org.id}"
    tag_response(response, org.version)
    return org


@router.get("/organizations/{organization_id}", response_model=OrganizationOut)
def get_organization(response: Response,
                     org: Annotated[Organization, Depends(readable_organization)]) -> Any:
    tag_response(response, org.version)
    return org


@router.patch("/organizations/{organization_id}", response_model=OrganizationOut,
              responses=conflicts(**ORGANIZATION_TAKEN))
@form("contacts/organization.html", "organization_form")
def update_organization(
    body: OrganizationPatch, request: Request, response: Response, principal: Writer,
    db: DbSession, org: Annotated[Organization, Depends(writable_organization)],
) -> Any:
    check_if_match(request, org.version)
    service.update_organization(db, principal.user, org, body)
    if is_htmx(request):
        return render(request, "contacts/organization.html",
                      {**pages.organization_context(db, org), "saved": True},
                      block="organization_form")
    tag_response(response, org.version)
    return org


@router.delete("/organizations/{organization_id}", status_code=204)
def delete_organization(request: Request, db: DbSession,
                        org: Annotated[Organization, Depends(writable_organization)]) -> Response:
    check_if_match(request, org.version)
    service.delete_organization(db, org)
    return redirect(request, "/organizations") if is_htmx(request) else Response(status_code=204)
