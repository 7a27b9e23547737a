"""A request that reads writes nothing: neither its rate limit nor its API key's last use is a
write, so a GET never waits for a write lock (SQLite has one for the whole database)."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.config import Settings
from app.main import create_app
from tests.conftest import api_key, signed_in

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT")


@pytest.fixture
def counted_app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    """An app of its own, counted as in production (a low limit, far from reached)."""
    app = create_app(make_settings(rate_limit_per_key=100, rate_limit_per_user=100))
    yield app
    app.state.engine.dispose()


class Statements:
    """The SQL the app's engine sends while recording."""

    def __init__(self, app: FastAPI) -> None:
        self.engine = app.state.engine
        self.sent: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sent.append(" ".join(statement.split()))

    def __enter__(self) -> "Statements":
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def writes(self) -> list[str]:
        return [s for s in self.sent if s.lstrip("( ").upper().startswith(WRITES)]

    def touching(self, table: str) -> list[str]:
        return [s for s in self.sent if f"FROM {table}" in s or f"JOIN {table}" in s]


def test_a_get_with_an_api_key_writes_nothing_and_finds_the_key_in_one_query(
    counted_app: FastAPI,
) -> None:
    with TestClient(counted_app) as c:
        signed_in(c)
        key = api_key(c, ["contacts:read"])
        c.post("/api/v1/contacts", json={"first_name": "Ada"})
        c.cookies.clear()
        for _ in range(2):  # the second call finds a use already noted
            with Statements(counted_app) as sql:
                answer = c.get("/api/v1/contacts", headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == 200 and len(answer.json()["items"]) == 1
            assert answer.headers["RateLimit-Limit"] == "100"
            assert sql.writes == []
            assert len(sql.touching("api_keys")) == 1, sql.sent


def test_a_get_with_a_session_cookie_writes_nothing(counted_app: FastAPI) -> None:
    with TestClient(counted_app) as c:
        signed_in(c)
        c.post("/api/v1/contacts", json={"first_name": "Ada"})
        with Statements(counted_app) as sql:
            answer = c.get("/api/v1/contacts")
    assert answer.status_code == 200 and len(answer.json()["items"]) == 1
    assert answer.headers["RateLimit-Remaining"] == "98"
    assert sql.writes == []
    assert len(sql.touching("auth_sessions")) == 1, sql.sent
