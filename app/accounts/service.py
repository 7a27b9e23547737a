"""Account rules: who may register, how a login is checked and throttled, sessions, keys.

Nothing here speaks HTTP, and nothing here commits (the caller's unit of work does) but for
two things that cannot wait for it: a login attempt's count, which must stand whatever happens
next, and whatever a request did before a password is checked, since no database connection
may be held while argon2 works.
"""

import hashlib
import hmac
import ipaddress
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from pwdlib import PasswordHash
from sqlalchemy import case, delete, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts import usage
from app.accounts.schemas import ProfileIn
from app.config import Settings
from app.db import UTCDateTime, new_token, utcnow
from app.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from app.models import ApiKey, AuthSession, LoginCounter, ReminderPreference, Role, User
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
    """For the command line, which has the machine to itself (registering goes through
    ``register``, which hashes in a password slot). The address needs no confirming: whoever
    made the account vouches for it."""
    user = _add_user(db, email, hasher.hash(password), name, role)
    user.email_verified_at = utcnow()
    return user


def _add_user(db: Session, email: str, password_hash: str, name: str, role: Role) -> User:
    _email_free(db, email)
    user = User(email=normalize_email(email), password_hash=password_hash, name=name, role=role)
    db.add(user)
    db.flush()
    return user


# --- password work: bounded, and never while a database connection is held ---


class Busy(AppError):
    status_code = 503
    code = "busy"
    detail = ("Rapport is checking many passwords at this moment. Wait a second, then try "
              "again.")


BUSY_RETRY_SECONDS = 1


@cache
def _password_slots(size: int) -> threading.BoundedSemaphore:
    """The password checks one process runs at once (a set for each size a setting asked for)."""
    return threading.BoundedSemaphore(size)


@contextmanager
def password_work(settings: Settings) -> Iterator[None]:
    """Hold one of the process's password slots for the block, or refuse at once with 503.

    Argon2 takes 64 MB and a core's moment: run by more threads than there are cores it is only
    slower for every one of them, and a request queued for a slot would keep its server thread
    (and its client) waiting behind a burst of them, while everyone else's requests wait for
    a thread. The caller holds no database connection here (see ``authenticate``)."""
    slots = _password_slots(settings.login_concurrent_checks)
    if not slots.acquire(blocking=False):
        raise Busy(headers={"Retry-After": str(BUSY_RETRY_SECONDS)})
    try:
        yield
    finally:
        slots.release()


def register(db: Session, settings: Settings, email: str, password: str, name: str,
             address: str, timezone: str = "UTC") -> User:
    """A new student account. Every attempt from ``address`` counts against the limit of
    registrations from one network, before the password is hashed. An address held by an
    account that never confirmed it in time is taken from it (``verification.release_address``)."""
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
    _count_or_refuse(db, Limit(
        _key("register", _network(address)), settings.registrations_per_address, 3600, False,
        "Too many accounts were registered from your network. Wait {wait}, then try again."),
        utcnow(), "registration_throttled")
    db.commit()  # no connection held while argon2 works
    with password_work(settings):
        password_hash = hasher.hash(password)
    from app.accounts.verification import release_address  # it builds on this module

    release_address(db, settings, email)
    user = _add_user(db, email, password_hash, name, Role.student)
    user.timezone = timezone
    # With verification on, the address waits for its link (app/accounts/verification.py).
    user.email_verified_at = None if settings.verification_on else utcnow()
    return user


# --- logging in: each attempt counted first, in one statement per limit, shared by every app
# process through the database; then the password checked with no connection held ---


@dataclass(frozen=True)
class Limit:
    """One limit an attempt is counted against. ``clear_on_success``: a successful login wipes
    the count (it was the owner's own typing there); otherwise only its own attempt is taken
    back (the others may be someone else's)."""

    key: str
    most: int
    window_seconds: int
    clear_on_success: bool
    refusal: str  # what the person is told over the limit; {wait} becomes "3 minutes"


