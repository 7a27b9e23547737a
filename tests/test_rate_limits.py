"""Rate limits on the JSON API: per API key and per user, in fixed windows counted in the
database, announced by RateLimit-* headers, refused with 429 and Retry-After."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import ratelimit
from app.config import Settings
from app.db import session_scope
from app.main import create_app
from app.models import RateLimitCounter
from tests.conftest import api_key, login, signed_in

# A whole minute since the epoch, so the tests know where each window starts and ends.
T0 = 1_800_000_000.0
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(ratelimit, "clock", frozen)
    monkeypatch.setattr(ratelimit, "_swept_window", None)
    return frozen


@pytest.fixture
def make_app(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., FastAPI]]:
    """Apps with their own limits, on the tests' database (several may run side by side)."""
    apps: list[FastAPI] = []

    def make(**limits: Any) -> FastAPI:
        apps.append(create_app(make_settings(**limits)))
        return apps[-1]

    yield make
    for application in apps:
        application.state.engine.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def limits(response: Any) -> dict[str, str]:
    return {name: response.headers[name] for name in HEADERS if name in response.headers}


def test_every_counted_answer_says_the_limit_and_counts_down(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    clock.now = T0 + 15
    with TestClient(make_app(rate_limit_per_user=5)) as c:
        signed_in(c)
        answers = [c.get("/api/v1/me"), c.get("/api/v1/me"),
                   c.get("/api/v1/contacts/01nothinghere0000000000000")]
    assert [a.status_code for a in answers] == [200, 200, 404]
    assert [limits(a) for a in answers] == [
        {"RateLimit-Limit": "5", "RateLimit-Remaining": str(remaining),
         "RateLimit-Reset": "45", "RateLimit-Policy": "5;w=60"}
        for remaining in (4, 3, 2)
    ]


def test_over_the_limit_is_refused_with_retry_after_and_nothing_is_done(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    clock.now = T0 + 50
    with TestClient(make_app(rate_limit_per_key=2)) as c:
        signed_in(c)
        key = api_key(c, ["contacts:read", "contacts:write"])
        for name in ("Ada", "Grace"):
            assert c.post("/api/v1/contacts", json={"first_name": name},
                          headers=bearer(key)).status_code == 201
        refused = c.post("/api/v1/contacts", json={"first_name": "Edsger"}, headers=bearer(key))
        names = [item["first_name"] for item in c.get("/api/v1/contacts").json()["items"]]
    assert refused.status_code == 429
    assert refused.json() == {
        "error": "rate_limited",
        "detail": "This API key has made more than 2 requests in 60 seconds. "
                  "Wait 10 seconds, then try again.",
    }
    assert refused.headers["Retry-After"] == "10"
    assert limits(refused) == {"RateLimit-Limit": "2", "RateLimit-Remaining": "0",
                               "RateLimit-Reset": "10", "RateLimit-Policy": "2;w=60"}
    assert sorted(names) == ["Ada", "Grace"]


def test_the_next_window_allows_again_and_ended_windows_are_deleted(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    app = make_app(rate_limit_per_user=1, rate_limit_window_seconds=10)
    with TestClient(app) as c:
        signed_in(c)
        assert c.get("/api/v1/me").status_code == 200
        clock.now = T0 + 9.5
        refused = c.get("/api/v1/me")
        clock.now = T0 + 10
        again = c.get("/api/v1/me")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert again.status_code == 200
    assert limits(again) == {"RateLimit-Limit": "1", "RateLimit-Remaining": "0",
                             "RateLimit-Reset": "10", "RateLimit-Policy": "1;w=10"}
    for db in session_scope(app.state.sessionmaker):
        assert db.scalar(select(func.count()).select_from(RateLimitCounter)) == 1


def test_each_api_key_has_its_own_budget_apart_from_its_user(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    with TestClient(make_app(rate_limit_per_key=2, rate_limit_per_user=3)) as c:
        signed_in(c)
        first, second = api_key(c), api_key(c)  # the user's first two requests
        used_up = [c.get("/api/v1/me", headers=bearer(first)).status_code for _ in range(3)]
        other_key = c.get("/api/v1/me", headers=bearer(second))
        session = c.get("/api/v1/me")
    assert used_up == [200, 200, 429]
    assert other_key.status_code == 200
    assert other_key.headers["RateLimit-Remaining"] == "1"
    assert session.status_code == 200
    assert session.headers["RateLimit-Remaining"] == "0"


def test_a_users_browser_sessions_share_one_budget_and_other_users_have_their_own(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    app = make_app(rate_limit_per_user=2)
    with TestClient(app) as laptop, TestClient(app) as phone, TestClient(app) as friend:
        signed_in(laptop)
        login(phone)
        signed_in(friend, email="sam@uni.edu", name="Sam Lee")
        answers = [laptop.get("/api/v1/me"), phone.get("/api/v1/me"), laptop.get("/api/v1/me")]
        theirs = friend.get("/api/v1/me")
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["detail"].startswith("You have made more than 2 requests")
    assert theirs.status_code == 200
    assert theirs.headers["RateLimit-Remaining"] == "1"


def test_every_app_process_shares_the_count(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    settings = {"rate_limit_per_key": 3}
    with TestClient(make_app(**settings)) as one, TestClient(make_app(**settings)) as two:
        signed_in(one)
        key = api_key(one)
        answers = [c.get("/api/v1/me", headers=bearer(key)) for c in (one, two, one, two)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]


def test_a_limit_of_zero_turns_that_limit_off(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    with TestClient(make_app(rate_limit_per_key=0, rate_limit_per_user=1)) as c:
        signed_in(c)
        key = api_key(c)  # the user's one request
        with_key = [c.get("/api/v1/me", headers=bearer(key)) for _ in range(5)]
        with_session = c.get("/api/v1/me")
    assert [a.status_code for a in with_key] == [200] * 5
    assert all(limits(a) == {} for a in with_key)
    assert with_session.status_code == 429


def test_health_pages_and_requests_without_credentials_are_not_counted(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    with TestClient(make_app(rate_limit_per_user=1)) as c:
        signed_in(c)
        health = [c.get("/api/v1/health") for _ in range(3)]
        page = c.get("/")
        bad_key = c.get("/api/v1/me", headers=bearer("rpk_not-a-real-key"))
        c.cookies.clear()
        anonymous = c.get("/api/v1/me")
        signed_in(c, email="sam@uni.edu", name="Sam Lee")
        counted = c.get("/api/v1/me")
    assert all(a.status_code == 200 and limits(a) == {} for a in health)
    assert page.status_code == 200 and limits(page) == {}
    assert bad_key.status_code == anonymous.status_code == 401
    assert limits(bad_key) == limits(anonymous) == {}
    assert counted.headers["RateLimit-Remaining"] == "0"


def test_the_contract_documents_the_429_and_its_headers(app: FastAPI) -> None:
    refused = app.openapi()["paths"]["/api/v1/contacts"]["post"]["responses"]["429"]
    assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert {"Retry-After", *HEADERS} <= set(refused["headers"])


def test_requests_at_the_same_moment_never_exceed_the_limit(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    app = make_app(rate_limit_per_key=10)
    with TestClient(app) as c:
        signed_in(c)
        key = api_key(c)

    def call(_: int) -> int:
        with TestClient(app) as own:
            return own.get("/api/v1/me", headers=bearer(key)).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(call, range(16)))
    assert sorted(statuses) == [200] * 10 + [429] * 6
