"""Issue #6, section 7: `rapport import` killed with SIGKILL at random moments, several times,
then run once more, leaves exactly what one uninterrupted run leaves — every valid row once, no
duplicate, no half-written row — and its report says the same.

The suite's database decides where this runs: SQLite temporary files, or (when
RAPPORT_TEST_DATABASE_URL names PostgreSQL) two fresh schemas of that database, dropped after.
Kill delays are fractions of an uninterrupted run timed on the same machine, so the test does not
depend on its speed; KILL_TEST_SEED=<n> replays one choice of delays."""

import io
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app import migrate
from app.cli import app as cli
from app.config import get_settings
from app.imports import service as imports
from app.imports.writers import entry_derived
from app.models import DirectoryEntry, User
from tests.imports.helpers import SAMPLES, count, make_staff, rows, upload

ROWS = 30_000
STAFF = "office@uni.edu"
RAPPORT = Path(sys.executable).parent / "rapport"
ENTRY_COLUMNS = [c.name for c in DirectoryEntry.__table__.columns
                 if c.name not in {"id", "version", "created_at", "updated_at"}]
FIELDS = ["external_id", "email", "first_name", "last_name", "title", "organization_name",
          "graduation_year", "industry", "location", "degree", "major", "linkedin_url",
          "accepts_requests"]
DERIVED = ["email_key", "sort_name", "search_text"]


@pytest.fixture
def two_databases(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh, migrated databases: one to interrupt, one for the uninterrupted run."""
    base = os.environ.get("RAPPORT_TEST_DATABASE_URL")
    if not base:
        urls = [f"sqlite:///{tmp_path / name}.db" for name in ("interrupted", "reference")]
        for url in urls:
            migrate.upgrade(url)
        yield urls[0], urls[1]
        return
    if make_url(base).get_backend_name() != "postgresql":
        pytest.skip("the kill test knows SQLite and PostgreSQL")
    tag = uuid.uuid4().hex[:8]
    schemas = [f"kill_{tag}_interrupted", f"kill_{tag}_reference"]
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in base else "?"
        urls = [f"{base}{sep}options=-csearch_path%3D{schema}" for schema in schemas]
        for url in urls:
            migrate.upgrade(url)
        yield urls[0], urls[1]
    finally:
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def alumni_file(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A 30,000-row export, and the generator's own count of each kind of problem row."""
    path = tmp_path / "alumni-30k.csv"
    with path.open("wb") as out:
        made = subprocess.run([sys.executable, str(SAMPLES / "make_alumni_csv.py"), str(ROWS)],
                              stdout=out, stderr=subprocess.PIPE, check=True, timeout=60)
    problems = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", made.stderr.decode())}
    assert problems["rows"] == ROWS
    return path, problems


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "RAPPORT_ENV": "development", "RAPPORT_DATABASE_URL": url,
            "COLUMNS": "200", "NO_COLOR": "1"}


def _create_staff(url: str) -> None:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli, ["users", "create", "--email", STAFF, "--name", "Career Office", "--role",
                  "staff", "--password-stdin"], input="a long staff password\n", env=_env(url))
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output


def _start(url: str, path: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(RAPPORT), "import", str(path), "--target", "directory", "--user", STAFF],
            env=_env(url), stdout=out, stderr=subprocess.STDOUT)


