"""Logging in under attack: a burst of attempts cannot take the app down, concurrent guesses
cannot slip past the limits, and nobody can lock a student out of their own account."""

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, select, update

from app.accounts import service
from app.config import Settings
from app.main import create_app
from app.models import LoginCounter, User
from tests.accounts.conftest import at_once, from_address
from tests.conftest import PASSWORD, api_key, login, register

EMAIL = "maya@uni.edu"
LOGIN = "/api/v1/auth/login"


def _attempt(client: httpx.Client | TestClient, password: str, email: str = EMAIL,
             **kwargs: Any) -> httpx.Response:
    return client.post(LOGIN, json={"email": email, "password": password}, **kwargs)


@contextmanager
def _app(make_settings: Callable[..., Settings], **overrides: Any) -> Iterator[FastAPI]:
    application = create_app(make_settings(**overrides))
    try:
        yield application
    finally:
        application.state.engine.dispose()


@contextmanager
def _browser(application: FastAPI, address: str, **kwargs: Any) -> Iterator[TestClient]:
    """A browser at ``address``, with its own cookie jar."""
    with TestClient(application, client=(address, 50000), **kwargs) as client:
        yield client


def _throttled(response: httpx.Response) -> bool:
    return (response.status_code == 429 and response.json()["error"] == "login_throttled"
            and int(response.headers["Retry-After"]) >= 1)


