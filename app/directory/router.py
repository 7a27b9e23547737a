"""Alumni directory routes: read by every student, written by staff and their integrations.

Integrations keep the directory in step with a CRM through the external id: PUT and DELETE by
external id, a batch of up to 1,000 upserts, and a sync read (``updated_since``, with
``include_deleted`` for tombstones)."""

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app import audit, idempotency
from app.accounts.service import Principal
from app.contacts.schemas import ContactOut
from app.deps import AppSettings, DbSession, check_scopes, require_scope
from app.directory import service
from app.directory.schemas import (
    STAFF_FIELDS,
    BatchIn,
    BatchOut,
    EntryIn,
    EntryOut,
    EntryPage,
    EntryPatch,
    EntryPut,
)
from app.errors import ERROR_RESPONSES, ErrorOut, NotFound, ValidationFailed
from app.etag import PreconditionFailed, check_if_match, tag_response
from app.idempotency import IdempotencyKey
from app.models import DirectoryEntry, User
from app.pagination import Cursor, Limit
from app.schemas import StrictWhen, in_utc
from app.web import is_htmx, redirect

router = APIRouter(prefix="/api/v1", tags=["directory"], responses=ERROR_RESPONSES)

# Two writes to the same entry at the same moment: the database's unique rules and the entry's
# version let one through, and the other is told so, to send again after reading the entry.
CONFLICT: dict[int | str, dict[str, Any]] = {409: {
    "model": ErrorOut,
    "description": "Another request created or changed the same entry at the same moment "
                   "(`conflict`, `edit_conflict`); read it again, then retry",
}}
# The batch also remembers its Idempotency-Key, which a second request may be using.
BATCH_CONFLICT: dict[int | str, dict[str, Any]] = {409: {
    "model": ErrorOut,
    "description": "Another request with this Idempotency-Key is being handled "
                   "(`idempotency_key_in_use`), or wrote the same entries at the same moment "
                   "(`conflict`, `edit_conflict`)",
}}
# Adding the same entry twice at once: the second is told so (sent again, it gets the contact).
ADD_CONFLICT: dict[int | str, dict[str, Any]] = {409: {
    "model": ErrorOut,
    "description": "The same entry was being added by another request at the same moment "
                   "(`conflict`); sent again, the request answers 200 with the contact",
}}

Reader = Annotated[Principal, Depends(require_scope("directory:read"))]


def staff_writer(principal: Annotated[Principal, Depends(require_scope("directory:write"))]
                 ) -> Principal:
    service.require_staff(principal.user)
    return principal


Writer = Annotated[Principal, Depends(staff_writer)]
Text = Annotated[str | None, Query(max_length=200)]
ExternalIdPath = Annotated[str, Path(min_length=1, max_length=200,
                                     description="The CRM's id for this person (URL-encoded).")]
# Entries go out as dicts: what staff alone see is left out for a student (and so absent
# from the JSON, with response_model_exclude_unset).
_PUBLIC = [name for name in EntryOut.model_fields if name not in STAFF_FIELDS]


def shown(db: Session, user: User, entries: Sequence[DirectoryEntry]) -> list[dict[str, Any]]:
    items = [{name: getattr(e, name) for name in _PUBLIC} for e in entries]
    if service.is_staff(user):
        requests = service.requests_this_month(db, [e.id for e in entries])
        for item, entry in zip(items, entries, strict=True):
            item.update(monthly_capacity=entry.monthly_capacity,
                        requests_this_month=requests[entry.id])
    return items


def one(db: Session, user: User, entry: DirectoryEntry) -> dict[str, Any]:
    return shown(db, user, [entry])[0]


def readable_entry(entry_id: str, principal: Reader, db: DbSession) -> DirectoryEntry:
    return service.get_entry(db, principal.user, entry_id)


def writable_entry(entry_id: str, principal: Writer, db: DbSession) -> DirectoryEntry:
    return service.get_entry(db, principal.user, entry_id)


def addable_entry(entry_id: str, principal: Reader, db: DbSession) -> DirectoryEntry:
    return service.get_entry(db, principal.user, entry_id, even_if_full=True)


