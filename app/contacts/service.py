"""The rules of a student's contact file. Every query is scoped to the owner: another
student's ids are simply not found."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app import workflow
from app.contacts.schemas import ContactIn, ContactOut, ContactPatch, OrganizationIn, OrganizationPatch
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Contact, ContactEvent, ContactTag, Organization, Stage, User
from app.pagination import Order, page_rows, paginate
from app.schemas import in_utc

Sort = Literal["name", "updated", "next_action"]

SORTS: dict[str, list[Order]] = {
    "name": [Order(Contact.sort_name), Order(Contact.id)],
    "updated": [Order(Contact.updated_at, descending=True), Order(Contact.id, descending=True)],
    "next_action": [Order(Contact.next_action_at, nulls_last=True), Order(Contact.id)],
}

# Fields a timeline "edited" event names; the stage has its own event.
_TRACKED = ("first_name", "last_name", "email", "phone", "title", "organization_id", "industry",
            "location", "linkedin_url", "website", "source", "referred_by_id", "referrer_name",
            "how_we_met", "tags", "notes", "external_id", "next_action", "next_action_at")
_NOT_NULL_TEXT = {"last_name", "phone", "title", "industry", "location", "linkedin_url",
                  "website", "referrer_name", "how_we_met", "notes", "next_action"}


# --- organizations ---


def get_organization(db: Session, owner: User, organization_id: str) -> Organization:
    org = db.get(Organization, organization_id)
    if org is None or org.owner_id != owner.id:
        raise NotFound("There is no organization with this id.")
    return org


def _organization_named(db: Session, owner: User, name: str) -> Organization | None:
    return db.scalar(select(Organization).where(
        Organization.owner_id == owner.id, Organization.name_key == name.strip().lower()))


def find_or_create_organization(db: Session, owner: User, name: str) -> Organization:
    org = _organization_named(db, owner, name)
    if org is None:
        org = Organization(owner_id=owner.id, name=name.strip(), name_key=name.strip().lower())
        db.add(org)
        db.flush()
    return org


def _name_free(db: Session, owner: User, name: str, org_id: str | None = None) -> None:
    existing = _organization_named(db, owner, name)
    if existing is not None and existing.id != org_id:
        raise Conflict(f"You already have an organization named {existing.name} (id {existing.id}).",
                       code="organization_exists", fields=[("name", "You already have this one.")])


def create_organization(db: Session, owner: User, data: OrganizationIn) -> Organization:
    _name_free(db, owner, data.name)
    org = Organization(owner_id=owner.id, name_key=data.name.lower(), **data.model_dump())
    db.add(org)
    db.flush()
    return org


def update_organization(db: Session, owner: User, org: Organization,
                        changes: OrganizationPatch) -> Organization:
    values = changes.model_dump(exclude_unset=True)
    if values.get("name") is None:
        values.pop("name", None)
    else:
        _name_free(db, owner, values["name"], org.id)
        org.name_key = values["name"].lower()
    for field, value in values.items():
        setattr(org, field, "" if value is None else value)
    db.flush()
    if "name" in values:  # its contacts are found by the organization's name too
        for contact in db.scalars(select(Contact).where(Contact.organization_id == org.id)):
            _derive(contact)
    return org


def delete_organization(db: Session, org: Organization) -> None:
    contacts = list(db.scalars(select(Contact).where(Contact.organization_id == org.id)))
    db.delete(org)
    db.flush()
    for contact in contacts:
        db.refresh(contact)
        _derive(contact)


def list_organizations(db: Session, owner: User, limit: int, cursor: str | None,
                       ) -> tuple[list[Organization], str | None]:
    stmt = select(Organization).where(Organization.owner_id == owner.id)
    return paginate(db, stmt, [Order(Organization.name_key), Order(Organization.id)], limit, cursor)


def organization_contacts(db: Session, org: Organization) -> list[Contact]:
    return list(db.scalars(select(Contact).where(Contact.organization_id == org.id)
                           .order_by(Contact.sort_name, Contact.id)))


# --- contacts ---


def get_contact(db: Session, owner: User, contact_id: str) -> Contact:
    contact = db.get(Contact, contact_id)
    if contact is None or contact.owner_id != owner.id:
        raise NotFound("There is no contact with this id.")
    return contact


def derived(first_name: str, last_name: str, email: str | None, organization: str,
            title: str, notes: str, tags: list[str]) -> dict[str, Any]:
    """What is kept for sorting, uniqueness and search, from a contact's fields (the importer
    writes many contacts at once with it)."""
    parts = [first_name, last_name, email or "", organization, title, notes, *tags]
    if email:  # so "uni" finds maya@uni.edu on every database
        parts.append(re.sub(r"[@.+_-]", " ", email))
    return {"sort_name": f"{last_name} {first_name}".strip().lower()[:201],
            "email_key": email.lower() if email else None,
            "search_text": " ".join(p for p in parts if p)}


def _derive(contact: Contact) -> None:
    """Recompute what is kept for sorting, uniqueness and search from the contact's fields."""
    org = contact.organization.name if contact.organization else ""
    for field, value in derived(contact.first_name, contact.last_name, contact.email, org,
                                contact.title, contact.notes, contact.tags).items():
        setattr(contact, field, value)


