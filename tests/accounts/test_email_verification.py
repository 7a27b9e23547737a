"""Email verification: a new account confirms its address through a link sent by email (to a
real SMTP server on loopback) before it may write, and a changed profile email takes effect
once the new address confirms. On when email is on, unless the setting says otherwise."""

import base64
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.accounts import verification
from app.config import Settings
from app.db import utcnow
from app.main import create_app
from app.models import User
from tests.conftest import PASSWORD, browsers_of, login, register
from tests.reminders.conftest import MAIL_FROM, SITE, Mailbox, mailbox  # noqa: F401

LINK = re.compile(re.escape(SITE) + r"/verify-email\?token=([\w.=-]+)")
CONTACT = {"first_name": "Ada", "last_name": "Lovelace"}


@pytest.fixture
def make_app(make_settings: Callable[..., Settings],
             mailbox: Mailbox) -> Iterator[Callable[..., FastAPI]]:  # noqa: F811
    """The app with email on (and so verification, the setting being unset), sending to the
    test's own SMTP server."""
    apps: list[FastAPI] = []

    def make(**overrides: Any) -> FastAPI:
        apps.append(create_app(make_settings(
            smtp_url=mailbox.url, mail_from=MAIL_FROM, public_url=SITE, **overrides)))
        return apps[-1]

    yield make
    for application in apps:
        application.state.engine.dispose()


@pytest.fixture
def mail_app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def browsers(mail_app: FastAPI, database_url: str) -> Iterator[Callable[[], TestClient]]:
    yield from browsers_of(mail_app)


@pytest.fixture
def maya(browsers: Callable[[], TestClient]) -> TestClient:
    """Maya, just registered (and logged in), her address not confirmed yet."""
    client = browsers()
    assert register(client)["email_verified"] is False
    login(client)
    return client


def token_sent(box: Mailbox, address: str, nth: int = -1) -> str:
    message = box.to(address)[nth]
    body = message.get_body(("plain",))
    assert body is not None
    match = LINK.search(body.get_content())
    assert match, body.get_content()
    return match.group(1)


def confirm(client: TestClient, token: str) -> Any:
    return client.post("/api/v1/auth/verify-email", json={"token": token})


def add_contact(client: TestClient) -> int:
    return int(client.post("/api/v1/contacts", json=CONTACT).status_code)


