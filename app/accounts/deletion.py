"""Deleting an account with everything it owns: by the student themselves (``delete_own``,
after their password, or their email for an account made by single sign-on), or by an
administrator (``delete_account``).

Every row the account owns goes, in one bulk statement per table, by owner, children before
their parents: nothing is loaded row by row, so a student with 30,000 contacts goes in one
short transaction. What stays:

- the alumni directory, and its imports' effects: they are the institution's;
- webhooks a staff member set up: the career office's configuration, kept working without a
  creator (their deliveries may name students who chose to share; see
  ``webhooks.forget_student``);
- a student's directory engagements, without them (``student_id`` NULL): the staff's counts of
  who reached whom stay whole and anonymous. A staff member's own are deleted: they were never
  counted;
- login counters, keyed by digests of an email or an address rather than by account: they
  expire on their own, and the purge (app/purge.py) deletes them then.

The email address is free again at once: registering with it makes a new, empty account.
"""

from sqlalchemy import Delete, delete, select, update
from sqlalchemy.orm import Session

from app.accounts.service import (
    _count_or_refuse,
    hasher,
    normalize_email,
    own_password_guesses,
    password_work,
)
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, ValidationFailed
from app.models import (
    ApiKey,
    AuthSession,
    Contact,
    ContactEvent,
    ContactTag,
    DirectoryEngagement,
    IdempotencyRecord,
    Import,
    ImportRowError,
    Interview,
    InterviewQuestion,
    LoginCounter,
    Message,
    OidcIdentity,
    Organization,
    PasswordReset,
    Question,
    ReminderEmail,
    ReminderPreference,
    Role,
    Task,
    Template,
    User,
    Webhook,
)
from app.webhooks import service as webhooks

LAST_ADMIN = ("You are the last administrator of this Rapport. Make someone else an "
              "administrator first, so that someone can still manage it.")


def _owned(user_id: str) -> list[Delete]:
    """One statement per table, children first: what refers to a row goes before the row."""
    imports = select(Import.id).where(Import.owner_id == user_id)
    return [
        delete(ImportRowError).where(ImportRowError.import_id.in_(imports))
        .execution_options(synchronize_session=False),
        delete(Import).where(Import.owner_id == user_id),
        delete(InterviewQuestion).where(InterviewQuestion.owner_id == user_id),
        delete(Message).where(Message.owner_id == user_id),
        delete(Task).where(Task.owner_id == user_id),
        delete(Interview).where(Interview.owner_id == user_id),
        delete(ContactEvent).where(ContactEvent.owner_id == user_id),
        delete(ContactTag).where(ContactTag.owner_id == user_id),
        delete(Contact).where(Contact.owner_id == user_id),
        delete(Organization).where(Organization.owner_id == user_id),
        delete(Question).where(Question.owner_id == user_id),
        delete(Template).where(Template.owner_id == user_id),
        delete(ReminderEmail).where(ReminderEmail.user_id == user_id),
        delete(ReminderPreference).where(ReminderPreference.user_id == user_id),
        delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id),
        delete(PasswordReset).where(PasswordReset.user_id == user_id),
        delete(OidcIdentity).where(OidcIdentity.user_id == user_id),
        delete(ApiKey).where(ApiKey.user_id == user_id),
        delete(AuthSession).where(AuthSession.user_id == user_id),
    ]


def is_last_admin(db: Session, user: User) -> bool:
    """Whether ``user`` is the last active administrator: nobody could manage Rapport without
    them. The active administrators' rows are locked (on PostgreSQL; SQLite has one writer at a
    time) until the caller commits, so two administrators taking each other away at once
    cannot both succeed."""
    if user.role != Role.admin or user.deactivated_at is not None:
        return False
    admins = db.scalars(select(User.id)
                        .where(User.role == Role.admin, User.deactivated_at.is_(None))
                        .order_by(User.id).with_for_update())
    return not any(admin_id != user.id for admin_id in admins)


def refuse_last_admin(db: Session, user: User) -> None:
    """409 ``last_admin`` when ``user`` is the only administrator left."""
    if is_last_admin(db, user):
        raise Conflict(LAST_ADMIN, code="last_admin")


def delete_account(db: Session, user: User) -> None:
    """Delete ``user`` and every row they own, in the caller's transaction (nothing is
    committed here). Refuses (409 ``last_admin``) to delete the last administrator."""
    refuse_last_admin(db, user)
    if user.share_engagement_with_career_office:
        webhooks.forget_student(db, user)
    engagements = DirectoryEngagement.student_id == user.id
    if user.role == Role.student:
        db.execute(update(DirectoryEngagement).where(engagements).values(student_id=None))
    else:
        db.execute(delete(DirectoryEngagement).where(engagements))
    db.execute(update(Webhook).where(Webhook.created_by_id == user.id)
               .values(created_by_id=None))
    for statement in _owned(user.id):
        db.execute(statement)
    db.execute(delete(User).where(User.id == user.id))


def delete_own(db: Session, settings: Settings, user: User, password: str | None,
               email: str | None) -> None:
    """A person deletes their own account, confirming with their password; an account made by
    single sign-on, which has none, confirms by typing its email address instead.

    A wrong password is refused (403 ``wrong_password``) and counts against the same limit as
    wrong current passwords when changing it (429 ``password_throttled``). The count and what
    the request did before are committed first: no connection is held while argon2 works."""
    refuse_last_admin(db, user)
    if not user.password_hash:
        if email is None:
            raise ValidationFailed(fields=[("email", "Type your email address to confirm.")])
        if normalize_email(email) != user.email:
            raise Forbidden("This is not the email address of your account. Your account "
                            "was not deleted.", code="wrong_email")
        delete_account(db, user)
        return
    if password is None:
        raise ValidationFailed(fields=[("password", "Type your password to confirm.")])
    guesses = own_password_guesses(settings, user)
    _count_or_refuse(db, guesses, utcnow(), "password_throttled")
    db.commit()
    with password_work(settings):
        right = hasher.verify(password, user.password_hash)
    if not right:
        raise Forbidden("This is not your password. Your account was not deleted.",
                        code="wrong_password")
    db.execute(delete(LoginCounter).where(LoginCounter.key == guesses.key))
    delete_account(db, user)
