"""Message templates (the defaults everyone reads, and each student's own) and the messages
generated from them: outreach, thank-you notes and the rest of the follow-through."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin
from app.models.contact import Contact


class Kind(StrEnum):
    outreach = "outreach"
    linkedin_note = "linkedin_note"
    follow_up = "follow_up"
    thank_you = "thank_you"
    referral_request = "referral_request"
    reconnect = "reconnect"


class Channel(StrEnum):
    email = "email"
    linkedin = "linkedin"


class MessageStatus(StrEnum):
    draft = "draft"
    sent = "sent"
    replied = "replied"


def channel_of(kind: str) -> Channel:
    return Channel.linkedin if kind == Kind.linkedin_note else Channel.email


class Template(IdMixin, TimestampMixin, Base):
    __tablename__ = "templates"
    __table_args__ = (Index("ix_templates_owner_id_kind_id", "owner_id", "kind", "id"),)

    # None for the defaults, which everyone reads and nobody may change.
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(2000), default="")
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def is_default(self) -> bool:
        return self.owner_id is None

    @property
    def channel(self) -> Channel:
        return channel_of(self.kind)


class Message(IdMixin, TimestampMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_owner_id_created_at_id", "owner_id", "created_at", "id"),
        Index("ix_messages_owner_id_sent_at", "owner_id", "sent_at"),
    )

    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    interview_id: Mapped[str | None] = mapped_column(
        ForeignKey("interviews.id", ondelete="SET NULL"), index=True
    )
    template_id: Mapped[str | None] = mapped_column(
        ForeignKey("templates.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(2000), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.draft)
    sent_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    contact: Mapped[Contact] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def channel(self) -> Channel:
        return channel_of(self.kind)
