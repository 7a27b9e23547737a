"""The purge: each kind of row is deleted once its retention has passed, and kept until then."""

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app import purge
from app.cli import app as cli
from app.config import Settings, get_settings
from app.db import utcnow
from app.directory import service as directory
from app.models import (
    AuthSession,
    Contact,
    DirectoryEntry,
    IdempotencyRecord,
    LoginCounter,
    OidcLogin,
    PasswordReset,
    ReminderEmail,
    Role,
    User,
)

NOW = utcnow()
SECOND = timedelta(seconds=1)


def tombstone(db: Session, name: str, deleted_at: datetime) -> str:
    entry = directory.create_entry(db, {"first_name": name, "external_id": name})
    directory.delete_entry(db, entry)
    entry.deleted_at = deleted_at
    db.flush()
    return entry.id


def world(db: Session, settings: Settings) -> dict[str, set[str]]:
    """Two rows of every kind: one whose time has just passed (first), one whose has not."""
    user = User(email="maya@uni.edu", password_hash="x", name="Maya")
    db.add(user)
    db.flush()
    kept_days = timedelta(days=settings.reminder_emails_keep_days)
    tombstone_days = timedelta(days=settings.tombstone_keep_days)
    db.add_all([
        AuthSession(id="gone", user_id=user.id, expires_at=NOW),
        AuthSession(id="kept", user_id=user.id, expires_at=NOW + SECOND),
        PasswordReset(id="gone", user_id=user.id, expires_at=NOW - SECOND),
        PasswordReset(id="kept", user_id=user.id, expires_at=NOW + SECOND),
        LoginCounter(key="gone", count=3, expires_at=NOW),
        LoginCounter(key="kept", count=3, expires_at=NOW + SECOND),
        OidcLogin(id="gone", browser="b", nonce="n", code_verifier="v", expires_at=NOW),
        OidcLogin(id="kept", browser="b", nonce="n", code_verifier="v",
                  expires_at=NOW + SECOND),
        IdempotencyRecord(id="gone", user_id=user.id, key="a", fingerprint="f", status_code=201,
                          body="{}", created_at=NOW - timedelta(hours=24) - SECOND),
        IdempotencyRecord(id="kept", user_id=user.id, key="b", fingerprint="f", status_code=201,
                          body="{}", created_at=NOW - timedelta(hours=23)),
        ReminderEmail(id="gone", user_id=user.id, kind="digest", key="1", status="sent",
                      created_at=NOW - kept_days - SECOND),
        ReminderEmail(id="gone-failed", user_id=user.id, kind="notice", key="2",
                      status="failed", created_at=NOW - kept_days - SECOND),
        ReminderEmail(id="kept", user_id=user.id, kind="digest", key="3", status="sent",
                      created_at=NOW - kept_days + SECOND),
        # Not sent yet: whatever its age, the reminder worker decides its fate.
        ReminderEmail(id="kept-pending", user_id=user.id, kind="digest", key="4",
                      status="pending", created_at=NOW - kept_days - SECOND),
    ])
    gone = tombstone(db, "gone", NOW - tombstone_days - SECOND)
    kept = tombstone(db, "kept", NOW - tombstone_days + SECOND)
    live = directory.create_entry(db, {"first_name": "Live"}).id
    db.commit()
    return {"directory_entries": {kept, live}, "auth_sessions": {"kept"},
            "password_resets": {"kept"}, "login_counters": {"kept"}, "oidc_logins": {"kept"},
            "idempotency_records": {"kept"}, "reminder_emails": {"kept", "kept-pending"},
            "gone": {gone}}


MODELS = {"directory_entries": DirectoryEntry, "auth_sessions": AuthSession,
          "password_resets": PasswordReset, "login_counters": LoginCounter,
          "oidc_logins": OidcLogin, "idempotency_records": IdempotencyRecord,
          "reminder_emails": ReminderEmail}


def left(db: Session) -> dict[str, set[str]]:
    found = {}
    for table, model in MODELS.items():
        key = next(iter(model.__table__.primary_key.columns))
        found[table] = set(db.scalars(select(key)))
    return found


@pytest.mark.parametrize("settings", [{}, {"tombstone_keep_days": 7,
                                           "reminder_emails_keep_days": 30}])
def test_each_kind_goes_after_its_retention_and_stays_before_it(
    app: FastAPI, make_settings: Callable[..., Settings], settings: dict[str, int],
) -> None:
    config = make_settings(**settings)
    with Session(app.state.engine) as db:
        expected = world(db, config)
        counts = purge.purge(db, config, NOW)
        assert counts == {"directory_tombstones": 1, "sessions": 1, "password_resets": 1,
                          "login_counters": 1, "oidc_logins": 1, "idempotency_records": 1,
                          "reminder_emails": 2, "audit_entries": 0, "unconfirmed_accounts": 0}
        expected.pop("gone")
        assert left(db) == expected
        assert purge.purge(db, config, NOW) == dict.fromkeys(counts, 0)


