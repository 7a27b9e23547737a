"""Account administration: who may list and change accounts, and the rules that keep Rapport
administrable.

Administrators see every account and change roles, deactivate, reactivate and delete. Staff see
the active students (name, email, last active) and nothing else. No one changes their own
account here, and no change may leave Rapport without an active administrator. Every change is
recorded in the audit log, in the same transaction.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from app import audit
from app.accounts import usage
from app.accounts.deletion import delete_account, is_last_admin
from app.accounts.service import end_all_sessions, get_user_by_email
from app.admin.schemas import Status
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, NotFound
from app.models import ApiKey, AuthSession, PasswordReset, Role, User
from app.pagination import Order, paginate

STAFF = {Role.staff, Role.admin}
ROLE_NAMES = {Role.student: "student", Role.staff: "staff", Role.admin: "administrator"}


def require_staff(user: User) -> None:
    if user.role not in STAFF:
        raise Forbidden("Only career-services staff and administrators can list accounts.",
                        code="staff_only")


def require_admin(user: User) -> None:
    if user.role != Role.admin:
        raise Forbidden("Only administrators can do this.", code="admin_only")


def is_admin(user: User) -> bool:
    return user.role == Role.admin


@dataclass(frozen=True)
class UserFilters:
    q: str | None = None  # part of the name or the email, in any case
    role: Role | None = None
    status: Status | None = None


def filters_for(viewer: User, filters: UserFilters) -> UserFilters:
    """What ``viewer`` may list: everything for an administrator; the active students for
    staff, who are refused any other role or status."""
    require_staff(viewer)
    if is_admin(viewer):
        return filters
    if filters.role not in (None, Role.student) or filters.status == "deactivated":
        raise Forbidden("Staff can list active students only.", code="admin_only")
    return UserFilters(q=filters.q, role=Role.student, status="active")


def _like(text: str) -> str:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_users(db: Session, settings: Settings, filters: UserFilters, limit: int,
               cursor: str | None, full: bool) -> tuple[list[dict[str, Any]], str | None]:
    """A page of accounts by name, each as ``shown``; ``full``: as administrators see them."""
    stmt = select(User)
    if filters.q and filters.q.strip():
        pattern = _like(filters.q)
        stmt = stmt.where(or_(func.lower(User.name).like(pattern, escape="\\"),
                              User.email.like(pattern, escape="\\")))
    if filters.role is not None:
        stmt = stmt.where(User.role == filters.role)
    if filters.status == "active":
        stmt = stmt.where(User.deactivated_at.is_(None))
    elif filters.status == "deactivated":
        stmt = stmt.where(User.deactivated_at.is_not(None))
    users, next_cursor = paginate(db, stmt, [Order(User.name), Order(User.id)], limit, cursor)
    seen = last_active(db, settings, [u.id for u in users])
    return [shown(u, seen.get(u.id), full) for u in users], next_cursor


def shown(user: User, last_active_at: datetime | None, full: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"id": user.id, "name": user.name, "email": user.email,
                            "last_active_at": last_active_at}
    if full:
        item.update(role=user.role, created_at=user.created_at,
                    status="deactivated" if user.deactivated_at else "active",
                    deactivated_at=user.deactivated_at)
    return item


def last_active(db: Session, settings: Settings, user_ids: list[str]) -> dict[str, datetime]:
    """When each account was last seen, from what is stored anyway (reading it writes nothing):
    its last login, its sessions' last renewal (a session is renewed ``session_days`` before
    it expires), and its API keys' last use (this process's note of a use not written yet
    included)."""
    if not user_ids:
        return {}
    now, lifetime = utcnow(), timedelta(days=settings.session_days)
    seen: dict[str, datetime] = {}

    def saw(user_id: str, at: datetime | None) -> None:
        if at is not None and (user_id not in seen or at > seen[user_id]):
            seen[user_id] = min(at, now)

    for user_id, logged_in in db.execute(select(User.id, User.last_login_at)
                                         .where(User.id.in_(user_ids))):
        saw(user_id, logged_in)
    sessions = db.execute(
        select(AuthSession.user_id, func.max(AuthSession.created_at),
               func.max(AuthSession.expires_at))
        .where(AuthSession.user_id.in_(user_ids)).group_by(AuthSession.user_id))
    for user_id, created, expires in sessions:
        saw(user_id, created)
        saw(user_id, expires - lifetime if expires is not None else None)
    keys = db.execute(select(ApiKey.user_id, ApiKey.id, ApiKey.last_used_at)
                      .where(ApiKey.user_id.in_(user_ids)))
    for user_id, key_id, used in keys:
        saw(user_id, used)
        saw(user_id, usage.noted(key_id))
    return seen


def get_user(db: Session, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("There is no account with this id.")
    return user


def find_by_email(db: Session, email: str) -> User:
    user = get_user_by_email(db, email)
    if user is None:
        raise NotFound(f"There is no account with the email {email.strip()}.")
    return user


def describe(user: User) -> str:
    return f"{user.name} ({user.email})"


# --- the guards ---


def _not_yourself(actor: audit.Actor, target: User, doing: str) -> None:
    if actor.is_user(target):
        raise Conflict(f"You cannot {doing} your own account. Ask another administrator.",
                       code="own_account")


def _keep_an_administrator(db: Session, target: User, doing: str) -> None:
    """Refuse to take away the last active administrator."""
    if is_last_admin(db, target):
        raise Conflict(f"{target.name} is the last active administrator: {doing} would leave "
                       "no one to administer Rapport. Make someone else an administrator "
                       "first.", code="last_admin")


# --- the actions ---


def change_role(db: Session, actor: audit.Actor, target: User, role: Role) -> User:
    if target.role == role:
        return target
    _not_yourself(actor, target, "change the role of")
    if role != Role.admin:
        _keep_an_administrator(db, target, "changing their role")
    before = Role(target.role)
    target.role = role
    db.flush()
    audit.record(db, actor, audit.Action.user_role_changed, target_type="user",
                 target_id=target.id,
                 summary=f"Changed the role of {describe(target)} from {ROLE_NAMES[before]} to "
                         f"{ROLE_NAMES[role]}", details={"from": before.value, "to": role.value})
    return target


def deactivate(db: Session, actor: audit.Actor, target: User) -> User:
    """Every session ends, every API key is refused, and logging in is refused, at once; the
    account's reset links stop working."""
    if target.deactivated_at is not None:
        return target
    _not_yourself(actor, target, "deactivate")
    _keep_an_administrator(db, target, "deactivating them")
    target.deactivated_at = utcnow()
    end_all_sessions(db, target)
    db.execute(delete(PasswordReset).where(PasswordReset.user_id == target.id))
    db.flush()
    audit.record(db, actor, audit.Action.user_deactivated, target_type="user",
                 target_id=target.id, summary=f"Deactivated the account of {describe(target)}")
    return target


def reactivate(db: Session, actor: audit.Actor, target: User) -> User:
    """The account may log in again, and its API keys work again."""
    if target.deactivated_at is None:
        return target
    target.deactivated_at = None
    db.flush()
    audit.record(db, actor, audit.Action.user_reactivated, target_type="user",
                 target_id=target.id, summary=f"Reactivated the account of {describe(target)}")
    return target


def delete_user(db: Session, actor: audit.Actor, target: User) -> None:
    """Delete the account and everything it owns (the directory stays)."""
    _not_yourself(actor, target, "delete")
    _keep_an_administrator(db, target, "deleting them")
    audit.record(db, actor, audit.Action.user_deleted, target_type="user", target_id=target.id,
                 summary=f"Deleted the account of {describe(target)}, a "
                         f"{ROLE_NAMES[Role(target.role)]}", details={"role": target.role})
    delete_account(db, target)
