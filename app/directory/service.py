"""The rules of the alumni directory: staff write it, every student searches it, and a student
copies an entry into their own contacts. Students never see an entry that does not accept
requests, nor one that has had as many requests this month as it takes.

A deleted entry stays as a tombstone (its personal fields blanked, ``deleted_at`` set) that no
ordinary read shows; an integration's sync reads it to learn of the deletion."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from app.contacts import service as contacts
from app.contacts.schemas import ContactIn
from app.db import utcnow
from app.directory import rules
from app.errors import Forbidden, NotFound, ValidationFailed
from app.imports.writers import BLANK, entry_derived, fold, index_directory, last_rowid
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
    # Sync: rows changed before this moment only (see sync_until); tombstones too.
    until: datetime | None = None
    include_deleted: bool = False


# --- capacity: how many students may add an entry in a calendar month ---


def month_start(now: datetime | None = None) -> datetime:
    """The first moment of the current calendar month, in UTC."""
    return (now or utcnow()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _requests() -> Select[Any]:
    # One row per student and entry for each kind (a unique constraint), so counting rows
    # counts distinct students. Staff adding an entry to their own contacts take no place; a
    # student who since deleted their account (no student_id) still took one.
    return (select(func.count()).select_from(DirectoryEngagement)
            .outerjoin(User, User.id == DirectoryEngagement.student_id)
            .where(DirectoryEngagement.kind == Engagement.added,
                   DirectoryEngagement.at >= month_start(),
                   or_(DirectoryEngagement.student_id.is_(None), User.role == Role.student)))


def requests_this_month(db: Session, entry_ids: list[str]) -> dict[str, int]:
    """For each entry: the students who added it since the start of this month (UTC)."""
    counts = dict.fromkeys(entry_ids, 0)
    if entry_ids:
        stmt = (_requests().add_columns(DirectoryEngagement.entry_id)
                .where(DirectoryEngagement.entry_id.in_(entry_ids))
                .group_by(DirectoryEngagement.entry_id))
        counts.update({entry_id: n for n, entry_id in db.execute(stmt)})
    return counts


def is_full(db: Session, entry: DirectoryEntry) -> bool:
    return (entry.monthly_capacity is not None
            and requests_this_month(db, [entry.id])[entry.id] >= entry.monthly_capacity)


def _has_room() -> ColumnElement[bool]:
    taken = _requests().where(DirectoryEngagement.entry_id == DirectoryEntry.id).scalar_subquery()
    return or_(DirectoryEntry.monthly_capacity.is_(None), taken < DirectoryEntry.monthly_capacity)


def _visible(user: User, include_deleted: bool = False) -> list[ColumnElement[bool]]:
    shown: list[ColumnElement[bool]] = (
        [] if include_deleted else [DirectoryEntry.deleted_at.is_(None)])
    if not is_staff(user):
        shown += [DirectoryEntry.accepts_requests.is_(True), _has_room()]
    return shown


def get_entry(db: Session, user: User, entry_id: str, even_if_full: bool = False
              ) -> DirectoryEntry:
    """A live entry the user may see. ``even_if_full``: one a student would see but for this
    month's capacity (adding it again gives back their contact)."""
    entry = db.get(DirectoryEntry, entry_id)
    if entry is None or entry.deleted_at is not None or (not is_staff(user) and (
            not entry.accepts_requests or (not even_if_full and is_full(db, entry)))):
        raise NotFound("There is no directory entry with this id.")
    return entry


def find_by_external_id(db: Session, external_id: str) -> DirectoryEntry | None:
    """The entry with this external id, a tombstone included."""
    return db.scalar(select(DirectoryEntry).where(DirectoryEntry.external_id == external_id))


def sync_until(settle_seconds: float) -> datetime:
    """Where a sync read stops: changes made in the last ``settle_seconds`` are left for the
    next read, since a transaction that stamped a row a moment ago may not have committed it
    yet (its updated_at is earlier than rows already visible)."""
    return utcnow() - timedelta(seconds=settle_seconds)