def test_a_tombstone_is_kept_for_sync_until_its_days_have_passed(
    app: FastAPI, make_settings: Callable[..., Settings],
) -> None:
    config = make_settings(tombstone_keep_days=90)
    with Session(app.state.engine) as db:
        entry_id = tombstone(db, "CRM-1", NOW)
        db.commit()
        assert purge.purge(db, config, NOW + timedelta(days=90))["directory_tombstones"] == 0
        assert purge.purge(db, config,
                           NOW + timedelta(days=90) + SECOND)["directory_tombstones"] == 1
        assert db.get(DirectoryEntry, entry_id) is None


def test_many_rows_go_in_batches(
    app: FastAPI, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(purge, "BATCH", 3)
    with Session(app.state.engine) as db:
        db.add_all([LoginCounter(key=f"k{n}", count=1, expires_at=NOW - SECOND)
                    for n in range(10)])
        db.commit()
        assert purge.purge(db, make_settings(), NOW)["login_counters"] == 10
        assert db.scalars(select(LoginCounter)).all() == []


def account(db: Session, name: str, registered: datetime, role: Role = Role.student,
            confirmed: bool = False) -> str:
    user = User(email=f"{name}@uni.edu", password_hash="x", name=name, role=role,
                created_at=registered, email_verified_at=registered if confirmed else None)
    db.add(user)
    db.flush()
    db.add(AuthSession(id=f"session-{name}", user_id=user.id, expires_at=NOW + timedelta(days=1)))
    db.add(Contact(owner_id=user.id, first_name="Ada"))
    db.commit()
    return user.id


def accounts(db: Session) -> set[str]:
    return set(db.scalars(select(User.name)))


EMAIL = {"smtp_url": "smtp://127.0.0.1:2525", "mail_from": "Rapport <rapport@uni.edu>"}


def test_an_account_never_confirmed_goes_after_its_days_with_all_it_had(
    app: FastAPI, make_settings: Callable[..., Settings],
) -> None:
    config = make_settings(**EMAIL)
    assert config.verification_on and config.unconfirmed_accounts_keep_days == 7
    week = timedelta(days=7)
    with Session(app.state.engine) as db:
        gone = account(db, "gone", NOW - week - SECOND)
        account(db, "recent", NOW - week + SECOND)
        account(db, "confirmed", NOW - 2 * week, confirmed=True)
        account(db, "staff", NOW - 2 * week, Role.staff)
        account(db, "admin", NOW - 2 * week, Role.admin)
        assert purge.purge(db, config, NOW)["unconfirmed_accounts"] == 1
        assert accounts(db) == {"recent", "confirmed", "staff", "admin"}
        assert db.scalars(select(AuthSession.user_id).where(AuthSession.user_id == gone)).all() \
            == []
        assert db.scalars(select(Contact).where(Contact.owner_id == gone)).all() == []
        assert purge.purge(db, config, NOW)["unconfirmed_accounts"] == 0

        # Never while verification is off (an unconfirmed account is a working one then), nor
        # with the setting 0; never before its link has stopped working.
        account(db, "old", NOW - 3 * week)
        for kept in (make_settings(), make_settings(**EMAIL, unconfirmed_accounts_keep_days=0)):
            assert purge.purge(db, kept, NOW)["unconfirmed_accounts"] == 0
        one_day = make_settings(**EMAIL, unconfirmed_accounts_keep_days=1)
        account(db, "linked", NOW - timedelta(hours=47))
        assert purge.purge(db, one_day, NOW)["unconfirmed_accounts"] == 2
        assert accounts(db) == {"confirmed", "staff", "admin", "linked"}


def test_unconfirmed_accounts_go_in_batches(
    app: FastAPI, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(purge, "ACCOUNTS_BATCH", 2)
    with Session(app.state.engine) as db:
        for n in range(5):
            account(db, f"squatter{n}", NOW - timedelta(days=30))
        assert purge.purge(db, make_settings(**EMAIL), NOW)["unconfirmed_accounts"] == 5
        assert accounts(db) == set()


def test_rapport_worker_once_purges_and_says_how_much(
    app: FastAPI, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    with Session(app.state.engine) as db:
        db.add(LoginCounter(key="ended", count=1, expires_at=utcnow() - SECOND))
        db.commit()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAPPORT_DATABASE_URL", database_url)
    monkeypatch.setenv("RAPPORT_ENV", "development")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["worker", "--once"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "Purged (rows past their retention): directory tombstones 0, sessions 0" \
        in result.output
    assert "login counters 1," in result.output
