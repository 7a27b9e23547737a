"""The purge run by `rapport worker`: rows kept for a while, then deleted once their retention
has passed.

- directory tombstones (a deleted entry's id and external id, kept so that an integration's
  sync learns of the deletion) after ``tombstone_keep_days``;
- browser sessions, password reset links, login counters, OpenID sign-ins begun and never
  finished: once expired;
- idempotency records, once a retry can no longer replay them (``idempotency.LIFETIME``);
- reminder emails sent or failed, after ``reminder_emails_keep_days`` (the staff's figures count
  them until then; their text went after a month already, see app/reminders/worker.py);
- with email verification on, student accounts that never confirmed their address, with
  everything they have, ``unconfirmed_accounts_keep_days`` after registering (never before
  their link has stopped working): whoever registered an address not theirs does not hold it.

Webhook deliveries are not here: the sender deletes its own after ``webhooks_keep_days``
(app/webhooks/worker.py), as do the reminder worker its days with nothing to say.

Each kind goes in batches of ``BATCH`` rows, each in a transaction of its own, so the purge never
holds SQLite's write lock longer than one short batch (accounts go ``ACCOUNTS_BATCH`` at a time,
each deleted as app/accounts/deletion.py does). Several workers may purge at once: a row
is deleted once, whoever gets to it.
"""

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.deletion import delete_account
from app.accounts.verification import never_confirmed
from app.config import Settings
from app.db import utcnow
from app.idempotency import LIFETIME
from app.models import (
    AuditEntry,
    AuthSession,
    DirectoryEntry,
    EmailStatus,
    IdempotencyRecord,
    LoginCounter,
    OidcLogin,
    PasswordReset,
    ReminderEmail,
    User,
)

log = logging.getLogger("rapport.purge")
BATCH = 1000
ACCOUNTS_BATCH = 50
EVERY = timedelta(hours=1)


def _expired(settings: Settings, now: datetime) -> list[tuple[str, Any, ColumnElement[bool]]]:
    """Each kind: its name in the counts, its model, and which of its rows have had their time."""
    return [
        ("directory_tombstones", DirectoryEntry,
         DirectoryEntry.deleted_at < now - timedelta(days=settings.tombstone_keep_days)),
        ("sessions", AuthSession, AuthSession.expires_at <= now),
        ("password_resets", PasswordReset, PasswordReset.expires_at <= now),
        ("login_counters", LoginCounter, LoginCounter.expires_at <= now),
        ("oidc_logins", OidcLogin, OidcLogin.expires_at <= now),
        ("idempotency_records", IdempotencyRecord, IdempotencyRecord.created_at < now - LIFETIME),
        ("reminder_emails", ReminderEmail,
         and_(ReminderEmail.status.in_([EmailStatus.sent, EmailStatus.failed]),
              ReminderEmail.created_at < now - timedelta(days=settings.reminder_emails_keep_days))),
        ("audit_entries", AuditEntry, AuditEntry.at < now - timedelta(days=settings.audit_keep_days)),
    ]


def _in_batches(db: Session, model: Any, expired: ColumnElement[bool]) -> int:
    """Delete the rows of ``model`` matching ``expired``, ``BATCH`` at a time, committing each
    batch; how many went."""
    key = next(iter(model.__table__.primary_key.columns))
    deleted = 0
    while True:
        # Rows another transaction holds (a login counting, a session sliding) are left for
        # the next turn (on PostgreSQL; SQLite has one writer at a time): the purge never waits
        # for a row, nor is waited for. Checked again as deleted: a row may have been given
        # more time (a tombstone brought back) since it was read.
        batch = db.scalars(select(key).where(expired).limit(BATCH)
                           .with_for_update(skip_locked=True)).all()
        if batch:
            db.execute(delete(model).where(key.in_(batch), expired)
                       .execution_options(synchronize_session=False))
        db.commit()
        deleted += len(batch)
        if len(batch) < BATCH:
            return deleted


def _unconfirmed_accounts(db: Session, settings: Settings, now: datetime) -> int:
    """Delete the student accounts never confirmed whose time has passed, ``ACCOUNTS_BATCH``
    per transaction; how many went. None with verification off (an unconfirmed account is a
    working one then), nor with ``unconfirmed_accounts_keep_days`` 0."""
    days = settings.unconfirmed_accounts_keep_days
    if not days or not settings.verification_on:
        return 0
    kept = max(timedelta(days=days), timedelta(hours=settings.email_verification_hours))
    stale = never_confirmed(now - kept)
    deleted = 0
    while True:
        # Locked as read (one confirming waits for the purge, and a purge skips what another
        # holds); on SQLite, the transaction holds the write lock from the start.
        batch = db.scalars(select(User).where(stale).limit(ACCOUNTS_BATCH)
                           .with_for_update(skip_locked=True)).all()
        for user in batch:
            delete_account(db, user)
        db.commit()
        deleted += len(batch)
        if len(batch) < ACCOUNTS_BATCH:
            return deleted


def purge(db: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete every row whose retention has passed at ``now``; how many of each kind."""
    counts = {kind: _in_batches(db, model, expired)
              for kind, model, expired in _expired(settings, now)}
    counts["unconfirmed_accounts"] = _unconfirmed_accounts(db, settings, now)
    return counts


def run(sessions: sessionmaker[Session], settings: Settings, stop: threading.Event) -> None:
    """Purge now, then every ``EVERY``, until ``stop`` is set."""
    while not stop.is_set():
        try:
            with sessions() as db:
                purge(db, settings, utcnow())
        except Exception:  # the database away for a moment: try again at the next turn
            log.exception("the purge failed; trying again in an hour")
        stop.wait(EVERY.total_seconds())
