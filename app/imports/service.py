"""Running an import: read, check, write in batches, and keep a report.

Each batch is written in one transaction together with the import's progress, so an import
stopped at any moment (a crash, ``kill -9``) leaves whole batches only, and running the same
file again carries on after the last one. A file that turns out to be broken part-way stops
there, and the report says exactly which lines went in. A dry run into the directory writes
everything in one transaction and rolls it back, so its report is exact too; one into a
student's contacts is matched in memory and writes nothing but its report."""

import codecs
import contextlib
import csv
import gc
import hashlib
import io
import logging
import marshal
import multiprocessing
import os
import socket
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import groupby, islice
from queue import Empty, Queue
from threading import Lock, Thread
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.contacts.export import inert
from app.db import new_id, utcnow
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.imports import rows
from app.imports.reading import FileProblem, describe_encoding, known_export, open_source
from app.imports.writers import ContactsWriter, DirectoryWriter
from app.models import Import, ImportRowError, Role, Source, User
from app.pagination import Order, paginate
from app.webhooks import service as webhooks

# The directory's rows are read and checked 1,000 at a time (a pipe's buffer holds a few such
# batches, see _in_a_process), and committed 20,000 at a time: each commit writes the pages the
# indexes changed, so fewer commits write fewer pages.
READ_BATCH = 1000
BATCH = 20_000
# A student's contacts are written a batch at a time, each committed on its own: SQLite's
# write lock is held for one batch only, and other students' writes wait no longer.
CONTACTS_BATCH = 2500
FIRST_BATCH = 250  # the first batch small, so that writing starts soon
# A directory file this large is read and checked in a process of its own while this one
# writes: the two halves then run on two processors (threads would take turns on Python's lock).
PROCESS_MIN_BYTES = 1 << 20
FORK = "fork" in multiprocessing.get_all_start_methods()
PIPE_BYTES = 1 << 20  # the most Linux gives a pipe unless told otherwise
INBOX_BATCHES = 8
LIVE_SECONDS = 30  # an import that wrote nothing for this long has stopped
log = logging.getLogger(__name__)
TARGETS = ("contacts", "directory")
# A file of the student's own network (an address book's or LinkedIn's export): the people
# in it are personal contacts.
SOURCE_BY_FORMAT = {"linkedin", "google", "vcard"}


def may_write_directory(user: User) -> bool:
    return user.role in {Role.staff, Role.admin}


