"""Reminders that leave the app: each student's choices (the daily email, the notices, a
calendar feed), and every reminder email, planned once and sent by a worker."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class ReminderPreference(Base):
    """A student's choices. No row: the defaults (the digest and the notices on, no feed)."""

    __tablename__ = "reminder_preferences"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    digest: Mapped[bool] = mapped_column(default=True, server_default=true())
    notices: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The feed's token is shown once; only its SHA-256 is kept.
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    feed_created_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EmailKind(StrEnum):
    digest = "digest"  # the morning's list
    notice = "notice"  # one thing that cannot wait for tomorrow's


class EmailStatus(StrEnum):
    pending = "pending"  # waiting for its first try, or for a retry
    sent = "sent"  # the SMTP server took it
    failed = "failed"  # every try failed, or the server refused it for good
    skipped = "skipped"  # the day's digest had nothing to say: the day is decided all the same


class ReminderEmail(IdMixin, Base):
    """One reminder for one student, written once under a key that names what it is about
    (``digest:2026-12-03``, ``thank_you:<task id>``): the unique key is what makes two workers,
    or one restarted, plan it once. Its text is fixed when planned, so a retry sends the same."""

    __tablename__ = "reminder_emails"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_reminder_emails_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_reminder_emails_sent_at", "sent_at"),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default=EmailStatus.pending)
    to_address: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    # What it reminded of: "acted on within a day" when one of the tasks was done by then; an
    # interview a digest named needs no notice of its own.
    task_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    interview_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(300), default="")
    # A worker's lease: while claimed_until is in the future no other worker sends it.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
