"""Email verification: an address is confirmed by opening a link sent to it.

With verification on (``Settings.verification_on``), a new account may read everything of its
own but write nothing (app/deps.py refuses) until its address confirms, and a changed profile
email waits on the account as ``pending_email`` until the new address confirms: the old one
stays the login meanwhile. Accounts made by an administrator, on the command line or by single
sign-on need no link.

The link's token is signed, not stored: the account's id, the address it confirms and when it
stops working, with an HMAC of them under the secret key. It confirms only while that address
is the one waiting on the account, so a new address asked for, or a change cancelled, ends
the links sent before; and once the address is confirmed, its link has nothing left to do.

An address is not held for ever by an account that never confirmed it (registered by someone
who does not own it, say): once the account is older than the link's lifetime
(``email_verification_hours``), registering with its address deletes it and makes the new
account (``release_address``), and `rapport worker` deletes it anyway after
``unconfirmed_accounts_keep_days`` (app/purge.py). Such an account could write nothing, and a
link sent to it confirms no other account.
"""

import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from app.accounts.deletion import delete_account
from app.accounts.service import (
    Limit,
    _count_or_refuse,
    _email_free,
    _key,
    get_user_by_email,
    normalize_email,
)
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.models import Role, User
from app.reminders import mail

log = logging.getLogger("rapport.accounts")

# Links sent for one account in an hour, whatever sent them (registering, a changed email,
# "send it again"): nobody can make Rapport mail an address over and over.
SENDS_PER_HOUR = 5
WINDOW_SECONDS = 3600
INVALID = ("This confirmation link does not work: it is more than {hours} hours old, it was "
           "copied incompletely, or the address it confirms is no longer the one waiting on "
           "the account. Log in and send a new link.")


