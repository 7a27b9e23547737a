"""The rules of messages: templates, drafts built from what Rapport knows, and what sending one
sets in motion. Every query is scoped to the owner."""

from collections.abc import Mapping
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from app import workflow
from app.config import Settings
from app.contacts import service as contacts
from app.db import utcnow
from app.directory import service as directory
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.interviews import service as interviews
from app.messages import checks, templating
from app.messages.schemas import MessageIn, MessagePatch, TemplateIn, TemplatePatch
from app.messages.templating import FIELDS, Blank
from app.models import (
    Contact,
    Engagement,
    Interview,
    Kind,
    Message,
    MessageStatus,
    Status,
    Template,
    User,
)
from app.pagination import Order, paginate

KIND_WORDS = {Kind.outreach: "Outreach", Kind.linkedin_note: "LinkedIn note",
              Kind.follow_up: "Follow-up", Kind.thank_you: "Thank-you note",
              Kind.referral_request: "Request for an introduction",
              Kind.reconnect: "Update"}
FIRST_CONTACT = {Kind.outreach, Kind.linkedin_note}
SUBJECT_CHARACTERS = 2000
# The default outreach's first sentence (the handout's), where the profile shows in every draft.
OPENING = ("I am a student at {{ student.school }} majoring in {{ student.major }}, in hopes of "
           "{{ student.career_goal|career }}.")


# --- templates ---


def _visible(owner: User) -> ColumnElement[bool]:
    return or_(Template.owner_id.is_(None), Template.owner_id == owner.id)


def get_template(db: Session, owner: User, template_id: str) -> Template:
    template = db.get(Template, template_id)
    if template is None or template.owner_id not in (None, owner.id):
        raise NotFound("There is no template with this id.")
    return template


def own_template(db: Session, owner: User, template_id: str) -> Template:
    template = get_template(db, owner, template_id)
    if template.is_default:
        raise Forbidden("The default templates cannot be changed. Make a copy and edit that.",
                        code="default_template")
    return template


def default_template(db: Session, kind: str) -> Template:
    template = db.get(Template, f"template-{kind}")
    if template is None:  # the migration installs one for every kind
        raise NotFound(f"The default {kind} template is missing: run `rapport migrate`.")
    return template


def list_templates(db: Session, owner: User, kind: Kind | None, limit: int,
                   cursor: str | None) -> tuple[list[Template], str | None]:
    stmt = select(Template).where(_visible(owner))
    if kind:
        stmt = stmt.where(Template.kind == kind)
    # The defaults ("template-…") sort before everyone's own (time-ordered ids).
    return paginate(db, stmt, [Order(Template.id, descending=True)], limit, cursor)


def templates_by_kind(db: Session, owner: User) -> dict[str, list[Template]]:
    grouped: dict[str, list[Template]] = {kind: [] for kind in Kind}
    for template in db.scalars(select(Template).where(_visible(owner))
                               .order_by(Template.owner_id.is_not(None), Template.name)):
        grouped[template.kind].append(template)
    return grouped


SOURCE_CHARACTERS = {"subject": SUBJECT_CHARACTERS, "body": 10_000}


def _as_source(values: dict[str, Any], text_format: str) -> dict[str, Any]:
    """Template text written in plain words ("[your major]") as the source it stands for."""
    if text_format != "plain":
        return values
    values = {k: templating.to_source(v) if k in SOURCE_CHARACTERS and v is not None else v
              for k, v in values.items()}
    for field, most in SOURCE_CHARACTERS.items():
        if len(values.get(field) or "") > most:
            raise ValidationFailed(fields=[(field, f"With its fields written out this is more "
                                                   f"than {most:,} characters; shorten it.")])
    return values


def create_template(db: Session, owner: User, data: TemplateIn) -> Template:
    values = _as_source(data.model_dump(exclude={"format"}), data.format)
    templating.check({"subject": values["subject"], "body": values["body"]})
    template = Template(owner_id=owner.id, **values)
    db.add(template)
    db.flush()
    return template


