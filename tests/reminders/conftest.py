"""What the reminder tests share: a real SMTP server on loopback (aiosmtpd) that records what
it is given and answers as told, students in their own time zones with tasks and interviews
dated at will, and a worker whose clock is set, not waited for."""

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import create_app
from app.models import Interview, Task
from app.reminders.worker import ReminderWorker
from tests.conftest import browsers_of, signed_in

SITE = "http://rapport.test"
MAIL_FROM = "Rapport <reminders@uni.edu>"


@dataclass
class Mailbox:
    """Every message the server accepted; ``answers`` are given in turn before "250 OK"."""

    url: str = ""
    messages: list[EmailMessage] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    tries: int = 0
    # When set, the server stops answering at the ``hold_at``-th message until ``release``.
    hold_at: int = 0
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


class Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        self.box.tries += 1
        if self.box.hold_at and self.box.tries == self.box.hold_at:
            self.box.holding.set()
            self.box.release.wait(30)
            return "451 4.3.0 Closing"
        if self.box.answers:
            return self.box.answers.pop(0)
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.box.messages.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(Handler(box), hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.url = f"smtp://127.0.0.1:{controller.port}"
    yield box
    box.release.set()
    controller.stop()


@pytest.fixture(scope="session")
def mail_app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    """The app as deployed with email on (the worker is handed the test's own server)."""
    application = create_app(make_settings(smtp_url="smtp://127.0.0.1:25", mail_from=MAIL_FROM,
                                           public_url=SITE, email_verification=False))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def mail_client(mail_app: FastAPI, database_url: str) -> Iterator[TestClient]:
    with TestClient(mail_app) as client:
        yield client


@pytest.fixture
def make_mail_client(mail_app: FastAPI, database_url: str) -> Iterator[Callable[[], TestClient]]:
    yield from browsers_of(mail_app)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def worker(app: FastAPI, box: Mailbox, clock: Clock, **settings: Any) -> ReminderWorker:
    base: Settings = app.state.settings
    return ReminderWorker(app.state.sessionmaker,
                          base.model_copy(update={"smtp_url": box.url, **settings}), clock=clock)


def student(client: TestClient, email: str, name: str, timezone: str) -> dict[str, Any]:
    user = signed_in(client, email=email, name=name)
    response = client.patch("/api/v1/me", json={"timezone": timezone})
    assert response.status_code == 200, response.text
    return user


def contact(client: TestClient, first: str, last: str) -> dict[str, Any]:
    response = client.post("/api/v1/contacts", json={"first_name": first, "last_name": last})
    assert response.status_code == 201, response.text
    return dict(response.json())


def add_task(app: FastAPI, user_id: str, title: str, due_at: datetime, kind: str = "custom",
             contact_id: str | None = None, interview_id: str | None = None) -> str:
    """A task as the workflow writes them (its kind and due date as given)."""
    with Session(app.state.engine) as db:
        task = Task(owner_id=user_id, title=title, kind=kind, due_at=due_at,
                    contact_id=contact_id, interview_id=interview_id)
        db.add(task)
        db.commit()
        return task.id


def add_interview(app: FastAPI, user_id: str, contact_id: str, at: datetime,
                  status: str = "scheduled") -> str:
    with Session(app.state.engine) as db:
        interview = Interview(owner_id=user_id, contact_id=contact_id, scheduled_at=at,
                              status=status, location="Medtronic, 710 Medtronic Pkwy")
        db.add(interview)
        db.commit()
        return interview.id


def get(app: FastAPI, model: Any, ident: str) -> Any:
    with Session(app.state.engine, expire_on_commit=False) as db:
        return db.get(model, ident)


