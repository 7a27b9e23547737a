"""What the webhook tests share: the app with private addresses allowed (for a receiver on
127.0.0.1), a real HTTP receiver in a thread, staff, and a worker to drain by hand."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import utcnow
from app.main import create_app
from app.webhooks.worker import Worker
from tests.imports.helpers import make_staff

ALL_EVENTS = ["directory.entry.created", "directory.entry.updated", "directory.entry.deleted",
              "directory.entry.engaged", "import.completed"]


@dataclass
class Received:
    headers: Message
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def delivery(self) -> str:
        return str(self.headers["Rapport-Delivery"])


@dataclass
class Receiver:
    """Records every request; answers with the next of ``answers`` (200 once they run out)."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[str]:
        return [r.json["type"] for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with rec.lock:
                rec.requests.append(Received(self.headers, body))
                code = rec.answers.pop(0) if rec.answers else 200
            if rec.delay:
                time.sleep(rec.delay)
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", f"{rec.url}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def private_app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    """The app as deployed with RAPPORT_WEBHOOKS_ALLOW_PRIVATE=true."""
    application = create_app(make_settings(webhooks_allow_private=True))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def staff(private_app: FastAPI, database_url: str) -> Iterator[TestClient]:
    with TestClient(private_app) as client:
        make_staff(private_app, client)
        yield client


def subscribe(client: TestClient, url: str, events: list[str] | None = None,
              **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v1/webhooks",
                           json={"url": url, "events": events or ALL_EVENTS, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def worker(app: FastAPI, clock: Callable[[], datetime] = utcnow, **settings: Any) -> Worker:
    base: Settings = app.state.settings
    return Worker(app.state.sessionmaker, base.model_copy(update=settings), clock=clock)


def alumna(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Laura", "last_name": "Haddad", "email": "laura@example.org",
            "title": "Regulatory Affairs", "organization_name": "Medtronic",
            "external_id": "CRM-1", **fields}
    response = client.post("/api/v1/directory", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())
