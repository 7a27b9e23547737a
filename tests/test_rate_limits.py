"""Rate limits on the JSON API: per API key and per user, over a moving window counted in memory
or in Redis (never in the database), announced by RateLimit-* headers, refused with 429 and
Retry-After. Every behaviour is checked with each process counting in its own memory and with
the count in Redis."""

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import limits.storage.memory
import limits.storage.redis
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, inspect

from app import migrate, ratelimit
from app.config import Settings
from app.main import create_app
from tests.conftest import SECRET, api_key, login, signed_in

# A whole minute since the epoch, so the tests know where each request stands in the window.
T0 = 1_800_000_000.0
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")
REDIS_URL = os.environ.get("RAPPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
NO_REDIS_URL = "redis://:hunter2@127.0.0.1:1/0"  # nothing listens on port 1


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(ratelimit, "clock", frozen)
    # The limits library stamps each request with time.time() where it keeps the count.
    for module in (limits.storage.memory, limits.storage.redis):
        monkeypatch.setattr(module, "time", SimpleNamespace(time=frozen))
    return frozen


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The tests' Redis database, without the counts an earlier test left there."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not running at {REDIS_URL} (set RAPPORT_TEST_REDIS_URL)")

    def forget() -> None:
        for key in client.scan_iter(f"{ratelimit.REDIS_KEY_PREFIX}:*"):
            client.delete(key)

    forget()
    yield REDIS_URL
    forget()
    client.close()


@pytest.fixture(params=["memory", "redis"])
def counted_in(request: pytest.FixtureRequest) -> str:
    """Where the counts live: each process's memory, Redis, or the Redis URL a test gives."""
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return "" if request.param == "memory" else str(request.param)


@pytest.fixture
def make_app(make_settings: Callable[..., Settings], counted_in: str,
             ) -> Iterator[Callable[..., FastAPI]]:
    """Apps with their own limits, on the tests' database (several may run side by side)."""
    apps: list[FastAPI] = []

    def make(**limits: Any) -> FastAPI:
        apps.append(create_app(make_settings(**({"redis_url": counted_in} | limits))))
        return apps[-1]

    yield make
    for application in apps:
        application.state.engine.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def limits_of(response: Any) -> dict[str, str]:
    return {name: response.headers[name] for name in HEADERS if name in response.headers}


def test_every_counted_answer_says_the_limit_and_counts_down(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    with TestClient(make_app(rate_limit_per_user=5)) as c:
        signed_in(c)
        answers = [c.get("/api/v1/me")]
        clock.now = T0 + 15
        answers += [c.get("/api/v1/me"), c.get("/api/v1/contacts/01nothinghere0000000000000")]
    assert [a.status_code for a in answers] == [200, 200, 404]
    # Reset: until the oldest request counted (at T0) leaves the window and gives one back.
    assert [limits_of(a) for a in answers] == [
        {"RateLimit-Limit": "5", "RateLimit-Remaining": str(remaining),
         "RateLimit-Reset": reset, "RateLimit-Policy": "5;w=60"}
        for remaining, reset in ((4, "60"), (3, "45"), (2, "45"))
    ]


def test_over_the_limit_is_refused_with_retry_after_and_nothing_is_done(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    with TestClient(make_app(rate_limit_per_key=2)) as c:
        signed_in(c)
        key = api_key(c, ["contacts:read", "contacts:write"])
        for name, at in (("Ada", T0), ("Grace", T0 + 50)):
            clock.now = at
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
    assert limits_of(refused) == {"RateLimit-Limit": "2", "RateLimit-Remaining": "0",
                                  "RateLimit-Reset": "10", "RateLimit-Policy": "2;w=60"}
    assert sorted(names) == ["Ada", "Grace"]


def test_the_window_moves_on_and_gives_each_request_back_as_it_leaves(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    app = make_app(rate_limit_per_user=2, rate_limit_window_seconds=10)
    with TestClient(app) as c:
        signed_in(c)
        answers = [c.get("/api/v1/me")]
        clock.now = T0 + 4
        answers.append(c.get("/api/v1/me"))
        clock.now = T0 + 9.5
        answers.append(c.get("/api/v1/me"))  # both earlier requests are still in the window
        clock.now = T0 + 10.5
        answers.append(c.get("/api/v1/me"))  # the one at T0 has left it, the one at T0+4 not
        answers.append(c.get("/api/v1/me"))
    assert [a.status_code for a in answers] == [200, 200, 429, 200, 429]
    assert answers[2].headers["Retry-After"] == "1"
    assert limits_of(answers[3]) == {"RateLimit-Limit": "2", "RateLimit-Remaining": "0",
                                     "RateLimit-Reset": "4", "RateLimit-Policy": "2;w=10"}
    assert answers[4].headers["Retry-After"] == "4"


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


def test_a_limit_of_zero_turns_that_limit_off(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    with TestClient(make_app(rate_limit_per_key=0, rate_limit_per_user=1)) as c:
        signed_in(c)
        key = api_key(c)  # the user's one request
        with_key = [c.get("/api/v1/me", headers=bearer(key)) for _ in range(5)]
        with_session = c.get("/api/v1/me")
    assert [a.status_code for a in with_key] == [200] * 5
    assert all(limits_of(a) == {} for a in with_key)
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
    assert all(a.status_code == 200 and limits_of(a) == {} for a in health)
    assert page.status_code == 200 and limits_of(page) == {}
    assert bad_key.status_code == anonymous.status_code == 401
    assert limits_of(bad_key) == limits_of(anonymous) == {}
    assert counted.headers["RateLimit-Remaining"] == "0"


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


@pytest.mark.parametrize("counted_in", ["memory"], indirect=True)
def test_without_redis_each_process_keeps_its_own_count(
    make_app: Callable[..., FastAPI], clock: Clock,
) -> None:
    with TestClient(make_app(rate_limit_per_key=2)) as one, \
            TestClient(make_app(rate_limit_per_key=2)) as two:
        signed_in(one)
        key = api_key(one)
        answers = [c.get("/api/v1/me", headers=bearer(key)) for c in (one, one, one, two)]
    assert [a.status_code for a in answers] == [200, 200, 429, 200]
    assert answers[3].headers["RateLimit-Remaining"] == "1"


def test_processes_counting_in_the_same_redis_share_the_count(
    make_settings: Callable[..., Settings], redis_url: str, clock: Clock,
) -> None:
    one, two = (create_app(make_settings(rate_limit_per_key=3, redis_url=redis_url))
                for _ in range(2))
    with TestClient(one) as first, TestClient(two) as second:
        signed_in(first)
        key = api_key(first)
        answers = [c.get("/api/v1/me", headers=bearer(key))
                   for c in (first, second, first, second)]
    for application in (one, two):
        application.state.engine.dispose()
    counts = redis.Redis.from_url(redis_url)
    assert list(counts.scan_iter(f"{ratelimit.REDIS_KEY_PREFIX}:*/key/*"))
    counts.close()
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]


@pytest.mark.parametrize("counted_in", [NO_REDIS_URL], indirect=True)
def test_when_redis_cannot_be_reached_each_process_counts_in_memory_and_says_so(
    make_app: Callable[..., FastAPI], clock: Clock, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="rapport.ratelimit")
    with TestClient(make_app(rate_limit_per_user=2)) as c:
        signed_in(c)
        answers = [c.get("/api/v1/me") for _ in range(3)]
        clock.now = T0 + ratelimit.REDIS_RETRY_SECONDS + 60  # Redis is tried again, still down
        later = c.get("/api/v1/me")
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [limits_of(a)["RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert later.status_code == 200 and later.headers["RateLimit-Remaining"] == "1"
    warnings = [r.getMessage() for r in caplog.records if r.name == "rapport.ratelimit"]
    assert len(warnings) == 1
    assert "redis://127.0.0.1:1/0 cannot be reached" in warnings[0]
    assert "hunter2" not in caplog.text


def test_a_redis_url_that_is_not_one_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="RAPPORT_REDIS_URL must start with redis://"):
        Settings(secret_key=SECRET, redis_url="127.0.0.1:6379")


def test_the_contract_documents_the_429_and_its_headers(app: FastAPI) -> None:
    refused = app.openapi()["paths"]["/api/v1/contacts"]["post"]["responses"]["429"]
    assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert {"Retry-After", *HEADERS} <= set(refused["headers"])


def test_the_counts_table_is_gone_and_a_downgrade_brings_it_back(database_url: str) -> None:
    def tables() -> set[str]:
        engine = create_engine(database_url)
        names = set(inspect(engine).get_table_names())
        engine.dispose()
        return names

    assert "rate_limit_counters" not in tables()
    migrate.downgrade(database_url, "c1a7e0000006")
    assert "rate_limit_counters" in tables()
    migrate.upgrade(database_url)
    assert "rate_limit_counters" not in tables()


def test_a_count_by_key_is_refused_over_its_budget_and_given_back_as_the_window_moves(
    make_settings: Callable[..., Settings], counted_in: str, clock: Clock,
) -> None:
    """What a route counts by key itself (the sign-ins begun from one network)."""
    limiter = ratelimit.Limiter(make_settings(redis_url=counted_in))
    budgets = [limiter.count_for("oidc-login", "network-a", 2, 60) for _ in range(3)]
    assert [b.allowed for b in budgets] == [True, True, False]
    assert (budgets[2].remaining, budgets[2].reset) == (0, 60)
    assert limiter.count_for("oidc-login", "network-b", 2, 60).allowed
    clock.now += 61
    assert limiter.count_for("oidc-login", "network-a", 2, 60).allowed