def _email_free(db: Session, owner: User, email: str | None, contact_id: str | None) -> None:
    if not email:
        return
    existing = db.scalar(select(Contact).where(
        Contact.owner_id == owner.id, Contact.email_key == email.lower()))
    if existing is not None and existing.id != contact_id:
        raise Conflict(
            f"You already have a contact with this email: {existing.full_name} (id {existing.id}).",
            code="contact_exists", fields=[("email", f"Already used by {existing.full_name}.")],
        )


def _external_id_free(db: Session, owner: User, external_id: str | None,
                      contact_id: str | None) -> None:
    if not external_id:
        return
    existing = db.scalar(select(Contact.id).where(
        Contact.owner_id == owner.id, Contact.external_id == external_id))
    if existing is not None and existing != contact_id:
        raise Conflict(f"Another of your contacts (id {existing}) has this external_id.",
                       code="external_id_taken", fields=[("external_id", "Already used.")])


def _check_referrer(db: Session, owner: User, referred_by_id: str, contact_id: str | None) -> None:
    """The referrer must be one of the owner's contacts, and the chain may not loop."""
    referrer = get_contact(db, owner, referred_by_id)
    if referrer.id == contact_id:
        raise ValidationFailed(fields=[("referred_by_id", "A contact cannot refer themselves.")])
    seen: set[str] = set()
    node: Contact | None = referrer
    while node is not None and node.id not in seen:
        if node.id == contact_id:
            raise ValidationFailed(fields=[(
                "referred_by_id", "This would make a loop: this contact already referred them.")])
        seen.add(node.id)
        node = db.get(Contact, node.referred_by_id) if node.referred_by_id else None


def _set_tags(contact: Contact, tags: list[str]) -> None:
    keep = {row.tag: row for row in contact.tag_rows}
    contact.tag_rows = [keep.get(t) or ContactTag(tag=t, owner_id=contact.owner_id) for t in tags]


def _apply(db: Session, owner: User, contact: Contact, values: dict[str, Any]) -> None:
    if values.get("organization_id") and values.get("organization_name"):
        raise ValidationFailed(fields=[("organization_name",
                                        "Give organization_id or organization_name, not both.")])
    if "email" in values:
        _email_free(db, owner, values["email"], contact.id)
    if "external_id" in values:
        _external_id_free(db, owner, values["external_id"], contact.id)
    if values.get("referred_by_id"):
        _check_referrer(db, owner, values["referred_by_id"], contact.id)
    if "organization_name" in values:
        name = values.pop("organization_name")
        values["organization_id"] = find_or_create_organization(db, owner, name).id if name else None
    if values.get("organization_id"):
        contact.organization = get_organization(db, owner, values["organization_id"])
    elif "organization_id" in values:
        contact.organization = None
    if "tags" in values:
        _set_tags(contact, values.pop("tags"))
    if "next_action_at" in values:
        values["next_action_at"] = in_utc(values["next_action_at"], owner.timezone)
    for field, value in values.items():
        setattr(contact, field, "" if value is None and field in _NOT_NULL_TEXT else value)
    _derive(contact)


