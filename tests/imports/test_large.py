"""How a large file goes in: read and checked (for the directory, a column at a time; for a
student, matched and planned too) by a child process, written by the importing one. Every row
must get exactly what the row-by-row rules give it, and both ways of running must leave the
same directory or the same contacts."""

import io
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from app.db import reading
from app.directory import service as directory
from app.imports import rows
from app.imports import service as imports
from app.imports.writers import BLANK, DirectoryWriter, entry_derived
from app.models import Contact, ContactEvent, ContactTag, DirectoryEntry, Import, Organization, User
from tests.conftest import signed_in
from tests.imports.helpers import ON_POSTGRESQL, csv_bytes, make_staff

# Values as files give them: good ones, and each way a value can be refused or be odd.
NAMES = st.sampled_from(["Ana", " José ", "Zoë", "O'Brien", "'=cmd", "  ", "", "x" * 101,
                         "Nguyễn", "李", "a\x00b", "\ud800", "Ann Lee"])
EMAILS = st.sampled_from(["ana@example.org", "ANA@Example.org", " b@uni.edu ", "not-an-email",
                          "a@b", "", "'=x@y.org", "é@exämple.org"])
YEARS = st.sampled_from(["2019", "1988", "'19", "2019.0", "1800", "2999", "abc", "\uff12\uff10\uff11\uff19",
                         "", " 2001 ", "19"])
ANSWERS = st.sampled_from(["yes", "Yes", "NO", "x", "maybe", "", "True", "0", " y "])
URLS = st.sampled_from(["https://www.linkedin.com/in/ana", "linkedin.com/in/ana", "", "http://x"])
TEXTS = st.sampled_from(["", "Engineer", "Health Care", "Saint Paul", "MN", "y" * 201,
                         "Ingénieur", "  padded  "])
FIELDS = {"first_name": NAMES, "last_name": NAMES, "email": EMAILS, "graduation_year": YEARS,
          "accepts_requests": ANSWERS, "linkedin_url": URLS, "title": TEXTS,
          "organization_name": TEXTS, "industry": TEXTS, "location": TEXTS, "city": TEXTS,
          "state": TEXTS, "name": NAMES, "degree": TEXTS, "major": TEXTS,
          "external_id": st.sampled_from(["C1", "C2", "", " C3 ", "z" * 201])}


@st.composite
def records(draw: Callable[..., Any]) -> dict[str, str]:
    if draw(st.integers(0, 30)) == 0:  # a row the reader found too wide
        return {"__problem__": "this row has 9 values but the header has 8 columns"}
    names = draw(st.sets(st.sampled_from(sorted(FIELDS))))
    record = {name: draw(FIELDS[name]) for name in names}
    return {name: value for name, value in record.items() if value}  # as the reader keeps them


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=12))
def test_a_batch_checked_a_column_at_a_time_gives_every_row_what_its_own_check_gives(
    batch: list[dict[str, str]]
) -> None:
    items = [(line, record, [f"cell {line}"]) for line, record in enumerate(batch, start=2)]
    columns, refused = rows.check_directory(items)
    expected_entries, expected_refused = [], []
    for line, record, cells in items:
        entry, problems = rows.check(record, "directory", {})
        if problems:
            expected_refused.extend((line, f, v, m, cells) for f, v, m in problems)
        else:
            expected_entries.append(entry)
    assert refused == expected_refused
    entries = DirectoryWriter.prepare(columns)
    assert len(entries) == len(expected_entries)
    for made, entry in zip(entries, expected_entries, strict=True):
        values = dict(zip(DirectoryWriter.ENTRY, made, strict=True))
        # What a new entry would hold: the row's values over the blank entry, and what is
        # derived from them (accepting requests when the row does not say).
        expected = {**BLANK, **entry}
        expected = {**expected, **entry_derived(expected)}
        if values["accepts_requests"] is None:
            values["accepts_requests"] = True
        assert {k: v for k, v in values.items() if k != "id"} == {
            k: expected[k] for k in DirectoryWriter.ENTRY if k != "id"}
        assert len(values["id"]) == 26