def _key(kind: str, *parts: str) -> str:
    """No email or address is stored: the kind, then a digest of what it counts."""
    return f"{kind}:{sha256(chr(0).join(parts))}"


def _network(address: str) -> str:
    """The client as throttling counts it: an IPv6 address by its /64, which one subscriber
    commonly holds whole (counted one by one, its addresses would never run out)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # an IPv4 client of a dual-stack socket
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _limits(settings: Settings, email: str, address: str, device: str | None) -> list[Limit]:
    """What an attempt is counted against, in the order counted (the same order in every
    transaction, so that two never wait for each other). Counting stops at the first limit
    exceeded: an address already refused adds nothing to the account's count, so one address
    cannot lock an account for the others.

    From a device the account logged in on before (``device``, from its cookie), only that
    device's own limit applies: its owner gets in while others are guessing the password."""
    email, address = normalize_email(email), _network(address)
    window = settings.login_window_seconds
    if device is not None:
        return [Limit(_key("device", email, device), settings.login_max_failures_per_account,
                      window, True,
                      "Too many failed logins to this account on this device. Wait {wait}, "
                      "then try again.")]
    return [
        Limit(_key("address", address), settings.login_max_failures_per_address, window, False,
              "Too many failed logins from your network. Wait {wait}, then try again."),
        Limit(_key("account-address", email, address), settings.login_max_failures_per_account,
              window, True,
              "Too many failed logins to this account. Wait {wait}, then try again."),
        Limit(_key("account", email), settings.login_max_failures_per_account_everywhere,
              settings.login_account_window_seconds, False,
              "Too many failed logins to this account from other places. Log in on a device "
              "you have logged in on before, or wait {wait}."),
    ]


