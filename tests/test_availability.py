"""Under load the app answers, or says when to come back: a busy database is a 503 with
Retry-After, never a 500; and `rapport serve --workers 2` takes twenty writers at once, on SQLite
and on PostgreSQL alike."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, make_url, select, text

from app import db as database
from app.config import Settings
from app.db import make_sessionmaker, reading
from app.errors import BUSY_RETRY_AFTER, DatabaseBusy
from app.main import create_app
from app.models import Contact
from tests.conftest import PASSWORD, SECRET, api_key, signed_in

BUSY = {"error": "database_busy", "detail": DatabaseBusy.detail}


def _sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


@contextmanager
def writes_held(database_url: str) -> Iterator[None]:
    """Another connection holding what a new contact needs, for as long as the block lasts:
    SQLite's write lock, or PostgreSQL's lock on the contacts table."""
    url = make_url(database_url)
    if _sqlite(database_url):
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE contacts IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()
    finally:
        engine.dispose()


def contacts_in(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Contact)) or 0)
    finally:
        engine.dispose()


@pytest.fixture
def busy_app(make_settings: Callable[..., Settings], database_url: str,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """The app where waiting for the database ends soon: SQLite waits its turn to write for
    0.1 s instead of 5, PostgreSQL for a lock 0.1 s (lock_timeout) instead of as long as it
    takes."""
    url = make_url(database_url)
    if _sqlite(database_url):
        monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 100)
    else:
        url = url.update_query_dict({"options": "-c lock_timeout=100"})
    application = create_app(make_settings(database_url=url.render_as_string(hide_password=False)))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def student(busy_app: FastAPI) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A logged-in student of the busy app, and the headers of an API key of theirs."""
    with TestClient(busy_app) as client:
        signed_in(client)
        key = api_key(client, ["contacts:read", "contacts:write"])
        yield client, {"Authorization": f"Bearer {key}"}


def test_a_busy_database_is_a_503_to_send_again(
    student: tuple[TestClient, dict[str, str]], database_url: str
) -> None:
    client, key = student
    with writes_held(database_url):
        response = client.post("/api/v1/contacts", json={"first_name": "Ada"}, headers=key)
    assert response.status_code == 503, response.text
    assert response.json() == BUSY
    assert response.headers["Retry-After"] == str(BUSY_RETRY_AFTER)
    assert response.headers["Connection"] == "close"
    assert contacts_in(database_url) == 0  # nothing was done
    again = client.post("/api/v1/contacts", json={"first_name": "Ada"}, headers=key)
    assert again.status_code == 201, again.text
    assert contacts_in(database_url) == 1


def test_a_busy_database_shows_htmx_an_alert(
    student: tuple[TestClient, dict[str, str]], database_url: str
) -> None:
    client, _ = student
    with writes_held(database_url):
        response = client.post("/api/v1/contacts", json={"first_name": "Ada"},
                               headers={"HX-Request": "true"})
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["HX-Retarget"] == "#flash"
    assert DatabaseBusy.detail in response.text
    assert response.headers["Retry-After"] == str(BUSY_RETRY_AFTER)


def test_no_free_connection_is_a_503(make_settings: Callable[..., Settings],
                                     database_url: str) -> None:
    application = create_app(make_settings())
    small = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    application.state.sessionmaker = make_sessionmaker(small)
    application.state.reading_sessionmaker = make_sessionmaker(reading(small))
    try:
        with TestClient(application) as client, small.connect():  # the one connection, taken
            response = client.get("/api/v1/me", headers={"Authorization": "Bearer rpk_any"})
        assert response.status_code == 503
        assert response.json() == BUSY
        assert response.headers["Retry-After"] == str(BUSY_RETRY_AFTER)
    finally:
        small.dispose()
        application.state.engine.dispose()


def test_a_process_keeps_the_connections_it_opened_and_opens_no_more_than_its_pool(
        make_settings: Callable[..., Settings]) -> None:
    """Four connections at once, twice: the second time takes the four the first opened (a pool
    that closed those past a smaller kept size would open them again, under steady load a new
    PostgreSQL server process every few requests); a fifth at once waits for one to come back."""
    application = create_app(make_settings(database_pool_size=4))
    engine = application.state.engine
    opened: list[object] = []
    event.listen(engine, "connect", lambda connection, record: opened.append(connection))
    try:
        for _ in range(2):
            held = [engine.connect() for _ in range(4)]
            for connection in held:
                connection.close()
        assert len(opened) == 4

        held = [engine.connect() for _ in range(4)]
        with ThreadPoolExecutor(1) as pool:
            fifth = pool.submit(lambda: engine.connect().close())
            time.sleep(0.3)
            assert not fifth.done()
            held.pop().close()
            fifth.result(timeout=10)
        for connection in held:
            connection.close()
        assert len(opened) == 4
    finally:
        engine.dispose()


# --- a real server with two workers ---

