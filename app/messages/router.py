"""Template and message routes: JSON for API clients, the matching fragment for htmx."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app import idempotency
from app.accounts.service import Principal
from app.deps import AppSettings, DbSession, require_scope
from app.errors import ERROR_RESPONSES, KEY_IN_USE, conflicts
from app.etag import check_if_match, tag_response
from app.idempotency import IdempotencyKey
from app.messages import service
from app.messages.schemas import (
    DraftOut,
    MessageIn,
    MessageOut,
    MessagePatch,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
)
from app.models import Kind, Message, MessageStatus, Template
from app.pagination import Cursor, Limit, Page
from app.web import form, is_htmx, redirect, render

router = APIRouter(prefix="/api/v1", tags=["messages"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(require_scope("messages:read"))]
Writer = Annotated[Principal, Depends(require_scope("messages:write"))]


# --- templates ---


def readable_template(template_id: str, principal: Reader, db: DbSession) -> Template:
    return service.get_template(db, principal.user, template_id)


def writable_template(template_id: str, principal: Writer, db: DbSession) -> Template:
    return service.own_template(db, principal.user, template_id)


@router.get("/templates", response_model=Page[TemplateOut])
def list_templates(principal: Reader, db: DbSession, kind: Kind | None = None,
                   limit: Limit = 50, cursor: Cursor = None) -> Any:
    items, next_cursor = service.list_templates(db, principal.user, kind, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/templates", status_code=201, response_model=TemplateOut,
             responses=conflicts(idempotency_key_in_use=KEY_IN_USE))
@form("messages/template.html", "template_form")
def create_template(body: TemplateIn, request: Request, response: Response, principal: Writer,
                    db: DbSession, idempotency_key: IdempotencyKey = None) -> Any:
    made = idempotency.create_once(
        db, principal.user, idempotency_key, request.url.path, body,
        lambda: service.create_template(db, principal.user, body), TemplateOut)
    if isinstance(made, Response):
        return made
    if is_htmx(request):
        if request.headers.get("HX-Target") == "template-saved":  # from the compose page
            return render(request, "messages/template.html", {"saved_template": made},
                          block="template_form", status_code=201)
        return redirect(request, f"/messages/templates/{made.id}?saved=1")
    response.headers["Location"] = f"/api/v1/templates/{made.id}"
    tag_response(response, made.version)
    return made


@router.get("/templates/{template_id}", response_model=TemplateOut)
def get_template(response: Response,
                 template: Annotated[Template, Depends(readable_template)]) -> Any:
    tag_response(response, template.version)
    return template


@router.patch("/templates/{template_id}", response_model=TemplateOut)
@form("messages/template.html", "template_form")
def update_template(body: TemplatePatch, request: Request, response: Response, db: DbSession,
                    template: Annotated[Template, Depends(writable_template)]) -> Any:
    check_if_match(request, template.version)
    service.update_template(db, template, body)
    if is_htmx(request):
        return redirect(request, f"/messages/templates/{template.id}?saved=1")
    tag_response(response, template.version)
    return template


@router.delete("/templates/{template_id}", status_code=204)
def delete_template(request: Request, db: DbSession,
                    template: Annotated[Template, Depends(writable_template)]) -> Response:
    check_if_match(request, template.version)
    service.delete_template(db, template)
    if is_htmx(request):
        return redirect(request, "/messages/templates")
    return Response(status_code=204)


# --- messages ---


def readable_message(message_id: str, principal: Reader, db: DbSession) -> Message:
    return service.get_message(db, principal.user, message_id)


def writable_message(message_id: str, principal: Writer, db: DbSession) -> Message:
    return service.get_message(db, principal.user, message_id)


@router.get("/messages", response_model=Page[MessageOut])
def list_messages(
    principal: Reader, db: DbSession,
    contact_id: Annotated[str | None, Query(max_length=26)] = None,
    kind: Kind | None = None, status: MessageStatus | None = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Any:
    items, next_cursor = service.list_messages(db, principal.user, contact_id, kind, status, limit,
                                               cursor)
    return {"items": [service.present(db, m) for m in items], "next_cursor": next_cursor}


@router.post("/messages/preview", response_model=DraftOut)
@form("messages/compose.html", "draft")
def preview_message(body: MessageIn, request: Request, principal: Reader, db: DbSession) -> Any:
    """The draft that ``POST /messages`` would save, without saving anything: for editing a
    template or its fields live."""
    draft = service.preview(db, principal.user, body)
    if is_htmx(request):
        return render(request, "messages/compose.html", {"draft": draft, "oob": True},
                      block=["draft", "draft_status"])
    return draft


@router.post("/messages", status_code=201, response_model=MessageOut,
             responses=conflicts(idempotency_key_in_use=KEY_IN_USE))
@form("messages/compose.html", "draft")
def create_message(body: MessageIn, request: Request, response: Response, principal: Writer,
                   db: DbSession, settings: AppSettings, idempotency_key: IdempotencyKey = None
                   ) -> Any:
    made = idempotency.create_once(
        db, principal.user, idempotency_key, request.url.path, body,
        lambda: service.present(db, service.create_message(db, principal.user, body, settings)),
        MessageOut)
    if isinstance(made, Response):
        return made
    if is_htmx(request):
        return redirect(request, f"/messages/{made['id']}")
    response.headers["Location"] = f"/api/v1/messages/{made['id']}"
    tag_response(response, made["version"])
    return made


@router.get("/messages/{message_id}", response_model=MessageOut)
def get_message(response: Response, db: DbSession,
                message: Annotated[Message, Depends(readable_message)]) -> Any:
    tag_response(response, message.version)
    return service.present(db, message)


@router.patch("/messages/{message_id}", response_model=MessageOut, responses=conflicts(
    already_sent="a sent message is the record of what was sent and cannot be edited",
    invalid_status="the message cannot move to this status from the one it has"))
def update_message(body: MessagePatch, request: Request, response: Response, principal: Writer,
                   db: DbSession, settings: AppSettings,
                   message: Annotated[Message, Depends(writable_message)]) -> Any:
    check_if_match(request, message.version)
    service.update_message(db, principal.user, message, body, settings)
    shown = service.present(db, message)
    if is_htmx(request):
        if body.status is not None:  # the page changes: the text is now a record
            return redirect(request, f"/messages/{message.id}")
        return render(request, "messages/message.html", {"message": message, "draft": shown},
                      block="checks")
    tag_response(response, message.version)
    return shown


@router.get("/messages/{message_id}/message.eml", response_class=Response,
            responses={200: {"content": {"message/rfc822": {}}, "description": "An email file."}})
def download_eml(db: DbSession, principal: Reader,
                 message: Annotated[Message, Depends(readable_message)]) -> Response:
    return Response(service.eml(db, principal.user, message), media_type="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="message-{message.id}.eml"'})