def record_event(db: Session, contact: Contact, kind: str, **data: Any) -> ContactEvent:
    """Put something on the contact's timeline. Other domains call this for their events."""
    event = ContactEvent(owner_id=contact.owner_id, contact_id=contact.id, kind=kind, data=data)
    db.add(event)
    return event


def create_contact(db: Session, owner: User, data: ContactIn) -> Contact:
    contact = Contact(owner_id=owner.id)
    contact.tag_rows = []
    # Every field gets its value (or default); the organization's name only when one was given.
    unnamed = {"organization_name"} if data.organization_name is None else None
    _apply(db, owner, contact, data.model_dump(exclude=unnamed))
    db.add(contact)
    db.flush()
    record_event(db, contact, "created", stage=contact.stage)
    db.flush()
    return contact


def _comparable(contact: Contact, field: str) -> Any:
    return contact.tags if field == "tags" else getattr(contact, field)


def update_contact(db: Session, owner: User, contact: Contact, changes: ContactPatch) -> Contact:
    values = changes.model_dump(exclude_unset=True)
    if "first_name" in values and not values["first_name"]:
        raise ValidationFailed(fields=[("first_name", "A contact needs a first name.")])
    stage = values.pop("stage", None)
    before = {field: _comparable(contact, field) for field in _TRACKED}
    _apply(db, owner, contact, values)
    db.flush()
    edited = [f for f in _TRACKED if _comparable(contact, f) != before[f]]
    if edited:
        record_event(db, contact, "edited", fields=edited)
    if stage is not None:  # by hand: the workflow records it and closes what it rules out
        workflow.set_stage(db, contact, Stage(stage))
    db.flush()
    return contact


def delete_contact(db: Session, contact: Contact) -> None:
    db.delete(contact)
    db.flush()


@dataclass
class ContactFilters:
    q: str | None = None
    stage: Stage | None = None
    source: str | None = None
    tag: str | None = None
    organization_id: str | None = None
    updated_since: datetime | None = None


def search_terms(q: str) -> list[str]:
    return re.findall(r"\w+", q.lower())[:10]


def prefix_match(db: Session, table: str, terms: list[str]) -> Any:
    """Rows of ``table`` whose document has every term as a word prefix, through the database's
    index: PostgreSQL's stored ``search_vector`` (to_tsvector('simple', search_text)), or
    SQLite's ``{table}_fts`` table, both made by the migrations. ``table`` is one of ours."""
    if db.get_bind().dialect.name == "postgresql":
        query = " & ".join(f"{t}:*" for t in terms)
        return literal_column(f"{table}.search_vector").op("@@")(
            func.to_tsquery(literal_column("'simple'"), query))
    fts = "directory_fts" if table == "directory_entries" else f"{table}_fts"
    match = " ".join(f'"{t}"*' for t in terms)
    return literal_column(f"{table}.rowid").in_(
        text(f"SELECT rowid FROM {fts} WHERE {fts} MATCH :{fts}_match")  # noqa: S608 - ours
        .bindparams(**{f"{fts}_match": match}))


def conditions(db: Session, owner: User, filters: ContactFilters) -> list[ColumnElement[bool]]:
    """Which of ``owner``'s contacts ``filters`` keep."""
    where: list[ColumnElement[bool]] = [Contact.owner_id == owner.id]
    if filters.organization_id:
        get_organization(db, owner, filters.organization_id)  # another's id: not found
        where.append(Contact.organization_id == filters.organization_id)
    if filters.stage:
        where.append(Contact.stage == filters.stage)
    if filters.source:
        where.append(Contact.source == filters.source)
    if filters.tag:
        where.append(exists().where(
            ContactTag.contact_id == Contact.id, ContactTag.tag == filters.tag))
    if filters.updated_since:
        where.append(Contact.updated_at >= filters.updated_since)
    terms = search_terms(filters.q or "")
    if terms:
        where.append(prefix_match(db, "contacts", terms))
    return where


def filtered(db: Session, owner: User, filters: ContactFilters) -> Select[Any]:
    return select(Contact).where(*conditions(db, owner, filters))