RAPPORT = Path(sys.executable).with_name("rapport")
STARTUP_SECONDS = 90
WRITERS = 20
CONTACTS_EACH = 15


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """The server and its workers (one process group), politely first."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`rapport serve --workers 2` on a free port of 127.0.0.1, on the tests' database (already
    migrated), with webhooks allowed to a receiver on this machine."""
    home = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")} | {
        "RAPPORT_ENV": "production", "RAPPORT_DATABASE_URL": database_url,
        "RAPPORT_SECRET_KEY": SECRET,
        "RAPPORT_RATE_LIMIT_PER_KEY": "1000000", "RAPPORT_RATE_LIMIT_PER_USER": "1000000",
        "RAPPORT_WEBHOOKS_ALLOW_PRIVATE": "true", "RAPPORT_WEBHOOKS_POLL_SECONDS": "0.2",
    }
    log = home / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(RAPPORT), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            cwd=home, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    running = Server(f"http://127.0.0.1:{port}", process, env, log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"the server stopped:\n{running.output()}"
            assert time.monotonic() < deadline, f"the server did not start:\n{running.output()}"
            try:
                if httpx.get(f"{running.url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield running
    finally:
        _stop(process)


def _children(pid: int) -> list[str]:
    """The command lines of a process's children (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(command)
    return found


def _keys(url: str, students: int, each: int) -> list[str]:
    """``students`` registered through the API, each with ``each`` API keys."""
    keys = []
    for n in range(students):
        with httpx.Client(base_url=url, timeout=30) as browser:
            email = f"writer{n}@uni.edu"
            made = browser.post("/api/v1/auth/register",
                                json={"email": email, "password": PASSWORD, "name": f"W {n}"})
            assert made.status_code == 201, made.text
            login = browser.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            browser.headers["X-CSRF-Token"] = login.headers["X-CSRF-Token"]
            for k in range(each):
                key = browser.post("/api/v1/api-keys", json={
                    "name": f"writer {k}", "scopes": ["contacts:read", "contacts:write"]})
                assert key.status_code == 201, key.text
                keys.append(str(key.json()["key"]))
    return keys


def test_two_workers_answer(server: Server) -> None:
    workers = [c for c in _children(server.process.pid) if "multiprocessing" in c
               and "spawn_main" in c]
    assert len(workers) == 2, _children(server.process.pid)


def test_twenty_writers_at_once_get_no_server_error(server: Server, database_url: str) -> None:
    keys = _keys(server.url, students=5, each=WRITERS // 5)
    start = threading.Barrier(WRITERS, timeout=60)

    def write(n: int) -> list[tuple[int, dict[str, Any], httpx.Headers]]:
        answers = []
        with httpx.Client(base_url=server.url, timeout=60,
                          headers={"Authorization": f"Bearer {keys[n]}"}) as http:
            start.wait()
            for i in range(CONTACTS_EACH):
                response = http.post("/api/v1/contacts", json={
                    "first_name": f"Writer {n}", "last_name": f"Contact {i}"})
                answers.append((response.status_code, response.json(), response.headers))
        return answers

    began = time.monotonic()
    with ThreadPoolExecutor(WRITERS) as pool:
        answers = [a for batch in pool.map(write, range(WRITERS), timeout=300) for a in batch]
    elapsed = time.monotonic() - began
    statuses = Counter(status for status, _, _ in answers)
    print(f"\n{len(answers)} writes by {WRITERS} writers on 2 workers "
          f"({make_url(database_url).get_backend_name()}) in {elapsed:.1f} s: "
          f"{statuses[201]} created, {statuses[503]} busy (503), "
          f"other: {dict(statuses - Counter({201: statuses[201], 503: statuses[503]}))}")
    assert len(answers) == WRITERS * CONTACTS_EACH
    assert set(statuses) <= {201, 503}, statuses
    for status, body, headers in answers:
        if status == 503:
            assert body == BUSY
            assert headers["Retry-After"] == str(BUSY_RETRY_AFTER)
            assert headers["Connection"] == "close"
    assert contacts_in(database_url) == statuses[201]  # every 201 kept, nothing else written


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 - shared by design: one receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_Receiver,), {"received": received})
    http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_address[1]}/hook", received
    http.shutdown()
    http.server_close()
    thread.join(timeout=5)


def test_webhooks_go_out_from_a_server_with_two_workers(
    server: Server, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    hook_url, received = receiver
    made = subprocess.run(
        [str(RAPPORT), "users", "create", "--email", "office@uni.edu", "--name", "Career Office",
         "--role", "staff", "--password-stdin"],
        input=f"{PASSWORD}\n".encode(), env=server.env, capture_output=True, timeout=60)
    assert made.returncode == 0, made.stderr.decode()
    with httpx.Client(base_url=server.url, timeout=30) as office:
        login = office.post("/api/v1/auth/login",
                            json={"email": "office@uni.edu", "password": PASSWORD})
        assert login.status_code == 200, login.text
        office.headers["X-CSRF-Token"] = login.headers["X-CSRF-Token"]
        hook = office.post("/api/v1/webhooks",
                           json={"url": hook_url, "events": ["directory.entry.created"]})
        assert hook.status_code == 201, hook.text
        entry = office.post("/api/v1/directory", json={
            "first_name": "Laura", "last_name": "Haddad", "external_id": "CRM-1"})
        assert entry.status_code == 201, entry.text
    deadline = time.monotonic() + 30
    while not received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [event["type"] for event in received] == ["directory.entry.created"]
    assert received[0]["data"]["id"] == entry.json()["id"]