def _state(url: str) -> dict[str, Any]:
    """What the database holds: the entries, the imports and their errors, the search index."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            entries = [dict(r) for r in conn.execute(text(
                f"SELECT {', '.join(ENTRY_COLUMNS)} FROM directory_entries")).mappings()]  # noqa: S608
            jobs = [dict(r) for r in conn.execute(text(
                "SELECT id, status, created, updated, unchanged, skipped, lines_done, dry_run "
                "FROM imports ORDER BY created_at, id")).mappings()]
            errors = [tuple(r) for r in conn.execute(text(
                "SELECT import_id, row, field, message FROM import_row_errors"))]
            if conn.dialect.name == "sqlite":
                indexed = conn.scalar(text(
                    "SELECT count(*) FROM directory_fts f JOIN directory_entries e "
                    "ON e.rowid = f.rowid AND e.search_text = f.search_text"))
                index_rows = conn.scalar(text("SELECT count(*) FROM directory_fts"))
                found = conn.scalar(text("SELECT count(*) FROM directory_fts "
                                         "WHERE directory_fts MATCH '\"medtr\"*'"))
            else:
                indexed = index_rows = conn.scalar(text(
                    "SELECT count(*) FROM directory_entries WHERE search_vector IS NOT NULL"))
                found = conn.scalar(text(
                    "SELECT count(*) FROM directory_entries WHERE search_vector @@ "
                    "to_tsquery('simple', 'medtr:*')"))
        indexes = {i["name"] for i in inspect(engine).get_indexes("directory_entries")}
    finally:
        engine.dispose()
    return {"entries": entries, "jobs": jobs, "errors": errors, "indexed": indexed,
            "index_rows": index_rows, "found": found, "indexes": indexes}


def _whole(state: dict[str, Any], where: str) -> None:
    """What any moment may leave: whole batches, each with its import's counts."""
    entries, jobs = state["entries"], state["jobs"]
    ids = [e["external_id"] for e in entries]
    emails = [e["email_key"] for e in entries if e["email_key"]]
    assert len(ids) == len(set(ids)) and None not in ids, f"{where}: a duplicate external_id"
    assert len(emails) == len(set(emails)), f"{where}: a duplicate email"
    assert len(entries) == sum(j["created"] for j in jobs), (
        f"{where}: {len(entries)} entries, but the imports say {[j['created'] for j in jobs]}")
    assert len(set(state["errors"])) == len(state["errors"]), f"{where}: an error twice"
    for job in jobs:
        rows_in_error = {e[1] for e in state["errors"] if e[0] == job["id"]}
        assert len(rows_in_error) == job["skipped"], f"{where}: {job} vs {len(rows_in_error)}"
    for entry in entries:  # no half-written row: its matching and search fields are there
        derived = entry_derived({f: entry[f] for f in FIELDS})
        assert {k: entry[k] for k in DERIVED} == derived, f"{where}: half-written {entry}"
    assert state["indexed"] == state["index_rows"] == len(entries), (
        f"{where}: {len(entries)} entries, {state['indexed']} indexed, "
        f"{state['index_rows']} in the index")


