"""Message pages: the list, composing a draft, one message, and the templates."""

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from app import workflow
from app.deps import DbSession, PagePrincipal
from app.etag import etag
from app.messages import service, templating
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

# The editor's chips, by whose the value is.
FIELD_GROUPS = {"student": "You", "contact": "Them", "interview": "Your interview",
                "outreach": "Your first message"}
STAFF = {"staff", "admin"}

templates.env.globals.update(kind_labels=KIND_LABELS, message_status_labels=MESSAGE_STATUS_LABELS,
                             next_kind=workflow.NEXT_MESSAGE, field_labels=FIELD_LABELS,
                             opening=service.opening, field_names=FIELDS,
                             field_groups=FIELD_GROUPS)
Mode = Literal["plain", "advanced"]


def _plain(subject: str, body: str) -> tuple[str, str] | None:
    plain_subject, plain_body = templating.to_plain(subject), templating.to_plain(body)
    return None if plain_subject is None or plain_body is None else (plain_subject, plain_body)


def _shown(form: dict[str, Any], role: str, mode: Mode | None) -> dict[str, Any]:
    """The form as the editor shows it: in plain words ("[your major]") for a student, unless
    they asked for the source or the template has conditions or filters; as the source for staff,
    unless they asked for plain words."""
    plain = _plain(form["subject"], form["body"])
    wanted = mode or ("advanced" if role in STAFF else "plain")
    if wanted == "plain" and plain is not None:
        return {**form, "subject": plain[0], "body": plain[1], "format": "plain"}
    return {**form, "format": "jinja", "plain_refused": wanted == "plain"}


def _reading(subject: str, body: str) -> dict[str, str]:
    """How a template reads with every field given, each field shown by its name."""
    return templating.render({"subject": subject, "body": body}, templating.READING)


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
    mode: Mode | None = None,
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
        "text": _shown({"subject": template.subject, "body": template.body}, user.role, mode),
        "text_open": mode is not None or user.role in STAFF,
    })


@router.get("/messages/templates", response_class=HTMLResponse)
def templates_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    return render(request, "messages/templates.html",
                  {"by_kind": service.templates_by_kind(db, principal.user)})


@router.get("/messages/templates/new", response_class=HTMLResponse)
def new_template_page(
    request: Request, principal: PagePrincipal, db: DbSession,
    copy: Annotated[str | None, Query(max_length=26, description="A template to start from")] = None,
    kind: Kind = Kind.outreach, mode: Mode | None = None,
) -> Response:
    form: dict[str, Any] = {"kind": kind, "name": "", "subject": "", "body": ""}
    copied = None
    if copy:
        copied = service.get_template(db, principal.user, copy)
        form = {"kind": copied.kind, "name": f"My {copied.name[0].lower()}{copied.name[1:]}",
                "subject": copied.subject, "body": copied.body}
    shown = _shown(form, principal.user.role, mode)
    if copied is not None and shown.get("plain_refused") and mode is None:
        # A student starts a copy from how it reads: its conditions and filters stay behind,
        # and the page says so (with the way to keep them).
        reading = _reading(copied.subject, copied.body)
        shown = {**form, **reading, "format": "plain", "from_reading": True}
    return render(request, "messages/template.html",
                  {"template": None, "form": shown, "copied": copied})


@router.get("/messages/templates/{template_id}", response_class=HTMLResponse)
def template_page(template_id: str, request: Request, principal: PagePrincipal, db: DbSession,
                  saved: bool = False, mode: Mode | None = None) -> Response:
    template = service.get_template(db, principal.user, template_id)
    form = {c: getattr(template, c) for c in ("kind", "name", "subject", "body")}
    return render(request, "messages/template.html", {
        "template": template, "form": _shown(form, principal.user.role, mode), "saved": saved,
        "etag": etag(template.version), "reading": _reading(template.subject, template.body),
        "advanced_open": mode == "advanced" or (mode is None and principal.user.role in STAFF)})


class TemplateText(BaseModel):
    """The editor's text as it stands, unsaved, and the way it is asked to show it."""

    subject: Annotated[str, Field(max_length=2000)] = ""
    body: Annotated[str, Field(max_length=10_000)] = ""
    format: Literal["jinja", "plain"] = "jinja"
    show: Mode
    compose: Annotated[bool, Field(description="On the compose page: its subject is there for "
                                               "email only.")] = False
    with_subject: bool = True


@router.post("/messages/templates/text", response_class=HTMLResponse)
def template_text(data: TemplateText, request: Request, principal: PagePrincipal) -> Response:
    """Switch the editor between plain words and the source without losing an unsaved word."""
    subject, body = data.subject, data.body
    if data.format == "plain":
        subject, body = templating.to_source(subject), templating.to_source(body)
    form = _shown({"subject": subject, "body": body}, principal.user.role, data.show)
    return render(request, "messages/_template_text.html",
                  {"form": form, "compose": data.compose, "with_subject": data.with_subject})


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