def update_template(db: Session, template: Template, changes: TemplatePatch) -> Template:
    values = _as_source(changes.model_dump(exclude_unset=True, exclude_none=True,
                                           exclude={"format"}), changes.format)
    templating.check({k: v for k, v in values.items() if k in {"subject", "body"}})
    for field, value in values.items():
        setattr(template, field, value)
    db.flush()
    return template


def delete_template(db: Session, template: Template) -> None:
    db.delete(template)
    db.flush()


# --- drafts ---


def opening(school: str, major: str, career_goal: str) -> str:
    """The first sentence of the default outreach, for this school, major and career goal."""
    given = {"school": school.strip(), "major": major.strip(), "career_goal": career_goal.strip()}
    student = {name: given[name] or Blank(FIELDS["student"][name]) for name in given}
    return templating.render({"body": OPENING}, {"student": student})["body"]


def _date(owner: User, moment: datetime | None, fmt: str) -> str | None:
    return moment.astimezone(ZoneInfo(owner.timezone)).strftime(fmt) if moment else None


def topic_of(interview: Interview) -> str | None:
    """Something they talked about: the first line of the takeaways, as a phrase."""
    line = next((ln.strip(" -•*\t") for ln in interview.takeaways.splitlines() if ln.strip()), "")
    line = line.rstrip(".!;:")
    if not line:
        return None
    if len(line) > 1 and line[0].isupper() and line[1].islower():
        line = line[0].lower() + line[1:]
    return line if len(line) <= 120 else line[:119].rstrip() + "…"


def latest_interview(db: Session, contact: Contact) -> Interview | None:
    """The conversation a thank-you or an update follows: the last one held, else the newest."""
    return db.scalar(select(Interview).where(Interview.contact_id == contact.id)
                     .order_by((Interview.status == Status.completed).desc(),
                               Interview.completed_at.desc().nulls_last(),
                               Interview.scheduled_at.desc().nulls_last(), Interview.id.desc())
                     .limit(1))


def _first_message(db: Session, contact: Contact) -> Message | None:
    return db.scalar(select(Message).where(Message.contact_id == contact.id,
                                           Message.kind.in_(FIRST_CONTACT),
                                           Message.sent_at.is_not(None))
                     .order_by(Message.sent_at.desc()).limit(1))


def _referrer(db: Session, contact: Contact) -> Contact | None:
    return db.get(Contact, contact.referred_by_id) if contact.referred_by_id else None


def recipient(db: Session, contact: Contact, kind: str) -> Contact | None:
    """Who receives it: the contact, except that an introduction is asked of their referrer."""
    return _referrer(db, contact) if kind == Kind.referral_request else contact


