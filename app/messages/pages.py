"""Message pages: the list, composing a draft, one message, and the templates."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import workflow
from app.deps import DbSession, PagePrincipal
from app.etag import etag
from app.messages import service
from app.messages.schemas import MessageIn
from app.messages.templating import FIELD_NAMES, FIELDS, Blank
from app.models import Kind, MessageStatus, TaskStatus
from app.tasks import service as tasks
from app.web import render, templates

router = APIRouter(include_in_schema=False)

KIND_LABELS = {Kind.outreach: "Outreach email", Kind.linkedin_note: "LinkedIn note",
               Kind.follow_up: "Follow-up", Kind.thank_you: "Thank-you note",
               Kind.referral_request: "Asking for an introduction",
               Kind.reconnect: "Reconnecting with an update"}
MESSAGE_STATUS_LABELS = {MessageStatus.draft: "Draft", MessageStatus.sent: "Sent",
                         MessageStatus.replied: "Replied"}
FIELD_LABELS = {f"{ns}.{name}": label[0].upper() + label[1:]
                for ns, names in FIELDS.items() for name, label in names.items()}
# The contact's own name comes from their record; the compose page does not ask for it.
_NOT_ASKED = {"contact.first_name", "contact.last_name", "contact.full_name"}
_USES = re.compile(r"\b(student|contact|interview|outreach)\.([a-z_]+)")

templates.env.globals.update(kind_labels=KIND_LABELS, message_status_labels=MESSAGE_STATUS_LABELS,
                             next_kind=workflow.NEXT_MESSAGE, field_labels=FIELD_LABELS,
                             opening=service.opening)


def _fields(sources: str, ctx: dict[str, dict[str, str]]) -> list[tuple[str, str, bool]]:
    """The fields a template uses: name, current value, and whether it is missing."""
    used = {f"{ns}.{name}" for ns, name in _USES.findall(sources)}
    return [(name, ctx[name.split(".")[0]][name.split(".")[1]],
             isinstance(ctx[name.split(".")[0]][name.split(".")[1]], Blank))
            for name in FIELD_NAMES if name in used and name not in _NOT_ASKED]


@router.get("/messages", response_class=HTMLResponse)
def messages_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    messages, _ = service.list_messages(db, principal.user, None, None, None, 200, None)
    return render(request, "messages/list.html", {"messages": messages})


@router.get("/messages/new", response_class=HTMLResponse)
def compose_page(
    request: Request, principal: PagePrincipal, db: DbSession,
    contact_id: Annotated[str, Query(min_length=1, max_length=26)],
    kind: Kind = Kind.outreach,
    interview_id: Annotated[str | None, Query(max_length=26)] = None,
    template_id: Annotated[str | None, Query(max_length=26)] = None,
) -> Response:
    user = principal.user
    if template_id and service.get_template(db, user, template_id).kind != kind:
        template_id = None  # the kind was changed: start from that kind's default
    data = MessageIn(kind=kind, contact_id=contact_id, interview_id=interview_id or None,
                     template_id=template_id or None)
    contact, interview, template, _ = service.build(db, user, data)
    ctx = service.context(db, user, contact, interview, {})
    return render(request, "messages/compose.html", {
        "contact": contact, "interview": interview, "kind": kind, "template": template,
        "choices": service.templates_by_kind(db, user)[kind],
        "fields": _fields(template.subject + template.body, ctx),
        "draft": service.preview(db, user, data), "form": {},
    })


@router.get("/messages/templates", response_class=HTMLResponse)
def templates_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    return render(request, "messages/templates.html",
                  {"by_kind": service.templates_by_kind(db, principal.user)})


@router.get("/messages/templates/new", response_class=HTMLResponse)
def new_template_page(
    request: Request, principal: PagePrincipal, db: DbSession,
    copy: Annotated[str | None, Query(max_length=26, description="A template to start from")] = None,
    kind: Kind = Kind.outreach,
) -> Response:
    form: dict[str, Any] = {"kind": kind, "name": "", "subject": "", "body": ""}
    if copy:
        source = service.get_template(db, principal.user, copy)
        form = {"kind": source.kind, "name": f"My {source.name[0].lower()}{source.name[1:]}",
                "subject": source.subject, "body": source.body}
    return render(request, "messages/template.html", {"template": None, "form": form})


@router.get("/messages/templates/{template_id}", response_class=HTMLResponse)
def template_page(template_id: str, request: Request, principal: PagePrincipal, db: DbSession,
                  saved: bool = False) -> Response:
    template = service.get_template(db, principal.user, template_id)
    form = {c: getattr(template, c) for c in ("kind", "name", "subject", "body")}
    return render(request, "messages/template.html", {
        "template": template, "form": form, "saved": saved, "etag": etag(template.version)})


@router.get("/messages/{message_id}", response_class=HTMLResponse)
def message_page(message_id: str, request: Request, principal: PagePrincipal,
                 db: DbSession) -> Response:
    message = service.get_message(db, principal.user, message_id)
    contact = message.contact
    upcoming = [t for t in tasks.list_tasks(db, principal.user, None, None, None, contact.id,
                                            None, 20, None)[0] if t.status != TaskStatus.done]
    return render(request, "messages/message.html", {
        "message": message, "contact": contact, "draft": service.present(db, message),
        "to": service.recipient(db, contact, message.kind), "tasks": upcoming,
        "next": workflow.suggestion(contact)})