@router.get("/directory", response_model=EntryPage, response_model_exclude_unset=True)
def list_entries(
    principal: Reader, db: DbSession, settings: AppSettings, q: Text = None,
    industry: Text = None, organization: Text = None, major: Text = None, location: Text = None,
    graduated_from: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    graduated_to: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    accepts_requests: Annotated[bool | None, Query(description="Staff only.")] = None,
    updated_since: Annotated[StrictWhen | None, Query(
        description="Changes since this moment (inclusive), oldest first by (updated_at, id), "
                    "for sync; UTC if no offset. Changes of the last few seconds "
                    "(RAPPORT_SYNC_SETTLE_SECONDS) wait for a later read: see "
                    "next_updated_since."
    )] = None,
    include_deleted: Annotated[bool, Query(
        description="Tombstones of deleted entries too (with deleted_at set). For those who "
                    "may write the directory (staff; a key needs directory:write); anyone "
                    "else asking is refused (403)."
    )] = False,
    limit: Limit = 50, cursor: Cursor = None,
) -> Any:
    if include_deleted:
        check_scopes(principal, "directory:write")
        service.require_staff(principal.user)
    since = in_utc(updated_since, "UTC")
    until = service.sync_until(settings.sync_settle_seconds) if since is not None else None
    filters = service.Filters(q=q, industry=industry, organization=organization, major=major,
                              location=location, graduated_from=graduated_from,
                              graduated_to=graduated_to, accepts_requests=accepts_requests,
                              updated_since=since, until=until, include_deleted=include_deleted)
    items, next_cursor = service.list_entries(db, principal.user, filters, limit, cursor)
    page: dict[str, Any] = {"items": shown(db, principal.user, items), "next_cursor": next_cursor}
    if since is not None and until is not None:
        page["next_updated_since"] = max(since, until)
    return page


@router.post("/directory", status_code=201, response_model=EntryOut,
             response_model_exclude_unset=True, responses=CONFLICT)
def create_entry(body: EntryIn, response: Response, principal: Writer, db: DbSession) -> Any:
    """A new entry. Under the external id of a deleted entry, that entry comes back."""
    entry = service.create_entry(db, body.model_dump())
    response.headers["Location"] = f"/api/v1/directory/{entry.id}"
    tag_response(response, entry.version)
    return one(db, principal.user, entry)


@router.post("/directory/batch", response_model=BatchOut, responses=BATCH_CONFLICT)
def upsert_batch(body: BatchIn, request: Request, principal: Writer, db: DbSession,
                 idempotency_key: IdempotencyKey = None) -> Any:
    """Up to 1,000 entries by external id, each created, updated or left unchanged as a PUT
    by external id would. All or nothing: any invalid item → 422 naming it
    (``items.3.email``), and nothing is written."""
    fingerprint = idempotency.fingerprint(request.url.path, body)
    replayed = idempotency.replay(db, principal.user, idempotency_key, fingerprint)
    if replayed is not None:
        return replayed
    results = service.upsert_batch(
        db, [item.model_dump(exclude_unset=True) for item in body.items])
    answer = BatchOut(
        **{kind: sum(1 for _, r in results if r == kind)
           for kind in ("created", "updated", "unchanged")},
        items=[{"external_id": e.external_id, "id": e.id, "result": r} for e, r in results])
    idempotency.remember(db, principal.user, idempotency_key, fingerprint, 200, answer)
    return answer


@router.put("/directory/by-external-id/{external_id:path}", response_model=EntryOut,
            response_model_exclude_unset=True,
            responses={200: {"model": EntryOut, "description": "Updated, or already so."},
                       201: {"model": EntryOut, "description": "Created (or brought back)."},
                       412: {"description": "If-Match names another version, or there is no "
                                            "entry to match"}, **CONFLICT})