def context(db: Session, owner: User, contact: Contact, interview: Interview | None,
            values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Everything a template may use, as plain strings; what is missing is a Blank."""
    referrer = _referrer(db, contact)
    first = _first_message(db, contact)
    known: dict[str, Any] = {
        "student.name": owner.name, "student.first_name": owner.name.split(" ")[0],
        "student.email": owner.email, "student.school": owner.school,
        "student.major": owner.major, "student.career_goal": owner.career_goal,
        "student.graduation_year": str(owner.graduation_year or ""),
        "student.signature": owner.signature or owner.name,
        "contact.first_name": contact.first_name, "contact.last_name": contact.last_name,
        "contact.full_name": contact.full_name, "contact.title": contact.title,
        "contact.organization": contact.organization_name, "contact.industry": contact.industry,
        "contact.location": contact.location,
        "contact.referrer": referrer.full_name if referrer else contact.referrer_name,
        "interview.date": _date(owner, interview.when, "%A, %B %-d") if interview else None,
        "interview.topic": topic_of(interview) if interview else None,
        "outreach.date": _date(owner, first.sent_at, "%B %-d") if first else None,
        "outreach.subject": first.subject if first else None,
        **values,
    }
    return {ns: {name: known[f"{ns}.{name}"] or Blank(label) for name, label in names.items()}
            for ns, names in FIELDS.items()}


def _sources(db: Session, owner: User, data: MessageIn) -> tuple[Template, dict[str, str]]:
    if data.template_id:
        template = get_template(db, owner, data.template_id)
        if template.kind != data.kind:
            raise ValidationFailed(fields=[("template_id", "This template is for another kind of "
                                                           "message.")])
    else:
        template = default_template(db, data.kind)
    sources = {"subject": template.subject, "body": template.body}
    given = _as_source({"subject": data.subject, "body": data.body}, data.format)
    sources.update({k: v for k, v in given.items() if v is not None})
    return template, sources


def _parties(db: Session, owner: User, data: MessageIn) -> tuple[Contact, Interview | None]:
    contact = contacts.get_contact(db, owner, data.contact_id)
    interview: Interview | None = None
    if data.interview_id:
        interview = interviews.get_interview(db, owner, data.interview_id)
        if interview.contact_id != contact.id:
            raise ValidationFailed(fields=[("interview_id", "This interview is with someone else.")])
    elif data.kind in {Kind.thank_you, Kind.reconnect}:
        interview = latest_interview(db, contact)
    return contact, interview


def mailto(to: str | None, subject: str, body: str) -> str:
    """A mailto: link (RFC 6068): subject and body percent-encoded, lines ending in CRLF."""
    crlf = "\r\n".join(body.splitlines())
    return (f"mailto:{quote(to or '', safe='@')}?subject={quote(subject, safe='')}"
            f"&body={quote(crlf, safe='')}")


def _shape(kind: str, subject: str, body: str, to: str | None, **ids: Any) -> dict[str, Any]:
    email = kind != Kind.linkedin_note
    return {"kind": kind, "channel": "email" if email else "linkedin", "subject": subject,
            "body": body, "word_count": checks.word_count(body), "char_count": len(body),
            "warnings": checks.check(kind, subject, body, to), "to": to,
            "mailto": mailto(to, subject, body) if email else None, **ids}


def build(db: Session, owner: User, data: MessageIn
          ) -> tuple[Contact, Interview | None, Template, dict[str, str]]:
    contact, interview = _parties(db, owner, data)
    template, sources = _sources(db, owner, data)
    text = templating.render(sources, context(db, owner, contact, interview, data.values))
    return contact, interview, template, text


def _fits(text: dict[str, str]) -> None:
    if len(text["subject"]) > SUBJECT_CHARACTERS:
        raise ValidationFailed(fields=[("subject", f"The subject would be {len(text['subject']):,} "
                                                   f"characters; the most is {SUBJECT_CHARACTERS:,}.")])


def preview(db: Session, owner: User, data: MessageIn) -> dict[str, Any]:
    contact, interview, template, text = build(db, owner, data)
    _fits(text)
    to = recipient(db, contact, data.kind)
    return _shape(data.kind, text["subject"], text["body"], to.email if to else None,
                  contact_id=contact.id, interview_id=interview.id if interview else None,
                  template_id=template.id)


def create_message(db: Session, owner: User, data: MessageIn, settings: Settings) -> Message:
    contact, interview, template, text = build(db, owner, data)
    _fits(text)
    message = Message(owner_id=owner.id, contact_id=contact.id,
                      interview_id=interview.id if interview else None, template_id=template.id,
                      kind=data.kind, subject=text["subject"], body=text["body"])
    db.add(message)
    db.flush()
    if data.status == MessageStatus.sent:
        update_message(db, owner, message, MessagePatch(status=MessageStatus.sent), settings)
    return message


def present(db: Session, message: Message) -> dict[str, Any]:
    """A message as the API shows it, with the checks run on its current text."""
    to = recipient(db, message.contact, message.kind)
    fields = ("id", "status", "sent_at", "replied_at", "created_at", "updated_at", "contact_id",
              "interview_id", "template_id", "version")
    return _shape(message.kind, message.subject, message.body, to.email if to else None,
                  **{f: getattr(message, f) for f in fields})


def get_message(db: Session, owner: User, message_id: str) -> Message:
    message = db.get(Message, message_id)
    if message is None or message.owner_id != owner.id:
        raise NotFound("There is no message with this id.")
    return message


def list_messages(db: Session, owner: User, contact_id: str | None, kind: Kind | None,
                  status: MessageStatus | None, limit: int,
                  cursor: str | None) -> tuple[list[Message], str | None]:
    stmt = select(Message).where(Message.owner_id == owner.id)
    if contact_id:
        contacts.get_contact(db, owner, contact_id)
        stmt = stmt.where(Message.contact_id == contact_id)
    if kind:
        stmt = stmt.where(Message.kind == kind)
    if status:
        stmt = stmt.where(Message.status == status)
    order = [Order(Message.created_at, descending=True), Order(Message.id, descending=True)]
    return paginate(db, stmt, order, limit, cursor)


# --- sending, and what it sets in motion ---


def update_message(db: Session, owner: User, message: Message, changes: MessagePatch,
                   settings: Settings) -> Message:
    values = changes.model_dump(exclude_unset=True, exclude_none=True)
    status = values.pop("status", None)
    if values and message.status != MessageStatus.draft:
        raise Conflict("A sent message is the record of what you sent; it cannot be edited.",
                       code="already_sent")
    for field, value in values.items():
        setattr(message, field, value)
    if status and status != message.status:
        allowed = {MessageStatus.draft: MessageStatus.sent, MessageStatus.sent: MessageStatus.replied}
        if allowed.get(MessageStatus(message.status)) != status:
            raise Conflict(f"A {message.status} message cannot be marked {status}.",
                           code="invalid_status")
        if status == MessageStatus.sent:
            message.status = status
            _sent(db, owner, message, settings)
        else:
            _replied(db, owner, message, settings)
    db.flush()
    return message


def _sent(db: Session, owner: User, message: Message, settings: Settings) -> None:
    message.sent_at = utcnow()
    contact = message.contact
    kind = Kind(message.kind)
    about = f": “{message.subject}”" if message.subject else "."
    contacts.record_event(db, contact, "message_sent", message_id=message.id,
                          summary=f"{KIND_WORDS[kind]} sent{about}")
    if kind in FIRST_CONTACT:
        directory.engaged(db, owner, contact, Engagement.contacted)
    workflow.apply(db, owner, contact, workflow.SENT[kind], settings, at=message.sent_at)


def _replied(db: Session, owner: User, message: Message, settings: Settings) -> None:
    workflow.mark_replied(message)
    contacts.record_event(db, message.contact, "message_replied", message_id=message.id,
                          summary=f"Replied to your {KIND_WORDS[Kind(message.kind)].lower()}.")
    workflow.apply(db, owner, message.contact, workflow.Event.replied, settings)


def eml(db: Session, owner: User, message: Message) -> bytes:
    """The message as an unsent email file: mail apps open it ready to send."""
    to = recipient(db, message.contact, message.kind)
    email = EmailMessage()
    sender = _address(owner.name, owner.email)
    if sender is not None:
        email["From"] = sender
    receiver = _address(to.full_name, to.email) if to is not None else None
    if receiver is not None:
        email["To"] = receiver
    email["Subject"] = _one_line(message.subject)
    email["Date"] = format_datetime(message.sent_at or utcnow())
    email["X-Unsent"] = "1"
    email.set_content(message.body)
    # CRLF line ends, as mail files have them; headers kept on one line (up to 998 characters).
    return email.as_bytes(policy=policy.SMTP.clone(max_line_length=998))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _address(name: str, email: str | None) -> Address | None:
    """A header address; an international domain in its ASCII form. A mailbox name that is not
    ASCII cannot be written in a classic email header: it is left for the mail app to fill."""
    if not email or "@" not in email:
        return None
    local, domain = email.rsplit("@", 1)
    try:
        return Address(_one_line(name), username=local.encode("ascii").decode(),
                       domain=domain.encode("idna").decode())
    except (UnicodeError, ValueError):
        return None


# --- the dashboard's figures ---


def outreach_this_month(db: Session, owner: User) -> tuple[int, int]:
    """First messages sent since the start of the student's month, and how many were answered."""
    zone = ZoneInfo(owner.timezone)
    start = utcnow().astimezone(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    sent, replied = db.execute(
        select(func.count(), func.count(Message.replied_at))
        .where(Message.owner_id == owner.id, Message.kind.in_(FIRST_CONTACT),
               Message.sent_at >= start)
    ).one()
    return int(sent), int(replied)