def _counted(database_url: str) -> int:
    """Every login attempt counted under every key, all together."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        total = sum(conn.scalars(select(LoginCounter.count)
                                 .where(LoginCounter.key.not_like("register:%"))))
    engine.dispose()
    return total


# --- a burst cannot take the app down ---


def test_a_burst_of_failed_logins_leaves_a_logged_in_student_answered(
    serve: Callable[..., str],
) -> None:
    # Three connections for the whole app: a login that held one while hashing would leave
    # every other request waiting for its turn, then failing (500) after ten seconds.
    base_url = serve(pool=3, pool_timeout=10)
    unlimited = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    with httpx.Client(base_url=base_url, timeout=120) as maya, \
            httpx.Client(base_url=base_url, timeout=120, limits=unlimited) as botnet:
        register(maya)  # type: ignore[arg-type]
        assert _attempt(maya, PASSWORD).status_code == 200  # the cookie of a known device

        def send(i: int) -> httpx.Response:
            if i % 10 == 0:  # Maya at work, in the middle of the burst
                return maya.get("/api/v1/me")
            # Half at Maya's account, the rest at others; each bot from its own address.
            email = EMAIL if i % 2 else f"student{i % 7}@uni.edu"
            return _attempt(botnet, f"guess {i}", email,
                            headers=from_address(f"203.0.113.{i % 250}"))

        answers = at_once(110, send)

        maya_answers = answers[::10]
        assert [r.status_code for r in maya_answers] == [200] * 11
        logins = [r for i, r in enumerate(answers) if i % 10]
        statuses = Counter(r.status_code for r in logins)
        assert set(statuses) <= {401, 429, 503}, statuses
        assert statuses[401] >= 1
        for busy in (r for r in logins if r.status_code == 503):
            assert busy.json()["error"] == "busy" and busy.headers["Retry-After"] == "1"
        # Nothing of Maya's was closed by the burst; her device still gets her in, though her
        # account is under attack from far more addresses than its limit allows.
        assert maya.get("/api/v1/me").status_code == 200
        assert _attempt(maya, PASSWORD).status_code == 200


def test_concurrent_wrong_passwords_for_one_account_are_evaluated_at_most_the_limit(
    serve: Callable[..., str], database_url: str,
) -> None:
    base_url = serve(login_concurrent_checks=32)  # no attempt is refused as busy here
    unlimited = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    with httpx.Client(base_url=base_url, timeout=120, limits=unlimited) as attacker:
        register(attacker)  # type: ignore[arg-type]
        answers = at_once(30, lambda i: _attempt(attacker, f"guess {i}",
                                                 headers=from_address("198.51.100.7")))
        assert Counter(r.status_code for r in answers) == {401: 5, 429: 25}
        assert all(_throttled(r) for r in answers if r.status_code == 429)
        # The right password from that address waits too; from another address it works.
        assert _throttled(_attempt(attacker, PASSWORD, headers=from_address("198.51.100.7")))
        assert _attempt(attacker, PASSWORD, headers=from_address("192.0.2.10")).status_code == 200


# --- nobody can lock a student out ---


def test_failures_to_an_account_from_one_address_do_not_block_it_from_another(
    make_settings: Callable[..., Settings],
) -> None:
    with _app(make_settings, login_max_failures_per_account=3) as application, \
            _browser(application, "203.0.113.9") as attacker, \
            _browser(application, "192.0.2.10") as maya:
        register(maya)
        assert [_attempt(attacker, "guess").status_code for _ in range(3)] == [401] * 3
        assert _throttled(_attempt(attacker, "guess"))
        assert _throttled(_attempt(attacker, PASSWORD))
        assert _attempt(maya, PASSWORD).status_code == 200


def test_the_owner_on_a_known_device_logs_in_while_the_account_is_under_attack(
    make_settings: Callable[..., Settings],
) -> None:
    settings = {"login_max_failures_per_account": 2, "login_account_window_seconds": 900,
                "login_max_failures_per_account_everywhere": 5}
    with _app(make_settings, **settings) as application, \
            _browser(application, "192.0.2.10") as laptop, \
            _browser(application, "192.0.2.99") as library_computer:
        register(laptop)
        login(laptop)  # the laptop is now a device of Maya's account
        device = laptop.cookies["rapport_device"]
        for bot in range(4):
            with _browser(application, f"203.0.113.{bot}") as attacker:
                for _ in range(3):
                    _attempt(attacker, "guess")

        refused = _attempt(library_computer, PASSWORD)
        assert _throttled(refused)
        assert "device you have logged in on before" in refused.json()["detail"]
        assert _attempt(laptop, PASSWORD).status_code == 200
        # Each login gives the device a new cookie, for the same account.
        assert laptop.cookies["rapport_device"] != device


def test_a_device_cookie_counts_only_for_the_account_it_was_signed_for(
    make_settings: Callable[..., Settings], database_url: str,
) -> None:
    settings = {"login_max_failures_per_account": 2, "login_account_window_seconds": 900,
                "login_max_failures_per_account_everywhere": 5}
    with _app(make_settings, **settings) as application, \
            _browser(application, "198.51.100.20") as eve:
        register(eve)
        register(eve, email="eve@uni.edu", name="Eve")
        login(eve, email="eve@uni.edu")
        eve_device = eve.cookies["rapport_device"]
        _, nonce, mac = eve_device.split(".")
        engine = create_engine(database_url)
        with engine.connect() as conn:
            maya_id = conn.scalar(select(User.id).where(User.email == EMAIL))
        engine.dispose()
        for bot in range(4):
            with _browser(application, f"203.0.113.{bot}") as attacker:
                for _ in range(3):
                    _attempt(attacker, "guess")
        # Eve's own device cookie, and Maya's id under Eve's nonce with Eve's or no signature:
        # Maya's account is held back from all of them, even given the right password.
        for cookie in [eve_device, f"{maya_id}.{nonce}.{mac}", f"{maya_id}.{nonce}.{'0' * 64}"]:
            with _browser(application, "198.51.100.21") as forger:
                refused = _attempt(forger, PASSWORD, headers={"Cookie": f"rapport_device={cookie}"})
                assert _throttled(refused), cookie


def test_the_device_cookie_is_httponly_and_sent_only_to_the_login(client: TestClient) -> None:
    register(client)
    response = _attempt(client, PASSWORD)
    cookies = [c for c in response.headers.get_list("set-cookie") if "rapport_device=" in c]
    assert len(cookies) == 1
    cookie = cookies[0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and f"path={LOGIN}" in cookie
    assert "max-age=31536000" in cookie  # a year: RAPPORT_LOGIN_DEVICE_DAYS


def test_successful_logins_from_one_address_never_add_up_to_a_lockout(
    make_settings: Callable[..., Settings], database_url: str,
) -> None:
    """A campus behind one address: everyone's successful logins are taken back at once."""
    with _app(make_settings, login_max_failures_per_address=3) as application:
        for n in range(6):
            with _browser(application, "192.0.2.1") as student:
                register(student, email=f"s{n}@uni.edu", name=f"S{n}")
                assert _attempt(student, PASSWORD, email=f"s{n}@uni.edu").status_code == 200
    assert _counted(database_url) == 0


# --- every attempt counts ---


def test_every_login_attempt_counts_even_when_it_errors(
    make_settings: Callable[..., Settings], database_url: str,
) -> None:
    with _app(make_settings, login_max_failures_per_account=3) as application, \
            _browser(application, "198.51.100.3", raise_server_exceptions=False) as attacker:
        register(attacker)
        engine = create_engine(database_url)
        with engine.begin() as conn:  # a hash no hasher knows: checking it fails
            conn.execute(update(User).where(User.email == EMAIL).values(password_hash="x"))
        engine.dispose()
        answers = [_attempt(attacker, PASSWORD) for _ in range(4)]
    assert [r.status_code for r in answers] == [500, 500, 500, 429]
    assert answers[0].json()["error"] == "internal_error"
    assert _throttled(answers[3])