def _content(state: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {tuple(e[c] for c in ENTRY_COLUMNS) for e in state["entries"]}


def test_an_import_killed_again_and_again_finishes_exactly(
    two_databases: tuple[str, str], alumni_file: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    interrupted, reference = two_databases
    path, problems = alumni_file
    for url in (interrupted, reference):
        _create_staff(url)
    log = tmp_path / "cli.log"

    # One uninterrupted run: the expected result, and how long a run takes here.
    started = time.monotonic()
    whole = _start(reference, path, log)
    assert whole.wait(timeout=120) == 0, log.read_text()
    typical = time.monotonic() - started
    expected = _state(reference)
    _whole(expected, "uninterrupted run")
    assert len(expected["jobs"]) == 1
    done = expected["jobs"][0]
    assert done["status"] == "completed" and done["lines_done"] == ROWS + 1
    # Every valid row once: the file's rows, less the ones with a bad address, less the
    # repeated people (the generator counts both).
    assert (done["created"], done["unchanged"], done["skipped"], done["updated"]) == (
        ROWS - problems["bad_email"] - problems["duplicate"], problems["duplicate"],
        problems["bad_email"], 0), (done, problems)
    assert len(expected["entries"]) == done["created"]

    # Killed at random moments, a few times, each run carrying on from the last.
    seed = int(os.environ.get("KILL_TEST_SEED") or secrets.randbelow(1 << 30))
    rnd = random.Random(seed)  # noqa: S311 - when to kill, not a secret
    strata = [(0.1, 0.45), (0.45, 0.75), (0.75, 1.0)]  # of the typical run
    delays = [max(0.2, rnd.uniform(lo, hi) * typical) for lo, hi in strata]
    rnd.shuffle(delays)
    history: list[str] = [f"seed={seed} typical run={typical:.2f}s"]
    kills = interrupted_imports = 0
    while delays and len(history) < 10:
        delay = delays.pop(0)
        run = _start(interrupted, path, log)
        time.sleep(delay)
        if run.poll() is None:
            os.kill(run.pid, signal.SIGKILL)
        code = run.wait(timeout=60)
        state = _state(interrupted)
        where = f"after the run stopped at {delay:.2f}s (exit {code}); {history}"
        _whole(state, where)
        if code == -signal.SIGKILL:
            kills += 1
            interrupted_imports += any(j["status"] == "running" for j in state["jobs"])
        else:
            assert code == 0, where + log.read_text()[-2000:]
        history.append(f"{delay:.2f}s: exit {code}, {len(state['entries'])} entries, "
                       f"jobs {[(j['status'], j['lines_done']) for j in state['jobs']]}")
        if not delays and (kills < 3 or not interrupted_imports):  # a fast machine: again
            delays.append(max(0.2, rnd.uniform(0.3, 0.9) * typical))
    print("\n".join(history))  # shown by pytest -s, and with a failure
    assert kills >= 3, history
    assert interrupted_imports >= 1, f"no kill landed during an import: {history}"

    # Run once more, to the end.
    final = _start(interrupted, path, log)
    assert final.wait(timeout=120) == 0, log.read_text()[-2000:]
    state = _state(interrupted)
    _whole(state, f"the final run; {history}")
    assert len(state["entries"]) == len(expected["entries"]), history
    assert _content(state) == _content(expected), history
    assert state["found"] == expected["found"] > 0
    # The index a first load builds at its end is there, though the first run never got there.
    assert state["indexes"] == expected["indexes"]
    assert {i.name for i in DirectoryEntry.__table__.indexes} <= state["indexes"]

    # The report: the import the kills interrupted, carried on to the end, says exactly what
    # the uninterrupted one says, and lists each failed row once.
    jobs = state["jobs"]
    assert all(j["status"] == "completed" for j in jobs), (jobs, history)
    first = jobs[0]
    keys = ("created", "updated", "unchanged", "skipped", "lines_done")
    assert {k: first[k] for k in keys} == {k: done[k] for k in keys}, (jobs, history)
    assert sorted(e[1:] for e in state["errors"] if e[0] == first["id"]) == sorted(
        e[1:] for e in expected["errors"])
    for later in jobs[1:]:  # a run after the import was complete found nothing to do
        assert (later["created"], later["updated"]) == (0, 0), (jobs, history)


class _Stopped(Exception):
    """Stands for kill -9 right after a batch was committed."""


def _stop(line: int) -> None:
    raise _Stopped(line)


def test_a_stopped_import_sent_again_with_another_mapping_starts_over(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH", 5000)  # commit twice in this file
    staff = make_staff(app, client)
    lines = ["Constituent ID,First Name,Last Name,Personal Email,Work Email"]
    lines += [f"C{n},First{n},Last{n},p{n}@home.example,p{n}@work.example"
              for n in range(2, 10_052)]
    content = ("\n".join(lines) + "\n").encode()
    with Session(app.state.engine) as db:  # "Work Email" is guessed as the email
        owner = db.get(User, staff["id"])
        assert owner is not None
        with pytest.raises(_Stopped):
            imports.run(db, owner, io.BytesIO(content), target="directory",
                        filename="alumni.csv", progress=_stop)
    assert 0 < count(app, DirectoryEntry) < 10_050  # the first batches, committed

    mapping = {"Personal Email": "email", "Work Email": ""}
    response = upload(client, "alumni.csv", content, "directory", mapping=json.dumps(mapping))
    assert response.status_code == 201, response.text
    assert response.json()["mapping"]["Personal Email"] == "email"
    emails = {e.email for e in rows(app, DirectoryEntry)}
    assert emails == {f"p{n}@home.example" for n in range(2, 10_052)}