def _matching(db: Session, q: str) -> Any:
    terms = re.findall(r"\w+", fold(q).lower())[:10]
    return contacts.prefix_match(db, "directory_entries", terms) if terms else None


def filtered(db: Session, user: User, f: Filters) -> Select[Any]:
    stmt = select(DirectoryEntry).where(*_visible(user, f.include_deleted))
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
    if f.until is not None:
        stmt = stmt.where(DirectoryEntry.updated_at < f.until)
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
        other = find_by_external_id(db, external_id)
        if other is not None and other.id != entry_id:
            message = ("A deleted entry keeps this external id: put an entry under it to bring "
                       "it back." if other.deleted_at else "Another entry has this external id.")
            raise ValidationFailed(fields=[("external_id", message)])


# What a tombstone keeps of the personal fields: nothing.
_BLANK: dict[str, Any] = {
    **dict.fromkeys(rules.LIMITS, ""), "email": None, "graduation_year": None,
    "accepts_requests": False, "monthly_capacity": None, "email_key": None, "sort_name": "",
    "search_text": ""}
del _BLANK["external_id"]


def create_entry(db: Session, values: dict[str, Any]) -> DirectoryEntry:
    """A new entry; under the external id of a tombstone, that entry comes back (same id)."""
    checked, problems = rules.clean(values)
    _refuse(problems)
    tombstone = checked.get("external_id") and find_by_external_id(db, checked["external_id"])
    if tombstone and tombstone.deleted_at is not None:
        return _revive(db, tombstone, checked)
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


def _revive(db: Session, entry: DirectoryEntry, checked: dict[str, Any]) -> DirectoryEntry:
    for name, value in {**BLANK, rules.CAPACITY: None, **checked}.items():
        setattr(entry, name, value)
    for name, value in entry_derived({f: getattr(entry, f) for f in rules.FIELDS}).items():
        setattr(entry, name, value)
    now = utcnow()
    entry.deleted_at = None
    entry.created_at = entry.updated_at = now
    db.flush()
    webhooks.entry_created(db, entry)
    return entry


def delete_entry(db: Session, entry: DirectoryEntry) -> None:
    """Leave a tombstone: the id, the external id and the moments; nothing about the person
    (so nothing to find in the full-text index either)."""
    for name, value in _BLANK.items():
        setattr(entry, name, value)
    entry.deleted_at = entry.updated_at = utcnow()
    webhooks.entry_deleted(db, entry)
    db.flush()


Result = Literal["created", "updated", "unchanged"]


def _changes(entry: DirectoryEntry, checked: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in checked.items() if getattr(entry, name) != value}


def upsert(db: Session, external_id: str, values: dict[str, Any]
           ) -> tuple[DirectoryEntry, Result]:
    """The entry under ``external_id`` with ``values``: created (or brought back from a
    tombstone), updated, or left alone when nothing differs (its version and updated_at stay).
    A field left out keeps its value."""
    values = {**values, "external_id": external_id}
    entry = find_by_external_id(db, external_id)
    if entry is None or entry.deleted_at is not None:
        return create_entry(db, values), "created"
    checked, problems = rules.clean(values, partial=True)
    _refuse(problems)
    changes = _changes(entry, checked)
    if not changes:
        return entry, "unchanged"
    return update_entry(db, entry, changes), "updated"


