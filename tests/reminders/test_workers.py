"""`rapport worker --once` processes against the same database (a SQLite file, or the
PostgreSQL database of the suite) and a real SMTP server: two at once send each digest once;
one killed while the server holds an email leaves the rest to the next, which repeats none."""

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.models import Task, User
from tests.reminders.conftest import MAIL_FROM, SITE, Mailbox

RAPPORT = Path(sys.executable).parent / "rapport"
EIGHT_IN_PARIS = datetime(2030, 3, 4, 7, 0, tzinfo=UTC)


def students(app: FastAPI, count: int) -> set[str]:
    """Students in Paris with a task due that day (written as the workflow writes them)."""
    with Session(app.state.engine) as db:
        for n in range(count):
            user = User(email=f"student{n}@uni.edu", password_hash="-", name=f"Student {n}",
                        timezone="Europe/Paris")
            db.add(user)
            db.flush()
            db.add(Task(owner_id=user.id, title=f"Task of student {n}", kind="custom",
                        due_at=EIGHT_IN_PARIS + timedelta(hours=4)))
        db.commit()
    return {f"student{n}@uni.edu" for n in range(count)}


def start(database_url: str, box: Mailbox, now: datetime, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "RAPPORT_DATABASE_URL": database_url, "RAPPORT_ENV": "development",
           "RAPPORT_SMTP_URL": box.url, "RAPPORT_MAIL_FROM": MAIL_FROM,
           "RAPPORT_PUBLIC_URL": SITE, "RAPPORT_REMINDERS_NOW": now.isoformat()}
    return subprocess.Popen([str(RAPPORT), "worker", "--once"], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def received(box: Mailbox) -> Counter[str]:
    return Counter(m["To"].addresses[0].addr_spec for m in box.messages)


def test_two_worker_processes_send_one_digest_per_student(
        mail_app: FastAPI, database_url: str, mailbox: Mailbox, tmp_path: Path) -> None:
    expected = students(mail_app, 20)
    workers = [start(database_url, mailbox, EIGHT_IN_PARIS, tmp_path) for _ in range(2)]
    for process in workers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    counts = received(mailbox)
    assert set(counts) == expected
    assert set(counts.values()) == {1}, [a for a, n in counts.items() if n > 1]


def test_a_worker_killed_mid_run_leaves_the_rest_to_the_next_which_repeats_none(
        mail_app: FastAPI, database_url: str, mailbox: Mailbox, tmp_path: Path) -> None:
    expected = students(mail_app, 6)
    mailbox.hold_at = 3  # the server takes two emails, then holds the third unanswered
    first = start(database_url, mailbox, EIGHT_IN_PARIS, tmp_path)
    assert mailbox.holding.wait(60), first.communicate(timeout=5)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    mailbox.release.set()
    assert len(mailbox.messages) == 2

    # Later that morning (past the killed worker's lease), another worker finishes the day.
    second = start(database_url, mailbox, EIGHT_IN_PARIS + timedelta(minutes=10), tmp_path)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "4 reminder emails sent" in out
    counts = received(mailbox)
    assert set(counts) == expected and set(counts.values()) == {1}
