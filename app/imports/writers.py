"""Writing checked rows: matched to what is there (by external id, then email; a student's
contacts also by LinkedIn address), created, updated or left unchanged. A value the file leaves
empty never erases one that is there.

The directory's writer is built for a million rows: one query per batch to match, and one
statement per batch to insert, update and index. A student's contacts are matched in memory and
their new contacts written a batch at a time the same way; a contact a row changes is updated
through the contacts' own rules (organizations, tags, timeline)."""

import json
import re
import sqlite3
import threading
import unicodedata
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from itertools import compress, repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.orm import Session

from app.contacts import service as contacts
from app.contacts.schemas import ContactIn, ContactPatch
from app.contacts.service import derived
from app.db import begin_reading, new_ids, utcnow
from app.directory import rules
from app.imports.rows import profile_key
from app.models import Contact, ContactTag, DirectoryEntry, Organization, Stage, User
from app.schemas import in_utc

# Created, updated, unchanged, the rows refused: (line, field, message, cells), and the rows
# in conflict with a contact of another name.
Counts = tuple[int, int, int, list[tuple[int, str, str, list[str]]], list["Conflict"]]


# A new entry before its values: every field empty (or none), accepting requests.
BLANK: dict[str, Any] = {**dict.fromkeys(rules.FIELDS, ""), "email": None, "external_id": None,
                         "graduation_year": None, "accepts_requests": True}


STAMP = re.compile(r"[0-9: .-]+")


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


class WrittenKeys:
    """The keys a first load has written, as a bitmap of their hashes. Into an empty directory,
    with no one else writing, a key whose bit is not set is in no entry: it need not be looked
    up. A set bit may be another key's; that key is looked up."""

    SIZE = 1 << 24  # 16 MB: at a million entries (two keys each) one key in eight is looked up

    def __init__(self) -> None:
        self.bits = bytearray(self.SIZE)

    def codes(self, keys: Iterable[str]) -> list[int]:
        """The keys' places in the bitmap."""
        return list(map((self.SIZE - 1).__and__, map(hash, keys)))

    def maybe(self, keys: list[str], codes: list[int]) -> set[str]:
        """The keys that may have been written (``codes`` are theirs)."""
        if len(codes) < 2:  # itemgetter gives one value, not a tuple, for one place
            return {k for k, c in zip(keys, codes, strict=True) if self.bits[c]}
        return set(compress(keys, itemgetter(*codes)(self.bits)))

    def add(self, codes: list[int]) -> None:
        deque(map(self.bits.__setitem__, codes, repeat(1)), maxlen=0)


class LogFolder:
    """An importing writer's SQLite connection, set for many rows: a larger page cache
    (matching and indexing a batch read the indexes again and again: 16 MB, not 2), and the
    write-ahead log folded into the database file (a checkpoint) after each commit on a
    connection and a thread of their own, instead of by whichever connection commits next (an
    import's log would make another student's small write pay for it). The import goes on
    writing meanwhile, and SQLite does this work outside Python's lock, on another processor.
    Nothing is set on other databases, or for a dry run."""

    def __init__(self, db: Session, dry_run: bool) -> None:
        self.db = db
        self.sqlite = db.get_bind().dialect.name == "sqlite"
        path = db.get_bind().engine.url.database
        self.path = path if self.sqlite and not dry_run and path not in {None, "", ":memory:"} \
            else None
        self.wake = threading.Event()
        self.stopping = False
        # Started at the first commit (after the file's reader has been forked, so that no
        # thread of this process is copied into it).
        self.thread: threading.Thread | None = None
        if self.sqlite:
            self._pragmas(cache_size=-16384, wal_autocheckpoint=0 if self.path else 1000)

    def _pragmas(self, **values: int) -> None:
        raw = self.db.connection().connection.driver_connection
        assert raw is not None
        for name, value in values.items():
            raw.execute(f"PRAGMA {name}={int(value)}")

    def committed(self) -> None:
        if not self.path:
            return
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, args=(self.path,),
                                           name="import-checkpoint", daemon=True)
            self.thread.start()
        self.wake.set()

    def _run(self, path: str) -> None:
        with closing(sqlite3.connect(path)) as connection:
            while self.wake.wait() and not self.stopping:
                self.wake.clear()
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def stop(self) -> None:
        """The connection back as the rest of the app expects it."""
        if self.thread is not None:
            self.stopping = True
            self.wake.set()
            self.thread.join()
        if self.sqlite:
            self._pragmas(cache_size=-2000, wal_autocheckpoint=1000)


