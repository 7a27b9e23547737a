"""Writing checked rows: matched to what is there (by external id, then email; a student's
contacts also by LinkedIn address), created, updated or left unchanged. A value the file leaves
empty never erases one that is there.

The directory's writer is built for a million rows: one query per batch to match, and one
statement per batch to insert, update and index. A student's contacts go through the contacts'
own rules (organizations, tags, timeline), row by row."""

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, bindparam, or_, select, text, update
from sqlalchemy.orm import Session

from app.contacts import service as contacts
from app.contacts.schemas import ContactIn, ContactPatch
from app.db import new_id, utcnow
from app.directory import rules
from app.errors import AppError
from app.models import Contact, DirectoryEntry, User

# Created, updated, unchanged, and the rows refused: (line, field, message, cells).
Counts = tuple[int, int, int, list[tuple[int, str, str, list[str]]]]


# A new entry before its values: every field empty (or none), accepting requests.
BLANK: dict[str, Any] = {**dict.fromkeys(rules.FIELDS, ""), "email": None, "external_id": None,
                         "graduation_year": None, "accepts_requests": True}


def linkedin_key(url: str | None) -> str | None:
    """A LinkedIn address without what varies: scheme, www, case, a trailing slash."""
    if not url:
        return None
    key = url.lower().split("://", 1)[-1].removeprefix("www.").rstrip("/")
    return key or None


def entry_derived(values: dict[str, Any]) -> dict[str, Any]:
    """What the directory keeps for matching, sorting and searching, from an entry's fields."""
    email = values.get("email")
    parts = [values.get(f) or "" for f in ("first_name", "last_name", "organization_name",
                                             "title", "industry", "major", "location")]
    return {
        "email_key": email.lower() if email else None,
        "sort_name": f"{values.get('last_name') or ''} {values['first_name']}".strip().lower()[:201],
        "search_text": fold(" ".join(p for p in parts if p)),
    }


def fold(text: str) -> str:
    """Text without accents ("José" → "Jose"), so a search for either finds both on every
    database (SQLite's index folds them itself; PostgreSQL's 'simple' one does not)."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def index_directory(db: Session, after_rowid: int) -> None:
    """SQLite: add entries inserted after ``after_rowid`` to the full-text index, in one
    statement (PostgreSQL keeps its search vector itself)."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("INSERT INTO directory_fts(rowid, search_text) SELECT rowid, search_text "
                        "FROM directory_entries WHERE rowid > :last"), {"last": after_rowid})


def last_rowid(db: Session) -> int:
    if db.get_bind().dialect.name != "sqlite":
        return 0
    return int(db.scalar(text("SELECT coalesce(max(rowid), 0) FROM directory_entries")) or 0)


