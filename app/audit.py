"""The audit log of what career-services staff and administrators do.

Recorded: role changes, deactivations, reactivations and deletions of accounts, directory
entries deleted and directory files imported, webhooks added, changed and deleted, API keys
created and revoked by a staff or admin account, and password resets of such accounts. A
student's own everyday actions are not recorded: their privacy. The command line is recorded
too, as the actor ``cli``.

An entry is written in the same transaction as the change it tells of, so it exists exactly
when the change was committed. Entries are never edited; they are deleted by age alone
(by `rapport worker`, app/purge.py, after ``RAPPORT_AUDIT_KEEP_DAYS``).
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Role, User
from app.pagination import Order, paginate

if TYPE_CHECKING:
    from fastapi import Request

    from app.accounts.service import Principal


class Action(StrEnum):
    """The stable codes of what was done (integrators filter by them)."""

    user_created = "user.created"
    user_role_changed = "user.role_changed"
    user_deactivated = "user.deactivated"
    user_reactivated = "user.reactivated"
    user_deleted = "user.deleted"
    directory_entry_deleted = "directory.entry_deleted"
    directory_imported = "directory.imported"
    webhook_created = "webhook.created"
    webhook_updated = "webhook.updated"
    webhook_deleted = "webhook.deleted"
    api_key_created = "api_key.created"
    api_key_revoked = "api_key.revoked"
    password_reset = "password.reset"  # noqa: S105 - a name, not a password


CLI_EMAIL = "cli"


@dataclass(frozen=True)
class Actor:
    """Who did it, as they were at that moment, and from which client address."""

    user_id: str | None
    email: str
    role: str | None
    address: str | None = None
    api_key: str | None = None  # the visible prefix of the API key used, if one was

    @classmethod
    def of(cls, user: User, address: str | None = None, api_key: str | None = None) -> "Actor":
        return cls(user.id, user.email, user.role, address, api_key)

    @classmethod
    def calling(cls, principal: "Principal", request: "Request") -> "Actor":
        """The person behind a request (through a session or one of their keys)."""
        key = principal.api_key.prefix if principal.api_key is not None else None
        return cls.of(principal.user, request.client.host if request.client else None, key)

    def is_user(self, user: User) -> bool:
        return self.user_id == user.id


# The command line: whoever runs `rapport` on the server.
CLI = Actor(None, CLI_EMAIL, None)


def audited(user: User) -> bool:
    """Whether what this account does to its own credentials is recorded: staff and
    administrators yes, students no."""
    return user.role in {Role.staff, Role.admin}


def record(db: Session, actor: Actor, action: Action, *, target_type: str,
           target_id: str | None, summary: str, details: dict[str, Any] | None = None
           ) -> AuditEntry:
    """Add one entry to the caller's transaction."""
    if actor.api_key is not None:
        details = {**(details or {}), "api_key": actor.api_key}
    entry = AuditEntry(actor_id=actor.user_id, actor_email=actor.email, actor_role=actor.role,
                       action=action.value, target_type=target_type, target_id=target_id,
                       summary=summary[:500], client_address=actor.address, details=details)
    db.add(entry)
    return entry


def list_entries(db: Session, limit: int, cursor: str | None, action: Action | None = None,
                 actor: str | None = None, target_id: str | None = None
                 ) -> tuple[list[AuditEntry], str | None]:
    """Newest first (ids grow with time). ``actor``: the email of who acted, as recorded then
    (``cli`` for the command line), in any case."""
    stmt = select(AuditEntry)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action.value)
    if actor:
        stmt = stmt.where(func.lower(AuditEntry.actor_email) == actor.strip().lower())
    if target_id:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    return paginate(db, stmt, [Order(AuditEntry.id, descending=True)], limit, cursor)
