"""Account rules: who may register, how a login is checked and throttled, sessions, keys.

Nothing here speaks HTTP, and nothing here commits: the caller's unit of work does.
"""

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts import usage
from app.accounts.schemas import ProfileIn
from app.config import Settings
from app.db import new_token, utcnow
from app.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from app.models import ApiKey, AuthSession, LoginFailure, Role, User
from app.pagination import Order, paginate
from app.webhooks import service as webhooks

hasher = PasswordHash.recommended()  # argon2id


@cache
def dummy_hash() -> str:
    """Verified against when the email is unknown, so both answers take the same time. Made
    when the app starts, not when this module is imported: hashing takes a moment and 64 MB,
    which commands that never log anyone in (an import) need not spend."""
    return hasher.hash("not-a-real-password")


KEY_PREFIX = "rpk_"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalize_email(email)))


def _email_free(db: Session, email: str, user_id: str | None = None) -> None:
    existing = get_user_by_email(db, email)
    if existing is not None and existing.id != user_id:
        raise Conflict(
            "An account with this email already exists.", code="email_taken",
            fields=[("email", "An account with this email already exists.")],
        )


def create_user(db: Session, email: str, password: str, name: str, role: Role) -> User:
    _email_free(db, email)
    user = User(
        email=normalize_email(email), password_hash=hasher.hash(password), name=name, role=role
    )
    db.add(user)
    db.flush()
    return user


def register(db: Session, settings: Settings, email: str, password: str, name: str) -> User:
    if settings.registration_closed:
        raise Forbidden(
            "Registration is closed. Ask your career-services office for an account.",
            code="registration_closed",
        )
    domains = settings.registration_domains
    if domains is not None and normalize_email(email).rpartition("@")[2] not in domains:
        allowed = ", ".join(f"@{d}" for d in domains)
        raise ValidationFailed(
            fields=[("email", f"Registration is open to addresses ending in {allowed}.")],
        )
    return create_user(db, email, password, name, Role.student)


# --- logging in, with throttling shared by every app process through the database ---


def _throttle_keys(email: str, address: str) -> list[str]:
    return [f"account:{normalize_email(email)}", f"address:{address}"]


def _check_throttle(db: Session, settings: Settings, email: str, address: str) -> None:
    now = utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    limits = [settings.login_max_failures_per_account, settings.login_max_failures_per_address]
    for key, limit in zip(_throttle_keys(email, address), limits, strict=True):
        times = db.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.key == key, LoginFailure.at > now - window)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        ).all()
        if len(times) >= limit:
            # Allowed again once the oldest of the last `limit` failures leaves the window.
            wait = max(1, math.ceil((times[-1] + window - now).total_seconds()))
            raise TooManyRequests(
                "Too many failed logins. Wait a few minutes, then try again.",
                code="login_throttled",
                headers={"Retry-After": str(wait)},
            )


def record_login_failure(db: Session, settings: Settings, email: str, address: str) -> None:
    """Record a failure and commit it at once, so the error that follows cannot undo it (a
    failed login has written nothing else)."""
    now = utcnow()
    keys = _throttle_keys(email, address)
    db.execute(
        delete(LoginFailure).where(
            LoginFailure.key.in_(keys),
            LoginFailure.at <= now - timedelta(seconds=settings.login_window_seconds),
        )
    )
    db.add_all(LoginFailure(key=key, at=now) for key in keys)
    db.commit()


def authenticate(db: Session, settings: Settings, email: str, password: str, address: str) -> User:
    _check_throttle(db, settings, email, address)
    user = get_user_by_email(db, email)
    valid, new_hash = hasher.verify_and_update(password, user.password_hash if user else dummy_hash())
    if user is None or not valid:
        record_login_failure(db, settings, email, address)
        raise Unauthorized("The email or password is not right.", code="invalid_credentials")
    if new_hash:
        user.password_hash = new_hash
    db.execute(delete(LoginFailure).where(LoginFailure.key == _throttle_keys(email, address)[0]))
    return user


# --- browser sessions: the cookie holds a random token, the table holds its hash ---


def start_session(db: Session, settings: Settings, user: User) -> str:
    """Returns the cookie's token."""
    token = new_token()
    db.add(AuthSession(
        id=sha256(token), user_id=user.id,
        expires_at=utcnow() + timedelta(days=settings.session_days),
    ))
    db.flush()
    return token