def _count(db: Session, limit: Limit, now: datetime) -> tuple[int, datetime]:
    """Count one attempt under ``limit.key`` and return the count with it and when its window
    ends: one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, so concurrent attempts each get
    their own count (the row is locked from this statement to the commit)."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    ends = literal(now + timedelta(seconds=limit.window_seconds), UTCDateTime())
    ended = LoginCounter.expires_at <= now
    count, ends_at = db.execute(
        insert(LoginCounter)
        .values(key=limit.key, count=1, expires_at=ends)
        .on_conflict_do_update(
            index_elements=[LoginCounter.key],
            set_={"count": case((ended, 1), else_=LoginCounter.count + 1),
                  "expires_at": case((ended, ends), else_=LoginCounter.expires_at)},
        )
        .returning(LoginCounter.count, LoginCounter.expires_at)
    ).one()
    return count, ends_at


def _count_or_refuse(db: Session, limit: Limit, now: datetime, code: str) -> None:
    """Count one attempt under ``limit``; over it, commit the count and refuse with 429
    ``code`` and how long to wait."""
    count, ends = _count(db, limit, now)
    if count > limit.most:
        db.commit()
        wait = max(1, math.ceil((ends - now).total_seconds()))
        raise TooManyRequests(limit.refusal.format(wait=_in_words(wait)), code=code,
                              headers={"Retry-After": str(wait)})


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return "a minute" if minutes == 1 else f"{minutes} minutes"


SWEEP_SECONDS = 60
# When this process last deleted ended counts: only an economy, so it may live in memory.
_swept_at = 0.0


def _sweep(db: Session, now: datetime) -> None:
    """Delete the counts whose window ended, at most once a minute per process, in a
    transaction of its own. Rows another attempt is counting are skipped (on PostgreSQL; SQLite
    has one writer at a time), so the sweep never waits for a row and is never waited for."""
    global _swept_at
    if time.monotonic() - _swept_at < SWEEP_SECONDS:
        return
    _swept_at = time.monotonic()
    ended = (select(LoginCounter.key).where(LoginCounter.expires_at <= now)
             .with_for_update(skip_locked=True))
    db.execute(delete(LoginCounter).where(LoginCounter.key.in_(ended)))
    db.commit()


@dataclass(frozen=True)
class Attempt:
    """A login attempt once counted: whose password to check, and what to take back if right."""

    user: User | None
    password_hash: str
    counted: list[Limit]


def count_attempt(
    db: Session, settings: Settings, email: str, address: str, device_cookie: str | None
) -> Attempt:
    """Count the attempt against every limit it meets, read the account, and commit: one short
    transaction, after which no connection is held. Over a limit: 429 ``login_throttled``, the
    attempt counted all the same."""
    if db.get_bind().dialect.name == "postgresql":
        # A count lost in a crash costs little; waiting for the disk on every attempt would.
        db.execute(text("SET LOCAL synchronous_commit = off"))
    user = get_user_by_email(db, email)
    device = _known_device(settings, device_cookie, user)
    now = utcnow()
    counted: list[Limit] = []
    for limit in _limits(settings, email, address, device):
        counted.append(limit)
        _count_or_refuse(db, limit, now, "login_throttled")
    db.commit()
    _sweep(db, now)
    # An account made by a university sign-in has no password: checked against the dummy, and
    # refused whatever was typed (see authenticate).
    return Attempt(user, user.password_hash if user and user.password_hash else dummy_hash(),
                   counted)


def _take_back(db: Session, attempt: Attempt) -> None:
    """After a successful login: its own attempt comes off every count, and the counts of its
    address (for this account) and of its device are wiped. One row at a time, in the order
    they were counted, as every transaction that counts takes them."""
    for limit in attempt.counted:
        row = LoginCounter.key == limit.key
        if limit.clear_on_success:
            db.execute(delete(LoginCounter).where(row))
        else:
            db.execute(update(LoginCounter).where(row, LoginCounter.count > 0)
                       .values(count=LoginCounter.count - 1))


def authenticate(
    db: Session, settings: Settings, email: str, password: str, address: str,
    device_cookie: str | None = None,
) -> User:
    """Check a login. The attempt is counted (and committed) before the password is checked,
    so it counts whatever happens next, a 503 or a crash included; the check itself holds no
    database connection, and runs in one of the process's few password slots."""
    attempt = count_attempt(db, settings, email, address, device_cookie)
    with password_work(settings):
        valid, new_hash = hasher.verify_and_update(password, attempt.password_hash)
    user = attempt.user
    if user is None or not valid or not user.password_hash:
        raise Unauthorized("The email or password is not right.", code="invalid_credentials")
    refuse_deactivated(user)  # told only to someone who knows the password
    if new_hash:
        user.password_hash = new_hash
    _take_back(db, attempt)
    return user


DEACTIVATED = ("This account has been deactivated by an administrator. Ask your "
               "career-services office if you need it again.")


def refuse_deactivated(user: User) -> None:
    if user.deactivated_at is not None:
        raise Forbidden(DEACTIVATED, code="account_deactivated")


def check_password_login(settings: Settings, user: User) -> None:
    """With single sign-on for everyone but administrators, a right password lets in only an
    administrator (checked once the password is, so that it tells nothing to a guesser)."""
    if settings.oidc_password_login_admins_only and user.role != Role.admin:
        raise Forbidden(f"Sign in with {settings.oidc_label}: password login is for "
                        "administrators only.", code="password_login_off")


# --- devices: a browser an account logged in on carries a signed cookie naming it ---


def _device_mac(settings: Settings, user_id: str, nonce: str) -> str:
    message = f"device.{user_id}.{nonce}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def device_cookie(settings: Settings, user: User) -> str:
    """A new value for the device cookie, given at each successful login: the account, a
    random nonce (the device's own count is kept under it), and their HMAC."""
    nonce = new_token(16)
    return f"{user.id}.{nonce}.{_device_mac(settings, user.id, nonce)}"


def _known_device(settings: Settings, cookie: str | None, user: User | None) -> str | None:
    """The nonce of a device cookie that this server signed for ``user``, or None."""
    if not cookie or user is None:
        return None
    user_id, _, rest = cookie.partition(".")
    nonce, _, mac = rest.partition(".")
    if user_id != user.id or not nonce:
        return None
    return nonce if hmac.compare_digest(mac, _device_mac(settings, user_id, nonce)) else None