def upsert_batch(db: Session, items: list[dict[str, Any]]
                 ) -> list[tuple[DirectoryEntry, Result]]:
    """Every item (each with its external_id) upserted, or none: all are checked before the
    first is written, and a problem is named by the item's place (``items.3.email``)."""
    keys = [item["external_id"] for item in items]
    found: dict[str, DirectoryEntry] = {}
    for start in range(0, len(keys), 500):
        found.update((e.external_id, e) for e in db.scalars(select(DirectoryEntry).where(
            DirectoryEntry.external_id.in_(keys[start:start + 500]))) if e.external_id)
    problems: list[tuple[str, str]] = []
    first_place: dict[str, int] = {}
    checked_items: list[dict[str, Any]] = []
    for place, item in enumerate(items):
        key = item["external_id"]
        if key in first_place:
            problems.append((f"items.{place}.external_id",
                             f"Item {first_place[key]} has this external id too."))
        first_place.setdefault(key, place)
        live = found.get(key) is not None and found[key].deleted_at is None
        checked, wrong = rules.clean(item, partial=live)
        problems += [(f"items.{place}.{f}" if f else f"items.{place}", m) for f, _, m in wrong]
        checked_items.append(checked)
    if problems:
        raise ValidationFailed(fields=problems[:200])
    results: list[tuple[DirectoryEntry, Result]] = []
    for item, checked in zip(items, checked_items, strict=True):
        entry = found.get(item["external_id"])
        if entry is None or entry.deleted_at is not None:
            results.append((create_entry(db, item), "created"))
        elif changes := _changes(entry, checked):
            results.append((update_entry(db, entry, changes), "updated"))
        else:
            results.append((entry, "unchanged"))
    return results


MARKER = "directory:"  # a contact's external_id when it was copied from the directory


def engaged(db: Session, student: User, contact: Contact, kind: Engagement) -> None:
    """Note that a student went this far with an entry they copied from the directory (once
    per entry, student and kind)."""
    entry_id = (contact.external_id or "").removeprefix(MARKER)
    if not contact.external_id or entry_id == contact.external_id:
        return
    # Only after adding the entry from the directory: a contact given such an id by hand
    # counts for nothing.
    if _engagement(db, student, entry_id, Engagement.added) is not None:
        _engage(db, student, entry_id, kind)


def _engagement(db: Session, student: User, entry_id: str, kind: Engagement) -> str | None:
    return db.scalar(select(DirectoryEngagement.id).where(
        DirectoryEngagement.entry_id == entry_id, DirectoryEngagement.student_id == student.id,
        DirectoryEngagement.kind == kind))


def _engage(db: Session, student: User, entry_id: str, kind: Engagement) -> None:
    entry = db.get(DirectoryEntry, entry_id)
    if entry is None or entry.deleted_at is not None \
            or _engagement(db, student, entry_id, kind) is not None:
        return
    engagement = DirectoryEngagement(entry_id=entry_id, student_id=student.id, kind=kind,
                                     at=utcnow())
    db.add(engagement)
    webhooks.engaged(db, student, engagement)


def add_to_contacts(db: Session, user: User, entry: DirectoryEntry) -> tuple[Contact, bool]:
    """The entry as one of the student's contacts (source: alumni); once — a second time gives
    back the contact made the first time. Returns the contact and whether it is new.

    Once an entry has had its month's requests, only a student who already added it gets
    (their own copy) back; for anyone else it is not there."""
    marker = f"{MARKER}{entry.id}"
    if not is_staff(user) and is_full(db, entry):
        added = _engagement(db, user, entry.id, Engagement.added)
        copy = added and (_contact_with(db, user, Contact.external_id == marker)
                          or (entry.email and _contact_with(db, user, Contact.email_key
                                                            == entry.email.lower())))
        if not copy:
            raise NotFound("There is no directory entry with this id.")
        return copy, False
    _engage(db, user, entry.id, Engagement.added)
    existing = _contact_with(db, user, Contact.external_id == marker)
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
    existing_email = entry.email and _contact_with(db, user,
                                                   Contact.email_key == entry.email.lower())
    if existing_email:  # already one of the student's contacts
        return existing_email, False
    return contacts.create_contact(db, user, data), True


def _contact_with(db: Session, user: User, condition: ColumnElement[bool]) -> Contact | None:
    return db.scalar(select(Contact).where(Contact.owner_id == user.id, condition))