def list_contacts(db: Session, owner: User, filters: ContactFilters, sort: Sort, limit: int,
                  cursor: str | None) -> tuple[list[Contact], str | None]:
    # A search picks its page of ids first: on PostgreSQL that page comes from a covering
    # index of (owner, name) with the search vector, without visiting the table.
    searching = bool(search_terms(filters.q or ""))
    return paginate(db, filtered(db, owner, filters), SORTS[sort], limit, cursor,
                    ids_first=searching)


# --- contacts as the API shows them, read as rows ---
# A page of the list is one query: its rows with their organization's name and their tags (a
# search picks the page's ids first). They go out as they came, with no object made and no model
# checking what the database holds; tests/contacts/test_shown.py proves the JSON the same as
# ContactOut's.

_contacts = Contact.__table__
_organizations = Organization.__table__
_contact_tags = ContactTag.__table__

SHOWN = tuple(ContactOut.model_fields)  # the API's fields of a contact, in its order


def _tags_column(postgresql: bool) -> Any:
    """A contact's tags, gathered in its row. PostgreSQL orders them as the ORM's relationship
    does (by tag, in the database's collation); SQLite's JSON array is put in order by
    ``_shown``, as SQLite's own collation compares code points, like Python."""
    tag = _contact_tags.c.tag
    gather = (func.array_agg(aggregate_order_by(tag, tag)) if postgresql
              else func.json_group_array(tag))
    return select(gather).where(_contact_tags.c.contact_id == _contacts.c.id).scalar_subquery()


def _read(postgresql: bool) -> Select[Any]:
    """The shown fields in their order, then the one sort key that is not shown (a cursor is made
    of the keys) and the version (the ETag)."""
    columns = {name: _contacts.c[name] for name in SHOWN if name in _contacts.c}
    columns["organization_name"] = _organizations.c.name
    columns["tags"] = _tags_column(postgresql)
    return select(*(columns[name].label(name) for name in SHOWN), _contacts.c.sort_name,
                  _contacts.c.version).select_from(
        _contacts.outerjoin(_organizations, _organizations.c.id == _contacts.c.organization_id))


_READ = {False: _read(postgresql=False), True: _read(postgresql=True)}
_BY_IDS = {postgresql: read.where(_contacts.c.id.in_(bindparam("ids", expanding=True)))
           for postgresql, read in _READ.items()}
_ONE = {postgresql: read.where(_contacts.c.id == bindparam("id"),
                               _contacts.c.owner_id == bindparam("owner_id"))
        for postgresql, read in _READ.items()}


def _shown(rows: Sequence[Row[Any]], postgresql: bool) -> list[dict[str, Any]]:
    shown = [dict(zip(SHOWN, row, strict=False)) for row in rows]
    for contact in shown:
        tags = contact["tags"]
        contact["tags"] = (tags or []) if postgresql else sorted(orjson.loads(tags))
    return shown


