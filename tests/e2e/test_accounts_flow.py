"""A student's whole account story, driven through Chromium, and cross-site forgery attempts."""

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, NamedTuple

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Locator, Page, Route, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import EMAIL, NAME, console_errors


def field(page: Page, input_id: str) -> Locator:
    """The .field wrapper of an input: its label, hint and error live inside it."""
    return page.locator(".field", has=page.locator(f"#{input_id}"))


def test_student_registers_logs_in_edits_profile_and_manages_an_api_key(
    page: Page, base_url: str
) -> None:
    # Register, with a mistake in the email first.
    page.goto(f"{base_url}/register")
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Email").fill("maya-at-uni.edu")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    email_error = field(page, "f-email").locator(".field-error")
    expect(email_error).to_be_visible()
    expect(email_error).to_contain_text("email")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your name")).to_have_value(NAME)
    expect(page.get_by_label("Email")).to_have_value("maya-at-uni.edu")
    expect(page.get_by_label("Your name")).not_to_have_attribute("aria-invalid", "true")

    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # Registered and signed in: the guided start. Then out, and in again.
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", name="Getting started")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{base_url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya")

    # The profile: an impossible graduation year first.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(f"{base_url}/settings")
    page.get_by_label("School").fill("Concordia University, St. Paul")
    page.get_by_label("Graduation year").fill("1800")
    page.get_by_role("button", name="Save profile").click()

    year_error = field(page, "f-graduation_year").locator(".field-error")
    expect(year_error).to_be_visible()
    expect(year_error).to_contain_text("1900")
    expect(page.get_by_label("Graduation year")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("School")).to_have_value("Concordia University, St. Paul")
    expect(page.get_by_role("status")).to_have_count(0)

    page.get_by_label("Graduation year").fill("2027")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"Saved"))
    expect(page.locator(".field-error")).to_have_count(0)

    page.reload()
    expect(page.get_by_label("School")).to_have_value("Concordia University, St. Paul")
    expect(page.get_by_label("Graduation year")).to_have_value("2027")

    # An API key: created, used from a script, revoked.
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    expect(page).to_have_url(f"{base_url}/settings/api-keys")
    page.get_by_label("Key name").fill("Laptop script")
    page.get_by_label("profile:read").check()
    page.get_by_role("button", name="Create key").click()

    secret_box = page.locator("#new-key-secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.inner_text().strip()
    assert secret
    key_list = page.locator("#key-list")
    expect(key_list.get_by_role("row", name=re.compile("Laptop script"))).to_be_visible()

    bearer = {"Authorization": f"Bearer {secret}"}
    response = httpx.get(f"{base_url}/api/v1/me", headers=bearer)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == EMAIL

    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    key_list.get_by_role("button", name="Revoke Laptop script").click()
    expect(key_list.get_by_role("row", name=re.compile("Laptop script"))).to_have_count(0)
    expect(key_list).to_contain_text("You have no API keys")
    assert len(dialogs) == 1 and "Laptop script" in dialogs[0]

    response = httpx.get(f"{base_url}/api/v1/me", headers=bearer)
    assert response.status_code == 401, response.text

    # Log out from the navigation bar.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{base_url}/login")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    assert page.request.get(f"{base_url}/api/v1/me").status == 401


# --- cross-site request forgery ---------------------------------------------------------

STOLEN_PASSWORD = "attacker-chose-this-one"


class _AttackerPages(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path, "").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def attacker_port() -> Iterator[int]:
    """Another web site: a plain http.server on its own port, serving _AttackerPages.pages."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AttackerPages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _form(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    return (f'<!doctype html><title>Win a prize</title><form method="post" action="{action}">'
            f'{inputs}<button type="submit">Claim your prize</button></form>')


FORM_ATTACKS = {
    "change-password": ("/api/v1/me/password",
                        {"current_password": PASSWORD, "new_password": STOLEN_PASSWORD}),
    "log-out": ("/api/v1/auth/logout", {}),
    "create-api-key": ("/api/v1/api-keys", {"name": "stolen", "scopes": "profile:write"}),
}


class Attacker(NamedTuple):
    host: str
    cookie_sent: bool


# localhost is another site than 127.0.0.1: the browser withholds the SameSite=Lax cookie.
# 127.0.0.1 on another port is the same site but another origin: the cookie IS sent, so only
# the server's own checks (Origin, Sec-Fetch-Site, the CSRF token) stand in the way.
ATTACKERS = {
    "cross-site": Attacker("localhost", cookie_sent=False),
    "same-site-other-port": Attacker("127.0.0.1", cookie_sent=True),
}


def assert_account_untouched(page: Page, base_url: str) -> None:
    me = page.request.get(f"{base_url}/api/v1/me")
    assert me.status == 200, f"the browser was logged out: {me.text()}"
    assert me.json()["name"] == NAME and me.json()["email"] == EMAIL
    keys = page.request.get(f"{base_url}/api/v1/api-keys")
    assert keys.status == 200 and keys.json()["items"] == [], keys.text()
    old_password = httpx.post(f"{base_url}/api/v1/auth/login",
                              json={"email": EMAIL, "password": PASSWORD})
    assert old_password.status_code == 200, "the password was changed"


@pytest.mark.parametrize("attack", FORM_ATTACKS)
@pytest.mark.parametrize("attacker", ATTACKERS.values(), ids=ATTACKERS.keys())
def test_form_posted_from_another_origin_changes_nothing(
    signed_in_page: Page, base_url: str, attacker_port: int, attacker: Attacker, attack: str
) -> None:
    page = signed_in_page
    path, fields = FORM_ATTACKS[attack]
    _AttackerPages.pages[f"/{attack}"] = _form(f"{base_url}{path}", fields)
    page.goto(f"http://{attacker.host}:{attacker_port}/{attack}")

    with page.expect_response(f"{base_url}{path}") as answer:
        page.get_by_role("button", name="Claim your prize").click()
    refused = answer.value
    request_headers = refused.request.all_headers()
    assert request_headers["content-type"] == "application/x-www-form-urlencoded"
    assert request_headers["origin"] == f"http://{attacker.host}:{attacker_port}"
    cookie_sent = "rapport_session=" in request_headers.get("cookie", "")
    assert cookie_sent == attacker.cookie_sent
    if cookie_sent:  # the server itself refused the forged request
        assert refused.status == 403, refused.text()
        assert refused.json()["error"] == "csrf_failed"
    else:  # without the cookie the request is anonymous
        assert refused.status == 401, refused.text()
    assert_account_untouched(page, base_url)


@pytest.mark.parametrize("attacker", ATTACKERS.values(), ids=ATTACKERS.keys())
def test_script_on_another_origin_cannot_patch_the_profile(
    signed_in_page: Page, base_url: str, attacker_port: int, attacker: Attacker
) -> None:
    page = signed_in_page
    _AttackerPages.pages["/fetch"] = "<!doctype html><title>Nothing to see</title>"
    page.goto(f"http://{attacker.host}:{attacker_port}/fetch")

    outcome = page.evaluate(
        """async (url) => {
            try {
                const r = await fetch(url, {method: "PATCH", credentials: "include",
                    headers: {"Content-Type": "application/json"},
                    body: JSON.stringify({name: "Hacked"})});
                return r.status;
            } catch (error) {
                return "blocked";
            }
        }""",
        f"{base_url}/api/v1/me",
    )
    assert outcome == "blocked"
    assert_account_untouched(page, base_url)


def test_registering_signs_in_with_the_time_zone_of_the_device(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context(timezone_id="America/Chicago")
    errors = console_errors(context, base_url)
    page = context.new_page()
    page.goto(f"{base_url}/register")
    expect(page.get_by_label("Time zone")).to_have_value("America/Chicago")
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    # The button says it is working while the account is made (the answer is held back here).
    held: list[Route] = []
    page.route("**/api/v1/auth/register", lambda route: held.append(route))
    page.get_by_role("button", name="Create account").click()
    button = page.locator("#register-form button[type=submit]")
    expect(button).to_be_disabled()
    expect(button.locator(".busy-label")).to_have_text("Creating your account…")
    expect(button.locator(".busy-label")).to_be_visible()
    while not held:  # let the route handler see the request
        page.wait_for_timeout(20)
    held[0].continue_()

    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya")
    expect(page.get_by_role("heading", name="Getting started")).to_be_visible()
    me = page.request.get(f"{base_url}/api/v1/me").json()
    assert me["timezone"] == "America/Chicago"
    context.close()
    assert errors == []
