"""Interviews (the conversations), the questions asked in each, and tasks (what to do next)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin
from app.models.contact import Contact


class Format(StrEnum):
    in_person = "in_person"
    phone = "phone"
    video = "video"


class Status(StrEnum):
    planned = "planned"
    requested = "requested"
    scheduled = "scheduled"
    completed = "completed"
    cancelled = "cancelled"


# The handout's preparation and etiquette, as a checklist: key, what to do.
CHECKLIST = {
    "research_organization": "Research the organization",
    "questions_prepared": "Prepare your questions",
    "resume_copy": "Bring a copy of your resume",
    "dress_professionally": "Dress professionally",
    "arrive_early": "Arrive early",
    "note_taking": "Bring a way to take notes",
    "business_card": "Ask for a business card",
    "thank_you_note": "Send a thank-you note",
}


class Interview(IdMixin, TimestampMixin, Base):
    __tablename__ = "interviews"
    __table_args__ = (Index("ix_interviews_owner_id_scheduled_at_id", "owner_id", "scheduled_at", "id"),)

    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    scheduled_at: Mapped[datetime | None]
    duration_minutes: Mapped[int] = mapped_column(default=30)
    format: Mapped[str] = mapped_column(String(16), default=Format.in_person)
    location: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=Status.planned)
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    takeaways: Mapped[str] = mapped_column(Text, default="")
    # The handout's Next Steps, as they turned out.
    business_card: Mapped[bool] = mapped_column(default=False)
    may_call_again: Mapped[bool] = mapped_column(default=False)
    resume_review_offered: Mapped[bool] = mapped_column(default=False)
    completed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    contact: Mapped[Contact] = relationship(lazy="joined")
    items: Mapped[list["InterviewQuestion"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin",
        order_by="InterviewQuestion.position, InterviewQuestion.id",
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def when(self) -> datetime | None:
        """When it took place, once held; until then, when it is planned."""
        return self.completed_at if self.status == Status.completed else self.scheduled_at


class InterviewQuestion(IdMixin, TimestampMixin, Base):
    """One question on an interview's list, and the answer written under it."""

    __tablename__ = "interview_questions"
    __table_args__ = (Index("ix_interview_questions_interview_id_position", "interview_id", "position"),)

    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int]
    answer: Mapped[str] = mapped_column(Text, default="")


class TaskStatus(StrEnum):
    open = "open"
    done = "done"
    snoozed = "snoozed"


class Task(IdMixin, TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_owner_id_status_due_at", "owner_id", "status", "due_at"),)

    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40), default="custom")
    title: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.open)
    contact_id: Mapped[str | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    interview_id: Mapped[str | None] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    completed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    contact: Mapped[Contact | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