def contact_page(db: Session, owner: User, filters: ContactFilters, sort: Sort, limit: int,
                 cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The page ``list_contacts`` gives, in the same order and with the same next cursor, as the
    API shows each contact (ContactOut's fields)."""
    connection = db.connection()
    postgresql = connection.dialect.name == "postgresql"
    where, order = conditions(db, owner, filters), SORTS[sort]
    if search_terms(filters.q or ""):
        # The page's ids first, from the keys alone (see list_contacts), then their rows.
        keys = select(*(key.column for key in order)).where(*where)
        picked, next_cursor = page_rows(connection, keys, order, limit, cursor)
        ids = [row.id for row in picked]
        found = {row.id: row for row in
                 connection.execute(_BY_IDS[postgresql], {"ids": ids}).fetchall()}
        rows: Sequence[Row[Any]] = [found[i] for i in ids]
    else:
        rows, next_cursor = page_rows(connection, _READ[postgresql].where(*where), order, limit,
                                      cursor)
    return _shown(rows, postgresql), next_cursor


def shown_contact(db: Session, owner: User, contact_id: str) -> tuple[dict[str, Any], int]:
    """One of ``owner``'s contacts as the API shows it, and its version; another's is not found."""
    connection = db.connection()
    postgresql = connection.dialect.name == "postgresql"
    row = connection.execute(_ONE[postgresql], {"id": contact_id, "owner_id": owner.id}).first()
    if row is None:
        raise NotFound("There is no contact with this id.")
    return _shown([row], postgresql)[0], row.version


def stage_counts(db: Session, owner: User) -> dict[str, int]:
    rows = db.execute(select(Contact.stage, func.count()).where(Contact.owner_id == owner.id)
                      .group_by(Contact.stage))
    counts = {stage.value: 0 for stage in Stage}
    counts.update({stage: n for stage, n in rows})
    return counts


@dataclass
class Column:
    stage: str
    contacts: list[Contact]
    count: int


def board(db: Session, owner: User, per_column: int = 30) -> list[Column]:
    """The stage board: each stage with its most recently touched contacts and its count."""
    counts = stage_counts(db, owner)
    return [
        Column(stage.value, list(db.scalars(
            select(Contact).where(Contact.owner_id == owner.id, Contact.stage == stage)
            .order_by(Contact.updated_at.desc(), Contact.id.desc()).limit(per_column))),
            counts[stage.value])
        for stage in Stage
    ]


def owner_tags(db: Session, owner: User) -> list[tuple[str, int]]:
    rows = db.execute(select(ContactTag.tag, func.count()).where(ContactTag.owner_id == owner.id)
                      .group_by(ContactTag.tag).order_by(func.count().desc(), ContactTag.tag)
                      .limit(30))
    return [(tag, n) for tag, n in rows]


# --- the timeline and the referral chain ---


def timeline(db: Session, contact: Contact, limit: int, cursor: str | None,
             ) -> tuple[list[ContactEvent], str | None]:
    stmt = select(ContactEvent).where(ContactEvent.contact_id == contact.id)
    return paginate(db, stmt, [Order(ContactEvent.id, descending=True)], limit, cursor)


_STAGE_WORDS = {"following_up": "following up"}
_FIELD_WORDS = {"organization_id": "organization", "referred_by_id": "referred by",
                "referrer_name": "referred by (name)", "linkedin_url": "LinkedIn",
                "next_action": "next step", "next_action_at": "next step date",
                "external_id": "external id", "source": "how you found them"}


def summarize(event: ContactEvent) -> str:
    data = event.data
    if event.kind == "created":
        return "Added to your contacts."
    if event.kind == "edited":
        names = [_FIELD_WORDS.get(f, f.replace("_", " ")) for f in data.get("fields", [])]
        return "Edited " + ", ".join(names) + "."
    if event.kind == "stage_changed":
        before, after = (_STAGE_WORDS.get(s, s) for s in (str(data["from"]), str(data["to"])))
        because = f" ({data['because']})" if data.get("because") else ""
        return f"Moved from {before} to {after}{because}."
    return str(data.get("summary") or event.kind.replace("_", " ").capitalize() + ".")


def referrer_choices(db: Session, contact: Contact, limit: int = 300) -> dict[str, str]:
    """Who could have referred this contact, for a menu: "" (nobody), then the owner's other
    contacts by name, always including the current referrer."""
    others = db.execute(select(Contact.id, Contact.first_name, Contact.last_name)
                        .where(Contact.owner_id == contact.owner_id, Contact.id != contact.id)
                        .order_by(Contact.sort_name, Contact.id).limit(limit))
    choices = {"": "Nobody (or only a name, below)"}
    choices.update({i: f"{first} {last}".strip() for i, first, last in others})
    current = db.get(Contact, contact.referred_by_id) if contact.referred_by_id else None
    if current is not None:
        choices.setdefault(current.id, current.full_name)
    return choices


@dataclass
class ReferralChain:
    """Who led to this contact (oldest first, starting with a free-text referrer if any)
    and whom this contact referred."""

    origin: str
    ancestors: list[Contact]
    referred: list[Contact]


def referral_chain(db: Session, contact: Contact) -> ReferralChain:
    ancestors: list[Contact] = []
    node = contact
    while node.referred_by_id and len(ancestors) < 25:
        parent = db.get(Contact, node.referred_by_id)
        if parent is None or parent.owner_id != contact.owner_id:
            break
        ancestors.insert(0, parent)
        node = parent
    origin = node.referrer_name
    referred = list(db.scalars(select(Contact).where(Contact.referred_by_id == contact.id)
                               .order_by(Contact.sort_name)))
    return ReferralChain(origin=origin, ancestors=ancestors, referred=referred)
