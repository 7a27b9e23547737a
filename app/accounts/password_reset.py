"""Forgotten passwords: a link sent by email sets a new one.

Asking answers the same whether the address has an account or not, and does the same work
either way (the throttle counts, a token drawn and hashed); the email itself goes out after the
answer, so its sending shows in no response time. The link holds a random token; only its
SHA-256 is stored, used once, for ``password_reset_minutes``.
"""

from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import audit
from app.accounts.service import (
    Limit,
    _count_or_refuse,
    _key,
    _network,
    end_all_sessions,
    get_user_by_email,
    hasher,
    normalize_email,
    password_work,
    revoke_keys_and_feed,
    sha256,
)
from app.config import Settings
from app.db import new_token, utcnow
from app.errors import ValidationFailed
from app.models import LoginCounter, PasswordReset, User
from app.reminders import mail

WINDOW_SECONDS = 3600
INVALID = ("This reset link does not work: it was used already, it is more than "
           "{minutes} minutes old, or it was copied incompletely. Ask for a new one.")


def request_reset(db: Session, settings: Settings, email: str,
                  address: str) -> EmailMessage | None:
    """Count the request against its address and its account (429 ``reset_throttled`` over
    either), and when the account exists and email is on, store a new token and return the
    email to send. Commits."""
    email = normalize_email(email)
    now = utcnow()
    for limit in (
        Limit(_key("reset-address", _network(address)), settings.password_reset_max_per_address,
              WINDOW_SECONDS, False,
              "Too many reset links asked for from your network. Wait {wait}, then try again."),
        Limit(_key("reset-account", email), settings.password_reset_max_per_account,
              WINDOW_SECONDS, False,
              "Too many reset links asked for this address. Wait {wait}, then use the last "
              "one sent."),
    ):
        _count_or_refuse(db, limit, now, "reset_throttled")
    token = new_token()
    user = get_user_by_email(db, email)
    msg = None
    # A deactivated account is sent nothing (and told nothing different).
    if user is not None and user.deactivated_at is None and settings.email_enabled:
        minutes = settings.password_reset_minutes
        reset = PasswordReset(id=sha256(token), user_id=user.id,
                              expires_at=now + timedelta(minutes=minutes))
        db.add(reset)
        link = f"{settings.site_url}/reset-password?token={token}"
        msg = mail.plain_message(
            settings, message_id=f"password-reset-{reset.id[:32]}", to_name=user.name,
            to_address=user.email, subject="Reset your Rapport password",
            text=(f"Hello {user.name},\n\n"
                  "Someone (we hope you) asked to reset the password of your Rapport account. "
                  f"To choose a new one, open this link within {minutes} minutes:\n\n"
                  f"{link}\n\n"
                  "The link works once. If you did not ask, ignore this email: your password "
                  "stays as it is.\n"))
    db.commit()
    return msg



def _invalid(settings: Settings) -> ValidationFailed:
    message = INVALID.format(minutes=settings.password_reset_minutes)
    return ValidationFailed(message, code="invalid_reset_token", fields=[("token", message)])


def reset_password(db: Session, settings: Settings, token: str, password: str,
                   revoke_api_keys: bool, address: str | None = None) -> int:
    """Set the password of the token's account: the token and every other of the account's are
    used up, every browser session ends, and with ``revoke_api_keys`` every API key and the
    calendar feed's address. Returns how many keys were revoked. A staff or admin account's
    reset goes to the audit log, with the ``address`` it came from. Commits; no connection is
    held while argon2 works."""
    token_hash = sha256(token)
    known = db.scalar(select(PasswordReset.expires_at).where(PasswordReset.id == token_hash))
    db.commit()
    if known is None or known <= utcnow():
        raise _invalid(settings)
    with password_work(settings):
        password_hash = hasher.hash(password)
    # Taken with the row, so that of two requests with one token only the first sets anything.
    used = db.execute(delete(PasswordReset).where(PasswordReset.id == token_hash)
                      .returning(PasswordReset.user_id, PasswordReset.expires_at)).first()
    if used is None or used.expires_at <= utcnow():
        db.commit()
        raise _invalid(settings)
    user = db.get(User, used.user_id)
    assert user is not None  # the row goes with its account (ON DELETE CASCADE)
    if user.deactivated_at is not None:  # its links were deleted then; one made meanwhile
        db.commit()
        raise _invalid(settings)
    user.password_hash = password_hash
    db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    # Whoever was locked out by failed logins to this account may log in at once.
    db.execute(delete(LoginCounter).where(LoginCounter.key == _key("account", user.email)))
    end_all_sessions(db, user)
    revoked = revoke_keys_and_feed(db, user) if revoke_api_keys else 0
    if audit.audited(user):
        keys = f", and revoked its {revoked} API key{'' if revoked == 1 else 's'}" \
            if revoke_api_keys else ""
        audit.record(db, audit.Actor.of(user, address), audit.Action.password_reset,
                     target_type="user", target_id=user.id,
                     summary=f"Set a new password for {user.email} with an emailed reset "
                             f"link{keys}", details={"api_keys_revoked": revoked})
    db.commit()
    return revoked