class DirectoryWriter:
    """Batches of checked entries into the directory. An entry comes as a tuple of
    ``ENTRY`` (from ``prepare``, which can run in another process); the writer adds the rest."""

    table: Table = DirectoryEntry.__table__  # type: ignore[assignment]
    ENTRY = ("id", *rules.FIELDS, "email_key", "sort_name", "search_text")
    columns = (*ENTRY, rules.CAPACITY, "deleted_at", "version", "created_at", "updated_at")
    EXTERNAL_ID, EMAIL_KEY = ENTRY.index("external_id"), ENTRY.index("email_key")
    # A value a row leaves out: empty text, except accepts_requests (left as it is when the
    # entry exists, yes when it is new) and the fields that may be null.
    NOT_NULL = tuple(f for f in rules.LIMITS if f not in rules.NULLABLE)

    # Of the directory's indexes, the one in name order costs a large first load the most (each
    # new entry lands on a page at random) and is no help to an import: into an empty directory,
    # it is built after the rows, in one sorted pass.
    DEFERRED = "ix_directory_entries_sort_name_id"

    def __init__(self, db: Session, dry_run: bool = False) -> None:
        self.db = db
        self.dry_run = dry_run
        self.indexed: int | None = None  # the last row in the search index, while some are not
        dialect = db.get_bind().dialect
        self.sqlite = dialect.name == "sqlite"
        self.deferred = next(i for i in self.table.indexes if i.name == self.DEFERRED)
        self.written: WrittenKeys | None = None  # on a first load
        if self.sqlite and not dry_run:
            self.version = self._data_version()  # read first: a later change shows
            if db.scalar(text("SELECT 1 FROM directory_entries LIMIT 1")) is None:
                self.deferred.drop(db.connection(), checkfirst=True)
                self.written = WrittenKeys()
        # How this database stores a moment, as SQLAlchemy writes it (for the raw SQLite path).
        stamp = self.table.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        self.stamp: Any = stamp or (lambda moment: moment)
        self.folder = LogFolder(db, dry_run)

    @classmethod
    def prepare(cls, columns: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
        """Entries from checked columns (``rows.check_directory``): with their ids and what
        is derived from their fields, as ``entry_derived`` derives it."""
        for name in cls.NOT_NULL:
            columns[name] = [x or "" for x in columns[name]]
        first, last = columns["first_name"], columns["last_name"]
        texts = [" ".join(filter(None, parts)) for parts in zip(
            first, last, columns["organization_name"], columns["title"], columns["industry"],
            columns["major"], columns["location"], strict=True)]
        derived = {
            "id": new_ids(len(first)),
            "email_key": [e.lower() if e else None for e in columns["email"]],
            "sort_name": [f"{b} {a}".strip().lower()[:201] for a, b in zip(first, last, strict=True)],
            "search_text": [t if t.isascii() else fold(t) for t in texts],
        }
        return list(zip(*(derived[name] if name in derived else columns[name]
                          for name in cls.ENTRY), strict=True))

    def plan(self, columns: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
        """What ``write`` takes (the directory's rows are matched as they are written)."""
        return self.prepare(columns)

    def _existing(self, ids: set[str], emails: set[str]) -> list[dict[str, Any]]:
        """The stored entries with one of these external ids or email keys: one query per key,
        each through its own index (an OR of the two would read the whole table)."""
        found: dict[str, dict[str, Any]] = {}
        select_all = f"SELECT {', '.join(self.columns)} FROM directory_entries WHERE "  # noqa: S608
        for column, values in (("external_id", ids), ("email_key", emails)):
            if not values:
                continue
            cursor = self._raw().execute(
                f"{select_all}{column} IN ({','.join('?' * len(values))})", list(values)
            ) if self.sqlite else self._raw().execute(f"{select_all}{column} = ANY(%s)",
                                                      [list(values)])
            for row in cursor:
                found.setdefault(row[0], dict(zip(self.columns, row, strict=True)))
        return list(found.values())

    def _data_version(self) -> int:
        """A number that changes when another connection commits to the database."""
        return int(self._raw().execute("PRAGMA data_version").fetchone()[0])

    def _raw(self) -> Any:
        """The driver's connection under the session, inside its transaction."""
        return self.db.connection().connection.driver_connection

    def finish(self) -> None:
        """Give the connection back as the rest of the app expects it, with every index (one
        that an earlier import, stopped half-way, left to build is built now)."""
        self.folder.stop()
        if self.sqlite and not self.dry_run:
            self.deferred.create(self.db.connection(), checkfirst=True)
            self.db.commit()

    def write(self, batch: Sequence[tuple[Any, ...]]) -> Counts:
        """Created, updated and unchanged counts for a batch of entries (from ``prepare``).

        Most rows of a large file share no key with any other row or any stored entry: they
        are inserted as they are. The others are matched one by one, in the file's order."""
        ids = [e[self.EXTERNAL_ID] for e in batch if e[self.EXTERNAL_ID]]
        emails = [e[self.EMAIL_KEY] for e in batch if e[self.EMAIL_KEY]]
        if self.written and self._data_version() != self.version:
            self.written = None  # someone else wrote to the database: look every key up
        if self.written:
            id_codes, email_codes = self.written.codes(ids), self.written.codes(emails)
            existing = self._existing(self.written.maybe(ids, id_codes),
                                      self.written.maybe(emails, email_codes))
        else:
            existing = self._existing(set(ids), set(emails))
        # Keys some other row or entry has too: those rows are matched one by one.
        shared_ids = {k for k, n in Counter(ids).items() if n > 1}
        shared_ids.update(r["external_id"] for r in existing if r["external_id"])
        shared_emails = {k for k, n in Counter(emails).items() if n > 1}
        shared_emails.update(r["email_key"] for r in existing if r["email_key"])
        now = utcnow()
        x, e = self.EXTERNAL_ID, self.EMAIL_KEY
        matched = [v for v in batch if v[x] in shared_ids or v[e] in shared_emails] \
            if shared_ids or shared_emails else []
        inserts = [v for v in batch if v[x] not in shared_ids and v[e] not in shared_emails] \
            if matched else list(batch)
        unchanged = 0
        if matched:
            new, changed, unchanged = self._match(matched, existing)
            inserts.extend(new)
            if changed:
                self._update(changed, now)
        if inserts:
            self._insert(inserts, now)
        if self.written:  # every key of the batch is now some entry's (or was already)
            self.written.add(id_codes)
            self.written.add(email_codes)
        created = len(inserts)
        return created, len(batch) - created - unchanged, unchanged, [], []

    def _match(self, batch: list[tuple[Any, ...]], existing: list[dict[str, Any]]
               ) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]], int]:
        """Rows that share a key with a stored entry or with each other, in order: the new
        entries, the stored entries changed, and how many rows changed nothing."""
        by_id: dict[str, dict[str, Any]] = {}
        by_email: dict[str, dict[str, Any]] = {}

        def remember(row: dict[str, Any]) -> None:
            if row["external_id"] and row["external_id"] not in by_id:
                by_id[row["external_id"]] = row
            if row["email_key"] and row["email_key"] not in by_email:
                by_email[row["email_key"]] = row

        for row in existing:
            remember(row)
        created: dict[str, dict[str, Any]] = {}
        changed: dict[str, dict[str, Any]] = {}
        unchanged = 0
        for values in batch:
            external_id, email_key = values[self.EXTERNAL_ID], values[self.EMAIL_KEY]
            match = (external_id and by_id.get(external_id)) or (email_key and by_email.get(email_key))
            if not match:
                row = dict(zip(self.ENTRY, values, strict=True), deleted_at=None)
                if row["accepts_requests"] is None:
                    row["accepts_requests"] = True
                created[row["id"]] = row
                remember(row)
                continue
            # What the row gives: a field it leaves empty never erases one that is there.
            entry = {f: v for f, v in zip(self.ENTRY, values, strict=True)
                     if f in rules.FIELDS and v not in ("", None)}
            if match["deleted_at"] is not None:  # a tombstone: the row brings the entry back
                match.update({k: v for k, v in BLANK.items() if k != "external_id"},
                             deleted_at=None)
            changes = {f: v for f, v in entry.items() if not _same(f, match.get(f), v)}
            if not changes:
                unchanged += 1
                continue
            match.update(changes)
            match.update(entry_derived(match))
            remember(match)  # under its new keys too, for the rest of the batch
            if match["id"] not in created:
                changed[match["id"]] = match
        return ([tuple(row[c] for c in self.ENTRY) for row in created.values()],
                list(changed.values()), unchanged)

    def commit(self) -> None:
        """Make what was written since the last time last (a dry run's stays pending): the new
        entries go into the search index, at once, then the log is folded into the file."""
        if self.indexed is not None:
            index_directory(self.db, self.indexed)
            self.indexed = None
        if not self.dry_run:
            self.db.commit()
            self.folder.committed()

    def _insert(self, rows: list[tuple[Any, ...]], now: datetime) -> None:
        """New entries (tuples of ``ENTRY``); what every new entry shares is written by the
        statement itself, not bound row by row."""
        if self.indexed is None:
            self.indexed = last_rowid(self.db)
        columns = f"{', '.join(self.ENTRY)}, version, created_at, updated_at"
        if not self.sqlite:  # PostgreSQL takes rows fastest as a copy
            accepts = self.ENTRY.index("accepts_requests")
            with self._raw().cursor() as cursor, cursor.copy(
                    f"COPY directory_entries ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row[:accepts], row[accepts] is not False,
                                    *row[accepts + 1:], 1, now, now))
            return
        stamp = self.stamp(now)
        assert STAMP.fullmatch(stamp)  # digits and separators: safe as a literal
        marks = ", ".join("coalesce(?, 1)" if c == "accepts_requests" else "?" for c in self.ENTRY)
        self._raw().executemany(f"INSERT INTO directory_entries ({columns}) "  # noqa: S608
                                f"VALUES ({marks}, 1, '{stamp}', '{stamp}')", rows)

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


