"""The rules of the alumni directory: staff write it, every student searches it, and a student
copies an entry into their own contacts. Students never see an entry that does not accept
requests."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.contacts import service as contacts
from app.contacts.schemas import ContactIn
from app.db import utcnow
from app.directory import rules
from app.errors import Forbidden, NotFound, ValidationFailed
from app.imports.writers import entry_derived, fold, index_directory, last_rowid
from app.models import Contact, DirectoryEngagement, DirectoryEntry, Engagement, Role, Source, User
from app.pagination import Order, paginate
from app.webhooks import service as webhooks

STAFF = {Role.staff, Role.admin}


def is_staff(user: User) -> bool:
    return user.role in STAFF


def require_staff(user: User) -> None:
    if not is_staff(user):
        raise Forbidden("Only career-services staff can change the alumni directory.",
                        code="staff_only")


@dataclass
class Filters:
    q: str | None = None
    industry: str | None = None
    organization: str | None = None
    major: str | None = None
    location: str | None = None
    graduated_from: int | None = None
    graduated_to: int | None = None
    accepts_requests: bool | None = None
    updated_since: datetime | None = None


def _visible(user: User) -> Any:
    return None if is_staff(user) else DirectoryEntry.accepts_requests.is_(True)


def get_entry(db: Session, user: User, entry_id: str) -> DirectoryEntry:
    entry = db.get(DirectoryEntry, entry_id)
    if entry is None or (not is_staff(user) and not entry.accepts_requests):
        raise NotFound("There is no directory entry with this id.")
    return entry


def _matching(db: Session, q: str) -> Any:
    terms = re.findall(r"\w+", fold(q).lower())[:10]
    return contacts.prefix_match(db, "directory_entries", terms) if terms else None


def filtered(db: Session, user: User, f: Filters) -> Select[Any]:
    stmt = select(DirectoryEntry)
    visible = _visible(user)
    if visible is not None:
        stmt = stmt.where(visible)
    if f.q:
        matching = _matching(db, f.q)
        if matching is not None:
            stmt = stmt.where(matching)
    for column, value in ((DirectoryEntry.industry, f.industry),
                          (DirectoryEntry.organization_name, f.organization),
                          (DirectoryEntry.major, f.major), (DirectoryEntry.location, f.location)):
        if value:
            stmt = stmt.where(column.ilike(f"%{_escape(value)}%", escape="\\"))
    if f.graduated_from is not None:
        stmt = stmt.where(DirectoryEntry.graduation_year >= f.graduated_from)
    if f.graduated_to is not None:
        stmt = stmt.where(DirectoryEntry.graduation_year <= f.graduated_to)
    if f.accepts_requests is not None and is_staff(user):
        stmt = stmt.where(DirectoryEntry.accepts_requests.is_(f.accepts_requests))
    if f.updated_since is not None:
        stmt = stmt.where(DirectoryEntry.updated_at >= f.updated_since)
    return stmt


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_entries(db: Session, user: User, f: Filters, limit: int,
                 cursor: str | None) -> tuple[list[DirectoryEntry], str | None]:
    if f.updated_since is not None:  # for sync: every change since, in a stable order
        order = [Order(DirectoryEntry.updated_at), Order(DirectoryEntry.id)]
    else:
        order = [Order(DirectoryEntry.sort_name), Order(DirectoryEntry.id)]
    return paginate(db, filtered(db, user, f), order, limit, cursor)


def _refuse(problems: list[rules.Problem]) -> None:
    if problems:
        raise ValidationFailed(fields=[(f or "body", m) for f, _, m in problems])


def _external_id_free(db: Session, external_id: str | None, entry_id: str | None) -> None:
    if external_id:
        other = db.scalar(select(DirectoryEntry).where(DirectoryEntry.external_id == external_id))
        if other is not None and other.id != entry_id:
            raise ValidationFailed(fields=[("external_id", "Another entry has this external id.")])


def create_entry(db: Session, values: dict[str, Any]) -> DirectoryEntry:
    checked, problems = rules.clean(values)
    _refuse(problems)
    _external_id_free(db, checked.get("external_id"), None)
    entry = DirectoryEntry(**checked)
    entry_values = {f: getattr(entry, f) for f in rules.FIELDS}
    for name, value in entry_derived({**entry_values, **checked}).items():
        setattr(entry, name, value)
    after = last_rowid(db)
    db.add(entry)
    db.flush()
    index_directory(db, after)
    webhooks.entry_created(db, entry)
    return entry


def update_entry(db: Session, entry: DirectoryEntry, values: dict[str, Any]) -> DirectoryEntry:
    checked, problems = rules.clean(values, partial=True)
    _refuse(problems)
    if "external_id" in checked:
        _external_id_free(db, checked["external_id"], entry.id)
    for name, value in checked.items():
        setattr(entry, name, value)
    for name, value in entry_derived({f: getattr(entry, f) for f in rules.FIELDS}).items():
        setattr(entry, name, value)
    webhooks.entry_updated(db, entry)
    db.flush()
    return entry


def delete_entry(db: Session, entry: DirectoryEntry) -> None:
    webhooks.entry_deleted(db, entry)
    db.delete(entry)
    db.flush()


MARKER = "directory:"  # a contact's external_id when it was copied from the directory


def engaged(db: Session, student: User, contact: Contact, kind: Engagement) -> None:
    """Note that a student went this far with an entry they copied from the directory (once
    per entry, student and kind)."""
    entry_id = (contact.external_id or "").removeprefix(MARKER)
    if not contact.external_id or entry_id == contact.external_id:
        return
    _engage(db, student, entry_id, kind)


def _engage(db: Session, student: User, entry_id: str, kind: Engagement) -> None:
    if db.get(DirectoryEntry, entry_id) is None or db.scalar(select(DirectoryEngagement.id).where(
            DirectoryEngagement.entry_id == entry_id, DirectoryEngagement.student_id == student.id,
            DirectoryEngagement.kind == kind)) is not None:
        return
    engagement = DirectoryEngagement(entry_id=entry_id, student_id=student.id, kind=kind,
                                     at=utcnow())
    db.add(engagement)
    webhooks.engaged(db, student, engagement)


def add_to_contacts(db: Session, user: User, entry: DirectoryEntry) -> tuple[Contact, bool]:
    """The entry as one of the student's contacts (source: alumni); once — a second time gives
    back the contact made the first time. Returns the contact and whether it is new."""
    _engage(db, user, entry.id, Engagement.added)
    marker = f"{MARKER}{entry.id}"
    existing = db.scalar(select(Contact).where(Contact.owner_id == user.id,
                                               Contact.external_id == marker))
    if existing is not None:
        return existing, False
    year = f", class of {entry.graduation_year}" if entry.graduation_year else ""
    degree = " ".join(p for p in (entry.degree, entry.major) if p)
    fields: dict[str, Any] = {
        "first_name": entry.first_name, "last_name": entry.last_name, "email": entry.email,
        "title": entry.title, "organization_name": entry.organization_name or None,
        "industry": entry.industry, "location": entry.location,
        "linkedin_url": entry.linkedin_url, "source": Source.alumni, "external_id": marker,
        "how_we_met": f"Alumni directory{year}{': ' + degree if degree else ''}."}
    try:
        data = ContactIn(**fields)
    except ValidationError as exc:  # a value the directory kept but contacts refuse: leave it out
        refused = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        data = ContactIn(**{k: v for k, v in fields.items() if k not in refused})
    existing_email = entry.email and db.scalar(select(Contact).where(
        Contact.owner_id == user.id, Contact.email_key == entry.email.lower()))
    if existing_email:  # already one of the student's contacts
        return existing_email, False
    return contacts.create_contact(db, user, data), True