def _alumni(count: int, start: int = 0) -> bytes:
    lines = ["Constituent ID,First Name,Last Name,Preferred Email,Class Year,Employer,City,"
             "State,Contact Opt-In"]
    for n in range(start, start + count):
        email = "" if n % 7 == 0 else f"p{n % (count - 3)}@alumni.example"  # some repeat
        year = "twenty" if n % 97 == 0 else str(1970 + n % 50)
        lines.append(f"C{n},Fírst{n},Last{n},{email},{year},Org {n % 13},Saint Paul,MN,"
                     f"{'yes' if n % 3 else 'no'}")
    lines.append(lines[6])  # a row twice
    return ("\n".join(lines) + "\n").encode()


def _snapshot(app: FastAPI) -> set[tuple[Any, ...]]:
    columns = [c for c in DirectoryEntry.__table__.columns
               if c.name not in {"id", "created_at", "updated_at"}]
    with Session(app.state.engine) as db:
        return {tuple(r) for r in db.execute(select(*columns))}


def _import(app: FastAPI, staff: dict[str, Any], content: bytes, **kwargs: Any) -> Import:
    with Session(app.state.engine) as db:
        owner = db.get(User, staff["id"])
        assert owner is not None
        job = imports.run(db, owner, io.BytesIO(content), target="directory",
                          filename="alumni.csv", **kwargs)
        db.refresh(job)
        db.expunge(job)
        return job


def _empty_directory(app: FastAPI) -> None:
    with Session(app.state.engine) as db:
        db.execute(DirectoryEntry.__table__.delete())
        db.execute(Import.__table__.delete())
        db.commit()


def _counts(job: Import) -> tuple[int, ...]:
    return (job.created, job.updated, job.unchanged, job.skipped, job.lines_done)


@pytest.mark.parametrize("first_load", [True, False])
def test_a_file_read_by_a_child_process_leaves_what_one_read_here_leaves(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch, first_load: bool
) -> None:
    staff = make_staff(app, client)
    monkeypatch.setattr(imports, "BATCH", 700)  # several commits
    content = _alumni(3000)
    earlier = _alumni(400, start=2800)  # entries that are there before, when not a first load
    outcomes = []
    for process in (False, True):
        _empty_directory(app)
        if not first_load:
            _import(app, staff, earlier)
        monkeypatch.setattr(imports, "PROCESS_MIN_BYTES", 0 if process else 1 << 40)
        job = _import(app, staff, content)
        assert job.status == "completed", job.problem
        outcomes.append((_counts(job), _snapshot(app)))
    assert outcomes[0] == outcomes[1]
    (created, updated, unchanged, skipped, lines), _ = outcomes[0]
    assert lines == 3002 and skipped == len(range(0, 3000, 97))
    assert created + updated + unchanged + skipped == 3001
    assert unchanged >= 1  # the row twice
    assert updated > 0  # rows with an address seen before took the later row's values


def _people(rows: range, company: Callable[[int], str], when: Callable[[int], str] = lambda n: "",
            name: Callable[[int], str] = lambda n: f"Person{n},Family{n}") -> list[str]:
    """Rows of a student's CSV: person n has the address p{n}@example.org."""
    return [f"{name(n)},p{n}@example.org,{company(n)},Title {n % 7},\"tag{n % 3}, shared\",{when(n)}"
            for n in rows]


