"""SQLite has one writer at a time: a transaction that writes takes the lock when it begins,
and waits its turn. A long import writes in many short transactions; a student's save in
between must get in at the first gap, not after the import."""

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import db as database


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = database.make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE saves (who TEXT, n INTEGER)"))
    yield engine
    engine.dispose()


def test_a_save_gets_in_between_an_imports_batches(engine) -> None:  # type: ignore[no-untyped-def]
    batches = 150
    written: list[int] = []

    def long_import() -> None:
        with engine.connect() as conn:
            for n in range(batches):
                with conn.begin():
                    conn.execute(text("INSERT INTO saves VALUES ('import', :n)"), {"n": n})
                    time.sleep(0.02)  # a batch holds the lock for a while…
                written.append(n)
                time.sleep(0.001)  # …and leaves a short gap before the next one

    importer = threading.Thread(target=long_import)
    importer.start()
    while not written:
        time.sleep(0.001)
    at_start = len(written)
    with engine.begin() as conn:  # a student's save, while the import runs
        conn.execute(text("INSERT INTO saves VALUES ('student', 0)"))
        waited = len(written) - at_start
    importer.join()
    assert waited <= 4  # SQLite's own wait lets from a few to dozens of batches go first
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM saves")) == batches + 1


def test_a_writer_that_never_gets_its_turn_fails_after_the_busy_timeout(
        engine, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    with engine.connect() as holder, holder.begin():
        holder.execute(text("INSERT INTO saves VALUES ('holder', 0)"))
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), engine.begin() as conn:
            conn.execute(text("INSERT INTO saves VALUES ('late', 0)"))
        assert time.monotonic() - started >= 0.2
    with engine.begin() as conn:  # the lock free again: the next one writes
        conn.execute(text("INSERT INTO saves VALUES ('next', 0)"))
        assert conn.scalar(text("SELECT count(*) FROM saves")) == 2
