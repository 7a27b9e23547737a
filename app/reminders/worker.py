"""The part of `rapport worker` that sends reminder emails: any number of workers, in any
number of processes, each email sent once.

A pass first *plans*: for every student whose morning (08:00 in their own zone) has come, the
day's digest is written as a row under the key ``digest:<their date>``, with its text; then the
notices that cannot wait. The key is unique per student, so when two workers plan the same
digest, the second insert fails and that worker moves on: a digest is decided once a day, even
by a worker started late or restarted (a day with nothing to say is decided too, and sends
nothing). Then it *sends*: each pending row is claimed with a lease, as webhook deliveries are
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional ``UPDATE`` on SQLite), handed to the
SMTP server with no transaction open, and marked sent. A worker stopped between two emails
leaves nothing half done; one killed while the server is taking an email leaves its lease to
run out, and the email is sent then (the only moment a copy can go twice is between the
server's "250 OK" and the row's commit). An SMTP failure is retried after a delay that doubles,
with jitter; a 5xx answer, or the last try, marks it failed. Staff see both on the Reminders
page, without the address."""

import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app import leases
from app.config import Settings
from app.db import new_token, utcnow
from app.models import (
    EmailKind,
    EmailStatus,
    Interview,
    ReminderEmail,
    ReminderPreference,
    Status,
    Task,
    TaskStatus,
    User,
)
from app.reminders import mail, service
from app.web import templates

log = logging.getLogger("rapport.reminders")
LONGEST_DELAY = timedelta(hours=6)
PRUNE_EVERY = timedelta(hours=1)
SKIPPED_KEPT = timedelta(days=7)
TEXT_KEPT = timedelta(days=30)  # then only the counts remain: the text names contacts
BATCH = 500
NOON = 12  # an interview before noon cannot wait for that morning's email


@dataclass(frozen=True)
class Pass:
    planned: int
    sent: int
    failed: int