class DirectoryWriter:
    """Batches of checked entries (dicts from ``rules.clean``) into the directory."""

    table: Table = DirectoryEntry.__table__  # type: ignore[assignment]
    columns = ("id", *rules.FIELDS, rules.CAPACITY, "deleted_at", "email_key", "sort_name",
               "search_text", "version", "created_at", "updated_at")

    def __init__(self, db: Session) -> None:
        self.db = db
        dialect = db.get_bind().dialect
        self.sqlite = dialect.name == "sqlite"
        # How this database stores a moment, as SQLAlchemy writes it (for the raw SQLite path).
        stamp = self.table.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        self.stamp: Any = stamp or (lambda moment: moment)
        if self.sqlite:
            # For this connection: a larger page cache (matching and indexing a batch read the
            # indexes again and again: 32 MB, not 2), and the log folded into the file less
            # often (each time is a disk flush).
            self._raw().execute("PRAGMA cache_size=-32768")
            self._raw().execute("PRAGMA wal_autocheckpoint=20000")

    def _existing(self, ids: set[str], emails: set[str]) -> list[dict[str, Any]]:
        t = self.table.c
        conditions = [c.in_(v) for c, v in ((t.external_id, ids), (t.email_key, emails)) if v]
        if not conditions:
            return []
        if not self.sqlite:
            return [dict(r) for r in self.db.execute(select(self.table).where(or_(*conditions)))
                    .mappings()]
        # One query per key, each through its own index (an OR of large IN lists would make
        # SQLite read the whole table).
        found: dict[str, dict[str, Any]] = {}
        select_all = f"SELECT {', '.join(self.columns)} FROM directory_entries WHERE "  # noqa: S608
        for column, values in (("external_id", ids), ("email_key", emails)):
            if values:
                cursor = self._raw().execute(
                    f"{select_all}{column} IN ({','.join('?' * len(values))})", list(values))
                for row in cursor:
                    found.setdefault(row[0], dict(zip(self.columns, row, strict=True)))
        return list(found.values())

    def _raw(self) -> Any:
        """The SQLite connection under the session, inside its transaction."""
        return self.db.connection().connection.driver_connection

    def finish(self) -> None:
        """Give the connection back as the rest of the app expects it."""
        if self.sqlite:
            self._raw().execute("PRAGMA cache_size=-2000")
            self._raw().execute("PRAGMA wal_autocheckpoint=1000")

    def write(self, batch: Sequence[tuple[int, dict[str, Any], list[str]]]) -> Counts:
        """Created, updated and unchanged counts for a batch of (line, entry values, cells)."""
        keys = [(e.get("external_id"), (e.get("email") or "").lower() or None)
                for _, e, _ in batch]
        by_id: dict[str, dict[str, Any]] = {}
        by_email: dict[str, dict[str, Any]] = {}

        def remember(row: dict[str, Any]) -> None:
            if row["external_id"] and row["external_id"] not in by_id:
                by_id[row["external_id"]] = row
            if row["email_key"] and row["email_key"] not in by_email:
                by_email[row["email_key"]] = row

        for existing in self._existing({k[0] for k in keys if k[0]}, {k[1] for k in keys if k[1]}):
            remember(existing)
        now = utcnow()
        # What a new row starts from; on SQLite its moments already in their stored form.
        stamp = self.stamp(now) if self.sqlite else now
        blank = {**BLANK, rules.CAPACITY: None, "deleted_at": None, "version": 1,
                 "created_at": stamp, "updated_at": stamp, "new": True}
        inserts: list[dict[str, Any]] = []
        changed: dict[str, dict[str, Any]] = {}
        unchanged = 0
        for (_, entry, _), (external_id, email_key) in zip(batch, keys, strict=True):
            match = (external_id and by_id.get(external_id)) or (email_key and by_email.get(email_key))
            if not match:
                row = blank.copy()
                row.update(entry)
                row.update(entry_derived(row))
                row["id"] = new_id()
                inserts.append(row)
                remember(row)
                continue
            if match["deleted_at"] is not None:  # a tombstone: the row brings the entry back
                match.update({k: v for k, v in BLANK.items() if k != "external_id"},
                             deleted_at=None)
            changes = {f: v for f, v in entry.items()
                       if v not in ("", None) and not _same(f, match.get(f), v)}
            if not changes:
                unchanged += 1
                continue
            match.update(changes)
            match.update(entry_derived(match))
            remember(match)  # under its new keys too, for the rest of the batch
            if not match.get("new"):
                changed[match["id"]] = match
        if inserts:
            self._insert(inserts)
        if changed:
            self._update(list(changed.values()), now)
        created = len(inserts)
        return created, len(batch) - created - unchanged, unchanged, []

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        after = last_rowid(self.db)
        if self.sqlite:
            values = itemgetter(*self.columns)
            self._raw().executemany(
                f"INSERT INTO directory_entries ({', '.join(self.columns)}) "  # noqa: S608
                f"VALUES ({', '.join('?' * len(self.columns))})", [values(r) for r in rows])
        else:
            self.db.execute(self.table.insert(), [{c: r[c] for c in self.columns} for r in rows])
        index_directory(self.db, after)

    def _update(self, rows: list[dict[str, Any]], now: datetime) -> None:
        t = self.table.c
        columns = [*rules.FIELDS, "email_key", "sort_name", "search_text"]
        self.db.execute(
            update(self.table).where(t.id == bindparam("v_id")).values(
                # What an import writes is live: a tombstone it matched comes back.
                {**{c: bindparam(f"v_{c}") for c in columns}, "version": t.version + 1,
                 "updated_at": now, "deleted_at": None}),
            [{"v_id": row["id"], **{f"v_{c}": row[c] for c in columns}} for row in rows])


def _same(field: str, old: Any, new: Any) -> bool:
    if field == "email" and old and new:
        return bool(old.lower() == new.lower())
    return bool(old == new)


class ContactsWriter:
    """Into one student's contacts, through the contacts' own rules."""

    def __init__(self, db: Session, owner: User) -> None:
        self.db, self.owner = db, owner
        mine = self.db.scalars(select(Contact).where(Contact.owner_id == owner.id)).all()
        self.by_id = {c.external_id: c for c in mine if c.external_id}
        self.by_email = {c.email_key: c for c in mine if c.email_key}
        self.by_link = {k: c for c in mine if (k := linkedin_key(c.linkedin_url))}
        self.by_name = {c.full_name.lower(): c for c in mine}

    def write(self, batch: Sequence[tuple[int, Any, list[str]]]) -> Counts:
        created = updated = unchanged = 0
        refused: list[tuple[int, str, str, list[str]]] = []
        for line, data, cells in batch:
            assert isinstance(data, ContactIn)
            match = ((data.external_id and self.by_id.get(data.external_id))
                     or (data.email and self.by_email.get(data.email.lower()))
                     or self.by_link.get(linkedin_key(data.linkedin_url) or "")
                     # by name only a row that has nothing more particular to go by
                     or (not (data.email or data.linkedin_url or data.external_id)
                         and self.by_name.get(
                             f"{data.first_name} {data.last_name}".strip().lower())))
            try:
                if not match:
                    contact = contacts.create_contact(self.db, self.owner, data)
                    created += 1
                else:
                    given = data.model_dump(include=data.model_fields_set)
                    changes = {f: v for f, v in given.items()
                               if not _same(f, _value(match, f), v)}
                    if not changes:
                        unchanged += 1
                        continue
                    contact = contacts.update_contact(self.db, self.owner, match,
                                                      ContactPatch(**changes))
                    updated += 1
            except AppError as exc:  # refused by the contacts' rules before anything is written
                field, message = exc.fields[0] if exc.fields else ("", exc.detail)
                refused.append((line, field, message, cells))
                continue
            self._remember(contact)
        return created, updated, unchanged, refused

    def finish(self) -> None:
        pass

    def _remember(self, contact: Contact) -> None:
        for index, key in ((self.by_id, contact.external_id), (self.by_email, contact.email_key),
                           (self.by_link, linkedin_key(contact.linkedin_url)),
                           (self.by_name, contact.full_name.lower())):
            if key:
                index[key] = contact


def _value(contact: Contact, field: str) -> Any:
    if field == "tags":
        return contact.tags
    if field == "organization_name":
        return contact.organization_name
    return getattr(contact, field)
