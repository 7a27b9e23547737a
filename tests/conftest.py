"""Test fixtures. Every suite runs on SQLite (the default) or on the database named by
RAPPORT_TEST_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test.

The schema is built by the migrations, never by create_all, and every table is emptied
after each test.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app import migrate
from app.config import Settings
from app.db import Base
from app.main import create_app

SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("RAPPORT_TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'rapport-test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def make_settings(database_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "production", "database_url": database_url, "secret_key": SECRET,
            # Counted as in production, but never reached by a test that does not set its own.
            "rate_limit_per_key": 1_000_000, "rate_limit_per_user": 1_000_000,
            "oidc_logins_per_minute": 1_000_000,
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture(scope="session")
def app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    application = create_app(make_settings())
    yield application
    application.state.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database_url" not in request.fixturenames:
        return
    engine = create_engine(request.getfixturevalue("database_url"))
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            # Rows without an owner were installed by a migration (the handout's questions).
            seeded = "owner_id" in table.c and table.c.owner_id.nullable
            conn.execute(table.delete().where(table.c.owner_id.is_not(None)) if seeded
                         else table.delete())
    engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def browsers_of(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """Make several independent browsers of ``app`` (each with its own cookie jar); closed
    after the test. For a fixture to yield from."""
    clients: list[TestClient] = []

    def make() -> TestClient:
        clients.append(TestClient(app))
        return clients[-1]

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def make_client(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """Several independent browsers (each with its own cookie jar)."""
    yield from browsers_of(app)


def register(client: TestClient, email: str = "maya@uni.edu", name: str = "Maya Okafor",
             password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/register",
                           json={"email": email, "password": password, "name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


def login(client: TestClient, email: str = "maya@uni.edu", password: str = PASSWORD) -> str:
    """Log in, and send the CSRF token on every later request of this client, as htmx does."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token = response.headers["X-CSRF-Token"]
    client.headers["X-CSRF-Token"] = token
    return token


def signed_in(client: TestClient, email: str = "maya@uni.edu", name: str = "Maya Okafor",
              ) -> dict[str, Any]:
    user = register(client, email=email, name=name)
    login(client, email=email)
    return user


def api_key(client: TestClient, scopes: list[str] | None = None) -> str:
    response = client.post("/api/v1/api-keys",
                           json={"name": "script", "scopes": scopes or ["profile:read"]})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


ROOT = Path(__file__).resolve().parents[1]