# Checked rows: line, every field's value, the fields the row gave, cells.
Checked = list[tuple[int, dict[str, Any], list[str], list[str]]]


# A plan for a batch (``ContactsWriter.plan``): the counts and conflicts, then what to write,
# as plain values (it crosses a pipe from the reading process): new organizations (id, name,
# key), new contacts (their columns in ``ContactsWriter.COLUMNS`` order), their tags, their
# first timeline lines and the changes to contacts already written (contact id, changed
# fields; a moment as ISO text).
Plan = tuple[int, int, int, list["Conflict"], list[tuple[str, str, str]], list[tuple[Any, ...]],
             list[tuple[str, str, str]], list[tuple[str, str, str, str, str, Any]],
             list[tuple[str, dict[str, Any]]]]


class ContactsWriter:
    """Into one student's contacts, a batch at a time, as the contacts' own rules would write
    them one by one: new contacts, their organizations (found or created), tags and first
    timeline line go in with one statement each per batch; a contact a row changes is updated
    through the contacts' own rules (its timeline says what changed).

    ``plan`` matches a batch's rows in memory against what the student has (read once, when
    the writer is made): by external id, then email, then LinkedIn profile, and by name only a
    row with none of those. A row matched by a key whose contact has a clearly different name
    changes nothing: it is a conflict. It runs where the file is read (a process of its own for
    a large file, forked after the writer is made, so it knows what the writer read), and
    ``write`` only writes what it planned. A dry run writes nothing at all (and so takes no
    write lock)."""

    # The fields stored as they are (the organization and tags have tables of their own), and
    # with those two every field a row gives.
    STORED = tuple(f for f in ContactIn.model_fields
                   if f not in {"organization_id", "referred_by_id", "organization_name", "tags"})
    FIELDS = (*STORED, "organization_name", "tags")
    WHEN = STORED.index("next_action_at")
    COLUMNS = (*STORED, "sort_name", "email_key", "search_text", "id", "owner_id", "version",
               "organization_id", "created_at", "updated_at")

    def __init__(self, db: Session, owner: User, dry_run: bool = False) -> None:
        self.db, self.owner, self.dry_run = db, owner, dry_run
        # What the student has is read without the write lock (a dry run only ever reads).
        begin_reading(db)
        self.folder = LogFolder(db, dry_run)
        dialect = db.get_bind().dialect
        self.sqlite = dialect.name == "sqlite"
        # A moment as plain text, as this database takes it: SQLAlchemy's own conversion for
        # SQLite; ISO text in UTC for PostgreSQL's COPY.
        convert = Contact.__table__.c.next_action_at.type.dialect_impl(dialect).bind_processor(dialect)
        self.moment: Any = convert if self.sqlite and convert else \
            (lambda moment: moment and moment.astimezone(UTC).isoformat())
        self.trigger: str | None = None  # SQLite's search index trigger, as the database has it
        self.by_id: dict[str, str] = {}
        self.by_email: dict[str, str] = {}
        self.by_link: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        self.state: dict[str, dict[str, Any]] = {}  # contact id → its comparable fields
        # The batch's new contacts (not yet written) and their first timeline line's id, and
        # whether their values are still as their row gave them (with no moment).
        self.new: dict[str, tuple[str, bool]] = {}
        c = Contact.__table__.c
        stored = [getattr(c, f) for f in self.FIELDS if f in c]
        for row in db.execute(select(c.id, Organization.name.label("organization_name"), *stored)
                              .outerjoin(Organization, Organization.id == c.organization_id)
                              .where(c.owner_id == owner.id)).mappings():
            state = dict(row)
            state["tags"] = []
            self._remember(state.pop("id"), state, profile_key(state["linkedin_url"]))
        for contact_id, tag in db.execute(select(ContactTag.contact_id, ContactTag.tag)
                                          .where(ContactTag.owner_id == owner.id)
                                          .order_by(ContactTag.contact_id, ContactTag.tag)):
            self.state[contact_id]["tags"].append(tag)
        # The student's organizations by their key: id and name; and those the batch being
        # planned makes.
        self.created_organizations: list[tuple[str, str, str]] = []
        self.organizations = {key: (org_id, name) for key, org_id, name in db.execute(
            select(Organization.name_key, Organization.id, Organization.name)
            .where(Organization.owner_id == owner.id))}
        if not dry_run:
            db.commit()  # each batch then holds the write lock while it writes, and only then

    def _remember(self, contact_id: str, state: dict[str, Any], link: str | None) -> None:
        """Know a contact by its keys (``link``: its LinkedIn key)."""
        self.state[contact_id] = state
        for index, key in ((self.by_id, state["external_id"]),
                           (self.by_email, (state["email"] or "").lower()), (self.by_link, link),
                           (self.by_name, full_name(state).lower())):
            if key:
                index[key] = contact_id

    def _match(self, values: dict[str, Any], link: str | None) -> tuple[str | None, str]:
        """The contact a row is about, and the key that says so ("" for a name)."""
        for field, index, key in (("external_id", self.by_id, values["external_id"]),
                                  ("email", self.by_email, (values["email"] or "").lower()),
                                  ("linkedin_url", self.by_link, link)):
            if key and key in index:
                return index[key], field
        if values["external_id"] or values["email"] or link:
            return None, ""
        return self.by_name.get(full_name(values).lower()), ""

    def plan(self, checked: Checked) -> Plan:
        """What a batch of checked rows does to the student's contacts, as ``write`` takes it."""
        created = updated = unchanged = 0
        conflicts: list[Conflict] = []
        changed: dict[str, dict[str, Any]] = {}
        self.created_organizations = []
        zone = self.owner.timezone
        ids = iter(new_ids(2 * len(checked)))
        for line, values, given, cells in checked:
            if values["next_action_at"] is not None:  # as JSON gives it
                values["next_action_at"] = in_utc(datetime.fromisoformat(values["next_action_at"]), zone)
            link = profile_key(values["linkedin_url"])
            contact_id, key = self._match(values, link)
            if contact_id is None:
                contact_id = next(ids)
                self.new[contact_id] = (next(ids), values["next_action_at"] is None)
                self._remember(contact_id, values, link)
                created += 1
                continue
            state = self.state[contact_id]
            if key and not same_person(state, values):
                conflicts.append(_conflict(line, key, values[key], contact_id, state, values, cells))
                continue
            changes = {f: values[f] for f in given if not _same(f, state.get(f), values[f])}
            if not changes:
                unchanged += 1
                continue
            state.update(changes)
            if "organization_name" in changes:  # as the contact's rules will name it
                state["organization_name"] = self._organization(changes["organization_name"])[1]
            self._remember(contact_id, state, profile_key(state["linkedin_url"]))  # its new keys
            if contact_id in self.new:  # a new one is written once, as it ends up
                self.new[contact_id] = (self.new[contact_id][0], False)
            else:
                changed.setdefault(contact_id, {}).update(changes)
            updated += 1
        new_contacts, tags, events = self._new_contacts()
        self.new.clear()
        return (created, updated, unchanged, conflicts, self.created_organizations, new_contacts,
                tags, events, [(contact_id, {f: v.isoformat() if isinstance(v, datetime) else v
                                             for f, v in fields.items()})
                               for contact_id, fields in changed.items()])

    def _organization(self, name: str | None) -> tuple[str | None, str | None]:
        """The id and name of the student's organization of this name, made (to be written
        with the batch) when they have none."""
        name = (name or "").strip()
        if not name:
            return None, None
        key = name.lower()
        if key not in self.organizations:
            self.organizations[key] = (new_ids(1)[0], name)
            self.created_organizations.append((self.organizations[key][0], name, key))
        return self.organizations[key]

    def _new_contacts(self) -> tuple[list[tuple[Any, ...]], list[tuple[str, str, str]],
                                     list[tuple[str, str, str, str, str, Any]]]:
        """The batch's new contacts as rows, their tags and their first timeline lines."""
        owner, now = self.owner.id, self.moment(utcnow())
        contacts: list[tuple[Any, ...]] = []
        tags: list[tuple[str, str, str]] = []
        events: list[tuple[str, str, str, str, str, Any]] = []
        as_given = itemgetter(*self.STORED)
        for contact_id, (event_id, as_checked) in self.new.items():
            state = self.state[contact_id]
            org_id, org_name = self._organization(state["organization_name"])
            if as_checked:  # every text field is text
                row = as_given(state)
            else:
                values = [state[f] if state[f] is not None or f not in NOT_NULL_TEXT else ""
                          for f in self.STORED]
                values[self.WHEN] = self.moment(values[self.WHEN])
                row = tuple(values)
            made = derived(state["first_name"], state["last_name"], state["email"],
                           org_name or "", state["title"], state["notes"], state["tags"])
            contacts.append((*row, made["sort_name"], made["email_key"], made["search_text"],
                             contact_id, owner, 1, org_id, now, now))
            tags.extend((contact_id, t, owner) for t in state["tags"])
            events.append((event_id, owner, contact_id, "created", CREATED[state["stage"]], now))
        return contacts, tags, events

    def write(self, plan: Plan) -> Counts:
        """A batch as ``plan`` planned it: one statement per table, through the driver (as the
        directory's writer does); then the contacts it changes, one at a time."""
        (created, updated, unchanged, conflicts, organizations, new_contacts, tags, events,
         changes) = plan
        if self.dry_run:
            return created, updated, unchanged, [], conflicts
        now = self.moment(utcnow())
        owner = self.owner.id
        if organizations:
            self._insert("organizations", ("id", "name", "name_key", "owner_id", "website",
                                           "industry", "research_notes", "version", "created_at",
                                           "updated_at"),
                         [(*org, owner, "", "", "", 1, now, now) for org in organizations])
        if new_contacts:
            with self._indexed_after():
                self._insert("contacts", self.COLUMNS, new_contacts)
            if tags:
                self._insert("contact_tags", ("contact_id", "tag", "owner_id"), tags)
            self._insert("contact_events", ("id", "owner_id", "contact_id", "kind", "data", "at"),
                         events)
        for contact_id, fields in changes:
            contact = self.db.get(Contact, contact_id)
            assert contact is not None
            contacts.update_contact(self.db, self.owner, contact, ContactPatch(**fields))
        return created, updated, unchanged, [], conflicts

    def _insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Rows into one of our tables: SQLite's executemany, PostgreSQL's COPY (its fastest)."""
        raw: Any = self.db.connection().connection.driver_connection
        if self.sqlite:
            raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - ours
                            f"VALUES ({', '.join('?' * len(columns))})", rows)
            return
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def _indexed_after(self) -> Iterator[None]:
        """SQLite: the new contacts go into the search index in one statement after they are
        inserted, not one by one through the insert trigger (each of those makes the index
        write out what it holds: twenty times slower). The trigger is put back, as the
        database defines it, in the same transaction: no other connection sees it missing."""
        if not self.sqlite:
            yield
            return
        if self.trigger is None:
            self.trigger = self.db.scalar(text("SELECT sql FROM sqlite_master WHERE type = "
                                               "'trigger' AND name = 'contacts_fts_insert'"))
        last = self.db.scalar(text("SELECT coalesce(max(rowid), 0) FROM contacts"))
        self.db.execute(text("DROP TRIGGER contacts_fts_insert"))
        yield
        self.db.execute(text("INSERT INTO contacts_fts(rowid, search_text) SELECT rowid, "
                             "search_text FROM contacts WHERE rowid > :last"), {"last": last})
        self.db.execute(text(self.trigger))

    def commit(self) -> None:
        if not self.dry_run:
            self.db.commit()
            self.folder.committed()

    def finish(self) -> None:
        self.folder.stop()


# The timeline's first line of a contact in each stage, as stored.
CREATED = {stage.value: json.dumps({"stage": stage.value}) for stage in Stage}
# A conflict: (line, key, key's value, message, cells, about).
Conflict = tuple[int, str, str, str, list[str], dict[str, str]]
NOT_NULL_TEXT = {"last_name", "phone", "title", "industry", "location", "linkedin_url", "website",
                 "referrer_name", "how_we_met", "notes", "next_action"}
KEY_NAMES = {"external_id": "external id", "email": "email address", "linkedin_url": "LinkedIn address"}


def full_name(values: dict[str, Any]) -> str:
    return f"{values['first_name']} {values['last_name'] or ''}".strip()


def _words(values: dict[str, Any]) -> set[str]:
    return {w for w in re.findall(r"\w+", fold(full_name(values)).lower()) if len(w) > 1}


def same_person(stored: dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether two names may be one person's: they share a word ("Sam Rivera", "Samuel
    Rivera"; "Jane Doe", "Jane Smith" after a marriage), or one of them is no real name (a
    contact named after their email address). Only names with nothing in common conflict."""
    first, second = _words(stored), _words(row)
    if not first or not second or first & second:
        return True
    named_by_key = {(stored.get("email") or "").lower(), (row.get("email") or "").lower()}
    return full_name(stored).lower() in named_by_key or full_name(row).lower() in named_by_key


def _conflict(line: int, key: str, value: str, contact_id: str, stored: dict[str, Any],
              row: dict[str, Any], cells: list[str]) -> Conflict:
    theirs, ours = full_name(stored), full_name(row)
    message = (f"Your contact {theirs} has this {KEY_NAMES[key]}, but this row names {ours}: "
               "nothing was changed. If they are one person, edit the contact; if not, correct "
               "the row and import it again.")
    return line, key, value, message, cells, {"contact_id": contact_id, "contact_name": theirs,
                                              "row_name": ours}
