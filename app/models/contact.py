"""A student's private contact file: organizations, contacts, their tags and their timeline."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin, utcnow


class Stage(StrEnum):
    identified = "identified"
    contacted = "contacted"
    scheduled = "scheduled"
    interviewed = "interviewed"
    thanked = "thanked"
    following_up = "following_up"
    closed = "closed"


class Source(StrEnum):
    personal = "personal"
    referral = "referral"
    alumni = "alumni"
    cold = "cold"
    event = "event"
    other = "other"


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("owner_id", "name_key"),)

    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # lower-cased name: "Acme" and "ACME" are one organization for one student
    name_key: Mapped[str] = mapped_column(String(200))
    website: Mapped[str] = mapped_column(String(500), default="")
    industry: Mapped[str] = mapped_column(String(200), default="")
    research_notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ContactTag(Base):
    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_owner_id_tag", "owner_id", "tag"),)

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class Contact(IdMixin, TimestampMixin, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("owner_id", "email_key"),
        UniqueConstraint("owner_id", "external_id"),
        Index("ix_contacts_owner_id_sort_name_id", "owner_id", "sort_name", "id"),
        Index("ix_contacts_owner_id_updated_at_id", "owner_id", "updated_at", "id"),
        Index("ix_contacts_owner_id_next_action_at_id", "owner_id", "next_action_at", "id"),
        Index("ix_contacts_owner_id_stage_updated_at", "owner_id", "stage", "updated_at"),
        # An organization belongs to one student: this index lists an organization's contacts
        # and finds them when it is deleted (the foreign key's SET NULL).
        Index("ix_contacts_organization_id_sort_name_id", "organization_id", "sort_name", "id"),
        # Few contacts were referred by another: only they are indexed (for the SET NULL).
        Index("ix_contacts_referred_by_id", "referred_by_id",
              sqlite_where=text("referred_by_id IS NOT NULL"),
              postgresql_where=text("referred_by_id IS NOT NULL")),
        # The full-text search structures differ by database and are made by the migration:
        # SQLite's contacts_fts table, PostgreSQL's search_vector column and its indexes.
    )

    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320))  # lower-cased, for uniqueness
    phone: Mapped[str] = mapped_column(String(50), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    industry: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    linkedin_url: Mapped[str] = mapped_column(String(500), default="")
    # Any other web address of theirs: a personal site, a lab page, a portfolio.
    website: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(16), default=Source.other)
    referred_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    referrer_name: Mapped[str] = mapped_column(String(200), default="")
    how_we_met: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(16), default=Stage.identified)
    external_id: Mapped[str | None] = mapped_column(String(200))
    next_action: Mapped[str] = mapped_column(String(300), default="")
    next_action_at: Mapped[datetime | None]
    # Kept by the service from the fields above: the name sort key and the full-text document.
    sort_name: Mapped[str] = mapped_column(String(201), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    organization: Mapped[Organization | None] = relationship(lazy="joined")
    tag_rows: Mapped[list[ContactTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=ContactTag.tag
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def organization_name(self) -> str | None:
        return self.organization.name if self.organization else None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactEvent(IdMixin, Base):
    """One line of a contact's timeline."""

    __tablename__ = "contact_events"
    __table_args__ = (Index("ix_contact_events_contact_id_id", "contact_id", "id"),)

    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