class ReminderWorker:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings, *,
                 clock: Callable[[], datetime] | None = None, name: str | None = None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock or (lambda: settings.reminders_now or utcnow())
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{new_token(4)}"
        # Long enough for one whole SMTP conversation (connecting, TLS, sending).
        self.lease = timedelta(seconds=4 * settings.mail_timeout_seconds + 30)
        self.pruned_at: datetime | None = None

    # --- planning ---

    def _wants(self, choice: str) -> Select[str]:
        """Users who kept ``choice`` on (no row: the default, on)."""
        column = getattr(ReminderPreference, choice)
        return (select(User.id).outerjoin(ReminderPreference,
                                          ReminderPreference.user_id == User.id)
                .where(or_(column.is_(None), column.is_(True))))

    def _unplanned(self, query: Select[str], key: str) -> Select[str]:
        return query.where(~exists().where(ReminderEmail.user_id == User.id,
                                           ReminderEmail.key == key))

    def _insert(self, db: Session, email: ReminderEmail) -> bool:
        """Write ``email`` and commit; False when another worker planned it first."""
        db.add(email)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            return False
        return True

    def plan(self) -> int:
        """Write the digests whose morning has come and the notices due; how many will go."""
        now = self.clock()
        planned = 0
        with self.sessions() as db:
            zones = list(db.scalars(select(User.timezone).distinct()))
        for zone in zones:
            local = now.astimezone(ZoneInfo(zone))
            if local.time() < service.DIGEST_HOUR:
                continue
            key = f"digest:{local.date().isoformat()}"
            while True:
                with self.sessions() as db:
                    ids = list(db.scalars(self._unplanned(
                        self._wants("digest").where(User.timezone == zone), key).limit(BATCH)))
                planned += sum([self._plan_digest(user_id, key, now) for user_id in ids])
                if len(ids) < BATCH:
                    break
            planned += self._plan_interview_notices(zone, now)
        return planned + self._plan_thank_you_notices(now)

    def _plan_digest(self, user_id: str, key: str, now: datetime) -> int:
        site = self.settings.site_url
        with self.sessions() as db:
            user = db.get(User, user_id)
            if user is None:
                return 0
            found = service.digest(db, site, user, now)
            email = ReminderEmail(user_id=user.id, kind=EmailKind.digest, key=key,
                                  to_address=user.email, task_ids=found.task_ids,
                                  interview_ids=found.interview_ids, created_at=now,
                                  next_attempt_at=now, attempts=0, last_error="")
            if found.empty:
                email.status = EmailStatus.skipped
                email.next_attempt_at = None
            else:
                stop = service.unsubscribe_url(self.settings, user.id, "digest")
                email.status = EmailStatus.pending
                email.subject = service.digest_subject(found)
                email.text = service.digest_text(user, found, stop)
                email.html = templates.env.get_template("reminders/email_digest.html").render(
                    user=user, digest=found, unsubscribe=stop, site=site)
            return int(self._insert(db, email) and not found.empty)

    def _listed_today(self, db: Session, user: User, now: datetime) -> ReminderEmail | None:
        day = now.astimezone(ZoneInfo(user.timezone)).date().isoformat()
        return db.scalar(select(ReminderEmail).where(ReminderEmail.user_id == user.id,
                                                     ReminderEmail.key == f"digest:{day}"))

    def _plan_notice(self, db: Session, user: User, key: str, subject: str, lead: str,
                     item: service.Item, task_id: str | None, now: datetime) -> int:
        stop = service.unsubscribe_url(self.settings, user.id, "notices")
        html = templates.env.get_template("reminders/email_notice.html").render(
            user=user, item=item, lead=lead, unsubscribe=stop)
        return int(self._insert(db, ReminderEmail(
            user_id=user.id, kind=EmailKind.notice, key=key, status=EmailStatus.pending,
            to_address=user.email, subject=subject, html=html,
            text=service.notice_text(user, item, lead, stop),
            task_ids=[task_id] if task_id else [], interview_ids=[], created_at=now,
            next_attempt_at=now, attempts=0, last_error="")))

    def _plan_interview_notices(self, zone: str, now: datetime) -> int:
        """An interview tomorrow morning that this morning's digest did not name (set since,
        or the digest is off): one notice, once the student's own morning has come."""
        planned = 0
        local_zone = ZoneInfo(zone)
        day = now.astimezone(local_zone).date() + timedelta(days=1)
        tomorrow = datetime.combine(day, time(0), local_zone)
        noon = datetime.combine(day, time(NOON), local_zone)
        with self.sessions() as db:
            found = db.execute(
                select(Interview.id, Interview.owner_id, Interview.scheduled_at)
                .join(User, User.id == Interview.owner_id)
                .where(User.timezone == zone, Interview.status == Status.scheduled,
                       Interview.scheduled_at >= tomorrow, Interview.scheduled_at < noon,
                       User.id.in_(self._wants("notices")))).all()
        for interview_id, owner_id, at in found:
            key = f"interview:{interview_id}:{at:%Y-%m-%dT%H:%M}"
            with self.sessions() as db:
                user, interview = db.get(User, owner_id), db.get(Interview, interview_id)
                if user is None or interview is None or db.scalar(select(ReminderEmail.id).where(
                        ReminderEmail.user_id == user.id, ReminderEmail.key == key)):
                    continue
                listed = self._listed_today(db, user, now)
                if listed is not None and interview_id in listed.interview_ids:
                    continue
                item = service.interview_item(self.settings.site_url, user, interview)
                planned += self._plan_notice(
                    db, user, key, f"Tomorrow morning: {item.title}",
                    "You have an informational interview tomorrow morning.", item, None, now)
        return planned

    def _plan_thank_you_notices(self, now: datetime) -> int:
        """A thank-you note due within the next 24 hours: one notice, unless today's digest
        already named it."""
        planned = 0
        with self.sessions() as db:
            found = db.execute(
                select(Task.id, Task.owner_id).where(
                    Task.kind == "thank_you", Task.status == TaskStatus.open,
                    Task.due_at > now, Task.due_at <= now + timedelta(hours=24),
                    Task.owner_id.in_(self._wants("notices")),
                    ~exists().where(and_(ReminderEmail.user_id == Task.owner_id,
                                         ReminderEmail.key == "thank_you:" + Task.id)))).all()
        for task_id, owner_id in found:
            with self.sessions() as db:
                user, task = db.get(User, owner_id), db.get(Task, task_id)
                if user is None or task is None:
                    continue
                listed = self._listed_today(db, user, now)
                if listed is not None and task_id in listed.task_ids:
                    continue
                item = service.task_item(self.settings.site_url, user, task)
                planned += self._plan_notice(
                    db, user, f"thank_you:{task_id}", f"Thank-you due: {task.title}",
                    "A thank-you note is best sent within a day of the conversation.", item,
                    task_id, now)
        return planned

    # --- claiming ---

    def _due(self, now: datetime) -> Select[str]:
        return (select(ReminderEmail.id)
                .where(ReminderEmail.status == EmailStatus.pending,
                       ReminderEmail.next_attempt_at <= now,
                       leases.unclaimed(ReminderEmail, now))
                .order_by(ReminderEmail.next_attempt_at, ReminderEmail.id))

    def claim(self) -> str | None:
        """Take the lease of one email that is due; its id, or None when none is."""
        now = self.clock()
        return leases.claim(self.sessions, ReminderEmail, self._due(now), now, self.name, self.lease)

    # --- sending ---

    def send(self, mailer: mail.Mailer, email_id: str) -> str:
        """Send one claimed email; its status afterwards."""
        with self.sessions() as db:
            email = db.get(ReminderEmail, email_id)
            if email is None:  # the student deleted their account meanwhile
                return EmailStatus.skipped
            user = db.get(User, email.user_id)
            prefs = service.preferences(db, user) if user is not None else None
            wanted = prefs is not None and (prefs.digest if email.kind == EmailKind.digest
                                            else prefs.notices)
            what = "digest" if email.kind == EmailKind.digest else "notices"
            attempts = email.attempts
            try:
                msg = mail.message(
                    self.settings, email_id=email.id, to_name=user.name if user else "",
                    to_address=email.to_address, subject=email.subject, text=email.text,
                    html=email.html, unsubscribe_url=service.unsubscribe_url(
                        self.settings, email.user_id, what))
                unwritable = ""
            except (ValueError, TypeError) as exc:  # an email no server would ever take
                unwritable = f"Could not be written: {exc}"[:300]
        if unwritable:
            return self.record(email_id, attempts, EmailStatus.failed, unwritable)
        if not wanted:  # turned off after it was planned
            self.record(email_id, attempts, EmailStatus.skipped, "")
            return EmailStatus.skipped
        try:
            mailer.send(msg)
        except mail.Refused as exc:
            return self.record(email_id, attempts, EmailStatus.failed, str(exc))
        except Exception as exc:  # refused connection, timeout, 4xx: try again later
            return self.record(email_id, attempts, None, mail.describe(exc))
        return self.record(email_id, attempts, EmailStatus.sent, "")

    def _backoff(self, attempts: int) -> timedelta:
        delay = self.settings.mail_retry_seconds * 2 ** (attempts - 1)
        jitter = random.uniform(1.0, 1.5)  # noqa: S311
        return timedelta(seconds=min(delay * jitter, LONGEST_DELAY.total_seconds()))

    def record(self, email_id: str, attempts: int, status: str | None, error: str) -> str:
        """What came of a try; ``status`` None: it failed, and goes again later unless that
        was the last try."""
        now = self.clock()
        tries = attempts + (status != EmailStatus.skipped)
        if status is None:
            status = (EmailStatus.failed if tries >= self.settings.mail_max_attempts
                      else EmailStatus.pending)
        values: dict[str, object] = {"status": status, "attempts": tries,
                                     "claimed_by": None, "claimed_until": None,
                                     "next_attempt_at": None}
        if status != EmailStatus.skipped:
            values |= {"last_attempt_at": now, "last_error": error[:300]}
        if status == EmailStatus.sent:
            values["sent_at"] = now
        elif status == EmailStatus.pending:
            values["next_attempt_at"] = now + self._backoff(tries)
        with self.sessions() as db, db.begin():
            kept = db.execute(update(ReminderEmail).where(
                ReminderEmail.id == email_id, ReminderEmail.claimed_by == self.name
            ).values(**values))
        if kept.rowcount != 1:  # type: ignore[attr-defined]
            log.warning("reminder %s: the lease ran out before its outcome was recorded",
                        email_id)
        return status

    def prune(self) -> None:
        """Days with nothing to say are forgotten after a week; an email's text after a month
        (the row stays, for the staff's counts)."""
        now = self.clock()
        with self.sessions() as db, db.begin():
            db.execute(delete(ReminderEmail).where(
                ReminderEmail.status == EmailStatus.skipped,
                ReminderEmail.created_at < now - SKIPPED_KEPT))
            db.execute(update(ReminderEmail).where(
                ReminderEmail.status.in_([EmailStatus.sent, EmailStatus.failed]),
                ReminderEmail.created_at < now - TEXT_KEPT, ReminderEmail.text != "")
                .values(text="", html="", subject=""))

    def drain(self, stop: threading.Event | None = None) -> Pass:
        """Plan what is due, then send every email that is due now, one after another (until
        ``stop`` is set: the email being sent is finished first)."""
        if not self.settings.email_enabled:
            return Pass(0, 0, 0)
        if self.pruned_at is None or self.clock() - self.pruned_at > PRUNE_EVERY:
            self.prune()
            self.pruned_at = self.clock()
        planned = self.plan()
        outcomes: list[str] = []
        with mail.Mailer(self.settings) as mailer:
            while not (stop and stop.is_set()) and (email_id := self.claim()) is not None:
                outcomes.append(self.send(mailer, email_id))
        return Pass(planned, outcomes.count(EmailStatus.sent),
                    len(outcomes) - outcomes.count(EmailStatus.sent)
                    - outcomes.count(EmailStatus.skipped))

    def run(self, stop: threading.Event) -> None:
        """Drain, wait a little, again, until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.drain(stop)
            except Exception:  # the database away for a moment: try again at the next turn
                log.exception("reminder worker %s: a pass failed", self.name)
            stop.wait(self.settings.reminders_poll_seconds)