def put_entry(external_id: ExternalIdPath, body: EntryPut, request: Request, response: Response,
              principal: Writer, db: DbSession) -> Any:
    """Create or update the entry with this external id. A field left out keeps its value;
    the same PUT again changes nothing (version and updated_at stay). A deleted entry comes
    back (201)."""
    values = body.model_dump(exclude_unset=True)
    if values.get("external_id", external_id) != external_id:
        raise ValidationFailed(fields=[("external_id", "Leave it out, or send the one in the "
                                                        "address.")])
    current = service.find_by_external_id(db, external_id)
    if request.headers.get("If-Match") is not None:
        if current is None or current.deleted_at is not None:
            raise PreconditionFailed("There is no entry with this external id to match.")
        check_if_match(request, current.version)
    entry, result = service.upsert(db, external_id, values)
    if result == "created":
        response.status_code = 201
        response.headers["Location"] = f"/api/v1/directory/{entry.id}"
    tag_response(response, entry.version)
    return one(db, principal.user, entry)


@router.delete("/directory/by-external-id/{external_id:path}", status_code=204,
                responses=CONFLICT)
def delete_by_external_id(external_id: ExternalIdPath, request: Request, principal: Writer,
                          db: DbSession) -> Response:
    """Delete the entry with this external id, keeping a tombstone for sync. Deleting it again
    is 204 too (If-Match is not checked then); an external id never seen is 404."""
    entry = service.find_by_external_id(db, external_id)
    if entry is None:
        raise NotFound("There is no directory entry with this external id.")
    if entry.deleted_at is None:
        check_if_match(request, entry.version)
        _record_deletion(db, audit.Actor.calling(principal, request), entry)
        service.delete_entry(db, entry)
    return Response(status_code=204)


@router.get("/directory/{entry_id}", response_model=EntryOut, response_model_exclude_unset=True)
def get_entry(response: Response, principal: Reader, db: DbSession,
              entry: Annotated[DirectoryEntry, Depends(readable_entry)]) -> Any:
    tag_response(response, entry.version)
    return one(db, principal.user, entry)


@router.patch("/directory/{entry_id}", response_model=EntryOut,
              response_model_exclude_unset=True, responses=CONFLICT)
def update_entry(body: EntryPatch, request: Request, response: Response, db: DbSession,
                 principal: Writer,
                 entry: Annotated[DirectoryEntry, Depends(writable_entry)]) -> Any:
    check_if_match(request, entry.version)
    service.update_entry(db, entry, body.model_dump(exclude_unset=True))
    tag_response(response, entry.version)
    return one(db, principal.user, entry)


@router.delete("/directory/{entry_id}", status_code=204, responses=CONFLICT)
def delete_entry(request: Request, db: DbSession, principal: Writer,
                 entry: Annotated[DirectoryEntry, Depends(writable_entry)]) -> Response:
    """Delete the entry, keeping a tombstone for sync: it is gone from every other read."""
    check_if_match(request, entry.version)
    _record_deletion(db, audit.Actor.calling(principal, request), entry)
    service.delete_entry(db, entry)
    return Response(status_code=204)


def _record_deletion(db: Session, actor: audit.Actor, entry: DirectoryEntry) -> None:
    """In the audit log, before the entry is blanked to a tombstone: whose entry it was."""
    name = " ".join(filter(None, [entry.first_name, entry.last_name]))
    audit.record(db, actor, audit.Action.directory_entry_deleted,
                 target_type="directory_entry", target_id=entry.id,
                 summary=f"Deleted the directory entry of {name}",
                 details={"external_id": entry.external_id} if entry.external_id else None)


@router.post("/directory/{entry_id}/add-to-contacts", response_model=ContactOut,
             responses={201: {"model": ContactOut, "description": "Added to your contacts."},
                        200: {"model": ContactOut, "description": "Already in your contacts."},
                        **ADD_CONFLICT})
def add_to_contacts(
    request: Request, response: Response, db: DbSession,
    principal: Annotated[Principal, Depends(require_scope("contacts:write"))],
    entry: Annotated[DirectoryEntry, Depends(addable_entry)],
) -> Any:
    contact, made = service.add_to_contacts(db, principal.user, entry)
    if is_htmx(request):
        return redirect(request, f"/contacts/{contact.id}")
    response.status_code = 201 if made else 200
    response.headers["Location"] = f"/api/v1/contacts/{contact.id}"
    return contact
