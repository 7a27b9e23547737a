"""The institution's alumni directory, and the imports that fill it (and students' contacts)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin


class DirectoryEntry(IdMixin, TimestampMixin, Base):
    """One alumnus or alumna, written by staff and integrations, searched by every student."""

    __tablename__ = "directory_entries"
    __table_args__ = (
        Index("ix_directory_entries_external_id", "external_id", unique=True),
        Index("ix_directory_entries_email_key", "email_key"),
        Index("ix_directory_entries_sort_name_id", "sort_name", "id"),
        Index("ix_directory_entries_updated_at_id", "updated_at", "id"),
        # Full-text search: SQLite's directory_fts table or PostgreSQL's search_vector, made by
        # the migration.
    )

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320))
    title: Mapped[str] = mapped_column(String(200), default="")
    organization_name: Mapped[str] = mapped_column(String(200), default="")
    industry: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    graduation_year: Mapped[int | None]
    degree: Mapped[str] = mapped_column(String(100), default="")
    major: Mapped[str] = mapped_column(String(200), default="")
    linkedin_url: Mapped[str] = mapped_column(String(500), default="")
    external_id: Mapped[str | None] = mapped_column(String(200))
    accepts_requests: Mapped[bool] = mapped_column(default=True)
    # How many students may add this person in a calendar month (UTC); None: no limit.
    monthly_capacity: Mapped[int | None]
    # Set when the entry was deleted: its personal fields are blanked and only the id, the
    # external id and the moments stay, so an integration's sync learns of the deletion.
    deleted_at: Mapped[datetime | None]
    sort_name: Mapped[str] = mapped_column(String(201), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Engagement(StrEnum):
    """How far a student went with an alumnus or alumna from the directory."""

    added = "added"  # copied into their contacts
    contacted = "contacted"  # outreach or a LinkedIn note sent
    interviewed = "interviewed"  # an interview held


class DirectoryEngagement(IdMixin, Base):
    """That one student reached one entry one way, and when (first time only). Staff see counts
    of these, never who. A student who deletes their account leaves their engagements behind
    without them (``student_id`` NULL): the counts stay, anonymous."""

    __tablename__ = "directory_engagements"
    __table_args__ = (UniqueConstraint("entry_id", "student_id", "kind"),
                      Index("ix_directory_engagements_at", "at"))

    entry_id: Mapped[str] = mapped_column(ForeignKey("directory_entries.id", ondelete="CASCADE"))
    student_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                   index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class Import(IdMixin, TimestampMixin, Base):
    """One file brought in: where it went, how far it got, and what it did."""

    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_owner_id_created_at_id", "owner_id", "created_at", "id"),)

    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(300), default="")
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    dry_run: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="running")
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The last line whose batch is written: a rerun of the same file starts after it.
    lines_done: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    # Rows that matched a contact of someone else's name (nothing changed), and values left out.
    conflicts: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    encoding: Mapped[str] = mapped_column(String(40), default="")  # as the file was read
    problem: Mapped[str] = mapped_column(Text, default="")  # why the file stopped, if it did
    worker: Mapped[str] = mapped_column(String(300), default="")  # host:pid writing it
    finished_at: Mapped[datetime | None]


class ImportRowError(IdMixin, Base):
    """What the report says of one row: an error (it did not go in), a conflict (it matched a
    contact with another name: nothing changed) or a warning (a value was left out); where,
    which field, and the row as it was (to fix and re-send)."""

    __tablename__ = "import_row_errors"
    __table_args__ = (Index("ix_import_row_errors_import_id_row", "import_id", "row"),)

    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    row: Mapped[int]
    field: Mapped[str] = mapped_column(String(100), default="")
    value: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text)
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(16), default="error")  # error, conflict, warning
    # A conflict's two names and the contact it matched.
    about: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