def _student_snapshot(app: FastAPI, owner_id: str) -> tuple[Any, ...]:
    """The student's contacts, organizations, tags and timelines, without ids or moments."""
    with Session(app.state.engine) as db:
        names = dict(db.execute(select(Organization.id, Organization.name)
                                .where(Organization.owner_id == owner_id)).all())
        people = {c.id: (c.first_name, c.last_name, c.email, names.get(c.organization_id),
                         c.title, c.next_action_at, c.stage, c.sort_name, c.search_text)
                  for c in db.scalars(select(Contact).where(Contact.owner_id == owner_id))}
        tags = sorted((people[i], t) for i, t in db.execute(
            select(ContactTag.contact_id, ContactTag.tag).where(ContactTag.owner_id == owner_id)))
        timelines = sorted((people[i], kind, str(sorted(data.items()))) for i, kind, data in db.execute(
            select(ContactEvent.contact_id, ContactEvent.kind, ContactEvent.data)
            .where(ContactEvent.owner_id == owner_id)))
        return sorted(people.values(), key=str), sorted(names.values()), tags, timelines


def test_a_student_file_read_by_a_child_process_leaves_what_one_read_here_leaves(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New contacts, changes to earlier ones (a company in other letters, a new company, a next
    step's date), a row changing a contact made earlier in its own batch or in an earlier one,
    and rows in conflict, in batches of 300: the same contacts either way."""
    owner_id = signed_in(client)["id"]
    monkeypatch.setattr(imports, "CONTACTS_BATCH", 300)
    header = "First Name,Last Name,Email,Company,Job Title,Tags,Next step date"
    earlier = csv_bytes([header, *_people(range(0, 400), lambda n: f"Company {n % 5}")])
    content = csv_bytes([
        header,
        *_people(range(200, 1400), lambda n: f"COMPANY {n % 5}" if n < 400 else f"Firm {n % 9}",
                 lambda n: "2027-03-01T09:30:00+01:00" if n % 4 == 0 else ""),
        *_people(range(1000, 1100), lambda n: "Later Firm", lambda n: "2027-04-01"),  # again
        *_people(range(1390, 1400), lambda n: "Same Batch Firm"),  # again, within the batch
        *_people(range(0, 20), lambda n: "Acme", name=lambda n: f"Stranger{n},Other{n}"),
    ])
    outcomes = []
    for process in (False, True):
        with Session(app.state.engine) as db:
            for model in (ContactEvent, ContactTag, Contact, Organization, Import):
                db.execute(model.__table__.delete())
            db.commit()
            owner = db.get(User, owner_id)
            assert owner is not None
            monkeypatch.setattr(imports, "PROCESS_MIN_BYTES", 1 << 40)
            imports.run(db, owner, io.BytesIO(earlier), target="contacts", filename="earlier.csv")
            monkeypatch.setattr(imports, "PROCESS_MIN_BYTES", 0 if process else 1 << 40)
            job = imports.run(db, owner, io.BytesIO(content), target="contacts",
                              filename="people.csv")
            assert job.status == "completed", job.problem
            counted = (job.created, job.updated, job.unchanged, job.conflicts, job.skipped)
            db.commit()
        outcomes.append((counted, _student_snapshot(app, owner_id)))
    assert outcomes[0] == outcomes[1]
    (created, updated, unchanged, conflicts, skipped), (people, organizations, tags, _) = outcomes[0]
    assert (created, updated, unchanged, conflicts, skipped) == (1000, 310, 0, 20, 0)
    assert len(people) == 1400 and "Company 0" in organizations and "COMPANY 0" not in organizations
    assert {"Later Firm", "Same Batch Firm", "Firm 0"} <= set(organizations)
    assert sum(1 for p in people if p[5] is not None) == 300 + 75  # a quarter, then 1000 to 1099
    assert len(tags) == 2 * 1400 and {t for _, t in tags} == {"tag0", "tag1", "tag2", "shared"}


def test_a_first_load_builds_the_name_index_after_its_rows_and_a_dry_run_leaves_it(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite, that is; PostgreSQL keeps every index up to date as the rows come."""
    staff = make_staff(app, client)
    monkeypatch.setattr(imports, "BATCH", 500)

    def indexes() -> set[str]:
        # As a reader: a directory dry run holds SQLite's write lock while it runs.
        return {i["name"] for i in inspect(reading(app.state.engine)).get_indexes("directory_entries")}

    every = indexes()
    assert DirectoryWriter.DEFERRED in every
    seen: list[set[str]] = []
    job = _import(app, staff, _alumni(2000), progress=lambda _: seen.append(indexes()))
    assert job.status == "completed"
    assert seen and all((DirectoryWriter.DEFERRED in s) == ON_POSTGRESQL for s in seen)
    assert indexes() == every
    if not ON_POSTGRESQL:  # and the index is whole: it lists every entry
        with app.state.engine.connect() as conn:
            assert conn.scalar(text(
                f"SELECT count(*) FROM directory_entries INDEXED BY {DirectoryWriter.DEFERRED} "  # noqa: S608
                "WHERE sort_name > ''")) == job.created

    _empty_directory(app)
    seen.clear()
    _import(app, staff, _alumni(2000), dry_run=True, progress=lambda _: seen.append(indexes()))
    assert seen and all(s == every for s in seen)


def test_an_entry_someone_else_adds_during_a_first_load_is_matched_not_repeated(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first load looks up only the keys it may have written itself, until another
    connection writes: then it looks every key up again."""
    staff = make_staff(app, client)
    monkeypatch.setattr(imports, "BATCH", 300)
    monkeypatch.setattr(imports, "PROCESS_MIN_BYTES", 0)
    content = _alumni(1500)
    late = "p1401@alumni.example"  # a row near the end of the file has this address

    def someone_else(line: int) -> None:
        if line < 1000:
            with Session(app.state.engine) as db:  # another connection, between two commits
                if db.scalar(select(DirectoryEntry).where(DirectoryEntry.email_key == late)):
                    return
                added = directory.create_entry(db, {"first_name": "Added", "email": late,
                                                    "external_id": "elsewhere-1"})
                added_id.append(added.id)
                db.commit()

    added_id: list[str] = []
    job = _import(app, staff, content, progress=someone_else)
    assert job.status == "completed"
    with Session(app.state.engine) as db:
        found = db.scalars(select(DirectoryEntry).where(DirectoryEntry.email_key == late)).all()
    assert [(e.id, e.first_name) for e in found] == [(added_id[0], "Fírst1401")]


class _Stopped(Exception):
    pass


def _stop(line: int) -> None:
    raise _Stopped(line)


def test_an_import_that_stops_takes_its_reader_and_threads_with_it(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = make_staff(app, client)
    monkeypatch.setattr(imports, "BATCH", 200)
    monkeypatch.setattr(imports, "PROCESS_MIN_BYTES", 0)
    with pytest.raises(_Stopped):
        _import(app, staff, _alumni(5000), progress=_stop)
    assert multiprocessing.active_children() == []
    assert not [t for t in threading.enumerate() if t.name.startswith("import-")]
    with Session(app.state.engine) as db:
        job = db.scalars(select(Import)).one()
        assert job.status == "failed" and 0 < job.lines_done < 5001
        assert job.problem == f"Stopped after row {job.lines_done}."

    job = _import(app, staff, _alumni(5000))  # sent again: a new import, from the top
    assert job.status == "completed" and job.lines_done == 5002
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("process", [False, True])
def test_a_row_nothing_foresaw_stops_the_import_there_and_keeps_what_came_before(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch, process: bool
) -> None:
    staff = make_staff(app, client)
    monkeypatch.setattr(imports, "PROCESS_MIN_BYTES", 0 if process else 1 << 40)
    check_directory = rows.check_directory

    def fragile(items: list[tuple[int, dict[str, str], list[str]]]) -> Any:
        if any(record.get("first_name") == "Fírst1232" for _, record, _ in items):
            raise RuntimeError("a bug")
        return check_directory(items)

    monkeypatch.setattr(rows, "check_directory", fragile)
    job = _import(app, staff, _alumni(3000))
    assert (job.status, job.problem, job.lines_done) == (
        "failed", "Row 1234 could not be read.", 1233)  # row 1234 of the file holds n=1232
    assert job.created + job.unchanged + job.skipped == 1232
    assert multiprocessing.active_children() == []