def _mac(settings: Settings, payload: str) -> str:
    key = f"email-verification.{settings.secret_key}".encode()
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(settings: Settings, user: User, address: str) -> str:
    """The token of a link that confirms ``address`` for ``user``."""
    expires = int((utcnow() + timedelta(hours=settings.email_verification_hours)).timestamp())
    raw = json.dumps([user.id, address, expires], separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{payload}.{_mac(settings, payload)}"


def _invalid(settings: Settings) -> ValidationFailed:
    message = INVALID.format(hours=settings.email_verification_hours)
    return ValidationFailed(message, code="invalid_verification_token",
                            fields=[("token", message)])


def read_token(settings: Settings, token: str) -> tuple[str, str]:
    """The account and the address a token was made for, if this server signed it and it has
    not expired; otherwise 422 ``invalid_verification_token``."""
    payload, _, mac = token.partition(".")
    if not payload or not hmac.compare_digest(mac.encode(), _mac(settings, payload).encode()):
        raise _invalid(settings)
    padded = payload + "=" * (-len(payload) % 4)
    user_id, address, expires = json.loads(base64.urlsafe_b64decode(padded))
    if expires <= utcnow().timestamp():
        raise _invalid(settings)
    return str(user_id), str(address)


def waiting_address(settings: Settings, user: User) -> str | None:
    """The address a link was sent to and is not confirmed yet: a new email asked for, else the
    account's own while it is unconfirmed. None with verification off."""
    if not settings.verification_on:
        return None
    if user.pending_email:
        return user.pending_email
    return user.email if user.email_verified_at is None else None


def writes_refused(settings: Settings, user: User) -> bool:
    """An account that may not write yet: its own address is not confirmed."""
    return settings.verification_on and user.email_verified_at is None


def never_confirmed(registered_before: datetime) -> ColumnElement[bool]:
    """Student accounts registered before ``registered_before`` whose address never confirmed.
    Staff and administrators are not among them: an administrator vouched for their address."""
    return and_(User.email_verified_at.is_(None), User.role == Role.student,
                User.created_at < registered_before)


def release_address(db: Session, settings: Settings, email: str) -> None:
    """Before registering ``email``, with verification on: the account holding it, if it never
    confirmed it and registered longer ago than the link's lifetime, is deleted with all it
    has, in the caller's transaction. With verification off, an unconfirmed account is a
    working one, and keeps its address."""
    if not settings.verification_on:
        return
    lifetime = timedelta(hours=settings.email_verification_hours)
    stale = db.scalar(select(User).where(User.email == normalize_email(email),
                                         never_confirmed(utcnow() - lifetime))
                      .with_for_update())
    if stale is not None:
        log.info("An account that never confirmed its address made way for a new one.")
        delete_account(db, stale)


def _link_email(db: Session, settings: Settings, user: User, address: str) -> EmailMessage:
    """Count one link against the account's hourly limit (429 ``verification_throttled`` over
    it), and return the email that carries it."""
    _count_or_refuse(db, Limit(
        _key("verify-email", user.id), SENDS_PER_HOUR, WINDOW_SECONDS, False,
        "Too many confirmation links were sent for your account. Wait {wait}, then use the "
        "last one sent."), utcnow(), "verification_throttled")
    link = f"{settings.site_url}/verify-email?token={make_token(settings, user, address)}"
    hours = settings.email_verification_hours
    if address == user.email:
        why = "To confirm that this is your address and start using your new Rapport account"
    else:
        why = (f"You asked to change the email of your Rapport account from {user.email} to "
               "this one. To confirm it")
    return mail.plain_message(
        settings, message_id=f"verify-email-{_mac(settings, link)[:32]}", to_name=user.name,
        to_address=address, subject="Confirm your email address for Rapport",
        text=(f"Hello {user.name},\n\n"
              f"{why}, open this link within {hours} hours and press the button:\n\n"
              f"{link}\n\n"
              "If you did not ask for this, ignore this email: nothing changes.\n"))


def first_link(db: Session, settings: Settings, user: User) -> EmailMessage | None:
    """The email a newly registered account is sent, when verification is on."""
    if not writes_refused(settings, user):
        return None
    return _link_email(db, settings, user, user.email)


def resend(db: Session, settings: Settings, user: User) -> EmailMessage:
    """The link again, to the address waiting; 409 ``nothing_to_confirm`` without one."""
    address = waiting_address(settings, user)
    if address is None:
        raise Conflict("Your email address is confirmed already: there is nothing to send.",
                       code="nothing_to_confirm")
    return _link_email(db, settings, user, address)


def ask_change(db: Session, settings: Settings, user: User, email: str) -> EmailMessage | None:
    """A new profile email with verification on: it waits on the account, and a link goes to
    it. The account's own address is no change (and leaves a waiting one as it is)."""
    email = normalize_email(email)
    if email == user.email:
        return None
    _email_free(db, email, user.id)
    user.pending_email = email
    return _link_email(db, settings, user, email)


def cancel_change(user: User) -> None:
    """Forget the new address waiting: the links sent to it stop working."""
    user.pending_email = None


def check(db: Session, settings: Settings, token: str) -> tuple[User, str]:
    """The account and the address a link would confirm, or why it cannot: 422
    ``invalid_verification_token``, 409 ``already_confirmed`` (its address is confirmed: the
    link was used), 409 ``email_taken`` (the new address waiting was taken by another account
    meanwhile). Writes nothing."""
    user_id, address = read_token(settings, token)
    user = db.get(User, user_id)
    if user is None:
        raise _invalid(settings)
    if address == user.pending_email:
        owner = get_user_by_email(db, address)
        if owner is not None and owner.id != user.id:
            raise Conflict(f"Another account uses {address} now, so it cannot become your "
                           "email. Choose another address in your settings.",
                           code="email_taken",
                           fields=[("email", "Another account uses this address now.")])
    elif address != user.email:
        raise _invalid(settings)
    elif user.email_verified_at is not None:
        raise Conflict("This address is confirmed already: there is nothing more to do.",
                       code="already_confirmed")
    return user, address


def confirm(db: Session, settings: Settings, token: str) -> User:
    """Confirm the address of a link: the account's own, or the new one waiting, which
    becomes the account's email (see ``check`` for the refusals)."""
    user, address = check(db, settings, token)
    if address == user.pending_email:
        user.email, user.pending_email = address, None
    user.email_verified_at = utcnow()
    db.flush()
    return user