def file_digest(binary: IO[bytes]) -> tuple[str, bool]:
    """The file's SHA-256, and whether all of it is UTF-8 (the encoding is otherwise guessed
    from its beginning alone)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    for chunk in iter(lambda: binary.read(1 << 20), b""):
        digest.update(chunk)
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
    binary.seek(0)
    return digest.hexdigest(), utf8


def run(db: Session, owner: User, binary: IO[bytes], *, target: str, fmt: str = "auto",
        filename: str = "", dry_run: bool = False, mapping: dict[str, str] | None = None,
        progress: Callable[[int], None] | None = None, max_rows: int | None = None,
        actor: audit.Actor | None = None) -> Import:
    """Import ``binary`` and return its record (a dry run's record is kept, its rows are not).
    ``max_rows``: a file into a student's contacts with more rows is refused before any is
    written. An import into the directory goes to the audit log as done by ``actor`` (the
    owner when none is given), committed with the import's end."""
    if target == "directory" and not may_write_directory(owner):
        raise Forbidden("Only career-services staff can import into the alumni directory.",
                        code="staff_only")
    digest, utf8 = file_digest(binary)
    if target == "contacts" and max_rows is not None:
        _refuse_beyond(binary, max_rows, lambda: open_source(binary, fmt, filename, mapping,
                                                             utf8_throughout=utf8))
    # A FileProblem here writes nothing.
    source = open_source(binary, fmt, filename, mapping, utf8_throughout=utf8)
    columns = {column: rows.destination(source.mapping.get(i, ""), target)
               for i, column in enumerate(source.header)}
    if not dry_run and running(db, owner, target) is not None:
        raise Conflict("Another import into the same place is running (it wrote a batch in the "
                       "last half minute). Wait for it to finish, then try again.",
                       code="import_running")
    found = None if dry_run else db.scalar(
        select(Import).where(Import.owner_id == owner.id, Import.target == target,
                             Import.file_sha256 == digest, Import.status == "running",
                             Import.dry_run.is_(False), Import.format == source.format)
        .order_by(Import.created_at.desc()).limit(1))
    if found is not None and found.mapping != columns:
        found = None  # the same file read another way: a new import
    job = found or Import(id=new_id(), owner_id=owner.id, target=target, format=source.format,
                          filename=filename[:300], file_sha256=digest, dry_run=dry_run,
                          status="running", problem="", worker=_worker(), lines_done=0,
                          created=0, updated=0, unchanged=0, skipped=0, conflicts=0, warnings=0,
                          encoding="" if source.format == "xlsx" else describe_encoding(source.encoding),
                          mapping=columns)
    if found is not None:
        job.worker = _worker()  # this process carries it on
    elif not dry_run:  # a dry run's record is written at the end, and only then
        db.add(job)
    if not dry_run:
        db.commit()  # the record exists before any row: a stopped import can be resumed
    writer: Any = DirectoryWriter(db, dry_run) if target == "directory" \
        else ContactsWriter(db, owner, dry_run)
    personal = source.format in SOURCE_BY_FORMAT or known_export(source.header) is not None
    defaults: dict[str, str] = {"source": Source.personal if personal else Source.other} \
        if target == "contacts" else {}
    kept: list[ImportRowError] = []
    batches = _batches(source, target, defaults, job.lines_done, writer.plan)
    if _size(binary) >= PROCESS_MIN_BYTES and FORK:
        batches = _in_a_process(batches)
    ended = Ended("failed", "")
    commit_every = BATCH if target == "directory" else 1  # contacts: each batch on its own
    pending = 0  # rows read since the last commit
    try:
        for batch in _collecting_less(batches):
            if isinstance(batch, Ended):
                ended = batch
                break
            created, updated, unchanged, refused, conflicts = writer.write(batch.entries)
            errors = _reported("error", [*batch.refused, *((r, f, "", m, c) for r, f, m, c in refused)])
            job.created += created
            job.updated += updated
            job.unchanged += unchanged
            job.skipped += len({e.row for e in errors})
            job.conflicts += len(conflicts)
            job.warnings += len(batch.warnings)
            errors += _reported("conflict", [c[:5] for c in conflicts], [c[5] for c in conflicts])
            errors += _reported("warning", batch.warnings)
            for e in errors:
                e.import_id = job.id
            job.lines_done = batch.line
            pending += len(batch.entries) + len(batch.refused)
            if dry_run:
                kept.extend(errors)
            else:
                db.add_all(errors)
            if pending >= commit_every:
                writer.commit()
                pending = 0
                if progress:
                    progress(batch.line)
        if pending:
            writer.commit()
            if progress:
                progress(job.lines_done)
    except BaseException:  # the writer stopped: its batch is undone; what came before stays
        db.rollback()
        if not dry_run:
            job.status, job.problem = "failed", f"Stopped after row {job.lines_done}."
            job.finished_at = utcnow()
            webhooks.import_finished(db, job)
            _audited(db, job, actor or audit.Actor.of(owner))
            db.commit()
        raise
    finally:
        batches.close()
        writer.finish()
    source.release()
    job.status, job.problem = ended.status, ended.problem
    job.finished_at = utcnow()
    if dry_run:  # everything written is undone; the report and the errors stay
        report = {c: getattr(job, c) for c in ("created", "updated", "unchanged", "skipped",
                                                "conflicts", "warnings", "encoding", "lines_done",
                                                "status", "problem", "finished_at")}
        db.rollback()
        job = Import(id=job.id, owner_id=owner.id, target=target, format=source.format,
                     filename=filename[:300], file_sha256=digest, dry_run=True,
                     mapping=dict(job.mapping), **report)
        db.add(job)
        for error in kept:
            error.import_id = job.id
        db.add_all(kept)
    else:
        webhooks.import_finished(db, job)
        _audited(db, job, actor or audit.Actor.of(owner))
    db.commit()
    return job


def _audited(db: Session, job: Import, actor: audit.Actor) -> None:
    if job.target != "directory":
        return
    counts = {c: getattr(job, c) for c in ("created", "updated", "unchanged", "skipped")}
    told = ", ".join(f"{n:,} {c}" for c, n in counts.items())
    ending = f"; it stopped: {job.problem}" if job.status == "failed" else ""
    audit.record(db, actor, audit.Action.directory_imported, target_type="import",
                 target_id=job.id,
                 summary=f"Imported {job.filename or 'a file'} into the directory: {told}{ending}",
                 details={**counts, "format": job.format, "status": job.status})


@dataclass
class Batch:
    """Rows read and checked: what the writer takes, the rows refused (line, field, value,
    message, cells), the last line read, and the values left out of rows that go in."""

    entries: Any  # checked, then planned: as the writer takes them
    refused: list[rows.Refusal]
    line: int
    warnings: list[rows.Refusal] = field(default_factory=list)


def _reported(kind: str, found: list[rows.Refusal],
              about: list[dict[str, str]] | None = None) -> list[ImportRowError]:
    """Rows for the report, of one kind (error, conflict, warning)."""
    return [ImportRowError(row=row, field=name, value=storable_text(value), message=message,
                           cells=[storable_text(c) for c in cells], kind=kind,
                           about=about[i] if about else {})
            for i, (row, name, value, message, cells) in enumerate(found)]


@dataclass
class Ended:
    """The end of the file, or where reading it stopped and why."""

    status: str
    problem: str


Batches = Generator[Batch | Ended, None, None]


def _batches(source: Any, target: str, defaults: dict[str, str], resume_after: int,
             plan: Callable[[Any], Any]) -> Batches:
    """The file's rows after ``resume_after``, a batch at a time, checked and planned; then how
    it ended."""
    size = FIRST_BATCH
    largest = READ_BATCH if target == "directory" else CONTACTS_BATCH
    guarded = source.format in rows.GUARDED_FORMATS
    items: list[tuple[int, dict[str, str], list[str]]] = []
    line = resume_after  # the last row read
    try:
        for item in source.records:
            if item[0] <= resume_after:
                continue
            items.append(item)
            line = item[0]
            if len(items) >= size:
                taken, items = items, []  # (taken once, even if checking them fails)
                batch, unforeseen = _checked(taken, target, defaults, guarded, plan)
                if batch:
                    yield batch
                if unforeseen:
                    yield Ended("failed", f"Row {unforeseen} could not be read.")
                    return
                size = min(size * 2, largest)
        ended = Ended("completed", "")
    except FileProblem as exc:  # what was read before it is written, and said so
        ended = Ended("failed", exc.message)
    except Exception:  # a row nothing above foresaw: stop there, keep what came before
        log.exception("import stopped at row %s", line + 1)
        ended = Ended("failed", f"Row {line + 1} could not be read.")
    batch, unforeseen = _checked(items, target, defaults, guarded, plan) if items \
        else (None, None)
    if batch:
        yield batch
    yield Ended("failed", f"Row {unforeseen} could not be read.") if unforeseen else ended


Items = list[tuple[int, dict[str, Any], list[str]]]


def _checked(items: Items, target: str, defaults: dict[str, str], guarded: bool,
             plan: Callable[[Any], Any]) -> tuple[Batch | None, int | None]:
    """The rows checked and planned (``plan``: the writer's); or, when checking fails in a way
    nothing foresaw, the rows before the one it fails on, and that row's line."""
    try:
        batch, unforeseen = _check(items, target, defaults, guarded), None
    except Exception:
        bad = next((i for i, item in enumerate(items) if not _checks(item, target, defaults,
                                                                     guarded)), None)
        if bad is None:
            raise
        unforeseen = items[bad][0]
        if not bad:
            return None, unforeseen
        batch = _check(items[:bad], target, defaults, guarded)
    batch.entries = plan(batch.entries)  # once: a contacts writer's plan knows what it planned
    return batch, unforeseen


def _checks(item: tuple[int, dict[str, Any], list[str]], target: str, defaults: dict[str, str],
            guarded: bool) -> bool:
    """Whether a row can be checked at all (it may still be refused)."""
    try:
        _check([item], target, defaults, guarded)
    except Exception:
        log.exception("import stopped at row %s", item[0])
        return False
    return True


def _check(items: Items, target: str, defaults: dict[str, str], guarded: bool) -> Batch:
    """The rows checked, not yet planned."""
    if target == "directory":
        columns, refusals = rows.check_directory(items)
        return Batch(columns, refusals, items[-1][0])
    checked: list[tuple[int, dict[str, Any], list[str], list[str]]] = []
    refused: list[rows.Refusal] = []
    warnings: list[rows.Refusal] = []
    for line, record, cells in items:
        values, given, problems, left_out = rows.contact_values(record, defaults, guarded)
        if left_out:
            warnings.extend((line, f, v, m, cells) for f, v, m in left_out)
        if values is None:
            refused.extend((line, f, v, m, cells) for f, v, m in problems)
        else:
            checked.append((line, values, given, cells))
    return Batch(checked, refused, items[-1][0], warnings)


_gc_lock = Lock()
_gc_users = 0
_gc_threshold = gc.get_threshold()
GC_EVERY = 100_000  # allocations between collections while an import runs (Python's: 700)


def _collecting_less(batches: Batches) -> Batches:
    """The batches, with the garbage collector run less often while they are written: an
    import makes hundreds of thousands of objects that live until its end (and no cycles), and
    each collection walks all of them again (half the writing time of a student's file). The
    usual thresholds come back when the last import running in this process ends."""
    global _gc_users, _gc_threshold
    with _gc_lock:
        if _gc_users == 0:
            _gc_threshold = gc.get_threshold()
            gc.set_threshold(GC_EVERY, _gc_threshold[1], _gc_threshold[2])
        _gc_users += 1
    try:
        yield from batches
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0:
                gc.set_threshold(*_gc_threshold)


def _refuse_beyond(binary: IO[bytes], limit: int, reopen: Callable[[], Any]) -> None:
    """Refuse a file of more than ``limit`` rows before any is written: counted by its line
    ends, and by reading its records only when it has more line ends than that (or is a
    compressed workbook or archive)."""
    zipped = binary.read(4) == b"PK\x03\x04"  # a workbook or an archive: lines unknown
    binary.seek(0)
    ends = sum(chunk.count(b"\n") for chunk in iter(lambda: binary.read(1 << 20), b""))
    binary.seek(0)
    if ends <= limit and not zipped:
        return
    source = reopen()
    try:
        found = sum(1 for _ in islice(source.records, limit + 1))
    finally:
        source.release()
        binary.seek(0)
    if found > limit:
        message = (f"This file has more than {limit:,} rows; one file brings at most {limit:,} "
                   "into your contacts. Split it into smaller files and import each.")
        raise ValidationFailed(message, code="too_many_rows", fields=[("file", message)])


def _size(binary: IO[bytes]) -> int:
    position = binary.tell()
    size = binary.seek(0, os.SEEK_END)
    binary.seek(position)
    return size


def _in_a_process(batches: Batches) -> Batches:
    """The same batches, made by a child process and passed back through a pipe (as marshal
    writes plain values: several times faster than pickle). If this process stops (even with
    kill -9), the child finds the pipe closed and stops too."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    with contextlib.suppress(ImportError, AttributeError, OSError):  # Linux: room for a few
        import fcntl  # not on every system

        fcntl.fcntl(sender.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)

    def produce() -> None:
        receiver.close()
        first, second, _ = gc.get_threshold()  # never a full collection here: it would walk
        gc.set_threshold(first, second, 1 << 30)  # (and copy) every object the fork shares
        try:
            for batch in batches:
                sender.send_bytes(marshal.dumps(
                    (batch.entries, batch.refused, batch.line, batch.warnings)
                    if isinstance(batch, Batch) else (batch.status, batch.problem)))
        except (BrokenPipeError, ConnectionResetError):  # the importing process is gone
            pass

    child = context.Process(target=produce, name="import-reader", daemon=True)
    child.start()
    sender.close()
    # A thread empties the pipe as batches come, so that the child keeps reading while this
    # process commits (which takes the time of several batches).
    # It also turns them back into values, while this one waits for the database.
    inbox: Queue[Any] = Queue(INBOX_BATCHES)

    def take() -> None:
        try:
            while True:
                inbox.put(marshal.loads(receiver.recv_bytes()))  # noqa: S302 - our own child
        except (EOFError, OSError):  # the child is done, or gone
            inbox.put(None)

    taker = Thread(target=take, name="import-inbox", daemon=True)
    taker.start()
    ended = False
    try:
        while (values := inbox.get()) is not None:
            if len(values) == 2:
                ended = True
                yield Ended(*values)
                return
            yield Batch(*values)
        raise RuntimeError("The process reading the file stopped.")
    finally:
        if not ended:  # stopped early: what the child would read next is not wanted
            child.kill()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()
        while taker.is_alive():  # it stops at the pipe's end: make room for its last word
            with contextlib.suppress(Empty):
                inbox.get(timeout=0.1)
        receiver.close()


def running(db: Session, owner: User, target: str | None = None) -> Import | None:
    """An import of this owner that is writing now: one that wrote a batch lately, by a
    process that is still alive (when it ran on this machine, that can be asked)."""
    stmt = select(Import).where(Import.owner_id == owner.id, Import.status == "running",
                                Import.dry_run.is_(False),
                                Import.updated_at > utcnow() - timedelta(seconds=LIVE_SECONDS))
    if target:
        stmt = stmt.where(Import.target == target)
    return next((job for job in db.scalars(stmt.order_by(Import.updated_at.desc()))
                 if _alive(job.worker)), None)


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's: only its last batch says
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def storable_text(text: str) -> str:
    """A refused value as every database can keep it: no NUL, no half surrogate pair."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def get_import(db: Session, owner: User, import_id: str) -> Import:
    job = db.get(Import, import_id)
    if job is None or job.owner_id != owner.id:
        raise NotFound("There is no import with this id.")
    return job


def list_imports(db: Session, owner: User, limit: int,
                 cursor: str | None) -> tuple[list[Import], str | None]:
    stmt = select(Import).where(Import.owner_id == owner.id)
    order = [Order(Import.created_at, descending=True), Order(Import.id, descending=True)]
    return paginate(db, stmt, order, limit, cursor)


def errors_of(db: Session, job: Import, limit: int | None = None,
              kind: str = "error") -> list[ImportRowError]:
    """What the report says of rows, of one kind: errors, conflicts or warnings."""
    stmt = select(ImportRowError).where(ImportRowError.import_id == job.id,
                                        ImportRowError.kind == kind) \
        .order_by(ImportRowError.row, ImportRowError.id)
    return list(db.scalars(stmt.limit(limit) if limit else stmt))


def failed_rows_csv(factory: sessionmaker[Session], job_id: str) -> Iterator[str]:
    """The rows that did not go in, as they were, with a reason: fix them and send the file
    again. Cells that a spreadsheet would run as a formula are made inert. Read a page at a time
    in a session of its own (a streamed answer outlives the request's)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    with factory() as db:
        job = db.get(Import, job_id)
        assert job is not None
        header = list(job.mapping) if job.format in {"csv", "linkedin", "google"} else ["record"]
        writer.writerow([*map(inert, header), "line", "reason"])
        yield "\ufeff" + out.getvalue()
        stmt = (select(ImportRowError).where(ImportRowError.import_id == job_id,
                                             ImportRowError.kind != "warning")
                .order_by(ImportRowError.row, ImportRowError.id).execution_options(yield_per=1000))
        for row, problems in groupby(db.scalars(stmt), key=lambda e: e.row):
            found = list(problems)
            out.seek(0)
            out.truncate()
            reason = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in found)
            writer.writerow([*map(inert, found[0].cells), row, inert(reason)])
            yield out.getvalue()