# --- browser sessions: the cookie holds a random token, the table holds its hash ---


def start_session(db: Session, settings: Settings, user: User) -> str:
    """Returns the cookie's token."""
    token = new_token()
    user.last_login_at = utcnow()
    db.add(AuthSession(
        id=sha256(token), user_id=user.id,
        expires_at=utcnow() + timedelta(days=settings.session_days),
    ))
    db.flush()
    return token


def find_session(db: Session, settings: Settings, token: str) -> AuthSession | None:
    """The live session of this token; none for a deactivated account (its user is loaded
    with it, in the same query)."""
    session = db.get(AuthSession, sha256(token))
    if session is None or session.user.deactivated_at is not None:
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


def own_password_guesses(settings: Settings, user: User) -> Limit:
    """Attempts at an account's own password from inside it (to change it, to delete the
    account): one count for both."""
    return Limit(_key("password-change", user.id), settings.login_max_failures_per_account,
                 settings.login_window_seconds, True,
                 "Too many wrong passwords. Wait {wait}, then try again.")


def change_password(
    db: Session, settings: Settings, user: User, current: str, new: str, revoke_api_keys: bool,
) -> int:
    """Change the password: every browser session of the account ends (the caller starts one
    for the browser that asked), and with ``revoke_api_keys`` every API key and the calendar
    feed's address (``revoke_keys_and_feed``). Returns how many keys were revoked.

    Every attempt counts against the same limit as failed logins to one account from one
    address (a session someone took over cannot be used to guess the password); a right one
    clears the count. The count and what the request did before (its session's sliding
    expiry) are committed first, so that no connection is held while argon2 works."""
    guesses = own_password_guesses(settings, user)
    _count_or_refuse(db, guesses, utcnow(), "password_throttled")
    db.commit()
    with password_work(settings):
        if not user.password_hash or not hasher.verify(current, user.password_hash):
            raise ValidationFailed(
                fields=[("current_password", "This is not your current password.")])
        user.password_hash = hasher.hash(new)
    db.execute(delete(LoginCounter).where(LoginCounter.key == guesses.key))
    end_all_sessions(db, user)
    return revoke_keys_and_feed(db, user) if revoke_api_keys else 0


def revoke_keys_and_feed(db: Session, user: User) -> int:
    """What reads the account without a session stops: every API key, and the calendar feed's
    address (the student makes a new one on the Reminders page). How many keys went."""
    db.execute(update(ReminderPreference).where(ReminderPreference.user_id == user.id)
               .values(feed_token_hash=None, feed_created_at=None))
    revoked = db.execute(delete(ApiKey).where(ApiKey.user_id == user.id))
    return int(revoked.rowcount)  # type: ignore[attr-defined]


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


def revoke_api_key(db: Session, user: User, key_id: str) -> ApiKey:
    key = db.get(ApiKey, key_id)
    if key is None or key.user_id != user.id:
        raise NotFound("There is no API key with this id.")
    db.delete(key)
    return key


def find_api_key(db: Session, secret: str) -> ApiKey | None:
    """The key with this secret, and its user, in one indexed query. Its use is only noted:
    a request never writes a key's last use (app/accounts/usage.py does, once a minute).
    The key of a deactivated account is refused (401 ``account_deactivated``)."""
    if not secret.startswith(KEY_PREFIX):
        return None
    key = db.scalar(select(ApiKey).where(ApiKey.key_hash == sha256(secret)))
    if key is not None:
        if key.user.deactivated_at is not None:
            raise Unauthorized("The account this API key belongs to has been deactivated.",
                               code="account_deactivated")
        usage.note(key.id, utcnow())
    return key


@dataclass
class Principal:
    """Who is calling, and how: through a browser session or an API key (never both)."""

    user: User
    session: AuthSession | None = None
    api_key: ApiKey | None = None
