"""The question bank: the handout's questions for everyone, and each student's own."""

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin

# The handout's three categories, in its order.
CATEGORIES = ("Position/Career Path", "Organization/Industry", "Next Steps")
OWN_POSITION = 1000  # a student's own questions come after the handout's, oldest first


class Question(IdMixin, TimestampMixin, Base):
    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_owner_id_position_id", "owner_id", "position", "id"),)

    # None for the handout's questions, which everyone sees and nobody may change.
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=OWN_POSITION)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def is_default(self) -> bool:
        return self.owner_id is None
