"""The contact list, search and a mix with writes under load: the app served by uvicorn against a
bare FastAPI app served the same way, side by side.

Run it from the project root:

    .venv/bin/python bench/load.py                          # a fresh SQLite file, 2 workers
    psql -h 127.0.0.1 -U postgres -c "create database bench"     # once
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        --redis-url redis://127.0.0.1:6379/4
    .venv/bin/python bench/load.py --quick                  # a few requests: does it still run?

What it does:

1. Empties the database it is given (PostgreSQL: ``DROP SCHEMA public CASCADE``; SQLite: a new
   file in a temporary directory) and migrates it. It refuses a database named ``test``.
2. Seeds a student with ``--contacts`` contacts (and a second student with a tenth as many)
   through the contacts service, as the API would create them: organizations, tags, referrers,
   next actions, empty fields. The student gets an API key (contacts:read, contacts:write).
3. In-process: the list endpoint through ``httpx.ASGITransport`` against each form of the bare
   route (``bench/bare.py``: bytes, query, model, dict), the list with a page of one, and the
   list's own work alone (``own_work``) in the bare route, one request at a time, in alternating
   rounds; then that work called directly, for its CPU per page. The page it answers (and a
   page of a search, and one contact) become the bodies of the bare app, byte for byte, and the
   SQL it sent for the page becomes the query form's.
4. Over HTTP: the app (``uvicorn app.main:create_app --factory --workers N``) and the bare app
   (the same uvicorn, the same workers, the bytes form) on free ports of 127.0.0.1, driven in
   turn by the same load generator at each concurrency: reads of the list, searches, and a mix
   (60 % list, 20 % search, 10 % creates, 10 % updates); the list also against the bare app's
   dict form. Each step is bounded by ``--requests`` and ``--seconds``.

It prints requests per second, p50 and p99 and errors for both, the ratio, and the targets; it
never fails on speed (exit 0). The load generator is a few lines of asyncio speaking HTTP/1.1 on
keep-alive connections: a client library spends more CPU per request than the bare app, on the
same two cores, and would flatten the ratio it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bare import FORMS, create_bare, driver_query, save_bodies  # noqa: E402
from contacts import reset  # noqa: E402

from app import migrate  # noqa: E402
from app.accounts import service as accounts  # noqa: E402
from app.config import Settings  # noqa: E402
from app.contacts import service as contacts  # noqa: E402
from app.contacts.schemas import ContactIn, dump_json  # noqa: E402
from app.contacts.service import ContactFilters  # noqa: E402
from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Role, Source, Stage, User  # noqa: E402

SEED = 20261203
PAGE = 50
LIST_RATIO = 0.5
PASSWORD = "correct horse battery"  # noqa: S105 - a benchmark's own student

FIRST = ["Maya", "Liam", "Olivia", "Noah", "Amara", "Kofi", "Priya", "Arjun", "Mei", "Hiroshi",
         "Fatima", "Omar", "Layla", "Grace", "Samuel", "Chloe", "Mateo", "Sofia", "Ngozi", "Chidi",
         "Ravi", "Ananya", "Jisoo", "Tomasz", "Ingrid", "Pierre", "Giulia", "Dmitri", "Rosa", "Juan"]
LAST = ["Okafor", "Smith", "Garcia", "Nguyen", "Patel", "Kim", "Chen", "Rossi", "Dubois", "Novak",
        "Larsen", "Tanaka", "Mensah", "Iyer", "Reyes", "Walker", "Hughes", "Silva", "Park", "Ward",
        "Morales", "Fischer", "Adeyemi", "Sharma", "Suzuki", "Moreau", "Ivanov", "Castro", "Olson"]
ORGS = [f"{a} {b}" for a in ("Northwind", "Harbor", "Summit", "Cedar", "Atlas", "Beacon", "Meridian",
                             "Pioneer", "Sterling", "Willow")
        for b in ("Analytics", "Health", "Partners", "Labs", "Consulting", "Bank", "Robotics",
                  "Foundation", "Software", "Institute")]
TITLES = ["Software Engineer", "Data Scientist", "Product Manager", "UX Researcher", "Physician",
          "Management Consultant", "Financial Analyst", "Policy Analyst", "Recruiter", "Professor"]
TAGS = ["alumni", "fintech", "mentor", "hiring", "data", "design", "remote", "nyc", "boston",
        "priority", "follow-up", "warm-intro"]
NOTES = ["", "", "", "Met at the spring career fair; interested in data roles.",
         "Introduced by Professor Jones. Prefers email over LinkedIn.",
         "Hiring for summer internships next quarter, check back in January."]
SEARCHES = ["ma", "ok", "gar", "nguy", "pri", "data", "harb", "soft", "ana", "che", "eng", "fin"]


# --- the database ---


def contact_fields(rng: random.Random, n: int, earlier: list[str]) -> dict[str, Any]:
    """A contact as a student would enter it: most fields, some left empty, a referrer among
    the ones entered before."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    has_next = rng.random() < 0.33
    return {
        "first_name": first, "last_name": last if rng.random() < 0.95 else "",
        "email": f"{first}.{last}.{n}@uni.example".lower() if rng.random() < 0.8 else None,
        "phone": f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
        if rng.random() < 0.4 else "",
        "title": rng.choice(TITLES) if rng.random() < 0.9 else "",
        "organization_name": rng.choice(ORGS) if rng.random() < 0.8 else None,
        "location": rng.choice(["Boston, MA", "New York, NY", "Remote", ""]),
        "linkedin_url": f"https://www.linkedin.com/in/{first}-{last}-{n}".lower()
        if rng.random() < 0.5 else "",
        "source": rng.choice(list(Source)).value,
        "referred_by_id": rng.choice(earlier) if earlier and rng.random() < 0.1 else None,
        "referrer_name": "Dr. Jones" if rng.random() < 0.05 else "",
        "tags": rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2, 3])),
        "notes": rng.choice(NOTES),
        "stage": rng.choice(list(Stage)).value,
        "next_action": "Send a thank-you note" if has_next else "",
        "next_action_at": (datetime.now(UTC) + timedelta(days=rng.uniform(-20, 90))).isoformat()
        if has_next else None,
    }


