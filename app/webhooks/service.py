"""The rules of webhooks: who manages them, which events they hear, and the outbox.

Webhooks are the career office's shared configuration, like the alumni directory they report
on: any staff member (or a staff member's key with ``webhooks:manage``) sees and changes every
subscription, so one that a colleague set up keeps working, and stays manageable, after they
leave. Students reach none of it.

``emit`` writes one delivery per active subscription that wants the event, in the caller's
transaction: the delivery exists exactly when the change it tells of was committed. The worker
(``worker.py``) sends it later. A directory import sends one ``import.completed``, not one
event per row: a CRM reads the directory with ``updated_since`` after it.
"""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import new_id, new_token, utcnow
from app.errors import Forbidden, NotFound, ValidationFailed
from app.models import (
    DeliveryStatus,
    DirectoryEngagement,
    DirectoryEntry,
    Import,
    Role,
    User,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from app.pagination import Order, paginate
from app.webhooks import addresses

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
# What a directory entry event carries: the entry as the API shows it to staff.
ENTRY_FIELDS = ("id", "external_id", "first_name", "last_name", "email", "title",
                "organization_name", "industry", "location", "graduation_year", "degree",
                "major", "linkedin_url", "accepts_requests", "created_at", "updated_at")


def require_staff(user: User) -> None:
    if user.role not in {Role.staff, Role.admin}:
        raise Forbidden("Only career-services staff can manage webhooks.", code="staff_only")


def check_url(url: str, settings: Settings) -> None:
    try:
        addresses.check(url, settings.webhooks_allow_private)
    except addresses.UnsafeAddress as exc:
        raise ValidationFailed(fields=[("url", str(exc))]) from exc


def new_secret() -> str:
    return SECRET_PREFIX + new_token(32)


# --- subscriptions ---


def create_webhook(db: Session, settings: Settings, user: User, url: str, events: list[str],
                   active: bool = True, description: str = "") -> Webhook:
    check_url(url, settings)
    hook = Webhook(url=url, events=_ordered(events), active=active, description=description,
                   secret=new_secret(), created_by_id=user.id)
    db.add(hook)
    db.flush()
    return hook


def _ordered(events: list[str]) -> list[str]:
    return [e.value for e in WebhookEvent if e.value in set(events)]


def get_webhook(db: Session, webhook_id: str) -> Webhook:
    hook = db.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound("There is no webhook with this id.")
    return hook


def list_webhooks(db: Session, limit: int, cursor: str | None) -> tuple[list[Webhook], str | None]:
    return paginate(db, select(Webhook), [Order(Webhook.id, descending=True)], limit, cursor)


def update_webhook(db: Session, settings: Settings, hook: Webhook,
                   changes: dict[str, Any]) -> Webhook:
    for field in ("url", "events", "active"):
        if field in changes and changes[field] is None:
            raise ValidationFailed(fields=[(field, "This field cannot be empty.")])
    if "url" in changes:
        check_url(changes["url"], settings)
    if "events" in changes:
        changes["events"] = _ordered(changes["events"])
    if changes.get("description", "") is None:
        changes["description"] = ""
    for field, value in changes.items():
        setattr(hook, field, value)
    db.flush()
    return hook


def rotate_secret(db: Session, hook: Webhook) -> Webhook:
    """A new secret, in force at once: deliveries sent from now on are signed with it."""
    hook.secret = new_secret()
    db.flush()
    return hook


def delete_webhook(db: Session, hook: Webhook) -> None:
    db.delete(hook)  # its deliveries go with it
    db.flush()


# --- deliveries ---


def list_deliveries(db: Session, hook: Webhook | None, limit: int, cursor: str | None,
                    status: DeliveryStatus | None = None
                    ) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first: of one subscription, or of all of them."""
    stmt = select(WebhookDelivery)
    if hook is not None:
        stmt = stmt.where(WebhookDelivery.webhook_id == hook.id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return paginate(db, stmt, [Order(WebhookDelivery.id, descending=True)], limit, cursor)


def get_delivery(db: Session, hook: Webhook, delivery_id: str) -> WebhookDelivery:
    delivery = db.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != hook.id:
        raise NotFound("This webhook has no delivery with this id.")
    return delivery


def replay(db: Session, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send it again as soon as a worker can: the same body and delivery id, signed anew, with
    a fresh round of retries. A worker sending it right now loses its claim, so what it learns
    does not overwrite the replay."""
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.claimed_by = delivery.claimed_until = None
    db.flush()
    return delivery


# --- the outbox ---


def emit(db: Session, event: WebhookEvent, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue ``event`` for every active subscription that wants it, in this transaction."""
    hooks = [h for h in db.scalars(select(Webhook).where(Webhook.active.is_(True)))
             if event.value in h.events]
    if not hooks:
        return []
    now = utcnow()
    event_id = new_id()
    body = json.dumps({"id": event_id, "type": event.value, "created_at": now.isoformat(),
                       "data": data}, ensure_ascii=False, separators=(",", ":"), default=_json)
    deliveries = [WebhookDelivery(webhook_id=h.id, event_id=event_id, event=event.value, body=body,
                                  status=DeliveryStatus.pending, attempts=0, next_attempt_at=now,
                                  last_error="", created_at=now) for h in hooks]
    db.add_all(deliveries)
    return deliveries


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _entry(entry: DirectoryEntry) -> dict[str, Any]:
    return {field: getattr(entry, field) for field in ENTRY_FIELDS}


def entry_created(db: Session, entry: DirectoryEntry) -> None:
    """directory.entry.created: the entry's fields as staff read them (after the flush)."""
    emit(db, WebhookEvent.entry_created, _entry(entry))


def entry_updated(db: Session, entry: DirectoryEntry) -> None:
    """directory.entry.updated, when the changes not yet flushed change anything: a write that
    changes nothing tells no one."""
    if db.is_modified(entry):
        db.flush()  # the new updated_at and version
        emit(db, WebhookEvent.entry_updated, _entry(entry))


def entry_deleted(db: Session, entry: DirectoryEntry) -> None:
    """directory.entry.deleted, as the entry becomes a tombstone: its ids only."""
    emit(db, WebhookEvent.entry_deleted, {"id": entry.id, "external_id": entry.external_id,
                                          "deleted_at": entry.deleted_at or utcnow()})


def engaged(db: Session, student: User, engagement: DirectoryEngagement) -> None:
    """directory.entry.engaged: which entry, how, when; who only if the student chose to share
    that with career services (settings page), and then only their name and email."""
    entry = db.get(DirectoryEntry, engagement.entry_id)
    data: dict[str, Any] = {"entry_id": engagement.entry_id,
                            "external_id": entry.external_id if entry else None,
                            "kind": engagement.kind, "at": engagement.at}
    if student.share_engagement_with_career_office:
        data["student"] = {"name": student.name, "email": student.email}
    emit(db, WebhookEvent.entry_engaged, data)


def forget_student(db: Session, student: User) -> None:
    """A student stopped sharing: engagement events not yet delivered lose their name and email
    (delivered ones are the receiver's already)."""
    waiting = db.scalars(select(WebhookDelivery).where(
        WebhookDelivery.event == WebhookEvent.entry_engaged,
        WebhookDelivery.status != DeliveryStatus.delivered))
    for delivery in waiting:
        body = json.loads(delivery.body)
        if body["data"].get("student", {}).get("email") == student.email:
            del body["data"]["student"]
            delivery.body = json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def import_finished(db: Session, job: Import) -> None:
    """import.completed: a directory import finished (completed, or failed part-way with what
    came before kept). A student's own contacts imports are theirs alone and send nothing."""
    if job.target != "directory" or job.dry_run:
        return
    emit(db, WebhookEvent.import_completed, {
        "id": job.id, "target": job.target, "status": job.status, "created": job.created,
        "updated": job.updated, "unchanged": job.unchanged, "skipped": job.skipped,
        "rows": job.lines_done, "finished_at": job.finished_at})
