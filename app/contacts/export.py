"""A student's data on the way out: contacts as CSV and vCard 3.0, and everything they own as
one JSON document.

The two contact files are streamed a page of contacts at a time, from a session of their own
(the request's session is closed before a streamed body is sent), so a long contact file is
never held in memory whole. Values are stored as given and made safe here: a CSV cell that a
spreadsheet would run as a formula is written as text (``inert``).

Both files hold every field, so that importing one into an empty account gives every contact
back: the CSV a column per field (tags joined by ``join_tags``), the vCard its own properties
where vCard has one and ``X-RAPPORT-…`` properties for the rest (``VCARD_EXTRAS``).
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import vobject
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.schemas import UserOut
from app.contacts import service
from app.contacts.schemas import ContactOut, EventOut, OrganizationOut, join_tags
from app.contacts.service import ContactFilters
from app.db import utcnow
from app.interviews.schemas import InterviewOut, ItemOut
from app.messages.schemas import TemplateOut
from app.models import (
    Channel,
    Contact,
    ContactEvent,
    Interview,
    Kind,
    Message,
    MessageStatus,
    Organization,
    Question,
    Task,
    Template,
    User,
)
from app.models.interview import CHECKLIST
from app.questions.schemas import QuestionOut
from app.tasks.schemas import TaskOut

PAGE = 200  # contacts read at a time

# --- formula safety, shared with the importer ---

# What makes a spreadsheet read a cell as a formula (or hide where one starts).
FORMULA_STARTS = frozenset({"=", "+", "-", "@", "\t", "\r"})


def inert(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @, a tab or a carriage return
    gets a leading apostrophe.

    Apostrophes already in front of such a character count as part of the prefix, so one more
    is added ("'=1" becomes "''=1"): ``revive`` then gives every value back exactly.
    """
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip("'")[:1] in FORMULA_STARTS else text


def revive(cell: str) -> str:
    """The value ``inert`` was given: one leading apostrophe is dropped when what follows the
    apostrophes is a formula character. Any other cell is returned as it is."""
    if cell.startswith("'") and cell.lstrip("'")[:1] in FORMULA_STARTS:
        return cell[1:]
    return cell


# --- the contacts, a page at a time ---

CSV_FIELDS = (
    "first_name", "last_name", "email", "phone", "title", "organization_name", "industry",
    "location", "linkedin_url", "website", "source", "referrer_name", "how_we_met", "tags", "notes", "stage",
    "external_id", "next_action", "next_action_at",
)
BOM = "\ufeff"


def _pages(factory: sessionmaker[Session], owner_id: str,
           ) -> Iterator[tuple[User, list[Contact], dict[str, str]]]:
    """Every contact of the owner by name, a page at a time, with the full names of the page's
    referrers (contacts of the same owner)."""
    with factory() as db:
        owner = db.get(User, owner_id)
        if owner is None:
            return
        cursor: str | None = None
        while True:
            contacts, cursor = service.list_contacts(db, owner, ContactFilters(), "name", PAGE, cursor)
            ids = {c.referred_by_id for c in contacts if c.referred_by_id}
            referrers = {
                i: f"{first} {last}".strip()
                for i, first, last in db.execute(
                    select(Contact.id, Contact.first_name, Contact.last_name)
                    .where(Contact.owner_id == owner.id, Contact.id.in_(ids)))
            } if ids else {}
            yield owner, contacts, referrers
            if cursor is None:
                return
            db.expunge_all()  # what was sent need not stay in memory


def referrer_of(contact: Contact, referrers: dict[str, str]) -> str:
    """Who referred the contact, as a name: the referring contact's, else the free text."""
    if contact.referred_by_id and contact.referred_by_id in referrers:
        return referrers[contact.referred_by_id]
    return contact.referrer_name


def _moment(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).isoformat() if moment else ""


def csv_row(contact: Contact, referrers: dict[str, str], zone: str) -> list[str]:
    values: dict[str, Any] = {field: getattr(contact, field) for field in CSV_FIELDS}
    values["tags"] = join_tags(contact.tags)
    values["referrer_name"] = referrer_of(contact, referrers)
    values["next_action_at"] = _moment(contact.next_action_at, zone)
    return [inert(values[field]) for field in CSV_FIELDS]


def csv_chunks(factory: sessionmaker[Session], owner_id: str) -> Iterator[bytes]:
    """The contacts as CSV: UTF-8 with a byte order mark (so spreadsheets read the accents),
    CRLF line ends, the header first, then a chunk per page of contacts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the excel dialect: CRLF, quotes only where needed
    buffer.write(BOM)
    writer.writerow(CSV_FIELDS)
    for owner, contacts, referrers in _pages(factory, owner_id):
        writer.writerows(csv_row(c, referrers, owner.timezone) for c in contacts)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # the owner was gone: the header alone
        yield buffer.getvalue().encode("utf-8")


# The fields vCard has no property for, each as "X-RAPPORT-" and its name in capitals with
# hyphens (how_we_met: X-RAPPORT-HOW-WE-MET). The source and the stage are always written.
VCARD_EXTRAS = ("source", "stage", "how_we_met", "referrer_name", "next_action", "next_action_at",
                "external_id", "industry")


def vcard_extra(field: str) -> str:
    return "X-RAPPORT-" + field.upper().replace("_", "-")


def vcard_address(location: str) -> vobject.vcard.Address:
    """The location as an address: "City, Region" or "City, Region, Country" in their parts,
    which joined again with ", " give it back; anything else whole, as the locality."""
    parts = location.split(", ")
    if not 2 <= len(parts) <= 3 or any(not part or part != part.strip() for part in parts):
        parts = [location]
    city, region, country = [*parts, "", ""][:3]
    return vobject.vcard.Address(city=city, region=region, country=country)


def vcard(contact: Contact, referrers: dict[str, str], zone: str) -> str:
    """One contact as a vCard 3.0 (what phones and Outlook accept). Every value is escaped as
    vCard text (a backslash before each comma, semicolon and backslash; newlines as ``\\n``),
    and written as stored: the spreadsheet formula guard has no place here."""
    card = vobject.vCard()
    card.add("n").value = vobject.vcard.Name(family=contact.last_name, given=contact.first_name)
    card.add("fn").value = contact.full_name
    if contact.email:
        email = card.add("email")
        email.value = contact.email
        email.type_param = "INTERNET"
    if contact.phone:
        card.add("tel").value = contact.phone
    if contact.organization_name:
        card.add("org").value = [contact.organization_name]
    if contact.title:
        card.add("title").value = contact.title
    if contact.location:
        card.add("adr").value = vcard_address(contact.location)
    for address in (contact.website, contact.linkedin_url):
        if address:
            card.add("url").value = address
    if contact.notes:
        card.add("note").value = contact.notes
    if contact.tags:
        card.add("categories").value = contact.tags
    extras: dict[str, str] = {field: getattr(contact, field) or "" for field in VCARD_EXTRAS}
    extras["referrer_name"] = referrer_of(contact, referrers)
    extras["next_action_at"] = _moment(contact.next_action_at, zone)
    for field, value in extras.items():
        if value:
            card.add(vcard_extra(field)).value = value
    return str(card.serialize())


def vcard_chunks(factory: sessionmaker[Session], owner_id: str) -> Iterator[bytes]:
    for owner, contacts, referrers in _pages(factory, owner_id):
        yield "".join(vcard(c, referrers, owner.timezone) for c in contacts).encode("utf-8")


# --- everything a student owns, as one JSON document ---

EVERYTHING_SCOPES = ("profile:read", "contacts:read", "interviews:read", "messages:read")


class ContactExport(ContactOut):
    referred_by_name: str | None = Field(
        description="The full name of the contact in referred_by_id, when there is one.")
    timeline: list[EventOut] = Field(description="Oldest first.")


class InterviewExport(InterviewOut):
    questions: list[ItemOut] = Field(description="In their order, each with its answer.")


class MessageExport(BaseModel):
    id: str
    kind: Kind
    channel: Channel
    contact_id: str
    interview_id: str | None
    template_id: str | None
    subject: str
    body: str
    status: MessageStatus
    sent_at: datetime | None
    replied_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AccountExport(BaseModel):
    exported_at: datetime
    profile: UserOut
    organizations: list[OrganizationOut]
    contacts: list[ContactExport]
    questions: list[QuestionOut] = Field(description="The student's own questions of the bank.")
    interviews: list[InterviewExport]
    tasks: list[TaskOut]
    messages: list[MessageExport]
    templates: list[TemplateOut] = Field(description="The student's own templates.")


def _attributes(row: Any, model: type[BaseModel]) -> dict[str, Any]:
    return {field: getattr(row, field) for field in model.model_fields if hasattr(row, field)}


def _owned(db: Session, model: Any, owner: User, *order: Any) -> Iterable[Any]:
    return db.scalars(select(model).where(model.owner_id == owner.id).order_by(*order)).unique()


def everything(db: Session, owner: User) -> AccountExport:
    contacts = list(_owned(db, Contact, owner, Contact.sort_name, Contact.id))
    names = {c.id: c.full_name for c in contacts}
    events: dict[str, list[EventOut]] = {}
    for event in _owned(db, ContactEvent, owner, ContactEvent.contact_id, ContactEvent.id):
        events.setdefault(event.contact_id, []).append(EventOut(
            id=event.id, kind=event.kind, at=event.at, data=event.data,
            summary=service.summarize(event)))
    return AccountExport(
        exported_at=utcnow(),
        profile=UserOut.model_validate(owner),
        organizations=[OrganizationOut.model_validate(o) for o in
                       _owned(db, Organization, owner, Organization.name_key, Organization.id)],
        contacts=[ContactExport.model_validate({
            **_attributes(c, ContactOut),
            "referred_by_name": names.get(c.referred_by_id) if c.referred_by_id else None,
            "timeline": events.get(c.id, []),
        }) for c in contacts],
        questions=[QuestionOut.model_validate(q) for q in
                   _owned(db, Question, owner, Question.position, Question.id)],
        interviews=[InterviewExport.model_validate({
            **_attributes(i, InterviewOut),
            "contact_name": i.contact.full_name,
            "checklist": {key: bool(i.checklist.get(key)) for key in CHECKLIST},
            "questions": [ItemOut.model_validate(item) for item in i.items],
        }) for i in _owned(db, Interview, owner, Interview.created_at, Interview.id)],
        tasks=[TaskOut.model_validate(t) for t in _owned(db, Task, owner, Task.created_at, Task.id)],
        messages=[MessageExport.model_validate(_attributes(m, MessageExport)) for m in
                  _owned(db, Message, owner, Message.created_at, Message.id)],
        templates=[TemplateOut.model_validate(t) for t in
                   _owned(db, Template, owner, Template.kind, Template.name, Template.id)],
    )