@dataclass
class Seeded:
    key: str
    contact_ids: list[str]
    seconds: float


def seed(url: str, count: int, settings: Settings) -> Seeded:
    """A student with ``count`` contacts and a second one with a tenth as many, made by the
    contacts service in batches of 500 (one transaction each)."""
    started = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    rng = random.Random(SEED)  # noqa: S311 - the same contacts every run
    with factory() as db, db.begin():
        maya = accounts.create_user(db, "maya@uni.edu", PASSWORD, "Maya Okafor", Role.student)
        liam = accounts.create_user(db, "liam@uni.edu", PASSWORD, "Liam Chen", Role.student)
        _, key = accounts.create_api_key(db, maya, "bench", ["contacts:read", "contacts:write"])
        owners = [(maya.id, count), (liam.id, max(1, count // 10))]
    mine: list[str] = []
    for owner_id, total in owners:
        made: list[str] = []
        for start in range(0, total, 500):
            with factory() as db, db.begin():
                owner = db.get(User, owner_id)
                assert owner is not None
                for n in range(start, min(total, start + 500)):
                    body = ContactIn.model_validate(contact_fields(rng, n, made))
                    made.append(contacts.create_contact(db, owner, body).id)
        mine = mine or made
    engine.dispose()
    return Seeded(key, mine, time.perf_counter() - started)


# --- the load generator ---


class Connection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.head = "".join(f"{name}: {value}\r\n"
                            for name, value in {"Host": f"127.0.0.1:{port}", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        sized = (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                 if body is not None else "")
        self.writer.write(f"{method} {target} HTTP/1.1\r\n{self.head}{sized}\r\n".encode() + (body or b""))
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            content = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            content = await self._chunked(self.reader)
        else:
            content = b""
        if fields.get("connection") == "close":
            self.close()
        return status, content

    async def _chunked(self, reader: asyncio.StreamReader) -> bytes:
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size + 2))
        await reader.readuntil(b"\r\n")
        return b"".join(part[:-2] for part in parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# A request: method, target, JSON body or None, the status that means it worked.
Request = tuple[str, str, bytes | None, int]
Plan = Callable[[random.Random, int], Request]


@dataclass
class Step:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of the server's processes

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """The server's CPU time per request."""
        return self.cpu_seconds * 1000 / len(self.latencies) if self.latencies else 0.0

    def percentile(self, p: float) -> float:
        """Nearest rank, in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))] * 1000

    def error(self, message: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or message[:300]


async def drive(server: Server, headers: dict[str, str], plan: Plan, concurrency: int,
                requests: int, seconds: float) -> Step:
    """``requests`` requests from ``concurrency`` connections at once, or as many as ``seconds``
    allow; a request that takes longer than 30 s is an error."""
    step = Step()
    numbers = itertools.count()
    deadline = time.perf_counter() + seconds

    async def user(index: int) -> None:
        connection = Connection(server.port, headers)
        rng = random.Random(SEED + index)  # noqa: S311 - the same requests every run
        while time.perf_counter() < deadline and (n := next(numbers)) < requests:
            method, target, body, expected = plan(rng, n)
            started = time.perf_counter()
            try:
                status, content = await asyncio.wait_for(
                    connection.request(method, target, body), timeout=30)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                connection.close()
                step.error(f"{method} {target}: {exc!r}")
            else:
                if status != expected:
                    step.error(f"{method} {target}: {status} {content[:200]!r}")
            step.latencies.append(time.perf_counter() - started)
        connection.close()

    started, cpu = time.perf_counter(), server.cpu_seconds()
    await asyncio.gather(*(user(i) for i in range(concurrency)))
    step.seconds = time.perf_counter() - started
    step.cpu_seconds = server.cpu_seconds() - cpu
    return step


def list_plan(rng: random.Random, n: int) -> Request:
    return "GET", f"/api/v1/contacts?limit={PAGE}", None, 200


def search_plan(rng: random.Random, n: int) -> Request:
    return "GET", "/api/v1/contacts?" + urlencode({"q": rng.choice(SEARCHES), "limit": PAGE}), None, 200


def mix_plan(contact_ids: list[str]) -> Plan:
    """Mostly reads, and a fifth writes: new contacts and changes to existing ones."""
    run = f"{time.time_ns():x}"  # the emails of one run's new contacts are new to the database
    made = itertools.count()

    def plan(rng: random.Random, n: int) -> Request:
        roll = rng.random()
        if roll < 0.6:
            return list_plan(rng, n)
        if roll < 0.8:
            return search_plan(rng, n)
        if roll < 0.9:
            body = {"first_name": rng.choice(FIRST), "last_name": rng.choice(LAST),
                    "email": f"new.{run}.{next(made)}@uni.example",
                    "organization_name": rng.choice(ORGS), "tags": rng.sample(TAGS, 2)}
            return "POST", "/api/v1/contacts", _json(body), 201
        # Request n changes the n-th contact (spread over the file): two changes at once of one
        # contact would be refused as an edit conflict, which is right but not what is measured.
        contact_id = contact_ids[n * 7919 % len(contact_ids)]
        body = {"next_action": f"Write again ({n})", "tags": rng.sample(TAGS, rng.choice([0, 1, 2]))}
        return "PATCH", f"/api/v1/contacts/{contact_id}", _json(body), 200

    return plan


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


# --- the servers ---


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """A uvicorn started by ``serve``."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"The server stopped at start-up:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"The server did not answer within 60 s:\n{self.log.read_text()[-3000:]}")

    def cpu_seconds(self) -> float:
        """The CPU time of uvicorn's processes (the supervisor and its workers) so far: less
        disturbed by the other work of a shared machine than requests per second. 0 without a
        /proc file system."""
        pid = self.process.pid
        processes = [pid, *(child for child, parent in _parents().items() if parent == pid)]
        ticks = 0
        for process in processes:
            try:
                fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime and stime
        return ticks / os.sysconf("SC_CLK_TCK")


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


@contextmanager
def serve(target: str, workers: int, env: dict[str, str], log: Path,
          app_dir: Path | None = None) -> Iterator[Server]:
    """``target`` served by uvicorn on a free port of 127.0.0.1 until the block ends (started,
    not yet answering: see ``Server.wait_until_up``)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--log-level", "warning",
               "--no-access-log"]
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield Server(port, process, log)
    finally:
        process.send_signal(signal.SIGINT)  # uvicorn's supervisor stops its workers
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- in-process ---


async def fetch_bodies(app: FastAPI, key: str, contact_id: str,
                       ) -> tuple[dict[str, bytes], tuple[str, Any]]:
    """What the app answers (a page of the list, a page of a search, one contact), and the SQL
    and parameters it sent the database for the list's page."""
    headers = {"Authorization": f"Bearer {key}"}
    sent: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        sent.append((statement, parameters))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                 headers=headers) as client:
        event.listen(app.state.engine, "before_cursor_execute", note)
        listed = await client.get("/api/v1/contacts", params={"limit": PAGE})
        event.remove(app.state.engine, "before_cursor_execute", note)
        pages = {
            "list": listed,
            "search": await client.get("/api/v1/contacts", params={"q": SEARCHES[0], "limit": PAGE}),
            "contact": await client.get(f"/api/v1/contacts/{contact_id}"),
        }
    for name, response in pages.items():
        if response.status_code != 200:
            raise SystemExit(f"The app answered {name} with {response.status_code}: {response.text}")
    page_query = next(((sql, parameters) for sql, parameters in sent if "FROM contacts" in sql), None)
    if page_query is None:
        raise SystemExit(f"The list sent no query of the contacts table: {sent}")
    return {name: response.content for name, response in pages.items()}, page_query


async def in_process_rate(app: FastAPI, key: str, requests: int, limit: int = PAGE) -> float:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        for _ in range(max(5, requests // 10)):  # warm-up
            (await client.get("/api/v1/contacts", params={"limit": limit})).raise_for_status()
        started = time.perf_counter()
        for _ in range(requests):
            response = await client.get("/api/v1/contacts", params={"limit": limit})
            if response.status_code != 200:
                raise SystemExit(f"The list answered {response.status_code}: {response.text}")
        return requests / (time.perf_counter() - started)


def own_work(app: FastAPI, key: str) -> Callable[[], object]:
    """The list's own work, as its route does it: find the key and its user, read the page, write
    the JSON; for the bare route's query form, which then answers with the bytes it holds. What
    the app adds is gone: middleware, FastAPI's dependencies and query parameters, the rate
    limit, a thread of its own for each step."""

    def run() -> object:
        with app.state.reading_sessionmaker() as db:
            found = accounts.find_api_key(db, key)
            if found is None:
                raise SystemExit("The benchmark's API key was not found.")
            shown, next_cursor = contacts.contact_page(db, found.user, ContactFilters(), "name",
                                                       PAGE, None)
            body = dump_json({"items": shown, "next_cursor": next_cursor})
            db.commit()
        return body

    return run


def cpu_ms_per_call(work: Callable[[], object], calls: int) -> float:
    """The CPU time of one call of ``work``, in milliseconds, over ``calls`` calls in this
    thread (after a few to warm up)."""
    for _ in range(max(5, calls // 10)):
        work()
    started = time.process_time()
    for _ in range(calls):
        work()
    return (time.process_time() - started) * 1000 / calls


def in_process(app: FastAPI, bares: dict[str, FastAPI], key: str, requests: int, rounds: int,
               ) -> list[dict[str, float]]:
    """Alternating rounds of the list endpoint and each form of the bare route, one request at
    a time: each round's requests per second, by "app", "one row" (the app's list with a page of
    one: what any request of it costs, whatever the page holds) and by the name of each bare
    app."""
    return [{"app": asyncio.run(in_process_rate(app, key, requests)),
             "one row": asyncio.run(in_process_rate(app, key, requests, limit=1)),
             **{form: asyncio.run(in_process_rate(bare, key, requests))
                for form, bare in bares.items()}} for _ in range(rounds)]


# --- reporting ---


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i < 2 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))) + " |"

    rule = "|" + "|".join("-" * (w + 1) + (":" if i >= 2 else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _database_name(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            name = f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar()}"
        else:
            name = f"SQLite {conn.execute(text('SELECT sqlite_version()')).scalar()}"
    engine.dispose()
    return name


@dataclass
class Options:
    database_url: str
    workers: int
    contacts: int
    requests: int
    seconds: float
    concurrency: list[int]
    rounds: int
    in_process_requests: int
    rate_limits: bool


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL; it is emptied first. "
                        "Default: a fresh SQLite file in a temporary directory.")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of each app")
    parser.add_argument("--contacts", type=int, default=2000, help="contacts of the student")
    parser.add_argument("--requests", type=int, default=400, help="requests per step at most")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds per step at most")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="in-process rounds")
    parser.add_argument("--in-process-requests", type=int, default=300)
    parser.add_argument("--redis-url", help="RAPPORT_REDIS_URL for the app, e.g. "
                        "redis://127.0.0.1:6379/4 (where the app's settings have it)")
    parser.add_argument("--rate-limits", action=argparse.BooleanOptionalAction, default=True,
                        help="count every request as production does (a budget never reached); "
                        "--no-rate-limits turns the limits off (0)")
    parser.add_argument("--quick", action="store_true",
                        help="a few contacts and requests, one worker: checks that it runs")
    args = parser.parse_args(argv)
    if args.redis_url:
        os.environ["RAPPORT_REDIS_URL"] = args.redis_url  # the servers and the in-process app
    if args.quick:
        args.contacts, args.requests, args.seconds = 20, 8, 1.5
        args.concurrency, args.rounds, args.in_process_requests, args.workers = "1,4", 1, 5, 1
    return Options(database_url=args.database_url or "", workers=args.workers,
                   contacts=args.contacts, requests=args.requests, seconds=args.seconds,
                   concurrency=[int(c) for c in args.concurrency.split(",")], rounds=args.rounds,
                   in_process_requests=args.in_process_requests, rate_limits=args.rate_limits)


def run(options: Options, workdir: Path) -> int:
    url = options.database_url or f"sqlite:///{workdir / 'bench.db'}"
    budget = str(10**9 if options.rate_limits else 0)
    env = {**os.environ, "RAPPORT_ENV": "development", "RAPPORT_DATABASE_URL": url,
           "RAPPORT_RATE_LIMIT_PER_KEY": budget, "RAPPORT_RATE_LIMIT_PER_USER": budget}
    settings = Settings(env="development", database_url=url, rate_limit_per_key=int(budget),
                        rate_limit_per_user=int(budget))
    if make_url(url).database == "test":
        raise SystemExit("The database named test belongs to the test suite; name another one.")
    reset(url)  # as bench/contacts.py empties its database
    seeded = seed(url, options.contacts, settings)
    print(f"{_database_name(url)}; {options.workers} uvicorn worker(s) per app; "
          f"{options.contacts:,} contacts seeded in {seeded.seconds:.1f} s; rate limits "
          f"{'counted (never reached)' if options.rate_limits else 'off'}; "
          f"Redis {os.environ.get('RAPPORT_REDIS_URL') or 'none'}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")

    app = create_app(settings)
    bodies, (page_sql, page_parameters) = asyncio.run(
        fetch_bodies(app, seeded.key, seeded.contact_ids[0]))
    driver = make_engine(url)  # its connections, as the database driver's own
    query = driver_query(lambda: driver.raw_connection().driver_connection, page_sql,
                         page_parameters)
    work = own_work(app, seeded.key)
    bares = {**{form: create_bare(bodies, form, query) for form in FORMS},
             "own work": create_bare(bodies, "query", work)}
    rounds = in_process(app, bares, seeded.key, options.in_process_requests, options.rounds)
    own_cpu = cpu_ms_per_call(work, options.in_process_requests)
    app.state.engine.dispose()
    driver.dispose()
    in_process_ratios = {form: statistics.median(r["app"] / r[form] for r in rounds)
                         for form in FORMS}
    print("\nIn-process, one request at a time (httpx ASGITransport), list page of 50, against "
          "each form of the bare route (bench/bare.py):")
    for i, r in enumerate(rounds, 1):
        print(f"  round {i}: app {r['app']:,.0f} req/s (a page of one: {r['one row']:,.0f}; "
              f"its own work alone, in the bare route: {r['own work']:,.0f}); "
              + "; ".join(f"{form} {r[form]:,.0f} ({r['app'] / r[form]:.2f})" for form in FORMS))
    print("  median app/bare: " + ", ".join(f"{form} {in_process_ratios[form]:.2f}"
                                             for form in FORMS))
    one_row = statistics.median(r["one row"] / r["bytes"] for r in rounds)
    print(f"  the app's list with a page of ONE contact against the bytes form: {one_row:.2f}")
    print("  the list's own work alone (the key, the page, the JSON) in the bare route, against "
          "each form: " + ", ".join(
              f"{form} {statistics.median(r['own work'] / r[form] for r in rounds):.2f}"
              for form in FORMS)
          + f" (the app's list against it: "
          f"{statistics.median(r['app'] / r['own work'] for r in rounds):.2f})")
    print(f"  the list's own work alone, called directly: {own_cpu:.2f} ms of CPU a page")

    bodies_file = workdir / "bare-bodies.json"
    save_bodies(bodies_file, bodies)
    log = workdir / "servers.log"
    headers = {"Authorization": f"Bearer {seeded.key}"}
    plans: dict[str, Plan] = {"list": list_plan, "search": search_plan,
                              "mix": mix_plan(seeded.contact_ids)}
    results: dict[tuple[str, int], tuple[Step, Step]] = {}
    as_dict: dict[int, tuple[Step, Step]] = {}  # the list against the bare route's dict form
    bare_env = {**env, "BENCH_BARE_BODIES": str(bodies_file)}
    with serve("app.main:create_app", options.workers, env, log) as app_server, \
            serve("bare:create_app", options.workers, bare_env, log,
                  app_dir=ROOT / "bench") as bare_server, \
            serve("bare:create_app", options.workers, {**bare_env, "BENCH_BARE_FORM": "dict"},
                  log, app_dir=ROOT / "bench") as dict_server:
        for server in (app_server, bare_server, dict_server):
            server.wait_until_up()
        for server in (app_server, bare_server, dict_server):  # warm-up: pools and caches
            asyncio.run(drive(server, headers, plans["mix"], 8 * options.workers,
                              20 * options.workers, options.seconds))
        for name, plan in plans.items():
            for concurrency in options.concurrency:
                mine = asyncio.run(drive(app_server, headers, plan, concurrency, options.requests,
                                         options.seconds))
                theirs = asyncio.run(drive(bare_server, headers, plan, concurrency,
                                           options.requests, options.seconds))
                results[name, concurrency] = (mine, theirs)
                if name == "list":
                    as_dict[concurrency] = (mine, asyncio.run(drive(
                        dict_server, headers, plan, concurrency, options.requests,
                        options.seconds)))

    rows = [[name, str(c), f"{a.rate:,.0f}", f"{a.percentile(50):.1f}", f"{a.percentile(99):.1f}",
             str(a.errors), f"{a.cpu_ms:.2f}", f"{b.rate:,.0f}", f"{b.percentile(50):.1f}",
             f"{b.percentile(99):.1f}", str(b.errors), f"{b.cpu_ms:.2f}",
             f"{a.rate / b.rate:.2f}" if b.rate else "-",
             f"{b.cpu_ms / a.cpu_ms:.2f}" if a.cpu_ms else "-"]
            for (name, c), (a, b) in results.items()]
    print(f"\nOver HTTP, {options.workers} worker(s) each, at most {options.requests} requests or "
          f"{options.seconds:g} s per step:")
    print(_table(["requests", "concurrency", "app req/s", "p50 ms", "p99 ms", "errors", "CPU ms",
                  "bare req/s", "p50 ms", "p99 ms", "errors", "CPU ms", "app/bare",
                  "CPU bare/app"], rows))
    print("CPU ms: the server processes' CPU time per request (uvicorn and the app; not the "
          "database server's).")
    for (name, c), (a, b) in results.items():
        for who, step in (("app", a), ("bare", b)):
            if step.errors:
                print(f"  first error of the {who} ({name}, concurrency {c}): {step.first_error}")
    print("\nThe list against the bare app's dict form (the page returned as a Python value, "
          "as FastAPI's hello-world returns its dict), the same requests:")
    print(_table(["requests", "concurrency", "app req/s", "dict form req/s", "p50 ms", "p99 ms",
                  "errors", "CPU ms", "app/dict"],
                 [["list", str(c), f"{a.rate:,.0f}", f"{b.rate:,.0f}", f"{b.percentile(50):.1f}",
                   f"{b.percentile(99):.1f}", str(b.errors), f"{b.cpu_ms:.2f}",
                   f"{a.rate / b.rate:.2f}" if b.rate else "-"] for c, (a, b) in as_dict.items()]))
    print(f"Load average after: {os.getloadavg()[0]:.2f}")

    http_ratios = {"bytes": {c: a.rate / b.rate for (name, c), (a, b) in results.items()
                             if name == "list" and b.rate},
                   "dict": {c: a.rate / b.rate for c, (a, b) in as_dict.items() if b.rate}}
    errors = sum(a.errors for a, _ in results.values())
    bare_cpu = max((b.cpu_ms for (name, _), (_, b) in results.items() if name == "list"), default=0)
    print("\nTargets (it never fails on speed: the machine is shared; the ratios of one run count)")
    for form in FORMS:
        ratio = in_process_ratios[form]
        print(f"  contact list in-process >= {LIST_RATIO} of the bare route, {form} form: median "
              f"ratio {ratio:.2f} - {_met(ratio >= LIST_RATIO)}")
    for form, by_concurrency in http_ratios.items():
        print(f"  contact list over HTTP >= {LIST_RATIO} of the bare app, {form} form: "
              + ", ".join(f"concurrency {c}: {r:.2f}" for c, r in by_concurrency.items())
              + f" - {_met(all(r >= LIST_RATIO for r in by_concurrency.values()))}")
    if bare_cpu:  # 0 when the steps were too short for the clock's ticks (--quick)
        print(f"  (over HTTP the bare app spends at most {bare_cpu:.2f} ms of CPU on a list request: at "
              f"half its rate, the app may spend {2 * bare_cpu:.2f} ms on the whole request; the "
              f"list's own work alone takes {own_cpu:.2f} ms)")
    if (list_8 := results.get(("list", 8))) and (list_32 := results.get(("list", 32))):
        print(f"  throughput at concurrency 32 >= at 8 (list; the target is for 2 workers on "
              f"PostgreSQL): {list_32[0].rate:,.0f} vs {list_8[0].rate:,.0f} req/s - "
              f"{_met(list_32[0].rate >= list_8[0].rate)}")
    print(f"  no errors: {errors} - {_met(errors == 0)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    with tempfile.TemporaryDirectory(prefix="rapport-load-") as workdir:
        return run(options, Path(workdir))


if __name__ == "__main__":
    sys.exit(main())
