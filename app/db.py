"""Database engine, sessions, the declarative base and the column types every model shares."""

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Engine, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

# Stable constraint names on every backend, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"  # in the order of their character codes
_DIGIT_OF_BYTE = bytes(ord(_CROCKFORD[byte & 31]) for byte in range(256))
# The digits as Python's int() reads base 32 (0-9 then a-v).
_VALUE_OF_DIGIT = str.maketrans(_CROCKFORD, "0123456789abcdefghijklmnopqrstuv")


_last_id = ""
_id_lock = threading.Lock()


def _new_id_lock() -> None:
    """In a forked child (an import's reader): the lock as the fork copied it may be held by a
    thread that the child does not have."""
    global _id_lock
    _id_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_id_lock)


def new_id() -> str:
    """A 26-character, time-ordered, opaque identifier (48 bits of milliseconds, 80 random).

    Within one process ids only grow, even inside one millisecond, so what one request writes
    (a timeline's events, say) sorts in the order it was written.
    """
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """``count`` ids as ``new_id`` makes them, in the order made (one call to the system's
    random source for all of them)."""
    global _last_id
    # Each id's 80 random bits as 16 digits: a random byte's last five bits are one digit.
    noise = os.urandom(16 * count).translate(_DIGIT_OF_BYTE).decode()
    randoms = sorted([noise[i:i + 16] for i in range(0, 16 * count, 16)])
    with _id_lock:
        moment = time.time_ns() // 1_000_000
        prefix = _digits(moment, 10)  # the milliseconds' 48 bits, after two zero bits
        ids = [prefix + random for random in randoms]
        if ids and ids[0] <= _last_id:  # ids only grow, even inside one millisecond
            ids = _after(_last_id, ids)
        _last_id = ids[-1] if ids else _last_id
    return ids


def _after(last: str, ids: list[str]) -> list[str]:
    """Sorted ids, each raised to one more than the one before it where it is not above it."""
    value = int(last.translate(_VALUE_OF_DIGIT), 32)
    raised = []
    for each in ids:
        value = max(value + 1, int(each.translate(_VALUE_OF_DIGIT), 32))
        raised.append(_digits(value, 26))
    return raised


def _digits(value: int, count: int) -> str:
    """The last ``count`` base-32 digits of ``value``, most significant first."""
    return "".join([_CROCKFORD[(value >> shift) & 31] for shift in range(5 * count - 5, -1, -5)])


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes in UTC and always gives back aware UTC ones (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


BUSY_TIMEOUT_MS = 5000  # SQLite: how long a statement waits for another connection's lock


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by _sqlite_begin, not by the driver before its first write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """SQLite: a transaction takes the write lock when it begins (waiting its turn, up to the
    busy timeout). Begun as a reader, it could not become a writer once another connection had
    committed since its first read: SQLite answers that at once with "database is locked",
    without waiting. Engines made by ``reading``, for transactions that only read, begin as
    readers, which never wait for a writer."""
    if connection.get_execution_options().get("sqlite_reading", False):
        connection.exec_driver_sql("BEGIN")
    else:
        _begin_writing(connection)


def _begin_writing(connection: Any) -> None:
    """BEGIN IMMEDIATE, waiting its turn by trying again every millisecond, up to the busy
    timeout. SQLite's own wait sleeps longer and longer (100 ms at a time after the first
    100 ms), and so misses the moments a long import leaves free between its batches: a
    request could then wait for many of them."""
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    raise
            time.sleep(0.001)
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the last try: its error as any other's
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def begin_reading(db: Session) -> None:
    """Commit what ``db`` holds, and begin its next transaction as one that only reads (on
    SQLite it takes no write lock, however long it lasts)."""
    db.commit()
    db.connection(execution_options={"sqlite_reading": True})


def reading(engine: Engine) -> Engine:
    """The same engine (and pool) for transactions that only read."""
    return engine.execution_options(sqlite_reading=True)


POOL_SIZE = 15  # connections one process opens at most (the database_pool_size setting)


def make_engine(url: str, pool_size: int = POOL_SIZE) -> Engine:
    """An engine whose pool opens at most ``pool_size`` connections and keeps every one it
    opened. (A smaller pool kept with room to overflow closes each connection past it as it is
    given back, and opens another for the next request: under steady load, a new PostgreSQL
    server process every few requests. Keeping them served 35 % more list requests a second at
    concurrency 32: docs/benchmarks.md.)"""
    pool = {"pool_size": pool_size, "max_overflow": 0}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No ping before each use (a round trip per request): a connection the server closed (a
    # restart) fails its request, which is answered 503 database_busy to be sent again, and the
    # pool then replaces every connection it holds.
    return create_engine(url, pool_recycle=3600, **pool)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the caller finishes, roll back if it raised."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
