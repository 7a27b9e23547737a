"""Single sign-on through a real OpenID provider on 127.0.0.1 (tests/oidc_provider.py): the
flow over HTTP as a browser follows it, roles from the provider's groups, linking an account
made with a password, and every bad answer refused with no account made."""

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts import oidc_service
from app.config import Settings
from app.main import create_app
from app.models import OidcIdentity, OidcLogin, Role, User
from tests import oidc_provider
from tests.conftest import PASSWORD, register
from tests.oidc_provider import CLIENT_ID, Provider, running, sso_settings


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running() as p:
        yield p


@pytest.fixture(autouse=True)
def _fresh_provider(request: pytest.FixtureRequest) -> None:
    if "provider" in request.fixturenames:
        request.getfixturevalue("provider").reset()


def _app(make_settings: Callable[..., Settings], provider: Provider, **overrides: Any
         ) -> Iterator[FastAPI]:
    application = create_app(make_settings(**sso_settings(provider, **overrides)))
    yield application
    application.state.engine.dispose()


@pytest.fixture(scope="module")
def sso_app(make_settings: Callable[..., Settings], provider: Provider) -> Iterator[FastAPI]:
    yield from _app(make_settings, provider)


@pytest.fixture(scope="module")
def sso_only_app(make_settings: Callable[..., Settings], provider: Provider
                 ) -> Iterator[FastAPI]:
    yield from _app(make_settings, provider, oidc_password_login_admins_only=True)


@pytest.fixture
def browser(sso_app: FastAPI, database_url: str) -> Iterator[TestClient]:
    with TestClient(sso_app) as c:
        yield c