def test_a_login_refused_as_busy_says_when_to_retry_and_counts(
    make_settings: Callable[..., Settings],
) -> None:
    overrides = {"login_concurrent_checks": 1, "login_max_failures_per_account": 3}
    with _app(make_settings, **overrides) as application, \
            _browser(application, "198.51.100.4") as maya:
        register(maya)
        settings: Settings = application.state.settings
        with service.password_work(settings):  # another login is being checked meanwhile
            answers = [_attempt(maya, PASSWORD) for _ in range(4)]
        busy = answers[0]
        assert [r.status_code for r in answers] == [503, 503, 503, 429]
        assert busy.json() == {"error": "busy", "detail": service.Busy.detail}
        assert busy.headers["Retry-After"] == "1"
        assert _attempt(maya, PASSWORD).status_code == 429  # the slot is free; the count stands


def test_a_login_by_htmx_refused_as_busy_says_so_on_the_page(
    make_settings: Callable[..., Settings],
) -> None:
    with _app(make_settings, login_concurrent_checks=1) as application, \
            _browser(application, "198.51.100.5") as maya:
        register(maya)
        with service.password_work(application.state.settings):
            response = _attempt(maya, PASSWORD, headers={"HX-Request": "true"})
    assert response.status_code == 503
    assert "checking many passwords" in response.text
    assert response.headers["HX-Retarget"] == "#flash"


def test_the_api_keys_of_a_student_are_not_throttled_by_failed_logins(
    make_settings: Callable[..., Settings],
) -> None:
    """A locked account is only locked for password logins: keys and sessions carry on."""
    with _app(make_settings, login_max_failures_per_account=2) as application, \
            _browser(application, "192.0.2.10") as maya, \
            _browser(application, "192.0.2.10") as script:
        register(maya)
        login(maya)
        key = api_key(maya)
        for _ in range(3):
            _attempt(script, "guess")
        assert _throttled(_attempt(script, PASSWORD))
        assert script.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code \
            == 200
        assert maya.get("/api/v1/me").status_code == 200


# --- settings ---


def test_settings_refuse_an_account_limit_that_one_address_could_reach(
    make_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(ValidationError, match="LOGIN_MAX_FAILURES_PER_ACCOUNT_EVERYWHERE"):
        make_settings(login_window_seconds=60)
    assert make_settings(login_window_seconds=60,
                         login_max_failures_per_account_everywhere=400)


# --- registering and changing the password are throttled too ---


def test_registrations_from_one_network_are_limited_and_others_go_on(
    make_settings: Callable[..., Settings],
) -> None:
    with _app(make_settings, registrations_per_address=3) as application:
        with _browser(application, "2001:db8:1:2::10") as first, \
                _browser(application, "2001:db8:1:2::99") as same_network:
            made = [first.post("/api/v1/auth/register", json={
                "email": f"s{n}@uni.edu", "password": PASSWORD, "name": f"S{n}"})
                for n in range(3)]
            # A refused attempt counts as well: a bad one does not escape the limit.
            refused = same_network.post("/api/v1/auth/register", json={
                "email": "s9@uni.edu", "password": PASSWORD, "name": "S9"})
        with _browser(application, "203.0.113.5") as elsewhere:
            register(elsewhere, email="other@uni.edu", name="Other")
    assert [r.status_code for r in made] == [201, 201, 201]
    assert refused.status_code == 429
    assert refused.json()["error"] == "registration_throttled"
    assert "Wait" in refused.json()["detail"] and int(refused.headers["Retry-After"]) >= 1


def test_a_taken_over_session_cannot_guess_the_current_password(
    make_settings: Callable[..., Settings],
) -> None:
    """As many wrong current passwords as failed logins to one account; then 429, the right
    password included, until the window ends. A right one before that clears the count."""
    change = "/api/v1/me/password"
    with _app(make_settings, login_max_failures_per_account=3) as application, \
            _browser(application, "198.51.100.7") as browser:
        register(browser)
        login(browser)

        def attempt(current: str, new: str = "a new long password") -> httpx.Response:
            return browser.post(change, json={"current_password": current, "new_password": new})

        assert [attempt("wrong one").status_code for _ in range(2)] == [422, 422]
        changed = attempt(PASSWORD)  # clears the count
        assert changed.status_code == 204
        browser.headers["X-CSRF-Token"] = changed.headers["X-CSRF-Token"]  # the new session's
        answers = [attempt("wrong again", "another long password") for _ in range(4)]
        right = attempt("a new long password", "another long password")
    assert [r.status_code for r in answers] == [422, 422, 422, 429]
    assert answers[3].json()["error"] == "password_throttled"
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1
