"""An API key's last use: noted in memory by the request, written by a background step of the
app (once a minute, and when the app stops), shown at once in the keys list."""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from app.accounts import usage
from app.config import Settings
from app.db import make_sessionmaker, utcnow
from app.main import create_app
from app.models import ApiKey
from tests.conftest import api_key, signed_in


@pytest.fixture
def own_app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    app = create_app(make_settings())
    yield app
    app.state.engine.dispose()


def stored_use(database_url: str) -> datetime | None:
    engine = create_engine(database_url)
    with Session(engine) as db:
        used = db.scalars(select(ApiKey.last_used_at)).one()
    engine.dispose()
    return used


def use_a_key(c: TestClient) -> str:
    """Sign in, make a key and call the API with it; the key's id."""
    signed_in(c)
    secret = api_key(c)
    assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    return str(c.get("/api/v1/api-keys").json()["items"][0]["id"])


def writers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "api-key-uses" and t.is_alive()]


def test_a_use_is_listed_at_once_and_written_when_the_app_stops(
    own_app: FastAPI, database_url: str,
) -> None:
    before = utcnow()
    with TestClient(own_app) as c:
        use_a_key(c)
        listed = c.get("/api/v1/api-keys").json()["items"][0]["last_used_at"]
        page = c.get("/settings/api-keys")
        assert stored_use(database_url) is None  # the request wrote nothing
        assert writers()
    assert listed is not None and datetime.fromisoformat(listed) >= before
    assert "Never" not in page.text
    assert stored_use(database_url) == datetime.fromisoformat(listed)
    assert writers() == []


def test_the_background_step_writes_the_uses_while_the_app_serves(
    own_app: FastAPI, database_url: str,
) -> None:
    use_a_key(TestClient(own_app))  # no lifespan: only the writer below writes
    writer = usage.Writer(own_app.state.sessionmaker, every=0.01)
    writer.start()
    deadline = time.monotonic() + 30
    while stored_use(database_url) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    writer.stop()
    assert stored_use(database_url) is not None
    assert not writer.thread.is_alive()


def test_a_written_use_never_goes_back_and_a_failed_write_is_tried_again(
    own_app: FastAPI, database_url: str, tmp_path: Path,
) -> None:
    key_id = use_a_key(TestClient(own_app))
    usage.write_noted(own_app.state.sessionmaker)
    later = utcnow() + timedelta(hours=1)
    with own_app.state.sessionmaker.begin() as db:  # as another process would have written
        db.execute(update(ApiKey).values(last_used_at=later))
    usage.note(key_id, later - timedelta(minutes=30))
    usage.write_noted(own_app.state.sessionmaker)
    assert stored_use(database_url) == later
    assert usage.noted(key_id) is None

    latest = later + timedelta(minutes=5)
    usage.note(key_id, latest)
    unreachable = create_engine(f"sqlite:///{tmp_path}/missing/rapport.db")
    usage.Writer(make_sessionmaker(unreachable)).write()  # logged, not raised
    unreachable.dispose()
    assert usage.noted(key_id) == latest
    usage.write_noted(own_app.state.sessionmaker)
    assert stored_use(database_url) == latest
