"""Webhooks: the addresses that career services subscribed to events, and each delivery to
them (an outbox: written in the same transaction as the change it tells of, sent later by a
worker)."""

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin, utcnow


class WebhookEvent(StrEnum):
    entry_created = "directory.entry.created"
    entry_updated = "directory.entry.updated"
    entry_deleted = "directory.entry.deleted"
    entry_engaged = "directory.entry.engaged"
    import_completed = "import.completed"


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its first try, or for a retry
    delivered = "delivered"  # the receiver answered 2xx
    failed = "failed"  # every try failed; a person may replay it


class Webhook(IdMixin, TimestampMixin, Base):
    """One subscription. Shared configuration of the career office: any staff member manages
    every one of them."""

    __tablename__ = "webhooks"

    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    # Kept as is: signing needs the secret itself, not a hash of it.
    secret: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class WebhookDelivery(IdMixin, Base):
    """One event for one subscription: its exact body, and how sending it went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(26))  # the same for every subscription
    event: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, byte for byte what is signed
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)  # since it was queued or last replayed
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(String(300), default="")
    # A worker's lease: while claimed_until is in the future no other worker sends it.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    webhook: Mapped[Webhook] = relationship(lazy="joined")

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed
