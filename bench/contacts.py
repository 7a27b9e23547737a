"""How fast a student's contact list and search are with a large contact file, in-process.

Run it from the project root:

    .venv/bin/python bench/contacts.py                       # a fresh SQLite file in a temp dir
    .venv/bin/python bench/contacts.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/contacts.py --contacts 20000 --requests 200 --explain

What it does:

1. Empties the database it is given (PostgreSQL: ``DROP SCHEMA public CASCADE``; SQLite: a new
   file) and migrates it with ``app.migrate.upgrade``, as production does. It refuses a database
   named ``test``, which the test suite owns.
2. Creates two students and a bearer API key (scopes contacts:read, contacts:write) with the app's
   own account service, then loads ``--contacts`` contacts for the first student and
   ``--other-contacts`` for the second. Every contact is a real ``Contact`` object whose
   sort_name, email_key and search_text are computed by the service's own ``_derive``; rows are
   then bulk-inserted, so the SQLite FTS5 triggers and the PostgreSQL GIN index see exactly what
   the app would write. Organizations (about N/20, shared by contacts), tags from a small
   vocabulary, every stage and source, next actions on about a third of the contacts.
3. Sends ``--requests`` list requests and ``--requests`` search requests through
   ``httpx.AsyncClient(transport=httpx.ASGITransport(app))`` (the whole ASGI stack in-process:
   middleware, authentication by API key, validation, the query, serialization), one at a time,
   after a short warm-up, and reports p50/p95/p99/max per request kind and overall.
4. Compares the throughput of the list endpoint (first page, 50 contacts) with a bare FastAPI app
   whose one route returns a fixed list of 50 dicts shaped like ContactOut, with the same client
   and the same number of requests, in alternating rounds.

It never fails on time: it prints the figures and the targets (list p99 < 25 ms, search p99 < 50 ms)
and exits 0. ``--explain`` also prints the SQL of the slowest request of each kind and its plan
(SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN (ANALYZE, BUFFERS)).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import migrate, pagination
from app.accounts import service as accounts
from app.config import Settings
from app.contacts import service as contacts
from app.db import make_engine, make_sessionmaker, new_id
from app.main import create_app
from app.models import Contact, ContactTag, Organization, Role, Source, Stage

LIST_P99_MS = 25.0
SEARCH_P99_MS = 50.0
PAGE = 50
SEED = 20261125

# --- a realistic vocabulary ---

FIRST_NAMES = [
    "Maya", "Liam", "Olivia", "Noah", "Emma", "Mateo", "Ava", "Lucas", "Sofia", "Ethan", "Amara",
    "Kofi", "Priya", "Arjun", "Mei", "Hiroshi", "Yuki", "Chen", "Wei", "Fatima", "Omar", "Layla",
    "Yusuf", "Aisha", "Ibrahim", "Zara", "Daniel", "Grace", "Samuel", "Chloe", "Benjamin", "Isabella",
    "Jacob", "Mia", "Michael", "Charlotte", "Elijah", "Amelia", "James", "Harper", "Alexander",
    "Evelyn", "William", "Abigail", "Henry", "Emily", "Sebastian", "Elizabeth", "Jack", "Ella", "Owen",
    "Scarlett", "Gabriel", "Victoria", "Carter", "Madison", "Jayden", "Luna", "Julian", "Camila",
    "Levi", "Penelope", "Isaac", "Aria", "Anthony", "Nora", "Dylan", "Hannah", "Leo", "Lily", "Lincoln",
    "Addison", "Joshua", "Eleanor", "Andrew", "Stella", "Christopher", "Natalie", "Theodore", "Zoe",
    "Caleb", "Leah", "Ryan", "Hazel", "Asher", "Violet", "Nathan", "Aurora", "Thomas", "Savannah",
    "Aaron", "Audrey", "Isaiah", "Brooklyn", "Jonathan", "Bella", "Hudson", "Claire", "Santiago",
    "Skylar", "Diego", "Lucia", "Rafael", "Valentina", "Thiago", "Gabriela", "Ana", "Jose", "Carmen",
    "Juan", "Rosa", "Ngozi", "Chidi", "Adaeze", "Emeka", "Tariq", "Nadia", "Ravi", "Ananya", "Vikram",
    "Kavya", "Sanjay", "Deepa", "Min", "Jisoo", "Hyun", "Soo", "Tomasz", "Katarzyna", "Piotr", "Ingrid",
    "Lars", "Astrid", "Sven", "Freya", "Pierre", "Camille", "Louis", "Margaux", "Giulia", "Marco",
    "Francesca", "Luca", "Dmitri", "Anya", "Ivan",
]

LAST_NAMES = [
    "Okafor", "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz",
    "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers",
    "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos",
    "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett",
    "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers",
    "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell",
    "Coleman", "Butler", "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero",
    "Jordan", "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace",
    "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina",
    "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb",
    "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner",
    "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice",
    "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan",
    "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold", "Pierce", "Vazquez",
    "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott", "Adeyemi", "Mensah", "Achebe",
    "Banerjee", "Iyer", "Sharma", "Gupta", "Reddy", "Tanaka", "Suzuki", "Watanabe", "Yamamoto", "Park",
    "Choi", "Wang", "Zhang", "Liu", "Huang", "Zhao", "Nakamura", "Kowalski", "Novak", "Larsen",
    "Johansson", "Dubois", "Moreau", "Rossi", "Bianchi", "Ivanov",
]

ORG_FIRST = [
    "Northwind", "Blue", "Harbor", "Summit", "Cedar", "Granite", "Silver", "Maple", "Atlas", "Beacon",
    "Redwood", "Horizon", "Pioneer", "Crescent", "Evergreen", "Ironwood", "Lakeside", "Meridian",
    "Orchard", "Pinnacle", "Quarry", "Riverbend", "Sterling", "Sunrise", "Tidewater", "Vanguard",
    "Willow", "Aurora", "Bright", "Coastal", "Delta", "Eastgate", "Falcon", "Golden", "Highland",
    "Keystone", "Liberty", "Magnolia", "Northstar", "Oakridge", "Pacific", "Prairie", "Radiant",
    "Sequoia", "Skyline", "Stonebridge", "Trillium", "Union", "Westfield", "Acorn", "Alder", "Amber",
    "Apex", "Arbor", "Aspen", "Bayview", "Birch", "Bluebird", "Brook", "Canyon", "Cardinal", "Cascade",
    "Clearwater", "Cobalt", "Compass", "Copper", "Crimson", "Cypress", "Elm", "Ember", "Fairview",
    "Fern", "Firefly", "Glacier", "Harvest", "Hawthorn", "Heron", "Indigo", "Jasper", "Juniper",
    "Kestrel", "Lantern", "Laurel", "Lighthouse", "Linden", "Lumen", "Marble", "Mesa", "Mosaic",
    "Nimbus", "Nova", "Oasis", "Onyx", "Osprey", "Pebble", "Pine", "Quantum", "Raven", "Ridge", "Sage",
    "Sapphire", "Shore", "Solstice", "Spruce", "Sparrow",
]

ORG_SECOND = [
    "Analytics", "Health", "Partners", "Capital", "Labs", "Consulting", "Media", "Energy", "Robotics",
    "Bank", "Foods", "Logistics", "Studio", "Software", "Systems", "Bio", "Pharma", "Design",
    "Ventures", "Insurance", "Education", "Foundation", "Networks", "Security", "Retail",
    "Manufacturing", "Mobility", "Cloud", "Data", "Research", "Advisors", "Group", "Hospital",
    "Institute", "Law", "Architects", "Engineering", "Games", "Marketing", "Realty", "Aerospace",
    "Semiconductors", "Telecom", "Clinic", "Publishing", "Textiles", "Water",
]

INDUSTRIES = [
    "Technology", "Finance", "Healthcare", "Consulting", "Education", "Government", "Nonprofit",
    "Media", "Energy", "Retail", "Manufacturing", "Transportation", "Law", "Biotech", "Architecture",
    "Marketing", "Insurance", "Hospitality",
]

TITLES = [
    "Software Engineer", "Senior Software Engineer", "Data Scientist", "Data Analyst",
    "Product Manager", "Senior Product Manager", "UX Designer", "UX Researcher", "Engineering Manager",
    "Director of Engineering", "Management Consultant", "Associate Consultant", "Financial Analyst",
    "Investment Banking Associate", "Portfolio Manager", "Marketing Manager", "Brand Strategist",
    "Research Scientist", "Postdoctoral Researcher", "Professor of Economics", "Policy Analyst",
    "Program Officer", "Nurse Practitioner", "Physician", "Clinical Research Coordinator",
    "Attorney", "Paralegal", "Architect", "Civil Engineer", "Mechanical Engineer", "Recruiter",
    "Talent Acquisition Partner", "Human Resources Manager", "Operations Manager", "Chief of Staff",
    "Founder", "Co-founder and CTO", "Venture Capital Associate", "Journalist", "Editor",
    "Teacher", "Curriculum Designer", "Sales Engineer", "Account Executive", "Supply Chain Analyst",
]

TAGS = [
    "alumni", "fintech", "mentor", "hiring", "data", "design", "remote", "nyc", "boston",
    "bay-area", "career-fair", "consulting", "nonprofit", "healthcare", "priority", "follow-up",
    "linkedin", "startup", "research", "summer-internship", "grad-school", "warm-intro",
]

LOCATIONS = [
    "New York, NY", "Boston, MA", "San Francisco, CA", "Chicago, IL", "Seattle, WA", "Austin, TX",
    "Washington, DC", "Atlanta, GA", "Denver, CO", "Toronto, ON", "London, UK", "Remote",
    "Los Angeles, CA", "Philadelphia, PA", "Pittsburgh, PA", "Minneapolis, MN", "",
]

NOTES = [
    "", "", "", "",
    "Met at the spring career fair; interested in data roles.",
    "Alumna of our program, happy to talk about switching into product management.",
    "Introduced by Professor Jones. Prefers email over LinkedIn.",
    "Spoke on the fintech panel; ask about the rotational program.",
    "Works on machine learning infrastructure. Suggested reading list in follow-up.",
    "Former teacher who moved into instructional design.",
    "Very responsive. Offered to review my resume before the deadline.",
    "Hiring for summer internships next quarter, check back in January.",
    "Mentioned a research assistant position in the lab.",
    "Recommended talking to someone on the policy team.",
]

NEXT_ACTIONS = [
    "Send thank-you note", "Follow up on introduction", "Ask for informational interview",
    "Share updated resume", "Confirm interview time", "Send article they mentioned",
    "Check in after application", "Schedule coffee chat",
]

STAGES = [(Stage.identified, 35), (Stage.contacted, 20), (Stage.scheduled, 8),
          (Stage.interviewed, 10), (Stage.thanked, 10), (Stage.following_up, 9), (Stage.closed, 8)]
SOURCES = [(Source.personal, 15), (Source.referral, 20), (Source.alumni, 30), (Source.cold, 15),
           (Source.event, 15), (Source.other, 5)]


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# --- the database ---


def reset(url: str) -> None:
    """Start from an empty database. Only the database named on the command line is touched."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    elif parsed.database and parsed.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)


def _settings(url: str) -> Settings:
    # Thousands of requests a minute with one key: still counted, as in production (the count
    # is part of what a request costs), but never refused.
    return Settings(env="development", database_url=url,
                    rate_limit_per_key=10**9, rate_limit_per_user=10**9)


@dataclass
class Loaded:
    key: str
    other_key: str
    organization_ids: list[str]
    seconds: dict[str, float] = field(default_factory=dict)


def _organizations(owner_id: str, count: int, rng: random.Random, now: datetime) -> list[Organization]:
    pairs = list(dict.fromkeys((a, b) for a in ORG_FIRST for b in ORG_SECOND))
    rng.shuffle(pairs)
    if count > len(pairs):  # more than the vocabulary makes: number the rest
        pairs += [(f"{a} {i}", b) for i, (a, b) in enumerate(pairs * (count // len(pairs)))]
    orgs = []
    for first, second in pairs[:count]:
        name = f"{first} {second}"
        created = now - timedelta(days=rng.uniform(30, 1000))
        orgs.append(Organization(
            id=new_id(), owner_id=owner_id, name=name, name_key=name.lower(),
            website=f"https://{re.sub(r'[^a-z0-9]', '', name.lower())}.example",
            industry=rng.choice(INDUSTRIES), research_notes="", version=1,
            created_at=created, updated_at=created,
        ))
    return orgs


def _contacts(owner_id: str, count: int, orgs: list[Organization], rng: random.Random,
              now: datetime) -> Iterator[Contact]:
    """Transient Contact objects with their organization and tag rows, derived by the service."""
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        org = rng.choice(orgs) if rng.random() < 0.85 else None
        domain = org.website.removeprefix("https://") if org else rng.choice(
            ["gmail.com", "outlook.com", "uni.edu", "alumni.uni.edu"])
        created = now - timedelta(days=rng.uniform(0, 1100), seconds=rng.uniform(0, 86400))
        updated = min(now, created + timedelta(days=rng.expovariate(1 / 60)))
        has_next = rng.random() < 0.33
        contact = Contact(
            id=new_id(), owner_id=owner_id, first_name=first, last_name=last,
            email=f"{first}.{last}{i}@{domain}".lower() if rng.random() < 0.85 else None,
            phone=f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
            if rng.random() < 0.4 else "",
            title=rng.choice(TITLES) if rng.random() < 0.9 else "",
            organization_id=org.id if org else None, organization=org,
            industry=org.industry if org else "", location=rng.choice(LOCATIONS),
            linkedin_url=f"https://www.linkedin.com/in/{first}-{last}-{i}".lower()
            if rng.random() < 0.5 else "", website="",
            source=_weighted(rng, SOURCES).value, referred_by_id=None,
            referrer_name="Dr. Jones" if rng.random() < 0.05 else "", how_we_met="",
            notes=rng.choice(NOTES), stage=_weighted(rng, STAGES).value, external_id=None,
            next_action=rng.choice(NEXT_ACTIONS) if has_next else "",
            next_action_at=now + timedelta(days=rng.uniform(-20, 90)) if has_next else None,
            version=1, created_at=created, updated_at=updated,
        )
        contact.tag_rows = [ContactTag(contact_id=contact.id, tag=t, owner_id=owner_id)
                            for t in sorted(rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2, 2, 3, 4])))]
        contacts._derive(contact)  # sort_name, email_key, search_text: exactly as the app does
        yield contact


