"""Settings come from RAPPORT_* variables and refuse an unsafe secret outside development."""

import pytest
from pydantic import ValidationError

from app.config import Settings


@pytest.mark.parametrize("secret", ["", "changeme", "secret", "short-but-real"])
def test_production_refuses_a_missing_or_placeholder_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="RAPPORT_SECRET_KEY"):
        Settings(env="production", secret_key=secret)


def test_development_runs_without_a_secret() -> None:
    assert Settings(env="development", secret_key="").secret_key


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("RAPPORT_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("RAPPORT_REGISTRATION", "uni.edu,@alumni.uni.edu")
    settings = Settings()
    assert settings.database_url == "sqlite:///elsewhere.db"
    assert settings.registration_domains == ["uni.edu", "alumni.uni.edu"]
    assert not settings.registration_closed


def test_registration_policies() -> None:
    assert Settings(env="development", registration="open").registration_domains is None
    closed = Settings(env="development", registration="Closed")
    assert closed.registration_closed and closed.registration_domains is None


def test_ids_made_in_one_millisecond_still_sort_in_order() -> None:
    from app.db import new_id

    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_ids_made_a_batch_at_a_time_sort_with_the_others() -> None:
    from app.db import new_id, new_ids

    ids = [new_id(), *new_ids(5000), new_id(), *new_ids(0), *new_ids(3)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 5005
    assert all(len(i) == 26 and set(i) <= set("0123456789abcdefghjkmnpqrstvwxyz") for i in ids)


def test_an_id_begins_with_its_millisecond_and_ids_still_grow_after_a_later_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first ten characters are the time; an id made after one from a later moment (a clock
    set back) is one more than it, carrying into the time part when its random part is full."""
    import time

    from app import db

    def number(text: str) -> int:
        return int(text.translate(str.maketrans(db._CROCKFORD, "0123456789abcdefghijklmnopqrstuv")), 32)

    before = time.time_ns() // 1_000_000
    made = db.new_id()
    assert before <= number(made[:10]) <= time.time_ns() // 1_000_000
    later = db._digits(before + 3_600_000, 10)  # an hour from now
    monkeypatch.setattr(db, "_last_id", later + "z" * 15 + "y")
    ids = db.new_ids(3)
    assert [number(i) for i in ids] == [number(later + "z" * 15 + "y") + n for n in (1, 2, 3)]
    assert ids[0] == later + "z" * 16 and ids[1][:10] > later and len(set(map(len, ids))) == 1


def test_ids_are_made_in_a_process_forked_while_another_thread_was_making_them() -> None:
    """An import's reader is forked from a server whose other threads make ids all the time."""
    import multiprocessing
    import threading

    from app import db

    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db._id_lock:
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    child = multiprocessing.get_context("fork").Process(target=db.new_ids, args=(3,))
    child.start()
    child.join(timeout=10)
    release.set()
    holder.join()
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0
