"""The audit log: what staff and administrators did, by whom, when, and from where.

Append-only: the app writes entries and never changes one; no route edits or deletes them. They
are deleted only by age (``app.purge``, run by ``rapport worker``). Who acted is kept as
they were then (their email and role), so an entry still reads right after that account
changes or is deleted."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_entries"

    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Null for the command line, or once the account that acted is deleted.
    actor_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_email: Mapped[str] = mapped_column(String(320))  # "cli" for the command line
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)  # user.role_changed, …
    target_type: Mapped[str] = mapped_column(String(32))  # user, directory_entry, webhook, …
    target_id: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    client_address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