def me(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/api/v1/me").json())


def refused(response: Any, code: str = "invalid_verification_token", status: int = 422) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


def test_a_new_account_reads_but_writes_only_once_its_emailed_link_is_confirmed(
        maya: TestClient, mailbox: Mailbox) -> None:  # noqa: F811
    [message] = mailbox.to("maya@uni.edu")
    assert message["Subject"] == "Confirm your email address for Rapport"
    assert message["From"] == MAIL_FROM
    token = token_sent(mailbox, "maya@uni.edu")

    # Logged in, reading her own things; every write refused, with a sentence saying why.
    assert me(maya)["email_verified"] is False and me(maya)["pending_email"] is None
    assert maya.get("/api/v1/contacts").status_code == 200
    response = maya.post("/api/v1/contacts", json=CONTACT)
    refused(response, "email_unverified", 403)
    assert "maya@uni.edu" in response.json()["detail"]
    refused(maya.post("/api/v1/api-keys", json={"name": "x", "scopes": ["profile:read"]}),
            "email_unverified", 403)
    page = maya.get("/contacts")
    assert "Confirm your email address." in page.text and "maya@uni.edu" in page.text

    # Opening the link confirms nothing by itself (a mail scanner may fetch it): a button does.
    page = maya.get(f"/verify-email?token={token}")
    assert page.status_code == 200
    assert 'action="/verify-email"' in page.text and "maya@uni.edu" in page.text
    assert me(maya)["email_verified"] is False

    response = maya.post("/verify-email", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == "/verify-email?confirmed=1"
    assert "is confirmed" in maya.get(response.headers["Location"]).text
    assert me(maya)["email_verified"] is True
    assert add_contact(maya) == 201
    assert "Confirm your email address." not in maya.get("/contacts").text

    # The link is used up: the API and the page both say so.
    refused(confirm(maya, token), "already_confirmed", 409)
    assert "confirmed already" in maya.get(f"/verify-email?token={token}").text


def test_what_an_unconfirmed_account_may_still_do(maya: TestClient) -> None:
    assert maya.patch("/api/v1/me", json={"school": "Uni"}).json()["school"] == "Uni"
    response = maya.post("/api/v1/me/password", json={
        "current_password": PASSWORD, "new_password": "another passphrase"})
    assert response.status_code == 204
    maya.headers["X-CSRF-Token"] = response.headers["X-CSRF-Token"]
    assert maya.delete("/api/v1/me/pending-email").status_code == 200
    assert maya.post("/api/v1/auth/logout").status_code == 204


def test_a_mistyped_address_is_corrected_through_a_link_to_the_right_one(
        make_app: Callable[..., FastAPI], mailbox: Mailbox) -> None:  # noqa: F811
    client = TestClient(make_app())
    register(client, email="maya@uni.ed")
    login(client, email="maya@uni.ed")
    changed = client.patch("/api/v1/me", json={"email": "maya@uni.edu"}).json()
    assert (changed["email"], changed["pending_email"]) == ("maya@uni.ed", "maya@uni.edu")
    assert "maya@uni.edu" in client.get("/").text  # the banner names where the link went
    assert confirm(client, token_sent(mailbox, "maya@uni.edu")).status_code == 204
    now = me(client)
    assert (now["email"], now["pending_email"], now["email_verified"]) == \
        ("maya@uni.edu", None, True)
    assert add_contact(client) == 201
    # The link to the mistyped address confirms nothing now.
    refused(confirm(client, token_sent(mailbox, "maya@uni.ed", 0)))


def test_forged_expired_and_other_address_links_are_refused(
        maya: TestClient, mail_app: FastAPI, mailbox: Mailbox,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    token = token_sent(mailbox, "maya@uni.edu")
    payload, _, mac = token.partition(".")
    for forged in ("", "nonsense", "é.é", payload, f"{payload}.{mac[:-2]}AA", f"x{payload}.{mac}",
                   f"{payload}.{mac}.x"):
        response = confirm(maya, forged) if forged else \
            maya.post("/api/v1/auth/verify-email", json={"token": ""})
        assert response.status_code == 422, forged
    response = confirm(maya, f"{payload}.{mac[:-2]}AA")
    refused(response)
    assert [f["field"] for f in response.json()["fields"]] == ["token"]
    assert "48 hours" in response.json()["detail"]

    # A token this server signed, for an address not waiting on the account.
    user = User(id=me(maya)["id"], email="maya@uni.edu")
    refused(confirm(maya, verification.make_token(mail_app.state.settings, user,
                                                  "someone@uni.edu")))

    later = utcnow() + timedelta(hours=48, seconds=1)
    monkeypatch.setattr(verification, "utcnow", lambda: later)
    refused(confirm(maya, token))
    assert "more than 48 hours old" in maya.get(f"/verify-email?token={token}").text
    monkeypatch.undo()
    assert confirm(maya, token).status_code == 204


def test_one_accounts_link_confirms_no_other_account(
        browsers: Callable[[], TestClient], mail_app: FastAPI, mailbox: Mailbox) -> None:  # noqa: F811
    maya, jon = browsers(), browsers()
    register(maya)
    login(maya)
    register(jon, email="jon@uni.edu", name="Jon Park")
    login(jon, email="jon@uni.edu")
    maya_token = token_sent(mailbox, "maya@uni.edu")

    # Jon, logged in, cannot confirm his own account with Maya's link, nor with one made for
    # his address out of hers.
    payload, _, mac = maya_token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims[:2] == [me(maya)["id"], "maya@uni.edu"]
    for forged in ([me(jon)["id"], "maya@uni.edu"], [me(jon)["id"], "jon@uni.edu"]):
        raw = json.dumps([*forged, claims[2]], separators=(",", ":")).encode()
        refused(confirm(jon, base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + mac))
    user = User(id=me(maya)["id"], email="maya@uni.edu")
    refused(confirm(jon, verification.make_token(mail_app.state.settings, user, "jon@uni.edu")))
    assert confirm(jon, maya_token).status_code == 204
    assert me(jon)["email_verified"] is False
    assert me(maya)["email_verified"] is True
    refused(jon.post("/api/v1/contacts", json=CONTACT), "email_unverified", 403)


def test_sending_the_link_again_is_limited(maya: TestClient, mailbox: Mailbox) -> None:  # noqa: F811
    # Registering sent one; four more may go within the hour.
    for _ in range(verification.SENDS_PER_HOUR - 1):
        assert maya.post("/api/v1/auth/verify-email/resend").status_code == 202
    assert len(mailbox.to("maya@uni.edu")) == verification.SENDS_PER_HOUR
    response = maya.post("/api/v1/auth/verify-email/resend")
    refused(response, "verification_throttled", 429)
    assert int(response.headers["Retry-After"]) > 3000
    assert len(mailbox.to("maya@uni.edu")) == verification.SENDS_PER_HOUR
    # Every link sent works (the first here); then there is nothing left to send.
    assert confirm(maya, token_sent(mailbox, "maya@uni.edu", 0)).status_code == 204
    refused(maya.post("/api/v1/auth/verify-email/resend"), "nothing_to_confirm", 409)


def test_the_banner_sends_the_link_again_through_htmx(maya: TestClient,
                                                       mailbox: Mailbox) -> None:  # noqa: F811
    response = maya.post("/api/v1/auth/verify-email/resend", headers={"HX-Request": "true"})
    assert response.status_code == 202 and "Sent again to maya@uni.edu" in response.text
    assert len(mailbox.to("maya@uni.edu")) == 2
    # A form refused for it says why in the form.
    response = maya.post("/api/v1/contacts", json=CONTACT, headers={"HX-Request": "true"})
    assert response.status_code == 403 and "Confirm your email address first" in response.text


def test_with_the_setting_off_nothing_is_confirmed(
        make_app: Callable[..., FastAPI], mailbox: Mailbox) -> None:  # noqa: F811
    client = TestClient(make_app(email_verification=False))
    assert register(client)["email_verified"] is True
    login(client)
    assert add_contact(client) == 201
    assert client.patch("/api/v1/me", json={"email": "maya@alumni.uni.edu"}).json()["email"] \
        == "maya@alumni.uni.edu"
    refused(client.post("/api/v1/auth/verify-email/resend"), "nothing_to_confirm", 409)
    assert mailbox.messages == [] and "Confirm your email" not in client.get("/").text


def test_without_email_there_is_no_verification(client: TestClient) -> None:
    assert register(client)["email_verified"] is True
    login(client)
    assert add_contact(client) == 201


def test_the_setting_on_needs_email(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError, match="RAPPORT_EMAIL_VERIFICATION=true needs email"):
        make_settings(email_verification=True)
    assert make_settings().verification_on is False
    assert make_settings(email_verification=" ").email_verification is None  # empty: unset
    assert make_settings(smtp_url="smtp://127.0.0.1:25", mail_from=MAIL_FROM).verification_on


def test_registration_limited_to_domains_still_confirms_the_address(
        make_app: Callable[..., FastAPI], mailbox: Mailbox) -> None:  # noqa: F811
    client = TestClient(make_app(registration="uni.edu, alumni.uni.edu"))
    response = client.post("/api/v1/auth/register", json={
        "email": "maya@gmail.com", "password": PASSWORD, "name": "Maya Okafor"})
    assert response.status_code == 422 and mailbox.messages == []
    assert register(client, email="maya@alumni.uni.edu")["email_verified"] is False
    login(client, email="maya@alumni.uni.edu")
    refused(client.post("/api/v1/contacts", json=CONTACT), "email_unverified", 403)
    assert confirm(client, token_sent(mailbox, "maya@alumni.uni.edu")).status_code == 204
    assert add_contact(client) == 201


@pytest.fixture
def confirmed_maya(maya: TestClient, mailbox: Mailbox) -> TestClient:  # noqa: F811
    assert confirm(maya, token_sent(mailbox, "maya@uni.edu")).status_code == 204
    return maya


def can_log_in(client: TestClient, email: str) -> bool:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return response.status_code == 200


def test_a_new_profile_email_takes_effect_once_it_confirms(
        confirmed_maya: TestClient, browsers: Callable[[], TestClient],
        mailbox: Mailbox) -> None:  # noqa: F811
    maya = confirmed_maya
    changed = maya.patch("/api/v1/me", json={"email": "Maya.O@uni.edu", "school": "Uni"}).json()
    assert (changed["email"], changed["pending_email"], changed["school"]) == \
        ("maya@uni.edu", "maya.o@uni.edu", "Uni")
    assert changed["email_verified"] is True and add_contact(maya) == 201  # still writes
    [message] = mailbox.to("maya.o@uni.edu")
    body = message.get_body(("plain",))
    assert body is not None and "from maya@uni.edu to this one" in body.get_content()
    # Saving the profile again with her current address keeps the change waiting.
    assert maya.patch("/api/v1/me", json={"email": "maya@uni.edu", "major": "Biology"}
                      ).json()["pending_email"] == "maya.o@uni.edu"
    settings = maya.get("/settings").text
    assert "until you open the link we sent to" in settings and "maya.o@uni.edu" in settings
    # The box stays when the form comes back with a mistake in it, naming the saved addresses.
    refused_form = maya.patch("/api/v1/me", headers={"HX-Request": "true"}, json={
        "email": "maya@uni.ed", "name": "", "school": "Uni"})
    assert refused_form.status_code == 422 and 'id="pending-email"' in refused_form.text
    assert ('stays <strong class="verify-address">maya@uni.edu</strong> until you open the link '
            'we sent to <strong class="verify-address">maya.o@uni.edu</strong>') \
        in refused_form.text

    other = browsers()
    assert can_log_in(other, "maya@uni.edu") and not can_log_in(other, "maya.o@uni.edu")
    assert confirm(maya, token_sent(mailbox, "maya.o@uni.edu")).status_code == 204
    now = me(maya)
    assert (now["email"], now["pending_email"]) == ("maya.o@uni.edu", None)
    assert can_log_in(other, "maya.o@uni.edu") and not can_log_in(other, "maya@uni.edu")


def test_a_cancelled_change_ends_its_link(confirmed_maya: TestClient,
                                          mailbox: Mailbox) -> None:  # noqa: F811
    maya = confirmed_maya
    maya.patch("/api/v1/me", json={"email": "maya.o@uni.edu"})
    token = token_sent(mailbox, "maya.o@uni.edu")
    assert maya.post("/api/v1/auth/verify-email/resend").status_code == 202
    assert len(mailbox.to("maya.o@uni.edu")) == 2
    cancelled = maya.delete("/api/v1/me/pending-email", headers={"HX-Request": "true"})
    assert cancelled.status_code == 200 and "until you open the link" not in cancelled.text
    assert me(maya)["pending_email"] is None
    refused(confirm(maya, token))
    refused(maya.post("/api/v1/auth/verify-email/resend"), "nothing_to_confirm", 409)
    assert me(maya)["email"] == "maya@uni.edu"


def test_an_address_taken_meanwhile_is_refused_at_confirmation(
        confirmed_maya: TestClient, browsers: Callable[[], TestClient],
        mailbox: Mailbox) -> None:  # noqa: F811
    maya = confirmed_maya
    register(browsers(), email="jon@uni.edu", name="Jon Park")
    refused(maya.patch("/api/v1/me", json={"email": "jon@uni.edu"}), "email_taken", 409)
    assert me(maya)["pending_email"] is None and mailbox.to("jon@uni.edu")[1:] == []

    maya.patch("/api/v1/me", json={"email": "sam@uni.edu"})
    token = token_sent(mailbox, "sam@uni.edu")
    register(browsers(), email="sam@uni.edu", name="Sam Lee")
    response = confirm(maya, token)
    refused(response, "email_taken", 409)
    assert "sam@uni.edu" in response.json()["detail"]
    assert "Another account uses" in maya.get(f"/verify-email?token={token}").text
    assert me(maya)["email"] == "maya@uni.edu"


def registered_ago(app: FastAPI, email: str, ago: timedelta) -> None:
    with Session(app.state.engine) as db:
        db.execute(update(User).where(User.email == email).values(created_at=utcnow() - ago))
        db.commit()


def try_register(client: TestClient, name: str) -> Any:
    return client.post("/api/v1/auth/register", json={
        "email": "maya@uni.edu", "password": PASSWORD, "name": name})


def test_an_address_left_unconfirmed_past_its_links_lifetime_can_be_registered_again(
        maya: TestClient, browsers: Callable[[], TestClient], mail_app: FastAPI,
        mailbox: Mailbox) -> None:  # noqa: F811
    """Someone registered Maya's address and never confirmed it: within the link's lifetime
    the address is taken; after it, Maya's registration deletes that account and proceeds."""
    squatter, token = maya, token_sent(mailbox, "maya@uni.edu")
    squatter_id = me(squatter)["id"]
    owner = browsers()
    registered_ago(mail_app, "maya@uni.edu", timedelta(hours=47))
    refused(try_register(owner, "Maya Okafor"), "email_taken", 409)

    registered_ago(mail_app, "maya@uni.edu", timedelta(hours=48, seconds=1))
    response = try_register(owner, "Maya Okafor")
    assert response.status_code == 201, response.text
    assert response.json()["id"] != squatter_id and response.json()["email_verified"] is False
    assert squatter.get("/api/v1/me").status_code == 401
    # The old account's link confirms nothing; the new one's does.
    refused(confirm(owner, token))
    assert confirm(owner, token_sent(mailbox, "maya@uni.edu")).status_code == 204
    assert me(owner)["name"] == "Maya Okafor" and me(owner)["email_verified"] is True

    # A confirmed account keeps its address, however old.
    registered_ago(mail_app, "maya@uni.edu", timedelta(days=400))
    refused(try_register(browsers(), "Someone Else"), "email_taken", 409)


def test_with_verification_off_an_unconfirmed_account_keeps_its_address(
        make_app: Callable[..., FastAPI]) -> None:
    """Turned off, verification leaves unconfirmed accounts working: nobody takes them."""
    on = make_app()
    register(TestClient(on))
    registered_ago(on, "maya@uni.edu", timedelta(days=30))
    off = make_app(email_verification=False)
    refused(try_register(TestClient(off), "Someone Else"), "email_taken", 409)