def start(client: TestClient, next_path: str | None = None) -> str:
    """Press the button: the address the provider sends the browser back to."""
    response = client.get("/auth/oidc/login", params={"next": next_path} if next_path else None,
                          follow_redirects=False)
    assert response.status_code == 303, response.text
    at_provider = httpx.get(response.headers["Location"], follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == "/auth/oidc/callback"
    return f"{back.path}?{back.query}"


def sign_in(client: TestClient, next_path: str | None = None) -> httpx.Response:
    return client.get(start(client, next_path), follow_redirects=False)


def users(app: FastAPI) -> list[User]:
    with Session(app.state.engine) as db:
        return list(db.scalars(select(User).order_by(User.created_at)))


def identities(app: FastAPI) -> int:
    with Session(app.state.engine) as db:
        return db.scalar(select(func.count()).select_from(OidcIdentity)) or 0


# --- the flow ---


def test_first_sign_in_makes_a_student_account_and_logs_in(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    response = sign_in(browser)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    me = browser.get("/api/v1/me").json()
    assert (me["email"], me["name"], me["role"]) == ("maya@uni.edu", "Maya Okafor", "student")
    assert identities(sso_app) == 1
    # The session is the same kind as a password login's: cookie writes need its CSRF token.
    assert browser.patch("/api/v1/me", json={"school": "Uni"}).status_code == 403
    browser.headers["X-CSRF-Token"] = response.headers["X-CSRF-Token"]
    assert browser.patch("/api/v1/me", json={"school": "Uni"}).status_code == 200


def test_the_page_asked_for_is_where_a_sign_in_ends(browser: TestClient) -> None:
    assert sign_in(browser, "/contacts?stage=contacted").headers["Location"] == \
        "/contacts?stage=contacted"


def test_a_sign_in_never_sends_the_browser_to_another_site(browser: TestClient) -> None:
    assert sign_in(browser, "//evil.example/x").headers["Location"] == "/"


def test_staff_group_makes_staff_and_removing_it_makes_a_student_again(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    provider.user.groups = ["students", "career-staff"]
    response = sign_in(browser)
    assert response.headers["Location"] == "/stats"
    assert browser.get("/api/v1/me").json()["role"] == "staff"
    assert browser.get("/stats").status_code == 200

    provider.user.groups = ["students"]
    assert sign_in(browser).headers["Location"] == "/"
    assert browser.get("/api/v1/me").json()["role"] == "student"
    assert browser.get("/stats").status_code == 403
    assert len(users(sso_app)) == 1


def test_admin_group_makes_an_admin(browser: TestClient, provider: Provider) -> None:
    provider.user.groups = ["rapport-admins"]
    sign_in(browser)
    assert browser.get("/api/v1/me").json()["role"] == "admin"


def test_an_email_changed_at_the_university_keeps_one_account(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    sign_in(browser)
    first = browser.get("/api/v1/me").json()
    provider.user.email, provider.user.name = "maya.okafor@uni.edu", "Maya O."
    sign_in(browser)
    again = browser.get("/api/v1/me").json()
    assert again["id"] == first["id"] and again["email"] == "maya.okafor@uni.edu"
    assert again["name"] == "Maya Okafor"  # the name is the student's own once made
    assert len(users(sso_app)) == 1 and identities(sso_app) == 1


def test_email_and_groups_only_at_userinfo_are_read_there(
        browser: TestClient, provider: Provider) -> None:
    provider.user.groups = ["career-staff"]
    provider.user.userinfo_only = ("email", "email_verified", "groups")
    sign_in(browser)
    me = browser.get("/api/v1/me").json()
    assert (me["email"], me["role"]) == ("maya@uni.edu", "staff")


def test_an_account_made_by_sign_in_has_no_password_to_guess(
        browser: TestClient, sso_app: FastAPI) -> None:
    sign_in(browser)
    with TestClient(sso_app) as other:
        for password in ("not-a-real-password", "", PASSWORD):
            response = other.post("/api/v1/auth/login",
                                  json={"email": "maya@uni.edu", "password": password or "x"})
            assert response.status_code == 401, response.text


# --- linking an account made with a password ---


def test_an_account_with_the_same_email_is_linked_once_its_password_is_given(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    made = register(browser)
    response = sign_in(browser)
    assert response.headers["Location"] == "/auth/oidc/link"
    assert "rapport_session" not in response.cookies
    page = browser.get("/auth/oidc/link")
    assert page.status_code == 200 and "maya@uni.edu" in page.text

    wrong = browser.post("/api/v1/auth/oidc/link", json={"password": "not the password"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_credentials"
    assert identities(sso_app) == 0
    unknown = browser.post("/api/v1/auth/oidc/link", json={"password": PASSWORD, "role": "admin"})
    assert unknown.status_code == 422

    linked = browser.post("/api/v1/auth/oidc/link", json={"password": PASSWORD})
    assert linked.status_code == 200, linked.text
    assert linked.json()["id"] == made["id"]
    assert browser.get("/api/v1/me").json()["id"] == made["id"]
    assert identities(sso_app) == 1

    with TestClient(sso_app) as later:  # from now on, no password
        assert sign_in(later).headers["Location"] == "/"
        assert later.get("/api/v1/me").json()["id"] == made["id"]
    assert len(users(sso_app)) == 1


def test_the_university_vouches_for_the_addresses_it_signs_in(
        make_settings: Callable[..., Settings], provider: Provider, database_url: str) -> None:
    """With email verification on, an account made by a sign-in writes at once, and one made
    with a password and not confirmed yet is confirmed once linked."""
    for application in _app(make_settings, provider, smtp_url="smtp://127.0.0.1:9",
                            mail_from="Rapport <rapport@uni.edu>"):
        with TestClient(application) as new, TestClient(application) as linking:
            response = sign_in(new)
            new.headers["X-CSRF-Token"] = response.headers["X-CSRF-Token"]
            assert new.get("/api/v1/me").json()["email_verified"] is True
            assert new.post("/api/v1/contacts", json={"first_name": "Ada"}).status_code == 201

            provider.user = oidc_provider.TestUser(sub="u-1002", email="jon@uni.edu", name="Jon Park")
            assert register(linking, email="jon@uni.edu")["email_verified"] is False
            sign_in(linking)
            linked = linking.post("/api/v1/auth/oidc/link", json={"password": PASSWORD})
            assert linked.json()["email_verified"] is True


def test_linking_needs_a_sign_in_through_the_university_first(browser: TestClient) -> None:
    register(browser)
    response = browser.post("/api/v1/auth/oidc/link", json={"password": PASSWORD})
    assert response.status_code == 400
    assert response.json()["error"] == "sso_link_expired"
    assert browser.get("/auth/oidc/link").status_code == 400


def test_a_forged_link_cookie_is_refused(browser: TestClient, sso_app: FastAPI) -> None:
    register(browser)
    browser.cookies.set("rapport_oidc_link", "eyJhbGciOiJIUzI1NiJ9.e30.forged")
    response = browser.post("/api/v1/auth/oidc/link", json={"password": PASSWORD})
    assert response.status_code == 400 and response.json()["error"] == "sso_link_expired"
    # A token whose header is not what a JWT library expects: refused the same way, not a 500.
    browser.cookies.set("rapport_oidc_link", "eyJhbGciOiJIUzI1NiIsImNyaXQiOjF9.e30.AA")
    odd = browser.post("/api/v1/auth/oidc/link", json={"password": PASSWORD})
    assert odd.status_code == 400 and odd.json()["error"] == "sso_link_expired"
    assert identities(sso_app) == 0


# --- bad input: each one a clear page, and no account ---


def refused(response: httpx.Response, status: int, words: str, app: FastAPI) -> None:
    assert response.status_code == status, response.text
    assert "text/html" in response.headers["content-type"]
    assert words in response.text
    assert users(app) == []
    assert identities(app) == 0


def test_a_tampered_token_is_refused(browser: TestClient, sso_app: FastAPI,
                                     provider: Provider) -> None:
    provider.tamper = True
    refused(sign_in(browser), 400, "cannot trust", sso_app)


def test_a_token_signed_with_a_key_the_provider_does_not_publish_is_refused(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    provider.foreign_key = True
    refused(sign_in(browser), 400, "signature does not match", sso_app)


def test_an_expired_token_is_refused(browser: TestClient, sso_app: FastAPI,
                                     provider: Provider) -> None:
    provider.claims = {"exp": 1_600_000_000, "iat": 1_599_999_000}
    refused(sign_in(browser), 400, "expired", sso_app)


def test_a_token_for_another_application_is_refused(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    provider.claims = {"aud": "someone-else"}
    refused(sign_in(browser), 400, "issued for another application", sso_app)


def test_a_token_from_another_issuer_is_refused(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    provider.claims = {"iss": "https://idp.evil.example"}
    refused(sign_in(browser), 400, "another issuer", sso_app)


def test_a_token_of_another_sign_in_is_refused(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    provider.claims = {"nonce": "someone-elses-nonce"}
    refused(sign_in(browser), 400, "another sign-in", sso_app)


def test_a_replayed_callback_is_refused(browser: TestClient, sso_app: FastAPI) -> None:
    callback = start(browser)
    assert browser.get(callback, follow_redirects=False).status_code == 303
    browser.cookies.clear()
    with Session(sso_app.state.engine) as db:
        db.execute(OidcIdentity.__table__.delete())
        db.execute(User.__table__.delete())
        db.commit()
    refused(browser.get(callback, follow_redirects=False), 400, "already used", sso_app)


def test_a_replayed_code_is_refused_by_the_provider(browser: TestClient, sso_app: FastAPI,
                                                    provider: Provider) -> None:
    first = start(browser)
    code = parse_qs(urlsplit(first).query)["code"][0]
    browser.get(first, follow_redirects=False)
    browser.cookies.clear()
    with Session(sso_app.state.engine) as db:
        db.execute(OidcIdentity.__table__.delete())
        db.execute(User.__table__.delete())
        db.commit()
    # A new sign-in of this browser, answered with the code already spent.
    second = parse_qs(urlsplit(start(browser)).query)["state"][0]
    response = browser.get("/auth/oidc/callback", params={"code": code, "state": second},
                           follow_redirects=False)
    refused(response, 400, "already used or has expired", sso_app)


def test_a_state_started_in_another_browser_is_refused(
        browser: TestClient, sso_app: FastAPI) -> None:
    callback = start(browser)
    with TestClient(sso_app) as other:
        refused(other.get(callback, follow_redirects=False), 400, "another browser", sso_app)
    # ... and it is spent: the browser that began it cannot finish it either.
    refused(browser.get(callback, follow_redirects=False), 400, "already used", sso_app)


def test_a_made_up_state_is_refused(browser: TestClient, sso_app: FastAPI) -> None:
    response = browser.get("/auth/oidc/callback", params={"code": "x", "state": "made-up"})
    refused(response, 400, "Start again from the login page", sso_app)


def test_a_sign_in_turned_down_at_the_provider_is_refused(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    provider.deny = True
    refused(sign_in(browser), 400, "access_denied", sso_app)


def test_a_missing_email_is_refused(browser: TestClient, sso_app: FastAPI,
                                    provider: Provider) -> None:
    provider.user.email = None
    refused(sign_in(browser), 403, "did not tell Rapport your email", sso_app)


def test_an_unverified_email_is_refused(browser: TestClient, sso_app: FastAPI,
                                        provider: Provider) -> None:
    provider.user.email_verified = False
    refused(sign_in(browser), 403, "has not verified your email", sso_app)


def test_a_domain_not_allowed_is_refused(browser: TestClient, sso_app: FastAPI,
                                         provider: Provider) -> None:
    provider.user.email = "maya@gmail.com"
    refused(sign_in(browser), 403, "addresses ending in @uni.edu", sso_app)


def test_a_token_endpoint_that_is_down_is_a_clear_page(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    provider.token_down = True
    refused(sign_in(browser), 503, "not answering", sso_app)


def test_a_provider_that_is_down_is_a_clear_page(
        make_settings: Callable[..., Settings], provider: Provider, database_url: str) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(make_settings(**sso_settings(
        provider, oidc_issuer=f"http://127.0.0.1:{port}", oidc_timeout_seconds=5)))
    try:
        with TestClient(app) as client:
            response = client.get("/auth/oidc/login", follow_redirects=False)
            refused(response, 503, "not answering", app)
    finally:
        app.state.engine.dispose()


# --- keys ---


def test_a_rotated_key_is_fetched_and_the_old_one_no_longer_trusted(
        browser: TestClient, sso_app: FastAPI, provider: Provider) -> None:
    assert sign_in(browser).status_code == 303  # the keys are now cached
    provider.rotate()
    with TestClient(sso_app) as other:
        assert sign_in(other).status_code == 303
        assert other.get("/api/v1/me").json()["email"] == "maya@uni.edu"
    assert len(users(sso_app)) == 1


# --- password login when single sign-on is for everyone ---


@pytest.fixture
def sso_only(sso_only_app: FastAPI, database_url: str) -> Iterator[TestClient]:
    with TestClient(sso_only_app) as c:
        yield c


def _with_password(app: FastAPI, email: str, role: Role) -> None:
    from app.accounts import service
    with Session(app.state.engine) as db:
        service.create_user(db, email, PASSWORD, "Someone", role)
        db.commit()


def test_password_login_is_for_admins_only_when_set(sso_only: TestClient,
                                                    sso_only_app: FastAPI) -> None:
    _with_password(sso_only_app, "ada@uni.edu", Role.admin)
    _with_password(sso_only_app, "sam@uni.edu", Role.student)
    student = sso_only.post("/api/v1/auth/login",
                            json={"email": "sam@uni.edu", "password": PASSWORD})
    assert student.status_code == 403 and student.json()["error"] == "password_login_off"
    assert "Example University" in student.json()["detail"]
    assert "rapport_session" not in student.cookies
    admin = sso_only.post("/api/v1/auth/login", json={"email": "ada@uni.edu", "password": PASSWORD})
    assert admin.status_code == 200


def test_registering_is_closed_when_password_login_is_for_admins_only(
        sso_only: TestClient, sso_only_app: FastAPI) -> None:
    response = sso_only.post("/api/v1/auth/register", json={
        "email": "new@uni.edu", "password": PASSWORD, "name": "New"})
    assert response.status_code == 403 and response.json()["error"] == "registration_closed"
    assert users(sso_only_app) == []


def test_the_login_page_shows_only_the_university_button_when_password_login_is_off(
        sso_only: TestClient) -> None:
    page = sso_only.get("/login").text
    assert "Sign in with Example University" in page
    assert 'name="password"' not in page and "Create an account" not in page
    assert 'href="/register"' not in page  # nor in the header: registering is closed
    admin_page = sso_only.get("/login?with=password").text
    assert "Sign in with Example University" in admin_page and 'name="password"' in admin_page


def test_the_login_page_offers_both_when_password_login_stays(browser: TestClient) -> None:
    page = browser.get("/login?next=/tasks").text
    assert 'href="/auth/oidc/login?next=/tasks"' in page and 'name="password"' in page


def test_without_single_sign_on_there_is_no_button_and_no_route(client: TestClient) -> None:
    assert "Sign in with" not in client.get("/login").text
    assert client.get("/auth/oidc/login", follow_redirects=False).status_code == 404
    assert client.post("/api/v1/auth/oidc/link", json={"password": "x"}).status_code == 404


def test_logging_out_offers_the_providers_sign_out(browser: TestClient, provider: Provider
                                                   ) -> None:
    response = sign_in(browser)
    browser.headers["X-CSRF-Token"] = response.headers["X-CSRF-Token"]
    out = browser.post("/api/v1/auth/logout", headers={"HX-Request": "true"})
    assert out.headers["HX-Redirect"] == "/login?signed_out=1"
    assert browser.get("/api/v1/me").status_code == 401
    page = browser.get("/login?signed_out=1").text
    assert f"{provider.issuer}/logout?client_id={CLIENT_ID}" in page
    assert "Also sign out of Example University" in page
    provider.end_session = False
    oidc_service._cache.clear()
    assert "Also sign out" not in browser.get("/login?signed_out=1").text


# --- one account per subject, whatever happens at once ---


def test_two_sign_ins_at_once_make_one_account(sso_app: FastAPI, database_url: str) -> None:
    who = oidc_service.Person(issuer="https://idp.uni.edu", subject="s-1", email="kim@uni.edu",
                              name="Kim", role=Role.student)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with Session(sso_app.state.engine) as db:
                barrier.wait()
                oidc_service.sign_in(db, who)
                db.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # SQLite has one writer: a sign-in may be told the database is busy (answered 503, to be
    # sent again); none may make a second account.
    assert all("locked" in str(e) for e in errors), errors
    assert len(users(sso_app)) == 1 and identities(sso_app) == 1


def test_the_database_refuses_a_second_account_for_one_subject(sso_app: FastAPI,
                                                               database_url: str) -> None:
    with Session(sso_app.state.engine) as db:
        first = User(email="a@uni.edu", password_hash="", name="A")
        second = User(email="b@uni.edu", password_hash="", name="B")
        db.add_all([first, second])
        db.flush()
        db.add(OidcIdentity(user_id=first.id, issuer="https://idp.uni.edu", subject="s-1"))
        db.flush()
        db.add(OidcIdentity(user_id=second.id, issuer="https://idp.uni.edu", subject="s-1"))
        with pytest.raises(IntegrityError):
            db.flush()


def test_sign_ins_begun_are_deleted_once_used(browser: TestClient, sso_app: FastAPI) -> None:
    sign_in(browser)
    with Session(sso_app.state.engine) as db:
        assert db.scalar(select(func.count()).select_from(OidcLogin)) == 0


# --- settings ---


@pytest.mark.parametrize("issuer", ["http://idp.uni.edu", "ftp://127.0.0.1", "https://"])
def test_an_issuer_must_be_https_but_on_loopback(make_settings: Callable[..., Settings],
                                                 issuer: str) -> None:
    with pytest.raises(ValidationError, match="RAPPORT_OIDC_ISSUER"):
        make_settings(oidc_issuer=issuer, oidc_client_id="c", oidc_client_secret="s")


def test_single_sign_on_settings_are_checked_together(
        make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError, match="RAPPORT_OIDC_CLIENT_ID"):
        make_settings(oidc_issuer="https://idp.uni.edu")
    with pytest.raises(ValidationError, match="needs RAPPORT_OIDC_ISSUER"):
        make_settings(oidc_password_login_admins_only=True)
    settings = make_settings(oidc_issuer="https://login.example.com/t/v2.0/",
                             oidc_client_id="c", oidc_client_secret="s",
                             oidc_email_domains="@Uni.edu, alumni.uni.edu",
                             oidc_staff_values="a,b")
    assert settings.oidc_email_domains == ["uni.edu", "alumni.uni.edu"]
    assert settings.oidc_staff_values == ["a", "b"]


def test_an_account_made_by_sign_in_has_no_password_form(browser: TestClient) -> None:
    sign_in(browser)
    page = browser.get("/settings").text
    assert "Rapport keeps no password for you" in page and 'id="password-form"' not in page


# --- sign-ins begun, limited per network ---


def sign_ins_begun(app: FastAPI) -> int:
    with Session(app.state.engine) as db:
        return db.scalar(select(func.count()).select_from(OidcLogin)) or 0


@pytest.fixture
def limited_app(make_settings: Callable[..., Settings], provider: Provider,
                database_url: str) -> Iterator[FastAPI]:
    yield from _app(make_settings, provider, oidc_logins_per_minute=3)


def begin_from(app: FastAPI, address: str) -> httpx.Response:
    with TestClient(app, client=(address, 50000)) as client:
        return client.get("/auth/oidc/login", follow_redirects=False)


def test_sign_ins_begun_from_one_network_are_limited_without_a_row_each(
        limited_app: FastAPI) -> None:
    # Three from one IPv6 /64, whatever its addresses; then a page says how long to wait.
    for n in (1, 2, 3):
        assert begin_from(limited_app, f"2001:db8:0:1::{n}").status_code == 303
    over = begin_from(limited_app, "2001:db8:0:1::ffff")
    assert over.status_code == 429
    assert "text/html" in over.headers["content-type"]
    assert "Too many sign-ins were started from your network" in over.text
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert sign_ins_begun(limited_app) == 3  # the refused one wrote nothing
    # Another network still signs in, to the end.
    with TestClient(limited_app, client=("198.51.100.7", 50000)) as other:
        assert sign_in(other).status_code == 303
        assert other.get("/api/v1/me").json()["email"] == "maya@uni.edu"