def _insert(engine: Engine, owner_id: str, count: int, org_count: int, rng: random.Random) -> list[str]:
    now = datetime.now(UTC)
    orgs = _organizations(owner_id, org_count, rng, now)
    org_columns = [c.key for c in Organization.__table__.columns]
    contact_columns = [c.key for c in Contact.__table__.columns]
    with engine.begin() as conn:
        conn.execute(insert(Organization.__table__),
                     [{k: getattr(o, k) for k in org_columns} for o in orgs])
    batch: list[Contact] = []

    def flush() -> None:
        with engine.begin() as conn:
            conn.execute(insert(Contact.__table__),
                         [{k: getattr(c, k) for k in contact_columns} for c in batch])
            tags = [{"contact_id": r.contact_id, "tag": r.tag, "owner_id": r.owner_id}
                    for c in batch for r in c.tag_rows]
            if tags:
                conn.execute(insert(ContactTag.__table__), tags)
        batch.clear()

    for contact in _contacts(owner_id, count, orgs, rng, now):
        batch.append(contact)
        if len(batch) == 5000:
            flush()
    if batch:
        flush()
    return [o.id for o in orgs]


def load(url: str, count: int, other: int, analyze: bool) -> Loaded:
    started = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    seconds = {"migrate": time.perf_counter() - started}

    rng = random.Random(SEED)  # noqa: S311 - the same data every run
    started = time.perf_counter()
    with make_sessionmaker(engine)() as db, db.begin():
        student = accounts.create_user(db, "maya@uni.edu", "correct horse battery", "Maya Okafor",
                                       Role.student)
        other_student = accounts.create_user(db, "liam@uni.edu", "correct horse battery", "Liam Chen",
                                             Role.student)
        scopes = ["contacts:read", "contacts:write"]
        _, key = accounts.create_api_key(db, student, "bench", scopes)
        _, other_key = accounts.create_api_key(db, other_student, "bench", scopes)
        student_id, other_id = student.id, other_student.id
    seconds["users and keys"] = time.perf_counter() - started

    started = time.perf_counter()
    org_ids = _insert(engine, student_id, count, max(1, count // 20), rng)
    seconds[f"{count:,} contacts, {max(1, count // 20):,} organizations"] = time.perf_counter() - started
    started = time.perf_counter()
    _insert(engine, other_id, other, max(1, other // 20), rng)
    seconds[f"{other:,} contacts of a second student"] = time.perf_counter() - started

    if analyze:  # PostgreSQL: what autovacuum does after a bulk insert (statistics, GIN pending list)
        started = time.perf_counter()
        postgres = engine.dialect.name == "postgresql"
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
        seconds["VACUUM ANALYZE" if postgres else "ANALYZE"] = time.perf_counter() - started
    engine.dispose()
    return Loaded(key, other_key, org_ids, seconds)


# --- measuring ---


@dataclass
class Sample:
    kind: str
    ms: float
    cpu_ms: float  # CPU time of the whole process (every thread) during the request
    db_ms: float
    queries: int
    status: int
    count: int


class Recorder:
    """Times the SQL of each request (statements, parameters, time in the database)."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[tuple[str, Any, float]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        elapsed = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        self.statements.append((statement, parameters, elapsed * 1000))

    def take(self) -> list[tuple[str, Any, float]]:
        taken, self.statements = self.statements, []
        return taken


class GcWatch:
    """Garbage-collector pauses while measuring, to tell them apart from slow queries."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], (time.perf_counter() - self._started) * 1000))

    def summary(self) -> str:
        parts = []
        for generation in (0, 1, 2):
            ms = [p for g, p in self.pauses if g == generation]
            if ms:
                parts.append(f"generation {generation}: {len(ms)} collections, {sum(ms):.0f} ms in all, "
                             f"longest {max(ms):.1f} ms")
        return "; ".join(parts) or "no garbage collections"


def _percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    slowest: dict[str, tuple[float, str, Any]] = field(default_factory=dict)


async def _timed(client: httpx.AsyncClient, recorder: Recorder, run: Run, kind: str,
                 params: dict[str, Any]) -> dict[str, Any]:
    recorder.take()
    started, cpu = time.perf_counter(), time.process_time()
    response = await client.get("/api/v1/contacts", params=params)
    ms = (time.perf_counter() - started) * 1000
    cpu_ms = (time.process_time() - cpu) * 1000
    statements = recorder.take()
    body = response.json() if response.status_code == 200 else {"items": [], "next_cursor": None}
    run.samples.append(Sample(kind, ms, cpu_ms, sum(s[2] for s in statements), len(statements),
                              response.status_code, len(body["items"])))
    # The page query: the slowest statement that reads contacts with a LIMIT.
    main = sorted((s for s in statements if "FROM contacts" in s[0] and "LIMIT" in s[0]),
                  key=lambda s: -s[2])
    if main and (kind not in run.slowest or ms > run.slowest[kind][0]):
        run.slowest[kind] = (ms, main[0][0], main[0][1])
    return dict(body)


def _list_plan(rng: random.Random, n: int, org_ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """The kinds of list requests and their parameters; "deep" ones follow next_cursor."""
    kinds = ([("first page, sort=name", {"sort": "name"})] * 20
             + [("first page, sort=updated", {"sort": "updated"})] * 10
             + [("first page, sort=next_action", {"sort": "next_action"})] * 10
             + [("deep page, sort=name", {"sort": "name", "deep": True})] * 10
             + [("deep page, sort=updated", {"sort": "updated", "deep": True})] * 8
             + [("deep page, sort=next_action", {"sort": "next_action", "deep": True})] * 7
             + [("filter: stage", {"stage": None})] * 15
             + [("filter: tag", {"tag": None})] * 12
             + [("filter: source", {"source": None})] * 4
             + [("filter: organization_id", {"organization_id": None})] * 4)
    plan = []
    for _ in range(n):
        kind, params = rng.choice(kinds)
        params = dict(params)
        if "stage" in params:
            params["stage"] = _weighted(rng, STAGES).value
            params["sort"] = rng.choice(["name", "updated"])
        elif "tag" in params:
            params["tag"] = rng.choice(TAGS)
            params["sort"] = rng.choice(["name", "updated", "next_action"])
        elif "source" in params:
            params["source"] = _weighted(rng, SOURCES).value
        elif "organization_id" in params:
            params["organization_id"] = rng.choice(org_ids)
        plan.append((kind, params))
    return plan


def _words(rng: random.Random) -> dict[str, list[str]]:
    title_words = sorted({w for t in TITLES for w in re.findall(r"[a-z]+", t.lower()) if len(w) > 2})
    return {
        "first name": [w.lower() for w in FIRST_NAMES],
        "last name": [w.lower() for w in LAST_NAMES],
        "organization": [w.lower() for w in ORG_FIRST + ORG_SECOND],
        "title": title_words,
        "tag": [re.findall(r"\w+", t)[0] for t in TAGS],
    }


def _search_plan(rng: random.Random, n: int) -> list[tuple[str, dict[str, Any]]]:
    words = _words(rng)

    def prefix(length: int) -> str:
        source = rng.choice(list(words))
        candidates = [w for w in words[source] if len(w) >= length]
        return rng.choice(candidates)[:length]

    plan = []
    for i in range(n):
        choice = i % 10
        if choice in (0, 1):
            kind, q = "q: 2-letter prefix", prefix(2)
        elif choice in (2, 3):
            kind, q = "q: 3-letter prefix", prefix(3)
        elif choice in (4, 5):
            kind, q = "q: 5-letter prefix", prefix(5)
        elif choice == 6:
            kind, q = "q: whole word", rng.choice(words[rng.choice(list(words))])
        elif choice == 7:
            kind = "q: first + last name"
            q = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)[:rng.choice([2, 3, 4, 20])]}"
        elif choice == 8:
            kind = "q: two words (org, title)"
            q = f"{rng.choice(ORG_FIRST)[:rng.choice([3, 5, 20])]} {rng.choice(words['title'])[:4]}"
        else:
            kind = "q: prefix + stage filter"
            q = prefix(rng.choice([2, 3, 5]))
            plan.append((kind, {"q": q, "stage": _weighted(rng, STAGES).value}))
            continue
        plan.append((kind, {"q": q}))
    rng.shuffle(plan)
    return plan


async def measure_latency(app: FastAPI, key: str, requests: int, org_ids: list[str],
                          recorder: Recorder) -> tuple[Run, Run]:
    rng = random.Random(SEED + 1)  # noqa: S311 - the same requests every run
    headers = {"Authorization": f"Bearer {key}"}
    lists, searches = Run(), Run()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
        # Warm-up, not counted: compiled-statement caches, the connection pool, the page cache.
        warm = Run()
        for kind, params in _list_plan(rng, 30, org_ids) + _search_plan(rng, 30):
            params.pop("deep", None)
            await _timed(client, recorder, warm, kind, {**params, "limit": PAGE})

        cursors: dict[str, str | None] = defaultdict(lambda: None)
        depth: dict[str, int] = defaultdict(int)
        for kind, params in _list_plan(rng, requests, org_ids):
            sort = params.get("sort", "name")
            if params.pop("deep", False):
                if cursors[sort] is None or depth[sort] >= 60:  # start again from the top
                    body = await _timed(client, recorder, Run(), "skip", {"sort": sort, "limit": PAGE})
                    cursors[sort], depth[sort] = body["next_cursor"], 1
                params["cursor"] = cursors[sort]
                body = await _timed(client, recorder, lists, kind, {**params, "limit": PAGE})
                cursors[sort] = body["next_cursor"]
                depth[sort] += 1
            else:
                await _timed(client, recorder, lists, kind, {**params, "limit": PAGE})
        for kind, params in _search_plan(rng, requests):
            await _timed(client, recorder, searches, kind, {**params, "limit": PAGE})
    return lists, searches


def _deep_cursors(app: FastAPI, email: str, fractions: tuple[float, ...],
                  ) -> list[tuple[str, dict[str, Any]]]:
    """Cursors of the app's own making that point far into the list, as a client exporting every
    contact page by page would reach: the row at each fraction of the list, for each sort."""
    plan = []
    with app.state.sessionmaker() as db:
        owner = accounts.get_user_by_email(db, email)
        assert owner is not None
        total = len(db.scalars(select(Contact.id).where(Contact.owner_id == owner.id)).all())
        for sort, order in contacts.SORTS.items():
            for fraction in fractions:
                stmt = (select(Contact).where(Contact.owner_id == owner.id)
                        .order_by(*(key.clause() for key in order))
                        .offset(int(total * fraction)).limit(1))
                row = db.scalars(stmt).one()
                cursor = pagination._encode([getattr(row, key.column.key) for key in order])
                plan.append((f"cursor {fraction:.0%} in, sort={sort}", {"sort": sort, "cursor": cursor}))
    return plan


async def measure_deep(app: FastAPI, key: str, plan: list[tuple[str, dict[str, Any]]], repeat: int,
                       recorder: Recorder) -> Run:
    run = Run()
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
        for _ in range(repeat):
            for kind, params in plan:
                await _timed(client, recorder, run, kind, {**params, "limit": PAGE})
    return run


def _bare_app(items: list[dict[str, Any]]) -> FastAPI:
    bare = FastAPI()

    @bare.get("/api/v1/contacts")
    def fixed() -> list[dict[str, Any]]:  # a sync route, like the real one (both use the threadpool)
        return items

    return bare


async def _throughput(app: FastAPI, headers: dict[str, str], requests: int) -> float:
    transport = httpx.ASGITransport(app=app)
    params = {"sort": "name", "limit": PAGE}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
        for _ in range(20):  # warm-up
            (await client.get("/api/v1/contacts", params=params)).raise_for_status()
        started = time.perf_counter()
        for _ in range(requests):
            response = await client.get("/api/v1/contacts", params=params)
            if response.status_code != 200:
                raise RuntimeError(response.text)
        return requests / (time.perf_counter() - started)


async def measure_throughput(app: FastAPI, key: str, requests: int, rounds: int,
                             ) -> list[tuple[float, float]]:
    headers = {"Authorization": f"Bearer {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
        page = await client.get("/api/v1/contacts", params={"sort": "name", "limit": PAGE})
    bare = _bare_app(page.json()["items"])  # the same 50 contacts, as plain dicts
    results = []
    for _ in range(rounds):
        real = await _throughput(app, headers, requests)
        fixed = await _throughput(bare, headers, requests)
        results.append((real, fixed))
    return results


# --- reporting ---


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))) + " |"

    rule = "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _stats_row(name: str, samples: list[Sample]) -> list[str]:
    ms = [s.ms for s in samples]
    return [name, str(len(ms)), *(f"{_percentile(ms, p):.1f}" for p in (50, 95, 99)), f"{max(ms):.1f}",
            f"{statistics.median(s.cpu_ms for s in samples):.1f}",
            f"{statistics.median(s.db_ms for s in samples):.1f}",
            f"{statistics.mean(s.queries for s in samples):.1f}",
            f"{statistics.mean(s.count for s in samples):.0f}"]


def report_run(title: str, run: Run) -> str:
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in run.samples:
        by_kind[sample.kind].append(sample)
    rows = [_stats_row(kind, by_kind[kind]) for kind in sorted(by_kind)]
    rows.append(_stats_row("all", run.samples))
    headers = [title, "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU p50", "SQL p50", "stmts", "rows"]
    return _table(headers, rows)


def explain(url: str, run: Run, kinds: int) -> str:
    """The plan of the slowest request of the slowest kinds, run again directly on the database."""
    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    out = []
    worst = sorted(run.slowest.items(), key=lambda item: -item[1][0])[:kinds]
    for kind, (ms, statement, parameters) in worst:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            times = []
            for _ in range(5):
                started = time.perf_counter()
                cursor.execute(statement, parameters)
                cursor.fetchall()
                times.append((time.perf_counter() - started) * 1000)
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            cursor.execute(prefix + statement, parameters)
            rows = cursor.fetchall()
            if postgres:
                plan = "\n".join(r[0] for r in rows)
            else:
                plan = "\n".join(f"{r[0]:>3} {r[1]:>3} {r[3]}" for r in rows)
            cursor.close()
        finally:
            raw.close()
        out.append(f"### {kind}: slowest request {ms:.1f} ms; this SQL alone, run again directly "
                   f"(execute + fetch, median of 5): {statistics.median(times):.1f} ms\n\n"
                   f"```sql\n{statement}\n-- {parameters}\n```\n\n```\n{plan}\n```\n")
    engine.dispose()
    return "\n".join(out)


def _versions(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            version = conn.execute(text("SHOW server_version")).scalar()
            name = f"PostgreSQL {version}"
        else:
            name = f"SQLite {conn.execute(text('SELECT sqlite_version()')).scalar()}"
    engine.dispose()
    return name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL; it is emptied first. "
                        "Default: a fresh SQLite file in a temporary directory.")
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts of the measured student")
    parser.add_argument("--other-contacts", type=int, default=5_000, help="contacts of a second student")
    parser.add_argument("--requests", type=int, default=500, help="list requests, and search requests")
    parser.add_argument("--rounds", type=int, default=3, help="alternating throughput rounds")
    parser.add_argument("--deep-repeat", type=int, default=10,
                        help="requests per far cursor (50%% and 95%% into the list, each sort)")
    parser.add_argument("--analyze", action=argparse.BooleanOptionalAction, default=None,
                        help="after loading, VACUUM ANALYZE (PostgreSQL) or ANALYZE (SQLite); default: "
                        "on PostgreSQL, where autovacuum would; not on SQLite, where nothing in the "
                        "app does")
    parser.add_argument("--explain", action="store_true",
                        help="print the SQL and plan of the slowest request of the slowest kinds")
    args = parser.parse_args(argv)

    tmp = None
    url = args.database_url
    if url is None:
        tmp = tempfile.mkdtemp(prefix="rapport-bench-")
        url = f"sqlite:///{tmp}/bench.db"
    if make_url(url).database == "test":
        parser.error("the database named 'test' belongs to the test suite; use another (e.g. bench)")
    postgres = make_url(url).get_backend_name() == "postgresql"
    analyze = postgres if args.analyze is None else args.analyze

    try:
        print(f"database: {make_url(url).render_as_string(hide_password=True)} ({_versions(url)})")
        reset(url)
        loaded = load(url, args.contacts, args.other_contacts, analyze)
        print("\nloading:")
        for step, seconds in loaded.seconds.items():
            print(f"  {step:<45} {seconds:7.1f} s")

        app = create_app(_settings(url))
        recorder = Recorder(app.state.engine)
        load_before = os.getloadavg()
        gc_watch = GcWatch()
        lists, searches = asyncio.run(
            measure_latency(app, loaded.key, args.requests, loaded.organization_ids, recorder))
        deep = asyncio.run(measure_deep(app, loaded.key, _deep_cursors(app, "maya@uni.edu", (0.5, 0.95)),
                                        args.deep_repeat, recorder))
        rounds = asyncio.run(measure_throughput(app, loaded.key, args.requests, args.rounds))

        load_after = os.getloadavg()
        gc.callbacks.remove(gc_watch._callback)
        client = "httpx.AsyncClient(transport=httpx.ASGITransport(app)), one request at a time"
        stats = "(VACUUM) ANALYZE run" if analyze else "no ANALYZE"
        print(f"\n{args.requests} list and {args.requests} search requests, limit={PAGE}, "
              f"{args.contacts:,} contacts, {stats}; {client}\n")
        print("load average (1, 5, 15 min) before measuring: {:.2f} {:.2f} {:.2f}, after: "
              "{:.2f} {:.2f} {:.2f} ({} CPUs)\n".format(*load_before, *load_after, os.cpu_count()))
        print(report_run("list", lists))
        print()
        print(report_run("search", searches))
        print("\nCPU p50: CPU time of this process (all threads) during the request; the PostgreSQL "
              "server's is not in it.\nSQL p50: time inside cursor.execute, summed over the request's "
              "statements (on SQLite, rows after the\nfirst are produced while fetching, so this "
              "understates slow SQLite scans; --explain times them).\nstmts: mean SQL statements a "
              "request. rows: mean items returned.\nGarbage collector while measuring (latency and "
              f"throughput): {gc_watch.summary()}.")
        print(f"\nfar cursors, {args.deep_repeat} requests each (not part of the mix above; a client "
              "paging through every contact gets there):\n")
        print(report_run("far cursor", deep))
        errors = [s for s in lists.samples + searches.samples + deep.samples if s.status != 200]
        if errors:
            print(f"\n{len(errors)} requests failed: {sorted({s.status for s in errors})}")

        print(f"\nthroughput, first page sort=name limit={PAGE}, {args.requests} requests a round:\n")
        rows = [[f"round {i + 1}", f"{real:.0f}", f"{fixed:.0f}", f"{real / fixed:.2f}"]
                for i, (real, fixed) in enumerate(rounds)]
        real = statistics.median(r for r, _ in rounds)
        fixed = statistics.median(f for _, f in rounds)
        rows.append(["median", f"{real:.0f}", f"{fixed:.0f}", f"{real / fixed:.2f}"])
        print(_table(["", "list req/s", "bare req/s", "ratio"], rows))

        list_p99 = _percentile([s.ms for s in lists.samples], 99)
        search_p99 = _percentile([s.ms for s in searches.samples], 99)
        print("\nsummary:\n")
        print(_table(["target", "measured", "met"], [
            [f"list p99 < {LIST_P99_MS:.0f} ms", f"{list_p99:.1f} ms", "yes" if list_p99 < LIST_P99_MS
             else "NO"],
            [f"search p99 < {SEARCH_P99_MS:.0f} ms", f"{search_p99:.1f} ms",
             "yes" if search_p99 < SEARCH_P99_MS else "NO"],
            ["list throughput vs bare route", f"{real:.0f} / {fixed:.0f} req/s",
             f"ratio {real / fixed:.2f}"],
        ]))
        if args.explain:
            print("\nplans of the slowest requests:\n")
            print(explain(url, lists, 4))
            print(explain(url, searches, 4))
            print(explain(url, deep, 3))
        app.state.engine.dispose()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