def find_session(db: Session, settings: Settings, token: str) -> AuthSession | None:
    session = db.get(AuthSession, sha256(token))
    if session is None:
        return None
    now = utcnow()
    if session.expires_at <= now:
        db.delete(session)
        return None
    lifetime = timedelta(days=settings.session_days)
    if session.expires_at - now < lifetime / 2:  # sliding expiry, written at most twice a lifetime
        session.expires_at = now + lifetime
    return session


def csrf_token(settings: Settings, session_id: str) -> str:
    """Derived from the session, so it needs no storage and dies with the session."""
    return hmac.new(settings.secret_key.encode(), session_id.encode(), hashlib.sha256).hexdigest()


def end_session(db: Session, session: AuthSession) -> None:
    db.delete(session)


def end_all_sessions(db: Session, user: User) -> None:
    db.execute(delete(AuthSession).where(AuthSession.user_id == user.id))


# --- the profile ---


def update_profile(db: Session, user: User, changes: ProfileIn) -> User:
    values = changes.model_dump(exclude_unset=True)
    for field in ("name", "email", "timezone"):  # these may change but never be emptied
        if field in values and not values[field]:
            raise ValidationFailed(fields=[(field, "This field cannot be empty.")])
    if "email" in values:
        _email_free(db, values["email"], user.id)
        values["email"] = normalize_email(values["email"])
    stops_sharing = user.share_engagement_with_career_office and \
        values.get("share_engagement_with_career_office") is False
    if stops_sharing:  # before the email may change: queued events are found by it
        webhooks.forget_student(db, user)
    for field, value in values.items():
        setattr(user, field, "" if value is None and field != "graduation_year" else value)
    db.flush()
    return user


def change_password(db: Session, user: User, current: str, new: str) -> None:
    if not hasher.verify(current, user.password_hash):
        raise ValidationFailed(fields=[("current_password", "This is not your current password.")])
    user.password_hash = hasher.hash(new)
    end_all_sessions(db, user)


# --- API keys: shown once, stored as a hash, found by hash ---


# Each key has its own rate limit: a cap on keys keeps one person from multiplying theirs.
MAX_API_KEYS = 10


def create_api_key(db: Session, user: User, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    held = db.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user.id))
    if (held or 0) >= MAX_API_KEYS:
        raise Conflict(f"You have {MAX_API_KEYS} API keys, the most one person may hold. Revoke "
                       "one you no longer use, then create this one.", code="too_many_keys")
    secret = KEY_PREFIX + new_token(30)
    key = ApiKey(
        user_id=user.id, name=name, prefix=secret[: len(KEY_PREFIX) + 6],
        key_hash=sha256(secret), scopes=sorted(set(scopes)),
    )
    db.add(key)
    db.flush()
    return key, secret


def list_api_keys(
    db: Session, user: User, limit: int, cursor: str | None
) -> tuple[list[ApiKey], str | None]:
    stmt = select(ApiKey).where(ApiKey.user_id == user.id)
    keys, next_cursor = paginate(db, stmt, [Order(ApiKey.id, descending=True)], limit, cursor)
    for key in keys:
        _show_latest_use(key)
    return keys, next_cursor


def _show_latest_use(key: ApiKey) -> None:
    """A use this process noted but has not written yet replaces an older stored one, as the
    value loaded: shown, never written back by this request."""
    latest = usage.noted(key.id)
    if latest is not None and (key.last_used_at is None or latest > key.last_used_at):
        set_committed_value(key, "last_used_at", latest)


def revoke_api_key(db: Session, user: User, key_id: str) -> None:
    key = db.get(ApiKey, key_id)
    if key is None or key.user_id != user.id:
        raise NotFound("There is no API key with this id.")
    db.delete(key)


def find_api_key(db: Session, secret: str) -> ApiKey | None:
    """The key with this secret, and its user, in one indexed query. Its use is only noted:
    a request never writes a key's last use (app/accounts/usage.py does, once a minute)."""
    if not secret.startswith(KEY_PREFIX):
        return None
    key = db.scalar(select(ApiKey).where(ApiKey.key_hash == sha256(secret)))
    if key is not None:
        usage.note(key.id, utcnow())
    return key


@dataclass
class Principal:
    """Who is calling, and how: through a browser session or an API key (never both)."""

    user: User
    session: AuthSession | None = None
    api_key: ApiKey | None = None
